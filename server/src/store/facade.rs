//! [`Store`]: runs one operation in one transaction on the configured backend and publishes
//! the committed stream events, in order, to the [`Hub`].

use std::sync::Arc;

use chrono::{DateTime, Utc};
use qhall_shared::{TicketNumber, WindowNo};

use qhall_shared::ServiceCode;

use super::people;
use super::postgres::PgStore;
use super::read::Snapshot;
use super::read_cache::{Board, Kind, Lines, ReadCache, Stamp};
use super::sqlite::SqliteStore;
use super::{
    BoardState, BranchConfig, Principal, Result, Role, StoreError, TicketRow, Tx, UserRow,
    WindowRow,
};
use crate::events::Hub;
use crate::hall::estimate::Forecasts;
use crate::hall::{
    self, ComplaintInput, ComplaintRecorded, Issued, TransferTo, WindowAction, WindowChange,
};
use crate::queue::policy::Policy;

/// The database the server runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// A ticket acted on at a window, with the branch's configuration as that write saw it: the
/// answer to staff is made from both, without reading the configuration again (on PostgreSQL a
/// read transaction of three statements after every call and complete).
#[derive(Debug, Clone)]
pub struct AtWindow {
    pub ticket: TicketRow,
    pub config: Arc<BranchConfig>,
}

impl AtWindow {
    /// The configuration inside the write: under the branch's lock it is current and costs no
    /// statement.
    async fn read<T: Tx>(tx: &mut T, ticket: TicketRow) -> Result<AtWindow> {
        let config = tx.config(ticket.branch_id).await?;
        Ok(AtWindow { ticket, config })
    }
}

/// The server's one door to its state.
#[derive(Debug, Clone)]
pub struct Store {
    pub backend: Backend,
    pub hub: Arc<Hub>,
    pub policy: Policy,
    /// Every branch's latest forecast table (computed by [`crate::forecast`]).
    pub forecasts: Arc<Forecasts>,
    /// The last readiness probe ([`super::health`]).
    pub readiness: Arc<super::health::Readiness>,
    /// The board's state and the services' waits, kept while current.
    pub reads: Arc<ReadCache>,
    /// Whether messages to customers leave this server (a transport is configured): a remote
    /// ticket's number is then also kept for them.
    pub messages_on: bool,
}

impl Store {
    /// Opens the database named by `url`: `sqlite://…` or `postgres://…`.
    pub async fn open(
        url: &str,
        power_safe: bool,
        hub: Arc<Hub>,
        policy: Policy,
    ) -> anyhow::Result<Self> {
        let pool = super::postgres::DEFAULT_CONNECTIONS;
        Store::open_with(url, power_safe, pool, hub, policy).await
    }

    /// [`Store::open`] with PostgreSQL's pool size.
    pub async fn open_with(
        url: &str,
        power_safe: bool,
        pg_connections: u32,
        hub: Arc<Hub>,
        policy: Policy,
    ) -> anyhow::Result<Self> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite(
                SqliteStore::open(url, power_safe, hub.clone())
                    .await
                    .map_err(|e| super::backup::explain_open_error(url, e))?,
            )
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres(PgStore::open(url, power_safe, pg_connections, hub.clone()).await?)
        } else {
            anyhow::bail!(
                "unsupported database URL (expected sqlite://PATH or postgres://…): {}",
                redact(url)
            )
        };
        Ok(Store {
            backend,
            hub,
            policy,
            forecasts: Arc::default(),
            readiness: Arc::default(),
            reads: Arc::default(),
            messages_on: false,
        })
    }

    /// The SQLite backend, if this is one.
    pub fn sqlite(&self) -> Option<&SqliteStore> {
        match &self.backend {
            Backend::Sqlite(s) => Some(s),
            Backend::Postgres(_) => None,
        }
    }

    /// The PostgreSQL backend, if this is one.
    pub fn postgres(&self) -> Option<&PgStore> {
        match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(p) => Some(p),
        }
    }

    /// Which backend: `"sqlite"` or `"postgres"`.
    pub fn kind(&self) -> &'static str {
        match &self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Waits for queued writes and releases the database.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(db) => db.close().await,
            Backend::Postgres(db) => db.close().await,
        }
    }

    pub async fn issue(
        &self,
        who: &Principal,
        service: ServiceCode,
        priority: bool,
        key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Issued> {
        let forecast = self.forecasts.get(who.branch_id);
        if let Backend::Postgres(db) = &self.backend
            && let Some((plan, cfg)) = hall::issue::plan_walk_in(
                db.cache(),
                who,
                service,
                priority,
                key,
                forecast.as_deref(),
                now,
            )
        {
            // In one statement with the branch's other waiting issues (store/postgres/batch.rs);
            // one it did not issue goes step by step, one it may have issued fails.
            match db.issue_walk_in(&plan).await {
                Ok(Some(ticket)) => {
                    db.count_issued_at_once();
                    return Ok(hall::issue::issued(&plan, ticket, cfg));
                }
                Ok(None) => {}
                Err(e) => return Err(StoreError::Other(e.into())),
            }
        }
        self.issue_by_steps(who, service, priority, key, forecast, now)
            .await
    }

    /// Walk-ins, of one branch or several, issued in one statement, in order, as an issue lane
    /// groups those that arrive together (PostgreSQL; store/postgres/batch.rs), each with its
    /// own time; one the statement did not issue (or whose branch it skipped) goes step by
    /// step after it, as [`Store::issue`] does. Where an issue cannot be planned (no cached
    /// configuration, a refusal), or on SQLite, they are issued one after the other. For tests
    /// of a statement of a known make-up.
    pub async fn issue_together(&self, walk_ins: &[WalkIn<'_>]) -> Vec<Result<Issued>> {
        let planned: Option<Vec<_>> = self.postgres().and_then(|db| {
            walk_ins
                .iter()
                .map(|&(who, service, priority, key, now)| {
                    let forecast = self.forecasts.get(who.branch_id);
                    hall::issue::plan_walk_in(
                        db.cache(),
                        who,
                        service,
                        priority,
                        key,
                        forecast.as_deref(),
                        now,
                    )
                })
                .collect()
        });
        let mut out = Vec::new();
        let (Some(planned), Some(db)) = (planned, self.postgres()) else {
            for &(who, service, priority, key, now) in walk_ins {
                out.push(self.issue(who, service, priority, key, now).await);
            }
            return out;
        };
        let (plans, configs): (Vec<_>, Vec<_>) = planned.into_iter().unzip();
        let rows = db
            .issue_walk_ins_together(&plans)
            .await
            .unwrap_or_else(|_| vec![None; plans.len()]);
        for (((plan, cfg), row), &(who, ..)) in plans.iter().zip(configs).zip(rows).zip(walk_ins) {
            out.push(match row {
                Some(ticket) => {
                    db.count_issued_at_once();
                    Ok(hall::issue::issued(plan, ticket, cfg))
                }
                None => {
                    let (service, priority, key, now) =
                        (plan.service, plan.priority, plan.key, plan.now);
                    let forecast = self.forecasts.get(who.branch_id);
                    self.issue_by_steps(who, service, priority, key, forecast, now)
                        .await
                }
            });
        }
        out
    }

    /// [`Store::issue`] always step by step: on PostgreSQL the reference its one statement is
    /// compared with (`tests/tests/issue_at_once.rs`).
    pub async fn issue_step_by_step(
        &self,
        who: &Principal,
        service: ServiceCode,
        priority: bool,
        key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Issued> {
        let forecast = self.forecasts.get(who.branch_id);
        self.issue_by_steps(who, service, priority, key, forecast, now)
            .await
    }

    async fn issue_by_steps(
        &self,
        who: &Principal,
        service: ServiceCode,
        priority: bool,
        key: Option<&str>,
        forecast: Option<Arc<crate::forecast::ForecastTable>>,
        now: DateTime<Utc>,
    ) -> Result<Issued> {
        let (who, key) = (who.clone(), key.map(str::to_owned));
        write!(self, |tx, out| hall::issue::issue(
            tx,
            out,
            &who,
            service,
            priority,
            key.as_deref(),
            forecast.as_deref(),
            now
        ))
    }

    /// See [`hall::desk::issue_at_desk`].
    pub async fn issue_at_desk(
        &self,
        who: &Principal,
        service: ServiceCode,
        priority: bool,
        key: Option<&str>,
        kiosk: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(Issued, Option<qhall_shared::api::PrintJobStatus>)> {
        if kiosk.is_none() {
            // Nothing to print elsewhere: a plain issue (in one statement on PostgreSQL).
            return Ok((self.issue(who, service, priority, key, now).await?, None));
        }
        let (who, key) = (who.clone(), key.map(str::to_owned));
        let forecast = self.forecasts.get(who.branch_id);
        write!(self, |tx, out| hall::desk::issue_at_desk(
            tx,
            out,
            &who,
            service,
            priority,
            key.as_deref(),
            forecast.as_deref(),
            kiosk,
            now
        ))
    }

    /// See [`hall::desk::kiosks`].
    pub async fn desk_kiosks(&self, branch: i64) -> Result<Vec<hall::desk::DeskKiosk>> {
        read!(self, once | tx | hall::desk::kiosks(tx, branch))
    }

    /// See [`hall::desk::waiting`].
    pub async fn print_jobs_waiting(
        &self,
        device: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<(i64, TicketRow)>> {
        read!(self, |tx| hall::desk::waiting(tx, device, now))
    }

    /// See [`hall::desk::finish`].
    pub async fn finish_print_job(
        &self,
        device: i64,
        id: i64,
        printed: bool,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let detail = detail.map(str::to_owned);
        write!(self, |tx, _out| hall::desk::finish(
            tx,
            device,
            id,
            printed,
            detail.as_deref(),
            now
        ))
    }

    /// See [`hall::desk::status`].
    pub async fn print_job(
        &self,
        branch: i64,
        id: i64,
    ) -> Result<qhall_shared::api::PrintJobStatus> {
        read!(self, once | tx | hall::desk::status(tx, branch, id))
    }

    pub async fn call_next(
        &self,
        who: &Principal,
        n: WindowNo,
        now: DateTime<Utc>,
    ) -> Result<Option<AtWindow>> {
        let (who, policy) = (who.clone(), self.policy);
        write!(self, |tx, out| async {
            match hall::call::call_next(tx, out, &who, n, policy, now).await? {
                Some(t) => AtWindow::read(tx, t).await.map(Some),
                None => Ok(None),
            }
        })
    }

    pub async fn call_number(
        &self,
        who: &Principal,
        n: WindowNo,
        number: &TicketNumber,
        now: DateTime<Utc>,
    ) -> Result<AtWindow> {
        let (who, number) = (who.clone(), number.clone());
        write!(self, |tx, out| async {
            let t = hall::call::call_number(tx, out, &who, n, &number, now).await?;
            AtWindow::read(tx, t).await
        })
    }

    pub async fn act(
        &self,
        who: &Principal,
        n: WindowNo,
        action: WindowAction,
        now: DateTime<Utc>,
    ) -> Result<AtWindow> {
        let who = who.clone();
        write!(self, |tx, out| async {
            let t = hall::ticket::act(tx, out, &who, n, action.clone(), now).await?;
            AtWindow::read(tx, t).await
        })
    }

    pub async fn transfer(
        &self,
        who: &Principal,
        n: WindowNo,
        to: TransferTo,
        now: DateTime<Utc>,
    ) -> Result<AtWindow> {
        let who = who.clone();
        write!(self, |tx, out| async {
            let t = hall::ticket::transfer(tx, out, &who, n, to, now).await?;
            AtWindow::read(tx, t).await
        })
    }

    pub async fn reinstate(
        &self,
        who: &Principal,
        n: WindowNo,
        number: &TicketNumber,
        now: DateTime<Utc>,
    ) -> Result<AtWindow> {
        let (who, number) = (who.clone(), number.clone());
        write!(self, |tx, out| async {
            let t = hall::ticket::reinstate(tx, out, &who, n, &number, now).await?;
            AtWindow::read(tx, t).await
        })
    }

    /// The customer holding `ticket_id` gives up their place.
    pub async fn cancel(&self, ticket_id: &str, now: DateTime<Utc>) -> Result<TicketRow> {
        let id = ticket_id.to_owned();
        write!(self, |tx, out| hall::ticket::cancel_by_customer(
            tx, out, &id, now
        ))
    }

    /// Staff at window `n` cancel the waiting ticket `number`, saying why.
    pub async fn cancel_at_window(
        &self,
        who: &Principal,
        n: WindowNo,
        number: &TicketNumber,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<AtWindow> {
        let (who, number, reason) = (who.clone(), number.clone(), reason.to_owned());
        write!(self, |tx, out| async {
            let t = hall::ticket::cancel_at_window(tx, out, &who, n, &number, &reason, now).await?;
            AtWindow::read(tx, t).await
        })
    }

    pub async fn change_window(
        &self,
        who: &Principal,
        n: WindowNo,
        change: WindowChange,
        now: DateTime<Utc>,
    ) -> Result<WindowRow> {
        let who = who.clone();
        write!(self, |tx, out| hall::window::change_window(
            tx,
            out,
            &who,
            n,
            change.clone(),
            now
        ))
    }

    /// Emits a `services` event if the hall opened or closed since `was_open`; returns whether
    /// it is open now.
    pub async fn announce_opening(
        &self,
        branch: i64,
        was_open: Option<bool>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        write!(self, |tx, out| hall::window::announce_opening(
            tx, out, branch, was_open, now
        ))
    }

    /// Sends kiosks and boards the list of notices if it is no longer the one with ids `was`
    /// (a dated notice or exception came in or went out); returns the ids now.
    pub async fn announce_notices(
        &self,
        branch: i64,
        was: Option<Vec<i64>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        let ids: Vec<i64> = read!(self, |tx| async {
            let notices = hall::notices::current(tx, branch, now).await?;
            Ok(notices.iter().map(|n| n.id).collect())
        })?;
        if was.as_ref().is_none_or(|w| *w == ids) {
            return Ok(ids);
        }
        write!(self, |tx, out| hall::notices::announce_notices(
            tx,
            out,
            branch,
            was.as_deref(),
            now
        ))
    }

    /// Closes the branch's day if its closing has passed and it is not closed yet, and signs
    /// out the windows left signed in a grace later (see [`hall::closing`]).
    pub async fn close_day(
        &self,
        branch: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<hall::closing::Closed>> {
        write!(self, |tx, out| hall::closing::close_day(
            tx, out, branch, now
        ))
    }

    /// A ticket by its public id with its position now: (ticket, ahead, estimated seconds).
    pub async fn ticket_view(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(TicketRow, u32, u64)>> {
        let (id, forecasts) = (id.to_owned(), self.forecasts.clone());
        read!(self, |tx| async {
            let Some(t) = tx.ticket_by_id(&id).await? else {
                return Ok(None);
            };
            let forecast = forecasts.get(t.branch_id);
            let (ahead, secs) =
                hall::estimate::ticket_position(tx, &t, forecast.as_deref(), now).await?;
            Ok(Some((t, ahead, secs)))
        })
    }

    /// The branch's configuration as of now.
    pub async fn config(&self, branch: i64) -> Result<Arc<BranchConfig>> {
        read!(self, |tx| tx.config(branch))
    }

    /// The branch's stream seq and configuration version, as committed now (one round trip):
    /// what the [`ReadCache`]'s reads are current for.
    async fn stamp(&self, branch: i64) -> Result<Stamp> {
        read!(self, once | tx | super::read::stamp(tx, branch))
    }

    /// Per service: waiting, and the estimate a ticket issued now would get (kept a moment
    /// while the branch does not change: see [`ReadCache`]).
    pub async fn service_lines(
        &self,
        branch: i64,
        now: DateTime<Utc>,
    ) -> Result<(Arc<BranchConfig>, Arc<Vec<(u32, u64)>>)> {
        let forecast = self.forecasts.get(branch);
        let kept = |stamp| {
            let l = self.reads.lines(branch, stamp, now, forecast.as_ref())?;
            Some((l.config, l.lines))
        };
        let read = async {
            let f = forecast.clone();
            let (seq, cfg, lines) = read!(self, |tx| async {
                let seq = tx.seq(branch).await?;
                let cfg = tx.config(branch).await?;
                let mut lines = Vec::with_capacity(cfg.services.len());
                for s in &cfg.services {
                    let (p, n) = tx.waiting_by_class(branch, s.code).await?;
                    let secs =
                        hall::estimate::estimate(tx, &cfg, s.code, false, p + n, f.as_deref(), now)
                            .await?;
                    lines.push((p + n, secs));
                }
                Ok((seq, cfg, lines))
            })?;
            let lines = Arc::new(lines);
            let stamp = Stamp {
                seq,
                config_version: cfg.version,
            };
            let l = Lines {
                config: cfg.clone(),
                lines: lines.clone(),
                forecast: forecast.clone(),
            };
            self.reads.keep_lines(branch, stamp, now, l);
            Ok((cfg, lines))
        };
        self.kept_or_read(branch, Kind::Lines, kept, read).await
    }

    /// What the board shows about the branch now, and the configuration it was read with
    /// (kept a moment while the branch does not change: see [`ReadCache`]).
    pub async fn board(&self, branch: i64, now: DateTime<Utc>) -> Result<Board> {
        let kept = |stamp| self.reads.board(branch, stamp, now);
        let read = async {
            let (cfg, b) = read!(self, |tx| async {
                let cfg = tx.config(branch).await?;
                let b = super::read::board_state(tx, branch, now).await?;
                Ok((cfg, b))
            })?;
            let stamp = Stamp {
                seq: b.seq,
                config_version: cfg.version,
            };
            let board = (cfg, Arc::new(b));
            self.reads.keep_board(branch, stamp, now, board.clone());
            Ok(board)
        };
        self.kept_or_read(branch, Kind::Board, kept, read).await
    }

    /// `kept(stamp)` if the kept read is current, else `read` (which keeps what it read under
    /// the stamp it read it at). One request per branch and kind reads at a time: the others
    /// wait, then look again with the stamp as it is then.
    async fn kept_or_read<T>(
        &self,
        branch: i64,
        kind: Kind,
        kept: impl Fn(Stamp) -> Option<T>,
        read: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        if let Some(v) = kept(self.stamp(branch).await?) {
            return Ok(self.reads.count(true, v));
        }
        let _filling = self.reads.filling(branch, kind).await;
        if let Some(v) = kept(self.stamp(branch).await?) {
            return Ok(self.reads.count(true, v));
        }
        Ok(self.reads.count(false, read.await?))
    }

    /// Per service, the tickets waiting now (read afresh, for `/metrics`).
    pub async fn waiting_counts(&self, branch: i64) -> Result<Vec<(ServiceCode, u32)>> {
        read!(self, once | tx | tx.waiting_counts(branch))
    }

    pub async fn board_state(&self, branch: i64, now: DateTime<Utc>) -> Result<BoardState> {
        Ok(BoardState::clone(&self.board(branch, now).await?.1))
    }

    pub async fn events_since(&self, branch: i64, seq: u64) -> Result<Option<Vec<(u64, String)>>> {
        read!(self, |tx| super::read::events_since(tx, branch, seq, 5000))
    }

    /// Deletes stream events older than `before`, keeping at least the newest `keep`.
    pub async fn prune_stream(&self, before: DateTime<Utc>, keep: i64) -> Result<u64> {
        write!(self, |tx, _out| super::read::prune_stream(tx, before, keep))
    }

    /// The report's oversight tables over the tickets issued in `[from, to)` (see
    /// [`crate::queue::oversight`]).
    pub async fn oversight(
        &self,
        cfg: Arc<BranchConfig>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<crate::queue::oversight::Oversight> {
        let (events, identity) = read!(self, |tx| super::read::oversight_rows(tx, &cfg, from, to))?;
        Ok(crate::queue::oversight::oversight(&events, &identity))
    }

    /// The oversight tables of the tickets issued on the branch-local days `from ..= to`
    /// (SQLite: closed days from the report cache).
    pub async fn oversight_days(
        &self,
        cfg: Arc<BranchConfig>,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        today: chrono::NaiveDate,
    ) -> Result<crate::queue::oversight::Oversight> {
        use crate::queue::schedule::local_instant;
        match &self.backend {
            Backend::Sqlite(db) => {
                let (events, identity) = db.oversight_days(&cfg, from, to, today).await?;
                Ok(crate::queue::oversight::oversight(&events, &identity))
            }
            Backend::Postgres(_) => {
                let tz = cfg.schedule.tz;
                self.oversight(
                    cfg.clone(),
                    local_instant(tz, from, 0),
                    local_instant(tz, to, 1440),
                )
                .await
            }
        }
    }

    /// The ratings of the branch's tickets issued in `[from, to)` (how many, their mean) and
    /// its complaints not resolved yet: the overview's satisfaction columns.
    pub async fn satisfaction(
        &self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(u64, Option<f64>, u64)> {
        read!(self, |tx| async {
            let (n, total) = super::read::ratings_between(tx, branch, from, to).await?;
            let open = super::read::open_complaints(tx, branch).await?;
            Ok((n, (n > 0).then(|| total as f64 / n as f64), open))
        })
    }

    /// Tickets issued in `[from, to)`, for statistics.
    pub async fn tickets_issued_between(
        &self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<TicketRow>> {
        read!(self, |tx| super::read::tickets_issued_between(
            tx, branch, from, to
        ))
    }

    /// Waiting tickets of `services` (and those sent to `window`), priority first, oldest first.
    pub async fn waiting_list(
        &self,
        branch: i64,
        window: WindowNo,
        services: &[ServiceCode],
        limit: u32,
    ) -> Result<Vec<TicketRow>> {
        let services = services.to_vec();
        read!(self, |tx| super::read::waiting_list(
            tx, branch, window, &services, limit
        ))
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        let username = username.to_owned();
        read!(self, once | tx | people::user_by_name(tx, &username))
    }

    pub async fn username(&self, user_id: i64) -> Result<Option<String>> {
        read!(self, once | tx | people::username(tx, user_id))
    }

    /// The caller a token hash belongs to: a live session of an active user, or an active device.
    /// Points an admin's session at `branch` (see [`people::set_session_branch`]).
    pub async fn set_session_branch(&self, token_hash: &str, branch: i64) -> Result<()> {
        let hash = token_hash.to_owned();
        write!(self, |tx, _out| people::set_session_branch(
            tx, &hash, branch
        ))
    }

    pub async fn principal(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Principal>> {
        let hash = token_hash.to_owned();
        read!(self, once | tx | people::principal(tx, &hash, now))
    }

    pub async fn insert_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        let hash = token_hash.to_owned();
        write!(self, |tx, _out| people::insert_session(
            tx, &hash, user_id, now, expires
        ))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        let hash = token_hash.to_owned();
        write!(self, |tx, _out| people::delete_session(tx, &hash))
    }

    pub async fn add_user(
        &self,
        branch: Option<i64>,
        username: &str,
        password_hash: &str,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let (username, hash) = (username.to_owned(), password_hash.to_owned());
        write!(self, |tx, _out| people::add_user(
            tx, branch, &username, &hash, role, now
        ))
    }

    /// Adds a device from the command line; `window` is a pad's (checked by the caller).
    pub async fn add_device(
        &self,
        branch: i64,
        name: &str,
        (role, window): (Role, Option<WindowNo>),
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let (name, hash) = (name.to_owned(), token_hash.to_owned());
        write!(self, |tx, _out| people::add_device(
            tx,
            branch,
            &name,
            (role, window),
            &hash,
            now
        ))
    }

    pub async fn set_device_state(
        &self,
        device: i64,
        printer: &str,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (printer, detail) = (printer.to_owned(), detail.map(str::to_owned));
        write!(self, |tx, _out| people::set_device_state(
            tx,
            device,
            &printer,
            detail.as_deref(),
            now
        ))
    }

    pub async fn count_users(&self) -> Result<i64> {
        read!(self, once | tx | people::count_users(tx))
    }

    pub async fn branch_ids(&self) -> Result<Vec<i64>> {
        read!(self, once | tx | super::read::branch_ids(tx))
    }

    /// Runs a SQL script in one transaction if the database has no branch yet (seeding).
    pub async fn seed_if_empty(&self, script: &str) -> Result<bool> {
        match &self.backend {
            Backend::Sqlite(db) => db.seed_if_empty(script).await,
            Backend::Postgres(db) => db.seed_if_empty(script).await,
        }
    }

    /// Runs SQL statements in one write transaction (administration, tests and benchmarks).
    pub async fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(db) => db.execute_batch(sql).await,
            Backend::Postgres(db) => db.execute_batch(sql).await,
        }
    }

    /// Turns the emergency broadcast on or off (see [`hall::emergency::set_emergency`]).
    pub async fn set_emergency(
        &self,
        who: &Principal,
        message: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let who = who.clone();
        write!(self, |tx, out| hall::emergency::set_emergency(
            tx,
            out,
            &who,
            message.as_deref(),
            now
        ))
    }

    /// Records a rating from window `n`'s pad (see [`hall::rating::rate`]).
    pub async fn rate(
        &self,
        branch: i64,
        n: WindowNo,
        number: &TicketNumber,
        score: u8,
        now: DateTime<Utc>,
    ) -> Result<TicketRow> {
        let number = number.clone();
        write!(self, |tx, _out| hall::rating::rate(
            tx, branch, n, &number, score, now
        ))
    }

    /// Records a complaint taken at a window (see [`hall::complaints::record_complaint`]).
    pub async fn record_complaint(
        &self,
        who: &Principal,
        input: ComplaintInput,
        now: DateTime<Utc>,
    ) -> Result<ComplaintRecorded> {
        let who = who.clone();
        write!(self, |tx, _out| hall::complaints::record_complaint(
            tx, &who, &input, now
        ))
    }

    /// The ticket window `n`'s rating pad offers now: the window's last completed ticket, if it
    /// is still open for rating and not rated yet.
    pub async fn rating_prompt(
        &self,
        branch: i64,
        n: WindowNo,
        now: DateTime<Utc>,
    ) -> Result<Option<TicketRow>> {
        let t = read!(self, |tx| tx.last_completed(branch, n))?;
        let Some(t) = t.filter(|t| hall::rating::rating_open(t, now)) else {
            return Ok(None);
        };
        let key = t.key;
        let rated = read!(self, once | tx | super::read::is_rated(tx, key))?;
        Ok((!rated).then_some(t))
    }

    /// When the branch's latest ticket was issued, if it ever issued one.
    pub async fn last_issued_at(&self, branch: i64) -> Result<Option<DateTime<Utc>>> {
        read!(self, once | tx | super::read::last_issued_at(tx, branch))
    }

    /// Tickets issued in `[from, to)`, as the report tables need them.
    pub async fn report_tickets(
        &self,
        cfg: &BranchConfig,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<crate::queue::report::ReportTicket>> {
        match &self.backend {
            Backend::Sqlite(db) => db.report_tickets(cfg, from, to).await,
            Backend::Postgres(db) => db.report_tickets(cfg, from, to).await,
        }
    }

    /// Tickets issued on the branch-local days `from ..= to`, as the report tables need them.
    /// On SQLite the days before `today` come from the per-day report cache.
    pub async fn report_days(
        &self,
        cfg: &BranchConfig,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        today: chrono::NaiveDate,
    ) -> Result<Vec<crate::queue::report::ReportTicket>> {
        use crate::queue::schedule::local_instant;
        match &self.backend {
            Backend::Sqlite(db) => db.report_days(cfg, from, to, today).await,
            Backend::Postgres(db) => {
                let tz = cfg.schedule.tz;
                db.report_tickets(cfg, local_instant(tz, from, 0), local_instant(tz, to, 1440))
                    .await
            }
        }
    }

    /// Fills the SQLite report cache with the closed days of the last `days` it lacks, one day
    /// per write transaction with a pause between, so live work is never held up for long.
    /// Returns how many days it cached (none on PostgreSQL, which has no such cache).
    pub async fn warm_report_cache(&self, now: DateTime<Utc>, days: u32) -> Result<usize> {
        let Backend::Sqlite(db) = &self.backend else {
            return Ok(0);
        };
        let mut done = 0;
        for branch in self.branch_ids().await? {
            let cfg = self.config(branch).await?;
            let today = crate::queue::schedule::local_date(cfg.schedule.tz, now);
            for day in db.uncached_days(&cfg, today, days).await? {
                db.cache_day(&cfg, day).await?;
                done += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
        Ok(done)
    }

    /// The audit log of the branch in `[from, to)`, newest first (at most 5,000 entries).
    pub async fn audit_log(
        &self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<crate::store::export::AuditRow>> {
        read!(
            self,
            once | tx | super::read::audit_log(tx, branch, from, to)
        )
    }

    /// Display names of the branch's people, for the staff table.
    pub async fn staff_names(&self, branch: i64) -> Result<std::collections::HashMap<i64, String>> {
        read!(self, once | tx | people::staff_names(tx, branch))
    }

    /// Streams the ticket events of tickets issued in `[from, to)` as CSV chunks into `chunks`.
    pub fn ticket_events_csv(
        &self,
        branch: i64,
        tz: chrono_tz::Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        chunks: tokio::sync::mpsc::Sender<String>,
    ) {
        match &self.backend {
            Backend::Sqlite(db) => db.ticket_events_csv(branch, tz, from, to, chunks),
            Backend::Postgres(db) => db.ticket_events_csv(branch, tz, from, to, chunks),
        }
    }

    /// Every window of the branch as stored.
    pub async fn windows(&self, branch: i64) -> Result<Vec<WindowRow>> {
        read!(self, |tx| tx.windows(branch))
    }

    /// How many tickets of the branch are waiting (from the per-service counts).
    pub async fn waiting_total(&self, branch: i64) -> Result<usize> {
        read!(
            self,
            once | tx
                | async {
                    let counts = tx.waiting_counts(branch).await?;
                    Ok(counts.iter().map(|(_, n)| *n as usize).sum())
                }
        )
    }

    /// A forecast table of `branch` another server computed at or after `since` (PostgreSQL,
    /// where the servers share them; SQLite has one server: `None`). One that cannot be read
    /// back (a newer server's format) is as good as none.
    pub async fn shared_forecast(
        &self,
        branch: i64,
        since: DateTime<Utc>,
    ) -> Result<Option<crate::forecast::ForecastTable>> {
        let Backend::Postgres(db) = &self.backend else {
            return Ok(None);
        };
        let body = db.shared_forecast(branch, since.timestamp_millis()).await?;
        Ok(body
            .and_then(|b| serde_json::from_str::<crate::forecast::ForecastTable>(&b).ok())
            .map(|mut t| {
                t.policy = self.policy.name();
                t
            }))
    }

    /// Offers `table` to the other servers (PostgreSQL; nothing on SQLite).
    pub async fn share_forecast(
        &self,
        branch: i64,
        table: &crate::forecast::ForecastTable,
    ) -> Result<()> {
        let Backend::Postgres(db) = &self.backend else {
            return Ok(());
        };
        let body = serde_json::to_string(table).map_err(anyhow::Error::from)?;
        db.share_forecast(branch, table.computed_at.timestamp_millis(), &body)
            .await
    }

    /// What the forecast reads: the configuration, every waiting ticket, the open windows with
    /// their services in progress, and per service the recent mean service time and the tickets
    /// issued in the last hour — from one snapshot.
    pub async fn forecast_snapshot(&self, branch: i64, now: DateTime<Utc>) -> Result<Snapshot> {
        read!(self, |tx| super::read::read_snapshot(tx, branch, now))
    }

    /// The window with its current ticket, for its console.
    pub async fn window(
        &self,
        branch: i64,
        n: WindowNo,
    ) -> Result<Option<(WindowRow, Option<TicketRow>)>> {
        read!(self, |tx| async {
            let Some(w) = tx.window(branch, n).await? else {
                return Ok(None);
            };
            let current = match w.current_ticket {
                Some(k) => tx.ticket(k).await?.filter(|t| t.status.is_live()),
                None => None,
            };
            Ok(Some((w, current)))
        })
    }
}

/// A database URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..s + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// A walk-in for [`Store::issue_together`]: who issues it, the service, priority, the
/// idempotency key and the time.
pub type WalkIn<'a> = (
    &'a Principal,
    ServiceCode,
    bool,
    Option<&'a str>,
    DateTime<Utc>,
);

//! [`Store`]: runs one operation in one transaction on the configured backend and publishes
//! the committed stream events, in order, to the [`Hub`].

use std::sync::Arc;

use chrono::{DateTime, Utc};
use qhall_shared::WindowNo;

use super::ops::{
    self, ComplaintInput, ComplaintRecorded, Issued, TransferTo, WindowAction, WindowChange,
};
use super::sqlite::{SqliteStore, run_now};
use super::{BoardState, BranchConfig, Principal, Result, TicketRow, Tx, WindowRow};
use crate::events::Hub;
use crate::forecast::{Forecasts, Snapshot};
use crate::queue::policy::Policy;

/// The database the server runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite(SqliteStore),
}

/// The server's one door to its state.
#[derive(Debug, Clone)]
pub struct Store {
    pub backend: Backend,
    pub hub: Arc<Hub>,
    pub policy: Policy,
    /// Every branch's latest forecast table ([`crate::forecast`]).
    pub forecasts: Arc<Forecasts>,
}

/// Runs `ops::$op(tx, out, args…)` as one write operation on the backend's writer.
macro_rules! write {
    ($self:ident, |$tx:ident, $out:ident| $op:expr) => {{
        match &$self.backend {
            Backend::Sqlite(db) => db.write(move |$tx, $out| run_now($op)).await,
        }
    }};
}

/// Runs `$op` (using `tx`) on a consistent read snapshot of the backend.
macro_rules! read {
    ($self:ident, |$tx:ident| $op:expr) => {{
        match &$self.backend {
            Backend::Sqlite(db) => db.read(move |$tx| $op).await,
        }
    }};
}

impl Store {
    /// Opens the database named by `url`: `sqlite://…` (PostgreSQL follows in its own backend).
    pub async fn open(
        url: &str,
        power_safe: bool,
        hub: Arc<Hub>,
        policy: Policy,
    ) -> anyhow::Result<Self> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite(SqliteStore::open(url, power_safe, hub.clone()).await?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            anyhow::bail!("PostgreSQL support is not built yet; use a sqlite:// URL")
        } else {
            anyhow::bail!(
                "unsupported database URL (expected sqlite://PATH): {}",
                redact(url)
            )
        };
        Ok(Store {
            backend,
            hub,
            policy,
            forecasts: Arc::default(),
        })
    }

    pub fn sqlite(&self) -> &SqliteStore {
        match &self.backend {
            Backend::Sqlite(s) => s,
        }
    }

    pub async fn close(&self) {
        self.sqlite().close().await;
    }

    pub async fn issue(
        &self,
        who: &Principal,
        service: &str,
        priority: bool,
        key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Issued> {
        let (who, service, key) = (who.clone(), service.to_owned(), key.map(str::to_owned));
        let forecast = self.forecasts.get(who.branch_id);
        write!(self, |tx, out| ops::issue(
            tx,
            out,
            &who,
            &service,
            priority,
            key.as_deref(),
            forecast.as_deref(),
            now
        ))
    }

    pub async fn call_next(
        &self,
        who: &Principal,
        n: WindowNo,
        now: DateTime<Utc>,
    ) -> Result<Option<TicketRow>> {
        let (who, policy) = (who.clone(), self.policy);
        write!(self, |tx, out| ops::call_next(
            tx, out, &who, n, policy, now
        ))
    }

    pub async fn call_number(
        &self,
        who: &Principal,
        n: WindowNo,
        number: &str,
        now: DateTime<Utc>,
    ) -> Result<TicketRow> {
        let (who, number) = (who.clone(), number.to_owned());
        write!(self, |tx, out| ops::call_number(
            tx, out, &who, n, &number, now
        ))
    }

    pub async fn act(
        &self,
        who: &Principal,
        n: WindowNo,
        action: WindowAction,
        now: DateTime<Utc>,
    ) -> Result<TicketRow> {
        let who = who.clone();
        write!(self, |tx, out| ops::act(tx, out, &who, n, action, now))
    }

    pub async fn transfer(
        &self,
        who: &Principal,
        n: WindowNo,
        to: TransferTo,
        now: DateTime<Utc>,
    ) -> Result<TicketRow> {
        let who = who.clone();
        write!(self, |tx, out| ops::transfer(tx, out, &who, n, to, now))
    }

    pub async fn reinstate(
        &self,
        who: &Principal,
        number: &str,
        now: DateTime<Utc>,
    ) -> Result<TicketRow> {
        let (who, number) = (who.clone(), number.to_owned());
        write!(self, |tx, out| ops::reinstate(tx, out, &who, &number, now))
    }

    pub async fn cancel(
        &self,
        ticket_id: &str,
        staff: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<TicketRow> {
        let id = ticket_id.to_owned();
        write!(self, |tx, out| ops::cancel(tx, out, &id, staff, now))
    }

    pub async fn change_window(
        &self,
        who: &Principal,
        n: WindowNo,
        change: WindowChange,
        now: DateTime<Utc>,
    ) -> Result<WindowRow> {
        let who = who.clone();
        write!(self, |tx, out| ops::change_window(
            tx, out, &who, n, change, now
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
        write!(self, |tx, out| ops::announce_opening(
            tx, out, branch, was_open, now
        ))
    }

    /// A ticket by its public id with its position now: (ticket, ahead, estimated seconds).
    pub async fn ticket_view(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(TicketRow, u32, u64)>> {
        let (id, forecasts) = (id.to_owned(), self.forecasts.clone());
        read!(self, |tx| run_now(async {
            let Some(t) = tx.ticket_by_id(&id).await? else {
                return Ok(None);
            };
            let forecast = forecasts.get(t.branch_id);
            let (ahead, secs) = ops::ticket_position(tx, &t, forecast.as_deref(), now).await?;
            Ok(Some((t, ahead, secs)))
        }))
    }

    /// The branch's configuration as of now.
    pub async fn config(&self, branch: i64) -> Result<Arc<BranchConfig>> {
        read!(self, |tx| run_now(tx.config(branch)))
    }

    /// Per service: waiting, and the estimate a ticket issued now would get.
    pub async fn service_lines(
        &self,
        branch: i64,
        now: DateTime<Utc>,
    ) -> Result<(Arc<BranchConfig>, Vec<(u32, u64)>)> {
        let forecast = self.forecasts.get(branch);
        read!(self, |tx| run_now(async {
            let cfg = tx.config(branch).await?;
            let mut lines = Vec::with_capacity(cfg.services.len());
            for s in &cfg.services {
                let (p, n) = tx.waiting_by_class(branch, s.code).await?;
                let secs =
                    ops::estimate(tx, &cfg, s.code, false, p + n, forecast.as_deref(), now).await?;
                lines.push((p + n, secs));
            }
            Ok((cfg, lines))
        }))
    }

    pub async fn board_state(&self, branch: i64, now: DateTime<Utc>) -> Result<BoardState> {
        self.sqlite().board_state(branch, now).await
    }

    pub async fn events_since(&self, branch: i64, seq: u64) -> Result<Option<Vec<(u64, String)>>> {
        self.sqlite().events_since(branch, seq, 5000).await
    }

    /// Turns the emergency broadcast on or off (see [`ops::set_emergency`]).
    pub async fn set_emergency(
        &self,
        who: &Principal,
        message: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let who = who.clone();
        write!(self, |tx, out| ops::set_emergency(
            tx,
            out,
            &who,
            message.as_deref(),
            now
        ))
    }

    /// Records a rating from window `n`'s pad (see [`ops::rate`]).
    pub async fn rate(
        &self,
        branch: i64,
        n: WindowNo,
        number: &str,
        score: u8,
        now: DateTime<Utc>,
    ) -> Result<TicketRow> {
        let number = number.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => {
                db.write(move |tx, _| run_now(ops::rate(tx, branch, n, &number, score, now)))
                    .await
            }
        }
    }

    /// Records a complaint taken at a window (see [`ops::record_complaint`]).
    pub async fn record_complaint(
        &self,
        who: &Principal,
        input: ComplaintInput,
        now: DateTime<Utc>,
    ) -> Result<ComplaintRecorded> {
        let who = who.clone();
        match &self.backend {
            Backend::Sqlite(db) => {
                db.write(move |tx, _| run_now(ops::record_complaint(tx, &who, &input, now)))
                    .await
            }
        }
    }

    /// The ticket window `n`'s rating pad offers now: the window's last completed ticket, if it
    /// is still open for rating and not rated yet.
    pub async fn rating_prompt(
        &self,
        branch: i64,
        n: WindowNo,
        now: DateTime<Utc>,
    ) -> Result<Option<TicketRow>> {
        let t = read!(self, |tx| run_now(tx.last_completed(branch, n)))?;
        let Some(t) = t.filter(|t| ops::rating_open(t, now)) else {
            return Ok(None);
        };
        Ok((!self.sqlite().is_rated(t.key).await?).then_some(t))
    }

    /// Every window of the branch as stored.
    pub async fn windows(&self, branch: i64) -> Result<Vec<WindowRow>> {
        read!(self, |tx| run_now(tx.windows(branch)))
    }

    /// What the forecast reads: the configuration, every waiting ticket, the open windows with
    /// their services in progress, and per service the recent mean service time and the tickets
    /// issued in the last hour — from one snapshot.
    pub async fn forecast_snapshot(&self, branch: i64, now: DateTime<Utc>) -> Result<Snapshot> {
        self.sqlite().forecast_snapshot(branch, now).await
    }

    /// The window with its current ticket, for its console.
    pub async fn window(
        &self,
        branch: i64,
        n: WindowNo,
    ) -> Result<Option<(WindowRow, Option<TicketRow>)>> {
        read!(self, |tx| run_now(async {
            let Some(w) = tx.window(branch, n).await? else {
                return Ok(None);
            };
            let current = match w.current_ticket {
                Some(k) => tx.ticket(k).await?.filter(|t| t.status.is_live()),
                None => None,
            };
            Ok(Some((w, current)))
        }))
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

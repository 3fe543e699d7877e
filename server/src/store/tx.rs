//! [`Tx`]: the reads and writes [`crate::hall`] needs inside one transaction, written once in
//! the SQL both databases accept, over [`Sql`]. A backend overrides only what it does
//! differently: PostgreSQL locks the branch's row, trusts the version it read under that lock,
//! and keeps the stream events, history lines and window rows for one statement at commit.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::api::{Localized, TicketStatus, WindowState};
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};

use super::sql::{Arg, Columns, Sql, returned_nothing};
use super::{
    AuditEntry, BranchConfig, NewComplaint, NewRating, NewTicket, Result, StoreError, TicketEvent,
    TicketRow, WindowDef, WindowRow,
};
use crate::queue::policy::WindowSkills;
use crate::queue::schedule::{Exception, Schedule};
use crate::queue::window::WindowStep;
use crate::queue::{IdentityCheck, PublicInfo, ServiceDef};

/// Per branch, its configuration as last loaded; reloaded when `config_version` moves.
pub type ConfigCache = std::sync::Mutex<std::collections::HashMap<i64, Arc<BranchConfig>>>;

/// The columns [`ticket_from`] reads, as a literal for `concat!`.
macro_rules! ticket_columns {
    () => {
        "key, id, branch_id, service_code, issued_service, number, number_seq, day, priority, status, \
         issued_at, queue_at, target_window, window_number, staff_user_id, first_called_at, last_called_at, \
         serving_at, done_at, estimate_ahead, estimate_secs, extended_reason, device_id, identity_checked_by, \
         identity_checked_at, appointment_at"
    };
}
pub(crate) use ticket_columns;

/// The head of a line a window may call from ([`Tx::heads`]).
pub struct Head {
    pub ticket: TicketRow,
    /// Tickets waiting for the head's service, itself included.
    pub waiting: u32,
}

/// The columns [`ticket_from`] reads.
pub const TICKET_COLUMNS: &str = ticket_columns!();

/// `SELECT` every ticket column `FROM tickets` followed by `$tail`.
macro_rules! ticket_query {
    ($tail:literal) => {
        concat!(
            "SELECT ",
            $crate::store::tx::ticket_columns!(),
            " FROM tickets ",
            $tail
        )
    };
}
pub(crate) use ticket_query;

pub fn ticket_from(r: &dyn Columns) -> Result<TicketRow> {
    let status = r.text("status")?;
    Ok(TicketRow {
        key: r.int("key")?,
        id: r.text("id")?,
        branch_id: r.int("branch_id")?,
        service: r.service("service_code")?,
        issued_service: r.service("issued_service")?,
        number: r.number("number")?,
        number_seq: r.count("number_seq")?,
        day: r.day("day")?,
        priority: r.flag("priority")?,
        status: status
            .parse::<TicketStatus>()
            .map_err(|_| super::sql::bad("status", &status))?,
        issued_at: r.time("issued_at")?,
        queue_at: r.time("queue_at")?,
        target_window: r.opt_window("target_window")?,
        window: r.opt_window("window_number")?,
        staff_user_id: r.opt_int("staff_user_id")?,
        first_called_at: r.opt_time("first_called_at")?,
        last_called_at: r.opt_time("last_called_at")?,
        serving_at: r.opt_time("serving_at")?,
        done_at: r.opt_time("done_at")?,
        estimate_ahead: r.count("estimate_ahead")?,
        estimate_secs: r.int("estimate_secs")?.max(0) as u64,
        extended_reason: r.opt_text("extended_reason")?,
        device_id: r.opt_int("device_id")?,
        identity_checked_by: r.opt_int("identity_checked_by")?,
        appointment_at: r.opt_time("appointment_at")?,
        identity_checked_at: r.opt_time("identity_checked_at")?,
    })
}

pub fn window_from(r: &dyn Columns) -> Result<WindowRow> {
    Ok(WindowRow {
        number: r.window("number")?,
        name: r.text("name")?,
        state: super::window_state_from(&r.text("state")?),
        pause_reason: r.opt_text("pause_reason")?,
        staff_user_id: r.opt_int("staff_user_id")?,
        current_ticket: r.opt_int("current_ticket")?,
        state_since: r.opt_time("state_since")?,
        appointment_run: r.count("appointment_run")?,
    })
}

/// The three names of `{prefix}_zh`, `{prefix}_zh_hant`, `{prefix}_en`.
pub fn localized(r: &dyn Columns, prefix: &str) -> Result<Localized> {
    Ok(Localized {
        zh: r.text(&format!("{prefix}_zh"))?,
        zh_hant: r.text(&format!("{prefix}_zh_hant"))?,
        en: r.text(&format!("{prefix}_en"))?,
    })
}

pub fn service_from(r: &dyn Columns) -> Result<ServiceDef> {
    Ok(ServiceDef {
        code: r.service("code")?,
        name: localized(r, "name")?,
        guide: localized(r, "guide")?,
        target_wait_secs: r.count("target_wait_secs")?,
        first_number: r.count("first_number")?,
        last_number: r.count("last_number")?,
        priority_allowed: r.flag("priority_allowed")?,
        default_service_secs: r.count("default_service_secs")?,
        enabled: r.flag("enabled")?,
        carry_over: r.flag("carry_over")?,
        remote_tickets: r.flag("remote_tickets")?,
        appointments: false,
        identity_check: {
            let v = r.text("identity_check")?;
            IdentityCheck::parse(&v).ok_or_else(|| super::sql::bad("identity_check", &v))?
        },
    })
}

pub(crate) fn state_str(s: WindowState) -> &'static str {
    match s {
        WindowState::Open => "open",
        WindowState::Paused => "paused",
        WindowState::Closed => "closed",
    }
}

pub(crate) fn unknown_branch(branch: i64) -> StoreError {
    StoreError::not_found("unknown_branch", format!("there is no branch {branch}"))
}

/// Loads a branch's configuration, bypassing the cache.
pub async fn load_config(tx: &mut impl Sql, branch: i64) -> Result<BranchConfig> {
    let mut cfg = tx
        .row("SELECT * FROM branches WHERE id = ?", args![branch], |b| {
            let tz = b.text("time_zone")?;
            Ok(BranchConfig {
                id: branch,
                version: b.int("config_version")?,
                name: localized(b, "name")?,
                schedule: Schedule {
                    tz: tz.parse().map_err(|_| super::sql::bad("time_zone", &tz))?,
                    weekly: b.json("weekly_hours")?,
                    exceptions: Vec::new(),
                    cutoff_mins: b.count("cutoff_mins")? as u16,
                },
                services: Vec::new(),
                windows: Vec::new(),
                emergency: b.opt_text("emergency")?,
                closing_grace_mins: b.count("closing_grace_mins")?.min(u32::from(u16::MAX)) as u16,
                public: PublicInfo {
                    phone: b.text("phone")?,
                    address: b.text("address")?,
                    notice_days: b.count("notice_days")?.min(u32::from(u16::MAX)) as u16,
                },
                messages: crate::queue::MessageConfig {
                    notify_ahead: b.count("notify_ahead")?,
                    follow_up_days: b.count("follow_up_days")?,
                    templates: Vec::new(),
                    remote_share_pct: b.count("remote_share_pct")?,
                    remote_hold_mins: b.count("remote_hold_mins")?,
                },
            })
        })
        .await?
        .ok_or_else(|| unknown_branch(branch))?;
    cfg.schedule.exceptions = tx
        .rows(
"SELECT day, periods, note, note_zh_hant, note_en FROM hour_exceptions WHERE branch_id = ? \
             ORDER BY day",
            args![branch],
            |r| {
                Ok(Exception {
                    date: r.day("day")?,
                    periods: r.json("periods")?,
                    note: r.text("note")?,
                    note_zh_hant: r.text("note_zh_hant")?,
                    note_en: r.text("note_en")?,
                })
            },
        )
        .await?;
    cfg.messages.templates = tx
        .rows(
            "SELECT kind, lang, text FROM message_templates WHERE branch_id = ? ORDER BY kind, lang",
            args![branch],
            |r| Ok((r.text("kind")?, r.text("lang")?, r.text("text")?)),
        )
        .await?;
    cfg.services = tx
        .rows(
            "SELECT * FROM services WHERE branch_id = ? ORDER BY sort, code",
            args![branch],
            service_from,
        )
        .await?;
    let booked: Vec<String> = tx
        .rows(
            "SELECT service_code FROM appointment_settings WHERE branch_id = ? AND enabled = ?",
            args![branch, true],
            |r| r.text("service_code"),
        )
        .await?;
    for s in &mut cfg.services {
        s.appointments = booked.iter().any(|c| c == s.code.as_str());
    }
    cfg.windows = tx
        .rows(
            "SELECT number, name FROM windows WHERE branch_id = ? ORDER BY number",
            args![branch],
            |r| {
                Ok(WindowDef {
                    number: r.window("number")?,
                    name: r.text("name")?,
                    skills: WindowSkills { serves: Vec::new() },
                })
            },
        )
        .await?;
    let skills = tx
        .rows(
            "SELECT window_number, service_code, weight FROM window_services WHERE branch_id = ? \
             ORDER BY window_number, rank",
            args![branch],
            |r| {
                Ok((
                    r.opt_window("window_number")?,
                    r.service("service_code")?,
                    r.real("weight")?,
                ))
            },
        )
        .await?;
    for (n, s, w) in skills {
        if let Some(def) = cfg.windows.iter_mut().find(|d| Some(d.number) == n) {
            def.skills.serves.push((s, w));
        }
    }
    Ok(cfg)
}

/// The branch's `config_version` as committed.
pub async fn stored_config_version(tx: &mut impl Sql, branch: i64) -> Result<i64> {
    tx.int(
        "SELECT config_version FROM branches WHERE id = ?",
        args![branch],
    )
    .await?
    .ok_or_else(|| unknown_branch(branch))
}

/// The branch's stream sequence as stored.
pub async fn stored_seq(tx: &mut impl Sql, branch: i64) -> Result<u64> {
    let seq = tx
        .int("SELECT event_seq FROM branches WHERE id = ?", args![branch])
        .await?
        .ok_or_else(|| unknown_branch(branch))?;
    Ok(seq.max(0) as u64)
}

/// Increments the branch's stored stream sequence; returns the new one.
pub async fn raise_stored_seq(tx: &mut impl Sql, branch: i64) -> Result<u64> {
    let seq = tx
        .int(
            "UPDATE branches SET event_seq = event_seq + 1 WHERE id = ? RETURNING event_seq",
            args![branch],
        )
        .await?
        .ok_or_else(|| unknown_branch(branch))?;
    Ok(seq.max(0) as u64)
}

/// Window `n` of the branch as stored.
pub async fn stored_window(
    tx: &mut impl Sql,
    branch: i64,
    n: WindowNo,
) -> Result<Option<WindowRow>> {
    tx.row(
        "SELECT * FROM windows WHERE branch_id = ? AND number = ?",
        args![branch, n],
        window_from,
    )
    .await
}

/// The branch's windows as stored, by number.
pub async fn stored_windows(tx: &mut impl Sql, branch: i64) -> Result<Vec<WindowRow>> {
    tx.rows(
        "SELECT * FROM windows WHERE branch_id = ? ORDER BY number",
        args![branch],
        window_from,
    )
    .await
}

/// What the branch's most recent `services` stream event kept in the database said (`open`).
pub async fn stored_announcement(tx: &mut impl Sql, branch: i64) -> Result<Option<bool>> {
    let body = tx
        .row(
            "SELECT body FROM stream_events WHERE branch_id = ? AND body LIKE '%\"type\":\"services\"%' \
             ORDER BY seq DESC LIMIT 1",
            args![branch],
            |r| r.text("body"),
        )
        .await?;
    Ok(body.map(|b| b.contains("\"open\":true")))
}

/// [`Tx::passed_over`]'s statement; its arguments: the instant, the branch (twice), the
/// service and the place in line.
pub(crate) const PASSED_OVER: &str = "UPDATE remote_tickets SET passed_over_at = ? \
     WHERE branch_id = ? AND checked_in_at IS NULL AND passed_over_at IS NULL \
     AND ticket_key IN (SELECT key FROM tickets WHERE branch_id = ? AND service_code = ? \
     AND status = 'waiting' AND queue_at <= ?)";

/// The reads and writes [`crate::hall`] needs inside one transaction. None of them decides
/// anything.
#[allow(async_fn_in_trait)]
pub trait Tx: Sql + Sized {
    /// Where this connection keeps the branches' configurations.
    fn config_cache(&self) -> &ConfigCache;

    /// Serializes this transaction's writes with every other writer of the branch, in any
    /// process: called first by each write operation. SQLite has one writer already (a no-op);
    /// PostgreSQL locks the branch's row until the transaction ends.
    async fn lock_branch(&mut self, branch: i64) -> Result<()> {
        let _ = branch;
        Ok(())
    }

    /// The branch's `config_version`.
    async fn config_version(&mut self, branch: i64) -> Result<i64> {
        stored_config_version(self, branch).await
    }

    /// The branch's configuration (services, windows, hours), cached by `config_version`.
    async fn config(&mut self, branch: i64) -> Result<Arc<BranchConfig>> {
        let version = self.config_version(branch).await?;
        let cached = self
            .config_cache()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&branch)
            .filter(|c| c.version == version)
            .cloned();
        if let Some(c) = cached {
            return Ok(c);
        }
        let cfg = Arc::new(load_config(self, branch).await?);
        self.config_cache()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(branch, cfg.clone());
        Ok(cfg)
    }

    /// The branch's stream sequence as last committed (or raised in this transaction).
    async fn seq(&mut self, branch: i64) -> Result<u64> {
        stored_seq(self, branch).await
    }

    /// Increments and returns the branch's stream sequence.
    async fn next_seq(&mut self, branch: i64) -> Result<u64> {
        raise_stored_seq(self, branch).await
    }

    async fn insert_stream_event(
        &mut self,
        branch: i64,
        seq: u64,
        at: DateTime<Utc>,
        body: &str,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO stream_events (branch_id, seq, at, body) VALUES (?, ?, ?, ?)",
            args![branch, seq, at, body],
        )
        .await?;
        Ok(())
    }

    async fn idempotent_ticket(
        &mut self,
        device_key: &str,
        key: &str,
    ) -> Result<Option<TicketRow>> {
        self.row(
            ticket_query!(
                "WHERE key = (SELECT ticket_key FROM idempotency WHERE device_key = ? AND key = ?)"
            ),
            args![device_key, key],
            ticket_from,
        )
        .await
    }

    async fn save_idempotency(
        &mut self,
        device_key: &str,
        key: &str,
        ticket: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO idempotency (device_key, key, ticket_key, created_at) VALUES (?, ?, ?, ?)",
            args![device_key, key, ticket, now],
        )
        .await?;
        Ok(())
    }

    async fn last_number(
        &mut self,
        branch: i64,
        service: ServiceCode,
        day: NaiveDate,
    ) -> Result<Option<u32>> {
        let n = self
            .int(
                "SELECT last_number FROM number_counters WHERE branch_id = ? AND service_code = ? AND day = ?",
                args![branch, &service, day],
            )
            .await?;
        Ok(n.map(|n| n.max(0) as u32))
    }

    async fn set_last_number(
        &mut self,
        branch: i64,
        service: ServiceCode,
        day: NaiveDate,
        n: u32,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO number_counters (branch_id, service_code, day, last_number) VALUES (?, ?, ?, ?) \
             ON CONFLICT (branch_id, service_code, day) DO UPDATE SET last_number = excluded.last_number",
            args![branch, &service, day, n],
        )
        .await?;
        Ok(())
    }

    /// Whether a live ticket of the branch holds `number` (of a service's own series, or of
    /// its appointments' prefix).
    async fn number_is_live(&mut self, branch: i64, number: &TicketNumber) -> Result<bool> {
        let hit = self
            .int(
                "SELECT 1 FROM tickets WHERE branch_id = ? AND number = ? \
                 AND status IN ('waiting', 'called', 'serving') LIMIT 1",
                args![branch, number],
            )
            .await?;
        Ok(hit.is_some())
    }

    /// Inserts a waiting ticket; returns it as stored.
    async fn insert_ticket(&mut self, t: &NewTicket) -> Result<TicketRow> {
        self.row(
            concat!(
                "INSERT INTO tickets (id, branch_id, service_code, issued_service, number, number_seq, day, \
                 priority, status, issued_at, queue_at, estimate_ahead, estimate_secs, device_id, appointment_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?) RETURNING ",
                ticket_columns!()
            ),
            args![
                &t.id,
                t.branch_id,
                &t.service,
                &t.service,
                &t.number,
                t.number_seq,
                t.day,
                t.priority,
                t.issued_at,
                t.queue_at,
                t.estimate_ahead,
                t.estimate_secs,
                t.device_id,
                t.appointment_at
            ],
            ticket_from,
        )
        .await?
        .ok_or_else(returned_nothing)
    }

    async fn ticket(&mut self, key: i64) -> Result<Option<TicketRow>> {
        self.row(ticket_query!("WHERE key = ?"), args![key], ticket_from)
            .await
    }

    async fn ticket_by_id(&mut self, id: &str) -> Result<Option<TicketRow>> {
        self.row(ticket_query!("WHERE id = ?"), args![id], ticket_from)
            .await
    }

    /// The live (or most recent) ticket with this number.
    async fn ticket_by_number(
        &mut self,
        branch: i64,
        number: &TicketNumber,
    ) -> Result<Option<TicketRow>> {
        self.row(
            ticket_query!(
                "WHERE branch_id = ? AND number = ? \
                 ORDER BY status IN ('waiting', 'called', 'serving') DESC, key DESC LIMIT 1"
            ),
            args![branch, number],
            ticket_from,
        )
        .await
    }

    /// Writes every mutable column of the ticket. Fails with `Conflict` unless the row still has
    /// `expected` status (so two writers can never both take one ticket).
    async fn update_ticket(&mut self, t: &TicketRow, expected: TicketStatus) -> Result<()> {
        let n = self
            .execute(
                "UPDATE tickets SET service_code = ?, priority = ?, status = ?, queue_at = ?, target_window = ?, \
                 window_number = ?, staff_user_id = ?, first_called_at = ?, last_called_at = ?, serving_at = ?, \
                 done_at = ?, extended_reason = ?, identity_checked_by = ?, identity_checked_at = ? \
                 WHERE key = ? AND status = ?",
                args![
                    &t.service,
                    t.priority,
                    t.status.as_str(),
                    t.queue_at,
                    t.target_window,
                    t.window,
                    t.staff_user_id,
                    t.first_called_at,
                    t.last_called_at,
                    t.serving_at,
                    t.done_at,
                    &t.extended_reason,
                    t.identity_checked_by,
                    t.identity_checked_at,
                    t.key,
                    expected.as_str()
                ],
            )
            .await?;
        if n != 1 {
            return Err(StoreError::conflict(
                "ticket_changed",
                format!("{} was changed by someone else", t.number),
            ));
        }
        Ok(())
    }

    /// Marks the remote tickets of `branch` not yet checked in whose place in `service`'s line
    /// is at or before `queue_at` as passed over at `now`: a call of the ticket there went past
    /// them ([`PASSED_OVER`]).
    async fn passed_over(
        &mut self,
        branch: i64,
        service: ServiceCode,
        queue_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.execute(PASSED_OVER, args![now, branch, branch, &service, queue_at])
            .await?;
        Ok(())
    }

    async fn append_ticket_event(&mut self, e: &TicketEvent) -> Result<()> {
        self.execute(
            "INSERT INTO ticket_events (ticket_key, at, kind, window_number, staff_user_id, detail) \
             VALUES (?, ?, ?, ?, ?, ?)",
            args![
                e.ticket,
                e.at,
                e.kind.as_str(),
                e.window,
                e.staff,
                &e.detail
            ],
        )
        .await?;
        Ok(())
    }

    async fn waiting_count(&mut self, branch: i64, service: ServiceCode) -> Result<u32> {
        let (p, n) = self.waiting_by_class(branch, service).await?;
        Ok(p + n)
    }

    /// Waiting tickets of the service: (priority, normal).
    async fn waiting_by_class(&mut self, branch: i64, service: ServiceCode) -> Result<(u32, u32)> {
        let rows = self
            .rows(
                "SELECT priority, n FROM waiting_counts WHERE branch_id = ? AND service_code = ?",
                args![branch, &service],
                |r| Ok((r.flag("priority")?, r.count("n")?)),
            )
            .await?;
        let (mut p, mut n) = (0u32, 0u32);
        for (priority, count) in rows {
            if priority {
                p += count;
            } else {
                n += count;
            }
        }
        Ok((p, n))
    }

    async fn waiting_counts(&mut self, branch: i64) -> Result<Vec<(ServiceCode, u32)>> {
        self.rows(
            "SELECT service_code, CAST(SUM(n) AS BIGINT) AS n FROM waiting_counts WHERE branch_id = ? \
             GROUP BY service_code",
            args![branch],
            |r| Ok((r.service("service_code")?, r.count("n")?)),
        )
        .await
    }

    /// Waiting tickets of `service` that will be called before one with this class and place.
    async fn count_ahead(
        &mut self,
        branch: i64,
        service: ServiceCode,
        priority: bool,
        queue_at: DateTime<Utc>,
        key: i64,
    ) -> Result<u32> {
        self.count(
            "SELECT COUNT(*) FROM tickets WHERE branch_id = ? AND service_code = ? AND status = 'waiting' \
             AND target_window IS NULL AND key <> ? \
             AND (priority > ? OR (priority = ? AND (queue_at < ? OR (queue_at = ? AND key < ?))))",
            args![branch, &service, key, priority, priority, queue_at, queue_at, key],
        )
        .await
    }

    /// The earliest place in line of the service's waiting tickets.
    async fn earliest_queue_at(
        &mut self,
        branch: i64,
        service: ServiceCode,
    ) -> Result<Option<DateTime<Utc>>> {
        let v = self
            .int(
                "SELECT MIN(queue_at) FROM tickets WHERE branch_id = ? AND service_code = ? AND status = 'waiting'",
                args![branch, &service],
            )
            .await?;
        Ok(v.map(super::sql::from_ms))
    }

    /// The heads of the lines a window may call from: per service the first waiting ticket of
    /// each class (priority and normal walk-ins, and the checked-in appointments), and the first
    /// sent to this window — passing over a remote ticket that has not checked in yet (it
    /// keeps its place). One statement (a window's call-next holds its branch's lock while it
    /// runs): a `LIMIT 1` per line, in that order, each head whole, so the one called needs no
    /// second read, with how many wait for its service before the call (so the call's event
    /// needs no read of its own after it: one fewer round trip under the lock).
    async fn heads(
        &mut self,
        branch: i64,
        window: WindowNo,
        services: &[ServiceCode],
    ) -> Result<Vec<Head>> {
        const COLUMNS: &str = concat!(
            ticket_columns!(),
            ", (SELECT CAST(COALESCE(SUM(c.n), 0) AS BIGINT) FROM waiting_counts c \
             WHERE c.branch_id = tickets.branch_id AND c.service_code = tickets.service_code) \
             AS line_waiting"
        );
        const NOT_REMOTE_UNCHECKED: &str = "NOT EXISTS (SELECT 1 FROM remote_tickets r \
             WHERE r.ticket_key = tickets.key AND r.checked_in_at IS NULL)";
        let mut parts = Vec::new();
        let mut args = Vec::new();
        for s in services {
            for (priority, appointment) in [(true, false), (false, false), (false, true)] {
                parts.push(format!(
                    "SELECT CAST({} AS BIGINT) AS ord, {COLUMNS} FROM tickets \
                     WHERE branch_id = ? AND service_code = ? AND priority = ? AND status = 'waiting' \
                     AND (appointment_at IS NOT NULL) = ? AND target_window IS NULL \
                     AND {NOT_REMOTE_UNCHECKED} ORDER BY queue_at, key LIMIT 1",
                    parts.len()
                ));
                args.extend([
                    Arg::from(branch),
                    Arg::from(s),
                    Arg::from(priority),
                    Arg::from(appointment),
                ]);
            }
        }
        parts.push(format!(
            "SELECT CAST({} AS BIGINT) AS ord, {COLUMNS} FROM tickets \
             WHERE branch_id = ? AND target_window = ? AND status = 'waiting' \
             AND {NOT_REMOTE_UNCHECKED} ORDER BY priority DESC, queue_at, key LIMIT 1",
            parts.len()
        ));
        args.extend([Arg::from(branch), Arg::from(window)]);
        // Each in a subquery of its own (its ORDER BY and LIMIT), as both databases accept.
        let sql = parts
            .iter()
            .enumerate()
            .map(|(i, p)| format!("SELECT * FROM ({p}) AS h{i}"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
            + " ORDER BY ord";
        self.rows(&sql, &args, |r| {
            Ok(Head {
                ticket: ticket_from(r)?,
                waiting: r.count("line_waiting")?,
            })
        })
        .await
    }

    /// Mean service time of the service's most recent completed tickets, if any.
    async fn recent_service_secs(
        &mut self,
        branch: i64,
        service: ServiceCode,
        since: DateTime<Utc>,
    ) -> Result<Option<f64>> {
        Ok(self
            .row(
                "SELECT CAST(AVG(d) AS DOUBLE PRECISION) AS mean FROM (SELECT (done_at - serving_at) / 1000.0 AS d \
                 FROM tickets WHERE branch_id = ? AND service_code = ? AND status = 'done' AND done_at >= ? \
                 AND serving_at IS NOT NULL ORDER BY done_at DESC LIMIT 30) recent",
                args![branch, &service, since],
                |r| r.opt_real("mean"),
            )
            .await?
            .flatten())
    }

    async fn window(&mut self, branch: i64, n: WindowNo) -> Result<Option<WindowRow>> {
        stored_window(self, branch, n).await
    }

    /// The branch's windows, by number.
    async fn windows(&mut self, branch: i64) -> Result<Vec<WindowRow>> {
        stored_windows(self, branch).await
    }

    async fn update_window(&mut self, branch: i64, w: &WindowRow) -> Result<()> {
        self.execute(
            "UPDATE windows SET state = ?, pause_reason = ?, staff_user_id = ?, current_ticket = ?, \
             state_since = ? WHERE branch_id = ? AND number = ?",
            args![
                state_str(w.state),
                &w.pause_reason,
                w.staff_user_id,
                w.current_ticket,
                w.state_since,
                branch,
                w.number
            ],
        )
        .await?;
        Ok(())
    }

    /// Turns the branch's emergency broadcast on (`Some(message)`) or off, as a configuration
    /// change (the cached configuration is reloaded).
    async fn set_emergency(&mut self, branch: i64, message: Option<&str>) -> Result<()> {
        self.execute(
            "UPDATE branches SET emergency = ?, config_version = config_version + 1 WHERE id = ?",
            args![message, branch],
        )
        .await?;
        Ok(())
    }

    /// Appends an entry to the audit log of configuration changes.
    async fn audit(&mut self, e: &AuditEntry<'_>) -> Result<()> {
        self.execute(
            "INSERT INTO audit_log (branch_id, user_id, at, action, detail) VALUES (?, ?, ?, ?, ?)",
            args![e.branch, e.user, e.at, e.action, &e.detail],
        )
        .await?;
        Ok(())
    }

    /// What the branch's most recent `services` stream event said (`open`), if one is kept:
    /// with several servers, the first to notice an opening announces it, the others see it.
    async fn last_announced_open(&mut self, branch: i64) -> Result<Option<bool>> {
        stored_announcement(self, branch).await
    }

    async fn log_window(
        &mut self,
        branch: i64,
        window: WindowNo,
        user: Option<i64>,
        step: WindowStep,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO window_log (branch_id, window_number, user_id, kind, reason, at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            args![branch, window, user, step.as_str(), reason, at],
        )
        .await?;
        Ok(())
    }

    /// Whether the branch's local `day` has been closed: `None` if not, else whether its
    /// windows have also been signed out.
    async fn closed_day(&mut self, branch: i64, day: NaiveDate) -> Result<Option<bool>> {
        self.row(
            "SELECT signed_out_at FROM closed_days WHERE branch_id = ? AND day = ?",
            args![branch, day],
            |r| Ok(r.opt_int("signed_out_at")?.is_some()),
        )
        .await
    }

    /// Records that the windows still signed in after `day`'s closing were signed out at `at`.
    async fn mark_day_signed_out(
        &mut self,
        branch: i64,
        day: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.execute(
            "UPDATE closed_days SET signed_out_at = ? WHERE branch_id = ? AND day = ?",
            args![at, branch, day],
        )
        .await?;
        Ok(())
    }

    /// Records that `day` was closed at `at`, cancelling `cancelled` tickets.
    async fn mark_day_closed(
        &mut self,
        branch: i64,
        day: NaiveDate,
        at: DateTime<Utc>,
        cancelled: u32,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO closed_days (branch_id, day, closed_at, cancelled) VALUES (?, ?, ?, ?)",
            args![branch, day, at, cancelled],
        )
        .await?;
        Ok(())
    }

    /// The branch's tickets still waiting or called that were issued before `before`, oldest
    /// first.
    async fn unserved_before(
        &mut self,
        branch: i64,
        before: DateTime<Utc>,
    ) -> Result<Vec<TicketRow>> {
        self.rows(
            ticket_query!(
                "WHERE branch_id = ? AND status IN ('waiting', 'called') AND issued_at < ? ORDER BY key"
            ),
            args![branch, before],
            ticket_from,
        )
        .await
    }

    /// The ticket completed most recently at the window (status `done`, latest `done_at`).
    async fn last_completed(&mut self, branch: i64, window: WindowNo) -> Result<Option<TicketRow>> {
        self.row(
            ticket_query!(
                "WHERE branch_id = ? AND window_number = ? AND status = 'done' \
                 ORDER BY done_at DESC, key DESC LIMIT 1"
            ),
            args![branch, window],
            ticket_from,
        )
        .await
    }

    /// Stores a rating. Fails with `Conflict` if the ticket already has one.
    async fn insert_rating(&mut self, r: &NewRating) -> Result<()> {
        self.execute(
            "INSERT INTO ratings (ticket_key, branch_id, window_number, staff_user_id, score, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            args![
                r.ticket,
                r.branch_id,
                r.window,
                r.staff,
                u32::from(r.score),
                r.at
            ],
        )
        .await?;
        Ok(())
    }

    /// Stores a complaint with status `open`; returns its id.
    async fn insert_complaint(&mut self, c: &NewComplaint) -> Result<i64> {
        self.inserted_id(
            "INSERT INTO complaints (branch_id, ticket_key, window_number, staff_user_id, category, description, \
             contact_consent, contact, created_at, due_at, source, kind, about_user_id, service_code) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            args![
                c.branch_id,
                c.ticket,
                c.window,
                c.staff,
                c.category,
                &c.description,
                c.consent,
                &c.contact,
                c.created_at,
                c.due_at,
                c.source,
                c.kind,
                c.about,
                c.service.as_ref().map(|s| s.as_str())
            ],
        )
        .await
    }
}

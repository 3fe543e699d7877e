//! [`Tx`] for SQLite: the named reads and writes of one transaction, as synchronous rusqlite
//! statements (prepared once per connection and cached).
//!
//! The methods are `async` only because the trait is shared with backends that really wait;
//! here they never suspend, so [`run_now`] can drive an operation to completion on the thread
//! that owns the connection.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::api::{Localized, TicketStatus, WindowState};
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{ConfigCache, from_ms, ms};
use crate::queue::ServiceDef;
use crate::queue::policy::WindowSkills;
use crate::queue::schedule::{Exception, Period, Schedule, Weekly};
use crate::store::{
    AuditEntry, BranchConfig, LineHead, NewComplaint, NewRating, NewTicket, Result, StoreError,
    TicketEvent, TicketRow, Tx, WindowDef, WindowRow, window_state_from,
};

/// Drives a future that never suspends (every SQLite [`Tx`] method) to its output.
pub(crate) fn run_now<F: Future<Output = Result<T>>, T>(f: F) -> Result<T> {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => Err(StoreError::Other(anyhow::anyhow!(
            "a SQLite operation tried to wait"
        ))),
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &e
            && (f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
        {
            return StoreError::conflict("conflict", "that already exists");
        }
        if let Some(unavailable) = crate::store::health::sqlite_unavailable(&e) {
            return unavailable;
        }
        StoreError::Other(e.into())
    }
}

/// One SQLite transaction's worth of statements on a connection.
pub struct SqliteTx<'c> {
    pub(crate) conn: &'c Connection,
    pub(crate) cache: &'c ConfigCache,
}

pub(crate) const TICKET_COLUMNS: &str = "key, id, branch_id, service_code, issued_service, number, number_seq, day, priority, status, \
     issued_at, queue_at, target_window, window_number, staff_user_id, first_called_at, last_called_at, serving_at, \
     done_at, estimate_ahead, estimate_secs, extended_reason, device_id";

fn opt_time(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.map(from_ms)
}

fn window_no(v: Option<i64>) -> Option<WindowNo> {
    v.and_then(|n| u32::try_from(n).ok())
        .and_then(|n| WindowNo::new(n).ok())
}

fn bad(what: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(anyhow::anyhow!("bad value in database: {what}").into())
}

pub(crate) fn code(s: &str) -> rusqlite::Result<ServiceCode> {
    s.parse().map_err(bad)
}

pub(crate) fn ticket_from_row(r: &Row<'_>) -> rusqlite::Result<TicketRow> {
    let status: String = r.get("status")?;
    let number: String = r.get("number")?;
    let day: String = r.get("day")?;
    Ok(TicketRow {
        key: r.get("key")?,
        id: r.get("id")?,
        branch_id: r.get("branch_id")?,
        service: code(&r.get::<_, String>("service_code")?)?,
        issued_service: code(&r.get::<_, String>("issued_service")?)?,
        number: number.parse().map_err(bad)?,
        number_seq: r.get::<_, i64>("number_seq")? as u32,
        day: NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(bad)?,
        priority: r.get::<_, i64>("priority")? != 0,
        status: status.parse::<TicketStatus>().map_err(bad)?,
        issued_at: from_ms(r.get("issued_at")?),
        queue_at: from_ms(r.get("queue_at")?),
        target_window: window_no(r.get("target_window")?),
        window: window_no(r.get("window_number")?),
        staff_user_id: r.get("staff_user_id")?,
        first_called_at: opt_time(r.get("first_called_at")?),
        last_called_at: opt_time(r.get("last_called_at")?),
        serving_at: opt_time(r.get("serving_at")?),
        done_at: opt_time(r.get("done_at")?),
        estimate_ahead: r.get::<_, i64>("estimate_ahead")? as u32,
        estimate_secs: r.get::<_, i64>("estimate_secs")? as u64,
        extended_reason: r.get("extended_reason")?,
        device_id: r.get("device_id")?,
    })
}

fn window_from_row(r: &Row<'_>) -> rusqlite::Result<WindowRow> {
    let n: i64 = r.get("number")?;
    let state: String = r.get("state")?;
    Ok(WindowRow {
        number: window_no(Some(n)).ok_or_else(|| bad(n))?,
        name: r.get("name")?,
        state: window_state_from(&state),
        pause_reason: r.get("pause_reason")?,
        staff_user_id: r.get("staff_user_id")?,
        current_ticket: r.get("current_ticket")?,
        state_since: opt_time(r.get("state_since")?),
    })
}

fn localized(r: &Row<'_>, prefix: &str) -> rusqlite::Result<Localized> {
    Ok(Localized {
        zh: r.get(format!("{prefix}_zh").as_str())?,
        zh_hant: r.get(format!("{prefix}_zh_hant").as_str())?,
        en: r.get(format!("{prefix}_en").as_str())?,
    })
}

fn json<T: serde::de::DeserializeOwned>(s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s).map_err(bad)
}

/// Loads a branch's configuration (no cache).
pub(crate) fn load_config(conn: &Connection, branch: i64) -> Result<BranchConfig> {
    let mut cfg = conn
        .prepare_cached("SELECT * FROM branches WHERE id = ?")?
        .query_row([branch], |b| {
            let tz: String = b.get("time_zone")?;
            Ok(BranchConfig {
                id: branch,
                version: b.get("config_version")?,
                name: localized(b, "name")?,
                schedule: Schedule {
                    tz: tz.parse().map_err(bad)?,
                    weekly: json::<Weekly>(&b.get::<_, String>("weekly_hours")?)?,
                    exceptions: Vec::new(),
                    cutoff_mins: b.get::<_, i64>("cutoff_mins")? as u16,
                },
                services: Vec::new(),
                windows: Vec::new(),
                emergency: b.get("emergency")?,
            })
        })
        .optional()?
        .ok_or_else(|| {
            StoreError::not_found("unknown_branch", format!("there is no branch {branch}"))
        })?;
    let mut st = conn.prepare_cached(
        "SELECT day, periods, note FROM hour_exceptions WHERE branch_id = ? ORDER BY day",
    )?;
    cfg.schedule.exceptions = st
        .query_map([branch], |r| {
            Ok(Exception {
                date: NaiveDate::parse_from_str(&r.get::<_, String>("day")?, "%Y-%m-%d")
                    .map_err(bad)?,
                periods: json::<Vec<Period>>(&r.get::<_, String>("periods")?)?,
                note: r.get("note")?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st =
        conn.prepare_cached("SELECT * FROM services WHERE branch_id = ? ORDER BY sort, code")?;
    cfg.services = st
        .query_map([branch], |r| {
            Ok(ServiceDef {
                code: code(&r.get::<_, String>("code")?)?,
                name: localized(r, "name")?,
                guide: localized(r, "guide")?,
                target_wait_secs: r.get::<_, i64>("target_wait_secs")? as u32,
                first_number: r.get::<_, i64>("first_number")? as u32,
                last_number: r.get::<_, i64>("last_number")? as u32,
                priority_allowed: r.get::<_, i64>("priority_allowed")? != 0,
                default_service_secs: r.get::<_, i64>("default_service_secs")? as u32,
                enabled: r.get::<_, i64>("enabled")? != 0,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = conn
        .prepare_cached("SELECT number, name FROM windows WHERE branch_id = ? ORDER BY number")?;
    cfg.windows = st
        .query_map([branch], |r| {
            let n: i64 = r.get("number")?;
            Ok(WindowDef {
                number: window_no(Some(n)).ok_or_else(|| bad(n))?,
                name: r.get("name")?,
                skills: WindowSkills { serves: Vec::new() },
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = conn.prepare_cached("SELECT window_number, service_code, weight FROM window_services WHERE branch_id = ? ORDER BY window_number, rank")?;
    let skills: Vec<(Option<WindowNo>, ServiceCode, f64)> = st
        .query_map([branch], |r| {
            Ok((
                window_no(r.get("window_number")?),
                code(&r.get::<_, String>("service_code")?)?,
                r.get("weight")?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (n, s, w) in skills {
        if let Some(def) = cfg.windows.iter_mut().find(|d| Some(d.number) == n) {
            def.skills.serves.push((s, w));
        }
    }
    Ok(cfg)
}

impl Tx for SqliteTx<'_> {
    async fn config(&mut self, branch: i64) -> Result<Arc<BranchConfig>> {
        let version: Option<i64> = self
            .conn
            .prepare_cached("SELECT config_version FROM branches WHERE id = ?")?
            .query_row([branch], |r| r.get(0))
            .optional()?;
        let version = version.ok_or_else(|| {
            StoreError::not_found("unknown_branch", format!("there is no branch {branch}"))
        })?;
        if let Some(c) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&branch)
            && c.version == version
        {
            return Ok(c.clone());
        }
        let cfg = Arc::new(load_config(self.conn, branch)?);
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(branch, cfg.clone());
        Ok(cfg)
    }

    async fn next_seq(&mut self, branch: i64) -> Result<u64> {
        let seq: i64 = self
            .conn
            .prepare_cached(
                "UPDATE branches SET event_seq = event_seq + 1 WHERE id = ? RETURNING event_seq",
            )?
            .query_row([branch], |r| r.get(0))?;
        Ok(seq as u64)
    }

    async fn insert_stream_event(
        &mut self,
        branch: i64,
        seq: u64,
        at: DateTime<Utc>,
        body: &str,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO stream_events (branch_id, seq, at, body) VALUES (?, ?, ?, ?)",
            )?
            .execute(params![branch, seq as i64, ms(at), body])?;
        Ok(())
    }

    async fn idempotent_ticket(
        &mut self,
        device_key: &str,
        key: &str,
    ) -> Result<Option<TicketRow>> {
        let q = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE key = (SELECT ticket_key FROM idempotency WHERE device_key = ? AND key = ?)"
        );
        Ok(self
            .conn
            .prepare_cached(&q)?
            .query_row(params![device_key, key], ticket_from_row)
            .optional()?)
    }

    async fn save_idempotency(
        &mut self,
        device_key: &str,
        key: &str,
        ticket: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO idempotency (device_key, key, ticket_key, created_at) VALUES (?, ?, ?, ?)")?
            .execute(params![device_key, key, ticket, ms(now)])?;
        Ok(())
    }

    async fn last_number(
        &mut self,
        branch: i64,
        service: ServiceCode,
        day: NaiveDate,
    ) -> Result<Option<u32>> {
        let n: Option<i64> = self
            .conn
            .prepare_cached("SELECT last_number FROM number_counters WHERE branch_id = ? AND service_code = ? AND day = ?")?
            .query_row(params![branch, service.as_str(), day.to_string()], |r| r.get(0))
            .optional()?;
        Ok(n.map(|n| n as u32))
    }

    async fn set_last_number(
        &mut self,
        branch: i64,
        service: ServiceCode,
        day: NaiveDate,
        n: u32,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO number_counters (branch_id, service_code, day, last_number) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (branch_id, service_code, day) DO UPDATE SET last_number = excluded.last_number",
            )?
            .execute(params![branch, service.as_str(), day.to_string(), i64::from(n)])?;
        Ok(())
    }

    async fn number_is_live(&mut self, branch: i64, service: ServiceCode, n: u32) -> Result<bool> {
        let hit: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT 1 FROM tickets WHERE branch_id = ? AND issued_service = ? AND number_seq = ? \
                 AND status IN ('waiting', 'called', 'serving') LIMIT 1",
            )?
            .query_row(params![branch, service.as_str(), i64::from(n)], |r| r.get(0))
            .optional()?;
        Ok(hit.is_some())
    }

    async fn insert_ticket(&mut self, t: &NewTicket) -> Result<i64> {
        let key: i64 = self
            .conn
            .prepare_cached(
                "INSERT INTO tickets (id, branch_id, service_code, issued_service, number, number_seq, day, priority, status, \
                 issued_at, queue_at, estimate_ahead, estimate_secs, device_id) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?) RETURNING key",
            )?
            .query_row(
                params![
                    t.id,
                    t.branch_id,
                    t.service.as_str(),
                    t.service.as_str(),
                    t.number.as_str(),
                    i64::from(t.number_seq),
                    t.day.to_string(),
                    i64::from(t.priority),
                    ms(t.issued_at),
                    ms(t.issued_at),
                    i64::from(t.estimate_ahead),
                    t.estimate_secs as i64,
                    t.device_id
                ],
                |r| r.get(0),
            )?;
        Ok(key)
    }

    async fn ticket(&mut self, key: i64) -> Result<Option<TicketRow>> {
        let q = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE key = ?");
        Ok(self
            .conn
            .prepare_cached(&q)?
            .query_row([key], ticket_from_row)
            .optional()?)
    }

    async fn ticket_by_id(&mut self, id: &str) -> Result<Option<TicketRow>> {
        let q = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?");
        Ok(self
            .conn
            .prepare_cached(&q)?
            .query_row([id], ticket_from_row)
            .optional()?)
    }

    async fn ticket_by_number(
        &mut self,
        branch: i64,
        number: &TicketNumber,
    ) -> Result<Option<TicketRow>> {
        // The live one if any, else the most recent.
        let q = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE branch_id = ? AND number = ? \
             ORDER BY status IN ('waiting', 'called', 'serving') DESC, key DESC LIMIT 1"
        );
        Ok(self
            .conn
            .prepare_cached(&q)?
            .query_row(params![branch, number.as_str()], ticket_from_row)
            .optional()?)
    }

    async fn update_ticket(&mut self, t: &TicketRow, expected: TicketStatus) -> Result<()> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE tickets SET service_code = ?, priority = ?, status = ?, queue_at = ?, target_window = ?, window_number = ?, \
                 staff_user_id = ?, first_called_at = ?, last_called_at = ?, serving_at = ?, done_at = ?, extended_reason = ? \
                 WHERE key = ? AND status = ?",
            )?
            .execute(params![
                t.service.as_str(),
                i64::from(t.priority),
                t.status.as_str(),
                ms(t.queue_at),
                t.target_window.map(|w| i64::from(w.get())),
                t.window.map(|w| i64::from(w.get())),
                t.staff_user_id,
                t.first_called_at.map(ms),
                t.last_called_at.map(ms),
                t.serving_at.map(ms),
                t.done_at.map(ms),
                t.extended_reason,
                t.key,
                expected.as_str()
            ])?;
        if n != 1 {
            return Err(StoreError::conflict(
                "ticket_changed",
                format!("{} was changed by someone else", t.number),
            ));
        }
        Ok(())
    }

    async fn append_ticket_event(&mut self, e: &TicketEvent) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO ticket_events (ticket_key, at, kind, window_number, staff_user_id, detail) VALUES (?, ?, ?, ?, ?, ?)")?
            .execute(params![e.ticket, ms(e.at), e.kind.as_str(), e.window.map(|w| i64::from(w.get())), e.staff, e.detail])?;
        Ok(())
    }

    async fn waiting_by_class(&mut self, branch: i64, service: ServiceCode) -> Result<(u32, u32)> {
        let mut st = self.conn.prepare_cached(
            "SELECT priority, n FROM waiting_counts WHERE branch_id = ? AND service_code = ?",
        )?;
        let mut rows = st.query(params![branch, service.as_str()])?;
        let (mut p, mut n) = (0u32, 0u32);
        while let Some(r) = rows.next()? {
            let count = r.get::<_, i64>(1)?.max(0) as u32;
            if r.get::<_, i64>(0)? != 0 {
                p += count;
            } else {
                n += count;
            }
        }
        Ok((p, n))
    }

    async fn waiting_counts(&mut self, branch: i64) -> Result<Vec<(ServiceCode, u32)>> {
        let mut st = self.conn.prepare_cached("SELECT service_code, SUM(n) FROM waiting_counts WHERE branch_id = ? GROUP BY service_code")?;
        let rows = st.query_map([branch], |r| {
            Ok((
                code(&r.get::<_, String>(0)?)?,
                r.get::<_, i64>(1)?.max(0) as u32,
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    async fn count_ahead(
        &mut self,
        branch: i64,
        service: ServiceCode,
        priority: bool,
        queue_at: DateTime<Utc>,
        key: i64,
    ) -> Result<u32> {
        let (q, p) = (ms(queue_at), i64::from(priority));
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM tickets WHERE branch_id = ? AND service_code = ? AND status = 'waiting' \
                 AND target_window IS NULL AND key != ? \
                 AND (priority > ? OR (priority = ? AND (queue_at < ? OR (queue_at = ? AND key < ?))))",
            )?
            .query_row(params![branch, service.as_str(), key, p, p, q, q, key], |r| r.get(0))?;
        Ok(n as u32)
    }

    async fn earliest_queue_at(
        &mut self,
        branch: i64,
        service: ServiceCode,
    ) -> Result<Option<DateTime<Utc>>> {
        let v: Option<i64> = self
            .conn
            .prepare_cached("SELECT MIN(queue_at) FROM tickets WHERE branch_id = ? AND service_code = ? AND status = 'waiting'")?
            .query_row(params![branch, service.as_str()], |r| r.get(0))?;
        Ok(v.map(from_ms))
    }

    async fn heads(
        &mut self,
        branch: i64,
        window: WindowNo,
        services: &[ServiceCode],
    ) -> Result<Vec<LineHead>> {
        let mut out = Vec::new();
        let mut st = self.conn.prepare_cached(
            "SELECT key, queue_at FROM tickets \
             WHERE branch_id = ? AND service_code = ? AND priority = ? AND status = 'waiting' AND target_window IS NULL \
             ORDER BY queue_at, key LIMIT 1",
        )?;
        for s in services {
            for p in [1i64, 0] {
                if let Some((key, q)) = st
                    .query_row(params![branch, s.as_str(), p], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                    })
                    .optional()?
                {
                    out.push(LineHead {
                        key,
                        service: *s,
                        priority: p != 0,
                        queue_at: from_ms(q),
                    });
                }
            }
        }
        let sent_here = self
            .conn
            .prepare_cached(
                "SELECT key, service_code, priority, queue_at FROM tickets \
                 WHERE branch_id = ? AND target_window = ? AND status = 'waiting' ORDER BY priority DESC, queue_at, key LIMIT 1",
            )?
            .query_row(params![branch, i64::from(window.get())], |r| {
                Ok((r.get::<_, i64>(0)?, code(&r.get::<_, String>(1)?)?, r.get::<_, i64>(2)? != 0, r.get::<_, i64>(3)?))
            })
            .optional()?;
        if let Some((key, s, priority, q)) = sent_here {
            out.push(LineHead {
                key,
                service: s,
                priority,
                queue_at: from_ms(q),
            });
        }
        Ok(out)
    }

    async fn recent_service_secs(
        &mut self,
        branch: i64,
        service: ServiceCode,
        since: DateTime<Utc>,
    ) -> Result<Option<f64>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT AVG(d) FROM (SELECT (done_at - serving_at) / 1000.0 AS d FROM tickets \
                 WHERE branch_id = ? AND service_code = ? AND status = 'done' AND done_at >= ? AND serving_at IS NOT NULL \
                 ORDER BY done_at DESC LIMIT 30)",
            )?
            .query_row(params![branch, service.as_str(), ms(since)], |r| r.get(0))?)
    }

    async fn window(&mut self, branch: i64, n: WindowNo) -> Result<Option<WindowRow>> {
        Ok(self
            .conn
            .prepare_cached("SELECT * FROM windows WHERE branch_id = ? AND number = ?")?
            .query_row(params![branch, i64::from(n.get())], window_from_row)
            .optional()?)
    }

    async fn windows(&mut self, branch: i64) -> Result<Vec<WindowRow>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT * FROM windows WHERE branch_id = ? ORDER BY number")?;
        let rows = st.query_map([branch], window_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    async fn update_window(&mut self, branch: i64, w: &WindowRow) -> Result<()> {
        let state = match w.state {
            WindowState::Open => "open",
            WindowState::Paused => "paused",
            WindowState::Closed => "closed",
        };
        self.conn
            .prepare_cached(
                "UPDATE windows SET state = ?, pause_reason = ?, staff_user_id = ?, current_ticket = ?, state_since = ? \
                 WHERE branch_id = ? AND number = ?",
            )?
            .execute(params![state, w.pause_reason, w.staff_user_id, w.current_ticket, w.state_since.map(ms), branch, i64::from(w.number.get())])?;
        Ok(())
    }

    async fn last_announced_open(&mut self, branch: i64) -> Result<Option<bool>> {
        let body: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT body FROM stream_events WHERE branch_id = ? AND body LIKE '%\"type\":\"services\"%' \
                 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row([branch], |r| r.get(0))
            .optional()?;
        Ok(body.map(|b| b.contains("\"open\":true")))
    }

    async fn log_window(
        &mut self,
        branch: i64,
        window: WindowNo,
        user: Option<i64>,
        kind: &str,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO window_log (branch_id, window_number, user_id, kind, reason, at) VALUES (?, ?, ?, ?, ?, ?)")?
            .execute(params![branch, i64::from(window.get()), user, kind, reason, ms(at)])?;
        Ok(())
    }

    async fn last_completed(&mut self, branch: i64, window: WindowNo) -> Result<Option<TicketRow>> {
        let q = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE branch_id = ? AND window_number = ? AND status = 'done' \
             ORDER BY done_at DESC, key DESC LIMIT 1"
        );
        Ok(self
            .conn
            .prepare_cached(&q)?
            .query_row(params![branch, i64::from(window.get())], ticket_from_row)
            .optional()?)
    }

    async fn insert_rating(&mut self, r: &NewRating) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO ratings (ticket_key, branch_id, window_number, staff_user_id, score, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                r.ticket,
                r.branch_id,
                i64::from(r.window.get()),
                r.staff,
                i64::from(r.score),
                ms(r.at)
            ])?;
        Ok(())
    }

    async fn insert_complaint(&mut self, c: &NewComplaint) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO complaints (branch_id, ticket_key, window_number, staff_user_id, category, description, \
                 contact_consent, contact, created_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )?
            .query_row(
                params![
                    c.branch_id,
                    c.ticket,
                    c.window.map(|w| i64::from(w.get())),
                    c.staff,
                    c.category,
                    c.description,
                    i64::from(c.consent),
                    c.contact,
                    ms(c.created_at),
                    ms(c.due_at)
                ],
                |r| r.get(0),
            )?)
    }

    async fn set_emergency(&mut self, branch: i64, message: Option<&str>) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE branches SET emergency = ?, config_version = config_version + 1 WHERE id = ?",
            )?
            .execute(params![message, branch])?;
        Ok(())
    }

    async fn audit(&mut self, e: &AuditEntry<'_>) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO audit_log (branch_id, user_id, at, action, detail) VALUES (?, ?, ?, ?, ?)",
            )?
            .execute(params![e.branch, e.user, ms(e.at), e.action, e.detail])?;
        Ok(())
    }
}

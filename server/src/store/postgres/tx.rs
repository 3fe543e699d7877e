//! [`Tx`] for PostgreSQL: the named reads and writes of one transaction, as sqlx statements
//! (prepared once per connection by sqlx's statement cache).
//!
//! Every write operation first locks its branch's row ([`Tx::lock_branch`]): from then on the
//! operation sees the latest committed state of the branch and no other server can change it
//! until this transaction ends, so the hall's rules run exactly as on SQLite's single writer —
//! one ticket is never called to two windows, numbers stay unique, and `seq` rises by one.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::api::{Localized, TicketStatus, WindowState};
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};

use super::ConfigCache;
use crate::queue::ServiceDef;
use crate::queue::policy::WindowSkills;
use crate::queue::schedule::{Exception, Period, Schedule, Weekly};
use crate::store::sqlite::{from_ms, ms};
use crate::store::{
    AuditEntry, BranchConfig, LineHead, NewComplaint, NewRating, NewTicket, Result, StoreError,
    TicketEvent, TicketRow, Tx, WindowDef, WindowRow, window_state_from,
};

/// One PostgreSQL transaction's worth of statements.
pub struct PgTx<'c> {
    pub(crate) conn: &'c mut PgConnection,
    pub(crate) cache: &'c ConfigCache,
    /// Branches whose row this transaction has locked, with their `config_version` (which
    /// cannot change while the lock is held: one query fewer per operation).
    locked: Vec<(i64, i64)>,
    /// The ticket this transaction inserted, as `INSERT … RETURNING` gave it back, until it is
    /// updated (issuing reads it back at once: one query fewer).
    inserted: Option<TicketRow>,
    /// Stream events to store at commit, together with the notification (one round trip for
    /// all of them instead of one each): (branch, seq, at, body).
    pub(crate) events: Vec<(i64, i64, i64, String)>,
}

impl<'c> PgTx<'c> {
    pub(crate) fn new(conn: &'c mut PgConnection, cache: &'c ConfigCache) -> Self {
        PgTx {
            conn,
            cache,
            locked: Vec::new(),
            inserted: None,
            events: Vec::new(),
        }
    }
}

pub(crate) const TICKET_COLUMNS: &str = crate::store::sqlite::TICKET_COLUMNS;

fn bad(what: impl std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!("bad value in database: {what}"))
}

pub(crate) fn code(s: &str) -> Result<ServiceCode> {
    s.parse().map_err(bad)
}

fn window_no(v: Option<i64>) -> Option<WindowNo> {
    v.and_then(|n| u32::try_from(n).ok())
        .and_then(|n| WindowNo::new(n).ok())
}

fn opt_time(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.map(from_ms)
}

pub(crate) fn ticket_from_row(r: &PgRow) -> Result<TicketRow> {
    let status: String = r.try_get("status")?;
    let number: String = r.try_get("number")?;
    Ok(TicketRow {
        key: r.try_get("key")?,
        id: r.try_get("id")?,
        branch_id: r.try_get("branch_id")?,
        service: code(r.try_get("service_code")?)?,
        issued_service: code(r.try_get("issued_service")?)?,
        number: number.parse().map_err(bad)?,
        number_seq: r.try_get::<i64, _>("number_seq")? as u32,
        day: r.try_get("day")?,
        priority: r.try_get("priority")?,
        status: status.parse::<TicketStatus>().map_err(bad)?,
        issued_at: from_ms(r.try_get("issued_at")?),
        queue_at: from_ms(r.try_get("queue_at")?),
        target_window: window_no(r.try_get("target_window")?),
        window: window_no(r.try_get("window_number")?),
        staff_user_id: r.try_get("staff_user_id")?,
        first_called_at: opt_time(r.try_get("first_called_at")?),
        last_called_at: opt_time(r.try_get("last_called_at")?),
        serving_at: opt_time(r.try_get("serving_at")?),
        done_at: opt_time(r.try_get("done_at")?),
        estimate_ahead: r.try_get::<i64, _>("estimate_ahead")? as u32,
        estimate_secs: r.try_get::<i64, _>("estimate_secs")? as u64,
        extended_reason: r.try_get("extended_reason")?,
        device_id: r.try_get("device_id")?,
    })
}

pub(crate) fn window_from_row(r: &PgRow) -> Result<WindowRow> {
    let n: i64 = r.try_get("number")?;
    let state: String = r.try_get("state")?;
    Ok(WindowRow {
        number: window_no(Some(n)).ok_or_else(|| bad(n))?,
        name: r.try_get("name")?,
        state: window_state_from(&state),
        pause_reason: r.try_get("pause_reason")?,
        staff_user_id: r.try_get("staff_user_id")?,
        current_ticket: r.try_get("current_ticket")?,
        state_since: opt_time(r.try_get("state_since")?),
    })
}

fn localized(r: &PgRow, prefix: &str) -> Result<Localized> {
    Ok(Localized {
        zh: r.try_get(format!("{prefix}_zh").as_str())?,
        zh_hant: r.try_get(format!("{prefix}_zh_hant").as_str())?,
        en: r.try_get(format!("{prefix}_en").as_str())?,
    })
}

fn json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(bad)
}

fn ticket_query(tail: &str) -> AssertSqlSafe<String> {
    AssertSqlSafe(format!("SELECT {TICKET_COLUMNS} FROM tickets {tail}"))
}

/// Loads a branch's configuration (no cache).
pub(crate) async fn load_config(conn: &mut PgConnection, branch: i64) -> Result<BranchConfig> {
    let b = sqlx::query("SELECT * FROM branches WHERE id = $1")
        .bind(branch)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| {
            StoreError::not_found("unknown_branch", format!("there is no branch {branch}"))
        })?;
    let tz: String = b.try_get("time_zone")?;
    let weekly: String = b.try_get("weekly_hours")?;
    let mut cfg = BranchConfig {
        id: branch,
        version: b.try_get("config_version")?,
        name: localized(&b, "name")?,
        schedule: Schedule {
            tz: tz.parse().map_err(bad)?,
            weekly: json::<Weekly>(&weekly)?,
            exceptions: Vec::new(),
            cutoff_mins: b.try_get::<i64, _>("cutoff_mins")? as u16,
        },
        services: Vec::new(),
        windows: Vec::new(),
        emergency: b.try_get("emergency")?,
    };
    for r in sqlx::query(
        "SELECT day, periods, note FROM hour_exceptions WHERE branch_id = $1 ORDER BY day",
    )
    .bind(branch)
    .fetch_all(&mut *conn)
    .await?
    {
        cfg.schedule.exceptions.push(Exception {
            date: r.try_get("day")?,
            periods: json::<Vec<Period>>(r.try_get("periods")?)?,
            note: r.try_get("note")?,
        });
    }
    for r in sqlx::query("SELECT * FROM services WHERE branch_id = $1 ORDER BY sort, code")
        .bind(branch)
        .fetch_all(&mut *conn)
        .await?
    {
        cfg.services.push(ServiceDef {
            code: code(r.try_get("code")?)?,
            name: localized(&r, "name")?,
            guide: localized(&r, "guide")?,
            target_wait_secs: r.try_get::<i64, _>("target_wait_secs")? as u32,
            first_number: r.try_get::<i64, _>("first_number")? as u32,
            last_number: r.try_get::<i64, _>("last_number")? as u32,
            priority_allowed: r.try_get("priority_allowed")?,
            default_service_secs: r.try_get::<i64, _>("default_service_secs")? as u32,
            enabled: r.try_get("enabled")?,
        });
    }
    for r in sqlx::query("SELECT number, name FROM windows WHERE branch_id = $1 ORDER BY number")
        .bind(branch)
        .fetch_all(&mut *conn)
        .await?
    {
        let n: i64 = r.try_get("number")?;
        cfg.windows.push(WindowDef {
            number: window_no(Some(n)).ok_or_else(|| bad(n))?,
            name: r.try_get("name")?,
            skills: WindowSkills { serves: Vec::new() },
        });
    }
    for r in sqlx::query(
        "SELECT window_number, service_code, weight FROM window_services WHERE branch_id = $1 \
         ORDER BY window_number, rank",
    )
    .bind(branch)
    .fetch_all(&mut *conn)
    .await?
    {
        let n = window_no(r.try_get("window_number")?);
        let s = code(r.try_get("service_code")?)?;
        let w: f64 = r.try_get("weight")?;
        if let Some(def) = cfg.windows.iter_mut().find(|d| Some(d.number) == n) {
            def.skills.serves.push((s, w));
        }
    }
    Ok(cfg)
}

fn state_str(s: WindowState) -> &'static str {
    match s {
        WindowState::Open => "open",
        WindowState::Paused => "paused",
        WindowState::Closed => "closed",
    }
}

impl Tx for PgTx<'_> {
    async fn lock_branch(&mut self, branch: i64) -> Result<()> {
        if self.locked.iter().any(|(b, _)| *b == branch) {
            return Ok(());
        }
        let version: i64 =
            sqlx::query_scalar("SELECT config_version FROM branches WHERE id = $1 FOR UPDATE")
                .bind(branch)
                .fetch_optional(&mut *self.conn)
                .await?
                .ok_or_else(|| {
                    StoreError::not_found("unknown_branch", format!("there is no branch {branch}"))
                })?;
        self.locked.push((branch, version));
        Ok(())
    }

    async fn config(&mut self, branch: i64) -> Result<Arc<BranchConfig>> {
        let locked = self
            .locked
            .iter()
            .find(|(b, _)| *b == branch)
            .map(|(_, v)| *v);
        let version: i64 = match locked {
            Some(v) => v,
            None => sqlx::query_scalar("SELECT config_version FROM branches WHERE id = $1")
                .bind(branch)
                .fetch_optional(&mut *self.conn)
                .await?
                .ok_or_else(|| {
                    StoreError::not_found("unknown_branch", format!("there is no branch {branch}"))
                })?,
        };
        if let Some(c) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&branch)
            && c.version == version
        {
            return Ok(c.clone());
        }
        let cfg = Arc::new(load_config(self.conn, branch).await?);
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(branch, cfg.clone());
        Ok(cfg)
    }

    async fn next_seq(&mut self, branch: i64) -> Result<u64> {
        let seq: i64 = sqlx::query_scalar(
            "UPDATE branches SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq",
        )
        .bind(branch)
        .fetch_one(&mut *self.conn)
        .await?;
        Ok(seq as u64)
    }

    async fn insert_stream_event(
        &mut self,
        branch: i64,
        seq: u64,
        at: DateTime<Utc>,
        body: &str,
    ) -> Result<()> {
        // Written by `PgStore::finish`, in this transaction, just before it commits.
        self.events
            .push((branch, seq as i64, ms(at), body.to_owned()));
        Ok(())
    }

    async fn idempotent_ticket(
        &mut self,
        device_key: &str,
        key: &str,
    ) -> Result<Option<TicketRow>> {
        let r = sqlx::query(ticket_query(
            "WHERE key = (SELECT ticket_key FROM idempotency WHERE device_key = $1 AND key = $2)",
        ))
        .bind(device_key)
        .bind(key)
        .fetch_optional(&mut *self.conn)
        .await?;
        r.as_ref().map(ticket_from_row).transpose()
    }

    async fn save_idempotency(
        &mut self,
        device_key: &str,
        key: &str,
        ticket: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO idempotency (device_key, key, ticket_key, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(device_key)
        .bind(key)
        .bind(ticket)
        .bind(ms(now))
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn last_number(
        &mut self,
        branch: i64,
        service: ServiceCode,
        day: NaiveDate,
    ) -> Result<Option<u32>> {
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT last_number FROM number_counters WHERE branch_id = $1 AND service_code = $2 AND day = $3",
        )
        .bind(branch)
        .bind(service.as_str())
        .bind(day)
        .fetch_optional(&mut *self.conn)
        .await?;
        Ok(n.map(|n| n as u32))
    }

    async fn set_last_number(
        &mut self,
        branch: i64,
        service: ServiceCode,
        day: NaiveDate,
        n: u32,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO number_counters (branch_id, service_code, day, last_number) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (branch_id, service_code, day) DO UPDATE SET last_number = excluded.last_number",
        )
        .bind(branch)
        .bind(service.as_str())
        .bind(day)
        .bind(i64::from(n))
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn number_is_live(&mut self, branch: i64, service: ServiceCode, n: u32) -> Result<bool> {
        let hit: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM tickets WHERE branch_id = $1 AND issued_service = $2 AND number_seq = $3 \
             AND status IN ('waiting', 'called', 'serving') LIMIT 1",
        )
        .bind(branch)
        .bind(service.as_str())
        .bind(i64::from(n))
        .fetch_optional(&mut *self.conn)
        .await?;
        Ok(hit.is_some())
    }

    async fn insert_ticket(&mut self, t: &NewTicket) -> Result<i64> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO tickets (id, branch_id, service_code, issued_service, number, number_seq, day, priority, status, \
             issued_at, queue_at, estimate_ahead, estimate_secs, device_id) \
             VALUES ($1, $2, $3, $3, $4, $5, $6, $7, 'waiting', $8, $8, $9, $10, $11) RETURNING {TICKET_COLUMNS}"
        )))
        .bind(&t.id)
        .bind(t.branch_id)
        .bind(t.service.as_str())
        .bind(t.number.as_str())
        .bind(i64::from(t.number_seq))
        .bind(t.day)
        .bind(t.priority)
        .bind(ms(t.issued_at))
        .bind(i64::from(t.estimate_ahead))
        .bind(t.estimate_secs as i64)
        .bind(t.device_id)
        .fetch_one(&mut *self.conn)
        .await?;
        let ticket = ticket_from_row(&row)?;
        let key = ticket.key;
        self.inserted = Some(ticket);
        Ok(key)
    }

    async fn ticket(&mut self, key: i64) -> Result<Option<TicketRow>> {
        if let Some(t) = self.inserted.as_ref().filter(|t| t.key == key) {
            return Ok(Some(t.clone()));
        }
        let r = sqlx::query(ticket_query("WHERE key = $1"))
            .bind(key)
            .fetch_optional(&mut *self.conn)
            .await?;
        r.as_ref().map(ticket_from_row).transpose()
    }

    async fn ticket_by_id(&mut self, id: &str) -> Result<Option<TicketRow>> {
        let r = sqlx::query(ticket_query("WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *self.conn)
            .await?;
        r.as_ref().map(ticket_from_row).transpose()
    }

    async fn ticket_by_number(
        &mut self,
        branch: i64,
        number: &TicketNumber,
    ) -> Result<Option<TicketRow>> {
        let r = sqlx::query(ticket_query(
            "WHERE branch_id = $1 AND number = $2 \
             ORDER BY status IN ('waiting', 'called', 'serving') DESC, key DESC LIMIT 1",
        ))
        .bind(branch)
        .bind(number.as_str())
        .fetch_optional(&mut *self.conn)
        .await?;
        r.as_ref().map(ticket_from_row).transpose()
    }

    async fn update_ticket(&mut self, t: &TicketRow, expected: TicketStatus) -> Result<()> {
        self.inserted = None;
        let n = sqlx::query(
            "UPDATE tickets SET service_code = $1, priority = $2, status = $3, queue_at = $4, target_window = $5, \
             window_number = $6, staff_user_id = $7, first_called_at = $8, last_called_at = $9, serving_at = $10, \
             done_at = $11, extended_reason = $12 WHERE key = $13 AND status = $14",
        )
        .bind(t.service.as_str())
        .bind(t.priority)
        .bind(t.status.as_str())
        .bind(ms(t.queue_at))
        .bind(t.target_window.map(|w| i64::from(w.get())))
        .bind(t.window.map(|w| i64::from(w.get())))
        .bind(t.staff_user_id)
        .bind(t.first_called_at.map(ms))
        .bind(t.last_called_at.map(ms))
        .bind(t.serving_at.map(ms))
        .bind(t.done_at.map(ms))
        .bind(&t.extended_reason)
        .bind(t.key)
        .bind(expected.as_str())
        .execute(&mut *self.conn)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::conflict(
                "ticket_changed",
                format!("{} was changed by someone else", t.number),
            ));
        }
        Ok(())
    }

    async fn append_ticket_event(&mut self, e: &TicketEvent) -> Result<()> {
        sqlx::query(
            "INSERT INTO ticket_events (ticket_key, at, kind, window_number, staff_user_id, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(e.ticket)
        .bind(ms(e.at))
        .bind(e.kind.as_str())
        .bind(e.window.map(|w| i64::from(w.get())))
        .bind(e.staff)
        .bind(&e.detail)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn waiting_by_class(&mut self, branch: i64, service: ServiceCode) -> Result<(u32, u32)> {
        let rows: Vec<(bool, i64)> = sqlx::query_as(
            "SELECT priority, n FROM waiting_counts WHERE branch_id = $1 AND service_code = $2",
        )
        .bind(branch)
        .bind(service.as_str())
        .fetch_all(&mut *self.conn)
        .await?;
        let (mut p, mut n) = (0u32, 0u32);
        for (priority, count) in rows {
            let count = count.max(0) as u32;
            if priority {
                p += count;
            } else {
                n += count;
            }
        }
        Ok((p, n))
    }

    async fn waiting_counts(&mut self, branch: i64) -> Result<Vec<(ServiceCode, u32)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT service_code, SUM(n)::BIGINT FROM waiting_counts WHERE branch_id = $1 GROUP BY service_code",
        )
        .bind(branch)
        .fetch_all(&mut *self.conn)
        .await?;
        rows.into_iter()
            .map(|(s, n)| Ok((code(&s)?, n.max(0) as u32)))
            .collect()
    }

    async fn count_ahead(
        &mut self,
        branch: i64,
        service: ServiceCode,
        priority: bool,
        queue_at: DateTime<Utc>,
        key: i64,
    ) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM tickets WHERE branch_id = $1 AND service_code = $2 AND status = 'waiting' \
             AND target_window IS NULL AND key <> $3 \
             AND (priority > $4 OR (priority = $4 AND (queue_at < $5 OR (queue_at = $5 AND key < $3))))",
        )
        .bind(branch)
        .bind(service.as_str())
        .bind(key)
        .bind(priority)
        .bind(ms(queue_at))
        .fetch_one(&mut *self.conn)
        .await?;
        Ok(n as u32)
    }

    async fn earliest_queue_at(
        &mut self,
        branch: i64,
        service: ServiceCode,
    ) -> Result<Option<DateTime<Utc>>> {
        let v: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(queue_at) FROM tickets WHERE branch_id = $1 AND service_code = $2 AND status = 'waiting'",
        )
        .bind(branch)
        .bind(service.as_str())
        .fetch_one(&mut *self.conn)
        .await?;
        Ok(v.map(from_ms))
    }

    async fn heads(
        &mut self,
        branch: i64,
        window: WindowNo,
        services: &[ServiceCode],
    ) -> Result<Vec<LineHead>> {
        let mut out = Vec::new();
        for s in services {
            for p in [true, false] {
                let head: Option<(i64, i64)> = sqlx::query_as(
                    "SELECT key, queue_at FROM tickets \
                     WHERE branch_id = $1 AND service_code = $2 AND priority = $3 AND status = 'waiting' \
                     AND target_window IS NULL ORDER BY queue_at, key LIMIT 1",
                )
                .bind(branch)
                .bind(s.as_str())
                .bind(p)
                .fetch_optional(&mut *self.conn)
                .await?;
                if let Some((key, q)) = head {
                    out.push(LineHead {
                        key,
                        service: *s,
                        priority: p,
                        queue_at: from_ms(q),
                    });
                }
            }
        }
        let sent_here: Option<(i64, String, bool, i64)> = sqlx::query_as(
            "SELECT key, service_code, priority, queue_at FROM tickets \
             WHERE branch_id = $1 AND target_window = $2 AND status = 'waiting' \
             ORDER BY priority DESC, queue_at, key LIMIT 1",
        )
        .bind(branch)
        .bind(i64::from(window.get()))
        .fetch_optional(&mut *self.conn)
        .await?;
        if let Some((key, s, priority, q)) = sent_here {
            let s = code(&s)?;
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
        Ok(sqlx::query_scalar(
            "SELECT AVG(d)::DOUBLE PRECISION FROM (SELECT (done_at - serving_at) / 1000.0 AS d FROM tickets \
             WHERE branch_id = $1 AND service_code = $2 AND status = 'done' AND done_at >= $3 \
             AND serving_at IS NOT NULL ORDER BY done_at DESC LIMIT 30) recent",
        )
        .bind(branch)
        .bind(service.as_str())
        .bind(ms(since))
        .fetch_one(&mut *self.conn)
        .await?)
    }

    async fn window(&mut self, branch: i64, n: WindowNo) -> Result<Option<WindowRow>> {
        let r = sqlx::query("SELECT * FROM windows WHERE branch_id = $1 AND number = $2")
            .bind(branch)
            .bind(i64::from(n.get()))
            .fetch_optional(&mut *self.conn)
            .await?;
        r.as_ref().map(window_from_row).transpose()
    }

    async fn windows(&mut self, branch: i64) -> Result<Vec<WindowRow>> {
        sqlx::query("SELECT * FROM windows WHERE branch_id = $1 ORDER BY number")
            .bind(branch)
            .fetch_all(&mut *self.conn)
            .await?
            .iter()
            .map(window_from_row)
            .collect()
    }

    async fn update_window(&mut self, branch: i64, w: &WindowRow) -> Result<()> {
        sqlx::query(
            "UPDATE windows SET state = $1, pause_reason = $2, staff_user_id = $3, current_ticket = $4, \
             state_since = $5 WHERE branch_id = $6 AND number = $7",
        )
        .bind(state_str(w.state))
        .bind(&w.pause_reason)
        .bind(w.staff_user_id)
        .bind(w.current_ticket)
        .bind(w.state_since.map(ms))
        .bind(branch)
        .bind(i64::from(w.number.get()))
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn last_announced_open(&mut self, branch: i64) -> Result<Option<bool>> {
        if let Some((_, _, _, body)) = self
            .events
            .iter()
            .rev()
            .find(|e| e.0 == branch && e.3.contains("\"type\":\"services\""))
        {
            return Ok(Some(body.contains("\"open\":true")));
        }
        let body: Option<String> = sqlx::query_scalar(
            "SELECT body FROM stream_events WHERE branch_id = $1 AND body LIKE '%\"type\":\"services\"%' \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(branch)
        .fetch_optional(&mut *self.conn)
        .await?;
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
        sqlx::query(
            "INSERT INTO window_log (branch_id, window_number, user_id, kind, reason, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(branch)
        .bind(i64::from(window.get()))
        .bind(user)
        .bind(kind)
        .bind(reason)
        .bind(ms(at))
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn last_completed(&mut self, branch: i64, window: WindowNo) -> Result<Option<TicketRow>> {
        let r = sqlx::query(ticket_query(
            "WHERE branch_id = $1 AND window_number = $2 AND status = 'done' \
             ORDER BY done_at DESC, key DESC LIMIT 1",
        ))
        .bind(branch)
        .bind(i64::from(window.get()))
        .fetch_optional(&mut *self.conn)
        .await?;
        r.as_ref().map(ticket_from_row).transpose()
    }

    async fn insert_rating(&mut self, r: &NewRating) -> Result<()> {
        sqlx::query(
            "INSERT INTO ratings (ticket_key, branch_id, window_number, staff_user_id, score, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(r.ticket)
        .bind(r.branch_id)
        .bind(i64::from(r.window.get()))
        .bind(r.staff)
        .bind(i64::from(r.score))
        .bind(ms(r.at))
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn insert_complaint(&mut self, c: &NewComplaint) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO complaints (branch_id, ticket_key, window_number, staff_user_id, category, description, \
             contact_consent, contact, created_at, due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(c.branch_id)
        .bind(c.ticket)
        .bind(c.window.map(|w| i64::from(w.get())))
        .bind(c.staff)
        .bind(c.category)
        .bind(&c.description)
        .bind(c.consent)
        .bind(&c.contact)
        .bind(ms(c.created_at))
        .bind(ms(c.due_at))
        .fetch_one(&mut *self.conn)
        .await?)
    }

    async fn set_emergency(&mut self, branch: i64, message: Option<&str>) -> Result<()> {
        sqlx::query(
            "UPDATE branches SET emergency = $1, config_version = config_version + 1 WHERE id = $2",
        )
        .bind(message)
        .bind(branch)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn audit(&mut self, e: &AuditEntry<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (branch_id, user_id, at, action, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(e.branch)
        .bind(e.user)
        .bind(ms(e.at))
        .bind(e.action)
        .bind(&e.detail)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }
}

//! [`Tx`] for SQLite: the named reads and writes of one transaction.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::api::{Localized, TicketStatus, WindowState};
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};
use sqlx::{Row, Sqlite, Transaction};

use super::{ConfigCache, from_ms, ms};
use crate::queue::ServiceDef;
use crate::queue::policy::{Candidate, WindowSkills};
use crate::queue::schedule::{Exception, Period, Schedule, Weekly};
use crate::store::{
    BranchConfig, NewTicket, Result, StoreError, TicketEvent, TicketRow, Tx, WindowDef, WindowRow, window_state_from,
};

/// One SQLite transaction. Dropped without [`SqliteTx::commit`], it rolls back.
pub struct SqliteTx<'a> {
    pub(crate) tx: Transaction<'static, Sqlite>,
    cache: &'a ConfigCache,
}

impl<'a> SqliteTx<'a> {
    pub(crate) fn new(tx: Transaction<'static, Sqlite>, cache: &'a ConfigCache) -> Self {
        SqliteTx { tx, cache }
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

pub(crate) const TICKET_COLUMNS: &str = "key, id, branch_id, service_code, issued_service, number, number_seq, day, priority, status, \
     issued_at, queue_at, target_window, window_number, staff_user_id, first_called_at, last_called_at, serving_at, \
     done_at, estimate_ahead, estimate_secs, extended_reason, device_id";

fn opt_time(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.map(from_ms)
}

fn window_no(v: Option<i64>) -> Option<WindowNo> {
    v.and_then(|n| u32::try_from(n).ok()).and_then(|n| WindowNo::new(n).ok())
}

fn code(s: &str) -> Result<ServiceCode> {
    s.parse().map_err(|e: qhall_shared::ids::InvalidId| StoreError::Other(anyhow::anyhow!("bad service code in database: {e}")))
}

pub(crate) fn ticket_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<TicketRow> {
    let status: String = r.try_get("status")?;
    let number: String = r.try_get("number")?;
    let day: String = r.try_get("day")?;
    Ok(TicketRow {
        key: r.try_get("key")?,
        id: r.try_get("id")?,
        branch_id: r.try_get("branch_id")?,
        service: code(r.try_get("service_code")?)?,
        issued_service: code(r.try_get("issued_service")?)?,
        number: number.parse().map_err(|e: qhall_shared::ids::InvalidId| anyhow::anyhow!("{e}"))?,
        number_seq: r.try_get::<i64, _>("number_seq")? as u32,
        day: NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(anyhow::Error::from)?,
        priority: r.try_get::<i64, _>("priority")? != 0,
        status: status.parse().map_err(|e: String| anyhow::anyhow!(e))?,
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

fn window_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<WindowRow> {
    let n: i64 = r.try_get("number")?;
    let state: String = r.try_get("state")?;
    Ok(WindowRow {
        number: window_no(Some(n)).ok_or_else(|| anyhow::anyhow!("bad window number {n} in database"))?,
        name: r.try_get("name")?,
        state: window_state_from(&state),
        pause_reason: r.try_get("pause_reason")?,
        staff_user_id: r.try_get("staff_user_id")?,
        current_ticket: r.try_get("current_ticket")?,
        state_since: opt_time(r.try_get("state_since")?),
    })
}

fn periods(json: &str) -> Result<Vec<Period>> {
    Ok(serde_json::from_str(json).map_err(anyhow::Error::from)?)
}

/// Loads a branch's configuration (no cache).
pub(crate) async fn load_config(conn: &mut sqlx::SqliteConnection, branch: i64) -> Result<BranchConfig> {
    let b = sqlx::query("SELECT * FROM branches WHERE id = ?")
        .bind(branch)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("unknown_branch", format!("there is no branch {branch}")))?;
    let tz_name: String = b.try_get("time_zone")?;
    let tz: chrono_tz::Tz = tz_name.parse().map_err(|_| anyhow::anyhow!("bad time zone {tz_name:?} in database"))?;
    let weekly: String = b.try_get("weekly_hours")?;
    let weekly: Weekly = serde_json::from_str(&weekly).map_err(anyhow::Error::from)?;
    let mut exceptions = Vec::new();
    for r in sqlx::query("SELECT day, periods, note FROM hour_exceptions WHERE branch_id = ? ORDER BY day")
        .bind(branch)
        .fetch_all(&mut *conn)
        .await?
    {
        let day: String = r.try_get("day")?;
        exceptions.push(Exception {
            date: NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(anyhow::Error::from)?,
            periods: periods(r.try_get("periods")?)?,
            note: r.try_get("note")?,
        });
    }
    let mut services = Vec::new();
    for r in sqlx::query("SELECT * FROM services WHERE branch_id = ? ORDER BY sort, code").bind(branch).fetch_all(&mut *conn).await? {
        services.push(ServiceDef {
            code: code(r.try_get("code")?)?,
            name: Localized { zh: r.try_get("name_zh")?, zh_hant: r.try_get("name_zh_hant")?, en: r.try_get("name_en")? },
            guide: Localized { zh: r.try_get("guide_zh")?, zh_hant: r.try_get("guide_zh_hant")?, en: r.try_get("guide_en")? },
            target_wait_secs: r.try_get::<i64, _>("target_wait_secs")? as u32,
            first_number: r.try_get::<i64, _>("first_number")? as u32,
            last_number: r.try_get::<i64, _>("last_number")? as u32,
            priority_allowed: r.try_get::<i64, _>("priority_allowed")? != 0,
            default_service_secs: r.try_get::<i64, _>("default_service_secs")? as u32,
            enabled: r.try_get::<i64, _>("enabled")? != 0,
        });
    }
    let mut windows: Vec<WindowDef> = Vec::new();
    for r in sqlx::query("SELECT number, name FROM windows WHERE branch_id = ? ORDER BY number").bind(branch).fetch_all(&mut *conn).await? {
        let n: i64 = r.try_get("number")?;
        windows.push(WindowDef {
            number: window_no(Some(n)).ok_or_else(|| anyhow::anyhow!("bad window number {n}"))?,
            name: r.try_get("name")?,
            skills: WindowSkills { serves: Vec::new() },
        });
    }
    for r in sqlx::query("SELECT window_number, service_code, weight FROM window_services WHERE branch_id = ? ORDER BY window_number, rank")
        .bind(branch)
        .fetch_all(&mut *conn)
        .await?
    {
        let n = window_no(r.try_get("window_number")?);
        if let Some(w) = windows.iter_mut().find(|w| Some(w.number) == n) {
            w.skills.serves.push((code(r.try_get("service_code")?)?, r.try_get("weight")?));
        }
    }
    Ok(BranchConfig {
        id: branch,
        version: b.try_get("config_version")?,
        name: Localized { zh: b.try_get("name_zh")?, zh_hant: b.try_get("name_zh_hant")?, en: b.try_get("name_en")? },
        schedule: Schedule { tz, weekly, exceptions, cutoff_mins: b.try_get::<i64, _>("cutoff_mins")? as u16 },
        services,
        windows,
        emergency: b.try_get("emergency")?,
    })
}

impl Tx for SqliteTx<'_> {
    async fn config(&mut self, branch: i64) -> Result<Arc<BranchConfig>> {
        let version: Option<i64> = sqlx::query_scalar("SELECT config_version FROM branches WHERE id = ?")
            .bind(branch)
            .fetch_optional(&mut *self.tx)
            .await?;
        let version = version.ok_or_else(|| StoreError::not_found("unknown_branch", format!("there is no branch {branch}")))?;
        if let Some(c) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&branch) {
            if c.version == version {
                return Ok(c.clone());
            }
        }
        let cfg = Arc::new(load_config(&mut self.tx, branch).await?);
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(branch, cfg.clone());
        Ok(cfg)
    }

    async fn next_seq(&mut self, branch: i64) -> Result<u64> {
        let seq: i64 = sqlx::query_scalar("UPDATE branches SET event_seq = event_seq + 1 WHERE id = ? RETURNING event_seq")
            .bind(branch)
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(seq as u64)
    }

    async fn insert_stream_event(&mut self, branch: i64, seq: u64, at: DateTime<Utc>, body: &str) -> Result<()> {
        sqlx::query("INSERT INTO stream_events (branch_id, seq, at, body) VALUES (?, ?, ?, ?)")
            .bind(branch)
            .bind(seq as i64)
            .bind(ms(at))
            .bind(body)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn idempotent_ticket(&mut self, device_key: &str, key: &str) -> Result<Option<TicketRow>> {
        let q = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE key = (SELECT ticket_key FROM idempotency WHERE device_key = ? AND key = ?)"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(q)).bind(device_key).bind(key).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    async fn save_idempotency(&mut self, device_key: &str, key: &str, ticket: i64, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("INSERT INTO idempotency (device_key, key, ticket_key, created_at) VALUES (?, ?, ?, ?)")
            .bind(device_key)
            .bind(key)
            .bind(ticket)
            .bind(ms(now))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn last_number(&mut self, branch: i64, service: ServiceCode, day: NaiveDate) -> Result<Option<u32>> {
        let n: Option<i64> = sqlx::query_scalar("SELECT last_number FROM number_counters WHERE branch_id = ? AND service_code = ? AND day = ?")
            .bind(branch)
            .bind(service.as_str())
            .bind(day.to_string())
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(n.map(|n| n as u32))
    }

    async fn set_last_number(&mut self, branch: i64, service: ServiceCode, day: NaiveDate, n: u32) -> Result<()> {
        sqlx::query(
            "INSERT INTO number_counters (branch_id, service_code, day, last_number) VALUES (?, ?, ?, ?) \
             ON CONFLICT (branch_id, service_code, day) DO UPDATE SET last_number = excluded.last_number",
        )
        .bind(branch)
        .bind(service.as_str())
        .bind(day.to_string())
        .bind(i64::from(n))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn number_is_live(&mut self, branch: i64, service: ServiceCode, n: u32) -> Result<bool> {
        let hit: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM tickets WHERE branch_id = ? AND issued_service = ? AND number_seq = ? \
             AND status IN ('waiting', 'called', 'serving') LIMIT 1",
        )
        .bind(branch)
        .bind(service.as_str())
        .bind(i64::from(n))
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(hit.is_some())
    }

    async fn insert_ticket(&mut self, t: &NewTicket) -> Result<i64> {
        let key: i64 = sqlx::query_scalar(
            "INSERT INTO tickets (id, branch_id, service_code, issued_service, number, number_seq, day, priority, status, \
             issued_at, queue_at, estimate_ahead, estimate_secs, device_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?) RETURNING key",
        )
        .bind(&t.id)
        .bind(t.branch_id)
        .bind(t.service.as_str())
        .bind(t.service.as_str())
        .bind(t.number.as_str())
        .bind(i64::from(t.number_seq))
        .bind(t.day.to_string())
        .bind(i64::from(t.priority))
        .bind(ms(t.issued_at))
        .bind(ms(t.issued_at))
        .bind(i64::from(t.estimate_ahead))
        .bind(t.estimate_secs as i64)
        .bind(t.device_id)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(key)
    }

    async fn ticket(&mut self, key: i64) -> Result<Option<TicketRow>> {
        let q = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE key = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(q)).bind(key).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    async fn ticket_by_id(&mut self, id: &str) -> Result<Option<TicketRow>> {
        let q = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(q)).bind(id).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    async fn ticket_by_number(&mut self, branch: i64, number: &TicketNumber) -> Result<Option<TicketRow>> {
        // The live one if any, else the most recent.
        let q = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE branch_id = ? AND number = ? \
             ORDER BY status IN ('waiting', 'called', 'serving') DESC, key DESC LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(q)).bind(branch).bind(number.as_str()).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    async fn update_ticket(&mut self, t: &TicketRow, expected: TicketStatus) -> Result<()> {
        let done = sqlx::query(
            "UPDATE tickets SET service_code = ?, priority = ?, status = ?, queue_at = ?, target_window = ?, window_number = ?, \
             staff_user_id = ?, first_called_at = ?, last_called_at = ?, serving_at = ?, done_at = ?, extended_reason = ? \
             WHERE key = ? AND status = ?",
        )
        .bind(t.service.as_str())
        .bind(i64::from(t.priority))
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
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::conflict("ticket_changed", format!("{} was changed by someone else", t.number)));
        }
        Ok(())
    }

    async fn append_ticket_event(&mut self, e: &TicketEvent<'_>) -> Result<()> {
        sqlx::query("INSERT INTO ticket_events (ticket_key, at, kind, window_number, staff_user_id, detail) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(e.ticket)
            .bind(ms(e.at))
            .bind(e.kind)
            .bind(e.window.map(|w| i64::from(w.get())))
            .bind(e.staff)
            .bind(&e.detail)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn waiting_by_class(&mut self, branch: i64, service: ServiceCode) -> Result<(u32, u32)> {
        let rows = sqlx::query("SELECT priority, n FROM waiting_counts WHERE branch_id = ? AND service_code = ?")
            .bind(branch)
            .bind(service.as_str())
            .fetch_all(&mut *self.tx)
            .await?;
        let (mut p, mut n) = (0u32, 0u32);
        for r in rows {
            let count = r.try_get::<i64, _>("n")?.max(0) as u32;
            if r.try_get::<i64, _>("priority")? != 0 {
                p += count;
            } else {
                n += count;
            }
        }
        Ok((p, n))
    }

    async fn waiting_counts(&mut self, branch: i64) -> Result<Vec<(ServiceCode, u32)>> {
        let rows = sqlx::query("SELECT service_code, SUM(n) AS n FROM waiting_counts WHERE branch_id = ? GROUP BY service_code")
            .bind(branch)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter()
            .map(|r| Ok((code(r.try_get("service_code")?)?, r.try_get::<i64, _>("n")?.max(0) as u32)))
            .collect()
    }

    async fn count_ahead(&mut self, branch: i64, service: ServiceCode, priority: bool, queue_at: DateTime<Utc>, key: i64) -> Result<u32> {
        let q = ms(queue_at);
        let p = i64::from(priority);
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM tickets WHERE branch_id = ? AND service_code = ? AND status = 'waiting' \
             AND target_window IS NULL AND key != ? \
             AND (priority > ? OR (priority = ? AND (queue_at < ? OR (queue_at = ? AND key < ?))))",
        )
        .bind(branch)
        .bind(service.as_str())
        .bind(key)
        .bind(p)
        .bind(p)
        .bind(q)
        .bind(q)
        .bind(key)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(n as u32)
    }

    async fn earliest_queue_at(&mut self, branch: i64, service: ServiceCode) -> Result<Option<DateTime<Utc>>> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MIN(queue_at) FROM tickets WHERE branch_id = ? AND service_code = ? AND status = 'waiting'")
            .bind(branch)
            .bind(service.as_str())
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(v.map(from_ms))
    }

    async fn heads(&mut self, branch: i64, window: WindowNo, services: &[ServiceCode], cfg: &BranchConfig) -> Result<Vec<Candidate>> {
        let mut out = Vec::new();
        for s in services {
            for p in [1i64, 0] {
                let row = sqlx::query(
                    "SELECT key, queue_at FROM tickets \
                     WHERE branch_id = ? AND service_code = ? AND priority = ? AND status = 'waiting' AND target_window IS NULL \
                     ORDER BY queue_at, key LIMIT 1",
                )
                .bind(branch)
                .bind(s.as_str())
                .bind(p)
                .fetch_optional(&mut *self.tx)
                .await?;
                if let Some(r) = row {
                    out.push(Candidate {
                        key: r.try_get("key")?,
                        service: *s,
                        priority: p != 0,
                        queue_at: from_ms(r.try_get("queue_at")?),
                        target_wait_secs: cfg.target_secs(*s),
                    });
                }
            }
        }
        let row = sqlx::query(
            "SELECT key, service_code, priority, queue_at FROM tickets \
             WHERE branch_id = ? AND target_window = ? AND status = 'waiting' ORDER BY priority DESC, queue_at, key LIMIT 1",
        )
        .bind(branch)
        .bind(i64::from(window.get()))
        .fetch_optional(&mut *self.tx)
        .await?;
        if let Some(r) = row {
            let s = code(r.try_get("service_code")?)?;
            out.push(Candidate {
                key: r.try_get("key")?,
                service: s,
                priority: r.try_get::<i64, _>("priority")? != 0,
                queue_at: from_ms(r.try_get("queue_at")?),
                target_wait_secs: cfg.target_secs(s),
            });
        }
        Ok(out)
    }

    async fn recent_service_secs(&mut self, branch: i64, service: ServiceCode, since: DateTime<Utc>) -> Result<Option<f64>> {
        let v: Option<f64> = sqlx::query_scalar(
            "SELECT AVG(d) FROM (SELECT (done_at - serving_at) / 1000.0 AS d FROM tickets \
             WHERE branch_id = ? AND service_code = ? AND status = 'done' AND done_at >= ? AND serving_at IS NOT NULL \
             ORDER BY done_at DESC LIMIT 30)",
        )
        .bind(branch)
        .bind(service.as_str())
        .bind(ms(since))
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(v)
    }

    async fn window(&mut self, branch: i64, n: WindowNo) -> Result<Option<WindowRow>> {
        let row = sqlx::query("SELECT * FROM windows WHERE branch_id = ? AND number = ?")
            .bind(branch)
            .bind(i64::from(n.get()))
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(window_from_row).transpose()
    }

    async fn windows(&mut self, branch: i64) -> Result<Vec<WindowRow>> {
        let rows = sqlx::query("SELECT * FROM windows WHERE branch_id = ? ORDER BY number").bind(branch).fetch_all(&mut *self.tx).await?;
        rows.iter().map(window_from_row).collect()
    }

    async fn update_window(&mut self, branch: i64, w: &WindowRow) -> Result<()> {
        sqlx::query(
            "UPDATE windows SET state = ?, pause_reason = ?, staff_user_id = ?, current_ticket = ?, state_since = ? \
             WHERE branch_id = ? AND number = ?",
        )
        .bind(match w.state {
            WindowState::Open => "open",
            WindowState::Paused => "paused",
            WindowState::Closed => "closed",
        })
        .bind(&w.pause_reason)
        .bind(w.staff_user_id)
        .bind(w.current_ticket)
        .bind(w.state_since.map(ms))
        .bind(branch)
        .bind(i64::from(w.number.get()))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn log_window(&mut self, branch: i64, window: WindowNo, user: Option<i64>, kind: &str, reason: Option<&str>, at: DateTime<Utc>) -> Result<()> {
        sqlx::query("INSERT INTO window_log (branch_id, window_number, user_id, kind, reason, at) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(branch)
            .bind(i64::from(window.get()))
            .bind(user)
            .bind(kind)
            .bind(reason)
            .bind(ms(at))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

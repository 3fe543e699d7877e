//! Reads outside the write path (board snapshots, stream replay, statistics), and the writes
//! of people and devices that touch no ticket (sessions, users, device tokens).

use chrono::{DateTime, Utc};
use qhall_shared::api::{Localized, Notice};
use qhall_shared::events::Call;
use qhall_shared::{TicketNumber, WindowNo};
use sqlx::Row;

use super::tx::{TICKET_COLUMNS, ticket_from_row};
use super::{SqliteStore, from_ms, ms};
use crate::store::{BoardState, Principal, Result, Role, StoreError, TicketRow, Tx, UserRow};

impl SqliteStore {
    /// The visible state of the branch and the seq it corresponds to, from one snapshot.
    pub async fn board_state(&self, branch: i64, now: DateTime<Utc>) -> Result<BoardState> {
        let mut tx = self.begin_read().await?;
        let seq: i64 = sqlx::query_scalar("SELECT event_seq FROM branches WHERE id = ?")
            .bind(branch)
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or_else(|| StoreError::not_found("unknown_branch", "there is no such branch"))?;
        let mut recent_calls = Vec::new();
        let rows = sqlx::query(
            "SELECT t.number, t.service_code, e.window_number, e.at FROM ticket_events e JOIN tickets t ON t.key = e.ticket_key \
             WHERE t.branch_id = ? AND e.kind IN ('call', 'recall') AND e.window_number IS NOT NULL \
             ORDER BY e.id DESC LIMIT 40",
        )
        .bind(branch)
        .fetch_all(&mut *tx.tx)
        .await?;
        for r in rows {
            let number: String = r.try_get("number")?;
            let service: String = r.try_get("service_code")?;
            let window: i64 = r.try_get("window_number")?;
            let (Ok(number), Ok(service), Ok(window)) = (
                number.parse::<TicketNumber>(),
                service.parse(),
                WindowNo::new(u32::try_from(window).unwrap_or(0)),
            ) else {
                continue;
            };
            // One entry per ticket: its latest call.
            if recent_calls.iter().any(|c: &Call| c.number == number) {
                continue;
            }
            recent_calls.push(Call { number, service, window, at: from_ms(r.try_get("at")?) });
            if recent_calls.len() == 10 {
                break;
            }
        }
        let waiting = tx.waiting_counts(branch).await?;
        let mut windows = Vec::new();
        for w in tx.windows(branch).await? {
            let current = match w.current_ticket {
                Some(k) => tx.ticket(k).await?.filter(|t| t.status.is_live()).map(|t| t.number),
                None => None,
            };
            windows.push((w, current));
        }
        let notices = notices(&mut tx, branch, now).await?;
        Ok(BoardState { seq: seq as u64, recent_calls, waiting, windows, notices })
    }

    /// The stream messages after `seq`, or `None` if some of them are no longer kept.
    pub async fn events_since(&self, branch: i64, seq: u64, limit: u32) -> Result<Option<Vec<(u64, String)>>> {
        let mut tx = self.begin_read().await?;
        let (oldest, newest): (Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT MIN(seq), MAX(seq) FROM stream_events WHERE branch_id = ?").bind(branch).fetch_one(&mut *tx.tx).await?;
        let current: i64 = sqlx::query_scalar("SELECT event_seq FROM branches WHERE id = ?").bind(branch).fetch_one(&mut *tx.tx).await?;
        let seq = seq as i64;
        if seq > current {
            return Ok(None); // from another database, or the future: start afresh
        }
        if seq == current {
            return Ok(Some(Vec::new()));
        }
        match (oldest, newest) {
            (Some(o), Some(_)) if o <= seq + 1 => {}
            _ => return Ok(None),
        }
        let rows = sqlx::query("SELECT seq, body FROM stream_events WHERE branch_id = ? AND seq > ? ORDER BY seq LIMIT ?")
            .bind(branch)
            .bind(seq)
            .bind(i64::from(limit) + 1)
            .fetch_all(&mut *tx.tx)
            .await?;
        if rows.len() > limit as usize {
            return Ok(None);
        }
        rows.iter().map(|r| Ok((r.try_get::<i64, _>("seq")? as u64, r.try_get("body")?))).collect::<Result<Vec<_>>>().map(Some)
    }

    /// Deletes stream events older than `before`, keeping at least the newest `keep`.
    pub async fn prune_stream(&self, before: DateTime<Utc>, keep: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM stream_events WHERE at < ? AND seq <= (SELECT event_seq FROM branches b WHERE b.id = stream_events.branch_id) - ?",
        )
        .bind(ms(before))
        .bind(keep)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected())
    }

    /// Tickets issued in `[from, to)`, for statistics.
    pub async fn tickets_issued_between(&self, branch: i64, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<TicketRow>> {
        let q = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE branch_id = ? AND issued_at >= ? AND issued_at < ? ORDER BY key");
        let rows = sqlx::query(sqlx::AssertSqlSafe(q)).bind(branch).bind(ms(from)).bind(ms(to)).fetch_all(self.reader()).await?;
        rows.iter().map(ticket_from_row).collect()
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        let row = sqlx::query("SELECT id, branch_id, username, password_hash, role, active FROM users WHERE username = ?")
            .bind(username)
            .fetch_optional(self.reader())
            .await?;
        row.map(|r| {
            let role: String = r.try_get("role")?;
            Ok(UserRow {
                id: r.try_get("id")?,
                branch_id: r.try_get("branch_id")?,
                username: r.try_get("username")?,
                password_hash: r.try_get("password_hash")?,
                role: Role::parse(&role).ok_or_else(|| anyhow::anyhow!("bad role {role:?} in database"))?,
                active: r.try_get::<i64, _>("active")? != 0,
            })
        })
        .transpose()
    }

    pub async fn username(&self, user_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT username FROM users WHERE id = ?").bind(user_id).fetch_optional(self.reader()).await?)
    }

    /// The caller a token hash belongs to: a live session of an active user, or an active device.
    pub async fn principal(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Principal>> {
        let row = sqlx::query(
            "SELECT u.id, u.branch_id, u.role, u.username FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ? AND u.active = 1",
        )
        .bind(token_hash)
        .bind(ms(now))
        .fetch_optional(self.reader())
        .await?;
        if let Some(r) = row {
            let role: String = r.try_get("role")?;
            return Ok(Some(Principal {
                role: Role::parse(&role).ok_or_else(|| anyhow::anyhow!("bad role"))?,
                branch_id: r.try_get::<Option<i64>, _>("branch_id")?.unwrap_or(1),
                user_id: Some(r.try_get("id")?),
                device_id: None,
                username: Some(r.try_get("username")?),
            }));
        }
        let row = sqlx::query("SELECT id, branch_id, role FROM devices WHERE token_hash = ? AND active = 1")
            .bind(token_hash)
            .fetch_optional(self.reader())
            .await?;
        row.map(|r| {
            let role: String = r.try_get("role")?;
            Ok(Principal {
                role: Role::parse(&role).ok_or_else(|| anyhow::anyhow!("bad role"))?,
                branch_id: r.try_get("branch_id")?,
                user_id: None,
                device_id: Some(r.try_get("id")?),
                username: None,
            })
        })
        .transpose()
    }

    pub async fn insert_session(&self, token_hash: &str, user_id: i64, now: DateTime<Utc>, expires: DateTime<Utc>) -> Result<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(token_hash)
            .bind(user_id)
            .bind(ms(now))
            .bind(ms(expires))
            .execute(self.writer())
            .await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at < ?").bind(ms(now)).execute(self.writer()).await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?").bind(token_hash).execute(self.writer()).await?;
        Ok(())
    }

    pub async fn add_user(&self, branch: Option<i64>, username: &str, password_hash: &str, role: Role, now: DateTime<Utc>) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (branch_id, username, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(branch)
        .bind(username)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(ms(now))
        .fetch_one(self.writer())
        .await?;
        Ok(id)
    }

    pub async fn add_device(&self, branch: i64, name: &str, role: Role, token_hash: &str, now: DateTime<Utc>) -> Result<i64> {
        let id: i64 = sqlx::query_scalar("INSERT INTO devices (branch_id, name, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id")
            .bind(branch)
            .bind(name)
            .bind(role.as_str())
            .bind(token_hash)
            .bind(ms(now))
            .fetch_one(self.writer())
            .await?;
        Ok(id)
    }

    pub async fn set_device_state(&self, device: i64, printer: &str, detail: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE devices SET printer_state = ?, printer_detail = ?, last_seen_at = ? WHERE id = ?")
            .bind(printer)
            .bind(detail)
            .bind(ms(now))
            .bind(device)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(self.reader()).await?)
    }

    pub async fn branch_ids(&self) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM branches ORDER BY id").fetch_all(self.reader()).await?)
    }
}

/// Notices whose dates include `now`.
async fn notices(tx: &mut super::SqliteTx<'_>, branch: i64, now: DateTime<Utc>) -> Result<Vec<Notice>> {
    let rows = sqlx::query(
        "SELECT id, text_zh, text_zh_hant, text_en FROM notices WHERE branch_id = ? \
         AND (starts_at IS NULL OR starts_at <= ?) AND (ends_at IS NULL OR ends_at > ?) ORDER BY id",
    )
    .bind(branch)
    .bind(ms(now))
    .bind(ms(now))
    .fetch_all(&mut *tx.tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Notice {
                id: r.try_get("id")?,
                text: Localized { zh: r.try_get("text_zh")?, zh_hant: r.try_get("text_zh_hant")?, en: r.try_get("text_en")? },
            })
        })
        .collect()
}

impl SqliteStore {
    /// Waiting tickets of `services` (and those sent to `window`), priority first, oldest first.
    pub async fn waiting_list(&self, branch: i64, window: WindowNo, services: &[qhall_shared::ServiceCode], limit: u32) -> Result<Vec<TicketRow>> {
        let codes: Vec<String> = services.iter().map(|s| format!("'{}'", s.as_str())).collect();
        // Service codes are validated single letters, so inlining them is safe.
        let q = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE branch_id = ? AND status = 'waiting' \
             AND ((target_window IS NULL AND service_code IN ({})) OR target_window = ?) \
             ORDER BY priority DESC, queue_at, key LIMIT ?",
            if codes.is_empty() { "''".to_owned() } else { codes.join(",") }
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(q)).bind(branch).bind(i64::from(window.get())).bind(i64::from(limit)).fetch_all(self.reader()).await?;
        rows.iter().map(ticket_from_row).collect()
    }
}

//! Reads outside the write path (board snapshots, stream replay, statistics, logins), and the
//! writes of people and devices that touch no ticket: the same calls as the SQLite backend's.

use chrono::{DateTime, Utc};
use qhall_shared::api::{Localized, Notice};
use qhall_shared::events::Call;
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};
use sqlx::{AssertSqlSafe, Row};

use super::PgStore;
use super::tx::{PgTx, TICKET_COLUMNS, ticket_from_row};
use crate::store::sqlite::{from_ms, ms};
use crate::store::{BoardState, Principal, Result, Role, StoreError, TicketRow, Tx, UserRow};

impl PgStore {
    /// The visible state of the branch and the seq it corresponds to, from one snapshot.
    pub async fn board_state(&self, branch: i64, now: DateTime<Utc>) -> Result<BoardState> {
        let mut conn = self.begin_read().await?;
        let seq: i64 = sqlx::query_scalar("SELECT event_seq FROM branches WHERE id = $1")
            .bind(branch)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::not_found("unknown_branch", "there is no such branch"))?;
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT t.number, t.service_code, e.window_number, e.at FROM ticket_events e \
             JOIN tickets t ON t.key = e.ticket_key \
             WHERE t.branch_id = $1 AND e.kind IN ('call', 'recall') AND e.window_number IS NOT NULL \
             ORDER BY e.id DESC LIMIT 40",
        )
        .bind(branch)
        .fetch_all(&mut *conn)
        .await?;
        let mut recent_calls: Vec<Call> = Vec::new();
        for (number, service, window, at) in rows {
            let (Ok(number), Ok(service), Ok(window)) = (
                number.parse::<TicketNumber>(),
                service.parse(),
                WindowNo::new(u32::try_from(window).unwrap_or(0)),
            ) else {
                continue;
            };
            // One entry per ticket: its latest call.
            if recent_calls.iter().any(|c| c.number == number) {
                continue;
            }
            recent_calls.push(Call {
                number,
                service,
                window,
                at: from_ms(at),
            });
            if recent_calls.len() == 10 {
                break;
            }
        }
        let mut tx = PgTx::new(&mut conn, self.cache());
        let waiting = tx.waiting_counts(branch).await?;
        let mut windows = Vec::new();
        for w in tx.windows(branch).await? {
            let current = match w.current_ticket {
                Some(k) => tx
                    .ticket(k)
                    .await?
                    .filter(|t| t.status.is_live())
                    .map(|t| t.number),
                None => None,
            };
            windows.push((w, current));
        }
        let notices = sqlx::query(
            "SELECT id, text_zh, text_zh_hant, text_en FROM notices WHERE branch_id = $1 \
             AND (starts_at IS NULL OR starts_at <= $2) AND (ends_at IS NULL OR ends_at > $2) ORDER BY id",
        )
        .bind(branch)
        .bind(ms(now))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Notice {
                id: r.try_get("id")?,
                text: Localized {
                    zh: r.try_get("text_zh")?,
                    zh_hant: r.try_get("text_zh_hant")?,
                    en: r.try_get("text_en")?,
                },
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        conn.commit().await?;
        Ok(BoardState {
            seq: seq as u64,
            recent_calls,
            waiting,
            windows,
            notices,
        })
    }

    /// The stream messages after `seq`, or `None` if some of them are no longer kept.
    pub async fn events_since(
        &self,
        branch: i64,
        seq: u64,
        limit: u32,
    ) -> Result<Option<Vec<(u64, String)>>> {
        let mut conn = self.begin_read().await?;
        let current: i64 = sqlx::query_scalar("SELECT event_seq FROM branches WHERE id = $1")
            .bind(branch)
            .fetch_one(&mut *conn)
            .await?;
        let oldest: Option<i64> =
            sqlx::query_scalar("SELECT MIN(seq) FROM stream_events WHERE branch_id = $1")
                .bind(branch)
                .fetch_one(&mut *conn)
                .await?;
        let seq = seq as i64;
        if seq > current {
            return Ok(None); // from another database, or the future: start afresh
        }
        if seq == current {
            return Ok(Some(Vec::new()));
        }
        if oldest.is_none_or(|o| o > seq + 1) {
            return Ok(None);
        }
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, body FROM stream_events WHERE branch_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(branch)
        .bind(seq)
        .bind(i64::from(limit) + 1)
        .fetch_all(&mut *conn)
        .await?;
        conn.commit().await?;
        if rows.len() > limit as usize {
            return Ok(None);
        }
        Ok(Some(rows.into_iter().map(|(s, b)| (s as u64, b)).collect()))
    }

    /// Deletes stream events older than `before`, keeping at least the newest `keep`.
    pub async fn prune_stream(&self, before: DateTime<Utc>, keep: i64) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM stream_events s USING branches b WHERE b.id = s.branch_id \
             AND s.at < $1 AND s.seq <= b.event_seq - $2",
        )
        .bind(ms(before))
        .bind(keep)
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// Tickets issued in `[from, to)`, for statistics.
    pub async fn tickets_issued_between(
        &self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<TicketRow>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE branch_id = $1 AND issued_at >= $2 AND issued_at < $3 ORDER BY key"
        )))
        .bind(branch)
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(ticket_from_row)
        .collect()
    }

    /// Waiting tickets of `services` (and those sent to `window`), priority first, oldest first.
    pub async fn waiting_list(
        &self,
        branch: i64,
        window: WindowNo,
        services: &[ServiceCode],
        limit: u32,
    ) -> Result<Vec<TicketRow>> {
        let codes: Vec<String> = services.iter().map(|s| s.as_str().to_owned()).collect();
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE branch_id = $1 AND status = 'waiting' \
             AND ((target_window IS NULL AND service_code = ANY($2)) OR target_window = $3) \
             ORDER BY priority DESC, queue_at, key LIMIT $4"
        )))
        .bind(branch)
        .bind(codes)
        .bind(i64::from(window.get()))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(ticket_from_row)
        .collect()
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        let r = sqlx::query(
            "SELECT id, branch_id, username, password_hash, role, active FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = r else { return Ok(None) };
        let role: String = r.try_get("role")?;
        Ok(Some(UserRow {
            id: r.try_get("id")?,
            branch_id: r.try_get("branch_id")?,
            username: r.try_get("username")?,
            password_hash: r.try_get("password_hash")?,
            role: Role::parse(&role).unwrap_or(Role::Staff),
            active: r.try_get("active")?,
        }))
    }

    pub async fn username(&self, user_id: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT username FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// The caller a token hash belongs to: a live session of an active user, or an active device.
    pub async fn principal(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Principal>> {
        let person: Option<(i64, Option<i64>, String, String)> = sqlx::query_as(
            "SELECT u.id, u.branch_id, u.role, u.username FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active",
        )
        .bind(token_hash)
        .bind(ms(now))
        .fetch_optional(self.pool())
        .await?;
        if let Some((id, branch, role, username)) = person {
            return Ok(Some(Principal {
                role: Role::parse(&role).unwrap_or(Role::Staff),
                branch_id: branch.unwrap_or(1),
                user_id: Some(id),
                device_id: None,
                username: Some(username),
            }));
        }
        let device: Option<(i64, i64, String)> = sqlx::query_as(
            "SELECT id, branch_id, role FROM devices WHERE token_hash = $1 AND active",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        Ok(device.map(|(id, branch, role)| Principal {
            role: Role::parse(&role).unwrap_or(Role::Display),
            branch_id: branch,
            user_id: None,
            device_id: Some(id),
            username: None,
        }))
    }

    pub async fn insert_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(ms(now))
        .bind(ms(expires))
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(ms(now))
            .execute(&mut *conn)
            .await?;
        conn.commit().await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn add_user(
        &self,
        branch: Option<i64>,
        username: &str,
        password_hash: &str,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO users (branch_id, username, display_name, password_hash, role, created_at) \
             VALUES ($1, $2, $2, $3, $4, $5) RETURNING id",
        )
        .bind(branch)
        .bind(username)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(ms(now))
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn add_device(
        &self,
        branch: i64,
        name: &str,
        role: Role,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO devices (branch_id, name, role, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(branch)
        .bind(name)
        .bind(role.as_str())
        .bind(token_hash)
        .bind(ms(now))
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn set_device_state(
        &self,
        device: i64,
        printer: &str,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE devices SET printer_state = $1, printer_detail = $2, last_seen_at = $3 WHERE id = $4",
        )
        .bind(printer)
        .bind(detail)
        .bind(ms(now))
        .bind(device)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?)
    }

    pub async fn branch_ids(&self) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM branches ORDER BY id")
            .fetch_all(self.pool())
            .await?)
    }

    /// Runs `script` (several statements) in one transaction if the database has no branch yet;
    /// returns whether it did. Servers starting together seed once (an advisory lock).
    pub async fn seed_if_empty(&self, script: &str) -> Result<bool> {
        let mut conn = self.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(7235001)")
            .execute(&mut *conn)
            .await?;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM branches")
            .fetch_one(&mut *conn)
            .await?;
        if n > 0 {
            return Ok(false);
        }
        sqlx::raw_sql(AssertSqlSafe(script.to_owned()))
            .execute(&mut *conn)
            .await?;
        // Keys were given explicitly: move the identities past them.
        sqlx::raw_sql(super::RESET_IDENTITIES)
            .execute(&mut *conn)
            .await?;
        conn.commit().await?;
        Ok(true)
    }
}

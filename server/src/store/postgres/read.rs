//! Reads outside the write path (board snapshots, stream replay, statistics, logins), and the
//! writes of people and devices that touch no ticket: the same calls as the SQLite backend's.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures_util::TryStreamExt;
use qhall_shared::api::{Localized, Notice, WindowState};
use qhall_shared::events::Call;
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};
use sqlx::{AssertSqlSafe, Row};

use super::PgStore;
use super::tx::{PgTx, TICKET_COLUMNS, ticket_from_row};
use crate::forecast::Snapshot;
use crate::queue::policy::Candidate;
use crate::queue::report::ReportTicket;
use crate::store::export::{
    AuditRow, CSV_CHUNK_BYTES, EVENTS_CSV_HEADER, EventCsvRow, RawReportTicket, ReportRows,
};
use crate::store::sqlite::{from_ms, ms};
use crate::store::{
    BoardState, BranchConfig, Principal, Result, Role, StoreError, TicketRow, Tx, UserRow,
};

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
             WHERE t.branch_id = $1 AND e.kind IN ('call', 'call_out_of_order', 'recall') AND e.window_number IS NOT NULL \
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
        (role, window): (Role, Option<WindowNo>),
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO devices (branch_id, name, role, window_number, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(branch)
        .bind(name)
        .bind(role.as_str())
        .bind(window.map(|w| i64::from(w.get())))
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

/// The reads added with the forecast, the rating pad and the managers' reports.
impl PgStore {
    /// When the branch's latest ticket was issued, if it ever issued one.
    pub async fn last_issued_at(&self, branch: i64) -> Result<Option<DateTime<Utc>>> {
        let at: Option<i64> =
            sqlx::query_scalar("SELECT MAX(issued_at) FROM tickets WHERE branch_id = $1")
                .bind(branch)
                .fetch_one(self.pool())
                .await?;
        Ok(at.map(from_ms))
    }

    /// See [`crate::store::Store::forecast_snapshot`].
    pub async fn forecast_snapshot(&self, branch: i64, now: DateTime<Utc>) -> Result<Snapshot> {
        let mut conn = self.begin_read().await?;
        let mut tx = PgTx::new(&mut conn, self.cache());
        let config = tx.config(branch).await?;
        let seq: i64 = sqlx::query_scalar("SELECT event_seq FROM branches WHERE id = $1")
            .bind(branch)
            .fetch_optional(&mut *tx.conn)
            .await?
            .ok_or_else(|| StoreError::not_found("unknown_branch", "there is no such branch"))?;
        let rows: Vec<(i64, String, bool, i64)> = sqlx::query_as(
            "SELECT key, service_code, priority, queue_at FROM tickets WHERE branch_id = $1 AND status = 'waiting'",
        )
        .bind(branch)
        .fetch_all(&mut *tx.conn)
        .await?;
        let mut waiting = Vec::new();
        for (key, service, priority, queue_at) in rows {
            let Ok(service) = service.parse::<ServiceCode>() else {
                continue;
            };
            waiting.push(Candidate {
                key,
                service,
                priority,
                queue_at: from_ms(queue_at),
                target_wait_secs: config.target_secs(service),
            });
        }
        let mut open_windows = Vec::new();
        for w in tx.windows(branch).await? {
            if w.state != WindowState::Open {
                continue;
            }
            let serving = match w.current_ticket {
                Some(k) => tx
                    .ticket(k)
                    .await?
                    .filter(|t| t.status.is_live())
                    .and_then(|t| Some((t.service, t.serving_at.or(t.last_called_at)?))),
                None => None,
            };
            open_windows.push((w.number, serving));
        }
        let since = now - chrono::Duration::hours(crate::hall::RECENT_SERVICE_WINDOW_HOURS);
        let hour_ago = ms(now - chrono::Duration::hours(1));
        let mut recent = Vec::new();
        for s in &config.services {
            let mean = tx.recent_service_secs(branch, s.code, since).await?;
            let issued: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM tickets WHERE branch_id = $1 AND issued_service = $2 AND issued_at >= $3",
            )
            .bind(branch)
            .bind(s.code.as_str())
            .bind(hour_ago)
            .fetch_one(&mut *tx.conn)
            .await?;
            recent.push((s.code, mean, u32::try_from(issued).unwrap_or(u32::MAX)));
        }
        conn.commit().await?;
        Ok(Snapshot {
            config,
            seq: seq as u64,
            waiting,
            open_windows,
            recent,
        })
    }

    /// Whether the ticket has a rating.
    pub async fn is_rated(&self, ticket_key: i64) -> Result<bool> {
        Ok(
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM ratings WHERE ticket_key = $1)")
                .bind(ticket_key)
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Tickets issued in `[from, to)`, as the report tables need them, in issue order (so the
    /// figures, sums of floating-point numbers, come out identical on both backends).
    pub async fn report_tickets(
        &self,
        cfg: &BranchConfig,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ReportTicket>> {
        let mut build = ReportRows::new(cfg);
        let mut rows = sqlx::query(
            "SELECT t.issued_service, t.window_number, t.staff_user_id, t.status, t.issued_at, \
             t.first_called_at, t.serving_at, t.done_at, t.estimate_secs, r.score \
             FROM tickets t LEFT JOIN ratings r ON r.ticket_key = t.key \
             WHERE t.branch_id = $1 AND t.issued_at >= $2 AND t.issued_at < $3 ORDER BY t.key",
        )
        .bind(cfg.id)
        .bind(ms(from))
        .bind(ms(to))
        .fetch(self.pool());
        let mut out = Vec::new();
        while let Some(r) = rows.try_next().await? {
            let (service, status): (String, String) = (r.try_get(0)?, r.try_get(3)?);
            let raw = RawReportTicket {
                issued_service: &service,
                window: r.try_get(1)?,
                staff: r.try_get(2)?,
                status: &status,
                issued_at: r.try_get(4)?,
                first_called_at: r.try_get(5)?,
                serving_at: r.try_get(6)?,
                done_at: r.try_get(7)?,
                estimate_secs: r.try_get(8)?,
                rating: r
                    .try_get::<Option<i64>, _>(9)?
                    .and_then(|v| u8::try_from(v).ok()),
            };
            out.extend(build.ticket(&raw));
        }
        Ok(out)
    }

    /// See [`crate::store::Store::audit_log`].
    pub async fn audit_log(
        &self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<AuditRow>> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT a.at, COALESCE(u.username, ''), a.action, a.detail FROM audit_log a \
             LEFT JOIN users u ON u.id = a.user_id \
             WHERE a.branch_id = $1 AND a.at >= $2 AND a.at < $3 ORDER BY a.id DESC LIMIT 5000",
        )
        .bind(branch)
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(at, user, action, detail)| AuditRow::from_stored(at, user, action, &detail))
            .collect())
    }

    /// Display names of the branch's people, for the staff table.
    pub async fn staff_names(&self, branch: i64) -> Result<HashMap<i64, String>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, CASE WHEN display_name = '' THEN username ELSE display_name END \
             FROM users WHERE branch_id = $1 OR branch_id IS NULL",
        )
        .bind(branch)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// The ticket events of tickets issued in `[from, to)` as CSV (header first), streamed
    /// from the database in chunks of about 64 KiB.
    pub fn ticket_events_csv(
        &self,
        branch: i64,
        tz: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        chunks: tokio::sync::mpsc::Sender<String>,
    ) {
        let pool = self.pool().clone();
        tokio::spawn(async move {
            let result: Result<()> = async {
                let mut rows = sqlx::query(
                    "SELECT e.at, t.day::TEXT, t.number, t.issued_service, t.service_code, e.kind, \
                     e.window_number, COALESCE(u.username, ''), COALESCE(e.detail, '') \
                     FROM tickets t JOIN ticket_events e ON e.ticket_key = t.key \
                     LEFT JOIN users u ON u.id = e.staff_user_id \
                     WHERE t.branch_id = $1 AND t.issued_at >= $2 AND t.issued_at < $3 \
                     ORDER BY t.key, e.id",
                )
                .bind(branch)
                .bind(ms(from))
                .bind(ms(to))
                .fetch(&pool);
                let mut buf = String::from(EVENTS_CSV_HEADER);
                while let Some(r) = rows.try_next().await? {
                    EventCsvRow {
                        at: r.try_get(0)?,
                        day: r.try_get(1)?,
                        number: r.try_get(2)?,
                        issued_service: r.try_get(3)?,
                        service: r.try_get(4)?,
                        kind: r.try_get(5)?,
                        window: r.try_get(6)?,
                        staff: r.try_get(7)?,
                        detail: r.try_get(8)?,
                    }
                    .push(&mut buf, tz);
                    if buf.len() >= CSV_CHUNK_BYTES
                        && chunks.send(std::mem::take(&mut buf)).await.is_err()
                    {
                        return Ok(()); // the client went away
                    }
                }
                if !buf.is_empty() {
                    let _ = chunks.send(buf).await;
                }
                Ok(())
            }
            .await;
            if let Err(e) = result {
                tracing::error!(error = %e, "ticket events export failed");
            }
        });
    }
}

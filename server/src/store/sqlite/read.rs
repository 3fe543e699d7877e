//! Reads outside the write path (board snapshots, stream replay, statistics, logins), and the
//! writes of people and devices that touch no ticket (sessions, users, device tokens).

use chrono::{DateTime, Utc};
use qhall_shared::api::{Localized, Notice};
use qhall_shared::events::Call;
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};
use rusqlite::{OptionalExtension, params};

use super::tx::{TICKET_COLUMNS, ticket_from_row};
use super::{SqliteStore, SqliteTx, from_ms, ms, run_now};
use crate::forecast::Snapshot;
use crate::queue::policy::Candidate;
use crate::store::{BoardState, Principal, Result, Role, StoreError, TicketRow, Tx, UserRow};
use qhall_shared::api::WindowState;

impl SqliteStore {
    /// The visible state of the branch and the seq it corresponds to, from one snapshot.
    pub async fn board_state(&self, branch: i64, now: DateTime<Utc>) -> Result<BoardState> {
        self.read(move |tx| {
            let seq: i64 = tx
                .conn
                .prepare_cached("SELECT event_seq FROM branches WHERE id = ?")?
                .query_row([branch], |r| r.get(0))
                .optional()?
                .ok_or_else(|| StoreError::not_found("unknown_branch", "there is no such branch"))?;
            let mut st = tx.conn.prepare_cached(
                "SELECT t.number, t.service_code, e.window_number, e.at FROM ticket_events e JOIN tickets t ON t.key = e.ticket_key \
                 WHERE t.branch_id = ? AND e.kind IN ('call', 'call_out_of_order', 'recall') AND e.window_number IS NOT NULL \
                 ORDER BY e.id DESC LIMIT 40",
            )?;
            let rows = st.query_map([branch], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?)))?;
            let mut recent_calls: Vec<Call> = Vec::new();
            for row in rows {
                let (number, service, window, at) = row?;
                let (Ok(number), Ok(service), Ok(window)) =
                    (number.parse::<TicketNumber>(), service.parse(), WindowNo::new(u32::try_from(window).unwrap_or(0)))
                else {
                    continue;
                };
                // One entry per ticket: its latest call.
                if recent_calls.iter().any(|c| c.number == number) {
                    continue;
                }
                recent_calls.push(Call { number, service, window, at: from_ms(at) });
                if recent_calls.len() == 10 {
                    break;
                }
            }
            let waiting = run_now(tx.waiting_counts(branch))?;
            let mut windows = Vec::new();
            for w in run_now(tx.windows(branch))? {
                let current = match w.current_ticket {
                    Some(k) => run_now(tx.ticket(k))?.filter(|t| t.status.is_live()).map(|t| t.number),
                    None => None,
                };
                windows.push((w, current));
            }
            let notices = notices(tx, branch, now)?;
            Ok(BoardState { seq: seq as u64, recent_calls, waiting, windows, notices })
        })
        .await
    }

    /// When the branch's latest ticket was issued, if it ever issued one.
    pub async fn last_issued_at(&self, branch: i64) -> Result<Option<DateTime<Utc>>> {
        self.read(move |tx| {
            let at: Option<i64> = tx
                .conn
                .prepare_cached("SELECT MAX(issued_at) FROM tickets WHERE branch_id = ?")?
                .query_row([branch], |r| r.get(0))?;
            Ok(at.map(from_ms))
        })
        .await
    }

    /// See [`crate::store::Store::forecast_snapshot`].
    pub async fn forecast_snapshot(&self, branch: i64, now: DateTime<Utc>) -> Result<Snapshot> {
        self.read(move |tx| {
            let config = run_now(tx.config(branch))?;
            let seq: i64 = tx
                .conn
                .prepare_cached("SELECT event_seq FROM branches WHERE id = ?")?
                .query_row([branch], |r| r.get(0))
                .optional()?
                .ok_or_else(|| StoreError::not_found("unknown_branch", "there is no such branch"))?;
            let mut st = tx.conn.prepare_cached(
                "SELECT key, service_code, priority, queue_at FROM tickets WHERE branch_id = ? AND status = 'waiting'",
            )?;
            let rows = st.query_map([branch], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?, r.get::<_, i64>(3)?))
            })?;
            let mut waiting = Vec::new();
            for row in rows {
                let (key, service, priority, queue_at) = row?;
                let Ok(service) = service.parse::<ServiceCode>() else { continue };
                waiting.push(Candidate {
                    key,
                    service,
                    priority,
                    queue_at: from_ms(queue_at),
                    target_wait_secs: config.target_secs(service),
                });
            }
            let mut open_windows = Vec::new();
            for w in run_now(tx.windows(branch))? {
                if w.state != WindowState::Open {
                    continue;
                }
                let serving = match w.current_ticket {
                    Some(k) => run_now(tx.ticket(k))?
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
                let mean = run_now(tx.recent_service_secs(branch, s.code, since))?;
                let issued: i64 = tx
                    .conn
                    .prepare_cached("SELECT COUNT(*) FROM tickets WHERE branch_id = ? AND issued_service = ? AND issued_at >= ?")?
                    .query_row(params![branch, s.code.as_str(), hour_ago], |r| r.get(0))?;
                recent.push((s.code, mean, u32::try_from(issued).unwrap_or(u32::MAX)));
            }
            Ok(Snapshot { config, seq: seq as u64, waiting, open_windows, recent })
        })
        .await
    }

    /// The stream messages after `seq`, or `None` if some of them are no longer kept.
    pub async fn events_since(
        &self,
        branch: i64,
        seq: u64,
        limit: u32,
    ) -> Result<Option<Vec<(u64, String)>>> {
        self.read(move |tx| {
            let current: i64 = tx.conn.prepare_cached("SELECT event_seq FROM branches WHERE id = ?")?.query_row([branch], |r| r.get(0))?;
            let oldest: Option<i64> =
                tx.conn.prepare_cached("SELECT MIN(seq) FROM stream_events WHERE branch_id = ?")?.query_row([branch], |r| r.get(0))?;
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
            let mut st = tx.conn.prepare_cached("SELECT seq, body FROM stream_events WHERE branch_id = ? AND seq > ? ORDER BY seq LIMIT ?")?;
            let rows: Vec<(u64, String)> = st
                .query_map(params![branch, seq, i64::from(limit) + 1], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            if rows.len() > limit as usize {
                return Ok(None);
            }
            Ok(Some(rows))
        })
        .await
    }

    /// Deletes stream events older than `before`, keeping at least the newest `keep`.
    pub async fn prune_stream(&self, before: DateTime<Utc>, keep: i64) -> Result<u64> {
        self.write(move |tx, _| {
            let n = tx.conn.execute(
                "DELETE FROM stream_events WHERE at < ? AND seq <= (SELECT event_seq FROM branches b WHERE b.id = stream_events.branch_id) - ?",
                params![ms(before), keep],
            )?;
            Ok(n as u64)
        })
        .await
    }

    /// Tickets issued in `[from, to)`, for statistics.
    pub async fn tickets_issued_between(
        &self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<TicketRow>> {
        self.read(move |tx| {
            let q = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE branch_id = ? AND issued_at >= ? AND issued_at < ? ORDER BY key");
            let mut st = tx.conn.prepare_cached(&q)?;
            let rows = st.query_map(params![branch, ms(from), ms(to)], ticket_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// Waiting tickets of `services` (and those sent to `window`), priority first, oldest first.
    pub async fn waiting_list(
        &self,
        branch: i64,
        window: WindowNo,
        services: &[ServiceCode],
        limit: u32,
    ) -> Result<Vec<TicketRow>> {
        let codes: String = services.iter().map(ServiceCode::as_str).collect();
        self.read(move |tx| {
            let q = format!(
                "SELECT {TICKET_COLUMNS} FROM tickets WHERE branch_id = ? AND status = 'waiting' \
                 AND ((target_window IS NULL AND instr(?, service_code) > 0) OR target_window = ?) \
                 ORDER BY priority DESC, queue_at, key LIMIT ?"
            );
            let mut st = tx.conn.prepare_cached(&q)?;
            let rows = st.query_map(
                params![branch, codes, i64::from(window.get()), i64::from(limit)],
                ticket_from_row,
            )?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// Whether the ticket has a rating.
    pub async fn is_rated(&self, ticket_key: i64) -> Result<bool> {
        self.read(move |tx| {
            Ok(tx
                .conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM ratings WHERE ticket_key = ?)")?
                .query_row([ticket_key], |r| r.get(0))?)
        })
        .await
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        let username = username.to_owned();
        self.read(move |tx| {
            Ok(tx
                .conn
                .prepare_cached("SELECT id, branch_id, username, password_hash, role, active FROM users WHERE username = ?")?
                .query_row([username], |r| {
                    let role: String = r.get(4)?;
                    Ok(UserRow {
                        id: r.get(0)?,
                        branch_id: r.get(1)?,
                        username: r.get(2)?,
                        password_hash: r.get(3)?,
                        role: Role::parse(&role).unwrap_or(Role::Staff),
                        active: r.get::<_, i64>(5)? != 0,
                    })
                })
                .optional()?)
        })
        .await
    }

    pub async fn username(&self, user_id: i64) -> Result<Option<String>> {
        self.read(move |tx| {
            Ok(tx
                .conn
                .prepare_cached("SELECT username FROM users WHERE id = ?")?
                .query_row([user_id], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    /// The caller a token hash belongs to: a live session of an active user, or an active device.
    pub async fn principal(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Principal>> {
        let hash = token_hash.to_owned();
        self.read(move |tx| {
            let person = tx
                .conn
                .prepare_cached(
                    "SELECT u.id, u.branch_id, u.role, u.username FROM sessions s JOIN users u ON u.id = s.user_id \
                     WHERE s.token_hash = ? AND s.expires_at > ? AND u.active = 1",
                )?
                .query_row(params![hash, ms(now)], |r| {
                    let role: String = r.get(2)?;
                    Ok(Principal {
                        role: Role::parse(&role).unwrap_or(Role::Staff),
                        branch_id: r.get::<_, Option<i64>>(1)?.unwrap_or(1),
                        user_id: Some(r.get(0)?),
                        device_id: None,
                        username: Some(r.get(3)?),
                    })
                })
                .optional()?;
            if person.is_some() {
                return Ok(person);
            }
            Ok(tx
                .conn
                .prepare_cached("SELECT id, branch_id, role FROM devices WHERE token_hash = ? AND active = 1")?
                .query_row([hash], |r| {
                    let role: String = r.get(2)?;
                    Ok(Principal { role: Role::parse(&role).unwrap_or(Role::Display), branch_id: r.get(1)?, user_id: None, device_id: Some(r.get(0)?), username: None })
                })
                .optional()?)
        })
        .await
    }

    pub async fn insert_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        let hash = token_hash.to_owned();
        self.write(move |tx, _| {
            tx.conn
                .prepare_cached("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")?
                .execute(params![hash, user_id, ms(now), ms(expires)])?;
            tx.conn.prepare_cached("DELETE FROM sessions WHERE expires_at < ?")?.execute([ms(now)])?;
            Ok(())
        })
        .await
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        let hash = token_hash.to_owned();
        self.write(move |tx, _| {
            Ok(tx
                .conn
                .execute("DELETE FROM sessions WHERE token_hash = ?", [hash])
                .map(|_| ())?)
        })
        .await
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
        self.write(move |tx, _| {
            Ok(tx.conn.query_row(
                "INSERT INTO users (branch_id, username, display_name, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                params![branch, username, username, hash, role.as_str(), ms(now)],
                |r| r.get(0),
            )?)
        })
        .await
    }

    pub async fn add_device(
        &self,
        branch: i64,
        name: &str,
        (role, window): (Role, Option<WindowNo>),
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let (name, hash) = (name.to_owned(), token_hash.to_owned());
        self.write(move |tx, _| {
            Ok(tx.conn.query_row(
                "INSERT INTO devices (branch_id, name, role, window_number, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                params![branch, name, role.as_str(), window.map(WindowNo::get), hash, ms(now)],
                |r| r.get(0),
            )?)
        })
        .await
    }

    pub async fn set_device_state(
        &self,
        device: i64,
        printer: &str,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (printer, detail) = (printer.to_owned(), detail.map(str::to_owned));
        self.write(move |tx, _| {
            tx.conn.execute(
                "UPDATE devices SET printer_state = ?, printer_detail = ?, last_seen_at = ? WHERE id = ?",
                params![printer, detail, ms(now), device],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn count_users(&self) -> Result<i64> {
        self.read(|tx| {
            Ok(tx
                .conn
                .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?)
        })
        .await
    }

    /// Runs `script` (several statements) in one transaction if the database has no branch yet;
    /// returns whether it did.
    pub async fn seed_if_empty(&self, script: &str) -> Result<bool> {
        let script = script.to_owned();
        self.write(move |tx, _| {
            if tx
                .conn
                .query_row("SELECT COUNT(*) FROM branches", [], |r| r.get::<_, i64>(0))?
                > 0
            {
                return Ok(false);
            }
            tx.conn.execute_batch(&script)?;
            Ok(true)
        })
        .await
    }

    pub async fn branch_ids(&self) -> Result<Vec<i64>> {
        self.read(|tx| {
            let mut st = tx
                .conn
                .prepare_cached("SELECT id FROM branches ORDER BY id")?;
            let ids = st
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(ids)
        })
        .await
    }
}

/// Notices whose dates include `now`.
fn notices(tx: &SqliteTx<'_>, branch: i64, now: DateTime<Utc>) -> Result<Vec<Notice>> {
    let mut st = tx.conn.prepare_cached(
        "SELECT id, text_zh, text_zh_hant, text_en FROM notices WHERE branch_id = ? \
         AND (starts_at IS NULL OR starts_at <= ?) AND (ends_at IS NULL OR ends_at > ?) ORDER BY id",
    )?;
    let rows = st.query_map(params![branch, ms(now), ms(now)], |r| {
        Ok(Notice {
            id: r.get(0)?,
            text: Localized {
                zh: r.get(1)?,
                zh_hant: r.get(2)?,
                en: r.get(3)?,
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

//! The reads outside the hall's operations — the board's snapshot, the forecast's input
//! ([`Snapshot`]), stream replay, statistics — written once over [`Tx`], for either backend's
//! read snapshot.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use qhall_shared::api::{Localized, Notice};
use qhall_shared::events::Call;
use qhall_shared::{ServiceCode, WindowNo};

use super::export::AuditRow;
use super::read_cache::Stamp;
use super::sql::{Arg, Sql};
use super::tx::{ticket_from, ticket_query};
use super::{BoardState, BranchConfig, Result, TicketRow, Tx};
use crate::queue::IdentityCheck;
use crate::queue::oversight::{IdentityCount, KINDS, OversightEvent};
use crate::queue::policy::Candidate;

/// How many recent calls the board is given, one per ticket (its latest).
const RECENT_CALLS: usize = 10;

/// The visible state of the branch and the seq it corresponds to.
pub async fn board_state(tx: &mut impl Tx, branch: i64, now: DateTime<Utc>) -> Result<BoardState> {
    let seq = tx.seq(branch).await?;
    // The branch's last 40 calls, read from its most recently called tickets (`tickets_called`)
    // rather than from the calls of every branch, whose count grows with all their history
    // (3 ms on PostgreSQL after the city bench's one-minute peak). A ticket's latest call is
    // at its `last_called_at`, so the tickets of the last 40 calls are among the 40 called
    // last; twice that leaves room for servers whose clocks differ a little. `e.kind || ''`
    // keeps PostgreSQL off the index of every branch's calls (`ticket_events_calls`), which it
    // otherwise walks whole to find these tickets' (2.2–3.8 ms against 0.7 ms, growing with
    // the history): each ticket's calls come from its own index (`ticket_events_ticket`).
    let calls = tx
        .rows(
            "SELECT t.number, t.service_code, e.window_number, e.at FROM \
             (SELECT key, number, service_code FROM tickets \
              WHERE branch_id = ? AND last_called_at IS NOT NULL \
              ORDER BY last_called_at DESC LIMIT 80) t \
             JOIN ticket_events e ON e.ticket_key = t.key \
             WHERE e.kind || '' IN ('call', 'call_out_of_order', 'recall') \
             AND e.window_number IS NOT NULL ORDER BY e.id DESC LIMIT 40",
            args![branch],
            |r| {
                Ok(Call {
                    number: r.number("number")?,
                    service: r.service("service_code")?,
                    window: r.window("window_number")?,
                    at: r.time("at")?,
                })
            },
        )
        .await?;
    let mut recent_calls: Vec<Call> = Vec::new();
    for c in calls {
        if !recent_calls.iter().any(|r| r.number == c.number) {
            recent_calls.push(c);
        }
        if recent_calls.len() == RECENT_CALLS {
            break;
        }
    }
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
    let notices = crate::hall::notices::current(tx, branch, now).await?;
    Ok(BoardState {
        seq,
        recent_calls,
        waiting,
        windows,
        notices,
    })
}

/// The branch's stream seq and configuration version as committed now.
pub async fn stamp(tx: &mut impl Sql, branch: i64) -> Result<Stamp> {
    tx.rows(
        "SELECT event_seq, config_version FROM branches WHERE id = ?",
        args![branch],
        |r| {
            Ok(Stamp {
                seq: r.int("event_seq")?.max(0) as u64,
                config_version: r.int("config_version")?,
            })
        },
    )
    .await?
    .into_iter()
    .next()
    .ok_or_else(|| super::tx::unknown_branch(branch))
}

/// The managers' notices whose dates include `now` (the exceptions' are added by
/// [`crate::hall::notices::current`]).
pub async fn stored_notices(
    tx: &mut impl Sql,
    branch: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Notice>> {
    tx.rows(
        "SELECT id, text_zh, text_zh_hant, text_en FROM notices WHERE branch_id = ? \
         AND (starts_at IS NULL OR starts_at <= ?) AND (ends_at IS NULL OR ends_at > ?) ORDER BY id",
        args![branch, now, now],
        |r| {
            Ok(Notice {
                id: r.int("id")?,
                text: Localized {
                    zh: r.text("text_zh")?,
                    zh_hant: r.text("text_zh_hant")?,
                    en: r.text("text_en")?,
                },
            })
        },
    )
    .await
}

/// The stream messages after `seq` (at most `limit`), or `None` if some of them are no
/// longer kept (or `seq` is from another database).
pub async fn events_since(
    tx: &mut impl Tx,
    branch: i64,
    seq: u64,
    limit: u32,
) -> Result<Option<Vec<(u64, String)>>> {
    let current = tx.seq(branch).await?;
    if seq > current {
        return Ok(None); // from another database, or the future: start afresh
    }
    if seq == current {
        return Ok(Some(Vec::new()));
    }
    let oldest = tx
        .int(
            "SELECT MIN(seq) FROM stream_events WHERE branch_id = ?",
            args![branch],
        )
        .await?;
    if oldest.is_none_or(|o| o > seq as i64 + 1) {
        return Ok(None);
    }
    let rows = tx
        .rows(
            "SELECT seq, body FROM stream_events WHERE branch_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            args![branch, seq, limit + 1],
            |r| Ok((r.int("seq")?.max(0) as u64, r.text("body")?)),
        )
        .await?;
    Ok((rows.len() <= limit as usize).then_some(rows))
}

/// Deletes stream events older than `before`, keeping at least each branch's newest `keep`.
pub async fn prune_stream(tx: &mut impl Sql, before: DateTime<Utc>, keep: i64) -> Result<u64> {
    tx.execute(
        "DELETE FROM stream_events WHERE at < ? AND seq <= \
         (SELECT event_seq FROM branches b WHERE b.id = stream_events.branch_id) - ?",
        args![before, keep],
    )
    .await
}

/// Tickets issued in `[from, to)`, for statistics.
pub async fn tickets_issued_between(
    tx: &mut impl Sql,
    branch: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<TicketRow>> {
    tx.rows(
        ticket_query!("WHERE branch_id = ? AND issued_at >= ? AND issued_at < ? ORDER BY key"),
        args![branch, from, to],
        ticket_from,
    )
    .await
}

/// Waiting tickets of `services` (and those sent to `window`), priority first, oldest first.
pub async fn waiting_list(
    tx: &mut impl Sql,
    branch: i64,
    window: WindowNo,
    services: &[ServiceCode],
    limit: u32,
) -> Result<Vec<TicketRow>> {
    // One placeholder per service; an empty list matches nothing.
    let marks = vec!["?"; services.len().max(1)].join(", ");
    let sql = format!(
        "{} WHERE branch_id = ? AND status = 'waiting' \
         AND ((target_window IS NULL AND service_code IN ({marks})) OR target_window = ?) \
         ORDER BY priority DESC, queue_at, key LIMIT ?",
        ticket_query!("")
    );
    let mut args: Vec<Arg> = vec![branch.into()];
    args.extend(services.iter().map(Arg::from));
    if services.is_empty() {
        args.push("".into());
    }
    args.extend([Arg::from(window), Arg::from(limit)]);
    tx.rows(&sql, &args, ticket_from).await
}

/// Whether the ticket has a rating.
pub async fn is_rated(tx: &mut impl Sql, ticket: i64) -> Result<bool> {
    Ok(tx
        .int(
            "SELECT COUNT(*) FROM ratings WHERE ticket_key = ?",
            args![ticket],
        )
        .await?
        .unwrap_or(0)
        > 0)
}

/// When the branch's latest ticket was issued, if it ever issued one.
pub async fn last_issued_at(tx: &mut impl Sql, branch: i64) -> Result<Option<DateTime<Utc>>> {
    let at = tx
        .int(
            "SELECT MAX(issued_at) FROM tickets WHERE branch_id = ?",
            args![branch],
        )
        .await?;
    Ok(at.map(super::sql::from_ms))
}

pub async fn branch_ids(tx: &mut impl Sql) -> Result<Vec<i64>> {
    tx.rows("SELECT id FROM branches ORDER BY id", &[], |r| r.int("id"))
        .await
}

/// The audit log of the branch in `[from, to)`, newest first (at most 5,000 entries).
pub async fn audit_log(
    tx: &mut impl Sql,
    branch: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<AuditRow>> {
    tx.rows(
        "SELECT a.at, COALESCE(u.username, '') AS username, a.action, a.detail FROM audit_log a \
         LEFT JOIN users u ON u.id = a.user_id \
         WHERE a.branch_id = ? AND a.at >= ? AND a.at < ? ORDER BY a.id DESC LIMIT 5000",
        args![branch, from, to],
        |r| {
            Ok(AuditRow::from_stored(
                r.int("at")?,
                r.text("username")?,
                r.text("action")?,
                &r.text("detail")?,
            ))
        },
    )
    .await
}

/// A window's service in progress: the service and when it started.
pub type Serving = (ServiceCode, DateTime<Utc>);

/// What the forecast needs to read from the database, in one snapshot.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub config: Arc<BranchConfig>,
    pub seq: u64,
    /// Every waiting ticket.
    pub waiting: Vec<Candidate>,
    /// Open windows: their number and the service in progress with its start, if any.
    pub open_windows: Vec<(qhall_shared::WindowNo, Option<Serving>)>,
    /// Per service: recent mean service seconds (if any were served), walk-in tickets issued in
    /// the last hour.
    pub recent: Vec<(ServiceCode, Option<f64>, u32)>,
    /// Today's bookings still to check in (service, slot start), and the share that checks in
    /// ([`crate::hall::appointments::still_to_come`]).
    pub bookings: Vec<crate::sim::ForecastBooking>,
    pub booking_show: f64,
}

/// Reads what the forecast needs — the configuration, every waiting ticket, the open windows
/// with their services in progress, and per service the recent mean service time and the
/// tickets issued in the last hour — inside one read snapshot `tx`.
pub async fn read_snapshot(tx: &mut impl Tx, branch: i64, now: DateTime<Utc>) -> Result<Snapshot> {
    let config = tx.config(branch).await?;
    let seq = tx.seq(branch).await?;
    let waiting = tx
        .rows(
            "SELECT key, service_code, priority, queue_at, appointment_at FROM tickets \
             WHERE branch_id = ? AND status = 'waiting'",
            args![branch],
            |r| {
                let service = r.service("service_code")?;
                Ok(Candidate {
                    key: r.int("key")?,
                    service,
                    priority: r.flag("priority")?,
                    queue_at: r.time("queue_at")?,
                    target_wait_secs: config.target_secs(service),
                    appointment: r.opt_time("appointment_at")?.is_some(),
                })
            },
        )
        .await?;
    // Each open window with its live ticket, if any, in one statement (not one per window).
    // `t.branch_id` bounds the tickets side to the branch: without it PostgreSQL, planning from
    // statistics taken while `tickets` was nearly empty, hashed every live ticket of every branch
    // (~1.7 ms a forecast in the city bench instead of ~0.2).
    let open_windows = tx
        .rows(
            "SELECT w.number, t.service_code, t.serving_at, t.last_called_at FROM windows w \
             LEFT JOIN tickets t ON t.key = w.current_ticket AND t.branch_id = ? \
             AND t.status IN ('waiting', 'called', 'serving') \
             WHERE w.branch_id = ? AND w.state = 'open' ORDER BY w.number",
            args![branch, branch],
            |r| {
                let started = r.opt_time("serving_at")?.or(r.opt_time("last_called_at")?);
                let serving = match (r.opt_text("service_code")?, started) {
                    (Some(_), Some(at)) => Some((r.service("service_code")?, at)),
                    _ => None,
                };
                Ok((r.window("number")?, serving))
            },
        )
        .await?;
    let since = now - chrono::Duration::hours(crate::hall::RECENT_SERVICE_WINDOW_HOURS);
    let hour_ago = now - chrono::Duration::hours(1);
    // The walk-ins of the last hour, per service, in one statement.
    let issued: Vec<(String, i64)> = tx
        .rows(
            "SELECT issued_service, COUNT(*) AS n FROM tickets WHERE branch_id = ? AND issued_at >= ? \
             AND appointment_at IS NULL GROUP BY issued_service",
            args![branch, hour_ago],
            |r| Ok((r.text("issued_service")?, r.int("n")?)),
        )
        .await?;
    let mut recent = Vec::new();
    for s in &config.services {
        let mean = tx.recent_service_secs(branch, s.code, since).await?;
        let issued = issued
            .iter()
            .find(|(code, _)| code == s.code.as_str())
            .map_or(0, |(_, n)| *n);
        recent.push((s.code, mean, u32::try_from(issued).unwrap_or(u32::MAX)));
    }
    let (bookings, booking_show) =
        crate::hall::appointments::still_to_come(tx, &config, now).await?;
    Ok(Snapshot {
        config,
        seq,
        waiting,
        open_windows,
        recent,
        bookings,
        booking_show,
    })
}

/// What the report's oversight tables ([`crate::queue::oversight`]) read of the tickets issued
/// in `[from, to)`: their events of the oversight kinds, and per service with the identity step
/// and person, completed tickets and those checked.
pub async fn oversight_rows(
    tx: &mut impl Sql,
    cfg: &BranchConfig,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(Vec<OversightEvent>, Vec<IdentityCount>)> {
    oversight_rows_of(tx, cfg.id, &identity_services(cfg), from, to).await
}

/// The services whose tickets have the identity step (their checks are counted).
pub fn identity_services(cfg: &BranchConfig) -> Vec<ServiceCode> {
    cfg.services
        .iter()
        .filter(|s| s.identity_check != IdentityCheck::Off)
        .map(|s| s.code)
        .collect()
}

/// [`oversight_rows`] of branch `branch`, counting identity checks for `checked`.
pub async fn oversight_rows_of(
    tx: &mut impl Sql,
    branch: i64,
    checked: &[ServiceCode],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(Vec<OversightEvent>, Vec<IdentityCount>)> {
    // Events come after their ticket's issue; the bound on `e.at` lets the partial index on
    // the oversight kinds (migration 0022) find them without reading every ticket's history.
    // The unary `+` on the tickets' columns keeps SQLite from starting at the tickets of the
    // range (a year's 700,000, each then looked up in the events: 350 ms) instead of at the
    // few events (measured with the report bench); PostgreSQL plans it the same either way.
    let events_to = to + chrono::Duration::days(OVERSIGHT_EVENT_LAG_DAYS);
    // The kinds as literals, in the index's order, so SQLite sees the partial index applies.
    let kinds = KINDS.map(|k| format!("'{k}'")).join(", ");
    let sql = format!(
        "SELECT e.kind, e.staff_user_id, e.detail, t.issued_service, t.service_code, t.day, \
         CASE WHEN t.status = 'done' THEN t.done_at - t.serving_at END AS service_ms \
         FROM ticket_events e JOIN tickets t ON t.key = e.ticket_key \
         WHERE e.kind IN ({kinds}) AND e.at >= ? AND e.at < ? \
         AND +t.branch_id = ? AND +t.issued_at >= ? AND +t.issued_at < ?"
    );
    let args = args![from, events_to, branch, from, to];
    let events = tx
        .rows(&sql, args, |r| {
            Ok(OversightEvent {
                kind: r.text("kind")?,
                staff: r.opt_int("staff_user_id")?,
                detail: r.opt_text("detail")?,
                issued_service: r.service("issued_service")?,
                service: r.service("service_code")?,
                day: r.day("day")?,
                service_ms: r.opt_int("service_ms")?.map(|ms| ms.max(0)),
            })
        })
        .await?;
    if checked.is_empty() {
        return Ok((events, Vec::new()));
    }
    let marks = vec!["?"; checked.len()].join(", ");
    let sql = format!(
        "SELECT service_code, staff_user_id, COUNT(*) AS completed, \
         COUNT(identity_checked_at) AS checked FROM tickets \
         WHERE branch_id = ? AND issued_at >= ? AND issued_at < ? AND status = 'done' \
         AND service_code IN ({marks}) GROUP BY service_code, staff_user_id \
         ORDER BY service_code, staff_user_id"
    );
    let mut args: Vec<Arg> = vec![branch.into(), from.into(), to.into()];
    args.extend(checked.iter().map(Arg::from));
    let identity = tx
        .rows(&sql, &args, |r| {
            Ok(IdentityCount {
                service: r.service("service_code")?,
                staff: r.opt_int("staff_user_id")?,
                completed: r.int("completed")?.max(0) as u64,
                checked: r.int("checked")?.max(0) as u64,
            })
        })
        .await?;
    Ok((events, identity))
}

/// How long after a ticket's issue its oversight events are looked for, in days (a carried-over
/// ticket may be transferred or closed days later).
const OVERSIGHT_EVENT_LAG_DAYS: i64 = 31;

/// The pads' ratings of the branch's tickets issued in `[from, to)`: how many, and the sum of
/// their scores.
pub async fn ratings_between(
    tx: &mut impl Sql,
    branch: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(u64, u64)> {
    let row = tx
        .row(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(r.score), 0) AS BIGINT) AS total \
             FROM ratings r JOIN tickets t ON t.key = r.ticket_key \
             WHERE t.branch_id = ? AND t.issued_at >= ? AND t.issued_at < ?",
            args![branch, from, to],
            |r| Ok((r.int("n")?, r.int("total")?)),
        )
        .await?
        .unwrap_or((0, 0));
    Ok((row.0.max(0) as u64, row.1.max(0) as u64))
}

/// The branch's complaints not resolved yet.
pub async fn open_complaints(tx: &mut impl Sql, branch: i64) -> Result<u64> {
    let n = tx
        .int(
            "SELECT COUNT(*) FROM complaints WHERE branch_id = ? AND status <> 'resolved'",
            args![branch],
        )
        .await?;
    Ok(n.unwrap_or(0).max(0) as u64)
}

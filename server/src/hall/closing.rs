//! Closing the day: at the end of the last open period of each branch-local day, the tickets
//! still waiting or called are cancelled with reason `closed`, so no one is called tomorrow
//! from yesterday's line, and the day's statistics count them as not served.
//!
//! A ticket being served stays with its window until completed. A day is closed once: the
//! check runs in the maintenance loop (every 15 s, and at start, so a server that was down at
//! closing catches up), under the branch's lock, and a `closed_days` row says it happened —
//! two servers on one PostgreSQL close a day once.

use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

use super::{By, Outbox, emit_waiting, step};
use crate::queue::lifecycle::Action;
use crate::store::{AuditEntry, Result, Tx};

/// Closes the latest day whose closing has passed, if it is not closed yet; returns the day
/// and how many tickets were cancelled, or `None` when there was nothing to close.
pub async fn close_day<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    branch: i64,
    now: DateTime<Utc>,
) -> Result<Option<(chrono::NaiveDate, u32)>> {
    tx.lock_branch(branch).await?;
    let cfg = tx.config(branch).await?;
    let Some((day, closing)) = cfg.schedule.last_closing(now) else {
        return Ok(None); // open around the clock
    };
    if tx.day_closed(branch, day).await? {
        return Ok(None);
    }
    let detail = serde_json::json!({ "actor": "closing", "reason": "closed" }).to_string();
    let mut lines = BTreeSet::new();
    let mut cancelled = 0u32;
    for mut t in tx.unserved_before(branch, closing).await? {
        let window = t.window;
        step(
            tx,
            &mut t,
            Action::CloseDay,
            By {
                window,
                staff: None,
            },
            Some(detail.clone()),
            now,
            |t| {
                t.done_at = Some(now);
                Ok(())
            },
        )
        .await?;
        // A called ticket leaves its window free for tomorrow's first call.
        if let Some(n) = window
            && let Some(mut w) = tx.window(branch, n).await?
            && w.current_ticket == Some(t.key)
        {
            w.current_ticket = None;
            tx.update_window(branch, &w).await?;
        }
        lines.insert(t.service);
        cancelled += 1;
    }
    for service in lines {
        emit_waiting(tx, out, branch, service, now).await?;
    }
    tx.mark_day_closed(branch, day, now, cancelled).await?;
    tx.audit(&AuditEntry {
        branch,
        user: None,
        at: now,
        action: "close_day",
        detail: serde_json::json!({ "day": day, "cancelled": cancelled }).to_string(),
    })
    .await?;
    Ok(Some((day, cancelled)))
}

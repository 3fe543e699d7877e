//! Closing the day: at the end of the last open period of each branch-local day, the tickets
//! still waiting or called are cancelled with reason `closed`, so no one is called tomorrow
//! from yesterday's line, and the day's statistics count them as not served.
//!
//! - A ticket being served stays with its window until completed.
//! - A service with `carry_over` on keeps its waiting tickets (with their issue time, so they
//!   are the first called when the hall opens again); its called tickets are closed like any.
//! - A grace after closing (`closing_grace_mins`, default 30), windows still signed in are
//!   signed out, the window log saying "closing" (attendance shows "signed out by closing",
//!   never early or late). A window still serving is left until its ticket is completed and
//!   signed out at the next check; once the hall has opened again nothing is signed out.
//!
//! - The day's bookings never checked in (nor marked late) become no-shows.
//!
//! A day is closed once: the check runs in the maintenance loop (every 15 s, and at start, so a
//! server that was down at closing catches up), under the branch's lock, and a `closed_days`
//! row says it happened — two servers on one PostgreSQL close a day once.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use qhall_shared::api::TicketStatus;
use std::collections::BTreeSet;

use super::window::{Logged, apply};
use super::{By, Outbox, emit_waiting, step};
use crate::queue::lifecycle::Action;
use crate::queue::window::WindowStep;
use crate::store::{AuditEntry, Result, Tx};

/// The window log's reason on a sign-out made by closing.
pub const SIGNED_OUT_BY_CLOSING: &str = "closing";

/// What one check did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed {
    /// The branch-local day whose closing it was.
    pub day: NaiveDate,
    /// Tickets cancelled (reason `closed`) by this check.
    pub cancelled: u32,
    /// Windows signed out by this check.
    pub signed_out: u32,
}

/// Closes the latest day whose closing has passed, if it is not closed yet, and signs out the
/// windows still signed in a grace later; `None` when there was nothing to do.
pub async fn close_day<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    branch: i64,
    now: DateTime<Utc>,
) -> Result<Option<Closed>> {
    tx.lock_branch(branch).await?;
    let cfg = tx.config(branch).await?;
    let Some((day, closing)) = cfg.schedule.last_closing(now) else {
        return Ok(None); // open around the clock
    };
    let signed_out_already = tx.closed_day(branch, day).await?;
    let mut done = Closed {
        day,
        cancelled: 0,
        signed_out: 0,
    };
    if signed_out_already.is_none() {
        done.cancelled = cancel_leftovers(tx, out, &cfg, closing, now).await?;
        super::appointments::mark_no_shows(tx, branch, day).await?;
        tx.mark_day_closed(branch, day, now, done.cancelled).await?;
        audit(tx, branch, now, "close_day", day, done.cancelled).await?;
    }
    let grace = Duration::minutes(i64::from(cfg.closing_grace_mins));
    if signed_out_already != Some(true)
        && now >= closing + grace
        && !cfg.schedule.reopened_since(closing, now)
    {
        let (n, all) = sign_out_windows(tx, out, branch, now).await?;
        done.signed_out = n;
        if all {
            tx.mark_day_signed_out(branch, day, now).await?;
        }
        if n > 0 {
            audit(tx, branch, now, "close_day.sign_out", day, n).await?;
        }
    }
    let acted = signed_out_already.is_none() || done.signed_out > 0;
    Ok(acted.then_some(done))
}

/// Cancels the branch's tickets still waiting or called that were issued before `closing`,
/// keeping the waiting ones of services that carry over; returns how many.
async fn cancel_leftovers<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    cfg: &crate::store::BranchConfig,
    closing: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u32> {
    let branch = cfg.id;
    let detail = serde_json::json!({ "actor": "closing", "reason": "closed" }).to_string();
    let mut lines = BTreeSet::new();
    let mut cancelled = 0u32;
    for mut t in tx.unserved_before(branch, closing).await? {
        let carried = cfg.service(t.service).is_some_and(|s| s.carry_over);
        if carried && t.status == TicketStatus::Waiting {
            continue;
        }
        let window = t.window;
        let by = By {
            window,
            staff: None,
        };
        step(
            tx,
            &mut t,
            Action::CloseDay,
            by,
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
        super::messages::ended(tx, &t).await?;
        lines.insert(t.service);
        cancelled += 1;
    }
    for service in lines {
        emit_waiting(tx, out, branch, service, now).await?;
    }
    Ok(cancelled)
}

/// Signs out every window still signed in, except one whose ticket is being served; returns
/// how many were signed out and whether that was all of them.
async fn sign_out_windows<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    branch: i64,
    now: DateTime<Utc>,
) -> Result<(u32, bool)> {
    let (mut n, mut all) = (0, true);
    for mut w in tx.windows(branch).await? {
        if w.staff_user_id.is_none() {
            continue;
        }
        if let Some(k) = w.current_ticket
            && tx
                .ticket(k)
                .await?
                .is_some_and(|t| t.status == TicketStatus::Serving)
        {
            all = false;
            continue;
        }
        w.staff_user_id = None;
        w.current_ticket = None;
        let by = Logged {
            user: None,
            reason: Some(SIGNED_OUT_BY_CLOSING),
        };
        apply(tx, out, branch, &mut w, WindowStep::SignOut, by, now).await?;
        n += 1;
    }
    Ok((n, all))
}

async fn audit<T: Tx>(
    tx: &mut T,
    branch: i64,
    now: DateTime<Utc>,
    action: &'static str,
    day: NaiveDate,
    count: u32,
) -> Result<()> {
    let what = if action == "close_day" {
        "cancelled"
    } else {
        "signed_out"
    };
    tx.audit(&AuditEntry {
        branch,
        user: None,
        at: now,
        action,
        detail: serde_json::json!({ "day": day, what: count }).to_string(),
    })
    .await
}

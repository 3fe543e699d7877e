//! What customers say about the service: the rating on the window's pad (one per ticket, only
//! for the ticket just completed there, only for a few minutes), and complaints taken at a
//! window by the person signed in there (the register itself is [`crate::hall::complaints`]).

use chrono::{DateTime, Duration, Utc};
use qhall_shared::api::TicketStatus;
use qhall_shared::{TicketNumber, WindowNo};

use crate::store::{NewRating, Result, StoreError, TicketRow, Tx};

/// How long after its completion a ticket can still be rated on the window's pad: long enough
/// to tap a choice, short enough that the next customer never rates someone else's service.
pub const RATING_OPEN_MINUTES: i64 = 10;

/// Whether a completed ticket may still be rated at `now` (the rating itself is checked too).
pub fn rating_open(t: &TicketRow, now: DateTime<Utc>) -> bool {
    t.status == TicketStatus::Done
        && t.done_at
            .is_some_and(|d| now - d <= Duration::minutes(RATING_OPEN_MINUTES))
}

/// Records the customer's rating (1–5) of `number`, which must be the ticket completed last at
/// window `n`, within [`RATING_OPEN_MINUTES`]; one rating per ticket.
pub async fn rate<T: Tx>(
    tx: &mut T,
    branch: i64,
    n: WindowNo,
    number: &TicketNumber,
    score: u8,
    now: DateTime<Utc>,
) -> Result<TicketRow> {
    if !(1..=5).contains(&score) {
        return Err(StoreError::invalid(
            "invalid_score",
            "a rating is 1 (very dissatisfied) to 5 (very satisfied)",
        ));
    }
    tx.lock_branch(branch).await?;
    let cfg = tx.config(branch).await?;
    if cfg.window(n).is_none() {
        return Err(StoreError::not_found(
            "unknown_window",
            format!("there is no window {n}"),
        ));
    }
    let Some(t) = tx
        .last_completed(branch, n)
        .await?
        .filter(|t| rating_open(t, now))
    else {
        return Err(StoreError::conflict(
            "nothing_to_rate",
            format!("window {n} has no ticket to rate now"),
        ));
    };
    if t.number != *number {
        return Err(StoreError::conflict(
            "not_last_completed",
            format!("only the ticket completed last at window {n} can be rated"),
        ));
    }
    tx.insert_rating(&NewRating {
        ticket: t.key,
        branch_id: branch,
        window: n,
        staff: t.staff_user_id,
        score,
        at: now,
    })
    .await
    .map_err(|e| match e {
        StoreError::Conflict { .. } => StoreError::conflict(
            "already_rated",
            format!("{} has already been rated", t.number),
        ),
        e => e,
    })?;
    Ok(t)
}

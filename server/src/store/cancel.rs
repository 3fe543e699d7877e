//! Cancelling a waiting ticket, by one of the two who may:
//!
//! - the **customer**, holding the ticket's secret id (the tracking page's "give up my place");
//! - **staff at a window**, by the ticket's number, with a reason: only at the window they are
//!   signed in to (managers: any window of their branch) and only for a ticket that window
//!   serves, the same rule as calling it.
//!
//! Either way the ticket's history records who did it — `{"actor":"customer"}`, or the staff
//! member with `{"actor":"staff","reason":…}` — in the same transaction, so `events.csv` shows
//! every cancellation and the statistics count it as cancelled.

use chrono::{DateTime, Utc};
use qhall_shared::events::Event;
use qhall_shared::{TicketNumber, WindowNo};

use super::ops::{Outbox, operable_window, served_here};
use super::{Principal, Result, StoreError, TicketEvent, TicketRow, Tx};
use crate::queue::lifecycle::{self, Action};

/// The longest reason staff may give, in characters.
const MAX_REASON_CHARS: usize = 200;

/// The customer cancels the ticket whose id they hold.
pub async fn by_customer<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    ticket_id: &str,
    now: DateTime<Utc>,
) -> Result<TicketRow> {
    let unknown = || StoreError::not_found("unknown_ticket", "there is no such ticket");
    let branch = tx
        .ticket_by_id(ticket_id)
        .await?
        .ok_or_else(unknown)?
        .branch_id;
    tx.lock_branch(branch).await?;
    // Read again under the branch's lock: another server may have called it meanwhile.
    let t = tx.ticket_by_id(ticket_id).await?.ok_or_else(unknown)?;
    let detail = serde_json::json!({ "actor": "customer" });
    cancel(tx, out, t, None, None, &detail, now).await
}

/// Staff at window `n` cancel the waiting ticket `number` (a customer who left, a duplicate),
/// saying why.
pub async fn at_window<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    n: WindowNo,
    number: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<TicketRow> {
    let number: TicketNumber = number
        .parse()
        .map_err(|e: qhall_shared::ids::InvalidId| StoreError::invalid("invalid_number", e.0))?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(StoreError::invalid(
            "invalid_reason",
            format!("give a reason of 1 to {MAX_REASON_CHARS} characters"),
        ));
    }
    tx.lock_branch(who.branch_id).await?;
    operable_window(tx, who, n).await?;
    let t = tx
        .ticket_by_number(who.branch_id, &number)
        .await?
        .ok_or_else(|| {
            StoreError::not_found("unknown_ticket", format!("there is no ticket {number}"))
        })?;
    served_here(tx, who.branch_id, n, &t).await?;
    let detail = serde_json::json!({ "actor": "staff", "reason": reason });
    cancel(tx, out, t, Some(n), who.user_id, &detail, now).await
}

async fn cancel<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    mut t: TicketRow,
    window: Option<WindowNo>,
    staff: Option<i64>,
    detail: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<TicketRow> {
    let before = t.status;
    t.status = lifecycle::next(t.status, Action::Cancel)?;
    t.done_at = Some(now);
    tx.update_ticket(&t, before).await?;
    tx.append_ticket_event(&TicketEvent {
        ticket: t.key,
        at: now,
        kind: "cancel",
        window,
        staff,
        detail: Some(detail.to_string()),
    })
    .await?;
    let waiting = tx.waiting_count(t.branch_id, t.service).await?;
    out.emit(
        tx,
        t.branch_id,
        now,
        Event::Waiting {
            service: t.service,
            waiting,
        },
    )
    .await?;
    Ok(t)
}

//! Acting on a ticket. At a window, on its current ticket: recall, start, complete, no-show,
//! extend (with a reason), transfer to another service's line or to one window (keeping its
//! place). On the tickets in line: reinstating a no-show who came back, and cancelling — by the
//! customer holding the ticket's secret id (the tracking page's "give up my place"), or by
//! staff at a window that serves it, with a reason. Every one is a [`step`] of the ticket's
//! lifecycle, so its history says who did what where, and `events.csv` and the statistics see it.

use chrono::{DateTime, Duration, Utc};
use qhall_shared::events::Event;
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};

use super::access::{operable_window, ticket_served_here};
use super::call::call_of;
use super::{By, Outbox, emit_waiting, step};
use crate::queue::IdentityCheck;
use crate::queue::lifecycle::Action;
use crate::store::{Principal, Result, StoreError, TicketRow, Tx, WindowRow};

/// An action on the window's current ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowAction {
    Recall,
    Start,
    Complete,
    NoShow,
    Extend(String),
    /// The customer's identity document was checked (the service's identity step).
    CheckIdentity,
}

/// Recall, start, complete, mark absent or extend the window's current ticket.
pub async fn act<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    n: WindowNo,
    action: WindowAction,
    now: DateTime<Utc>,
) -> Result<TicketRow> {
    tx.lock_branch(who.branch_id).await?;
    let mut w = operable_window(tx, who, n).await?;
    let mut t = current_ticket(tx, &w).await?;
    let identity = tx
        .config(who.branch_id)
        .await?
        .service(t.service)
        .map_or(IdentityCheck::Off, |s| s.identity_check);
    let (kind, detail) = match &action {
        WindowAction::Recall => (Action::Recall, None),
        WindowAction::Start => (Action::Start, None),
        WindowAction::Complete => {
            if identity == IdentityCheck::Required && t.identity_checked_at.is_none() {
                return Err(StoreError::conflict(
                    "identity_not_checked",
                    format!("{} needs its identity check before completing", t.number),
                ));
            }
            (Action::Complete, None)
        }
        WindowAction::CheckIdentity => {
            if identity == IdentityCheck::Off {
                return Err(StoreError::conflict(
                    "identity_check_off",
                    format!("service {} has no identity step", t.service),
                ));
            }
            if t.identity_checked_at.is_some() {
                return Err(StoreError::conflict(
                    "identity_already_checked",
                    format!("{}'s identity was already checked", t.number),
                ));
            }
            (Action::CheckIdentity, None)
        }
        WindowAction::NoShow => (Action::NoShow, None),
        WindowAction::Extend(reason) => (
            Action::Extend,
            Some(serde_json::json!({ "reason": reason.trim() }).to_string()),
        ),
    };
    let by = By {
        window: Some(n),
        staff: who.user_id,
    };
    step(tx, &mut t, kind, by, detail, now, |t| {
        match &action {
            WindowAction::Recall => t.last_called_at = Some(now),
            WindowAction::Start => t.serving_at = Some(now),
            WindowAction::Complete | WindowAction::NoShow => t.done_at = Some(now),
            WindowAction::Extend(reason) => {
                t.extended_reason = Some(super::reason(reason)?.to_owned());
            }
            WindowAction::CheckIdentity => {
                t.identity_checked_by = who.user_id;
                t.identity_checked_at = Some(now);
            }
        }
        Ok(())
    })
    .await?;
    match action {
        WindowAction::Recall => {
            let call = call_of(&t, n, now);
            out.emit(tx, who.branch_id, now, Event::Recalled { call })
                .await?;
        }
        WindowAction::Complete | WindowAction::NoShow => {
            release_window(tx, out, who.branch_id, &mut w, &t, now).await?;
        }
        WindowAction::Start | WindowAction::Extend(_) | WindowAction::CheckIdentity => {}
    }
    Ok(t)
}

async fn current_ticket<T: Tx>(tx: &mut T, w: &WindowRow) -> Result<TicketRow> {
    let none = || {
        StoreError::conflict(
            "no_current_ticket",
            format!("window {} has no current ticket: call one first", w.number),
        )
    };
    let k = w.current_ticket.ok_or_else(none)?;
    let t = tx.ticket(k).await?.ok_or_else(none)?;
    Ok(t)
}

/// The window is done with `t` (completed, absent or transferred away): free it and tell boards.
async fn release_window<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    branch: i64,
    w: &mut WindowRow,
    t: &TicketRow,
    now: DateTime<Utc>,
) -> Result<()> {
    w.current_ticket = None;
    tx.update_window(branch, w).await?;
    out.emit(
        tx,
        branch,
        now,
        Event::Cleared {
            window: w.number,
            number: t.number.clone(),
        },
    )
    .await
}

/// Where a ticket is transferred to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferTo {
    Service(ServiceCode),
    Window(WindowNo),
}

/// Sends the window's current ticket to another service's line or to one window, keeping its
/// place (original issue time): it is not sent to the back.
pub async fn transfer<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    n: WindowNo,
    to: TransferTo,
    now: DateTime<Utc>,
) -> Result<TicketRow> {
    tx.lock_branch(who.branch_id).await?;
    let mut w = operable_window(tx, who, n).await?;
    let mut t = current_ticket(tx, &w).await?;
    let cfg = tx.config(who.branch_id).await?;
    let detail = match to {
        TransferTo::Service(s) => {
            if cfg.service(s).is_none() {
                return Err(StoreError::not_found(
                    "unknown_service",
                    format!("there is no service {s}"),
                ));
            }
            if s == t.service {
                return Err(StoreError::invalid(
                    "same_service",
                    format!("{} is already in line for {s}", t.number),
                ));
            }
            serde_json::json!({ "from_service": t.service.as_str(), "to_service": s.as_str() })
        }
        TransferTo::Window(target) => {
            if cfg.window(target).is_none() {
                return Err(StoreError::not_found(
                    "unknown_window",
                    format!("there is no window {target}"),
                ));
            }
            if target == n {
                return Err(StoreError::invalid(
                    "same_window",
                    "transfer to another window",
                ));
            }
            serde_json::json!({ "from_window": n.get(), "to_window": target.get() })
        }
    };
    let by = By {
        window: Some(n),
        staff: who.user_id,
    };
    step(
        tx,
        &mut t,
        Action::Transfer,
        by,
        Some(detail.to_string()),
        now,
        |t| {
            match to {
                TransferTo::Service(s) => {
                    t.service = s;
                    t.target_window = None;
                }
                TransferTo::Window(target) => t.target_window = Some(target),
            }
            t.window = None;
            t.serving_at = None;
            Ok(())
        },
    )
    .await?;
    release_window(tx, out, who.branch_id, &mut w, &t, now).await?;
    emit_waiting(tx, out, who.branch_id, t.service, now).await?;
    Ok(t)
}

/// Puts a no-show back at the front of its service's line; its next call is the one that counts.
/// Only at window `n` the caller may operate, and only for a ticket that window serves: the
/// customer who comes back is reinstated where they stand, by the person there.
pub async fn reinstate<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    n: WindowNo,
    number: &TicketNumber,
    now: DateTime<Utc>,
) -> Result<TicketRow> {
    tx.lock_branch(who.branch_id).await?;
    operable_window(tx, who, n).await?;
    let mut t = ticket_served_here(tx, who.branch_id, n, number).await?;
    let front = tx.earliest_queue_at(who.branch_id, t.service).await?;
    let by = By {
        window: Some(n),
        staff: who.user_id,
    };
    step(tx, &mut t, Action::Reinstate, by, None, now, |t| {
        if let Some(front) = front {
            t.queue_at = t.queue_at.min(front - Duration::milliseconds(1));
        }
        t.first_called_at = None;
        t.done_at = None;
        t.window = None;
        t.serving_at = None;
        Ok(())
    })
    .await?;
    emit_waiting(tx, out, who.branch_id, t.service, now).await?;
    Ok(t)
}

/// The customer cancels the ticket whose id they hold.
pub async fn cancel_by_customer<T: Tx>(
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
    cancel(tx, out, t, By::default(), &detail, now).await
}

/// Staff at window `n` cancel the waiting ticket `number` (a customer who left, a duplicate),
/// saying why.
pub async fn cancel_at_window<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    n: WindowNo,
    number: &TicketNumber,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<TicketRow> {
    let reason = super::reason(reason)?;
    tx.lock_branch(who.branch_id).await?;
    operable_window(tx, who, n).await?;
    let t = ticket_served_here(tx, who.branch_id, n, number).await?;
    let detail = serde_json::json!({ "actor": "staff", "reason": reason });
    let by = By {
        window: Some(n),
        staff: who.user_id,
    };
    cancel(tx, out, t, by, &detail, now).await
}

async fn cancel<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    mut t: TicketRow,
    by: By,
    detail: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<TicketRow> {
    step(
        tx,
        &mut t,
        Action::Cancel,
        by,
        Some(detail.to_string()),
        now,
        |t| {
            t.done_at = Some(now);
            Ok(())
        },
    )
    .await?;
    emit_waiting(tx, out, t.branch_id, t.service, now).await?;
    super::messages::ended(tx, &t).await?;
    let cfg = tx.config(t.branch_id).await?;
    super::messages::near(tx, &cfg, now).await?;
    Ok(t)
}

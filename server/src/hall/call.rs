//! Calling a ticket to a window: Call next (the ticket the policy picks for the window) or one
//! ticket out of order by its number, which the ticket's history records as its own kind,
//! `call_out_of_order`, with the numbers it jumped (the tickets of its line that were ahead of
//! it: up to [`JUMPED_LISTED`] numbers, and how many), so a manager can see how often and over
//! whom the line was jumped.

use chrono::{DateTime, Utc};
use qhall_shared::api::{TicketStatus, WindowState};
use qhall_shared::events::{Call, Event};
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};

use super::access::{operable_window, ticket_served_here};
use super::{By, Outbox, step};
use crate::queue::lifecycle::Action;
use crate::queue::policy::{self, Candidate, Policy};
use crate::store::{Principal, Result, StoreError, TicketRow, Tx, WindowRow};

/// What boards show for a call of `t` to `window`.
pub fn call_of(t: &TicketRow, window: WindowNo, at: DateTime<Utc>) -> Call {
    Call {
        number: t.number.clone(),
        service: t.service,
        window,
        at,
    }
}

/// Calls the ticket the policy picks for window `n`; `None` when nothing waits for it.
pub async fn call_next<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    n: WindowNo,
    policy: Policy,
    now: DateTime<Utc>,
) -> Result<Option<TicketRow>> {
    tx.lock_branch(who.branch_id).await?;
    let w = operable_window(tx, who, n).await?;
    ready_to_call(tx, &w).await?;
    let cfg = tx.config(who.branch_id).await?;
    let def = cfg.window(n).ok_or_else(|| {
        StoreError::not_found("unknown_window", format!("there is no window {n}"))
    })?;
    let services: Vec<ServiceCode> = def.skills.serves.iter().map(|(s, _)| *s).collect();
    let mut heads = tx.heads(who.branch_id, n, &services).await?;
    let candidates: Vec<Candidate> = heads
        .iter()
        .map(|h| &h.ticket)
        .map(|h| Candidate {
            key: h.key,
            service: h.service,
            priority: h.priority,
            queue_at: h.queue_at,
            target_wait_secs: cfg.target_secs(h.service),
            appointment: h.appointment_at.is_some(),
        })
        .collect();
    let breaks = policy::Breaks::new(cfg.schedule.breaks_ahead(now));
    let run = w.appointment_run;
    let Some(i) = policy::choose(policy, &def.skills, &candidates, &breaks, run, now) else {
        return Ok(None);
    };
    // The window's run of appointments called (the policy's bound on their share), written
    // only when it changes: a hall without appointments pays nothing for it.
    let next_run = if candidates[i].appointment {
        (run + 1).min(policy::APPOINTMENT_RUN)
    } else {
        0
    };
    if next_run != run {
        tx.execute(
            "UPDATE windows SET appointment_run = ? WHERE branch_id = ? AND number = ?",
            args![next_run, who.branch_id, n],
        )
        .await?;
    }
    let head = heads.swap_remove(i);
    // The call takes the head out of its service's line, under the branch's lock.
    let waiting = head.waiting.saturating_sub(1);
    call_ticket(tx, out, who, w, head.ticket, Pick::Next { waiting }, now)
        .await
        .map(Some)
}

/// Calls one waiting ticket out of order (by its number) to window `n`.
pub async fn call_number<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    n: WindowNo,
    number: &TicketNumber,
    now: DateTime<Utc>,
) -> Result<TicketRow> {
    tx.lock_branch(who.branch_id).await?;
    let w = operable_window(tx, who, n).await?;
    ready_to_call(tx, &w).await?;
    let t = ticket_served_here(tx, who.branch_id, n, number).await?;
    if t.status != TicketStatus::Waiting {
        return Err(StoreError::conflict(
            "not_waiting",
            format!("{number} is not waiting (it is {})", t.status.as_str()),
        ));
    }
    call_ticket(tx, out, who, w, t, Pick::OutOfOrder, now).await
}

/// The most numbers a call out of order lists as jumped (it counts them all, up to
/// [`JUMPED_COUNTED`]).
pub const JUMPED_LISTED: usize = 20;
/// The most tickets ahead a call out of order counts.
pub const JUMPED_COUNTED: u32 = 500;

/// `{"jumped": ["A003", …], "jumped_count": n}`: the waiting tickets of `t`'s line (its
/// service, or sent to window `n`) that were ahead of it.
async fn jumped<T: Tx>(tx: &mut T, t: &TicketRow, n: WindowNo) -> Result<String> {
    let line =
        crate::store::read::waiting_list(tx, t.branch_id, n, &[t.service], JUMPED_COUNTED).await?;
    let ahead: Vec<&str> = line
        .iter()
        .take_while(|x| x.key != t.key)
        .map(|x| x.number.as_str())
        .collect();
    let listed = &ahead[..ahead.len().min(JUMPED_LISTED)];
    Ok(serde_json::json!({ "jumped": listed, "jumped_count": ahead.len() }).to_string())
}

/// Refuses a call to a window that is not open, or still has a ticket called or in service.
async fn ready_to_call<T: Tx>(tx: &mut T, w: &WindowRow) -> Result<()> {
    match w.state {
        WindowState::Open => {}
        WindowState::Paused => {
            return Err(StoreError::conflict(
                "window_paused",
                format!("window {} is paused: resume it first", w.number),
            ));
        }
        WindowState::Closed => {
            return Err(StoreError::conflict(
                "window_closed",
                format!("window {} is closed: sign in first", w.number),
            ));
        }
    }
    if let Some(k) = w.current_ticket
        && let Some(cur) = tx.ticket(k).await?
        && cur.status.is_live()
        && cur.status != TicketStatus::Waiting
    {
        return Err(StoreError::conflict(
            "window_busy",
            format!(
                "window {} still has {}: complete it or mark it absent first",
                w.number, cur.number
            ),
        ));
    }
    Ok(())
}

/// How the ticket to call was picked.
#[derive(Clone, Copy)]
enum Pick {
    /// By the policy, with how many wait for its service once it is called.
    Next { waiting: u32 },
    /// By its number, out of order.
    OutOfOrder,
}

async fn call_ticket<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    mut w: WindowRow,
    mut t: TicketRow,
    pick: Pick,
    now: DateTime<Utc>,
) -> Result<TicketRow> {
    let (action, detail) = match pick {
        Pick::Next { .. } => (Action::Call, None),
        Pick::OutOfOrder => (
            Action::CallOutOfOrder,
            Some(jumped(tx, &t, w.number).await?),
        ),
    };
    let staff = w.staff_user_id.or(who.user_id);
    let by = By {
        window: Some(w.number),
        staff,
    };
    step(tx, &mut t, action, by, detail, now, |t| {
        t.window = Some(w.number);
        t.target_window = None;
        t.staff_user_id = staff;
        t.first_called_at.get_or_insert(now);
        t.last_called_at = Some(now);
        Ok(())
    })
    .await?;
    w.current_ticket = Some(t.key);
    tx.update_window(who.branch_id, &w).await?;
    let waiting = match pick {
        Pick::Next { waiting } => waiting,
        Pick::OutOfOrder => tx.waiting_count(who.branch_id, t.service).await?,
    };
    out.emit(
        tx,
        who.branch_id,
        now,
        Event::Called {
            call: call_of(&t, w.number, now),
            waiting,
        },
    )
    .await?;
    let cfg = tx.config(who.branch_id).await?;
    super::messages::after_call(tx, &cfg, &t, w.number, now).await?;
    if action == Action::Call {
        // The remote tickets ahead of it not checked in were passed over: their hold runs.
        tx.passed_over(t.branch_id, t.service, t.queue_at, now)
            .await?;
    }
    Ok(t)
}

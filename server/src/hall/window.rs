//! A window's state, changed by the person at it: signing in and out, pausing (with a reason)
//! and resuming, each written to the window log (attendance reads it) and announced to boards.
//! The states follow [`crate::queue::window`]; the checks here are who may change them.
//! Also the hall's opening and closing as kiosks and boards hear it ([`announce_opening`]).

use chrono::{DateTime, Utc};
use qhall_shared::WindowNo;
use qhall_shared::api::TicketStatus;
use qhall_shared::events::Event;

use super::Outbox;
use super::access::operable_window;
use crate::queue::window::{self as machine, WindowStep};
use crate::store::{Principal, Result, StoreError, Tx, WindowRow};

/// Window state changes by the staff member at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowChange {
    SignIn,
    SignOut,
    Pause(String),
    Resume,
}

/// Signs staff in or out of window `n`, pauses or resumes it.
pub async fn change_window<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    n: WindowNo,
    change: WindowChange,
    now: DateTime<Utc>,
) -> Result<WindowRow> {
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let mut w = tx.window(branch, n).await?.ok_or_else(|| {
        StoreError::not_found("unknown_window", format!("there is no window {n}"))
    })?;
    let (step, reason) = match &change {
        WindowChange::SignIn => {
            let me = who.user_id.ok_or_else(|| {
                StoreError::forbidden("staff_only", "only a person can sign in to a window")
            })?;
            match w.staff_user_id {
                Some(u) if u == me => return Ok(w), // already here: nothing to do
                Some(_) => {
                    return Err(StoreError::conflict(
                        "window_taken",
                        format!("someone else is signed in to window {n}"),
                    ));
                }
                None => {}
            }
            if let Some(other) = tx
                .windows(branch)
                .await?
                .into_iter()
                .find(|x| x.staff_user_id == Some(me))
            {
                return Err(StoreError::conflict(
                    "signed_in_elsewhere",
                    format!(
                        "you are signed in to window {}: sign out there first",
                        other.number
                    ),
                ));
            }
            let cfg = tx.config(branch).await?;
            if let Some(def) = cfg.windows.iter().find(|d| d.number == n) {
                super::training::check_sign_in(tx, branch, me, def).await?;
            }
            w.staff_user_id = Some(me);
            (WindowStep::SignIn, None)
        }
        WindowChange::SignOut => {
            if w.staff_user_id.is_none() {
                return Err(StoreError::conflict(
                    "not_signed_in",
                    format!("nobody is signed in to window {n}"),
                ));
            }
            let w2 = operable_window(tx, who, n).await?;
            if let Some(k) = w2.current_ticket
                && tx
                    .ticket(k)
                    .await?
                    .is_some_and(|t| t.status.is_live() && t.status != TicketStatus::Waiting)
            {
                return Err(StoreError::conflict(
                    "window_busy",
                    "complete or transfer the current ticket before signing out",
                ));
            }
            w.staff_user_id = None;
            w.current_ticket = None;
            (WindowStep::SignOut, None)
        }
        WindowChange::Pause(reason) => {
            operable_window(tx, who, n).await?;
            (WindowStep::Pause, Some(super::reason(reason)?.to_owned()))
        }
        WindowChange::Resume => {
            operable_window(tx, who, n).await?;
            (WindowStep::Resume, None)
        }
    };
    let by = Logged {
        user: who.user_id,
        reason: reason.as_deref(),
    };
    apply(tx, out, branch, &mut w, step, by, now).await?;
    Ok(w)
}

/// Who a window log line names, and why.
#[derive(Debug, Clone, Copy)]
pub(super) struct Logged<'a> {
    pub user: Option<i64>,
    pub reason: Option<&'a str>,
}

/// Moves window `w` by `step`: its new state (409 when the step is not allowed there), the
/// row, the window log line, and a `window` event when the state changed.
pub(super) async fn apply<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    branch: i64,
    w: &mut WindowRow,
    step: WindowStep,
    by: Logged<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    let (n, before) = (w.number, w.state);
    w.state = machine::next(w.state, step)
        .map_err(|e| StoreError::conflict(e.code, format!("window {n} is {}", e.from.as_str())))?;
    w.pause_reason = by
        .reason
        .filter(|_| step == WindowStep::Pause)
        .map(str::to_owned);
    w.state_since = Some(now);
    tx.update_window(branch, w).await?;
    tx.log_window(branch, n, by.user, step, by.reason, now)
        .await?;
    if w.state != before {
        out.emit(
            tx,
            branch,
            now,
            Event::Window {
                window: n,
                state: w.state,
            },
        )
        .await?;
    }
    Ok(())
}

/// Tells kiosks and boards that the hall opened or closed (hours, a break, the cut-off) by a
/// `services` event, if `open` differs from what `was_open` says they last heard.
pub async fn announce_opening<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    branch: i64,
    was_open: Option<bool>,
    now: DateTime<Utc>,
) -> Result<bool> {
    tx.lock_branch(branch).await?;
    let cfg = tx.config(branch).await?;
    let open = cfg.schedule.state_at(now).is_open() && cfg.emergency.is_none();
    if was_open.is_some_and(|w| w != open) && tx.last_announced_open(branch).await? != Some(open) {
        out.emit(tx, branch, now, Event::Services { open }).await?;
    }
    Ok(open)
}

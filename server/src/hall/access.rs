//! Who may act where: staff only at the window they are signed in to, managers at any window of
//! their branch; and at a window, only on the tickets that window serves.

use qhall_shared::WindowNo;

use crate::store::{Principal, Result, StoreError, TicketRow, Tx, WindowRow};

/// Loads window `n` and checks the caller may operate it: staff only the window they are
/// signed in to (403 `not_your_window` elsewhere), managers any window of their branch.
pub async fn operable_window<T: Tx>(tx: &mut T, who: &Principal, n: WindowNo) -> Result<WindowRow> {
    let w = tx.window(who.branch_id, n).await?.ok_or_else(|| {
        StoreError::not_found("unknown_window", format!("there is no window {n}"))
    })?;
    if !who.is_manager() && (w.staff_user_id.is_none() || w.staff_user_id != who.user_id) {
        return Err(StoreError::forbidden(
            "not_your_window",
            format!("sign in to window {n} first"),
        ));
    }
    Ok(w)
}

/// Refuses a ticket window `n` does not serve (403 `not_served_here`): staff act only on the
/// tickets their window could call ([`crate::store::WindowDef::serves_ticket`]).
pub async fn served_here<T: Tx>(tx: &mut T, branch: i64, n: WindowNo, t: &TicketRow) -> Result<()> {
    let cfg = tx.config(branch).await?;
    if cfg
        .window(n)
        .is_some_and(|d| d.serves_ticket(t.service, t.target_window))
    {
        Ok(())
    } else {
        Err(StoreError::forbidden(
            "not_served_here",
            format!("window {n} does not serve {}", t.number),
        ))
    }
}

/// The ticket numbered `number` in the branch, if window `n` serves it: 404 `unknown_ticket`
/// or 403 `not_served_here` otherwise. How staff reach a ticket that is not their current one
/// (call out of order, reinstate, cancel).
pub async fn ticket_served_here<T: Tx>(
    tx: &mut T,
    branch: i64,
    n: WindowNo,
    number: &qhall_shared::TicketNumber,
) -> Result<TicketRow> {
    let t = super::ticket_numbered(tx, branch, number).await?;
    served_here(tx, branch, n, &t).await?;
    Ok(t)
}

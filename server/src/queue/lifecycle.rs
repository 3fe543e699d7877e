//! A ticket's life (`PRODUCT.md`):
//!
//! ```text
//! (issue) ─▶ waiting ─call─▶ called ─recall─▶ called ─start─▶ serving ─complete─▶ done
//!                    └──no-show──▶ no_show ─reinstate─▶ waiting (front of its line)
//! waiting / called / serving ─transfer─▶ waiting (other service or window, original issue time kept)
//! waiting ─cancel─▶ cancelled
//! waiting / called ─close_day─▶ cancelled (reason `closed`)
//! called / serving ─extend, check_identity─▶ (unchanged, recorded)
//! ```
//!
//! Every transition not drawn here is refused with [`LifecycleError`], which the HTTP edge
//! answers with `409 Conflict`; nothing changes.

use qhall_shared::api::TicketStatus;

/// What can be done to a ticket; its name is the kind of the line in the ticket's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The ticket's first line: nothing comes before it, so [`next`] refuses it in any state.
    Issue,
    /// Call next: the ticket the policy picked for the window.
    Call,
    /// Staff called this ticket by its number, ahead of the policy's choice.
    CallOutOfOrder,
    Recall,
    Start,
    Complete,
    NoShow,
    Reinstate,
    Transfer,
    Cancel,
    Extend,
    /// The hall closed for the day with the ticket still waiting or called (reason `closed`).
    CloseDay,
    /// Staff checked the customer's identity document (the service's identity step).
    CheckIdentity,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Issue => "issue",
            Action::Call => "call",
            Action::CallOutOfOrder => "call_out_of_order",
            Action::Recall => "recall",
            Action::Start => "start",
            Action::Complete => "complete",
            Action::NoShow => "no_show",
            Action::Reinstate => "reinstate",
            Action::Transfer => "transfer",
            Action::Cancel => "cancel",
            Action::Extend => "extend",
            Action::CloseDay => "close_day",
            Action::CheckIdentity => "check_identity",
        }
    }
}

/// An action that the ticket's state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action}: the ticket is {status}", status = .from.as_str(), action = .action.as_str())]
pub struct LifecycleError {
    pub from: TicketStatus,
    pub action: Action,
}

/// The state after `action`, or why it is not allowed.
pub fn next(from: TicketStatus, action: Action) -> Result<TicketStatus, LifecycleError> {
    use Action as A;
    use TicketStatus as S;
    let to = match (from, action) {
        (S::Waiting, A::Call | A::CallOutOfOrder) => S::Called,
        (S::Called, A::Recall) => S::Called,
        (S::Called, A::Start) => S::Serving,
        // Completing a called ticket directly is allowed: short services often skip "start".
        (S::Called | S::Serving, A::Complete) => S::Done,
        (S::Called, A::NoShow) => S::NoShow,
        (S::NoShow, A::Reinstate) => S::Waiting,
        (S::Waiting | S::Called | S::Serving, A::Transfer) => S::Waiting,
        (S::Waiting, A::Cancel) => S::Cancelled,
        (S::Called | S::Serving, A::Extend | A::CheckIdentity) => from,
        // A ticket being served at closing stays with its window until completed.
        (S::Waiting | S::Called, A::CloseDay) => S::Cancelled,
        _ => return Err(LifecycleError { from, action }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus as S;

    #[test]
    fn the_happy_path_reaches_done() {
        let mut s = S::Waiting;
        for a in [
            Action::Call,
            Action::Recall,
            Action::Start,
            Action::Complete,
        ] {
            s = next(s, a).unwrap();
        }
        assert_eq!(s, S::Done);
    }

    #[test]
    fn finished_tickets_accept_nothing_but_reinstating_a_no_show() {
        let all = [
            Action::Issue,
            Action::Call,
            Action::CallOutOfOrder,
            Action::Recall,
            Action::Start,
            Action::Complete,
            Action::NoShow,
            Action::Transfer,
            Action::Cancel,
            Action::Extend,
            Action::CloseDay,
            Action::CheckIdentity,
        ];
        for a in all {
            assert!(next(S::Done, a).is_err(), "done accepted {a:?}");
            assert!(next(S::Cancelled, a).is_err(), "cancelled accepted {a:?}");
            assert!(next(S::NoShow, a).is_err(), "no-show accepted {a:?}");
        }
        assert_eq!(next(S::NoShow, Action::Reinstate), Ok(S::Waiting));
        assert!(next(S::Done, Action::Reinstate).is_err());
    }

    #[test]
    fn closing_the_day_cancels_waiting_and_called_tickets_but_not_one_being_served() {
        assert_eq!(next(S::Waiting, Action::CloseDay), Ok(S::Cancelled));
        assert_eq!(next(S::Called, Action::CloseDay), Ok(S::Cancelled));
        assert!(next(S::Serving, Action::CloseDay).is_err());
    }

    #[test]
    fn completing_twice_is_a_conflict() {
        let done = next(S::Serving, Action::Complete).unwrap();
        let err = next(done, Action::Complete).unwrap_err();
        assert_eq!(err.to_string(), "cannot complete: the ticket is done");
    }

    #[test]
    fn a_waiting_ticket_cannot_be_started_or_marked_absent() {
        assert!(next(S::Waiting, Action::Start).is_err());
        assert!(next(S::Waiting, Action::NoShow).is_err());
        assert!(next(S::Serving, Action::NoShow).is_err());
        assert!(next(S::Serving, Action::Call).is_err());
    }

    #[test]
    fn a_call_out_of_order_moves_like_a_call_and_nothing_issues_twice() {
        assert_eq!(next(S::Waiting, Action::CallOutOfOrder), Ok(S::Called));
        assert!(next(S::Called, Action::CallOutOfOrder).is_err());
        assert!(next(S::Waiting, Action::Issue).is_err());
        assert_ne!(Action::CallOutOfOrder.as_str(), Action::Call.as_str());
    }
}

//! The hall's rules: what happens when a kiosk issues a ticket, when staff press Call, what a
//! window may do, what a rating may change. Each operation is written once, over the store's
//! [`Tx`] trait, and runs inside one transaction ([`crate::store::Store`] runs it on SQLite or
//! PostgreSQL): it reads what it needs, asks the pure engine ([`crate::queue`]) what to do,
//! writes the result, appends the ticket's history and emits the branch's stream events through
//! [`Outbox`]. If any step fails the transaction is rolled back and nothing happened.
//!
//! # Where a rule lives
//! - [`issue`]: a new ticket — admission (service, hours, emergency, priority line), its number,
//!   its first estimate, the kiosk's idempotency key.
//! - [`estimate`]: the expected wait of a ticket, at issue and on the tracking page.
//! - [`call`]: Call next (the policy's choice) and a call out of order by number.
//! - [`ticket`]: the window's current ticket — recall, start, complete, no-show, extend,
//!   transfer — and the tickets in line: reinstating a no-show, cancelling (customer or staff).
//! - [`window`]: signing in and out, pausing and resuming; announcing the hall's opening.
//! - [`appointments`]: booking settings per service, the slots of a day, booking, viewing and
//!   cancelling by code, the booking's messages; a holiday over a booked period cancels it.
//! - [`access`]: who may act at which window, and on which tickets.
//! - [`remote`]: tickets taken from the phone, their check-in on arrival, and the hold of one
//!   whose turn came first.
//! - [`rating`]: the customer's rating on the window's pad.
//! - [`emergency`]: the emergency broadcast.
//! - [`closing`]: closing the day (leftovers cancelled or carried over, windows signed out).
//! - [`messages`]: messages to customers outside the hall ("your turn is near", "please go to
//!   window 3"), written to the outbox with the change that causes them; sent by
//!   [`crate::notify`].
//! - [`notices`]: the notices kiosks and boards show, with the dated exceptions announced ahead.
//! - [`settings`]: managers' configuration changes (services, windows, hours, notices, people,
//!   devices), each validated, audited, announced and bumping `config_version`.
//! - [`feedback`]: the customer's own rating, complaint or suggestion from the tracking page;
//!   a bad rating's follow-up.
//! - [`complaints`]: complaints taken at a window, and the managers' register (status, notes,
//!   masked contacts, purge).
//! - [`attendance`]: the window log per person per day, and the attendance tolerances.
//! - [`shifts`], [`leave`], [`training`], [`assessment`]: the people behind the windows — their
//!   rosters, leave, training, monthly scorecard and the graded consequences a manager confirms.
//! - [`live`]: the manager's live page and staffing advisor: the hall now, alert thresholds,
//!   the window log.
//!
//! Families whose reads and writes go beyond [`Tx`] declare them as a trait of their own beside
//! the rules ([`settings::SettingsTx`], [`complaints::ComplaintsTx`], [`live::LiveTx`],
//! [`attendance::AttendanceTx`]); each backend implements it in its file of the same name.
//!
//! The shared steps are here: [`step`] moves a ticket along its lifecycle (the row written only
//! if nobody moved it meanwhile, and its history line, whose kind is the [`Action`]);
//! [`emit_waiting`] tells boards and kiosks how many now wait for a service.

pub mod access;
pub mod appointments;
pub mod assessment;
pub mod attendance;
pub mod call;
pub mod closing;
pub mod complaints;
pub mod desk;
pub mod emergency;
pub mod estimate;
pub mod feedback;
pub mod issue;
pub mod leave;
pub mod live;
pub mod messages;
pub mod notices;
pub mod rating;
pub mod remote;
pub mod settings;
pub mod shifts;
pub mod ticket;
pub mod training;
pub mod window;

pub use complaints::{COMPLAINT_CATEGORIES, ComplaintInput, ComplaintRecorded};
pub use estimate::RECENT_SERVICE_WINDOW_HOURS;
pub use issue::Issued;
pub use rating::RATING_OPEN_MINUTES;
pub use ticket::{TransferTo, WindowAction};
pub use window::WindowChange;

use chrono::{DateTime, Utc};
use qhall_shared::events::{Event, Message};
use qhall_shared::{ServiceCode, WindowNo};

use crate::queue::lifecycle::{self, Action};
use crate::store::{Result, TicketEvent, TicketRow, Tx};

/// Stream events written in this transaction, published after it commits.
#[derive(Debug, Default)]
pub struct Outbox {
    /// (branch, seq, JSON message)
    pub messages: Vec<(i64, u64, String)>,
}

impl Outbox {
    /// Assigns the next seq, stores the message and queues it for publishing.
    pub async fn emit<T: Tx>(
        &mut self,
        tx: &mut T,
        branch: i64,
        now: DateTime<Utc>,
        event: Event,
    ) -> Result<()> {
        let seq = tx.next_seq(branch).await?;
        let body = Message { seq, event }.to_json();
        tx.insert_stream_event(branch, seq, now, &body).await?;
        self.messages.push((branch, seq, body));
        Ok(())
    }
}

/// Where a ticket's history line says an action happened, and who did it.
#[derive(Debug, Clone, Copy, Default)]
pub struct By {
    pub window: Option<WindowNo>,
    pub staff: Option<i64>,
}

/// Moves `t` by `action`: the lifecycle's next state (409 `invalid_state` when the action is
/// not allowed), then `change` sets the columns the action touches (it may still refuse), the
/// row is written only if it still has its old state (so two writers never both move one
/// ticket), and the history line is appended with the action as its kind.
pub async fn step<T: Tx>(
    tx: &mut T,
    t: &mut TicketRow,
    action: Action,
    by: By,
    detail: Option<String>,
    now: DateTime<Utc>,
    change: impl FnOnce(&mut TicketRow) -> Result<()>,
) -> Result<()> {
    let before = t.status;
    t.status = lifecycle::next(before, action)?;
    change(t)?;
    tx.update_ticket(t, before).await?;
    tx.append_ticket_event(&TicketEvent {
        ticket: t.key,
        at: now,
        kind: action,
        window: by.window,
        staff: by.staff,
        detail,
    })
    .await
}

/// Tells boards and kiosks how many tickets now wait for `service`.
pub async fn emit_waiting<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    branch: i64,
    service: ServiceCode,
    now: DateTime<Utc>,
) -> Result<()> {
    let waiting = tx.waiting_count(branch, service).await?;
    out.emit(tx, branch, now, Event::Waiting { service, waiting })
        .await
}

/// A ticket number as the caller typed it, or 422 `invalid_number`.
pub fn parse_number(number: &str) -> Result<qhall_shared::TicketNumber> {
    number.parse().map_err(|e: qhall_shared::ids::InvalidId| {
        crate::store::StoreError::invalid("invalid_number", e.0)
    })
}

/// The ticket with this number in the branch (the live one, else the latest), or 404
/// `unknown_ticket`.
pub async fn ticket_numbered<T: Tx>(
    tx: &mut T,
    branch: i64,
    number: &qhall_shared::TicketNumber,
) -> Result<TicketRow> {
    tx.ticket_by_number(branch, number).await?.ok_or_else(|| {
        crate::store::StoreError::not_found(
            "unknown_ticket",
            format!("there is no ticket {number}"),
        )
    })
}

/// A reason staff give (pause, extend, cancel): trimmed, 1 to 200 characters, else 422
/// `invalid_reason`.
pub fn reason(text: &str) -> Result<&str> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_REASON_CHARS {
        return Err(crate::store::StoreError::invalid(
            "invalid_reason",
            format!("give a reason of 1 to {MAX_REASON_CHARS} characters"),
        ));
    }
    Ok(text)
}

/// The longest reason staff may give, in characters.
pub const MAX_REASON_CHARS: usize = 200;

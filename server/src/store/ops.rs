//! The hall's operations, each run inside one transaction by [`super::Store`].
//!
//! Every function here reads what it needs through [`Tx`], asks the pure engine
//! ([`crate::queue`]) what to do, writes the result, appends the ticket's history and emits
//! the branch's stream events through [`Outbox`]. If any step fails the transaction is rolled
//! back and nothing happened.

use chrono::{DateTime, Duration, Utc};
use qhall_shared::api::{TicketStatus, WindowState};
use qhall_shared::events::{Call, Event, Message};
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};

use super::{
    AuditEntry, BranchConfig, NewTicket, Principal, Result, StoreError, TicketEvent, TicketRow, Tx,
    WindowRow,
};
use crate::forecast::ForecastTable;
use crate::queue::estimate::{EstimateInput, estimate_wait_secs, window_share};
use crate::queue::lifecycle::{self, Action};
use crate::queue::numbering;
use crate::queue::policy::{self, Policy};
use crate::queue::schedule::local_date;

/// How far back the recent mean service time looks.
pub const RECENT_SERVICE_WINDOW_HOURS: i64 = 4;

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

/// A new ticket's answer.
#[derive(Debug, Clone)]
pub struct Issued {
    pub ticket: TicketRow,
    /// The branch configuration it was issued under (names and guides for the answer).
    pub config: std::sync::Arc<BranchConfig>,
    /// False when an earlier request with the same Idempotency-Key already issued it.
    pub created: bool,
}

/// Issues a ticket for `service` (the code as the caller sent it).
/// `forecast` is the branch's latest forecast table, if any: the estimate comes from it when it
/// can say, else from the formula.
#[allow(clippy::too_many_arguments)]
pub async fn issue<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    service: &str,
    priority: bool,
    idempotency_key: Option<&str>,
    forecast: Option<&ForecastTable>,
    now: DateTime<Utc>,
) -> Result<Issued> {
    tx.lock_branch(who.branch_id).await?;
    let scope = who.idempotency_scope();
    if let Some(key) = idempotency_key
        && let Some(t) = tx.idempotent_ticket(&scope, key).await?
    {
        let config = tx.config(t.branch_id).await?;
        return Ok(Issued {
            ticket: t,
            config,
            created: false,
        });
    }
    let branch = who.branch_id;
    let cfg = tx.config(branch).await?;
    let code: ServiceCode = service.parse().map_err(|_| {
        StoreError::not_found(
            "unknown_service",
            format!("there is no service {service:?}"),
        )
    })?;
    let svc = cfg
        .service(code)
        .ok_or_else(|| {
            StoreError::not_found("unknown_service", format!("there is no service {code}"))
        })?
        .clone();
    if let Some(msg) = &cfg.emergency {
        return Err(StoreError::conflict(
            "emergency",
            format!("no tickets are issued during an emergency: {msg}"),
        ));
    }
    if !svc.enabled {
        return Err(StoreError::conflict(
            "service_closed",
            format!("service {code} is not offered now"),
        ));
    }
    let open = cfg.schedule.state_at(now);
    if let Some(closed) = open.closed {
        let when = open
            .opens_at
            .map(|t| {
                let local = t.with_timezone(&cfg.schedule.tz);
                format!(
                    "; tickets from {} {}",
                    local.format("%Y-%m-%d"),
                    local.format("%H:%M")
                )
            })
            .unwrap_or_default();
        let why = match closed {
            crate::queue::schedule::Closed::OutsideHours => "the hall is closed",
            crate::queue::schedule::Closed::AfterCutoff => {
                "the last ticket of the day has been issued"
            }
        };
        return Err(StoreError::conflict(
            "service_closed",
            format!("{why}{when}"),
        ));
    }
    if priority && !svc.priority_allowed {
        return Err(StoreError::invalid(
            "priority_not_allowed",
            format!("service {code} has no priority line"),
        ));
    }

    let day = local_date(cfg.schedule.tz, now);
    let previous = tx.last_number(branch, code, day).await?;
    let mut number_seq = None;
    for n in numbering::candidates(svc.first_number, svc.last_number, previous) {
        if !tx.number_is_live(branch, code, n).await? {
            number_seq = Some(n);
            break;
        }
    }
    let number_seq = number_seq.ok_or_else(|| {
        StoreError::conflict(
            "numbers_exhausted",
            format!("every number of service {code} is still in use"),
        )
    })?;
    tx.set_last_number(branch, code, day, number_seq).await?;
    let number = TicketNumber::format(code, number_seq, svc.number_width());

    // Ahead: waiting tickets of the service that a ticket queued now would follow.
    // Every waiting ticket of its class or a higher one is ahead of a new ticket.
    let (priority_waiting, normal_waiting) = tx.waiting_by_class(branch, code).await?;
    let ahead = if priority {
        priority_waiting
    } else {
        priority_waiting + normal_waiting
    };
    let estimate_secs = estimate(tx, &cfg, code, priority, ahead, forecast, now).await?;
    let id = new_ticket_id();
    let key = tx
        .insert_ticket(&NewTicket {
            id,
            branch_id: branch,
            service: code,
            number,
            number_seq,
            day,
            priority,
            issued_at: now,
            estimate_ahead: ahead,
            estimate_secs,
            device_id: who.device_id,
        })
        .await?;
    tx.append_ticket_event(&TicketEvent {
        ticket: key,
        at: now,
        kind: "issue",
        window: None,
        staff: None,
        detail: None,
    })
    .await?;
    if let Some(k) = idempotency_key {
        tx.save_idempotency(&scope, k, key, now).await?;
    }
    let waiting = tx.waiting_count(branch, code).await?;
    out.emit(
        tx,
        branch,
        now,
        Event::Issued {
            service: code,
            waiting,
        },
    )
    .await?;
    let ticket = tx
        .ticket(key)
        .await?
        .ok_or_else(|| anyhow::anyhow!("ticket vanished after insert"))?;
    Ok(Issued {
        ticket,
        config: cfg,
        created: true,
    })
}

/// Expected seconds until a ticket with `ahead` people before it is called: the forecast's
/// (forward simulation, computed off this path by [`crate::forecast`]) when there is a fresh
/// one for the service, else the formula of [`crate::queue::estimate`].
#[allow(clippy::too_many_arguments)]
pub async fn estimate<T: Tx>(
    tx: &mut T,
    cfg: &BranchConfig,
    code: ServiceCode,
    priority: bool,
    ahead: u32,
    forecast: Option<&ForecastTable>,
    now: DateTime<Utc>,
) -> Result<u64> {
    if let Some(secs) = forecast.and_then(|f| f.wait_secs(code, priority, ahead, now)) {
        return Ok(secs);
    }
    let default = cfg
        .service(code)
        .map_or(300.0, |s| f64::from(s.default_service_secs));
    let mean = tx
        .recent_service_secs(
            cfg.id,
            code,
            now - Duration::hours(RECENT_SERVICE_WINDOW_HOURS),
        )
        .await?
        .unwrap_or(default);
    let counts = tx.waiting_counts(cfg.id).await?;
    let waiting_of = |s: ServiceCode| counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
    let mut windows = Vec::new();
    for w in tx.windows(cfg.id).await? {
        if w.state != WindowState::Open {
            continue;
        }
        let Some(def) = cfg.window(w.number) else {
            continue;
        };
        if !def.skills.serves.iter().any(|(s, _)| *s == code) {
            continue;
        }
        let all: u32 = def.skills.serves.iter().map(|(s, _)| waiting_of(*s)).sum();
        windows.push((
            w.current_ticket.is_none(),
            window_share(waiting_of(code) + 1, all + 1),
        ));
    }
    Ok(estimate_wait_secs(&EstimateInput {
        ahead,
        windows,
        mean_service_secs: mean,
    }))
}

/// 128 random bits, URL-safe: the customer's handle on the ticket, never guessable.
fn new_ticket_id() -> String {
    use base64::Engine;
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Loads window `n` and checks the caller may operate it: staff only the window they are
/// signed in to (403 `not_your_window` elsewhere), managers any window of their branch.
pub(crate) async fn operable_window<T: Tx>(
    tx: &mut T,
    who: &Principal,
    n: WindowNo,
) -> Result<WindowRow> {
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
/// tickets their window could call ([`super::WindowDef::serves_ticket`]).
pub(crate) async fn served_here<T: Tx>(
    tx: &mut T,
    branch: i64,
    n: WindowNo,
    t: &TicketRow,
) -> Result<()> {
    let cfg = tx.config(branch).await?;
    if cfg.window(n).is_some_and(|d| d.serves_ticket(t)) {
        Ok(())
    } else {
        Err(StoreError::forbidden(
            "not_served_here",
            format!("window {n} does not serve {}", t.number),
        ))
    }
}

fn call_of(t: &TicketRow, window: WindowNo, at: DateTime<Utc>) -> Call {
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
    let candidates = tx.heads(who.branch_id, n, &services, &cfg).await?;
    let breaks = policy::Breaks::new(cfg.schedule.breaks_ahead(now));
    let Some(i) = policy::choose(policy, &def.skills, &candidates, &breaks, now) else {
        return Ok(None);
    };
    let ticket = tx
        .ticket(candidates[i].key)
        .await?
        .ok_or_else(|| anyhow::anyhow!("candidate ticket vanished"))?;
    call_ticket(tx, out, who, w, ticket, now).await.map(Some)
}

/// Calls one waiting ticket out of order (by its number) to window `n`.
pub async fn call_number<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    n: WindowNo,
    number: &str,
    now: DateTime<Utc>,
) -> Result<TicketRow> {
    tx.lock_branch(who.branch_id).await?;
    let w = operable_window(tx, who, n).await?;
    ready_to_call(tx, &w).await?;
    let number: TicketNumber = number
        .parse()
        .map_err(|e: qhall_shared::ids::InvalidId| StoreError::invalid("invalid_number", e.0))?;
    let t = tx
        .ticket_by_number(who.branch_id, &number)
        .await?
        .ok_or_else(|| {
            StoreError::not_found("unknown_ticket", format!("there is no ticket {number}"))
        })?;
    served_here(tx, who.branch_id, n, &t).await?;
    if t.status != TicketStatus::Waiting {
        return Err(StoreError::conflict(
            "not_waiting",
            format!("{number} is not waiting (it is {})", t.status.as_str()),
        ));
    }
    call_ticket(tx, out, who, w, t, now).await
}

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

async fn call_ticket<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    mut w: WindowRow,
    mut t: TicketRow,
    now: DateTime<Utc>,
) -> Result<TicketRow> {
    let before = t.status;
    t.status = lifecycle::next(t.status, Action::Call)?;
    t.window = Some(w.number);
    t.target_window = None;
    t.staff_user_id = w.staff_user_id.or(who.user_id);
    t.first_called_at.get_or_insert(now);
    t.last_called_at = Some(now);
    tx.update_ticket(&t, before).await?;
    w.current_ticket = Some(t.key);
    tx.update_window(who.branch_id, &w).await?;
    tx.append_ticket_event(&TicketEvent {
        ticket: t.key,
        at: now,
        kind: "call",
        window: Some(w.number),
        staff: t.staff_user_id,
        detail: None,
    })
    .await?;
    let waiting = tx.waiting_count(who.branch_id, t.service).await?;
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
    Ok(t)
}

/// An action on the window's current ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowAction {
    Recall,
    Start,
    Complete,
    NoShow,
    Extend(String),
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
    let engine_action = match &action {
        WindowAction::Recall => Action::Recall,
        WindowAction::Start => Action::Start,
        WindowAction::Complete => Action::Complete,
        WindowAction::NoShow => Action::NoShow,
        WindowAction::Extend(_) => Action::Extend,
    };
    let before = t.status;
    t.status = lifecycle::next(t.status, engine_action)?;
    let mut detail = None;
    match &action {
        WindowAction::Recall => t.last_called_at = Some(now),
        WindowAction::Start => t.serving_at = Some(now),
        WindowAction::Complete | WindowAction::NoShow => t.done_at = Some(now),
        WindowAction::Extend(reason) => {
            let reason = reason.trim();
            if reason.is_empty() || reason.chars().count() > 200 {
                return Err(StoreError::invalid(
                    "invalid_reason",
                    "give a reason of 1 to 200 characters",
                ));
            }
            t.extended_reason = Some(reason.to_owned());
            detail = Some(serde_json::json!({ "reason": reason }).to_string());
        }
    }
    tx.update_ticket(&t, before).await?;
    tx.append_ticket_event(&TicketEvent {
        ticket: t.key,
        at: now,
        kind: engine_action.as_str(),
        window: Some(n),
        staff: who.user_id,
        detail,
    })
    .await?;
    match action {
        WindowAction::Recall => {
            out.emit(
                tx,
                who.branch_id,
                now,
                Event::Recalled {
                    call: call_of(&t, n, now),
                },
            )
            .await?;
        }
        WindowAction::Complete | WindowAction::NoShow => {
            release_window(tx, out, who.branch_id, &mut w, &t, now).await?;
        }
        WindowAction::Start | WindowAction::Extend(_) => {}
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
    let from_service = t.service;
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
            t.service = s;
            t.target_window = None;
            serde_json::json!({ "from_service": from_service.as_str(), "to_service": s.as_str() })
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
            t.target_window = Some(target);
            serde_json::json!({ "from_window": n.get(), "to_window": target.get() })
        }
    };
    let before = t.status;
    t.status = lifecycle::next(t.status, Action::Transfer)?;
    t.window = None;
    t.serving_at = None;
    tx.update_ticket(&t, before).await?;
    tx.append_ticket_event(&TicketEvent {
        ticket: t.key,
        at: now,
        kind: "transfer",
        window: Some(n),
        staff: who.user_id,
        detail: Some(detail.to_string()),
    })
    .await?;
    release_window(tx, out, who.branch_id, &mut w, &t, now).await?;
    let waiting = tx.waiting_count(who.branch_id, t.service).await?;
    out.emit(
        tx,
        who.branch_id,
        now,
        Event::Waiting {
            service: t.service,
            waiting,
        },
    )
    .await?;
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
    number: &str,
    now: DateTime<Utc>,
) -> Result<TicketRow> {
    let number: TicketNumber = number
        .parse()
        .map_err(|e: qhall_shared::ids::InvalidId| StoreError::invalid("invalid_number", e.0))?;
    tx.lock_branch(who.branch_id).await?;
    operable_window(tx, who, n).await?;
    let mut t = tx
        .ticket_by_number(who.branch_id, &number)
        .await?
        .ok_or_else(|| {
            StoreError::not_found("unknown_ticket", format!("there is no ticket {number}"))
        })?;
    served_here(tx, who.branch_id, n, &t).await?;
    let before = t.status;
    t.status = lifecycle::next(t.status, Action::Reinstate)?;
    if let Some(front) = tx.earliest_queue_at(who.branch_id, t.service).await? {
        t.queue_at = t.queue_at.min(front - Duration::milliseconds(1));
    }
    t.first_called_at = None;
    t.done_at = None;
    t.window = None;
    t.serving_at = None;
    tx.update_ticket(&t, before).await?;
    tx.append_ticket_event(&TicketEvent {
        ticket: t.key,
        at: now,
        kind: "reinstate",
        window: Some(n),
        staff: who.user_id,
        detail: None,
    })
    .await?;
    let waiting = tx.waiting_count(who.branch_id, t.service).await?;
    out.emit(
        tx,
        who.branch_id,
        now,
        Event::Waiting {
            service: t.service,
            waiting,
        },
    )
    .await?;
    Ok(t)
}

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
    let before = w.state;
    let (kind, reason) = match &change {
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
            w.staff_user_id = Some(me);
            w.state = WindowState::Open;
            w.pause_reason = None;
            ("sign_in", None)
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
            w.state = WindowState::Closed;
            w.pause_reason = None;
            w.current_ticket = None;
            ("sign_out", None)
        }
        WindowChange::Pause(reason) => {
            operable_window(tx, who, n).await?;
            let reason = reason.trim();
            if reason.is_empty() || reason.chars().count() > 200 {
                return Err(StoreError::invalid(
                    "invalid_reason",
                    "give a reason of 1 to 200 characters",
                ));
            }
            if w.state != WindowState::Open {
                return Err(StoreError::conflict(
                    "not_open",
                    format!("window {n} is {}", w.state.as_str()),
                ));
            }
            w.state = WindowState::Paused;
            w.pause_reason = Some(reason.to_owned());
            ("pause", Some(reason.to_owned()))
        }
        WindowChange::Resume => {
            operable_window(tx, who, n).await?;
            if w.state != WindowState::Paused {
                return Err(StoreError::conflict(
                    "not_paused",
                    format!("window {n} is {}", w.state.as_str()),
                ));
            }
            w.state = WindowState::Open;
            w.pause_reason = None;
            ("resume", None)
        }
    };
    w.state_since = Some(now);
    tx.update_window(branch, &w).await?;
    tx.log_window(branch, n, who.user_id, kind, reason.as_deref(), now)
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
    Ok(w)
}

/// A ticket as its holder sees it now: people ahead and the remaining estimate.
pub async fn ticket_position<T: Tx>(
    tx: &mut T,
    t: &TicketRow,
    forecast: Option<&ForecastTable>,
    now: DateTime<Utc>,
) -> Result<(u32, u64)> {
    if t.status != TicketStatus::Waiting {
        return Ok((0, 0));
    }
    let ahead = tx
        .count_ahead(t.branch_id, t.service, t.priority, t.queue_at, t.key)
        .await?;
    let cfg = tx.config(t.branch_id).await?;
    let secs = estimate(tx, &cfg, t.service, t.priority, ahead, forecast, now).await?;
    Ok((ahead, secs))
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
    number: &str,
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
    if t.number.as_str() != number {
        return Err(StoreError::conflict(
            "not_last_completed",
            format!("only the ticket completed last at window {n} can be rated"),
        ));
    }
    tx.insert_rating(&super::NewRating {
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

/// The complaint categories, as stored.
pub const COMPLAINT_CATEGORIES: [&str; 5] =
    ["attitude", "waiting", "process", "environment", "other"];

/// Days the hall has to answer a complaint.
pub const COMPLAINT_RESPONSE_DAYS: i64 = 15;

/// A complaint as the staff member entered it.
#[derive(Debug, Clone)]
pub struct ComplaintInput {
    pub window: WindowNo,
    /// The ticket number it is about, if any.
    pub ticket: Option<String>,
    pub category: String,
    pub description: String,
    pub contact: Option<String>,
    /// The customer agreed that their contact may be stored.
    pub consent: bool,
}

/// A stored complaint: (id, created_at, due_at).
pub type ComplaintRecorded = (i64, DateTime<Utc>, DateTime<Utc>);

/// Records a complaint taken at window `input.window` by the staff member signed in there. The
/// contact is stored only with the customer's consent; without it a contact is refused.
pub async fn record_complaint<T: Tx>(
    tx: &mut T,
    who: &Principal,
    input: &ComplaintInput,
    now: DateTime<Utc>,
) -> Result<ComplaintRecorded> {
    let staff = who.user_id.ok_or_else(|| {
        StoreError::forbidden("staff_only", "complaints are taken by a person at a window")
    })?;
    tx.lock_branch(who.branch_id).await?;
    operable_window(tx, who, input.window).await?;
    let category = COMPLAINT_CATEGORIES
        .iter()
        .find(|c| **c == input.category)
        .ok_or_else(|| {
            StoreError::invalid(
                "invalid_category",
                format!(
                    "category must be one of {}",
                    COMPLAINT_CATEGORIES.join(", ")
                ),
            )
        })?;
    let description = input.description.trim();
    if description.is_empty() || description.chars().count() > 2000 {
        return Err(StoreError::invalid(
            "invalid_description",
            "describe the complaint in 1 to 2000 characters",
        ));
    }
    let contact = input
        .contact
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if let Some(c) = contact {
        if !input.consent {
            return Err(StoreError::invalid(
                "consent_required",
                "a contact is stored only when the customer agrees: tick the consent box or leave it empty",
            ));
        }
        if c.chars().count() > 200 {
            return Err(StoreError::invalid(
                "invalid_contact",
                "a contact is at most 200 characters",
            ));
        }
    }
    let ticket = match input
        .ticket
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(number) => {
            let number: TicketNumber =
                number.parse().map_err(|e: qhall_shared::ids::InvalidId| {
                    StoreError::invalid("invalid_number", e.0)
                })?;
            let t = tx
                .ticket_by_number(who.branch_id, &number)
                .await?
                .ok_or_else(|| {
                    StoreError::not_found("unknown_ticket", format!("there is no ticket {number}"))
                })?;
            Some(t.key)
        }
    };
    let due_at = now + Duration::days(COMPLAINT_RESPONSE_DAYS);
    let id = tx
        .insert_complaint(&super::NewComplaint {
            branch_id: who.branch_id,
            ticket,
            window: Some(input.window),
            staff,
            category,
            description: description.to_owned(),
            contact: contact.map(str::to_owned),
            consent: input.consent,
            created_at: now,
            due_at,
        })
        .await?;
    Ok((id, now, due_at))
}

/// The longest emergency message: one screen of a board.
pub const EMERGENCY_MAX_CHARS: usize = 200;

/// Turns the emergency broadcast on (`Some(message)`: kiosks stop issuing, every board and
/// kiosk shows the message) or off (`None`), announces it on the stream, and audits it.
pub async fn set_emergency<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let message = message.map(str::trim);
    if let Some(m) = message {
        if m.is_empty() {
            return Err(StoreError::invalid(
                "invalid_message",
                "an emergency broadcast needs a message",
            ));
        }
        if m.chars().count() > EMERGENCY_MAX_CHARS {
            return Err(StoreError::invalid(
                "invalid_message",
                format!("an emergency message is at most {EMERGENCY_MAX_CHARS} characters"),
            ));
        }
    }
    let branch = who.branch_id;
    let before = tx.config(branch).await?;
    let was_open = before.schedule.state_at(now).is_open() && before.emergency.is_none();
    tx.set_emergency(branch, message).await?;
    tx.audit(&AuditEntry {
        branch,
        user: who.user_id,
        at: now,
        action: if message.is_some() {
            "emergency.on"
        } else {
            "emergency.off"
        },
        detail: serde_json::json!({ "message": message }).to_string(),
    })
    .await?;
    out.emit(
        tx,
        branch,
        now,
        Event::Emergency {
            message: message.map(str::to_owned),
        },
    )
    .await?;
    announce_opening(tx, out, branch, Some(was_open), now).await?;
    Ok(())
}

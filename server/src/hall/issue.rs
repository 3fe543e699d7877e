//! Issuing a ticket: the admission check ([`admission`]), the next free number of the service's series, the
//! first estimate, and the kiosk's idempotency key (a retried request gets the same ticket).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::events::{Event, Message};
use qhall_shared::{ServiceCode, TicketNumber};

use super::Outbox;
use super::estimate::{RECENT_SERVICE_WINDOW_HOURS, estimate};
use crate::queue::admission::{self, Refusal};
use crate::queue::estimate::ForecastTable;
use crate::queue::lifecycle::Action;
use crate::queue::numbering;
use crate::queue::schedule::local_date;
use crate::store::tx::ConfigCache;
use crate::store::{
    BranchConfig, NewTicket, Principal, Result, StoreError, TicketEvent, TicketRow, Tx,
};

/// A new ticket's answer.
#[derive(Debug, Clone)]
pub struct Issued {
    pub ticket: TicketRow,
    /// The branch configuration it was issued under (names and guides for the answer).
    pub config: std::sync::Arc<BranchConfig>,
    /// False when an earlier request with the same Idempotency-Key already issued it.
    pub created: bool,
}

/// A checked-in booking's ticket: its slot, and the number series appointment tickets take.
#[derive(Debug, Clone, Copy)]
pub struct Appointment {
    pub slot_start: DateTime<Utc>,
    /// A letter of its own (e.g. `Y`: Y001, Y002, …), or `None` for the service's series.
    pub prefix: Option<ServiceCode>,
}

/// Issues a ticket for service `code` if [`admission::admit`] allows it.
/// `forecast` is the branch's latest forecast table, if any: the estimate comes from it when it
/// can say, else from the formula.
#[allow(clippy::too_many_arguments)]
pub async fn issue<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    code: ServiceCode,
    priority: bool,
    idempotency_key: Option<&str>,
    forecast: Option<&ForecastTable>,
    now: DateTime<Utc>,
) -> Result<Issued> {
    issue_with(
        tx,
        out,
        who,
        code,
        priority,
        idempotency_key,
        forecast,
        None,
        now,
    )
    .await
}

/// [`issue`], for a walk-in or (with `appointment`) a booking checked in: an appointment's
/// ticket takes its place in line, and counts its wait, from the moment it is due — its slot's
/// start, or now if later — and its estimate counts only the appointments due before it.
#[allow(clippy::too_many_arguments)]
pub async fn issue_with<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    code: ServiceCode,
    priority: bool,
    idempotency_key: Option<&str>,
    forecast: Option<&ForecastTable>,
    appointment: Option<Appointment>,
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
    let svc = admission::admit(
        &cfg.services,
        cfg.emergency.as_deref(),
        &cfg.schedule,
        code,
        priority,
        now,
    )
    .map_err(|r| match r {
        Refusal::UnknownService(_) => StoreError::not_found(r.code(), r.message()),
        Refusal::NoPriority(_) => StoreError::invalid(r.code(), r.message()),
        _ => StoreError::conflict(r.code(), r.message()),
    })?
    .clone();

    let day = local_date(cfg.schedule.tz, now);
    let series = appointment.and_then(|a| a.prefix).unwrap_or(code);
    let previous = tx.last_number(branch, series, day).await?;
    let width = svc.number_width();
    let mut number_seq = None;
    for n in numbering::candidates(svc.first_number, svc.last_number, previous) {
        let number = TicketNumber::format(series, n, width);
        if !tx.number_is_live(branch, &number).await? {
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
    tx.set_last_number(branch, series, day, number_seq).await?;
    let number = TicketNumber::format(series, number_seq, width);
    let queue_at = appointment.map_or(now, |a| a.slot_start.max(now));

    // Ahead: waiting tickets of the service that a ticket queued now would follow.
    // Every waiting ticket of its class or a higher one is ahead of a new ticket; an
    // appointment follows the appointments due before it.
    let ahead = if appointment.is_some() {
        tx.count(
            "SELECT COUNT(*) FROM tickets WHERE branch_id = ? AND service_code = ? \
             AND status = 'waiting' AND appointment_at IS NOT NULL AND queue_at <= ?",
            args![branch, &code, queue_at],
        )
        .await?
    } else {
        let (priority_waiting, normal_waiting) = tx.waiting_by_class(branch, code).await?;
        if priority {
            priority_waiting
        } else {
            priority_waiting + normal_waiting
        }
    };
    let mut estimate_secs = estimate(tx, &cfg, code, priority, ahead, forecast, now).await?;
    if appointment.is_none() && svc.appointments {
        // A walk-in also follows the booked customers who will be due while it waits (the
        // policy calls them first): they count as ahead, once, for the wait first estimated.
        let until = now + chrono::Duration::seconds(i64::try_from(estimate_secs).unwrap_or(0));
        let booked = tx
            .count(
                "SELECT COUNT(*) FROM bookings WHERE branch_id = ? AND service_code = ? \
                 AND day = ? AND state = 'booked' AND slot_start >= ? AND slot_start < ?",
                args![branch, &code, day, now, until],
            )
            .await?;
        if booked > 0 {
            estimate_secs =
                estimate(tx, &cfg, code, priority, ahead + booked, forecast, now).await?;
        }
    }
    let id = new_ticket_id();
    let ticket = tx
        .insert_ticket(&NewTicket {
            id,
            branch_id: branch,
            service: code,
            number,
            number_seq,
            day,
            priority,
            issued_at: now,
            queue_at,
            estimate_ahead: ahead,
            estimate_secs,
            device_id: who.device_id,
            appointment_at: appointment.map(|a| a.slot_start),
        })
        .await?;
    let key = ticket.key;
    tx.append_ticket_event(&TicketEvent {
        ticket: key,
        at: now,
        kind: Action::Issue,
        window: None,
        staff: who.user_id,
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
    Ok(Issued {
        ticket,
        config: cfg,
        created: true,
    })
}

/// A walk-in's issue decided as far as the branch's configuration decides it, for a backend
/// that issues in one statement under the branch's lock (PostgreSQL's `qhall_issue_walk_ins`,
/// which runs the steps of [`issue_with`] for each waiting issue, of its branch, with the same
/// reads: store/postgres/batch.rs).
#[derive(Debug, Clone)]
pub struct IssuePlan<'a> {
    pub branch: i64,
    /// The configuration decided with: under the lock another one means no ticket.
    pub config_version: i64,
    pub scope: String,
    pub key: Option<&'a str>,
    pub service: ServiceCode,
    pub priority: bool,
    pub day: NaiveDate,
    pub first: u32,
    pub last: u32,
    /// Digits of the number (at least 3).
    pub width: usize,
    pub now: DateTime<Utc>,
    /// The new ticket's id.
    pub id: String,
    pub device: Option<i64>,
    pub staff: Option<i64>,
    /// The forecast's waits by position, rounded, with the last one as computed and the
    /// seconds each position beyond it adds; `None`: the formula estimates.
    pub forecast: Option<(Vec<i64>, f64, f64)>,
    /// The formula's: the service's default service time, and the start of the recent window.
    pub default_secs: f64,
    pub recent_since: DateTime<Utc>,
    /// The windows configured to serve the service, each with every service it serves
    /// (comma-separated).
    pub windows: Vec<(i64, String)>,
    /// Whether the service takes bookings (a walk-in then follows those due while it waits).
    pub appointments: bool,
    /// The `issued` message, serialized with [`SEQ_PLACEHOLDER`] and [`WAITING_PLACEHOLDER`].
    pub message: String,
}

/// Stand in the planned message for the seq and the waiting count decided under the lock
/// (numbers no real event carries).
pub const SEQ_PLACEHOLDER: u64 = u64::MAX;
pub const WAITING_PLACEHOLDER: u32 = u32::MAX;

/// What an issue in one statement answers: `created` unless the statement found the
/// idempotency key's earlier ticket.
pub fn issued(plan: &IssuePlan<'_>, ticket: TicketRow, config: Arc<BranchConfig>) -> Issued {
    Issued {
        created: ticket.id == plan.id,
        ticket,
        config,
    }
}

/// A walk-in's [`IssuePlan`] for issuing in one statement, with the configuration it was made
/// with: `None` when the
/// branch's configuration is not cached, admission refuses, or the forecast cannot say a
/// position's wait (issuing step by step answers those).
pub fn plan_walk_in<'a>(
    cache: &ConfigCache,
    who: &Principal,
    code: ServiceCode,
    priority: bool,
    idempotency_key: Option<&'a str>,
    forecast: Option<&ForecastTable>,
    now: DateTime<Utc>,
) -> Option<(IssuePlan<'a>, Arc<BranchConfig>)> {
    let cfg = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&who.branch_id)
        .cloned()?;
    let Ok(svc) = admission::admit(
        &cfg.services,
        cfg.emergency.as_deref(),
        &cfg.schedule,
        code,
        priority,
        now,
    ) else {
        return None;
    };
    // As `estimate` reads the forecast: for every position, or (not one) the formula. Each
    // position's seconds are `wait_secs`'s own; one it cannot say goes step by step.
    let forecast = match forecast.and_then(|f| Some((f, f.waits(code, priority, now)?))) {
        None | Some((_, ([], _))) => None,
        Some((f, (waits, extra))) => {
            let rounded: Option<Vec<i64>> = (0..waits.len())
                .map(|k| {
                    let secs = f.wait_secs(code, priority, u32::try_from(k).ok()?, now)?;
                    i64::try_from(secs).ok()
                })
                .collect();
            let (Some(rounded), true) = (rounded, extra.is_finite()) else {
                return None;
            };
            Some((rounded, waits[waits.len() - 1], extra))
        }
    };
    let windows = cfg
        .windows
        .iter()
        .filter(|w| w.skills.serves.iter().any(|(s, _)| *s == code))
        .map(|w| {
            let serves: Vec<&str> = w.skills.serves.iter().map(|(s, _)| s.as_str()).collect();
            (i64::from(w.number.get()), serves.join(","))
        })
        .collect();
    let message = Message {
        seq: SEQ_PLACEHOLDER,
        event: Event::Issued {
            service: code,
            waiting: WAITING_PLACEHOLDER,
        },
    }
    .to_json();
    let plan = IssuePlan {
        branch: who.branch_id,
        config_version: cfg.version,
        scope: who.idempotency_scope(),
        key: idempotency_key,
        service: code,
        priority,
        day: local_date(cfg.schedule.tz, now),
        first: svc.first_number,
        last: svc.last_number,
        width: svc.number_width().max(3),
        now,
        id: new_ticket_id(),
        device: who.device_id,
        staff: who.user_id,
        forecast,
        default_secs: f64::from(svc.default_service_secs),
        recent_since: now - chrono::Duration::hours(RECENT_SERVICE_WINDOW_HOURS),
        windows,
        appointments: svc.appointments,
        message,
    };
    Some((plan, cfg))
}

/// 128 random bits, URL-safe: the customer's handle on the ticket, never guessable.
fn new_ticket_id() -> String {
    use base64::Engine;
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

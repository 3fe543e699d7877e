//! Issuing a ticket: the admission check ([`admission`]), the next free number of the service's series, the
//! first estimate, and the kiosk's idempotency key (a retried request gets the same ticket).

use chrono::{DateTime, Utc};
use qhall_shared::events::Event;
use qhall_shared::{ServiceCode, TicketNumber};

use super::Outbox;
use super::estimate::estimate;
use crate::queue::admission::{self, Refusal};
use crate::queue::estimate::ForecastTable;
use crate::queue::lifecycle::Action;
use crate::queue::numbering;
use crate::queue::schedule::local_date;
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
            estimate_ahead: ahead,
            estimate_secs,
            device_id: who.device_id,
        })
        .await?;
    let key = ticket.key;
    tx.append_ticket_event(&TicketEvent {
        ticket: key,
        at: now,
        kind: Action::Issue,
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
    Ok(Issued {
        ticket,
        config: cfg,
        created: true,
    })
}

/// 128 random bits, URL-safe: the customer's handle on the ticket, never guessable.
fn new_ticket_id() -> String {
    use base64::Engine;
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

//! What customers say about the service: the rating on the window's pad (one per ticket, only
//! for the ticket just completed there, only for a few minutes), and complaints taken at a
//! window by the person signed in there (the register itself is [`crate::store::complaints`]).

use chrono::{DateTime, Duration, Utc};
use qhall_shared::WindowNo;
use qhall_shared::api::TicketStatus;

use super::access::operable_window;
use crate::store::{NewComplaint, NewRating, Principal, Result, StoreError, TicketRow, Tx};

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
    tx.insert_rating(&NewRating {
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
            let number = super::parse_number(number)?;
            Some(super::ticket_numbered(tx, who.branch_id, &number).await?.key)
        }
    };
    let due_at = now + Duration::days(COMPLAINT_RESPONSE_DAYS);
    let id = tx
        .insert_complaint(&NewComplaint {
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

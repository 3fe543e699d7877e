//! Complaints: taken at a window by the person signed in there ([`record_complaint`]), then the
//! managers' register. A complaint goes open → in progress → resolved; every
//! step is a history entry (who, when, a note, the status change or assignment) and an audit
//! entry. The customer's contact is personal data: lists show it masked, a manager sees it only
//! by asking for it (audited), and the purge ([`purge`]) clears it, with the complaint's texts,
//! once the branch's retention period has passed (after resolution, or after it was taken if
//! it never was resolved). Neither audit details nor logs ever carry it.
//!
//! The table keeps its original status values: `assigned` is what the API calls `in_progress`.

use chrono::{DateTime, Duration, Utc};
use qhall_shared::WindowNo;
use serde::{Deserialize, Serialize};

use super::access::operable_window;
use crate::store::{AuditEntry, NewComplaint, Principal, Result, Store, StoreError, Tx};

pub use qhall_shared::COMPLAINT_CATEGORIES;

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
    let category = qhall_shared::ComplaintCategory::find(&input.category)
        .ok_or_else(|| {
            let codes: Vec<&str> = COMPLAINT_CATEGORIES.iter().map(|c| c.code).collect();
            StoreError::invalid(
                "invalid_category",
                format!("category must be one of {}", codes.join(", ")),
            )
        })?
        .code;
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
            Some(super::ticket_numbered(tx, who.branch_id, &number).await?)
        }
    };
    let due_at = now + Duration::days(COMPLAINT_RESPONSE_DAYS);
    let id = tx
        .insert_complaint(&NewComplaint {
            branch_id: who.branch_id,
            ticket: ticket.as_ref().map(|t| t.key),
            window: Some(input.window),
            staff: Some(staff),
            source: "window",
            kind: "complaint",
            about: ticket.as_ref().and_then(|t| t.staff_user_id),
            service: ticket.as_ref().map(|t| t.service),
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

/// Where a complaint is in its handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintStatus {
    Open,
    InProgress,
    Resolved,
}

impl ComplaintStatus {
    /// As the API says it.
    pub fn as_str(self) -> &'static str {
        match self {
            ComplaintStatus::Open => "open",
            ComplaintStatus::InProgress => "in_progress",
            ComplaintStatus::Resolved => "resolved",
        }
    }

    /// As the `complaints.status` column holds it.
    pub fn db(self) -> &'static str {
        match self {
            ComplaintStatus::Open => "open",
            ComplaintStatus::InProgress => "assigned",
            ComplaintStatus::Resolved => "resolved",
        }
    }

    pub fn from_db(s: &str) -> Self {
        match s {
            "assigned" | "in_progress" => ComplaintStatus::InProgress,
            "resolved" => ComplaintStatus::Resolved,
            _ => ComplaintStatus::Open,
        }
    }

    /// The API's word, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(ComplaintStatus::Open),
            "in_progress" => Some(ComplaintStatus::InProgress),
            "resolved" => Some(ComplaintStatus::Resolved),
            _ => None,
        }
    }

    /// Whether a complaint may move from `self` to `to`: forward only (open → in progress →
    /// resolved, or open → resolved at once), never back, never to where it is.
    pub fn may_become(self, to: ComplaintStatus) -> bool {
        use ComplaintStatus::*;
        matches!(
            (self, to),
            (Open, InProgress) | (Open, Resolved) | (InProgress, Resolved)
        )
    }
}

/// One complaint as the register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ComplaintRow {
    pub id: i64,
    /// The ticket it is about, if any.
    pub ticket: Option<String>,
    /// The window it was taken at (or, for the customer's own, where their ticket was served).
    pub window: Option<i64>,
    /// Who took it (user id and name): none for what the customer sent themselves.
    pub taken_by: Option<i64>,
    pub taken_by_name: Option<String>,
    /// `window` (taken by staff), `customer` (sent from the tracking page) or `rating` (the
    /// follow-up of a rating of 1 or 2).
    pub source: String,
    /// `complaint`, `suggestion` or `follow_up`.
    pub kind: String,
    /// The person it concerns (who served the ticket), if known.
    pub about: Option<i64>,
    pub about_name: Option<String>,
    /// The service of its ticket.
    pub service: Option<String>,
    /// When the customer was called back (follow-ups and customers' complaints with a contact).
    pub called_back_at: Option<DateTime<Utc>>,
    pub category: String,
    pub description: String,
    /// Masked (`138****5678`) except where a manager asked for it; `None` when none was given
    /// or it was purged.
    pub contact: Option<String>,
    pub status: ComplaintStatus,
    pub assigned_to: Option<i64>,
    pub assigned_name: Option<String>,
    /// The note it was resolved with.
    pub resolution: Option<String>,
    /// At resolution: `upheld` (it counts against the person concerned, `about`) or
    /// `not_upheld`; `None` when not said.
    pub outcome: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The answer is owed by then.
    pub due_at: DateTime<Utc>,
    /// Not resolved and past `due_at`.
    pub overdue: bool,
}

/// One entry of a complaint's history.
#[derive(Debug, Clone, Serialize)]
pub struct NoteRow {
    pub at: DateTime<Utc>,
    pub by: Option<i64>,
    pub by_name: Option<String>,
    pub text: String,
    pub from_status: Option<ComplaintStatus>,
    pub to_status: Option<ComplaintStatus>,
    pub assigned_to: Option<i64>,
    pub assigned_name: Option<String>,
}

/// A history entry to store.
#[derive(Debug, Clone)]
pub struct NewNote<'a> {
    pub complaint: i64,
    pub user: Option<i64>,
    pub at: DateTime<Utc>,
    pub text: &'a str,
    pub change: Option<(ComplaintStatus, ComplaintStatus)>,
    pub assigned_to: Option<i64>,
}

/// Whether a resolved complaint was upheld against the person concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Upheld,
    NotUpheld,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Upheld => "upheld",
            Outcome::NotUpheld => "not_upheld",
        }
    }
}

/// A note on a complaint: its text, optionally a status change forward; when resolving, the
/// outcome and the person concerned (who served the ticket, unless the manager says who).
#[derive(Debug, Clone, Default)]
pub struct NoteInput {
    pub text: String,
    pub status: Option<ComplaintStatus>,
    /// The customer was called back (with this note).
    pub called_back: bool,
    pub outcome: Option<Outcome>,
    pub about: Option<i64>,
}

/// Which complaints a list shows.
#[derive(Debug, Clone, Default)]
pub struct ComplaintFilter {
    pub status: Option<ComplaintStatus>,
    /// `Some(true)`: only overdue ones; `Some(false)`: only those not overdue.
    pub overdue: Option<bool>,
    pub category: Option<String>,
    /// Taken in `[from, to)`.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// A person of the branch a complaint can be assigned to.
#[derive(Debug, Clone)]
pub struct BranchPerson {
    pub name: String,
    pub role: String,
    pub active: bool,
}

/// The most a list returns (the newest).
pub const LIST_LIMIT: i64 = 2000;
/// Contacts are kept this many days after resolution unless the branch says otherwise.
pub const DEFAULT_RETENTION_DAYS: u32 = 180;
/// The retention a manager may set: a day to ten years.
pub const RETENTION_RANGE: std::ops::RangeInclusive<u32> = 1..=3650;
/// The longest note.
pub const NOTE_MAX_CHARS: usize = 2000;

/// The reads and writes of the register, implemented by each backend.
#[allow(async_fn_in_trait)]
pub trait ComplaintsTx {
    /// The branch's complaints taken in `[from, to)`, newest first, at most [`LIST_LIMIT`],
    /// contacts unmasked and `overdue` false (the operations decide both).
    async fn complaints(
        &mut self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ComplaintRow>>;
    /// One complaint of the branch, as [`ComplaintsTx::complaints`] gives them.
    async fn complaint(&mut self, branch: i64, id: i64) -> Result<Option<ComplaintRow>>;
    /// The complaint's history, oldest first.
    async fn complaints_history(&mut self, id: i64) -> Result<Vec<NoteRow>>;
    /// Writes the complaint's status, assignee, resolution and resolution time.
    async fn update_complaint(&mut self, c: &ComplaintRow) -> Result<()>;
    async fn insert_complaint_note(&mut self, n: &NewNote<'_>) -> Result<()>;
    /// The active staff and managers of the branch, by name: who a complaint can go to.
    async fn assignable(&mut self, branch: i64) -> Result<Vec<(i64, String)>>;
    /// A user of the branch (or an admin of every branch).
    async fn branch_person(&mut self, branch: i64, user: i64) -> Result<Option<BranchPerson>>;
    async fn retention_days(&mut self, branch: i64) -> Result<u32>;
    async fn set_retention_days(&mut self, branch: i64, days: u32) -> Result<()>;
    /// Clears the personal data — contact, description, resolution and the notes' text — of the
    /// branch's complaints resolved before `before`, or still unresolved and taken before it;
    /// returns their ids (only those that still held any).
    async fn purge_contacts(&mut self, branch: i64, before: DateTime<Utc>) -> Result<Vec<i64>>;
}

/// A contact as a list shows it: a phone number keeps its first three and last four digits
/// (`138****5678`), an e-mail address its first letter and domain (`a***@x.cn`), anything else
/// only its first character.
pub fn mask_contact(c: &str) -> String {
    let c = c.trim();
    if let Some((local, domain)) = c.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let chars: Vec<char> = c.chars().collect();
    let digits = chars.iter().filter(|ch| ch.is_ascii_digit()).count();
    let phone_like = chars
        .iter()
        .all(|ch| ch.is_ascii_digit() || matches!(ch, ' ' | '+' | '-' | '(' | ')'));
    if digits >= 7 && phone_like {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        return format!("{head}{}{tail}", "*".repeat(chars.len() - 7));
    }
    let first: String = chars.iter().take(1).collect();
    format!("{first}***")
}

/// What a manager's list or detail shows of a stored row.
fn shown(mut c: ComplaintRow, now: DateTime<Utc>) -> ComplaintRow {
    c.contact = c.contact.as_deref().map(mask_contact);
    c.overdue = c.status != ComplaintStatus::Resolved && c.due_at < now;
    c
}

/// The branch's complaints that pass `filter`, contacts masked.
pub async fn list<T: ComplaintsTx>(
    tx: &mut T,
    branch: i64,
    filter: &ComplaintFilter,
    now: DateTime<Utc>,
) -> Result<Vec<ComplaintRow>> {
    let from = filter.from.unwrap_or(DateTime::<Utc>::MIN_UTC);
    let to = filter.to.unwrap_or(DateTime::<Utc>::MAX_UTC);
    let rows = tx.complaints(branch, from, to).await?;
    Ok(rows
        .into_iter()
        .map(|c| shown(c, now))
        .filter(|c| filter.status.is_none_or(|s| s == c.status))
        .filter(|c| filter.overdue.is_none_or(|o| o == c.overdue))
        .filter(|c| filter.category.as_deref().is_none_or(|k| k == c.category))
        .collect())
}

async fn existing<T: ComplaintsTx>(tx: &mut T, branch: i64, id: i64) -> Result<ComplaintRow> {
    tx.complaint(branch, id).await?.ok_or_else(|| {
        StoreError::not_found("unknown_complaint", format!("there is no complaint {id}"))
    })
}

/// One complaint with its history, the contact masked.
pub async fn detail<T: ComplaintsTx>(
    tx: &mut T,
    branch: i64,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(ComplaintRow, Vec<NoteRow>)> {
    let c = existing(tx, branch, id).await?;
    let notes = tx.complaints_history(id).await?;
    Ok((shown(c, now), notes))
}

fn note_text(text: Option<&str>, required: bool) -> Result<String> {
    let t = text.map(str::trim).unwrap_or_default();
    if (required && t.is_empty()) || t.chars().count() > NOTE_MAX_CHARS {
        return Err(StoreError::invalid(
            "invalid_note",
            format!("write a note of 1 to {NOTE_MAX_CHARS} characters"),
        ));
    }
    Ok(t.to_owned())
}

/// Gives the complaint to `assignee` (a person of the branch); an open complaint is then in
/// progress. A resolved complaint cannot be assigned (409).
pub async fn assign<T: Tx + ComplaintsTx>(
    tx: &mut T,
    who: &Principal,
    id: i64,
    assignee: i64,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ComplaintRow> {
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let text = note_text(note, false)?;
    let mut c = existing(tx, branch, id).await?;
    if c.status == ComplaintStatus::Resolved {
        return Err(StoreError::conflict(
            "complaint_resolved",
            format!("complaint {id} is resolved already"),
        ));
    }
    let person = tx
        .branch_person(branch, assignee)
        .await?
        .filter(|p| p.active && p.role != "admin")
        .ok_or_else(|| {
            StoreError::invalid(
                "unknown_user",
                format!("user {assignee} is not a member of this branch's staff"),
            )
        })?;
    let before = c.status;
    c.status = ComplaintStatus::InProgress;
    c.assigned_to = Some(assignee);
    c.assigned_name = Some(person.name);
    tx.update_complaint(&c).await?;
    tx.insert_complaint_note(&NewNote {
        complaint: id,
        user: who.user_id,
        at: now,
        text: &text,
        change: (before != c.status).then_some((before, c.status)),
        assigned_to: Some(assignee),
    })
    .await?;
    tx.audit(&AuditEntry {
        branch,
        user: who.user_id,
        at: now,
        action: "complaint.assign",
        detail: serde_json::json!({ "complaint": id, "assigned_to": assignee, "status": c.status.as_str() })
            .to_string(),
    })
    .await?;
    Ok(shown(c, now))
}

/// Adds a note to the complaint's history, moving it to `status` if given (forward only:
/// 409 otherwise). Resolving needs a note: it becomes the resolution.
pub async fn add_note<T: Tx + ComplaintsTx>(
    tx: &mut T,
    who: &Principal,
    id: i64,
    input: &NoteInput,
    now: DateTime<Utc>,
) -> Result<ComplaintRow> {
    let NoteInput {
        text,
        status,
        called_back,
        outcome,
        about,
    } = input;
    let (status, called_back) = (*status, *called_back);
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let text = note_text(Some(text), true)?;
    let mut c = existing(tx, branch, id).await?;
    if (outcome.is_some() || about.is_some()) && status != Some(ComplaintStatus::Resolved) {
        return Err(StoreError::invalid(
            "invalid_outcome",
            "the outcome and the person concerned are given when resolving",
        ));
    }
    if let Some(person) = about
        && tx.branch_person(branch, *person).await?.is_none()
    {
        return Err(StoreError::invalid(
            "invalid_outcome",
            format!("there is no person {person} in this branch"),
        ));
    }
    if called_back && c.called_back_at.is_none() {
        c.called_back_at = Some(now);
        tx.update_complaint(&c).await?;
    }
    // A customer who left a contact is called back before their complaint or follow-up is
    // closed (差评整改: the customer hears what was done).
    if status == Some(ComplaintStatus::Resolved)
        && c.source != "window"
        && c.contact.is_some()
        && c.called_back_at.is_none()
    {
        return Err(StoreError::invalid(
            "callback_required",
            "the customer left a contact: call them back, then resolve with called_back set",
        ));
    }
    let before = c.status;
    let change = match status {
        None => None,
        Some(to) if before.may_become(to) => Some((before, to)),
        Some(to) => {
            return Err(StoreError::conflict(
                "invalid_transition",
                format!(
                    "complaint {id} is {} and cannot become {}",
                    before.as_str(),
                    to.as_str()
                ),
            ));
        }
    };
    if let Some((_, to)) = change {
        c.status = to;
        if to == ComplaintStatus::Resolved {
            c.resolution = Some(text.clone());
            c.resolved_at = Some(now);
            c.outcome = outcome.map(|o| o.as_str().to_owned());
            if about.is_some() {
                c.about = *about;
            }
        }
        tx.update_complaint(&c).await?;
    }
    tx.insert_complaint_note(&NewNote {
        complaint: id,
        user: who.user_id,
        at: now,
        text: &text,
        change,
        assigned_to: None,
    })
    .await?;
    // The note's text may quote the customer: the audit says only what changed.
    tx.audit(&AuditEntry {
        branch,
        user: who.user_id,
        at: now,
        action: if change.is_some() {
            "complaint.status"
        } else {
            "complaint.note"
        },
        detail: serde_json::json!({
            "complaint": id,
            "from": change.map(|(f, _)| f.as_str()),
            "to": change.map(|(_, t)| t.as_str()),
            "outcome": outcome.map(|o| o.as_str()),
            "about": c.about.filter(|_| outcome.is_some()),
        })
        .to_string(),
    })
    .await?;
    Ok(shown(c, now))
}

/// The complaint's contact in full, for a manager who asked for it; the asking is audited
/// (without the contact). `None` when none was given or it was purged.
pub async fn reveal_contact<T: Tx + ComplaintsTx>(
    tx: &mut T,
    who: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let c = existing(tx, branch, id).await?;
    tx.audit(&AuditEntry {
        branch,
        user: who.user_id,
        at: now,
        action: "complaint.contact_viewed",
        detail: serde_json::json!({ "complaint": id, "had_contact": c.contact.is_some() })
            .to_string(),
    })
    .await?;
    Ok(c.contact)
}

/// Sets how many days after resolution a complaint's contact is kept.
pub async fn set_retention<T: Tx + ComplaintsTx>(
    tx: &mut T,
    who: &Principal,
    days: i64,
    now: DateTime<Utc>,
) -> Result<u32> {
    let days = u32::try_from(days)
        .ok()
        .filter(|d| RETENTION_RANGE.contains(d))
        .ok_or_else(|| {
            StoreError::invalid(
                "invalid_retention",
                format!(
                    "keep contacts {} to {} days after resolution",
                    RETENTION_RANGE.start(),
                    RETENTION_RANGE.end()
                ),
            )
        })?;
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let before = tx.retention_days(branch).await?;
    tx.set_retention_days(branch, days).await?;
    tx.audit(&AuditEntry {
        branch,
        user: who.user_id,
        at: now,
        action: "complaint.retention",
        detail: serde_json::json!({ "from_days": before, "days": days }).to_string(),
    })
    .await?;
    Ok(days)
}

/// Clears the personal data (contact and texts) of the branch's complaints past the retention
/// period, audited (ids only); returns how many. The period runs from resolution, or — for a
/// complaint never resolved — from when it was taken: an abandoned complaint must not keep a
/// customer's data forever.
pub async fn purge<T: Tx + ComplaintsTx>(
    tx: &mut T,
    branch: i64,
    now: DateTime<Utc>,
) -> Result<usize> {
    tx.lock_branch(branch).await?;
    let days = tx.retention_days(branch).await?;
    let before = now - Duration::days(i64::from(days));
    let ids = tx.purge_contacts(branch, before).await?;
    // Mobile numbers left for messages go with their ticket's day; rating comments with their
    // time.
    super::messages::purge(tx, branch, before.date_naive()).await?;
    tx.execute(
        "UPDATE ratings SET comment = NULL WHERE branch_id = ? AND created_at < ? AND comment IS NOT NULL",
        args![branch, before],
    )
    .await?;
    if !ids.is_empty() {
        tx.audit(&AuditEntry {
            branch,
            user: None,
            at: now,
            action: "complaint.purge",
            detail: serde_json::json!({ "complaints": ids, "retention_days": days }).to_string(),
        })
        .await?;
    }
    Ok(ids.len())
}

impl Store {
    /// The branch's complaints that pass `filter`, contacts masked.
    pub async fn complaints(
        &self,
        branch: i64,
        filter: ComplaintFilter,
        now: DateTime<Utc>,
    ) -> Result<Vec<ComplaintRow>> {
        read!(self, |tx| list(tx, branch, &filter, now))
    }

    /// One complaint with its history, the contact masked.
    pub async fn complaint_detail(
        &self,
        branch: i64,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<(ComplaintRow, Vec<NoteRow>)> {
        read!(self, |tx| detail(tx, branch, id, now))
    }

    /// See [`assign`].
    pub async fn assign_complaint(
        &self,
        who: &Principal,
        id: i64,
        assignee: i64,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<ComplaintRow> {
        let who = who.clone();
        write!(self, |tx, _out| assign(
            tx,
            &who,
            id,
            assignee,
            note.as_deref(),
            now
        ))
    }

    /// See [`add_note`].
    pub async fn complaint_note(
        &self,
        who: &Principal,
        id: i64,
        input: NoteInput,
        now: DateTime<Utc>,
    ) -> Result<ComplaintRow> {
        let who = who.clone();
        write!(self, |tx, _out| add_note(tx, &who, id, &input, now))
    }

    /// See [`reveal_contact`].
    pub async fn complaint_contact(
        &self,
        who: &Principal,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let who = who.clone();
        write!(self, |tx, _out| reveal_contact(tx, &who, id, now))
    }

    /// Who a complaint of the branch can be assigned to: (user id, name).
    pub async fn complaint_assignees(&self, branch: i64) -> Result<Vec<(i64, String)>> {
        read!(self, |tx| tx.assignable(branch))
    }

    /// Days a resolved complaint's contact is kept.
    pub async fn complaint_retention(&self, branch: i64) -> Result<u32> {
        read!(self, |tx| tx.retention_days(branch))
    }

    /// See [`set_retention`].
    pub async fn set_complaint_retention(
        &self,
        who: &Principal,
        days: i64,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        let who = who.clone();
        write!(self, |tx, _out| set_retention(tx, &who, days, now))
    }

    /// Runs [`purge`] for every branch; returns how many contacts were cleared.
    pub async fn purge_complaint_contacts(&self, now: DateTime<Utc>) -> Result<usize> {
        let mut total = 0;
        for branch in self.branch_ids().await? {
            total += write!(self, |tx, _out| purge(tx, branch, now))?;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_masked_by_kind() {
        assert_eq!(mask_contact("13812345678"), "138****5678");
        assert_eq!(mask_contact("alice@x.cn"), "a***@x.cn");
        assert_eq!(mask_contact("+86 138 1234 5678"), "+86**********5678");
        assert_eq!(mask_contact("王先生"), "王***");
        assert_eq!(mask_contact(""), "***");
    }

    #[test]
    fn status_moves_forward_only() {
        use ComplaintStatus::*;
        assert!(Open.may_become(InProgress));
        assert!(Open.may_become(Resolved));
        assert!(InProgress.may_become(Resolved));
        for (a, b) in [
            (Open, Open),
            (InProgress, Open),
            (InProgress, InProgress),
            (Resolved, Open),
            (Resolved, InProgress),
            (Resolved, Resolved),
        ] {
            assert!(!a.may_become(b), "{a:?} -> {b:?}");
        }
    }
}

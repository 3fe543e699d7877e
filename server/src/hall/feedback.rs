//! Feedback the customer gives themselves, from the tracking page of their ticket: a rating
//! with an optional comment (when the window's pad was not used), and a complaint or suggestion.
//! Both land in the managers' complaints register ([`super::complaints`]), linked to the ticket,
//! its window and who served it: a complaint with source `customer`, and for a rating of 1 or
//! 2 a follow-up item (差评整改, source `rating`) due in the branch's `follow_up_days` working
//! days. Staff never see the register; the person a complaint concerns hears of it from a
//! manager who assigns it.
//!
//! The holder of the ticket's unguessable id is the customer; they may send feedback for
//! [`FEEDBACK_DAYS`] after the ticket was issued, [`MAX_PER_TICKET`] complaints at most.

use chrono::{DateTime, Duration, Utc};
use qhall_shared::api::TicketStatus;

use super::complaints::COMPLAINT_RESPONSE_DAYS;
use crate::queue::schedule::{Schedule, local_date, local_day_bounds};
use crate::store::{NewComplaint, Result, StoreError, TicketRow, Tx};

/// Days after issue a ticket's holder may still rate or complain.
pub const FEEDBACK_DAYS: i64 = 7;
/// Complaints and suggestions one ticket may send.
pub const MAX_PER_TICKET: u32 = 3;
/// The longest comment on a rating.
pub const COMMENT_MAX_CHARS: usize = 500;
/// The longest complaint or suggestion.
pub const TEXT_MAX_CHARS: usize = 2000;

/// A rating from the tracking page.
#[derive(Debug, Clone, Default)]
pub struct CustomerRating {
    pub score: u8,
    pub comment: Option<String>,
    /// For the call back of a bad rating; stored only with consent.
    pub contact: Option<String>,
    pub consent: bool,
}

/// A complaint or suggestion from the tracking page.
#[derive(Debug, Clone, Default)]
pub struct CustomerFeedback {
    /// `complaint` or `suggestion`.
    pub kind: String,
    pub category: String,
    pub text: String,
    pub contact: Option<String>,
    pub consent: bool,
}

/// What the register made of a customer's feedback: (id, due_at).
pub type Opened = (i64, DateTime<Utc>);

async fn ticket_for_feedback<T: Tx>(tx: &mut T, id: &str, now: DateTime<Utc>) -> Result<TicketRow> {
    let t = tx
        .ticket_by_id(id)
        .await?
        .ok_or_else(|| StoreError::not_found("unknown_ticket", "there is no such ticket"))?;
    tx.lock_branch(t.branch_id).await?;
    if now - t.issued_at > Duration::days(FEEDBACK_DAYS) {
        return Err(StoreError::conflict(
            "feedback_closed",
            format!("feedback is taken for {FEEDBACK_DAYS} days after the ticket was issued"),
        ));
    }
    Ok(t)
}

/// A contact given with consent (trimmed, at most 200 characters), else none; one without
/// consent is refused (422 `consent_required`).
fn consented_contact(contact: Option<&str>, consent: bool) -> Result<Option<String>> {
    let Some(c) = contact.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    if !consent {
        return Err(StoreError::invalid(
            "consent_required",
            "a contact is kept only when you agree: tick the box or leave it empty",
        ));
    }
    if c.chars().count() > 200 {
        return Err(StoreError::invalid(
            "invalid_contact",
            "a contact is at most 200 characters",
        ));
    }
    Ok(Some(c.to_owned()))
}

/// Rates the served ticket `id` from its tracking page. 409 `not_served` (not completed),
/// `already_rated` (on the pad or here), `feedback_closed`; 422 `invalid_score`,
/// `invalid_comment`. A score of 1 or 2 opens a follow-up, returned.
pub async fn rate<T: Tx>(
    tx: &mut T,
    id: &str,
    r: &CustomerRating,
    now: DateTime<Utc>,
) -> Result<Option<Opened>> {
    if !(1..=5).contains(&r.score) {
        return Err(StoreError::invalid(
            "invalid_score",
            "score must be 1 (very dissatisfied) to 5 (very satisfied)",
        ));
    }
    let comment = r
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > COMMENT_MAX_CHARS) {
        return Err(StoreError::invalid(
            "invalid_comment",
            format!("a comment is at most {COMMENT_MAX_CHARS} characters"),
        ));
    }
    let contact = consented_contact(r.contact.as_deref(), r.consent)?;
    let t = ticket_for_feedback(tx, id, now).await?;
    let (TicketStatus::Done, Some(window)) = (t.status, t.window) else {
        return Err(StoreError::conflict(
            "not_served",
            format!(
                "{} has not been served yet: rate it after your visit",
                t.number
            ),
        ));
    };
    let rated = tx
        .int("SELECT 1 FROM ratings WHERE ticket_key = ?", args![t.key])
        .await?;
    if rated.is_some() {
        return Err(StoreError::conflict(
            "already_rated",
            format!("{} has been rated already", t.number),
        ));
    }
    tx.execute(
        "INSERT INTO ratings (ticket_key, branch_id, window_number, staff_user_id, score, created_at, source, comment) \
         VALUES (?, ?, ?, ?, ?, ?, 'customer', ?)",
        args![
            t.key,
            t.branch_id,
            window,
            t.staff_user_id,
            u32::from(r.score),
            now,
            comment
        ],
    )
    .await?;
    if r.score > 2 {
        return Ok(None);
    }
    let cfg = tx.config(t.branch_id).await?;
    let due_at = after_working_days(&cfg.schedule, now, cfg.messages.follow_up_days);
    let label = if r.score == 1 {
        "非常不满意"
    } else {
        "不满意"
    };
    let description = match comment {
        Some(c) => format!("评分 {}/5（{label}）：{c}", r.score),
        None => format!("评分 {}/5（{label}）", r.score),
    };
    let id = tx
        .insert_complaint(&NewComplaint {
            branch_id: t.branch_id,
            ticket: Some(t.key),
            window: Some(window),
            staff: None,
            source: "rating",
            kind: "follow_up",
            about: t.staff_user_id,
            service: Some(t.service),
            category: "other",
            description,
            consent: contact.is_some(),
            contact,
            created_at: now,
            due_at,
        })
        .await?;
    Ok(Some((id, due_at)))
}

/// A complaint or suggestion about ticket `id` from its holder, for the managers' register.
/// 409 `too_much_feedback` past [`MAX_PER_TICKET`], `feedback_closed`; 422 `invalid_kind`,
/// `invalid_category`, `invalid_description`, `consent_required`.
pub async fn complain<T: Tx>(
    tx: &mut T,
    id: &str,
    f: &CustomerFeedback,
    now: DateTime<Utc>,
) -> Result<Opened> {
    let kind = match f.kind.as_str() {
        "complaint" => "complaint",
        "suggestion" => "suggestion",
        _ => {
            return Err(StoreError::invalid(
                "invalid_kind",
                "kind must be complaint or suggestion",
            ));
        }
    };
    let category = qhall_shared::ComplaintCategory::find(&f.category)
        .ok_or_else(|| {
            let codes: Vec<&str> = super::COMPLAINT_CATEGORIES.iter().map(|c| c.code).collect();
            StoreError::invalid(
                "invalid_category",
                format!("category must be one of {}", codes.join(", ")),
            )
        })?
        .code;
    let text = f.text.trim();
    if text.is_empty() || text.chars().count() > TEXT_MAX_CHARS {
        return Err(StoreError::invalid(
            "invalid_description",
            format!("write 1 to {TEXT_MAX_CHARS} characters"),
        ));
    }
    let contact = consented_contact(f.contact.as_deref(), f.consent)?;
    let t = ticket_for_feedback(tx, id, now).await?;
    let sent = tx
        .count(
            "SELECT COUNT(*) FROM complaints WHERE ticket_key = ? AND source = 'customer'",
            args![t.key],
        )
        .await?;
    if sent >= MAX_PER_TICKET {
        return Err(StoreError::conflict(
            "too_much_feedback",
            format!("a ticket may send {MAX_PER_TICKET} complaints or suggestions"),
        ));
    }
    let due_at = now + Duration::days(COMPLAINT_RESPONSE_DAYS);
    let id = tx
        .insert_complaint(&NewComplaint {
            branch_id: t.branch_id,
            ticket: Some(t.key),
            window: t.window,
            staff: None,
            source: "customer",
            kind,
            about: t.staff_user_id,
            service: Some(t.service),
            category,
            description: text.to_owned(),
            consent: contact.is_some(),
            contact,
            created_at: now,
            due_at,
        })
        .await?;
    Ok((id, due_at))
}

/// The end of the `n`-th working day after `now`'s day: a working day is one the branch is
/// open on (its weekly hours and dated exceptions). A branch open on no day in a year counts
/// calendar days.
pub fn after_working_days(schedule: &Schedule, now: DateTime<Utc>, n: u32) -> DateTime<Utc> {
    let mut day = local_date(schedule.tz, now);
    let mut left = n;
    for _ in 0..366 {
        day = day.succ_opt().unwrap_or(day);
        if !schedule.periods_on(day).is_empty() {
            left -= 1;
            if left == 0 {
                return local_day_bounds(schedule.tz, day).1;
            }
        }
    }
    now + Duration::days(i64::from(n))
}

/// Complaints, suggestions and follow-ups counted for one service, window or person.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FeedbackLine {
    /// The service code, window number or person's id; `""` when the item names none.
    pub key: String,
    /// Complaints taken at a window or sent by the customer.
    pub complaints: u32,
    /// Of those, sent by the customer from the tracking page.
    pub from_customers: u32,
    pub suggestions: u32,
    /// Follow-ups of ratings of 1 or 2.
    pub follow_ups: u32,
    /// Not resolved yet.
    pub open: u32,
    /// Not resolved and past their deadline now.
    pub overdue: u32,
    /// Resolved, but after their deadline.
    pub resolved_late: u32,
}

/// The register's items opened in a report's range, grouped.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FeedbackReport {
    pub total: FeedbackLine,
    pub by_service: Vec<FeedbackLine>,
    pub by_window: Vec<FeedbackLine>,
    /// By the person each item concerns (who served the ticket).
    pub by_person: Vec<FeedbackLine>,
}

/// One register item as the report counts it.
#[derive(Debug, Clone)]
pub struct FeedbackItem {
    pub source: String,
    pub kind: String,
    pub resolved_at: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    pub service: Option<String>,
    pub window: Option<i64>,
    pub person: Option<i64>,
}

/// Groups `items` as of `now`.
pub fn group(items: &[FeedbackItem], now: DateTime<Utc>) -> FeedbackReport {
    use std::collections::BTreeMap;
    fn add(line: &mut FeedbackLine, i: &FeedbackItem, now: DateTime<Utc>) {
        match i.kind.as_str() {
            "suggestion" => line.suggestions += 1,
            "follow_up" => line.follow_ups += 1,
            _ => {
                line.complaints += 1;
                if i.source == "customer" {
                    line.from_customers += 1;
                }
            }
        }
        match i.resolved_at {
            None => {
                line.open += 1;
                if i.due_at < now {
                    line.overdue += 1;
                }
            }
            Some(at) if at > i.due_at => line.resolved_late += 1,
            Some(_) => {}
        }
    }
    let mut total = FeedbackLine::default();
    let (mut services, mut windows, mut people) =
        (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for i in items {
        add(&mut total, i, now);
        let s = i.service.clone().unwrap_or_default();
        add(
            services.entry(s).or_insert_with(FeedbackLine::default),
            i,
            now,
        );
        add(
            windows
                .entry(i.window)
                .or_insert_with(FeedbackLine::default),
            i,
            now,
        );
        add(
            people.entry(i.person).or_insert_with(FeedbackLine::default),
            i,
            now,
        );
    }
    let keyed = |m: BTreeMap<Option<i64>, FeedbackLine>| {
        m.into_iter()
            .map(|(k, mut l)| {
                l.key = k.map(|k| k.to_string()).unwrap_or_default();
                l
            })
            .collect()
    };
    FeedbackReport {
        total,
        by_service: services
            .into_iter()
            .map(|(k, mut l)| {
                l.key = k;
                l
            })
            .collect(),
        by_window: keyed(windows),
        by_person: keyed(people),
    }
}

/// The branch's register items opened in `[from, to)`.
pub async fn items<T: crate::store::Sql>(
    tx: &mut T,
    branch: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<FeedbackItem>> {
    tx.rows(
        "SELECT source, kind, resolved_at, due_at, service_code, window_number, about_user_id \
         FROM complaints WHERE branch_id = ? AND created_at >= ? AND created_at < ? ORDER BY id",
        args![branch, from, to],
        |r| {
            Ok(FeedbackItem {
                source: r.text("source")?,
                kind: r.text("kind")?,
                resolved_at: r.opt_time("resolved_at")?,
                due_at: r.time("due_at")?,
                service: r.opt_text("service_code")?,
                window: r.opt_int("window_number")?,
                person: r.opt_int("about_user_id")?,
            })
        },
    )
    .await
}

impl crate::store::Store {
    /// The register's items opened in `[from, to)`, grouped as of `now`.
    pub async fn feedback_report(
        &self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<FeedbackReport> {
        let items = read!(self, |tx| items(tx, branch, from, to))?;
        Ok(group(&items, now))
    }

    /// See [`rate`].
    pub async fn rate_by_customer(
        &self,
        id: &str,
        r: &CustomerRating,
        now: DateTime<Utc>,
    ) -> Result<Option<Opened>> {
        let (id, r) = (id.to_owned(), r.clone());
        write!(self, |tx, _out| rate(tx, &id, &r, now))
    }

    /// See [`complain`].
    pub async fn complaint_by_customer(
        &self,
        id: &str,
        f: &CustomerFeedback,
        now: DateTime<Utc>,
    ) -> Result<Opened> {
        let (id, f) = (id.to_owned(), f.clone());
        write!(self, |tx, _out| complain(tx, &id, &f, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::schedule::Weekly;

    #[test]
    fn working_days_skip_the_days_the_branch_is_closed() {
        let s = Schedule {
            tz: chrono_tz::Asia::Shanghai,
            weekly: Weekly::weekdays(&[(540, 1020)]),
            exceptions: Vec::new(),
            cutoff_mins: 0,
        };
        // Friday 2026-12-04 10:00 in Shanghai; 2 working days: Monday, Tuesday.
        let now = "2026-12-04T02:00:00Z".parse().unwrap();
        let due = after_working_days(&s, now, 2);
        assert_eq!(
            due,
            "2026-12-08T16:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}

//! The monthly assessment and the graded consequences (issue #14): per person per month one
//! scorecard — tickets served, service time against each service's own median, satisfaction,
//! complaints upheld against them, attendance against their own shift, identity checks,
//! out-of-order calls, extended cases, training hours — scored and graded by the branch's
//! settings ([`crate::queue::assessment`]), with a manager's note. The branch's ladder only
//! proposes records; a manager confirms or dismisses each (audited), and confirmed ones are the
//! person's disciplinary record. A manager sees everyone of the branch; staff see only their
//! own scorecard and confirmed records, never a proposal still undecided.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::Serialize;

use super::attendance::{AttendanceTx, attendance};
use super::shifts::{own_or_manager, person};
use crate::queue::IdentityCheck;
use crate::queue::assessment::{Figures, Measure, Scored, Settings, median, proposals, score};
use crate::queue::schedule::local_instant;
use crate::store::sql::Sql;
use crate::store::{AuditEntry, Principal, Result, Role, StoreError, Tx};

/// A calendar month of the branch: `YYYY-MM`, its first and last day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub key: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// `YYYY-MM` (years 2000–2200); 422 `invalid_month` otherwise.
    pub fn parse(s: &str) -> Result<Period> {
        let bad = || StoreError::invalid("invalid_month", "a month is YYYY-MM");
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        let (y, m): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if !(2000..=2200).contains(&y) || s.len() != 7 {
            return Err(bad());
        }
        let from = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)?;
        Ok(Self::of(from))
    }

    /// The month `day` lies in.
    pub fn of(day: NaiveDate) -> Period {
        let from = day.with_day(1).unwrap_or(day);
        let to = from
            .checked_add_months(Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(from);
        Period {
            key: format!("{:04}-{:02}", from.year(), from.month()),
            from,
            to,
        }
    }
}

/// A manager's note on a scorecard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub text: String,
    pub written_by: Option<String>,
    pub written_at: DateTime<Utc>,
}

/// What a rule proposes and no manager has decided yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    pub user_id: i64,
    pub period: String,
    pub rule: String,
    pub measure: Measure,
    pub count: u32,
    pub at_least: u32,
    pub level: String,
    pub reason: String,
}

/// A decided proposal: `confirmed` ones are the disciplinary record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub id: i64,
    pub user_id: i64,
    pub period: String,
    pub rule: String,
    pub level: String,
    pub reason: String,
    /// `confirmed` or `dismissed`.
    pub state: String,
    pub note: String,
    pub decided_by: Option<String>,
    pub decided_at: DateTime<Utc>,
}

/// One person's month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    pub user_id: i64,
    pub name: String,
    pub period: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub figures: Figures,
    #[serde(flatten)]
    pub scored: Scored,
    pub note: Option<Note>,
    /// Undecided proposals (managers only; empty for staff).
    pub proposals: Vec<Proposal>,
    /// Decided this period: confirmed ones (and, for managers, dismissed ones too).
    pub records: Vec<Record>,
}

/// The branch's settings (the defaults until a manager sets them).
pub async fn settings<T: Sql>(tx: &mut T, branch: i64) -> Result<Settings> {
    let stored = tx
        .row(
            "SELECT settings FROM assessment_settings WHERE branch_id = ?",
            args![branch],
            |r| r.json::<Settings>("settings"),
        )
        .await?;
    Ok(stored.unwrap_or_default())
}

/// Replaces the branch's weights, grades and ladder (managers), audited; 422
/// `invalid_assessment` saying what is wrong, nothing changed.
pub async fn set_settings<T: Tx>(
    tx: &mut T,
    who: &Principal,
    new: Settings,
    now: DateTime<Utc>,
) -> Result<Settings> {
    let new = new
        .checked()
        .map_err(|m| StoreError::invalid("invalid_assessment", m))?;
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let before = settings(tx, branch).await?;
    let json = serde_json::to_string(&new).map_err(|e| StoreError::Other(e.into()))?;
    tx.execute(
        "INSERT INTO assessment_settings (branch_id, settings) VALUES (?, ?) \
         ON CONFLICT (branch_id) DO UPDATE SET settings = excluded.settings",
        args![branch, json.as_str()],
    )
    .await?;
    tx.audit(&AuditEntry {
        branch,
        user: who.user_id,
        at: now,
        action: "assessment.settings",
        detail: serde_json::json!({ "from": before, "to": new }).to_string(),
    })
    .await?;
    Ok(new)
}

fn is_manager(who: &Principal) -> bool {
    matches!(who.role, Role::Manager | Role::Admin)
}

/// The scorecards of `period`: everyone of the branch (staff and managers) for a manager, or
/// only `only`'s (staff: only their own, 403 otherwise).
pub async fn scorecards<T: Tx + AttendanceTx>(
    tx: &mut T,
    who: &Principal,
    period: &Period,
    only: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(Settings, Vec<Scorecard>)> {
    let branch = who.branch_id;
    match only {
        Some(user) => {
            own_or_manager(who, user, "assessment")?;
            person(tx, branch, user).await?;
        }
        None if !is_manager(who) => {
            return Err(StoreError::forbidden(
                "forbidden",
                "a staff member sees only their own assessment",
            ));
        }
        None => {}
    }
    let settings = settings(tx, branch).await?;
    let mut figures = gather(tx, branch, period, now).await?;
    let people = tx
        .rows(
            "SELECT id, CASE WHEN display_name = '' THEN username ELSE display_name END AS name, \
             active AND role = 'staff' AS listed FROM users \
             WHERE branch_id = ? AND role IN ('staff', 'manager') ORDER BY id",
            args![branch],
            |r| Ok((r.int("id")?, r.text("name")?, r.flag("listed")?)),
        )
        .await?;
    let notes = notes(tx, branch, &period.key).await?;
    let decided = records_where(tx, branch, Some(&period.key), only).await?;
    let manager = is_manager(who);
    let mut cards = Vec::new();
    // Everyone on the staff, and anyone else (a manager at a window, someone who has left)
    // with something to show for the month.
    for (user, name, listed) in people {
        if only.is_some_and(|o| o != user) {
            continue;
        }
        let f = figures.remove(&user).unwrap_or_default();
        if only.is_none() && !listed && f == Figures::default() {
            continue;
        }
        let scored = score(&settings, &f);
        let mine: Vec<Record> = decided
            .iter()
            .filter(|r| r.user_id == user && (manager || r.state == "confirmed"))
            .cloned()
            .collect();
        let pending = if manager {
            proposals(&settings, &f)
                .into_iter()
                .filter(|(r, _)| !decided.iter().any(|d| d.user_id == user && d.rule == r.key))
                .map(|(r, count)| Proposal {
                    user_id: user,
                    period: period.key.clone(),
                    rule: r.key.clone(),
                    measure: r.measure,
                    count,
                    at_least: r.at_least,
                    level: r.level.clone(),
                    reason: format!(
                        "{count} × {} in {} (rule {}: {} or more → {})",
                        r.measure.as_str(),
                        period.key,
                        r.key,
                        r.at_least,
                        r.level
                    ),
                })
                .collect()
        } else {
            Vec::new()
        };
        cards.push(Scorecard {
            user_id: user,
            name,
            period: period.key.clone(),
            from: period.from,
            to: period.to,
            figures: f,
            scored,
            note: notes.get(&user).cloned(),
            proposals: pending,
            records: mine,
        });
    }
    Ok((settings, cards))
}

/// Every person's figures for the period, from the tickets, ratings, complaints, events,
/// attendance and training of the branch.
async fn gather<T: Tx + AttendanceTx>(
    tx: &mut T,
    branch: i64,
    period: &Period,
    now: DateTime<Utc>,
) -> Result<HashMap<i64, Figures>> {
    let cfg = tx.config(branch).await?;
    let tz = cfg.schedule.tz;
    let (start, end) = (
        local_instant(tz, period.from, 0),
        local_instant(tz, period.to, 1440),
    );
    let mut by: HashMap<i64, Figures> = HashMap::new();

    // Service: each ticket's time against its service's median over the period.
    let served = tx
        .rows(
            "SELECT staff_user_id, service_code, done_at - serving_at AS service_ms, \
             identity_checked_at FROM tickets WHERE branch_id = ? AND status = 'done' \
             AND done_at >= ? AND done_at < ? AND staff_user_id IS NOT NULL \
             AND serving_at IS NOT NULL",
            args![branch, start, end],
            |r| {
                Ok((
                    r.int("staff_user_id")?,
                    r.text("service_code")?,
                    r.int("service_ms")?.max(0),
                    r.opt_int("identity_checked_at")?.is_some(),
                ))
            },
        )
        .await?;
    let mut per_service: HashMap<&str, Vec<i64>> = HashMap::new();
    for (_, service, ms, _) in &served {
        per_service.entry(service).or_default().push(*ms);
    }
    let medians: HashMap<&str, i64> = per_service
        .into_iter()
        .filter_map(|(s, mut v)| median(&mut v).map(|m| (s, m)))
        .collect();
    let required = |code: &str| {
        cfg.services
            .iter()
            .any(|s| s.code.as_str() == code && s.identity_check == IdentityCheck::Required)
    };
    let mut sums: HashMap<i64, (i64, i64)> = HashMap::new();
    for (user, service, ms, checked) in &served {
        let f = by.entry(*user).or_default();
        f.served += 1;
        if required(service) {
            f.identity_required += 1;
            f.identity_checked += u32::from(*checked);
        }
        let s = sums.entry(*user).or_default();
        s.0 += ms;
        s.1 += medians.get(service.as_str()).copied().unwrap_or(0);
    }
    for (user, (own, typical)) in sums {
        let f = by.entry(user).or_default();
        f.service_secs_mean = Some(own as f64 / 1000.0 / f64::from(f.served.max(1)));
        f.service_time_ratio = (typical > 0).then(|| own as f64 / typical as f64);
    }

    // Satisfaction.
    let ratings = tx
        .rows(
            "SELECT staff_user_id, score FROM ratings WHERE branch_id = ? AND created_at >= ? \
             AND created_at < ? AND staff_user_id IS NOT NULL",
            args![branch, start, end],
            |r| Ok((r.int("staff_user_id")?, r.int("score")?)),
        )
        .await?;
    let mut totals: HashMap<i64, i64> = HashMap::new();
    for (user, score) in ratings {
        let f = by.entry(user).or_default();
        f.ratings += 1;
        f.bad_ratings += u32::from(score <= 2);
        *totals.entry(user).or_default() += score;
    }
    for (user, total) in totals {
        let f = by.entry(user).or_default();
        let n = f64::from(f.ratings);
        f.rating_mean = Some(total as f64 / n);
        f.bad_rating_share = Some(f64::from(f.bad_ratings) / n);
    }

    // Complaints made in the period and upheld against them (whenever resolved): the lapse
    // belongs to the month it happened in.
    for (user, n) in tx
        .rows(
            "SELECT about_user_id, COUNT(*) AS n FROM complaints WHERE branch_id = ? \
             AND outcome = 'upheld' AND created_at >= ? AND created_at < ? \
             AND about_user_id IS NOT NULL GROUP BY about_user_id",
            args![branch, start, end],
            |r| Ok((r.int("about_user_id")?, r.int("n")?)),
        )
        .await?
    {
        by.entry(user).or_default().complaints_upheld = u32::try_from(n).unwrap_or(u32::MAX);
    }

    // Calls out of order and extended cases, from the tickets' history.
    for (user, kind) in tx
        .rows(
            "SELECT e.staff_user_id, e.kind FROM ticket_events e JOIN tickets t ON t.key = e.ticket_key \
             WHERE t.branch_id = ? AND e.kind IN ('call_out_of_order', 'extend') AND e.at >= ? \
             AND e.at < ? AND e.staff_user_id IS NOT NULL",
            args![branch, start, end],
            |r| Ok((r.int("staff_user_id")?, r.text("kind")?)),
        )
        .await?
    {
        let f = by.entry(user).or_default();
        if kind == "extend" {
            f.extended += 1;
        } else {
            f.out_of_order_calls += 1;
        }
    }

    // Attendance against each person's own shift.
    let (_, days) = attendance(tx, branch, period.from, period.to, now).await?;
    for d in days {
        let f = by.entry(d.user_id).or_default();
        f.late += u32::from(d.late);
        f.early += u32::from(d.early);
        f.absent += u32::from(d.absent);
        f.long_pauses += u32::from(d.long_pause);
        f.pause_mins += d.pause_total_mins;
        f.leave_days += u32::from(d.on_leave);
    }

    // Training.
    for (user, minutes) in
        super::training::minutes_by_person(tx, branch, period.from, period.to).await?
    {
        by.entry(user).or_default().training_hours = minutes as f64 / 60.0;
    }
    Ok(by)
}

async fn notes<T: Sql>(tx: &mut T, branch: i64, period: &str) -> Result<HashMap<i64, Note>> {
    let rows = tx
        .rows(
            "SELECT n.user_id, n.note, n.written_at, \
             CASE WHEN u.id IS NULL THEN NULL WHEN u.display_name = '' THEN u.username \
             ELSE u.display_name END AS by_name \
             FROM assessment_notes n LEFT JOIN users u ON u.id = n.written_by \
             WHERE n.branch_id = ? AND n.period = ?",
            args![branch, period],
            |r| {
                Ok((
                    r.int("user_id")?,
                    Note {
                        text: r.text("note")?,
                        written_by: r.opt_text("by_name")?,
                        written_at: r.time("written_at")?,
                    },
                ))
            },
        )
        .await?;
    Ok(rows.into_iter().collect())
}

/// Writes (or, empty, removes) a manager's note on `user`'s scorecard for `period`; audited
/// without its text. At most 2000 characters.
pub async fn set_note<T: Tx>(
    tx: &mut T,
    who: &Principal,
    user: i64,
    period: &Period,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Option<Note>> {
    let branch = who.branch_id;
    let text = text.trim();
    if text.chars().count() > 2000 {
        return Err(StoreError::invalid(
            "invalid_note",
            "a note is at most 2000 characters",
        ));
    }
    person(tx, branch, user).await?;
    tx.execute(
        "DELETE FROM assessment_notes WHERE branch_id = ? AND user_id = ? AND period = ?",
        args![branch, user, period.key.as_str()],
    )
    .await?;
    if !text.is_empty() {
        tx.execute(
            "INSERT INTO assessment_notes (branch_id, user_id, period, note, written_by, written_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            args![branch, user, period.key.as_str(), text, who.user_id, now],
        )
        .await?;
    }
    tx.audit(&AuditEntry {
        branch,
        user: who.user_id,
        at: now,
        action: "assessment.note",
        detail:
            serde_json::json!({ "user": user, "period": period.key, "chars": text.chars().count() })
                .to_string(),
    })
    .await?;
    Ok(notes(tx, branch, &period.key).await?.remove(&user))
}

async fn records_where<T: Sql>(
    tx: &mut T,
    branch: i64,
    period: Option<&str>,
    user: Option<i64>,
) -> Result<Vec<Record>> {
    tx.rows(
        "SELECT d.id, d.user_id, d.period, d.rule_key, d.level, d.reason, d.state, d.note, \
         d.decided_at, CASE WHEN u.id IS NULL THEN NULL WHEN u.display_name = '' THEN u.username \
         ELSE u.display_name END AS by_name \
         FROM disciplinary_records d LEFT JOIN users u ON u.id = d.decided_by \
         WHERE d.branch_id = ? AND (? IS NULL OR d.period = ?) AND (? IS NULL OR d.user_id = ?) \
         ORDER BY d.decided_at DESC, d.id DESC LIMIT 2000",
        args![branch, period, period, user, user],
        |r| {
            Ok(Record {
                id: r.int("id")?,
                user_id: r.int("user_id")?,
                period: r.text("period")?,
                rule: r.text("rule_key")?,
                level: r.text("level")?,
                reason: r.text("reason")?,
                state: r.text("state")?,
                note: r.text("note")?,
                decided_by: r.opt_text("by_name")?,
                decided_at: r.time("decided_at")?,
            })
        },
    )
    .await
}

/// `user`'s disciplinary record (confirmed; for a manager, the dismissed proposals too),
/// newest first. Staff: only their own (403).
pub async fn records<T: Tx>(tx: &mut T, who: &Principal, user: i64) -> Result<Vec<Record>> {
    own_or_manager(who, user, "records")?;
    person(tx, who.branch_id, user).await?;
    let manager = is_manager(who);
    Ok(records_where(tx, who.branch_id, None, Some(user))
        .await?
        .into_iter()
        .filter(|r| manager || r.state == "confirmed")
        .collect())
}

/// A manager's decision on what a rule proposes.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub user_id: i64,
    pub month: String,
    pub rule: String,
    pub confirm: bool,
    #[serde(default)]
    pub note: String,
}

/// Confirms (it becomes a record) or dismisses what `rule` proposes for the person and month,
/// audited. Decided already: 409 `already_decided`; not proposed (the count is not reached, or
/// no such rule): 409 `not_proposed`.
pub async fn decide<T: Tx + AttendanceTx>(
    tx: &mut T,
    who: &Principal,
    d: &Decision,
    now: DateTime<Utc>,
) -> Result<Record> {
    let period = Period::parse(&d.month)?;
    if d.note.chars().count() > 500 {
        return Err(StoreError::invalid(
            "invalid_note",
            "a note is at most 500 characters",
        ));
    }
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let (_, cards) = scorecards(tx, who, &period, Some(d.user_id), now).await?;
    let card = cards.into_iter().next();
    if card
        .as_ref()
        .is_some_and(|c| c.records.iter().any(|r| r.rule == d.rule))
    {
        return Err(StoreError::conflict(
            "already_decided",
            format!("rule {} was decided for this month already", d.rule),
        ));
    }
    let Some(p) = card.and_then(|c| c.proposals.into_iter().find(|p| p.rule == d.rule)) else {
        return Err(StoreError::conflict(
            "not_proposed",
            format!(
                "rule {} proposes nothing for this person this month",
                d.rule
            ),
        ));
    };
    let state = if d.confirm { "confirmed" } else { "dismissed" };
    tx.execute(
        "INSERT INTO disciplinary_records (branch_id, user_id, period, rule_key, level, reason, \
         state, note, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        args![
            branch,
            d.user_id,
            period.key.as_str(),
            p.rule.as_str(),
            p.level.as_str(),
            p.reason.as_str(),
            state,
            d.note.trim(),
            who.user_id,
            now
        ],
    )
    .await?;
    tx.audit(&AuditEntry {
        branch,
        user: who.user_id,
        at: now,
        action: if d.confirm {
            "discipline.confirm"
        } else {
            "discipline.dismiss"
        },
        detail: serde_json::json!({
            "user": d.user_id, "period": period.key, "rule": p.rule, "level": p.level,
        })
        .to_string(),
    })
    .await?;
    records_where(tx, branch, Some(&period.key), Some(d.user_id))
        .await?
        .into_iter()
        .find(|r| r.rule == d.rule)
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("the decision was not stored")))
}

impl crate::store::Store {
    /// See [`scorecards`].
    pub async fn scorecards(
        &self,
        who: &Principal,
        period: Period,
        only: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(Settings, Vec<Scorecard>)> {
        let who = who.clone();
        read!(self, |tx| scorecards(tx, &who, &period, only, now))
    }

    /// See [`settings`].
    pub async fn assessment_settings(&self, branch: i64) -> Result<Settings> {
        read!(self, |tx| settings(tx, branch))
    }

    /// See [`set_settings`].
    pub async fn set_assessment_settings(
        &self,
        who: &Principal,
        new: Settings,
        now: DateTime<Utc>,
    ) -> Result<Settings> {
        let who = who.clone();
        write!(self, |tx, _out| set_settings(tx, &who, new.clone(), now))
    }

    /// See [`set_note`].
    pub async fn set_assessment_note(
        &self,
        who: &Principal,
        user: i64,
        period: Period,
        text: String,
        now: DateTime<Utc>,
    ) -> Result<Option<Note>> {
        let who = who.clone();
        write!(self, |tx, _out| set_note(
            tx, &who, user, &period, &text, now
        ))
    }

    /// See [`records`].
    pub async fn disciplinary_records(&self, who: &Principal, user: i64) -> Result<Vec<Record>> {
        let who = who.clone();
        read!(self, |tx| records(tx, &who, user))
    }

    /// See [`decide`].
    pub async fn decide_proposal(
        &self,
        who: &Principal,
        d: Decision,
        now: DateTime<Utc>,
    ) -> Result<Record> {
        let who = who.clone();
        write!(self, |tx, _out| decide(tx, &who, &d, now))
    }
}

//! Training (issue #14): sessions a manager records (title, date, hours, trainer, attendees
//! with a result — pass or fail, optionally a score), each person's training history and hours
//! (the scorecard counts them), and the services that require a passed training before a person
//! may sign in to a window serving them (409 `training_required`). A session may qualify its
//! passed attendees for one service.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::ServiceCode;
use serde::{Deserialize, Serialize};

use super::shifts::{own_or_manager, person};
use crate::queue::WindowDef;
use crate::store::sql::Sql;
use crate::store::{AuditEntry, Principal, Result, StoreError, Tx};

/// The most attendees one session records.
pub const MAX_ATTENDEES: usize = 500;

/// One attendee's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attendee {
    pub user_id: i64,
    /// `pass` or `fail`.
    pub result: String,
    /// 0 to 100, if the session was scored.
    #[serde(default)]
    pub score: Option<i64>,
}

/// A session to record.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    pub title: String,
    pub day: NaiveDate,
    /// Over 0, at most 24; kept to the minute.
    pub hours: f64,
    #[serde(default)]
    pub trainer: String,
    /// The service a pass qualifies for, if any.
    #[serde(default)]
    pub service: Option<String>,
    pub attendees: Vec<Attendee>,
}

/// A recorded session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    pub id: i64,
    pub title: String,
    pub day: NaiveDate,
    pub hours: f64,
    pub trainer: String,
    pub service: Option<String>,
    pub attendees: Vec<Attendee>,
}

/// One line of a person's training history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryLine {
    pub session_id: i64,
    pub title: String,
    pub day: NaiveDate,
    pub hours: f64,
    pub trainer: String,
    pub service: Option<String>,
    pub result: String,
    pub score: Option<i64>,
}

/// A person's training history, newest first, and its hours in all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    pub user_id: i64,
    pub hours: f64,
    pub sessions: Vec<HistoryLine>,
}

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::invalid("invalid_training", message)
}

fn hours_of(minutes: i64) -> f64 {
    minutes as f64 / 60.0
}

/// Records a session (managers), audited. Bad title, hours, result or score, an attendee
/// twice or not of the branch, or an unknown service: 422, nothing recorded.
pub async fn record<T: Tx>(
    tx: &mut T,
    who: &Principal,
    s: &NewSession,
    now: DateTime<Utc>,
) -> Result<Session> {
    let branch = who.branch_id;
    let title = s.title.trim();
    if title.is_empty() || title.chars().count() > 120 {
        return Err(invalid("the title is 1 to 120 characters"));
    }
    if s.trainer.chars().count() > 80 {
        return Err(invalid("the trainer's name is at most 80 characters"));
    }
    if !(s.hours.is_finite() && s.hours > 0.0 && s.hours <= 24.0) {
        return Err(invalid("hours are over 0 and at most 24"));
    }
    let minutes = ((s.hours * 60.0).round() as i64).max(1);
    if s.attendees.is_empty() || s.attendees.len() > MAX_ATTENDEES {
        return Err(invalid(format!(
            "a session has 1 to {MAX_ATTENDEES} attendees"
        )));
    }
    let mut seen = BTreeSet::new();
    for a in &s.attendees {
        if !seen.insert(a.user_id) {
            return Err(invalid(format!("person {} is listed twice", a.user_id)));
        }
        if a.result != "pass" && a.result != "fail" {
            return Err(invalid("a result is pass or fail"));
        }
        if a.score.is_some_and(|v| !(0..=100).contains(&v)) {
            return Err(invalid("a score is 0 to 100"));
        }
        person(tx, branch, a.user_id)
            .await
            .map_err(|_| invalid(format!("there is no staff member {} here", a.user_id)))?;
    }
    let service = match s.service.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(code) => Some(known_service(tx, branch, code).await?),
    };
    tx.lock_branch(branch).await?;
    let id = tx
        .inserted_id(
            "INSERT INTO training_sessions (branch_id, title, day, minutes, trainer, service_code, \
             created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            args![
                branch,
                title,
                s.day,
                minutes,
                s.trainer.trim(),
                service.as_deref(),
                who.user_id,
                now
            ],
        )
        .await?;
    for a in &s.attendees {
        tx.execute(
            "INSERT INTO training_trainees (session_id, user_id, result, score) VALUES (?, ?, ?, ?)",
            args![id, a.user_id, a.result.as_str(), a.score],
        )
        .await?;
    }
    tx.audit(&AuditEntry {
        branch,
        user: who.user_id,
        at: now,
        action: "training.record",
        detail: serde_json::json!({
            "session": id,
            "title": title,
            "day": s.day,
            "attendees": s.attendees.len(),
        })
        .to_string(),
    })
    .await?;
    Ok(Session {
        id,
        title: title.to_owned(),
        day: s.day,
        hours: hours_of(minutes),
        trainer: s.trainer.trim().to_owned(),
        service,
        attendees: s.attendees.clone(),
    })
}

/// `code` as a service of the branch; 422 `unknown_service` otherwise.
async fn known_service<T: Tx>(tx: &mut T, branch: i64, code: &str) -> Result<String> {
    let cfg = tx.config(branch).await?;
    cfg.services
        .iter()
        .find(|s| s.code.as_str() == code)
        .map(|s| s.code.as_str().to_owned())
        .ok_or_else(|| {
            StoreError::invalid("unknown_service", format!("there is no service {code}"))
        })
}

/// The branch's sessions on `from ..= to`, with their attendees.
pub async fn sessions<T: Sql>(
    tx: &mut T,
    branch: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Session>> {
    let mut list = tx
        .rows(
            "SELECT id, title, day, minutes, trainer, service_code FROM training_sessions \
             WHERE branch_id = ? AND day >= ? AND day <= ? ORDER BY day, id LIMIT 1000",
            args![branch, from, to],
            |r| {
                Ok(Session {
                    id: r.int("id")?,
                    title: r.text("title")?,
                    day: r.day("day")?,
                    hours: hours_of(r.int("minutes")?),
                    trainer: r.text("trainer")?,
                    service: r.opt_text("service_code")?,
                    attendees: Vec::new(),
                })
            },
        )
        .await?;
    let results = tx
        .rows(
            "SELECT r.session_id, r.user_id, r.result, r.score FROM training_trainees r \
             JOIN training_sessions s ON s.id = r.session_id \
             WHERE s.branch_id = ? AND s.day >= ? AND s.day <= ? ORDER BY r.session_id, r.user_id",
            args![branch, from, to],
            |r| {
                Ok((
                    r.int("session_id")?,
                    Attendee {
                        user_id: r.int("user_id")?,
                        result: r.text("result")?,
                        score: r.opt_int("score")?,
                    },
                ))
            },
        )
        .await?;
    for (session, a) in results {
        if let Some(s) = list.iter_mut().find(|s| s.id == session) {
            s.attendees.push(a);
        }
    }
    Ok(list)
}

/// `user`'s training history: a manager reads anyone's of the branch, staff only their own.
pub async fn history<T: Tx>(tx: &mut T, who: &Principal, user: i64) -> Result<History> {
    own_or_manager(who, user, "training")?;
    person(tx, who.branch_id, user).await?;
    let sessions = tx
        .rows(
            "SELECT s.id, s.title, s.day, s.minutes, s.trainer, s.service_code, r.result, r.score \
             FROM training_trainees r JOIN training_sessions s ON s.id = r.session_id \
             WHERE r.user_id = ? AND s.branch_id = ? ORDER BY s.day DESC, s.id DESC LIMIT 1000",
            args![user, who.branch_id],
            |r| {
                Ok(HistoryLine {
                    session_id: r.int("id")?,
                    title: r.text("title")?,
                    day: r.day("day")?,
                    hours: hours_of(r.int("minutes")?),
                    trainer: r.text("trainer")?,
                    service: r.opt_text("service_code")?,
                    result: r.text("result")?,
                    score: r.opt_int("score")?,
                })
            },
        )
        .await?;
    Ok(History {
        user_id: user,
        hours: sessions.iter().map(|s| s.hours).sum(),
        sessions,
    })
}

/// Training minutes per person in sessions on `from ..= to` (any result: hours trained).
pub async fn minutes_by_person<T: Sql>(
    tx: &mut T,
    branch: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(i64, i64)>> {
    tx.rows(
        "SELECT r.user_id, SUM(s.minutes) AS minutes FROM training_trainees r \
         JOIN training_sessions s ON s.id = r.session_id \
         WHERE s.branch_id = ? AND s.day >= ? AND s.day <= ? GROUP BY r.user_id",
        args![branch, from, to],
        |r| Ok((r.int("user_id")?, r.int("minutes")?)),
    )
    .await
}

/// The services of the branch that require a passed training, in code order.
pub async fn requirements<T: Sql>(tx: &mut T, branch: i64) -> Result<Vec<String>> {
    tx.rows(
        "SELECT service_code FROM training_requirements WHERE branch_id = ? ORDER BY service_code",
        args![branch],
        |r| r.text("service_code"),
    )
    .await
}

/// Replaces the services that require a passed training (managers), audited. An unknown
/// service: 422 `unknown_service`, nothing changed.
pub async fn set_requirements<T: Tx>(
    tx: &mut T,
    who: &Principal,
    services: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let branch = who.branch_id;
    let mut codes = BTreeSet::new();
    for code in services {
        codes.insert(known_service(tx, branch, code.trim()).await?);
    }
    tx.lock_branch(branch).await?;
    let before = requirements(tx, branch).await?;
    tx.execute(
        "DELETE FROM training_requirements WHERE branch_id = ?",
        args![branch],
    )
    .await?;
    for code in &codes {
        tx.execute(
            "INSERT INTO training_requirements (branch_id, service_code) VALUES (?, ?)",
            args![branch, code.as_str()],
        )
        .await?;
    }
    let after: Vec<String> = codes.into_iter().collect();
    tx.audit(&AuditEntry {
        branch,
        user: who.user_id,
        at: now,
        action: "training.requirements",
        detail: serde_json::json!({ "from": before, "to": after }).to_string(),
    })
    .await?;
    Ok(after)
}

/// Before `user` signs in to `window`: every service it serves that requires training needs a
/// session for that service the person passed; otherwise 409 `training_required`, naming it.
pub async fn check_sign_in<T: Tx>(
    tx: &mut T,
    branch: i64,
    user: i64,
    window: &WindowDef,
) -> Result<()> {
    let required = requirements(tx, branch).await?;
    let serves: Vec<&ServiceCode> = window
        .skills
        .serves
        .iter()
        .map(|(s, _)| s)
        .filter(|s| required.iter().any(|r| r == s.as_str()))
        .collect();
    for service in serves {
        let passed = tx
            .count(
                "SELECT COUNT(*) FROM training_trainees r JOIN training_sessions s ON s.id = r.session_id \
                 WHERE r.user_id = ? AND r.result = 'pass' AND s.branch_id = ? AND s.service_code = ?",
                args![user, branch, service.as_str()],
            )
            .await?;
        if passed == 0 {
            return Err(StoreError::conflict(
                "training_required",
                format!(
                    "window {} serves {}, which needs a passed training first",
                    window.number,
                    service.as_str()
                ),
            ));
        }
    }
    Ok(())
}

impl crate::store::Store {
    /// See [`record`].
    pub async fn record_training(
        &self,
        who: &Principal,
        s: NewSession,
        now: DateTime<Utc>,
    ) -> Result<Session> {
        let who = who.clone();
        write!(self, |tx, _out| record(tx, &who, &s, now))
    }

    /// See [`sessions`].
    pub async fn training_sessions(
        &self,
        branch: i64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Session>> {
        read!(self, |tx| sessions(tx, branch, from, to))
    }

    /// See [`history`].
    pub async fn training_history(&self, who: &Principal, user: i64) -> Result<History> {
        let who = who.clone();
        read!(self, |tx| history(tx, &who, user))
    }

    /// See [`requirements`].
    pub async fn training_requirements(&self, branch: i64) -> Result<Vec<String>> {
        read!(self, |tx| requirements(tx, branch))
    }

    /// See [`set_requirements`].
    pub async fn set_training_requirements(
        &self,
        who: &Principal,
        services: Vec<String>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let who = who.clone();
        write!(self, |tx, _out| set_requirements(tx, &who, &services, now))
    }
}

//! Leave (issue #14): a staff member asks for days (or part of one day) off from their console —
//! personal, sick, annual, or time off in lieu — at least the branch's minimum notice ahead
//! (two days by default; sick leave is exempt); a manager approves or declines it with a note,
//! audited. Approved leave excuses attendance ([`crate::queue::attendance`]): a rostered day
//! under whole-day leave is not absent, and part-day leave moves the shift's start or end.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::queue::attendance::Leave;
use crate::queue::schedule::{hhmm, local_instant, parse_hhmm};
use crate::store::sql::Sql;
use crate::store::{AuditEntry, Principal, Result, Role, StoreError, Tx};

/// The kinds of leave.
pub const KINDS: [&str; 4] = ["personal", "sick", "annual", "toil"];

/// The longest leave one request may ask for.
pub const MAX_DAYS: i64 = 366;

/// A request for leave.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaveRequest {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Part of one day: both times `HH:MM`.
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    pub kind: String,
    #[serde(default)]
    pub reason: String,
}

/// Leave as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaveView {
    pub id: i64,
    pub user_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub start: Option<String>,
    pub end: Option<String>,
    pub kind: String,
    pub reason: String,
    /// `requested`, `approved`, `declined` or `withdrawn`.
    pub state: String,
    pub requested_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::invalid("invalid_leave", message)
}

/// The branch's minimum notice, in days.
pub async fn notice_days<T: Sql>(tx: &mut T, branch: i64) -> Result<u32> {
    Ok(tx
        .int(
            "SELECT leave_notice_days FROM people_settings WHERE branch_id = ?",
            args![branch],
        )
        .await?
        .and_then(|d| u32::try_from(d).ok())
        .unwrap_or(2))
}

/// Sets the branch's minimum notice (0 to 60 days), audited.
pub async fn set_notice_days<T: Tx>(
    tx: &mut T,
    who: &Principal,
    days: u32,
    now: DateTime<Utc>,
) -> Result<u32> {
    if days > 60 {
        return Err(StoreError::invalid(
            "invalid_value",
            "the notice is 0 to 60 days",
        ));
    }
    let before = notice_days(tx, who.branch_id).await?;
    tx.execute(
        "INSERT INTO people_settings (branch_id, leave_notice_days) VALUES (?, ?) \
         ON CONFLICT (branch_id) DO UPDATE SET leave_notice_days = excluded.leave_notice_days",
        args![who.branch_id, i64::from(days)],
    )
    .await?;
    tx.audit(&AuditEntry {
        branch: who.branch_id,
        user: who.user_id,
        at: now,
        action: "leave.notice",
        detail: serde_json::json!({ "from": before, "to": days }).to_string(),
    })
    .await?;
    Ok(days)
}

const COLUMNS: &str = "id, user_id, from_day, to_day, start_min, end_min, kind, reason, state, \
    requested_at, decided_at, note";

fn view_of(r: &dyn crate::store::sql::Columns) -> Result<LeaveView> {
    let mins = |m: Option<i64>| m.and_then(|m| u16::try_from(m).ok()).map(hhmm);
    Ok(LeaveView {
        id: r.int("id")?,
        user_id: r.int("user_id")?,
        from: r.day("from_day")?,
        to: r.day("to_day")?,
        start: mins(r.opt_int("start_min")?),
        end: mins(r.opt_int("end_min")?),
        kind: r.text("kind")?,
        reason: r.text("reason")?,
        state: r.text("state")?,
        requested_at: r.time("requested_at")?,
        decided_at: r.opt_time("decided_at")?,
        note: r.opt_text("note")?,
    })
}

/// A staff member asks for leave for themselves. A range backwards, longer than
/// [`MAX_DAYS`], an unknown kind or bad times: 422 `invalid_leave`; less notice than the
/// branch's (not for sick leave): 422 `notice_too_short`; overlapping their leave asked for or
/// granted: 409 `leave_overlaps`. Nothing changes on a refusal.
pub async fn request<T: Tx>(
    tx: &mut T,
    who: &Principal,
    req: &LeaveRequest,
    now: DateTime<Utc>,
) -> Result<LeaveView> {
    let user = who
        .user_id
        .ok_or_else(|| invalid("only a person takes leave"))?;
    if !KINDS.contains(&req.kind.as_str()) {
        return Err(invalid(format!("kind is one of {}", KINDS.join(", "))));
    }
    if req.to < req.from || (req.to - req.from).num_days() >= MAX_DAYS {
        return Err(invalid(
            "leave ends on or after its first day, within a year",
        ));
    }
    if req.reason.chars().count() > 500 {
        return Err(invalid("the reason is at most 500 characters"));
    }
    let part = match (req.start.as_deref(), req.end.as_deref()) {
        (None, None) => None,
        (Some(a), Some(b)) => match (parse_hhmm(a), parse_hhmm(b)) {
            (Some(a), Some(b)) if a < b && req.from == req.to => Some((a, b)),
            _ => {
                return Err(invalid(
                    "part of a day: one day, HH:MM times, ending after it starts",
                ));
            }
        },
        _ => return Err(invalid("give both start and end, or neither")),
    };
    let tz = tx.config(who.branch_id).await?.schedule.tz;
    if req.kind != "sick" {
        let notice = notice_days(tx, who.branch_id).await?;
        let starts = local_instant(tz, req.from, part.map_or(0, |p| p.0));
        if starts < now + Duration::days(i64::from(notice)) {
            return Err(StoreError::invalid(
                "notice_too_short",
                format!("leave is asked for at least {notice} days ahead (sick leave excepted)"),
            ));
        }
    }
    let overlapping = tx
        .count(
            "SELECT COUNT(*) FROM leave_requests WHERE user_id = ? AND state IN ('requested', 'approved') \
             AND from_day <= ? AND to_day >= ? \
             AND (start_min IS NULL OR ? IS NULL OR (start_min < ? AND end_min > ?))",
            args![
                user,
                req.to,
                req.from,
                part.map(|p| i64::from(p.0)),
                part.map(|p| i64::from(p.1)),
                part.map(|p| i64::from(p.0))
            ],
        )
        .await?;
    if overlapping > 0 {
        return Err(StoreError::conflict(
            "leave_overlaps",
            "you already asked for leave on those days",
        ));
    }
    tx.row(
        &format!(
            "INSERT INTO leave_requests (branch_id, user_id, from_day, to_day, start_min, end_min, kind, \
             reason, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
        ),
        args![
            who.branch_id,
            user,
            req.from,
            req.to,
            part.map(|p| i64::from(p.0)),
            part.map(|p| i64::from(p.1)),
            req.kind.as_str(),
            req.reason.trim(),
            now
        ],
        view_of,
    )
    .await?
    .ok_or_else(|| StoreError::Other(anyhow::anyhow!("INSERT … RETURNING gave no row")))
}

/// Leave overlapping `from ..= to`: the branch's for a manager, one's own for staff.
pub async fn list<T: Sql>(
    tx: &mut T,
    who: &Principal,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<LeaveView>> {
    let manager = matches!(who.role, Role::Manager | Role::Admin);
    tx.rows(
        &format!(
            "SELECT {COLUMNS} FROM leave_requests WHERE branch_id = ? AND from_day <= ? AND to_day >= ? \
             AND (? OR user_id = ?) ORDER BY from_day, id LIMIT 2000"
        ),
        args![who.branch_id, to, from, manager, who.user_id.unwrap_or(0)],
        view_of,
    )
    .await
}

/// A manager approves or declines leave still asked for, with a note; audited. Decided
/// already: 409 `leave_decided`; another branch's or none: 404 `unknown_leave`.
pub async fn decide<T: Tx>(
    tx: &mut T,
    who: &Principal,
    id: i64,
    approve: bool,
    note: &str,
    now: DateTime<Utc>,
) -> Result<LeaveView> {
    if note.chars().count() > 500 {
        return Err(invalid("the note is at most 500 characters"));
    }
    let state = if approve { "approved" } else { "declined" };
    let changed = tx
        .execute(
            "UPDATE leave_requests SET state = ?, decided_by = ?, decided_at = ?, note = ? \
             WHERE id = ? AND branch_id = ? AND state = 'requested'",
            args![state, who.user_id, now, note.trim(), id, who.branch_id],
        )
        .await?;
    let view = tx
        .row(
            &format!("SELECT {COLUMNS} FROM leave_requests WHERE id = ? AND branch_id = ?"),
            args![id, who.branch_id],
            view_of,
        )
        .await?
        .ok_or_else(|| StoreError::not_found("unknown_leave", format!("there is no leave {id}")))?;
    if changed == 0 {
        return Err(StoreError::conflict(
            "leave_decided",
            format!("this leave was {} already", view.state),
        ));
    }
    tx.audit(&AuditEntry {
        branch: who.branch_id,
        user: who.user_id,
        at: now,
        action: if approve {
            "leave.approve"
        } else {
            "leave.decline"
        },
        detail: serde_json::json!({ "leave": id, "user": view.user_id, "note": note.trim() })
            .to_string(),
    })
    .await?;
    Ok(view)
}

/// The person withdraws their own leave: still asked for, or granted and not yet begun
/// (branch-local today or later). Audited. Someone else's or none: 404 `unknown_leave`;
/// declined, withdrawn, or granted leave that has begun: 409 `leave_decided`.
pub async fn withdraw<T: Tx>(
    tx: &mut T,
    who: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> Result<LeaveView> {
    let user = who
        .user_id
        .ok_or_else(|| invalid("only a person takes leave"))?;
    let today =
        crate::queue::schedule::local_date(tx.config(who.branch_id).await?.schedule.tz, now);
    let changed = tx
        .execute(
            "UPDATE leave_requests SET state = 'withdrawn' WHERE id = ? AND branch_id = ? \
             AND user_id = ? AND (state = 'requested' OR (state = 'approved' AND from_day > ?))",
            args![id, who.branch_id, user, today],
        )
        .await?;
    let view = tx
        .row(
            &format!(
                "SELECT {COLUMNS} FROM leave_requests WHERE id = ? AND branch_id = ? AND user_id = ?"
            ),
            args![id, who.branch_id, user],
            view_of,
        )
        .await?
        .ok_or_else(|| StoreError::not_found("unknown_leave", format!("you have no leave {id}")))?;
    if changed == 0 {
        return Err(StoreError::conflict(
            "leave_decided",
            format!("this leave is {} and cannot be withdrawn", view.state),
        ));
    }
    tx.audit(&AuditEntry {
        branch: who.branch_id,
        user: who.user_id,
        at: now,
        action: "leave.withdraw",
        detail: serde_json::json!({ "leave": id }).to_string(),
    })
    .await?;
    Ok(view)
}

/// The branch's approved leave overlapping `from ..= to`, for attendance.
pub async fn approved<T: Sql>(
    tx: &mut T,
    branch: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Leave>> {
    tx.rows(
        "SELECT user_id, from_day, to_day, start_min, end_min FROM leave_requests \
         WHERE branch_id = ? AND state = 'approved' AND from_day <= ? AND to_day >= ?",
        args![branch, to, from],
        |r| {
            let m = |v: Option<i64>| v.and_then(|v| u16::try_from(v).ok());
            Ok(Leave {
                user_id: r.int("user_id")?,
                from: r.day("from_day")?,
                to: r.day("to_day")?,
                part: m(r.opt_int("start_min")?).zip(m(r.opt_int("end_min")?)),
            })
        },
    )
    .await
}

impl crate::store::Store {
    /// See [`request`].
    pub async fn request_leave(
        &self,
        who: &Principal,
        req: LeaveRequest,
        now: DateTime<Utc>,
    ) -> Result<LeaveView> {
        let who = who.clone();
        write!(self, |tx, _out| request(tx, &who, &req, now))
    }

    /// See [`list`].
    pub async fn leave(
        &self,
        who: &Principal,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<LeaveView>> {
        let who = who.clone();
        read!(self, |tx| list(tx, &who, from, to))
    }

    /// See [`decide`].
    pub async fn decide_leave(
        &self,
        who: &Principal,
        id: i64,
        approve: bool,
        note: String,
        now: DateTime<Utc>,
    ) -> Result<LeaveView> {
        let who = who.clone();
        write!(self, |tx, _out| decide(tx, &who, id, approve, &note, now))
    }

    /// See [`withdraw`].
    pub async fn withdraw_leave(
        &self,
        who: &Principal,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<LeaveView> {
        let who = who.clone();
        write!(self, |tx, _out| withdraw(tx, &who, id, now))
    }

    /// See [`notice_days`].
    pub async fn leave_notice_days(&self, branch: i64) -> Result<u32> {
        read!(self, |tx| notice_days(tx, branch))
    }

    /// See [`set_notice_days`].
    pub async fn set_leave_notice_days(
        &self,
        who: &Principal,
        days: u32,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        let who = who.clone();
        write!(self, |tx, _out| set_notice_days(tx, &who, days, now))
    }
}

//! Staff shifts (issue #14): each person's weekly pattern and dated changes, set by a manager
//! (audited), read by the manager and by the person themselves; attendance
//! ([`crate::queue::attendance`]) judges a rostered person against their own shift.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::queue::attendance::{Roster, Shift};
use crate::queue::schedule::{hhmm, local_date, parse_hhmm};
use crate::store::sql::Sql;
use crate::store::{AuditEntry, Principal, Result, Role, StoreError, Tx};

/// One weekday of a weekly pattern: ISO weekday (1 = Monday … 7 = Sunday), `HH:MM` times
/// (`24:00` allowed as an end).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyShift {
    pub weekday: u8,
    pub start: String,
    pub end: String,
}

/// A dated change: other times that day, or (both `null`) a day off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftChange {
    pub day: NaiveDate,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
}

/// A person's roster as the API shows it (an empty `weekly`: no roster, the hall's hours).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RosterView {
    pub weekly: Vec<WeeklyShift>,
    pub changes: Vec<ShiftChange>,
}

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::invalid("invalid_shift", message)
}

/// The shift of `start`–`end`: 422 `invalid_shift` unless both are `HH:MM` and it ends after it
/// starts, by midnight.
fn shift(start: &str, end: &str) -> Result<Shift> {
    let (Some(a), Some(b)) = (parse_hhmm(start), parse_hhmm(end)) else {
        return Err(invalid("times are HH:MM"));
    };
    Shift::new(a, b).ok_or_else(|| invalid(format!("a shift {start}–{end} ends before it starts")))
}

/// A manager (or admin) reads anyone's of the branch; a staff member only their own: 403.
pub(super) fn own_or_manager(who: &Principal, user: i64, what: &str) -> Result<()> {
    if !matches!(who.role, Role::Manager | Role::Admin) && who.user_id != Some(user) {
        return Err(StoreError::Forbidden {
            code: "forbidden",
            message: format!("a staff member sees only their own {what}"),
        });
    }
    Ok(())
}

/// Staff and managers of `branch` have rosters; anyone else: 404 `unknown_user`.
pub(super) async fn person<T: Sql>(tx: &mut T, branch: i64, user: i64) -> Result<()> {
    let n = tx
        .count(
            "SELECT COUNT(*) FROM users WHERE id = ? AND branch_id = ? AND role IN ('staff', 'manager')",
            args![user, branch],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::not_found(
            "unknown_user",
            format!("there is no staff member {user} in this branch"),
        ));
    }
    Ok(())
}

/// The branch's rosters, per person (only people with a weekly pattern or a change).
pub async fn rosters<T: Tx>(tx: &mut T, branch: i64) -> Result<BTreeMap<i64, Roster>> {
    rosters_of(tx, branch, None).await
}

/// The branch's rosters and its approved leave overlapping `from ..= to`, in one read (the
/// staffing page's coming week).
pub async fn rosters_and_leave<T: Tx>(
    tx: &mut T,
    branch: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(BTreeMap<i64, Roster>, Vec<crate::queue::attendance::Leave>)> {
    let rosters = rosters(tx, branch).await?;
    Ok((rosters, super::leave::approved(tx, branch, from, to).await?))
}

/// [`rosters`], of one person only with `user`.
async fn rosters_of<T: Tx>(
    tx: &mut T,
    branch: i64,
    user: Option<i64>,
) -> Result<BTreeMap<i64, Roster>> {
    let tz = tx.config(branch).await?.schedule.tz;
    let mut out: BTreeMap<i64, Roster> = BTreeMap::new();
    let since = |out: &mut BTreeMap<i64, Roster>, user: i64, created: DateTime<Utc>| {
        out.entry(user).or_default().from = Some(local_date(tz, created));
    };
    let weekly = tx
        .rows(
            "SELECT s.user_id, s.weekday, s.start_min, s.end_min, u.created_at FROM shifts s \
             JOIN users u ON u.id = s.user_id WHERE u.branch_id = ? AND (? IS NULL OR u.id = ?)",
            args![branch, user, user],
            |r| {
                Ok((
                    r.int("user_id")?,
                    r.int("weekday")?,
                    r.int("start_min")?,
                    r.int("end_min")?,
                    r.time("created_at")?,
                ))
            },
        )
        .await?;
    for (user, weekday, a, b, created) in weekly {
        since(&mut out, user, created);
        let day = usize::try_from(weekday - 1).ok().filter(|d| *d < 7);
        if let Some(d) = day {
            out.entry(user).or_default().weekly[d] = to_shift(a, b);
        }
    }
    let changes = tx
        .rows(
            "SELECT c.user_id, c.day, c.start_min, c.end_min, u.created_at FROM shift_changes c \
             JOIN users u ON u.id = c.user_id WHERE u.branch_id = ? AND (? IS NULL OR u.id = ?)",
            args![branch, user, user],
            |r| {
                Ok((
                    r.int("user_id")?,
                    r.day("day")?,
                    r.opt_int("start_min")?,
                    r.opt_int("end_min")?,
                    r.time("created_at")?,
                ))
            },
        )
        .await?;
    for (user, day, a, b, created) in changes {
        since(&mut out, user, created);
        let shift = a.zip(b).and_then(|(a, b)| to_shift(a, b));
        out.entry(user).or_default().changes.insert(day, shift);
    }
    Ok(out)
}

fn to_shift(a: i64, b: i64) -> Option<Shift> {
    Shift::new(u16::try_from(a).ok()?, u16::try_from(b).ok()?)
}

/// `user`'s roster. A manager sees anyone's of the branch; a staff member only their own (403).
pub async fn view<T: Tx>(tx: &mut T, who: &Principal, user: i64) -> Result<RosterView> {
    own_or_manager(who, user, "shifts")?;
    person(tx, who.branch_id, user).await?;
    let roster = rosters_of(tx, who.branch_id, Some(user))
        .await?
        .remove(&user)
        .unwrap_or_default();
    Ok(RosterView {
        weekly: roster
            .weekly
            .iter()
            .enumerate()
            .filter_map(|(d, s)| {
                s.map(|s| WeeklyShift {
                    weekday: d as u8 + 1,
                    start: hhmm(s.start_min),
                    end: hhmm(s.end_min),
                })
            })
            .collect(),
        changes: roster
            .changes
            .iter()
            .map(|(day, s)| ShiftChange {
                day: *day,
                start: s.map(|s| hhmm(s.start_min)),
                end: s.map(|s| hhmm(s.end_min)),
            })
            .collect(),
    })
}

/// Replaces `user`'s weekly pattern (an empty list: no roster, the hall's hours again);
/// audited. A weekday twice or out of 1–7, or a shift ending before it starts: 422
/// `invalid_shift`, nothing changed.
pub async fn set_weekly<T: Tx>(
    tx: &mut T,
    who: &Principal,
    user: i64,
    weekly: &[WeeklyShift],
    now: DateTime<Utc>,
) -> Result<RosterView> {
    let mut seen = [false; 7];
    let mut shifts = Vec::with_capacity(weekly.len());
    for w in weekly {
        let d = usize::from(w.weekday.wrapping_sub(1));
        if d >= 7 || std::mem::replace(&mut seen[d], true) {
            return Err(invalid(
                "each weekday (1 = Monday … 7 = Sunday) at most once",
            ));
        }
        shifts.push((w.weekday, shift(&w.start, &w.end)?));
    }
    let before = view(tx, who, user).await?;
    tx.execute("DELETE FROM shifts WHERE user_id = ?", args![user])
        .await?;
    for (weekday, s) in shifts {
        tx.execute(
            "INSERT INTO shifts (user_id, weekday, start_min, end_min) VALUES (?, ?, ?, ?)",
            args![
                user,
                i64::from(weekday),
                i64::from(s.start_min),
                i64::from(s.end_min)
            ],
        )
        .await?;
    }
    let after = view(tx, who, user).await?;
    tx.audit(&AuditEntry {
        branch: who.branch_id,
        user: who.user_id,
        at: now,
        action: "shifts.weekly",
        detail: serde_json::json!({ "user": user, "from": before.weekly, "to": after.weekly })
            .to_string(),
    })
    .await?;
    Ok(after)
}

/// Sets (or with `None`, removes) `user`'s change on `change.day`; audited.
pub async fn set_change<T: Tx>(
    tx: &mut T,
    who: &Principal,
    user: i64,
    day: NaiveDate,
    change: Option<&ShiftChange>,
    now: DateTime<Utc>,
) -> Result<RosterView> {
    let times = match change {
        Some(c) => match (c.start.as_deref(), c.end.as_deref()) {
            (Some(a), Some(b)) => Some(Some(shift(a, b)?)),
            (None, None) => Some(None),
            _ => return Err(invalid("give both start and end, or neither for a day off")),
        },
        None => None,
    };
    person(tx, who.branch_id, user).await?;
    tx.execute(
        "DELETE FROM shift_changes WHERE user_id = ? AND day = ?",
        args![user, day],
    )
    .await?;
    if let Some(s) = times {
        tx.execute(
            "INSERT INTO shift_changes (user_id, day, start_min, end_min) VALUES (?, ?, ?, ?)",
            args![
                user,
                day,
                s.map(|s| i64::from(s.start_min)),
                s.map(|s| i64::from(s.end_min))
            ],
        )
        .await?;
    }
    let detail = serde_json::json!({
        "user": user,
        "day": day,
        "shift": times.map(|s| s.map(|s| format!("{}–{}", hhmm(s.start_min), hhmm(s.end_min)))),
    });
    tx.audit(&AuditEntry {
        branch: who.branch_id,
        user: who.user_id,
        at: now,
        action: "shifts.change",
        detail: detail.to_string(),
    })
    .await?;
    view(tx, who, user).await
}

impl crate::store::Store {
    /// See [`rosters_and_leave`].
    pub async fn rosters_and_leave(
        &self,
        branch: i64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<(BTreeMap<i64, Roster>, Vec<crate::queue::attendance::Leave>)> {
        read!(self, |tx| rosters_and_leave(tx, branch, from, to))
    }

    /// See [`view`].
    pub async fn shifts(&self, who: &Principal, user: i64) -> Result<RosterView> {
        let who = who.clone();
        read!(self, |tx| view(tx, &who, user))
    }

    /// See [`set_weekly`].
    pub async fn set_weekly_shifts(
        &self,
        who: &Principal,
        user: i64,
        weekly: Vec<WeeklyShift>,
        now: DateTime<Utc>,
    ) -> Result<RosterView> {
        let who = who.clone();
        write!(self, |tx, _out| set_weekly(tx, &who, user, &weekly, now))
    }

    /// See [`set_change`].
    pub async fn set_shift_change(
        &self,
        who: &Principal,
        user: i64,
        day: NaiveDate,
        change: Option<ShiftChange>,
        now: DateTime<Utc>,
    ) -> Result<RosterView> {
        let who = who.clone();
        write!(self, |tx, _out| set_change(
            tx,
            &who,
            user,
            day,
            change.as_ref(),
            now
        ))
    }
}

//! Attendance: the window log read back per person per day ([`crate::queue::attendance`]) and
//! the branch's tolerances (late after, early leave, long pause), set by a manager and audited.

use chrono::{DateTime, NaiveDate, Utc};

use crate::queue::attendance::{DayRecord, LogEntry, Tolerances, rostered_days};
use crate::queue::schedule::local_instant;
use crate::store::{AuditEntry, Principal, Result, Store, StoreError, Tx};

/// The largest tolerance a manager may set: four hours.
pub const MAX_TOLERANCE_MINS: u32 = 240;

/// The reads and writes attendance needs, implemented by each backend.
#[allow(async_fn_in_trait)]
pub trait AttendanceTx {
    /// The branch's window log in `[from, to)`, in time order.
    async fn window_log(
        &mut self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<LogEntry>>;
    async fn tolerances(&mut self, branch: i64) -> Result<Tolerances>;
    async fn set_tolerances(&mut self, branch: i64, t: &Tolerances) -> Result<()>;
}

/// The branch's days `from ..= to`, per person.
pub async fn attendance<T: Tx + AttendanceTx>(
    tx: &mut T,
    branch: i64,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(Tolerances, Vec<DayRecord>)> {
    let cfg = tx.config(branch).await?;
    let tz = cfg.schedule.tz;
    let log = tx
        .window_log(
            branch,
            local_instant(tz, from, 0),
            local_instant(tz, to, 1440),
        )
        .await?;
    let tol = tx.tolerances(branch).await?;
    let rosters = super::shifts::rosters(tx, branch).await?;
    let leave = super::leave::approved(tx, branch, from, to).await?;
    Ok((
        tol,
        rostered_days(
            &cfg.schedule,
            &log,
            tol,
            now,
            &rosters,
            &leave,
            Some((from, to)),
        ),
    ))
}

/// Sets the branch's tolerances (each 0 to [`MAX_TOLERANCE_MINS`]), audited.
pub async fn set_tolerances<T: Tx + AttendanceTx>(
    tx: &mut T,
    who: &Principal,
    t: Tolerances,
    now: DateTime<Utc>,
) -> Result<Tolerances> {
    if [t.late_after_mins, t.early_leave_mins, t.long_pause_mins]
        .iter()
        .any(|m| *m > MAX_TOLERANCE_MINS)
    {
        return Err(StoreError::invalid(
            "invalid_tolerance",
            format!("each tolerance is 0 to {MAX_TOLERANCE_MINS} minutes"),
        ));
    }
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let before = tx.tolerances(branch).await?;
    tx.set_tolerances(branch, &t).await?;
    tx.audit(&AuditEntry {
        branch,
        user: who.user_id,
        at: now,
        action: "attendance.tolerances",
        detail: serde_json::json!({ "from": before, "to": t }).to_string(),
    })
    .await?;
    Ok(t)
}

impl Store {
    /// The branch's attendance over the local days `from ..= to`, with the tolerances used.
    pub async fn attendance(
        &self,
        branch: i64,
        from: NaiveDate,
        to: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<(Tolerances, Vec<DayRecord>)> {
        read!(self, |tx| attendance(tx, branch, from, to, now))
    }

    pub async fn attendance_tolerances(&self, branch: i64) -> Result<Tolerances> {
        read!(self, |tx| tx.tolerances(branch))
    }

    /// See [`set_tolerances`].
    pub async fn set_attendance_tolerances(
        &self,
        who: &Principal,
        t: Tolerances,
        now: DateTime<Utc>,
    ) -> Result<Tolerances> {
        let who = who.clone();
        write!(self, |tx, _out| set_tolerances(tx, &who, t, now))
    }
}

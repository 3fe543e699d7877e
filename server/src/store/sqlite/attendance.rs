//! [`AttendanceTx`] for SQLite.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{SqliteTx, from_ms, ms};
use crate::hall::attendance::AttendanceTx;
use crate::queue::attendance::{LogEntry, LogKind, Tolerances};
use crate::store::Result;

impl AttendanceTx for SqliteTx<'_> {
    async fn window_log(
        &mut self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<LogEntry>> {
        let mut st = self.conn.prepare_cached(
            "SELECT window_number, user_id, kind, at FROM window_log \
             WHERE branch_id = ? AND at >= ? AND at < ? ORDER BY at, id",
        )?;
        let rows = st.query_map(params![branch, ms(from), ms(to)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (window, user, kind, at) = row?;
            if let Some(kind) = LogKind::parse(&kind) {
                out.push(LogEntry {
                    window,
                    user,
                    kind,
                    at: from_ms(at),
                });
            }
        }
        Ok(out)
    }

    async fn tolerances(&mut self, branch: i64) -> Result<Tolerances> {
        let v: Option<(i64, i64, i64)> = self
            .conn
            .prepare_cached(
                "SELECT late_after_mins, early_leave_mins, long_pause_mins FROM people_settings WHERE branch_id = ?",
            )?
            .query_row([branch], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        Ok(match v {
            None => Tolerances::default(),
            Some((l, e, p)) => Tolerances {
                late_after_mins: u32::try_from(l).unwrap_or(0),
                early_leave_mins: u32::try_from(e).unwrap_or(0),
                long_pause_mins: u32::try_from(p).unwrap_or(0),
            },
        })
    }

    async fn set_tolerances(&mut self, branch: i64, t: &Tolerances) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO people_settings (branch_id, late_after_mins, early_leave_mins, long_pause_mins) \
                 VALUES (?, ?, ?, ?) ON CONFLICT (branch_id) DO UPDATE SET \
                 late_after_mins = excluded.late_after_mins, early_leave_mins = excluded.early_leave_mins, \
                 long_pause_mins = excluded.long_pause_mins",
            )?
            .execute(params![
                branch,
                t.late_after_mins,
                t.early_leave_mins,
                t.long_pause_mins
            ])?;
        Ok(())
    }
}

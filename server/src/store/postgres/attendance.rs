//! [`AttendanceTx`] for PostgreSQL.

use chrono::{DateTime, Utc};

use super::PgTx;
use crate::hall::attendance::AttendanceTx;
use crate::queue::attendance::{LogEntry, LogKind, Tolerances};
use crate::store::Result;
use crate::store::sqlite::{from_ms, ms};

impl AttendanceTx for PgTx<'_> {
    async fn window_log(
        &mut self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<LogEntry>> {
        let rows: Vec<(i64, Option<i64>, String, i64)> = sqlx::query_as(
            "SELECT window_number, user_id, kind, at FROM window_log \
             WHERE branch_id = $1 AND at >= $2 AND at < $3 ORDER BY at, id",
        )
        .bind(branch)
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(&mut *self.conn)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(window, user, kind, at)| {
                Some(LogEntry {
                    window,
                    user,
                    kind: LogKind::parse(&kind)?,
                    at: from_ms(at),
                })
            })
            .collect())
    }

    async fn tolerances(&mut self, branch: i64) -> Result<Tolerances> {
        let v: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT late_after_mins, early_leave_mins, long_pause_mins FROM people_settings WHERE branch_id = $1",
        )
        .bind(branch)
        .fetch_optional(&mut *self.conn)
        .await?;
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
        sqlx::query(
            "INSERT INTO people_settings (branch_id, late_after_mins, early_leave_mins, long_pause_mins) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (branch_id) DO UPDATE SET \
             late_after_mins = excluded.late_after_mins, early_leave_mins = excluded.early_leave_mins, \
             long_pause_mins = excluded.long_pause_mins",
        )
        .bind(branch)
        .bind(i64::from(t.late_after_mins))
        .bind(i64::from(t.early_leave_mins))
        .bind(i64::from(t.long_pause_mins))
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }
}

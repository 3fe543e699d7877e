//! [`LiveTx`] (the live page's reads) and [`AttendanceTx`] (the window log and the tolerances
//! attendance is judged by), once for both databases.

use chrono::{DateTime, Utc};
use qhall_shared::{ServiceCode, WindowNo};

use super::sql::Sql;
use crate::hall::attendance::AttendanceTx;
use crate::hall::live::{AlertSettings, DeviceNow, LiveTx, WindowLogEntry};
use crate::queue::attendance::{LogEntry, LogKind, Tolerances};
use crate::store::Result;

impl<T: Sql> LiveTx for T {
    async fn waiting_lines(
        &mut self,
        branch: i64,
    ) -> Result<Vec<(ServiceCode, u32, DateTime<Utc>)>> {
        self.rows(
            "SELECT service_code, COUNT(*) AS n, MIN(issued_at) AS first FROM tickets \
             WHERE branch_id = ? AND status = 'waiting' GROUP BY service_code",
            args![branch],
            |r| Ok((r.service("service_code")?, r.count("n")?, r.time("first")?)),
        )
        .await
    }

    async fn devices_now(&mut self, branch: i64) -> Result<Vec<DeviceNow>> {
        self.rows(
            "SELECT id, name, role, last_seen_at, printer_state, printer_detail FROM devices \
             WHERE branch_id = ? AND active ORDER BY id",
            args![branch],
            |r| {
                Ok(DeviceNow {
                    id: r.int("id")?,
                    name: r.text("name")?,
                    role: r.text("role")?,
                    last_seen_at: r.opt_time("last_seen_at")?,
                    printer_state: r.opt_text("printer_state")?,
                    printer_detail: r.opt_text("printer_detail")?,
                })
            },
        )
        .await
    }

    async fn overdue_complaints(&mut self, branch: i64, now: DateTime<Utc>) -> Result<u32> {
        self.count(
            "SELECT COUNT(*) FROM complaints WHERE branch_id = ? AND status <> 'resolved' AND due_at < ?",
            args![branch, now],
        )
        .await
    }

    async fn last_finished_by_window(
        &mut self,
        branch: i64,
    ) -> Result<Vec<(WindowNo, DateTime<Utc>)>> {
        self.rows(
            "SELECT window_number, MAX(done_at) AS last FROM tickets \
             WHERE branch_id = ? AND window_number IS NOT NULL AND done_at IS NOT NULL \
             GROUP BY window_number",
            args![branch],
            |r| Ok((r.window("window_number")?, r.time("last")?)),
        )
        .await
    }

    async fn alert_settings(&mut self, branch: i64) -> Result<Option<AlertSettings>> {
        self.row(
            "SELECT warn_percent, per_window FROM live_alert_settings WHERE branch_id = ?",
            args![branch],
            |r| {
                Ok(AlertSettings {
                    warn_percent: r.count("warn_percent")?,
                    per_window: r.count("per_window")?,
                })
            },
        )
        .await
    }

    async fn save_alert_settings(
        &mut self,
        branch: i64,
        s: &AlertSettings,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO live_alert_settings (branch_id, warn_percent, per_window, updated_at) \
             VALUES (?, ?, ?, ?) ON CONFLICT (branch_id) DO UPDATE SET \
             warn_percent = excluded.warn_percent, per_window = excluded.per_window, \
             updated_at = excluded.updated_at",
            args![branch, s.warn_percent, s.per_window, now],
        )
        .await?;
        Ok(())
    }

    async fn window_log_between(
        &mut self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<WindowLogEntry>> {
        self.rows(
            "SELECT window_number, kind, at FROM window_log \
             WHERE branch_id = ? AND at < ? AND (at >= ? OR id IN ( \
                 SELECT MAX(id) FROM window_log WHERE branch_id = ? AND at < ? GROUP BY window_number)) \
             ORDER BY at, id",
            args![branch, to, from, branch, from],
            |r| {
                Ok(WindowLogEntry {
                    window: r.window("window_number")?,
                    kind: r.text("kind")?,
                    at: r.time("at")?,
                })
            },
        )
        .await
    }
}

impl<T: Sql> AttendanceTx for T {
    async fn window_log(
        &mut self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<LogEntry>> {
        let rows = self
            .rows(
                "SELECT window_number, user_id, kind, reason, at FROM window_log \
                 WHERE branch_id = ? AND at >= ? AND at < ? ORDER BY at, id",
                args![branch, from, to],
                |r| {
                    let Some(kind) = LogKind::parse(&r.text("kind")?) else {
                        return Ok(None);
                    };
                    Ok(Some(LogEntry {
                        window: r.int("window_number")?,
                        user: r.opt_int("user_id")?,
                        kind,
                        at: r.time("at")?,
                        by_closing: r.opt_text("reason")?.as_deref()
                            == Some(crate::hall::closing::SIGNED_OUT_BY_CLOSING),
                    }))
                },
            )
            .await?;
        Ok(rows.into_iter().flatten().collect())
    }

    async fn tolerances(&mut self, branch: i64) -> Result<Tolerances> {
        let t = self
            .row(
                "SELECT late_after_mins, early_leave_mins, long_pause_mins FROM people_settings \
                 WHERE branch_id = ?",
                args![branch],
                |r| {
                    Ok(Tolerances {
                        late_after_mins: r.count("late_after_mins")?,
                        early_leave_mins: r.count("early_leave_mins")?,
                        long_pause_mins: r.count("long_pause_mins")?,
                    })
                },
            )
            .await?;
        Ok(t.unwrap_or_default())
    }

    async fn set_tolerances(&mut self, branch: i64, t: &Tolerances) -> Result<()> {
        self.execute(
            "INSERT INTO people_settings (branch_id, late_after_mins, early_leave_mins, long_pause_mins) \
             VALUES (?, ?, ?, ?) ON CONFLICT (branch_id) DO UPDATE SET \
             late_after_mins = excluded.late_after_mins, early_leave_mins = excluded.early_leave_mins, \
             long_pause_mins = excluded.long_pause_mins",
            args![branch, t.late_after_mins, t.early_leave_mins, t.long_pause_mins],
        )
        .await?;
        Ok(())
    }
}

//! [`LiveTx`] for PostgreSQL (the same statements as `sqlite/live.rs`).

use chrono::{DateTime, Utc};
use qhall_shared::{ServiceCode, WindowNo};

use super::tx::{PgTx, code};
use crate::hall::live::{AlertSettings, DeviceNow, LiveTx, WindowLogEntry};
use crate::store::sqlite::{from_ms, ms};
use crate::store::{Result, StoreError};

fn window_no(n: i64) -> Result<WindowNo> {
    u32::try_from(n)
        .ok()
        .and_then(|n| WindowNo::new(n).ok())
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad window number in database: {n}")))
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl LiveTx for PgTx<'_> {
    async fn waiting_lines(
        &mut self,
        branch: i64,
    ) -> Result<Vec<(ServiceCode, u32, DateTime<Utc>)>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT service_code, COUNT(*), MIN(issued_at) FROM tickets \
             WHERE branch_id = $1 AND status = 'waiting' GROUP BY service_code",
        )
        .bind(branch)
        .fetch_all(&mut *self.conn)
        .await?;
        rows.into_iter()
            .map(|(c, n, at)| Ok((code(&c)?, count(n), from_ms(at))))
            .collect()
    }

    async fn devices_now(&mut self, branch: i64) -> Result<Vec<DeviceNow>> {
        type Row = (
            i64,
            String,
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, name, role, last_seen_at, printer_state, printer_detail FROM devices \
             WHERE branch_id = $1 AND active ORDER BY id",
        )
        .bind(branch)
        .fetch_all(&mut *self.conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, name, role, seen, printer_state, printer_detail)| DeviceNow {
                    id,
                    name,
                    role,
                    last_seen_at: seen.map(from_ms),
                    printer_state,
                    printer_detail,
                },
            )
            .collect())
    }

    async fn overdue_complaints(&mut self, branch: i64, now: DateTime<Utc>) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM complaints WHERE branch_id = $1 AND status <> 'resolved' AND due_at < $2",
        )
        .bind(branch)
        .bind(ms(now))
        .fetch_one(&mut *self.conn)
        .await?;
        Ok(count(n))
    }

    async fn last_finished_by_window(
        &mut self,
        branch: i64,
    ) -> Result<Vec<(WindowNo, DateTime<Utc>)>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT window_number, MAX(done_at) FROM tickets \
             WHERE branch_id = $1 AND window_number IS NOT NULL AND done_at IS NOT NULL \
             GROUP BY window_number",
        )
        .bind(branch)
        .fetch_all(&mut *self.conn)
        .await?;
        rows.into_iter()
            .map(|(w, at)| Ok((window_no(w)?, from_ms(at))))
            .collect()
    }

    async fn alert_settings(&mut self, branch: i64) -> Result<Option<AlertSettings>> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT warn_percent, per_window FROM live_alert_settings WHERE branch_id = $1",
        )
        .bind(branch)
        .fetch_optional(&mut *self.conn)
        .await?;
        Ok(row.map(|(w, p)| AlertSettings {
            warn_percent: count(w),
            per_window: count(p),
        }))
    }

    async fn save_alert_settings(
        &mut self,
        branch: i64,
        s: &AlertSettings,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO live_alert_settings (branch_id, warn_percent, per_window, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (branch_id) DO UPDATE SET \
             warn_percent = excluded.warn_percent, per_window = excluded.per_window, \
             updated_at = excluded.updated_at",
        )
        .bind(branch)
        .bind(i64::from(s.warn_percent))
        .bind(i64::from(s.per_window))
        .bind(ms(now))
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn window_log_between(
        &mut self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<WindowLogEntry>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT window_number, kind, at FROM window_log \
             WHERE branch_id = $1 AND at < $3 AND (at >= $2 OR id IN ( \
                 SELECT MAX(id) FROM window_log WHERE branch_id = $1 AND at < $2 GROUP BY window_number)) \
             ORDER BY at, id",
        )
        .bind(branch)
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(&mut *self.conn)
        .await?;
        rows.into_iter()
            .map(|(w, kind, at)| {
                Ok(WindowLogEntry {
                    window: window_no(w)?,
                    kind,
                    at: from_ms(at),
                })
            })
            .collect()
    }
}

//! [`LiveTx`] for SQLite.

use chrono::{DateTime, Utc};
use qhall_shared::{ServiceCode, WindowNo};
use rusqlite::{OptionalExtension, params};

use super::tx::code;
use super::{SqliteTx, from_ms, ms};
use crate::hall::live::{AlertSettings, DeviceNow, LiveTx, WindowLogEntry};
use crate::store::Result;

fn window_no(n: i64) -> rusqlite::Result<WindowNo> {
    u32::try_from(n)
        .ok()
        .and_then(|n| WindowNo::new(n).ok())
        .ok_or_else(|| {
            rusqlite::Error::ToSqlConversionFailure(
                anyhow::anyhow!("bad window number in database: {n}").into(),
            )
        })
}

impl LiveTx for SqliteTx<'_> {
    async fn waiting_lines(
        &mut self,
        branch: i64,
    ) -> Result<Vec<(ServiceCode, u32, DateTime<Utc>)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT service_code, COUNT(*), MIN(issued_at) FROM tickets \
             WHERE branch_id = ? AND status = 'waiting' GROUP BY service_code",
        )?;
        let rows = st.query_map([branch], |r| {
            let c: String = r.get(0)?;
            Ok((code(&c)?, r.get::<_, u32>(1)?, from_ms(r.get(2)?)))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    async fn devices_now(&mut self, branch: i64) -> Result<Vec<DeviceNow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, name, role, last_seen_at, printer_state, printer_detail FROM devices \
             WHERE branch_id = ? AND active = 1 ORDER BY id",
        )?;
        let rows = st.query_map([branch], |r| {
            Ok(DeviceNow {
                id: r.get(0)?,
                name: r.get(1)?,
                role: r.get(2)?,
                last_seen_at: r.get::<_, Option<i64>>(3)?.map(from_ms),
                printer_state: r.get(4)?,
                printer_detail: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    async fn overdue_complaints(&mut self, branch: i64, now: DateTime<Utc>) -> Result<u32> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM complaints WHERE branch_id = ? AND status <> 'resolved' AND due_at < ?",
            )?
            .query_row(params![branch, ms(now)], |r| r.get(0))?)
    }

    async fn last_finished_by_window(
        &mut self,
        branch: i64,
    ) -> Result<Vec<(WindowNo, DateTime<Utc>)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT window_number, MAX(done_at) FROM tickets \
             WHERE branch_id = ? AND window_number IS NOT NULL AND done_at IS NOT NULL \
             GROUP BY window_number",
        )?;
        let rows = st.query_map([branch], |r| {
            Ok((window_no(r.get(0)?)?, from_ms(r.get(1)?)))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    async fn alert_settings(&mut self, branch: i64) -> Result<Option<AlertSettings>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT warn_percent, per_window FROM live_alert_settings WHERE branch_id = ?",
            )?
            .query_row([branch], |r| {
                Ok(AlertSettings {
                    warn_percent: r.get(0)?,
                    per_window: r.get(1)?,
                })
            })
            .optional()?)
    }

    async fn save_alert_settings(
        &mut self,
        branch: i64,
        s: &AlertSettings,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO live_alert_settings (branch_id, warn_percent, per_window, updated_at) \
                 VALUES (?, ?, ?, ?) ON CONFLICT (branch_id) DO UPDATE SET \
                 warn_percent = excluded.warn_percent, per_window = excluded.per_window, \
                 updated_at = excluded.updated_at",
            )?
            .execute(params![branch, s.warn_percent, s.per_window, ms(now)])?;
        Ok(())
    }

    async fn window_log_between(
        &mut self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<WindowLogEntry>> {
        let mut st = self.conn.prepare_cached(
            "SELECT window_number, kind, at FROM window_log \
             WHERE branch_id = ?1 AND at < ?3 AND (at >= ?2 OR id IN ( \
                 SELECT MAX(id) FROM window_log WHERE branch_id = ?1 AND at < ?2 GROUP BY window_number)) \
             ORDER BY at, id",
        )?;
        let rows = st.query_map(params![branch, ms(from), ms(to)], |r| {
            Ok(WindowLogEntry {
                window: window_no(r.get(0)?)?,
                kind: r.get(1)?,
                at: from_ms(r.get(2)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

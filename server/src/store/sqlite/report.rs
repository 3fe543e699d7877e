//! The reads behind the managers' reports: tickets of a range of days, reduced to what the
//! report tables need, and the raw ticket events as CSV, streamed in chunks.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{SqliteStore, ms};
use crate::queue::report::ReportTicket;
use crate::store::export::{
    AuditRow, CSV_CHUNK_BYTES, EVENTS_CSV_HEADER, EventCsvRow, RawReportTicket, ReportRows,
};
use crate::store::{BranchConfig, Result};

impl SqliteStore {
    /// Tickets issued in `[from, to)`, as the report tables need them: the range is cut in
    /// two halves read on two reader connections at once (the read is most of a report's time).
    pub async fn report_tickets(
        &self,
        cfg: &BranchConfig,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ReportTicket>> {
        let mid = from + (to - from) / 2;
        let (a, b) = tokio::join!(
            self.report_tickets_part(cfg, from, mid),
            self.report_tickets_part(cfg, mid, to)
        );
        let mut out = a?;
        out.extend(b?);
        Ok(out)
    }

    async fn report_tickets_part(
        &self,
        cfg: &BranchConfig,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ReportTicket>> {
        let branch = cfg.id;
        let mut build = ReportRows::new(cfg);
        self.read(move |tx| {
            // Ratings first, then one walk of the covering index `tickets_report`. A rating is
            // given within minutes of the service, so those of the range's tickets are among the
            // ratings given from `from` to two days after `to`; the lookup by ticket key below
            // keeps exactly the range's own.
            let mut st = tx.conn.prepare_cached(
                "SELECT ticket_key, score FROM ratings \
                 WHERE branch_id = ? AND created_at >= ? AND created_at < ?",
            )?;
            let rated_until = to + chrono::Duration::days(2);
            let ratings: HashMap<i64, u8> = st
                .query_map(rusqlite::params![branch, ms(from), ms(rated_until)], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, u8>(1)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut st = tx.conn.prepare_cached(
                "SELECT issued_service, window_number, staff_user_id, status, issued_at, \
                 first_called_at, serving_at, done_at, estimate_secs, key \
                 FROM tickets INDEXED BY tickets_report \
                 WHERE branch_id = ? AND issued_at >= ? AND issued_at < ?",
            )?;
            let mut rows = st.query(rusqlite::params![branch, ms(from), ms(to)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let key: i64 = r.get(9)?;
                let raw = RawReportTicket {
                    issued_service: r.get_ref(0)?.as_str().unwrap_or(""),
                    window: r.get(1)?,
                    staff: r.get(2)?,
                    status: r.get_ref(3)?.as_str().unwrap_or(""),
                    issued_at: r.get(4)?,
                    first_called_at: r.get(5)?,
                    serving_at: r.get(6)?,
                    done_at: r.get(7)?,
                    estimate_secs: r.get(8)?,
                    rating: ratings.get(&key).copied(),
                };
                out.extend(build.ticket(&raw));
            }
            Ok(out)
        })
        .await
    }

    /// Display names of the branch's people, for the staff table.
    pub async fn staff_names(&self, branch: i64) -> Result<HashMap<i64, String>> {
        self.read(move |tx| {
            let mut st = tx.conn.prepare_cached(
                "SELECT id, CASE WHEN display_name = '' THEN username ELSE display_name END \
                 FROM users WHERE branch_id = ? OR branch_id IS NULL",
            )?;
            let rows = st.query_map([branch], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// The audit log of the branch in `[from, to)`, newest first, with who made each change.
    pub async fn audit_log(
        &self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<AuditRow>> {
        self.read(move |tx| {
            let mut st = tx.conn.prepare_cached(
                "SELECT a.at, COALESCE(u.username, ''), a.action, a.detail FROM audit_log a \
                 LEFT JOIN users u ON u.id = a.user_id \
                 WHERE a.branch_id = ? AND a.at >= ? AND a.at < ? ORDER BY a.id DESC LIMIT 5000",
            )?;
            let rows = st.query_map(rusqlite::params![branch, ms(from), ms(to)], |r| {
                Ok(AuditRow::from_stored(
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get_ref(3)?.as_str().unwrap_or(""),
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// The ticket events of tickets issued in `[from, to)` as CSV (header first), sent in
    /// chunks of about 64 KiB so a year of a large hall never sits in memory at once.
    pub fn ticket_events_csv(
        &self,
        branch: i64,
        tz: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        chunks: tokio::sync::mpsc::Sender<String>,
    ) {
        let store = self.clone();
        tokio::spawn(async move {
            let result = store
                .read(move |tx| {
                    let mut st = tx.conn.prepare_cached(
                        "SELECT e.at, t.day, t.number, t.issued_service, t.service_code, e.kind, \
                         e.window_number, COALESCE(u.username, ''), COALESCE(e.detail, '') \
                         FROM tickets t JOIN ticket_events e ON e.ticket_key = t.key \
                         LEFT JOIN users u ON u.id = e.staff_user_id \
                         WHERE t.branch_id = ? AND t.issued_at >= ? AND t.issued_at < ? \
                         ORDER BY t.key, e.id",
                    )?;
                    let mut rows = st.query(rusqlite::params![branch, ms(from), ms(to)])?;
                    let mut buf = String::from(EVENTS_CSV_HEADER);
                    while let Some(r) = rows.next()? {
                        EventCsvRow {
                            at: r.get(0)?,
                            day: r.get(1)?,
                            number: r.get(2)?,
                            issued_service: r.get(3)?,
                            service: r.get(4)?,
                            kind: r.get(5)?,
                            window: r.get(6)?,
                            staff: r.get(7)?,
                            detail: r.get(8)?,
                        }
                        .push(&mut buf, tz);
                        if buf.len() >= CSV_CHUNK_BYTES
                            && chunks.blocking_send(std::mem::take(&mut buf)).is_err()
                        {
                            return Ok(()); // the client went away
                        }
                    }
                    if !buf.is_empty() {
                        let _ = chunks.blocking_send(buf);
                    }
                    Ok(())
                })
                .await;
            if let Err(e) = result {
                tracing::error!(error = %e, "ticket events export failed");
            }
        });
    }
}

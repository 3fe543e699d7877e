//! The reads behind the managers' reports on PostgreSQL: tickets of a range reduced to what the
//! report tables need, and the raw ticket events as CSV, both streamed from the database.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures_util::TryStreamExt;
use sqlx::{AssertSqlSafe, Row};

use super::PgStore;
use crate::queue::report::ReportTicket;
use crate::store::export::{
    CSV_CHUNK_BYTES, EVENTS_CSV_HEADER, EVENTS_CSV_SQL, EventCsvRow, RawReportTicket, ReportRows,
};
use crate::store::sql::{ms, numbered};
use crate::store::{BranchConfig, Result};

impl PgStore {
    /// Tickets issued in `[from, to)`, as the report tables need them, in issue order (so the
    /// figures, sums of floating-point numbers, come out identical on both backends).
    pub async fn report_tickets(
        &self,
        cfg: &BranchConfig,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ReportTicket>> {
        let mut build = ReportRows::new(cfg);
        let mut rows = sqlx::query(
            "SELECT t.issued_service, t.window_number, t.staff_user_id, t.status, \
             CASE WHEN t.appointment_at > t.issued_at THEN t.appointment_at ELSE t.issued_at END, \
             t.first_called_at, t.serving_at, t.done_at, t.estimate_secs, r.score \
             FROM tickets t LEFT JOIN ratings r ON r.ticket_key = t.key \
             WHERE t.branch_id = $1 AND t.issued_at >= $2 AND t.issued_at < $3 ORDER BY t.key",
        )
        .bind(cfg.id)
        .bind(ms(from))
        .bind(ms(to))
        .fetch(self.pool());
        let mut out = Vec::new();
        while let Some(r) = rows.try_next().await? {
            let (service, status): (String, String) = (r.try_get(0)?, r.try_get(3)?);
            let raw = RawReportTicket {
                issued_service: &service,
                window: r.try_get(1)?,
                staff: r.try_get(2)?,
                status: &status,
                issued_at: r.try_get(4)?,
                first_called_at: r.try_get(5)?,
                serving_at: r.try_get(6)?,
                done_at: r.try_get(7)?,
                estimate_secs: r.try_get(8)?,
                rating: r
                    .try_get::<Option<i64>, _>(9)?
                    .and_then(|v| u8::try_from(v).ok()),
            };
            out.extend(build.ticket(&raw));
        }
        Ok(out)
    }

    /// The ticket events of tickets issued in `[from, to)` as CSV (header first), streamed
    /// from the database in chunks of about 64 KiB.
    pub fn ticket_events_csv(
        &self,
        branch: i64,
        tz: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        chunks: tokio::sync::mpsc::Sender<String>,
    ) {
        let pool = self.pool().clone();
        tokio::spawn(async move {
            let result: Result<()> = async {
                let mut rows = sqlx::query(AssertSqlSafe(numbered(EVENTS_CSV_SQL)))
                    .bind(branch)
                    .bind(ms(from))
                    .bind(ms(to))
                    .fetch(&pool);
                let mut buf = String::from(EVENTS_CSV_HEADER);
                while let Some(r) = rows.try_next().await? {
                    EventCsvRow::read(&r)?.push(&mut buf, tz);
                    if buf.len() >= CSV_CHUNK_BYTES
                        && chunks.send(std::mem::take(&mut buf)).await.is_err()
                    {
                        return Ok(()); // the client went away
                    }
                }
                if !buf.is_empty() {
                    let _ = chunks.send(buf).await;
                }
                Ok(())
            }
            .await;
            if let Err(e) = result {
                tracing::error!(error = %e, "ticket events export failed");
            }
        });
    }
}

//! The reads behind the managers' reports: tickets of a range of days, reduced to what the
//! report tables need, and the raw ticket events as CSV, streamed in chunks.

use std::collections::HashMap;

use chrono::{DateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use qhall_shared::api::TicketStatus;
use qhall_shared::{ServiceCode, WindowNo};

use super::{SqliteStore, from_ms, ms};
use crate::queue::report::ReportTicket;
use crate::queue::stats::TicketRecord;
use crate::store::{BranchConfig, Result};

/// The branch-local hour of instants, computing the zone's offset once per UTC hour (a year
/// of tickets touches ~9,000 hours, not 700,000 conversions).
pub(crate) struct LocalHours {
    pub(crate) tz: Tz,
    pub(crate) offsets: HashMap<i64, i64>,
}

impl LocalHours {
    pub(crate) fn hour(&mut self, t: DateTime<Utc>) -> u8 {
        let secs = t.timestamp();
        let bucket = secs.div_euclid(3600);
        let tz = self.tz;
        let offset = *self.offsets.entry(bucket).or_insert_with(|| {
            i64::from(
                tz.offset_from_utc_datetime(&t.naive_utc())
                    .fix()
                    .local_minus_utc(),
            )
        });
        let local = DateTime::from_timestamp(secs + offset, 0).unwrap_or(t);
        local.hour() as u8
    }
}

/// A service code's place in the alphabet (codes are one letter A–Z).
fn letter(code: ServiceCode) -> Option<usize> {
    (code.as_char() as usize)
        .checked_sub('A' as usize)
        .filter(|i| *i < 26)
}

pub(crate) fn status(s: &str) -> TicketStatus {
    match s {
        "waiting" => TicketStatus::Waiting,
        "called" => TicketStatus::Called,
        "serving" => TicketStatus::Serving,
        "done" => TicketStatus::Done,
        "no_show" => TicketStatus::NoShow,
        _ => TicketStatus::Cancelled,
    }
}

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
        let tz = cfg.schedule.tz;
        // Targets by service letter, so a row costs no string lookup.
        let mut targets = [0u32; 26];
        for s in &cfg.services {
            if let Some(i) = letter(s.code) {
                targets[i] = s.target_wait_secs;
            }
        }
        self.read(move |tx| {
            let mut hours = LocalHours {
                tz,
                offsets: HashMap::new(),
            };
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
                let Some(code) = r
                    .get_ref(0)?
                    .as_str()
                    .ok()
                    .and_then(|s| s.parse::<ServiceCode>().ok())
                else {
                    continue;
                };
                let window: Option<i64> = r.get(1)?;
                let issued_at = from_ms(r.get(4)?);
                let key: i64 = r.get(9)?;
                out.push(ReportTicket {
                    service: code,
                    window: window.and_then(|w| WindowNo::new(u32::try_from(w).ok()?).ok()),
                    staff: r.get(2)?,
                    hour: hours.hour(issued_at),
                    record: TicketRecord {
                        status: status(r.get_ref(3)?.as_str().unwrap_or("")),
                        issued_at,
                        counted_call_at: r.get::<_, Option<i64>>(5)?.map(from_ms),
                        serving_at: r.get::<_, Option<i64>>(6)?.map(from_ms),
                        done_at: r.get::<_, Option<i64>>(7)?.map(from_ms),
                        target_wait_secs: letter(code).map_or(0, |i| targets[i]),
                    },
                    estimate_secs: u64::try_from(r.get::<_, i64>(8)?).unwrap_or(0),
                    rating: ratings.get(&key).copied(),
                });
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
                Ok(AuditRow {
                    at: from_ms(r.get(0)?),
                    user: r.get(1)?,
                    action: r.get(2)?,
                    detail: serde_json::from_str(&r.get::<_, String>(3)?)
                        .unwrap_or(serde_json::Value::Null),
                })
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
                    let mut buf = String::from(
                        "at,day,number,issued_service,service,event,window,staff,detail\n",
                    );
                    while let Some(r) = rows.next()? {
                        let at = from_ms(r.get(0)?).with_timezone(&tz);
                        let window: Option<i64> = r.get(6)?;
                        let fields = [
                            at.to_rfc3339(),
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, String>(5)?,
                            window.map(|w| w.to_string()).unwrap_or_default(),
                            r.get::<_, String>(7)?,
                            r.get::<_, String>(8)?,
                        ];
                        push_csv_line(&mut buf, &fields);
                        if buf.len() >= 64 * 1024
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

/// One change in the audit log, as managers read it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRow {
    pub at: DateTime<Utc>,
    /// The username of who made the change ('' when a device or the system did).
    pub user: String,
    pub action: String,
    pub detail: serde_json::Value,
}

/// Appends one CSV record (RFC 4180: fields with commas, quotes or line breaks are quoted).
pub(crate) fn push_csv_line<S: AsRef<str>>(buf: &mut String, fields: &[S]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            buf.push(',');
        }
        let f = f.as_ref();
        if f.contains([',', '"', '\n', '\r']) {
            buf.push('"');
            buf.push_str(&f.replace('"', "\"\""));
            buf.push('"');
        } else {
            buf.push_str(f);
        }
    }
    buf.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let mut b = String::new();
        push_csv_line(&mut b, &["A012", "said \"hi\", left", "x\ny", ""]);
        assert_eq!(b, "A012,\"said \"\"hi\"\", left\",\"x\ny\",\n");
    }

    #[test]
    fn local_hours_across_a_dst_change() {
        let mut h = LocalHours {
            tz: chrono_tz::Europe::Berlin,
            offsets: HashMap::new(),
        };
        // 2026-03-29: clocks go from 02:00 CET to 03:00 CEST at 01:00 UTC.
        let before = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap();
        assert_eq!(h.hour(before), 1);
        assert_eq!(h.hour(after), 3);
    }
}

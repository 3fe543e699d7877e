//! What both backends' report reads share: turning raw ticket rows into [`ReportTicket`]s,
//! ticket events into CSV lines, and the audit log's rows. Each backend runs its own SQL and
//! hands the raw values here, so the two cannot drift apart.

use std::collections::HashMap;

use chrono::{DateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use qhall_shared::api::TicketStatus;
use qhall_shared::{ServiceCode, WindowNo};

use super::sql::Columns;
use super::sql::from_ms;
use super::{BranchConfig, Result};
use crate::queue::report::ReportTicket;

/// The branch-local hour of instants, computing the zone's offset once per UTC hour (a year
/// of tickets touches ~9,000 hours, not 700,000 conversions).
pub(crate) struct LocalHours {
    tz: Tz,
    offsets: HashMap<i64, i64>,
}

impl LocalHours {
    pub(crate) fn new(tz: Tz) -> LocalHours {
        LocalHours {
            tz,
            offsets: HashMap::new(),
        }
    }

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

/// A ticket row as the report query returns it (times in milliseconds).
pub(crate) struct RawReportTicket<'a> {
    pub issued_service: &'a str,
    pub window: Option<i64>,
    pub staff: Option<i64>,
    pub status: &'a str,
    /// When its wait began: the issue, or an appointment's slot start if later.
    pub issued_at: i64,
    pub first_called_at: Option<i64>,
    pub serving_at: Option<i64>,
    pub done_at: Option<i64>,
    pub estimate_secs: i64,
    pub rating: Option<u8>,
}

/// Turns raw report rows into [`ReportTicket`]s for one branch.
pub(crate) struct ReportRows {
    /// Targets by service letter, so a row costs no string lookup.
    targets: [u32; 26],
    hours: LocalHours,
}

/// A service code's place in the alphabet (codes are one letter A–Z).
fn letter(code: ServiceCode) -> Option<usize> {
    (code.as_char() as usize)
        .checked_sub('A' as usize)
        .filter(|i| *i < 26)
}

impl ReportRows {
    pub(crate) fn new(cfg: &BranchConfig) -> ReportRows {
        let mut targets = [0u32; 26];
        for s in &cfg.services {
            if let Some(i) = letter(s.code) {
                targets[i] = s.target_wait_secs;
            }
        }
        ReportRows::from_parts(cfg.schedule.tz, targets)
    }

    /// Rows of a branch in zone `tz` whose services' targets are `targets`, by letter A–Z.
    pub(crate) fn from_parts(tz: Tz, targets: [u32; 26]) -> ReportRows {
        ReportRows {
            targets,
            hours: LocalHours::new(tz),
        }
    }

    /// The ticket, or `None` for a row whose service code is not one (never written so).
    pub(crate) fn ticket(&mut self, r: &RawReportTicket<'_>) -> Option<ReportTicket> {
        let code: ServiceCode = r.issued_service.parse().ok()?;
        let status = r.status.parse().unwrap_or(TicketStatus::Cancelled);
        let service_ms = match (status, r.serving_at, r.done_at) {
            (TicketStatus::Done, Some(s), Some(d)) => Some((d - s).max(0)),
            _ => None,
        };
        Some(ReportTicket {
            service: code,
            window: r
                .window
                .and_then(|w| WindowNo::new(u32::try_from(w).ok()?).ok()),
            staff: r.staff,
            hour: self.hours.hour(from_ms(r.issued_at)),
            status,
            // A cancelled ticket has no wait (one called, then closed at the day's end).
            wait_ms: r
                .first_called_at
                .filter(|_| status != TicketStatus::Cancelled)
                .map(|c| (c - r.issued_at).max(0)),
            service_ms,
            target_wait_secs: self.target(code),
            estimate_secs: u64::try_from(r.estimate_secs).unwrap_or(0),
            rating: r.rating,
        })
    }

    /// The target wait of `code` in this branch (0 for a service it does not have).
    pub(crate) fn target(&self, code: ServiceCode) -> u32 {
        letter(code).map_or(0, |i| self.targets[i])
    }
}

/// The header of `events.csv`.
pub(crate) const EVENTS_CSV_HEADER: &str =
    "at,day,number,issued_service,service,event,window,staff,detail\n";

/// `events.csv` is sent in chunks of about this many bytes.
pub(crate) const CSV_CHUNK_BYTES: usize = 64 * 1024;

/// One ticket event as the export query returns it.
pub(crate) struct EventCsvRow {
    pub at: i64,
    pub day: String,
    pub number: String,
    pub issued_service: String,
    pub service: String,
    pub kind: String,
    pub window: Option<i64>,
    pub staff: String,
    pub detail: String,
}

/// The `events.csv` rows of a branch's tickets issued in `[?, ?)`: branch, from, to.
pub(crate) const EVENTS_CSV_SQL: &str = "SELECT e.at, t.day, t.number, t.issued_service, t.service_code, e.kind, \
     e.window_number, COALESCE(u.username, '') AS staff, COALESCE(e.detail, '') AS detail \
     FROM tickets t JOIN ticket_events e ON e.ticket_key = t.key \
     LEFT JOIN users u ON u.id = e.staff_user_id \
     WHERE t.branch_id = ? AND t.issued_at >= ? AND t.issued_at < ? \
     ORDER BY t.key, e.id";

impl EventCsvRow {
    /// One row of [`EVENTS_CSV_SQL`].
    pub(crate) fn read(r: &dyn Columns) -> Result<Self> {
        Ok(EventCsvRow {
            at: r.int("at")?,
            day: r.text("day")?,
            number: r.text("number")?,
            issued_service: r.text("issued_service")?,
            service: r.text("service_code")?,
            kind: r.text("kind")?,
            window: r.opt_int("window_number")?,
            staff: r.text("staff")?,
            detail: r.text("detail")?,
        })
    }

    /// Appends the row as one CSV line, its time in the branch's zone.
    pub(crate) fn push(self, buf: &mut String, tz: Tz) {
        let fields = [
            from_ms(self.at).with_timezone(&tz).to_rfc3339(),
            self.day,
            self.number,
            self.issued_service,
            self.service,
            self.kind,
            self.window.map(|w| w.to_string()).unwrap_or_default(),
            self.staff,
            self.detail,
        ];
        push_csv_line(buf, &fields);
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

impl AuditRow {
    /// From the stored values (`at` in milliseconds, `detail` JSON text).
    pub(crate) fn from_stored(at: i64, user: String, action: String, detail: &str) -> AuditRow {
        AuditRow {
            at: from_ms(at),
            user,
            action,
            detail: serde_json::from_str(detail).unwrap_or(serde_json::Value::Null),
        }
    }
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
        let mut h = LocalHours::new(chrono_tz::Europe::Berlin);
        // 2026-03-29: clocks go from 02:00 CET to 03:00 CEST at 01:00 UTC.
        let before = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap();
        assert_eq!(h.hour(before), 1);
        assert_eq!(h.hour(after), 3);
    }
}

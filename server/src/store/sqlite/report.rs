//! The reads behind the managers' reports: tickets of a range of days, reduced to what the
//! report tables need, and the raw ticket events as CSV, streamed in chunks.
//!
//! Closed days (before the branch's today) are cached in `report_days`, one row per day holding
//! its tickets packed at [`PACKED`] bytes each: a year's report then reads 365 blobs rather than
//! 700,000 index entries. Triggers (migration 0009) drop a day's row whenever one of its tickets
//! changes or is rated, and the row is rebuilt from `tickets` by the next report or by the
//! background warmer ([`crate::store::Store::warm_report_cache`]).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use qhall_shared::api::TicketStatus;
use qhall_shared::{ServiceCode, WindowNo};

use super::{SqliteStore, ms, run_now};
use crate::queue::oversight::{IdentityCount, OversightEvent};
use crate::queue::report::ReportTicket;
use crate::queue::schedule::local_instant;
use crate::store::export::{
    CSV_CHUNK_BYTES, EVENTS_CSV_HEADER, EVENTS_CSV_SQL, EventCsvRow, RawReportTicket, ReportRows,
};
use crate::store::read::{identity_services, oversight_rows_of};
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
        self.read(move |tx| read_tickets(tx.conn, &mut build, branch, from, to))
            .await
    }

    /// The tickets issued on the branch-local days `from ..= to`. Days before `today` come
    /// from the per-day cache (`report_days`), built here for the days it lacks; `today` and
    /// later are read from `tickets`.
    pub async fn report_days(
        &self,
        cfg: &BranchConfig,
        from: NaiveDate,
        to: NaiveDate,
        today: NaiveDate,
    ) -> Result<Vec<ReportTicket>> {
        let tz = cfg.schedule.tz;
        let mut out = Vec::new();
        let closed_to = to.min(today.pred_opt().unwrap_or(today));
        if from <= closed_to {
            let (cached, found) = self.cached_days(cfg, from, closed_to).await?;
            out = cached;
            let mut day = from;
            while day <= closed_to {
                if !found.contains(&day) {
                    out.extend(self.cache_day(cfg, day).await?);
                }
                day = day.succ_opt().unwrap_or(NaiveDate::MAX);
            }
        }
        let open_from = from.max(today);
        if open_from <= to {
            out.extend(
                self.report_tickets(
                    cfg,
                    local_instant(tz, open_from, 0),
                    local_instant(tz, to, 1440),
                )
                .await?,
            );
        }
        Ok(out)
    }

    /// The cached days of `from ..= to` (in the branch's present time zone): their tickets,
    /// and which days they were.
    async fn cached_days(
        &self,
        cfg: &BranchConfig,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<(Vec<ReportTicket>, HashSet<NaiveDate>)> {
        let branch = cfg.id;
        let rows = ReportRows::new(cfg);
        let zone = cfg.schedule.tz.name();
        self.read(move |tx| {
            let mut st = tx.conn.prepare_cached(
                "SELECT day, tickets FROM report_days \
                 WHERE branch_id = ? AND day >= ? AND day <= ? AND time_zone = ?",
            )?;
            let mut q = st.query(rusqlite::params![
                branch,
                from.to_string(),
                to.to_string(),
                zone
            ])?;
            let mut out = Vec::new();
            let mut days = HashSet::new();
            while let Some(r) = q.next()? {
                let day = r.get_ref(0)?.as_str().ok().and_then(|d| d.parse().ok());
                let (Some(day), Ok(blob)) = (day, r.get_ref(1)?.as_blob()) else {
                    continue;
                };
                out.reserve(blob.len() / PACKED);
                out.extend(blob.chunks_exact(PACKED).filter_map(|b| unpack(b, &rows)));
                days.insert(day);
            }
            Ok((out, days))
        })
        .await
    }

    /// Reads `day`'s tickets and stores them packed in `report_days`, in one write
    /// transaction, so no change can fall between the read and the cache (a change made later
    /// drops the row again). Returns the tickets.
    pub async fn cache_day(&self, cfg: &BranchConfig, day: NaiveDate) -> Result<Vec<ReportTicket>> {
        let branch = cfg.id;
        let tz = cfg.schedule.tz;
        let mut rows = ReportRows::new(cfg);
        // Identity counts of every service: which have the identity step is read at report time.
        let all: Vec<ServiceCode> = cfg.services.iter().map(|s| s.code).collect();
        self.write(move |tx, _| {
            let from = local_instant(tz, day, 0);
            let to = local_instant(tz, day, 1440);
            let tickets = read_tickets(tx.conn, &mut rows, branch, from, to)?;
            let mut blob = Vec::with_capacity(tickets.len() * PACKED);
            for t in &tickets {
                pack(t, &mut blob);
            }
            let oversight = run_now(oversight_rows_of(tx, branch, &all, from, to))?;
            let oversight = serde_json::to_string(&oversight)
                .map_err(|e| crate::store::StoreError::Other(e.into()))?;
            tx.conn
                .prepare_cached(
                    "INSERT OR REPLACE INTO report_days (branch_id, day, time_zone, tickets, oversight) \
                     VALUES (?, ?, ?, ?, ?)",
                )?
                .execute(rusqlite::params![branch, day.to_string(), tz.name(), blob, oversight])?;
            Ok(tickets)
        })
        .await
    }

    /// The report's oversight rows of the tickets issued on the branch-local days `from ..= to`:
    /// closed days from the cache (`report_days.oversight`, filled here for cached days that
    /// lack it), `today` and later from the tables. The identity counts are those of the
    /// services with the identity step now.
    pub async fn oversight_days(
        &self,
        cfg: &BranchConfig,
        from: NaiveDate,
        to: NaiveDate,
        today: NaiveDate,
    ) -> Result<(Vec<OversightEvent>, Vec<IdentityCount>)> {
        let (branch, tz) = (cfg.id, cfg.schedule.tz);
        let checked = identity_services(cfg);
        let all: Vec<ServiceCode> = cfg.services.iter().map(|s| s.code).collect();
        let (mut events, mut identity) = (Vec::new(), Vec::new());
        let closed_to = to.min(today.pred_opt().unwrap_or(today));
        let mut live_from = from.max(today);
        if from <= closed_to {
            let zone = tz.name();
            let cached: Vec<(NaiveDate, Option<String>)> = self
                .read(move |tx| {
                    let mut st = tx.conn.prepare_cached(
                        "SELECT day, oversight FROM report_days \
                         WHERE branch_id = ? AND day >= ? AND day <= ? AND time_zone = ?",
                    )?;
                    let rows = st.query_map(
                        rusqlite::params![branch, from.to_string(), closed_to.to_string(), zone],
                        |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)),
                    )?;
                    let mut out = Vec::new();
                    for row in rows {
                        let (day, json) = row?;
                        if let Ok(day) = day.parse() {
                            out.push((day, json));
                        }
                    }
                    Ok(out)
                })
                .await?;
            let mut have: HashSet<NaiveDate> = HashSet::new();
            let mut rowed: HashSet<NaiveDate> = HashSet::new();
            let mut add = |(e, i): (Vec<OversightEvent>, Vec<IdentityCount>)| {
                events.extend(e);
                identity.extend(i.into_iter().filter(|c| checked.contains(&c.service)));
            };
            for (day, json) in cached {
                rowed.insert(day);
                let parsed = json.as_deref().and_then(|j| serde_json::from_str(j).ok());
                if let Some(rows) = parsed {
                    add(rows);
                    have.insert(day);
                }
            }
            // A cached day whose oversight was cleared (an event since): read it and keep it, in
            // one write, so no change falls in between. Days not cached at all (the tickets'
            // cache builds them, with their oversight): read as ranges of consecutive days.
            let mut day = from;
            let mut run: Option<NaiveDate> = None;
            while day <= closed_to {
                let next = day.succ_opt().unwrap_or(NaiveDate::MAX);
                if have.contains(&day) {
                    day = next;
                    continue;
                }
                if rowed.contains(&day) {
                    let all = all.clone();
                    let (a, b) = (local_instant(tz, day, 0), local_instant(tz, day, 1440));
                    let rows = self
                        .write(move |tx, _| {
                            let rows = run_now(oversight_rows_of(tx, branch, &all, a, b))?;
                            let json = serde_json::to_string(&rows)
                                .map_err(|e| crate::store::StoreError::Other(e.into()))?;
                            tx.conn
                                .prepare_cached(
                                    "UPDATE report_days SET oversight = ? \
                                     WHERE branch_id = ? AND day = ? AND time_zone = ?",
                                )?
                                .execute(rusqlite::params![
                                    json,
                                    branch,
                                    day.to_string(),
                                    tz.name()
                                ])?;
                            Ok(rows)
                        })
                        .await?;
                    add(rows);
                } else {
                    let start = *run.get_or_insert(day);
                    let ends = next > closed_to || have.contains(&next) || rowed.contains(&next);
                    if ends {
                        run = None;
                        let c = checked.clone();
                        let (a, b) = (local_instant(tz, start, 0), local_instant(tz, day, 1440));
                        add(self
                            .read(move |tx| run_now(oversight_rows_of(tx, branch, &c, a, b)))
                            .await?);
                    }
                }
                day = next;
            }
        } else {
            live_from = from;
        }
        if live_from <= to {
            let (a, b) = (local_instant(tz, live_from, 0), local_instant(tz, to, 1440));
            let (e, i) = self
                .read(move |tx| run_now(oversight_rows_of(tx, branch, &checked, a, b)))
                .await?;
            events.extend(e);
            identity.extend(i);
        }
        Ok((events, identity))
    }

    /// The closed days among the last `days`, from the branch's first ticket on, that the cache
    /// lacks.
    pub async fn uncached_days(
        &self,
        cfg: &BranchConfig,
        today: NaiveDate,
        days: u32,
    ) -> Result<Vec<NaiveDate>> {
        let (branch, tz) = (cfg.id, cfg.schedule.tz);
        let first = today - chrono::Duration::days(i64::from(days));
        let (cached, first_ticket): (HashSet<NaiveDate>, Option<i64>) = self
            .read(move |tx| {
                let mut st = tx.conn.prepare_cached(
                    "SELECT day FROM report_days WHERE branch_id = ? AND day >= ? AND time_zone = ?",
                )?;
                let rows = st.query_map(
                    rusqlite::params![branch, first.to_string(), tz.name()],
                    |r| r.get::<_, String>(0),
                )?;
                let mut out = HashSet::new();
                for day in rows {
                    if let Ok(d) = day?.parse() {
                        out.insert(d);
                    }
                }
                let first_ticket = tx.conn.query_row(
                    "SELECT MIN(issued_at) FROM tickets WHERE branch_id = ?",
                    [branch],
                    |r| r.get(0),
                )?;
                Ok((out, first_ticket))
            })
            .await?;
        // Days before the branch's first ticket have nothing to cache: a new hall's first start
        // would otherwise write a year of empty days.
        let Some(first_ticket) = first_ticket else {
            return Ok(Vec::new());
        };
        let first = first.max(crate::queue::schedule::local_date(
            tz,
            super::from_ms(first_ticket),
        ));
        Ok(first
            .iter_days()
            .take_while(|d| *d < today)
            .filter(|d| !cached.contains(d))
            .collect())
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
                    let mut st = tx.conn.prepare_cached(EVENTS_CSV_SQL)?;
                    let mut rows = st.query(rusqlite::params![branch, ms(from), ms(to)])?;
                    let mut buf = String::from(EVENTS_CSV_HEADER);
                    while let Some(r) = rows.next()? {
                        EventCsvRow::read(r)?.push(&mut buf, tz);
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

/// Tickets issued in `[from, to)` with their ratings, on connection `conn`. Ratings first, then
/// one walk of the covering index `tickets_report`. A rating is given within minutes of the
/// service, so those of the range's tickets are among the ratings given from `from` to two days
/// after `to`; the lookup by ticket key keeps exactly the range's own.
fn read_tickets(
    conn: &rusqlite::Connection,
    build: &mut ReportRows,
    branch: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ReportTicket>> {
    let mut st = conn.prepare_cached(
        "SELECT ticket_key, score FROM ratings \
         WHERE branch_id = ? AND created_at >= ? AND created_at < ?",
    )?;
    let rated_until = to + chrono::Duration::days(2);
    let ratings: HashMap<i64, u8> = st
        .query_map(rusqlite::params![branch, ms(from), ms(rated_until)], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, u8>(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = conn.prepare_cached(
        "SELECT issued_service, window_number, staff_user_id, status, \
         CASE WHEN appointment_at > issued_at THEN appointment_at ELSE issued_at END, \
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
}

/// Bytes per ticket in a cached day: service, hour, status, rating (1 byte each), window (4),
/// staff, wait and service time (8 each), estimate (4); little-endian, "none" as 0 or −1.
const PACKED: usize = 36;

const STATUSES: [TicketStatus; 6] = [
    TicketStatus::Waiting,
    TicketStatus::Called,
    TicketStatus::Serving,
    TicketStatus::Done,
    TicketStatus::NoShow,
    TicketStatus::Cancelled,
];

fn pack(t: &ReportTicket, out: &mut Vec<u8>) {
    let status = STATUSES.iter().position(|s| *s == t.status).unwrap_or(5) as u8;
    out.extend_from_slice(&[
        t.service.as_char() as u8,
        t.hour,
        status,
        t.rating.unwrap_or(0),
    ]);
    out.extend_from_slice(&t.window.map_or(0, WindowNo::get).to_le_bytes());
    out.extend_from_slice(&t.staff.unwrap_or(-1).to_le_bytes());
    out.extend_from_slice(&t.wait_ms.unwrap_or(-1).to_le_bytes());
    out.extend_from_slice(&t.service_ms.unwrap_or(-1).to_le_bytes());
    let estimate = u32::try_from(t.estimate_secs).unwrap_or(u32::MAX);
    out.extend_from_slice(&estimate.to_le_bytes());
}

/// One packed ticket back; its target is the service's present one, as for uncached days.
fn unpack(b: &[u8], rows: &ReportRows) -> Option<ReportTicket> {
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap_or_default());
    let i64_at = |i: usize| i64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
    let some = |v: i64| (v >= 0).then_some(v);
    let service: ServiceCode = char::from(b[0]).to_string().parse().ok()?;
    Some(ReportTicket {
        service,
        window: WindowNo::new(u32_at(4)).ok(),
        staff: some(i64_at(8)),
        hour: b[1],
        status: *STATUSES.get(usize::from(b[2]))?,
        wait_ms: some(i64_at(16)),
        service_ms: some(i64_at(24)),
        target_wait_secs: rows.target(service),
        estimate_secs: u64::from(u32_at(32)),
        rating: (b[3] != 0).then_some(b[3]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_ticket_unpacks_to_itself() {
        let mut targets = [0; 26];
        targets[1] = 600;
        let rows = ReportRows::from_parts(chrono_tz::UTC, targets);
        let code: ServiceCode = "B".parse().unwrap();
        let full = ReportTicket {
            service: code,
            window: WindowNo::new(12).ok(),
            staff: Some(42),
            hour: 23,
            status: TicketStatus::Done,
            wait_ms: Some(1_234_567),
            service_ms: Some(0),
            target_wait_secs: rows.target(code),
            estimate_secs: 600,
            rating: Some(5),
        };
        let empty = ReportTicket {
            window: None,
            staff: None,
            hour: 0,
            status: TicketStatus::Cancelled,
            wait_ms: None,
            service_ms: None,
            estimate_secs: 0,
            rating: None,
            ..full
        };
        for t in [full, empty] {
            let mut b = Vec::new();
            pack(&t, &mut b);
            assert_eq!(b.len(), PACKED);
            assert_eq!(unpack(&b, &rows), Some(t));
        }
    }
}

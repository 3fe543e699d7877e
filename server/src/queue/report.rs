//! Reports over a range of days: the figures of [`super::stats`] grouped by the service a ticket
//! was issued for, the window and the staff member who served it, and the branch-local hour it
//! was issued in; plus how honest the estimates printed on the tickets were.
//!
//! Estimate accuracy is measured over the tickets that were called (their wait is known):
//! - **mean absolute error**: mean of |wait − estimate|, in seconds;
//! - **bias**: mean of (wait − estimate): positive when customers waited longer than told;
//! - **within range**: the share whose wait fell inside the range the kiosk printed
//!   ([`WaitRange`], e.g. "about 10–15 min").
//!
//! Satisfaction counts the ratings given on the rating pad, from 5 (非常满意, very satisfied)
//! down to 1 (非常不满意, very dissatisfied).
//!
//! One pass over the tickets fills every grouping; each group sorts its own waits once for the
//! percentiles. The caller hands the tickets over already cut to the range.

use std::collections::BTreeMap;

use qhall_shared::api::StatsFigures;
use qhall_shared::{ServiceCode, WaitRange, WindowNo};
use serde::Serialize;

use super::stats::TicketRecord;
use qhall_shared::api::TicketStatus;

/// One ticket as a report needs it: what it measured, already worked out (a year's report
/// reads hundreds of thousands of these, some from the per-day cache of closed days).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportTicket {
    /// The service it was issued for (a transfer does not move it in the statistics).
    pub service: ServiceCode,
    /// The window it was last called to or served at.
    pub window: Option<WindowNo>,
    /// The staff member at that window.
    pub staff: Option<i64>,
    /// The branch-local hour of day it was issued in, 0–23.
    pub hour: u8,
    pub status: TicketStatus,
    /// Its waiting time in milliseconds (the counted call − issue), once called.
    pub wait_ms: Option<i64>,
    /// Its service time in milliseconds (done − serving start), when served.
    pub service_ms: Option<i64>,
    /// Its service's target wait.
    pub target_wait_secs: u32,
    /// The wait the kiosk printed on it.
    pub estimate_secs: u64,
    /// The customer's rating, 1 (very dissatisfied) … 5 (very satisfied).
    pub rating: Option<u8>,
}

impl ReportTicket {
    /// The ticket with the measures of `record`, as [`super::stats`] defines them.
    pub fn new(
        service: ServiceCode,
        window: Option<WindowNo>,
        staff: Option<i64>,
        hour: u8,
        record: &TicketRecord,
        estimate_secs: u64,
        rating: Option<u8>,
    ) -> ReportTicket {
        let wait_ms = record
            .counted_call_at
            .filter(|_| record.status != TicketStatus::Cancelled)
            .map(|c| (c - record.issued_at).num_milliseconds());
        let service_ms = match (record.status, record.serving_at, record.done_at) {
            (TicketStatus::Done, Some(s), Some(d)) => Some((d - s).num_milliseconds()),
            _ => None,
        };
        ReportTicket {
            service,
            window,
            staff,
            hour,
            status: record.status,
            wait_ms: wait_ms.map(|w| w.max(0)),
            service_ms: service_ms.map(|s| s.max(0)),
            target_wait_secs: record.target_wait_secs,
            estimate_secs,
            rating,
        }
    }
}

/// How close the printed estimates came to the waits.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Accuracy {
    /// Tickets with a known wait (called at least once).
    pub measured: u64,
    pub mean_abs_error_secs: Option<f64>,
    pub bias_secs: Option<f64>,
    pub within_range_share: Option<f64>,
}

/// One line of a report table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line<K> {
    pub key: K,
    #[serde(flatten)]
    pub figures: StatsFigures,
    pub estimate: Accuracy,
    /// Ratings given, index 0 = 1 (very dissatisfied) … index 4 = 5 (very satisfied).
    pub satisfaction: [u64; 5],
}

/// Every table of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tables {
    pub overall: Line<&'static str>,
    pub by_service: Vec<Line<ServiceCode>>,
    pub by_window: Vec<Line<WindowNo>>,
    pub by_staff: Vec<Line<i64>>,
    pub by_hour: Vec<Line<u8>>,
}

/// What one ticket contributes, worked out once for all its groups.
struct Measured {
    wait_ms: Option<i64>,
    service_ms: Option<i64>,
    /// Called within the range its ticket showed.
    shown: bool,
}

impl Measured {
    fn of(t: &ReportTicket) -> Measured {
        let shown = t
            .wait_ms
            .is_some_and(|w| WaitRange::from_secs(t.estimate_secs).contains(w as f64 / 1000.0));
        Measured {
            wait_ms: t.wait_ms,
            service_ms: t.service_ms,
            shown,
        }
    }
}

/// Running sums of one group. Sums are whole milliseconds, so a table does not depend on the
/// order the tickets came in (floating-point sums would, in their last digits).
#[derive(Debug, Default)]
struct Acc {
    f: StatsFigures,
    /// Waits in milliseconds (the percentiles select on integers, then turn them to seconds).
    waits: Vec<i64>,
    wait_ms: i64,
    within_target: u64,
    service_ms: i64,
    service_n: u64,
    abs_err_ms: i64,
    err_ms: i64,
    within_range: u64,
    satisfaction: [u64; 5],
}

impl Acc {
    fn with_capacity(n: usize) -> Acc {
        Acc {
            waits: Vec::with_capacity(n),
            ..Acc::default()
        }
    }

    fn add(&mut self, t: &ReportTicket, m: &Measured) {
        self.f.issued += 1;
        match t.status {
            TicketStatus::Done => self.f.served += 1,
            TicketStatus::NoShow => self.f.no_show += 1,
            TicketStatus::Cancelled => self.f.cancelled += 1,
            _ => {}
        }
        if let Some(w) = m.wait_ms {
            self.waits.push(w);
            self.wait_ms += w;
            if w <= i64::from(t.target_wait_secs) * 1000 {
                self.within_target += 1;
            }
            let e = w - i64::try_from(t.estimate_secs).unwrap_or(i64::MAX / 4) * 1000;
            self.abs_err_ms += e.abs();
            self.err_ms += e;
            if m.shown {
                self.within_range += 1;
            }
        }
        if let Some(s) = m.service_ms {
            self.service_ms += s;
            self.service_n += 1;
        }
        if let Some(r @ 1..=5) = t.rating {
            self.satisfaction[usize::from(r) - 1] += 1;
        }
    }

    fn finish<K>(mut self, key: K) -> Line<K> {
        let n = self.waits.len();
        self.f.called = n as u64;
        let mut estimate = Accuracy {
            measured: n as u64,
            ..Accuracy::default()
        };
        if n > 0 {
            let nf = n as f64;
            self.f.mean_wait_secs = Some(self.wait_ms as f64 / 1000.0 / nf);
            self.f.median_wait_secs = Some(nearest_rank(&mut self.waits, 0.5));
            self.f.p90_wait_secs = Some(nearest_rank(&mut self.waits, 0.9));
            self.f.service_level = Some(self.within_target as f64 / nf);
            estimate.mean_abs_error_secs = Some(self.abs_err_ms as f64 / 1000.0 / nf);
            estimate.bias_secs = Some(self.err_ms as f64 / 1000.0 / nf);
            estimate.within_range_share = Some(self.within_range as f64 / nf);
        }
        if self.service_n > 0 {
            self.f.mean_service_secs =
                Some(self.service_ms as f64 / 1000.0 / self.service_n as f64);
        }
        Line {
            key,
            figures: self.f,
            estimate,
            satisfaction: self.satisfaction,
        }
    }
}

/// The nearest-rank percentile of `values` (milliseconds) in seconds, as
/// [`super::stats::percentile`] defines it, by selection rather than a full sort: a year's
/// report has ~700,000 waits per table. `values` is reordered; it must not be empty.
fn nearest_rank(values: &mut [i64], p: f64) -> f64 {
    let rank = (p * values.len() as f64).ceil().max(1.0) as usize;
    let (_, v, _) = values.select_nth_unstable(rank.min(values.len()) - 1);
    *v as f64 / 1000.0
}

/// The report tables over `tickets`. Every service in `services` and every hour 0–23 gets a
/// line even when empty, so tables and charts keep their shape; windows and staff members
/// appear when they served someone.
///
/// The tables are independent, so above [`PARALLEL_FROM`] tickets they are filled by two
/// threads, each reading every ticket: overall, by service and by hour on one; by window and by
/// staff on the other (about equal work, and nothing to merge).
pub fn tables(services: &[ServiceCode], tickets: &[ReportTicket]) -> Tables {
    tables_on(services, tickets, tickets.len() >= PARALLEL_FROM)
}

fn tables_on(services: &[ServiceCode], tickets: &[ReportTicket], two_threads: bool) -> Tables {
    let first = || {
        let mut overall = Acc::with_capacity(tickets.len());
        let mut by_service: Vec<(ServiceCode, Acc)> =
            services.iter().map(|s| (*s, Acc::default())).collect();
        let mut by_hour: Vec<Acc> = (0..24).map(|_| Acc::default()).collect();
        for t in tickets {
            let m = Measured::of(t);
            overall.add(t, &m);
            entry(&mut by_service, t.service).add(t, &m);
            by_hour[usize::from(t.hour.min(23))].add(t, &m);
        }
        by_service.sort_by_key(|(k, _)| *k);
        let by_service: Vec<_> = by_service.into_iter().map(|(k, a)| a.finish(k)).collect();
        let by_hour: Vec<_> = by_hour
            .into_iter()
            .enumerate()
            .map(|(h, a)| a.finish(h as u8))
            .collect();
        (overall.finish("all"), by_service, by_hour)
    };
    let second = || {
        let mut by_window: Vec<(WindowNo, Acc)> = Vec::new();
        let mut by_staff: BTreeMap<i64, Acc> = BTreeMap::new();
        for t in tickets {
            if t.window.is_none() && t.staff.is_none() {
                continue;
            }
            let m = Measured::of(t);
            if let Some(w) = t.window {
                entry(&mut by_window, w).add(t, &m);
            }
            if let Some(s) = t.staff {
                by_staff.entry(s).or_default().add(t, &m);
            }
        }
        by_window.sort_by_key(|(k, _)| *k);
        let by_window: Vec<_> = by_window.into_iter().map(|(k, a)| a.finish(k)).collect();
        let by_staff: Vec<_> = by_staff.into_iter().map(|(k, a)| a.finish(k)).collect();
        (by_window, by_staff)
    };
    let ((overall, by_service, by_hour), (by_window, by_staff)) = if two_threads {
        std::thread::scope(|scope| {
            let other = scope.spawn(second);
            let mine = first();
            (
                mine,
                other
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            )
        })
    } else {
        (first(), second())
    };
    Tables {
        overall,
        by_service,
        by_window,
        by_staff,
        by_hour,
    }
}

/// From this many tickets on, [`tables`] uses a second thread.
pub const PARALLEL_FROM: usize = 50_000;

/// The group of `key` in a short list of groups (services, windows: a handful each, where a
/// linear search beats a tree), added when new.
fn entry<K: PartialEq + Copy>(groups: &mut Vec<(K, Acc)>, key: K) -> &mut Acc {
    let i = match groups.iter().position(|(k, _)| *k == key) {
        Some(i) => i,
        None => {
            groups.push((key, Acc::default()));
            groups.len() - 1
        }
    };
    &mut groups[i].1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::stats::figures;
    use chrono::{DateTime, Duration, TimeZone, Utc};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
    }

    #[allow(clippy::too_many_arguments)]
    fn ticket(
        service: char,
        window: Option<u32>,
        staff: Option<i64>,
        hour: u8,
        wait_min: Option<i64>,
        service_min: Option<i64>,
        estimate_min: u64,
        rating: Option<u8>,
    ) -> (ReportTicket, TicketRecord) {
        let issued = t0() + Duration::hours(i64::from(hour));
        let called = wait_min.map(|w| issued + Duration::minutes(w));
        let serving = called.filter(|_| service_min.is_some());
        let done = serving
            .zip(service_min)
            .map(|(s, m)| s + Duration::minutes(m));
        let status = match (called, done) {
            (None, _) => TicketStatus::Waiting,
            (Some(_), Some(_)) => TicketStatus::Done,
            (Some(_), None) => TicketStatus::NoShow,
        };
        let record = TicketRecord {
            status,
            issued_at: issued,
            counted_call_at: called,
            serving_at: serving,
            done_at: done.or(called.filter(|_| status == TicketStatus::NoShow)),
            target_wait_secs: 900,
        };
        (
            ReportTicket::new(
                service.to_string().parse().unwrap(),
                window.map(|w| WindowNo::new(w).unwrap()),
                staff,
                hour,
                &record,
                estimate_min * 60,
                rating,
            ),
            record,
        )
    }

    #[test]
    fn two_threads_give_the_same_tables_as_one() {
        let a: ServiceCode = "A".parse().unwrap();
        let tickets: Vec<ReportTicket> = (0..5_000u32)
            .map(|i| ReportTicket {
                service: if i % 3 == 0 { "B".parse().unwrap() } else { a },
                window: WindowNo::new(i % 4 + 1).ok().filter(|_| i % 7 != 0),
                staff: (i % 5 != 0).then_some(i64::from(i % 6)),
                hour: (i % 24) as u8,
                status: if i % 7 == 0 {
                    TicketStatus::Cancelled
                } else {
                    TicketStatus::Done
                },
                wait_ms: (i % 7 != 0).then_some(i64::from(i * 7919 % 3_600_000)),
                service_ms: (i % 7 != 0).then_some(i64::from(i * 31 % 900_000)),
                target_wait_secs: 900,
                estimate_secs: u64::from(i % 40) * 60,
                rating: (i % 9 == 0).then_some((i % 5 + 1) as u8),
            })
            .collect();
        let one = tables_on(&[a], &tickets, false);
        assert_eq!(tables_on(&[a], &tickets, true), one);
        assert_eq!(one.by_service.len(), 2);
        assert_eq!(one.by_window.len(), 4);
        assert!(one.by_window.windows(2).all(|p| p[0].key < p[1].key));
    }

    #[test]
    fn selection_agrees_with_the_sorted_percentile() {
        for n in 1..60 {
            // Milliseconds in, seconds out, as the stats' percentile of the waits in seconds.
            let mut v: Vec<i64> = (0..n).map(|i| i64::from((i * 37) % 53) * 1001).collect();
            let mut sorted: Vec<f64> = v.iter().map(|&ms| ms as f64 / 1000.0).collect();
            sorted.sort_by(f64::total_cmp);
            for p in [0.5, 0.9, 0.99, 1.0] {
                assert_eq!(
                    Some(nearest_rank(&mut v, p)),
                    crate::queue::stats::percentile(&sorted, p),
                    "n={n} p={p}"
                );
            }
        }
    }

    #[test]
    fn groups_figures_accuracy_and_ratings() {
        let code = |c: &str| c.parse::<ServiceCode>().unwrap();
        let (a, b) = (code("A"), code("B"));
        let (tickets, records): (Vec<ReportTicket>, Vec<TicketRecord>) = [
            // waited 10 min, told 12 (range 10–15: within), served 5 min at window 1 by staff 7
            ticket('A', Some(1), Some(7), 9, Some(10), Some(5), 12, Some(5)),
            // waited 20 min (over the 15 min target), told 5 (range 5–10: outside)
            ticket('A', Some(2), Some(8), 9, Some(20), Some(3), 5, Some(2)),
            // no-show at window 1 after 4 min, told 2 (under 5 min: within)
            ticket('B', Some(1), Some(7), 14, Some(4), None, 2, None),
            // still waiting: counts as issued, nothing else
            ticket('B', None, None, 14, None, None, 3, None),
        ]
        .into_iter()
        .unzip();
        let t = tables(&[a, b, code("C")], &tickets);

        assert_eq!(t.overall.figures.issued, 4);
        assert_eq!(t.overall.figures.called, 3);
        assert_eq!(t.overall.figures.served, 2);
        assert_eq!(t.overall.figures.no_show, 1);
        assert_eq!(t.overall.figures.median_wait_secs, Some(600.0));
        assert_eq!(t.overall.figures.service_level, Some(2.0 / 3.0));
        assert_eq!(t.overall.figures.mean_service_secs, Some(240.0));
        // errors: 10−12 = −2, 20−5 = 15, 4−2 = 2 minutes
        assert_eq!(
            t.overall.estimate.mean_abs_error_secs,
            Some(19.0 * 60.0 / 3.0)
        );
        assert_eq!(t.overall.estimate.bias_secs, Some(15.0 * 60.0 / 3.0));
        assert_eq!(t.overall.estimate.within_range_share, Some(2.0 / 3.0));
        assert_eq!(t.overall.satisfaction, [0, 1, 0, 0, 1]);

        // The overall line agrees with the plain statistics of the same tickets.
        let plain = figures(&records);
        assert_eq!(t.overall.figures, plain);

        assert_eq!(
            t.by_service.len(),
            3,
            "every service has a line, even C with none"
        );
        assert_eq!(t.by_service[2].figures.issued, 0);
        assert_eq!(t.by_service[0].figures.p90_wait_secs, Some(1200.0));
        let w1 = &t.by_window[0];
        assert_eq!(
            (w1.key.get(), w1.figures.issued, w1.figures.served),
            (1, 2, 1)
        );
        assert_eq!(t.by_staff.iter().map(|l| l.key).collect::<Vec<_>>(), [7, 8]);
        assert_eq!(t.by_hour.len(), 24);
        assert_eq!(t.by_hour[9].figures.issued, 2);
        assert_eq!(t.by_hour[14].figures.issued, 2);
        assert_eq!(t.by_hour[10].figures.issued, 0);
    }
}

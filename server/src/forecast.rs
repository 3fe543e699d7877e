//! The estimates printed on tickets, from forward simulation of the hall as it is.
//!
//! Issuing a ticket must stay cheap (thousands per second through one writer thread), and a
//! forward simulation of 200 waiting tickets costs milliseconds, so the forecast is never run
//! inside the issuing transaction. Instead a background task keeps, per branch, a
//! [`ForecastTable`]: for every service, the expected wait of the ticket with `k` people of its
//! service ahead, for `k` = 0 … (line length), from [`crate::sim::forecast_line_secs`] — the
//! current lines, the windows' services in progress, the customers expected in the coming hours
//! at the last hour's rate, the breaks and closing of today, the policy in use, a few runs
//! averaged. The last entry is a ticket that would be issued now (added at the end of its
//! line). The table is recomputed off the writer thread (`spawn_blocking`) after the branch's
//! state changes, once the branch has been quiet for [`QUIET`] (at most [`MAX_DEFER`] after the
//! change: a busy hall still gets a fresh table), at most every [`MIN_INTERVAL`], and at least
//! every [`REFRESH`] while anyone waits. Waiting for the quiet moment computes one table per
//! burst of changes (a complete and the call after it) instead of one mid-burst that the next
//! change makes stale at once, and keeps the simulation off the CPU while the burst's events
//! go out to the boards. Above [`MAX_WAITING`] waiting tickets no table is computed (and the waiting tickets
//! are not even read: the branch's waiting counts say so).
//!
//! The issue and the ticket read look the table up ([`ForecastTable::wait_secs`]): position →
//! seconds, extrapolated beyond its end by the line's pace (mean service time over the open
//! windows serving it) for tickets issued since. A table older than [`MAX_AGE`], or one without
//! the service (no open window serves it), gives `None` and the formula of
//! [`crate::queue::estimate`] answers instead.
//!
//! For a service with a priority line the table has a second list, with a priority ticket
//! issued now at its place (after the priority customers already waiting). Not modelled (the
//! formula does not model it either): tickets sent to one window by a transfer wait in their
//! service's line.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::queue::policy::{Candidate, Policy};
use crate::sim::{ForecastInput, ForecastService, ForecastWindow, forecast_line_secs};
use crate::store::Store;

pub use crate::hall::estimate::Forecasts;
pub use crate::queue::estimate::{ForecastTable, LineForecast, MAX_AGE};
pub use crate::store::read::{Serving, Snapshot};

/// A table is recomputed at most this often…
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// …and at least this often while anyone waits (the hall moves on even when nothing is written).
pub const REFRESH: Duration = Duration::from_secs(10);
/// A change is taken into a table once no other has followed it for this long…
pub const QUIET: Duration = Duration::from_millis(400);
/// …or once it has waited this long (changes keep coming).
pub const MAX_DEFER: Duration = Duration::from_secs(3);
/// Runs averaged per service.
pub const RUNS: u32 = crate::sim::DEFAULT_RUNS;
/// Above this many waiting tickets in a branch no table is computed (its cost grows with the
/// line, and the formula is as good as any forecast for a line that long).
pub const MAX_WAITING: usize = 1000;
/// Key of the ticket that stands for one issued now (never a real key: those are positive).
const NEW_TICKET: i64 = -1;

/// Computes a branch's table from a snapshot (blocking: run it off the async threads).
pub fn compute(snap: &Snapshot, policy: Policy, now: DateTime<Utc>) -> ForecastTable {
    let started = Instant::now();
    let cfg = &snap.config;
    let services: Vec<ForecastService> = cfg
        .services
        .iter()
        .map(|s| {
            let (mean, per_hour) = snap
                .recent
                .iter()
                .find(|r| r.0 == s.code)
                .map_or((None, 0), |r| (r.1, r.2));
            ForecastService {
                code: s.code,
                target_wait_secs: s.target_wait_secs,
                mean_service_secs: mean.unwrap_or(f64::from(s.default_service_secs)),
                service_cv: None,
                arrivals_per_hour: f64::from(per_hour),
                priority_share: 0.0,
            }
        })
        .collect();
    let windows: Vec<ForecastWindow> = snap
        .open_windows
        .iter()
        .filter_map(|(n, serving)| {
            let def = cfg.window(*n)?;
            Some(ForecastWindow {
                skills: def.skills.clone(),
                serving: *serving,
            })
        })
        .collect();
    // Breaks and closing: the gaps between today's open periods after now, and the end of the
    // last one (no arrivals after it).
    let pauses = cfg.schedule.breaks_ahead(now);
    let arrivals_until = cfg.schedule.open_intervals(now).last().map(|i| i.1);

    let mut lines = Vec::new();
    let too_long = snap.waiting.len() > MAX_WAITING;
    for (i, s) in cfg.services.iter().enumerate().filter(|_| !too_long) {
        let line = |priority: bool| {
            let mut waiting = snap.waiting.clone();
            waiting.push(Candidate {
                key: NEW_TICKET,
                service: s.code,
                priority,
                queue_at: now,
                target_wait_secs: s.target_wait_secs,
                appointment: false,
            });
            forecast_line_secs(&ForecastInput {
                policy,
                now,
                services: services.clone(),
                windows: windows.clone(),
                waiting,
                ticket: NEW_TICKET,
                pauses: pauses.clone(),
                arrivals_until,
                bookings: snap.bookings.clone(),
                booking_show: snap.booking_show,
                runs: RUNS,
                seed: snap.seq,
            })
        };
        let Some(waits_secs) = line(false) else {
            continue;
        };
        let priority_waits_secs = if s.priority_allowed { line(true) } else { None };
        let serving = windows
            .iter()
            .filter(|w| w.skills.serves.iter().any(|(c, _)| *c == s.code))
            .count()
            .max(1);
        lines.push(LineForecast {
            service: s.code,
            waits_secs,
            priority_waits_secs,
            per_extra_secs: services[i].mean_service_secs / serving as f64,
        });
    }
    ForecastTable {
        computed_at: now,
        seq: snap.seq,
        policy: policy.name(),
        runs: RUNS,
        lines,
        compute_ms: started.elapsed().as_secs_f64() * 1000.0,
    }
}

/// Keeps every branch's table fresh; runs until the server stops.
pub async fn keep_fresh(store: Store) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut branches: Vec<i64> = Vec::new();
    let mut listed = Instant::now() - Duration::from_secs(3600);
    let mut state: HashMap<i64, Branch> = HashMap::new();
    loop {
        tick.tick().await;
        if listed.elapsed() > Duration::from_secs(15) {
            branches = store.branch_ids().await.unwrap_or_default();
            listed = Instant::now();
        }
        for &branch in &branches {
            let seq = store.hub.latest_seq(branch);
            let table_seq = store.forecasts.get(branch).map(|t| t.seq);
            let now = Instant::now();
            let b = state.entry(branch).or_default();
            b.observe(seq, now);
            if !b.due(table_seq, now) {
                continue;
            }
            let anyone = match refresh(&store, branch, seq, Utc::now()).await {
                Refreshed::Shared { anyone } | Refreshed::Computed { anyone } => anyone,
                Refreshed::TooLong => true,
                Refreshed::Failed => false,
            };
            b.computed = Some((Instant::now(), anyone));
        }
    }
}

/// How often [`keep_fresh`] looks at the branches.
const TICK: Duration = Duration::from_millis(100);

/// What [`keep_fresh`] knows of one branch.
#[derive(Debug, Default)]
struct Branch {
    /// When its table was last brought up to date, and whether anyone was waiting then.
    computed: Option<(Instant, bool)>,
    /// The latest event seen, when it was first seen, and when the oldest change not yet in a
    /// table was (the start of the burst).
    seen: Option<(Option<u64>, Instant)>,
    burst_since: Option<Instant>,
}

impl Branch {
    /// Notes the branch's latest event at `now`.
    fn observe(&mut self, seq: Option<u64>, now: Instant) {
        if self.seen.is_none_or(|(s, _)| s != seq) {
            self.seen = Some((seq, now));
            self.burst_since.get_or_insert(now);
        }
    }

    /// Whether the table (made at event `table_seq`, if there is one) is to be brought up to
    /// date now.
    fn due(&mut self, table_seq: Option<u64>, now: Instant) -> bool {
        let (seq, seen_at) = self.seen.unwrap_or((None, now));
        let due = match (self.computed, table_seq) {
            (Some((at, waiting)), Some(table_seq)) => {
                let since = now.saturating_duration_since(at);
                let changed = seq.is_some_and(|s| s != table_seq);
                let settled = now.saturating_duration_since(seen_at) >= QUIET
                    || self
                        .burst_since
                        .is_some_and(|b| now.saturating_duration_since(b) >= MAX_DEFER);
                if !changed {
                    self.burst_since = None;
                }
                since >= MIN_INTERVAL && ((changed && settled) || (waiting && since >= REFRESH))
            }
            // Never computed here, or no table (another server's, or none yet): at once.
            _ => true,
        };
        if due {
            self.burst_since = None;
        }
        due
    }
}

/// What [`refresh`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refreshed {
    /// Took the table another server computed in the last [`MIN_INTERVAL`] (PostgreSQL).
    Shared { anyone: bool },
    /// Computed it from a snapshot of the hall (and shared it).
    Computed { anyone: bool },
    /// More than [`MAX_WAITING`] wait: an empty table says so.
    TooLong,
    /// Reading the hall or computing failed (logged).
    Failed,
}

/// Brings `branch`'s table up to date at `now` (`seq`: the branch's latest published event).
/// On PostgreSQL the servers share their tables ([`Store::shared_forecast`]): one computed by
/// any server in the last [`MIN_INTERVAL`] is as fresh as this server would make it, so three
/// servers of a city do the work of one.
pub async fn refresh(
    store: &Store,
    branch: i64,
    seq: Option<u64>,
    now: DateTime<Utc>,
) -> Refreshed {
    let since = now - chrono::Duration::from_std(MIN_INTERVAL).unwrap_or_default();
    match store.shared_forecast(branch, since).await {
        Ok(Some(table)) => {
            // Entry k of a line is the wait with k ahead, the last a ticket issued now.
            let anyone = table.lines.iter().any(|l| l.waits_secs.len() > 1);
            store.forecasts.set(branch, Arc::new(table));
            return Refreshed::Shared { anyone };
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, branch, "reading the shared forecast failed"),
    }
    // A line too long for a table: say so without reading every waiting ticket (at
    // thousands waiting that read alone took a core for tens of milliseconds a second).
    if let Ok(n) = store.waiting_total(branch).await
        && n > MAX_WAITING
    {
        store.forecasts.set(
            branch,
            Arc::new(ForecastTable {
                computed_at: now,
                seq: seq.unwrap_or(0),
                policy: store.policy.name(),
                runs: RUNS,
                lines: Vec::new(),
                compute_ms: 0.0,
            }),
        );
        return Refreshed::TooLong;
    }
    let snap = match store.forecast_snapshot(branch, now).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, branch, "reading the hall for the forecast failed");
            return Refreshed::Failed;
        }
    };
    let anyone = !snap.waiting.is_empty();
    let policy = store.policy;
    match tokio::task::spawn_blocking(move || compute(&snap, policy, now)).await {
        Ok(table) => {
            if let Err(e) = store.share_forecast(branch, &table).await {
                tracing::warn!(error = %e, branch, "sharing the forecast failed");
            }
            store.forecasts.set(branch, Arc::new(table));
            Refreshed::Computed { anyone }
        }
        Err(e) => {
            tracing::warn!(error = %e, branch, "the forecast failed");
            Refreshed::Failed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::ServiceDef;
    use crate::queue::policy::WindowSkills;
    use crate::queue::schedule::{Schedule, Weekly};
    use crate::store::{BranchConfig, WindowDef};
    use chrono::TimeZone;
    use qhall_shared::ServiceCode;
    use qhall_shared::WindowNo;
    use qhall_shared::api::Localized;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()
    }

    fn code(s: &str) -> ServiceCode {
        s.parse().unwrap()
    }

    fn table() -> ForecastTable {
        ForecastTable {
            computed_at: t0(),
            seq: 1,
            policy: "balanced",
            runs: RUNS,
            lines: vec![LineForecast {
                service: code("A"),
                waits_secs: vec![0.0, 180.4, 400.0],
                priority_waits_secs: Some(vec![0.0, 90.0, 180.4, 400.0]),
                per_extra_secs: 100.0,
            }],
            compute_ms: 0.0,
        }
    }

    #[test]
    fn a_place_in_the_table_gives_its_wait_and_beyond_it_the_pace() {
        let t = table();
        assert_eq!(t.wait_secs(code("A"), false, 1, t0()), Some(180));
        assert_eq!(t.wait_secs(code("A"), false, 2, t0()), Some(400));
        assert_eq!(t.wait_secs(code("A"), false, 5, t0()), Some(700));
        assert_eq!(t.wait_secs(code("A"), true, 1, t0()), Some(90));
        assert_eq!(t.wait_secs(code("A"), true, 5, t0()), Some(600));
        assert_eq!(t.wait_secs(code("B"), false, 0, t0()), None);
    }

    #[test]
    fn an_old_table_is_not_used() {
        let t = table();
        assert!(t.wait_secs(code("A"), false, 1, t0() + MAX_AGE).is_some());
        let later = t0() + MAX_AGE + chrono::TimeDelta::seconds(1);
        assert_eq!(t.wait_secs(code("A"), false, 1, later), None);
    }

    fn snapshot(waiting: usize) -> Snapshot {
        let service = |c: &str, target: u32, mean: u32| ServiceDef {
            code: code(c),
            name: Localized::default(),
            guide: Localized::default(),
            target_wait_secs: target,
            first_number: 1,
            last_number: 999,
            priority_allowed: true,
            default_service_secs: mean,
            carry_over: false,
            remote_tickets: false,
            appointments: false,
            identity_check: Default::default(),
            enabled: true,
        };
        let window = |n: u32, serves: &[&str]| WindowDef {
            number: WindowNo::new(n).unwrap(),
            name: n.to_string(),
            skills: WindowSkills {
                serves: serves.iter().map(|s| (code(s), 1.0)).collect(),
            },
        };
        let config = BranchConfig {
            id: 1,
            version: 1,
            name: Localized::default(),
            schedule: Schedule {
                tz: chrono_tz::UTC,
                weekly: Weekly::around_the_clock(),
                exceptions: Vec::new(),
                cutoff_mins: 0,
            },
            services: vec![
                service("A", 900, 360),
                service("B", 600, 240),
                service("D", 600, 300),
            ],
            windows: vec![window(1, &["A", "B"]), window(2, &["B"]), window(3, &["D"])],
            emergency: None,
            closing_grace_mins: 30,
            public: Default::default(),
            messages: Default::default(),
        };
        Snapshot {
            config: Arc::new(config),
            seq: 7,
            waiting: (0..waiting)
                .map(|i| Candidate {
                    key: i as i64 + 1,
                    service: code(if i % 2 == 0 { "A" } else { "B" }),
                    priority: false,
                    queue_at: t0() - chrono::TimeDelta::seconds(60 * (waiting - i) as i64),
                    target_wait_secs: 900,
                    appointment: false,
                })
                .collect(),
            // Window 3 (the only one serving D) is not open.
            open_windows: vec![
                (WindowNo::new(1).unwrap(), Some((code("A"), t0()))),
                (WindowNo::new(2).unwrap(), None),
            ],
            recent: vec![(code("A"), Some(300.0), 10), (code("B"), None, 6)],
            bookings: vec![],
            booking_show: 0.95,
        }
    }

    /// A branch whose table was computed at `t0` (event 1) with someone waiting.
    fn computed_at(t0: Instant) -> Branch {
        let mut b = Branch::default();
        b.observe(Some(1), t0);
        assert!(b.due(None, t0), "no table yet: at once");
        b.computed = Some((t0, true));
        b
    }

    #[test]
    fn a_change_waits_for_the_branch_to_be_quiet() {
        let t0 = Instant::now();
        let mut b = computed_at(t0);
        let ms = |n: u64| t0 + Duration::from_millis(n);
        // A complete at 1.5 s and a call 300 ms later: nothing until 400 ms after the call.
        b.observe(Some(2), ms(1500));
        assert!(!b.due(Some(1), ms(1700)));
        b.observe(Some(3), ms(1800));
        assert!(!b.due(Some(1), ms(2100)));
        assert!(!b.due(Some(1), ms(2199)));
        assert!(b.due(Some(1), ms(2200)));
    }

    #[test]
    fn a_change_is_taken_at_most_every_min_interval() {
        let t0 = Instant::now();
        let mut b = computed_at(t0);
        b.observe(Some(2), t0 + Duration::from_millis(10));
        assert!(
            !b.due(Some(1), t0 + Duration::from_millis(900)),
            "quiet, but too soon"
        );
        assert!(b.due(Some(1), t0 + MIN_INTERVAL));
    }

    #[test]
    fn changes_that_keep_coming_are_taken_after_max_defer() {
        let t0 = Instant::now();
        let mut b = computed_at(t0);
        let start = t0 + Duration::from_secs(2);
        let mut at = start;
        let mut seq = 2;
        // An event every 200 ms: never quiet.
        while at < start + MAX_DEFER {
            b.observe(Some(seq), at);
            assert!(!b.due(Some(1), at), "at {:?}", at - start);
            seq += 1;
            at += Duration::from_millis(200);
        }
        b.observe(Some(seq), at);
        assert!(b.due(Some(1), at));
        b.computed = Some((at, true));
        // The next burst starts its own clock.
        b.observe(Some(seq + 1), at + MIN_INTERVAL);
        assert!(!b.due(Some(seq), at + MIN_INTERVAL + Duration::from_millis(100)));
    }

    #[test]
    fn without_changes_a_waiting_hall_is_refreshed_every_refresh() {
        let t0 = Instant::now();
        let mut b = computed_at(t0);
        assert!(!b.due(Some(1), t0 + REFRESH - Duration::from_millis(1)));
        assert!(b.due(Some(1), t0 + REFRESH));
        b.computed = Some((t0, false));
        assert!(
            !b.due(Some(1), t0 + REFRESH * 3),
            "nobody waits: nothing moves"
        );
    }

    #[test]
    fn the_table_covers_every_served_line_plus_a_new_ticket() {
        let t = compute(&snapshot(6), Policy::Default, t0());
        let services: Vec<&str> = t.lines.iter().map(|l| l.service.as_str()).collect();
        assert_eq!(services, ["A", "B"], "D has no open window");
        for l in &t.lines {
            assert_eq!(l.waits_secs.len(), 4, "3 waiting + the new ticket");
            assert!(l.waits_secs.windows(2).all(|p| p[0] <= p[1]), "{l:?}");
            // A new priority ticket goes first: the head of its list, no longer than the head of
            // the normal list (its slot comes before the first normal ticket).
            let p = l.priority_waits_secs.as_ref().unwrap();
            assert_eq!(p.len(), 4);
            assert!(p[0] <= l.waits_secs[0] + 1e-9, "{l:?}");
            assert!(p[0] < l.waits_secs[3], "{l:?}");
        }
        // A: recent mean 300 s over the one open window serving it.
        assert_eq!(t.lines[0].per_extra_secs, 300.0);
        let again = compute(&snapshot(6), Policy::Default, t0());
        assert_eq!(t.lines, again.lines, "deterministic");
    }

    #[test]
    fn no_table_for_a_very_long_line() {
        let t = compute(&snapshot(MAX_WAITING + 1), Policy::Default, t0());
        assert!(t.lines.is_empty());
    }

    #[test]
    fn bookings_due_soon_lengthen_a_new_walk_ins_wait() {
        let plain = compute(&snapshot(6), Policy::Default, t0());
        let mut snap = snapshot(6);
        let minutes = |m: i64| t0() + chrono::TimeDelta::minutes(m);
        // Four A bookings at 10:05, check-in 09:35–10:15: due before the new walk-in is called.
        snap.bookings = (0..4)
            .map(|_| crate::sim::ForecastBooking {
                service: code("A"),
                slot_start: minutes(5),
                checkin_opens: minutes(-25),
                checkin_closes: minutes(15),
            })
            .collect();
        let booked = compute(&snap, Policy::Default, t0());
        let new = |t: &ForecastTable| *t.lines[0].waits_secs.last().unwrap();
        // One window serves A at 300 s a ticket: four appointments ahead add about 4 × 300 s.
        let added = new(&booked) - new(&plain);
        assert!((800.0..1400.0).contains(&added), "added {added:.0} s");
        // Bookings whose customers do not come add nothing.
        snap.booking_show = 0.0;
        assert_eq!(compute(&snap, Policy::Default, t0()).lines, plain.lines);
    }
}

//! The wait a new ticket is told, by simulating forward from the hall as it is now.
//!
//! The formula in [`crate::queue::estimate`] treats the windows as one pool working through one
//! line. The real order of calls is the policy's: a B ticket at a window that prefers C, a
//! priority customer who arrives later and goes first, a long-target service that is
//! overtaken, a lunch break in between. [`forecast_wait_secs`] plays the hall forward with the
//! very policy in use — the current lines, the windows' services in progress (their remaining
//! time drawn given how long they have already taken), customers still to come at the expected
//! rates, breaks — until the new ticket is called, a few times with a fixed seed, and returns
//! the mean. The same function (through [`Forward`]) gives the estimates the simulator scores.
//!
//! It is pure and deterministic: the same input gives the same answer. Cost is a few
//! microseconds per ticket ahead per run; 200 waiting with [`DEFAULT_RUNS`] stays well under a
//! millisecond or two in release builds (the bench measures it).

use chrono::{DateTime, Utc};
use qhall_shared::ServiceCode;

use super::cancel::Cancel;
use super::hall::{Caller, HallState, Rules, Ticket, WindowState};
use super::random::{self, Dist, exponential};
use super::scenario::{MS_PER_HOUR, Segment, ServiceRt, WindowRt};
use crate::queue::policy::{Breaks, Candidate, Policy, WindowSkills};

/// Runs averaged per forecast: enough that the forecast's own noise adds only a few percent to
/// its error, few enough for the kiosk's budget.
pub const DEFAULT_RUNS: u32 = 12;

/// How early booked customers come on average, and the spread, as the server's forecast
/// assumes (the simulator's defaults `early_mean_min`, `punctuality_sd_min`).
const BOOKED_EARLY_MS: f64 = 5.0 * 60_000.0;
const BOOKED_SPREAD_MS: f64 = 5.0 * 60_000.0;

/// A run gives up after this long and counts the horizon as the wait.
const HORIZON_MS: i64 = 24 * 3_600_000;

/// Purpose tag of the forecast streams.
const FORECAST: u64 = 2;

/// A service as the forecast needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastService {
    pub code: ServiceCode,
    pub target_wait_secs: u32,
    /// Recent mean service time.
    pub mean_service_secs: f64,
    /// Coefficient of variation of service times: `None` (or 1) for exponential, another value
    /// for a lognormal with that spread.
    pub service_cv: Option<f64>,
    /// Customers expected per hour from now on (0 if unknown: only the present queue counts).
    pub arrivals_per_hour: f64,
    /// Share of those customers with the priority flag.
    pub priority_share: f64,
}

/// An open window as the forecast needs it (leave out paused and closed windows).
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastWindow {
    pub skills: WindowSkills,
    /// The ticket being served, if any: its service and when its service started.
    pub serving: Option<(ServiceCode, DateTime<Utc>)>,
}

/// A booking still to check in, as the forecast needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastBooking {
    pub service: ServiceCode,
    pub slot_start: DateTime<Utc>,
    pub checkin_opens: DateTime<Utc>,
    pub checkin_closes: DateTime<Utc>,
}

/// The hall now, and the ticket to forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastInput {
    pub policy: Policy,
    pub now: DateTime<Utc>,
    pub services: Vec<ForecastService>,
    pub windows: Vec<ForecastWindow>,
    /// Every waiting ticket, the new one included, in any order (the store's `Candidate` rows).
    /// Each service's target is taken from `services`.
    pub waiting: Vec<Candidate>,
    /// The key of the ticket to forecast.
    pub ticket: i64,
    /// Periods with no calls and no arrivals (breaks), in any order.
    pub pauses: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// No arrivals after this instant (closing, or the last-ticket cut-off); calls go on.
    pub arrivals_until: Option<DateTime<Utc>>,
    /// Bookings not yet checked in whose check-in is still open.
    pub bookings: Vec<ForecastBooking>,
    /// The share of bookings that check in (1 − the recent no-show rate).
    pub booking_show: f64,
    /// Runs to average ([`DEFAULT_RUNS`]).
    pub runs: u32,
    /// Seed of the runs (e.g. the ticket key, or 0).
    pub seed: u64,
}

/// Expected seconds until `input.ticket` is called, or `None` when there is nothing to
/// forecast from (the ticket is not waiting, no window serves its service, or a service time is
/// not a positive number); then fall back to the formula.
pub fn forecast_wait_secs(input: &ForecastInput) -> Option<f64> {
    with_model(input, |forward, model, state, _| {
        let wait =
            forward.mean_wait_ms(model, state, 0, input.ticket, input.runs.max(1), input.seed)?;
        Some(wait / 1000.0)
    })
}

/// Expected seconds until each waiting ticket of `input.ticket`'s service is called, in the
/// order of its line (priority customers first, then by place): entry `k` is the wait of the
/// ticket with `k` people of its service ahead. `input.ticket` is usually a ticket added at
/// the end of its line (a ticket that would be issued now), so the last entry is the wait a new
/// ticket would be told. `None` as for [`forecast_wait_secs`].
pub fn forecast_line_secs(input: &ForecastInput) -> Option<Vec<f64>> {
    with_model(input, |forward, model, state, s| {
        let keys: Vec<i64> = state.lines[s][0]
            .iter()
            .chain(&state.lines[s][1])
            .chain(&state.lines[s][super::hall::APPOINTMENTS])
            .map(|t| t.key)
            .collect();
        let waits = forward.mean_waits_ms(model, state, 0, &keys, input.runs.max(1), input.seed)?;
        Some(waits.into_iter().map(|w| w / 1000.0).collect())
    })
}

/// Builds the forecast's model of the hall from `input` and hands it to `f` with the starting
/// state (time 0 is `input.now`) and the index of `input.ticket`'s service.
fn with_model<T>(
    input: &ForecastInput,
    f: impl FnOnce(&mut Forward, &ForwardModel<'_>, &HallState, usize) -> Option<T>,
) -> Option<T> {
    let ms = |t: DateTime<Utc>| (t - input.now).num_milliseconds();
    let mut services = Vec::with_capacity(input.services.len());
    for s in &input.services {
        if !(s.mean_service_secs.is_finite() && s.mean_service_secs > 0.0) {
            return None;
        }
        let mean = s.mean_service_secs * 1000.0;
        let dist = match s.service_cv {
            Some(cv) if cv.is_finite() && cv > 0.0 && (cv - 1.0).abs() > 1e-9 => {
                Dist::lognormal(mean, cv.min(10.0))
            }
            _ => Dist::Exponential { mean },
        };
        services.push(ServiceRt {
            code: s.code,
            target_wait_secs: s.target_wait_secs,
            dist,
            priority_share: s.priority_share.clamp(0.0, 1.0),
            numbers: (1, 999),
        });
    }
    let index = |code: ServiceCode| services.iter().position(|s| s.code == code);

    let windows: Vec<WindowRt> = input
        .windows
        .iter()
        .enumerate()
        .map(|(i, w)| WindowRt {
            number: i as u32 + 1,
            skills: w.skills.clone(),
            serves: w
                .skills
                .serves
                .iter()
                .filter_map(|(c, _)| index(*c))
                .collect(),
        })
        .collect();

    let mut state = HallState::new(services.len(), windows.len(), 0);
    for (w, win) in input.windows.iter().enumerate() {
        if let Some((code, since)) = win.serving
            && let Some(s) = index(code)
        {
            // The end is drawn in each run; any value marks the window busy.
            state.windows[w] = WindowState {
                busy_until: Some(0),
                idle_since: 0,
                serving: Some((s, ms(since).min(0))),
                appointment_run: 0,
            };
        }
    }
    let mut target = None;
    for c in &input.waiting {
        let Some(s) = index(c.service) else { continue };
        let t = Ticket {
            key: c.key,
            service: s,
            priority: c.priority,
            queue_at: ms(c.queue_at),
            appointment: c.appointment,
        };
        if c.key == input.ticket {
            target = Some(s);
        }
        state.enqueue(t);
    }
    let s = target?;
    if !windows.iter().any(|w| w.serves.contains(&s)) {
        return None;
    }

    let mut pauses: Vec<(i64, i64)> = input
        .pauses
        .iter()
        .map(|&(a, b)| (ms(a), ms(b)))
        .filter(|(a, b)| a < b && *b > 0)
        .collect();
    pauses.sort_unstable();
    // Arrivals from now until `arrivals_until`, except during pauses.
    let rates: Vec<f64> = input
        .services
        .iter()
        .map(|s| {
            if s.arrivals_per_hour.is_finite() {
                s.arrivals_per_hour.max(0.0) / MS_PER_HOUR
            } else {
                0.0
            }
        })
        .collect();
    let end = input
        .arrivals_until
        .map_or(HORIZON_MS, |t| ms(t).min(HORIZON_MS));
    let mut segments = Vec::new();
    if rates.iter().any(|r| *r > 0.0) {
        let mut from = 0;
        for &(a, b) in &pauses {
            if a > from && from < end {
                segments.push(Segment {
                    from,
                    to: a.min(end),
                    rates: rates.clone(),
                });
            }
            from = from.max(b);
        }
        if from < end {
            segments.push(Segment {
                from,
                to: end,
                rates,
            });
        }
    }

    let bookings: Vec<PendingBooking> = input
        .bookings
        .iter()
        .filter_map(|b| {
            Some(PendingBooking {
                service: index(b.service)?,
                slot: ms(b.slot_start),
                before: (b.slot_start - b.checkin_opens).num_milliseconds().max(0),
                after: (b.checkin_closes - b.slot_start).num_milliseconds().max(0),
            })
        })
        .collect();
    let habits = BookingHabits {
        show: input.booking_show.clamp(0.0, 1.0),
        early: BOOKED_EARLY_MS,
        spread: BOOKED_SPREAD_MS,
    };
    let breaks = Breaks::new(input.pauses.clone());
    let model = ForwardModel {
        bookings: &bookings,
        habits,
        policy: input.policy,
        services: &services,
        windows: &windows,
        segments: &segments,
        pauses: &pauses,
        breaks: &breaks,
    };
    f(&mut Forward::default(), &model, &state, s)
}

/// What the forecast runs on: the hall's configuration, and what is known about the future.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ForwardModel<'a> {
    pub(crate) policy: Policy,
    pub(crate) services: &'a [ServiceRt],
    pub(crate) windows: &'a [WindowRt],
    /// Expected arrivals (absolute times; the parts before `now` are skipped).
    pub(crate) segments: &'a [Segment],
    /// Periods without calls, sorted.
    pub(crate) pauses: &'a [(i64, i64)],
    /// The same periods as the policy sees them.
    pub(crate) breaks: &'a Breaks,
    /// Bookings not yet checked in whose check-in is still open.
    pub(crate) bookings: &'a [PendingBooking],
    /// How booked customers come ([`BookingHabits::NONE`] without bookings).
    pub(crate) habits: BookingHabits,
}

/// A booking not checked in yet: its service, its slot's start, and how long before and after
/// that start check-in is open (milliseconds; times absolute).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PendingBooking {
    pub(crate) service: usize,
    pub(crate) slot: i64,
    pub(crate) before: i64,
    pub(crate) after: i64,
}

/// How booked customers come, as the forecast assumes: a share `show` comes at all, at the
/// slot's start less `early` on average, normally spread with `spread` (milliseconds); check-in
/// takes them from when it opens, and one who comes after it closes takes a normal ticket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BookingHabits {
    pub(crate) show: f64,
    pub(crate) early: f64,
    pub(crate) spread: f64,
}

impl BookingHabits {
    pub(crate) const NONE: BookingHabits = BookingHabits {
        show: 0.0,
        early: 0.0,
        spread: 0.0,
    };

    /// When `b`'s customer checks in, if they do, in a run at `now`, drawn given that they have
    /// not come yet (so a booking whose customer should have been here is more likely a
    /// no-show, and one who comes will come later than most); `None` for a no-show or a customer
    /// too late for check-in.
    fn draw(&self, b: &PendingBooking, now: i64, rng: &mut random::SimRng) -> Option<i64> {
        if self.show <= 0.0 {
            return None; // nobody comes (and nothing is drawn)
        }
        let (u_show, u_when) = (random::uniform_open(rng), random::uniform_open(rng));
        let spread = self.spread.max(1.0);
        // Offsets from the slot (ms) up to `now − slot` would have been seen by now, except
        // those before check-in opens (they wait for it).
        let seen = (now - b.slot) as f64;
        let gone = if seen > -(b.before as f64) {
            random::normal_cdf((seen + self.early) / spread)
        } else {
            0.0
        };
        let later = 1.0 - gone;
        let either = self.show * later + (1.0 - self.show);
        if either <= 0.0 || u_show >= self.show * later / either {
            return None;
        }
        let offset = random::normal_quantile(gone + u_when * later) * spread - self.early;
        if !offset.is_finite() || offset > b.after as f64 {
            return None;
        }
        Some(
            (b.slot + offset.round() as i64)
                .max(b.slot - b.before)
                .max(now),
        )
    }
}

impl ForwardModel<'_> {
    fn pause_end(&self, t: i64) -> Option<i64> {
        self.pauses
            .iter()
            .find(|&&(a, b)| a <= t && t < b)
            .map(|p| p.1)
    }
}

/// The forecast's working memory, kept between forecasts so the simulator allocates nothing per
/// customer; and the simulation's [`Cancel`] flag, which ends a run within 1,024 events.
#[derive(Debug, Default)]
pub(crate) struct Forward {
    state: HallState,
    caller: Caller,
    idle: Vec<usize>,
    /// This run's booked customers who come: (check-in, service, slot), latest first.
    coming: Vec<(i64, usize, i64)>,
    cancel: Cancel,
}

/// Events of a forecast run between two looks at the cancel flag.
const CANCEL_EVERY: u32 = 1024;

impl Forward {
    /// Working memory for a simulation that `cancel` can stop.
    pub(crate) fn with_cancel(cancel: Cancel) -> Forward {
        Forward {
            cancel,
            ..Forward::default()
        }
    }

    /// Whether the simulation this belongs to has been stopped.
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Mean milliseconds from `now` until ticket `key` is called, over `runs` runs starting from
    /// `initial` (whose windows' `busy_until` are ignored: remaining times are drawn).
    pub(crate) fn mean_wait_ms(
        &mut self,
        m: &ForwardModel<'_>,
        initial: &HallState,
        now: i64,
        key: i64,
        runs: u32,
        seed: u64,
    ) -> Option<f64> {
        let mut sum = 0.0;
        for run in 0..runs {
            let mut wait = None;
            let end = self.run(m, initial, now, seed, run, &mut |k, w| {
                if k == key {
                    wait = Some(w);
                }
                k == key
            });
            sum += match end {
                RunEnd::Stopped => wait? as f64,
                RunEnd::Horizon => HORIZON_MS as f64,
                RunEnd::Stuck | RunEnd::Cancelled => return None,
            };
        }
        Some(sum / f64::from(runs))
    }

    /// Mean milliseconds from `now` until each of `keys` is called, over `runs` runs (a ticket
    /// not called within the horizon counts the horizon); `None` if some can never be called.
    pub(crate) fn mean_waits_ms(
        &mut self,
        m: &ForwardModel<'_>,
        initial: &HallState,
        now: i64,
        keys: &[i64],
        runs: u32,
        seed: u64,
    ) -> Option<Vec<f64>> {
        let mut sums = vec![0.0; keys.len()];
        let mut got: Vec<Option<i64>> = vec![None; keys.len()];
        for run in 0..runs {
            got.iter_mut().for_each(|g| *g = None);
            let mut left = keys.len();
            let end = self.run(m, initial, now, seed, run, &mut |k, w| {
                if let Some(i) = keys.iter().position(|&x| x == k)
                    && got[i].is_none()
                {
                    got[i] = Some(w);
                    left -= 1;
                }
                left == 0
            });
            if matches!(end, RunEnd::Stuck | RunEnd::Cancelled) {
                return None;
            }
            for (sum, g) in sums.iter_mut().zip(&got) {
                *sum += g.unwrap_or(HORIZON_MS) as f64;
            }
        }
        Some(sums.into_iter().map(|s| s / f64::from(runs)).collect())
    }

    /// One run from `initial`: `on_call(key, ms since now)` hears every call and stops the run
    /// by returning true.
    fn run(
        &mut self,
        m: &ForwardModel<'_>,
        initial: &HallState,
        now: i64,
        seed: u64,
        run: u32,
        on_call: &mut impl FnMut(i64, i64) -> bool,
    ) -> RunEnd {
        let mut rng = random::stream(seed, u64::from(run), FORECAST);
        let state = &mut self.state;
        state.reset_from(initial);
        for w in &mut state.windows {
            if let Some((s, since)) = w.serving {
                let rest = m.services[s]
                    .dist
                    .sample_remaining(&mut rng, (now - since) as f64);
                w.busy_until = Some(now + rest.round() as i64);
            }
        }
        // Future customers: a merged Poisson stream per segment.
        let mut seg = m
            .segments
            .iter()
            .position(|g| g.to > now)
            .unwrap_or(m.segments.len());
        let mut next_key = i64::MAX / 2;
        let mut clock = m.segments.get(seg).map_or(now, |g| g.from.max(now)) as f64;
        let mut next_arrival =
            |rng: &mut random::SimRng, clock: &mut f64| -> Option<(i64, usize)> {
                while let Some(g) = m.segments.get(seg) {
                    let total: f64 = g.rates.iter().sum();
                    if total > 0.0 {
                        *clock = clock.max(g.from as f64) + exponential(rng, 1.0 / total);
                        if *clock < g.to as f64 {
                            return Some((
                                clock.floor() as i64,
                                super::customers::pick(rng, &g.rates, total),
                            ));
                        }
                    }
                    seg += 1;
                    if let Some(n) = m.segments.get(seg) {
                        *clock = n.from as f64;
                    }
                }
                None
            };
        let mut arrival = next_arrival(&mut rng, &mut clock);
        // Booked customers: who of them comes is drawn per run, after the walk-ins' first draw
        // so a hall without bookings draws exactly as before.
        let coming = &mut self.coming;
        coming.clear();
        for b in m.bookings {
            if let Some(at) = m.habits.draw(b, now, &mut rng) {
                coming.push((at, b.service, b.slot));
            }
        }
        coming.sort_unstable_by(|a, b| b.cmp(a));

        let mut t = now;
        let mut events = 0u32;
        loop {
            events = events.wrapping_add(1);
            if events % CANCEL_EVERY == 1 && self.cancel.is_cancelled() {
                return RunEnd::Cancelled;
            }
            if state.waiting > 0 && m.pause_end(t).is_none() {
                state.idle_windows(&mut self.idle);
                for &w in &self.idle {
                    let rules = Rules {
                        policy: m.policy,
                        services: m.services,
                        windows: m.windows,
                        breaks: m.breaks,
                    };
                    let called = self.caller.call(rules, state, w, t, |tk| {
                        m.services[tk.service].dist.sample(&mut rng).round() as i64
                    });
                    if let Some(tk) = called
                        && on_call(tk.key, t - now)
                    {
                        return RunEnd::Stopped;
                    }
                }
            }
            let resume =
                if state.waiting > 0 && state.windows.iter().any(|w| w.busy_until.is_none()) {
                    m.pause_end(t)
                } else {
                    None
                };
            let Some(next) = [
                state.next_completion(),
                arrival.map(|a| a.0),
                coming.last().map(|c| c.0),
                resume,
            ]
            .into_iter()
            .flatten()
            .min() else {
                return RunEnd::Stuck;
            };
            if next - now > HORIZON_MS {
                return RunEnd::Horizon;
            }
            t = next;
            for w in 0..state.windows.len() {
                if state.windows[w].busy_until == Some(t) {
                    state.finish(w, t);
                }
            }
            while let Some((at, s)) = arrival.filter(|a| a.0 == t) {
                let priority = m.services[s].priority_share > 0.0
                    && random::uniform_open(&mut rng) < m.services[s].priority_share;
                state.enqueue(Ticket {
                    key: next_key,
                    service: s,
                    priority,
                    queue_at: at,
                    appointment: false,
                });
                next_key += 1;
                arrival = next_arrival(&mut rng, &mut clock);
            }
            while let Some(&(at, s, slot)) = coming.last().filter(|c| c.0 == t) {
                coming.pop();
                state.enqueue(Ticket {
                    key: next_key,
                    service: s,
                    priority: false,
                    queue_at: slot.max(at),
                    appointment: true,
                });
                next_key += 1;
            }
        }
    }
}

/// How a forecast run ended.
enum RunEnd {
    /// The observer had seen what it wanted.
    Stopped,
    /// Nothing was left to happen (nobody serves what is still waiting).
    Stuck,
    /// The horizon was reached first.
    Horizon,
    /// The simulation was stopped ([`Cancel`]).
    Cancelled,
}

/// Seeds of the simulator's forecasts: one per customer, the same under every policy.
pub(crate) fn customer_seed(seed: u64, day: u64, customer: usize) -> u64 {
    random::stream_seed(seed, day, (customer as u64) << 8 | FORECAST)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()
    }

    fn code(s: &str) -> ServiceCode {
        s.parse().unwrap()
    }

    fn service(c: &str, mean_min: f64, per_hour: f64) -> ForecastService {
        ForecastService {
            code: code(c),
            target_wait_secs: 900,
            mean_service_secs: mean_min * 60.0,
            service_cv: None,
            arrivals_per_hour: per_hour,
            priority_share: 0.0,
        }
    }

    fn window(serves: &[&str], busy_for_min: Option<i64>) -> ForecastWindow {
        ForecastWindow {
            skills: WindowSkills {
                serves: serves.iter().map(|s| (code(s), 1.0)).collect(),
            },
            serving: busy_for_min.map(|m| (code(serves[0]), t0() - Duration::minutes(m))),
        }
    }

    fn ticket(key: i64, s: &str, priority: bool, min_ago: i64) -> Candidate {
        Candidate {
            key,
            service: code(s),
            priority,
            queue_at: t0() - Duration::minutes(min_ago),
            target_wait_secs: 900,
            appointment: false,
        }
    }

    fn input(waiting: Vec<Candidate>, ticket: i64) -> ForecastInput {
        ForecastInput {
            policy: Policy::Fifo,
            now: t0(),
            services: vec![service("A", 6.0, 0.0), service("B", 4.0, 0.0)],
            windows: vec![window(&["A"], Some(2)), window(&["A", "B"], Some(1))],
            waiting,
            ticket,
            pauses: vec![],
            arrivals_until: None,
            bookings: vec![],
            booking_show: 0.0,
            runs: 2000,
            seed: 1,
        }
    }

    #[test]
    fn an_idle_window_calls_at_once() {
        let mut i = input(vec![ticket(1, "A", false, 0)], 1);
        i.windows[0].serving = None;
        assert_eq!(forecast_wait_secs(&i), Some(0.0));
    }

    #[test]
    fn with_exponential_service_the_wait_is_ahead_plus_one_over_the_pool() {
        // Two busy A windows, 6 min each, memoryless: the k-th departure after now comes after
        // k·3 min on average. Two ahead → the new ticket is the third: 9 min.
        let mut i = input(
            vec![
                ticket(1, "A", false, 5),
                ticket(2, "A", false, 3),
                ticket(3, "A", false, 0),
            ],
            3,
        );
        i.services[1].arrivals_per_hour = 0.0;
        let w = forecast_wait_secs(&i).unwrap();
        assert!((w - 540.0).abs() < 15.0, "{w}");
    }

    #[test]
    fn later_priority_arrivals_push_a_normal_ticket_back() {
        let base = input(vec![ticket(1, "A", false, 0)], 1);
        let mut busy = base.clone();
        busy.services[0].arrivals_per_hour = 20.0;
        busy.services[0].priority_share = 1.0;
        let (quiet, crowded) = (
            forecast_wait_secs(&base).unwrap(),
            forecast_wait_secs(&busy).unwrap(),
        );
        assert!(crowded > quiet + 60.0, "{quiet} vs {crowded}");
    }

    #[test]
    fn a_break_adds_to_the_wait() {
        let mut i = input(vec![ticket(1, "A", false, 0)], 1);
        let plain = forecast_wait_secs(&i).unwrap();
        i.pauses = vec![(t0() + Duration::minutes(1), t0() + Duration::minutes(61))];
        let with_break = forecast_wait_secs(&i).unwrap();
        assert!(with_break > plain + 1800.0, "{plain} vs {with_break}");
    }

    #[test]
    fn a_long_service_in_progress_is_nearly_done_when_service_times_vary_little() {
        // Lognormal 6 min with cv 0.1: a service that has taken 6 min has under a minute left.
        let mut i = input(vec![ticket(1, "A", false, 0)], 1);
        i.windows = vec![window(&["A"], Some(6))];
        i.services[0].service_cv = Some(0.1);
        let w = forecast_wait_secs(&i).unwrap();
        assert!(w < 60.0, "{w}");
    }

    #[test]
    fn nothing_to_forecast_gives_none() {
        assert_eq!(
            forecast_wait_secs(&input(vec![ticket(1, "A", false, 0)], 9)),
            None
        );
        let mut i = input(vec![ticket(1, "B", false, 0)], 1);
        i.windows.truncate(1);
        assert_eq!(forecast_wait_secs(&i), None);
        let mut i = input(vec![ticket(1, "A", false, 0)], 1);
        i.services[0].mean_service_secs = 0.0;
        assert_eq!(forecast_wait_secs(&i), None);
    }

    #[test]
    fn the_same_input_gives_the_same_forecast() {
        let mut i = input(
            vec![
                ticket(1, "A", false, 4),
                ticket(2, "B", true, 2),
                ticket(3, "A", false, 0),
            ],
            3,
        );
        i.runs = DEFAULT_RUNS;
        i.policy = Policy::Default;
        i.services[1].arrivals_per_hour = 10.0;
        assert_eq!(forecast_wait_secs(&i), forecast_wait_secs(&i));
    }

    #[test]
    fn the_line_forecast_ends_with_the_new_tickets_forecast() {
        let mut i = input(
            vec![
                ticket(1, "A", false, 6),
                ticket(2, "A", true, 1),
                ticket(3, "B", false, 4),
                ticket(4, "A", false, 3),
                ticket(5, "A", false, 0),
            ],
            5,
        );
        i.runs = DEFAULT_RUNS;
        i.policy = Policy::Default;
        i.services[0].arrivals_per_hour = 12.0;
        let line = forecast_line_secs(&i).unwrap();
        // A's line in order: the priority ticket 2, then 1, 4, 5.
        assert_eq!(line.len(), 4);
        assert_eq!(line.last().copied(), forecast_wait_secs(&i));
        assert!(line.windows(2).all(|p| p[0] <= p[1]), "{line:?}");
        assert!(line[0] < line[3], "{line:?}");
    }

    /// Draws of [`BookingHabits::draw`] for a booking at 10:00 (check-in 09:30–10:10), with
    /// customers 5 ± 5 minutes early and 5 % no-shows, asked at `now_min` minutes from 10:00.
    fn draws(now_min: i64) -> (f64, f64) {
        let habits = BookingHabits {
            show: 0.95,
            early: 5.0 * 60_000.0,
            spread: 5.0 * 60_000.0,
        };
        let b = PendingBooking {
            service: 0,
            slot: 0,
            before: 30 * 60_000,
            after: 10 * 60_000,
        };
        let mut rng = random::stream(1, 2, 3);
        let n = 20_000;
        let came: Vec<i64> = (0..n)
            .filter_map(|_| habits.draw(&b, now_min * 60_000, &mut rng))
            .collect();
        assert!(
            came.iter()
                .all(|&t| t >= now_min * 60_000 && t >= -30 * 60_000)
        );
        let mean = came.iter().sum::<i64>() as f64 / came.len().max(1) as f64 / 60_000.0;
        (came.len() as f64 / f64::from(n), mean)
    }

    #[test]
    fn a_booked_customer_not_here_yet_is_less_likely_to_come_the_later_it_is() {
        // Long before check-in opens nothing is known: 95 % come, 5 minutes early on average.
        let (share, mean) = draws(-60);
        assert!((share - 0.95).abs() < 0.01, "{share}");
        assert!((mean + 5.0).abs() < 0.2, "{mean}");
        // At the slot's start 84 % of those who come have come: of the rest, 0.95 × 0.16 against
        // the 0.05 who never come → 75 % still come, and later than the slot.
        let (share, mean) = draws(0);
        let later = 1.0 - random::normal_cdf(1.0);
        let expected = 0.95 * later / (0.95 * later + 0.05);
        assert!((share - expected).abs() < 0.015, "{share} vs {expected}");
        assert!(mean > 0.0 && mean < 10.0, "{mean}");
        // Nine minutes after: hardly anyone still comes.
        let (share, _) = draws(9);
        assert!(share < 0.1, "{share}");
    }
}

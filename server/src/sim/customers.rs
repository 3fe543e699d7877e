//! A day's customers, drawn before any policy runs (common random numbers).
//!
//! Every customer's arrival time, service, priority flag and service duration come from the
//! day's own stream, which depends on the seed and the day only. So every policy meets exactly
//! the same customers with exactly the same needs, and the difference between two policies on a
//! day is the policies' doing, not chance's: paired differences then have far smaller
//! confidence intervals than independent runs would.

use super::random::{self, SimRng, exponential, uniform_open};
use super::scenario::{AppointmentsRt, Model};

/// One customer of a simulated day. Times are milliseconds after the day's start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Customer {
    pub(crate) arrive: i64,
    pub(crate) service: usize,
    pub(crate) priority: bool,
    /// How long this customer's service takes, whichever window serves them.
    pub(crate) duration: i64,
    /// A booked customer's slot start (they arrive, and check in, around it).
    pub(crate) appointment: Option<i64>,
}

/// Purpose tag of the customers' stream.
const CUSTOMERS: u64 = 1;
/// Purpose tag of the bookings' stream (who books, when they come, who does not).
const BOOKINGS: u64 = 2;

/// The customers of day `day` (or replication) for `seed`, in arrival order.
#[cfg(test)]
pub(crate) fn generate(model: &Model, seed: u64, day: u64) -> Vec<Customer> {
    generate_day(model, seed, day).0
}

/// A booking of the day: its service, its slot's start, and when its customer checked in as an
/// appointment (`None`: never — a no-show, or too late for check-in, who came as a walk-in).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Booked {
    pub(crate) service: usize,
    pub(crate) slot: i64,
    pub(crate) checked_in: Option<i64>,
}

/// The customers of day `day` for `seed` (as [`generate`]) and the day's bookings.
pub(crate) fn generate_day(model: &Model, seed: u64, day: u64) -> (Vec<Customer>, Vec<Booked>) {
    let mut rng = random::stream(seed, day, CUSTOMERS);
    let mut out = Vec::new();
    for seg in &model.segments {
        let total: f64 = seg.rates.iter().sum();
        if total <= 0.0 {
            continue;
        }
        // One merged Poisson stream, each arrival's service picked by its share of the rate.
        let mut t = seg.from as f64;
        loop {
            t += exponential(&mut rng, 1.0 / total);
            if t >= seg.to as f64 {
                break;
            }
            let service = pick(&mut rng, &seg.rates, total);
            let spec = &model.services[service];
            let priority =
                spec.priority_share > 0.0 && uniform_open(&mut rng) < spec.priority_share;
            let duration = spec.dist.sample(&mut rng).round().max(1.0) as i64;
            out.push(Customer {
                arrive: t.floor() as i64,
                service,
                priority,
                duration,
                appointment: None,
            });
        }
    }
    // Segments may overlap (two blocks adding up); keep arrival order, stable for equal times.
    out.sort_by_key(|c| c.arrive);
    match &model.appointments {
        Some(a) => book(model, a, out, seed, day),
        None => (out, Vec::new()),
    }
}

/// The day's customers with a share of them booked (see [`super::scenario::AppointmentsSpec`]).
/// The same customers come as without bookings — who they are and what they need — from their
/// own stream; only who books, when they come and who stays away is drawn here, from a stream
/// of its own, so a day with bookings pairs with the same day without.
fn book(
    model: &Model,
    a: &AppointmentsRt,
    customers: Vec<Customer>,
    seed: u64,
    day: u64,
) -> (Vec<Customer>, Vec<Booked>) {
    let mut rng = random::stream(seed, day, BOOKINGS);
    let mut taken: std::collections::HashMap<(usize, i64), u32> = Default::default();
    let mut out = Vec::with_capacity(customers.len());
    let mut bookings = Vec::new();
    for c in customers {
        // Every draw is made for every customer, so the streams stay aligned whatever happens.
        let (u_book, u_show) = (uniform_open(&mut rng), uniform_open(&mut rng));
        let offset = a.spread * random::normal_quantile(uniform_open(&mut rng)) - a.early_mean;
        let slot = c.arrive.div_euclid(a.slot) * a.slot;
        let fits = model
            .open
            .iter()
            .any(|&(from, to)| slot >= from && slot + a.slot <= to);
        let place = taken.entry((c.service, slot)).or_insert(0);
        let free = a.places.is_none_or(|p| *place < p);
        if u_book >= a.share || !fits || !free {
            out.push(c);
            continue;
        }
        *place += 1;
        let mut booked = Booked {
            service: c.service,
            slot,
            checked_in: None,
        };
        let came = slot + offset.round() as i64;
        if u_show < a.no_show {
            // Never comes.
        } else if came > slot + a.after {
            // Late: check-in has closed; a normal ticket.
            out.push(Customer { arrive: came, ..c });
        } else {
            // Early: they check in when check-in opens.
            let arrive = came.max(slot - a.before);
            booked.checked_in = Some(arrive);
            out.push(Customer {
                arrive,
                appointment: Some(slot),
                ..c
            });
        }
        bookings.push(booked);
    }
    out.sort_by_key(|c| c.arrive);
    (out, bookings)
}

/// An index drawn with probability `weights[i] / total`.
pub(crate) fn pick(rng: &mut SimRng, weights: &[f64], total: f64) -> usize {
    let mut u = uniform_open(rng) * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    // Rounding left a sliver: the last service with a positive weight.
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::super::scenario::Scenario;
    use super::*;

    fn model() -> Model {
        Scenario::from_toml(
            r#"
name = "t"
[[service]]
code = "A"
mean_service_min = 5.0
target_wait_min = 10.0
priority_share = 0.25
[[service]]
code = "B"
mean_service_min = 5.0
target_wait_min = 10.0
[[window]]
number = 1
serves = ["A", "B"]
[hours]
open = [["09:00", "12:00"], ["13:00", "17:00"]]
[[arrivals]]
from = "09:00"
to = "17:00"
per_hour = { A = 30.0, B = 10.0 }
"#,
        )
        .unwrap()
        .model
    }

    #[test]
    fn the_same_seed_and_day_give_the_same_customers() {
        let m = model();
        assert_eq!(generate(&m, 1, 3), generate(&m, 1, 3));
        assert_ne!(generate(&m, 1, 3), generate(&m, 1, 4));
        assert_ne!(generate(&m, 2, 3), generate(&m, 1, 3));
    }

    #[test]
    fn customers_come_at_the_scenario_rates_and_only_when_open() {
        let m = model();
        let days = 200;
        let (mut a, mut b, mut prio_a, mut dur) = (0usize, 0usize, 0usize, 0i64);
        for day in 0..days {
            for c in generate(&m, 5, day) {
                let h = c.arrive as f64 / 3_600_000.0;
                assert!(
                    (9.0..12.0).contains(&h) || (13.0..17.0).contains(&h),
                    "arrival at {h}"
                );
                if c.service == 0 {
                    a += 1;
                    prio_a += usize::from(c.priority);
                } else {
                    assert!(!c.priority);
                    b += 1;
                }
                dur += c.duration;
            }
        }
        let per_day = |n: usize| n as f64 / days as f64;
        // 7 open hours: A 210/day, B 70/day (Poisson: sd of a 200-day mean ≈ 1.0 and 0.6).
        assert!((per_day(a) - 210.0).abs() < 4.0, "{}", per_day(a));
        assert!((per_day(b) - 70.0).abs() < 2.5, "{}", per_day(b));
        assert!((prio_a as f64 / a as f64 - 0.25).abs() < 0.01);
        assert!((dur as f64 / (a + b) as f64 / 60_000.0 - 5.0).abs() < 0.05);
    }
}

//! One simulated day (or steady-state replication) under one policy: an event loop over
//! arrivals, service ends and the ends of breaks.
//!
//! At each event time, in this order: services that end now free their windows; customers who
//! arrive now take a ticket (numbered by [`crate::queue::numbering`], told the formula estimate
//! of [`crate::queue::estimate`] and the forecast of [`super::forward`]); then, if calls are
//! allowed now, the idle windows call in turn, the longest idle first, each through the policy.
//! Outside opening periods nobody arrives and no call starts, but a service in progress
//! finishes; after the last period every waiting ticket is still called.

use super::customers::{Booked, Customer};
use super::forward::{Forward, ForwardModel, PendingBooking, customer_seed};
use super::hall::{Caller, HallState, Rules, Ticket, class};
use super::scenario::Model;
use crate::queue::estimate::{EstimateInput, estimate_wait_secs, window_share};
use crate::queue::numbering::next_number;
use crate::queue::policy::Policy;

/// What happened to one customer.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Outcome {
    /// Milliseconds from issue (an appointment: from when it was due) to call; `None` if no
    /// ticket could be issued (number range full).
    pub(crate) wait: Option<i64>,
    /// The formula's estimate at issue, milliseconds.
    pub(crate) formula: i64,
    /// The forecast at issue, milliseconds (`None` when forecasts are off).
    pub(crate) forecast: Option<f64>,
}

/// How the day's estimates are made.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Forecasts {
    /// Forecast runs per customer; 0 turns forecasts off.
    pub(crate) runs: u32,
    pub(crate) seed: u64,
    pub(crate) day: u64,
}

/// Runs one day; the outcomes are in the order of `customers`. When `forward`'s simulation is
/// cancelled it stops at the next event and returns outcomes that mean nothing.
pub(crate) fn simulate_day(
    model: &Model,
    policy: Policy,
    (customers, bookings): (&[Customer], &[Booked]),
    forecasts: Forecasts,
    forward: &mut Forward,
) -> Vec<Outcome> {
    let mut out = vec![Outcome::default(); customers.len()];
    let breaks = model.breaks();
    let rules = Rules {
        policy,
        services: &model.services,
        windows: &model.windows,
        breaks: &breaks,
    };
    let mut hall = HallState::new(model.services.len(), model.windows.len(), 0);
    let mut caller = Caller::default();
    let mut idle = Vec::new();
    // Numbering: the previous number per service and which numbers are live (issued, not done).
    let mut previous: Vec<Option<u32>> = vec![None; model.services.len()];
    let mut live: Vec<Vec<bool>> = model
        .services
        .iter()
        .map(|s| vec![false; s.numbers.1 as usize + 1])
        .collect();
    let mut number_of = vec![0u32; customers.len()];
    let mut serving: Vec<Option<usize>> = vec![None; model.windows.len()];
    let mut pauses = Vec::new();
    let mut pending = Vec::new();
    let habits = model.booking_habits();

    let mut next = 0;
    let mut now = 0;
    loop {
        if forward.cancelled() {
            break; // the caller throws the day away
        }
        let arrival = customers.get(next).map(|c| c.arrive);
        // In a break with people waiting, the next thing that happens may be the break's end.
        let resume = (hall.waiting > 0 && !model.can_call(now)).then(|| model.next_call_time(now));
        let Some(t) = [hall.next_completion(), arrival, resume]
            .into_iter()
            .flatten()
            .min()
        else {
            break;
        };
        now = t;

        for (w, who) in serving.iter_mut().enumerate() {
            if hall.windows[w].busy_until == Some(t) {
                hall.finish(w, t);
                if let Some(i) = who.take() {
                    live[customers[i].service][number_of[i] as usize] = false;
                }
            }
        }

        while let Some(c) = customers.get(next).filter(|c| c.arrive == t) {
            let i = next;
            next += 1;
            let s = c.service;
            let (first, last) = model.services[s].numbers;
            let Some(n) = next_number(first, last, previous[s], |n| live[s][n as usize]) else {
                continue; // every number is live: the kiosk refuses the ticket
            };
            previous[s] = Some(n);
            live[s][n as usize] = true;
            number_of[i] = n;
            // Estimates are scored on walk-ins: an appointment is told its slot, not a wait.
            let measured =
                (model.measured.0..model.measured.1).contains(&c.arrive) && c.appointment.is_none();
            if measured {
                out[i].formula = formula_ms(model, &hall, s, c.priority);
            }
            hall.enqueue(Ticket {
                key: i as i64,
                service: s,
                priority: c.priority,
                // An appointment is due at its slot's start, or at its check-in if later.
                queue_at: c.appointment.map_or(t, |slot| slot.max(t)),
                appointment: c.appointment.is_some(),
            });
            if measured && forecasts.runs > 0 {
                pauses.clear();
                pauses.extend(model.pauses_after(t));
                // What the hall knows of its bookings at `t`: those not checked in whose
                // check-in is still open (who will not come is not known yet).
                let (before, after) = model
                    .appointments
                    .as_ref()
                    .map_or((0, 0), |a| (a.before, a.after));
                pending.clear();
                pending.extend(
                    bookings
                        .iter()
                        .filter(|b| b.checked_in.is_none_or(|c| c > t) && b.slot + after >= t)
                        .map(|b| PendingBooking {
                            service: b.service,
                            slot: b.slot,
                            before,
                            after,
                        }),
                );
                let m = ForwardModel {
                    policy,
                    services: &model.services,
                    windows: &model.windows,
                    segments: &model.walk_in_segments,
                    pauses: &pauses,
                    breaks: &breaks,
                    bookings: &pending,
                    habits,
                };
                let seed = customer_seed(forecasts.seed, forecasts.day, i);
                out[i].forecast =
                    forward.mean_wait_ms(&m, &hall, t, i as i64, forecasts.runs, seed);
            }
        }

        if hall.waiting > 0 && model.can_call(t) {
            hall.idle_windows(&mut idle);
            for &w in &idle {
                let called = caller.call(rules, &mut hall, w, t, |tk| {
                    customers[tk.key as usize].duration
                });
                if let Some(tk) = called {
                    let i = tk.key as usize;
                    // An appointment called before it is due waited nothing.
                    out[i].wait = Some((t - tk.queue_at).max(0));
                    serving[w] = Some(i);
                }
            }
        }
    }
    out
}

/// The formula estimate the kiosk would print, as the store computes it: the tickets of the same
/// service ahead (priority customers count only the priority line), and each window serving the
/// service with its share of that window's waiting work.
fn formula_ms(model: &Model, hall: &HallState, s: usize, priority: bool) -> i64 {
    let ahead = if priority {
        hall.lines[s][class(true)].len()
    } else {
        hall.waiting_in(s)
    };
    let windows = model
        .windows
        .iter()
        .zip(&hall.windows)
        .filter(|(w, _)| w.serves.contains(&s))
        .map(|(w, state)| {
            let all: usize = w.serves.iter().map(|&x| hall.waiting_in(x)).sum();
            (
                state.busy_until.is_none(),
                window_share(hall.waiting_in(s) as u32 + 1, all as u32 + 1),
            )
        })
        .collect();
    let input = EstimateInput {
        ahead: ahead as u32,
        windows,
        mean_service_secs: model.services[s].dist.mean() / 1000.0,
    };
    estimate_wait_secs(&input) as i64 * 1000
}

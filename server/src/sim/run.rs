//! Many days, every policy, both cores: the simulation as a whole.
//!
//! Days are independent given the seed, so they are spread over threads (each day's figures
//! land in the day's slot, so the result does not depend on the number of threads). On each day
//! the customers are drawn once and every policy serves those same customers.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::cancel::Cancel;
use super::customers::generate_day;
use super::day::{Forecasts, simulate_day};
use super::forward::{DEFAULT_RUNS, Forward};
use super::results::{
    GroupNames, PolicyDay, PolicyResult, SimResult, accuracy, figures, paired, summarize,
};
use super::scenario::Scenario;
use crate::queue::policy::Policy;

/// How to run a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Days, or replications of a steady-state scenario.
    pub days: u32,
    pub seed: u64,
    /// The policies to compare, in output order.
    pub policies: Vec<Policy>,
    /// Forecast runs per customer for the estimate figures; 0 skips forecasts (faster).
    pub forecast_runs: u32,
    /// Worker threads; 0 uses every core.
    pub threads: usize,
}

impl Options {
    /// Every policy, with forecasts, on every core.
    pub fn new(days: u32, seed: u64) -> Options {
        Options {
            days,
            seed,
            policies: Policy::ALL.to_vec(),
            forecast_runs: DEFAULT_RUNS,
            threads: 0,
        }
    }

    /// The work a run costs, counted in customers simulated once: every one of `customers` (over
    /// all days) is served under each policy, and under each its forecast plays the hall
    /// forward `forecast_runs` more times. The server caps this before it starts.
    pub fn work(&self, customers: f64) -> f64 {
        customers * self.policies.len() as f64 * (1.0 + f64::from(self.forecast_runs))
    }
}

/// Simulates `options.days` days of the scenario under each policy.
pub fn simulate(scenario: &Scenario, options: &Options) -> SimResult {
    // Nobody else holds this flag, so nothing raises it and every day is simulated.
    let per_day = simulate_days(scenario, options, &Cancel::new());
    collect(scenario, options, &per_day)
}

/// [`simulate`], stopped within milliseconds once `cancel` is raised: then `None`.
pub fn simulate_cancellable(
    scenario: &Scenario,
    options: &Options,
    cancel: &Cancel,
) -> Option<SimResult> {
    let per_day = simulate_days(scenario, options, cancel);
    if cancel.is_cancelled() || per_day.len() != options.days as usize {
        return None;
    }
    Some(collect(scenario, options, &per_day))
}

/// Each day's figures under each policy, in day order; fewer days if cancelled.
fn simulate_days(scenario: &Scenario, options: &Options, cancel: &Cancel) -> Vec<Vec<PolicyDay>> {
    let model = &scenario.model;
    let days = options.days as usize;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = if options.threads == 0 {
        cores
    } else {
        options.threads
    }
    .clamp(1, days.max(1));
    let next = AtomicUsize::new(0);
    let mut per_day: Vec<Vec<PolicyDay>> = Vec::with_capacity(days);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut forward = Forward::with_cancel(cancel.clone());
                    let mut done = Vec::new();
                    loop {
                        let d = next.fetch_add(1, Ordering::Relaxed);
                        if d >= days || cancel.is_cancelled() {
                            break done;
                        }
                        let (customers, bookings) = generate_day(model, options.seed, d as u64);
                        let forecasts = Forecasts {
                            runs: options.forecast_runs,
                            seed: options.seed,
                            day: d as u64,
                        };
                        let mut day: Vec<PolicyDay> = Vec::with_capacity(options.policies.len());
                        for &p in &options.policies {
                            let outcomes = simulate_day(
                                model,
                                p,
                                (&customers, &bookings),
                                forecasts,
                                &mut forward,
                            );
                            if cancel.is_cancelled() {
                                break;
                            }
                            day.push(summarize(model, &customers, &outcomes));
                        }
                        if cancel.is_cancelled() {
                            break done;
                        }
                        done.push((d, day));
                    }
                })
            })
            .collect();
        let mut all: Vec<(usize, Vec<PolicyDay>)> = workers
            .into_iter()
            .flat_map(|w| w.join().expect("a simulation thread panicked"))
            .collect();
        all.sort_by_key(|(d, _)| *d);
        per_day.extend(all.into_iter().map(|(_, day)| day));
    });
    per_day
}

/// The result from each day's figures.
fn collect(scenario: &Scenario, options: &Options, per_day: &[Vec<PolicyDay>]) -> SimResult {
    let model = &scenario.model;
    let names = GroupNames::of(model);
    let column = |k: usize| -> Vec<&PolicyDay> { per_day.iter().map(|day| &day[k]).collect() };
    let position = |p: Policy| options.policies.iter().position(|&q| q == p);
    let policies = options
        .policies
        .iter()
        .enumerate()
        .map(|(k, &p)| {
            let mine = column(k);
            let versus = |other: Policy| {
                position(other)
                    .filter(|&j| j != k)
                    .map(|j| paired(&names, &mine, &column(j)))
            };
            let (overall, by_service, by_class) = figures(&names, &mine);
            PolicyResult {
                policy: p.name().to_string(),
                overall,
                by_service,
                by_class,
                estimate: accuracy(model, &mine),
                vs_fifo: versus(Policy::Fifo),
                vs_target_ratio: versus(Policy::TargetRatio),
            }
        })
        .collect();
    SimResult {
        scenario: scenario.name().to_string(),
        days: options.days,
        seed: options.seed,
        default_policy: Policy::Default.name().to_string(),
        steady_state_hours: scenario.file.steady_state_hours,
        forecast_runs: options.forecast_runs,
        policies,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn a_raised_flag_stops_a_long_simulation_within_moments_and_gives_no_result() {
        let scenario = Scenario::from_toml(include_str!("../../scenarios/example.toml")).unwrap();
        // Minutes of work.
        let options = Options {
            threads: 1,
            ..Options::new(20_000, 1)
        };
        let cancel = Cancel::new();
        let raiser = {
            let cancel = cancel.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                cancel.cancel();
            })
        };
        let started = Instant::now();
        assert!(simulate_cancellable(&scenario, &options, &cancel).is_none());
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        raiser.join().unwrap();
    }

    #[test]
    fn an_unraised_flag_gives_the_same_result_as_simulate() {
        let scenario = Scenario::from_toml(include_str!("../../scenarios/example.toml")).unwrap();
        let options = Options {
            forecast_runs: 0,
            ..Options::new(3, 7)
        };
        let json = |r: &SimResult| serde_json::to_string(r).unwrap();
        let got = simulate_cancellable(&scenario, &options, &Cancel::new()).unwrap();
        assert_eq!(json(&got), json(&simulate(&scenario, &options)));
    }
}

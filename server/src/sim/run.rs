//! Many days, every policy, both cores: the simulation as a whole.
//!
//! Days are independent given the seed, so they are spread over threads (each day's figures
//! land in the day's slot, so the result does not depend on the number of threads). On each day
//! the customers are drawn once and every policy serves those same customers.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::customers::generate;
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
}

/// Simulates `options.days` days of the scenario under each policy.
pub fn simulate(scenario: &Scenario, options: &Options) -> SimResult {
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
                    let mut forward = Forward::default();
                    let mut done = Vec::new();
                    loop {
                        let d = next.fetch_add(1, Ordering::Relaxed);
                        if d >= days {
                            break done;
                        }
                        let customers = generate(model, options.seed, d as u64);
                        let forecasts = Forecasts {
                            runs: options.forecast_runs,
                            seed: options.seed,
                            day: d as u64,
                        };
                        let day: Vec<PolicyDay> = options
                            .policies
                            .iter()
                            .map(|&p| {
                                summarize(
                                    model,
                                    &customers,
                                    &simulate_day(model, p, &customers, forecasts, &mut forward),
                                )
                            })
                            .collect();
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
                estimate: accuracy(&mine),
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

//! The hall simulator: the engine's policy, numbering and estimates in virtual time.
//!
//! `qhall-server simulate SCENARIO.toml` plays many days of a hall — customers arriving at the
//! scenario's rates, windows calling through [`crate::queue::policy::choose`] exactly as the
//! server does — and reports service level and waits per policy, with confidence intervals and
//! paired differences, and how close the estimates a kiosk prints come to the waits. Formats:
//! `SIMULATION.md`.
//!
//! # Layout
//! - [`scenario`]: the scenario format, checked and compiled to milliseconds.
//! - `random`: seeded streams and service-time distributions.
//! - `customers`: each day's customers, drawn once for all policies (common random numbers).
//! - `hall`: lines and windows, and the call through the engine's policy.
//! - `day`: the event loop of one day under one policy.
//! - [`forward`]: the forecast of a new ticket's wait by simulating forward from now; the server
//!   calls it for the kiosk, the simulator scores it.
//! - [`results`]: daily figures, intervals over days, paired differences, estimate accuracy.
//! - [`run`]: days spread over threads, every policy on the same customers.
//! - [`cancel`]: the flag that stops a simulation (budget, shutdown, a client gone).
//! - [`output`]: the human-readable tables.

pub mod cancel;
mod customers;
mod day;
pub mod forward;
mod hall;
pub mod output;
mod random;
pub mod results;
pub mod run;
pub mod scenario;

#[cfg(test)]
mod acceptance;

use anyhow::Context;

pub use cancel::Cancel;
pub use forward::{
    DEFAULT_RUNS, ForecastBooking, ForecastInput, ForecastService, ForecastWindow,
    forecast_line_secs, forecast_wait_secs,
};
pub use results::SimResult;
pub use run::{Options, simulate, simulate_cancellable};
pub use scenario::{Scenario, ScenarioFile};

use crate::queue::policy::Policy;

/// `qhall-server simulate SCENARIO.toml [--days N] [--seed S] [--policy NAME|all] [--json]`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// The scenario file (TOML, see SIMULATION.md).
    pub scenario: std::path::PathBuf,
    /// Simulated days (or replications for a steady-state scenario).
    #[arg(long, default_value_t = 200)]
    pub days: u32,
    /// Seed of the random numbers; the same seed gives the same result.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A policy name, several joined by commas, or `all` (the default) to compare every policy on
    /// the same random numbers.
    #[arg(long)]
    pub policy: Option<String>,
    /// Print one JSON result object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Forward-simulation runs averaged per forecast (0 skips forecasts; the server uses 12).
    #[arg(long, default_value_t = DEFAULT_RUNS, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub forecast_runs: u32,
}

/// The policies a `--policy` value names.
pub fn policies_named(name: &str) -> anyhow::Result<Vec<Policy>> {
    if name == "all" {
        return Ok(Policy::ALL.to_vec());
    }
    let names: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
    let mut out: Vec<Policy> = Vec::new();
    for n in name.split(',') {
        let p = Policy::from_name(n.trim()).with_context(|| {
            format!(
                "no policy {n:?}; the policies are {} (or all, or several joined by commas)",
                names.join(", ")
            )
        })?;
        // Each policy once: a repeat would only repeat the work (and multiply its cost).
        anyhow::ensure!(!out.contains(&p), "policy {} is named twice", p.name());
        out.push(p);
    }
    Ok(out)
}

/// Runs the `simulate` command.
pub fn run_cli(args: &SimulateArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("cannot read {}", args.scenario.display()))?;
    let scenario =
        Scenario::from_toml(&text).with_context(|| format!("in {}", args.scenario.display()))?;
    anyhow::ensure!(args.days >= 1, "--days must be at least 1");
    let options = Options {
        policies: policies_named(args.policy.as_deref().unwrap_or("all"))?,
        forecast_runs: args.forecast_runs,
        ..Options::new(args.days, args.seed)
    };
    let result = simulate(&scenario, &options);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", output::table(&result));
    }
    Ok(())
}

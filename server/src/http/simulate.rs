//! What-if for managers: `POST /api/v1/simulate` runs the hall simulator on a scenario sent as
//! JSON, `GET /api/v1/simulate/baseline` builds that scenario from the branch as it is, and
//! `GET /api/v1/forecast` shows the forecast table the ticket estimates come from.
//!
//! A simulation is CPU work: it runs in `spawn_blocking` on one thread, one at a time per
//! server (a second request meanwhile gets 429 `busy`), and no request can hold that core for
//! long:
//! - **Before any work**, the scenario's size is capped ([`MAX_DAYS`], [`MAX_SERVICES`],
//!   [`MAX_WINDOWS`], [`MAX_ARRIVAL_BLOCKS`]; 422 `invalid_scenario`), and so is its cost:
//!   [`MAX_CUSTOMERS`] simulated customers and [`MAX_WORK`] customers × policies × (1 + forecast
//!   runs) (422 `simulation_too_large`). A policy named twice is refused (422 `invalid_policy`).
//! - **While it runs**, a wall-clock [`BUDGET`]: the cost counts customers, not how long the
//!   lines grow, and a forecast's cost grows with the line ahead of it, so an overloaded hall
//!   within the caps could still run for hours. Past the budget the simulation is stopped and
//!   the answer is 503 `simulation_timeout`.
//! - **It stops when nobody wants it**: the blocking thread checks a [`Cancel`] flag between days
//!   and events, raised when the budget runs out, when the server shuts down (503
//!   `shutting_down`; SIGTERM is not held up), and when the client disconnects (the handler's
//!   future is dropped and its guard raises the flag), so the next simulation need not wait.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, NaiveDate, Timelike};
use qhall_shared::ServiceCode;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiResult};
use crate::forecast::ForecastTable;
use crate::queue::schedule::{hhmm, local_date, local_instant};
use crate::sim::scenario::{
    AppointmentsSpec, ArrivalsSpec, Distribution, HoursSpec, ScenarioFile, ServiceSpec, WindowSpec,
};
use crate::sim::{Cancel, Options, Scenario, SimResult, policies_named, simulate_cancellable};
use crate::store::Role;

/// At most this many simulated days (or replications) per request.
pub const MAX_DAYS: u32 = 400;
pub const MAX_SERVICES: usize = 26;
pub const MAX_WINDOWS: usize = 200;
pub const MAX_ARRIVAL_BLOCKS: usize = 200;
/// At most this many simulated customers per request (days × expected customers a day): each
/// day's customers are held in memory at once.
pub const MAX_CUSTOMERS: f64 = 200_000.0;
/// At most this much work per request ([`Options::work`]: customers × policies × (1 + forecast
/// runs)). It is what the customer cap allowed with every policy once and the default 12
/// forecast runs (200,000 × 4 × 13), now counted whatever the policies and runs asked for.
pub const MAX_WORK: f64 = MAX_CUSTOMERS * 4.0 * 13.0;
/// The wall-clock time a simulation may take. 400 days of the example hall (the largest ordinary
/// request: every policy, forecasts for every customer) take about 5 s of one core on a quiet
/// 2-core machine; 15 s leaves room for a loaded one, and a core is never held longer.
pub const BUDGET: std::time::Duration = std::time::Duration::from_secs(15);
/// The baseline looks back this many days.
const BASELINE_DAYS: i64 = 28;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/simulate", post(run))
        .route("/api/v1/simulate/baseline", get(baseline))
        .route("/api/v1/forecast", get(forecast))
}

/// The body of `POST /api/v1/simulate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulateRequest {
    /// The scenario, with the fields of the TOML format (`SIMULATION.md`).
    pub scenario: ScenarioFile,
    /// Days (or replications), default 200, at most [`MAX_DAYS`].
    pub days: Option<u32>,
    /// Default 1.
    pub seed: Option<u64>,
    /// A policy name or `all` (the default).
    pub policy: Option<String>,
}

async fn run(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SimulateRequest>,
) -> ApiResult<Json<SimResult>> {
    caller.require(&[Role::Manager])?;
    let days = req.days.unwrap_or(200);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::invalid(
            "invalid_scenario",
            format!("days must be between 1 and {MAX_DAYS}"),
        ));
    }
    let f = &req.scenario;
    if f.services.len() > MAX_SERVICES
        || f.windows.len() > MAX_WINDOWS
        || f.arrivals.len() > MAX_ARRIVAL_BLOCKS
        || f.hours.as_ref().is_some_and(|h| h.open.len() > 48)
    {
        return Err(ApiError::invalid(
            "invalid_scenario",
            format!(
                "a scenario may have at most {MAX_SERVICES} services, {MAX_WINDOWS} windows, \
                 {MAX_ARRIVAL_BLOCKS} arrival blocks and 48 opening periods"
            ),
        ));
    }
    let policies = policies_named(req.policy.as_deref().unwrap_or("all"))
        .map_err(|e| ApiError::invalid("invalid_policy", e.to_string()))?;
    let scenario = Scenario::new(req.scenario)
        .map_err(|e| ApiError::invalid("invalid_scenario", format!("{e:#}")))?;
    let options = Options {
        policies,
        threads: 1,
        ..Options::new(days, req.seed.unwrap_or(1))
    };
    let customers = scenario.expected_customers() * f64::from(days);
    let work = options.work(customers);
    if customers.is_nan() || customers > MAX_CUSTOMERS || work.is_nan() || work > MAX_WORK {
        return Err(ApiError::invalid(
            "simulation_too_large",
            format!(
                "about {customers:.0} simulated customers under {} policies with {} forecast runs \
                 each: at most {MAX_CUSTOMERS:.0} customers, and {MAX_WORK:.0} customers × \
                 policies × (1 + forecast runs), per request (fewer days, policies or lower \
                 arrival rates)",
                options.policies.len(),
                options.forecast_runs,
            ),
        ));
    }
    let Ok(permit) = state.simulations.clone().try_acquire_owned() else {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "busy",
            "another simulation is running; try again in a few seconds",
        ));
    };
    let result = run_within_budget(&state, scenario, options, permit, BUDGET).await?;
    Ok(Json(result))
}

/// Runs the simulation on a blocking thread until it ends, `budget` runs out, or the server
/// stops; the two last raise its [`Cancel`] flag, and so does dropping this future (the client
/// went away). The permit is held until the thread has finished.
async fn run_within_budget(
    state: &AppState,
    scenario: Scenario,
    options: Options,
    permit: tokio::sync::OwnedSemaphorePermit,
    budget: std::time::Duration,
) -> ApiResult<SimResult> {
    let cancel = Cancel::new();
    let _stop_if_dropped = cancel.on_drop();
    let mut job = tokio::task::spawn_blocking({
        let cancel = cancel.clone();
        move || {
            let _permit = permit;
            simulate_cancellable(&scenario, &options, &cancel)
        }
    });
    let mut stopping = state.stopping.clone();
    let shutdown = async move {
        // A closed channel means no shutdown will ever be announced.
        if stopping.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let stopped = tokio::select! {
        done = &mut job => {
            return done
                .map_err(ApiError::internal)?
                .ok_or_else(|| ApiError::internal("a simulation stopped with nobody asking"));
        }
        () = tokio::time::sleep(budget) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "simulation_timeout",
            format!(
                "the simulation took longer than {} s and was stopped; ask for fewer days or \
                 policies, or a lighter scenario",
                budget.as_secs()
            ),
        ),
        () = shutdown => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down; the simulation was stopped",
        ),
    };
    cancel.cancel();
    // The thread notices within milliseconds; wait for it so the next request finds the
    // simulator free (and a shutdown leaves no work behind).
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), job).await;
    tracing::info!(code = stopped.code, "a simulation was stopped");
    Err(stopped)
}

/// The answer of `GET /api/v1/simulate/baseline`.
#[derive(Debug, Serialize)]
pub struct Baseline {
    /// Ready to send back as `{"scenario": …}`.
    pub scenario: ScenarioFile,
    /// The local days the arrival rates and service times come from, and how many had tickets.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub days_with_data: u32,
    pub tickets: u64,
}

/// The branch as a scenario: its services (mean service time of the period, else the
/// configured default), its windows and their skills, its opening hours today (or the next day
/// it opens), and arrivals per service per hour — the mean over the days with tickets in the
/// last four weeks, or of the last day with tickets when there were none.
async fn baseline(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Baseline>> {
    let who = caller.require(&[Role::Manager])?;
    let now = state.now();
    let cfg = state.store.config(who.branch_id).await?;
    let tz = cfg.schedule.tz;
    let today = local_date(tz, now);
    let db = &state.store;
    let mut tickets = db
        .tickets_issued_between(
            who.branch_id,
            local_instant(tz, today - Duration::days(BASELINE_DAYS), 0),
            local_instant(tz, today + Duration::days(1), 0),
        )
        .await?;
    if tickets.is_empty()
        && let Some(last) = db.last_issued_at(who.branch_id).await?
    {
        let day = local_date(tz, last);
        tickets = db
            .tickets_issued_between(
                who.branch_id,
                local_instant(tz, day, 0),
                local_instant(tz, day, 1440),
            )
            .await?;
    }
    let days: std::collections::BTreeSet<NaiveDate> = tickets.iter().map(|t| t.day).collect();
    let n_days = days.len().max(1) as f64;

    // Opening hours: today, or the next day with any.
    let periods: Vec<(u16, u16)> = (0..7)
        .map(|d| cfg.schedule.periods_on(today + Duration::days(d)).to_vec())
        .find(|p| !p.is_empty())
        .unwrap_or_else(|| vec![(9 * 60, 17 * 60)]);
    let mut periods: Vec<(u16, u16)> = periods
        .into_iter()
        .filter(|(a, b)| a < b && *b <= 1440)
        .collect();
    periods.sort_unstable();

    // Arrivals per service and local hour.
    let mut counts: BTreeMap<(ServiceCode, u32), f64> = BTreeMap::new();
    for t in &tickets {
        let hour = t.issued_at.with_timezone(&tz).hour();
        *counts.entry((t.issued_service, hour)).or_default() += 1.0;
    }
    let mut arrivals = Vec::new();
    for &(a, b) in &periods {
        let mut from = a;
        while from < b {
            let to = ((from / 60 + 1) * 60).min(b);
            let hour = u32::from(from / 60);
            let per_hour = cfg
                .services
                .iter()
                .map(|s| {
                    let n = counts.get(&(s.code, hour)).copied().unwrap_or(0.0);
                    (s.code, (n / n_days * 100.0).round() / 100.0)
                })
                .collect();
            arrivals.push(ArrivalsSpec {
                from: Some(hhmm(from)),
                to: Some(hhmm(to)),
                per_hour,
            });
            from = to;
        }
    }

    let services = cfg
        .services
        .iter()
        .map(|s| {
            let mine: Vec<_> = tickets
                .iter()
                .filter(|t| t.issued_service == s.code)
                .collect();
            let durations: Vec<f64> = mine
                .iter()
                .filter_map(|t| Some((t.done_at? - t.serving_at?).num_milliseconds() as f64))
                .filter(|ms| *ms > 0.0)
                .collect();
            let mean_secs = if durations.is_empty() {
                f64::from(s.default_service_secs.max(1))
            } else {
                durations.iter().sum::<f64>() / durations.len() as f64 / 1000.0
            };
            let priority = mine.iter().filter(|t| t.priority).count();
            ServiceSpec {
                code: s.code,
                mean_service_min: (mean_secs / 60.0 * 100.0).round().max(1.0) / 100.0,
                distribution: Distribution::Exponential,
                cv: None,
                target_wait_min: f64::from(s.target_wait_secs) / 60.0,
                priority_share: if mine.is_empty() {
                    0.0
                } else {
                    priority as f64 / mine.len() as f64
                },
                first_number: Some(s.first_number),
                last_number: Some(s.last_number),
            }
        })
        .collect();
    let windows = cfg
        .windows
        .iter()
        .map(|w| {
            let weights: Vec<f64> = w.skills.serves.iter().map(|(_, x)| *x).collect();
            WindowSpec {
                number: w.number.get(),
                serves: w.skills.serves.iter().map(|(c, _)| *c).collect(),
                weights: weights
                    .iter()
                    .any(|x| (*x - 1.0).abs() > 1e-9)
                    .then_some(weights),
            }
        })
        .collect();
    // Bookings as the hall takes them: the share of the period's tickets that were
    // appointments, and the first booking service's slots.
    let mut appointments = None;
    if let Some(s) = cfg.services.iter().find(|s| s.appointments) {
        let set = db.appointment_settings(who.branch_id, s.code).await?;
        let booked = tickets
            .iter()
            .filter(|t| t.appointment_at.is_some())
            .count();
        let share = if tickets.is_empty() {
            0.0
        } else {
            (booked as f64 / tickets.len() as f64 * 100.0).round() / 100.0
        };
        appointments = Some(AppointmentsSpec {
            share: share.min(0.9),
            slot_min: f64::from(set.slot_mins),
            places: Some(set.places),
            early_mean_min: 5.0,
            punctuality_sd_min: 5.0,
            no_show: 0.0,
            checkin_before_min: f64::from(set.checkin_before_mins),
            checkin_after_min: f64::from(set.checkin_after_mins),
        });
    }
    Ok(Json(Baseline {
        scenario: ScenarioFile {
            name: format!("{} (baseline {today})", cfg.name.get("en")),
            steady_state_hours: None,
            services,
            windows,
            hours: Some(HoursSpec {
                open: periods.iter().map(|&(a, b)| [hhmm(a), hhmm(b)]).collect(),
            }),
            arrivals,
            appointments,
        },
        from: days.first().copied(),
        to: days.last().copied(),
        days_with_data: days.len() as u32,
        tickets: tickets.len() as u64,
    }))
}

/// The branch's current forecast table (404 until the first one is computed).
async fn forecast(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ForecastTable>> {
    let who = caller.require(&[Role::Manager])?;
    let table =
        state.store.forecasts.get(who.branch_id).ok_or_else(|| {
            ApiError::not_found("no_forecast", "no forecast has been computed yet")
        })?;
    Ok(Json((*table).clone()))
}

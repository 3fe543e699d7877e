//! `cargo bench -p qhall-server --bench simulate`: how fast the simulator and the forecast are.
//!
//! Prints figures rather than asserting them (timings belong to the machine, not to the tests):
//! 200 days of the example hall under every policy with forecasts, as `qhall-server simulate`
//! runs it by default (issue #8 asks for under 10 s on two cores), one forecast at 200
//! waiting (asked: under 20 ms), and the server's whole forecast table at 200 waiting (every
//! service's line, computed in the background after each change; `crate::forecast`).

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use qhall_server::forecast;
use qhall_server::queue::ServiceDef;
use qhall_server::queue::policy::{Candidate, Policy, WindowSkills};
use qhall_server::queue::schedule::{Schedule, Weekly};
use qhall_server::sim::{
    DEFAULT_RUNS, ForecastInput, ForecastService, ForecastWindow, Options, Scenario,
    forecast_wait_secs, simulate,
};
use qhall_server::store::{BranchConfig, WindowDef};
use qhall_shared::ServiceCode;
use qhall_shared::WindowNo;
use qhall_shared::api::Localized;

fn main() {
    let text = include_str!("../scenarios/example.toml");
    let scenario = Scenario::from_toml(text).expect("the example scenario parses");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("machine: {cores} cores available to this process");

    for (what, forecast_runs) in [("with forecasts", DEFAULT_RUNS), ("without forecasts", 0)] {
        let start = Instant::now();
        let r = simulate(
            &scenario,
            &Options {
                forecast_runs,
                ..Options::new(200, 1)
            },
        );
        let took = start.elapsed();
        let customers = r.policies[0].overall.customers * 200.0;
        println!(
            "example hall, 200 days × {} policies {what}: {:.2} s ({:.0} simulated customers per second)",
            r.policies.len(),
            took.as_secs_f64(),
            customers * r.policies.len() as f64 / took.as_secs_f64()
        );
    }

    for waiting in [20, 200] {
        let input = forecast_input(waiting);
        let mut times = Vec::new();
        let mut answer = 0.0;
        for i in 0..30 {
            let start = Instant::now();
            answer = forecast_wait_secs(&ForecastInput {
                seed: i,
                ..input.clone()
            })
            .expect("a forecast");
            times.push(start.elapsed());
        }
        times.sort();
        let median = times[times.len() / 2];
        let worst = *times.last().unwrap_or(&Duration::ZERO);
        println!(
            "forecast at {waiting} waiting ({} runs): median {:.3} ms, slowest {:.3} ms (forecast {:.0} min)",
            input.runs,
            median.as_secs_f64() * 1000.0,
            worst.as_secs_f64() * 1000.0,
            answer / 60.0
        );
    }

    for waiting in [20, 200] {
        let input = forecast_input(waiting);
        let snap = snapshot(&input);
        let mut times = Vec::new();
        let mut entries = 0;
        for _ in 0..30 {
            let start = Instant::now();
            let table = forecast::compute(&snap, Policy::Default, input.now);
            times.push(start.elapsed());
            entries = table.lines.iter().map(|l| l.waits_secs.len()).sum();
        }
        times.sort();
        println!(
            "server forecast table at {waiting} waiting (3 services × {} runs, {entries} positions): median {:.3} ms, slowest {:.3} ms",
            forecast::RUNS,
            times[times.len() / 2].as_secs_f64() * 1000.0,
            times.last().unwrap_or(&Duration::ZERO).as_secs_f64() * 1000.0,
        );
    }
}

/// The same hall as the server's forecast reads it from the database.
fn snapshot(input: &ForecastInput) -> forecast::Snapshot {
    let services = input
        .services
        .iter()
        .map(|s| ServiceDef {
            code: s.code,
            name: Localized::default(),
            guide: Localized::default(),
            target_wait_secs: s.target_wait_secs,
            first_number: 1,
            last_number: 999,
            priority_allowed: true,
            default_service_secs: s.mean_service_secs as u32,
            enabled: true,
            carry_over: false,
            remote_tickets: false,
            appointments: false,
            identity_check: Default::default(),
        })
        .collect();
    let windows = input
        .windows
        .iter()
        .enumerate()
        .map(|(i, w)| WindowDef {
            number: WindowNo::new(i as u32 + 1).expect("a window number"),
            name: format!("{}", i + 1),
            skills: w.skills.clone(),
        })
        .collect();
    let config = BranchConfig {
        id: 1,
        version: 1,
        name: Localized::default(),
        schedule: Schedule {
            tz: chrono_tz::UTC,
            weekly: Weekly::weekdays(&[(9 * 60, 12 * 60), (13 * 60, 17 * 60)]),
            exceptions: Vec::new(),
            cutoff_mins: 0,
        },
        services,
        windows,
        emergency: None,
        closing_grace_mins: 30,
        public: Default::default(),
        messages: Default::default(),
    };
    forecast::Snapshot {
        config: std::sync::Arc::new(config),
        seq: 1,
        waiting: input.waiting.clone(),
        open_windows: input
            .windows
            .iter()
            .enumerate()
            .map(|(i, w)| (WindowNo::new(i as u32 + 1).expect("a number"), w.serving))
            .collect(),
        recent: input
            .services
            .iter()
            .map(|s| {
                (
                    s.code,
                    Some(s.mean_service_secs),
                    s.arrivals_per_hour as u32,
                )
            })
            .collect(),
        bookings: input.bookings.clone(),
        booking_show: input.booking_show,
    }
}

/// The example hall at 10:30 on a bad day: every window busy, `waiting` tickets in line, the
/// new ticket (the last B) at the back.
fn forecast_input(waiting: usize) -> ForecastInput {
    let code = |s: &str| -> ServiceCode { s.parse().expect("a service code") };
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 10, 30, 0).unwrap();
    let services = [
        ("A", 900, 360.0, 20.0),
        ("B", 600, 240.0, 22.0),
        ("C", 1800, 600.0, 6.0),
    ]
    .map(|(c, target, mean, per_hour)| ForecastService {
        code: code(c),
        target_wait_secs: target,
        mean_service_secs: mean,
        service_cv: None,
        arrivals_per_hour: per_hour,
        priority_share: 0.05,
    })
    .to_vec();
    let windows = [["A", "B"], ["A", "B"], ["B", "A"], ["C", "A"], ["C", "B"]]
        .iter()
        .enumerate()
        .map(|(i, serves)| ForecastWindow {
            skills: WindowSkills {
                serves: serves.iter().map(|s| (code(s), 1.0)).collect(),
            },
            serving: Some((
                code(serves[0]),
                now - chrono::Duration::seconds(60 * i as i64),
            )),
        })
        .collect();
    let waiting: Vec<Candidate> = (0..waiting)
        .map(|i| {
            let (s, target) = [("A", 900), ("B", 600), ("C", 1800)][i % 3];
            Candidate {
                key: i as i64,
                service: code(s),
                priority: i % 17 == 0,
                queue_at: now - chrono::Duration::seconds(10 * (waiting - i) as i64),
                target_wait_secs: target,
                appointment: false,
            }
        })
        .collect();
    let ticket = waiting
        .iter()
        .rev()
        .find(|c| c.service == code("B"))
        .map_or(0, |c| c.key);
    ForecastInput {
        policy: Policy::Default,
        now,
        services,
        windows,
        waiting,
        ticket,
        pauses: vec![(
            Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 2, 13, 0, 0).unwrap(),
        )],
        arrivals_until: Some(Utc.with_ymd_and_hms(2026, 3, 2, 17, 0, 0).unwrap()),
        bookings: vec![],
        booking_show: 0.0,
        runs: DEFAULT_RUNS,
        seed: 0,
    }
}

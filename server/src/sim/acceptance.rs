//! The acceptance checks of issue #8: the simulator against queueing theory, and the default
//! policy's promise on the example hall. Fixed seeds, so every check is deterministic; each one
//! also asserts that its interval is narrow enough that a wrong model would land outside it.

use super::results::{Ci, SimResult};
use super::{Options, Scenario, simulate};
use crate::queue::erlang;
use crate::queue::policy::Policy;

/// A steady-state scenario run for `hours` per replication (longer than the shipped files use,
/// so fewer replications give a tight interval: what matters is the simulated hours in total).
fn steady(text: &str, hours: f64) -> Scenario {
    let mut file = Scenario::from_toml(text).unwrap().file;
    file.steady_state_hours = Some(hours);
    Scenario::new(file).unwrap()
}

fn run(s: &Scenario, days: u32, policies: &[Policy]) -> SimResult {
    simulate(
        s,
        &Options {
            policies: policies.to_vec(),
            forecast_runs: 0,
            ..Options::new(days, 1)
        },
    )
}

fn assert_within(what: &str, ci: Ci, theory: f64, max_half_width: f64) {
    assert!(
        ci.contains(theory),
        "{what}: simulated {:.4} ± {:.4}, theory {theory:.4}",
        ci.mean,
        ci.ci95
    );
    assert!(
        ci.ci95 <= max_half_width,
        "{what}: interval ±{:.4} too wide to tell a wrong model",
        ci.ci95
    );
}

/// Replications of 100 hours (90 measured): 60 of them are about 325,000 customers at 60/h.
const HOURS: f64 = 100.0;

/// One M/M/c case: the simulation's intervals contain Erlang C's figures, and exclude the
/// figures of a model with 5 % more load (so the test would catch a model that far off).
fn erlang_case(
    text: &str,
    replications: u32,
    per_hour: f64,
    mean_min: f64,
    c: u32,
    target_min: f64,
    expected: (f64, f64, f64),
) {
    let theory = erlang::figures(c, per_hour, mean_min * 60.0, target_min * 60.0).unwrap();
    // The figures are Erlang C's: check the reference first.
    assert!((theory.mean_wait_secs / 60.0 - expected.0).abs() < 1e-3);
    assert!((theory.probability_of_waiting - expected.1).abs() < 1e-3);
    assert!((theory.service_level - expected.2).abs() < 1e-3);
    let r = run(&steady(text, HOURS), replications, &[Policy::Fifo]);
    let o = &r.policies[0].overall;
    assert_within(
        "mean wait (min)",
        o.mean_wait_min,
        expected.0,
        0.1 * expected.0,
    );
    assert_within("P(wait > 0)", o.p_wait, expected.1, 0.02);
    assert_within("service level", o.service_level, expected.2, 0.012);

    let wrong = erlang::figures(c, per_hour * 1.05, mean_min * 60.0, target_min * 60.0).unwrap();
    assert!(
        !o.mean_wait_min.contains(wrong.mean_wait_secs / 60.0),
        "a 5 % heavier load would pass too"
    );
    assert!(
        !o.p_wait.contains(wrong.probability_of_waiting),
        "a 5 % heavier load would pass too"
    );
}

#[test]
fn one_service_seven_windows_agrees_with_erlang_c() {
    erlang_case(
        include_str!("../../scenarios/mmc-60h-6min-c7.toml"),
        60,
        60.0,
        6.0,
        7,
        15.0,
        (3.683, 0.6138, 0.9496),
    );
}

#[test]
fn one_service_eight_windows_agrees_with_erlang_c() {
    erlang_case(
        include_str!("../../scenarios/mmc-100h-4min-c8.toml"),
        24,
        100.0,
        4.0,
        8,
        10.0,
        (1.598, 0.5327, 0.9810),
    );
}

#[test]
fn two_priority_classes_agree_with_cobham() {
    // Cobham: W_k = C(c, A)·(AHT/c) / ((1 − σ_{k−1})(1 − σ_k)), σ_k the load of classes ≤ k.
    let pw = erlang::probability_of_waiting(7, 6.0);
    let base = pw * 6.0 / 7.0;
    let (s1, s2) = (20.0 / 70.0, 60.0 / 70.0);
    let (w1, w2) = (base / (1.0 - s1), base / ((1.0 - s1) * (1.0 - s2)));
    assert!(
        (w1 - 0.737).abs() < 1e-3 && (w2 - 5.156).abs() < 1e-3,
        "{w1} {w2}"
    );
    let r = run(
        &steady(
            include_str!("../../scenarios/priority-two-classes-c7.toml"),
            HOURS,
        ),
        60,
        &[Policy::Fifo],
    );
    let classes = r.policies[0].by_class.as_ref().unwrap();
    assert_within(
        "priority mean wait (min)",
        classes["priority"].mean_wait_min,
        w1,
        0.05,
    );
    assert_within(
        "normal mean wait (min)",
        classes["normal"].mean_wait_min,
        w2,
        0.1 * w2,
    );
    // Without priority the normal customers would wait as long as everyone: 3.683 min.
    assert!(
        !classes["normal"].mean_wait_min.contains(3.683)
            && !classes["priority"].mean_wait_min.contains(3.683)
    );
    // Both classes together are still M/M/7.
    assert_within(
        "overall mean wait (min)",
        r.policies[0].overall.mean_wait_min,
        3.683,
        0.4,
    );
}

/// The rule on the example hall, on paired differences over enough days that the
/// intervals are about ±0.1 point: no service's level below its FIFO level (the mean paired
/// difference is not negative), and the overall level above target-ratio's (the whole interval
/// of the difference above 0). The policy before the break-aware time left (0.2 points below
/// target-ratio overall) fails the second part; target-ratio fails the first (checked below).
#[test]
fn the_default_policy_beats_target_ratio_and_keeps_every_service_at_its_fifo_level() {
    let r = run(
        &Scenario::from_toml(include_str!("../../scenarios/example.toml")).unwrap(),
        3000,
        &[Policy::Default, Policy::Fifo, Policy::TargetRatio],
    );
    let default = r.policy(Policy::Default.name()).unwrap();
    let vs_fifo = default.vs_fifo.as_ref().unwrap();
    let not_below = |sl: Ci| sl.mean >= 0.0;

    for (code, d) in &vs_fifo.by_service {
        let sl = d.service_level;
        assert!(sl.ci95 < 0.002, "service {code}: interval too wide: {sl:?}");
        assert!(
            not_below(sl),
            "service {code} vs FIFO: {:+.4} ± {:.4}",
            sl.mean,
            sl.ci95
        );
    }
    // Overall it clearly beats FIFO…
    assert!(vs_fifo.overall.service_level.low() > 0.005);
    // …and target-ratio too.
    let sl = default
        .vs_target_ratio
        .as_ref()
        .unwrap()
        .overall
        .service_level;
    assert!(
        sl.low() > 0.0,
        "overall service level vs target-ratio: {:+.4} ± {:.4}",
        sl.mean,
        sl.ci95
    );

    // The same check fails target-ratio: it sacrifices C, the longest target (so the check can
    // fail, and the default policy's design is what passes it).
    let tr = r.policy(Policy::TargetRatio.name()).unwrap();
    let c = tr.vs_fifo.as_ref().unwrap().by_service["C"].service_level;
    assert!(!not_below(c), "{c:?}");
}

/// Issue #12 on the example hall of `docs/simulation.md`: the same days with 30 % of the
/// arrivals booked (15-minute slots, customers about 5 minutes early with a 5-minute spread,
/// 5 % no-shows) and without bookings, day by day on the same customers. Walk-ins keep their
/// service level within 1 point of the hall without bookings (the paired interval lies inside
/// ±1 point), and at least 90 % of the checked-in appointments are called within 10 minutes of
/// being due.
#[test]
fn bookings_cost_walk_ins_under_a_point_and_appointments_are_called_on_time() {
    use super::customers::generate_day;
    use super::day::{Forecasts, simulate_day};
    use super::forward::Forward;

    let text = include_str!("../../scenarios/example.toml");
    let plain = Scenario::from_toml(text).unwrap();
    let booked = Scenario::from_toml(&format!(
        "{text}\n[appointments]\nshare = 0.3\nno_show = 0.05\n"
    ))
    .unwrap();
    let (plain, booked) = (&plain.model, &booked.model);
    let level = |m: &super::scenario::Model,
                 customers: &[super::customers::Customer],
                 outcomes: &[super::day::Outcome],
                 appointments: bool| {
        let (mut n, mut ok) = (0u32, 0u32);
        for (c, o) in customers.iter().zip(outcomes) {
            let Some(wait) = o.wait else { continue };
            if c.appointment.is_some() != appointments
                || !(m.measured.0..m.measured.1).contains(&c.arrive)
            {
                continue;
            }
            let limit = if appointments {
                10 * 60_000
            } else {
                i64::from(m.services[c.service].target_wait_secs) * 1000
            };
            n += 1;
            ok += u32::from(wait <= limit);
        }
        (n, ok)
    };
    let days = 300;
    let mut diffs = Vec::new();
    let (mut called, mut on_time) = (0u32, 0u32);
    let mut forward = Forward::default();
    for day in 0..days {
        let forecasts = Forecasts {
            runs: 0,
            seed: 7,
            day,
        };
        let (a, a_booked) = generate_day(plain, 7, day);
        let (b, b_booked) = generate_day(booked, 7, day);
        assert!(b.iter().any(|c| c.appointment.is_some()));
        let oa = simulate_day(
            plain,
            Policy::Default,
            (&a, &a_booked),
            forecasts,
            &mut forward,
        );
        let ob = simulate_day(
            booked,
            Policy::Default,
            (&b, &b_booked),
            forecasts,
            &mut forward,
        );
        let (n0, ok0) = level(plain, &a, &oa, false);
        let (n1, ok1) = level(booked, &b, &ob, false);
        diffs.push(f64::from(ok1) / f64::from(n1) - f64::from(ok0) / f64::from(n0));
        let (n, ok) = level(booked, &b, &ob, true);
        called += n;
        on_time += ok;
    }
    let d = Ci::over(&diffs);
    assert!(
        d.low() > -0.01 && d.high() < 0.01,
        "walk-ins' service level with bookings − without: {:+.4} ± {:.4}",
        d.mean,
        d.ci95
    );
    assert!(d.ci95 < 0.005, "interval ±{:.4} too wide to tell", d.ci95);
    let share = f64::from(on_time) / f64::from(called);
    assert!(
        share >= 0.9,
        "appointments called within 10 min of being due: {share:.3} of {called}"
    );
}

/// Issue #12: the estimate printed on a walk-in's ticket stays unbiased when 30 % of the hall's
/// customers book (the example hall, 300 days): the forward simulation plays the bookings still
/// to check in forward as appointments (each coming with the chance that a customer not here
/// yet still comes, at a time drawn after now), and the walk-ins at the rest of the rate. A
/// forecast that treated booked customers as walk-ins told them 0.48 minutes too little.
/// The error itself is near what any forecast from the hall's state can reach (docs/simulation.md:
/// 200 runs instead of 12 change it by under 5 %), so it is reported, not asserted.
#[test]
fn the_printed_estimate_stays_unbiased_with_and_without_bookings() {
    let text = include_str!("../../scenarios/example.toml");
    let booked = format!("{text}\n[appointments]\nshare = 0.3\nno_show = 0.05\n");
    for (what, text) in [
        ("without bookings", text),
        ("with bookings", booked.as_str()),
    ] {
        let scenario = Scenario::from_toml(text).unwrap();
        let r = simulate(
            &scenario,
            &Options {
                policies: vec![Policy::Default],
                ..Options::new(300, 1)
            },
        );
        let e = &r.policies[0].estimate;
        assert!(e.customers > 20_000, "{what}: {} customers", e.customers);
        assert!(
            e.simulation_bias_min.abs() <= 0.2,
            "{what}: forecast bias {:+.3} min (MAE {:.2})",
            e.simulation_bias_min,
            e.simulation_mae_min
        );
        // The forecast beats the formula everywhere.
        assert!(
            e.simulation_mae_min < 0.8 * e.formula_mae_min,
            "{what}: {e:?}"
        );
        let peak = e.peak.as_ref().expect("the example hall has a peak");
        assert_eq!((peak.from.as_str(), peak.to.as_str()), ("10:00", "12:00"));
        assert!(peak.accuracy.customers > 0 && peak.accuracy.customers < e.customers);
    }
}

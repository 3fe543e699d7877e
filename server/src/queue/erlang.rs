//! Erlang C: how many windows a service needs so that a share `goal` of customers is called
//! within the target wait, for Poisson arrivals and exponential service (M/M/c).
//!
//! With offered load `A = λ·AHT` and `c` windows: the probability of waiting `C(c, A)`, the
//! service level `P(W ≤ t) = 1 − C·e^{−(c−A)·t/AHT}` and the mean wait `C·AHT/(c − A)`.
//! `C` is computed from the Erlang B recursion, which is stable for any `c` (no factorials).

/// Figures for `c` windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErlangC {
    pub windows: u32,
    pub offered_load: f64,
    pub probability_of_waiting: f64,
    pub service_level: f64,
    pub mean_wait_secs: f64,
    pub occupancy: f64,
}

/// Why the question has no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ErlangError {
    #[error("{0} must be a finite number greater than zero")]
    NotPositive(&'static str),
    #[error("goal must be between 0 and 1 (exclusive of 1)")]
    BadGoal,
    #[error("the load needs more than {0} windows")]
    TooLarge(u32),
}

/// Erlang C probability of waiting with `c` windows and load `a` (requires `c > a`).
pub fn probability_of_waiting(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let c = f64::from(c);
    c * b / (c - a * (1.0 - b))
}

/// The figures for exactly `c` windows, or `None` when `c` cannot keep up (`c ≤ A`).
pub fn figures(
    c: u32,
    arrivals_per_hour: f64,
    mean_service_secs: f64,
    target_wait_secs: f64,
) -> Option<ErlangC> {
    let a = arrivals_per_hour / 3600.0 * mean_service_secs;
    if f64::from(c) <= a {
        return None;
    }
    let pw = probability_of_waiting(c, a);
    let spare = f64::from(c) - a;
    Some(ErlangC {
        windows: c,
        offered_load: a,
        probability_of_waiting: pw,
        service_level: 1.0 - pw * (-spare * target_wait_secs / mean_service_secs).exp(),
        mean_wait_secs: pw * mean_service_secs / spare,
        occupancy: a / f64::from(c),
    })
}

/// The fewest windows whose service level reaches `goal`: an exact search upward from the
/// smallest stable count, so it can never stop one window late.
pub fn windows_needed(
    arrivals_per_hour: f64,
    mean_service_secs: f64,
    target_wait_secs: f64,
    goal: f64,
) -> Result<ErlangC, ErlangError> {
    for (name, v) in [
        ("arrivals_per_hour", arrivals_per_hour),
        ("mean_service_secs", mean_service_secs),
    ] {
        if !v.is_finite() || v <= 0.0 {
            return Err(ErlangError::NotPositive(name));
        }
    }
    if !target_wait_secs.is_finite() || target_wait_secs < 0.0 {
        return Err(ErlangError::NotPositive("target_wait_secs"));
    }
    if !goal.is_finite() || goal <= 0.0 || goal >= 1.0 {
        return Err(ErlangError::BadGoal);
    }
    const MAX: u32 = 10_000;
    let a = arrivals_per_hour / 3600.0 * mean_service_secs;
    let mut c = (a.floor() as u32).saturating_add(1);
    while c <= MAX {
        if let Some(f) = figures(c, arrivals_per_hour, mean_service_secs, target_wait_secs)
            && f.service_level >= goal
        {
            return Ok(f);
        }
        c += 1;
    }
    Err(ErlangError::TooLarge(MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_case_needs_seven_windows() {
        // 60/h, 6 min, 15 min target, 80 % goal (issue #6 reference).
        let f = windows_needed(60.0, 360.0, 900.0, 0.8).unwrap();
        assert_eq!(f.windows, 7);
        assert!(
            (f.service_level - 0.9496).abs() < 5e-5,
            "{}",
            f.service_level
        );
        assert!(
            (f.probability_of_waiting - 0.6138).abs() < 5e-5,
            "{}",
            f.probability_of_waiting
        );
        assert!(
            (f.mean_wait_secs / 60.0 - 3.683).abs() < 5e-4,
            "{}",
            f.mean_wait_secs
        );
    }

    #[test]
    fn the_second_reference_case() {
        let f = figures(8, 100.0, 240.0, 600.0).unwrap();
        assert!((f.probability_of_waiting - 0.5327).abs() < 5e-4);
        assert!((f.service_level - 0.9810).abs() < 5e-4);
        assert!((f.mean_wait_secs / 60.0 - 1.598).abs() < 5e-3);
    }

    #[test]
    fn service_level_follows_the_closed_formula() {
        let (lambda, aht, t) = (60.0, 360.0, 900.0);
        let f = figures(7, lambda, aht, t).unwrap();
        let expected = 1.0 - f.probability_of_waiting * (-(7.0 - 6.0) * t / aht).exp();
        assert!((f.service_level - expected).abs() < 1e-12);
    }

    #[test]
    fn the_search_never_stops_one_window_late() {
        for (lambda, aht, t, goal) in [
            (60.0, 360.0, 900.0, 0.8),
            (100.0, 240.0, 600.0, 0.95),
            (10.0, 600.0, 60.0, 0.5),
            (500.0, 300.0, 20.0, 0.9),
        ] {
            let f = windows_needed(lambda, aht, t, goal).unwrap();
            assert!(f.service_level >= goal);
            if let Some(fewer) = figures(f.windows - 1, lambda, aht, t) {
                assert!(
                    fewer.service_level < goal,
                    "{} windows would already do",
                    f.windows - 1
                );
            }
        }
    }

    #[test]
    fn unstable_and_invalid_inputs_are_refused() {
        assert!(figures(6, 60.0, 360.0, 900.0).is_none());
        assert_eq!(
            windows_needed(0.0, 360.0, 900.0, 0.8),
            Err(ErlangError::NotPositive("arrivals_per_hour"))
        );
        assert_eq!(
            windows_needed(60.0, 360.0, 900.0, 1.0),
            Err(ErlangError::BadGoal)
        );
        assert_eq!(
            windows_needed(f64::NAN, 360.0, 900.0, 0.8),
            Err(ErlangError::NotPositive("arrivals_per_hour"))
        );
    }
}

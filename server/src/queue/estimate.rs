//! The wait a new ticket is told: people ahead and seconds.
//!
//! This is the cheap formula; it is stored on every ticket so its accuracy can be measured
//! against the wait that actually happened. It treats the windows that serve the service as a
//! pool: the first `idle` people are called at once, after that one person leaves the line every
//! `mean_service / capacity` seconds (exact in expectation for exponential service, M/M/c).
//!
//! A window that also serves other services gives this service only the share of its time that
//! this service's line is of all the lines it serves.

/// What the estimate is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct EstimateInput {
    /// Tickets that will be called before the new one.
    pub ahead: u32,
    /// For each open window serving the service: (is it idle now, this service's share of its work).
    pub windows: Vec<(bool, f64)>,
    /// Recent mean service time of the service, seconds.
    pub mean_service_secs: f64,
}

/// Expected seconds until the new ticket is called.
pub fn estimate_wait_secs(input: &EstimateInput) -> u64 {
    let idle = input.windows.iter().filter(|(idle, _)| *idle).count() as f64;
    let capacity: f64 = input
        .windows
        .iter()
        .map(|(_, share)| share.clamp(0.0, 1.0))
        .sum();
    // No open window: assume one will open; the hall is staffed for each service it offers.
    let capacity = if capacity <= 0.0 { 1.0 } else { capacity };
    let in_line = f64::from(input.ahead) + 1.0 - idle;
    if in_line <= 0.0 {
        return 0;
    }
    let secs = in_line * input.mean_service_secs.max(0.0) / capacity;
    secs.round().clamp(0.0, 7.0 * 86_400.0) as u64
}

/// The share of a window's work that service `s` is, from the lines it serves:
/// `waiting_s / Σ waiting` (the new ticket counted), 1 when it serves only this service.
pub fn window_share(waiting_this: u32, waiting_all_served: u32) -> f64 {
    if waiting_all_served == 0 {
        1.0
    } else {
        f64::from(waiting_this) / f64::from(waiting_all_served)
    }
}

/// A range shown to customers, "about 10–15 min": the estimate rounded into 5-minute steps,
/// never a bare number of seconds.
pub fn range_minutes(secs: u64) -> (u64, u64) {
    let mins = secs.div_ceil(60);
    if mins < 5 {
        return (0, 5);
    }
    let low = mins / 5 * 5;
    (low, low + 5 + mins / 20 * 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_window_means_no_wait() {
        let e = EstimateInput {
            ahead: 0,
            windows: vec![(true, 1.0), (false, 1.0)],
            mean_service_secs: 300.0,
        };
        assert_eq!(estimate_wait_secs(&e), 0);
    }

    #[test]
    fn busy_windows_share_the_line() {
        // 5 ahead, 2 busy windows only for this service, 6 min each: (5+1)·360/2 = 1080 s.
        let e = EstimateInput {
            ahead: 5,
            windows: vec![(false, 1.0), (false, 1.0)],
            mean_service_secs: 360.0,
        };
        assert_eq!(estimate_wait_secs(&e), 1080);
    }

    #[test]
    fn a_shared_window_counts_for_its_share() {
        let e = EstimateInput {
            ahead: 3,
            windows: vec![(false, 0.5)],
            mean_service_secs: 100.0,
        };
        assert_eq!(estimate_wait_secs(&e), 800);
        assert_eq!(window_share(2, 8), 0.25);
        assert_eq!(window_share(0, 0), 1.0);
    }

    #[test]
    fn no_open_window_still_gives_an_estimate() {
        let e = EstimateInput {
            ahead: 2,
            windows: vec![],
            mean_service_secs: 120.0,
        };
        assert_eq!(estimate_wait_secs(&e), 360);
    }

    #[test]
    fn ranges_are_in_minutes_and_grow_with_the_wait() {
        assert_eq!(range_minutes(0), (0, 5));
        assert_eq!(range_minutes(11 * 60), (10, 15));
        assert_eq!(range_minutes(45 * 60), (45, 60));
    }
}

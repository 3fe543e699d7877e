//! The wait a new ticket is told: people ahead and seconds.
//!
//! This is the cheap formula; it is stored on every ticket so its accuracy can be measured
//! against the wait that actually happened. It treats the windows that serve the service as a
//! pool: the first `idle` people are called at once, after that one person leaves the line every
//! `mean_service / capacity` seconds (exact in expectation for exponential service, M/M/c).
//!
//! A window that also serves other services gives this service only the share of its time that
//! this service's line is of all the lines it serves.
//!
//! [`ForecastTable`] is the other source: expected waits by people ahead from forward
//! simulation ([`crate::forecast`] computes it), preferred while it is fresh.

use chrono::{DateTime, Utc};
use qhall_shared::ServiceCode;

/// A table older than this is not used.
pub const MAX_AGE: chrono::TimeDelta = chrono::TimeDelta::seconds(30);

/// One service's line.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LineForecast {
    pub service: ServiceCode,
    /// Entry `k`: expected seconds until the ticket with `k` ahead is called (the last entry:
    /// a normal ticket issued now).
    pub waits_secs: Vec<f64>,
    /// The same with a priority ticket issued now, at its place after the priority customers
    /// already waiting (for services with a priority line): entry `k` is its wait with `k`
    /// priority customers ahead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_waits_secs: Option<Vec<f64>>,
    /// Seconds each further ticket adds beyond the end of `waits_secs`.
    pub per_extra_secs: f64,
}

/// A branch's forecast at one instant (shared between servers on PostgreSQL as its JSON: a
/// server reading it fills in its own policy's name, which is the same everywhere).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ForecastTable {
    pub computed_at: DateTime<Utc>,
    /// The branch's stream seq it was computed after.
    pub seq: u64,
    #[serde(skip_deserializing)]
    pub policy: &'static str,
    pub runs: u32,
    pub lines: Vec<LineForecast>,
    /// Milliseconds the computation took.
    pub compute_ms: f64,
}

impl ForecastTable {
    /// Expected seconds for a ticket of `service` with `ahead` ahead (of its service; for a
    /// priority ticket, priority customers of its service), at `now`; `None` when this table
    /// cannot say (too old, or no forecast for the service).
    pub fn wait_secs(
        &self,
        service: ServiceCode,
        priority: bool,
        ahead: u32,
        now: DateTime<Utc>,
    ) -> Option<u64> {
        let (waits, per_extra) = self.waits(service, priority, now)?;
        let last = waits.len().checked_sub(1)?;
        let k = ahead as usize;
        let secs = match waits.get(k) {
            Some(w) => *w,
            None => waits[last] + (k - last) as f64 * per_extra,
        };
        secs.is_finite().then(|| secs.max(0.0).round() as u64)
    }

    /// What [`ForecastTable::wait_secs`] reads for a ticket of `service` and class at `now`:
    /// the waits by position, and the seconds each position beyond them adds.
    pub fn waits(
        &self,
        service: ServiceCode,
        priority: bool,
        now: DateTime<Utc>,
    ) -> Option<(&[f64], f64)> {
        let age = now - self.computed_at;
        if age > MAX_AGE || age < -MAX_AGE {
            return None;
        }
        let line = self.lines.iter().find(|l| l.service == service)?;
        let waits = match (&line.priority_waits_secs, priority) {
            (Some(p), true) => p,
            _ => &line.waits_secs,
        };
        Some((waits, line.per_extra_secs))
    }
}

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

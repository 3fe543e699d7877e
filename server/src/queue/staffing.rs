//! The staffing advisor's arithmetic: from a history of whole weeks, the arrivals per hour of
//! the week, the windows open per hour of the week, and the windows Erlang C says are needed.
//!
//! Every grid is 7 × 24: Monday first, branch-local hours. A cell holds the mean over the
//! weeks of the history (each weekday occurs once per week, so "per week" is "per that hour").

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

use super::erlang::{self, ErlangError};
use super::schedule::local_instant;

/// Seven days (Monday first) of 24 hours.
pub type Grid = [[f64; 24]; 7];

/// An empty grid.
pub fn grid() -> Grid {
    [[0.0; 24]; 7]
}

/// Arrivals per hour of the week: each instant counts in its branch-local weekday and hour,
/// divided by the number of weeks.
pub fn arrivals(tz: Tz, instants: impl IntoIterator<Item = DateTime<Utc>>, weeks: u32) -> Grid {
    let mut g = grid();
    let w = f64::from(weeks.max(1));
    for at in instants {
        let local = at.with_timezone(&tz);
        let d = local.weekday().num_days_from_monday() as usize;
        g[d][local.hour() as usize] += 1.0 / w;
    }
    g
}

/// The intervals each window was open (signed in and not paused) within `[from, to)`, from
/// its log in time order (a window's entry before `from` gives its state when `from` began).
/// `sign_in` and `resume` open a window; `pause` and `sign_out` close it.
pub fn open_intervals<'a>(
    log: impl IntoIterator<Item = (u32, &'a str, DateTime<Utc>)>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(u32, DateTime<Utc>, DateTime<Utc>)> {
    let mut open_since: std::collections::BTreeMap<u32, DateTime<Utc>> = Default::default();
    let mut out = Vec::new();
    let mut close = |w: u32, start: DateTime<Utc>, end: DateTime<Utc>| {
        let (s, e) = (start.max(from), end.min(to));
        if s < e {
            out.push((w, s, e));
        }
    };
    for (w, kind, at) in log {
        match kind {
            "sign_in" | "resume" => {
                open_since.entry(w).or_insert(at);
            }
            "pause" | "sign_out" => {
                if let Some(start) = open_since.remove(&w) {
                    close(w, start, at);
                }
            }
            _ => {}
        }
    }
    for (w, start) in open_since {
        close(w, start, to);
    }
    out
}

/// Windows open per hour of the week: over the `weeks × 7` local days from `first`, the
/// open time of `intervals` in each local hour, in hours, divided by the number of weeks.
/// (So 1.5 means: on average one window all hour and another half of it.)
pub fn open_windows(
    tz: Tz,
    first: NaiveDate,
    weeks: u32,
    intervals: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Grid {
    let mut g = grid();
    let w = f64::from(weeks.max(1));
    for day in 0..i64::from(weeks) * 7 {
        let date = first + Duration::days(day);
        let d = date.weekday().num_days_from_monday() as usize;
        for h in 0..24u16 {
            let (s, e) = (
                local_instant(tz, date, h * 60),
                local_instant(tz, date, (h + 1) * 60),
            );
            let secs: i64 = intervals
                .iter()
                .map(|(a, b)| ((*b).min(e) - (*a).max(s)).num_seconds().max(0))
                .sum();
            g[d][usize::from(h)] += secs as f64 / 3600.0 / w;
        }
    }
    g
}

/// Windows needed for `arrivals_per_hour` (none when nobody comes).
pub fn needed(
    arrivals_per_hour: f64,
    mean_service_secs: f64,
    target_wait_secs: f64,
    goal: f64,
) -> Result<u32, ErlangError> {
    if arrivals_per_hour <= 0.0 {
        return Ok(0);
    }
    erlang::windows_needed(
        arrivals_per_hour,
        mean_service_secs.max(1.0),
        target_wait_secs,
        goal,
    )
    .map(|f| f.windows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn arrivals_count_in_the_local_hour_and_average_over_weeks() {
        // 2026-11-16 is a Monday; 02:30Z is 10:30 in Shanghai.
        let g = arrivals(
            chrono_tz::Asia::Shanghai,
            [t("2026-11-16T02:30:00Z"), t("2026-11-23T02:59:59Z")],
            2,
        );
        assert_eq!(g[0][10], 1.0);
        assert_eq!(g.iter().flatten().sum::<f64>(), 1.0);
    }

    #[test]
    fn a_pause_closes_a_window_and_a_resume_opens_it_again() {
        let from = t("2026-11-16T00:00:00Z");
        let to = t("2026-11-17T00:00:00Z");
        let log = [
            (1, "sign_in", t("2026-11-15T23:00:00Z")), // before the period: open from `from`
            (1, "pause", t("2026-11-16T01:00:00Z")),
            (1, "resume", t("2026-11-16T01:30:00Z")),
            (2, "sign_in", t("2026-11-16T10:00:00Z")), // never signs out: open until `to`
            (1, "sign_out", t("2026-11-16T02:00:00Z")),
        ];
        let iv = open_intervals(log.iter().map(|(w, k, at)| (*w, *k, *at)), from, to);
        assert_eq!(
            iv,
            vec![
                (1, from, t("2026-11-16T01:00:00Z")),
                (1, t("2026-11-16T01:30:00Z"), t("2026-11-16T02:00:00Z")),
                (2, t("2026-11-16T10:00:00Z"), to),
            ]
        );
    }

    #[test]
    fn open_time_is_spread_over_the_local_hours() {
        let tz = chrono_tz::Asia::Shanghai;
        let first = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(); // Monday
        // 09:30–11:00 and 10:00–10:30 local on Monday.
        let iv = [
            (t("2026-11-16T01:30:00Z"), t("2026-11-16T03:00:00Z")),
            (t("2026-11-16T02:00:00Z"), t("2026-11-16T02:30:00Z")),
        ];
        let g = open_windows(tz, first, 1, &iv);
        assert_eq!(g[0][9], 0.5);
        assert_eq!(g[0][10], 1.5);
        assert_eq!(g[0][11], 0.0);
        assert_eq!(g[1][10], 0.0);
    }

    #[test]
    fn nobody_arriving_needs_no_window() {
        assert_eq!(needed(0.0, 300.0, 900.0, 0.8), Ok(0));
        assert_eq!(needed(60.0, 360.0, 900.0, 0.8), Ok(7));
    }
}

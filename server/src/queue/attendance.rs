//! Attendance: per person per branch-local day, the first sign-in against opening time, the
//! last sign-out against closing time, and the pauses — each flagged against the branch's
//! tolerances. Computed from the window log (sign-in, sign-out, pause, resume).
//!
//! - A *pause* is time away from the post while the hall is open: a window paused (until it
//!   is resumed or its person signs out), and a person signed out who signs in again later that
//!   day. Only the part inside opening periods counts, so lunch is never a pause, and a pause
//!   that runs into lunch counts only its open minutes. Back-to-back stretches (pause, then
//!   sign-out, then sign-in) are one pause.
//! - *Late*: the first sign-in is more than `late_after_mins` after the day's first opening.
//! - *Early*: the last sign-out is more than `early_leave_mins` before the day's last closing.
//!   Nobody signed out (still at the window) is never early.
//! - *Long pause*: one pause longer than `long_pause_mins`.
//! - *Signed out by closing*: the last sign-out was the hall's, a grace after closing
//!   ([`crate::hall::closing`]): neither early nor the person's own.
//!
//! Events after a sign-out are attributed to the person signed in to that window, so a manager
//! signing someone out counts for the person, not the manager.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::schedule::{Schedule, local_date, local_instant};

/// The branch's tolerances, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tolerances {
    pub late_after_mins: u32,
    pub early_leave_mins: u32,
    pub long_pause_mins: u32,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            late_after_mins: 5,
            early_leave_mins: 5,
            long_pause_mins: 30,
        }
    }
}

/// The kind of a window log line: the window's step ([`super::window`]).
pub use super::window::WindowStep as LogKind;

/// One line of the window log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub window: i64,
    /// Who did it (for a sign-in, who signed in).
    pub user: Option<i64>,
    pub kind: LogKind,
    pub at: DateTime<Utc>,
    /// A sign-out made by closing the day, not by the person.
    pub by_closing: bool,
}

/// One person's day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayRecord {
    pub date: NaiveDate,
    pub user_id: i64,
    /// The day's first opening and last closing (none: closed that day, or open around the
    /// clock — then nobody is late or early).
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub first_sign_in: Option<DateTime<Utc>>,
    /// None while still signed in at the end of the day.
    pub last_sign_out: Option<DateTime<Utc>>,
    /// Whole minutes after opening (0 when on time or earlier).
    pub late_mins: i64,
    /// Whole minutes before closing (0 when at or after closing, or not signed out).
    pub early_mins: i64,
    pub pauses: u32,
    pub pause_total_mins: i64,
    pub pause_longest_mins: i64,
    pub late: bool,
    pub early: bool,
    pub long_pause: bool,
    /// The day's last sign-out was made by closing, not by the person.
    pub signed_out_by_closing: bool,
}

/// What happened when, to one person, and whether closing did it.
type Stamp = (LogKind, DateTime<Utc>, bool);

/// Per person and day, in date then user order. `log` must be in time order; `now` ends pauses
/// still going on.
pub fn days(
    schedule: &Schedule,
    log: &[LogEntry],
    tolerances: Tolerances,
    now: DateTime<Utc>,
) -> Vec<DayRecord> {
    // Who is at each window, so that later entries there are theirs.
    let mut at_window: BTreeMap<i64, i64> = BTreeMap::new();
    let mut per: BTreeMap<(NaiveDate, i64), Vec<Stamp>> = BTreeMap::new();
    for e in log {
        let person = match e.kind {
            LogKind::SignIn => {
                let Some(u) = e.user else { continue };
                at_window.insert(e.window, u);
                u
            }
            _ => match at_window.get(&e.window).copied().or(e.user) {
                Some(u) => u,
                None => continue,
            },
        };
        if e.kind == LogKind::SignOut {
            at_window.remove(&e.window);
        }
        per.entry((local_date(schedule.tz, e.at), person))
            .or_default()
            .push((e.kind, e.at, e.by_closing));
    }
    per.into_iter()
        .map(|((date, user), events)| day(schedule, date, user, &events, tolerances, now))
        .collect()
}

fn minutes(d: chrono::Duration) -> i64 {
    d.num_seconds().max(0) / 60
}

fn day(
    schedule: &Schedule,
    date: NaiveDate,
    user_id: i64,
    events: &[Stamp],
    tol: Tolerances,
    now: DateTime<Utc>,
) -> DayRecord {
    let tz = schedule.tz;
    let mut periods: Vec<(DateTime<Utc>, DateTime<Utc>)> = schedule
        .periods_on(date)
        .iter()
        .filter(|(s, e)| s < e && *e <= 1440)
        .map(|&(s, e)| (local_instant(tz, date, s), local_instant(tz, date, e)))
        .collect();
    periods.sort();
    // A hall open around the clock has no opening or closing to be late for.
    let around_the_clock = schedule
        .periods_on(date)
        .iter()
        .any(|&(s, e)| s == 0 && e >= 1440);
    let opens_at = periods.first().map(|p| p.0).filter(|_| !around_the_clock);
    let closes_at = periods.last().map(|p| p.1).filter(|_| !around_the_clock);
    let day_end = local_instant(tz, date, 1440).min(now);

    let (mut first_in, mut last_out) = (None, None);
    let mut by_closing = false;
    let mut signed_in = false;
    let mut paused_since: Option<DateTime<Utc>> = None;
    let mut out_since: Option<DateTime<Utc>> = None;
    let mut away: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for &(kind, at, closing) in events {
        match kind {
            LogKind::SignIn => {
                if let Some(s) = out_since.take() {
                    away.push((s, at));
                }
                first_in.get_or_insert(at);
                signed_in = true;
                paused_since = None;
            }
            LogKind::Pause => {
                paused_since.get_or_insert(at);
            }
            LogKind::Resume => {
                if let Some(s) = paused_since.take() {
                    away.push((s, at));
                }
            }
            LogKind::SignOut => {
                if let Some(s) = paused_since.take() {
                    away.push((s, at));
                }
                signed_in = false;
                last_out = Some(at);
                by_closing = closing;
                out_since = Some(at);
            }
        }
    }
    if let Some(s) = paused_since {
        let end = periods.last().map_or(day_end, |p| p.1).min(day_end);
        away.push((s, end.max(s)));
    }
    if signed_in {
        last_out = None;
    }
    // Join back-to-back stretches, then count only their open minutes.
    away.sort();
    let mut joined: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for (s, e) in away {
        match joined.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => joined.push((s, e)),
        }
    }
    let lengths: Vec<i64> = joined
        .iter()
        .map(|&(s, e)| {
            periods
                .iter()
                .map(|&(ps, pe)| (e.min(pe) - s.max(ps)).num_seconds().max(0))
                .sum::<i64>()
        })
        .filter(|secs| *secs > 0)
        .collect();
    let longest_secs = lengths.iter().copied().max().unwrap_or(0);
    let late_secs = match (first_in, opens_at) {
        (Some(i), Some(o)) => (i - o).num_seconds().max(0),
        _ => 0,
    };
    let early_secs = match (last_out, closes_at) {
        (Some(l), Some(c)) if !by_closing => (c - l).num_seconds().max(0),
        _ => 0,
    };
    DayRecord {
        date,
        user_id,
        opens_at,
        closes_at,
        first_sign_in: first_in,
        last_sign_out: last_out,
        late_mins: late_secs / 60,
        early_mins: early_secs / 60,
        pauses: lengths.len() as u32,
        pause_total_mins: minutes(chrono::Duration::seconds(lengths.iter().sum())),
        pause_longest_mins: longest_secs / 60,
        late: late_secs > i64::from(tol.late_after_mins) * 60,
        early: early_secs > i64::from(tol.early_leave_mins) * 60,
        long_pause: longest_secs > i64::from(tol.long_pause_mins) * 60,
        signed_out_by_closing: by_closing && last_out.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::schedule::Weekly;

    fn office() -> Schedule {
        Schedule {
            tz: chrono_tz::Asia::Shanghai,
            weekly: Weekly::weekdays(&[(540, 720), (780, 1020)]),
            exceptions: Vec::new(),
            cutoff_mins: 0,
        }
    }

    /// Monday 2 March 2026, local `hh:mm` in Shanghai.
    fn t(hhmm: &str) -> DateTime<Utc> {
        let (h, m) = hhmm.split_once(':').unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        local_instant(
            chrono_tz::Asia::Shanghai,
            d,
            h.parse::<u16>().unwrap() * 60 + m.parse::<u16>().unwrap(),
        )
    }

    fn e(window: i64, user: i64, kind: LogKind, at: &str) -> LogEntry {
        LogEntry {
            window,
            user: Some(user),
            kind,
            at: t(at),
            by_closing: false,
        }
    }

    #[test]
    fn a_late_start_two_pauses_and_an_early_leave_are_measured_in_minutes() {
        use LogKind::*;
        let log = [
            e(1, 7, SignIn, "09:12"),
            e(1, 7, Pause, "10:00"),
            e(1, 7, Resume, "10:10"),
            // Over lunch: only 11:50–12:00 and 13:00–13:25 count.
            e(1, 7, Pause, "11:50"),
            e(1, 7, Resume, "13:25"),
            e(1, 7, SignOut, "16:40"),
        ];
        let d = &days(&office(), &log, Tolerances::default(), t("23:00"))[0];
        assert_eq!((d.late_mins, d.early_mins), (12, 20));
        assert_eq!(
            (d.pauses, d.pause_total_mins, d.pause_longest_mins),
            (2, 45, 35)
        );
        assert!(d.late && d.early && d.long_pause);
    }

    #[test]
    fn signing_out_for_lunch_is_not_a_pause_and_a_manager_sign_out_counts_for_the_person() {
        use LogKind::*;
        let log = [
            e(2, 8, SignIn, "08:55"),
            e(2, 8, SignOut, "12:00"),
            e(2, 8, SignIn, "13:00"),
            e(2, 99, SignOut, "17:02"), // the manager closes the window
        ];
        let d = days(&office(), &log, Tolerances::default(), t("23:00"));
        assert_eq!(d.len(), 1);
        let d = &d[0];
        assert_eq!(d.user_id, 8);
        assert_eq!((d.late_mins, d.early_mins, d.pauses), (0, 0, 0));
        assert!(!d.late && !d.early && !d.long_pause);
    }

    #[test]
    fn tolerances_are_exclusive_and_a_pause_still_going_ends_now() {
        use LogKind::*;
        let log = [e(1, 7, SignIn, "09:05"), e(1, 7, Pause, "15:00")];
        let d = &days(&office(), &log, Tolerances::default(), t("15:30"))[0];
        assert_eq!(d.late_mins, 5);
        assert!(!d.late, "exactly the tolerance is on time");
        assert_eq!(d.pause_longest_mins, 30);
        assert!(!d.long_pause);
        assert_eq!(d.last_sign_out, None);
    }

    #[test]
    fn a_sign_out_by_closing_is_said_so_and_is_never_early() {
        use LogKind::*;
        let mut closing = e(3, 9, SignOut, "17:30");
        closing.user = None;
        closing.by_closing = true;
        let log = [e(3, 9, SignIn, "09:00"), closing.clone()];
        let d = &days(&office(), &log, Tolerances::default(), t("23:00"))[0];
        assert_eq!(d.user_id, 9);
        assert!(d.signed_out_by_closing);
        assert_eq!((d.early_mins, d.early), (0, false));
        // Signing in again after the hall's sign-out: the person's own last sign-out counts.
        let log = [
            e(3, 9, SignIn, "09:00"),
            closing,
            e(3, 9, SignIn, "17:40"),
            e(3, 9, SignOut, "17:45"),
        ];
        let d = &days(&office(), &log, Tolerances::default(), t("23:00"))[0];
        assert!(!d.signed_out_by_closing);
    }

    #[test]
    fn nobody_is_late_in_a_hall_open_around_the_clock() {
        use LogKind::*;
        let hall = Schedule {
            weekly: Weekly::around_the_clock(),
            ..office()
        };
        let log = [e(1, 7, SignIn, "10:00"), e(1, 7, SignOut, "11:00")];
        let d = &days(&hall, &log, Tolerances::default(), t("23:00"))[0];
        assert_eq!((d.opens_at, d.late, d.early), (None, false, false));
    }
}

//! The staffing advisor's arithmetic: from a history of whole weeks, the arrivals per hour of
//! the week, the windows open per hour of the week, and the windows Erlang C says are needed.
//!
//! Every grid is 7 × 24: Monday first, branch-local hours. A cell holds the mean over the
//! weeks of the history (each weekday occurs once per week, so "per week" is "per that hour").
//!
//! **The coming week's people** (issue #14): per opening hour of a coming day, who can open a
//! window ([`cover`]). The rule: a person counts for an hour when their shift that day covers at
//! least half of the minutes the hall is open in that hour (30 of a whole open hour); they are
//! *on leave* for it when approved leave leaves them less than that half. So a shift from 09:15
//! counts for 09:00–10:00, one from 09:45 does not, and leave until 11:40 takes a person out of
//! 11:00–12:00. Half rather than the whole hour, because a shift that starts or ends on the half
//! hour still puts the person at a window for most of the customers of that hour; any minute
//! rather than half would count a person who leaves at 10:05 for the whole ten o'clock hour.
//! Only minutes the hall is open count, so a period closing at 14:30 makes 14:00–15:00 a
//! half-hour, and 15 minutes of it is half.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

use super::attendance::{Leave, Roster};
use super::erlang::{self, ErlangError};
use super::schedule::{Period, local_instant};

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

/// One opening hour of a coming day: the people on shift for it, and how many of them approved
/// leave takes out (see the module doc for the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cover {
    /// Branch-local clock hour, 0–23.
    pub hour: u8,
    /// The minutes of the hour the hall is open (60 unless a period starts or ends inside it).
    pub open_mins: u16,
    /// People whose shift covers at least half of `open_mins`.
    pub rostered: u32,
    /// Of `rostered`, those whom approved leave leaves less than half.
    pub on_leave: u32,
}

impl Cover {
    /// The people who can open a window: rostered and not on leave.
    pub fn available(&self) -> u32 {
        self.rostered - self.on_leave
    }
}

/// The minutes of a day, one flag each.
type Minutes = [bool; 1440];

fn mark(m: &mut Minutes, from: u16, to: u16, on: bool) {
    let (from, to) = (usize::from(from.min(1440)), usize::from(to.min(1440)));
    if from < to {
        m[from..to].fill(on);
    }
}

/// The minutes of `hour` flagged in `m`.
fn in_hour(m: &Minutes, hour: usize) -> u16 {
    m[hour * 60..hour * 60 + 60].iter().filter(|x| **x).count() as u16
}

/// Per opening hour of `date` (an hour with at least one minute inside `periods`), in hour
/// order: who of `people` is on shift for it, and who of them `leave` (approved leave; a part
/// of a day, or whole days) takes out. People without a roster are not passed in: the hall has
/// not said they work that day.
pub fn cover<'a>(
    periods: &[Period],
    date: NaiveDate,
    people: impl IntoIterator<Item = (i64, &'a Roster)>,
    leave: &[Leave],
) -> Vec<Cover> {
    let mut open: Minutes = [false; 1440];
    for &(a, b) in periods {
        mark(&mut open, a, b, true);
    }
    let mut out: Vec<Cover> = (0..24)
        .map(|h| Cover {
            hour: h as u8,
            open_mins: in_hour(&open, h),
            rostered: 0,
            on_leave: 0,
        })
        .filter(|c| c.open_mins > 0)
        .collect();
    for (user, roster) in people {
        let Some(shift) = roster.on(date) else {
            continue;
        };
        let mut there: Minutes = [false; 1440];
        mark(&mut there, shift.start_min, shift.end_min, true);
        for (o, t) in open.iter().zip(there.iter_mut()) {
            *t &= *o;
        }
        let mut left = there;
        for l in leave
            .iter()
            .filter(|l| l.user_id == user && l.from <= date && date <= l.to)
        {
            let (a, b) = l.part.unwrap_or((0, 1440));
            mark(&mut left, a, b, false);
        }
        for c in &mut out {
            let h = usize::from(c.hour);
            // At least half: twice the minutes there reach the open minutes.
            let counts = |m: &Minutes| 2 * in_hour(m, h) >= c.open_mins;
            if counts(&there) {
                c.rostered += 1;
                if !counts(&left) {
                    c.on_leave += 1;
                }
            }
        }
    }
    out
}

/// How many windows an hour is short: `needed − available` when more are needed.
pub fn shortfall(needed: u32, available: u32) -> u32 {
    needed.saturating_sub(available)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::attendance::Shift;

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

    fn roster(start: u16, end: u16) -> Roster {
        Roster {
            weekly: [Shift::new(start, end); 7],
            ..Roster::default()
        }
    }

    fn leave(user: i64, from: NaiveDate, to: NaiveDate, part: Option<(u16, u16)>) -> Leave {
        Leave {
            user_id: user,
            from,
            to,
            part,
        }
    }

    /// (hour, rostered, on_leave) of each opening hour.
    fn counts(c: &[Cover]) -> Vec<(u8, u32, u32)> {
        c.iter().map(|c| (c.hour, c.rostered, c.on_leave)).collect()
    }

    const MON: NaiveDate = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();

    #[test]
    fn a_person_counts_for_an_hour_their_shift_covers_at_least_half_of() {
        // Open 09:00–12:00. 1: 09:15–11:30 (45, 60, 30 minutes); 2: 09:45–10:31 (15, 31).
        let people = [(1, roster(555, 690)), (2, roster(585, 631))];
        let c = cover(&[(540, 720)], MON, people.iter().map(|(u, r)| (*u, r)), &[]);
        assert_eq!(counts(&c), [(9, 1, 0), (10, 2, 0), (11, 1, 0)]);
        assert!(c.iter().all(|c| c.open_mins == 60));
        assert_eq!(c[1].available(), 2);
    }

    #[test]
    fn only_opening_hours_are_listed_and_half_is_of_the_open_minutes() {
        // Open 09:00–12:00 and 13:00–14:30; a shift 09:00–14:15 covers 15 of the 30 open
        // minutes of 14:00–15:00: half. Lunch (12:00–13:00) is no opening hour, and the hours
        // outside the periods are not listed even though the shift spans them.
        let r = roster(540, 855);
        let c = cover(&[(540, 720), (780, 870)], MON, [(1, &r)], &[]);
        assert_eq!(
            counts(&c),
            [(9, 1, 0), (10, 1, 0), (11, 1, 0), (13, 1, 0), (14, 1, 0)]
        );
        assert_eq!(c[4].open_mins, 30);
        // Ending at 14:14 is less than half of it.
        let r = roster(540, 854);
        let c = cover(&[(540, 720), (780, 870)], MON, [(1, &r)], &[]);
        assert_eq!(c[4].rostered, 0);
        // A closed day has no hours.
        assert!(cover(&[], MON, [(1, &r)], &[]).is_empty());
    }

    #[test]
    fn approved_leave_takes_a_person_out_of_the_hours_it_leaves_under_half() {
        let tue = MON.succ_opt().unwrap();
        let people = [
            (1, roster(540, 720)),
            (2, roster(540, 720)),
            (3, roster(540, 720)),
        ];
        let away = [
            // 1: 10:00–11:40 on Monday: out of 10:00–11:00, and of 11:00–12:00 (20 minutes left).
            leave(1, MON, MON, Some((600, 700))),
            // 2: Sunday to Monday, whole days.
            leave(2, MON - Duration::days(1), MON, None),
            // 3: 11:00–11:30 leaves exactly half of 11:00–12:00: still counts.
            leave(3, MON, MON, Some((660, 690))),
            // Someone else's leave, and leave on another day, change nothing.
            leave(9, MON, MON, None),
            leave(3, tue, tue, None),
        ];
        let c = cover(
            &[(540, 720)],
            MON,
            people.iter().map(|(u, r)| (*u, r)),
            &away,
        );
        assert_eq!(counts(&c), [(9, 3, 1), (10, 3, 2), (11, 3, 2)]);
        assert_eq!(
            c.iter().map(Cover::available).collect::<Vec<_>>(),
            [2, 1, 1]
        );
        // Leave outside the shift takes nobody out.
        let early = [leave(1, MON, MON, Some((420, 540)))];
        let c = cover(&[(540, 720)], MON, [(1, &people[0].1)], &early);
        assert_eq!(counts(&c), [(9, 1, 0), (10, 1, 0), (11, 1, 0)]);
    }

    #[test]
    fn the_day_s_change_or_day_off_is_the_shift_that_counts() {
        let mut r = roster(540, 720);
        r.changes.insert(MON, None);
        let tue = MON.succ_opt().unwrap();
        r.changes.insert(tue, Shift::new(600, 660));
        assert_eq!(
            counts(&cover(&[(540, 720)], MON, [(1, &r)], &[])),
            [(9, 0, 0), (10, 0, 0), (11, 0, 0)]
        );
        assert_eq!(
            counts(&cover(&[(540, 720)], tue, [(1, &r)], &[])),
            [(9, 0, 0), (10, 1, 0), (11, 0, 0)]
        );
    }

    #[test]
    fn an_hour_is_short_by_what_the_advice_needs_beyond_those_available() {
        assert_eq!(shortfall(4, 2), 2);
        assert_eq!(shortfall(2, 2), 0);
        assert_eq!(shortfall(0, 3), 0);
    }
}

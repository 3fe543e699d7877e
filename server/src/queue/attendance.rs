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
//!
//! **Shifts** (issue #14). A person with a [`Roster`] (a weekly pattern, and dated changes) is
//! judged against their own shift that day instead of the hall's hours: late after their
//! start, early before their end; on a rostered day with no sign-in at all they are **absent**
//! (once their start plus the lateness tolerance has passed). Working on a day off is recorded
//! but never late or early. A person without a roster is judged against the hall's hours as
//! before and is never absent: the hall has not said they work that day.

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
    /// The person has a roster: `opens_at` and `closes_at` are their shift's (none on a day off).
    pub rostered: bool,
    /// Rostered that day and never signed in.
    pub absent: bool,
    /// Approved leave that day (all of it, or part: the start or end moved past it).
    pub on_leave: bool,
}

/// One day's working time, in minutes after the branch-local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    pub start_min: u16,
    pub end_min: u16,
}

impl Shift {
    /// A shift ending at or before its start, or past midnight: `None`.
    pub fn new(start_min: u16, end_min: u16) -> Option<Shift> {
        (start_min < end_min && end_min <= 1440).then_some(Shift { start_min, end_min })
    }
}

/// A person's rostered time: a weekly pattern (Monday first; `None` a day off) and dated
/// changes (`None` a day off), the changes first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    pub weekly: [Option<Shift>; 7],
    pub changes: BTreeMap<NaiveDate, Option<Shift>>,
    /// Never absent before this day (the person's account was made then).
    pub from: Option<NaiveDate>,
}

impl Roster {
    /// The shift on `date`, if the person works then.
    pub fn on(&self, date: NaiveDate) -> Option<Shift> {
        use chrono::Datelike;
        match self.changes.get(&date) {
            Some(change) => *change,
            None => self.weekly[date.weekday().num_days_from_monday() as usize],
        }
    }
}

/// Approved leave: whole days `from ..= to`, or with `part` the minutes of that one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leave {
    pub user_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub part: Option<(u16, u16)>,
}

/// The leave that touches `user`'s `date`: a whole day (`Some(None)`) or its parts.
fn leave_on(leave: &[Leave], user: i64, date: NaiveDate) -> Option<Vec<(u16, u16)>> {
    let mut parts = Vec::new();
    for l in leave
        .iter()
        .filter(|l| l.user_id == user && l.from <= date && date <= l.to)
    {
        match l.part {
            None => return Some(Vec::new()),
            Some(p) => parts.push(p),
        }
    }
    (!parts.is_empty()).then_some(parts)
}

/// What happened when, to one person, and whether closing did it.
type Stamp = (LogKind, DateTime<Utc>, bool);

/// Per person and day, in date then user order. `log` must be in time order; `now` ends pauses
/// still going on. Without rosters: the days someone signed in.
pub fn days(
    schedule: &Schedule,
    log: &[LogEntry],
    tolerances: Tolerances,
    now: DateTime<Utc>,
) -> Vec<DayRecord> {
    rostered_days(schedule, log, tolerances, now, &BTreeMap::new(), &[], None)
}

/// [`days`] with the people's rosters, and the absent days of rostered people over `dates`
/// (inclusive).
pub fn rostered_days(
    schedule: &Schedule,
    log: &[LogEntry],
    tolerances: Tolerances,
    now: DateTime<Utc>,
    rosters: &BTreeMap<i64, Roster>,
    leave: &[Leave],
    dates: Option<(NaiveDate, NaiveDate)>,
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
    let mut out: Vec<DayRecord> = per
        .iter()
        .map(|(&(date, user), events)| {
            let shift = rosters.get(&user).map(|r| r.on(date));
            let mut d = day(schedule, date, user, events, tolerances, now, shift);
            if let Some(parts) = leave_on(leave, user, date) {
                excuse(&mut d, schedule.tz, &parts, tolerances);
            }
            d
        })
        .collect();
    if let Some((from, to)) = dates {
        let tz = schedule.tz;
        for (&user, roster) in rosters {
            let mut date = roster.from.map_or(from, |f| f.max(from));
            while date <= to {
                let due = roster.on(date).map(|s| {
                    local_instant(tz, date, s.start_min)
                        + chrono::Duration::minutes(i64::from(tolerances.late_after_mins))
                });
                let whole_day_off = leave_on(leave, user, date).is_some_and(|p| p.is_empty());
                if due.is_some_and(|due| due < now) && !per.contains_key(&(date, user)) {
                    let mut d = absent(tz, date, user, roster.on(date));
                    // On approved leave all day: shown as such, not absent.
                    d.absent = !whole_day_off;
                    d.on_leave = whole_day_off;
                    out.push(d);
                }
                date = date.succ_opt().unwrap_or(NaiveDate::MAX);
            }
        }
        out.sort_by_key(|d| (d.date, d.user_id));
    }
    out
}

/// Approved leave on `d`'s day: all day (`parts` empty) excuses lateness and leaving early;
/// a part that covers the start (or the end) of the day moves it to the part's end (start).
fn excuse(d: &mut DayRecord, tz: chrono_tz::Tz, parts: &[(u16, u16)], tol: Tolerances) {
    d.on_leave = true;
    if parts.is_empty() {
        d.late = false;
        d.early = false;
        d.late_mins = 0;
        d.early_mins = 0;
        return;
    }
    let at = |m: u16| local_instant(tz, d.date, m);
    for &(a, b) in parts {
        if let Some(o) = d.opens_at
            && at(a) <= o
            && o < at(b)
        {
            d.opens_at = Some(at(b));
        }
        if let Some(c) = d.closes_at
            && at(a) < c
            && c <= at(b)
        {
            d.closes_at = Some(at(a));
        }
    }
    let late = match (d.first_sign_in, d.opens_at) {
        (Some(i), Some(o)) => (i - o).num_seconds().max(0),
        _ => 0,
    };
    let early = match (d.last_sign_out, d.closes_at) {
        (Some(l), Some(c)) if !d.signed_out_by_closing => (c - l).num_seconds().max(0),
        _ => 0,
    };
    d.late_mins = late / 60;
    d.early_mins = early / 60;
    d.late = late > i64::from(tol.late_after_mins) * 60;
    d.early = early > i64::from(tol.early_leave_mins) * 60;
}

/// A rostered day without a sign-in.
fn absent(tz: chrono_tz::Tz, date: NaiveDate, user_id: i64, shift: Option<Shift>) -> DayRecord {
    DayRecord {
        date,
        user_id,
        opens_at: shift.map(|s| local_instant(tz, date, s.start_min)),
        closes_at: shift.map(|s| local_instant(tz, date, s.end_min)),
        first_sign_in: None,
        last_sign_out: None,
        late_mins: 0,
        early_mins: 0,
        pauses: 0,
        pause_total_mins: 0,
        pause_longest_mins: 0,
        late: false,
        early: false,
        long_pause: false,
        signed_out_by_closing: false,
        rostered: true,
        absent: true,
        on_leave: false,
    }
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
    // `Some` for a rostered person: their shift that day (`Some(None)`: a day off).
    shift: Option<Option<Shift>>,
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
    let (opens_at, closes_at) = match shift {
        Some(shift) => (
            shift.map(|s| local_instant(tz, date, s.start_min)),
            shift.map(|s| local_instant(tz, date, s.end_min)),
        ),
        None => (
            periods.first().map(|p| p.0).filter(|_| !around_the_clock),
            periods.last().map(|p| p.1).filter(|_| !around_the_clock),
        ),
    };
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
        rostered: shift.is_some(),
        absent: false,
        on_leave: false,
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

    fn roster(start: &str, end: &str) -> Roster {
        let m = |hhmm: &str| {
            let (h, m) = hhmm.split_once(':').unwrap();
            h.parse::<u16>().unwrap() * 60 + m.parse::<u16>().unwrap()
        };
        let shift = Shift::new(m(start), m(end));
        Roster {
            weekly: [shift, shift, shift, shift, shift, None, None],
            changes: BTreeMap::new(),
            from: None,
        }
    }

    #[test]
    fn a_rostered_person_is_judged_against_their_own_shift() {
        use LogKind::*;
        // Shift 08:30–16:00 in a hall open 09:00–17:00: in at 08:50 is 20 minutes late (the
        // hall's hours would call it on time), out at 15:58 is on time (the hall's: an hour early).
        let rosters = BTreeMap::from([(7, roster("08:30", "16:00"))]);
        let log = [e(1, 7, SignIn, "08:50"), e(1, 7, SignOut, "15:58")];
        let d = &rostered_days(
            &office(),
            &log,
            Tolerances::default(),
            t("23:00"),
            &rosters,
            &[],
            None,
        )[0];
        assert!(d.rostered && !d.absent);
        assert_eq!((d.late_mins, d.early_mins), (20, 2));
        assert!(d.late && !d.early);
        assert_eq!(d.opens_at, Some(t("08:30")));
        let hall = &days(&office(), &log, Tolerances::default(), t("23:00"))[0];
        assert!(
            !hall.late && hall.early,
            "the hall's hours say the opposite"
        );
    }

    #[test]
    fn a_rostered_day_without_a_sign_in_is_absent_once_the_start_has_passed() {
        use LogKind::*;
        let monday = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let mut r = roster("09:00", "17:00");
        // Tuesday off by a dated change; Wednesday another time.
        r.changes.insert(monday + chrono::Duration::days(1), None);
        r.changes
            .insert(monday + chrono::Duration::days(2), Shift::new(780, 1020));
        let rosters = BTreeMap::from([(7, r), (8, roster("09:00", "17:00"))]);
        let log = [e(1, 8, SignIn, "09:00"), e(1, 8, SignOut, "17:00")];
        let range = Some((monday, monday + chrono::Duration::days(6)));
        let at = |days: i64, hhmm: &str| t(hhmm) + chrono::Duration::days(days);
        // Monday 09:05 is the tolerance exactly: not yet absent; 09:06: absent.
        let d = rostered_days(
            &office(),
            &log,
            Tolerances::default(),
            t("09:05"),
            &rosters,
            &[],
            range,
        );
        assert!(d.iter().all(|d| !d.absent), "{d:?}");
        let d = rostered_days(
            &office(),
            &log,
            Tolerances::default(),
            t("09:06"),
            &rosters,
            &[],
            range,
        );
        let absent: Vec<_> = d
            .iter()
            .filter(|d| d.absent)
            .map(|d| (d.date, d.user_id))
            .collect();
        assert_eq!(absent, [(monday, 7)]);
        // By Sunday night: Monday, Wednesday, Thursday, Friday for 7 (Tuesday was off, the
        // weekend is not rostered); 8 from Tuesday on.
        let d = rostered_days(
            &office(),
            &log,
            Tolerances::default(),
            at(6, "23:00"),
            &rosters,
            &[],
            range,
        );
        let of = |u: i64| -> Vec<i64> {
            d.iter()
                .filter(|d| d.absent && d.user_id == u)
                .map(|d| (d.date - monday).num_days())
                .collect()
        };
        assert_eq!(of(7), [0, 2, 3, 4]);
        assert_eq!(of(8), [1, 2, 3, 4]);
        let wednesday = d
            .iter()
            .find(|d| d.user_id == 7 && (d.date - monday).num_days() == 2);
        assert_eq!(wednesday.unwrap().opens_at, Some(at(2, "13:00")));
        assert!(
            d.windows(2)
                .all(|p| (p[0].date, p[0].user_id) < (p[1].date, p[1].user_id))
        );
    }

    #[test]
    fn work_on_a_day_off_is_never_late() {
        use LogKind::*;
        let mut r = roster("09:00", "17:00");
        r.changes
            .insert(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(), None);
        let rosters = BTreeMap::from([(7, r)]);
        let log = [e(1, 7, SignIn, "11:00"), e(1, 7, SignOut, "12:00")];
        let d = &rostered_days(
            &office(),
            &log,
            Tolerances::default(),
            t("23:00"),
            &rosters,
            &[],
            None,
        )[0];
        assert!(d.rostered && !d.late && !d.early && d.opens_at.is_none());
    }

    #[test]
    fn a_shift_must_end_after_it_starts_and_by_midnight() {
        assert!(Shift::new(540, 540).is_none());
        assert!(Shift::new(600, 540).is_none());
        assert!(Shift::new(0, 1441).is_none());
        assert_eq!(Shift::new(0, 1440).map(|s| s.end_min), Some(1440));
    }

    #[test]
    fn part_day_leave_moves_the_start_and_whole_day_leave_excuses_the_day() {
        use LogKind::*;
        let rosters = BTreeMap::from([(7, roster("09:00", "17:00"))]);
        let log = [e(1, 7, SignIn, "11:03"), e(1, 7, SignOut, "15:00")];
        let monday = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let leave = |part| Leave {
            user_id: 7,
            from: monday,
            to: monday,
            part,
        };
        let run = |l: &[Leave]| {
            rostered_days(
                &office(),
                &log,
                Tolerances::default(),
                t("23:00"),
                &rosters,
                l,
                None,
            )
            .remove(0)
        };
        let none = run(&[]);
        assert_eq!(
            (none.late_mins, none.early_mins, none.on_leave),
            (123, 120, false)
        );
        // Leave 09:00–11:00 and 15:00–17:00: in at 11:03 is 3 minutes after the new start.
        let part = run(&[leave(Some((540, 660))), leave(Some((900, 1020)))]);
        assert_eq!((part.late_mins, part.early_mins), (3, 0));
        assert!(part.on_leave && !part.late && !part.early);
        assert_eq!(part.opens_at, Some(t("11:00")));
        assert_eq!(part.closes_at, Some(t("15:00")));
        // Another person's leave changes nothing.
        let other = run(&[Leave {
            user_id: 8,
            ..leave(None)
        }]);
        assert_eq!(other, none);
        let all_day = run(&[leave(None)]);
        assert!(all_day.on_leave && !all_day.late && !all_day.early);
    }
}

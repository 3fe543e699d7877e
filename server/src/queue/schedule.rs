//! Opening hours: a weekly schedule with breaks, dated exceptions (holidays, other hours), and a
//! last-ticket cut-off, all in the branch's IANA time zone.
//!
//! Times are minutes after local midnight, `0..=1440`, so "open around the clock" is
//! `[(0, 1440)]` and a period may end at 24:00. Local times that do not exist (the hour skipped
//! when clocks go forward) resolve to the first instant after the gap; ambiguous ones (the hour
//! repeated when clocks go back) to the earlier instant.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// One opening period of a day, minutes after local midnight, `start < end <= 1440`.
pub type Period = (u16, u16);

/// Opening periods for each weekday, Monday first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Weekly(pub [Vec<Period>; 7]);

impl Weekly {
    /// Open every minute of every day.
    pub fn around_the_clock() -> Self {
        Weekly(std::array::from_fn(|_| vec![(0, 1440)]))
    }

    /// The same periods Monday to Friday, closed at weekends.
    pub fn weekdays(periods: &[Period]) -> Self {
        Weekly(std::array::from_fn(|d| {
            if d < 5 { periods.to_vec() } else { Vec::new() }
        }))
    }
}

/// A dated exception: closed (no periods) or other hours that day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    pub date: NaiveDate,
    pub periods: Vec<Period>,
    /// The note in Simplified Chinese (and the fallback for the other two languages).
    #[serde(default)]
    pub note: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note_zh_hant: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note_en: String,
}

/// A branch's hours.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub tz: Tz,
    pub weekly: Weekly,
    pub exceptions: Vec<Exception>,
    /// No new tickets this many minutes before a period closes (0: until closing).
    pub cutoff_mins: u16,
}

/// Why tickets cannot be taken now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    OutsideHours,
    AfterCutoff,
}

impl Closed {
    pub fn as_str(self) -> &'static str {
        match self {
            Closed::OutsideHours => "outside_hours",
            Closed::AfterCutoff => "after_cutoff",
        }
    }
}

/// Whether tickets can be taken at an instant, and what comes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenState {
    pub closed: Option<Closed>,
    /// When the current run of open time ends (if open).
    pub closes_at: Option<DateTime<Utc>>,
    /// When tickets can next be taken (if closed), within the next two weeks.
    pub opens_at: Option<DateTime<Utc>>,
}

impl OpenState {
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }
}

/// The branch-local calendar day of an instant.
pub fn local_date(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// The instant a branch-local date and minute-of-day begins (minute 1440 is the next midnight).
///
/// Never panics: the day after chrono's last date is [`DateTime::<Utc>::MAX_UTC`] (the HTTP edge
/// keeps requests' dates far from it, see `http::dates`, but the engine does not rely on that).
pub fn local_instant(tz: Tz, date: NaiveDate, minute: u16) -> DateTime<Utc> {
    let (date, minute) = if minute >= 1440 {
        match date.succ_opt() {
            Some(next) => (next, minute - 1440),
            None => return DateTime::<Utc>::MAX_UTC,
        }
    } else {
        (date, minute)
    };
    let time = NaiveTime::from_hms_opt(u32::from(minute / 60), u32::from(minute % 60), 0)
        .unwrap_or(NaiveTime::MIN);
    let naive = NaiveDateTime::new(date, time);
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        chrono::LocalResult::None => {
            // In a spring-forward gap: the first minute after it.
            let mut probe = naive;
            for _ in 0..180 {
                let Some(next) = probe.checked_add_signed(Duration::minutes(1)) else {
                    break;
                };
                probe = next;
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            Utc.from_utc_datetime(&naive)
        }
    }
}

/// `[start, end)` of the branch-local day containing `now`, in UTC (23 or 25 hours on DST days).
pub fn local_day_bounds(tz: Tz, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    (local_instant(tz, date, 0), local_instant(tz, date, 1440))
}

impl Schedule {
    /// The periods of a local date, exceptions first.
    pub fn periods_on(&self, date: NaiveDate) -> &[Period] {
        if let Some(e) = self.exceptions.iter().find(|e| e.date == date) {
            return &e.periods;
        }
        &self.weekly.0[date.weekday().num_days_from_monday() as usize]
    }

    /// The exception for a date, if any.
    pub fn exception_on(&self, date: NaiveDate) -> Option<&Exception> {
        self.exceptions.iter().find(|e| e.date == date)
    }

    /// Open periods as UTC intervals for the local dates `from ..= from + days`, merged where
    /// one ends exactly when the next begins (so "around the clock" is one long interval).
    fn intervals(&self, from: NaiveDate, days: i64) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
        for d in 0..=days {
            let Some(date) = from.checked_add_signed(Duration::days(d)) else {
                break; // past chrono's last date: nothing more is open
            };
            let mut periods = self.periods_on(date).to_vec();
            periods.sort_unstable();
            for (s, e) in periods {
                if s >= e || e > 1440 {
                    continue;
                }
                let (a, b) = (
                    local_instant(self.tz, date, s),
                    local_instant(self.tz, date, e),
                );
                match out.last_mut() {
                    Some(last) if last.1 >= a => last.1 = last.1.max(b),
                    _ => out.push((a, b)),
                }
            }
        }
        out
    }

    /// The latest closing of a day at or before `now`, within the last two weeks: the end of the
    /// last open period of a local day (the end of a period followed by a break is no closing),
    /// with that day. A hall open around the clock has none.
    pub fn last_closing(&self, now: DateTime<Utc>) -> Option<(NaiveDate, DateTime<Utc>)> {
        let today = local_date(self.tz, now);
        let intervals = self.intervals(today - Duration::days(15), 16);
        let mut last = None;
        for (i, (_, end)) in intervals.iter().enumerate() {
            if *end > now {
                break;
            }
            let day = local_date(self.tz, *end - Duration::milliseconds(1));
            let reopens_that_day = intervals
                .get(i + 1)
                .is_some_and(|(start, _)| local_date(self.tz, *start) == day);
            if !reopens_that_day {
                last = Some((day, *end));
            }
        }
        last
    }

    /// Whether an open period began after `closing` and by `now`: the hall has opened again
    /// since that closing (its windows are tomorrow's, not leftovers of the closed day).
    pub fn reopened_since(&self, closing: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        let from = local_date(self.tz, closing);
        let days = (local_date(self.tz, now) - from).num_days().clamp(0, 15);
        self.intervals(from, days)
            .iter()
            .any(|(start, _)| *start > closing && *start <= now)
    }

    /// Today's open periods (the branch's local date of `now`) as UTC intervals, merged where
    /// one ends as the next begins, without those that ended before `now`.
    pub fn open_intervals(&self, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut v = self.intervals(local_date(self.tz, now), 0);
        v.retain(|(_, end)| *end > now);
        v
    }

    /// Today's breaks that have not ended by `now`: the gaps between today's open periods.
    pub fn breaks_ahead(&self, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        self.open_intervals(now)
            .windows(2)
            .map(|p| (p[0].1, p[1].0))
            .filter(|(_, end)| *end > now)
            .collect()
    }

    /// Whether a ticket can be taken at `now`.
    pub fn state_at(&self, now: DateTime<Utc>) -> OpenState {
        let today = local_date(self.tz, now);
        let intervals = self.intervals(today.pred_opt().unwrap_or(today), 15);
        let cutoff = Duration::minutes(i64::from(self.cutoff_mins));
        for (start, end) in &intervals {
            if *start <= now && now < *end {
                if now < *end - cutoff {
                    return OpenState {
                        closed: None,
                        closes_at: Some(*end),
                        opens_at: None,
                    };
                }
                let next = intervals
                    .iter()
                    .find(|(s, e)| *s > now && *s < *e - cutoff)
                    .map(|(s, _)| *s);
                return OpenState {
                    closed: Some(Closed::AfterCutoff),
                    closes_at: Some(*end),
                    opens_at: next,
                };
            }
        }
        let next = intervals
            .iter()
            .find(|(s, e)| *s > now && *s < *e - cutoff)
            .map(|(s, _)| *s);
        OpenState {
            closed: Some(Closed::OutsideHours),
            closes_at: None,
            opens_at: next,
        }
    }
}

/// Formats minutes after midnight as `HH:MM` (1440 is `24:00`).
pub fn hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// Parses `HH:MM` (`24:00` allowed) into minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_and_first_dates_chrono_knows_never_panic() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        assert_eq!(
            local_instant(tz, NaiveDate::MAX, 1440),
            DateTime::<Utc>::MAX_UTC
        );
        let (a, b) = local_day_bounds(tz, NaiveDate::MAX);
        assert!(a <= b);
        let _ = local_day_bounds(tz, NaiveDate::MIN);
        let s = Schedule {
            tz,
            weekly: Weekly::around_the_clock(),
            exceptions: Vec::new(),
            cutoff_mins: 10,
        };
        let late = NaiveDate::MAX.and_hms_opt(12, 0, 0).unwrap().and_utc();
        let _ = s.state_at(late);
        let _ = s.breaks_ahead(late);
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn shanghai_office() -> Schedule {
        Schedule {
            tz: chrono_tz::Asia::Shanghai,
            weekly: Weekly::weekdays(&[(9 * 60, 12 * 60), (13 * 60, 17 * 60)]),
            exceptions: vec![Exception {
                date: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
                periods: vec![],
                note: "National Day".into(),
                ..Default::default()
            }],
            cutoff_mins: 30,
        }
    }

    #[test]
    fn open_in_the_morning_closed_at_lunch_and_it_says_when_it_reopens() {
        let s = shanghai_office();
        // Monday 2026-03-02 10:00 in Shanghai is 02:00 UTC.
        assert!(s.state_at(utc("2026-03-02T02:00:00Z")).is_open());
        let lunch = s.state_at(utc("2026-03-02T04:30:00Z"));
        assert_eq!(lunch.closed, Some(Closed::OutsideHours));
        assert_eq!(lunch.opens_at, Some(utc("2026-03-02T05:00:00Z")));
    }

    #[test]
    fn the_last_ticket_cut_off_closes_issuing_before_the_hall_closes() {
        let s = shanghai_office();
        // 16:45 local: inside hours, after the 30-minute cut-off.
        let st = s.state_at(utc("2026-03-02T08:45:00Z"));
        assert_eq!(st.closed, Some(Closed::AfterCutoff));
        assert_eq!(st.opens_at, Some(utc("2026-03-03T01:00:00Z")));
    }

    #[test]
    fn a_holiday_exception_closes_the_day_and_weekends_are_closed() {
        let s = shanghai_office();
        let st = s.state_at(utc("2026-10-01T02:00:00Z"));
        assert_eq!(st.closed, Some(Closed::OutsideHours));
        assert_eq!(st.opens_at, Some(utc("2026-10-02T01:00:00Z")));
        assert!(!s.state_at(utc("2026-03-07T02:00:00Z")).is_open());
    }

    #[test]
    fn around_the_clock_is_always_open() {
        let s = Schedule {
            tz: chrono_tz::Europe::Berlin,
            weekly: Weekly::around_the_clock(),
            exceptions: vec![],
            cutoff_mins: 0,
        };
        for t in [
            "2026-03-29T00:59:00Z",
            "2026-03-29T01:00:00Z",
            "2026-12-31T23:59:59Z",
        ] {
            assert!(s.state_at(utc(t)).is_open(), "{t}");
        }
    }

    #[test]
    fn local_days_are_23_hours_long_when_clocks_go_forward() {
        let tz = chrono_tz::Europe::Berlin;
        let (a, b) = local_day_bounds(tz, NaiveDate::from_ymd_opt(2026, 3, 29).unwrap());
        assert_eq!((b - a).num_hours(), 23);
        assert_eq!(a, utc("2026-03-28T23:00:00Z"));
        assert_eq!(
            local_date(tz, utc("2026-03-29T21:59:00Z")),
            NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()
        );
        assert_eq!(
            local_date(tz, utc("2026-03-29T22:00:00Z")),
            NaiveDate::from_ymd_opt(2026, 3, 30).unwrap()
        );
    }

    #[test]
    fn a_day_closes_at_the_end_of_its_last_period_and_a_24_hour_hall_never_does() {
        let office = shanghai_office();
        let friday = NaiveDate::from_ymd_opt(2026, 3, 6).unwrap();
        // Friday 6 March 2026, 17:00 Shanghai = 09:00 UTC. Lunch (12:00) is no closing.
        assert_eq!(
            office.last_closing(utc("2026-03-06T05:00:00Z")),
            Some((friday - Duration::days(1), utc("2026-03-05T09:00:00Z")))
        );
        assert_eq!(
            office.last_closing(utc("2026-03-06T09:00:00Z")),
            Some((friday, utc("2026-03-06T09:00:00Z")))
        );
        // Over the weekend the last closing is still Friday's.
        assert_eq!(
            office.last_closing(utc("2026-03-08T12:00:00Z")),
            Some((friday, utc("2026-03-06T09:00:00Z")))
        );
        let always = Schedule {
            tz: chrono_tz::Asia::Shanghai,
            weekly: Weekly::around_the_clock(),
            exceptions: vec![],
            cutoff_mins: 0,
        };
        assert_eq!(always.last_closing(utc("2026-03-06T09:00:00Z")), None);
    }

    #[test]
    fn reopening_is_the_next_period_after_a_closing_not_lunch_of_the_same_day() {
        let office = shanghai_office();
        let friday_close = utc("2026-03-06T09:00:00Z");
        // Friday evening and the weekend: not reopened.
        assert!(!office.reopened_since(friday_close, utc("2026-03-06T09:30:00Z")));
        assert!(!office.reopened_since(friday_close, utc("2026-03-09T00:59:59Z")));
        // Monday 09:00 Shanghai = 01:00 UTC.
        assert!(office.reopened_since(friday_close, utc("2026-03-09T01:00:00Z")));
        // Thursday's lunch break ends at 13:00 (05:00 UTC): from a 12:00 "closing" it reopens.
        assert!(office.reopened_since(utc("2026-03-05T04:00:00Z"), utc("2026-03-05T05:00:00Z")));
    }

    #[test]
    fn hh_mm_round_trips() {
        assert_eq!(parse_hhmm("08:30"), Some(510));
        assert_eq!(parse_hhmm("24:00"), Some(1440));
        assert_eq!(parse_hhmm("24:01"), None);
        assert_eq!(parse_hhmm("7"), None);
        assert_eq!(hhmm(1440), "24:00");
    }
}

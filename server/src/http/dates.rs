//! Dates from requests, checked in one place: every date a request names (`?from=`, `?to=`, a
//! notice's `from`/`until`/`starts_at`/`ends_at`, an exception's `{date}`) must lie in
//! [`FIRST_DAY`] ..= [`LAST_DAY`], or the answer is 422 `date_out_of_range` — before any
//! arithmetic is done with it.
//!
//! Why a range at all: chrono reads years up to ±262,142, and the day after its last day, or
//! the end of that day in a branch's time zone, does not exist. Computing them panicked, which
//! dropped the connection (issue #15: `?to=+262142-12-31`). Checking every `+ 1 day` in the code
//! would leave the next one added unchecked; one range at the edge keeps all arithmetic behind it
//! far from chrono's limits. A hall's records begin after 2000 and nobody plans a notice past
//! 2100, so a date outside is a typo or a probe.
//!
//! Ranges of days ([`day_range`]): `from` after `to` is 422 `invalid_range`, and so is a range
//! longer than the caller can compute cheaply (each resource passes its own limit).

use chrono::{DateTime, NaiveDate, Utc};

use super::error::{ApiError, ApiResult};

/// The earliest date a request may name.
pub const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The latest date a request may name.
pub const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2100, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// `day` if it is within [`FIRST_DAY`] ..= [`LAST_DAY`]; else 422 `date_out_of_range` naming
/// `field`.
pub fn check_day(field: &str, day: NaiveDate) -> ApiResult<NaiveDate> {
    if (FIRST_DAY..=LAST_DAY).contains(&day) {
        Ok(day)
    } else {
        Err(out_of_range(field))
    }
}

/// [`check_day`] for an optional date.
pub fn check_opt_day(field: &str, day: Option<NaiveDate>) -> ApiResult<Option<NaiveDate>> {
    day.map(|d| check_day(field, d)).transpose()
}

/// `at` if its UTC date is within the range (a day's margin either side of any time zone is
/// still far inside chrono's limits).
pub fn check_instant(field: &str, at: DateTime<Utc>) -> ApiResult<DateTime<Utc>> {
    check_day(field, at.date_naive()).map(|_| at)
}

/// [`check_instant`] for an optional instant.
pub fn check_opt_instant(
    field: &str,
    at: Option<DateTime<Utc>>,
) -> ApiResult<Option<DateTime<Utc>>> {
    at.map(|t| check_instant(field, t)).transpose()
}

/// The first and last day of `?from=&to=` (both included): `to` defaults to `from`, both to
/// `today`; each checked to the range, `from <= to`, and at most `max_days` days apart.
pub fn day_range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
    max_days: i64,
) -> ApiResult<(NaiveDate, NaiveDate)> {
    let from = check_opt_day("from", from)?;
    let to = check_opt_day("to", to)?;
    let (from, to) = (from.unwrap_or(today), to.or(from).unwrap_or(today));
    if from > to {
        return Err(ApiError::invalid(
            "invalid_range",
            "from must not be after to",
        ));
    }
    if (to - from).num_days() > max_days {
        return Err(ApiError::invalid(
            "invalid_range",
            format!("ask for at most {max_days} days at once"),
        ));
    }
    Ok((from, to))
}

fn out_of_range(field: &str) -> ApiError {
    ApiError::invalid(
        "date_out_of_range",
        format!("{field} must be a date from {FIRST_DAY} to {LAST_DAY}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_ends_of_the_range_are_accepted_and_a_day_beyond_is_not() {
        assert!(check_day("to", d("2000-01-01")).is_ok());
        assert!(check_day("to", d("2100-12-31")).is_ok());
        for bad in ["1999-12-31", "2101-01-01", "+262142-12-31", "-262143-01-01"] {
            let e = check_day("to", d(bad)).unwrap_err();
            assert_eq!((e.status.as_u16(), e.code), (422, "date_out_of_range"));
            assert!(e.message.contains("to must be"), "{}", e.message);
        }
        assert!(
            check_instant(
                "ends_at",
                NaiveDate::MAX.and_hms_opt(0, 0, 0).unwrap().and_utc()
            )
            .is_err()
        );
    }

    #[test]
    fn a_range_defaults_to_today_and_refuses_reversed_or_long_ranges() {
        let today = d("2026-12-02");
        assert_eq!(day_range(None, None, today, 366).unwrap(), (today, today));
        let from = d("2026-11-01");
        assert_eq!(
            day_range(Some(from), None, today, 366).unwrap(),
            (from, from)
        );
        let e = day_range(Some(today), Some(from), today, 366).unwrap_err();
        assert_eq!(e.code, "invalid_range");
        let e = day_range(Some(d("2020-01-01")), Some(today), today, 366).unwrap_err();
        assert_eq!(e.code, "invalid_range");
        let e = day_range(Some(d("+262142-12-31")), None, today, 366).unwrap_err();
        assert_eq!(e.code, "date_out_of_range");
    }
}

//! The notices kiosks and boards show: the managers' own (those whose dates include now), and
//! one for each dated exception from `notice_days` ahead until the end of its day — a holiday
//! or a change of hours is announced in advance without anyone writing a notice for it, in the
//! three languages, with the exception's note.
//!
//! The list is sent whole (`notice` event) whenever it changes: when a manager edits a notice,
//! an exception or the notice period, and when a day boundary brings one in or takes one out
//! (the maintenance loop, [`announce_notices`]).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use qhall_shared::api::{Localized, Notice};
use qhall_shared::events::Event;

use super::Outbox;
use crate::queue::schedule::{Exception, hhmm, local_date};
use crate::store::{BranchConfig, Result, Tx};

/// The notices of the dated exceptions `cfg` announces at `now`, soonest first. Their ids are
/// negative (minus the day's number since 1970), so they never meet a stored notice's.
pub fn exception_notices(cfg: &BranchConfig, now: DateTime<Utc>) -> Vec<Notice> {
    let today = local_date(cfg.schedule.tz, now);
    let last = today + Duration::days(i64::from(cfg.public.notice_days));
    cfg.schedule
        .exceptions
        .iter()
        .filter(|e| e.date >= today && e.date <= last)
        .map(exception_notice)
        .collect()
}

/// The notice of one exception: its date, weekday, hours (or closed) and note.
pub fn exception_notice(e: &Exception) -> Notice {
    let d = e.date;
    let (m, day) = (d.month(), d.day());
    let hours = e
        .periods
        .iter()
        .map(|(a, b)| format!("{}–{}", hhmm(*a), hhmm(*b)))
        .collect::<Vec<_>>();
    let with = |text: String, note: &str| {
        if note.is_empty() {
            text
        } else {
            format!("{text} {note}")
        }
    };
    let zh_note = e.note.as_str();
    let or_zh = |n: &str| if n.is_empty() { zh_note } else { n }.to_owned();
    let (zh_hant_note, en_note) = (or_zh(&e.note_zh_hant), or_zh(&e.note_en));
    let zh = if hours.is_empty() {
        format!("{m}月{day}日（{}）全天休息。", weekday_zh(d, false))
    } else {
        format!(
            "{m}月{day}日（{}）办公时间为 {}。",
            weekday_zh(d, false),
            hours.join("、")
        )
    };
    let zh_hant = if hours.is_empty() {
        format!("{m}月{day}日（{}）全天休息。", weekday_zh(d, true))
    } else {
        format!(
            "{m}月{day}日（{}）辦公時間為 {}。",
            weekday_zh(d, true),
            hours.join("、")
        )
    };
    let date_en = d.format("%a %-d %b");
    let en = if hours.is_empty() {
        format!("{date_en}: closed all day.")
    } else {
        format!("{date_en}: open {} only.", hours.join(", "))
    };
    Notice {
        id: -(d - NaiveDate::default()).num_days() - 1,
        text: Localized {
            zh: with(zh, zh_note),
            zh_hant: with(zh_hant, &zh_hant_note),
            en: with(en, &en_note),
        },
    }
}

fn weekday_zh(d: NaiveDate, traditional: bool) -> String {
    let n = match d.weekday() {
        Weekday::Mon => "一",
        Weekday::Tue => "二",
        Weekday::Wed => "三",
        Weekday::Thu => "四",
        Weekday::Fri => "五",
        Weekday::Sat => "六",
        Weekday::Sun => "日",
    };
    format!("{}{n}", if traditional { "週" } else { "周" })
}

/// Every notice kiosks and boards show at `now`: the managers' whose dates include it, then the
/// exceptions'.
pub async fn current<T: Tx>(tx: &mut T, branch: i64, now: DateTime<Utc>) -> Result<Vec<Notice>> {
    let cfg = tx.config(branch).await?;
    current_with(tx, &cfg, now).await
}

/// [`current`] with the configuration at hand (one just written, which must not be read
/// through the shared cache before it commits).
pub async fn current_with<T: Tx>(
    tx: &mut T,
    cfg: &BranchConfig,
    now: DateTime<Utc>,
) -> Result<Vec<Notice>> {
    let mut notices = crate::store::read::stored_notices(tx, cfg.id, now).await?;
    notices.extend(exception_notices(cfg, now));
    Ok(notices)
}

/// Sends the whole list of notices (a `notice` event) if it differs from `was` — the ids kiosks
/// and boards were last sent (`None`: not known yet, so only remembered); returns the ids now.
pub async fn announce_notices<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    branch: i64,
    was: Option<&[i64]>,
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let notices = current(tx, branch, now).await?;
    let ids: Vec<i64> = notices.iter().map(|n| n.id).collect();
    if was.is_some_and(|w| w != ids.as_slice()) {
        out.emit(tx, branch, now, Event::Notice { notices }).await?;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::schedule::Schedule;

    #[test]
    fn an_exception_is_a_notice_in_three_languages_from_its_notice_period_to_its_end() {
        let holiday = Exception {
            date: NaiveDate::from_ymd_opt(2026, 3, 9).unwrap(),
            periods: vec![],
            note: "系统升级".into(),
            note_zh_hant: String::new(),
            note_en: "System upgrade".into(),
        };
        let short = Exception {
            date: NaiveDate::from_ymd_opt(2026, 3, 20).unwrap(),
            periods: vec![(540, 720)],
            ..Default::default()
        };
        let cfg = BranchConfig {
            id: 1,
            version: 1,
            name: Localized::default(),
            schedule: Schedule {
                tz: chrono_tz::Asia::Shanghai,
                weekly: crate::queue::schedule::Weekly::around_the_clock(),
                exceptions: vec![holiday, short],
                cutoff_mins: 0,
            },
            services: vec![],
            windows: vec![],
            emergency: None,
            closing_grace_mins: 30,
            public: Default::default(),
            messages: Default::default(),
        };
        // Shanghai midnight = 16:00 UTC the day before.
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert!(exception_notices(&cfg, at("2026-03-01T15:59:59Z")).is_empty());
        let n = exception_notices(&cfg, at("2026-03-01T16:00:00Z"));
        assert_eq!(n.len(), 1, "from 2 March, seven days ahead");
        assert_eq!(n[0].text.zh, "3月9日（周一）全天休息。 系统升级");
        assert_eq!(n[0].text.zh_hant, "3月9日（週一）全天休息。 系统升级");
        assert_eq!(n[0].text.en, "Mon 9 Mar: closed all day. System upgrade");
        assert!(n[0].id < 0);
        // Still shown on the day, gone the day after.
        assert_eq!(exception_notices(&cfg, at("2026-03-09T15:59:59Z")).len(), 1);
        let later = exception_notices(&cfg, at("2026-03-13T16:00:00Z"));
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].text.en, "Fri 20 Mar: open 09:00–12:00 only.");
    }
}

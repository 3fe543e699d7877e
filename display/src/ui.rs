//! Between the board state and `ui/board.slint`.
//!
//! [`BoardView`] is the board turned into the strings the screen shows. It is built on the
//! connection thread (plain data, `Send`), posted to the UI thread with
//! `upgrade_in_event_loop`, and written into `BoardAdapter` there by [`apply`]. The screen
//! itself holds no logic beyond layout and the blink.

use std::rc::Rc;
use std::time::Duration;

use chrono::{DateTime, Datelike, Local, TimeZone, Utc};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::board::Board;
use crate::{BoardAdapter, BoardWindow, CallRow, WaitingRow};

/// How long a new call stays highlighted before it settles.
pub const FLASH_FOR: Duration = Duration::from_secs(8);

/// Everything the screen shows, as text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoardView {
    pub hall_name: String,
    pub hall_name_en: String,
    /// `(number, window)` of the latest call.
    pub latest: Option<(String, String)>,
    pub history: Vec<(String, String)>,
    pub waiting: Vec<(String, i32)>,
    pub notices: String,
    pub emergency: String,
    pub reconnecting: bool,
    pub open: bool,
    /// The hall's time zone (none before the first snapshot: the machine's own).
    pub time_zone: Option<chrono_tz::Tz>,
    /// Changes with every new call on top; the highlight restarts when it does.
    pub call_serial: u64,
    /// Highlight the latest call now (a new call arrived, not the board's first state).
    pub flash: bool,
}

impl BoardView {
    /// The view of `board`; `previous_serial` is the `call_serial` of the view shown before,
    /// `None` for the first one (a board that starts does not flash an old call).
    pub fn new(board: &Board, previous_serial: Option<u64>) -> Self {
        let (hall_name, hall_name_en) = if board.hall.zh.is_empty() {
            (board.hall.en.clone(), String::new())
        } else {
            (board.hall.zh.clone(), board.hall.en.clone())
        };
        let pair = |c: &qhall_shared::events::Call| (c.number.to_string(), c.window.to_string());
        let notices: Vec<String> = board
            .notices
            .iter()
            .map(|n| {
                let (zh, en) = (n.text.zh.trim(), n.text.en.trim());
                match (zh.is_empty(), en.is_empty()) {
                    (false, false) if zh != en => format!("{zh}  ·  {en}"),
                    (false, _) => zh.to_owned(),
                    _ => en.to_owned(),
                }
            })
            .filter(|t| !t.is_empty())
            .collect();
        BoardView {
            hall_name,
            hall_name_en,
            latest: board.latest().map(pair),
            history: board.history().iter().map(pair).collect(),
            waiting: board
                .waiting
                .iter()
                .map(|(s, n)| (s.to_string(), i32::try_from(*n).unwrap_or(i32::MAX)))
                .collect(),
            notices: notices.join("      ◆      "),
            emergency: board.emergency.clone().unwrap_or_default(),
            reconnecting: !board.connected,
            // Unknown before the first snapshot: say nothing rather than "not issuing".
            open: board.open || board.seq.is_none(),
            time_zone: board.time_zone,
            call_serial: board.call_serial,
            flash: board.latest().is_some()
                && previous_serial.is_some_and(|s| s != board.call_serial),
        }
    }
}

/// Writes `view` into the screen. UI thread only. A flash is switched off again after
/// [`FLASH_FOR`], unless a newer call restarted it meanwhile.
pub fn apply(window: &BoardWindow, view: &BoardView) {
    let a = window.global::<BoardAdapter>();
    a.set_hall_name(view.hall_name.as_str().into());
    a.set_hall_name_en(view.hall_name_en.as_str().into());
    a.set_has_latest(view.latest.is_some());
    let (number, win) = view.latest.clone().unwrap_or_default();
    a.set_latest_number(number.into());
    a.set_latest_window(win.into());
    let history: Vec<CallRow> = view
        .history
        .iter()
        .map(|(n, w)| CallRow {
            number: n.into(),
            window: w.into(),
        })
        .collect();
    a.set_history(ModelRc::from(Rc::new(VecModel::from(history))));
    let waiting: Vec<WaitingRow> = view
        .waiting
        .iter()
        .map(|(s, n)| WaitingRow {
            service: s.into(),
            count: *n,
        })
        .collect();
    a.set_waiting(ModelRc::from(Rc::new(VecModel::from(waiting))));
    a.set_notices(view.notices.as_str().into());
    if view.time_zone.is_some() && HALL_ZONE.with(|z| z.replace(view.time_zone)) != view.time_zone {
        tick_clock(window);
    }
    a.set_emergency(view.emergency.as_str().into());
    a.set_reconnecting(view.reconnecting);
    a.set_open(view.open);
    // The serial only needs to tell this flash from the next one.
    let serial = (view.call_serial % (i32::MAX as u64)) as i32;
    a.set_call_serial(serial);
    if view.flash {
        a.set_flashing(true);
        let weak = window.as_weak();
        slint::Timer::single_shot(FLASH_FOR, move || {
            if let Some(w) = weak.upgrade() {
                let a = w.global::<BoardAdapter>();
                if a.get_call_serial() == serial {
                    a.set_flashing(false);
                }
            }
        });
    }
}

const WEEKDAYS: [&str; 7] = [
    "星期一",
    "星期二",
    "星期三",
    "星期四",
    "星期五",
    "星期六",
    "星期日",
];

/// The clock line and the date line for `now`.
pub fn clock_text<Tz: TimeZone>(now: &DateTime<Tz>) -> (SharedString, SharedString)
where
    Tz::Offset: std::fmt::Display,
{
    let weekday = WEEKDAYS[now.weekday().num_days_from_monday() as usize];
    (
        now.format("%H:%M").to_string().into(),
        format!(
            "{} {weekday} · {}",
            now.format("%Y-%m-%d"),
            now.format("%a")
        )
        .into(),
    )
}

thread_local! {
    /// The hall's time zone as the last view said (UI thread only, like the window).
    static HALL_ZONE: std::cell::Cell<Option<chrono_tz::Tz>> = const { std::cell::Cell::new(None) };
}

/// The clock and date lines at `now` in the hall's zone, or the machine's own when it is not
/// known yet.
pub fn clock_in(zone: Option<chrono_tz::Tz>, now: DateTime<Utc>) -> (SharedString, SharedString) {
    match zone {
        Some(tz) => clock_text(&now.with_timezone(&tz)),
        None => clock_text(&now.with_timezone(&Local)),
    }
}

/// Sets the clock to the hall's time now. UI thread only.
pub fn tick_clock(window: &BoardWindow) {
    let (clock, date) = clock_in(HALL_ZONE.with(|z| z.get()), Utc::now());
    let a = window.global::<BoardAdapter>();
    a.set_clock(clock);
    a.set_date(date);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::WindowFilter;
    use qhall_shared::api::{Localized, Notice};
    use qhall_shared::events::{Call, Event, Message};

    fn board_with_calls(n: u32) -> Board {
        let mut b = Board::new(WindowFilter::all());
        let recent = (0..n)
            .rev()
            .map(|i| Call {
                number: format!("A{:03}", i + 1).parse().unwrap(),
                service: "A".parse().unwrap(),
                window: qhall_shared::WindowNo::new(1 + i % 4).unwrap(),
                at: DateTime::from_timestamp(1_800_000_000 + i64::from(i), 0).unwrap(),
            })
            .collect();
        b.apply(Message {
            seq: 1,
            event: Event::Snapshot {
                hall: Localized {
                    zh: "市民中心".into(),
                    zh_hant: String::new(),
                    en: "Civic Centre".into(),
                },
                recent_calls: recent,
                waiting: vec![],
                windows: vec![],
                notices: vec![
                    Notice {
                        id: 1,
                        text: Localized {
                            zh: "午休".into(),
                            zh_hant: String::new(),
                            en: "Lunch".into(),
                        },
                    },
                    Notice {
                        id: 2,
                        text: Localized {
                            zh: String::new(),
                            zh_hant: String::new(),
                            en: "Bring ID".into(),
                        },
                    },
                ],
                emergency: Some(String::new()),
                open: true,
                time_zone: Some("Asia/Shanghai".into()),
            },
        });
        b.connected = true;
        b
    }

    #[test]
    fn the_view_splits_latest_from_history_and_joins_notices() {
        let v = BoardView::new(&board_with_calls(3), None);
        assert_eq!(v.latest, Some(("A003".into(), "3".into())));
        assert_eq!(
            v.history,
            [("A002".into(), "2".into()), ("A001".into(), "1".into())]
        );
        assert_eq!(v.hall_name, "市民中心");
        assert_eq!(v.hall_name_en, "Civic Centre");
        assert_eq!(v.notices, "午休  ·  Lunch      ◆      Bring ID");
        assert_eq!(v.emergency, "", "a blank emergency message is no emergency");
        assert!(!v.reconnecting);
    }

    #[test]
    fn only_a_new_call_flashes_not_the_first_state_nor_an_unchanged_one() {
        let mut b = board_with_calls(2);
        assert!(!BoardView::new(&b, None).flash);
        let shown = b.call_serial;
        assert!(!BoardView::new(&b, Some(shown)).flash);
        b.apply(Message {
            seq: 2,
            event: Event::Recalled {
                call: Call {
                    number: "A001".parse().unwrap(),
                    service: "A".parse().unwrap(),
                    window: qhall_shared::WindowNo::new(1).unwrap(),
                    at: DateTime::from_timestamp(1_800_000_100, 0).unwrap(),
                },
            },
        });
        assert!(BoardView::new(&b, Some(shown)).flash);
        assert!(!BoardView::new(&board_with_calls(0), Some(0)).flash);
    }

    #[test]
    fn the_clock_shows_hours_minutes_and_a_chinese_weekday() {
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 11, 27, 9, 5, 59)
            .unwrap();
        let (clock, date) = clock_text(&t);
        assert_eq!(clock, "09:05");
        assert_eq!(date, "2026-11-27 星期五 · Fri");
    }

    #[test]
    fn the_clock_shows_the_halls_time_not_the_board_machines() {
        // A board on UTC in a Shanghai hall: 12:47 UTC is 20:47 in the hall.
        let t = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 12, 47, 0).unwrap();
        let mut b = board_with_calls(1);
        assert_eq!(
            b.time_zone,
            Some(chrono_tz::Asia::Shanghai),
            "from the snapshot"
        );
        let (clock, date) = clock_in(BoardView::new(&b, None).time_zone, t);
        assert_eq!(
            (clock.as_str(), date.as_str()),
            ("20:47", "2026-03-02 星期一 · Mon")
        );
        // Just past midnight in Shanghai it is already the next day there.
        let late = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 16, 5, 0).unwrap();
        assert_eq!(clock_in(b.time_zone, late).0, "00:05");
        b.time_zone = None;
        assert_eq!(BoardView::new(&b, None).time_zone, None);
    }
}

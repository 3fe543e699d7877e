//! A realistic board built through the reducer, for screenshots and UI tests: what a hall
//! looks like mid-morning. Not used by the running board.

use chrono::{DateTime, Utc};
use qhall_shared::WindowNo;
use qhall_shared::api::{Localized, Notice, WindowState};
use qhall_shared::events::{Call, Event, Message, Waiting, WindowStatus};

use crate::board::{Board, WindowFilter};

fn call(number: &str, window: u32, minute: i64) -> Call {
    Call {
        number: number
            .parse()
            .unwrap_or_else(|_| "A001".parse().expect("a valid number")),
        service: number
            .get(..1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| "A".parse().expect("a valid code")),
        window: WindowNo::new(window).unwrap_or_else(|_| WindowNo::new(1).expect("window 1")),
        at: DateTime::<Utc>::from_timestamp(1_800_000_000 + minute * 60, 0).unwrap_or_default(),
    }
}

/// A connected board after a morning of calls; the latest is `A011` at window 1.
pub fn morning() -> Board {
    let mut board = Board::new(WindowFilter::all());
    let recent = [
        ("A011", 1),
        ("B005", 2),
        ("C003", 4),
        ("A010", 3),
        ("B004", 2),
        ("A009", 1),
        ("A008", 4),
        ("C002", 3),
        ("A007", 1),
        ("B003", 2),
    ];
    let recent_calls = recent
        .iter()
        .enumerate()
        .map(|(i, (n, w))| call(n, *w, 60 - i as i64))
        .collect();
    let waiting = [("A", 12), ("B", 3), ("C", 0)]
        .into_iter()
        .filter_map(|(s, n)| {
            Some(Waiting {
                service: s.parse().ok()?,
                waiting: n,
            })
        })
        .collect();
    let windows = (1..=4)
        .filter_map(|w| {
            Some(WindowStatus {
                window: WindowNo::new(w).ok()?,
                state: WindowState::Open,
                current: None,
            })
        })
        .collect();
    let notices = vec![
        Notice {
            id: 1,
            text: Localized {
                zh: "12:00–13:00 午休，部分窗口暂停服务".into(),
                zh_hant: String::new(),
                en: "Lunch break 12:00–13:00: some windows pause".into(),
            },
        },
        Notice {
            id: 2,
            text: Localized {
                zh: "办理业务请携带身份证原件".into(),
                zh_hant: String::new(),
                en: "Please bring your original ID card".into(),
            },
        },
    ];
    board.apply(Message {
        seq: 100,
        event: Event::Snapshot {
            hall: Localized {
                zh: "市民服务中心".into(),
                zh_hant: "市民服務中心".into(),
                en: "Citizen Service Centre".into(),
            },
            recent_calls,
            waiting,
            windows,
            notices,
            emergency: None,
            open: true,
            time_zone: Some("Asia/Shanghai".into()),
        },
    });
    board.connected = true;
    board
}

/// [`morning`] and then a new call: `A012` to window 3.
pub fn fresh_call() -> Board {
    let mut board = morning();
    board.apply(Message {
        seq: 101,
        event: Event::Called {
            call: call("A012", 3, 61),
            waiting: 11,
        },
    });
    board
}

/// [`fresh_call`] with an emergency broadcast.
pub fn emergency() -> Board {
    let mut board = fresh_call();
    board.apply(Message {
        seq: 102,
        event: Event::Emergency {
            message: Some("因消防演练，大厅暂停服务，请听从工作人员指引有序离开。Fire drill: the hall is closed, please follow the staff to the exits.".into()),
        },
    });
    board
}

//! The board's state and the pure reducer that keeps it: stream messages in, board state
//! and announcements out. No I/O and no clock, so every rule about what the board shows and
//! what it speaks is tested here without a server, a window or a sound card.
//!
//! The rules that keep every call announced exactly once live here too:
//! - an event whose `seq` is not newer than the last one applied is a duplicate and ignored
//!   (a resumed stream may repeat what the board already has);
//! - a snapshot after the first one (a resync after a reconnect the server could not resume)
//!   announces the calls in it that the board has never seen, oldest first.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use qhall_shared::api::{Localized, Notice, WindowState};
use qhall_shared::events::{Call, Event, Message};
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};

/// How many calls the board keeps: the latest one and the history list under it.
pub const KEPT_CALLS: usize = 9;

/// Which windows this board shows and speaks. Empty: every window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowFilter(BTreeSet<u32>);

impl WindowFilter {
    /// Every window of the hall.
    pub fn all() -> Self {
        WindowFilter(BTreeSet::new())
    }

    pub fn shows(&self, window: WindowNo) -> bool {
        self.0.is_empty() || self.0.contains(&window.get())
    }
}

impl std::str::FromStr for WindowFilter {
    type Err = String;

    /// `1,2,5-8`; an empty string or `all` means every window.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = BTreeSet::new();
        let s = s.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("all") {
            return Ok(WindowFilter::all());
        }
        let number = |part: &str| -> Result<u32, String> {
            part.trim()
                .parse::<WindowNo>()
                .map(WindowNo::get)
                .map_err(|e| e.to_string())
        };
        for part in s.split(',') {
            match part.split_once('-') {
                Some((from, to)) => {
                    let (from, to) = (number(from)?, number(to)?);
                    if from > to {
                        return Err(format!("window range {part:?} runs backwards"));
                    }
                    set.extend(from..=to);
                }
                None => {
                    set.insert(number(part)?);
                }
            }
        }
        Ok(WindowFilter(set))
    }
}

/// Whether an announcement is a first call or a recall (spoken the same way, counted apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    Call,
    Recall,
}

/// One call to speak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub number: TicketNumber,
    pub window: WindowNo,
    pub service: ServiceCode,
    pub kind: CallKind,
}

impl Announcement {
    fn new(call: &Call, kind: CallKind) -> Self {
        Announcement {
            number: call.number.clone(),
            window: call.window,
            service: call.service,
            kind,
        }
    }
}

/// A stream message as received: one the board understands, or one of a newer protocol
/// whose `seq` still counts.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Known(Message),
    Unknown { seq: u64, kind: String },
}

impl Incoming {
    /// Parses one text frame. Unknown `type`s are not an error: a newer server may send
    /// events this board does not know, and their `seq` must still be tracked so that a
    /// resume does not ask for them again.
    pub fn parse(text: &str) -> Result<Incoming, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let seq = value
            .get("seq")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| String::from("message without a seq"))?;
        let kind = value
            .get("type")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_owned();
        if !KNOWN_TYPES.contains(&kind.as_str()) {
            return Ok(Incoming::Unknown { seq, kind });
        }
        serde_json::from_value::<Message>(value)
            .map(Incoming::Known)
            .map_err(|e| format!("bad {kind:?} message: {e}"))
    }
}

const KNOWN_TYPES: &[&str] = &[
    "snapshot",
    "called",
    "recalled",
    "issued",
    "waiting",
    "cleared",
    "window",
    "notice",
    "emergency",
    "services",
];

/// Everything the board shows. `calls[0]` is the latest call, the rest the history.
#[derive(Debug, Clone, PartialEq)]
pub struct Board {
    pub hall: Localized,
    /// Most recent first, at most [`KEPT_CALLS`], only the windows this board shows.
    pub calls: Vec<Call>,
    /// Increases with every call or recall put on top: the UI restarts its highlight on change.
    pub call_serial: u64,
    pub waiting: BTreeMap<ServiceCode, u32>,
    pub windows: BTreeMap<WindowNo, WindowState>,
    pub notices: Vec<Notice>,
    pub emergency: Option<String>,
    /// The hall issues tickets now.
    pub open: bool,
    /// The hall's time zone, once a snapshot said it (the clock shows the hall's time).
    pub time_zone: Option<chrono_tz::Tz>,
    /// The stream is up; false while reconnecting (the board keeps showing its last state).
    pub connected: bool,
    /// The last `seq` applied; `None` before the first snapshot.
    pub seq: Option<u64>,
    /// The newest call time ever seen, so a resync announces only what came after it.
    last_call_at: Option<DateTime<Utc>>,
    filter: WindowFilter,
}

impl Board {
    pub fn new(filter: WindowFilter) -> Self {
        Board {
            hall: Localized::default(),
            calls: Vec::new(),
            call_serial: 0,
            waiting: BTreeMap::new(),
            windows: BTreeMap::new(),
            notices: Vec::new(),
            emergency: None,
            open: false,
            time_zone: None,
            connected: false,
            seq: None,
            last_call_at: None,
            filter,
        }
    }

    /// The call shown big, if any.
    pub fn latest(&self) -> Option<&Call> {
        self.calls.first()
    }

    /// The calls in the history list under it.
    pub fn history(&self) -> &[Call] {
        self.calls.get(1..).unwrap_or(&[])
    }

    /// Applies one received message; returns what to announce, in order.
    pub fn receive(&mut self, incoming: Incoming) -> Vec<Announcement> {
        match incoming {
            Incoming::Known(message) => self.apply(message),
            Incoming::Unknown { seq, .. } => {
                if self.is_new(seq) {
                    self.seq = Some(seq);
                }
                Vec::new()
            }
        }
    }

    /// Whether an event with this `seq` has not been applied yet.
    fn is_new(&self, seq: u64) -> bool {
        self.seq.is_none_or(|last| seq > last)
    }

    /// Applies one message; returns what to announce, in order.
    pub fn apply(&mut self, message: Message) -> Vec<Announcement> {
        let Message { seq, event } = message;
        if let Event::Snapshot { .. } = event {
            // A snapshot is the truth, even with a lower seq (a server whose database was
            // replaced starts counting again).
            let announce = self.apply_snapshot(event);
            self.seq = Some(seq);
            return announce;
        }
        if self.seq.is_none() || !self.is_new(seq) {
            // Before the first snapshot there is nothing to apply an event to; after it, an
            // old seq is a duplicate from a resumed stream.
            return Vec::new();
        }
        self.seq = Some(seq);
        match event {
            Event::Snapshot { .. } => Vec::new(),
            Event::Called { call, waiting } => {
                self.waiting.insert(call.service, waiting);
                self.put_on_top(call, CallKind::Call).into_iter().collect()
            }
            Event::Recalled { call } => self
                .put_on_top(call, CallKind::Recall)
                .into_iter()
                .collect(),
            Event::Issued { service, waiting } | Event::Waiting { service, waiting } => {
                self.waiting.insert(service, waiting);
                Vec::new()
            }
            Event::Cleared { .. } => Vec::new(),
            Event::Window { window, state } => {
                self.windows.insert(window, state);
                Vec::new()
            }
            Event::Notice { notices } => {
                self.notices = notices;
                Vec::new()
            }
            Event::Emergency { message } => {
                self.emergency = message.filter(|m| !m.trim().is_empty());
                Vec::new()
            }
            Event::Services { open } => {
                self.open = open;
                Vec::new()
            }
        }
    }

    fn apply_snapshot(&mut self, event: Event) -> Vec<Announcement> {
        let Event::Snapshot {
            hall,
            recent_calls,
            waiting,
            windows,
            notices,
            emergency,
            open,
            time_zone,
        } = event
        else {
            return Vec::new();
        };
        let resync = self.seq.is_some();
        let shown: Vec<Call> = recent_calls
            .into_iter()
            .filter(|c| self.filter.shows(c.window))
            .collect();
        let mut announce = Vec::new();
        if resync {
            // Calls made while the board was away and the server could not replay them.
            let unseen = shown.iter().rev().filter(|c| {
                self.last_call_at.is_none_or(|last| c.at > last) && !self.calls.contains(c)
            });
            announce.extend(unseen.map(|c| Announcement::new(c, CallKind::Call)));
        }
        if shown.first() != self.calls.first() {
            self.call_serial += 1;
        }
        if let Some(newest) = shown.iter().map(|c| c.at).max() {
            self.last_call_at = Some(self.last_call_at.map_or(newest, |l| l.max(newest)));
        }
        self.calls = shown;
        self.calls.truncate(KEPT_CALLS);
        self.hall = hall;
        self.waiting = waiting
            .into_iter()
            .map(|w| (w.service, w.waiting))
            .collect();
        self.windows = windows.into_iter().map(|w| (w.window, w.state)).collect();
        self.notices = notices;
        self.emergency = emergency.filter(|m| !m.trim().is_empty());
        self.open = open;
        if let Some(tz) = time_zone.and_then(|z| z.parse().ok()) {
            self.time_zone = Some(tz);
        }
        announce
    }

    /// Puts a call or recall on top of the board; `None` if it is for a window not shown.
    fn put_on_top(&mut self, call: Call, kind: CallKind) -> Option<Announcement> {
        if !self.filter.shows(call.window) {
            return None;
        }
        let announcement = Announcement::new(&call, kind);
        // A ticket appears once: a recall (or a second call after a transfer) moves it up.
        self.calls.retain(|c| c.number != call.number);
        self.last_call_at = Some(self.last_call_at.map_or(call.at, |l| l.max(call.at)));
        self.calls.insert(0, call);
        self.calls.truncate(KEPT_CALLS);
        self.call_serial += 1;
        Some(announcement)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qhall_shared::events::{Waiting, WindowStatus};

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn call(number: &str, window: u32, secs: i64) -> Call {
        Call {
            number: number.parse().unwrap(),
            service: number[..1].parse().unwrap(),
            window: WindowNo::new(window).unwrap(),
            at: at(secs),
        }
    }

    fn snapshot(seq: u64, recent: Vec<Call>) -> Message {
        Message {
            seq,
            event: Event::Snapshot {
                hall: Localized {
                    zh: "大厅".into(),
                    zh_hant: String::new(),
                    en: "Hall".into(),
                },
                recent_calls: recent,
                waiting: vec![Waiting {
                    service: "A".parse().unwrap(),
                    waiting: 4,
                }],
                windows: vec![WindowStatus {
                    window: WindowNo::new(1).unwrap(),
                    state: WindowState::Open,
                    current: None,
                }],
                notices: vec![],
                emergency: None,
                open: true,
                time_zone: Some("Asia/Shanghai".into()),
            },
        }
    }

    fn called(seq: u64, number: &str, window: u32, secs: i64) -> Message {
        Message {
            seq,
            event: Event::Called {
                call: call(number, window, secs),
                waiting: 3,
            },
        }
    }

    fn numbers(announcements: &[Announcement]) -> Vec<String> {
        announcements
            .iter()
            .map(|a| format!("{}>{}", a.number, a.window))
            .collect()
    }

    fn board() -> Board {
        let mut b = Board::new(WindowFilter::all());
        assert!(b.apply(snapshot(10, vec![call("A001", 1, 0)])).is_empty());
        b
    }

    #[test]
    fn the_first_snapshot_shows_the_state_and_announces_nothing() {
        let b = board();
        assert_eq!(b.latest().unwrap().number.as_str(), "A001");
        assert_eq!(b.hall.en, "Hall");
        assert_eq!(b.waiting[&"A".parse().unwrap()], 4);
        assert_eq!(b.seq, Some(10));
    }

    #[test]
    fn a_call_goes_on_top_is_announced_and_updates_the_waiting_count() {
        let mut b = board();
        let serial = b.call_serial;
        let said = b.apply(called(11, "A002", 3, 10));
        assert_eq!(numbers(&said), ["A002>3"]);
        assert_eq!(said[0].kind, CallKind::Call);
        assert_eq!(b.latest().unwrap().number.as_str(), "A002");
        assert_eq!(b.history()[0].number.as_str(), "A001");
        assert_eq!(b.waiting[&"A".parse().unwrap()], 3);
        assert!(b.call_serial > serial);
    }

    #[test]
    fn a_recall_is_announced_again_and_moves_the_ticket_up_without_duplicating_it() {
        let mut b = board();
        b.apply(called(11, "A002", 3, 10));
        let said = b.apply(Message {
            seq: 12,
            event: Event::Recalled {
                call: call("A001", 1, 20),
            },
        });
        assert_eq!(numbers(&said), ["A001>1"]);
        assert_eq!(said[0].kind, CallKind::Recall);
        let shown: Vec<&str> = b.calls.iter().map(|c| c.number.as_str()).collect();
        assert_eq!(shown, ["A001", "A002"]);
    }

    #[test]
    fn an_event_seen_before_is_neither_applied_nor_announced_again() {
        let mut b = board();
        assert_eq!(b.apply(called(11, "A002", 3, 10)).len(), 1);
        assert!(b.apply(called(11, "A002", 3, 10)).is_empty());
        assert!(b.apply(called(9, "A009", 2, 5)).is_empty());
        assert_eq!(b.calls.len(), 2);
        assert_eq!(b.seq, Some(11));
    }

    #[test]
    fn events_before_the_first_snapshot_are_ignored() {
        let mut b = Board::new(WindowFilter::all());
        assert!(b.apply(called(1, "A001", 1, 0)).is_empty());
        assert!(b.calls.is_empty());
        assert_eq!(b.seq, None);
    }

    #[test]
    fn a_resync_snapshot_announces_only_the_calls_missed_oldest_first() {
        let mut b = board();
        b.apply(called(11, "A002", 1, 10));
        let said = b.apply(snapshot(
            20,
            vec![
                call("B001", 2, 40),
                call("A003", 1, 30),
                call("A002", 1, 10),
                call("A001", 1, 0),
            ],
        ));
        assert_eq!(numbers(&said), ["A003>1", "B001>2"]);
        assert_eq!(b.latest().unwrap().number.as_str(), "B001");
        assert_eq!(b.seq, Some(20));
    }

    #[test]
    fn a_resync_snapshot_with_nothing_new_announces_nothing() {
        let mut b = board();
        b.apply(called(11, "A002", 1, 10));
        let serial = b.call_serial;
        let said = b.apply(snapshot(11, vec![call("A002", 1, 10), call("A001", 1, 0)]));
        assert!(said.is_empty());
        assert_eq!(
            b.call_serial, serial,
            "the same latest call must not flash again"
        );
    }

    #[test]
    fn only_the_configured_windows_are_shown_and_spoken() {
        let mut b = Board::new("1,2,5-8".parse().unwrap());
        b.apply(snapshot(1, vec![call("A001", 3, 0), call("A000", 6, -5)]));
        assert_eq!(b.calls.len(), 1);
        assert_eq!(b.latest().unwrap().number.as_str(), "A000");
        assert!(b.apply(called(2, "A002", 4, 10)).is_empty());
        assert_eq!(numbers(&b.apply(called(3, "A003", 7, 20))), ["A003>7"]);
        assert_eq!(b.seq, Some(3));
    }

    #[test]
    fn the_history_keeps_the_last_calls_only() {
        let mut b = board();
        for i in 0..20u64 {
            b.apply(called(11 + i, &format!("A{:03}", 100 + i), 1, i as i64));
        }
        assert_eq!(b.calls.len(), KEPT_CALLS);
        assert_eq!(b.history().len(), KEPT_CALLS - 1);
        assert_eq!(b.latest().unwrap().number.as_str(), "A119");
    }

    #[test]
    fn emergency_notices_windows_and_opening_follow_their_events() {
        let mut b = board();
        b.apply(Message {
            seq: 11,
            event: Event::Emergency {
                message: Some("请疏散".into()),
            },
        });
        assert_eq!(b.emergency.as_deref(), Some("请疏散"));
        b.apply(Message {
            seq: 12,
            event: Event::Emergency { message: None },
        });
        assert_eq!(b.emergency, None);
        let notice = Notice {
            id: 1,
            text: Localized {
                zh: "午休".into(),
                ..Default::default()
            },
        };
        b.apply(Message {
            seq: 13,
            event: Event::Notice {
                notices: vec![notice],
            },
        });
        assert_eq!(b.notices.len(), 1);
        let w = WindowNo::new(1).unwrap();
        b.apply(Message {
            seq: 14,
            event: Event::Window {
                window: w,
                state: WindowState::Paused,
            },
        });
        assert_eq!(b.windows[&w], WindowState::Paused);
        b.apply(Message {
            seq: 15,
            event: Event::Services { open: false },
        });
        assert!(!b.open);
        b.apply(Message {
            seq: 16,
            event: Event::Issued {
                service: "B".parse().unwrap(),
                waiting: 7,
            },
        });
        assert_eq!(b.waiting[&"B".parse().unwrap()], 7);
    }

    #[test]
    fn unknown_event_types_are_skipped_but_their_seq_counts() {
        let mut b = board();
        let inc = Incoming::parse(r#"{"type":"holiday","seq":11,"date":"2026-10-01"}"#).unwrap();
        assert_eq!(
            inc,
            Incoming::Unknown {
                seq: 11,
                kind: "holiday".into()
            }
        );
        assert!(b.receive(inc).is_empty());
        assert_eq!(b.seq, Some(11));
        let text = r#"{"type":"called","seq":12,"number":"A002","service":"A","window":2,"at":"2027-01-15T08:00:00Z","waiting":1}"#;
        let said = b.receive(Incoming::parse(text).unwrap());
        assert_eq!(numbers(&said), ["A002>2"]);
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        assert!(Incoming::parse("not json").is_err());
        assert!(Incoming::parse(r#"{"type":"called"}"#).is_err());
        assert!(Incoming::parse(r#"{"type":"called","seq":3,"number":"bad"}"#).is_err());
    }

    #[test]
    fn window_filters_parse_lists_and_ranges() {
        let f: WindowFilter = "1,2,5-8".parse().unwrap();
        let shows = |n| f.shows(WindowNo::new(n).unwrap());
        assert!(shows(1) && shows(2) && shows(5) && shows(8));
        assert!(!shows(3) && !shows(4) && !shows(9));
        assert_eq!("all".parse::<WindowFilter>().unwrap(), WindowFilter::all());
        assert!("0".parse::<WindowFilter>().is_err());
        assert!("5-2".parse::<WindowFilter>().is_err());
        assert!("x".parse::<WindowFilter>().is_err());
    }
}

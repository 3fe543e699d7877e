//! The WebSocket event stream (`GET /api/v1/events`).
//!
//! Every message is one JSON object with `"type"` and `"seq"`; `seq` increases by one per
//! branch event. The first message on a connection is always a [`Event::Snapshot`]. No event
//! carries personal data: numbers, services, windows and counts only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::{Localized, Notice, WindowState};
use crate::ids::{ServiceCode, TicketNumber, WindowNo};

/// One message on the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub seq: u64,
    #[serde(flatten)]
    pub event: Event,
}

/// A call shown on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub number: TicketNumber,
    pub service: ServiceCode,
    pub window: WindowNo,
    pub at: DateTime<Utc>,
}

/// Waiting tickets of one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub service: ServiceCode,
    pub waiting: u32,
}

/// One window on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowStatus {
    pub window: WindowNo,
    pub state: WindowState,
    /// The number it is serving or has called, if any.
    #[serde(default)]
    pub current: Option<TicketNumber>,
}

/// The body of a message, by `"type"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The whole visible state; always the first message.
    Snapshot {
        hall: Localized,
        /// Most recent first.
        recent_calls: Vec<Call>,
        waiting: Vec<Waiting>,
        windows: Vec<WindowStatus>,
        notices: Vec<Notice>,
        emergency: Option<String>,
        /// Tickets can be taken now.
        #[serde(default)]
        open: bool,
        /// The hall's IANA time zone (e.g. `Asia/Shanghai`): boards show the hall's time, not
        /// their own machine's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        time_zone: Option<String>,
    },
    /// A ticket was called to a window (the board shows and speaks it).
    Called {
        #[serde(flatten)]
        call: Call,
        /// Tickets of the service still waiting after this call.
        #[serde(default)]
        waiting: u32,
    },
    /// The same ticket called again: spoken again.
    Recalled {
        #[serde(flatten)]
        call: Call,
    },
    /// A ticket was issued.
    Issued { service: ServiceCode, waiting: u32 },
    /// A service's waiting count changed for another reason (cancel, transfer, reinstate).
    Waiting { service: ServiceCode, waiting: u32 },
    /// A window's ticket finished (done, no-show, transferred away): the board may dim it.
    Cleared {
        window: WindowNo,
        number: TicketNumber,
    },
    /// A window opened, paused or closed.
    Window {
        window: WindowNo,
        state: WindowState,
    },
    /// The notices changed: the full current list.
    Notice { notices: Vec<Notice> },
    /// Emergency broadcast on (`message` set) or off (`null`). While on, no tickets are issued.
    Emergency { message: Option<String> },
    /// Services or opening hours changed (or the hall opened or closed): refetch `/api/v1/services`.
    Services { open: bool },
}

impl Message {
    /// Serializes the message once, for every client.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn called_has_the_protocol_fields_at_the_top_level() {
        let m = Message {
            seq: 7,
            event: Event::Called {
                call: Call {
                    number: "A001".parse().unwrap(),
                    service: "A".parse().unwrap(),
                    window: WindowNo::new(3).unwrap(),
                    at: DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
                        .unwrap()
                        .into(),
                },
                waiting: 2,
            },
        };
        let v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
        assert_eq!(v["type"], "called");
        assert_eq!(v["seq"], 7);
        assert_eq!(v["number"], "A001");
        assert_eq!(v["window"], 3);
        assert_eq!(v["service"], "A");
        let back: Message = serde_json::from_value(v).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn unknown_event_types_fail_to_parse_rather_than_guess() {
        assert!(serde_json::from_str::<Message>(r#"{"type":"nope","seq":1}"#).is_err());
    }
}

//! Rows as the rest of the server sees them: typed, validated, backend-neutral.

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::api::{Notice, TicketStatus, WindowState};
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};

pub use crate::queue::{BranchConfig, WindowDef};

/// A ticket as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRow {
    pub key: i64,
    pub id: String,
    pub branch_id: i64,
    /// The line it waits in now (changes when transferred to another service).
    pub service: ServiceCode,
    pub issued_service: ServiceCode,
    pub number: TicketNumber,
    pub number_seq: u32,
    pub day: NaiveDate,
    pub priority: bool,
    pub status: TicketStatus,
    pub issued_at: DateTime<Utc>,
    pub queue_at: DateTime<Utc>,
    pub target_window: Option<WindowNo>,
    pub window: Option<WindowNo>,
    pub staff_user_id: Option<i64>,
    /// The call that counts for the waiting time (cleared when a no-show is reinstated).
    pub first_called_at: Option<DateTime<Utc>>,
    pub last_called_at: Option<DateTime<Utc>>,
    pub serving_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub estimate_ahead: u32,
    pub estimate_secs: u64,
    pub extended_reason: Option<String>,
    pub device_id: Option<i64>,
    /// Who checked the customer's identity document at the window, and when (the identity
    /// step: only that it happened, never the document's number or the name on it).
    pub identity_checked_by: Option<i64>,
    pub identity_checked_at: Option<DateTime<Utc>>,
    /// An appointment's ticket: its slot's start (its `queue_at` is when it became due).
    pub appointment_at: Option<DateTime<Utc>>,
}

impl TicketRow {
    /// The handle staff see instead of [`TicketRow::id`]: stable and unique, but it opens
    /// nothing. The id is the customer's key to the tracking page and to cancelling; only the
    /// kiosk that printed the ticket and its holder ever get it.
    pub fn public_ref(&self) -> String {
        format!("ref-{}", self.key)
    }

    /// When its wait began: the issue, or an appointment's slot start if later (an appointment
    /// checked in early is not kept waiting until its slot).
    pub fn wait_from(&self) -> DateTime<Utc> {
        self.appointment_at
            .map_or(self.issued_at, |a| a.max(self.issued_at))
    }
}

/// A window as stored, with the services it serves.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowRow {
    pub number: WindowNo,
    pub name: String,
    pub state: WindowState,
    pub pause_reason: Option<String>,
    pub staff_user_id: Option<i64>,
    pub current_ticket: Option<i64>,
    pub state_since: Option<DateTime<Utc>>,
    /// Appointments called in a row by Call next (the policy's bound on their share).
    pub appointment_run: u32,
}

/// Who is calling: a person (staff, manager, admin) or a device (kiosk, display).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Kiosk,
    Display,
    /// A rating pad, bound to one window of its branch (`devices.window_number`): the only
    /// caller that may read or give that window's rating.
    Pad,
    /// The hall's own booking portal (issue #12): books, views and cancels appointments
    /// through the API for its branch, with no per-address limit.
    Booking,
    Staff,
    Manager,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Kiosk => "kiosk",
            Role::Display => "display",
            Role::Pad => "pad",
            Role::Booking => "booking",
            Role::Staff => "staff",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "kiosk" => Role::Kiosk,
            "display" => Role::Display,
            "pad" => Role::Pad,
            "booking" => Role::Booking,
            "staff" => Role::Staff,
            "manager" => Role::Manager,
            "admin" => Role::Admin,
            _ => return None,
        })
    }

    pub fn is_device(self) -> bool {
        matches!(
            self,
            Role::Kiosk | Role::Display | Role::Pad | Role::Booking
        )
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub role: Role,
    /// The branch it belongs to (admins: the default branch they act on).
    pub branch_id: i64,
    pub user_id: Option<i64>,
    pub device_id: Option<i64>,
    pub username: Option<String>,
}

impl Principal {
    /// The key that scopes idempotency keys to one caller.
    pub fn idempotency_scope(&self) -> String {
        match (self.device_id, self.user_id) {
            (Some(d), _) => format!("d:{d}"),
            (None, Some(u)) => format!("u:{u}"),
            _ => "anon".into(),
        }
    }

    pub fn is_manager(&self) -> bool {
        matches!(self.role, Role::Manager | Role::Admin)
    }
}

/// A user row, for login.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub branch_id: Option<i64>,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
}

/// What the board and kiosk show about the branch right now.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardState {
    pub seq: u64,
    pub recent_calls: Vec<qhall_shared::events::Call>,
    pub waiting: Vec<(ServiceCode, u32)>,
    pub windows: Vec<(WindowRow, Option<TicketNumber>)>,
    pub notices: Vec<Notice>,
}

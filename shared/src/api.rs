//! HTTP bodies of protocol version 1. Field names are part of the stable surface
//! (`PROTOCOL.md`): add fields, never rename or remove them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ServiceCode, TicketNumber, WindowNo};

/// A text in the hall's languages. `zh` is Simplified Chinese, `zh_hant` Traditional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Localized {
    pub zh: String,
    #[serde(default)]
    pub zh_hant: String,
    pub en: String,
}

impl Localized {
    /// The text in `lang` (`zh`, `zh-Hant`/`zh_hant`, anything else English), falling back
    /// to Simplified Chinese, then English, when a translation is missing.
    pub fn get(&self, lang: &str) -> &str {
        let pick = match lang {
            "zh" | "zh-Hans" | "zh_hans" => &self.zh,
            "zh-Hant" | "zh_hant" => &self.zh_hant,
            _ => &self.en,
        };
        if !pick.is_empty() {
            pick
        } else if !self.zh.is_empty() {
            &self.zh
        } else {
            &self.en
        }
    }
}

/// `GET /api/v1/services`: one entry per service of the caller's branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceInfo {
    pub code: ServiceCode,
    pub name: Localized,
    /// Tickets can be issued for it now.
    pub open: bool,
    /// Tickets waiting to be called.
    pub waiting: u32,
    /// What a ticket issued now would be told.
    pub estimated_wait_secs: u64,
    pub target_wait_secs: u64,
    /// What to bring and the steps, shown by the kiosk before issuing.
    #[serde(default)]
    pub guide: Localized,
    /// Whether customers may ask for priority (elderly, disabled, pregnant).
    #[serde(default)]
    pub priority_allowed: bool,
    /// When closed: when tickets can next be taken, if known.
    #[serde(default)]
    pub opens_at: Option<DateTime<Utc>>,
    /// When closed: why (`outside_hours`, `after_cutoff`, `emergency`, `disabled`).
    #[serde(default)]
    pub closed_reason: Option<String>,
    /// Customers may take its tickets from their phone: they check in at the kiosk.
    #[serde(default)]
    pub remote_tickets: bool,
    /// It takes bookings: booked customers check in at the kiosk with their code.
    #[serde(default)]
    pub appointments: bool,
}

/// `POST /api/v1/remote-tickets/check-in`: the code typed at the kiosk, the tracking link a
/// scanner read from the customer's phone, or (staff) the ticket's number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIn {
    pub code: String,
}

/// The answer to a check-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedIn {
    pub number: String,
    pub service: String,
    pub checked_in: bool,
}

/// `POST /api/v1/tickets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueTicket {
    pub service: String,
    #[serde(default)]
    pub priority: bool,
    /// At the reception desk (staff and managers): the kiosk (its device id) whose printer
    /// prints the ticket; the answer's `print_job` follows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub print_at: Option<i64>,
}

/// A ticket the reception desk sent to a kiosk's printer, and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintJobStatus {
    pub id: i64,
    /// The kiosk's name.
    pub kiosk: String,
    /// `waiting`, `printed` or `failed`.
    pub state: String,
    /// Why it failed, as the kiosk said (`no_paper`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A print job as the kiosk receives it (`GET /api/v1/devices/me/print-jobs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeskPrint {
    pub id: i64,
    pub ticket: IssuedTicket,
}

/// The kiosk's word on a print job (`POST /api/v1/devices/me/print-jobs/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintJobDone {
    pub printed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The answer to issuing: everything the kiosk prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedTicket {
    pub id: String,
    pub number: TicketNumber,
    pub service: ServiceCode,
    pub issued_at: DateTime<Utc>,
    pub ahead: u32,
    pub estimated_wait_secs: u64,
    pub tracking_url: String,
    #[serde(default)]
    pub priority: bool,
    /// The service's name, for the printed ticket.
    #[serde(default)]
    pub service_name: Localized,
    /// The guide's key line, printed on the ticket.
    #[serde(default)]
    pub guide_line: Localized,
    /// A booking's ticket (checked in with its code): the slot, printed on the ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment: Option<AppointmentSlot>,
    /// Issued at the desk with `print_at`: the job printing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub print_job: Option<PrintJobStatus>,
}

/// The slot of an appointment's ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentSlot {
    pub start: DateTime<Utc>,
    /// The slot's start in the hall's own time, `HH:MM`, as printed.
    pub time: String,
    /// The same code checked in again: this is the ticket it got the first time.
    #[serde(default)]
    pub reprint: bool,
}

/// A booking as the kiosk reads it (`GET /api/v1/appointments/{code}`): what it shows.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BookingSummary {
    pub code: String,
    pub service: String,
    /// `booked`, `checked_in`, `late`, `cancelled`, `no_show`.
    pub state: String,
    /// The slot's start, and when check-in opens and closes: `HH:MM` in the hall's time.
    #[serde(default)]
    pub time: Option<String>,
    #[serde(default)]
    pub checkin_opens: Option<String>,
    #[serde(default)]
    pub checkin_closes: Option<String>,
}

/// `POST /api/v1/appointments/check-in`: the booking code typed, or the booking link scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingCheckIn {
    pub code: String,
}

/// A ticket's life stage as the customer and staff see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Waiting,
    Called,
    Serving,
    Done,
    NoShow,
    Cancelled,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Waiting => "waiting",
            TicketStatus::Called => "called",
            TicketStatus::Serving => "serving",
            TicketStatus::Done => "done",
            TicketStatus::NoShow => "no_show",
            TicketStatus::Cancelled => "cancelled",
        }
    }

    /// Still in the hall's hands: waiting, called or being served.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            TicketStatus::Waiting | TicketStatus::Called | TicketStatus::Serving
        )
    }
}

impl std::str::FromStr for TicketStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "waiting" => TicketStatus::Waiting,
            "called" => TicketStatus::Called,
            "serving" => TicketStatus::Serving,
            "done" => TicketStatus::Done,
            "no_show" => TicketStatus::NoShow,
            "cancelled" => TicketStatus::Cancelled,
            other => return Err(format!("unknown ticket status {other:?}")),
        })
    }
}

/// `GET /api/v1/tickets/{id}`: what the holder of a ticket may see. Nothing personal.
/// Window actions answer the same shape to staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketView {
    /// To the ticket's holder, its secret id. In answers to staff (window views, the waiting
    /// list, call-next and the other window actions) a public reference (`ref-…`) that is
    /// stable and unique but opens nothing: staff act on tickets by their number.
    pub id: String,
    pub number: TicketNumber,
    pub service: ServiceCode,
    pub status: TicketStatus,
    pub issued_at: DateTime<Utc>,
    /// People who will be called before this ticket (0 once called).
    pub ahead: u32,
    pub estimated_wait_secs: u64,
    /// The window it was called to, while called or being served.
    pub window: Option<WindowNo>,
    #[serde(default)]
    pub priority: bool,
    #[serde(default)]
    pub called_at: Option<DateTime<Utc>>,
    /// Set when staff marked the service as extended, with the reason shown to the customer.
    #[serde(default)]
    pub extended_reason: Option<String>,
    /// In answers to staff, for a ticket whose service has the identity step: whether it is
    /// required and whether it has been done. Never the document's number or a name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityStep>,
    /// In staff's waiting lists, for a ticket taken from the phone: whether it has checked in
    /// (until it has, Call next passes over it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_checked_in: Option<bool>,
}

/// The identity step of a ticket, as the staff console shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityStep {
    /// Completing without the check is refused (409 `identity_not_checked`).
    pub required: bool,
    pub checked: bool,
}

/// `POST /api/v1/windows/{n}/call-next` and the other window actions that return a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowTicket {
    pub ticket: TicketView,
}

/// `POST /api/v1/windows/{n}/transfer`: exactly one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub window: Option<u32>,
}

/// `POST /api/v1/windows/{n}/pause`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub reason: String,
}

/// `POST /api/v1/windows/{n}/call` — call one waiting ticket out of order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallTicket {
    pub number: String,
}

/// `POST /api/v1/windows/{n}/cancel` — staff cancel a waiting ticket their window serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelTicket {
    pub number: String,
    /// Why (1 to 200 characters); kept in the ticket's history with who cancelled it.
    pub reason: String,
}

/// `POST /api/v1/windows/{n}/extend`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extend {
    pub reason: String,
}

/// A window's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowState {
    Open,
    Paused,
    Closed,
}

impl WindowState {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowState::Open => "open",
            WindowState::Paused => "paused",
            WindowState::Closed => "closed",
        }
    }
}

/// `GET /api/v1/windows/{n}`: the window as its staff console sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowView {
    pub number: WindowNo,
    pub name: String,
    pub state: WindowState,
    #[serde(default)]
    pub pause_reason: Option<String>,
    /// The services it serves, in its order of preference.
    pub services: Vec<ServiceCode>,
    pub current: Option<TicketView>,
    /// The username signed in, if any (staff names are not shown to customers).
    #[serde(default)]
    pub staff: Option<String>,
}

/// `POST /api/v1/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub username: String,
    pub password: String,
}

/// The answer to a login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginOk {
    pub token: String,
    pub role: String,
}

/// One set of wait figures, overall or for one service (`GET /api/v1/stats`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StatsFigures {
    pub issued: u64,
    pub served: u64,
    pub no_show: u64,
    #[serde(default)]
    pub cancelled: u64,
    /// Tickets called at least once (the base of the service level).
    #[serde(default)]
    pub called: u64,
    pub mean_wait_secs: Option<f64>,
    #[serde(default)]
    pub median_wait_secs: Option<f64>,
    pub p90_wait_secs: Option<f64>,
    #[serde(default)]
    pub mean_service_secs: Option<f64>,
    /// Share of called tickets whose wait was within the service's target.
    pub service_level: Option<f64>,
}

/// Per-service figures inside [`Stats`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceStats {
    pub service: ServiceCode,
    pub target_wait_secs: u64,
    #[serde(flatten)]
    pub figures: StatsFigures,
}

/// `GET /api/v1/stats?from=DATE&to=DATE`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    #[serde(flatten)]
    pub overall: StatsFigures,
    pub by_service: Vec<ServiceStats>,
}

/// One branch's figures inside [`BranchStatsList`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchStats {
    pub branch: i64,
    pub name: Localized,
    #[serde(flatten)]
    pub figures: StatsFigures,
    /// Ratings given on the pads for the range's tickets, and their mean (5 very satisfied … 1).
    #[serde(default)]
    pub ratings: u64,
    #[serde(default)]
    pub mean_rating: Option<f64>,
    /// Complaints not resolved yet (now, whatever the range).
    #[serde(default)]
    pub open_complaints: u64,
}

/// `GET /api/v1/stats/branches?from=DATE&to=DATE`: every branch the caller may see (an admin
/// all, a manager its own), and the figures across them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchStatsList {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    #[serde(flatten)]
    pub overall: StatsFigures,
    pub branches: Vec<BranchStats>,
}

/// `POST /api/v1/staffing/erlang-c`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErlangCRequest {
    pub arrivals_per_hour: f64,
    pub mean_service_secs: f64,
    pub target_wait_secs: f64,
    pub goal: f64,
}

/// The fewest windows that meet the goal, and their figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErlangCResponse {
    pub windows: u32,
    pub service_level: f64,
    pub mean_wait_secs: f64,
    pub probability_of_waiting: f64,
    pub offered_load: f64,
    pub occupancy: f64,
}

/// `GET /api/v1/hall`: what the kiosk and board show about the hall itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallInfo {
    pub name: Localized,
    pub time_zone: String,
    /// Tickets can be taken now (inside hours, before the cut-off, no emergency).
    pub open: bool,
    /// Today's opening periods, branch-local `HH:MM`.
    pub today: Vec<(String, String)>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub notices: Vec<Notice>,
    pub emergency: Option<String>,
    /// The hall sends text messages: kiosks offer "text me when my turn is near".
    #[serde(default)]
    pub messages: bool,
}

/// `POST /api/v1/tickets/{id}/notify`: the customer's number for "your turn is near".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyMe {
    pub mobile: String,
    /// `zh`, `zh_hant` or `en`.
    pub lang: String,
}

/// The answer to [`NotifyMe`]: the number as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyRegistered {
    /// Masked: `138****8000`.
    pub mobile: String,
    pub lang: String,
    pub notify_ahead: u32,
}

/// A notice scrolled on boards and shown on kiosks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: i64,
    pub text: Localized,
}

/// Every error: `{"error":{"code":"…","message":"…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// `PUT /api/v1/devices/me/state`: a kiosk reports its printer, for the managers' page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceState {
    /// `ok`, `no_paper`, `offline`, `error`, `none`.
    pub printer: String,
    #[serde(default)]
    pub detail: Option<String>,
}

/// `GET /api/v1/windows/{n}/rating` (the window's pad token): what its rating pad offers now.
/// Nothing personal: the ticket's number and service only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingPrompt {
    pub window: WindowNo,
    /// The ticket completed last at the window, while it can still be rated; else `null`.
    pub ticket: Option<RateableTicket>,
}

/// The ticket a rating pad offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateableTicket {
    pub number: TicketNumber,
    pub service: ServiceCode,
}

/// `POST /api/v1/windows/{n}/rating` (the window's pad token): `score` 5 非常满意 (very satisfied) …
/// 1 非常不满意 (very dissatisfied). One rating per ticket; a second answers 409.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub number: String,
    pub score: u8,
}

/// `POST /api/v1/complaints` (staff at their window, or a manager).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComplaint {
    /// The window it was taken at.
    pub window: u32,
    /// The ticket number it is about, if any.
    #[serde(default)]
    pub ticket: Option<String>,
    /// `attitude`, `waiting`, `process`, `environment` or `other`.
    pub category: String,
    pub description: String,
    /// The customer's contact (phone or e-mail); refused unless `consent` is true.
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub consent: bool,
}

/// A recorded complaint: it is open until the managers' register resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintRecorded {
    pub id: i64,
    pub status: String,
    pub created_at: DateTime<Utc>,
    /// The hall owes an answer by then (15 days).
    pub due_at: DateTime<Utc>,
}

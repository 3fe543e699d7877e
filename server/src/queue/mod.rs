//! The pure queue engine: what a hall's rules say, as functions over domain values.
//!
//! No I/O, no axum, no database, no clock: every function that depends on time takes `now`.
//! The hall's operations ([`crate::hall`]) load the values these functions need through the
//! store, call them inside one transaction and write back what they decide; the simulator runs the very same functions in
//! virtual time.
//!
//! # Layout
//! - [`admission`]: whether a new ticket may be issued now, and why not.
//! - [`lifecycle`]: the ticket state machine (which action is allowed in which state).
//! - [`window`]: the window state machine (closed, open, paused).
//! - [`policy`]: which waiting ticket a window calls next.
//! - [`numbering`]: ticket numbers per service per branch-local day, wrapping safely.
//! - [`schedule`]: opening hours, breaks, dated exceptions, last-ticket cut-off, local days.
//! - [`estimate`]: people ahead and the wait a new ticket is told.
//! - [`stats`]: wait time, service time and service level exactly as `PRODUCT.md` defines them.
//! - [`report`]: those figures grouped by service, window, staff member and hour, with the
//!   accuracy of the printed estimates.
//! - [`oversight`]: what happened outside a ticket's ordinary life — left unserved at closing,
//!   extensions, calls out of order, reinstatements, transfers, the identity step — per service
//!   and person.
//! - [`erlang`]: Erlang C, for the staffing advisor.
//! - [`staffing`]: arrivals, open windows and windows needed per hour of the week.
//! - [`alerts`]: the live page's judgements (wait against target, people per open window).
//! - [`attendance`]: sign-ins, sign-outs and pauses per person per day against opening hours.
//! - this file: a branch's configuration as the engine sees it: [`ServiceDef`], [`WindowDef`],
//!   [`BranchConfig`] (loaded by the store, built only from engine types).

pub mod admission;
pub mod alerts;
pub mod assessment;
pub mod attendance;
pub mod erlang;
pub mod estimate;
pub mod lifecycle;
pub mod numbering;
pub mod oversight;
pub mod policy;
pub mod report;
pub mod schedule;
pub mod staffing;
pub mod stats;
pub mod window;

use qhall_shared::api::Localized;
use qhall_shared::{ServiceCode, WindowNo};

use policy::WindowSkills;
use schedule::Schedule;

/// A service of a branch, as the engine needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDef {
    pub code: ServiceCode,
    pub name: Localized,
    pub guide: Localized,
    /// The wait the hall promises: service level counts calls within it.
    pub target_wait_secs: u32,
    /// First and last ticket number of a day (inclusive), e.g. 1..=999.
    pub first_number: u32,
    pub last_number: u32,
    pub priority_allowed: bool,
    /// Used for estimates until enough tickets of the day have been served.
    pub default_service_secs: u32,
    pub enabled: bool,
    /// Tickets still waiting at closing stay for the next day (a service that hands out "come
    /// back tomorrow" numbers) instead of being cancelled.
    pub carry_over: bool,
    /// Customers may take a ticket from their phone (the public hall page), to check in on
    /// arrival.
    pub remote_tickets: bool,
    /// Takes bookings (its appointment settings are on): the kiosk offers the check-in.
    pub appointments: bool,
    /// Whether staff check the customer's identity document before completing.
    pub identity_check: IdentityCheck,
}

/// A service's identity step (PRODUCT.md, "verify identity documents"). What is recorded is
/// only that it was checked, by whom and when: never a document number, never a name.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum IdentityCheck {
    /// No step: the console does not offer it.
    #[default]
    Off,
    /// Offered on the console; completing without it is allowed.
    Optional,
    /// Completing without it is refused (409 `identity_not_checked`).
    Required,
}

impl IdentityCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityCheck::Off => "off",
            IdentityCheck::Optional => "optional",
            IdentityCheck::Required => "required",
        }
    }

    pub fn parse(s: &str) -> Option<IdentityCheck> {
        match s {
            "off" => Some(IdentityCheck::Off),
            "optional" => Some(IdentityCheck::Optional),
            "required" => Some(IdentityCheck::Required),
            _ => None,
        }
    }
}

impl ServiceDef {
    /// Digits printed after the letter: enough for the last number, at least three.
    pub fn number_width(&self) -> usize {
        self.last_number.to_string().len().max(3)
    }
}

/// A window's static configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowDef {
    pub number: WindowNo,
    pub name: String,
    pub skills: WindowSkills,
}

impl WindowDef {
    /// Whether this window serves a ticket waiting in `service`'s line, or sent to
    /// `target_window`: one sent to it, or one in the line of a service it serves that was not
    /// sent to another window. The same rule as its waiting list, so staff call, cancel and
    /// reinstate only what their own window could call.
    pub fn serves_ticket(&self, service: ServiceCode, target_window: Option<WindowNo>) -> bool {
        match target_window {
            Some(w) => w == self.number,
            None => self.skills.serves.iter().any(|(s, _)| *s == service),
        }
    }
}

/// Everything about a branch that changes only when a manager changes it.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchConfig {
    pub id: i64,
    pub version: i64,
    pub name: Localized,
    pub schedule: Schedule,
    /// In display order.
    pub services: Vec<ServiceDef>,
    pub windows: Vec<WindowDef>,
    pub emergency: Option<String>,
    /// Minutes after closing at which windows still signed in are signed out.
    pub closing_grace_mins: u16,
    /// What the public hall page and the notices tell customers about the branch.
    pub public: PublicInfo,
    /// Messages to customers and the follow-up of their feedback.
    pub messages: MessageConfig,
}

/// A branch's settings for reaching customers outside the hall: messages, feedback, tickets
/// from the phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageConfig {
    /// "Your turn is near" is sent when this many people or fewer are ahead.
    pub notify_ahead: u32,
    /// Working days (days the branch is open) a follow-up of a bad rating is due in.
    pub follow_up_days: u32,
    /// The manager's wordings: (kind, language, text); the built-in text for the others.
    pub templates: Vec<(String, String, String)>,
    /// Remote tickets of a service waiting at once, as a share (percent) of its hourly
    /// capacity.
    pub remote_share_pct: u32,
    /// Minutes a remote ticket passed over unchecked keeps its place before it is cancelled.
    pub remote_hold_mins: u32,
}

impl Default for MessageConfig {
    fn default() -> Self {
        MessageConfig {
            notify_ahead: 3,
            follow_up_days: 5,
            templates: Vec::new(),
            remote_share_pct: 30,
            remote_hold_mins: 15,
        }
    }
}

/// A branch's public information: the service phone number and address shown on the public
/// page, and how many days ahead a dated exception becomes a notice on kiosks and boards.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicInfo {
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
    #[serde(default = "default_notice_days")]
    pub notice_days: u16,
}

fn default_notice_days() -> u16 {
    7
}

impl Default for PublicInfo {
    fn default() -> Self {
        PublicInfo {
            phone: String::new(),
            address: String::new(),
            notice_days: default_notice_days(),
        }
    }
}

impl BranchConfig {
    pub fn service(&self, code: ServiceCode) -> Option<&ServiceDef> {
        self.services.iter().find(|s| s.code == code)
    }

    pub fn window(&self, n: WindowNo) -> Option<&WindowDef> {
        self.windows.iter().find(|w| w.number == n)
    }

    /// The service's target, or 15 minutes for a service that has since been removed.
    pub fn target_secs(&self, code: ServiceCode) -> u32 {
        self.service(code).map_or(900, |s| s.target_wait_secs)
    }
}

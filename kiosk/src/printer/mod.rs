//! The ticket printer: what is printed ([`PrintJob`]), how it becomes ESC/POS bytes
//! ([`escpos`]), how Chinese gets onto paper ([`raster`]), and where the bytes go
//! ([`target`]).
//!
//! Printing is blocking I/O on a device; the controller runs it on a blocking thread and
//! never before the server acknowledged the ticket.

pub mod escpos;
pub mod raster;
pub mod target;

use std::fmt;

use qhall_shared::api::DeviceState;

pub use escpos::{ChineseMode, Layout, Paper};
pub use target::{EscPosPrinter, Target};

/// One ticket, already in the customer's language: the printer only lays it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJob {
    pub hall: String,
    pub number_label: String,
    pub number: String,
    /// "Priority" when the ticket is a priority ticket.
    pub priority: Option<String>,
    /// "Appointment 10:00" on an appointment's ticket.
    pub appointment: Option<String>,
    pub service: String,
    pub ahead: String,
    pub wait: String,
    /// Branch-local issue time, `2026-01-02 10:42`.
    pub issued_at: String,
    pub guide_line: Option<String>,
    pub tracking_url: String,
    pub scan_hint: String,
}

/// Why a ticket did not come out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintError {
    /// The printer could not be reached or opened (refused, no device, timeout).
    Offline(String),
    /// The printer reports its paper roll is out.
    NoPaper,
    /// The bytes could not be written completely.
    Write(String),
}

impl fmt::Display for PrintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrintError::Offline(e) => write!(f, "printer offline: {e}"),
            PrintError::NoPaper => f.write_str("printer out of paper"),
            PrintError::Write(e) => write!(f, "printer write error: {e}"),
        }
    }
}

impl std::error::Error for PrintError {}

impl PrintError {
    /// The state reported to the server (`PUT /api/v1/devices/me/state`).
    pub fn device_state(&self) -> DeviceState {
        let (printer, detail) = match self {
            PrintError::Offline(d) => ("offline", Some(d.clone())),
            PrintError::NoPaper => ("no_paper", None),
            PrintError::Write(d) => ("error", Some(d.clone())),
        };
        DeviceState {
            printer: printer.to_owned(),
            detail,
        }
    }
}

/// Something that puts a ticket on paper. Blocking.
pub trait Printer: Send + Sync + 'static {
    /// `false` for a kiosk without a printer: the screen then asks the customer to note the
    /// number instead of saying "printing".
    fn present(&self) -> bool;
    fn print(&self, job: &PrintJob) -> Result<(), PrintError>;
}

/// The state to report when the last print (if any) went well.
pub fn ok_state(present: bool) -> DeviceState {
    DeviceState {
        printer: if present { "ok" } else { "none" }.to_owned(),
        detail: None,
    }
}

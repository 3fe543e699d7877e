//! Storage: every state change is one database transaction that also appends the ticket's
//! event and the branch's stream event, so an acknowledged change survives `kill -9`.
//!
//! The hall's rules live once, in [`crate::hall`], written against the [`Tx`] trait: small,
//! named reads and writes, themselves written once in the SQL both databases accept over
//! [`Sql`] — the one thing a backend implements: run a statement in its transaction and hand
//! back rows. A backend overrides a [`Tx`] method only where it really differs (PostgreSQL
//! locks the branch's row and keeps stream events for one statement at commit). [`Store`] is
//! the facade the HTTP layer calls: it picks the backend, runs one operation in one
//! transaction, and publishes the committed stream events in order.
//!
//! # Layout
//! - [`sql`]: [`Sql`], the arguments and the columns both backends bind and read alike.
//! - [`tx`]: [`Tx`], the hall's reads and writes inside one transaction, and the branch's
//!   configuration as loaded.
//! - [`read`]: the board's snapshot, stream replay, statistics, the audit log.
//! - [`read_cache`]: the board's state and the services' waits, kept while the branch's
//!   stream seq and configuration version say they are current.
//! - [`people`]: logins, sessions, accounts and devices made from the command line.
//! - [`settings`], [`complaints`], [`live`]: the reads and writes of the manager's pages
//!   (configuration; the complaint register; the live page and attendance).
//! - `macros`: `write!`, `read!`: one operation on the configured backend; PostgreSQL's retry.
//! - [`export`]: report rows, `events.csv` lines and audit rows, shared by both backends.
//! - [`facade`]: [`Store`], one operation per transaction, events published after commit.
//! - [`health`]: readiness (a write round-trip, cached) and which database errors mean the
//!   storage is unavailable (disk full, I/O error, a damaged file) rather than a bug.
//! - [`backup`]: SQLite's online backup, restore, the integrity check and the daily schedule.
//! - [`model`]: rows as the rest of the server sees them (tickets, windows, branch config, people).
//! - [`pads`]: which window a rating pad device rates.
//! - [`sqlite`]: the SQLite backend (WAL, one writer connection, a pool of readers).
//! - [`postgres`]: the PostgreSQL backend (several servers on one database; LISTEN/NOTIFY).
//! - [`migrate_data`]: copies a SQLite hall into PostgreSQL (`qhall-server migrate-data`).
//! - [`seed`]: the demo hall.

#[macro_use]
mod macros;
#[macro_use]
pub mod sql;

pub mod backup;
pub mod complaints;
pub mod export;
pub mod facade;
pub mod health;
pub mod live;
pub mod migrate_data;
pub mod model;
pub mod pads;
pub mod people;
pub mod postgres;
pub mod read;
pub mod read_cache;
pub mod seed;
pub mod settings;
pub mod sqlite;
pub mod tx;

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::api::WindowState;
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};

pub use facade::{AtWindow, Backend, Store, WalkIn};
pub use model::*;
pub use sql::Sql;
pub use tx::Tx;

/// Why a store operation did not happen. Nothing was changed in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing named does not exist (`code` says which kind: `unknown_service`, …).
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// The action conflicts with the current state (a ticket acted on twice, a busy window).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A value that can never be valid here.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// The caller may not do this to this thing (another staff member's window).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// The database cannot work right now: its disk is full (`storage_full`), it failed to read
    /// or write (`storage_unavailable`), or its file is damaged (`storage_corrupt`). Nothing
    /// was changed; answered 503 so clients retry, and the readiness check turns false.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    /// The database failed; logged in full, answered generically.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl StoreError {
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        StoreError::NotFound {
            code,
            message: message.into(),
        }
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        StoreError::Conflict {
            code,
            message: message.into(),
        }
    }
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        StoreError::Invalid {
            code,
            message: message.into(),
        }
    }
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        StoreError::Forbidden {
            code,
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return StoreError::conflict("conflict", "that already exists");
        }
        if let Some(unavailable) = health::sqlx_unavailable(&e) {
            return unavailable;
        }
        StoreError::Other(e.into())
    }
}

impl From<crate::queue::lifecycle::LifecycleError> for StoreError {
    fn from(e: crate::queue::lifecycle::LifecycleError) -> Self {
        StoreError::conflict("invalid_state", e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A customer's rating of a completed ticket.
#[derive(Debug, Clone)]
pub struct NewRating {
    pub ticket: i64,
    pub branch_id: i64,
    pub window: WindowNo,
    /// Who served the ticket.
    pub staff: Option<i64>,
    /// 5 非常满意 … 1 非常不满意.
    pub score: u8,
    pub at: DateTime<Utc>,
}

/// A complaint for the managers' register: taken at a window, sent by the customer, or the
/// follow-up of a bad rating.
#[derive(Debug, Clone)]
pub struct NewComplaint {
    pub branch_id: i64,
    pub ticket: Option<i64>,
    pub window: Option<WindowNo>,
    /// Who took it: none for what the customer sent themselves.
    pub staff: Option<i64>,
    /// `window` (taken by staff), `customer` (sent from the tracking page) or `rating` (the
    /// follow-up of a rating of 1 or 2).
    pub source: &'static str,
    /// `complaint`, `suggestion` or `follow_up`.
    pub kind: &'static str,
    /// The person it concerns (who served the ticket), if known.
    pub about: Option<i64>,
    /// The service of its ticket.
    pub service: Option<ServiceCode>,
    pub category: &'static str,
    pub description: String,
    /// Personal data: `Some` only when `consent` is true.
    pub contact: Option<String>,
    pub consent: bool,
    pub created_at: DateTime<Utc>,
    /// When the answer is owed.
    pub due_at: DateTime<Utc>,
}

/// A ticket to insert.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub id: String,
    pub branch_id: i64,
    pub service: ServiceCode,
    pub number: TicketNumber,
    pub number_seq: u32,
    pub day: NaiveDate,
    pub priority: bool,
    pub issued_at: DateTime<Utc>,
    /// Its place in line: the issue time, or an appointment's due moment.
    pub queue_at: DateTime<Utc>,
    pub estimate_ahead: u32,
    pub estimate_secs: u64,
    pub device_id: Option<i64>,
    /// An appointment's slot start.
    pub appointment_at: Option<DateTime<Utc>>,
}

/// One entry of the audit log: who changed what, when.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub branch: i64,
    pub user: Option<i64>,
    pub at: DateTime<Utc>,
    pub action: &'a str,
    /// JSON; never a secret or a customer's data.
    pub detail: String,
}

/// One line of a ticket's history.
#[derive(Debug, Clone)]
pub struct TicketEvent {
    pub ticket: i64,
    pub at: DateTime<Utc>,
    /// What happened: the history's kinds are the lifecycle's actions.
    pub kind: crate::queue::lifecycle::Action,
    pub window: Option<WindowNo>,
    pub staff: Option<i64>,
    pub detail: Option<String>,
}

/// The state of a window row, for the window's own updates.
pub fn window_state_from(s: &str) -> WindowState {
    match s {
        "open" => WindowState::Open,
        "paused" => WindowState::Paused,
        _ => WindowState::Closed,
    }
}

//! Storage: every state change is one database transaction that also appends the ticket's
//! event and the branch's stream event, so an acknowledged change survives `kill -9`.
//!
//! The hall's rules live once, in [`crate::hall`], written against the [`Tx`] trait: small,
//! named reads and writes that each backend implements with its own SQL ([`sqlite`],
//! [`postgres`]). [`Store`] is the facade the HTTP layer calls: it picks the backend, runs one
//! operation in one transaction, and publishes the committed stream events in order.
//!
//! # Layout
//! - `macros`: `write!`, `read!`, `either!`: one operation on the configured backend.
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

pub mod backup;
pub mod export;
pub mod facade;
pub mod health;
pub mod migrate_data;
pub mod model;
pub mod pads;
pub mod postgres;
pub mod seed;
pub mod sqlite;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::api::{TicketStatus, WindowState};
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};

pub use facade::{Backend, Store};
pub use model::*;

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

/// The reads and writes [`crate::hall`] needs inside one transaction. Each backend implements them with
/// its own SQL; none of them decides anything.
#[allow(async_fn_in_trait)]
pub trait Tx {
    /// Serializes this transaction's writes with every other writer of the branch, in any
    /// process: called first by each write operation. SQLite has one writer already (a no-op);
    /// PostgreSQL locks the branch's row until the transaction ends.
    async fn lock_branch(&mut self, branch: i64) -> Result<()> {
        let _ = branch;
        Ok(())
    }
    /// The branch's configuration (services, windows, hours), cached by `config_version`.
    async fn config(&mut self, branch: i64) -> Result<Arc<BranchConfig>>;
    /// Increments and returns the branch's stream sequence.
    async fn next_seq(&mut self, branch: i64) -> Result<u64>;
    async fn insert_stream_event(
        &mut self,
        branch: i64,
        seq: u64,
        at: DateTime<Utc>,
        body: &str,
    ) -> Result<()>;

    async fn idempotent_ticket(&mut self, device_key: &str, key: &str)
    -> Result<Option<TicketRow>>;
    async fn save_idempotency(
        &mut self,
        device_key: &str,
        key: &str,
        ticket: i64,
        now: DateTime<Utc>,
    ) -> Result<()>;

    async fn last_number(
        &mut self,
        branch: i64,
        service: ServiceCode,
        day: NaiveDate,
    ) -> Result<Option<u32>>;
    async fn set_last_number(
        &mut self,
        branch: i64,
        service: ServiceCode,
        day: NaiveDate,
        n: u32,
    ) -> Result<()>;
    async fn number_is_live(&mut self, branch: i64, service: ServiceCode, n: u32) -> Result<bool>;

    async fn insert_ticket(&mut self, t: &NewTicket) -> Result<i64>;
    async fn ticket(&mut self, key: i64) -> Result<Option<TicketRow>>;
    async fn ticket_by_id(&mut self, id: &str) -> Result<Option<TicketRow>>;
    /// The live (or most recent) ticket with this number.
    async fn ticket_by_number(
        &mut self,
        branch: i64,
        number: &TicketNumber,
    ) -> Result<Option<TicketRow>>;
    /// Writes every mutable column of the ticket. Fails with `Conflict` unless the row still has
    /// `expected` status (so two writers can never both take one ticket).
    async fn update_ticket(&mut self, t: &TicketRow, expected: TicketStatus) -> Result<()>;
    async fn append_ticket_event(&mut self, e: &TicketEvent) -> Result<()>;

    async fn waiting_count(&mut self, branch: i64, service: ServiceCode) -> Result<u32> {
        let (p, n) = self.waiting_by_class(branch, service).await?;
        Ok(p + n)
    }
    /// Waiting tickets of the service: (priority, normal).
    async fn waiting_by_class(&mut self, branch: i64, service: ServiceCode) -> Result<(u32, u32)>;
    async fn waiting_counts(&mut self, branch: i64) -> Result<Vec<(ServiceCode, u32)>>;
    /// Waiting tickets of `service` that will be called before one with this class and place.
    async fn count_ahead(
        &mut self,
        branch: i64,
        service: ServiceCode,
        priority: bool,
        queue_at: DateTime<Utc>,
        key: i64,
    ) -> Result<u32>;
    /// The earliest place in line of the service's waiting tickets.
    async fn earliest_queue_at(
        &mut self,
        branch: i64,
        service: ServiceCode,
    ) -> Result<Option<DateTime<Utc>>>;
    /// The heads of the lines a window may call from: the first waiting ticket per service and
    /// class, and the first sent to this window.
    async fn heads(
        &mut self,
        branch: i64,
        window: WindowNo,
        services: &[ServiceCode],
    ) -> Result<Vec<LineHead>>;
    /// Mean service time of the service's most recent completed tickets, if any.
    async fn recent_service_secs(
        &mut self,
        branch: i64,
        service: ServiceCode,
        since: DateTime<Utc>,
    ) -> Result<Option<f64>>;

    async fn window(&mut self, branch: i64, n: WindowNo) -> Result<Option<WindowRow>>;
    async fn windows(&mut self, branch: i64) -> Result<Vec<WindowRow>>;
    async fn update_window(&mut self, branch: i64, w: &WindowRow) -> Result<()>;
    /// Turns the branch's emergency broadcast on (`Some(message)`) or off, as a configuration
    /// change (the cached configuration is reloaded).
    async fn set_emergency(&mut self, branch: i64, message: Option<&str>) -> Result<()>;
    /// Appends an entry to the audit log of configuration changes.
    async fn audit(&mut self, e: &AuditEntry<'_>) -> Result<()>;
    /// What the branch's most recent `services` stream event said (`open`), if one is kept:
    /// with several servers, the first to notice an opening announces it, the others see it.
    async fn last_announced_open(&mut self, branch: i64) -> Result<Option<bool>>;

    async fn log_window(
        &mut self,
        branch: i64,
        window: WindowNo,
        user: Option<i64>,
        kind: &str,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()>;

    /// The ticket completed most recently at the window (status `done`, latest `done_at`).
    async fn last_completed(&mut self, branch: i64, window: WindowNo) -> Result<Option<TicketRow>>;
    /// Stores a rating. Fails with `Conflict` if the ticket already has one.
    async fn insert_rating(&mut self, r: &NewRating) -> Result<()>;
    /// Stores a complaint with status `open`; returns its id.
    async fn insert_complaint(&mut self, c: &NewComplaint) -> Result<i64>;
}

/// The first waiting ticket of a line ([`Tx::heads`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineHead {
    pub key: i64,
    pub service: ServiceCode,
    pub priority: bool,
    /// Its place in line: the issue time, earlier for a reinstated no-show.
    pub queue_at: DateTime<Utc>,
}

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

/// A complaint taken at a window, for the managers' register.
#[derive(Debug, Clone)]
pub struct NewComplaint {
    pub branch_id: i64,
    pub ticket: Option<i64>,
    pub window: Option<WindowNo>,
    /// Who took it.
    pub staff: i64,
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
    pub estimate_ahead: u32,
    pub estimate_secs: u64,
    pub device_id: Option<i64>,
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

//! Wire types shared by `qhall-server`, `qhall-kiosk` and `qhall-display`.
//!
//! Everything here crosses the network as JSON, so the three programs cannot disagree on a
//! field name. Nothing here does I/O.
//!
//! # Layout
//! - [`ids`]: newtypes that can only hold valid values (`ServiceCode`, `WindowNo`, `TicketNumber`).
//! - [`api`]: HTTP request and response bodies of protocol version 1 (`PROTOCOL.md`).
//! - [`booking`]: booking codes, typed or scanned.
//! - [`events`]: the messages of the WebSocket event stream.
//! - [`complaint`]: the complaint categories, their codes and their names in each language.
//! - [`lang`]: the three languages (简体 · 繁體 · English), their codes and the spellings read.
//! - [`wait`]: the range of minutes a wait estimate is shown as.
//! - `tls` (feature `client-tls`, for the kiosk and the board): the certificates a client
//!   trusts. The one module here that reads files; the server never enables it.

pub mod api;
pub mod booking;
pub mod complaint;
pub mod events;
pub mod ids;
pub mod lang;
pub mod wait;

#[cfg(feature = "client-tls")]
pub mod tls;

pub use complaint::{COMPLAINT_CATEGORIES, ComplaintCategory};
pub use ids::{ServiceCode, TicketNumber, WindowNo};
pub use lang::Lang;
pub use wait::WaitRange;

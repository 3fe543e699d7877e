//! The end-to-end test harness: [`TestApp`] starts the real server (`qhall_server::run`) on
//! `127.0.0.1:0` with a fresh SQLite demo hall in a temporary directory, and drives it the way
//! kiosks, boards, staff and managers do — over HTTP and a real WebSocket client.
//! [`ServerProcess`] runs the built binary instead, for tests that kill it.
//!
//! PostgreSQL: [`pg_database`] creates a fresh database `qhall_t_<random>` on the server at
//! `QHALL_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`) and drops
//! it when the guard goes; without a reachable server it prints `SKIPPED: …` and the test
//! returns. [`TestApp::spawn_on`] runs the server on any database URL, and with
//! `QHALL_TEST_BACKEND=postgres` every [`TestApp::spawn`] uses a fresh PostgreSQL database, so
//! the whole end-to-end suite can run on either backend.
//!
//! # Layout
//!
//! One helper a file, everything re-exported here, so tests name it all as `qhall_tests::…`:
//! - `app.rs`: [`TestApp`], the server in this process, and its request helpers.
//! - `events.rs`: [`EventClient`], a WebSocket client of the event stream.
//! - `process.rs`: [`ServerProcess`], the built binary as its own process, and its memory.
//! - `postgres.rs`: [`PgDatabase`] and [`pg_database`], one fresh PostgreSQL database
//!   per test.
//! - `sql.rs`: [`run_sql`] and [`query_texts`], SQL straight to a test database on either
//!   backend.
//! - `fixtures.rs`: the demo hall's tokens ([`KIOSK`], [`DISPLAY`], [`pad`]), the real store on
//!   a fresh database ([`demo_store`]), its principals, and SQL that grows the hall
//!   ([`windows_sql`], [`busy_week_sql`], [`office_log_sql`]).
//! - `month.rs`: [`constructed_month`], a March of window log, tickets, ratings, complaints,
//!   shifts, leave and training for the assessment's tests.
//! - `scenarios.rs`: days the hall lives through the API ([`short_day`]), for tests that look
//!   at the same day from different sides.
//! - `gateway.rs`: [`Gateway`], a recording HTTP receiver standing in for the hall's SMS
//!   gateway.
//! - `tls.rs`: [`tls::TestCa`], a test certificate authority for the https tests.

pub use qhall_shared as shared;

mod app;
mod events;
mod fixtures;
mod gateway;
mod month;
mod postgres;
mod process;
mod scenarios;
mod sql;
pub mod tls;

pub use app::{Configure, TEST_ISSUE_LIMIT, TestApp, call, log_messages, user_id};
pub use events::EventClient;
pub use fixtures::{
    DISPLAY, KIOSK, at, busy_week_sql, demo_store, demo_store_on, kiosk_principal, office_log_sql,
    pad, user_principal, windows_sql,
};
pub use gateway::{Gateway, Received};
pub use month::{ConstructedMonth, constructed_month};
pub use postgres::{PgDatabase, pg_database, postgres_admin_url};
pub use process::{ServerProcess, rss_of};
pub use scenarios::short_day;
pub use sql::{query_texts, run_sql};

//! Managers configure the hall: services, windows and what they serve, opening hours and dated
//! exceptions, notices ([`hall`]), and people and devices ([`people`]). Every change is audited
//! (see [`crate::hall::settings`]); hall changes also bump the branch's configuration version
//! and tell boards and kiosks on the event stream.
//!
//! # Layout
//! - [`hall`]: the `/api/v1/config…` routes.
//! - [`people`]: the `/api/v1/users…` and `/api/v1/devices…` routes.

pub mod hall;
pub mod people;

use axum::Router;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(hall::router()).merge(people::router())
}

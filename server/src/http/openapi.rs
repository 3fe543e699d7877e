//! `GET /api/openapi.json`: the API described by the server itself (OpenAPI 3).
//!
//! The document is written by hand next to this file; a test checks that every route the
//! router serves is in it, so it cannot silently fall behind.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::AppState;

/// The document, embedded in the binary.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(document))
}

async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.route("…")` in the http modules appears under `paths`.
    #[test]
    fn every_route_is_documented() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let sources = [
            include_str!("mod.rs"),
            include_str!("attendance.rs"),
            include_str!("auth.rs"),
            include_str!("complaints.rs"),
            include_str!("config.rs"),
            include_str!("devices.rs"),
            include_str!("events.rs"),
            include_str!("feedback.rs"),
            include_str!("../web/mod.rs"),
            include_str!("hall.rs"),
            include_str!("health.rs"),
            include_str!("live.rs"),
            include_str!("staffing.rs"),
            include_str!("metrics.rs"),
            include_str!("openapi.rs"),
            include_str!("reports.rs"),
            include_str!("services.rs"),
            include_str!("settings/hall.rs"),
            include_str!("settings/people.rs"),
            include_str!("simulate.rs"),
            include_str!("stats.rs"),
            include_str!("tickets.rs"),
            include_str!("windows.rs"),
        ];
        let mut seen = 0;
        for src in sources {
            for piece in src.split(".route(\"").skip(1) {
                let path = piece.split('"').next().unwrap();
                if !path.starts_with('/') {
                    continue; // prose, not a route
                }
                seen += 1;
                assert!(
                    paths.contains_key(path),
                    "{path} is served but not in openapi.json"
                );
            }
        }
        assert!(seen > 20, "found only {seen} routes");
    }
}

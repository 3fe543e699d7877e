//! `GET /api/openapi.json`: the API described by the server itself (OpenAPI 3).
//!
//! The document is written by hand next to this file; a test checks that every route the
//! router serves is in it, so it cannot silently fall behind. The error answers that come from
//! the layers every API route shares (reading the request, the token, the role) are added to
//! each operation here, in one place ([`add_standard_errors`]), rather than spelled out in each;
//! `scripts/schemathesis` checks in CI that every answer the server gives is in the document.

use std::sync::LazyLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::AppState;

/// The document as written, embedded in the binary.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// The document as served: [`DOCUMENT`] with the standard error answers added.
static SERVED: LazyLock<String> = LazyLock::new(|| served(DOCUMENT));

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(document))
}

async fn document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        SERVED.as_str(),
    )
}

fn served(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(mut doc) => {
            add_standard_errors(&mut doc);
            doc.to_string()
        }
        // A test keeps this from happening; served as written rather than not at all.
        Err(e) => {
            tracing::error!(error = %e, "openapi.json is not JSON");
            text.to_owned()
        }
    }
}

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// Adds to every operation under `/api/v1/` the error answers any such route can give, whatever
/// its handler does, where the operation does not list them already:
/// - with a body or parameters: 400 (`malformed`: unreadable JSON, query or path, or one with
///   `%00`) and 422 (a well-formed value the server refuses, `invalid_body` for a body of the
///   wrong shape or with the NUL character in its text);
/// - with a body: 413 (`too_large`, over 64 KiB) and 415 (`unsupported_media_type`, a body that
///   is not `application/json`);
/// - behind a token: 401 (no or a bad token) and 403 (a role that may not do this);
/// - everywhere: 429 (too many requests: login attempts, simulations, issuing; wait and retry).
pub fn add_standard_errors(doc: &mut Value) {
    let global_security = has_security(doc.get("security"));
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let path_params = path.contains('{') || non_empty(item.get("parameters"));
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            let body = op.contains_key("requestBody");
            let params = path_params || non_empty(op.get("parameters"));
            let secured = match op.get("security") {
                Some(s) => has_security(Some(s)),
                None => global_security,
            };
            let mut codes = Vec::new();
            if body || params {
                codes.extend(["400", "422"]);
            }
            if body {
                codes.extend(["413", "415"]);
            }
            if secured {
                codes.extend(["401", "403"]);
            }
            codes.push("429");
            let responses = op
                .entry("responses")
                .or_insert_with(|| Value::Object(Map::new()));
            let Some(responses) = responses.as_object_mut() else {
                continue;
            };
            for code in codes {
                responses
                    .entry(code)
                    .or_insert_with(|| json!({"$ref": "#/components/responses/Error"}));
            }
        }
    }
}

/// A `security` list that demands something (`[]` or `[{}]` means none).
fn has_security(security: Option<&Value>) -> bool {
    security.and_then(Value::as_array).is_some_and(|list| {
        list.iter()
            .any(|r| r.as_object().is_some_and(|o| !o.is_empty()))
    })
}

fn non_empty(list: Option<&Value>) -> bool {
    list.and_then(Value::as_array)
        .is_some_and(|l| !l.is_empty())
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
            include_str!("appointments.rs"),
            include_str!("attendance.rs"),
            include_str!("auth.rs"),
            include_str!("complaints.rs"),
            include_str!("config.rs"),
            include_str!("customer.rs"),
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

    fn served_operation(path: &str, method: &str) -> Value {
        let doc: Value = serde_json::from_str(&served(DOCUMENT)).unwrap();
        doc["paths"][path][method].clone()
    }

    /// The answers every API route can give are listed on every operation that can give them.
    #[test]
    fn the_served_document_lists_the_standard_errors() {
        let issue = served_operation("/api/v1/tickets", "post");
        for code in ["400", "401", "403", "413", "415", "422", "429"] {
            assert!(
                issue["responses"].get(code).is_some(),
                "POST /tickets {code}"
            );
        }
        assert!(
            issue["responses"].get("201").is_some(),
            "its own answers stay"
        );
        let windows = served_operation("/api/v1/windows", "get");
        for code in ["401", "403", "429"] {
            assert!(
                windows["responses"].get(code).is_some(),
                "GET /windows {code}"
            );
        }
        assert!(windows["responses"].get("415").is_none(), "no body, no 415");
        let health = served_operation("/healthz", "get");
        assert_eq!(
            health["responses"].as_object().unwrap().len(),
            1,
            "not an API route"
        );
    }
}

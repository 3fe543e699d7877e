//! `GET /metrics`: Prometheus text. Tickets issued, called and served, waiting now, WebSocket
//! clients, request latency as a histogram, and on PostgreSQL how walk-ins share statements.
//!
//! Not public: the figures tell an outsider how busy the hall is and how it is served. On the
//! main listener `/metrics` takes a manager's or an admin's token (Prometheus sends it as
//! `bearer_token`); a manager sees the waiting lines of its own branch, an admin every branch.
//! `--metrics-listen ADDR` serves the same text without a token on an address of its own
//! (a loopback or management network that only the monitoring system reaches): [`listener_router`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;

use super::AppState;
use super::auth::Caller;
use super::error::ApiResult;
use crate::store::Role;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Counters kept in memory since start.
#[derive(Debug, Default)]
pub struct Metrics {
    pub issued: AtomicU64,
    pub called: AtomicU64,
    pub served: AtomicU64,
    requests: [AtomicU64; 5],
    buckets: [AtomicU64; BUCKETS.len()],
    latency_micros: AtomicU64,
    latency_count: AtomicU64,
    /// Connections the accept loop's limits refused or cut off ([`crate::serve`]).
    pub connections: std::sync::Arc<crate::serve::Refusals>,
}

impl Metrics {
    pub fn observe(&self, status: StatusCode, took: Duration) {
        let class = (status.as_u16() / 100).clamp(1, 5) as usize - 1;
        self.requests[class].fetch_add(1, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(for_manager))
}

/// The metrics listener's whole application: `/metrics` for whoever reaches that address.
pub fn listener_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(for_listener))
        .with_state(state)
}

/// Which branches' waiting lines a reader may see.
#[derive(Debug, Clone, Copy)]
enum Scope {
    All,
    Branch(i64),
}

async fn for_manager(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let p = caller.require(&[Role::Manager])?;
    let scope = if p.role == Role::Admin {
        Scope::All
    } else {
        Scope::Branch(p.branch_id)
    };
    Ok(text(&state, scope).await.into_response())
}

async fn for_listener(State(state): State<AppState>) -> Response {
    text(&state, Scope::All).await.into_response()
}

async fn text(state: &AppState, scope: Scope) -> impl IntoResponse + use<> {
    use std::fmt::Write;
    let m = &state.metrics;
    let mut out = String::new();
    let counter = |out: &mut String, name: &str, help: &str, v: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
        );
    };
    counter(
        &mut out,
        "qhall_tickets_issued_total",
        "Tickets issued since start.",
        m.issued.load(Ordering::Relaxed),
    );
    counter(
        &mut out,
        "qhall_tickets_called_total",
        "Tickets called since start.",
        m.called.load(Ordering::Relaxed),
    );
    counter(
        &mut out,
        "qhall_tickets_served_total",
        "Tickets completed since start.",
        m.served.load(Ordering::Relaxed),
    );
    let _ = writeln!(
        out,
        "# HELP qhall_tickets_waiting Tickets waiting now, per branch and service.\n# TYPE qhall_tickets_waiting gauge"
    );
    let branches = match scope {
        Scope::All => state.store.branch_ids().await.unwrap_or_default(),
        Scope::Branch(b) => vec![b],
    };
    for b in branches {
        if let Ok(waiting) = state.store.waiting_counts(b).await {
            for (s, n) in waiting {
                let _ = writeln!(
                    out,
                    "qhall_tickets_waiting{{branch=\"{b}\",service=\"{s}\"}} {n}"
                );
            }
        }
    }
    counter(
        &mut out,
        "qhall_read_cache_hits_total",
        "Board states and service waits answered from what the server kept (the branch unchanged).",
        state.store.reads.hits(),
    );
    counter(
        &mut out,
        "qhall_read_cache_misses_total",
        "Board states and service waits read from the database.",
        state.store.reads.misses(),
    );
    if let Some(pg) = state.store.postgres() {
        counter(
            &mut out,
            "qhall_pg_issue_statements_total",
            "Statements that issued walk-ins together (PostgreSQL).",
            pg.batches().statements(),
        );
        counter(
            &mut out,
            "qhall_pg_issued_together_total",
            "Walk-ins those statements issued (the rest went step by step).",
            pg.issued_at_once(),
        );
        counter(
            &mut out,
            "qhall_pg_issue_skipped_total",
            "Walk-ins sent again because their branch was held when their statement ran.",
            pg.batches().skipped(),
        );
        counter(
            &mut out,
            "qhall_pg_issue_branch_held_total",
            "Issuing statements that waited for their first branch in vain (250 ms).",
            pg.batches().held(),
        );
    }
    let _ = writeln!(
        out,
        "# HELP qhall_websocket_clients Connected event-stream clients.\n# TYPE qhall_websocket_clients gauge\nqhall_websocket_clients {}",
        state.store.hub.clients()
    );
    let _ = writeln!(
        out,
        "# HELP qhall_password_checks_peak Most argon2 checks run at once since start.\n# TYPE qhall_password_checks_peak gauge\nqhall_password_checks_peak {}",
        state.logins.peak_checks()
    );
    let c = &m.connections;
    let _ = writeln!(
        out,
        "# HELP qhall_connections_refused_total Connections closed at once, by the cap that was full.\n# TYPE qhall_connections_refused_total counter\n\
         qhall_connections_refused_total{{cap=\"server\"}} {}\nqhall_connections_refused_total{{cap=\"address\"}} {}",
        c.server_full.load(Ordering::Relaxed),
        c.address_full.load(Ordering::Relaxed)
    );
    counter(
        &mut out,
        "qhall_connections_send_timeouts_total",
        "Connections closed because the client took nothing sent to it for the send timeout.",
        c.send_timeouts.load(Ordering::Relaxed),
    );
    let _ = writeln!(
        out,
        "# HELP qhall_http_requests_total Requests answered, by status class.\n# TYPE qhall_http_requests_total counter"
    );
    for (i, c) in m.requests.iter().enumerate() {
        let _ = writeln!(
            out,
            "qhall_http_requests_total{{class=\"{}xx\"}} {}",
            i + 1,
            c.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "# HELP qhall_http_request_duration_seconds Request latency.\n# TYPE qhall_http_request_duration_seconds histogram"
    );
    for (i, b) in BUCKETS.iter().enumerate() {
        let _ = writeln!(
            out,
            "qhall_http_request_duration_seconds_bucket{{le=\"{b}\"}} {}",
            m.buckets[i].load(Ordering::Relaxed)
        );
    }
    let count = m.latency_count.load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "qhall_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
    );
    let _ = writeln!(
        out,
        "qhall_http_request_duration_seconds_sum {}",
        m.latency_micros.load(Ordering::Relaxed) as f64 / 1e6
    );
    let _ = writeln!(out, "qhall_http_request_duration_seconds_count {count}");
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}

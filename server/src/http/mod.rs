//! The HTTP API of `PROTOCOL.md`. Each resource owns its `router()`; this module only merges
//! them and adds the layers every request passes: a body limit, latency metrics, security
//! headers, a JSON 404.
//!
//! # Layout
//! - [`error`]: [`error::ApiError`], the JSON error every failure becomes.
//! - [`dates`]: every date a request names, checked to a sane range in one place.
//! - [`auth`]: the [`auth::Caller`] extractor, login and logout.
//! - [`limit`]: bounded, expiring rate limits and the client address they are keyed by;
//!   [`login_guard`]: the login limits and the capped password checks built on them.
//! - [`services`], [`tickets`], [`windows`], [`stats`], [`hall`], [`devices`]: the resources.
//! - [`feedback`]: ratings from the pad at each window, complaints taken at the console.
//! - [`appointments`]: the slots of a day, booking, a booking by its code; for managers the
//!   day's bookings and each service's booking settings.
//! - [`customer`]: what the customer does from their phone (a number for messages, a rating, a
//!   complaint or suggestion), and the manager's view of messages and their settings.
//! - [`live`]: the hall right now for the manager's live page, and its alert thresholds.
//! - [`staffing`]: the staffing advisor (windows needed per hour of the week, Erlang C).
//! - [`complaints`]: the managers' complaints register; [`attendance`]: sign-ins and pauses.
//! - [`settings`]: the hall's configuration, people and devices (managers; audited).
//! - [`simulate`]: the what-if simulation, its baseline, and the forecast table (managers).
//! - [`events`]: the WebSocket event stream; [`origin`]: the `Origin` check on its upgrade.
//! - [`client`]: the client's address, forwarded headers believed only from trusted proxies.
//! - The web pages ([`crate::web`]) are given to [`router`] by the caller (`lib.rs`) and served
//!   under the same layers; nothing here imports them.
//! - [`health`]: `/healthz/ready`, readiness (a write round-trip); `/healthz` is liveness.
//! - [`metrics`]: `/metrics` in Prometheus text.
//! - [`openapi`]: the OpenAPI document at `/api/openapi.json`.

pub mod appointments;
pub mod assessment;
pub mod attendance;
pub mod auth;
pub mod client;
pub mod complaints;
pub mod config;
pub mod customer;
pub mod dates;
pub mod devices;
pub mod error;
pub mod events;
pub mod feedback;
pub mod hall;
pub mod health;
pub mod limit;
pub mod live;
pub mod login_guard;
pub mod metrics;
pub mod openapi;
pub mod origin;
pub mod reports;
pub mod services;
pub mod settings;
pub mod simulate;
pub mod staffing;
pub mod stats;
pub mod tickets;
pub mod windows;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::store::Store;

/// The largest request body accepted (the API's bodies are tiny).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Base of the tracking links printed on tickets.
    pub public_url: String,
    pub metrics: Arc<metrics::Metrics>,
    pub tokens: Arc<auth::TokenCache>,
    pub logins: Arc<login_guard::LoginGuard>,
    /// Tickets each kiosk (or manager) may issue: `issue_limit` per minute ([`tickets`]).
    pub issuing: Arc<limit::Limiter>,
    /// The customer's requests from their phone, per client address ([`customer`]).
    pub customer_writes: Arc<limit::Limiter>,
    /// Tickets asked for from the phone, per client address ([`customer`]).
    pub remote_issue: Arc<limit::Limiter>,
    /// Bookings per client address ([`appointments`]).
    pub bookings: Arc<limit::Limiter>,
    /// Whether this server sends messages to customers (a transport is configured).
    pub messages_on: bool,
    /// One what-if simulation at a time ([`simulate`]).
    pub simulations: Arc<tokio::sync::Semaphore>,
    /// Reverse proxies whose forwarded headers are believed ([`client`]).
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
    /// Becomes `true` when the server is shutting down (WebSocket clients are closed).
    pub stopping: tokio::sync::watch::Receiver<bool>,
    clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(
        store: Store,
        config: &Config,
        addr: SocketAddr,
        stopping: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        AppState {
            store,
            public_url: config.public_url.clone().unwrap_or_else(|| {
                let scheme = if config.tls_cert.is_some() {
                    "https"
                } else {
                    "http"
                };
                format!("{scheme}://{addr}")
            }),
            metrics: Arc::default(),
            tokens: Arc::default(),
            logins: Arc::default(),
            issuing: Arc::new(limit::Limiter::new(
                limit::Rate::per_minute(config.issue_limit),
                10_000,
            )),
            customer_writes: Arc::new(limit::Limiter::new(
                limit::Rate::per_minute(customer::CUSTOMER_WRITES_PER_MINUTE),
                10_000,
            )),
            remote_issue: Arc::new(limit::Limiter::new(
                limit::Rate::per_minute(customer::REMOTE_TICKETS_PER_MINUTE),
                10_000,
            )),
            bookings: Arc::new(limit::Limiter::new(
                limit::Rate::per_minute(config.booking_limit),
                10_000,
            )),
            messages_on: config.messages.enabled(),
            simulations: Arc::new(tokio::sync::Semaphore::new(1)),
            trusted_proxies: config.trusted_proxies.clone().into(),
            stopping,
            clock: Arc::new(Utc::now),
        }
    }

    /// The current time (one place, so it could be replaced).
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// The tracking page of a ticket.
    pub fn tracking_url(&self, id: &str) -> String {
        format!("{}/t/{id}", self.public_url)
    }
}

/// The whole application: the API, and the `pages` (the web console and the customer pages,
/// [`crate::web::router`]) under the same limits, headers and metrics. The caller composes the
/// two, so the API never depends on the pages.
pub fn router(state: AppState, pages: Router<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(health::router())
        .merge(metrics::router())
        .merge(openapi::router())
        .merge(auth::router())
        .merge(services::router())
        .merge(hall::router())
        .merge(tickets::router())
        .merge(windows::router())
        .merge(managers(stats::router(), &state))
        .merge(managers(reports::router(), &state))
        .merge(managers(config::router(), &state))
        .merge(managers(settings::router(), &state))
        .merge(managers(simulate::router(), &state))
        .merge(devices::router())
        .merge(events::router())
        .merge(feedback::router())
        .merge(customer::router())
        .merge(appointments::router())
        .merge(managers(live::router(), &state))
        .merge(managers(staffing::router(), &state))
        .merge(managers(complaints::router(), &state))
        .merge(managers(attendance::router(), &state))
        .merge(attendance::shifts_router())
        .merge(assessment::router())
        .merge(pages)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(error::catch_panic())
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// `router` behind [`auth::managers_only`]: every route in it is for managers.
fn managers(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    router.route_layer(middleware::from_fn_with_state(
        state.clone(),
        auth::managers_only,
    ))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn not_found() -> error::ApiError {
    error::ApiError::not_found("not_found", "no such resource")
}

fn nul_in_api_address(uri: &axum::http::Uri) -> bool {
    uri.path().starts_with("/api/")
        && (uri.path().contains("%00") || uri.query().is_some_and(|q| q.contains("%00")))
}

/// Records latency and status, and adds security headers to every answer.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    // A NUL (`%00`) in an API call's path or parameters would reach a query as text PostgreSQL
    // cannot take; none has a use for it, so it is refused here, alike on both databases. (The
    // pages read only the parameters they know, each checked before any query.)
    let mut res = if nul_in_api_address(req.uri()) {
        error::ApiError::malformed("the address may not contain the NUL character (%00)")
            .into_response()
    } else {
        next.run(req).await
    };
    state.metrics.observe(res.status(), started.elapsed());
    if res.status() == StatusCode::METHOD_NOT_ALLOWED
        && !res.headers().contains_key(header::CONTENT_TYPE)
    {
        res = error::ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this method is not allowed here",
        )
        .into_response();
    }
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Browsers that once reached us over https never try plain http again (a year).
    if state.public_url.starts_with("https://") {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'"),
        );
    }
    res
}

//! `GET /healthz/ready`: whether this server can take writes now. `GET /healthz` (in `mod.rs`)
//! stays the liveness check, 200 while the process runs; readiness is what a load balancer
//! should route by. Ready means a write round-trip to the database works
//! ([`crate::store::health`]: a tiny write in its own transaction, bounded by a timeout, cached
//! for a second); when it does not, 503 with the reason's code (`storage_full`,
//! `storage_unavailable`, `storage_corrupt`).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiResult;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz/ready", get(ready))
}

async fn ready(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    state.store.ready().await?;
    Ok(Json(json!({ "status": "ready" })))
}

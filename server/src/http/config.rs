//! Changes to the hall's configuration made by its managers, and the audit log that records
//! every one of them: `PUT`/`DELETE /api/v1/emergency` (the emergency broadcast: kiosks stop
//! issuing, every board and kiosk shows the message) and `GET /api/v1/audit`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiJson, ApiQuery, ApiResult};
use super::stats::Range;
use crate::queue::schedule::{local_date, local_instant};
use crate::store::Role;
use crate::store::export::AuditRow;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/emergency", put(emergency_on).delete(emergency_off))
        .route("/api/v1/audit", get(audit))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmergencyBody {
    message: String,
}

/// `PUT /api/v1/emergency` `{"message":"…"}`: the broadcast is on.
async fn emergency_on(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<EmergencyBody>,
) -> ApiResult<Json<Value>> {
    let who = caller.require(&[Role::Manager])?;
    state
        .store
        .set_emergency(who, Some(body.message.clone()), state.now())
        .await?;
    Ok(Json(json!({ "emergency": body.message.trim() })))
}

/// `DELETE /api/v1/emergency`: the broadcast is off; issuing resumes.
async fn emergency_off(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    let who = caller.require(&[Role::Manager])?;
    state.store.set_emergency(who, None, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/audit?from=DATE&to=DATE`: the configuration changes of those branch-local days.
async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(range): ApiQuery<Range>,
) -> ApiResult<Json<Vec<AuditRow>>> {
    let who = caller.require(&[Role::Manager])?;
    let cfg = state.store.config(who.branch_id).await?;
    let tz = cfg.schedule.tz;
    let (from, to) = range.days(local_date(tz, state.now()))?;
    let rows = state
        .store
        .audit_log(
            who.branch_id,
            local_instant(tz, from, 0),
            local_instant(tz, to, 1440),
        )
        .await?;
    Ok(Json(rows))
}

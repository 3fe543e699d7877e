//! `PUT /api/v1/devices/me/state`: a kiosk reports its printer, so managers see a printer out
//! of paper before the customers do.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::put;
use qhall_shared::api::DeviceState;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiResult};
use crate::store::Role;

const PRINTER_STATES: [&str; 5] = ["ok", "no_paper", "offline", "error", "none"];

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/devices/me/state", put(report))
}

async fn report(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<DeviceState>,
) -> ApiResult<StatusCode> {
    let who = caller.require(&[Role::Kiosk, Role::Display])?;
    let Some(device) = who.device_id else {
        return Err(ApiError::forbidden("only a device reports its own state"));
    };
    if !PRINTER_STATES.contains(&body.printer.as_str()) {
        return Err(ApiError::invalid(
            "invalid_value",
            format!("printer is one of {}", PRINTER_STATES.join(", ")),
        ));
    }
    let detail = body
        .detail
        .as_deref()
        .map(|d| d.chars().take(200).collect::<String>());
    state
        .store
        .set_device_state(device, &body.printer, detail.as_deref(), state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

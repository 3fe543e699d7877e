//! `PUT /api/v1/devices/me/state`: a kiosk reports its printer, so managers see a printer out
//! of paper before the customers do. `GET /api/v1/devices/me/print-jobs` and
//! `POST /api/v1/devices/me/print-jobs/{id}`: the kiosk prints the tickets the reception desk
//! sent it ([`crate::hall::desk`]); `GET /api/v1/print-jobs/{id}`: the desk follows one.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use qhall_shared::api::{DeskPrint, DeviceState, PrintJobDone, PrintJobStatus};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiPath, ApiResult};
use crate::store::Role;

const PRINTER_STATES: [&str; 5] = ["ok", "no_paper", "offline", "error", "none"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/devices/me/state", put(report))
        .route("/api/v1/devices/me/print-jobs", get(print_jobs))
        .route("/api/v1/devices/me/print-jobs/{id}", post(print_job_done))
        .route("/api/v1/print-jobs/{id}", get(print_job))
        .route("/api/v1/kiosks", get(kiosks))
}

/// `GET /api/v1/kiosks`: the branch's active kiosks, where the desk may print.
async fn kiosks(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<crate::hall::desk::DeskKiosk>>> {
    let who = caller.require(&[Role::Staff, Role::Manager])?;
    Ok(Json(state.store.desk_kiosks(who.branch_id).await?))
}

/// The kiosk calling: its device id (a kiosk that is a device, never a person).
fn kiosk(caller: &Caller) -> Result<(i64, i64), ApiError> {
    let who = caller.require(&[Role::Kiosk])?;
    who.device_id
        .map(|d| (d, who.branch_id))
        .ok_or_else(|| ApiError::forbidden("only a kiosk prints"))
}

/// `GET /api/v1/devices/me/print-jobs`: the kiosk's waiting jobs, oldest first (at most 20).
async fn print_jobs(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<DeskPrint>>> {
    let (device, branch) = kiosk(&caller)?;
    let jobs = state.store.print_jobs_waiting(device, state.now()).await?;
    if jobs.is_empty() {
        return Ok(Json(Vec::new()));
    }
    let cfg = state.store.config(branch).await?;
    Ok(Json(
        jobs.into_iter()
            .map(|(id, t)| DeskPrint {
                id,
                ticket: super::tickets::issued_ticket(&state, t, &cfg, None),
            })
            .collect(),
    ))
}

/// `POST /api/v1/devices/me/print-jobs/{id}`: printed, or failed with the printer's state.
async fn print_job_done(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PrintJobDone>,
) -> ApiResult<StatusCode> {
    let (device, _) = kiosk(&caller)?;
    let detail = body
        .detail
        .as_deref()
        .map(|d| d.chars().take(200).collect::<String>());
    state
        .store
        .finish_print_job(device, id, body.printed, detail.as_deref(), state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/print-jobs/{id}`: the desk (staff, managers of the branch) follows a job.
async fn print_job(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PrintJobStatus>> {
    let who = caller.require(&[Role::Staff, Role::Manager])?;
    Ok(Json(state.store.print_job(who.branch_id, id).await?))
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

//! `/api/v1/config…`: the hall's services, windows, hours, exceptions and notices (managers).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};

use crate::hall::settings::{
    ExceptionBody, ExceptionConfig, HallSettings, HoursConfig, NoticeBody, NoticeRow,
    ServiceConfig, ServicePatch, WindowConfig, WindowPatch, parse_date,
};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::dates::{check_day, check_opt_day, check_opt_instant};
use crate::http::error::{ApiError, ApiJson, ApiPath, ApiResult};
use crate::store::Role;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/config", get(settings))
        .route(
            "/api/v1/config/services",
            axum::routing::post(create_service),
        )
        .route(
            "/api/v1/config/services/{code}",
            get(service).put(update_service).delete(delete_service),
        )
        .route("/api/v1/config/windows", axum::routing::post(create_window))
        .route("/api/v1/config/windows/{n}", put(update_window))
        .route("/api/v1/config/hours", put(update_hours))
        .route("/api/v1/config/branch", put(update_public_info))
        .route("/api/v1/branches", get(branches).post(create_branch))
        .route(
            "/api/v1/config/exceptions/{date}",
            put(set_exception).delete(delete_exception),
        )
        .route("/api/v1/config/notices", get(notices).post(create_notice))
        .route(
            "/api/v1/config/notices/{id}",
            put(update_notice).delete(delete_notice),
        )
}

/// `GET /api/v1/config`: everything the settings page shows.
async fn settings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<HallSettings>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(state.store.hall_settings(who.branch_id).await?))
}

/// `GET /api/v1/config/services/{code}`: one service with everything a manager can change.
async fn service(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<ServiceConfig>> {
    let who = caller.require(&[Role::Manager])?;
    let all = state.store.hall_settings(who.branch_id).await?;
    all.services
        .into_iter()
        .find(|s| s.code.as_str() == code)
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found("unknown_service", format!("there is no service {code}"))
        })
}

/// `POST /api/v1/config/services`: a new service (`code`, `name`, …).
async fn create_service(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ServicePatch>,
) -> ApiResult<(StatusCode, Json<ServiceConfig>)> {
    let who = caller.require(&[Role::Manager])?;
    let s = state
        .store
        .save_service(who, None, body, state.now())
        .await?;
    Ok((StatusCode::CREATED, Json(s)))
}

/// `PUT /api/v1/config/services/{code}`: change the fields given.
async fn update_service(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<ServicePatch>,
) -> ApiResult<Json<ServiceConfig>> {
    let who = caller.require(&[Role::Manager])?;
    let s = state
        .store
        .save_service(who, Some(code), body, state.now())
        .await?;
    Ok(Json(s))
}

/// `DELETE /api/v1/config/services/{code}`: 409 while tickets of it are live.
async fn delete_service(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let who = caller.require(&[Role::Manager])?;
    state.store.delete_service(who, code, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/config/windows`: a new window (`number`, `name`, `serves`).
async fn create_window(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<WindowPatch>,
) -> ApiResult<(StatusCode, Json<WindowConfig>)> {
    let who = caller.require(&[Role::Manager])?;
    let w = state
        .store
        .save_window(who, None, body, state.now())
        .await?;
    Ok((StatusCode::CREATED, Json(w)))
}

/// `PUT /api/v1/config/windows/{n}`: its name and the services it serves, in order.
async fn update_window(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<u32>,
    ApiJson(body): ApiJson<WindowPatch>,
) -> ApiResult<Json<WindowConfig>> {
    let who = caller.require(&[Role::Manager])?;
    let w = state
        .store
        .save_window(who, Some(n), body, state.now())
        .await?;
    Ok(Json(w))
}

/// `PUT /api/v1/config/hours`: the weekly hours, time zone and cut-off.
async fn update_hours(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<HoursConfig>,
) -> ApiResult<Json<HoursConfig>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(state.store.save_hours(who, body, state.now()).await?))
}

/// `GET /api/v1/branches` (admins): every branch, by id.
async fn branches(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<crate::hall::settings::BranchInfo>>> {
    caller.require(&[])?;
    Ok(Json(state.store.branches().await?))
}

/// `POST /api/v1/branches` (admins): a new branch `{name: {zh, zh_hant?, en?}, time_zone}`,
/// with office hours on weekdays and no services or windows yet; 201 with its id.
async fn create_branch(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<crate::hall::settings::NewBranch>,
) -> ApiResult<(
    axum::http::StatusCode,
    Json<crate::hall::settings::BranchInfo>,
)> {
    let who = caller.require(&[])?;
    let b = state.store.add_branch(Some(who), body, state.now()).await?;
    Ok((axum::http::StatusCode::CREATED, Json(b)))
}

/// `PUT /api/v1/config/branch`: the service phone number, the address, and how many days
/// ahead a dated exception becomes a notice on kiosks and boards.
async fn update_public_info(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<crate::queue::PublicInfo>,
) -> ApiResult<Json<crate::queue::PublicInfo>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(
        state.store.save_public_info(who, body, state.now()).await?,
    ))
}

/// `PUT /api/v1/config/exceptions/{date}`: other hours that day (`periods: []`: closed).
async fn set_exception(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(date): ApiPath<String>,
    ApiJson(body): ApiJson<ExceptionBody>,
) -> ApiResult<Json<Option<ExceptionConfig>>> {
    let who = caller.require(&[Role::Manager])?;
    let date = check_day("date", parse_date(&date)?)?;
    let e = state
        .store
        .save_exception(who, date, Some(body), state.now())
        .await?;
    Ok(Json(e))
}

/// `DELETE /api/v1/config/exceptions/{date}`: the weekly hours apply that day again.
async fn delete_exception(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(date): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let who = caller.require(&[Role::Manager])?;
    let date = check_day("date", parse_date(&date)?)?;
    state
        .store
        .save_exception(who, date, None, state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/config/notices`: every notice, past and future too.
async fn notices(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<NoticeRow>>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(
        state.store.hall_settings(who.branch_id).await?.notices,
    ))
}

/// `POST /api/v1/config/notices`: a new notice, shown from `starts_at` until `ends_at`.
async fn create_notice(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NoticeBody>,
) -> ApiResult<(StatusCode, Json<Option<NoticeRow>>)> {
    let who = caller.require(&[Role::Manager])?;
    check_notice_dates(&body)?;
    let n = state
        .store
        .save_notice(who, None, Some(body), state.now())
        .await?;
    Ok((StatusCode::CREATED, Json(n)))
}

/// `PUT /api/v1/config/notices/{id}`.
async fn update_notice(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NoticeBody>,
) -> ApiResult<Json<Option<NoticeRow>>> {
    let who = caller.require(&[Role::Manager])?;
    check_notice_dates(&body)?;
    let n = state
        .store
        .save_notice(who, Some(id), Some(body), state.now())
        .await?;
    Ok(Json(n))
}

/// `DELETE /api/v1/config/notices/{id}`.
async fn delete_notice(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let who = caller.require(&[Role::Manager])?;
    state
        .store
        .save_notice(who, Some(id), None, state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A notice's dates, each within the dates a request may name ([`crate::http::dates`]).
fn check_notice_dates(body: &NoticeBody) -> ApiResult<()> {
    check_opt_instant("starts_at", body.starts_at)?;
    check_opt_instant("ends_at", body.ends_at)?;
    check_opt_day("from", body.from)?;
    check_opt_day("until", body.until)?;
    Ok(())
}

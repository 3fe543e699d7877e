//! Attendance for managers: per person per branch-local day, first sign-in against opening,
//! last sign-out against closing, pauses, flagged against the branch's tolerances
//! ([`crate::queue::attendance`]) — as JSON, as CSV, and the tolerances themselves.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiJson, ApiPath, ApiQuery, ApiResult};
use super::stats::Range;
use crate::hall::leave::{LeaveRequest, LeaveView};
use crate::hall::shifts::{RosterView, ShiftChange, WeeklyShift};
use crate::queue::attendance::{DayRecord, Tolerances};
use crate::queue::schedule::local_date;
use crate::store::Role;
use crate::store::export::push_csv_line;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/attendance", get(json))
        .route("/api/v1/attendance.csv", get(csv))
        .route(
            "/api/v1/attendance/settings",
            get(settings).put(set_settings),
        )
}

/// Shifts and leave: managers set and decide; staff read their own and ask for leave (so not
/// behind the managers-only layer).
pub fn shifts_router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/leave", get(leave).post(request_leave))
        .route(
            "/api/v1/leave/{id}/decision",
            axum::routing::post(decide_leave),
        )
        .route(
            "/api/v1/leave/{id}/withdraw",
            axum::routing::post(withdraw_leave),
        )
        .route(
            "/api/v1/leave/settings",
            get(leave_settings).put(set_leave_settings),
        )
        .route("/api/v1/users/{id}/shifts", get(shifts).put(set_weekly))
        .route(
            "/api/v1/users/{id}/shifts/{day}",
            axum::routing::put(set_change).delete(clear_change),
        )
}

/// `POST /api/v1/leave`: a staff member (or manager) asks for leave for themselves; 201.
async fn request_leave(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<LeaveRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<LeaveView>)> {
    let who = caller.require(&[Role::Staff, Role::Manager])?;
    let made = state.store.request_leave(who, body, state.now()).await?;
    Ok((axum::http::StatusCode::CREATED, Json(made)))
}

/// `GET /api/v1/leave?from=&to=`: the branch's leave (managers) or one's own (staff).
async fn leave(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(range): ApiQuery<Range>,
) -> ApiResult<Json<Vec<LeaveView>>> {
    let who = caller.require(&[Role::Staff, Role::Manager])?;
    let tz = state.store.config(who.branch_id).await?.schedule.tz;
    let (from, to) = range.days(local_date(tz, state.now()))?;
    Ok(Json(state.store.leave(who, from, to).await?))
}

/// `POST /api/v1/leave/{id}/withdraw`: the person takes back their own leave (asked for, or
/// granted and not begun); audited.
async fn withdraw_leave(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<LeaveView>> {
    let who = caller.require(&[Role::Staff, Role::Manager])?;
    Ok(Json(
        state.store.withdraw_leave(who, id, state.now()).await?,
    ))
}

/// The body of `POST /api/v1/leave/{id}/decision`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    approve: bool,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/leave/{id}/decision` `{approve, note}` (managers; audited).
async fn decide_leave(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Decision>,
) -> ApiResult<Json<LeaveView>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(
        state
            .store
            .decide_leave(who, id, body.approve, body.note, state.now())
            .await?,
    ))
}

/// The branch's minimum notice for leave.
#[derive(Debug, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LeaveSettings {
    notice_days: u32,
}

/// `GET /api/v1/leave/settings` (managers).
async fn leave_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<LeaveSettings>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(LeaveSettings {
        notice_days: state.store.leave_notice_days(who.branch_id).await?,
    }))
}

/// `PUT /api/v1/leave/settings` `{notice_days}` (managers; 0–60; audited).
async fn set_leave_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<LeaveSettings>,
) -> ApiResult<Json<LeaveSettings>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(LeaveSettings {
        notice_days: state
            .store
            .set_leave_notice_days(who, body.notice_days, state.now())
            .await?,
    }))
}

/// The body of `PUT /api/v1/users/{id}/shifts`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Weekly {
    weekly: Vec<WeeklyShift>,
}

/// The body of `PUT /api/v1/users/{id}/shifts/{day}`: times, or both `null` for a day off.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
}

/// `GET /api/v1/users/{id}/shifts`: a manager, any of the branch's staff; a staff member, only
/// their own.
async fn shifts(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RosterView>> {
    let who = caller.require(&[Role::Manager, Role::Staff])?;
    Ok(Json(state.store.shifts(who, id).await?))
}

/// `PUT /api/v1/users/{id}/shifts` `{weekly: [{weekday, start, end}]}` (managers; audited).
async fn set_weekly(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Weekly>,
) -> ApiResult<Json<RosterView>> {
    let who = caller.require(&[Role::Manager])?;
    if body.weekly.len() > 7 {
        return Err(crate::store::StoreError::invalid(
            "invalid_shift",
            "at most one shift a weekday",
        )
        .into());
    }
    Ok(Json(
        state
            .store
            .set_weekly_shifts(who, id, body.weekly, state.now())
            .await?,
    ))
}

/// `PUT /api/v1/users/{id}/shifts/{day}` (managers; audited).
async fn set_change(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, day)): ApiPath<(i64, NaiveDate)>,
    ApiJson(body): ApiJson<Change>,
) -> ApiResult<Json<RosterView>> {
    let who = caller.require(&[Role::Manager])?;
    let change = ShiftChange {
        day,
        start: body.start,
        end: body.end,
    };
    Ok(Json(
        state
            .store
            .set_shift_change(who, id, day, Some(change), state.now())
            .await?,
    ))
}

/// `DELETE /api/v1/users/{id}/shifts/{day}`: the weekly pattern again that day.
async fn clear_change(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, day)): ApiPath<(i64, NaiveDate)>,
) -> ApiResult<Json<RosterView>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(
        state
            .store
            .set_shift_change(who, id, day, None, state.now())
            .await?,
    ))
}

#[derive(Debug, Serialize)]
struct Row {
    #[serde(flatten)]
    day: DayRecord,
    name: String,
}

#[derive(Debug, Serialize)]
struct Attendance {
    from: NaiveDate,
    to: NaiveDate,
    tolerances: Tolerances,
    days: Vec<Row>,
}

async fn build(state: &AppState, caller: &Caller, range: &Range) -> ApiResult<(Tz, Attendance)> {
    let who = caller.require(&[Role::Manager])?;
    let tz = state.store.config(who.branch_id).await?.schedule.tz;
    let (from, to) = range.days(local_date(tz, state.now()))?;
    let (tolerances, days) = state
        .store
        .attendance(who.branch_id, from, to, state.now())
        .await?;
    let names: HashMap<i64, String> = state.store.staff_names(who.branch_id).await?;
    let days = days
        .into_iter()
        .map(|day| Row {
            name: names
                .get(&day.user_id)
                .cloned()
                .unwrap_or_else(|| format!("#{}", day.user_id)),
            day,
        })
        .collect();
    Ok((
        tz,
        Attendance {
            from,
            to,
            tolerances,
            days,
        },
    ))
}

/// `GET /api/v1/attendance?from=DATE&to=DATE`.
async fn json(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(range): ApiQuery<Range>,
) -> ApiResult<Json<Attendance>> {
    Ok(Json(build(&state, &caller, &range).await?.1))
}

const CSV_HEADER: [&str; 19] = [
    "date",
    "user_id",
    "name",
    "opens",
    "first_sign_in",
    "late_mins",
    "closes",
    "last_sign_out",
    "early_mins",
    "pauses",
    "pause_total_mins",
    "pause_longest_mins",
    "late",
    "early",
    "long_pause",
    "signed_out_by_closing",
    "rostered",
    "absent",
    "on_leave",
];

/// `GET /api/v1/attendance.csv?from=DATE&to=DATE`: the same rows, local `HH:MM` times.
async fn csv(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(range): ApiQuery<Range>,
) -> ApiResult<Response> {
    let (tz, a) = build(&state, &caller, &range).await?;
    let hm = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.with_timezone(&tz).format("%H:%M").to_string())
            .unwrap_or_default()
    };
    let mut buf = String::new();
    push_csv_line(&mut buf, &CSV_HEADER);
    for r in &a.days {
        let d = &r.day;
        push_csv_line(
            &mut buf,
            &[
                d.date.to_string(),
                d.user_id.to_string(),
                r.name.clone(),
                hm(d.opens_at),
                hm(d.first_sign_in),
                d.late_mins.to_string(),
                hm(d.closes_at),
                hm(d.last_sign_out),
                d.early_mins.to_string(),
                d.pauses.to_string(),
                d.pause_total_mins.to_string(),
                d.pause_longest_mins.to_string(),
                d.late.to_string(),
                d.early.to_string(),
                d.long_pause.to_string(),
                d.signed_out_by_closing.to_string(),
                d.rostered.to_string(),
                d.absent.to_string(),
                d.on_leave.to_string(),
            ],
        );
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"qhall-attendance-{}-{}.csv\"",
                    a.from, a.to
                ),
            ),
        ],
        buf,
    )
        .into_response())
}

/// `GET /api/v1/attendance/settings`.
async fn settings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Tolerances>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(
        state.store.attendance_tolerances(who.branch_id).await?,
    ))
}

/// `PUT /api/v1/attendance/settings`: all three tolerances, audited.
async fn set_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(t): ApiJson<Tolerances>,
) -> ApiResult<Json<Tolerances>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(
        state
            .store
            .set_attendance_tolerances(who, t, state.now())
            .await?,
    ))
}

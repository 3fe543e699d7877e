//! What customers tell the hall: ratings from the pad at each window (no token: the pad is a
//! tablet on the hall's network and can only rate the window's last completed ticket) and
//! complaints taken by staff at the console.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use qhall_shared::WindowNo;
use qhall_shared::api::{ComplaintRecorded, NewComplaint, Rate, RateableTicket, RatingPrompt};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiPath, ApiResult};
use crate::store::Role;
use crate::store::ops::ComplaintInput;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/windows/{n}/rating", get(prompt).post(rate))
        .route("/api/v1/complaints", post(complaint))
}

fn window_no(s: &str) -> ApiResult<WindowNo> {
    s.parse()
        .map_err(|_| ApiError::not_found("unknown_window", format!("there is no window {s:?}")))
}

/// The branch the unauthenticated pages belong to: the hall's first branch.
pub async fn public_branch(state: &AppState) -> ApiResult<i64> {
    state
        .store
        .branch_ids()
        .await?
        .first()
        .copied()
        .ok_or_else(|| ApiError::not_found("unknown_branch", "the hall has no branch yet"))
}

/// The window's number, if the public branch has such a window.
pub async fn public_window(state: &AppState, n: &str) -> ApiResult<(i64, WindowNo)> {
    let n = window_no(n)?;
    let branch = public_branch(state).await?;
    if state.store.config(branch).await?.window(n).is_none() {
        return Err(ApiError::not_found(
            "unknown_window",
            format!("there is no window {n}"),
        ));
    }
    Ok((branch, n))
}

/// `GET /api/v1/windows/{n}/rating`: the ticket the pad offers now, if any.
async fn prompt(
    State(state): State<AppState>,
    ApiPath(n): ApiPath<String>,
) -> ApiResult<Json<RatingPrompt>> {
    let (branch, n) = public_window(&state, &n).await?;
    let t = state.store.rating_prompt(branch, n, state.now()).await?;
    Ok(Json(RatingPrompt {
        window: n,
        ticket: t.map(|t| RateableTicket {
            number: t.number,
            service: t.service,
        }),
    }))
}

/// `POST /api/v1/windows/{n}/rating`: 201, or 409 when the ticket is not the one to rate or was
/// rated already.
async fn rate(
    State(state): State<AppState>,
    ApiPath(n): ApiPath<String>,
    ApiJson(body): ApiJson<Rate>,
) -> ApiResult<(StatusCode, Json<Rate>)> {
    let (branch, n) = public_window(&state, &n).await?;
    state
        .store
        .rate(branch, n, &body.number, body.score, state.now())
        .await?;
    Ok((StatusCode::CREATED, Json(body)))
}

/// `POST /api/v1/complaints`: staff at the window they signed in to, or a manager.
async fn complaint(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewComplaint>,
) -> ApiResult<(StatusCode, Json<ComplaintRecorded>)> {
    let who = caller.require(&[Role::Staff, Role::Manager])?;
    let window = WindowNo::new(body.window).map_err(|_| {
        ApiError::not_found(
            "unknown_window",
            format!("there is no window {}", body.window),
        )
    })?;
    let (id, created_at, due_at) = state
        .store
        .record_complaint(
            who,
            ComplaintInput {
                window,
                ticket: body.ticket,
                category: body.category,
                description: body.description,
                contact: body.contact,
                consent: body.consent,
            },
            state.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ComplaintRecorded {
            id,
            status: "open".into(),
            created_at,
            due_at,
        }),
    ))
}

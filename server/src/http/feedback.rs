//! What customers tell the hall: ratings from the pad at each window and complaints taken by
//! staff at the console.
//!
//! The rating API answers only the window's own pad: a device with role `pad` bound to that
//! window ([`PadAt`]). Without a token a passer-by could read which ticket is waiting for a
//! rating and give it a 1 before the customer does; so no token is 401, and any other caller —
//! a kiosk, a board, another window's pad, staff, a manager, even an admin — is 403. Staff must
//! not rate their own service, and a manager's rating would not be the customer's.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use qhall_shared::WindowNo;
use qhall_shared::api::{ComplaintRecorded, NewComplaint, Rate, RateableTicket, RatingPrompt};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiResult};
use crate::hall::ComplaintInput;
use crate::store::Role;

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
    let branch = public_branch(state).await?;
    window_in(state, branch, n).await
}

/// The window's number, if `branch` exists and has such a window (404 otherwise).
pub async fn window_in(state: &AppState, branch: i64, n: &str) -> ApiResult<(i64, WindowNo)> {
    let n = window_no(n)?;
    if !state.store.branch_ids().await?.contains(&branch) {
        return Err(ApiError::not_found(
            "unknown_branch",
            format!("there is no branch {branch}"),
        ));
    }
    if state.store.config(branch).await?.window(n).is_none() {
        return Err(ApiError::not_found(
            "unknown_window",
            format!("there is no window {n}"),
        ));
    }
    Ok((branch, n))
}

/// The branch and window of the pad calling `/api/v1/windows/{n}/rating`, checked before the
/// body is read: 401 without a valid token, 403 unless the caller is the pad of window `n`, 404
/// if its window no longer exists.
#[derive(Debug, Clone, Copy)]
pub struct PadAt(pub i64, pub WindowNo);

impl FromRequestParts<AppState> for PadAt {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let Caller(who) = Caller::from_request_parts(parts, state).await?;
        let device = who
            .device_id
            .filter(|_| who.role == Role::Pad)
            .ok_or_else(|| {
                ApiError::forbidden(format!(
                    "only the window's rating pad may rate it, not a {}",
                    who.role.as_str()
                ))
            })?;
        let Some((branch, own)) = state.store.pad_window(device).await? else {
            return Err(ApiError::forbidden("this pad is not bound to a window"));
        };
        let Path(n) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("unknown_window", "there is no such window"))?;
        let n = window_no(&n)?;
        if n != own {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "wrong_window",
                format!("this pad rates window {own}, not window {n}"),
            ));
        }
        if state.store.config(branch).await?.window(n).is_none() {
            return Err(ApiError::not_found(
                "unknown_window",
                format!("there is no window {n}"),
            ));
        }
        Ok(PadAt(branch, n))
    }
}

/// `GET /api/v1/windows/{n}/rating` (the window's pad): the ticket the pad offers now, if any.
async fn prompt(
    State(state): State<AppState>,
    PadAt(branch, n): PadAt,
) -> ApiResult<Json<RatingPrompt>> {
    let t = state.store.rating_prompt(branch, n, state.now()).await?;
    Ok(Json(RatingPrompt {
        window: n,
        ticket: t.map(|t| RateableTicket {
            number: t.number,
            service: t.service,
        }),
    }))
}

/// `POST /api/v1/windows/{n}/rating` (the window's pad): 201, or 409 when the ticket is not the
/// one to rate or was rated already.
async fn rate(
    State(state): State<AppState>,
    PadAt(branch, n): PadAt,
    ApiJson(body): ApiJson<Rate>,
) -> ApiResult<(StatusCode, Json<Rate>)> {
    let number = crate::hall::parse_number(&body.number)?;
    state
        .store
        .rate(branch, n, &number, body.score, state.now())
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

//! Windows: staff sign in, call, serve, transfer, pause, cancel and reinstate — each action on
//! the window the caller is signed in to (managers may act on any window of their branch), and
//! each action naming a ticket only on one that window serves.
//!
//! No answer here carries a ticket's secret id: it is the customer's key to the tracking page
//! and to cancelling, so staff see the ticket's number and its public reference
//! ([`TicketRow::public_ref`]) in the `id` field instead. The field stays because protocol v1
//! promises `{"ticket":{"id":…}}` from call-next; what it holds was never promised to open the
//! ticket.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qhall_shared::WindowNo;
use qhall_shared::api::{
    CallTicket, CancelTicket, Extend, IdentityStep, Pause, TicketView, Transfer, WindowTicket,
    WindowView,
};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiPath, ApiResult};
use super::tickets::view;
use crate::hall::{self, TransferTo, WindowAction, WindowChange};
use crate::queue::IdentityCheck;
use crate::store::{AtWindow, BranchConfig, Principal, Role, TicketRow, WindowRow};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/windows", get(list))
        .route("/api/v1/windows/{n}", get(read))
        .route("/api/v1/windows/{n}/waiting", get(waiting))
        .route("/api/v1/windows/{n}/sign-in", post(sign_in))
        .route("/api/v1/windows/{n}/sign-out", post(sign_out))
        .route("/api/v1/windows/{n}/pause", post(pause))
        .route("/api/v1/windows/{n}/resume", post(resume))
        .route("/api/v1/windows/{n}/call-next", post(call_next))
        .route("/api/v1/windows/{n}/call", post(call_number))
        .route("/api/v1/windows/{n}/recall", post(recall))
        .route("/api/v1/windows/{n}/start", post(start))
        .route("/api/v1/windows/{n}/complete", post(complete))
        .route("/api/v1/windows/{n}/no-show", post(no_show))
        .route("/api/v1/windows/{n}/extend", post(extend))
        .route("/api/v1/windows/{n}/identity", post(check_identity))
        .route("/api/v1/windows/{n}/transfer", post(transfer))
        .route("/api/v1/windows/{n}/reinstate", post(reinstate))
        .route("/api/v1/windows/{n}/cancel", post(cancel))
}

/// A ticket as staff see it: what its holder sees, with the public reference in place of the
/// secret id.
/// A ticket as staff see it: its public reference instead of its secret id, and the identity
/// step where its service has one.
fn staff_view(cfg: &BranchConfig, t: &TicketRow) -> TicketView {
    let identity = match cfg.service(t.service).map(|s| s.identity_check) {
        None | Some(IdentityCheck::Off) => None,
        Some(check) => Some(IdentityStep {
            required: check == IdentityCheck::Required,
            checked: t.identity_checked_at.is_some(),
        }),
    };
    TicketView {
        id: t.public_ref(),
        identity,
        ..view(t, 0, 0)
    }
}

fn window_no(s: &str) -> ApiResult<WindowNo> {
    s.parse()
        .map_err(|_| ApiError::not_found("unknown_window", format!("there is no window {s:?}")))
}

fn staff(caller: &Caller) -> ApiResult<&Principal> {
    caller.require(&[Role::Staff, Role::Manager])
}

/// A window action's answer: the ticket as staff see it.
fn answer(at: &AtWindow) -> Json<WindowTicket> {
    Json(WindowTicket {
        ticket: staff_view(&at.config, &at.ticket),
    })
}

async fn window_view(
    state: &AppState,
    branch: i64,
    w: WindowRow,
    current: Option<TicketRow>,
) -> ApiResult<WindowView> {
    let cfg = state.store.config(branch).await?;
    let services = cfg
        .window(w.number)
        .map(|d| d.skills.serves.iter().map(|(s, _)| *s).collect())
        .unwrap_or_default();
    let staff = match w.staff_user_id {
        Some(u) => state.store.username(u).await?,
        None => None,
    };
    Ok(WindowView {
        number: w.number,
        name: w.name,
        state: w.state,
        pause_reason: w.pause_reason,
        services,
        current: current.as_ref().map(|t| staff_view(&cfg, t)),
        staff,
    })
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<WindowView>>> {
    let who = staff(&caller)?;
    let cfg = state.store.config(who.branch_id).await?;
    let mut out = Vec::new();
    for def in &cfg.windows {
        if let Some((w, cur)) = state.store.window(who.branch_id, def.number).await? {
            out.push(window_view(&state, who.branch_id, w, cur).await?);
        }
    }
    Ok(Json(out))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
) -> ApiResult<Json<WindowView>> {
    let who = staff(&caller)?;
    let n = window_no(&n)?;
    let (w, cur) =
        state.store.window(who.branch_id, n).await?.ok_or_else(|| {
            ApiError::not_found("unknown_window", format!("there is no window {n}"))
        })?;
    Ok(Json(window_view(&state, who.branch_id, w, cur).await?))
}

/// The waiting tickets this window may call, in the order the policy would consider them.
async fn waiting(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
) -> ApiResult<Json<Vec<TicketView>>> {
    let who = staff(&caller)?;
    let n = window_no(&n)?;
    let cfg = state.store.config(who.branch_id).await?;
    let def = cfg
        .window(n)
        .ok_or_else(|| ApiError::not_found("unknown_window", format!("there is no window {n}")))?;
    let services: Vec<_> = def.skills.serves.iter().map(|(s, _)| *s).collect();
    let list = state
        .store
        .waiting_list(who.branch_id, n, &services, 200)
        .await?;
    let remote = state.store.remote_waiting(who.branch_id).await?;
    Ok(Json(
        list.iter()
            .map(|t| TicketView {
                remote_checked_in: remote.get(&t.key).copied(),
                ..staff_view(&cfg, t)
            })
            .collect(),
    ))
}

async fn change(
    state: &AppState,
    caller: &Caller,
    n: &str,
    change: WindowChange,
) -> ApiResult<Json<WindowView>> {
    let who = staff(caller)?;
    let n = window_no(n)?;
    state
        .store
        .change_window(who, n, change, state.now())
        .await?;
    read(State(state.clone()), caller.clone(), ApiPath(n.to_string())).await
}

async fn sign_in(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
) -> ApiResult<Json<WindowView>> {
    change(&state, &caller, &n, WindowChange::SignIn).await
}

async fn sign_out(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
) -> ApiResult<Json<WindowView>> {
    change(&state, &caller, &n, WindowChange::SignOut).await
}

async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
    ApiJson(body): ApiJson<Pause>,
) -> ApiResult<Json<WindowView>> {
    change(&state, &caller, &n, WindowChange::Pause(body.reason)).await
}

async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
) -> ApiResult<Json<WindowView>> {
    change(&state, &caller, &n, WindowChange::Resume).await
}

/// `200 {"ticket":…}` or `204` when nothing waits for this window.
async fn call_next(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
) -> ApiResult<Response> {
    let who = staff(&caller)?;
    let n = window_no(&n)?;
    match state.store.call_next(who, n, state.now()).await? {
        Some(at) => {
            state.metrics.called.fetch_add(1, Ordering::Relaxed);
            Ok(answer(&at).into_response())
        }
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

async fn call_number(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
    ApiJson(body): ApiJson<CallTicket>,
) -> ApiResult<Json<WindowTicket>> {
    let who = staff(&caller)?;
    let n = window_no(&n)?;
    let t = state
        .store
        .call_number(who, n, &hall::parse_number(&body.number)?, state.now())
        .await?;
    state.metrics.called.fetch_add(1, Ordering::Relaxed);
    Ok(answer(&t))
}

async fn act(
    state: &AppState,
    caller: &Caller,
    n: &str,
    action: WindowAction,
) -> ApiResult<Json<WindowTicket>> {
    let who = staff(caller)?;
    let n = window_no(n)?;
    let completing = action == WindowAction::Complete;
    let t = state.store.act(who, n, action, state.now()).await?;
    if completing {
        state.metrics.served.fetch_add(1, Ordering::Relaxed);
    }
    Ok(answer(&t))
}

async fn recall(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
) -> ApiResult<Json<WindowTicket>> {
    act(&state, &caller, &n, WindowAction::Recall).await
}

async fn start(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
) -> ApiResult<Json<WindowTicket>> {
    act(&state, &caller, &n, WindowAction::Start).await
}

async fn complete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
) -> ApiResult<Json<WindowTicket>> {
    act(&state, &caller, &n, WindowAction::Complete).await
}

async fn no_show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
) -> ApiResult<Json<WindowTicket>> {
    act(&state, &caller, &n, WindowAction::NoShow).await
}

/// `POST /api/v1/windows/{n}/identity`: the current ticket's identity document was checked.
async fn check_identity(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
) -> ApiResult<Json<WindowTicket>> {
    act(&state, &caller, &n, WindowAction::CheckIdentity).await
}

async fn extend(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
    ApiJson(body): ApiJson<Extend>,
) -> ApiResult<Json<WindowTicket>> {
    act(&state, &caller, &n, WindowAction::Extend(body.reason)).await
}

async fn transfer(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
    ApiJson(body): ApiJson<Transfer>,
) -> ApiResult<Json<WindowTicket>> {
    let who = staff(&caller)?;
    let n = window_no(&n)?;
    let to = match (body.service, body.window) {
        (Some(s), None) => TransferTo::Service(s.parse().map_err(|_| {
            ApiError::not_found("unknown_service", format!("there is no service {s:?}"))
        })?),
        (None, Some(w)) => TransferTo::Window(WindowNo::new(w).map_err(|_| {
            ApiError::not_found("unknown_window", format!("there is no window {w}"))
        })?),
        _ => {
            return Err(ApiError::invalid(
                "invalid_transfer",
                "give exactly one of \"service\" or \"window\"",
            ));
        }
    };
    let t = state.store.transfer(who, n, to, state.now()).await?;
    Ok(answer(&t))
}

/// Puts a no-show back at the front of its line (`{"number":"A012"}`).
async fn reinstate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
    ApiJson(body): ApiJson<CallTicket>,
) -> ApiResult<Json<WindowTicket>> {
    let who = staff(&caller)?;
    let n = window_no(&n)?;
    let t = state
        .store
        .reinstate(who, n, &hall::parse_number(&body.number)?, state.now())
        .await?;
    Ok(answer(&t))
}

/// Cancels a waiting ticket this window serves (`{"number":"A012","reason":"left the hall"}`);
/// the ticket's history records who and why.
async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<String>,
    ApiJson(body): ApiJson<CancelTicket>,
) -> ApiResult<Json<WindowTicket>> {
    let who = staff(&caller)?;
    let n = window_no(&n)?;
    let t = state
        .store
        .cancel_at_window(
            who,
            n,
            &hall::parse_number(&body.number)?,
            &body.reason,
            state.now(),
        )
        .await?;
    Ok(answer(&t))
}

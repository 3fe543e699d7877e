//! `/api/v1/users…` and `/api/v1/devices…`: accounts of the hall's people, and its kiosks,
//! boards and rating pads (managers; only an admin creates managers). A device's token is shown
//! once, when it is created; passwords and tokens are never stored in the clear nor audited.
//! A pad's token also comes as a pairing link, `/rate/{n}#pad=TOKEN`: opened once on the
//! tablet, the page keeps the token, and the part after `#` never reaches a server or proxy log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{hash_password, new_token, token_hash};
use crate::hall::settings::{DeviceInfo, NewUser, UserInfo, check_new_user, check_password};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiJson, ApiPath, ApiResult};
use crate::store::{Principal, Role};
use qhall_shared::WindowNo;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(users).post(create_user))
        .route("/api/v1/users/{id}", delete(deactivate_user))
        .route("/api/v1/users/{id}/password", post(reset_password))
        .route("/api/v1/devices", get(devices).post(create_device))
        .route("/api/v1/devices/{id}", delete(revoke_device))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUserBody {
    username: String,
    #[serde(default)]
    display_name: String,
    role: String,
    password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDeviceBody {
    name: String,
    role: String,
    /// The window a pad rates (pads only).
    #[serde(default)]
    window: Option<u32>,
}

/// Argon2 is slow on purpose: off the async threads.
async fn hash(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// `GET /api/v1/users`: the accounts of the caller's hall (an admin: every account).
async fn users(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<UserInfo>>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(state.store.users(who).await?))
}

/// `POST /api/v1/users` `{username, display_name?, role, password}`: 201 with the account.
async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewUserBody>,
) -> ApiResult<(StatusCode, Json<UserInfo>)> {
    let who: &Principal = caller.require(&[Role::Manager])?;
    let username = body.username.trim().to_owned();
    let role = Role::parse(&body.role)
        .ok_or_else(|| ApiError::invalid("invalid_role", "a new account is staff or manager"))?;
    check_new_user(who, &username, role, &body.password)?;
    let display_name = body
        .display_name
        .trim()
        .chars()
        .take(40)
        .collect::<String>();
    let user = NewUser {
        branch_id: Some(who.branch_id),
        display_name: if display_name.is_empty() {
            username.clone()
        } else {
            display_name
        },
        username,
        role,
        password_hash: hash(body.password).await?,
    };
    let info = state.store.create_user(who, user, state.now()).await?;
    Ok((StatusCode::CREATED, Json(info)))
}

/// `POST /api/v1/users/{id}/password` `{password}`: 204; every session of the account ends.
async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PasswordBody>,
) -> ApiResult<StatusCode> {
    let who = caller.require(&[Role::Manager])?;
    check_password(&body.password)?;
    let h = hash(body.password).await?;
    state.store.reset_password(who, id, h, state.now()).await?;
    // The store ended the sessions; the cache must not keep one alive for its few seconds.
    state.tokens.forget_user(id);
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/users/{id}`: the account is deactivated and signed out everywhere.
async fn deactivate_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let who = caller.require(&[Role::Manager])?;
    let sessions = state.store.deactivate_user(who, id, state.now()).await?;
    for h in sessions {
        state.tokens.forget(&h);
    }
    state.tokens.forget_user(id);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/devices`: the hall's kiosks, boards and rating pads (never their tokens).
async fn devices(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<DeviceInfo>>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(state.store.devices(who.branch_id).await?))
}

/// `POST /api/v1/devices` `{name, role: kiosk|display|pad, window?}`: 201 `{id, name, role,
/// window, token}` (a pad's also `pairing_url`); the token is shown this once.
async fn create_device(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewDeviceBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let who = caller.require(&[Role::Manager])?;
    let role = Role::parse(&body.role)
        .filter(|r| r.is_device())
        .ok_or_else(|| {
            ApiError::invalid("invalid_role", "a device is a kiosk, a display or a pad")
        })?;
    let window = body
        .window
        .map(|n| {
            WindowNo::new(n).map_err(|_| {
                ApiError::not_found("unknown_window", format!("there is no window {n}"))
            })
        })
        .transpose()?;
    let token = new_token();
    let id = state
        .store
        .create_device(
            who,
            body.name.clone(),
            role,
            window,
            token_hash(&token),
            state.now(),
        )
        .await?;
    let mut answer = json!({
        "id": id,
        "name": body.name.trim(),
        "role": role.as_str(),
        "window": window.map(WindowNo::get),
        "token": token,
    });
    if let Some(n) = window {
        let page = crate::web::rate::pad_path(who.branch_id, n);
        answer["pairing_url"] = json!(format!("{}{page}#pad={token}", state.public_url));
    }
    Ok((StatusCode::CREATED, Json(answer)))
}

/// `DELETE /api/v1/devices/{id}`: the device's token stops working.
async fn revoke_device(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let who = caller.require(&[Role::Manager])?;
    let h = state.store.revoke_device(who, id, state.now()).await?;
    state.tokens.forget(&h);
    Ok(StatusCode::NO_CONTENT)
}

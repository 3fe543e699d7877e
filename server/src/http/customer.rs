//! What the customer does from their phone, holding their ticket's unguessable id (no token):
//! leave a mobile number for "your turn is near" ([`crate::hall::messages`]), rate the visit and
//! send a complaint or suggestion ([`crate::hall::feedback`]). Each client address may make
//! [`CUSTOMER_WRITES_PER_MINUTE`] such requests a minute (429 with `Retry-After` beyond).
//!
//! And what the manager sees of it: the day's messages (numbers masked) and the message
//! settings (how near is near, the follow-up deadline, the texts in three languages; audited).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Caller;
use super::client::ClientAddr;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use super::limit::{Refused, TooMany, client_block, ip_key};
use super::tickets::plausible_id;
use crate::hall::feedback::{CustomerFeedback, CustomerRating};
use crate::hall::messages::{MessageRow, MessageSettings, Registered};
use crate::hall::remote::RemoteRequest;
use crate::store::Role;

/// Requests one client address may make a minute to the customer's endpoints.
pub const CUSTOMER_WRITES_PER_MINUTE: u32 = 30;
/// Tickets one client address may ask for from the phone a minute (a hall's Wi-Fi puts many
/// customers behind one address; a script asking for hundreds is stopped).
pub const REMOTE_TICKETS_PER_MINUTE: u32 = 10;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tickets/{id}/notify", post(notify).delete(forget))
        .route("/api/v1/tickets/{id}/rating", post(rate))
        .route("/api/v1/tickets/{id}/feedback", post(feedback))
        .route("/api/v1/remote-tickets", post(take_remote))
        .route("/api/v1/remote-tickets/check-in", post(check_in))
        .route("/api/v1/messages", get(messages))
        .route("/api/v1/config/messages", get(settings).put(set_settings))
}

/// Takes one of the client address's customer requests, or 429.
fn take(state: &AppState, client: ClientAddr) -> Result<(), TooMany> {
    state
        .customer_writes
        .take(ip_key(client_block(client.0)), std::time::Instant::now())
        .map_err(|wait| {
            TooMany::new(
                "too_many_requests",
                "too many requests from this address; try again shortly",
                wait,
            )
        })
}

fn ticket_id(id: &str) -> ApiResult<&str> {
    if plausible_id(id) {
        Ok(id)
    } else {
        Err(ApiError::not_found(
            "unknown_ticket",
            "there is no such ticket",
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Notify {
    mobile: String,
    #[serde(default = "default_lang")]
    lang: String,
}

fn default_lang() -> String {
    "zh".into()
}

/// `POST /api/v1/tickets/{id}/notify`: text me when my turn is near (the number masked in the
/// answer). 409 `messages_off` when the hall sends no messages.
async fn notify(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Notify>,
) -> Result<Json<Registered>, Refused> {
    take(&state, client)?;
    let id = ticket_id(&id)?;
    if !state.messages_on {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "messages_off",
            "this hall does not send text messages",
        )
        .into());
    }
    let r = state
        .store
        .notify_register(id, &body.mobile, &body.lang, state.now())
        .await
        .map_err(ApiError::from)?;
    Ok(Json(r))
}

/// `DELETE /api/v1/tickets/{id}/notify`: no more messages; the number is forgotten.
async fn forget(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, Refused> {
    take(&state, client)?;
    let id = ticket_id(&id)?;
    state
        .store
        .notify_forget(id)
        .await
        .map_err(ApiError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rate {
    score: u8,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    contact: Option<String>,
    #[serde(default)]
    consent: bool,
}

/// The register's item a customer's feedback opened.
#[derive(Debug, Serialize)]
struct Opened {
    id: i64,
    due_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize)]
struct Rated {
    score: u8,
    /// The follow-up a score of 1 or 2 opened.
    follow_up: Option<Opened>,
}

/// `POST /api/v1/tickets/{id}/rating`: the customer rates their visit (once per ticket, on the
/// pad or here).
async fn rate(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Rate>,
) -> Result<(StatusCode, Json<Rated>), Refused> {
    take(&state, client)?;
    let id = ticket_id(&id)?;
    let r = CustomerRating {
        score: body.score,
        comment: body.comment,
        contact: body.contact,
        consent: body.consent,
    };
    let opened = state
        .store
        .rate_by_customer(id, &r, state.now())
        .await
        .map_err(ApiError::from)?;
    Ok((
        StatusCode::CREATED,
        Json(Rated {
            score: r.score,
            follow_up: opened.map(|(id, due_at)| Opened { id, due_at }),
        }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Feedback {
    kind: String,
    category: String,
    text: String,
    #[serde(default)]
    contact: Option<String>,
    #[serde(default)]
    consent: bool,
}

/// `POST /api/v1/tickets/{id}/feedback`: a complaint or suggestion for the managers.
async fn feedback(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Feedback>,
) -> Result<(StatusCode, Json<Opened>), Refused> {
    take(&state, client)?;
    let id = ticket_id(&id)?;
    let f = CustomerFeedback {
        kind: body.kind,
        category: body.category,
        text: body.text,
        contact: body.contact,
        consent: body.consent,
    };
    let (id, due_at) = state
        .store
        .complaint_by_customer(id, &f, state.now())
        .await
        .map_err(ApiError::from)?;
    Ok((StatusCode::CREATED, Json(Opened { id, due_at })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TakeRemote {
    /// The branch (default: the hall's first).
    #[serde(default)]
    branch: Option<i64>,
    service: String,
    mobile: String,
    #[serde(default = "default_lang")]
    lang: String,
    /// The page's random key for this browser.
    browser: String,
}

#[derive(Debug, Serialize)]
struct RemoteTaken {
    id: String,
    number: String,
    service: String,
    /// The check-in code, typed at the kiosk (the tracking link's QR works too).
    code: String,
    tracking_url: String,
    ahead: u32,
    estimated_wait_secs: u64,
}

/// `POST /api/v1/remote-tickets`: a ticket from the phone, to check in on arrival.
async fn take_remote(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(body): ApiJson<TakeRemote>,
) -> Result<(StatusCode, Json<RemoteTaken>), Refused> {
    state
        .remote_issue
        .take(ip_key(client_block(client.0)), std::time::Instant::now())
        .map_err(|wait| {
            TooMany::new(
                "too_many_requests",
                "too many tickets asked for from this address; try again shortly",
                wait,
            )
        })?;
    let branch = match body.branch {
        Some(b) => {
            if !state
                .store
                .branch_ids()
                .await
                .map_err(ApiError::from)?
                .contains(&b)
            {
                return Err(ApiError::not_found(
                    "unknown_branch",
                    format!("there is no branch {b}"),
                )
                .into());
            }
            b
        }
        None => super::feedback::public_branch(&state).await?,
    };
    let service = body.service.parse().map_err(|_| {
        ApiError::not_found(
            "unknown_service",
            format!("there is no service {:?}", body.service),
        )
    })?;
    let req = RemoteRequest {
        service,
        mobile: body.mobile,
        lang: body.lang,
        browser: body.browser,
    };
    let r = state
        .store
        .take_remote(branch, &req, state.now())
        .await
        .map_err(ApiError::from)?;
    let t = r.issued.ticket;
    Ok((
        StatusCode::CREATED,
        Json(RemoteTaken {
            tracking_url: state.tracking_url(&t.id),
            id: t.id,
            number: t.number.to_string(),
            service: t.service.to_string(),
            code: r.code,
            ahead: t.estimate_ahead,
            estimated_wait_secs: t.estimate_secs,
        }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckIn {
    /// The check-in code, the tracking link (a scanned QR), or (staff) the ticket's number.
    code: String,
}

#[derive(Debug, Serialize)]
struct CheckedIn {
    number: String,
    service: String,
    checked_in: bool,
}

/// `POST /api/v1/remote-tickets/check-in` (kiosk, staff, manager): a remote ticket has arrived.
async fn check_in(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CheckIn>,
) -> ApiResult<Json<CheckedIn>> {
    let who = caller.require(&[Role::Kiosk, Role::Staff, Role::Manager])?;
    if body.code.len() > 300 {
        return Err(ApiError::not_found(
            "unknown_ticket",
            "no ticket has that code",
        ));
    }
    let t = state
        .store
        .check_in_remote(who, &body.code, state.now())
        .await?;
    Ok(Json(CheckedIn {
        number: t.number.to_string(),
        service: t.service.to_string(),
        checked_in: true,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Day {
    #[serde(default)]
    day: Option<NaiveDate>,
}

/// `GET /api/v1/messages?day=YYYY-MM-DD` (manager): the day's messages, numbers masked.
async fn messages(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<Day>,
) -> ApiResult<Json<Vec<MessageRow>>> {
    let who = caller.require(&[Role::Manager])?;
    let cfg = state.store.config(who.branch_id).await?;
    let day = match q.day {
        Some(d) => super::dates::check_day("day", d)?,
        None => crate::queue::schedule::local_date(cfg.schedule.tz, state.now()),
    };
    Ok(Json(state.store.messages(who.branch_id, day).await?))
}

/// `GET /api/v1/config/messages` (manager).
async fn settings(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<MessageSettings>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(state.store.message_settings(who.branch_id).await?))
}

/// `PUT /api/v1/config/messages` (manager; audited).
async fn set_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<MessageSettings>,
) -> ApiResult<Json<MessageSettings>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(
        state
            .store
            .set_message_settings(who, &body, state.now())
            .await?,
    ))
}

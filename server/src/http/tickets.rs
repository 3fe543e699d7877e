//! Tickets: issue (kiosk), read and cancel (whoever holds the ticket's unguessable id).

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use qhall_shared::api::{IssueTicket, IssuedTicket, TicketView};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiPath, ApiResult};
use super::limit::{Key, Refused, TooMany};
use crate::store::{Role, StoreError, TicketRow};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tickets", post(issue))
        .route("/api/v1/tickets/{id}", get(read))
        .route("/api/v1/tickets/{id}/cancel", post(cancel))
}

/// The view of a ticket its holder may see.
pub fn view(t: &TicketRow, ahead: u32, estimated_wait_secs: u64) -> TicketView {
    TicketView {
        id: t.id.clone(),
        number: t.number.clone(),
        service: t.service,
        status: t.status,
        issued_at: t.issued_at,
        ahead,
        estimated_wait_secs,
        window: if matches!(
            t.status,
            qhall_shared::api::TicketStatus::Called | qhall_shared::api::TicketStatus::Serving
        ) {
            t.window
        } else {
            None
        },
        priority: t.priority,
        called_at: t.first_called_at,
        extended_reason: t.extended_reason.clone(),
        identity: None,
        remote_checked_in: None,
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let s = v
        .to_str()
        .map_err(|_| ApiError::malformed("Idempotency-Key must be printable ASCII"))?;
    if s.is_empty() || s.len() > 128 {
        return Err(ApiError::malformed(
            "Idempotency-Key must be 1 to 128 characters",
        ));
    }
    Ok(Some(s.to_owned()))
}

/// `POST /api/v1/tickets`: 201 with a new ticket, or 200 with the one an earlier request with
/// the same `Idempotency-Key` issued. Each kiosk (or staff member, or manager) may issue `issue_limit` a minute;
/// past that, 429 `too_many_tickets` with `Retry-After`, and nothing is issued.
async fn issue(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<IssueTicket>,
) -> Result<(StatusCode, Json<IssuedTicket>), Refused> {
    // Staff issue at the reception desk for a customer who cannot use the kiosk: the ticket's
    // history records who.
    let who = caller.require(&[Role::Kiosk, Role::Staff, Role::Manager])?;
    let key = idempotency_key(&headers)?;
    let caller_key = match (who.device_id, who.user_id) {
        (Some(d), _) => Key::of(&[b"device", &d.to_le_bytes()]),
        (None, u) => Key::of(&[b"user", &u.unwrap_or(0).to_le_bytes()]),
    };
    state
        .issuing
        .take(caller_key, std::time::Instant::now())
        .map_err(|wait| {
            TooMany::new(
                "too_many_tickets",
                "this kiosk is issuing tickets faster than people can take them; try again shortly",
                wait,
            )
        })?;
    let now = state.now();
    let service = body.service.parse().map_err(|_| {
        StoreError::not_found(
            "unknown_service",
            format!("there is no service {:?}", body.service),
        )
    })?;
    if body.print_at.is_some() && !matches!(who.role, Role::Staff | Role::Manager) {
        return Err(ApiError::forbidden(
            "only the reception desk (staff, managers) prints at a kiosk",
        )
        .into());
    }
    let (issued, print_job) = state
        .store
        .issue_at_desk(
            who,
            service,
            body.priority,
            key.as_deref(),
            body.print_at,
            now,
        )
        .await?;
    if issued.created {
        state.metrics.issued.fetch_add(1, Ordering::Relaxed);
    }
    let status = if issued.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(IssuedTicket {
            print_job,
            ..issued_ticket(&state, issued.ticket, &issued.config, None)
        }),
    ))
}

/// A new ticket's answer: what the kiosk prints.
pub(super) fn issued_ticket(
    state: &AppState,
    t: crate::store::TicketRow,
    cfg: &crate::store::BranchConfig,
    appointment: Option<qhall_shared::api::AppointmentSlot>,
) -> IssuedTicket {
    let svc = cfg.service(t.issued_service);
    IssuedTicket {
        tracking_url: state.tracking_url(&t.id),
        id: t.id,
        number: t.number,
        service: t.issued_service,
        issued_at: t.issued_at,
        ahead: t.estimate_ahead,
        estimated_wait_secs: t.estimate_secs,
        priority: t.priority,
        service_name: svc.map(|s| s.name.clone()).unwrap_or_default(),
        guide_line: svc.map(|s| first_lines(&s.guide)).unwrap_or_default(),
        appointment,
        print_job: None,
    }
}

/// The guide's first line in each language: what is printed on the ticket.
fn first_lines(g: &qhall_shared::api::Localized) -> qhall_shared::api::Localized {
    let first = |s: &str| s.lines().next().unwrap_or("").to_owned();
    qhall_shared::api::Localized {
        zh: first(&g.zh),
        zh_hant: first(&g.zh_hant),
        en: first(&g.en),
    }
}

pub fn plausible_id(id: &str) -> bool {
    (16..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `GET /api/v1/tickets/{id}`: no token needed; the id itself is the secret.
async fn read(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TicketView>> {
    if !plausible_id(&id) {
        return Err(ApiError::not_found(
            "unknown_ticket",
            "there is no such ticket",
        ));
    }
    let (t, ahead, secs) = state
        .store
        .ticket_view(&id, state.now())
        .await?
        .ok_or_else(|| ApiError::not_found("unknown_ticket", "there is no such ticket"))?;
    Ok(Json(view(&t, ahead, secs)))
}

/// `POST /api/v1/tickets/{id}/cancel`: the customer gives up their place (recorded in the
/// ticket's history with the actor `customer`).
async fn cancel(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TicketView>> {
    if !plausible_id(&id) {
        return Err(ApiError::not_found(
            "unknown_ticket",
            "there is no such ticket",
        ));
    }
    let t = state.store.cancel(&id, state.now()).await?;
    Ok(Json(view(&t, 0, 0)))
}

//! Appointments (issue #12, first part): the slots of a day and booking one (public, for the
//! hall's booking page and its own portal), a booking by its code (view, cancel), and for
//! managers the day's bookings and each service's booking settings.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::client::ClientAddr;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use super::limit::{Refused, TooMany, client_block, ip_key};
use crate::hall::appointments::{
    AppointmentSettings, BookRequest, BookingView, BySlot, CheckIn, SlotView,
};
use crate::store::Role;
use qhall_shared::ServiceCode;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/appointments/slots", get(slots))
        .route("/api/v1/appointments", post(book).get(list))
        .route("/api/v1/appointments/check-in", post(check_in))
        .route("/api/v1/appointments/{code}", get(view))
        .route("/api/v1/appointments/{code}/cancel", post(cancel))
        .route(
            "/api/v1/config/services/{code}/appointments",
            get(settings).put(set_settings),
        )
}

fn service(code: &str) -> ApiResult<ServiceCode> {
    code.parse().map_err(|_| {
        ApiError::not_found("unknown_service", format!("there is no service {code:?}"))
    })
}

async fn branch_or_first(state: &AppState, branch: Option<i64>) -> ApiResult<i64> {
    match branch {
        Some(b) if state.store.branch_ids().await?.contains(&b) => Ok(b),
        Some(b) => Err(ApiError::not_found(
            "unknown_branch",
            format!("there is no branch {b}"),
        )),
        None => super::feedback::public_branch(state).await,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotQuery {
    service: String,
    day: NaiveDate,
    #[serde(default)]
    branch: Option<i64>,
}

/// `GET /api/v1/appointments/slots?service=A&day=2026-12-08`: the day's bookable slots.
async fn slots(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SlotQuery>,
) -> ApiResult<Json<Vec<SlotView>>> {
    let branch = branch_or_first(&state, q.branch).await?;
    let day = super::dates::check_day("day", q.day)?;
    Ok(Json(
        state
            .store
            .appointment_slots(branch, service(&q.service)?, day, state.now())
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Book {
    #[serde(default)]
    branch: Option<i64>,
    service: String,
    start: DateTime<Utc>,
    #[serde(default)]
    mobile: Option<String>,
    #[serde(default = "default_lang")]
    lang: String,
}

fn default_lang() -> String {
    "zh".into()
}

/// `POST /api/v1/appointments`: books a slot. Without a token, the public page (`source`
/// `web`, `booking_limit` a minute per client address); with the hall's booking portal's token
/// (`api`) or a staff member's or manager's (`phone`: booking for a caller), in their own
/// branch, without the address limit.
async fn book(
    State(state): State<AppState>,
    caller: Option<Caller>,
    client: ClientAddr,
    ApiJson(body): ApiJson<Book>,
) -> Result<(StatusCode, Json<BookingView>), Refused> {
    let (branch, source) = match &caller {
        None => {
            state
                .bookings
                .take(ip_key(client_block(client.0)), std::time::Instant::now())
                .map_err(|wait| {
                    TooMany::new(
                        "too_many_requests",
                        "too many bookings from this address; try again shortly",
                        wait,
                    )
                })?;
            (branch_or_first(&state, body.branch).await?, "web")
        }
        Some(c) => {
            let who = c.require(&[Role::Booking, Role::Staff, Role::Manager])?;
            if body.branch.is_some_and(|b| b != who.branch_id) {
                return Err(ApiError::forbidden("book in your own branch").into());
            }
            let source = if who.role == Role::Booking {
                "api"
            } else {
                "phone"
            };
            (who.branch_id, source)
        }
    };
    let start = super::dates::check_instant("start", body.start)?;
    let req = BookRequest {
        service: service(&body.service)?,
        start,
        mobile: body.mobile,
        lang: body.lang,
        source,
    };
    let b = state
        .store
        .book(branch, &req, state.now())
        .await
        .map_err(ApiError::from)?;
    Ok((StatusCode::CREATED, Json(b)))
}

fn plausible_code(code: &str) -> ApiResult<&str> {
    if code.len() == crate::hall::appointments::CODE_LEN
        && code.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        Ok(code)
    } else {
        Err(ApiError::not_found(
            "unknown_booking",
            "there is no booking with that code",
        ))
    }
}

/// `GET /api/v1/appointments/{code}`: the booking (its code is the key; the number masked).
async fn view(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<BookingView>> {
    let code = plausible_code(&code)?;
    state
        .store
        .booking(code)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("unknown_booking", "there is no booking with that code"))
}

/// `POST /api/v1/appointments/{code}/cancel`: the customer cancels.
async fn cancel(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<BookingView>> {
    let code = plausible_code(&code)?;
    Ok(Json(state.store.cancel_booking(code, state.now()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckInBody {
    /// The booking code typed, or the booking link scanned.
    #[serde(default)]
    code: Option<String>,
    /// Staff, for a caller without the code: the slot, and the last four digits of the
    /// number booked with.
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    start: Option<DateTime<Utc>>,
    #[serde(default)]
    last4: Option<String>,
}

/// `POST /api/v1/appointments/check-in` (kiosk, staff, manager): a booked customer has come.
/// 201 and the appointment's ticket, 200 and the same ticket again for a code checked in
/// before; 409 `too_early`, `booking_late` (the booking is now marked late: a normal ticket
/// is the way in), `booking_cancelled`; 404 `unknown_booking`.
async fn check_in(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CheckInBody>,
) -> ApiResult<(StatusCode, Json<qhall_shared::api::IssuedTicket>)> {
    let who = caller.require(&[Role::Kiosk, Role::Staff, Role::Manager])?;
    let now = state.now();
    let done = match (body.code, body.service, body.start, body.last4) {
        (Some(code), None, None, None) if code.len() <= 300 => {
            state.store.check_in_booking(who, &code, now).await?
        }
        (Some(_), None, None, None) => {
            return Err(ApiError::not_found(
                "unknown_booking",
                "there is no booking with that code",
            ));
        }
        (None, Some(svc), Some(start), Some(last4)) if who.role != Role::Kiosk => {
            let start = super::dates::check_instant("start", start)?;
            let slot = BySlot {
                service: service(&svc)?,
                start,
                last4,
            };
            state
                .store
                .check_in_booking_by_phone(who, &slot, now)
                .await?
        }
        _ => {
            return Err(ApiError::invalid(
                "invalid_body",
                "give the booking's code, or (staff) its service, start and last4",
            ));
        }
    };
    match done {
        CheckIn::Ticket {
            issued,
            booking,
            reprint,
        } => {
            let slot = qhall_shared::api::AppointmentSlot {
                start: booking.start,
                time: booking.time.unwrap_or_default(),
                reprint,
            };
            if !reprint {
                state
                    .metrics
                    .issued
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            let status = if reprint {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            let t =
                super::tickets::issued_ticket(&state, issued.ticket, &issued.config, Some(slot));
            Ok((status, Json(t)))
        }
        CheckIn::Late(b) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "booking_late",
            format!(
                "check-in for this booking closed at {}: please take a normal ticket",
                b.checkin_closes.unwrap_or_default()
            ),
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Day {
    #[serde(default)]
    day: Option<NaiveDate>,
}

/// `GET /api/v1/appointments?day=…` (manager, staff, the booking portal): the branch's
/// bookings of the day, cancelled ones with why, numbers masked.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<Day>,
) -> ApiResult<Json<Vec<BookingView>>> {
    let who = caller.require(&[Role::Manager, Role::Staff, Role::Booking])?;
    let cfg = state.store.config(who.branch_id).await?;
    let day = match q.day {
        Some(d) => super::dates::check_day("day", d)?,
        None => crate::queue::schedule::local_date(cfg.schedule.tz, state.now()),
    };
    Ok(Json(state.store.bookings(who.branch_id, day).await?))
}

/// `GET /api/v1/config/services/{code}/appointments` (manager).
async fn settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<AppointmentSettings>> {
    let who = caller.require(&[Role::Manager])?;
    let svc = service(&code)?;
    let cfg = state.store.config(who.branch_id).await?;
    cfg.service(svc).ok_or_else(|| {
        ApiError::not_found("unknown_service", format!("there is no service {code:?}"))
    })?;
    Ok(Json(
        state.store.appointment_settings(who.branch_id, svc).await?,
    ))
}

/// `PUT /api/v1/config/services/{code}/appointments` (manager; audited).
async fn set_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<AppointmentSettings>,
) -> ApiResult<Json<AppointmentSettings>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(
        state
            .store
            .set_appointment_settings(who, service(&code)?, &body, state.now())
            .await?,
    ))
}

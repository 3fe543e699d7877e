//! The complaints register for managers: list and filter, one complaint with its history,
//! assign, notes with status changes, the contact on request (audited), and the retention
//! period after which contacts are purged. Taking a complaint (`POST /api/v1/complaints`,
//! staff at the console) is in [`super::feedback`].

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use qhall_shared::{COMPLAINT_CATEGORIES, ComplaintCategory};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Caller;
use super::dates::check_opt_day;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::hall::complaints::{
    ComplaintFilter, ComplaintRow, ComplaintStatus, NoteInput, NoteRow, Outcome,
};
use crate::queue::schedule::local_instant;
use crate::store::Role;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/complaints", get(list))
        .route(
            "/api/v1/complaints/retention",
            get(retention).put(set_retention),
        )
        .route("/api/v1/complaints/{id}", get(detail))
        .route("/api/v1/complaints/{id}/assign", post(assign))
        .route("/api/v1/complaints/{id}/notes", post(note))
        .route("/api/v1/complaints/{id}/contact", post(contact))
}

/// `?status=open|in_progress|resolved&overdue=true|false&category=…&from=DATE&to=DATE`
/// (branch-local days of taking, both included).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    overdue: Option<bool>,
    category: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

#[derive(Debug, Serialize)]
struct List {
    complaints: Vec<ComplaintRow>,
    /// How many of them are overdue.
    overdue: usize,
}

fn status(s: &str) -> ApiResult<ComplaintStatus> {
    ComplaintStatus::parse(s).ok_or_else(|| {
        ApiError::invalid(
            "invalid_status",
            "status is one of open, in_progress, resolved",
        )
    })
}

fn id(s: &str) -> ApiResult<i64> {
    s.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::not_found("unknown_complaint", format!("there is no complaint {s:?}"))
    })
}

/// `GET /api/v1/complaints`: newest first, contacts masked.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<List>> {
    let who = caller.require(&[Role::Manager])?;
    let status = q
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(status)
        .transpose()?;
    let category = q.category.filter(|c| !c.is_empty());
    if let Some(c) = &category
        && ComplaintCategory::find(c).is_none()
    {
        let codes = COMPLAINT_CATEGORIES.map(|c| c.code).join(", ");
        return Err(ApiError::invalid(
            "invalid_category",
            format!("category is one of {codes}"),
        ));
    }
    let (from, to) = (check_opt_day("from", q.from)?, check_opt_day("to", q.to)?);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::invalid(
            "invalid_range",
            "from must not be after to",
        ));
    }
    let tz = state.store.config(who.branch_id).await?.schedule.tz;
    let filter = ComplaintFilter {
        status,
        overdue: q.overdue,
        category,
        from: from.map(|d| local_instant(tz, d, 0)),
        to: to.map(|d| local_instant(tz, d, 1440)),
    };
    let complaints = state
        .store
        .complaints(who.branch_id, filter, state.now())
        .await?;
    let overdue = complaints.iter().filter(|c| c.overdue).count();
    Ok(Json(List {
        complaints,
        overdue,
    }))
}

#[derive(Debug, Serialize)]
struct Detail {
    #[serde(flatten)]
    complaint: ComplaintRow,
    history: Vec<NoteRow>,
}

/// `GET /api/v1/complaints/{id}`: the contact still masked (see `…/contact`).
async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<Detail>> {
    let who = caller.require(&[Role::Manager])?;
    let (complaint, history) = state
        .store
        .complaint_detail(who.branch_id, id(&raw)?, state.now())
        .await?;
    Ok(Json(Detail { complaint, history }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Assign {
    user_id: i64,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /api/v1/complaints/{id}/assign`.
async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(body): ApiJson<Assign>,
) -> ApiResult<Json<ComplaintRow>> {
    let who = caller.require(&[Role::Manager])?;
    let id = id(&raw)?;
    Ok(Json(
        state
            .store
            .assign_complaint(who, id, body.user_id, body.note, state.now())
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Note {
    text: String,
    #[serde(default)]
    status: Option<String>,
    /// The customer was called back (with this note).
    #[serde(default)]
    called_back: bool,
    /// When resolving: `upheld` or `not_upheld`.
    #[serde(default)]
    outcome: Option<Outcome>,
    /// When resolving: the person the complaint concerns (default: who served the ticket).
    #[serde(default)]
    about: Option<i64>,
}

/// `POST /api/v1/complaints/{id}/notes`: a note, optionally moving the status forward.
async fn note(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(body): ApiJson<Note>,
) -> ApiResult<Json<ComplaintRow>> {
    let who = caller.require(&[Role::Manager])?;
    let id = id(&raw)?;
    let to = body.status.as_deref().map(status).transpose()?;
    Ok(Json(
        state
            .store
            .complaint_note(
                who,
                id,
                NoteInput {
                    text: body.text,
                    status: to,
                    called_back: body.called_back,
                    outcome: body.outcome,
                    about: body.about,
                },
                state.now(),
            )
            .await?,
    ))
}

#[derive(Debug, Serialize)]
struct Contact {
    contact: Option<String>,
}

/// `POST /api/v1/complaints/{id}/contact`: the contact in full; the viewing is audited.
async fn contact(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<Contact>> {
    let who = caller.require(&[Role::Manager])?;
    let id = id(&raw)?;
    let contact = state.store.complaint_contact(who, id, state.now()).await?;
    Ok(Json(Contact { contact }))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Retention {
    /// Days after resolution a complaint's contact is kept.
    days: i64,
}

/// `GET /api/v1/complaints/retention`.
async fn retention(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Retention>> {
    let who = caller.require(&[Role::Manager])?;
    let days = state.store.complaint_retention(who.branch_id).await?;
    Ok(Json(Retention {
        days: i64::from(days),
    }))
}

/// `PUT /api/v1/complaints/retention`: audited; the next purge uses it.
async fn set_retention(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Retention>,
) -> ApiResult<Json<Retention>> {
    let who = caller.require(&[Role::Manager])?;
    let days = state
        .store
        .set_complaint_retention(who, body.days, state.now())
        .await?;
    Ok(Json(Retention {
        days: i64::from(days),
    }))
}

//! The people behind the windows, beyond shifts and leave: the monthly scorecards (JSON and
//! CSV), the manager's note, the branch's weights, grades and ladder, the proposals a manager
//! confirms or dismisses, each person's disciplinary record, and training. Staff reach only
//! their own scorecard, record and training history (403 otherwise), so these routes are not
//! behind the managers-only layer; each handler says who may call it.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiJson, ApiPath, ApiQuery, ApiResult};
use super::stats::Range;
use crate::hall::assessment::{Decision, Note, Period, Proposal, Record, Scorecard};
use crate::hall::training::{History, NewSession, Session};
use crate::queue::assessment::Settings;
use crate::queue::schedule::local_date;
use crate::store::export::push_csv_line;
use crate::store::{Principal, Role};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/assessment", get(month))
        .route("/api/v1/assessment.csv", get(csv))
        .route(
            "/api/v1/assessment/settings",
            get(settings).put(set_settings),
        )
        .route("/api/v1/assessment/proposals", get(proposals))
        .route("/api/v1/assessment/decisions", post(decide))
        .route("/api/v1/users/{id}/assessment", get(one))
        .route("/api/v1/users/{id}/assessment/note", put(set_note))
        .route("/api/v1/users/{id}/records", get(records))
        .route("/api/v1/training", get(sessions).post(record_session))
        .route(
            "/api/v1/training/requirements",
            get(requirements).put(set_requirements),
        )
        .route("/api/v1/users/{id}/training", get(history))
}

/// `?month=YYYY-MM` (default: this month, branch-local).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MonthQuery {
    month: Option<String>,
}

async fn period_of(state: &AppState, who: &Principal, q: &MonthQuery) -> ApiResult<Period> {
    Ok(match q.month.as_deref() {
        Some(m) => Period::parse(m)?,
        None => {
            let tz = state.store.config(who.branch_id).await?.schedule.tz;
            Period::of(local_date(tz, state.now()))
        }
    })
}

/// The branch's month.
#[derive(Debug, Serialize)]
struct Month {
    period: String,
    from: NaiveDate,
    to: NaiveDate,
    settings: Settings,
    people: Vec<Scorecard>,
}

async fn build(state: &AppState, caller: &Caller, q: &MonthQuery) -> ApiResult<Month> {
    let who = caller.require(&[Role::Manager])?;
    let period = period_of(state, who, q).await?;
    let (settings, people) = state
        .store
        .scorecards(who, period.clone(), None, state.now())
        .await?;
    Ok(Month {
        period: period.key,
        from: period.from,
        to: period.to,
        settings,
        people,
    })
}

/// `GET /api/v1/assessment?month=` (managers): everyone's scorecard.
async fn month(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> ApiResult<Json<Month>> {
    Ok(Json(build(&state, &caller, &q).await?))
}

const CSV_HEADER: [&str; 26] = [
    "period",
    "user_id",
    "name",
    "served",
    "service_secs_mean",
    "service_time_ratio",
    "ratings",
    "rating_mean",
    "bad_ratings",
    "bad_rating_share",
    "complaints_upheld",
    "late",
    "early",
    "absent",
    "long_pauses",
    "pause_mins",
    "leave_days",
    "identity_required",
    "identity_checked",
    "out_of_order_calls",
    "extended",
    "training_hours",
    "score",
    "grade",
    "records",
    "note",
];

/// `GET /api/v1/assessment.csv?month=` (managers): one line per person.
async fn csv(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> ApiResult<Response> {
    let m = build(&state, &caller, &q).await?;
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_default();
    let mut buf = String::new();
    push_csv_line(&mut buf, &CSV_HEADER);
    for c in &m.people {
        let f = &c.figures;
        let confirmed: Vec<String> = c
            .records
            .iter()
            .filter(|r| r.state == "confirmed")
            .map(|r| r.level.clone())
            .collect();
        push_csv_line(
            &mut buf,
            &[
                c.period.clone(),
                c.user_id.to_string(),
                c.name.clone(),
                f.served.to_string(),
                opt(f.service_secs_mean),
                opt(f.service_time_ratio),
                f.ratings.to_string(),
                opt(f.rating_mean),
                f.bad_ratings.to_string(),
                opt(f.bad_rating_share),
                f.complaints_upheld.to_string(),
                f.late.to_string(),
                f.early.to_string(),
                f.absent.to_string(),
                f.long_pauses.to_string(),
                f.pause_mins.to_string(),
                f.leave_days.to_string(),
                f.identity_required.to_string(),
                f.identity_checked.to_string(),
                f.out_of_order_calls.to_string(),
                f.extended.to_string(),
                format!("{:.2}", f.training_hours),
                format!("{:.1}", c.scored.score),
                c.scored.grade.clone(),
                confirmed.join("; "),
                c.note.as_ref().map(|n| n.text.clone()).unwrap_or_default(),
            ],
        );
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"qhall-assessment-{}.csv\"", m.period),
            ),
        ],
        buf,
    )
        .into_response())
}

/// `GET /api/v1/users/{id}/assessment?month=`: one scorecard; staff only their own.
async fn one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user): ApiPath<i64>,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> ApiResult<Json<Scorecard>> {
    let who = caller.require(&[Role::Staff, Role::Manager])?;
    let period = period_of(&state, who, &q).await?;
    let (_, cards) = state
        .store
        .scorecards(who, period, Some(user), state.now())
        .await?;
    let card = cards.into_iter().next().ok_or_else(|| {
        crate::store::StoreError::not_found("unknown_user", format!("there is no person {user}"))
    })?;
    Ok(Json(card))
}

/// The body of `PUT /api/v1/users/{id}/assessment/note`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    month: String,
    note: String,
}

/// `PUT /api/v1/users/{id}/assessment/note` (managers; audited): an empty note removes it.
async fn set_note(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user): ApiPath<i64>,
    ApiJson(body): ApiJson<NoteBody>,
) -> ApiResult<Json<Option<Note>>> {
    let who = caller.require(&[Role::Manager])?;
    let period = Period::parse(&body.month)?;
    Ok(Json(
        state
            .store
            .set_assessment_note(who, user, period, body.note, state.now())
            .await?,
    ))
}

/// `GET /api/v1/assessment/settings` (managers).
async fn settings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Settings>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(state.store.assessment_settings(who.branch_id).await?))
}

/// `PUT /api/v1/assessment/settings` (managers; audited).
async fn set_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Settings>,
) -> ApiResult<Json<Settings>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(
        state
            .store
            .set_assessment_settings(who, body, state.now())
            .await?,
    ))
}

/// `GET /api/v1/assessment/proposals?month=` (managers): what the ladder proposes and no one
/// has decided.
async fn proposals(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> ApiResult<Json<Vec<Proposal>>> {
    let m = build(&state, &caller, &q).await?;
    Ok(Json(
        m.people.into_iter().flat_map(|c| c.proposals).collect(),
    ))
}

/// `POST /api/v1/assessment/decisions` `{user_id, month, rule, confirm, note}` (managers;
/// audited): 201 with the record.
async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Decision>,
) -> ApiResult<(StatusCode, Json<Record>)> {
    let who = caller.require(&[Role::Manager])?;
    let made = state.store.decide_proposal(who, body, state.now()).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// `GET /api/v1/users/{id}/records`: the disciplinary record; staff only their own.
async fn records(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user): ApiPath<i64>,
) -> ApiResult<Json<Vec<Record>>> {
    let who = caller.require(&[Role::Staff, Role::Manager])?;
    Ok(Json(state.store.disciplinary_records(who, user).await?))
}

/// `POST /api/v1/training` (managers; audited): 201 with the session.
async fn record_session(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewSession>,
) -> ApiResult<(StatusCode, Json<Session>)> {
    let who = caller.require(&[Role::Manager])?;
    let made = state.store.record_training(who, body, state.now()).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// `GET /api/v1/training?from=&to=` (managers): the branch's sessions.
async fn sessions(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(range): ApiQuery<Range>,
) -> ApiResult<Json<Vec<Session>>> {
    let who = caller.require(&[Role::Manager])?;
    let tz = state.store.config(who.branch_id).await?.schedule.tz;
    let (from, to) = range.days(local_date(tz, state.now()))?;
    Ok(Json(
        state
            .store
            .training_sessions(who.branch_id, from, to)
            .await?,
    ))
}

/// `GET /api/v1/users/{id}/training`: a person's history; staff only their own.
async fn history(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user): ApiPath<i64>,
) -> ApiResult<Json<History>> {
    let who = caller.require(&[Role::Staff, Role::Manager])?;
    Ok(Json(state.store.training_history(who, user).await?))
}

/// The services that require a passed training.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Requirements {
    services: Vec<String>,
}

/// `GET /api/v1/training/requirements` (managers).
async fn requirements(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Requirements>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(Requirements {
        services: state.store.training_requirements(who.branch_id).await?,
    }))
}

/// `PUT /api/v1/training/requirements` `{services}` (managers; audited).
async fn set_requirements(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Requirements>,
) -> ApiResult<Json<Requirements>> {
    let who = caller.require(&[Role::Manager])?;
    if body.services.len() > 100 {
        return Err(
            crate::store::StoreError::invalid("unknown_service", "at most 100 services").into(),
        );
    }
    Ok(Json(Requirements {
        services: state
            .store
            .set_training_requirements(who, body.services, state.now())
            .await?,
    }))
}

//! `GET /api/v1/stats`, `GET /api/v1/stats/branches` and `POST /api/v1/staffing/erlang-c`
//! (managers).
//!
//! A manager reads its own branch; an admin any branch (`?branch=N`) and every branch at once
//! (`/stats/branches`). Asking for another branch's figures as a manager is a 403.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use qhall_shared::api::{
    BranchStats, BranchStatsList, ErlangCRequest, ErlangCResponse, ServiceStats, Stats,
};
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::queue::erlang;
use crate::queue::schedule::{local_date, local_instant};
use crate::queue::stats::{TicketRecord, figures};
use crate::store::{BranchConfig, Principal, Role, TicketRow};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/stats/branches", get(branches))
        .route("/api/v1/stats/branches.csv", get(branches_csv))
        .route("/api/v1/staffing/erlang-c", post(erlang_c))
}

/// `?from=DATE&to=DATE`: branch-local days, both included; `to` defaults to `from`, both to today.
/// `&branch=N`: another branch (admins; a manager only its own).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Range {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    pub(super) branch: Option<i64>,
}

impl Range {
    /// The first and last day asked for, checked ([`super::dates::day_range`]): within the
    /// dates a request may name, in order, and at most 366 days.
    pub(super) fn days(&self, today: NaiveDate) -> ApiResult<(NaiveDate, NaiveDate)> {
        super::dates::day_range(self.from, self.to, today, 366)
    }
}

/// The branch whose figures `who` asks for: its own, or (admins) any.
pub(super) fn branch_for(who: &Principal, requested: Option<i64>) -> ApiResult<i64> {
    match requested {
        None => Ok(who.branch_id),
        Some(b) if b == who.branch_id || who.role == Role::Admin => Ok(b),
        Some(_) => Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "other_branch",
            "a manager sees only the figures of its own branch",
        )),
    }
}

/// The branch's tickets issued on the days, as the figures count them.
async fn records(
    state: &AppState,
    cfg: &BranchConfig,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<(qhall_shared::ServiceCode, TicketRecord)>> {
    let tz = cfg.schedule.tz;
    let tickets = state
        .store
        .tickets_issued_between(
            cfg.id,
            local_instant(tz, from, 0),
            local_instant(tz, to, 1440),
        )
        .await?;
    Ok(tickets.iter().map(|t| record(cfg, t)).collect())
}

fn record(cfg: &BranchConfig, t: &TicketRow) -> (qhall_shared::ServiceCode, TicketRecord) {
    (
        t.issued_service,
        TicketRecord {
            status: t.status,
            issued_at: t.wait_from(),
            counted_call_at: t.first_called_at,
            serving_at: t.serving_at,
            done_at: t.done_at,
            target_wait_secs: cfg.target_secs(t.issued_service),
        },
    )
}

/// Figures per branch the caller may see (an admin: all), and across them. Days are each
/// branch's local days (default: today in the caller's branch).
async fn branches(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(range): ApiQuery<Range>,
) -> ApiResult<Json<BranchStatsList>> {
    let who = caller.require(&[Role::Manager])?;
    Ok(Json(overview(&state, who, &range).await?))
}

/// `GET /api/v1/stats/branches.csv`: the overview, one line per branch.
async fn branches_csv(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(range): ApiQuery<Range>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let who = caller.require(&[Role::Manager])?;
    let list = overview(&state, who, &range).await?;
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_default();
    let mut buf = String::new();
    crate::store::export::push_csv_line(
        &mut buf,
        &[
            "branch",
            "name",
            "issued",
            "served",
            "no_show",
            "cancelled",
            "called",
            "service_level",
            "median_wait_secs",
            "p90_wait_secs",
            "ratings",
            "mean_rating",
            "open_complaints",
        ],
    );
    for b in &list.branches {
        let f = &b.figures;
        crate::store::export::push_csv_line(
            &mut buf,
            &[
                b.branch.to_string(),
                b.name.zh.clone(),
                f.issued.to_string(),
                f.served.to_string(),
                f.no_show.to_string(),
                f.cancelled.to_string(),
                f.called.to_string(),
                opt(f.service_level),
                opt(f.median_wait_secs),
                opt(f.p90_wait_secs),
                b.ratings.to_string(),
                opt(b.mean_rating),
                b.open_complaints.to_string(),
            ],
        );
    }
    let name = format!(
        "attachment; filename=\"branches-{}-{}.csv\"",
        list.from, list.to
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, name),
        ],
        buf,
    )
        .into_response())
}

/// Every branch the caller may see (an admin all, a manager its own), with the figures across
/// them.
pub(crate) async fn overview(
    state: &AppState,
    who: &Principal,
    range: &Range,
) -> ApiResult<BranchStatsList> {
    let ids = if who.role == Role::Admin {
        state.store.branch_ids().await?
    } else {
        vec![branch_for(who, range.branch)?]
    };
    let own = state.store.config(who.branch_id).await?;
    let (from, to) = range.days(local_date(own.schedule.tz, state.now()))?;
    let mut all = Vec::new();
    let mut out = Vec::new();
    for id in ids {
        let cfg = state.store.config(id).await?;
        let recs = records(state, &cfg, from, to).await?;
        let tz = cfg.schedule.tz;
        let (ratings, mean_rating, open_complaints) = state
            .store
            .satisfaction(id, local_instant(tz, from, 0), local_instant(tz, to, 1440))
            .await?;
        out.push(BranchStats {
            branch: id,
            name: cfg.name.clone(),
            figures: figures(recs.iter().map(|(_, r)| r)),
            ratings,
            mean_rating,
            open_complaints,
        });
        all.extend(recs);
    }
    Ok(BranchStatsList {
        from,
        to,
        overall: figures(all.iter().map(|(_, r)| r)),
        branches: out,
    })
}

/// Figures over the tickets issued on the branch-local days `from ..= to` (default today).
/// Each ticket counts for the service it was issued for, against that service's target.
async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(range): ApiQuery<Range>,
) -> ApiResult<Json<Stats>> {
    let who = caller.require(&[Role::Manager])?;
    let branch = branch_for(who, range.branch)?;
    let cfg = state.store.config(branch).await?;
    let (from, to) = range.days(local_date(cfg.schedule.tz, state.now()))?;
    let records = records(&state, &cfg, from, to).await?;
    let by_service = cfg
        .services
        .iter()
        .map(|s| ServiceStats {
            service: s.code,
            target_wait_secs: u64::from(s.target_wait_secs),
            figures: figures(records.iter().filter(|(c, _)| *c == s.code).map(|(_, r)| r)),
        })
        .collect();
    Ok(Json(Stats {
        from,
        to,
        overall: figures(records.iter().map(|(_, r)| r)),
        by_service,
    }))
}

/// The fewest windows that call `goal` of customers within the target (Erlang C).
async fn erlang_c(
    caller: Caller,
    ApiJson(req): ApiJson<ErlangCRequest>,
) -> ApiResult<Json<ErlangCResponse>> {
    caller.require(&[Role::Manager])?;
    let f = erlang::windows_needed(
        req.arrivals_per_hour,
        req.mean_service_secs,
        req.target_wait_secs,
        req.goal,
    )
    .map_err(|e| ApiError::invalid("invalid_value", e.to_string()))?;
    Ok(Json(ErlangCResponse {
        windows: f.windows,
        service_level: f.service_level,
        mean_wait_secs: f.mean_wait_secs,
        probability_of_waiting: f.probability_of_waiting,
        offered_load: f.offered_load,
        occupancy: f.occupancy,
    }))
}

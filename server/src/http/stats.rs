//! `GET /api/v1/stats` and `POST /api/v1/staffing/erlang-c` (managers).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use qhall_shared::api::{ErlangCRequest, ErlangCResponse, ServiceStats, Stats};
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::queue::erlang;
use crate::queue::schedule::{local_date, local_instant};
use crate::queue::stats::{TicketRecord, figures};
use crate::store::Role;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/staffing/erlang-c", post(erlang_c))
}

#[derive(Debug, Deserialize)]
struct Range {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// Figures over the tickets issued on the branch-local days `from ..= to` (default today).
/// Each ticket counts for the service it was issued for, against that service's target.
async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(range): ApiQuery<Range>,
) -> ApiResult<Json<Stats>> {
    let who = caller.require(&[Role::Manager])?;
    let now = state.now();
    let cfg = state.store.config(who.branch_id).await?;
    let tz = cfg.schedule.tz;
    let today = local_date(tz, now);
    let (from, to) = (
        range.from.unwrap_or(today),
        range.to.or(range.from).unwrap_or(today),
    );
    if from > to {
        return Err(ApiError::invalid(
            "invalid_range",
            "from must not be after to",
        ));
    }
    if (to - from).num_days() > 366 {
        return Err(ApiError::invalid(
            "invalid_range",
            "ask for at most 366 days at once",
        ));
    }
    let tickets = state
        .store
        .tickets_issued_between(
            who.branch_id,
            local_instant(tz, from, 0),
            local_instant(tz, to, 1440),
        )
        .await?;
    let records: Vec<(qhall_shared::ServiceCode, TicketRecord)> = tickets
        .iter()
        .map(|t| {
            (
                t.issued_service,
                TicketRecord {
                    status: t.status,
                    issued_at: t.issued_at,
                    counted_call_at: t.first_called_at,
                    serving_at: t.serving_at,
                    done_at: t.done_at,
                    target_wait_secs: cfg.target_secs(t.issued_service),
                },
            )
        })
        .collect();
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

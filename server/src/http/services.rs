//! `GET /api/v1/services`: the services of the caller's branch, open or not, with their lines.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use qhall_shared::api::ServiceInfo;

use super::AppState;
use super::auth::Caller;
use super::error::ApiResult;
use crate::queue::ServiceDef;
use crate::store::{BranchConfig, Role};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/services", get(list))
}

/// Whether tickets for `svc` can be taken at `now`: `None` if yes, else why, and when they can.
pub fn closed_reason(
    cfg: &BranchConfig,
    svc: &ServiceDef,
    now: DateTime<Utc>,
) -> Option<(&'static str, Option<DateTime<Utc>>)> {
    if cfg.emergency.is_some() {
        return Some(("emergency", None));
    }
    if !svc.enabled {
        return Some(("disabled", None));
    }
    let st = cfg.schedule.state_at(now);
    st.closed.map(|c| (c.as_str(), st.opens_at))
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<ServiceInfo>>> {
    let who = caller.require(&[Role::Kiosk, Role::Staff, Role::Manager])?;
    let now = state.now();
    let (cfg, lines) = state.store.service_lines(who.branch_id, now).await?;
    let out = cfg
        .services
        .iter()
        .zip(lines.iter())
        .map(|(s, &(waiting, secs))| {
            let closed = closed_reason(&cfg, s, now);
            ServiceInfo {
                code: s.code,
                name: s.name.clone(),
                open: closed.is_none(),
                waiting,
                estimated_wait_secs: secs,
                target_wait_secs: u64::from(s.target_wait_secs),
                guide: s.guide.clone(),
                priority_allowed: s.priority_allowed,
                opens_at: closed.and_then(|(_, at)| at),
                closed_reason: closed.map(|(r, _)| r.to_owned()),
                remote_tickets: s.remote_tickets,
                appointments: s.appointments,
            }
        })
        .collect();
    Ok(Json(out))
}

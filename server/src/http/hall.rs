//! `GET /api/v1/hall`: the hall's name, whether tickets can be taken, today's hours, notices
//! and any emergency — what kiosks and boards show around the queue itself.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use qhall_shared::api::HallInfo;

use super::AppState;
use super::auth::Caller;
use super::error::ApiResult;
use crate::queue::schedule::{hhmm, local_date};
use crate::store::Role;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/hall", get(hall))
}

async fn hall(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<HallInfo>> {
    let who = caller.require(&[Role::Kiosk, Role::Display, Role::Staff, Role::Manager])?;
    let now = state.now();
    let (cfg, board) = state.store.board(who.branch_id, now).await?;
    let st = cfg.schedule.state_at(now);
    let today = local_date(cfg.schedule.tz, now);
    Ok(Json(HallInfo {
        name: cfg.name.clone(),
        time_zone: cfg.schedule.tz.name().to_owned(),
        open: st.is_open() && cfg.emergency.is_none(),
        today: cfg
            .schedule
            .periods_on(today)
            .iter()
            .map(|(a, b)| (hhmm(*a), hhmm(*b)))
            .collect(),
        opens_at: st.opens_at,
        closes_at: st.closes_at,
        notices: board.notices.clone(),
        emergency: cfg.emergency.clone(),
        messages: state.messages_on,
    }))
}

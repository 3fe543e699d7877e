//! `/manage/complaints`: placeholder until this section is built.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use maud::html;

use super::Visit;
use crate::http::AppState;

const PATH: &str = "/manage/complaints";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(page))
}

/// `GET /manage/complaints`.
async fn page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let v = match Visit::of(&state, PATH, query.as_deref(), &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let title = v.lang.s("投诉", "Complaints");
    let body = html! { h1 { (title) } };
    v.respond(&state, PATH, title, Some("manage-complaints.js"), body)
        .await
}

//! `/t/{id}`: the page a ticket's QR code opens on the customer's phone. The number, the status,
//! how many are ahead and the estimate; "go to window 3" once called; the extended-service note.
//! The live part is also served alone at `/t/{id}/live`, and the page's script fetches it every
//! few seconds, so the page follows the ticket without a reload and every text stays in Rust.
//! The unguessable id is the only key; the page shows nothing personal.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use qhall_shared::api::TicketStatus;

use super::i18n::{self, Lang, Words};
use super::{document, html_response, lang_param, lang_switch, message_page};
use crate::http::AppState;
use crate::http::tickets::plausible_id;
use crate::store::{BranchConfig, TicketRow};

/// How often the page asks for news, in milliseconds.
pub const POLL_MS: u32 = 3000;

struct Ticket {
    row: TicketRow,
    ahead: u32,
    secs: u64,
    cfg: std::sync::Arc<BranchConfig>,
}

async fn load(state: &AppState, id: &str) -> Result<Option<Ticket>, crate::http::error::ApiError> {
    if !plausible_id(id) {
        return Ok(None);
    }
    let Some((row, ahead, secs)) = state.store.ticket_view(id, state.now()).await? else {
        return Ok(None);
    };
    let cfg = state.store.config(row.branch_id).await?;
    Ok(Some(Ticket {
        row,
        ahead,
        secs,
        cfg,
    }))
}

fn not_found(lang: Lang) -> Response {
    message_page(
        lang,
        StatusCode::NOT_FOUND,
        lang.t("找不到这张票", "找不到這張票", "Ticket not found"),
        lang.t(
            "请检查链接，或到咨询台询问。",
            "請檢查連結，或到諮詢台詢問。",
            "Check the link, or ask at the information desk.",
        ),
    )
}

/// `GET /t/{id}`.
pub async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = query.as_deref();
    let chosen = lang_param(query).and_then(Lang::parse);
    let lang = i18n::pick(lang_param(query), &headers);
    let t = match load(&state, &id).await {
        Ok(Some(t)) => t,
        Ok(None) => return not_found(lang),
        Err(e) => return axum::response::IntoResponse::into_response(e),
    };
    let hall = t.cfg.name.get(lang.code()).to_owned();
    let title = format!("{} · {}", t.row.number, hall);
    let body = html! {
        header.bar {
            span.hall { (hall) }
            (lang_switch(lang, &Lang::ALL, &format!("/t/{id}")))
        }
        main.track
            data-live=(format!("/t/{id}/live?lang={}", lang.code()))
            data-poll=(POLL_MS) {
            div #live aria-live="polite" { (live_markup(lang, &t)) }
            p.auto { (lang.t("本页自动更新，无需刷新。", "本頁自動更新，無需重新整理。", "This page updates by itself; no need to reload.")) }
        }
    };
    html_response(
        StatusCode::OK,
        document(lang, &title, "customer", Some("track.js"), &body),
        chosen,
    )
}

/// `GET /t/{id}/live`: the live part of the page alone (an HTML fragment).
pub async fn live(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let lang = i18n::pick(lang_param(query.as_deref()), &headers);
    match load(&state, &id).await {
        Ok(Some(t)) => html_response(StatusCode::OK, live_markup(lang, &t), None),
        Ok(None) => html_response(StatusCode::NOT_FOUND, html! {}, None),
        Err(e) => axum::response::IntoResponse::into_response(e),
    }
}

fn live_markup(lang: Lang, t: &Ticket) -> Markup {
    let r = &t.row;
    let service = t
        .cfg
        .service(r.service)
        .map(|s| s.name.get(lang.code()).to_owned())
        .unwrap_or_default();
    let window = r.window.map(|w| w.get());
    let final_state = !r.status.is_live();
    html! {
        // An emergency reaches the customers following their ticket from outside, too.
        @if let Some(msg) = &t.cfg.emergency {
            section.emergency #emergency role="alert" {
                p.label { (lang.t("紧急通知", "緊急通知", "Emergency")) }
                p { (msg) }
            }
        }
        section.ticket data-status=(r.status.as_str()) data-final=(final_state) {
            p.label { (lang.t("您的号码", "您的號碼", "Your number")) }
            p.number { (r.number.as_str()) }
            p.service { (service) }
            @match (r.status, window) {
                (TicketStatus::Called, Some(w)) => {
                    div.callout.called role="alert" {
                        p.big { (i18n::go_to_window(lang, w)) }
                        p { (lang.t("轮到您了。", "輪到您了。", "It is your turn.")) }
                    }
                }
                (TicketStatus::Serving, Some(w)) => {
                    div.callout.serving {
                        p.big {
                            @match lang {
                                Lang::Zh => { "正在 " (w) " 号窗口办理" }
                                Lang::ZhHant => { "正在 " (w) " 號窗口辦理" }
                                Lang::En => { "Being served at window " (w) }
                            }
                        }
                    }
                }
                (TicketStatus::Waiting, _) => {
                    div.callout.waiting {
                        p.status { (lang.t("等候中", "等候中", "Waiting")) }
                        p.big { (i18n::ahead(lang, t.ahead)) }
                        p { (lang.t("预计等候", "預計等候", "Estimated wait")) " " strong { (i18n::wait(lang, t.secs)) } }
                    }
                }
                (TicketStatus::Done, _) => {
                    div.callout.done { p.big { (lang.t("办理完成，谢谢！", "辦理完成，謝謝！", "All done. Thank you!")) } }
                }
                (TicketStatus::NoShow, _) => {
                    div.callout.missed {
                        p.big { (lang.t("您已过号", "您已過號", "Your number was missed")) }
                        p { (lang.t("请到咨询台，工作人员会帮您重新排队。", "請到諮詢台，工作人員會幫您重新排隊。", "Please go to the information desk: staff can put you back in line.")) }
                    }
                }
                (TicketStatus::Cancelled, _) => {
                    div.callout.done { p.big { (lang.t("此号已取消", "此號已取消", "This ticket was cancelled")) } }
                }
                _ => {
                    div.callout.waiting { p.big { (lang.t("请留意叫号", "請留意叫號", "Please watch the board")) } }
                }
            }
            @if let Some(reason) = &r.extended_reason {
                @if r.status.is_live() {
                    div.note {
                        p { strong { (lang.t("办理时间较长：", "辦理時間較長：", "Your service is taking longer: ")) } (reason) }
                    }
                }
            }
        }
    }
}

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
    /// Taken from the phone: its check-in state.
    remote: Option<crate::hall::remote::RemoteState>,
}

async fn load(state: &AppState, id: &str) -> Result<Option<Ticket>, crate::http::error::ApiError> {
    if !plausible_id(id) {
        return Ok(None);
    }
    let Some((row, ahead, secs)) = state.store.ticket_view(id, state.now()).await? else {
        return Ok(None);
    };
    let cfg = state.store.config(row.branch_id).await?;
    let remote = state
        .store
        .remote_state(row.key, row.branch_id)
        .await?
        .map(|mut r| {
            r.link = state.tracking_url(&row.id);
            r
        });
    Ok(Some(Ticket {
        row,
        ahead,
        secs,
        cfg,
        remote,
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
    let (chosen, lang) = super::page_lang(query, &headers);
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
            data-id=(id)
            data-lang=(lang.code())
            data-poll=(POLL_MS)
            data-failed=(lang.t("没有成功，请稍后再试。", "沒有成功，請稍後再試。", "That did not work; please try again shortly.")) {
            div #live aria-live="polite" { (live_markup(lang, &t)) }
            p.auto { (lang.t("本页自动更新，无需刷新。", "本頁自動更新，無需重新整理。", "This page updates by itself; no need to reload.")) }
            @if state.messages_on { (notify_form(lang)) }
            (rating_form(lang))
            (feedback_form(lang))
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

/// "Text me when my turn is near": shown while the ticket waits (the script shows and hides
/// the forms by the ticket's status).
fn notify_form(lang: Lang) -> Markup {
    html! {
        section.form-card #notify data-when="waiting" hidden {
            h2 { (lang.t("到号短信提醒", "到號短信提醒", "Text me when my turn is near")) }
            p.hint { (lang.t("快轮到您时发短信给您，您可以先离开大厅。号码只用于本次提醒，列表中只显示部分数字。",
                "快輪到您時發短信給您，您可以先離開大廳。號碼只用於本次提醒，列表中只顯示部分數字。",
                "We send a text when your turn is near, so you need not wait in the hall. The number is used only for these messages and shown masked.")) }
            form #notify-form {
                label for="notify-mobile" { (lang.t("手机号码", "手機號碼", "Mobile number")) }
                input #notify-mobile name="mobile" type="tel" inputmode="tel" autocomplete="tel" maxlength="20" required;
                label.check { input #notify-consent type="checkbox" required; " " (lang.t("我同意为此提醒保存我的号码", "我同意為此提醒保存我的號碼", "I agree that my number is kept for these messages")) }
                button.primary type="submit" { (lang.t("提醒我", "提醒我", "Text me")) }
            }
            p.ok #notify-done hidden data-text=(lang.t("已设置：我们会发短信到 {mobile}。", "已設定：我們會發短信到 {mobile}。", "Done: we will text {mobile}.")) {}
            p.err #notify-error hidden data-invalid=(lang.t("请输入正确的手机号码。", "請輸入正確的手機號碼。", "Please enter a valid mobile number.")) {}
        }
    }
}

/// The rating of the visit, after service (unless the window's pad was used: then 409).
fn rating_form(lang: Lang) -> Markup {
    let scores: [(u8, &str, &str, &str); 5] = [
        (5, "非常满意", "非常滿意", "Very satisfied"),
        (4, "满意", "滿意", "Satisfied"),
        (3, "一般", "一般", "Neutral"),
        (2, "不满意", "不滿意", "Dissatisfied"),
        (1, "非常不满意", "非常不滿意", "Very dissatisfied"),
    ];
    html! {
        section.form-card #rate data-when="done" hidden {
            h2 { (lang.t("您对本次服务满意吗？", "您對本次服務滿意嗎？", "How was your visit?")) }
            form #rate-form {
                div.scores role="radiogroup" {
                    @for (n, zh, hant, en) in scores {
                        label class=(format!("score s{n}")) {
                            input type="radio" name="score" value=(n) required;
                            span { (lang.t(zh, hant, en)) }
                        }
                    }
                }
                label for="rate-comment" { (lang.t("意见（可选）", "意見（可選）", "Comment (optional)")) }
                textarea #rate-comment maxlength="500" rows="3" {}
                label for="rate-contact" { (lang.t("希望我们回电？留下电话（可选）", "希望我們回電？留下電話（可選）", "Want a call back? Leave a number (optional)")) }
                input #rate-contact type="tel" inputmode="tel" maxlength="40";
                label.check { input #rate-consent type="checkbox"; " " (lang.t("我同意为回电保存联系方式", "我同意為回電保存聯絡方式", "I agree that my contact is kept for the call back")) }
                button.primary type="submit" { (lang.t("提交评价", "提交評價", "Send rating")) }
            }
            p.ok #rate-done hidden data-text=(lang.t("谢谢您的评价！", "謝謝您的評價！", "Thank you for your rating!"))
                data-followup=(lang.t("谢谢！很抱歉让您不满意，负责人会在 {date} 前跟进。", "謝謝！很抱歉讓您不滿意，負責人會在 {date} 前跟進。", "Thank you. We are sorry; a manager will follow this up by {date}."))
                data-already=(lang.t("这张票已经评价过了，谢谢！", "這張票已經評價過了，謝謝！", "This visit has been rated already. Thank you!")) {}
        }
    }
}

/// "Complain or suggest": for the managers, never shown to the staff it concerns first.
fn feedback_form(lang: Lang) -> Markup {
    html! {
        section.form-card #feedback data-when="waiting called serving done no_show cancelled" hidden {
            details #feedback-open {
                summary { (lang.t("投诉或建议", "投訴或建議", "Complain or suggest")) }
                p.hint { (lang.t("直接送到大厅负责人，不经过窗口工作人员。", "直接送到大廳負責人，不經過窗口工作人員。", "Goes straight to the hall's managers, not to the staff at the window.")) }
                form #feedback-form {
                    fieldset.kinds {
                        label.check { input type="radio" name="kind" value="complaint" checked; " " (lang.t("投诉", "投訴", "Complaint")) }
                        label.check { input type="radio" name="kind" value="suggestion"; " " (lang.t("建议", "建議", "Suggestion")) }
                    }
                    label for="feedback-category" { (lang.t("类别", "類別", "About")) }
                    select #feedback-category {
                        @for c in qhall_shared::COMPLAINT_CATEGORIES {
                            option value=(c.code) { (lang.t(c.zh, c.zh_hant, c.en)) }
                        }
                    }
                    label for="feedback-text" { (lang.t("内容", "內容", "What happened, or your idea")) }
                    textarea #feedback-text maxlength="2000" rows="4" required {}
                    label for="feedback-contact" { (lang.t("联系方式（可选）", "聯絡方式（可選）", "Contact (optional)")) }
                    input #feedback-contact type="text" maxlength="200" autocomplete="tel";
                    label.check { input #feedback-consent type="checkbox"; " " (lang.t("我同意为答复保存联系方式", "我同意為答覆保存聯絡方式", "I agree that my contact is kept for the answer")) }
                    button.primary type="submit" { (lang.t("提交", "提交", "Send")) }
                }
            }
            p.ok #feedback-done hidden data-text=(lang.t("已收到，编号 {id}，我们会在 {date} 前答复。", "已收到，編號 {id}，我們會在 {date} 前答覆。", "Received as no. {id}; we will answer by {date}.")) {}
            p.err #feedback-error hidden data-consent=(lang.t("留下联系方式需要勾选同意。", "留下聯絡方式需要勾選同意。", "Tick the box to leave a contact.")) {}
        }
    }
}

/// `text` as a QR code in SVG (drawn by the server; no script, no request elsewhere).
fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(180, 180)
            .quiet_zone(true)
            .build(),
    )
}

/// A ticket taken from the phone: checked in, or the code to check in with and what happens
/// if its turn comes first.
fn remote_markup(lang: Lang, rs: &crate::hall::remote::RemoteState) -> Markup {
    let hold = rs.hold_mins;
    html! {
        @if rs.checked_in_at.is_some() {
            div.note.checked-in #remote data-remote="checked-in" {
                p { strong { (lang.t("已签到", "已簽到", "Checked in")) } " · " (lang.t("请在大厅留意叫号。", "請在大廳留意叫號。", "Please watch the board in the hall.")) }
            }
        } @else {
            div.callout.remote #remote data-remote=(if rs.passed_over_at.is_some() { "passed-over" } else { "not-checked-in" }) {
                @if rs.passed_over_at.is_some() {
                    p.big { (lang.t("已轮到您，请尽快签到！", "已輪到您，請盡快簽到！", "Your turn has come: check in now!")) }
                    p { (match lang {
                        Lang::Zh => format!("号码为您保留 {hold} 分钟，之后将自动取消。"),
                        Lang::ZhHant => format!("號碼為您保留 {hold} 分鐘，之後將自動取消。"),
                        Lang::En => format!("Your place is kept for {hold} minutes, then the ticket is cancelled."),
                    }) }
                } @else {
                    p.status { (lang.t("尚未签到", "尚未簽到", "Not checked in yet")) }
                }
                p { (lang.t("到达大厅后，在取号机上点“签到”，输入签到码或扫描本页二维码：", "到達大廳後，在取號機上點「簽到」，輸入簽到碼或掃描本頁二維碼：", "When you arrive, tap \"Check in\" on the kiosk and type this code, or scan this page's QR code:")) }
                p.code #remote-code { (rs.code) }
                @if let Some(svg) = qr_svg(&rs.link) {
                    div.qr #remote-qr { (maud::PreEscaped(svg)) }
                }
                p.hint { (match lang {
                    Lang::Zh => format!("未签到时轮到您，号码保留位置但不会被叫；超过 {hold} 分钟仍未签到将取消。"),
                    Lang::ZhHant => format!("未簽到時輪到您，號碼保留位置但不會被叫；超過 {hold} 分鐘仍未簽到將取消。"),
                    Lang::En => format!("Until you check in you keep your place but are not called; if your turn comes and you have not checked in within {hold} minutes, the ticket is cancelled."),
                }) }
            }
        }
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
            @if let (Some(rs), TicketStatus::Waiting) = (&t.remote, r.status) {
                (remote_markup(lang, rs))
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

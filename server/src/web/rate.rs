//! `/rate/{window}`: the pad on a tablet facing the customer at a window. Idle until the
//! window completes a ticket; then it shows that ticket's number and five choices, and says
//! thank you. It rates only the window's last completed ticket, once, and the server decides
//! which ticket that is (`GET`/`POST /api/v1/windows/{n}/rating`). The script asks every two
//! seconds.
//!
//! The page itself is public, the API is not: each pad is a device with a token of its own,
//! bound to this window. The manager pairs a tablet by opening the link shown once when the pad
//! is created, `/rate/{n}#pad=TOKEN`: the part after `#` never leaves the browser (no request
//! line, no server or proxy log, no `Referer`), the script keeps the token in `localStorage`,
//! drops it from the address bar, and sends it as a bearer header. A tablet without a token, or
//! whose token was revoked, shows "not paired — ask the manager" and sends nothing.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::i18n::{Lang, Words};
use super::{document, html_response, lang_switch, message_page};
use crate::http::AppState;
use crate::http::feedback::{public_window, window_in};

/// How often the pad asks whether there is a ticket to rate, in milliseconds.
pub const POLL_MS: u32 = 2000;

/// The five choices, best first: (score, 简体, 繁體, English).
pub const CHOICES: [(u8, &str, &str, &str); 5] = [
    (5, "非常满意", "非常滿意", "Very satisfied"),
    (4, "满意", "滿意", "Satisfied"),
    (3, "基本满意", "基本滿意", "Mostly satisfied"),
    (2, "不满意", "不滿意", "Dissatisfied"),
    (1, "非常不满意", "非常不滿意", "Very dissatisfied"),
];

/// `GET /rate/{window}`: a pad of the hall's first branch.
pub async fn page(
    State(state): State<AppState>,
    Path(window): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let found = public_window(&state, &window).await;
    render(found, false, query.as_deref(), &headers)
}

/// `GET /rate/{branch}/{window}`: a pad of any branch (its pairing link names the branch).
pub async fn page_in_branch(
    State(state): State<AppState>,
    Path((branch, window)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let found = match branch.parse() {
        Ok(b) => window_in(&state, b, &window).await,
        Err(_) => Err(crate::http::error::ApiError::not_found(
            "unknown_branch",
            format!("there is no branch {branch:?}"),
        )),
    };
    render(found, true, query.as_deref(), &headers)
}

/// The page of the pad at window `n` of `branch`: `/rate/{n}` in the first branch (as before
/// there were several), `/rate/{branch}/{n}` in the others.
pub fn pad_path(branch: i64, n: qhall_shared::WindowNo) -> String {
    if branch == 1 {
        format!("/rate/{n}")
    } else {
        format!("/rate/{branch}/{n}")
    }
}

fn render(
    found: crate::http::error::ApiResult<(i64, qhall_shared::WindowNo)>,
    in_branch: bool,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    let (chosen, lang) = super::page_lang(query, headers);
    let (branch, n) = match found {
        Ok(found) => found,
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            return message_page(
                lang,
                StatusCode::NOT_FOUND,
                lang.t("没有这个窗口", "沒有這個窗口", "No such window"),
                lang.t(
                    "请检查评价器的地址。",
                    "請檢查評價器的地址。",
                    "Check the rating pad's address.",
                ),
            );
        }
        Err(e) => return e.into_response(),
    };
    let window_name = match lang {
        Lang::Zh => format!("{n} 号窗口"),
        Lang::ZhHant => format!("{n} 號窗口"),
        Lang::En => format!("Window {n}"),
    };
    let title = format!(
        "{window_name} · {}",
        lang.t("服务评价", "服務評價", "Rate our service")
    );
    let body = html! {
        header.bar {
            span.hall { (title) }
            (lang_switch(lang, &Lang::ALL, &if in_branch {
                format!("/rate/{branch}/{n}")
            } else {
                format!("/rate/{n}")
            }))
        }
        main.pad data-window=(n.get()) data-poll=(POLL_MS) data-state="idle" {
            section #idle {
                p.big { (lang.t("欢迎光临", "歡迎光臨", "Welcome")) }
                p { (lang.t("办理完成后，请在这里为我们的服务评价。", "辦理完成後，請在這裡為我們的服務評價。", "When your business is done, please rate our service here.")) }
            }
            section #ask hidden {
                p.label { (lang.t("请为本次服务评价", "請為本次服務評價", "How was your service?")) }
                p.number #rate-number {}
                div.choices {
                    @for (score, zh, hant, en) in CHOICES {
                        button type="button" data-score=(score) class=(format!("choice s{score}")) {
                            span.main { (lang.t(zh, hant, en)) }
                            @if lang != Lang::En { span.sub lang="en" { (en) } }
                        }
                    }
                }
            }
            section #unpaired hidden {
                p.big { (lang.t("评价器尚未配对", "評價器尚未配對", "This pad is not paired")) }
                p { (lang.t(
                    "请联系值班经理：在“设置 › 设备”中为本窗口新建评价器，并在这台设备上打开显示的配对链接。",
                    "請聯繫值班經理：在「設定 › 設備」中為本窗口新建評價器，並在這台設備上打開顯示的配對連結。",
                    "Ask the manager: create a rating pad for this window under Settings › Devices, and open the pairing link it shows on this tablet.",
                )) }
                p #unpaired-other hidden { (lang.t(
                    "这台设备配对的是另一个窗口。",
                    "這台設備配對的是另一個窗口。",
                    "This tablet is paired to another window.",
                )) }
            }
            section #thanks hidden {
                p.big { (lang.t("谢谢您的评价！", "謝謝您的評價！", "Thank you for your rating!")) }
                p { (lang.t("祝您生活愉快。", "祝您生活愉快。", "Have a good day.")) }
            }
            p #pad-message.message role="status" {}
            template #msg-already { (lang.t("这张票已经评价过了，谢谢！", "這張票已經評價過了，謝謝！", "This ticket has already been rated. Thank you!")) }
            template #msg-gone { (lang.t("这张票已不能评价。", "這張票已不能評價。", "This ticket can no longer be rated.")) }
            template #msg-offline { (lang.t("暂时无法连接，请稍后再试。", "暫時無法連線，請稍後再試。", "Cannot reach the server; please try again.")) }
        }
    };
    html_response(
        StatusCode::OK,
        document(lang, &title, "customer pad-page", Some("rate.js"), &body),
        chosen,
    )
}

//! `/staff`: the console of the person at a window, all day, hands on the keyboard.
//!
//! One address, three stages: the login form (no session), the choice of window (logged in, not
//! signed in to a window), and the console itself. The console's script drives the JSON API
//! with the session cookie plus the session's CSRF token (a `<meta>` here, sent back in
//! `X-CSRF-Token`), and follows the hall over the event stream: waiting counts change in
//! place, the window's own state is re-read when an event concerns it.
//!
//! [`leave`]: *My shifts & leave*, a dialog from the bar on the window choice and the console.

pub(crate) mod leave;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use qhall_shared::COMPLAINT_CATEGORIES;
use serde_json::json;

use super::i18n::{self, Lang, Words};
use super::{document, html_response, json_block, lang_param, lang_switch};
use crate::auth::csrf_token;
use crate::http::AppState;
use crate::http::auth::{principal_for, session_cookie};
use crate::store::{BranchConfig, Principal, Role};

const STAFF_LANGS: [Lang; 2] = [Lang::Zh, Lang::En];

/// `GET /staff`.
pub async fn page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let chosen = lang_param(query.as_deref()).and_then(Lang::parse);
    let lang = match i18n::pick(lang_param(query.as_deref()), &headers) {
        Lang::ZhHant => Lang::Zh,
        l => l,
    };
    let session = session_cookie(&headers);
    let who = match &session {
        Some(t) => match principal_for(&state, t).await {
            Ok(p) => p.filter(|p| matches!(p.role, Role::Staff | Role::Manager | Role::Admin)),
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let (Some(who), Some(session)) = (who, session) else {
        return html_response(StatusCode::OK, login(lang), chosen);
    };
    match console_or_choice(&state, lang, &who, &session).await {
        Ok(m) => html_response(StatusCode::OK, m, chosen),
        Err(e) => e.into_response(),
    }
}

fn title(lang: Lang) -> &'static str {
    lang.s("窗口工作台", "Window console")
}

fn login(lang: Lang) -> Markup {
    let body = html! {
        header.bar {
            span.hall { "Qhall · " (title(lang)) }
            (lang_switch(lang, &STAFF_LANGS, "/staff"))
        }
        main.login {
            form #login-form {
                h1 { (lang.s("登录", "Log in")) }
                label { (lang.s("用户名", "Username")) input #username name="username" autocomplete="username" required autofocus; }
                label { (lang.s("密码", "Password")) input #password name="password" type="password" autocomplete="current-password" required; }
                button.primary #login-button type="submit" { (lang.s("登录", "Log in")) }
                p #msg.message role="alert" {}
                template #msg-bad_credentials { (lang.s("用户名或密码不对。", "Wrong username or password.")) }
                template #msg-too_many_attempts { (lang.s("失败次数太多，请一分钟后再试。", "Too many failed attempts: wait a minute.")) }
            }
        }
    };
    document(lang, title(lang), "staff", Some("staff.js"), &body)
}

async fn console_or_choice(
    state: &AppState,
    lang: Lang,
    who: &Principal,
    session: &str,
) -> Result<Markup, crate::http::error::ApiError> {
    let cfg = state.store.config(who.branch_id).await?;
    let windows = state.store.windows(who.branch_id).await?;
    let csrf = csrf_token(session);
    let me = who.username.clone().unwrap_or_default();
    let mine = windows
        .iter()
        .find(|w| w.staff_user_id.is_some() && w.staff_user_id == who.user_id);
    let hall = cfg.name.get(lang.code()).to_owned();
    let leave = leave::dialog(state, lang, who, &cfg).await?;
    let head = |extra: Markup| {
        html! {
            meta name="csrf-token" content=(csrf);
            header.bar {
                span.hall { (hall) " · " (title(lang)) }
                (extra)
                // Shifts and leave open in a dialog: nothing on the console moves for them.
                @if leave.is_some() {
                    button #my-leave.bar-button type="button" data-key="L" {
                        span.label { (lang.s("我的排班与请假", "My shifts & leave")) } " " kbd { "L" }
                    }
                }
                span.who { (me) }
                (lang_switch(lang, &STAFF_LANGS, "/staff"))
            }
        }
    };
    let Some(w) = mine else {
        let mut rows = Vec::new();
        for w in &windows {
            let staff = match w.staff_user_id {
                Some(u) => state.store.username(u).await?,
                None => None,
            };
            rows.push((w.clone(), staff));
        }
        let body = html! {
            (head(html! {}))
            main.choose {
                h1 { (lang.s("选择窗口并签到", "Choose your window and sign in")) }
                div.windows {
                    @for (w, staff) in &rows {
                        @let services = services_of(&cfg, w.number);
                        div.wincard {
                            p.winno { (window_label(lang, w.number.get())) }
                            p.services { (services) }
                            @if let Some(s) = staff {
                                p.taken { (s) " " (lang.s("已签到", "is signed in")) }
                                button type="button" disabled { (lang.s("在此签到", "Sign in here")) }
                            } @else {
                                p.free { (lang.s("空闲", "Free")) }
                                button.primary.sign-in type="button" data-window=(w.number.get()) { (lang.s("在此签到", "Sign in here")) }
                            }
                        }
                    }
                }
                p #msg.message role="alert" {}
                p { button #logout type="button" { (lang.s("退出登录", "Log out")) } }
            }
            @if let Some(l) = &leave { (l) }
            (strings(lang))
        };
        return Ok(document(
            lang,
            title(lang),
            "staff",
            Some("staff.js"),
            &body,
        ));
    };
    let n = w.number.get();
    let services: Vec<_> = cfg
        .services
        .iter()
        .map(|s| json!({"code": s.code.as_str(), "name": s.name.get(lang.code())}))
        .collect();
    let mine_serves: Vec<_> = cfg
        .window(w.number)
        .map(|d| d.skills.serves.iter().map(|(s, _)| s.as_str()).collect())
        .unwrap_or_default();
    let other_windows: Vec<u32> = windows
        .iter()
        .map(|x| x.number.get())
        .filter(|x| *x != n)
        .collect();
    let data = json!({
        "window": n,
        "services": services,
        "serves": mine_serves,
        "tz": cfg.schedule.tz.name(),
        "today": crate::queue::schedule::local_date(cfg.schedule.tz, state.now()).to_string(),
    });
    let button = |id: &str, key: &str, zh: &str, en: &str, class: &str| {
        html! {
            button type="button" id=(id) class=(class) data-key=(key) disabled {
                span.label { (lang.s(zh, en)) } " " kbd { (key) }
            }
        }
    };
    let body = html! {
        (head(html! {
            span.window-name { (window_label(lang, n)) }
            span #window-state.pill {}
        }))
        div #emergency.emergency role="alert" hidden {
            strong { (lang.s("紧急广播：", "Emergency: ")) }
            span #emergency-text {}
        }
        main #console data-window=(n) {
            section.left {
                section.current aria-live="polite" {
                    p.label { (lang.s("当前号码", "Current ticket")) }
                    p #cur-number.number { "—" }
                    p #cur-service.service { (lang.s("没有正在办理的号码", "No ticket at this window")) }
                    p #cur-detail.detail { "\u{a0}" }
                    p #cur-extended.note hidden {}
                    div #identity-row.identity hidden {
                        (button("identity", "I", "已核验身份证件", "Identity checked", "identity"))
                        span #identity-state {}
                    }
                }
                div.primary {
                    (button("call-next", "N", "叫下一位", "Call next", "big"))
                    (button("complete", "C", "办结", "Complete", "big"))
                }
                div.actions {
                    (button("recall", "R", "重呼", "Recall", ""))
                    (button("start", "S", "开始办理", "Start", ""))
                    (button("no-show", "X", "过号", "No-show", ""))
                    (button("transfer", "T", "转移", "Transfer", ""))
                    (button("extend", "E", "延长办理", "Extend", ""))
                    (button("pause", "P", "暂停", "Pause", ""))
                    (button("complaint", "K", "登记投诉", "Complaint", ""))
                    (button("booking-check-in", "B", "预约签到", "Appointment check-in", ""))
                    (button("phone-book", "O", "电话预约", "Book for a caller", ""))
                    (button("desk-ticket", "G", "代取号", "Ticket for a customer", ""))
                    (button("sign-out", "Q", "签退", "Sign out", ""))
                }
                p #msg.message role="alert" { "\u{a0}" }
            }
            section.right {
                h2 { (lang.s("各业务等候人数", "Waiting per service")) }
                table.counts #counts {
                    tbody {
                        @for s in &cfg.services {
                            tr data-service=(s.code.as_str()) class=(if mine_serves.contains(&s.code.as_str()) { "mine" } else { "" }) {
                                td.code { (s.code.as_str()) }
                                td.name { (s.name.get(lang.code())) }
                                td.count { "–" }
                            }
                        }
                    }
                }
                h2 { (lang.s("本窗口可叫号码", "Tickets this window can call")) }
                ol #waiting.waiting {}
                p #waiting-empty.empty { (lang.s("暂无等候", "Nobody waiting")) }
            }
        }
        (dialogs(lang, &cfg, &other_windows))
        @if let Some(l) = &leave { (l) }
        (json_block("console-data", &data))
        (strings(lang))
    };
    Ok(document(
        lang,
        title(lang),
        "staff",
        Some("staff.js"),
        &body,
    ))
}

fn window_label(lang: Lang, n: u32) -> String {
    match lang {
        Lang::En => format!("Window {n}"),
        _ => format!("{n} 号窗口"),
    }
}

fn services_of(cfg: &BranchConfig, n: qhall_shared::WindowNo) -> String {
    cfg.window(n)
        .map(|d| {
            d.skills
                .serves
                .iter()
                .map(|(s, _)| s.as_str())
                .collect::<Vec<_>>()
                .join(" · ")
        })
        .unwrap_or_default()
}

/// The texts the script shows: status names, confirmations and the error codes it explains.
fn strings(lang: Lang) -> Markup {
    let s = |zh: &str, en: &str| lang.s(zh, en).to_owned();
    let v = json!({
        "status": {
            "called": s("已叫号", "Called"),
            "serving": s("办理中", "Being served"),
        },
        "window": {
            "open": s("开放", "Open"),
            "paused": s("暂停中", "Paused"),
            "closed": s("关闭", "Closed"),
        },
        "noTicket": s("没有正在办理的号码", "No ticket at this window"),
        "waited": s("等候 {m} 分钟", "waited {m} min"),
        "waitedLess": s("等候不到 1 分钟", "waited under 1 min"),
        "waiting": s("已等 {m} 分钟", "waiting {m} min"),
        "waitingLess": s("刚取号", "just taken"),
        "since": s("叫号于 {t}", "called at {t}"),
        "extended": s("延长办理：", "Extended: "),
        "identity": {
            "required": s("须核验身份证件后才能办结", "Check the identity document before completing"),
            "optional": s("可核验身份证件", "Identity check available"),
            "checked": s("✓ 身份证件已核验", "✓ Identity document checked"),
        },
        "call": s("叫号", "Call"),
        "pause": s("暂停", "Pause"),
        "resume": s("恢复", "Resume"),
        "priority": s("优先", "priority"),
        "done": {
            "call-next": s("已叫 {n}", "Called {n}"),
            "call": s("已叫 {n}", "Called {n}"),
            "recall": s("已重呼 {n}", "Recalled {n}"),
            "start": s("{n} 开始办理", "Started {n}"),
            "complete": s("{n} 已办结", "Completed {n}"),
            "no-show": s("{n} 已记为过号", "{n} marked as no-show"),
            "transfer": s("{n} 已转移", "{n} transferred"),
            "extend": s("{n} 已标记延长办理", "{n} marked as extended"),
            "identity": s("{n} 身份证件已核验", "{n}: identity document checked"),
            "pause": s("窗口已暂停", "Window paused"),
            "resume": s("窗口已恢复", "Window resumed"),
            "complaint": s("投诉已登记（编号 {id}），须在 {due} 前答复", "Complaint recorded (no. {id}); answer due by {due}"),
            "nobody": s("没有等候的号码", "Nobody is waiting for this window"),
        },
        "confirmNoShow": s("确认 {n} 过号？", "Mark {n} as a no-show?"),
        "offline": s("与服务器的连接中断，正在重连…", "Connection to the server lost; reconnecting…"),
        "errors": {
            "window_paused": s("窗口已暂停：请先恢复。", "The window is paused: resume it first."),
            "window_closed": s("窗口未开放：请先签到。", "The window is closed: sign in first."),
            "window_busy": s("当前号码还没办结：请先办结、过号或转移。", "The current ticket is not finished: complete, mark no-show or transfer it first."),
            "not_waiting": s("这个号码已被其他窗口叫走或不在等候中。", "That ticket was already called by another window or is no longer waiting."),
            "invalid_state": s("这个号码现在不能这样操作（可能已被处理）。", "That cannot be done to the ticket now (it may have been handled already)."),
            "no_current_ticket": s("当前没有号码。", "There is no current ticket."),
            "not_your_window": s("您没有签到这个窗口。", "You are not signed in to this window."),
            "window_taken": s("这个窗口已有其他人签到。", "Someone else is signed in to that window."),
            "signed_in_elsewhere": s("您已在其他窗口签到。", "You are signed in to another window."),
            "invalid_reason": s("请填写原因（1–200 字）。", "Give a reason (1–200 characters)."),
            "consent_required": s("只有顾客同意后才能记录联系方式。", "A contact is stored only with the customer's consent."),
            "invalid_description": s("请填写投诉内容。", "Describe the complaint."),
            "unknown_ticket": s("没有这个号码。", "There is no such ticket."),
            "invalid_number": s("号码格式不对（例如 A012）。", "Not a ticket number (e.g. A012)."),
            "same_service": s("号码已在该业务排队。", "The ticket is already in that service's line."),
            "same_window": s("请选择其他窗口。", "Choose another window."),
            "identity_not_checked": s("这项业务须先核验身份证件，才能办结。", "This service needs the identity document checked before completing."),
            "identity_already_checked": s("身份证件已核验过。", "The identity document was already checked."),
            "identity_check_off": s("这项业务不需要核验身份证件。", "This service has no identity check."),
            "csrf_failed": s("页面已过期，请刷新。", "The page has expired: reload it."),
            "unauthorized": s("登录已过期，请重新登录。", "Your session has ended: log in again."),
            "network": s("无法连接服务器。", "Cannot reach the server."),
        },
    });
    // Tickets from the phone (a second object: one json! this long passes its recursion limit).
    let more = json!({
        "checkIn": s("签到", "Check in"),
        "remoteUnchecked": s("手机取号·未签到（不会被叫）", "phone ticket · not checked in (not called)"),
        "remoteChecked": s("手机取号·已签到", "phone ticket · checked in"),
        "checkedIn": s("{n} 已签到", "{n} checked in"),
    });
    // Appointments and the reception desk (issue #12): a third object, for the same reason.
    let desk_errors = json!({
        "unknown_booking": s("没有这个预约（请核对预约码或手机号后四位）。", "No such booking (check the code or the last four digits)."),
        "too_early": s("还没到签到时间。", "Check-in has not opened yet."),
        "booking_late": s("已过签到时间：请为客户取普通号。", "Check-in has closed: issue a normal ticket for the customer."),
        "booking_cancelled": s("这个预约已取消。", "This booking was cancelled."),
        "invalid_last4": s("请填写手机号后四位。", "Give the last four digits of the number."),
        "slot_full": s("这个时段已约满。", "That time is fully booked."),
        "already_booked": s("这个手机号当天已预约这项业务。", "This number already holds a booking of this service that day."),
        "not_a_slot": s("这个时间没有可约时段。", "There is no slot at that time."),
        "too_late_to_book": s("这个时段已过了最晚预约时间。", "That slot is past the latest booking time."),
        "slot_in_past": s("这个时间已经过去。", "That time has passed."),
        "beyond_horizon": s("这一天还不能预约。", "That day cannot be booked yet."),
        "appointments_off": s("这项业务不接受预约。", "This service takes no bookings."),
        "invalid_mobile": s("手机号码格式不对。", "Not a valid mobile number."),
        "service_closed": s("该业务现在不能取号。", "The service is not issuing tickets now."),
        "unknown_kiosk": s("这台取号机已停用，请选择另一台。", "That kiosk is no longer in use: choose another."),
    });
    let desk_done = json!({
        "bookingCheckIn": s("预约 {time} 已签到：号码 {n}（请告诉客户）", "Appointment {time} checked in: ticket {n} (tell the customer)"),
        "bookingReprint": s("这个预约已签到过：号码 {n}", "This booking was checked in before: ticket {n}"),
        "phoneBook": s("已预约 {day} {time}，预约码 {code}（请读给来电人）", "Booked {day} {time}; booking code {code} (read it out to the caller)"),
        "deskTicket": s("已取号 {n}（请告诉客户，并记下号码）", "Ticket {n} issued (tell the customer, and note it down for them)"),
        "deskPrinting": s("已取号 {n}，正在 {kiosk} 打印…", "Ticket {n} issued, printing at {kiosk}…"),
        "deskPrinted": s("号码 {n} 已在 {kiosk} 打印，请客户去取", "Ticket {n} printed at {kiosk}: send the customer to take it"),
        "deskNotPrinted": s("{kiosk} 未能打印号码 {n}：请告诉客户号码并记下", "{kiosk} could not print ticket {n}: tell the customer the number and note it down"),
        "kioskNoPrinter": s("（无打印机）", "(no printer)"),
    });
    let mut v = v;
    if let (Some(all), serde_json::Value::Object(more)) = (v.as_object_mut(), more) {
        all.extend(more);
    }
    for (key, extra) in [("errors", desk_errors), ("done", desk_done)] {
        if let (Some(into), serde_json::Value::Object(extra)) =
            (v.get_mut(key).and_then(|e| e.as_object_mut()), extra)
        {
            into.extend(extra);
        }
    }
    json_block("strings", &v)
}

fn dialogs(lang: Lang, cfg: &BranchConfig, other_windows: &[u32]) -> Markup {
    html! {
        dialog #dlg-transfer {
            form method="dialog" {
                h2 { (lang.s("转移当前号码", "Transfer the current ticket")) }
                label.choice { input type="radio" name="to" value="service" checked; (lang.s("转到业务", "To the line of service")) }
                select #transfer-service {
                    @for s in &cfg.services {
                        option value=(s.code.as_str()) { (s.code.as_str()) " " (s.name.get(lang.code())) }
                    }
                }
                label.choice { input type="radio" name="to" value="window"; (lang.s("转到窗口", "To window")) }
                select #transfer-window {
                    @for w in other_windows { option value=(w) { (window_label(lang, *w)) } }
                }
                div.buttons {
                    button value="cancel" formnovalidate { (lang.s("取消", "Cancel")) }
                    button.primary value="ok" { (lang.s("确认转移", "Transfer")) }
                }
            }
        }
        dialog #dlg-extend {
            form method="dialog" {
                h2 { (lang.s("延长办理", "Extend the service")) }
                label { (lang.s("原因（顾客可见）", "Reason (the customer sees it)")) input #extend-reason maxlength="200" required; }
                div.buttons {
                    button value="cancel" formnovalidate { (lang.s("取消", "Cancel")) }
                    button.primary value="ok" { (lang.s("确认", "Extend")) }
                }
            }
        }
        dialog #dlg-pause {
            form method="dialog" {
                h2 { (lang.s("暂停窗口", "Pause the window")) }
                label { (lang.s("原因", "Reason")) input #pause-reason list="pause-reasons" maxlength="200" required; }
                datalist #pause-reasons {
                    option value=(lang.s("短暂休息", "Short break")) {}
                    option value=(lang.s("业务会议", "Meeting")) {}
                    option value=(lang.s("系统故障", "System problem")) {}
                }
                div.buttons {
                    button value="cancel" formnovalidate { (lang.s("取消", "Cancel")) }
                    button.primary value="ok" { (lang.s("暂停", "Pause")) }
                }
            }
        }
        dialog #dlg-noshow {
            form method="dialog" {
                h2 #noshow-text {}
                p { (lang.s("过号后可在咨询台恢复排队。", "The information desk can put a no-show back in line.")) }
                div.buttons {
                    button value="cancel" { (lang.s("取消", "Cancel")) }
                    button.primary.danger value="ok" autofocus { (lang.s("确认过号", "Mark no-show")) }
                }
            }
        }
        dialog #dlg-booking-check-in {
            form method="dialog" {
                h2 { (lang.s("预约客户签到", "Check in a booked customer")) }
                label { (lang.s("预约码", "Booking code")) input #bci-code maxlength="40" autocomplete="off" placeholder="K7M2P9QXA"; }
                p.hint { (lang.s("没有预约码时：选今天的预约，并填手机号后四位核对。", "Without the code: choose today's booking and check the last four digits of the number.")) }
                label { (lang.s("今天的预约", "Today's booking")) select #bci-booking {} }
                label { (lang.s("手机号后四位", "Last four digits")) input #bci-last4 maxlength="4" inputmode="numeric" autocomplete="off"; }
                div.buttons {
                    button value="cancel" formnovalidate { (lang.s("取消", "Cancel")) }
                    button.primary value="ok" { (lang.s("签到", "Check in")) }
                }
            }
        }
        dialog #dlg-phone-book {
            form method="dialog" {
                h2 { (lang.s("为来电客户预约", "Book for a caller")) }
                label { (lang.s("业务", "Service"))
                    select #pb-service {
                        @for s in cfg.services.iter().filter(|s| s.enabled && s.appointments) {
                            option value=(s.code.as_str()) { (s.code.as_str()) " " (s.name.get(lang.code())) }
                        }
                    }
                }
                label { (lang.s("日期", "Day")) input #pb-day type="date"; }
                label { (lang.s("时间", "Time")) select #pb-slot required {} }
                label { (lang.s("手机号（可选，客户同意后用于提醒）", "Mobile (optional, with the caller's consent, for reminders)")) input #pb-mobile type="tel" maxlength="20" autocomplete="off"; }
                div.buttons {
                    button value="cancel" formnovalidate { (lang.s("取消", "Cancel")) }
                    button.primary value="ok" { (lang.s("预约", "Book")) }
                }
            }
        }
        dialog #dlg-desk-ticket {
            form method="dialog" {
                h2 { (lang.s("为不便使用取号机的客户取号", "A ticket for a customer who cannot use the kiosk")) }
                label { (lang.s("业务", "Service"))
                    select #dt-service {
                        @for s in cfg.services.iter().filter(|s| s.enabled) {
                            option value=(s.code.as_str()) { (s.code.as_str()) " " (s.name.get(lang.code())) }
                        }
                    }
                }
                label.choice { input #dt-priority type="checkbox"; (lang.s("优先（老年人、残障人士、孕妇）", "Priority (elderly, disabled, pregnant)")) }
                label { (lang.s("打印", "Print"))
                    select #dt-print {
                        option value="" { (lang.s("不打印，只在屏幕上显示", "Do not print: show it on screen")) }
                    }
                }
                div.buttons {
                    button value="cancel" formnovalidate { (lang.s("取消", "Cancel")) }
                    button.primary value="ok" { (lang.s("取号", "Issue")) }
                }
            }
        }
        dialog #dlg-complaint {
            form method="dialog" {
                h2 { (lang.s("登记投诉", "Record a complaint")) }
                label { (lang.s("类别", "Category"))
                    select #complaint-category {
                        @for c in COMPLAINT_CATEGORIES { option value=(c.code) { (c.name(lang)) } }
                    }
                }
                label { (lang.s("相关号码（可不填）", "Ticket number (optional)")) input #complaint-ticket maxlength="8" placeholder="A012"; }
                label { (lang.s("投诉内容", "What happened")) textarea #complaint-description rows="4" maxlength="2000" required {} }
                label.choice { input #complaint-consent type="checkbox"; (lang.s("顾客同意留下联系方式以便答复", "The customer agrees to leave a contact for the answer")) }
                label { (lang.s("联系方式（仅在顾客同意时）", "Contact (only with consent)")) input #complaint-contact maxlength="200" disabled; }
                div.buttons {
                    button value="cancel" formnovalidate { (lang.s("取消", "Cancel")) }
                    button.primary value="ok" { (lang.s("登记", "Record")) }
                }
            }
        }
    }
}

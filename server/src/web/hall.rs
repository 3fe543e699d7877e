//! `/hall` and `/hall/{branch}`: the hall's public page, phone first, in 简 · 繁 · EN, no login.
//! What a customer asks before coming: is it open now and how long is the wait for my service;
//! this week's hours with the breaks; the holidays and changed hours ahead, with their notes;
//! what to bring and the steps, per service; the service phone number and the address.
//!
//! It shows only what the hall publishes: nothing personal, no ticket. `/hall` is the first
//! branch's page; `/hall/{branch}` any branch's.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use maud::{Markup, html};

use super::i18n::{self, Lang, Words};
use super::{document, html_response, lang_switch, message_page};
use crate::hall::notices::exception_notice;
use crate::http::AppState;
use crate::queue::schedule::{hhmm, local_date};
use crate::store::BranchConfig;

/// How far ahead the page lists dated exceptions, in days.
pub const EXCEPTIONS_AHEAD_DAYS: i64 = 90;

/// `GET /hall`: the first branch's page.
pub async fn first(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    render(&state, None, query.as_deref(), &headers).await
}

/// `GET /hall/{branch}`.
pub async fn page(
    State(state): State<AppState>,
    Path(branch): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    // Text that is no branch id asks for a branch that does not exist: 0.
    render(
        &state,
        Some(branch.parse().unwrap_or(0)),
        query.as_deref(),
        &headers,
    )
    .await
}

/// The page of branch `requested` (none: the first).
async fn render(
    state: &AppState,
    requested: Option<i64>,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    let (chosen, lang) = super::page_lang(query, headers);
    let ids = match state.store.branch_ids().await {
        Ok(ids) => ids,
        Err(e) => {
            return axum::response::IntoResponse::into_response(
                crate::http::error::ApiError::from(e),
            );
        }
    };
    let found = match requested {
        None => ids.first().copied(),
        Some(b) => ids.contains(&b).then_some(b),
    };
    let Some(branch) = found else {
        return message_page(
            lang,
            StatusCode::NOT_FOUND,
            lang.t("找不到这个大厅", "找不到這個大廳", "Hall not found"),
            lang.t("请检查链接。", "請檢查連結。", "Check the link."),
        );
    };
    let now = state.now();
    let (cfg, lines) = match state.store.service_lines(branch, now).await {
        Ok(x) => x,
        Err(e) => {
            return axum::response::IntoResponse::into_response(
                crate::http::error::ApiError::from(e),
            );
        }
    };
    let base = format!("/hall/{branch}");
    let name = cfg.name.get(lang.code()).to_owned();
    let body = html! {
        header.bar {
            span.hall { (name) }
            (lang_switch(lang, &Lang::ALL, &base))
        }
        main.hall-page {
            @if let Some(msg) = &cfg.emergency {
                section.emergency role="alert" { p { (msg) } }
            }
            (now_section(lang, &cfg, &lines, now))
            (remote_section(lang, &cfg, branch, now))
            @if cfg.services.iter().any(|s| s.enabled && s.appointments) {
                section.card #book-link {
                    h2 { (lang.t("预约", "預約", "Appointments")) }
                    p { a.button href=(format!("/book?branch={branch}")) { (lang.t("预约办事时间", "預約辦事時間", "Book a time")) } }
                }
            }
            (week_section(lang, &cfg, now))
            (exceptions_section(lang, &cfg, now))
            (guides_section(lang, &cfg))
            (contact_section(lang, &cfg))
        }
    };
    html_response(
        StatusCode::OK,
        document(lang, &name, "customer", Some("hall.js"), &body),
        chosen,
    )
}

/// "Take a ticket from your phone", for the services that allow it, while tickets are issued.
fn remote_section(
    lang: Lang,
    cfg: &BranchConfig,
    branch: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Markup {
    let open = cfg.schedule.state_at(now).is_open() && cfg.emergency.is_none();
    let services: Vec<_> = cfg
        .services
        .iter()
        .filter(|s| s.enabled && s.remote_tickets)
        .collect();
    if services.is_empty() || !open {
        return html! {};
    }
    html! {
        section.card.form-card.remote #remote data-branch=(branch) data-lang=(lang.code())
            data-failed=(lang.t("没有成功，请稍后再试。", "沒有成功，請稍後再試。", "That did not work; please try again shortly."))
            data-invalid=(lang.t("请输入正确的手机号码。", "請輸入正確的手機號碼。", "Please enter a valid mobile number."))
            data-live=(lang.t("这个手机号或这台手机已经有一张远程取的号了。", "這個手機號或這台手機已經有一張遠程取的號了。", "This number or this phone already holds a ticket taken from the phone."))
            data-full=(lang.t("手机取号名额已满，请到大厅取号机取号。", "手機取號名額已滿，請到大廳取號機取號。", "Tickets from phones are all taken for now: please use the kiosk in the hall."))
            data-busy=(lang.t("请求太频繁，请稍后再试。", "請求太頻繁，請稍後再試。", "Too many requests; please wait a moment.")) {
            h2 { (lang.t("手机取号", "手機取號", "Take a ticket from your phone")) }
            p.hint { (lang.t("到达大厅后请在取号机上签到，签到后才会被叫号。", "到達大廳後請在取號機上簽到，簽到後才會被叫號。", "Check in at the kiosk when you arrive: you are called only once checked in.")) }
            form #remote-form {
                label for="remote-service" { (lang.t("业务", "業務", "Service")) }
                select #remote-service {
                    @for s in &services {
                        option value=(s.code.as_str()) { (s.code.as_str()) " · " (s.name.get(lang.code())) }
                    }
                }
                label for="remote-mobile" { (lang.t("手机号码", "手機號碼", "Mobile number")) }
                input #remote-mobile type="tel" inputmode="tel" autocomplete="tel" maxlength="20" required;
                label.check { input #remote-consent type="checkbox" required; " " (lang.t("我同意为此号保存手机号（到号提醒，每个号码一张）", "我同意為此號保存手機號（到號提醒，每個號碼一張）", "I agree that my number is kept for this ticket (messages; one ticket per number)")) }
                button.primary #remote-take type="submit" { (lang.t("取号", "取號", "Take a ticket")) }
            }
            p.err #remote-error hidden {}
        }
    }
}

/// Open or closed now, and per service how many wait and the wait a ticket taken now would get.
fn now_section(
    lang: Lang,
    cfg: &BranchConfig,
    lines: &[(u32, u64)],
    now: chrono::DateTime<chrono::Utc>,
) -> Markup {
    let st = cfg.schedule.state_at(now);
    let open = st.is_open() && cfg.emergency.is_none();
    html! {
        section.card.now #now {
            h2 {
                (lang.t("现在", "現在", "Now")) " "
                @if open {
                    span.pill.open { (lang.t("可取号", "可取號", "Open: tickets available")) }
                } @else {
                    span.pill.closed { (lang.t("暂停取号", "暫停取號", "Closed: no tickets now")) }
                }
            }
            table.lines {
                thead { tr {
                    th { (lang.t("业务", "業務", "Service")) }
                    th.num { (lang.t("等候人数", "等候人數", "Waiting")) }
                    th { (lang.t("现在取号预计等候", "現在取號預計等候", "Wait if you take a ticket now")) }
                } }
                tbody {
                    @for (s, (waiting, secs)) in cfg.services.iter().zip(lines).filter(|(s, _)| s.enabled) {
                        tr data-service=(s.code.as_str()) {
                            th { span.code { (s.code.as_str()) } " " (s.name.get(lang.code())) }
                            td.num { (waiting) }
                            td { @if open { (i18n::wait(lang, *secs)) } @else { "–" } }
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn weekday_name(lang: Lang, d: Weekday) -> &'static str {
    let i = d.num_days_from_monday() as usize;
    match lang {
        Lang::Zh => ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][i],
        Lang::ZhHant => ["週一", "週二", "週三", "週四", "週五", "週六", "週日"][i],
        Lang::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i],
    }
}

pub(super) fn day_label(lang: Lang, d: NaiveDate) -> String {
    match lang {
        Lang::En => format!("{} {}", weekday_name(lang, d.weekday()), d.format("%-d %b")),
        _ => format!(
            "{}月{}日 {}",
            d.month(),
            d.day(),
            weekday_name(lang, d.weekday())
        ),
    }
}

/// The next seven days' hours (exceptions included), with the breaks between periods.
fn week_section(lang: Lang, cfg: &BranchConfig, now: chrono::DateTime<chrono::Utc>) -> Markup {
    let today = local_date(cfg.schedule.tz, now);
    html! {
        section.card #week {
            h2 { (lang.t("本周办公时间", "本週辦公時間", "Opening hours this week")) }
            table.week {
                tbody {
                    @for i in 0..7 {
                        @let d = today + Duration::days(i);
                        @let periods = cfg.schedule.periods_on(d);
                        @let exception = cfg.schedule.exception_on(d).is_some();
                        tr .today[i == 0] .exception[exception] data-date=(d) {
                            th { (day_label(lang, d)) }
                            td {
                                @if periods.is_empty() {
                                    span.closed { (lang.t("休息", "休息", "Closed")) }
                                } @else {
                                    @for (k, (a, b)) in periods.iter().enumerate() {
                                        @if k > 0 {
                                            span.break { " · " (lang.t("午休", "午休", "break")) " · " }
                                        }
                                        span.period { (hhmm(*a)) "–" (hhmm(*b)) }
                                    }
                                }
                                @if exception { " " span.flag { (lang.t("调整", "調整", "changed")) } }
                            }
                        }
                    }
                }
            }
            @if cfg.schedule.cutoff_mins > 0 {
                p.hint { (match lang {
                    Lang::Zh => format!("关门前 {} 分钟停止取号。", cfg.schedule.cutoff_mins),
                    Lang::ZhHant => format!("關門前 {} 分鐘停止取號。", cfg.schedule.cutoff_mins),
                    Lang::En => format!("The last ticket is {} min before closing.", cfg.schedule.cutoff_mins),
                }) }
            }
        }
    }
}

/// The dated exceptions ahead, with their notes.
fn exceptions_section(
    lang: Lang,
    cfg: &BranchConfig,
    now: chrono::DateTime<chrono::Utc>,
) -> Markup {
    let today = local_date(cfg.schedule.tz, now);
    let last = today + Duration::days(EXCEPTIONS_AHEAD_DAYS);
    let ahead: Vec<_> = cfg
        .schedule
        .exceptions
        .iter()
        .filter(|e| e.date >= today && e.date <= last)
        .collect();
    html! {
        section.card #exceptions {
            h2 { (lang.t("节假日与时间调整", "節假日與時間調整", "Holidays and changed hours")) }
            @if ahead.is_empty() {
                p.empty { (lang.t("近期没有调整，按每周办公时间。", "近期沒有調整，按每週辦公時間。", "No changes ahead: the weekly hours apply.")) }
            } @else {
                ul.exceptions {
                    @for e in ahead {
                        li data-date=(e.date) { (exception_notice(e).text.get(lang.code())) }
                    }
                }
            }
        }
    }
}

/// Every enabled service's guide: what to bring, and the steps (one per line).
fn guides_section(lang: Lang, cfg: &BranchConfig) -> Markup {
    html! {
        section.card #guides {
            h2 { (lang.t("办事指南", "辦事指南", "Service guides")) }
            @for s in cfg.services.iter().filter(|s| s.enabled) {
                details.guide {
                    summary { span.code { (s.code.as_str()) } " " (s.name.get(lang.code())) }
                    @let guide = s.guide.get(lang.code());
                    @if guide.trim().is_empty() {
                        p.empty { (lang.t("请到咨询台询问。", "請到諮詢台詢問。", "Ask at the information desk.")) }
                    } @else {
                        @for line in guide.lines().filter(|l| !l.trim().is_empty()) {
                            p { (line) }
                        }
                    }
                }
            }
        }
    }
}

/// The service phone number and the address, when the hall gave them.
fn contact_section(lang: Lang, cfg: &BranchConfig) -> Markup {
    let p = &cfg.public;
    html! {
        @if !p.phone.is_empty() || !p.address.is_empty() {
            section.card #contact {
                h2 { (lang.t("联系我们", "聯絡我們", "Contact")) }
                @if !p.phone.is_empty() {
                    p.phone {
                        (lang.t("服务电话：", "服務電話：", "Service phone: "))
                        a href=(format!("tel:{}", p.phone.replace(' ', ""))) { (p.phone) }
                    }
                }
                @if !p.address.is_empty() {
                    p.address { (lang.t("地址：", "地址：", "Address: ")) (p.address) }
                }
            }
        }
    }
}

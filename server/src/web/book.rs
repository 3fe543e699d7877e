//! `/book`: booking an appointment, phone first, in 简 · 繁 · EN, no login (issue #12). The
//! customer picks a service, a day and a free slot, may leave a mobile number for the
//! reminders, and gets a booking code; `/book/{code}` is the booking's own page — its code in
//! large letters, its QR (the kiosk's scanner reads it), a calendar file, and the links to
//! cancel it or move it to another time. `?branch=N` picks the branch (default: the first).
//!
//! The page holds no personal data: the number typed goes straight to the API and is shown
//! masked afterwards. The booking code is the key to its page, as a ticket's id is to its
//! tracking page.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use maud::{PreEscaped, html};

use super::hall::day_label;
use super::i18n::{Lang, Words};
use super::{document, html_response, lang_switch, message_page};
use crate::hall::appointments::{BookingView, day_slots};
use crate::http::AppState;
use crate::queue::schedule::local_date;
use crate::store::BranchConfig;

fn param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
}

fn error_response(e: crate::store::StoreError) -> Response {
    crate::http::error::ApiError::from(e).into_response()
}

/// One service that takes bookings, as the page offers it: its days with a slot still free to
/// book (as far as the hours say; the slots' places are read when a day is chosen).
struct Offered {
    code: String,
    name: String,
    days: Vec<(String, String)>,
}

async fn offered(
    state: &AppState,
    cfg: &BranchConfig,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<Vec<Offered>, crate::store::StoreError> {
    let today = local_date(cfg.schedule.tz, now);
    let mut out = Vec::new();
    for s in cfg.services.iter().filter(|s| s.enabled && s.appointments) {
        let set = state.store.appointment_settings(cfg.id, s.code).await?;
        let earliest = now + Duration::minutes(i64::from(set.lead_mins));
        let latest = now + Duration::days(i64::from(set.horizon_days));
        let days = (0..=i64::from(set.horizon_days))
            .map(|i| today + Duration::days(i))
            .filter(|d| {
                day_slots(&cfg.schedule, *d, set.slot_mins)
                    .iter()
                    .any(|(start, _)| *start >= earliest && *start <= latest)
            })
            .map(|d| (d.to_string(), day_label(lang, d)))
            .collect();
        out.push(Offered {
            code: s.code.as_str().to_owned(),
            name: s.name.get(lang.code()).to_owned(),
            days,
        });
    }
    Ok(out)
}

/// `GET /book[?branch=N][&service=A][&move=CODE]`.
pub async fn page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = query.as_deref();
    let (chosen, lang) = super::page_lang(query, &headers);
    let ids = match state.store.branch_ids().await {
        Ok(ids) => ids,
        Err(e) => return error_response(e),
    };
    let branch = match param(query, "branch") {
        None => ids.first().copied(),
        Some(b) => b.parse().ok().filter(|b| ids.contains(b)),
    };
    let Some(branch) = branch else {
        return message_page(
            lang,
            StatusCode::NOT_FOUND,
            lang.t("找不到这个大厅", "找不到這個大廳", "Hall not found"),
            lang.t("请检查链接。", "請檢查連結。", "Check the link."),
        );
    };
    let cfg = match state.store.config(branch).await {
        Ok(c) => c,
        Err(e) => return error_response(e),
    };
    let now = state.now();
    let services = match offered(&state, &cfg, lang, now).await {
        Ok(s) => s,
        Err(e) => return error_response(e),
    };
    let preselect = param(query, "service").unwrap_or("");
    let moving = param(query, "move")
        .and_then(qhall_shared::booking::code_in)
        .unwrap_or_default();
    let name = cfg.name.get(lang.code()).to_owned();
    let base = format!("/book?branch={branch}");
    let days_json = |o: &Offered| {
        serde_json::to_string(
            &o.days
                .iter()
                .map(|(d, l)| serde_json::json!({"day": d, "label": l}))
                .collect::<Vec<_>>(),
        )
        .unwrap_or_else(|_| "[]".into())
    };
    let body = html! {
        header.bar {
            span.hall { (name) }
            (lang_switch(lang, &Lang::ALL, &base))
        }
        main.hall-page.book-page {
            section.card.form-card #book data-branch=(branch) data-lang=(lang.code())
                data-tz=(cfg.schedule.tz.name()) data-move=(moving)
                data-no-slots=(lang.t("这一天已约满或没有可约时段，请换一天。", "這一天已約滿或沒有可約時段，請換一天。", "No free time that day: please choose another day."))
                data-failed=(lang.t("没有成功，请稍后再试。", "沒有成功，請稍後再試。", "That did not work; please try again shortly."))
                data-full=(lang.t("这个时段刚刚约满了，请选别的时间。", "這個時段剛剛約滿了，請選別的時間。", "That time has just been taken: please choose another."))
                data-already=(lang.t("这个手机号当天已经预约了这项业务。", "這個手機號當天已經預約了這項業務。", "This number already holds a booking of this service that day."))
                data-invalid=(lang.t("请输入正确的手机号码。", "請輸入正確的手機號碼。", "Please enter a valid mobile number."))
                data-consent=(lang.t("留下手机号需要勾选同意。", "留下手機號需要勾選同意。", "Tick the box to leave your number."))
                data-busy=(lang.t("请求太频繁，请稍后再试。", "請求太頻繁，請稍後再試。", "Too many requests; please wait a moment.")) {
                h1 { (lang.t("预约办事", "預約辦事", "Book an appointment")) }
                @if !moving.is_empty() {
                    p.note #book-moving { (lang.t("选择新的时间；新预约成功后，原预约会自动取消。", "選擇新的時間；新預約成功後，原預約會自動取消。", "Choose the new time: once it is booked, the old booking is cancelled.")) }
                }
                p.hint { (lang.t("选择业务、日期和时间。到达大厅后，在取号机上点“我有预约”签到。", "選擇業務、日期和時間。到達大廳後，在取號機上點「我有預約」簽到。", "Choose the service, the day and the time. When you arrive, check in at the kiosk with \"I have an appointment\".")) }
                @if services.is_empty() {
                    p.err #book-none { (lang.t("本大厅暂不接受预约，请直接到大厅取号。", "本大廳暫不接受預約，請直接到大廳取號。", "This hall takes no bookings now: please take a ticket in the hall.")) }
                } @else {
                    form #book-form {
                        label for="book-service" { "1 · " (lang.t("业务", "業務", "Service")) }
                        select #book-service {
                            @for s in &services {
                                option value=(s.code) data-days=(days_json(s)) selected[s.code == preselect] {
                                    (s.code) " · " (s.name)
                                }
                            }
                        }
                        span.label { "2 · " (lang.t("日期", "日期", "Day")) }
                        div.chips #book-days role="radiogroup" aria-label=(lang.t("日期", "日期", "Day")) {}
                        span.label { "3 · " (lang.t("时间", "時間", "Time")) }
                        div.chips.slots #book-slots role="radiogroup" aria-label=(lang.t("时间", "時間", "Time")) {}
                        p.hint #book-slots-empty hidden {}
                        label for="book-mobile" { "4 · " (lang.t("手机号码（可选，用于确认和提醒）", "手機號碼（可選，用於確認和提醒）", "Mobile number (optional: for the confirmation and reminders)")) }
                        input #book-mobile type="tel" inputmode="tel" autocomplete="tel" maxlength="20";
                        label.check { input #book-consent type="checkbox"; " " (lang.t("我同意保存手机号用于本次预约的短信，预约日后按规定删除", "我同意保存手機號用於本次預約的簡訊，預約日後按規定刪除", "I agree that my number is kept for this booking's messages, and deleted after the day")) }
                        button.primary #book-submit type="submit" disabled { (lang.t("确认预约", "確認預約", "Book this time")) }
                    }
                    p.err #book-error hidden {}
                }
            }
            p.hint { a href=(format!("/hall/{branch}")) { (lang.t("大厅办公时间和办事指南", "大廳辦公時間和辦事指南", "The hall's hours and guides")) } }
        }
    };
    html_response(
        StatusCode::OK,
        document(lang, &name, "customer", Some("book.js"), &body),
        chosen,
    )
}

/// The booking of `code`, or the not-found page.
async fn booking_or_404(state: &AppState, code: &str, lang: Lang) -> Result<BookingView, Response> {
    let missing = || {
        message_page(
            lang,
            StatusCode::NOT_FOUND,
            lang.t("找不到这个预约", "找不到這個預約", "Booking not found"),
            lang.t(
                "请检查预约码或链接。",
                "請檢查預約碼或連結。",
                "Check the booking code or the link.",
            ),
        )
    };
    let Some(code) = qhall_shared::booking::code_in(code) else {
        return Err(missing());
    };
    match state.store.booking(&code).await {
        Ok(Some(b)) => Ok(b),
        Ok(None) => Err(missing()),
        Err(e) => Err(error_response(e)),
    }
}

/// `K7M 2P9 QXA`: a code in groups of three, easy to read out and to type.
fn grouped(code: &str) -> String {
    code.as_bytes()
        .chunks(3)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` as a QR code in SVG (drawn by the server, like the tracking page's).
fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

fn state_words(lang: Lang, b: &BookingView) -> (&'static str, &'static str) {
    match (b.state.as_str(), b.cancel_reason.as_deref()) {
        ("booked", _) => ("booked", lang.t("已预约", "已預約", "Booked")),
        ("checked_in", _) => ("checked-in", lang.t("已签到", "已簽到", "Checked in")),
        ("late", _) => (
            "late",
            lang.t("已过签到时间", "已過簽到時間", "Checked in too late"),
        ),
        ("no_show", _) => ("no-show", lang.t("未到", "未到", "Not attended")),
        ("cancelled", Some("closed")) => (
            "cancelled",
            lang.t(
                "已取消：大厅当天不办公",
                "已取消：大廳當天不辦公",
                "Cancelled: the hall is closed then",
            ),
        ),
        _ => ("cancelled", lang.t("已取消", "已取消", "Cancelled")),
    }
}

/// `GET /book/{code}`: the booking's own page.
pub async fn booking(
    State(state): State<AppState>,
    Path(code): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = query.as_deref();
    let (chosen, lang) = super::page_lang(query, &headers);
    let b = match booking_or_404(&state, &code, lang).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let cfg = match state.store.config(b.branch_id).await {
        Ok(c) => c,
        Err(e) => return error_response(e),
    };
    let tz = cfg.schedule.tz;
    let now = state.now();
    let hhmm = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M").to_string();
    let service = b
        .service
        .parse()
        .ok()
        .and_then(|c| cfg.service(c))
        .map(|s| s.name.get(lang.code()).to_owned())
        .unwrap_or_else(|| b.service.clone());
    let url = format!("{}/book/{}", state.public_url, b.code);
    let qr = qr_svg(&url).unwrap_or_default();
    let (state_class, state_text) = state_words(lang, &b);
    let open = b.state == "booked" && b.end > now;
    let fresh = param(query, "new").is_some() && b.state == "booked";
    let name = cfg.name.get(lang.code()).to_owned();
    let body = html! {
        header.bar {
            span.hall { (name) }
            (lang_switch(lang, &Lang::ALL, &format!("/book/{}", b.code)))
        }
        main.hall-page.book-page {
            section.card.form-card.booking #booking data-code=(b.code) data-state=(b.state) data-lang=(lang.code())
                data-failed=(lang.t("没有成功，请稍后再试。", "沒有成功，請稍後再試。", "That did not work; please try again shortly.")) {
                h1 {
                    @if fresh { (lang.t("预约成功", "預約成功", "You are booked")) }
                    @else { (lang.t("您的预约", "您的預約", "Your booking")) }
                }
                p { span.pill.(state_class) #booking-state { (state_text) } }
                dl.facts {
                    dt { (lang.t("业务", "業務", "Service")) }
                    dd #booking-service { (b.service) " · " (service) }
                    dt { (lang.t("日期", "日期", "Day")) }
                    dd #booking-day { (day_label(lang, b.day)) }
                    dt { (lang.t("时间", "時間", "Time")) }
                    dd #booking-time { (hhmm(b.start)) "–" (hhmm(b.end)) }
                    dt { (lang.t("签到", "簽到", "Check in")) }
                    dd { (b.checkin_opens.clone().unwrap_or_default()) "–" (b.checkin_closes.clone().unwrap_or_default()) }
                    @if let Some(m) = &b.mobile {
                        dt { (lang.t("短信提醒", "簡訊提醒", "Reminders to")) }
                        dd { (m) }
                    }
                }
                div.code-box {
                    span.label { (lang.t("预约码", "預約碼", "Booking code")) }
                    strong.booking-code #booking-code aria-label=(b.code) { (grouped(&b.code)) }
                }
                @if b.state == "booked" || b.state == "checked_in" {
                    div.qr #booking-qr data-url=(url) { (PreEscaped(qr)) }
                    p.hint { (lang.t("到达后在取号机上点“我有预约”，扫描二维码或输入预约码。请保存此页链接：凭它查看、改约或取消。", "到達後在取號機上點「我有預約」，掃描二維碼或輸入預約碼。請保存此頁連結：憑它查看、改約或取消。", "At the kiosk, touch \"I have an appointment\" and scan this QR code or type the code. Keep this page's link: it lets you view, move or cancel the booking.")) }
                }
                div.actions {
                    @if b.state == "booked" {
                        a.button #booking-ics href=(format!("/book/{}/calendar.ics", b.code)) download=(format!("booking-{}.ics", b.code)) {
                            (lang.t("加入日历", "加入日曆", "Add to calendar"))
                        }
                    }
                    @if open {
                        a.button #booking-move href=(format!("/book?branch={}&service={}&move={}", b.branch_id, b.service, b.code)) {
                            (lang.t("改约", "改約", "Move"))
                        }
                        button #booking-cancel type="button" { (lang.t("取消预约", "取消預約", "Cancel the booking")) }
                        button.danger #booking-cancel-confirm type="button" hidden { (lang.t("确认取消", "確認取消", "Yes, cancel it")) }
                    }
                }
                p.err #booking-error hidden {}
            }
            p.hint { a href=(format!("/book?branch={}", b.branch_id)) { (lang.t("再约一次", "再約一次", "Book another time")) } }
        }
    };
    html_response(
        StatusCode::OK,
        document(lang, &name, "customer", Some("book.js"), &body),
        chosen,
    )
}

/// A calendar text value with RFC 5545's escapes.
fn ics_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

fn ics_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The booking as an iCalendar event (RFC 5545), in UTC.
pub fn ics(b: &BookingView, service: &str, hall: &str, url: &str, stamp: DateTime<Utc>) -> String {
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Qhall//Booking//EN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@qhall", b.code),
        format!("DTSTAMP:{}", ics_time(stamp)),
        format!("DTSTART:{}", ics_time(b.start)),
        format!("DTEND:{}", ics_time(b.end)),
        format!("SUMMARY:{}", ics_text(&format!("{service} · {hall}"))),
        format!(
            "DESCRIPTION:{}",
            ics_text(&format!(
                "Booking code {} — check in at the kiosk (I have an appointment). {url}",
                b.code
            ))
        ),
        format!("URL:{url}"),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    let mut out = lines.join("\r\n");
    out.push_str("\r\n");
    out
}

/// `GET /book/{code}/calendar.ics`.
pub async fn calendar(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    let b = match booking_or_404(&state, &code, Lang::En).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let cfg = match state.store.config(b.branch_id).await {
        Ok(c) => c,
        Err(e) => return error_response(e),
    };
    let service = b
        .service
        .parse()
        .ok()
        .and_then(|c| cfg.service(c))
        .map(|s| s.name.get(b.lang.as_str()).to_owned())
        .unwrap_or_else(|| b.service.clone());
    let hall = cfg.name.get(b.lang.as_str()).to_owned();
    let url = format!("{}/book/{}", state.public_url, b.code);
    let body = ics(&b, &service, &hall, &url, b.created_at);
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"booking-{}.ics\"", b.code))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calendar_file_is_one_event_in_utc_with_escaped_text() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let b = BookingView {
            id: 1,
            branch_id: 1,
            code: "K7M2P9QXA".into(),
            service: "A".into(),
            start: t("2026-12-08T02:00:00Z"),
            end: t("2026-12-08T02:15:00Z"),
            day: chrono::NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
            state: "booked".into(),
            cancel_reason: None,
            mobile: None,
            lang: "en".into(),
            source: "web".into(),
            created_at: t("2026-12-04T09:30:00Z"),
            time: None,
            checkin_opens: None,
            checkin_closes: None,
        };
        let ics = ics(
            &b,
            "Personal, services",
            "Hall; one",
            "https://q.example/book/K7M2P9QXA",
            b.created_at,
        );
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(ics.contains("\r\nDTSTART:20261208T020000Z\r\nDTEND:20261208T021500Z\r\n"));
        assert!(ics.contains("SUMMARY:Personal\\, services · Hall\\; one\r\n"));
        assert!(ics.contains("UID:K7M2P9QXA@qhall\r\n"));
        assert_eq!(grouped("K7M2P9QXA"), "K7M 2P9 QXA");
    }
}

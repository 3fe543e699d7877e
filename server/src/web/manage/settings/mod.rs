//! `/manage/settings`: the hall's configuration on one page, with the audit log beside it.
//!
//! The page is rendered from the store; every form is sent by `manage-settings.js` to the
//! configuration API (`/api/v1/config…`, `/api/v1/users…`, `/api/v1/devices…`,
//! `/api/v1/emergency`) and, once saved, the page is reloaded so what it shows — the new
//! audit entry included — is what the server has. A new device's token is the one exception:
//! it is shown in place, once, until the manager dismisses it.
//!
//! # Layout
//! - [`hall`]: services, windows, hours, exceptions, notices.
//! - [`people`]: accounts and devices.
//! - [`audit`]: the audit log, each change as "field: before → after".

mod appointments;
mod audit;
mod hall;
mod people;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

use super::Visit;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::web::i18n::{Lang, Words};

const PATH: &str = "/manage/settings";

/// How far back the audit column reaches.
const AUDIT_DAYS: i64 = 30;
/// How many audit entries the column shows.
const AUDIT_ROWS: usize = 200;

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(page))
}

/// `GET /manage/settings`.
async fn page(State(state): State<AppState>, v: Visit) -> Response {
    match body(&state, &v).await {
        Ok(body) => {
            let title = v.lang.s("设置", "Settings");
            v.respond(PATH, title, Some("manage-settings.js"), &body)
        }
        Err(e) => e.into_response(),
    }
}

async fn body(state: &AppState, v: &Visit) -> Result<Markup, ApiError> {
    let now = state.now();
    let branch = v.who.branch_id;
    let hall = state.store.hall_settings(branch).await?;
    let cfg = state.store.config(branch).await?;
    let tz = cfg.schedule.tz;
    let users = state.store.users(&v.who).await?;
    let devices = state.store.devices(branch).await?;
    let log = state
        .store
        .audit_log(
            branch,
            now - Duration::days(AUDIT_DAYS),
            now + Duration::days(1),
        )
        .await?;
    let lang = v.lang;
    let mut booking = Vec::new();
    for s in &cfg.services {
        let settings = state.store.appointment_settings(branch, s.code).await?;
        booking.push((
            s.code.as_str().to_owned(),
            s.name.get(lang.code()).to_owned(),
            settings,
        ));
    }
    let sections = [
        ("emergency", lang.s("紧急广播", "Emergency")),
        ("services", lang.s("服务", "Services")),
        ("windows", lang.s("窗口", "Windows")),
        ("hours", lang.s("营业时间", "Hours")),
        ("exceptions", lang.s("节假日", "Holidays")),
        ("public", lang.s("对外信息", "Public info")),
        ("appointments", lang.s("预约", "Appointments")),
        ("messages", lang.s("短信与反馈", "Messages")),
        ("notices", lang.s("公告", "Notices")),
        ("users", lang.s("人员", "People")),
        ("devices", lang.s("设备", "Devices")),
        ("audit", lang.s("变更记录", "Audit log")),
    ];
    Ok(html! {
        div.settings {
            nav.settings-nav aria-label=(lang.s("设置栏目", "Settings sections")) {
                @for (id, label) in sections {
                    a href=(format!("#{id}")) { (label) }
                }
            }
            div.settings-grid {
                div.settings-main {
                    (emergency(lang, hall.emergency.as_deref()))
                    (hall::services(lang, &hall))
                    (hall::windows(lang, &hall))
                    (hall::hours(lang, &hall))
                    (hall::exceptions(lang, &hall, tz, now))
                    (hall::public_info(lang, &hall))
                    (appointments::section(lang, &booking))
                    (hall::messages(lang, &crate::hall::messages::settings_of(&cfg.messages)))
                    (hall::notices(lang, &hall, tz, now))
                    (people::users(lang, &v.who, &users, tz))
                    (people::devices(lang, &devices, &hall.windows, tz))
                }
                (audit::column(lang, &log[..log.len().min(AUDIT_ROWS)], tz))
            }
            (error_messages(lang))
        }
    })
}

/// The emergency broadcast: its state, and the one control that changes it.
/// The prepared emergency messages: (id, button 简体, button English, the message in the three
/// languages, within the 200 characters a message may have).
pub const EMERGENCY_PRESETS: [(&str, &str, &str, &str); 3] = [
    (
        "fire",
        "火警疏散",
        "Fire: evacuate",
        "火警：请按指示从最近的安全出口有序离开。火警：請按指示從最近的安全出口有序離開。Fire alarm: please leave calmly by the nearest exit.",
    ),
    (
        "power",
        "停电",
        "Power cut",
        "停电：暂停办理，请在原地等候工作人员指引。停電：暫停辦理，請在原地等候工作人員指引。Power cut: service is paused; please wait for staff.",
    ),
    (
        "system",
        "系统故障",
        "System fault",
        "系统故障：暂停取号和叫号，请稍候。系統故障：暫停取號和叫號，請稍候。System fault: tickets and calls are paused; please wait.",
    ),
];

fn emergency(lang: Lang, message: Option<&str>) -> Markup {
    html! {
        section.card.emergency-card #emergency .on[message.is_some()] {
            h2 { (lang.s("紧急广播", "Emergency broadcast")) }
            @if let Some(m) = message {
                p #emergency-state.emergency-state {
                    strong { (lang.s("广播中", "ON")) } " · " (lang.s("所有大屏和取号机正在显示：", "Every board and kiosk shows:"))
                }
                blockquote.emergency-text { (m) }
                p.hint { (lang.s("广播期间取号机停止取号。", "Kiosks issue no tickets while it is on.")) }
                form.api-form data-form="emergency-off" {
                    button.primary #emergency-off type="submit" { (lang.s("结束广播，恢复取号", "End the broadcast, resume issuing")) }
                    p.message role="status" {}
                }
            } @else {
                p #emergency-state.emergency-state {
                    (lang.s("未广播。开启后所有大屏和取号机整屏显示此消息，并停止取号。", "Off. When on, every board and kiosk shows the message full screen and kiosks stop issuing."))
                }
                form.api-form.inline data-form="emergency-on" {
                    label.grow {
                        span { (lang.s("广播内容", "Message")) }
                        input #emergency-message name="message" maxlength="200" required
                            placeholder=(lang.s("例如：消防演练，请按指示有序离场", "e.g. Fire drill: please leave calmly"));
                    }
                    button.danger #emergency-on type="submit" { (lang.s("开始紧急广播", "Start emergency broadcast")) }
                    p.message role="status" {}
                }
                p.hint { (lang.s("或一键广播预设消息（简 · 繁 · 英）：", "Or broadcast a prepared message (zh · zh-Hant · en) in one tap:")) }
                div.presets {
                    @for (id, zh, en, text) in EMERGENCY_PRESETS {
                        form.api-form.preset data-form="emergency-on" {
                            input type="hidden" name="message" value=(text);
                            button.danger #(format!("emergency-{id}")) type="submit" title=(text) { (lang.s(zh, en)) }
                        }
                    }
                }
            }
        }
    }
}

/// Messages for the API's error codes, for the script (it falls back to the server's text).
fn error_messages(lang: Lang) -> Markup {
    let codes: [(&str, &str, &str); 28] = [
        (
            "invalid_appointment_settings",
            "预约设置超出范围：时段 5–240 分钟，每段 1–50 人，提前 1–90 天，签到窗口 0–120 分钟；前缀为一个其他业务未用的字母。",
            "An appointment setting is out of range: slots 5–240 min, 1–50 places, 1–90 days ahead, check-in 0–120 min; the prefix is one letter no other service uses.",
        ),
        (
            "invalid_range",
            "号码范围应为 1–9999，且起始号不大于结束号。",
            "The number range is 1–9999, first ≤ last.",
        ),
        (
            "invalid_target",
            "目标等候时间为 1–240 分钟。",
            "The target wait is 1 to 240 minutes.",
        ),
        (
            "invalid_service_time",
            "默认办理时长为 1–120 分钟。",
            "The default service time is 1 to 120 minutes.",
        ),
        (
            "invalid_text",
            "请填写简体中文，且不要超过长度限制。",
            "Fill in Simplified Chinese, within the length limit.",
        ),
        (
            "invalid_code",
            "服务代码是一个大写字母 A–Z。",
            "A service code is one capital letter A–Z.",
        ),
        (
            "unknown_service",
            "没有这个服务。",
            "There is no such service.",
        ),
        (
            "service_exists",
            "这个代码已有服务。",
            "That code is taken.",
        ),
        (
            "service_in_use",
            "还有该服务的号在等候或办理中；可先停用它。",
            "Tickets of this service are still live; disable it instead.",
        ),
        (
            "duplicate_service",
            "同一服务只能列一次。",
            "List each service once.",
        ),
        (
            "invalid_weight",
            "权重应大于 0，不超过 100。",
            "A weight is more than 0, at most 100.",
        ),
        (
            "window_exists",
            "这个窗口号已存在。",
            "That window number exists.",
        ),
        (
            "invalid_window",
            "窗口号为 1–9999。",
            "A window number is 1 to 9999.",
        ),
        (
            "unknown_window",
            "没有这个窗口。",
            "There is no such window.",
        ),
        (
            "invalid_time",
            "时间格式为 HH:MM，例如 08:30–12:00。",
            "Times are HH:MM, e.g. 08:30–12:00.",
        ),
        (
            "invalid_period",
            "时段应先开始后结束，按顺序且不重叠。",
            "Periods start before they end, in order, without overlap.",
        ),
        (
            "invalid_hours",
            "请填写一周七天。",
            "Fill in all seven days.",
        ),
        (
            "unknown_time_zone",
            "没有这个时区（例如 Asia/Shanghai）。",
            "Unknown time zone (e.g. Asia/Shanghai).",
        ),
        (
            "invalid_cutoff",
            "停止取号提前量为 0–240 分钟。",
            "The cut-off is 0 to 240 minutes.",
        ),
        (
            "invalid_date",
            "日期格式为 YYYY-MM-DD。",
            "Dates are YYYY-MM-DD.",
        ),
        (
            "unknown_notice",
            "这条公告已不存在。",
            "That notice no longer exists.",
        ),
        (
            "invalid_username",
            "用户名为 2–32 位小写字母、数字或 . _ -。",
            "A username is 2–32 of a-z, 0-9, . _ -.",
        ),
        (
            "weak_password",
            "密码至少 8 位。",
            "A password has at least 8 characters.",
        ),
        ("invalid_role", "请选择角色。", "Choose a role."),
        ("conflict", "已存在同名记录。", "That name is taken."),
        ("forbidden", "您无权这样做。", "You may not do this."),
        (
            "own_account",
            "不能停用自己的账号。",
            "You cannot deactivate your own account.",
        ),
        (
            "invalid_message",
            "请填写广播内容（最多 200 字）。",
            "Write the message (at most 200 characters).",
        ),
    ];
    html! {
        @for (code, zh, en) in codes {
            template id=(format!("err-{code}")) { (lang.s(zh, en)) }
        }
        template #msg-saved { (lang.s("已保存。", "Saved.")) }
        template #msg-bad-hours { (lang.s("时段写法：08:00-12:00, 13:00-17:00（空白表示休息）。", "Write periods as 08:00-12:00, 13:00-17:00 (empty: closed).")) }
        template #msg-confirm-delete { (lang.s("确定删除？此操作不能撤销。", "Delete? This cannot be undone.")) }
        template #msg-confirm-revoke { (lang.s("确定吊销？该设备将立即无法使用。", "Revoke? The device stops working at once.")) }
        template #msg-confirm-deactivate { (lang.s("确定停用该账号？", "Deactivate this account?")) }
    }
}

/// A time in the hall's zone, `MM-DD HH:MM`.
fn short_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%m-%d %H:%M").to_string()
}

/// A save message slot for a form.
fn hall_msg() -> Markup {
    html! { p.message role="status" {} }
}

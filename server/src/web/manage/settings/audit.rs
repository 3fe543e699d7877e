//! The audit column of the settings page: who changed what, when, as "field: before → after".

use chrono_tz::Tz;
use maud::{Markup, html};
use serde_json::Value;

use super::short_time;
use crate::store::export::AuditRow;
use crate::web::i18n::Lang;

/// What an action is called on the page.
fn action_label(lang: Lang, action: &str) -> String {
    let (zh, en) = match action {
        "service.create" => ("新增服务", "Service added"),
        "service.update" => ("修改服务", "Service changed"),
        "service.delete" => ("删除服务", "Service deleted"),
        "window.create" => ("新增窗口", "Window added"),
        "window.update" => ("修改窗口", "Window changed"),
        "hours.update" => ("修改营业时间", "Hours changed"),
        "exception.set" => ("设置特殊日期", "Date exception set"),
        "exception.delete" => ("删除特殊日期", "Date exception removed"),
        "notice.create" => ("发布公告", "Notice published"),
        "notice.update" => ("修改公告", "Notice changed"),
        "notice.delete" => ("删除公告", "Notice deleted"),
        "user.create" => ("新增账号", "Account created"),
        "user.password" => ("重设密码", "Password reset"),
        "user.deactivate" => ("停用账号", "Account deactivated"),
        "device.create" => ("新增设备", "Device added"),
        "device.revoke" => ("吊销设备", "Device revoked"),
        "emergency.on" => ("开始紧急广播", "Emergency on"),
        "emergency.off" => ("结束紧急广播", "Emergency off"),
        other => return other.to_owned(),
    };
    lang.s(zh, en).to_owned()
}

/// A value, short: strings without quotes, at most 60 characters.
fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".to_owned(),
        other => other.to_string(),
    };
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(59).collect::<String>())
    } else {
        s
    }
}

/// The subject and the changed fields of an entry: ("A", ["target_wait_secs: 900 → 600"]).
fn summary(detail: &Value) -> (String, Vec<String>) {
    let subject = ["service", "window", "date", "notice", "user", "device"]
        .iter()
        .find_map(|k| detail.get(*k))
        .map(short)
        .unwrap_or_default();
    let before = detail.get("before").and_then(Value::as_object);
    let after = detail.get("after").and_then(Value::as_object);
    let mut lines = Vec::new();
    match (before, after) {
        (Some(b), Some(a)) => {
            for (k, va) in a {
                let vb = b.get(k).unwrap_or(&Value::Null);
                lines.push(format!("{k}: {} → {}", short(vb), short(va)));
            }
        }
        (None, Some(a)) => lines.extend(a.iter().map(|(k, v)| format!("{k}: {}", short(v)))),
        (Some(b), None) => lines.extend(b.iter().map(|(k, v)| format!("{k}: {}", short(v)))),
        (None, None) => {
            if let Some(m) = detail.get("message").filter(|m| !m.is_null()) {
                lines.push(short(m));
            }
        }
    }
    (subject, lines)
}

pub(super) fn column(lang: Lang, log: &[AuditRow], tz: Tz) -> Markup {
    html! {
        aside.card.audit #audit {
            h2 { (lang.s("变更记录（近 30 天）", "Audit log (30 days)")) }
            @if log.is_empty() {
                p.empty { (lang.s("还没有变更。", "No changes yet.")) }
            } @else {
                ol #audit-list {
                    @for e in log {
                        @let (subject, lines) = summary(&e.detail);
                        li.audit-row data-action=(e.action) {
                            div.audit-head {
                                time datetime=(e.at.to_rfc3339()) { (short_time(e.at, tz)) }
                                span.who { (if e.user.is_empty() { "—" } else { e.user.as_str() }) }
                            }
                            div.audit-what {
                                strong { (action_label(lang, &e.action)) }
                                @if !subject.is_empty() { " " span.code { (subject) } }
                            }
                            @for l in lines {
                                div.audit-change { (l) }
                            }
                        }
                    }
                }
            }
        }
    }
}

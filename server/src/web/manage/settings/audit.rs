//! The audit column of the settings page: who changed what, when, as "field: before → after".

use chrono_tz::Tz;
use maud::{Markup, html};
use serde_json::Value;

use super::short_time;
use crate::store::export::AuditRow;
use crate::web::i18n::{Lang, Words};

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
        "branch.public" => ("修改对外信息", "Public information changed"),
        "branch.create" => ("新增分厅", "Branch added"),
        "close_day" => ("关门日结", "Day closed"),
        "close_day.sign_out" => ("关门后签退窗口", "Windows signed out after closing"),
        other => return other.to_owned(),
    };
    lang.s(zh, en).to_owned()
}

/// A value as a manager reads it: texts in their languages joined by " / ", a window's services
/// as `A×1, B×2`, periods as `08:00-12:00, 13:00-17:00`, at most 80 characters.
fn show(lang: Lang, v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".to_owned(),
        Value::Object(o) if o.contains_key("zh") => {
            let mut parts: Vec<&str> = Vec::new();
            for k in ["zh", "zh_hant", "en"] {
                if let Some(t) = o.get(k).and_then(Value::as_str)
                    && !t.is_empty()
                    && !parts.contains(&t)
                {
                    parts.push(t);
                }
            }
            parts.join(" / ")
        }
        Value::Array(items) if items.is_empty() => "—".to_owned(),
        Value::Array(items) if items.iter().all(|i| i.get("service").is_some()) => items
            .iter()
            .map(|i| {
                format!(
                    "{}×{}",
                    i["service"].as_str().unwrap_or("?"),
                    i.get("weight").and_then(Value::as_f64).unwrap_or(1.0)
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(items)
            if items
                .iter()
                .all(|i| i.as_array().is_some_and(|p| p.len() == 2)) =>
        {
            if items.is_empty() {
                lang.s("休息", "closed").to_owned()
            } else {
                items
                    .iter()
                    .map(|p| {
                        format!(
                            "{}-{}",
                            p[0].as_str().unwrap_or("?"),
                            p[1].as_str().unwrap_or("?")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        }
        other => other.to_string(),
    };
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(79).collect::<String>())
    } else {
        s
    }
}

const DAYS: [(&str, &str); 7] = [
    ("周一", "Mon"),
    ("周二", "Tue"),
    ("周三", "Wed"),
    ("周四", "Thu"),
    ("周五", "Fri"),
    ("周六", "Sat"),
    ("周日", "Sun"),
];

/// Opening periods: `08:00-12:00, 13:00-17:00`, or "closed".
fn show_periods(lang: Lang, v: &Value) -> String {
    match v.as_array() {
        Some(p) if p.is_empty() => lang.s("休息", "closed").to_owned(),
        _ => show(lang, v),
    }
}

/// One changed field: `key: before → after`; the weekly hours day by day.
fn change_lines(lang: Lang, key: &str, before: &Value, after: &Value, out: &mut Vec<String>) {
    if key == "weekly"
        && let (Some(b), Some(a)) = (before.as_array(), after.as_array())
    {
        for (i, (zh, en)) in DAYS.iter().enumerate() {
            let (vb, va) = (
                b.get(i).unwrap_or(&Value::Null),
                a.get(i).unwrap_or(&Value::Null),
            );
            if vb != va {
                out.push(format!(
                    "{}: {} → {}",
                    lang.s(zh, en),
                    show_periods(lang, vb),
                    show_periods(lang, va)
                ));
            }
        }
        return;
    }
    let show_as = if key == "periods" { show_periods } else { show };
    out.push(format!(
        "{key}: {} → {}",
        show_as(lang, before),
        show_as(lang, after)
    ));
}

/// The subject and the changed fields of an entry: ("A", ["target_wait_secs: 900 → 600"]).
fn summary(lang: Lang, detail: &Value) -> (String, Vec<String>) {
    let subject = ["service", "window", "date", "notice", "user", "device"]
        .iter()
        .find_map(|k| detail.get(*k).map(|v| (*k, v)))
        .map(|(k, v)| match k {
            "notice" | "device" => format!("#{}", show(lang, v)),
            _ => show(lang, v),
        })
        .unwrap_or_default();
    let before = detail.get("before").and_then(Value::as_object);
    let after = detail.get("after").and_then(Value::as_object);
    let mut lines = Vec::new();
    // What a thing was made with, or what it held when removed: its set fields.
    let listed = |o: &serde_json::Map<String, Value>| {
        o.iter()
            .filter(|(k, v)| {
                !v.is_null() && !matches!(k.as_str(), "id" | "code" | "number" | "date")
            })
            .map(|(k, v)| format!("{k}: {}", show(lang, v)))
            .collect::<Vec<_>>()
    };
    match (before, after) {
        (Some(b), Some(a)) => {
            for (k, va) in a {
                change_lines(lang, k, b.get(k).unwrap_or(&Value::Null), va, &mut lines);
            }
        }
        (None, Some(a)) => lines.extend(listed(a)),
        (Some(b), None) => lines.extend(listed(b)),
        (None, None) => {
            if let Some(m) = detail.get("message").filter(|m| !m.is_null()) {
                lines.push(show(lang, m));
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
                        @let (subject, lines) = summary(lang, &e.detail);
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_read_as_before_and_after() {
        let (subject, lines) = summary(
            Lang::En,
            &json!({"window": 1, "before": {"serves": [{"service": "A", "weight": 1.0}]},
                    "after": {"serves": [{"service": "B", "weight": 2.0}, {"service": "A", "weight": 1.0}]}}),
        );
        assert_eq!(subject, "1");
        assert_eq!(lines, ["serves: A×1 → B×2, A×1"]);
        let day = json!([["00:00", "24:00"]]);
        let lunch = json!([["08:00", "12:00"], ["13:00", "17:00"]]);
        let (_, lines) = summary(
            Lang::En,
            &json!({"branch": 1, "before": {"weekly": [day, day, day, day, day, day, day]},
                    "after": {"weekly": [lunch, day, day, day, day, day, []]}}),
        );
        assert_eq!(
            lines,
            [
                "Mon: 00:00-24:00 → 08:00-12:00, 13:00-17:00",
                "Sun: 00:00-24:00 → closed"
            ]
        );
        let (_, lines) = summary(
            Lang::En,
            &json!({"notice": 2, "before": null, "after": {"id": 2, "text": {"zh": "欢迎", "zh_hant": "", "en": "Welcome"}, "starts_at": null}}),
        );
        assert_eq!(lines, ["text: 欢迎 / Welcome"]);
    }
}

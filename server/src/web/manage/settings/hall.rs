//! The hall's sections of the settings page: services, windows, hours, exceptions, notices.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

use crate::hall::settings::{HallSettings, NoticeRow, Periods};
use crate::web::i18n::{Lang, Words};

/// Minutes, for the inputs (the API speaks seconds).
fn mins(secs: u32) -> u32 {
    secs.div_ceil(60)
}

/// Periods as the page writes them: `08:00-12:00, 13:00-17:00`.
pub(super) fn periods_text(p: &Periods) -> String {
    p.iter()
        .map(|(a, b)| format!("{a}-{b}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A save message slot for a form.
fn msg() -> Markup {
    html! { p.message role="status" {} }
}

pub(super) fn services(lang: Lang, hall: &HallSettings) -> Markup {
    html! {
        section.card #services {
            h2 { (lang.s("服务", "Services")) }
            p.hint { (lang.s(
                "名称显示在取号机和大屏上；目标等候时间用于服务水平和提醒；号码每天从起始号开始。",
                "Names show on kiosks and boards; the target wait drives the service level and alerts; numbers restart at the first number each day.")) }
            div.svc-head aria-hidden="true" {
                span { (lang.s("代码", "Code")) }
                span { (lang.s("名称（简 / 繁 / 英）", "Name (zh / zh-Hant / en)")) }
                span { (lang.s("目标等候", "Target")) }
                span { (lang.s("号码范围", "Numbers")) }
                span { (lang.s("优先", "Priority")) }
                span { (lang.s("启用", "Enabled")) }
                span {}
            }
            @for s in &hall.services {
                form.api-form.svc #(format!("svc-{}", s.code)) data-form="service" data-code=(s.code) .off[!s.enabled] {
                    div.svc-row {
                        span.code { (s.code) }
                        span.names {
                            input name="name_zh" value=(s.name.zh) maxlength="40" required aria-label=(lang.s("简体名称", "Name, Simplified Chinese"));
                            input name="name_zh_hant" value=(s.name.zh_hant) maxlength="40" aria-label=(lang.s("繁体名称", "Name, Traditional Chinese"));
                            input name="name_en" value=(s.name.en) maxlength="40" aria-label=(lang.s("英文名称", "Name, English"));
                        }
                        label.unit {
                            input.n name="target_min" type="number" min="1" max="240" value=(mins(s.target_wait_secs)) aria-label=(lang.s("目标等候（分钟）", "Target wait (minutes)"));
                            span { (lang.s("分钟", "min")) }
                        }
                        span.range {
                            input.n name="first_number" type="number" min="1" max="9999" value=(s.first_number) aria-label=(lang.s("起始号", "First number"));
                            "–"
                            input.n name="last_number" type="number" min="1" max="9999" value=(s.last_number) aria-label=(lang.s("结束号", "Last number"));
                        }
                        label.check { input name="priority_allowed" type="checkbox" checked[s.priority_allowed] aria-label=(lang.s("允许优先", "Priority allowed")); }
                        label.check { input name="enabled" type="checkbox" checked[s.enabled] aria-label=(lang.s("启用", "Enabled")); }
                        span.buttons {
                            button.primary.save type="submit" { (lang.s("保存", "Save")) }
                            button.link.delete type="button" data-confirm="delete" { (lang.s("删除", "Delete")) }
                        }
                    }
                    details.guide {
                        summary { (lang.s("办事指南与默认办理时长", "Guide and default service time")) }
                        div.guide-grid {
                            label { span { (lang.s("指南（简体）", "Guide (Simplified)")) } textarea name="guide_zh" rows="3" maxlength="2000" { (s.guide.zh) } }
                            label { span { (lang.s("指南（繁体）", "Guide (Traditional)")) } textarea name="guide_zh_hant" rows="3" maxlength="2000" { (s.guide.zh_hant) } }
                            label { span { (lang.s("指南（英文）", "Guide (English)")) } textarea name="guide_en" rows="3" maxlength="2000" { (s.guide.en) } }
                            label.unit.short {
                                span { (lang.s("默认办理时长（分钟）", "Default service time (min)")) }
                                input.n name="default_service_min" type="number" min="1" max="120" value=(mins(s.default_service_secs));
                            }
                            label.unit.short {
                                span { (lang.s("核验身份证件", "Identity check")) }
                                select name="identity_check" {
                                    @for (v, zh, en) in [("off", "不核验", "None"), ("optional", "可选", "Optional"), ("required", "必须（办结前）", "Required before completing")] {
                                        option value=(v) selected[s.identity_check.as_str() == v] { (lang.s(zh, en)) }
                                    }
                                }
                            }
                            label.check-line {
                                input name="carry_over" type="checkbox" checked[s.carry_over];
                                " " (lang.s("关门时保留未叫的号，次日优先办理", "Keep tickets still waiting at closing for the next day (called first)"))
                            }
                            label.check-line {
                                input name="remote_tickets" type="checkbox" checked[s.remote_tickets];
                                " " (lang.s("允许客户在手机上远程取号（到场后签到）", "Customers may take a ticket from their phone (checking in on arrival)"))
                            }
                        }
                    }
                    (msg())
                }
            }
            form.api-form.add-row #svc-new data-form="service-new" {
                span.add-title { (lang.s("新增服务", "New service")) }
                input.code-in name="code" maxlength="1" required placeholder="E" aria-label=(lang.s("代码", "Code"));
                input name="name_zh" maxlength="40" required placeholder=(lang.s("简体名称", "Name (zh)")) aria-label=(lang.s("简体名称", "Name, Simplified Chinese"));
                input name="name_en" maxlength="40" placeholder=(lang.s("英文名称", "Name (en)")) aria-label=(lang.s("英文名称", "Name, English"));
                label.unit {
                    input.n name="target_min" type="number" min="1" max="240" value="15" aria-label=(lang.s("目标等候（分钟）", "Target wait (minutes)"));
                    span { (lang.s("分钟", "min")) }
                }
                button type="submit" { (lang.s("新增", "Add")) }
                (msg())
            }
        }
    }
}

pub(super) fn windows(lang: Lang, hall: &HallSettings) -> Markup {
    let slots = hall.services.len().max(1);
    let service_options = |chosen: Option<&str>| {
        html! {
            option value="" selected[chosen.is_none()] { "—" }
            @for s in &hall.services {
                option value=(s.code) selected[chosen == Some(s.code.as_str())] {
                    (s.code) " " (s.name.get(lang.code()))
                }
            }
        }
    };
    html! {
        section.card #windows {
            h2 { (lang.s("窗口与业务", "Windows and what they serve")) }
            p.hint { (lang.s(
                "每个窗口按顺序优先叫所列服务的号；权重越大，越常被选中。",
                "Each window calls the services listed in this order of preference; a higher weight is chosen more often.")) }
            table.win-table {
                thead {
                    tr {
                        th { (lang.s("窗口", "Window")) }
                        th { (lang.s("名称", "Name")) }
                        th { (lang.s("服务（优先顺序 × 权重）", "Services (preference × weight)")) }
                        th {}
                    }
                }
                tbody {
                    @for w in &hall.windows {
                        tr {
                            td.code { (w.number) }
                            td { input form=(format!("win-{}", w.number)) name="name" value=(w.name) maxlength="40" aria-label=(lang.s("窗口名称", "Window name")); }
                            td {
                                div.serves {
                                    @for i in 0..slots {
                                        @let s = w.serves.get(i);
                                        span.slot {
                                            select form=(format!("win-{}", w.number)) name="serve" aria-label=(format!("{} {}", lang.s("第几顺位", "Choice"), i + 1)) {
                                                (service_options(s.map(|s| s.service.as_str())))
                                            }
                                            "×"
                                            input.w form=(format!("win-{}", w.number)) name="weight" type="number" min="0.1" max="100" step="0.1"
                                                value=(s.map_or(1.0, |s| s.weight)) aria-label=(lang.s("权重", "Weight"));
                                        }
                                    }
                                }
                            }
                            td {
                                form.api-form.win #(format!("win-{}", w.number)) data-form="window" data-n=(w.number) {
                                    button.primary type="submit" { (lang.s("保存", "Save")) }
                                    (msg())
                                }
                            }
                        }
                    }
                }
            }
            form.api-form.add-row #win-new data-form="window-new" {
                span.add-title { (lang.s("新增窗口", "New window")) }
                input.n name="number" type="number" min="1" max="9999" required placeholder=(lang.s("号", "No.")) aria-label=(lang.s("窗口号", "Window number"));
                input name="name" maxlength="40" placeholder=(lang.s("名称", "Name")) aria-label=(lang.s("窗口名称", "Window name"));
                button type="submit" { (lang.s("新增", "Add")) }
                (msg())
            }
        }
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

pub(super) fn hours(lang: Lang, hall: &HallSettings) -> Markup {
    let h = &hall.hours;
    html! {
        section.card #hours {
            h2 { (lang.s("营业时间", "Opening hours")) }
            form.api-form #hours-form data-form="hours" {
                p.hint { (lang.s(
                    "每天的时段用逗号分隔，如 08:30-12:00, 13:00-17:30；空白表示休息。",
                    "Periods of a day separated by commas, e.g. 08:30-12:00, 13:00-17:30; empty means closed.")) }
                div.week {
                    @for (i, (zh, en)) in DAYS.iter().enumerate() {
                        label.day {
                            span { (lang.s(zh, en)) }
                            input name="day" value=(h.weekly.get(i).map(periods_text).unwrap_or_default())
                                placeholder=(lang.s("休息", "closed"));
                        }
                    }
                }
                div.hours-foot {
                    label {
                        span { (lang.s("时区", "Time zone")) }
                        input name="time_zone" value=(h.time_zone) list="time-zones" required;
                        datalist #time-zones {
                            @for z in ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Macau", "Asia/Urumqi", "Europe/London", "UTC"] {
                                option value=(z) {}
                            }
                        }
                    }
                    label.unit {
                        span { (lang.s("停止取号（关门前）", "Last ticket (before closing)")) }
                        span { input.n name="cutoff_mins" type="number" min="0" max="240" value=(h.cutoff_mins); " " (lang.s("分钟", "min")) }
                    }
                    label.unit {
                        span { (lang.s("关门后自动签退", "Sign windows out after closing")) }
                        span { input.n name="closing_grace_mins" type="number" min="0" max="240" value=(h.closing_grace_mins); " " (lang.s("分钟", "min")) }
                    }
                    button.primary type="submit" { (lang.s("保存营业时间", "Save hours")) }
                }
                (msg())
            }
        }
    }
}

pub(super) fn exceptions(lang: Lang, hall: &HallSettings, tz: Tz, now: DateTime<Utc>) -> Markup {
    let today = now.with_timezone(&tz).date_naive();
    html! {
        section.card #exceptions {
            h2 { (lang.s("节假日与特殊日期", "Holidays and dated exceptions")) }
            @if hall.exceptions.is_empty() {
                p.empty { (lang.s("没有特殊日期：每天按每周营业时间。", "None: every day follows the weekly hours.")) }
            } @else {
                table {
                    thead { tr {
                        th { (lang.s("日期", "Date")) }
                        th { (lang.s("时段", "Hours")) }
                        th { (lang.s("说明", "Note")) }
                        th {}
                    } }
                    tbody {
                        @for e in &hall.exceptions {
                            tr .past[e.date < today] {
                                td.code { (e.date.format("%Y-%m-%d")) }
                                td {
                                    @if e.periods.is_empty() { strong { (lang.s("全天休息", "Closed")) } }
                                    @else { (periods_text(&e.periods)) }
                                }
                                td { (e.note) @if !e.note_en.is_empty() { " · " (e.note_en) } }
                                td {
                                    form.api-form data-form="exception-delete" data-date=(e.date.format("%Y-%m-%d")) {
                                        button.link type="submit" data-confirm="delete" { (lang.s("删除", "Delete")) }
                                        (msg())
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p.hint { (lang.s(
                "特殊日期提前若干天（见“对外信息”）自动作为公告显示在取号机、大屏和大厅页面上。",
                "A dated exception shows as a notice on kiosks, boards and the hall page from some days ahead (see “Public information”).")) }
            form.api-form.add-row #exception-new data-form="exception" {
                span.add-title { (lang.s("设置日期", "Set a date")) }
                input name="date" type="date" required aria-label=(lang.s("日期", "Date"));
                input name="periods" placeholder=(lang.s("空白 = 全天休息", "empty = closed")) aria-label=(lang.s("时段", "Hours"));
                input name="note" maxlength="200" placeholder=(lang.s("说明（简体），如 国庆节", "Note (zh), e.g. 国庆节")) aria-label=(lang.s("说明（简体）", "Note, Simplified Chinese"));
                input name="note_zh_hant" maxlength="200" placeholder=(lang.s("说明（繁体）", "Note (zh-Hant)")) aria-label=(lang.s("说明（繁体）", "Note, Traditional Chinese"));
                input name="note_en" maxlength="200" placeholder=(lang.s("说明（英文）", "Note (en), e.g. National Day")) aria-label=(lang.s("说明（英文）", "Note, English"));
                button type="submit" { (lang.s("保存", "Save")) }
                (msg())
            }
        }
    }
}

/// The day of an instant in the hall's zone, for a date input.
fn day_of(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d").to_string()
}

/// A notice's state now: (class, 简体, English).
fn notice_state(n: &NoticeRow, now: DateTime<Utc>) -> (&'static str, &'static str, &'static str) {
    if n.active(now) {
        ("level-ok", "显示中", "showing")
    } else if n.starts_at.is_some_and(|s| s > now) {
        ("level-warn", "待显示", "scheduled")
    } else {
        ("muted", "已结束", "ended")
    }
}

pub(super) fn notices(lang: Lang, hall: &HallSettings, tz: Tz, now: DateTime<Utc>) -> Markup {
    html! {
        section.card #notices {
            h2 { (lang.s("公告", "Notices")) }
            p.hint { (lang.s(
                "显示在大屏滚动条和取号机上；日期按本厅时区，含结束日当天。",
                "Scrolled on boards and shown on kiosks; dates in the hall's time zone, the last day included.")) }
            @for n in &hall.notices {
                @let (class, zh, en) = notice_state(n, now);
                form.api-form.notice #(format!("notice-{}", n.id)) data-form="notice" data-id=(n.id) {
                    span class=(format!("state {class}")) { (lang.s(zh, en)) }
                    input name="text_zh" value=(n.text.zh) maxlength="200" required aria-label=(lang.s("简体", "Simplified Chinese"));
                    input name="text_zh_hant" value=(n.text.zh_hant) maxlength="200" aria-label=(lang.s("繁体", "Traditional Chinese"));
                    input name="text_en" value=(n.text.en) maxlength="200" aria-label=(lang.s("英文", "English"));
                    input name="from" type="date" value=(n.starts_at.map(|t| day_of(t, tz)).unwrap_or_default()) aria-label=(lang.s("开始日期", "From"));
                    input name="until" type="date" value=(n.ends_at.map(|t| day_of(t - Duration::milliseconds(1), tz)).unwrap_or_default()) aria-label=(lang.s("结束日期", "Until"));
                    span.buttons {
                        button.primary type="submit" { (lang.s("保存", "Save")) }
                        button.link.delete type="button" data-confirm="delete" { (lang.s("删除", "Delete")) }
                    }
                    (msg())
                }
            }
            form.api-form.notice.add #notice-new data-form="notice-new" {
                span.add-title { (lang.s("新公告", "New")) }
                input name="text_zh" maxlength="200" required placeholder=(lang.s("简体", "Simplified Chinese")) aria-label=(lang.s("简体", "Simplified Chinese"));
                input name="text_zh_hant" maxlength="200" placeholder=(lang.s("繁体", "Traditional Chinese")) aria-label=(lang.s("繁体", "Traditional Chinese"));
                input name="text_en" maxlength="200" placeholder=(lang.s("英文", "English")) aria-label=(lang.s("英文", "English"));
                input name="from" type="date" aria-label=(lang.s("开始日期", "From"));
                input name="until" type="date" aria-label=(lang.s("结束日期", "Until"));
                span.buttons { button type="submit" { (lang.s("发布", "Publish")) } }
                (msg())
            }
        }
    }
}

/// Messages to customers (how near is near, the texts in three languages), the follow-up
/// deadline of a bad rating, and tickets from the phone (cap and hold).
pub(super) fn messages(lang: Lang, s: &crate::hall::messages::MessageSettings) -> Markup {
    let kind_name = |k: &str| match k {
        "near" => lang.s("快到号", "Turn near"),
        "booked" => lang.s("预约成功", "Booked"),
        "reminder" => lang.s("预约提醒", "Appointment reminder"),
        "booking_cancelled" => lang.s("预约因闭厅取消", "Booking cancelled (hall closed)"),
        _ => lang.s("叫号", "Called"),
    };
    let lang_name = |l: &str| match l {
        "zh" => "简体",
        "zh_hant" => "繁體",
        _ => "English",
    };
    html! {
        section.card #messages {
            h2 { (lang.s("短信与反馈", "Messages and feedback")) }
            p.hint { (lang.s("客户留下手机号后收到的短信；低分评价的整改期限；手机取号的名额与保留时间。",
                "The texts customers who leave a number receive; the deadline of a low rating's follow-up; tickets from the phone.")) }
            form.api-form #messages-form data-form="messages" {
                label.unit {
                    span { (lang.s("前面还剩几人时提醒", "Send \"near\" at this many ahead")) }
                    input.n name="notify_ahead" type="number" min="1" max="20" value=(s.notify_ahead);
                }
                label.unit {
                    span { (lang.s("差评整改期限", "Low-rating follow-up due in")) }
                    span { input.n name="follow_up_days" type="number" min="1" max="60" value=(s.follow_up_days); " " (lang.s("个工作日", "working days")) }
                }
                label.unit {
                    span { (lang.s("手机取号名额（每小时办理能力的）", "Tickets from phones, share of hourly capacity")) }
                    span { input.n name="remote_share_pct" type="number" min="1" max="100" value=(s.remote_share_pct); " %" }
                }
                label.unit {
                    span { (lang.s("未签到保留", "Hold an unchecked ticket")) }
                    span { input.n name="remote_hold_mins" type="number" min="5" max="240" value=(s.remote_hold_mins); " " (lang.s("分钟", "minutes")) }
                }
                @for t in &s.templates {
                    label.template {
                        span { (kind_name(&t.kind)) " · " (lang_name(&t.lang)) " " small.hint { (t.placeholders.join(" ")) } }
                        textarea name="template" data-kind=(t.kind) data-lang=(t.lang) rows="2" maxlength="300" { (t.text) }
                    }
                }
                button.primary type="submit" { (lang.s("保存", "Save")) }
                (msg())
            }
        }
    }
}

/// The branch's public information: the service phone number and address on the public hall
/// page, and how many days ahead dated exceptions are announced.
pub(super) fn public_info(lang: Lang, hall: &HallSettings) -> Markup {
    let p = &hall.public;
    html! {
        section.card #public {
            h2 { (lang.s("对外信息", "Public information")) }
            p.hint {
                (lang.s("显示在公开的大厅页面 ", "Shown on the public hall page "))
                a href="/hall" { "/hall" }
                (lang.s("（无需登录）。", " (no login)."))
            }
            form.api-form.public-form #public-form data-form="public" {
                label {
                    span { (lang.s("服务电话", "Service phone")) }
                    input name="phone" type="tel" maxlength="32" value=(p.phone) placeholder="0571-12345";
                }
                label {
                    span { (lang.s("地址", "Address")) }
                    input name="address" maxlength="200" value=(p.address);
                }
                label.unit {
                    span { (lang.s("特殊日期提前公告", "Announce exceptions ahead")) }
                    span { input.n name="notice_days" type="number" min="0" max="60" value=(p.notice_days); " " (lang.s("天", "days")) }
                }
                button.primary type="submit" { (lang.s("保存", "Save")) }
                (msg())
            }
        }
    }
}

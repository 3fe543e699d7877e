//! `/manage/reports`: the branch's figures over a range of its local days — a chart first
//! (service level by hour of day against the goal, waits by service against their targets,
//! the satisfaction distribution), the tables under it (by service, window, staff member and
//! hour of day), and a CSV download beside each table plus the raw ticket events.
//!
//! The page is a frame: the script (`manage-reports.js`) reads `GET /api/v1/reports` for the
//! chosen range and draws the charts as inline SVG (no library, nothing from a CDN). The CSV
//! links point at the existing `/api/v1/reports/{table}.csv` routes; the session cookie
//! authenticates those GETs. What the script needs and cannot ask the API for (service and
//! window names, targets, today's date in the branch, the texts) is in a JSON block.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use chrono::Duration;
use maud::{Markup, html};
use serde_json::json;

use super::Visit;
use crate::http::AppState;
use crate::queue::schedule::local_date;
use crate::web::i18n::{Lang, Words};
use crate::web::json_block;

const PATH: &str = "/manage/reports";

/// The share of customers the hall means to call within target. No branch setting holds it
/// yet; 80 % is the usual goal of service halls (and what the staffing page plans for).
pub const SERVICE_LEVEL_GOAL: f64 = 0.8;

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(page))
}

/// `GET /manage/reports` (`?from=DATE&to=DATE` are read by the script; default the last 7 days).
async fn page(State(state): State<AppState>, v: Visit) -> Response {
    let cfg = v.cfg.clone();
    let lang = v.lang;
    let key = lang.code();
    let today = local_date(cfg.schedule.tz, state.now());
    let data = json!({
        "today": today,
        "week_ago": today - Duration::days(6),
        "month_ago": today - Duration::days(29),
        "goal": SERVICE_LEVEL_GOAL,
        "services": cfg.services.iter().map(|s| json!({
            "code": s.code,
            "name": s.name.get(key),
            "target_secs": s.target_wait_secs,
        })).collect::<Vec<_>>(),
        "windows": cfg.windows.iter().map(|w| json!({
            "number": w.number.get(),
            "name": w.name,
        })).collect::<Vec<_>>(),
        "text": texts(lang),
    });
    let title = lang.s("报表", "Reports");
    let body = html! {
        div.report-head {
            h1 { (title) }
            form #range.range {
                label { (lang.s("从", "From")) " " input #from type="date" name="from" value=(today - Duration::days(6)) max=(today) required; }
                label { (lang.s("到", "To")) " " input #to type="date" name="to" value=(today) max=(today) required; }
                button.primary #show type="submit" { (lang.s("查看", "Show")) }
                span.quick {
                    button.quick type="button" data-days="1" { (lang.s("今天", "Today")) }
                    button.quick type="button" data-days="7" { (lang.s("近 7 天", "Last 7 days")) }
                    button.quick type="button" data-days="30" { (lang.s("近 30 天", "Last 30 days")) }
                }
                a #csv-events.csv href="/api/v1/reports/events.csv" download { (lang.s("原始取号事件 CSV", "Raw ticket events CSV")) }
            }
        }
        p #status.message role="status" aria-live="polite" { (lang.s("正在读取…", "Loading…")) }
        section #summary.summary aria-label=(lang.s("总览", "Overview")) {}
        div.charts {
            figure.chart.card {
                figcaption { (lang.s("各时段服务达标率（按取号时间）", "Service level by hour of issue")) }
                div #chart-hour {}
            }
            figure.chart.card {
                figcaption { (lang.s("各业务等候时间（分钟）与目标", "Waits by service (minutes) against target")) }
                div #chart-wait {}
            }
            figure.chart.card {
                figcaption { (lang.s("满意度评价分布", "Satisfaction ratings")) }
                div #chart-sat {}
            }
        }
        (table_section(lang, "service", lang.s("按业务", "By service")))
        (table_section(lang, "window", lang.s("按窗口", "By window")))
        (table_section(lang, "staff", lang.s("按工作人员", "By staff member")))
        (table_section(lang, "hour", lang.s("按取号时段", "By hour of issue")))
        (oversight_section(lang))
        (feedback_section(lang))
        (appointments_section(lang))
        p.note {
            (lang.s(
                "等候时间 = 首次叫号 − 取号；达标率 = 等候不超过该业务目标的已叫号比例（目标线：",
                "Wait = first call − issue; service level = share of called tickets that waited no longer than their service's target (goal line: ",
            ))
            (format!("{:.0}%", SERVICE_LEVEL_GOAL * 100.0))
            (lang.s(
                "）。预估误差：实际等候与票上预估之差的平均绝对值；“在范围内”：等候落在票上所印范围之内的比例。",
                "). Estimate error: mean absolute difference between the wait and the estimate printed on the ticket; “within range”: share whose wait fell inside the range printed.",
            ))
        }
        (json_block("report-data", &data))
    };
    v.respond(PATH, title, Some("manage-reports.js"), &body)
}

/// A table's frame: heading, CSV link, and the table the script fills.
fn table_section(lang: Lang, table: &str, heading: &str) -> Markup {
    html! {
        section.report-table.card data-table=(table) {
            div.table-head {
                h2 { (heading) }
                a.csv id=(format!("csv-{table}")) href=(format!("/api/v1/reports/{table}.csv")) download {
                    (lang.s("下载 CSV", "Download CSV"))
                }
            }
            div.scroll {
                table id=(format!("table-{table}")) {}
            }
        }
    }
}

/// The oversight tables' frames: closing leftovers, extensions, calls out of order and
/// reinstatements, transfers, the identity step (the script fills them).
fn oversight_section(lang: Lang) -> Markup {
    let table = |id: &str, heading: &str| {
        html! {
            div.ov-table {
                h3 { (heading) }
                div.scroll { table id=(id) {} }
            }
        }
    };
    html! {
        section.report-table.card #oversight {
            div.table-head {
                h2 { (lang.s("例外与监督", "Exceptions and oversight")) }
            }
            div.ov-grid {
                (table("ov-closed", lang.s("关门时未办理（按日、业务）", "Left unserved at closing (per day and service)")))
                (table("ov-calls", lang.s("插队叫号与过号恢复（按人）", "Calls out of order and reinstated no-shows (per person)")))
                (table("ov-ext-service", lang.s("延长办理（按业务）", "Extended cases (per service)")))
                (table("ov-ext-staff", lang.s("延长办理（按人）", "Extended cases (per person)")))
                (table("ov-transfers", lang.s("业务之间的转移", "Transfers between services")))
                (table("ov-window-transfers", lang.s("窗口之间的转移", "Transfers between windows")))
                (table("ov-id-service", lang.s("身份证件核验（按业务）", "Identity checks (per service)")))
                (table("ov-id-staff", lang.s("身份证件核验（按人）", "Identity checks (per person)")))
            }
        }
    }
}

/// Complaints, suggestions and follow-ups of the range, per service, window and person (the
/// script fills them).
fn feedback_section(lang: Lang) -> Markup {
    let table = |id: &str, heading: &str| {
        html! {
            div.ov-table {
                h3 { (heading) }
                div.scroll { table id=(id) {} }
            }
        }
    };
    html! {
        section.report-table.card #feedback {
            div.table-head {
                h2 { (lang.s("投诉、建议与差评整改", "Complaints, suggestions and low-rating follow-ups")) }
                a.csv #csv-feedback href="/api/v1/reports/feedback.csv" download {
                    (lang.s("下载 CSV", "Download CSV"))
                }
            }
            div.ov-grid {
                (table("fb-service", lang.s("按业务", "Per service")))
                (table("fb-window", lang.s("按窗口", "Per window")))
                (table("fb-person", lang.s("按涉及人员", "Per person concerned")))
            }
        }
    }
}

/// Bookings and the appointments' punctuality, per service and day (the script fills it).
fn appointments_section(lang: Lang) -> Markup {
    html! {
        section.report-table.card #appointments {
            div.table-head {
                h2 { (lang.s("预约", "Appointments")) }
                a.csv #csv-appointments href="/api/v1/reports/appointments.csv" download {
                    (lang.s("下载 CSV", "Download CSV"))
                }
            }
            p.hint { (lang.s(
                "准时 = 从应到时间（时段开始，或签到时间如更晚）到叫号的时间；迟到 = 过了签到时间才来；未到 = 签到时间内没有来。",
                "On time = from when due (the slot's start, or the check-in if later) to the call; late = came after check-in closed; no-show = never came while check-in was open.",
            )) }
            div.scroll { table #appt-table {} }
        }
    }
}

/// The texts the script writes, in the page's language.
fn texts(lang: Lang) -> serde_json::Value {
    let s = |zh: &str, en: &str| lang.s(zh, en).to_owned();
    let mut v = json!({
        "loading": s("正在读取…", "Loading…"),
        "range": s("{from} 至 {to}", "{from} to {to}"),
        "error": s("读取失败：{message}", "Could not load the report: {message}"),
        "bad_range": s("开始日期不能晚于结束日期，且最多 366 天。", "The start must not be after the end, and at most 366 days."),
        "no_tickets": s("这段时间没有取号。", "No tickets in this period."),
        "issued": s("取号", "Issued"),
        "served": s("已办结", "Served"),
        "no_show": s("过号", "No-show"),
        "cancelled": s("取消", "Cancelled"),
        "called": s("已叫号", "Called"),
        "mean_wait": s("平均等候", "Mean wait"),
        "median_wait": s("中位等候", "Median wait"),
        "p90_wait": s("90% 等候", "90th pct wait"),
        "mean_service": s("平均办理", "Mean service"),
        "service_level": s("达标率", "Service level"),
        "est_mae": s("预估误差", "Estimate error"),
        "est_within": s("在预估范围内", "Within range"),
        "rating": s("满意度", "Rating"),
        "min": s("分钟", "min"),
        "min_short": s("分", "min"),
        "goal": s("目标 {goal}", "goal {goal}"),
        "target": s("目标", "target"),
        "below_goal": s("低于目标", "below goal"),
        "service": s("业务", "Service"),
        "window": s("窗口", "Window"),
        "staff": s("工作人员", "Staff"),
        "hour": s("时段", "Hour"),
        "hour_axis": s("取号时段", "hour of issue"),
        "level_axis": s("达标率", "service level"),
        "wait_axis": s("等候（分钟）", "wait (minutes)"),
        "median": s("中位", "median"),
        "p90": s("90%", "90th pct"),
        "over_target": s("90% 超目标", "90th over target"),
        "ratings_n": s("{n} 条评价", "{n} ratings"),
        "no_ratings": s("没有评价。", "No ratings."),
        "no_calls": s("没有叫号。", "No calls."),
        "mean_only": s("均分 {score}", "mean {score}"),
        "mean_score": s("均分 {score}（{n} 条）", "mean {score} ({n})"),
        "sat": [
            s("非常不满意", "Very dissatisfied"),
            s("不满意", "Dissatisfied"),
            s("一般", "Neutral"),
            s("满意", "Satisfied"),
            s("非常满意", "Very satisfied"),
        ],
        "removed": s("（已删除）", "(removed)"),
    });
    // The oversight tables' texts (a second object: one json! this long passes its recursion limit).
    let more = json!({
        "none": s("没有。", "None."),
        "day": s("日期", "Day"),
        "count": s("次数", "Count"),
        "left_unserved": s("未办理", "Left unserved"),
        "out_of_order": s("插队叫号", "Out of order"),
        "reinstated": s("过号恢复", "Reinstated"),
        "reasons": s("原因", "Reasons"),
        "from": s("从", "From"),
        "to": s("到", "To"),
        "completed": s("办结", "Completed"),
        "checked": s("已核验", "Checked"),
        "share": s("核验比例", "Share checked"),
        "complaints": s("投诉", "Complaints"),
        "from_customers": s("其中客户自行提交", "of which sent by customers"),
        "suggestions": s("建议", "Suggestions"),
        "follow_ups": s("差评整改", "Follow-ups"),
        "open": s("未办结", "Open"),
        "overdue": s("逾期", "Overdue"),
        "resolved_late": s("逾期办结", "Resolved late"),
        "unknown": s("（未关联）", "(none)"),
        "day": s("日期", "Day"),
        "made": s("预约", "Booked"),
        "appt_checked_in": s("已签到", "Checked in"),
        "late": s("迟到", "Late"),
        "appt_no_show": s("未到", "No-show"),
        "within_5": s("5 分钟内叫号", "Called within 5 min"),
        "within_10": s("10 分钟内叫号", "Called within 10 min"),
        "mean_delay": s("平均延迟", "Mean delay"),
        "total": s("合计", "Total"),
    });
    if let (Some(all), serde_json::Value::Object(more)) = (v.as_object_mut(), more) {
        all.extend(more);
    }
    v
}

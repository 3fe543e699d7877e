//! `/manage`: the hall right now. Answers "is anyone waiting too long, and where" at a glance:
//! the alerts first, then one row per service with its longest current wait as a bar against
//! the target line (amber from the warning share, red only past the target), the windows, the
//! kiosks and boards, and the alert thresholds.
//!
//! The page is a frame; `manage-live.js` fills it from `GET /api/v1/live`, fetches again when
//! the event stream reports a change (and every 15 s, for devices), and ages the wait clocks
//! every second between fetches.

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use serde_json::json;

use super::Visit;
use crate::http::AppState;
use crate::web::i18n::{Lang, Words};
use crate::web::json_block;

const PATH: &str = "/manage";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(page))
}

/// `GET /manage`.
async fn page(v: Visit) -> Response {
    let lang = v.lang;
    let title = lang.s("实时", "Live");
    let body = html! {
        div.live-head {
            h1 { (lang.s("大厅实时", "The hall now")) }
            span #status.live-status role="status" { (lang.s("正在加载…", "Loading…")) }
        }
        section #alerts.alerts aria-live="polite" aria-label=(lang.s("提醒", "Alerts")) {}
        section.card {
            h2 { (lang.s("各业务排队", "Lines")) }
            table #services.live-services {
                thead { tr {
                    th { (lang.s("业务", "Service")) }
                    th.num { (lang.s("等候", "Waiting")) }
                    th.wait-col { (lang.s("最长等候 / 目标", "Longest wait / target")) }
                    th.num { (lang.s("新取号预计", "New ticket told")) }
                    th.num { (lang.s("开放窗口", "Open windows")) }
                    th.num { (lang.s("1 小时内预约 / 已签到在等", "Booked next hour / checked in waiting")) }
                } }
                tbody {}
            }
        }
        div.live-grid {
            section.card {
                h2 { (lang.s("窗口", "Windows")) }
                table #windows {
                    thead { tr {
                        th { (lang.s("窗口", "Window")) }
                        th { (lang.s("状态", "State")) }
                        th { (lang.s("工作人员", "Staff")) }
                        th { (lang.s("当前号码", "Current ticket")) }
                        th.num { (lang.s("空闲", "Idle")) }
                    } }
                    tbody {}
                }
            }
            section.card {
                h2 { (lang.s("取号机与叫号屏", "Kiosks and boards")) }
                table #devices {
                    thead { tr {
                        th { (lang.s("设备", "Device")) }
                        th { (lang.s("打印机", "Printer")) }
                        th { (lang.s("最近联系", "Last report")) }
                    } }
                    tbody {}
                }
            }
        }
        details #thresholds.card {
            summary #thresholds-summary { (lang.s("提醒条件", "Alert thresholds")) }
            form #thresholds-form {
                label {
                    (lang.s("最长等候达到目标的", "Warn when the longest wait reaches"))
                    " " input #warn-percent type="number" min="1" max="100" step="1" required;
                    " " (lang.s("% 时提醒", "% of the target"))
                }
                label {
                    (lang.s("每个开放窗口等候超过", "Suggest a window when more than"))
                    " " input #per-window type="number" min="1" max="100" step="1" required;
                    " " (lang.s("人时建议开窗口", "wait per open window"))
                }
                button.primary #thresholds-save type="submit" { (lang.s("保存", "Save")) }
                span #thresholds-msg.message role="status" {}
            }
        }
        (strings(lang))
    };
    v.respond(PATH, title, Some("manage-live.js"), &body)
}

/// The texts the script shows.
fn strings(lang: Lang) -> Markup {
    let s = |zh: &str, en: &str| lang.s(zh, en).to_owned();
    let v = json!({
        "state": {
            "open": s("开放", "Open"),
            "paused": s("暂停", "Paused"),
            "closed": s("关闭", "Closed"),
        },
        "ticket": {
            "called": s("已叫号", "called"),
            "serving": s("办理中", "serving"),
        },
        "printer": {
            "ok": s("正常", "OK"),
            "no_paper": s("缺纸", "Out of paper"),
            "offline": s("离线", "Offline"),
            "error": s("故障", "Error"),
            "none": s("无打印机", "No printer"),
            "unknown": s("未报告", "Not reported"),
        },
        "role": {
            "kiosk": s("取号机", "kiosk"),
            "display": s("叫号屏", "board"),
            "pad": s("评价器", "rating pad"),
        },
        "level": {
            "ok": s("正常", "within target"),
            "warn": s("接近目标", "near target"),
            "over": s("超过目标", "over target"),
        },
        "alert": {
            "over_target": s("{service}：最长已等 {wait}，超过目标 {target}。", "{service}: longest wait {wait}, over the {target} target."),
            "about_to_miss": s("{service}：最长已等 {wait}，即将超过目标 {target}。", "{service}: longest wait {wait}, about to miss the {target} target."),
            "open_window": s("{service}：{waiting} 人等候，开放窗口 {open} 个。", "{service}: {waiting} waiting for {open} open window(s)."),
            "suggest": s("建议开放 {w} 号窗口。", "Open window {w}."),
            "resume": s("建议恢复 {w} 号窗口（暂停中）。", "Resume window {w} (paused)."),
            "no_suggest": s("没有其他窗口办理此业务：请调配人员。", "No other window serves it: move staff over."),
            "complaints_overdue": s("{n} 件投诉已过答复期限。", "{n} complaint(s) past their due date."),
            "complaints_link": s("查看投诉", "Open complaints"),
            "printer": s("{device}：打印机{state}。", "{device}: printer {state}."),
            "none": s("没有提醒：各业务都在目标之内。", "No alerts: every line is within its target."),
        },
        "minutes": s("{m} 分钟", "{m} min"),
        "lessMinute": s("不到 1 分钟", "under 1 min"),
        "ago": s("{t} 前", "{t} ago"),
        "never": s("从未", "never"),
        "none": "—",
        "live": s("实时 · {t} 更新", "Live · updated {t}"),
        "offline": s("连接中断，正在重连… 数据为 {t}", "Connection lost, reconnecting… data from {t}"),
        "thresholds": s("提醒条件：目标的 {p}% · 每窗口 {n} 人", "Alert thresholds: {p}% of target · {n} per open window"),
        "saved": s("已保存。", "Saved."),
        "errors": {
            "invalid_warn_percent": s("百分比须为 1–100 的整数。", "The percentage must be a whole number from 1 to 100."),
            "invalid_per_window": s("人数须为 1–100 的整数。", "The number must be a whole number from 1 to 100."),
            "csrf_failed": s("页面已过期，请刷新。", "The page has expired: reload it."),
            "unauthorized": s("登录已过期，请刷新后重新登录。", "Your session has ended: reload and log in again."),
            "network": s("无法连接服务器。", "Cannot reach the server."),
        },
    });
    json_block("live-strings", &v)
}

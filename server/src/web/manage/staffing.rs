//! `/manage/staffing`: the staffing advisor. A week × hour grid, for one service or all: in
//! each cell the windows Erlang C says are needed (from the last weeks' arrivals and service
//! times) over the windows that were open on average; red where fewer were open than needed.
//! Above it, the coming seven days (issue #14): per opening hour the windows needed beside the
//! people who can open one (on shift, less approved leave), the short hours red and named in
//! plain sentences. `manage-staffing.js` fills both from `GET /api/v1/staffing/advice`.

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use serde_json::json;

use super::Visit;
use crate::http::AppState;
use crate::web::i18n::{Lang, Words};
use crate::web::json_block;

const PATH: &str = "/manage/staffing";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(page))
}

/// `GET /manage/staffing`.
async fn page(v: Visit) -> Response {
    let cfg = v.cfg.clone();
    let lang = v.lang;
    let title = lang.s("排班建议", "Staffing");
    let body = html! {
        h1 { (lang.s("排班建议", "Staffing advisor")) }
        form #advice-form.card.advice-form {
            label {
                (lang.s("业务", "Service")) " "
                select #advice-service {
                    option value="" { (lang.s("全部业务", "All services")) }
                    @for s in &cfg.services {
                        option value=(s.code.as_str()) { (s.code.as_str()) " " (s.name.get(lang.code())) }
                    }
                }
            }
            label {
                (lang.s("依据最近", "History:")) " "
                input #advice-weeks type="number" min="1" max="26" step="1" value="4" required;
                " " (lang.s("周", "weeks"))
            }
            label {
                (lang.s("目标内叫号比例", "Called within target:")) " "
                input #advice-goal type="number" min="1" max="99" step="1" value="80" required;
                " %"
            }
            button.primary #advice-show type="submit" { (lang.s("计算", "Show")) }
            span #advice-msg.message role="status" {}
        }
        section.card #coming {
            h2 { (lang.s("未来 7 天：在岗人数够不够", "The coming 7 days: enough people on shift?")) }
            p #coming-summary.advice-summary role="status" {}
            ul #coming-short.coming-short {}
            p #coming-unrostered.advice-note hidden {}
            div.advice-scroll {
                table #coming-grid.advice-grid {
                    thead {}
                    tbody {}
                }
            }
            p.advice-legend {
                span.cell-key.short { "4 / 2" } " " (lang.s("人手不足", "too few people")) " · "
                span.cell-key.met { "2 / 3" } " " (lang.s("够用", "enough")) " · "
                span.cell-key.spare { "0 / 2" } " " (lang.s("无需求", "no demand"))
                " — " (lang.s(
                    "每格：所需窗口 / 可上岗人数（排班人数减去已批准请假的人）",
                    "each cell: windows needed / people who can open one (on shift, less approved leave)"
                ))
            }
            p.advice-note {
                (lang.s(
                    "班次覆盖该小时营业时间一半及以上的人计为在岗；请假后剩下不到一半的，计为请假。只计已排班的人。所需窗口与下方表格相同（同一星期几、同一小时）。",
                    "A person counts for an hour when their shift covers at least half of it (of the minutes the hall is open); approved leave that leaves them less than half takes them out. Only people with shifts count. Windows needed are the figures of the grid below for that weekday and hour."
                ))
            }
        }
        section.card {
            p #advice-basis.advice-basis {}
            div.advice-scroll {
                table #advice-grid.advice-grid {
                    thead {}
                    tbody {}
                }
            }
            p.advice-legend {
                span.cell-key.short { "3 / 1" } " " (lang.s("开放少于所需", "fewer open than needed")) " · "
                span.cell-key.met { "2 / 2" } " " (lang.s("满足", "enough open")) " · "
                span.cell-key.spare { "0 / 1" } " " (lang.s("无需求仍开放", "open without demand"))
                " — " (lang.s("每格：所需窗口 / 平均开放窗口", "each cell: windows needed / windows open on average"))
            }
            h3 { (lang.s("未来 7 天预约占用", "Bookings in the coming 7 days")) }
            p #booked-empty { (lang.s("没有预约。", "No bookings.")) }
            div.advice-scroll { table #booked-grid.advice-grid { thead {} tbody {} } }
            p.advice-note {
                (lang.s(
                    "每格：预约占用的窗口时间（按平均办理时长）占该时段平均开放窗口时间的比例。",
                    "Each cell: the window time the bookings take (at the mean service time) as a share of the window time open on average in that hour."
                ))
            }
            p.advice-note {
                (lang.s(
                    "所需窗口按 Erlang C 计算：每小时到达人数与平均办理时长取自所选历史，按各业务的目标等候时间；全部业务为各业务所需之和。",
                    "Windows needed are Erlang C figures from the history's arrivals per hour and mean service time, against each service's target wait; for all services, the sum of what each needs."
                ))
            }
        }
        (strings(lang))
    };
    v.respond(PATH, title, Some("manage-staffing.js"), &body)
}

fn strings(lang: Lang) -> Markup {
    let s = |zh: &str, en: &str| lang.s(zh, en).to_owned();
    // The coming week's texts (issue #14), an object of their own.
    let coming = json!({
        "shortOne": s("有 1 个小时人手不足：", "1 hour will be short of people:"),
        "shortMany": s("有 {n} 个小时人手不足：", "{n} hours will be short of people:"),
        "enough": s("未来 7 天每个营业小时的在岗人数都够。", "Enough people are on shift for every opening hour of the coming 7 days."),
        "noShifts": s("还没有人排班，无法比较。", "Nobody has shifts yet, so there is nothing to compare."),
        "closed": s("未来 7 天不营业。", "The hall is closed for the coming 7 days."),
        "shortHour": s("{day} {from}–{to}：需要 {n} 个窗口，只有 {a} 人在岗", "Short on {day} {from}–{to}: {n} windows needed, {a} available"),
        "shortHourNone": s("{day} {from}–{to}：需要 {n} 个窗口，没有人在岗", "Short on {day} {from}–{to}: {n} windows needed, none available"),
        "shortHour1": s("{day} {from}–{to}：需要 1 个窗口，没有人在岗", "Short on {day} {from}–{to}: 1 window needed, none available"),
        "shortHourLeave": s("（{l} 人请假）", " ({l} on leave)"),
        "unrostered": s("未排班、未计入：{names}。", "No shifts, so not counted: {names}."),
        "cell": s("{day} {h}:00 — 需要 {n} 个窗口；排班 {r} 人，请假 {l} 人，可上岗 {a} 人", "{day} {h}:00 — {n} window(s) needed; {r} on shift, {l} on leave: {a} available"),
        "closedHour": s("不营业", "closed"),
    "closedDay": s("全天不营业", "Closed all day"),
        "dayDate": s("{wd} {m}月{d}日", "{wd} {d} {mon}"),
        "months": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
        "comma": s("、", ", "),
    });
    let v = json!({
        "days": if lang == Lang::En {
            json!(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
        } else {
            json!(["周一", "周二", "周三", "周四", "周五", "周六", "周日"])
        },
        "period": s("{from} 至 {to}（{weeks} 周）· 目标内叫号 {goal}%", "{from} to {to} · {weeks} week(s) · goal: {goal}% called within target"),
        "service": s("{code} {name}：{arrivals} 张号，平均办理 {mean} 分钟{default}，目标 {target} 分钟。", "{code} {name}: {arrivals} tickets, mean service {mean} min{default}, target {target} min."),
        "defaultTime": s("（无办结记录，按默认）", " (nothing served: the default)"),
        "short": s("{n} 个小时开放窗口少于所需。", "{n} hour(s) with fewer windows open than needed."),
        "noneShort": s("所有有需求的小时都有足够窗口开放。", "Every hour with demand had enough windows open."),
        "empty": s("所选时间内没有取号和开窗记录。", "No tickets and no open windows in this history."),
        "cell": s("{day} {h}:00 — 每小时到达 {a} 人，需要 {n} 个窗口，平均开放 {o} 个", "{day} {h}:00 — {a} arrivals per hour, {n} window(s) needed, {o} open on average"),
        "coming": coming,
        "errors": {
            "invalid_weeks": s("周数须为 1–26。", "Weeks must be 1 to 26."),
            "invalid_goal": s("比例须在 1%–99% 之间。", "The goal must be between 1% and 99%."),
            "unknown_service": s("没有这个业务。", "There is no such service."),
            "unauthorized": s("登录已过期，请刷新后重新登录。", "Your session has ended: reload and log in again."),
            "network": s("无法连接服务器。", "Cannot reach the server."),
        },
    });
    json_block("staffing-strings", &v)
}

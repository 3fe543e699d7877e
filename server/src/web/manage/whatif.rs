//! `/manage/whatif`: the hall simulated with other windows, skills, arrival rates and hours.
//!
//! The script (`manage-whatif.js`) starts from `GET /api/v1/simulate/baseline` (the branch's
//! windows and skills now, arrivals and service times of recent weeks), lets the manager
//! remove and add windows, change which services each serves and in which order, scale each
//! service's arrivals, change mean service times and the opening hours, then runs
//! `POST /api/v1/simulate` twice — the hall as it is and as changed, on the same seed, so the
//! difference is the change and not the dice — and shows per service the predicted service
//! level, mean and 90th-percentile wait with their 95 % intervals, beside today's actual
//! figures (`GET /api/v1/stats`).

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use maud::html;
use serde_json::json;

use super::Visit;
use super::reports::SERVICE_LEVEL_GOAL;
use crate::http::AppState;
use crate::queue::policy::Policy;
use crate::web::i18n::{Lang, Words};
use crate::web::json_block;

const PATH: &str = "/manage/whatif";

/// Simulated days per run: enough for intervals of a few points on a busy hall, and about a
/// second or two of one core for the demo hall.
pub const DAYS: u32 = 100;
/// The same seed for both runs, so that they see the same customers.
pub const SEED: u64 = 1;

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(page))
}

/// `GET /manage/whatif`.
async fn page(v: Visit) -> Response {
    let cfg = v.cfg.clone();
    let lang = v.lang;
    let key = lang.code();
    let data = json!({
        "days": DAYS,
        "seed": SEED,
        "policy": Policy::Default.name(),
        "goal": SERVICE_LEVEL_GOAL,
        "services": cfg.services.iter().map(|s| json!({
            "code": s.code,
            "name": s.name.get(key),
        })).collect::<Vec<_>>(),
        "text": texts(lang),
    });
    let title = lang.s("模拟", "What if");
    let body = html! {
        h1 { (title) }
        p #basis.message role="status" aria-live="polite" { (lang.s("正在读取大厅现状…", "Reading the hall as it is…")) }
        div.whatif {
            section.card.whatif-edit aria-label=(lang.s("改动", "Changes")) {
                h2 { (lang.s("窗口与业务（按优先顺序）", "Windows and the services each serves, in order")) }
                table #windows {
                    thead { tr {
                        th scope="col" { (lang.s("窗口", "Window")) }
                        th scope="col" { (lang.s("办理业务（代码，按顺序）", "Serves (codes, in order)")) }
                        th {}
                    } }
                    tbody {}
                }
                button #add-window type="button" { (lang.s("＋ 增加窗口", "+ Add a window")) }
                h2 { (lang.s("到达与办理时间", "Arrivals and service times")) }
                table #services {
                    thead { tr {
                        th scope="col" { (lang.s("业务", "Service")) }
                        th scope="col" .num { (lang.s("近期每天人数", "Per day, recent")) }
                        th scope="col" .num { (lang.s("到达人数 %", "Arrivals %")) }
                        th scope="col" .num { (lang.s("平均办理（分钟）", "Mean service (min)")) }
                    } }
                    tbody {}
                }
                fieldset #appointments-set {
                    legend { (lang.s("预约", "Appointments")) }
                    label {
                        (lang.s("预约客户占到达的比例（%，0 为无预约）", "Share of arrivals booked (%, 0 for none)"))
                        input #appt-share type="number" min="0" max="90" step="5";
                    }
                    label {
                        (lang.s("每个时段可约人数（空为不限）", "Places per slot (empty: as many as come)"))
                        input #appt-places type="number" min="1" max="50" step="1";
                    }
                }
                label #hours-label {
                    (lang.s("营业时间（如 09:00-12:00, 13:00-17:00）", "Opening hours (e.g. 09:00-12:00, 13:00-17:00)"))
                    input #hours type="text" autocomplete="off" spellcheck="false";
                }
                div.actions {
                    button.primary #run type="button" disabled { (lang.s("运行模拟", "Run the simulation")) }
                    button #reset type="button" { (lang.s("恢复现状", "Back to the hall as it is")) }
                }
                p #run-status.message role="status" aria-live="polite" {}
            }
            section.card.whatif-result aria-label=(lang.s("结果", "Results")) {
                h2 { (lang.s("预测达标率（95% 区间）", "Predicted service level (95% interval)")) }
                div #chart {}
                table #results {}
                p.note #explain {}
            }
        }
        (json_block("whatif-data", &data))
    };
    v.respond(PATH, title, Some("manage-whatif.js"), &body)
}

/// The texts the script writes, in the page's language.
fn texts(lang: Lang) -> serde_json::Value {
    let s = |zh: &str, en: &str| lang.s(zh, en).to_owned();
    json!({
        "basis": s(
            "起点：现有 {windows} 个窗口及其业务；到达人数与办理时间取自 {from} 至 {to} 中有取号的 {days} 天（{tickets} 张号）。",
            "Starting from the hall as it is: {windows} windows and their services; arrivals and service times from {from} to {to} (days with tickets: {days}; tickets: {tickets})."),
        "basis_none": s(
            "起点：现有 {windows} 个窗口及其业务；近期没有取号，到达人数为 0，请填写百分比或先积累数据。",
            "Starting from the hall as it is: {windows} windows and their services; no tickets recently, so no arrivals — the results will be empty until there are some."),
        "window_n": s("{n} 号窗口", "Window {n}"),
        "new": s("新", "new"),
        "remove": s("移除", "Remove"),
        "running": s("模拟中（{days} 天）…", "Simulating {days} days…"),
        "done": s("完成：各模拟 {days} 天，同一随机种子。", "Done: {days} simulated days each, on the same random draws."),
        "changed": s("已改动，尚未运行。", "Changed; not run yet."),
        "error": s("无法模拟：{message}", "Cannot simulate: {message}"),
        "busy": s("另一个模拟正在运行，请稍后再试。", "Another simulation is running; try again in a few seconds."),
        "bad_codes": s("{n} 号窗口：未知业务代码 {codes}", "Window {n}: unknown service code {codes}"),
        "no_serves": s("{n} 号窗口没有办理任何业务。", "Window {n} serves no service."),
        "no_windows": s("至少需要一个窗口。", "Keep at least one window."),
        "unserved": s("业务 {code} 没有窗口办理。", "No window serves {code}."),
        "bad_hours": s("营业时间写法：09:00-12:00, 13:00-17:00", "Write hours as 09:00-12:00, 13:00-17:00"),
        "bad_number": s("请填写不小于 0 的数字。", "Enter numbers of 0 or more."),
        "service": s("业务", "Service"),
        "overall": s("全部", "All services"),
        "per_day": s("每天人数", "Per day"),
        "predicted": s("预测（改动后）", "Predicted, changed"),
        "as_is": s("预测（现状）", "Predicted, as is"),
        "today": s("今天实际", "Today, actual"),
        "level": s("达标率", "Service level"),
        "mean_wait": s("平均等候", "Mean wait"),
        "p90_wait": s("90% 等候", "90th pct wait"),
        "min": s("分钟", "min"),
        "goal": s("目标 {goal}", "goal {goal}"),
        "legend_pred": s("预测（改动后）及 95% 区间", "predicted, changed, with 95% interval"),
        "legend_asis": s("现状预测", "as is"),
        "legend_today": s("今天实际", "today"),
        "explain": s(
            "预测值为 {days} 个模拟日的平均，± 为 95% 置信区间的半宽：真实值很可能落在其中。两次模拟使用相同的到达与办理时间随机数，差别来自改动本身。预测假设到达率与近期相同、无人离开；实际情况会有出入。",
            "Predictions are means over {days} simulated days; ± is the half-width of the 95% interval — the true figure very likely lies inside. Both runs use the same random arrivals and service times, so the difference comes from the change itself. They assume arrivals like recent weeks and that nobody leaves; real days will differ."),
    })
}

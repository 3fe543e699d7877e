//! `/manage/attendance`: sign-ins, sign-outs and pauses per person per day against the opening
//! hours, flagged late / early leave / long pause by the branch's tolerances (which are set
//! here too), over a range of days, with the CSV beside it. A rostered person (issue #14) is
//! shown with their shift, absent or on leave; while leave waits for a decision the page links
//! to [`super::shifts`]. The page is a shell; `manage-attendance.js` fills it from
//! `/api/v1/attendance`.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use chrono::Duration;
use maud::html;
use serde_json::json;

use super::Visit;
use crate::http::AppState;
use crate::queue::schedule::local_date;
use crate::web::i18n::{Lang, Words};
use crate::web::json_block;

const PATH: &str = "/manage/attendance";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(page))
}

/// `GET /manage/attendance`: the last seven days by default.
async fn page(State(state): State<AppState>, v: Visit) -> Response {
    let lang = v.lang;
    let tz = v.cfg.schedule.tz;
    let today = local_date(tz, state.now());
    let week_ago = today - Duration::days(6);
    let title = lang.s("考勤", "Attendance");
    let mins = lang.s("分钟", "min");
    let body = html! {
        div.people-head {
            h1 { (title) }
            p #summary.summary aria-live="polite" {}
            // Leave asked for and not yet decided changes who counts as absent: say so here.
            a #pending-leave.pending-leave href=(super::shifts::PATH) hidden {}
        }
        div.attendance-bar {
            form #range.filters {
                label { (lang.s("从", "From")) input #a-from type="date" value=(week_ago) required; }
                label { (lang.s("到", "To")) input #a-to type="date" value=(today) required; }
                button.primary #a-show type="submit" { (lang.s("查看", "Show")) }
                a #csv.csv-link href="#" download { (lang.s("下载 CSV", "Download CSV")) }
            }
            form #tolerances.filters {
                label { (lang.s("迟到：开门后超过", "Late: more than")) span.unit { input #t-late type="number" min="0" max="240" required; (mins) } }
                label { (lang.s("早退：关门前超过", "Early leave: more than")) span.unit { input #t-early type="number" min="0" max="240" required; (mins) } }
                label { (lang.s("长暂停：一次超过", "Long pause: one over")) span.unit { input #t-pause type="number" min="0" max="240" required; (mins) } }
                button #t-save type="submit" { (lang.s("保存标准", "Save")) }
            }
        }
        p #a-msg.message role="status" {}
        p.legend {
            span.flag.flag-late { (lang.s("迟到", "Late")) }
            span.flag.flag-early { (lang.s("早退", "Early leave")) }
            span.flag.flag-pause { (lang.s("长暂停", "Long pause")) }
            span.flag.flag-absent { (lang.s("缺勤", "Absent")) }
            span.flag.flag-leave { (lang.s("请假", "On leave")) }
            span.hint { (lang.s(
                "暂停 = 窗口暂停或签退后再签到的时间，只计营业时段（午休不算）。",
                "Pause = time a window is paused, or signed out before signing in again; only opening hours count (never lunch)."
            )) }
        }
        div #days {}
        p #none.empty hidden { (lang.s("这段时间没有签到记录。", "Nobody signed in on these days.")) }
        (json_block("strings", &strings(lang, tz.name())))
    };
    v.respond(PATH, title, Some("manage-attendance.js"), &body)
}

/// The texts the script shows.
fn strings(lang: Lang, tz: &str) -> serde_json::Value {
    let s = |zh: &str, en: &str| lang.s(zh, en).to_owned();
    json!({
        "tz": tz,
        "locale": s("zh-CN", "en-GB"),
        "head": [
            s("人员", "Person"),
            s("首次签到", "First sign-in"),
            s("迟到", "Late"),
            s("最后签退", "Last sign-out"),
            s("早退", "Early"),
            s("暂停次数", "Pauses"),
            s("暂停合计", "Paused in all"),
            s("最长一次", "Longest"),
            s("标记", "Flags"),
        ],
        "hours": s("营业 {open}–{close}", "open {open}–{close}"),
        "closedDay": s("休息日", "closed"),
        "aroundTheClock": s("全天营业", "open around the clock"),
        "stillIn": s("未签退", "still signed in"),
        "mins": s("{n} 分钟", "{n} min"),
        "late": s("迟到 {n} 分钟", "Late {n} min"),
        "early": s("早退 {n} 分钟", "Left {n} min early"),
        "longPause": s("长暂停 {n} 分钟", "Long pause {n} min"),
        "byClosing": s("关门后由系统签退", "Signed out by closing"),
        "absent": s("缺勤（排班未签到）", "Absent (rostered, never signed in)"),
        "onLeave": s("已批准休假", "On approved leave"),
        "summary": s(
            "{days} 人次：迟到 {late}，早退 {early}，长暂停 {pause}，缺勤 {absent}，请假 {leave}",
            "{days} person-days: {late} late, {early} early leave, {pause} long pause, {absent} absent, {leave} on leave"
        ),
        "shift": s("班次 {start}–{end}", "shift {start}–{end}"),
        "dayOff": s("排班休息日", "rostered day off"),
        "pendingLeave": s("{n} 条请假待审批 →", "{n} leave requests wait for a decision →"),
        "none": s("—", "—"),
        "saved": s("标准已保存。", "Tolerances saved."),
        "error": {
            "invalid_range": s("请选择不超过 366 天、开始不晚于结束的日期。", "Choose at most 366 days, the first not after the last."),
            "invalid_tolerance": s("每项标准为 0 到 240 分钟。", "Each tolerance is 0 to 240 minutes."),
            "invalid_body": s("每项标准为 0 到 240 分钟。", "Each tolerance is 0 to 240 minutes."),
            "network": s("无法连接服务器。", "Cannot reach the server."),
            "other": s("操作没有成功：", "That did not work: "),
        },
    })
}

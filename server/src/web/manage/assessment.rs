//! `/manage/assessment`: the month's scorecards — a table of everyone with score and grade, the
//! ladder's proposals to confirm or dismiss, one printable card per person (figures, how the
//! score came about, the manager's note, the records) — and the branch's weights, grades,
//! ladder and training (sessions, and the services that need one before signing in). The page
//! is a shell; `manage-assessment.js` fills it from `/api/v1/assessment` and friends. Printing
//! it (the browser's print to PDF is how a hall saves the monthly assessment) gives the cards
//! alone, one a page.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use maud::html;
use serde_json::json;

use super::Visit;
use crate::hall::assessment::Period;
use crate::http::AppState;
use crate::queue::schedule::local_date;
use crate::web::i18n::{Lang, Words};
use crate::web::json_block;

const PATH: &str = "/manage/assessment";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(page))
}

/// `GET /manage/assessment?month=YYYY-MM`: this month by default.
async fn page(State(state): State<AppState>, v: Visit) -> Response {
    let lang = v.lang;
    let this = Period::of(local_date(v.cfg.schedule.tz, state.now()));
    let title = lang.s("考核", "Assessment");
    let services: Vec<(String, String)> = v
        .cfg
        .services
        .iter()
        .map(|s| {
            (
                s.code.as_str().to_owned(),
                s.name.get(lang.code()).to_owned(),
            )
        })
        .collect();
    let body = html! {
        div.people-head.no-print {
            h1 { (title) }
            p #summary.summary aria-live="polite" {}
        }
        div.attendance-bar.no-print {
            form #month-form.filters {
                label { (lang.s("月份", "Month")) input #month type="month" value=(this.key) required; }
                button.primary #show type="submit" { (lang.s("查看", "Show")) }
                a #csv.csv-link href="#" download { (lang.s("下载 CSV", "Download CSV")) }
                button #print type="button" { (lang.s("打印 / 存为 PDF", "Print / save as PDF")) }
            }
        }
        p #msg.message.no-print role="status" {}
        section.card.no-print {
            h2 { (lang.s("本月总览", "The month at a glance")) }
            table #overview {}
        }
        section.card.no-print #proposals-card {
            h2 { (lang.s("待决定的处理建议", "Proposed consequences to decide")) }
            p.hint { (lang.s(
                "规则只提出建议；确认后才记入本人档案，驳回也会留痕。",
                "Rules only propose; a proposal becomes a record when you confirm it, and dismissing it is recorded too."
            )) }
            div #proposals {}
        }
        div #cards {}
        details.card.no-print #settings-card {
            summary { h2 { (lang.s("评分、等级与处理规则", "Weights, grades and the ladder")) } }
            p.hint { (lang.s(
                "得分 = 100 − 每项扣分 × 次数（最低 0）。等级取得分达到的最高门槛。",
                "Score = 100 − points per lapse × how many (never below 0). The grade is the highest threshold the score reaches."
            )) }
            form #settings-form {
                h3 { (lang.s("每次扣分", "Points per lapse")) }
                div #weights.grid-form {}
                h3 { (lang.s("等级门槛", "Grade thresholds")) }
                div #grades {}
                button #add-grade type="button" { (lang.s("添加等级", "Add a grade")) }
                h3 { (lang.s("处理规则（每月）", "The ladder (per month)")) }
                div #rules {}
                button #add-rule type="button" { (lang.s("添加规则", "Add a rule")) }
                p { button.primary #save-settings type="submit" { (lang.s("保存", "Save")) } }
            }
        }
        details.card.no-print #training-card {
            summary { h2 { (lang.s("培训", "Training")) } }
            form #training-form.grid-form {
                label { (lang.s("主题", "Title")) input #t-title maxlength="120" required; }
                label { (lang.s("日期", "Date")) input #t-day type="date" required; }
                label { (lang.s("学时", "Hours")) input #t-hours type="number" min="0.25" max="24" step="0.25" value="2" required; }
                label { (lang.s("讲师", "Trainer")) input #t-trainer maxlength="80"; }
                label { (lang.s("合格后可办理", "A pass qualifies for"))
                    select #t-service {
                        option value="" { (lang.s("（不限业务）", "(no service)")) }
                        @for (code, name) in &services { option value=(code) { (code) " " (name) } }
                    }
                }
                div #t-attendees.attendees {}
                p { button.primary #t-save type="submit" { (lang.s("记录培训", "Record the session")) } }
            }
            h3 { (lang.s("需先通过培训才能签到的业务", "Services that need a passed training before signing in")) }
            form #req-form {
                @for (code, name) in &services {
                    label.check { input type="checkbox" name="req" value=(code); " " (code) " " (name) }
                }
                button #req-save type="submit" { (lang.s("保存", "Save")) }
            }
            h3 { (lang.s("本月培训", "This month's sessions")) }
            ul #sessions {}
        }
        (json_block("strings", &strings(lang)))
    };
    v.respond(PATH, title, Some("manage-assessment.js"), &body)
}

/// The texts the script shows.
fn strings(lang: Lang) -> serde_json::Value {
    let s = |zh: &str, en: &str| lang.s(zh, en).to_owned();
    let mut v = json!({
        "head": [
            s("人员", "Person"), s("办结", "Served"), s("办理用时", "Service time"),
            s("满意度", "Satisfaction"), s("有效投诉", "Upheld complaints"), s("迟到", "Late"),
            s("早退", "Early"), s("缺勤", "Absent"), s("暂停", "Paused"), s("培训", "Training"),
            s("得分", "Score"), s("等级", "Grade"),
        ],
        "card": s("{name} · {period} 月度考核", "{name} · assessment for {period}"),
        "scoreLine": s("得分 {score} · 等级 {grade}", "Score {score} · grade {grade}"),
        "working": s("扣分明细", "How the score came about"),
        "noDeduction": s("本月无扣分。", "Nothing cost points this month."),
        "deduction": s("{measure} {count} 次 × {points} 分 = −{total}", "{measure}: {count} × {points} = −{total}"),
        "note": s("主管评语", "Manager's note"),
        "saveNote": s("保存评语", "Save the note"),
        "noteSaved": s("评语已保存。", "Note saved."),
        "records": s("处理记录", "Records"),
        "noRecords": s("无。", "None."),
        "record": s("{level}（{period}）：{reason}；{by} 确认", "{level} ({period}): {reason}; confirmed by {by}"),
        "dismissed": s("已驳回：{level}（{reason}）", "Dismissed: {level} ({reason})"),
        "proposal": s("{name}：{reason}", "{name}: {reason}"),
        "confirm": s("确认记录", "Confirm"),
        "dismiss": s("驳回", "Dismiss"),
        "decisionNote": s("说明（可选）", "Note (optional)"),
        "noProposals": s("没有待决定的建议。", "Nothing to decide."),
        "decided": s("已记录。", "Recorded."),
        "summary": s("{people} 人 · 平均得分 {mean}", "{people} people · mean score {mean}"),
        "signature": s("主管签字：__________　　本人签字：__________", "Manager: __________    Staff member: __________"),
        "mins": s("{n} 分钟", "{n} min"),
        "secs": s("{m} 分 {s} 秒", "{m} min {s} s"),
        "hours": s("{n} 小时", "{n} h"),
        "none": s("—", "—"),
        "gradeName": s("等级名称", "Grade"),
        "minScore": s("最低分", "From score"),
        "ruleMeasure": s("当", "When"),
        "ruleAtLeast": s("达到次数", "reaches"),
        "ruleLevel": s("建议处理", "propose"),
        "remove": s("删除", "Remove"),
        "saved": s("已保存。", "Saved."),
        "pass": s("合格", "Pass"),
        "fail": s("不合格", "Fail"),
        "absentFromSession": s("未参加", "Not there"),
        "session": s("{day} {title} · {hours} 小时 · {trainer} · {n} 人", "{day} {title} · {hours} h · {trainer} · {n} attended"),
        "recorded": s("培训已记录。", "Training recorded."),
        "noAttendees": s("请至少选择一位参加者。", "Choose at least one attendee."),
    });
    v["measures"] = json!({
        "late": s("迟到", "Late"), "early": s("早退", "Left early"), "absent": s("缺勤", "Absent"),
        "long_pause": s("长暂停", "Long pause"), "complaint_upheld": s("有效投诉", "Upheld complaint"),
        "bad_rating": s("差评（1–2 分）", "Bad rating (1–2)"),
        "out_of_order_call": s("不按顺序叫号", "Out-of-order call"),
        "identity_missed": s("未核验身份", "Identity not checked"),
    });
    v["figures"] = json!({
        "served": s("办结业务", "Tickets served"),
        "service_time_ratio": s("办理用时（业务中位数 = 1.00）", "Service time (the service's median = 1.00)"),
        "service_secs_mean": s("平均办理用时", "Mean service time"),
        "rating_mean": s("满意度均分", "Mean rating"),
        "bad_ratings": s("差评（1–2 分）", "Ratings of 1–2"),
        "complaints_upheld": s("有效投诉", "Complaints upheld"),
        "late": s("迟到", "Late"), "early": s("早退", "Left early"), "absent": s("缺勤", "Absent"),
        "leave_days": s("休假（已批准）", "Approved leave"),
        "pause_mins": s("暂停合计", "Paused in all"),
        "long_pauses": s("长暂停", "Long pauses"),
        "identity": s("身份核验（需核验的业务）", "Identity checks (where required)"),
        "out_of_order_calls": s("不按顺序叫号", "Out-of-order calls"),
        "extended": s("延时办理", "Extended cases"),
        "training_hours": s("培训学时", "Training hours"),
    });
    v["error"] = json!({
        "invalid_month": s("请选择月份。", "Choose a month."),
        "invalid_assessment": s("设置有误：", "The settings are not right: "),
        "invalid_training": s("培训信息有误：", "The session is not right: "),
        "invalid_note": s("评语最多 2000 字。", "A note is at most 2000 characters."),
        "already_decided": s("这条建议已经决定过了。", "This was decided already."),
        "not_proposed": s("这条建议已不成立。", "The rule no longer proposes this."),
        "unknown_service": s("没有这个业务。", "There is no such service."),
        "network": s("无法连接服务器。", "Cannot reach the server."),
        "other": s("操作没有成功：", "That did not work: "),
    });
    v
}

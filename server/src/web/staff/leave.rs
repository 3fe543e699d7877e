//! The console's *My shifts & leave* (issue #14): the person's own weekly shift and dated
//! changes (read only), the form to ask for leave, and their leave with its state and the
//! manager's note.
//!
//! It is a dialog opened from the bar (key L), on the window choice as on the console: asking
//! for leave needs no window, and nothing on the console moves for it — the person at the
//! window all day keeps Call next where it always is. The dialog is a shell; `staff.js` fills it
//! from `GET /api/v1/users/{id}/shifts` and `GET /api/v1/leave`, and sends `POST /api/v1/leave`.
//! The branch's notice is read here so the form can say, before and after a refusal, which day
//! is the first one can still ask for.

use maud::{Markup, html};
use serde_json::json;

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::queue::schedule::local_date;
use crate::store::{BranchConfig, Principal, Role};
use crate::web::i18n::{Lang, Words};
use crate::web::json_block;

/// The words for leave and shifts both the console and the manager's page use: kinds, states,
/// weekdays (Monday first) and the locale dates are written in.
pub(crate) fn vocabulary(lang: Lang) -> serde_json::Value {
    let s = |zh: &str, en: &str| lang.s(zh, en).to_owned();
    json!({
        "locale": s("zh-CN", "en-GB"),
        "weekdays": [
            s("周一", "Mon"), s("周二", "Tue"), s("周三", "Wed"), s("周四", "Thu"),
            s("周五", "Fri"), s("周六", "Sat"), s("周日", "Sun"),
        ],
        "kinds": {
            "personal": s("事假", "Personal"),
            "sick": s("病假", "Sick"),
            "annual": s("年假", "Annual leave"),
            "toil": s("调休", "Time off in lieu"),
        },
        "states": {
            "requested": s("待审批", "Waiting for a decision"),
            "approved": s("已批准", "Approved"),
            "declined": s("未批准", "Declined"),
            "withdrawn": s("已撤回", "Withdrawn"),
        },
        "off": s("休息", "Off"),
        "dayOff": s("{day}：休息", "{day}: day off"),
        "dayTimes": s("{day}：{start}–{end}", "{day}: {start}–{end}"),
        "range": s("{from} 至 {to}（{n} 天）", "{from} to {to} ({n} days)"),
        "part": s("{day} {start}–{end}", "{day}, {start}–{end}"),
        "none": "—",
    })
}

/// The dialog and its data, for a person who can take leave (staff and managers); `None` for
/// anyone else (an admin belongs to no branch's roster).
pub(super) async fn dialog(
    state: &AppState,
    lang: Lang,
    who: &Principal,
    cfg: &BranchConfig,
) -> Result<Option<Markup>, ApiError> {
    let Some(user) = who
        .user_id
        .filter(|_| matches!(who.role, Role::Staff | Role::Manager))
    else {
        return Ok(None);
    };
    let notice = state.store.leave_notice_days(who.branch_id).await?;
    let tz = cfg.schedule.tz;
    let data = json!({
        "user": user,
        "notice_days": notice,
        "tz": tz.name(),
        "today": local_date(tz, state.now()).to_string(),
    });
    let weekdays = vocabulary(lang)["weekdays"].clone();
    let weekdays: Vec<String> = serde_json::from_value(weekdays).unwrap_or_default();
    let kinds = [
        ("personal", lang.s("事假", "Personal")),
        ("annual", lang.s("年假", "Annual leave")),
        ("toil", lang.s("调休", "Time off in lieu")),
        ("sick", lang.s("病假", "Sick")),
    ];
    let hhmm = "([01][0-9]|2[0-3]):[0-5][0-9]|24:00";
    let month = local_date(tz, state.now()).format("%Y-%m").to_string();
    Ok(Some(html! {
        dialog #dlg-leave.leave-dialog aria-labelledby="leave-title" {
            div.dialog-head {
                h2 #leave-title { (lang.s("我的排班、请假与考核", "My shifts, leave and assessment")) }
                button #leave-close type="button" { (lang.s("关闭", "Close")) " " kbd { "Esc" } }
            }
            section.my-shift {
                h3 { (lang.s("我的每周排班", "My weekly shift")) }
                table #my-week.my-week {
                    thead { tr { @for d in &weekdays { th scope="col" { (d) } } } }
                    tbody { tr { @for _ in 0..7 { td { "…" } } } }
                }
                p #my-week-none.empty hidden {
                    (lang.s("没有个人排班：按大厅营业时间上班。", "No personal shift: you work the hall's opening hours."))
                }
                ul #my-changes.my-changes {}
            }
            section #my-month.my-month {
                h3 {
                    label { (lang.s("月度考核", "Monthly assessment")) " "
                        input #my-month-pick type="month" value=(month); }
                }
                p #my-score.my-score { "…" }
                ul #my-figures.my-figures {}
                div.leave-columns {
                    div {
                        h4 { (lang.s("处理记录", "Records")) }
                        ul #my-records.my-records {}
                    }
                    div {
                        h4 { (lang.s("培训", "Training")) " " span #my-training-hours {} }
                        ul #my-training.my-training {}
                    }
                }
            }
            div.leave-columns {
                section.my-leave {
                    h3 { (lang.s("我的请假", "My leave")) }
                    table #my-leave-list.leave-list {
                        thead { tr {
                            th scope="col" { (lang.s("请假", "Leave")) }
                            th scope="col" { (lang.s("经理的决定", "The manager's decision")) }
                        } }
                        tbody {}
                    }
                    p #my-leave-none.empty hidden { (lang.s("您还没有请过假。", "You have not asked for leave yet.")) }
                }
                form #leave-form.leave-form {
                    h3 { (lang.s("申请请假", "Ask for leave")) }
                    div.leave-fields {
                        label { (lang.s("第一天", "First day")) input #lv-from type="date" required; }
                        label #lv-to-label { (lang.s("最后一天", "Last day")) input #lv-to type="date" required; }
                        label { (lang.s("类型", "Kind"))
                            select #lv-kind {
                                @for (code, name) in kinds { option value=(code) { (name) } }
                            }
                        }
                    }
                    label.choice { input #lv-part type="checkbox"; (lang.s("只请一天中的部分时间", "Only part of one day")) }
                    div #lv-times.leave-fields hidden {
                        label { (lang.s("从（时:分）", "From (HH:MM)")) input #lv-start type="text" inputmode="numeric" maxlength="5" placeholder="09:00" pattern=(hhmm) autocomplete="off"; }
                        label { (lang.s("到（时:分）", "Until (HH:MM)")) input #lv-end type="text" inputmode="numeric" maxlength="5" placeholder="12:00" pattern=(hhmm) autocomplete="off"; }
                    }
                    label { (lang.s("事由（经理可见）", "Reason (the manager reads it)")) textarea #lv-reason rows="2" maxlength="500" {} }
                    p #lv-hint.hint {}
                    div.buttons { button.primary #lv-send type="submit" { (lang.s("提交申请", "Ask for leave")) } }
                    p #lv-msg.message role="alert" { "\u{a0}" }
                }
            }
        }
        (json_block("leave-data", &data))
        (json_block("leave-strings", &strings(lang)))
        (json_block("month-strings", &month_strings(lang)))
    }))
}

/// The texts the dialog's script shows.
fn strings(lang: Lang) -> serde_json::Value {
    let s = |zh: &str, en: &str| lang.s(zh, en).to_owned();
    let mut v = vocabulary(lang);
    let more = json!({
        "hint": s(
            "事假、年假和调休须至少提前 {n} 天申请，现在最早可请 {date}；病假随时可报，也可事后补报。",
            "Personal, annual leave and time off in lieu need {n} days' notice: the first day you can ask for now is {date}. Sick leave can be reported any time, also afterwards."
        ),
        "asked": s("已提交，等待经理审批。", "Asked for: the manager will decide."),
        "withdraw": s("撤回", "Withdraw"),
        "withdrawn": s("已撤回。", "Withdrawn."),
        "sending": s("正在提交…", "Sending…"),
        "errors": {
            "notice_too_short": s(
                "提前时间不够：除病假外须至少提前 {n} 天申请，现在最早可请 {date}。",
                "Too little notice: leave other than sick leave is asked for at least {n} days ahead. The first day you can ask for now is {date}."
            ),
            "invalid_leave": s(
                "请检查日期：最后一天不能早于第一天，最长一年；只请部分时间时须是同一天，时间为“时:分”且结束晚于开始。",
                "Check the days: the last not before the first, at most a year; part of a day is one day, with HH:MM times ending after they start."
            ),
            "leave_overlaps": s(
                "这些日子里您已有待审批或已批准的请假。",
                "You already have leave asked for or granted on some of those days."
            ),
            "invalid_body": s("请填好日期和类型。", "Fill in the days and the kind."),
            "forbidden": s("只能查看自己的排班和请假。", "You can see only your own shifts and leave."),
            "csrf_failed": s("页面已过期，请刷新。", "The page has expired: reload it."),
            "unauthorized": s("登录已过期，请重新登录。", "Your session has ended: log in again."),
            "network": s("无法连接服务器。", "Cannot reach the server."),
            "other": s("没有成功：", "That did not work: "),
        },
    });
    if let (Some(all), serde_json::Value::Object(more)) = (v.as_object_mut(), more) {
        all.extend(more);
    }
    v
}

/// The texts of the dialog's own month: score, figures, records, training.
fn month_strings(lang: Lang) -> serde_json::Value {
    let s = |zh: &str, en: &str| lang.s(zh, en).to_owned();
    json!({
        "score": s("得分 {score} · 等级 {grade}", "Score {score} · grade {grade}"),
        "figures": {
            "served": s("办结 {n} 件", "{n} served"),
            "late": s("迟到 {n} 次", "{n} late"),
            "early": s("早退 {n} 次", "{n} left early"),
            "absent": s("缺勤 {n} 天", "{n} absent"),
            "complaints_upheld": s("有效投诉 {n} 件", "{n} complaints upheld"),
            "bad_ratings": s("差评 {n} 个", "{n} ratings of 1–2"),
        },
        "note": s("经理评语：{note}", "Manager's note: {note}"),
        "record": s("{period} {level}：{reason}", "{period} {level}: {reason}"),
        "noRecords": s("没有处理记录。", "No records."),
        "hours": s("（共 {n} 小时）", "({n} h in all)"),
        "training": s("{day} {title} · {hours} 小时 · {result}", "{day} {title} · {hours} h · {result}"),
        "results": { "pass": s("合格", "passed"), "fail": s("不合格", "not passed") },
        "noTraining": s("还没有培训记录。", "No training yet."),
    })
}

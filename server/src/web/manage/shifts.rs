//! `/manage/shifts`: shifts and leave (issue #14). First what waits for the manager — the leave
//! asked for, each with a note field and approve / decline — then every person's weekly shift
//! (seven days, a start and an end or off) with their dated changes, editable in place, then
//! the leave already decided, and the branch's notice for leave.
//!
//! A page of its own rather than more of `/manage/attendance`: attendance is read over a range
//! of past days, this is the roster and the requests a manager acts on; the attendance page
//! links here while leave waits. The page is a shell; `manage-shifts.js` fills it from
//! `/api/v1/leave`, `/api/v1/users/{id}/shifts` and `/api/v1/leave/settings`. The people are
//! the branch's active staff and managers (those who can have a roster).

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::html;
use serde_json::json;

use super::Visit;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::queue::schedule::local_date;
use crate::web::i18n::{Lang, Words};
use crate::web::json_block;
use crate::web::staff::leave::vocabulary;

pub const PATH: &str = "/manage/shifts";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(page))
}

/// `GET /manage/shifts`.
async fn page(State(state): State<AppState>, v: Visit) -> Response {
    let lang = v.lang;
    let branch = v.who.branch_id;
    let (people, names, notice) = match (
        state.store.complaint_assignees(branch).await,
        state.store.staff_names(branch).await,
        state.store.leave_notice_days(branch).await,
    ) {
        (Ok(p), Ok(n), Ok(d)) => (p, n, d),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return ApiError::from(e).into_response();
        }
    };
    let tz = v.cfg.schedule.tz;
    let people: Vec<_> = people
        .into_iter()
        .map(|(id, name)| json!({ "id": id, "name": name }))
        .collect();
    let names: serde_json::Map<String, serde_json::Value> = names
        .into_iter()
        .map(|(id, name)| (id.to_string(), name.into()))
        .collect();
    let data = json!({
        "people": people,
        "names": names,
        "tz": tz.name(),
        "today": local_date(tz, state.now()).to_string(),
    });
    let words = vocabulary(lang);
    let weekdays: Vec<String> =
        serde_json::from_value(words["weekdays"].clone()).unwrap_or_default();
    let title = lang.s("排班与请假", "Shifts and leave");
    let hhmm = "([01][0-9]|2[0-3]):[0-5][0-9]|24:00";
    let body = html! {
        div.shifts-page {
            div.people-head {
                h1 { (title) }
                p #summary.summary aria-live="polite" {}
            }
            p #s-msg.message role="status" {}
            section.card #pending-card {
                h2 { (lang.s("待审批的请假", "Leave waiting for a decision")) }
                table #pending.leave-table {
                    thead { tr {
                        th scope="col" { (lang.s("人员", "Person")) }
                        th scope="col" { (lang.s("日期", "Days")) }
                        th scope="col" { (lang.s("类型", "Kind")) }
                        th scope="col" { (lang.s("事由", "Reason")) }
                        th scope="col" { (lang.s("申请于", "Asked on")) }
                        th scope="col" { (lang.s("给申请人的备注", "Note to the person")) }
                        th scope="col" { span.sr { (lang.s("决定", "Decision")) } }
                    } }
                    tbody {}
                }
                p #pending-none.empty hidden { (lang.s("没有待审批的请假。", "No leave is waiting for a decision.")) }
                form #notice-form.inline.notice-form {
                    label.unit {
                        span { (lang.s("除病假外，请假须至少提前", "Leave other than sick leave is asked at least")) }
                        input #notice-days type="number" min="0" max="60" value=(notice) required;
                        span { (lang.s("天", "days ahead")) }
                    }
                    button #notice-save type="submit" { (lang.s("保存", "Save")) }
                }
            }
            section.card #roster-card {
                h2 { (lang.s("每周排班", "Weekly shifts")) }
                p.hint { (lang.s(
                    "有排班的人按自己的班次计算迟到、早退；排班日没有签到即为缺勤（已批准全天请假的除外）。没有排班的人按大厅营业时间计算，不计缺勤。",
                    "A person with a shift is judged against it, and a shift day without a sign-in is absent (unless on approved leave all day). Without a shift: the hall's opening hours, never absent."
                )) }
                table #rosters.rosters {
                    thead { tr {
                        th scope="col" { (lang.s("人员", "Person")) }
                        @for d in &weekdays { th scope="col" { (d) } }
                        th scope="col" { (lang.s("今后的调整", "Changes ahead")) }
                        th scope="col" { span.sr { (lang.s("修改", "Edit")) } }
                    } }
                    tbody {}
                }
                div #editor.shift-editor hidden {
                    h3 #editor-title {}
                    form #weekly-form {
                        table.week-edit {
                            thead { tr {
                                th {}
                                @for d in &weekdays { th scope="col" { (d) } }
                            } }
                            tbody {
                                tr {
                                    th scope="row" { (lang.s("上班", "Works")) }
                                    @for i in 1..=7 { td { input.works type="checkbox" data-day=(i) aria-label=(format!("{} {}", weekdays.get(i - 1).map_or("", String::as_str), lang.s("上班", "works"))); } }
                                }
                                tr {
                                    th scope="row" { (lang.s("开始", "Start")) }
                                    @for i in 1..=7 { td { input.start type="text" inputmode="numeric" maxlength="5" placeholder="09:00" pattern=(hhmm) data-day=(i) autocomplete="off"; } }
                                }
                                tr {
                                    th scope="row" { (lang.s("结束", "End")) }
                                    @for i in 1..=7 { td { input.end type="text" inputmode="numeric" maxlength="5" placeholder="17:00" pattern=(hhmm) data-day=(i) autocomplete="off"; } }
                                }
                            }
                        }
                        div.inline {
                            button.primary #w-save type="submit" { (lang.s("保存每周排班", "Save weekly shift")) }
                            button #w-clear type="button" { (lang.s("取消个人排班（按营业时间）", "No personal shift (the hall's hours)")) }
                            button #w-close type="button" { (lang.s("关闭", "Close")) }
                        }
                        p #w-msg.message role="status" {}
                    }
                    h3 { (lang.s("按日期调整", "Dated changes")) }
                    table #changes.changes {
                        thead { tr {
                            th scope="col" { (lang.s("日期", "Day")) }
                            th scope="col" { (lang.s("当天班次", "That day")) }
                            th scope="col" { span.sr { (lang.s("删除", "Remove")) } }
                        } }
                        tbody {}
                    }
                    p #changes-none.empty hidden { (lang.s("没有按日期的调整：每天按每周排班。", "No dated changes: every day follows the weekly shift.")) }
                    form #change-form.inline {
                        label { (lang.s("日期", "Day")) input #c-day type="date" required; }
                        label.choice { input #c-off type="checkbox"; (lang.s("当天休息", "Day off")) }
                        label { (lang.s("开始", "Start")) input #c-start type="text" inputmode="numeric" maxlength="5" placeholder="09:00" pattern=(hhmm) autocomplete="off"; }
                        label { (lang.s("结束", "End")) input #c-end type="text" inputmode="numeric" maxlength="5" placeholder="17:00" pattern=(hhmm) autocomplete="off"; }
                        button #c-save type="submit" { (lang.s("保存调整", "Save change")) }
                    }
                    p #c-msg.message role="status" {}
                }
            }
            section.card #decided-card {
                h2 { (lang.s("已处理的请假", "Leave decided")) }
                table #decided.leave-table {
                    thead { tr {
                        th scope="col" { (lang.s("人员", "Person")) }
                        th scope="col" { (lang.s("日期", "Days")) }
                        th scope="col" { (lang.s("类型", "Kind")) }
                        th scope="col" { (lang.s("事由", "Reason")) }
                        th scope="col" { (lang.s("结果", "Decision")) }
                        th scope="col" { (lang.s("备注", "Note")) }
                        th scope="col" { (lang.s("处理于", "Decided on")) }
                    } }
                    tbody {}
                }
                p #decided-none.empty hidden { (lang.s("前后一年内没有已处理的请假。", "No leave decided within a year either side of today.")) }
                button #decided-more type="button" hidden {}
            }
        }
        (json_block("shifts-data", &data))
        (json_block("strings", &strings(lang, words)))
    };
    v.respond(PATH, title, Some("manage-shifts.js"), &body)
}

/// The texts the script shows: the shared words of leave and shifts, and this page's own.
fn strings(lang: Lang, mut words: serde_json::Value) -> serde_json::Value {
    let s = |zh: &str, en: &str| lang.s(zh, en).to_owned();
    let own = json!({
        "summary": s("{n} 条请假待审批", "{n} waiting for a decision"),
        "summaryNone": s("没有待审批的请假", "Nothing waiting for a decision"),
        "approve": s("批准", "Approve"),
        "decline": s("不批准", "Decline"),
        "notePlaceholder": s("可不填", "optional"),
        "noteFor": s("给 {name} 的备注", "Note to {name}"),
        "approved": s("已批准 {name} 的请假（{days}）。", "Approved {name}'s leave ({days})."),
        "declined": s("已驳回 {name} 的请假（{days}）。", "Declined {name}'s leave ({days})."),
        "noRoster": s("没有个人排班：按大厅营业时间", "No personal shift: the hall's hours"),
        "edit": s("修改", "Edit"),
        "editing": s("{name} 的排班", "Shifts of {name}"),
        "noChanges": s("—", "—"),
        "remove": s("删除", "Remove"),
        "weeklySaved": s("{name} 的每周排班已保存。", "{name}'s weekly shift saved."),
        "weeklyCleared": s("{name} 没有个人排班了：按大厅营业时间。", "{name} has no personal shift now: the hall's hours."),
        "changeSaved": s("{day} 的调整已保存。", "The change on {day} saved."),
        "changeRemoved": s("{day} 的调整已删除：按每周排班。", "The change on {day} removed: the weekly shift again."),
        "noticeSaved": s("请假提前天数已保存。", "Notice for leave saved."),
        "showAll": s("显示全部 {n} 条", "Show all {n}"),
        "error": {
            "invalid_shift": s(
                "班次时间不对：时间写作“时:分”（如 09:00），结束须晚于开始，最晚 24:00。",
                "Those shift times do not work: write HH:MM (e.g. 09:00), and a shift must end after it starts, by 24:00."
            ),
            "incomplete_day": s("{day}：上班的日子须填开始和结束时间。", "{day}: a working day needs a start and an end."),
            "incomplete_change": s("请填开始和结束时间，或勾选“当天休息”。", "Give a start and an end, or tick Day off."),
            "unknown_user": s("这个人不在本厅的排班名单里。", "That person is not on this branch's roster."),
            "unknown_leave": s("没有这条请假。", "There is no such leave."),
            "leave_decided": s("这条请假已经处理过了（列表已刷新）。", "That leave was decided already (the lists are read again)."),
            "invalid_leave": s("备注最多 500 字。", "A note is at most 500 characters."),
            "invalid_value": s("提前天数为 0 到 60 天。", "The notice is 0 to 60 days."),
            "invalid_body": s("请检查填写的内容。", "Check what was filled in."),
            "invalid_range": s("日期范围不对。", "Those dates do not make a range."),
            "csrf_failed": s("页面已过期，请刷新。", "The page has expired: reload it."),
            "network": s("无法连接服务器。", "Cannot reach the server."),
            "other": s("操作没有成功：", "That did not work: "),
        },
    });
    if let (Some(all), serde_json::Value::Object(own)) = (words.as_object_mut(), own) {
        all.extend(own);
    }
    words
}

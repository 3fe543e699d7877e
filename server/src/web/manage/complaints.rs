//! `/manage/complaints`: the complaints register. Filters over the list (status, overdue,
//! category, days taken), the list itself (contacts masked, overdue ones red), one complaint
//! beside it with its history — assign, add a note, move it forward, show the contact (the
//! viewing is audited) — and the branch's retention period for contacts. The page is a shell;
//! `manage-complaints.js` fills it from `/api/v1/complaints…`.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::html;
use qhall_shared::COMPLAINT_CATEGORIES;
use serde_json::json;

use super::Visit;
use crate::http::AppState;
use crate::web::i18n::{Lang, Words};
use crate::web::json_block;

const PATH: &str = "/manage/complaints";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(page))
}

/// `GET /manage/complaints`.
async fn page(State(state): State<AppState>, v: Visit) -> Response {
    let lang = v.lang;
    let branch = v.who.branch_id;
    let (people, tz) = match (
        state.store.complaint_assignees(branch).await,
        state.store.config(branch).await,
    ) {
        (Ok(p), Ok(cfg)) => (p, cfg.schedule.tz),
        (Err(e), _) | (_, Err(e)) => {
            return crate::http::error::ApiError::from(e).into_response();
        }
    };
    let people: Vec<_> = people
        .into_iter()
        .map(|(id, name)| json!({ "id": id, "name": name }))
        .collect();
    let title = lang.s("投诉登记", "Complaints register");
    let body = html! {
        div.people-head {
            h1 { (title) }
            p #summary.summary aria-live="polite" {}
        }
        form #filters.filters {
            label { (lang.s("状态", "Status"))
                select #f-status name="status" {
                    option value="" { (lang.s("全部", "All")) }
                    option value="open" { (lang.s("待处理", "Open")) }
                    option value="in_progress" { (lang.s("处理中", "In progress")) }
                    option value="resolved" { (lang.s("已办结", "Resolved")) }
                }
            }
            label { (lang.s("类别", "Category"))
                select #f-category name="category" {
                    option value="" { (lang.s("全部", "All")) }
                    @for c in COMPLAINT_CATEGORIES {
                        option value=(c.code) { (c.name(lang)) }
                    }
                }
            }
            label { (lang.s("登记日期从", "Taken from")) input #f-from type="date" name="from"; }
            label { (lang.s("至", "to")) input #f-to type="date" name="to"; }
            label.choice { input #f-overdue type="checkbox" name="overdue"; (lang.s("只看逾期", "Overdue only")) }
            button.primary #f-apply type="submit" { (lang.s("筛选", "Filter")) }
        }
        p #list-msg.message role="alert" {}
        div.complaints-layout {
            section.card.complaints-list {
                table #complaints {
                    thead { tr {
                        th.num { "#" }
                        th { (lang.s("登记时间", "Taken")) }
                        th { (lang.s("类别", "Category")) }
                        th { (lang.s("内容", "Complaint")) }
                        th.wide-only { (lang.s("窗口", "Window")) }
                        th { (lang.s("状态", "Status")) }
                        th.wide-only { (lang.s("负责人", "Assigned")) }
                        th { (lang.s("答复期限", "Due")) }
                        th.wide-only { (lang.s("联系方式", "Contact")) }
                    } }
                    tbody {}
                }
                p #empty.empty hidden { (lang.s("没有符合条件的投诉。", "No complaints match.")) }
            }
            section.card.complaint-detail #detail hidden aria-live="polite" {
                div.detail-head {
                    h2 #d-title {}
                    span #d-status.status {}
                    button.link-button #d-close type="button" aria-label=(lang.s("关闭", "Close")) { "×" }
                }
                dl.facts {
                    dt { (lang.s("登记", "Taken")) } dd #d-taken {}
                    dt { (lang.s("窗口 / 号码", "Window / ticket")) } dd #d-where {}
                    dt { (lang.s("答复期限", "Due")) } dd #d-due {}
                    dt { (lang.s("负责人", "Assigned")) } dd #d-assigned {}
                    dt { (lang.s("联系方式", "Contact")) }
                    dd {
                        span #d-contact {}
                        " "
                        button.small #d-reveal type="button" { (lang.s("查看完整联系方式", "Show full contact")) }
                        small.hint { (lang.s("查看会记入审计日志", "Viewing is recorded in the audit log")) }
                    }
                }
                p #d-description.description {}
                form #assign-form.inline {
                    label { (lang.s("指派给", "Assign to"))
                        select #assign-to {
                            @for p in &people {
                                option value=(p["id"]) { (p["name"].as_str().unwrap_or_default()) }
                            }
                        }
                    }
                    button #assign type="submit" { (lang.s("指派", "Assign")) }
                }
                h3 { (lang.s("处理记录", "History")) }
                ol #d-history.history {}
                form #note-form {
                    label { (lang.s("处理意见", "Note"))
                        textarea #note-text rows="3" maxlength="2000" {}
                    }
                    div.inline {
                        label { (lang.s("状态改为", "Then set status"))
                            select #note-status {
                                option value="" { (lang.s("不变", "Unchanged")) }
                                option value="in_progress" { (lang.s("处理中", "In progress")) }
                                option value="resolved" { (lang.s("已办结", "Resolved")) }
                            }
                        }
                        button.primary #add-note type="submit" { (lang.s("保存", "Save note")) }
                    }
                    div.inline #outcome-row hidden {
                        label { (lang.s("结论", "Outcome"))
                            select #note-outcome {
                                option value="" { (lang.s("不评定", "Not assessed")) }
                                option value="upheld" { (lang.s("属实（计入当事人考核）", "Upheld (counts on the person's assessment)")) }
                                option value="not_upheld" { (lang.s("不属实", "Not upheld")) }
                            }
                        }
                        label { (lang.s("当事人", "Person concerned"))
                            select #note-about {
                                option value="" { (lang.s("办理该号的工作人员", "Who served the ticket")) }
                                @for p in &people {
                                    option value=(p["id"]) { (p["name"].as_str().unwrap_or_default()) }
                                }
                            }
                        }
                    }
                    label.check #called-back-row hidden {
                        input #note-called-back type="checkbox";
                        " " (lang.s("已回电客户（有联系方式的客户反馈，回电后才能办结）", "Called the customer back (feedback with a contact is resolved only after a call back)"))
                    }
                }
                p #d-msg.message role="alert" {}
            }
        }
        section.card.retention {
            form #retention-form.inline {
                label { (lang.s("个人信息保留天数（自办结起，未办结的自受理起）", "Keep personal data, days (from resolution, or from taking if unresolved)"))
                    input #retention-days type="number" min="1" max="3650" required;
                }
                button #retention-save type="submit" { (lang.s("保存", "Save")) }
                span.hint { (lang.s("到期后自动删除联系方式和投诉内容、处理记录的文字；类别、状态和日期保留。", "Then the contact and the texts (description, resolution, notes) are deleted; category, status and dates stay.")) }
            }
            p #retention-msg.message role="status" {}
        }
        (json_block("people", &json!(people)))
        (json_block("strings", &strings(lang, tz.name())))
    };
    v.respond(PATH, title, Some("manage-complaints.js"), &body)
}

/// The texts the script shows.
fn strings(lang: Lang, tz: &str) -> serde_json::Value {
    let s = |zh: &str, en: &str| lang.s(zh, en).to_owned();
    let categories: serde_json::Map<String, serde_json::Value> = COMPLAINT_CATEGORIES
        .iter()
        .map(|c| (c.code.to_owned(), json!(c.name(lang))))
        .collect();
    json!({
        "tz": tz,
        "locale": s("zh-CN", "en-GB"),
        "status": {
            "open": s("待处理", "Open"),
            "in_progress": s("处理中", "In progress"),
            "resolved": s("已办结", "Resolved"),
        },
        "categories": categories,
        "overdue": s("逾期", "Overdue"),
        "summary": s("共 {n} 件，逾期 {overdue} 件", "Shown: {n} · overdue: {overdue}"),
        "none": s("—", "—"),
        "noContact": s("未留联系方式", "none given"),
        "purged": s("已删除或未留", "none (not given or deleted)"),
        "ticket": s("号码 {n}", "ticket {n}"),
        "window": s("{n} 号窗口", "window {n}"),
        "takenBy": s("{at}，{who} 登记", "{at} by {who}"),
        "fromCustomer": s("{at}，客户在手机上提交", "{at}, sent by the customer from their phone"),
        "fromRating": s("{at}，客户评了低分，自动生成", "{at}, opened by the customer's low rating"),
        "about": s("涉及：{who}", "Concerns: {who}"),
        "calledBack": s("已回电：{at}", "Called back: {at}"),
        "kinds": {
            "complaint": s("投诉", "Complaint"),
            "suggestion": s("建议", "Suggestion"),
            "follow_up": s("差评整改", "Low-rating follow-up"),
        },
        "assigned": s("指派给 {who}", "assigned to {who}"),
        "changed": s("{from} → {to}", "{from} → {to}"),
        "noHistory": s("还没有处理记录。", "Nothing done yet."),
        "saved": s("已保存。", "Saved."),
        "outcomes": {
            "upheld": s("结论：属实", "Outcome: upheld"),
            "not_upheld": s("结论：不属实", "Outcome: not upheld"),
        },
        "error": {
            "callback_required": s("客户留了联系方式：请先回电，勾选“已回电客户”后再办结。", "The customer left a contact: call them back, tick \"Called the customer back\", then resolve."),
            "invalid_outcome": s("结论和当事人在办结时填写。", "The outcome and the person concerned are given when resolving."),
            "invalid_transition": s("状态只能往前走：待处理 → 处理中 → 已办结。", "Status only moves forward: open → in progress → resolved."),
            "invalid_note": s("请写处理意见（最多 2000 字）。", "Write a note (up to 2000 characters)."),
            "complaint_resolved": s("已办结的投诉不能再指派。", "A resolved complaint cannot be assigned."),
            "unknown_user": s("这个人不能被指派。", "That person cannot be assigned."),
            "invalid_retention": s("请输入 1 到 3650 天。", "Enter 1 to 3650 days."),
            "invalid_range": s("开始日期不能晚于结束日期。", "The first day must not be after the last."),
            "network": s("无法连接服务器。", "Cannot reach the server."),
            "other": s("操作没有成功：", "That did not work: "),
        },
    })
}

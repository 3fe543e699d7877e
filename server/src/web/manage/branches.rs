//! `/manage/branches`: the cross-branch overview for admins (a manager sees its own branch's
//! line): per branch today's issued, served, service level, 90th-percentile wait, ratings and
//! open complaints, with the CSV of any range (`GET /api/v1/stats/branches.csv`). Server-rendered
//! from the same figures as `GET /api/v1/stats/branches`, so the page and the API never differ.

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::html;

use super::Visit;
use crate::http::AppState;
use crate::http::stats::{Range, overview};
use crate::store::Role;
use crate::web::i18n::Words;

pub const PATH: &str = "/manage/branches";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(page))
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{:.1}%", v * 100.0))
}

fn mins(v: Option<f64>) -> String {
    v.map_or("–".into(), |s| format!("{:.1}", s / 60.0))
}

/// `GET /manage/branches`: today's figures of every branch.
async fn page(axum::extract::State(state): axum::extract::State<AppState>, v: Visit) -> Response {
    let list = match overview(&state, &v.who, &Range::default()).await {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let lang = v.lang;
    let title = lang.s("各分厅概览", "Branches");
    let body = html! {
        div.report-head {
            h1 { (title) }
            a.csv #branches-csv href=(format!("/api/v1/stats/branches.csv?from={}&to={}", list.from, list.to)) download {
                (lang.s("下载 CSV", "Download CSV"))
            }
        }
        p.hint { (lang.s("今天（各分厅当地日期）。其他日期范围请下载 CSV：", "Today (each branch's local date). Other ranges: the CSV takes ")) code { "?from=YYYY-MM-DD&to=YYYY-MM-DD" } }
        section.card {
            div.scroll {
                table #branches {
                    thead { tr {
                        th { (lang.s("分厅", "Branch")) }
                        th.num { (lang.s("取号", "Issued")) }
                        th.num { (lang.s("已办结", "Served")) }
                        th.num { (lang.s("达标率", "Service level")) }
                        th.num { (lang.s("90% 等候（分）", "90th pct wait (min)")) }
                        th.num { (lang.s("评价（均分）", "Ratings (mean)")) }
                        th.num { (lang.s("未结投诉", "Open complaints")) }
                    } }
                    tbody {
                        @for b in &list.branches {
                            tr data-branch=(b.branch) {
                                th {
                                    (b.name.get(lang.code())) " "
                                    a href=(format!("/hall/{}", b.branch)) { (lang.s("公开页", "public page")) }
                                }
                                td.num { (b.figures.issued) }
                                td.num { (b.figures.served) }
                                td.num { (pct(b.figures.service_level)) }
                                td.num { (mins(b.figures.p90_wait_secs)) }
                                td.num {
                                    (b.ratings)
                                    @if let Some(m) = b.mean_rating { " (" (format!("{m:.1}")) ")" }
                                }
                                td.num .warn[b.open_complaints > 0] { (b.open_complaints) }
                            }
                        }
                    }
                    tfoot { tr {
                        th { (lang.s("合计", "All")) }
                        td.num { (list.overall.issued) }
                        td.num { (list.overall.served) }
                        td.num { (pct(list.overall.service_level)) }
                        td.num { (mins(list.overall.p90_wait_secs)) }
                        td {} td {}
                    } }
                }
            }
        }
        @if v.who.role == Role::Admin {
            section.card {
                h2 { (lang.s("新增分厅", "Add a branch")) }
                p.hint { (lang.s(
                    "新分厅先按工作日 09:00–12:00、13:00–17:00 办公，没有业务和窗口；再添加它的经理（人员设置，或 user add --branch），由经理设置。",
                    "A new branch starts with office hours on weekdays and no services or windows; add its manager (people settings, or user add --branch), who sets it up.")) }
                form #branch-new.public-form {
                    label { span { (lang.s("名称（简体）", "Name (zh)")) } input name="name_zh" maxlength="40" required; }
                    label { span { (lang.s("名称（繁体）", "Name (zh-Hant)")) } input name="name_zh_hant" maxlength="40"; }
                    label { span { (lang.s("名称（英文）", "Name (en)")) } input name="name_en" maxlength="40"; }
                    label { span { (lang.s("时区", "Time zone")) } input name="time_zone" value="Asia/Shanghai" required; }
                    button.primary #branch-add type="submit" { (lang.s("新增", "Add")) }
                    p.message role="status" {}
                }
            }
        }
    };
    v.respond(PATH, title, Some("manage-branches.js"), &body)
}

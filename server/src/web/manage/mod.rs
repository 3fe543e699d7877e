//! `/manage/…`: the manager's pages. One shell for all of them ([`shell`]): the bar with the
//! hall's name, the section tabs and the language switch, the session's CSRF token for the
//! pages' scripts, and the shared `manage.js` (login, the JSON helper `Qhall.api`). Managers
//! and admins only; anyone else gets the login form or a plain refusal.
//!
//! # Layout
//! - [`live`]: `/manage`, the hall right now, with alerts.
//! - [`reports`]: `/manage/reports`, tables and charts over a date range, CSV downloads.
//! - [`staffing`]: `/manage/staffing`, the windows needed per hour by Erlang C beside those open.
//! - [`whatif`]: `/manage/whatif`, the hall simulated with other windows and skills.
//! - [`complaints`]: `/manage/complaints`, the complaints register.
//! - [`attendance`]: `/manage/attendance`, sign-ins and pauses per person per day.
//! - [`shifts`]: `/manage/shifts`, leave waiting for a decision, weekly shifts and dated changes.
//! - [`assessment`]: `/manage/assessment`, the month's scorecards (printable), the ladder's
//!   proposals, training.
//! - [`settings`]: `/manage/settings`, the hall's configuration; every change audited.

pub mod assessment;
pub mod attendance;
pub mod branches;
pub mod complaints;
pub mod live;
pub mod reports;
pub mod settings;
pub mod shifts;
pub mod staffing;
pub mod whatif;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::i18n::{self, Lang, Words};
use super::{html_response, lang_param, lang_switch};
use crate::auth::csrf_token;
use crate::http::AppState;
use crate::http::auth::{principal_for, session_cookie};
use crate::store::{Principal, Role};

/// The manager pages are written in Simplified Chinese and English.
pub const MANAGE_LANGS: [Lang; 2] = [Lang::Zh, Lang::En];

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(live::router())
        .merge(reports::router())
        .merge(staffing::router())
        .merge(whatif::router())
        .merge(complaints::router())
        .merge(attendance::router())
        .merge(shifts::router())
        .merge(assessment::router())
        .merge(settings::router())
        .merge(branches::router())
}

/// The manager pages' own assets: (name, content type, bytes), served under `/assets/`.
pub const ASSETS: [(&str, &str, &[u8]); 12] = [
    ("manage.css", CSS, include_bytes!("../assets/manage.css")),
    ("manage.js", JS, include_bytes!("../assets/manage.js")),
    (
        "manage-live.js",
        JS,
        include_bytes!("../assets/manage-live.js"),
    ),
    (
        "manage-reports.js",
        JS,
        include_bytes!("../assets/manage-reports.js"),
    ),
    (
        "manage-staffing.js",
        JS,
        include_bytes!("../assets/manage-staffing.js"),
    ),
    (
        "manage-whatif.js",
        JS,
        include_bytes!("../assets/manage-whatif.js"),
    ),
    (
        "manage-complaints.js",
        JS,
        include_bytes!("../assets/manage-complaints.js"),
    ),
    (
        "manage-attendance.js",
        JS,
        include_bytes!("../assets/manage-attendance.js"),
    ),
    (
        "manage-shifts.js",
        JS,
        include_bytes!("../assets/manage-shifts.js"),
    ),
    (
        "manage-assessment.js",
        JS,
        include_bytes!("../assets/manage-assessment.js"),
    ),
    (
        "manage-settings.js",
        JS,
        include_bytes!("../assets/manage-settings.js"),
    ),
    (
        "manage-branches.js",
        JS,
        include_bytes!("../assets/manage-branches.js"),
    ),
];
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// The sections, in tab order: (path, 简体, English).
const SECTIONS: [(&str, &str, &str); 9] = [
    ("/manage", "实时", "Live"),
    ("/manage/reports", "报表", "Reports"),
    ("/manage/staffing", "排班建议", "Staffing"),
    ("/manage/whatif", "模拟", "What if"),
    ("/manage/complaints", "投诉", "Complaints"),
    ("/manage/attendance", "考勤", "Attendance"),
    (shifts::PATH, "排班与请假", "Shifts & leave"),
    ("/manage/assessment", "考核", "Assessment"),
    ("/manage/settings", "设置", "Settings"),
];

/// Who is asking for a manager page, and in which language.
#[derive(Debug, Clone)]
pub struct Visit {
    pub lang: Lang,
    /// `?lang=` when given (remembered in a cookie by [`Visit::respond`]).
    pub chosen: Option<Lang>,
    pub who: Principal,
    /// The session's CSRF token, for the page's scripts.
    pub csrf: String,
    /// The visitor's branch, read once for the shell and the page.
    pub cfg: std::sync::Arc<crate::store::BranchConfig>,
    /// For an admin, every branch (id, name) for the switcher; empty for a manager.
    pub branches: Vec<(i64, qhall_shared::api::Localized)>,
}

/// A manager page's handler takes the visit as an argument; without a manager's session the
/// page answers with the login form (or a refusal) instead, before the handler runs.
impl axum::extract::FromRequestParts<AppState> for Visit {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Visit, Response> {
        let path = parts.uri.path().to_owned();
        Visit::of(state, &path, parts.uri.query(), &parts.headers).await
    }
}

impl Visit {
    /// The visitor of `path`, or the answer to give instead: the login form without a
    /// manager's session, a refusal for staff.
    pub async fn of(
        state: &AppState,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<Visit, Response> {
        let chosen = lang_param(query).and_then(Lang::parse);
        let lang = match i18n::pick(lang_param(query), headers) {
            Lang::ZhHant => Lang::Zh,
            l => l,
        };
        let session = session_cookie(headers);
        let who = match &session {
            Some(t) => principal_for(state, t)
                .await
                .map_err(IntoResponse::into_response)?,
            None => None,
        };
        match (who, session) {
            (Some(who), Some(session)) if matches!(who.role, Role::Manager | Role::Admin) => {
                let cfg = state
                    .store
                    .config(who.branch_id)
                    .await
                    .map_err(|e| crate::http::error::ApiError::from(e).into_response())?;
                let branches = if who.role == Role::Admin {
                    state
                        .store
                        .branches()
                        .await
                        .map_err(|e| crate::http::error::ApiError::from(e).into_response())?
                        .into_iter()
                        .map(|b| (b.id, b.name))
                        .collect()
                } else {
                    Vec::new()
                };
                Ok(Visit {
                    lang,
                    chosen,
                    who,
                    csrf: csrf_token(&session),
                    cfg,
                    branches,
                })
            }
            (Some(_), Some(_)) => Err(super::message_page(
                lang,
                StatusCode::FORBIDDEN,
                lang.s("无权访问", "Not allowed"),
                lang.s(
                    "这些页面只供值班经理使用。",
                    "These pages are for the hall's managers.",
                ),
            )),
            _ => Err(html_response(StatusCode::OK, login(lang, path), chosen)),
        }
    }

    /// `body` in the manager shell as this page's answer. `path` is the section's tab;
    /// `script` the page's own script (after `manage.js`).
    pub fn respond(
        &self,
        path: &str,
        title: &str,
        script: Option<&str>,
        body: &Markup,
    ) -> Response {
        let hall = self.cfg.name.get(self.lang.code());
        let page = shell(self, hall, path, title, script, body);
        html_response(StatusCode::OK, page, self.chosen)
    }
}

/// The document around a manager page.
fn shell(
    v: &Visit,
    hall: &str,
    path: &str,
    title: &str,
    script: Option<&str>,
    body: &Markup,
) -> Markup {
    let lang = v.lang;
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta name="csrf-token" content=(v.csrf);
                title { (title) " · " (hall) }
                link rel="stylesheet" href="/assets/qhall.css";
                link rel="stylesheet" href="/assets/manage.css";
            }
            body.manage {
                header.bar {
                    span.hall { (hall) " · " (lang.s("经理", "Manager")) }
                    @if v.branches.len() > 1 {
                        label.branch-switch {
                            span { (lang.s("分厅", "Branch")) " " }
                            select #branch-switch aria-label=(lang.s("切换分厅", "Switch branch")) {
                                @for (id, name) in &v.branches {
                                    option value=(id) selected[*id == v.who.branch_id] { (name.get(lang.code())) }
                                }
                            }
                        }
                    }
                    span.who { (v.who.username.as_deref().unwrap_or_default()) }
                    button #logout.link type="button" { (lang.s("退出", "Log out")) }
                    (lang_switch(lang, &MANAGE_LANGS, path))
                }
                nav.tabs aria-label=(lang.s("栏目", "Sections")) {
                    @for (p, zh, en) in SECTIONS.iter().copied().chain(
                        (v.who.role == Role::Admin).then_some((branches::PATH, "各分厅", "Branches")),
                    ) {
                        @if p == path {
                            a.tab.current href=(p) aria-current="page" { (lang.s(zh, en)) }
                        } @else {
                            a.tab href=(p) { (lang.s(zh, en)) }
                        }
                    }
                }
                main.manage-main #main data-lang=(lang.code()) {
                    (body)
                }
                script src="/assets/manage.js" defer {}
                @if let Some(s) = script {
                    script src=(format!("/assets/{s}")) defer {}
                }
            }
        }
    }
}

/// The login form of the manager pages (it reloads the page it was shown on once logged in).
fn login(lang: Lang, path: &str) -> maud::Markup {
    let body = html! {
        header.bar {
            span.hall { "Qhall · " (lang.s("经理", "Manager")) }
            (lang_switch(lang, &MANAGE_LANGS, path))
        }
        main.login {
            form #login-form {
                h1 { (lang.s("经理登录", "Manager log in")) }
                label { (lang.s("用户名", "Username")) input #username name="username" autocomplete="username" required autofocus; }
                label { (lang.s("密码", "Password")) input #password name="password" type="password" autocomplete="current-password" required; }
                button.primary #login-button type="submit" { (lang.s("登录", "Log in")) }
                p #msg.message role="alert" {}
                template #msg-bad_credentials { (lang.s("用户名或密码不对。", "Wrong username or password.")) }
                template #msg-too_many_attempts { (lang.s("失败次数太多，请一分钟后再试。", "Too many failed attempts: wait a minute.")) }
            }
        }
    };
    super::document(
        lang,
        lang.s("经理登录", "Manager log in"),
        "manage",
        Some("manage.js"),
        &body,
    )
}

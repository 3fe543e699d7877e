//! The web pages `qhall-server` serves itself: the staff console, the rating pad at each window
//! and the customer's tracking page. Server-rendered with maud (escaped by construction,
//! checked at compile time); a little vanilla JavaScript per page keeps them live. Every asset
//! is compiled into the binary, so there is no build step and nothing to deploy beside it.
//!
//! No page runs inline script or style: the CSP (`default-src 'self'`) forbids both, and the
//! data a script needs travels in `data-*` attributes or a JSON block it parses.
//!
//! # Layout
//! - [`i18n`]: languages (简体 · 繁體 · English) and the texts that take numbers.
//! - `json`: [`json_block`], the one way a page hands data to its script.
//! - [`staff`]: `/staff`, the console (log in, choose a window, operate it, take complaints).
//! - [`rate`]: `/rate/{window}`, the rating pad facing the customer.
//! - [`track`]: `/t/{id}`, the ticket's tracking page (phone first).
//! - [`hall`]: `/hall`, the hall's public page: hours, exceptions ahead, guides, phone, waits.
//! - [`book`]: `/book`, booking an appointment, and each booking's own page.
//! - [`manage`]: `/manage/…`, the manager's pages.
//! - `assets/`: the stylesheet and the scripts, served under `/assets/`.

pub mod book;
pub mod hall;
pub mod i18n;
mod json;
pub mod manage;
pub mod rate;
pub mod staff;
pub mod track;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};

use crate::http::AppState;
use i18n::Lang;
pub use json::json_block;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff", get(staff::page))
        .route("/rate/{window}", get(rate::page))
        .route("/rate/{branch}/{window}", get(rate::page_in_branch))
        .route("/t/{id}", get(track::page))
        .route("/t/{id}/live", get(track::live))
        .route("/book", get(book::page))
        .route("/book/{code}", get(book::booking))
        .route("/book/{code}/calendar.ics", get(book::calendar))
        .route("/hall", get(hall::first))
        .route("/hall/{branch}", get(hall::page))
        .route("/assets/{name}", get(asset))
        .merge(manage::router())
}

/// The embedded assets: (name, content type, bytes).
const ASSETS: [(&str, &str, &[u8]); 6] = [
    (
        "qhall.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/qhall.css"),
    ),
    (
        "staff.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/staff.js"),
    ),
    (
        "rate.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/rate.js"),
    ),
    (
        "track.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/track.js"),
    ),
    (
        "hall.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/hall.js"),
    ),
    (
        "book.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/book.js"),
    ),
];

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS
        .iter()
        .chain(manage::ASSETS.iter())
        .find(|(n, _, _)| *n == name)
    {
        Some((_, ty, body)) => (
            [
                (header::CONTENT_TYPE, *ty),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            *body,
        )
            .into_response(),
        None => {
            crate::http::error::ApiError::not_found("not_found", "no such asset").into_response()
        }
    }
}

/// A whole page: the document shell around `body`, with the page's script.
pub fn document(
    lang: Lang,
    title: &str,
    class: &str,
    script: Option<&str>,
    body: &Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) }
                link rel="stylesheet" href="/assets/qhall.css";
            }
            body class=(class) {
                (body)
                @if let Some(s) = script {
                    script src=(format!("/assets/{s}")) defer {}
                }
            }
        }
    }
}

/// The language switch: each language named in itself, the current one marked.
pub fn lang_switch(current: Lang, langs: &[Lang], base: &str) -> Markup {
    html! {
        nav.langs aria-label="Language / 语言" {
            @for l in langs {
                @if *l == current {
                    span.lang.current aria-current="true" lang=(l.code()) { (l.own_name()) }
                } @else {
                    a.lang href=(format!("{base}{}lang={}", if base.contains('?') { '&' } else { '?' }, l.code())) lang=(l.code()) { (l.own_name()) }
                }
            }
        }
    }
}

/// An HTML answer that is never cached (pages show live state), remembering the language
/// chosen with `?lang=` in a cookie.
pub fn html_response(status: StatusCode, markup: Markup, chosen: Option<Lang>) -> Response {
    let mut res = (status, markup.into_string()).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(l) = chosen
        && let Ok(v) = HeaderValue::from_str(&format!(
            "qhall_lang={}; Path=/; SameSite=Lax; Max-Age=31536000",
            l.code()
        ))
    {
        h.insert(header::SET_COOKIE, v);
    }
    res
}

/// A plain page saying what went wrong, in the page's language.
pub fn message_page(lang: Lang, status: StatusCode, title: &str, text: &str) -> Response {
    let body = html! {
        main.message {
            h1 { (title) }
            p { (text) }
        }
    };
    html_response(status, document(lang, title, "customer", None, &body), None)
}

/// A customer page's language: `(chosen, shown)` — the one `?lang=` chose (to remember in a
/// cookie), if any, and the one to show ([`i18n::pick`]).
pub fn page_lang(query: Option<&str>, headers: &axum::http::HeaderMap) -> (Option<Lang>, Lang) {
    (
        lang_param(query).and_then(Lang::parse),
        i18n::pick(lang_param(query), headers),
    )
}

/// `?lang=` from a query string.
pub fn lang_param(query: Option<&str>) -> Option<&str> {
    query?.split('&').find_map(|p| p.strip_prefix("lang="))
}

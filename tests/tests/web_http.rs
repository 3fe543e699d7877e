//! The web pages' rules over plain HTTP: CSRF on cookie sessions, security headers, the rating
//! pad's one-rating-for-the-last-ticket rule, and complaints that keep a contact only with
//! consent.

use qhall_tests::{TestApp, pad};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::ConnectOptions;

/// Logs in like the console does; returns the session cookie ("qhall_session=…").
async fn cookie_login(app: &TestApp, user: &str) -> String {
    let r = app
        .post(
            "/api/v1/login",
            None,
            json!({"username": user, "password": "demo"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let set = r
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    set.split(';').next().unwrap().to_owned()
}

/// The CSRF token the console page embeds for this session.
async fn csrf_of(app: &TestApp, cookie: &str) -> String {
    let html = app
        .client
        .get(format!("{}/staff", app.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html
        .find(r#"name="csrf-token" content=""#)
        .expect("the page embeds a CSRF token")
        + r#"name="csrf-token" content=""#.len();
    html[start..start + 64].to_owned()
}

async fn post_with_cookie(
    app: &TestApp,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut r = app
        .client
        .post(format!("{}{path}", app.url))
        .header("cookie", cookie)
        .json(&body);
    if let Some(t) = csrf {
        r = r.header("x-csrf-token", t);
    }
    r.send().await.unwrap()
}

async fn window_state(app: &TestApp, n: u32) -> String {
    let manager = app.login("manager").await;
    let v: Value = app
        .get(&format!("/api/v1/windows/{n}"), Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    v["state"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_cookie_session_changes_nothing_without_its_csrf_token() {
    let app = TestApp::spawn().await;
    let cookie = cookie_login(&app, "staff1").await;

    // No token, a wrong token, another session's token: 403, and the window stays closed.
    let other = csrf_of(&app, &cookie_login(&app, "staff2").await).await;
    for token in [None, Some("0".repeat(64).as_str()), Some(other.as_str())] {
        let r =
            post_with_cookie(&app, "/api/v1/windows/1/sign-in", &cookie, token, json!({})).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "token {token:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "csrf_failed");
        assert_eq!(window_state(&app, 1).await, "closed");
    }
    // Logging out is a change too.
    let r = post_with_cookie(&app, "/api/v1/logout", &cookie, None, json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Reading needs no token; the right token lets the change through.
    let r = app
        .client
        .get(format!("{}/api/v1/windows/1", app.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csrf = csrf_of(&app, &cookie).await;
    let r = post_with_cookie(
        &app,
        "/api/v1/windows/1/sign-in",
        &cookie,
        Some(&csrf),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(window_state(&app, 1).await, "open");

    // Bearer tokens are not cookies: no CSRF token needed.
    let bearer = app.login("staff3").await;
    app.sign_in(3, &bearer).await;
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let t = app.issue("A").await;
    for path in [
        "/staff".to_owned(),
        "/rate/1".to_owned(),
        format!("/t/{}", t.id),
        "/assets/staff.js".to_owned(),
    ] {
        let r = app.get(&path, None).await;
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
    }
    // Pages show live state: never cached.
    let r = app.get("/staff", None).await;
    assert_eq!(r.headers()["cache-control"], "no-store");
    // Unknown tickets, windows and assets are 404s, not errors.
    assert_eq!(
        app.get("/t/not-a-ticket-id-at-all", None).await.status(),
        404
    );
    assert_eq!(app.get("/rate/99", None).await.status(), 404);
    assert_eq!(app.get("/rate/x", None).await.status(), 404);
    assert_eq!(app.get("/assets/nope.js", None).await.status(), 404);
}

/// Calls and completes the next ticket at window `n`; returns its number.
async fn serve_one(app: &TestApp, n: u32, staff: &str) -> String {
    let t = app.call_next(n, staff).await.expect("a ticket to call");
    let r = app.window(n, "complete", staff).await;
    assert_eq!(r.status(), 200);
    t.number.as_str().to_owned()
}

/// Rates at window `n` with that window's demo pad.
async fn rate(app: &TestApp, n: u32, number: &str, score: u8) -> (StatusCode, Value) {
    let r = app
        .post(
            &format!("/api/v1/windows/{n}/rating"),
            Some(&pad(n)),
            json!({"number": number, "score": score}),
        )
        .await;
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn only_the_windows_last_completed_ticket_can_be_rated_and_only_once() {
    let app = TestApp::spawn_sqlite().await;
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;

    // Nothing completed yet: nothing to rate.
    let p: Value = app
        .get("/api/v1/windows/1/rating", Some(&pad(1)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p, json!({"window": 1, "ticket": null}));
    let first = app.issue("A").await;
    let (s, b) = rate(&app, 1, first.number.as_str(), 5).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("nothing_to_rate"))
    );

    app.issue("A").await;
    let a = serve_one(&app, 1, &staff).await;
    let b_number = serve_one(&app, 1, &staff).await;
    let p: Value = app
        .get("/api/v1/windows/1/rating", Some(&pad(1)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        p["ticket"]["number"],
        b_number.as_str(),
        "the pad offers the last one"
    );
    assert!(
        p["ticket"].get("id").is_none(),
        "the pad never learns the ticket's id"
    );

    // Not the last one, not a score, another window: refused, nothing stored.
    let (s, body) = rate(&app, 1, &a, 4).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_last_completed"))
    );
    for bad in [0u8, 6] {
        let (s, body) = rate(&app, 1, &b_number, bad).await;
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_score"))
        );
    }
    let (s, _) = rate(&app, 2, &b_number, 4).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let r = app
        .post(
            "/api/v1/windows/99/rating",
            Some(&pad(1)),
            json!({"number": b_number, "score": 4}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "not the pad's window");

    // Once, then 409.
    let (s, _) = rate(&app, 1, &b_number, 4).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, body) = rate(&app, 1, &b_number, 5).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_rated"))
    );
    let p: Value = app
        .get("/api/v1/windows/1/rating", Some(&pad(1)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        p["ticket"],
        Value::Null,
        "a rated ticket is not offered again"
    );

    let opts: sqlx::sqlite::SqliteConnectOptions = app.database_url.parse().unwrap();
    let mut conn = opts.read_only(true).connect().await.unwrap();
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT score FROM ratings")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows, vec![(4,)]);
}

#[tokio::test]
async fn a_complaint_keeps_a_contact_only_with_consent_and_only_from_the_staff_window() {
    let app = TestApp::spawn_sqlite().await;
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    let t = app.issue("A").await;
    let post = |body: Value| {
        let staff = staff.clone();
        let app = &app;
        async move {
            let r = app.post("/api/v1/complaints", Some(&staff), body).await;
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    let refused = [
        (
            json!({"window": 1, "category": "waiting", "description": "slow", "contact": "138", "consent": false}),
            422,
            "consent_required",
        ),
        (
            json!({"window": 1, "category": "rudeness", "description": "x"}),
            422,
            "invalid_category",
        ),
        (
            json!({"window": 1, "category": "other", "description": "   "}),
            422,
            "invalid_description",
        ),
        (
            json!({"window": 1, "category": "other", "description": "x", "ticket": "Z999"}),
            404,
            "unknown_ticket",
        ),
        (
            json!({"window": 2, "category": "other", "description": "x"}),
            403,
            "not_your_window",
        ),
    ];
    for (body, status, code) in refused {
        let (s, b) = post(body.clone()).await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    let kiosk = app
        .post(
            "/api/v1/complaints",
            Some(qhall_tests::KIOSK),
            json!({"window": 1, "category": "other", "description": "x"}),
        )
        .await;
    assert_eq!(kiosk.status(), 403);

    let (s, b) = post(json!({"window": 1, "category": "attitude", "description": "rude", "ticket": t.number.as_str()})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["status"], "open");
    let (s, _) = post(json!({"window": 1, "category": "process", "description": "call me", "contact": " a@b.cn ", "consent": true})).await;
    assert_eq!(s, StatusCode::CREATED);

    let opts: sqlx::sqlite::SqliteConnectOptions = app.database_url.parse().unwrap();
    let mut conn = opts.read_only(true).connect().await.unwrap();
    let rows: Vec<(String, Option<String>, i64, Option<i64>)> = sqlx::query_as(
        "SELECT category, contact, contact_consent, ticket_key FROM complaints ORDER BY id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "refused complaints stored nothing");
    assert_eq!(rows[0].0, "attitude");
    assert_eq!(rows[0].1, None);
    assert!(rows[0].3.is_some(), "linked to the ticket");
    assert_eq!((rows[1].1.as_deref(), rows[1].2), (Some("a@b.cn"), 1));
}

//! Issue 15, item 6: the rating pad's API answers only the window's own pad. Before, it needed
//! no token, so a passer-by could read which ticket waits for a rating and give it a 1 before
//! the customer did. Each pad is now a device with a token of its own, bound to one window;
//! everyone else is refused, and a refused request changes nothing.

use qhall_tests::{DISPLAY, KIOSK, TestApp, pad};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Window `n` completes a fresh ticket of service A (staff `staffN` signs in, calls, completes);
/// returns its number.
async fn completed_at(app: &TestApp, n: u32) -> String {
    let staff = app.login(&format!("staff{n}")).await;
    app.issue("A").await;
    app.sign_in(n, &staff).await;
    let t = app.call_next(n, &staff).await.expect("a ticket to call");
    let r = app.window(n, "complete", &staff).await;
    assert!(r.status().is_success(), "complete: {}", r.status());
    t.number.as_str().to_owned()
}

async fn prompt(app: &TestApp, n: u32, token: Option<&str>) -> (StatusCode, Value) {
    let r = app.get(&format!("/api/v1/windows/{n}/rating"), token).await;
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn rate(
    app: &TestApp,
    n: u32,
    token: Option<&str>,
    number: &str,
    score: u8,
) -> (StatusCode, Value) {
    let r = app
        .post(
            &format!("/api/v1/windows/{n}/rating"),
            token,
            json!({"number": number, "score": score}),
        )
        .await;
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Today's ratings per score, 1 to 5, as the manager's report counts them.
async fn satisfaction(app: &TestApp, manager: &str) -> Value {
    let r = app.get("/api/v1/reports", Some(manager)).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["overall"]["satisfaction"].clone()
}

#[tokio::test]
async fn only_the_windows_own_pad_may_read_or_give_its_rating_and_a_refused_one_changes_nothing() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let staff = app.login("staff1").await;
    let number = completed_at(&app, 1).await;

    // No token, or a token that is no one's: 401, for reading and for rating.
    for token in [None, Some("not-a-token")] {
        let (s, b) = prompt(&app, 1, token).await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized")),
            "read with {token:?}"
        );
        let (s, _) = rate(&app, 1, token, &number, 1).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "rate with {token:?}");
    }
    // The board, the kiosk, the member of staff being rated, the manager: 403.
    for who in [DISPLAY, KIOSK, staff.as_str(), manager.as_str()] {
        let (s, b) = prompt(&app, 1, Some(who)).await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "read as {who}"
        );
        let (s, _) = rate(&app, 1, Some(who), &number, 1).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "rate as {who}");
    }
    // The pad of the next window: 403 wrong_window.
    let (s, b) = prompt(&app, 1, Some(&pad(2))).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("wrong_window"))
    );
    let (s, b) = rate(&app, 1, Some(&pad(2)), &number, 1).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("wrong_window"))
    );
    // The caller is refused before the body is read: a kiosk's malformed body is still 403.
    let r = app
        .request(Method::POST, "/api/v1/windows/1/rating", Some(KIOSK))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Nothing changed: no rating stored, and the customer's ticket is still offered.
    assert_eq!(satisfaction(&app, &manager).await, json!([0, 0, 0, 0, 0]));
    let (s, b) = prompt(&app, 1, Some(&pad(1))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["ticket"]["number"], json!(number));

    // The window's own pad rates it, once.
    let (s, b) = rate(&app, 1, Some(&pad(1)), &number, 5).await;
    assert_eq!(
        (s, &b),
        (StatusCode::CREATED, &json!({"number": number, "score": 5}))
    );
    let (s, b) = rate(&app, 1, Some(&pad(1)), &number, 1).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_rated"))
    );
    assert_eq!(satisfaction(&app, &manager).await, json!([0, 0, 0, 0, 1]));
    let (s, b) = prompt(&app, 1, Some(&pad(1))).await;
    assert_eq!((s, &b["ticket"]), (StatusCode::OK, &Value::Null));
}

#[tokio::test]
async fn a_pad_reads_only_its_own_windows_completions() {
    let app = TestApp::spawn().await;
    let at_two = completed_at(&app, 2).await;
    // Window 1's pad sees nothing of window 2, and window 2's pad sees its own ticket.
    let (s, _) = prompt(&app, 2, Some(&pad(1))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, b) = prompt(&app, 1, Some(&pad(1))).await;
    assert_eq!((s, &b["ticket"]), (StatusCode::OK, &Value::Null));
    let (s, b) = prompt(&app, 2, Some(&pad(2))).await;
    assert_eq!(
        (s, &b["ticket"]["number"]),
        (StatusCode::OK, &json!(at_two))
    );
    // A window that is not the pad's is refused, whether the hall has it or not.
    let (s, _) = prompt(&app, 99, Some(&pad(2))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_pad_token_opens_no_other_route() {
    let app = TestApp::spawn().await;
    let token = pad(1);
    for (method, path, body) in [
        (Method::GET, "/api/v1/services", None),
        (Method::GET, "/api/v1/hall", None),
        (
            Method::POST,
            "/api/v1/tickets",
            Some(json!({"service": "A"})),
        ),
        (Method::GET, "/api/v1/windows/1/waiting", None),
        (Method::POST, "/api/v1/windows/1/call-next", Some(json!({}))),
        (Method::GET, "/api/v1/devices", None),
        (Method::GET, "/api/v1/stats", None),
    ] {
        let mut req = app.request(method.clone(), path, Some(&token));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let s = req.send().await.unwrap().status();
        assert_eq!(s, StatusCode::FORBIDDEN, "{method} {path}");
    }
    // Nor the event stream (the pad asks the rating API; it needs no stream).
    let r = app
        .client
        .get(format!("{}/api/v1/events", app.url))
        .bearer_auth(&token)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_manager_creates_a_pad_for_one_window_whose_token_comes_once_with_a_pairing_link() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let number = completed_at(&app, 3).await;

    // A pad needs an existing window; kiosks and boards take none.
    for (body, status, code) in [
        (
            json!({"name": "pad", "role": "pad"}),
            422,
            "window_required",
        ),
        (
            json!({"name": "pad", "role": "pad", "window": 99}),
            404,
            "unknown_window",
        ),
        (
            json!({"name": "kiosk", "role": "kiosk", "window": 1}),
            422,
            "window_not_allowed",
        ),
    ] {
        let r = app
            .post("/api/v1/devices", Some(&manager), body.clone())
            .await;
        assert_eq!(r.status().as_u16(), status, "{body}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"]["code"], json!(code), "{body}");
    }
    let r = app
        .post(
            "/api/v1/devices",
            Some(&manager),
            json!({"name": "Window 3 tablet", "role": "pad", "window": 3}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let b: Value = r.json().await.unwrap();
    let token = b["token"].as_str().unwrap().to_owned();
    assert_eq!((&b["role"], &b["window"]), (&json!("pad"), &json!(3)));
    assert_eq!(
        b["pairing_url"],
        json!(format!("{}/rate/3#pad={token}", app.url)),
        "the token travels in the fragment, which no request line carries"
    );

    // Listed with its window, never with its token.
    let list = app
        .get("/api/v1/devices", Some(&manager))
        .await
        .text()
        .await
        .unwrap();
    assert!(!list.contains(&token));
    let list: Value = serde_json::from_str(&list).unwrap();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Window 3 tablet")
        .expect("listed");
    assert_eq!((&row["role"], &row["window"]), (&json!("pad"), &json!(3)));

    // It rates window 3 and nothing else.
    let (s, _) = prompt(&app, 1, Some(&token)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, b) = prompt(&app, 3, Some(&token)).await;
    assert_eq!(
        (s, &b["ticket"]["number"]),
        (StatusCode::OK, &json!(number))
    );

    // Revoked: its token stops working at once.
    let id = row["id"].as_i64().unwrap();
    let r = app
        .request(
            Method::DELETE,
            &format!("/api/v1/devices/{id}"),
            Some(&manager),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (s, _) = rate(&app, 3, Some(&token), &number, 1).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_command_line_adds_a_pad_only_with_an_existing_window() {
    use qhall_server::config::DeviceCommand;
    let app = TestApp::spawn().await;
    let config = qhall_server::Config {
        database_url: app.database_url.clone(),
        ..Default::default()
    };
    let add = |name: &str, role: &str, window: Option<u32>| DeviceCommand::Add {
        name: name.into(),
        role: role.into(),
        branch: 1,
        window,
    };
    for (cmd, says) in [
        (add("p", "pad", None), "--window"),
        (add("p", "pad", Some(99)), "no window 99"),
        (add("k", "kiosk", Some(1)), "only a rating pad"),
    ] {
        let e = qhall_server::admin::device(&config, cmd)
            .await
            .expect_err("refused");
        assert!(e.to_string().contains(says), "{e}");
    }
    qhall_server::admin::device(&config, add("Door tablet", "pad", Some(2)))
        .await
        .expect("added");
    let manager = app.login("manager").await;
    let list: Value = app
        .get("/api/v1/devices", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Door tablet")
        .expect("listed");
    assert_eq!((&row["role"], &row["window"]), (&json!("pad"), &json!(2)));
}

#[tokio::test]
async fn the_pad_page_is_public_carries_no_token_and_says_when_it_is_not_paired() {
    let app = TestApp::spawn().await;
    let r = app.get("/rate/1?lang=en", None).await;
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"));
    let html = r.text().await.unwrap();
    assert!(html.contains("This pad is not paired"), "{html}");
    assert!(!html.contains("demo-pad"), "no token in the page");
    assert!(!html.contains("<script>"), "no inline script");
}

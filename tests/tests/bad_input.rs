//! Bad input gets a clear JSON error and changes nothing: never a 500, never a lost or
//! duplicated ticket.

use qhall_tests::{KIOSK, TestApp};
use serde_json::{Value, json};

/// Everything a board or a manager could see: the snapshot (minus its seq) and today's stats.
async fn state_of(app: &TestApp, manager: &str) -> (Value, Value, Value) {
    let mut board = app.display(None).await;
    let mut snap = board
        .next(std::time::Duration::from_secs(10))
        .await
        .unwrap();
    let seq = snap["seq"].take();
    let stats: Value = app
        .get("/api/v1/stats", Some(manager))
        .await
        .json()
        .await
        .unwrap();
    (snap, seq, stats)
}

async fn expect_error(r: reqwest::Response, statuses: &[u16], what: &str) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert!(
        statuses.contains(&status),
        "{what}: status {status}, body {body}"
    );
    assert!(
        body["error"]["code"].is_string() && body["error"]["message"].is_string(),
        "{what}: not a JSON error: {body}"
    );
}

#[tokio::test]
async fn malformed_oversized_and_unknown_input_is_refused_without_any_change() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    app.issue("A").await;
    let before = state_of(&app, &manager).await;

    let post_raw = |path: &str, body: &'static str, ct: &'static str, token: &str| {
        app.request(reqwest::Method::POST, path, Some(token))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    expect_error(
        post_raw(
            "/api/v1/tickets",
            "{\"service\":",
            "application/json",
            KIOSK,
        )
        .await
        .unwrap(),
        &[400],
        "truncated JSON",
    )
    .await;
    expect_error(
        post_raw("/api/v1/tickets", "[1,2]", "application/json", KIOSK)
            .await
            .unwrap(),
        &[400, 422],
        "wrong shape",
    )
    .await;
    expect_error(
        post_raw(
            "/api/v1/tickets",
            "{\"service\":7}",
            "application/json",
            KIOSK,
        )
        .await
        .unwrap(),
        &[400, 422],
        "wrong type",
    )
    .await;
    expect_error(
        post_raw(
            "/api/v1/tickets",
            "service=A",
            "application/x-www-form-urlencoded",
            KIOSK,
        )
        .await
        .unwrap(),
        &[400, 415],
        "not JSON",
    )
    .await;
    let huge = format!("{{\"service\":\"A\",\"pad\":\"{}\"}}", "x".repeat(200_000));
    let r = app
        .request(reqwest::Method::POST, "/api/v1/tickets", Some(KIOSK))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    expect_error(r, &[413], "oversized body").await;
    for svc in ["ZZ", "Z", "", "a", "A\u{0}"] {
        let r = app
            .post("/api/v1/tickets", Some(KIOSK), json!({"service": svc}))
            .await;
        expect_error(r, &[400, 404, 422], &format!("service {svc:?}")).await;
    }
    let r = app
        .request(reqwest::Method::POST, "/api/v1/tickets", Some(KIOSK))
        .header("Idempotency-Key", "")
        .json(&json!({"service": "A"}))
        .send()
        .await
        .unwrap();
    expect_error(r, &[400], "empty idempotency key").await;

    // Windows that do not exist, actions in the wrong state, bodies that make no sense.
    for n in ["0", "99", "-1", "abc", "1.5", "99999999999"] {
        let r = app.window_raw(n, "call-next", &staff).await;
        expect_error(r, &[404], &format!("window {n}")).await;
    }
    for action in ["recall", "start", "complete", "no-show"] {
        expect_error(
            app.window(1, action, &staff).await,
            &[409],
            &format!("{action} with no ticket"),
        )
        .await;
    }
    expect_error(
        app.post(
            "/api/v1/windows/1/pause",
            Some(&staff),
            json!({"reason": "  "}),
        )
        .await,
        &[422],
        "blank pause reason",
    )
    .await;
    expect_error(
        app.post("/api/v1/windows/1/pause", Some(&staff), json!({}))
            .await,
        &[400, 422],
        "no pause reason",
    )
    .await;
    expect_error(
        app.window(1, "resume", &staff).await,
        &[409],
        "resume an open window",
    )
    .await;
    expect_error(
        app.post(
            "/api/v1/windows/1/transfer",
            Some(&staff),
            json!({"service": "B", "window": 2}),
        )
        .await,
        &[409, 422],
        "two transfer targets",
    )
    .await;
    expect_error(
        app.post(
            "/api/v1/windows/1/call",
            Some(&staff),
            json!({"number": "A999"}),
        )
        .await,
        &[404],
        "unknown number",
    )
    .await;
    expect_error(
        app.post(
            "/api/v1/windows/1/call",
            Some(&staff),
            json!({"number": "nonsense"}),
        )
        .await,
        &[422],
        "malformed number",
    )
    .await;
    expect_error(
        app.post("/api/v1/windows/2/sign-in", Some(&staff), json!({}))
            .await,
        &[409],
        "signed in elsewhere",
    )
    .await;
    expect_error(
        app.get("/api/v1/tickets/short", None).await,
        &[404],
        "unknown ticket id",
    )
    .await;
    expect_error(
        app.get("/api/v1/tickets/AAAAAAAAAAAAAAAAAAAAAA", None)
            .await,
        &[404],
        "unknown ticket id",
    )
    .await;
    expect_error(
        app.get("/api/v1/stats?from=2026-13-01", Some(&manager))
            .await,
        &[400],
        "bad date",
    )
    .await;
    expect_error(
        app.get(
            "/api/v1/stats?from=2026-02-02&to=2026-02-01",
            Some(&manager),
        )
        .await,
        &[422],
        "reversed range",
    )
    .await;
    let r = app.post("/api/v1/staffing/erlang-c", Some(&manager), json!({"arrivals_per_hour": -1, "mean_service_secs": 360, "target_wait_secs": 900, "goal": 0.8})).await;
    expect_error(r, &[422], "negative arrivals").await;
    expect_error(
        app.get("/api/v1/nothing-here", None).await,
        &[404],
        "unknown route",
    )
    .await;
    expect_error(
        app.request(reqwest::Method::DELETE, "/api/v1/tickets", Some(KIOSK))
            .send()
            .await
            .unwrap(),
        &[405],
        "wrong method",
    )
    .await;
    expect_error(
        app.post("/api/v1/login", None, json!({"username": "manager"}))
            .await,
        &[422],
        "login without password",
    )
    .await;

    let after = state_of(&app, &manager).await;
    assert_eq!(before.0, after.0, "the board's state changed");
    assert_eq!(before.1, after.1, "events were emitted");
    assert_eq!(before.2["issued"], after.2["issued"], "tickets were issued");
}

#[tokio::test]
async fn a_ticket_acted_on_twice_is_a_conflict_and_stays_as_it_was() {
    let app = TestApp::spawn().await;
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    let t = app.issue("A").await;
    app.call_next(1, &staff).await.unwrap();
    expect_error(
        app.window(1, "call-next", &staff).await,
        &[409],
        "call-next while serving",
    )
    .await;
    assert!(
        app.window(1, "complete", &staff)
            .await
            .status()
            .is_success()
    );
    expect_error(
        app.window(1, "complete", &staff).await,
        &[409],
        "complete twice",
    )
    .await;
    expect_error(
        app.window(1, "no-show", &staff).await,
        &[409],
        "no-show after complete",
    )
    .await;
    let v: Value = app
        .get(&format!("/api/v1/tickets/{}", t.id), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "done");
    let r = app
        .post(&format!("/api/v1/tickets/{}/cancel", t.id), None, json!({}))
        .await;
    expect_error(r, &[409], "cancel a served ticket").await;
}

/// PostgreSQL cannot store the NUL character in text (SQLite can): a body or an address with it
/// is refused on both databases alike, from any caller, before anything is read or changed —
/// never the 500 PostgreSQL's refusal used to become (schemathesis found it on a login).
#[tokio::test]
async fn the_nul_character_is_refused_alike_on_both_databases_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let before = state_of(&app, &manager).await;

    // From no one, from a manager, from a kiosk.
    let refused = [
        (
            reqwest::Method::POST,
            "/api/v1/login",
            None,
            json!({"username": "man\u{0}ager", "password": "demo"}),
        ),
        (
            reqwest::Method::PUT,
            "/api/v1/emergency",
            Some(manager.as_str()),
            json!({"message": "Fire\u{0} drill"}),
        ),
        (
            reqwest::Method::POST,
            "/api/v1/tickets",
            Some(KIOSK),
            json!({"service": "A\u{0}"}),
        ),
    ];
    for (method, path, token, send) in refused {
        let (status, body) = app.send_json(method, path, token, send).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (422, &json!("invalid_body")),
            "{path}: {body}"
        );
    }
    for path in [
        "/api/v1/tickets/A%00",
        "/api/v1/appointments/A%00",
        "/api/v1/stats?day=2026-01-01%00",
    ] {
        expect_error(
            app.request(reqwest::Method::GET, path, Some(&manager))
                .send()
                .await
                .unwrap(),
            &[400],
            path,
        )
        .await;
    }
    assert_eq!(state_of(&app, &manager).await, before, "nothing changed");

    // A backslash before `u0000` that is itself escaped is text like any other.
    let message = r"C:\u0000 is a path, not a NUL";
    let (status, body) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/emergency",
            Some(&manager),
            json!({ "message": message }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let hall: Value = app
        .get("/api/v1/hall", Some(KIOSK))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hall["emergency"], message);
}

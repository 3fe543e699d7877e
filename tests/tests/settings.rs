//! Managers configure the hall through the API: each kind of change works, is in the audit log
//! (before → after, never a password or token), bumps the configuration version so
//! `/api/v1/services` and `/api/v1/hall` show it at once, and reaches boards on the stream. Bad
//! input is refused with a code and changes nothing; staff may not configure.
//! Runs on SQLite, or PostgreSQL with `QHALL_TEST_BACKEND=postgres`.

use std::time::Duration;

use qhall_tests::{DISPLAY, KIOSK, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(5);

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = app.request(method, path, Some(token));
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn settings(app: &TestApp, token: &str) -> Value {
    let (s, v) = call(app, Method::GET, "/api/v1/config", token, None).await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn audit(app: &TestApp, token: &str) -> Vec<Value> {
    let (s, v) = call(app, Method::GET, "/api/v1/audit", token, None).await;
    assert_eq!(s, 200, "{v}");
    v.as_array().unwrap().clone()
}

async fn public_service(app: &TestApp, code: &str) -> Option<Value> {
    let v: Value = app
        .get("/api/v1/services", Some(KIOSK))
        .await
        .json()
        .await
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == code)
        .cloned()
}

/// A request the API must refuse: what it tries, the method, the path and the body, then the
/// status and the error code it must answer.
type Refusal<'a> = (&'a str, Method, &'a str, Option<Value>, u16, &'a str);

/// Sends each request as `caller` and expects its status and error code, and that it changed
/// nothing: the configuration `manager` reads is the same and the audit log did not grow. A
/// failure names the request's row.
async fn all_refused(app: &TestApp, manager: &str, caller: &str, refusals: &[Refusal<'_>]) {
    for (what, method, path, body, status, code) in refusals {
        let before = settings(app, manager).await;
        let audited = audit(app, manager).await.len();
        let (s, v) = call(app, method.clone(), path, caller, body.clone()).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (*status, Some(*code)),
            "{what} ({method} {path}): {v}"
        );
        assert_eq!(
            settings(app, manager).await,
            before,
            "{what} ({method} {path}) changed nothing"
        );
        assert_eq!(
            audit(app, manager).await.len(),
            audited,
            "{what} ({method} {path}) audited nothing"
        );
    }
}

#[tokio::test]
async fn a_service_change_is_audited_seen_at_once_and_announced() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let mut board = app.display(None).await;
    board.wait_for("snapshot", WAIT).await.unwrap();
    let v0 = settings(&app, &manager).await["version"].as_i64().unwrap();

    let (s, v) = call(
        &app,
        Method::PUT,
        "/api/v1/config/services/A",
        &manager,
        Some(json!({"target_wait_secs": 600, "name": {"en": "General counter"}, "priority_allowed": false})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["target_wait_secs"], 600);
    assert_eq!(v["name"]["zh"], "综合业务", "names left out are kept");

    // Kiosks see it at once, and boards are told to refetch.
    let a = public_service(&app, "A").await.unwrap();
    assert_eq!(
        (a["target_wait_secs"].as_u64(), a["name"]["en"].as_str()),
        (Some(600), Some("General counter"))
    );
    assert_eq!(a["priority_allowed"], false);
    board.wait_for("services", WAIT).await.unwrap();
    assert!(settings(&app, &manager).await["version"].as_i64().unwrap() > v0);

    // The audit log says who changed what: only the changed fields, before → after.
    let log = audit(&app, &manager).await;
    let e = &log[0];
    assert_eq!(
        (e["action"].as_str(), e["user"].as_str()),
        (Some("service.update"), Some("manager"))
    );
    assert_eq!(e["detail"]["service"], "A");
    assert_eq!(e["detail"]["before"]["target_wait_secs"], 900);
    assert_eq!(e["detail"]["after"]["target_wait_secs"], 600);
    assert!(
        e["detail"]["after"].get("first_number").is_none(),
        "unchanged fields are left out: {e}"
    );

    // Disabled: kiosks show it closed.
    let (s, _) = call(
        &app,
        Method::PUT,
        "/api/v1/config/services/D",
        &manager,
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        public_service(&app, "D").await.unwrap()["closed_reason"],
        "disabled"
    );
    let r = app
        .post("/api/v1/tickets", Some(KIOSK), json!({"service": "D"}))
        .await;
    assert_eq!(r.status(), 409);
}

#[tokio::test]
async fn bad_service_and_window_changes_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let service_a = "/api/v1/config/services/A";
    let window_1 = "/api/v1/config/windows/1";
    all_refused(
        &app,
        &manager,
        &manager,
        &[
            (
                "a number range that ends before it starts",
                Method::PUT,
                service_a,
                Some(json!({"first_number": 500, "last_number": 100})),
                422,
                "invalid_range",
            ),
            (
                "a target wait of zero",
                Method::PUT,
                service_a,
                Some(json!({"target_wait_secs": 0})),
                422,
                "invalid_target",
            ),
            (
                "an empty Chinese name",
                Method::PUT,
                service_a,
                Some(json!({"name": {"zh": ""}})),
                422,
                "invalid_text",
            ),
            (
                "a service that does not exist",
                Method::PUT,
                "/api/v1/config/services/Z",
                Some(json!({"target_wait_secs": 600})),
                404,
                "unknown_service",
            ),
            (
                "an identity check on a service that does not exist",
                Method::PUT,
                "/api/v1/config/services/Z",
                Some(json!({"identity_check": "required"})),
                404,
                "unknown_service",
            ),
            (
                "an identity check that is none of off, optional, required",
                Method::PUT,
                service_a,
                Some(json!({"identity_check": "sometimes"})),
                422,
                "invalid_body",
            ),
            (
                "a field services do not have",
                Method::PUT,
                service_a,
                Some(json!({"target": 5})),
                422,
                "invalid_body",
            ),
            (
                "a new service with a two-letter code",
                Method::POST,
                "/api/v1/config/services",
                Some(json!({"code": "AB", "name": {"zh": "两个"}})),
                422,
                "invalid_code",
            ),
            (
                "a new service with a lower-case code",
                Method::POST,
                "/api/v1/config/services",
                Some(json!({"code": "a", "name": {"zh": "小写"}})),
                422,
                "invalid_code",
            ),
            (
                "a new service with a code already taken",
                Method::POST,
                "/api/v1/config/services",
                Some(json!({"code": "A", "name": {"zh": "重复"}})),
                409,
                "service_exists",
            ),
            (
                "a window serving a service that does not exist",
                Method::PUT,
                window_1,
                Some(json!({"serves": [{"service": "Q"}]})),
                422,
                "unknown_service",
            ),
            (
                "a window serving one service twice",
                Method::PUT,
                window_1,
                Some(json!({"serves": [{"service": "A"}, {"service": "A"}]})),
                422,
                "duplicate_service",
            ),
            (
                "a window giving a service no weight",
                Method::PUT,
                window_1,
                Some(json!({"serves": [{"service": "A", "weight": 0}]})),
                422,
                "invalid_weight",
            ),
            (
                "a window that does not exist",
                Method::PUT,
                "/api/v1/config/windows/77",
                Some(json!({"name": "x"})),
                404,
                "unknown_window",
            ),
            (
                "a new window with a number already taken",
                Method::POST,
                "/api/v1/config/windows",
                Some(json!({"number": 1})),
                409,
                "window_exists",
            ),
            (
                "a new window numbered zero",
                Method::POST,
                "/api/v1/config/windows",
                Some(json!({"number": 0})),
                422,
                "invalid_window",
            ),
        ],
    )
    .await;

    // Staff may read the services but not change them.
    let staff = app.login("staff1").await;
    let week = json!([[], [], [], [], [], [], []]);
    all_refused(
        &app,
        &manager,
        &staff,
        &[
            (
                "staff changing a service",
                Method::PUT,
                service_a,
                Some(json!({"target_wait_secs": 600})),
                403,
                "forbidden",
            ),
            (
                "staff reading the configuration",
                Method::GET,
                "/api/v1/config",
                None,
                403,
                "forbidden",
            ),
            (
                "staff changing the hours",
                Method::PUT,
                "/api/v1/config/hours",
                Some(json!({"time_zone": "UTC", "weekly": week, "cutoff_mins": 0})),
                403,
                "forbidden",
            ),
        ],
    )
    .await;
    assert_eq!(
        public_service(&app, "A").await.unwrap()["target_wait_secs"],
        900
    );
}

#[tokio::test]
async fn a_new_service_is_served_by_a_new_window_and_deleted_only_when_no_ticket_is_live() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let (s, v) = call(
        &app,
        Method::POST,
        "/api/v1/config/services",
        &manager,
        Some(json!({"code": "E", "name": {"zh": "公积金", "en": "Housing fund"}, "target_wait_secs": 1200, "first_number": 100, "last_number": 499})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let e = public_service(&app, "E").await.expect("new service listed");
    assert_eq!(e["open"], true);

    let (s, v) = call(
        &app,
        Method::POST,
        "/api/v1/config/windows",
        &manager,
        Some(json!({"number": 5, "name": "5号窗口", "serves": [{"service": "E", "weight": 2.0}, {"service": "A"}]})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let w = settings(&app, &manager).await["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["number"] == 5)
        .cloned()
        .unwrap();
    assert_eq!(
        w["serves"],
        json!([{"service": "E", "weight": 2.0}, {"service": "A", "weight": 1.0}])
    );

    // A ticket of E is numbered in E's range and called at the new window.
    let t = app.issue("E").await;
    assert_eq!(t.number.to_string(), "E100");
    let staff = app.login("staff1").await;
    app.sign_in(5, &staff).await;

    // Live ticket: the service cannot go.
    let (s, v) = call(
        &app,
        Method::DELETE,
        "/api/v1/config/services/E",
        &manager,
        None,
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("service_in_use"))
    );
    let called = app.call_next(5, &staff).await.unwrap();
    assert_eq!(called.number.to_string(), "E100");
    assert_eq!(app.window(5, "start", &staff).await.status(), 200);
    assert_eq!(app.window(5, "complete", &staff).await.status(), 200);

    let (s, _) = call(
        &app,
        Method::DELETE,
        "/api/v1/config/services/E",
        &manager,
        None,
    )
    .await;
    assert_eq!(s, 204);
    assert!(public_service(&app, "E").await.is_none());
    let w = settings(&app, &manager).await["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["number"] == 5)
        .cloned()
        .unwrap();
    assert_eq!(
        w["serves"],
        json!([{"service": "A", "weight": 1.0}]),
        "the window no longer serves it"
    );
    let actions: Vec<String> = audit(&app, &manager)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions[..3],
        ["service.delete", "window.create", "service.create"]
    );
}

#[tokio::test]
async fn hours_and_exceptions_change_when_the_hall_is_open() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let mut board = app.display(None).await;
    board.wait_for("snapshot", WAIT).await.unwrap();
    let v0 = settings(&app, &manager).await["version"].as_i64().unwrap();
    let day = json!([["08:00", "12:00"], ["13:00", "17:30"]]);
    let (s, v) = call(
        &app,
        Method::PUT,
        "/api/v1/config/hours",
        &manager,
        Some(json!({"time_zone": "Asia/Shanghai", "weekly": [day, day, day, day, day, [["09:00", "12:00"]], []], "cutoff_mins": 15})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["weekly"][0], day);
    board.wait_for("services", WAIT).await.unwrap();
    let now = settings(&app, &manager).await;
    assert!(
        now["version"].as_i64().unwrap() > v0,
        "the configuration version moved"
    );
    let hours = &now["hours"];
    assert_eq!(hours["cutoff_mins"], 15);
    assert_eq!(hours["weekly"][6], json!([]));
    let e = &audit(&app, &manager).await[0];
    assert_eq!(e["action"], "hours.update");
    assert_eq!(e["detail"]["after"]["cutoff_mins"], 15);
    assert_eq!(e["detail"]["before"]["cutoff_mins"], 0);

    let hours_body = |weekly: Value, tz: &str| {
        Some(json!({"time_zone": tz, "weekly": weekly, "cutoff_mins": 0}))
    };
    let week = |d: Value| json!([d, [], [], [], [], [], []]);
    all_refused(
        &app,
        &manager,
        &manager,
        &[
            (
                "a grace after closing of five hours",
                Method::PUT,
                "/api/v1/config/hours",
                Some(json!({"time_zone": "Asia/Shanghai", "weekly": week(json!([["08:00", "12:00"]])), "cutoff_mins": 0, "closing_grace_mins": 300})),
                422,
                "invalid_grace",
            ),
            (
                "a time zone that does not exist",
                Method::PUT,
                "/api/v1/config/hours",
                hours_body(week(json!([["08:00", "12:00"]])), "Mars/Olympus"),
                422,
                "unknown_time_zone",
            ),
            (
                "periods that overlap",
                Method::PUT,
                "/api/v1/config/hours",
                hours_body(
                    week(json!([["08:00", "12:00"], ["11:00", "17:00"]])),
                    "Asia/Shanghai",
                ),
                422,
                "invalid_period",
            ),
            (
                "periods out of order",
                Method::PUT,
                "/api/v1/config/hours",
                hours_body(
                    week(json!([["13:00", "17:00"], ["08:00", "12:00"]])),
                    "Asia/Shanghai",
                ),
                422,
                "invalid_period",
            ),
            (
                "a period that ends before it starts",
                Method::PUT,
                "/api/v1/config/hours",
                hours_body(week(json!([["17:00", "08:00"]])), "Asia/Shanghai"),
                422,
                "invalid_period",
            ),
            (
                "a time that is not HH:MM",
                Method::PUT,
                "/api/v1/config/hours",
                hours_body(week(json!([["8am", "12:00"]])), "Asia/Shanghai"),
                422,
                "invalid_time",
            ),
            (
                "two days where a week has seven",
                Method::PUT,
                "/api/v1/config/hours",
                hours_body(json!([[], []]), "Asia/Shanghai"),
                422,
                "invalid_hours",
            ),
        ],
    )
    .await;

    // Around the clock again, then today closed by an exception: kiosks stop at once.
    let all = json!([["00:00", "24:00"]]);
    let (s, _) = call(&app, Method::PUT, "/api/v1/config/hours", &manager, Some(json!({"time_zone": "Asia/Shanghai", "weekly": [all, all, all, all, all, all, all], "cutoff_mins": 0}))).await;
    assert_eq!(s, 200);
    let hall: Value = app
        .get("/api/v1/hall", Some(KIOSK))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hall["open"], true);
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let path = format!("/api/v1/config/exceptions/{today}");
    let (s, v) = call(
        &app,
        Method::PUT,
        &path,
        &manager,
        Some(json!({"periods": [], "note": "国庆节"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let hall: Value = app
        .get("/api/v1/hall", Some(KIOSK))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (hall["open"].as_bool(), hall["today"].clone()),
        (Some(false), json!([]))
    );
    assert_eq!(public_service(&app, "A").await.unwrap()["open"], false);
    let ev = board.wait_for("services", WAIT).await.unwrap();
    let ev = if ev["open"] == true {
        board.wait_for("services", WAIT).await.unwrap()
    } else {
        ev
    };
    assert_eq!(ev["open"], false, "boards hear the hall closed");

    all_refused(
        &app,
        &manager,
        &manager,
        &[
            (
                "an exception in the past",
                Method::PUT,
                "/api/v1/config/exceptions/2020-01-01",
                Some(json!({"periods": [], "note": "too late"})),
                422,
                "date_in_past",
            ),
            (
                "an exception on a date that does not exist",
                Method::PUT,
                "/api/v1/config/exceptions/2026-02-30",
                Some(json!({"periods": []})),
                422,
                "invalid_date",
            ),
            (
                "an exception period that ends before it starts",
                Method::PUT,
                &path,
                Some(json!({"periods": [["10:00", "09:00"]]})),
                422,
                "invalid_period",
            ),
        ],
    )
    .await;

    let (s, _) = call(&app, Method::DELETE, &path, &manager, None).await;
    assert_eq!(s, 204);
    let hall: Value = app
        .get("/api/v1/hall", Some(KIOSK))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hall["open"], true);
    let actions: Vec<String> = audit(&app, &manager)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions[..2], ["exception.delete", "exception.set"]);
}

#[tokio::test]
async fn notices_reach_boards_with_their_dates() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let mut board = app.display(None).await;
    board.wait_for("snapshot", WAIT).await.unwrap();

    let (s, v) = call(
        &app,
        Method::POST,
        "/api/v1/config/notices",
        &manager,
        Some(json!({"text": {"zh": "周六上午照常办公", "en": "Open Saturday mornings"}})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let ev = board.wait_for("notice", WAIT).await.unwrap();
    assert!(
        ev["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == id && n["text"]["en"] == "Open Saturday mornings"),
        "{ev}"
    );

    // One that starts tomorrow is kept but not shown yet.
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let (s, v) = call(&app, Method::POST, "/api/v1/config/notices", &manager, Some(json!({"text": {"zh": "明天停电检修"}, "starts_at": tomorrow, "ends_at": tomorrow + chrono::Duration::days(1)}))).await;
    assert_eq!(s, 201, "{v}");
    let later = v["id"].as_i64().unwrap();
    let ev = board.wait_for("notice", WAIT).await.unwrap();
    assert!(
        !ev["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == later)
    );
    let hall: Value = app
        .get("/api/v1/hall", Some(DISPLAY))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        hall["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == id)
    );
    assert!(
        !hall["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == later)
    );
    let (_, all) = call(&app, Method::GET, "/api/v1/config/notices", &manager, None).await;
    assert!(all.as_array().unwrap().iter().any(|n| n["id"] == later));

    all_refused(
        &app,
        &manager,
        &manager,
        &[
            (
                "a notice that ends as it starts",
                Method::POST,
                "/api/v1/config/notices",
                Some(json!({"text": {"zh": "x"}, "starts_at": tomorrow, "ends_at": tomorrow})),
                422,
                "invalid_period",
            ),
            (
                "a notice without its Chinese text",
                Method::POST,
                "/api/v1/config/notices",
                Some(json!({"text": {"en": "no Chinese"}})),
                422,
                "invalid_text",
            ),
            (
                "a notice that does not exist",
                Method::PUT,
                "/api/v1/config/notices/9999",
                Some(json!({"text": {"zh": "x"}})),
                404,
                "unknown_notice",
            ),
        ],
    )
    .await;

    let (s, v) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/config/notices/{id}"),
        &manager,
        Some(json!({"text": {"en": "Open Saturdays 9-12"}})),
    )
    .await;
    assert_eq!(
        (s, v["text"]["zh"].as_str()),
        (200, Some("周六上午照常办公"))
    );
    let ev = board.wait_for("notice", WAIT).await.unwrap();
    assert!(
        ev["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["text"]["en"] == "Open Saturdays 9-12")
    );
    let (s, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/config/notices/{id}"),
        &manager,
        None,
    )
    .await;
    assert_eq!(s, 204);
    let ev = board.wait_for("notice", WAIT).await.unwrap();
    assert!(
        !ev["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == id)
    );
    let log = audit(&app, &manager).await;
    assert_eq!(log[0]["action"], "notice.delete");
    assert_eq!(
        log[1]["detail"]["before"]["text"]["en"],
        "Open Saturday mornings"
    );
    assert_eq!(
        log[1]["detail"]["after"]["text"]["en"],
        "Open Saturdays 9-12"
    );
}

#[tokio::test]
async fn people_and_devices_are_managed_without_a_secret_in_the_audit_log() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let login = |user: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.post(
                "/api/v1/login",
                None,
                json!({"username": user, "password": password}),
            )
            .await
            .status()
            .as_u16()
        }
    };

    let (s, v) = call(&app, Method::POST, "/api/v1/users", &manager, Some(json!({"username": "staff9", "display_name": "王九", "role": "staff", "password": "first-pass-9"}))).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert!(v.get("password_hash").is_none());
    assert_eq!(login("staff9", "first-pass-9").await, 200);

    // A manager does not create managers, nor short passwords, nor a name twice.
    let (s, _) = call(
        &app,
        Method::POST,
        "/api/v1/users",
        &manager,
        Some(json!({"username": "boss2", "role": "manager", "password": "long-enough"})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, v) = call(
        &app,
        Method::POST,
        "/api/v1/users",
        &manager,
        Some(json!({"username": "staff8", "role": "staff", "password": "short"})),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("weak_password"))
    );
    let (s, v) = call(
        &app,
        Method::POST,
        "/api/v1/users",
        &manager,
        Some(json!({"username": "staff9", "role": "staff", "password": "long-enough"})),
    )
    .await;
    assert_eq!(s, 409, "{v}");
    let (s, v) = call(
        &app,
        Method::POST,
        "/api/v1/users",
        &manager,
        Some(json!({"username": "Bad Name", "role": "staff", "password": "long-enough"})),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("invalid_username"))
    );

    // Password reset: the old one stops working.
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/users/{id}/password"),
        &manager,
        Some(json!({"password": "second-pass-9"})),
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(login("staff9", "first-pass-9").await, 401);
    assert_eq!(login("staff9", "second-pass-9").await, 200);
    let staff9 = app
        .post(
            "/api/v1/login",
            None,
            json!({"username": "staff9", "password": "second-pass-9"}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Staff manage nobody.
    let (s, _) = call(&app, Method::GET, "/api/v1/users", &staff9, None).await;
    assert_eq!(s, 403);
    let (s, _) = call(
        &app,
        Method::POST,
        "/api/v1/devices",
        &staff9,
        Some(json!({"name": "x", "role": "kiosk"})),
    )
    .await;
    assert_eq!(s, 403);

    // Deactivated: signed out at once, and cannot log in.
    let (s, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/users/{id}"),
        &manager,
        None,
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(
        app.get("/api/v1/services", Some(&staff9)).await.status(),
        401
    );
    assert_eq!(login("staff9", "second-pass-9").await, 401);
    let (_, users) = call(&app, Method::GET, "/api/v1/users", &manager, None).await;
    let u = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "staff9")
        .unwrap();
    assert_eq!(u["active"], false);
    let me = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "manager")
        .unwrap();
    let (s, v) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/users/{}", me["id"]),
        &manager,
        None,
    )
    .await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("own_account")));

    // A device: its token is shown once, works, and stops working when revoked.
    let (s, v) = call(
        &app,
        Method::POST,
        "/api/v1/devices",
        &manager,
        Some(json!({"name": "东门大屏", "role": "display"})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let (dev, token) = (
        v["id"].as_i64().unwrap(),
        v["token"].as_str().unwrap().to_owned(),
    );
    assert_eq!(app.get("/api/v1/hall", Some(&token)).await.status(), 200);
    let (_, list) = call(&app, Method::GET, "/api/v1/devices", &manager, None).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == dev && d["active"] == true)
    );
    assert!(!list.to_string().contains(&token));
    let (s, v) = call(
        &app,
        Method::POST,
        "/api/v1/devices",
        &manager,
        Some(json!({"name": "x", "role": "staff"})),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("invalid_role"))
    );
    let (s, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/devices/{dev}"),
        &manager,
        None,
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(app.get("/api/v1/hall", Some(&token)).await.status(), 401);
    let (s, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/devices/{dev}"),
        &manager,
        None,
    )
    .await;
    assert_eq!(s, 404);

    let log = audit(&app, &manager).await;
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions[..5],
        [
            "device.revoke",
            "device.create",
            "user.deactivate",
            "user.password",
            "user.create"
        ]
    );
    let text = serde_json::to_string(&log).unwrap();
    for secret in ["first-pass-9", "second-pass-9", token.as_str(), "argon2"] {
        assert!(!text.contains(secret), "the audit log holds no secret");
    }
}

#[tokio::test]
async fn an_admin_creates_managers() {
    let app = TestApp::spawn().await;
    app.sql(&["INSERT INTO users (branch_id, username, display_name, password_hash, role, created_at) \
               SELECT NULL, 'admin', 'admin', password_hash, 'admin', 0 FROM users WHERE username = 'manager'"])
        .await;
    let admin = app.login("admin").await;
    let (s, v) = call(
        &app,
        Method::POST,
        "/api/v1/users",
        &admin,
        Some(json!({"username": "boss2", "role": "manager", "password": "long-enough"})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["role"], "manager");
    let boss = app
        .post(
            "/api/v1/login",
            None,
            json!({"username": "boss2", "password": "long-enough"}),
        )
        .await;
    assert_eq!(boss.status(), 200);
    // A manager may not touch another manager.
    let manager = app.login("manager").await;
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/users/{}/password", v["id"]),
        &manager,
        Some(json!({"password": "taken-over"})),
    )
    .await;
    assert_eq!(s, 403);
}

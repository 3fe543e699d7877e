//! Tickets from the phone: a customer takes one on the public hall page in a real headless
//! Chromium at a phone's width; while it is not checked in, Call next passes over it (the walk-in
//! behind it is called) and its tracking page says so; once the kiosk checks it in with its code
//! it is called. One live remote ticket per number and per browser (409); 30 quick requests
//! from one address meet 429 with `Retry-After`; a ticket passed over and never checked in is
//! cancelled after the hold. With `QHALL_SCREENSHOTS=DIR` the pages are saved there.

#[path = "support/browser.rs"]
mod browser;

use std::time::Duration;

use browser::Browser;
use qhall_tests::{KIOSK, TestApp};
use serde_json::{Value, json};

async fn remote_on(app: &TestApp, manager: &str, service: &str) {
    let (s, v) = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/config/services/{service}"),
            Some(manager),
            json!({"remote_tickets": true}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["remote_tickets"], true);
}

async fn take(app: &TestApp, service: &str, mobile: &str, browser: &str) -> (u16, Value) {
    let r = app
        .post(
            "/api/v1/remote-tickets",
            None,
            json!({"service": service, "mobile": mobile, "lang": "en", "browser": browser}),
        )
        .await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn check_in(app: &TestApp, token: &str, code: &str) -> (u16, Value) {
    let r = app
        .post(
            "/api/v1/remote-tickets/check-in",
            Some(token),
            json!({"code": code}),
        )
        .await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Window 1's waiting list as `staff` sees it.
async fn waiting_list(app: &TestApp, staff: &str) -> Vec<Value> {
    let v: Value = app
        .get("/api/v1/windows/1/waiting", Some(staff))
        .await
        .json()
        .await
        .unwrap();
    v.as_array().unwrap().clone()
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_ticket_keeps_its_place_unchecked_and_is_called_once_the_kiosk_checks_it_in() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    // Off by default: the service takes tickets only at the kiosk.
    let (s, v) = take(&app, "A", "13800138000", "browser-key-0000000001").await;
    assert_eq!((s, code(&v)), (409, "remote_off"));
    remote_on(&app, &manager, "A").await;

    let browser = Browser::start(390, 900).await;
    browser.goto(&format!("{}/hall/1?lang=en", app.url)).await;
    browser
        .wait_text("#remote h2", "Take a ticket from your phone")
        .await;
    browser.type_into("#remote-mobile", "138 0013 8000").await;
    browser.click("#remote-consent").await;
    browser.snap("hall-remote.png").await;
    browser.click("#remote-take").await;
    // The tracking page opens, with the check-in code and the QR.
    browser
        .wait_text("#remote .status", "Not checked in yet")
        .await;
    let remote_code = browser.find("#remote-code").await.text().await.unwrap();
    assert_eq!(remote_code.len(), 6, "{remote_code}");
    browser.find("#remote-qr svg").await;
    browser.snap("track-remote.png").await;
    let remote_number = browser.find(".ticket .number").await.text().await.unwrap();

    // A walk-in behind it.
    let walk_in = app.issue("A").await;
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    let called = app.call_next(1, &staff).await.expect("a ticket");
    assert_eq!(
        called.number, walk_in.number,
        "the unchecked remote ticket is passed over"
    );
    // Its page says its turn came.
    browser
        .wait_text("#remote .big", "Your turn has come")
        .await;

    // The kiosk checks it in with its code; it is called next.
    let (s, v) = check_in(&app, KIOSK, &remote_code.to_lowercase()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["number"], remote_number.as_str());
    let (s, v) = check_in(&app, KIOSK, &remote_code).await;
    assert_eq!((s, code(&v)), (409, "already_checked_in"));
    browser.wait_text("#remote", "Checked in").await;
    assert_eq!(app.window(1, "complete", &staff).await.status(), 200);
    let called = app.call_next(1, &staff).await.expect("the remote ticket");
    assert_eq!(called.number.to_string(), remote_number);
    browser.wait_text(".callout.called", "window 1").await;

    // Check-in errors.
    let (s, v) = check_in(&app, KIOSK, "ZZZZZZ").await;
    assert_eq!((s, code(&v)), (404, "unknown_ticket"));
    let (s, v) = check_in(&app, KIOSK, &walk_in.number.to_string()).await;
    assert_eq!(
        (s, code(&v)),
        (404, "unknown_ticket"),
        "a kiosk does not check in by number"
    );
    let (s, v) = check_in(&app, &staff, &walk_in.number.to_string()).await;
    assert_eq!((s, code(&v)), (409, "not_remote"));
    let display = qhall_tests::DISPLAY;
    let (s, _) = check_in(&app, display, &remote_code).await;
    assert_eq!(s, 403, "a board checks nobody in");

    // One live remote ticket per number and per browser.
    let (s, first) = take(&app, "A", "13900001111", "browser-key-0000000002").await;
    assert_eq!(s, 201, "{first}");
    let (s, v) = take(&app, "A", "139-0000-1111", "browser-key-0000000003").await;
    assert_eq!(
        (s, code(&v)),
        (409, "remote_ticket_live"),
        "the same number"
    );
    let (s, v) = take(&app, "A", "13700002222", "browser-key-0000000002").await;
    assert_eq!(
        (s, code(&v)),
        (409, "remote_ticket_live"),
        "the same browser"
    );
    for (body, expected) in [
        (
            json!({"service": "A", "mobile": "12", "browser": "browser-key-0000000009"}),
            "invalid_mobile",
        ),
        (
            json!({"service": "A", "mobile": "13700002222", "browser": "short"}),
            "invalid_browser",
        ),
        (
            json!({"service": "A", "mobile": "13700002222", "browser": "browser-key-0000000009", "lang": "fr"}),
            "invalid_lang",
        ),
    ] {
        let r = app.post("/api/v1/remote-tickets", None, body).await;
        assert_eq!(r.status(), 422);
        assert_eq!(code(&r.json().await.unwrap()), expected);
    }
    let (s, v) = take(&app, "Q", "13700002222", "browser-key-0000000009").await;
    assert_eq!((s, code(&v)), (404, "unknown_service"));

    // 30 quick requests from one address: the limit answers 429 with Retry-After.
    let mut limited = 0;
    for i in 0..30 {
        let r = app
            .post(
                "/api/v1/remote-tickets",
                None,
                json!({"service": "A", "mobile": format!("1360000{i:04}"), "browser": format!("browser-key-flood-{i:06}")}),
            )
            .await;
        if r.status() == 429 {
            limited += 1;
            let after: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(after >= 1);
        }
    }
    assert!(limited >= 20, "only {limited} of 30 were limited");
    browser.close().await;
}

#[tokio::test]
async fn a_remote_ticket_passed_over_and_never_checked_in_is_cancelled_after_the_hold() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    remote_on(&app, &manager, "B").await;
    let (s, taken) = take(&app, "B", "13800138000", "browser-key-hold-000001").await;
    assert_eq!(s, 201, "{taken}");
    let walk_in = app.issue("B").await;
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    assert_eq!(
        app.call_next(1, &staff).await.unwrap().number,
        walk_in.number
    );
    let id = taken["id"].as_str().unwrap();
    let t: Value = app
        .get(&format!("/api/v1/tickets/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["status"], "waiting", "passed over, it keeps its place");
    // The hold (15 minutes) ran out an hour ago.
    let hour_ago = chrono::Utc::now().timestamp_millis() - 3_600_000;
    app.sql(&[format!(
        "UPDATE remote_tickets SET passed_over_at = {hour_ago}"
    )])
    .await;
    let mut status = Value::Null;
    for _ in 0..100 {
        let t: Value = app
            .get(&format!("/api/v1/tickets/{id}"), None)
            .await
            .json()
            .await
            .unwrap();
        status = t["status"].clone();
        if status == "cancelled" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, "cancelled", "cancelled by the maintenance pass");
    // Its number is free for a new remote ticket.
    let (s, v) = take(&app, "B", "13800138000", "browser-key-hold-000002").await;
    assert_eq!(s, 201, "{v}");
}

#[tokio::test]
async fn staff_see_an_unchecked_phone_ticket_in_their_list_and_check_it_in_at_the_counter() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    remote_on(&app, &manager, "A").await;
    let (s, taken) = take(&app, "A", "13800138000", "browser-key-staff-00001").await;
    assert_eq!(s, 201, "{taken}");
    let number = taken["number"].as_str().unwrap();
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    let before = waiting_list(&app, &staff).await;
    assert_eq!(before.len(), 1);
    assert_eq!(before[0]["number"], number);
    assert_eq!(
        before[0]["remote_checked_in"], false,
        "marked for the staff"
    );
    assert!(
        app.call_next(1, &staff).await.is_none(),
        "not called while unchecked"
    );
    // The customer is at the counter: staff check the ticket in by its number.
    let (s, v) = check_in(&app, &staff, number).await;
    assert_eq!(s, 200, "{v}");
    let after = waiting_list(&app, &staff).await;
    assert_eq!(after[0]["remote_checked_in"], true);
    let called = app
        .call_next(1, &staff)
        .await
        .expect("called once checked in");
    assert_eq!(called.number.to_string(), number);
    // A walk-in's entry carries no such mark.
    let walk_in = app.issue("A").await;
    let entries = waiting_list(&app, &staff).await;
    let w = entries
        .iter()
        .find(|e| e["number"] == walk_in.number.to_string().as_str())
        .unwrap();
    assert!(w.get("remote_checked_in").is_none(), "{w}");
}

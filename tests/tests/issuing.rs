//! Issuing tickets at the kiosk.

use qhall_tests::{KIOSK, TestApp};
use serde_json::{Value, json};

#[tokio::test]
async fn the_same_idempotency_key_twice_gives_one_ticket() {
    let app = TestApp::spawn().await;
    let send = || {
        app.request(reqwest::Method::POST, "/api/v1/tickets", Some(KIOSK))
            .header("Idempotency-Key", "kiosk-7-touch-1")
            .json(&json!({"service": "A"}))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["number"], again["number"]);
    // Only one ticket exists: the next one is A002 with one ahead.
    let next = app.issue("A").await;
    assert_eq!(next.number.as_str(), "A002");
    assert_eq!(next.ahead, 1);
}

#[tokio::test]
async fn numbers_count_up_per_service_and_priority_customers_go_ahead() {
    let app = TestApp::spawn().await;
    assert_eq!(app.issue("A").await.number.as_str(), "A001");
    assert_eq!(app.issue("B").await.number.as_str(), "B001");
    assert_eq!(app.issue("A").await.number.as_str(), "A002");
    let r = app
        .post(
            "/api/v1/tickets",
            Some(KIOSK),
            json!({"service": "A", "priority": true}),
        )
        .await;
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["number"], "A003");
    assert_eq!(
        p["ahead"], 0,
        "a priority customer is ahead of the normal line"
    );
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    assert_eq!(
        app.call_next(1, &staff).await.unwrap().number.as_str(),
        "A003"
    );
}

#[tokio::test]
async fn a_ticket_shows_its_place_and_the_tracking_link_works_without_a_token() {
    let app = TestApp::spawn().await;
    let first = app.issue("A").await;
    let second = app.issue("A").await;
    assert!(second.tracking_url.ends_with(&second.id));
    let r = app
        .get(&format!("/api/v1/tickets/{}", second.id), None)
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "waiting");
    assert_eq!(v["ahead"], 1);
    assert!(v["window"].is_null());
    let staff = app.login("staff3").await;
    app.sign_in(3, &staff).await;
    // Window 3 serves B first, then A.
    assert_eq!(app.call_next(3, &staff).await.unwrap().number, first.number);
    let v: Value = app
        .get(&format!("/api/v1/tickets/{}", first.id), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "called");
    assert_eq!(v["window"], 3);
    let v: Value = app
        .get(&format!("/api/v1/tickets/{}", second.id), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["ahead"], 0);
}

#[tokio::test]
async fn a_customer_can_cancel_a_waiting_ticket_once() {
    let app = TestApp::spawn().await;
    let t = app.issue("B").await;
    let r = app
        .post(&format!("/api/v1/tickets/{}/cancel", t.id), None, json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .post(&format!("/api/v1/tickets/{}/cancel", t.id), None, json!({}))
        .await;
    assert_eq!(r.status(), 409);
    let services: Value = app
        .get("/api/v1/services", Some(KIOSK))
        .await
        .json()
        .await
        .unwrap();
    let b = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "B")
        .unwrap();
    assert_eq!(b["waiting"], 0);
}

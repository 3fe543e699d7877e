//! A ticket's life through the API: call out of order, transfer keeping its place, no-show and
//! reinstatement to the front, pause, and the statistics that follow.

use qhall_tests::TestApp;
use serde_json::{Value, json};

#[tokio::test]
async fn a_transferred_ticket_keeps_its_issue_time_and_goes_before_later_ones() {
    let app = TestApp::spawn().await;
    let s1 = app.login("staff1").await;
    let s3 = app.login("staff3").await;
    app.sign_in(1, &s1).await;
    let a = app.issue("A").await;
    assert_eq!(app.call_next(1, &s1).await.unwrap().number, a.number);
    assert!(app.window(1, "start", &s1).await.status().is_success());
    let b_later = app.issue("B").await;
    // The A customer also needs B (social insurance): to B's line, not its back.
    let r = app
        .post(
            "/api/v1/windows/1/transfer",
            Some(&s1),
            json!({"service": "B"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = app
        .get(&format!("/api/v1/tickets/{}", a.id), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "waiting");
    assert_eq!(v["service"], "B");
    assert_eq!(
        v["number"],
        a.number.as_str(),
        "the customer keeps the number on their paper"
    );
    assert_eq!(
        v["issued_at"].as_str().unwrap(),
        a.issued_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    );
    assert_eq!(
        v["ahead"], 0,
        "it was issued before the B ticket, so it is first in B's line"
    );
    app.sign_in(3, &s3).await;
    assert_eq!(app.call_next(3, &s3).await.unwrap().number, a.number);
    assert!(app.window(3, "complete", &s3).await.status().is_success());
    assert_eq!(app.call_next(3, &s3).await.unwrap().number, b_later.number);
}

#[tokio::test]
async fn a_ticket_transferred_to_a_window_is_called_there_only() {
    let app = TestApp::spawn().await;
    let s1 = app.login("staff1").await;
    let s2 = app.login("staff2").await;
    app.sign_in(1, &s1).await;
    app.sign_in(2, &s2).await;
    let a = app.issue("A").await;
    app.call_next(1, &s1).await.unwrap();
    assert_eq!(
        app.post(
            "/api/v1/windows/1/transfer",
            Some(&s1),
            json!({"window": 2})
        )
        .await
        .status(),
        200
    );
    assert!(
        app.call_next(1, &s1).await.is_none(),
        "window 1 may not take it back"
    );
    assert_eq!(app.call_next(2, &s2).await.unwrap().number, a.number);
}

#[tokio::test]
async fn a_reinstated_no_show_goes_to_the_front_and_its_last_call_counts() {
    let app = TestApp::spawn().await;
    let s1 = app.login("staff1").await;
    app.sign_in(1, &s1).await;
    let first = app.issue("A").await;
    let second = app.issue("A").await;
    assert_eq!(app.call_next(1, &s1).await.unwrap().number, first.number);
    assert!(app.window(1, "no-show", &s1).await.status().is_success());
    // The customer turns up late: back to the front, ahead of the second ticket.
    let r = app
        .post(
            "/api/v1/windows/1/reinstate",
            Some(&s1),
            json!({"number": first.number.as_str()}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = app
        .get(&format!("/api/v1/tickets/{}", second.id), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["ahead"], 1);
    let again = app.call_next(1, &s1).await.unwrap();
    assert_eq!(again.number, first.number);
    assert!(again.called_at.unwrap() > first.issued_at);
    let r = app
        .post(
            "/api/v1/windows/1/reinstate",
            Some(&s1),
            json!({"number": first.number.as_str()}),
        )
        .await;
    assert_eq!(r.status(), 409, "only a no-show can be reinstated");
}

#[tokio::test]
async fn staff_can_call_one_ticket_out_of_order_and_a_paused_window_calls_nothing() {
    let app = TestApp::spawn().await;
    let s1 = app.login("staff1").await;
    app.sign_in(1, &s1).await;
    let first = app.issue("A").await;
    let later = app.issue("A").await;
    let r = app
        .post(
            "/api/v1/windows/1/call",
            Some(&s1),
            json!({"number": later.number.as_str()}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(app.window(1, "complete", &s1).await.status().is_success());
    // The history says the line was jumped: its own kind, never a plain call.
    let manager = app.login("manager").await;
    let events = app
        .get("/api/v1/reports/events.csv", Some(&manager))
        .await
        .text()
        .await
        .unwrap();
    let kinds: Vec<&str> = events
        .lines()
        .filter(|l| l.split(',').nth(2) == Some(later.number.as_str()))
        .filter_map(|l| l.split(',').nth(5))
        .collect();
    assert_eq!(
        kinds,
        ["issue", "call_out_of_order", "complete"],
        "{events}"
    );
    // …with the ticket it jumped.
    let jumped = format!(
        r#"""jumped"":[""{}""],""jumped_count"":1"#,
        first.number.as_str()
    );
    assert!(events.contains(&jumped), "{events}");

    assert_eq!(
        app.post(
            "/api/v1/windows/1/pause",
            Some(&s1),
            json!({"reason": "lunch"})
        )
        .await
        .status(),
        200
    );
    let r = app.window(1, "call-next", &s1).await;
    assert_eq!(r.status(), 409);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "window_paused");
    assert_eq!(app.window(1, "resume", &s1).await.status(), 200);
    assert!(app.call_next(1, &s1).await.is_some());
}

#[tokio::test]
async fn extended_service_is_shown_to_the_customer() {
    let app = TestApp::spawn().await;
    let s1 = app.login("staff1").await;
    app.sign_in(1, &s1).await;
    let t = app.issue("A").await;
    app.call_next(1, &s1).await.unwrap();
    assert_eq!(app.window(1, "start", &s1).await.status(), 200);
    let r = app
        .post(
            "/api/v1/windows/1/extend",
            Some(&s1),
            json!({"reason": "Documents need a second check"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = app
        .get(&format!("/api/v1/tickets/{}", t.id), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["extended_reason"], "Documents need a second check");
    assert_eq!(v["status"], "serving");
}

#[tokio::test]
async fn stats_follow_the_definitions_of_wait_and_service_level() {
    let app = TestApp::spawn().await;
    let s1 = app.login("staff1").await;
    let manager = app.login("manager").await;
    app.sign_in(1, &s1).await;
    for _ in 0..3 {
        app.issue("A").await;
    }
    app.issue("B").await;
    app.call_next(1, &s1).await.unwrap();
    app.window(1, "start", &s1).await;
    app.window(1, "complete", &s1).await;
    app.call_next(1, &s1).await.unwrap();
    app.window(1, "no-show", &s1).await;
    let s: Value = app
        .get("/api/v1/stats", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["issued"], 4);
    assert_eq!(s["served"], 1);
    assert_eq!(s["no_show"], 1);
    assert_eq!(s["called"], 2);
    // Called within seconds of issue: both within the 15-minute target.
    assert_eq!(s["service_level"], 1.0);
    assert!(s["mean_wait_secs"].as_f64().unwrap() < 60.0);
    let a = s["by_service"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service"] == "A")
        .unwrap();
    assert_eq!(a["issued"], 3);
    assert_eq!(a["target_wait_secs"], 900);
    let b = s["by_service"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service"] == "B")
        .unwrap();
    assert_eq!(b["issued"], 1);
    assert_eq!(
        a["called"].as_u64().unwrap() + b["called"].as_u64().unwrap(),
        2
    );
    let c = s["by_service"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service"] == "C")
        .unwrap();
    assert!(
        c["service_level"].is_null(),
        "no C ticket was called, so there is no service level"
    );
}

/// The identity step: with the service's `identity_check` set to `required`, completing
/// without the check is refused and changes nothing; the check is recorded once; the console's
/// ticket says where it stands; the report shows the share checked.
#[tokio::test]
async fn a_required_identity_check_comes_before_completing() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let (status, answer) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/config/services/B",
            Some(&manager),
            json!({"identity_check": "required"}),
        )
        .await;
    assert!((200..300).contains(&status), "{answer}");
    let s1 = app.login("staff1").await;
    app.sign_in(1, &s1).await;
    let b = app.issue("B").await;
    let called = app.call_next(1, &s1).await.unwrap();
    assert_eq!(called.number, b.number);

    let r = app.window(1, "complete", &s1).await;
    assert_eq!(r.status(), 409);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "identity_not_checked");
    let w: Value = app
        .get("/api/v1/windows/1", Some(&s1))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(w["current"]["status"], "called", "nothing changed: {w}");
    assert_eq!(
        w["current"]["identity"],
        json!({"required": true, "checked": false})
    );

    let r = app.window(1, "identity", &s1).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["ticket"]["identity"],
        json!({"required": true, "checked": true})
    );
    let again = app.window(1, "identity", &s1).await;
    assert_eq!(again.status(), 409);
    let r = app.window(1, "complete", &s1).await;
    assert_eq!(r.status(), 200);
    // Nothing of the step is in the ticket's answers to the customer.
    let mine: Value = app
        .get(&format!("/api/v1/tickets/{}", b.id), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(mine.get("identity").is_none(), "{mine}");

    // A service without the step refuses it.
    app.issue("A").await;
    app.call_next(1, &s1).await.unwrap();
    let r = app.window(1, "identity", &s1).await;
    assert_eq!(r.status(), 409);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "identity_check_off");

    let report: Value = app
        .get("/api/v1/reports", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    let b_line = &report["identity_by_service"][0];
    assert_eq!(b_line["key"], "B", "{report}");
    assert_eq!(
        (b_line["completed"].as_u64(), b_line["checked"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(b_line["share"].as_f64(), Some(1.0));
}

//! The emergency broadcast: a manager turns it on, every board hears it at once, kiosks stop
//! issuing; off again, issuing resumes; both changes are in the audit log.

use std::time::Duration;

use qhall_tests::TestApp;
use serde_json::{Value, json};

async fn put(app: &TestApp, token: Option<&str>, body: Value) -> reqwest::Response {
    app.request(reqwest::Method::PUT, "/api/v1/emergency", token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_emergency_reaches_every_board_stops_issuing_and_is_audited() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let mut board = app.display(None).await;
    board
        .wait_for("snapshot", Duration::from_secs(5))
        .await
        .unwrap();

    let message = "消防演练，请按指示有序离场 / Fire drill: please leave calmly";
    let r = put(&app, Some(&manager), json!({ "message": message })).await;
    assert_eq!(r.status(), 200);
    let e = board
        .wait_for("emergency", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(e["message"], message);

    // Kiosks stop issuing, and say why.
    let r = app
        .post(
            "/api/v1/tickets",
            Some("demo-kiosk"),
            json!({"service": "A"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "emergency");
    let hall: Value = app
        .get("/api/v1/hall", Some("demo-kiosk"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hall["emergency"], message);

    // A board that connects now learns it from its snapshot.
    let mut late = app.display(None).await;
    let snap = late
        .wait_for("snapshot", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(snap["emergency"], message);

    // Off: every board hears it, issuing resumes.
    let r = app
        .request(reqwest::Method::DELETE, "/api/v1/emergency", Some(&manager))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let e = board
        .wait_for("emergency", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(e["message"], Value::Null);
    let r = app
        .post(
            "/api/v1/tickets",
            Some("demo-kiosk"),
            json!({"service": "A"}),
        )
        .await;
    assert_eq!(r.status(), 201);

    // Both changes are audited: who, what, newest first.
    let log: Value = app
        .get("/api/v1/audit", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["action"], "emergency.off");
    assert_eq!(log[1]["action"], "emergency.on");
    assert_eq!(log[1]["user"], "manager");
    assert_eq!(log[1]["detail"]["message"], message);
}

#[tokio::test]
async fn only_managers_broadcast_and_a_message_is_required() {
    let app = TestApp::spawn().await;
    let staff = app.login("staff1").await;
    let manager = app.login("manager").await;
    assert_eq!(put(&app, None, json!({"message": "x"})).await.status(), 401);
    assert_eq!(
        put(&app, Some(&staff), json!({"message": "x"}))
            .await
            .status(),
        403
    );
    assert_eq!(
        put(&app, Some("demo-display"), json!({"message": "x"}))
            .await
            .status(),
        403
    );
    for (body, status) in [
        (json!({"message": "   "}), 422),
        (json!({"message": "x".repeat(201)}), 422),
        (json!({}), 422),
        (json!({"message": 5}), 422),
    ] {
        let r = put(&app, Some(&manager), body.clone()).await;
        assert_eq!(r.status(), status, "{body}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"]["code"].is_string(), "{v}");
    }
    // Nothing changed: still issuing, nothing audited.
    let r = app
        .post(
            "/api/v1/tickets",
            Some("demo-kiosk"),
            json!({"service": "A"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let log: Value = app
        .get("/api/v1/audit", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(log, json!([]));
}

//! The settings page in a real headless Chromium against the real server: a manager changes a
//! service's target wait and sees the change in the page's audit log; turns the emergency
//! broadcast on, and a board on the event stream hears it; turns it off again.
//! With `QHALL_SCREENSHOTS=DIR` the page is also saved as PNGs there (docs/manage-settings.png).

#[path = "support/browser.rs"]
mod browser;

use std::time::Duration;

use browser::Browser;
use qhall_tests::{KIOSK, TestApp};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);

async fn shot(b: &Browser, name: &str) {
    if let Ok(dir) = std::env::var("QHALL_SCREENSHOTS") {
        b.screenshot(&std::path::Path::new(&dir).join(name)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_changes_a_target_sees_it_audited_and_runs_an_emergency_broadcast() {
    let app = TestApp::spawn().await;
    let mut board = app.display(None).await;
    board.wait_for("snapshot", WAIT).await.unwrap();

    let b = Browser::start(1440, 2900).await;
    b.goto(&format!("{}/manage/settings?lang=en", app.url))
        .await;
    b.type_into("#username", "manager").await;
    b.type_into("#password", "demo").await;
    b.click("#login-button").await;
    b.wait_text("#audit", "No changes yet").await;

    // Service A's target: 15 → 12 minutes.
    b.type_into("#svc-A input[name='target_min']", "12").await;
    b.click("#svc-A button.save").await;
    b.wait_text("#audit-list", "Service changed").await;
    let entry = b
        .wait_text("#audit-list .audit-row", "target_wait_secs: 900 → 720")
        .await;
    assert!(entry.contains("manager"), "who: {entry}");
    b.wait_text("#svc-A .message", "Saved").await;
    let services: Value = app
        .get("/api/v1/services", Some(KIOSK))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(services[0]["code"], "A");
    assert_eq!(
        services[0]["target_wait_secs"], 720,
        "kiosks see the new target"
    );
    board.wait_for("services", WAIT).await.unwrap();

    // Emergency on from the page: the board hears it.
    let message = "Fire drill: please leave calmly";
    b.type_into("#emergency-message", message).await;
    b.click("#emergency-on").await;
    let e = board.wait_for("emergency", WAIT).await.unwrap();
    assert_eq!(e["message"], message);
    b.wait_text("#emergency-state", "ON").await;
    b.wait_text("#audit-list", "Emergency on").await;
    shot(&b, "manage-settings-emergency.png").await;

    // And off again.
    b.click("#emergency-off").await;
    let e = board.wait_for("emergency", WAIT).await.unwrap();
    assert_eq!(e["message"], Value::Null);
    b.wait_until("#emergency-message", |s| s.displayed).await;
    b.wait_text("#audit-list", "Emergency off").await;
    let hall: Value = app
        .get("/api/v1/hall", Some(KIOSK))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hall["emergency"], Value::Null);

    b.js("window.scrollTo(0, 0); return true;").await;
    shot(&b, "manage-settings.png").await;
    b.goto(&format!("{}/manage/settings?lang=zh", app.url))
        .await;
    b.wait_text("#audit-list", "结束紧急广播").await;
    shot(&b, "manage-settings-zh.png").await;
    b.close().await;
}

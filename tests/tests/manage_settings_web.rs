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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_changes_a_target_sees_it_audited_and_runs_an_emergency_broadcast() {
    let app = TestApp::spawn().await;
    let mut board = app.display(None).await;
    board.wait_for("snapshot", WAIT).await.unwrap();

    let b = Browser::start(1440, 2900).await;
    b.goto(&format!("{}/manage/settings?lang=en", app.url))
        .await;
    b.log_in("manager").await;
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
    b.snap("manage-settings-emergency.png").await;

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
    b.snap("manage-settings.png").await;
    b.goto(&format!("{}/manage/settings?lang=zh", app.url))
        .await;
    b.wait_text("#audit-list", "结束紧急广播").await;
    b.snap("manage-settings-zh.png").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_sets_hours_window_order_a_notice_and_a_device_whose_token_is_shown_once() {
    let app = TestApp::spawn().await;
    let b = Browser::start(1440, 1000).await;
    b.goto(&format!("{}/manage/settings?lang=en", app.url))
        .await;
    b.log_in("manager").await;
    b.wait_text("#audit", "No changes yet").await;
    let manager = app.login("manager").await;

    // Monday with a lunch break; a period the page cannot read is refused before sending.
    b.type_into("#hours-form input[name='day']", "8:30-12:00，13:00-17:30")
        .await;
    b.click("#hours-form button[type='submit']").await;
    b.wait_text("#audit-list", "Hours changed").await;
    let cfg: Value = app
        .get("/api/v1/config", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        cfg["hours"]["weekly"][0],
        serde_json::json!([["08:30", "12:00"], ["13:00", "17:30"]])
    );
    b.type_into("#hours-form input[name='day']", "lunch").await;
    b.click("#hours-form button[type='submit']").await;
    b.wait_text("#hours-form .message", "Write periods as")
        .await;

    // Window 1 serves B first, with weight 2.
    b.js("var s = document.querySelectorAll('select[form=\"win-1\"][name=\"serve\"]'); s[0].value = 'B'; s[1].value = 'A'; \
          document.querySelector('input[form=\"win-1\"][name=\"weight\"]').value = '2'; return true;")
        .await;
    b.click("#win-1 button[type='submit']").await;
    b.wait_text("#audit-list", "Window changed").await;
    let cfg: Value = app
        .get("/api/v1/config", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        cfg["windows"][0]["serves"],
        serde_json::json!([{"service": "B", "weight": 2.0}, {"service": "A", "weight": 1.0}])
    );

    // A notice, published to the boards.
    b.type_into("#notice-new input[name='text_zh']", "今天下午提前闭厅")
        .await;
    b.type_into("#notice-new input[name='text_en']", "Closing early today")
        .await;
    b.click("#notice-new button[type='submit']").await;
    b.wait_text("#audit-list", "Notice published").await;
    let hall: Value = app
        .get("/api/v1/hall", Some(KIOSK))
        .await
        .json()
        .await
        .unwrap();
    assert!(hall["notices"].to_string().contains("Closing early today"));

    // A board: its token is shown once, works, and stops when revoked.
    b.type_into("#device-new input[name='name']", "East door board")
        .await;
    b.js("document.querySelector('#device-new select[name=\"role\"]').value = 'display'; return true;")
        .await;
    b.click("#device-new button[type='submit']").await;
    b.wait_until("#device-token", |s| s.displayed).await;
    let token = b
        .js("return document.getElementById('device-token-value').textContent;")
        .await;
    let token = token.as_str().unwrap().to_owned();
    assert!(token.len() > 30);
    b.snap("manage-settings-device-token.png").await;
    assert_eq!(app.get("/api/v1/hall", Some(&token)).await.status(), 200);
    b.click("#device-token-done").await;
    b.wait_text("#devices", "East door board").await;
    let page = b.js("return document.body.innerHTML;").await;
    assert!(
        !page.as_str().unwrap().contains(&token),
        "the token is not shown again"
    );
    b.js("window.confirm = function () { return true; }; return true;")
        .await;
    let revoke = b
        .js("var rows = document.querySelectorAll('#devices tbody tr'); \
             for (var i = 0; i < rows.length; i++) { if (rows[i].textContent.indexOf('East door board') >= 0) { \
               rows[i].querySelector('button').click(); return true; } } return false;")
        .await;
    assert_eq!(revoke, Value::Bool(true));
    b.wait_text("#audit-list", "Device revoked").await;
    assert_eq!(app.get("/api/v1/hall", Some(&token)).await.status(), 401);

    // A rating pad for window 3: its token comes once with the pairing link, which pairs the
    // tablet that opens it.
    b.type_into("#device-new input[name='name']", "Window 3 tablet")
        .await;
    b.find("#device-new select[name='role']")
        .await
        .select_by_value("pad")
        .await
        .expect("role");
    b.wait_until("#device-new select[name='window']", |s| s.displayed)
        .await;
    b.find("#device-new select[name='window']")
        .await
        .select_by_value("3")
        .await
        .expect("window");
    b.click("#device-new button[type='submit']").await;
    b.wait_until("#device-pairing", |s| s.displayed).await;
    let shown = b
        .js(
            "return [document.getElementById('device-token-value').textContent, \
             document.getElementById('device-pairing-url').textContent];",
        )
        .await;
    let token = shown[0].as_str().unwrap().to_owned();
    let link = shown[1].as_str().unwrap().to_owned();
    assert_eq!(link, format!("{}/rate/3#pad={token}", app.url));
    let r = app.get("/api/v1/windows/3/rating", Some(&token)).await;
    assert_eq!(r.status(), 200, "the pad rates window 3");
    b.goto(&link).await;
    b.wait_until("#idle", |s| s.displayed).await;
    assert_eq!(
        b.js("return location.hash;").await,
        Value::String(String::new())
    );
    b.close().await;
}

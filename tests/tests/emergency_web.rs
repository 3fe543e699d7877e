//! The staff console and the customer's tracking page in a real headless Chromium: an
//! emergency broadcast shows on both while it stands, and goes when it ends (issue #11, part
//! 6); and the console's identity step on a service that requires it (part 2): Complete waits
//! until "identity checked" is pressed.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use qhall_tests::TestApp;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emergency_shows_on_the_console_and_the_tracking_page() {
    let app = TestApp::spawn_sqlite().await;
    let manager = app.login("manager").await;
    let (status, answer) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/config/services/A",
            Some(&manager),
            json!({"identity_check": "required"}),
        )
        .await;
    assert!((200..300).contains(&status), "{answer}");
    let ticket = app.issue("A").await;
    let b = Browser::start(1280, 900).await;

    let track_tab = b.current_tab().await;
    b.goto(&format!("{}?lang=en", ticket.tracking_url)).await;
    b.wait_text(".ticket .number", ticket.number.as_str()).await;

    let staff_tab = b.new_tab().await;
    b.goto(&format!("{}/staff?lang=en", app.url)).await;
    b.log_in("staff2").await;
    b.click("button.sign-in[data-window='2']").await;
    b.wait_text(".window-name", "Window 2").await;
    b.wait_until("#call-next", |s| s.enabled).await;
    b.click("#call-next").await;
    b.wait_text("#cur-number", ticket.number.as_str()).await;
    // The identity step: required, so Complete waits for it.
    b.wait_text(
        "#identity-state",
        "Check the identity document before completing",
    )
    .await;
    b.wait_until("#complete", |s| !s.enabled).await;
    b.snap("web-staff-identity.png").await;
    b.click("#identity").await;
    b.wait_text("#identity-state", "Identity document checked")
        .await;
    b.wait_until("#complete", |s| s.enabled).await;

    // The manager broadcasts the prepared fire message in one tap on the settings page: on the
    // console at once (event stream), on the phone within a poll.
    // (Another browser: this one holds the staff member's session.)
    let m = Browser::start(1280, 1400).await;
    m.goto(&format!("{}/manage/settings?lang=en", app.url))
        .await;
    m.log_in("manager").await;
    m.click("#emergency-fire").await;
    m.wait_text("#emergency-state", "ON").await;
    m.close().await;
    let message = "Fire alarm: please leave calmly by the nearest exit.";
    b.switch(&staff_tab).await;
    b.wait_text("#emergency", message).await;
    b.wait_until("#emergency", |s| s.displayed).await;
    b.snap("web-staff-emergency.png").await;
    b.switch(&track_tab).await;
    b.wait_text("#emergency", message).await;
    b.snap("web-track-emergency.png").await;

    // Over: both clear.
    let r = app
        .request(reqwest::Method::DELETE, "/api/v1/emergency", Some(&manager))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    b.switch(&staff_tab).await;
    b.wait_until("#emergency", |s| !s.displayed).await;
    b.switch(&track_tab).await;
    let mut gone = false;
    for _ in 0..100 {
        let js = "return document.getElementById('emergency') === null;";
        if b.js(js).await == json!(true) {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "the tracking page drops the banner");
    b.close().await;
}

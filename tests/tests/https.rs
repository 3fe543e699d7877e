//! The server serves https itself with a certificate from a test CA made here (rcgen): a client
//! trusting that CA logs in and issues, a `wss://` event stream hears a call, HSTS is sent on
//! every answer, a client that does not trust the CA is refused, and headless Chromium
//! (trusting the test key) loads the staff console and logs in over https.
//! The kiosk's and the board's own clients are tested over https in `kiosk/tests/https.rs`
//! and `display/tests/https.rs`.

#[path = "support/browser.rs"]
mod browser;

use std::time::Duration;

use browser::Browser;
use qhall_tests::tls::TestCa;
use qhall_tests::{EventClient, KIOSK, TestApp};
use serde_json::json;

async fn https_app(ca: &TestCa) -> TestApp {
    TestApp::spawn_configured(ca.configure(), Some(ca.client())).await
}

#[tokio::test]
async fn a_client_trusting_the_ca_logs_in_and_issues_over_https_and_every_answer_carries_hsts() {
    let ca = TestCa::generate();
    let app = https_app(&ca).await;
    assert!(app.url.starts_with("https://"), "{}", app.url);

    let health = app.get("/healthz", None).await;
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.headers()["strict-transport-security"],
        "max-age=31536000"
    );

    let login = app
        .post(
            "/api/v1/login",
            None,
            json!({"username": "staff1", "password": "demo"}),
        )
        .await;
    assert_eq!(login.status(), 200);
    assert!(login.headers().contains_key("strict-transport-security"));
    let token = login.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let ticket = app.issue("A").await;
    assert!(
        ticket.tracking_url.starts_with(&format!("{}/t/", app.url)),
        "the tracking link is https too: {}",
        ticket.tracking_url
    );
    // An error answer carries it as well.
    let missing = app.get("/api/v1/nothing-here", Some(&token)).await;
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_ca_is_refused_and_plain_http_gets_no_answer() {
    let ca = TestCa::generate();
    let app = https_app(&ca).await;
    let stranger = TestCa::generate();
    let err = stranger
        .client()
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .expect_err("a certificate from an unknown CA must be refused");
    assert!(err.is_connect(), "{err:?}");
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(format!("http://{}/healthz", app.addr))
        .send()
        .await;
    assert!(plain.is_err(), "plain http must not be served: {plain:?}");
}

#[tokio::test]
async fn without_a_certificate_there_is_no_hsts() {
    let app = TestApp::spawn().await;
    let r = app.get("/healthz", None).await;
    assert!(!r.headers().contains_key("strict-transport-security"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wss_event_stream_hears_a_call() {
    let ca = TestCa::generate();
    let app = https_app(&ca).await;
    let url = app.ws_url(qhall_tests::DISPLAY, None);
    assert!(url.starts_with("wss://"), "{url}");
    let mut board = EventClient::connect_tls(&url, ca.rustls_client())
        .await
        .expect("wss connect");
    board
        .wait_for("snapshot", Duration::from_secs(10))
        .await
        .expect("snapshot over wss");
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    let ticket = app.issue("A").await;
    let called = app.call_next(1, &staff).await.expect("a ticket to call");
    assert_eq!(called.number, ticket.number);
    let event = board
        .wait_for("called", Duration::from_secs(10))
        .await
        .expect("the call over wss");
    assert_eq!(event["number"], ticket.number.as_str());
    let _ = KIOSK;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_loads_the_staff_console_and_logs_in_over_https() {
    let ca = TestCa::generate();
    let app = https_app(&ca).await;
    // Trust exactly the test server's key (the browser's own root store is not ours to edit).
    let b = Browser::start_with(
        1280,
        900,
        &[format!(
            "--ignore-certificate-errors-spki-list={}",
            ca.spki_sha256
        )],
    )
    .await;
    b.goto(&format!("{}/staff?lang=en", app.url)).await;
    assert_eq!(b.js("return location.protocol;").await, json!("https:"));
    b.log_in("staff2").await;
    b.click("button.sign-in[data-window='2']").await;
    b.wait_text(".window-name", "Window 2").await;
    b.wait_until("#call-next", |s| s.enabled).await;
    b.close().await;
}

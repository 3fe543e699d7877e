//! The tracking page's forms in a real headless Chromium at a phone's width (390 px): "text me
//! when my turn is near" (the gateway, a real HTTP receiver, gets the message), then after the
//! visit a low rating with a comment (a follow-up opens) and a complaint, both in the managers'
//! register. With `QHALL_SCREENSHOTS=DIR` the pages are saved there (docs/track-*.png).

#[path = "support/browser.rs"]
mod browser;

use std::collections::BTreeMap;
use std::time::Duration;

use browser::Browser;
use qhall_server::notify::Settings;
use qhall_tests::{Gateway, TestApp};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracking_page_takes_a_number_a_rating_and_a_complaint() {
    let gw = Gateway::start(&[]).await;
    let url = gw.url();
    let app = TestApp::spawn_with_config(move |c| {
        c.messages = Settings::resolve(
            Some("webhook"),
            Some(url.clone()),
            None,
            BTreeMap::new(),
            None,
            Some(50),
            false,
        )
        .unwrap();
    })
    .await;
    let t = app.issue("A").await;
    let browser = Browser::start(390, 1400).await;
    browser
        .goto(&format!("{}/t/{}?lang=en", app.url, t.id))
        .await;
    browser
        .wait_text("#notify h2", "Text me when my turn is near")
        .await;
    browser.type_into("#notify-mobile", "138 0013 8000").await;
    browser.click("#notify-consent").await;
    browser.snap("track-notify.png").await;
    browser.click("#notify-form button").await;
    browser.wait_text("#notify-done", "138****8000").await;
    // Nobody ahead: "near" goes at once.
    let got = gw.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].json()["kind"], "near");
    assert_eq!(got[0].json()["to"], "13800138000");

    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    app.call_next(1, &staff).await.expect("the ticket");
    browser.wait_text(".callout.called", "window 1").await;
    assert_eq!(app.window(1, "complete", &staff).await.status(), 200);

    // After the visit: the rating, and "complain or suggest".
    browser.wait_text("#rate h2", "How was your visit?").await;
    browser.click("#rate input[value='2']").await;
    browser
        .type_into("#rate-comment", "Nobody explained the form")
        .await;
    browser.click("#rate-form button").await;
    browser
        .wait_text("#rate-done", "a manager will follow this up")
        .await;
    browser.click("#feedback-open summary").await;
    browser
        .type_into("#feedback-text", "The queue screen was off all morning")
        .await;
    browser.snap("track-feedback.png").await;
    browser.click("#feedback-form button").await;
    browser.wait_text("#feedback-done", "Received as no.").await;

    let manager = app.login("manager").await;
    let list: Value = app
        .get("/api/v1/complaints", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    let rows = list["complaints"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = rows
        .iter()
        .map(|c| (c["source"].as_str().unwrap(), c["kind"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&("rating", "follow_up")), "{list}");
    assert!(kinds.contains(&("customer", "complaint")), "{list}");
    assert!(rows.iter().any(
        |c| c["description"] == "The queue screen was off all morning"
            && c["about_name"] == "staff1"
    ));
    // The "called" message followed the "near" one.
    let got = gw.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].json()["kind"], "called");
    browser.close().await;
}

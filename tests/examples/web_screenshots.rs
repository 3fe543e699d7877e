//! Takes the web pages' screenshots in `docs/` with headless Chromium against the real server
//! holding a plausible morning: tickets waiting in four services for up to twenty minutes,
//! window 1 serving, window 2 (the console shown) just finished one and called the next.
//!
//! `cargo run -p qhall-tests --example web_screenshots` (from the repository root).

#[path = "../tests/support/browser.rs"]
mod browser;

use std::path::PathBuf;

use browser::Browser;
use qhall_tests::TestApp;

#[tokio::main]
async fn main() {
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let app = TestApp::spawn().await;
    let mut issued = Vec::new();
    for s in [
        "A", "A", "B", "A", "D", "A", "B", "C", "A", "B", "A", "C", "A", "D",
    ] {
        issued.push(app.issue(s).await);
    }
    // Spread the issue times over the last twenty minutes, oldest first.
    app.sql(&[
        "UPDATE tickets SET issued_at = issued_at - (15 - key) * 85000, queue_at = queue_at - (15 - key) * 85000",
    ])
    .await;
    let staff1 = app.login("staff1").await;
    app.sign_in(1, &staff1).await;
    app.call_next(1, &staff1).await;
    app.window(1, "start", &staff1).await;

    let b = Browser::start(1366, 800).await;
    let console = b.current_tab().await;
    b.goto(&format!("{}/staff?lang=zh", app.url)).await;
    b.log_in("staff2").await;
    b.click("button.sign-in[data-window='2']").await;
    b.click("#call-next").await;
    b.wait_text("#msg", "已叫").await;
    b.click("#complete").await;
    b.wait_text("#msg", "办结").await;

    // The rating pad offers the ticket just completed (a landscape tablet).
    let pad = b.new_tab().await;
    b.client.set_window_size(1280, 800).await.expect("size");
    b.goto(&format!(
        "{}/rate/2?lang=zh#pad={}",
        app.url,
        qhall_tests::pad(2)
    ))
    .await;
    b.wait_until("#ask", |s| s.displayed).await;
    b.screenshot(&docs.join("web-rate.png")).await;

    // The next call, seen on the console and on that customer's phone.
    b.switch(&console).await;
    b.click("#call-next").await;
    b.wait_text("#msg", "已叫").await;
    let number = b.find("#cur-number").await.text().await.expect("number");
    let called = issued
        .iter()
        .find(|t| t.number.as_str() == number)
        .expect("a ticket we issued");
    let phone = b.new_tab().await;
    b.client.set_window_size(390, 844).await.expect("size");
    b.goto(&format!("{}?lang=zh", called.tracking_url)).await;
    b.wait_until(".callout.called", |s| s.displayed).await;
    b.screenshot(&docs.join("web-track-called.png")).await;

    // A customer still waiting, in English.
    let waiting = issued.last().expect("tickets");
    b.goto(&format!("{}?lang=en", waiting.tracking_url)).await;
    b.wait_until(".callout.waiting", |s| s.displayed).await;
    b.screenshot(&docs.join("web-track.png")).await;

    b.switch(&console).await;
    b.click("#start").await;
    b.wait_text("#msg", "开始办理").await;
    b.wait_text("#cur-service", "办理中").await;
    b.screenshot(&docs.join("web-staff.png")).await;
    b.goto(&format!("{}/staff?lang=en", app.url)).await;
    b.wait_text("#cur-service", "Being served").await;
    b.wait_text("#waiting", "waiting").await;
    b.screenshot(&docs.join("web-staff-en.png")).await;

    let _ = (pad, phone);
    b.close().await;
    println!(
        "wrote docs/web-staff.png, web-staff-en.png, web-rate.png, web-track.png, web-track-called.png"
    );
}

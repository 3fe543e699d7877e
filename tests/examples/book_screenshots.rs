//! Takes the booking pages' screenshots in `docs/` (`book-phone.png`, `book-confirmed.png`)
//! with headless Chromium at a phone's width against the real server: office hours, two
//! services taking bookings, a customer choosing tomorrow at 10:00.
//!
//! `cargo run -p qhall-tests --example book_screenshots` (from the repository root).

#[path = "../tests/support/browser.rs"]
mod browser;

use std::path::PathBuf;

use browser::Browser;
use qhall_tests::TestApp;
use serde_json::json;

#[tokio::main]
async fn main() {
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let day = json!([["09:00", "12:00"], ["13:00", "17:00"]]);
    let (s, v) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/config/hours",
            Some(&manager),
            json!({"time_zone": "Asia/Shanghai", "weekly": [day, day, day, day, day, day, day], "cutoff_mins": 0}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    for (code, slot) in [("A", 15), ("C", 30)] {
        app.set_appointments(
            &manager,
            code,
            json!({"enabled": true, "slot_mins": slot, "places": 2, "horizon_days": 14,
                    "lead_mins": 60, "checkin_before_mins": 30, "checkin_after_mins": 10}),
        )
        .await;
    }
    let b = Browser::start(390, 844).await;
    b.goto(&format!("{}/book?lang=zh", app.url)).await;
    b.wait_text("#book h1", "预约").await;
    // Tomorrow, 10:00.
    b.click("#book-days .chip:nth-child(2)").await;
    b.find("#book-slots .chip").await;
    b.js("Array.from(document.querySelectorAll('#book-slots .chip')).find(c => c.textContent === '10:00').click()")
        .await;
    b.type_into("#book-mobile", "13800138000").await;
    b.click("#book-consent").await;
    b.js("window.scrollTo(0, 0)").await;
    b.screenshot(&docs.join("book-phone.png")).await;
    b.click("#book-submit").await;
    b.wait_text("#booking h1", "预约成功").await;
    b.screenshot(&docs.join("book-confirmed.png")).await;
    b.close().await;
    println!("wrote docs/book-phone.png, docs/book-confirmed.png");
}

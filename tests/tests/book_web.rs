//! The booking's own page in a real headless Chromium at a phone's width (issue #12): in
//! Traditional Chinese, the customer moves the booking to another time (the new one is made,
//! the old one cancelled) and then cancels the new one, asked twice; the calendar file is one
//! event at the slot, in UTC.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use qhall_tests::TestApp;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_moves_then_cancels_a_booking_on_its_page() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    app.set_appointments(
        &manager,
        "A",
        json!({"enabled": true, "slot_mins": 15, "places": 1, "horizon_days": 14,
            "lead_mins": 60, "checkin_before_mins": 30, "checkin_after_mins": 10}),
    )
    .await;
    // Tomorrow's first slot (the demo hall is open around the clock).
    let tomorrow = (chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai)
        + chrono::Duration::days(1))
    .date_naive();
    let slots = app.slots("A", tomorrow).await;
    let first = slots[0]["start"].as_str().unwrap().to_owned();
    let r = app
        .post(
            "/api/v1/appointments",
            None,
            json!({"service": "A", "start": first, "lang": "zh-Hant"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let old: Value = r.json().await.unwrap();
    let old_code = old["code"].as_str().unwrap().to_owned();

    // The calendar file.
    let ics = app
        .get(&format!("/book/{old_code}/calendar.ics"), None)
        .await;
    assert_eq!(
        ics.headers()["content-type"].to_str().unwrap(),
        "text/calendar; charset=utf-8"
    );
    let ics = ics.text().await.unwrap();
    let start: chrono::DateTime<chrono::Utc> = first.parse().unwrap();
    assert!(
        ics.contains(&format!("DTSTART:{}", start.format("%Y%m%dT%H%M%SZ"))),
        "{ics}"
    );
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 1);

    let b = Browser::start(390, 1000).await;
    b.goto(&format!("{}/book/{old_code}?lang=zh-Hant", app.url))
        .await;
    b.wait_text("#booking h1", "您的預約").await;
    b.wait_text("#booking-state", "已預約").await;
    // Move: the booking form for the same service, then another time of the same day.
    b.click("#booking-move").await;
    b.wait_text("#book-moving", "原預約會自動取消").await;
    b.click("#book-days .chip:nth-child(2)").await;
    b.find("#book-slots .chip:nth-child(2)").await;
    b.click("#book-slots .chip:nth-child(2)").await;
    b.click("#book-submit").await;
    b.wait_text("#booking h1", "預約成功").await;
    let new_code = b
        .find("#booking-code")
        .await
        .attr("aria-label")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(new_code, old_code);
    let seen = |code: String| {
        let app = &app;
        async move {
            let v: Value = app
                .get(&format!("/api/v1/appointments/{code}"), None)
                .await
                .json()
                .await
                .unwrap();
            v["state"].as_str().unwrap_or_default().to_owned()
        }
    };
    assert_eq!(
        seen(old_code.clone()).await,
        "cancelled",
        "the old one is freed"
    );
    assert_eq!(seen(new_code.clone()).await, "booked");

    // Cancel, asked twice.
    b.click("#booking-cancel").await;
    assert_eq!(
        seen(new_code.clone()).await,
        "booked",
        "not on the first touch"
    );
    b.click("#booking-cancel-confirm").await;
    b.wait_text("#booking-state", "已取消").await;
    assert_eq!(seen(new_code).await, "cancelled");
    b.close().await;
}

//! The hall's public information (issue #11, part 4): a manager sets the service phone number
//! and a holiday five days ahead; kiosks and boards get the holiday as a notice at once, in
//! three languages; the public page `/hall`, in a real headless Chromium at a phone's width
//! (390 px), shows the week's hours, the holiday with its note and the phone number. Bad input
//! changes nothing. With `QHALL_SCREENSHOTS=DIR` the page is saved there (docs/hall.png).

#[path = "support/browser.rs"]
mod browser;

use std::time::Duration;

use browser::Browser;
use chrono::Datelike;
use qhall_tests::{KIOSK, TestApp};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holiday_ahead_reaches_kiosks_boards_and_the_public_page() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let mut board = app.display(None).await;
    board.wait_for("snapshot", WAIT).await.unwrap();

    // Office hours, a phone number and an address.
    let day = json!([["09:00", "12:00"], ["13:00", "17:00"]]);
    let (s, v) = app.send_json(
        reqwest::Method::PUT,
        "/api/v1/config/hours",
        Some(&manager),
        json!({"time_zone": "Asia/Shanghai", "weekly": [day, day, day, day, day, [], []], "cutoff_mins": 0}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app.send_json(
        reqwest::Method::PUT,
        "/api/v1/config/branch",
        Some(&manager),
        json!({"phone": "0571-8765 4321", "address": "1 Civic Square, Hangzhou", "notice_days": 7}),
    )
    .await;
    assert_eq!(s, 200, "{v}");

    // Bad input changes nothing.
    for (body, code) in [
        (json!({"phone": "1".repeat(33)}), "invalid_phone"),
        (json!({"phone": "call me maybe"}), "invalid_phone"),
        (
            json!({"phone": "110", "notice_days": 61}),
            "invalid_notice_days",
        ),
    ] {
        let (s, v) = app
            .send_json(
                reqwest::Method::PUT,
                "/api/v1/config/branch",
                Some(&manager),
                body,
            )
            .await;
        assert_eq!((s, v["error"]["code"].as_str()), (422, Some(code)), "{v}");
    }
    let settings: Value = app
        .get("/api/v1/config", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings["public"]["phone"], "0571-8765 4321");

    // A holiday five days ahead (in the hall's zone).
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let holiday = today + chrono::Duration::days(5);
    let (s, v) = app.send_json(
        reqwest::Method::PUT,
        &format!("/api/v1/config/exceptions/{holiday}"),
        Some(&manager),
        json!({"periods": [], "note": "系统升级", "note_zh_hant": "系統升級", "note_en": "System upgrade"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let md = format!("{}月{}日", holiday.month(), holiday.day());
    let en_day = holiday.format("%a %-d %b").to_string();

    // The board hears the notice list with the holiday in it.
    let heard = loop {
        let e = board.wait_for("notice", WAIT).await.unwrap();
        let list = e["notices"].as_array().cloned().unwrap_or_default();
        if let Some(n) = list
            .iter()
            .find(|n| n["id"].as_i64().is_some_and(|id| id < 0))
        {
            break n.clone();
        }
    };
    assert_eq!(
        heard["text"]["en"],
        format!("{en_day}: closed all day. System upgrade")
    );
    assert!(
        heard["text"]["zh"].as_str().unwrap().starts_with(&md),
        "{heard}"
    );
    assert!(
        heard["text"]["zh_hant"]
            .as_str()
            .unwrap()
            .ends_with("系統升級"),
        "{heard}"
    );
    // The kiosk reads it with the hall's information.
    let hall: Value = app
        .get("/api/v1/hall", Some(KIOSK))
        .await
        .json()
        .await
        .unwrap();
    let notices = hall["notices"].as_array().unwrap();
    assert!(
        notices
            .iter()
            .any(|n| n["text"]["en"] == heard["text"]["en"]),
        "{hall}"
    );

    // The public page, on a phone.
    let b = Browser::start(390, 2400).await;
    b.goto(&format!("{}/hall?lang=en", app.url)).await;
    b.wait_text("#week", "Opening hours this week").await;
    let week = b.find("#week").await.text().await.unwrap();
    assert!(week.contains("09:00–12:00"), "{week}");
    assert!(week.contains("13:00–17:00"), "{week}");
    let holiday_row = b.find(&format!("#week tr[data-date='{holiday}']")).await;
    assert!(holiday_row.text().await.unwrap().contains("Closed"));
    b.wait_text("#exceptions", "System upgrade").await;
    b.wait_text("#exceptions", &en_day).await;
    b.wait_text("#contact", "0571-8765 4321").await;
    b.click("#guides details.guide summary").await; // A's guide, folded until tapped
    b.wait_text("#guides", "Bring your original ID card").await;
    b.wait_text("#now", "General services").await;
    // No horizontal scrolling at a phone's width.
    let wide = b
        .js("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(wide, Value::Bool(true), "the page fits 390 px");
    b.snap("hall.png").await;
    b.goto(&format!("{}/hall?lang=zh-Hant", app.url)).await;
    b.wait_text("#exceptions", "系統升級").await;
    b.close().await;

    // An unknown branch has no page.
    let r = app.get("/hall/99", None).await;
    assert_eq!(r.status(), 404);
}

//! The staff console's desk and phone work (issue #12) in a real headless Chromium against the
//! real server: a booked customer checked in by today's booking and the last four digits of
//! their number (the console shows the ticket number to tell them), a booking made for a caller
//! (the code shown to read out), and a ticket issued at the desk for a customer who cannot use
//! the kiosk — each then found in the server's records.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use qhall_tests::TestApp;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_check_in_a_booking_book_for_a_caller_and_issue_at_the_desk() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    app.set_appointments(
        &manager,
        "A",
        json!({"enabled": true, "slot_mins": 15, "places": 4, "horizon_days": 14,
                "lead_mins": 0, "checkin_before_mins": 120, "checkin_after_mins": 10}),
    )
    .await;
    // The console lists today's bookings: the hall's day is put in a time zone where it is now
    // between 02:00 and 20:59, open 00:00–23:45, so today has free times whenever this runs.
    use chrono::Timelike;
    let now = chrono::Utc::now();
    let tz = [
        chrono_tz::Asia::Shanghai,
        chrono_tz::Europe::London,
        chrono_tz::America::New_York,
    ]
    .into_iter()
    .find(|tz| (2..=20).contains(&now.with_timezone(tz).hour()))
    .expect("one of three zones eight hours apart is in its day");
    let day = json!([["00:00", "23:45"]]);
    let (s, v) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/config/hours",
            Some(&manager),
            json!({"time_zone": tz.name(), "weekly": [day, day, day, day, day, day, day], "cutoff_mins": 0}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let today = now.with_timezone(&tz).date_naive();
    let slots = app.slots("A", today).await;
    let first = slots.first().expect("a free time today");
    let start = first["start"].as_str().unwrap().to_owned();
    let r = app
        .post(
            "/api/v1/appointments",
            None,
            json!({"service": "A", "start": start, "mobile": "13800004321"}),
        )
        .await;
    assert_eq!(r.status(), 201);

    let b = Browser::start(1366, 900).await;
    b.goto(&format!("{}/staff?lang=en", app.url)).await;
    b.log_in("staff1").await;
    b.click("button.sign-in[data-window='1']").await;
    b.wait_text(".window-name", "Window 1").await;

    // Check in by today's booking and the last four digits.
    b.click("#booking-check-in").await;
    b.wait_until("#bci-booking option", |s| s.enabled).await;
    b.type_into("#bci-last4", "4321").await;
    b.click("#dlg-booking-check-in button.primary").await;
    let said = b.wait_text("#msg", "checked in: ticket A001").await;
    assert!(said.contains("Appointment"), "{said}");

    // Book for a caller: today, the first free time.
    b.click("#phone-book").await;
    b.wait_until("#pb-slot option", |s| s.enabled).await;
    b.click("#dlg-phone-book button.primary").await;
    let said = b.wait_text("#msg", "booking code").await;
    let code: String = said
        .split("booking code ")
        .nth(1)
        .unwrap()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(9)
        .collect();
    let booked: Value = app
        .get(&format!("/api/v1/appointments/{code}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (booked["state"].as_str(), booked["source"].as_str()),
        (Some("booked"), Some("phone")),
        "{said}: {booked}"
    );

    // A ticket at the desk.
    b.click("#desk-ticket").await;
    b.js("document.getElementById('dt-service').value = 'B'; return true;")
        .await;
    b.click("#dlg-desk-ticket button.primary").await;
    b.wait_text("#msg", "Ticket B001 issued").await;
    let waiting: Value = app
        .get("/api/v1/services", Some(qhall_tests::KIOSK))
        .await
        .json()
        .await
        .unwrap();
    let b_line = waiting
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "B")
        .unwrap();
    assert_eq!(b_line["waiting"], 1);

    // Again, printed at the hall's kiosk: the desk follows the job until the kiosk (here its
    // HTTP calls; its own client is walked in kiosk/tests/server.rs) says it came out.
    b.click("#desk-ticket").await;
    b.js(
        "var s = document.getElementById('dt-service'); s.value = 'B'; \
         return true;",
    )
    .await;
    let mut chosen = false;
    for _ in 0..50 {
        let v = b
            .js(
                "var p = document.getElementById('dt-print'); \
                 for (var i = 0; i < p.options.length; i++) { \
                   if (p.options[i].textContent.indexOf('demo-kiosk') === 0) { p.selectedIndex = i; return true; } } \
                 return false;",
            )
            .await;
        if v == Value::Bool(true) {
            chosen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(chosen, "the kiosk is offered");
    b.click("#dlg-desk-ticket button.primary").await;
    b.wait_text("#msg", "Ticket B002 issued, printing at demo-kiosk")
        .await;
    let jobs: Value = app
        .get("/api/v1/devices/me/print-jobs", Some(qhall_tests::KIOSK))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jobs.as_array().unwrap().len(), 1, "{jobs}");
    assert_eq!(jobs[0]["ticket"]["number"], "B002");
    let id = jobs[0]["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/devices/me/print-jobs/{id}"),
            Some(qhall_tests::KIOSK),
            serde_json::json!({"printed": true}),
        )
        .await;
    assert_eq!(r.status(), 204);
    b.wait_text("#msg", "Ticket B002 printed at demo-kiosk")
        .await;
    b.close().await;
}

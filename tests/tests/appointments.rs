//! Appointments (issue #12, first part) against the real server: the slots of a day follow the
//! hall's hours and breaks; a booking gets a code, its confirmation and two reminders in the
//! outbox; each refusal has its own code and changes nothing; a cancelled booking frees its place
//! and its reminders; a holiday added later cancels the day's bookings, tells their customers and
//! lists them for the manager; 50 concurrent bookings for the last place give exactly one, on
//! either backend and with two servers on one PostgreSQL.

use std::time::Duration;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use qhall_tests::{ServerProcess, TestApp, pg_database, query_texts};
use serde_json::{Value, json};

const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// A weekday at least two days ahead (Shanghai).
fn booking_day() -> NaiveDate {
    let mut d = Utc::now().with_timezone(&TZ).date_naive() + chrono::Duration::days(2);
    while d.weekday().num_days_from_monday() >= 5 {
        d = d.succ_opt().unwrap();
    }
    d
}

/// `day` at `hh:mm` Shanghai, as the API writes instants.
fn at(day: NaiveDate, hh: u32, mm: u32) -> String {
    TZ.from_local_datetime(&day.and_hms_opt(hh, mm, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Office hours 09:00–12:00 and 13:00–17:00 on weekdays, and bookings for service A.
async fn office_with_bookings(app: &TestApp, places: u32) -> String {
    let manager = app.login("manager").await;
    let day = json!([["09:00", "12:00"], ["13:00", "17:00"]]);
    let (s, v) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/config/hours",
            Some(&manager),
            json!({"time_zone": "Asia/Shanghai", "weekly": [day, day, day, day, day, [], []], "cutoff_mins": 0}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let settings = json!({"enabled": true, "slot_mins": 15, "places": places, "horizon_days": 14,
        "lead_mins": 60, "checkin_before_mins": 30, "checkin_after_mins": 10});
    let (s, v) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/config/services/A/appointments",
            Some(&manager),
            settings.clone(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["enabled"].clone(), v["places"].clone()),
        (json!(true), json!(places))
    );
    manager
}

async fn book(app: &TestApp, body: Value) -> (u16, Value) {
    let r = app.post("/api/v1/appointments", None, body).await;
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn bookings_keep_their_rules_and_a_holiday_cancels_them() {
    // Above the per-address limit: this test makes more than 10 requests from one address.
    let app = TestApp::spawn_with_config(|c| c.booking_limit = 1000).await;
    let manager = office_with_bookings(&app, 2).await;
    let day = booking_day();

    let slots = app.slots("A", day).await;
    let starts: Vec<&str> = slots.iter().map(|s| s["start"].as_str().unwrap()).collect();
    assert_eq!(
        starts.len(),
        7 * 4,
        "3 h and 4 h of 15-minute slots: {slots:?}"
    );
    assert_eq!(
        starts[0]
            .parse::<chrono::DateTime<Utc>>()
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        at(day, 9, 0)
    );
    assert!(
        !starts
            .iter()
            .any(|s| s.parse::<chrono::DateTime<Utc>>().unwrap()
                == at(day, 12, 15).parse::<chrono::DateTime<Utc>>().unwrap()),
        "no slot in the break"
    );

    let ten = at(day, 10, 0);
    let (s, first) = book(
        &app,
        json!({"service": "A", "start": ten, "mobile": "13800138000", "lang": "en"}),
    )
    .await;
    assert_eq!(s, 201, "{first}");
    let first_code = first["code"].as_str().unwrap().to_owned();
    assert_eq!(first_code.len(), 9);
    assert!(
        first_code
            .bytes()
            .all(|b| b"23456789ABCDEFGHJKMNPQRSTUVWXYZ".contains(&b))
    );
    assert_eq!(first["mobile"], "138****8000");
    assert_eq!(first["state"], "booked");
    let seen: Value = app
        .get(&format!("/api/v1/appointments/{first_code}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["state"], "booked");

    // Each refusal with its own code; nothing changes.
    for (body, status, expected) in [
        (
            json!({"service": "A", "start": at(day, 11, 0), "mobile": "138 0013 8000"}),
            409,
            "already_booked",
        ),
        (
            json!({"service": "A", "start": at(day, 12, 15)}),
            422,
            "not_a_slot",
        ),
        (
            json!({"service": "A", "start": at(day, 10, 7)}),
            422,
            "not_a_slot",
        ),
        (
            json!({"service": "A", "start": at(day - chrono::Duration::days(3), 10, 0)}),
            422,
            "slot_in_past",
        ),
        (
            json!({"service": "A", "start": at(day + chrono::Duration::days(21), 10, 0)}),
            422,
            "beyond_horizon",
        ),
        (
            json!({"service": "B", "start": ten}),
            409,
            "appointments_off",
        ),
        (
            json!({"service": "A", "start": ten, "mobile": "12"}),
            422,
            "invalid_mobile",
        ),
        (
            json!({"service": "A", "start": ten, "lang": "fr"}),
            422,
            "invalid_lang",
        ),
    ] {
        let (s, v) = book(&app, body.clone()).await;
        assert_eq!((s, code(&v)), (status, expected), "{body}: {v}");
    }
    let (s, v) = book(&app, json!({"service": "Q", "start": ten})).await;
    assert_eq!((s, code(&v)), (404, "unknown_service"));
    // The second place of 10:00, then the slot is full.
    let (s, second) = book(
        &app,
        json!({"service": "A", "start": ten, "mobile": "13900139000"}),
    )
    .await;
    assert_eq!(s, 201, "{second}");
    let (s, v) = book(
        &app,
        json!({"service": "A", "start": ten, "mobile": "13700137000"}),
    )
    .await;
    assert_eq!((s, code(&v)), (409, "slot_full"));

    // The confirmation now, the reminders a day and an hour before.
    let id = first["id"].as_i64().unwrap();
    let rows = query_texts(
        &app.database_url,
        &format!("SELECT kind || ' ' || CAST(next_at AS TEXT) FROM messages WHERE booking_id = {id} ORDER BY next_at"),
    )
    .await;
    let start_ms = ten
        .parse::<chrono::DateTime<Utc>>()
        .unwrap()
        .timestamp_millis();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows[0].starts_with("booked "));
    assert_eq!(rows[1], format!("reminder {}", start_ms - 86_400_000));
    assert_eq!(rows[2], format!("reminder {}", start_ms - 3_600_000));
    let text = query_texts(
        &app.database_url,
        &format!("SELECT body FROM messages WHERE booking_id = {id} AND kind = 'booked'"),
    )
    .await;
    assert!(
        text[0].contains(&first_code) && text[0].contains("10:00"),
        "{text:?}"
    );

    // The second customer cancels: the place is free again, its reminders go.
    let second_code = second["code"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/appointments/{second_code}/cancel"),
            None,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .post(
            &format!("/api/v1/appointments/{second_code}/cancel"),
            None,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 409, "cancelled once");
    let slots = app.slots("A", day).await;
    let ten_slot = slots
        .iter()
        .find(|s| {
            s["start"]
                .as_str()
                .unwrap()
                .parse::<chrono::DateTime<Utc>>()
                .unwrap()
                .timestamp_millis()
                == start_ms
        })
        .unwrap();
    assert_eq!(ten_slot["free"], 1);
    let sid = second["id"].as_i64().unwrap();
    let states = query_texts(
        &app.database_url,
        &format!("SELECT state FROM messages WHERE booking_id = {sid} AND kind = 'reminder'"),
    )
    .await;
    assert_eq!(states, ["cancelled", "cancelled"]);

    // A holiday over the booked day cancels the booking, tells the customer, lists it.
    let (s, v) = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/config/exceptions/{day}"),
            Some(&manager),
            json!({"periods": [], "note": "放假", "note_en": "Holiday"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let seen: Value = app
        .get(&format!("/api/v1/appointments/{first_code}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (seen["state"].as_str(), seen["cancel_reason"].as_str()),
        (Some("cancelled"), Some("closed"))
    );
    // The booking's own page says so, and offers neither cancel nor move.
    let page = app
        .get(&format!("/book/{first_code}?lang=en"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Cancelled: the hall is closed then"),
        "{page}"
    );
    assert!(!page.contains("booking-cancel"));
    let list: Value = app
        .get(&format!("/api/v1/appointments?day={day}"), Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    let listed: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["code"].as_str().unwrap(),
                b["cancel_reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(listed.contains(&(first_code.as_str(), "closed")), "{list}");
    assert!(!list.to_string().contains("13800138000"), "numbers masked");
    let kinds = query_texts(
        &app.database_url,
        &format!("SELECT kind || ' ' || state FROM messages WHERE booking_id = {id} ORDER BY id"),
    )
    .await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| k.starts_with("reminder "))
            .map(|k| k.as_str())
            .collect::<Vec<_>>(),
        ["reminder cancelled", "reminder cancelled"]
    );
    assert!(
        kinds.iter().any(|k| k.starts_with("booking_cancelled ")),
        "{kinds:?}"
    );
    let (s, v) = book(&app, json!({"service": "A", "start": at(day, 11, 0)})).await;
    assert_eq!(
        (s, code(&v)),
        (422, "not_a_slot"),
        "nothing to book on a holiday"
    );
    let audit: Value = app
        .get("/api/v1/audit", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        audit
            .to_string()
            .contains("appointments.cancelled_by_hours")
    );
    // Unknown codes.
    let r = app.get("/api/v1/appointments/ZZZZZZZZZ", None).await;
    assert_eq!(r.status(), 404);
}

async fn race(urls: &[String], start: &str) -> Vec<(u16, String)> {
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (client, url, start) = (
            client.clone(),
            urls[i % urls.len()].clone(),
            start.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(format!("{url}/api/v1/appointments"))
                .json(&json!({"service": "A", "start": start, "mobile": format!("1380000{i:04}")}))
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            (
                s,
                v["error"]["code"].as_str().unwrap_or_default().to_owned(),
            )
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn exactly_one(results: &[(u16, String)]) {
    let won = results.iter().filter(|(s, _)| *s == 201).count();
    let full = results
        .iter()
        .filter(|(s, c)| *s == 409 && c == "slot_full")
        .count();
    assert_eq!((won, full), (1, 49), "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_bookings_at_once_for_the_last_place_give_exactly_one() {
    let app = TestApp::spawn_with_config(|c| c.booking_limit = 1000).await;
    office_with_bookings(&app, 1).await;
    let start = at(booking_day(), 14, 30);
    exactly_one(&race(std::slice::from_ref(&app.url), &start).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_bookings_at_once_on_two_servers_and_one_postgres_give_exactly_one() {
    let Some(pg) = pg_database().await else {
        return;
    };
    let args = ["--booking-limit", "1000"];
    let a = ServerProcess::start_with(&pg.url, &args).unwrap();
    let b = ServerProcess::start_with(&pg.url, &args).unwrap();
    let app = TestApp::spawn_on(pg.url.clone()).await;
    office_with_bookings(&app, 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = at(booking_day(), 15, 45);
    exactly_one(&race(&[a.url.clone(), b.url.clone()], &start).await);
}

#[tokio::test]
async fn quick_bookings_from_one_address_meet_429() {
    let app = TestApp::spawn().await;
    office_with_bookings(&app, 50).await;
    let start = at(booking_day(), 16, 0);
    let mut limited = 0;
    for i in 0..30 {
        let (s, _) = book(
            &app,
            json!({"service": "A", "start": start, "mobile": format!("1360000{i:04}")}),
        )
        .await;
        if s == 429 {
            limited += 1;
        }
    }
    assert!(limited >= 20, "only {limited} of 30 were limited");
}

/// The other ways in (issue #12): the hall's booking portal books with a device token of its
/// own (source `api`, in its branch, not limited per address); staff book for a caller
/// (`phone`), check a customer in by the slot and the last four digits of the number, and issue
/// a ticket at the desk that the ticket's history says they issued. A kiosk may not book, and
/// the check-in's refusals each have their code.
#[tokio::test]
async fn the_portal_and_staff_book_and_check_in() {
    let app = TestApp::spawn_with_config(|c| c.booking_limit = 1).await;
    let manager = app.login("manager").await;
    app.set_appointments(&manager, "A", json!({"enabled": true, "slot_mins": 15, "places": 3, "horizon_days": 14,
                "lead_mins": 0, "checkin_before_mins": 120, "checkin_after_mins": 10, "prefix": "Y"})).await;
    // B may not take A's prefix, nor a service's own letter.
    for prefix in ["Y", "B"] {
        let (s, v) = app
            .send_json(
                reqwest::Method::PUT,
                "/api/v1/config/services/B/appointments",
                Some(&manager),
                json!({"enabled": true, "slot_mins": 15, "places": 1, "horizon_days": 14,
                    "lead_mins": 0, "checkin_before_mins": 30, "checkin_after_mins": 10, "prefix": prefix}),
            )
            .await;
        assert_eq!(
            (s, code(&v)),
            (422, "invalid_appointment_settings"),
            "{prefix}"
        );
    }
    let (s, device) = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/devices",
            Some(&manager),
            json!({"name": "portal", "role": "booking"}),
        )
        .await;
    assert_eq!(s, 201, "{device}");
    let portal = device["token"].as_str().unwrap().to_owned();
    // The first slot still ahead (the demo hall is open around the clock).
    let start = app.first_slot_ahead("A").await;

    // The portal books twice from one address (the public limit here is 1 a minute).
    let staff = app.login("staff1").await;
    let mut codes = Vec::new();
    let mut day = String::new();
    for (token, mobile, source) in [
        (portal.as_str(), "13800001234", "api"),
        (portal.as_str(), "13900005678", "api"),
        (staff.as_str(), "13700009999", "phone"),
    ] {
        let r = app
            .post(
                "/api/v1/appointments",
                Some(token),
                json!({"service": "A", "start": start, "mobile": mobile}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["source"], source);
        codes.push(v["code"].as_str().unwrap().to_owned());
        day = v["day"].as_str().unwrap().to_owned();
    }
    let r = app
        .post(
            "/api/v1/appointments",
            Some(qhall_tests::KIOSK),
            json!({"service": "A", "start": start}),
        )
        .await;
    assert_eq!(r.status(), 403, "a kiosk does not book");

    // Staff check the second in by its slot and the last four digits.
    let check_in = |body: Value| {
        let app = &app;
        let staff = staff.clone();
        async move {
            let r = app
                .post("/api/v1/appointments/check-in", Some(&staff), body)
                .await;
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = check_in(json!({"service": "A", "start": start, "last4": "0000"})).await;
    assert_eq!((s, code(&v)), (404, "unknown_booking"));
    let (s, v) = check_in(json!({"service": "A", "start": start, "last4": "12a"})).await;
    assert_eq!((s, code(&v)), (422, "invalid_last4"));
    let (s, t) = check_in(json!({"service": "A", "start": start, "last4": "5678"})).await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["number"], "Y001");
    assert!(t["appointment"]["time"].as_str().unwrap().len() == 5);
    // The same one again by its code: the same ticket, 200.
    let (s, again) = check_in(json!({"code": codes[1]})).await;
    assert_eq!((s, again["number"].as_str()), (200, Some("Y001")));
    assert_eq!(again["appointment"]["reprint"], true);
    // The staff's booking, cancelled, is refused as such.
    let r = app
        .post(
            &format!("/api/v1/appointments/{}/cancel", codes[2]),
            None,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let (s, v) = check_in(json!({"code": codes[2]})).await;
    assert_eq!((s, code(&v)), (409, "booking_cancelled"));
    let (s, v) = check_in(json!({"code": "ZZZZZZZZZ"})).await;
    assert_eq!((s, code(&v)), (404, "unknown_booking"));
    let (s, v) = check_in(json!({"code": "A", "last4": "1234"})).await;
    assert_eq!((s, code(&v)), (422, "invalid_body"));

    // The desk: staff issue for a customer; the history says who.
    let r = app
        .post("/api/v1/tickets", Some(&staff), json!({"service": "B"}))
        .await;
    assert_eq!(r.status(), 201);
    let t: Value = r.json().await.unwrap();
    let who = query_texts(
        &app.database_url,
        &format!(
            "SELECT u.username FROM ticket_events e JOIN tickets t ON t.key = e.ticket_key \
             JOIN users u ON u.id = e.staff_user_id WHERE t.id = '{}' AND e.kind = 'issue'",
            t["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(who, ["staff1"]);

    // Staff see the day's bookings (numbers masked); the report counts them.
    let list: Value = app
        .get(&format!("/api/v1/appointments?day={day}"), Some(&staff))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
    assert!(list.to_string().contains("****5678"), "{list}");
    assert!(!list.to_string().contains("13900005678"), "numbers masked");
    let csv = app
        .get(
            &format!("/api/v1/reports/appointments.csv?from={day}&to={day}"),
            Some(&manager),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("day,service,made,cancelled,checked_in,late,no_show,called"),
        "{csv}"
    );
    assert!(csv.contains("total,,3,1,1,0,0,0"), "{csv}");
}

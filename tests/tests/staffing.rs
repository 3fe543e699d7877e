//! The staffing advisor against the real server: a history written into the database (tickets
//! served at known times, windows signed in and paused at known times) gives the windows
//! needed that an independent Erlang C computation gives, beside the windows open; only
//! managers may ask; bad questions are refused with a code. The page draws the grid in a real
//! Chromium.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use qhall_tests::{KIOSK, TestApp};
use serde_json::Value;

const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// Erlang C written out from its textbook form (sums of `A^k / k!`), independent of the
/// server's Erlang B recursion: the fewest windows from one upward whose service level
/// `1 − C·e^{−(c−A)·t/AHT}` reaches `goal`.
fn erlang_needed(per_hour: f64, aht: f64, target: f64, goal: f64) -> u32 {
    let a = per_hour * aht / 3600.0;
    let mut c = 1u32;
    loop {
        let cf = f64::from(c);
        if cf > a {
            let mut sum = 0.0;
            let mut term = 1.0; // A^k / k!
            for k in 0..c {
                if k > 0 {
                    term *= a / f64::from(k);
                }
                sum += term;
            }
            let last = term * a / cf; // A^c / c!
            let top = last * cf / (cf - a);
            let p_wait = top / (sum + top);
            if 1.0 - p_wait * (-(cf - a) * target / aht).exp() >= goal {
                return c;
            }
        }
        c += 1;
    }
}

/// The instant of branch-local `day` at `h:m`.
fn local(day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    TZ.from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// SQL for `n` tickets of `service` issued from `day` at `hour`:00, one every `every` seconds,
/// each called 30 s later and served for `service_secs` at window 1.
fn served(
    service: &str,
    day: NaiveDate,
    hour: u32,
    n: u32,
    every: i64,
    service_secs: i64,
) -> Vec<String> {
    (0..n)
        .map(|i| {
            let issued = local(day, hour, 0) + Duration::seconds(i64::from(i) * every);
            let called = issued + Duration::seconds(30);
            let start = called + Duration::seconds(30);
            let done = start + Duration::seconds(service_secs);
            let ms = |t: DateTime<Utc>| t.timestamp_millis();
            format!(
                "INSERT INTO tickets (id, branch_id, service_code, issued_service, number, number_seq, day, priority, \
                 status, issued_at, queue_at, window_number, first_called_at, last_called_at, serving_at, done_at, \
                 estimate_ahead, estimate_secs) VALUES ('h-{service}{i}-{day}-{hour}', 1, '{service}', '{service}', '{service}{n:03}', {n}, \
                 '{day}', FALSE, 'done', {iss}, {iss}, 1, {cal}, {cal}, {st}, {dn}, 0, 0)",
                n = 500 + i,
                iss = ms(issued),
                cal = ms(called),
                st = ms(start),
                dn = ms(done),
            )
        })
        .collect()
}

fn log(window: u32, kind: &str, at: DateTime<Utc>) -> String {
    format!(
        "INSERT INTO window_log (branch_id, window_number, kind, at) VALUES (1, {window}, '{kind}', {})",
        at.timestamp_millis()
    )
}

/// A history on `day` (three days ago, so inside a one-week history whichever side of local
/// midnight the server reads its clock): 30 A tickets between 10:00 and 11:00 served in 6 min
/// each, 3 B tickets served in 4 min; window 1 (A, B) open 09:30–11:00, window 4 (C, A)
/// 10:00–11:00 with a pause 10:15–10:45, window 3 (B, A, D) 10:00–10:30.
async fn history(app: &TestApp) -> NaiveDate {
    let day = Utc::now().with_timezone(&TZ).date_naive() - Duration::days(3);
    let mut sql = served("A", day, 10, 30, 120, 360);
    sql.extend(served("B", day, 10, 3, 1200, 240));
    sql.extend([
        log(1, "sign_in", local(day, 9, 30)),
        log(1, "sign_out", local(day, 11, 0)),
        log(4, "sign_in", local(day, 10, 0)),
        log(4, "pause", local(day, 10, 15)),
        log(4, "resume", local(day, 10, 45)),
        log(4, "sign_out", local(day, 11, 0)),
        log(3, "sign_in", local(day, 10, 0)),
        log(3, "sign_out", local(day, 10, 30)),
    ]);
    app.sql(&sql).await;
    day
}

async fn advice(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/staffing/advice{query}"), Some(token))
        .await;
    assert_eq!(r.status(), 200, "{query}");
    r.json().await.unwrap()
}

fn cell(v: &Value, day: NaiveDate, hour: usize) -> &Value {
    let d = &v["days"][day.weekday().num_days_from_monday() as usize];
    assert_eq!(d["weekday"], day.weekday().number_from_monday());
    &d["hours"][hour]
}

fn close(a: &Value, b: f64) -> bool {
    (a.as_f64().unwrap() - b).abs() < 1e-9
}

#[tokio::test]
async fn the_advice_is_erlang_c_over_the_history_beside_the_windows_open() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let day = history(&app).await;

    // One week, service A: 30 arrivals in the hour, 6 min each, 15 min target, 80 %.
    let v = advice(&app, &manager, "?weeks=1&goal=0.8&service=A").await;
    assert_eq!(v["weeks"], 1);
    assert_eq!(v["service"], "A");
    let a = &v["services"][0];
    assert_eq!((&a["arrivals"], &a["served"]), (&30.into(), &30.into()));
    assert!(close(&a["mean_service_secs"], 360.0), "{a}");
    let c = cell(&v, day, 10);
    let need_a = erlang_needed(30.0, 360.0, 900.0, 0.8);
    assert_eq!(need_a, 4, "the reference figure itself");
    assert!(close(&c["arrivals_per_hour"], 30.0), "{c}");
    assert_eq!(c["needed"], need_a);
    // Windows 1, 3 and 4 all serve A: 1 + 0.5 + 0.5 open in that hour; window 1 half of 9–10.
    assert!(close(&c["open"], 2.0), "{c}");
    assert!(close(&cell(&v, day, 9)["open"], 0.5));
    assert_eq!(cell(&v, day, 9)["needed"], 0);
    // Nothing anywhere else in the week.
    let total_needed: u64 = v["days"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["hours"].as_array().unwrap())
        .map(|h| h["needed"].as_u64().unwrap())
        .sum();
    assert_eq!(total_needed, u64::from(need_a));

    // Over two weeks the same history is half the arrivals and half the open windows.
    let v = advice(&app, &manager, "?weeks=2&goal=0.8&service=A").await;
    let c = cell(&v, day, 10);
    assert!(close(&c["arrivals_per_hour"], 15.0));
    assert_eq!(c["needed"], erlang_needed(15.0, 360.0, 900.0, 0.8));
    assert!(close(&c["open"], 1.0));

    // A higher goal needs at least as many windows.
    let v = advice(&app, &manager, "?weeks=1&goal=0.95&service=A").await;
    assert_eq!(
        cell(&v, day, 10)["needed"],
        erlang_needed(30.0, 360.0, 900.0, 0.95)
    );

    // All services: what A needs plus what B needs (3 an hour, 4 min, 10 min target); every
    // window counts as open.
    let v = advice(&app, &manager, "?weeks=1").await;
    assert_eq!(v["service"], Value::Null);
    assert!((v["goal"].as_f64().unwrap() - 0.8).abs() < 1e-12);
    let c = cell(&v, day, 10);
    assert!(close(&c["arrivals_per_hour"], 33.0));
    assert_eq!(c["needed"], need_a + erlang_needed(3.0, 240.0, 600.0, 0.8));
    assert!(close(&c["open"], 2.0));
    let services: Vec<&str> = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    assert_eq!(services, ["A", "B", "C", "D"]);
    // C had no tickets: its default service time is used and it needs nothing.
    assert_eq!(v["services"][2]["default_service_time"], true);

    // Service C: only window 4 serves it, open half of 10–11.
    let v = advice(&app, &manager, "?weeks=1&service=C").await;
    let c = cell(&v, day, 10);
    assert_eq!(c["needed"], 0);
    assert!(close(&c["open"], 0.5));
}

#[tokio::test]
async fn only_managers_ask_and_bad_questions_are_refused_with_a_code() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let staff = app.login("staff1").await;
    assert_eq!(app.get("/api/v1/staffing/advice", None).await.status(), 401);
    for token in [staff.as_str(), KIOSK] {
        assert_eq!(
            app.get("/api/v1/staffing/advice", Some(token))
                .await
                .status(),
            403
        );
    }
    assert_eq!(
        app.get("/api/v1/staffing/advice?branch=2", Some(&manager))
            .await
            .status(),
        403
    );
    for (query, status, code) in [
        ("?weeks=0", 422, "invalid_weeks"),
        ("?weeks=27", 422, "invalid_weeks"),
        ("?goal=1", 422, "invalid_goal"),
        ("?goal=0", 422, "invalid_goal"),
        ("?goal=-0.5", 422, "invalid_goal"),
        ("?service=Z", 404, "unknown_service"),
        ("?service=AB", 404, "unknown_service"),
    ] {
        let r = app
            .get(&format!("/api/v1/staffing/advice{query}"), Some(&manager))
            .await;
        assert_eq!(r.status(), status, "{query}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], code, "{query}");
    }
    for query in ["?weeks=x", "?goal=lots", "?weeks=-1"] {
        let r = app
            .get(&format!("/api/v1/staffing/advice{query}"), Some(&manager))
            .await;
        assert_eq!(r.status(), 400, "{query}");
    }
    // An empty hall: nothing needed, nothing open.
    let v = advice(&app, &manager, "").await;
    assert_eq!(v["weeks"], 4);
    assert!(
        v["days"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|d| d["hours"].as_array().unwrap())
            .all(|h| h["needed"] == 0 && h["open"] == 0.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staffing_page_draws_needed_beside_open_and_marks_the_short_hours() {
    let app = TestApp::spawn().await;
    let day = history(&app).await;
    busy_week(&app, day).await;
    let b = Browser::start(1440, 1000).await;
    b.goto(&format!("{}/manage/staffing?lang=en", app.url))
        .await;
    b.log_in("manager").await;
    b.find("#advice-weeks").await;
    b.type_into("#advice-weeks", "1").await;
    b.click("#advice-show").await;
    b.wait_text("#advice-basis", "1 week(s)").await;
    let wd = day.weekday().number_from_monday();
    let sel = format!("#advice-grid tr[data-weekday='{wd}'] td[data-hour='10']");
    // The page shows what the route says.
    let manager = app.login("manager").await;
    let v = advice(&app, &manager, "?weeks=1").await;
    let c = cell(&v, day, 10);
    let needed = c["needed"].as_u64().unwrap();
    assert!(needed > 2, "{c}");
    b.wait_text(&format!("{sel} .needed"), &needed.to_string())
        .await;
    b.wait_text(&format!("{sel} .open"), "2").await;
    let class = b
        .js(&format!(
            "return document.querySelector(\"{sel}\").className;"
        ))
        .await;
    assert!(class.as_str().unwrap().contains("short"), "{class}");
    b.wait_text("#advice-summary", "with fewer windows open")
        .await;
    // `QHALL_WRITE_DOCS=1` saves the screenshots in docs/.
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let write_docs = std::env::var_os("QHALL_WRITE_DOCS").is_some();
    if write_docs {
        b.screenshot(&shots.join("manage-staffing.png")).await;
    }

    // One service: C needs nothing, and window 4 was open half the hour.
    b.js("var s = document.getElementById('advice-service'); s.value = 'C'; s.dispatchEvent(new Event('change')); return true;")
        .await;
    b.wait_text("#advice-basis", "C Passports").await;
    b.wait_text(&format!("{sel} .open"), "0.5").await;
    b.wait_text("#advice-summary", "Every hour with demand")
        .await;

    // In Chinese: four weeks by default, then the one week of history.
    b.goto(&format!("{}/manage/staffing?lang=zh", app.url))
        .await;
    b.wait_text("#advice-basis", "4 周").await;
    b.js("document.getElementById('advice-weeks').value = ''; return true;")
        .await;
    b.type_into("#advice-weeks", "1").await;
    b.click("#advice-show").await;
    b.wait_text("#advice-basis", "1 周").await;
    if write_docs {
        b.screenshot(&shots.join("manage-staffing-zh.png")).await;
    }
    b.close().await;
}

/// More history for the page's picture: the other six days of the week, 09:00–17:00, a morning
/// peak of A tickets, windows 1 and 2 open all day and window 4 in the morning.
async fn busy_week(app: &TestApp, except: NaiveDate) {
    let today = Utc::now().with_timezone(&TZ).date_naive();
    let mut sql = Vec::new();
    for back in 1..=7 {
        let d = today - Duration::days(back);
        if d == except {
            continue;
        }
        for h in 9..17u32 {
            let n = 6
                + (h * 7 + back as u32 * 3) % 13
                + if (10..12).contains(&h) {
                    16
                } else if h < 12 {
                    8
                } else {
                    0
                };
            sql.extend(served("A", d, h, n, 3600 / i64::from(n), 300));
        }
        sql.extend([
            log(1, "sign_in", local(d, 9, 0)),
            log(1, "sign_out", local(d, 17, 0)),
            log(2, "sign_in", local(d, 9, 0)),
            log(2, "sign_out", local(d, 17, 0)),
            log(4, "sign_in", local(d, 9, 0)),
            log(4, "sign_out", local(d, 12, 0)),
        ]);
    }
    app.sql(&sql).await;
}

/// The coming week's bookings against the capacity (issue #12): three bookings of A at 10:00
/// on the same weekday as the history's day take 3 × 6 minutes (A's mean service time in the
/// history) of the 2.0 windows × 60 minutes open on average then: 15 %.
#[tokio::test]
async fn the_advice_shows_the_share_of_the_capacity_bookings_take() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let day = history(&app).await;
    app.set_appointments(
        &manager,
        "A",
        serde_json::json!({"enabled": true, "slot_mins": 15, "places": 3, "horizon_days": 14,
                "lead_mins": 60, "checkin_before_mins": 30, "checkin_after_mins": 10}),
    )
    .await;
    let coming = day + Duration::days(7);
    for mobile in ["13800000001", "13800000002", "13800000003"] {
        let r = app
            .post(
                "/api/v1/appointments",
                Some(&manager),
                serde_json::json!({"service": "A", "start": local(coming, 10, 0), "mobile": mobile}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let v = advice(&app, &manager, "?weeks=1&service=A").await;
    let booked = v["booked"].as_array().unwrap();
    assert_eq!(booked.len(), 7);
    let d = booked
        .iter()
        .find(|d| d["day"] == coming.to_string())
        .expect("the booked day");
    assert_eq!(d["hours"].as_array().unwrap().len(), 1, "{d}");
    let h = &d["hours"][0];
    assert_eq!(
        (h["hour"].as_u64(), h["bookings"].as_u64()),
        (Some(10), Some(3))
    );
    assert!(close(&h["booked_mins"], 18.0), "{h}");
    assert!(close(&h["capacity_mins"], 120.0), "{h}");
    assert!(close(&h["share"], 0.15), "{h}");
    // Service B has no bookings.
    let v = advice(&app, &manager, "?weeks=1&service=B").await;
    assert!(
        v["booked"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["hours"].as_array().unwrap().is_empty())
    );
}

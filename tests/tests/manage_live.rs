//! The manager's live page against the real server: `GET /api/v1/live` counts a constructed
//! hall exactly and raises exactly the alerts it should (run with `QHALL_TEST_BACKEND=postgres`
//! for PostgreSQL); the thresholds are changed only by managers, validated and audited; and in a
//! real Chromium the page follows an issued ticket and a call without being reloaded.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use chrono::{Duration, Utc};
use qhall_tests::{KIOSK, TestApp};
use serde_json::{Value, json};

/// SQL for a ticket of `service` waiting since `minutes_ago`, numbered `number` (900s, clear
/// of the numbers the kiosk issues).
fn waiting_since(service: &str, number: u32, minutes_ago: i64) -> String {
    let at = Utc::now() - Duration::minutes(minutes_ago);
    let day = at
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
        .to_string();
    let ms = at.timestamp_millis();
    format!(
        "INSERT INTO tickets (id, branch_id, service_code, issued_service, number, number_seq, day, priority, \
         status, issued_at, queue_at, estimate_ahead, estimate_secs) VALUES \
         ('old-{service}{number}', 1, '{service}', '{service}', '{service}{number}', {number}, '{day}', FALSE, \
         'waiting', {ms}, {ms}, 0, 0)"
    )
}

/// SQL for a complaint due `days` from now (negative: overdue) with `status`.
fn complaint(status: &str, due_in_days: i64) -> String {
    let now = Utc::now().timestamp_millis();
    let due = (Utc::now() + Duration::days(due_in_days)).timestamp_millis();
    format!(
        "INSERT INTO complaints (branch_id, staff_user_id, category, description, status, created_at, due_at) \
         SELECT 1, id, 'waiting', 'waited long', '{status}', {now}, {due} FROM users WHERE username = 'staff1'"
    )
}

async fn live(app: &TestApp, token: &str) -> Value {
    let r = app.get("/api/v1/live", Some(token)).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn service<'a>(v: &'a Value, code: &str) -> &'a Value {
    v["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == code)
        .unwrap_or_else(|| panic!("no service {code} in {v}"))
}

fn window(v: &Value, n: u64) -> &Value {
    v["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["window"] == n)
        .unwrap_or_else(|| panic!("no window {n} in {v}"))
}

#[tokio::test]
async fn the_live_figures_and_alerts_of_a_constructed_hall_are_exact() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let staff4 = app.login("staff4").await;

    // Window 4 (serves C, A) calls the first A ticket; two more A tickets wait.
    let first = app.issue("A").await;
    app.sign_in(4, &staff4).await;
    assert_eq!(
        app.call_next(4, &staff4).await.unwrap().number,
        first.number
    );
    app.issue("A").await;
    app.issue("A").await;
    // An A ticket waiting 13 min (target 15: past 80 %), a B ticket 11 min (target 10: over).
    // One complaint overdue, one overdue but resolved, one not yet due.
    app.sql(&[
        &waiting_since("A", 901, 13),
        &waiting_since("B", 901, 11),
        &complaint("open", -1),
        &complaint("resolved", -1),
        &complaint("assigned", 3),
    ])
    .await;
    // The kiosk's printer is out of paper.
    let r = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/devices/me/state",
            Some(KIOSK),
        )
        .json(&json!({"printer": "no_paper", "detail": "roll empty"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // One waiting per open window is the most this manager tolerates.
    let r = app
        .request(reqwest::Method::PUT, "/api/v1/live/alerts", Some(&manager))
        .json(&json!({"warn_percent": 80, "per_window": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let v = live(&app, &manager).await;
    assert_eq!(v["settings"], json!({"warn_percent": 80, "per_window": 1}));
    let a = service(&v, "A");
    assert_eq!(
        (
            &a["waiting"],
            &a["level"],
            &a["open_windows"],
            &a["target_wait_secs"]
        ),
        (&json!(3), &json!("warn"), &json!(1), &json!(900))
    );
    let longest = a["longest_wait_secs"].as_u64().unwrap();
    assert!((780..800).contains(&longest), "{longest}");
    assert!(a["estimate_secs"].as_u64().unwrap() > 0);
    let b = service(&v, "B");
    assert_eq!(
        (&b["waiting"], &b["level"], &b["open_windows"]),
        (&json!(1), &json!("over"), &json!(0))
    );
    let c = service(&v, "C");
    assert_eq!(
        (&c["waiting"], &c["level"], &c["longest_wait_secs"]),
        (&json!(0), &json!("ok"), &Value::Null)
    );
    assert_eq!(v["services"].as_array().unwrap().len(), 4);

    let w4 = window(&v, 4);
    assert_eq!(w4["state"], "open");
    assert_eq!(w4["staff"], "staff4");
    assert_eq!(w4["current"]["number"], first.number.as_str());
    assert_eq!(w4["current"]["status"], "called");
    assert_eq!(w4["idle_secs"], Value::Null);
    assert_eq!(w4["serves"], json!(["C", "A"]));
    let w1 = window(&v, 1);
    assert_eq!(
        (&w1["state"], &w1["staff"], &w1["current"]),
        (&json!("closed"), &Value::Null, &Value::Null)
    );

    assert_eq!(v["overdue_complaints"], 1);
    let kiosk = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["role"] == "kiosk")
        .unwrap();
    assert_eq!(kiosk["printer_state"], "no_paper");

    // Most urgent first; window 1 (A, B) is the one to open for both lines.
    let alerts = v["alerts"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = alerts
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap(),
                a["service"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("over_target", "B"),
            ("about_to_miss", "A"),
            ("open_window", "A"),
            ("open_window", "B"),
            ("printer", ""),
            ("complaints_overdue", ""),
        ]
    );
    assert_eq!(alerts[0]["suggest_window"], 1);
    assert_eq!(
        (
            &alerts[2]["waiting"],
            &alerts[2]["open_windows"],
            &alerts[2]["suggest_window"]
        ),
        (&json!(3), &json!(1), &json!(1))
    );
    assert_eq!(alerts[3]["open_windows"], 0);
    assert_eq!(alerts[4]["device"], "demo-kiosk");
    assert_eq!(alerts[5]["count"], 1);

    // With the default thresholds (6 per window) the crowding alerts go: A has 3 for 1 window,
    // but B has 1 for none.
    let r = app
        .request(reqwest::Method::PUT, "/api/v1/live/alerts", Some(&manager))
        .json(&json!({"warn_percent": 80, "per_window": 6}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = live(&app, &manager).await;
    let kinds: Vec<&str> = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "over_target",
            "about_to_miss",
            "open_window",
            "printer",
            "complaints_overdue"
        ]
    );
}

#[tokio::test]
async fn only_managers_see_the_live_page_and_change_its_thresholds_which_are_audited() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let staff = app.login("staff1").await;

    assert_eq!(app.get("/api/v1/live", None).await.status(), 401);
    for token in [staff.as_str(), KIOSK] {
        assert_eq!(app.get("/api/v1/live", Some(token)).await.status(), 403);
        let r = app
            .request(reqwest::Method::PUT, "/api/v1/live/alerts", Some(token))
            .json(&json!({"warn_percent": 50, "per_window": 2}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
    // A manager sees only its own branch.
    assert_eq!(
        app.get("/api/v1/live?branch=2", Some(&manager))
            .await
            .status(),
        403
    );

    // Out of range or malformed: refused with a code, nothing changed.
    for (body, code) in [
        (
            json!({"warn_percent": 0, "per_window": 6}),
            "invalid_warn_percent",
        ),
        (
            json!({"warn_percent": 101, "per_window": 6}),
            "invalid_warn_percent",
        ),
        (
            json!({"warn_percent": 80, "per_window": 0}),
            "invalid_per_window",
        ),
    ] {
        let r = app
            .request(reqwest::Method::PUT, "/api/v1/live/alerts", Some(&manager))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], code);
    }
    for body in [json!({"warn_percent": -5, "per_window": 6}), json!({})] {
        let r = app
            .request(reqwest::Method::PUT, "/api/v1/live/alerts", Some(&manager))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            r.status() == 400 || r.status() == 422,
            "{body}: {}",
            r.status()
        );
    }
    let v = live(&app, &manager).await;
    assert_eq!(v["settings"], json!({"warn_percent": 80, "per_window": 6}));

    let r = app
        .request(reqwest::Method::PUT, "/api/v1/live/alerts", Some(&manager))
        .json(&json!({"warn_percent": 70, "per_window": 4}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = live(&app, &manager).await;
    assert_eq!(v["settings"], json!({"warn_percent": 70, "per_window": 4}));

    let log: Value = app
        .get("/api/v1/audit", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["action"], "live.alerts");
    assert_eq!(log[0]["user"], "manager");
    assert_eq!(
        log[0]["detail"]["before"],
        json!({"warn_percent": 80, "per_window": 6})
    );
    assert_eq!(
        log[0]["detail"]["after"],
        json!({"warn_percent": 70, "per_window": 4})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_page_follows_an_issued_ticket_and_a_call_without_reloading() {
    let app = TestApp::spawn().await;
    let b = Browser::start(1440, 1000).await;

    // A manager logs in at /manage.
    b.goto(&format!("{}/manage?lang=en", app.url)).await;
    b.log_in("manager").await;
    b.wait_text("#services tr[data-service='A'] td.svc", "General services")
        .await;
    b.wait_text("#services tr[data-service='A'] td.waiting", "0")
        .await;
    b.wait_text("#status", "Live").await;
    b.wait_text("#alerts", "No alerts").await;
    b.js("window.qhallMark = 'still here'; return true;").await;

    // The kiosk issues a ticket: the waiting count changes by itself.
    let t = app.issue("A").await;
    b.wait_text("#services tr[data-service='A'] td.waiting", "1")
        .await;

    // Staff signs in to window 2 and calls it: the window row shows the ticket.
    let staff = app.login("staff2").await;
    app.sign_in(2, &staff).await;
    b.wait_text("#windows tr[data-window='2'] td.state", "Open")
        .await;
    b.wait_text("#windows tr[data-window='2'] td.staff", "staff2")
        .await;
    assert_eq!(app.call_next(2, &staff).await.unwrap().number, t.number);
    b.wait_text("#windows tr[data-window='2'] td.current", t.number.as_str())
        .await;
    b.wait_text("#services tr[data-service='A'] td.waiting", "0")
        .await;
    assert_eq!(
        b.js("return window.qhallMark || null;").await,
        json!("still here"),
        "the live page must update without a reload"
    );

    // A busier hall for the screenshot: lines near and over target, a crowded line, a paused
    // window, a printer out of paper, an overdue complaint.
    let s1 = app.login("staff1").await;
    app.sign_in(1, &s1).await;
    let s3 = app.login("staff3").await;
    app.sign_in(3, &s3).await;
    let r = app
        .post(
            "/api/v1/windows/3/pause",
            Some(&s3),
            json!({"reason": "lunch"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    app.call_next(1, &s1).await;
    for _ in 0..5 {
        app.issue("A").await;
    }
    for _ in 0..3 {
        app.issue("D").await;
    }
    app.sql(&[
        &waiting_since("A", 901, 13),
        &waiting_since("B", 901, 12),
        &waiting_since("C", 901, 9),
        &complaint("open", -2),
    ])
    .await;
    let r = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/devices/me/state",
            Some(KIOSK),
        )
        .json(&json!({"printer": "no_paper"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    b.wait_text("#alerts", "over the 10 min target").await;
    b.wait_text("#alerts", "about to miss").await;
    b.wait_text("#alerts", "Resume window 3 (paused)").await;
    b.wait_text("#alerts", "Out of paper").await;
    b.wait_text("#alerts", "complaint").await;
    // `QHALL_WRITE_DOCS=1` saves the screenshots in docs/.
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let write_docs = std::env::var_os("QHALL_WRITE_DOCS").is_some();
    if write_docs {
        b.screenshot(&shots.join("manage-live.png")).await;
    }
    b.goto(&format!("{}/manage?lang=zh", app.url)).await;
    b.wait_text("#alerts", "超过目标").await;
    if write_docs {
        b.screenshot(&shots.join("manage-live-zh.png")).await;
    }

    // The thresholds form: at most 2 per open window, and A (6 waiting, 2 windows) is crowded.
    b.goto(&format!("{}/manage?lang=en", app.url)).await;
    b.wait_text("#thresholds-summary", "80% of target · 6 per open window")
        .await;
    b.click("#thresholds-summary").await;
    // Emptied as a person would (an `input` event), so that the page's next refresh, which
    // fills the form only while it is not being edited, cannot put the old values back
    // between the emptying and the typing.
    b.js("for (const id of ['warn-percent', 'per-window']) { const e = document.getElementById(id); e.value = ''; e.dispatchEvent(new Event('input', { bubbles: true })); } return true;").await;
    b.type_into("#warn-percent", "75").await;
    b.type_into("#per-window", "2").await;
    b.click("#thresholds-save").await;
    b.wait_text("#thresholds-msg", "Saved").await;
    b.wait_text("#thresholds-summary", "75% of target · 2 per open window")
        .await;
    b.wait_text(
        "#alerts",
        "A General services: 6 waiting for 2 open window(s)",
    )
    .await;
    b.close().await;
}

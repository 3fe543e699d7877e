//! Statistics over a constructed history with known answers, read through the real server's
//! `GET /api/v1/stats` and `GET /api/v1/reports`.
//!
//! The history is made with the real store and an injected clock, in a hall in Europe/Berlin
//! open 09:00–12:00 and 13:00–17:00 every day: a recalled ticket, a no-show reinstated and
//! served later (its wait runs to its last call), a ticket transferred from B to A while being
//! served (its wait is to its first call; it counts for B, the service it was issued for; its
//! service time is at the window that finished it), a ticket issued before the lunch break and
//! called after it (the break counts: the customer waited through it), a cancelled ticket, and
//! a day on which clocks spring forward (local days and hours follow the zone, not a fixed
//! offset).
//!
//! Runs on SQLite, and on PostgreSQL with `QHALL_TEST_BACKEND=postgres`.

use qhall_server::hall::{TransferTo, WindowAction, WindowChange};
use qhall_server::store::Principal;
use qhall_shared::{ServiceCode, WindowNo};
use qhall_tests::{
    TestApp, at, demo_store_on, kiosk_principal as kiosk, pg_database, user_principal,
};
use serde_json::Value;

const SETUP: &str = "UPDATE branches SET time_zone = 'Europe/Berlin', \
    weekly_hours = '[[[540,720],[780,1020]],[[540,720],[780,1020]],[[540,720],[780,1020]],[[540,720],[780,1020]],[[540,720],[780,1020]],[[540,720],[780,1020]],[[540,720],[780,1020]]]', \
    config_version = config_version + 1";

fn w(n: u32) -> WindowNo {
    WindowNo::new(n).unwrap()
}

/// Builds the history on the database at `url` (already created, empty).
async fn build_history(url: &str) {
    let store = demo_store_on(url, SETUP).await;
    let s1 = user_principal(&store, "staff1").await;
    let s2 = user_principal(&store, "staff2").await;
    let issue = |service: &'static str, now: &'static str| {
        let store = store.clone();
        async move {
            let t = store
                .issue(&kiosk(), service.parse().unwrap(), false, None, at(now))
                .await
                .unwrap_or_else(|e| panic!("issue {service} at {now}: {e}"))
                .ticket;
            (t.number, t.id)
        }
    };
    let act = |who: &Principal, n: u32, a: WindowAction, now: &str| {
        let (store, who) = (store.clone(), who.clone());
        let now = at(now);
        async move { store.act(&who, w(n), a, now).await.unwrap() }
    };
    let change = |who: &Principal, n: u32, c: WindowChange, now: &str| {
        let (store, who) = (store.clone(), who.clone());
        let now = at(now);
        async move { store.change_window(&who, w(n), c, now).await.unwrap() }
    };

    // Friday 27 March 2026, CET (UTC+1): 09:00 local is 08:00Z.
    change(&s1, 1, WindowChange::SignIn, "2026-03-27T07:55:00Z").await;
    change(&s2, 2, WindowChange::SignIn, "2026-03-27T07:55:00Z").await;
    let (a1, _) = issue("A", "2026-03-27T08:00:00Z").await;
    let (a2, _) = issue("A", "2026-03-27T08:01:00Z").await;
    let (b1, _) = issue("B", "2026-03-27T08:02:00Z").await;

    // A001: called after 4 min, recalled once (the wait stays 4 min), served for 10 min.
    store
        .call_number(&s1, w(1), &a1, at("2026-03-27T08:04:00Z"))
        .await
        .unwrap();
    act(&s1, 1, WindowAction::Recall, "2026-03-27T08:05:00Z").await;
    act(&s1, 1, WindowAction::Start, "2026-03-27T08:06:00Z").await;
    act(&s1, 1, WindowAction::Complete, "2026-03-27T08:16:00Z").await;

    // B001: called after 8 min, started, then sent to service A while being served.
    store
        .call_number(&s2, w(2), &b1, at("2026-03-27T08:10:00Z"))
        .await
        .unwrap();
    act(&s2, 2, WindowAction::Start, "2026-03-27T08:10:30Z").await;
    store
        .transfer(
            &s2,
            w(2),
            TransferTo::Service("A".parse::<ServiceCode>().unwrap()),
            at("2026-03-27T08:12:00Z"),
        )
        .await
        .unwrap();

    // A002: called at 08:20, absent; reinstated, called again at 08:40 (39 min after issue).
    store
        .call_number(&s1, w(1), &a2, at("2026-03-27T08:20:00Z"))
        .await
        .unwrap();
    act(&s1, 1, WindowAction::NoShow, "2026-03-27T08:22:00Z").await;
    store
        .reinstate(&s1, w(1), &a2, at("2026-03-27T08:30:00Z"))
        .await
        .unwrap();
    store
        .call_number(&s2, w(2), &a2, at("2026-03-27T08:40:00Z"))
        .await
        .unwrap();
    act(&s2, 2, WindowAction::Start, "2026-03-27T08:41:00Z").await;
    act(&s2, 2, WindowAction::Complete, "2026-03-27T08:45:00Z").await;

    // B001 again, now in A's line: served at window 1 for 9 min.
    store
        .call_number(&s1, w(1), &b1, at("2026-03-27T08:50:00Z"))
        .await
        .unwrap();
    act(&s1, 1, WindowAction::Start, "2026-03-27T08:51:00Z").await;
    act(&s1, 1, WindowAction::Complete, "2026-03-27T09:00:00Z").await;

    // A003: cancelled before it is called.
    let (_, a3) = issue("A", "2026-03-27T09:00:00Z").await;
    store.cancel(&a3, at("2026-03-27T09:05:00Z")).await.unwrap();

    // C001: issued at 11:50 local, ten minutes before lunch; called at 13:05 local (75 min).
    change(&s1, 1, WindowChange::SignOut, "2026-03-27T09:10:00Z").await;
    change(&s1, 4, WindowChange::SignIn, "2026-03-27T09:11:00Z").await;
    let (c1, _) = issue("C", "2026-03-27T10:50:00Z").await;
    store
        .call_number(&s1, w(4), &c1, at("2026-03-27T12:05:00Z"))
        .await
        .unwrap();
    act(&s1, 4, WindowAction::Start, "2026-03-27T12:06:00Z").await;
    act(&s1, 4, WindowAction::Complete, "2026-03-27T12:20:00Z").await;
    change(&s1, 4, WindowChange::SignOut, "2026-03-27T16:00:00Z").await;

    // Saturday 28 March, 16:30 local (CET): issued, cancelled at closing.
    let (_, late) = issue("D", "2026-03-28T15:30:00Z").await;
    store
        .cancel(&late, at("2026-03-28T16:00:00Z"))
        .await
        .unwrap();

    // Sunday 29 March: clocks went from 02:00 to 03:00, so 09:05 local is 07:05Z (CEST, UTC+2).
    change(&s1, 1, WindowChange::SignIn, "2026-03-29T07:00:00Z").await;
    let (b, _) = issue("B", "2026-03-29T07:05:00Z").await;
    assert_eq!(
        b.as_str(),
        "B001",
        "numbers start again on the new local day"
    );
    store
        .call_number(&s1, w(1), &b, at("2026-03-29T07:07:00Z"))
        .await
        .unwrap();
    act(&s1, 1, WindowAction::Complete, "2026-03-29T07:10:00Z").await;
    // 16:59 local (14:59Z) is still open on the 29th.
    let (_, last) = issue("A", "2026-03-29T14:59:00Z").await;
    store
        .cancel(&last, at("2026-03-29T15:00:00Z"))
        .await
        .unwrap();
    store.close().await;
}

fn service<'a>(v: &'a Value, list: &str, code: &str) -> &'a Value {
    let key = if list == "by_service" {
        "service"
    } else {
        "key"
    };
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s[key] == code)
        .unwrap_or_else(|| panic!("no {code} in {list}: {v}"))
}

fn figures(v: &Value) -> [Value; 10] {
    [
        "issued",
        "called",
        "served",
        "no_show",
        "cancelled",
        "mean_wait_secs",
        "median_wait_secs",
        "p90_wait_secs",
        "mean_service_secs",
        "service_level",
    ]
    .map(|k| v[k].clone())
}

/// Compares figures numerically (integers and floats alike).
fn assert_figures(got: &[Value; 10], want: [f64; 10], what: &str) {
    let names = [
        "issued",
        "called",
        "served",
        "no_show",
        "cancelled",
        "mean_wait",
        "median_wait",
        "p90_wait",
        "mean_service",
        "service_level",
    ];
    for ((g, w), name) in got.iter().zip(want).zip(names) {
        if w.is_nan() {
            assert!(g.is_null(), "{what} {name}: {g} (want none)");
        } else {
            let g = g
                .as_f64()
                .unwrap_or_else(|| panic!("{what} {name}: {g} is not a number"));
            assert!((g - w).abs() < 1e-9, "{what} {name}: {g}, want {w}");
        }
    }
}

async fn check(app: &TestApp) {
    let manager = app.login("manager").await;
    let get = |path: &'static str| {
        let (app, manager) = (app, manager.clone());
        async move {
            let r = app.get(path, Some(&manager)).await;
            assert_eq!(r.status(), 200, "{path}");
            r.json::<Value>().await.unwrap()
        }
    };

    // 27 March. Waits: A001 240 s, A002 2,340 s (to its last call), B001 480 s, C001 4,500 s.
    // Service: A001 600 s, A002 240 s, B001 540 s (at window 1, after the transfer), C001 840 s.
    let v = get("/api/v1/stats?from=2026-03-27&to=2026-03-27").await;
    assert_figures(
        &figures(&v),
        [5., 4., 4., 0., 1., 1890., 480., 4500., 555., 0.5],
        "overall",
    );
    assert_figures(
        &figures(service(&v, "by_service", "A")),
        [3., 2., 2., 0., 1., 1290., 240., 2340., 420., 0.5],
        "A",
    );
    assert_figures(
        &figures(service(&v, "by_service", "B")),
        [1., 1., 1., 0., 0., 480., 480., 480., 540., 1.0],
        "B (the transferred ticket counts where it was issued)",
    );
    assert_figures(
        &figures(service(&v, "by_service", "C")),
        [1., 1., 1., 0., 0., 4500., 4500., 4500., 840., 0.0],
        "C (waited through the lunch break)",
    );
    assert_figures(
        &figures(service(&v, "by_service", "D")),
        [
            0.,
            0.,
            0.,
            0.,
            0.,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            f64::NAN,
        ],
        "D",
    );

    // The same day in the report tables: by window (where the ticket was last called and
    // finished) and by hour of issue, in local time.
    let r = get("/api/v1/reports?from=2026-03-27&to=2026-03-27").await;
    assert_figures(
        &figures(&r["overall"]),
        [5., 4., 4., 0., 1., 1890., 480., 4500., 555., 0.5],
        "report overall",
    );
    let hours: Vec<u64> = r["by_hour"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["issued"].as_u64().unwrap())
        .collect();
    let mut want = vec![0u64; 24];
    want[9] = 3; // A001 A002 B001 at 09:0x
    want[10] = 1; // A003
    want[11] = 1; // C001 at 11:50
    assert_eq!(hours, want, "issued by local hour on 27 March");

    // 29 March, the 23-hour day: 09:05 and 16:59 local, nothing from the 28th.
    let v = get("/api/v1/stats?from=2026-03-29&to=2026-03-29").await;
    assert_figures(
        &figures(&v),
        [2., 1., 1., 0., 1., 120., 120., 120., f64::NAN, 1.0],
        "29 March",
    );
    let r = get("/api/v1/reports?from=2026-03-29&to=2026-03-29").await;
    let hours: Vec<u64> = r["by_hour"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["issued"].as_u64().unwrap())
        .collect();
    let mut want = vec![0u64; 24];
    want[9] = 1;
    want[16] = 1;
    assert_eq!(
        hours, want,
        "issued by local hour on the spring-forward day"
    );

    // The three days together.
    let v = get("/api/v1/stats?from=2026-03-27&to=2026-03-29").await;
    assert_eq!(
        (
            v["issued"].as_u64(),
            v["called"].as_u64(),
            v["cancelled"].as_u64()
        ),
        (Some(8), Some(5), Some(3)),
        "{v}"
    );
}

#[tokio::test]
async fn statistics_of_a_constructed_history_are_exact() {
    let on_postgres = std::env::var("QHALL_TEST_BACKEND").is_ok_and(|b| b == "postgres");
    let pg = if on_postgres {
        pg_database().await
    } else {
        None
    };
    let dir = tempfile::tempdir().unwrap();
    let url = match &pg {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}", dir.path().join("q.db").display()),
    };
    build_history(&url).await;
    let mut app = TestApp::spawn_on(url).await;
    check(&app).await;
    app.stop().await;
}

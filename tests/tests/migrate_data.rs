//! `qhall-server migrate-data` moves a hall from SQLite to PostgreSQL without losing history:
//! the same statistics, the same tickets, the event stream resumable across the move with seq
//! continuing where it stopped.

use std::process::Command;
use std::time::Duration;

use qhall_tests::{KIOSK, ServerProcess, TestApp, pad, pg_database};
use serde_json::{Value, json};

/// A day of history: every kind of ending, transfers, priority, tickets still waiting.
async fn history(app: &TestApp) {
    for i in 0..48 {
        let svc = ["A", "B", "C", "D"][i % 4];
        let r = app
            .post(
                "/api/v1/tickets",
                Some(KIOSK),
                json!({"service": svc, "priority": svc == "A" && i % 8 == 0}),
            )
            .await;
        assert_eq!(r.status(), 201);
        if i == 5 {
            let t: Value = r.json().await.unwrap();
            let id = t["id"].as_str().unwrap();
            let c = app
                .post(&format!("/api/v1/tickets/{id}/cancel"), None, json!({}))
                .await;
            assert!(c.status().is_success(), "cancel: {}", c.status());
        }
    }
    let mut tokens = Vec::new();
    for n in 1..=4u32 {
        let t = app.login(&format!("staff{n}")).await;
        app.sign_in(n, &t).await;
        tokens.push(t);
    }
    for round in 0..8 {
        for (i, t) in tokens.iter().enumerate() {
            let n = i as u32 + 1;
            let Some(called) = app.call_next(n, t).await else {
                continue;
            };
            let other = if called.service.as_str() == "D" {
                "A"
            } else {
                "D"
            };
            let action = match (round + i) % 5 {
                0 => "no-show",
                1 => {
                    let r = app
                        .post(
                            &format!("/api/v1/windows/{n}/transfer"),
                            Some(t),
                            json!({"service": other}),
                        )
                        .await;
                    assert!(r.status().is_success(), "transfer {}", r.status());
                    continue;
                }
                2 => {
                    assert!(app.window(n, "recall", t).await.status().is_success());
                    "complete"
                }
                _ => {
                    assert!(app.window(n, "start", t).await.status().is_success());
                    "complete"
                }
            };
            let r = app.window(n, action, t).await;
            assert!(r.status().is_success(), "{action}: {}", r.status());
        }
    }
}

/// Ratings from the pads of the windows with a completed ticket, and one complaint with a
/// consented contact (the flag is an integer in SQLite and a boolean in PostgreSQL).
async fn feedback(app: &TestApp) {
    let mut rated = 0;
    for n in 1..=4 {
        let p: Value = app
            .get(&format!("/api/v1/windows/{n}/rating"), Some(&pad(n)))
            .await
            .json()
            .await
            .unwrap();
        if let Some(number) = p["ticket"]["number"].as_str() {
            let r = app
                .post(
                    &format!("/api/v1/windows/{n}/rating"),
                    Some(&pad(n)),
                    json!({"number": number, "score": n}),
                )
                .await;
            assert!(r.status().is_success(), "rating {}", r.status());
            rated += 1;
        }
    }
    assert!(rated > 0, "some window has a ticket to rate");
    let staff = app.login("staff1").await;
    let r = app
        .post(
            "/api/v1/complaints",
            Some(&staff),
            json!({"window": 1, "category": "waiting", "description": "long", "contact": "a@b.cn", "consent": true}),
        )
        .await;
    assert_eq!(r.status(), 201);
}

/// The managers' report tables (satisfaction included) over the same days as [`stats`].
async fn report(app: &TestApp) -> Value {
    let manager = app.login("manager").await;
    let today = chrono::Utc::now().date_naive();
    let r = app
        .get(
            &format!(
                "/api/v1/reports?from={}&to={}",
                today.pred_opt().unwrap(),
                today.succ_opt().unwrap()
            ),
            Some(&manager),
        )
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn stats(app: &TestApp) -> Value {
    let manager = app.login("manager").await;
    let today = chrono::Utc::now().date_naive();
    let r = app
        .get(
            &format!(
                "/api/v1/stats?from={}&to={}",
                today.pred_opt().unwrap(),
                today.succ_opt().unwrap()
            ),
            Some(&manager),
        )
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_data_round_trips_a_hall_with_identical_statistics() {
    let Some(db) = pg_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("hall.db").display());
    let mut app = TestApp::spawn_on(sqlite.clone()).await;
    history(&app).await;
    feedback(&app).await;
    let mut board = app.display(None).await;
    let seq = board
        .wait_for("snapshot", Duration::from_secs(5))
        .await
        .unwrap()["seq"]
        .as_u64()
        .unwrap();
    let services_before: Value = app
        .get("/api/v1/services", Some(KIOSK))
        .await
        .json()
        .await
        .unwrap();
    let ticket = app.issue("B").await;
    let before = stats(&app).await;
    let report_before = report(&app).await;
    assert!(before["served"].as_u64().unwrap() > 5 && before["no_show"].as_u64().unwrap() > 0);
    board.close().await;
    app.stop().await;

    let bin = ServerProcess::binary();
    let run = |from: &str, to: &str| {
        Command::new(&bin)
            .args(["migrate-data", "--from", from, "--to", to])
            .output()
            .expect("run qhall-server migrate-data")
    };
    let out = run(&sqlite, &db.url);
    assert!(
        out.status.success(),
        "migrate-data failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("tickets"));
    let again = run(&sqlite, &db.url);
    assert!(
        !again.status.success(),
        "copying into a hall that is not empty must fail"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a hall"));

    let app = TestApp::spawn_on(db.url.clone()).await;
    let after = stats(&app).await;
    assert_eq!(after, before, "the statistics are identical after the move");
    assert_eq!(
        report(&app).await,
        report_before,
        "so are the reports, ratings included"
    );
    let seen: Value = app
        .get(&format!("/api/v1/tickets/{}", ticket.id), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["number"], ticket.number.as_str());
    assert_eq!(seen["status"], "waiting");

    // A board that had seen up to `seq` resumes across the move: the issue after it, then new
    // events continuing the same sequence.
    let mut board = app.display(Some(seq)).await;
    let replayed = board.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(replayed["seq"].as_u64(), Some(seq + 1));
    assert_eq!(replayed["type"], "issued");
    let next = app.issue("B").await;
    assert_eq!(
        next.number.as_str(),
        "B014",
        "numbering continues: 12 issued + 1 before the move"
    );
    let live = board
        .wait_for("issued", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(live["seq"].as_u64(), Some(seq + 2));
    let services_after: Value = app
        .get("/api/v1/services", Some(KIOSK))
        .await
        .json()
        .await
        .unwrap();
    let waiting = |v: &Value| -> Vec<u64> {
        v.to_string()
            .split("\"waiting\":")
            .skip(1)
            .map(|s| {
                s.split(|c: char| !c.is_ascii_digit())
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect()
    };
    let (mut b, a) = (waiting(&services_before), waiting(&services_after));
    // Two more B tickets since: one before the move, one after.
    b[1] += 2;
    assert_eq!(a, b, "the waiting counts are rebuilt from the tickets");
}

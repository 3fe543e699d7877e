//! Two `qhall-server` processes on one PostgreSQL database behave as one hall: a board on
//! one sees calls made on the other, windows split across both call every ticket exactly once,
//! and killing one mid-run loses nothing it acknowledged. Skipped (with a message) when no
//! PostgreSQL is reachable.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qhall_tests::{
    DISPLAY, EventClient, KIOSK, PgDatabase, ServerProcess, pg_database, run_sql, windows_sql,
};
use serde_json::{Value, json};

/// Two servers on a fresh database (the first seeds the demo hall).
async fn two_servers() -> Option<(PgDatabase, ServerProcess, ServerProcess)> {
    let db = pg_database().await?;
    let a = ServerProcess::start(&db.url).expect("server A");
    let b = ServerProcess::start(&db.url).expect("server B");
    Some((db, a, b))
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn login(c: &reqwest::Client, url: &str, user: &str) -> String {
    let r = c
        .post(format!("{url}/api/v1/login"))
        .json(&json!({"username": user, "password": "demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "login {user}");
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn post(
    c: &reqwest::Client,
    url: &str,
    path: &str,
    token: &str,
    body: Value,
) -> reqwest::Response {
    c.post(format!("{url}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_display_connected_to_b_receives_a_call_made_on_a() {
    let Some((_db, a, b)) = two_servers().await else {
        return;
    };
    let c = client();
    let mut board = EventClient::connect(&format!(
        "{}/api/v1/events?token={DISPLAY}",
        b.url.replacen("http", "ws", 1)
    ))
    .await
    .unwrap();
    let snapshot = board
        .wait_for("snapshot", Duration::from_secs(10))
        .await
        .unwrap();
    let mut last = snapshot["seq"].as_u64().unwrap();

    let staff = login(&c, &a.url, "staff1").await;
    assert!(
        post(&c, &a.url, "/api/v1/windows/1/sign-in", &staff, json!({}))
            .await
            .status()
            .is_success()
    );
    let r = post(
        &c,
        &a.url,
        "/api/v1/tickets",
        KIOSK,
        json!({"service": "A"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let ticket: Value = r.json().await.unwrap();
    let r = post(&c, &a.url, "/api/v1/windows/1/call-next", &staff, json!({})).await;
    assert_eq!(r.status(), 200);

    // B's board hears all three of A's events, in order, seq rising by one.
    let mut kinds = Vec::new();
    loop {
        let m = board
            .next(Duration::from_secs(10))
            .await
            .expect("an event from A via B");
        let seq = m["seq"].as_u64().unwrap();
        assert_eq!(seq, last + 1, "seq rises by one: {m}");
        last = seq;
        kinds.push(m["type"].as_str().unwrap().to_owned());
        if m["type"] == "called" {
            assert_eq!(m["number"], ticket["number"]);
            assert_eq!(m["window"], 1);
            break;
        }
    }
    assert_eq!(kinds, ["window", "issued", "called"]);

    // And the other way round: a call on B reaches a board on A.
    let mut board_a = EventClient::connect(&format!(
        "{}/api/v1/events?token={DISPLAY}",
        a.url.replacen("http", "ws", 1)
    ))
    .await
    .unwrap();
    board_a
        .wait_for("snapshot", Duration::from_secs(10))
        .await
        .unwrap();
    let staff2 = login(&c, &b.url, "staff2").await;
    assert!(
        post(&c, &b.url, "/api/v1/windows/2/sign-in", &staff2, json!({}))
            .await
            .status()
            .is_success()
    );
    let r = post(
        &c,
        &b.url,
        "/api/v1/tickets",
        KIOSK,
        json!({"service": "B"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let r = post(
        &c,
        &b.url,
        "/api/v1/windows/2/call-next",
        &staff2,
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let called = board_a
        .wait_for("called", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(called["number"], "B001");
    assert_eq!(called["window"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn windows_split_across_two_servers_call_every_ticket_exactly_once() {
    let Some((db, a, b)) = two_servers().await else {
        return;
    };
    run_sql(&db.url, &windows_sql(5, 24, &["A", "B", "D"])).await;
    let c = client();
    let servers = [a.url.clone(), b.url.clone()];

    // 2,100 tickets, issued half on each server, 100 at a time.
    let mut issued = Vec::new();
    for chunk in 0..21 {
        let mut batch = Vec::new();
        for i in 0..100 {
            let k = chunk * 100 + i;
            let (c, url) = (c.clone(), servers[k % 2].clone());
            let svc = ["A", "B", "D"][k % 3];
            batch.push(tokio::spawn(async move {
                post(&c, &url, "/api/v1/tickets", KIOSK, json!({"service": svc})).await
            }));
        }
        for t in batch {
            let r = t.await.unwrap();
            let status = r.status();
            let v: Value = r.json().await.unwrap();
            assert_eq!(status, 201, "{v}");
            issued.push(v["number"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(issued.len(), 2100);

    let called: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut tasks = Vec::new();
    for n in 5..=24u32 {
        // Windows 5–14 work through A, 15–24 through B.
        let url = servers[usize::from(n > 14)].clone();
        let token = login(&c, &url, &format!("wstaff{n}")).await;
        assert!(
            post(
                &c,
                &url,
                &format!("/api/v1/windows/{n}/sign-in"),
                &token,
                json!({})
            )
            .await
            .status()
            .is_success()
        );
        for _ in 0..2 {
            let (c, url, token) = (c.clone(), url.clone(), token.clone());
            let (called, failures) = (called.clone(), failures.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let r = post(
                        &c,
                        &url,
                        &format!("/api/v1/windows/{n}/call-next"),
                        &token,
                        json!({}),
                    )
                    .await;
                    match r.status().as_u16() {
                        200 => {
                            let v: Value = r.json().await.unwrap();
                            let id = v["ticket"]["number"].as_str().unwrap().to_owned();
                            *called.lock().unwrap().entry(id).or_default() += 1;
                        }
                        204 => break,
                        409 => {}
                        s => {
                            let text = r.text().await.unwrap_or_default();
                            failures
                                .lock()
                                .unwrap()
                                .push(format!("call-next {s}: {text}"));
                        }
                    }
                    let r = post(
                        &c,
                        &url,
                        &format!("/api/v1/windows/{n}/complete"),
                        &token,
                        json!({}),
                    )
                    .await;
                    if !(r.status().is_success() || r.status() == 409) {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("complete {}", r.status()));
                    }
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let failures = failures.lock().unwrap();
    assert!(failures.is_empty(), "unexpected answers: {failures:?}");
    let called = called.lock().unwrap();
    let twice: Vec<_> = called.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "called more than once: {twice:?}");
    for id in &issued {
        assert_eq!(called.get(id), Some(&1), "ticket {id} was never called");
    }
    assert_eq!(called.len(), issued.len());
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_one_server_mid_run_loses_nothing_it_acknowledged() {
    let Some((db, mut a, b)) = two_servers().await else {
        return;
    };
    let c = client();
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for k in 0..12usize {
        let url = if k % 2 == 0 {
            a.url.clone()
        } else {
            b.url.clone()
        };
        let (c, acked, failures, stop) = (c.clone(), acked.clone(), failures.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let svc = ["A", "B", "D"][k % 3];
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok(r) = c
                    .post(format!("{url}/api/v1/tickets"))
                    .bearer_auth(KIOSK)
                    .json(&json!({"service": svc}))
                    .send()
                    .await
                else {
                    // The killed server: nothing acknowledged, nothing to check.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                if r.status() == 201 {
                    let Ok(v) = r.json::<Value>().await else {
                        continue;
                    };
                    acked.lock().unwrap().push((
                        v["id"].as_str().unwrap().to_owned(),
                        v["number"].as_str().unwrap().to_owned(),
                    ));
                } else {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("issue {}", r.status()));
                }
            }
        }));
    }
    while acked.lock().unwrap().len() < 200 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.kill9();
    let at_kill = acked.lock().unwrap().len();
    while acked.lock().unwrap().len() < at_kill + 150 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    assert!(
        failures.lock().unwrap().is_empty(),
        "{:?}",
        failures.lock().unwrap()
    );

    // Every acknowledged ticket is there, through the surviving server, with its number.
    let acked = acked.lock().unwrap().clone();
    let mut numbers = HashSet::new();
    for (id, number) in &acked {
        assert!(numbers.insert(number.clone()), "{number} was issued twice");
        let r = c
            .get(format!("{}/api/v1/tickets/{id}", b.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged ticket {number} is lost");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["number"].as_str(), Some(number.as_str()));
    }

    // The stream has no hole: seq 1..=N, one event per committed ticket.
    use sqlx::{ConnectOptions, Connection};
    let mut conn = db
        .url
        .parse::<sqlx::postgres::PgConnectOptions>()
        .unwrap()
        .connect()
        .await
        .unwrap();
    let seqs: Vec<i64> =
        sqlx::query_scalar("SELECT seq FROM stream_events WHERE branch_id = 1 ORDER BY seq")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert!(
        seqs.iter().enumerate().all(|(i, s)| *s == i as i64 + 1),
        "a hole in the stream"
    );
    let tickets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(tickets as usize >= acked.len());
    let _ = conn.close().await;
}

/// A connection of the test's own to the database.
async fn connect(db: &PgDatabase) -> sqlx::PgConnection {
    use sqlx::ConnectOptions;
    db.url
        .parse::<sqlx::postgres::PgConnectOptions>()
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Issues a walk-in for service A on the server at `url`.
async fn walk_in(c: &reqwest::Client, url: &str) {
    let r = post(c, url, "/api/v1/tickets", KIOSK, json!({"service": "A"})).await;
    assert_eq!(r.status(), 201);
}

/// A board on `server`, with the seq of its snapshot.
/// The notifications `listener` hears until one satisfies `wanted` (within 10 s): those before
/// it, and it.
async fn heard_until(
    listener: &mut sqlx::postgres::PgListener,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> (Vec<String>, String) {
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut before = Vec::new();
        loop {
            let n = listener.recv().await.unwrap();
            if wanted(n.payload()) {
                break (before, n.payload().to_owned());
            }
            before.push(n.payload().to_owned());
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: not heard within 10 s"))
}

async fn board(server: &ServerProcess) -> (EventClient, u64) {
    let mut board = EventClient::connect(&format!(
        "{}/api/v1/events?token={DISPLAY}",
        server.url.replacen("http", "ws", 1)
    ))
    .await
    .unwrap();
    let snapshot = board
        .wait_for("snapshot", Duration::from_secs(10))
        .await
        .unwrap();
    let seq = snapshot["seq"].as_u64().unwrap();
    (board, seq)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_keeps_hearing_the_other_servers_calls_after_the_listening_connections_drop() {
    let Some((db, a, b)) = two_servers().await else {
        return;
    };
    let c = client();
    let (mut board, mut last) = board(&a).await;

    // PostgreSQL drops both servers' listening connections (as a restart or a network cut would).
    use sqlx::Connection;
    let mut conn = connect(&db).await;
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(killed, [true, true], "one listening connection each");
    let _ = conn.close().await;

    // Events committed on B while A reconnects, and after, all reach A's board, in order.
    for _ in 0..3 {
        walk_in(&c, &b.url).await;
    }
    for _ in 0..3 {
        let m = board
            .next(Duration::from_secs(10))
            .await
            .expect("events after the listener's reconnect");
        assert_eq!(m["seq"].as_u64(), Some(last + 1), "{m}");
        assert_eq!(m["type"], "issued");
        last += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_no_notification_announced_still_reaches_the_boards() {
    // As if a server was killed between its commit and its notifier's statement: the event is
    // in the table and nobody said so. Each server's sweep finds it.
    let Some((db, a, b)) = two_servers().await else {
        return;
    };
    let (mut board_a, last_a) = board(&a).await;
    let (mut board_b, last_b) = board(&b).await;
    assert_eq!(last_a, last_b);
    let mut conn = connect(&db).await;
    let seq: i64 = sqlx::query_scalar(
        "WITH b AS (UPDATE branches SET event_seq = event_seq + 1 WHERE id = 1 RETURNING event_seq) \
         INSERT INTO stream_events (branch_id, seq, at, body) \
         SELECT 1, event_seq, 0, '{\"type\":\"notice\",\"seq\":' || event_seq || ',\"notices\":[]}' FROM b \
         RETURNING seq",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(seq as u64, last_a + 1);
    for board in [&mut board_a, &mut board_b] {
        let m = board
            .next(Duration::from_secs(10))
            .await
            .expect("the unannounced event");
        assert_eq!(m, json!({"type": "notice", "seq": seq, "notices": []}));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_notifies_after_its_commit_and_the_issuing_functions_do_not_in_it() {
    let Some(db) = pg_database().await else {
        return;
    };
    let server = ServerProcess::start(&db.url).expect("server");
    let c = client();
    let mut listener = sqlx::postgres::PgListener::connect(&db.url).await.unwrap();
    listener.listen("qhall_events").await.unwrap();
    let mut conn = connect(&db).await;
    let seq = || async {
        let mut conn = connect(&db).await;
        sqlx::query_scalar::<_, i64>("SELECT event_seq FROM branches WHERE id = 1")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };

    // The branch's first walk-in may go step by step (it reads the configuration the next ones
    // are planned from; its event travels with its body): wait until it has been announced.
    walk_in(&c, &server.url).await;
    let first = seq().await;
    heard_until(&mut listener, "the first walk-in announced", |p| {
        p.split(' ').nth(1).and_then(|s| s.parse::<i64>().ok()) >= Some(first)
    })
    .await;

    // The next is issued by a database function, which answers with its event: the server
    // notifies after the commit, with the body. Had the function notified in its transaction
    // too, the same seq would come twice (the in-transaction one first, at the commit).
    walk_in(&c, &server.url).await;
    let issued = seq().await;
    let (_, announced) = heard_until(&mut listener, "the walk-in announced", |p| {
        p.starts_with(&format!("1 {issued} "))
    })
    .await;
    assert!(announced.contains("\"issued\""), "{announced}");
    sqlx::query("SELECT pg_notify('qhall_events', 'marker')")
        .execute(&mut conn)
        .await
        .unwrap();
    let (after, _) = heard_until(&mut listener, "the marker", |p| p == "marker").await;
    assert!(
        !after.iter().any(|p| p.starts_with(&format!("1 {issued} "))),
        "announced twice: {after:?}"
    );

    // An event the server made itself travels with its body.
    let staff = login(&c, &server.url, "staff1").await;
    let r = post(
        &c,
        &server.url,
        "/api/v1/windows/1/sign-in",
        &staff,
        json!({}),
    )
    .await;
    assert!(r.status().is_success());
    let r = post(
        &c,
        &server.url,
        "/api/v1/windows/1/call-next",
        &staff,
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let (_, called) = heard_until(&mut listener, "the call's notification", |p| {
        p.contains("\"called\"")
    })
    .await;
    assert!(called.starts_with("1 "), "{called}");

    // A connection that has not said it notifies after commit (an older server during a rolling
    // upgrade) still has the functions notify in the transaction.
    sqlx::query("SELECT qhall_notify('1 0 older')")
        .execute(&mut conn)
        .await
        .unwrap();
    let n = tokio::time::timeout(Duration::from_secs(10), listener.recv())
        .await
        .expect("the older server's notification")
        .unwrap();
    assert_eq!(n.payload(), "1 0 older");
    // So does an older server's batch (`qhall_issue_batch`, which the release before this one
    // called): its events are notified in the transaction, with their bodies.
    let now = chrono::Utc::now().timestamp_millis();
    let item = json!({
        "scope": "older-server", "key": null, "code": "A", "priority": false,
        "day": "2026-01-05", "first": 1, "last": 999, "width": 3, "now": now,
        "id": "issued-by-an-older-server", "device": null, "staff": null, "forecast": null,
        "forecast_last": null, "forecast_extra": null, "default_secs": 360.0,
        "recent_since": now - 3_600_000, "windows": [], "serves": [], "appointments": false,
        "message": "older 18446744073709551615",
    });
    let number: String = sqlx::query_scalar(
        "SELECT number FROM qhall_issue_batch(1, \
         (SELECT config_version FROM branches WHERE id = 1), $1::JSONB)",
    )
    .bind(json!([item]).to_string())
    .fetch_one(&mut conn)
    .await
    .expect("issued by the older server's function");
    assert!(number.starts_with('A'), "{number}");
    let batch_seq = seq().await;
    let n = tokio::time::timeout(Duration::from_secs(10), listener.recv())
        .await
        .expect("the older server's batch notification")
        .unwrap();
    assert_eq!(n.payload(), format!("1 {batch_seq} older {batch_seq}"));
    sqlx::query("SET qhall.notify = 'after_commit'")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("SELECT qhall_notify('1 0 newer'), pg_notify('qhall_events', 'marker')")
        .execute(&mut conn)
        .await
        .unwrap();
    let n = tokio::time::timeout(Duration::from_secs(10), listener.recv())
        .await
        .expect("the marker")
        .unwrap();
    assert_eq!(n.payload(), "marker");
}

/// A server on a PostgreSQL whose autovacuum is off says so at start, and why it matters (the
/// planner's statistics, which a call's reads count on); with it on, it says nothing of it.
/// Which case runs is the machine's: CI's PostgreSQL keeps autovacuum off.
#[tokio::test]
async fn a_server_warns_at_start_when_postgresql_will_not_analyse_its_tables() {
    use sqlx::Connection;
    let Some(db) = pg_database().await else {
        return;
    };
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let (autovacuum, track_counts): (String, String) =
        sqlx::query_as("SELECT current_setting('autovacuum'), current_setting('track_counts')")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let server = ServerProcess::start_logged(&db.url, &[], &log).expect("server");
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    let warned: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("planner's statistics"))
        .collect();
    let expected = [("autovacuum", &autovacuum), ("track_counts", &track_counts)]
        .iter()
        .filter(|(_, v)| v.as_str() != "on")
        .count();
    assert_eq!(
        warned.len(),
        expected,
        "autovacuum {autovacuum}, track_counts {track_counts}: {text}"
    );
    if autovacuum != "on" {
        assert!(
            warned
                .iter()
                .any(|l| l.contains("autovacuum = off") && l.contains("ANALYZE")),
            "{text}"
        );
    }
}

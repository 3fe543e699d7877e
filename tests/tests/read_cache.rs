//! The reads every board, kiosk and phone repeats (the board's snapshot, the services with
//! their waits, the public hall page) are kept by the server while the branch's stream seq and
//! configuration version say they are current (issue #15, the read side). A kept read must
//! never hide a change: one committed through this server, through another server on the same
//! PostgreSQL, or of the configuration. Each test checks both that a repeated read was answered
//! from what was kept (the `/metrics` counters, or the very same value) and that every change is
//! seen at the next read. The HTTP test runs on the backend `QHALL_TEST_BACKEND` names; the
//! two-server test needs PostgreSQL and says when it skipped.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use qhall_server::store::Store;
use qhall_tests::{KIOSK, TestApp, demo_store_on, kiosk_principal, pg_database};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

/// The read cache's counters from `/metrics`: (hits, misses).
async fn counters(app: &TestApp, manager: &str) -> (u64, u64) {
    let names = [
        "qhall_read_cache_hits_total ",
        "qhall_read_cache_misses_total ",
    ];
    let v = app.metrics(manager, &names).await;
    (v[0], v[1])
}

async fn services(app: &TestApp) -> Value {
    let r = app.get("/api/v1/services", Some(KIOSK)).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn line<'a>(services: &'a Value, code: &str) -> &'a Value {
    services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == code)
        .unwrap_or_else(|| panic!("service {code} in {services}"))
}

fn snapshot_waiting(snap: &Value, code: &str) -> u64 {
    snap["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["service"] == code)
        .unwrap_or_else(|| panic!("{code} in {snap}"))["waiting"]
        .as_u64()
        .unwrap()
}

/// The "Waiting" cell of the public hall page's row for `code`, if the row is there.
fn page_waiting(html: &str, code: &str) -> Option<String> {
    let row = &html[html.find(&format!("data-service=\"{code}\""))?..];
    let row = &row[..row.find("</tr>")?];
    let cell = &row[row.find("<td class=\"num\">")? + "<td class=\"num\">".len()..];
    Some(cell[..cell.find("</td>")?].to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_reads_are_used_and_every_change_is_seen_at_the_next_read() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;

    // The same read twice: the second is answered from what was kept, and is the same.
    let first = services(&app).await;
    let (hits, _) = counters(&app, &manager).await;
    let again = services(&app).await;
    assert_eq!(first, again);
    let (hits_after, _) = counters(&app, &manager).await;
    assert_eq!(hits_after, hits + 1, "the repeated read was kept");
    assert_eq!(line(&first, "A")["waiting"], 0);

    // A ticket moves the seq: the next read has it.
    app.issue("A").await;
    assert_eq!(line(&services(&app).await, "A")["waiting"], 1);

    // A configuration change moves the version: the next read has it.
    let (s, v) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/config/services/A",
            Some(&manager),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let now = services(&app).await;
    assert_eq!(line(&now, "A")["open"], false, "{now}");

    // The board's snapshot: kept for the second board, and current for both.
    app.issue("B").await;
    let mut board = app.display(None).await;
    let snap = board.wait_for("snapshot", WAIT).await.unwrap();
    assert_eq!(
        (snapshot_waiting(&snap, "A"), snapshot_waiting(&snap, "B")),
        (1, 1)
    );
    let (hits, misses) = counters(&app, &manager).await;
    let mut second = app.display(None).await;
    let snap2 = second.wait_for("snapshot", WAIT).await.unwrap();
    assert_eq!(snap2, snap);
    let (hits_after, misses_after) = counters(&app, &manager).await;
    assert_eq!(
        (hits_after - hits, misses_after - misses),
        (1, 0),
        "the second board's snapshot came from what was kept"
    );
    app.issue("B").await;
    let mut third = app.display(None).await;
    let snap3 = third.wait_for("snapshot", WAIT).await.unwrap();
    assert_eq!(snapshot_waiting(&snap3, "B"), 2);
    assert!(snap3["seq"].as_u64() > snap["seq"].as_u64());

    // The public page (no login): with A disabled its row is gone, and B's row shows B's line
    // (the rows and the lines are matched by service, not by position).
    let html = app.get("/hall/1", None).await.text().await.unwrap();
    assert_eq!(page_waiting(&html, "A"), None, "A is disabled");
    assert_eq!(page_waiting(&html, "B").as_deref(), Some("2"));
    assert_eq!(page_waiting(&html, "C").as_deref(), Some("0"));
}

/// A second server's store on the database at `url`, with nothing kept.
async fn another_server(url: &str) -> Store {
    let policy = qhall_server::queue::policy::Policy::Default;
    Store::open(url, false, Arc::default(), policy)
        .await
        .unwrap()
}

/// Two servers on one PostgreSQL: what one server kept gives way to what the other committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_another_server_is_seen_at_the_next_read() {
    let Some(db) = pg_database().await else {
        return;
    };
    let one = demo_store_on(&db.url, "").await;
    let other = another_server(&db.url).await;
    let now = Utc::now();
    let kiosk = kiosk_principal();

    let (_, kept) = one.board(1, now).await.unwrap();
    let (_, again) = one.board(1, now).await.unwrap();
    assert!(Arc::ptr_eq(&kept, &again), "the second read was kept");
    let (_, lines) = one.service_lines(1, now).await.unwrap();
    assert_eq!(lines[0].0, 0);

    other
        .issue(&kiosk, "A".parse().unwrap(), false, None, now)
        .await
        .unwrap();
    let (_, seen) = one.board(1, now).await.unwrap();
    assert!(seen.seq > kept.seq);
    assert_eq!(
        seen.waiting
            .iter()
            .find(|(c, _)| c.as_str() == "A")
            .unwrap()
            .1,
        1
    );
    let (_, lines) = one.service_lines(1, now).await.unwrap();
    assert_eq!(lines[0].0, 1);

    // A configuration change alone (no event on the stream) moves the version.
    other
        .execute_batch(
            "UPDATE services SET name_en = 'Renamed' WHERE branch_id = 1 AND code = 'A'; \
             UPDATE branches SET config_version = config_version + 1 WHERE id = 1;",
        )
        .await
        .unwrap();
    let (cfg, _) = one.board(1, now).await.unwrap();
    assert_eq!(cfg.services[0].name.en, "Renamed");
    let (cfg, _) = one.service_lines(1, now).await.unwrap();
    assert_eq!(cfg.services[0].name.en, "Renamed");

    // What was kept is what a server with nothing kept reads.
    let fresh = another_server(&db.url).await;
    assert_eq!(
        one.board_state(1, now).await.unwrap(),
        fresh.board_state(1, now).await.unwrap()
    );
}

/// A thousand boards reconnecting together (after a restart) read the branch once: the others
/// wait for that read and take it. On SQLite, and on PostgreSQL when reachable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boards_arriving_together_read_the_branch_once() {
    let (_dir, sqlite) = qhall_tests::demo_store("").await;
    together(&sqlite).await;
    match pg_database().await {
        Some(db) => together(&demo_store_on(&db.url, "").await).await,
        None => println!("PostgreSQL part skipped"),
    }
}

async fn together(store: &Store) {
    let now = Utc::now();
    let (hits, misses) = (store.reads.hits(), store.reads.misses());
    let reads = (0..200).map(|_| store.board(1, now));
    let boards = futures_util::future::join_all(reads).await;
    let first = boards[0].as_ref().unwrap().1.clone();
    assert!(
        boards
            .iter()
            .all(|b| Arc::ptr_eq(&b.as_ref().unwrap().1, &first))
    );
    assert_eq!(
        (store.reads.hits() - hits, store.reads.misses() - misses),
        (199, 1),
        "one read from the database, the rest waited for it"
    );
    let lines = (0..200).map(|_| store.service_lines(1, now));
    for l in futures_util::future::join_all(lines).await {
        l.unwrap();
    }
    assert_eq!(store.reads.misses() - misses, 2);
}

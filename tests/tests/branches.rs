//! Several branches on one deployment: devices and people belong to a branch; a kiosk issues
//! only in its own, a manager reads only its own figures, an admin reads every branch's.
//! Run on SQLite and on PostgreSQL.

use qhall_server::auth::token_hash;
use qhall_tests::{EventClient, KIOSK, TestApp, pg_database};
use serde_json::{Value, json};

/// Branch 2 beside the demo hall: service A, window 1, a kiosk, a manager, a staff member, and
/// an admin of every branch.
async fn second_branch(app: &TestApp) {
    let kiosk = token_hash("kiosk-two");
    let display = token_hash("display-two");
    let stmts = [
        "INSERT INTO branches (id, name_zh, name_en, time_zone, weekly_hours) \
         SELECT 2, '第二大厅', 'Second hall', time_zone, weekly_hours FROM branches WHERE id = 1"
            .to_owned(),
        "INSERT INTO services (branch_id, code, name_zh, name_en, target_wait_secs) VALUES (2, 'A', '综合', 'General', 600)".to_owned(),
        "INSERT INTO windows (branch_id, number, name) VALUES (2, 1, 'Window 1')".to_owned(),
        "INSERT INTO window_services (branch_id, window_number, service_code, rank, weight) VALUES (2, 1, 'A', 0, 1.0)".to_owned(),
        format!("INSERT INTO devices (branch_id, name, role, token_hash, created_at) VALUES (2, 'kiosk-two', 'kiosk', '{kiosk}', 0)"),
        format!("INSERT INTO devices (branch_id, name, role, token_hash, created_at) VALUES (2, 'display-two', 'display', '{display}', 0)"),
        "INSERT INTO users (branch_id, username, password_hash, role, created_at) \
         SELECT 2, 'manager2', password_hash, 'manager', 0 FROM users WHERE username = 'staff1'".to_owned(),
        "INSERT INTO users (branch_id, username, password_hash, role, created_at) \
         SELECT 2, 'staff2b', password_hash, 'staff', 0 FROM users WHERE username = 'staff1'".to_owned(),
        "INSERT INTO users (branch_id, username, password_hash, role, created_at) \
         SELECT NULL, 'admin', password_hash, 'admin', 0 FROM users WHERE username = 'staff1'".to_owned(),
    ];
    app.sql(&stmts).await;
}

async fn issued(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let r = app.get(path, Some(token)).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn branches_are_isolated(app: &TestApp) {
    second_branch(app).await;

    // Each kiosk issues in its own branch, numbering on its own; naming another branch changes
    // nothing.
    assert_eq!(app.issue("A").await.number.as_str(), "A001");
    let r = app
        .post(
            "/api/v1/tickets",
            Some("kiosk-two"),
            json!({"service": "A", "branch": 1}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["number"], "A001", "branch 2 numbers on its own");
    let r = app
        .post(
            "/api/v1/tickets",
            Some("kiosk-two"),
            json!({"service": "B"}),
        )
        .await;
    assert_eq!(r.status(), 404, "branch 2 has no service B (branch 1's)");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "unknown_service");
    let mine: Value = app
        .get("/api/v1/services", Some(KIOSK))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        mine.to_string().matches("\"waiting\":1").count(),
        1,
        "branch 1 has one waiting ticket: {mine}"
    );

    // A manager reads its own branch only.
    let manager = app.login("manager").await;
    let (s, v) = issued(app, &manager, "/api/v1/stats").await;
    assert_eq!((s, v["issued"].as_u64()), (200, Some(1)));
    let (s, v) = issued(app, &manager, "/api/v1/stats?branch=2").await;
    assert_eq!(s, 403);
    assert_eq!(v["error"]["code"], "other_branch");
    let manager2 = app.login("manager2").await;
    let (s, _) = issued(app, &manager2, "/api/v1/stats?branch=1").await;
    assert_eq!(s, 403);
    let (s, v) = issued(app, &manager2, "/api/v1/stats/branches").await;
    assert_eq!(s, 200);
    let seen: Vec<i64> = v["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["branch"].as_i64().unwrap())
        .collect();
    assert_eq!(seen, [2], "a manager's report lists only its branch");

    // Staff of branch 2 cannot reach branch 1's windows.
    let staff2b = app.login("staff2b").await;
    assert_eq!(app.window(2, "sign-in", &staff2b).await.status(), 404);

    // An admin sees every branch, each and across.
    let admin = app.login("admin").await;
    let (s, v) = issued(app, &admin, "/api/v1/stats?branch=2").await;
    assert_eq!((s, v["issued"].as_u64()), (200, Some(1)));
    let (s, _) = issued(app, &admin, "/api/v1/stats?branch=99").await;
    assert_eq!(s, 404);
    let (s, v) = issued(app, &admin, "/api/v1/stats/branches").await;
    assert_eq!(s, 200);
    assert_eq!(v["branches"].as_array().unwrap().len(), 2);
    assert_eq!(v["issued"], 2, "across branches");
    assert_eq!(v["branches"][1]["name"]["en"], "Second hall");
    let kiosk_stats = app.get("/api/v1/stats/branches", Some(KIOSK)).await;
    assert_eq!(kiosk_stats.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branches_are_isolated_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_on(format!("sqlite://{}", dir.path().join("q.db").display())).await;
    branches_are_isolated(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branches_are_isolated_on_postgres() {
    let Some(db) = pg_database().await else {
        return;
    };
    let app = TestApp::spawn_on(db.url.clone()).await;
    branches_are_isolated(&app).await;
}

/// The numbers of a board's snapshot, newest call first.
async fn board_calls(app: &TestApp, display: &str) -> Vec<String> {
    let url = app.ws_url(display, None);
    let mut board = EventClient::connect(&url).await.unwrap();
    let snapshot = board
        .next(std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(snapshot["type"], "snapshot");
    snapshot["recent_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_str().unwrap().to_owned())
        .collect()
}

/// Each branch's board lists its own last ten numbers called, newest first: a number called out
/// of order and a recall count where they happened, and the other branch's calls, made in
/// between, never show. More tickets are called than the snapshot's query looks at (its 80
/// tickets called last), so that it is the latest it keeps.
async fn each_board_lists_its_own_last_calls(app: &TestApp) {
    second_branch(app).await;
    let staff1 = app.login("staff1").await;
    app.sign_in(1, &staff1).await;
    let staff2b = app.login("staff2b").await;
    app.sign_in(1, &staff2b).await;
    for _ in 0..90 {
        app.issue("A").await;
        let r = app
            .post(
                "/api/v1/tickets",
                Some("kiosk-two"),
                json!({"service": "A"}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let serve = |token: String| async move {
        let called = app.call_next(1, &token).await.expect("a ticket waits");
        assert!(
            app.window(1, "complete", &token)
                .await
                .status()
                .is_success()
        );
        called.number.to_string()
    };
    // Branch 1 calls A001–A087; branch 2 A001–A088, its calls in between.
    for i in 0..88 {
        if i < 87 {
            serve(staff1.clone()).await;
        }
        serve(staff2b.clone()).await;
    }
    // Branch 1: A089 out of order, then A088, recalled.
    let r = app
        .post(
            "/api/v1/windows/1/call",
            Some(&staff1),
            json!({"number": "A089"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert!(
        app.window(1, "complete", &staff1)
            .await
            .status()
            .is_success()
    );
    assert_eq!(
        app.call_next(1, &staff1).await.unwrap().number.as_str(),
        "A088"
    );
    assert!(app.window(1, "recall", &staff1).await.status().is_success());

    let numbers = |v: &[u32]| v.iter().map(|n| format!("A{n:03}")).collect::<Vec<_>>();
    assert_eq!(
        board_calls(app, qhall_tests::DISPLAY).await,
        numbers(&[88, 89, 87, 86, 85, 84, 83, 82, 81, 80])
    );
    assert_eq!(
        board_calls(app, "display-two").await,
        numbers(&[88, 87, 86, 85, 84, 83, 82, 81, 80, 79])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_board_lists_its_own_last_calls_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_on(format!("sqlite://{}", dir.path().join("q.db").display())).await;
    each_board_lists_its_own_last_calls(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_board_lists_its_own_last_calls_on_postgres() {
    let Some(db) = pg_database().await else {
        return;
    };
    let app = TestApp::spawn_on(db.url.clone()).await;
    each_board_lists_its_own_last_calls(&app).await;
}

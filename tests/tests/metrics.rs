//! `/metrics` is not public: a manager's token (its own branch's lines) or an admin's on the
//! main address, or no token on a `--metrics-listen` address of its own.

use std::time::Duration;

use qhall_tests::{DISPLAY, KIOSK, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn metrics(app: &TestApp, token: Option<&str>) -> (u16, String) {
    let r = app.get("/metrics", token).await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

#[tokio::test]
async fn metrics_answer_401_without_a_token_and_403_to_devices_and_staff() {
    let app = TestApp::spawn().await;
    let (s, body) = metrics(&app, None).await;
    assert_eq!(s, 401, "{body}");
    assert!(body.contains("\"error\""), "a JSON error: {body}");
    assert!(!body.contains("qhall_tickets"), "no figures leak: {body}");
    let (s, _) = metrics(&app, Some("not-a-token")).await;
    assert_eq!(s, 401);
    for token in [KIOSK, DISPLAY] {
        let (s, body) = metrics(&app, Some(token)).await;
        assert_eq!(s, 403, "{token}: {body}");
    }
    let staff = app.login("staff1").await;
    let (s, _) = metrics(&app, Some(&staff)).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn a_manager_reads_the_metrics_of_its_own_branch_only() {
    let app = TestApp::spawn().await;
    app.issue("A").await;
    // A second branch with its own waiting ticket, which branch 1's manager must not see.
    app.sql(&[
        "INSERT INTO branches (id, name_zh, name_en, time_zone, weekly_hours) \
         SELECT 2, '第二大厅', 'Second hall', time_zone, weekly_hours FROM branches WHERE id = 1",
        "INSERT INTO services (branch_id, code, name_zh, name_en, target_wait_secs) \
         VALUES (2, 'Q', '其他', 'Other', 600)",
    ])
    .await;
    let manager = app.login("manager").await;
    let (s, body) = metrics(&app, Some(&manager)).await;
    assert_eq!(s, 200, "{body}");
    assert!(
        body.contains("# TYPE qhall_tickets_issued_total counter"),
        "{body}"
    );
    assert!(
        body.contains("qhall_tickets_waiting{branch=\"1\",service=\"A\"} 1"),
        "{body}"
    );
    assert!(
        !body.contains("branch=\"2\""),
        "another branch's line: {body}"
    );

    // On PostgreSQL, how walk-ins shared statements. Three more walk-ins: the first may find
    // the configuration the server kept out of date and go step by step; the others go in a
    // statement each (and so may the first two, with the configuration kept since start).
    for _ in 0..3 {
        app.issue("A").await;
    }
    let (_, body) = metrics(&app, Some(&manager)).await;
    let value = |name: &str| -> u64 {
        let line = body.lines().find(|l| l.starts_with(&format!("{name} ")));
        line.and_then(|l| l.split(' ').nth(1)?.parse().ok())
            .unwrap_or_else(|| panic!("{name}: {body}"))
    };
    if app.database_url.starts_with("postgres") {
        let together = value("qhall_pg_issued_together_total");
        assert!((2..=4).contains(&together), "{body}");
        assert!(
            value("qhall_pg_issue_statements_total") >= together,
            "{body}"
        );
        assert_eq!(value("qhall_pg_issue_skipped_total"), 0);
    } else {
        assert!(!body.contains("qhall_pg_"), "{body}");
    }
}

#[tokio::test]
async fn the_metrics_listener_serves_without_a_token_on_its_own_address_only() {
    let dir = tempfile::tempdir().unwrap();
    let main = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = main.local_addr().unwrap();
    // A free port for the metrics listener: bind, note, release.
    let metrics_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = qhall_server::Config {
        listen: addr.to_string(),
        database_url: format!("sqlite://{}", dir.path().join("q.db").display()),
        demo: true,
        metrics_listen: Some(metrics_addr.to_string()),
        header_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(qhall_server::run(config, main, async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let mut answer = None;
    for _ in 0..300 {
        if let Ok(r) = client
            .get(format!("http://{metrics_addr}/metrics"))
            .send()
            .await
        {
            answer = Some((r.status().as_u16(), r.text().await.unwrap()));
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (s, body) = answer.expect("the metrics listener never answered");
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("qhall_http_requests_total"), "{body}");
    // Only /metrics is there: the API is not reachable through the metrics address.
    let r = client
        .get(format!("http://{metrics_addr}/api/v1/services"))
        .bearer_auth(KIOSK)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The main address still wants a token.
    let r = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The metrics address has the main address's timeouts: a request whose headers never end
    // is closed within the header timeout (2 s here), not held open.
    let mut stalled = tokio::net::TcpStream::connect(metrics_addr).await.unwrap();
    stalled
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let quiet = std::time::Instant::now();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(12), async {
        while !matches!(stalled.read(&mut buf).await, Ok(0) | Err(_)) {}
    })
    .await;
    assert!(
        closed.is_ok(),
        "a stalled request on the metrics address was still open after 12 s"
    );
    println!(
        "stalled metrics connection closed after {:?}",
        quiet.elapsed()
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

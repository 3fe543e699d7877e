//! Staff act only in their role (issue #15, items 7, 8, 10 and 11 in part): no staff view
//! carries a customer's secret ticket id; staff cancel (audited) and reinstate only at the
//! window they are signed in to and only tickets it serves; the customer's own cancel is
//! recorded; the event stream refuses oversized frames before buffering them and cookie
//! upgrades from other sites; a token in `?token=` never reaches the server's log.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use qhall_tests::{DISPLAY, ServerProcess, TestApp, rss_of};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The error code of an error answer.
async fn code(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (status, v["error"]["code"].as_str().unwrap_or("").to_owned())
}

/// The ticket's status as its holder sees it.
async fn status_of(app: &TestApp, id: &str) -> String {
    let v: Value = app
        .get(&format!("/api/v1/tickets/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    v["status"].as_str().unwrap().to_owned()
}

/// A GET's body.
async fn text(app: &TestApp, path: &str, token: &str) -> String {
    app.get(path, Some(token)).await.text().await.unwrap()
}

/// The manager's `events.csv` for today.
async fn events_csv(app: &TestApp) -> String {
    let mgr = app.login("manager").await;
    let r = app.get("/api/v1/reports/events.csv", Some(&mgr)).await;
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

#[tokio::test]
async fn no_staff_view_carries_a_customers_ticket_id_and_the_kiosk_still_gets_it() {
    let app = TestApp::spawn().await;
    let s1 = app.login("staff1").await;
    let s2 = app.login("staff2").await;
    app.sign_in(1, &s1).await;
    app.sign_in(2, &s2).await;
    let first = app.issue("A").await;
    let second = app.issue("A").await;
    let ids = [first.id.clone(), second.id.clone()];
    // The kiosk prints the tracking QR: it keeps getting the id, and the id opens the ticket.
    assert!(first.tracking_url.ends_with(&first.id));
    assert_eq!(status_of(&app, &first.id).await, "waiting");

    let leaks = |body: &str| ids.iter().any(|id| body.contains(id.as_str()));
    // The waiting list of the caller's own window and of any other window.
    for n in [1, 2, 3] {
        let r = app
            .get(&format!("/api/v1/windows/{n}/waiting"), Some(&s1))
            .await;
        assert_eq!(r.status(), 200);
        let body = r.text().await.unwrap();
        assert!(body.contains("A001"), "{body}");
        assert!(
            !leaks(&body),
            "window {n}'s waiting list leaks an id: {body}"
        );
    }
    let waiting: Vec<Value> = app
        .get("/api/v1/windows/1/waiting", Some(&s1))
        .await
        .json()
        .await
        .unwrap();
    let listed_ref = waiting[0]["id"].as_str().unwrap().to_owned();
    assert!(listed_ref.starts_with("ref-"), "{listed_ref}");

    // Call-next keeps protocol v1's {"ticket":{"id":…}}, holding the public reference.
    let r = app.window(1, "call-next", &s1).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(!leaks(&body), "call-next leaks the id: {body}");
    let called: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(called["ticket"]["number"], "A001");
    assert_eq!(
        called["ticket"]["id"], listed_ref,
        "the reference is stable"
    );
    // The reference opens nothing.
    let r = app
        .get(&format!("/api/v1/tickets/{listed_ref}"), None)
        .await;
    assert_eq!(code(r).await, (404, "unknown_ticket".into()));
    let r = app
        .post(
            &format!("/api/v1/tickets/{listed_ref}/cancel"),
            None,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = app.get(&format!("/t/{listed_ref}"), None).await;
    assert_eq!(r.status(), 404);

    // Every other staff and manager view of windows and tickets.
    let mgr = app.login("manager").await;
    for (path, token) in [
        ("/api/v1/windows", &s1),
        ("/api/v1/windows/1", &s2),
        ("/api/v1/windows", &mgr),
        ("/api/v1/live", &mgr),
        ("/staff", &s1),
    ] {
        let r = app.get(path, Some(token)).await;
        assert_eq!(r.status(), 200, "{path}");
        let body = r.text().await.unwrap();
        assert!(!leaks(&body), "{path} leaks an id: {body}");
    }
    for action in ["recall", "start", "complete"] {
        let r = app.window(1, action, &s1).await;
        assert_eq!(r.status(), 200, "{action}");
        let body = r.text().await.unwrap();
        assert!(!leaks(&body), "{action} leaks the id: {body}");
    }
    // Out of order, by number.
    let r = app
        .post(
            "/api/v1/windows/1/call",
            Some(&s1),
            json!({"number": second.number.as_str()}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(!leaks(&r.text().await.unwrap()));
    // The customer still follows the ticket with the id.
    assert_eq!(status_of(&app, &second.id).await, "called");
}

#[tokio::test]
async fn a_window_calls_out_of_order_only_a_ticket_it_serves() {
    let app = TestApp::spawn().await;
    let s4 = app.login("staff4").await;
    app.sign_in(4, &s4).await; // window 4 serves C and A, not B
    let b = app.issue("B").await;
    let r = app
        .post(
            "/api/v1/windows/4/call",
            Some(&s4),
            json!({"number": b.number.as_str()}),
        )
        .await;
    assert_eq!(code(r).await, (403, "not_served_here".into()));
    assert_eq!(status_of(&app, &b.id).await, "waiting");
}

#[tokio::test]
async fn staff_cancel_a_waiting_ticket_at_their_window_and_its_history_says_who_and_why() {
    let app = TestApp::spawn().await;
    let s1 = app.login("staff1").await;
    app.sign_in(1, &s1).await;
    let t = app.issue("A").await;
    let r = app
        .post(
            "/api/v1/windows/1/cancel",
            Some(&s1),
            json!({"number": t.number.as_str(), "reason": "left the hall"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ticket"]["status"], "cancelled");
    assert_ne!(v["ticket"]["id"], t.id.as_str());
    assert_eq!(status_of(&app, &t.id).await, "cancelled");
    let csv = events_csv(&app).await;
    let line = csv
        .lines()
        .find(|l| l.contains(",cancel,"))
        .unwrap_or_else(|| panic!("no cancel event: {csv}"));
    assert!(line.contains("staff1"), "{line}");
    assert!(line.contains("left the hall"), "{line}");
    assert!(line.contains(r#"""actor"":""staff"""#), "{line}");
    // Only once.
    let r = app
        .post(
            "/api/v1/windows/1/cancel",
            Some(&s1),
            json!({"number": t.number.as_str(), "reason": "again"}),
        )
        .await;
    assert_eq!(r.status(), 409);
}

#[tokio::test]
async fn staff_cannot_cancel_elsewhere_without_a_reason_or_a_ticket_their_window_does_not_serve() {
    let app = TestApp::spawn().await;
    let s1 = app.login("staff1").await;
    let s2 = app.login("staff2").await;
    let s4 = app.login("staff4").await;
    app.sign_in(1, &s1).await;
    app.sign_in(2, &s2).await;
    app.sign_in(4, &s4).await;
    let a = app.issue("A").await;
    let b = app.issue("B").await;
    let cancel = |n: u32, number: &str, reason: &str| {
        app.request(
            reqwest::Method::POST,
            &format!("/api/v1/windows/{n}/cancel"),
            None,
        )
        .json(&json!({"number": number, "reason": reason}))
    };
    // staff2 is signed in at window 2, not 1.
    let r = cancel(1, a.number.as_str(), "x")
        .bearer_auth(&s2)
        .send()
        .await
        .unwrap();
    assert_eq!(code(r).await, (403, "not_your_window".into()));
    // Window 4 does not serve B.
    let r = cancel(4, b.number.as_str(), "x")
        .bearer_auth(&s4)
        .send()
        .await
        .unwrap();
    assert_eq!(code(r).await, (403, "not_served_here".into()));
    let r = cancel(1, a.number.as_str(), "  ")
        .bearer_auth(&s1)
        .send()
        .await
        .unwrap();
    assert_eq!(code(r).await, (422, "invalid_reason".into()));
    let r = cancel(1, a.number.as_str(), "x").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = cancel(1, a.number.as_str(), "x")
        .bearer_auth(DISPLAY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Called: no longer waiting, not cancelled.
    assert_eq!(app.call_next(1, &s1).await.unwrap().number, a.number);
    let r = cancel(1, a.number.as_str(), "x")
        .bearer_auth(&s1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(status_of(&app, &a.id).await, "called");
    assert_eq!(status_of(&app, &b.id).await, "waiting");
    assert!(!events_csv(&app).await.contains(",cancel,"));
}

#[tokio::test]
async fn a_customers_own_cancel_is_recorded_as_the_customers_and_counted_as_cancelled() {
    let app = TestApp::spawn().await;
    let t = app.issue("A").await;
    let r = app
        .post(&format!("/api/v1/tickets/{}/cancel", t.id), None, json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let csv = events_csv(&app).await;
    let line = csv
        .lines()
        .find(|l| l.contains(",cancel,"))
        .unwrap_or_else(|| panic!("no cancel event: {csv}"));
    assert!(line.contains(r#"""actor"":""customer"""#), "{line}");
    let mgr = app.login("manager").await;
    let stats: Value = app
        .get("/api/v1/stats", Some(&mgr))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["cancelled"], 1, "{stats}");
    assert_eq!(stats["issued"], 1, "{stats}");
}

#[tokio::test]
async fn staff2_signed_in_at_window_2_cannot_reinstate_a_no_show_at_window_1() {
    let app = TestApp::spawn().await;
    let s1 = app.login("staff1").await;
    let s2 = app.login("staff2").await;
    let s3 = app.login("staff3").await; // signed in nowhere
    let s4 = app.login("staff4").await;
    app.sign_in(1, &s1).await;
    app.sign_in(2, &s2).await;
    app.sign_in(4, &s4).await;
    let b = app.issue("B").await;
    assert_eq!(app.call_next(1, &s1).await.unwrap().number, b.number);
    assert_eq!(app.window(1, "no-show", &s1).await.status(), 200);

    let reinstate = |n: u32, token: &str| {
        app.request(
            reqwest::Method::POST,
            &format!("/api/v1/windows/{n}/reinstate"),
            Some(token),
        )
        .json(&json!({"number": b.number.as_str()}))
        .send()
    };
    let r = reinstate(1, &s2).await.unwrap();
    assert_eq!(code(r).await, (403, "not_your_window".into()));
    let r = reinstate(1, &s3).await.unwrap();
    assert_eq!(code(r).await, (403, "not_your_window".into()));
    // At their own window, but window 4 does not serve B.
    let r = reinstate(4, &s4).await.unwrap();
    assert_eq!(code(r).await, (403, "not_served_here".into()));
    assert_eq!(status_of(&app, &b.id).await, "no_show", "nothing changed");
    assert!(!events_csv(&app).await.contains(",reinstate,"));

    // staff2's own window 2 serves B: the customer is reinstated where they stand.
    let r = reinstate(2, &s2).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(status_of(&app, &b.id).await, "waiting");
    let csv = events_csv(&app).await;
    let line = csv.lines().find(|l| l.contains(",reinstate,")).unwrap();
    assert!(line.contains(",2,staff2,"), "{line}");
}

#[tokio::test]
async fn every_window_action_refuses_staff_not_signed_in_at_that_window_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let s1 = app.login("staff1").await;
    let s2 = app.login("staff2").await;
    app.sign_in(1, &s1).await;
    app.sign_in(2, &s2).await;
    let gone = app.issue("A").await;
    app.issue("A").await;
    app.issue("A").await;
    assert_eq!(app.call_next(1, &s1).await.unwrap().number, gone.number);
    assert_eq!(app.window(1, "no-show", &s1).await.status(), 200);
    assert!(app.call_next(1, &s1).await.is_some());
    let window = || text(&app, "/api/v1/windows/1", &s1);
    let waiting = || text(&app, "/api/v1/windows/1/waiting", &s1);
    let (w_before, q_before) = (window().await, waiting().await);
    let actions = [
        ("call-next", json!({})),
        ("call", json!({"number": "A003"})),
        ("recall", json!({})),
        ("start", json!({})),
        ("complete", json!({})),
        ("no-show", json!({})),
        ("extend", json!({"reason": "papers"})),
        ("transfer", json!({"service": "B"})),
        ("pause", json!({"reason": "break"})),
        ("resume", json!({})),
        ("sign-out", json!({})),
        ("cancel", json!({"number": "A003", "reason": "x"})),
        ("reinstate", json!({"number": gone.number.as_str()})),
    ];
    for (action, body) in actions {
        let r = app
            .post(&format!("/api/v1/windows/1/{action}"), Some(&s2), body)
            .await;
        assert_eq!(
            code(r).await,
            (403, "not_your_window".into()),
            "{action} at window 1 by staff2"
        );
    }
    assert_eq!(window().await, w_before);
    assert_eq!(waiting().await, q_before);
    assert_eq!(status_of(&app, &gone.id).await, "no_show");
}

/// A WebSocket request for the event stream with extra headers.
fn stream_request(
    app: &TestApp,
    headers: &[(&'static str, String)],
) -> tungstenite::handshake::client::Request {
    let mut req = format!("ws://{}/api/v1/events", app.addr)
        .into_client_request()
        .unwrap();
    for (k, v) in headers {
        req.headers_mut()
            .insert(*k, tungstenite::http::HeaderValue::from_str(v).unwrap());
    }
    req
}

/// Connects and reads the first message (the snapshot), or the HTTP status and body refused with.
async fn open_stream(req: tungstenite::handshake::client::Request) -> Result<Value, (u16, String)> {
    match tokio_tungstenite::connect_async(req).await {
        Ok((mut ws, _)) => {
            use futures_util::StreamExt;
            let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
                .await
                .expect("a first message")
                .expect("open")
                .expect("a message");
            Ok(serde_json::from_str(m.to_text().unwrap()).unwrap())
        }
        Err(tungstenite::Error::Http(resp)) => {
            let body = resp
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(&b[..]).into_owned())
                .unwrap_or_default();
            Err((resp.status().as_u16(), body))
        }
        Err(e) => panic!("unexpected: {e}"),
    }
}

#[tokio::test]
async fn a_cross_origin_upgrade_with_the_session_cookie_gets_403_and_same_origin_ones_open() {
    let app = TestApp::spawn().await;
    let s1 = app.login("staff1").await;
    let cookie = ("Cookie", format!("qhall_session={s1}"));

    for evil in ["http://evil.example", "null", "http://127.0.0.1:1"] {
        let refused = open_stream(stream_request(
            &app,
            &[cookie.clone(), ("Origin", evil.into())],
        ))
        .await
        .expect_err("a foreign origin with the cookie");
        assert_eq!(refused.0, 403, "{evil}");
        assert!(refused.1.contains("cross_origin"), "{}", refused.1);
    }
    // The project's own pages: same origin, the cookie, no token in the address.
    let own = open_stream(stream_request(
        &app,
        &[cookie.clone(), ("Origin", app.url.clone())],
    ))
    .await
    .expect("own origin");
    assert_eq!(own["type"], "snapshot");
    // Devices send no Origin.
    let device = open_stream(stream_request(
        &app,
        &[("Authorization", format!("Bearer {DISPLAY}"))],
    ))
    .await
    .expect("a device");
    assert_eq!(device["type"], "snapshot");
    // An explicit token proves its holder without the browser's help: a board page on
    // another host may still use ?token= (PROTOCOL.md), no cookie involved.
    let mut req = app.ws_url(DISPLAY, None).into_client_request().unwrap();
    req.headers_mut()
        .insert("Origin", "http://board.example".parse().unwrap());
    assert_eq!(open_stream(req).await.expect("token")["type"], "snapshot");
}

#[tokio::test]
async fn the_web_pages_open_the_stream_with_the_cookie_not_a_token_in_the_address() {
    let app = TestApp::spawn().await;
    for asset in ["staff.js", "manage-live.js"] {
        let r = app.get(&format!("/assets/{asset}"), None).await;
        assert_eq!(r.status(), 200, "{asset}");
        let js = r.text().await.unwrap();
        assert!(js.contains("/api/v1/events"), "{asset} opens the stream");
        assert!(
            !js.contains("token="),
            "{asset} puts a token in the address"
        );
    }
}

/// Opens the event stream by hand over TCP as the demo display, so the test writes every byte.
async fn raw_stream(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET /api/v1/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {DISPLAY}\r\n\
         Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    s
}

const FRAME: u64 = 16 * 1024 * 1024;

/// Sends one masked binary frame announcing 16 MiB and then as much of its payload as the
/// server takes; true when the server closes the connection (EOF or reset) within 20 s.
async fn flood(mut s: TcpStream) -> bool {
    let mut header = vec![0x82u8, 0xFF];
    header.extend_from_slice(&FRAME.to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    let chunk = vec![0u8; 64 * 1024];
    let send = async {
        s.write_all(&header).await?;
        for _ in 0..FRAME / chunk.len() as u64 {
            s.write_all(&chunk).await?;
        }
        std::io::Result::Ok(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(60), send).await;
    let mut buf = vec![0u8; 64 * 1024];
    let drained = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {} // the snapshot sent on connect
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), drained)
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_16_mib_frames_close_their_sockets_and_leave_the_servers_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("qhall.db").display());
    let server = ServerProcess::start(&db).unwrap();
    let addr = server.url.trim_start_matches("http://").to_owned();
    let pid = server.pid();
    // Warm up: one ordinary client, so lazy first-use allocations count in the baseline.
    drop(raw_stream(&addr).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = server.rss();

    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_of(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let mut floods = Vec::new();
    for _ in 0..20 {
        let s = raw_stream(&addr).await;
        floods.push(tokio::spawn(flood(s)));
    }
    let mut closed = 0;
    for f in floods {
        if f.await.unwrap() {
            closed += 1;
        }
    }
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let grew = peak.load(Ordering::Relaxed).saturating_sub(before);
    println!(
        "RSS before {} MiB, peak growth {:.1} MiB",
        before >> 20,
        grew as f64 / 1048576.0
    );
    assert_eq!(closed, 20, "every oversized frame closes its connection");
    assert!(
        grew < 24 << 20,
        "20 frames of 16 MiB grew the server by {} MiB",
        grew >> 20
    );
    let health = reqwest::get(format!("{}/healthz", server.url))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn a_token_in_the_query_string_never_reaches_the_servers_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("qhall.db").display());
    let log_path = dir.path().join("server.log");
    let mut child = Command::new(ServerProcess::binary())
        .args(["--demo", "--listen", "127.0.0.1:0", "--database", &db])
        .env("QHALL_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    // Keep reading standard output (as ServerProcess does): a closed pipe would fail its prints.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(u) = line.strip_prefix("listening on ") {
                let _ = tx.send(u.trim().to_owned());
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(30)).expect("listening");
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{url}/api/v1/login"))
        .json(&json!({"username": "manager", "password": "demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mgr = login["token"].as_str().unwrap();
    let board: Value = client
        .post(format!("{url}/api/v1/devices"))
        .bearer_auth(mgr)
        .json(&json!({"name": "Board by the door", "role": "display"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = board["token"].as_str().expect("a device token").to_owned();
    let bogus = "NotAToken0123456789abcdefghijklmnopqrstuv";
    let ws = url.replace("http://", "ws://");

    let (mut ok, _) = tokio_tungstenite::connect_async(format!("{ws}/api/v1/events?token={token}"))
        .await
        .unwrap();
    use futures_util::StreamExt;
    assert!(ok.next().await.unwrap().is_ok());
    drop(ok);
    assert!(
        tokio_tungstenite::connect_async(format!("{ws}/api/v1/events?token={bogus}&since=1"))
            .await
            .is_err()
    );
    let r = client
        .get(format!("{url}/api/v1/services?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        401,
        "a query token is for the event stream only"
    );
    let _ = child.kill();
    let _ = child.wait();

    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("listening"), "the log was written: {log}");
    assert!(!log.contains(&token), "the device token is in the log");
    assert!(!log.contains(bogus), "a refused token is in the log");
}

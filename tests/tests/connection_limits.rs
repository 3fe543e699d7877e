//! Connections that never finish a request are closed within their timeouts, a full server
//! closes newcomers at once, one address cannot take every place, and `/healthz` answers
//! throughout (issue #15, item 3).
//!
//! The server runs with 2 s timeouts so the test is quick; the defaults are 10 s and 15 s.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use qhall_tests::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(2);
/// How long after its timeout a connection may still be open: the server is busy accepting
/// thousands of connections on two cores meanwhile.
const SLACK: Duration = Duration::from_secs(4);

async fn short_timeouts(max_connections: usize) -> TestApp {
    TestApp::spawn_configured(
        move |c| {
            c.header_timeout = TIMEOUT;
            c.body_timeout = TIMEOUT;
            c.max_connections = max_connections;
            // The stalled connections all come from 127.0.0.1: only the server's cap holds.
            c.max_connections_per_address = usize::MAX;
        },
        None,
    )
    .await
}

/// The ways a client can hold a connection without finishing a request.
#[derive(Debug, Clone, Copy)]
enum Stall {
    /// Connected, then nothing.
    Silent,
    /// Half a request line and one header, never the blank line.
    PartialHeaders,
    /// Full headers announcing 100 bytes of body, then about half of them.
    HalfBody,
    /// One complete request and its answer, then nothing (idle keep-alive).
    IdleKeepAlive,
}

/// Opens a connection stalled as `stall`; returns it with the instant it went quiet.
async fn stalled(addr: std::net::SocketAddr, stall: Stall) -> (TcpStream, Instant) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    match stall {
        Stall::Silent => {}
        Stall::PartialHeaders => {
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .await
                .expect("write");
        }
        Stall::HalfBody => {
            let body = format!(r#"{{"username":"staff1","password":"{}"#, "x".repeat(20));
            assert!(body.len() < 100);
            s.write_all(
                format!(
                    "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                     Content-Length: 100\r\n\r\n{body}"
                )
                .as_bytes(),
            )
            .await
            .expect("write");
        }
        Stall::IdleKeepAlive => {
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("write");
            let mut buf = [0u8; 1024];
            let mut got = Vec::new();
            while !got.ends_with(b"ok") {
                let n = s.read(&mut buf).await.expect("read answer");
                assert!(n > 0, "closed before answering");
                got.extend_from_slice(&buf[..n]);
            }
            assert!(got.starts_with(b"HTTP/1.1 200"));
        }
    }
    (s, Instant::now())
}

/// Reads until the server closes; how long that took from `quiet`.
async fn closed_after(mut s: TcpStream, quiet: Instant) -> Duration {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return quiet.elapsed(),
            Ok(_) => {}
        }
    }
}

/// `/healthz` on a fresh connection every 50 ms until `stop`; returns (asked, answered, slowest).
async fn poll_health(
    app_url: String,
    stop: tokio::sync::watch::Receiver<bool>,
) -> (u32, u32, Duration) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(3))
        .build()
        .expect("client");
    let (mut asked, mut answered, mut slowest) = (0, 0, Duration::ZERO);
    while !*stop.borrow() {
        asked += 1;
        let started = Instant::now();
        if let Ok(r) = client.get(format!("{app_url}/healthz")).send().await
            && r.status() == 200
        {
            answered += 1;
            slowest = slowest.max(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (asked, answered, slowest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_stalled_connections_are_all_closed_within_their_timeouts_while_healthz_answers()
 {
    // Both ends of 5,000 connections live in this process.
    let fds = qhall_server::serve::limits::raise_open_file_limit().unwrap_or(0);
    assert!(
        fds >= 12_000,
        "this test needs 12,000 open files; the limit is {fds}"
    );
    let app = short_timeouts(10_000).await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let health = tokio::spawn(poll_health(app.url.clone(), stop_rx));

    let kinds = [
        Stall::Silent,
        Stall::PartialHeaders,
        Stall::HalfBody,
        Stall::IdleKeepAlive,
    ];
    let mut waiting = Vec::new();
    let started = Instant::now();
    for i in 0..5_000 {
        let kind = kinds[i % kinds.len()];
        let (s, quiet) = stalled(app.addr, kind).await;
        waiting.push((kind, tokio::spawn(closed_after(s, quiet))));
    }
    let opened_in = started.elapsed();

    let mut slowest = [Duration::ZERO; 4];
    for (kind, task) in waiting {
        let took = tokio::time::timeout(TIMEOUT + SLACK + Duration::from_secs(30), task)
            .await
            .unwrap_or_else(|_| panic!("a {kind:?} connection was never closed"))
            .expect("reader task");
        let k = kind as usize;
        slowest[k] = slowest[k].max(took);
        assert!(
            took <= TIMEOUT + SLACK,
            "a {kind:?} connection stayed open {took:?} after going quiet (timeout {TIMEOUT:?})"
        );
    }
    let _ = stop_tx.send(true);
    let (asked, answered, slowest_health) = health.await.expect("health poller");
    println!(
        "opened 5000 stalled connections in {opened_in:?}; slowest close after going quiet: \
         silent {:?}, partial headers {:?}, half body {:?}, idle keep-alive {:?}; \
         /healthz answered {answered}/{asked}, slowest {slowest_health:?}",
        slowest[0], slowest[1], slowest[2], slowest[3]
    );
    assert!(asked >= 10, "/healthz was asked only {asked} times");
    assert_eq!(
        answered, asked,
        "/healthz failed while stalled connections were open"
    );
}

#[tokio::test]
async fn a_full_server_closes_new_connections_at_once_and_answers_again_when_slots_free() {
    let app = short_timeouts(20).await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(stalled(app.addr, Stall::Silent).await.0);
    }
    // The 21st is accepted after the 20 (one listen queue, in order) and finds no slot.
    let (extra, quiet) = stalled(app.addr, Stall::Silent).await;
    let took = tokio::time::timeout(Duration::from_secs(1), closed_after(extra, quiet))
        .await
        .expect("a connection over the cap was left open");
    assert!(took < TIMEOUT, "closed only after {took:?}");
    // The held ones time out; then the server answers again.
    let deadline = Instant::now() + TIMEOUT + SLACK;
    loop {
        if let Ok(r) = app.get("/healthz", None).await.error_for_status() {
            assert_eq!(r.text().await.unwrap(), "ok");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/healthz never answered after the slots freed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let server = "qhall_connections_refused_total{cap=\"server\"} ";
    assert!(metric(&app, server).await >= 1, "not counted in /metrics");
    drop(held);
}

/// A connection to `to` from the local address `from` (on Linux all of 127.0.0.0/8 is this
/// machine, so each is a client address of its own to the server).
async fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((from, 0)))
        .expect("bind the client's address");
    socket.connect(to).await.expect("connect")
}

/// Whether `s` answers `GET /healthz` with 200 `ok`.
async fn answers(s: &mut TcpStream) -> bool {
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .is_err()
    {
        return false;
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(b"ok") {
        match tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => return false,
        }
    }
    got.starts_with(b"HTTP/1.1 200")
}

/// Waits until a new connection from `from` is served, failing with `what` at `deadline`.
async fn served_again(
    from: [u8; 4],
    to: SocketAddr,
    since: Instant,
    deadline: Instant,
    what: &str,
) {
    while !answers(&mut connect_from(from, to).await).await {
        assert!(
            Instant::now() < deadline,
            "{what} {:?} later",
            since.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of the `/metrics` line that starts with `series`, as the manager reads it.
async fn metric(app: &TestApp, series: &str) -> u64 {
    let manager = app.login("manager").await;
    app.metrics(&manager, &[series]).await[0]
}

const ATTACKER: [u8; 4] = [127, 0, 0, 2];
const LONG: Duration = Duration::from_secs(20);

#[tokio::test]
async fn one_address_holds_at_most_its_share_of_the_connections_and_the_rest_are_served() {
    // Long timeouts: the held connections stay open throughout, and a place given back comes
    // from a closed connection, not a timed-out one.
    let app = TestApp::spawn_configured(
        |c| {
            c.header_timeout = LONG;
            c.body_timeout = LONG;
            c.max_connections = 50;
            c.max_connections_per_address = 10;
        },
        None,
    )
    .await;
    // One machine opens connections and sends nothing.
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(connect_from(ATTACKER, app.addr).await);
    }
    // Its eleventh is closed at once, though the server has 40 places left.
    let extra = connect_from(ATTACKER, app.addr).await;
    let took = tokio::time::timeout(Duration::from_secs(1), closed_after(extra, Instant::now()))
        .await
        .expect("a connection over the address's cap was left open");
    assert!(took < Duration::from_secs(1), "closed only after {took:?}");
    let address = "qhall_connections_refused_total{cap=\"address\"} ";
    assert_eq!(metric(&app, address).await, 1, "counted in /metrics");
    // Every other address is served meanwhile.
    let mut other = connect_from([127, 0, 0, 3], app.addr).await;
    assert!(answers(&mut other).await, "another address was not served");
    assert_eq!(app.get("/healthz", None).await.status(), 200);
    // One of the ten closes: its place is the address's again.
    drop(held.pop());
    let closed = Instant::now();
    let what = "the address's freed place was not given back";
    served_again(ATTACKER, app.addr, closed, closed + LONG / 2, what).await;
    drop(held);
}

#[tokio::test]
async fn a_trusted_proxy_is_not_held_to_the_cap_of_one_address() {
    let app = TestApp::spawn_configured(
        |c| {
            c.header_timeout = TIMEOUT;
            c.body_timeout = TIMEOUT;
            c.max_connections = 50;
            c.max_connections_per_address = 3;
            c.trusted_proxies = vec!["127.0.0.2/32".parse().expect("CIDR")];
        },
        None,
    )
    .await;
    // The proxy carries many clients' connections: ten at once, each served.
    let mut held = Vec::new();
    for _ in 0..10 {
        let mut s = connect_from(ATTACKER, app.addr).await;
        assert!(answers(&mut s).await, "the proxy's connection was refused");
        held.push(s);
    }
}

#[tokio::test]
async fn a_client_that_asks_and_never_reads_is_closed_after_the_send_timeout() {
    // One place for the address: it is free again only once the server has let go of the
    // connection that stopped reading.
    let app = TestApp::spawn_configured(
        |c| {
            c.header_timeout = TIMEOUT;
            c.body_timeout = TIMEOUT;
            c.send_timeout = TIMEOUT;
            c.max_connections_per_address = 1;
            // The test's own requests (from 127.0.0.1) are not held to that one place.
            c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("CIDR")];
        },
        None,
    )
    .await;
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("receive buffer");
    socket
        .bind(SocketAddr::from((ATTACKER, 0)))
        .expect("bind the client's address");
    let mut stalled = socket.connect(app.addr).await.expect("connect");
    // Two hundred pipelined requests for the OpenAPI document (~170 KB each): far more than the
    // kernel's buffers hold. Nothing is read.
    let ask = b"GET /api/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n".repeat(200);
    stalled.write_all(&ask).await.expect("send the requests");
    let quiet = Instant::now();
    assert!(
        !answers(&mut connect_from(ATTACKER, app.addr).await).await,
        "the address's one place was not taken by the stalled connection"
    );
    let what = "a connection that read nothing was still held";
    served_again(ATTACKER, app.addr, quiet, quiet + TIMEOUT + SLACK, what).await;
    let timeouts = "qhall_connections_send_timeouts_total ";
    assert_eq!(metric(&app, timeouts).await, 1, "counted in /metrics");
    assert!(
        quiet.elapsed() >= TIMEOUT,
        "closed after {:?}, before the send timeout",
        quiet.elapsed()
    );
    drop(stalled);
}

#[tokio::test]
async fn a_request_body_trickled_in_past_its_deadline_is_cut_off() {
    let app = short_timeouts(100).await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(
        b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    )
    .await
    .unwrap();
    // A byte every 300 ms: per-chunk timers would never fire; the whole-body deadline does.
    let started = Instant::now();
    let mut closed = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if s.write_all(b" ").await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(Duration::from_millis(1), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            _ => {}
        }
    }
    let took = started.elapsed();
    assert!(
        closed,
        "the trickling connection was still open after {took:?}"
    );
    assert!(took <= TIMEOUT + SLACK, "closed only after {took:?}");
}

//! The event stream, as a board (tokio-tungstenite) sees it.

use std::time::Duration;

use futures_util::StreamExt;
use qhall_tests::{EventClient, KIOSK, TestApp};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_display_receives_called_after_call_next() {
    let app = TestApp::spawn().await;
    let mut board = app.display(None).await;
    let snap = board.next(WAIT).await.unwrap();
    assert_eq!(snap["type"], "snapshot");
    let t = app.issue("A").await;
    let staff = app.login("staff2").await;
    app.sign_in(2, &staff).await;
    let called = app.call_next(2, &staff).await.unwrap();
    assert_eq!(called.number, t.number);
    let ev = board.wait_for("called", WAIT).await.unwrap();
    assert_eq!(ev["number"], t.number.as_str());
    assert_eq!(ev["window"], 2);
    assert_eq!(ev["service"], "A");
    // seq increases by exactly one per event.
    let seqs: Vec<u64> = board
        .received
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    for w in seqs.windows(2) {
        assert_eq!(w[1], w[0] + 1, "seq sequence {seqs:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_display_receives_exactly_the_events_it_missed() {
    let app = TestApp::spawn().await;
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    let mut board = app.display(None).await;
    // Events committed before the snapshot are folded into it: wait for it before acting.
    assert_eq!(board.next(WAIT).await.unwrap()["type"], "snapshot");
    app.issue("A").await;
    let seen = board.wait_for("issued", WAIT).await.unwrap();
    let last_seen = seen["seq"].as_u64().unwrap();
    board.close().await;

    // While it is away: two issues, a call, a recall.
    let a = app.issue("A").await;
    app.issue("B").await;
    let first = app.call_next(1, &staff).await.unwrap();
    assert!(app.window(1, "recall", &staff).await.status().is_success());

    let mut back = app.display(Some(last_seen)).await;
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(back.next(WAIT).await.unwrap());
    }
    let kinds: Vec<&str> = got.iter().map(|m| m["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["issued", "issued", "called", "recalled"]);
    let seqs: Vec<u64> = got.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (last_seen + 1..=last_seen + 4).collect::<Vec<_>>());
    assert_eq!(got[2]["number"], first.number.as_str());
    assert_ne!(a.number, app.issue("C").await.number);
    // Nothing more than what was missed, then the live event.
    let live = back.next(WAIT).await.unwrap();
    assert_eq!(live["type"], "issued");
    assert_eq!(live["seq"], last_seen + 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_from_a_seq_the_server_never_had_gives_a_fresh_snapshot() {
    let app = TestApp::spawn().await;
    let mut board = app.display(Some(999_999)).await;
    assert_eq!(board.next(WAIT).await.unwrap()["type"], "snapshot");
}

/// A client that stops reading must not delay the others: the fast client gets every event
/// while the slow one's socket is full.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_that_stops_reading_does_not_delay_the_others() {
    let app = TestApp::spawn().await;
    // The slow client: a tiny receive buffer, and it never reads.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(2048).unwrap();
    let stream = socket.connect(app.addr).await.unwrap();
    let (slow, _) = tokio_tungstenite::client_async(app.ws_url(qhall_tests::DISPLAY, None), stream)
        .await
        .unwrap();
    let mut fast = EventClient::connect(&app.ws_url(qhall_tests::DISPLAY, None))
        .await
        .unwrap();
    assert_eq!(fast.next(WAIT).await.unwrap()["type"], "snapshot");

    let n = 1500;
    for i in 0..n {
        app.issue(["A", "B", "C"][i % 3]).await;
    }
    let mut issued = 0;
    while issued < n {
        let m = fast
            .next(WAIT)
            .await
            .expect("the fast client kept receiving");
        if m["type"] == "issued" {
            issued += 1;
        }
    }
    assert_eq!(fast.received.last().unwrap()["waiting"], n / 3);
    drop(slow.split());
}

/// The called event's number and the count of its service still waiting.
async fn called(board: &mut EventClient) -> (String, u64) {
    let ev = board.wait_for("called", WAIT).await.unwrap();
    let number = ev["number"].as_str().unwrap_or_default().to_owned();
    (number, ev["waiting"].as_u64().expect("waiting"))
}

/// A call's event says how many still wait for the called ticket's service, priority and
/// normal tickets together — for the policy's pick and for one called out of order alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_tells_boards_how_many_still_wait_for_its_service() {
    let app = TestApp::spawn().await;
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    let mut board = app.display(None).await;
    assert_eq!(board.next(WAIT).await.unwrap()["type"], "snapshot");
    app.issue("A").await;
    app.issue("A").await;
    let last = app.issue("A").await;
    let r = app
        .post(
            "/api/v1/tickets",
            Some(KIOSK),
            json!({"service": "A", "priority": true}),
        )
        .await;
    assert_eq!(r.status(), 201);
    app.issue("B").await;

    // Window 1 serves A first: one of the four A tickets, three left.
    let first = app.call_next(1, &staff).await.unwrap();
    assert_eq!(
        called(&mut board).await,
        (first.number.as_str().to_owned(), 3)
    );
    let done = app.window(1, "complete", &staff).await;
    assert!(done.status().is_success());

    let r = app
        .post(
            "/api/v1/windows/1/call",
            Some(&staff),
            json!({"number": last.number.as_str()}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        called(&mut board).await,
        (last.number.as_str().to_owned(), 2)
    );
}

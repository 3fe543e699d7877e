//! The connection against a stand-in server that misbehaves on purpose.

mod common;

use common::Probe;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

const SNAPSHOT: &str = r#"{"type":"snapshot","seq":5,"hall":{"zh":"大厅","en":"Hall"},"recent_calls":[],"waiting":[],"windows":[],"notices":[],"emergency":null,"open":true}"#;
const UNKNOWN: &str = r#"{"type":"holiday","seq":6,"date":"2027-10-01"}"#;
const CALLED: &str = r#"{"type":"called","seq":7,"number":"A001","service":"A","window":2,"at":"2027-01-15T08:00:00Z","waiting":0}"#;

/// A server that answers the handshake, sends the first messages to a fresh client (nothing
/// to a resuming one), records each request's path, and then never reads again, so pings go
/// unanswered while the TCP connection stays open — a frozen server.
async fn frozen_server() -> (String, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (paths_tx, paths) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            let paths_tx = paths_tx.clone();
            let mut path = String::new();
            // The callback's signature is tungstenite's; its large error type is not ours.
            #[allow(clippy::result_large_err)]
            let record = |req: &Request, resp: Response| {
                path = req.uri().to_string();
                let auth = req
                    .headers()
                    .get("authorization")
                    .map(|v| v.to_str().unwrap_or(""));
                assert_eq!(auth, Some("Bearer secret-token"));
                Ok(resp)
            };
            let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, record).await else {
                continue;
            };
            let _ = paths_tx.send(path.clone());
            let (mut tx, rx) = ws.split();
            if !path.contains("since=") {
                for m in [SNAPSHOT, UNKNOWN, CALLED] {
                    tx.send(Message::text(m)).await.unwrap();
                }
            }
            held.push((tx, rx));
        }
    });
    (format!("http://{addr}"), paths)
}

#[tokio::test]
async fn unknown_event_types_are_skipped_and_the_call_after_them_is_shown_and_said() {
    let (url, _paths) = frozen_server().await;
    let mut probe = Probe::start(&url, "secret-token");
    let board = probe.wait_for_call("A001").await;
    assert_eq!(board.seq, Some(7));
    assert_eq!(board.hall.zh, "大厅");
    assert_eq!(probe.said(), ["A001>2"]);
    probe.stop().await;
}

#[tokio::test]
async fn a_frozen_server_is_noticed_by_ping_and_the_board_resumes_after_its_last_seq() {
    let (url, mut paths) = frozen_server().await;
    let mut probe = Probe::start(&url, "secret-token");
    probe.wait_for_call("A001").await;
    assert_eq!(paths.recv().await.unwrap(), "/api/v1/events");
    // The TCP connection never closes: only the unanswered pings can end it.
    let board = probe
        .wait_for("the frozen link to be dropped", |b| !b.connected)
        .await;
    assert_eq!(
        board.latest().unwrap().number.as_str(),
        "A001",
        "the last state is kept"
    );
    probe.wait_for("a new connection", |b| b.connected).await;
    assert_eq!(paths.recv().await.unwrap(), "/api/v1/events?since=7");
    assert_eq!(probe.said(), ["A001>2"], "nothing is said twice");
    probe.stop().await;
}

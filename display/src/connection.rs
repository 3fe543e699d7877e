//! The WebSocket connection to the server's event stream, kept up for as long as the board
//! runs.
//!
//! - Connects to `GET /api/v1/events` with the display token as a bearer header (kept out of
//!   URLs, which end up in logs), and `since=SEQ` once the board has state, so a reconnect
//!   replays exactly the events missed. The reducer ignores anything it already applied.
//! - Sends a ping every [`PING_EVERY`]; a connection that has carried nothing at all for
//!   [`DEAD_AFTER`] is dead (a cable pulled, a server frozen) and is dropped, so a dead link
//!   is noticed within [`DEAD_AFTER`] plus one [`CHECK_EVERY`] — under 10 s.
//! - Reconnects with exponential backoff and jitter, capped at [`MAX_BACKOFF`], for ever;
//!   meanwhile the board keeps its last state and shows a discreet "reconnecting" mark.
//!
//! It runs on its own tokio runtime thread; everything it learns goes out through the
//! `on_update` callback (the UI posts it to the event loop, tests collect it).

use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::{Instant, sleep, timeout};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::board::{Announcement, Board, Incoming};

pub const PING_EVERY: Duration = Duration::from_secs(3);
pub const DEAD_AFTER: Duration = Duration::from_secs(7);
pub const CHECK_EVERY: Duration = Duration::from_secs(1);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// Where to connect.
#[derive(Debug, Clone)]
pub struct Options {
    /// `http://host:port` (or `ws://…`, `https://…`, `wss://…`); the stream path is added.
    pub server: String,
    pub token: String,
    /// A CA certificate (PEM) trusted besides the system's for `wss://`.
    pub ca_file: Option<std::path::PathBuf>,
}

/// The stream's address for `server`, resuming after `since` when the board has state.
pub fn events_url(server: &str, since: Option<u64>) -> Result<String, String> {
    let server = server.trim().trim_end_matches('/');
    let rest = if let Some(rest) = server.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = server.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if server.starts_with("ws://") || server.starts_with("wss://") {
        server.to_owned()
    } else if !server.contains("://") && !server.is_empty() {
        format!("ws://{server}")
    } else {
        return Err(format!(
            "--server must be an http:// or ws:// address, not {server:?}"
        ));
    };
    Ok(match since {
        Some(seq) => format!("{rest}/api/v1/events?since={seq}"),
        None => format!("{rest}/api/v1/events"),
    })
}

/// The wait before reconnect attempt `attempt` (0 = the first after a drop): doubling from
/// 250 ms up to [`MAX_BACKOFF`], each wait drawn between half and all of it (`jitter` in
/// 0..1), so a hall full of boards does not hammer a restarting server in step.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let full = FIRST_BACKOFF
        .saturating_mul(1u32 << attempt.min(16))
        .min(MAX_BACKOFF);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// Why a session ended.
#[derive(Debug)]
enum Ended {
    /// The server closed the stream.
    Closed,
    /// Nothing arrived for [`DEAD_AFTER`].
    Dead,
    Failed(String),
}

/// Keeps the board connected until `shutdown` completes; returns the board's last state.
/// `on_update` is called after every change, with the announcements it produced (in order).
pub async fn run<F>(
    options: Options,
    mut board: Board,
    mut on_update: F,
    shutdown: impl Future<Output = ()>,
) -> Board
where
    F: FnMut(&Board, Vec<Announcement>),
{
    tokio::pin!(shutdown);
    let mut attempt: u32 = 0;
    let mut outage_logged = false;
    // Read once: the roots do not change while the board runs.
    let tls = qhall_shared::tls::client_config(options.ca_file.as_deref());
    loop {
        let ended = tokio::select! {
            () = &mut shutdown => return board,
            ended = session(&options, &tls, &mut board, &mut on_update, &mut attempt) => ended,
        };
        if board.connected {
            board.connected = false;
            on_update(&board, Vec::new());
        }
        match &ended {
            Ended::Failed(e) if !outage_logged => {
                tracing::warn!("event stream unavailable: {e}; retrying");
                outage_logged = true;
            }
            Ended::Failed(e) => tracing::debug!("event stream unavailable: {e}"),
            Ended::Closed => tracing::warn!("the server closed the event stream; reconnecting"),
            Ended::Dead => {
                tracing::warn!("no answer from the server for {DEAD_AFTER:?}; reconnecting")
            }
        }
        if !matches!(ended, Ended::Failed(_)) {
            outage_logged = false;
        }
        let wait = backoff(attempt, rand::random::<f64>());
        attempt = attempt.saturating_add(1);
        tokio::select! {
            () = &mut shutdown => return board,
            () = sleep(wait) => {}
        }
    }
}

async fn session<F>(
    options: &Options,
    tls: &Result<std::sync::Arc<qhall_shared::tls::ClientConfig>, String>,
    board: &mut Board,
    on_update: &mut F,
    attempt: &mut u32,
) -> Ended
where
    F: FnMut(&Board, Vec<Announcement>),
{
    let url = match events_url(&options.server, board.seq) {
        Ok(url) => url,
        Err(e) => return Ended::Failed(e),
    };
    let mut request = match url.as_str().into_client_request() {
        Ok(r) => r,
        Err(e) => return Ended::Failed(format!("bad address {url}: {e}")),
    };
    match HeaderValue::from_str(&format!("Bearer {}", options.token)) {
        Ok(v) => {
            request.headers_mut().insert("authorization", v);
        }
        Err(_) => return Ended::Failed("the token holds characters a header cannot carry".into()),
    }
    let tls = match tls {
        Ok(tls) => tls.clone(),
        Err(e) => return Ended::Failed(e.clone()),
    };
    let ws = match timeout(CONNECT_TIMEOUT, connect(request, tls)).await {
        Err(_) => return Ended::Failed(format!("no answer from {url} within {CONNECT_TIMEOUT:?}")),
        Ok(Err(e)) => return Ended::Failed(format!("{url}: {e}")),
        Ok(Ok((ws, _response))) => ws,
    };
    tracing::info!(since = ?board.seq, "connected to the event stream");
    *attempt = 0;
    board.connected = true;
    on_update(board, Vec::new());

    let (mut tx, mut rx) = ws.split();
    let mut check = tokio::time::interval(CHECK_EVERY);
    let mut last_heard = Instant::now();
    let mut last_ping = Instant::now();
    loop {
        tokio::select! {
            frame = rx.next() => {
                last_heard = Instant::now();
                match frame {
                    None | Some(Ok(WsMessage::Close(_))) => return Ended::Closed,
                    Some(Err(e)) => return Ended::Failed(e.to_string()),
                    Some(Ok(WsMessage::Text(text))) => match Incoming::parse(text.as_str()) {
                        Ok(incoming) => {
                            let said = board.receive(incoming);
                            on_update(board, said);
                        }
                        Err(e) => tracing::warn!("ignoring a message from the server: {e}"),
                    },
                    // Pings are answered by tungstenite itself; pongs and the rest only
                    // prove the link is alive.
                    Some(Ok(_)) => {}
                }
            }
            _ = check.tick() => {
                if last_heard.elapsed() > DEAD_AFTER {
                    return Ended::Dead;
                }
                if last_ping.elapsed() >= PING_EVERY {
                    last_ping = Instant::now();
                    let ping = tx.send(WsMessage::Ping(Default::default()));
                    match timeout(CHECK_EVERY, ping).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return Ended::Failed(e.to_string()),
                        // A full send buffer: the link is stuck; the silence check decides.
                        Err(_) => {}
                    }
                }
            }
        }
    }
}

/// Connects with a 4 KiB read buffer: the board reads small messages, and tungstenite zero-fills
/// its whole read buffer (128 KiB by default) on every read. `wss://` trusts `tls`.
async fn connect(
    request: tokio_tungstenite::tungstenite::handshake::client::Request,
    tls: std::sync::Arc<qhall_shared::tls::ClientConfig>,
) -> Result<Connected, tokio_tungstenite::tungstenite::Error> {
    let config =
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
    tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(config),
        true,
        Some(tokio_tungstenite::Connector::Rustls(tls)),
    )
    .await
}

type Connected = (
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    tokio_tungstenite::tungstenite::handshake::client::Response,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_address_follows_the_server_address_and_resumes_after_since() {
        assert_eq!(
            events_url("http://127.0.0.1:8080", None).unwrap(),
            "ws://127.0.0.1:8080/api/v1/events"
        );
        assert_eq!(
            events_url("https://hall.example/", Some(42)).unwrap(),
            "wss://hall.example/api/v1/events?since=42"
        );
        assert_eq!(
            events_url("10.0.0.5:8080", Some(0)).unwrap(),
            "ws://10.0.0.5:8080/api/v1/events?since=0"
        );
        assert!(events_url("ftp://x", None).is_err());
        assert!(events_url("", None).is_err());
    }

    #[test]
    fn backoff_doubles_with_jitter_and_never_exceeds_five_seconds() {
        assert_eq!(backoff(0, 1.0), Duration::from_millis(250));
        assert_eq!(backoff(0, 0.0), Duration::from_millis(125));
        assert_eq!(backoff(2, 1.0), Duration::from_millis(1000));
        for attempt in 0..100 {
            for jitter in [0.0, 0.3, 0.999, 1.0, 7.0] {
                assert!(backoff(attempt, jitter) <= MAX_BACKOFF);
            }
        }
        assert_eq!(backoff(40, 1.0), MAX_BACKOFF);
        assert!(backoff(40, 0.0) >= MAX_BACKOFF / 2);
    }

    #[test]
    fn a_dead_link_is_noticed_within_ten_seconds() {
        assert!(DEAD_AFTER + CHECK_EVERY < Duration::from_secs(10));
        assert!(
            PING_EVERY < DEAD_AFTER / 2,
            "two pings go unanswered before giving up"
        );
    }
}

//! The boards: WebSockets on every server, each noting when every `called` message arrives and
//! checking that `seq` rises by one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use tokio::sync::{Semaphore, watch};

use crate::Settings;
use crate::api::Api;
use crate::seed::Branch;

/// WebSocket handshakes in flight at once (under the listeners' backlog).
const CONNECTING: usize = 64;

/// What one board saw.
#[derive(Debug, Default)]
pub(crate) struct BoardLog {
    pub(crate) branch: usize,
    pub(crate) server: usize,
    /// Every `called` message: the number and when it arrived.
    pub(crate) called: Vec<(String, Instant)>,
    pub(crate) messages: u64,
    /// Snapshots after the first (the server found the board too slow and started it again).
    pub(crate) resyncs: u64,
    /// Events whose seq was not the one before plus one (never expected).
    pub(crate) gaps: u64,
}

/// The connected boards.
pub(crate) struct Boards {
    tasks: Vec<tokio::task::JoinHandle<BoardLog>>,
    /// Each board's branch (index) and the seq of the last message it has.
    progress: Vec<(usize, Arc<AtomicU64>)>,
    stop: watch::Sender<bool>,
}

impl Boards {
    pub(crate) fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Waits until every board has its branch's message `seqs[branch]`: `Ok` with the time it
    /// took, or `Err` with how many boards are still behind after `limit`.
    pub(crate) async fn caught_up(&self, seqs: &[u64], limit: Duration) -> Result<Duration, usize> {
        let started = Instant::now();
        loop {
            let behind = self
                .progress
                .iter()
                .filter(|(b, seq)| seq.load(Ordering::Relaxed) < seqs[*b])
                .count();
            if behind == 0 {
                return Ok(started.elapsed());
            }
            if started.elapsed() >= limit {
                return Err(behind);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Closes every board and returns what each saw.
    pub(crate) async fn stop(self) -> anyhow::Result<Vec<BoardLog>> {
        let _ = self.stop.send(true);
        let mut logs = Vec::new();
        for t in self.tasks {
            logs.push(t.await?);
        }
        Ok(logs)
    }
}

pub(crate) async fn connect_boards(
    api: &Api,
    s: &Settings,
    branches: &[Branch],
) -> anyhow::Result<Boards> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let gate = Arc::new(Semaphore::new(CONNECTING));
    let mut connecting = Vec::new();
    let mut progress = Vec::new();
    for (bi, b) in branches.iter().enumerate() {
        for j in 0..s.boards {
            let server = (bi * s.boards + j) % api.servers.len();
            let url = format!(
                "{}/api/v1/events?token={}",
                api.servers[server].replacen("http", "ws", 1),
                b.display
            );
            let (gate, stop) = (gate.clone(), stop_rx.clone());
            let seq = Arc::new(AtomicU64::new(0));
            progress.push((bi, seq.clone()));
            connecting.push(tokio::spawn(async move {
                let permit = gate.acquire_owned().await?;
                let ws = connect(&url).await?;
                let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
                let task = tokio::spawn(board(ws, (bi, server), seq, ready_tx, stop));
                ready_rx.await.context("a board's snapshot")?;
                drop(permit);
                anyhow::Ok(task)
            }));
        }
    }
    let mut tasks = Vec::new();
    for c in connecting {
        tasks.push(c.await??);
    }
    Ok(Boards {
        tasks,
        progress,
        stop: stop_tx,
    })
}

/// A board's WebSocket.
pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects a board to `url`. A board reads small messages: a 4 KiB read buffer, as the display
/// app has.
pub(crate) async fn connect(url: &str) -> anyhow::Result<Socket> {
    let config =
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true).await?;
    Ok(ws)
}

pub(crate) async fn board(
    ws: Socket,
    (branch, server): (usize, usize),
    progress: Arc<AtomicU64>,
    ready: tokio::sync::oneshot::Sender<()>,
    mut stop: watch::Receiver<bool>,
) -> BoardLog {
    use tokio_tungstenite::tungstenite::Message;
    let mut log = BoardLog {
        branch,
        server,
        ..Default::default()
    };
    // The write half stays alive: tungstenite answers the server's pings through it.
    let (_sink, mut rx) = ws.split();
    let mut ready = Some(ready);
    let mut last: Option<u64> = None;
    loop {
        let m = tokio::select! {
            m = rx.next() => m,
            _ = stop.changed() => break,
        };
        let Some(Ok(m)) = m else { break };
        let at = Instant::now();
        let Message::Text(t) = m else { continue };
        log.messages += 1;
        let seq = field_u64(&t, "\"seq\":");
        progress.store(seq.unwrap_or(0), Ordering::Relaxed);
        if t.contains("\"type\":\"snapshot\"") {
            match ready.take() {
                Some(r) => {
                    let _ = r.send(());
                }
                None => log.resyncs += 1,
            }
            last = seq;
            continue;
        }
        if last.is_some() && seq != last.map(|l| l + 1) {
            log.gaps += 1;
        }
        last = seq;
        if t.contains("\"type\":\"called\"")
            && let Some(n) = field_str(&t, "\"number\":\"")
        {
            log.called.push((n.to_owned(), at));
        }
    }
    log
}

/// The unsigned integer after `key` in a JSON text (top-level fields come first here).
pub(crate) fn field_u64(text: &str, key: &str) -> Option<u64> {
    let i = text.find(key)? + key.len();
    let digits: String = text[i..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The string after `key` (which ends with the opening quote), up to the closing quote.
pub(crate) fn field_str<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let i = text.find(key)? + key.len();
    let j = text[i..].find('"')?;
    Some(&text[i..i + j])
}

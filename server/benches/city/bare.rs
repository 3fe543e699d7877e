//! The floor with its fan-out: the simplest server that does an issue's whole job, measured on the
//! same database, cores and boards' client as the city.
//!
//! This bench binary re-executed as `__bare URL BRANCHES CONNECTIONS` is that server: axum's own
//! `serve`, one sqlx pool (`synchronous_commit = off`), and per branch a tokio broadcast channel
//! and a seq counter — no accounts, no rules, no history, no resume. `POST /issue/{b}` commits
//! `BEGIN; INSERT one row; COMMIT`, then broadcasts an `issued` message of the branch's next seq
//! to the branch's boards and answers with that seq; `GET /events/{b}` is a board's WebSocket,
//! served by one task that receives from the channel and sends.
//!
//! The bench connects as many boards per branch as the city has, issues with as many connections
//! as the kiosks' load has (each request to a branch drawn at random), and counts an issue as done
//! when every board of its branch has it: the rate is the acknowledged issues over the time from
//! the first request to the last board's last message.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use tokio::sync::{Semaphore, watch};

use crate::Settings;
use crate::floor::Rate;
use crate::report::percentile;

/// WebSocket handshakes in flight at once (under the listener's backlog).
const CONNECTING: usize = 64;
/// How long the boards may take, after the last issue, to receive it.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);

/// What the bare server did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bare {
    /// Issues a second, counted until the last board had the last one.
    pub(crate) rate: Rate,
    /// From the last acknowledgement to the last board's receipt.
    pub(crate) drain: Duration,
    /// Messages the boards received, and seq gaps among them (a board that fell 1,024 messages
    /// behind its branch's channel skips some; never expected).
    pub(crate) messages: u64,
    pub(crate) gaps: u64,
}

/// Starts the bare server, connects `s.boards` boards per branch, issues flat out for
/// `s.floor_secs`, and waits for every board to have its branch's last issue.
pub(crate) async fn floor(url: &str, s: &Settings) -> anyhow::Result<Bare> {
    let server = BareServer::start(url, s)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let gate = Arc::new(Semaphore::new(CONNECTING));
    let mut connecting = Vec::new();
    let mut progress = Vec::new();
    for b in 0..s.branches {
        for _ in 0..s.boards {
            let url = format!("{}/events/{b}", server.url.replacen("http", "ws", 1));
            let seq = Arc::new(AtomicU64::new(0));
            progress.push((b, seq.clone()));
            let (gate, stop) = (gate.clone(), stop_rx.clone());
            connecting.push(tokio::spawn(async move {
                let _permit = gate.acquire_owned().await?;
                let ws = crate::boards::connect(&url).await?;
                anyhow::Ok(tokio::spawn(board(ws, seq, stop)))
            }));
        }
    }
    let mut boards = Vec::new();
    for c in connecting {
        boards.push(c.await??);
    }

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(s.clients)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?;
    let last_seq: Arc<Vec<AtomicU64>> = Arc::new((0..s.branches).map(|_| 0.into()).collect());
    let started = Instant::now();
    let stop = started + Duration::from_secs(s.floor_secs);
    let mut clients = Vec::new();
    for _ in 0..s.clients {
        let (http, base, last_seq) = (http.clone(), server.url.clone(), last_seq.clone());
        let branches = s.branches;
        clients.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < stop {
                let b = rand::random_range(0..branches);
                let t = Instant::now();
                let r = http.post(format!("{base}/issue/{b}")).send().await?;
                anyhow::ensure!(r.status().is_success(), "bare issue: {}", r.status());
                let seq: u64 = r.text().await?.parse()?;
                lat.push(t.elapsed());
                last_seq[b].fetch_max(seq, Ordering::Relaxed);
            }
            anyhow::Ok(lat)
        }));
    }
    let mut lat = Vec::new();
    for c in clients {
        lat.extend(c.await??);
    }
    let acknowledged = Instant::now();
    loop {
        let behind = progress
            .iter()
            .any(|(b, seq)| seq.load(Ordering::Relaxed) < last_seq[*b].load(Ordering::Relaxed));
        anyhow::ensure!(
            !behind || acknowledged.elapsed() < DRAIN_LIMIT,
            "the bare server's boards still lacked issues {DRAIN_LIMIT:?} after the last"
        );
        if !behind {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    let drain = acknowledged.elapsed();
    let _ = stop_tx.send(true);
    let (mut messages, mut gaps) = (0, 0);
    for b in boards {
        let (m, g) = b.await?;
        messages += m;
        gaps += g;
    }
    drop(server);
    drop_table(url).await?;
    lat.sort();
    Ok(Bare {
        rate: Rate {
            rate: lat.len() as f64 / elapsed.as_secs_f64(),
            p50: percentile(&lat, 0.5),
            p99: percentile(&lat, 0.99),
        },
        drain,
        messages,
        gaps,
    })
}

/// One board of the bare server: counts messages and seq gaps, and notes the last seq.
async fn board(
    ws: crate::boards::Socket,
    progress: Arc<AtomicU64>,
    mut stop: watch::Receiver<bool>,
) -> (u64, u64) {
    use tokio_tungstenite::tungstenite::Message;
    let (_sink, mut rx) = ws.split();
    let (mut messages, mut gaps, mut last) = (0, 0, 0);
    loop {
        let m = tokio::select! {
            m = rx.next() => m,
            _ = stop.changed() => break,
        };
        let Some(Ok(Message::Text(t))) = m else {
            break;
        };
        messages += 1;
        let seq = crate::boards::field_u64(&t, "\"seq\":").unwrap_or(0);
        if seq != last + 1 {
            gaps += 1;
        }
        last = seq;
        progress.fetch_max(seq, Ordering::Relaxed);
    }
    (messages, gaps)
}

async fn drop_table(url: &str) -> anyhow::Result<()> {
    use sqlx::{ConnectOptions, Connection};
    let mut c = url
        .parse::<sqlx::postgres::PgConnectOptions>()?
        .connect()
        .await?;
    sqlx::raw_sql("DROP TABLE IF EXISTS city_bare")
        .execute(&mut c)
        .await?;
    c.close().await?;
    Ok(())
}

/// The bare server's process, killed on drop.
struct BareServer {
    child: Child,
    url: String,
}

impl BareServer {
    fn start(url: &str, s: &Settings) -> anyhow::Result<BareServer> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["__bare", url])
            .arg(s.branches.to_string())
            .arg(s.clients.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .context("start the bare server")?;
        let out = child.stdout.take().context("stdout")?;
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line)?;
        let url = line
            .strip_prefix("listening on ")
            .context("the bare server printed no 'listening on' line")?
            .trim()
            .to_owned();
        Ok(BareServer { child, url })
    }
}

impl Drop for BareServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The bare server itself: `__bare URL BRANCHES CONNECTIONS`.
pub(crate) mod server {
    use std::sync::Arc;

    use axum::Router;
    use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
    use axum::extract::{Path, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::{get, post};
    use axum::serve::ListenerExt;
    use tokio::sync::broadcast;

    struct Branch {
        tx: broadcast::Sender<Utf8Bytes>,
        /// The branch's last seq, held from the insert to the broadcast so that its boards get
        /// its issues in seq order (a server's branch lock).
        seq: tokio::sync::Mutex<u64>,
    }

    struct Hall {
        pool: sqlx::PgPool,
        branches: Vec<Branch>,
    }

    pub(crate) fn main(args: &[String]) -> anyhow::Result<()> {
        let [url, branches, conns] = args else {
            anyhow::bail!("usage: __bare URL BRANCHES CONNECTIONS");
        };
        let (branches, conns): (usize, usize) = (branches.parse()?, conns.parse()?);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let pool = crate::floor::pool_with_table(url, conns, "city_bare").await?;
            let hall = Arc::new(Hall {
                pool,
                branches: (0..branches)
                    .map(|_| Branch {
                        tx: broadcast::channel(1024).0,
                        seq: tokio::sync::Mutex::new(0),
                    })
                    .collect(),
            });
            let app = Router::new()
                .route("/events/{b}", get(upgrade))
                .route("/issue/{b}", post(issue))
                .with_state(hall);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            println!("listening on http://{}", listener.local_addr()?);
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app).await?;
            anyhow::Ok(())
        })
    }

    async fn upgrade(
        State(hall): State<Arc<Hall>>,
        Path(b): Path<usize>,
        ws: WebSocketUpgrade,
    ) -> Response {
        let Some(branch) = hall.branches.get(b) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let rx = branch.tx.subscribe();
        ws.on_upgrade(move |socket| board(socket, rx))
    }

    async fn board(mut socket: WebSocket, mut rx: broadcast::Receiver<Utf8Bytes>) {
        loop {
            match rx.recv().await {
                Ok(text) => {
                    if socket.send(Message::Text(text)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    async fn issue(State(hall): State<Arc<Hall>>, Path(b): Path<usize>) -> Response {
        let Some(branch) = hall.branches.get(b) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let mut last = branch.seq.lock().await;
        let seq = *last + 1;
        let body = format!("{{\"type\":\"issued\",\"seq\":{seq},\"service\":\"A\",\"waiting\":1}}");
        let stored = async {
            let mut tx = hall.pool.begin().await?;
            sqlx::query("INSERT INTO city_bare (branch, at, body) VALUES ($1, $2, $3)")
                .bind(i64::try_from(b).unwrap_or(i64::MAX))
                .bind(i64::try_from(seq).unwrap_or(i64::MAX))
                .bind(&body)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        };
        if let Err(e) = stored.await {
            return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response();
        }
        *last = seq;
        let _ = branch.tx.send(Utf8Bytes::from(body));
        drop(last);
        (StatusCode::CREATED, seq.to_string()).into_response()
    }
}

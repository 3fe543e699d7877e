//! Helpers for the connection tests: a board connected the way the real one is, whose every
//! update and announcement the test can wait for, and a TCP proxy the test can cut.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qhall_display::board::{Announcement, Board, CallKind, WindowFilter};
use qhall_display::connection;
use qhall_display::voice::{Speaker, Speech};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Generous: these waits end as soon as the awaited state arrives.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A board running `connection::run` against `server`, as the display does.
pub struct Probe {
    updates: mpsc::UnboundedReceiver<(Board, Vec<Announcement>, Vec<Speech>)>,
    /// Every announcement so far, in order.
    pub said: Vec<Announcement>,
    /// Everything the board's voice was asked to say (calls and the emergency), as the board
    /// itself asks it ([`Speaker`]).
    pub spoken: Vec<Speech>,
    pub board: Board,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Board>,
}

impl Probe {
    pub fn start(server: &str, token: &str) -> Probe {
        Probe::start_with_ca(server, token, None)
    }

    /// As [`Probe::start`], trusting `ca_file` for `wss://` (the display's `--ca-file`).
    pub fn start_with_ca(server: &str, token: &str, ca_file: Option<&std::path::Path>) -> Probe {
        let (tx, updates) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let options = connection::Options {
            server: server.to_owned(),
            token: token.to_owned(),
            ca_file: ca_file.map(|p| p.to_owned()),
        };
        let task = tokio::spawn(connection::run(
            options,
            Board::new(WindowFilter::all()),
            {
                let mut speaker = Speaker::default();
                move |board: &Board, said: Vec<Announcement>| {
                    let spoken = speaker.on_update(board, said.clone());
                    let _ = tx.send((board.clone(), said, spoken));
                }
            },
            async {
                let _ = stopped.await;
            },
        ));
        Probe {
            updates,
            said: Vec::new(),
            spoken: Vec::new(),
            board: Board::new(WindowFilter::all()),
            stop: Some(stop),
            task,
        }
    }

    /// Waits for a board state that satisfies `ok`; panics after [`PATIENCE`].
    pub async fn wait_for(&mut self, what: &str, ok: impl Fn(&Board) -> bool) -> Board {
        if ok(&self.board) {
            return self.board.clone();
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let next = tokio::time::timeout_at(deadline, self.updates.recv()).await;
            let Ok(Some((board, said, spoken))) = next else {
                panic!(
                    "waited {PATIENCE:?} for {what}; the board is {:#?}",
                    self.board
                );
            };
            self.said.extend(said);
            self.spoken.extend(spoken);
            self.board = board;
            if ok(&self.board) {
                return self.board.clone();
            }
        }
    }

    /// Waits until `n` announcements have been made in all; panics after [`PATIENCE`].
    pub async fn wait_for_said(&mut self, n: usize) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.said.len() < n {
            let next = tokio::time::timeout_at(deadline, self.updates.recv()).await;
            let Ok(Some((board, said, spoken))) = next else {
                panic!(
                    "waited {PATIENCE:?} for {n} announcements; got {:?}",
                    self.said()
                );
            };
            self.said.extend(said);
            self.spoken.extend(spoken);
            self.board = board;
        }
        self.said()
    }

    /// Waits until `number` is the latest call on the board.
    pub async fn wait_for_call(&mut self, number: &str) -> Board {
        self.wait_for(&format!("{number} on the board"), |b| {
            b.latest().is_some_and(|c| c.number.as_str() == number)
        })
        .await
    }

    /// The announcements so far as `A001>1`, with `!` after a recall.
    pub fn said(&self) -> Vec<String> {
        self.said
            .iter()
            .map(|a| {
                let mark = if a.kind == CallKind::Recall { "!" } else { "" };
                format!("{}>{}{mark}", a.number, a.window)
            })
            .collect()
    }

    pub async fn stop(mut self) -> Board {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.unwrap()
    }
}

/// A TCP proxy in front of the server that the test can cut (every connection dropped, new
/// ones refused) and restore, while the server itself stays up.
pub struct Proxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    requests: Arc<Mutex<Vec<String>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let accept = tokio::spawn({
            let (up, conns, requests) = (up.clone(), conns.clone(), requests.clone());
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let requests = requests.clone();
                    let handle = tokio::spawn(async move {
                        let _ = relay(client, upstream, &requests).await;
                    });
                    conns.lock().unwrap().push(handle);
                }
            }
        });
        Proxy {
            addr,
            up,
            conns,
            requests,
            accept,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drops every open connection and refuses new ones until [`Proxy::restore`].
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for handle in self.conns.lock().unwrap().drain(..) {
            handle.abort();
        }
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// The request lines seen (`GET /api/v1/events?since=7 HTTP/1.1`), in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    requests: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut buf = [0u8; 2048];
    loop {
        let n = client.peek(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        if let Some(end) = buf[..n].windows(2).position(|w| w == b"\r\n") {
            requests
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..end]).into_owned());
            break;
        }
        if n == buf.len() {
            break;
        }
        tokio::task::yield_now().await;
    }
    let mut server = TcpStream::connect(upstream).await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}

//! The fan-out of one call to 1,000 boards, against a bare axum + tokio broadcast (issue #15).
//!
//! `cargo bench -p qhall-server --bench fanout` runs three kinds of process on this machine:
//!
//! 1. **Qhall**: the release `qhall-server` binary (`--demo`, a fresh SQLite file in a temp
//!    dir), as a hall runs it. `QHALL_SERVER_BIN` names another build (e.g. the `profiling`
//!    profile, for perf).
//! 2. **Bare**: this bench binary re-executed as `__bare`: axum's own `serve` (TCP_NODELAY, as
//!    Qhall sets it), a tokio broadcast channel, and per WebSocket one task that receives from
//!    the channel and sends — nothing else (no reads, no pings, no resume). `POST /send` with a
//!    text body broadcasts that text.
//! 3. **Boards**: this bench binary re-executed as `__boards`: 1,000 WebSocket clients to
//!    Qhall (`?token=demo-display`) and 1,000 to the bare server, all idle until a round. Each
//!    notes the wall clock (`SystemTime`, comparable across processes) when a text frame with
//!    `"type":"called"` arrives, and the process prints a line once all 1,000 of a group have
//!    the round's frame: the last and the median receipt.
//!
//! The bare server sends the bytes of a real `called` message, taken from Qhall at the start,
//! so both fan out the same frame. A call-next makes exactly one event (`called`, which carries
//! the service's waiting count); the window's "complete" before it is another event, sent 300 ms
//! before the call is timed and outside its CPU window.
//!
//! Each round, interleaved so both see the same machine: Qhall's window 1 completes its ticket,
//! 300 ms later the clock starts and staff call-next (`POST /api/v1/windows/1/call-next`); then
//! the bare server is triggered (`POST /send`). The **time** is from just before the request
//! is sent to the last of the 1,000 boards' receipt. The **server CPU per call** is the server
//! process's time on a CPU over a fixed 300 ms window starting just before the request (longer
//! if the last board is later), summed over the rounds and divided by them; nothing is
//! subtracted. It is read per thread from `/proc/PID/task/TID/schedstat` (nanoseconds); the
//! process's utime + stime (`/proc/PID/stat`, whole 10 ms ticks, so ±10 ms per window) is
//! printed beside it. The same window with no call (idle: pings, Qhall's background tasks) is
//! measured the same way and printed too, with the CPU ratio less it. Rounds pause 300 ms, so
//! calls never overlap. A few warm-up rounds are not counted.
//!
//! `QHALL_FANOUT_ROUNDS` (default 50) and `QHALL_FANOUT_BOARDS` (default 1,000) change the
//! counts. The server PIDs are printed first, for `perf record -g -p PID`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use serde_json::json;

const ROUNDS: usize = 50;
const WARMUP: usize = 3;
const IDLE_ROUNDS: usize = 20;
const BOARDS: usize = 1000;
/// The CPU window of one call, from just before the request.
const WINDOW: Duration = Duration::from_millis(300);
/// The quiet time between one round's part and the next.
const PAUSE: Duration = Duration::from_millis(300);
const CALLED: &str = "\"type\":\"called\"";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("__bare") => bare::main(),
        Some("__boards") => boards::main(&args[2..]),
        // `cargo bench` passes `--bench`.
        _ => orchestrate(),
    }
}

/// Nanoseconds since the Unix epoch: the clock every process here reads.
fn now_ns() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    )
    .unwrap()
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A child process whose standard output is read line by line on a thread.
struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Proc {
    fn spawn(cmd: &mut Command) -> Proc {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proc { child, lines }
    }

    /// The rest of the first line starting with `prefix`, waiting at most `limit`.
    fn expect(&self, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no '{prefix}' line within {limit:?}"));
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.trim().to_owned();
            }
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Clock ticks per second of `/proc/PID/stat`.
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// A server process's CPU time so far: utime + stime (`/proc/PID/stat`, whole clock ticks) and
/// each thread's time on a CPU (`/proc/PID/task/TID/schedstat`, nanoseconds).
struct Cpu {
    ticks: u64,
    threads: HashMap<u32, u64>,
}

impl Cpu {
    fn read(pid: u32) -> Cpu {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
        // The command name is in parentheses and may hold spaces: count after the last ')'.
        let f: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
            .split_whitespace()
            .collect();
        // Fields 14 and 15 of the whole line; the slice starts at field 3.
        let ticks = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
        let mut threads = HashMap::new();
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).expect("/proc/PID/task") {
            let task = task.unwrap();
            let Ok(tid) = task.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            // A thread may end between the listing and the read.
            if let Ok(s) = std::fs::read_to_string(task.path().join("schedstat"))
                && let Some(ns) = s.split_whitespace().next().and_then(|v| v.parse().ok())
            {
                threads.insert(tid, ns);
            }
        }
        Cpu { ticks, threads }
    }

    /// (clock ticks, nanoseconds) since `before`. A thread gone since `before` is not counted:
    /// the servers' threads live for the run, and tokio's blocking threads end only after 10 s
    /// idle.
    fn since(&self, before: &Cpu) -> (u64, u64) {
        let ns = self
            .threads
            .iter()
            .map(|(tid, ns)| ns.saturating_sub(before.threads.get(tid).copied().unwrap_or(0)))
            .sum();
        (self.ticks - before.ticks, ns)
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// One server's figures over the rounds.
#[derive(Default)]
struct Figures {
    /// Milliseconds from the trigger to the last board, per round.
    last: Vec<f64>,
    /// Milliseconds from the trigger to the median board, per round.
    median: Vec<f64>,
    cpu_ticks: u64,
    cpu_ns: u64,
    idle_ticks: u64,
    idle_ns: u64,
}

impl Figures {
    fn sorted(v: &[f64]) -> Vec<f64> {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v
    }
    fn last_p(&self, p: f64) -> f64 {
        percentile(&Self::sorted(&self.last), p)
    }
    fn median_p50(&self) -> f64 {
        percentile(&Self::sorted(&self.median), 0.5)
    }
}

fn orchestrate() {
    let rounds = env_or("QHALL_FANOUT_ROUNDS", ROUNDS);
    let boards = env_or("QHALL_FANOUT_BOARDS", BOARDS);
    let tick_ms = 1000.0 / clock_ticks();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("fanout.db").display());
    let bin = std::env::var("QHALL_SERVER_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_qhall-server").to_owned());
    let issue_limit = (10 * (rounds + WARMUP + 10)).to_string();
    let qhall = Proc::spawn(
        Command::new(&bin)
            .args([
                "--demo",
                "--listen",
                "127.0.0.1:0",
                "--database",
                &db,
                "--issue-limit",
                &issue_limit,
                // Every board connects from 127.0.0.1.
                "--max-connections-per-address",
                "100000",
            ])
            .stderr(Stdio::null()),
    );
    let qhall_url = qhall.expect("listening on ", Duration::from_secs(60));
    let me = std::env::current_exe().unwrap();
    let bare = Proc::spawn(Command::new(&me).arg("__bare"));
    let bare_url = bare.expect("listening on ", Duration::from_secs(30));
    println!(
        "qhall-server pid {} ({bin}), bare server pid {}; {} cores",
        qhall.pid(),
        bare.pid(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let post = |url: String, token: Option<&str>, body: serde_json::Value| {
        let mut r = http.post(url).json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = rt.block_on(r.send()).expect("request");
        let status = r.status();
        (status, rt.block_on(r.text()).unwrap_or_default())
    };

    // Tickets for every call, and staff at window 1.
    for _ in 0..rounds + WARMUP + 2 {
        let (s, body) = post(
            format!("{qhall_url}/api/v1/tickets"),
            Some("demo-kiosk"),
            json!({"service": "A"}),
        );
        assert_eq!(s, 201, "issue: {body}");
    }
    let (_, login) = post(
        format!("{qhall_url}/api/v1/login"),
        None,
        json!({"username": "staff1", "password": "demo"}),
    );
    let login: serde_json::Value = serde_json::from_str(&login).unwrap();
    let staff = login["token"].as_str().unwrap().to_owned();
    let (s, body) = post(
        format!("{qhall_url}/api/v1/windows/1/sign-in"),
        Some(&staff),
        json!({}),
    );
    assert!(s.is_success(), "sign-in: {body}");
    let call = || {
        let (s, body) = post(
            format!("{qhall_url}/api/v1/windows/1/call-next"),
            Some(&staff),
            json!({}),
        );
        assert_eq!(s, 200, "call-next: {body}");
    };
    let complete = || {
        let (s, body) = post(
            format!("{qhall_url}/api/v1/windows/1/complete"),
            Some(&staff),
            json!({}),
        );
        assert!(s.is_success(), "complete: {body}");
    };

    // The bytes of a real `called` message, from one board of our own.
    let ws_qhall = format!(
        "{}/api/v1/events?token=demo-display",
        qhall_url.replacen("http", "ws", 1)
    );
    let (mut ws, _) = rt
        .block_on(tokio_tungstenite::connect_async(&ws_qhall))
        .unwrap();
    let _snapshot = rt.block_on(ws.next());
    call();
    let frame = loop {
        match rt.block_on(ws.next()) {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) if t.contains(CALLED) => {
                break t.to_string();
            }
            Some(Ok(_)) => {}
            other => panic!("no called message: {other:?}"),
        }
    };
    drop(ws);
    println!("the frame ({} bytes): {frame}", frame.len());
    let send = || {
        let r = rt
            .block_on(
                http.post(format!("{bare_url}/send"))
                    .body(frame.clone())
                    .send(),
            )
            .expect("send");
        assert!(r.status().is_success());
    };

    let clients = Proc::spawn(Command::new(&me).args([
        "__boards",
        &boards.to_string(),
        &ws_qhall,
        &format!("{}/ws", bare_url.replacen("http", "ws", 1)),
    ]));
    clients.expect("ready", Duration::from_secs(120));
    println!("{boards} boards connected to each server (one client process)");

    // One timed round of group `g`: returns (ms to the last board, ms to the median board,
    // CPU of `pid` over the window).
    let timed = |g: usize, pid: u32, trigger: &dyn Fn()| -> (f64, f64, (u64, u64)) {
        let before = Cpu::read(pid);
        let t0 = now_ns();
        let start = Instant::now();
        trigger();
        let line = clients.expect(&format!("round {g} "), Duration::from_secs(30));
        let mut it = line.split_whitespace().map(|v| v.parse::<u64>().unwrap());
        let (_, last, median) = (it.next(), it.next().unwrap(), it.next().unwrap());
        if let Some(rest) = WINDOW.checked_sub(start.elapsed()) {
            std::thread::sleep(rest);
        }
        let cpu = Cpu::read(pid).since(&before);
        let ms = |t: u64| t.saturating_sub(t0) as f64 / 1e6;
        (ms(last), ms(median), cpu)
    };
    let idle = |pid: u32| -> (u64, u64) {
        let before = Cpu::read(pid);
        std::thread::sleep(WINDOW);
        Cpu::read(pid).since(&before)
    };

    let (mut q, mut b) = (Figures::default(), Figures::default());
    // The first call above took its ticket: complete it before each next call.
    for i in 0..WARMUP + rounds {
        complete();
        std::thread::sleep(PAUSE);
        let (last, median, cpu) = timed(0, qhall.pid(), &call);
        std::thread::sleep(PAUSE);
        let (b_last, b_median, b_cpu) = timed(1, bare.pid(), &send);
        if i >= WARMUP {
            q.last.push(last);
            q.median.push(median);
            q.cpu_ticks += cpu.0;
            q.cpu_ns += cpu.1;
            b.last.push(b_last);
            b.median.push(b_median);
            b.cpu_ticks += b_cpu.0;
            b.cpu_ns += b_cpu.1;
        }
    }
    std::thread::sleep(PAUSE);
    for _ in 0..IDLE_ROUNDS {
        for (f, pid) in [(&mut q, qhall.pid()), (&mut b, bare.pid())] {
            let (ticks, ns) = idle(pid);
            f.idle_ticks += ticks;
            f.idle_ns += ns;
        }
    }

    let per_call = |f: &Figures| f.cpu_ns as f64 / 1e6 / rounds as f64;
    let per_call_stat = |f: &Figures| f.cpu_ticks as f64 * tick_ms / rounds as f64;
    let per_idle = |f: &Figures| f.idle_ns as f64 / 1e6 / IDLE_ROUNDS as f64;
    let net = |f: &Figures| per_call(f) - per_idle(f);
    println!(
        "\n{rounds} rounds; times from the trigger; CPU = the server's time on a CPU over a {} ms \
         window from the trigger (schedstat; utime+stime of /proc/PID/stat beside it)",
        WINDOW.as_millis()
    );
    println!(
        "{:<22} {:>11} {:>11} {:>13} {:>13} {:>11} {:>14}",
        "", "last p50", "last p99", "median board", "CPU per call", "(stat)", "idle, window"
    );
    for (name, f) in [("bare axum broadcast", &b), ("qhall call-next", &q)] {
        println!(
            "{name:<22} {:>8.2} ms {:>8.2} ms {:>10.2} ms {:>10.2} ms {:>8.1} ms {:>11.2} ms",
            f.last_p(0.5),
            f.last_p(0.99),
            f.median_p50(),
            per_call(f),
            per_call_stat(f),
            per_idle(f)
        );
    }
    println!(
        "ratio qhall / bare: last-receipt median {:.2}x, server CPU per call {:.2}x \
         (acceptance: each <= 1.15x); CPU per call less the idle window {:.2}x",
        q.last_p(0.5) / b.last_p(0.5),
        per_call(&q) / per_call(&b),
        net(&q) / net(&b)
    );
    let _ = std::io::stdout().flush();
}

/// The bare server: axum, a tokio broadcast, one task per client that only sends.
mod bare {
    use axum::Router;
    use axum::extract::State;
    use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
    use axum::routing::{get, post};
    use axum::serve::ListenerExt;
    use tokio::sync::broadcast;

    pub(super) fn main() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, _) = broadcast::channel::<Utf8Bytes>(64);
            let app = Router::new()
                .route("/ws", get(upgrade))
                .route("/send", post(send))
                .with_state(tx);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            println!("listening on http://{addr}");
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app).await.unwrap();
        });
    }

    async fn upgrade(
        State(tx): State<broadcast::Sender<Utf8Bytes>>,
        ws: WebSocketUpgrade,
    ) -> axum::response::Response {
        let rx = tx.subscribe();
        ws.on_upgrade(move |socket| board(socket, rx))
    }

    async fn board(mut socket: WebSocket, mut rx: broadcast::Receiver<Utf8Bytes>) {
        while let Ok(text) = rx.recv().await {
            if socket.send(Message::Text(text)).await.is_err() {
                break;
            }
        }
    }

    async fn send(State(tx): State<broadcast::Sender<Utf8Bytes>>, body: String) {
        let _ = tx.send(Utf8Bytes::from(body));
    }
}

/// The boards: `__boards N URL…`, N clients to each URL.
mod boards {
    use std::io::Write;

    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

    pub(super) fn main(args: &[String]) {
        let n: usize = args[0].parse().unwrap();
        let urls = &args[1..];
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, usize, u64)>();
            let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(n * urls.len());
            for (g, url) in urls.iter().enumerate() {
                for _ in 0..n {
                    // A board reads small messages: a 4 KiB read buffer (the display app's).
                    let config = WebSocketConfig::default().read_buffer_size(4096);
                    let (ws, _) =
                        tokio_tungstenite::connect_async_with_config(url, Some(config), true)
                            .await
                            .unwrap();
                    let (tx, ready) = (tx.clone(), ready_tx.clone());
                    // Qhall's first message is the snapshot; the bare server sends none.
                    let wait_snapshot = url.contains("/api/v1/events");
                    tokio::spawn(async move {
                        let (_sink, mut stream) = ws.split();
                        if wait_snapshot {
                            match stream.next().await {
                                Some(Ok(Message::Text(t)))
                                    if t.contains("\"type\":\"snapshot\"") => {}
                                other => panic!("expected a snapshot first, got {other:?}"),
                            }
                        }
                        ready.send(()).await.unwrap();
                        let mut round = 0;
                        while let Some(Ok(m)) = stream.next().await {
                            if let Message::Text(t) = m
                                && t.contains(super::CALLED)
                            {
                                let _ = tx.send((g, round, super::now_ns()));
                                round += 1;
                            }
                        }
                    });
                }
            }
            drop(tx);
            for _ in 0..n * urls.len() {
                ready_rx.recv().await.unwrap();
            }
            println!("ready");
            let _ = std::io::stdout().flush();
            // Per group, the receipts of each round; a line once a round has all n.
            let mut got: Vec<Vec<Vec<u64>>> = vec![Vec::new(); urls.len()];
            while let Some((g, round, t)) = rx.recv().await {
                let rounds = &mut got[g];
                if rounds.len() <= round {
                    rounds.resize(round + 1, Vec::new());
                }
                rounds[round].push(t);
                if rounds[round].len() == n {
                    let mut v = std::mem::take(&mut rounds[round]);
                    v.sort_unstable();
                    println!("round {g} {round} {} {}", v[n - 1], v[n / 2]);
                    let _ = std::io::stdout().flush();
                }
            }
        });
    }
}

//! Throughput and latency of the real server, in-process on 127.0.0.1, with durable commits.
//!
//! `cargo bench -p qhall-server --bench throughput` prints:
//! 1. bare `GET /healthz` requests per second (the HTTP floor of this machine), then
//!    `GET /api/v1/services` and `GET /api/v1/hall` (what kiosks, boards and phones repeat,
//!    answered from the server's kept reads while the branch is unchanged), with how many of
//!    them the kept reads answered;
//! 2. `POST /api/v1/tickets` per second with p50/p99 latency (each an fsync-ordered SQLite
//!    commit that survives kill -9), flat out with 16 clients;
//! 3. the same at a steady offered rate of 5,000 tickets/s (open loop: a request's latency counts
//!    from the instant it was due, so a stall is not hidden by the clients slowing down);
//! 4. call-next → the `called` event at 1,000 WebSocket clients: p50/p99 of the time until the
//!    last of the 1,000 has it.
//!
//! Client and server share the machine's cores, as they would not in a hall; the figures are
//! therefore conservative. Set `QHALL_BENCH_SECS` to change the measuring time (default 5),
//! `QHALL_BENCH_ONLY` (`healthz,reads,issue,paced,ws`) to run only some figures, and
//! `QHALL_BENCH_RATE` to change the paced figure's offered rate (default 5,000/s).
//!
//! By default the server runs on a fresh SQLite file. With `QHALL_BENCH_DATABASE_URL=postgres://…`
//! (an empty database: `createdb qhall_bench`) it runs on PostgreSQL instead, with
//! `QHALL_PG_CONNECTIONS` connections (default 10), and after the issuing figure measures the
//! database's own floor in the same run: one-row insert transactions (`BEGIN; INSERT; COMMIT`)
//! through sqlx, `synchronous_commit = off`, as many connections as clients; it prints issuing
//! as a multiple of it.

#[path = "city/floor.rs"]
mod floor;
/// What `floor` takes from the city bench's report.
mod report {
    pub(crate) use super::percentile;
}

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::Mutex;

const CONCURRENCY: usize = 16;
const WS_CLIENTS: usize = 1000;
const CALLS: usize = 60;
const PACED_RATE: u32 = 5000;
const PACED_CONNECTIONS: usize = 32;

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Runs `CONCURRENCY` loops sending `make()` for `secs`; returns (requests/s, sorted latencies).
async fn load<F, Fut>(secs: u64, make: F) -> (f64, Vec<Duration>)
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let stop = Instant::now() + Duration::from_secs(secs);
    let lat = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (make, lat) = (make.clone(), lat.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while Instant::now() < stop {
                let t = Instant::now();
                assert!(make().await, "request failed");
                mine.push(t.elapsed());
            }
            lat.lock().await.extend(mine);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut v = std::mem::take(&mut *lat.lock().await);
    v.sort();
    (v.len() as f64 / elapsed, v)
}

/// Offers `rate` requests per second for `secs` through `PACED_CONNECTIONS` keep-alive
/// clients; returns (completed requests/s, sorted latencies measured from each request's due
/// instant, so time spent queued behind a slow request counts).
async fn paced<F, Fut>(secs: u64, rate: u32, make: F) -> (f64, Vec<Duration>)
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let (due_tx, due_rx) = tokio::sync::mpsc::unbounded_channel::<tokio::time::Instant>();
    let due_rx = Arc::new(Mutex::new(due_rx));
    let mut workers = Vec::new();
    for _ in 0..PACED_CONNECTIONS {
        let (make, due_rx) = (make.clone(), due_rx.clone());
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let next = due_rx.lock().await.recv().await;
                let Some(at) = next else { break };
                assert!(make().await, "request failed");
                mine.push(at.elapsed());
            }
            mine
        }));
    }
    // Tokio's timers tick in whole milliseconds and fire late by up to one; a plain thread
    // releases each request at its own due instant (every 1/rate s) instead, so the latency
    // counted from that instant is the server's, not the timer wheel's.
    let started = tokio::time::Instant::now();
    let total = secs * u64::from(rate);
    let step = Duration::from_secs(1) / rate;
    let generator = std::thread::spawn(move || {
        let t0 = started.into_std();
        for i in 0..total {
            let at = t0 + step * u32::try_from(i).unwrap_or(u32::MAX);
            if let Some(wait) = at.checked_duration_since(std::time::Instant::now()) {
                std::thread::sleep(wait);
            }
            if due_tx.send(tokio::time::Instant::from_std(at)).is_err() {
                break;
            }
        }
    });
    tokio::task::spawn_blocking(move || generator.join().unwrap())
        .await
        .unwrap();
    let mut v = Vec::new();
    for w in workers {
        v.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    v.sort();
    (v.len() as f64 / elapsed, v)
}

fn main() {
    let secs: u64 = std::env::var("QHALL_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    // `QHALL_BENCH_ONLY=healthz,reads,issue,paced,ws` runs some of the figures (e.g. under a profiler).
    let only = std::env::var("QHALL_BENCH_ONLY").ok();
    let phase = move |name: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|p| p == name))
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let db = std::env::var("QHALL_BENCH_DATABASE_URL")
            .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.db").display()));
        let pg_connections = std::env::var("QHALL_PG_CONNECTIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(qhall_server::store::postgres::DEFAULT_CONNECTIONS);
        let config = qhall_server::Config { listen: "127.0.0.1:0".into(), database_url: db.clone(), demo: true, issue_limit: u32::MAX, max_connections_per_address: usize::MAX, pg_connections, ..Default::default() };
        // Seed, then widen the number ranges so a long run never exhausts a day's numbers.
        let store = qhall_server::open_store(&config).await.unwrap();
        println!("database: {}", store.kind());
        store.execute_batch("UPDATE services SET last_number = 9999999; UPDATE branches SET config_version = config_version + 1").await.unwrap();
        store.close().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(qhall_server::run(config, listener, std::future::pending()));
        let base = format!("http://{addr}");
        let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
        while client.get(format!("{base}/healthz")).send().await.is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        println!("machine: {} cores; measuring {secs} s per figure with {CONCURRENCY} concurrent clients", std::thread::available_parallelism().map_or(0, |n| n.get()));

        if phase("healthz") {
        let (c, b) = (client.clone(), base.clone());
        let (rate, lat) = load(secs, move || {
            let (c, b) = (c.clone(), b.clone());
            async move { c.get(format!("{b}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) }
        })
        .await;
        println!("GET /healthz            {rate:>8.0} req/s   p50 {}   p99 {}", ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99)));
        }

        // Window 1 open, so the forecast table (issue #8) is computed in the background while
        // tickets are issued (until the line passes forecast::MAX_WAITING).
        let login: serde_json::Value = client.post(format!("{base}/api/v1/login")).json(&json!({"username": "staff1", "password": "demo"})).send().await.unwrap().json().await.unwrap();
        let staff = login["token"].as_str().unwrap().to_owned();
        let r = client.post(format!("{base}/api/v1/windows/1/sign-in")).bearer_auth(&staff).json(&json!({})).send().await.unwrap();
        assert!(r.status().is_success());

        if phase("reads") {
        // What every kiosk, board and phone repeats, answered from the server's kept reads
        // while the branch is unchanged (store::read_cache); the counters say how many were.
        for s in ["A", "B", "C", "A", "B"] {
            let r = client.post(format!("{base}/api/v1/tickets")).bearer_auth("demo-kiosk").json(&json!({"service": s})).send().await.unwrap();
            assert_eq!(r.status(), 201);
        }
        let login: serde_json::Value = client.post(format!("{base}/api/v1/login")).json(&json!({"username": "manager", "password": "demo"})).send().await.unwrap().json().await.unwrap();
        let manager = login["token"].as_str().unwrap().to_owned();
        let kept = |c: reqwest::Client, b: String, m: String| async move {
            let text = c.get(format!("{b}/metrics")).bearer_auth(&m).send().await.unwrap().text().await.unwrap();
            let value = |name: &str| text.lines().find_map(|l| l.strip_prefix(name)?.trim().parse::<u64>().ok()).unwrap_or(0);
            (value("qhall_read_cache_hits_total "), value("qhall_read_cache_misses_total "))
        };
        for path in ["/api/v1/services", "/api/v1/hall"] {
            let before = kept(client.clone(), base.clone(), manager.clone()).await;
            let (c, b) = (client.clone(), base.clone());
            let (rate, lat) = load(secs, move || {
                let (c, b) = (c.clone(), b.clone());
                async move { c.get(format!("{b}{path}")).bearer_auth("demo-kiosk").send().await.is_ok_and(|r| r.status().is_success()) }
            })
            .await;
            let after = kept(client.clone(), base.clone(), manager.clone()).await;
            let (hits, misses) = (after.0 - before.0, after.1 - before.1);
            println!("GET {path:<20} {rate:>8.0} req/s   p50 {}   p99 {}   (kept reads: {hits} answered, {misses} read from the database)", ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99)));
        }
        }

        if phase("issue") {
        let (c, b) = (client.clone(), base.clone());
        let (rate, lat) = load(secs, move || {
            let (c, b) = (c.clone(), b.clone());
            async move {
                let r = c.post(format!("{b}/api/v1/tickets")).bearer_auth("demo-kiosk").json(&json!({"service": "A"})).send().await;
                r.is_ok_and(|r| r.status() == 201)
            }
        })
        .await;
        println!("POST /api/v1/tickets    {rate:>8.0} tickets/s   p50 {}   p99 {}", ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99)));
        if db.starts_with("postgres") {
            let f = floor::floor(&db, CONCURRENCY, secs).await.unwrap();
            let t = f.transaction;
            println!("PostgreSQL floor, {CONCURRENCY} connections, one-row insert transactions: {:.0}/s   p50 {}   p99 {}   (autocommitted inserts: {:.0}/s)", t.rate, ms(t.p50), ms(t.p99), f.autocommit.rate);
            println!("issuing / floor: {:.2}x (issue #15 asks >= 0.25x at p99 <= 20 ms; {pg_connections} server connections)", rate / t.rate);
        }
        }

        if phase("paced") {
        let (c, b) = (client.clone(), base.clone());
        let offered: u32 = std::env::var("QHALL_BENCH_RATE").ok().and_then(|s| s.parse().ok()).unwrap_or(PACED_RATE);
        let (rate, lat) = paced(secs, offered, move || {
            let (c, b) = (c.clone(), b.clone());
            async move {
                match c.post(format!("{b}/api/v1/tickets")).bearer_auth("demo-kiosk").json(&json!({"service": "B"})).send().await {
                    Ok(r) if r.status() == 201 => true,
                    Ok(r) => {
                        eprintln!("{}: {}", r.status(), r.text().await.unwrap_or_default());
                        false
                    }
                    Err(e) => {
                        eprintln!("{e}");
                        false
                    }
                }
            }
        })
        .await;
        println!("POST /api/v1/tickets at {offered}/s offered   {rate:>8.0} tickets/s   p50 {}   p99 {}", ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99)));
        }

        if !phase("ws") {
            return;
        }
        // 1,000 boards, then call-next CALLS times and time the slowest board for each call.
        let url = format!("ws://{addr}/api/v1/events?token=demo-display");
        let arrivals: Arc<std::sync::Mutex<Vec<Vec<Instant>>>> = Arc::new(std::sync::Mutex::new(vec![Vec::new(); CALLS]));
        let mut boards = Vec::new();
        // Boards in a hall connected long before the call: wait until each has its snapshot.
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(WS_CLIENTS);
        for _ in 0..WS_CLIENTS {
            // A board reads small messages: a 4 KiB read buffer, not tungstenite's 128 KiB that
            // it zero-fills on every read (the display app does the same).
            let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
            let (ws, _) = tokio_tungstenite::connect_async_with_config(&url, Some(config), true).await.unwrap();
            let arrivals = arrivals.clone();
            let ready = ready_tx.clone();
            boards.push(tokio::spawn(async move {
                let (_tx, mut rx) = ws.split();
                match rx.next().await {
                    Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) if t.contains("\"type\":\"snapshot\"") => {
                        ready.send(()).await.unwrap();
                    }
                    other => panic!("expected a snapshot first, got {other:?}"),
                }
                let mut calls = 0;
                while let Some(Ok(m)) = rx.next().await {
                    if let tokio_tungstenite::tungstenite::Message::Text(t) = m
                        && t.contains("\"type\":\"called\"") {
                            arrivals.lock().unwrap()[calls].push(Instant::now());
                            calls += 1;
                            if calls == CALLS {
                                break;
                            }
                        }
                }
            }));
        }
        // Enough waiting tickets for every call, whichever figures ran before.
        for _ in 0..CALLS {
            let r = client.post(format!("{base}/api/v1/tickets")).bearer_auth("demo-kiosk").json(&json!({"service": "A"})).send().await.unwrap();
            assert_eq!(r.status(), 201);
        }
        let staff: serde_json::Value =
            client.post(format!("{base}/api/v1/login")).json(&json!({"username": "staff1", "password": "demo"})).send().await.unwrap().json().await.unwrap();
        let token = staff["token"].as_str().unwrap().to_owned();
        client.post(format!("{base}/api/v1/windows/1/sign-in")).bearer_auth(&token).send().await.unwrap();
        for _ in 0..WS_CLIENTS {
            ready_rx.recv().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut sent = Vec::new();
        for _ in 0..CALLS {
            client.post(format!("{base}/api/v1/windows/1/complete")).bearer_auth(&token).send().await.unwrap();
            // The completion is an event for every board too; a person presses "call next" a
            // moment after "complete", so its fan-out is over before the call is timed.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let t = Instant::now();
            let r = client.post(format!("{base}/api/v1/windows/1/call-next")).bearer_auth(&token).send().await.unwrap();
            assert_eq!(r.status(), 200);
            sent.push(t);
            // Let each call reach every board before the next one, as calls come in a hall.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for b in boards {
            let _ = tokio::time::timeout(Duration::from_secs(10), b).await;
        }
        let arrivals = arrivals.lock().unwrap();
        let mut last = Vec::new();
        let mut each = Vec::new();
        for (i, t0) in sent.iter().enumerate() {
            assert_eq!(arrivals[i].len(), WS_CLIENTS, "call {i} reached only {} boards", arrivals[i].len());
            let times: Vec<Duration> = arrivals[i].iter().map(|t| t.duration_since(*t0)).collect();
            last.push(*times.iter().max().unwrap());
            each.extend(times);
        }
        last.sort();
        each.sort();
        println!(
            "call-next -> {WS_CLIENTS} boards   last board: p50 {}   p99 {}   (any board: p50 {})",
            ms(percentile(&last, 0.5)),
            ms(percentile(&last, 0.99)),
            ms(percentile(&each, 0.5))
        );
    });
}

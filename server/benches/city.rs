//! A city on one PostgreSQL (issue #15, part 3): many branches, three `qhall-server` processes,
//! boards on every server, kiosks issuing through a compressed peak hour, staff calling at every
//! window — and, in the same run, the database's own floor to read the figures against.
//!
//! ```sh
//! cargo bench -p qhall-server --bench city                       # 200 branches, 60 s
//! QHALL_CITY_BRANCHES=20 QHALL_CITY_SECS=20 cargo bench -p qhall-server --bench city
//! ```
//!
//! What it does, in order:
//!
//! 1. **A fresh database** `qhall_city_<random>` on the local PostgreSQL (dropped at the end, kept
//!    if a check fails), or the empty database `QHALL_CITY_DATABASE_URL` names (never dropped).
//! 2. **The servers**: the admin account is made with `qhall-server user add --role admin`, then
//!    the `qhall-server` binary cargo built beside this bench (release settings;
//!    `QHALL_SERVER_BIN` names another) is started three times on the database, each on its own
//!    port, with the production defaults (`--durability process`) and the per-kiosk issue limit
//!    lifted (one kiosk token per branch issues far faster here than a person can).
//! 3. **The branches, through the admin API** as a city's administrator would make them:
//!    `POST /api/v1/branches`, then for each branch (`PUT /api/v1/session/branch`) hours around
//!    the clock, services A and B (numbers up to 9999), windows 1–4 (odd ones prefer A, even ones
//!    B), one kiosk and one display token, and one staff account per window. Every staff member
//!    logs in and signs in to their window. Six admin sessions, two per server, seed in parallel.
//! 4. **The boards**: 20 WebSockets per branch (`/api/v1/events?token=…`), board `j` of branch
//!    `b` on server `(20·b + j) mod 3`, each waiting for its snapshot.
//! 5. **The floor**, with the servers idle and the boards connected: 16 connections through sqlx
//!    (the driver the servers use), each committing `BEGIN; INSERT one row; COMMIT` as fast as
//!    it can, `synchronous_commit = off` like the servers; a single autocommitted `INSERT` is
//!    measured too and printed beside it.
//! 6. **The load**, `QHALL_CITY_SECS` long:
//!    - *Kiosks*: Poisson arrivals across all branches following a weekday peak compressed into
//!      the run — doors open at 20% of the peak rate, the rush climbs to the peak over the first
//!      quarter, holds for the middle half, and eases to 40% over the last quarter. Branches
//!      differ in size (weights spread evenly from 0.5 to 1.5, mean 1); at the peak a branch of
//!      weight 1 is offered `QHALL_CITY_PEAK` tickets/s, by default the measured floor divided by
//!      the branches, so the city as a whole is offered exactly the floor at its peak. Service A
//!      70%, B 30%. The arrivals go to 16 issuing connections (like the floor), each request to
//!      the next server in turn, with an `Idempotency-Key`; a transport error or 5xx is retried
//!      with the same key on the next server (at most three tries), as the kiosk does.
//!    - *Staff*: at every window, call-next, serve for a time drawn evenly from 0.5–1.5 ×
//!      `QHALL_CITY_SERVICE_MS` (default 5 s: a day's minutes compressed like the arrivals), then
//!      complete; when nothing waits (204), look again a second later. Each request goes to the
//!      next server in turn.
//!    - *Boards* note the instant every `called` message arrives, and check that `seq` rises by
//!      exactly one (a resync snapshot restarts the count and is counted).
//! 7. **The check**, through sqlx on the database: every acknowledged ticket is there, no two
//!    acknowledgements (different keys) name one ticket, each branch holds exactly as many
//!    tickets as were acknowledged (or, for requests that finally failed, at most that many
//!    more), numbers are unique per branch, service and day, and no ticket was called twice.
//!    Any failure prints `FAILED` and the bench exits with status 1.
//!
//! It prints issued/s overall and at the peak, per branch (min / median / max), offered and
//! issued per tenth of the run, p50/p99 of issue (request, and from the instant it was due),
//! call-next and complete, call → `called` at the boards (on the server that took the call and
//! on the others; and the last board of each call), how the machine's cores were spent during
//! the load (servers, PostgreSQL, this bench, anything else), and the ratio of issued/s at the
//! peak to the floor (issue #15 asks ≥ 0.5).
//!
//! Everything runs on one machine: the load generator and 4,000 WebSocket clients share the cores
//! with the servers and PostgreSQL, and the CPU line says how much each took. Check that nothing
//! else runs (`pgrep -fa bench`) first: the "other" share in that line is what did.
//!
//! Settings (environment): `QHALL_CITY_BRANCHES` (200), `QHALL_CITY_BOARDS` per branch (20),
//! `QHALL_CITY_WINDOWS` per branch (4), `QHALL_CITY_SERVERS` (3), `QHALL_CITY_SECS` (60),
//! `QHALL_CITY_PEAK` (tickets/s per branch at the peak; default floor ÷ branches),
//! `QHALL_CITY_CLIENTS` (16: issuing connections, and the floor's), `QHALL_CITY_SERVICE_MS`
//! (5000), `QHALL_CITY_FLOOR_SECS` (5), `QHALL_CITY_DATABASE_URL` (an empty database to use),
//! `QHALL_CITY_POSTGRES_URL` (where the fresh one is made; `postgres://postgres@127.0.0.1:5432/postgres`),
//! `QHALL_CITY_KEEP=1` (keep the fresh database), `QHALL_SERVER_BIN`.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use futures_util::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::{Mutex, Semaphore, mpsc, watch};

const ADMIN: &str = "cityadmin";
const ADMIN_PASSWORD: &str = "city-admin-password";
const STAFF_PASSWORD: &str = "city-staff-password";
/// Admin sessions seeding branches at once (spread over the servers).
const SEEDERS: usize = 6;
/// WebSocket handshakes in flight at once (under the listeners' backlog).
const CONNECTING: usize = 64;
/// Tries of one ticket (the same Idempotency-Key), like the kiosk's bounded retries.
const TRIES: usize = 3;
/// How long the boards are given, after the load, for the last calls to reach them.
const SETTLE: Duration = Duration::from_secs(3);

/// The run's size, from the environment.
#[derive(Debug, Clone)]
struct Settings {
    branches: usize,
    boards: usize,
    windows: usize,
    servers: usize,
    secs: u64,
    peak: Option<f64>,
    clients: usize,
    service_ms: u64,
    floor_secs: u64,
    database_url: Option<String>,
    postgres_url: String,
    keep: bool,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a valid value")),
        Err(_) => default,
    }
}

impl Settings {
    fn from_env() -> Settings {
        Settings {
            branches: env_or("QHALL_CITY_BRANCHES", 200),
            boards: env_or("QHALL_CITY_BOARDS", 20),
            windows: env_or("QHALL_CITY_WINDOWS", 4),
            servers: env_or("QHALL_CITY_SERVERS", 3),
            secs: env_or("QHALL_CITY_SECS", 60),
            peak: std::env::var("QHALL_CITY_PEAK").ok().map(|v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("QHALL_CITY_PEAK={v:?} is not a number"))
            }),
            clients: env_or("QHALL_CITY_CLIENTS", 16),
            service_ms: env_or("QHALL_CITY_SERVICE_MS", 5000),
            floor_secs: env_or("QHALL_CITY_FLOOR_SECS", 5),
            database_url: std::env::var("QHALL_CITY_DATABASE_URL").ok(),
            postgres_url: std::env::var("QHALL_CITY_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
            keep: std::env::var("QHALL_CITY_KEEP").is_ok_and(|v| v == "1"),
        }
    }
}

fn main() {
    let settings = Settings::from_env();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    match rt.block_on(run(settings)) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("city: {e:#}");
            std::process::exit(2);
        }
    }
}

async fn run(s: Settings) -> anyhow::Result<bool> {
    ensure!(
        s.branches >= 1 && s.servers >= 1 && s.windows >= 1 && s.clients >= 1,
        "branches, servers, windows and clients must each be at least 1"
    );
    let started = Instant::now();
    println!(
        "city: {} branches × {} windows, {} boards each ({} WebSockets) over {} qhall-server \
         processes; {} cores; load average before: {}",
        s.branches,
        s.windows,
        s.boards,
        s.branches * s.boards,
        s.servers,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut db = Database::create(&s).await?;
    let dir = tempfile::tempdir()?;
    let bin = std::env::var("QHALL_SERVER_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_qhall-server").to_owned());
    add_admin(&bin, &db.url, dir.path())?;
    let mut servers = Vec::new();
    for i in 0..s.servers {
        servers.push(Server::start(&bin, &db.url, dir.path(), i)?);
    }
    let api = Api::new(servers.iter().map(|s| s.url.clone()).collect());
    println!(
        "servers: {} (pids {}); database {} ({})",
        api.servers.join(", "),
        servers
            .iter()
            .map(|s| s.pid.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        db.name,
        postgres_version(&db.url).await?
    );

    let t = Instant::now();
    let branches = seed(&api, &s).await?;
    println!(
        "seeded {} branches through the admin API in {:.1} s",
        branches.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let staff = sign_in_staff(&api, &s, &branches).await?;
    println!(
        "{} staff logged in and signed in to their windows in {:.1} s",
        staff.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let (boards, stop_boards) = connect_boards(&api, &s, &branches).await?;
    println!(
        "{} boards connected, each with its snapshot, in {:.1} s",
        boards.len(),
        t.elapsed().as_secs_f64()
    );

    let floor = floor(&db.url, s.clients, s.floor_secs).await?;
    println!(
        "database floor ({} connections, sqlx, synchronous_commit=off): BEGIN; INSERT; COMMIT \
         {:.0} tx/s (p50 {}, p99 {}); one autocommitted INSERT {:.0}/s",
        s.clients,
        floor.transaction.rate,
        ms(floor.transaction.p50),
        ms(floor.transaction.p99),
        floor.autocommit.rate,
    );

    let peak = s.peak.unwrap_or(floor.transaction.rate / s.branches as f64);
    println!(
        "load: {} s; at the peak {peak:.2} tickets/s per branch of weight 1, {:.0}/s offered in \
         total; staff serve {} ms on average",
        s.secs,
        peak * s.branches as f64,
        s.service_ms
    );
    let cpu_before = CpuSample::take(&servers);
    let load = load(&api, &s, &branches, &staff, peak).await?;
    let cpu = CpuSample::take(&servers).since(&cpu_before);
    tokio::time::sleep(SETTLE).await;
    let _ = stop_boards.send(true);
    let mut logs = Vec::new();
    for b in boards {
        logs.push(b.await?);
    }

    let report = Report::new(&s, &branches, &load, &logs, &floor, peak);
    report.print(&cpu);
    let failures = check(&db.url, &branches, &load, &logs).await?;
    for (i, server) in servers.iter_mut().enumerate() {
        if let Some(status) = server.child.try_wait()? {
            println!(
                "FAILED: server {i} exited during the run ({status}); its log: {}",
                dir.path().join(format!("server-{i}.log")).display()
            );
            db.keep = true;
            return Ok(false);
        }
    }
    drop(servers);
    println!("total time {:.0} s", started.elapsed().as_secs_f64());
    if failures.is_empty() {
        println!(
            "check: every acknowledged ticket exists exactly once, numbers unique per branch, \
             no ticket called twice, every board's seq without a gap: OK"
        );
        Ok(true)
    } else {
        for f in &failures {
            println!("FAILED: {f}");
        }
        db.keep = true;
        // The servers' logs go with the temp dir unless it is kept too.
        let kept = dir.keep();
        println!(
            "kept the database {} and the servers' logs in {}",
            db.name,
            kept.display()
        );
        Ok(false)
    }
}

// ---------------------------------------------------------------------------------------------
// The database and the servers.

/// The database the city runs on: a fresh one (dropped on drop unless kept) or the one given.
struct Database {
    url: String,
    name: String,
    /// Where to connect to drop it; `None` for a database we did not create.
    admin: Option<String>,
    keep: bool,
}

impl Database {
    async fn create(s: &Settings) -> anyhow::Result<Database> {
        use sqlx::{ConnectOptions, Connection, Executor};
        if let Some(url) = &s.database_url {
            return Ok(Database {
                url: url.clone(),
                name: url.rsplit('/').next().unwrap_or("").to_owned(),
                admin: None,
                keep: true,
            });
        }
        let opts: sqlx::postgres::PgConnectOptions = s.postgres_url.parse()?;
        let mut conn = opts
            .connect()
            .await
            .with_context(|| format!("connect to {}", s.postgres_url))?;
        let name = format!("qhall_city_{:08x}", rand::random::<u32>());
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await?;
        conn.close().await?;
        let base = s
            .postgres_url
            .rsplit_once('/')
            .map_or(s.postgres_url.as_str(), |(b, _)| b);
        Ok(Database {
            url: format!("{base}/{name}"),
            name,
            admin: Some(s.postgres_url.clone()),
            keep: s.keep,
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let Some(admin) = self.admin.clone().filter(|_| !self.keep) else {
            return;
        };
        let name = self.name.clone();
        // Drop may run inside the runtime: a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async move {
                use sqlx::{ConnectOptions, Connection, Executor};
                let opts: sqlx::postgres::PgConnectOptions = admin.parse().ok()?;
                let mut c = opts.connect().await.ok()?;
                let _ = c
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await;
                let _ = c.close().await;
                Some(())
            })
        })
        .join();
    }
}

async fn postgres_version(url: &str) -> anyhow::Result<String> {
    use sqlx::{ConnectOptions, Connection};
    let mut c = url
        .parse::<sqlx::postgres::PgConnectOptions>()?
        .connect()
        .await?;
    let v: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut c)
        .await?;
    c.close().await?;
    Ok(format!("PostgreSQL {v}"))
}

/// `qhall-server user add cityadmin --role admin`: the first admin, as a city would make it.
fn add_admin(bin: &str, url: &str, dir: &Path) -> anyhow::Result<()> {
    let out = Command::new(bin)
        .args(["user", "add", ADMIN, "--role", "admin", "--database", url])
        .env("QHALL_PASSWORD", ADMIN_PASSWORD)
        .current_dir(dir)
        .output()
        .with_context(|| format!("run {bin}"))?;
    ensure!(
        out.status.success(),
        "user add failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// One `qhall-server` process; killed on drop.
struct Server {
    url: String,
    pid: u32,
    child: Child,
}

impl Server {
    fn start(bin: &str, url: &str, dir: &Path, i: usize) -> anyhow::Result<Server> {
        let log = std::fs::File::create(dir.join(format!("server-{i}.log")))?;
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0", "--database", url])
            .args(["--issue-limit", "1000000", "--log", "warn"])
            // Its own folder, so that no qhall.toml of ours is read.
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("start {bin}"))?;
        let out = child.stdout.take().context("stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(u) = line.strip_prefix("listening on ") {
                    let _ = tx.send(u.trim().to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .context("the server printed no 'listening on' line")?;
        Ok(Server {
            url,
            pid: child.id(),
            child,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// The API, as kiosks, boards, staff and the administrator reach it.

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    servers: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
}

impl Api {
    fn new(servers: Vec<String>) -> Api {
        Api {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(2048)
                .tcp_nodelay(true)
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            servers: Arc::new(servers),
            next: Arc::default(),
        }
    }

    /// The next server in turn (a round-robin load balancer).
    fn pick(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % self.servers.len()
    }

    async fn call(
        &self,
        server: usize,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.servers[server]))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await?;
        let status = r.status();
        let bytes = r.bytes().await?;
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok((status, v))
    }

    /// `call`, insisting on `want`.
    async fn expect(
        &self,
        server: usize,
        method: Method,
        path: &str,
        token: &str,
        body: Value,
        want: StatusCode,
    ) -> anyhow::Result<Value> {
        let (status, v) = self
            .call(server, method.clone(), path, token, Some(body))
            .await?;
        ensure!(status == want, "{method} {path}: {status} {v}");
        Ok(v)
    }

    async fn login(&self, server: usize, user: &str, password: &str) -> anyhow::Result<String> {
        let r = self
            .http
            .post(format!("{}/api/v1/login", self.servers[server]))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await?;
        ensure!(r.status() == StatusCode::OK, "login {user}: {}", r.status());
        let v: Value = r.json().await?;
        Ok(v["token"].as_str().context("a token")?.to_owned())
    }
}

// ---------------------------------------------------------------------------------------------
// Seeding, staff and boards.

/// One branch as the load sees it.
#[derive(Debug, Clone)]
struct Branch {
    id: i64,
    kiosk: String,
    display: String,
    /// Its share of the city's arrivals (mean 1 over the branches).
    weight: f64,
}

/// Branch 1 (a fresh server's empty branch) and `branches - 1` more, each set up by an admin
/// session switched to it.
async fn seed(api: &Api, s: &Settings) -> anyhow::Result<Vec<Branch>> {
    let admin = api.login(0, ADMIN, ADMIN_PASSWORD).await?;
    let mut ids = vec![1_i64];
    for i in 2..=s.branches {
        let v = api
            .expect(
                0,
                Method::POST,
                "/api/v1/branches",
                &admin,
                json!({"name": {"zh": format!("第{i}分厅"), "en": format!("Branch {i}")},
                       "time_zone": "Asia/Shanghai"}),
                StatusCode::CREATED,
            )
            .await?;
        ids.push(v["id"].as_i64().context("branch id")?);
    }
    let ids = Arc::new(ids);
    let mut tasks = Vec::new();
    for k in 0..SEEDERS.min(s.branches) {
        let (api, ids, windows) = (api.clone(), ids.clone(), s.windows);
        tasks.push(tokio::spawn(async move {
            // A session's branch is cached by the server that switched it: keep to that server.
            let server = k % api.servers.len();
            let token = api.login(server, ADMIN, ADMIN_PASSWORD).await?;
            let mut made = Vec::new();
            for (i, &id) in ids.iter().enumerate().skip(k).step_by(SEEDERS) {
                made.push((i, set_up_branch(&api, server, &token, id, windows).await?));
            }
            anyhow::Ok(made)
        }));
    }
    let mut branches: Vec<(usize, Branch)> = Vec::new();
    for t in tasks {
        branches.extend(t.await??);
    }
    branches.sort_by_key(|(i, _)| *i);
    let n = branches.len();
    Ok(branches
        .into_iter()
        .map(|(i, mut b)| {
            // Sizes spread evenly over 0.5–1.5 (mean 1), in a scrambled order.
            b.weight = if n == 1 {
                1.0
            } else {
                0.5 + ((i * 7919) % n) as f64 / (n - 1) as f64
            };
            b
        })
        .collect())
}

async fn set_up_branch(
    api: &Api,
    server: usize,
    token: &str,
    id: i64,
    windows: usize,
) -> anyhow::Result<Branch> {
    use StatusCode as S;
    let put = Method::PUT;
    let post = Method::POST;
    api.call(
        server,
        put.clone(),
        "/api/v1/session/branch",
        token,
        Some(json!({"branch": id})),
    )
    .await
    .and_then(|(st, v)| {
        ensure!(st == S::NO_CONTENT, "switch to branch {id}: {st} {v}");
        Ok(())
    })?;
    let day = json!([["00:00", "24:00"]]);
    api.expect(server, put, "/api/v1/config/hours", token,
        json!({"time_zone": "Asia/Shanghai", "weekly": [day, day, day, day, day, day, day], "cutoff_mins": 0}),
        S::OK).await?;
    for (code, zh, en) in [
        ("A", "综合业务", "General"),
        ("B", "社保医保", "Social insurance"),
    ] {
        api.expect(
            server,
            post.clone(),
            "/api/v1/config/services",
            token,
            json!({"code": code, "name": {"zh": zh, "en": en}, "last_number": 9999}),
            S::CREATED,
        )
        .await?;
    }
    for n in 1..=windows {
        let serves = if n % 2 == 1 { ["A", "B"] } else { ["B", "A"] };
        api.expect(server, post.clone(), "/api/v1/config/windows", token,
            json!({"number": n, "name": format!("{n}号窗口"), "serves": [{"service": serves[0]}, {"service": serves[1]}]}),
            S::CREATED).await?;
    }
    let device = async |name: &str, role: &str| -> anyhow::Result<String> {
        let v = api
            .expect(
                server,
                post.clone(),
                "/api/v1/devices",
                token,
                json!({"name": name, "role": role}),
                S::CREATED,
            )
            .await?;
        Ok(v["token"].as_str().context("device token")?.to_owned())
    };
    let kiosk = device("kiosk", "kiosk").await?;
    let display = device("boards", "display").await?;
    for n in 1..=windows {
        api.expect(
            server,
            post.clone(),
            "/api/v1/users",
            token,
            json!({"username": staff_name(id, n), "role": "staff", "password": STAFF_PASSWORD}),
            S::CREATED,
        )
        .await?;
    }
    Ok(Branch {
        id,
        kiosk,
        display,
        weight: 1.0,
    })
}

fn staff_name(branch: i64, window: usize) -> String {
    format!("b{branch}-w{window}")
}

/// One signed-in window.
#[derive(Debug, Clone)]
struct Staff {
    /// Index into the branches.
    branch: usize,
    window: usize,
    token: String,
}

async fn sign_in_staff(api: &Api, s: &Settings, branches: &[Branch]) -> anyhow::Result<Vec<Staff>> {
    let gate = Arc::new(Semaphore::new(16));
    let mut tasks = Vec::new();
    for (bi, b) in branches.iter().enumerate() {
        for window in 1..=s.windows {
            let (api, gate, id) = (api.clone(), gate.clone(), b.id);
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire().await?;
                let token = api
                    .login(api.pick(), &staff_name(id, window), STAFF_PASSWORD)
                    .await?;
                api.expect(
                    api.pick(),
                    Method::POST,
                    &format!("/api/v1/windows/{window}/sign-in"),
                    &token,
                    json!({}),
                    StatusCode::OK,
                )
                .await?;
                anyhow::Ok(Staff {
                    branch: bi,
                    window,
                    token,
                })
            }));
        }
    }
    let mut staff = Vec::new();
    for t in tasks {
        staff.push(t.await??);
    }
    Ok(staff)
}

/// What one board saw.
#[derive(Debug, Default)]
struct BoardLog {
    branch: usize,
    server: usize,
    /// Every `called` message: the number and when it arrived.
    called: Vec<(String, Instant)>,
    messages: u64,
    /// Snapshots after the first (the server found the board too slow and started it again).
    resyncs: u64,
    /// Events whose seq was not the one before plus one (never expected).
    gaps: u64,
}

type BoardTask = tokio::task::JoinHandle<BoardLog>;

async fn connect_boards(
    api: &Api,
    s: &Settings,
    branches: &[Branch],
) -> anyhow::Result<(Vec<BoardTask>, watch::Sender<bool>)> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let gate = Arc::new(Semaphore::new(CONNECTING));
    let mut connecting = Vec::new();
    for (bi, b) in branches.iter().enumerate() {
        for j in 0..s.boards {
            let server = (bi * s.boards + j) % api.servers.len();
            let url = format!(
                "{}/api/v1/events?token={}",
                api.servers[server].replacen("http", "ws", 1),
                b.display
            );
            let (gate, stop) = (gate.clone(), stop_rx.clone());
            connecting.push(tokio::spawn(async move {
                let permit = gate.acquire_owned().await?;
                // A board reads small messages: a 4 KiB read buffer, as the display app has.
                let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
                    .read_buffer_size(4096);
                let (ws, _) =
                    tokio_tungstenite::connect_async_with_config(&url, Some(config), true).await?;
                let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
                let task = tokio::spawn(board(ws, bi, server, ready_tx, stop));
                ready_rx.await.context("a board's snapshot")?;
                drop(permit);
                anyhow::Ok(task)
            }));
        }
    }
    let mut boards = Vec::new();
    for c in connecting {
        boards.push(c.await??);
    }
    Ok((boards, stop_tx))
}

async fn board(
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    branch: usize,
    server: usize,
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
fn field_u64(text: &str, key: &str) -> Option<u64> {
    let i = text.find(key)? + key.len();
    let digits: String = text[i..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The string after `key` (which ends with the opening quote), up to the closing quote.
fn field_str<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let i = text.find(key)? + key.len();
    let j = text[i..].find('"')?;
    Some(&text[i..i + j])
}

// ---------------------------------------------------------------------------------------------
// The floor.

#[derive(Debug, Clone, Copy)]
struct Rate {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Floor {
    transaction: Rate,
    autocommit: Rate,
}

/// One-row insert transactions through sqlx on the same database, `conns` connections flat out
/// for `secs` each: `BEGIN; INSERT; COMMIT` (the shape of a server's write), then a lone
/// autocommitted `INSERT`.
async fn floor(url: &str, conns: usize, secs: u64) -> anyhow::Result<Floor> {
    use std::str::FromStr;
    let opts =
        sqlx::postgres::PgConnectOptions::from_str(url)?.options([("synchronous_commit", "off")]);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(u32::try_from(conns)?)
        .min_connections(u32::try_from(conns)?)
        .connect_with(opts)
        .await?;
    sqlx::raw_sql(
        "CREATE TABLE city_floor (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
         branch BIGINT NOT NULL, at BIGINT NOT NULL, body TEXT NOT NULL)",
    )
    .execute(&pool)
    .await?;
    let mut rates = Vec::new();
    for explicit in [true, false] {
        let stop = Instant::now() + Duration::from_secs(secs);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..conns {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut conn = pool.acquire().await?;
                while Instant::now() < stop {
                    let t = Instant::now();
                    let insert = sqlx::query(
                        "INSERT INTO city_floor (branch, at, body) VALUES ($1, $2, $3)",
                    )
                    .bind(i64::try_from(c)?)
                    .bind(i64::try_from(lat.len())?)
                    .bind("{\"type\":\"issued\",\"service\":\"A\",\"waiting\":1}");
                    if explicit {
                        use sqlx::Connection;
                        let mut tx = conn.begin().await?;
                        insert.execute(&mut *tx).await?;
                        tx.commit().await?;
                    } else {
                        insert.execute(&mut *conn).await?;
                    }
                    lat.push(t.elapsed());
                }
                anyhow::Ok(lat)
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await??);
        }
        let elapsed = started.elapsed().as_secs_f64();
        lat.sort();
        rates.push(Rate {
            rate: lat.len() as f64 / elapsed,
            p50: percentile(&lat, 0.5),
            p99: percentile(&lat, 0.99),
        });
    }
    sqlx::raw_sql("DROP TABLE city_floor")
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok(Floor {
        transaction: rates[0],
        autocommit: rates[1],
    })
}

// ---------------------------------------------------------------------------------------------
// The load.

/// The offered rate at `x` (0–1) of the run, as a share of the peak: a weekday morning.
fn profile(x: f64) -> f64 {
    if x < 0.25 {
        0.2 + 0.8 * x / 0.25
    } else if x < 0.75 {
        1.0
    } else {
        1.0 - 0.6 * (x - 0.75) / 0.25
    }
}

/// One arrival at a kiosk.
#[derive(Debug, Clone, Copy)]
struct Arrival {
    due: Instant,
    branch: usize,
    service: &'static str,
    n: u64,
}

/// An acknowledged ticket.
#[derive(Debug)]
struct Issued {
    branch: usize,
    id: String,
    due: Instant,
    sent: Instant,
    done: Instant,
}

/// A call-next answered with a ticket.
#[derive(Debug)]
struct Called {
    branch: usize,
    number: String,
    server: usize,
    sent: Instant,
    done: Instant,
}

#[derive(Debug, Default)]
struct Load {
    started: Option<Instant>,
    /// Due instants of every arrival offered.
    offered: Vec<Instant>,
    issued: Vec<Issued>,
    /// Requests that never got a ticket after every try, by branch index, with why.
    failed: Vec<(usize, String)>,
    /// Tries beyond the first that were needed.
    retries: u64,
    /// Arrivals still waiting for an issuing connection when the run ended.
    unsent: u64,
    calls: Vec<Called>,
    completes: Vec<Duration>,
    nothing_waiting: u64,
    staff_errors: Vec<String>,
}

async fn load(
    api: &Api,
    s: &Settings,
    branches: &[Branch],
    staff: &[Staff],
    peak: f64,
) -> anyhow::Result<Load> {
    let run = Duration::from_secs(s.secs);
    let started = Instant::now();
    let end = started + run;
    let (stop_tx, stop_rx) = watch::channel(false);

    // Arrivals: a thread releases each at its due instant (tokio's timer wheel would round
    // them to whole milliseconds and bunch them).
    let (arrive_tx, arrive_rx) = mpsc::unbounded_channel::<Arrival>();
    let weights: Vec<f64> = branches.iter().map(|b| b.weight).collect();
    let total_peak = peak * weights.iter().sum::<f64>();
    let generator = std::thread::spawn(move || {
        let mut rng = StdRng::seed_from_u64(15);
        let mut cumulative = Vec::with_capacity(weights.len());
        let mut sum = 0.0;
        for w in &weights {
            sum += w;
            cumulative.push(sum);
        }
        let mut offered = Vec::new();
        let mut t = 0.0_f64;
        let secs = run.as_secs_f64();
        loop {
            let rate = total_peak * profile(t / secs);
            let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
            t += -u.ln() / rate.max(1e-9);
            if t >= secs {
                break;
            }
            let due = started + Duration::from_secs_f64(t);
            let pick = rng.random::<f64>() * sum;
            let branch = cumulative
                .partition_point(|c| *c < pick)
                .min(weights.len() - 1);
            let service = if rng.random::<f64>() < 0.7 { "A" } else { "B" };
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let n = offered.len() as u64;
            offered.push(due);
            if arrive_tx
                .send(Arrival {
                    due,
                    branch,
                    service,
                    n,
                })
                .is_err()
            {
                break;
            }
        }
        offered
    });

    let arrive_rx = Arc::new(Mutex::new(arrive_rx));
    let kiosks: Arc<Vec<String>> = Arc::new(branches.iter().map(|b| b.kiosk.clone()).collect());
    let mut issuers = Vec::new();
    for _ in 0..s.clients {
        let (api, rx, kiosks) = (api.clone(), arrive_rx.clone(), kiosks.clone());
        issuers.push(tokio::spawn(async move {
            let mut out = Load::default();
            loop {
                let next = tokio::select! {
                    a = async { rx.lock().await.recv().await } => a,
                    () = tokio::time::sleep_until(end.into()) => None,
                };
                let Some(a) = next else { break };
                if Instant::now() >= end {
                    out.unsent += 1;
                    break;
                }
                issue(&api, &kiosks[a.branch], a, &mut out).await;
            }
            out
        }));
    }

    let mut windows = Vec::new();
    for (i, st) in staff.iter().enumerate() {
        let (api, st, stop) = (api.clone(), st.clone(), stop_rx.clone());
        let service_ms = s.service_ms;
        windows.push(tokio::spawn(async move {
            serve_window(&api, &st, service_ms, i as u64, stop).await
        }));
    }

    tokio::time::sleep_until(end.into()).await;
    let _ = stop_tx.send(true);
    let mut total = Load {
        started: Some(started),
        ..Default::default()
    };
    for t in issuers {
        total.absorb(t.await?);
    }
    {
        let mut rx = arrive_rx.lock().await;
        rx.close();
        while rx.try_recv().is_ok() {
            total.unsent += 1;
        }
    }
    total.offered = generator.join().expect("the arrivals thread");
    for t in windows {
        total.absorb(t.await?);
    }
    Ok(total)
}

impl Load {
    fn absorb(&mut self, o: Load) {
        self.issued.extend(o.issued);
        self.failed.extend(o.failed);
        self.retries += o.retries;
        self.unsent += o.unsent;
        self.calls.extend(o.calls);
        self.completes.extend(o.completes);
        self.nothing_waiting += o.nothing_waiting;
        self.staff_errors.extend(o.staff_errors);
    }
}

/// One ticket from a kiosk: up to [`TRIES`] tries with one Idempotency-Key, each on the next
/// server.
async fn issue(api: &Api, kiosk: &str, a: Arrival, out: &mut Load) {
    #[derive(serde::Deserialize)]
    struct Answer {
        id: String,
    }
    let key = format!("city-{}", a.n);
    let sent = Instant::now();
    let mut why = String::new();
    for attempt in 0..TRIES {
        if attempt > 0 {
            out.retries += 1;
        }
        let server = api.pick();
        let r = api
            .http
            .post(format!("{}/api/v1/tickets", api.servers[server]))
            .bearer_auth(kiosk)
            .header("Idempotency-Key", &key)
            .json(&json!({"service": a.service, "priority": false}))
            .send()
            .await;
        match r {
            Ok(r) if r.status() == StatusCode::CREATED || r.status() == StatusCode::OK => {
                match r.json::<Answer>().await {
                    Ok(t) => {
                        out.issued.push(Issued {
                            branch: a.branch,
                            id: t.id,
                            due: a.due,
                            sent,
                            done: Instant::now(),
                        });
                        return;
                    }
                    Err(e) => why = format!("unreadable answer: {e}"),
                }
            }
            Ok(r) if r.status().is_server_error() => {
                why = format!("{} {}", r.status(), r.text().await.unwrap_or_default());
            }
            Ok(r) => {
                // A 4xx is a refusal, not a glitch: trying again would not change it.
                let why = format!("{} {}", r.status(), r.text().await.unwrap_or_default());
                out.failed.push((a.branch, why));
                return;
            }
            Err(e) => why = format!("{e}"),
        }
    }
    out.failed.push((a.branch, why));
}

/// A time drawn evenly from 0.5–1.5 × `mean_ms`.
fn pause(rng: &mut StdRng, mean_ms: u64) -> Duration {
    Duration::from_millis(mean_ms).mul_f64(rng.random_range(0.5..1.5))
}

/// A window's day: call, serve, complete, again; when nothing waits, look again a second later.
async fn serve_window(
    api: &Api,
    st: &Staff,
    service_ms: u64,
    seed: u64,
    mut stop: watch::Receiver<bool>,
) -> Load {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Load::default();
    // Not every window presses at the same instant.
    let first = pause(&mut rng, service_ms / 2);
    if tokio::time::timeout(first, stop.changed()).await.is_ok() {
        return out;
    }
    let call = format!("/api/v1/windows/{}/call-next", st.window);
    let complete = format!("/api/v1/windows/{}/complete", st.window);
    while !*stop.borrow() {
        let server = api.pick();
        let sent = Instant::now();
        let wait = match api.call(server, Method::POST, &call, &st.token, None).await {
            Ok((StatusCode::OK, v)) => {
                let done = Instant::now();
                let number = v["ticket"]["number"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                out.calls.push(Called {
                    branch: st.branch,
                    number,
                    server,
                    sent,
                    done,
                });
                // Serving: the run may end meanwhile, and then the ticket stays called.
                if tokio::time::timeout(pause(&mut rng, service_ms), stop.changed())
                    .await
                    .is_ok()
                {
                    break;
                }
                let t = Instant::now();
                match api
                    .call(api.pick(), Method::POST, &complete, &st.token, None)
                    .await
                {
                    Ok((StatusCode::OK, _)) => out.completes.push(t.elapsed()),
                    Ok((status, v)) => out.staff_errors.push(format!("complete: {status} {v}")),
                    Err(e) => out.staff_errors.push(format!("complete: {e}")),
                }
                continue;
            }
            Ok((StatusCode::NO_CONTENT, _)) => {
                out.nothing_waiting += 1;
                pause(&mut rng, 1000)
            }
            Ok((status, v)) => {
                out.staff_errors.push(format!("call-next: {status} {v}"));
                pause(&mut rng, 1000)
            }
            Err(e) => {
                out.staff_errors.push(format!("call-next: {e}"));
                pause(&mut rng, 1000)
            }
        };
        if tokio::time::timeout(wait, stop.changed()).await.is_ok() {
            break;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// CPU: where the machine's cores went during the load.

#[derive(Debug, Clone, Default)]
struct CpuSample {
    /// All cores' busy and total ticks (`/proc/stat`).
    busy: u64,
    total: u64,
    servers: u64,
    postgres: u64,
    bench: u64,
}

/// utime + stime of a process, in ticks.
fn process_ticks(stat: &str) -> u64 {
    // The command name may hold spaces: the fields start after its closing parenthesis.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return 0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, utime 14 and stime 15 (1-based, counting pid and name).
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

impl CpuSample {
    fn take(servers: &[Server]) -> CpuSample {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let stat = read("/proc/stat");
        let cpu: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        let total: u64 = cpu.iter().take(8).sum();
        // idle and iowait.
        let idle = cpu.get(3).copied().unwrap_or(0) + cpu.get(4).copied().unwrap_or(0);
        let mut postgres = 0;
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for e in dir.flatten() {
                let p = e.path();
                if p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
                {
                    let s = read(&format!("{}/stat", p.display()));
                    if s.contains("(postgres)") {
                        postgres += process_ticks(&s);
                    }
                }
            }
        }
        CpuSample {
            busy: total - idle,
            total,
            servers: servers
                .iter()
                .map(|s| process_ticks(&read(&format!("/proc/{}/stat", s.pid))))
                .sum(),
            postgres,
            bench: process_ticks(&read("/proc/self/stat")),
        }
    }

    fn since(&self, before: &CpuSample) -> CpuSample {
        CpuSample {
            busy: self.busy.saturating_sub(before.busy),
            total: self.total.saturating_sub(before.total),
            servers: self.servers.saturating_sub(before.servers),
            postgres: self.postgres.saturating_sub(before.postgres),
            bench: self.bench.saturating_sub(before.bench),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The figures.

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn p50_p99(mut v: Vec<Duration>) -> String {
    v.sort();
    format!(
        "p50 {}, p99 {} ({})",
        ms(percentile(&v, 0.5)),
        ms(percentile(&v, 0.99)),
        v.len()
    )
}

struct Report<'a> {
    s: &'a Settings,
    branches: &'a [Branch],
    load: &'a Load,
    logs: &'a [BoardLog],
    floor: &'a Floor,
    peak: f64,
}

impl<'a> Report<'a> {
    fn new(
        s: &'a Settings,
        branches: &'a [Branch],
        load: &'a Load,
        logs: &'a [BoardLog],
        floor: &'a Floor,
        peak: f64,
    ) -> Report<'a> {
        Report {
            s,
            branches,
            load,
            logs,
            floor,
            peak,
        }
    }

    /// Tickets acknowledged per second while the offered rate was at its peak (the middle half).
    fn at_peak(&self) -> f64 {
        let Some(t0) = self.load.started else {
            return 0.0;
        };
        let secs = self.s.secs as f64;
        let (from, to) = (
            t0 + Duration::from_secs_f64(secs * 0.25),
            t0 + Duration::from_secs_f64(secs * 0.75),
        );
        let n = self
            .load
            .issued
            .iter()
            .filter(|i| i.done >= from && i.done < to)
            .count();
        n as f64 / (secs * 0.5)
    }

    fn print(&self, cpu: &CpuSample) {
        let l = self.load;
        let secs = self.s.secs as f64;
        let t0 = l.started.unwrap_or_else(Instant::now);
        println!();
        println!(
            "== city: {} branches, {} servers, {} s ==",
            self.branches.len(),
            self.s.servers,
            self.s.secs
        );
        let total = l.issued.len() as f64 / secs;
        let peak = self.at_peak();
        println!(
            "issued: {} tickets, {total:.0}/s over the run; {peak:.0}/s at the peak ({:.0}/s offered there)",
            l.issued.len(),
            self.peak * self.branches.iter().map(|b| b.weight).sum::<f64>()
        );
        let mut per_branch = vec![0_u64; self.branches.len()];
        for i in &l.issued {
            per_branch[i.branch] += 1;
        }
        per_branch.sort_unstable();
        let rate = |n: u64| n as f64 / secs;
        println!(
            "  per branch over the run: min {:.2}/s, median {:.2}/s, max {:.2}/s (sizes 0.5–1.5)",
            rate(per_branch[0]),
            rate(per_branch[per_branch.len() / 2]),
            rate(per_branch[per_branch.len() - 1])
        );
        let tenth = secs / 10.0;
        let bucket =
            |t: Instant| ((t.saturating_duration_since(t0).as_secs_f64() / tenth) as usize).min(9);
        let mut offered = [0_u64; 10];
        let mut issued = [0_u64; 10];
        for d in &l.offered {
            offered[bucket(*d)] += 1;
        }
        for i in &l.issued {
            issued[bucket(i.done)] += 1;
        }
        println!(
            "  offered/s by tenth: {}",
            offered
                .iter()
                .map(|n| format!("{:.0}", *n as f64 / tenth))
                .collect::<Vec<_>>()
                .join(" ")
        );
        println!(
            "  issued/s by tenth:  {}",
            issued
                .iter()
                .map(|n| format!("{:.0}", *n as f64 / tenth))
                .collect::<Vec<_>>()
                .join(" ")
        );
        println!(
            "  not issued: {} still waiting for a connection at the end, {} failed after every try, {} retries",
            l.unsent,
            l.failed.len(),
            l.retries
        );
        println!(
            "issue (request):      {}",
            p50_p99(l.issued.iter().map(|i| i.done - i.sent).collect())
        );
        println!(
            "issue (from due):     {}",
            p50_p99(l.issued.iter().map(|i| i.done - i.due).collect())
        );
        println!(
            "call-next (ticket):   {}; {:.0} calls/s; {} answered 204 (nothing waiting)",
            p50_p99(l.calls.iter().map(|c| c.done - c.sent).collect()),
            l.calls.len() as f64 / secs,
            l.nothing_waiting
        );
        println!("complete:             {}", p50_p99(l.completes.clone()));
        if !l.staff_errors.is_empty() {
            println!(
                "staff errors: {} (first: {})",
                l.staff_errors.len(),
                l.staff_errors[0]
            );
        }

        // Call → board: each receipt against the call's send instant.
        let mut calls: HashMap<(usize, &str), (usize, Instant)> = HashMap::new();
        for c in &l.calls {
            calls.insert((c.branch, c.number.as_str()), (c.server, c.sent));
        }
        let (mut same, mut other) = (Vec::new(), Vec::new());
        let mut last: HashMap<(usize, &str), Duration> = HashMap::new();
        let mut received = 0_u64;
        for b in self.logs {
            for (number, at) in &b.called {
                let Some((server, sent)) = calls.get(&(b.branch, number.as_str())) else {
                    continue;
                };
                received += 1;
                let d = at.saturating_duration_since(*sent);
                if *server == b.server {
                    same.push(d);
                } else {
                    other.push(d);
                }
                let e = last.entry((b.branch, number.as_str())).or_default();
                *e = (*e).max(d);
            }
        }
        let expected = l.calls.len() as u64 * self.s.boards as u64;
        println!("call → board, same server:   {}", p50_p99(same));
        println!("call → board, other servers: {}", p50_p99(other));
        println!(
            "call → last board of the call: {}; {received} of {expected} receipts",
            p50_p99(last.into_values().collect())
        );
        println!(
            "boards: {} messages, {} resync snapshots, {} seq gaps",
            self.logs.iter().map(|b| b.messages).sum::<u64>(),
            self.logs.iter().map(|b| b.resyncs).sum::<u64>(),
            self.logs.iter().map(|b| b.gaps).sum::<u64>()
        );
        let share = |t: u64| 100.0 * t as f64 / cpu.total.max(1) as f64;
        let ours = cpu.servers + cpu.postgres + cpu.bench;
        println!(
            "cpu during the load (share of all cores): servers {:.0}%, PostgreSQL {:.0}%, this bench {:.0}%, other {:.0}%, idle {:.0}%",
            share(cpu.servers),
            share(cpu.postgres),
            share(cpu.bench),
            share(cpu.busy.saturating_sub(ours)),
            share(cpu.total - cpu.busy)
        );
        let floor = self.floor.transaction.rate;
        println!(
            "floor: {floor:.0} tx/s (BEGIN; INSERT; COMMIT), {:.0}/s (autocommit INSERT)",
            self.floor.autocommit.rate
        );
        println!(
            "ratio: issued/s at the peak ÷ floor = {:.2} (÷ autocommit floor {:.2}); over the run {:.2}; issue #15 asks ≥ 0.5: {}",
            peak / floor,
            peak / self.floor.autocommit.rate,
            total / floor,
            if peak / floor >= 0.5 {
                "holds"
            } else {
                "does not hold"
            }
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The check.

/// Every acknowledged ticket once, nothing extra, numbers unique, no ticket called twice, no
/// seq gap on any board. Returns what failed.
async fn check(
    url: &str,
    branches: &[Branch],
    load: &Load,
    logs: &[BoardLog],
) -> anyhow::Result<Vec<String>> {
    use sqlx::{ConnectOptions, Connection};
    let mut failures = Vec::new();
    let mut c = url
        .parse::<sqlx::postgres::PgConnectOptions>()?
        .connect()
        .await?;
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT branch_id, id FROM tickets")
        .fetch_all(&mut c)
        .await?;
    let index: HashMap<i64, usize> = branches
        .iter()
        .enumerate()
        .map(|(i, b)| (b.id, i))
        .collect();
    let mut stored: Vec<HashSet<&str>> = vec![HashSet::new(); branches.len()];
    for (b, id) in &rows {
        match index.get(b) {
            Some(&i) => {
                stored[i].insert(id.as_str());
            }
            None => failures.push(format!(
                "a ticket {id} of branch {b}, which the city never used"
            )),
        }
    }
    let mut acked: Vec<HashSet<&str>> = vec![HashSet::new(); branches.len()];
    let mut lost = Vec::new();
    let mut duplicated = Vec::new();
    for i in &load.issued {
        if !acked[i.branch].insert(i.id.as_str()) {
            duplicated.push(i.id.as_str());
        }
        if !stored[i.branch].contains(i.id.as_str()) {
            lost.push(i.id.as_str());
        }
    }
    if !lost.is_empty() {
        failures.push(format!(
            "{} acknowledged tickets are not in the database (first {})",
            lost.len(),
            lost[0]
        ));
    }
    if !duplicated.is_empty() {
        failures.push(format!(
            "{} tickets were acknowledged to two different requests (first {})",
            duplicated.len(),
            duplicated[0]
        ));
    }
    let mut failed = vec![0_usize; branches.len()];
    for (b, _) in &load.failed {
        failed[*b] += 1;
    }
    for (i, b) in branches.iter().enumerate() {
        let (have, want) = (stored[i].len(), acked[i].len());
        if have < want || have > want + failed[i] {
            failures.push(format!(
                "branch {} holds {have} tickets; {want} were acknowledged and {} requests failed",
                b.id, failed[i]
            ));
        }
    }
    let dup_numbers: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM tickets GROUP BY branch_id, issued_service, day, number \
         HAVING COUNT(*) > 1) d",
    )
    .fetch_one(&mut c)
    .await?;
    if dup_numbers > 0 {
        failures.push(format!(
            "{dup_numbers} numbers were given to two tickets of one branch, service and day"
        ));
    }
    let called_twice: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM ticket_events WHERE kind = 'call' GROUP BY ticket_key \
         HAVING COUNT(*) > 1) d",
    )
    .fetch_one(&mut c)
    .await?;
    if called_twice > 0 {
        failures.push(format!("{called_twice} tickets were called more than once"));
    }
    let calls: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ticket_events WHERE kind = 'call'")
        .fetch_one(&mut c)
        .await?;
    if calls != load.calls.len() as i64 {
        failures.push(format!(
            "the database holds {calls} calls; staff were answered with {}",
            load.calls.len()
        ));
    }
    let mut numbers = HashSet::new();
    for call in &load.calls {
        if !numbers.insert((call.branch, call.number.as_str())) {
            failures.push(format!(
                "{} of branch index {} was called twice",
                call.number, call.branch
            ));
        }
    }
    let gaps: u64 = logs.iter().map(|b| b.gaps).sum();
    if gaps > 0 {
        failures.push(format!("{gaps} events reached a board out of seq order"));
    }
    if !load.failed.is_empty() {
        println!(
            "note: {} issue requests failed after every try (first: {})",
            load.failed.len(),
            load.failed[0].1
        );
    }
    c.close().await?;
    Ok(failures)
}

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
//!    Then **the same job done bare** (`city/bare.rs`): this binary re-executed as the simplest
//!    server that issues and tells the boards — axum, one sqlx pool, a tokio broadcast per
//!    branch — with as many boards per branch, connected from this process, and as many issuing
//!    connections, flat out for `QHALL_CITY_FLOOR_SECS`; an issue counts once every board of its
//!    branch has it. It is the floor that includes the fan-out, which on one machine shares the
//!    cores with the database.
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
//!    - *PostgreSQL* is watched: `pg_stat_activity` every 50 ms (what the servers' connections
//!      are doing: running, waiting for a branch's lock, or idle in a transaction while the
//!      server prepares its next statement), and each process's CPU.
//! 7. **The drain**: after the load, every board must receive its branch's last event (the
//!    branches' `event_seq`) within `QHALL_CITY_DRAIN_SECS`; late calls still count in the
//!    call → board figures, and how long the drain took is printed.
//! 8. **The check**, through sqlx on the database: every acknowledged ticket is there, no two
//!    acknowledgements (different keys) name one ticket, each branch holds exactly as many
//!    tickets as were acknowledged (or, for requests that finally failed, at most that many
//!    more), numbers are unique per branch, service and day, no ticket was called twice, the
//!    database holds as many calls as staff were answered with, and no board saw a seq gap.
//!    Any failure (or a board still behind after the drain) prints `FAILED` and the bench exits
//!    with status 1.
//!
//! It prints issued/s overall and at the peak, per branch (min / median / max), offered and
//! issued per tenth of the run, p50/p99 of issue (request, and from the instant it was due),
//! call-next and complete, call → `called` at the boards (on the server that took the call and
//! on the others; and the last board of each call), how the machine's cores were spent during
//! the load (servers, PostgreSQL by kind of process, this bench, anything else), what the
//! servers' PostgreSQL connections were doing, how many walk-ins shared an issuing statement
//! (the servers' `/metrics`), and the ratio of issued/s at the peak to the
//! floor (issue #15 asks ≥ 0.5) and to the bare server with the fan-out.
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
//! `QHALL_CITY_DRAIN_SECS` (120: how long the boards may take, after the load, to receive the
//! last events), `QHALL_CITY_KEEP=1` (keep the fresh database), `QHALL_SERVER_BIN`.

#[path = "city/api.rs"]
mod api;
#[path = "city/bare.rs"]
mod bare;
#[path = "city/boards.rs"]
mod boards;
#[path = "city/check.rs"]
mod check;
#[path = "city/cpu.rs"]
mod cpu;
#[path = "city/floor.rs"]
mod floor;
#[path = "city/load.rs"]
mod load;
#[path = "city/pg_activity.rs"]
mod pg_activity;
#[path = "city/report.rs"]
mod report;
#[path = "city/seed.rs"]
mod seed;
#[path = "city/servers.rs"]
mod servers;

use std::time::{Duration, Instant};

use anyhow::ensure;

use crate::api::Api;
use crate::boards::connect_boards;
use crate::check::{check, event_seqs};
use crate::cpu::CpuSample;
use crate::floor::floor;
use crate::load::load;
use crate::report::{Report, ms};
use crate::seed::{ADMIN, ADMIN_PASSWORD, seed, sign_in_staff};
use crate::servers::{Database, Server, add_admin, postgres_version};

/// Connections each server's pool holds at most (`store::postgres`), for the activity line.
const SERVER_POOL: usize = 10;

/// The run's size, from the environment.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) branches: usize,
    pub(crate) boards: usize,
    pub(crate) windows: usize,
    pub(crate) servers: usize,
    pub(crate) secs: u64,
    pub(crate) peak: Option<f64>,
    pub(crate) clients: usize,
    pub(crate) service_ms: u64,
    pub(crate) floor_secs: u64,
    pub(crate) drain_secs: u64,
    pub(crate) database_url: Option<String>,
    pub(crate) postgres_url: String,
    pub(crate) keep: bool,
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
            drain_secs: env_or("QHALL_CITY_DRAIN_SECS", 120),
            database_url: std::env::var("QHALL_CITY_DATABASE_URL").ok(),
            postgres_url: std::env::var("QHALL_CITY_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
            keep: std::env::var("QHALL_CITY_KEEP").is_ok_and(|v| v == "1"),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("__bare") {
        if let Err(e) = bare::server::main(&args[2..]) {
            eprintln!("city __bare: {e:#}");
            std::process::exit(2);
        }
        return;
    }
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
    let boards = connect_boards(&api, &s, &branches).await?;
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

    let bare = bare::floor(&db.url, &s).await?;
    println!(
        "bare server with the fan-out ({} connections, one process: axum, sqlx, a broadcast per \
         branch, {} boards each): {:.0} issues/s to the last board (p50 {}, p99 {}; the last \
         board {} after the last issue; {} messages, {} seq gaps)",
        s.clients,
        s.boards,
        bare.rate.rate,
        ms(bare.rate.p50),
        ms(bare.rate.p99),
        ms(bare.drain),
        bare.messages,
        bare.gaps,
    );

    let peak = s.peak.unwrap_or(floor.transaction.rate / s.branches as f64);
    println!(
        "load: {} s; at the peak {peak:.2} tickets/s per branch of weight 1, {:.0}/s offered in \
         total; staff serve {} ms on average",
        s.secs,
        peak * s.branches as f64,
        s.service_ms
    );
    let admin = api.login(0, ADMIN, ADMIN_PASSWORD).await?;
    let issuing_before = issuing(&api, &admin).await?;
    let (stop_sampling, sampling) = tokio::sync::watch::channel(false);
    let activity = tokio::spawn(pg_activity::sample(db.url.clone(), sampling));
    let cpu_before = CpuSample::take(&servers);
    let load = load(&api, &s, &branches, &staff, peak).await?;
    let cpu = CpuSample::take(&servers).since(&cpu_before);
    let _ = stop_sampling.send(true);
    let activity = activity.await??;
    // Every board must see every event; how long after the load the last one arrived says how
    // far behind the servers' event streams had fallen.
    let seqs = event_seqs(&db.url, &branches).await?;
    let caught_up = boards
        .caught_up(&seqs, Duration::from_secs(s.drain_secs))
        .await;
    let logs = boards.stop().await?;

    let report = Report::new(&s, &branches, &load, &logs, &floor, &bare, peak);
    report.print(&cpu);
    let after = issuing(&api, &admin).await?;
    let [statements, together, skipped, held] = [0, 1, 2, 3].map(|i| after[i] - issuing_before[i]);
    println!(
        "issuing statements (the servers' /metrics): {statements}, issuing {together} walk-ins \
         ({:.2} a statement); {skipped} walk-ins sent again because their branch was held; \
         {held} statements waited for their first branch in vain",
        together as f64 / statements.max(1) as f64
    );
    activity.print(SERVER_POOL * s.servers, &cpu);
    let mut failures = check(&db.url, &branches, &load, &logs).await?;
    match caught_up {
        Ok(after) => println!(
            "boards: every board had every event of its branch {:.1} s after the load ended",
            after.as_secs_f64()
        ),
        Err(behind) => failures.push(format!(
            "{behind} boards still lacked events of their branch {} s after the load ended",
            s.drain_secs
        )),
    }
    for (i, server) in servers.iter_mut().enumerate() {
        if let Some(status) = server.child.try_wait()? {
            println!(
                "FAILED: server {i} exited during the run ({status}); its log: {}",
                dir.path().join(format!("server-{i}.log")).display()
            );
            db.keep = true;
            let _ = dir.keep();
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

/// The servers' issuing statements, the walk-ins issued in them, the walk-ins sent again
/// because their branch was held and the statements that waited for their first branch in
/// vain, summed over the servers (their `/metrics`).
async fn issuing(api: &Api, token: &str) -> anyhow::Result<[u64; 4]> {
    let names = [
        "qhall_pg_issue_statements_total ",
        "qhall_pg_issued_together_total ",
        "qhall_pg_issue_skipped_total ",
        "qhall_pg_issue_branch_held_total ",
    ];
    let mut sum = [0; 4];
    for server in 0..api.servers.len() {
        let (status, body) = api
            .call(server, reqwest::Method::GET, "/metrics", token, None)
            .await?;
        ensure!(status == reqwest::StatusCode::OK, "/metrics: {status}");
        let text = body.as_str().unwrap_or_default();
        for (i, name) in names.iter().enumerate() {
            sum[i] += text
                .lines()
                .find_map(|l| l.strip_prefix(name)?.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Ok(sum)
}

//! The end-to-end test harness: [`TestApp`] starts the real server (`qhall_server::run`) on
//! `127.0.0.1:0` with a fresh SQLite demo hall in a temporary directory, and drives it the way
//! kiosks, boards, staff and managers do — over HTTP and a real WebSocket client.
//! [`ServerProcess`] runs the built binary instead, for tests that kill it.
//!
//! PostgreSQL: [`pg_database`] creates a fresh database `qhall_t_<random>` on the server at
//! `QHALL_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`) and drops
//! it when the guard goes; without a reachable server it prints `SKIPPED: …` and the test
//! returns. [`TestApp::spawn_on`] runs the server on any database URL, and with
//! `QHALL_TEST_BACKEND=postgres` every [`TestApp::spawn`] uses a fresh PostgreSQL database, so
//! the whole end-to-end suite can run on either backend.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use qhall_shared::api::{IssuedTicket, TicketView, WindowTicket};
use qhall_shared::events::Message;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use qhall_shared as shared;

pub mod tls;

/// The demo kiosk's token.
pub const KIOSK: &str = "demo-kiosk";
/// The demo display's token.
pub const DISPLAY: &str = "demo-display";
/// Tickets per minute the test servers let a kiosk issue: far above the default, for tests
/// that issue thousands a second (the limit itself is tested with the default).
pub const TEST_ISSUE_LIMIT: u32 = 10_000_000;

/// The token of the demo rating pad bound to window `n` (1 to 4): `demo-pad-N`.
pub fn pad(n: u32) -> String {
    format!("demo-pad-{n}")
}

/// The real store (no HTTP) on a fresh demo-hall database, for tests that inject the clock;
/// `setup` is SQL run once after seeding (it should bump `config_version`).
pub async fn demo_store(setup: &str) -> (tempfile::TempDir, qhall_server::store::Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    let store = demo_store_on(&url, setup).await;
    (dir, store)
}

/// The real store on the database at `url`, seeded with the demo hall, then `setup` run.
pub async fn demo_store_on(url: &str, setup: &str) -> qhall_server::store::Store {
    use qhall_server::store::Store;
    let hub = std::sync::Arc::new(qhall_server::events::Hub::default());
    let store = Store::open(
        url,
        false,
        hub,
        qhall_server::queue::policy::Policy::Default,
    )
    .await
    .expect("open store");
    qhall_server::store::seed::demo(&store, chrono::Utc::now())
        .await
        .expect("seed");
    if !setup.is_empty() {
        store.execute_batch(setup).await.expect("setup SQL");
    }
    store
}

/// The PostgreSQL server the tests use (`QHALL_TEST_POSTGRES_URL`).
pub fn postgres_admin_url() -> String {
    std::env::var("QHALL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh PostgreSQL database, dropped when this goes out of scope.
#[derive(Debug)]
pub struct PgDatabase {
    /// `postgres://…/qhall_t_<random>`
    pub url: String,
    name: String,
    admin: String,
}

/// Creates a fresh database `qhall_t_<random>`; `None` (after printing `SKIPPED: …`) when no
/// PostgreSQL server is reachable.
pub async fn pg_database() -> Option<PgDatabase> {
    use sqlx::{ConnectOptions, Connection, Executor};
    let admin = postgres_admin_url();
    let opts: sqlx::postgres::PgConnectOptions = match admin.parse() {
        Ok(o) => o,
        Err(e) => panic!("QHALL_TEST_POSTGRES_URL is not a PostgreSQL URL: {e}"),
    };
    let connected = tokio::time::timeout(Duration::from_secs(5), opts.connect()).await;
    let mut conn = match connected {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            println!("SKIPPED: PostgreSQL not reachable at {admin}: {e}");
            eprintln!("SKIPPED: PostgreSQL not reachable at {admin}: {e}");
            return None;
        }
        Err(_) => {
            println!("SKIPPED: PostgreSQL not reachable at {admin}: no answer in 5 s");
            eprintln!("SKIPPED: PostgreSQL not reachable at {admin}: no answer in 5 s");
            return None;
        }
    };
    let name = format!("qhall_t_{:016x}", rand_u64());
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create test database");
    let _ = conn.close().await;
    let url = match admin.rfind('/') {
        Some(i) if admin[..i].contains("://") && i > admin.find("://").unwrap_or(0) + 2 => {
            let rest = &admin[i + 1..];
            let query = rest.find('?').map(|q| &rest[q..]).unwrap_or("");
            format!("{}/{name}{query}", &admin[..i])
        }
        _ => format!("{admin}/{name}"),
    };
    Some(PgDatabase { url, name, admin })
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop may run inside a runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                use sqlx::{ConnectOptions, Connection, Executor};
                let Ok(opts) = admin.parse::<sqlx::postgres::PgConnectOptions>() else {
                    return;
                };
                if let Ok(mut c) = opts.connect().await {
                    let _ = c
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .await;
                    let _ = c.close().await;
                }
            });
        })
        .join();
    }
}

/// Runs SQL statements on the database at `url` (either backend), then bumps every branch's
/// `config_version` so running servers reload their configuration.
pub async fn run_sql(url: &str, statements: &[&str]) {
    use sqlx::{ConnectOptions, Connection};
    if url.starts_with("postgres") {
        let opts: sqlx::postgres::PgConnectOptions = url.parse().expect("url");
        let mut conn = opts.connect().await.expect("open db");
        let mut tx = conn.begin().await.expect("begin");
        for s in statements {
            sqlx::query(sqlx::AssertSqlSafe(*s))
                .execute(&mut *tx)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        sqlx::query("UPDATE branches SET config_version = config_version + 1")
            .execute(&mut *tx)
            .await
            .expect("bump");
        tx.commit().await.expect("commit");
        return;
    }
    let opts: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("url");
    let mut conn = opts
        .busy_timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("open db");
    for s in statements {
        sqlx::query(sqlx::AssertSqlSafe(*s))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    sqlx::query("UPDATE branches SET config_version = config_version + 1")
        .execute(&mut conn)
        .await
        .expect("bump");
}

/// SQL adding windows `from..=to` of branch 1 serving `services`, and one staff user per window
/// (`wstaffN`, password `demo`).
pub fn windows_sql(from: u32, to: u32, services: &[&str]) -> Vec<String> {
    let mut stmts = Vec::new();
    for n in from..=to {
        stmts.push(format!(
            "INSERT INTO windows (branch_id, number, name) VALUES (1, {n}, 'Window {n}')"
        ));
        for (rank, s) in services.iter().enumerate() {
            stmts.push(format!(
                "INSERT INTO window_services (branch_id, window_number, service_code, rank, weight) VALUES (1, {n}, '{s}', {rank}, 1.0)"
            ));
        }
        stmts.push(format!(
            "INSERT INTO users (branch_id, username, password_hash, role, created_at) \
             SELECT 1, 'wstaff{n}', password_hash, 'staff', 0 FROM users WHERE username = 'staff1'"
        ));
    }
    stmts
}

/// The demo kiosk as the store sees it.
pub fn kiosk_principal() -> qhall_server::store::Principal {
    qhall_server::store::Principal {
        role: qhall_server::store::Role::Kiosk,
        branch_id: 1,
        user_id: None,
        device_id: Some(1),
        username: None,
    }
}

/// Demo user `name` (staff or manager of the demo branch) as the store sees them.
pub async fn user_principal(
    store: &qhall_server::store::Store,
    name: &str,
) -> qhall_server::store::Principal {
    let u = store.user_by_name(name).await.unwrap().expect("demo user");
    qhall_server::store::Principal {
        role: u.role,
        branch_id: 1,
        user_id: Some(u.id),
        device_id: None,
        username: Some(u.username),
    }
}

/// An RFC 3339 instant, for injected clocks.
pub fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("RFC 3339")
        .with_timezone(&chrono::Utc)
}

/// A real server in this process.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub addr: SocketAddr,
    pub database_url: String,
    pub client: reqwest::Client,
    dir: tempfile::TempDir,
    /// The PostgreSQL database, when the app runs on one it created.
    _pg: Option<PgDatabase>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    /// Changes to the server's configuration ([`TestApp::spawn_configured`]).
    configure: Option<Configure>,
}

/// A change to the test server's configuration.
pub type Configure = std::sync::Arc<dyn Fn(&mut qhall_server::Config) + Send + Sync>;

impl TestApp {
    /// A demo hall on a fresh SQLite file with its configuration changed by `configure`
    /// (timeouts, TLS, …), reached with `client` (e.g. one trusting a test CA). The URL is
    /// `https://` when `configure` sets a certificate.
    pub async fn spawn_configured(
        configure: impl Fn(&mut qhall_server::Config) + Send + Sync + 'static,
        client: Option<reqwest::Client>,
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = format!("sqlite://{}", dir.path().join("qhall.db").display());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let configure: Configure = std::sync::Arc::new(configure);
        let mut probe = qhall_server::Config::default();
        configure(&mut probe);
        let scheme = if probe.tls_cert.is_some() {
            "https"
        } else {
            "http"
        };
        let mut app = TestApp::unstarted(listener.local_addr().expect("addr"), dir, database_url);
        app.url = format!("{scheme}://{}", app.addr);
        if let Some(c) = client {
            app.client = c;
        }
        app.configure = Some(configure);
        app.start(listener);
        app.wait_healthy().await;
        app
    }

    /// A demo hall on a free port with a fresh database: SQLite, or PostgreSQL when
    /// `QHALL_TEST_BACKEND=postgres` (and one is reachable).
    pub async fn spawn() -> TestApp {
        if std::env::var("QHALL_TEST_BACKEND").is_ok_and(|b| b == "postgres")
            && let Some(db) = pg_database().await
        {
            let url = db.url.clone();
            let mut app = TestApp::spawn_on(url).await;
            app._pg = Some(db);
            return app;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = format!("sqlite://{}", dir.path().join("qhall.db").display());
        TestApp::spawn_with(dir, database_url).await
    }

    /// A demo hall on a fresh SQLite file whatever `QHALL_TEST_BACKEND` says, for tests that
    /// open the database file themselves.
    pub async fn spawn_sqlite() -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = format!("sqlite://{}", dir.path().join("qhall.db").display());
        TestApp::spawn_with(dir, database_url).await
    }

    /// A demo hall on a free port on the database at `database_url` (either backend).
    pub async fn spawn_on(database_url: String) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        TestApp::spawn_with(dir, database_url).await
    }

    async fn spawn_with(dir: tempfile::TempDir, database_url: String) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut app = TestApp::unstarted(addr, dir, database_url);
        app.start(listener);
        app.wait_healthy().await;
        app
    }

    fn unstarted(addr: SocketAddr, dir: tempfile::TempDir, database_url: String) -> TestApp {
        TestApp {
            url: format!("http://{addr}"),
            addr,
            database_url,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            dir,
            _pg: None,
            stop: None,
            task: None,
            configure: None,
        }
    }

    fn config(&self) -> qhall_server::Config {
        let mut config = qhall_server::Config {
            listen: self.addr.to_string(),
            database_url: self.database_url.clone(),
            demo: true,
            issue_limit: TEST_ISSUE_LIMIT,
            ..Default::default()
        };
        if let Some(configure) = &self.configure {
            configure(&mut config);
        }
        config
    }

    fn start(&mut self, listener: tokio::net::TcpListener) {
        let (tx, rx) = oneshot::channel::<()>();
        let config = self.config();
        self.stop = Some(tx);
        self.task = Some(tokio::spawn(qhall_server::run(
            config,
            listener,
            async move {
                let _ = rx.await;
            },
        )));
    }

    async fn wait_healthy(&self) {
        for _ in 0..500 {
            if let Ok(r) = self
                .client
                .get(format!("{}/healthz", self.url))
                .send()
                .await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("server at {} never became healthy", self.url);
    }

    /// Stops the server gracefully (its database stays).
    pub async fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            match tokio::time::timeout(Duration::from_secs(20), task).await {
                Ok(Ok(Ok(()))) => {}
                other => panic!("server did not stop cleanly: {other:?}"),
            }
        }
    }

    /// Stops and starts again on the same address and database.
    pub async fn restart(&mut self) {
        self.stop().await;
        let mut listener = None;
        for _ in 0..100 {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        self.start(listener.expect("rebind the same port"));
        self.wait_healthy().await;
    }

    /// Runs SQL directly on the server's database (for setting up halls larger than the demo
    /// before the configuration API exists), then makes the server reload its configuration.
    pub async fn sql(&self, statements: &[&str]) {
        run_sql(&self.database_url, statements).await;
    }

    /// Adds windows `from..=to` serving `services` and one staff user per window (`wstaffN`,
    /// password `demo`).
    pub async fn add_windows(&self, from: u32, to: u32, services: &[&str]) {
        let stmts = windows_sql(from, to, services);
        let refs: Vec<&str> = stmts.iter().map(String::as_str).collect();
        self.sql(&refs).await;
    }

    /// The temporary directory holding the database.
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    pub fn ws_url(&self, token: &str, since: Option<u64>) -> String {
        let scheme = if self.url.starts_with("https") {
            "wss"
        } else {
            "ws"
        };
        let mut u = format!("{scheme}://{}/api/v1/events?token={token}", self.addr);
        if let Some(s) = since {
            u.push_str(&format!("&since={s}"));
        }
        u
    }

    /// A request with an optional bearer token.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut r = self.client.request(method, format!("{}{path}", self.url));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        self.request(reqwest::Method::GET, path, token)
            .send()
            .await
            .expect("GET")
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> reqwest::Response {
        self.request(reqwest::Method::POST, path, token)
            .json(&body)
            .send()
            .await
            .expect("POST")
    }

    /// Logs in a demo user (password `demo`) and returns the bearer token.
    pub async fn login(&self, user: &str) -> String {
        let r = self
            .post(
                "/api/v1/login",
                None,
                serde_json::json!({"username": user, "password": "demo"}),
            )
            .await;
        assert_eq!(r.status(), 200, "login {user}");
        r.json::<Value>().await.expect("json")["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// Issues a ticket as the demo kiosk.
    pub async fn issue(&self, service: &str) -> IssuedTicket {
        let r = self
            .post(
                "/api/v1/tickets",
                Some(KIOSK),
                serde_json::json!({"service": service}),
            )
            .await;
        assert_eq!(r.status(), 201, "issue {service}");
        r.json().await.expect("ticket json")
    }

    /// Signs `token`'s user in to window `n`.
    pub async fn sign_in(&self, n: u32, token: &str) {
        let r = self
            .post(
                &format!("/api/v1/windows/{n}/sign-in"),
                Some(token),
                serde_json::json!({}),
            )
            .await;
        assert!(r.status().is_success(), "sign in to {n}: {}", r.status());
    }

    /// A window action; returns the raw response.
    pub async fn window(&self, n: u32, action: &str, token: &str) -> reqwest::Response {
        self.post(
            &format!("/api/v1/windows/{n}/{action}"),
            Some(token),
            serde_json::json!({}),
        )
        .await
    }

    /// A window action with the window given as raw text (for invalid numbers).
    pub async fn window_raw(&self, n: &str, action: &str, token: &str) -> reqwest::Response {
        self.post(
            &format!("/api/v1/windows/{n}/{action}"),
            Some(token),
            serde_json::json!({}),
        )
        .await
    }

    /// Call-next: the ticket, or `None` on 204.
    pub async fn call_next(&self, n: u32, token: &str) -> Option<TicketView> {
        let r = self.window(n, "call-next", token).await;
        match r.status().as_u16() {
            200 => Some(r.json::<WindowTicket>().await.expect("ticket").ticket),
            204 => None,
            s => panic!(
                "call-next on {n}: {s} {}",
                r.text().await.unwrap_or_default()
            ),
        }
    }

    /// A display client on the event stream.
    pub async fn display(&self, since: Option<u64>) -> EventClient {
        EventClient::connect(&self.ws_url(DISPLAY, since))
            .await
            .expect("connect display")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A WebSocket client of the event stream (tokio-tungstenite, as the display uses).
pub struct EventClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Every message received so far, in order.
    pub received: Vec<Value>,
}

impl EventClient {
    pub async fn connect(url: &str) -> anyhow::Result<EventClient> {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .context("websocket connect")?;
        Ok(EventClient {
            ws,
            received: Vec::new(),
        })
    }

    /// A `wss://` client trusting `tls` (e.g. [`tls::TestCa::rustls_client`]).
    pub async fn connect_tls(
        url: &str,
        tls: std::sync::Arc<rustls::ClientConfig>,
    ) -> anyhow::Result<EventClient> {
        let (ws, _) = tokio_tungstenite::connect_async_tls_with_config(
            url,
            None,
            false,
            Some(tokio_tungstenite::Connector::Rustls(tls)),
        )
        .await
        .context("websocket connect")?;
        Ok(EventClient {
            ws,
            received: Vec::new(),
        })
    }

    /// The next JSON message, within `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .context("no message in time")?;
            match msg {
                Some(Ok(tungstenite::Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t)?;
                    // Every message must also parse as the shared type.
                    serde_json::from_value::<Message>(v.clone())
                        .with_context(|| format!("not a protocol message: {v}"))?;
                    self.received.push(v.clone());
                    return Ok(v);
                }
                Some(Ok(tungstenite::Message::Ping(p))) => {
                    self.ws.send(tungstenite::Message::Pong(p)).await?;
                }
                Some(Ok(tungstenite::Message::Close(_))) | None => bail!("stream closed"),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
            }
        }
    }

    /// Reads until a message of `kind` (e.g. "called") arrives.
    pub async fn wait_for(&mut self, kind: &str, timeout: Duration) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let v = self
                .next(left)
                .await
                .with_context(|| format!("waiting for {kind}"))?;
            if v["type"] == kind {
                return Ok(v);
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// The built `qhall-server` binary, run as its own process (for `kill -9`).
pub struct ServerProcess {
    pub url: String,
    child: Child,
}

impl ServerProcess {
    /// The binary beside this test's own executable (`target/debug/qhall-server`).
    pub fn binary() -> PathBuf {
        if let Ok(p) = std::env::var("QHALL_SERVER_BIN") {
            return p.into();
        }
        // Where cargo puts the final binaries (which need not be where the test executable was
        // built, when `build.build-dir` is set apart from the target directory).
        if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
            let p = PathBuf::from(dir).join("debug").join("qhall-server");
            if p.exists() {
                return p;
            }
        }
        let exe = std::env::current_exe().expect("current exe");
        let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
        dir.join("qhall-server")
    }

    /// Starts `qhall-server --demo --listen 127.0.0.1:0 --database URL` (with
    /// [`TEST_ISSUE_LIMIT`]) and waits for its `listening on` line.
    pub fn start(database_url: &str) -> anyhow::Result<ServerProcess> {
        let limit = TEST_ISSUE_LIMIT.to_string();
        Self::start_with(database_url, &["--issue-limit", &limit])
    }

    /// As [`ServerProcess::start`] with `args` added and every other setting at its default.
    pub fn start_with(database_url: &str, args: &[&str]) -> anyhow::Result<ServerProcess> {
        use std::io::{BufRead, BufReader};
        let bin = Self::binary();
        if !bin.exists() {
            bail!(
                "{} is not built (cargo build -p qhall-server)",
                bin.display()
            );
        }
        let mut child = Command::new(&bin)
            .args([
                "--demo",
                "--listen",
                "127.0.0.1:0",
                "--database",
                database_url,
            ])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("spawn qhall-server")?;
        let out = child.stdout.take().context("stdout")?;
        let mut lines = BufReader::new(out).lines();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.by_ref().map_while(Result::ok) {
                if let Some(u) = line.strip_prefix("listening on ") {
                    let _ = tx.send(u.trim().to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .context("no 'listening on' line")?;
        Ok(ServerProcess { url, child })
    }

    /// The server's process id (to read its `/proc/PID/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// SQL (SQLite) writing a week of the demo hall straight into the database: `per_day` tickets a
/// day for the last 7 UTC days (09:00–17:00 Beijing time), 90 % served, 5 % no-shows, 5 %
/// cancelled, at windows 1–4 by staff1–4; waits grow through the day, so mornings meet the
/// target and afternoons do not. For the manager pages' tests and screenshots.
pub fn busy_week_sql(per_day: u64) -> String {
    let today = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    format!(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last}), \
         g AS MATERIALIZED (SELECT i, char(65 + abs(random()) % 4) AS svc, \
               abs(random()) % 28800000 AS o, \
               120000 + abs(random()) % 600000 AS service, \
               abs(random()) % 100 AS fate, 1 + abs(random()) % 4 AS win FROM n), \
         h AS MATERIALIZED (SELECT *, {today} - (i / {per_day}) * 86400000 + 3600000 + o AS issued, \
               abs(random()) % (120000 + o / 10) AS wait FROM g) \
         INSERT INTO tickets (id, branch_id, service_code, issued_service, number, number_seq, day, priority, status, \
             issued_at, queue_at, window_number, staff_user_id, first_called_at, last_called_at, serving_at, done_at, \
             estimate_ahead, estimate_secs) \
         SELECT hex(randomblob(16)), 1, svc, svc, svc || printf('%03d', i % 999 + 1), i % 999 + 1, \
             date((issued + 28800000) / 1000, 'unixepoch'), 0, \
             CASE WHEN fate < 90 THEN 'done' WHEN fate < 95 THEN 'no_show' ELSE 'cancelled' END, \
             issued, issued, \
             CASE WHEN fate < 95 THEN win END, CASE WHEN fate < 95 THEN win + 1 END, \
             CASE WHEN fate < 95 THEN issued + wait END, CASE WHEN fate < 95 THEN issued + wait END, \
             CASE WHEN fate < 90 THEN issued + wait + 30000 END, \
             CASE WHEN fate < 90 THEN issued + wait + 30000 + service WHEN fate < 95 THEN issued + wait + 180000 ELSE issued + 600000 END, \
             wait / 360000, max(0, wait / 1000 + abs(random()) % 600 - 300) FROM h",
        last = per_day * 7 - 1,
    )
}

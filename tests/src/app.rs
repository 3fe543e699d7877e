//! [`TestApp`]: the real server (`qhall_server::run`) started in this process on `127.0.0.1:0`
//! with a fresh database, and typed helpers that drive it as kiosks, boards, staff and managers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use qhall_shared::api::{IssuedTicket, TicketView, WindowTicket};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::events::EventClient;
use crate::fixtures::{DISPLAY, KIOSK, windows_sql};
use crate::postgres::{PgDatabase, pg_database};
use crate::sql::run_sql;

/// Tickets per minute the test servers let a kiosk issue: far above the default, for tests
/// that issue thousands a second (the limit itself is tested with the default).
pub const TEST_ISSUE_LIMIT: u32 = 10_000_000;

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

/// A configuration change for [`TestApp::spawn_with_config`]: messages to customers are
/// sent to the log, numbers masked (the `log` transport).
pub fn log_messages(c: &mut qhall_server::Config) {
    c.messages = qhall_server::notify::Settings {
        transport: qhall_server::notify::Transport::Log,
        retry_base: Duration::from_millis(100),
    };
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

    /// A demo hall on a fresh database of the backend `QHALL_TEST_BACKEND` names (as
    /// [`TestApp::spawn`]), with its configuration changed by `configure`.
    pub async fn spawn_with_config(
        configure: impl Fn(&mut qhall_server::Config) + Send + Sync + 'static,
    ) -> TestApp {
        let configure: Configure = std::sync::Arc::new(configure);
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, pg) = match std::env::var("QHALL_TEST_BACKEND") {
            Ok(b) if b == "postgres" => match pg_database().await {
                Some(db) => (db.url.clone(), Some(db)),
                None => (
                    format!("sqlite://{}", dir.path().join("qhall.db").display()),
                    None,
                ),
            },
            _ => (
                format!("sqlite://{}", dir.path().join("qhall.db").display()),
                None,
            ),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let mut app = TestApp::unstarted(listener.local_addr().expect("addr"), dir, database_url);
        app._pg = pg;
        app.configure = Some(configure);
        app.start(listener);
        app.wait_healthy().await;
        app
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

    /// Waits until the server answers `/healthz` (a fresh PostgreSQL database is migrated and
    /// seeded first, which on a loaded 2-core machine has taken more than 5 s).
    async fn wait_healthy(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
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
    pub async fn sql(&self, statements: &[impl AsRef<str>]) {
        run_sql(&self.database_url, statements).await;
    }

    /// Adds windows `from..=to` serving `services` and one staff user per window (`wstaffN`,
    /// password `demo`).
    pub async fn add_windows(&self, from: u32, to: u32, services: &[&str]) {
        self.sql(&windows_sql(from, to, services)).await;
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

    /// The values of the `/metrics` lines that start with each of `series` (name and labels,
    /// then a space), from one read with `token` (a manager's or an admin's).
    pub async fn metrics(&self, token: &str, series: &[&str]) -> Vec<u64> {
        let text = self
            .get("/metrics", Some(token))
            .await
            .text()
            .await
            .expect("metrics");
        series
            .iter()
            .map(|name| {
                text.lines()
                    .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
                    .unwrap_or_else(|| panic!("{name} in /metrics:\n{text}"))
            })
            .collect()
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> reqwest::Response {
        self.request(reqwest::Method::POST, path, token)
            .json(&body)
            .send()
            .await
            .expect("POST")
    }

    /// Sends `body` as JSON with `method`; returns the status and the JSON answer (null when
    /// there is none).
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (u16, Value) {
        let r = self
            .request(method, path, token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// The bookable slots of `service` on `day` (`GET /api/v1/appointments/slots`).
    pub async fn slots(&self, service: &str, day: chrono::NaiveDate) -> Vec<Value> {
        let v: Value = self
            .get(
                &format!("/api/v1/appointments/slots?service={service}&day={day}"),
                None,
            )
            .await
            .json()
            .await
            .expect("slots");
        v.as_array().cloned().unwrap_or_default()
    }

    /// The start of the first slot of `service` still bookable, today or tomorrow in the demo
    /// hall's zone (it is open around the clock, so there always is one).
    pub async fn first_slot_ahead(&self, service: &str) -> String {
        let today = chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive();
        for day in [today, today + chrono::Duration::days(1)] {
            if let Some(s) = self.slots(service, day).await.first() {
                return s["start"].as_str().expect("a start").to_owned();
            }
        }
        panic!("no slot of {service} today or tomorrow")
    }

    /// Sets service `service`'s appointment settings as `manager` (issue #12), which must be
    /// accepted.
    pub async fn set_appointments(&self, manager: &str, service: &str, settings: Value) {
        let (s, v) = self
            .send_json(
                reqwest::Method::PUT,
                &format!("/api/v1/config/services/{service}/appointments"),
                Some(manager),
                settings,
            )
            .await;
        assert_eq!(s, 200, "{v}");
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

/// Any call with an optional JSON body: the status and the answer.
pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = app.request(method, path, Some(token));
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json::<Value>().await.unwrap_or(Value::Null))
}

/// The id of account `name`, as `manager` lists the accounts.
pub async fn user_id(app: &TestApp, manager: &str, name: &str) -> i64 {
    let (_, users) = call(app, reqwest::Method::GET, "/api/v1/users", manager, None).await;
    users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == name)
        .unwrap_or_else(|| panic!("no {name} in {users}"))["id"]
        .as_i64()
        .unwrap()
}

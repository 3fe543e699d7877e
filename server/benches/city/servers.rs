//! The database the city runs on and the `qhall-server` processes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, ensure};

use crate::Settings;
use crate::seed::{ADMIN, ADMIN_PASSWORD};

/// The database the city runs on: a fresh one (dropped on drop unless kept) or the one given.
pub(crate) struct Database {
    pub(crate) url: String,
    pub(crate) name: String,
    /// Where to connect to drop it; `None` for a database we did not create.
    pub(crate) admin: Option<String>,
    pub(crate) keep: bool,
}

impl Database {
    pub(crate) async fn create(s: &Settings) -> anyhow::Result<Database> {
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

pub(crate) async fn postgres_version(url: &str) -> anyhow::Result<String> {
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
pub(crate) fn add_admin(bin: &str, url: &str, dir: &Path) -> anyhow::Result<()> {
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
pub(crate) struct Server {
    pub(crate) url: String,
    pub(crate) pid: u32,
    pub(crate) child: Child,
}

impl Server {
    pub(crate) fn start(bin: &str, url: &str, dir: &Path, i: usize) -> anyhow::Result<Server> {
        let log = std::fs::File::create(dir.join(format!("server-{i}.log")))?;
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0", "--database", url])
            .args(["--issue-limit", "1000000", "--log", "warn"])
            // Every board and kiosk connects from 127.0.0.1.
            .args(["--max-connections-per-address", "100000"])
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

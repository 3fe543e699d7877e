//! Configuration: defaults → `qhall.toml` (or `--config FILE`) → `QHALL_*` environment →
//! command-line flags, each layer overriding the one before. Secrets (database passwords) are
//! never printed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;

use crate::queue::policy::Policy;

/// The hall server: tickets, windows, wait statistics, the event stream and the web pages.
#[derive(Debug, Parser)]
#[command(name = "qhall-server", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub opts: Opts,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options of the server itself (also read by the administration commands).
#[derive(Debug, Clone, Default, Args)]
pub struct Opts {
    /// Seed a demo hall into an empty database (services A–D, windows 1–4) with demo
    /// credentials: devices `demo-kiosk`, `demo-display`; users `manager`, `staff1`…`staff4`,
    /// password `demo`. Never use on a real hall.
    #[arg(long, global = true)]
    pub demo: bool,
    /// Address to listen on; port 0 picks a free one. [default: 127.0.0.1:8080]
    #[arg(long, env = "QHALL_LISTEN", global = true, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Database URL: `sqlite://PATH` (the default, `sqlite://qhall.db`) or `postgres://…`.
    #[arg(
        long = "database",
        env = "QHALL_DATABASE_URL",
        global = true,
        value_name = "URL"
    )]
    pub database_url: Option<String>,
    /// Configuration file. [default: ./qhall.toml if it exists]
    #[arg(long, env = "QHALL_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The address customers' phones reach this server at, for tracking links on tickets.
    /// [default: http://LISTEN]
    #[arg(long, env = "QHALL_PUBLIC_URL", global = true, value_name = "URL")]
    pub public_url: Option<String>,
    /// What a commit survives: `process` (a crash of the server; SQLite synchronous=NORMAL,
    /// PostgreSQL synchronous_commit=off) or `power` (a power cut too; synchronous=FULL,
    /// synchronous_commit=on; slower). [default: process]
    #[arg(long, env = "QHALL_DURABILITY", global = true)]
    pub durability: Option<Durability>,
    /// PostgreSQL: connections this server keeps open. A branch's writes queue on its row
    /// lock, so more connections than the cores of both machines help only with many
    /// branches; several servers share PostgreSQL's `max_connections` (100 by default).
    /// [default: 10]
    #[arg(long, env = "QHALL_PG_CONNECTIONS", global = true, value_name = "N")]
    pub pg_connections: Option<u32>,
    /// Assignment policy for call-next: balanced (default), fifo, primary, target-ratio.
    #[arg(long, env = "QHALL_POLICY", value_name = "NAME")]
    pub policy: Option<String>,
    /// Time zone of the first branch of a fresh (non-demo) database. [default: Asia/Shanghai]
    #[arg(long, env = "QHALL_TIME_ZONE", global = true, value_name = "IANA")]
    pub time_zone: Option<String>,
    /// Log filter, e.g. `info` or `qhall_server=debug`. [default: info]
    #[arg(long, env = "QHALL_LOG", global = true, value_name = "FILTER")]
    pub log: Option<String>,
    /// Also serve `/metrics` without a token on this address, for a monitoring system on a
    /// network of its own (on the main address `/metrics` takes a manager's token). [default: off]
    #[arg(long, env = "QHALL_METRICS_LISTEN", value_name = "ADDR:PORT")]
    pub metrics_listen: Option<String>,
    /// Folder for the daily backup of a SQLite database (off when unset).
    #[arg(long, env = "QHALL_BACKUP_DIR", global = true, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// How many daily backups to keep in --backup-dir. [default: 7]
    #[arg(long, env = "QHALL_BACKUP_KEEP", global = true, value_name = "N")]
    pub backup_keep: Option<usize>,
    /// Serve https with this certificate chain (PEM, leaf first); needs --tls-key.
    #[arg(long, env = "QHALL_TLS_CERT", global = true, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, env = "QHALL_TLS_KEY", global = true, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Reverse proxies whose X-Forwarded-For / Forwarded headers are believed: addresses or
    /// CIDRs, comma-separated. [default: none]
    #[arg(
        long,
        env = "QHALL_TRUSTED_PROXIES",
        global = true,
        value_name = "LIST",
        value_delimiter = ','
    )]
    pub trusted_proxies: Option<Vec<String>>,
    /// Seconds a client has to send a request's headers (and to keep a connection idle).
    /// [default: 10]
    #[arg(
        long,
        env = "QHALL_HEADER_TIMEOUT_SECS",
        global = true,
        value_name = "SECS"
    )]
    pub header_timeout_secs: Option<u64>,
    /// Seconds a client has to send a request's whole body. [default: 15]
    #[arg(
        long,
        env = "QHALL_BODY_TIMEOUT_SECS",
        global = true,
        value_name = "SECS"
    )]
    pub body_timeout_secs: Option<u64>,
    /// Seconds a client may leave what is sent to it untaken before its connection is closed
    /// (a client that asks and never reads, or a board that stopped reading). [default: 30]
    #[arg(
        long,
        env = "QHALL_SEND_TIMEOUT_SECS",
        global = true,
        value_name = "SECS"
    )]
    pub send_timeout_secs: Option<u64>,
    /// Open connections at most, WebSockets included. [default: 10000, or fewer to fit the
    /// open-file limit]
    #[arg(long, env = "QHALL_MAX_CONNECTIONS", global = true, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Open connections one client address may hold at most (an IPv6 address counts as its
    /// /64); trusted proxies are not counted. [default: 1000]
    #[arg(
        long,
        env = "QHALL_MAX_CONNECTIONS_PER_ADDRESS",
        global = true,
        value_name = "N"
    )]
    pub max_connections_per_address: Option<usize>,
    /// Tickets one kiosk (or manager) may issue per minute, and at once after a quiet minute;
    /// more are refused with 429. [default: 30]
    #[arg(long, env = "QHALL_ISSUE_LIMIT", global = true, value_name = "N")]
    pub issue_limit: Option<u32>,
    /// Bookings one client address may make per minute (the public booking page and API);
    /// more are refused with 429. [default: 10]
    #[arg(long, env = "QHALL_BOOKING_LIMIT", global = true, value_name = "N")]
    pub booking_limit: Option<u32>,
    /// How messages to customers ("your turn is near", "please go to window 3") leave: `off`,
    /// `log` (written to the log with the number masked, for trying it out) or `webhook` (the
    /// hall's SMS gateway, --sms-webhook). [default: webhook when --sms-webhook is set, else
    /// log with --demo, else off]
    #[arg(
        long,
        env = "QHALL_MESSAGES",
        global = true,
        value_name = "off|log|webhook"
    )]
    pub messages: Option<String>,
    /// The SMS gateway's URL: each message is POSTed there (body and headers in qhall.toml's
    /// `sms_body` and `[sms_headers]`).
    #[arg(long, env = "QHALL_SMS_WEBHOOK", global = true, value_name = "URL")]
    pub sms_webhook: Option<String>,
    /// The key of the HMAC-SHA256 signature of each webhook body (header `X-Qhall-Signature`).
    /// Prefer the environment variable: a flag shows in the process list.
    #[arg(
        long,
        env = "QHALL_SMS_SECRET",
        global = true,
        value_name = "KEY",
        hide_env_values = true
    )]
    pub sms_secret: Option<String>,
    /// Milliseconds before the first retry of a message the gateway refused; each retry waits
    /// twice as long, up to 10 minutes. [default: 5000]
    #[arg(long, env = "QHALL_MESSAGE_RETRY_MS", global = true, value_name = "MS")]
    pub message_retry_ms: Option<u64>,
}

/// What a commit survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    Process,
    Power,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Copy a hall, with its whole history, from SQLite into an empty PostgreSQL database.
    MigrateData(MigrateDataArgs),
    /// Manage people.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage kiosks and boards.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Manage branches (halls sharing this database).
    #[command(subcommand)]
    Branch(BranchCommand),
    /// Simulate a hall (see SIMULATION.md).
    Simulate(crate::sim::SimulateArgs),
    /// Write a consistent copy of the SQLite database to FILE, while the server runs.
    Backup(FileArg),
    /// Replace the SQLite database with the backup FILE (stop the server first).
    Restore(FileArg),
    /// Check the SQLite database's integrity and say what to do about it.
    Check,
}

/// A command's one file.
#[derive(Debug, Args)]
pub struct FileArg {
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `migrate-data --from sqlite://… --to postgres://…`.
#[derive(Debug, Args)]
pub struct MigrateDataArgs {
    /// The SQLite database to copy (stop its server first).
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The empty PostgreSQL database to copy into (created tables are migrated first).
    #[arg(long, value_name = "URL")]
    pub to: String,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person. The password is read from QHALL_PASSWORD or standard input.
    Add {
        username: String,
        /// staff, manager or admin.
        #[arg(long, default_value = "staff")]
        role: String,
        /// The branch the person belongs to (admins: none).
        #[arg(long, default_value_t = 1)]
        branch: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum BranchCommand {
    /// Add a branch and print its id. NAME is its Simplified Chinese name.
    Add {
        name: String,
        /// Its IANA time zone, e.g. Asia/Shanghai.
        #[arg(long)]
        timezone: String,
        /// Its name in Traditional Chinese.
        #[arg(long, default_value = "")]
        name_zh_hant: String,
        /// Its name in English.
        #[arg(long, default_value = "")]
        name_en: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Add a kiosk, display or rating pad and print its token (shown once, stored only as a hash).
    Add {
        name: String,
        /// kiosk, display or pad.
        #[arg(long)]
        role: String,
        #[arg(long, default_value_t = 1)]
        branch: i64,
        /// The window a pad rates (pads only).
        #[arg(long)]
        window: Option<u32>,
    },
}

/// The `qhall.toml` file: the same settings as the flags.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    pub durability: Option<Durability>,
    pub pg_connections: Option<u32>,
    pub policy: Option<String>,
    pub time_zone: Option<String>,
    pub log: Option<String>,
    pub demo: Option<bool>,
    pub metrics_listen: Option<String>,
    pub backup_dir: Option<PathBuf>,
    pub backup_keep: Option<usize>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub trusted_proxies: Option<Vec<String>>,
    pub header_timeout_secs: Option<u64>,
    pub body_timeout_secs: Option<u64>,
    pub send_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
    pub max_connections_per_address: Option<usize>,
    pub issue_limit: Option<u32>,
    pub booking_limit: Option<u32>,
    pub messages: Option<String>,
    pub sms_webhook: Option<String>,
    pub sms_secret: Option<String>,
    /// Extra headers sent with each webhook request (`Authorization = "Bearer …"`).
    pub sms_headers: Option<std::collections::BTreeMap<String, String>>,
    /// The webhook body with `{to}`, `{text}`, `{id}`, `{kind}`, `{lang}` replaced (JSON-escaped).
    pub sms_body: Option<String>,
    pub message_retry_ms: Option<u64>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub database_url: String,
    pub public_url: Option<String>,
    pub demo: bool,
    pub power_safe: bool,
    /// PostgreSQL's pool size.
    pub pg_connections: u32,
    pub policy: Policy,
    pub time_zone: String,
    pub log: String,
    /// A second address serving only `/metrics`, without a token.
    pub metrics_listen: Option<String>,
    /// The daily backup, when a folder is set.
    pub backup: Option<crate::store::backup::schedule::Schedule>,
    /// https: the certificate chain and key (PEM); both or neither.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Peers whose forwarded-for headers are believed ([`crate::http::client`]).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// See [`crate::serve::Limits`].
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    /// How long a write to a client may make no progress before the connection is closed.
    pub send_timeout: Duration,
    pub max_connections: usize,
    /// Open connections per client address (see [`crate::serve`]).
    pub max_connections_per_address: usize,
    /// Tickets per minute per kiosk token (see [`DEFAULT_ISSUE_LIMIT`]).
    pub issue_limit: u32,
    /// Bookings per minute per client address.
    pub booking_limit: u32,
    /// How messages to customers leave ([`crate::notify`]).
    pub messages: crate::notify::Settings,
}

/// Tickets per minute a kiosk may issue: one every 2 s, sustained, where a person at a touch
/// screen takes one every several seconds at most. It stops a stolen or runaway token from
/// flooding the hall, never a real kiosk.
pub const DEFAULT_ISSUE_LIMIT: u32 = 30;

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://qhall.db".into(),
            public_url: None,
            demo: false,
            power_safe: false,
            pg_connections: crate::store::postgres::DEFAULT_CONNECTIONS,
            policy: Policy::Default,
            time_zone: "Asia/Shanghai".into(),
            log: "info".into(),
            metrics_listen: None,
            backup: None,
            tls_cert: None,
            tls_key: None,
            trusted_proxies: Vec::new(),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(15),
            send_timeout: Duration::from_secs(30),
            max_connections: crate::serve::limits::DEFAULT_MAX_CONNECTIONS,
            max_connections_per_address: crate::serve::limits::DEFAULT_MAX_PER_ADDRESS,
            issue_limit: DEFAULT_ISSUE_LIMIT,
            booking_limit: 10,
            messages: crate::notify::Settings::default(),
        }
    }
}

impl Config {
    /// Layers the file (if any) and the flags/environment over the defaults.
    pub fn resolve(opts: &Opts) -> anyhow::Result<Config> {
        let file = match &opts.config {
            Some(p) => read_file(p)?,
            None if Path::new("qhall.toml").exists() => read_file(Path::new("qhall.toml"))?,
            None => FileConfig::default(),
        };
        let mut c = Config::default();
        if let Some(v) = opts.listen.clone().or(file.listen) {
            c.listen = v;
        }
        if let Some(v) = opts.database_url.clone().or(file.database_url) {
            c.database_url = normalize_sqlite_url(&v);
        }
        c.public_url = opts
            .public_url
            .clone()
            .or(file.public_url)
            .map(|u| u.trim_end_matches('/').to_owned());
        c.demo = opts.demo || file.demo.unwrap_or(false);
        c.power_safe = opts.durability.or(file.durability) == Some(Durability::Power);
        if let Some(n) = opts.pg_connections.or(file.pg_connections) {
            anyhow::ensure!(
                (1..=1000).contains(&n),
                "pg_connections is 1 to 1000, not {n}"
            );
            c.pg_connections = n;
        }
        if let Some(name) = opts.policy.clone().or(file.policy) {
            c.policy = Policy::from_name(&name)
                .ok_or_else(|| anyhow::anyhow!("unknown policy {name:?}"))?;
        }
        if let Some(tz) = opts.time_zone.clone().or(file.time_zone) {
            tz.parse::<chrono_tz::Tz>()
                .map_err(|_| anyhow::anyhow!("unknown time zone {tz:?}"))?;
            c.time_zone = tz;
        }
        if let Some(l) = opts.log.clone().or(file.log) {
            c.log = l;
        }
        c.metrics_listen = opts.metrics_listen.clone().or(file.metrics_listen);
        let keep = opts.backup_keep.or(file.backup_keep).unwrap_or(7);
        if keep == 0 {
            anyhow::bail!("backup_keep must be at least 1");
        }
        c.backup = opts
            .backup_dir
            .clone()
            .or(file.backup_dir)
            .map(|dir| crate::store::backup::schedule::Schedule { dir, keep });
        c.tls_cert = opts.tls_cert.clone().or(file.tls_cert);
        c.tls_key = opts.tls_key.clone().or(file.tls_key);
        if let Some(list) = opts.trusted_proxies.clone().or(file.trusted_proxies) {
            c.trusted_proxies = list
                .iter()
                .filter(|s| !s.trim().is_empty())
                .map(|s| parse_net(s))
                .collect::<anyhow::Result<_>>()?;
        }
        if let Some(s) = opts.header_timeout_secs.or(file.header_timeout_secs) {
            c.header_timeout = positive_secs("header_timeout_secs", s)?;
        }
        if let Some(s) = opts.body_timeout_secs.or(file.body_timeout_secs) {
            c.body_timeout = positive_secs("body_timeout_secs", s)?;
        }
        if let Some(s) = opts.send_timeout_secs.or(file.send_timeout_secs) {
            c.send_timeout = positive_secs("send_timeout_secs", s)?;
        }
        if let Some(n) = opts.max_connections.or(file.max_connections) {
            anyhow::ensure!(n > 0, "max_connections must be at least 1");
            c.max_connections = n;
        }
        if let Some(n) = opts
            .max_connections_per_address
            .or(file.max_connections_per_address)
        {
            anyhow::ensure!(n > 0, "max_connections_per_address must be at least 1");
            c.max_connections_per_address = n;
        }
        if let Some(n) = opts.issue_limit.or(file.issue_limit) {
            if n == 0 {
                anyhow::bail!("issue_limit is tickets per minute per kiosk: at least 1");
            }
            c.issue_limit = n;
        }
        if let Some(n) = opts.booking_limit.or(file.booking_limit) {
            anyhow::ensure!(
                n > 0,
                "booking_limit is bookings per minute per address: at least 1"
            );
            c.booking_limit = n;
        }
        c.messages = crate::notify::Settings::resolve(
            opts.messages.clone().or(file.messages).as_deref(),
            opts.sms_webhook.clone().or(file.sms_webhook),
            opts.sms_secret.clone().or(file.sms_secret),
            file.sms_headers.unwrap_or_default(),
            file.sms_body,
            opts.message_retry_ms.or(file.message_retry_ms),
            c.demo,
        )?;
        Ok(c)
    }
}

/// An address (`10.0.0.7`, `::1`) or a network (`10.0.0.0/8`).
fn parse_net(s: &str) -> anyhow::Result<ipnet::IpNet> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| anyhow::anyhow!("trusted_proxies: {s:?} is not an address or CIDR"))
}

fn positive_secs(name: &str, secs: u64) -> anyhow::Result<Duration> {
    anyhow::ensure!(secs > 0, "{name} must be at least 1");
    Ok(Duration::from_secs(secs))
}

fn read_file(p: &Path) -> anyhow::Result<FileConfig> {
    let text =
        std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("reading {}: {e}", p.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
}

/// Accepts `sqlite:PATH`, `sqlite://PATH` and a bare path ending in `.db`.
fn normalize_sqlite_url(url: &str) -> String {
    if url.contains("://") || url.starts_with("sqlite:") {
        url.to_owned()
    } else {
        format!("sqlite://{url}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_and_the_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("q.toml");
        std::fs::write(
            &f,
            "listen = \"0.0.0.0:9000\"\ndatabase_url = \"sqlite:///tmp/x.db\"\npolicy = \"fifo\"\n",
        )
        .unwrap();
        let opts = Opts {
            config: Some(f.clone()),
            listen: Some("127.0.0.1:0".into()),
            ..Default::default()
        };
        let c = Config::resolve(&opts).unwrap();
        assert_eq!(c.listen, "127.0.0.1:0");
        assert_eq!(c.database_url, "sqlite:///tmp/x.db");
        assert_eq!(c.policy, Policy::Fifo);
        assert!(!c.demo);
        assert_eq!(c.header_timeout, Duration::from_secs(10));
        assert!(c.trusted_proxies.is_empty());
        assert_eq!(c.issue_limit, DEFAULT_ISSUE_LIMIT);
        std::fs::write(&f, "issue_limit = 600\n").unwrap();
        let from_file = Opts {
            config: Some(f.clone()),
            ..Default::default()
        };
        assert_eq!(Config::resolve(&from_file).unwrap().issue_limit, 600);
        std::fs::write(&f, "issue_limit = 0\n").unwrap();
        assert!(Config::resolve(&from_file).is_err());
    }

    #[test]
    fn tls_timeouts_and_trusted_proxies_are_read_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("q.toml");
        std::fs::write(
            &f,
            "tls_cert = \"/etc/qhall/cert.pem\"\ntls_key = \"/etc/qhall/key.pem\"\n\
             trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\"]\n\
             header_timeout_secs = 2\nbody_timeout_secs = 3\nsend_timeout_secs = 4\n\
             max_connections = 100\n\
             max_connections_per_address = 20\n",
        )
        .unwrap();
        let c = Config::resolve(&Opts {
            config: Some(f.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.tls_cert, Some(PathBuf::from("/etc/qhall/cert.pem")));
        assert_eq!(c.tls_key, Some(PathBuf::from("/etc/qhall/key.pem")));
        assert_eq!(c.trusted_proxies.len(), 3);
        assert!(c.trusted_proxies[1].contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
        assert_eq!(c.header_timeout, Duration::from_secs(2));
        assert_eq!(c.body_timeout, Duration::from_secs(3));
        assert_eq!(c.send_timeout, Duration::from_secs(4));
        assert_eq!(c.max_connections, 100);
        assert_eq!(c.max_connections_per_address, 20);
        std::fs::write(&f, "trusted_proxies = [\"nginx\"]\n").unwrap();
        assert!(
            Config::resolve(&Opts {
                config: Some(f.clone()),
                ..Default::default()
            })
            .is_err()
        );
        std::fs::write(&f, "header_timeout_secs = 0\n").unwrap();
        assert!(
            Config::resolve(&Opts {
                config: Some(f),
                ..Default::default()
            })
            .is_err()
        );
    }

    #[test]
    fn unknown_settings_are_errors_not_silently_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("q.toml");
        std::fs::write(&f, "lisen = \"x\"\n").unwrap();
        assert!(
            Config::resolve(&Opts {
                config: Some(f),
                ..Default::default()
            })
            .is_err()
        );
        let bad_tz = Opts {
            time_zone: Some("Mars/Base".into()),
            ..Default::default()
        };
        assert!(Config::resolve(&bad_tz).is_err());
    }

    /// `deploy/qhall.toml`, the example a hall's IT copies to /etc/qhall, is read by this very
    /// code: a renamed or removed setting breaks this test instead of a hall's first start.
    #[test]
    fn the_example_deploy_file_is_a_valid_configuration() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/qhall.toml");
        let c = Config::resolve(&Opts {
            config: Some(example),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.database_url, "sqlite:///var/lib/qhall/qhall.db");
        assert_eq!(c.public_url.as_deref(), Some("https://queue.example.org"));
        assert!(!c.demo, "the example must never seed demo passwords");
    }
}

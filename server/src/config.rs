//! Configuration: defaults → `qhall.toml` (or `--config FILE`) → `QHALL_*` environment →
//! command-line flags, each layer overriding the one before. Secrets (database passwords) are
//! never printed.

use std::path::{Path, PathBuf};

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
    /// Assignment policy for call-next: balanced (default), fifo, primary, target-ratio.
    #[arg(long, env = "QHALL_POLICY", value_name = "NAME")]
    pub policy: Option<String>,
    /// Time zone of the first branch of a fresh (non-demo) database. [default: Asia/Shanghai]
    #[arg(long, env = "QHALL_TIME_ZONE", global = true, value_name = "IANA")]
    pub time_zone: Option<String>,
    /// Log filter, e.g. `info` or `qhall_server=debug`. [default: info]
    #[arg(long, env = "QHALL_LOG", global = true, value_name = "FILTER")]
    pub log: Option<String>,
    /// Tickets one kiosk (or manager) may issue per minute, and at once after a quiet minute;
    /// more are refused with 429. [default: 30]
    #[arg(long, env = "QHALL_ISSUE_LIMIT", global = true, value_name = "N")]
    pub issue_limit: Option<u32>,
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
    /// Simulate a hall (see SIMULATION.md).
    Simulate(crate::sim::SimulateArgs),
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
pub enum DeviceCommand {
    /// Add a kiosk or display and print its token (shown once, stored only as a hash).
    Add {
        name: String,
        /// kiosk or display.
        #[arg(long)]
        role: String,
        #[arg(long, default_value_t = 1)]
        branch: i64,
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
    pub policy: Option<String>,
    pub time_zone: Option<String>,
    pub log: Option<String>,
    pub demo: Option<bool>,
    pub issue_limit: Option<u32>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub database_url: String,
    pub public_url: Option<String>,
    pub demo: bool,
    pub power_safe: bool,
    pub policy: Policy,
    pub time_zone: String,
    pub log: String,
    /// Tickets per minute per kiosk token (see [`DEFAULT_ISSUE_LIMIT`]).
    pub issue_limit: u32,
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
            policy: Policy::Default,
            time_zone: "Asia/Shanghai".into(),
            log: "info".into(),
            issue_limit: DEFAULT_ISSUE_LIMIT,
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
        if let Some(n) = opts.issue_limit.or(file.issue_limit) {
            if n == 0 {
                anyhow::bail!("issue_limit is tickets per minute per kiosk: at least 1");
            }
            c.issue_limit = n;
        }
        Ok(c)
    }
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
}

//! The SQLite backend: one file, WAL journal, one writer connection and a pool of readers.
//!
//! Writes are serialized by the single writer connection (SQLite allows one writer at a time
//! anyway; queueing in the pool is cheaper than retrying on `SQLITE_BUSY`). Readers see a
//! consistent snapshot through WAL. `synchronous = NORMAL` makes every commit survive a crash of
//! the process (`kill -9`); `durability = "power"` (FULL) also survives power loss, at about a
//! fifth of the write rate (TOOLCHAIN.md).

mod read;
mod tx;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::{BranchConfig, Result};

pub use tx::SqliteTx;

/// Configuration per branch, reloaded when the branch's `config_version` moves.
pub(crate) type ConfigCache = Mutex<HashMap<i64, Arc<BranchConfig>>>;

/// A SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    cache: Arc<ConfigCache>,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `url` (`sqlite://path`).
    pub async fn open(url: &str, power_safe: bool) -> anyhow::Result<Self> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if power_safe { SqliteSynchronous::Full } else { SqliteSynchronous::Normal })
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-32000");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.read_only(true))
            .await?;
        Ok(SqliteStore { writer, reader, cache: Arc::default() })
    }

    /// Starts a write transaction. The writer pool has one connection, so this waits for any
    /// other writer to commit: transactions never interleave.
    pub async fn begin(&self) -> Result<SqliteTx<'_>> {
        let tx = self.writer.begin().await?;
        Ok(SqliteTx::new(tx, &self.cache))
    }

    /// Starts a read transaction on a consistent snapshot.
    pub async fn begin_read(&self) -> Result<SqliteTx<'_>> {
        let tx: Transaction<'static, Sqlite> = self.reader.begin().await?;
        Ok(SqliteTx::new(tx, &self.cache))
    }

    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// Milliseconds since the epoch: how times are stored.
pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v).single().unwrap_or_default()
}

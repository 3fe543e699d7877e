//! The SQLite backend: one file, WAL journal, one writer thread and a few reader connections.
//!
//! All writes go through one thread that owns the write connection ([`writer`]). It takes every
//! operation queued at that moment and runs them in one transaction, each inside its own
//! savepoint (group commit): an operation that fails is rolled back alone, the others commit
//! together, and only then are their answers sent and their stream events published — in commit
//! order, which is seq order. One writer also means two windows can never take the same ticket.
//!
//! Statements are synchronous rusqlite calls, prepared once per connection: a round trip
//! through an async driver costs more than the statement itself. sqlx runs the migrations (the
//! same numbered files the PostgreSQL backend's layout mirrors).
//!
//! `synchronous = NORMAL` makes every commit survive a crash of the process (`kill -9`);
//! `durability = "power"` (FULL) also survives power loss, at a fraction of the write rate.

mod checkpoint;
pub(crate) mod report;
mod tx;
mod writer;

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::{Result, StoreError};
use crate::events::Hub;
use crate::hall::Outbox;

pub use tx::SqliteTx;
pub(crate) use tx::run_now;

pub(crate) use crate::store::tx::ConfigCache;

/// How many reader connections are kept open.
const READERS: usize = 4;

/// A SQLite database.
#[derive(Clone)]
pub struct SqliteStore {
    path: String,
    writer: writer::Writer,
    readers: Arc<Mutex<Vec<Connection>>>,
    cache: Arc<ConfigCache>,
    /// When a write last failed for lack of storage, and why ([`crate::store::health`]).
    storage_failure: Arc<Mutex<Option<StorageFailure>>>,
}

/// When a write failed for lack of storage, its error code and message.
type StorageFailure = (Instant, &'static str, String);

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn configure(conn: &Connection, power_safe: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch(if power_safe {
        "PRAGMA synchronous = FULL;"
    } else {
        "PRAGMA synchronous = NORMAL;"
    })?;
    // Checkpoints run on their own thread ([`checkpoint`]), never inside a commit.
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32000; \
         PRAGMA wal_autocheckpoint = 0;",
    )?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `url` (`sqlite://path`).
    pub async fn open(url: &str, power_safe: bool, hub: Arc<Hub>) -> anyhow::Result<Self> {
        Self::open_with_wal_bound(url, power_safe, hub, checkpoint::RESTART_FRAMES).await
    }

    /// [`SqliteStore::open`] with the WAL restarted past `wal_frames` pages.
    pub(crate) async fn open_with_wal_bound(
        url: &str,
        power_safe: bool,
        hub: Arc<Hub>,
        wal_frames: i64,
    ) -> anyhow::Result<Self> {
        let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let path = opts.get_filename().to_string_lossy().into_owned();
        {
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts)
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            pool.close().await;
        }
        let cache: Arc<ConfigCache> = Arc::default();
        let mut readers = Vec::new();
        for _ in 0..READERS {
            readers.push(open_reader(&path)?);
        }
        let readers = Arc::new(Mutex::new(readers));
        let checkpoints = checkpoint::start(&path, Arc::downgrade(&readers), wal_frames)?;
        let write_conn = Connection::open(&path)?;
        configure(&write_conn, power_safe)?;
        // A WAL that grew past twice its bound (a long read held its frames) is cut back when
        // it restarts; within that it is reused as it is (cutting costs more than rewriting).
        write_conn.execute_batch(&format!(
            "PRAGMA journal_size_limit = {};",
            2 * wal_frames * 4096
        ))?;
        let writer = writer::Writer::start(write_conn, cache.clone(), hub, checkpoints)?;
        Ok(SqliteStore {
            path,
            writer,
            readers,
            cache,
            storage_failure: Arc::default(),
        })
    }

    /// Runs `op` in the next write transaction; its stream events are published after commit.
    pub async fn write<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteTx<'_>, &mut Outbox) -> Result<T> + Send + 'static,
    {
        let result = self.writer.run(op).await;
        if let Err(StoreError::Unavailable { code, message }) = &result {
            *self
                .storage_failure
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), code, message.clone()));
        }
        result
    }

    /// The storage failure of a write within the last `window`, if any.
    pub(crate) fn storage_failed_within(&self, window: Duration) -> Option<StoreError> {
        let last = self
            .storage_failure
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match &*last {
            Some((at, code, message)) if at.elapsed() < window => Some(StoreError::Unavailable {
                code,
                message: message.clone(),
            }),
            _ => None,
        }
    }

    /// The database file.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Runs `op` on a reader connection, inside one read transaction (a consistent snapshot).
    pub async fn read<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteTx<'_>) -> Result<T> + Send + 'static,
    {
        let (readers, cache, path) = (self.readers.clone(), self.cache.clone(), self.path.clone());
        tokio::task::spawn_blocking(move || {
            let taken = readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let conn = match taken {
                Some(c) => c,
                None => open_reader(&path)?,
            };
            conn.execute_batch("BEGIN")?;
            let result = op(&mut SqliteTx {
                conn: &conn,
                cache: &cache,
            });
            let _ = conn.execute_batch("COMMIT");
            let mut pool = readers.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < READERS {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Other(anyhow::anyhow!("reader task failed: {e}")))?
    }

    /// Runs `script` (several statements) in one transaction if the database has no branch yet;
    /// returns whether it did.
    pub async fn seed_if_empty(&self, script: &str) -> Result<bool> {
        let script = script.to_owned();
        self.write(move |tx, _| {
            if tx
                .conn
                .query_row("SELECT COUNT(*) FROM branches", [], |r| r.get::<_, i64>(0))?
                > 0
            {
                return Ok(false);
            }
            tx.conn.execute_batch(&script)?;
            Ok(true)
        })
        .await
    }

    /// Runs SQL statements in one write transaction (administration and tests).
    pub async fn execute_batch(&self, sql: &str) -> Result<()> {
        let sql = sql.to_owned();
        self.write(move |tx, _| Ok(tx.conn.execute_batch(&sql)?))
            .await
    }

    pub async fn close(&self) {
        self.writer.flush().await;
    }
}

/// A read-only connection. It reads pages with `read()`, not through a memory map: with a map,
/// a disk that fails to read a page (or a file changed under it) raises SIGBUS and kills the
/// whole server, where `read()` returns an error the request answers 503
/// (`storage_unavailable`). The map used to be chosen for speed, but measured on this machine
/// (a covering-index walk over 700,000 rows, 60 MB file, seven runs each, load average ~3) it
/// bought nothing beyond noise: 130–148 ms mapped, 119–193 ms with `read()` and a 32 MB cache,
/// 115–172 ms with the default cache — the pages come from the kernel's cache either way.
/// Each reader keeps a 32 MB private cache, like the writer.
fn open_reader(path: &str) -> rusqlite::Result<Connection> {
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    c.busy_timeout(Duration::from_secs(10))?;
    c.execute_batch(READER_PRAGMAS)?;
    Ok(c)
}

/// Settings of every reader connection: no memory map, a 32 MB page cache.
const READER_PRAGMAS: &str = "PRAGMA mmap_size = 0; PRAGMA cache_size = -32000;";

pub(crate) use crate::store::sql::{from_ms, ms};

//! The checkpointer: copies committed pages from the WAL back into the database file, on a
//! thread of its own with its own connection, never inside a commit.
//!
//! SQLite's automatic checkpoint runs inside whichever commit crosses 1,000 WAL pages and
//! stalls every operation grouped into it. A checkpoint on another thread in PASSIVE mode
//! neither waits for nor blocks the writer or a reader — but it still syncs the WAL and then
//! the database file, and while the kernel flushes those the writer's appends to the WAL can
//! stall behind it. How long depends on how much was written since the last checkpoint, so
//! checkpoints are kept small: one runs [`GATHER`] after a commit (so a busy moment's commits
//! share one), and an idle hall's server does none at all.
//!
//! Measured with the throughput bench at 5,000 issues/s offered (open loop, after the flat-out
//! phase; 2 cores): a checkpoint every 500 ms gave p99 20–44 ms, every 200 ms 18 ms, 100 ms
//! 6–9 ms, 50 ms 4.8 ms, 20 ms 2.3–6 ms, 5 ms 3.3 ms with a higher median.
//!
//! SQLite starts the WAL again from its beginning only when a write finds every frame copied;
//! under a steady stream of commits a checkpoint on another thread never gets there (commits
//! land while it copies), and the WAL grew by 150 MB a second in the bench. A hall has quiet
//! moments, but a busy one must not fill the disk either: once the WAL passes
//! [`RESTART_FRAMES`], the checkpointer asks the writer to run one checkpoint itself between two
//! batches — 2–9 ms, since the checkpointer has copied nearly everything already — after which
//! its next commit starts the WAL from the beginning. The bound is large because each of those
//! pauses shows in the p99 (same bench, 10 s a phase: bound 64 MiB p99 6–9 ms, 256 MiB 4–8 ms,
//! 512 MiB 4.1–4.5 ms, 1 GiB 3.9 ms, none 2.1 ms), and the WAL file is never cut shorter than
//! twice the bound: cutting it back to 128 MiB after each restart cost 40 ms a time.

use std::sync::Arc;
use std::sync::Weak;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::Thread;
use std::time::Duration;

use rusqlite::Connection;

/// How long after a commit the checkpoint runs.
const GATHER: Duration = Duration::from_millis(20);

/// WAL frames (pages) past which the writer is asked to checkpoint, so the WAL restarts: 512 MiB
/// of 4 KiB pages.
pub(crate) const RESTART_FRAMES: i64 = 131_072;

/// How often an idle checkpointer wakes to see whether the store is still open.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// The writer's side of the checkpointer.
pub(crate) struct Checkpoints {
    thread: Thread,
    committed: Arc<AtomicBool>,
    restart: Arc<AtomicBool>,
}

impl Checkpoints {
    /// Called after every commit; cheap (an atomic store and, if the thread sleeps, a wake-up).
    pub(crate) fn committed(&self) {
        if !self.committed.swap(true, Ordering::AcqRel) {
            self.thread.unpark();
        }
    }

    /// Called by the writer between batches: if the WAL has grown past its bound,
    /// checkpoints on the writer's own connection (outside any transaction), so that nothing is
    /// written meanwhile and the next commit can restart the WAL.
    pub(crate) fn restart_if_asked(&self, conn: &Connection) {
        if !self.restart.swap(false, Ordering::AcqRel) {
            return;
        }
        match passive(conn) {
            // Another checkpoint was running, or a reader still needs old frames: next batch.
            Ok((busy, log, copied)) if busy != 0 || copied < log => {
                self.restart.store(true, Ordering::Release);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint in the writer failed"),
        }
    }
}

/// A PASSIVE checkpoint: (busy, frames in the WAL, frames copied).
fn passive(conn: &Connection) -> rusqlite::Result<(i64, i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
}

/// Starts the checkpointer for the database at `path`, asking the writer to restart the WAL
/// past `restart_frames` ([`RESTART_FRAMES`] but in tests). It ends once `alive` has no strong
/// handle left (the store was dropped).
pub(crate) fn start<T: Send + Sync + 'static>(
    path: &str,
    alive: Weak<T>,
    restart_frames: i64,
) -> std::io::Result<Checkpoints> {
    let conn = Connection::open(path).map_err(std::io::Error::other)?;
    let _ = conn.busy_timeout(Duration::from_millis(100));
    let committed = Arc::new(AtomicBool::new(false));
    let restart = Arc::new(AtomicBool::new(false));
    let (pending, grown) = (committed.clone(), restart.clone());
    let handle = std::thread::Builder::new()
        .name("qhall-checkpoint".into())
        .spawn(move || {
            while alive.strong_count() > 0 {
                std::thread::park_timeout(IDLE_CHECK);
                if !pending.swap(false, Ordering::AcqRel) {
                    continue;
                }
                std::thread::sleep(GATHER);
                match passive(&conn) {
                    Ok((_, log, _)) if log > restart_frames => grown.store(true, Ordering::Release),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "WAL checkpoint failed; retrying after the next commit");
                    }
                }
            }
        })?;
    Ok(Checkpoints {
        thread: handle.thread().clone(),
        committed,
        restart,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::events::Hub;
    use crate::store::sqlite::SqliteStore;

    /// The WAL bound in this test: 16 MiB, so the test writes 160 MiB rather than gigabytes.
    const FRAMES: i64 = 4_096;

    /// A steady stream of commits (each awaited, none more than microseconds apart, so a
    /// checkpoint on the other thread never finds every frame copied) writes 160 MiB; the WAL
    /// must stay near its bound instead of growing by all of it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_stays_bounded_under_a_steady_stream_of_commits() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("steady.db");
        let url = format!("sqlite://{}", db.display());
        let store = SqliteStore::open_with_wal_bound(&url, false, Arc::new(Hub::default()), FRAMES)
            .await
            .unwrap();
        store
            .execute_batch("CREATE TABLE filler (id INTEGER PRIMARY KEY, b BLOB)")
            .await
            .unwrap();
        let wal = dir.path().join("steady.db-wal");
        let mut largest = 0;
        for i in 0..640 {
            // 256 KiB a commit, overwriting the same 16 rows so the database itself stays small.
            let sql = format!(
                "INSERT OR REPLACE INTO filler (id, b) VALUES ({}, randomblob(262144))",
                i % 16
            );
            store.execute_batch(&sql).await.unwrap();
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
        // The checkpointer sees the size only after its gather delay and its own checkpoint, and
        // on a busy machine (the whole test suite on two cores) commits go on meanwhile: 2.6×
        // the restart size has been seen. Without the restart the WAL takes all 160 MiB.
        let bound = 4 * FRAMES as u64 * 4096;
        assert!(
            largest < bound,
            "the WAL grew to {largest} bytes under a steady stream (bound {bound})"
        );
        // It did grow past the restart size, so the bound was what held it.
        assert!(
            largest > FRAMES as u64 * 4096,
            "only {largest} bytes written"
        );
    }
}

//! The writer thread: group commit with one savepoint per operation.
//!
//! An operation that fails is rolled back to its savepoint alone. But on some errors — a full
//! disk (`SQLITE_FULL`), an I/O error — SQLite rolls back the *whole* transaction by itself
//! and returns to autocommit: the operations before it in the batch are undone, and statements
//! run after it would each commit on their own. So after every operation the writer checks
//! that its transaction is still open; if SQLite ended it, every operation run so far in the
//! batch is answered with the storage error (nothing of theirs was committed), and the
//! operations not yet run start again in a fresh transaction. Each caller's answer matches
//! what was committed.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::checkpoint::Checkpoints;
use super::{ConfigCache, SqliteTx};
use crate::events::Hub;
use crate::hall::Outbox;
use crate::store::{Result, StoreError};

/// The most operations committed together.
const MAX_BATCH: usize = 256;

/// One queued operation.
trait Job: Send {
    /// Runs the operation; `false` if it failed (its savepoint is rolled back).
    fn run(&mut self, tx: &mut SqliteTx<'_>) -> bool;
    /// The stream messages to publish once committed.
    fn messages(&mut self) -> Vec<(i64, u64, String)>;
    /// The operation's own error, if it ran and failed.
    fn error(&self) -> Option<&StoreError>;
    /// Sends the answer; `failed` when the whole transaction was not committed.
    fn finish(self: Box<Self>, failed: Option<StoreError>);
}

struct OpJob<T, F> {
    op: Option<F>,
    out: Outbox,
    result: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for OpJob<T, F>
where
    T: Send,
    F: FnOnce(&mut SqliteTx<'_>, &mut Outbox) -> Result<T> + Send,
{
    fn run(&mut self, tx: &mut SqliteTx<'_>) -> bool {
        let Some(op) = self.op.take() else {
            return false;
        };
        let out = &mut self.out;
        let result = catch_unwind(AssertUnwindSafe(|| op(tx, out))).unwrap_or_else(|_| {
            Err(StoreError::Other(anyhow::anyhow!(
                "a write operation panicked"
            )))
        });
        let ok = result.is_ok();
        if !ok {
            self.out.messages.clear();
        }
        self.result = Some(result);
        ok
    }

    fn messages(&mut self) -> Vec<(i64, u64, String)> {
        std::mem::take(&mut self.out.messages)
    }

    fn error(&self) -> Option<&StoreError> {
        self.result.as_ref().and_then(|r| r.as_ref().err())
    }

    fn finish(self: Box<Self>, failed: Option<StoreError>) {
        let result = match (failed, self.result) {
            (Some(e), Some(Ok(_))) => Err(e),
            (_, Some(r)) => r,
            (Some(e), None) => Err(e),
            (None, None) => Err(StoreError::Other(anyhow::anyhow!("operation did not run"))),
        };
        let _ = self.reply.send(result);
    }
}

/// A handle to the writer thread.
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    pub(crate) fn start(
        conn: Connection,
        cache: Arc<ConfigCache>,
        hub: Arc<Hub>,
        checkpoints: Checkpoints,
    ) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>();
        // The thread ends when the last handle is dropped and the queue is empty.
        std::thread::Builder::new()
            .name("qhall-sqlite-writer".into())
            .spawn(move || run(&conn, &cache, &hub, &checkpoints, &rx))?;
        Ok(Writer { jobs: tx })
    }

    pub(crate) async fn run<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteTx<'_>, &mut Outbox) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = OpJob {
            op: Some(op),
            out: Outbox::default(),
            result: None,
            reply,
        };
        self.jobs
            .send(Box::new(job))
            .map_err(|_| StoreError::Other(anyhow::anyhow!("the database writer has stopped")))?;
        answer.await.map_err(|_| {
            StoreError::Other(anyhow::anyhow!("the database writer dropped an operation"))
        })?
    }

    /// Waits until every operation queued so far is committed.
    pub(crate) async fn flush(&self) {
        let _ = self.run(|_, _| Ok(())).await;
    }
}

fn run(
    conn: &Connection,
    cache: &ConfigCache,
    hub: &Hub,
    checkpoints: &Checkpoints,
    rx: &mpsc::Receiver<Box<dyn Job>>,
) {
    // Operations received but not run yet (after an aborted transaction, the rest of its batch).
    let mut queue: VecDeque<Box<dyn Job>> = VecDeque::new();
    loop {
        if queue.is_empty() {
            match rx.recv() {
                Ok(first) => queue.push_back(first),
                Err(_) => break,
            }
        }
        while queue.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => queue.push_back(j),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            queue.drain(..).for_each(|j| j.finish(Some(failure(&e))));
            continue;
        }
        let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(queue.len());
        let mut aborted = false;
        while let Some(mut job) = queue.pop_front() {
            let mut tx = SqliteTx { conn, cache };
            let ok = conn.execute_batch("SAVEPOINT op").is_ok() && job.run(&mut tx);
            if conn.is_autocommit() {
                // SQLite rolled the whole transaction back: nothing of this batch is committed.
                batch.push(job);
                aborted = true;
                break;
            }
            let end = if ok {
                "RELEASE op"
            } else {
                "ROLLBACK TO op; RELEASE op"
            };
            if let Err(e) = conn.execute_batch(end) {
                tracing::error!(error = %e, "savepoint handling failed");
            }
            if !ok {
                // A rolled-back operation may have cached configuration it never committed.
                cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
            }
            batch.push(job);
        }
        if aborted {
            let cause = batch
                .last()
                .and_then(|j| j.error())
                .map(ToString::to_string);
            tracing::error!(
                cause = cause.as_deref().unwrap_or("unknown"),
                undone = batch.len(),
                "SQLite rolled back a whole transaction; its operations are answered as failed"
            );
            cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
            let code = match batch.last().and_then(|j| j.error()) {
                Some(StoreError::Unavailable { code, .. }) => *code,
                _ => "storage_unavailable",
            };
            let message = format!(
                "the database rolled back the transaction: {}",
                cause.as_deref().unwrap_or("unknown cause")
            );
            batch.into_iter().for_each(|j| {
                j.finish(Some(StoreError::Unavailable {
                    code,
                    message: message.clone(),
                }));
            });
            continue;
        }
        match conn.execute_batch("COMMIT") {
            Ok(()) => {
                checkpoints.committed();
                let messages: Vec<_> = batch.iter_mut().flat_map(|j| j.messages()).collect();
                hub.publish(messages);
                batch.into_iter().for_each(|j| j.finish(None));
            }
            Err(e) => {
                tracing::error!(error = %e, "commit failed");
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                // The configuration cache may hold rows of the rolled-back transaction.
                cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
                batch.into_iter().for_each(|j| j.finish(Some(failure(&e))));
            }
        }
        checkpoints.restart_if_asked(conn);
    }
}

/// The answer for an operation whose transaction failed with `e`: 503 when the storage failed.
fn failure(e: &rusqlite::Error) -> StoreError {
    crate::store::health::sqlite_unavailable(e)
        .unwrap_or_else(|| StoreError::Other(anyhow::anyhow!("commit failed: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use rusqlite::Connection;

    use super::Writer;
    use crate::events::Hub;
    use crate::store::StoreError;
    use crate::store::sqlite::checkpoint;

    /// SQLite answers `SQLITE_FULL` by rolling back the whole transaction (here: a page limit
    /// instead of a full disk). The operations before the failing one in the same batch are
    /// undone with it, and the one after it must not commit on its own in autocommit mode
    /// while its caller is told it failed: each answer matches what the database holds.
    #[tokio::test]
    async fn a_full_disk_mid_batch_leaves_every_answer_matching_what_was_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB); \
             PRAGMA max_page_count = 20;",
        )
        .unwrap();
        let alive = Arc::new(());
        let checkpoints =
            checkpoint::start(path.to_str().unwrap(), Arc::downgrade(&alive), 1 << 20).unwrap();
        let writer =
            Writer::start(conn, Arc::default(), Arc::new(Hub::default()), checkpoints).unwrap();
        let insert = |id: i64, size: i64| {
            move |tx: &mut crate::store::sqlite::SqliteTx<'_>, _: &mut crate::hall::Outbox| {
                tx.conn
                    .execute("INSERT INTO t VALUES (?1, zeroblob(?2))", (id, size))?;
                Ok(id)
            }
        };
        // The first operation holds the writer, so the next three queue up as one batch.
        let hold = writer.run(|_, _| {
            std::thread::sleep(Duration::from_millis(200));
            Ok(0)
        });
        let (held, a, b, c) = tokio::join!(
            hold,
            async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                writer.run(insert(1, 100)).await
            },
            async {
                tokio::time::sleep(Duration::from_millis(60)).await;
                writer.run(insert(2, 1_000_000)).await
            },
            async {
                tokio::time::sleep(Duration::from_millis(70)).await;
                writer.run(insert(3, 100)).await
            },
        );
        held.unwrap();
        assert!(
            matches!(
                b,
                Err(StoreError::Unavailable {
                    code: "storage_full",
                    ..
                })
            ),
            "{b:?}"
        );
        let check = Connection::open(&path).unwrap();
        for (id, answer) in [(1, &a), (3, &c)] {
            let stored: bool = check
                .query_row("SELECT EXISTS (SELECT 1 FROM t WHERE id = ?1)", [id], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(
                stored,
                answer.is_ok(),
                "operation {id} answered {answer:?} but is {}stored",
                if stored { "" } else { "not " }
            );
            if let Err(e) = answer {
                assert!(matches!(e, StoreError::Unavailable { .. }), "{e:?}");
            }
        }
        // The writer goes on working once there is room again.
        writer
            .run(|tx, _| Ok(tx.conn.execute_batch("PRAGMA max_page_count = 100000")?))
            .await
            .unwrap();
        assert_eq!(writer.run(insert(4, 1_000_000)).await.unwrap(), 4);
    }
}

//! The writer thread: group commit with one savepoint per operation.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::checkpoint::Checkpoints;
use super::{ConfigCache, SqliteTx};
use crate::events::Hub;
use crate::store::ops::Outbox;
use crate::store::{Result, StoreError};

/// The most operations committed together.
const MAX_BATCH: usize = 256;

/// One queued operation.
trait Job: Send {
    /// Runs the operation; `false` if it failed (its savepoint is rolled back).
    fn run(&mut self, tx: &mut SqliteTx<'_>) -> bool;
    /// The stream messages to publish once committed.
    fn messages(&mut self) -> Vec<(i64, u64, String)>;
    /// Sends the answer; `failed` when the whole transaction could not commit.
    fn finish(self: Box<Self>, failed: Option<String>);
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

    fn finish(self: Box<Self>, failed: Option<String>) {
        let result = match (failed, self.result) {
            (Some(e), Some(Ok(_))) => Err(StoreError::Other(anyhow::anyhow!("commit failed: {e}"))),
            (_, Some(r)) => r,
            (_, None) => Err(StoreError::Other(anyhow::anyhow!("operation did not run"))),
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
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let msg = e.to_string();
            batch.into_iter().for_each(|j| j.finish(Some(msg.clone())));
            continue;
        }
        for job in &mut batch {
            let mut tx = SqliteTx { conn, cache };
            let ok = conn.execute_batch("SAVEPOINT op").is_ok() && job.run(&mut tx);
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
                let _ = conn.execute_batch("ROLLBACK");
                // The configuration cache may hold rows of the rolled-back transaction.
                cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
                let msg = e.to_string();
                batch.into_iter().for_each(|j| j.finish(Some(msg.clone())));
            }
        }
        checkpoints.restart_if_asked(conn);
    }
}

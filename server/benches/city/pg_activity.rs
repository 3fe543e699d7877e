//! What the servers' PostgreSQL connections were doing during the load: `pg_stat_activity`
//! sampled every 50 ms (a statement of its own, on a connection of its own).
//!
//! A connection in a transaction is either running a statement (on the CPU, or waiting for a
//! lock — a branch's row, held by another server's transaction — or for the WAL), or `idle in
//! transaction`: PostgreSQL has answered and waits for the server's next statement, its locks
//! held. The shares say where a branch's serialized writes spend their time; the statement
//! shown for an idle connection is the one it last ran.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::watch;

const EVERY: Duration = Duration::from_millis(50);

/// Connection states counted over the samples.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    samples: u64,
    /// Connections seen in a transaction or running a statement, summed over the samples.
    busy: u64,
    /// By kind (running, waiting for a lock, idle in transaction, …).
    kinds: HashMap<String, u64>,
    /// By kind and statement.
    statements: HashMap<(String, String), u64>,
}

/// Samples until `stop` turns true.
pub(crate) async fn sample(
    url: String,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<Activity> {
    use sqlx::{ConnectOptions, Connection};
    let mut c = url
        .parse::<sqlx::postgres::PgConnectOptions>()?
        .connect()
        .await?;
    let mut a = Activity::default();
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        let rows: Vec<(String, Option<String>, Option<String>, String)> = sqlx::query_as(
            "SELECT state, wait_event_type, wait_event, \
             left(regexp_replace(query, '\\s+', ' ', 'g'), 90) \
             FROM pg_stat_activity \
             WHERE datname = current_database() AND backend_type = 'client backend' \
             AND pid <> pg_backend_pid() AND state <> 'idle'",
        )
        .fetch_all(&mut c)
        .await?;
        a.samples += 1;
        for (state, wait_type, wait, query) in rows {
            let kind = match (state.as_str(), wait_type.as_deref()) {
                ("active", None) => "running".to_owned(),
                ("active", Some("Lock")) => {
                    format!("waiting for a lock ({})", wait.unwrap_or_default())
                }
                ("active", Some(t)) => {
                    format!("running, waiting on {t}:{}", wait.unwrap_or_default())
                }
                ("idle in transaction", _) => "idle in transaction (the server's turn)".to_owned(),
                (s, _) => s.to_owned(),
            };
            a.busy += 1;
            *a.kinds.entry(kind.clone()).or_default() += 1;
            *a.statements.entry((kind, query)).or_default() += 1;
        }
    }
    let _ = c.close().await;
    Ok(a)
}

impl Activity {
    pub(crate) fn print(&self, pool: usize) {
        let n = self.samples.max(1) as f64;
        println!(
            "PostgreSQL, the servers' connections ({} samples of pg_stat_activity, 50 ms apart): \
             on average {:.1} of their {pool} pooled connections in a statement or transaction",
            self.samples,
            self.busy as f64 / n
        );
        let mut kinds: Vec<_> = self.kinds.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1));
        for (k, c) in kinds {
            println!("  {:>5.1}  {k}", *c as f64 / n);
        }
        let mut top: Vec<_> = self.statements.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1));
        println!("  the statements most often seen (average connections):");
        for ((k, q), c) in top.into_iter().take(10) {
            println!("  {:>5.1}  {k}: {q}", *c as f64 / n);
        }
    }
}

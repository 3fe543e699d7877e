//! What the servers' PostgreSQL connections were doing during the load: `pg_stat_activity`
//! sampled every 50 ms (a statement of its own, on a connection of its own).
//!
//! A connection in a transaction is either running a statement (on the CPU, or waiting for a
//! lock — a branch's row, held by another server's transaction — or for the WAL), or `idle in
//! transaction`: PostgreSQL has answered and waits for the server's next statement, its locks
//! held. The shares say where a branch's serialized writes spend their time; the statement
//! shown for an idle connection is the one it last ran.
//!
//! Every PostgreSQL process seen is also given a role (a server's pooled connection, a server's
//! listener, a background process, another database), so that [`crate::cpu`]'s per-process
//! CPU can be told apart.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::watch;

use crate::cpu::CpuSample;

const EVERY: Duration = Duration::from_millis(50);

/// pid, in this database, backend type, state, wait event type and name, statement, the
/// sampler itself.
type Row = (
    i32,
    bool,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    bool,
);

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
    /// What each PostgreSQL process seen is.
    roles: HashMap<u32, &'static str>,
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
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT pid, COALESCE(datname = current_database(), false), \
             COALESCE(backend_type, ''), COALESCE(state, ''), wait_event_type, wait_event, \
             left(regexp_replace(COALESCE(query, ''), '\\s+', ' ', 'g'), 90), \
             pid = pg_backend_pid() \
             FROM pg_stat_activity",
        )
        .fetch_all(&mut c)
        .await?;
        a.samples += 1;
        for (pid, ours, backend_type, state, wait_type, wait, query, me) in rows {
            let role = match (backend_type.as_str(), ours, me) {
                (_, _, true) => "this bench's sampler",
                ("client backend", true, _) if query.starts_with("LISTEN") => {
                    "the servers' listeners"
                }
                ("client backend", true, _) => "the servers' pooled connections",
                ("client backend", false, _) => "other databases",
                ("autovacuum worker", ..) => "autovacuum",
                _ => "background (WAL writer, checkpointer, …)",
            };
            if let Ok(pid) = u32::try_from(pid) {
                a.roles.entry(pid).or_insert(role);
            }
            if !ours || me || backend_type != "client backend" || state == "idle" {
                continue;
            }
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
    pub(crate) fn print(&self, pool: usize, cpu: &CpuSample) {
        let mut by_role: HashMap<&str, u64> = HashMap::new();
        for (pid, ticks) in &cpu.postgres_pids {
            let role = self
                .roles
                .get(pid)
                .copied()
                .unwrap_or("not seen (the postmaster, ended)");
            *by_role.entry(role).or_default() += ticks;
        }
        let mut by_role: Vec<_> = by_role.into_iter().filter(|(_, t)| *t > 0).collect();
        by_role.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
        println!(
            "PostgreSQL's CPU (share of all cores) by process: {}",
            by_role
                .iter()
                .map(|(r, t)| format!("{r} {:.1}%", 100.0 * *t as f64 / cpu.total.max(1) as f64))
                .collect::<Vec<_>>()
                .join(", ")
        );
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

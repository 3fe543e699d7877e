//! The PostgreSQL backend: several `qhall-server` processes on one database behave as one hall.
//!
//! - **Writes**: each operation is one transaction on a pooled connection (READ COMMITTED). Its
//!   first step locks the branch's row ([`tx`]), so the branch's writes are serialized across
//!   every server: call-next never gives one ticket to two windows (the status-checked update
//!   and the `FOR UPDATE` row lock), numbers stay unique (also a unique index), and
//!   `branches.event_seq` rises by exactly one per event. A serialization failure or deadlock
//!   is retried.
//! - **Events**: the transaction that writes stream events stores them (`stream_events`); once it
//!   has committed, the server publishes them to its own boards and tells the other servers with
//!   `NOTIFY qhall_events` from a statement of its own, outside the commit's path ([`relay`]).
//!   Every server publishes each branch's events in seq order to its [`Hub`], reading from the
//!   table whatever did not come with a body (and, once a second, whatever no notification
//!   announced): a board connected to any server sees every call, in order, none twice.

mod batch;
mod kept;
mod relay;
mod report;
mod tx;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgPool, Postgres, Transaction};

pub use self::batch::{Answer, Batches, Uncertain};
use super::{Result, StoreError};
use crate::events::Hub;
use crate::hall::issue::IssuePlan;
use crate::store::TicketRow;

pub use tx::PgTx;

pub(crate) use crate::store::tx::ConfigCache;

/// The channel the servers tell each other about committed events on.
pub(crate) const CHANNEL: &str = "qhall_events";

/// The longest event body sent inside its notification (PostgreSQL takes payloads under 8,000
/// bytes); a longer one is read from `stream_events` by the listeners.
pub(crate) const PAYLOAD_BODY_MAX: usize = 7000;

/// `'BRANCH SEQ BODY'`, or `'BRANCH SEQ'` for a body too long to travel with it.
fn notification(branch: i64, seq: i64, body: &str) -> String {
    if body.len() <= PAYLOAD_BODY_MAX {
        format!("{branch} {seq} {body}")
    } else {
        format!("{branch} {seq}")
    }
}

pub use kept::Written;

/// A pooled connection idle this long is pinged before it is used again (a restarted or
/// unreachable PostgreSQL shows there, not in the statement it was taken for).
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Connections a server keeps open unless told otherwise (`--pg-connections`).
pub const DEFAULT_CONNECTIONS: u32 = 10;

/// How often an operation is retried after a serialization failure or deadlock.
const RETRIES: u32 = 5;

/// A PostgreSQL database shared by any number of servers.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    cache: Arc<ConfigCache>,
    relay: Arc<relay::Relay>,
    /// Tickets issued in one statement (`qhall_issue_walk_ins`) since start.
    issued_at_once: Arc<AtomicU64>,
    /// The walk-ins waiting to be issued together.
    batches: Arc<Batches>,
}

/// What the database's settings leave undone that the server's queries count on, one sentence
/// each (logged at start). The planner's statistics come from autovacuum's `ANALYZE`: without
/// them it takes a branch's waiting tickets for one row, and a call's read of the customers to
/// tell their turn is near walks every waiting ticket of the branch (6.7 ms at 4,000 waiting
/// against 0.1 ms once analysed, PostgreSQL 15), as other reads do theirs.
async fn maintenance_warnings(pool: &PgPool) -> Result<Vec<String>> {
    let off: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, setting FROM pg_settings \
         WHERE name IN ('autovacuum', 'track_counts') AND setting <> 'on' ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    Ok(off
        .into_iter()
        .map(|(setting, value)| {
            format!(
                "PostgreSQL has {setting} = {value}: its planner's statistics go stale as \
                 tickets accumulate and calls slow down with the line; turn it on, or run \
                 ANALYZE daily"
            )
        })
        .collect())
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to and migrates the database at `url` (`postgres://…`), and starts listening for
    /// the events every server commits.
    ///
    /// `power_safe: false` (`--durability process`, the default) commits with
    /// `synchronous_commit = off`: the answer waits for PostgreSQL to have the commit, not for
    /// its disk, so the commit survives any crash of a `qhall-server` process, as SQLite's
    /// `process` does; a crash of PostgreSQL itself or of its machine may lose the last fraction
    /// of a second. `power` waits for the disk (and any synchronous replica) too.
    pub async fn open(
        url: &str,
        power_safe: bool,
        connections: u32,
        hub: Arc<Hub>,
    ) -> anyhow::Result<Self> {
        let mut opts = PgConnectOptions::from_str(url)?;
        if !power_safe {
            opts = opts.options([("synchronous_commit", "off")]);
        }
        // The issuing functions leave the notification to this server's relay (migration 0038).
        opts = opts.options([("qhall.notify", "after_commit")]);
        let pool = PgPoolOptions::new()
            // A branch's writes queue on its row lock anyway; a few connections keep every core busy
            // without crowding PostgreSQL's connection limit when many servers share it.
            .max_connections(connections)
            // By default every acquire pings the connection: a round trip before each statement
            // and transaction, one more on a branch's issuing lane between its statements (the
            // lane is what limits one branch: the machine idles a third of the time). Only a
            // connection that has sat idle is checked; one in use since is known to be alive.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_CHECK {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(opts)
            .await?;
        // sqlx takes an advisory lock, so servers starting together migrate once.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        for warning in maintenance_warnings(&pool).await? {
            tracing::warn!("{warning}");
        }
        let relay = relay::Relay::start(url, pool.clone(), hub).await?;
        Ok(PgStore {
            pool,
            cache: Arc::default(),
            relay: Arc::new(relay),
            issued_at_once: Arc::default(),
            batches: Arc::default(),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn cache(&self) -> &ConfigCache {
        &self.cache
    }

    /// Each branch's walk-ins issued together (their statements: [`Batches::statements`]).
    pub fn batches(&self) -> &Batches {
        &self.batches
    }

    /// Issues `plan` with whatever else of its branch is waiting ([`Batches`]); `None`: not
    /// issued, to be issued step by step.
    pub async fn issue_walk_in(&self, plan: &IssuePlan<'_>) -> Answer {
        self.batches.issue(&self.pool, &self.relay, plan).await
    }

    /// Issues `plans` (of any branches) in one statement, in their order (tests); `None`: not
    /// issued, or its branch skipped (held by another transaction).
    pub async fn issue_walk_ins_together(
        &self,
        plans: &[IssuePlan<'_>],
    ) -> sqlx::Result<Vec<Option<TicketRow>>> {
        self.batches
            .issue_together(&self.pool, &self.relay, plans)
            .await
    }

    pub(crate) fn count_issued_at_once(&self) {
        self.issued_at_once.fetch_add(1, Ordering::Relaxed);
    }

    /// Tickets this server issued in one statement (the rest went step by step: the first of
    /// a branch, after a configuration change, or when the database answers with a refusal).
    pub fn issued_at_once(&self) -> u64 {
        self.issued_at_once.load(Ordering::Relaxed)
    }

    /// A write transaction.
    pub async fn begin(&self) -> Result<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// A read-only transaction on one snapshot.
    pub async fn begin_read(&self) -> Result<Transaction<'static, Postgres>> {
        Ok(self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?)
    }

    /// Ends a write operation: on success stores its stream events, the branches' raised seqs
    /// and its kept history lines and window rows (one statement), commits, and hands the
    /// events to the relay (this server's boards, then the other servers); on failure rolls
    /// back.
    pub async fn finish<T>(
        &self,
        mut conn: Transaction<'static, Postgres>,
        written: Written,
        result: Result<T>,
    ) -> Result<T> {
        let value = match result {
            Ok(v) => v,
            Err(e) => {
                let _ = conn.rollback().await;
                return Err(e);
            }
        };
        if !written.is_empty() {
            kept::commit_statement(&written).execute(&mut *conn).await?;
        }
        conn.commit().await?;
        if !written.events.is_empty() {
            self.relay.committed(written.events);
        }
        Ok(value)
    }

    /// Whether `e` is a serialization failure or deadlock, after which the operation may be
    /// run again from the start.
    pub fn retryable(e: &StoreError, attempt: u32) -> bool {
        if attempt >= RETRIES {
            return false;
        }
        let StoreError::Other(e) = e else {
            return false;
        };
        e.downcast_ref::<sqlx::Error>()
            .and_then(|e| e.as_database_error())
            .and_then(|d| d.code())
            .is_some_and(|c| c == "40001" || c == "40P01")
    }

    /// Runs `script` (several statements) in one transaction if the database has no branch yet;
    /// returns whether it did. Servers starting together seed once (an advisory lock).
    pub async fn seed_if_empty(&self, script: &str) -> Result<bool> {
        let mut conn = self.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(7235001)")
            .execute(&mut *conn)
            .await?;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM branches")
            .fetch_one(&mut *conn)
            .await?;
        if n > 0 {
            return Ok(false);
        }
        sqlx::raw_sql(AssertSqlSafe(script.to_owned()))
            .execute(&mut *conn)
            .await?;
        // Keys were given explicitly: move the identities past them.
        sqlx::raw_sql(RESET_IDENTITIES).execute(&mut *conn).await?;
        conn.commit().await?;
        Ok(true)
    }

    /// Runs SQL statements in one transaction (administration and tests).
    pub async fn execute_batch(&self, sql: &str) -> Result<()> {
        let mut conn = self.begin().await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut *conn)
            .await?;
        conn.commit().await?;
        Ok(())
    }

    /// The forecast of `branch` a server shared, if one was computed at or after `since` (ms).
    pub async fn shared_forecast(&self, branch: i64, since: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT body FROM forecasts WHERE branch_id = $1 AND computed_at >= $2",
        )
        .bind(branch)
        .bind(since)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Shares `branch`'s forecast computed at `computed_at` (ms), unless a later one is there.
    pub async fn share_forecast(&self, branch: i64, computed_at: i64, body: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO forecasts (branch_id, computed_at, body) VALUES ($1, $2, $3) \
             ON CONFLICT (branch_id) DO UPDATE SET computed_at = excluded.computed_at, \
             body = excluded.body WHERE forecasts.computed_at < excluded.computed_at",
        )
        .bind(branch)
        .bind(computed_at)
        .bind(body)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.relay.stop();
        self.pool.close().await;
    }
}

/// Moves every identity past the largest key present (after rows were inserted with their
/// keys: the seed, `migrate-data`).
pub(crate) const RESET_IDENTITIES: &str = "\
SELECT setval(pg_get_serial_sequence('branches', 'id'), COALESCE((SELECT MAX(id) FROM branches), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('users', 'id'), COALESCE((SELECT MAX(id) FROM users), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('devices', 'id'), COALESCE((SELECT MAX(id) FROM devices), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('tickets', 'key'), COALESCE((SELECT MAX(key) FROM tickets), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('ticket_events', 'id'), COALESCE((SELECT MAX(id) FROM ticket_events), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('window_log', 'id'), COALESCE((SELECT MAX(id) FROM window_log), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('notices', 'id'), COALESCE((SELECT MAX(id) FROM notices), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('audit_log', 'id'), COALESCE((SELECT MAX(id) FROM audit_log), 0) + 1, false);
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_travels_in_its_notification_unless_it_is_too_long_for_one() {
        assert_eq!(notification(3, 41, "{\"seq\":41}"), "3 41 {\"seq\":41}");
        let long = "x".repeat(PAYLOAD_BODY_MAX + 1);
        assert_eq!(notification(3, 42, &long), "3 42");
        // PostgreSQL refuses a payload of 8,000 bytes or more.
        let longest = "x".repeat(PAYLOAD_BODY_MAX);
        assert!(notification(i64::MAX, i64::MAX, &longest).len() < 8000);
    }
}

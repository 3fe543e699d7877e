//! Walk-ins of one branch issued together: the issues that arrive while one of the branch's is
//! at the database go in the next statement (`qhall_issue_batch_events`,
//! migrations/postgres/0037_issue_batch.sql and 0039_issue_batch_events.sql), one after the
//! other in arrival order, under one lock of the branch and one commit. The statement answers
//! with the tickets and their events, which go to the relay as any write's do.
//!
//! PostgreSQL serializes a branch's writes on its row lock, so its issues ran one at a time anyway;
//! one at a time, a ticket cost ≈ 0.47 ms of the database's time, most of it in opening `tickets`
//! and its indexes for a one-row insert, and in the commit. Sixteen together cost ≈ 0.12 ms each
//! (pgbench). Each branch has a lane: the first issue to find it idle starts a task that takes
//! everything queued (up to [`MAX_BATCH`]), runs it, answers each waiting issue when the statement
//! has committed, and goes on until the queue is empty. So a lone issue goes at once, as before,
//! and under load a branch holds one connection for its issues instead of the pool.
//!
//! An item the statement did not issue (a repeated idempotency key, every number live, another
//! configuration under the lock, or the statement failed and changed nothing) answers `None`:
//! the caller issues it step by step, which gives the answer for it. A statement whose outcome
//! is not known (the connection dropped after sending it, or an answer that cannot be read
//! after the commit) answers [`Uncertain`]: issuing it again could issue it twice, so the
//! request fails instead, and a client retrying with its idempotency key gets the one ticket.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use serde_json::json;
use sqlx::{PgPool, Row};
use tokio::sync::oneshot;

use super::relay::Relay;
use crate::hall::issue::IssuePlan;
use crate::store::TicketRow;
use crate::store::sql::ms;
use crate::store::tx::ticket_from;

/// Items per statement at most (a burst larger than this goes in several).
const MAX_BATCH: usize = 64;

/// Every branch's lane.
#[derive(Default)]
pub struct Batches {
    lanes: Mutex<HashMap<i64, Arc<Lane>>>,
    /// Statements run, for the tests and benches (tickets per statement).
    statements: Arc<AtomicU64>,
}

#[derive(Default)]
struct Lane {
    state: Mutex<LaneState>,
}

#[derive(Default)]
struct LaneState {
    queue: Vec<Waiting>,
    /// A task is taking the queue.
    running: bool,
}

struct Waiting {
    version: i64,
    id: String,
    item: Item,
    reply: oneshot::Sender<Answer>,
}

/// What a walk-in's statement did: issued it, did not (`None`: step by step), or not known.
pub type Answer = Result<Option<TicketRow>, Uncertain>;

/// The statement may have committed: its outcome is not known.
#[derive(Debug, thiserror::Error)]
#[error("issuing together: the statement's outcome is not known ({0})")]
pub struct Uncertain(String);

impl Batches {
    /// Issues `plan` with whatever else of its branch is waiting (see the module's
    /// documentation for what each answer means).
    pub(super) async fn issue(
        &self,
        pool: &PgPool,
        relay: &Arc<Relay>,
        plan: &IssuePlan<'_>,
    ) -> Answer {
        let (reply, answer) = oneshot::channel();
        let waiting = Waiting {
            version: plan.config_version,
            id: plan.id.clone(),
            item: Item::of(plan),
            reply,
        };
        let lane = self
            .lanes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(plan.branch)
            .or_default()
            .clone();
        let start = {
            let mut state = lane.state.lock().unwrap_or_else(|e| e.into_inner());
            state.queue.push(waiting);
            !std::mem::replace(&mut state.running, true)
        };
        if start {
            let statements = self.statements.clone();
            let (pool, relay) = (pool.clone(), relay.clone());
            tokio::spawn(run(lane, pool, relay, plan.branch, statements));
        }
        // A task that ended without answering (it cannot, short of a panic) leaves the issue
        // to be made step by step.
        answer.await.unwrap_or(Ok(None))
    }

    /// Statements run since start.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Issues `plans` (all of one branch) in one statement, in their order: the lane's own
    /// step, for tests that need a batch of a known make-up.
    pub(super) async fn issue_together(
        &self,
        pool: &PgPool,
        relay: &Relay,
        plans: &[IssuePlan<'_>],
    ) -> sqlx::Result<Vec<Option<TicketRow>>> {
        let Some(first) = plans.first() else {
            return Ok(Vec::new());
        };
        let items: Vec<Item> = plans.iter().map(Item::of).collect();
        self.statements.fetch_add(1, Ordering::Relaxed);
        let rows = execute(pool, relay, first.branch, first.config_version, items).await?;
        Ok(plans
            .iter()
            .map(|p| rows.iter().find(|r| r.id == p.id).cloned())
            .collect())
    }
}

/// Takes the lane's queue until it is empty.
async fn run(
    lane: Arc<Lane>,
    pool: PgPool,
    relay: Arc<Relay>,
    branch: i64,
    statements: Arc<AtomicU64>,
) {
    let _unwind = Unwind(lane.clone());
    loop {
        let mut batch = {
            let mut state = lane.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.queue.is_empty() {
                state.running = false;
                return;
            }
            let n = state.queue.len().min(MAX_BATCH);
            state.queue.drain(..n).collect::<Vec<_>>()
        };
        // Items planned with another configuration (a change in between) go in their own.
        let version = batch[0].version;
        let split = batch
            .iter()
            .position(|w| w.version != version)
            .unwrap_or(batch.len());
        let later = batch.split_off(split);
        if !later.is_empty() {
            let mut state = lane.state.lock().unwrap_or_else(|e| e.into_inner());
            state.queue.splice(0..0, later);
        }
        let items = batch
            .iter_mut()
            .map(|w| std::mem::take(&mut w.item))
            .collect();
        statements.fetch_add(1, Ordering::Relaxed);
        let rows = match execute(&pool, &relay, branch, version, items).await {
            Ok(rows) => Ok(rows),
            Err(e) if may_have_committed(&e) => {
                tracing::error!(error = %e, branch, "issuing together: outcome not known");
                Err(Uncertain(e.to_string()))
            }
            Err(e) => {
                tracing::warn!(error = %e, branch, "issuing together failed; step by step instead");
                Ok(Vec::new())
            }
        };
        for w in batch {
            let answer = match &rows {
                Ok(rows) => Ok(rows.iter().find(|r| r.id == w.id).cloned()),
                Err(Uncertain(e)) => Err(Uncertain(e.clone())),
            };
            let _ = w.reply.send(answer);
        }
    }
}

/// Should the task end without emptying the queue (a panic, the runtime shutting down), the
/// lane is left idle and the issues still queued are answered `None` (step by step), so none
/// waits for a task that is gone.
struct Unwind(Arc<Lane>);

impl Drop for Unwind {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.running && !state.queue.is_empty() || std::thread::panicking() {
            state.running = false;
            state.queue.clear();
        }
    }
}

/// Whether a statement that failed with `e` may still have committed. An error PostgreSQL
/// reported aborted it; one from the pool came before it was sent. Anything else — the
/// connection lost while it ran, an answer that could not be read — leaves it unknown.
fn may_have_committed(e: &sqlx::Error) -> bool {
    !matches!(
        e,
        sqlx::Error::Database(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed
    )
}

/// Runs one statement; the events it answers with go to the relay once it has committed.
async fn execute(
    pool: &PgPool,
    relay: &Relay,
    branch: i64,
    version: i64,
    items: Vec<Item>,
) -> sqlx::Result<Vec<TicketRow>> {
    let c = Columns::of(items);
    let rows = sqlx::query(
        "SELECT (b.made_ticket).*, b.made_seq, b.made_body \
         FROM qhall_issue_batch_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                                       $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) b",
    )
    .bind(branch)
    .bind(version)
    .bind(c.scope)
    .bind(c.key)
    .bind(c.code)
    .bind(c.priority)
    .bind(c.day)
    .bind(c.first)
    .bind(c.last)
    .bind(c.width)
    .bind(c.now)
    .bind(c.id)
    .bind(c.device)
    .bind(c.staff)
    .bind(c.forecast)
    .bind(c.forecast_last)
    .bind(c.forecast_extra)
    .bind(c.default_secs)
    .bind(c.recent_since)
    .bind(c.windows)
    .bind(c.serves)
    .bind(c.appointments)
    .bind(c.message)
    .fetch_all(pool)
    .await?;
    let mut tickets = Vec::with_capacity(rows.len());
    let mut events = Vec::with_capacity(rows.len());
    for r in &rows {
        let ticket = ticket_from(r).map_err(|e| sqlx::Error::Decode(e.to_string().into()))?;
        events.push((
            branch,
            r.try_get::<i64, _>("made_seq")?,
            ms(ticket.issued_at),
            r.try_get::<String, _>("made_body")?,
        ));
        tickets.push(ticket);
    }
    if !events.is_empty() {
        relay.committed(events);
    }
    Ok(tickets)
}

/// One walk-in of a statement: the arguments of `qhall_issue` after the version.
#[derive(Default)]
struct Item {
    scope: String,
    key: Option<String>,
    code: String,
    priority: bool,
    day: NaiveDate,
    first: i64,
    last: i64,
    width: i32,
    now: i64,
    id: String,
    device: Option<i64>,
    staff: Option<i64>,
    /// The waits by position (a JSON array), the last one, and what each further adds.
    forecast: Option<(String, f64, f64)>,
    default_secs: f64,
    recent_since: i64,
    /// The windows configured for the service (JSON arrays of their numbers and of what each
    /// serves, comma-separated).
    windows: String,
    serves: String,
    appointments: bool,
    message: String,
}

impl Item {
    fn of(plan: &IssuePlan<'_>) -> Item {
        let (windows, serves): (Vec<i64>, Vec<&str>) =
            plan.windows.iter().map(|(n, s)| (*n, s.as_str())).unzip();
        Item {
            scope: plan.scope.clone(),
            key: plan.key.map(str::to_owned),
            code: plan.service.as_str().to_owned(),
            priority: plan.priority,
            day: plan.day,
            first: i64::from(plan.first),
            last: i64::from(plan.last),
            width: i32::try_from(plan.width).unwrap_or(i32::MAX),
            now: ms(plan.now),
            id: plan.id.clone(),
            device: plan.device,
            staff: plan.staff,
            forecast: plan
                .forecast
                .as_ref()
                .map(|(waits, last, extra)| (json!(waits).to_string(), *last, *extra)),
            default_secs: plan.default_secs,
            recent_since: ms(plan.recent_since),
            windows: json!(windows).to_string(),
            serves: json!(serves).to_string(),
            appointments: plan.appointments,
            message: plan.message.clone(),
        }
    }
}

/// A statement's items, one array per field, as `qhall_issue_batch_events` takes them.
#[derive(Default)]
struct Columns {
    scope: Vec<String>,
    key: Vec<Option<String>>,
    code: Vec<String>,
    priority: Vec<bool>,
    day: Vec<NaiveDate>,
    first: Vec<i64>,
    last: Vec<i64>,
    width: Vec<i32>,
    now: Vec<i64>,
    id: Vec<String>,
    device: Vec<Option<i64>>,
    staff: Vec<Option<i64>>,
    forecast: Vec<Option<String>>,
    forecast_last: Vec<Option<f64>>,
    forecast_extra: Vec<Option<f64>>,
    default_secs: Vec<f64>,
    recent_since: Vec<i64>,
    windows: Vec<String>,
    serves: Vec<String>,
    appointments: Vec<bool>,
    message: Vec<String>,
}

impl Columns {
    fn of(items: Vec<Item>) -> Columns {
        let mut c = Columns::default();
        for i in items {
            c.scope.push(i.scope);
            c.key.push(i.key);
            c.code.push(i.code);
            c.priority.push(i.priority);
            c.day.push(i.day);
            c.first.push(i.first);
            c.last.push(i.last);
            c.width.push(i.width);
            c.now.push(i.now);
            c.id.push(i.id);
            c.device.push(i.device);
            c.staff.push(i.staff);
            let (forecast, last, extra) = match i.forecast {
                Some((waits, last, extra)) => (Some(waits), Some(last), Some(extra)),
                None => (None, None, None),
            };
            c.forecast.push(forecast);
            c.forecast_last.push(last);
            c.forecast_extra.push(extra);
            c.default_secs.push(i.default_secs);
            c.recent_since.push(i.recent_since);
            c.windows.push(i.windows);
            c.serves.push(i.serves);
            c.appointments.push(i.appointments);
            c.message.push(i.message);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_statement_known_to_have_failed_goes_step_by_step() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(may_have_committed(&io));
        assert!(may_have_committed(&sqlx::Error::Decode("bad row".into())));
        assert!(!may_have_committed(&sqlx::Error::PoolTimedOut));
        assert!(!may_have_committed(&sqlx::Error::PoolClosed));
    }
}

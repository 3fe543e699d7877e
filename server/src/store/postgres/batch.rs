//! Walk-ins issued together: the issues that arrive while others are at the database go in the
//! next statement (`qhall_issue_walk_ins`, migrations/postgres/0042_issue_walk_ins_across_branches.sql,
//! after 0037 and 0039), each branch's in arrival order, under one commit. The statement answers
//! with the tickets and their events, which go to the relay as any write's do.
//!
//! PostgreSQL serializes a branch's writes on its row lock, so its issues ran one at a time anyway;
//! one at a time, a ticket cost ≈ 0.47 ms of the database's time, most of it in opening `tickets`
//! and its indexes for a one-row insert, and in the commit. Sixteen together cost ≈ 0.12 ms each
//! (pgbench). In a city the issues that arrive together are of different branches, so one
//! statement takes walk-ins of any branches: it waits for its first item's branch and takes the
//! others only if they are free; a branch it could not take comes back `skipped`, and its
//! walk-ins go first in the next statement.
//!
//! A server runs one such statement at a time (in the city bench two at once made smaller
//! statements, 1.3 walk-ins each against 1.8, and issued less). The first issue to find
//! the lane free starts a task that takes everything queued (up to [`MAX_BATCH`]), runs it,
//! answers each waiting issue when the statement has committed, and goes on until nothing is
//! left. So a lone issue goes at once, and under load the server holds one connection for its
//! walk-ins instead of the pool. The first walk-in's branch is waited for 250 ms at most: a
//! branch held longer (a window's transaction on a server that stopped answering) fails the
//! statement, changing nothing; that branch's walk-ins then go step by step for [`HELD_FOR`],
//! each waiting for the branch in a transaction of its own, and the others go again.
//!
//! An item the statement did not issue (a repeated idempotency key, every number live, another
//! configuration under the lock, or the statement failed and changed nothing) answers `None`:
//! the caller issues it step by step, which gives the answer for it. A statement whose outcome
//! is not known (the connection dropped after sending it, or an answer that cannot be read
//! after the commit) answers [`Uncertain`]: issuing it again could issue it twice, so the
//! request fails instead, and a client retrying with its idempotency key gets the one ticket.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// How long a branch's walk-ins go step by step after a statement waited for its lock in vain
/// (250 ms, the function's own bound): each then waits for the branch in a transaction of its
/// own, and the other branches' walk-ins do not wait behind them.
const HELD_FOR: Duration = Duration::from_secs(5);

/// PostgreSQL's `lock_not_available`: the first branch was held past the statement's bound.
const LOCK_NOT_AVAILABLE: &str = "55P03";

/// The walk-ins waiting and the lane taking them.
#[derive(Default)]
pub struct Batches {
    state: Arc<Mutex<State>>,
    /// Statements run, for the tests and benches (tickets per statement).
    statements: Arc<AtomicU64>,
    /// Walk-ins a statement could not take (their branch held elsewhere) and sent again.
    skipped: Arc<AtomicU64>,
    /// Statements that waited for their first branch in vain.
    held: Arc<AtomicU64>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Waiting>,
    /// The lane's task is running.
    running: bool,
    /// Branches a statement waited for in vain ([`HELD_FOR`]), until when their walk-ins go
    /// step by step.
    held: HashMap<i64, Instant>,
}

struct Waiting {
    item: Item,
    reply: oneshot::Sender<Answer>,
}

/// What a walk-in's statement did: issued it, did not (`None`: step by step), or not known.
pub type Answer = Result<Option<TicketRow>, Uncertain>;

/// The statement may have committed: its outcome is not known.
#[derive(Debug, thiserror::Error)]
#[error("issuing together: the statement's outcome is not known ({0})")]
pub struct Uncertain(String);

/// What a statement answered: the tickets it issued, and the branches it could not take.
struct Made {
    tickets: Vec<TicketRow>,
    skipped: Vec<i64>,
}

impl Batches {
    /// Issues `plan` with whatever else is waiting (see the module's documentation for what
    /// each answer means).
    pub(super) async fn issue(
        &self,
        pool: &PgPool,
        relay: &Arc<Relay>,
        plan: &IssuePlan<'_>,
    ) -> Answer {
        let (reply, answer) = oneshot::channel();
        let waiting = Waiting {
            item: Item::of(plan),
            reply,
        };
        let start = {
            let mut state = lock(&self.state);
            if let Some(until) = state.held.get(&plan.branch) {
                if Instant::now() < *until {
                    return Ok(None);
                }
                state.held.remove(&plan.branch);
            }
            state.queue.push_back(waiting);
            !std::mem::replace(&mut state.running, true)
        };
        if start {
            let lane = Lane {
                state: self.state.clone(),
                statements: self.statements.clone(),
                skipped: self.skipped.clone(),
                held: self.held.clone(),
                pool: pool.clone(),
                relay: relay.clone(),
            };
            tokio::spawn(lane.run());
        }
        // A task that ended without answering (it cannot, short of a panic) leaves the issue
        // to be made step by step.
        answer.await.unwrap_or(Ok(None))
    }

    /// Statements run since start.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Walk-ins sent again since start because a statement could not take their branch.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Statements since start that waited for their first branch in vain (its walk-ins then
    /// went step by step for [`HELD_FOR`]).
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    /// Issues `plans` in one statement, in their order, outside the lane: its step, for tests
    /// that need a statement of a known make-up. A plan whose branch another transaction
    /// holds, other than the first plan's, answers `None` (skipped, and counted in
    /// [`Batches::skipped`]).
    pub(super) async fn issue_together(
        &self,
        pool: &PgPool,
        relay: &Relay,
        plans: &[IssuePlan<'_>],
    ) -> sqlx::Result<Vec<Option<TicketRow>>> {
        if plans.is_empty() {
            return Ok(Vec::new());
        }
        let items: Vec<Item> = plans.iter().map(Item::of).collect();
        self.statements.fetch_add(1, Ordering::Relaxed);
        let made = execute(pool, relay, &items.iter().collect::<Vec<_>>()).await?;
        Ok(plans
            .iter()
            .map(|p| {
                if made.skipped.contains(&p.branch) {
                    self.skipped.fetch_add(1, Ordering::Relaxed);
                }
                made.tickets.iter().find(|r| r.id == p.id).cloned()
            })
            .collect())
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// The task taking the queue.
struct Lane {
    state: Arc<Mutex<State>>,
    statements: Arc<AtomicU64>,
    skipped: Arc<AtomicU64>,
    held: Arc<AtomicU64>,
    pool: PgPool,
    relay: Arc<Relay>,
}

impl Lane {
    /// Takes the queue until nothing is left for it.
    async fn run(self) {
        let mut unwind = Unwind {
            state: self.state.clone(),
            ended: false,
        };
        loop {
            let batch = {
                let mut state = lock(&self.state);
                let batch = take(&mut state);
                if batch.is_empty() {
                    state.running = false;
                    unwind.ended = true;
                    return;
                }
                batch
            };
            self.step(batch).await;
        }
    }

    /// Runs one statement and answers its walk-ins; those of a branch it could not take go back
    /// to the front of the queue.
    async fn step(&self, batch: Vec<Waiting>) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        let items: Vec<&Item> = batch.iter().map(|w| &w.item).collect();
        let made = match execute(&self.pool, &self.relay, &items).await {
            Ok(made) => Ok(made),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(LOCK_NOT_AVAILABLE) => {
                // Nothing was written. The first walk-in's branch goes step by step for a while;
                // the others go again.
                let held = batch[0].item.branch;
                tracing::warn!(branch = held, "issuing together: branch held; step by step");
                self.held.fetch_add(1, Ordering::Relaxed);
                lock(&self.state)
                    .held
                    .insert(held, Instant::now() + HELD_FOR);
                Ok(Made {
                    tickets: Vec::new(),
                    skipped: batch
                        .iter()
                        .map(|w| w.item.branch)
                        .filter(|b| *b != held)
                        .collect(),
                })
            }
            Err(e) if may_have_committed(&e) => {
                tracing::error!(error = %e, "issuing together: outcome not known");
                Err(Uncertain(e.to_string()))
            }
            Err(e) => {
                tracing::warn!(error = %e, "issuing together failed; step by step instead");
                Ok(Made {
                    tickets: Vec::new(),
                    skipped: Vec::new(),
                })
            }
        };
        let mut again = Vec::new();
        for w in batch {
            let answer = match &made {
                Ok(made) if made.skipped.contains(&w.item.branch) => {
                    // Not taken: nothing of it was written; it goes again as it came.
                    again.push(w);
                    continue;
                }
                Ok(made) => Ok(made.tickets.iter().find(|r| r.id == w.item.id).cloned()),
                Err(Uncertain(e)) => Err(Uncertain(e.clone())),
            };
            let _ = w.reply.send(answer);
        }
        if !again.is_empty() {
            self.skipped
                .fetch_add(again.len() as u64, Ordering::Relaxed);
            let mut state = lock(&self.state);
            for w in again.into_iter().rev() {
                state.queue.push_front(w);
            }
        }
    }
}

/// Takes from the queue what the next statement can have: in arrival order, up to
/// [`MAX_BATCH`], each branch's walk-ins planned with one configuration (one planned with
/// another, after a change, waits for the next statement).
fn take(state: &mut State) -> Vec<Waiting> {
    let mut versions: HashMap<i64, i64> = HashMap::new();
    let mut batch = Vec::new();
    let mut left = VecDeque::with_capacity(state.queue.len());
    while let Some(w) = state.queue.pop_front() {
        let fits = batch.len() < MAX_BATCH
            && *versions.entry(w.item.branch).or_insert(w.item.version) == w.item.version;
        if fits {
            batch.push(w);
        } else {
            left.push_back(w);
        }
    }
    state.queue = left;
    batch
}

/// Should the lane's task end without emptying the queue (a panic, the runtime shutting down),
/// the lane is left idle and the issues still queued are answered `None` (step by step), so
/// none waits for a task that is gone.
struct Unwind {
    state: Arc<Mutex<State>>,
    /// It ended as it should (and said so under the lock).
    ended: bool,
}

impl Drop for Unwind {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        let mut state = lock(&self.state);
        state.running = false;
        state.queue.clear();
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
async fn execute(pool: &PgPool, relay: &Relay, items: &[&Item]) -> sqlx::Result<Made> {
    let c = Columns::of(items);
    let rows = sqlx::query(
        "SELECT (w.made_ticket).*, w.made_seq, w.made_body, w.skipped \
         FROM qhall_issue_walk_ins($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                                   $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) w",
    )
    .bind(c.branch)
    .bind(c.version)
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
    let mut skipped = Vec::new();
    let mut events = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(branch) = r.try_get::<Option<i64>, _>("skipped")? {
            skipped.push(branch);
            continue;
        }
        let ticket = ticket_from(r).map_err(|e| sqlx::Error::Decode(e.to_string().into()))?;
        events.push((
            ticket.branch_id,
            r.try_get::<i64, _>("made_seq")?,
            ms(ticket.issued_at),
            r.try_get::<String, _>("made_body")?,
        ));
        tickets.push(ticket);
    }
    if !events.is_empty() {
        relay.committed(events);
    }
    Ok(Made { tickets, skipped })
}

/// One walk-in of a statement: its branch, then the arguments of `qhall_issue` after the
/// branch.
#[derive(Default)]
struct Item {
    branch: i64,
    version: i64,
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
            branch: plan.branch,
            version: plan.config_version,
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

/// A statement's items, one array per field, as `qhall_issue_walk_ins` takes them.
#[derive(Default)]
struct Columns {
    branch: Vec<i64>,
    version: Vec<i64>,
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
    fn of(items: &[&Item]) -> Columns {
        let mut c = Columns::default();
        for &i in items {
            c.branch.push(i.branch);
            c.version.push(i.version);
            c.scope.push(i.scope.clone());
            c.key.push(i.key.clone());
            c.code.push(i.code.clone());
            c.priority.push(i.priority);
            c.day.push(i.day);
            c.first.push(i.first);
            c.last.push(i.last);
            c.width.push(i.width);
            c.now.push(i.now);
            c.id.push(i.id.clone());
            c.device.push(i.device);
            c.staff.push(i.staff);
            let (forecast, last, extra) = match &i.forecast {
                Some((waits, last, extra)) => (Some(waits.clone()), Some(*last), Some(*extra)),
                None => (None, None, None),
            };
            c.forecast.push(forecast);
            c.forecast_last.push(last);
            c.forecast_extra.push(extra);
            c.default_secs.push(i.default_secs);
            c.recent_since.push(i.recent_since);
            c.windows.push(i.windows.clone());
            c.serves.push(i.serves.clone());
            c.appointments.push(i.appointments);
            c.message.push(i.message.clone());
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

//! Writes a transaction keeps for its commit instead of sending each when the rules make it: a
//! ticket's history lines, a window's row and the remote tickets a call passed over, which
//! nothing in the operation reads back in the common case. Call-next writes all three and
//! complete the first two; kept, they travel in the statement that stores the stream events
//! just before `COMMIT` ([`commit_statement`]) — round trips fewer under the branch's lock,
//! and fewer statements for PostgreSQL to run.
//!
//! A statement of the transaction that names `ticket_events` or `windows` first stores what is
//! kept for that table ([`Kept::store_before`]), so an operation always reads what it wrote, in
//! the order it wrote it; one that names `tickets` (or `remote_tickets`) first stores the passed
//! over, whose rows depend on the tickets waiting.

use std::sync::LazyLock;

use qhall_shared::ServiceCode;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, PgConnection, Postgres};

use crate::store::sql::{ms, numbered};
use crate::store::tx::{PASSED_OVER, state_str};
use crate::store::{Result, TicketEvent, WindowRow};

/// History lines, in the order the rules appended them (their ids keep that order).
const HISTORY: &str = "INSERT INTO ticket_events (ticket_key, at, kind, window_number, staff_user_id, detail) \
     SELECT * FROM UNNEST(?::BIGINT[], ?::BIGINT[], ?::TEXT[], ?::BIGINT[], ?::BIGINT[], ?::TEXT[])";

/// Windows' rows, each once (the last state the rules gave it).
const WINDOWS: &str = "UPDATE windows SET state = w.state, pause_reason = w.pause_reason, \
     staff_user_id = w.staff, current_ticket = w.current, state_since = w.since \
     FROM UNNEST(?::BIGINT[], ?::BIGINT[], ?::TEXT[], ?::TEXT[], ?::BIGINT[], ?::BIGINT[], ?::BIGINT[]) \
     AS w(branch_id, number, state, pause_reason, staff, current, since) \
     WHERE windows.branch_id = w.branch_id AND windows.number = w.number";

/// Stream events `(branch, seq, at, body)` and the branches' raised seqs.
const STREAM: &str = "INSERT INTO stream_events (branch_id, seq, at, body) \
     SELECT * FROM UNNEST(?::BIGINT[], ?::BIGINT[], ?::BIGINT[], ?::TEXT[])";
const SEQS: &str = "UPDATE branches SET event_seq = r.seq \
     FROM UNNEST(?::BIGINT[], ?::BIGINT[]) AS r(id, seq) WHERE branches.id = r.id";

static HISTORY_SQL: LazyLock<String> = LazyLock::new(|| numbered(HISTORY));
static WINDOWS_SQL: LazyLock<String> = LazyLock::new(|| numbered(WINDOWS));
static PASSED_OVER_SQL: LazyLock<String> = LazyLock::new(|| numbered(PASSED_OVER));
/// Everything a write leaves to its commit, in one statement: one shape whatever it holds, so
/// it is prepared once per connection — and one more for a call that passed remote tickets
/// over, so that the other writes do not open `remote_tickets` and its indexes for nothing.
static COMMIT_SQL: LazyLock<String> = LazyLock::new(|| {
    numbered(&format!(
        "WITH h AS ({HISTORY}), w AS ({WINDOWS}), s AS ({STREAM}) {SEQS}"
    ))
});
static COMMIT_PASSED_OVER_SQL: LazyLock<String> = LazyLock::new(|| {
    numbered(&format!(
        "WITH h AS ({HISTORY}), w AS ({WINDOWS}), s AS ({STREAM}), p AS ({PASSED_OVER}) {SEQS}"
    ))
});

/// What a write transaction leaves to its commit.
#[derive(Default)]
pub struct Written {
    /// Stream events `(branch, seq, at, body)`, handed to the relay once committed.
    pub events: Vec<(i64, i64, i64, String)>,
    /// The seqs of the branches it raised `(branch, seq)`.
    pub seqs: Vec<(i64, i64)>,
    pub kept: Kept,
}

impl Written {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.seqs.is_empty() && self.kept.is_empty()
    }
}

/// History lines, window rows and a call's passed over not yet sent.
#[derive(Default)]
pub struct Kept {
    history: Vec<TicketEvent>,
    /// `(branch, row)`, one per window.
    windows: Vec<(i64, WindowRow)>,
    /// [`PASSED_OVER`]'s arguments: at, branch, service, queue_at (one at most: a second one
    /// stores the first).
    passed_over: Option<PassedOver>,
}

/// [`PASSED_OVER`]'s arguments (times in ms).
pub struct PassedOver {
    pub at: i64,
    pub branch: i64,
    pub service: ServiceCode,
    pub queue_at: i64,
}

impl Kept {
    pub fn is_empty(&self) -> bool {
        self.history.is_empty() && self.windows.is_empty() && self.passed_over.is_none()
    }

    /// Keeps `p`, storing a passed over kept before it first.
    pub async fn passed_over(&mut self, conn: &mut PgConnection, p: PassedOver) -> Result<()> {
        self.store_passed_over(conn).await?;
        self.passed_over = Some(p);
        Ok(())
    }

    async fn store_passed_over(&mut self, conn: &mut PgConnection) -> Result<()> {
        if let Some(p) = self.passed_over.take() {
            let update = sqlx::query(AssertSqlSafe(PASSED_OVER_SQL.as_str()));
            bind_passed_over(update, &p).execute(&mut *conn).await?;
        }
        Ok(())
    }

    pub fn history(&mut self, e: &TicketEvent) {
        self.history.push(e.clone());
    }

    /// A later row of the same window replaces the kept one: each sets every column the rules
    /// change, and nothing read it in between (a read of `windows` stores it first).
    pub fn window(&mut self, branch: i64, w: &WindowRow) {
        match self
            .windows
            .iter_mut()
            .find(|(b, k)| *b == branch && k.number == w.number)
        {
            Some(kept) => kept.1 = w.clone(),
            None => self.windows.push((branch, w.clone())),
        }
    }

    /// Stores what is kept for the tables `sql` names, before it runs.
    pub async fn store_before(&mut self, conn: &mut PgConnection, sql: &str) -> Result<()> {
        if !self.history.is_empty() && sql.contains("ticket_events") {
            let insert = sqlx::query(AssertSqlSafe(HISTORY_SQL.as_str()));
            bind_history(insert, &self.history)
                .execute(&mut *conn)
                .await?;
            self.history.clear();
        }
        if !self.windows.is_empty() && sql.contains("windows") {
            let update = sqlx::query(AssertSqlSafe(WINDOWS_SQL.as_str()));
            bind_windows(update, &self.windows)
                .execute(&mut *conn)
                .await?;
            self.windows.clear();
        }
        if self.passed_over.is_some() && sql.contains("tickets") {
            self.store_passed_over(conn).await?;
        }
        Ok(())
    }
}

/// The statement that stores all of `w` just before the commit.
pub(super) fn commit_statement(w: &Written) -> Query<'_, Postgres, PgArguments> {
    let passed_over = w.kept.passed_over.as_ref();
    let sql = match passed_over {
        Some(_) => COMMIT_PASSED_OVER_SQL.as_str(),
        None => COMMIT_SQL.as_str(),
    };
    let q = bind_history(sqlx::query(AssertSqlSafe(sql)), &w.kept.history);
    let q = bind_windows(q, &w.kept.windows);
    let mut stream = (
        Vec::with_capacity(w.events.len()),
        Vec::with_capacity(w.events.len()),
        Vec::with_capacity(w.events.len()),
        Vec::with_capacity(w.events.len()),
    );
    for (b, s, a, body) in &w.events {
        stream.0.push(*b);
        stream.1.push(*s);
        stream.2.push(*a);
        stream.3.push(body.as_str());
    }
    let (branches, raised): (Vec<i64>, Vec<i64>) = w.seqs.iter().copied().unzip();
    let mut q = q
        .bind(stream.0)
        .bind(stream.1)
        .bind(stream.2)
        .bind(stream.3);
    if let Some(p) = passed_over {
        q = bind_passed_over(q, p);
    }
    q.bind(branches).bind(raised)
}

fn bind_passed_over<'q>(
    q: Query<'q, Postgres, PgArguments>,
    p: &'q PassedOver,
) -> Query<'q, Postgres, PgArguments> {
    q.bind(p.at)
        .bind(p.branch)
        .bind(p.branch)
        .bind(p.service.as_str())
        .bind(p.queue_at)
}

fn bind_history<'q>(
    q: Query<'q, Postgres, PgArguments>,
    lines: &'q [TicketEvent],
) -> Query<'q, Postgres, PgArguments> {
    let window = |w: Option<qhall_shared::WindowNo>| w.map(|n| i64::from(n.get()));
    q.bind(lines.iter().map(|e| e.ticket).collect::<Vec<_>>())
        .bind(lines.iter().map(|e| ms(e.at)).collect::<Vec<_>>())
        .bind(lines.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>())
        .bind(lines.iter().map(|e| window(e.window)).collect::<Vec<_>>())
        .bind(lines.iter().map(|e| e.staff).collect::<Vec<_>>())
        .bind(
            lines
                .iter()
                .map(|e| e.detail.as_deref())
                .collect::<Vec<_>>(),
        )
}

fn bind_windows<'q>(
    q: Query<'q, Postgres, PgArguments>,
    rows: &'q [(i64, WindowRow)],
) -> Query<'q, Postgres, PgArguments> {
    q.bind(rows.iter().map(|(b, _)| *b).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|(_, w)| i64::from(w.number.get()))
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, w)| state_str(w.state))
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, w)| w.pause_reason.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, w)| w.staff_user_id)
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, w)| w.current_ticket)
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, w)| w.state_since.map(ms))
                .collect::<Vec<_>>(),
        )
}

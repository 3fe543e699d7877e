//! [`Sql`] for PostgreSQL: statements through sqlx (prepared once per connection by its
//! statement cache), and the few parts of [`Tx`] PostgreSQL does its own way.
//!
//! Every write operation first locks its branch's row ([`Tx::lock_branch`]): from then on the
//! operation sees the latest committed state of the branch and no other server can change it
//! until this transaction ends, so the hall's rules run exactly as on SQLite's single writer —
//! one ticket is never called to two windows, numbers stay unique, and `seq` rises by one.

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::{ServiceCode, WindowNo};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, Column, PgConnection, Postgres, Row, TypeInfo};

use super::ConfigCache;
use super::kept::{Kept, PassedOver, Written};
use crate::store::sql::{Arg, Columns, FIRST, Sql, ms, numbered};
use crate::store::tx::{
    raise_stored_seq, stored_announcement, stored_config_version, stored_seq, stored_window,
    stored_windows, unknown_branch, window_from,
};
use crate::store::{Result, TicketEvent, Tx, WindowRow};

/// One PostgreSQL transaction's worth of statements.
pub struct PgTx<'c> {
    pub(crate) conn: &'c mut PgConnection,
    pub(crate) cache: &'c ConfigCache,
    /// Branches whose row this transaction has locked, with their `config_version` and
    /// `event_seq` as the lock read them: neither can change under another writer while the lock
    /// is held, so the version costs no query and the seq rises here, written once at commit
    /// ([`PgTx::written`]) instead of a round trip per event. The lock reads the branch's
    /// windows with them: another writer cannot change those either.
    locked: Vec<Locked>,
    /// Stream events to store at commit, together with the notification (one round trip for
    /// all of them instead of one each): (branch, seq, at, body).
    events: Vec<(i64, i64, i64, String)>,
    /// History lines and window rows to store at commit too ([`Kept`]).
    kept: Kept,
    /// On a read snapshot (`Some`), each branch's `config_version` and `event_seq` as first
    /// read: neither can change within the snapshot, so the first read of either takes both and
    /// the other costs no statement.
    seen: Option<Vec<(i64, i64, u64)>>,
}

struct Locked {
    branch: i64,
    version: i64,
    seq: i64,
    raised: bool,
    /// The branch's windows by number as the lock read them, with this transaction's own rows
    /// ([`Tx::update_window`]); `None` once one of its statements named `windows`, which may
    /// have changed them (they are read again).
    windows: Option<Vec<WindowRow>>,
}

impl<'c> PgTx<'c> {
    pub fn new(conn: &'c mut PgConnection, cache: &'c ConfigCache) -> Self {
        PgTx {
            conn,
            cache,
            locked: Vec::new(),
            events: Vec::new(),
            kept: Kept::default(),
            seen: None,
        }
    }

    /// Statements on one read snapshot (`REPEATABLE READ`), which may keep what they read of a
    /// branch's row.
    pub(crate) fn snapshot(conn: &'c mut PgConnection, cache: &'c ConfigCache) -> Self {
        PgTx {
            seen: Some(Vec::new()),
            ..PgTx::new(conn, cache)
        }
    }

    /// The branch's (config_version, event_seq) on this snapshot, read once; `None` outside a
    /// snapshot.
    async fn seen(&mut self, branch: i64) -> Result<Option<(i64, u64)>> {
        let Some(seen) = &self.seen else {
            return Ok(None);
        };
        if let Some(&(_, version, seq)) = seen.iter().find(|s| s.0 == branch) {
            return Ok(Some((version, seq)));
        }
        let (version, seq): (i64, i64) =
            sqlx::query_as("SELECT config_version, event_seq FROM branches WHERE id = $1")
                .bind(branch)
                .fetch_optional(&mut *self.conn)
                .await?
                .ok_or_else(|| unknown_branch(branch))?;
        let seq = seq.max(0) as u64;
        if let Some(seen) = &mut self.seen {
            seen.push((branch, version, seq));
        }
        Ok(Some((version, seq)))
    }

    /// The transaction's connection, bypassing the kept writes (tests look at what was sent).
    pub fn conn(&mut self) -> &mut PgConnection {
        self.conn
    }

    /// What `PgStore::finish` stores in one statement before it commits: the stream events,
    /// the seqs of the locked branches this transaction raised, and the kept writes.
    pub fn written(&mut self) -> Written {
        Written {
            events: std::mem::take(&mut self.events),
            seqs: self
                .locked
                .iter()
                .filter(|l| l.raised)
                .map(|l| (l.branch, l.seq))
                .collect(),
            kept: std::mem::take(&mut self.kept),
        }
    }

    fn locked(&mut self, branch: i64) -> Option<&mut Locked> {
        self.locked.iter_mut().find(|l| l.branch == branch)
    }

    /// The branch's windows as this transaction last left them, if its lock read them and no
    /// statement of its own named `windows` since.
    fn locked_windows(&mut self, branch: i64) -> Option<&mut Vec<WindowRow>> {
        self.locked(branch).and_then(|l| l.windows.as_mut())
    }

    /// Before `sql` runs: what is kept for a table it names is stored, and the windows the
    /// locks read are forgotten if it names `windows`.
    async fn before(&mut self, sql: &str) -> Result<()> {
        self.kept.store_before(&mut *self.conn, sql).await?;
        if sql.contains("windows") {
            for l in &mut self.locked {
                l.windows = None;
            }
        }
        Ok(())
    }
}

/// The statement with `?` numbered and its arguments bound: flags as `BOOLEAN`, days as `DATE`.
fn query<'q>(sql: &str, args: &[Arg<'_>]) -> Query<'q, Postgres, PgArguments> {
    let mut q = sqlx::query(AssertSqlSafe(numbered(sql)));
    for a in args {
        q = match *a {
            Arg::Int(v) => q.bind(v),
            Arg::Real(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::Flag(v) => q.bind(v),
            Arg::Day(v) => q.bind(v),
        };
    }
    q
}

fn ordinal(r: &PgRow, col: &str) -> Result<usize> {
    if col == FIRST {
        return Ok(0);
    }
    Ok(r.try_column(col)?.ordinal())
}

fn type_name(r: &PgRow, i: usize) -> &str {
    r.column(i).type_info().name()
}

impl Columns for PgRow {
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        let i = ordinal(self, col)?;
        Ok(match type_name(self, i) {
            "BOOL" => self.try_get::<Option<bool>, _>(i)?.map(i64::from),
            "INT2" => self.try_get::<Option<i16>, _>(i)?.map(i64::from),
            "INT4" => self.try_get::<Option<i32>, _>(i)?.map(i64::from),
            _ => self.try_get::<Option<i64>, _>(i)?,
        })
    }

    fn opt_real(&self, col: &str) -> Result<Option<f64>> {
        let i = ordinal(self, col)?;
        Ok(match type_name(self, i) {
            "FLOAT4" => self.try_get::<Option<f32>, _>(i)?.map(f64::from),
            "INT2" | "INT4" | "INT8" => self.opt_int(col)?.map(|v| v as f64),
            _ => self.try_get::<Option<f64>, _>(i)?,
        })
    }

    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        let i = ordinal(self, col)?;
        Ok(match type_name(self, i) {
            "DATE" => self
                .try_get::<Option<NaiveDate>, _>(i)?
                .map(|d| d.format("%Y-%m-%d").to_string()),
            _ => self.try_get::<Option<String>, _>(i)?,
        })
    }
}

impl Sql for PgTx<'_> {
    async fn rows<T>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        mut map: impl FnMut(&dyn Columns) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.before(sql).await?;
        let rows = query(sql, args).fetch_all(&mut *self.conn).await?;
        rows.iter().map(|r| map(r)).collect()
    }

    async fn row<T>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        mut map: impl FnMut(&dyn Columns) -> Result<T>,
    ) -> Result<Option<T>> {
        self.before(sql).await?;
        let row = query(sql, args).fetch_optional(&mut *self.conn).await?;
        row.as_ref().map(|r| map(r)).transpose()
    }

    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        self.before(sql).await?;
        Ok(query(sql, args)
            .execute(&mut *self.conn)
            .await?
            .rows_affected())
    }
}

impl Tx for PgTx<'_> {
    fn config_cache(&self) -> &ConfigCache {
        self.cache
    }

    /// One round trip: the branch's row locked, then its windows read — by a function run after
    /// the lock is held (migrations/postgres/0043_lock_branch_then_read_windows.sql). A plain
    /// join would read the windows as they were when the statement started, before a wait for
    /// another writer of the branch (a call at the same window, sent twice), whose changes it
    /// would not see (`tests/tests/window_races.rs`).
    async fn lock_branch(&mut self, branch: i64) -> Result<()> {
        if self.locked(branch).is_some() {
            return Ok(());
        }
        let rows = sqlx::query(
            "SELECT l.branch_version, l.branch_seq, w.* FROM qhall_lock_branch($1) l \
             LEFT JOIN LATERAL qhall_branch_windows(l.id) w ON true WHERE l.id IS NOT NULL \
             ORDER BY w.number",
        )
        .bind(branch)
        .fetch_all(&mut *self.conn)
        .await?;
        let first = rows.first().ok_or_else(|| unknown_branch(branch))?;
        let mut windows = Vec::with_capacity(rows.len());
        for r in &rows {
            if r.opt_int("number")?.is_some() {
                windows.push(window_from(r)?);
            }
        }
        self.locked.push(Locked {
            branch,
            version: first.try_get("branch_version")?,
            seq: first.try_get("branch_seq")?,
            raised: false,
            windows: Some(windows),
        });
        Ok(())
    }

    /// Under the branch's lock the version read with it still holds; on a snapshot, the one
    /// read first.
    async fn config_version(&mut self, branch: i64) -> Result<i64> {
        if let Some(l) = self.locked(branch) {
            return Ok(l.version);
        }
        if let Some((version, _)) = self.seen(branch).await? {
            return Ok(version);
        }
        stored_config_version(self, branch).await
    }

    /// Under the branch's lock, with what this transaction raised it to; on a snapshot, the one
    /// read first.
    async fn seq(&mut self, branch: i64) -> Result<u64> {
        if let Some(l) = self.locked(branch) {
            return Ok(l.seq.max(0) as u64);
        }
        if let Some((_, seq)) = self.seen(branch).await? {
            return Ok(seq);
        }
        stored_seq(self, branch).await
    }

    /// Under the branch's lock, counted here and stored at commit.
    async fn next_seq(&mut self, branch: i64) -> Result<u64> {
        if let Some(l) = self.locked(branch) {
            l.seq += 1;
            l.raised = true;
            return Ok(l.seq.max(0) as u64);
        }
        raise_stored_seq(self, branch).await
    }

    async fn insert_stream_event(
        &mut self,
        branch: i64,
        seq: u64,
        at: DateTime<Utc>,
        body: &str,
    ) -> Result<()> {
        // Written by `PgStore::finish`, in this transaction, just before it commits.
        self.events
            .push((branch, seq as i64, ms(at), body.to_owned()));
        Ok(())
    }

    /// Kept for the commit ([`Kept`]).
    async fn passed_over(
        &mut self,
        branch: i64,
        service: ServiceCode,
        queue_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let p = PassedOver {
            at: ms(now),
            branch,
            service,
            queue_at: ms(queue_at),
        };
        self.kept.passed_over(&mut *self.conn, p).await
    }

    /// Kept for the commit ([`Kept`]).
    async fn append_ticket_event(&mut self, e: &TicketEvent) -> Result<()> {
        self.kept.history(e);
        Ok(())
    }

    /// Under the branch's lock, as the lock read it (and this transaction changed it).
    async fn window(&mut self, branch: i64, n: WindowNo) -> Result<Option<WindowRow>> {
        if let Some(windows) = self.locked_windows(branch) {
            return Ok(windows.iter().find(|w| w.number == n).cloned());
        }
        stored_window(self, branch, n).await
    }

    /// Under the branch's lock, as the lock read them (and this transaction changed them).
    async fn windows(&mut self, branch: i64) -> Result<Vec<WindowRow>> {
        if let Some(windows) = self.locked_windows(branch) {
            return Ok(windows.clone());
        }
        stored_windows(self, branch).await
    }

    /// Kept for the commit ([`Kept`]), and in the windows the lock read.
    async fn update_window(&mut self, branch: i64, w: &WindowRow) -> Result<()> {
        self.kept.window(branch, w);
        if let Some(row) = self
            .locked_windows(branch)
            .and_then(|ws| ws.iter_mut().find(|x| x.number == w.number))
        {
            *row = w.clone();
        }
        Ok(())
    }

    /// An announcement this transaction has made but not yet stored counts.
    async fn last_announced_open(&mut self, branch: i64) -> Result<Option<bool>> {
        if let Some((_, _, _, body)) = self
            .events
            .iter()
            .rev()
            .find(|e| e.0 == branch && e.3.contains("\"type\":\"services\""))
        {
            return Ok(Some(body.contains("\"open\":true")));
        }
        stored_announcement(self, branch).await
    }
}

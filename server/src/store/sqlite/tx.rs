//! [`Sql`] for SQLite: statements as synchronous rusqlite calls, prepared once per connection
//! and cached. [`Tx`] is written once above the backends; SQLite overrides none of it.
//!
//! The methods are `async` only because the traits are shared with a backend that really
//! waits; here they never suspend, so [`run_now`] can drive an operation to completion on the
//! thread that owns the connection.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, Row, ToSql, params_from_iter};

use super::ConfigCache;
use crate::store::sql::{Arg, Columns, FIRST, Sql};
use crate::store::{Result, StoreError, Tx};

/// Drives a future that never suspends (every SQLite [`Tx`] method) to its output.
pub(crate) fn run_now<F: Future<Output = Result<T>>, T>(f: F) -> Result<T> {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => Err(StoreError::Other(anyhow::anyhow!(
            "a SQLite operation tried to wait"
        ))),
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &e
            && (f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
        {
            return StoreError::conflict("conflict", "that already exists");
        }
        if let Some(unavailable) = crate::store::health::sqlite_unavailable(&e) {
            return unavailable;
        }
        StoreError::Other(e.into())
    }
}

/// One SQLite transaction's worth of statements on a connection.
pub struct SqliteTx<'c> {
    pub(crate) conn: &'c Connection,
    pub(crate) cache: &'c ConfigCache,
}

/// Flags as 0/1, days as `YYYY-MM-DD` text.
impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Arg::Int(Some(v)) => ToSqlOutput::Owned(Value::Integer(v)),
            Arg::Real(Some(v)) => ToSqlOutput::Owned(Value::Real(v)),
            Arg::Text(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Arg::Int(None) | Arg::Real(None) | Arg::Text(None) => ToSqlOutput::Owned(Value::Null),
            Arg::Flag(v) => ToSqlOutput::Owned(Value::Integer(i64::from(v))),
            Arg::Day(d) => ToSqlOutput::Owned(Value::Text(d.format("%Y-%m-%d").to_string())),
        })
    }
}

fn value<'r>(r: &'r Row<'_>, col: &str) -> rusqlite::Result<ValueRef<'r>> {
    if col == FIRST {
        r.get_ref(0)
    } else {
        r.get_ref(col)
    }
}

fn wrong_type(col: &str, v: ValueRef<'_>) -> StoreError {
    StoreError::Other(anyhow::anyhow!(
        "column {col} holds {:?}, not the value expected",
        v.data_type()
    ))
}

impl Columns for Row<'_> {
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        match value(self, col)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => Ok(Some(v)),
            v => Err(wrong_type(col, v)),
        }
    }

    fn opt_real(&self, col: &str) -> Result<Option<f64>> {
        match value(self, col)? {
            ValueRef::Null => Ok(None),
            ValueRef::Real(v) => Ok(Some(v)),
            ValueRef::Integer(v) => Ok(Some(v as f64)),
            v => Err(wrong_type(col, v)),
        }
    }

    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        match value(self, col)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => Ok(Some(String::from_utf8_lossy(t).into_owned())),
            v => Err(wrong_type(col, v)),
        }
    }
}

impl Sql for SqliteTx<'_> {
    async fn rows<T>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        mut map: impl FnMut(&dyn Columns) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut st = self.conn.prepare_cached(sql)?;
        let mut rows = st.query(params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(map(r)?);
        }
        Ok(out)
    }

    async fn row<T>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        mut map: impl FnMut(&dyn Columns) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut st = self.conn.prepare_cached(sql)?;
        let mut rows = st.query(params_from_iter(args))?;
        rows.next()?.map(|r| map(r)).transpose()
    }

    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        let n = self
            .conn
            .prepare_cached(sql)?
            .execute(params_from_iter(args))?;
        Ok(n as u64)
    }
}

impl Tx for SqliteTx<'_> {
    fn config_cache(&self) -> &ConfigCache {
        self.cache
    }
}

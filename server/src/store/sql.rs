//! The one thing a backend must do for the statements written once above it: run a statement
//! inside its current transaction, binding [`Arg`]s and handing each row to a mapping function
//! as [`Columns`].
//!
//! Statements are written with `?` placeholders in the SQL both databases accept; PostgreSQL's
//! implementation numbers them (`$1`, `$2`, …). Values cross as the few kinds the schema uses:
//! integers (keys, counts, times in milliseconds), reals, text, flags and days. Each backend
//! stores flags and days its own way (SQLite: 0/1 and `YYYY-MM-DD` text; PostgreSQL: `BOOLEAN`
//! and `DATE`); [`Arg`] binds them and [`Columns`] reads them back the same on both.
//!
//! Statements whose SQL differs (PostgreSQL's `ANY($1)` over an array, its `FOR UPDATE`) stay in
//! their backend.

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};

use super::{Result, StoreError};

/// A value bound to a `?` placeholder.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<&'a str>),
    Flag(bool),
    Day(NaiveDate),
}

/// The arguments of a statement, in placeholder order: `args![branch, service, now]`.
macro_rules! args {
    ($($v:expr),* $(,)?) => {
        &[$($crate::store::sql::Arg::from($v)),*]
    };
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<u32> for Arg<'_> {
    fn from(v: u32) -> Self {
        Arg::Int(Some(i64::from(v)))
    }
}
impl From<u64> for Arg<'_> {
    fn from(v: u64) -> Self {
        Arg::Int(Some(i64::try_from(v).unwrap_or(i64::MAX)))
    }
}
impl From<f64> for Arg<'_> {
    fn from(v: f64) -> Self {
        Arg::Real(Some(v))
    }
}
impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Flag(v)
    }
}
impl From<NaiveDate> for Arg<'_> {
    fn from(v: NaiveDate) -> Self {
        Arg::Day(v)
    }
}
/// Instants are stored as milliseconds since the epoch.
impl From<DateTime<Utc>> for Arg<'_> {
    fn from(v: DateTime<Utc>) -> Self {
        Arg::Int(Some(v.timestamp_millis()))
    }
}
impl From<Option<DateTime<Utc>>> for Arg<'_> {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Arg::Int(v.map(|t| t.timestamp_millis()))
    }
}
impl From<WindowNo> for Arg<'_> {
    fn from(v: WindowNo) -> Self {
        Arg::Int(Some(i64::from(v.get())))
    }
}
impl From<Option<WindowNo>> for Arg<'_> {
    fn from(v: Option<WindowNo>) -> Self {
        Arg::Int(v.map(|w| i64::from(w.get())))
    }
}
impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(v))
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(v))
    }
}
impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v)
    }
}
impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::Text(v.as_deref())
    }
}
impl<'a> From<&'a ServiceCode> for Arg<'a> {
    fn from(v: &'a ServiceCode) -> Self {
        Arg::Text(Some(v.as_str()))
    }
}
impl<'a> From<&'a TicketNumber> for Arg<'a> {
    fn from(v: &'a TicketNumber) -> Self {
        Arg::Text(Some(v.as_str()))
    }
}

/// One row of a result, read by column name the same way on both backends.
pub trait Columns {
    /// An integer column (a flag reads as 0 or 1); `None` for NULL.
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
    /// A real column (an integer reads as a real); `None` for NULL.
    fn opt_real(&self, col: &str) -> Result<Option<f64>>;
    /// A text column (a day reads as `YYYY-MM-DD`); `None` for NULL.
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
}

impl dyn Columns + '_ {
    pub fn int(&self, col: &str) -> Result<i64> {
        self.opt_int(col)?.ok_or_else(|| null(col))
    }
    pub fn real(&self, col: &str) -> Result<f64> {
        self.opt_real(col)?.ok_or_else(|| null(col))
    }
    pub fn text(&self, col: &str) -> Result<String> {
        self.opt_text(col)?.ok_or_else(|| null(col))
    }
    pub fn flag(&self, col: &str) -> Result<bool> {
        Ok(self.int(col)? != 0)
    }
    /// A count or a small non-negative number.
    pub fn count(&self, col: &str) -> Result<u32> {
        Ok(u32::try_from(self.int(col)?.max(0)).unwrap_or(u32::MAX))
    }
    pub fn time(&self, col: &str) -> Result<DateTime<Utc>> {
        Ok(from_ms(self.int(col)?))
    }
    pub fn opt_time(&self, col: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(self.opt_int(col)?.map(from_ms))
    }
    pub fn day(&self, col: &str) -> Result<NaiveDate> {
        let s = self.text(col)?;
        NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| bad(col, &s))
    }
    pub fn service(&self, col: &str) -> Result<ServiceCode> {
        let s = self.text(col)?;
        s.parse().map_err(|_| bad(col, &s))
    }
    pub fn number(&self, col: &str) -> Result<TicketNumber> {
        let s = self.text(col)?;
        s.parse().map_err(|_| bad(col, &s))
    }
    pub fn window(&self, col: &str) -> Result<WindowNo> {
        let n = self.int(col)?;
        window_no(Some(n)).ok_or_else(|| bad(col, n))
    }
    /// A window number column that may be NULL (or, in old rows, out of range).
    pub fn opt_window(&self, col: &str) -> Result<Option<WindowNo>> {
        Ok(window_no(self.opt_int(col)?))
    }
    /// A JSON document kept in a text column.
    pub fn json<T: serde::de::DeserializeOwned>(&self, col: &str) -> Result<T> {
        let s = self.text(col)?;
        serde_json::from_str(&s).map_err(|_| bad(col, "invalid JSON"))
    }
}

fn window_no(v: Option<i64>) -> Option<WindowNo> {
    v.and_then(|n| u32::try_from(n).ok())
        .and_then(|n| WindowNo::new(n).ok())
}

/// An instant from milliseconds since the epoch (as stored).
pub fn from_ms(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(v).unwrap_or_default()
}

/// An instant as stored: milliseconds since the epoch.
pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn null(col: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("unexpected NULL in column {col}"))
}

/// A stored value the server cannot have written.
pub(crate) fn bad(col: &str, what: impl std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!(
        "bad value in database column {col}: {what}"
    ))
}

/// Runs statements inside the current transaction.
#[allow(async_fn_in_trait)]
pub trait Sql {
    /// Every row of the statement's result, each given to `map`.
    async fn rows<T>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        map: impl FnMut(&dyn Columns) -> Result<T>,
    ) -> Result<Vec<T>>;

    /// Runs a statement; returns how many rows it changed.
    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64>;

    /// The first row of the result, if any (the rest are not read).
    async fn row<T>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        map: impl FnMut(&dyn Columns) -> Result<T>,
    ) -> Result<Option<T>>;

    /// The first column of the first row as an integer (`None` for no row or NULL), for
    /// `COUNT`, `MAX` and `RETURNING id`.
    async fn int(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Option<i64>> {
        Ok(self.row(sql, args, |r| r.opt_int(FIRST)).await?.flatten())
    }

    /// The first column of the first row as a count (`COUNT(*)`; 0 for no row).
    async fn count(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u32> {
        let n = self.int(sql, args).await?.unwrap_or(0);
        Ok(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
    }

    /// The id an `INSERT … RETURNING id` gave back.
    async fn inserted_id(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<i64> {
        self.int(sql, args).await?.ok_or_else(returned_nothing)
    }
}

/// An `INSERT … RETURNING` that gave no row back: the database, not the request, failed.
pub(crate) fn returned_nothing() -> StoreError {
    StoreError::Other(anyhow::anyhow!("INSERT … RETURNING gave no row"))
}

/// The name [`Columns`] accepts for "the first column", whatever it is called.
pub const FIRST: &str = "\0first";

/// `?` placeholders numbered for PostgreSQL (`$1`, `$2`, …), leaving quoted text alone.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let (mut n, mut quoted) = (0, false);
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c LIKE '%?%' AND d IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c LIKE '%?%' AND d IN ($2, $3)"
        );
        assert_eq!(numbered("SELECT 1"), "SELECT 1");
    }

    #[test]
    fn instants_round_trip_through_milliseconds() {
        let t = from_ms(1_764_000_000_123);
        assert_eq!(ms(t), 1_764_000_000_123);
    }
}

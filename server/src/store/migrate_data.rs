//! `qhall-server migrate-data --from sqlite://… --to postgres://…`: moves a hall from the
//! embedded default to PostgreSQL without losing any history.
//!
//! Every table is copied row by row with its keys, in one PostgreSQL transaction: tickets and
//! their events, sessions, the stream (`branches.event_seq` and `stream_events`, so boards
//! resume with `?since=` and the next event has the next seq), the logs. The target must be
//! empty (freshly migrated); if anything fails nothing is written. `waiting_counts` is not
//! copied: the target's triggers recount it from the tickets as they arrive. Afterwards the row
//! counts of both sides are compared. Stop the server before copying.

use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Postgres, QueryBuilder, Row, SqlitePool};

use super::Store;
use super::facade::redact;
use crate::events::Hub;
use crate::queue::policy::Policy;

/// Tables in the order their references need; tables added later follow in name order.
const ORDER: [&str; 16] = [
    "branches",
    "hour_exceptions",
    "services",
    "users",
    "devices",
    "sessions",
    "windows",
    "window_services",
    "number_counters",
    "tickets",
    "ticket_events",
    "idempotency",
    "stream_events",
    "window_log",
    "notices",
    "audit_log",
];

/// Derived from other tables by the target itself, the migrator's own bookkeeping, or the
/// readiness probe's scratch row.
const SKIP: [&str; 4] = [
    "waiting_counts",
    "report_days",
    "_sqlx_migrations",
    "health_probe",
];

/// Rows per INSERT.
const BATCH: usize = 500;

/// One value on its way, typed by the target column.
enum Value {
    Int(Option<i64>),
    Bool(Option<bool>),
    Float(Option<f64>),
    Text(Option<String>),
    Date(Option<NaiveDate>),
}

/// Rows copied per table.
pub type Report = Vec<(String, u64)>;

/// Copies the hall at `from` (SQLite) into the empty database at `to` (PostgreSQL).
pub async fn run(from: &str, to: &str) -> anyhow::Result<Report> {
    if !from.starts_with("sqlite:") {
        bail!("--from must be a sqlite:// URL, not {}", redact(from));
    }
    if !(to.starts_with("postgres:") || to.starts_with("postgresql:")) {
        bail!("--to must be a postgres:// URL, not {}", redact(to));
    }
    // Opening brings both schemas to the current version.
    let hub = Arc::new(Hub::default());
    let source = Store::open(from, false, hub.clone(), Policy::Default).await?;
    source.close().await;
    let target = Store::open(to, false, hub, Policy::Default).await?;
    let pg = target
        .postgres()
        .context("the target is not PostgreSQL")?
        .pool()
        .clone();
    let src = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::from_str(from)?.read_only(true))
        .await?;

    let mut tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&src)
    .await?;
    tables.retain(|t| !SKIP.contains(&t.as_str()));
    tables.sort_by_key(|t| ORDER.iter().position(|o| o == t).unwrap_or(ORDER.len()));

    let mut tx = pg.begin().await?;
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM branches")
        .fetch_one(&mut *tx)
        .await?;
    if existing > 0 {
        bail!(
            "{} already holds a hall: migrate-data copies only into an empty database",
            redact(to)
        );
    }
    let mut report = Report::new();
    for table in &tables {
        let n = copy_table(&src, &mut tx, table)
            .await
            .with_context(|| format!("copying {table}"))?;
        report.push((table.clone(), n));
    }
    sqlx::raw_sql(super::postgres::RESET_IDENTITIES)
        .execute(&mut *tx)
        .await?;
    for (table, n) in &report {
        let there: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&mut *tx)
            .await?;
        if there as u64 != *n {
            bail!("{table}: copied {n} rows but the target holds {there}");
        }
    }
    tx.commit().await?;
    src.close().await;
    target.close().await;
    Ok(report)
}

async fn copy_table(
    src: &SqlitePool,
    tx: &mut sqlx::PgConnection,
    table: &str,
) -> anyhow::Result<u64> {
    let target_cols: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *tx)
    .await?;
    if target_cols.is_empty() {
        bail!("table {table} has no PostgreSQL counterpart (a migration is missing)");
    }
    let source_cols: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
    )))
    .fetch_all(src)
    .await?;
    let mut cols = Vec::new();
    for c in &source_cols {
        let ty = target_cols
            .iter()
            .find(|(n, _)| n == c)
            .map(|(_, t)| t.clone())
            .with_context(|| format!("column {table}.{c} has no PostgreSQL counterpart"))?;
        cols.push((c.clone(), ty));
    }
    let list = cols
        .iter()
        .map(|(c, _)| c.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {list} FROM {table} ORDER BY rowid"
    )))
    .fetch_all(src)
    .await?;
    let mut copied = 0u64;
    for chunk in rows.chunks(BATCH) {
        let mut values = Vec::with_capacity(chunk.len());
        for r in chunk {
            let mut row = Vec::with_capacity(cols.len());
            for (i, (c, ty)) in cols.iter().enumerate() {
                let v = match ty.as_str() {
                    "bigint" | "integer" | "smallint" => Value::Int(r.try_get_unchecked(i)?),
                    "boolean" => {
                        Value::Bool(r.try_get_unchecked::<Option<i64>, _>(i)?.map(|v| v != 0))
                    }
                    "double precision" | "real" => Value::Float(r.try_get_unchecked(i)?),
                    "date" => Value::Date(
                        r.try_get_unchecked::<Option<String>, _>(i)?
                            .map(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d"))
                            .transpose()
                            .with_context(|| format!("{table}.{c}: not a date"))?,
                    ),
                    "text" => Value::Text(r.try_get_unchecked(i)?),
                    other => bail!("{table}.{c}: unexpected PostgreSQL type {other}"),
                };
                row.push(v);
            }
            values.push(row);
        }
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("INSERT INTO {table} ({list}) "));
        q.push_values(values, |mut b, row| {
            for v in row {
                match v {
                    Value::Int(v) => b.push_bind(v),
                    Value::Bool(v) => b.push_bind(v),
                    Value::Float(v) => b.push_bind(v),
                    Value::Text(v) => b.push_bind(v),
                    Value::Date(v) => b.push_bind(v),
                };
            }
        });
        copied += q.build().execute(&mut *tx).await?.rows_affected();
    }
    Ok(copied)
}

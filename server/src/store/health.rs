//! Is the database able to take writes? Two answers live here.
//!
//! **Which errors mean "unavailable", not "bug".** A full disk (SQLite `SQLITE_FULL`,
//! PostgreSQL `53100`), an I/O error (`SQLITE_IOERR*`, `58030`, a lost connection) or a damaged
//! file (`SQLITE_CORRUPT`, `SQLITE_NOTADB`, `XX001`/`XX002`) becomes
//! [`StoreError::Unavailable`], answered 503 with `storage_full`, `storage_unavailable` or
//! `storage_corrupt`: nothing was changed, the client may retry, and it is not a 500.
//!
//! **Readiness** ([`Store::ready`], `GET /healthz/ready`): a write round-trip — one row of
//! `health_probe` rewritten in its own transaction, through the same writer as every other
//! write — bounded by [`PROBE_TIMEOUT`]. The answer is cached for [`CACHE_FOR`] and concurrent
//! callers wait for the one probe in flight, so polling it cannot load the database. The row
//! carries [`PROBE_PAD`] bytes, more pages than issuing a ticket writes: on a nearly full disk a
//! probe that needs less room than a ticket could squeeze into the space a failed commit left
//! allocated and report ready while issuing fails. On SQLite a storage failure of any write in
//! the last [`STICKY`] also counts as not ready, for the same reason.

use std::time::{Duration, Instant};

use chrono::Utc;

use super::{Backend, Result, Store, StoreError};

/// How long a readiness answer is reused.
pub const CACHE_FOR: Duration = Duration::from_secs(1);

/// The longest a probe may take before the database is reported unavailable.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Bytes of padding in the probe row (16 pages of 4 KiB).
pub const PROBE_PAD: i64 = 64 * 1024;

/// How long after a write failed for lack of storage the server still reports not ready.
pub const STICKY: Duration = Duration::from_secs(2);

/// Why the storage is not usable: an error code and a message.
pub type Failure = (&'static str, String);

/// The cached answer of the last probe.
#[derive(Debug, Default)]
pub struct Readiness {
    last: tokio::sync::Mutex<Option<(Instant, Option<Failure>)>>,
}

impl Store {
    /// `Ok` if a write round-trip to the database works (cached for [`CACHE_FOR`]); else
    /// [`StoreError::Unavailable`] saying why.
    pub async fn ready(&self) -> Result<()> {
        let mut last = self.readiness.last.lock().await;
        let outcome = match &*last {
            Some((at, outcome)) if at.elapsed() < CACHE_FOR => outcome.clone(),
            _ => {
                let outcome = match tokio::time::timeout(PROBE_TIMEOUT, self.probe()).await {
                    Ok(Ok(())) => None,
                    Ok(Err(StoreError::Unavailable { code, message })) => Some((code, message)),
                    Ok(Err(e)) => Some(("storage_unavailable", format!("{e:#}"))),
                    Err(_) => Some((
                        "storage_unavailable",
                        format!("a write took longer than {PROBE_TIMEOUT:?}"),
                    )),
                };
                *last = Some((Instant::now(), outcome.clone()));
                outcome
            }
        };
        match outcome {
            None => Ok(()),
            Some((code, message)) => Err(StoreError::Unavailable { code, message }),
        }
    }

    /// One tiny write in a transaction of its own.
    async fn probe(&self) -> Result<()> {
        let now = Utc::now().timestamp_millis();
        match &self.backend {
            Backend::Sqlite(db) => {
                db.write(move |tx, _| {
                    tx.conn.execute(
                        "INSERT INTO health_probe (id, at, pad) VALUES (1, ?1, zeroblob(?2)) \
                         ON CONFLICT (id) DO UPDATE SET at = excluded.at, pad = excluded.pad",
                        (now, PROBE_PAD),
                    )?;
                    Ok(())
                })
                .await?;
                match db.storage_failed_within(STICKY) {
                    Some(StoreError::Unavailable { code, message }) => {
                        Err(StoreError::Unavailable { code, message })
                    }
                    _ => Ok(()),
                }
            }
            Backend::Postgres(db) => {
                let mut tx = db.begin().await?;
                sqlx::query(
                    "INSERT INTO health_probe (id, at, pad) VALUES (1, $1, '\\x00'::BYTEA) \
                     ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                )
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }
        }
    }
}

/// A SQLite error that means the storage, not the request, failed.
pub(crate) fn sqlite_unavailable(e: &rusqlite::Error) -> Option<StoreError> {
    let rusqlite::Error::SqliteFailure(f, _) = e else {
        return None;
    };
    sqlite_code_unavailable(f.extended_code, e)
}

/// [`sqlite_unavailable`] by (extended) result code.
fn sqlite_code_unavailable(code: i32, e: &dyn std::fmt::Display) -> Option<StoreError> {
    use rusqlite::ffi;
    let code = match code & 0xff {
        ffi::SQLITE_FULL => "storage_full",
        ffi::SQLITE_IOERR | ffi::SQLITE_CANTOPEN => "storage_unavailable",
        ffi::SQLITE_CORRUPT | ffi::SQLITE_NOTADB => "storage_corrupt",
        _ => return None,
    };
    Some(StoreError::Unavailable {
        code,
        message: e.to_string(),
    })
}

/// A sqlx error (either backend) that means the storage, not the request, failed.
pub(crate) fn sqlx_unavailable(e: &sqlx::Error) -> Option<StoreError> {
    let unavailable = |code: &'static str| StoreError::Unavailable {
        code,
        message: e.to_string(),
    };
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => Some(unavailable("storage_unavailable")),
        sqlx::Error::Database(db) => {
            let code = db.code()?;
            // SQLite reports its numeric result code, PostgreSQL its SQLSTATE.
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                return sqlite_code_unavailable(code.parse().ok()?, e);
            }
            match code.as_ref() {
                "53100" => Some(unavailable("storage_full")),
                "58030" => Some(unavailable("storage_unavailable")),
                "XX001" | "XX002" => Some(unavailable("storage_corrupt")),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether `e` (anywhere in its chain) says the SQLite file is damaged or not a database.
pub fn is_corruption(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        if let Some(e) = cause.downcast_ref::<rusqlite::Error>() {
            return matches!(
                sqlite_unavailable(e),
                Some(StoreError::Unavailable {
                    code: "storage_corrupt",
                    ..
                })
            );
        }
        if let Some(e) = cause.downcast_ref::<sqlx::Error>() {
            return matches!(
                sqlx_unavailable(e),
                Some(StoreError::Unavailable {
                    code: "storage_corrupt",
                    ..
                })
            );
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_an_io_error_and_a_damaged_file_are_unavailable_not_bugs() {
        let err = |code| {
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some("x".into()))
        };
        let code_of = |e: Option<StoreError>| match e {
            Some(StoreError::Unavailable { code, .. }) => Some(code),
            _ => None,
        };
        assert_eq!(
            code_of(sqlite_unavailable(&err(rusqlite::ffi::SQLITE_FULL))),
            Some("storage_full")
        );
        assert_eq!(
            code_of(sqlite_unavailable(&err(rusqlite::ffi::SQLITE_IOERR_WRITE))),
            Some("storage_unavailable")
        );
        assert_eq!(
            code_of(sqlite_unavailable(&err(rusqlite::ffi::SQLITE_NOTADB))),
            Some("storage_corrupt")
        );
        assert_eq!(
            code_of(sqlite_unavailable(&err(
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            ))),
            None
        );
    }
}

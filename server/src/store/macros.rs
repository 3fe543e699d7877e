//! The macros that run one operation on whichever backend the [`Store`](super::Store) has:
//! `write!` (one write transaction), `read!` (one read snapshot) and `either!` (the same
//! method on either backend). Declared first in `store/mod.rs`, so every store file (the
//! facade and the `impl Store` blocks of other areas) can use them.

/// Runs `$op` (an operation of [`crate::hall`] over `tx` and `out`) as one write operation: on SQLite's writer thread, or as a
/// PostgreSQL transaction (run again from the start after a serialization failure or deadlock;
/// `$op` may therefore be evaluated more than once).
macro_rules! write {
    ($self:ident, |$tx:ident, $out:ident| $op:expr) => {{
        match &$self.backend {
            $crate::store::Backend::Sqlite(db) => {
                db.write(move |$tx, $out| $crate::store::sqlite::run_now($op))
                    .await
            }
            $crate::store::Backend::Postgres(db) => {
                let mut attempt = 0;
                loop {
                    let mut conn = db.begin().await?;
                    let mut outbox = $crate::hall::Outbox::default();
                    let (result, events) = {
                        let mut pg = $crate::store::postgres::PgTx::new(&mut conn, db.cache());
                        let $tx = &mut pg;
                        let $out = &mut outbox;
                        let result = $op.await;
                        (result, std::mem::take(&mut pg.events))
                    };
                    match db.finish(conn, events, result).await {
                        Err(e) if $crate::store::postgres::PgStore::retryable(&e, attempt) => {
                            attempt += 1
                        }
                        r => break r,
                    }
                }
            }
        }
    }};
}

/// Runs `$op` (a future using `tx`) on a consistent read snapshot of the backend.
macro_rules! read {
    ($self:ident, |$tx:ident| $op:expr) => {{
        match &$self.backend {
            $crate::store::Backend::Sqlite(db) => {
                db.read(move |$tx| $crate::store::sqlite::run_now($op))
                    .await
            }
            $crate::store::Backend::Postgres(db) => {
                let mut conn = db.begin_read().await?;
                let result = {
                    let mut pg = $crate::store::postgres::PgTx::new(&mut conn, db.cache());
                    let $tx = &mut pg;
                    $op.await
                };
                let _ = conn.commit().await;
                result
            }
        }
    }};
}

/// Calls the same method on whichever backend this is.
macro_rules! either {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {{
        match &$self.backend {
            $crate::store::Backend::Sqlite(db) => db.$method($($arg),*).await,
            $crate::store::Backend::Postgres(db) => db.$method($($arg),*).await,
        }
    }};
}

//! The two macros that run one operation — a function generic over [`Tx`](super::Tx), written
//! once — on whichever backend the [`Store`](super::Store) has: `write!` (one write
//! transaction) and `read!` (one read snapshot, or with `once` a single statement).
//!
//! They are macros because the operation is generic: each arm instantiates it for that
//! backend's transaction type (SQLite's runs synchronously on the thread that owns its
//! connection; PostgreSQL's awaits the network). PostgreSQL's retry of a transaction after a
//! serialization failure or a deadlock is here, in `write!`, and nowhere else.

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
                        (result, pg.written())
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

/// Runs `$op` (a future using `tx`) on a consistent read snapshot of the backend; with `once`,
/// for a single statement, on PostgreSQL without a transaction around it (two round trips
/// fewer: logins and every authenticated request read this way).
macro_rules! read {
    ($self:ident, once |$tx:ident| $op:expr) => {{
        match &$self.backend {
            $crate::store::Backend::Sqlite(db) => {
                db.read(move |$tx| $crate::store::sqlite::run_now($op))
                    .await
            }
            $crate::store::Backend::Postgres(db) => {
                let mut conn = db.pool().acquire().await?;
                let mut pg = $crate::store::postgres::PgTx::new(&mut conn, db.cache());
                let $tx = &mut pg;
                $op.await
            }
        }
    }};
    ($self:ident, |$tx:ident| $op:expr) => {{
        match &$self.backend {
            $crate::store::Backend::Sqlite(db) => {
                db.read(move |$tx| $crate::store::sqlite::run_now($op))
                    .await
            }
            $crate::store::Backend::Postgres(db) => {
                let mut conn = db.begin_read().await?;
                let result = {
                    let mut pg = $crate::store::postgres::PgTx::snapshot(&mut conn, db.cache());
                    let $tx = &mut pg;
                    $op.await
                };
                let _ = conn.commit().await;
                result
            }
        }
    }};
}

//! PostgreSQL keeps a write transaction's history lines, window rows and a call's passed-over
//! remote tickets for the statement before its commit (`store/postgres/kept.rs`): nothing is
//! sent when the rules make them, a statement of the transaction that names their table reads
//! them as written, and the commit stores the rest. The branch's lock reads its windows with it, and the transaction reads
//! them from there until a statement of its own names `windows`. On a fresh database at `QHALL_TEST_POSTGRES_URL`; skipped, saying so,
//! without a PostgreSQL server.

use chrono::{DateTime, Utc};
use qhall_server::auth::token_hash;
use qhall_server::queue::lifecycle::Action;
use qhall_server::store::postgres::{PgStore, PgTx};
use qhall_server::store::sql::Arg;
use qhall_server::store::{Principal, Sql, Store, TicketEvent, Tx};
use qhall_shared::{ServiceCode, WindowNo};
use qhall_tests::{PgDatabase, demo_store_on, pg_database};

/// A fresh demo hall on PostgreSQL (the database lives as long as the first value), its kiosk
/// and the instant; `None` without a PostgreSQL server.
async fn demo_hall() -> Option<(PgDatabase, Store, Principal, DateTime<Utc>)> {
    let db = pg_database().await?;
    let store = demo_store_on(&db.url, "").await;
    let now = Utc::now();
    let kiosk = store
        .principal(&token_hash("demo-kiosk"), now)
        .await
        .unwrap()
        .expect("the demo kiosk");
    Some((db, store, kiosk, now))
}

/// What the connection holds, read past the transaction's kept writes: (window 1's pause
/// reason and current ticket, the kinds of `ticket`'s history in order).
async fn sent(
    conn: &mut sqlx::PgConnection,
    ticket: i64,
) -> (Option<String>, Option<i64>, Vec<String>) {
    let (reason, current): (Option<String>, Option<i64>) = sqlx::query_as(
        "SELECT pause_reason, current_ticket FROM windows WHERE branch_id = 1 AND number = 1",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    let kinds =
        sqlx::query_scalar("SELECT kind FROM ticket_events WHERE ticket_key = $1 ORDER BY id")
            .bind(ticket)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    (reason, current, kinds)
}

#[tokio::test]
async fn kept_writes_are_read_back_in_their_transaction_and_stored_at_its_commit() {
    let Some((_db, store, kiosk, now)) = demo_hall().await else {
        return;
    };
    let service: ServiceCode = "A".parse().unwrap();
    let key = store
        .issue(&kiosk, service, false, None, now)
        .await
        .unwrap()
        .ticket
        .key;
    let pg = store.postgres().expect("a PostgreSQL store");
    let one = WindowNo::new(1).unwrap();
    let line = |kind| TicketEvent {
        ticket: key,
        at: now,
        kind,
        window: Some(one),
        staff: None,
        detail: None,
    };

    let mut conn = pg.begin().await.unwrap();
    let written = {
        let mut tx = PgTx::new(&mut conn, pg.cache());
        let stored = tx.windows(1).await.unwrap();
        tx.lock_branch(1).await.unwrap();
        // The lock reads the branch's windows with its row.
        assert_eq!(tx.windows(1).await.unwrap(), stored);
        let mut w = tx.window(1, one).await.unwrap().expect("window 1");
        let (reason_before, current_before, history_before) = sent(tx.conn(), key).await;
        assert_eq!(history_before, ["issue"]);

        // Kept, not sent.
        w.pause_reason = Some("kept".into());
        tx.update_window(1, &w).await.unwrap();
        tx.append_ticket_event(&line(Action::Recall)).await.unwrap();
        assert_eq!(
            sent(tx.conn(), key).await,
            (reason_before, current_before, history_before.clone()),
            "kept writes are not sent when the rules make them"
        );

        // The windows the lock read are this transaction's own rows.
        let read = tx.window(1, one).await.unwrap().unwrap();
        assert_eq!(read.pause_reason.as_deref(), Some("kept"));
        assert_eq!(
            tx.windows(1).await.unwrap()[0].pause_reason.as_deref(),
            Some("kept")
        );

        // A statement naming the table reads them as written.
        let reasons = tx
            .rows(
                "SELECT pause_reason FROM windows WHERE branch_id = ? AND number = 1",
                &[Arg::from(1i64)],
                |r| r.opt_text("pause_reason"),
            )
            .await
            .unwrap();
        assert_eq!(reasons, [Some("kept".to_owned())]);
        let kinds = tx
            .rows(
                "SELECT kind FROM ticket_events WHERE ticket_key = ? ORDER BY id",
                &[Arg::from(key)],
                |r| r.text("kind"),
            )
            .await
            .unwrap();
        assert_eq!(kinds, ["issue", "recall"]);

        // A statement of its own that changes windows: they are read again.
        tx.execute(
            "UPDATE windows SET appointment_run = 3 WHERE branch_id = ? AND number = 1",
            &[Arg::from(1i64)],
        )
        .await
        .unwrap();
        assert_eq!(tx.window(1, one).await.unwrap().unwrap().appointment_run, 3);

        // Two rows of one window: the later one is stored.
        w.current_ticket = Some(key);
        tx.update_window(1, &w).await.unwrap();
        w.pause_reason = None;
        tx.update_window(1, &w).await.unwrap();
        tx.append_ticket_event(&line(Action::Start)).await.unwrap();
        tx.append_ticket_event(&line(Action::Complete))
            .await
            .unwrap();
        tx.written()
    };
    pg.finish(conn, written, Ok(())).await.unwrap();

    let mut check = pg.pool().acquire().await.unwrap();
    assert_eq!(
        sent(&mut check, key).await,
        (
            None,
            Some(key),
            vec![
                "issue".to_owned(),
                "recall".into(),
                "start".into(),
                "complete".into()
            ]
        ),
        "the commit stores what was still kept, in order"
    );

    // A transaction that fails stores nothing it kept.
    let mut conn = pg.begin().await.unwrap();
    let written = {
        let mut tx = PgTx::new(&mut conn, pg.cache());
        tx.lock_branch(1).await.unwrap();
        tx.append_ticket_event(&line(Action::Recall)).await.unwrap();
        tx.written()
    };
    let failed: qhall_server::store::Result<()> = Err(qhall_server::store::StoreError::conflict(
        "test",
        "refused after keeping a write",
    ));
    assert!(pg.finish(conn, written, failed).await.is_err());
    assert_eq!(sent(&mut check, key).await.2.len(), 4, "rolled back");
}

/// The remote ticket of `ticket`'s passed-over instant, as the connection holds it.
async fn passed_over_at(conn: &mut sqlx::PgConnection, ticket: i64) -> Option<i64> {
    sqlx::query_scalar("SELECT passed_over_at FROM remote_tickets WHERE ticket_key = $1")
        .bind(ticket)
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

/// One transaction that keeps a call's passed over (of `service`'s tickets queued at or before
/// `queue_at`, at `at`) and commits it.
async fn pass_over(pg: &PgStore, service: ServiceCode, queue_at: DateTime<Utc>, at: DateTime<Utc>) {
    let mut conn = pg.begin().await.unwrap();
    let written = {
        let mut tx = PgTx::new(&mut conn, pg.cache());
        tx.lock_branch(1).await.unwrap();
        tx.passed_over(1, service, queue_at, at).await.unwrap();
        tx.written()
    };
    pg.finish(conn, written, Ok(())).await.unwrap();
}

/// Clears the passed-over instant of `ticket`'s remote ticket.
async fn not_passed_over(conn: &mut sqlx::PgConnection, ticket: i64) {
    sqlx::query("UPDATE remote_tickets SET passed_over_at = NULL WHERE ticket_key = $1")
        .bind(ticket)
        .execute(&mut *conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_calls_passed_over_is_kept_until_a_statement_reads_tickets_or_the_commit() {
    let Some((_db, store, kiosk, now)) = demo_hall().await else {
        return;
    };
    let service: ServiceCode = "A".parse().unwrap();
    let ahead = store
        .issue(&kiosk, service, false, None, now)
        .await
        .unwrap()
        .ticket;
    let called = store
        .issue(
            &kiosk,
            service,
            false,
            None,
            now + chrono::Duration::seconds(1),
        )
        .await
        .unwrap()
        .ticket;
    let pg = store.postgres().expect("a PostgreSQL store");
    let mut check = pg.pool().acquire().await.unwrap();
    // The ticket ahead came from a phone and has not checked in.
    sqlx::query(
        "INSERT INTO remote_tickets (ticket_key, branch_id, day, code, browser, created_at) \
         VALUES ($1, 1, $2, 'R1', 'b', 0)",
    )
    .bind(ahead.key)
    .bind(ahead.day)
    .execute(&mut *check)
    .await
    .unwrap();
    let at = now + chrono::Duration::seconds(2);
    let at_ms = at.timestamp_millis();

    // Kept, not sent; a statement naming `tickets` stores it first.
    let mut conn = pg.begin().await.unwrap();
    let written = {
        let mut tx = PgTx::new(&mut conn, pg.cache());
        tx.lock_branch(1).await.unwrap();
        tx.passed_over(1, service, called.queue_at, at)
            .await
            .unwrap();
        assert_eq!(
            passed_over_at(tx.conn(), ahead.key).await,
            None,
            "kept, not sent when the rules make it"
        );
        let read = tx
            .rows(
                "SELECT passed_over_at FROM remote_tickets WHERE ticket_key = ?",
                &[Arg::from(ahead.key)],
                |r| r.opt_int("passed_over_at"),
            )
            .await
            .unwrap();
        assert_eq!(
            read,
            [Some(at_ms)],
            "a statement naming tickets reads it as written"
        );
        tx.written()
    };
    pg.finish(conn, written, Ok(())).await.unwrap();
    assert_eq!(passed_over_at(&mut check, ahead.key).await, Some(at_ms));

    // Kept to the end: the commit stores it.
    not_passed_over(&mut check, ahead.key).await;
    pass_over(pg, service, called.queue_at, at).await;
    assert_eq!(
        passed_over_at(&mut check, ahead.key).await,
        Some(at_ms),
        "the commit stores the kept passed over"
    );

    // A call of a ticket queued before the remote one passes nothing over.
    not_passed_over(&mut check, ahead.key).await;
    let earlier = ahead.queue_at - chrono::Duration::seconds(1);
    pass_over(pg, service, earlier, at).await;
    assert_eq!(passed_over_at(&mut check, ahead.key).await, None);
}

//! The oversight trail (issue #11, parts 2 and 3): the identity step and the events outside a
//! ticket's ordinary life — a call out of order with the tickets it jumped, an extension with
//! its reason, a reinstated no-show, transfers between services and windows — each with its own
//! kind in the ticket history, and the report's tables exact on a constructed history, on both
//! databases, with an injected clock.

use qhall_server::hall::{TransferTo, WindowAction};
use qhall_server::store::{Principal, Store, StoreError};
use qhall_shared::WindowNo;
use qhall_tests::{at, demo_store_on, kiosk_principal, pg_database, query_texts, user_principal};

/// B requires the identity step, A offers it; the demo hall is open around the clock.
const IDENTITY: &str = "UPDATE services SET identity_check = 'required' WHERE code = 'B'; \
    UPDATE services SET identity_check = 'optional' WHERE code = 'A'; \
    UPDATE branches SET config_version = config_version + 1";

fn w(n: u32) -> WindowNo {
    WindowNo::new(n).unwrap()
}

struct Hall {
    store: Store,
    s1: Principal,
    s2: Principal,
}

impl Hall {
    async fn issue(&self, service: &str, when: &str) -> String {
        let t = self
            .store
            .issue(
                &kiosk_principal(),
                service.parse().unwrap(),
                false,
                None,
                at(when),
            )
            .await
            .unwrap();
        t.ticket.number.to_string()
    }

    async fn act(
        &self,
        who: &Principal,
        n: u32,
        a: WindowAction,
        when: &str,
    ) -> Result<String, StoreError> {
        let t = self.store.act(who, w(n), a, at(when)).await?;
        Ok(t.ticket.number.to_string())
    }

    async fn next(&self, who: &Principal, n: u32, when: &str) -> String {
        let t = self.store.call_next(who, w(n), at(when)).await.unwrap();
        t.expect("a ticket waits").ticket.number.to_string()
    }
}

fn code(e: &StoreError) -> String {
    match e {
        StoreError::Conflict { code, .. } => code.to_string(),
        other => format!("{other:?}"),
    }
}

async fn the_trail_and_its_tables_are_exact(url: &str) {
    let store = demo_store_on(url, IDENTITY).await;
    let hall = Hall {
        s1: user_principal(&store, "staff1").await,
        s2: user_principal(&store, "staff2").await,
        store,
    };
    let (s1, s2) = (&hall.s1, &hall.s2);
    use qhall_server::hall::WindowChange::SignIn;
    for (who, n) in [(s1, 1), (s2, 2)] {
        hall.store
            .change_window(who, w(n), SignIn, at("2026-03-02T01:59:00Z"))
            .await
            .unwrap();
    }
    for _ in 0..3 {
        hall.issue("B", "2026-03-02T02:00:00Z").await;
    }
    // Staff 1 calls B003 out of order, over B001 and B002.
    hall.store
        .call_number(
            s1,
            w(1),
            &"B003".parse().unwrap(),
            at("2026-03-02T02:05:00Z"),
        )
        .await
        .unwrap();
    // B requires the identity check: completing without it changes nothing.
    let refused = hall
        .act(s1, 1, WindowAction::Complete, "2026-03-02T02:06:00Z")
        .await
        .unwrap_err();
    assert_eq!(code(&refused), "identity_not_checked");
    let b003 = "SELECT status FROM tickets WHERE number = 'B003'";
    assert_eq!(query_texts(url, b003).await, ["called"]);
    hall.act(s1, 1, WindowAction::CheckIdentity, "2026-03-02T02:07:00Z")
        .await
        .unwrap();
    let twice = hall
        .act(s1, 1, WindowAction::CheckIdentity, "2026-03-02T02:07:10Z")
        .await
        .unwrap_err();
    assert_eq!(code(&twice), "identity_already_checked");
    let ext = WindowAction::Extend("complex case".into());
    hall.act(s1, 1, ext, "2026-03-02T02:07:30Z").await.unwrap();
    hall.act(s1, 1, WindowAction::Start, "2026-03-02T02:08:00Z")
        .await
        .unwrap();
    hall.act(s1, 1, WindowAction::Complete, "2026-03-02T02:18:00Z")
        .await
        .unwrap();
    assert_eq!(query_texts(url, b003).await, ["done"]);

    // Staff 2: B001 absent, reinstated, called again, checked and completed.
    assert_eq!(hall.next(s2, 2, "2026-03-02T02:10:00Z").await, "B001");
    hall.act(s2, 2, WindowAction::NoShow, "2026-03-02T02:12:00Z")
        .await
        .unwrap();
    hall.store
        .reinstate(
            s2,
            w(2),
            &"B001".parse().unwrap(),
            at("2026-03-02T02:13:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(hall.next(s2, 2, "2026-03-02T02:14:00Z").await, "B001");
    hall.act(s2, 2, WindowAction::CheckIdentity, "2026-03-02T02:15:00Z")
        .await
        .unwrap();
    hall.act(s2, 2, WindowAction::Complete, "2026-03-02T02:16:00Z")
        .await
        .unwrap();

    // Staff 1: B002 sent to A's line, called again there and completed without the (optional)
    // check; staff 2: D001 sent to window 3.
    assert_eq!(hall.next(s1, 1, "2026-03-02T02:20:00Z").await, "B002");
    let to_a = TransferTo::Service("A".parse().unwrap());
    hall.store
        .transfer(s1, w(1), to_a, at("2026-03-02T02:21:00Z"))
        .await
        .unwrap();
    assert_eq!(hall.next(s1, 1, "2026-03-02T02:22:00Z").await, "B002");
    hall.act(s1, 1, WindowAction::Complete, "2026-03-02T02:25:00Z")
        .await
        .unwrap();
    hall.issue("D", "2026-03-02T02:30:00Z").await;
    assert_eq!(hall.next(s2, 2, "2026-03-02T02:31:00Z").await, "D001");
    hall.store
        .transfer(
            s2,
            w(2),
            TransferTo::Window(w(3)),
            at("2026-03-02T02:32:00Z"),
        )
        .await
        .unwrap();

    // The history: each exception its own kind, with its detail.
    let trail = query_texts(
        url,
        "SELECT t.number || ' ' || e.kind || ' ' || COALESCE(e.detail, '') FROM ticket_events e \
         JOIN tickets t ON t.key = e.ticket_key WHERE e.kind NOT IN ('issue', 'call', 'start', 'complete') \
         ORDER BY e.id",
    )
    .await;
    assert_eq!(
        trail,
        [
            r#"B003 call_out_of_order {"jumped":["B001","B002"],"jumped_count":2}"#,
            "B003 check_identity ",
            r#"B003 extend {"reason":"complex case"}"#,
            "B001 no_show ",
            "B001 reinstate ",
            "B001 check_identity ",
            r#"B002 transfer {"from_service":"B","to_service":"A"}"#,
            r#"D001 transfer {"from_window":2,"to_window":3}"#,
        ]
    );
    // Who checked, and when; nothing else is kept.
    let checked = query_texts(
        url,
        "SELECT t.number || ' ' || u.username FROM tickets t JOIN users u ON u.id = t.identity_checked_by \
         WHERE t.identity_checked_at IS NOT NULL ORDER BY t.number",
    )
    .await;
    assert_eq!(checked, ["B001 staff2", "B003 staff1"]);

    // The report's tables over the day.
    let cfg = hall.store.config(1).await.unwrap();
    let from = at("2026-03-01T16:00:00Z");
    let o = hall
        .store
        .oversight(cfg, from, from + chrono::Duration::days(1))
        .await
        .unwrap();
    let (id1, id2) = (s1.user_id.unwrap(), s2.user_id.unwrap());
    let out_of_order: Vec<_> = o
        .out_of_order_by_staff
        .iter()
        .map(|c| (c.key, c.count))
        .collect();
    assert_eq!(out_of_order, [(id1, 1)]);
    let reinstated: Vec<_> = o
        .reinstated_by_staff
        .iter()
        .map(|c| (c.key, c.count))
        .collect();
    assert_eq!(reinstated, [(id2, 1)]);
    assert_eq!(o.extended_by_service.len(), 1);
    let b = &o.extended_by_service[0];
    assert_eq!((b.key.to_string(), b.count), ("B".to_owned(), 1));
    assert_eq!(b.reasons.get("complex case"), Some(&1));
    assert_eq!(b.mean_service_secs, Some(600.0));
    assert_eq!(o.extended_by_staff[0].key, id1);
    let transfers: Vec<_> = o
        .service_transfers
        .iter()
        .map(|t| (t.from.to_string(), t.to.to_string(), t.count))
        .collect();
    assert_eq!(transfers, [("B".to_owned(), "A".to_owned(), 1)]);
    let windows: Vec<_> = o
        .window_transfers
        .iter()
        .map(|t| (t.from, t.to, t.count))
        .collect();
    assert_eq!(windows, [(2, 3, 1)]);
    let by_service: Vec<_> = o
        .identity_by_service
        .iter()
        .map(|s| (s.key.to_string(), s.completed, s.checked, s.share))
        .collect();
    assert_eq!(
        by_service,
        [
            ("A".to_owned(), 1, 0, Some(0.0)),
            ("B".to_owned(), 2, 2, Some(1.0))
        ]
    );
    let by_staff: Vec<_> = o
        .identity_by_staff
        .iter()
        .map(|s| (s.key, s.completed, s.checked, s.share))
        .collect();
    assert_eq!(by_staff, [(id1, 2, 1, Some(0.5)), (id2, 1, 1, Some(1.0))]);

    // The report reads a closed day's tables through the day cache (SQLite): the same tables
    // before the day is cached, from the cache, and again after a later event on one of the
    // day's tickets (D001, sent to window 3, is called there the next morning and sent on).
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let next_day = day.succ_opt().unwrap();
    let cfg = hall.store.config(1).await.unwrap();
    let by_days = |today| {
        let (store, cfg) = (hall.store.clone(), cfg.clone());
        async move { store.oversight_days(cfg, day, day, today).await.unwrap() }
    };
    assert_eq!(by_days(next_day).await, o, "read straight from the day");
    hall.store
        .report_days(&cfg, day, day, next_day)
        .await
        .unwrap();
    if url.starts_with("sqlite") {
        let cached = query_texts(
            url,
            "SELECT day || ' ' || (oversight IS NOT NULL) FROM report_days",
        )
        .await;
        assert_eq!(
            cached,
            ["2026-03-02 1"],
            "the day's oversight rows are cached"
        );
        // A cleared column is read again and kept.
        qhall_tests::run_sql(url, &["UPDATE report_days SET oversight = NULL"]).await;
        assert_eq!(by_days(next_day).await, o, "read again");
        let cached = query_texts(
            url,
            "SELECT day || ' ' || (oversight IS NOT NULL) FROM report_days",
        )
        .await;
        assert_eq!(cached, ["2026-03-02 1"]);
    }
    assert_eq!(by_days(next_day).await, o, "read from the cache");
    let s3 = user_principal(&hall.store, "staff3").await;
    hall.store
        .change_window(&s3, w(3), SignIn, at("2026-03-03T01:00:00Z"))
        .await
        .unwrap();
    assert_eq!(hall.next(&s3, 3, "2026-03-03T01:01:00Z").await, "D001");
    hall.store
        .transfer(
            &s3,
            w(3),
            TransferTo::Window(w(4)),
            at("2026-03-03T01:02:00Z"),
        )
        .await
        .unwrap();
    let later = by_days(next_day + chrono::Duration::days(1)).await;
    let windows: Vec<_> = later
        .window_transfers
        .iter()
        .map(|t| (t.from, t.to, t.count))
        .collect();
    assert_eq!(windows, [(2, 3, 1), (3, 4, 1)], "the day's tables follow");
    let range = hall
        .store
        .oversight(cfg.clone(), from, from + chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(later, range);
}

#[tokio::test]
async fn the_trail_and_its_tables_are_exact_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    the_trail_and_its_tables_are_exact(&url).await;
}

#[tokio::test]
async fn the_trail_and_its_tables_are_exact_on_postgresql() {
    let Some(pg) = pg_database().await else {
        return;
    };
    the_trail_and_its_tables_are_exact(&pg.url).await;
}

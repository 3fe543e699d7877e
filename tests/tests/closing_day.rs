//! Closing the day (issue #11, part 1): at the end of the last open period the tickets still
//! waiting are cancelled with reason `closed`, once, on either database — against the real
//! store with an injected clock.

use qhall_server::store::Store;
use qhall_tests::{at, demo_store_on, kiosk_principal as kiosk, pg_database, query_texts};

/// A Shanghai office open 09:00–12:00 and 13:00–17:00 on weekdays, no cut-off.
const OFFICE: &str = "UPDATE branches SET weekly_hours = \
    '[[[540,720],[780,1020]],[[540,720],[780,1020]],[[540,720],[780,1020]],[[540,720],[780,1020]],[[540,720],[780,1020]],[],[]]', \
    cutoff_mins = 0, config_version = config_version + 1";

async fn leftovers_are_cancelled_at_closing_once(url: &str, second: Store) {
    let store = demo_store_on(url, OFFICE).await;
    // Monday 2 March 2026: three tickets at 10:00 Shanghai (02:00 UTC).
    for _ in 0..3 {
        store
            .issue(
                &kiosk(),
                "A".parse().unwrap(),
                false,
                None,
                at("2026-03-02T02:00:00Z"),
            )
            .await
            .unwrap();
    }
    // At lunch the day is not over: the last closing was the Friday before, with nothing left.
    let lunch = store
        .close_day(1, at("2026-03-02T04:30:00Z"))
        .await
        .unwrap();
    assert_eq!(
        lunch.map(|(d, n)| (d.to_string(), n)),
        Some(("2026-02-27".into(), 0))
    );
    assert_eq!(store.waiting_total(1).await.unwrap(), 3);

    // 17:00:01 Shanghai: both servers try to close Monday at once; it is closed once.
    let evening = at("2026-03-02T09:00:01Z");
    let (a, b) = tokio::join!(store.close_day(1, evening), second.close_day(1, evening));
    let mut closed: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(closed.len(), 1, "closed twice: {closed:?}");
    let (day, n) = closed.pop().unwrap();
    assert_eq!((day.to_string(), n), ("2026-03-02".into(), 3));
    assert_eq!(store.waiting_total(1).await.unwrap(), 0);
    // Later checks find the day closed (a server started the next morning does nothing).
    assert_eq!(
        store
            .close_day(1, at("2026-03-03T00:30:00Z"))
            .await
            .unwrap(),
        None
    );

    let kinds = query_texts(
        url,
        "SELECT e.kind || ' ' || COALESCE(e.detail, '') FROM ticket_events e \
         WHERE e.kind = 'close_day' ORDER BY e.id",
    )
    .await;
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(
        kinds.iter().all(|k| k.contains("\"reason\":\"closed\"")),
        "{kinds:?}"
    );
    let statuses = query_texts(url, "SELECT status FROM tickets ORDER BY key").await;
    assert_eq!(statuses, ["cancelled", "cancelled", "cancelled"]);
    let audit = query_texts(
        url,
        "SELECT detail FROM audit_log WHERE action = 'close_day' ORDER BY id",
    )
    .await;
    assert_eq!(audit.len(), 2, "{audit:?}"); // Friday's (nothing) and Monday's
    assert!(audit[1].contains("\"cancelled\":3"), "{audit:?}");
}

/// A second store on the database at `url` (another server), opened once the first has
/// created and seeded it.
async fn second_server(url: &str) -> Store {
    drop(demo_store_on(url, "").await);
    Store::open(
        url,
        false,
        std::sync::Arc::default(),
        qhall_server::queue::policy::Policy::Default,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn leftovers_are_cancelled_at_closing_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    leftovers_are_cancelled_at_closing_once(&url, second_server(&url).await).await;
}

#[tokio::test]
async fn leftovers_are_cancelled_at_closing_once_on_postgresql() {
    let Some(pg) = pg_database().await else {
        return;
    };
    leftovers_are_cancelled_at_closing_once(&pg.url, second_server(&pg.url).await).await;
}

#[tokio::test]
async fn a_hall_open_around_the_clock_never_closes_its_day() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    let store = demo_store_on(&url, "").await;
    store
        .issue(
            &kiosk(),
            "A".parse().unwrap(),
            false,
            None,
            at("2026-03-02T02:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .close_day(1, at("2026-03-09T02:00:00Z"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.waiting_total(1).await.unwrap(), 1);
}

//! The report's per-day cache of closed days (SQLite): a report read through it equals the
//! report read straight from the tickets, and any later change to a cached day's tickets or
//! ratings drops that day from the cache, so a report never shows stale figures.

use chrono::{Duration, NaiveDate, Utc};
use qhall_server::hall::{WindowAction, WindowChange};
use qhall_server::queue::report::{Tables, tables};
use qhall_server::queue::schedule::{local_date, local_instant};
use qhall_server::store::{Principal, Role, Store};
use qhall_shared::WindowNo;
use qhall_tests::{demo_store, kiosk_principal as kiosk};

async fn straight(store: &Store, from: NaiveDate, to: NaiveDate) -> Tables {
    let cfg = store.config(1).await.unwrap();
    let tz = cfg.schedule.tz;
    let t = store
        .report_tickets(
            &cfg,
            local_instant(tz, from, 0),
            local_instant(tz, to, 1440),
        )
        .await
        .unwrap();
    let services: Vec<_> = cfg.services.iter().map(|s| s.code).collect();
    tables(&services, &t)
}

async fn cached(store: &Store, from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Tables {
    let cfg = store.config(1).await.unwrap();
    let t = store.report_days(&cfg, from, to, today).await.unwrap();
    let services: Vec<_> = cfg.services.iter().map(|s| s.code).collect();
    tables(&services, &t)
}

/// How many of the last three closed days are cached.
async fn cached_days(store: &Store) -> usize {
    let cfg = store.config(1).await.unwrap();
    let today = local_date(cfg.schedule.tz, Utc::now());
    let db = store.sqlite().expect("SQLite");
    3 - db.uncached_days(&cfg, today, 3).await.unwrap().len()
}

#[tokio::test]
async fn cached_days_give_the_same_report_and_changes_drop_them() {
    let (_dir, store) = demo_store("").await;
    let cfg = store.config(1).await.unwrap();
    let tz = cfg.schedule.tz;
    let today = local_date(tz, Utc::now());
    let u = store.user_by_name("staff1").await.unwrap().unwrap();
    let staff = Principal {
        role: Role::Staff,
        branch_id: 1,
        user_id: Some(u.id),
        device_id: None,
        username: Some("staff1".into()),
    };
    let w1 = WindowNo::new(1).unwrap();
    // Three days back and today: at 10:00 local, A, B and C; window 1 serves the A and the B.
    for back in (0..4).rev() {
        let day = today - Duration::days(back);
        let t0 = local_instant(tz, day, 600);
        let m = |min: i64| t0 + Duration::minutes(min);
        store
            .change_window(&staff, w1, WindowChange::SignIn, m(0))
            .await
            .unwrap();
        for (i, s) in ["A", "B", "C"].iter().enumerate() {
            store
                .issue(&kiosk(), s.parse().unwrap(), false, None, m(i as i64))
                .await
                .unwrap();
        }
        for k in 0..2 {
            store.call_next(&staff, w1, m(5 + 10 * k)).await.unwrap();
            store
                .act(&staff, w1, WindowAction::Start, m(6 + 10 * k))
                .await
                .unwrap();
            store
                .act(&staff, w1, WindowAction::Complete, m(10 + 10 * k + back))
                .await
                .unwrap();
        }
        store
            .change_window(&staff, w1, WindowChange::SignOut, m(30))
            .await
            .unwrap();
    }
    let from = today - Duration::days(3);

    let want = straight(&store, from, today).await;
    assert_eq!(want.overall.figures.issued, 12);
    assert_eq!(cached_days(&store).await, 0);
    assert_eq!(cached(&store, from, today, today).await, want, "first read");
    assert_eq!(cached_days(&store).await, 3, "the three closed days");
    assert_eq!(
        cached(&store, from, today, today).await,
        want,
        "from the cache"
    );

    // A correction to a ticket of two days ago drops that day, and the report shows it.
    store
        .execute_batch(&format!(
            "UPDATE tickets SET status = 'no_show', serving_at = NULL \
             WHERE day = '{}' AND issued_service = 'B'",
            today - Duration::days(2)
        ))
        .await
        .unwrap();
    assert_eq!(cached_days(&store).await, 2);
    let changed = straight(&store, from, today).await;
    assert_ne!(changed, want);
    assert_eq!(changed.overall.figures.no_show, 1);
    assert_eq!(cached(&store, from, today, today).await, changed);
    assert_eq!(cached_days(&store).await, 3);

    // A rating for yesterday's ticket drops yesterday.
    store
        .execute_batch(&format!(
            "INSERT INTO ratings (ticket_key, branch_id, window_number, score, created_at) \
             SELECT key, 1, 1, 2, done_at FROM tickets WHERE day = '{}' AND issued_service = 'A'",
            today - Duration::days(1)
        ))
        .await
        .unwrap();
    assert_eq!(cached_days(&store).await, 2);
    let rated = cached(&store, from, today, today).await;
    assert_eq!(rated.overall.satisfaction, [0, 1, 0, 0, 0]);
    assert_eq!(rated, straight(&store, from, today).await);

    // A change of time zone makes the cached hours of day stale: they are not used.
    store
        .execute_batch(
            "UPDATE branches SET time_zone = 'Europe/Berlin', config_version = config_version + 1",
        )
        .await
        .unwrap();
    let berlin = cached(&store, from, today - Duration::days(1), today).await;
    assert_eq!(
        berlin,
        straight(&store, from, today - Duration::days(1)).await
    );
    assert_eq!(
        berlin.by_hour[3].figures.issued, 9,
        "10:00 Beijing is 03:00 Berlin"
    );

    // The warmer caches what is missing and nothing more: of the last five closed days (now in
    // Berlin), those since the first ticket's — two or three, by the hour this runs.
    let berlin_tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let now = Utc::now();
    let first_ticket = local_date(berlin_tz, local_instant(tz, today - Duration::days(3), 600));
    let since_first = (local_date(berlin_tz, now) - first_ticket).num_days();
    assert!((2..=3).contains(&since_first));
    store
        .execute_batch("DELETE FROM report_days")
        .await
        .unwrap();
    assert_eq!(
        store.warm_report_cache(now, 5).await.unwrap() as i64,
        since_first
    );
    assert_eq!(store.warm_report_cache(now, 5).await.unwrap(), 0);
}

#[tokio::test]
async fn a_hall_without_tickets_has_no_days_to_cache() {
    let (_dir, store) = demo_store("").await;
    assert_eq!(store.warm_report_cache(Utc::now(), 400).await.unwrap(), 0);
}

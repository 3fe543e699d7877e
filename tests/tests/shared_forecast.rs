//! Servers on one PostgreSQL share their forecast tables: a server due to recompute a branch
//! takes the table another computed in the last second (one row instead of a snapshot of the
//! hall and a forward simulation), the same table (its seconds to within JSON's float parsing, a
//! unit in the last place); an older one is recomputed. On
//! SQLite (one server) every refresh computes. Without PostgreSQL the test says it skipped.

use chrono::{Duration, Utc};
use qhall_server::forecast::{ForecastTable, Refreshed, refresh};
use qhall_server::hall::WindowChange;
use qhall_server::store::Store;
use qhall_shared::WindowNo;
use qhall_tests::{demo_store_on, kiosk_principal, pg_database, user_principal};

/// Three waiting for A, window 1 open.
async fn hall_with_a_line(store: &Store, now: chrono::DateTime<Utc>) {
    let kiosk = kiosk_principal();
    for i in 0..3 {
        store
            .issue(
                &kiosk,
                "A".parse().unwrap(),
                false,
                None,
                now + Duration::seconds(i),
            )
            .await
            .unwrap();
    }
    let staff1 = user_principal(store, "staff1").await;
    store
        .change_window(
            &staff1,
            WindowNo::new(1).unwrap(),
            WindowChange::SignIn,
            now,
        )
        .await
        .unwrap();
}

/// The same table: every field, the seconds to a unit in the last place.
fn same(x: &ForecastTable, y: &ForecastTable) {
    assert_eq!(
        (x.computed_at, x.seq, x.policy, x.runs, x.lines.len()),
        (y.computed_at, y.seq, y.policy, y.runs, y.lines.len())
    );
    let close = |a: &[f64], b: &[f64]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(a, b)| (a - b).abs() <= 4.0 * f64::EPSILON * a.abs().max(1.0))
    };
    for (a, b) in x.lines.iter().zip(&y.lines) {
        assert_eq!(a.service, b.service);
        assert!(close(&a.waits_secs, &b.waits_secs), "{a:?} {b:?}");
        let (pa, pb) = (
            a.priority_waits_secs.as_deref(),
            b.priority_waits_secs.as_deref(),
        );
        assert!(pa.zip(pb).is_none_or(|(pa, pb)| close(pa, pb)) && pa.is_some() == pb.is_some());
        assert!(close(&[a.per_extra_secs], &[b.per_extra_secs]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_takes_the_forecast_another_computed_in_the_last_second() {
    let Some(db) = pg_database().await else {
        return;
    };
    let (a, b) = (
        demo_store_on(&db.url, "").await,
        demo_store_on(&db.url, "").await,
    );
    let now = Utc::now();
    hall_with_a_line(&a, now).await;

    let t = now + Duration::seconds(5);
    assert_eq!(
        refresh(&a, 1, None, t).await,
        Refreshed::Computed { anyone: true }
    );
    let computed = a.forecasts.get(1).expect("a table");
    assert!(
        computed.lines.iter().any(|l| l.waits_secs.len() == 4),
        "three ahead and one issued now: {computed:?}"
    );
    assert_eq!(
        refresh(&b, 1, None, t + Duration::milliseconds(500)).await,
        Refreshed::Shared { anyone: true }
    );
    same(&b.forecasts.get(1).expect("shared"), &computed);
    // A second later the shared table is too old to take: B computes its own and shares it.
    let later = t + Duration::milliseconds(1500);
    assert_eq!(
        refresh(&b, 1, None, later).await,
        Refreshed::Computed { anyone: true }
    );
    assert_eq!(b.forecasts.get(1).unwrap().computed_at, later);
    assert_eq!(
        refresh(&a, 1, None, later + Duration::milliseconds(10)).await,
        Refreshed::Shared { anyone: true }
    );
    assert_eq!(a.forecasts.get(1).unwrap().computed_at, later);
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn one_server_on_sqlite_computes_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("f.db").display());
    let store = demo_store_on(&url, "").await;
    let now = Utc::now();
    hall_with_a_line(&store, now).await;
    for ms in [0, 100] {
        assert_eq!(
            refresh(&store, 1, None, now + Duration::milliseconds(ms)).await,
            Refreshed::Computed { anyone: true }
        );
    }
    store.close().await;
}

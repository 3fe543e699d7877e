//! PostgreSQL issues a walk-in's ticket in one statement (`qhall_issue`, the branch locked for
//! one round trip). It must give exactly what issuing step by step gives: two databases, the
//! same history, one issuing at once and the other step by step, must end with the same
//! tickets (numbers, people ahead, estimates), the same history lines and the same event stream
//! — through the formula and the forecast, priority and normal, a number range that wraps, a
//! booking due while a walk-in waits, a repeated idempotency key, a refusal, a configuration
//! changed under the cache. Without PostgreSQL the test says it skipped.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use qhall_server::forecast::{ForecastTable, LineForecast};
use qhall_server::hall::{WindowAction, WindowChange};
use qhall_server::store::{Principal, Store};
use qhall_shared::{ServiceCode, WindowNo};
use qhall_tests::{demo_store_on, kiosk_principal, pg_database, user_principal};

/// C takes bookings; D's numbers run 1 to 3, so the fourth wraps.
const SETUP: &str = "\
INSERT INTO appointment_settings (branch_id, service_code, enabled) VALUES (1, 'C', TRUE);
UPDATE services SET first_number = 1, last_number = 3 WHERE branch_id = 1 AND code = 'D';
";

fn code(s: &str) -> ServiceCode {
    s.parse().unwrap()
}

fn w(n: u32) -> WindowNo {
    WindowNo::new(n).unwrap()
}

/// What an issue answered, without the ticket's random id.
type Outcome = Result<(String, u32, u64, bool, bool), String>;

async fn issue(
    store: &Store,
    at_once: bool,
    who: &Principal,
    service: &str,
    priority: bool,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Outcome {
    let issued = if at_once {
        store.issue(who, code(service), priority, key, now).await
    } else {
        store
            .issue_step_by_step(who, code(service), priority, key, now)
            .await
    };
    issued
        .map(|i| {
            (
                i.ticket.number.as_str().to_owned(),
                i.ticket.estimate_ahead,
                i.ticket.estimate_secs,
                i.ticket.priority,
                i.created,
            )
        })
        .map_err(|e| e.to_string())
}

fn forecast(now: DateTime<Utc>) -> Arc<ForecastTable> {
    Arc::new(ForecastTable {
        computed_at: now,
        seq: 1,
        policy: "balanced",
        runs: 1,
        lines: vec![LineForecast {
            service: code("A"),
            // Halves, to check the rounding (half away from zero, as Rust's).
            waits_secs: vec![0.5, 90.5, 150.49, 212.5],
            priority_waits_secs: Some(vec![2.5, 60.5]),
            per_extra_secs: 61.25,
        }],
        compute_ms: 0.0,
    })
}

/// The history, the same on both databases; every issue's outcome.
async fn history(store: &Store, url: &str, at_once: bool, now: DateTime<Utc>) -> Vec<Outcome> {
    let kiosk = kiosk_principal();
    let staff1 = user_principal(store, "staff1").await;
    let staff2 = user_principal(store, "staff2").await;
    let mut seen = Vec::new();
    let t = |s: i64| now + Duration::seconds(s);

    // No window open: the formula assumes one, at the default service time.
    for (i, (s, p)) in [
        ("A", false),
        ("A", false),
        ("B", false),
        ("A", true),
        ("D", false),
    ]
    .into_iter()
    .enumerate()
    {
        seen.push(issue(store, at_once, &kiosk, s, p, None, t(i as i64)).await);
    }
    // Two windows serving A and B (one with D) open; one serves a customer for 250 s.
    for (who, n) in [(&staff1, 1), (&staff2, 2)] {
        store
            .change_window(who, w(n), WindowChange::SignIn, t(10))
            .await
            .unwrap();
    }
    store.call_next(&staff1, w(1), t(20)).await.unwrap();
    store
        .act(&staff1, w(1), WindowAction::Start, t(30))
        .await
        .unwrap();
    store
        .act(&staff1, w(1), WindowAction::Complete, t(280))
        .await
        .unwrap();
    store
        .call_number(&staff2, w(2), &"D001".parse().unwrap(), t(290))
        .await
        .unwrap();
    // The recent mean service time, one idle window and one busy, shares of mixed lines.
    for (i, (s, p)) in [("A", false), ("B", true), ("D", false), ("D", false)]
        .into_iter()
        .enumerate()
    {
        seen.push(issue(store, at_once, &kiosk, s, p, None, t(300 + i as i64)).await);
    }
    // D's range is 1–3: one of them leaves, the next number wraps to it; then none is free.
    store
        .act(&staff2, w(2), WindowAction::Start, t(310))
        .await
        .unwrap();
    store
        .act(&staff2, w(2), WindowAction::Complete, t(320))
        .await
        .unwrap();
    seen.push(issue(store, at_once, &kiosk, "D", false, None, t(330)).await);
    seen.push(issue(store, at_once, &kiosk, "D", false, None, t(331)).await);

    // A forecast for A: inside the table, beyond it, and the priority line.
    store.forecasts.set(1, forecast(t(340)));
    for (i, (s, p)) in [("A", false), ("A", true), ("A", false), ("B", false)]
        .into_iter()
        .enumerate()
    {
        seen.push(issue(store, at_once, &kiosk, s, p, None, t(340 + i as i64)).await);
    }
    // A repeated key gives the same ticket; a service that does not exist is refused.
    seen.push(issue(store, at_once, &kiosk, "B", false, Some("k1"), t(350)).await);
    seen.push(issue(store, at_once, &kiosk, "B", false, Some("k1"), t(351)).await);
    seen.push(issue(store, at_once, &kiosk, "Z", false, None, t(352)).await);

    // A booking of C due while a walk-in of C waits counts as ahead of it.
    let db = pool(url).await;
    let day: String = sqlx::query_scalar("SELECT day::TEXT FROM tickets ORDER BY key LIMIT 1")
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    let slot = (t(400).timestamp_millis(), t(1300).timestamp_millis());
    store
        .execute_batch(&format!(
            "INSERT INTO bookings (branch_id, service_code, slot_start, slot_end, day, code, lang, \
             source, created_at) VALUES (1, 'C', {}, {}, '{day}', 'BK1', 'en', 'web', 0)",
            slot.0, slot.1
        ))
        .await
        .unwrap();
    seen.push(issue(store, at_once, &kiosk, "C", false, None, t(360)).await);
    seen.push(issue(store, at_once, &kiosk, "C", false, None, t(361)).await);

    // The configuration changes under the server's cache: still the same tickets.
    store
        .execute_batch("UPDATE branches SET config_version = config_version + 1 WHERE id = 1")
        .await
        .unwrap();
    seen.push(issue(store, at_once, &kiosk, "A", false, None, t(370)).await);
    seen.push(issue(store, at_once, &kiosk, "B", false, None, t(371)).await);
    seen
}

async fn pool(url: &str) -> sqlx::PgPool {
    sqlx::PgPool::connect(url).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuing_in_one_statement_gives_what_issuing_step_by_step_gives() {
    let (Some(a), Some(b)) = (pg_database().await, pg_database().await) else {
        return;
    };
    let now = Utc::now();
    let at_once = demo_store_on(&a.url, SETUP).await;
    let by_step = demo_store_on(&b.url, SETUP).await;

    let seen_at_once = history(&at_once, &a.url, true, now).await;
    let seen_by_step = history(&by_step, &b.url, false, now).await;
    for (i, (x, y)) in seen_at_once.iter().zip(&seen_by_step).enumerate() {
        assert_eq!(x, y, "issue {i}");
    }
    assert_eq!(seen_at_once.len(), seen_by_step.len());

    // The cases the history meant to reach were reached (on both).
    let ok: Vec<_> = seen_by_step.iter().flatten().collect();
    assert!(ok.iter().any(|o| o.0 == "D001" && o.4), "D wrapped: {ok:?}");
    assert!(
        seen_by_step
            .iter()
            .any(|o| matches!(o, Err(e) if e.contains("still in use"))),
        "D ran out of numbers: {seen_by_step:?}"
    );
    assert!(ok.iter().any(|o| !o.4), "a repeated key");
    assert!(
        seen_by_step
            .iter()
            .any(|o| matches!(o, Err(e) if e.contains("no service"))),
        "a refusal"
    );
    // The forecast: inside its table (212.5 s with three ahead), its priority line (2.5 s),
    // beyond it by its pace (212.5 + 2 × 61.25 s), rounded half away from zero.
    let estimates: Vec<(u32, u64)> = ok.iter().map(|o| (o.1, o.2)).collect();
    for expected in [(3, 213), (0, 3), (5, 335)] {
        assert!(
            estimates.contains(&expected),
            "{expected:?} in {estimates:?}"
        );
    }
    // C's walk-ins follow the booking due while they wait: 2 and 3 service times, not 1 and 2.
    let c: Vec<u64> = ok
        .iter()
        .filter(|o| o.0.starts_with('C'))
        .map(|o| o.2)
        .collect();
    assert!(c.len() == 2 && c[0] > 0 && c[0] * 3 == c[1] * 2, "C: {c:?}");

    // PostgreSQL issued at once, except the first (configuration not yet cached), after the
    // change, and where it answered with a refusal.
    let issued = at_once.postgres().unwrap().issued_at_once();
    assert!(issued >= 14, "{issued} issued at once");
    assert_eq!(by_step.postgres().unwrap().issued_at_once(), 0);

    // The same event stream, message for message, and the same history lines.
    let stream = |s: Store| async move { s.events_since(1, 0).await.unwrap().unwrap() };
    assert_eq!(stream(at_once.clone()).await, stream(by_step.clone()).await);
    let sql = "SELECT t.number, e.kind, e.at, e.window_number, e.staff_user_id \
               FROM ticket_events e JOIN tickets t ON t.key = e.ticket_key ORDER BY e.id";
    type Line = (String, String, i64, Option<i64>, Option<i64>);
    let (da, db) = (pool(&a.url).await, pool(&b.url).await);
    let x: Vec<Line> = sqlx::query_as(sql).fetch_all(&da).await.unwrap();
    let y: Vec<Line> = sqlx::query_as(sql).fetch_all(&db).await.unwrap();
    da.close().await;
    db.close().await;
    assert!(x.len() > 20);
    assert_eq!(x, y);
    at_once.close().await;
    by_step.close().await;
}

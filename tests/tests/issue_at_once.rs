//! PostgreSQL issues walk-ins in one statement (`qhall_issue_walk_ins`, the branch locked for one
//! round trip), one or several together, of one branch or several. It must give exactly what issuing step by step
//! gives: two databases, the same history, one issuing at once (each alone, or in groups
//! together) and the other step by step, must end with the same
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

/// How the history's walk-ins are issued.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Each in one statement (a batch of one).
    AtOnce,
    /// Each of a group in one statement together (`Store::issue_together`).
    Together,
    /// Step by step: the reference.
    ByStep,
}

async fn issue(
    store: &Store,
    mode: Mode,
    who: &Principal,
    service: &str,
    priority: bool,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Outcome {
    let issued = match mode {
        Mode::AtOnce | Mode::Together => store.issue(who, code(service), priority, key, now).await,
        Mode::ByStep => {
            store
                .issue_step_by_step(who, code(service), priority, key, now)
                .await
        }
    };
    outcome(issued)
}

/// A group of walk-ins issued in order: together in one statement, or one after the other.
async fn group(
    store: &Store,
    mode: Mode,
    who: &Principal,
    walk_ins: &[(&str, bool, Option<&str>, DateTime<Utc>)],
) -> Vec<Outcome> {
    if mode == Mode::Together {
        let walk_ins: Vec<_> = walk_ins
            .iter()
            .map(|&(s, p, k, t)| (who, code(s), p, k, t))
            .collect();
        let issued = store.issue_together(&walk_ins).await;
        assert_eq!(issued.len(), walk_ins.len());
        return issued.into_iter().map(outcome).collect();
    }
    let mut seen = Vec::new();
    for &(s, p, k, t) in walk_ins {
        seen.push(issue(store, mode, who, s, p, k, t).await);
    }
    seen
}

fn outcome(issued: qhall_server::store::Result<qhall_server::hall::issue::Issued>) -> Outcome {
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
async fn history(store: &Store, url: &str, mode: Mode, now: DateTime<Utc>) -> Vec<Outcome> {
    let kiosk = kiosk_principal();
    let staff1 = user_principal(store, "staff1").await;
    let staff2 = user_principal(store, "staff2").await;
    let mut seen = Vec::new();
    let t = |s: i64| now + Duration::seconds(s);

    // No window open: the formula assumes one, at the default service time. (The first
    // issue caches the configuration; a group needs it.)
    seen.push(issue(store, mode, &kiosk, "A", false, None, t(0)).await);
    let walk_ins = [
        ("A", false, None, t(1)),
        ("B", false, None, t(2)),
        ("A", true, None, t(3)),
        ("D", false, None, t(4)),
    ];
    seen.extend(group(store, mode, &kiosk, &walk_ins).await);
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
    let walk_ins = [
        ("A", false, None, t(300)),
        ("B", true, None, t(301)),
        ("D", false, None, t(302)),
        ("D", false, None, t(303)),
    ];
    seen.extend(group(store, mode, &kiosk, &walk_ins).await);
    // D's range is 1–3: one of them leaves, the next number wraps to it; then none is free.
    store
        .act(&staff2, w(2), WindowAction::Start, t(310))
        .await
        .unwrap();
    store
        .act(&staff2, w(2), WindowAction::Complete, t(320))
        .await
        .unwrap();
    let walk_ins = [("D", false, None, t(330)), ("D", false, None, t(331))];
    seen.extend(group(store, mode, &kiosk, &walk_ins).await);

    // A forecast for A: inside the table, beyond it, and the priority line.
    store.forecasts.set(1, forecast(t(340)));
    let walk_ins = [
        ("A", false, None, t(340)),
        ("A", true, None, t(341)),
        ("A", false, None, t(342)),
        ("B", false, None, t(343)),
    ];
    seen.extend(group(store, mode, &kiosk, &walk_ins).await);
    // A repeated key gives the same ticket; a service that does not exist is refused.
    // (Together: the repeat in the same statement as the first.)
    let walk_ins = [
        ("B", false, Some("k1"), t(350)),
        ("B", false, Some("k1"), t(351)),
        ("A", false, Some("k2"), t(351)),
    ];
    seen.extend(group(store, mode, &kiosk, &walk_ins).await);
    seen.push(issue(store, mode, &kiosk, "B", false, Some("k2"), t(352)).await);
    seen.push(issue(store, mode, &kiosk, "Z", false, None, t(352)).await);

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
    let walk_ins = [("C", false, None, t(360)), ("C", false, None, t(361))];
    seen.extend(group(store, mode, &kiosk, &walk_ins).await);

    // The configuration changes under the server's cache: still the same tickets.
    store
        .execute_batch("UPDATE branches SET config_version = config_version + 1 WHERE id = 1")
        .await
        .unwrap();
    let walk_ins = [("A", false, None, t(370)), ("B", false, None, t(371))];
    seen.extend(group(store, mode, &kiosk, &walk_ins).await);
    seen
}

async fn pool(url: &str) -> sqlx::PgPool {
    sqlx::PgPool::connect(url).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuing_in_one_statement_gives_what_issuing_step_by_step_gives() {
    same_as_step_by_step(Mode::AtOnce).await;
}

/// Several walk-ins in one statement (`qhall_issue_walk_ins`, as the server's issue lane sends
/// those that arrive together) end where issuing them one after the other ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuing_together_gives_what_issuing_one_after_the_other_gives() {
    same_as_step_by_step(Mode::Together).await;
}

async fn same_as_step_by_step(mode: Mode) {
    let (Some(a), Some(b)) = (pg_database().await, pg_database().await) else {
        return;
    };
    let now = Utc::now();
    let at_once = demo_store_on(&a.url, SETUP).await;
    let by_step = demo_store_on(&b.url, SETUP).await;

    let seen_at_once = history(&at_once, &a.url, mode, now).await;
    let seen_by_step = history(&by_step, &b.url, Mode::ByStep, now).await;
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
    let pg = at_once.postgres().unwrap();
    let issued = pg.issued_at_once();
    assert!(issued >= 14, "{issued} issued at once");
    assert_eq!(by_step.postgres().unwrap().issued_at_once(), 0);
    let statements = pg.batches().statements();
    if mode == Mode::Together {
        // Seven groups of two to four and one lone issue in a statement each; every ticket of
        // a group issued by its statement but D's last (no number left: step by step) and the
        // repeated key (found: step by step), none after the change. A statement that failed
        // (and changed nothing) would leave its group to step by step: fewer here.
        assert_eq!((issued, statements), (17, 8));
    } else {
        assert!(statements >= issued, "{issued} in {statements} statements");
    }

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

/// Walk-ins arriving at once go to the database together (the server's issue lanes), and each
/// gets a ticket of its own: no number twice, everyone ahead counted, one event each with the
/// seq one past the last and the line's length growing by one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walk_ins_arriving_together_share_statements_and_each_gets_its_own() {
    let Some(a) = pg_database().await else {
        return;
    };
    let store = demo_store_on(&a.url, "").await;
    let kiosk = kiosk_principal();
    let now = Utc::now();
    // The first caches the configuration (step by step).
    store
        .issue(&kiosk, code("A"), false, None, now)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (store, kiosk) = (store.clone(), kiosk.clone());
            let service = if i % 2 == 0 { "A" } else { "B" };
            tokio::spawn(async move {
                let issued = store.issue(&kiosk, code(service), false, None, now).await;
                (service, issued.map_err(|e| e.to_string()).unwrap().ticket)
            })
        })
        .collect();
    let mut tickets = Vec::new();
    for t in tasks {
        tickets.push(t.await.unwrap());
    }
    let mut numbers: Vec<&str> = tickets.iter().map(|(_, t)| t.number.as_str()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 200, "every number once");
    // In the order they were issued, each had everyone before it of its service ahead.
    tickets.sort_by_key(|(_, t)| t.key);
    for service in ["A", "B"] {
        let ahead: Vec<u32> = tickets
            .iter()
            .filter(|(s, _)| *s == service)
            .map(|(_, t)| t.estimate_ahead)
            .collect();
        let first = u32::from(service == "A");
        assert_eq!(ahead, (first..first + 100).collect::<Vec<_>>(), "{service}");
    }

    let pg = store.postgres().unwrap();
    assert_eq!(pg.issued_at_once(), 200);
    let statements = pg.batches().statements();
    assert!(statements < 200, "200 issued in {statements} statements");

    // One event each, seq after seq, the service's waiting count one more each time.
    let db = pool(&a.url).await;
    let events: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, body FROM stream_events WHERE branch_id = 1 ORDER BY seq")
            .fetch_all(&db)
            .await
            .unwrap();
    let waiting: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT COUNT(*) FILTER (WHERE service_code = 'A'), COUNT(*) FILTER (WHERE service_code \
         = 'B') FROM tickets WHERE status = 'waiting'",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let counted: Vec<(String, i64)> = sqlx::query_as(
        "SELECT service_code, SUM(n)::BIGINT FROM waiting_counts GROUP BY service_code ORDER BY 1",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    db.close().await;
    assert_eq!(waiting, vec![(101, 100)]);
    assert_eq!(counted, vec![("A".to_owned(), 101), ("B".to_owned(), 100)]);
    let issued: Vec<(i64, serde_json::Value)> = events
        .iter()
        .map(|(seq, body)| (*seq, serde_json::from_str(body).unwrap()))
        .filter(|(_, m): &(i64, serde_json::Value)| m["type"] == "issued")
        .collect();
    assert_eq!(issued.len(), 201);
    let seqs: Vec<i64> = events.iter().map(|e| e.0).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    for service in ["A", "B"] {
        let counts: Vec<i64> = issued
            .iter()
            .filter(|(_, m)| m["service"] == service)
            .map(|(_, m)| m["waiting"].as_i64().unwrap())
            .collect();
        let n = if service == "A" { 101 } else { 100 };
        assert_eq!(counts, (1..=n).collect::<Vec<_>>(), "{service}");
    }
    store.close().await;
}

/// Branch 2: a copy of the demo branch (services, windows), with a kiosk of its own (device 100).
const SECOND_BRANCH: &str = "\
CREATE TEMP TABLE b2 AS SELECT * FROM branches WHERE id = 1;
UPDATE b2 SET id = 2, name_en = 'Second';
INSERT INTO branches SELECT * FROM b2;
CREATE TEMP TABLE s2 AS SELECT * FROM services WHERE branch_id = 1;
UPDATE s2 SET branch_id = 2;
INSERT INTO services SELECT * FROM s2;
INSERT INTO windows (branch_id, number, name) SELECT 2, number, name FROM windows WHERE branch_id = 1;
INSERT INTO window_services SELECT 2, window_number, service_code, rank, weight
FROM window_services WHERE branch_id = 1;
INSERT INTO devices (id, branch_id, name, role, token_hash, created_at)
VALUES (100, 2, 'Kiosk', 'kiosk', 'second-kiosk', 0);
UPDATE branches SET config_version = config_version + 1;
";

/// The second branch's kiosk as the store sees it.
fn second_kiosk() -> Principal {
    Principal {
        branch_id: 2,
        device_id: Some(100),
        ..kiosk_principal()
    }
}

/// The demo hall with its copy as branch 2 on `url`, each branch's configuration kept (a first
/// walk-in of A at each, step by step), and the two branches' kiosks.
async fn two_branches_issuing(url: &str, now: DateTime<Utc>) -> (Store, Principal, Principal) {
    let store = demo_store_on(url, SECOND_BRANCH).await;
    let (k1, k2) = (kiosk_principal(), second_kiosk());
    for who in [&k1, &k2] {
        store.issue(who, code("A"), false, None, now).await.unwrap();
    }
    (store, k1, k2)
}

/// A transaction holding `branch`'s lock, as a window's write does.
async fn hold(db: &sqlx::PgPool, branch: i64) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut holder = db.begin().await.unwrap();
    sqlx::query("SELECT id FROM branches WHERE id = $1 FOR UPDATE")
        .bind(branch)
        .execute(&mut *holder)
        .await
        .unwrap();
    holder
}

/// Walk-ins of two branches, interleaved: `(branch, service, priority, key)`.
const MIXED: [(i64, &str, bool, Option<&str>); 9] = [
    (1, "A", false, None),
    (2, "A", false, None),
    (2, "B", false, Some("k1")),
    (1, "B", false, Some("k1")),
    (1, "A", true, None),
    (2, "A", true, None),
    (1, "B", false, Some("k1")),
    (2, "D", false, None),
    (1, "A", false, None),
];

/// Each branch's tickets (number, ahead, estimate, priority), event stream and history lines.
type Ends = (
    Vec<Outcome>,
    Vec<Vec<String>>,
    Vec<(i64, String, String, i64)>,
);

async fn two_branches(store: &Store, url: &str, mode: Mode, now: DateTime<Utc>) -> Ends {
    let (k1, k2) = (kiosk_principal(), second_kiosk());
    let who = |b: i64| if b == 1 { &k1 } else { &k2 };
    let mut seen = Vec::new();
    // The first of each branch caches its configuration (step by step).
    for b in [1, 2] {
        seen.push(issue(store, mode, who(b), "A", false, None, now).await);
    }
    let t = |i: usize| now + Duration::seconds(1 + i as i64);
    if mode == Mode::Together {
        let walk_ins: Vec<_> = MIXED
            .iter()
            .enumerate()
            .map(|(i, &(b, s, p, k))| (who(b), code(s), p, k, t(i)))
            .collect();
        seen.extend(
            store
                .issue_together(&walk_ins)
                .await
                .into_iter()
                .map(outcome),
        );
    } else {
        for (i, &(b, s, p, k)) in MIXED.iter().enumerate() {
            seen.push(issue(store, mode, who(b), s, p, k, t(i)).await);
        }
    }
    let mut streams = Vec::new();
    for b in [1, 2] {
        let events = store.events_since(b, 0).await.unwrap().unwrap();
        streams.push(events.iter().map(|e| format!("{e:?}")).collect());
    }
    let db = pool(url).await;
    let lines: Vec<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT t.branch_id, t.number, e.kind, e.at \
         FROM ticket_events e JOIN tickets t ON t.key = e.ticket_key ORDER BY e.id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    db.close().await;
    (seen, streams, lines)
}

/// Walk-ins of two branches in one statement (`qhall_issue_walk_ins`, as a server's issue lane
/// sends those that arrive together in a city) end where issuing each branch's step by step
/// ends: the same numbers, people ahead and estimates, each branch's own event stream seq after
/// seq, the same history; a key repeated within a branch is issued once, the same key at
/// another branch's kiosk is that kiosk's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walk_ins_of_two_branches_in_one_statement_give_what_each_branch_alone_gives() {
    let (Some(a), Some(b)) = (pg_database().await, pg_database().await) else {
        return;
    };
    let now = Utc::now();
    let together = demo_store_on(&a.url, SECOND_BRANCH).await;
    let by_step = demo_store_on(&b.url, SECOND_BRANCH).await;
    let x = two_branches(&together, &a.url, Mode::Together, now).await;
    let y = two_branches(&by_step, &b.url, Mode::ByStep, now).await;
    assert_eq!(x.0, y.0);
    assert_eq!(x.1, y.1);
    assert_eq!(x.2, y.2);

    // What the history meant to reach: both branches issued, each from its first number; the
    // repeated key answered with its ticket, not a new one.
    let ok: Vec<_> = y.0.iter().flatten().collect();
    assert_eq!(ok.len(), MIXED.len() + 2, "{:?}", y.0);
    assert_eq!(ok.iter().filter(|o| o.0 == "A001").count(), 2, "{ok:?}");
    assert_eq!(
        ok.iter().filter(|o| !o.4).count(),
        1,
        "one repeated key: {ok:?}"
    );

    // The two branches' walk-ins went in one statement: all but the repeated key (step by step).
    let pg = together.postgres().unwrap();
    assert_eq!(pg.batches().statements(), 1);
    assert_eq!(pg.issued_at_once(), MIXED.len() as u64 - 1);
    assert_eq!(pg.batches().skipped(), 0);
    together.close().await;
    by_step.close().await;
}

/// A branch another transaction holds (a window's call, another server's statement) is not
/// waited for: the statement issues the other branch's walk-in and skips it; its walk-in is
/// issued once the branch is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_branch_does_not_hold_up_another_branchs_walk_ins() {
    let Some(a) = pg_database().await else {
        return;
    };
    let now = Utc::now();
    let (store, k1, k2) = two_branches_issuing(&a.url, now).await;
    let db = pool(&a.url).await;
    let holder = hold(&db, 2).await;
    let task = {
        let (store, k1, k2) = (store.clone(), k1.clone(), k2.clone());
        tokio::spawn(async move {
            let walk_ins = [
                (&k1, code("A"), false, None, now),
                (&k2, code("A"), false, None, now),
            ];
            store.issue_together(&walk_ins).await
        })
    };
    // Branch 1's ticket is committed while branch 2 is still held.
    let count = |branch: i64| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM tickets WHERE branch_id = $1")
                .bind(branch)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    let pg = store.postgres().unwrap();
    let mut waited = 0;
    // (The statement counts the skip just after its commit.)
    while count(1).await < 2 || pg.batches().skipped() == 0 {
        assert!(
            waited < 300,
            "branch 1's walk-in waited for branch 2's lock, or branch 2 was not skipped"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(pg.batches().skipped(), 1);
    assert_eq!(count(2).await, 1);
    assert!(!task.is_finished());
    holder.commit().await.unwrap();
    let issued = task.await.unwrap();
    let numbers: Vec<String> = issued
        .into_iter()
        .map(|i| i.unwrap().ticket.number.as_str().to_owned())
        .collect();
    assert_eq!(numbers, ["A002", "A002"]);
    assert_eq!(count(2).await, 2);
    db.close().await;
    store.close().await;
}

/// Walk-ins of several branches arriving at once at one server share statements, and each gets
/// a ticket of its own: per branch, every number once, everyone before it ahead, one event each
/// seq after seq.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walk_ins_of_several_branches_arriving_together_each_get_their_own() {
    let Some(a) = pg_database().await else {
        return;
    };
    let now = Utc::now();
    let (store, k1, k2) = two_branches_issuing(&a.url, now).await;
    let kiosks = [k1, k2];
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (store, who) = (store.clone(), kiosks[i % 2].clone());
            tokio::spawn(async move {
                let issued = store.issue(&who, code("A"), false, None, now).await;
                (
                    who.branch_id,
                    issued.map_err(|e| e.to_string()).unwrap().ticket,
                )
            })
        })
        .collect();
    let mut tickets = Vec::new();
    for t in tasks {
        tickets.push(t.await.unwrap());
    }
    tickets.sort_by_key(|(_, t)| t.key);
    let pg = store.postgres().unwrap();
    let statements = pg.batches().statements();
    assert!(statements < 200, "200 issued in {statements} statements");
    let db = pool(&a.url).await;
    for branch in [1, 2] {
        let mine: Vec<_> = tickets.iter().filter(|(b, _)| *b == branch).collect();
        let mut numbers: Vec<&str> = mine.iter().map(|(_, t)| t.number.as_str()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), 100, "branch {branch}: every number once");
        let ahead: Vec<u32> = mine.iter().map(|(_, t)| t.estimate_ahead).collect();
        assert_eq!(ahead, (1..101).collect::<Vec<_>>(), "branch {branch}");
        let seqs: Vec<i64> =
            sqlx::query_scalar("SELECT seq FROM stream_events WHERE branch_id = $1 ORDER BY seq")
                .bind(branch)
                .fetch_all(&db)
                .await
                .unwrap();
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
        let last: i64 = sqlx::query_scalar("SELECT event_seq FROM branches WHERE id = $1")
            .bind(branch)
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(seqs.last(), Some(&last));
        let waiting: i64 = sqlx::query_scalar(
            "SELECT SUM(n)::BIGINT FROM waiting_counts WHERE branch_id = $1 AND service_code = 'A'",
        )
        .bind(branch)
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(waiting, 101, "branch {branch}");
    }
    db.close().await;
    store.close().await;
}

/// A branch held past the statement's bound (250 ms; a window's transaction on a server that
/// stopped answering, say) does not stall the server's issuing: that branch's walk-ins wait for
/// it in transactions of their own, and the other branch's are issued meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_held_for_long_does_not_stall_another_branchs_walk_ins() {
    let Some(a) = pg_database().await else {
        return;
    };
    let now = Utc::now();
    let (store, k1, k2) = two_branches_issuing(&a.url, now).await;
    let pg = store.postgres().unwrap();
    let db = pool(&a.url).await;
    let holder = hold(&db, 1).await;
    let spawn_issue = |who: Principal| {
        let store = store.clone();
        tokio::spawn(async move { store.issue(&who, code("A"), false, None, now).await })
    };
    let before = pg.batches().statements();
    let first = spawn_issue(k1.clone());
    // Branch 2's walk-in comes while branch 1's statement waits for its lock.
    while pg.batches().statements() == before {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let second = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        store.issue(&k2, code("A"), false, None, now),
    )
    .await
    .expect("branch 2's walk-in waited behind held branch 1")
    .unwrap();
    assert_eq!(second.ticket.number.as_str(), "A002");
    // Branch 1's next walk-in does not try the statement again: it goes step by step at once.
    let statements = pg.batches().statements();
    let later = spawn_issue(k1.clone());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(pg.batches().statements(), statements);
    assert!(!first.is_finished() && !later.is_finished());
    holder.commit().await.unwrap();
    let mut numbers = Vec::new();
    for t in [first, later] {
        numbers.push(t.await.unwrap().unwrap().ticket.number.as_str().to_owned());
    }
    numbers.sort();
    assert_eq!(numbers, ["A002", "A003"]);
    assert_eq!(pg.batches().held(), 1);
    db.close().await;
    store.close().await;
}

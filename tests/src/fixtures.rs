//! The demo hall as the tests meet it: the tokens the seed gives its devices, the real store on a
//! fresh database (for tests that inject the clock), the store's principals, and SQL that grows
//! the hall or fills a busy week.

/// The demo kiosk's token.
pub const KIOSK: &str = "demo-kiosk";
/// The demo display's token.
pub const DISPLAY: &str = "demo-display";

/// The token of the demo rating pad bound to window `n` (1 to 4): `demo-pad-N`.
pub fn pad(n: u32) -> String {
    format!("demo-pad-{n}")
}

/// The real store (no HTTP) on a fresh demo-hall database, for tests that inject the clock;
/// `setup` is SQL run once after seeding (it should bump `config_version`).
pub async fn demo_store(setup: &str) -> (tempfile::TempDir, qhall_server::store::Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    let store = demo_store_on(&url, setup).await;
    (dir, store)
}

/// The real store on the database at `url`, seeded with the demo hall, then `setup` run.
pub async fn demo_store_on(url: &str, setup: &str) -> qhall_server::store::Store {
    use qhall_server::store::Store;
    let hub = std::sync::Arc::new(qhall_server::events::Hub::default());
    let store = Store::open(
        url,
        false,
        hub,
        qhall_server::queue::policy::Policy::Default,
    )
    .await
    .expect("open store");
    qhall_server::store::seed::demo(&store, chrono::Utc::now())
        .await
        .expect("seed");
    if !setup.is_empty() {
        store.execute_batch(setup).await.expect("setup SQL");
    }
    store
}

/// SQL adding windows `from..=to` of branch 1 serving `services`, and one staff user per window
/// (`wstaffN`, password `demo`).
pub fn windows_sql(from: u32, to: u32, services: &[&str]) -> Vec<String> {
    let mut stmts = Vec::new();
    for n in from..=to {
        stmts.push(format!(
            "INSERT INTO windows (branch_id, number, name) VALUES (1, {n}, 'Window {n}')"
        ));
        for (rank, s) in services.iter().enumerate() {
            stmts.push(format!(
                "INSERT INTO window_services (branch_id, window_number, service_code, rank, weight) VALUES (1, {n}, '{s}', {rank}, 1.0)"
            ));
        }
        stmts.push(format!(
            "INSERT INTO users (branch_id, username, password_hash, role, created_at) \
             SELECT 1, 'wstaff{n}', password_hash, 'staff', 0 FROM users WHERE username = 'staff1'"
        ));
    }
    stmts
}

/// SQL for the attendance tests' office, open weekdays 09:00–12:00 and 13:00–17:00, and its
/// window log: each `(window, user, kind, day, "HH:MM")` a line as the server writes it, at that
/// Shanghai time on `day` March 2026.
pub fn office_log_sql(lines: &[(u32, &str, &str, u32, &str)]) -> Vec<String> {
    use chrono::TimeZone;
    let mut sql = vec![
        "UPDATE branches SET weekly_hours = '[[[540,720],[780,1020]],[[540,720],[780,1020]],[[540,720],[780,1020]],[[540,720],[780,1020]],[[540,720],[780,1020]],[],[]]'".to_owned(),
    ];
    for &(window, user, kind, day, hhmm) in lines {
        let (h, m) = hhmm.split_once(':').expect("HH:MM");
        let local = chrono::NaiveDate::from_ymd_opt(2026, 3, day)
            .expect("a day of March 2026")
            .and_hms_opt(h.parse().expect("hours"), m.parse().expect("minutes"), 0)
            .expect("a time of day");
        let at = chrono_tz::Asia::Shanghai
            .from_local_datetime(&local)
            .unwrap()
            .timestamp_millis();
        sql.push(format!(
            "INSERT INTO window_log (branch_id, window_number, user_id, kind, reason, at) \
             SELECT 1, {window}, id, '{kind}', NULL, {at} FROM users WHERE username = '{user}'"
        ));
    }
    sql
}

/// The demo kiosk as the store sees it.
pub fn kiosk_principal() -> qhall_server::store::Principal {
    qhall_server::store::Principal {
        role: qhall_server::store::Role::Kiosk,
        branch_id: 1,
        user_id: None,
        device_id: Some(1),
        username: None,
    }
}

/// Demo user `name` (staff or manager of the demo branch) as the store sees them.
pub async fn user_principal(
    store: &qhall_server::store::Store,
    name: &str,
) -> qhall_server::store::Principal {
    let u = store.user_by_name(name).await.unwrap().expect("demo user");
    qhall_server::store::Principal {
        role: u.role,
        branch_id: 1,
        user_id: Some(u.id),
        device_id: None,
        username: Some(u.username),
    }
}

/// An RFC 3339 instant, for injected clocks.
pub fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("RFC 3339")
        .with_timezone(&chrono::Utc)
}

/// SQL (SQLite) writing a week of the demo hall straight into the database: `per_day` tickets a
/// day for the last 7 UTC days (09:00–17:00 Beijing time), 90 % served, 5 % no-shows, 5 %
/// cancelled, at windows 1–4 by staff1–4; waits grow through the day, so mornings meet the
/// target and afternoons do not. For the manager pages' tests and screenshots.
pub fn busy_week_sql(per_day: u64) -> String {
    let today = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    format!(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last}), \
         g AS MATERIALIZED (SELECT i, char(65 + abs(random()) % 4) AS svc, \
               abs(random()) % 28800000 AS o, \
               120000 + abs(random()) % 600000 AS service, \
               abs(random()) % 100 AS fate, 1 + abs(random()) % 4 AS win FROM n), \
         h AS MATERIALIZED (SELECT *, {today} - (i / {per_day}) * 86400000 + 3600000 + o AS issued, \
               abs(random()) % (120000 + o / 10) AS wait FROM g) \
         INSERT INTO tickets (id, branch_id, service_code, issued_service, number, number_seq, day, priority, status, \
             issued_at, queue_at, window_number, staff_user_id, first_called_at, last_called_at, serving_at, done_at, \
             estimate_ahead, estimate_secs) \
         SELECT hex(randomblob(16)), 1, svc, svc, svc || printf('%03d', i % 999 + 1), i % 999 + 1, \
             date((issued + 28800000) / 1000, 'unixepoch'), 0, \
             CASE WHEN fate < 90 THEN 'done' WHEN fate < 95 THEN 'no_show' ELSE 'cancelled' END, \
             issued, issued, \
             CASE WHEN fate < 95 THEN win END, CASE WHEN fate < 95 THEN win + 1 END, \
             CASE WHEN fate < 95 THEN issued + wait END, CASE WHEN fate < 95 THEN issued + wait END, \
             CASE WHEN fate < 90 THEN issued + wait + 30000 END, \
             CASE WHEN fate < 90 THEN issued + wait + 30000 + service WHEN fate < 95 THEN issued + wait + 180000 ELSE issued + 600000 END, \
             wait / 360000, max(0, wait / 1000 + abs(random()) % 600 - 300) FROM h",
        last = per_day * 7 - 1,
    )
}

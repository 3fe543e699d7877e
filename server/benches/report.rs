//! The managers' report over a year of a large hall, on SQLite.
//!
//! `cargo bench -p qhall-server --bench report` generates 700,000 tickets spread over the last
//! 365 days of the demo hall (opening hours 09:00–17:00 Beijing time, four services, four
//! windows and staff, 90 % served, 5 % no-shows, 5 % cancelled, a third of the served rated),
//! then asks the running server for `GET /api/v1/reports` over those 365 days several times and
//! prints the time of each answer: the SQLite read, the grouping and the JSON, end to end over
//! HTTP. Goal (issue #6): ≤ 200 ms. `QHALL_BENCH_TICKETS` changes the count. It also prints
//! the read straight from the tickets (what a report costs before the per-day cache of closed
//! days is built) and how long building that cache takes, and the oversight tables' own read
//! (4 % of the tickets carry an extension, a call out of order, a transfer or a
//! reinstatement). (The CTE is
//! materialized so that each ticket's random draws are made once, not once per use.)

use std::time::{Duration, Instant};

use serde_json::{Value, json};

const RUNS: usize = 7;

fn main() {
    let tickets: u64 = std::env::var("QHALL_BENCH_TICKETS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(700_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("year.db").display());
        let config = qhall_server::Config {
            listen: "127.0.0.1:0".into(),
            database_url: db.clone(),
            demo: true,
            ..Default::default()
        };
        let store = qhall_server::open_store(&config).await.unwrap();
        let started = Instant::now();
        // Beijing is UTC+8 all year: day d's 09:00 local is 01:00 UTC.
        let today_utc_midnight = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis();
        let per_day = tickets.div_ceil(365);
        let sql = format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last}), \
             g AS MATERIALIZED (SELECT i, char(65 + abs(random()) % 4) AS svc, \
                   {today} - (i / {per_day}) * 86400000 + 3600000 + abs(random()) % 28800000 AS issued, \
                   abs(random()) % 2400000 AS wait, 120000 + abs(random()) % 600000 AS service, \
                   abs(random()) % 100 AS fate, 1 + abs(random()) % 4 AS win FROM n) \
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
                 wait / 360000, max(0, wait / 1000 + abs(random()) % 600 - 300) FROM g; \
             INSERT INTO ratings (ticket_key, branch_id, window_number, staff_user_id, score, created_at) \
                 SELECT key, 1, window_number, staff_user_id, 1 + abs(random()) % 5, done_at FROM tickets \
                 WHERE status = 'done' AND key % 3 = 0; \
             INSERT INTO ticket_events (ticket_key, at, kind, window_number, staff_user_id, detail) \
                 SELECT key, first_called_at + 60000, \
                   CASE key % 4 WHEN 0 THEN 'extend' WHEN 1 THEN 'call_out_of_order' WHEN 2 THEN 'transfer' ELSE 'reinstate' END, \
                   window_number, staff_user_id, \
                   CASE key % 4 WHEN 0 THEN '{{\"reason\":\"complex case\"}}' \
                     WHEN 2 THEN '{{\"from_service\":\"A\",\"to_service\":\"B\"}}' END \
                 FROM tickets WHERE first_called_at IS NOT NULL AND key % 25 = 0;",
            last = tickets - 1,
            today = today_utc_midnight,
        );
        store.execute_batch(&sql).await.unwrap();
        println!("generated {tickets} tickets over 365 days in {:.1} s", started.elapsed().as_secs_f64());

        // Where the time goes without the cache: the database read, then the grouping.
        let cfg = store.config(1).await.unwrap();
        let (from, to) = (chrono::DateTime::from_timestamp_millis(today_utc_midnight - 365 * 86_400_000).unwrap(), chrono::Utc::now() + chrono::Duration::days(1));
        for _ in 0..2 {
            let t = Instant::now();
            let rows = store.report_tickets(&cfg, from, to).await.unwrap();
            let read = t.elapsed();
            let services: Vec<_> = cfg.services.iter().map(|s| s.code).collect();
            let t = Instant::now();
            let tables = qhall_server::queue::report::tables(&services, &rows);
            let group = t.elapsed();
            assert_eq!(tables.overall.figures.issued, rows.len() as u64);
            println!("  read {} rows: {:.0} ms; group: {:.0} ms", rows.len(), read.as_secs_f64() * 1000.0, group.as_secs_f64() * 1000.0);
        }
        // The oversight tables (extensions, out-of-order calls, transfers…): their own read.
        for _ in 0..2 {
            let t = Instant::now();
            let o = store.oversight(cfg.clone(), from, to).await.unwrap();
            let n: u64 = o.extended_by_service.iter().map(|e| e.count).sum();
            assert!(n > 0, "the year has extensions");
            println!("  oversight tables ({n} extensions): {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
        }
        // The per-day cache of closed days: built once (in the server, by a background task
        // soon after start and then hourly), then read instead of the tickets.
        let t = Instant::now();
        let days = store.warm_report_cache(chrono::Utc::now(), 400).await.unwrap();
        println!("  cached {days} closed days in {:.1} s", t.elapsed().as_secs_f64());
        let today = qhall_server::queue::schedule::local_date(cfg.schedule.tz, chrono::Utc::now());
        for _ in 0..3 {
            let t = Instant::now();
            let rows = store.report_days(&cfg, today - chrono::Duration::days(365), today, today).await.unwrap();
            let read = t.elapsed();
            let services: Vec<_> = cfg.services.iter().map(|s| s.code).collect();
            let t = Instant::now();
            let tables = qhall_server::queue::report::tables(&services, &rows);
            let group = t.elapsed();
            assert_eq!(tables.overall.figures.issued, rows.len() as u64);
            println!("  read {} rows through the cache: {:.0} ms; group: {:.0} ms", rows.len(), read.as_secs_f64() * 1000.0, group.as_secs_f64() * 1000.0);
        }
        store.close().await;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(qhall_server::run(config, listener, std::future::pending()));
        let base = format!("http://{addr}");
        let client = reqwest::Client::new();
        while client.get(format!("{base}/healthz")).send().await.is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let login: Value = client.post(format!("{base}/api/v1/login")).json(&json!({"username": "manager", "password": "demo"})).send().await.unwrap().json().await.unwrap();
        let token = login["token"].as_str().unwrap().to_owned();
        let today = chrono::Utc::now().date_naive();
        let from = today - chrono::Duration::days(364);
        let url = format!("{base}/api/v1/reports?from={from}&to={today}");
        let mut times = Vec::new();
        let mut issued = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let r = client.get(&url).bearer_auth(&token).send().await.unwrap();
            assert_eq!(r.status(), 200);
            let v: Value = r.json().await.unwrap();
            times.push(t.elapsed());
            issued = v["overall"]["issued"].as_u64().unwrap();
        }
        assert!(issued >= tickets * 99 / 100, "the report saw {issued} of {tickets} tickets");
        times.sort();
        println!(
            "GET /api/v1/reports over 365 days ({issued} tickets): median {:.0} ms, best {:.0} ms, worst {:.0} ms ({RUNS} runs, {} cores)",
            times[RUNS / 2].as_secs_f64() * 1000.0,
            times[0].as_secs_f64() * 1000.0,
            times[RUNS - 1].as_secs_f64() * 1000.0,
            std::thread::available_parallelism().map_or(0, |n| n.get()),
        );
    });
}

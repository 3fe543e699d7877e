//! The manager's reports page in a real headless Chromium against the real server: the tables
//! count the tickets made through the API, the CSV links download the same rows with the
//! browser's session cookie, and a busy week (generated in the database) draws its charts and
//! colours the service levels as the API's figures say.
//!
//! `QHALL_WRITE_DOCS=1` also saves the busy week's page as `docs/manage-report.png`.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use qhall_tests::{TestApp, busy_week_sql, short_day};
use serde_json::Value;

/// Logs the browser in through the manager pages' form at `path`.
async fn manager_opens(b: &Browser, app: &TestApp, path: &str) {
    b.goto(&format!("{}{path}", app.url)).await;
    b.log_in("manager").await;
}

async fn cell(b: &Browser, table: &str, key: &str, col: &str) -> String {
    let css = format!("#table-{table} tr[data-key='{key}'] td[data-col='{col}']");
    b.find(&css).await.text().await.expect("cell text")
}

/// The text of `GET href` of the link `css`, fetched by the page itself (its cookie).
async fn fetch_link(b: &Browser, css: &str) -> (String, String) {
    let v = b
        .js(&format!(
            "var a = document.querySelector(\"{css}\"); \
             return fetch(a.href, {{credentials: 'same-origin'}}).then(function (r) {{ \
               return r.text().then(function (t) {{ return [a.getAttribute('href'), r.status + '\\n' + t]; }}); }});"
        ))
        .await;
    (
        v[0].as_str().unwrap_or_default().to_owned(),
        v[1].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_page_counts_the_tickets_of_the_range_and_downloads_them_as_csv() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    short_day(&app).await;
    // The day the API counts as today in the branch, to ask the page for exactly it.
    let stats: Value = app
        .get("/api/v1/stats", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    let today = stats["to"].as_str().unwrap().to_owned();

    let b = Browser::start(1366, 768).await;
    manager_opens(
        &b,
        &app,
        &format!("/manage/reports?lang=en&from={today}&to={today}"),
    )
    .await;
    b.find(&format!("body[data-loaded='{today}/{today}']"))
        .await;

    // The overview and the tables show what happened at the windows.
    let issued = b.find("#summary [data-stat='issued'] .stat-value").await;
    assert_eq!(issued.text().await.unwrap(), "4");
    assert_eq!(cell(&b, "service", "A", "issued").await, "2");
    assert_eq!(cell(&b, "service", "A", "no_show").await, "1");
    assert_eq!(cell(&b, "service", "B", "served").await, "1");
    assert_eq!(cell(&b, "service", "C", "issued").await, "1");
    assert_eq!(cell(&b, "service", "D", "issued").await, "0");
    assert_eq!(cell(&b, "window", "1", "served").await, "2");
    assert_eq!(cell(&b, "window", "2", "no_show").await, "1");
    assert!(
        cell(&b, "service", "B", "rating")
            .await
            .starts_with("mean 4.0 (1)")
    );
    let staff_rows = b
        .js("return Array.from(document.querySelectorAll('#table-staff tbody th')).map(e => e.textContent).sort();")
        .await;
    assert_eq!(staff_rows, serde_json::json!(["staff1", "staff2"]));
    // Every called ticket waited seconds: all within target, nothing below the goal.
    let level = b
        .find("#summary [data-stat='service_level'] .stat-value")
        .await;
    assert_eq!(level.text().await.unwrap(), "100.0%");
    assert_eq!(
        level.attr("class").await.unwrap().as_deref(),
        Some("stat-value level-ok")
    );
    // The three charts are drawn.
    let bars = b
        .js("return document.querySelectorAll('#chart-hour rect').length;")
        .await;
    assert_eq!(bars, serde_json::json!(1), "one hour with tickets");
    let sat = b
        .js("return document.querySelector('#chart-sat svg') !== null && document.querySelector('#chart-wait svg') !== null;")
        .await;
    assert_eq!(sat, serde_json::json!(true));

    // CSV downloads carry the range and hold the rows, fetched with the browser's cookie.
    let (href, body) = fetch_link(&b, "#csv-service").await;
    assert_eq!(
        href,
        format!("/api/v1/reports/service.csv?from={today}&to={today}")
    );
    let mut lines = body.lines();
    assert_eq!(lines.next(), Some("200"));
    let rows: Vec<&str> = lines.collect();
    assert!(
        rows[0].starts_with("service,issued,served,no_show"),
        "{body}"
    );
    assert_eq!(rows.len(), 1 + 4, "{body}");
    assert!(rows.iter().any(|l| l.starts_with("A,2,1,1,0,2,")), "{body}");
    let (_, body) = fetch_link(&b, "#csv-window").await;
    assert!(
        body.lines().any(|l| l.starts_with("1,2,2,0,0,2,")),
        "{body}"
    );
    let (_, events) = fetch_link(&b, "#csv-events").await;
    let issues = events
        .lines()
        .skip(2)
        .filter(|l| l.split(',').nth(5) == Some("issue"))
        .count();
    assert_eq!(issues, 4, "{events}");

    // Another range: the day before has nothing.
    let yesterday = (chrono::NaiveDate::parse_from_str(&today, "%Y-%m-%d").unwrap()
        - chrono::Duration::days(1))
    .to_string();
    b.js(&format!(
        "document.getElementById('from').value = '{yesterday}'; \
         document.getElementById('to').value = '{yesterday}'; return true;"
    ))
    .await;
    b.click("#show").await;
    b.find(&format!("body[data-loaded='{yesterday}/{yesterday}']"))
        .await;
    assert_eq!(cell(&b, "service", "A", "issued").await, "0");
    b.wait_text("#status", "No tickets in this period").await;
    let (href, _) = fetch_link(&b, "#csv-staff").await;
    assert!(href.ends_with(&format!("?from={yesterday}&to={yesterday}")));

    // A start after the end is refused in the page's words, and nothing is asked.
    b.js(&format!(
        "document.getElementById('from').value = '{today}'; return true;"
    ))
    .await;
    b.click("#show").await;
    b.wait_text("#status", "must not be after").await;
    drop(manager);
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_week_draws_its_charts_and_colours_levels_against_the_goal() {
    let app = TestApp::spawn_sqlite().await;
    let week = busy_week_sql(300);
    app.sql(&[
        week.as_str(),
        "INSERT INTO ratings (ticket_key, branch_id, window_number, staff_user_id, score, created_at) \
         SELECT key, 1, window_number, staff_user_id, 3 + abs(random()) % 3 - (key % 7 = 0), done_at FROM tickets \
         WHERE status = 'done' AND key % 3 = 0",
    ])
    .await;
    let manager = app.login("manager").await;
    let to = chrono::Utc::now().date_naive();
    let from = to - chrono::Duration::days(6);
    let api: Value = app
        .get(
            &format!("/api/v1/reports?from={from}&to={to}"),
            Some(&manager),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["overall"]["issued"], 2100);

    let b = Browser::start(1366, 768).await;
    manager_opens(
        &b,
        &app,
        &format!("/manage/reports?lang=zh&from={from}&to={to}"),
    )
    .await;
    b.find(&format!("body[data-loaded='{from}/{to}']")).await;
    let issued = b.find("#summary [data-stat='issued'] .stat-value").await;
    assert_eq!(issued.text().await.unwrap(), "2100");

    // One table line and one bar per opening hour, 09–16.
    let hours = b
        .js("return Array.from(document.querySelectorAll('#table-hour tbody tr')).map(e => e.getAttribute('data-key'));")
        .await;
    assert_eq!(
        hours,
        serde_json::json!(["9", "10", "11", "12", "13", "14", "15", "16"])
    );
    let bars = b
        .js("return document.querySelectorAll('#chart-hour rect').length;")
        .await;
    assert_eq!(bars, serde_json::json!(8));
    // Each hour's colour is its level against the 80 % goal, as the API computes the level.
    for line in api["by_hour"].as_array().unwrap() {
        let Some(level) = line["service_level"].as_f64() else {
            continue;
        };
        let key = line["key"].as_u64().unwrap();
        let cls = b
            .find(&format!(
                "#table-hour tr[data-key='{key}'] td[data-col='service_level']"
            ))
            .await
            .attr("class")
            .await
            .unwrap()
            .unwrap_or_default();
        let want = if level >= 0.8 {
            "level-ok"
        } else if level >= 0.7 {
            "level-warn"
        } else {
            "level-bad"
        };
        assert!(cls.contains(want), "hour {key}: level {level}, class {cls}");
    }
    let sat_total: u64 = api["overall"]["satisfaction"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(sat_total > 0);
    b.wait_text("#chart-sat", &format!("{sat_total} 条评价"))
        .await;

    if std::env::var_os("QHALL_WRITE_DOCS").is_some() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
        b.screenshot(&docs.join("manage-report.png")).await;
        b.goto(&format!(
            "{}/manage/reports?lang=en&from={from}&to={to}",
            app.url
        ))
        .await;
        b.find(&format!("body[data-loaded='{from}/{to}']")).await;
        b.screenshot(&docs.join("manage-report-en.png")).await;
    }
    b.close().await;
}

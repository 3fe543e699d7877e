//! The managers' reports against the real server: the tables count what happened at the
//! windows, the CSV downloads hold the expected rows, and only managers may read them.

use qhall_tests::{TestApp, short_day};
use serde_json::Value;

#[tokio::test]
async fn reports_count_the_day_by_service_window_staff_and_hour() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    // Window 1 serves two customers, one of whom rates it; window 2 calls one who never comes.
    let [a1, ..] = short_day(&app).await;

    let r = app.get("/api/v1/reports", Some(&manager)).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["overall"]["issued"], 4);
    assert_eq!(v["overall"]["called"], 3);
    assert_eq!(v["overall"]["served"], 2);
    assert_eq!(v["overall"]["no_show"], 1);
    assert_eq!(v["overall"]["estimate"]["measured"], 3);
    assert_eq!(
        v["overall"]["satisfaction"],
        serde_json::json!([0, 0, 0, 1, 0])
    );
    let by_service = v["by_service"].as_array().unwrap();
    let a = by_service.iter().find(|l| l["key"] == "A").unwrap();
    assert_eq!(
        (a["issued"].as_u64(), a["no_show"].as_u64()),
        (Some(2), Some(1))
    );
    let c = by_service.iter().find(|l| l["key"] == "C").unwrap();
    assert_eq!(
        (c["issued"].as_u64(), c["called"].as_u64()),
        (Some(1), Some(0))
    );

    let windows = v["by_window"].as_array().unwrap();
    let w1 = windows.iter().find(|l| l["key"] == 1).unwrap();
    let w2 = windows.iter().find(|l| l["key"] == 2).unwrap();
    assert_eq!(
        (w1["served"].as_u64(), w2["no_show"].as_u64()),
        (Some(2), Some(1))
    );
    let staff = v["by_staff"].as_array().unwrap();
    assert_eq!(staff.len(), 2, "{staff:?}");
    let mut names: Vec<&str> = staff
        .iter()
        .map(|l| v["staff_names"][l["key"].to_string()].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["staff1", "staff2"]);
    let served: Vec<u64> = staff
        .iter()
        .map(|l| l["served"].as_u64().unwrap())
        .collect();
    assert_eq!(served.iter().sum::<u64>(), 2);
    let hours = v["by_hour"].as_array().unwrap();
    assert_eq!(hours.len(), 24);
    assert_eq!(
        hours
            .iter()
            .map(|h| h["issued"].as_u64().unwrap())
            .sum::<u64>(),
        4
    );

    // CSV: a header and one line per service of the hall.
    let r = app.get("/api/v1/reports/service.csv", Some(&manager)).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("service,issued,served,no_show"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 1 + by_service.len());
    assert!(lines.iter().any(|l| l.starts_with("A,2,1,1,0,2,")), "{csv}");
    let b_line = lines.iter().find(|l| l.starts_with("B,")).unwrap();
    assert!(b_line.ends_with(",0,0,0,1,0,1"), "B's ratings: {b_line}");

    let staff_csv = app
        .get("/api/v1/reports/staff.csv", Some(&manager))
        .await
        .text()
        .await
        .unwrap();
    assert!(staff_csv.starts_with("staff,name,issued"), "{staff_csv}");
    assert_eq!(staff_csv.lines().count(), 3);

    // The raw events: 4 issues, 3 calls, 1 start, 2 completions, 1 no-show.
    let r = app.get("/api/v1/reports/events.csv", Some(&manager)).await;
    assert_eq!(r.status(), 200);
    let events = r.text().await.unwrap();
    let rows: Vec<Vec<&str>> = events
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let count = |kind: &str| rows.iter().filter(|r| r[5] == kind).count();
    assert_eq!(
        (
            count("issue"),
            count("call"),
            count("start"),
            count("complete"),
            count("no_show")
        ),
        (4, 3, 1, 2, 1),
        "{events}"
    );
    assert!(
        rows.iter()
            .any(|r| r[2] == a1.number.as_str() && r[5] == "complete" && r[7] == "staff1")
    );
}

#[tokio::test]
async fn reports_are_for_managers_and_refuse_bad_ranges() {
    let app = TestApp::spawn().await;
    let staff = app.login("staff1").await;
    let manager = app.login("manager").await;
    assert_eq!(app.get("/api/v1/reports", None).await.status(), 401);
    assert_eq!(app.get("/api/v1/reports", Some(&staff)).await.status(), 403);
    assert_eq!(
        app.get("/api/v1/reports/events.csv", Some("demo-kiosk"))
            .await
            .status(),
        403
    );
    for (path, status, code) in [
        (
            "/api/v1/reports?from=2026-05-02&to=2026-05-01",
            422,
            "invalid_range",
        ),
        (
            "/api/v1/reports?from=2024-01-01&to=2026-01-01",
            422,
            "invalid_range",
        ),
        ("/api/v1/reports?from=yesterday", 400, ""),
        ("/api/v1/reports/people.csv", 404, "unknown_report"),
        ("/api/v1/reports/service.json", 404, "unknown_report"),
    ] {
        let r = app.get(path, Some(&manager)).await;
        assert_eq!(r.status(), status, "{path}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"]["code"].is_string(), "{path}: {v}");
        if !code.is_empty() {
            assert_eq!(v["error"]["code"], code, "{path}");
        }
    }
}

//! The staffing page's coming week (issue #14) in a real headless Chromium: a week of history,
//! four staff on shifts and one on approved leave three days ahead; the page draws windows
//! needed over people who can open one, marks the short hours red and names them in plain
//! sentences, in English and Chinese. With `QHALL_SCREENSHOTS=DIR` it saves the page there
//! (`docs/manage-staffing-roster.png`).

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use qhall_tests::{TestApp, user_id};
use serde_json::{Value, json};

const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

fn local(day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    TZ.from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// A's arrivals per hour on each of the last seven days (six minutes each, 15 minutes target):
/// windows needed 2, 3, 2, 2, 2, 3, 2, 1 from 09:00 to 16:00.
const ARRIVALS: [(u32, u32); 8] = [
    (9, 10),
    (10, 20),
    (11, 15),
    (12, 10),
    (13, 10),
    (14, 20),
    (15, 10),
    (16, 5),
];

/// SQL for the history: every one of the last seven days, `ARRIVALS` of A served in 6 minutes.
fn history(today: NaiveDate) -> Vec<String> {
    let mut sql = Vec::new();
    for back in 1..=7 {
        let day = today - Duration::days(back);
        for (hour, n) in ARRIVALS {
            for i in 0..n {
                let issued = local(day, hour, 0) + Duration::seconds(i64::from(i * 3600 / n));
                let ms = |t: DateTime<Utc>| t.timestamp_millis();
                let seq = hour * 100 + i;
                sql.push(format!(
                    "INSERT INTO tickets (id, branch_id, service_code, issued_service, number, number_seq, day, priority, \
                     status, issued_at, queue_at, window_number, first_called_at, last_called_at, serving_at, done_at, \
                     estimate_ahead, estimate_secs) VALUES ('w-{day}-{seq}', 1, 'A', 'A', 'A{seq:04}', {seq}, \
                     '{day}', FALSE, 'done', {iss}, {iss}, 1, {cal}, {cal}, {st}, {dn}, 0, 0)",
                    iss = ms(issued),
                    cal = ms(issued + Duration::seconds(30)),
                    st = ms(issued + Duration::seconds(60)),
                    dn = ms(issued + Duration::seconds(420)),
                ));
            }
        }
    }
    sql
}

/// Open 09:00–17:00 every day but `closed` (an ISO weekday).
fn hours(closed: u32) -> String {
    let days: Vec<&str> = (1..=7)
        .map(|d| if d == closed { "[]" } else { "[[540,1020]]" })
        .collect();
    format!("UPDATE branches SET weekly_hours = '[{}]'", days.join(","))
}

/// "Fri 12 Dec", as the English page writes a day.
fn label(day: NaiveDate) -> String {
    format!("{} {} {}", day.format("%a"), day.day(), day.format("%b"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staffing_page_names_the_coming_hours_that_will_be_short_of_people() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let today = Utc::now().with_timezone(&TZ).date_naive();
    let day = today + Duration::days(3);
    let closed = (today + Duration::days(5)).weekday().number_from_monday();
    let mut sql = history(today);
    sql.push(hours(closed));
    app.sql(&sql).await;
    // A fifth window and its person (wstaff5), who has no shifts.
    app.add_windows(5, 5, &["A"]).await;
    // Staff 1 and 2 all day, staff3 the morning, staff4 the afternoon; staff2 on leave on `day`.
    for (name, start, end) in [
        ("staff1", "09:00", "17:00"),
        ("staff2", "09:00", "17:00"),
        ("staff3", "09:00", "13:00"),
        ("staff4", "12:00", "17:00"),
    ] {
        let id = user_id(&app, &manager, name).await;
        let weekly: Vec<Value> = (1..=7)
            .map(|d| json!({"weekday": d, "start": start, "end": end}))
            .collect();
        let (s, v) = app
            .send_json(
                reqwest::Method::PUT,
                &format!("/api/v1/users/{id}/shifts"),
                Some(&manager),
                json!({ "weekly": weekly }),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let staff2 = app.login("staff2").await;
    let (s, v) = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/leave",
            Some(&staff2),
            json!({"from": day, "to": day, "kind": "annual"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, _) = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/v1/leave/{}/decision", v["id"]),
            Some(&manager),
            json!({"approve": true}),
        )
        .await;
    assert_eq!(s, 200);

    // What the route says: on `day`, 10:00 and 14:00 need 3 windows and 2 people are left.
    let v: Value = app
        .get("/api/v1/staffing/advice?weeks=1", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    let short: Vec<(String, u64, u64, u64)> = v["short_hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["day"].as_str().unwrap().to_owned(),
                s["hour"].as_u64().unwrap(),
                s["needed"].as_u64().unwrap(),
                s["available"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        short,
        [(day.to_string(), 10, 3, 2), (day.to_string(), 14, 3, 2)],
        "{}",
        v["coming"]
    );

    let b = Browser::start(1440, 1000).await;
    b.goto(&format!("{}/manage/staffing?lang=en", app.url))
        .await;
    b.log_in("manager").await;
    b.find("#advice-weeks").await;
    b.type_into("#advice-weeks", "1").await;
    b.click("#advice-show").await;
    b.wait_text("#advice-basis", "1 week(s)").await;
    b.wait_text("#coming-summary", "2 hours will be short of people")
        .await;
    let items = b
        .js("return Array.from(document.querySelectorAll('#coming-short li')).map(function (l) { return l.textContent; });")
        .await;
    let d = label(day);
    assert_eq!(
        items,
        json!([
            format!("Short on {d} 10:00–11:00: 3 windows needed, 2 available (1 on leave)"),
            format!("Short on {d} 14:00–15:00: 3 windows needed, 2 available (1 on leave)"),
        ])
    );
    let cell = |hour: u32| format!("#coming-grid tr[data-day='{day}'] td[data-hour='{hour}']");
    for (hour, class, needed, available) in [
        (10, "short", "3", "2"),
        (14, "short", "3", "2"),
        (11, "met", "2", "2"),
    ] {
        b.wait_text(&format!("{} .needed", cell(hour)), needed)
            .await;
        b.wait_text(&format!("{} .open", cell(hour)), available)
            .await;
        let c = b
            .js(&format!(
                "return document.querySelector(\"{}\").className;",
                cell(hour)
            ))
            .await;
        assert!(c.as_str().unwrap().contains(class), "{hour}: {c}");
    }
    // The closed day says so; wstaff5 is named as not counted.
    let closed_day = today + Duration::days(5);
    b.wait_text(
        &format!("#coming-grid tr[data-day='{closed_day}']"),
        "Closed all day",
    )
    .await;
    b.wait_text("#coming-unrostered", "No shifts, so not counted: wstaff5")
        .await;
    b.snap("manage-staffing-roster.png").await;

    // In Chinese.
    b.goto(&format!("{}/manage/staffing?lang=zh", app.url))
        .await;
    b.find("#advice-weeks").await;
    b.js("document.getElementById('advice-weeks').value = ''; return true;")
        .await;
    b.type_into("#advice-weeks", "1").await;
    b.click("#advice-show").await;
    b.wait_text("#advice-basis", "1 周").await;
    b.wait_text("#coming-summary", "有 2 个小时人手不足").await;
    let wd = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
        [day.weekday().num_days_from_monday() as usize];
    b.wait_text(
        "#coming-short li",
        &format!(
            "{wd} {}月{}日 10:00–11:00：需要 3 个窗口，只有 2 人在岗（1 人请假）",
            day.month(),
            day.day()
        ),
    )
    .await;
    b.snap("manage-staffing-roster-zh.png").await;
    b.close().await;
}

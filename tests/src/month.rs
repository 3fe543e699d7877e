//! A constructed March 2026 for the assessment (issue #14), shared by the API test and the page
//! test: an office open weekdays 09:00–12:00 and 13:00–17:00 (Shanghai) whose window log,
//! served tickets, ratings and complaints are written into the database as the server writes
//! them (the month is in the past: that is the injected clock), and whose shifts, leave, the
//! complaints' outcomes, a training session and the assessment settings go through the API.
//!
//! - staff1 is rostered weekdays 08:30–16:30. Monday 2nd: in at 09:10 (late, as the hall's
//!   hours also say); Tuesday 3rd: in at 08:50 — late against their shift, on time against the
//!   hall's 09:00, which the old rule missed; Wednesday 4th: never signed in (absent); Thursday
//!   5th: sick leave approved (excused); Friday 6th: sick leave declined, not signed in (absent);
//!   every other weekday on time, with one 20-minute pause on the 9th. Five tickets of A served
//!   in 4, 6, 8, 8 and 4 minutes; ratings 1, 2, 1, 5, 4; one complaint upheld against them and
//!   one not upheld; 2.5 hours of training.
//! - staff2 is rostered weekdays 09:00–17:00 and late on the 2nd, 3rd and 4th; two tickets of A
//!   in 10 minutes each.
//! - Weights: 2 points a lateness or early leave, 5 an absence, 1 a long pause, 10 an upheld
//!   complaint, 1 a bad rating; grades 优秀 ≥ 95, 良好 ≥ 85, 合格 ≥ 70, 待改进; the ladder
//!   "3 lateness → 口头提醒".

use reqwest::Method;
use serde_json::json;

use crate::app::{TestApp, call, user_id};
use crate::fixtures::office_log_sql;

/// The month, built: the app and who is who.
pub struct ConstructedMonth {
    pub app: TestApp,
    pub manager: String,
    pub staff1: String,
    pub staff2: String,
    pub s1: i64,
    pub s2: i64,
    /// The two complaints: upheld, not upheld.
    pub complaints: [i64; 2],
}

/// Milliseconds of `HH:MM` Shanghai time on `day` March 2026.
fn ms(day: u32, hhmm: &str) -> i64 {
    use chrono::TimeZone;
    let (h, m) = hhmm.split_once(':').unwrap();
    let local = chrono::NaiveDate::from_ymd_opt(2026, 3, day)
        .unwrap()
        .and_hms_opt(h.parse().unwrap(), m.parse().unwrap(), 0)
        .unwrap();
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&local)
        .unwrap()
        .timestamp_millis()
}

/// A ticket of A served at window `window` by `user` on `day`, starting at `start` for
/// `minutes`.
fn served(n: u32, day: u32, window: u32, user: &str, start: &str, minutes: i64) -> String {
    let s = ms(day, start);
    let e = s + minutes * 60_000;
    let issued = s - 600_000;
    format!(
        "INSERT INTO tickets (id, branch_id, service_code, issued_service, number, number_seq, day, \
         priority, status, issued_at, queue_at, window_number, staff_user_id, first_called_at, \
         last_called_at, serving_at, done_at, estimate_ahead, estimate_secs) \
         SELECT 'constructed{n:020}', 1, 'A', 'A', 'A{n:03}', {n}, '2026-03-{day:02}', FALSE, 'done', \
         {issued}, {issued}, {window}, id, {s}, {s}, {s}, {e}, 0, 0 FROM users WHERE username = '{user}'"
    )
}

fn rating(n: u32, day: u32, score: u32) -> String {
    format!(
        "INSERT INTO ratings (ticket_key, branch_id, window_number, staff_user_id, score, created_at) \
         SELECT t.key, 1, t.window_number, t.staff_user_id, {score}, {} FROM tickets t \
         WHERE t.id = 'constructed{n:020}'",
        ms(day, "16:00")
    )
}

fn complaint(day: u32, about: &str) -> String {
    let at = ms(day, "11:00");
    format!(
        "INSERT INTO complaints (branch_id, window_number, staff_user_id, category, description, \
         status, created_at, due_at, source, kind, about_user_id, service_code) \
         SELECT 1, 1, t.id, 'attitude', 'rude at the window', 'open', {at}, {}, 'window', 'complaint', a.id, 'A' \
         FROM users t, users a WHERE t.username = 'staff2' AND a.username = '{about}'",
        at + 15 * 86_400_000
    )
}

/// Weekdays of March 2026.
fn weekdays() -> Vec<u32> {
    (1..=31)
        .filter(|d| {
            use chrono::Datelike;
            chrono::NaiveDate::from_ymd_opt(2026, 3, *d)
                .unwrap()
                .weekday()
                .num_days_from_monday()
                < 5
        })
        .collect()
}

async fn constructed_sql(app: &TestApp) {
    let mut log: Vec<(u32, &str, &str, u32, &str)> = Vec::new();
    for d in weekdays() {
        match d {
            2 => log.extend([
                (1, "staff1", "sign_in", d, "09:10"),
                (1, "staff1", "sign_out", d, "16:30"),
            ]),
            3 => log.extend([
                (1, "staff1", "sign_in", d, "08:50"),
                (1, "staff1", "sign_out", d, "16:31"),
            ]),
            4..=6 => {}
            9 => log.extend([
                (1, "staff1", "sign_in", d, "08:28"),
                (1, "staff1", "pause", d, "10:00"),
                (1, "staff1", "resume", d, "10:20"),
                (1, "staff1", "sign_out", d, "16:32"),
            ]),
            _ => log.extend([
                (1, "staff1", "sign_in", d, "08:28"),
                (1, "staff1", "sign_out", d, "16:32"),
            ]),
        }
        let staff2_in = if (2..=4).contains(&d) {
            "09:20"
        } else {
            "08:58"
        };
        log.extend([
            (2, "staff2", "sign_in", d, staff2_in),
            (2, "staff2", "sign_out", d, "17:01"),
        ]);
    }
    let mut sql = office_log_sql(&log);
    // The accounts existed all month (a roster never makes anyone absent before that).
    sql.push("UPDATE users SET created_at = 0".to_owned());
    sql.extend([
        served(1, 10, 1, "staff1", "10:00", 4),
        served(2, 11, 1, "staff1", "10:00", 6),
        served(3, 12, 1, "staff1", "10:00", 8),
        served(4, 10, 2, "staff2", "10:00", 10),
        served(5, 11, 2, "staff2", "10:00", 10),
    ]);
    for (n, score) in [(1, 1), (2, 2), (3, 1)] {
        sql.push(rating(n, 12, score));
    }
    // Two good ratings of staff1 on tickets of their own as well.
    sql.extend([
        served(6, 13, 1, "staff1", "09:00", 8),
        served(7, 13, 1, "staff1", "09:30", 4),
    ]);
    sql.push(rating(6, 13, 5));
    sql.push(rating(7, 13, 4));
    sql.push(complaint(10, "staff1"));
    sql.push(complaint(11, "staff1"));
    app.sql(&sql).await;
}

/// Builds the month on a fresh demo hall (either backend).
pub async fn constructed_month() -> ConstructedMonth {
    let app = TestApp::spawn().await;
    constructed_sql(&app).await;
    let manager = app.login("manager").await;
    let staff1 = app.login("staff1").await;
    let staff2 = app.login("staff2").await;
    let s1 = user_id(&app, &manager, "staff1").await;
    let s2 = user_id(&app, &manager, "staff2").await;

    // Shifts.
    let weekly = |start: &str, end: &str| json!({"weekly": (1..=5).map(|d| json!({"weekday": d, "start": start, "end": end})).collect::<Vec<_>>()});
    for (u, body) in [
        (s1, weekly("08:30", "16:30")),
        (s2, weekly("09:00", "17:00")),
    ] {
        let (s, v) = call(
            &app,
            Method::PUT,
            &format!("/api/v1/users/{u}/shifts"),
            &manager,
            Some(body),
        )
        .await;
        assert_eq!(s, 200, "{v}");
    }
    // Sick leave on the 5th (approved) and the 6th (declined).
    let mut leave = Vec::new();
    for day in ["2026-03-05", "2026-03-06"] {
        let (s, v) = call(
            &app,
            Method::POST,
            "/api/v1/leave",
            &staff1,
            Some(json!({"from": day, "to": day, "kind": "sick", "reason": "fever"})),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        leave.push(v["id"].as_i64().unwrap());
    }
    for (id, approve) in [(leave[0], true), (leave[1], false)] {
        let (s, v) = call(
            &app,
            Method::POST,
            &format!("/api/v1/leave/{id}/decision"),
            &manager,
            Some(json!({"approve": approve, "note": "noted"})),
        )
        .await;
        assert_eq!(s, 200, "{v}");
    }

    // The two complaints: one upheld against staff1, one not.
    let (_, list) = call(
        &app,
        Method::GET,
        "/api/v1/complaints?from=2026-03-01&to=2026-03-31",
        &manager,
        None,
    )
    .await;
    let ids: Vec<i64> = list["complaints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{list}");
    for (id, outcome) in [(ids[0], "upheld"), (ids[1], "not_upheld")] {
        let (s, v) = call(
            &app,
            Method::POST,
            &format!("/api/v1/complaints/{id}/notes"),
            &manager,
            Some(json!({"text": "checked the recording", "status": "resolved", "outcome": outcome, "about": s1})),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            (v["outcome"].as_str(), v["about"].as_i64()),
            (Some(outcome), Some(s1))
        );
    }

    // Training: 2.5 hours in March for staff1.
    let (s, v) = call(
        &app,
        Method::POST,
        "/api/v1/training",
        &manager,
        Some(json!({"title": "Residence permits", "day": "2026-03-20", "hours": 2.5, "trainer": "Ms Li",
                    "service": "A", "attendees": [{"user_id": s1, "result": "pass", "score": 88}]})),
    )
    .await;
    assert_eq!(s, 201, "{v}");

    // The branch's weights, grades and a one-step ladder.
    let settings = json!({
        "weights": [
            {"measure": "late", "points": 2.0}, {"measure": "early", "points": 2.0},
            {"measure": "absent", "points": 5.0}, {"measure": "long_pause", "points": 1.0},
            {"measure": "complaint_upheld", "points": 10.0}, {"measure": "bad_rating", "points": 1.0}
        ],
        "grades": [
            {"name": "待改进", "min_score": 0.0}, {"name": "合格", "min_score": 70.0},
            {"name": "良好", "min_score": 85.0}, {"name": "优秀", "min_score": 95.0}
        ],
        "rules": [{"key": "late-3", "measure": "late", "at_least": 3, "level": "口头提醒"}]
    });
    let (s, v) = call(
        &app,
        Method::PUT,
        "/api/v1/assessment/settings",
        &manager,
        Some(settings),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["grades"][0]["name"], "优秀", "highest first: {v}");
    ConstructedMonth {
        app,
        manager,
        staff1,
        staff2,
        s1,
        s2,
        complaints: [ids[0], ids[1]],
    }
}

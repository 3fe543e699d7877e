//! The staffing advisor's coming week (issue #14) against the real server, on either backend
//! (`QHALL_TEST_BACKEND=postgres`): a history gives the windows Erlang C needs on one weekday
//! (checked against an Erlang C written here, independently of the server's), four staff are
//! rostered and two of them have approved leave on that day in the coming week, and the advice
//! names exactly the hours where the people who can open a window (rostered minus leave) fall
//! below what is needed.
//!
//! The rule under test: a person counts for an hour when their shift covers at least half of the
//! minutes the hall is open in it, and is on leave for it when approved leave leaves them less.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use qhall_tests::{TestApp, user_id};
use serde_json::{Value, json};

const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// The service level Erlang C promises with `c` windows for `a` erlangs: the chance a customer
/// is called within `target` seconds, `1 − P(wait)·e^{−(c−a)·target/aht}`, with `P(wait)` from
/// the textbook sums of `a^k / k!` (no recursion shared with the server).
fn service_level(c: u32, a: f64, aht: f64, target: f64) -> f64 {
    let cf = f64::from(c);
    let mut sum = 0.0;
    let mut term = 1.0; // a^k / k!
    for k in 0..c {
        if k > 0 {
            term *= a / f64::from(k);
        }
        sum += term;
    }
    let a_c = term * a / cf; // a^c / c!
    let waiting = a_c * cf / (cf - a);
    let p_wait = waiting / (sum + waiting);
    1.0 - p_wait * (-(cf - a) * target / aht).exp()
}

/// The fewest windows (more than the load, or the queue grows without end) that call `goal` of
/// the customers within `target` seconds; none when nobody comes.
fn erlang_needed(per_hour: f64, aht: f64, target: f64, goal: f64) -> u32 {
    if per_hour <= 0.0 {
        return 0;
    }
    let a = per_hour * aht / 3600.0;
    (1..)
        .find(|&c| f64::from(c) > a && service_level(c, a, aht, target) >= goal)
        .unwrap()
}

/// The instant of branch-local `day` at `h:m`.
fn local(day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    TZ.from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn today() -> NaiveDate {
    Utc::now().with_timezone(&TZ).date_naive()
}

/// SQL for `n` tickets of service A issued on `day` from `hour`:00 at even spacing, each served
/// for six minutes at window 1.
fn served(day: NaiveDate, hour: u32, n: u32) -> Vec<String> {
    (0..n)
        .map(|i| {
            let issued = local(day, hour, 0) + Duration::seconds(i64::from(i) * 3600 / i64::from(n));
            let ms = |t: DateTime<Utc>| t.timestamp_millis();
            let seq = hour * 100 + i;
            format!(
                "INSERT INTO tickets (id, branch_id, service_code, issued_service, number, number_seq, day, priority, \
                 status, issued_at, queue_at, window_number, first_called_at, last_called_at, serving_at, done_at, \
                 estimate_ahead, estimate_secs) VALUES ('r-{day}-{seq}', 1, 'A', 'A', 'A{seq:04}', {seq}, \
                 '{day}', FALSE, 'done', {iss}, {iss}, 1, {cal}, {cal}, {st}, {dn}, 0, 0)",
                iss = ms(issued),
                cal = ms(issued + Duration::seconds(30)),
                st = ms(issued + Duration::seconds(60)),
                dn = ms(issued + Duration::seconds(60 + SERVICE_SECS)),
            )
        })
        .collect()
}

/// Each A ticket of the history takes six minutes; A's target wait is 15 minutes.
const SERVICE_SECS: i64 = 360;
const TARGET_SECS: f64 = 900.0;

/// A's arrivals per hour on the history's day: 5 at 09:00, 30 at 10:00, 20 at 11:00.
const ARRIVALS: [(u8, u32); 3] = [(9, 5), (10, 30), (11, 20)];

/// The hall opens every day 09:00–12:00 and 13:00–15:00 (lunch is no opening hour).
const HOURS: &str = "[[[540,720],[780,900]],[[540,720],[780,900]],[[540,720],[780,900]],[[540,720],[780,900]],[[540,720],[780,900]],[[540,720],[780,900]],[[540,720],[780,900]]]";

/// Any call with a JSON body: the status and the answer.
async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    app.send_json(method, path, Some(token), body).await
}

/// `name` works `start`–`end` every day of the week.
async fn roster(app: &TestApp, manager: &str, name: &str, start: &str, end: &str) {
    let id = user_id(app, manager, name).await;
    let weekly: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "start": start, "end": end}))
        .collect();
    let (s, v) = send(
        app,
        reqwest::Method::PUT,
        &format!("/api/v1/users/{id}/shifts"),
        manager,
        json!({ "weekly": weekly }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
}

/// `name` asks for `body` (annual leave, with the branch's notice) and the manager approves
/// (`approve`) or declines it.
async fn leave(app: &TestApp, manager: &str, name: &str, body: Value, approve: bool) {
    let token = app.login(name).await;
    let mut body = body;
    body["kind"] = json!("annual");
    let (s, v) = send(app, reqwest::Method::POST, "/api/v1/leave", &token, body).await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = send(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/leave/{}/decision", v["id"]),
        manager,
        json!({ "approve": approve }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
}

/// The hall, the history and the people: returns the coming day the leave falls on.
///
/// On that day (three days ahead, so annual leave has its two days' notice), in a one-week
/// history the same weekday had A's `ARRIVALS`. Rostered every day: staff1, staff2 and staff4
/// 09:00–15:00, staff3 10:30–15:00 (exactly half of 10:00–11:00: counts). On the day, staff2 is
/// on approved leave 10:00–11:40 (out of 10:00–11:00, and of 11:00–12:00 with 20 minutes left),
/// staff4 on approved leave all day, and staff1's leave that day was declined (still counts).
/// The manager has no shifts: not counted.
async fn hall(app: &TestApp, manager: &str) -> NaiveDate {
    let day = today() + Duration::days(3);
    let history_day = day - Duration::days(7);
    let mut sql = vec![format!("UPDATE branches SET weekly_hours = '{HOURS}'")];
    for (hour, n) in ARRIVALS {
        sql.extend(served(history_day, u32::from(hour), n));
    }
    app.sql(&sql).await;
    for (name, start) in [
        ("staff1", "09:00"),
        ("staff2", "09:00"),
        ("staff3", "10:30"),
        ("staff4", "09:00"),
    ] {
        roster(app, manager, name, start, "15:00").await;
    }
    leave(
        app,
        manager,
        "staff2",
        json!({"from": day, "to": day, "start": "10:00", "end": "11:40"}),
        true,
    )
    .await;
    leave(
        app,
        manager,
        "staff4",
        json!({"from": day, "to": day}),
        true,
    )
    .await;
    leave(
        app,
        manager,
        "staff1",
        json!({"from": day, "to": day}),
        false,
    )
    .await;
    day
}

async fn advice(app: &TestApp, token: &str) -> Value {
    let r = app
        .get("/api/v1/staffing/advice?weeks=1", Some(token))
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// The coming day `day`'s row.
fn coming(v: &Value, day: NaiveDate) -> &Value {
    v["coming"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["day"] == day.to_string())
        .unwrap_or_else(|| panic!("no {day} in {}", v["coming"]))
}

/// (hour, rostered, on_leave, available, needed, short) of each hour of a coming day.
fn figures(d: &Value) -> Vec<[u64; 6]> {
    d["hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            [
                "hour",
                "rostered",
                "on_leave",
                "available",
                "needed",
                "short",
            ]
            .map(|k| h[k].as_u64().unwrap_or_else(|| panic!("{k} in {h}")))
        })
        .collect()
}

#[tokio::test]
async fn the_coming_week_names_the_hours_where_rostered_minus_leave_falls_below_the_advice() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let day = hall(&app, &manager).await;
    let v = advice(&app, &manager).await;

    // The advice itself, against the independent Erlang C: 1, 4 and 3 windows.
    let need = |hour: u8| {
        let per_hour = ARRIVALS
            .iter()
            .find(|(h, _)| *h == hour)
            .map_or(0.0, |(_, n)| f64::from(*n));
        erlang_needed(per_hour, SERVICE_SECS as f64, TARGET_SECS, 0.8)
    };
    assert_eq!([need(9), need(10), need(11)], [1, 4, 3], "the reference");
    let wd = day.weekday().num_days_from_monday() as usize;
    for h in 0..24u8 {
        assert_eq!(
            v["days"][wd]["hours"][usize::from(h)]["needed"],
            need(h),
            "{h}:00"
        );
    }

    // Seven days, today first, each with the hall's opening hours only.
    let days = v["coming"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    for (i, d) in days.iter().enumerate() {
        let date = today() + Duration::days(i as i64);
        assert_eq!(d["day"], date.to_string());
        assert_eq!(d["weekday"], date.weekday().number_from_monday());
        let hours: Vec<u64> = figures(d).iter().map(|f| f[0]).collect();
        assert_eq!(hours, [9, 10, 11, 13, 14], "{d}");
    }

    // The day with leave, hour by hour: [hour, rostered, on leave, available, needed, short].
    assert_eq!(
        figures(coming(&v, day)),
        [
            [9, 3, 1, 2, u64::from(need(9)), 0],
            [10, 4, 2, 2, u64::from(need(10)), 2],
            [11, 4, 2, 2, u64::from(need(11)), 1],
            [13, 4, 1, 3, 0, 0],
            [14, 4, 1, 3, 0, 0],
        ]
    );
    // The other days: everyone there, nothing needed.
    for d in days.iter().filter(|d| d["day"] != day.to_string()) {
        assert_eq!(
            figures(d),
            [
                [9, 3, 0, 3, 0, 0],
                [10, 4, 0, 4, 0, 0],
                [11, 4, 0, 4, 0, 0],
                [13, 4, 0, 4, 0, 0],
                [14, 4, 0, 4, 0, 0],
            ],
            "{d}"
        );
    }

    // Exactly two hours are named short.
    assert_eq!(
        v["short_hours"],
        json!([
            {"day": day, "weekday": day.weekday().number_from_monday(), "hour": 10,
             "needed": need(10), "available": 2, "on_leave": 2, "short": 2},
            {"day": day, "weekday": day.weekday().number_from_monday(), "hour": 11,
             "needed": need(11), "available": 2, "on_leave": 2, "short": 1},
        ])
    );
    // Every staff member has shifts; the manager is not staff and is not listed.
    assert_eq!(v["without_shifts"], json!([]));
}

/// Leave ending on the half hour leaves half of 11:00–12:00: the person counts there again, and
/// 11:00 is no longer short. A deactivated account's shifts never count, and active staff
/// without shifts are named.
#[tokio::test]
async fn leave_leaving_half_the_hour_counts_and_people_without_shifts_or_accounts_do_not() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let day = today() + Duration::days(3);
    let mut sql = vec![format!("UPDATE branches SET weekly_hours = '{HOURS}'")];
    for (hour, n) in ARRIVALS {
        sql.extend(served(day - Duration::days(7), u32::from(hour), n));
    }
    app.sql(&sql).await;
    for name in ["staff1", "staff2", "staff3"] {
        roster(&app, &manager, name, "09:00", "15:00").await;
    }
    leave(
        &app,
        &manager,
        "staff2",
        json!({"from": day, "to": day, "start": "10:00", "end": "11:30"}),
        true,
    )
    .await;
    let v = advice(&app, &manager).await;
    let f = figures(coming(&v, day));
    assert_eq!(f[1], [10, 3, 1, 2, 4, 2]);
    assert_eq!(f[2], [11, 3, 0, 3, 3, 0], "half an hour left: counts");
    let short: Vec<(String, u64)> = v["short_hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["day"].as_str().unwrap().to_owned(),
                s["hour"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(short, [(day.to_string(), 10)]);
    assert_eq!(v["without_shifts"], json!(["staff4"]));

    // staff3's account is deactivated: its shifts no longer count anywhere.
    app.sql(&["UPDATE users SET active = FALSE WHERE username = 'staff3'"])
        .await;
    let v = advice(&app, &manager).await;
    let f = figures(coming(&v, day));
    assert_eq!(f[2], [11, 2, 0, 2, 3, 1]);
    assert_eq!(v["short_hours"].as_array().unwrap().len(), 2);
    assert_eq!(v["without_shifts"], json!(["staff4"]));
}

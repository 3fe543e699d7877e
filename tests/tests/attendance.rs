//! Attendance: a constructed day in an office open 09:00–12:00 and 13:00–17:00 (Shanghai) —
//! a late sign-in, two pauses of which one is long, an early leave — gives exact minutes and
//! flags, as JSON and CSV; tolerances are a manager's, audited; staff see none of it. Runs on
//! either backend (`QHALL_TEST_BACKEND=postgres`).

use qhall_tests::{TestApp, call, office_log_sql, user_id};
use serde_json::{Value, json};

/// Monday 2 March: staff1 late, two pauses (10 and 45 min), leaves 20 min early; staff2 on
/// time, signs out over lunch, one 20-minute pause, and the manager signs the window out at
/// closing. Tuesday 3 March: staff1 three minutes late (within tolerance), still signed in.
async fn hall() -> TestApp {
    let app = TestApp::spawn().await;
    app.sql(&office_log_sql(&[
        (1, "staff1", "sign_in", 2, "09:12"),
        (1, "staff1", "pause", 2, "10:00"),
        (1, "staff1", "resume", 2, "10:10"),
        (1, "staff1", "pause", 2, "14:00"),
        (1, "staff1", "resume", 2, "14:45"),
        (1, "staff1", "sign_out", 2, "16:40"),
        (2, "staff2", "sign_in", 2, "08:58"),
        (2, "staff2", "sign_out", 2, "12:00"),
        (3, "staff2", "sign_in", 2, "13:00"),
        (3, "staff2", "pause", 2, "15:00"),
        (3, "staff2", "resume", 2, "15:20"),
        (3, "manager", "sign_out", 2, "17:00"),
        (1, "staff1", "sign_in", 3, "09:03"),
    ]))
    .await;
    app
}

async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let r = app.get(path, Some(token)).await;
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn put(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let r = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/attendance/settings",
            Some(token),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn row<'a>(a: &'a Value, date: &str, name: &str) -> &'a Value {
    a["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == date && d["name"] == name)
        .unwrap_or_else(|| panic!("no {name} on {date} in {a}"))
}

fn figures(d: &Value) -> Value {
    json!([
        d["late_mins"],
        d["early_mins"],
        d["pauses"],
        d["pause_total_mins"],
        d["pause_longest_mins"],
        d["late"],
        d["early"],
        d["long_pause"]
    ])
}

#[tokio::test]
async fn late_sign_in_pauses_and_early_leave_are_measured_to_the_minute_and_flagged() {
    let app = hall().await;
    let manager = app.login("manager").await;
    let (s, a) = get(
        &app,
        "/api/v1/attendance?from=2026-03-02&to=2026-03-03",
        &manager,
    )
    .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(
        a["tolerances"],
        json!({"late_after_mins": 5, "early_leave_mins": 5, "long_pause_mins": 30})
    );
    assert_eq!(a["days"].as_array().unwrap().len(), 3, "{a}");

    let s1 = row(&a, "2026-03-02", "staff1");
    assert_eq!(figures(s1), json!([12, 20, 2, 55, 45, true, true, true]));
    assert_eq!(s1["opens_at"], "2026-03-02T01:00:00Z");
    assert_eq!(s1["first_sign_in"], "2026-03-02T01:12:00Z");
    assert_eq!(s1["closes_at"], "2026-03-02T09:00:00Z");
    assert_eq!(s1["last_sign_out"], "2026-03-02T08:40:00Z");
    // Signed out over lunch is no pause; the manager's sign-out at closing counts for staff2.
    let s2 = row(&a, "2026-03-02", "staff2");
    assert_eq!(figures(s2), json!([0, 0, 1, 20, 20, false, false, false]));
    assert_eq!(s2["last_sign_out"], "2026-03-02T09:00:00Z");
    let tue = row(&a, "2026-03-03", "staff1");
    assert_eq!(figures(tue), json!([3, 0, 0, 0, 0, false, false, false]));
    assert_eq!(tue["last_sign_out"], Value::Null);

    // The same as CSV, local times.
    let r = app
        .get(
            "/api/v1/attendance.csv?from=2026-03-02&to=2026-03-02",
            Some(&manager),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "date,user_id,name,opens,first_sign_in,late_mins,closes,last_sign_out,early_mins,pauses,pause_total_mins,pause_longest_mins,late,early,long_pause,signed_out_by_closing,rostered,absent,on_leave"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    let id = s1["user_id"].as_i64().unwrap();
    assert!(
        lines.contains(
            &format!(
                "2026-03-02,{id},staff1,09:00,09:12,12,17:00,16:40,20,2,55,45,true,true,true,false,false,false,false"
            )
            .as_str()
        ),
        "{csv}"
    );
}

#[tokio::test]
async fn tolerances_are_set_by_a_manager_audited_and_change_the_flags() {
    let app = hall().await;
    let manager = app.login("manager").await;
    let staff = app.login("staff1").await;
    for bad in [
        json!({"late_after_mins": 241, "early_leave_mins": 5, "long_pause_mins": 30}),
        json!({"late_after_mins": -1, "early_leave_mins": 5, "long_pause_mins": 30}),
        json!({"late_after_mins": 5, "early_leave_mins": 5}),
        json!({"late_after_mins": 5, "early_leave_mins": 5, "long_pause_mins": 30, "x": 1}),
    ] {
        assert_eq!(put(&app, &manager, bad.clone()).await.0, 422, "{bad}");
    }
    let lenient = json!({"late_after_mins": 15, "early_leave_mins": 30, "long_pause_mins": 60});
    assert_eq!(
        put(&app, &manager, lenient.clone()).await,
        (200, lenient.clone())
    );
    assert_eq!(
        get(&app, "/api/v1/attendance/settings", &manager).await,
        (200, lenient.clone())
    );
    let (_, a) = get(&app, "/api/v1/attendance?from=2026-03-02", &manager).await;
    assert_eq!(
        figures(row(&a, "2026-03-02", "staff1")),
        json!([12, 20, 2, 55, 45, false, false, false])
    );
    let (_, audit) = get(&app, "/api/v1/audit", &manager).await;
    let entry = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "attendance.tolerances")
        .expect("audited");
    assert_eq!(entry["detail"]["to"], lenient);
    assert_eq!(entry["detail"]["from"]["long_pause_mins"], 30);

    // Staff, devices and strangers see none of it.
    for path in [
        "/api/v1/attendance",
        "/api/v1/attendance.csv",
        "/api/v1/attendance/settings",
    ] {
        assert_eq!(app.get(path, Some(&staff)).await.status(), 403, "{path}");
        assert_eq!(
            app.get(path, Some("demo-kiosk")).await.status(),
            403,
            "{path}"
        );
        assert_eq!(app.get(path, None).await.status(), 401, "{path}");
    }
    assert_eq!(put(&app, &staff, lenient).await.0, 403);
    assert_eq!(
        get(
            &app,
            "/api/v1/attendance?from=2026-03-03&to=2026-03-02",
            &manager
        )
        .await
        .0,
        422
    );
    assert_eq!(
        get(
            &app,
            "/api/v1/attendance?from=2025-01-01&to=2026-03-02",
            &manager
        )
        .await
        .0,
        422
    );
    assert_eq!(
        get(&app, "/api/v1/attendance?from=monday", &manager)
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn a_real_sign_in_and_pause_at_the_console_appear_in_todays_attendance() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let staff = app.login("staff3").await;
    app.sign_in(3, &staff).await;
    let r = app
        .post(
            "/api/v1/windows/3/pause",
            Some(&staff),
            json!({"reason": "break"}),
        )
        .await;
    assert!(r.status().is_success());
    let (s, a) = get(&app, "/api/v1/attendance", &manager).await;
    assert_eq!(s, 200);
    let d = row(&a, a["from"].as_str().unwrap(), "staff3");
    assert!(d["first_sign_in"].is_string());
    assert_eq!(d["last_sign_out"], Value::Null);
    // The demo hall is open around the clock: nobody is late or early there.
    assert_eq!(
        (d["late"].clone(), d["early"].clone()),
        (json!(false), json!(false))
    );
}

/// Issue #14, shifts: staff1 is rostered 09:15–16:30 on weekdays, so Monday's 09:12 sign-in is on
/// time and the 16:40 sign-out is not early (the hall's hours said 12 minutes late and 20
/// early); Tuesday a dated change starts at 09:00, and 09:03 stays within the tolerance.
/// staff3, rostered 08:30–16:00 and never signed in, is absent both days; staff2 has no roster
/// and is judged against the hall's hours as before. A shift ending before it starts, a weekday
/// out of range, a change with one time: 422 `invalid_shift`, nothing changed. Staff read only
/// their own roster and set none.
#[tokio::test]
async fn rostered_people_are_judged_against_their_own_shift_and_absent_days_show() {
    let app = hall().await;
    // The accounts existed before the constructed days.
    app.sql(&["UPDATE users SET created_at = 0"]).await;
    let manager = app.login("manager").await;
    let (s1, s3) = (
        user_id(&app, &manager, "staff1").await,
        user_id(&app, &manager, "staff3").await,
    );
    let send = |method: reqwest::Method, path: String, token: String, body: Option<Value>| {
        let app = &app;
        async move { call(app, method, &path, &token, body).await }
    };
    let weekdays = |start: &str, end: &str| json!({"weekly": (1..=5).map(|d| json!({"weekday": d, "start": start, "end": end})).collect::<Vec<_>>()});
    let put = reqwest::Method::PUT;
    let (s, v) = send(
        put.clone(),
        format!("/api/v1/users/{s1}/shifts"),
        manager.clone(),
        Some(weekdays("09:15", "16:30")),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["weekly"].as_array().unwrap().len(), 5);
    assert_eq!(
        v["weekly"][0],
        json!({"weekday": 1, "start": "09:15", "end": "16:30"})
    );
    let (s, _) = send(
        put.clone(),
        format!("/api/v1/users/{s3}/shifts"),
        manager.clone(),
        Some(weekdays("08:30", "16:00")),
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = send(
        put.clone(),
        format!("/api/v1/users/{s1}/shifts/2026-03-03"),
        manager.clone(),
        Some(json!({"start": "09:00", "end": "17:00"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["changes"],
        json!([{"day": "2026-03-03", "start": "09:00", "end": "17:00"}])
    );

    // Refusals change nothing.
    for (path, body) in [
        (
            format!("/api/v1/users/{s1}/shifts"),
            weekdays("16:00", "09:00"),
        ),
        (
            format!("/api/v1/users/{s1}/shifts"),
            json!({"weekly": [{"weekday": 8, "start": "09:00", "end": "17:00"}]}),
        ),
        (
            format!("/api/v1/users/{s1}/shifts/2026-03-04"),
            json!({"start": "09:00"}),
        ),
    ] {
        let (s, v) = send(put.clone(), path, manager.clone(), Some(body)).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (422, Some("invalid_shift")),
            "{v}"
        );
    }
    let (s, _) = send(
        put.clone(),
        "/api/v1/users/999999/shifts".into(),
        manager.clone(),
        Some(weekdays("09:00", "17:00")),
    )
    .await;
    assert_eq!(s, 404);
    let staff = app.login("staff1").await;
    let (s, v) = get(&app, &format!("/api/v1/users/{s1}/shifts"), &staff).await;
    assert_eq!(
        (s, v["weekly"][0]["start"].as_str()),
        (200, Some("09:15")),
        "{v}"
    );
    let (s, _) = get(&app, &format!("/api/v1/users/{s3}/shifts"), &staff).await;
    assert_eq!(s, 403, "another person's roster");
    let (s, _) = send(
        put.clone(),
        format!("/api/v1/users/{s1}/shifts"),
        staff.clone(),
        Some(weekdays("10:00", "11:00")),
    )
    .await;
    assert_eq!(s, 403);

    let (s, a) = get(
        &app,
        "/api/v1/attendance?from=2026-03-02&to=2026-03-03",
        &manager,
    )
    .await;
    assert_eq!(s, 200, "{a}");
    let mon = row(&a, "2026-03-02", "staff1");
    assert_eq!(figures(mon), json!([0, 0, 2, 55, 45, false, false, true]));
    assert_eq!(
        (mon["rostered"].as_bool(), mon["absent"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(mon["opens_at"], "2026-03-02T01:15:00Z");
    let tue = row(&a, "2026-03-03", "staff1");
    assert_eq!(figures(tue), json!([3, 0, 0, 0, 0, false, false, false]));
    for date in ["2026-03-02", "2026-03-03"] {
        let d = row(&a, date, "staff3");
        assert_eq!(
            (d["absent"].as_bool(), d["first_sign_in"].is_null()),
            (Some(true), true),
            "{d}"
        );
        assert_eq!(d["opens_at"], format!("{}T00:30:00Z", date));
    }
    let s2 = row(&a, "2026-03-02", "staff2");
    assert_eq!(
        (s2["rostered"].as_bool(), s2["opens_at"].as_str()),
        (Some(false), Some("2026-03-02T01:00:00Z"))
    );
    // Nobody else is absent: only rostered people can be.
    let absent = a["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["absent"] == true)
        .count();
    assert_eq!(absent, 2, "{a}");

    // Dropping the change: Tuesday follows the weekly pattern again (09:03 is then on time too).
    let (s, v) = send(
        reqwest::Method::DELETE,
        format!("/api/v1/users/{s1}/shifts/2026-03-03"),
        manager.clone(),
        None,
    )
    .await;
    assert_eq!((s, v["changes"].as_array().map(Vec::len)), (200, Some(0)));
    let (_, a) = get(
        &app,
        "/api/v1/attendance?from=2026-03-03&to=2026-03-03",
        &manager,
    )
    .await;
    assert_eq!(row(&a, "2026-03-03", "staff1")["late_mins"], 0);
}

/// Issue #14, leave: staff3 (rostered 08:30–16:00 on weekdays, never signed in) reports sick for
/// Monday 2 March and Tuesday 3 March; the manager approves Monday (no longer absent: on leave)
/// and declines Tuesday (still absent). Personal leave needs two days' notice (422
/// `notice_too_short`); leave overlapping leave asked for is 409 `leave_overlaps`; a decision is
/// made once (409 `leave_decided`) and only by a manager; staff see only their own leave.
#[tokio::test]
async fn approved_leave_excuses_a_rostered_day_and_declined_leave_does_not() {
    let app = hall().await;
    app.sql(&["UPDATE users SET created_at = 0"]).await;
    let manager = app.login("manager").await;
    let s3 = user_id(&app, &manager, "staff3").await;
    let send = |method: reqwest::Method, path: String, token: String, body: Value| {
        let app = &app;
        async move { call(app, method, &path, &token, Some(body)).await }
    };
    let (put, post) = (reqwest::Method::PUT, reqwest::Method::POST);
    let weekly: Vec<Value> = (1..=5)
        .map(|d| json!({"weekday": d, "start": "08:30", "end": "16:00"}))
        .collect();
    let (s, _) = send(
        put,
        format!("/api/v1/users/{s3}/shifts"),
        manager.clone(),
        json!({"weekly": weekly}),
    )
    .await;
    assert_eq!(s, 200);

    let staff3 = app.login("staff3").await;
    let mut ids = Vec::new();
    for day in ["2026-03-02", "2026-03-03"] {
        let (s, v) = send(
            post.clone(),
            "/api/v1/leave".into(),
            staff3.clone(),
            json!({"from": day, "to": day, "kind": "sick", "reason": "fever"}),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(
            (v["state"].as_str(), v["user_id"].as_i64()),
            (Some("requested"), Some(s3))
        );
        ids.push(v["id"].as_i64().unwrap());
    }
    // Refusals: too little notice for personal leave; an overlap; a staff member deciding.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    let (s, v) = send(
        post.clone(),
        "/api/v1/leave".into(),
        staff3.clone(),
        json!({"from": tomorrow, "to": tomorrow, "kind": "personal"}),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("notice_too_short")),
        "{v}"
    );
    let ahead = tomorrow + chrono::Duration::days(30);
    let (s, _) = send(
        post.clone(),
        "/api/v1/leave".into(),
        staff3.clone(),
        json!({"from": ahead, "to": ahead + chrono::Duration::days(2), "kind": "annual"}),
    )
    .await;
    assert_eq!(s, 201);
    let (s, v) = send(post.clone(), "/api/v1/leave".into(), staff3.clone(), json!({"from": ahead + chrono::Duration::days(1), "to": ahead + chrono::Duration::days(1), "start": "09:00", "end": "11:00", "kind": "toil"})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("leave_overlaps")),
        "{v}"
    );
    let (s, v) = send(
        post.clone(),
        "/api/v1/leave".into(),
        staff3.clone(),
        json!({"from": ahead, "to": ahead - chrono::Duration::days(1), "kind": "annual"}),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("invalid_leave")),
        "{v}"
    );
    let (s, _) = send(
        post.clone(),
        format!("/api/v1/leave/{}/decision", ids[0]),
        staff3.clone(),
        json!({"approve": true}),
    )
    .await;
    assert_eq!(s, 403);

    let (s, v) = send(
        post.clone(),
        format!("/api/v1/leave/{}/decision", ids[0]),
        manager.clone(),
        json!({"approve": true, "note": "get well"}),
    )
    .await;
    assert_eq!(
        (s, v["state"].as_str(), v["note"].as_str()),
        (200, Some("approved"), Some("get well"))
    );
    let (s, _) = send(
        post.clone(),
        format!("/api/v1/leave/{}/decision", ids[1]),
        manager.clone(),
        json!({"approve": false, "note": "no certificate"}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = send(
        post.clone(),
        format!("/api/v1/leave/{}/decision", ids[1]),
        manager.clone(),
        json!({"approve": true}),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("leave_decided"))
    );

    let (_, a) = get(
        &app,
        "/api/v1/attendance?from=2026-03-02&to=2026-03-03",
        &manager,
    )
    .await;
    let mon = row(&a, "2026-03-02", "staff3");
    assert_eq!(
        (mon["absent"].as_bool(), mon["on_leave"].as_bool()),
        (Some(false), Some(true)),
        "{mon}"
    );
    let tue = row(&a, "2026-03-03", "staff3");
    assert_eq!(
        (tue["absent"].as_bool(), tue["on_leave"].as_bool()),
        (Some(true), Some(false)),
        "{tue}"
    );

    // Staff see their own leave only; the manager sees the branch's.
    let staff1 = app.login("staff1").await;
    let (s, mine) = get(&app, "/api/v1/leave?from=2026-03-01&to=2027-02-28", &staff1).await;
    assert_eq!((s, mine.as_array().map(Vec::len)), (200, Some(0)), "{mine}");
    let (_, all) = get(
        &app,
        "/api/v1/leave?from=2026-03-01&to=2027-02-28",
        &manager,
    )
    .await;
    assert_eq!(all.as_array().map(Vec::len), Some(3), "{all}");
}

/// Leave can be taken back by the person who asked for it while it is still asked for, or
/// granted and not begun; then the same days can be asked for again. Someone else's leave is
/// not theirs to withdraw (404), and leave already begun, declined or withdrawn stays (409).
#[tokio::test]
async fn a_person_withdraws_their_own_leave_before_it_begins() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let staff1 = app.login("staff1").await;
    let staff2 = app.login("staff2").await;
    let post = reqwest::Method::POST;
    let ahead = chrono::Utc::now().date_naive() + chrono::Duration::days(10);
    let ask = json!({"from": ahead, "to": ahead, "kind": "annual"});
    let (s, v) = call(
        &app,
        post.clone(),
        "/api/v1/leave",
        &staff1,
        Some(ask.clone()),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();

    let withdraw = format!("/api/v1/leave/{id}/withdraw");
    let (s, v) = call(&app, post.clone(), &withdraw, &staff2, None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("unknown_leave")),
        "{v}"
    );
    let (s, v) = call(&app, post.clone(), &withdraw, &staff1, None).await;
    assert_eq!((s, v["state"].as_str()), (200, Some("withdrawn")), "{v}");
    let (s, v) = call(&app, post.clone(), &withdraw, &staff1, None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("leave_decided")),
        "{v}"
    );
    let (s, v) = call(
        &app,
        post.clone(),
        &format!("/api/v1/leave/{id}/decision"),
        &manager,
        Some(json!({"approve": true})),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("leave_decided")),
        "withdrawn is not decided: {v}"
    );

    // The same day again, granted, then withdrawn before it begins.
    let (s, v) = call(&app, post.clone(), "/api/v1/leave", &staff1, Some(ask)).await;
    assert_eq!(s, 201, "no overlap with withdrawn leave: {v}");
    let again = v["id"].as_i64().unwrap();
    let (s, _) = call(
        &app,
        post.clone(),
        &format!("/api/v1/leave/{again}/decision"),
        &manager,
        Some(json!({"approve": true})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = call(
        &app,
        post.clone(),
        &format!("/api/v1/leave/{again}/withdraw"),
        &staff1,
        None,
    )
    .await;
    assert_eq!((s, v["state"].as_str()), (200, Some("withdrawn")), "{v}");

    // Sick leave reported for today and granted has begun: it stays.
    let today = chrono::Utc::now().date_naive();
    let (s, v) = call(&app, post.clone(), "/api/v1/leave", &staff1, Some(json!({"from": today - chrono::Duration::days(1), "to": today - chrono::Duration::days(1), "kind": "sick"}))).await;
    assert_eq!(s, 201, "{v}");
    let sick = v["id"].as_i64().unwrap();
    let (s, _) = call(
        &app,
        post.clone(),
        &format!("/api/v1/leave/{sick}/decision"),
        &manager,
        Some(json!({"approve": true})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = call(
        &app,
        post,
        &format!("/api/v1/leave/{sick}/withdraw"),
        &staff1,
        None,
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("leave_decided")),
        "{v}"
    );
}

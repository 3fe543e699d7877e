//! Issue #14, the monthly assessment, the graded consequences and training. The month is
//! [`qhall_tests::constructed_month`] (its documentation tells the story): the median of A over
//! it is 8 minutes (4, 4, 6, 8, 8, 10, 10), so staff1 served in 0.75 of it; with the month's
//! weights staff1 scores 100 − 2×2 (late) − 2×5 (absent) − 10 (upheld) − 3×1 (bad ratings) =
//! 73: 合格. The ladder "3 lateness → 口头提醒" proposes exactly one record (staff2's), which is
//! nothing until a manager confirms it. Runs on either backend (`QHALL_TEST_BACKEND=postgres`).

use qhall_tests::{ConstructedMonth, TestApp, call, constructed_month, user_id};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn a_constructed_month_gives_an_exact_scorecard_and_the_ladder_only_proposes() {
    let ConstructedMonth {
        app,
        manager,
        staff1,
        staff2,
        s1,
        s2,
        complaints,
    } = constructed_month().await;
    let mut board = app.display(None).await;

    // The outcome is said only when resolving; the refused note changes nothing.
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/api/v1/complaints/{}/notes", complaints[0]),
        &manager,
        Some(json!({"text": "looked into it again", "outcome": "not_upheld"})),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("invalid_outcome")),
        "{v}"
    );
    let (s, v) = call(
        &app,
        Method::PUT,
        "/api/v1/assessment/settings",
        &manager,
        Some(json!({"weights": [], "grades": [{"name": "A", "min_score": 50.0}], "rules": []})),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("invalid_assessment")),
        "{v}"
    );

    // The month.
    let (s, m) = call(
        &app,
        Method::GET,
        "/api/v1/assessment?month=2026-03",
        &manager,
        None,
    )
    .await;
    assert_eq!(s, 200, "{m}");
    let card = |id: i64| {
        m["people"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["user_id"] == id)
            .unwrap()
            .clone()
    };
    let c1 = card(s1);
    let f = &c1["figures"];
    assert_eq!(
        f,
        &json!({
            "served": 5, "service_secs_mean": 360.0, "service_time_ratio": 30.0 / 40.0,
            "ratings": 5, "rating_mean": 2.6, "bad_ratings": 3, "bad_rating_share": 0.6,
            "complaints_upheld": 1, "late": 2, "early": 0, "absent": 2, "long_pauses": 0,
            "pause_mins": 20, "leave_days": 1, "identity_required": 0, "identity_checked": 0,
            "out_of_order_calls": 0, "extended": 0, "training_hours": 2.5
        }),
        "{c1}"
    );
    assert_eq!(
        (c1["score"].as_f64(), c1["grade"].as_str()),
        (Some(73.0), Some("合格")),
        "{c1}"
    );
    assert_eq!(c1["proposals"], json!([]));
    let c2 = card(s2);
    assert_eq!(
        (
            c2["figures"]["late"].as_u64(),
            c2["figures"]["served"].as_u64(),
            c2["figures"]["service_time_ratio"].as_f64()
        ),
        (Some(3), Some(2), Some(20.0 / 16.0))
    );
    assert_eq!(
        (c2["score"].as_f64(), c2["grade"].as_str()),
        (Some(94.0), Some("良好"))
    );

    // The ladder proposes exactly one record, and it is not a record yet.
    let (_, proposals) = call(
        &app,
        Method::GET,
        "/api/v1/assessment/proposals?month=2026-03",
        &manager,
        None,
    )
    .await;
    let proposals = proposals.as_array().unwrap().clone();
    assert_eq!(proposals.len(), 1, "{proposals:?}");
    assert_eq!(
        (
            proposals[0]["user_id"].as_i64(),
            proposals[0]["rule"].as_str(),
            proposals[0]["level"].as_str(),
            proposals[0]["count"].as_u64()
        ),
        (Some(s2), Some("late-3"), Some("口头提醒"), Some(3))
    );
    let (s, recs) = call(
        &app,
        Method::GET,
        &format!("/api/v1/users/{s2}/records"),
        &manager,
        None,
    )
    .await;
    assert_eq!((s, recs), (200, json!([])));

    // Only a manager decides, once, and only what was proposed.
    let decision = |user: i64, confirm: bool| json!({"user_id": user, "month": "2026-03", "rule": "late-3", "confirm": confirm, "note": "talked it through"});
    let (s, _) = call(
        &app,
        Method::POST,
        "/api/v1/assessment/decisions",
        &staff1,
        Some(decision(s2, true)),
    )
    .await;
    assert_eq!(s, 403);
    let (s, v) = call(
        &app,
        Method::POST,
        "/api/v1/assessment/decisions",
        &manager,
        Some(decision(s1, true)),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("not_proposed")),
        "{v}"
    );
    let (s, rec) = call(
        &app,
        Method::POST,
        "/api/v1/assessment/decisions",
        &manager,
        Some(decision(s2, true)),
    )
    .await;
    assert_eq!(s, 201, "{rec}");
    assert_eq!(
        (
            rec["state"].as_str(),
            rec["level"].as_str(),
            rec["decided_by"].as_str(),
            rec["period"].as_str()
        ),
        (
            Some("confirmed"),
            Some("口头提醒"),
            Some("manager"),
            Some("2026-03")
        )
    );
    let (s, v) = call(
        &app,
        Method::POST,
        "/api/v1/assessment/decisions",
        &manager,
        Some(decision(s2, false)),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("already_decided")),
        "{v}"
    );
    let (_, proposals) = call(
        &app,
        Method::GET,
        "/api/v1/assessment/proposals?month=2026-03",
        &manager,
        None,
    )
    .await;
    assert_eq!(proposals, json!([]));

    // Each person sees their own scorecard, records and training; no one else's.
    let (s, own) = call(
        &app,
        Method::GET,
        &format!("/api/v1/users/{s2}/records"),
        &staff2,
        None,
    )
    .await;
    assert_eq!((s, own.as_array().map(Vec::len)), (200, Some(1)));
    let (s, own) = call(
        &app,
        Method::GET,
        &format!("/api/v1/users/{s1}/assessment?month=2026-03"),
        &staff1,
        None,
    )
    .await;
    assert_eq!(
        (s, own["score"].as_f64(), own["grade"].as_str()),
        (200, Some(73.0), Some("合格"))
    );
    let (s, own) = call(
        &app,
        Method::GET,
        &format!("/api/v1/users/{s2}/assessment?month=2026-03"),
        &staff2,
        None,
    )
    .await;
    assert_eq!(
        (
            s,
            own["proposals"].clone(),
            own["records"].as_array().map(Vec::len)
        ),
        (200, json!([]), Some(1))
    );
    let (s, own) = call(
        &app,
        Method::GET,
        &format!("/api/v1/users/{s1}/training"),
        &staff1,
        None,
    )
    .await;
    assert_eq!((s, own["hours"].as_f64()), (200, Some(2.5)), "{own}");
    for path in [
        format!("/api/v1/users/{s2}/assessment?month=2026-03"),
        format!("/api/v1/users/{s2}/records"),
        format!("/api/v1/users/{s2}/training"),
        "/api/v1/assessment?month=2026-03".to_owned(),
        "/api/v1/assessment.csv?month=2026-03".to_owned(),
        "/api/v1/assessment/proposals".to_owned(),
        "/api/v1/assessment/settings".to_owned(),
        "/api/v1/training".to_owned(),
    ] {
        let (s, v) = call(&app, Method::GET, &path, &staff1, None).await;
        assert_eq!(s, 403, "{path}: {v}");
    }
    let (s, _) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/users/{s1}/assessment/note"),
        &staff1,
        Some(json!({"month": "2026-03", "note": "great"})),
    )
    .await;
    assert_eq!(s, 403);

    // The manager's note, on the card and in the CSV.
    let (s, v) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/users/{s1}/assessment/note"),
        &manager,
        Some(json!({"month": "2026-03", "note": "Punctuality to work on; kind with customers."})),
    )
    .await;
    assert_eq!(
        (s, v["text"].as_str()),
        (200, Some("Punctuality to work on; kind with customers.")),
        "{v}"
    );
    let r = app
        .get("/api/v1/assessment.csv?month=2026-03", Some(&manager))
        .await;
    assert_eq!(r.status(), 200);
    let csv = r.text().await.unwrap();
    let line = csv
        .lines()
        .find(|l| l.contains(",staff1,"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert_eq!(
        line,
        format!(
            "2026-03,{s1},staff1,5,360.000,0.750,5,2.600,3,0.600,1,2,0,2,0,20,1,0,0,0,0,2.50,73.0,合格,,Punctuality to work on; kind with customers."
        )
    );
    let line = csv.lines().find(|l| l.contains(",staff2,")).unwrap();
    assert!(line.ends_with(",94.0,良好,口头提醒,"), "{line}");

    // Bad input changes nothing.
    for (path, body, code) in [
        ("/api/v1/assessment?month=2026-13", None, "invalid_month"),
        ("/api/v1/assessment?month=march", None, "invalid_month"),
    ] {
        let (s, v) = call(&app, Method::GET, path, &manager, body).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (422, Some(code)),
            "{path}: {v}"
        );
    }

    // Nothing of this reaches the board's stream.
    let mut frames = Vec::new();
    while let Ok(e) = board.next(std::time::Duration::from_millis(300)).await {
        frames.push(e.to_string());
    }
    for f in &frames {
        for word in [
            "Punctuality",
            "fever",
            "late-3",
            "口头提醒",
            "Residence permits",
            "talked it through",
        ] {
            assert!(!f.contains(word), "{word} on the board's stream: {f}");
        }
    }
}

/// A service can require a passed training before a person signs in to a window serving it:
/// 409 `training_required` until they pass; a failed session does not count.
#[tokio::test]
async fn signing_in_to_a_window_needs_the_training_its_services_require() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let staff1 = app.login("staff1").await;
    let s1 = user_id(&app, &manager, "staff1").await;

    let (s, v) = call(
        &app,
        Method::PUT,
        "/api/v1/training/requirements",
        &manager,
        Some(json!({"services": ["C"]})),
    )
    .await;
    assert_eq!((s, v), (200, json!({"services": ["C"]})));
    let (s, v) = call(
        &app,
        Method::PUT,
        "/api/v1/training/requirements",
        &manager,
        Some(json!({"services": ["Z"]})),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("unknown_service")),
        "{v}"
    );
    let (_, v) = call(
        &app,
        Method::GET,
        "/api/v1/training/requirements",
        &manager,
        None,
    )
    .await;
    assert_eq!(
        v,
        json!({"services": ["C"]}),
        "a refused change changes nothing"
    );

    // Window 1 serves A and B: no training needed. Window 4 serves C.
    let r = app.window(4, "sign-in", &staff1).await;
    assert_eq!(r.status(), 409);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "training_required", "{v}");
    let r = app.window(1, "sign-in", &staff1).await;
    assert_eq!(r.status(), 200);
    let r = app.window(1, "sign-out", &staff1).await;
    assert_eq!(r.status(), 200);

    let session = |result: &str| {
        json!({"title": "Pensions", "day": "2026-11-02", "hours": 1.0, "service": "C",
               "attendees": [{"user_id": s1, "result": result}]})
    };
    let (s, _) = call(
        &app,
        Method::POST,
        "/api/v1/training",
        &manager,
        Some(session("fail")),
    )
    .await;
    assert_eq!(s, 201);
    let r = app.window(4, "sign-in", &staff1).await;
    assert_eq!(r.status(), 409, "a failed session does not qualify");
    let (s, _) = call(
        &app,
        Method::POST,
        "/api/v1/training",
        &manager,
        Some(session("pass")),
    )
    .await;
    assert_eq!(s, 201);
    let r = app.window(4, "sign-in", &staff1).await;
    assert_eq!(r.status(), 200);

    // Refusals: bad sessions record nothing.
    for (body, code) in [
        (
            json!({"title": "", "day": "2026-11-02", "hours": 1.0, "attendees": [{"user_id": s1, "result": "pass"}]}),
            "invalid_training",
        ),
        (
            json!({"title": "X", "day": "2026-11-02", "hours": 0.0, "attendees": [{"user_id": s1, "result": "pass"}]}),
            "invalid_training",
        ),
        (
            json!({"title": "X", "day": "2026-11-02", "hours": 1.0, "attendees": [{"user_id": s1, "result": "maybe"}]}),
            "invalid_training",
        ),
        (
            json!({"title": "X", "day": "2026-11-02", "hours": 1.0, "attendees": [{"user_id": 999999, "result": "pass"}]}),
            "invalid_training",
        ),
        (
            json!({"title": "X", "day": "2026-11-02", "hours": 1.0, "attendees": [{"user_id": s1, "result": "pass"}, {"user_id": s1, "result": "fail"}]}),
            "invalid_training",
        ),
        (
            json!({"title": "X", "day": "2026-11-02", "hours": 1.0, "service": "Z", "attendees": [{"user_id": s1, "result": "pass"}]}),
            "unknown_service",
        ),
    ] {
        let (s, v) = call(
            &app,
            Method::POST,
            "/api/v1/training",
            &manager,
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (422, Some(code)),
            "{body}: {v}"
        );
    }
    let (s, sessions) = call(
        &app,
        Method::GET,
        "/api/v1/training?from=2026-11-01&to=2026-11-30",
        &manager,
        None,
    )
    .await;
    assert_eq!(
        (s, sessions.as_array().map(Vec::len)),
        (200, Some(2)),
        "{sessions}"
    );
    let (_, history) = call(
        &app,
        Method::GET,
        &format!("/api/v1/users/{s1}/training"),
        &staff1,
        None,
    )
    .await;
    assert_eq!(
        history["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["result"].as_str().unwrap())
            .collect::<Vec<_>>()
            .len(),
        2
    );
    assert_eq!(history["hours"].as_f64(), Some(2.0));
}

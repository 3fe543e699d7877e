//! Feedback from the customer's own phone (the tracking page's API): a complaint reaches the
//! managers' register and not the staff it concerns; a rating of 1 or 2 opens a follow-up with
//! its deadline, which is resolved only after the customer was called back; the report counts
//! complaints, suggestions and follow-ups per service, window and person, exact on a
//! constructed history (either backend, as `QHALL_TEST_BACKEND` says).

use chrono::{Duration, TimeZone, Utc};
use qhall_tests::TestApp;
use serde_json::{Value, json};

/// Issues a ticket of `service` and serves it at window `n` as `token`; returns its id.
async fn served(app: &TestApp, service: &str, n: u32, token: &str) -> (String, String) {
    let t = app.issue(service).await;
    let called = app.call_next(n, token).await.expect("a ticket to call");
    assert_eq!(called.number, t.number, "the ticket just issued is called");
    assert_eq!(app.window(n, "complete", token).await.status(), 200);
    (t.id, t.number.to_string())
}

async fn send(app: &TestApp, id: &str, what: &str, body: Value) -> (u16, Value) {
    let r = app
        .post(&format!("/api/v1/tickets/{id}/{what}"), None, body)
        .await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_customers_complaint_reaches_the_managers_and_not_the_staff_it_concerns() {
    let app = TestApp::spawn().await;
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    let (id, number) = served(&app, "A", 1, &staff).await;

    let text = "The clerk at window 1 was rude to my mother";
    let (status, opened) = send(
        &app,
        &id,
        "feedback",
        json!({"kind": "complaint", "category": "attitude", "text": text, "contact": "139 0000 1111", "consent": true}),
    )
    .await;
    assert_eq!(status, 201, "{opened}");

    let manager = app.login("manager").await;
    let list: Value = app
        .get("/api/v1/complaints", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    let row = list["complaints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == opened["id"])
        .unwrap_or_else(|| panic!("the complaint {opened} is in the register: {list}"))
        .clone();
    assert_eq!(row["source"], "customer");
    assert_eq!(row["kind"], "complaint");
    assert_eq!(row["ticket"], number.as_str());
    assert_eq!(row["window"], 1);
    assert_eq!(row["about_name"], "staff1");
    assert_eq!(row["service"], "A");
    assert_eq!(
        row["taken_by"],
        Value::Null,
        "nobody took it: the customer sent it"
    );
    assert_eq!(row["contact"], "139******1111", "masked in the list");
    assert_eq!(row["description"], text);
    assert_eq!(row["status"], "open");

    // The staff member it concerns sees nothing of it.
    let r = app.get("/api/v1/complaints", Some(&staff)).await;
    assert_eq!(r.status(), 403);
    for path in ["/api/v1/windows/1", "/api/v1/windows", "/staff"] {
        let body = app.get(path, Some(&staff)).await.text().await.unwrap();
        assert!(
            !body.contains("rude"),
            "{path} shows the complaint to staff"
        );
    }

    // Bad input changes nothing.
    for (body, status, expected) in [
        (
            json!({"kind": "praise", "category": "attitude", "text": "x"}),
            422,
            "invalid_kind",
        ),
        (
            json!({"kind": "complaint", "category": "food", "text": "x"}),
            422,
            "invalid_category",
        ),
        (
            json!({"kind": "complaint", "category": "other", "text": "  "}),
            422,
            "invalid_description",
        ),
        (
            json!({"kind": "complaint", "category": "other", "text": "x", "contact": "13900001111"}),
            422,
            "consent_required",
        ),
    ] {
        let (s, v) = send(&app, &id, "feedback", body).await;
        assert_eq!((s, code(&v)), (status, expected), "{v}");
    }
    let (s, v) = send(
        &app,
        "AAAAAAAAAAAAAAAAAAAAAA",
        "feedback",
        json!({"kind": "complaint", "category": "other", "text": "x"}),
    )
    .await;
    assert_eq!((s, code(&v)), (404, "unknown_ticket"));
    let r = app
        .client
        .post(format!("{}/api/v1/tickets/{id}/feedback", app.url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let after: Value = app
        .get("/api/v1/complaints", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["complaints"], list["complaints"], "nothing was added");

    // Three per ticket at most.
    for i in 0..2 {
        let (s, _) = send(
            &app,
            &id,
            "feedback",
            json!({"kind": "suggestion", "category": "environment", "text": format!("idea {i}")}),
        )
        .await;
        assert_eq!(s, 201);
    }
    let (s, v) = send(
        &app,
        &id,
        "feedback",
        json!({"kind": "suggestion", "category": "other", "text": "one more"}),
    )
    .await;
    assert_eq!((s, code(&v)), (409, "too_much_feedback"));
}

#[tokio::test]
async fn a_bad_rating_opens_a_follow_up_due_in_working_days_and_closed_after_a_call_back() {
    let app = TestApp::spawn().await;
    let staff = app.login("staff2").await;
    app.sign_in(2, &staff).await;
    let waiting = app.issue("C").await;
    let (s, v) = send(&app, &waiting.id, "rating", json!({"score": 4})).await;
    assert_eq!(
        (s, code(&v)),
        (409, "not_served"),
        "a ticket is rated after its visit"
    );
    let (id, _) = served(&app, "D", 2, &staff).await;

    for (body, expected) in [
        (json!({"score": 0}), "invalid_score"),
        (json!({"score": 6}), "invalid_score"),
        (
            json!({"score": 1, "comment": "x".repeat(501)}),
            "invalid_comment",
        ),
        (
            json!({"score": 1, "contact": "13700002222"}),
            "consent_required",
        ),
    ] {
        let (s, v) = send(&app, &id, "rating", body).await;
        assert_eq!((s, code(&v)), (422, expected), "{v}");
    }
    let before = Utc::now();
    let (s, rated) = send(
        &app,
        &id,
        "rating",
        json!({"score": 1, "comment": "Waited, then was sent away", "contact": "13700002222", "consent": true}),
    )
    .await;
    assert_eq!(s, 201, "{rated}");
    let due: chrono::DateTime<Utc> = rated["follow_up"]["due_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // The demo hall opens every day: the end of the fifth day after today, in Shanghai.
    let tz = chrono_tz::Asia::Shanghai;
    let today = before.with_timezone(&tz).date_naive();
    let expected = tz
        .from_local_datetime(&(today + Duration::days(6)).and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(due, expected, "five working days");
    let (s, v) = send(&app, &id, "rating", json!({"score": 5})).await;
    assert_eq!((s, code(&v)), (409, "already_rated"));

    let manager = app.login("manager").await;
    let list: Value = app
        .get("/api/v1/complaints", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    let row = list["complaints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == rated["follow_up"]["id"])
        .unwrap()
        .clone();
    assert_eq!(row["kind"], "follow_up");
    assert_eq!(row["source"], "rating");
    assert_eq!(row["about_name"], "staff2");
    assert_eq!(row["window"], 2);
    assert!(row["description"].as_str().unwrap().contains("1/5"));
    assert_eq!(
        row["due_at"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<Utc>>()
            .unwrap(),
        due
    );

    // Resolved only after the customer was called back.
    let cid = row["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/complaints/{cid}/notes"),
            Some(&manager),
            json!({"text": "Fixed the rota", "status": "resolved"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(code(&r.json().await.unwrap()), "callback_required");
    let r = app
        .post(
            &format!("/api/v1/complaints/{cid}/notes"),
            Some(&manager),
            json!({"text": "Called back; apologised", "status": "resolved", "called_back": true}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["status"], "resolved");
    assert!(done["called_back_at"].is_string());
}

fn line(v: &Value, table: &str, key: &str) -> Value {
    v["feedback"][table]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"] == key)
        .unwrap_or_else(|| panic!("no {table} line {key:?} in {}", v["feedback"]))
        .clone()
}

fn counts(c: u32, cust: u32, sugg: u32, fu: u32, open: u32, overdue: u32, late: u32) -> Value {
    json!({"complaints": c, "from_customers": cust, "suggestions": sugg, "follow_ups": fu,
           "open": open, "overdue": overdue, "resolved_late": late})
}

fn strip_key(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("key");
    v
}

#[tokio::test]
async fn the_report_counts_complaints_suggestions_and_follow_ups_exactly() {
    let app = TestApp::spawn().await;
    let (s1, s2) = (app.login("staff1").await, app.login("staff2").await);
    app.sign_in(1, &s1).await;
    app.sign_in(2, &s2).await;
    let (t1, _) = served(&app, "A", 1, &s1).await;
    let (t2, _) = served(&app, "B", 1, &s1).await;
    let (t3, n3) = served(&app, "D", 2, &s2).await;
    // A good rating opens nothing.
    let (t5, _) = served(&app, "A", 1, &s1).await;
    let (_, good) = send(&app, &t5, "rating", json!({"score": 5})).await;
    assert_eq!(good["follow_up"], Value::Null);
    let t4 = app.issue("A").await; // still waiting: its complaint names no window nor person

    let complaint = |cat: &str| json!({"kind": "complaint", "category": cat, "text": "not good"});
    assert_eq!(
        send(&app, &t1, "feedback", complaint("attitude")).await.0,
        201
    );
    assert_eq!(
        send(
            &app,
            &t1,
            "feedback",
            json!({"kind": "suggestion", "category": "environment", "text": "more chairs"})
        )
        .await
        .0,
        201
    );
    assert_eq!(send(&app, &t2, "rating", json!({"score": 2})).await.0, 201);
    assert_eq!(send(&app, &t3, "rating", json!({"score": 1})).await.0, 201);
    assert_eq!(send(&app, &t3, "rating", json!({"score": 1})).await.0, 409);
    let (_, resolved) = send(&app, &t3, "feedback", complaint("process")).await;
    assert_eq!(
        send(&app, &t4.id, "feedback", complaint("waiting")).await.0,
        201
    );
    // A complaint taken at window 2 by staff2 about the same ticket.
    let r = app
        .post("/api/v1/complaints", Some(&s2), json!({"window": 2, "ticket": n3, "category": "process", "description": "forms unclear"}))
        .await;
    assert_eq!(r.status(), 201);
    let manager = app.login("manager").await;
    // The suggestion is overdue; t3's complaint is resolved after its deadline.
    app.sql(&["UPDATE complaints SET due_at = 1000 WHERE kind = 'suggestion'"])
        .await;
    let rid = resolved["id"].as_i64().unwrap();
    app.sql(&[format!(
        "UPDATE complaints SET due_at = 1000 WHERE id = {rid}"
    )])
    .await;
    let r = app
        .post(
            &format!("/api/v1/complaints/{rid}/notes"),
            Some(&manager),
            json!({"text": "Answered", "status": "resolved"}),
        )
        .await;
    assert_eq!(r.status(), 200);

    let report: Value = app
        .get("/api/v1/reports", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    let fb = &report["feedback"];
    assert_eq!(
        strip_key(fb["total"].clone()),
        counts(4, 3, 1, 2, 6, 1, 1),
        "{fb}"
    );
    let by = |t: &str, k: &str| strip_key(line(&report, t, k));
    assert_eq!(by("by_service", "A"), counts(2, 2, 1, 0, 3, 1, 0));
    assert_eq!(by("by_service", "B"), counts(0, 0, 0, 1, 1, 0, 0));
    assert_eq!(by("by_service", "D"), counts(2, 1, 0, 1, 2, 0, 1));
    assert_eq!(fb["by_service"].as_array().unwrap().len(), 3);
    assert_eq!(by("by_window", ""), counts(1, 1, 0, 0, 1, 0, 0));
    assert_eq!(by("by_window", "1"), counts(1, 1, 1, 1, 3, 1, 0));
    assert_eq!(by("by_window", "2"), counts(2, 1, 0, 1, 2, 0, 1));
    let names = &report["staff_names"];
    let id_of = |name: &str| {
        names
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, v)| *v == name)
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| panic!("{name} not in {names}"))
    };
    assert_eq!(
        by("by_person", &id_of("staff1")),
        counts(1, 1, 1, 1, 3, 1, 0)
    );
    assert_eq!(
        by("by_person", &id_of("staff2")),
        counts(2, 1, 0, 1, 2, 0, 1)
    );
    assert_eq!(by("by_person", ""), counts(1, 1, 0, 0, 1, 0, 0));
    // The same figures as CSV, one row per service, window and person.
    let csv = app
        .get("/api/v1/reports/feedback.csv", Some(&manager))
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "by,key,name,complaints,from_customers,suggestions,follow_ups,open,overdue,resolved_late"
    );
    assert_eq!(lines.len(), 1 + 3 + 3 + 3, "{csv}");
    assert!(lines.contains(&"service,D,,2,1,0,1,2,0,1"), "{csv}");
    let staff1 = format!("person,{},staff1,1,1,1,1,3,1,0", id_of("staff1"));
    assert!(lines.contains(&staff1.as_str()), "{csv}");
}

//! The complaints register: managers list complaints with contacts masked, see a contact only by
//! asking (audited), assign, move them open → in progress → resolved with notes, see overdue
//! ones flagged; contacts and texts are purged after the retention period and nothing else
//! changes.
//! Staff may only take complaints. Runs on either backend (`QHALL_TEST_BACKEND=postgres`).

use qhall_tests::{TestApp, query_texts};
use serde_json::{Value, json};

async fn user_id(app: &TestApp, name: &str) -> i64 {
    query_texts(
        &app.database_url,
        &format!("SELECT CAST(id AS TEXT) FROM users WHERE username = '{name}'"),
    )
    .await[0]
        .parse()
        .unwrap()
}

/// Staff member `staff1`, signed in to window 1: takes complaints.
async fn staff(app: &TestApp) -> String {
    let t = app.login("staff1").await;
    app.sign_in(1, &t).await;
    t
}

async fn take(app: &TestApp, staff: &str, description: &str, contact: Option<&str>) -> i64 {
    let r = app
        .post(
            "/api/v1/complaints",
            Some(staff),
            json!({"window": 1, "category": "waiting", "description": description,
                   "contact": contact, "consent": contact.is_some()}),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let r = app.get(path, Some(token)).await;
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    let r = app.post(path, Some(token), body).await;
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    let r = app
        .request(reqwest::Method::PUT, path, Some(token))
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn by_id(list: &Value, id: i64) -> Value {
    list["complaints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("complaint {id} not in {list}"))
}

async fn audit(app: &TestApp, manager: &str) -> Vec<Value> {
    let (s, v) = get(app, "/api/v1/audit", manager).await;
    assert_eq!(s, 200);
    v.as_array().unwrap().clone()
}

#[tokio::test]
async fn lists_mask_contacts_and_only_a_manager_who_asks_sees_one_which_is_audited() {
    let app = TestApp::spawn().await;
    let staff = staff(&app).await;
    let manager = app.login("manager").await;
    let phone = take(&app, &staff, "等了两个小时", Some("13812345678")).await;
    let mail = take(&app, &staff, "No seats", Some("alice@x.cn")).await;
    let none = take(&app, &staff, "Too cold", None).await;

    let (s, list) = get(&app, "/api/v1/complaints", &manager).await;
    assert_eq!(s, 200);
    assert_eq!(by_id(&list, phone)["contact"], "138****5678");
    assert_eq!(by_id(&list, mail)["contact"], "a***@x.cn");
    assert_eq!(by_id(&list, none)["contact"], Value::Null);
    assert_eq!(by_id(&list, phone)["status"], "open");
    assert_eq!(by_id(&list, phone)["taken_by_name"], "staff1");
    assert!(!list.to_string().contains("13812345678"));
    let (s, one) = get(&app, &format!("/api/v1/complaints/{phone}"), &manager).await;
    assert_eq!(s, 200);
    assert_eq!(one["contact"], "138****5678");

    // Staff take complaints but do not read the register; devices and strangers even less.
    for path in [
        "/api/v1/complaints".to_owned(),
        format!("/api/v1/complaints/{phone}"),
        "/api/v1/complaints/retention".to_owned(),
    ] {
        assert_eq!(get(&app, &path, &staff).await.0, 403, "{path}");
        assert_eq!(get(&app, &path, "demo-kiosk").await.0, 403, "{path}");
        assert_eq!(app.get(&path, None).await.status(), 401, "{path}");
    }
    for (path, body) in [
        (format!("/api/v1/complaints/{phone}/contact"), json!({})),
        (
            format!("/api/v1/complaints/{phone}/notes"),
            json!({"text": "x"}),
        ),
        (
            format!("/api/v1/complaints/{phone}/assign"),
            json!({"user_id": 1}),
        ),
    ] {
        assert_eq!(post(&app, &path, &staff, body).await.0, 403, "{path}");
    }
    assert_eq!(
        put(
            &app,
            "/api/v1/complaints/retention",
            &staff,
            json!({"days": 1})
        )
        .await
        .0,
        403
    );
    assert!(
        audit(&app, &manager)
            .await
            .iter()
            .all(|a| a["action"] != "complaint.contact_viewed"),
        "refused requests must not be audited as viewings"
    );

    // The manager asks: the full contact, and an audit entry that does not repeat it.
    let (s, c) = post(
        &app,
        &format!("/api/v1/complaints/{phone}/contact"),
        &manager,
        json!({}),
    )
    .await;
    assert_eq!((s, c["contact"].clone()), (200, json!("13812345678")));
    let (s, c) = post(
        &app,
        &format!("/api/v1/complaints/{none}/contact"),
        &manager,
        json!({}),
    )
    .await;
    assert_eq!((s, c["contact"].clone()), (200, Value::Null));
    let log = audit(&app, &manager).await;
    let viewed: Vec<&Value> = log
        .iter()
        .filter(|a| a["action"] == "complaint.contact_viewed")
        .collect();
    assert_eq!(viewed.len(), 2);
    assert!(
        viewed
            .iter()
            .any(|a| a["detail"]["complaint"] == phone && a["user"] == "manager")
    );
    let everything = serde_json::to_string(&log).unwrap();
    assert!(!everything.contains("5678") && !everything.contains("alice"));
    assert_eq!(
        post(
            &app,
            "/api/v1/complaints/99999/contact",
            &manager,
            json!({})
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn a_complaint_is_assigned_worked_and_resolved_forward_only_with_its_history() {
    let app = TestApp::spawn().await;
    let staff = staff(&app).await;
    let manager = app.login("manager").await;
    let id = take(&app, &staff, "窗口态度差", Some("13900001111")).await;
    let other = take(&app, &staff, "Long queue", None).await;
    let staff2 = user_id(&app, "staff2").await;
    let base = format!("/api/v1/complaints/{id}");

    // Assigning someone who is not staff of the branch, or garbage: refused, nothing changed.
    assert_eq!(
        post(
            &app,
            &format!("{base}/assign"),
            &manager,
            json!({"user_id": 99999})
        )
        .await
        .0,
        422
    );
    assert_eq!(
        post(
            &app,
            &format!("{base}/assign"),
            &manager,
            json!({"user": "x"})
        )
        .await
        .0,
        422
    );
    assert_eq!(
        post(
            &app,
            "/api/v1/complaints/abc/assign",
            &manager,
            json!({"user_id": staff2})
        )
        .await
        .0,
        404
    );
    assert_eq!(
        post(
            &app,
            "/api/v1/complaints/99999/assign",
            &manager,
            json!({"user_id": staff2})
        )
        .await
        .0,
        404
    );
    assert_eq!(get(&app, &base, &manager).await.1["status"], "open");

    let (s, c) = post(
        &app,
        &format!("{base}/assign"),
        &manager,
        json!({"user_id": staff2, "note": "请回电"}),
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(
        (c["status"].clone(), c["assigned_name"].clone()),
        (json!("in_progress"), json!("staff2"))
    );

    // A note alone; then the wrong moves.
    assert_eq!(
        post(
            &app,
            &format!("{base}/notes"),
            &manager,
            json!({"text": "Called back, no answer"})
        )
        .await
        .0,
        200
    );
    for (body, status, code) in [
        (
            json!({"text": "back", "status": "open"}),
            409,
            "invalid_transition",
        ),
        (
            json!({"text": "again", "status": "in_progress"}),
            409,
            "invalid_transition",
        ),
        (
            json!({"text": "", "status": "resolved"}),
            422,
            "invalid_note",
        ),
        (json!({"text": "   "}), 422, "invalid_note"),
        (
            json!({"text": "x", "status": "done"}),
            422,
            "invalid_status",
        ),
        (json!({"text": "x".repeat(2001)}), 422, "invalid_note"),
    ] {
        let (s, e) = post(&app, &format!("{base}/notes"), &manager, body.clone()).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    assert_eq!(
        post(&app, &format!("{base}/notes"), &manager, json!("text"))
            .await
            .0,
        422
    );

    let (s, c) = post(
        &app,
        &format!("{base}/notes"),
        &manager,
        json!({"text": "Apologised; staff retrained", "status": "resolved"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(c["status"], "resolved");
    assert_eq!(c["resolution"], "Apologised; staff retrained");
    assert!(c["resolved_at"].is_string());
    // Resolved is final.
    assert_eq!(
        post(
            &app,
            &format!("{base}/notes"),
            &manager,
            json!({"text": "reopen", "status": "in_progress"})
        )
        .await
        .0,
        409
    );
    assert_eq!(
        post(
            &app,
            &format!("{base}/assign"),
            &manager,
            json!({"user_id": staff2})
        )
        .await
        .0,
        409
    );
    // Open → resolved at once is allowed for a quick answer.
    let (s, c) = post(
        &app,
        &format!("/api/v1/complaints/{other}/notes"),
        &manager,
        json!({"text": "Explained", "status": "resolved"}),
    )
    .await;
    assert_eq!((s, c["status"].clone()), (200, json!("resolved")));

    let (_, d) = get(&app, &base, &manager).await;
    let h = d["history"].as_array().unwrap();
    assert_eq!(h.len(), 3, "{d}");
    assert_eq!(
        (h[0]["from_status"].clone(), h[0]["to_status"].clone()),
        (json!("open"), json!("in_progress"))
    );
    assert_eq!(
        (
            h[0]["assigned_name"].clone(),
            h[0]["text"].clone(),
            h[0]["by_name"].clone()
        ),
        (json!("staff2"), json!("请回电"), json!("manager"))
    );
    assert_eq!(
        (h[1]["to_status"].clone(), h[1]["text"].clone()),
        (Value::Null, json!("Called back, no answer"))
    );
    assert_eq!(
        (h[2]["from_status"].clone(), h[2]["to_status"].clone()),
        (json!("in_progress"), json!("resolved"))
    );

    let (_, l) = get(&app, "/api/v1/complaints?status=resolved", &manager).await;
    assert_eq!(l["complaints"].as_array().unwrap().len(), 2);
    let (_, l) = get(&app, "/api/v1/complaints?status=in_progress", &manager).await;
    assert_eq!(l["complaints"].as_array().unwrap().len(), 0);
    assert_eq!(
        get(&app, "/api/v1/complaints?status=assigned", &manager)
            .await
            .0,
        422
    );
    assert_eq!(
        get(&app, "/api/v1/complaints?category=rude", &manager)
            .await
            .0,
        422
    );
    assert_eq!(
        get(
            &app,
            "/api/v1/complaints?from=2026-02-02&to=2026-02-01",
            &manager
        )
        .await
        .0,
        422
    );
    assert_eq!(
        get(&app, "/api/v1/complaints?from=yesterday", &manager)
            .await
            .0,
        400
    );

    // Every change is audited, never with the note's text or the contact.
    let log = audit(&app, &manager).await;
    let actions: Vec<&str> = log.iter().filter_map(|a| a["action"].as_str()).collect();
    for a in ["complaint.assign", "complaint.note", "complaint.status"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let everything = serde_json::to_string(&log).unwrap();
    assert!(!everything.contains("13900001111") && !everything.contains("Apologised"));
}

#[tokio::test]
async fn overdue_complaints_are_flagged_and_filters_narrow_the_list() {
    let app = TestApp::spawn().await;
    let staff = staff(&app).await;
    let manager = app.login("manager").await;
    let late = take(&app, &staff, "Nobody answered", None).await;
    let fresh = take(&app, &staff, "Queue too long", None).await;
    let old = take(&app, &staff, "Broken chair", None).await;
    // A deadline already passed; one taken on 5 January 2026 (Shanghai), in another category.
    app.sql(&[
        &format!("UPDATE complaints SET due_at = 1000 WHERE id = {late}"),
        &format!("UPDATE complaints SET created_at = 1767600000000, category = 'environment' WHERE id = {old}"),
    ])
    .await;

    let (_, all) = get(&app, "/api/v1/complaints", &manager).await;
    assert_eq!(all["overdue"], 1);
    assert_eq!(by_id(&all, late)["overdue"], true);
    assert_eq!(by_id(&all, fresh)["overdue"], false);
    let (_, l) = get(&app, "/api/v1/complaints?overdue=true", &manager).await;
    let ids: Vec<i64> = l["complaints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![late]);
    let (_, l) = get(&app, "/api/v1/complaints?category=environment", &manager).await;
    assert_eq!(l["complaints"].as_array().unwrap().len(), 1);
    assert_eq!(l["complaints"][0]["id"], old);
    let (_, l) = get(
        &app,
        "/api/v1/complaints?from=2026-01-05&to=2026-01-05",
        &manager,
    )
    .await;
    assert_eq!(l["complaints"].as_array().unwrap().len(), 1);
    assert_eq!(l["complaints"][0]["id"], old);

    // Answered late is no longer overdue.
    post(
        &app,
        &format!("/api/v1/complaints/{late}/notes"),
        &manager,
        json!({"text": "Done", "status": "resolved"}),
    )
    .await;
    let (_, l) = get(&app, "/api/v1/complaints?overdue=true", &manager).await;
    assert_eq!(l["complaints"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn contacts_are_purged_after_the_retention_period_and_nothing_else_changes() {
    let mut app = TestApp::spawn().await;
    let staff = staff(&app).await;
    let manager = app.login("manager").await;
    assert_eq!(
        get(&app, "/api/v1/complaints/retention", &manager).await.1["days"],
        180
    );
    for bad in [
        json!({"days": 0}),
        json!({"days": 3651}),
        json!({"days": -5}),
    ] {
        assert_eq!(
            put(&app, "/api/v1/complaints/retention", &manager, bad.clone())
                .await
                .0,
            422,
            "{bad}"
        );
    }
    assert_eq!(
        put(
            &app,
            "/api/v1/complaints/retention",
            &manager,
            json!({"days": "x"})
        )
        .await
        .0,
        422
    );
    assert_eq!(
        put(
            &app,
            "/api/v1/complaints/retention",
            &manager,
            json!({"days": 30})
        )
        .await,
        (200, json!({"days": 30}))
    );

    let expired = take(&app, &staff, "Rude", Some("13811112222")).await;
    let recent = take(&app, &staff, "Slow", Some("bob@y.cn")).await;
    let open = take(&app, &staff, "Hot", Some("13633334444")).await;
    for id in [expired, recent] {
        post(
            &app,
            &format!("/api/v1/complaints/{id}/notes"),
            &manager,
            json!({"text": "Answered", "status": "resolved"}),
        )
        .await;
    }
    // Resolved 31 days ago; the open one taken long ago (its period counts from then).
    let day = 86_400_000i64;
    app.sql(&[
        &format!(
            "UPDATE complaints SET resolved_at = resolved_at - {} WHERE id = {expired}",
            31 * day
        ),
        &format!(
            "UPDATE complaints SET created_at = created_at - {} WHERE id = {open}",
            400 * day
        ),
    ])
    .await;
    let row = |id: i64| {
        format!(
            "SELECT concat_ws('|', id, status, category, due_at, resolved_at, staff_user_id, \
             contact_consent, COALESCE(contact, '-'), description, COALESCE(resolution, '-')) \
             FROM complaints WHERE id = {id}"
        )
    };
    let before = query_texts(&app.database_url, &row(expired)).await;

    // The server purges when it starts (and hourly).
    app.restart().await;

    let contact = |id: i64| {
        let (app, manager) = (&app, &manager);
        async move {
            post(
                app,
                &format!("/api/v1/complaints/{id}/contact"),
                manager,
                json!({}),
            )
            .await
            .1["contact"]
                .clone()
        }
    };
    assert_eq!(contact(expired).await, Value::Null);
    assert_eq!(contact(recent).await, "bob@y.cn");
    assert_eq!(contact(open).await, Value::Null);
    let after = query_texts(&app.database_url, &row(expired)).await;
    // Only the personal data changed: the contact, the description and the resolution.
    let (kept, _) = before[0].split_once("|13811112222|").unwrap();
    assert_eq!(
        after[0],
        format!("{kept}|-||-"),
        "only the personal data changed"
    );
    let log = audit(&app, &manager).await;
    let purge: Vec<&Value> = log
        .iter()
        .filter(|a| a["action"] == "complaint.purge")
        .collect();
    assert_eq!(purge.len(), 1, "{log:?}");
    assert_eq!(purge[0]["detail"]["complaints"], json!([expired, open]));
    assert!(
        log.iter()
            .any(|a| a["action"] == "complaint.retention" && a["detail"]["days"] == 30)
    );
    assert!(!serde_json::to_string(&log).unwrap().contains("1381111"));
    // A second start finds nothing more to purge.
    app.restart().await;
    let n = audit(&app, &manager)
        .await
        .iter()
        .filter(|a| a["action"] == "complaint.purge")
        .count();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn the_register_its_history_and_settings_move_to_postgresql_with_migrate_data() {
    let Some(pg) = qhall_tests::pg_database().await else {
        return;
    };
    let mut app = TestApp::spawn_sqlite().await;
    let staff = staff(&app).await;
    let manager = app.login("manager").await;
    let id = take(&app, &staff, "Slow", Some("13812345678")).await;
    let staff2 = user_id(&app, "staff2").await;
    post(
        &app,
        &format!("/api/v1/complaints/{id}/assign"),
        &manager,
        json!({"user_id": staff2}),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/complaints/{id}/notes"),
        &manager,
        json!({"text": "Done", "status": "resolved"}),
    )
    .await;
    put(
        &app,
        "/api/v1/complaints/retention",
        &manager,
        json!({"days": 30}),
    )
    .await;
    let tolerances = json!({"late_after_mins": 10, "early_leave_mins": 15, "long_pause_mins": 45});
    app.request(
        reqwest::Method::PUT,
        "/api/v1/attendance/settings",
        Some(&manager),
    )
    .json(&tolerances)
    .send()
    .await
    .unwrap();
    app.stop().await;

    qhall_server::store::migrate_data::run(&app.database_url, &pg.url)
        .await
        .expect("migrate-data");
    let moved = TestApp::spawn_on(pg.url.clone()).await;
    let manager = moved.login("manager").await;
    let (s, d) = get(&moved, &format!("/api/v1/complaints/{id}"), &manager).await;
    assert_eq!(s, 200);
    assert_eq!(d["status"], "resolved");
    assert_eq!(d["history"].as_array().unwrap().len(), 2, "{d}");
    assert_eq!(
        get(&moved, "/api/v1/complaints/retention", &manager)
            .await
            .1["days"],
        30
    );
    assert_eq!(
        get(&moved, "/api/v1/attendance/settings", &manager).await.1,
        tolerances
    );
}

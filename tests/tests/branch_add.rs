//! Several branches for real (issue #11, part 5): a branch created by the command line (and one
//! by an admin over the API) gets its manager, services, windows, kiosk and rating pad; its pad
//! page and public page work; the pad rates its own window's ticket; and the cross-branch
//! overview's figures equal each branch's own. Bad input changes nothing. SQLite and PostgreSQL.

#[path = "support/browser.rs"]
mod browser;

use std::process::{Command, Output};

use qhall_tests::{ServerProcess, TestApp, pg_database};
use serde_json::{Value, json};

/// Runs `qhall-server ARGS… --database URL` to completion.
fn admin(url: &str, args: &[&str]) -> Output {
    Command::new(ServerProcess::binary())
        .args(args)
        .args(["--database", url])
        .env("QHALL_PASSWORD", "second-branch-pw")
        .output()
        .expect("run qhall-server")
}

async fn login_as(app: &TestApp, user: &str, password: &str) -> String {
    let r = app
        .post(
            "/api/v1/login",
            None,
            json!({"username": user, "password": password}),
        )
        .await;
    assert_eq!(r.status(), 200, "{user} logs in");
    let v: Value = r.json().await.unwrap();
    v["token"].as_str().unwrap().to_owned()
}

async fn a_new_branch_runs_on_its_own(app: &TestApp) {
    use reqwest::Method;
    let url = app.database_url.clone();
    // The command line: a branch, then its manager.
    let out = admin(
        &url,
        &[
            "branch",
            "add",
            "第二大厅",
            "--timezone",
            "Asia/Shanghai",
            "--name-en",
            "Second hall",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
    let bad = admin(&url, &["branch", "add", "火星", "--timezone", "Mars/Base"]);
    assert!(!bad.status.success(), "an unknown time zone is refused");
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("time zone"),
        "{bad:?}"
    );
    let out = admin(
        &url,
        &[
            "user", "add", "manager2", "--role", "manager", "--branch", "2",
        ],
    );
    assert!(out.status.success(), "{out:?}");

    // An admin sees both, and adds a third; a manager may not; bad input changes nothing.
    app.sql(&[
        "INSERT INTO users (branch_id, username, password_hash, role, created_at) \
         SELECT NULL, 'admin', password_hash, 'admin', 0 FROM users WHERE username = 'staff1'",
    ])
    .await;
    let admin_token = app.login("admin").await;
    let manager1 = app.login("manager").await;
    for (token, body, status, code) in [
        (
            &manager1,
            json!({"name": {"zh": "三", "en": "Three"}, "time_zone": "UTC"}),
            403,
            "forbidden",
        ),
        (
            &admin_token,
            json!({"name": {"zh": "三", "en": "Three"}, "time_zone": "Nowhere/Else"}),
            422,
            "unknown_time_zone",
        ),
        (
            &admin_token,
            json!({"name": {"zh": "", "en": "Three"}, "time_zone": "UTC"}),
            422,
            "invalid_text",
        ),
    ] {
        let (s, v) = app
            .send_json(Method::POST, "/api/v1/branches", Some(token), body)
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (status, Some(code)),
            "{v}"
        );
    }
    let (s, v) = app
        .send_json(
            Method::POST,
            "/api/v1/branches",
            Some(&admin_token),
            json!({"name": {"zh": "第三大厅", "en": "Third hall"}, "time_zone": "Asia/Hong_Kong"}),
        )
        .await;
    assert_eq!((s, v["id"].as_i64()), (201, Some(3)), "{v}");
    let list: Value = app
        .get("/api/v1/branches", Some(&admin_token))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"]["en"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{list}");
    assert_eq!(&names[1..], ["Second hall", "Third hall"]);
    assert_eq!(
        app.get("/api/v1/branches", Some(&manager1)).await.status(),
        403
    );

    // Branch 2's manager sets up a service, a window, a kiosk and a rating pad.
    let m2 = login_as(app, "manager2", "second-branch-pw").await;
    let (s, v) = app
        .send_json(
            Method::POST,
            "/api/v1/config/services",
            Some(&m2),
            json!({"code": "A", "name": {"zh": "综合", "en": "General"}}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = app
        .send_json(
            Method::POST,
            "/api/v1/config/windows",
            Some(&m2),
            json!({"number": 1, "name": "One", "serves": [{"service": "A"}]}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, kiosk) = app
        .send_json(
            Method::POST,
            "/api/v1/devices",
            Some(&m2),
            json!({"name": "kiosk", "role": "kiosk"}),
        )
        .await;
    assert_eq!(s, 201, "{kiosk}");
    let (s, pad) = app
        .send_json(
            Method::POST,
            "/api/v1/devices",
            Some(&m2),
            json!({"name": "pad 1", "role": "pad", "window": 1}),
        )
        .await;
    assert_eq!(s, 201, "{pad}");
    let pairing = pad["pairing_url"].as_str().unwrap();
    assert!(pairing.contains("/rate/2/1#pad="), "{pairing}");

    // Its pages: the pad's and the public one; another branch's window or none is a 404.
    let page = app.get("/rate/2/1?lang=en", None).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Window 1"));
    assert_eq!(app.get("/rate/2/9", None).await.status(), 404);
    assert_eq!(app.get("/rate/7/1", None).await.status(), 404);
    let hall = app.get("/hall/2?lang=en", None).await;
    assert_eq!(hall.status(), 200);
    let hall = hall.text().await.unwrap();
    assert!(
        hall.contains("Second hall") && hall.contains("General"),
        "{hall}"
    );

    // A ticket of branch 2, served and rated on its own pad; its hall is open around the clock
    // for the test (a new branch starts with office hours).
    let day = json!([["00:00", "24:00"]]);
    let (s, v) = app.send_json(Method::PUT, "/api/v1/config/hours", Some(&m2),
        json!({"time_zone": "Asia/Shanghai", "weekly": [day, day, day, day, day, day, day], "cutoff_mins": 0}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let k2 = kiosk["token"].as_str().unwrap();
    let r = app
        .post("/api/v1/tickets", Some(k2), json!({"service": "A"}))
        .await;
    assert_eq!(r.status(), 201);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["number"], "A001");
    assert_eq!(app.window(1, "sign-in", &m2).await.status(), 200);
    let called = app.call_next(1, &m2).await.expect("branch 2's ticket");
    assert_eq!(called.number.as_str(), "A001");
    assert_eq!(app.window(1, "complete", &m2).await.status(), 200);
    let pad_token = pad["token"].as_str().unwrap();
    let prompt: Value = app
        .get("/api/v1/windows/1/rating", Some(pad_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(prompt["ticket"]["number"], "A001", "{prompt}");
    let r = app
        .post(
            "/api/v1/windows/1/rating",
            Some(pad_token),
            json!({"number": "A001", "score": 5}),
        )
        .await;
    assert_eq!(r.status(), 201);

    // Branch 1 has its own day: a ticket served there.
    let s1 = app.login("staff1").await;
    app.sign_in(1, &s1).await;
    app.issue("A").await;
    app.call_next(1, &s1).await.unwrap();
    assert_eq!(app.window(1, "complete", &s1).await.status(), 200);

    // The overview's line of each branch is that branch's own figures.
    let all: Value = app
        .get("/api/v1/stats/branches", Some(&admin_token))
        .await
        .json()
        .await
        .unwrap();
    for (id, manager) in [(1, &manager1), (2, &m2)] {
        let own: Value = app
            .get("/api/v1/stats", Some(manager))
            .await
            .json()
            .await
            .unwrap();
        let line = all["branches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["branch"] == id)
            .unwrap_or_else(|| panic!("branch {id} in {all}"));
        for k in [
            "issued",
            "served",
            "called",
            "service_level",
            "p90_wait_secs",
        ] {
            assert_eq!(line[k], own[k], "branch {id} {k}: {all} vs {own}");
        }
        assert_eq!(line["issued"], 1, "{line}");
    }
    // The admin's session switches to branch 2: the manager API now reads and changes that
    // branch (what the manager pages' switcher does); a manager may not, nor to a branch that
    // does not exist.
    for (token, branch, status) in [(&manager1, 2, 403), (&admin_token, 99, 404)] {
        let (s, v) = app
            .send_json(
                Method::PUT,
                "/api/v1/session/branch",
                Some(token),
                json!({"branch": branch}),
            )
            .await;
        assert_eq!(s, status, "{v}");
    }
    let r = app
        .request(Method::PUT, "/api/v1/session/branch", Some(&admin_token))
        .json(&json!({"branch": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let config: Value = app
        .get("/api/v1/config", Some(&admin_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        config["services"].as_array().unwrap().len(),
        1,
        "branch 2's one service: {config}"
    );
    assert_eq!(config["windows"][0]["name"], "One");
    let two = &all["branches"][1];
    assert_eq!(
        (two["ratings"].as_u64(), two["mean_rating"].as_f64()),
        (Some(1), Some(5.0)),
        "{two}"
    );
    assert_eq!(two["open_complaints"], 0);
    let csv = app
        .get("/api/v1/stats/branches.csv", Some(&admin_token))
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "a header and three branches: {csv}");
    assert!(lines[0].starts_with("branch,name,issued,served"), "{csv}");
    assert!(lines[2].starts_with("2,第二大厅,1,1,0,0,1,"), "{csv}");
    assert!(lines[2].ends_with(",1,5.000,0"), "{csv}");
}

#[tokio::test]
async fn a_new_branch_runs_on_its_own_on_sqlite() {
    let app = TestApp::spawn_sqlite().await;
    a_new_branch_runs_on_its_own(&app).await;
}

#[tokio::test]
async fn a_new_branch_runs_on_its_own_on_postgresql() {
    let Some(pg) = pg_database().await else {
        return;
    };
    let app = TestApp::spawn_on(pg.url.clone()).await;
    a_new_branch_runs_on_its_own(&app).await;
}

/// The admin's page: the overview lists the branches, a new one is added from the form, and
/// the header's switcher moves the manager pages to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_branch_on_the_page_and_switches_to_it() {
    let app = TestApp::spawn_sqlite().await;
    app.sql(&[
        "INSERT INTO users (branch_id, username, password_hash, role, created_at) \
         SELECT NULL, 'admin', password_hash, 'admin', 0 FROM users WHERE username = 'staff1'",
    ])
    .await;
    let b = browser::Browser::start(1280, 1000).await;
    b.goto(&format!("{}/manage/branches?lang=en", app.url))
        .await;
    b.log_in("admin").await;
    b.wait_text("#branches", "Qhall Demo").await;
    b.type_into("#branch-new input[name='name_zh']", "第二大厅")
        .await;
    b.type_into("#branch-new input[name='name_en']", "Second hall")
        .await;
    b.click("#branch-add").await;
    b.wait_text("#branches", "Second hall").await;
    let switched = b
        .js(
            "var s = document.getElementById('branch-switch'); s.value = '2'; \
             s.dispatchEvent(new Event('change')); return s.options.length;",
        )
        .await;
    assert_eq!(switched, json!(2));
    b.wait_text("header .hall", "Second hall").await;
    b.close().await;
}

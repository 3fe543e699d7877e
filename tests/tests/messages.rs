//! Messages to customers through the outbox, to a real HTTP receiver standing in for the hall's
//! SMS gateway on 127.0.0.1: "near" then "called", once each and in order; retries until the
//! gateway takes it; sent once after a `kill -9` and restart; sent once by two servers on one
//! PostgreSQL; the body's HMAC verifies; the number never appears unmasked in the log, the
//! event stream or a list.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use qhall_server::notify::Settings;
use qhall_tests::{Gateway, KIOSK, Received, ServerProcess, TestApp, pg_database};
use serde_json::{Value, json};

const SECRET: &str = "gateway-shared-secret";
const MOBILE: &str = "138 0013 8000";
const MOBILE_DIGITS: &str = "13800138000";

fn webhook(url: String, retry_ms: u64) -> impl Fn(&mut qhall_server::Config) + Send + Sync {
    move |c| {
        c.messages = Settings::resolve(
            Some("webhook"),
            Some(url.clone()),
            Some(SECRET.into()),
            BTreeMap::from([("authorization".to_owned(), "Bearer gw-token".to_owned())]),
            None,
            Some(retry_ms),
            false,
        )
        .expect("webhook settings");
    }
}

/// HMAC-SHA256 written here from RFC 2104, independently of the server's.
fn hmac_hex(key: &[u8], data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut k = [0u8; 64];
    k[..key.len()].copy_from_slice(key);
    let inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let mut h = Sha256::new();
    h.update(&inner);
    h.update(data);
    let inner_hash = h.finalize();
    let mut h = Sha256::new();
    h.update(&outer);
    h.update(inner_hash);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn assert_signed(r: &Received) {
    assert_signature(r);
    assert_eq!(
        r.headers.get("authorization").map(String::as_str),
        Some("Bearer gw-token"),
        "the configured headers are sent"
    );
}

fn assert_signature(r: &Received) {
    let sig = r
        .headers
        .get("x-qhall-signature")
        .expect("a signature header");
    assert_eq!(
        sig,
        &format!("sha256={}", hmac_hex(SECRET.as_bytes(), r.body.as_bytes())),
        "the body's HMAC verifies"
    );
}

async fn notify(client: &reqwest::Client, base: &str, id: &str) -> Value {
    let r = client
        .post(format!("{base}/api/v1/tickets/{id}/notify"))
        .json(&json!({"mobile": MOBILE, "lang": "en"}))
        .send()
        .await
        .expect("notify");
    assert_eq!(r.status(), 200, "notify");
    r.json().await.expect("json")
}

/// POSTs `body` to `base` + `path` (as `token`, if any); the answer's status and JSON.
async fn post(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut req = client.post(format!("{base}{path}")).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A ticket of `service` from the demo kiosk at `base`.
async fn kiosk_ticket(client: &reqwest::Client, base: &str, service: &str) -> Value {
    let (s, t) = post(
        client,
        base,
        "/api/v1/tickets",
        Some(KIOSK),
        json!({"service": service}),
    )
    .await;
    assert_eq!(s, 201, "{t}");
    t
}

/// A demo user's token at `base`.
async fn token_of(client: &reqwest::Client, base: &str, user: &str) -> String {
    let (s, v) = post(
        client,
        base,
        "/api/v1/login",
        None,
        json!({"username": user, "password": "demo"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v["token"].as_str().unwrap().to_owned()
}

async fn serve_next(app: &TestApp, token: &str) -> String {
    let t = app.call_next(1, token).await.expect("a ticket to call");
    assert_eq!(app.window(1, "start", token).await.status(), 200);
    assert_eq!(app.window(1, "complete", token).await.status(), 200);
    t.number.to_string()
}

#[tokio::test]
async fn near_then_called_once_each_in_order_signed() {
    let gw = Gateway::start(&[]).await;
    let app = TestApp::spawn_with_config(webhook(gw.url(), 50)).await;
    let mut tickets = Vec::new();
    for _ in 0..5 {
        tickets.push(app.issue("A").await);
    }
    let last = tickets.last().unwrap().clone();
    let answer = notify(&app.client, &app.url, &last.id).await;
    assert_eq!(
        answer["mobile"], "138****8000",
        "the answer masks the number"
    );
    assert_eq!(answer["notify_ahead"], 3);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(gw.received().is_empty(), "4 ahead is not near yet");

    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    let mut served = Vec::new();
    // After the first call 3 are ahead: "near"; the fifth call is the ticket itself: "called".
    for _ in 0..5 {
        served.push(serve_next(&app, &staff).await);
    }
    assert_eq!(served.last().unwrap(), &last.number.to_string());
    let got = gw.wait_for(2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got_after = gw.received();
    assert_eq!(got_after.len(), 2, "exactly two messages: {got_after:?}");
    assert_eq!(got.len(), 2);
    let (near, called) = (got[0].json(), got[1].json());
    assert_eq!(near["kind"], "near");
    assert_eq!(called["kind"], "called");
    assert_eq!(near["to"], MOBILE_DIGITS);
    assert_eq!(near["lang"], "en");
    let number = last.number.to_string();
    assert!(
        near["text"]
            .as_str()
            .unwrap()
            .contains(&format!("3 ahead of your ticket {number}")),
        "{near}"
    );
    assert!(
        called["text"]
            .as_str()
            .unwrap()
            .contains(&format!("ticket {number}, please go to window 1")),
        "{called}"
    );
    assert_ne!(near["id"], called["id"]);
    for r in &got {
        assert_signed(r);
        assert_eq!(
            r.headers.get("x-qhall-message-id").map(String::as_str),
            r.json()["id"].as_str()
        );
    }
}

#[tokio::test]
async fn a_refusing_gateway_gets_the_message_on_the_fourth_try() {
    let gw = Gateway::start(&[500, 500, 500]).await;
    let app = TestApp::spawn_with_config(webhook(gw.url(), 50)).await;
    let t = app.issue("B").await;
    // Nobody ahead: "near" at once.
    notify(&app.client, &app.url, &t.id).await;
    let got = gw.wait_for(4, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let all = gw.received();
    assert_eq!(all.len(), 4, "three refusals and the delivery: {all:?}");
    assert_eq!(got.len(), 4);
    let ids: HashSet<String> = all
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "the same message each time");
    assert!(all.iter().all(|r| r.body == all[0].body));
    assert_signed(&all[3]);

    let manager = app.login("manager").await;
    let list: Value = app
        .get("/api/v1/messages", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{list}");
    assert_eq!(rows[0]["state"], "sent");
    assert_eq!(rows[0]["attempts"], 4);
    assert_eq!(rows[0]["to"], "138****8000");
    assert!(
        rows[0]["answer"].as_str().unwrap().starts_with("200"),
        "{list}"
    );
    assert!(!list.to_string().contains(MOBILE_DIGITS));
}

#[tokio::test]
async fn a_message_committed_before_a_crash_is_sent_once_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("qhall.db").display());
    // The gateway's port, not listening yet: the sender's attempts fail until it is.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = port.local_addr().unwrap();
    drop(port);
    let url = format!("http://{addr}/sms");
    let args = [
        "--issue-limit",
        "100000",
        "--messages",
        "webhook",
        "--sms-webhook",
        url.as_str(),
        "--sms-secret",
        SECRET,
        "--message-retry-ms",
        "100",
    ];
    let client = reqwest::Client::new();
    let mut server = ServerProcess::start_with(&db, &args).unwrap();
    let t = kiosk_ticket(&client, &server.url, "A").await;
    notify(&client, &server.url, t["id"].as_str().unwrap()).await;
    let token = token_of(&client, &server.url, "staff1").await;
    for action in ["sign-in", "call-next"] {
        let path = format!("/api/v1/windows/1/{action}");
        let (s, _) = post(&client, &server.url, &path, Some(&token), json!({})).await;
        assert_eq!(s, 200, "{action}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill9();

    let gw = Gateway::start_at(addr, &[]).await;
    let _server = ServerProcess::start_with(&db, &args).unwrap();
    let got = gw.wait_for(2, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let all = gw.received();
    assert_eq!(got.len(), 2);
    assert_eq!(all.len(), 2, "each message once: {all:?}");
    let kinds: Vec<Value> = all.iter().map(|r| r.json()["kind"].clone()).collect();
    assert_eq!(kinds, vec![json!("near"), json!("called")]);
    all.iter().for_each(assert_signature);
}

#[tokio::test]
async fn two_servers_on_one_postgres_send_each_message_once() {
    let Some(pg) = pg_database().await else {
        return;
    };
    let gw = Gateway::start(&[]).await;
    let url = gw.url();
    let args = [
        "--issue-limit",
        "100000",
        "--messages",
        "webhook",
        "--sms-webhook",
        url.as_str(),
        "--message-retry-ms",
        "100",
    ];
    let a = ServerProcess::start_with(&pg.url, &args).unwrap();
    let b = ServerProcess::start_with(&pg.url, &args).unwrap();
    let servers = [a.url.clone(), b.url.clone()];
    let client = reqwest::Client::new();
    let mut numbers = Vec::new();
    for i in 0..10 {
        let t = kiosk_ticket(&client, &servers[i % 2], "A").await;
        notify(&client, &servers[(i + 1) % 2], t["id"].as_str().unwrap()).await;
        numbers.push(t["number"].as_str().unwrap().to_owned());
    }
    let token = token_of(&client, &servers[0], "staff1").await;
    let act = |base: &str, action: &str| {
        let path = format!("/api/v1/windows/1/{action}");
        let (client, base, token) = (client.clone(), base.to_owned(), token.clone());
        async move { post(&client, &base, &path, Some(&token), json!({})).await.0 }
    };
    assert_eq!(act(&servers[0], "sign-in").await, 200);
    for i in 0..10 {
        let base = &servers[i % 2];
        assert_eq!(act(base, "call-next").await, 200);
        assert_eq!(act(base, "complete").await, 200);
    }
    let got = gw.wait_for(20, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let all = gw.received();
    assert_eq!(got.len(), 20);
    assert_eq!(
        all.len(),
        20,
        "ten tickets, near and called each, once: {all:?}"
    );
    let ids: HashSet<String> = all
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 20, "no message twice");
    for n in &numbers {
        let kinds: Vec<String> = all
            .iter()
            .map(Received::json)
            .filter(|m| m["text"].as_str().unwrap().contains(n.as_str()))
            .map(|m| m["kind"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(kinds, vec!["near", "called"], "{n}");
    }
}

#[tokio::test]
async fn the_number_is_never_unmasked_in_the_log_the_stream_or_a_list() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("qhall.db").display());
    let log = dir.path().join("server.log");
    let server = ServerProcess::start_logged(
        &db,
        &[
            "--issue-limit",
            "100000",
            "--messages",
            "log",
            "--message-retry-ms",
            "100",
        ],
        &log,
    )
    .unwrap();
    let base = server.url.clone();
    let client = reqwest::Client::new();
    let ws_url = format!(
        "{}/api/v1/events?token={}",
        base.replace("http://", "ws://"),
        qhall_tests::DISPLAY
    );
    let mut board = qhall_tests::EventClient::connect(&ws_url).await.unwrap();
    let t = kiosk_ticket(&client, &base, "A").await;
    let id = t["id"].as_str().unwrap().to_owned();
    notify(&client, &base, &id).await;
    let staff = token_of(&client, &base, "staff1").await;
    for action in ["sign-in", "call-next", "complete"] {
        let path = format!("/api/v1/windows/1/{action}");
        let (s, _) = post(&client, &base, &path, Some(&staff), json!({})).await;
        assert_eq!(s, 200, "{action}");
    }
    // The customer also complains and rates, leaving the same number as a contact.
    let (s, _) = post(
        &client,
        &base,
        &format!("/api/v1/tickets/{id}/feedback"),
        None,
        json!({"kind": "complaint", "category": "waiting", "text": "slow", "contact": MOBILE_DIGITS, "consent": true}),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = post(
        &client,
        &base,
        &format!("/api/v1/tickets/{id}/rating"),
        None,
        json!({"score": 1, "comment": "too slow", "contact": MOBILE_DIGITS, "consent": true}),
    )
    .await;
    assert_eq!(s, 201);
    // Both messages went out through the log transport.
    let mut logged = String::new();
    for _ in 0..100 {
        logged = std::fs::read_to_string(&log).unwrap_or_default();
        if logged.matches("message (log transport)").count() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        logged.matches("message (log transport)").count(),
        2,
        "{logged}"
    );
    assert!(
        logged.contains("138****8000"),
        "the log shows the number masked"
    );

    let mut frames = Vec::new();
    while let Ok(frame) = board.next(Duration::from_millis(500)).await {
        frames.push(frame.to_string());
    }
    assert!(!frames.is_empty(), "the board heard the day");

    let manager = token_of(&client, &base, "manager").await;
    let mut lists = Vec::new();
    for path in [
        "/api/v1/messages",
        "/api/v1/complaints",
        "/api/v1/audit",
        "/api/v1/reports",
        "/api/v1/reports/events.csv",
        "/api/v1/attendance",
    ] {
        let r = client
            .get(format!("{base}{path}"))
            .bearer_auth(&manager)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status}");
        lists.push((path, body));
    }
    assert!(
        lists[0].1.contains("138****8000") && lists[1].1.contains("138****8000"),
        "the lists show the masked number"
    );
    let t_page = client
        .get(format!("{base}/t/{id}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    drop(server);
    let logged = std::fs::read_to_string(&log).unwrap();
    for (what, text) in [("the log", &logged), ("the tracking page", &t_page)]
        .into_iter()
        .chain(frames.iter().map(|f| ("the event stream", f)))
        .chain(lists.iter().map(|(p, b)| (*p, b)))
    {
        assert!(
            !text.contains(MOBILE_DIGITS),
            "{what} holds the number unmasked"
        );
        assert!(!text.contains(MOBILE), "{what} holds the number as typed");
    }
}

#[tokio::test]
async fn the_manager_words_the_messages_and_sets_how_near_is_near() {
    let gw = Gateway::start(&[]).await;
    let app = TestApp::spawn_with_config(webhook(gw.url(), 50)).await;
    let manager = app.login("manager").await;
    let staff = app.login("staff1").await;
    let (s, mut settings) = app
        .send_json(
            reqwest::Method::GET,
            "/api/v1/config/messages",
            Some(&manager),
            Value::Null,
        )
        .await;
    assert_eq!(s, 200, "{settings}");
    assert_eq!(settings["notify_ahead"], 3);
    assert_eq!(
        settings["templates"].as_array().unwrap().len(),
        15,
        "five kinds in three languages"
    );
    settings["notify_ahead"] = json!(1);
    for t in settings["templates"].as_array_mut().unwrap() {
        if t["kind"] == "near" && t["lang"] == "en" {
            t["text"] = json!("{number}: {ahead} to go at {branch}");
        }
        t.as_object_mut().unwrap().remove("placeholders");
    }
    for (field, value, code) in [
        ("notify_ahead", json!(0), "invalid_notify_ahead"),
        ("follow_up_days", json!(61), "invalid_follow_up_days"),
        ("remote_share_pct", json!(0), "invalid_remote_share"),
    ] {
        let mut bad = settings.clone();
        bad[field] = value;
        let (s, v) = app
            .send_json(
                reqwest::Method::PUT,
                "/api/v1/config/messages",
                Some(&manager),
                bad,
            )
            .await;
        assert_eq!((s, v["error"]["code"].as_str().unwrap()), (422, code));
    }
    let mut bad = settings.clone();
    bad["templates"][0]["text"] = json!("go to {windw}");
    let (s, v) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/config/messages",
            Some(&manager),
            bad,
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str().unwrap()),
        (422, "invalid_template")
    );
    let (s, _) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/config/messages",
            Some(&staff),
            settings.clone(),
        )
        .await;
    assert_eq!(s, 403, "staff do not word the hall's messages");
    let (s, saved) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/config/messages",
            Some(&manager),
            settings,
        )
        .await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(saved["notify_ahead"], 1);

    // Two ahead is not near any more; one is.
    let _first = app.issue("A").await;
    let _second = app.issue("A").await;
    let third = app.issue("A").await;
    notify(&app.client, &app.url, &third.id).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(gw.received().is_empty());
    app.sign_in(1, &staff).await;
    app.call_next(1, &staff).await.unwrap();
    let got = gw.wait_for(1, Duration::from_secs(10)).await;
    let text = got[0].json()["text"].as_str().unwrap().to_owned();
    assert_eq!(
        text,
        format!("{}: 1 to go at Qhall Demo Service Hall", third.number)
    );
    let audit: Value = app
        .get("/api/v1/audit", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        audit.to_string().contains("messages.settings"),
        "the change is audited"
    );
}

/// A Shanghai office open 09:00–17:00 on weekdays.
const OFFICE: &str = "UPDATE branches SET weekly_hours = \
    '[[[540,1020]],[[540,1020]],[[540,1020]],[[540,1020]],[[540,1020]],[],[]]', \
    cutoff_mins = 0, config_version = config_version + 1";

async fn closing_cancels_what_is_still_to_be_sent(url: &str) {
    use qhall_tests::{at, demo_store_on, kiosk_principal, query_texts};
    let store = demo_store_on(url, OFFICE).await;
    // Monday 2 March 2026, 10:00 Shanghai: two tickets, both with a number; no sender runs
    // here, so their "near" messages are still pending at closing.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let t = store
            .issue(
                &kiosk_principal(),
                "A".parse().unwrap(),
                false,
                None,
                at("2026-03-02T02:00:00Z"),
            )
            .await
            .unwrap();
        ids.push(t.ticket.id.clone());
    }
    for id in &ids {
        store
            .notify_register(id, MOBILE, "zh", at("2026-03-02T02:01:00Z"))
            .await
            .unwrap();
    }
    let states = query_texts(url, "SELECT kind || ' ' || state FROM messages ORDER BY id").await;
    assert_eq!(states, ["near pending", "near pending"]);
    let closed = store
        .close_day(1, at("2026-03-02T09:00:01Z"))
        .await
        .unwrap();
    assert_eq!(closed.map(|c| c.cancelled), Some(2));
    let states = query_texts(url, "SELECT kind || ' ' || state FROM messages ORDER BY id").await;
    assert_eq!(
        states,
        ["near cancelled", "near cancelled"],
        "nothing is sent after closing"
    );
    // Past the retention period (180 days) the numbers are gone, with the ticket's day.
    store
        .purge_complaint_contacts(at("2026-09-30T00:00:00Z"))
        .await
        .unwrap();
    let left = query_texts(
        url,
        "SELECT COALESCE(mobile, '-') FROM ticket_contacts UNION ALL \
         SELECT COALESCE(recipient, '-') FROM messages",
    )
    .await;
    assert_eq!(left, ["-", "-", "-", "-"], "numbers purged");
}

#[tokio::test]
async fn closing_cancels_what_is_still_to_be_sent_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    closing_cancels_what_is_still_to_be_sent(&url).await;
}

#[tokio::test]
async fn closing_cancels_what_is_still_to_be_sent_postgres() {
    let Some(pg) = pg_database().await else {
        return;
    };
    closing_cancels_what_is_still_to_be_sent(&pg.url).await;
}

/// Several numbers in one line: each gets "near" exactly when at most three are ahead of it —
/// the scan stops at the first ticket not near yet, and must not miss those behind it later.
#[tokio::test]
async fn each_number_in_a_line_hears_near_at_its_own_moment() {
    let app = TestApp::spawn_with_config(qhall_tests::log_messages).await;
    let manager = app.login("manager").await;
    let staff = app.login("staff1").await;
    let mut tickets = Vec::new();
    for _ in 0..8 {
        tickets.push(app.issue("A").await);
    }
    for i in [2usize, 4, 7] {
        notify(&app.client, &app.url, &tickets[i].id).await;
    }
    let near_for = |list: &Value| -> Vec<String> {
        let mut v: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "near")
            .map(|m| m["ticket"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let number = |i: usize| tickets[i].number.to_string();
    let list: Value = app
        .get("/api/v1/messages", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        near_for(&list),
        vec![number(2)],
        "only the third is near at first"
    );
    app.sign_in(1, &staff).await;
    // Each call moves the line one on; the expected "near" set after it.
    let expected: [Vec<usize>; 4] = [vec![2, 4], vec![2, 4], vec![2, 4], vec![2, 4, 7]];
    for want in expected {
        serve_next(&app, &staff).await;
        let list: Value = app
            .get("/api/v1/messages", Some(&manager))
            .await
            .json()
            .await
            .unwrap();
        let mut want: Vec<String> = want.into_iter().map(number).collect();
        want.sort();
        assert_eq!(near_for(&list), want, "{list}");
    }
}

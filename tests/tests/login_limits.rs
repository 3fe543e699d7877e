//! Logins and issuing cannot be turned against the hall (issue #15, items 1, 2, 9): the login
//! limits' memory is bounded, password checks are capped at the core count, an outsider cannot
//! lock a person out, unknown usernames answer as slowly as real ones, a password reset ends
//! the old sessions at once, and a kiosk token cannot issue past its limit.
//!
//! Each test runs the built `qhall-server` binary ([`ServerProcess`]) with its default limits,
//! and connects from loopback addresses of its own (`127.0.x.y`) to act as several clients.
//! The tests measure time and memory, so they take turns ([`SERIAL`]).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use qhall_tests::{KIOSK, ServerProcess, pg_database};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// One test at a time: each measures the server's time or memory.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A server with every default, on a fresh SQLite file.
fn server() -> (tempfile::TempDir, ServerProcess) {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("qhall.db").display());
    let s = ServerProcess::start_with(&db, &[])
        .expect("start qhall-server (cargo build -p qhall-server)");
    (dir, s)
}

/// A client whose connections come from `ip` (any 127.x.y.z is this machine).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

async fn login(c: &reqwest::Client, url: &str, user: &str, password: &str) -> reqwest::Response {
    c.post(format!("{url}/api/v1/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn token(c: &reqwest::Client, url: &str, user: &str, password: &str) -> String {
    let r = login(c, url, user, password).await;
    assert_eq!(r.status(), 200, "login {user}");
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A gauge or counter from `/metrics` (read as the manager: `/metrics` may need a token).
async fn metric(url: &str, name: &str) -> f64 {
    let c = client_from("127.0.0.1");
    let manager = token(&c, url, "manager", "demo").await;
    let text = c
        .get(format!("{url}/metrics"))
        .bearer_auth(&manager)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} not in /metrics:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Sends `n` logins with `body(i)` from `clients` (round robin), `parallel` at a time, and
/// counts the answers by status.
async fn flood(
    url: &str,
    clients: &[reqwest::Client],
    n: usize,
    parallel: usize,
    body: impl Fn(usize) -> reqwest::Body + Send + Sync + 'static,
) -> std::collections::BTreeMap<u16, usize> {
    let body = std::sync::Arc::new(body);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for w in 0..parallel {
        let (body, next, url) = (body.clone(), next.clone(), url.to_owned());
        let clients = clients.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut seen = std::collections::BTreeMap::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return seen;
                }
                let c = &clients[(i + w) % clients.len()];
                let r = c
                    .post(format!("{url}/api/v1/login"))
                    .header("content-type", "application/json")
                    .body(body(i))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let _ = r.bytes().await;
                *seen.entry(status).or_insert(0) += 1;
            }
        }));
    }
    let mut all = std::collections::BTreeMap::new();
    for t in tasks {
        for (s, k) in t.await.unwrap() {
            *all.entry(s).or_insert(0) += k;
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_thousand_failed_logins_with_huge_or_distinct_usernames_leave_memory_flat() {
    let _turn = SERIAL.lock().await;
    let (_dir, server) = server();
    let url = server.url.clone();
    let clients: Vec<_> = (1..=8)
        .map(|i| client_from(&format!("127.0.3.{i}")))
        .collect();

    // Warm up what any server holds after its first logins: the argon2 working set of each
    // core, connection buffers, the allocator's arenas.
    let warm: Vec<_> = (0..cores() * 2)
        .map(|i| {
            let (c, url) = (client_from("127.0.0.1"), url.clone());
            tokio::spawn(
                async move { token(&c, &url, &format!("staff{}", i % 4 + 1), "demo").await },
            )
        })
        .collect();
    for w in warm {
        w.await.unwrap();
    }
    let huge: &'static [u8] = Box::leak(
        serde_json::to_vec(&json!({"username": "x".repeat(60_000), "password": "nope"}))
            .unwrap()
            .into_boxed_slice(),
    );
    let warm_clients: Vec<_> = (1..=8)
        .map(|i| client_from(&format!("127.0.2.{i}")))
        .collect();
    flood(&url, &warm_clients, 200, 8, move |_| {
        reqwest::Body::from(huge)
    })
    .await;
    flood(&url, &warm_clients, 200, 8, |i| {
        serde_json::to_vec(&json!({"username": format!("warm{i}"), "password": "nope"}))
            .unwrap()
            .into()
    })
    .await;
    let before = server.rss();
    let started = Instant::now();

    // 10,000 distinct short usernames from the 8 addresses.
    let distinct = flood(&url, &clients, 10_000, 16, |i| {
        serde_json::to_vec(
            &json!({"username": format!("nobody-{i:05}"), "password": "wrong password"}),
        )
        .unwrap()
        .into()
    })
    .await;
    assert_eq!(
        distinct.keys().copied().collect::<Vec<_>>(),
        vec![401, 429],
        "only refusals: {distinct:?}"
    );
    // 10,000 usernames of 60 KB.
    let long = flood(&url, &clients, 10_000, 16, move |_| {
        reqwest::Body::from(huge)
    })
    .await;
    assert_eq!(
        long,
        std::collections::BTreeMap::from([(422, 10_000)]),
        "a 60 KB username is refused unread"
    );

    let after = server.rss();
    let grown = after.saturating_sub(before);
    println!(
        "RSS {} MB → {} MB (+{:.1} MB) over 20,000 failed logins in {:.1} s; {distinct:?}",
        before >> 20,
        after >> 20,
        grown as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );
    assert!(grown < 20 << 20, "the server grew by {grown} bytes");

    // The 422 names the rule.
    let r = login(&clients[0], &url, &"y".repeat(129), "x").await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_username"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_and_twenty_eight_parallel_logins_never_run_more_password_checks_than_cores() {
    let _turn = SERIAL.lock().await;
    let (_dir, server) = server();
    let tasks: Vec<_> = (0..128)
        .map(|i| {
            let url = server.url.clone();
            let c = client_from(&format!("127.0.5.{}", i + 1));
            tokio::spawn(async move {
                // Every fourth a real person with the right password, the rest strangers.
                let (user, password) = if i % 4 == 0 {
                    (format!("staff{}", i / 4 % 4 + 1), "demo")
                } else {
                    (format!("stranger{i}"), "guess")
                };
                (i, login(&c, &url, &user, password).await.status())
            })
        })
        .collect();
    for t in tasks {
        let (i, status) = t.await.unwrap();
        let want = if i % 4 == 0 { 200 } else { 401 };
        assert_eq!(status, want, "login {i}");
    }
    let peak = metric(&server.url, "qhall_password_checks_peak").await as usize;
    println!("peak password checks at once: {peak} ({} cores)", cores());
    assert!(
        peak <= cores(),
        "{peak} checks ran at once on {} cores",
        cores()
    );
    assert!(peak >= cores().min(2), "the logins did run in parallel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_wrong_passwords_from_one_address_do_not_stop_the_person_logging_in_from_another()
 {
    let _turn = SERIAL.lock().await;
    let (_dir, server) = server();
    let url = &server.url;
    let attacker = client_from("127.0.0.2");
    let (mut checked, mut refused) = (0, 0);
    for _ in 0..200 {
        let r = login(&attacker, url, "staff1", "not-the-password").await;
        match r.status() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                let wait: u64 = r.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=60).contains(&wait), "Retry-After: {wait}");
                assert_eq!(
                    r.json::<Value>().await.unwrap()["error"]["code"],
                    "too_many_attempts"
                );
                refused += 1;
            }
            s => panic!("unexpected {s}"),
        }
    }
    println!("attacker: {checked} checked, {refused} refused");
    assert!(checked <= 25, "{checked} wrong passwords were checked");
    assert!(refused >= 175);
    // Even the right password from the attacking address waits now: it is the address that
    // is held back…
    assert_eq!(login(&attacker, url, "staff1", "demo").await.status(), 429);
    // …not the person.
    let person = client_from("127.0.0.3");
    let t = token(&person, url, "staff1", "demo").await;
    let r = person
        .get(format!("{url}/api/v1/services"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_are_counted_before_they_are_checked() {
    let _turn = SERIAL.lock().await;
    let (_dir, server) = server();
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let (c, url) = (client_from("127.0.0.4"), server.url.clone());
            tokio::spawn(async move { login(&c, &url, "staff2", "guess").await.status() })
        })
        .collect();
    let mut checked = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            s => panic!("unexpected {s}"),
        }
    }
    println!("of 40 parallel wrong passwords, {checked} were checked");
    assert!(
        checked <= 21,
        "{checked} of 40 parallel guesses were checked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_and_known_usernames_answer_within_a_quarter_of_each_others_time() {
    let _turn = SERIAL.lock().await;
    let (_dir, server) = server();
    let url = &server.url;
    let time = |ip: String, user: String| {
        let url = url.clone();
        async move {
            let c = client_from(&ip);
            // Connect first, so only the login is timed.
            c.get(format!("{url}/healthz")).send().await.unwrap();
            let t = Instant::now();
            let status = login(&c, &url, &user, "wrong password").await.status();
            let took = t.elapsed();
            assert_eq!(status, 401, "{user} from {ip}");
            took
        }
    };
    // The first of each kind pays one-time costs (the dummy hash is made on first use).
    time("127.0.6.250".into(), "staff1".into()).await;
    time("127.0.6.251".into(), "ghost".into()).await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..31u32 {
        let k = (
            format!("127.0.6.{}", 2 * i + 1),
            format!("staff{}", i % 4 + 1),
        );
        let u = (format!("127.0.6.{}", 2 * i + 2), format!("ghost{i}"));
        // Alternate which goes first, so drift in the machine's load falls on both.
        if i % 2 == 0 {
            known.push(time(k.0, k.1).await);
            unknown.push(time(u.0, u.1).await);
        } else {
            unknown.push(time(u.0, u.1).await);
            known.push(time(k.0, k.1).await);
        }
    }
    known.sort();
    unknown.sort();
    let (k, u) = (known[15].as_secs_f64(), unknown[15].as_secs_f64());
    let diff = (k - u).abs() / k.max(u);
    println!(
        "median failed login: known {:.1} ms, unknown {:.1} ms ({:.1} % apart)",
        k * 1e3,
        u * 1e3,
        diff * 100.0
    );
    // Without the dummy hash an unknown name answers in about 1 ms against 45 ms (97 % apart);
    // medians of a shared 2-core machine drift by up to 11 % between runs (measured), so the
    // bound is a quarter: far from both.
    assert!(diff < 0.25, "known {k:.4} s vs unknown {u:.4} s");
}

/// Logs `staff1` in (bearer and cookie), resets their password as the manager, and checks the
/// old session answers 401 at once.
async fn password_reset_ends_the_sessions(url: &str) {
    let c = client_from("127.0.0.1");
    let staff = token(&c, url, "staff1", "demo").await;
    let services = |auth: (&'static str, String)| {
        let (c, url) = (c.clone(), url.to_owned());
        async move {
            c.get(format!("{url}/api/v1/services"))
                .header(auth.0, auth.1)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let bearer = ("authorization", format!("Bearer {staff}"));
    let cookie = ("cookie", format!("qhall_session={staff}"));
    // Used just now, so the server has it cached.
    assert_eq!(services(bearer.clone()).await, 200);
    assert_eq!(services(cookie.clone()).await, 200);

    let manager = token(&c, url, "manager", "demo").await;
    let users: Value = c
        .get(format!("{url}/api/v1/users"))
        .bearer_auth(&manager)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "staff1")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = c
        .post(format!("{url}/api/v1/users/{id}/password"))
        .bearer_auth(&manager)
        .json(&json!({"password": "a-new-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    assert_eq!(services(bearer).await, 401, "the old bearer token");
    assert_eq!(services(cookie).await, 401, "the old cookie");
    assert_eq!(login(&c, url, "staff1", "demo").await.status(), 401);
    let fresh = token(&c, url, "staff1", "a-new-password").await;
    assert_eq!(
        services(("authorization", format!("Bearer {fresh}"))).await,
        200
    );
    // The manager's own session is untouched.
    assert_eq!(
        services(("authorization", format!("Bearer {manager}"))).await,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_password_reset_the_persons_old_token_answers_401_at_once() {
    let _turn = SERIAL.lock().await;
    let (_dir, server) = server();
    password_reset_ends_the_sessions(&server.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_password_reset_on_postgresql_the_old_token_answers_401_at_once() {
    let _turn = SERIAL.lock().await;
    let Some(db) = pg_database().await else {
        return;
    };
    let server = ServerProcess::start_with(&db.url, &[]).expect("start qhall-server");
    password_reset_ends_the_sessions(&server.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kiosk_issuing_past_its_limit_gets_429_and_the_hall_holds_exactly_the_acknowledged_tickets()
 {
    let _turn = SERIAL.lock().await;
    let (_dir, server) = server();
    let url = server.url.clone();
    let c = client_from("127.0.0.1");
    let issue = |key: String| {
        let (c, url) = (c.clone(), url.clone());
        async move {
            let r = c
                .post(format!("{url}/api/v1/tickets"))
                .bearer_auth(KIOSK)
                .header("idempotency-key", &key)
                .json(&json!({"service": "A"}))
                .send()
                .await
                .unwrap();
            let status = r.status();
            let retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            (key, status, retry, r.json::<Value>().await.unwrap())
        }
    };
    // 80 requests, 8 at a time: far past the default 30 a minute.
    let mut acked = Vec::new();
    let mut refused = Vec::new();
    for batch in 0..10 {
        let answers =
            futures_util::future::join_all((0..8).map(|i| issue(format!("k-{batch}-{i}")))).await;
        for (key, status, retry, body) in answers {
            match status.as_u16() {
                201 => acked.push(body),
                429 => {
                    assert_eq!(body["error"]["code"], "too_many_tickets");
                    let wait = retry.expect("Retry-After");
                    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
                    refused.push((key, wait));
                }
                s => panic!("issuing answered {s}: {body}"),
            }
        }
    }
    println!("{} issued, {} refused", acked.len(), refused.len());
    assert!((30..=35).contains(&acked.len()), "{} issued", acked.len());
    assert!(refused.len() >= 45);

    // A kiosk that waits as told and sends the same request again gets its ticket.
    let (key, wait) = refused[0].clone();
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let (_, status, _, body) = issue(key).await;
    assert_eq!(status, 201, "{body}");
    acked.push(body);

    // Exactly the acknowledged tickets are in the hall: each one waiting, none twice, no other.
    let mut numbers: Vec<String> = acked
        .iter()
        .map(|t| t["number"].as_str().unwrap().to_owned())
        .collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), acked.len(), "a number was given twice");
    for t in &acked {
        let r = c
            .get(format!(
                "{url}/api/v1/tickets/{}",
                t["id"].as_str().unwrap()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "waiting");
    }
    let services: Value = c
        .get(format!("{url}/api/v1/services"))
        .bearer_auth(KIOSK)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let waiting_a = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "A")
        .unwrap()["waiting"]
        .as_u64()
        .unwrap();
    assert_eq!(
        waiting_a,
        acked.len() as u64,
        "tickets in the hall vs acknowledged"
    );
    let expected: Vec<String> = (1..=acked.len()).map(|n| format!("A{n:03}")).collect();
    assert_eq!(numbers, expected, "the numbers run without a gap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_session_cookie_is_secure_when_the_server_is_reached_over_https() {
    let _turn = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("qhall.db").display());
    let https = ServerProcess::start_with(&db, &["--public-url", "https://queue.example.org"])
        .expect("start qhall-server");
    let c = client_from("127.0.0.1");
    let cookie_of = |r: &reqwest::Response| r.headers()["set-cookie"].to_str().unwrap().to_owned();
    let r = login(&c, &https.url, "staff1", "demo").await;
    assert_eq!(r.status(), 200);
    let set = cookie_of(&r);
    assert!(
        set.starts_with("qhall_session=") && set.contains("; Secure"),
        "{set}"
    );
    let t = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = c
        .post(format!("{}/api/v1/logout", https.url))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(cookie_of(&r).contains("; Secure"), "{}", cookie_of(&r));
    drop(https);

    let (_dir, plain) = server();
    let r = login(&c, &plain.url, "staff1", "demo").await;
    assert!(
        !cookie_of(&r).contains("Secure"),
        "plain http: {}",
        cookie_of(&r)
    );
}

//! The what-if simulator cannot hold a core (issue #15, item 4): its cost is capped before any
//! work (customers × policies × forecast runs, each policy once), a wall-clock budget stops it,
//! and it stops as soon as nobody wants the answer — the client gone, or the server told to
//! stop.
//!
//! The cut-off is tested with the server's real limits, not a smaller budget made up for the
//! test: [`largest`] is a request of the largest accepted cost ([`MAX_WORK`], every policy, the
//! default forecast runs) on a hall whose single window can never keep up, so each customer's
//! forecast plays a whole day of arrivals forward twelve times — hours of work, which the real
//! 15 s [`BUDGET`] must cut off. That test therefore takes the budget's 15 s.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use qhall_server::http::simulate::{BUDGET, MAX_CUSTOMERS, MAX_WORK};
use qhall_server::sim::DEFAULT_RUNS;
use qhall_tests::{ServerProcess, TestApp};
use serde_json::{Value, json};

/// Customers per hour in [`largest`]: open around the clock, one day, as many customers as the
/// cost cap allows with every policy.
fn largest_rate() -> f64 {
    let customers = MAX_WORK / (4.0 * f64::from(1 + DEFAULT_RUNS));
    assert!(customers <= MAX_CUSTOMERS);
    (customers / 24.0).floor()
}

/// The largest simulation the server accepts, on a hall that cannot keep up: 8,333 customers an
/// hour for one window serving in 10 minutes.
fn largest() -> Value {
    json!({
        "scenario": {
            "name": "overloaded",
            "service": [{"code": "A", "mean_service_min": 10.0, "target_wait_min": 15.0}],
            "window": [{"number": 1, "serves": ["A"]}],
            "hours": {"open": [["00:00", "24:00"]]},
            "arrivals": [{"from": "00:00", "to": "24:00", "per_hour": {"A": largest_rate()}}],
        },
        "days": 1,
        "policy": "all",
    })
}

/// A simulation that takes a few milliseconds.
fn small() -> Value {
    let mut s = largest();
    s["scenario"]["arrivals"][0]["per_hour"]["A"] = json!(2.0);
    s
}

async fn try_simulate(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> reqwest::Result<(u16, Value)> {
    let r = client
        .post(format!("{url}/api/v1/simulate"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await?;
    let status = r.status().as_u16();
    Ok((status, r.json().await.unwrap_or(Value::Null)))
}

async fn simulate(client: &reqwest::Client, url: &str, token: &str, body: &Value) -> (u16, Value) {
    try_simulate(client, url, token, body)
        .await
        .expect("POST /api/v1/simulate")
}

/// Starts [`largest`] in the background (again while a probe of [`wait_until_busy`] holds the
/// simulator) and gives its answer, or the error of a connection that closed.
fn start_largest(url: &str, token: &str) -> tokio::task::JoinHandle<reqwest::Result<(u16, Value)>> {
    let (url, token) = (url.to_owned(), token.to_owned());
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        loop {
            let got = try_simulate(&client, &url, &token, &largest()).await?;
            if got.0 != 429 {
                return Ok(got);
            }
        }
    })
}

/// Waits until the simulator is taken (a small simulation is refused as `busy`), i.e. the big
/// one is running; panics after `within`.
async fn wait_until_busy(client: &reqwest::Client, url: &str, token: &str, within: Duration) {
    let start = Instant::now();
    loop {
        let (status, body) = simulate(client, url, token, &small()).await;
        if status == 429 {
            assert_eq!(body["error"]["code"], "busy", "{body}");
            return;
        }
        assert_eq!(status, 200, "{body}");
        assert!(start.elapsed() < within, "the big simulation never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until a small simulation is accepted again; returns how long that took.
async fn wait_until_free(client: &reqwest::Client, url: &str, token: &str) -> Duration {
    let start = Instant::now();
    loop {
        let (status, body) = simulate(client, url, token, &small()).await;
        if status == 200 {
            return start.elapsed();
        }
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (429, Some("busy"))
        );
        assert!(
            start.elapsed() < BUDGET,
            "the simulator was not freed before the old simulation's budget ran out"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_request_over_the_cost_limit_or_naming_a_policy_twice_is_refused_before_any_work() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;

    // One customer an hour more than the largest: over the cap.
    let mut over = largest();
    over["scenario"]["arrivals"][0]["per_hour"]["A"] = json!(largest_rate() + 1.0);
    let started = Instant::now();
    let (status, body) = simulate(&app.client, &app.url, &manager, &over).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "simulation_too_large", "{body}");
    assert!(started.elapsed() < Duration::from_secs(2), "it ran first");

    // Days multiply the cost too: the largest day rate for 2 days is twice the cap.
    let mut two = largest();
    two["days"] = json!(2);
    let (status, body) = simulate(&app.client, &app.url, &manager, &two).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("simulation_too_large"))
    );

    // Each policy once: repeats only multiplied the work (50 were accepted before).
    let mut repeated = small();
    repeated["policy"] = json!("fifo,fifo");
    let (status, body) = simulate(&app.client, &app.url, &manager, &repeated).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_policy", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("named twice"),
        "{body}"
    );
    let fifty = vec!["balanced"; 50].join(",");
    repeated["policy"] = json!(fifty);
    let (status, _) = simulate(&app.client, &app.url, &manager, &repeated).await;
    assert_eq!(status, 422);

    // One policy may simulate four times the customers of all four (same work), up to the
    // customer cap itself.
    let mut one = largest();
    one["policy"] = json!("fifo");
    one["scenario"]["arrivals"][0]["per_hour"]["A"] = json!((MAX_CUSTOMERS / 24.0).floor() + 1.0);
    let (status, body) = simulate(&app.client, &app.url, &manager, &one).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("simulation_too_large"))
    );

    // Nothing was left running: a small simulation is accepted at once.
    let (status, body) = simulate(&app.client, &app.url, &manager, &small()).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_largest_accepted_simulation_is_cut_off_by_its_budget_with_503() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let client = reqwest::Client::builder()
        .timeout(BUDGET + Duration::from_secs(30))
        .build()
        .unwrap();
    let started = Instant::now();
    let (status, body) = simulate(&client, &app.url, &manager, &largest()).await;
    let took = started.elapsed();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "simulation_timeout", "{body}");
    assert!(
        took >= BUDGET && took < BUDGET + Duration::from_secs(5),
        "answered after {took:?}; the budget is {BUDGET:?}"
    );
    // The simulator is free at once.
    let (status, body) = simulate(&client, &app.url, &manager, &small()).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_client_that_disconnects_mid_run_frees_the_simulator() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let big = start_largest(&app.url, &manager);
    wait_until_busy(&app.client, &app.url, &manager, Duration::from_secs(10)).await;
    // The client goes away: its request and connection are dropped.
    big.abort();
    let _ = big.await;
    let freed = wait_until_free(&app.client, &app.url, &manager).await;
    assert!(
        freed < Duration::from_secs(3),
        "freed after {freed:?}, not at once"
    );
}

#[tokio::test]
async fn sigterm_during_the_largest_simulation_exits_within_5_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("qhall.db").display());
    let bin = ServerProcess::binary();
    assert!(
        bin.exists(),
        "{} is not built (cargo build -p qhall-server)",
        bin.display()
    );
    let mut child = Command::new(&bin)
        .args(["--demo", "--listen", "127.0.0.1:0", "--database", &db])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(u) = line.strip_prefix("listening on ") {
                let _ = tx.send(u.trim().to_owned());
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{url}/api/v1/login"))
        .json(&json!({"username": "manager", "password": "demo"}))
        .send()
        .await
        .unwrap();
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let big = start_largest(&url, &token);
    wait_until_busy(&client, &url, &token, Duration::from_secs(10)).await;

    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(child.wait());
    });
    let sent = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = done_rx
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|_| {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("still running 5 s after SIGTERM")
        })
        .unwrap();
    let took = sent.elapsed();
    assert!(status.success(), "{status:?}");
    eprintln!("exited {took:?} after SIGTERM");

    // The simulation's client was told why, or saw the connection close; never a result.
    if let Ok(Ok((status, body))) = big.await {
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"]["code"], "shutting_down", "{body}");
    }
}

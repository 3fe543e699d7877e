//! The what-if simulation API and the forecast behind ticket estimates, against the real server:
//! `POST /api/v1/simulate`, `GET /api/v1/simulate/baseline`, `GET /api/v1/forecast`.

use qhall_server::sim::{Options, Scenario, simulate};
use qhall_tests::{KIOSK, TestApp};
use serde_json::{Value, json};

const EXAMPLE: &str = include_str!("../../server/scenarios/example.toml");

/// The example hall's scenario as the JSON the API takes (the TOML, converted).
fn example_json() -> Value {
    let file = Scenario::from_toml(EXAMPLE).unwrap().file;
    serde_json::to_value(file).unwrap()
}

#[tokio::test]
async fn a_manager_gets_the_same_result_as_the_command_line() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let r = app
        .post(
            "/api/v1/simulate",
            Some(&manager),
            json!({"scenario": example_json(), "days": 20, "seed": 5}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let got: Value = r.json().await.unwrap();

    // The shape of SIMULATION.md, and plausible figures for the example hall.
    assert_eq!(got["scenario"], "example");
    assert_eq!(got["days"], 20);
    assert_eq!(got["default_policy"], "balanced");
    let policies = got["policies"].as_array().unwrap();
    let names: Vec<&str> = policies
        .iter()
        .map(|p| p["policy"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["balanced", "fifo", "primary", "target-ratio"]);
    for p in policies {
        let customers = p["overall"]["customers"].as_f64().unwrap();
        assert!((230.0..300.0).contains(&customers), "{customers}");
        let sl = p["overall"]["service_level"]["mean"].as_f64().unwrap();
        assert!((0.85..1.0).contains(&sl), "{sl}");
        assert!(p["overall"]["service_level"]["ci95"].as_f64().unwrap() > 0.0);
        let mean = p["overall"]["mean_wait_min"]["mean"].as_f64().unwrap();
        let p90 = p["overall"]["p90_wait_min"]["mean"].as_f64().unwrap();
        assert!(0.5 < mean && mean < p90 && p90 < 30.0, "{mean} {p90}");
        for s in ["A", "B", "C"] {
            assert!(p["by_service"][s]["service_level"]["mean"].is_number());
        }
        let e = &p["estimate"];
        assert!(e["formula_mae_min"].as_f64().unwrap() > 0.0);
        assert!(e["simulation_mae_min"].as_f64().unwrap() > 0.0);
    }
    assert!(policies[0]["vs_fifo"]["by_service"]["C"]["service_level"]["mean"].is_number());

    // Exactly what the simulator gives on the same scenario, days and seed.
    let cli = simulate(&Scenario::from_toml(EXAMPLE).unwrap(), &Options::new(20, 5));
    let want = serde_json::to_value(&cli).unwrap();
    assert_eq!(differences(&got, &want, ""), Vec::<String>::new());

    // One policy.
    let r = app
        .post(
            "/api/v1/simulate",
            Some(&manager),
            json!({"scenario": example_json(), "days": 3, "policy": "fifo"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let one: Value = r.json().await.unwrap();
    assert_eq!(one["policies"].as_array().unwrap().len(), 1);
}

/// The JSON paths where two values differ (numbers beyond float parsing).
fn differences(a: &Value, b: &Value, path: &str) -> Vec<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut out = Vec::new();
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                out.extend(differences(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                ));
            }
            out
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .flat_map(|(i, (p, q))| differences(p, q, &format!("{path}[{i}]")))
            .collect(),
        _ if a == b => Vec::new(),
        // serde_json parses floats to within one unit in the last place.
        (Value::Number(x), Value::Number(y))
            if (x.as_f64().unwrap() - y.as_f64().unwrap()).abs()
                <= 1e-12 * x.as_f64().unwrap().abs().max(1.0) =>
        {
            Vec::new()
        }
        _ => vec![format!("{path}: {a} vs {b}")],
    }
}

#[tokio::test]
async fn bad_scenarios_and_callers_are_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let staff = app.login("staff1").await;
    let ok = json!({"scenario": example_json(), "days": 2});

    assert_eq!(
        app.post("/api/v1/simulate", None, ok.clone())
            .await
            .status(),
        401
    );
    for token in [KIOSK, staff.as_str()] {
        let r = app.post("/api/v1/simulate", Some(token), ok.clone()).await;
        assert_eq!(r.status(), 403);
    }

    let expect = |status: u16, code: &'static str, words: &'static str| {
        move |r: (u16, Value)| {
            assert_eq!(r.0, status, "{}", r.1);
            assert_eq!(r.1["error"]["code"], code, "{}", r.1);
            let msg = r.1["error"]["message"].as_str().unwrap().to_owned();
            assert!(msg.contains(words), "{msg:?} should mention {words:?}");
        }
    };
    let send = |body: Value| {
        let app = &app;
        let manager = manager.clone();
        async move {
            let r = app.post("/api/v1/simulate", Some(&manager), body).await;
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    let mut bad = example_json();
    bad["window"][0]["serves"] = json!(["A", "Z"]);
    expect(422, "invalid_scenario", "not a [[service]]")(send(json!({"scenario": bad})).await);

    let mut bad = example_json();
    bad["service"][0]["mean_service_min"] = json!(-1.0);
    expect(422, "invalid_scenario", "mean_service_min")(send(json!({"scenario": bad})).await);

    expect(422, "invalid_scenario", "days")(
        send(json!({"scenario": example_json(), "days": 0})).await,
    );
    expect(422, "invalid_scenario", "days")(
        send(json!({"scenario": example_json(), "days": 401})).await,
    );
    expect(422, "invalid_policy", "no policy")(
        send(json!({"scenario": example_json(), "days": 1, "policy": "fastest"})).await,
    );

    // Far too many customers for one request.
    let mut busy = example_json();
    busy["arrivals"][0]["per_hour"]["A"] = json!(90_000.0);
    expect(422, "simulation_too_large", "customers")(
        send(json!({"scenario": busy, "days": 10})).await,
    );

    // Too many windows.
    let mut many = example_json();
    many["window"] = Value::Array(
        (1..=201)
            .map(|n| json!({"number": n, "serves": ["A"]}))
            .collect(),
    );
    expect(422, "invalid_scenario", "windows")(send(json!({"scenario": many})).await);

    // Unknown fields and wrong types are the scenario's fault (422); broken JSON is 400.
    expect(422, "invalid_body", "")(send(json!({"scenario": example_json(), "dayz": 3})).await);
    expect(422, "invalid_body", "")(send(json!({"scenario": {"name": 3}})).await);
    let r = app
        .request(reqwest::Method::POST, "/api/v1/simulate", Some(&manager))
        .header("content-type", "application/json")
        .body("{\"scenario\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Oversized: 413 with a JSON error.
    let mut huge = example_json();
    huge["name"] = json!("x".repeat(70_000));
    expect(413, "too_large", "too large")(send(json!({"scenario": huge})).await);
}

/// The wait the forecast table gives a ticket with `ahead` ahead, as the server looks it up.
fn table_wait(table: &Value, service: &str, ahead: u64) -> Option<u64> {
    let line = table["lines"]
        .as_array()?
        .iter()
        .find(|l| l["service"] == service)?;
    let waits: Vec<f64> = line["waits_secs"]
        .as_array()?
        .iter()
        .map(|w| w.as_f64().unwrap())
        .collect();
    let last = waits.len() - 1;
    let k = ahead as usize;
    let secs = match waits.get(k) {
        Some(w) => *w,
        None => waits[last] + (k - last) as f64 * line["per_extra_secs"].as_f64().unwrap(),
    };
    Some(secs.max(0.0).round() as u64)
}

#[tokio::test]
async fn ticket_estimates_come_from_the_forecast_when_there_is_one() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    // Windows 1 (A, B) and 4 (C, A) open; nobody serves D.
    let s1 = app.login("staff1").await;
    let s4 = app.login("staff4").await;
    app.sign_in(1, &s1).await;
    app.sign_in(4, &s4).await;
    for s in ["A", "A", "B", "C", "A", "B", "A"] {
        app.issue(s).await;
    }
    // Window 1 serves one, so a service is in progress.
    assert!(app.call_next(1, &s1).await.is_some());

    // The table appears in the background.
    let table = async {
        for _ in 0..100 {
            let r = app.get("/api/v1/forecast", Some(&manager)).await;
            if r.status() == 200 {
                let t: Value = r.json().await.unwrap();
                if t["lines"].as_array().is_some_and(|l| l.len() == 3) {
                    return t;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no forecast table");
    }
    .await;
    let services: Vec<&str> = table["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["service"].as_str().unwrap())
        .collect();
    assert_eq!(services, ["A", "B", "C"], "D has no open window");
    assert_eq!(table["policy"], "balanced");
    assert!(table["compute_ms"].as_f64().unwrap() >= 0.0);
    // A's line: 3 waiting (one was called) plus the new ticket; waits grow along it.
    let a: Vec<f64> = table["lines"][0]["waits_secs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_f64().unwrap())
        .collect();
    assert!(a.len() >= 4, "{a:?}");
    assert!(a.windows(2).all(|p| p[0] <= p[1] + 1.0), "{a:?}");
    assert!(a[a.len() - 1] > 300.0, "{a:?}");

    // An issued ticket's estimate is the table's figure for its place (the table may be
    // recomputed between the two reads; then try again).
    let mut checked = 0;
    for _ in 0..10 {
        let before: Value = app
            .get("/api/v1/forecast", Some(&manager))
            .await
            .json()
            .await
            .unwrap();
        let t = app.issue("A").await;
        let after: Value = app
            .get("/api/v1/forecast", Some(&manager))
            .await
            .json()
            .await
            .unwrap();
        if before["computed_at"] != after["computed_at"] {
            continue;
        }
        assert_eq!(
            Some(t.estimated_wait_secs),
            table_wait(&before, "A", u64::from(t.ahead)),
            "ahead {}: {before}",
            t.ahead
        );
        // The holder's read uses the same table.
        let view: Value = app
            .get(&format!("/api/v1/tickets/{}", t.id), None)
            .await
            .json()
            .await
            .unwrap();
        let now: Value = app
            .get("/api/v1/forecast", Some(&manager))
            .await
            .json()
            .await
            .unwrap();
        if now["computed_at"] == before["computed_at"] {
            assert_eq!(
                view["estimated_wait_secs"].as_u64(),
                table_wait(&before, "A", view["ahead"].as_u64().unwrap())
            );
        }
        checked += 1;
        break;
    }
    assert!(checked > 0, "the table never held still for one issue");

    // D has no open window: no forecast, the formula answers (and it is a number).
    let d = app.issue("D").await;
    assert!(table_wait(&table, "D", u64::from(d.ahead)).is_none());
}

#[tokio::test]
async fn the_baseline_is_the_branch_as_a_scenario_that_simulates() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    for s in ["A", "A", "A", "B", "C"] {
        app.issue(s).await;
    }
    let r = app.get("/api/v1/simulate/baseline", Some(&manager)).await;
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["tickets"], 5);
    assert_eq!(b["days_with_data"], 1);
    let sc = &b["scenario"];
    let services: Vec<&str> = sc["service"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(services, ["A", "B", "C", "D"]);
    assert_eq!(sc["service"][0]["target_wait_min"], 15.0);
    assert_eq!(sc["service"][0]["mean_service_min"], 6.0);
    let windows: Vec<Value> = sc["window"].as_array().unwrap().clone();
    assert_eq!(windows.len(), 4);
    assert_eq!(windows[3]["serves"], json!(["C", "A"]));
    // The demo hall is open around the clock: 24 hourly blocks, and the hour the tickets were
    // issued in has their counts as rates.
    assert_eq!(sc["hours"]["open"], json!([["00:00", "24:00"]]));
    let blocks = sc["arrivals"].as_array().unwrap();
    assert_eq!(blocks.len(), 24);
    let total = |code: &str| -> f64 {
        blocks
            .iter()
            .map(|b| b["per_hour"][code].as_f64().unwrap())
            .sum()
    };
    assert_eq!(
        (total("A"), total("B"), total("C"), total("D")),
        (3.0, 1.0, 1.0, 0.0)
    );

    // It simulates as it is.
    let r = app
        .post(
            "/api/v1/simulate",
            Some(&manager),
            json!({"scenario": sc, "days": 5}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let result: Value = r.json().await.unwrap();
    let customers = result["policies"][0]["overall"]["customers"]
        .as_f64()
        .unwrap();
    assert!(customers < 30.0, "{customers}");

    // Staff may not read it.
    let staff = app.login("staff1").await;
    assert_eq!(
        app.get("/api/v1/simulate/baseline", Some(&staff))
            .await
            .status(),
        403
    );
}

/// With bookings taken (issue #12) the baseline carries `[appointments]`: the share of the
/// period's tickets that were appointments and the service's slots and places; the what-if
/// changes the places per slot and the result reports walk-ins and appointments apart.
#[tokio::test]
async fn the_baseline_carries_the_bookings_and_the_what_if_changes_their_places() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    app.set_appointments(
        &manager,
        "A",
        json!({"enabled": true, "slot_mins": 20, "places": 3, "horizon_days": 14,
            "lead_mins": 0, "checkin_before_mins": 120, "checkin_after_mins": 10}),
    )
    .await;
    let start = app.first_slot_ahead("A").await;
    let r = app
        .post(
            "/api/v1/appointments",
            Some(&manager),
            json!({"service": "A", "start": start}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let code = r.json::<Value>().await.unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .post(
            "/api/v1/appointments/check-in",
            Some(qhall_tests::KIOSK),
            json!({"code": code}),
        )
        .await;
    assert_eq!(r.status(), 201);
    for s in ["A", "B", "C"] {
        app.issue(s).await;
    }
    let b: Value = app
        .get("/api/v1/simulate/baseline", Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    let a = &b["scenario"]["appointments"];
    assert_eq!(a["share"], 0.25, "one of four tickets: {a}");
    assert_eq!(
        (a["slot_min"].as_f64(), a["places"].as_u64()),
        (Some(20.0), Some(3))
    );

    // What if a slot took one place only, and 30 % booked?
    let mut sc = b["scenario"].clone();
    sc["appointments"]["places"] = json!(1);
    sc["appointments"]["share"] = json!(0.3);
    for block in sc["arrivals"].as_array_mut().unwrap() {
        block["per_hour"]["A"] = json!(12.0);
    }
    let r = app
        .post(
            "/api/v1/simulate",
            Some(&manager),
            json!({"scenario": sc, "days": 5}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let result: Value = r.json().await.unwrap();
    let classes = &result["policies"][0]["by_class"];
    assert!(
        classes["appointment"]["customers"].as_f64().unwrap() > 0.0,
        "{classes}"
    );
    assert!(classes["walk_in"]["customers"].as_f64().unwrap() > 0.0);
    // Places of 0, or a share above 0.9, are refused with a reason.
    sc["appointments"]["places"] = json!(0);
    let r = app
        .post(
            "/api/v1/simulate",
            Some(&manager),
            json!({"scenario": sc, "days": 5}),
        )
        .await;
    assert_eq!(r.status(), 422);
}

//! The manager's what-if page in a real headless Chromium against the real server: it starts
//! from the branch's baseline, the manager removes a window and triples one service's arrivals,
//! runs it, and the page's predicted figures are those of a direct `POST /api/v1/simulate` of
//! the same scenario with the same days and seed; on a busy week, adding a window does not
//! lower the predicted overall level.
//!
//! `QHALL_WRITE_DOCS=1` also saves the busy week's page as `docs/manage-whatif.png`.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use qhall_tests::{TestApp, busy_week_sql};
use serde_json::{Value, json};

async fn manager_opens(b: &Browser, app: &TestApp, path: &str) {
    b.goto(&format!("{}{path}", app.url)).await;
    b.log_in("manager").await;
    b.find("body[data-ready]").await;
}

/// Clicks Run and waits for the answer: two simulations, which in a debug build of a busy
/// hall take a while, so this waits up to three minutes (it is not a timing assertion).
async fn run(b: &Browser) {
    b.js("document.body.removeAttribute('data-result'); return true;")
        .await;
    b.click("#run").await;
    for _ in 0..1800 {
        let v = b
            .js("var s = document.getElementById('run-status'); \
                 return document.body.hasAttribute('data-result') ? 'done' : \
                 s.classList.contains('error') ? 'error: ' + s.textContent : '';")
            .await;
        match v.as_str() {
            Some("done") => return,
            Some(e) if e.starts_with("error") => panic!("the run failed: {e}"),
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    panic!("no simulation result after three minutes");
}

/// serde_json (without `float_roundtrip`) may read a float one unit in the last place away
/// from the browser's exact reading of the same text.
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

/// The number the page shows in `col` of the results line `key`, exactly (its data-value).
async fn shown(b: &Browser, key: &str, col: &str) -> f64 {
    let css = format!("#results tr[data-key='{key}'] td[data-col='{col}']");
    let v = b
        .find(&css)
        .await
        .attr("data-value")
        .await
        .unwrap()
        .unwrap_or_default();
    v.parse()
        .unwrap_or_else(|_| panic!("{css} data-value {v:?} is not a number"))
}

/// `POST /api/v1/simulate` with the page's days, seed and policy.
async fn simulate(app: &TestApp, token: &str, scenario: &Value) -> Value {
    let r = app
        .post(
            "/api/v1/simulate",
            Some(token),
            json!({"scenario": scenario, "days": 100, "seed": 1, "policy": "balanced"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_removed_on_the_page_predicts_what_the_simulate_api_predicts() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    for (service, n) in [("A", 12), ("B", 8), ("C", 3), ("D", 4)] {
        for _ in 0..n {
            app.issue(service).await;
        }
    }
    let baseline: Value = app
        .get("/api/v1/simulate/baseline", Some(&manager))
        .await
        .json()
        .await
        .unwrap();

    let b = Browser::start(1366, 768).await;
    manager_opens(&b, &app, "/manage/whatif?lang=en").await;
    b.wait_text("#basis", "tickets: 27").await;
    let rows = b
        .js("return Array.from(document.querySelectorAll('#windows tbody tr')).map(e => e.getAttribute('data-window'));")
        .await;
    assert_eq!(rows, json!(["1", "2", "3", "4"]));

    // Remove window 3; three times the arrivals of A.
    b.click("#windows tr[data-window='3'] button.remove").await;
    b.type_into("#services tr[data-service='A'] input.arrivals", "300")
        .await;
    run(&b).await;

    let mut changed = baseline["scenario"].clone();
    changed["window"]
        .as_array_mut()
        .unwrap()
        .retain(|w| w["number"] != 3);
    for block in changed["arrivals"].as_array_mut().unwrap() {
        let a = &mut block["per_hour"]["A"];
        *a = json!(a.as_f64().unwrap() * (300.0 / 100.0));
    }
    let want = simulate(&app, &manager, &changed).await;
    let as_is = simulate(&app, &manager, &baseline["scenario"]).await;
    let (want, as_is) = (&want["policies"][0], &as_is["policies"][0]);
    for code in ["A", "B", "C", "D"] {
        let f = &want["by_service"][code];
        let checks = [
            ("level", &f["service_level"]),
            ("p90_wait", &f["p90_wait_min"]),
            ("as_is", &as_is["by_service"][code]["service_level"]),
        ];
        for (col, api) in checks {
            let (page, api) = (shown(&b, code, col).await, api["mean"].as_f64().unwrap());
            assert!(same(page, api), "{code} {col}: page {page}, API {api}");
        }
    }
    assert!(same(
        shown(&b, "overall", "customers").await,
        want["overall"]["customers"].as_f64().unwrap()
    ));
    // Three times A's arrivals: 3 × 12 + 8 + 3 + 4 a day.
    assert!((shown(&b, "overall", "customers").await - 51.0).abs() < 5.0);
    // The interval is shown with the level.
    let text = b
        .find("#results tr[data-key='A'] td[data-col='level']")
        .await
        .text()
        .await
        .unwrap();
    assert!(text.contains('%') && text.contains('±'), "{text}");
    b.wait_text("#explain", "95% interval").await;

    // A window serving a code the hall does not have is refused in the page's words.
    b.type_into("#windows tr[data-window='1'] input.serves", "A Z")
        .await;
    b.click("#run").await;
    b.wait_text("#run-status", "unknown service code Z").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_busy_week_adding_a_window_does_not_lower_the_predicted_level() {
    let app = TestApp::spawn_sqlite().await;
    let week = busy_week_sql(160);
    app.sql(&[week.as_str()]).await;

    let b = Browser::start(1366, 768).await;
    manager_opens(&b, &app, "/manage/whatif?lang=zh").await;
    b.click("#add-window").await;
    b.find("#windows tr[data-window='5'] input.serves").await;
    run(&b).await;
    let changed = shown(&b, "overall", "level").await;
    let as_is = shown(&b, "overall", "as_is").await;
    assert!(
        changed >= as_is,
        "five windows {changed} against four {as_is}"
    );
    // The hall as it is gets the same figures whichever change is run next.
    b.click("#reset").await;
    run(&b).await;
    assert_eq!(shown(&b, "overall", "level").await, as_is);

    if std::env::var_os("QHALL_WRITE_DOCS").is_some() {
        b.click("#add-window").await;
        b.find("#windows tr[data-window='5'] input.serves").await;
        b.type_into("#windows tr[data-window='5'] input.serves", "A B")
            .await;
        run(&b).await;
        b.js("window.scrollTo(0, 0); return true;").await;
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
        b.screenshot(&docs.join("manage-whatif.png")).await;
    }
    b.close().await;
}

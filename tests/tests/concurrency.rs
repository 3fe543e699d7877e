//! Many windows calling at once: every ticket is called exactly once, and nothing answers 5xx.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use qhall_tests::{KIOSK, TestApp};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_windows_calling_at_once_call_every_ticket_exactly_once() {
    let app = TestApp::spawn().await;
    app.add_windows(5, 24, &["A", "B", "D"]).await;
    let windows: Vec<u32> = (5..=24).collect();

    // Over 2,000 waiting tickets, issued concurrently by several kiosks' worth of requests.
    let mut issued = Vec::new();
    for chunk in 0..21 {
        let mut batch = Vec::new();
        for i in 0..100 {
            // Spread over three services: each numbers at most 999 tickets a day.
            let svc = ["A", "B", "D"][(chunk * 100 + i) % 3];
            let req = app
                .request(reqwest::Method::POST, "/api/v1/tickets", Some(KIOSK))
                .json(&json!({"service": svc}));
            batch.push(tokio::spawn(req.send()));
        }
        for b in batch {
            let r = b.await.unwrap().unwrap();
            let status = r.status();
            let t: serde_json::Value = r.json().await.unwrap();
            assert_eq!(status, 201, "{t}");
            issued.push(t["number"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(issued.len(), 2100);

    let called: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut tasks = Vec::new();
    for &n in &windows {
        let token = app.login(&format!("wstaff{n}")).await;
        app.sign_in(n, &token).await;
        // Three requests in flight per window: they race for the window's current ticket.
        for _ in 0..3 {
            let (client, url, token) = (app.client.clone(), app.url.clone(), token.clone());
            let (called, failures) = (called.clone(), failures.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let r = client
                        .post(format!("{url}/api/v1/windows/{n}/call-next"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap();
                    match r.status().as_u16() {
                        200 => {
                            let v: serde_json::Value = r.json().await.unwrap();
                            let id = v["ticket"]["number"].as_str().unwrap().to_owned();
                            *called.lock().unwrap().entry(id).or_default() += 1;
                        }
                        204 => {
                            // Nothing waits; make sure the window is not left holding a ticket.
                            let r = client
                                .post(format!("{url}/api/v1/windows/{n}/complete"))
                                .bearer_auth(&token)
                                .send()
                                .await
                                .unwrap();
                            if r.status().is_server_error() {
                                failures
                                    .lock()
                                    .unwrap()
                                    .push(format!("complete {}", r.status()));
                            }
                            break;
                        }
                        409 => {}
                        s => failures.lock().unwrap().push(format!("call-next {s}")),
                    }
                    let r = client
                        .post(format!("{url}/api/v1/windows/{n}/complete"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap();
                    if !(r.status().is_success() || r.status() == 409) {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("complete {}", r.status()));
                    }
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(
        failures.lock().unwrap().is_empty(),
        "unexpected answers: {:?}",
        failures.lock().unwrap()
    );
    let called = called.lock().unwrap();
    let twice: Vec<_> = called.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "called more than once: {twice:?}");
    for id in &issued {
        assert_eq!(called.get(id), Some(&1), "ticket {id} was never called");
    }
    assert_eq!(called.len(), issued.len());
}

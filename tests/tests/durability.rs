//! Nothing acknowledged is lost: a ticket the kiosk was given survives `kill -9`.

use qhall_tests::{KIOSK, ServerProcess};
use serde_json::{Value, json};

fn issue(client: &reqwest::blocking::Client, url: &str) -> Value {
    let r = client
        .post(format!("{url}/api/v1/tickets"))
        .bearer_auth(KIOSK)
        .json(&json!({"service": "A"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().unwrap()
}

#[test]
fn an_acknowledged_ticket_survives_kill_9_and_numbering_continues() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("qhall.db").display());
    let client = reqwest::blocking::Client::new();

    let mut server = ServerProcess::start(&db).unwrap();
    let mut last = Value::Null;
    for _ in 0..5 {
        last = issue(&client, &server.url);
    }
    assert_eq!(last["number"], "A005");
    server.kill9();

    let server = ServerProcess::start(&db).unwrap();
    let r = client
        .get(format!(
            "{}/api/v1/tickets/{}",
            server.url,
            last["id"].as_str().unwrap()
        ))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen: Value = r.json().unwrap();
    assert_eq!(seen["number"], "A005");
    assert_eq!(seen["status"], "waiting");
    let next = issue(&client, &server.url);
    assert_eq!(
        next["number"], "A006",
        "the sequence continues after the crash"
    );
    assert_eq!(
        next["ahead"], 5,
        "the five tickets issued before the crash are still waiting"
    );
}

//! The controller with its real HTTP + WebSocket client against a real server started in
//! the test: the server stops, the kiosk goes out of service, the server comes back, the
//! kiosk recovers by itself and issues again.

use std::sync::Arc;
use std::time::Duration;

use qhall_kiosk::api::HttpApi;
use qhall_kiosk::controller::{self, Command, PrintState, Screen, Settings, View};
use qhall_kiosk::printer::{EscPosPrinter, Layout, Target};
use tokio::sync::watch;

async fn until(
    views: &mut watch::Receiver<View>,
    what: &str,
    pred: impl Fn(&View) -> bool,
) -> View {
    let found = tokio::time::timeout(Duration::from_secs(20), views.wait_for(|v| pred(v)))
        .await
        .map(|r| r.map(|v| v.clone()));
    match found {
        Ok(Ok(v)) => v,
        _ => panic!("never saw {what}; last view: {:#?}", *views.borrow()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_follows_a_real_server_down_and_back_up() {
    let mut app = qhall_tests::TestApp::spawn().await;
    let api = HttpApi::new(&app.url, qhall_tests::KIOSK, Duration::from_secs(2)).unwrap();
    let printer = EscPosPrinter::new(Target::None, Layout::default());
    let (handle, mut views) =
        controller::spawn(Arc::new(api), Arc::new(printer), Settings::default());

    let home = until(&mut views, "home", |v| {
        v.screen == Screen::Home && !v.services.is_empty()
    })
    .await;
    let code = home
        .services
        .iter()
        .find(|s| s.open)
        .expect("an open service")
        .code
        .clone();
    let waiting_before = home
        .services
        .iter()
        .find(|s| s.code == code)
        .unwrap()
        .detail
        .clone();

    // Another kiosk's ticket arrives on the event stream.
    let other = app.issue(&code).await;
    let home = until(&mut views, "the new waiting count", |v| {
        v.services
            .iter()
            .find(|s| s.code == code)
            .is_some_and(|s| s.detail != waiting_before)
    })
    .await;
    assert_eq!(home.screen, Screen::Home);

    app.stop().await;
    until(&mut views, "out of service", |v| {
        v.screen == Screen::OutOfService
    })
    .await;

    app.restart().await;
    until(&mut views, "home again", |v| v.screen == Screen::Home).await;
    handle.send(Command::SelectService(code.clone()));
    until(&mut views, "guide", |v| v.screen == Screen::Guide).await;
    handle.send(Command::TakeTicket { priority: false });
    let t = until(&mut views, "ticket", |v| v.screen == Screen::Ticket).await;
    assert_eq!(t.ticket.print, PrintState::NoPrinter);
    assert!(
        t.ticket.number > other.number.to_string(),
        "{} after {}",
        t.ticket.number,
        other.number
    );
    assert!(
        t.ticket.tracking_url.starts_with("http"),
        "{}",
        t.ticket.tracking_url
    );
    app.stop().await;
}

/// Issue #12, the reception desk: staff issue a ticket for a customer who cannot use the kiosk
/// and send it to the kiosk's printer; the kiosk (its real client, a real server) prints it as
/// ESC/POS bytes without leaving its home screen, and the desk sees the job printed. A kiosk of
/// the wrong kind, a kiosk asking to print elsewhere, another kiosk's job: refused, nothing
/// issued or changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reception_desk_prints_a_ticket_at_the_kiosk() {
    use serde_json::{Value, json};

    let app = qhall_tests::TestApp::spawn().await;
    let staff = app.login("staff1").await;
    let kiosks: Value = app
        .get("/api/v1/kiosks", Some(&staff))
        .await
        .json()
        .await
        .unwrap();
    let kiosk = kiosks
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "demo-kiosk")
        .unwrap_or_else(|| panic!("{kiosks}"));
    let kiosk_id = kiosk["id"].as_i64().unwrap();
    // Customers cannot list the kiosks; a kiosk cannot print at another.
    assert_eq!(app.get("/api/v1/kiosks", None).await.status(), 401);
    let r = app
        .post(
            "/api/v1/tickets",
            Some(qhall_tests::KIOSK),
            json!({"service": "A", "print_at": kiosk_id}),
        )
        .await;
    assert_eq!(r.status(), 403);
    // No such kiosk (the display's device, or a number that is none): 422, nothing issued.
    let before = app.issue("B").await;
    for id in [kiosk_id + 1000, -1] {
        let r = app
            .post(
                "/api/v1/tickets",
                Some(&staff),
                json!({"service": "A", "print_at": id}),
            )
            .await;
        assert_eq!(r.status(), 422);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unknown_kiosk");
    }

    let api = HttpApi::new(&app.url, qhall_tests::KIOSK, Duration::from_secs(2)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paper = dir.path().join("paper.bin");
    let printer = EscPosPrinter::new(Target::File(paper.clone()), Layout::default());
    let (_handle, mut views) =
        controller::spawn(Arc::new(api), Arc::new(printer), Settings::default());
    until(&mut views, "home", |v| {
        v.screen == Screen::Home && !v.services.is_empty()
    })
    .await;

    let r = app
        .post(
            "/api/v1/tickets",
            Some(&staff),
            json!({"service": "A", "priority": true, "print_at": kiosk_id}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let issued: Value = r.json().await.unwrap();
    let number = issued["number"].as_str().unwrap().to_owned();
    assert_eq!(issued["print_job"]["kiosk"], "demo-kiosk");
    assert_eq!(issued["print_job"]["state"], "waiting");
    let job = issued["print_job"]["id"].as_i64().unwrap();

    let status = async {
        for _ in 0..100 {
            let s: Value = app
                .get(&format!("/api/v1/print-jobs/{job}"), Some(&staff))
                .await
                .json()
                .await
                .unwrap();
            if s["state"] != "waiting" {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the kiosk never printed job {job}");
    }
    .await;
    assert_eq!(status["state"], "printed", "{status}");
    let printed = std::fs::read(&paper).unwrap();
    assert!(
        printed
            .windows(number.len())
            .any(|w| w == number.as_bytes()),
        "the paper has {number}"
    );
    assert!(
        printed.starts_with(&[0x1b, 0x40]),
        "ESC @ starts the ticket"
    );
    // The customer at the kiosk's screen was not disturbed.
    assert_eq!(views.borrow().screen, Screen::Home);
    // The ticket is a real one, recorded as the staff member's.
    let after = app.issue("A").await;
    assert!(
        after.number.to_string() > number,
        "{} after {number}",
        after.number
    );
    assert!(before.number.to_string().starts_with('B'));

    // Printed once: the kiosk is not given the job again; another device cannot touch it.
    tokio::time::sleep(controller::DESK_POLL * 2).await;
    let again = std::fs::read(&paper).unwrap();
    assert_eq!(again.len(), printed.len(), "printed once");
    let r = app
        .post(
            &format!("/api/v1/devices/me/print-jobs/{job}"),
            Some(qhall_tests::DISPLAY),
            json!({"printed": false}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = app.get(&format!("/api/v1/print-jobs/{job}"), None).await;
    assert_eq!(r.status(), 401);
}

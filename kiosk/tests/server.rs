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

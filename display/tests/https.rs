//! The board's own connection module against a server that serves https with a certificate
//! from a test CA: with the CA file it connects over `wss://` and shows a call; without it,
//! it never connects.

mod common;

use std::time::Duration;

use common::Probe;
use qhall_tests::TestApp;
use qhall_tests::tls::TestCa;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_shows_a_call_over_wss_trusting_the_ca_file() {
    let ca = TestCa::generate();
    let app = TestApp::spawn_configured(ca.configure(), Some(ca.client())).await;
    assert!(app.url.starts_with("https://"));
    let mut board = Probe::start_with_ca(&app.url, qhall_tests::DISPLAY, Some(&ca.ca_file));
    board.wait_for("connected", |b| b.connected).await;
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    let ticket = app.issue("A").await;
    app.call_next(1, &staff).await.expect("a ticket to call");
    board.wait_for_call(ticket.number.as_str()).await;
    board.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_ca_file_the_board_never_connects() {
    let ca = TestCa::generate();
    let app = TestApp::spawn_configured(ca.configure(), Some(ca.client())).await;
    let board = Probe::start_with_ca(&app.url, qhall_tests::DISPLAY, None);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let last = board.stop().await;
    assert!(!last.connected, "connected to a server it should not trust");
    assert!(last.seq.is_none());
}

//! The kiosk's own HTTP and WebSocket client against a server that serves https with a
//! certificate from a test CA: with `--ca-file` it lists services, issues a ticket and hears
//! it on the `wss://` event stream; without it the server's certificate is refused.

use std::time::Duration;

use qhall_kiosk::api::{ApiError, HttpApi, KioskApi};
use qhall_shared::api::IssueTicket;
use qhall_shared::events::Event;
use qhall_tests::TestApp;
use qhall_tests::tls::TestCa;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_issues_and_hears_its_ticket_over_https_and_wss_trusting_the_ca_file() {
    let ca = TestCa::generate();
    let app = TestApp::spawn_configured(ca.configure(), Some(ca.client())).await;
    assert!(app.url.starts_with("https://"));
    let api = HttpApi::with_ca_file(
        &app.url,
        qhall_tests::KIOSK,
        Duration::from_secs(5),
        Some(&ca.ca_file),
    )
    .unwrap();
    let services = api.services().await.expect("services over https");
    assert!(services.iter().any(|s| s.code.as_str() == "A"));
    let mut events = api.events(None).await.expect("the event stream over wss");
    // The stream carries no ticket numbers for issues (nothing a passer-by could follow), only
    // the line's new length. The subscription may still be completing its handshake when the
    // first ticket is issued, so a ticket is issued again until one issue is heard.
    let mut heard = None;
    for attempt in 1..=5 {
        let ticket = api
            .issue(
                &IssueTicket {
                    service: "A".into(),
                    priority: false,
                    print_at: None,
                },
                &format!("https-test-{attempt}"),
            )
            .await
            .expect("issue over https");
        assert_eq!(ticket.number.as_str(), format!("A{attempt:03}"));
        let got = tokio::time::timeout(Duration::from_secs(3), async {
            while let Some(m) = events.recv().await {
                if let Event::Issued { service, waiting } = m.event
                    && service.as_str() == "A"
                {
                    return Some(waiting);
                }
            }
            None
        })
        .await;
        if let Ok(Some(waiting)) = got {
            heard = Some(waiting);
            break;
        }
    }
    assert!(
        heard.is_some_and(|w| w >= 1),
        "no issue arrived over wss: {heard:?}"
    );
}

#[tokio::test]
async fn without_the_ca_file_the_kiosk_refuses_the_servers_certificate() {
    let ca = TestCa::generate();
    let app = TestApp::spawn_configured(ca.configure(), Some(ca.client())).await;
    let api = HttpApi::new(&app.url, qhall_tests::KIOSK, Duration::from_secs(5)).unwrap();
    match api.services().await {
        Err(ApiError::Unreachable(_)) => {}
        other => panic!("an untrusted certificate must not be accepted: {other:?}"),
    }
    assert!(api.events(None).await.is_err());
}

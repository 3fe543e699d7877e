//! The board against the real server (`qhall_tests::TestApp`): calls made by staff reach the
//! board model and its voice queue exactly once, through server restarts and cut links.
//!
//! "Exactly once" is checked with a sentinel: after the calls under test, one more call is
//! made and awaited; events arrive in order, so any repeat would have come before it.

mod common;

use common::{Probe, Proxy};
use qhall_tests::{DISPLAY, TestApp};

async fn staff_at_window_1(app: &TestApp) -> String {
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    staff
}

/// Completes window 1's ticket if it has one, issues a ticket of `A` and calls it to
/// window 1; returns its number.
async fn issue_and_call(app: &TestApp, staff: &str) -> String {
    // A window calls the next ticket only once its current one is finished; with none, this
    // answers an error, which is fine.
    let _ = app.window(1, "complete", staff).await;
    let ticket = app.issue("A").await;
    let called = app.call_next(1, staff).await.expect("a ticket to call");
    assert_eq!(
        called.number, ticket.number,
        "the only waiting ticket is called"
    );
    ticket.number.to_string()
}

#[tokio::test]
async fn a_call_reaches_the_board_model_and_is_announced_once() {
    let app = TestApp::spawn().await;
    let mut probe = Probe::start(&app.url, DISPLAY);
    probe
        .wait_for("the first snapshot", |b| b.connected && b.seq.is_some())
        .await;
    let staff = staff_at_window_1(&app).await;

    let number = issue_and_call(&app, &staff).await;
    let board = probe.wait_for_call(&number).await;
    assert_eq!(board.latest().unwrap().window.get(), 1);
    assert!(
        !board.hall.zh.is_empty() || !board.hall.en.is_empty(),
        "the hall has a name"
    );

    let recall = app.window(1, "recall", &staff).await;
    assert!(recall.status().is_success(), "recall: {}", recall.status());
    assert_eq!(
        probe.wait_for_said(2).await,
        [format!("{number}>1"), format!("{number}>1!")]
    );
    probe.stop().await;
}

#[tokio::test]
async fn after_a_server_restart_the_board_reconnects_and_shows_the_current_state() {
    let mut app = TestApp::spawn().await;
    let mut probe = Probe::start(&app.url, DISPLAY);
    probe
        .wait_for("the first snapshot", |b| b.connected && b.seq.is_some())
        .await;
    let staff = staff_at_window_1(&app).await;
    let first = issue_and_call(&app, &staff).await;
    probe.wait_for_call(&first).await;

    app.stop().await;
    let board = probe
        .wait_for("the lost connection to show", |b| !b.connected)
        .await;
    assert_eq!(
        board.latest().unwrap().number.as_str(),
        first,
        "the last state stays on screen"
    );
    app.restart().await;
    probe
        .wait_for("the board to reconnect", |b| b.connected)
        .await;

    // The hall goes on: staff sessions may or may not survive a restart, so log in again.
    let staff = staff_at_window_1(&app).await;
    let second = issue_and_call(&app, &staff).await;
    let board = probe.wait_for_call(&second).await;
    assert_eq!(board.history()[0].number.as_str(), first);
    app.issue("B").await;
    let b: qhall_shared::ServiceCode = "B".parse().unwrap();
    probe
        .wait_for("the B ticket counted", |board| {
            board.waiting.get(&b) == Some(&1)
        })
        .await;
    assert_eq!(probe.said(), [format!("{first}>1"), format!("{second}>1")]);
    probe.stop().await;
}

#[tokio::test]
async fn a_resumed_stream_neither_repeats_nor_loses_an_announcement() {
    let app = TestApp::spawn().await;
    let proxy = Proxy::start(app.addr).await;
    let mut probe = Probe::start(&proxy.url(), DISPLAY);
    probe
        .wait_for("the first snapshot", |b| b.connected && b.seq.is_some())
        .await;
    let staff = staff_at_window_1(&app).await;
    let before = issue_and_call(&app, &staff).await;
    probe.wait_for_call(&before).await;

    proxy.cut();
    let seen = probe
        .wait_for("the cut to show", |b| !b.connected)
        .await
        .seq
        .unwrap();
    // The server stays up and the hall goes on while the board is away.
    let missed_1 = issue_and_call(&app, &staff).await;
    let missed_2 = issue_and_call(&app, &staff).await;
    let recall = app.window(1, "recall", &staff).await;
    assert!(recall.status().is_success(), "recall: {}", recall.status());
    proxy.restore();

    probe
        .wait_for("the board to reconnect", |b| b.connected)
        .await;
    let sentinel = issue_and_call(&app, &staff).await;
    probe.wait_for_call(&sentinel).await;
    assert_eq!(
        probe.said(),
        [
            format!("{before}>1"),
            format!("{missed_1}>1"),
            format!("{missed_2}>1"),
            format!("{missed_2}>1!"),
            format!("{sentinel}>1"),
        ]
    );
    let requests = proxy.requests();
    assert!(
        requests[0].starts_with("GET /api/v1/events "),
        "{requests:?}"
    );
    let resumed = format!("GET /api/v1/events?since={seen} ");
    assert!(
        requests[1..].iter().any(|r| r.starts_with(&resumed)),
        "no resume after {seen}: {requests:?}"
    );
    probe.stop().await;
}

/// A holiday set five days ahead becomes a notice on the board's ticker at once, in Chinese
/// and English, with its note (issue #11: exceptions announced in advance).
#[tokio::test]
async fn a_holiday_ahead_scrolls_on_the_ticker() {
    let app = TestApp::spawn().await;
    let mut probe = Probe::start(&app.url, DISPLAY);
    probe
        .wait_for("the first snapshot", |b| b.connected && b.seq.is_some())
        .await;
    let manager = app.login("manager").await;
    let day = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
        + chrono::Duration::days(5);
    let (status, answer) = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/config/exceptions/{day}"),
            Some(&manager),
            serde_json::json!({"periods": [], "note": "系统升级", "note_en": "System upgrade"}),
        )
        .await;
    assert!((200..300).contains(&status), "{answer}");
    let board = probe
        .wait_for("the holiday's notice", |b| {
            b.notices.iter().any(|n| n.id < 0)
        })
        .await;
    let ticker = qhall_display::ui::BoardView::new(&board, None).notices;
    let en = format!(
        "{}: closed all day. System upgrade",
        day.format("%a %-d %b")
    );
    assert!(ticker.contains(&en), "{ticker}");
    assert!(ticker.contains("全天休息。 系统升级"), "{ticker}");
    probe.stop().await;
}

/// An emergency broadcast is put on the board and handed to its voice at once, ahead of any
/// call; its end is handed over too (the voice then stops repeating it) — issue #11, part 6.
#[tokio::test]
async fn an_emergency_is_spoken_and_its_end_stops_it() {
    use qhall_display::voice::Speech;
    let app = TestApp::spawn().await;
    let mut probe = Probe::start(&app.url, DISPLAY);
    probe
        .wait_for("the first snapshot", |b| b.connected && b.seq.is_some())
        .await;
    let manager = app.login("manager").await;
    let message = "火警：请有序离开。Fire alarm: please leave calmly.";
    let (status, answer) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/emergency",
            Some(&manager),
            serde_json::json!({ "message": message }),
        )
        .await;
    assert!((200..300).contains(&status), "{answer}");
    probe
        .wait_for("the emergency", |b| b.emergency.as_deref() == Some(message))
        .await;
    assert_eq!(probe.spoken, [Speech::Emergency(Some(message.into()))]);
    let r = app
        .request(reqwest::Method::DELETE, "/api/v1/emergency", Some(&manager))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    probe
        .wait_for("the end of the emergency", |b| b.emergency.is_none())
        .await;
    assert_eq!(
        probe.spoken,
        [
            Speech::Emergency(Some(message.into())),
            Speech::Emergency(None)
        ]
    );
    probe.stop().await;
}

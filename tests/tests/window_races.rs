//! One window, the same action sent several times at once (a double tap, the console open on
//! two devices): the window's rules hold as if the requests came one after the other. On
//! PostgreSQL a request that waited for the branch's lock must act on what the request before
//! it committed, never on the window as it stood when it started waiting. Runs on the backend
//! `QHALL_TEST_BACKEND` names.

use futures_util::future::join_all;
use qhall_tests::{TestApp, query_texts};
use serde_json::Value;

/// Requests sent at once, per round.
const AT_ONCE: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn call_next_sent_at_once_to_one_window_calls_one_ticket() {
    let app = TestApp::spawn().await;
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    for _ in 0..3 * AT_ONCE {
        app.issue("A").await;
    }
    for round in 0..3 {
        let answers = join_all((0..AT_ONCE).map(|_| app.window(1, "call-next", &staff))).await;
        let mut codes: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
        codes.sort_unstable();
        let mut expected = vec![409; AT_ONCE - 1];
        expected.insert(0, 200);
        assert_eq!(
            codes, expected,
            "round {round}: one call, the others refused"
        );
        let called = query_texts(
            &app.database_url,
            "SELECT number FROM tickets WHERE status = 'called' ORDER BY number",
        )
        .await;
        assert_eq!(
            called.len(),
            1,
            "round {round}: one ticket called: {called:?}"
        );
        let w: Value = app
            .get("/api/v1/windows/1", Some(&staff))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(w["current"]["number"], called[0].as_str(), "{w}");

        let answers = join_all((0..AT_ONCE).map(|_| app.window(1, "complete", &staff))).await;
        let done = answers.iter().filter(|r| r.status().is_success()).count();
        assert_eq!(done, 1, "round {round}: one complete");
        let live = query_texts(
            &app.database_url,
            "SELECT number FROM tickets WHERE status IN ('called', 'serving') ORDER BY number",
        )
        .await;
        assert!(live.is_empty(), "round {round}: {live:?}");
    }
    let done = query_texts(
        &app.database_url,
        "SELECT CAST(COUNT(*) AS TEXT) FROM tickets WHERE status = 'done'",
    )
    .await;
    assert_eq!(done, ["3"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_ins_sent_at_once_seat_one_person_at_a_window_and_a_person_at_one_window() {
    let app = TestApp::spawn().await;
    let mut staff = Vec::new();
    for name in ["staff1", "staff2", "staff3", "staff4"] {
        staff.push(app.login(name).await);
    }
    // Four people, one window.
    let answers = join_all(staff.iter().map(|t| app.window(1, "sign-in", t))).await;
    let seated: Vec<usize> = (0..answers.len())
        .filter(|&i| answers[i].status() == 200)
        .collect();
    assert_eq!(seated.len(), 1, "one seated at window 1");
    assert!(
        answers
            .iter()
            .all(|r| [200, 409].contains(&r.status().as_u16()))
    );
    let w: Value = app
        .get("/api/v1/windows/1", Some(&staff[seated[0]]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(w["state"], "open", "{w}");

    // One person (not the one at window 1), the other three windows.
    let me = &staff[(seated[0] + 1) % staff.len()];
    let answers = join_all((2..=4).map(|n| app.window(n, "sign-in", me))).await;
    let codes: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(codes.iter().filter(|&&c| c == 200).count(), 1, "{codes:?}");
    let signed_in = query_texts(
        &app.database_url,
        "SELECT CAST(COUNT(*) AS TEXT) FROM windows WHERE staff_user_id IS NOT NULL",
    )
    .await;
    assert_eq!(signed_in, ["2"]);
}

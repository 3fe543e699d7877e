//! Days the hall lives through the API, shared by the tests that look at the same day from
//! different sides (the reports API and the reports page).

use qhall_shared::api::IssuedTicket;
use serde_json::json;

use crate::app::TestApp;
use crate::fixtures::pad;

/// A short day at two windows: four tickets issued (A, A, B, C); window 1 (staff1) serves the
/// first A and then the B, whose customer rates the service 4 (满意) on the pad; window 2
/// (staff2) calls the second A, who never comes; the C still waits. The tickets, in issue
/// order.
pub async fn short_day(app: &TestApp) -> [IssuedTicket; 4] {
    let s1 = app.login("staff1").await;
    let s2 = app.login("staff2").await;
    app.sign_in(1, &s1).await;
    app.sign_in(2, &s2).await;

    let a1 = app.issue("A").await;
    let a2 = app.issue("A").await;
    let b1 = app.issue("B").await;
    let c1 = app.issue("C").await;

    assert_eq!(app.call_next(1, &s1).await.unwrap().number, a1.number);
    assert!(app.window(1, "start", &s1).await.status().is_success());
    assert!(app.window(1, "complete", &s1).await.status().is_success());
    assert_eq!(app.call_next(2, &s2).await.unwrap().number, a2.number);
    assert!(app.window(2, "no-show", &s2).await.status().is_success());
    assert_eq!(app.call_next(1, &s1).await.unwrap().number, b1.number);
    assert!(app.window(1, "complete", &s1).await.status().is_success());
    let r = app
        .post(
            "/api/v1/windows/1/rating",
            Some(&pad(1)),
            json!({"number": b1.number.as_str(), "score": 4}),
        )
        .await;
    assert_eq!(r.status(), 201);
    [a1, a2, b1, c1]
}

//! The rating pad's time limit, with the clock injected: a completed ticket can be rated for
//! ten minutes, so the next customer at the window never rates someone else's service. And the
//! pad itself: a device bound to one window of the hall (its API is in `rating_pads.rs`).

use chrono::Duration;
use qhall_server::hall::{RATING_OPEN_MINUTES, WindowAction, WindowChange};
use qhall_server::store::{Principal, Role, StoreError};
use qhall_shared::WindowNo;
use qhall_tests::{at, demo_store, kiosk_principal as kiosk};

#[tokio::test]
async fn a_completed_ticket_can_be_rated_for_ten_minutes_only() {
    let (_dir, store) = demo_store("").await;
    let user = store
        .user_by_name("staff1")
        .await
        .unwrap()
        .expect("demo staff1");
    let staff = Principal {
        role: Role::Staff,
        branch_id: 1,
        user_id: Some(user.id),
        device_id: None,
        username: Some("staff1".into()),
    };
    let w = WindowNo::new(1).unwrap();
    let t0 = at("2026-03-02T02:00:00Z");
    store
        .issue(&kiosk(), "A".parse().unwrap(), false, None, t0)
        .await
        .unwrap();
    store
        .change_window(&staff, w, WindowChange::SignIn, t0)
        .await
        .unwrap();
    let t = store
        .call_next(&staff, w, t0)
        .await
        .unwrap()
        .expect("called")
        .ticket;
    let done = t0 + Duration::minutes(3);
    store
        .act(&staff, w, WindowAction::Complete, done)
        .await
        .unwrap();

    let limit = done + Duration::minutes(RATING_OPEN_MINUTES);
    let offered = store.rating_prompt(1, w, limit).await.unwrap();
    assert_eq!(offered.map(|t| t.number), Some(t.number.clone()));
    let late = limit + Duration::seconds(1);
    assert!(store.rating_prompt(1, w, late).await.unwrap().is_none());
    match store.rate(1, w, &t.number, 4, late).await {
        Err(StoreError::Conflict {
            code: "nothing_to_rate",
            ..
        }) => {}
        other => panic!("rated too late: {other:?}"),
    }
    store
        .rate(1, w, &t.number, 4, limit)
        .await
        .expect("rated in time");
}

/// A pad is bound to a window the hall has; kiosks and boards to none. The audit names the
/// window, never the token.
#[tokio::test]
async fn a_pad_is_created_only_for_an_existing_window_and_audited_with_it() {
    let (_dir, store) = demo_store("").await;
    let manager = qhall_tests::user_principal(&store, "manager").await;
    let now = at("2026-03-02T02:00:00Z");
    let w = |n| WindowNo::new(n).unwrap();
    for (role, window, code) in [
        (Role::Pad, None, "window_required"),
        (Role::Pad, Some(w(9)), "unknown_window"),
        (Role::Display, Some(w(1)), "window_not_allowed"),
    ] {
        match store
            .create_device(&manager, "x".into(), role, window, "h".into(), now)
            .await
        {
            Err(StoreError::Invalid { code: c, .. } | StoreError::NotFound { code: c, .. })
                if c == code => {}
            other => panic!("{role:?} {window:?}: {other:?}"),
        }
    }
    let id = store
        .create_device(
            &manager,
            "Window 4 pad".into(),
            Role::Pad,
            Some(w(4)),
            "h4".into(),
            now,
        )
        .await
        .unwrap();
    assert_eq!(store.pad_window(id).await.unwrap(), Some((1, w(4))));
    let audit = store
        .audit_log(1, now - Duration::days(1), now + Duration::days(1))
        .await
        .unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == "device.create")
        .expect("audited");
    let text = entry.detail.to_string();
    assert!(text.contains("\"window\":4"), "{text}");
    assert!(!text.contains("h4"), "no token hash in the audit: {text}");
}

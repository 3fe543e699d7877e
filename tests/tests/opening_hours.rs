//! Opening hours: tickets only inside them, and kiosks and boards told when the hall opens or
//! closes — against the real store with an injected clock.

use chrono::Utc;
use qhall_server::store::{Store, StoreError};
use qhall_tests::{at, demo_store, kiosk_principal as kiosk};

/// A Shanghai office open 09:00–12:00 and 13:00–17:00 on weekdays, last ticket 30 min before.
async fn office() -> (tempfile::TempDir, Store) {
    let day = "[[540,720],[780,1020]]";
    let week = format!("[{day},{day},{day},{day},{day},[],[]]");
    demo_store(&format!("UPDATE branches SET weekly_hours = '{week}', cutoff_mins = 30, config_version = config_version + 1")).await
}

#[tokio::test]
async fn tickets_are_refused_at_lunch_after_the_cut_off_and_at_weekends() {
    let (_dir, store) = office().await;
    // Monday 2 March 2026, 10:00 Shanghai = 02:00 UTC.
    assert!(
        store
            .issue(
                &kiosk(),
                "A".parse().unwrap(),
                false,
                None,
                at("2026-03-02T02:00:00Z")
            )
            .await
            .is_ok()
    );
    for closed in [
        "2026-03-02T04:30:00Z",
        "2026-03-02T08:45:00Z",
        "2026-03-07T02:00:00Z",
    ] {
        match store
            .issue(&kiosk(), "A".parse().unwrap(), false, None, at(closed))
            .await
        {
            Err(StoreError::Conflict {
                code: "service_closed",
                message,
            }) => assert!(message.contains("tickets from"), "{message}"),
            other => panic!("issued at {closed}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn closing_and_opening_are_announced_on_the_stream_once_each() {
    let (_dir, store) = office().await;
    let before = store.board_state(1, Utc::now()).await.unwrap().seq;
    let open = store
        .announce_opening(1, None, at("2026-03-02T02:00:00Z"))
        .await
        .unwrap();
    assert!(open);
    // Lunch: one event; still lunch: none; afternoon: one.
    assert!(
        !store
            .announce_opening(1, Some(true), at("2026-03-02T04:05:00Z"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .announce_opening(1, Some(false), at("2026-03-02T04:10:00Z"))
            .await
            .unwrap()
    );
    assert!(
        store
            .announce_opening(1, Some(false), at("2026-03-02T05:00:00Z"))
            .await
            .unwrap()
    );
    let events = store.events_since(1, before).await.unwrap().unwrap();
    let bodies: Vec<serde_json::Value> = events
        .iter()
        .map(|(_, b)| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert_eq!(bodies[0]["type"], "services");
    assert_eq!(bodies[0]["open"], false);
    assert_eq!(bodies[1]["open"], true);
}

//! Ticket numbers reset at the branch's local midnight — tested with an injected clock on the
//! days clocks change, in a zone with daylight saving (Europe/Berlin), against the real store.

use qhall_server::store::Store;
use qhall_tests::{at, demo_store, kiosk_principal as kiosk};

async fn berlin_hall() -> (tempfile::TempDir, Store) {
    demo_store(
        "UPDATE branches SET time_zone = 'Europe/Berlin', config_version = config_version + 1",
    )
    .await
}

async fn issue(store: &Store, now: &str) -> (String, String) {
    let t = store
        .issue(&kiosk(), "A".parse().unwrap(), false, None, at(now))
        .await
        .unwrap()
        .ticket;
    (t.number.to_string(), t.id)
}

#[tokio::test]
async fn numbering_resets_at_local_midnight_on_the_spring_forward_day() {
    let (_dir, store) = berlin_hall().await;
    // Saturday 28 March 2026, 23:30 in Berlin (CET, UTC+1).
    let (n, id) = issue(&store, "2026-03-28T22:30:00Z").await;
    assert_eq!(n, "A001");
    let (n2, id2) = issue(&store, "2026-03-28T22:50:00Z").await;
    assert_eq!(n2, "A002");
    for id in [id, id2] {
        store.cancel(&id, at("2026-03-28T22:55:00Z")).await.unwrap();
    }
    // 00:10 local on 29 March is still 28 March in UTC: a new local day, so A001 again.
    let (n, _) = issue(&store, "2026-03-28T23:10:00Z").await;
    assert_eq!(n, "A001");
    // Clocks jump from 02:00 to 03:00; the day is 23 hours long. 23:59 local (CEST) = 21:59 UTC.
    let (n, _) = issue(&store, "2026-03-29T21:59:00Z").await;
    assert_eq!(n, "A002", "still the same local day");
}

#[tokio::test]
async fn numbering_resets_at_local_midnight_on_the_fall_back_day() {
    let (_dir, store) = berlin_hall().await;
    // Sunday 25 October 2026 is 25 hours long in Berlin: 00:00 CEST = 22:00 UTC on the 24th,
    // and the next midnight (CET) is 23:00 UTC on the 25th.
    let (n, id) = issue(&store, "2026-10-24T21:59:00Z").await;
    assert_eq!(n, "A001");
    store.cancel(&id, at("2026-10-24T21:59:30Z")).await.unwrap();
    let (n, id) = issue(&store, "2026-10-24T22:00:00Z").await;
    assert_eq!(n, "A001", "a new local day at 00:00 CEST");
    store.cancel(&id, at("2026-10-24T22:01:00Z")).await.unwrap();
    // 22:30 UTC on the 25th is 23:30 CET: still the 25th, 24.5 hours after it began.
    let (n, id) = issue(&store, "2026-10-25T22:30:00Z").await;
    assert_eq!(n, "A002");
    store.cancel(&id, at("2026-10-25T22:31:00Z")).await.unwrap();
    let (n, _) = issue(&store, "2026-10-25T23:00:00Z").await;
    assert_eq!(n, "A001", "the 26th begins at 23:00 UTC");
}

#[tokio::test]
async fn a_new_day_skips_a_number_still_waiting_from_the_day_before() {
    let (_dir, store) = berlin_hall().await;
    let (n, _still_waiting) = issue(&store, "2026-06-01T21:00:00Z").await;
    assert_eq!(n, "A001");
    // Next local day: A001 is still in the hall, so the board must never show two A001s.
    let (n, _) = issue(&store, "2026-06-01T22:30:00Z").await;
    assert_eq!(n, "A002");
}

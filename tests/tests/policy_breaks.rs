//! The server's call order sees the lunch break: before it, a ticket whose target falls inside
//! the break is called ahead of one that looks more urgent by the clock but will still make its
//! target — against the real store with an injected clock, with the branch's own opening hours.

use qhall_server::hall::WindowChange;
use qhall_shared::WindowNo;
use qhall_tests::{at, demo_store, kiosk_principal, user_principal};

/// The number window 4 (the demo hall's [C, A] window) calls at 11:50 on Monday 2 March 2026
/// (Shanghai), with a C ticket issued at 11:38 (12 of its 30 minutes waited) and an A ticket
/// issued at 11:41 (9 of its 15), under the weekly hours `day` every day.
async fn called_at_window_4(day: &str) -> String {
    let week = format!("[{day},{day},{day},{day},{day},{day},{day}]");
    let (_dir, store) = demo_store(&format!(
        "UPDATE branches SET weekly_hours = '{week}', cutoff_mins = 0, \
         config_version = config_version + 1"
    ))
    .await;
    let kiosk = kiosk_principal();
    for (service, local) in [("C", "03:38"), ("A", "03:41")] {
        store
            .issue(
                &kiosk,
                service.parse().unwrap(),
                false,
                None,
                at(&format!("2026-03-02T{local}:00Z")),
            )
            .await
            .unwrap();
    }
    let now = at("2026-03-02T03:50:00Z");
    let staff4 = user_principal(&store, "staff4").await;
    let w4 = WindowNo::new(4).unwrap();
    store
        .change_window(&staff4, w4, WindowChange::SignIn, now)
        .await
        .unwrap();
    let called = store.call_next(&staff4, w4, now).await.unwrap().unwrap();
    called.ticket.number.to_string()
}

#[tokio::test]
async fn before_lunch_the_ticket_whose_target_falls_in_the_break_goes_first() {
    // Lunch 12:00–13:00: C's target (12:08) falls in it, so C has only 10 minutes left, a third
    // of its target, against A's 6 of 15: C goes first.
    assert_eq!(called_at_window_4("[[540,720],[780,1020]]").await, "C001");
    // Open straight through: C has 18 minutes left and is not at risk; A is, and goes first.
    assert_eq!(called_at_window_4("[[540,1020]]").await, "A001");
}

//! Closing the day (issue #11, part 1): at the end of the last open period the tickets still
//! waiting are cancelled with reason `closed`, once, on either database — against the real
//! store with an injected clock.

use chrono::NaiveDate;
use qhall_server::hall::{WindowAction, WindowChange};
use qhall_server::queue::report::tables;
use qhall_server::store::{Principal, Store};
use qhall_shared::WindowNo;
use qhall_tests::{
    at, demo_store_on, kiosk_principal as kiosk, pg_database, query_texts, user_principal,
};

/// A Shanghai office open 09:00–12:00 and 13:00–17:00 on weekdays, no cut-off.
const OFFICE: &str = "UPDATE branches SET weekly_hours = \
    '[[[540,720],[780,1020]],[[540,720],[780,1020]],[[540,720],[780,1020]],[[540,720],[780,1020]],[[540,720],[780,1020]],[],[]]', \
    cutoff_mins = 0, config_version = config_version + 1";

async fn leftovers_are_cancelled_at_closing_once(url: &str, second: Store) {
    let store = demo_store_on(url, OFFICE).await;
    // Two bookings of Monday 15:00 made the week before: one is cancelled, the other never
    // comes — at closing it becomes a no-show (issue #12).
    let manager = user_principal(&store, "manager").await;
    let settings = qhall_server::hall::appointments::AppointmentSettings {
        enabled: true,
        places: 2,
        ..Default::default()
    };
    store
        .set_appointment_settings(
            &manager,
            "A".parse().unwrap(),
            &settings,
            at("2026-02-23T00:00:00Z"),
        )
        .await
        .unwrap();
    let mut codes = Vec::new();
    for _ in 0..2 {
        let req = qhall_server::hall::appointments::BookRequest {
            service: "A".parse().unwrap(),
            start: at("2026-03-02T07:00:00Z"),
            mobile: None,
            lang: "zh".into(),
            source: "web",
        };
        let b = store
            .book(1, &req, at("2026-02-24T00:00:00Z"))
            .await
            .unwrap();
        codes.push(b.code);
    }
    store
        .cancel_booking(&codes[0], at("2026-02-25T00:00:00Z"))
        .await
        .unwrap();
    // Monday 2 March 2026: three tickets at 10:00 Shanghai (02:00 UTC).
    for _ in 0..3 {
        store
            .issue(
                &kiosk(),
                "A".parse().unwrap(),
                false,
                None,
                at("2026-03-02T02:00:00Z"),
            )
            .await
            .unwrap();
    }
    // At lunch the day is not over: the last closing was the Friday before, with nothing left.
    let lunch = store
        .close_day(1, at("2026-03-02T04:30:00Z"))
        .await
        .unwrap();
    assert_eq!(
        lunch.map(|c| (c.day.to_string(), c.cancelled)),
        Some(("2026-02-27".into(), 0))
    );
    assert_eq!(store.waiting_total(1).await.unwrap(), 3);

    // 17:00:01 Shanghai: both servers try to close Monday at once; it is closed once.
    let evening = at("2026-03-02T09:00:01Z");
    let (a, b) = tokio::join!(store.close_day(1, evening), second.close_day(1, evening));
    let mut closed: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(closed.len(), 1, "closed twice: {closed:?}");
    let c = closed.pop().unwrap();
    assert_eq!((c.day.to_string(), c.cancelled), ("2026-03-02".into(), 3));
    let states: Vec<String> = {
        let mut v = Vec::new();
        for code in &codes {
            v.push(store.booking(code).await.unwrap().unwrap().state);
        }
        v
    };
    assert_eq!(states, ["cancelled", "no_show"]);
    assert_eq!(store.waiting_total(1).await.unwrap(), 0);
    // Later checks find the day closed (a server started the next morning does nothing).
    assert_eq!(
        store
            .close_day(1, at("2026-03-03T00:30:00Z"))
            .await
            .unwrap(),
        None
    );

    let kinds = query_texts(
        url,
        "SELECT e.kind || ' ' || COALESCE(e.detail, '') FROM ticket_events e \
         WHERE e.kind = 'close_day' ORDER BY e.id",
    )
    .await;
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(
        kinds.iter().all(|k| k.contains("\"reason\":\"closed\"")),
        "{kinds:?}"
    );
    let statuses = query_texts(url, "SELECT status FROM tickets ORDER BY key").await;
    assert_eq!(statuses, ["cancelled", "cancelled", "cancelled"]);
    let audit = query_texts(
        url,
        "SELECT detail FROM audit_log WHERE action = 'close_day' ORDER BY id",
    )
    .await;
    assert_eq!(audit.len(), 2, "{audit:?}"); // Friday's (nothing) and Monday's
    assert!(audit[1].contains("\"cancelled\":3"), "{audit:?}");
}

/// A second store on the database at `url` (another server), opened once the first has
/// created and seeded it.
async fn second_server(url: &str) -> Store {
    drop(demo_store_on(url, "").await);
    Store::open(
        url,
        false,
        std::sync::Arc::default(),
        qhall_server::queue::policy::Policy::Default,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn leftovers_are_cancelled_at_closing_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    leftovers_are_cancelled_at_closing_once(&url, second_server(&url).await).await;
}

#[tokio::test]
async fn leftovers_are_cancelled_at_closing_once_on_postgresql() {
    let Some(pg) = pg_database().await else {
        return;
    };
    leftovers_are_cancelled_at_closing_once(&pg.url, second_server(&pg.url).await).await;
}

#[tokio::test]
async fn a_hall_open_around_the_clock_never_closes_its_day() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    let store = demo_store_on(&url, "").await;
    store
        .issue(
            &kiosk(),
            "A".parse().unwrap(),
            false,
            None,
            at("2026-03-02T02:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .close_day(1, at("2026-03-09T02:00:00Z"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.waiting_total(1).await.unwrap(), 1);
}

fn w(n: u32) -> WindowNo {
    WindowNo::new(n).unwrap()
}

async fn issue(store: &Store, service: &str, when: &str) -> String {
    let t = store
        .issue(&kiosk(), service.parse().unwrap(), false, None, at(when))
        .await
        .unwrap();
    t.ticket.number.to_string()
}

async fn call(store: &Store, who: &Principal, n: u32, when: &str) -> Option<String> {
    store
        .call_next(who, w(n), at(when))
        .await
        .unwrap()
        .map(|t| t.ticket.number.to_string())
}

/// The live tickets' numbers, each once: two live tickets never share a number.
async fn live_numbers(url: &str) -> Vec<String> {
    let live = query_texts(
        url,
        "SELECT number FROM tickets WHERE status IN ('waiting', 'called', 'serving') ORDER BY number",
    )
    .await;
    let mut unique = live.clone();
    unique.dedup();
    assert_eq!(live, unique, "two live tickets share a number");
    live
}

/// Monday in the office (09:00–12:00, 13:00–17:00, Shanghai), service C carrying over: at
/// closing the called and waiting A tickets are cancelled, the one being served stays with its
/// window, C's wait for tomorrow; half an hour later the windows still signed in are signed out
/// "by closing"; Tuesday's first call answers a ticket of Tuesday (or nothing), C's leftovers
/// are called first and never share a number with Tuesday's; Monday's report counts the
/// leftovers as unserved at closing, not as waits.
async fn a_closed_day_leaves_a_clean_morning(url: &str) {
    let setup = format!("{OFFICE}; UPDATE services SET carry_over = TRUE WHERE code = 'C'");
    let store = demo_store_on(url, &setup).await;
    let (s1, s2, s4) = (
        user_principal(&store, "staff1").await,
        user_principal(&store, "staff2").await,
        user_principal(&store, "staff4").await,
    );
    for (who, n) in [(&s1, 1), (&s2, 2), (&s4, 4)] {
        store
            .change_window(who, w(n), WindowChange::SignIn, at("2026-03-02T01:00:00Z"))
            .await
            .unwrap();
    }
    for _ in 0..6 {
        issue(&store, "A", "2026-03-02T02:00:00Z").await;
    }
    assert_eq!(issue(&store, "C", "2026-03-02T02:00:00Z").await, "C001");
    assert_eq!(issue(&store, "C", "2026-03-02T02:00:01Z").await, "C002");
    // A001 served; A002 called and absent at closing; A003 in service at closing.
    assert_eq!(
        call(&store, &s1, 1, "2026-03-02T02:10:00Z")
            .await
            .as_deref(),
        Some("A001")
    );
    store
        .act(
            &s1,
            w(1),
            WindowAction::Complete,
            at("2026-03-02T02:15:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        call(&store, &s1, 1, "2026-03-02T08:30:00Z")
            .await
            .as_deref(),
        Some("A002")
    );
    assert_eq!(
        call(&store, &s2, 2, "2026-03-02T08:40:00Z")
            .await
            .as_deref(),
        Some("A003")
    );
    store
        .act(&s2, w(2), WindowAction::Start, at("2026-03-02T08:41:00Z"))
        .await
        .unwrap();
    let seq = store
        .board_state(1, at("2026-03-02T08:59:00Z"))
        .await
        .unwrap()
        .seq;

    // 17:00:01: A002 and A004–A006 go; A003 and C001–C002 stay.
    let closed = store
        .close_day(1, at("2026-03-02T09:00:01Z"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((closed.cancelled, closed.signed_out), (4, 0));
    assert_eq!(live_numbers(url).await, ["A003", "C001", "C002"]);
    let window1 = store.window(1, w(1)).await.unwrap().unwrap();
    assert_eq!(
        window1.0.current_ticket, None,
        "the absent A002 left window 1 free"
    );
    // The board hears it: A's line is now empty.
    let heard = store.events_since(1, seq).await.unwrap().unwrap();
    assert!(
        heard.iter().any(|(_, m)| m.contains(r#""type":"waiting""#)
            && m.contains(r#""service":"A""#)
            && m.contains(r#""waiting":0"#)),
        "{heard:?}"
    );

    // A003 is completed at 17:20; at 17:30 the grace is not over, at 17:30:01 it is.
    store
        .act(
            &s2,
            w(2),
            WindowAction::Complete,
            at("2026-03-02T09:20:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .close_day(1, at("2026-03-02T09:29:59Z"))
            .await
            .unwrap(),
        None
    );
    let out = store
        .close_day(1, at("2026-03-02T09:30:01Z"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((out.cancelled, out.signed_out), (0, 3));
    assert_eq!(
        store
            .close_day(1, at("2026-03-02T09:31:00Z"))
            .await
            .unwrap(),
        None
    );
    let monday = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let (_, days) = store
        .attendance(1, monday, monday, at("2026-03-02T12:00:00Z"))
        .await
        .unwrap();
    assert_eq!(days.len(), 3, "{days:?}");
    assert!(
        days.iter().all(|d| d.signed_out_by_closing && !d.early),
        "{days:?}"
    );

    // Tuesday 09:00: nothing of Monday's A line is called; Tuesday's A001 is.
    for (who, n) in [(&s1, 1), (&s4, 4)] {
        store
            .change_window(who, w(n), WindowChange::SignIn, at("2026-03-03T01:00:00Z"))
            .await
            .unwrap();
    }
    assert_eq!(call(&store, &s1, 1, "2026-03-03T01:00:30Z").await, None);
    assert_eq!(issue(&store, "A", "2026-03-03T01:01:00Z").await, "A001");
    assert_eq!(
        call(&store, &s1, 1, "2026-03-03T01:02:00Z")
            .await
            .as_deref(),
        Some("A001")
    );
    let a001 = query_texts(
        url,
        "SELECT CAST(day AS TEXT) FROM tickets WHERE number = 'A001' AND status = 'called'",
    )
    .await;
    assert_eq!(a001, ["2026-03-03"]);
    // C: Monday's numbers are still live, so Tuesday's first C is C003, and C001 goes first.
    assert_eq!(issue(&store, "C", "2026-03-03T01:03:00Z").await, "C003");
    assert_eq!(live_numbers(url).await, ["A001", "C001", "C002", "C003"]);
    assert_eq!(
        call(&store, &s4, 4, "2026-03-03T01:04:00Z")
            .await
            .as_deref(),
        Some("C001")
    );

    // Monday's report: six A issued, two served, four cancelled, two waits (A002's call is none).
    let cfg = store.config(1).await.unwrap();
    let tuesday = monday.succ_opt().unwrap();
    let tickets = store
        .report_days(&cfg, monday, monday, tuesday)
        .await
        .unwrap();
    let services: Vec<_> = cfg.services.iter().map(|s| s.code).collect();
    let t = tables(&services, &tickets);
    let a = &t.by_service[0].figures;
    assert_eq!(
        (a.issued, a.served, a.cancelled, a.called),
        (6, 2, 4, 2),
        "{a:?}"
    );
    let from = at("2026-03-01T16:00:00Z");
    let o = store
        .oversight(cfg.clone(), from, from + chrono::Duration::days(1))
        .await
        .unwrap();
    let unserved: Vec<_> = o
        .closed_unserved
        .iter()
        .map(|c| (c.day.to_string(), c.service.to_string(), c.count))
        .collect();
    assert_eq!(unserved, [("2026-03-02".to_owned(), "A".to_owned(), 4)]);
    let statuses = query_texts(
        url,
        "SELECT number || ' ' || status FROM tickets WHERE day = '2026-03-02' ORDER BY key",
    )
    .await;
    assert_eq!(
        statuses,
        [
            "A001 done",
            "A002 cancelled",
            "A003 done",
            "A004 cancelled",
            "A005 cancelled",
            "A006 cancelled",
            "C001 called",
            "C002 waiting"
        ]
    );
}

#[tokio::test]
async fn a_closed_day_leaves_a_clean_morning_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    a_closed_day_leaves_a_clean_morning(&url).await;
}

#[tokio::test]
async fn a_closed_day_leaves_a_clean_morning_on_postgresql() {
    let Some(pg) = pg_database().await else {
        return;
    };
    a_closed_day_leaves_a_clean_morning(&pg.url).await;
}

/// A server that was down at closing closes that day when it starts the next morning (once),
/// and signs nobody out once the hall has opened again: the person at window 1 is today's.
#[tokio::test]
async fn a_server_started_the_next_morning_closes_yesterday_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    let store = demo_store_on(&url, OFFICE).await;
    let s1 = user_principal(&store, "staff1").await;
    for _ in 0..3 {
        issue(&store, "A", "2026-03-02T02:00:00Z").await;
    }
    // Tuesday 09:20 Shanghai: the server starts; staff 1 signed in at 09:10.
    store
        .change_window(&s1, w(1), WindowChange::SignIn, at("2026-03-03T01:10:00Z"))
        .await
        .unwrap();
    let closed = store
        .close_day(1, at("2026-03-03T01:20:00Z"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (closed.day.to_string(), closed.cancelled, closed.signed_out),
        ("2026-03-02".to_owned(), 3, 0)
    );
    assert_eq!(
        store
            .close_day(1, at("2026-03-03T01:20:15Z"))
            .await
            .unwrap(),
        None
    );
    let w1 = store.window(1, w(1)).await.unwrap().unwrap().0;
    assert_eq!(w1.staff_user_id, s1.user_id, "today's sign-in stands");
    assert_eq!(issue(&store, "A", "2026-03-03T01:21:00Z").await, "A001");
    assert_eq!(
        call(&store, &s1, 1, "2026-03-03T01:22:00Z")
            .await
            .as_deref(),
        Some("A001")
    );
    let audit = query_texts(
        &url,
        "SELECT detail FROM audit_log WHERE action = 'close_day' ORDER BY id",
    )
    .await;
    assert_eq!(audit.len(), 1, "{audit:?}");
}

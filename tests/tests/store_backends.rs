//! One store test suite, run against both backends: the same operations on a SQLite file and
//! on a fresh PostgreSQL database must give the same answers, the same numbers and the same
//! event stream (seq rising by exactly one).

use std::collections::HashSet;

use chrono::{Duration, Utc};
use qhall_server::auth::token_hash;
use qhall_server::hall::{ComplaintInput, TransferTo, WindowAction, WindowChange};
use qhall_server::store::{Role, Store};
use qhall_shared::WindowNo;
use qhall_shared::api::TicketStatus;
use qhall_tests::{demo_store_on, kiosk_principal, pg_database, user_principal};

fn w(n: u32) -> WindowNo {
    WindowNo::new(n).unwrap()
}

/// The suite: every operation of the hall, checked through the store's own reads.
async fn suite(store: &Store) {
    let kiosk = kiosk_principal();
    let now = Utc::now();

    // Logins and devices.
    let p = store
        .principal(&token_hash("demo-kiosk"), now)
        .await
        .unwrap()
        .expect("the demo kiosk is known");
    assert_eq!((p.role, p.branch_id), (Role::Kiosk, 1));
    assert!(store.principal("nope", now).await.unwrap().is_none());
    // Rating pads: devices bound to one window each; a kiosk rates none.
    let pad = store
        .principal(&token_hash("demo-pad-3"), now)
        .await
        .unwrap()
        .expect("the demo pad is known");
    assert_eq!((pad.role, pad.branch_id), (Role::Pad, 1));
    let pad_id = pad.device_id.expect("a device");
    assert_eq!(store.pad_window(pad_id).await.unwrap(), Some((1, w(3))));
    assert_eq!(store.pad_window(p.device_id.unwrap()).await.unwrap(), None);
    let manager = user_principal(store, "manager").await;
    let id = store
        .create_device(
            &manager,
            "Door pad".into(),
            Role::Pad,
            Some(w(2)),
            "pad-h".into(),
            now,
        )
        .await
        .unwrap();
    assert_eq!(store.pad_window(id).await.unwrap(), Some((1, w(2))));
    let listed = store.devices(1).await.unwrap();
    let row = listed.iter().find(|d| d.id == id).expect("listed");
    assert_eq!((row.role.as_str(), row.window), ("pad", Some(2)));
    assert!(
        store
            .create_device(
                &manager,
                "No window".into(),
                Role::Pad,
                None,
                "pad-x".into(),
                now
            )
            .await
            .is_err(),
        "a pad needs a window"
    );
    store.revoke_device(&manager, id, now).await.unwrap();
    assert_eq!(store.pad_window(id).await.unwrap(), None, "revoked");
    let staff1 = user_principal(store, "staff1").await;
    store
        .insert_session("h1", staff1.user_id.unwrap(), now, now + Duration::hours(1))
        .await
        .unwrap();
    let s = store.principal("h1", now).await.unwrap().expect("session");
    assert_eq!(s.username.as_deref(), Some("staff1"));
    store.delete_session("h1").await.unwrap();
    assert!(store.principal("h1", now).await.unwrap().is_none());

    // Issuing: numbers in order, idempotency, waiting counts.
    let mut numbers = Vec::new();
    for _ in 0..3 {
        numbers.push(
            store
                .issue(&kiosk, "A".parse().unwrap(), false, None, now)
                .await
                .unwrap()
                .ticket
                .number
                .to_string(),
        );
    }
    assert_eq!(numbers, ["A001", "A002", "A003"]);
    let first = store
        .issue(&kiosk, "B".parse().unwrap(), false, Some("k1"), now)
        .await
        .unwrap();
    let again = store
        .issue(&kiosk, "B".parse().unwrap(), false, Some("k1"), now)
        .await
        .unwrap();
    assert!(first.created && !again.created);
    assert_eq!(first.ticket.id, again.ticket.id);
    let err = store
        .issue(&kiosk, "Z".parse().unwrap(), false, None, now)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no service"), "{err}");
    let priority = store
        .issue(&kiosk, "A".parse().unwrap(), true, None, now)
        .await
        .unwrap();
    assert_eq!(
        priority.ticket.estimate_ahead, 0,
        "nobody is ahead of the first priority"
    );
    let (_, lines) = store.service_lines(1, now).await.unwrap();
    assert_eq!(lines[0].0, 4, "four wait for A");
    assert_eq!(lines[1].0, 1, "one waits for B");

    // Windows and calling.
    store
        .change_window(&staff1, w(1), WindowChange::SignIn, now)
        .await
        .unwrap();
    let called = store.call_next(&staff1, w(1), now).await.unwrap().unwrap();
    assert_eq!(
        called.ticket.number.as_str(),
        "A004",
        "the priority customer first"
    );
    // What the forecast reads on one snapshot: each open window with the service it is in the
    // middle of (since the call), and per service the walk-ins of the last hour.
    let snap = store.forecast_snapshot(1, now).await.unwrap();
    // Times are stored to the millisecond.
    let called_at = called
        .ticket
        .last_called_at
        .expect("called")
        .timestamp_millis();
    let open: Vec<_> = store
        .windows(1)
        .await
        .unwrap()
        .into_iter()
        .filter(|x| x.state == qhall_shared::api::WindowState::Open)
        .map(|x| {
            let serving = (x.number == w(1)).then(|| ("A".parse().unwrap(), called_at));
            (x.number, serving)
        })
        .collect();
    let read: Vec<_> = snap
        .open_windows
        .iter()
        .map(|(n, serving)| (*n, serving.map(|(s, at)| (s, at.timestamp_millis()))))
        .collect();
    assert_eq!(read, open, "window 1 serves A since the call");
    let issued: Vec<_> = snap
        .recent
        .iter()
        .map(|(s, _, n)| (s.to_string(), *n))
        .collect();
    assert_eq!(&issued[..2], [("A".into(), 4), ("B".into(), 1)]);
    assert!(issued[2..].iter().all(|(_, n)| *n == 0), "{issued:?}");
    let busy = store.call_next(&staff1, w(1), now).await.unwrap_err();
    assert!(busy.to_string().contains("still has"), "{busy}");
    store
        .act(&staff1, w(1), WindowAction::Start, now)
        .await
        .unwrap();
    let done = store
        .act(
            &staff1,
            w(1),
            WindowAction::Complete,
            now + Duration::minutes(5),
        )
        .await
        .unwrap();
    assert_eq!(done.ticket.status, TicketStatus::Done);
    let next = store.call_next(&staff1, w(1), now).await.unwrap().unwrap();
    assert_eq!(next.ticket.number.as_str(), "A001");
    let moved = store
        .transfer(
            &staff1,
            w(1),
            TransferTo::Service("B".parse().unwrap()),
            now,
        )
        .await
        .unwrap();
    assert_eq!(moved.ticket.status, TicketStatus::Waiting);
    let list = store
        .waiting_list(1, w(3), &["B".parse().unwrap()], 10)
        .await
        .unwrap();
    assert_eq!(
        list.iter().map(|t| t.number.as_str()).collect::<Vec<_>>(),
        ["A001", "B001"],
        "the transferred ticket keeps its place"
    );
    let called = store
        .call_number(&staff1, w(1), &"A002".parse().unwrap(), now)
        .await
        .unwrap();
    assert_eq!(called.ticket.status, TicketStatus::Called);
    let absent = store
        .act(&staff1, w(1), WindowAction::NoShow, now)
        .await
        .unwrap();
    assert_eq!(absent.ticket.status, TicketStatus::NoShow);
    let back = store
        .reinstate(&staff1, w(1), &"A002".parse().unwrap(), now)
        .await
        .unwrap();
    assert_eq!(back.ticket.status, TicketStatus::Waiting);
    let cancelled = store.cancel(&back.ticket.id, now).await.unwrap();
    assert_eq!(cancelled.status, TicketStatus::Cancelled);
    assert!(
        store.cancel(&back.ticket.id, now).await.is_err(),
        "only once"
    );
    let view = store
        .ticket_view(&numbers_id(store, "A003").await, now)
        .await
        .unwrap();
    assert_eq!(view.unwrap().1, 0, "A003 is first in line for A now");

    // The rating pad offers the window's last completed ticket once; complaints are stored.
    let later = now + Duration::minutes(6);
    let offered = store.rating_prompt(1, w(1), later).await.unwrap();
    assert_eq!(
        offered.map(|t| t.number.to_string()).as_deref(),
        Some("A004")
    );
    store
        .rate(1, w(1), &"A004".parse().unwrap(), 5, later)
        .await
        .unwrap();
    assert!(
        store
            .rate(1, w(1), &"A004".parse().unwrap(), 4, later)
            .await
            .is_err(),
        "rated once"
    );
    assert!(store.rating_prompt(1, w(1), later).await.unwrap().is_none());
    let complaint = ComplaintInput {
        window: w(1),
        ticket: Some("A004".into()),
        category: "waiting".into(),
        description: "the line was long".into(),
        contact: Some("a@b.cn".into()),
        consent: true,
    };
    let (id, _, due) = store
        .record_complaint(&staff1, complaint.clone(), now)
        .await
        .unwrap();
    assert!(id > 0 && due > now);
    let bad = ComplaintInput {
        category: "weather".into(),
        ..complaint
    };
    assert!(store.record_complaint(&staff1, bad, now).await.is_err());

    // The window as its console sees it, and the board.
    let (win, cur) = store.window(1, w(1)).await.unwrap().unwrap();
    assert_eq!(win.staff_user_id, staff1.user_id);
    assert!(cur.is_none());
    let board = store.board_state(1, now).await.unwrap();
    assert_eq!(board.recent_calls[0].number.as_str(), "A002");
    let waiting: u32 = board.waiting.iter().map(|(_, n)| n).sum();
    assert_eq!(waiting, 3, "A003, A001 (now in B) and B001");

    // The stream: every event kept, seq rising by one from 1, and its bodies carry their seq.
    let events = store.events_since(1, 0).await.unwrap().expect("all kept");
    assert_eq!(events.len() as u64, board.seq);
    for (i, (seq, body)) in events.iter().enumerate() {
        assert_eq!(*seq, i as u64 + 1);
        assert!(body.starts_with(&format!("{{\"seq\":{seq},")), "{body}");
    }
    assert_eq!(
        store.events_since(1, board.seq).await.unwrap(),
        Some(vec![])
    );
    assert_eq!(store.events_since(1, board.seq + 5).await.unwrap(), None);

    // Statistics read every ticket of the day.
    let tickets = store
        .tickets_issued_between(1, now - Duration::hours(1), now + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(tickets.len(), 5);

    // Concurrent issuing: unique numbers and an unbroken seq.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (store, kiosk) = (store.clone(), kiosk.clone());
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..25 {
                got.push(
                    store
                        .issue(&kiosk, "D".parse().unwrap(), false, None, Utc::now())
                        .await
                        .unwrap()
                        .ticket
                        .number
                        .to_string(),
                );
            }
            got
        }));
    }
    let mut all = HashSet::new();
    for t in tasks {
        for n in t.await.unwrap() {
            assert!(all.insert(n.clone()), "{n} issued twice");
        }
    }
    assert_eq!(all.len(), 200);
    let after = store.events_since(1, board.seq).await.unwrap().unwrap();
    assert_eq!(after.len(), 200);
    assert!(after.windows(2).all(|p| p[1].0 == p[0].0 + 1));

    // The demo hall is open around the clock. A server that thought it closed announces the
    // opening once; a second server that thought so too sees the announcement and stays quiet.
    let seq = store.board_state(1, now).await.unwrap().seq;
    assert!(store.announce_opening(1, Some(false), now).await.unwrap());
    assert!(store.announce_opening(1, Some(false), now).await.unwrap());
    let announced = store.events_since(1, seq).await.unwrap().unwrap();
    assert_eq!(announced.len(), 1, "{announced:?}");
    assert!(
        announced[0]
            .1
            .contains("\"type\":\"services\",\"open\":true")
    );
}

async fn numbers_id(store: &Store, number: &str) -> String {
    let now = Utc::now();
    store
        .tickets_issued_between(1, now - Duration::hours(2), now + Duration::hours(2))
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.number.as_str() == number)
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_suite_passes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    let store = demo_store_on(&url, "").await;
    assert_eq!(store.kind(), "sqlite");
    suite(&store).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_suite_passes_on_postgres() {
    let Some(db) = pg_database().await else {
        return;
    };
    let store = demo_store_on(&db.url, "").await;
    assert_eq!(store.kind(), "postgres");
    suite(&store).await;
    store.close().await;
}

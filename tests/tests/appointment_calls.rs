//! Appointments (issue #12): a booking checked in inside its window becomes a ticket of its
//! own series, due at its slot's start; the same code gives the same ticket back; early, late,
//! cancelled and unknown codes are refused each with its own code and change nothing (a late
//! one is marked late); Call next takes a due appointment before older walk-ins, one not yet due
//! after them, and never more than `APPOINTMENT_RUN` appointments in a row while walk-ins wait;
//! an appointment's wait counts from when it was due; and the appointments report's
//! punctuality is exact — against the real store with an injected clock, on both databases.

use qhall_server::hall::WindowAction;
use qhall_server::hall::appointments::{AppointmentSettings, BookRequest, CheckIn, ReportLine};
use qhall_server::store::{Principal, Store, StoreError};
use qhall_shared::WindowNo;
use qhall_tests::{at, demo_store_on, kiosk_principal, pg_database, user_principal};

/// 2026-03-02 (a Monday) at `hh:mm` UTC: 10:00 in the demo hall (Shanghai) is 02:00.
fn t(hhmm: &str) -> chrono::DateTime<chrono::Utc> {
    at(&format!("2026-03-02T{hhmm}:00Z"))
}

fn w1() -> WindowNo {
    WindowNo::new(1).unwrap()
}

fn code_of(e: &StoreError) -> String {
    match e {
        StoreError::Conflict { code, .. } | StoreError::NotFound { code, .. } => code.to_string(),
        other => format!("{other:?}"),
    }
}

struct Hall {
    store: Store,
    staff: Principal,
}

impl Hall {
    async fn book(&self, hhmm: &str) -> String {
        let req = BookRequest {
            service: "A".parse().unwrap(),
            start: t(hhmm),
            mobile: None,
            lang: "zh".into(),
            source: "phone",
        };
        let b = self
            .store
            .book(1, &req, t("00:00") - chrono::Duration::days(1));
        b.await.unwrap().code
    }

    async fn check_in(&self, code: &str, hhmm: &str) -> Result<CheckIn, StoreError> {
        self.store
            .check_in_booking(&kiosk_principal(), code, t(hhmm))
            .await
    }

    /// The number of the ticket a check-in gave, and whether it was the first time.
    async fn ticket(&self, code: &str, hhmm: &str) -> (String, bool) {
        match self.check_in(code, hhmm).await.unwrap() {
            CheckIn::Ticket {
                issued, reprint, ..
            } => (issued.ticket.number.to_string(), !reprint),
            CheckIn::Late(b) => panic!("{code} late at {hhmm}: {b:?}"),
        }
    }

    async fn walk_in(&self, hhmm: &str) -> String {
        let issued = self
            .store
            .issue(
                &kiosk_principal(),
                "A".parse().unwrap(),
                false,
                None,
                t(hhmm),
            )
            .await
            .unwrap();
        issued.ticket.number.to_string()
    }

    /// Call next at window 1 at `hhmm`, then serve the customer two minutes.
    async fn next(&self, hhmm: &str) -> String {
        let called = self.store.call_next(&self.staff, w1(), t(hhmm)).await;
        let number = called
            .unwrap()
            .expect("a ticket waits")
            .ticket
            .number
            .to_string();
        let done = t(hhmm) + chrono::Duration::minutes(2);
        for a in [WindowAction::Start, WindowAction::Complete] {
            self.store.act(&self.staff, w1(), a, done).await.unwrap();
        }
        number
    }

    async fn tickets(&self) -> usize {
        self.store
            .tickets_issued_between(1, t("00:00"), t("12:00"))
            .await
            .unwrap()
            .len()
    }
}

async fn appointments_are_checked_in_and_called_on_time(url: &str) {
    let store = demo_store_on(url, "").await;
    let manager = user_principal(&store, "manager").await;
    let staff = user_principal(&store, "staff1").await;
    let settings = AppointmentSettings {
        enabled: true,
        places: 3,
        prefix: Some("Y".into()),
        ..AppointmentSettings::default()
    };
    store
        .set_appointment_settings(&manager, "A".parse().unwrap(), &settings, t("00:00"))
        .await
        .unwrap();
    let hall = Hall { store, staff };
    let b1 = hall.book("02:00").await;
    let b2 = hall.book("02:00").await;
    let b3 = hall.book("02:00").await;
    let b4 = hall.book("02:15").await;
    let b5 = hall.book("02:30").await;
    let b6 = hall.book("02:30").await;
    hall.store.cancel_booking(&b6, t("01:00")).await.unwrap();

    // What the forecast plays forward: the bookings still to come with their check-in windows
    // (not the cancelled one), and with no history the share assumed to come.
    let to_come = |at: &'static str| {
        let store = hall.store.clone();
        async move {
            let snap = store.forecast_snapshot(1, t(at)).await.unwrap();
            let mut v: Vec<_> = snap
                .bookings
                .iter()
                .map(|b| {
                    assert_eq!(
                        b.checkin_opens,
                        b.slot_start - chrono::Duration::minutes(30)
                    );
                    assert_eq!(
                        b.checkin_closes,
                        b.slot_start + chrono::Duration::minutes(10)
                    );
                    b.slot_start
                })
                .collect();
            v.sort();
            (v, snap.booking_show)
        }
    };
    let (slots, show) = to_come("01:30").await;
    assert_eq!(
        slots,
        [t("02:00"), t("02:00"), t("02:00"), t("02:15"), t("02:30")]
    );
    assert_eq!(show, 0.95);

    // Check-in opens 30 minutes before the slot: 09:30 in the hall.
    let early = hall.check_in(&b1, "01:20").await.unwrap_err();
    assert_eq!(code_of(&early), "too_early");
    assert!(early.to_string().contains("09:30"), "{early}");
    assert_eq!(hall.tickets().await, 0, "a refusal issues nothing");
    assert_eq!(hall.ticket(&b1, "01:35").await, ("Y001".into(), true));
    // The same code again (a scanned link this time): the same ticket, not a second.
    let link = format!("https://hall.example/book/{b1}");
    assert_eq!(hall.ticket(&link, "01:36").await, ("Y001".into(), false));
    assert_eq!(hall.tickets().await, 1);

    assert_eq!(hall.walk_in("01:40").await, "A001");
    assert_eq!(hall.walk_in("01:45").await, "A002");
    assert_eq!(hall.walk_in("01:50").await, "A003");
    assert_eq!(hall.ticket(&b2, "01:52").await, ("Y002".into(), true));

    hall.store
        .change_window(
            &hall.staff,
            w1(),
            qhall_server::hall::WindowChange::SignIn,
            t("01:55"),
        )
        .await
        .unwrap();
    // Not yet due: the walk-in queued before the slot goes first.
    assert_eq!(hall.next("01:58").await, "A001");
    // Due at 10:00: before the older walk-ins.
    assert_eq!(hall.next("02:00").await, "Y001");
    assert_eq!(hall.ticket(&b4, "02:04").await, ("Y003".into(), true));
    assert_eq!(hall.next("02:06").await, "Y002");
    // Two appointments in a row: this call follows the walk-in rules (Y003 is due at 10:15).
    assert_eq!(hall.next("02:08").await, "A002");

    // Checked-in bookings are tickets now; b3's check-in is still open until 10:10.
    assert_eq!(to_come("02:09").await.0, [t("02:00"), t("02:30")]);

    // Past the window (10:10): marked late, no ticket; then refused as late.
    let before = hall.tickets().await;
    assert!(matches!(
        hall.check_in(&b3, "02:11").await.unwrap(),
        CheckIn::Late(ref b) if b.state == "late"
    ));
    let again = hall.check_in(&b3, "02:12").await.unwrap_err();
    assert_eq!(code_of(&again), "booking_late");
    let cancelled = hall.check_in(&b6, "02:12").await.unwrap_err();
    assert_eq!(code_of(&cancelled), "booking_cancelled");
    let unknown = hall.check_in("ZZZZZZZZZ", "02:12").await.unwrap_err();
    assert_eq!(code_of(&unknown), "unknown_booking");
    assert_eq!(hall.tickets().await, before, "refusals issue nothing");
    assert_eq!(to_come("02:12").await.0, [t("02:30")]);

    assert_eq!(hall.next("02:16").await, "Y003");
    assert_eq!(hall.next("02:20").await, "A003");

    // Waits: an appointment's counts from when it was due (Y001 checked in at 09:35, due and
    // called at 10:00: no wait), a walk-in's from its issue. In key order.
    let cfg = hall.store.config(1).await.unwrap();
    let report = hall
        .store
        .report_tickets(&cfg, t("00:00"), t("12:00"))
        .await
        .unwrap();
    let waits: Vec<Option<i64>> = report
        .iter()
        .map(|r| r.wait_ms.map(|w| w / 60_000))
        .collect();
    assert_eq!(
        waits,
        [Some(0), Some(18), Some(23), Some(30), Some(6), Some(1)],
        "Y001, A001, A002, A003, Y002, Y003"
    );

    // The report: made 6 (one cancelled), checked in 3, late 1, no-show 1 (b5: its window
    // closed at 10:40); called 3 with delays 0, 6 and 1 minutes.
    let _ = b5;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let r = hall
        .store
        .appointments_report(1, day, day, t("03:00"))
        .await
        .unwrap();
    assert_eq!(r.by_day.len(), 1);
    let l = &r.overall;
    assert_eq!(
        (
            l.made,
            l.cancelled,
            l.checked_in,
            l.late,
            l.no_show,
            l.called
        ),
        (6, 1, 3, 1, 1, 3)
    );
    assert_eq!((l.within_5, l.within_10), (2, 3));
    assert_eq!(l.within_5_share(), Some(2.0 / 3.0));
    assert_eq!(l.mean_delay_secs(), Some((0.0 + 360.0 + 60.0) / 3.0));
    let d = &r.by_day[0];
    assert_eq!((d.service.as_str(), d.day), ("A", Some(day)));
    assert_eq!(
        ReportLine {
            service: String::new(),
            day: None,
            ..d.clone()
        },
        *l,
        "one service on one day: its line is the total"
    );
}

#[tokio::test]
async fn appointments_are_checked_in_and_called_on_time_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    appointments_are_checked_in_and_called_on_time(&url).await;
}

#[tokio::test]
async fn appointments_are_checked_in_and_called_on_time_on_postgresql() {
    let Some(pg) = pg_database().await else {
        return;
    };
    appointments_are_checked_in_and_called_on_time(&pg.url).await;
}

/// A walk-in's printed estimate counts the booked customers due while it waits: the policy
/// calls them first. The same hall at the same moment, with and without five bookings at
/// 10:00, tells a walk-in at 09:55 a longer wait with them.
#[tokio::test]
async fn a_walk_in_is_told_the_bookings_due_before_its_turn() {
    async fn told(bookings: usize) -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("q.db").display());
        let store = demo_store_on(&url, "").await;
        let manager = user_principal(&store, "manager").await;
        let settings = AppointmentSettings {
            enabled: true,
            places: 5,
            ..AppointmentSettings::default()
        };
        store
            .set_appointment_settings(&manager, "A".parse().unwrap(), &settings, t("00:00"))
            .await
            .unwrap();
        let hall = Hall {
            staff: user_principal(&store, "staff1").await,
            store,
        };
        for _ in 0..bookings {
            hall.book("02:00").await;
        }
        hall.walk_in("01:50").await;
        let issued = hall
            .store
            .issue(
                &kiosk_principal(),
                "A".parse().unwrap(),
                false,
                None,
                t("01:55"),
            )
            .await
            .unwrap();
        issued.ticket.estimate_secs
    }
    let (without, with) = (told(0).await, told(5).await);
    assert!(
        with > without,
        "told {with} s with bookings, {without} s without"
    );
}

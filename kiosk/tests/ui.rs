//! The real window under Slint's testing backend: buttons found by their accessible labels
//! and clicked, as a customer would. The controller runs on its own runtime, as in the
//! kiosk; the test thread applies each view it publishes (the kiosk does the same through
//! `upgrade_in_event_loop`, which needs an event loop the testing backend does not run).

use std::sync::Arc;
use std::time::Duration;

use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use qhall_kiosk::api::{HttpApi, KioskApi};
use qhall_kiosk::controller::{self, PrintState, Screen, Settings, View};
use qhall_kiosk::memory::MemoryApi;
use qhall_kiosk::printer::{EscPosPrinter, Layout, Printer, Target};
use qhall_kiosk::{AppAdapter, KioskWindow, TicketAdapter, ui};
use slint::ComponentHandle;
use slint::platform::PointerEventButton;
use tokio::sync::watch;

struct TestKiosk {
    rt: tokio::runtime::Runtime,
    window: KioskWindow,
    views: watch::Receiver<View>,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

impl TestKiosk {
    fn start<A: KioskApi, P: Printer>(
        rt: tokio::runtime::Runtime,
        api: A,
        printer: P,
    ) -> TestKiosk {
        i_slint_backend_testing::init_no_event_loop();
        let window = KioskWindow::new().unwrap();
        window
            .window()
            .set_size(slint::PhysicalSize::new(1080, 1920));
        let (handle, views) = rt.block_on(async {
            controller::spawn(Arc::new(api), Arc::new(printer), Settings::default())
        });
        ui::wire(&window, &handle);
        TestKiosk { rt, window, views }
    }

    /// Waits for a view satisfying `pred` and shows it.
    fn settle(&mut self, what: &str, pred: impl Fn(&View) -> bool) -> View {
        let views = &mut self.views;
        let found = self.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(20), views.wait_for(|v| pred(v)))
                .await
                .map(|r| r.map(|v| v.clone()))
        });
        let Ok(Ok(view)) = found else {
            panic!("never saw {what}; last view: {:#?}", *self.views.borrow())
        };
        ui::apply(&self.window, &view);
        view
    }

    fn find(&self, label: &str) -> Vec<ElementHandle> {
        ElementHandle::find_by_accessible_label(&self.window, label).collect()
    }

    /// Whether some element (a text or a button) says `label`.
    fn shows(&self, label: &str) -> bool {
        !self.find(label).is_empty()
    }

    /// The one button labelled `label`.
    fn button(&self, label: &str) -> ElementHandle {
        let found: Vec<_> = self
            .find(label)
            .into_iter()
            .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one button labelled {label:?}, found {}",
            found.len()
        );
        found.into_iter().next().unwrap()
    }
}

fn no_printer() -> EscPosPrinter {
    EscPosPrinter::new(Target::None, Layout::default())
}

#[test]
fn switching_language_changes_the_labels() {
    let mut k = TestKiosk::start(runtime(), MemoryApi::demo(), no_printer());
    k.settle("home", |v| {
        v.screen == Screen::Home && !v.services.is_empty()
    });
    k.button("个人业务");
    assert!(k.shows("请选择您要办理的业务"));

    k.button("English").invoke_accessible_default_action();
    k.settle("English", |v| v.lang.code() == "en");
    k.button("Personal services");
    assert!(k.shows("Choose a service"));
    assert!(!k.shows("个人业务") && !k.shows("请选择您要办理的业务"));
    assert_eq!(
        k.window.global::<AppAdapter>().get_t().take_ticket,
        "Take a ticket"
    );
    assert_eq!(k.button("English").accessible_checked(), Some(true));

    k.button("繁體中文")
        .mock_single_click(PointerEventButton::Left);
    k.settle("Traditional", |v| v.lang.code() == "zh-Hant");
    k.button("個人業務");
    assert!(k.shows("請選擇您要辦理的業務"));

    k.button("個人業務").invoke_accessible_default_action();
    k.settle("guide", |v| v.screen == Screen::Guide);
    k.button("取號");
    k.button("優先取號");
    assert!(
        !k.shows("取号"),
        "the take-ticket button speaks Traditional Chinese"
    );
}

#[test]
fn a_closed_service_says_so_in_words_not_only_in_grey() {
    let mut k = TestKiosk::start(runtime(), MemoryApi::demo(), no_printer());
    k.settle("home", |v| {
        v.screen == Screen::Home && !v.services.is_empty()
    });
    let closed = k.button("出入境证件");
    let detail = closed.accessible_description().unwrap();
    assert!(detail.starts_with("暂停取号"), "{detail}");
}

#[test]
fn a_customer_takes_a_ticket_from_a_real_server_and_sees_its_number() {
    let rt = runtime();
    let app = rt.block_on(qhall_tests::TestApp::spawn());
    // Someone took a ticket before: the kiosk's must be the next one.
    let before = rt.block_on(app.issue("A"));
    let api = HttpApi::new(&app.url, qhall_tests::KIOSK, Duration::from_secs(3)).unwrap();
    let services = rt.block_on(api.services()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paper = dir.path().join("paper.bin");
    let printer = EscPosPrinter::new(Target::File(paper.clone()), Layout::default());
    let mut k = TestKiosk::start(rt, api, printer);

    let home = k.settle("home", |v| {
        v.screen == Screen::Home && !v.services.is_empty()
    });
    assert_eq!(home.services.len(), services.len());
    let a = services.iter().find(|s| s.code.as_str() == "A").unwrap();
    k.button(a.name.get("zh"))
        .mock_single_click(PointerEventButton::Left);
    k.settle("guide", |v| v.screen == Screen::Guide);
    k.button("取号").mock_single_click(PointerEventButton::Left);
    let view = k.settle("ticket printed", |v| {
        v.screen == Screen::Ticket && v.ticket.print == PrintState::Printed
    });

    let shown = k.window.global::<TicketAdapter>().get_number().to_string();
    assert_eq!(shown, view.ticket.number);
    assert!(k.shows(&shown), "the number is on screen");
    assert!(
        shown.starts_with('A') && shown > before.number.to_string(),
        "{shown} after {}",
        before.number
    );
    let after = k.rt.block_on(app.issue("A"));
    assert!(
        after.number.to_string() > shown,
        "the server issued {shown}: the next is {}",
        after.number
    );
    let printed = std::fs::read(&paper).unwrap();
    assert!(
        printed.windows(shown.len()).any(|w| w == shown.as_bytes()),
        "the printed ticket has the number"
    );

    k.button("完成").invoke_accessible_default_action();
    k.settle("home again", |v| v.screen == Screen::Home);
}

/// A holiday set five days ahead is on the home screen at once, with its note — the same text
/// kiosks and boards are sent (issue #11: exceptions announced in advance).
#[test]
fn a_holiday_ahead_is_on_the_home_screen() {
    let rt = runtime();
    let app = rt.block_on(qhall_tests::TestApp::spawn());
    let day = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
        + chrono::Duration::days(5);
    let zh: String = rt.block_on(async {
        let manager = app.login("manager").await;
        let (status, answer) = app
            .send_json(
                reqwest::Method::PUT,
                &format!("/api/v1/config/exceptions/{day}"),
                Some(&manager),
                serde_json::json!({"periods": [], "note": "系统升级"}),
            )
            .await;
        assert!((200..300).contains(&status), "{answer}");
        let hall: serde_json::Value = app
            .get("/api/v1/hall", Some(qhall_tests::KIOSK))
            .await
            .json()
            .await
            .unwrap();
        let notice = hall["notices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"].as_i64().is_some_and(|id| id < 0))
            .cloned()
            .expect("the holiday's notice");
        notice["text"]["zh"].as_str().unwrap().to_owned()
    });
    assert!(zh.ends_with("全天休息。 系统升级"), "{zh}");
    let api = HttpApi::new(&app.url, qhall_tests::KIOSK, Duration::from_secs(3)).unwrap();
    let mut k = TestKiosk::start(rt, api, no_printer());
    k.settle("home with the holiday", |v| {
        v.screen == Screen::Home && v.notices.contains(&zh)
    });
    assert!(k.shows(&zh), "the holiday is on the screen");
}

/// A customer who took a ticket on their phone checks it in at the kiosk: a wrong code is
/// refused in words, the right one typed on the on-screen keyboard checks it in (the server then
/// calls it), and a second ticket's tracking link read by a scanner (typed, then Enter) does too.
#[test]
fn a_ticket_taken_on_a_phone_is_checked_in_with_its_code_or_its_qr() {
    use qhall_kiosk::CheckInAdapter;
    let rt = runtime();
    let app = rt.block_on(qhall_tests::TestApp::spawn());
    let manager = rt.block_on(app.login("manager"));
    let (s, v) = rt.block_on(app.send_json(
        reqwest::Method::PUT,
        "/api/v1/config/services/A",
        Some(&manager),
        serde_json::json!({"remote_tickets": true}),
    ));
    assert_eq!(s, 200, "{v}");
    let take = |mobile: &str, browser: &str| {
        let r = rt.block_on(app.post(
            "/api/v1/remote-tickets",
            None,
            serde_json::json!({"service": "A", "mobile": mobile, "browser": browser}),
        ));
        assert_eq!(r.status(), 201);
        rt.block_on(r.json::<serde_json::Value>()).unwrap()
    };
    let first = take("13800138000", "kiosk-test-browser-0001");
    let second = take("13900139000", "kiosk-test-browser-0002");
    let code = first["code"].as_str().unwrap().to_owned();
    let api = HttpApi::new(&app.url, qhall_tests::KIOSK, Duration::from_secs(3)).unwrap();
    let mut k = TestKiosk::start(rt, api, no_printer());

    k.settle("home offering the check-in", |v| {
        v.screen == Screen::Home && v.check_in_offered
    });
    k.button("手机取号签到").invoke_accessible_default_action();
    k.settle("check-in", |v| v.screen == Screen::CheckIn);
    assert!(k.shows("手机取号的客户请签到"));
    let type_code = |k: &mut TestKiosk, text: &str| {
        for (i, ch) in text.chars().enumerate() {
            k.button(&ch.to_string()).invoke_accessible_default_action();
            k.settle("a key", |v| v.check_in.code.chars().count() == i + 1);
        }
    };
    // A code nobody holds: refused in words, nothing checked in.
    type_code(&mut k, "ZZZZZZ");
    k.button("签到").invoke_accessible_default_action();
    let v = k.settle("refused", |v| !v.check_in.message.is_empty());
    assert_eq!(v.check_in.message, "没有这个签到码，请核对后重试。");
    assert!(k.shows("没有这个签到码，请核对后重试。"));
    // The right code, typed.
    type_code(&mut k, &code);
    k.button("签到").invoke_accessible_default_action();
    let v = k.settle("checked in", |v| v.screen == Screen::CheckedIn);
    assert_eq!(v.check_in.number, first["number"].as_str().unwrap());
    assert!(k.shows(first["number"].as_str().unwrap()));
    k.button("完成").invoke_accessible_default_action();
    k.settle("home", |v| v.screen == Screen::Home);

    // The second by its QR: the scanner types the tracking link and Enter.
    k.button("手机取号签到").invoke_accessible_default_action();
    k.settle("check-in", |v| v.screen == Screen::CheckIn);
    let link = second["tracking_url"].as_str().unwrap();
    k.window
        .global::<CheckInAdapter>()
        .invoke_submit(link.into());
    let v = k.settle("checked in by QR", |v| v.screen == Screen::CheckedIn);
    assert_eq!(v.check_in.number, second["number"].as_str().unwrap());

    // The server calls the first, checked in, at the head of the line.
    let staff = k.rt.block_on(app.login("staff1"));
    k.rt.block_on(app.sign_in(1, &staff));
    let called = k.rt.block_on(app.call_next(1, &staff)).unwrap();
    assert_eq!(called.number.to_string(), first["number"].as_str().unwrap());
}

/// "Text me when my turn is near" at the kiosk: after taking a ticket the customer types their
/// number on the pad; a number too short is refused in words, a real one is registered and the
/// screen shows it masked; the server has the message for it, masked in the manager's list.
#[test]
fn a_customer_asks_at_the_kiosk_to_be_texted_when_their_turn_is_near() {
    let rt = runtime();
    let app = rt.block_on(qhall_tests::TestApp::spawn_with_config(
        qhall_tests::log_messages,
    ));
    let api = HttpApi::new(&app.url, qhall_tests::KIOSK, Duration::from_secs(3)).unwrap();
    let services = rt.block_on(api.services()).unwrap();
    let mut k = TestKiosk::start(rt, api, no_printer());
    k.settle("home", |v| {
        v.screen == Screen::Home && !v.services.is_empty()
    });
    let a = services.iter().find(|s| s.code.as_str() == "A").unwrap();
    k.button(a.name.get("zh"))
        .invoke_accessible_default_action();
    k.settle("guide", |v| v.screen == Screen::Guide);
    k.button("取号").invoke_accessible_default_action();
    let ticket = k.settle("ticket", |v| {
        v.screen == Screen::Ticket && v.ticket.print == PrintState::NoPrinter && v.notify_offered
    });
    k.button("到号短信提醒").invoke_accessible_default_action();
    k.settle("number pad", |v| v.screen == Screen::Notify);
    let press = |k: &mut TestKiosk, keys: &str| {
        for ch in keys.chars() {
            let before = k.views.borrow().notify.digits.len();
            k.button(&ch.to_string()).invoke_accessible_default_action();
            k.settle("a digit", |v| v.notify.digits.len() == before + 1);
        }
    };
    press(&mut k, "12");
    k.button("提醒我").invoke_accessible_default_action();
    let v = k.settle("too short", |v| !v.notify.message.is_empty());
    assert_eq!(v.notify.message, "请输入正确的手机号码。");
    for _ in 0..2 {
        let before = k.views.borrow().notify.digits.len();
        k.button("删除").invoke_accessible_default_action();
        k.settle("deleted", |v| v.notify.digits.len() + 1 == before);
    }
    press(&mut k, "13800138000");
    k.button("提醒我").invoke_accessible_default_action();
    let v = k.settle("registered", |v| !v.notify.done.is_empty());
    assert!(v.notify.done.contains("138****8000"), "{}", v.notify.done);
    assert!(!v.notify.done.contains("13800138000"));
    assert!(v.notify.digits.is_empty(), "the kiosk forgets the number");
    assert_eq!(v.notify.number, ticket.ticket.number);

    let manager = k.rt.block_on(app.login("manager"));
    let list: serde_json::Value =
        k.rt.block_on(async {
            app.get("/api/v1/messages", Some(&manager))
                .await
                .json()
                .await
        })
        .unwrap();
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{list}");
    assert_eq!(rows[0]["kind"], "near", "nobody ahead: near at once");
    assert_eq!(rows[0]["to"], "138****8000");
    assert_eq!(rows[0]["ticket"], ticket.ticket.number.as_str());
    k.button("完成").invoke_accessible_default_action();
    k.settle("home", |v| v.screen == Screen::Home);
}

#[path = "../../tests/tests/support/browser.rs"]
mod browser;

/// One walk through the real parts of an appointment (issue #12): a customer books on `/book`
/// in headless Chromium at a phone's width and gets a code and its QR; at the kiosk (the real
/// window, the real server) they touch "I have an appointment" and type the code; the ticket
/// comes out of the printer as ESC/POS bytes that say "Appointment" and the slot's time. The
/// same code again gives the same ticket, never a second one. With `QHALL_SCREENSHOTS=DIR` the
/// booking pages are saved there (docs/book-*.png).
#[test]
fn a_booking_made_on_the_web_is_checked_in_at_the_kiosk_and_printed_as_an_appointment() {
    use qhall_kiosk::controller::CHECK_IN_KEYS;
    let rt = runtime();
    let app = rt.block_on(qhall_tests::TestApp::spawn());
    let manager = rt.block_on(app.login("manager"));
    // Service A takes bookings up to the last minute; check-in opens two hours ahead, so the
    // first free slot (the demo hall is open around the clock) can be checked in at once.
    rt.block_on(app.set_appointments(
        &manager,
        "A",
        serde_json::json!({"enabled": true, "slot_mins": 15, "places": 1, "horizon_days": 14,
            "lead_mins": 0, "checkin_before_mins": 120, "checkin_after_mins": 10}),
    ));

    let code = rt.block_on(async {
        let b = browser::Browser::start(390, 1300).await;
        b.goto(&format!("{}/book?lang=en", app.url)).await;
        b.wait_text("#book h1", "Book an appointment").await;
        b.click("#book-days .chip").await;
        b.click("#book-slots .chip").await;
        b.type_into("#book-mobile", "13800138000").await;
        b.click("#book-consent").await;
        b.snap("book-form.png").await;
        b.click("#book-submit").await;
        b.wait_text("#booking h1", "You are booked").await;
        let code = b
            .find("#booking-code")
            .await
            .attr("aria-label")
            .await
            .unwrap()
            .expect("the code");
        let qr_url = b
            .find("#booking-qr")
            .await
            .attr("data-url")
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(qr_url.ends_with(&format!("/book/{code}")), "{qr_url}");
        b.find("#booking-qr svg").await;
        b.wait_text("#booking-state", "Booked").await;
        b.snap("book-confirmed.png").await;
        b.close().await;
        code
    });
    assert!(qhall_shared::booking::code_in(&code).as_deref() == Some(code.as_str()));
    let booked: serde_json::Value = rt
        .block_on(
            rt.block_on(app.get(&format!("/api/v1/appointments/{code}"), None))
                .json(),
        )
        .unwrap();
    assert_eq!(booked["state"], "booked");
    assert_eq!(booked["mobile"], "138****8000");
    let time = booked["time"].as_str().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let paper = dir.path().join("printer.bin");
    let printer = EscPosPrinter::new(Target::File(paper.clone()), Layout::default());
    let api = HttpApi::new(&app.url, qhall_tests::KIOSK, Duration::from_secs(3)).unwrap();
    let mut k = TestKiosk::start(rt, api, printer);
    k.settle("home offering appointments", |v| {
        v.screen == Screen::Home && v.booking_offered
    });
    k.button("English").invoke_accessible_default_action();
    k.settle("English", |v| v.lang.code() == "en");
    k.button("I have an appointment")
        .invoke_accessible_default_action();
    let v = k.settle("the appointment check-in", |v| v.screen == Screen::CheckIn);
    assert!(v.check_in.booking);
    assert!(k.shows("Check in for your appointment"));
    for (i, ch) in code.chars().enumerate() {
        assert!(CHECK_IN_KEYS.contains(ch));
        k.button(&ch.to_string()).invoke_accessible_default_action();
        k.settle("a key", |v| v.check_in.code.chars().count() == i + 1);
    }
    k.button("Check in").invoke_accessible_default_action();
    let v = k.settle("the appointment's ticket, printed", |v| {
        v.screen == Screen::Ticket && v.ticket.print == PrintState::Printed
    });
    let expected = format!("Appointment {time}");
    assert_eq!(v.ticket.appointment, expected);
    assert!(k.shows(&expected));
    let bytes = std::fs::read(&paper).unwrap();
    assert!(
        bytes
            .windows(expected.len())
            .any(|w| w == expected.as_bytes()),
        "the printed ticket says {expected:?}"
    );
    assert!(
        bytes
            .windows(v.ticket.number.len())
            .any(|w| w == v.ticket.number.as_bytes())
    );
    let number = v.ticket.number;

    // The same code again (the booking's link, as a scanner reads its QR): the same ticket.
    k.button("Done").invoke_accessible_default_action();
    // Home again, in the kiosk's own language for the next customer.
    k.settle("home", |v| {
        v.screen == Screen::Home && v.lang.code() == "zh"
    });
    k.button("我有预约").invoke_accessible_default_action();
    k.settle("check-in", |v| v.screen == Screen::CheckIn);
    k.window
        .global::<qhall_kiosk::CheckInAdapter>()
        .invoke_submit(format!("{}/book/{code}", app.url).into());
    let v = k.settle("the same ticket again", |v| {
        v.screen == Screen::Ticket && v.ticket.print == PrintState::Printed
    });
    assert_eq!(v.ticket.number, number);
    let checked: serde_json::Value =
        k.rt.block_on(
            k.rt.block_on(app.get(&format!("/api/v1/appointments/{code}"), None))
                .json(),
        )
        .unwrap();
    assert_eq!(checked["state"], "checked_in");
    let staff = k.rt.block_on(app.login("staff1"));
    k.rt.block_on(app.sign_in(1, &staff));
    let called = k.rt.block_on(app.call_next(1, &staff)).unwrap();
    assert_eq!(called.number.to_string(), number);
    let services: serde_json::Value =
        k.rt.block_on(
            k.rt.block_on(app.get("/api/v1/services", Some(qhall_tests::KIOSK)))
                .json(),
        )
        .unwrap();
    let a = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "A")
        .unwrap();
    assert_eq!(a["waiting"], 0, "one ticket, not two");
}

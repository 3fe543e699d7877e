//! The controller against an in-memory hall, without a window. Time is paused: the idle
//! and retry timers run instantly and deterministically.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use qhall_kiosk::controller::{self, Command, KioskHandle, PrintState, Screen, Settings, View};
use qhall_kiosk::i18n::Lang;
use qhall_kiosk::memory::MemoryApi;
use qhall_kiosk::printer::{PrintError, PrintJob, Printer};
use tokio::sync::watch;

/// A printer that records what it printed, or fails as told.
#[derive(Default)]
struct FakePrinter {
    jobs: Mutex<Vec<PrintJob>>,
    fail: Mutex<Option<PrintError>>,
    absent: bool,
}

impl Printer for FakePrinter {
    fn present(&self) -> bool {
        !self.absent
    }
    fn print(&self, job: &PrintJob) -> Result<(), PrintError> {
        if let Some(e) = self.fail.lock().unwrap().clone() {
            return Err(e);
        }
        self.jobs.lock().unwrap().push(job.clone());
        Ok(())
    }
}

struct Kiosk {
    api: MemoryApi,
    printer: Arc<FakePrinter>,
    handle: KioskHandle,
    views: watch::Receiver<View>,
}

impl Kiosk {
    fn start() -> Kiosk {
        Kiosk::with(MemoryApi::demo(), FakePrinter::default())
    }

    fn with(api: MemoryApi, printer: FakePrinter) -> Kiosk {
        let printer = Arc::new(printer);
        let (handle, views) =
            controller::spawn(Arc::new(api.clone()), printer.clone(), Settings::default());
        Kiosk {
            api,
            printer,
            handle,
            views,
        }
    }

    fn send(&self, cmd: Command) {
        self.handle.send(cmd);
    }

    /// Waits (in paused time) until the view satisfies `pred`; panics after a minute.
    async fn until(&mut self, what: &str, pred: impl Fn(&View) -> bool) -> View {
        let wait = self.views.wait_for(|v| pred(v));
        let found = tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .map(|r| r.map(|v| v.clone()));
        match found {
            Ok(Ok(v)) => v,
            _ => panic!("never saw {what}; last view: {:#?}", *self.views.borrow()),
        }
    }

    async fn screen(&mut self, screen: Screen) -> View {
        self.until(&format!("{screen:?}"), |v| v.screen == screen)
            .await
    }

    /// Waits (in paused time) until `cond` holds for something outside the view.
    async fn eventually(&self, what: &str, cond: impl Fn(&MemoryApi) -> bool) {
        for _ in 0..600 {
            if cond(&self.api) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never saw {what}");
    }

    async fn home(&mut self) -> View {
        self.until("home with services", |v| {
            v.screen == Screen::Home && !v.services.is_empty()
        })
        .await
    }
}

#[tokio::test(start_paused = true)]
async fn touching_a_service_shows_its_guide_and_take_ticket_issues_and_prints_one_ticket() {
    let mut k = Kiosk::start();
    let home = k.home().await;
    assert_eq!(home.hall_name, "市民服务中心");
    let a = &home.services[0];
    assert_eq!(
        (a.name.as_str(), a.detail.as_str()),
        ("个人业务", "12 人等候 · 约 10–15 分钟")
    );
    assert!(
        k.api.issued().is_empty(),
        "nothing issued by merely looking"
    );

    k.send(Command::SelectService("A".into()));
    let guide = k.screen(Screen::Guide).await;
    assert!(guide.guide.guide.contains("身份证"));
    assert!(k.api.issued().is_empty(), "a touch on home never issues");

    k.send(Command::TakeTicket { priority: false });
    // A second touch while the first request is out must not give a second ticket.
    k.send(Command::TakeTicket { priority: false });
    let ticket = k
        .until("printed ticket", |v| {
            v.screen == Screen::Ticket && v.ticket.print == PrintState::Printed
        })
        .await;
    assert_eq!(ticket.ticket.number, "A001");
    assert_eq!(ticket.ticket.ahead, "您前面还有 12 人");
    assert_eq!(ticket.ticket.wait, "约 10–15 分钟");
    assert_eq!(k.api.issued().len(), 1);
    let jobs = k.printer.jobs.lock().unwrap().clone();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].number, "A001");
    assert_eq!(jobs[0].service, "个人业务");
    assert_eq!(jobs[0].tracking_url, k.api.issued()[0].tracking_url);

    // Back home by itself after about ten seconds.
    let home = k.home().await;
    assert_eq!(
        home.services[0].detail, "13 人等候 · 约 10–15 分钟",
        "the count follows the stream"
    );
}

#[tokio::test(start_paused = true)]
async fn a_priority_ticket_is_asked_for_only_where_the_service_allows_it() {
    let mut k = Kiosk::start();
    k.home().await;
    k.send(Command::SelectService("B".into()));
    let g = k.screen(Screen::Guide).await;
    assert!(!g.guide.priority_allowed);
    k.send(Command::TakeTicket { priority: true });
    k.screen(Screen::Ticket).await;
    assert!(!k.api.issued()[0].priority);
    k.send(Command::Done);
    k.home().await;

    k.send(Command::SelectService("A".into()));
    assert!(k.screen(Screen::Guide).await.guide.priority_allowed);
    k.send(Command::TakeTicket { priority: true });
    let t = k.screen(Screen::Ticket).await;
    assert!(k.api.issued()[1].priority && t.ticket.priority);
}

#[tokio::test(start_paused = true)]
async fn a_closed_service_is_refused_with_a_message_and_no_ticket() {
    let mut k = Kiosk::start();
    let home = k.home().await;
    let d = home.services.iter().find(|s| s.code == "D").unwrap();
    assert!(!d.open);
    assert!(d.detail.starts_with("暂停取号 · "), "{}", d.detail);
    assert!(
        d.detail.ends_with("开始"),
        "says when it opens: {}",
        d.detail
    );

    // The kiosk thinks A is open, but it closed meanwhile: the server refuses.
    k.api.set_service_open_silently("A", false);
    k.send(Command::SelectService("A".into()));
    k.screen(Screen::Guide).await;
    k.send(Command::TakeTicket { priority: false });
    let g = k
        .until("the refusal", |v| !v.guide.message.is_empty())
        .await;
    assert_eq!(g.screen, Screen::Guide);
    assert_eq!(g.guide.message, "该业务现在不能取号");
    assert!(!g.guide.open, "the take-ticket button is disabled");
    assert!(k.api.issued().is_empty());
    assert!(k.printer.jobs.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_lost_answer_is_retried_with_the_same_key_and_gives_one_ticket() {
    let mut k = Kiosk::start();
    k.home().await;
    k.api.lose_next_answers(2);
    k.send(Command::SelectService("A".into()));
    k.screen(Screen::Guide).await;
    k.send(Command::TakeTicket { priority: false });
    let t = k
        .until("printed ticket", |v| v.ticket.print == PrintState::Printed)
        .await;
    let keys = k.api.keys_seen();
    assert_eq!(keys.len(), 3, "two lost answers, then the answer");
    assert!(
        keys.iter().all(|key| *key == keys[0]),
        "the same Idempotency-Key each time: {keys:?}"
    );
    assert_eq!(k.api.issued().len(), 1, "one ticket");
    assert_eq!(k.printer.jobs.lock().unwrap().len(), 1, "printed once");
    assert_eq!(t.ticket.number, "A001");

    // The next customer's request gets a new key.
    k.send(Command::Done);
    k.home().await;
    k.send(Command::SelectService("A".into()));
    k.screen(Screen::Guide).await;
    k.send(Command::TakeTicket { priority: false });
    k.until("second ticket", |v| v.ticket.number == "A002")
        .await;
    assert_ne!(k.api.keys_seen()[3], keys[0]);
}

#[tokio::test(start_paused = true)]
async fn the_kiosk_goes_out_of_service_when_the_server_is_down_and_recovers_by_itself() {
    let mut k = Kiosk::start();
    k.home().await;
    k.send(Command::SelectService("A".into()));
    k.screen(Screen::Guide).await;

    let down_at = tokio::time::Instant::now();
    k.api.set_down(true);
    k.screen(Screen::OutOfService).await;
    assert!(
        down_at.elapsed() < Duration::from_secs(3),
        "within 3 s: {:?}",
        down_at.elapsed()
    );
    k.send(Command::TakeTicket { priority: false });
    k.send(Command::SelectService("A".into()));
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        k.views.borrow().screen,
        Screen::OutOfService,
        "touches do nothing meanwhile"
    );
    assert!(k.api.issued().is_empty());

    k.api.set_down(false);
    let home = k.home().await;
    assert_eq!(home.services.len(), 4);
    k.send(Command::SelectService("A".into()));
    k.screen(Screen::Guide).await;
    k.send(Command::TakeTicket { priority: false });
    k.until("a ticket after recovery", |v| {
        v.ticket.print == PrintState::Printed
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_emergency_takes_the_screen_and_clears_by_itself() {
    let mut k = Kiosk::start();
    k.home().await;
    k.send(Command::SelectService("A".into()));
    k.screen(Screen::Guide).await;
    k.api.set_emergency(Some("消防演练，请有序离开"));
    let e = k.screen(Screen::Emergency).await;
    assert_eq!(e.emergency, "消防演练，请有序离开");
    k.send(Command::TakeTicket { priority: false });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(k.api.issued().is_empty());

    k.api.set_emergency(None);
    k.home().await;
    assert!(k.views.borrow().emergency.is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_closed_screen_shows_the_hours_and_clears_when_the_hall_opens() {
    let mut k = Kiosk::start();
    k.home().await;
    let opens = chrono::Utc::now() + chrono::Duration::days(1);
    k.api.set_hall_open(false, Some(opens));
    let c = k.screen(Screen::Closed).await;
    assert_eq!(c.closed.today, "08:30–12:00  ·  13:00–17:30");
    let c = k.until("next opening", |v| !v.closed.next.is_empty()).await;
    assert!(c.closed.next.starts_with("明天 "), "{}", c.closed.next);
    assert_eq!(c.notices.len(), 1);

    k.api.set_hall_open(true, None);
    k.home().await;
}

#[tokio::test(start_paused = true)]
async fn a_printing_failure_says_so_shows_the_number_and_reports_the_printer() {
    let printer = FakePrinter {
        fail: Mutex::new(Some(PrintError::NoPaper)),
        ..FakePrinter::default()
    };
    let mut k = Kiosk::with(MemoryApi::demo(), printer);
    k.home().await;
    k.eventually("the printer reported at connect", |api| {
        !api.reports().is_empty()
    })
    .await;
    k.send(Command::SelectService("C".into()));
    k.screen(Screen::Guide).await;
    k.send(Command::TakeTicket { priority: false });
    let f = k.screen(Screen::PrintFailed).await;
    assert_eq!(f.ticket.number, "C001");
    k.eventually("no paper reported", |api| api.reports().len() >= 2)
        .await;
    let reports = k.api.reports();
    assert_eq!(
        reports.first().map(|r| r.printer.as_str()),
        Some("ok"),
        "reported at connect: {reports:?}"
    );
    assert_eq!(
        reports.last().map(|r| r.printer.as_str()),
        Some("no_paper"),
        "{reports:?}"
    );

    // Paper back: the next ticket prints and the state is reported as ok again.
    *k.printer.fail.lock().unwrap() = None;
    k.send(Command::Done);
    k.home().await;
    k.send(Command::SelectService("C".into()));
    k.screen(Screen::Guide).await;
    k.send(Command::TakeTicket { priority: false });
    k.until("printed", |v| v.ticket.print == PrintState::Printed)
        .await;
    k.eventually("ok reported again", |api| api.reports().len() >= 3)
        .await;
    assert_eq!(
        k.api.reports().last().map(|r| r.printer.as_str()),
        Some("ok")
    );
}

#[tokio::test(start_paused = true)]
async fn without_a_printer_the_customer_is_asked_to_note_the_number() {
    let printer = FakePrinter {
        absent: true,
        ..FakePrinter::default()
    };
    let mut k = Kiosk::with(MemoryApi::demo(), printer);
    k.home().await;
    k.send(Command::SelectService("B".into()));
    k.screen(Screen::Guide).await;
    k.send(Command::TakeTicket { priority: false });
    let t = k.screen(Screen::Ticket).await;
    assert_eq!(t.ticket.print, PrintState::NoPrinter);
    k.eventually("the printer reported", |api| !api.reports().is_empty())
        .await;
    assert_eq!(
        k.api.reports().first().map(|r| r.printer.as_str()),
        Some("none")
    );
}

#[tokio::test(start_paused = true)]
async fn an_idle_kiosk_returns_home_in_its_default_language() {
    let mut k = Kiosk::start();
    k.home().await;
    k.send(Command::SetLanguage(Lang::En));
    let en = k.until("English", |v| v.lang == Lang::En).await;
    assert_eq!(en.services[0].name, "Personal services");
    assert_eq!(en.services[0].detail, "12 waiting · about 10–15 min");
    k.send(Command::SelectService("A".into()));
    k.screen(Screen::Guide).await;
    let left = tokio::time::Instant::now();
    let home = k.home().await;
    let idle = left.elapsed();
    assert!(
        idle >= Duration::from_secs(30) && idle < Duration::from_secs(32),
        "{idle:?}"
    );
    assert_eq!(home.lang, Lang::Zh);
    assert!(k.api.issued().is_empty());
}

#[tokio::test(start_paused = true)]
async fn waiting_counts_follow_the_event_stream() {
    let mut k = Kiosk::start();
    k.home().await;
    k.api.someone_else_takes("B");
    k.api.someone_else_takes("B");
    let v = k
        .until("B at 6", |v| {
            v.services
                .get(1)
                .is_some_and(|s| s.detail.starts_with("6 人等候"))
        })
        .await;
    assert_eq!(v.screen, Screen::Home);
}

//! The kiosk's logic, without a window: what to show, when to issue, when to print.
//!
//! The controller is an actor on the network runtime. It receives the customer's
//! [`Command`]s from the UI, the server's state from the [`link`] task, and the results of
//! its own issue and print jobs; after each it publishes a fresh [`View`] on a `watch`
//! channel, which the adapter copies into the window. The tests drive it with a fake API
//! and read the views.
//!
//! Rules it keeps:
//! - one touch, at most one ticket: "take a ticket" is ignored while a request is out, and a
//!   request that got no answer is retried with the same `Idempotency-Key`;
//! - a ticket is printed only once the server acknowledged it;
//! - a customer who walks away is not left behind: home after 30 s without a touch, the
//!   ticket screen after 10 s.

mod link;
pub mod view;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use qhall_shared::api::{
    DeskPrint, DeviceState, HallInfo, IssueTicket, IssuedTicket, PrintJobDone, ServiceInfo,
};
use qhall_shared::events::{Event, Message};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::api::{ApiError, KioskApi};
use crate::i18n::Lang;
use crate::printer::{self, PrintError, Printer};
pub use view::{
    CHECK_IN_CODE_LEN, CHECK_IN_KEYS, CheckInView, ClosedView, GuideView, NotifyView, PrintState,
    Screen, ServiceCard, TicketCard, View,
};
use view::{CheckInMessage, Flow, GuideMessage, Model, NotifyMessage};

/// What the customer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Touched a service on the home screen: show its guide.
    SelectService(String),
    /// Touched "take a ticket" (or the priority one) on the guide.
    TakeTicket {
        priority: bool,
    },
    /// Back from the guide to home.
    Back,
    /// Finished with the ticket or print-failed screen.
    Done,
    SetLanguage(Lang),
    /// Any other touch: resets the idle timer.
    Activity,
    /// Touched "took a ticket on your phone? check in" on the home screen.
    OpenCheckIn,
    /// Touched "I have an appointment" on the home screen.
    OpenBooking,
    /// Late for an appointment: touched "take a normal ticket" (the service's guide).
    TakeNormalTicket,
    /// A key of the check-in keyboard: a character of the code, or `"⌫"`.
    CheckInKey(String),
    /// "Check in" with the code typed, or what a scanner typed and ended with Enter (the code
    /// or the ticket's tracking link).
    CheckInSubmit(Option<String>),
    /// Touched "text me when my turn is near" on the ticket screen.
    OpenNotify,
    /// A key of the number pad: a digit, or `"⌫"`.
    NotifyKey(String),
    NotifySubmit,
}

/// Timings and defaults; [`Settings::default`] is what the kiosk uses.
#[derive(Clone)]
pub struct Settings {
    pub default_lang: Lang,
    /// Back home after this long without a touch.
    pub idle: Duration,
    /// The ticket screen stays this long after printing.
    pub ticket_linger: Duration,
    /// Give up issuing (and ask the customer to try again) after this long.
    pub issue_deadline: Duration,
    /// Waiting counts arrive on the stream; estimates are refetched at most this often.
    pub refresh_every: Duration,
    /// The wall clock (a fixed one for screenshots).
    pub now: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("default_lang", &self.default_lang)
            .field("idle", &self.idle)
            .field("ticket_linger", &self.ticket_linger)
            .field("issue_deadline", &self.issue_deadline)
            .finish_non_exhaustive()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_lang: Lang::Zh,
            idle: Duration::from_secs(30),
            ticket_linger: Duration::from_secs(10),
            issue_deadline: Duration::from_secs(10),
            refresh_every: Duration::from_secs(2),
            now: Arc::new(Utc::now),
        }
    }
}

/// Sends the customer's commands to the controller. Cheap to clone; never blocks.
#[derive(Debug, Clone)]
pub struct KioskHandle {
    tx: mpsc::UnboundedSender<Command>,
}

impl KioskHandle {
    pub fn send(&self, command: Command) {
        // The controller lives as long as the runtime; after that nothing listens anyway.
        let _ = self.tx.send(command);
    }
}

/// What the controller's own tasks report back.
#[derive(Debug)]
pub(crate) enum Internal {
    /// The server answers again: its current hall and services.
    Up {
        hall: HallInfo,
        services: Vec<ServiceInfo>,
    },
    /// The server cannot be reached.
    Down(ApiError),
    Event(Message),
    Refreshed {
        hall: Option<HallInfo>,
        services: Option<Vec<ServiceInfo>>,
    },
    Issued {
        key: String,
        result: Result<IssuedTicket, ApiError>,
    },
    Printed {
        number: String,
        result: Result<(), PrintError>,
    },
    CheckedIn(Result<qhall_shared::api::CheckedIn, ApiError>),
    /// A booking's check-in: its ticket, or the refusal with the booking's times (to say when
    /// to come back, or until when check-in was open).
    BookingCheckedIn {
        result: Result<IssuedTicket, ApiError>,
        booking: Option<qhall_shared::api::BookingSummary>,
    },
    Notified(Result<qhall_shared::api::NotifyRegistered, ApiError>),
    /// The desk's print jobs waiting for this kiosk (the poll's answer).
    DeskJobs(Result<Vec<DeskPrint>, ApiError>),
    /// A desk job came out (or not), and the server has been told.
    DeskPrinted {
        id: i64,
        result: Result<(), PrintError>,
    },
}

/// How often the kiosk asks for tickets the reception desk sent to its printer.
pub const DESK_POLL: Duration = Duration::from_secs(2);

/// Starts the controller and its link to the server on the current tokio runtime.
pub fn spawn<A: KioskApi, P: Printer>(
    api: Arc<A>,
    printer: Arc<P>,
    settings: Settings,
) -> (KioskHandle, watch::Receiver<View>) {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (int_tx, int_rx) = mpsc::unbounded_channel();
    let model = Model {
        lang: settings.default_lang,
        ..Model::default()
    };
    let (view_tx, view_rx) = watch::channel(view::render(&model, (settings.now)()));
    tokio::spawn(link::run(api.clone(), int_tx.clone()));
    let controller = Controller {
        api,
        printer,
        settings,
        model,
        view_tx,
        int_tx,
        last_touch: Instant::now(),
        printed_at: None,
        pending: None,
        issue_task: None,
        refresh_due: None,
        last_refresh: Instant::now(),
        reported: None,
        desk_polled: Some(Instant::now()),
        desk_printing: Default::default(),
        print_lock: Default::default(),
    };
    tokio::spawn(controller.run(cmd_rx, int_rx));
    (KioskHandle { tx: cmd_tx }, view_rx)
}

/// A ticket request that has not been answered yet: retried with the same key.
#[derive(Debug, Clone)]
struct Pending {
    request: IssueTicket,
    key: String,
}

struct Controller<A, P> {
    api: Arc<A>,
    printer: Arc<P>,
    settings: Settings,
    model: Model,
    view_tx: watch::Sender<View>,
    int_tx: mpsc::UnboundedSender<Internal>,
    last_touch: Instant,
    /// When the current ticket finished printing (the linger starts then).
    printed_at: Option<Instant>,
    pending: Option<Pending>,
    issue_task: Option<JoinHandle<()>>,
    /// A refetch of services (and the hall) is wanted at this time.
    refresh_due: Option<(Instant, bool)>,
    last_refresh: Instant,
    /// The printer state last sent to the server.
    reported: Option<DeviceState>,
    /// The desk's jobs: when they were last asked for (`None`: a poll is on its way), and the
    /// ones printing now.
    desk_polled: Option<Instant>,
    desk_printing: std::collections::HashSet<i64>,
    /// One ticket at a time goes to the printer (a customer's and the desk's never interleave).
    print_lock: Arc<std::sync::Mutex<()>>,
}

impl<A: KioskApi, P: Printer> Controller<A, P> {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut internal: mpsc::UnboundedReceiver<Internal>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => return,
                },
                Some(msg) = internal.recv() => self.on_internal(msg),
                _ = tick.tick() => self.on_tick(),
            }
            self.publish();
        }
    }

    fn publish(&self) {
        let view = view::render(&self.model, (self.settings.now)());
        self.view_tx.send_if_modified(|old| {
            if *old == view {
                false
            } else {
                *old = view;
                true
            }
        });
    }

    fn go_home(&mut self, reset_language: bool) {
        self.model.flow = Flow::Home;
        self.pending = None;
        self.printed_at = None;
        if reset_language {
            self.model.lang = self.settings.default_lang;
        }
    }

    fn on_command(&mut self, cmd: Command) {
        self.last_touch = Instant::now();
        let screen = view::render(&self.model, (self.settings.now)()).screen;
        match cmd {
            Command::Activity => {}
            Command::SetLanguage(lang) => self.model.lang = lang,
            Command::SelectService(code) => {
                if screen == Screen::Home
                    && self.model.services.iter().any(|s| s.code.as_str() == code)
                {
                    self.model.flow = Flow::Guide {
                        code,
                        issuing: false,
                        message: None,
                    };
                }
            }
            Command::Back => {
                // Back from the number pad: the ticket again, as it was.
                if let Flow::Notify {
                    ticket,
                    print,
                    busy: false,
                    done: None,
                    ..
                } = &self.model.flow
                {
                    self.model.flow = Flow::Ticket {
                        ticket: ticket.clone(),
                        print: *print,
                    };
                    self.printed_at = Some(Instant::now());
                    return;
                }
                if let Flow::Guide { issuing: false, .. }
                | Flow::CheckIn { busy: false, .. }
                | Flow::CheckedIn { .. } = self.model.flow
                {
                    self.go_home(false);
                }
            }
            Command::OpenCheckIn | Command::OpenBooking => {
                let booking = matches!(cmd, Command::OpenBooking);
                let offered = self.model.services.iter().any(|s| {
                    if booking {
                        s.appointments
                    } else {
                        s.remote_tickets
                    }
                });
                if screen == Screen::Home && offered {
                    self.model.flow = Flow::CheckIn {
                        booking,
                        code: String::new(),
                        busy: false,
                        message: None,
                    };
                }
            }
            Command::CheckInKey(key) => {
                if let Flow::CheckIn {
                    booking,
                    code,
                    busy: false,
                    message,
                } = &mut self.model.flow
                {
                    if key == "⌫" {
                        code.pop();
                    } else if code.chars().count() < view::code_len(*booking) {
                        code.push_str(&key.to_uppercase());
                    }
                    *message = None;
                }
            }
            Command::TakeNormalTicket => {
                if let Flow::CheckIn {
                    busy: false,
                    message: Some(CheckInMessage::Late { service, .. }),
                    ..
                } = &self.model.flow
                    && self
                        .model
                        .services
                        .iter()
                        .any(|s| s.code.as_str() == service)
                {
                    self.model.flow = Flow::Guide {
                        code: service.clone(),
                        issuing: false,
                        message: None,
                    };
                }
            }
            Command::CheckInSubmit(scanned) => self.check_in(scanned),
            Command::OpenNotify => {
                let offered = self.model.hall.as_ref().is_some_and(|h| h.messages);
                if let Flow::Ticket { ticket, print } = &self.model.flow
                    && offered
                    && *print != PrintState::Printing
                {
                    self.model.flow = Flow::Notify {
                        ticket: ticket.clone(),
                        print: *print,
                        digits: String::new(),
                        busy: false,
                        message: None,
                        done: None,
                    };
                }
            }
            Command::NotifyKey(key) => {
                if let Flow::Notify {
                    digits,
                    busy: false,
                    done: None,
                    message,
                    ..
                } = &mut self.model.flow
                {
                    if key == "⌫" {
                        digits.pop();
                    } else if key.len() == 1
                        && key.bytes().all(|b| b.is_ascii_digit())
                        && digits.len() < view::NOTIFY_MAX_DIGITS
                    {
                        digits.push_str(&key);
                    }
                    *message = None;
                }
            }
            Command::NotifySubmit => self.notify(),
            Command::Done => {
                if let Flow::Ticket { print, .. } = &self.model.flow
                    && *print != PrintState::Printing
                {
                    self.go_home(true);
                }
                if let Flow::Notify { busy: false, .. } = &self.model.flow {
                    self.go_home(true);
                }
            }
            Command::TakeTicket { priority } => {
                if screen == Screen::Guide {
                    self.take_ticket(priority);
                }
            }
        }
    }

    /// Sends the number typed for "text me when my turn is near", once at a time.
    fn notify(&mut self) {
        let lang = self.model.lang;
        let Flow::Notify {
            ticket,
            digits,
            busy,
            message,
            done: None,
            ..
        } = &mut self.model.flow
        else {
            return;
        };
        if *busy || digits.len() < view::NOTIFY_MIN_DIGITS {
            *message = Some(NotifyMessage::InvalidMobile);
            return;
        }
        *busy = true;
        *message = None;
        let request = qhall_shared::api::NotifyMe {
            mobile: digits.clone(),
            lang: match lang {
                Lang::Zh => "zh",
                Lang::ZhHant => "zh_hant",
                Lang::En => "en",
            }
            .into(),
        };
        let id = ticket.id.clone();
        let api = self.api.clone();
        let tx = self.int_tx.clone();
        tokio::spawn(async move {
            let result = api.notify(&id, &request).await;
            let _ = tx.send(Internal::Notified(result));
        });
    }

    /// Sends the typed code (or what the scanner read) to the server, once at a time.
    fn check_in(&mut self, scanned: Option<String>) {
        let Flow::CheckIn {
            booking,
            code,
            busy,
            message,
        } = &mut self.model.flow
        else {
            return;
        };
        if *busy {
            return;
        }
        let raw = scanned.unwrap_or_else(|| code.clone());
        let raw = raw.trim().to_owned();
        if raw.is_empty() || raw.len() > 300 {
            return;
        }
        *busy = true;
        *message = None;
        let api = self.api.clone();
        let tx = self.int_tx.clone();
        // A booking's code (typed on the appointment screen, or its link scanned on either).
        if *booking || qhall_shared::booking::code_in(&raw).is_some() {
            tokio::spawn(async move {
                let result = api.check_in_booking(&raw).await;
                let booking = match &result {
                    Err(e) if matches!(e.code(), Some("too_early" | "booking_late")) => {
                        api.booking(&raw).await.ok()
                    }
                    _ => None,
                };
                let _ = tx.send(Internal::BookingCheckedIn { result, booking });
            });
            return;
        }
        tokio::spawn(async move {
            let result = api.check_in(&raw).await;
            let _ = tx.send(Internal::CheckedIn(result));
        });
    }

    fn take_ticket(&mut self, priority: bool) {
        let Flow::Guide { code, issuing, .. } = &self.model.flow else {
            return;
        };
        if *issuing {
            // A second touch while the first is on its way must not issue a second ticket.
            return;
        }
        let Some(service) = self.model.services.iter().find(|s| s.code.as_str() == code) else {
            return;
        };
        if !service.open {
            return;
        }
        let request = IssueTicket {
            service: code.clone(),
            priority: priority && service.priority_allowed,
            print_at: None,
        };
        // The same customer asking again for the same thing after a failure reuses the key:
        // if the first request did reach the server, this returns that ticket.
        let pending = match &self.pending {
            Some(p) if p.request == request => p.clone(),
            _ => Pending {
                request,
                key: uuid::Uuid::new_v4().to_string(),
            },
        };
        self.pending = Some(pending.clone());
        self.model.flow = Flow::Guide {
            code: code.clone(),
            issuing: true,
            message: None,
        };
        let api = self.api.clone();
        let tx = self.int_tx.clone();
        let deadline = Instant::now() + self.settings.issue_deadline;
        self.issue_task = Some(tokio::spawn(async move {
            let result = issue_with_retries(&*api, &pending, deadline).await;
            let _ = tx.send(Internal::Issued {
                key: pending.key,
                result,
            });
        }));
    }

    fn on_internal(&mut self, msg: Internal) {
        match msg {
            Internal::Up { hall, services } => {
                let was_down = !self.model.connected;
                self.apply_hall(hall);
                self.model.services = services;
                self.model.connected = true;
                if was_down {
                    tracing::info!("server reachable");
                    self.report(
                        self.reported
                            .clone()
                            .unwrap_or_else(|| printer::ok_state(self.printer.present())),
                        true,
                    );
                }
            }
            Internal::Down(e) => {
                if self.model.connected {
                    tracing::warn!("server unreachable: {e}");
                }
                self.model.connected = false;
                if let Flow::Guide { issuing: true, .. } = self.model.flow {
                    if let Some(task) = self.issue_task.take() {
                        task.abort();
                    }
                    self.go_home(true);
                }
            }
            Internal::Event(msg) => self.on_event(msg.event),
            Internal::Refreshed { hall, services } => {
                if let Some(hall) = hall {
                    self.apply_hall(hall);
                }
                if let Some(services) = services {
                    self.model.services = services;
                }
            }
            Internal::Issued { key, result } => self.on_issued(&key, result),
            Internal::Notified(result) => {
                let Flow::Notify {
                    digits,
                    busy,
                    message,
                    done,
                    ..
                } = &mut self.model.flow
                else {
                    return;
                };
                *busy = false;
                match result {
                    Ok(r) => {
                        // The number leaves the kiosk's memory once the server has it.
                        digits.clear();
                        *done = Some(r.mobile);
                        self.printed_at = Some(Instant::now());
                    }
                    Err(e) => {
                        *message = Some(match e.code() {
                            Some("invalid_mobile") => NotifyMessage::InvalidMobile,
                            _ => NotifyMessage::TryAgain,
                        });
                    }
                }
            }
            Internal::BookingCheckedIn { result, booking } => {
                if !self.check_in_answered() {
                    return;
                }
                match result {
                    Ok(ticket) => {
                        tracing::info!(ticket = %ticket.number, "appointment checked in");
                        self.show_ticket(ticket);
                    }
                    Err(e) => {
                        let b = booking.unwrap_or_default();
                        self.check_in_refused(match e.code() {
                            Some("unknown_booking") => CheckInMessage::UnknownCode,
                            Some("too_early") => CheckInMessage::TooEarly {
                                opens: b.checkin_opens.unwrap_or_default(),
                            },
                            Some("booking_late") => CheckInMessage::Late {
                                closed: b.checkin_closes.unwrap_or_default(),
                                service: b.service,
                            },
                            Some("booking_cancelled") => CheckInMessage::Cancelled,
                            _ => CheckInMessage::TryAgain,
                        });
                    }
                }
            }
            Internal::CheckedIn(result) => {
                if !self.check_in_answered() {
                    return;
                }
                match result {
                    Ok(done) => {
                        self.model.flow = Flow::CheckedIn {
                            number: done.number,
                        };
                        self.printed_at = Some(Instant::now());
                    }
                    Err(e) => self.check_in_refused(match e.code() {
                        Some("unknown_ticket" | "invalid_number") => CheckInMessage::UnknownCode,
                        Some("already_checked_in") => CheckInMessage::Already,
                        Some("not_waiting" | "not_remote") => CheckInMessage::NotWaiting,
                        _ => CheckInMessage::TryAgain,
                    }),
                }
            }
            Internal::DeskJobs(result) => self.on_desk_jobs(result),
            Internal::DeskPrinted { id, result } => {
                self.desk_printing.remove(&id);
                match result {
                    Ok(()) => self.report(printer::ok_state(true), false),
                    Err(e) => {
                        tracing::error!(job = id, "printing the desk's ticket failed: {e}");
                        self.report(e.device_state(), false);
                    }
                }
            }
            Internal::Printed { number, result } => {
                let Flow::Ticket { ticket, print } = &mut self.model.flow else {
                    return;
                };
                if ticket.number.as_str() != number {
                    return;
                }
                match result {
                    Ok(()) => {
                        *print = PrintState::Printed;
                        self.printed_at = Some(Instant::now());
                        self.report(printer::ok_state(true), false);
                    }
                    Err(e) => {
                        tracing::error!(ticket = %number, "printing failed: {e}");
                        *print = PrintState::Failed;
                        self.last_touch = Instant::now();
                        self.report(e.device_state(), false);
                    }
                }
            }
        }
        self.leave_guide_if_blocked();
    }

    /// An emergency, the hall closing or the server going away ends a customer's visit to
    /// a guide (but never takes away a ticket already issued).
    fn leave_guide_if_blocked(&mut self) {
        if let Flow::Guide { issuing: false, .. } = self.model.flow
            && view::condition(&self.model).is_some()
        {
            self.go_home(true);
        }
    }

    fn apply_hall(&mut self, hall: HallInfo) {
        self.model.open = hall.open;
        self.model.emergency = hall.emergency.clone();
        self.model.notices = hall.notices.clone();
        self.model.hall = Some(hall);
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Snapshot {
                waiting,
                notices,
                emergency,
                open,
                ..
            } => {
                for w in waiting {
                    self.set_waiting(w.service, w.waiting);
                }
                self.model.notices = notices;
                self.model.emergency = emergency;
                self.model.open = open;
                self.want_refresh(false);
            }
            Event::Issued { service, waiting } | Event::Waiting { service, waiting } => {
                self.set_waiting(service, waiting);
                self.want_refresh(false);
            }
            Event::Called { call, waiting } => {
                self.set_waiting(call.service, waiting);
                self.want_refresh(false);
            }
            Event::Window { .. } => self.want_refresh(false),
            Event::Notice { notices } => self.model.notices = notices,
            Event::Emergency { message } => {
                let ended = message.is_none() && self.model.emergency.is_some();
                self.model.emergency = message;
                if ended {
                    // Whether the hall is open again depends on the hours: ask.
                    self.want_refresh(true);
                }
            }
            Event::Services { open } => {
                self.model.open = open;
                self.want_refresh(true);
            }
            Event::Recalled { .. } | Event::Cleared { .. } => {}
        }
    }

    fn set_waiting(&mut self, service: qhall_shared::ServiceCode, waiting: u32) {
        if let Some(s) = self.model.services.iter_mut().find(|s| s.code == service) {
            s.waiting = waiting;
        }
    }

    /// Estimates and opening hours are not on the stream; they are refetched after the
    /// events that change them, at most every `refresh_every` (not polled).
    fn want_refresh(&mut self, hall_too: bool) {
        let at = (self.last_refresh + self.settings.refresh_every).max(Instant::now());
        self.refresh_due = Some(match self.refresh_due {
            Some((t, h)) => (t.min(at), h || hall_too),
            None => (at, hall_too),
        });
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        self.poll_desk(now);
        if let Some((at, hall_too)) = self.refresh_due
            && now >= at
            && self.model.connected
        {
            self.refresh_due = None;
            self.last_refresh = now;
            let api = self.api.clone();
            let tx = self.int_tx.clone();
            tokio::spawn(async move {
                let hall = if hall_too {
                    api.hall().await.ok()
                } else {
                    None
                };
                let services = api.services().await.ok();
                let _ = tx.send(Internal::Refreshed { hall, services });
            });
        }
        let idle = now.duration_since(self.last_touch) >= self.settings.idle;
        // A finished screen (the ticket printed, a check-in, a number registered) stays this
        // long after it finished or was last touched.
        let lingered = now.duration_since(
            self.printed_at
                .unwrap_or(self.last_touch)
                .max(self.last_touch),
        ) >= self.settings.ticket_linger;
        match &self.model.flow {
            Flow::Guide { issuing: false, .. } if idle => self.go_home(true),
            Flow::CheckIn { busy: false, .. } if idle => self.go_home(true),
            Flow::Notify {
                busy: false,
                done: None,
                ..
            } if idle => self.go_home(true),
            Flow::Ticket {
                print: PrintState::Failed,
                ..
            } if idle => self.go_home(true),
            Flow::Notify { done: Some(_), .. }
            | Flow::CheckedIn { .. }
            | Flow::Ticket {
                print: PrintState::Printed | PrintState::NoPrinter,
                ..
            } if lingered => self.go_home(true),
            Flow::Home if idle && self.model.lang != self.settings.default_lang => {
                self.model.lang = self.settings.default_lang;
            }
            _ => {}
        }
    }

    /// A check-in's answer came: whether the check-in screen is still up (then no longer busy).
    fn check_in_answered(&mut self) -> bool {
        match &mut self.model.flow {
            Flow::CheckIn { busy, .. } => {
                *busy = false;
                true
            }
            _ => false,
        }
    }

    /// The check-in was refused: the code typed is cleared and `why` is shown.
    fn check_in_refused(&mut self, why: CheckInMessage) {
        if let Flow::CheckIn { code, message, .. } = &mut self.model.flow {
            code.clear();
            *message = Some(why);
        }
    }

    /// The ticket screen for `ticket`, printing it if there is a printer.
    fn show_ticket(&mut self, ticket: IssuedTicket) {
        self.last_touch = Instant::now();
        if self.printer.present() {
            let job = view::print_job(&self.model, &ticket);
            let printer = self.printer.clone();
            let tx = self.int_tx.clone();
            let number = ticket.number.to_string();
            let lock = self.print_lock.clone();
            tokio::task::spawn_blocking(move || {
                let result = print_one(&lock, &*printer, &job);
                let _ = tx.send(Internal::Printed { number, result });
            });
            self.model.flow = Flow::Ticket {
                ticket,
                print: PrintState::Printing,
            };
        } else {
            self.printed_at = Some(Instant::now());
            self.model.flow = Flow::Ticket {
                ticket,
                print: PrintState::NoPrinter,
            };
        }
    }

    fn on_issued(&mut self, key: &str, result: Result<IssuedTicket, ApiError>) {
        self.issue_task = None;
        if self.pending.as_ref().map(|p| p.key.as_str()) != Some(key) {
            return;
        }
        let Flow::Guide { code, .. } = &self.model.flow else {
            return;
        };
        let code = code.clone();
        match result {
            Ok(ticket) => {
                self.pending = None;
                tracing::info!(ticket = %ticket.number, service = %ticket.service, "ticket issued");
                self.show_ticket(ticket);
            }
            Err(e) => {
                tracing::warn!(service = %code, "no ticket: {e}");
                let message = match e.code() {
                    Some("emergency") => {
                        self.want_refresh(true);
                        self.model.emergency.get_or_insert_with(String::new);
                        None
                    }
                    Some("service_closed") | Some("hall_closed") | Some("closed") => {
                        self.pending = None;
                        self.want_refresh(true);
                        Some(GuideMessage::ServiceClosed)
                    }
                    _ => Some(GuideMessage::TryAgain),
                };
                if e.code() == Some("service_closed")
                    && let Some(s) = self
                        .model
                        .services
                        .iter_mut()
                        .find(|s| s.code.as_str() == code)
                {
                    s.open = false;
                }
                self.model.flow = Flow::Guide {
                    code,
                    issuing: false,
                    message,
                };
                self.last_touch = Instant::now();
            }
        }
    }

    /// Asks for the desk's jobs every [`DESK_POLL`] while connected with a printer.
    fn poll_desk(&mut self, now: Instant) {
        let due = self
            .desk_polled
            .is_some_and(|at| now.duration_since(at) >= DESK_POLL);
        if !due || !self.model.connected || !self.printer.present() {
            return;
        }
        self.desk_polled = None;
        let api = self.api.clone();
        let tx = self.int_tx.clone();
        tokio::spawn(async move {
            let _ = tx.send(Internal::DeskJobs(api.print_jobs().await));
        });
    }

    /// Prints the desk's new jobs (in the kiosk's own language; the customer at the screen is
    /// not disturbed) and tells the server how each came out.
    fn on_desk_jobs(&mut self, result: Result<Vec<DeskPrint>, ApiError>) {
        self.desk_polled = Some(Instant::now());
        let jobs = match result {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::debug!("could not ask for the desk's print jobs: {e}");
                return;
            }
        };
        for job in jobs {
            if !self.desk_printing.insert(job.id) {
                continue;
            }
            let paper = view::print_job(
                &Model {
                    lang: self.settings.default_lang,
                    ..self.model.clone()
                },
                &job.ticket,
            );
            let (printer, lock) = (self.printer.clone(), self.print_lock.clone());
            let (api, tx, id) = (self.api.clone(), self.int_tx.clone(), job.id);
            tokio::spawn(async move {
                let result =
                    tokio::task::spawn_blocking(move || print_one(&lock, &*printer, &paper))
                        .await
                        .unwrap_or_else(|e| Err(PrintError::Write(e.to_string())));
                let done = PrintJobDone {
                    printed: result.is_ok(),
                    detail: result.as_ref().err().map(|e| e.device_state().printer),
                };
                // Told until the server has heard it (it answers the same to a repeat).
                for _ in 0..5 {
                    match api.print_job_done(id, &done).await {
                        Err(e) if e.is_transient() => {
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                        _ => break,
                    }
                }
                let _ = tx.send(Internal::DeskPrinted { id, result });
            });
        }
    }

    /// Tells the server about the printer when its state changed (and after reconnecting).
    fn report(&mut self, state: DeviceState, force: bool) {
        if !force && self.reported.as_ref() == Some(&state) {
            return;
        }
        self.reported = Some(state.clone());
        let api = self.api.clone();
        tokio::spawn(async move {
            if let Err(e) = api.report_device(&state).await {
                tracing::warn!("could not report the printer state: {e}");
            }
        });
    }
}

/// Prints `job`, one ticket at a time.
fn print_one<P: Printer>(
    lock: &std::sync::Mutex<()>,
    printer: &P,
    job: &printer::PrintJob,
) -> Result<(), PrintError> {
    let _one_at_a_time = lock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    printer.print(job)
}

/// Asks for the ticket until the server answers, retrying transient failures with the
/// same key until `deadline`.
async fn issue_with_retries<A: KioskApi>(
    api: &A,
    pending: &Pending,
    deadline: Instant,
) -> Result<IssuedTicket, ApiError> {
    let mut backoff = Duration::from_millis(200);
    loop {
        match api.issue(&pending.request, &pending.key).await {
            Err(e) if e.is_transient() && Instant::now() + backoff < deadline => {
                tracing::info!("ticket request not answered ({e}); retrying with the same key");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
            other => return other,
        }
    }
}

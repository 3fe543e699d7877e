//! What the screen shows, computed from what the kiosk knows ([`render`]). Pure: the
//! adapter copies a [`View`] into the Slint globals, the tests read it directly.

use chrono::{DateTime, Datelike, Utc};
use qhall_shared::api::{HallInfo, IssuedTicket, ServiceInfo};

use crate::i18n::{self, Lang};

/// Which screen fills the kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Screen {
    #[default]
    Home,
    Guide,
    Ticket,
    PrintFailed,
    Closed,
    Emergency,
    OutOfService,
    /// A customer who took a ticket on their phone types its code or scans it.
    CheckIn,
    /// ... and is told it worked.
    CheckedIn,
    /// The number pad for "text me when my turn is near".
    Notify,
}

/// How the ticket's printing is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrintState {
    #[default]
    Printing,
    Printed,
    /// The kiosk has no printer: the customer notes the number or scans the code.
    NoPrinter,
    Failed,
}

/// One service button on the home screen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceCard {
    pub code: String,
    pub name: String,
    /// "12 waiting · about 10–15 min" when open, "Closed · opens 13:00" when not.
    pub detail: String,
    pub open: bool,
    pub priority_allowed: bool,
}

/// The guide of the service the customer touched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GuideView {
    pub code: String,
    pub name: String,
    pub guide: String,
    pub waiting: String,
    pub wait: String,
    pub open: bool,
    pub priority_allowed: bool,
    /// A request is on its way: the take-ticket buttons are disabled.
    pub issuing: bool,
    /// Why the last attempt did not give a ticket, if it did not.
    pub message: String,
}

/// The ticket just issued.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TicketCard {
    pub number: String,
    pub service: String,
    pub priority: bool,
    pub ahead: String,
    pub wait: String,
    /// Branch-local `HH:MM`.
    pub time: String,
    /// An appointment's ticket: "Appointment 10:00"; else empty.
    pub appointment: String,
    pub tracking_url: String,
    pub print: PrintState,
}

/// The closed screen's hours.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClosedView {
    /// "08:30–12:00 · 13:00–17:30", or the "closed today" sentence.
    pub today: String,
    /// "tomorrow 08:30", "Mon 3/2 08:30", or empty when unknown.
    pub next: String,
}

/// Everything on screen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct View {
    pub screen: Screen,
    pub lang: Lang,
    pub hall_name: String,
    /// Branch-local `HH:MM`.
    pub clock: String,
    /// Branch-local date with weekday.
    pub date: String,
    pub notices: Vec<String>,
    pub services: Vec<ServiceCard>,
    pub guide: GuideView,
    pub ticket: TicketCard,
    pub closed: ClosedView,
    pub emergency: String,
    /// Some service takes tickets from phones: the home screen offers the check-in.
    pub check_in_offered: bool,
    /// Some service takes bookings: the home screen offers "I have an appointment".
    pub booking_offered: bool,
    pub check_in: CheckInView,
    /// The hall sends texts: the ticket screen offers "text me when my turn is near".
    pub notify_offered: bool,
    pub notify: NotifyView,
}

/// The number pad for "text me when my turn is near".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotifyView {
    /// The digits typed so far.
    pub digits: String,
    pub busy: bool,
    /// Why the last attempt failed, if it did.
    pub message: String,
    /// Once registered: "we will text 138****8000".
    pub done: String,
    /// The ticket it is for.
    pub number: String,
}

/// The shortest and longest mobile number the pad takes.
pub const NOTIFY_MIN_DIGITS: usize = 6;
pub const NOTIFY_MAX_DIGITS: usize = 15;

/// The check-in screen: the code typed so far, and what happened.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckInView {
    /// Checking in a booking (else a ticket taken on a phone).
    pub booking: bool,
    /// The code's length: 6 for a phone's ticket, 9 for a booking.
    pub code_len: usize,
    pub title: String,
    pub hint: String,
    /// Late for an appointment: the button that takes a normal ticket instead.
    pub offer: String,
    pub code: String,
    /// A check-in is on its way.
    pub busy: bool,
    /// Why the last attempt failed, if it did.
    pub message: String,
    /// The ticket checked in (the checked-in screen).
    pub number: String,
}

/// A check-in code's length (the server's `hall::remote::CODE_LEN`).
pub const CHECK_IN_CODE_LEN: usize = 6;

/// The length of the code the check-in screen takes.
pub fn code_len(booking: bool) -> usize {
    if booking {
        qhall_shared::booking::CODE_LEN
    } else {
        CHECK_IN_CODE_LEN
    }
}
/// The keys of the check-in keyboard: the code's alphabet, without look-alike characters.
pub const CHECK_IN_KEYS: &str = qhall_shared::booking::CODE_CHARS;

/// The customer's place in the kiosk's flow, beneath any hall-wide condition.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum Flow {
    #[default]
    Home,
    Guide {
        code: String,
        issuing: bool,
        message: Option<GuideMessage>,
    },
    Ticket {
        ticket: IssuedTicket,
        print: PrintState,
    },
    /// Checking in a ticket taken on a phone, or (`booking`) an appointment.
    CheckIn {
        booking: bool,
        code: String,
        busy: bool,
        message: Option<CheckInMessage>,
    },
    /// Checked in: the ticket's number, for a moment.
    CheckedIn { number: String },
    /// The number pad for "text me when my turn is near", over the ticket just issued (the
    /// ticket screen comes back as it was).
    Notify {
        ticket: IssuedTicket,
        print: PrintState,
        digits: String,
        busy: bool,
        message: Option<NotifyMessage>,
        /// Registered: the number, masked.
        done: Option<String>,
    },
}

/// Why the guide screen shows a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GuideMessage {
    /// The server refused: the service is closed now.
    ServiceClosed,
    /// No ticket after all retries.
    TryAgain,
}

/// Why the number pad shows a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotifyMessage {
    InvalidMobile,
    TryAgain,
}

/// Why the check-in screen shows a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CheckInMessage {
    UnknownCode,
    Already,
    NotWaiting,
    TryAgain,
    /// A booking's check-in opens at `opens` (`HH:MM`).
    TooEarly {
        opens: String,
    },
    /// A booking's check-in closed at `closed`: a normal ticket of `service` is offered.
    Late {
        closed: String,
        service: String,
    },
    Cancelled,
}

/// What the kiosk knows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Model {
    pub lang: Lang,
    pub hall: Option<HallInfo>,
    pub services: Vec<ServiceInfo>,
    pub notices: Vec<qhall_shared::api::Notice>,
    pub emergency: Option<String>,
    /// Tickets can be taken now (hall inside hours, before the cut-off).
    pub open: bool,
    /// The server answers and the event stream is up.
    pub connected: bool,
    pub flow: Flow,
}

/// A hall-wide condition that takes the whole screen unless the customer already holds a
/// ticket.
pub(crate) fn condition(m: &Model) -> Option<Screen> {
    if !m.connected {
        Some(Screen::OutOfService)
    } else if m.emergency.is_some() {
        Some(Screen::Emergency)
    } else if !m.open {
        Some(Screen::Closed)
    } else {
        None
    }
}

fn tz(m: &Model) -> chrono_tz::Tz {
    m.hall
        .as_ref()
        .and_then(|h| h.time_zone.parse().ok())
        .unwrap_or(chrono_tz::UTC)
}

fn hhmm(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz).format("%H:%M").to_string()
}

fn date(lang: Lang, now: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    let d = now.with_timezone(&tz);
    let wd = i18n::weekday(lang, d.weekday());
    match lang {
        Lang::Zh | Lang::ZhHant => format!("{}月{}日 {wd}", d.month(), d.day()),
        Lang::En => format!("{wd} {} {}", d.day(), d.format("%b")),
    }
}

/// "tomorrow 08:30", "13:00" (today), "Mon 3 Feb 08:30".
fn when(lang: Lang, at: DateTime<Utc>, now: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    let (at, now) = (at.with_timezone(&tz), now.with_timezone(&tz));
    let time = at.format("%H:%M");
    let days = (at.date_naive() - now.date_naive()).num_days();
    let t = i18n::texts(lang);
    match days {
        ..=0 => time.to_string(),
        1 => format!("{} {time}", t.tomorrow),
        _ => match lang {
            Lang::Zh | Lang::ZhHant => {
                format!(
                    "{}月{}日 {} {time}",
                    at.month(),
                    at.day(),
                    i18n::weekday(lang, at.weekday())
                )
            }
            Lang::En => format!(
                "{} {} {} {time}",
                i18n::weekday(lang, at.weekday()),
                at.day(),
                at.format("%b")
            ),
        },
    }
}

fn closed_detail(lang: Lang, s: &ServiceInfo, now: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    let t = i18n::texts(lang);
    match s.opens_at {
        Some(at) => match lang {
            Lang::Zh | Lang::ZhHant => {
                format!("{} · {} {}", t.closed, when(lang, at, now, tz), t.opens)
            }
            Lang::En => format!("{} · {} {}", t.closed, t.opens, when(lang, at, now, tz)),
        },
        None => t.closed.to_owned(),
    }
}

fn service_card(lang: Lang, s: &ServiceInfo, now: DateTime<Utc>, tz: chrono_tz::Tz) -> ServiceCard {
    let detail = if s.open {
        format!(
            "{} · {}",
            i18n::waiting(lang, s.waiting),
            i18n::wait(lang, s.estimated_wait_secs)
        )
    } else {
        closed_detail(lang, s, now, tz)
    };
    ServiceCard {
        code: s.code.to_string(),
        name: s.name.get(lang.code()).to_owned(),
        detail,
        open: s.open,
        priority_allowed: s.priority_allowed,
    }
}

/// The screen for what the kiosk knows at `now`.
pub(crate) fn render(m: &Model, now: DateTime<Utc>) -> View {
    let lang = m.lang;
    let t = i18n::texts(lang);
    let tz = tz(m);
    let screen = match (&m.flow, condition(m)) {
        (
            Flow::Ticket {
                print: PrintState::Failed,
                ..
            },
            _,
        ) => Screen::PrintFailed,
        (Flow::Ticket { .. }, _) => Screen::Ticket,
        (Flow::CheckedIn { .. }, _) => Screen::CheckedIn,
        (Flow::Notify { .. }, Some(Screen::OutOfService)) => Screen::OutOfService,
        (Flow::Notify { .. }, _) => Screen::Notify,
        (Flow::CheckIn { busy: true, .. }, Some(Screen::OutOfService)) => Screen::OutOfService,
        (Flow::CheckIn { busy: true, .. }, _) => Screen::CheckIn,
        (Flow::Guide { issuing: true, .. }, Some(Screen::OutOfService)) => Screen::OutOfService,
        (Flow::Guide { issuing: true, .. }, _) => Screen::Guide,
        (_, Some(c)) => c,
        (Flow::Guide { .. }, None) => Screen::Guide,
        (Flow::CheckIn { .. }, None) => Screen::CheckIn,
        (Flow::Home, None) => Screen::Home,
    };
    let mut view = View {
        screen,
        lang,
        hall_name: m
            .hall
            .as_ref()
            .map(|h| h.name.get(lang.code()).to_owned())
            .unwrap_or_else(|| "Qhall".into()),
        clock: hhmm(now, tz),
        date: date(lang, now, tz),
        notices: m
            .notices
            .iter()
            .map(|n| n.text.get(lang.code()).to_owned())
            .collect(),
        services: m
            .services
            .iter()
            .map(|s| service_card(lang, s, now, tz))
            .collect(),
        emergency: m.emergency.clone().unwrap_or_default(),
        check_in_offered: m.services.iter().any(|s| s.remote_tickets),
        booking_offered: m.services.iter().any(|s| s.appointments),
        notify_offered: m.hall.as_ref().is_some_and(|h| h.messages),
        ..View::default()
    };
    match &m.flow {
        Flow::CheckIn {
            booking,
            code,
            busy,
            message,
        } => {
            let (title, hint) = if *booking {
                (t.booking_title, t.booking_hint)
            } else {
                (t.check_in_title, t.check_in_hint)
            };
            view.check_in = CheckInView {
                booking: *booking,
                code_len: code_len(*booking),
                title: title.to_owned(),
                hint: hint.to_owned(),
                offer: match message {
                    Some(CheckInMessage::Late { .. }) => t.take_normal_ticket.to_owned(),
                    _ => String::new(),
                },
                code: code.clone(),
                busy: *busy,
                message: match message {
                    Some(CheckInMessage::UnknownCode) => t.unknown_code.to_owned(),
                    Some(CheckInMessage::Already) => t.already_checked_in.to_owned(),
                    Some(CheckInMessage::NotWaiting) => t.not_waiting.to_owned(),
                    Some(CheckInMessage::TryAgain) => t.try_again.to_owned(),
                    Some(CheckInMessage::TooEarly { opens }) => {
                        t.booking_too_early.replace("{time}", opens)
                    }
                    Some(CheckInMessage::Late { closed, .. }) => {
                        t.booking_late.replace("{time}", closed)
                    }
                    Some(CheckInMessage::Cancelled) => t.booking_cancelled.to_owned(),
                    None => String::new(),
                },
                number: String::new(),
            };
        }
        Flow::CheckedIn { number } => {
            view.check_in.number = number.clone();
        }
        Flow::Notify {
            ticket,
            digits,
            busy,
            message,
            done,
            ..
        } => {
            view.notify = NotifyView {
                digits: digits.clone(),
                busy: *busy,
                message: match message {
                    Some(NotifyMessage::InvalidMobile) => t.invalid_mobile.to_owned(),
                    Some(NotifyMessage::TryAgain) => t.try_again.to_owned(),
                    None => String::new(),
                },
                done: done
                    .as_ref()
                    .map(|m| t.notify_done.replace("{mobile}", m))
                    .unwrap_or_default(),
                number: ticket.number.to_string(),
            };
        }
        _ => {}
    }
    if let Flow::Guide {
        code,
        issuing,
        message,
    } = &m.flow
        && let Some(s) = m.services.iter().find(|s| s.code.as_str() == code)
    {
        let guide = s.guide.get(lang.code());
        view.guide = GuideView {
            code: code.clone(),
            name: s.name.get(lang.code()).to_owned(),
            guide: if guide.is_empty() {
                t.no_guide.to_owned()
            } else {
                guide.to_owned()
            },
            waiting: i18n::waiting(lang, s.waiting),
            wait: if s.open {
                i18n::wait(lang, s.estimated_wait_secs)
            } else {
                closed_detail(lang, s, now, tz)
            },
            open: s.open,
            priority_allowed: s.priority_allowed,
            issuing: *issuing,
            message: match message {
                Some(GuideMessage::ServiceClosed) => t.service_closed_now.to_owned(),
                Some(GuideMessage::TryAgain) => t.try_again.to_owned(),
                None => String::new(),
            },
        };
    }
    if let Flow::Ticket { ticket, print } = &m.flow {
        let service = if ticket.service_name.en.is_empty() && ticket.service_name.zh.is_empty() {
            m.services
                .iter()
                .find(|s| s.code == ticket.service)
                .map(|s| s.name.get(lang.code()).to_owned())
                .unwrap_or_else(|| ticket.service.to_string())
        } else {
            ticket.service_name.get(lang.code()).to_owned()
        };
        view.ticket = TicketCard {
            number: ticket.number.to_string(),
            service,
            priority: ticket.priority,
            ahead: i18n::ahead(lang, ticket.ahead),
            wait: i18n::wait(lang, ticket.estimated_wait_secs),
            time: hhmm(ticket.issued_at, tz),
            appointment: ticket
                .appointment
                .as_ref()
                .map(|a| t.appointment_at.replace("{time}", &hhmm(a.start, tz)))
                .unwrap_or_default(),
            tracking_url: ticket.tracking_url.clone(),
            print: *print,
        };
    }
    if let Some(h) = &m.hall {
        view.closed.today = if h.today.is_empty() {
            t.closed_today.to_owned()
        } else {
            h.today
                .iter()
                .map(|(a, b)| format!("{a}–{b}"))
                .collect::<Vec<_>>()
                .join("  ·  ")
        };
        view.closed.next = h
            .opens_at
            .filter(|at| *at > now)
            .map(|at| when(lang, at, now, tz))
            .unwrap_or_default();
    }
    view
}

/// The ticket as printed, in the customer's language.
pub(crate) fn print_job(m: &Model, ticket: &IssuedTicket) -> crate::printer::PrintJob {
    let view = render(
        &Model {
            flow: Flow::Ticket {
                ticket: ticket.clone(),
                print: PrintState::Printing,
            },
            ..m.clone()
        },
        ticket.issued_at,
    );
    let lang = m.lang;
    let t = i18n::texts(lang);
    let tz = tz(m);
    let guide_line = ticket.guide_line.get(lang.code());
    crate::printer::PrintJob {
        hall: view.hall_name,
        number_label: t.your_number.to_owned(),
        number: view.ticket.number,
        priority: ticket.priority.then(|| t.priority_ticket.to_owned()),
        appointment: (!view.ticket.appointment.is_empty()).then(|| view.ticket.appointment.clone()),
        service: view.ticket.service,
        ahead: view.ticket.ahead,
        wait: format!("{} {}", i18n::wait_label(lang), view.ticket.wait),
        issued_at: ticket
            .issued_at
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        guide_line: (!guide_line.is_empty()).then(|| guide_line.to_owned()),
        tracking_url: ticket.tracking_url.clone(),
        scan_hint: t.scan_to_follow.to_owned(),
    }
}

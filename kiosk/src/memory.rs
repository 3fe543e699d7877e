//! An in-memory hall that answers like the server: for the controller tests, the UI tests
//! and the screenshots, which must not depend on a server being up.
//!
//! It keeps the server's promises the kiosk relies on (one ticket per `Idempotency-Key`,
//! `service_closed` for a closed service, a snapshot first on the event stream) and can be
//! told to misbehave: go down, time out after acting, close, declare an emergency.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use qhall_shared::api::{
    AppointmentSlot, BookingSummary, CheckedIn, DeskPrint, DeviceState, HallInfo, IssueTicket,
    IssuedTicket, Localized, Notice, NotifyMe, NotifyRegistered, PrintJobDone, ServiceInfo,
};
use qhall_shared::events::{Event, Message, Waiting};
use qhall_shared::{ServiceCode, TicketNumber};
use tokio::sync::mpsc;

use crate::api::{ApiError, KioskApi};

/// The demo hall's booking for 10:00 today, checked in as Y001.
pub const DEMO_BOOKING: &str = "K7M2P9QXA";
/// A booking whose check-in opens at 10:30.
pub const EARLY_BOOKING: &str = "EARTH2345";
/// A booking whose check-in closed at 09:10.
pub const LATE_BOOKING: &str = "PAST23456";

/// Shared state of the fake hall.
#[derive(Debug, Default)]
struct State {
    hall: Option<HallInfo>,
    /// The demo booking has been checked in (again: the same ticket, reprinted).
    booking_checked_in: bool,
    services: Vec<ServiceInfo>,
    /// Tickets by idempotency key.
    by_key: HashMap<String, IssuedTicket>,
    issued: Vec<IssuedTicket>,
    /// Every key a ticket request came with, in order.
    keys_seen: Vec<String>,
    next_seq: u64,
    counters: HashMap<ServiceCode, u32>,
    down: bool,
    /// The next n ticket requests are carried out but answered with a timeout.
    lose_answers: u32,
    stream: Option<mpsc::Sender<Message>>,
    reports: Vec<DeviceState>,
    now: Option<DateTime<Utc>>,
    /// Tickets the desk sent to this kiosk, and what the kiosk said of each.
    desk: Vec<DeskPrint>,
    desk_done: Vec<(i64, PrintJobDone)>,
}

/// An in-memory hall. Clones share the same hall.
#[derive(Debug, Clone, Default)]
pub struct MemoryApi {
    state: Arc<Mutex<State>>,
}

fn l(zh: &str, zh_hant: &str, en: &str) -> Localized {
    Localized {
        zh: zh.into(),
        zh_hant: zh_hant.into(),
        en: en.into(),
    }
}

impl MemoryApi {
    /// A hall with four services, open, like the demo hall.
    pub fn demo() -> Self {
        let svc = |code: &str,
                   name: Localized,
                   guide: Localized,
                   waiting: u32,
                   est: u64,
                   priority: bool| ServiceInfo {
            code: code.parse().expect("a valid service code"),
            name,
            open: true,
            waiting,
            estimated_wait_secs: est,
            target_wait_secs: 900,
            guide,
            priority_allowed: priority,
            opens_at: None,
            closed_reason: None,
            remote_tickets: code == "A",
            appointments: code == "A",
        };
        let services = vec![
            svc(
                "A",
                l("个人业务", "個人業務", "Personal services"),
                l(
                    "请带：身份证原件。\n步骤：1. 取号等候叫号；2. 到窗口出示证件；3. 核对信息并签字。",
                    "請帶：身分證原件。\n步驟：1. 取號等候叫號；2. 到窗口出示證件；3. 核對資料並簽名。",
                    "Bring: your identity card.\nSteps: 1. Take a ticket and wait for your number; 2. Show your card at the window; 3. Check the details and sign.",
                ),
                12,
                660,
                true,
            ),
            svc(
                "B",
                l("企业业务", "企業業務", "Business services"),
                l(
                    "请带：营业执照、经办人身份证。",
                    "請帶：營業執照、經辦人身分證。",
                    "Bring: business licence and your identity card.",
                ),
                4,
                300,
                false,
            ),
            svc(
                "C",
                l("社保与医保", "社保與醫保", "Social and medical insurance"),
                l(
                    "请带：身份证、社保卡。",
                    "請帶：身分證、社保卡。",
                    "Bring: identity card and social security card.",
                ),
                0,
                0,
                true,
            ),
            ServiceInfo {
                open: false,
                opens_at: Some(
                    DateTime::parse_from_rfc3339("2026-03-02T05:00:00Z")
                        .map(Into::into)
                        .unwrap_or_default(),
                ),
                closed_reason: Some("outside_hours".into()),
                ..svc(
                    "D",
                    l("出入境证件", "出入境證件", "Passports and permits"),
                    l(
                        "请带：身份证、照片回执。",
                        "請帶：身分證、相片回執。",
                        "Bring: identity card and photo receipt.",
                    ),
                    0,
                    0,
                    false,
                )
            },
        ];
        let hall = HallInfo {
            name: l("市民服务中心", "市民服務中心", "Citizen Service Centre"),
            time_zone: "Asia/Shanghai".into(),
            open: true,
            today: vec![
                ("08:30".into(), "12:00".into()),
                ("13:00".into(), "17:30".into()),
            ],
            opens_at: None,
            closes_at: None,
            messages: true,
            notices: vec![Notice {
                id: 1,
                text: l(
                    "5月1日至5日放假，5月6日起正常办公。",
                    "5月1日至5日放假，5月6日起正常辦公。",
                    "Closed 1–5 May; open as usual from 6 May.",
                ),
            }],
            emergency: None,
        };
        let api = MemoryApi::default();
        {
            let mut s = api.lock();
            s.hall = Some(hall);
            s.services = services;
        }
        api
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fixes the issue time of tickets (for stable screenshots).
    pub fn set_now(&self, now: DateTime<Utc>) {
        self.lock().now = Some(now);
    }

    /// Takes the server away (`true`: every call fails, the stream closes) or brings it back.
    pub fn set_down(&self, down: bool) {
        let mut s = self.lock();
        s.down = down;
        if down {
            s.stream = None;
        }
    }

    /// The next `n` ticket requests are carried out, but their answers are lost (timeout).
    pub fn lose_next_answers(&self, n: u32) {
        self.lock().lose_answers = n;
    }

    /// Tickets actually created.
    pub fn issued(&self) -> Vec<IssuedTicket> {
        self.lock().issued.clone()
    }

    /// The `Idempotency-Key` of every ticket request received.
    pub fn keys_seen(&self) -> Vec<String> {
        self.lock().keys_seen.clone()
    }

    /// The printer states the kiosk reported.
    pub fn reports(&self) -> Vec<DeviceState> {
        self.lock().reports.clone()
    }

    /// The reception desk sends `ticket` to this kiosk's printer as job `id`.
    pub fn send_to_printer(&self, id: i64, ticket: IssuedTicket) {
        self.lock().desk.push(DeskPrint { id, ticket });
    }

    /// What the kiosk said of the desk's jobs.
    pub fn desk_done(&self) -> Vec<(i64, PrintJobDone)> {
        self.lock().desk_done.clone()
    }

    fn push(s: &mut State, event: Event) {
        s.next_seq += 1;
        let msg = Message {
            seq: s.next_seq,
            event,
        };
        if let Some(tx) = &s.stream
            && tx.try_send(msg).is_err()
        {
            s.stream = None;
        }
    }

    /// Declares (`Some`) or ends (`None`) an emergency, broadcast like the server does.
    pub fn set_emergency(&self, message: Option<&str>) {
        let mut s = self.lock();
        let message = message.map(str::to_owned);
        if let Some(h) = s.hall.as_mut() {
            h.emergency = message.clone();
        }
        Self::push(&mut s, Event::Emergency { message });
    }

    /// Opens or closes the whole hall (hours), broadcast as a `services` event.
    pub fn set_hall_open(&self, open: bool, opens_at: Option<DateTime<Utc>>) {
        let mut s = self.lock();
        if let Some(h) = s.hall.as_mut() {
            h.open = open;
            h.opens_at = opens_at;
        }
        for svc in &mut s.services {
            svc.open = open;
            svc.opens_at = opens_at;
        }
        Self::push(&mut s, Event::Services { open });
    }

    /// Opens or closes one service without telling the stream (a kiosk learns it when
    /// asking for a ticket).
    pub fn set_service_open_silently(&self, code: &str, open: bool) {
        let mut s = self.lock();
        if let Some(svc) = s.services.iter_mut().find(|svc| svc.code.as_str() == code) {
            svc.open = open;
        }
    }

    /// Another kiosk issued a ticket for `code`: the waiting count goes up on the stream.
    pub fn someone_else_takes(&self, code: &str) {
        let mut s = self.lock();
        let Some(svc) = s.services.iter_mut().find(|svc| svc.code.as_str() == code) else {
            return;
        };
        svc.waiting += 1;
        let (service, waiting) = (svc.code, svc.waiting);
        Self::push(&mut s, Event::Issued { service, waiting });
    }

    fn check_up(&self) -> Result<(), ApiError> {
        if self.lock().down {
            Err(ApiError::Unreachable("connection refused".into()))
        } else {
            Ok(())
        }
    }
}

impl KioskApi for MemoryApi {
    async fn notify(
        &self,
        _ticket_id: &str,
        request: &NotifyMe,
    ) -> Result<NotifyRegistered, ApiError> {
        self.check_up()?;
        let digits: String = request
            .mobile
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        if !(6..=15).contains(&digits.len()) {
            return Err(ApiError::Rejected {
                status: 422,
                code: "invalid_mobile".into(),
                message: "give a mobile number of 6 to 15 digits".into(),
            });
        }
        Ok(NotifyRegistered {
            mobile: format!("{}****{}", &digits[..3], &digits[digits.len() - 4..]),
            lang: request.lang.clone(),
            notify_ahead: 3,
        })
    }

    async fn check_in(&self, code: &str) -> Result<CheckedIn, ApiError> {
        self.check_up()?;
        // The demo hall's one remote ticket: code K7M2QP, ticket A021.
        if code.trim().eq_ignore_ascii_case("K7M2QP") || code.contains("/t/remote-demo") {
            Ok(CheckedIn {
                number: "A021".into(),
                service: "A".into(),
                checked_in: true,
            })
        } else {
            Err(ApiError::Rejected {
                status: 404,
                code: "unknown_ticket".into(),
                message: "no ticket has that code".into(),
            })
        }
    }

    async fn check_in_booking(&self, code: &str) -> Result<IssuedTicket, ApiError> {
        self.check_up()?;
        let refuse = |status: u16, code: &str, message: &str| ApiError::Rejected {
            status,
            code: code.into(),
            message: message.into(),
        };
        // The demo hall's bookings: one for 10:00 (checked in as Y001), one too early, one late.
        match qhall_shared::booking::code_in(code).as_deref() {
            Some(DEMO_BOOKING) => {
                let mut s = self.lock();
                let reprint = s.booking_checked_in;
                s.booking_checked_in = true;
                let name = s
                    .services
                    .iter()
                    .find(|svc| svc.code.as_str() == "A")
                    .map(|svc| svc.name.clone())
                    .unwrap_or_default();
                let issued_at = s.now.unwrap_or_else(Utc::now);
                Ok(IssuedTicket {
                    id: "appointment-demo-ticket".into(),
                    number: TicketNumber::format("Y".parse().expect("a letter"), 1, 3),
                    service: "A".parse().expect("a letter"),
                    issued_at,
                    ahead: 0,
                    estimated_wait_secs: 120,
                    tracking_url: "http://127.0.0.1:8080/t/appointment-demo-ticket".into(),
                    priority: false,
                    service_name: name,
                    guide_line: Localized::default(),
                    appointment: Some(AppointmentSlot {
                        start: DateTime::parse_from_rfc3339("2026-03-02T02:00:00Z")
                            .map(Into::into)
                            .unwrap_or(issued_at),
                        time: "10:00".into(),
                        reprint,
                    }),
                    print_job: None,
                })
            }
            Some(EARLY_BOOKING) => Err(refuse(409, "too_early", "check-in opens at 10:30")),
            Some(LATE_BOOKING) => Err(refuse(409, "booking_late", "check-in closed at 09:10")),
            _ => Err(refuse(
                404,
                "unknown_booking",
                "there is no booking with that code",
            )),
        }
    }

    async fn booking(&self, code: &str) -> Result<BookingSummary, ApiError> {
        self.check_up()?;
        let code = qhall_shared::booking::code_in(code).unwrap_or_default();
        let (state, time, opens, closes) = match code.as_str() {
            EARLY_BOOKING => ("booked", "11:00", "10:30", "11:10"),
            LATE_BOOKING => ("late", "09:00", "08:30", "09:10"),
            DEMO_BOOKING => ("checked_in", "10:00", "09:30", "10:10"),
            _ => {
                return Err(ApiError::Rejected {
                    status: 404,
                    code: "unknown_booking".into(),
                    message: "there is no booking with that code".into(),
                });
            }
        };
        Ok(BookingSummary {
            code,
            service: "A".into(),
            state: state.into(),
            time: Some(time.into()),
            checkin_opens: Some(opens.into()),
            checkin_closes: Some(closes.into()),
        })
    }

    async fn hall(&self) -> Result<HallInfo, ApiError> {
        self.check_up()?;
        self.lock()
            .hall
            .clone()
            .ok_or_else(|| ApiError::Unreachable("no hall".into()))
    }

    async fn services(&self) -> Result<Vec<ServiceInfo>, ApiError> {
        self.check_up()?;
        Ok(self.lock().services.clone())
    }

    async fn issue(&self, request: &IssueTicket, key: &str) -> Result<IssuedTicket, ApiError> {
        self.check_up()?;
        let mut s = self.lock();
        s.keys_seen.push(key.to_owned());
        let ticket = if let Some(t) = s.by_key.get(key) {
            t.clone()
        } else {
            if s.hall.as_ref().is_some_and(|h| h.emergency.is_some()) {
                return Err(ApiError::Rejected {
                    status: 409,
                    code: "emergency".into(),
                    message: "paused".into(),
                });
            }
            let Some(svc) = s
                .services
                .iter()
                .find(|svc| svc.code.as_str() == request.service)
                .cloned()
            else {
                return Err(ApiError::Rejected {
                    status: 422,
                    code: "unknown_service".into(),
                    message: "no such service".into(),
                });
            };
            if !svc.open {
                return Err(ApiError::Rejected {
                    status: 409,
                    code: "service_closed".into(),
                    message: "the service is closed".into(),
                });
            }
            let n = s.counters.entry(svc.code).or_insert(0);
            *n += 1;
            let number = TicketNumber::format(svc.code, *n, 3);
            let ahead = svc.waiting;
            let ticket = IssuedTicket {
                id: format!("t{}", s.issued.len() + 1),
                number,
                service: svc.code,
                issued_at: s.now.unwrap_or_else(Utc::now),
                ahead,
                estimated_wait_secs: svc.estimated_wait_secs.max(60 * u64::from(ahead)),
                tracking_url: format!(
                    "http://127.0.0.1:8080/t/{:016x}",
                    0x5eed_0000_u64 + s.issued.len() as u64
                ),
                priority: request.priority,
                service_name: svc.name,
                guide_line: Localized::default(),
                appointment: None,
                print_job: None,
            };
            s.by_key.insert(key.to_owned(), ticket.clone());
            s.issued.push(ticket.clone());
            if let Some(svc) = s.services.iter_mut().find(|x| x.code == ticket.service) {
                svc.waiting += 1;
            }
            let waiting = ahead + 1;
            Self::push(
                &mut s,
                Event::Issued {
                    service: ticket.service,
                    waiting,
                },
            );
            ticket
        };
        if s.lose_answers > 0 {
            s.lose_answers -= 1;
            return Err(ApiError::Timeout);
        }
        Ok(ticket)
    }

    async fn print_jobs(&self) -> Result<Vec<DeskPrint>, ApiError> {
        self.check_up()?;
        let s = self.lock();
        Ok(s.desk
            .iter()
            .filter(|j| !s.desk_done.iter().any(|d| d.0 == j.id))
            .cloned()
            .collect())
    }

    async fn print_job_done(&self, id: i64, done: &PrintJobDone) -> Result<(), ApiError> {
        self.check_up()?;
        self.lock().desk_done.push((id, done.clone()));
        Ok(())
    }

    async fn report_device(&self, state: &DeviceState) -> Result<(), ApiError> {
        self.check_up()?;
        self.lock().reports.push(state.clone());
        Ok(())
    }

    async fn events(&self, _since: Option<u64>) -> Result<mpsc::Receiver<Message>, ApiError> {
        self.check_up()?;
        let (tx, rx) = mpsc::channel(64);
        let mut s = self.lock();
        let Some(hall) = s.hall.clone() else {
            return Err(ApiError::Unreachable("no hall".into()));
        };
        let snapshot = Event::Snapshot {
            hall: hall.name.clone(),
            recent_calls: Vec::new(),
            waiting: s
                .services
                .iter()
                .map(|svc| Waiting {
                    service: svc.code,
                    waiting: svc.waiting,
                })
                .collect(),
            windows: Vec::new(),
            notices: hall.notices.clone(),
            emergency: hall.emergency.clone(),
            open: hall.open,
            time_zone: Some(hall.time_zone),
        };
        s.stream = Some(tx);
        Self::push(&mut s, snapshot);
        Ok(rx)
    }
}

//! Whether a new ticket may be issued now, and if not, why — in words for the customer at the
//! kiosk. The first refusal that applies wins, in the order a hall would explain it: no such
//! service, an emergency, a service switched off, the hall closed (with when it opens), a
//! priority ticket for a service without a priority line.

use chrono::{DateTime, Utc};
use qhall_shared::ServiceCode;

use super::ServiceDef;
use super::schedule::{Closed, Schedule};

/// Why a ticket is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The branch has no such service (answered 404).
    UnknownService(ServiceCode),
    /// The emergency broadcast is on (answered 409), with its message.
    Emergency(String),
    /// The service is switched off (answered 409).
    ServiceOff(ServiceCode),
    /// Outside opening hours or past the last-ticket cut-off (409), with the refusal in words.
    Closed(String),
    /// The service has no priority line (422).
    NoPriority(ServiceCode),
}

impl Refusal {
    /// The error code of `PROTOCOL.md`.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::UnknownService(_) => "unknown_service",
            Refusal::Emergency(_) => "emergency",
            Refusal::ServiceOff(_) | Refusal::Closed(_) => "service_closed",
            Refusal::NoPriority(_) => "priority_not_allowed",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::UnknownService(code) => format!("there is no service {code}"),
            Refusal::Emergency(msg) => format!("no tickets are issued during an emergency: {msg}"),
            Refusal::ServiceOff(code) => format!("service {code} is not offered now"),
            Refusal::Closed(why) => why.clone(),
            Refusal::NoPriority(code) => format!("service {code} has no priority line"),
        }
    }
}

/// The service a ticket for `code` may be issued for at `now`, or why not.
pub fn admit<'a>(
    services: &'a [ServiceDef],
    emergency: Option<&str>,
    schedule: &Schedule,
    code: ServiceCode,
    priority: bool,
    now: DateTime<Utc>,
) -> Result<&'a ServiceDef, Refusal> {
    let svc = services
        .iter()
        .find(|s| s.code == code)
        .ok_or(Refusal::UnknownService(code))?;
    if let Some(msg) = emergency {
        return Err(Refusal::Emergency(msg.to_owned()));
    }
    if !svc.enabled {
        return Err(Refusal::ServiceOff(code));
    }
    let open = schedule.state_at(now);
    if let Some(closed) = open.closed {
        let why = match closed {
            Closed::OutsideHours => "the hall is closed",
            Closed::AfterCutoff => "the last ticket of the day has been issued",
        };
        let when = open
            .opens_at
            .map(|t| {
                let local = t.with_timezone(&schedule.tz);
                format!("; tickets from {}", local.format("%Y-%m-%d %H:%M"))
            })
            .unwrap_or_default();
        return Err(Refusal::Closed(format!("{why}{when}")));
    }
    if priority && !svc.priority_allowed {
        return Err(Refusal::NoPriority(code));
    }
    Ok(svc)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::queue::schedule::Weekly;

    fn service(code: &str, enabled: bool, priority_allowed: bool) -> ServiceDef {
        ServiceDef {
            code: code.parse().unwrap(),
            name: Default::default(),
            guide: Default::default(),
            target_wait_secs: 900,
            first_number: 1,
            last_number: 999,
            priority_allowed,
            default_service_secs: 300,
            carry_over: false,
            remote_tickets: false,
            appointments: false,
            identity_check: Default::default(),
            enabled,
        }
    }

    /// Open 09:00–17:00 every day, UTC, last ticket 15 minutes before closing.
    fn nine_to_five() -> Schedule {
        Schedule {
            tz: chrono_tz::UTC,
            weekly: Weekly(std::array::from_fn(|_| vec![(9 * 60, 17 * 60)])),
            exceptions: Vec::new(),
            cutoff_mins: 15,
        }
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, h, m, 0).unwrap()
    }

    fn code(s: &str) -> ServiceCode {
        s.parse().unwrap()
    }

    #[test]
    fn an_open_service_in_opening_hours_is_admitted() {
        let services = [service("A", true, true)];
        let s = admit(&services, None, &nine_to_five(), code("A"), true, at(10, 0)).unwrap();
        assert_eq!(s.code, code("A"));
    }

    #[test]
    fn each_refusal_in_the_order_a_hall_explains_it() {
        let services = [service("A", true, false), service("B", false, true)];
        let h = nine_to_five();
        let refuse = |c: &str, emergency: Option<&str>, priority: bool, now| {
            admit(&services, emergency, &h, code(c), priority, now).unwrap_err()
        };
        assert_eq!(
            refuse("Z", Some("fire"), false, at(10, 0)).code(),
            "unknown_service"
        );
        assert_eq!(
            refuse("A", Some("fire"), false, at(10, 0)).code(),
            "emergency"
        );
        assert_eq!(
            refuse("B", None, false, at(10, 0)),
            Refusal::ServiceOff(code("B"))
        );
        assert_eq!(
            refuse("A", None, true, at(10, 0)),
            Refusal::NoPriority(code("A"))
        );
        let closed = refuse("A", None, true, at(20, 0));
        assert_eq!(closed.code(), "service_closed");
        assert_eq!(
            closed.message(),
            "the hall is closed; tickets from 2026-12-03 09:00"
        );
        assert_eq!(
            refuse("A", None, false, at(16, 50)).message(),
            "the last ticket of the day has been issued; tickets from 2026-12-03 09:00"
        );
    }
}

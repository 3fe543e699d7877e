//! The oversight tables of a report: what happened outside a ticket's ordinary life, per service
//! and per person, read from the ticket events of the range.
//!
//! - **Left unserved at closing**: tickets cancelled by closing the day (`close_day`), per day
//!   and service — the day's real shortfall. They count as issued and cancelled in the main
//!   tables, never as waits.
//! - **Extended cases** (`extend`): per service and per person who extended, the count, the
//!   reasons given (trimmed, case kept) and the mean service time of those completed.
//! - **Calls out of order** (`call_out_of_order`) and **reinstated no-shows** (`reinstate`): per
//!   person.
//! - **Transfers** (`transfer`): a from → to table between services, and one between windows.
//! - **Identity step**: per service and per person who completed, tickets completed and the
//!   share whose identity was checked (services with the step only).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use qhall_shared::ServiceCode;
use serde::Serialize;

/// The ticket event kinds these tables read.
pub const KINDS: [&str; 5] = [
    "close_day",
    "extend",
    "call_out_of_order",
    "reinstate",
    "transfer",
];

/// One ticket event of a [`KINDS`] kind, with what the tables need of its ticket.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct OversightEvent {
    pub kind: String,
    /// Who did it (none for closing).
    pub staff: Option<i64>,
    /// The event's detail (JSON), if any.
    pub detail: Option<String>,
    /// The service the ticket was issued for, and the one it is in now.
    pub issued_service: ServiceCode,
    pub service: ServiceCode,
    /// The ticket's branch-local issue day.
    pub day: NaiveDate,
    /// The ticket's service time in milliseconds, when it was completed.
    pub service_ms: Option<i64>,
}

/// Completed tickets of one service and person, and how many had their identity checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct IdentityCount {
    pub service: ServiceCode,
    pub staff: Option<i64>,
    pub completed: u64,
    pub checked: u64,
}

/// Tickets left unserved at one day's closing, for one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClosedUnserved {
    pub day: NaiveDate,
    pub service: ServiceCode,
    pub count: u64,
}

/// Extended cases of one service or person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extended<K> {
    pub key: K,
    pub count: u64,
    /// Each reason given, with how often.
    pub reasons: BTreeMap<String, u64>,
    /// Mean service time of the extended cases that were completed.
    pub mean_service_secs: Option<f64>,
}

/// How many times one person did something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count<K> {
    pub key: K,
    pub count: u64,
}

/// Transfers from one place to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transfers<K> {
    pub from: K,
    pub to: K,
    pub count: u64,
}

/// The identity step of one service or person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentityShare<K> {
    pub key: K,
    pub completed: u64,
    pub checked: u64,
    /// `checked / completed`; none when nothing was completed.
    pub share: Option<f64>,
}

/// Every oversight table of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Oversight {
    pub closed_unserved: Vec<ClosedUnserved>,
    pub extended_by_service: Vec<Extended<ServiceCode>>,
    pub extended_by_staff: Vec<Extended<i64>>,
    pub out_of_order_by_staff: Vec<Count<i64>>,
    pub reinstated_by_staff: Vec<Count<i64>>,
    pub service_transfers: Vec<Transfers<ServiceCode>>,
    pub window_transfers: Vec<Transfers<u32>>,
    pub identity_by_service: Vec<IdentityShare<ServiceCode>>,
    pub identity_by_staff: Vec<IdentityShare<i64>>,
}

#[derive(Debug, Default)]
struct ExtAcc {
    count: u64,
    reasons: BTreeMap<String, u64>,
    service_ms: i64,
    served: u64,
}

impl ExtAcc {
    fn add(&mut self, reason: Option<&str>, service_ms: Option<i64>) {
        self.count += 1;
        if let Some(r) = reason {
            *self.reasons.entry(r.trim().to_owned()).or_default() += 1;
        }
        if let Some(ms) = service_ms {
            self.service_ms += ms;
            self.served += 1;
        }
    }

    fn finish<K>(self, key: K) -> Extended<K> {
        Extended {
            key,
            count: self.count,
            reasons: self.reasons,
            mean_service_secs: (self.served > 0)
                .then(|| self.service_ms as f64 / 1000.0 / self.served as f64),
        }
    }
}

fn counts<K: Ord>(m: BTreeMap<K, u64>) -> Vec<Count<K>> {
    m.into_iter()
        .map(|(key, count)| Count { key, count })
        .collect()
}

fn shares<K: Ord>(m: BTreeMap<K, (u64, u64)>) -> Vec<IdentityShare<K>> {
    m.into_iter()
        .map(|(key, (completed, checked))| IdentityShare {
            key,
            completed,
            checked,
            share: (completed > 0).then(|| checked as f64 / completed as f64),
        })
        .collect()
}

/// A field of an event's JSON detail.
fn field(detail: &serde_json::Value, name: &str) -> Option<serde_json::Value> {
    detail.get(name).cloned()
}

/// The tables over `events` (any order) and the identity counts.
pub fn oversight(events: &[OversightEvent], identity: &[IdentityCount]) -> Oversight {
    let mut closed: BTreeMap<(NaiveDate, ServiceCode), u64> = BTreeMap::new();
    let mut ext_service: BTreeMap<ServiceCode, ExtAcc> = BTreeMap::new();
    let mut ext_staff: BTreeMap<i64, ExtAcc> = BTreeMap::new();
    let mut out_of_order: BTreeMap<i64, u64> = BTreeMap::new();
    let mut reinstated: BTreeMap<i64, u64> = BTreeMap::new();
    let mut by_service: BTreeMap<(ServiceCode, ServiceCode), u64> = BTreeMap::new();
    let mut by_window: BTreeMap<(u32, u32), u64> = BTreeMap::new();
    for e in events {
        let detail: serde_json::Value = e
            .detail
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default();
        match e.kind.as_str() {
            "close_day" => *closed.entry((e.day, e.issued_service)).or_default() += 1,
            "extend" => {
                let reason = field(&detail, "reason");
                let reason = reason.as_ref().and_then(|r| r.as_str());
                ext_service
                    .entry(e.service)
                    .or_default()
                    .add(reason, e.service_ms);
                if let Some(s) = e.staff {
                    ext_staff.entry(s).or_default().add(reason, e.service_ms);
                }
            }
            "call_out_of_order" => {
                if let Some(s) = e.staff {
                    *out_of_order.entry(s).or_default() += 1;
                }
            }
            "reinstate" => {
                if let Some(s) = e.staff {
                    *reinstated.entry(s).or_default() += 1;
                }
            }
            "transfer" => {
                let service =
                    |k| field(&detail, k).and_then(|v| v.as_str()?.parse::<ServiceCode>().ok());
                let window = |k| field(&detail, k).and_then(|v| u32::try_from(v.as_u64()?).ok());
                if let (Some(a), Some(b)) = (service("from_service"), service("to_service")) {
                    *by_service.entry((a, b)).or_default() += 1;
                } else if let (Some(a), Some(b)) = (window("from_window"), window("to_window")) {
                    *by_window.entry((a, b)).or_default() += 1;
                }
            }
            _ => {}
        }
    }
    let mut id_service: BTreeMap<ServiceCode, (u64, u64)> = BTreeMap::new();
    let mut id_staff: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    for c in identity {
        let s = id_service.entry(c.service).or_default();
        s.0 += c.completed;
        s.1 += c.checked;
        if let Some(u) = c.staff {
            let p = id_staff.entry(u).or_default();
            p.0 += c.completed;
            p.1 += c.checked;
        }
    }
    Oversight {
        closed_unserved: closed
            .into_iter()
            .map(|((day, service), count)| ClosedUnserved {
                day,
                service,
                count,
            })
            .collect(),
        extended_by_service: ext_service.into_iter().map(|(k, a)| a.finish(k)).collect(),
        extended_by_staff: ext_staff.into_iter().map(|(k, a)| a.finish(k)).collect(),
        out_of_order_by_staff: counts(out_of_order),
        reinstated_by_staff: counts(reinstated),
        service_transfers: by_service
            .into_iter()
            .map(|((from, to), count)| Transfers { from, to, count })
            .collect(),
        window_transfers: by_window
            .into_iter()
            .map(|((from, to), count)| Transfers { from, to, count })
            .collect(),
        identity_by_service: shares(id_service),
        identity_by_staff: shares(id_staff),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(c: &str) -> ServiceCode {
        c.parse().unwrap()
    }

    fn ev(kind: &str, staff: Option<i64>, detail: &str, service: &str) -> OversightEvent {
        OversightEvent {
            kind: kind.into(),
            staff,
            detail: (!detail.is_empty()).then(|| detail.to_owned()),
            issued_service: code(service),
            service: code(service),
            day: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            service_ms: None,
        }
    }

    #[test]
    fn each_kind_lands_in_its_own_table() {
        let mut long = ev("extend", Some(7), r#"{"reason":"complex case"}"#, "A");
        long.service_ms = Some(600_000);
        let events = [
            ev("close_day", None, r#"{"reason":"closed"}"#, "A"),
            ev("close_day", None, r#"{"reason":"closed"}"#, "A"),
            ev("close_day", None, r#"{"reason":"closed"}"#, "B"),
            long,
            ev("extend", Some(8), r#"{"reason":" complex case "}"#, "A"),
            ev(
                "call_out_of_order",
                Some(7),
                r#"{"jumped":["A001"],"jumped_count":1}"#,
                "A",
            ),
            ev("reinstate", Some(8), "", "B"),
            ev(
                "transfer",
                Some(7),
                r#"{"from_service":"A","to_service":"B"}"#,
                "B",
            ),
            ev(
                "transfer",
                Some(7),
                r#"{"from_window":1,"to_window":3}"#,
                "A",
            ),
            ev("call", Some(7), "", "A"),
        ];
        let identity = [
            IdentityCount {
                service: code("B"),
                staff: Some(7),
                completed: 3,
                checked: 2,
            },
            IdentityCount {
                service: code("B"),
                staff: Some(8),
                completed: 1,
                checked: 1,
            },
        ];
        let o = oversight(&events, &identity);
        assert_eq!(
            o.closed_unserved
                .iter()
                .map(|c| (c.service.as_str().to_owned(), c.count))
                .collect::<Vec<_>>(),
            [("A".to_owned(), 2), ("B".to_owned(), 1)]
        );
        let a = &o.extended_by_service[0];
        assert_eq!((a.count, a.reasons["complex case"]), (2, 2));
        assert_eq!(a.mean_service_secs, Some(600.0));
        assert_eq!(o.extended_by_staff.len(), 2);
        assert_eq!(o.extended_by_staff[1].mean_service_secs, None);
        assert_eq!(o.out_of_order_by_staff, [Count { key: 7, count: 1 }]);
        assert_eq!(o.reinstated_by_staff, [Count { key: 8, count: 1 }]);
        assert_eq!(
            o.service_transfers,
            [Transfers {
                from: code("A"),
                to: code("B"),
                count: 1
            }]
        );
        assert_eq!(
            o.window_transfers,
            [Transfers {
                from: 1,
                to: 3,
                count: 1
            }]
        );
        assert_eq!(o.identity_by_service[0].share, Some(0.75));
        assert_eq!(
            o.identity_by_staff
                .iter()
                .map(|s| (s.key, s.share))
                .collect::<Vec<_>>(),
            [(7, Some(2.0 / 3.0)), (8, Some(1.0))]
        );
    }
}

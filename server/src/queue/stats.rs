//! Wait time, service time and service level, exactly as `PRODUCT.md` defines them:
//!
//! - **waiting time** = the counting call − issue. The counting call is the first call; a recall
//!   does not restart it; a no-show that was reinstated counts its *last* call (the one after it
//!   was reinstated). A transfer keeps the original issue time and the first call.
//! - **service time** = done − serving start (tickets completed without a start have none).
//! - **service level** = share of *called* tickets whose wait ≤ the service's target.
//! - a ticket **cancelled** has no wait, even one called before the hall closed its day: it
//!   counts as issued and cancelled (not served), never as a wait.
//!
//! Percentiles are nearest-rank: the p-th percentile of n values is the ⌈p·n⌉-th smallest.

use chrono::{DateTime, Utc};
use qhall_shared::api::{StatsFigures, TicketStatus};

/// One ticket's history, as far as the statistics need it.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRecord {
    pub status: TicketStatus,
    pub issued_at: DateTime<Utc>,
    /// The call that counts for the waiting time (see the module doc).
    pub counted_call_at: Option<DateTime<Utc>>,
    pub serving_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub target_wait_secs: u32,
}

impl TicketRecord {
    pub fn wait_secs(&self) -> Option<f64> {
        self.counted_call_at
            .filter(|_| self.status != TicketStatus::Cancelled)
            .map(|c| secs(c - self.issued_at))
    }

    pub fn service_secs(&self) -> Option<f64> {
        match (self.status, self.serving_at, self.done_at) {
            (TicketStatus::Done, Some(s), Some(d)) => Some(secs(d - s)),
            _ => None,
        }
    }
}

fn secs(d: chrono::Duration) -> f64 {
    d.num_milliseconds().max(0) as f64 / 1000.0
}

/// The counting call from a ticket's calls in time order: the first call, unless the ticket was
/// reinstated after a no-show, then the first call after the last reinstatement.
pub fn counted_call(events: &[(DateTime<Utc>, CallEvent)]) -> Option<DateTime<Utc>> {
    let mut counted = None;
    for (at, ev) in events {
        match ev {
            CallEvent::Call if counted.is_none() => counted = Some(*at),
            CallEvent::Reinstate => counted = None,
            _ => {}
        }
    }
    counted
}

/// The events that decide which call counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEvent {
    Call,
    Recall,
    Reinstate,
}

/// The ⌈p·n⌉-th smallest of `sorted` (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

/// The figures over a set of tickets.
pub fn figures<'a>(tickets: impl IntoIterator<Item = &'a TicketRecord>) -> StatsFigures {
    let mut f = StatsFigures::default();
    let mut waits = Vec::new();
    let mut within = 0u64;
    let mut service = Vec::new();
    for t in tickets {
        f.issued += 1;
        match t.status {
            TicketStatus::Done => f.served += 1,
            TicketStatus::NoShow => f.no_show += 1,
            TicketStatus::Cancelled => f.cancelled += 1,
            _ => {}
        }
        if let Some(w) = t.wait_secs() {
            waits.push(w);
            if w <= f64::from(t.target_wait_secs) {
                within += 1;
            }
        }
        if let Some(s) = t.service_secs() {
            service.push(s);
        }
    }
    f.called = waits.len() as u64;
    waits.sort_by(f64::total_cmp);
    if !waits.is_empty() {
        f.mean_wait_secs = Some(waits.iter().sum::<f64>() / waits.len() as f64);
        f.median_wait_secs = percentile(&waits, 0.5);
        f.p90_wait_secs = percentile(&waits, 0.9);
        f.service_level = Some(within as f64 / waits.len() as f64);
    }
    if !service.is_empty() {
        f.mean_service_secs = Some(service.iter().sum::<f64>() / service.len() as f64);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::minutes(min)
    }

    fn rec(
        issued: i64,
        call: Option<i64>,
        start: Option<i64>,
        done: Option<i64>,
        status: TicketStatus,
    ) -> TicketRecord {
        TicketRecord {
            status,
            issued_at: t(issued),
            counted_call_at: call.map(t),
            serving_at: start.map(t),
            done_at: done.map(t),
            target_wait_secs: 600,
        }
    }

    #[test]
    fn a_recall_does_not_restart_the_wait() {
        let calls = [(t(5), CallEvent::Call), (t(7), CallEvent::Recall)];
        assert_eq!(counted_call(&calls), Some(t(5)));
    }

    #[test]
    fn a_reinstated_no_show_counts_its_last_call() {
        let calls = [
            (t(5), CallEvent::Call),
            (t(9), CallEvent::Reinstate),
            (t(20), CallEvent::Call),
            (t(21), CallEvent::Recall),
        ];
        assert_eq!(counted_call(&calls), Some(t(20)));
    }

    #[test]
    fn wait_service_and_level_as_defined() {
        let tickets = [
            rec(0, Some(5), Some(6), Some(16), TicketStatus::Done), // wait 5 min, service 10
            rec(0, Some(12), Some(12), Some(14), TicketStatus::Done), // wait 12 min > 10 target
            rec(1, Some(3), None, None, TicketStatus::NoShow),      // wait 2 min
            rec(2, None, None, None, TicketStatus::Cancelled),      // never called
            rec(3, Some(4), None, Some(9), TicketStatus::Done),     // completed without start
        ];
        let f = figures(&tickets);
        assert_eq!(
            (f.issued, f.served, f.no_show, f.cancelled, f.called),
            (5, 3, 1, 1, 4)
        );
        assert_eq!(f.mean_wait_secs, Some((300.0 + 720.0 + 120.0 + 60.0) / 4.0));
        assert_eq!(f.service_level, Some(0.75));
        assert_eq!(f.p90_wait_secs, Some(720.0));
        assert_eq!(f.median_wait_secs, Some(120.0));
        assert_eq!(f.mean_service_secs, Some((600.0 + 120.0) / 2.0));
    }

    #[test]
    fn a_wait_exactly_at_target_is_within_target() {
        let f = figures(&[rec(0, Some(10), None, None, TicketStatus::Called)]);
        assert_eq!(f.service_level, Some(1.0));
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.9), Some(9.0));
        assert_eq!(percentile(&v, 0.5), Some(5.0));
        assert_eq!(percentile(&[], 0.9), None);
        assert_eq!(percentile(&[4.0], 0.9), Some(4.0));
    }

    #[test]
    fn no_tickets_no_figures() {
        let f = figures(&[]);
        assert_eq!(f.issued, 0);
        assert_eq!(f.mean_wait_secs, None);
        assert_eq!(f.service_level, None);
    }
}

//! Which waiting ticket a window calls next.
//!
//! The store hands [`choose`] the *candidates* for one window: for every service the window
//! serves, the head of that service's line in each priority class, plus the head of the tickets
//! transferred to this very window. Within one service and class the line is ordered by
//! `queue_at` (the original issue time, or earlier for a reinstated no-show), so only heads can
//! ever win and the store never has to load a whole line.
//!
//! # The default policy, in order
//! 1. **Overdue first, oldest first.** A ticket that has waited longer than
//!    [`STARVATION_FACTOR`] × its service's target is *overdue*; overdue tickets are called
//!    before everything else, earliest `queue_at` first. This is the no-starvation guarantee:
//!    once a ticket is overdue only tickets that were queued before it can overtake it, and there
//!    are finitely many of those, so every ticket is called after a bounded number of calls.
//! 2. **Priority class.** Priority customers (elderly, disabled, pregnant; appointments will join
//!    this class) before normal ones.
//! 3. **Largest share of target used**, `(now − queue_at) / target`, multiplied by the window's
//!    weight for the ticket's service (weights > 1 make a window favour a service).
//! 4. **Earliest `queue_at`**, then the smallest ticket key, so the choice is deterministic.
//!
//! The other [`Policy`] variants exist for the simulator's comparisons.

use chrono::{DateTime, Utc};
use qhall_shared::ServiceCode;

/// A ticket that has waited this many targets is called before any other.
pub const STARVATION_FACTOR: f64 = 2.0;

/// One head-of-line ticket the window could call.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The store's key for the ticket; the last tie-breaker.
    pub key: i64,
    pub service: ServiceCode,
    pub priority: bool,
    /// The time its place in line counts from.
    pub queue_at: DateTime<Utc>,
    pub target_wait_secs: u32,
}

impl Candidate {
    /// Share of the target wait already used at `now`.
    pub fn share_used(&self, now: DateTime<Utc>) -> f64 {
        let waited = (now - self.queue_at).num_milliseconds().max(0) as f64 / 1000.0;
        waited / f64::from(self.target_wait_secs.max(1))
    }
}

/// What a window serves: services in its order of preference, each with a weight.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSkills {
    pub serves: Vec<(ServiceCode, f64)>,
}

impl WindowSkills {
    pub fn weight(&self, service: ServiceCode) -> f64 {
        self.serves
            .iter()
            .find(|(s, _)| *s == service)
            .map_or(1.0, |(_, w)| if w.is_finite() && *w > 0.0 { *w } else { 1.0 })
    }

    fn rank(&self, service: ServiceCode) -> usize {
        self.serves.iter().position(|(s, _)| *s == service).unwrap_or(usize::MAX)
    }
}

/// An assignment policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// The server's policy, described in the module doc.
    Default,
    /// Earliest queued among the window's services (priority still first).
    Fifo,
    /// The window's first service with anyone waiting, then its second, …
    Primary,
    /// Largest share of target used, nothing else.
    TargetRatio,
}

impl Policy {
    pub const ALL: [Policy; 4] = [Policy::Default, Policy::Fifo, Policy::Primary, Policy::TargetRatio];

    pub fn name(self) -> &'static str {
        match self {
            Policy::Default => "balanced",
            Policy::Fifo => "fifo",
            Policy::Primary => "primary",
            Policy::TargetRatio => "target-ratio",
        }
    }

    pub fn from_name(name: &str) -> Option<Policy> {
        match name {
            "balanced" | "default" => Some(Policy::Default),
            "fifo" => Some(Policy::Fifo),
            "primary" => Some(Policy::Primary),
            "target-ratio" => Some(Policy::TargetRatio),
            _ => None,
        }
    }
}

/// The index in `candidates` of the ticket `window` should call at `now`, or `None` when
/// there is no candidate.
pub fn choose(policy: Policy, window: &WindowSkills, candidates: &[Candidate], now: DateTime<Utc>) -> Option<usize> {
    let key = |c: &Candidate| -> (u8, f64, DateTime<Utc>, i64) {
        let share = c.share_used(now);
        match policy {
            Policy::Default => {
                if share >= STARVATION_FACTOR {
                    // Overdue: oldest first, regardless of class or weight.
                    (0, 0.0, c.queue_at, c.key)
                } else {
                    let class = if c.priority { 1 } else { 2 };
                    (class, -(share * window.weight(c.service)), c.queue_at, c.key)
                }
            }
            Policy::Fifo => (u8::from(!c.priority), 0.0, c.queue_at, c.key),
            Policy::Primary => {
                let rank = window.rank(c.service).min(200) as u8;
                (rank, f64::from(u8::from(!c.priority)), c.queue_at, c.key)
            }
            Policy::TargetRatio => (0, -share, c.queue_at, c.key),
        }
    };
    candidates
        .iter()
        .enumerate()
        .min_by(|(_, a), (_, b)| {
            let (ka, kb) = (key(a), key(b));
            ka.0.cmp(&kb.0)
                .then(ka.1.total_cmp(&kb.1))
                .then(ka.2.cmp(&kb.2))
                .then(ka.3.cmp(&kb.3))
        })
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
    }

    fn code(s: &str) -> ServiceCode {
        s.parse().unwrap()
    }

    fn cand(key: i64, service: &str, priority: bool, queued_min_ago: i64, target_min: u32) -> Candidate {
        Candidate {
            key,
            service: code(service),
            priority,
            queue_at: t0() - Duration::minutes(queued_min_ago),
            target_wait_secs: target_min * 60,
        }
    }

    fn skills(list: &[&str]) -> WindowSkills {
        WindowSkills { serves: list.iter().map(|s| (code(s), 1.0)).collect() }
    }

    #[test]
    fn nothing_to_call_gives_none() {
        assert_eq!(choose(Policy::Default, &skills(&["A"]), &[], t0()), None);
    }

    #[test]
    fn priority_customers_come_before_normal_ones() {
        let c = [cand(1, "A", false, 10, 15), cand(2, "A", true, 1, 15)];
        assert_eq!(choose(Policy::Default, &skills(&["A"]), &c, t0()), Some(1));
    }

    #[test]
    fn the_larger_share_of_target_used_wins_across_services() {
        // A waited 9 of 15 min (0.6); B waited 7 of 10 min (0.7): B is further behind its promise.
        let c = [cand(1, "A", false, 9, 15), cand(2, "B", false, 7, 10)];
        assert_eq!(choose(Policy::Default, &skills(&["A", "B"]), &c, t0()), Some(1));
    }

    #[test]
    fn equal_shares_go_to_the_earliest_queued_then_the_smallest_key() {
        let c = [cand(5, "A", false, 6, 15), cand(4, "B", false, 4, 10)];
        // 6/15 == 4/10: A queued earlier.
        assert_eq!(choose(Policy::Default, &skills(&["A", "B"]), &c, t0()), Some(0));
        let same = [cand(9, "A", false, 5, 15), cand(3, "A", false, 5, 15)];
        assert_eq!(choose(Policy::Default, &skills(&["A"]), &same, t0()), Some(1));
    }

    #[test]
    fn window_weights_bias_services() {
        let c = [cand(1, "A", false, 9, 15), cand(2, "B", false, 7, 10)];
        let w = WindowSkills { serves: vec![(code("A"), 2.0), (code("B"), 1.0)] };
        assert_eq!(choose(Policy::Default, &w, &c, t0()), Some(0));
    }

    #[test]
    fn an_overdue_normal_ticket_beats_fresh_priority_ones() {
        let c = [cand(1, "A", true, 0, 15), cand(2, "C", false, 61, 30)];
        assert_eq!(choose(Policy::Default, &skills(&["A", "C"]), &c, t0()), Some(1));
    }

    #[test]
    fn fifo_takes_the_earliest_and_primary_the_first_service() {
        let c = [cand(1, "A", false, 3, 15), cand(2, "B", false, 5, 10)];
        assert_eq!(choose(Policy::Fifo, &skills(&["A", "B"]), &c, t0()), Some(1));
        assert_eq!(choose(Policy::Primary, &skills(&["A", "B"]), &c, t0()), Some(0));
        assert_eq!(choose(Policy::TargetRatio, &skills(&["A", "B"]), &c, t0()), Some(1));
    }

    /// A stream of short-target priority arrivals at one saturated window must not hold back a
    /// long-target normal ticket forever: it is called within a bounded time.
    #[test]
    fn no_ticket_starves_under_a_stream_of_more_urgent_arrivals() {
        let window = skills(&["B", "C"]);
        let victim = cand(0, "C", false, 0, 30);
        let mut waiting: Vec<Candidate> = vec![victim.clone()];
        let mut now = t0();
        let mut next_key = 1;
        for step in 0..10_000 {
            // Two priority B arrivals per minute, one call per minute: the window is overloaded.
            for _ in 0..2 {
                waiting.push(Candidate { key: next_key, service: code("B"), priority: true, queue_at: now, target_wait_secs: 600 });
                next_key += 1;
            }
            // Only heads are candidates: head of B-priority and the victim.
            let mut heads: Vec<Candidate> = Vec::new();
            for (svc, pr) in [("B", true), ("C", false)] {
                if let Some(h) = waiting
                    .iter()
                    .filter(|c| c.service == code(svc) && c.priority == pr)
                    .min_by_key(|c| (c.queue_at, c.key))
                {
                    heads.push(h.clone());
                }
            }
            let i = choose(Policy::Default, &window, &heads, now).unwrap();
            let chosen = heads[i].key;
            if chosen == victim.key {
                let waited = (now - victim.queue_at).num_minutes();
                assert!(waited <= 61 + 1, "victim waited {waited} min");
                return;
            }
            waiting.retain(|c| c.key != chosen);
            now += Duration::minutes(1);
            assert!(step < 9_999);
        }
        panic!("the C ticket was never called");
    }
}

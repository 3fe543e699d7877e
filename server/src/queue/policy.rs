//! Which waiting ticket a window calls next.
//!
//! The store hands [`choose`] the *candidates* for one window: for every service the window
//! serves, the head of that service's line in each priority class, plus the head of the tickets
//! transferred to this very window. Within one service and class the line is ordered by
//! `queue_at` (the original issue time, or earlier for a reinstated no-show), so only heads can
//! ever win and the store never has to load a whole line.
//!
//! # The default policy ("balanced"), in order
//! 1. **Overdue first, oldest first.** A ticket that has waited [`STARVATION_FACTOR`] × its
//!    service's target, and at least [`OVERDUE_MIN_SECS`], is *overdue*; overdue tickets are
//!    called before everything else, earliest `queue_at` first. This is the no-starvation
//!    guarantee: once a ticket is overdue only tickets that were queued before it can overtake
//!    it, and there are finitely many of those, so every ticket is called after a bounded number
//!    of calls.
//! 2. **Due appointments, within a bounded share.** A checked-in appointment is *due* from its
//!    slot's start (or its check-in, if later); its `queue_at` is that moment. A due appointment
//!    goes before every walk-in that is not overdue, earliest due first — unless the window's
//!    last [`APPOINTMENT_RUN`] calls by Call next were all appointments: then this call follows
//!    the walk-in rules below, where the appointment competes as a normal ticket queued at its
//!    due moment. So appointments take at most [`APPOINTMENT_RUN`] of every
//!    `APPOINTMENT_RUN + 1` calls at a window while walk-ins wait, and walk-ins keep the
//!    overdue rule's guarantee. An appointment not yet due (checked in early) is a normal ticket
//!    queued at its slot's start: it is called early only when no walk-in queued before then
//!    is waiting.
//! 3. **Priority class.** Priority customers (elderly, disabled, pregnant) before normal ones.
//! 4. **At risk: largest share of target used.** A ticket's *time left* is the calling time
//!    until its target: the minutes until its target that are not in a break of the day's
//!    [`Breaks`], and only up to the break's start when the target falls inside a break (no
//!    window calls during a break, so a ticket whose target falls in it must be called before
//!    it). A ticket still within its target with less time left than its *reach* —
//!    [`AT_RISK_MIN_SECS`] or [`AT_RISK_SHARE`] of its target, whichever is longer, and only
//!    [`AWAY_REACH`] of that at a window where the ticket's service is not the first — is at
//!    risk of missing it. At-risk tickets go first, the largest `(1 − time left / target) ×
//!    weight` first (weights > 1 make a window favour a service). Without a break ahead that is
//!    the share of the target already waited.
//! 5. **Everyone else, oldest first**: tickets with time to spare, and tickets already past
//!    their target but not yet overdue. Then the smallest ticket key, so the choice is
//!    deterministic.
//!
//! ## Why this order
//! The hall's promise is the service level: the share of customers called within their
//! service's target. *Target-ratio* (always the largest share of target used) saves
//! short-target services but sacrifices the service with the longest target: its customers
//! wait two or three times as long as the others', so in a busy hour they are the ones who run
//! out of time (on the simulator's example hall, service C ends 2.2 points below its FIFO
//! level). *FIFO* is fair in minutes but lets short-target customers miss while long-target
//! customers with time to spare are served first.
//!
//! The balanced policy is FIFO except where the order decides whether someone makes their
//! target: a ticket overtakes older ones only when it is at risk, and only tickets with time to
//! spare (or already lost) are overtaken. The reach has a floor in minutes because a skipped
//! ticket must wait for the next free window whatever its target. It is shorter at a window
//! where the ticket's service is only a side duty, because a ticket called there is taken from
//! the window's own customers, who may have no other window (on the example hall C is served
//! only at its two home windows, and every A or B called there ahead of a C is a minute lost to
//! C). Tickets past their target give way to those that can still make it, until the overdue
//! rule calls them first; the overdue rule waits at least [`OVERDUE_MIN_SECS`] because for a
//! short target twice the target is an ordinary wait in a busy hour, and strict oldest-first
//! then costs more customers their target than it saves.
//!
//! Counting time left in calling time is what lifts the policy above target-ratio. Before a
//! lunch break every ticket still waiting at its start waits through it, so on the example hall
//! the last half hour before the break loses more customers their target than any other two
//! hours of the day. A ticket whose target falls in the break has only until the break's start,
//! and a long target no longer protects it: a C ticket issued 25 minutes before the break is
//! as urgent as a B ticket issued 5 minutes before it. Seeing this, the policy calls the
//! tickets that can still make it before the break instead of those that look older but are
//! lost anyway, and it spends the slack this gives C on A and B through a reach that is no
//! longer lengthened at home windows (the policy before had 1.6× at home and 0.75× away).
//!
//! The constants were chosen with `qhall-server simulate` on `server/scenarios/example.toml`
//! (`docs/simulation.md` has the figures) and checked on three seeds of 4,000 days: the
//! balanced policy's paired differences against FIFO are A +1.0 to +1.1, B +2.1 and C +0.13 to
//! +0.16 points, and against target-ratio +0.12 to +0.15 points overall (± 0.06). Among the
//! variants tried, the away reach trades C against the overall level (0.75: C +0.25, overall
//! +0.12 over target-ratio; 1.0: C ±0.0, overall +0.2); ordering at-risk tickets by service time
//! (shortest first), counting the line behind the head, or lost tickets last raised the overall
//! level further but cost C more than it gave; looking ahead to when the other windows will be
//! free did not help. On the same hall without its lunch break the policy beats target-ratio by
//! 0.16 points overall but leaves C 0.3 points below FIFO (the policy before: C −0.05, 0.2
//! below target-ratio).
//!
//! The other [`Policy`] variants exist for the simulator's comparisons.

use chrono::{DateTime, Utc};
use qhall_shared::ServiceCode;

/// A ticket that has waited this many targets (and [`OVERDUE_MIN_SECS`]) is called before any other.
pub const STARVATION_FACTOR: f64 = 2.0;

/// The overdue rule never fires before this wait (see the module doc).
pub const OVERDUE_MIN_SECS: f64 = 45.0 * 60.0;

/// A ticket with less than this left before its target is at risk…
pub const AT_RISK_MIN_SECS: f64 = 8.0 * 60.0;

/// …or with less than this share of its target left, whichever is longer.
pub const AT_RISK_SHARE: f64 = 0.5;

/// The reach is this much shorter at a window where the ticket's service is not the first.
pub const AWAY_REACH: f64 = 0.85;

/// At most this many due appointments in a row at one window go before waiting walk-ins.
pub const APPOINTMENT_RUN: u32 = 2;

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
    /// A checked-in appointment (its `queue_at` is the moment it is due).
    pub appointment: bool,
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
            .map_or(
                1.0,
                |(_, w)| if w.is_finite() && *w > 0.0 { *w } else { 1.0 },
            )
    }

    fn rank(&self, service: ServiceCode) -> usize {
        self.serves
            .iter()
            .position(|(s, _)| *s == service)
            .unwrap_or(usize::MAX)
    }
}

/// The day's breaks: periods without calls between two opening periods, in time order.
///
/// A window calling during a break (staff working through it) is not held back by it: only
/// breaks that start after the call count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Breaks(Vec<(DateTime<Utc>, DateTime<Utc>)>);

impl Breaks {
    /// Breaks from `(start, end)` periods in any order; empty ones are dropped.
    pub fn new(mut periods: Vec<(DateTime<Utc>, DateTime<Utc>)>) -> Breaks {
        periods.retain(|(a, b)| a < b);
        periods.sort_unstable();
        Breaks(periods)
    }

    /// Seconds a window can still call between `now` and `deadline`: the time until the
    /// deadline outside the breaks ahead, or only until a break's start when the deadline falls
    /// inside it. Negative once the deadline has passed.
    pub fn calling_secs(&self, now: DateTime<Utc>, deadline: DateTime<Utc>) -> f64 {
        let ahead = || self.0.iter().filter(|(start, _)| *start > now);
        let end = ahead()
            .find(|(start, end)| *start <= deadline && deadline < *end)
            .map_or(deadline, |(start, _)| *start);
        let paused: i64 = ahead()
            .map(|(start, stop)| ((*stop).min(end) - *start).num_milliseconds().max(0))
            .sum();
        ((end - now).num_milliseconds() - paused) as f64 / 1000.0
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
    pub const ALL: [Policy; 4] = [
        Policy::Default,
        Policy::Fifo,
        Policy::Primary,
        Policy::TargetRatio,
    ];

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
/// there is no candidate. `breaks` are the day's breaks, `appointment_run` how many of the
/// window's last calls in a row were appointments (only the default policy looks at them).
pub fn choose(
    policy: Policy,
    window: &WindowSkills,
    candidates: &[Candidate],
    breaks: &Breaks,
    appointment_run: u32,
    now: DateTime<Utc>,
) -> Option<usize> {
    let key = |c: &Candidate| -> (u8, f64, DateTime<Utc>, i64) {
        let share = c.share_used(now);
        match policy {
            Policy::Default => {
                let target = f64::from(c.target_wait_secs.max(1));
                let waited = share * target;
                if waited >= (STARVATION_FACTOR * target).max(OVERDUE_MIN_SECS) {
                    // Overdue: oldest first, regardless of class or weight.
                    return (0, 0.0, c.queue_at, c.key);
                }
                if c.appointment && c.queue_at <= now && appointment_run < APPOINTMENT_RUN {
                    // Due: before walk-ins, earliest due first.
                    return (1, 0.0, c.queue_at, c.key);
                }
                let class = if c.priority { 2 } else { 4 };
                let away = if window.rank(c.service) == 0 {
                    1.0
                } else {
                    AWAY_REACH
                };
                let reach = AT_RISK_MIN_SECS.max(AT_RISK_SHARE * target) * away;
                let deadline =
                    c.queue_at + chrono::Duration::seconds(i64::from(c.target_wait_secs));
                let left = breaks.calling_secs(now, deadline);
                if (0.0..reach).contains(&left) {
                    let used = 1.0 - left / target;
                    (class, -(used * window.weight(c.service)), c.queue_at, c.key)
                } else {
                    // Time to spare, or already past the target: oldest first.
                    (class + 1, 0.0, c.queue_at, c.key)
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

    fn cand(
        key: i64,
        service: &str,
        priority: bool,
        queued_min_ago: i64,
        target_min: u32,
    ) -> Candidate {
        Candidate {
            key,
            service: code(service),
            priority,
            queue_at: t0() - Duration::minutes(queued_min_ago),
            target_wait_secs: target_min * 60,
            appointment: false,
        }
    }

    /// The policy's choice at `t0()` on a day without breaks.
    fn pick(policy: Policy, window: &WindowSkills, candidates: &[Candidate]) -> Option<usize> {
        choose(policy, window, candidates, &Breaks::default(), 0, t0())
    }

    fn skills(list: &[&str]) -> WindowSkills {
        WindowSkills {
            serves: list.iter().map(|s| (code(s), 1.0)).collect(),
        }
    }

    #[test]
    fn nothing_to_call_gives_none() {
        assert_eq!(pick(Policy::Default, &skills(&["A"]), &[]), None);
    }

    #[test]
    fn priority_customers_come_before_normal_ones() {
        let c = [cand(1, "A", false, 10, 15), cand(2, "A", true, 1, 15)];
        assert_eq!(pick(Policy::Default, &skills(&["A"]), &c), Some(1));
    }

    #[test]
    fn the_larger_share_of_target_used_wins_across_services() {
        // A waited 9 of 15 min (0.6); B waited 7 of 10 min (0.7): B is further behind its promise.
        let c = [cand(1, "A", false, 9, 15), cand(2, "B", false, 7, 10)];
        assert_eq!(pick(Policy::Default, &skills(&["A", "B"]), &c), Some(1));
    }

    #[test]
    fn equal_shares_go_to_the_earliest_queued_then_the_smallest_key() {
        let c = [cand(5, "A", false, 9, 15), cand(4, "B", false, 6, 10)];
        // Both at risk, 9/15 == 6/10: A queued earlier.
        assert_eq!(pick(Policy::Default, &skills(&["A", "B"]), &c), Some(0));
        let same = [cand(9, "A", false, 5, 15), cand(3, "A", false, 5, 15)];
        assert_eq!(pick(Policy::Default, &skills(&["A"]), &same), Some(1));
    }

    #[test]
    fn window_weights_bias_services() {
        let c = [cand(1, "A", false, 9, 15), cand(2, "B", false, 7, 10)];
        let w = WindowSkills {
            serves: vec![(code("A"), 2.0), (code("B"), 1.0)],
        };
        assert_eq!(pick(Policy::Default, &w, &c), Some(0));
    }

    #[test]
    fn an_overdue_normal_ticket_beats_fresh_priority_ones() {
        let c = [cand(1, "A", true, 0, 15), cand(2, "C", false, 61, 30)];
        assert_eq!(pick(Policy::Default, &skills(&["A", "C"]), &c), Some(1));
    }

    #[test]
    fn fifo_takes_the_earliest_and_primary_the_first_service() {
        let c = [cand(1, "A", false, 3, 15), cand(2, "B", false, 5, 10)];
        assert_eq!(pick(Policy::Fifo, &skills(&["A", "B"]), &c), Some(1));
        assert_eq!(pick(Policy::Primary, &skills(&["A", "B"]), &c), Some(0));
        assert_eq!(pick(Policy::TargetRatio, &skills(&["A", "B"]), &c), Some(1));
    }

    #[test]
    fn a_ticket_with_time_to_spare_keeps_its_place() {
        // C waited 6 of 30 min, B 3 of 12: B has used more of its target, but neither is at risk.
        let c = [cand(1, "C", false, 6, 30), cand(2, "B", false, 3, 12)];
        let w = skills(&["A", "B", "C"]);
        assert_eq!(pick(Policy::TargetRatio, &w, &c), Some(1));
        assert_eq!(pick(Policy::Default, &w, &c), Some(0));
        // With 3 minutes left, B is at risk and goes first.
        let c = [cand(1, "C", false, 6, 30), cand(2, "B", false, 9, 12)];
        assert_eq!(pick(Policy::Default, &w, &c), Some(1));
    }

    #[test]
    fn a_ticket_past_its_target_gives_way_to_one_that_can_still_make_it() {
        let c = [cand(1, "A", false, 17, 15), cand(2, "B", false, 5, 10)];
        let w = skills(&["A", "B"]);
        assert_eq!(pick(Policy::Fifo, &w, &c), Some(0));
        assert_eq!(pick(Policy::Default, &w, &c), Some(1));
    }

    #[test]
    fn short_targets_become_overdue_only_after_the_minimum_wait() {
        let w = skills(&["A", "B"]);
        let c = [cand(1, "B", false, 25, 10), cand(2, "A", true, 0, 15)];
        assert_eq!(pick(Policy::Default, &w, &c), Some(1));
        let c = [cand(1, "B", false, 46, 10), cand(2, "A", true, 0, 15)];
        assert_eq!(pick(Policy::Default, &w, &c), Some(0));
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
                waiting.push(Candidate {
                    key: next_key,
                    service: code("B"),
                    priority: true,
                    queue_at: now,
                    target_wait_secs: 600,
                    appointment: false,
                });
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
            let i = choose(Policy::Default, &window, &heads, &Breaks::default(), 0, now).unwrap();
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

    /// A lunch break from `from` to `to` minutes after `t0()`.
    fn lunch(from: i64, to: i64) -> Breaks {
        Breaks::new(vec![(
            t0() + Duration::minutes(from),
            t0() + Duration::minutes(to),
        )])
    }

    #[test]
    fn calling_time_leaves_out_the_breaks_ahead() {
        let b = lunch(10, 70);
        let at = |m: i64| t0() + Duration::minutes(m);
        // Before the break: plain minutes.
        assert_eq!(b.calling_secs(t0(), at(8)), 480.0);
        // A deadline inside the break: only until the break starts.
        assert_eq!(b.calling_secs(t0(), at(30)), 600.0);
        // A deadline after it: the break's hour does not count.
        assert_eq!(b.calling_secs(t0(), at(75)), 900.0);
        // Past deadlines are negative; a break that has begun holds nobody back.
        assert_eq!(b.calling_secs(t0(), at(-2)), -120.0);
        assert_eq!(b.calling_secs(at(20), at(40)), 1200.0);
        assert_eq!(Breaks::default().calling_secs(t0(), at(30)), 1800.0);
    }

    #[test]
    fn a_ticket_whose_target_falls_in_the_break_is_at_risk_before_it() {
        // Window [C, A]. C waited 12 of 30 min: 18 min left, not at risk. A waited 9 of 15:
        // 6 min left, at risk (reach 8 min × 0.85 away). Without a break A goes first.
        let w = skills(&["C", "A"]);
        let c = [cand(1, "C", false, 12, 30), cand(2, "A", false, 9, 15)];
        assert_eq!(pick(Policy::Default, &w, &c), Some(1));
        // With a break in 10 minutes C's target falls inside it: 10 min left of 30 (a third)
        // against A's 6 of 15 (two fifths left): C has used more and goes first.
        assert_eq!(
            choose(Policy::Default, &w, &c, &lunch(10, 70), 0, t0()),
            Some(0)
        );
        // Target-ratio and FIFO do not look at breaks.
        assert_eq!(
            choose(Policy::TargetRatio, &w, &c, &lunch(10, 70), 0, t0()),
            Some(1)
        );
    }

    fn appointment(key: i64, service: &str, due_min_ago: i64) -> Candidate {
        Candidate {
            appointment: true,
            ..cand(key, service, false, due_min_ago, 15)
        }
    }

    #[test]
    fn a_due_appointment_goes_before_older_walk_ins_and_priority() {
        let w = skills(&["A"]);
        let c = [
            cand(1, "A", false, 12, 15),
            cand(2, "A", true, 3, 15),
            appointment(3, "A", 0),
        ];
        assert_eq!(pick(Policy::Default, &w, &c), Some(2));
        // FIFO knows nothing of appointments.
        assert_eq!(pick(Policy::Fifo, &w, &c), Some(1));
    }

    #[test]
    fn an_appointment_not_yet_due_waits_behind_the_walk_ins_queued_before_its_slot() {
        let w = skills(&["A"]);
        let c = [cand(1, "A", false, 2, 15), appointment(2, "A", -10)];
        assert_eq!(pick(Policy::Default, &w, &c), Some(0));
        // With nobody else waiting, the window calls it early rather than idle.
        assert_eq!(pick(Policy::Default, &w, &c[1..]), Some(0));
    }

    #[test]
    fn appointments_take_a_bounded_share_and_overdue_walk_ins_still_go_first() {
        let w = skills(&["A"]);
        let c = [cand(1, "A", false, 5, 15), appointment(2, "A", 1)];
        let run = |n| choose(Policy::Default, &w, &c, &Breaks::default(), n, t0());
        assert_eq!(run(0), Some(1));
        assert_eq!(run(APPOINTMENT_RUN - 1), Some(1));
        // After a run of appointments the walk-in rules decide: the older walk-in goes.
        assert_eq!(run(APPOINTMENT_RUN), Some(0));
        let overdue = [cand(1, "A", false, 50, 15), appointment(2, "A", 1)];
        assert_eq!(pick(Policy::Default, &w, &overdue), Some(0));
    }

    /// A stream of appointments due at every call never keeps a walk-in out for more than
    /// `APPOINTMENT_RUN` calls in a row.
    #[test]
    fn walk_ins_get_one_call_in_every_run_plus_one() {
        let w = skills(&["A"]);
        let mut run = 0;
        let mut walk_in_calls = 0;
        let mut walk_ins: Vec<Candidate> = (0..30).map(|k| cand(k, "A", false, 1, 15)).collect();
        for step in 0..30 {
            let c = [walk_ins[0].clone(), appointment(100 + step, "A", 0)];
            let i = choose(Policy::Default, &w, &c, &Breaks::default(), run, t0()).unwrap();
            if c[i].appointment {
                run += 1;
            } else {
                run = 0;
                walk_in_calls += 1;
                walk_ins.remove(0);
            }
        }
        assert_eq!(walk_in_calls, 10);
    }
}

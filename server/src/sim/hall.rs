//! The hall's moving parts in virtual time: every service's lines, the windows, and the call.
//!
//! Both the day simulation ([`super::day`]) and the forecast ([`super::forward`]) move tickets
//! through this one state, and every call goes through [`crate::queue::policy::choose`] with
//! exactly the candidates the store gives it: the head of each served service's line in each
//! priority class. Times are integer milliseconds; [`at`] turns them into the `DateTime` the
//! engine takes, so the engine sees the same arithmetic as in the server.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use super::scenario::{ServiceRt, WindowRt};
use crate::queue::policy::{Breaks, Candidate, Policy, choose};

/// Virtual time 0: a Monday midnight, far from any leap second or DST question (UTC anyway).
const BASE_MS: i64 = 1_767_571_200_000; // 2026-01-05T00:00:00Z

/// Virtual milliseconds → the engine's instant.
pub(crate) fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(BASE_MS.saturating_add(ms)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Line index of a priority class: priority customers have their own line per service.
pub(crate) fn class(priority: bool) -> usize {
    if priority { 0 } else { 1 }
}

/// The line of the checked-in appointments, per service (as the store's third line).
pub(crate) const APPOINTMENTS: usize = 2;

/// The line a ticket waits in.
fn line_of(t: &Ticket) -> usize {
    if t.appointment {
        APPOINTMENTS
    } else {
        class(t.priority)
    }
}

/// A waiting ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket {
    pub(crate) key: i64,
    pub(crate) service: usize,
    pub(crate) priority: bool,
    /// The time its place in line counts from (an appointment's: when it is due).
    pub(crate) queue_at: i64,
    /// A checked-in appointment.
    pub(crate) appointment: bool,
}

/// A window's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WindowState {
    /// When the service in progress ends; `None` while idle.
    pub(crate) busy_until: Option<i64>,
    /// Since when the window has been idle (orders simultaneous calls: the longest idle first).
    pub(crate) idle_since: i64,
    /// The service in progress and when it started.
    pub(crate) serving: Option<(usize, i64)>,
    /// Appointments called in a row (the policy's bound on their share).
    pub(crate) appointment_run: u32,
}

/// Everything that changes while the hall runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct HallState {
    /// Per service: `[priority line, normal line, appointments]`, each in `queue_at` order.
    pub(crate) lines: Vec<[VecDeque<Ticket>; 3]>,
    pub(crate) windows: Vec<WindowState>,
    pub(crate) waiting: usize,
}

impl HallState {
    /// An empty hall with every window idle since `t0`.
    pub(crate) fn new(services: usize, windows: usize, t0: i64) -> HallState {
        HallState {
            lines: (0..services)
                .map(|_| [VecDeque::new(), VecDeque::new(), VecDeque::new()])
                .collect(),
            windows: vec![
                WindowState {
                    busy_until: None,
                    idle_since: t0,
                    serving: None,
                    appointment_run: 0,
                };
                windows
            ],
            waiting: 0,
        }
    }

    /// Becomes a copy of `other`, reusing this state's allocations (forecast runs restart often).
    pub(crate) fn reset_from(&mut self, other: &HallState) {
        self.lines.resize_with(other.lines.len(), Default::default);
        for (dst, src) in self.lines.iter_mut().zip(&other.lines) {
            for (d, s) in dst.iter_mut().zip(src) {
                d.clear();
                d.extend(s.iter().copied());
            }
        }
        self.windows.clear();
        self.windows.extend_from_slice(&other.windows);
        self.waiting = other.waiting;
    }

    /// Puts a ticket at its place in its line (the back, for a ticket issued now).
    pub(crate) fn enqueue(&mut self, t: Ticket) {
        let line = &mut self.lines[t.service][line_of(&t)];
        if line
            .back()
            .is_none_or(|b| (b.queue_at, b.key) <= (t.queue_at, t.key))
        {
            line.push_back(t);
        } else {
            let i = line.partition_point(|x| (x.queue_at, x.key) <= (t.queue_at, t.key));
            line.insert(i, t);
        }
        self.waiting += 1;
    }

    /// The earliest end of a service in progress.
    pub(crate) fn next_completion(&self) -> Option<i64> {
        self.windows.iter().filter_map(|w| w.busy_until).min()
    }

    /// Idle windows in the order they call: the longest idle first, then by index.
    pub(crate) fn idle_windows(&self, out: &mut Vec<usize>) {
        out.clear();
        out.extend((0..self.windows.len()).filter(|&i| self.windows[i].busy_until.is_none()));
        out.sort_by_key(|&i| (self.windows[i].idle_since, i));
    }

    /// Ends the service of window `w` at `t`.
    pub(crate) fn finish(&mut self, w: usize, t: i64) {
        let win = &mut self.windows[w];
        win.busy_until = None;
        win.serving = None;
        win.idle_since = t;
    }

    /// Number of tickets waiting in service `s`'s lines.
    pub(crate) fn waiting_in(&self, s: usize) -> usize {
        self.lines[s].iter().map(VecDeque::len).sum()
    }
}

/// What a call depends on besides the state: the policy and the hall's configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules<'a> {
    pub(crate) policy: Policy,
    pub(crate) services: &'a [ServiceRt],
    pub(crate) windows: &'a [WindowRt],
    pub(crate) breaks: &'a Breaks,
}

/// Builds the candidates for a call and asks the policy; keeps its buffers between calls.
#[derive(Debug, Default)]
pub(crate) struct Caller {
    candidates: Vec<Candidate>,
    slots: Vec<(usize, usize)>,
}

impl Caller {
    /// Window `w` calls its next ticket at `now` under the policy, if it has any candidate: the
    /// ticket leaves its line and the window is busy for `duration(ticket)` milliseconds.
    pub(crate) fn call(
        &mut self,
        rules: Rules<'_>,
        state: &mut HallState,
        w: usize,
        now: i64,
        duration: impl FnOnce(&Ticket) -> i64,
    ) -> Option<Ticket> {
        let (services, window) = (rules.services, &rules.windows[w]);
        self.candidates.clear();
        self.slots.clear();
        for &s in &window.serves {
            for (c, line) in state.lines[s].iter().enumerate() {
                if let Some(t) = line.front() {
                    self.candidates.push(Candidate {
                        key: t.key,
                        service: services[s].code,
                        priority: t.priority,
                        queue_at: at(t.queue_at),
                        target_wait_secs: services[s].target_wait_secs,
                        appointment: t.appointment,
                    });
                    self.slots.push((s, c));
                }
            }
        }
        let run = state.windows[w].appointment_run;
        let i = choose(
            rules.policy,
            &window.skills,
            &self.candidates,
            rules.breaks,
            run,
            at(now),
        )?;
        let (s, c) = self.slots[i];
        let ticket = state.lines[s][c].pop_front()?;
        state.waiting -= 1;
        let d = duration(&ticket).max(1);
        state.windows[w] = WindowState {
            busy_until: Some(now.saturating_add(d)),
            idle_since: now,
            serving: Some((s, now)),
            appointment_run: if ticket.appointment {
                (run + 1).min(crate::queue::policy::APPOINTMENT_RUN)
            } else {
                0
            },
        };
        Some(ticket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn virtual_time_starts_on_a_monday_midnight() {
        assert_eq!(at(0), Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap());
        assert_eq!(at(90_000) - at(0), chrono::Duration::seconds(90));
    }

    #[test]
    fn a_ticket_with_an_earlier_place_goes_before_later_ones() {
        let mut h = HallState::new(1, 1, 0);
        for (key, q) in [(1, 10), (2, 30), (3, 20), (4, 30)] {
            h.enqueue(Ticket {
                key,
                service: 0,
                priority: false,
                queue_at: q,
                appointment: false,
            });
        }
        let keys: Vec<i64> = h.lines[0][1].iter().map(|t| t.key).collect();
        assert_eq!(keys, vec![1, 3, 2, 4]);
        assert_eq!(h.waiting, 4);
        assert_eq!(h.waiting_in(0), 4);
    }

    #[test]
    fn idle_windows_call_longest_idle_first() {
        let mut h = HallState::new(1, 3, 0);
        h.windows[0].idle_since = 50;
        h.windows[1].busy_until = Some(99);
        h.windows[2].idle_since = 20;
        let mut out = Vec::new();
        h.idle_windows(&mut out);
        assert_eq!(out, vec![2, 0]);
    }
}

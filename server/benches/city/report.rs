//! The figures, printed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::Settings;
use crate::bare::Bare;
use crate::boards::BoardLog;
use crate::cpu::CpuSample;
use crate::floor::Floor;
use crate::load::Load;
use crate::seed::Branch;

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub(crate) fn p50_p99(mut v: Vec<Duration>) -> String {
    v.sort();
    format!(
        "p50 {}, p99 {} ({})",
        ms(percentile(&v, 0.5)),
        ms(percentile(&v, 0.99)),
        v.len()
    )
}

pub(crate) struct Report<'a> {
    pub(crate) s: &'a Settings,
    pub(crate) branches: &'a [Branch],
    pub(crate) load: &'a Load,
    pub(crate) logs: &'a [BoardLog],
    pub(crate) floor: &'a Floor,
    pub(crate) bare: &'a Bare,
    pub(crate) peak: f64,
}

impl<'a> Report<'a> {
    pub(crate) fn new(
        s: &'a Settings,
        branches: &'a [Branch],
        load: &'a Load,
        logs: &'a [BoardLog],
        floor: &'a Floor,
        bare: &'a Bare,
        peak: f64,
    ) -> Report<'a> {
        Report {
            s,
            branches,
            load,
            logs,
            floor,
            bare,
            peak,
        }
    }

    /// Tickets acknowledged per second while the offered rate was at its peak (the middle half).
    pub(crate) fn at_peak(&self) -> f64 {
        let Some(t0) = self.load.started else {
            return 0.0;
        };
        let secs = self.s.secs as f64;
        let (from, to) = (
            t0 + Duration::from_secs_f64(secs * 0.25),
            t0 + Duration::from_secs_f64(secs * 0.75),
        );
        let n = self
            .load
            .issued
            .iter()
            .filter(|i| i.done >= from && i.done < to)
            .count();
        n as f64 / (secs * 0.5)
    }

    pub(crate) fn print(&self, cpu: &CpuSample) {
        let l = self.load;
        let secs = self.s.secs as f64;
        let t0 = l.started.unwrap_or_else(Instant::now);
        println!();
        println!(
            "== city: {} branches, {} servers, {} s ==",
            self.branches.len(),
            self.s.servers,
            self.s.secs
        );
        let total = l.issued.len() as f64 / secs;
        let peak = self.at_peak();
        println!(
            "issued: {} tickets, {total:.0}/s over the run; {peak:.0}/s at the peak ({:.0}/s offered there)",
            l.issued.len(),
            self.peak * self.branches.iter().map(|b| b.weight).sum::<f64>()
        );
        let mut per_branch = vec![0_u64; self.branches.len()];
        for i in &l.issued {
            per_branch[i.branch] += 1;
        }
        per_branch.sort_unstable();
        let rate = |n: u64| n as f64 / secs;
        println!(
            "  per branch over the run: min {:.2}/s, median {:.2}/s, max {:.2}/s (sizes 0.5–1.5)",
            rate(per_branch[0]),
            rate(per_branch[per_branch.len() / 2]),
            rate(per_branch[per_branch.len() - 1])
        );
        let tenth = secs / 10.0;
        let bucket =
            |t: Instant| ((t.saturating_duration_since(t0).as_secs_f64() / tenth) as usize).min(9);
        let by_tenth = |at: &mut dyn Iterator<Item = Instant>| {
            let mut n = [0_u64; 10];
            for t in at {
                n[bucket(t)] += 1;
            }
            n.iter()
                .map(|n| format!("{:.0}", *n as f64 / tenth))
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!(
            "  offered/s by tenth: {}",
            by_tenth(&mut l.offered.iter().copied())
        );
        println!(
            "  issued/s by tenth:  {}",
            by_tenth(&mut l.issued.iter().map(|i| i.done))
        );
        // Staff calls share the cores with issuing: as the lines fill, fewer calls find nothing.
        println!(
            "  calls/s by tenth:   {}",
            by_tenth(&mut l.calls.iter().map(|c| c.done))
        );
        println!(
            "  not issued: {} still waiting for a connection at the end, {} failed after every try, {} retries",
            l.unsent,
            l.failed.len(),
            l.retries
        );
        println!(
            "issue (request):      {}",
            p50_p99(l.issued.iter().map(|i| i.done - i.sent).collect())
        );
        println!(
            "issue (from due):     {}",
            p50_p99(l.issued.iter().map(|i| i.done - i.due).collect())
        );
        println!(
            "call-next (ticket):   {}; {:.0} calls/s; {} answered 204 (nothing waiting)",
            p50_p99(l.calls.iter().map(|c| c.done - c.sent).collect()),
            l.calls.len() as f64 / secs,
            l.nothing_waiting
        );
        println!("complete:             {}", p50_p99(l.completes.clone()));
        if !l.staff_errors.is_empty() {
            println!(
                "staff errors: {} (first: {})",
                l.staff_errors.len(),
                l.staff_errors[0]
            );
        }

        // Call → board: each receipt against the call's send instant.
        let mut calls: HashMap<(usize, &str), (usize, Instant)> = HashMap::new();
        for c in &l.calls {
            calls.insert((c.branch, c.number.as_str()), (c.server, c.sent));
        }
        let (mut same, mut other) = (Vec::new(), Vec::new());
        let mut last: HashMap<(usize, &str), Duration> = HashMap::new();
        let mut received = 0_u64;
        for b in self.logs {
            for (number, at) in &b.called {
                let Some((server, sent)) = calls.get(&(b.branch, number.as_str())) else {
                    continue;
                };
                received += 1;
                let d = at.saturating_duration_since(*sent);
                if *server == b.server {
                    same.push(d);
                } else {
                    other.push(d);
                }
                let e = last.entry((b.branch, number.as_str())).or_default();
                *e = (*e).max(d);
            }
        }
        let expected = l.calls.len() as u64 * self.s.boards as u64;
        println!("call → board, same server:   {}", p50_p99(same));
        println!("call → board, other servers: {}", p50_p99(other));
        println!(
            "call → last board of the call: {}; {received} of {expected} receipts",
            p50_p99(last.into_values().collect())
        );
        println!(
            "boards: {} messages, {} resync snapshots, {} seq gaps",
            self.logs.iter().map(|b| b.messages).sum::<u64>(),
            self.logs.iter().map(|b| b.resyncs).sum::<u64>(),
            self.logs.iter().map(|b| b.gaps).sum::<u64>()
        );
        let share = |t: u64| 100.0 * t as f64 / cpu.total.max(1) as f64;
        let ours = cpu.servers + cpu.postgres + cpu.bench;
        println!(
            "cpu during the load (share of all cores): servers {:.0}%, PostgreSQL {:.0}%, this bench {:.0}%, other {:.0}%, idle {:.0}%",
            share(cpu.servers),
            share(cpu.postgres),
            share(cpu.bench),
            share(cpu.busy.saturating_sub(ours)),
            share(cpu.total - cpu.busy)
        );
        let floor = self.floor.transaction.rate;
        println!(
            "floor: {floor:.0} tx/s (BEGIN; INSERT; COMMIT), {:.0}/s (autocommit INSERT)",
            self.floor.autocommit.rate
        );
        println!(
            "ratio: issued/s at the peak ÷ floor = {:.2} (÷ autocommit floor {:.2}); over the run {:.2}; issue #15 asks ≥ 0.5: {}",
            peak / floor,
            peak / self.floor.autocommit.rate,
            total / floor,
            if peak / floor >= 0.5 {
                "holds"
            } else {
                "does not hold"
            }
        );
        let bare = self.bare.rate.rate;
        println!(
            "ratio to a bare server with the fan-out ({bare:.0} issues/s to the last board): {:.2} at the peak, {:.2} over the run",
            peak / bare,
            total / bare
        );
    }
}

//! Where the machine's cores went during the load: the servers, PostgreSQL, this bench, the rest
//! (`/proc`, Linux).

use std::collections::HashMap;

use crate::servers::Server;

#[derive(Debug, Clone, Default)]
pub(crate) struct CpuSample {
    /// All cores' busy and total ticks (`/proc/stat`).
    pub(crate) busy: u64,
    pub(crate) total: u64,
    pub(crate) servers: u64,
    pub(crate) postgres: u64,
    /// Each PostgreSQL process's ticks, by pid (for [`crate::pg_activity`] to say whose).
    pub(crate) postgres_pids: HashMap<u32, u64>,
    pub(crate) bench: u64,
}

/// utime + stime of a process, in ticks.
pub(crate) fn process_ticks(stat: &str) -> u64 {
    // The command name may hold spaces: the fields start after its closing parenthesis.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return 0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, utime 14 and stime 15 (1-based, counting pid and name).
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

impl CpuSample {
    pub(crate) fn take(servers: &[Server]) -> CpuSample {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let stat = read("/proc/stat");
        let cpu: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        let total: u64 = cpu.iter().take(8).sum();
        // idle and iowait.
        let idle = cpu.get(3).copied().unwrap_or(0) + cpu.get(4).copied().unwrap_or(0);
        let mut postgres_pids = HashMap::new();
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for e in dir.flatten() {
                let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                    continue;
                };
                let s = read(&format!("/proc/{pid}/stat"));
                if s.contains("(postgres)") {
                    postgres_pids.insert(pid, process_ticks(&s));
                }
            }
        }
        CpuSample {
            busy: total - idle,
            total,
            servers: servers
                .iter()
                .map(|s| process_ticks(&read(&format!("/proc/{}/stat", s.pid))))
                .sum(),
            postgres: postgres_pids.values().sum(),
            postgres_pids,
            bench: process_ticks(&read("/proc/self/stat")),
        }
    }

    /// The ticks between `before` and this sample. A PostgreSQL process counts what it used
    /// while both samples saw it, or since it started; one that ended in between is not seen.
    pub(crate) fn since(&self, before: &CpuSample) -> CpuSample {
        let postgres_pids: HashMap<u32, u64> = self
            .postgres_pids
            .iter()
            .map(|(pid, t)| {
                let was = before.postgres_pids.get(pid).copied().unwrap_or(0);
                (*pid, t.saturating_sub(was))
            })
            .collect();
        CpuSample {
            busy: self.busy.saturating_sub(before.busy),
            total: self.total.saturating_sub(before.total),
            servers: self.servers.saturating_sub(before.servers),
            postgres: postgres_pids.values().sum(),
            postgres_pids,
            bench: self.bench.saturating_sub(before.bench),
        }
    }
}

//! The check at the end, on the database itself.

use std::collections::{HashMap, HashSet};

use crate::boards::BoardLog;
use crate::load::Load;
use crate::seed::Branch;

/// Every acknowledged ticket once, nothing extra, numbers unique, no ticket called twice, no
/// seq gap on any board. Returns what failed.
pub(crate) async fn check(
    url: &str,
    branches: &[Branch],
    load: &Load,
    logs: &[BoardLog],
) -> anyhow::Result<Vec<String>> {
    use sqlx::{ConnectOptions, Connection};
    let mut failures = Vec::new();
    let mut c = url
        .parse::<sqlx::postgres::PgConnectOptions>()?
        .connect()
        .await?;
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT branch_id, id FROM tickets")
        .fetch_all(&mut c)
        .await?;
    let index: HashMap<i64, usize> = branches
        .iter()
        .enumerate()
        .map(|(i, b)| (b.id, i))
        .collect();
    let mut stored: Vec<HashSet<&str>> = vec![HashSet::new(); branches.len()];
    for (b, id) in &rows {
        match index.get(b) {
            Some(&i) => {
                stored[i].insert(id.as_str());
            }
            None => failures.push(format!(
                "a ticket {id} of branch {b}, which the city never used"
            )),
        }
    }
    let mut acked: Vec<HashSet<&str>> = vec![HashSet::new(); branches.len()];
    let mut lost = Vec::new();
    let mut duplicated = Vec::new();
    for i in &load.issued {
        if !acked[i.branch].insert(i.id.as_str()) {
            duplicated.push(i.id.as_str());
        }
        if !stored[i.branch].contains(i.id.as_str()) {
            lost.push(i.id.as_str());
        }
    }
    if !lost.is_empty() {
        failures.push(format!(
            "{} acknowledged tickets are not in the database (first {})",
            lost.len(),
            lost[0]
        ));
    }
    if !duplicated.is_empty() {
        failures.push(format!(
            "{} tickets were acknowledged to two different requests (first {})",
            duplicated.len(),
            duplicated[0]
        ));
    }
    let mut failed = vec![0_usize; branches.len()];
    for (b, _) in &load.failed {
        failed[*b] += 1;
    }
    for (i, b) in branches.iter().enumerate() {
        let (have, want) = (stored[i].len(), acked[i].len());
        if have < want || have > want + failed[i] {
            failures.push(format!(
                "branch {} holds {have} tickets; {want} were acknowledged and {} requests failed",
                b.id, failed[i]
            ));
        }
    }
    let dup_numbers: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM tickets GROUP BY branch_id, issued_service, day, number \
         HAVING COUNT(*) > 1) d",
    )
    .fetch_one(&mut c)
    .await?;
    if dup_numbers > 0 {
        failures.push(format!(
            "{dup_numbers} numbers were given to two tickets of one branch, service and day"
        ));
    }
    let called_twice: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM ticket_events WHERE kind = 'call' GROUP BY ticket_key \
         HAVING COUNT(*) > 1) d",
    )
    .fetch_one(&mut c)
    .await?;
    if called_twice > 0 {
        failures.push(format!("{called_twice} tickets were called more than once"));
    }
    let calls: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ticket_events WHERE kind = 'call'")
        .fetch_one(&mut c)
        .await?;
    if calls != load.calls.len() as i64 {
        failures.push(format!(
            "the database holds {calls} calls; staff were answered with {}",
            load.calls.len()
        ));
    }
    let mut numbers = HashSet::new();
    for call in &load.calls {
        if !numbers.insert((call.branch, call.number.as_str())) {
            failures.push(format!(
                "{} of branch index {} was called twice",
                call.number, call.branch
            ));
        }
    }
    let gaps: u64 = logs.iter().map(|b| b.gaps).sum();
    if gaps > 0 {
        failures.push(format!("{gaps} events reached a board out of seq order"));
    }
    if !load.failed.is_empty() {
        println!(
            "note: {} issue requests failed after every try (first: {})",
            load.failed.len(),
            load.failed[0].1
        );
    }
    c.close().await?;
    Ok(failures)
}

/// Each branch's last event seq (by branch index), once the load is over.
pub(crate) async fn event_seqs(url: &str, branches: &[Branch]) -> anyhow::Result<Vec<u64>> {
    use sqlx::{ConnectOptions, Connection};
    let mut c = url
        .parse::<sqlx::postgres::PgConnectOptions>()?
        .connect()
        .await?;
    let rows: HashMap<i64, i64> =
        sqlx::query_as::<_, (i64, i64)>("SELECT id, event_seq FROM branches")
            .fetch_all(&mut c)
            .await?
            .into_iter()
            .collect();
    c.close().await?;
    Ok(branches
        .iter()
        .map(|b| u64::try_from(rows.get(&b.id).copied().unwrap_or(0)).unwrap_or(0))
        .collect())
}

//! How every server learns of the events any server committed, and publishes each branch's in
//! seq order, none twice, none lost.
//!
//! PostgreSQL takes a database-wide lock at the commit of a transaction that sent `NOTIFY` and
//! holds it until the commit is done. When each write sent its own notifications, the commits
//! of every branch queued on that one lock: the `city` bench found most issuing connections
//! waiting for `lock (object)`. So a write transaction only stores its events
//! (`stream_events`), and once it has committed, the server that made it
//!
//! - hands them to its own publisher at once ([`Relay::committed`], [`Relay::committed_branch`]),
//!   so its boards do not wait for a round trip, and
//! - tells the other servers in its notifier's next statement: one autocommitted statement for
//!   whatever committed while the previous one was out, with `NOTIFY qhall_events, 'BRANCH SEQ
//!   BODY'`, or `'BRANCH SEQ'` for a body too long to travel with it
//!   ([`super::PAYLOAD_BODY_MAX`]). The lock is then taken once per statement of three
//!   notifiers, not once per write of every branch. (Walk-ins issued together come back from
//!   their statement with their events, migration 0039, and go the same way.)
//!
//! Each server's one publisher task takes its own commits and every notification. An event whose
//! predecessor it published goes out with the body it came with; otherwise the branch's events
//! after the last one published are read from `stream_events`, for every such branch of a round
//! in one query. It also reads every branch's seq once a [`SWEEP`] and after the listening
//! connection reconnects, so a notification that never came (a server killed between its commit
//! and its notifier's statement; a dropped connection) delays events by at most that.
//!
//! Rolling upgrades: an older server's writes still notify inside their transaction, in the same
//! format, and the issuing functions do too for a connection that has not set `qhall.notify =
//! after_commit` (migration 0038); this publisher reads those like any other.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use super::{CHANNEL, notification};
use crate::events::Hub;

/// The most events of a branch read in one query (a long outage is read in several).
const BATCH: i64 = 2000;

/// How often every branch's seq is read, in case a notification never came.
pub(super) const SWEEP: Duration = Duration::from_secs(1);

/// The most notifications in one notifier statement, and hints in one publishing round.
const ROUND_MAX: usize = 1000;

/// What the publisher learns: that a branch has committed events.
#[derive(Debug, PartialEq)]
enum Hint {
    /// Event `seq` of `branch`, with its body when it came along.
    Event {
        branch: i64,
        seq: u64,
        body: Option<String>,
    },
    /// Any branch may have: compare every branch's seq.
    All,
}

/// A server's publisher, listener and notifier.
pub(super) struct Relay {
    local: mpsc::UnboundedSender<Hint>,
    outgoing: Arc<Outgoing>,
    tasks: Vec<JoinHandle<()>>,
}

/// What the notifier tells the other servers next.
#[derive(Default)]
struct Outgoing {
    queue: Mutex<Vec<String>>,
    wake: Notify,
}

impl Relay {
    /// Listens, reads where every branch stands, and starts the three tasks.
    pub(super) async fn start(url: &str, pool: PgPool, hub: Arc<Hub>) -> anyhow::Result<Self> {
        let mut listener = PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        // Listening first, then the starting points: nothing committed in between is missed.
        let last: HashMap<i64, u64> = branch_seqs(&pool).await?.into_iter().collect();
        let (local, hints) = mpsc::unbounded_channel();
        let outgoing = Arc::new(Outgoing::default());
        let tasks = vec![
            tokio::spawn(receive(listener, local.clone())),
            tokio::spawn(publish(hints, pool.clone(), hub, last)),
            tokio::spawn(notify(outgoing.clone(), pool)),
        ];
        Ok(Relay {
            local,
            outgoing,
            tasks,
        })
    }

    /// Events `(branch, seq, at, body)` this server has committed.
    pub(super) fn committed(&self, events: Vec<(i64, i64, i64, String)>) {
        {
            let mut queue = self
                .outgoing
                .queue
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            queue.extend(
                events
                    .iter()
                    .map(|(b, s, _, body)| notification(*b, *s, body)),
            );
        }
        self.outgoing.wake.notify_one();
        for (branch, seq, _, body) in events {
            let _ = self.local.send(Hint::Event {
                branch,
                seq: seq as u64,
                body: Some(body),
            });
        }
    }

    pub(super) fn stop(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn branch_seqs(pool: &PgPool) -> sqlx::Result<Vec<(i64, u64)>> {
    Ok(
        sqlx::query_as::<_, (i64, i64)>("SELECT id, event_seq FROM branches")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|(b, s)| (b, s as u64))
            .collect(),
    )
}

/// `'BRANCH SEQ BODY'` or `'BRANCH SEQ'`.
fn parse(payload: &str) -> Option<Hint> {
    let mut parts = payload.splitn(3, ' ');
    let branch = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    Some(Hint::Event {
        branch,
        seq,
        body: parts.next().map(str::to_owned),
    })
}

/// Turns notifications from any server into hints.
async fn receive(mut listener: PgListener, to: mpsc::UnboundedSender<Hint>) {
    loop {
        let hint = match listener.try_recv().await {
            Ok(Some(n)) => match parse(n.payload()) {
                Some(h) => h,
                None => {
                    tracing::warn!("unexpected notification");
                    continue;
                }
            },
            Ok(None) => {
                // The connection dropped and has been re-established: read what was missed.
                tracing::warn!("event listener reconnected; catching up");
                Hint::All
            }
            Err(e) => {
                tracing::warn!(error = %e, "event listener lost its connection; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                Hint::All
            }
        };
        if to.send(hint).is_err() {
            return;
        }
    }
}

/// Sends what this server committed to the others, one statement at a time.
async fn notify(outgoing: Arc<Outgoing>, pool: PgPool) {
    loop {
        outgoing.wake.notified().await;
        loop {
            let payloads: Vec<String> = {
                let mut queue = outgoing.queue.lock().unwrap_or_else(|e| e.into_inner());
                let n = queue.len().min(ROUND_MAX);
                queue.drain(..n).collect()
            };
            if payloads.is_empty() {
                break;
            }
            // Notifications are not kept across a crash of PostgreSQL anyway: the statement's
            // commit need not wait for the disk, whatever `--durability` says.
            let sent = sqlx::query(
                "SELECT pg_notify($1, p) \
                 FROM unnest($2::TEXT[]) AS p, set_config('synchronous_commit', 'off', true) s",
            )
            .bind(CHANNEL)
            .bind(&payloads)
            .execute(&pool)
            .await;
            if let Err(e) = sent {
                // The other servers' sweeps find these events within a second.
                tracing::warn!(error = %e, "notifying the other servers failed");
            }
        }
    }
}

/// Publishes hints as they come, a round at a time, and sweeps every [`SWEEP`].
async fn publish(
    mut hints: mpsc::UnboundedReceiver<Hint>,
    pool: PgPool,
    hub: Arc<Hub>,
    mut last: HashMap<i64, u64>,
) {
    let mut sweep = tokio::time::interval(SWEEP);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut round = Vec::new();
        tokio::select! {
            hint = hints.recv() => match hint {
                Some(h) => round.push(h),
                None => return,
            },
            _ = sweep.tick() => round.push(Hint::All),
        }
        while round.len() < ROUND_MAX {
            match hints.try_recv() {
                Ok(h) => round.push(h),
                Err(_) => break,
            }
        }
        // On failure `last` stays where the published events are: the next sweep reads the rest.
        if let Err(e) = publish_round(&pool, &hub, &mut last, round).await {
            tracing::warn!(error = %e, "reading committed events failed");
        }
    }
}

async fn publish_round(
    pool: &PgPool,
    hub: &Hub,
    last: &mut HashMap<i64, u64>,
    hints: Vec<Hint>,
) -> anyhow::Result<()> {
    let mut round = Round::new(last);
    let mut swept = false;
    for hint in hints {
        if hint == Hint::All {
            if std::mem::replace(&mut swept, true) {
                continue; // Once a round is enough.
            }
            for (branch, seq) in branch_seqs(pool).await? {
                round.hint(Hint::Event {
                    branch,
                    seq,
                    body: None,
                });
            }
        } else {
            round.hint(hint);
        }
    }
    hub.publish(std::mem::take(&mut round.now));
    let mut unread = round.unread();
    while !unread.is_empty() {
        let after: Vec<i64> = unread.iter().map(|b| round.last(*b) as i64).collect();
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT w.branch, e.seq, e.body \
             FROM UNNEST($1::BIGINT[], $2::BIGINT[]) AS w(branch, after) \
             CROSS JOIN LATERAL (SELECT seq, body FROM stream_events \
                                 WHERE branch_id = w.branch AND seq > w.after \
                                 ORDER BY seq LIMIT $3) e \
             ORDER BY w.branch, e.seq",
        )
        .bind(&unread)
        .bind(&after)
        .bind(BATCH)
        .fetch_all(pool)
        .await?;
        unread = round.read(rows);
    }
    hub.publish(round.finish());
    Ok(())
}

/// One publishing round's decisions, over the last seq published per branch.
struct Round<'a> {
    last: &'a mut HashMap<i64, u64>,
    /// To publish now, with the bodies that came along.
    now: Vec<(i64, u64, String)>,
    /// Branches to read from the table, in the order they came up.
    reads: Vec<i64>,
    reading: HashSet<i64>,
    /// Bodies that came along for a branch being read, to publish after what is read.
    held: HashMap<i64, Vec<(u64, String)>>,
    /// Read from the table.
    read: Vec<(i64, u64, String)>,
}

impl<'a> Round<'a> {
    fn new(last: &'a mut HashMap<i64, u64>) -> Self {
        Round {
            last,
            now: Vec::new(),
            reads: Vec::new(),
            reading: HashSet::new(),
            held: HashMap::new(),
            read: Vec::new(),
        }
    }

    fn last(&self, branch: i64) -> u64 {
        // A branch created after this server started begins at seq 1.
        self.last.get(&branch).copied().unwrap_or(0)
    }

    fn read_later(&mut self, branch: i64) {
        if self.reading.insert(branch) {
            self.reads.push(branch);
        }
    }

    fn hint(&mut self, hint: Hint) {
        match hint {
            Hint::Event { branch, seq, body } => {
                let last = self.last(branch);
                if seq <= last {
                    return; // Published already (this server's own, heard back).
                }
                match body {
                    Some(body) if seq == last + 1 && !self.reading.contains(&branch) => {
                        self.last.insert(branch, seq);
                        self.now.push((branch, seq, body));
                    }
                    Some(body) => {
                        self.read_later(branch);
                        self.held.entry(branch).or_default().push((seq, body));
                    }
                    None => self.read_later(branch),
                }
            }
            Hint::All => {}
        }
    }

    /// The branches to read, all of them at first.
    fn unread(&self) -> Vec<i64> {
        self.reads.clone()
    }

    /// Takes rows read (ordered by branch and seq, at most [`BATCH`] a branch); returns the
    /// branches that may have more.
    fn read(&mut self, rows: Vec<(i64, i64, String)>) -> Vec<i64> {
        let mut counts: HashMap<i64, i64> = HashMap::new();
        for (branch, seq, body) in rows {
            *counts.entry(branch).or_default() += 1;
            let seq = seq as u64;
            if seq > self.last(branch) {
                self.last.insert(branch, seq);
                self.read.push((branch, seq, body));
            }
        }
        counts
            .into_iter()
            .filter(|&(_, n)| n >= BATCH)
            .map(|(b, _)| b)
            .collect()
    }

    /// What was read, then the held bodies past it. A held body still past a gap follows the
    /// gap (the events in between were pruned: boards see the gap and resynchronise).
    fn finish(mut self) -> Vec<(i64, u64, String)> {
        let mut out = std::mem::take(&mut self.read);
        for branch in std::mem::take(&mut self.reads) {
            let Some(mut held) = self.held.remove(&branch) else {
                continue;
            };
            held.sort_by_key(|(seq, _)| *seq);
            for (seq, body) in held {
                if seq > self.last(branch) {
                    self.last.insert(branch, seq);
                    out.push((branch, seq, body));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(branch: i64, seq: u64, body: Option<&str>) -> Hint {
        Hint::Event {
            branch,
            seq,
            body: body.map(str::to_owned),
        }
    }

    #[test]
    fn a_notification_names_branch_and_seq_and_may_carry_the_body() {
        assert_eq!(
            parse("3 41 {\"a\": 1}"),
            Some(event(3, 41, Some("{\"a\": 1}")))
        );
        assert_eq!(parse("3 42"), Some(event(3, 42, None)));
        assert_eq!(parse("3"), None);
        assert_eq!(parse("x 1 {}"), None);
    }

    #[test]
    fn the_next_event_with_its_body_goes_out_without_a_read_and_a_repeat_not_at_all() {
        let mut last = HashMap::from([(1, 5)]);
        let mut round = Round::new(&mut last);
        round.hint(event(1, 6, Some("six")));
        round.hint(event(1, 6, Some("six")));
        round.hint(event(1, 5, None));
        round.hint(event(1, 7, Some("seven")));
        assert_eq!(
            round.now,
            [(1, 6, "six".to_owned()), (1, 7, "seven".to_owned())]
        );
        assert!(round.unread().is_empty());
        assert!(round.finish().is_empty());
        assert_eq!(last[&1], 7);
    }

    #[test]
    fn a_gap_is_read_first_and_bodies_behind_it_wait_for_the_read() {
        let mut last = HashMap::from([(1, 5), (2, 0)]);
        let mut round = Round::new(&mut last);
        round.hint(event(1, 8, Some("eight")));
        round.hint(event(2, 1, Some("b1")));
        round.hint(event(1, 6, Some("six"))); // Behind a branch being read: held, not sent now.
        round.hint(event(2, 2, None)); // Body too long to travel: read.
        round.hint(event(2, 2, Some("b2")));
        assert_eq!(round.now, [(2, 1, "b1".to_owned())]);
        assert_eq!(round.unread(), [1, 2]);
        let more = round.read(vec![
            (1, 6, "six".into()),
            (1, 7, "seven".into()),
            (2, 2, "b2".into()),
        ]);
        assert!(more.is_empty());
        assert_eq!(
            round.finish(),
            [
                (1, 6, "six".to_owned()),
                (1, 7, "seven".to_owned()),
                (2, 2, "b2".to_owned()),
                (1, 8, "eight".to_owned()),
            ]
        );
        assert_eq!(last, HashMap::from([(1, 8), (2, 2)]));
    }

    #[test]
    fn a_pruned_gap_is_passed_over_and_a_full_read_asks_for_more() {
        let mut last = HashMap::from([(1, 5)]);
        let mut round = Round::new(&mut last);
        round.hint(event(1, 9, Some("nine")));
        round.hint(event(4, 3, None)); // A branch this server has not seen yet.
        assert_eq!(round.unread(), [1, 4]);
        let rows: Vec<(i64, i64, String)> = (1..=BATCH).map(|s| (4, s, s.to_string())).collect();
        assert_eq!(round.read(rows), [4]);
        assert!(round.read(Vec::new()).is_empty());
        let out = round.finish();
        assert_eq!(out.len() as i64, BATCH + 1);
        assert_eq!(out.last(), Some(&(1, 9, "nine".to_owned())));
        assert_eq!(last, HashMap::from([(1, 9), (4, BATCH as u64)]));
    }
}

//! The reads that every board, kiosk and phone repeats — the board's state (a board's snapshot,
//! the kiosk's hall) and the services with their waits (the kiosk's buttons, the public hall
//! page) — kept per branch while the branch is as it was when they were read.
//!
//! "As it was" is the branch's [`Stamp`]: its stream `seq`, which every change a board can see
//! moves, and its `config_version`, which every change of services, windows or hours moves. One
//! indexed read of the branch's row (one round trip) tells whether a kept read is current; a
//! kept read is taken only when the stamp is the same, and in any case for at most
//! [`KEEP_FOR`] (of the caller's clock and of the machine's): the reads also depend on the time
//! (a notice's dates, the estimate's recent services and the forecast's hour), which no stamp
//! moves. The stamp is read from the database, not from this server's own events, so a change
//! made through another server is seen as soon as it is committed.
//!
//! A miss reads the branch as before, in one transaction whose own `seq` and configuration
//! become the kept read's stamp (both read in the same snapshot). One read of a branch fills at
//! a time ([`ReadCache::filling`]): the thousand boards that reconnect together after a restart
//! wait for the first one's read and take it, instead of reading the branch a thousand times.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{BoardState, BranchConfig};
use crate::forecast::ForecastTable;

/// The longest a read is kept, even when nothing moved its stamp.
pub const KEEP_FOR: Duration = Duration::from_secs(2);

/// The branch as far as the kept reads depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub seq: u64,
    pub config_version: i64,
}

/// The board's state and the configuration it was read with.
pub type Board = (Arc<BranchConfig>, Arc<BoardState>);

/// Per service of the configuration, in its order: waiting, and the estimate a ticket issued
/// now would get; with the forecast the estimates were made with.
#[derive(Debug, Clone)]
pub struct Lines {
    pub config: Arc<BranchConfig>,
    pub lines: Arc<Vec<(u32, u64)>>,
    pub forecast: Option<Arc<ForecastTable>>,
}

struct Kept<T> {
    stamp: Stamp,
    read_at: DateTime<Utc>,
    kept_at: Instant,
    value: T,
}

/// One kind of read, per branch.
struct Shelf<T>(Mutex<HashMap<i64, Kept<T>>>);

impl<T> Default for Shelf<T> {
    fn default() -> Self {
        Shelf(Mutex::default())
    }
}

impl<T: Clone> Shelf<T> {
    fn get(
        &self,
        branch: i64,
        stamp: Stamp,
        now: DateTime<Utc>,
        fits: impl FnOnce(&T) -> bool,
    ) -> Option<T> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let k = kept.get(&branch)?;
        let keep = chrono::Duration::from_std(KEEP_FOR).unwrap_or_default();
        (k.stamp == stamp
            && k.kept_at.elapsed() < KEEP_FOR
            && (now - k.read_at).abs() < keep
            && fits(&k.value))
        .then(|| k.value.clone())
    }

    /// Keeps `value`, unless what is kept is of a later seq (a slower reader's older read
    /// does not replace a newer one).
    fn put(&self, branch: i64, stamp: Stamp, now: DateTime<Utc>, value: T) {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if kept
            .get(&branch)
            .is_some_and(|k| k.stamp.seq > stamp.seq && k.kept_at.elapsed() < KEEP_FOR)
        {
            return;
        }
        kept.insert(
            branch,
            Kept {
                stamp,
                read_at: now,
                kept_at: Instant::now(),
                value,
            },
        );
    }
}

/// The kept reads of every branch, and how often they answered.
#[derive(Default)]
pub struct ReadCache {
    board: Shelf<Board>,
    lines: Shelf<Lines>,
    /// Per branch and kind of read: held by the one request reading it from the database.
    fills: Mutex<HashMap<(i64, Kind), Fill>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Held by the one request reading a branch's read from the database.
type Fill = Arc<tokio::sync::Mutex<()>>;

/// The kinds of kept read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Board,
    Lines,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("hits", &self.hits())
            .field("misses", &self.misses())
            .finish_non_exhaustive()
    }
}

impl ReadCache {
    /// Waits until no other request is reading this kind of read of `branch` from the
    /// database; the caller then looks again before reading it itself.
    pub(crate) async fn filling(
        &self,
        branch: i64,
        kind: Kind,
    ) -> tokio::sync::OwnedMutexGuard<()> {
        let fill = self
            .fills
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((branch, kind))
            .or_default()
            .clone();
        fill.lock_owned().await
    }

    pub(crate) fn board(&self, branch: i64, stamp: Stamp, now: DateTime<Utc>) -> Option<Board> {
        self.board.get(branch, stamp, now, |_| true)
    }

    pub(crate) fn keep_board(&self, branch: i64, stamp: Stamp, now: DateTime<Utc>, b: Board) {
        self.board.put(branch, stamp, now, b);
    }

    /// The kept lines, if they were estimated with `forecast` (the one the server has now).
    pub(crate) fn lines(
        &self,
        branch: i64,
        stamp: Stamp,
        now: DateTime<Utc>,
        forecast: Option<&Arc<ForecastTable>>,
    ) -> Option<Lines> {
        let same_forecast = |l: &Lines| match (&l.forecast, forecast) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        self.lines.get(branch, stamp, now, same_forecast)
    }

    pub(crate) fn keep_lines(&self, branch: i64, stamp: Stamp, now: DateTime<Utc>, l: Lines) {
        self.lines.put(branch, stamp, now, l);
    }

    /// Counts a read answered from what was kept (`true`) or from the database.
    pub(crate) fn count<T>(&self, kept: bool, value: T) -> T {
        let counter = if kept { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        value
    }

    /// Reads answered from what was kept, since start.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Reads that went to the database, since start.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(seq: u64, config_version: i64) -> Stamp {
        Stamp {
            seq,
            config_version,
        }
    }

    #[test]
    fn a_read_is_kept_only_for_the_same_stamp_and_a_near_time() {
        let shelf: Shelf<u32> = Shelf::default();
        let now = Utc::now();
        shelf.put(1, stamp(5, 2), now, 7);
        assert_eq!(shelf.get(1, stamp(5, 2), now, |_| true), Some(7));
        assert_eq!(
            shelf.get(1, stamp(5, 2), now + chrono::Duration::seconds(1), |_| true),
            Some(7)
        );
        assert_eq!(shelf.get(1, stamp(6, 2), now, |_| true), None, "seq moved");
        assert_eq!(
            shelf.get(1, stamp(5, 3), now, |_| true),
            None,
            "config moved"
        );
        assert_eq!(
            shelf.get(2, stamp(5, 2), now, |_| true),
            None,
            "another branch"
        );
        assert_eq!(
            shelf.get(1, stamp(5, 2), now + chrono::Duration::seconds(2), |_| true),
            None,
            "the caller's clock moved on"
        );
        assert_eq!(
            shelf.get(1, stamp(5, 2), now - chrono::Duration::seconds(3), |_| true),
            None
        );
        assert_eq!(shelf.get(1, stamp(5, 2), now, |_| false), None);
    }

    #[test]
    fn an_older_read_does_not_replace_a_newer_one() {
        let shelf: Shelf<u32> = Shelf::default();
        let now = Utc::now();
        shelf.put(1, stamp(9, 1), now, 9);
        shelf.put(1, stamp(8, 1), now, 8);
        assert_eq!(shelf.get(1, stamp(9, 1), now, |_| true), Some(9));
        shelf.put(1, stamp(10, 1), now, 10);
        assert_eq!(shelf.get(1, stamp(10, 1), now, |_| true), Some(10));
    }
}

//! The hub that fans stream events out to WebSocket clients.
//!
//! Each committed event is serialized once (by the store, which also keeps it for `?since`
//! replay) and offered to every [`Board`] of its branch, in seq order. Offering never waits for
//! a client: a board takes the frame at once, or keeps it for later, or — more than
//! [`CAPACITY`] frames behind — notes that it lagged and is given a fresh snapshot instead (see
//! [`crate::http::events`]).
//!
//! The offers are made by relay tasks on the runtime (one per worker, each with its share of the
//! boards), which write each frame straight into the sockets of the boards that are up to date.
//! A tokio broadcast channel (the first design) wakes one task per client per frame, which then
//! receives, clones and sends, and registers again; for 1,000 boards that was more than the
//! sends themselves outside the kernel (perf, the `fanout` bench: 1.17× a bare axum broadcast's
//! last-board median and 1.22–1.30× its CPU per call). With the relays, ten runs gave 1.02–1.11×
//! (one 1.45×) and 1.08–1.18× (two above 1.15×); less the idle window, the CPU is 0.95–1.08×:
//! what remains is the call itself (request, transaction, checkpoint) and the boards' pings,
//! which the bare server does not do. The store publishes from its own thread (SQLite's
//! writer): the relay also keeps the sends off it, so a commit never waits for a fan-out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;

/// How many events a client may fall behind before it is resynchronised with a snapshot.
pub const CAPACITY: usize = 4096;
/// Boards offered a frame between two yields of the relay, so a large hall's fan-out does not
/// hold a worker for its whole length.
const OFFERS_PER_TURN: usize = 128;

/// One serialized message.
#[derive(Debug, Clone)]
pub struct Frame {
    pub seq: u64,
    pub text: Utf8Bytes,
}

/// A subscriber of a branch's frames.
pub trait Board: Send + Sync {
    /// Takes `frame`, the branch's next, without waiting: sent, kept, or noted as lagged.
    fn offer(&self, frame: &Frame);
}

/// A branch's boards of one relay, replaced as a whole when one joins or leaves (the relay reads
/// it without holding the hub's lock).
type Boards = Arc<Vec<Arc<dyn Board>>>;

/// The boards of each branch, and the relays that offer them frames.
#[derive(Default)]
pub struct Hub {
    /// Per branch and relay.
    branches: Mutex<HashMap<(i64, usize), Boards>>,
    /// The seq of each branch's latest published message (the forecast watches it).
    latest: Mutex<HashMap<i64, u64>>,
    clients: AtomicI64,
    /// One task per runtime worker, each offering frames to its share of the boards in
    /// publishing order (a board stays with one relay); started by the first board.
    relays: OnceLock<Vec<mpsc::UnboundedSender<(Boards, Frame)>>>,
    /// The relay of the next board to join.
    next_relay: AtomicUsize,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("clients", &self.clients())
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// Offers `board` every frame of `branch` published from now on, while the guard lives.
    pub fn join(&self, branch: i64, board: Arc<dyn Board>) -> Joined<'_> {
        self.start_relays();
        let relays = self.relays.get().map_or(1, Vec::len);
        let relay = self.next_relay.fetch_add(1, Ordering::Relaxed) % relays;
        let mut map = self.branches.lock().unwrap_or_else(|e| e.into_inner());
        let boards = map.entry((branch, relay)).or_default();
        let mut with = Vec::with_capacity(boards.len() + 1);
        with.extend(boards.iter().cloned());
        with.push(board.clone());
        *boards = Arc::new(with);
        Joined {
            hub: self,
            key: (branch, relay),
            board,
        }
    }

    /// Starts the relays on the current runtime, once (and not outside one).
    fn start_relays(&self) {
        if self.relays.get().is_some() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..runtime.metrics().num_workers().max(1))
            .map(|_| mpsc::unbounded_channel::<(Boards, Frame)>())
            .unzip();
        if self.relays.set(senders).is_ok() {
            for rx in receivers {
                // Unconstrained: within tokio's budget, every socket write past the 128th of a
                // turn would be refused (and its client's task woken to do it instead).
                runtime.spawn(tokio::task::unconstrained(relay(rx)));
            }
        }
    }

    /// Offers committed messages, in seq order, to their branches' boards.
    pub fn publish(&self, messages: Vec<(i64, u64, String)>) {
        if messages.is_empty() {
            return;
        }
        {
            let mut latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
            for (b, s, _) in &messages {
                let e = latest.entry(*b).or_insert(0);
                *e = (*e).max(*s);
            }
        }
        let relays = self.relays.get();
        let count = relays.map_or(1, Vec::len);
        for (branch, seq, text) in messages {
            // No boards is fine: the message is in the database for later replay.
            let boards: Vec<(usize, Boards)> = {
                let map = self.branches.lock().unwrap_or_else(|e| e.into_inner());
                (0..count)
                    .filter_map(|r| Some((r, map.get(&(branch, r))?.clone())))
                    .filter(|(_, b)| !b.is_empty())
                    .collect()
            };
            if boards.is_empty() {
                continue;
            }
            let frame = Frame {
                seq,
                text: Utf8Bytes::from(text),
            };
            for (r, boards) in boards {
                let Some(relays) = relays else {
                    offer(&boards, &frame);
                    continue;
                };
                if let Err(mpsc::error::SendError((boards, frame))) =
                    relays[r].send((boards, frame.clone()))
                {
                    // The runtime is gone; so, almost surely, are the boards.
                    offer(&boards, &frame);
                }
            }
        }
    }

    /// The seq of the branch's latest published message since the server started.
    pub fn latest_seq(&self, branch: i64) -> Option<u64> {
        self.latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&branch)
            .copied()
    }

    /// Connected WebSocket clients, for `/metrics`.
    pub fn clients(&self) -> i64 {
        self.clients.load(Ordering::Relaxed)
    }

    /// Counts a client for as long as the guard lives.
    pub fn client_guard(&self) -> ClientGuard<'_> {
        self.clients.fetch_add(1, Ordering::Relaxed);
        ClientGuard(self)
    }
}

/// A relay: offers each frame to its boards, yielding the worker every [`OFFERS_PER_TURN`].
async fn relay(mut rx: mpsc::UnboundedReceiver<(Boards, Frame)>) {
    while let Some((boards, frame)) = rx.recv().await {
        let mut turns = boards.chunks(OFFERS_PER_TURN).peekable();
        while let Some(turn) = turns.next() {
            offer(turn, &frame);
            if turns.peek().is_some() {
                tokio::task::yield_now().await;
            }
        }
    }
}

fn offer(boards: &[Arc<dyn Board>], frame: &Frame) {
    for b in boards {
        b.offer(frame);
    }
}

/// A board's place in its branch's list: it leaves when this is dropped.
pub struct Joined<'a> {
    hub: &'a Hub,
    key: (i64, usize),
    board: Arc<dyn Board>,
}

impl Drop for Joined<'_> {
    fn drop(&mut self) {
        let mut map = self.hub.branches.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(boards) = map.get_mut(&self.key) {
            let without: Vec<_> = boards
                .iter()
                .filter(|b| !Arc::ptr_eq(b, &self.board))
                .cloned()
                .collect();
            *boards = Arc::new(without);
        }
    }
}

/// Keeps a client counted.
#[derive(Debug)]
pub struct ClientGuard<'a>(&'a Hub);

impl Drop for ClientGuard<'_> {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Seen(Mutex<Vec<u64>>);

    impl Board for Seen {
        fn offer(&self, frame: &Frame) {
            self.0.lock().unwrap().push(frame.seq);
        }
    }

    fn message(branch: i64, seq: u64) -> (i64, u64, String) {
        (branch, seq, format!("{{\"seq\":{seq}}}"))
    }

    #[test]
    fn a_board_is_offered_its_branchs_frames_in_order_while_joined() {
        let hub = Hub::default();
        let (a, b) = (Arc::new(Seen::default()), Arc::new(Seen::default()));
        let joined = hub.join(1, a.clone());
        let _other = hub.join(2, b.clone());
        hub.publish(vec![message(1, 1), message(2, 1), message(1, 2)]);
        drop(joined);
        hub.publish(vec![message(1, 3)]);
        assert_eq!(*a.0.lock().unwrap(), [1, 2]);
        assert_eq!(*b.0.lock().unwrap(), [1]);
        assert_eq!(hub.latest_seq(1), Some(3));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_relays_offer_each_board_every_frame_in_publishing_order() {
        let hub = Arc::new(Hub::default());
        let boards: Vec<Arc<Seen>> = (0..5).map(|_| Arc::new(Seen::default())).collect();
        let _joined: Vec<_> = boards.iter().map(|b| hub.join(1, b.clone())).collect();
        assert_eq!(hub.relays.get().map(Vec::len), Some(2));
        // From a thread outside the runtime, as SQLite's writer publishes.
        let publisher = hub.clone();
        std::thread::spawn(move || {
            for seq in 1..=1000 {
                publisher.publish(vec![message(1, seq)]);
            }
        })
        .join()
        .unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while boards.iter().any(|b| b.0.lock().unwrap().len() < 1000) {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap();
        for b in &boards {
            assert!(b.0.lock().unwrap().iter().copied().eq(1..=1000));
        }
    }
}

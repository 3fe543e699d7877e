//! The hub that fans stream events out to WebSocket clients.
//!
//! Each committed event is serialized once (by the store, which also keeps it for `?since`
//! replay) and sent to every subscriber of its branch through a bounded broadcast channel.
//! Sending never waits for a client: a client that falls more than the channel's capacity
//! behind misses messages and is given a fresh snapshot instead (see [`crate::http::events`]).
//!
//! The store publishes from its own thread (SQLite's writer), outside the runtime. Sent from
//! there, a frame wakes each client's task through the runtime's shared queue, a locked push
//! per client (1,000 per call for a hall's boards); so a relay task on the runtime does the
//! sending, and the wakes go to its worker's own queue, as for a frame sent from a handler.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, OnceLock};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{broadcast, mpsc};

/// How many events a client may fall behind before it is resynchronised with a snapshot.
const CAPACITY: usize = 4096;

/// One serialized message.
#[derive(Debug, Clone)]
pub struct Frame {
    pub seq: u64,
    pub text: Utf8Bytes,
}

/// Per-branch broadcast channels.
#[derive(Debug, Default)]
pub struct Hub {
    branches: Mutex<HashMap<i64, broadcast::Sender<Frame>>>,
    /// The seq of each branch's latest published message (the forecast watches it).
    latest: Mutex<HashMap<i64, u64>>,
    clients: AtomicI64,
    /// Sends frames to their channels from a task on the runtime, in publishing order; started
    /// by the first subscriber.
    relay: OnceLock<mpsc::UnboundedSender<(broadcast::Sender<Frame>, Frame)>>,
}

impl Hub {
    fn sender(&self, branch: i64) -> broadcast::Sender<Frame> {
        let mut map = self.branches.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(branch)
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .clone()
    }

    /// A receiver of every event of `branch` published from now on.
    pub fn subscribe(&self, branch: i64) -> broadcast::Receiver<Frame> {
        self.start_relay();
        self.sender(branch).subscribe()
    }

    /// Starts the relay on the current runtime, once (and not outside one).
    fn start_relay(&self) {
        if self.relay.get().is_some() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (tx, mut rx) = mpsc::unbounded_channel::<(broadcast::Sender<Frame>, Frame)>();
        if self.relay.set(tx).is_ok() {
            runtime.spawn(async move {
                while let Some((to, frame)) = rx.recv().await {
                    let _ = to.send(frame);
                }
            });
        }
    }

    /// Sends committed messages, in seq order, to the branch's subscribers.
    pub fn publish(&self, messages: Vec<(i64, u64, String)>) {
        if !messages.is_empty() {
            let mut latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
            for (b, s, _) in &messages {
                let e = latest.entry(*b).or_insert(0);
                *e = (*e).max(*s);
            }
        }
        for (branch, seq, text) in messages {
            let to = self.sender(branch);
            let frame = Frame {
                seq,
                text: Utf8Bytes::from(text),
            };
            // No subscribers is fine: the message is in the database for later replay.
            match self.relay.get() {
                Some(relay) => {
                    if let Err(mpsc::error::SendError((to, frame))) = relay.send((to, frame)) {
                        // The runtime is gone; so, almost surely, are the subscribers.
                        let _ = to.send(frame);
                    }
                }
                None => {
                    let _ = to.send(frame);
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

/// Keeps a client counted.
#[derive(Debug)]
pub struct ClientGuard<'a>(&'a Hub);

impl Drop for ClientGuard<'_> {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::Relaxed);
    }
}

//! Stopping a simulation from outside: a shared flag the simulator reads between days, between
//! policies, at every event of a day and every 1,024 events of a forecast run, so that a raised
//! flag ends the work within milliseconds wherever it is.
//!
//! The server raises it when a simulation's wall-clock budget runs out, when the server shuts
//! down, and — through [`CancelOnDrop`] — when the request's handler is dropped because its
//! client went away. The command line never raises it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The flag; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A flag not raised yet.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Raises the flag: the simulation stops at its next check.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the flag is raised.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// A guard that raises the flag when it is dropped (keep it in the future that waits for
    /// the simulation: if that future is dropped, the simulation stops too).
    pub fn on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// Raises its flag when dropped.
#[derive(Debug)]
pub struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_guard_raises_the_flag_for_every_clone() {
        let flag = Cancel::new();
        let seen_by_the_simulation = flag.clone();
        let guard = flag.on_drop();
        assert!(!seen_by_the_simulation.is_cancelled());
        drop(guard);
        assert!(seen_by_the_simulation.is_cancelled());
    }
}

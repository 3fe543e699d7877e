//! Who may try a password, when, and how many are checked at once.
//!
//! The rules, and why:
//! - **Counted before the check.** An attempt is reserved in every limit before argon2 runs,
//!   and a success gives it back; so parallel guesses cannot all slip through while the first
//!   are still being checked, and people who type their password right cost nothing.
//! - **Per client address** ([`ADDRESS_RATE`]): one address cannot try many passwords, on
//!   one account or across many.
//! - **Per user, never a lockout.** Every username (known or not, so a 429 tells nothing
//!   about which exist) has a budget across all addresses ([`USER_RATE`]), larger than one
//!   address's, so a single outsider cannot spend it. When many addresses together have spent
//!   it, the person can still log in from any address they logged in from successfully in the
//!   last [`KNOWN_FOR`] (still within that address's own limit): an outsider can at worst
//!   make a *new* machine wait, never the person's usual one.
//! - **Backoff, not refusal.** A refused attempt is told when to come back (`Retry-After`):
//!   a burst, then one attempt per interval; hammering while held back does not count.
//! - **As many checks as cores.** argon2 takes ~19 MiB and tens of milliseconds each; the
//!   checks run on a fixed set of threads behind a semaphore of [`available_parallelism`] permits,
//!   so memory and CPU stay bounded whatever arrives. The peak running at once is kept for
//!   `/metrics` (`qhall_password_checks_peak`).
//! - **Unknown users cost the same.** A username that does not exist (or is deactivated) is
//!   checked against a dummy hash made with the same parameters, so the answer's time does not
//!   tell which usernames exist.
//!
//! All state is in bounded, expiring [`Limiter`]s: memory does not grow with what callers send.
//!
//! [`available_parallelism`]: std::thread::available_parallelism

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::limit::{Key, Limiter, Rate, Remembered, TooMany, ip_key};
use crate::auth::{hash_password, verify_password};

/// Longer usernames are refused (422) before anything else is done with them.
pub const MAX_USERNAME_BYTES: usize = 128;
/// Failed logins one client address may make: 20 at once, then one every 3 s.
pub const ADDRESS_RATE: Rate = Rate {
    burst: 20,
    every: Duration::from_secs(3),
};
/// Failed logins for one username from all addresses: 50 at once, then one every 12 s.
pub const USER_RATE: Rate = Rate {
    burst: 50,
    every: Duration::from_secs(12),
};
/// How long a successful login makes its address known for that person.
pub const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// The most keys each table holds (~100 bytes each).
const MAX_KEYS: usize = 10_000;

/// A hash of a random password with the parameters real hashes are made with.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let password: [u8; 16] = rand::random();
    hash_password(&hex::encode(password)).unwrap_or_else(|e| {
        tracing::error!(error = %e, "making the dummy password hash failed");
        String::new()
    })
});

/// The login limits and the password checks (one per server, in [`super::AppState`]).
#[derive(Debug)]
pub struct LoginGuard {
    by_address: Limiter,
    by_user: Limiter,
    known: Remembered,
    checks: Arc<Semaphore>,
    counts: Arc<Counts>,
    workers: Workers,
}

/// A password check to run.
type Job = Box<dyn FnOnce() + Send>;

/// The threads password checks run on: one per core, for the server's life. Not tokio's
/// blocking pool, which starts a fresh thread whenever none is idle at that instant: each
/// such thread took an allocator arena of its own and kept argon2's 19 MiB in it (2.4 GB
/// after 200 checks, measured); a fixed set of threads keeps a fixed set of arenas.
#[derive(Debug)]
struct Workers(Mutex<std::sync::mpsc::Sender<Job>>);

impl Workers {
    fn start(n: usize) -> Workers {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..n {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("qhall-password-{i}"))
                .spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(e) => e.into_inner().recv(),
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "starting a password-check thread failed");
            }
        }
        Workers(Mutex::new(tx))
    }

    fn send(&self, job: Job) -> Result<(), ()> {
        let tx = self.0.lock().unwrap_or_else(|e| e.into_inner());
        tx.send(job).map_err(|_| ())
    }
}

#[derive(Debug, Default)]
struct Counts {
    running: AtomicUsize,
    peak: AtomicUsize,
}

/// Attempts reserved for one login. Dropped, it stays counted (a failure, or a caller that
/// went away mid-check); [`LoginGuard::succeeded`] gives it back.
#[derive(Debug)]
#[must_use = "a reservation is given back only by `succeeded`"]
pub struct Attempt {
    address: Key,
    user: Option<Key>,
    pair: Key,
}

impl Default for LoginGuard {
    fn default() -> Self {
        LoginGuard::new()
    }
}

impl LoginGuard {
    pub fn new() -> LoginGuard {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        LoginGuard {
            by_address: Limiter::new(ADDRESS_RATE, MAX_KEYS),
            by_user: Limiter::new(USER_RATE, MAX_KEYS),
            known: Remembered::new(KNOWN_FOR, MAX_KEYS),
            checks: Arc::new(Semaphore::new(cores)),
            counts: Arc::default(),
            workers: Workers::start(cores),
        }
    }

    /// Reserves an attempt for `username` from `ip`, or says how long to wait.
    pub fn reserve(&self, username: &str, ip: IpAddr) -> Result<Attempt, TooMany> {
        let now = Instant::now();
        let name = username.to_lowercase();
        let ip_bytes = match ip {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        let address = ip_key(ip);
        let user = Key::of(&[b"user", name.as_bytes()]);
        let pair = Key::of(&[b"pair", name.as_bytes(), &ip_bytes]);
        self.by_address.take(address, now).map_err(|wait| {
            TooMany::new(
                "too_many_attempts",
                "too many failed logins from this address; try again later",
                wait,
            )
        })?;
        match self.by_user.take(user, now) {
            Ok(()) => Ok(Attempt {
                address,
                user: Some(user),
                pair,
            }),
            Err(_) if self.known.contains(pair, now) => Ok(Attempt {
                address,
                user: None,
                pair,
            }),
            Err(wait) => {
                // Nothing will be checked: the address keeps its attempt.
                self.by_address.give_back(address, now);
                Err(TooMany::new(
                    "too_many_attempts",
                    "too many failed logins for this user; try again later",
                    wait,
                ))
            }
        }
    }

    /// The password was right: the attempt is given back, and the address becomes known for
    /// this person.
    #[allow(clippy::needless_pass_by_value)] // taking it is the point: a reservation is given back once
    pub fn succeeded(&self, a: Attempt) {
        let now = Instant::now();
        self.by_address.give_back(a.address, now);
        if let Some(u) = a.user {
            self.by_user.give_back(u, now);
        }
        self.known.mark(a.pair, now);
    }

    /// Checks `password` against `phc` — or, for a user that does not exist, against the dummy
    /// hash (and answers false) — waiting for one of the cores' permits.
    pub async fn verify(&self, password: String, phc: Option<String>) -> bool {
        let Ok(permit) = self.checks.clone().acquire_owned().await else {
            return false;
        };
        let counts = self.counts.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        // The permit moves into the job: a caller that goes away does not free it while
        // argon2 still runs.
        let job: Job = Box::new(move || {
            let _permit = permit;
            let _running = Running::start(&counts);
            let ok = match phc {
                Some(h) => verify_password(&password, &h),
                None => {
                    let _ = verify_password(&password, &DUMMY_HASH);
                    false
                }
            };
            let _ = tx.send(ok);
        });
        if self.workers.send(job).is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// The most password checks that have run at once since start.
    pub fn peak_checks(&self) -> usize {
        self.counts.peak.load(Ordering::Relaxed)
    }
}

/// Counts one running check for as long as it lives.
struct Running<'a>(&'a Counts);

impl<'a> Running<'a> {
    fn start(c: &'a Counts) -> Running<'a> {
        let now = c.running.fetch_add(1, Ordering::SeqCst) + 1;
        c.peak.fetch_max(now, Ordering::SeqCst);
        Running(c)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_address_cannot_spend_a_users_budget() {
        let g = LoginGuard::new();
        let attacker = ip("10.0.0.2");
        let mut refused = 0;
        for _ in 0..200 {
            match g.reserve("staff1", attacker) {
                Ok(a) => drop(a),
                Err(_) => refused += 1,
            }
        }
        assert_eq!(refused, 200 - ADDRESS_RATE.burst);
        let a = g
            .reserve("Staff1", ip("10.0.0.3"))
            .expect("the real user gets through");
        g.succeeded(a);
    }

    #[test]
    fn a_known_address_gets_through_when_many_addresses_spent_the_users_budget() {
        let g = LoginGuard::new();
        let home = ip("10.0.0.9");
        g.succeeded(g.reserve("staff1", home).unwrap());
        for n in 0..=255u8 {
            for _ in 0..ADDRESS_RATE.burst {
                let _ = g.reserve("staff1", IpAddr::from([10, 1, 0, n]));
            }
        }
        assert!(g.reserve("staff1", ip("10.0.0.77")).is_err());
        let a = g
            .reserve("staff1", home)
            .expect("the usual machine gets through");
        g.succeeded(a);
        // And unknown or other names are not affected.
        assert!(g.reserve("staff2", ip("10.0.0.77")).is_ok());
    }

    #[test]
    fn successes_cost_nothing() {
        let g = LoginGuard::new();
        for _ in 0..1000 {
            g.succeeded(g.reserve("staff1", ip("10.0.0.2")).unwrap());
        }
    }

    #[tokio::test]
    async fn a_check_against_the_dummy_hash_fails_and_a_real_one_passes() {
        let g = LoginGuard::new();
        let h = hash_password("right-one").unwrap();
        assert!(g.verify("right-one".into(), Some(h.clone())).await);
        assert!(!g.verify("wrong".into(), Some(h)).await);
        assert!(!g.verify("right-one".into(), None).await);
        // One check at a time here; the dummy hash made on first use may be counted beside it.
        assert!((1..=2).contains(&g.peak_checks()), "{}", g.peak_checks());
    }
}

//! Rate limits that cannot be turned against the server: a [`Limiter`] keyed by client address,
//! user or device, whose memory has a fixed ceiling whatever callers send.
//!
//! Each key holds one instant, its *theoretical arrival time* (GCRA, the token bucket written
//! as a single number): a key may take `burst` attempts at once, then one every `every`. When
//! that instant has passed the bucket is full again, and the key is forgotten: an entry means
//! "this key is being held back", never "this key was once seen".
//!
//! Why it is bounded three ways:
//! - **keys of fixed size**: every key is the first 16 bytes of a SHA-256 of what it names, so a
//!   60 KB username costs what a 6-byte one does;
//! - **a fixed number of keys**: when the table is full, keys whose bucket has refilled go
//!   first, then the one closest to refilling (the least held back) — so flooding the table
//!   with fresh keys evicts the idle ones, never the key under attack;
//! - **entries that forget themselves**: expiry is kept in order beside the table, so the
//!   expired are dropped in O(log n) each, on the way in.
//!
//! [`client_ip`] is the one place a request's client address is decided, so trusted reverse
//! proxies (forwarded headers) can later be added here and nowhere else.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::error::ApiError;

/// What a key names, reduced to a fixed size (a truncated SHA-256: collisions are out of
/// reach of an attacker, and would only make two keys share one bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key([u8; 16]);

impl Key {
    /// The key of `parts` (each length-prefixed, so `("ab", "c")` and `("a", "bc")` differ).
    pub fn of(parts: &[&[u8]]) -> Key {
        let mut h = Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p);
        }
        let digest = h.finalize();
        let mut k = [0u8; 16];
        k.copy_from_slice(&digest[..16]);
        Key(k)
    }
}

/// `burst` attempts at once, then one every `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub every: Duration,
}

impl Rate {
    /// `n` per minute, up to `n` at once after a quiet minute (`n` ≥ 1).
    pub fn per_minute(n: u32) -> Rate {
        let n = n.max(1);
        Rate {
            burst: n,
            every: Duration::from_secs(60) / n,
        }
    }

    /// How far ahead of now a key's arrival time may run: the whole burst.
    fn tolerance(&self) -> Duration {
        self.every * self.burst.max(1)
    }
}

/// A keyed rate limiter with a fixed ceiling on its memory (see the module doc).
#[derive(Debug)]
pub struct Limiter {
    rate: Rate,
    max_keys: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Each held-back key's theoretical arrival time.
    due: HashMap<Key, Instant>,
    /// The same, ordered by time: the first are the expired, or the closest to it.
    by_time: BTreeSet<(Instant, Key)>,
}

impl Inner {
    fn set(&mut self, key: Key, at: Instant) {
        if let Some(old) = self.due.insert(key, at) {
            self.by_time.remove(&(old, key));
        }
        self.by_time.insert((at, key));
    }

    fn remove(&mut self, key: Key) {
        if let Some(old) = self.due.remove(&key) {
            self.by_time.remove(&(old, key));
        }
    }

    /// Drops every key whose bucket has refilled by `now`.
    fn expire(&mut self, now: Instant) {
        while let Some(&(at, key)) = self.by_time.first() {
            if at > now {
                break;
            }
            self.by_time.pop_first();
            self.due.remove(&key);
        }
    }

    /// Drops the key closest to refilling.
    fn evict_one(&mut self) {
        if let Some((_, key)) = self.by_time.pop_first() {
            self.due.remove(&key);
        }
    }
}

impl Limiter {
    /// A limiter allowing `rate` per key, remembering at most `max_keys` keys.
    pub fn new(rate: Rate, max_keys: usize) -> Limiter {
        Limiter {
            rate,
            max_keys: max_keys.max(1),
            inner: Mutex::default(),
        }
    }

    pub fn rate(&self) -> Rate {
        self.rate
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one attempt for `key` at `now`: `Ok`, or `Err(wait)` until one is allowed. A
    /// refused attempt takes nothing (hammering while held back does not extend the wait).
    pub fn take(&self, key: Key, now: Instant) -> Result<(), Duration> {
        let mut inner = self.lock();
        inner.expire(now);
        let from = inner.due.get(&key).copied().map_or(now, |t| t.max(now));
        let next = from + self.rate.every;
        let ahead = next - now;
        if ahead > self.rate.tolerance() {
            return Err(ahead - self.rate.tolerance());
        }
        if !inner.due.contains_key(&key) {
            while inner.due.len() >= self.max_keys {
                inner.evict_one();
            }
        }
        inner.set(key, next);
        Ok(())
    }

    /// Gives back one attempt taken for `key` (it turned out to be a success).
    pub fn give_back(&self, key: Key, now: Instant) {
        let mut inner = self.lock();
        let Some(at) = inner.due.get(&key).copied() else {
            return;
        };
        match at.checked_sub(self.rate.every) {
            Some(back) if back > now => inner.set(key, back),
            _ => inner.remove(key),
        }
    }

    /// Whether `key` has an attempt left at `now` (nothing is taken).
    pub fn allows(&self, key: Key, now: Instant) -> bool {
        let inner = self.lock();
        inner
            .due
            .get(&key)
            .is_none_or(|t| (*t).max(now) + self.rate.every - now <= self.rate.tolerance())
    }

    /// Keys held now (expired ones included until the next `take` drops them).
    pub fn len(&self) -> usize {
        self.lock().due.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A bounded, expiring set of keys: each is remembered for `ttl` after it was last marked,
/// at most `max_keys` of them (the oldest go first).
#[derive(Debug)]
pub struct Remembered {
    ttl: Duration,
    max_keys: usize,
    inner: Mutex<Inner>,
}

impl Remembered {
    pub fn new(ttl: Duration, max_keys: usize) -> Remembered {
        Remembered {
            ttl,
            max_keys: max_keys.max(1),
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remembers `key` until `now + ttl`.
    pub fn mark(&self, key: Key, now: Instant) {
        let mut inner = self.lock();
        inner.expire(now);
        if !inner.due.contains_key(&key) {
            while inner.due.len() >= self.max_keys {
                inner.evict_one();
            }
        }
        inner.set(key, now + self.ttl);
    }

    pub fn contains(&self, key: Key, now: Instant) -> bool {
        self.lock().due.get(&key).is_some_and(|until| *until > now)
    }

    pub fn len(&self) -> usize {
        self.lock().due.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The address a request comes from, as the limits see it: the TCP peer. An IPv4 address
/// mapped into IPv6 counts as itself; an IPv6 address counts as its /64, the block one
/// subscriber is usually given (or each of its 2^64 addresses would get a budget of its own).
///
/// The client's address itself (behind a trusted reverse proxy, the forwarded one) is
/// [`super::client::ClientAddr`]'s to decide.
pub fn client_block(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The key of a client address in a limiter.
pub fn ip_key(ip: IpAddr) -> Key {
    match ip {
        IpAddr::V4(v4) => Key::of(&[b"ip", &v4.octets()]),
        IpAddr::V6(v6) => Key::of(&[b"ip", &v6.octets()]),
    }
}

/// A 429 answer: the JSON error every failure is, with `Retry-After` in whole seconds.
#[derive(Debug)]
pub struct TooMany {
    pub code: &'static str,
    pub message: String,
    pub retry_after: Duration,
}

impl TooMany {
    pub fn new(code: &'static str, message: impl Into<String>, retry_after: Duration) -> Self {
        TooMany {
            code,
            message: message.into(),
            retry_after,
        }
    }

    /// Whole seconds, rounded up, at least 1 (`Retry-After: 0` would invite a busy loop).
    pub fn retry_after_secs(&self) -> u64 {
        let d = self.retry_after;
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
    }
}

impl IntoResponse for TooMany {
    fn into_response(self) -> Response {
        let secs = self.retry_after_secs();
        let mut res =
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, self.code, self.message).into_response();
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        res
    }
}

/// What a rate-limited handler fails with: any [`ApiError`], or a [`TooMany`].
#[derive(Debug)]
pub enum Refused {
    Api(ApiError),
    TooMany(TooMany),
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Self {
        Refused::Api(e)
    }
}

impl From<TooMany> for Refused {
    fn from(e: TooMany) -> Self {
        Refused::TooMany(e)
    }
}

impl From<crate::store::StoreError> for Refused {
    fn from(e: crate::store::StoreError) -> Self {
        Refused::Api(e.into())
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Api(e) => e.into_response(),
            Refused::TooMany(e) => e.into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(n: u32) -> Key {
        Key::of(&[&n.to_le_bytes()])
    }

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn a_key_gets_its_burst_then_one_per_interval() {
        let l = Limiter::new(
            Rate {
                burst: 3,
                every: 10 * SEC,
            },
            100,
        );
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.take(k(1), t0), Ok(()));
        }
        assert_eq!(l.take(k(1), t0), Err(10 * SEC));
        // Refused attempts take nothing: the wait does not grow.
        assert_eq!(l.take(k(1), t0 + 4 * SEC), Err(6 * SEC));
        assert_eq!(l.take(k(1), t0 + 10 * SEC), Ok(()));
        assert!(l.take(k(1), t0 + 10 * SEC).is_err());
        // Another key is not affected.
        assert_eq!(l.take(k(2), t0), Ok(()));
    }

    #[test]
    fn a_success_gives_its_attempt_back() {
        let l = Limiter::new(
            Rate {
                burst: 2,
                every: 10 * SEC,
            },
            100,
        );
        let t0 = Instant::now();
        for _ in 0..100 {
            l.take(k(1), t0).unwrap();
            l.give_back(k(1), t0);
        }
        assert!(l.is_empty(), "a key with nothing held is forgotten");
        l.take(k(1), t0).unwrap();
        l.take(k(1), t0).unwrap();
        assert!(!l.allows(k(1), t0));
        l.give_back(k(1), t0);
        assert!(l.allows(k(1), t0));
    }

    #[test]
    fn keys_forget_themselves_once_their_bucket_refills() {
        let l = Limiter::new(Rate::per_minute(6), 100);
        let t0 = Instant::now();
        for i in 0..50 {
            l.take(k(i), t0).unwrap();
        }
        assert_eq!(l.len(), 50);
        l.take(k(1000), t0 + 11 * SEC).unwrap();
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn the_table_never_holds_more_than_its_ceiling_and_keeps_the_key_under_attack() {
        let l = Limiter::new(
            Rate {
                burst: 5,
                every: 60 * SEC,
            },
            1000,
        );
        let t0 = Instant::now();
        // The key under attack has used its whole burst.
        for _ in 0..5 {
            l.take(k(u32::MAX), t0).unwrap();
        }
        // A flood of fresh keys, each used once.
        for i in 0..100_000 {
            l.take(k(i), t0 + Duration::from_micros(u64::from(i)))
                .unwrap();
            assert!(l.len() <= 1000);
        }
        assert!(
            l.take(k(u32::MAX), t0 + SEC).is_err(),
            "the flood did not reset the attacked key"
        );
    }

    #[test]
    fn remembered_keys_expire_and_are_bounded() {
        let r = Remembered::new(60 * SEC, 10);
        let t0 = Instant::now();
        r.mark(k(1), t0);
        assert!(r.contains(k(1), t0 + 59 * SEC));
        assert!(!r.contains(k(1), t0 + 60 * SEC));
        for i in 0..1000 {
            r.mark(k(i + 10), t0 + SEC);
        }
        assert!(r.len() <= 10);
    }

    #[test]
    fn long_keys_cost_what_short_ones_do_and_parts_are_kept_apart() {
        let long = vec![b'x'; 60_000];
        assert_eq!(std::mem::size_of_val(&Key::of(&[&long])), 16);
        assert_ne!(Key::of(&[b"ab", b"c"]), Key::of(&[b"a", b"bc"]));
    }

    #[test]
    fn an_ipv4_address_counts_as_itself_and_ipv6_per_64() {
        let v4: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(client_block(v4).to_string(), "127.0.0.2");
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(client_block(mapped).to_string(), "10.1.2.3");
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(client_block(a), client_block(b));
        assert_eq!(ip_key(client_block(a)), ip_key(client_block(b)));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let t = |ms| TooMany::new("x", "", Duration::from_millis(ms)).retry_after_secs();
        assert_eq!(t(0), 1);
        assert_eq!(t(1), 1);
        assert_eq!(t(1000), 1);
        assert_eq!(t(1001), 2);
    }
}

//! The accept loop: every connection the server takes, with the limits a public service needs.
//!
//! `axum::serve` offers no timeouts and no cap, and a connection that sends half its headers,
//! half its body or nothing at all after a keep-alive answer stayed open for good: ~20,000 of
//! them (no login needed) reached the open-file limit and `/healthz` stopped answering. Here
//! each connection is served by hyper's HTTP/1.1 directly, with:
//!
//! - **A header timeout** ([`Limits::header_timeout`], 10 s): a request's headers must arrive
//!   within it, counted from when the connection opens (or its TLS handshake starts) and again
//!   from the end of each answer. hyper keeps one timer for both, so it is also how long an
//!   idle keep-alive connection stays open: a connection with no request in progress is closed
//!   after it.
//! - **A body timeout** ([`Limits::body_timeout`], 15 s): the whole request body, from the
//!   request's arrival, not per chunk (a trickle of one byte every few seconds is cut off too).
//!   See [`body`].
//! - **A connection cap** ([`Limits::max_connections`]): a connection beyond it is closed at
//!   once rather than kept waiting, so the listen queue keeps draining and the server never
//!   holds more sockets than it can afford. The cap is kept 512 descriptors below the
//!   process's open-file limit (raised to the hard limit at start, [`limits`]), so the
//!   database, the log and a second listener always have descriptors left. An upgraded
//!   WebSocket keeps its place until it closes.
//! - **A send timeout** ([`Limits::send_timeout`], 30 s): a write to the client that makes no
//!   progress for that long fails and closes the connection. Without it a client that sent
//!   two hundred pipelined requests for the OpenAPI document and read nothing kept its
//!   connection (and ~4 MB of the kernel's send buffer) for good: hyper's header timeout runs
//!   only while it waits for a request. See [`Counted`].
//! - **A cap per client address** ([`Limits::max_per_address`], 1,000): without it one
//!   machine that opens connections and sends nothing, reopening each as its header timeout
//!   closes it, held every slot of the cap, and kiosks, consoles and boards that connected
//!   next were refused. An IPv6 address counts as its /64 (one subscriber's block), as the
//!   request limits count it. Connections from a trusted reverse proxy are not counted: they
//!   carry many clients, and the proxy limits each (nginx `limit_conn`).
//! - **An accept loop that never exits**: an error (out of descriptors, out of memory) is
//!   logged, at most once every 10 s, and accepting resumes after 100 ms.
//! - **TLS** when a certificate and key are configured ([`tls`]), the handshake within the
//!   header timeout.
//! - **Graceful shutdown**: no new connections; idle ones close; requests in flight finish
//!   (for at most [`DRAIN_LIMIT`]).
//!
//! Only HTTP/1.1 is served (and offered over TLS): its timeouts above are hyper's own, while an
//! HTTP/2 connection would need its own idle tracking, and browsers, kiosks and boards all
//! speak HTTP/1.1.
//!
//! # Layout
//! - [`limits`]: the settings, the open-file limit, and the cap derived from it.
//! - [`body`]: the request body with a deadline.
//! - [`tls`]: the certificate and key, read once at start.

pub mod body;
pub mod limits;
pub mod tls;

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

pub use limits::Limits;

/// How long shutdown waits for requests in flight before it gives up on them.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(10);
/// The pause after an accept error such as "too many open files".
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// At most one warning this often about refused connections or accept errors.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// How the server listens: its limits and, for https, the TLS acceptor.
#[derive(Clone)]
pub struct Serving {
    pub limits: Limits,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Reverse proxies, whose connections the cap per address does not count.
    pub trusted_proxies: Arc<[IpNet]>,
    /// Connections refused or cut off, for `/metrics`.
    pub refusals: Arc<Refusals>,
}

/// Connections the limits ended, since start (`/metrics`).
#[derive(Debug, Default)]
pub struct Refusals {
    /// Closed at once: the server had `max_connections` open.
    pub server_full: AtomicU64,
    /// Closed at once: the client's address had its cap open.
    pub address_full: AtomicU64,
    /// Closed after the client took nothing sent to it for the send timeout.
    pub send_timeouts: AtomicU64,
}

impl std::fmt::Debug for Serving {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serving")
            .field("limits", &self.limits)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Serving {
    /// The limits and TLS of `config`, counting refusals in `refusals`; fails when the
    /// certificate or key cannot be read.
    pub fn from_config(config: &crate::Config, refusals: Arc<Refusals>) -> anyhow::Result<Serving> {
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
            (None, None) => None,
            _ => anyhow::bail!("https needs both a certificate (--tls-cert) and a key (--tls-key)"),
        };
        Ok(Serving {
            limits: Limits::from_config(config),
            tls,
            trusted_proxies: config.trusted_proxies.clone().into(),
            refusals,
        })
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains (see the module doc).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    serving: Serving,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max = serving.limits.max_connections;
    let slots = Arc::new(Semaphore::new(max));
    let per_address = PerAddress::new(serving.limits.max_per_address);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut refused = Throttled::default();
    let mut crowded = Throttled::default();
    let mut failed = Throttled::default();
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            // The peer gave up before we took it: nothing to do.
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                failed.warn(|n| tracing::warn!(error = %e, times = n, "accepting a connection failed; retrying"));
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        let counted = if is_trusted(peer, &serving.trusted_proxies) {
            None
        } else {
            match per_address.take(peer) {
                Some(slot) => Some(slot),
                None => {
                    drop(stream);
                    serving
                        .refusals
                        .address_full
                        .fetch_add(1, Ordering::Relaxed);
                    // Not the address: logs carry no client's address above debug.
                    crowded.warn(|n| {
                        tracing::warn!(
                            max = per_address.max,
                            times = n,
                            "a client address reached its connection cap; closing its new connections"
                        )
                    });
                    continue;
                }
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            drop(stream);
            serving.refusals.server_full.fetch_add(1, Ordering::Relaxed);
            refused.warn(|n| {
                tracing::warn!(
                    max,
                    times = n,
                    "connection cap reached; closing new connections"
                )
            });
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            stream,
            peer,
            Slot {
                _permit: permit,
                _address: counted,
            },
            app.clone(),
            serving.clone(),
            stop_rx.clone(),
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds one slot until it closes: all slots back means all closed.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN_LIMIT, slots.acquire_many(all))
        .await
        .is_err()
    {
        let open = max - slots.available_permits();
        tracing::warn!(
            open,
            "connections still open after the drain limit; stopping anyway"
        );
    }
    Ok(())
}

/// One connection: the TLS handshake if any, then HTTP/1.1 until it closes or the server stops.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    app: Router,
    serving: Serving,
    stop: watch::Receiver<bool>,
) {
    let limits = serving.limits;
    match serving.tls {
        None => {
            let io = Counted::new(stream, slot, limits.send_timeout, serving.refusals);
            http(io, peer, app, limits, stop).await
        }
        Some(acceptor) => {
            match tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let io = Counted::new(tls, slot, limits.send_timeout, serving.refusals);
                    http(io, peer, app, limits, stop).await
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        }
    }
}

async fn http<IO>(
    io: Counted<IO>,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let body_timeout = limits.body_timeout;
    // Handlers see the peer as `ConnectInfo<SocketAddr>`, as with axum::serve.
    let service = app.map_request(move |req: Request<Incoming>| {
        let (mut parts, incoming) = req.into_parts();
        parts.extensions.insert(ConnectInfo(peer));
        Request::from_parts(parts, body::Deadline::new(incoming, body_timeout))
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let conn = builder
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => log_end(peer, r),
        () = async { let _ = stop.wait_for(|stopping| *stopping).await; } => {
            // Finish the request in flight (if any), then close.
            conn.as_mut().graceful_shutdown();
            log_end(peer, conn.await);
        }
    }
}

fn log_end(peer: SocketAddr, r: Result<(), hyper::Error>) {
    if let Err(e) = r {
        // Timeouts, resets and malformed requests: the client's doing, not worth a warning.
        tracing::debug!(%peer, error = %e, "connection ended");
    }
}

/// Errors of one incoming connection rather than of the listener (the accept loop just goes on).
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// A warning at most every [`WARN_EVERY`], with how many times it happened since the last.
#[derive(Default)]
struct Throttled {
    last: Option<Instant>,
    count: u64,
}

impl Throttled {
    fn warn(&mut self, log: impl FnOnce(u64)) {
        self.count += 1;
        if self.last.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
            log(self.count);
            self.count = 0;
            self.last = Some(Instant::now());
        }
    }
}

/// A connection's place under the cap and under its address's cap (none for a trusted proxy).
struct Slot {
    _permit: OwnedSemaphorePermit,
    _address: Option<AddressSlot>,
}

/// Whether `peer` is one of the trusted reverse proxies.
fn is_trusted(peer: SocketAddr, trusted: &[IpNet]) -> bool {
    crate::http::client::is_trusted(peer.ip().to_canonical(), trusted)
}

/// Open connections by client address (an IPv6 address by its /64), each at most `max`.
struct PerAddress {
    max: usize,
    open: Arc<std::sync::Mutex<HashMap<IpAddr, usize>>>,
}

impl PerAddress {
    fn new(max: usize) -> PerAddress {
        PerAddress {
            max,
            open: Arc::default(),
        }
    }

    /// A place for one more connection of `peer`'s address, or `None` when it has `max`.
    fn take(&self, peer: SocketAddr) -> Option<AddressSlot> {
        let address = crate::http::limit::client_block(peer.ip());
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(address).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            address,
            open: self.open.clone(),
        })
    }
}

/// One connection's place under its address's cap, given back when dropped (the map keeps
/// only addresses with a connection open, so it never grows past the connection cap).
struct AddressSlot {
    address: IpAddr,
    open: Arc<std::sync::Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.address);
            }
        }
    }
}

/// A connection's stream holding its slot under the caps: the slot is freed when the stream is
/// dropped, which for an upgraded WebSocket is when the socket closes, not when hyper is done.
///
/// It also times the client's reading: a write, flush or shutdown that stays pending (the
/// client's window and the kernel's send buffer full) for the send timeout fails with
/// `TimedOut`, which ends the connection, a WebSocket's too. Any progress starts the clock
/// again, so a slow client that keeps reading is never cut off.
struct Counted<IO> {
    io: IO,
    _slot: Slot,
    send_timeout: Duration,
    /// Armed while a write is pending.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
    refusals: Arc<Refusals>,
}

impl<IO> Counted<IO> {
    fn new(io: IO, slot: Slot, send_timeout: Duration, refusals: Arc<Refusals>) -> Self {
        Counted {
            io,
            _slot: slot,
            send_timeout,
            stalled: None,
            refusals,
        }
    }

    /// `r`, or `TimedOut` once writes have been pending for the send timeout.
    fn timed<T>(
        &mut self,
        cx: &mut Context<'_>,
        r: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        if r.is_ready() {
            self.stalled = None;
            return r;
        }
        let limit = self.send_timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.refusals.send_timeouts.fetch_add(1, Ordering::Relaxed);
                Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the client took nothing sent to it for the send timeout",
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Counted<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Counted<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write(cx, buf);
        this.timed(cx, r)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_flush(cx);
        this.timed(cx, r)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_shutdown(cx);
        this.timed(cx, r)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.timed(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 40_000)
    }

    #[test]
    fn an_address_holds_at_most_its_cap_and_gets_a_place_back_when_one_closes() {
        let caps = PerAddress::new(2);
        let a = caps.take(at("203.0.113.7")).expect("first");
        let _b = caps.take(at("203.0.113.7")).expect("second");
        assert!(caps.take(at("203.0.113.7")).is_none(), "a third");
        assert!(caps.take(at("203.0.113.8")).is_some(), "another address");
        // The same address mapped into IPv6 is the same client.
        assert!(caps.take(at("::ffff:203.0.113.7")).is_none());
        drop(a);
        assert!(caps.take(at("203.0.113.7")).is_some(), "the freed place");
    }

    #[test]
    fn an_ipv6_client_counts_as_its_64_block_and_the_map_forgets_closed_addresses() {
        let caps = PerAddress::new(2);
        let a = caps.take(at("2001:db8:1:2::1")).expect("first");
        let b = caps
            .take(at("2001:db8:1:2:ffff::9"))
            .expect("second, same /64");
        assert!(
            caps.take(at("2001:db8:1:2:abcd::1")).is_none(),
            "a third in the /64"
        );
        let c = caps.take(at("2001:db8:1:3::1")).expect("the next /64");
        drop((a, b, c));
        assert!(caps.open.lock().unwrap().is_empty());
    }

    #[test]
    fn a_trusted_proxy_is_found_by_its_network_also_when_mapped_into_ipv6() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert!(is_trusted(at("10.1.2.3"), &trusted));
        assert!(is_trusted(at("::ffff:10.1.2.3"), &trusted));
        assert!(!is_trusted(at("11.1.2.3"), &trusted));
    }
}

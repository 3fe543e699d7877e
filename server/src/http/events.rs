//! `GET /api/v1/events`: the WebSocket event stream.
//!
//! On connect the client joins the branch's hub *before* its starting point is read, so nothing
//! committed in between is lost. It then gets either the events after `?since=SEQ` (if the
//! database still has them) or a snapshot, and from then on every event in seq order. Messages
//! already covered by the starting point are skipped by seq; a gap (never expected) is filled
//! from the database; a client more than [`CAPACITY`] events behind gets a fresh snapshot.
//! The server pings every 15 s and drops a client it has not heard from in 45 s.
//!
//! A client that keeps up costs what it costs a bare broadcast, or less: the hub's relay writes
//! each frame straight into its socket and its task is not woken at all (see [`Client`]); the
//! task wakes for what the relay cannot do (a full socket, a gap, a lag), the client's own
//! messages, pings and shutdown — the last three behind a [`Gate`], so one never makes the task
//! poll the others. Measured with `cargo bench -p qhall-server --bench fanout` (figures in the
//! README).
//!
//! Clients only ever send pongs and closes, so a frame or message over 64 KiB is refused as
//! soon as its header announces the length, before any of it is buffered, and the connection
//! is closed. An upgrade authenticated by the session cookie must come from the server's own
//! origin ([`super::origin`]).

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use qhall_shared::api::WindowState;
use qhall_shared::events::{Event, Message, WindowStatus};
use serde::Deserialize;
use tokio::time::Instant;

use super::AppState;
use super::auth::{Caller, TokenSource, request_token_from};
use super::error::{ApiError, ApiQuery, ApiResult};
use super::origin::same_origin_or_none;
use crate::events::{Board, CAPACITY, Frame};
use crate::store::Role;

const PING_EVERY: Duration = Duration::from_secs(15);
/// Pings fall due on this grid (see [`first_ping`]).
const PING_GRID: Duration = Duration::from_secs(1);
const SILENCE_LIMIT: Duration = Duration::from_secs(45);
const READ_BUFFER: usize = 4 * 1024;
/// The largest frame and message a client may send. Without the frame limit tungstenite buffers
/// frames of up to 16 MiB before the message limit applies (20 such frames: +272 MB).
const MAX_INCOMING: usize = 64 * 1024;
/// The room for kept frames a client holds on to once it has caught up (a lagged client's
/// [`CAPACITY`] would be 160 KiB each, for as long as it stays connected).
const KEPT_RETAINED: usize = 64;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/events", get(upgrade))
}

#[derive(Debug, Deserialize)]
struct Params {
    since: Option<u64>,
    #[allow(dead_code)]
    token: Option<String>,
}

async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    ApiQuery(p): ApiQuery<Params>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    let by_cookie = request_token_from(&headers, query.as_deref())
        .is_some_and(|(_, source)| source == TokenSource::Cookie);
    if by_cookie && !same_origin_or_none(&headers, &state.public_url) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "the event stream opens with the session cookie only from this server's own pages",
        ));
    }
    let who = caller.require(&[Role::Kiosk, Role::Display, Role::Staff, Role::Manager])?;
    let branch = who.branch_id;
    Ok(ws
        .max_frame_size(MAX_INCOMING)
        .max_message_size(MAX_INCOMING)
        // Clients send only pongs and closes; tungstenite zero-fills its whole read buffer on
        // every read, so the 128 KiB default costs a large memset per message and per client.
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| async move {
            if let Err(e) = serve(state, branch, p.since, socket).await {
                tracing::debug!(error = %e, "event stream closed");
            }
        }))
}

/// The snapshot message for the branch as it is now.
pub async fn snapshot(state: &AppState, branch: i64) -> anyhow::Result<(u64, String)> {
    let now = state.now();
    let (cfg, b) = state.store.board(branch, now).await?;
    let open = cfg.schedule.state_at(now).is_open() && cfg.emergency.is_none();
    let msg = Message {
        seq: b.seq,
        event: Event::Snapshot {
            time_zone: Some(cfg.schedule.tz.name().to_owned()),
            hall: cfg.name.clone(),
            recent_calls: b.recent_calls.clone(),
            waiting: cfg
                .services
                .iter()
                .map(|s| qhall_shared::events::Waiting {
                    service: s.code,
                    waiting: b
                        .waiting
                        .iter()
                        .find(|(c, _)| *c == s.code)
                        .map_or(0, |(_, n)| *n),
                })
                .collect(),
            windows: b
                .windows
                .iter()
                .map(|(w, current)| WindowStatus {
                    window: w.number,
                    state: w.state,
                    current: current.clone().filter(|_| w.state != WindowState::Closed),
                })
                .collect(),
            notices: b.notices.clone(),
            emergency: cfg.emergency.clone(),
            open,
        },
    };
    Ok((b.seq, msg.to_json()))
}

async fn serve(
    state: AppState,
    branch: i64,
    since: Option<u64>,
    socket: WebSocket,
) -> anyhow::Result<()> {
    let hub = &state.store.hub;
    let _counted = hub.client_guard();
    let client = Arc::new(Client::new(socket));
    let joined = hub.join(branch, client.clone());
    let result = stream(&state, branch, since, &client).await;
    // The socket closes now, not whenever the relay lets go of the client.
    client.close();
    drop(joined);
    result
}

/// The client's stream after joining the hub: its starting point, then whatever the relay could
/// not write itself, pings, its messages, and shutdown.
async fn stream(
    state: &AppState,
    branch: i64,
    since: Option<u64>,
    client: &Client,
) -> anyhow::Result<()> {
    let mut stopping = state.stopping.clone();

    // The starting point: the missed events, or a snapshot.
    let last = match since {
        Some(s) => match state.store.events_since(branch, s).await? {
            Some(missed) => client.send_all(s, missed).await?,
            None => send_snapshot(state, branch, client).await?,
        },
        None => send_snapshot(state, branch, client).await?,
    };
    client.sent_up_to(last);

    let mut ping = tokio::time::interval_at(first_ping(Instant::now()), PING_EVERY);
    let mut heard = Instant::now();
    let mut stop = std::pin::pin!(stopping.changed());
    let mut quiet = Gate::new();
    loop {
        let step = poll_fn(|cx| {
            if let Poll::Ready(step) = client.poll_kept(cx) {
                return Poll::Ready(step);
            }
            quiet.poll(cx, |cx| {
                if stop.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Step::Stop);
                }
                if let Poll::Ready(m) = client.poll_incoming(cx) {
                    return Poll::Ready(Step::Incoming(m));
                }
                if ping.poll_tick(cx).is_ready() {
                    return Poll::Ready(Step::Ping);
                }
                Poll::Pending
            })
        })
        .await;
        match step {
            Step::Gap(next) => {
                // Never expected: fill it from the database; `next` follows.
                let last = client.last();
                let last = match state.store.events_since(branch, last).await? {
                    Some(missed) => {
                        let missed = missed.into_iter().filter(|(seq, _)| *seq < next);
                        client.send_all(last, missed).await?;
                        next - 1
                    }
                    None => send_snapshot(state, branch, client).await?,
                };
                client.sent_up_to(last);
            }
            Step::Lagged => {
                // Too slow to keep up: start again from the current state.
                let seq = send_snapshot(state, branch, client).await?;
                client.sent_up_to(seq);
            }
            Step::Failed => break,
            Step::Incoming(m) => match m {
                Some(Ok(WsMessage::Close(_))) | None => break,
                Some(Ok(_)) => heard = Instant::now(),
                Some(Err(_)) => break,
            },
            Step::Ping => {
                if heard.elapsed() > SILENCE_LIMIT {
                    break;
                }
                client.send(WsMessage::Ping(Default::default())).await?;
            }
            Step::Stop => {
                let _ = client.send(WsMessage::Close(None)).await;
                break;
            }
        }
    }
    Ok(())
}

/// A client's first ping: [`PING_EVERY`] after `now`, rounded up to the next [`PING_GRID`] step
/// since the first client, so the pings of all clients fall due on a few instants a second and
/// a worker wakes once for many. Each at its own instant, 1,000 boards' pings woke the server 67
/// times a second, which was most of its CPU while idle (perf).
fn first_ping(now: Instant) -> Instant {
    static FIRST: OnceLock<Instant> = OnceLock::new();
    let first = *FIRST.get_or_init(|| now);
    let due = now + PING_EVERY;
    let grid = PING_GRID.as_nanos();
    let steps = due
        .saturating_duration_since(first)
        .as_nanos()
        .div_ceil(grid);
    // (Never before `due`: a test's paused clock may stand before the first client's.)
    (first + Duration::from_nanos(u64::try_from(steps * grid).unwrap_or(u64::MAX))).max(due)
}

/// What the client's task has to do.
enum Step {
    /// The next frame kept (this seq) is not the one after the last sent.
    Gap(u64),
    /// More than [`crate::events::CAPACITY`] frames were kept: they were dropped.
    Lagged,
    /// A write failed.
    Failed,
    Incoming(Option<Result<WsMessage, axum::Error>>),
    Ping,
    Stop,
}

/// A client's socket and its place in the stream, shared by its task and the hub's relay.
///
/// While the client is *live* — its starting point sent, nothing kept, the socket taking all it
/// was given — the relay writes each frame straight to the socket, as a bare broadcast's task
/// would, without waking the client's task. Otherwise it keeps the frame and wakes the task,
/// which sends what was kept in order (filling a gap from the database, or sending a snapshot
/// once more than [`crate::events::CAPACITY`] were kept) and makes the client live again. A
/// slow client thus never delays the others, and the lock is only ever held for a poll.
struct Client {
    io: Mutex<Io>,
}

struct Io {
    /// `None` once the client's task has ended.
    socket: Option<WebSocket>,
    /// The seq of the last message sent, or covered by the snapshot sent.
    last: u64,
    live: bool,
    /// Frames the task is to send, in seq order.
    kept: VecDeque<Frame>,
    lagged: bool,
    /// A message was written but the socket has not taken all of it yet.
    unflushed: bool,
    failed: bool,
    /// The client's task, woken when it has something to do and when the socket drains.
    task: Option<Waker>,
}

impl Client {
    fn new(socket: WebSocket) -> Client {
        Client {
            io: Mutex::new(Io {
                socket: Some(socket),
                last: 0,
                live: false,
                kept: VecDeque::new(),
                lagged: false,
                unflushed: false,
                failed: false,
                task: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Io> {
        self.io.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn last(&self) -> u64 {
        self.lock().last
    }

    /// The task sent everything up to `seq` (it is not live meanwhile: the relay keeps frames).
    fn sent_up_to(&self, seq: u64) {
        self.lock().last = seq;
    }

    /// Sends what was kept, in order, and flushes; ready when the task must act, pending once
    /// the client is live again (or the socket is full).
    fn poll_kept(&self, cx: &mut Context<'_>) -> Poll<Step> {
        let mut io = self.lock();
        io.remember(cx);
        if io.failed {
            return Poll::Ready(Step::Failed);
        }
        if io.lagged {
            io.lagged = false;
            io.live = false;
            return Poll::Ready(Step::Lagged);
        }
        let Io {
            socket,
            last,
            live,
            kept,
            unflushed,
            ..
        } = &mut *io;
        let Some(socket) = socket.as_mut() else {
            return Poll::Ready(Step::Failed);
        };
        loop {
            if *unflushed {
                match socket.poll_flush_unpin(cx) {
                    Poll::Ready(Ok(())) => *unflushed = false,
                    Poll::Ready(Err(_)) => return Poll::Ready(Step::Failed),
                    Poll::Pending => return Poll::Pending,
                }
            }
            let Some(next) = kept.front() else {
                break;
            };
            if next.seq <= *last {
                kept.pop_front();
                continue;
            }
            if next.seq > *last + 1 {
                return Poll::Ready(Step::Gap(next.seq));
            }
            match socket.poll_ready_unpin(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => return Poll::Ready(Step::Failed),
                Poll::Pending => return Poll::Pending,
            }
            let Some(frame) = kept.pop_front() else {
                break;
            };
            if socket
                .start_send_unpin(WsMessage::Text(frame.text))
                .is_err()
            {
                return Poll::Ready(Step::Failed);
            }
            *last = frame.seq;
            *unflushed = true;
        }
        if kept.capacity() > KEPT_RETAINED {
            kept.shrink_to(KEPT_RETAINED);
        }
        *live = true;
        Poll::Pending
    }

    fn poll_incoming(&self, cx: &mut Context<'_>) -> Poll<Option<Result<WsMessage, axum::Error>>> {
        match self.lock().socket.as_mut() {
            Some(socket) => socket.poll_next_unpin(cx),
            None => Poll::Ready(None),
        }
    }

    /// Sends `msg` now (ahead of anything kept: the starting point, a gap's fill, a snapshot, a
    /// ping or the close).
    async fn send(&self, msg: WsMessage) -> anyhow::Result<()> {
        let mut msg = Some(msg);
        poll_fn(|cx| {
            let mut io = self.lock();
            io.remember(cx);
            let Some(socket) = io.socket.as_mut() else {
                return Poll::Ready(Err(anyhow::anyhow!("the client is gone")));
            };
            if let Some(m) = msg.take() {
                match socket.poll_ready_unpin(cx) {
                    Poll::Ready(Ok(())) => socket.start_send_unpin(m)?,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                    Poll::Pending => {
                        msg = Some(m);
                        return Poll::Pending;
                    }
                }
            }
            socket.poll_flush_unpin(cx).map_err(Into::into)
        })
        .await
    }

    /// Sends the missed events after `since`; the seq of the last one (`since` if none).
    async fn send_all(
        &self,
        since: u64,
        missed: impl IntoIterator<Item = (u64, String)>,
    ) -> anyhow::Result<u64> {
        let mut last = since;
        for (seq, body) in missed {
            self.send(WsMessage::Text(Utf8Bytes::from(body))).await?;
            last = seq;
        }
        Ok(last)
    }

    /// Closes the socket: the task has ended.
    fn close(&self) {
        let socket = {
            let mut io = self.lock();
            io.failed = true;
            io.live = false;
            io.kept = VecDeque::new();
            io.socket.take()
        };
        drop(socket);
    }
}

impl Io {
    /// Keeps the task's waker for the relay (a task's waker does not change: compared first).
    fn remember(&mut self, cx: &Context<'_>) {
        if !self.task.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            self.task = Some(cx.waker().clone());
        }
    }

    fn wake(&self) {
        if let Some(task) = &self.task {
            task.wake_by_ref();
        }
    }

    /// Writes `frame`, the next, if the socket takes it now; false if the task must send it.
    fn write_now(&mut self, frame: &Frame) -> bool {
        let Io {
            socket,
            task,
            last,
            live,
            unflushed,
            failed,
            ..
        } = self;
        let (Some(socket), Some(task)) = (socket.as_mut(), task.as_ref()) else {
            return false;
        };
        // The task's waker: woken when a full socket drains.
        let mut cx = Context::from_waker(task);
        match socket.poll_ready_unpin(&mut cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(_)) => {
                *failed = true;
                return false;
            }
            Poll::Pending => return false,
        }
        if socket
            .start_send_unpin(WsMessage::Text(frame.text.clone()))
            .is_err()
        {
            *failed = true;
            return false;
        }
        *last = frame.seq;
        match socket.poll_flush_unpin(&mut cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(_)) => {
                *failed = true;
                task.wake_by_ref();
            }
            Poll::Pending => {
                // The rest goes when the socket drains; until then the task sends.
                *unflushed = true;
                *live = false;
            }
        }
        true
    }
}

impl Board for Client {
    fn offer(&self, frame: &Frame) {
        let mut io = self.lock();
        if io.socket.is_none() {
            return;
        }
        if io.live {
            if frame.seq <= io.last || (frame.seq == io.last + 1 && io.write_now(frame)) {
                return;
            }
            io.live = false;
        }
        if io.kept.len() < CAPACITY {
            io.kept.push_back(frame.clone());
        } else {
            io.kept = VecDeque::new();
            io.lagged = true;
        }
        io.wake();
    }
}

/// Polls a client's quiet sources (its messages, the ping timer, shutdown) only after one of
/// them woke the task. Polled whenever the task was woken, the socket's read half alone
/// (tungstenite zero-fills its read buffer and re-registers two wakers on each attempt) cost
/// more than a tenth of the server's CPU per call (perf, the `fanout` bench), with the shutdown
/// watch's shared mutex besides.
struct Gate {
    state: Arc<GateState>,
    /// Wakes the task through [`GateState`], noting that a quiet source is ready.
    waker: Waker,
    /// The waker in `state.task`, compared here without a lock (a task's waker stays the same).
    registered: Option<Waker>,
}

struct GateState {
    /// A quiet source woke the task (or one was ready) since they were last polled.
    woken: AtomicBool,
    /// The task's waker; kept, never taken, so a wake can never find it missing.
    task: Mutex<Option<Waker>>,
}

impl Wake for GateState {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = task.as_ref() {
            w.wake_by_ref();
        }
    }
}

impl Gate {
    fn new() -> Gate {
        // Woken at first, so the sources are polled (and register the gate's waker) once.
        let state = Arc::new(GateState {
            woken: AtomicBool::new(true),
            task: Mutex::new(None),
        });
        Gate {
            waker: Waker::from(state.clone()),
            state,
            registered: None,
        }
    }

    /// `sources` polled with the gate's waker if the gate was woken, else pending. The task's
    /// waker is in place before `woken` is read and cleared, so a wake is never lost.
    fn poll<T>(
        &mut self,
        cx: &mut Context<'_>,
        sources: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        if !self
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            let w = cx.waker().clone();
            *self.state.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(w.clone());
            self.registered = Some(w);
        }
        // Read before it is cleared: a load, unlike the swap, leaves the line shared.
        if !self.state.woken.load(Ordering::Acquire)
            || !self.state.woken.swap(false, Ordering::AcqRel)
        {
            return Poll::Pending;
        }
        let ready = sources(&mut Context::from_waker(&self.waker));
        if ready.is_ready() {
            // Another source may be ready too: look again next time.
            self.state.woken.store(true, Ordering::Release);
        }
        ready
    }
}

async fn send_snapshot(state: &AppState, branch: i64, client: &Client) -> anyhow::Result<u64> {
    let (seq, body) = snapshot(state, branch).await?;
    client.send(WsMessage::Text(Utf8Bytes::from(body))).await?;
    Ok(seq)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::net::{TcpListener, TcpSocket, TcpStream};
    use tokio_tungstenite::WebSocketStream;
    use tokio_tungstenite::tungstenite::Message as Tm;

    use super::*;

    /// A client on a real socket, and its peer: a board with a tiny receive buffer that reads
    /// only when told to.
    async fn connected() -> (Arc<Client>, WebSocketStream<TcpStream>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let tx = Arc::new(Mutex::new(Some(tx)));
        let app = Router::new().route(
            "/",
            get(move |ws: WebSocketUpgrade| async move {
                ws.on_upgrade(move |socket| async move {
                    if let Some(tx) = tx.lock().unwrap().take() {
                        let _ = tx.send(socket);
                    }
                    std::future::pending::<()>().await;
                })
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(2048).unwrap();
        let stream = socket.connect(addr).await.unwrap();
        let (peer, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), stream)
            .await
            .unwrap();
        (Arc::new(Client::new(rx.await.unwrap())), peer)
    }

    /// Runs the task's part until the client is live again (or the task has to act).
    async fn catch_up(client: &Client) -> Option<Step> {
        let run = poll_fn(|cx| match client.poll_kept(cx) {
            Poll::Ready(step) => Poll::Ready(Some(step)),
            Poll::Pending if client.lock().live => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        });
        tokio::time::timeout(Duration::from_secs(10), run)
            .await
            .expect("caught up in time")
    }

    fn frame(seq: u64, text: &str) -> Frame {
        Frame {
            seq,
            text: Utf8Bytes::from(text.to_owned()),
        }
    }

    /// Offers large frames until the socket is full; the seq of the last one written.
    fn fill(client: &Client) -> u64 {
        let big = "x".repeat(64 * 1024);
        let mut seq = client.last();
        while client.lock().live {
            seq += 1;
            client.offer(&frame(seq, &format!("{seq} {big}")));
            assert!(seq < 10_000, "the socket never filled");
        }
        let io = client.lock();
        assert!(
            io.unflushed && io.kept.is_empty(),
            "the last one went, in part"
        );
        assert_eq!(io.last, seq);
        seq
    }

    /// The peer's text messages, each starting with its seq, until `last`.
    async fn read_up_to(peer: &mut WebSocketStream<TcpStream>, last: u64) -> Vec<u64> {
        let mut seqs = Vec::new();
        while seqs.last() != Some(&last) {
            let m = tokio::time::timeout(Duration::from_secs(10), peer.next())
                .await
                .expect("a message in time");
            if let Some(Ok(Tm::Text(t))) = m {
                seqs.push(t.split(' ').next().unwrap().parse().unwrap());
            }
        }
        seqs
    }

    #[test]
    fn pings_fall_due_on_the_grid_between_15_and_16_s_after_connecting() {
        let start = Instant::now();
        let first = first_ping(start);
        for ms in [0, 1, 250, 999, 1000, 1001, 7_345] {
            let now = start + Duration::from_millis(ms);
            let due = first_ping(now);
            assert!(due >= now + PING_EVERY && due < now + PING_EVERY + PING_GRID);
            let steps = due.duration_since(first).as_nanos() % PING_GRID.as_nanos();
            assert_eq!(steps, 0, "{ms} ms");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_live_client_takes_frames_straight_and_a_full_one_keeps_them_to_send_in_order() {
        let (client, mut peer) = connected().await;
        assert!(catch_up(&client).await.is_none());
        let written = fill(&client);
        for seq in written + 1..=written + 100 {
            client.offer(&frame(seq, &format!("{seq} small")));
        }
        {
            let io = client.lock();
            assert!(!io.live);
            assert!(
                io.kept
                    .iter()
                    .map(|f| f.seq)
                    .eq(written + 1..=written + 100)
            );
        }
        // The peer reads; the task sends what was kept, in order, and the client is live.
        let reader = tokio::spawn(async move { read_up_to(&mut peer, written + 101).await });
        assert!(catch_up(&client).await.is_none());
        assert_eq!(client.last(), written + 100);
        assert!(client.lock().kept.capacity() <= KEPT_RETAINED);
        client.offer(&frame(written + 101, &format!("{} live", written + 101)));
        let seqs = reader.await.unwrap();
        assert!(seqs.iter().copied().eq(1..=written + 101), "{seqs:?}");
        assert!(client.lock().live);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn past_the_capacity_a_full_client_has_lagged_and_a_gap_is_the_tasks_to_fill() {
        let (client, _peer) = connected().await;
        assert!(catch_up(&client).await.is_none());
        // A gap while live: kept, and the task is told which seq follows it.
        let last = client.last();
        client.offer(&frame(last + 3, "gap"));
        assert!(matches!(catch_up(&client).await, Some(Step::Gap(s)) if s == last + 3));
        client.sent_up_to(last + 2);
        assert!(catch_up(&client).await.is_none());

        let written = fill(&client);
        for seq in written + 1..=written + CAPACITY as u64 {
            client.offer(&frame(seq, "kept"));
        }
        assert!(!client.lock().lagged);
        client.offer(&frame(written + CAPACITY as u64 + 1, "one too many"));
        {
            let io = client.lock();
            assert!(io.lagged && io.kept.is_empty());
        }
        assert!(matches!(catch_up(&client).await, Some(Step::Lagged)));
        // Kept again from then on, for after the snapshot.
        client.offer(&frame(written + CAPACITY as u64 + 2, "after"));
        assert_eq!(client.lock().kept.len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_parked_task_is_woken_by_a_frame_kept_for_it() {
        let (client, _peer) = connected().await;
        assert!(catch_up(&client).await.is_none());
        // Live, the task parks; the relay then keeps a frame (a gap) and must wake it.
        let parked = tokio::spawn({
            let client = client.clone();
            async move { poll_fn(|cx| client.poll_kept(cx)).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!parked.is_finished());
        let last = client.last();
        client.offer(&frame(last + 2, "gap"));
        let step = tokio::time::timeout(Duration::from_secs(10), parked)
            .await
            .expect("woken in time")
            .unwrap();
        assert!(matches!(step, Step::Gap(s) if s == last + 2));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_socket_closes_when_the_task_ends_though_the_relay_still_holds_the_client() {
        let (client, mut peer) = connected().await;
        assert!(catch_up(&client).await.is_none());
        let relays: Arc<dyn Board> = client.clone();
        client.close();
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(Ok(_)) = peer.next().await {}
        })
        .await;
        assert!(ended.is_ok(), "the peer saw the connection end");
        // A frame offered afterwards is neither written nor kept.
        relays.offer(&frame(client.last() + 1, "late"));
        assert!(client.lock().kept.is_empty());
    }
}

//! `GET /api/v1/events`: the WebSocket event stream.
//!
//! On connect the client is subscribed to the branch's hub *before* its starting point is read,
//! so nothing committed in between is lost. It then gets either the events after `?since=SEQ`
//! (if the database still has them) or a snapshot, and from then on every event in seq order.
//! Messages already covered by the starting point are skipped by seq; a gap (never expected) is
//! filled from the database; a client that lagged behind the hub's buffer gets a fresh snapshot.
//! The server pings every 15 s and drops a client it has not heard from in 45 s.
//!
//! Clients only ever send pongs and closes, so a frame or message over 64 KiB is refused as
//! soon as its header announces the length, before any of it is buffered, and the connection
//! is closed. An upgrade authenticated by the session cookie must come from the server's own
//! origin ([`super::origin`]).

use std::future::{Future, poll_fn};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use futures_util::StreamExt;
use qhall_shared::api::WindowState;
use qhall_shared::events::{Event, Message, WindowStatus};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::AppState;
use super::auth::{Caller, TokenSource, request_token_from};
use super::error::{ApiError, ApiQuery, ApiResult};
use super::origin::same_origin_or_none;
use crate::events::Frame;
use crate::store::Role;

const PING_EVERY: Duration = Duration::from_secs(15);
const SILENCE_LIMIT: Duration = Duration::from_secs(45);
const READ_BUFFER: usize = 4 * 1024;
/// The largest frame and message a client may send. Without the frame limit tungstenite buffers
/// frames of up to 16 MiB before the message limit applies (20 such frames: +272 MB).
const MAX_INCOMING: usize = 64 * 1024;

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
    let cfg = state.store.config(branch).await?;
    let b = state.store.board_state(branch, now).await?;
    let open = cfg.schedule.state_at(now).is_open() && cfg.emergency.is_none();
    let msg = Message {
        seq: b.seq,
        event: Event::Snapshot {
            time_zone: Some(cfg.schedule.tz.name().to_owned()),
            hall: cfg.name.clone(),
            recent_calls: b.recent_calls,
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
                .into_iter()
                .map(|(w, current)| WindowStatus {
                    window: w.number,
                    state: w.state,
                    current: current.filter(|_| w.state != WindowState::Closed),
                })
                .collect(),
            notices: b.notices,
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
    mut socket: WebSocket,
) -> anyhow::Result<()> {
    let _counted = state.store.hub.client_guard();
    let mut rx = state.store.hub.subscribe(branch);
    let mut stopping = state.stopping.clone();

    // The starting point: the missed events, or a snapshot.
    let mut last = match since {
        Some(s) => match state.store.events_since(branch, s).await? {
            Some(missed) => {
                let mut last = s;
                for (seq, body) in missed {
                    socket.send(WsMessage::Text(Utf8Bytes::from(body))).await?;
                    last = seq;
                }
                last
            }
            None => send_snapshot(&state, branch, &mut socket).await?,
        },
        None => send_snapshot(&state, branch, &mut socket).await?,
    };

    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut heard = Instant::now();
    let mut stop = std::pin::pin!(stopping.changed());
    let mut quiet = Gate::new();
    loop {
        // The hub's frames first; the client's messages, the ping timer and shutdown only when
        // one of them woke this task (see [`Gate`]).
        let woke = tokio::select! {
            biased;
            frame = rx.recv() => Woke::Frame(frame),
            other = poll_fn(|cx| quiet.poll(cx, |cx| {
                if stop.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Woke::Stop);
                }
                if let Poll::Ready(m) = socket.poll_next_unpin(cx) {
                    return Poll::Ready(Woke::Incoming(m));
                }
                if ping.poll_tick(cx).is_ready() {
                    return Poll::Ready(Woke::Ping);
                }
                Poll::Pending
            })) => other,
        };
        match woke {
            Woke::Frame(frame) => match frame {
                Ok(f) if f.seq <= last => {}
                Ok(f) if f.seq == last + 1 => {
                    socket.send(WsMessage::Text(f.text)).await?;
                    last = f.seq;
                }
                Ok(f) => {
                    // A gap: fill it from the database, then send this one.
                    match state.store.events_since(branch, last).await? {
                        Some(missed) => {
                            for (_, body) in missed.into_iter().filter(|(seq, _)| *seq < f.seq) {
                                socket.send(WsMessage::Text(Utf8Bytes::from(body))).await?;
                            }
                            socket.send(WsMessage::Text(f.text)).await?;
                            last = f.seq;
                        }
                        None => last = send_snapshot(&state, branch, &mut socket).await?,
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // Too slow to keep up: start again from the current state.
                    rx = rx.resubscribe();
                    last = send_snapshot(&state, branch, &mut socket).await?;
                }
                Err(RecvError::Closed) => break,
            },
            Woke::Incoming(m) => match m {
                Some(Ok(WsMessage::Close(_))) | None => break,
                Some(Ok(_)) => heard = Instant::now(),
                Some(Err(_)) => break,
            },
            Woke::Ping => {
                if heard.elapsed() > SILENCE_LIMIT {
                    break;
                }
                socket.send(WsMessage::Ping(Default::default())).await?;
            }
            Woke::Stop => {
                let _ = socket.send(WsMessage::Close(None)).await;
                break;
            }
        }
    }
    Ok(())
}

/// What woke a client's task.
enum Woke {
    Frame(Result<Frame, RecvError>),
    Incoming(Option<Result<WsMessage, axum::Error>>),
    Ping,
    Stop,
}

/// Polls a client's quiet sources (its messages, the ping timer, shutdown) only after one of
/// them woke the task, so a frame from the hub costs what it costs a bare broadcast: one receive
/// and one send. Polled on every wake, the socket's read half alone (tungstenite zero-fills its
/// read buffer and re-registers two wakers on each attempt) cost more than a tenth of the
/// server's CPU per call; perf showed it with the split sink's lock and the shutdown watch's
/// mutex, all three per client and per frame.
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

async fn send_snapshot(
    state: &AppState,
    branch: i64,
    socket: &mut WebSocket,
) -> anyhow::Result<u64> {
    let (seq, body) = snapshot(state, branch).await?;
    socket.send(WsMessage::Text(Utf8Bytes::from(body))).await?;
    Ok(seq)
}

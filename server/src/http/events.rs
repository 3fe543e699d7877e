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
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::AppState;
use super::auth::{Caller, TokenSource, request_token_from};
use super::error::{ApiError, ApiQuery, ApiResult};
use super::origin::same_origin_or_none;
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
    socket: WebSocket,
) -> anyhow::Result<()> {
    let _counted = state.store.hub.client_guard();
    let mut rx = state.store.hub.subscribe(branch);
    let (mut sink, mut stream) = socket.split();
    let mut stopping = state.stopping.clone();

    // The starting point: the missed events, or a snapshot.
    let mut last = match since {
        Some(s) => match state.store.events_since(branch, s).await? {
            Some(missed) => {
                let mut last = s;
                for (seq, body) in missed {
                    sink.send(WsMessage::Text(Utf8Bytes::from(body))).await?;
                    last = seq;
                }
                last
            }
            None => send_snapshot(&state, branch, &mut sink).await?,
        },
        None => send_snapshot(&state, branch, &mut sink).await?,
    };

    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            frame = rx.recv() => match frame {
                Ok(f) if f.seq <= last => {}
                Ok(f) if f.seq == last + 1 => {
                    sink.send(WsMessage::Text(f.text)).await?;
                    last = f.seq;
                }
                Ok(f) => {
                    // A gap: fill it from the database, then send this one.
                    match state.store.events_since(branch, last).await? {
                        Some(missed) => {
                            for (_, body) in missed.into_iter().filter(|(seq, _)| *seq < f.seq) {
                                sink.send(WsMessage::Text(Utf8Bytes::from(body))).await?;
                            }
                            sink.send(WsMessage::Text(f.text)).await?;
                            last = f.seq;
                        }
                        None => last = send_snapshot(&state, branch, &mut sink).await?,
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // Too slow to keep up: start again from the current state.
                    rx = rx.resubscribe();
                    last = send_snapshot(&state, branch, &mut sink).await?;
                }
                Err(RecvError::Closed) => break,
            },
            incoming = stream.next() => match incoming {
                Some(Ok(WsMessage::Close(_))) | None => break,
                Some(Ok(_)) => heard = Instant::now(),
                Some(Err(_)) => break,
            },
            _ = ping.tick() => {
                if heard.elapsed() > SILENCE_LIMIT {
                    break;
                }
                sink.send(WsMessage::Ping(Default::default())).await?;
            },
            _ = stopping.changed() => {
                let _ = sink.send(WsMessage::Close(None)).await;
                break;
            }
        }
    }
    Ok(())
}

async fn send_snapshot(
    state: &AppState,
    branch: i64,
    sink: &mut futures_util::stream::SplitSink<WebSocket, WsMessage>,
) -> anyhow::Result<u64> {
    let (seq, body) = snapshot(state, branch).await?;
    sink.send(WsMessage::Text(Utf8Bytes::from(body))).await?;
    Ok(seq)
}

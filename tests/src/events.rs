//! [`EventClient`]: a WebSocket client of the event stream, as a display connects to it; every
//! message it receives must parse as the shared protocol type.

use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use qhall_shared::events::Message;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A WebSocket client of the event stream (tokio-tungstenite, as the display uses).
pub struct EventClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Every message received so far, in order.
    pub received: Vec<Value>,
}

impl EventClient {
    pub async fn connect(url: &str) -> anyhow::Result<EventClient> {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .context("websocket connect")?;
        Ok(EventClient {
            ws,
            received: Vec::new(),
        })
    }

    /// A `wss://` client trusting `tls` (e.g. [`crate::tls::TestCa::rustls_client`]).
    pub async fn connect_tls(
        url: &str,
        tls: std::sync::Arc<rustls::ClientConfig>,
    ) -> anyhow::Result<EventClient> {
        let (ws, _) = tokio_tungstenite::connect_async_tls_with_config(
            url,
            None,
            false,
            Some(tokio_tungstenite::Connector::Rustls(tls)),
        )
        .await
        .context("websocket connect")?;
        Ok(EventClient {
            ws,
            received: Vec::new(),
        })
    }

    /// The next JSON message, within `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .context("no message in time")?;
            match msg {
                Some(Ok(tungstenite::Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t)?;
                    // Every message must also parse as the shared type.
                    serde_json::from_value::<Message>(v.clone())
                        .with_context(|| format!("not a protocol message: {v}"))?;
                    self.received.push(v.clone());
                    return Ok(v);
                }
                Some(Ok(tungstenite::Message::Ping(p))) => {
                    self.ws.send(tungstenite::Message::Pong(p)).await?;
                }
                Some(Ok(tungstenite::Message::Close(_))) | None => bail!("stream closed"),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
            }
        }
    }

    /// Reads until a message of `kind` (e.g. "called") arrives.
    pub async fn wait_for(&mut self, kind: &str, timeout: Duration) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let v = self
                .next(left)
                .await
                .with_context(|| format!("waiting for {kind}"))?;
            if v["type"] == kind {
                return Ok(v);
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

//! The kiosk's connection to the server: opens the event stream, fetches the hall and its
//! services, forwards events, and says at once when the server cannot be reached.
//!
//! The stream is opened before the fetch so that nothing that happens between the two is
//! lost; on a reconnect `?since=SEQ` resumes it (or the server sends a fresh snapshot).
//! A lost connection is retried at once; only when that fails does the kiosk go out of
//! service, then it keeps retrying every second and recovers by itself.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::Internal;
use crate::api::KioskApi;

const RETRY_EVERY: Duration = Duration::from_secs(1);

pub(crate) async fn run<A: KioskApi>(api: Arc<A>, tx: mpsc::UnboundedSender<Internal>) {
    let mut since = None;
    loop {
        if tx.is_closed() {
            return;
        }
        let mut events = match api.events(since).await {
            Ok(rx) => rx,
            Err(e) => {
                let _ = tx.send(Internal::Down(e));
                tokio::time::sleep(RETRY_EVERY).await;
                continue;
            }
        };
        let (hall, services) = tokio::join!(api.hall(), api.services());
        match (hall, services) {
            (Ok(hall), Ok(services)) => {
                let _ = tx.send(Internal::Up { hall, services });
            }
            (Err(e), _) | (_, Err(e)) => {
                let _ = tx.send(Internal::Down(e));
                tokio::time::sleep(RETRY_EVERY).await;
                continue;
            }
        }
        while let Some(msg) = events.recv().await {
            since = Some(msg.seq);
            if tx.send(Internal::Event(msg)).is_err() {
                return;
            }
        }
        tracing::info!("event stream closed; reconnecting");
    }
}

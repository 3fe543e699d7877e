//! The listener: turns `NOTIFY qhall_events, 'BRANCH SEQ BODY'` from any server into the
//! branch's events, published to this server's hub in seq order. The body travels in the
//! notification when it fits ([`super::PAYLOAD_BODY_MAX`]), so an event costs no query; a
//! notification without one (`'BRANCH SEQ'`), or one past a gap, is read from `stream_events`.
//! Read once per notification, the events of a busy city (three servers, 200 branches) queued
//! behind the listener's own round trips: boards saw calls 39 s late (the `city` bench).
//!
//! It remembers the last seq it published per branch and always publishes everything after it
//! up to the notified seq, so a lost notification or a dropped connection only delays events,
//! never loses or reorders them: after a reconnect it reads what every branch missed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;

use super::CHANNEL;
use crate::events::Hub;

/// The most events read in one query (a long outage is read in several).
const BATCH: i64 = 2000;

pub(super) async fn start(
    url: &str,
    pool: PgPool,
    hub: Arc<Hub>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    // Listening first, then the starting points: nothing committed in between is missed.
    let last: HashMap<i64, u64> =
        sqlx::query_as::<_, (i64, i64)>("SELECT id, event_seq FROM branches")
            .fetch_all(&pool)
            .await?
            .into_iter()
            .map(|(b, s)| (b, s as u64))
            .collect();
    Ok(tokio::spawn(run(listener, pool, hub, last)))
}

async fn run(mut listener: PgListener, pool: PgPool, hub: Arc<Hub>, mut last: HashMap<i64, u64>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => {
                let mut parts = n.payload().splitn(3, ' ');
                let (Some(Ok(branch)), Some(Ok(seq)), body) = (
                    parts.next().map(str::parse::<i64>),
                    parts.next().map(str::parse::<u64>),
                    parts.next(),
                ) else {
                    tracing::warn!("unexpected notification");
                    continue;
                };
                if let Err(e) = notified(&pool, &hub, &mut last, branch, seq, body).await {
                    tracing::warn!(error = %e, branch, "reading committed events failed");
                }
            }
            Ok(None) => {
                // The connection dropped and has been re-established: read what was missed.
                tracing::warn!("event listener reconnected; catching up");
                if let Err(e) = catch_up_all(&pool, &hub, &mut last).await {
                    tracing::warn!(error = %e, "catching up after a reconnect failed");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "event listener lost its connection; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                if catch_up_all(&pool, &hub, &mut last).await.is_err() {
                    continue;
                }
            }
        }
    }
}

async fn catch_up_all(
    pool: &PgPool,
    hub: &Hub,
    last: &mut HashMap<i64, u64>,
) -> anyhow::Result<()> {
    let current: Vec<(i64, i64)> = sqlx::query_as("SELECT id, event_seq FROM branches")
        .fetch_all(pool)
        .await?;
    for (branch, seq) in current {
        catch_up(pool, hub, last, branch, seq as u64).await?;
    }
    Ok(())
}

/// Publishes event `seq` of `branch`, with `body` when the notification carried it, after
/// whatever of the branch is still unpublished before it (read from the table).
async fn notified(
    pool: &PgPool,
    hub: &Hub,
    last: &mut HashMap<i64, u64>,
    branch: i64,
    seq: u64,
    body: Option<&str>,
) -> anyhow::Result<()> {
    let Some(body) = body else {
        return catch_up(pool, hub, last, branch, seq).await;
    };
    let before = seq.saturating_sub(1);
    if last.get(&branch).copied().unwrap_or(0) < before {
        catch_up(pool, hub, last, branch, before).await?;
    }
    let from = last.entry(branch).or_insert(0);
    if *from == before {
        *from = seq;
        hub.publish(vec![(branch, seq, body.to_owned())]);
        return Ok(());
    }
    // Published already (after a reconnect), or the gap could not be read (pruned).
    catch_up(pool, hub, last, branch, seq).await
}

/// Publishes the branch's events after the last one published, up to `upto`.
async fn catch_up(
    pool: &PgPool,
    hub: &Hub,
    last: &mut HashMap<i64, u64>,
    branch: i64,
    upto: u64,
) -> anyhow::Result<()> {
    // A branch created after this server started begins at seq 1.
    let from = last.entry(branch).or_insert(0);
    while *from < upto {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, body FROM stream_events WHERE branch_id = $1 AND seq > $2 AND seq <= $3 \
             ORDER BY seq LIMIT $4",
        )
        .bind(branch)
        .bind(*from as i64)
        .bind(upto as i64)
        .bind(BATCH)
        .fetch_all(pool)
        .await?;
        let Some(&(newest, _)) = rows.last() else {
            // Pruned meanwhile: clients see the gap and resynchronise from a snapshot.
            *from = upto;
            break;
        };
        *from = newest as u64;
        hub.publish(
            rows.into_iter()
                .map(|(seq, body)| (branch, seq as u64, body))
                .collect(),
        );
    }
    Ok(())
}

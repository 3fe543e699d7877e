//! `qhall-server`: the hall's brain. It owns all state in a database, issues tickets, assigns
//! them to windows, records every state change, measures waits against each service's target,
//! and pushes every change to boards, kiosks and consoles over WebSockets.
//!
//! `main.rs` only parses the configuration and calls [`run`]; the tests call the same [`run`]
//! on `127.0.0.1:0` with a fresh database.
//!
//! # Layout
//! - [`config`]: defaults → `qhall.toml` → `QHALL_*` → flags; the command line.
//! - [`queue`]: the pure engine (lifecycle, assignment policy, numbering, hours, estimates,
//!   statistics, Erlang C). No I/O; the clock is passed in.
//! - [`hall`]: the hall's rules — issuing, calling, the ticket's and the window's actions,
//!   ratings, complaints, settings — each written once over both databases.
//! - [`store`]: the databases (SQLite, PostgreSQL) behind one facade; every change one
//!   transaction.
//! - [`events`]: the hub that fans stream events out to WebSocket clients.
//! - [`forecast`]: keeps every branch's forecast table (forward simulation) fresh in the
//!   background; the table itself is [`queue::estimate::ForecastTable`].
//! - [`http`]: the API of `PROTOCOL.md`, one module per resource.
//! - [`notify`]: the sender of messages to customers (the outbox's webhook or log transport).
//! - [`auth`]: password hashes and bearer tokens.
//! - [`web`]: the staff console, rating pad and tracking page (server-rendered, assets embedded).
//! - [`admin`]: the administration commands (`user add`, `device add`, `migrate`, `backup`,
//!   `restore`, `check`).
//! - [`sim`]: the hall simulator on the same engine.
//! - [`serve`]: the accept loop: timeouts, a connection cap, TLS, graceful shutdown.

pub mod admin;
pub mod auth;
pub mod config;
pub mod events;
pub mod forecast;
pub mod http;
pub mod notify;
pub mod queue;
pub mod serve;
pub mod sim;
pub mod web;

// Last, and in this order: the store's `write!`/`read!` (one operation on whichever
// database this is) are in scope for the hall's operations, and nowhere else, where `write!`
// is still the standard one.
#[macro_use]
pub mod store;

pub mod hall;

use std::future::Future;
use std::sync::Arc;

use chrono::Utc;
use tokio::net::TcpListener;

pub use config::Config;

use crate::events::Hub;
use crate::store::Store;

/// Opens the database, seeds it if asked, and serves on `listener` until `shutdown` resolves.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    // Contacts past their retention go before anyone can read them (then hourly, below).
    purge_contacts(&store).await;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let state = http::AppState::new(store.clone(), &config, addr, stop_rx);
    let maintenance = tokio::spawn(maintenance(store.clone()));
    let forecasts = tokio::spawn(forecast::keep_fresh(store.clone()));
    let report_cache = tokio::spawn(keep_report_cache(store.clone()));
    let sender = tokio::spawn(notify::run(store.clone(), config.messages.clone()));
    let metrics_server = match &config.metrics_listen {
        Some(at) => Some(serve_metrics(at, state.clone(), &config).await?),
        None => None,
    };
    let backups = tokio::spawn(store::backup::schedule::run(
        store.clone(),
        config.backup.clone(),
    ));
    let refusals = state.metrics.connections.clone();
    let app = http::router(state, web::router());
    let serving = serve::Serving::from_config(&config, refusals)?;
    // Printed once the socket is bound; connections made from now on are queued and served.
    println!("listening on {}://{addr}", serving.scheme());
    tracing::info!(%addr, demo = config.demo, "listening");
    let graceful = async move {
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    };
    serve::serve(listener, app, serving, graceful).await?;
    if let Some(m) = metrics_server {
        m.abort();
    }
    maintenance.abort();
    forecasts.abort();
    report_cache.abort();
    sender.abort();
    backups.abort();
    store.close().await;
    Ok(())
}

/// Connections the metrics listener holds at once: a scraper or two, never the main address's
/// share of open files.
const METRICS_CONNECTIONS: usize = 64;

/// Binds `at` and serves only `/metrics` there, without a token (`--metrics-listen`), until the
/// returned task is aborted: plain http through the same accept loop as the main address, so
/// its header and body timeouts and its connection cap hold here too.
async fn serve_metrics(
    at: &str,
    state: http::AppState,
    config: &Config,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(at)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for metrics on {at}: {e}"))?;
    let bound = listener.local_addr()?;
    println!("metrics on http://{bound}/metrics");
    tracing::info!(addr = %bound, "serving /metrics without a token");
    let refusals = state.metrics.connections.clone();
    let app = http::metrics::listener_router(state);
    let mut limits = serve::Limits::from_config(config);
    limits.max_connections = limits.max_connections.min(METRICS_CONNECTIONS);
    let serving = serve::Serving {
        limits,
        tls: None,
        trusted_proxies: config.trusted_proxies.clone().into(),
        refusals,
    };
    Ok(tokio::spawn(async move {
        if let Err(e) = serve::serve(listener, app, serving, std::future::pending()).await {
            tracing::warn!(error = %e, "the metrics listener stopped");
        }
    }))
}

/// Opens and migrates the configured database, seeding the demo hall or an empty branch.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let hub = Arc::new(Hub::default());
    let mut store = Store::open_with(
        &config.database_url,
        config.power_safe,
        config.pg_connections,
        hub,
        config.policy,
    )
    .await?;
    store.messages_on = config.messages.enabled();
    if config.demo {
        if store::seed::demo(&store, Utc::now()).await? {
            tracing::info!("seeded the demo hall");
        }
    } else {
        store::seed::empty_branch(&store, &config.time_zone).await?;
        if store.count_users().await? == 0 {
            let msg = "no users yet: create the first admin with `qhall-server user add --role admin NAME` \
                       (password from QHALL_PASSWORD or standard input), and devices with `qhall-server device add`";
            eprintln!("{msg}");
            tracing::warn!("{msg}");
        }
    }
    Ok(store)
}

/// Clears the personal data of complaints past their branch's retention period
/// ([`hall::complaints::purge`]); a failure is logged and tried again next time.
async fn purge_contacts(store: &Store) {
    match store.purge_complaint_contacts(Utc::now()).await {
        Ok(n) if n > 0 => tracing::info!(cleared = n, "cleared complaint contacts past retention"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "clearing complaint contacts failed"),
    }
}

/// Every 15 s: announce opening and closing, notices coming in or going out, and close the day. Hourly: forget stream events older than a day
/// (keeping the newest 10,000 per branch) and purge complaint contacts past retention.
async fn maintenance(store: Store) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(15));
    let mut open: std::collections::HashMap<i64, bool> = std::collections::HashMap::new();
    let mut notices: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    let mut last_prune = std::time::Instant::now();
    loop {
        tick.tick().await;
        // Opening, a break, the cut-off, closing: kiosks and boards hear it within 15 s.
        for branch in store.branch_ids().await.unwrap_or_default() {
            match store
                .announce_opening(branch, open.get(&branch).copied(), Utc::now())
                .await
            {
                Ok(now_open) => {
                    open.insert(branch, now_open);
                }
                Err(e) => tracing::warn!(error = %e, branch, "checking opening hours failed"),
            }
            // A dated notice or an exception's notice period starting or ending.
            match store
                .announce_notices(branch, notices.get(&branch).cloned(), Utc::now())
                .await
            {
                Ok(ids) => {
                    notices.insert(branch, ids);
                }
                Err(e) => tracing::warn!(error = %e, branch, "checking notices failed"),
            }
            // A remote ticket whose turn came and went without a check-in.
            match store.expire_remote(branch, Utc::now()).await {
                Ok(n) if n > 0 => tracing::info!(
                    branch,
                    cancelled = n,
                    "cancelled remote tickets never checked in"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, branch, "expiring remote tickets failed"),
            }
            // The day's leftovers go at closing; a server that was down then catches up here.
            match store.close_day(branch, Utc::now()).await {
                Ok(Some(c)) => tracing::info!(
                    branch,
                    day = %c.day,
                    cancelled = c.cancelled,
                    signed_out = c.signed_out,
                    "closed the day"
                ),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, branch, "closing the day failed"),
            }
        }
        if last_prune.elapsed() < std::time::Duration::from_secs(3600) {
            continue;
        }
        last_prune = std::time::Instant::now();
        purge_contacts(&store).await;
        match store
            .prune_stream(Utc::now() - chrono::Duration::days(1), 10_000)
            .await
        {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "pruned old stream events"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning stream events failed"),
        }
    }
}

/// Shortly after start and then hourly: caches the closed days of the last 400 that the report
/// cache lacks (SQLite), so even the first report over a long range is quick.
async fn keep_report_cache(store: Store) {
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match store.warm_report_cache(Utc::now(), 400).await {
            Ok(n) if n > 0 => tracing::info!(days = n, "cached report days"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "caching report days failed"),
        }
    }
}

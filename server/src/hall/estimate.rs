//! The expected wait of a ticket: at issue (printed on it) and on the tracking page; and
//! [`Forecasts`], every branch's latest forecast table, which [`crate::forecast`] keeps fresh.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use qhall_shared::ServiceCode;
use qhall_shared::api::{TicketStatus, WindowState};

use crate::queue::estimate::{EstimateInput, ForecastTable, estimate_wait_secs, window_share};
use crate::store::{BranchConfig, Result, TicketRow, Tx};

/// The latest table of every branch.
#[derive(Debug, Default)]
pub struct Forecasts {
    tables: RwLock<HashMap<i64, Arc<ForecastTable>>>,
}

impl Forecasts {
    pub fn get(&self, branch: i64) -> Option<Arc<ForecastTable>> {
        self.tables
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&branch)
            .cloned()
    }

    pub fn set(&self, branch: i64, table: Arc<ForecastTable>) {
        self.tables
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(branch, table);
    }
}

/// How far back the recent mean service time looks.
pub const RECENT_SERVICE_WINDOW_HOURS: i64 = 4;

/// Expected seconds until a ticket with `ahead` people before it is called: the forecast's
/// (forward simulation, computed off this path by [`crate::forecast`]) when there is a fresh
/// one for the service, else the formula of [`crate::queue::estimate`].
#[allow(clippy::too_many_arguments)]
pub async fn estimate<T: Tx>(
    tx: &mut T,
    cfg: &BranchConfig,
    code: ServiceCode,
    priority: bool,
    ahead: u32,
    forecast: Option<&ForecastTable>,
    now: DateTime<Utc>,
) -> Result<u64> {
    if let Some(secs) = forecast.and_then(|f| f.wait_secs(code, priority, ahead, now)) {
        return Ok(secs);
    }
    let default = cfg
        .service(code)
        .map_or(300.0, |s| f64::from(s.default_service_secs));
    let mean = tx
        .recent_service_secs(
            cfg.id,
            code,
            now - Duration::hours(RECENT_SERVICE_WINDOW_HOURS),
        )
        .await?
        .unwrap_or(default);
    let counts = tx.waiting_counts(cfg.id).await?;
    let waiting_of = |s: ServiceCode| counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
    let mut windows = Vec::new();
    for w in tx.windows(cfg.id).await? {
        if w.state != WindowState::Open {
            continue;
        }
        let Some(def) = cfg.window(w.number) else {
            continue;
        };
        if !def.skills.serves.iter().any(|(s, _)| *s == code) {
            continue;
        }
        let all: u32 = def.skills.serves.iter().map(|(s, _)| waiting_of(*s)).sum();
        windows.push((
            w.current_ticket.is_none(),
            window_share(waiting_of(code) + 1, all + 1),
        ));
    }
    Ok(estimate_wait_secs(&EstimateInput {
        ahead,
        windows,
        mean_service_secs: mean,
    }))
}

/// A ticket as its holder sees it now: people ahead and the remaining estimate.
pub async fn ticket_position<T: Tx>(
    tx: &mut T,
    t: &TicketRow,
    forecast: Option<&ForecastTable>,
    now: DateTime<Utc>,
) -> Result<(u32, u64)> {
    if t.status != TicketStatus::Waiting {
        return Ok((0, 0));
    }
    let ahead = tx
        .count_ahead(t.branch_id, t.service, t.priority, t.queue_at, t.key)
        .await?;
    let cfg = tx.config(t.branch_id).await?;
    let secs = estimate(tx, &cfg, t.service, t.priority, ahead, forecast, now).await?;
    Ok((ahead, secs))
}

//! What the manager's live page and the staffing advisor read: the hall right now (lines,
//! windows, devices, overdue complaints), the branch's alert thresholds (changed by a manager,
//! audited), and the history of window openings.
//!
//! The reads and the one write each backend must provide are the [`LiveTx`] trait
//! (`sqlite/live.rs`, `postgres/live.rs`); the operations here are written once over it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use qhall_shared::api::TicketStatus;
use qhall_shared::{ServiceCode, WindowNo};

use crate::hall::{self, Outbox};
use crate::queue::estimate::ForecastTable;
use crate::store::WindowRow;
use crate::store::{AuditEntry, BranchConfig, Principal, Result, Store, StoreError, TicketRow, Tx};

/// When the live page raises an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AlertSettings {
    /// A line whose longest current wait reaches this share of its target (percent) is
    /// "about to miss" it.
    pub warn_percent: u32,
    /// More than this many waiting per open window serving a service: "open a window".
    pub per_window: u32,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            warn_percent: 80,
            per_window: 6,
        }
    }
}

impl AlertSettings {
    /// Checks both numbers are in `1..=100`.
    pub fn validate(&self) -> Result<()> {
        if !(1..=100).contains(&self.warn_percent) {
            return Err(StoreError::invalid(
                "invalid_warn_percent",
                "warn_percent is a whole percentage from 1 to 100",
            ));
        }
        if !(1..=100).contains(&self.per_window) {
            return Err(StoreError::invalid(
                "invalid_per_window",
                "per_window is a whole number from 1 to 100",
            ));
        }
        Ok(())
    }
}

/// A kiosk or board as the managers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceNow {
    pub id: i64,
    pub name: String,
    /// `kiosk` or `display`.
    pub role: String,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// What the kiosk last reported (`ok`, `no_paper`, `offline`, `error`, `none`), if anything.
    pub printer_state: Option<String>,
    pub printer_detail: Option<String>,
}

/// One service's line right now.
#[derive(Debug, Clone, PartialEq)]
pub struct LineNow {
    pub service: ServiceCode,
    pub waiting: u32,
    /// Issue time of the longest-waiting ticket in the line.
    pub oldest_issued_at: Option<DateTime<Utc>>,
    /// What a ticket issued now would be told.
    pub estimate_secs: u64,
}

/// One window right now.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowNow {
    pub row: WindowRow,
    /// The ticket called to or being served at the window, if one is live.
    pub current: Option<TicketRow>,
    /// The last time a ticket at the window was finished (done, no-show, transferred away).
    pub last_finished_at: Option<DateTime<Utc>>,
}

/// Everything the live page shows, read on one snapshot.
#[derive(Debug, Clone)]
pub struct LiveState {
    pub config: Arc<BranchConfig>,
    pub settings: AlertSettings,
    /// In the configuration's service order.
    pub lines: Vec<LineNow>,
    pub windows: Vec<WindowNow>,
    pub devices: Vec<DeviceNow>,
    /// Complaints not resolved by their due date.
    pub overdue_complaints: u32,
}

/// A sign-in, sign-out, pause or resume of a window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowLogEntry {
    pub window: WindowNo,
    /// `sign_in`, `sign_out`, `pause`, `resume`.
    pub kind: String,
    pub at: DateTime<Utc>,
}

/// The backend reads and writes of this area.
#[allow(async_fn_in_trait)]
pub trait LiveTx {
    /// Per service with waiting tickets: (service, count, earliest issue time).
    async fn waiting_lines(
        &mut self,
        branch: i64,
    ) -> Result<Vec<(ServiceCode, u32, DateTime<Utc>)>>;
    /// Active devices of the branch, by id.
    async fn devices_now(&mut self, branch: i64) -> Result<Vec<DeviceNow>>;
    /// Complaints with `status <> 'resolved' AND due_at < now`.
    async fn overdue_complaints(&mut self, branch: i64, now: DateTime<Utc>) -> Result<u32>;
    /// Per window: the latest `done_at` of its tickets (done, no-show, cancelled there).
    async fn last_finished_by_window(
        &mut self,
        branch: i64,
    ) -> Result<Vec<(WindowNo, DateTime<Utc>)>>;
    async fn alert_settings(&mut self, branch: i64) -> Result<Option<AlertSettings>>;
    async fn save_alert_settings(
        &mut self,
        branch: i64,
        s: &AlertSettings,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// The window log in `[from, to)`, plus each window's last entry before `from` (its state
    /// when the period began), in time order.
    async fn window_log_between(
        &mut self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<WindowLogEntry>>;
}

/// The hall right now, for the live page.
pub async fn live_state<T: Tx + LiveTx>(
    tx: &mut T,
    branch: i64,
    forecast: Option<&ForecastTable>,
    now: DateTime<Utc>,
) -> Result<LiveState> {
    let config = tx.config(branch).await?;
    let settings = tx.alert_settings(branch).await?.unwrap_or_default();
    let waiting = tx.waiting_lines(branch).await?;
    let mut lines = Vec::with_capacity(config.services.len());
    for s in &config.services {
        let (n, oldest) = waiting
            .iter()
            .find(|(c, _, _)| *c == s.code)
            .map_or((0, None), |(_, n, at)| (*n, Some(*at)));
        let estimate_secs =
            hall::estimate::estimate(tx, &config, s.code, false, n, forecast, now).await?;
        lines.push(LineNow {
            service: s.code,
            waiting: n,
            oldest_issued_at: oldest,
            estimate_secs,
        });
    }
    let finished = tx.last_finished_by_window(branch).await?;
    let mut windows = Vec::new();
    for row in tx.windows(branch).await? {
        let current = match row.current_ticket {
            Some(k) => tx
                .ticket(k)
                .await?
                .filter(|t| matches!(t.status, TicketStatus::Called | TicketStatus::Serving)),
            None => None,
        };
        let last_finished_at = finished
            .iter()
            .find(|(w, _)| *w == row.number)
            .map(|(_, at)| *at);
        windows.push(WindowNow {
            row,
            current,
            last_finished_at,
        });
    }
    Ok(LiveState {
        settings,
        lines,
        windows,
        devices: tx.devices_now(branch).await?,
        overdue_complaints: tx.overdue_complaints(branch, now).await?,
        config,
    })
}

/// Stores the branch's alert thresholds and audits the change.
pub async fn set_alert_settings<T: Tx + LiveTx>(
    tx: &mut T,
    _out: &mut Outbox,
    who: &Principal,
    s: AlertSettings,
    now: DateTime<Utc>,
) -> Result<AlertSettings> {
    s.validate()?;
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let before = tx.alert_settings(branch).await?.unwrap_or_default();
    tx.save_alert_settings(branch, &s, now).await?;
    tx.audit(&AuditEntry {
        branch,
        user: who.user_id,
        at: now,
        action: "live.alerts",
        detail: serde_json::json!({ "before": before, "after": s }).to_string(),
    })
    .await?;
    Ok(s)
}

impl Store {
    /// The hall right now (one read snapshot).
    pub async fn live(&self, branch: i64, now: DateTime<Utc>) -> Result<LiveState> {
        let forecast = self.forecasts.get(branch);
        read!(self, |tx| live_state(tx, branch, forecast.as_deref(), now))
    }

    /// The branch's alert thresholds (the defaults until a manager changes them).
    pub async fn alert_settings(&self, branch: i64) -> Result<AlertSettings> {
        read!(self, |tx| async move {
            Ok(tx.alert_settings(branch).await?.unwrap_or_default())
        })
    }

    /// Changes the caller's branch's alert thresholds (audited).
    pub async fn set_alert_settings(
        &self,
        who: &Principal,
        s: AlertSettings,
        now: DateTime<Utc>,
    ) -> Result<AlertSettings> {
        let who = who.clone();
        write!(self, |tx, out| set_alert_settings(tx, out, &who, s, now))
    }

    /// The window log of `[from, to)` with each window's state when it began.
    pub async fn window_log_between(
        &self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<WindowLogEntry>> {
        read!(self, |tx| tx.window_log_between(branch, from, to))
    }
}

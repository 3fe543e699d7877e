//! `GET /api/v1/live` and `PUT /api/v1/live/alerts` (managers): the hall right now for the
//! manager's live page — each line against its target, each window, the kiosks and boards, and
//! the alerts that ask for an action — and the thresholds those alerts use.
//!
//! A manager reads its own branch; an admin any (`?branch=N`). The thresholds belong to the
//! caller's branch; every change is in the audit log.

use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use qhall_shared::api::{Localized, WindowState};
use qhall_shared::{ServiceCode, TicketNumber, WindowNo};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiJson, ApiQuery, ApiResult};
use super::stats::branch_for;
use crate::hall::live::{AlertSettings, LiveState};
use crate::queue::alerts::{Level, level, too_many_waiting};
use crate::store::Role;

/// Printer states that need someone to go to the kiosk.
const PRINTER_PROBLEMS: [&str; 3] = ["no_paper", "offline", "error"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/live", get(live))
        .route("/api/v1/live/alerts", put(set_alerts))
}

#[derive(Debug, Deserialize)]
struct Params {
    branch: Option<i64>,
}

/// The live page's data.
#[derive(Debug, Serialize)]
pub struct Live {
    /// The server's clock when this was read: the page ages the waits from it.
    pub now: DateTime<Utc>,
    pub branch: i64,
    pub settings: AlertSettings,
    pub services: Vec<LiveService>,
    pub windows: Vec<LiveWindow>,
    pub devices: Vec<LiveDevice>,
    /// Complaints not resolved by their due date.
    pub overdue_complaints: u32,
    /// What needs doing, most urgent first.
    pub alerts: Vec<Alert>,
}

#[derive(Debug, Serialize)]
pub struct LiveService {
    pub service: ServiceCode,
    pub name: Localized,
    pub target_wait_secs: u64,
    pub waiting: u32,
    /// Issue time of the longest-waiting ticket.
    pub oldest_issued_at: Option<DateTime<Utc>>,
    pub longest_wait_secs: Option<u64>,
    pub level: Level,
    /// What a ticket issued now would be told.
    pub estimate_secs: u64,
    /// Open windows that serve this service.
    pub open_windows: u32,
    /// Bookings whose slot starts in the next hour (to come, or checked in).
    pub booked_next_hour: u32,
    /// Checked-in appointments waiting to be called.
    pub appointments_waiting: u32,
}

#[derive(Debug, Serialize)]
pub struct LiveWindow {
    pub window: WindowNo,
    pub name: String,
    pub state: WindowState,
    pub pause_reason: Option<String>,
    pub staff: Option<String>,
    /// The services it serves, in its order of preference.
    pub serves: Vec<ServiceCode>,
    pub current: Option<LiveTicket>,
    /// Since when the window is in its state.
    pub state_since: Option<DateTime<Utc>>,
    /// Open with no ticket: seconds since its last ticket finished (or it opened).
    pub idle_secs: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct LiveTicket {
    pub number: TicketNumber,
    pub service: ServiceCode,
    /// `called` or `serving`.
    pub status: &'static str,
    pub called_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
pub struct LiveDevice {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub printer_state: Option<String>,
    pub printer_detail: Option<String>,
}

/// Something the manager should act on.
#[derive(Debug, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Alert {
    /// A line's longest wait is past its target.
    OverTarget {
        service: ServiceCode,
        longest_wait_secs: u64,
        target_wait_secs: u64,
        /// A window that serves the service and is not open, to open.
        suggest_window: Option<WindowNo>,
    },
    /// A line's longest wait has reached the warning share of its target.
    AboutToMiss {
        service: ServiceCode,
        longest_wait_secs: u64,
        target_wait_secs: u64,
        suggest_window: Option<WindowNo>,
    },
    /// More waiting than the set number per open window serving the service.
    OpenWindow {
        service: ServiceCode,
        waiting: u32,
        open_windows: u32,
        suggest_window: Option<WindowNo>,
    },
    /// Complaints past their due date (see `/manage/complaints`).
    ComplaintsOverdue { count: u32 },
    /// A kiosk's printer needs attention.
    Printer {
        device: String,
        printer_state: String,
        detail: Option<String>,
    },
}

async fn live(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<Params>,
) -> ApiResult<Json<Live>> {
    let who = caller.require(&[Role::Manager])?;
    let branch = branch_for(who, p.branch)?;
    let now = state.now();
    let s = state.store.live(branch, now).await?;
    let booked = state.store.appointments_live(branch, now).await?;
    let names = state.store.staff_names(branch).await?;
    Ok(Json(view(branch, &s, &names, &booked, now)))
}

/// The page's data from the store's snapshot.
/// `booked`: per service, the bookings of the next hour and the checked-in appointments
/// waiting ([`crate::hall::appointments::live`]).
pub fn view(
    branch: i64,
    s: &LiveState,
    names: &std::collections::HashMap<i64, String>,
    booked: &std::collections::HashMap<String, (u32, u32)>,
    now: DateTime<Utc>,
) -> Live {
    let cfg = &s.config;
    let serves = |w: WindowNo| -> Vec<ServiceCode> {
        cfg.window(w)
            .map(|d| d.skills.serves.iter().map(|(c, _)| *c).collect())
            .unwrap_or_default()
    };
    let windows: Vec<LiveWindow> = s
        .windows
        .iter()
        .map(|w| {
            let r = &w.row;
            let idle_secs = (r.state == WindowState::Open && w.current.is_none()).then(|| {
                let since = [r.state_since, w.last_finished_at]
                    .into_iter()
                    .flatten()
                    .max()
                    .unwrap_or(now);
                u64::try_from((now - since).num_seconds()).unwrap_or(0)
            });
            LiveWindow {
                window: r.number,
                name: r.name.clone(),
                state: r.state,
                pause_reason: r.pause_reason.clone(),
                staff: r.staff_user_id.and_then(|u| names.get(&u).cloned()),
                serves: serves(r.number),
                current: w.current.as_ref().map(|t| LiveTicket {
                    number: t.number.clone(),
                    service: t.service,
                    status: t.status.as_str(),
                    called_at: t.last_called_at,
                }),
                state_since: r.state_since,
                idle_secs,
            }
        })
        .collect();
    // A window to open for a service: the first serving it that is not open.
    let to_open = |code: ServiceCode| {
        windows
            .iter()
            .find(|w| w.state != WindowState::Open && w.serves.contains(&code))
            .map(|w| w.window)
    };
    let mut services = Vec::new();
    let (mut over, mut warn, mut crowded) = (Vec::new(), Vec::new(), Vec::new());
    for line in &s.lines {
        let Some(def) = cfg.service(line.service) else {
            continue;
        };
        if !def.enabled && line.waiting == 0 {
            continue;
        }
        let target = u64::from(def.target_wait_secs);
        let longest = line
            .oldest_issued_at
            .map(|at| u64::try_from((now - at).num_seconds()).unwrap_or(0));
        let lvl = level(longest, target, s.settings.warn_percent);
        let open_windows = windows
            .iter()
            .filter(|w| w.state == WindowState::Open && w.serves.contains(&line.service))
            .count() as u32;
        match (lvl, longest) {
            (Level::Over, Some(l)) => over.push(Alert::OverTarget {
                service: line.service,
                longest_wait_secs: l,
                target_wait_secs: target,
                suggest_window: to_open(line.service),
            }),
            (Level::Warn, Some(l)) => warn.push(Alert::AboutToMiss {
                service: line.service,
                longest_wait_secs: l,
                target_wait_secs: target,
                suggest_window: to_open(line.service),
            }),
            _ => {}
        }
        if too_many_waiting(line.waiting, open_windows, s.settings.per_window) {
            crowded.push(Alert::OpenWindow {
                service: line.service,
                waiting: line.waiting,
                open_windows,
                suggest_window: to_open(line.service),
            });
        }
        services.push(LiveService {
            service: line.service,
            name: def.name.clone(),
            target_wait_secs: target,
            waiting: line.waiting,
            oldest_issued_at: line.oldest_issued_at,
            longest_wait_secs: longest,
            level: lvl,
            estimate_secs: line.estimate_secs,
            open_windows,
            booked_next_hour: booked.get(line.service.as_str()).map_or(0, |b| b.0),
            appointments_waiting: booked.get(line.service.as_str()).map_or(0, |b| b.1),
        });
    }
    let devices: Vec<LiveDevice> = s
        .devices
        .iter()
        .map(|d| LiveDevice {
            id: d.id,
            name: d.name.clone(),
            role: d.role.clone(),
            last_seen_at: d.last_seen_at,
            printer_state: d.printer_state.clone(),
            printer_detail: d.printer_detail.clone(),
        })
        .collect();
    let mut alerts = over;
    alerts.append(&mut warn);
    alerts.append(&mut crowded);
    for d in &devices {
        if let Some(p) = d
            .printer_state
            .as_deref()
            .filter(|p| PRINTER_PROBLEMS.contains(p))
        {
            alerts.push(Alert::Printer {
                device: d.name.clone(),
                printer_state: p.to_owned(),
                detail: d.printer_detail.clone(),
            });
        }
    }
    if s.overdue_complaints > 0 {
        alerts.push(Alert::ComplaintsOverdue {
            count: s.overdue_complaints,
        });
    }
    Live {
        now,
        branch,
        settings: s.settings,
        services,
        windows,
        devices,
        overdue_complaints: s.overdue_complaints,
        alerts,
    }
}

/// `PUT /api/v1/live/alerts`: the caller's branch's thresholds (both whole numbers 1–100).
async fn set_alerts(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<AlertSettings>,
) -> ApiResult<Json<AlertSettings>> {
    let who = caller.require(&[Role::Manager])?;
    let saved = state
        .store
        .set_alert_settings(who, body, state.now())
        .await?;
    Ok(Json(saved))
}

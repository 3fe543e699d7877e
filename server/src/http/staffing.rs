//! `GET /api/v1/staffing/advice` (managers): from the last weeks of history, the windows needed
//! per hour of the week by Erlang C, beside the windows that were actually open.
//!
//! - The history is the `weeks` whole weeks of branch-local days before today (today is not
//!   over, so it is left out).
//! - Per service: arrivals per hour of the week (tickets issued for it, averaged over the
//!   weeks) and its mean service time (start of service to completion, over the period; the
//!   service's configured default when nothing was served). The windows needed are the fewest
//!   that call `goal` of its customers within its target wait
//!   ([`crate::queue::erlang::windows_needed`]).
//! - All services together (`service` not given) need the sum of what each needs: windows have
//!   different skills, so pooling the lines would promise more than the hall can do.
//! - Windows open: from the window log (sign-in or resume to pause or sign-out), the mean
//!   number open in each hour of the week, counting only windows that serve the service.
//! - Booked: for the coming seven days, per hour, the window minutes the bookings take (each
//!   its service's mean service time) against the minutes of the windows open on average in
//!   that hour of the week: the share of the capacity appointments take.
//! - Coming (issue #14): for the same seven days, per opening hour (the branch's hours that
//!   date, holidays included), the people who can open a window — rostered for the hour, less
//!   those approved leave takes out ([`staffing::cover`] states the rule) — beside the windows
//!   needed in that hour of the week, and the hours that fall short. Only people with shifts
//!   count: like attendance, the code reads a person without a roster as one the hall has not
//!   said works that day (not as someone there all the hall's hours), and `without_shifts`
//!   names the active staff left out that way. Deactivated accounts never count. People are not
//!   tied to services, so with `service` given, everyone on shift stands against that one
//!   service's need.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Datelike, Duration, NaiveDate, Timelike};
use qhall_shared::ServiceCode;
use qhall_shared::api::{Localized, TicketStatus};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiQuery, ApiResult};
use super::stats::branch_for;
use crate::queue::attendance::{Leave, Roster};
use crate::queue::schedule::{Schedule, local_date, local_instant};
use crate::queue::staffing::{self, Grid};
use crate::store::settings::UserInfo;
use crate::store::{Principal, Role};

/// The longest history asked for at once.
const MAX_WEEKS: u32 = 26;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/staffing/advice", get(advice))
}

#[derive(Debug, Deserialize)]
struct Params {
    weeks: Option<u32>,
    goal: Option<f64>,
    service: Option<String>,
    branch: Option<i64>,
}

/// The advisor's answer.
#[derive(Debug, Serialize)]
pub struct Advice {
    pub branch: i64,
    pub weeks: u32,
    pub goal: f64,
    /// The first and last day of the history (branch-local, both included).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The one service asked for, or `null` for all.
    pub service: Option<ServiceCode>,
    /// What went into the figures, per service considered.
    pub services: Vec<ServiceBasis>,
    /// Monday first; 24 hours each.
    pub days: Vec<Day>,
    /// The coming seven days (today first): per hour with bookings, the share of the
    /// service's capacity they take.
    pub booked: Vec<BookedDay>,
    /// The coming seven days (today first): per opening hour, the people who can open a
    /// window beside the windows needed.
    pub coming: Vec<ComingDay>,
    /// The coming hours where fewer can open than are needed, in time order.
    pub short_hours: Vec<ShortHour>,
    /// Active staff of the branch without shifts: not counted in `coming`.
    pub without_shifts: Vec<String>,
}

/// One coming day's people against the advice.
#[derive(Debug, Serialize)]
pub struct ComingDay {
    pub day: NaiveDate,
    /// ISO weekday: 1 Monday … 7 Sunday.
    pub weekday: u8,
    /// The opening hours of the day, in order (none on a closed day).
    pub hours: Vec<ComingHour>,
}

#[derive(Debug, Serialize)]
pub struct ComingHour {
    pub hour: u8,
    /// People whose shift covers at least half of the hall's open minutes in the hour.
    pub rostered: u32,
    /// Of them, those approved leave leaves less than half.
    pub on_leave: u32,
    /// `rostered − on_leave`.
    pub available: u32,
    /// The advice for this hour of the week: `days[weekday − 1].hours[hour].needed`.
    pub needed: u32,
    /// `needed − available` when positive, else 0.
    pub short: u32,
}

/// A coming hour that falls short.
#[derive(Debug, Serialize)]
pub struct ShortHour {
    pub day: NaiveDate,
    pub weekday: u8,
    pub hour: u8,
    pub needed: u32,
    pub available: u32,
    /// Rostered people approved leave takes out of the hour.
    pub on_leave: u32,
    pub short: u32,
}

/// One coming day's bookings against the capacity.
#[derive(Debug, Serialize)]
pub struct BookedDay {
    pub day: NaiveDate,
    /// ISO weekday: 1 Monday … 7 Sunday.
    pub weekday: u8,
    /// Only the hours with bookings.
    pub hours: Vec<BookedHour>,
}

#[derive(Debug, Serialize)]
pub struct BookedHour {
    pub hour: u8,
    pub bookings: u32,
    /// Window minutes the bookings take: each counts its service's mean service time.
    pub booked_mins: f64,
    /// Window minutes there are: the windows open on average in this hour of the week × 60.
    pub capacity_mins: f64,
    /// `booked_mins / capacity_mins`; `null` when no window was open in that hour.
    pub share: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct ServiceBasis {
    pub service: ServiceCode,
    pub name: Localized,
    pub target_wait_secs: u32,
    /// Tickets issued for it in the period.
    pub arrivals: u32,
    /// Tickets completed (with a measured service time) in the period.
    pub served: u32,
    pub mean_service_secs: f64,
    /// Whether `mean_service_secs` is the configured default (nothing served).
    pub default_service_time: bool,
}

#[derive(Debug, Serialize)]
pub struct Day {
    /// ISO weekday: 1 Monday … 7 Sunday.
    pub weekday: u8,
    pub hours: Vec<Hour>,
}

#[derive(Debug, Serialize)]
pub struct Hour {
    pub hour: u8,
    pub arrivals_per_hour: f64,
    pub needed: u32,
    /// Mean windows open (serving the service) in this hour.
    pub open: f64,
}

async fn advice(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<Params>,
) -> ApiResult<Json<Advice>> {
    let who = caller.require(&[Role::Manager])?;
    let branch = branch_for(who, p.branch)?;
    let weeks = p.weeks.unwrap_or(4);
    if !(1..=MAX_WEEKS).contains(&weeks) {
        return Err(ApiError::invalid(
            "invalid_weeks",
            format!("weeks is a whole number from 1 to {MAX_WEEKS}"),
        ));
    }
    let goal = p.goal.unwrap_or(0.8);
    if !goal.is_finite() || goal <= 0.0 || goal >= 1.0 {
        return Err(ApiError::invalid(
            "invalid_goal",
            "goal is a share between 0 and 1, e.g. 0.8",
        ));
    }
    let cfg = state.store.config(branch).await?;
    let only = match p.service.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            s.parse::<ServiceCode>()
                .ok()
                .and_then(|c| cfg.service(c))
                .map(|d| d.code)
                .ok_or_else(|| {
                    ApiError::not_found("unknown_service", format!("there is no service {s}"))
                })?,
        ),
    };
    let tz = cfg.schedule.tz;
    let today = local_date(tz, state.now());
    let first = today - Duration::days(i64::from(weeks) * 7);
    let (from, to) = (local_instant(tz, first, 0), local_instant(tz, today, 0));
    let tickets = state.store.tickets_issued_between(branch, from, to).await?;

    let mut needed = [[0u32; 24]; 7];
    let mut arrivals = staffing::grid();
    let mut basis = Vec::new();
    for def in cfg
        .services
        .iter()
        .filter(|d| only.is_none_or(|c| c == d.code))
    {
        let issued: Vec<_> = tickets
            .iter()
            .filter(|t| t.issued_service == def.code)
            .map(|t| t.issued_at)
            .collect();
        let times: Vec<f64> = tickets
            .iter()
            .filter(|t| t.service == def.code && t.status == TicketStatus::Done)
            .filter_map(|t| Some((t.done_at? - t.serving_at?).num_milliseconds() as f64 / 1000.0))
            .filter(|s| *s >= 0.0)
            .collect();
        let default_service_time = times.is_empty();
        let mean = if default_service_time {
            f64::from(def.default_service_secs)
        } else {
            times.iter().sum::<f64>() / times.len() as f64
        };
        let g = staffing::arrivals(tz, issued.iter().copied(), weeks);
        for (d, row) in g.iter().enumerate() {
            for (h, a) in row.iter().enumerate() {
                arrivals[d][h] += a;
                needed[d][h] += staffing::needed(*a, mean, f64::from(def.target_wait_secs), goal)
                    .map_err(|e| ApiError::invalid("invalid_value", e.to_string()))?;
            }
        }
        basis.push(ServiceBasis {
            service: def.code,
            name: def.name.clone(),
            target_wait_secs: def.target_wait_secs,
            arrivals: issued.len() as u32,
            served: times.len() as u32,
            mean_service_secs: mean,
            default_service_time,
        });
    }

    let log = state.store.window_log_between(branch, from, to).await?;
    let counted = |w: qhall_shared::WindowNo| match only {
        None => true,
        Some(c) => cfg
            .window(w)
            .is_some_and(|d| d.skills.serves.iter().any(|(s, _)| *s == c)),
    };
    let intervals: Vec<_> = staffing::open_intervals(
        log.iter()
            .filter(|e| counted(e.window))
            .map(|e| (e.window.get(), e.kind.as_str(), e.at)),
        from,
        to,
    )
    .into_iter()
    .map(|(_, a, b)| (a, b))
    .collect();
    let open: Grid = staffing::open_windows(tz, first, weeks, &intervals);

    let days = (0..7)
        .map(|d| Day {
            weekday: d as u8 + 1,
            hours: (0..24)
                .map(|h| Hour {
                    hour: h as u8,
                    arrivals_per_hour: arrivals[d][h],
                    needed: needed[d][h],
                    open: open[d][h],
                })
                .collect(),
        })
        .collect();
    // The coming week's bookings, each taking its service's mean service time of a window.
    let mean_of = |code: &str| {
        basis
            .iter()
            .find(|b| b.service.as_str() == code)
            .map(|b| b.mean_service_secs / 60.0)
    };
    let mut booked = Vec::new();
    for i in 0..7 {
        let day = today + Duration::days(i);
        let mut hours: std::collections::BTreeMap<u8, (u32, f64)> = Default::default();
        for b in state.store.bookings(branch, day).await? {
            if !matches!(b.state.as_str(), "booked" | "checked_in") {
                continue;
            }
            let Some(mins) = mean_of(&b.service) else {
                continue; // another service than the one asked for
            };
            let hour = b.start.with_timezone(&tz).hour() as u8;
            let e = hours.entry(hour).or_default();
            e.0 += 1;
            e.1 += mins;
        }
        let weekday = day.weekday().number_from_monday() as u8;
        booked.push(BookedDay {
            day,
            weekday,
            hours: hours
                .into_iter()
                .map(|(hour, (bookings, booked_mins))| {
                    let capacity_mins = open[usize::from(weekday - 1)][usize::from(hour)] * 60.0;
                    BookedHour {
                        hour,
                        bookings,
                        booked_mins,
                        capacity_mins,
                        share: (capacity_mins > 0.0).then(|| booked_mins / capacity_mins),
                    }
                })
                .collect(),
        });
    }
    let (coming, short_hours, without_shifts) =
        coming_week(&state, who, branch, &cfg.schedule, today, &needed).await?;
    Ok(Json(Advice {
        branch,
        weeks,
        goal,
        from: first,
        to: today - Duration::days(1),
        service: only,
        services: basis,
        days,
        booked,
        coming,
        short_hours,
        without_shifts,
    }))
}

/// The coming seven days from `today`: per opening hour, the people available against
/// `needed` (the advice per hour of the week), the short hours, and the staff without shifts.
async fn coming_week(
    state: &AppState,
    who: &Principal,
    branch: i64,
    schedule: &Schedule,
    today: NaiveDate,
    needed: &[[u32; 24]; 7],
) -> ApiResult<(Vec<ComingDay>, Vec<ShortHour>, Vec<String>)> {
    let (users, rosters, leave) =
        people(state, who, branch, today, today + Duration::days(6)).await?;
    let without_shifts = users
        .iter()
        .filter(|u| u.role == "staff" && !rosters.contains_key(&u.id))
        .map(|u| {
            if u.display_name.is_empty() {
                u.username.clone()
            } else {
                u.display_name.clone()
            }
        })
        .collect();
    let (mut days, mut short_hours) = (Vec::new(), Vec::new());
    for i in 0..7 {
        let day = today + Duration::days(i);
        let weekday = day.weekday().number_from_monday() as u8;
        let hours: Vec<ComingHour> = staffing::cover(
            schedule.periods_on(day),
            day,
            rosters.iter().map(|(id, r)| (*id, r)),
            &leave,
        )
        .into_iter()
        .map(|c| {
            let needed = needed[usize::from(weekday - 1)][usize::from(c.hour)];
            let available = c.available();
            ComingHour {
                hour: c.hour,
                rostered: c.rostered,
                on_leave: c.on_leave,
                available,
                needed,
                short: staffing::shortfall(needed, available),
            }
        })
        .collect();
        short_hours.extend(hours.iter().filter(|h| h.short > 0).map(|h| ShortHour {
            day,
            weekday,
            hour: h.hour,
            needed: h.needed,
            available: h.available,
            on_leave: h.on_leave,
            short: h.short,
        }));
        days.push(ComingDay {
            day,
            weekday,
            hours,
        });
    }
    Ok((days, short_hours, without_shifts))
}

/// The branch's active staff and managers, the rosters of those who have one, and the approved
/// leave touching `from ..= to` (rosters and leave in one read).
async fn people(
    state: &AppState,
    who: &Principal,
    branch: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<(Vec<UserInfo>, BTreeMap<i64, Roster>, Vec<Leave>)> {
    // An admin may ask about another branch than its session's: read that one.
    let mut here = who.clone();
    here.branch_id = branch;
    let users: Vec<UserInfo> = state
        .store
        .users(&here)
        .await?
        .into_iter()
        .filter(|u| u.branch_id == Some(branch) && u.active)
        .filter(|u| matches!(u.role.as_str(), "staff" | "manager"))
        .collect();
    let (mut rosters, leave) = state.store.rosters_and_leave(branch, from, to).await?;
    rosters.retain(|id, _| users.iter().any(|u| u.id == *id));
    Ok((users, rosters, leave))
}

//! Managers' reports over a range of branch-local days: `GET /api/v1/reports` (every table as
//! JSON), `GET /api/v1/reports/{table}.csv` (one table as CSV: `service`, `window`, `staff`,
//! `hour`) and `GET /api/v1/reports/events.csv` (the raw ticket events, streamed).
//!
//! The figures are those of `GET /api/v1/stats` (PRODUCT.md's definitions), grouped; see
//! [`crate::queue::report`] for the estimate accuracy and satisfaction columns.

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use serde::Serialize;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiPath, ApiQuery, ApiResult};
use super::stats::Range;
use crate::queue::oversight::Oversight;
use crate::queue::report::{Line, Tables, tables};
use crate::queue::schedule::{local_date, local_instant};
use crate::store::Role;
use crate::store::export::push_csv_line;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports", get(report))
        .route("/api/v1/reports/{table}", get(csv))
}

/// `GET /api/v1/reports`.
#[derive(Debug, Serialize)]
struct Report {
    from: NaiveDate,
    to: NaiveDate,
    #[serde(flatten)]
    tables: Tables,
    /// Closing leftovers, extensions, calls out of order, reinstatements, transfers and the
    /// identity step.
    #[serde(flatten)]
    oversight: Oversight,
    /// Complaints, suggestions and follow-ups opened in the range, by service, window and
    /// person, with those overdue.
    feedback: crate::hall::feedback::FeedbackReport,
    /// Bookings made, cancelled, checked in, late and no-show per service and day, and the
    /// appointments' punctuality.
    appointments: crate::hall::appointments::Report,
    /// Display names of the staff ids in `by_staff` (and the oversight tables).
    staff_names: HashMap<i64, String>,
}

async fn build(state: &AppState, caller: &Caller, range: &Range) -> ApiResult<Report> {
    let who = caller.require(&[Role::Manager])?;
    let cfg = state.store.config(who.branch_id).await?;
    let tz = cfg.schedule.tz;
    let (from, to) = range.days(local_date(tz, state.now()))?;
    let db = &state.store;
    let today = local_date(tz, state.now());
    // The oversight read runs on a reader connection of its own while the tickets are read and
    // grouped: it costs a lookup per exception event (measured with the report bench).
    let oversight = db.oversight_days(cfg.clone(), from, to, today);
    let grouped = async {
        let tickets = db.report_days(&cfg, from, to, today).await?;
        let services: Vec<_> = cfg.services.iter().map(|s| s.code).collect();
        tokio::task::spawn_blocking(move || tables(&services, &tickets))
            .await
            .map_err(|e| {
                crate::store::StoreError::Other(anyhow::anyhow!("report task failed: {e}"))
            })
    };
    // The smaller reads go alongside (each on a reader of its own).
    let feedback = db.feedback_report(
        who.branch_id,
        local_instant(tz, from, 0),
        local_instant(tz, to, 1440),
        state.now(),
    );
    let appointments = db.appointments_report(who.branch_id, from, to, state.now());
    let staff_names = db.staff_names(who.branch_id);
    let (tables, oversight, feedback, appointments, staff_names) =
        tokio::join!(grouped, oversight, feedback, appointments, staff_names);
    Ok(Report {
        from,
        to,
        tables: tables?,
        oversight: oversight?,
        feedback: feedback?,
        appointments: appointments?,
        staff_names: staff_names?,
    })
}

async fn report(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(range): ApiQuery<Range>,
) -> ApiResult<axum::Json<Report>> {
    Ok(axum::Json(build(&state, &caller, &range).await?))
}

const CSV_HEADER: [&str; 19] = [
    "issued",
    "served",
    "no_show",
    "cancelled",
    "called",
    "mean_wait_secs",
    "median_wait_secs",
    "p90_wait_secs",
    "mean_service_secs",
    "service_level",
    "estimate_mean_abs_error_secs",
    "estimate_bias_secs",
    "estimate_within_range_share",
    "rated_1",
    "rated_2",
    "rated_3",
    "rated_4",
    "rated_5",
    "rated",
];

fn csv_fields<K>(key: String, line: &Line<K>) -> Vec<String> {
    let num = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_default();
    let f = &line.figures;
    let mut out = vec![
        key,
        f.issued.to_string(),
        f.served.to_string(),
        f.no_show.to_string(),
        f.cancelled.to_string(),
        f.called.to_string(),
        num(f.mean_wait_secs),
        num(f.median_wait_secs),
        num(f.p90_wait_secs),
        num(f.mean_service_secs),
        num(f.service_level),
        num(line.estimate.mean_abs_error_secs),
        num(line.estimate.bias_secs),
        num(line.estimate.within_range_share),
    ];
    out.extend(line.satisfaction.iter().map(u64::to_string));
    out.push(line.satisfaction.iter().sum::<u64>().to_string());
    out
}

fn csv_response(name: &str, from: NaiveDate, to: NaiveDate, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"qhall-{name}-{from}-{to}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The feedback tables as one CSV: a row per service, window and person.
fn feedback_csv(f: &crate::hall::feedback::FeedbackReport, names: &HashMap<i64, String>) -> String {
    let mut buf = String::new();
    push_csv_line(
        &mut buf,
        &[
            "by",
            "key",
            "name",
            "complaints",
            "from_customers",
            "suggestions",
            "follow_ups",
            "open",
            "overdue",
            "resolved_late",
        ],
    );
    for (by, lines) in [
        ("service", &f.by_service),
        ("window", &f.by_window),
        ("person", &f.by_person),
    ] {
        for l in lines {
            let name = match by {
                "person" => l
                    .key
                    .parse::<i64>()
                    .ok()
                    .and_then(|id| names.get(&id).cloned())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            let counts = [
                l.complaints,
                l.from_customers,
                l.suggestions,
                l.follow_ups,
                l.open,
                l.overdue,
                l.resolved_late,
            ];
            let mut fields = vec![by.to_owned(), l.key.clone(), name];
            fields.extend(counts.iter().map(u32::to_string));
            push_csv_line(&mut buf, &fields);
        }
    }
    buf
}

/// The appointments table as CSV: a row per service and day, then the total.
fn appointments_csv(r: &crate::hall::appointments::Report) -> String {
    let mut buf = String::new();
    push_csv_line(
        &mut buf,
        &[
            "day",
            "service",
            "made",
            "cancelled",
            "checked_in",
            "late",
            "no_show",
            "called",
            "called_within_5_min_share",
            "called_within_10_min_share",
            "mean_delay_secs",
        ],
    );
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
    for l in r.by_day.iter().chain(std::iter::once(&r.overall)) {
        let counts = [
            l.made,
            l.cancelled,
            l.checked_in,
            l.late,
            l.no_show,
            l.called,
        ];
        let mut fields = vec![
            l.day.map_or_else(|| "total".to_owned(), |d| d.to_string()),
            l.service.clone(),
        ];
        fields.extend(counts.iter().map(u32::to_string));
        fields.extend([
            opt(l.within_5_share()),
            opt(l.within_10_share()),
            opt(l.mean_delay_secs()),
        ]);
        push_csv_line(&mut buf, &fields);
    }
    buf
}

/// `GET /api/v1/reports/{service|window|staff|hour|feedback|appointments|events}.csv`.
async fn csv(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(table): ApiPath<String>,
    ApiQuery(range): ApiQuery<Range>,
) -> ApiResult<Response> {
    let Some(name) = table.strip_suffix(".csv") else {
        return Err(ApiError::not_found(
            "unknown_report",
            "reports are service.csv, window.csv, staff.csv, hour.csv, feedback.csv, appointments.csv and events.csv",
        ));
    };
    if name == "events" {
        let who = caller.require(&[Role::Manager])?;
        let cfg = state.store.config(who.branch_id).await?;
        let tz = cfg.schedule.tz;
        let (from, to) = range.days(local_date(tz, state.now()))?;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        state.store.ticket_events_csv(
            who.branch_id,
            tz,
            local_instant(tz, from, 0),
            local_instant(tz, to, 1440),
            tx,
        );
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            let chunk = rx.recv().await?;
            Some((Ok::<_, std::convert::Infallible>(chunk), rx))
        });
        return Ok(csv_response(name, from, to, Body::from_stream(stream)));
    }
    if name == "appointments" {
        let r = build(&state, &caller, &range).await?;
        return Ok(csv_response(
            name,
            r.from,
            r.to,
            Body::from(appointments_csv(&r.appointments)),
        ));
    }
    if name == "feedback" {
        let r = build(&state, &caller, &range).await?;
        return Ok(csv_response(
            name,
            r.from,
            r.to,
            Body::from(feedback_csv(&r.feedback, &r.staff_names)),
        ));
    }
    let key = match name {
        "service" => "service",
        "window" => "window",
        "staff" => "staff",
        "hour" => "hour",
        _ => {
            return Err(ApiError::not_found(
                "unknown_report",
                "reports are service.csv, window.csv, staff.csv, hour.csv, feedback.csv, appointments.csv and events.csv",
            ));
        }
    };
    let r = build(&state, &caller, &range).await?;
    let mut buf = String::new();
    let mut header = vec![key];
    if key == "staff" {
        header.push("name");
    }
    header.extend(CSV_HEADER);
    push_csv_line(&mut buf, &header);
    let t = &r.tables;
    match key {
        "service" => {
            for l in &t.by_service {
                push_csv_line(&mut buf, &csv_fields(l.key.to_string(), l));
            }
        }
        "window" => {
            for l in &t.by_window {
                push_csv_line(&mut buf, &csv_fields(l.key.to_string(), l));
            }
        }
        "staff" => {
            for l in &t.by_staff {
                let mut fields = csv_fields(l.key.to_string(), l);
                let name = r.staff_names.get(&l.key).cloned().unwrap_or_default();
                fields.insert(1, name);
                push_csv_line(&mut buf, &fields);
            }
        }
        _ => {
            for l in &t.by_hour {
                push_csv_line(&mut buf, &csv_fields(format!("{:02}:00", l.key), l));
            }
        }
    }
    Ok(csv_response(name, r.from, r.to, Body::from(buf)))
}

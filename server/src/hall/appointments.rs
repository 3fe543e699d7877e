//! Appointments (issue #12, first part): per service the booking settings, the slots of a day
//! (only inside the branch's open periods — weekly hours, breaks, dated exceptions), booking a
//! slot with a code, viewing and cancelling it, and the booking's messages through the outbox
//! ([`super::messages`]): the confirmation, a reminder the day before and one an hour before,
//! and a notice when a holiday closes the booked period (the booking is then cancelled and
//! listed for the manager).
//!
//! A slot's places hold under any concurrency: every booking of a slot updates the slot's one
//! row with `booked < places` in its WHERE, so of two bookings for the last place exactly one
//! finds a row to update, on SQLite (one writer) and on PostgreSQL (the second waits for the
//! first's row lock and checks the WHERE again), with any number of servers.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use qhall_shared::ServiceCode;
use serde::{Deserialize, Serialize};

use super::messages::{lang, mask_mobile, normalize_mobile};
use crate::queue::schedule::{Schedule, local_date, local_instant};
use crate::store::sql::Sql;
use crate::store::{AuditEntry, BranchConfig, Principal, Result, StoreError, Tx};

pub use qhall_shared::booking::CODE_LEN;

/// A service's booking settings, as the manager sets them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentSettings {
    pub enabled: bool,
    /// A slot's length, minutes (5–240).
    pub slot_mins: u32,
    /// Bookings a slot takes (1–50).
    pub places: u32,
    /// How many days ahead one may book (1–90).
    pub horizon_days: u32,
    /// The latest booking, this long before the slot, minutes (0–1440).
    pub lead_mins: u32,
    /// Check-in opens this long before the slot's start (0–120).
    pub checkin_before_mins: u32,
    /// ... and closes this long after it (0–120).
    pub checkin_after_mins: u32,
    /// Appointment tickets' own number prefix (one letter), or the service's series.
    #[serde(default)]
    pub prefix: Option<String>,
}

impl Default for AppointmentSettings {
    fn default() -> Self {
        AppointmentSettings {
            enabled: false,
            slot_mins: 15,
            places: 1,
            horizon_days: 14,
            lead_mins: 60,
            checkin_before_mins: 30,
            checkin_after_mins: 10,
            prefix: None,
        }
    }
}

fn invalid(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::invalid(code, message)
}

fn check_range(value: u32, range: std::ops::RangeInclusive<u32>, name: &str) -> Result<()> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            "invalid_appointment_settings",
            format!("{name} must be {} to {}", range.start(), range.end()),
        ))
    }
}

impl AppointmentSettings {
    /// Every value in its range, else 422 `invalid_appointment_settings`.
    pub fn check(&self) -> Result<()> {
        check_range(self.slot_mins, 5..=240, "slot_mins")?;
        check_range(self.places, 1..=50, "places")?;
        check_range(self.horizon_days, 1..=90, "horizon_days")?;
        check_range(self.lead_mins, 0..=1440, "lead_mins")?;
        check_range(self.checkin_before_mins, 0..=120, "checkin_before_mins")?;
        check_range(self.checkin_after_mins, 0..=120, "checkin_after_mins")?;
        if let Some(p) = &self.prefix
            && !(p.len() == 1 && p.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(invalid(
                "invalid_appointment_settings",
                "prefix is one capital letter, or none for the service's own series",
            ));
        }
        Ok(())
    }
}

/// The service's booking settings (the defaults, off, when none were set).
pub async fn settings<T: Sql>(
    tx: &mut T,
    branch: i64,
    service: ServiceCode,
) -> Result<AppointmentSettings> {
    Ok(tx
        .row(
            "SELECT * FROM appointment_settings WHERE branch_id = ? AND service_code = ?",
            args![branch, &service],
            |r| {
                Ok(AppointmentSettings {
                    enabled: r.flag("enabled")?,
                    slot_mins: r.count("slot_mins")?,
                    places: r.count("places")?,
                    horizon_days: r.count("horizon_days")?,
                    lead_mins: r.count("lead_mins")?,
                    checkin_before_mins: r.count("checkin_before_mins")?,
                    checkin_after_mins: r.count("checkin_after_mins")?,
                    prefix: r.opt_text("prefix")?,
                })
            },
        )
        .await?
        .unwrap_or_default())
}

fn unknown_service(service: ServiceCode) -> StoreError {
    StoreError::not_found("unknown_service", format!("there is no service {service}"))
}

/// Sets the service's booking settings (audited).
pub async fn set_settings<T: Tx>(
    tx: &mut T,
    who: &Principal,
    service: ServiceCode,
    s: &AppointmentSettings,
    now: DateTime<Utc>,
) -> Result<AppointmentSettings> {
    s.check()?;
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let cfg = tx.config(branch).await?;
    cfg.service(service)
        .ok_or_else(|| unknown_service(service))?;
    if let Some(p) = s
        .prefix
        .as_deref()
        .and_then(|p| p.parse::<ServiceCode>().ok())
    {
        if cfg.service(p).is_some() {
            return Err(invalid(
                "invalid_appointment_settings",
                format!("prefix {p} is service {p}'s own letter: choose a letter no service uses"),
            ));
        }
        let taken = tx
            .count(
                "SELECT COUNT(*) FROM appointment_settings WHERE branch_id = ? AND prefix = ? \
                 AND service_code <> ?",
                args![branch, p.as_str(), &service],
            )
            .await?;
        if taken > 0 {
            return Err(invalid(
                "invalid_appointment_settings",
                format!("prefix {p} is another service's appointments' already"),
            ));
        }
    }
    tx.execute(
        "INSERT INTO appointment_settings (branch_id, service_code, enabled, slot_mins, places, horizon_days, \
         lead_mins, checkin_before_mins, checkin_after_mins, prefix) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (branch_id, service_code) DO UPDATE SET enabled = excluded.enabled, \
         slot_mins = excluded.slot_mins, places = excluded.places, horizon_days = excluded.horizon_days, \
         lead_mins = excluded.lead_mins, checkin_before_mins = excluded.checkin_before_mins, \
         checkin_after_mins = excluded.checkin_after_mins, prefix = excluded.prefix",
        args![
            branch,
            &service,
            s.enabled,
            s.slot_mins,
            s.places,
            s.horizon_days,
            s.lead_mins,
            s.checkin_before_mins,
            s.checkin_after_mins,
            &s.prefix
        ],
    )
    .await?;
    // The services' `appointments` flag (the kiosk's check-in) is part of the configuration.
    tx.execute(
        "UPDATE branches SET config_version = config_version + 1 WHERE id = ?",
        args![branch],
    )
    .await?;
    tx.audit(&AuditEntry {
        branch,
        user: who.user_id,
        at: now,
        action: "appointments.settings",
        detail: serde_json::json!({ "service": service, "settings": s }).to_string(),
    })
    .await?;
    Ok(s.clone())
}

/// The slots of `day`: each open period cut into `slot_mins`, a slot only where it fits whole.
pub fn day_slots(
    schedule: &Schedule,
    day: NaiveDate,
    slot_mins: u32,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let step = slot_mins.max(1);
    let mut out = Vec::new();
    for &(a, b) in schedule.periods_on(day) {
        let (a, b) = (u32::from(a), u32::from(b));
        let mut start = a;
        while start + step <= b {
            let from = local_instant(schedule.tz, day, start as u16);
            let to = local_instant(schedule.tz, day, (start + step) as u16);
            out.push((from, to));
            start += step;
        }
    }
    out
}

/// One slot as the booking pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct SlotView {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub places: u32,
    pub free: u32,
}

/// The slots of `day` still bookable at `now` (inside the horizon, before the lead time), with
/// their free places. 409 `appointments_off`; 404 `unknown_service`.
pub async fn free_slots<T: Tx>(
    tx: &mut T,
    branch: i64,
    service: ServiceCode,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<SlotView>> {
    let cfg = tx.config(branch).await?;
    cfg.service(service)
        .ok_or_else(|| unknown_service(service))?;
    let s = enabled(tx, branch, service).await?;
    let slots = day_slots(&cfg.schedule, day, s.slot_mins);
    let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
        return Ok(Vec::new());
    };
    let taken: std::collections::HashMap<i64, u32> = tx
        .rows(
            "SELECT slot_start, booked FROM appointment_slots WHERE branch_id = ? AND service_code = ? \
             AND slot_start >= ? AND slot_start <= ?",
            args![branch, &service, first.0, last.0],
            |r| Ok((r.int("slot_start")?, r.count("booked")?)),
        )
        .await?
        .into_iter()
        .collect();
    let earliest = now + Duration::minutes(i64::from(s.lead_mins));
    let latest = now + Duration::days(i64::from(s.horizon_days));
    Ok(slots
        .into_iter()
        .filter(|(start, _)| *start >= earliest && *start <= latest)
        .map(|(start, end)| {
            let booked = taken.get(&start.timestamp_millis()).copied().unwrap_or(0);
            SlotView {
                start,
                end,
                places: s.places,
                free: s.places.saturating_sub(booked),
            }
        })
        .collect())
}

async fn enabled<T: Sql>(
    tx: &mut T,
    branch: i64,
    service: ServiceCode,
) -> Result<AppointmentSettings> {
    let s = settings(tx, branch, service).await?;
    if !s.enabled {
        return Err(StoreError::conflict(
            "appointments_off",
            format!("service {service} takes no appointments"),
        ));
    }
    Ok(s)
}

/// A booking asked for.
#[derive(Debug, Clone)]
pub struct BookRequest {
    pub service: ServiceCode,
    pub start: DateTime<Utc>,
    /// For the confirmation and reminders; optional.
    pub mobile: Option<String>,
    pub lang: String,
    /// `web` (the public page), `phone` (staff booking for a caller), `api`.
    pub source: &'static str,
}

/// A booking as its page shows it (the number masked).
#[derive(Debug, Clone, Serialize)]
pub struct BookingView {
    pub id: i64,
    pub branch_id: i64,
    pub code: String,
    pub service: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub day: NaiveDate,
    /// `booked`, `checked_in`, `late`, `cancelled`, `no_show`.
    pub state: String,
    pub cancel_reason: Option<String>,
    /// Masked; none when not given or purged.
    pub mobile: Option<String>,
    pub lang: String,
    pub source: String,
    pub created_at: DateTime<Utc>,
    /// In the hall's own time (`HH:MM`): the slot's start, and when its check-in opens and
    /// closes (filled where one booking is shown: its page, the kiosk, the answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkin_opens: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkin_closes: Option<String>,
}

fn booking_from(r: &dyn crate::store::sql::Columns) -> Result<BookingView> {
    Ok(BookingView {
        id: r.int("id")?,
        branch_id: r.int("branch_id")?,
        code: r.text("code")?,
        service: r.text("service_code")?,
        start: r.time("slot_start")?,
        end: r.time("slot_end")?,
        day: r.day("day")?,
        state: r.text("state")?,
        cancel_reason: r.opt_text("cancel_reason")?,
        mobile: r.opt_text("mobile")?.as_deref().map(mask_mobile),
        lang: r.text("lang")?,
        source: r.text("source")?,
        created_at: r.time("created_at")?,
        time: None,
        checkin_opens: None,
        checkin_closes: None,
    })
}

/// `b` with its times in the hall's own time (see [`BookingView::time`]).
async fn localized<T: Tx>(tx: &mut T, mut b: BookingView) -> Result<BookingView> {
    let cfg = tx.config(b.branch_id).await?;
    let s = match b.service.parse() {
        Ok(service) => settings(tx, b.branch_id, service).await?,
        Err(_) => AppointmentSettings::default(),
    };
    let hhmm = |t: DateTime<Utc>| {
        t.with_timezone(&cfg.schedule.tz)
            .format("%H:%M")
            .to_string()
    };
    b.time = Some(hhmm(b.start));
    b.checkin_opens = Some(hhmm(
        b.start - Duration::minutes(i64::from(s.checkin_before_mins)),
    ));
    b.checkin_closes = Some(hhmm(
        b.start + Duration::minutes(i64::from(s.checkin_after_mins)),
    ));
    Ok(b)
}

/// The booking with this code, its times in the hall's own time, if any.
pub async fn view<T: Tx>(tx: &mut T, code: &str) -> Result<Option<BookingView>> {
    match by_code(tx, code).await? {
        Some(b) => localized(tx, b).await.map(Some),
        None => Ok(None),
    }
}

fn new_code() -> String {
    let alphabet = qhall_shared::booking::CODE_ALPHABET;
    (0..CODE_LEN)
        .map(|_| alphabet[rand::random_range(0..alphabet.len())] as char)
        .collect()
}

/// Books `req.start` of `req.service`. 404 `unknown_service`; 409 `appointments_off`,
/// `slot_full`, `already_booked` (one active booking per service per number per day); 422
/// `slot_in_past`, `beyond_horizon`, `too_late_to_book` (inside the lead time), `not_a_slot`
/// (a break, a holiday, closed, or not on the slot grid), `invalid_mobile`, `invalid_lang`.
pub async fn book<T: Tx>(
    tx: &mut T,
    branch: i64,
    req: &BookRequest,
    now: DateTime<Utc>,
) -> Result<BookingView> {
    let language = lang(&req.lang)?;
    let mobile = req
        .mobile
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(normalize_mobile)
        .transpose()?;
    let cfg = tx.config(branch).await?;
    let service = req.service;
    cfg.service(service)
        .ok_or_else(|| unknown_service(service))?;
    let s = enabled(tx, branch, service).await?;
    if req.start <= now {
        return Err(invalid("slot_in_past", "that time has passed"));
    }
    if req.start > now + Duration::days(i64::from(s.horizon_days)) {
        return Err(invalid(
            "beyond_horizon",
            format!("bookings open {} days ahead", s.horizon_days),
        ));
    }
    if req.start < now + Duration::minutes(i64::from(s.lead_mins)) {
        return Err(invalid(
            "too_late_to_book",
            format!("book at least {} minutes ahead", s.lead_mins),
        ));
    }
    let day = local_date(cfg.schedule.tz, req.start);
    let Some(&(start, end)) = day_slots(&cfg.schedule, day, s.slot_mins)
        .iter()
        .find(|(start, _)| *start == req.start)
    else {
        return Err(invalid(
            "not_a_slot",
            "there is no slot then: the hall is closed, on a break, or the time is not a slot's start",
        ));
    };
    if let Some(m) = &mobile {
        let active = tx
            .count(
                "SELECT COUNT(*) FROM bookings WHERE mobile = ? AND service_code = ? AND day = ? \
                 AND state IN ('booked', 'checked_in')",
                args![m.as_str(), &service, day],
            )
            .await?;
        if active > 0 {
            return Err(StoreError::conflict(
                "already_booked",
                "this number already holds a booking of this service that day",
            ));
        }
    }
    tx.execute(
        "INSERT INTO appointment_slots (branch_id, service_code, slot_start, booked) VALUES (?, ?, ?, 0) \
         ON CONFLICT (branch_id, service_code, slot_start) DO NOTHING",
        args![branch, &service, start],
    )
    .await?;
    let took = tx
        .execute(
            "UPDATE appointment_slots SET booked = booked + 1 WHERE branch_id = ? AND service_code = ? \
             AND slot_start = ? AND booked < ?",
            args![branch, &service, start, s.places],
        )
        .await?;
    if took != 1 {
        return Err(StoreError::conflict(
            "slot_full",
            "that slot has no place left: choose another",
        ));
    }
    let code = new_code();
    let booking = tx
        .row(
            "INSERT INTO bookings (branch_id, service_code, slot_start, slot_end, day, code, mobile, lang, \
             source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            args![
                branch,
                &service,
                start,
                end,
                day,
                code.as_str(),
                &mobile,
                language,
                req.source,
                now
            ],
            booking_from,
        )
        .await?
        .ok_or_else(crate::store::sql::returned_nothing)?;
    if let Some(m) = &mobile {
        let remind = [
            ("booked", now),
            ("reminder", start - Duration::days(1)),
            ("reminder", start - Duration::hours(1)),
        ];
        for (kind, due) in remind {
            if kind == "booked" || due > now {
                message(tx, &cfg, &booking, kind, m, due, now).await?;
            }
        }
    }
    localized(tx, booking).await
}

/// Writes one of the booking's messages to the outbox, due at `due`.
async fn message<T: Sql>(
    tx: &mut T,
    cfg: &BranchConfig,
    b: &BookingView,
    kind: &str,
    mobile: &str,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    let local = b.start.with_timezone(&cfg.schedule.tz);
    let pick = |l| super::messages::in_lang(l, &b.lang);
    let service = b
        .service
        .parse()
        .ok()
        .and_then(|c| cfg.service(c))
        .map(|s| pick(&s.name))
        .unwrap_or_else(|| b.service.clone());
    let vars = [
        ("branch", pick(&cfg.name)),
        ("service", service),
        ("date", local.format("%Y-%m-%d").to_string()),
        ("time", local.format("%H:%M").to_string()),
        ("code", b.code.clone()),
    ];
    let body = super::messages::render(
        super::messages::template(&cfg.messages, kind, &b.lang),
        &vars,
    );
    tx.execute(
        "INSERT INTO messages (branch_id, booking_id, kind, recipient, lang, body, day, next_at, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        args![cfg.id, b.id, kind, mobile, b.lang.as_str(), body.as_str(), b.day, due, now],
    )
    .await?;
    Ok(())
}

/// The booking with this code, if any.
pub async fn by_code<T: Sql>(tx: &mut T, code: &str) -> Result<Option<BookingView>> {
    tx.row(
        "SELECT * FROM bookings WHERE code = ?",
        args![code.trim().to_ascii_uppercase().as_str()],
        booking_from,
    )
    .await
}

/// Cancels booking `b` (its place freed, its pending messages cancelled), with `reason`.
async fn cancel_one<T: Sql>(
    tx: &mut T,
    b: &BookingView,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE bookings SET state = 'cancelled', cancel_reason = ?, cancelled_at = ? WHERE id = ?",
        args![reason, now, b.id],
    )
    .await?;
    let service: ServiceCode = b
        .service
        .parse()
        .map_err(|_| crate::store::sql::bad("service_code", &b.service))?;
    tx.execute(
        "UPDATE appointment_slots SET booked = booked - 1 WHERE branch_id = \
         (SELECT branch_id FROM bookings WHERE id = ?) AND service_code = ? AND slot_start = ? AND booked > 0",
        args![b.id, &service, b.start],
    )
    .await?;
    tx.execute(
        "UPDATE messages SET state = 'cancelled' WHERE booking_id = ? AND state = 'pending'",
        args![b.id],
    )
    .await?;
    Ok(())
}

/// The customer cancels booking `code`. 404 `unknown_booking`; 409 `not_booked` (checked in,
/// cancelled or past).
pub async fn cancel<T: Tx>(tx: &mut T, code: &str, now: DateTime<Utc>) -> Result<BookingView> {
    let b = by_code(tx, code).await?.ok_or_else(unknown_booking)?;
    let branch = tx
        .int("SELECT branch_id FROM bookings WHERE id = ?", args![b.id])
        .await?
        .unwrap_or_default();
    tx.lock_branch(branch).await?;
    if b.state != "booked" || b.end <= now {
        return Err(StoreError::conflict(
            "not_booked",
            format!("booking {} is {} and cannot be cancelled", b.code, b.state),
        ));
    }
    cancel_one(tx, &b, "customer", now).await?;
    view(tx, code)
        .await?
        .ok_or_else(crate::store::sql::returned_nothing)
}

fn unknown_booking() -> StoreError {
    StoreError::not_found("unknown_booking", "there is no booking with that code")
}

/// After the hours of `day` changed (a holiday, shorter hours): the bookings of that day whose
/// slot no longer lies inside an open period are cancelled (reason `closed`), their customers
/// told; returns their ids.
pub async fn cancel_closed<T: Tx>(
    tx: &mut T,
    cfg: &BranchConfig,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let booked: Vec<(BookingView, Option<String>)> = tx
        .rows(
            "SELECT * FROM bookings WHERE branch_id = ? AND day = ? AND state = 'booked' ORDER BY id",
            args![cfg.id, day],
            |r| Ok((booking_from(r)?, r.opt_text("mobile")?)),
        )
        .await?;
    let open = |b: &BookingView| {
        cfg.schedule.periods_on(day).iter().any(|&(a, z)| {
            let from = local_instant(cfg.schedule.tz, day, a);
            let to = local_instant(cfg.schedule.tz, day, z);
            b.start >= from && b.end <= to
        })
    };
    let mut ids = Vec::new();
    for (b, mobile) in booked {
        if open(&b) {
            continue;
        }
        cancel_one(tx, &b, "closed", now).await?;
        if let Some(m) = mobile {
            message(tx, cfg, &b, "booking_cancelled", &m, now, now).await?;
        }
        ids.push(b.id);
    }
    Ok(ids)
}

/// The branch's bookings of `day`, for the manager (numbers masked), cancelled ones too.
pub async fn list<T: Sql>(tx: &mut T, branch: i64, day: NaiveDate) -> Result<Vec<BookingView>> {
    tx.rows(
        "SELECT * FROM bookings WHERE branch_id = ? AND day = ? ORDER BY slot_start, id",
        args![branch, day],
        booking_from,
    )
    .await
}

/// What a booking's check-in came to.
#[derive(Debug, Clone)]
pub enum CheckIn {
    /// Its ticket: new, or (`reprint`) the one the same code got before.
    Ticket {
        issued: super::issue::Issued,
        booking: BookingView,
        reprint: bool,
    },
    /// Past the check-in window: the booking is now marked late; a normal ticket is offered.
    Late(BookingView),
}

/// Checks in the booking `raw` names (see [`qhall_shared::booking::code_in`]) in `who`'s branch: inside the check-in
/// window it becomes an appointment's ticket (due at its slot's start); the same code again
/// gives the same ticket back. 404 `unknown_booking` (no such code, or another branch's);
/// 409 `booking_cancelled`, `too_early` (the message says from when), `booking_late` (late
/// before: take a normal ticket), and the kiosk's own refusals (closed, emergency).
/// Past the window the booking is marked late and [`CheckIn::Late`] returned.
pub async fn check_in<T: Tx>(
    tx: &mut T,
    out: &mut super::Outbox,
    who: &Principal,
    raw: &str,
    forecast: Option<&crate::queue::estimate::ForecastTable>,
    now: DateTime<Utc>,
) -> Result<CheckIn> {
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let code = qhall_shared::booking::code_in(raw).ok_or_else(unknown_booking)?;
    let b = tx
        .row(
            "SELECT * FROM bookings WHERE code = ? AND branch_id = ?",
            args![code.as_str(), branch],
            booking_from,
        )
        .await?
        .ok_or_else(unknown_booking)?;
    check_in_booking(tx, out, who, b, forecast, now).await
}

/// A booking named without its code: its slot, and the last four digits of its number.
#[derive(Debug, Clone)]
pub struct BySlot {
    pub service: ServiceCode,
    pub start: DateTime<Utc>,
    pub last4: String,
}

/// Staff check a caller in by the slot and the last four digits of the number booked with.
/// 404 `unknown_booking` when no active booking of that slot matches; 422 `invalid_last4`.
pub async fn check_in_by_phone<T: Tx>(
    tx: &mut T,
    out: &mut super::Outbox,
    who: &Principal,
    slot: &BySlot,
    forecast: Option<&crate::queue::estimate::ForecastTable>,
    now: DateTime<Utc>,
) -> Result<CheckIn> {
    let BySlot {
        service,
        start,
        last4,
    } = slot;
    let (service, start) = (*service, *start);
    if !(last4.len() == 4 && last4.bytes().all(|b| b.is_ascii_digit())) {
        return Err(invalid(
            "invalid_last4",
            "give the last four digits of the number",
        ));
    }
    tx.lock_branch(who.branch_id).await?;
    let found: Vec<BookingView> = tx
        .rows(
            "SELECT * FROM bookings WHERE branch_id = ? AND service_code = ? AND slot_start = ? \
             AND mobile LIKE ? AND state IN ('booked', 'checked_in') ORDER BY id",
            args![who.branch_id, &service, start, format!("%{last4}").as_str()],
            booking_from,
        )
        .await?;
    let b = found.into_iter().next().ok_or_else(unknown_booking)?;
    check_in_booking(tx, out, who, b, forecast, now).await
}

async fn check_in_booking<T: Tx>(
    tx: &mut T,
    out: &mut super::Outbox,
    who: &Principal,
    b: BookingView,
    forecast: Option<&crate::queue::estimate::ForecastTable>,
    now: DateTime<Utc>,
) -> Result<CheckIn> {
    let branch = who.branch_id;
    let cfg = tx.config(branch).await?;
    match b.state.as_str() {
        "cancelled" => {
            return Err(StoreError::conflict(
                "booking_cancelled",
                format!("booking {} was cancelled", b.code),
            ));
        }
        "late" | "no_show" => {
            return Err(StoreError::conflict(
                "booking_late",
                "this booking's check-in time has passed: please take a normal ticket",
            ));
        }
        "checked_in" => {
            let key = tx
                .int("SELECT ticket_key FROM bookings WHERE id = ?", args![b.id])
                .await?
                .ok_or_else(crate::store::sql::returned_nothing)?;
            let ticket = tx
                .ticket(key)
                .await?
                .ok_or_else(crate::store::sql::returned_nothing)?;
            return Ok(CheckIn::Ticket {
                issued: super::issue::Issued {
                    ticket,
                    config: cfg,
                    created: false,
                },
                booking: localized(tx, b).await?,
                reprint: true,
            });
        }
        _ => {}
    }
    let service: ServiceCode = b
        .service
        .parse()
        .map_err(|_| crate::store::sql::bad("service_code", &b.service))?;
    let s = settings(tx, branch, service).await?;
    let opens = b.start - Duration::minutes(i64::from(s.checkin_before_mins));
    let closes = b.start + Duration::minutes(i64::from(s.checkin_after_mins));
    if now < opens {
        let local = opens.with_timezone(&cfg.schedule.tz);
        return Err(StoreError::conflict(
            "too_early",
            format!(
                "check-in for this booking opens at {}: please come back then",
                local.format("%H:%M")
            ),
        ));
    }
    if now > closes {
        tx.execute(
            "UPDATE bookings SET state = 'late' WHERE id = ? AND state = 'booked'",
            args![b.id],
        )
        .await?;
        let b = view(tx, &b.code)
            .await?
            .ok_or_else(crate::store::sql::returned_nothing)?;
        return Ok(CheckIn::Late(b));
    }
    let prefix = s.prefix.as_deref().and_then(|p| p.parse().ok());
    let appointment = super::issue::Appointment {
        slot_start: b.start,
        prefix,
    };
    let issued = super::issue::issue_with(
        tx,
        out,
        who,
        service,
        false,
        None,
        forecast,
        Some(appointment),
        now,
    )
    .await?;
    tx.execute(
        "UPDATE bookings SET state = 'checked_in', checked_in_at = ?, ticket_key = ? WHERE id = ?",
        args![now, issued.ticket.key, b.id],
    )
    .await?;
    tx.execute(
        "UPDATE messages SET state = 'cancelled' WHERE booking_id = ? AND state = 'pending'",
        args![b.id],
    )
    .await?;
    let booking = view(tx, &b.code)
        .await?
        .ok_or_else(crate::store::sql::returned_nothing)?;
    Ok(CheckIn::Ticket {
        issued,
        booking,
        reprint: false,
    })
}

/// One line of the appointments report: a service on a day.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReportLine {
    /// Empty in the overall line.
    pub service: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day: Option<NaiveDate>,
    /// Bookings of slots that day, cancelled ones too.
    pub made: u32,
    pub cancelled: u32,
    pub checked_in: u32,
    /// Came after the check-in window closed (a normal ticket offered instead).
    pub late: u32,
    /// Never came: the check-in window closed without a check-in.
    pub no_show: u32,
    /// Checked-in appointments called so far.
    pub called: u32,
    /// Of those, called within 5 and within 10 minutes of being due.
    pub within_5: u32,
    pub within_10: u32,
    /// Sum of their delays (first call − due moment, never below 0), seconds.
    pub delay_secs: f64,
}

impl ReportLine {
    /// Share called within 5 minutes of being due, if any was called.
    pub fn within_5_share(&self) -> Option<f64> {
        (self.called > 0).then(|| f64::from(self.within_5) / f64::from(self.called))
    }
    pub fn within_10_share(&self) -> Option<f64> {
        (self.called > 0).then(|| f64::from(self.within_10) / f64::from(self.called))
    }
    pub fn mean_delay_secs(&self) -> Option<f64> {
        (self.called > 0).then(|| self.delay_secs / f64::from(self.called))
    }

    fn add(&mut self, o: &ReportLine) {
        self.made += o.made;
        self.cancelled += o.cancelled;
        self.checked_in += o.checked_in;
        self.late += o.late;
        self.no_show += o.no_show;
        self.called += o.called;
        self.within_5 += o.within_5;
        self.within_10 += o.within_10;
        self.delay_secs += o.delay_secs;
    }
}

/// The appointments report of `[from, to]` (branch-local days): per service and day, and over
/// all. An appointment is *due* at its slot's start, or at its check-in if later; its delay is
/// its first call − that moment (0 when called early).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub by_day: Vec<ReportLine>,
    pub overall: ReportLine,
}

/// See [`Report`]. A booking still `booked` after its check-in window closed counts as a
/// no-show.
pub async fn report<T: Tx>(
    tx: &mut T,
    branch: i64,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Report> {
    struct Row {
        service: String,
        day: NaiveDate,
        state: String,
        start: DateTime<Utc>,
        checked_in: Option<DateTime<Utc>>,
        called: Option<DateTime<Utc>>,
    }
    let rows = tx
        .rows(
            "SELECT b.service_code, b.day, b.state, b.slot_start, b.checked_in_at, t.first_called_at \
             FROM bookings b LEFT JOIN tickets t ON t.key = b.ticket_key \
             WHERE b.branch_id = ? AND b.day >= ? AND b.day <= ? ORDER BY b.day, b.service_code, b.id",
            args![branch, from, to],
            |r| {
                Ok(Row {
                    service: r.text("service_code")?,
                    day: r.day("day")?,
                    state: r.text("state")?,
                    start: r.time("slot_start")?,
                    checked_in: r.opt_time("checked_in_at")?,
                    called: r.opt_time("first_called_at")?,
                })
            },
        )
        .await?;
    let mut closes_after = std::collections::HashMap::new();
    let mut out = Report::default();
    for r in rows {
        let after = match closes_after.get(&r.service) {
            Some(m) => *m,
            None => {
                let m = match r.service.parse() {
                    Ok(code) => settings(tx, branch, code).await?.checkin_after_mins,
                    Err(_) => AppointmentSettings::default().checkin_after_mins,
                };
                closes_after.insert(r.service.clone(), m);
                m
            }
        };
        if out
            .by_day
            .last()
            .is_none_or(|l| l.service != r.service || l.day != Some(r.day))
        {
            out.by_day.push(ReportLine {
                service: r.service.clone(),
                day: Some(r.day),
                ..ReportLine::default()
            });
        }
        let Some(line) = out.by_day.last_mut() else {
            continue;
        };
        line.made += 1;
        match r.state.as_str() {
            "cancelled" => line.cancelled += 1,
            "late" => line.late += 1,
            "no_show" => line.no_show += 1,
            "booked" if r.start + Duration::minutes(i64::from(after)) < now => line.no_show += 1,
            _ => {}
        }
        if let Some(checked) = r.checked_in {
            line.checked_in += 1;
            if let Some(called) = r.called {
                let due = r.start.max(checked);
                let delay = (called - due).num_milliseconds().max(0) as f64 / 1000.0;
                line.called += 1;
                line.within_5 += u32::from(delay <= 300.0);
                line.within_10 += u32::from(delay <= 600.0);
                line.delay_secs += delay;
            }
        }
    }
    let mut overall = ReportLine::default();
    for l in &out.by_day {
        overall.add(l);
    }
    out.overall = overall;
    Ok(out)
}

/// At the day's closing: the bookings of `day` (and any earlier) still `booked` — never
/// checked in, never come late — become `no_show`. Returns how many.
pub async fn mark_no_shows<T: Sql>(tx: &mut T, branch: i64, day: NaiveDate) -> Result<u64> {
    tx.execute(
        "UPDATE bookings SET state = 'no_show' WHERE branch_id = ? AND day <= ? AND state = 'booked'",
        args![branch, day],
    )
    .await
}

/// Per service for the live page: the bookings of the next hour still to come or checked in
/// (slot start in `[now, now + 1 h)`), and the checked-in appointments waiting to be called.
pub async fn live<T: Sql>(
    tx: &mut T,
    branch: i64,
    now: DateTime<Utc>,
) -> Result<std::collections::HashMap<String, (u32, u32)>> {
    let mut out: std::collections::HashMap<String, (u32, u32)> = Default::default();
    let next_hour = tx
        .rows(
            "SELECT service_code, COUNT(*) AS n FROM bookings WHERE branch_id = ? AND slot_start >= ? \
             AND slot_start < ? AND state IN ('booked', 'checked_in') GROUP BY service_code",
            args![branch, now, now + Duration::hours(1)],
            |r| Ok((r.text("service_code")?, r.count("n")?)),
        )
        .await?;
    for (s, n) in next_hour {
        out.entry(s).or_default().0 = n;
    }
    let waiting = tx
        .rows(
            "SELECT service_code, COUNT(*) AS n FROM tickets WHERE branch_id = ? AND status = 'waiting' \
             AND appointment_at IS NOT NULL GROUP BY service_code",
            args![branch],
            |r| Ok((r.text("service_code")?, r.count("n")?)),
        )
        .await?;
    for (s, n) in waiting {
        out.entry(s).or_default().1 = n;
    }
    Ok(out)
}

/// Below this many bookings resolved in [`SHOW_RATE_DAYS`], the forecast assumes
/// [`DEFAULT_SHOW`] of bookings check in.
const SHOW_RATE_MIN: u32 = 20;
const SHOW_RATE_DAYS: i64 = 28;
const DEFAULT_SHOW: f64 = 0.95;

/// What the forecast knows of the bookings still to come: today's bookings not checked in whose
/// check-in has not closed, and the share of bookings that checked in over the last
/// [`SHOW_RATE_DAYS`] days (the others came late or not at all).
pub async fn still_to_come<T: Sql>(
    tx: &mut T,
    cfg: &BranchConfig,
    now: DateTime<Utc>,
) -> Result<(Vec<crate::sim::ForecastBooking>, f64)> {
    let today = local_date(cfg.schedule.tz, now);
    let pending: Vec<crate::sim::ForecastBooking> = tx
        .rows(
            "SELECT b.service_code, b.slot_start, s.checkin_before_mins, s.checkin_after_mins \
             FROM bookings b JOIN appointment_settings s \
             ON s.branch_id = b.branch_id AND s.service_code = b.service_code \
             WHERE b.branch_id = ? AND b.day = ? AND b.state = 'booked'",
            args![cfg.id, today],
            |r| {
                let slot_start = r.time("slot_start")?;
                let mins = |m: u32| Duration::minutes(i64::from(m));
                Ok(crate::sim::ForecastBooking {
                    service: r.service("service_code")?,
                    slot_start,
                    checkin_opens: slot_start - mins(r.count("checkin_before_mins")?),
                    checkin_closes: slot_start + mins(r.count("checkin_after_mins")?),
                })
            },
        )
        .await?
        .into_iter()
        .filter(|b| b.checkin_closes >= now)
        .collect();
    if pending.is_empty() {
        return Ok((pending, DEFAULT_SHOW));
    }
    let from = today - Duration::days(SHOW_RATE_DAYS);
    let (mut came, mut resolved) = (0u32, 0u32);
    for (state, n) in tx
        .rows(
            "SELECT state, COUNT(*) AS n FROM bookings WHERE branch_id = ? AND day >= ? AND day < ? \
             AND state IN ('checked_in', 'late', 'no_show') GROUP BY state",
            args![cfg.id, from, today],
            |r| Ok((r.text("state")?, r.count("n")?)),
        )
        .await?
    {
        resolved += n;
        if state == "checked_in" {
            came += n;
        }
    }
    let show = if resolved >= SHOW_RATE_MIN {
        f64::from(came) / f64::from(resolved)
    } else {
        DEFAULT_SHOW
    };
    Ok((pending, show))
}

impl crate::store::Store {
    /// See [`live`].
    pub async fn appointments_live(
        &self,
        branch: i64,
        now: DateTime<Utc>,
    ) -> Result<std::collections::HashMap<String, (u32, u32)>> {
        read!(self, |tx| live(tx, branch, now))
    }

    /// See [`settings`].
    pub async fn appointment_settings(
        &self,
        branch: i64,
        service: ServiceCode,
    ) -> Result<AppointmentSettings> {
        read!(self, |tx| settings(tx, branch, service))
    }

    /// See [`set_settings`].
    pub async fn set_appointment_settings(
        &self,
        who: &Principal,
        service: ServiceCode,
        s: &AppointmentSettings,
        now: DateTime<Utc>,
    ) -> Result<AppointmentSettings> {
        let (who, s) = (who.clone(), s.clone());
        write!(self, |tx, _out| set_settings(tx, &who, service, &s, now))
    }

    /// See [`free_slots`].
    pub async fn appointment_slots(
        &self,
        branch: i64,
        service: ServiceCode,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Vec<SlotView>> {
        read!(self, |tx| free_slots(tx, branch, service, day, now))
    }

    /// See [`book`].
    pub async fn book(
        &self,
        branch: i64,
        req: &BookRequest,
        now: DateTime<Utc>,
    ) -> Result<BookingView> {
        let req = req.clone();
        write!(self, |tx, _out| book(tx, branch, &req, now))
    }

    /// See [`by_code`].
    pub async fn booking(&self, code: &str) -> Result<Option<BookingView>> {
        let code = code.to_owned();
        read!(self, |tx| view(tx, &code))
    }

    /// See [`cancel`].
    pub async fn cancel_booking(&self, code: &str, now: DateTime<Utc>) -> Result<BookingView> {
        let code = code.to_owned();
        write!(self, |tx, _out| cancel(tx, &code, now))
    }

    /// See [`check_in`].
    pub async fn check_in_booking(
        &self,
        who: &Principal,
        raw: &str,
        now: DateTime<Utc>,
    ) -> Result<CheckIn> {
        let (who, raw) = (who.clone(), raw.to_owned());
        let forecast = self.forecasts.get(who.branch_id);
        write!(self, |tx, out| check_in(
            tx,
            out,
            &who,
            &raw,
            forecast.as_deref(),
            now
        ))
    }

    /// See [`check_in_by_phone`].
    pub async fn check_in_booking_by_phone(
        &self,
        who: &Principal,
        slot: &BySlot,
        now: DateTime<Utc>,
    ) -> Result<CheckIn> {
        let (who, slot) = (who.clone(), slot.clone());
        let forecast = self.forecasts.get(who.branch_id);
        write!(self, |tx, out| check_in_by_phone(
            tx,
            out,
            &who,
            &slot,
            forecast.as_deref(),
            now
        ))
    }

    /// See [`report`].
    pub async fn appointments_report(
        &self,
        branch: i64,
        from: NaiveDate,
        to: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Report> {
        read!(self, |tx| report(tx, branch, from, to, now))
    }

    /// See [`list`].
    pub async fn bookings(&self, branch: i64, day: NaiveDate) -> Result<Vec<BookingView>> {
        read!(self, |tx| list(tx, branch, day))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::schedule::Weekly;

    #[test]
    fn slots_fill_the_open_periods_and_skip_the_break() {
        let s = Schedule {
            tz: chrono_tz::Asia::Shanghai,
            weekly: Weekly::weekdays(&[(540, 720), (780, 1020)]),
            exceptions: Vec::new(),
            cutoff_mins: 0,
        };
        let monday = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let slots = day_slots(&s, monday, 45);
        // 09:00–12:00: four whole 45-minute slots; 13:00–17:00: five (16:45 would end 17:30).
        assert_eq!(slots.len(), 9);
        assert_eq!(
            slots[0].0,
            "2026-12-07T01:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            slots[4].0,
            "2026-12-07T05:00:00Z".parse::<DateTime<Utc>>().unwrap(),
            "the first after the break is 13:00"
        );
        let saturday = NaiveDate::from_ymd_opt(2026, 12, 12).unwrap();
        assert!(day_slots(&s, saturday, 15).is_empty());
    }

    #[test]
    fn settings_are_checked() {
        let ok = AppointmentSettings::default();
        assert!(ok.check().is_ok());
        for bad in [
            AppointmentSettings {
                slot_mins: 0,
                ..ok.clone()
            },
            AppointmentSettings {
                places: 51,
                ..ok.clone()
            },
            AppointmentSettings {
                prefix: Some("ab".into()),
                ..ok
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
        assert_eq!(new_code().len(), CODE_LEN);
    }
}

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

/// A booking code's length: 9 characters of 31 (no 0/O, 1/I/L), 44 random bits.
pub const CODE_LEN: usize = 9;

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
}

fn booking_from(r: &dyn crate::store::sql::Columns) -> Result<BookingView> {
    Ok(BookingView {
        id: r.int("id")?,
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
    })
}

fn new_code() -> String {
    let alphabet = super::remote::CODE_ALPHABET;
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
    Ok(booking)
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
    by_code(tx, code)
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

impl crate::store::Store {
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
        read!(self, |tx| by_code(tx, &code))
    }

    /// See [`cancel`].
    pub async fn cancel_booking(&self, code: &str, now: DateTime<Utc>) -> Result<BookingView> {
        let code = code.to_owned();
        write!(self, |tx, _out| cancel(tx, &code, now))
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

//! The hall's configuration: services, windows, opening hours, dated exceptions, notices.

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::api::Localized;
use qhall_shared::{ServiceCode, WindowNo};
use serde_json::json;

use super::*;
use crate::queue::policy::WindowSkills;
use crate::queue::schedule::{Exception, Period, Weekly, hhmm, local_instant, parse_hhmm};

/// Checks a whole service.
pub fn validate_service(s: &ServiceConfig) -> Result<()> {
    check_text("a service name", &s.name, NAME_MAX_CHARS, true)?;
    check_text("a guide", &s.guide, GUIDE_MAX_CHARS, false)?;
    if !(60..=14_400).contains(&s.target_wait_secs) {
        return Err(invalid(
            "invalid_target",
            "the target wait is 1 minute to 4 hours (60 to 14400 seconds)",
        ));
    }
    if s.first_number < 1 || s.last_number > 9999 || s.first_number > s.last_number {
        return Err(invalid(
            "invalid_range",
            "the number range is first ≤ last, within 1 to 9999",
        ));
    }
    if !(30..=7_200).contains(&s.default_service_secs) {
        return Err(invalid(
            "invalid_service_time",
            "the default service time is 30 seconds to 2 hours",
        ));
    }
    Ok(())
}

fn parse_code(s: &str) -> Result<ServiceCode> {
    s.trim()
        .parse()
        .map_err(|_| invalid("invalid_code", "a service code is one letter A-Z"))
}

fn apply_service(s: &mut ServiceConfig, p: &ServicePatch) {
    if let Some(t) = &p.name {
        t.apply(&mut s.name);
    }
    if let Some(t) = &p.guide {
        t.apply(&mut s.guide);
    }
    if let Some(v) = p.target_wait_secs {
        s.target_wait_secs = v;
    }
    if let Some(v) = p.first_number {
        s.first_number = v;
    }
    if let Some(v) = p.last_number {
        s.last_number = v;
    }
    if let Some(v) = p.priority_allowed {
        s.priority_allowed = v;
    }
    if let Some(v) = p.default_service_secs {
        s.default_service_secs = v;
    }
    if let Some(v) = p.enabled {
        s.enabled = v;
    }
    if let Some(v) = p.carry_over {
        s.carry_over = v;
    }
    if let Some(v) = p.remote_tickets {
        s.remote_tickets = v;
    }
    if let Some(v) = p.identity_check {
        s.identity_check = v;
    }
}

/// Creates (`code` None: from the patch) or changes a service.
pub async fn save_service<T: SettingsTx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    code: Option<&str>,
    patch: &ServicePatch,
    now: DateTime<Utc>,
) -> Result<ServiceConfig> {
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let cfg = tx.config(branch).await?;
    let create = code.is_none();
    let code = match code {
        Some(c) => {
            if patch.code.as_deref().is_some_and(|p| p.trim() != c) {
                return Err(invalid(
                    "invalid_code",
                    "a service's code cannot be changed; create a new service",
                ));
            }
            parse_code(c)?
        }
        None => parse_code(patch.code.as_deref().unwrap_or_default())?,
    };
    let before = cfg.service(code).map(ServiceConfig::from);
    let what = format!("service {code}");
    let mut s = start_edit(
        &before,
        create,
        ("service_exists", "unknown_service"),
        &what,
        || ServiceConfig {
            code,
            name: Localized::default(),
            guide: Localized::default(),
            target_wait_secs: 900,
            first_number: 1,
            last_number: 999,
            priority_allowed: true,
            default_service_secs: 300,
            enabled: true,
            carry_over: false,
            remote_tickets: false,
            identity_check: Default::default(),
        },
    )?;
    apply_service(&mut s, patch);
    validate_service(&s)?;
    if before.as_ref() == Some(&s) {
        return Ok(s);
    }
    tx.save_service(branch, &s.to_def(), create).await?;
    let after = tx.bump_config(branch).await?;
    audit_change(
        tx,
        who,
        now,
        if create {
            "service.create"
        } else {
            "service.update"
        },
        ("service", json!(code)),
        before.as_ref().map(to_value),
        Some(to_value(&s)),
    )
    .await?;
    announce_services(tx, out, &after, now).await?;
    Ok(s)
}

/// Deletes a service that no ticket is waiting for or being served in (else 409).
pub async fn delete_service<T: SettingsTx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    code: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let cfg = tx.config(branch).await?;
    let code = parse_code(code)?;
    let Some(before) = cfg.service(code).map(ServiceConfig::from) else {
        return Err(StoreError::not_found(
            "unknown_service",
            format!("there is no service {code}"),
        ));
    };
    let live = tx.live_tickets_of(branch, code).await?;
    if live > 0 {
        return Err(StoreError::conflict(
            "service_in_use",
            format!(
                "{live} tickets of service {code} are waiting or being served; disable it instead"
            ),
        ));
    }
    tx.delete_service(branch, code).await?;
    let after = tx.bump_config(branch).await?;
    audit_change(
        tx,
        who,
        now,
        "service.delete",
        ("service", json!(code)),
        Some(to_value(&before)),
        None,
    )
    .await?;
    announce_services(tx, out, &after, now).await
}

/// Creates (`n` None: from the patch) or changes a window and what it serves.
pub async fn save_window<T: SettingsTx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    n: Option<u32>,
    patch: &WindowPatch,
    now: DateTime<Utc>,
) -> Result<WindowConfig> {
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let cfg = tx.config(branch).await?;
    let create = n.is_none();
    let raw = match n {
        Some(n) => {
            if patch.number.is_some_and(|p| p != n) {
                return Err(invalid(
                    "invalid_window",
                    "a window's number cannot be changed",
                ));
            }
            n
        }
        None => patch
            .number
            .ok_or_else(|| invalid("invalid_window", "a new window needs its number"))?,
    };
    let number = WindowNo::new(raw).map_err(|e| invalid("invalid_window", e.to_string()))?;
    let before = cfg.window(number).cloned();
    let what = format!("window {number}");
    let mut w = start_edit(
        &before,
        create,
        ("window_exists", "unknown_window"),
        &what,
        || WindowDef {
            number,
            name: String::new(),
            skills: WindowSkills { serves: Vec::new() },
        },
    )?;
    if let Some(name) = &patch.name {
        let name = name.trim();
        if name.chars().count() > NAME_MAX_CHARS {
            return Err(invalid(
                "invalid_text",
                format!("a window name is at most {NAME_MAX_CHARS} characters"),
            ));
        }
        w.name = name.to_owned();
    }
    if let Some(serves) = &patch.serves {
        let mut list: Vec<(ServiceCode, f64)> = Vec::with_capacity(serves.len());
        for s in serves {
            let code = parse_code(&s.service)?;
            if cfg.service(code).is_none() {
                return Err(invalid(
                    "unknown_service",
                    format!("there is no service {code}"),
                ));
            }
            if list.iter().any(|(c, _)| *c == code) {
                return Err(invalid(
                    "duplicate_service",
                    format!("service {code} is listed twice"),
                ));
            }
            if !(s.weight.is_finite() && s.weight > 0.0 && s.weight <= 100.0) {
                return Err(invalid(
                    "invalid_weight",
                    "a weight is more than 0 and at most 100",
                ));
            }
            list.push((code, s.weight));
        }
        w.skills.serves = list;
    }
    let view = WindowConfig::from(&w);
    if before.as_ref() == Some(&w) {
        return Ok(view);
    }
    tx.save_window(branch, &w, create).await?;
    let after = tx.bump_config(branch).await?;
    audit_change(
        tx,
        who,
        now,
        if create {
            "window.create"
        } else {
            "window.update"
        },
        ("window", json!(number)),
        before.as_ref().map(|b| to_value(&WindowConfig::from(b))),
        Some(to_value(&view)),
    )
    .await?;
    announce_services(tx, out, &after, now).await?;
    Ok(view)
}

/// Parses and checks a day's periods: each `start < end`, in order, not overlapping.
pub fn parse_periods(p: &Periods) -> Result<Vec<Period>> {
    let mut out: Vec<Period> = Vec::with_capacity(p.len());
    for (a, b) in p {
        let (Some(s), Some(e)) = (parse_hhmm(a), parse_hhmm(b)) else {
            return Err(invalid(
                "invalid_time",
                format!("times are HH:MM (00:00 to 24:00), not {a:?}–{b:?}"),
            ));
        };
        if s >= e {
            return Err(invalid(
                "invalid_period",
                format!("a period starts before it ends, not {a}–{b}"),
            ));
        }
        if let Some(&(_, prev_end)) = out.last()
            && s < prev_end
        {
            return Err(invalid(
                "invalid_period",
                "periods of a day are in order and do not overlap",
            ));
        }
        out.push((s, e));
    }
    Ok(out)
}

pub(super) fn format_periods(p: &[Period]) -> Periods {
    p.iter().map(|(a, b)| (hhmm(*a), hhmm(*b))).collect()
}

pub(super) fn hours_of(cfg: &BranchConfig) -> HoursConfig {
    HoursConfig {
        time_zone: cfg.schedule.tz.name().to_owned(),
        weekly: cfg
            .schedule
            .weekly
            .0
            .iter()
            .map(|d| format_periods(d))
            .collect(),
        cutoff_mins: cfg.schedule.cutoff_mins,
        closing_grace_mins: cfg.closing_grace_mins,
    }
}

/// Replaces the weekly hours, the time zone and the cut-off.
pub async fn save_hours<T: SettingsTx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    hours: &HoursConfig,
    now: DateTime<Utc>,
) -> Result<HoursConfig> {
    let branch = who.branch_id;
    let tz: chrono_tz::Tz = hours.time_zone.trim().parse().map_err(|_| {
        invalid(
            "unknown_time_zone",
            format!("{:?} is not an IANA time zone", hours.time_zone),
        )
    })?;
    if hours.weekly.len() != 7 {
        return Err(invalid(
            "invalid_hours",
            "the weekly hours are seven days, Monday first",
        ));
    }
    let mut days: [Vec<Period>; 7] = Default::default();
    for (d, p) in hours.weekly.iter().enumerate() {
        days[d] = parse_periods(p)?;
    }
    if hours.cutoff_mins > CUTOFF_MAX_MINS {
        return Err(invalid(
            "invalid_cutoff",
            format!("the cut-off is 0 to {CUTOFF_MAX_MINS} minutes"),
        ));
    }
    if hours.closing_grace_mins > CLOSING_GRACE_MAX_MINS {
        return Err(invalid(
            "invalid_grace",
            format!("the grace after closing is 0 to {CLOSING_GRACE_MAX_MINS} minutes"),
        ));
    }
    tx.lock_branch(branch).await?;
    let cfg = tx.config(branch).await?;
    let before = hours_of(&cfg);
    let weekly = Weekly(days);
    let new = HoursConfig {
        time_zone: tz.name().to_owned(),
        weekly: weekly.0.iter().map(|d| format_periods(d)).collect(),
        cutoff_mins: hours.cutoff_mins,
        closing_grace_mins: hours.closing_grace_mins,
    };
    if new == before {
        return Ok(new);
    }
    let weekly_json = serde_json::to_string(&weekly).map_err(anyhow::Error::from)?;
    tx.save_hours(
        branch,
        tz.name(),
        &weekly_json,
        new.cutoff_mins,
        new.closing_grace_mins,
    )
    .await?;
    let after = tx.bump_config(branch).await?;
    audit_change(
        tx,
        who,
        now,
        "hours.update",
        ("branch", json!(branch)),
        Some(to_value(&before)),
        Some(to_value(&new)),
    )
    .await?;
    announce_services(tx, out, &after, now).await?;
    Ok(new)
}

/// Parses a `YYYY-MM-DD` day.
pub fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| invalid("invalid_date", format!("a date is YYYY-MM-DD, not {s:?}")))
}

/// Sets (`Some`) or removes (`None`) the exception of one branch-local day.
pub async fn save_exception<T: SettingsTx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    date: NaiveDate,
    body: Option<&ExceptionBody>,
    now: DateTime<Utc>,
) -> Result<Option<ExceptionConfig>> {
    let branch = who.branch_id;
    let new = match body {
        Some(b) => {
            let periods = parse_periods(&b.periods)?;
            let note = |text: &str| {
                let text = text.trim().to_owned();
                if text.chars().count() > NOTICE_MAX_CHARS {
                    return Err(invalid(
                        "invalid_text",
                        format!("a note is at most {NOTICE_MAX_CHARS} characters"),
                    ));
                }
                Ok(text)
            };
            Some(Exception {
                date,
                periods,
                note: note(&b.note)?,
                note_zh_hant: note(&b.note_zh_hant)?,
                note_en: note(&b.note_en)?,
            })
        }
        None => None,
    };
    tx.lock_branch(branch).await?;
    let cfg = tx.config(branch).await?;
    if new.is_some() && date < crate::queue::schedule::local_date(cfg.schedule.tz, now) {
        return Err(invalid(
            "date_in_past",
            format!("{date} has passed: an exception is for today or a day ahead"),
        ));
    }
    let before = cfg.schedule.exception_on(date).cloned();
    let view = ExceptionConfig::from;
    if before == new {
        return Ok(new.as_ref().map(view));
    }
    match &new {
        Some(e) => tx.save_exception(branch, e).await?,
        None => {
            tx.delete_exception(branch, date).await?;
        }
    }
    let after = tx.bump_config(branch).await?;
    audit_change(
        tx,
        who,
        now,
        if new.is_some() {
            "exception.set"
        } else {
            "exception.delete"
        },
        ("date", json!(date)),
        before.as_ref().map(|e| to_value(&view(e))),
        new.as_ref().map(|e| to_value(&view(e))),
    )
    .await?;
    // Bookings in a period the change closed are cancelled, and listed for the manager.
    let cancelled = crate::hall::appointments::cancel_closed(tx, &after, date, now).await?;
    if !cancelled.is_empty() {
        tx.audit(&crate::store::AuditEntry {
            branch,
            user: who.user_id,
            at: now,
            action: "appointments.cancelled_by_hours",
            detail: json!({ "date": date, "bookings": cancelled }).to_string(),
        })
        .await?;
    }
    announce_services(tx, out, &after, now).await?;
    announce_notices(tx, out, &after, now).await?;
    Ok(new.as_ref().map(view))
}

/// Creates (`id` None), changes or deletes (`body` None) a notice; boards and kiosks get the
/// new list of notices shown now.
pub async fn save_notice<T: SettingsTx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    id: Option<i64>,
    body: Option<&NoticeBody>,
    now: DateTime<Utc>,
) -> Result<Option<NoticeRow>> {
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let all = tx.notices(branch).await?;
    let before = match id {
        Some(id) => Some(all.iter().find(|n| n.id == id).cloned().ok_or_else(|| {
            StoreError::not_found("unknown_notice", format!("there is no notice {id}"))
        })?),
        None => None,
    };
    let new = match body {
        Some(b) => {
            let mut text = before.as_ref().map(|n| n.text.clone()).unwrap_or_default();
            b.text.apply(&mut text);
            check_text("a notice", &text, NOTICE_MAX_CHARS, true)?;
            if (b.from.is_some() && b.starts_at.is_some())
                || (b.until.is_some() && b.ends_at.is_some())
            {
                return Err(invalid(
                    "invalid_body",
                    "give a notice's start as starts_at or from, its end as ends_at or until",
                ));
            }
            let tz = tx.config(branch).await?.schedule.tz;
            let starts_at = b.starts_at.or(b.from.map(|d| local_instant(tz, d, 0)));
            let ends_at = b.ends_at.or(b.until.map(|d| local_instant(tz, d, 1440)));
            if let (Some(s), Some(e)) = (starts_at, ends_at)
                && s >= e
            {
                return Err(invalid("invalid_period", "a notice starts before it ends"));
            }
            Some(NoticeRow {
                id: id.unwrap_or(0),
                text,
                starts_at,
                ends_at,
            })
        }
        None => None,
    };
    let saved = match &new {
        Some(n) => {
            let id = tx.save_notice(branch, n).await?;
            Some(NoticeRow { id, ..n.clone() })
        }
        None => {
            if let Some(b) = &before {
                tx.delete_notice(branch, b.id).await?;
            }
            None
        }
    };
    let after = tx.bump_config(branch).await?;
    let action = match (&before, &saved) {
        (None, _) => "notice.create",
        (Some(_), Some(_)) => "notice.update",
        (Some(_), None) => "notice.delete",
    };
    let nid = saved.as_ref().or(before.as_ref()).map_or(0, |n| n.id);
    audit_change(
        tx,
        who,
        now,
        action,
        ("notice", json!(nid)),
        before.as_ref().map(to_value),
        saved.as_ref().map(to_value),
    )
    .await?;
    announce_notices(tx, out, &after, now).await?;
    Ok(saved)
}

/// What a create-or-update edits: a copy of `before` for an update, `fresh()` for a create; a
/// create of something that exists (409, `codes.0`) or an update of something that does not
/// (404, `codes.1`) is refused.
fn start_edit<T: Clone>(
    before: &Option<T>,
    create: bool,
    codes: (&'static str, &'static str),
    what: &str,
    fresh: impl FnOnce() -> T,
) -> Result<T> {
    match (before, create) {
        (Some(_), true) => Err(StoreError::conflict(
            codes.0,
            format!("there is already a {what}"),
        )),
        (None, false) => Err(StoreError::not_found(
            codes.1,
            format!("there is no {what}"),
        )),
        (Some(b), false) => Ok(b.clone()),
        (None, true) => Ok(fresh()),
    }
}

/// Replaces the branch's public information: the service phone number (at most
/// [`PHONE_MAX_CHARS`] characters of digits, spaces and `+ - ( )`), the address, and how many
/// days ahead a dated exception becomes a notice.
pub async fn save_public_info<T: SettingsTx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    info: &PublicInfo,
    now: DateTime<Utc>,
) -> Result<PublicInfo> {
    let new = PublicInfo {
        phone: info.phone.trim().to_owned(),
        address: info.address.trim().to_owned(),
        notice_days: info.notice_days,
    };
    let phone_ok = new.phone.chars().count() <= PHONE_MAX_CHARS
        && new
            .phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()".contains(c));
    if !phone_ok {
        return Err(invalid(
            "invalid_phone",
            format!(
                "a phone number is at most {PHONE_MAX_CHARS} digits, spaces and + - ( ) characters"
            ),
        ));
    }
    if new.address.chars().count() > ADDRESS_MAX_CHARS || new.address.chars().any(char::is_control)
    {
        return Err(invalid(
            "invalid_text",
            format!("an address is one line of at most {ADDRESS_MAX_CHARS} characters"),
        ));
    }
    if new.notice_days > NOTICE_DAYS_MAX {
        return Err(invalid(
            "invalid_notice_days",
            format!("exceptions are announced 0 to {NOTICE_DAYS_MAX} days ahead"),
        ));
    }
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let before = tx.config(branch).await?.public.clone();
    if before == new {
        return Ok(new);
    }
    tx.save_public_info(branch, &new).await?;
    let after = tx.bump_config(branch).await?;
    audit_change(
        tx,
        who,
        now,
        "branch.public",
        ("branch", json!(branch)),
        Some(to_value(&before)),
        Some(to_value(&new)),
    )
    .await?;
    announce_services(tx, out, &after, now).await?;
    announce_notices(tx, out, &after, now).await?;
    Ok(new)
}

/// A new branch as an admin (or the command line) creates it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBranch {
    pub name: Localized,
    pub time_zone: String,
}

/// A branch as listed to admins.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BranchInfo {
    pub id: i64,
    pub name: Localized,
    pub time_zone: String,
}

/// Creates a branch with the weekly hours of an office (Monday to Friday, 09:00–12:00 and
/// 13:00–17:00: the manager sets its own), no services or windows yet; returns it. `who` is the
/// admin (none: the command line); the audit line is the new branch's.
pub async fn add_branch<T: SettingsTx>(
    tx: &mut T,
    who: Option<&Principal>,
    new: &NewBranch,
    now: DateTime<Utc>,
) -> Result<BranchInfo> {
    let name = Localized {
        zh: new.name.zh.trim().to_owned(),
        zh_hant: new.name.zh_hant.trim().to_owned(),
        en: new.name.en.trim().to_owned(),
    };
    check_text("a branch name", &name, NAME_MAX_CHARS, true)?;
    let tz: chrono_tz::Tz = new.time_zone.trim().parse().map_err(|_| {
        invalid(
            "unknown_time_zone",
            format!("{:?} is not an IANA time zone", new.time_zone),
        )
    })?;
    let weekly = Weekly::weekdays(&[(540, 720), (780, 1020)]);
    let weekly_json = serde_json::to_string(&weekly).map_err(anyhow::Error::from)?;
    let id = tx.insert_branch(&name, tz.name(), &weekly_json).await?;
    let info = BranchInfo {
        id,
        name,
        time_zone: tz.name().to_owned(),
    };
    tx.audit(&crate::store::AuditEntry {
        branch: id,
        user: who.and_then(|w| w.user_id),
        at: now,
        action: "branch.create",
        detail: json!({ "branch": id, "after": to_value(&info) }).to_string(),
    })
    .await?;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &str, b: &str) -> (String, String) {
        (a.to_owned(), b.to_owned())
    }

    #[test]
    fn periods_must_be_ordered_and_apart() {
        assert_eq!(
            parse_periods(&vec![p("08:00", "12:00"), p("13:00", "17:00")]).unwrap(),
            vec![(480, 720), (780, 1020)]
        );
        assert!(parse_periods(&vec![p("13:00", "17:00"), p("08:00", "12:00")]).is_err());
        assert!(parse_periods(&vec![p("08:00", "12:00"), p("11:00", "17:00")]).is_err());
        assert!(parse_periods(&vec![p("12:00", "08:00")]).is_err());
        assert!(parse_periods(&vec![p("8", "12:00")]).is_err());
        assert!(parse_periods(&vec![p("00:00", "24:00")]).is_ok());
    }
}

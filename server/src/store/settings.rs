//! The hall's configuration as managers change it: services, windows and what they serve,
//! opening hours and dated exceptions, notices, people and devices.
//!
//! Every change here is one transaction that validates the whole new state first (nothing is
//! written if any of it is wrong), writes it, bumps `branches.config_version` (the key of every
//! server's configuration cache), appends an audit entry (who, when, what: the changed fields
//! before → after, never a password or a token) and tells boards and kiosks on the event stream:
//! a `services` event (refetch the services and hours) or a `notice` event (the full list).
//!
//! The reads and writes are [`SettingsTx`], implemented per backend in `sqlite/settings.rs` and
//! `postgres/settings.rs`; the rules are the functions below, written once over it.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::api::{Localized, Notice};
use qhall_shared::events::Event;
use qhall_shared::{ServiceCode, WindowNo};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ops::Outbox;
use super::{AuditEntry, BranchConfig, Principal, Result, Role, Store, StoreError, Tx, WindowDef};
use crate::queue::ServiceDef;
use crate::queue::policy::WindowSkills;
use crate::queue::schedule::{Exception, Period, Weekly, hhmm, local_instant, parse_hhmm};

/// Longest service or window name, in characters.
pub const NAME_MAX_CHARS: usize = 40;
/// Longest service guide, in characters (per language).
pub const GUIDE_MAX_CHARS: usize = 2000;
/// Longest notice, in characters (per language): a line or two on the board.
pub const NOTICE_MAX_CHARS: usize = 200;
/// The longest last-ticket cut-off, in minutes.
pub const CUTOFF_MAX_MINS: u16 = 240;
/// Shortest password a manager may set.
pub const PASSWORD_MIN_CHARS: usize = 8;

/// A service as managers see and edit it (seconds for times).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceConfig {
    pub code: ServiceCode,
    pub name: Localized,
    pub guide: Localized,
    pub target_wait_secs: u32,
    pub first_number: u32,
    pub last_number: u32,
    pub priority_allowed: bool,
    pub default_service_secs: u32,
    pub enabled: bool,
}

impl From<&ServiceDef> for ServiceConfig {
    fn from(s: &ServiceDef) -> Self {
        ServiceConfig {
            code: s.code,
            name: s.name.clone(),
            guide: s.guide.clone(),
            target_wait_secs: s.target_wait_secs,
            first_number: s.first_number,
            last_number: s.last_number,
            priority_allowed: s.priority_allowed,
            default_service_secs: s.default_service_secs,
            enabled: s.enabled,
        }
    }
}

impl ServiceConfig {
    pub fn to_def(&self) -> ServiceDef {
        ServiceDef {
            code: self.code,
            name: self.name.clone(),
            guide: self.guide.clone(),
            target_wait_secs: self.target_wait_secs,
            first_number: self.first_number,
            last_number: self.last_number,
            priority_allowed: self.priority_allowed,
            default_service_secs: self.default_service_secs,
            enabled: self.enabled,
        }
    }
}

/// Fields of a service to change; those left out keep their value (on creation: the defaults).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicePatch {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub name: Option<TextPatch>,
    #[serde(default)]
    pub guide: Option<TextPatch>,
    #[serde(default)]
    pub target_wait_secs: Option<u32>,
    #[serde(default)]
    pub first_number: Option<u32>,
    #[serde(default)]
    pub last_number: Option<u32>,
    #[serde(default)]
    pub priority_allowed: Option<bool>,
    #[serde(default)]
    pub default_service_secs: Option<u32>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A text in the hall's languages, any of them left out kept as it was.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextPatch {
    #[serde(default)]
    pub zh: Option<String>,
    #[serde(default)]
    pub zh_hant: Option<String>,
    #[serde(default)]
    pub en: Option<String>,
}

impl TextPatch {
    fn apply(&self, to: &mut Localized) {
        if let Some(v) = &self.zh {
            to.zh = v.trim().to_owned();
        }
        if let Some(v) = &self.zh_hant {
            to.zh_hant = v.trim().to_owned();
        }
        if let Some(v) = &self.en {
            to.en = v.trim().to_owned();
        }
    }
}

/// One service a window serves, in the window's order of preference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Serves {
    pub service: String,
    #[serde(default = "one")]
    pub weight: f64,
}

fn one() -> f64 {
    1.0
}

/// A window as managers see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowConfig {
    pub number: WindowNo,
    pub name: String,
    pub serves: Vec<Serves>,
}

impl From<&WindowDef> for WindowConfig {
    fn from(w: &WindowDef) -> Self {
        WindowConfig {
            number: w.number,
            name: w.name.clone(),
            serves: w
                .skills
                .serves
                .iter()
                .map(|(s, weight)| Serves {
                    service: s.to_string(),
                    weight: *weight,
                })
                .collect(),
        }
    }
}

/// A window's new name and services (`number` only when creating one).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowPatch {
    #[serde(default)]
    pub number: Option<u32>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub serves: Option<Vec<Serves>>,
}

/// Opening periods as `["HH:MM", "HH:MM"]` pairs.
pub type Periods = Vec<(String, String)>;

/// The weekly hours, time zone and cut-off, as managers write them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursConfig {
    pub time_zone: String,
    /// Seven days, Monday first.
    pub weekly: Vec<Periods>,
    pub cutoff_mins: u16,
}

/// A dated exception as managers write it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionBody {
    /// `[]`: closed all day.
    pub periods: Periods,
    #[serde(default)]
    pub note: String,
}

/// An exception as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExceptionConfig {
    pub date: NaiveDate,
    pub periods: Periods,
    pub note: String,
}

/// A notice as stored, with its dates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeRow {
    pub id: i64,
    pub text: Localized,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
}

impl NoticeRow {
    /// Shown at `now`.
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        self.starts_at.is_none_or(|s| s <= now) && self.ends_at.is_none_or(|e| e > now)
    }
}

/// A notice to write.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeBody {
    pub text: TextPatch,
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// Shown from the start of this branch-local day (instead of `starts_at`).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Shown until the end of this branch-local day (instead of `ends_at`).
    #[serde(default)]
    pub until: Option<NaiveDate>,
}

/// Everything the settings page shows about the hall.
#[derive(Debug, Clone, Serialize)]
pub struct HallSettings {
    pub version: i64,
    pub services: Vec<ServiceConfig>,
    pub windows: Vec<WindowConfig>,
    pub hours: HoursConfig,
    pub exceptions: Vec<ExceptionConfig>,
    pub notices: Vec<NoticeRow>,
    pub emergency: Option<String>,
}

/// A person's account as managers see it (never the password hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserInfo {
    pub id: i64,
    pub branch_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// A kiosk or board as managers see it (never the token or its hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceInfo {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub printer_state: Option<String>,
}

/// A new account (the password already hashed).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub branch_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
}

/// The reads and writes of configuration changes, per backend. None of them decides anything,
/// bumps the configuration version or audits: the functions of this module do.
#[allow(async_fn_in_trait)]
pub trait SettingsTx: Tx {
    /// Increments `config_version` and returns the configuration as now written (read afresh,
    /// not cached: this transaction may still roll back).
    async fn bump_config(&mut self, branch: i64) -> Result<BranchConfig>;
    /// Tickets of the service waiting, called or being served.
    async fn live_tickets_of(&mut self, branch: i64, service: ServiceCode) -> Result<u32>;
    /// Inserts the service (last in display order) or updates every column of it.
    async fn save_service(&mut self, branch: i64, s: &ServiceDef, create: bool) -> Result<()>;
    /// Deletes the service and its place at every window. Its day counters stay, so a service
    /// created again with the same code the same day does not print a number twice.
    async fn delete_service(&mut self, branch: i64, service: ServiceCode) -> Result<()>;
    /// Inserts the window or renames it, and replaces the services it serves.
    async fn save_window(&mut self, branch: i64, w: &WindowDef, create: bool) -> Result<()>;
    async fn save_hours(
        &mut self,
        branch: i64,
        time_zone: &str,
        weekly_json: &str,
        cutoff_mins: u16,
    ) -> Result<()>;
    async fn save_exception(&mut self, branch: i64, e: &Exception) -> Result<()>;
    /// Whether there was one to delete.
    async fn delete_exception(&mut self, branch: i64, date: NaiveDate) -> Result<bool>;
    /// Every notice of the branch, past and future too, by id.
    async fn notices(&mut self, branch: i64) -> Result<Vec<NoticeRow>>;
    /// Inserts (`id` 0) or updates a notice; returns its id.
    async fn save_notice(&mut self, branch: i64, n: &NoticeRow) -> Result<i64>;
    async fn delete_notice(&mut self, branch: i64, id: i64) -> Result<()>;
    /// People of the branch (`None`: everyone, for an admin), by username.
    async fn users(&mut self, branch: Option<i64>) -> Result<Vec<UserInfo>>;
    async fn user_info(&mut self, id: i64) -> Result<Option<UserInfo>>;
    async fn insert_user(&mut self, u: &NewUser, now: DateTime<Utc>) -> Result<i64>;
    async fn set_password(&mut self, id: i64, hash: &str) -> Result<()>;
    /// Deactivates the account and ends its sessions; returns the sessions' token hashes.
    async fn deactivate_user(&mut self, id: i64) -> Result<Vec<String>>;
    async fn devices(&mut self, branch: i64) -> Result<Vec<DeviceInfo>>;
    async fn insert_device(
        &mut self,
        branch: i64,
        name: &str,
        role: Role,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<i64>;
    /// Revokes an active device; returns its token hash, `None` if there is no such device.
    async fn revoke_device(&mut self, branch: i64, id: i64)
    -> Result<Option<(String, DeviceInfo)>>;
}

fn invalid(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::invalid(code, message)
}

/// The fields that differ between two JSON objects: (before, after), each with only those.
pub fn changed(before: &Value, after: &Value) -> (Value, Value) {
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else {
        return (before.clone(), after.clone());
    };
    let mut out_b = serde_json::Map::new();
    let mut out_a = serde_json::Map::new();
    for (k, va) in a {
        let vb = b.get(k).unwrap_or(&Value::Null);
        if vb != va {
            out_b.insert(k.clone(), vb.clone());
            out_a.insert(k.clone(), va.clone());
        }
    }
    for (k, vb) in b {
        if !a.contains_key(k) {
            out_b.insert(k.clone(), vb.clone());
            out_a.insert(k.clone(), Value::Null);
        }
    }
    (Value::Object(out_b), Value::Object(out_a))
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

async fn audit<T: Tx>(
    tx: &mut T,
    who: &Principal,
    now: DateTime<Utc>,
    action: &str,
    detail: Value,
) -> Result<()> {
    tx.audit(&AuditEntry {
        branch: who.branch_id,
        user: who.user_id,
        at: now,
        action,
        detail: detail.to_string(),
    })
    .await
}

/// Audits a change of one thing (`key` names it) as its changed fields before → after.
async fn audit_change<T: Tx>(
    tx: &mut T,
    who: &Principal,
    now: DateTime<Utc>,
    action: &str,
    key: (&str, Value),
    before: Option<Value>,
    after: Option<Value>,
) -> Result<()> {
    let (b, a) = match (&before, &after) {
        (Some(b), Some(a)) => {
            let (b, a) = changed(b, a);
            (Some(b), Some(a))
        }
        _ => (before, after),
    };
    let mut detail = BTreeMap::new();
    detail.insert(key.0.to_owned(), key.1);
    detail.insert("before".to_owned(), b.unwrap_or(Value::Null));
    detail.insert("after".to_owned(), a.unwrap_or(Value::Null));
    audit(tx, who, now, action, to_value(&detail)).await
}

/// Tells kiosks and boards to refetch the services and hours.
async fn announce_services<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    cfg: &BranchConfig,
    now: DateTime<Utc>,
) -> Result<()> {
    let open = cfg.schedule.state_at(now).is_open() && cfg.emergency.is_none();
    out.emit(tx, cfg.id, now, Event::Services { open }).await
}

fn check_text(what: &str, t: &Localized, max: usize, required: bool) -> Result<()> {
    if required && t.zh.is_empty() {
        return Err(invalid(
            "invalid_text",
            format!("{what} needs a Simplified Chinese text"),
        ));
    }
    for s in [&t.zh, &t.zh_hant, &t.en] {
        if s.chars().count() > max {
            return Err(invalid(
                "invalid_text",
                format!("{what} is at most {max} characters"),
            ));
        }
    }
    Ok(())
}

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
    let mut s = match (&before, create) {
        (Some(_), true) => {
            return Err(StoreError::conflict(
                "service_exists",
                format!("there is already a service {code}"),
            ));
        }
        (None, false) => {
            return Err(StoreError::not_found(
                "unknown_service",
                format!("there is no service {code}"),
            ));
        }
        (Some(b), false) => b.clone(),
        (None, true) => ServiceConfig {
            code,
            name: Localized::default(),
            guide: Localized::default(),
            target_wait_secs: 900,
            first_number: 1,
            last_number: 999,
            priority_allowed: true,
            default_service_secs: 300,
            enabled: true,
        },
    };
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
    let mut w = match (&before, create) {
        (Some(_), true) => {
            return Err(StoreError::conflict(
                "window_exists",
                format!("there is already a window {number}"),
            ));
        }
        (None, false) => {
            return Err(StoreError::not_found(
                "unknown_window",
                format!("there is no window {number}"),
            ));
        }
        (Some(b), false) => b.clone(),
        (None, true) => WindowDef {
            number,
            name: String::new(),
            skills: WindowSkills { serves: Vec::new() },
        },
    };
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

fn format_periods(p: &[Period]) -> Periods {
    p.iter().map(|(a, b)| (hhmm(*a), hhmm(*b))).collect()
}

fn hours_of(cfg: &BranchConfig) -> HoursConfig {
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
    tx.lock_branch(branch).await?;
    let cfg = tx.config(branch).await?;
    let before = hours_of(&cfg);
    let weekly = Weekly(days);
    let new = HoursConfig {
        time_zone: tz.name().to_owned(),
        weekly: weekly.0.iter().map(|d| format_periods(d)).collect(),
        cutoff_mins: hours.cutoff_mins,
    };
    if new == before {
        return Ok(new);
    }
    let weekly_json = serde_json::to_string(&weekly).map_err(anyhow::Error::from)?;
    tx.save_hours(branch, tz.name(), &weekly_json, hours.cutoff_mins)
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
            let note = b.note.trim().to_owned();
            if note.chars().count() > NOTICE_MAX_CHARS {
                return Err(invalid(
                    "invalid_text",
                    format!("a note is at most {NOTICE_MAX_CHARS} characters"),
                ));
            }
            Some(Exception {
                date,
                periods,
                note,
            })
        }
        None => None,
    };
    tx.lock_branch(branch).await?;
    let cfg = tx.config(branch).await?;
    let before = cfg.schedule.exception_on(date).cloned();
    let view = |e: &Exception| ExceptionConfig {
        date: e.date,
        periods: format_periods(&e.periods),
        note: e.note.clone(),
    };
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
    announce_services(tx, out, &after, now).await?;
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
    tx.bump_config(branch).await?;
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
    let notices: Vec<Notice> = tx
        .notices(branch)
        .await?
        .into_iter()
        .filter(|n| n.active(now))
        .map(|n| Notice {
            id: n.id,
            text: n.text,
        })
        .collect();
    out.emit(tx, branch, now, Event::Notice { notices }).await?;
    Ok(saved)
}

/// Who may manage an account: a manager the staff of their branch, an admin everyone.
fn may_manage(who: &Principal, target: &UserInfo) -> Result<()> {
    let ok = match who.role {
        Role::Admin => true,
        Role::Manager => target.role == "staff" && target.branch_id == Some(who.branch_id),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(StoreError::forbidden(
            "forbidden",
            "a manager manages the staff of their own hall; ask an admin",
        ))
    }
}

/// Checks a username and a new account's role for `who` to create.
pub fn check_new_user(who: &Principal, username: &str, role: Role, password: &str) -> Result<()> {
    let ok_name = (2..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !ok_name {
        return Err(invalid(
            "invalid_username",
            "a username is 2 to 32 of a-z, 0-9, '.', '_', '-'",
        ));
    }
    match role {
        Role::Staff => {}
        Role::Manager if who.role == Role::Admin => {}
        Role::Manager => {
            return Err(StoreError::forbidden(
                "forbidden",
                "only an admin creates managers",
            ));
        }
        _ => {
            return Err(invalid("invalid_role", "a new account is staff or manager"));
        }
    }
    check_password(password)
}

/// A password a person can be given.
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < PASSWORD_MIN_CHARS || password.len() > 200 {
        return Err(invalid(
            "weak_password",
            format!("a password is at least {PASSWORD_MIN_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Creates an account (the checks of [`check_new_user`] already passed; password hashed).
pub async fn create_user<T: SettingsTx>(
    tx: &mut T,
    who: &Principal,
    u: &NewUser,
    now: DateTime<Utc>,
) -> Result<UserInfo> {
    let id = tx.insert_user(u, now).await?;
    let info = tx
        .user_info(id)
        .await?
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("a new user vanished")))?;
    audit_change(
        tx,
        who,
        now,
        "user.create",
        ("user", json!(info.username)),
        None,
        Some(json!({ "role": info.role, "display_name": info.display_name })),
    )
    .await?;
    Ok(info)
}

/// Gives an account a new password (hashed already). The password is never audited.
pub async fn reset_password<T: SettingsTx>(
    tx: &mut T,
    who: &Principal,
    id: i64,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let target = tx
        .user_info(id)
        .await?
        .ok_or_else(|| StoreError::not_found("unknown_user", format!("there is no user {id}")))?;
    if who.user_id != Some(id) {
        may_manage(who, &target)?;
    }
    tx.set_password(id, hash).await?;
    audit(
        tx,
        who,
        now,
        "user.password",
        json!({ "user": target.username }),
    )
    .await
}

/// Deactivates an account and ends its sessions; returns the sessions' token hashes (to be
/// forgotten by the token cache).
pub async fn deactivate_user<T: SettingsTx>(
    tx: &mut T,
    who: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let target = tx
        .user_info(id)
        .await?
        .ok_or_else(|| StoreError::not_found("unknown_user", format!("there is no user {id}")))?;
    if who.user_id == Some(id) {
        return Err(StoreError::conflict(
            "own_account",
            "you cannot deactivate your own account",
        ));
    }
    may_manage(who, &target)?;
    if !target.active {
        return Ok(Vec::new());
    }
    let sessions = tx.deactivate_user(id).await?;
    audit_change(
        tx,
        who,
        now,
        "user.deactivate",
        ("user", json!(target.username)),
        Some(json!({ "active": true })),
        Some(json!({ "active": false })),
    )
    .await?;
    Ok(sessions)
}

/// Registers a kiosk or board under a token's hash.
pub async fn create_device<T: SettingsTx>(
    tx: &mut T,
    who: &Principal,
    name: &str,
    role: Role,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
        return Err(invalid(
            "invalid_text",
            format!("a device name is 1 to {NAME_MAX_CHARS} characters"),
        ));
    }
    if !role.is_device() {
        return Err(invalid("invalid_role", "a device is a kiosk or a display"));
    }
    let id = tx
        .insert_device(who.branch_id, name, role, token_hash, now)
        .await?;
    audit_change(
        tx,
        who,
        now,
        "device.create",
        ("device", json!(id)),
        None,
        Some(json!({ "name": name, "role": role.as_str() })),
    )
    .await?;
    Ok(id)
}

/// Revokes a device: its token stops working. Returns the token's hash.
pub async fn revoke_device<T: SettingsTx>(
    tx: &mut T,
    who: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> Result<String> {
    let (hash, d) = tx.revoke_device(who.branch_id, id).await?.ok_or_else(|| {
        StoreError::not_found("unknown_device", format!("there is no active device {id}"))
    })?;
    audit_change(
        tx,
        who,
        now,
        "device.revoke",
        ("device", json!(id)),
        Some(json!({ "name": d.name, "role": d.role, "active": true })),
        Some(json!({ "active": false })),
    )
    .await?;
    Ok(hash)
}

impl Store {
    /// Everything the settings page shows, from one snapshot.
    pub async fn hall_settings(&self, branch: i64) -> Result<HallSettings> {
        read!(self, |tx| async {
            let cfg: Arc<BranchConfig> = tx.config(branch).await?;
            let notices = tx.notices(branch).await?;
            Ok(HallSettings {
                version: cfg.version,
                services: cfg.services.iter().map(ServiceConfig::from).collect(),
                windows: cfg.windows.iter().map(WindowConfig::from).collect(),
                hours: hours_of(&cfg),
                exceptions: cfg
                    .schedule
                    .exceptions
                    .iter()
                    .map(|e| ExceptionConfig {
                        date: e.date,
                        periods: format_periods(&e.periods),
                        note: e.note.clone(),
                    })
                    .collect(),
                notices,
                emergency: cfg.emergency.clone(),
            })
        })
    }

    pub async fn save_service(
        &self,
        who: &Principal,
        code: Option<String>,
        patch: ServicePatch,
        now: DateTime<Utc>,
    ) -> Result<ServiceConfig> {
        let who = who.clone();
        write!(self, |tx, out| save_service(
            tx,
            out,
            &who,
            code.as_deref(),
            &patch,
            now
        ))
    }

    pub async fn delete_service(
        &self,
        who: &Principal,
        code: String,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let who = who.clone();
        write!(self, |tx, out| delete_service(tx, out, &who, &code, now))
    }

    pub async fn save_window(
        &self,
        who: &Principal,
        n: Option<u32>,
        patch: WindowPatch,
        now: DateTime<Utc>,
    ) -> Result<WindowConfig> {
        let who = who.clone();
        write!(self, |tx, out| save_window(tx, out, &who, n, &patch, now))
    }

    pub async fn save_hours(
        &self,
        who: &Principal,
        hours: HoursConfig,
        now: DateTime<Utc>,
    ) -> Result<HoursConfig> {
        let who = who.clone();
        write!(self, |tx, out| save_hours(tx, out, &who, &hours, now))
    }

    pub async fn save_exception(
        &self,
        who: &Principal,
        date: NaiveDate,
        body: Option<ExceptionBody>,
        now: DateTime<Utc>,
    ) -> Result<Option<ExceptionConfig>> {
        let who = who.clone();
        write!(self, |tx, out| save_exception(
            tx,
            out,
            &who,
            date,
            body.as_ref(),
            now
        ))
    }

    pub async fn save_notice(
        &self,
        who: &Principal,
        id: Option<i64>,
        body: Option<NoticeBody>,
        now: DateTime<Utc>,
    ) -> Result<Option<NoticeRow>> {
        let who = who.clone();
        write!(self, |tx, out| save_notice(
            tx,
            out,
            &who,
            id,
            body.as_ref(),
            now
        ))
    }

    /// The accounts `who` may see: their branch's (an admin: everyone's).
    pub async fn users(&self, who: &Principal) -> Result<Vec<UserInfo>> {
        let branch = (who.role != Role::Admin).then_some(who.branch_id);
        read!(self, |tx| tx.users(branch))
    }

    pub async fn create_user(
        &self,
        who: &Principal,
        user: NewUser,
        now: DateTime<Utc>,
    ) -> Result<UserInfo> {
        let who = who.clone();
        write!(self, |tx, _out| create_user(tx, &who, &user, now))
    }

    pub async fn reset_password(
        &self,
        who: &Principal,
        id: i64,
        hash: String,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let who = who.clone();
        write!(self, |tx, _out| reset_password(tx, &who, id, &hash, now))
    }

    pub async fn deactivate_user(
        &self,
        who: &Principal,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let who = who.clone();
        write!(self, |tx, _out| deactivate_user(tx, &who, id, now))
    }

    pub async fn devices(&self, branch: i64) -> Result<Vec<DeviceInfo>> {
        read!(self, |tx| tx.devices(branch))
    }

    pub async fn create_device(
        &self,
        who: &Principal,
        name: String,
        role: Role,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let who = who.clone();
        write!(self, |tx, _out| create_device(
            tx,
            &who,
            &name,
            role,
            &token_hash,
            now
        ))
    }

    pub async fn revoke_device(
        &self,
        who: &Principal,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let who = who.clone();
        write!(self, |tx, _out| revoke_device(tx, &who, id, now))
    }
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

    #[test]
    fn changed_keeps_only_the_fields_that_differ() {
        let (b, a) = changed(
            &json!({"target_wait_secs": 900, "enabled": true}),
            &json!({"target_wait_secs": 600, "enabled": true}),
        );
        assert_eq!(b, json!({"target_wait_secs": 900}));
        assert_eq!(a, json!({"target_wait_secs": 600}));
    }
}

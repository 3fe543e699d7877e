//! The hall's configuration as managers change it: services, windows and what they serve,
//! opening hours and dated exceptions, notices, people and devices.
//!
//! Every change here is one transaction that validates the whole new state first (nothing is
//! written if any of it is wrong), writes it, bumps `branches.config_version` (the key of every
//! server's configuration cache), appends an audit entry (who, when, what: the changed fields
//! before → after, never a password or a token) and tells boards and kiosks on the event stream:
//! a `services` event (refetch the services and hours) or a `notice` event (the full list).
//!
//! The reads and writes are [`SettingsTx`] (`store/settings.rs`, the same SQL for both
//! databases); the rules are written once over it.
//!
//! # Layout
//! - this file: the types managers see and send, [`SettingsTx`], the audit helpers, and the
//!   [`Store`] methods.
//! - [`services`]: services, windows, hours, exceptions, notices.
//! - [`people`]: accounts and devices.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::api::Localized;
use qhall_shared::events::Event;
use qhall_shared::{ServiceCode, WindowNo};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::hall::Outbox;
use crate::queue::schedule::Exception;
use crate::queue::{IdentityCheck, PublicInfo, ServiceDef};
use crate::store::{
    AuditEntry, BranchConfig, Principal, Result, Role, Store, StoreError, Tx, WindowDef,
};

mod people;
mod services;

pub use crate::store::settings::{DeviceInfo, NewUser, NoticeRow, SettingsTx, UserInfo};

pub use people::*;
pub use services::*;

/// Longest service or window name, in characters.
pub const NAME_MAX_CHARS: usize = 40;
/// Longest service guide, in characters (per language).
pub const GUIDE_MAX_CHARS: usize = 2000;
/// Longest notice, in characters (per language): a line or two on the board.
pub const NOTICE_MAX_CHARS: usize = 200;
/// The longest last-ticket cut-off, in minutes.
pub const CUTOFF_MAX_MINS: u16 = 240;
/// The longest service phone number, in characters.
pub const PHONE_MAX_CHARS: usize = 32;
/// The longest address, in characters.
pub const ADDRESS_MAX_CHARS: usize = 200;
/// The furthest ahead a dated exception is announced, in days.
pub const NOTICE_DAYS_MAX: u16 = 60;
/// The longest grace after closing before windows are signed out, in minutes.
pub const CLOSING_GRACE_MAX_MINS: u16 = 240;
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
    /// Tickets still waiting at closing are kept for the next day.
    #[serde(default)]
    pub carry_over: bool,
    /// Customers may take a ticket from their phone and check in on arrival.
    #[serde(default)]
    pub remote_tickets: bool,
    /// `off`, `optional` or `required`.
    #[serde(default)]
    pub identity_check: IdentityCheck,
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
            carry_over: s.carry_over,
            remote_tickets: s.remote_tickets,
            identity_check: s.identity_check,
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
            carry_over: self.carry_over,
            remote_tickets: self.remote_tickets,
            appointments: false,
            identity_check: self.identity_check,
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
    #[serde(default)]
    pub carry_over: Option<bool>,
    #[serde(default)]
    pub remote_tickets: Option<bool>,
    #[serde(default)]
    pub identity_check: Option<IdentityCheck>,
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
    /// Minutes after closing at which windows still signed in are signed out (default 30).
    #[serde(default = "default_closing_grace")]
    pub closing_grace_mins: u16,
}

fn default_closing_grace() -> u16 {
    30
}

/// A dated exception as managers write it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionBody {
    /// `[]`: closed all day.
    pub periods: Periods,
    /// The note in Simplified Chinese (also shown where the other languages' are empty).
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub note_zh_hant: String,
    #[serde(default)]
    pub note_en: String,
}

/// An exception as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExceptionConfig {
    pub date: NaiveDate,
    pub periods: Periods,
    pub note: String,
    pub note_zh_hant: String,
    pub note_en: String,
}

impl From<&Exception> for ExceptionConfig {
    fn from(e: &Exception) -> Self {
        ExceptionConfig {
            date: e.date,
            periods: format_periods(&e.periods),
            note: e.note.clone(),
            note_zh_hant: e.note_zh_hant.clone(),
            note_en: e.note_en.clone(),
        }
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
    /// The service phone number, the address and the notice period of dated exceptions.
    pub public: PublicInfo,
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

/// Sends kiosks and boards the whole list of notices now (a `notice` event).
pub(super) async fn announce_notices<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    cfg: &BranchConfig,
    now: DateTime<Utc>,
) -> Result<()> {
    let notices = crate::hall::notices::current_with(tx, cfg, now).await?;
    out.emit(tx, cfg.id, now, Event::Notice { notices }).await
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
                    .map(ExceptionConfig::from)
                    .collect(),
                notices,
                emergency: cfg.emergency.clone(),
                public: cfg.public.clone(),
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

    /// See [`add_branch`]: an admin (`who`), or the command line (none).
    pub async fn add_branch(
        &self,
        who: Option<&Principal>,
        new: NewBranch,
        now: DateTime<Utc>,
    ) -> Result<BranchInfo> {
        let who = who.cloned();
        write!(self, |tx, _out| add_branch(tx, who.as_ref(), &new, now))
    }

    /// Every branch, by id.
    pub async fn branches(&self) -> Result<Vec<BranchInfo>> {
        let rows = read!(self, |tx| tx.branches())?;
        Ok(rows
            .into_iter()
            .map(|(id, name, time_zone)| BranchInfo {
                id,
                name,
                time_zone,
            })
            .collect())
    }

    /// See [`save_public_info`].
    pub async fn save_public_info(
        &self,
        who: &Principal,
        info: PublicInfo,
        now: DateTime<Utc>,
    ) -> Result<PublicInfo> {
        let who = who.clone();
        write!(self, |tx, out| save_public_info(tx, out, &who, &info, now))
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
        window: Option<WindowNo>,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let who = who.clone();
        write!(self, |tx, _out| create_device(
            tx,
            &who,
            &name,
            (role, window),
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
    use serde_json::json;

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

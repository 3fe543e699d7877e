//! The configuration's reads and writes as managers change it ([`crate::hall::settings`]):
//! services, windows, hours, exceptions, notices, accounts and devices — one SQL for both
//! databases.

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::api::Localized;
use qhall_shared::{ServiceCode, WindowNo};
use serde::{Deserialize, Serialize};

use super::sql::Columns;
use super::tx::load_config;
use super::{BranchConfig, Result, Role, Tx, WindowDef};
use crate::queue::schedule::Exception;
use crate::queue::{PublicInfo, ServiceDef};

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

/// A kiosk, board or rating pad as managers see it (never the token or its hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceInfo {
    pub id: i64,
    pub name: String,
    pub role: String,
    /// The window a pad rates (`None` for kiosks and boards).
    pub window: Option<u32>,
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

/// The reads and writes of configuration changes. None of them decides anything, bumps the
/// configuration version or audits: the functions of [`crate::hall::settings`] do.
#[allow(async_fn_in_trait)]
pub trait SettingsTx: Tx {
    /// Increments `config_version` and returns the configuration as now written (read afresh,
    /// not cached: this transaction may still roll back).
    async fn bump_config(&mut self, branch: i64) -> Result<BranchConfig> {
        self.execute(
            "UPDATE branches SET config_version = config_version + 1 WHERE id = ?",
            args![branch],
        )
        .await?;
        load_config(self, branch).await
    }

    /// Tickets of the service waiting, called or being served.
    async fn live_tickets_of(&mut self, branch: i64, service: ServiceCode) -> Result<u32> {
        self.count(
            "SELECT COUNT(*) FROM tickets WHERE branch_id = ? AND service_code = ? \
             AND status IN ('waiting', 'called', 'serving')",
            args![branch, &service],
        )
        .await
    }

    /// Inserts the service (last in display order) or updates every column of it.
    async fn save_service(&mut self, branch: i64, s: &ServiceDef, create: bool) -> Result<()> {
        let columns = args![
            &s.name.zh,
            &s.name.zh_hant,
            &s.name.en,
            &s.guide.zh,
            &s.guide.zh_hant,
            &s.guide.en,
            s.target_wait_secs,
            s.first_number,
            s.last_number,
            s.priority_allowed,
            s.default_service_secs,
            s.enabled,
            s.carry_over,
            s.identity_check.as_str(),
            s.remote_tickets
        ];
        let mut all = args![branch, &s.code].to_vec();
        all.extend_from_slice(columns);
        if create {
            all.push(branch.into());
            self.execute(
                "INSERT INTO services (branch_id, code, name_zh, name_zh_hant, name_en, guide_zh, guide_zh_hant, \
                 guide_en, target_wait_secs, first_number, last_number, priority_allowed, default_service_secs, \
                 enabled, carry_over, identity_check, remote_tickets, sort) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \
                 (SELECT COALESCE(MAX(sort), -1) + 1 FROM services WHERE branch_id = ?))",
                &all,
            )
            .await?;
        } else {
            all.rotate_left(2);
            self.execute(
                "UPDATE services SET name_zh = ?, name_zh_hant = ?, name_en = ?, guide_zh = ?, guide_zh_hant = ?, \
                 guide_en = ?, target_wait_secs = ?, first_number = ?, last_number = ?, priority_allowed = ?, \
                 default_service_secs = ?, enabled = ?, carry_over = ?, identity_check = ?, remote_tickets = ? \
                 WHERE branch_id = ? AND code = ?",
                &all,
            )
            .await?;
        }
        Ok(())
    }

    /// Deletes the service and its place at every window. Its day counters stay, so a service
    /// created again with the same code the same day does not print a number twice.
    async fn delete_service(&mut self, branch: i64, service: ServiceCode) -> Result<()> {
        for sql in [
            "DELETE FROM window_services WHERE branch_id = ? AND service_code = ?",
            "DELETE FROM waiting_counts WHERE branch_id = ? AND service_code = ?",
            "DELETE FROM services WHERE branch_id = ? AND code = ?",
        ] {
            self.execute(sql, args![branch, &service]).await?;
        }
        Ok(())
    }

    /// Inserts the window or renames it, and replaces the services it serves.
    async fn save_window(&mut self, branch: i64, w: &WindowDef, create: bool) -> Result<()> {
        if create {
            self.execute(
                "INSERT INTO windows (branch_id, number, name) VALUES (?, ?, ?)",
                args![branch, w.number, &w.name],
            )
            .await?;
        } else {
            self.execute(
                "UPDATE windows SET name = ? WHERE branch_id = ? AND number = ?",
                args![&w.name, branch, w.number],
            )
            .await?;
        }
        self.execute(
            "DELETE FROM window_services WHERE branch_id = ? AND window_number = ?",
            args![branch, w.number],
        )
        .await?;
        for (rank, (code, weight)) in w.skills.serves.iter().enumerate() {
            self.execute(
                "INSERT INTO window_services (branch_id, window_number, service_code, rank, weight) \
                 VALUES (?, ?, ?, ?, ?)",
                args![branch, w.number, code, rank as u64, *weight],
            )
            .await?;
        }
        Ok(())
    }

    async fn save_hours(
        &mut self,
        branch: i64,
        time_zone: &str,
        weekly_json: &str,
        cutoff_mins: u16,
        closing_grace_mins: u16,
    ) -> Result<()> {
        self.execute(
            "UPDATE branches SET time_zone = ?, weekly_hours = ?, cutoff_mins = ?, closing_grace_mins = ? \
             WHERE id = ?",
            args![
                time_zone,
                weekly_json,
                u32::from(cutoff_mins),
                u32::from(closing_grace_mins),
                branch
            ],
        )
        .await?;
        Ok(())
    }

    /// Inserts a branch (the next id after the largest: PostgreSQL's identity sequence does not
    /// know the seeded branch 1); returns its id.
    async fn insert_branch(
        &mut self,
        name: &Localized,
        time_zone: &str,
        weekly_json: &str,
    ) -> Result<i64> {
        let id = self
            .row(
                "INSERT INTO branches (id, name_zh, name_zh_hant, name_en, time_zone, weekly_hours) \
                 SELECT COALESCE(MAX(id), 0) + 1, ?, ?, ?, ?, ? FROM branches RETURNING id",
                args![&name.zh, &name.zh_hant, &name.en, time_zone, weekly_json],
                |r| r.int("id"),
            )
            .await?;
        id.ok_or_else(|| anyhow::anyhow!("inserting a branch returned no id").into())
    }

    /// Every branch: id, name and time zone, by id.
    async fn branches(&mut self) -> Result<Vec<(i64, Localized, String)>> {
        self.rows(
            "SELECT id, name_zh, name_zh_hant, name_en, time_zone FROM branches ORDER BY id",
            args![],
            |r| {
                Ok((
                    r.int("id")?,
                    super::tx::localized(r, "name")?,
                    r.text("time_zone")?,
                ))
            },
        )
        .await
    }

    /// The branch's public information (phone, address, notice period).
    async fn save_public_info(&mut self, branch: i64, p: &PublicInfo) -> Result<()> {
        self.execute(
            "UPDATE branches SET phone = ?, address = ?, notice_days = ? WHERE id = ?",
            args![&p.phone, &p.address, u32::from(p.notice_days), branch],
        )
        .await?;
        Ok(())
    }

    async fn save_exception(&mut self, branch: i64, e: &Exception) -> Result<()> {
        let periods = serde_json::to_string(&e.periods).map_err(anyhow::Error::from)?;
        self.execute(
            "INSERT INTO hour_exceptions (branch_id, day, periods, note, note_zh_hant, note_en) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (branch_id, day) DO UPDATE SET periods = excluded.periods, \
             note = excluded.note, note_zh_hant = excluded.note_zh_hant, note_en = excluded.note_en",
            args![
                branch,
                e.date,
                &periods,
                &e.note,
                &e.note_zh_hant,
                &e.note_en
            ],
        )
        .await?;
        Ok(())
    }

    /// Whether there was one to delete.
    async fn delete_exception(&mut self, branch: i64, date: NaiveDate) -> Result<bool> {
        let n = self
            .execute(
                "DELETE FROM hour_exceptions WHERE branch_id = ? AND day = ?",
                args![branch, date],
            )
            .await?;
        Ok(n > 0)
    }

    /// Every notice of the branch, past and future too, by id.
    async fn notices(&mut self, branch: i64) -> Result<Vec<NoticeRow>> {
        self.rows(
            "SELECT id, text_zh, text_zh_hant, text_en, starts_at, ends_at FROM notices \
             WHERE branch_id = ? ORDER BY id",
            args![branch],
            |r| {
                Ok(NoticeRow {
                    id: r.int("id")?,
                    text: Localized {
                        zh: r.text("text_zh")?,
                        zh_hant: r.text("text_zh_hant")?,
                        en: r.text("text_en")?,
                    },
                    starts_at: r.opt_time("starts_at")?,
                    ends_at: r.opt_time("ends_at")?,
                })
            },
        )
        .await
    }

    /// Inserts (`id` 0) or updates a notice; returns its id.
    async fn save_notice(&mut self, branch: i64, n: &NoticeRow) -> Result<i64> {
        let t = &n.text;
        if n.id == 0 {
            return self
                .inserted_id(
                    "INSERT INTO notices (branch_id, text_zh, text_zh_hant, text_en, starts_at, ends_at) \
                     VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    args![branch, &t.zh, &t.zh_hant, &t.en, n.starts_at, n.ends_at],
                )
                .await;
        }
        self.execute(
            "UPDATE notices SET text_zh = ?, text_zh_hant = ?, text_en = ?, starts_at = ?, ends_at = ? \
             WHERE branch_id = ? AND id = ?",
            args![&t.zh, &t.zh_hant, &t.en, n.starts_at, n.ends_at, branch, n.id],
        )
        .await?;
        Ok(n.id)
    }

    async fn delete_notice(&mut self, branch: i64, id: i64) -> Result<()> {
        self.execute(
            "DELETE FROM notices WHERE branch_id = ? AND id = ?",
            args![branch, id],
        )
        .await?;
        Ok(())
    }

    /// People of the branch (`None`: everyone, for an admin), by username.
    async fn users(&mut self, branch: Option<i64>) -> Result<Vec<UserInfo>> {
        self.rows(
            "SELECT id, branch_id, username, display_name, role, active, created_at FROM users \
             WHERE (? IS NULL OR branch_id = ?) ORDER BY username",
            args![branch, branch],
            user_from,
        )
        .await
    }

    async fn user_info(&mut self, id: i64) -> Result<Option<UserInfo>> {
        self.row(
            "SELECT id, branch_id, username, display_name, role, active, created_at FROM users WHERE id = ?",
            args![id],
            user_from,
        )
        .await
    }

    async fn insert_user(&mut self, u: &NewUser, now: DateTime<Utc>) -> Result<i64> {
        self.inserted_id(
            "INSERT INTO users (branch_id, username, display_name, password_hash, role, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            args![
                u.branch_id,
                &u.username,
                &u.display_name,
                &u.password_hash,
                u.role.as_str(),
                now
            ],
        )
        .await
    }

    /// Sets the password hash and ends every session of the account (whoever knew the old
    /// password may hold one).
    async fn set_password(&mut self, id: i64, hash: &str) -> Result<()> {
        self.execute(
            "UPDATE users SET password_hash = ? WHERE id = ?",
            args![hash, id],
        )
        .await?;
        self.execute("DELETE FROM sessions WHERE user_id = ?", args![id])
            .await?;
        Ok(())
    }

    /// Deactivates the account and ends its sessions; returns the sessions' token hashes.
    async fn deactivate_user(&mut self, id: i64) -> Result<Vec<String>> {
        self.execute("UPDATE users SET active = ? WHERE id = ?", args![false, id])
            .await?;
        self.rows(
            "DELETE FROM sessions WHERE user_id = ? RETURNING token_hash",
            args![id],
            |r| r.text("token_hash"),
        )
        .await
    }

    async fn devices(&mut self, branch: i64) -> Result<Vec<DeviceInfo>> {
        self.rows(
            "SELECT id, name, role, window_number, active, created_at, last_seen_at, printer_state \
             FROM devices WHERE branch_id = ? ORDER BY active DESC, role, name, id",
            args![branch],
            device_from,
        )
        .await
    }

    async fn insert_device(
        &mut self,
        branch: i64,
        name: &str,
        role: Role,
        window: Option<WindowNo>,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        self.inserted_id(
            "INSERT INTO devices (branch_id, name, role, window_number, token_hash, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            args![branch, name, role.as_str(), window, token_hash, now],
        )
        .await
    }

    /// Revokes an active device; returns its token hash, `None` if there is no such device.
    async fn revoke_device(
        &mut self,
        branch: i64,
        id: i64,
    ) -> Result<Option<(String, DeviceInfo)>> {
        let found = self
            .row(
                "SELECT token_hash, id, name, role, window_number, active, created_at, last_seen_at, \
                 printer_state FROM devices WHERE branch_id = ? AND id = ? AND active",
                args![branch, id],
                |r| Ok((r.text("token_hash")?, device_from(r)?)),
            )
            .await?;
        if found.is_some() {
            self.execute(
                "UPDATE devices SET active = ? WHERE id = ?",
                args![false, id],
            )
            .await?;
        }
        Ok(found)
    }
}

impl<T: Tx> SettingsTx for T {}

fn user_from(r: &dyn Columns) -> Result<UserInfo> {
    Ok(UserInfo {
        id: r.int("id")?,
        branch_id: r.opt_int("branch_id")?,
        username: r.text("username")?,
        display_name: r.text("display_name")?,
        role: r.text("role")?,
        active: r.flag("active")?,
        created_at: r.time("created_at")?,
    })
}

fn device_from(r: &dyn Columns) -> Result<DeviceInfo> {
    Ok(DeviceInfo {
        id: r.int("id")?,
        name: r.text("name")?,
        role: r.text("role")?,
        window: r
            .opt_int("window_number")?
            .and_then(|n| u32::try_from(n).ok()),
        active: r.flag("active")?,
        created_at: r.time("created_at")?,
        last_seen_at: r.opt_time("last_seen_at")?,
        printer_state: r.opt_text("printer_state")?,
    })
}

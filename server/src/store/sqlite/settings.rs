//! [`SettingsTx`] for SQLite: the configuration's reads and writes.

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::api::Localized;
use qhall_shared::{ServiceCode, WindowNo};
use rusqlite::{OptionalExtension, Row, params};

use super::tx::{SqliteTx, load_config};
use super::{from_ms, ms};
use crate::hall::settings::{DeviceInfo, NewUser, NoticeRow, SettingsTx, UserInfo};
use crate::queue::ServiceDef;
use crate::queue::schedule::Exception;
use crate::store::{BranchConfig, Result, Role, WindowDef};

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<UserInfo> {
    Ok(UserInfo {
        id: r.get("id")?,
        branch_id: r.get("branch_id")?,
        username: r.get("username")?,
        display_name: r.get("display_name")?,
        role: r.get("role")?,
        active: r.get::<_, i64>("active")? != 0,
        created_at: from_ms(r.get("created_at")?),
    })
}

fn device_from_row(r: &Row<'_>) -> rusqlite::Result<DeviceInfo> {
    Ok(DeviceInfo {
        id: r.get("id")?,
        name: r.get("name")?,
        role: r.get("role")?,
        window: r.get("window_number")?,
        active: r.get::<_, i64>("active")? != 0,
        created_at: from_ms(r.get("created_at")?),
        last_seen_at: r.get::<_, Option<i64>>("last_seen_at")?.map(from_ms),
        printer_state: r.get("printer_state")?,
    })
}

const USER_COLUMNS: &str = "id, branch_id, username, display_name, role, active, created_at";
const DEVICE_COLUMNS: &str =
    "id, name, role, window_number, active, created_at, last_seen_at, printer_state";

impl SettingsTx for SqliteTx<'_> {
    async fn bump_config(&mut self, branch: i64) -> Result<BranchConfig> {
        self.conn.execute(
            "UPDATE branches SET config_version = config_version + 1 WHERE id = ?",
            [branch],
        )?;
        load_config(self.conn, branch)
    }

    async fn live_tickets_of(&mut self, branch: i64, service: ServiceCode) -> Result<u32> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM tickets WHERE branch_id = ? AND service_code = ? \
             AND status IN ('waiting', 'called', 'serving')",
            params![branch, service.as_str()],
            |r| r.get(0),
        )?;
        Ok(n as u32)
    }

    async fn save_service(&mut self, branch: i64, s: &ServiceDef, create: bool) -> Result<()> {
        if create {
            self.conn.execute(
                "INSERT INTO services (branch_id, code, name_zh, name_zh_hant, name_en, guide_zh, guide_zh_hant, guide_en, \
                 target_wait_secs, first_number, last_number, priority_allowed, default_service_secs, enabled, sort) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, \
                 (SELECT COALESCE(MAX(sort), -1) + 1 FROM services WHERE branch_id = ?1))",
                params![
                    branch,
                    s.code.as_str(),
                    s.name.zh,
                    s.name.zh_hant,
                    s.name.en,
                    s.guide.zh,
                    s.guide.zh_hant,
                    s.guide.en,
                    s.target_wait_secs,
                    s.first_number,
                    s.last_number,
                    s.priority_allowed,
                    s.default_service_secs,
                    s.enabled
                ],
            )?;
        } else {
            self.conn.execute(
                "UPDATE services SET name_zh = ?3, name_zh_hant = ?4, name_en = ?5, guide_zh = ?6, guide_zh_hant = ?7, \
                 guide_en = ?8, target_wait_secs = ?9, first_number = ?10, last_number = ?11, priority_allowed = ?12, \
                 default_service_secs = ?13, enabled = ?14 WHERE branch_id = ?1 AND code = ?2",
                params![
                    branch,
                    s.code.as_str(),
                    s.name.zh,
                    s.name.zh_hant,
                    s.name.en,
                    s.guide.zh,
                    s.guide.zh_hant,
                    s.guide.en,
                    s.target_wait_secs,
                    s.first_number,
                    s.last_number,
                    s.priority_allowed,
                    s.default_service_secs,
                    s.enabled
                ],
            )?;
        }
        Ok(())
    }

    async fn delete_service(&mut self, branch: i64, service: ServiceCode) -> Result<()> {
        let code = service.as_str();
        for sql in [
            "DELETE FROM window_services WHERE branch_id = ? AND service_code = ?",
            "DELETE FROM waiting_counts WHERE branch_id = ? AND service_code = ?",
            "DELETE FROM services WHERE branch_id = ? AND code = ?",
        ] {
            self.conn.execute(sql, params![branch, code])?;
        }
        Ok(())
    }

    async fn save_window(&mut self, branch: i64, w: &WindowDef, create: bool) -> Result<()> {
        let n = w.number.get();
        if create {
            self.conn.execute(
                "INSERT INTO windows (branch_id, number, name) VALUES (?, ?, ?)",
                params![branch, n, w.name],
            )?;
        } else {
            self.conn.execute(
                "UPDATE windows SET name = ? WHERE branch_id = ? AND number = ?",
                params![w.name, branch, n],
            )?;
        }
        self.conn.execute(
            "DELETE FROM window_services WHERE branch_id = ? AND window_number = ?",
            params![branch, n],
        )?;
        for (rank, (code, weight)) in w.skills.serves.iter().enumerate() {
            self.conn.execute(
                "INSERT INTO window_services (branch_id, window_number, service_code, rank, weight) VALUES (?, ?, ?, ?, ?)",
                params![branch, n, code.as_str(), rank as i64, weight],
            )?;
        }
        Ok(())
    }

    async fn save_hours(
        &mut self,
        branch: i64,
        time_zone: &str,
        weekly_json: &str,
        cutoff_mins: u16,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE branches SET time_zone = ?, weekly_hours = ?, cutoff_mins = ? WHERE id = ?",
            params![time_zone, weekly_json, cutoff_mins, branch],
        )?;
        Ok(())
    }

    async fn save_exception(&mut self, branch: i64, e: &Exception) -> Result<()> {
        let periods = serde_json::to_string(&e.periods).map_err(anyhow::Error::from)?;
        self.conn.execute(
            "INSERT INTO hour_exceptions (branch_id, day, periods, note) VALUES (?, ?, ?, ?) \
             ON CONFLICT (branch_id, day) DO UPDATE SET periods = excluded.periods, note = excluded.note",
            params![branch, e.date.format("%Y-%m-%d").to_string(), periods, e.note],
        )?;
        Ok(())
    }

    async fn delete_exception(&mut self, branch: i64, date: NaiveDate) -> Result<bool> {
        let n = self.conn.execute(
            "DELETE FROM hour_exceptions WHERE branch_id = ? AND day = ?",
            params![branch, date.format("%Y-%m-%d").to_string()],
        )?;
        Ok(n > 0)
    }

    async fn notices(&mut self, branch: i64) -> Result<Vec<NoticeRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, text_zh, text_zh_hant, text_en, starts_at, ends_at FROM notices \
             WHERE branch_id = ? ORDER BY id",
        )?;
        let rows = st.query_map([branch], |r| {
            Ok(NoticeRow {
                id: r.get(0)?,
                text: Localized {
                    zh: r.get(1)?,
                    zh_hant: r.get(2)?,
                    en: r.get(3)?,
                },
                starts_at: r.get::<_, Option<i64>>(4)?.map(from_ms),
                ends_at: r.get::<_, Option<i64>>(5)?.map(from_ms),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    async fn save_notice(&mut self, branch: i64, n: &NoticeRow) -> Result<i64> {
        let (s, e) = (n.starts_at.map(ms), n.ends_at.map(ms));
        if n.id == 0 {
            Ok(self.conn.query_row(
                "INSERT INTO notices (branch_id, text_zh, text_zh_hant, text_en, starts_at, ends_at) \
                 VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                params![branch, n.text.zh, n.text.zh_hant, n.text.en, s, e],
                |r| r.get(0),
            )?)
        } else {
            self.conn.execute(
                "UPDATE notices SET text_zh = ?, text_zh_hant = ?, text_en = ?, starts_at = ?, ends_at = ? \
                 WHERE branch_id = ? AND id = ?",
                params![n.text.zh, n.text.zh_hant, n.text.en, s, e, branch, n.id],
            )?;
            Ok(n.id)
        }
    }

    async fn delete_notice(&mut self, branch: i64, id: i64) -> Result<()> {
        self.conn.execute(
            "DELETE FROM notices WHERE branch_id = ? AND id = ?",
            params![branch, id],
        )?;
        Ok(())
    }

    async fn users(&mut self, branch: Option<i64>) -> Result<Vec<UserInfo>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE (?1 IS NULL OR branch_id = ?1) ORDER BY username"
        ))?;
        let rows = st.query_map([branch], user_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    async fn user_info(&mut self, id: i64) -> Result<Option<UserInfo>> {
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"))?
            .query_row([id], user_from_row)
            .optional()?)
    }

    async fn insert_user(&mut self, u: &NewUser, now: DateTime<Utc>) -> Result<i64> {
        Ok(self.conn.query_row(
            "INSERT INTO users (branch_id, username, display_name, password_hash, role, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            params![
                u.branch_id,
                u.username,
                u.display_name,
                u.password_hash,
                u.role.as_str(),
                ms(now)
            ],
            |r| r.get(0),
        )?)
    }

    async fn set_password(&mut self, id: i64, hash: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE users SET password_hash = ? WHERE id = ?",
            params![hash, id],
        )?;
        self.conn
            .execute("DELETE FROM sessions WHERE user_id = ?", [id])?;
        Ok(())
    }

    async fn deactivate_user(&mut self, id: i64) -> Result<Vec<String>> {
        self.conn
            .execute("UPDATE users SET active = 0 WHERE id = ?", [id])?;
        let hashes = self
            .conn
            .prepare_cached("DELETE FROM sessions WHERE user_id = ? RETURNING token_hash")?
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(hashes)
    }

    async fn devices(&mut self, branch: i64) -> Result<Vec<DeviceInfo>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE branch_id = ? ORDER BY active DESC, role, name, id"
        ))?;
        let rows = st.query_map([branch], device_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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
        Ok(self.conn.query_row(
            "INSERT INTO devices (branch_id, name, role, window_number, token_hash, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            params![
                branch,
                name,
                role.as_str(),
                window.map(WindowNo::get),
                token_hash,
                ms(now)
            ],
            |r| r.get(0),
        )?)
    }

    async fn revoke_device(
        &mut self,
        branch: i64,
        id: i64,
    ) -> Result<Option<(String, DeviceInfo)>> {
        let found = self
            .conn
            .prepare_cached(&format!(
                "SELECT token_hash, {DEVICE_COLUMNS} FROM devices WHERE branch_id = ? AND id = ? AND active = 1"
            ))?
            .query_row(params![branch, id], |r| {
                Ok((r.get::<_, String>("token_hash")?, device_from_row(r)?))
            })
            .optional()?;
        if found.is_some() {
            self.conn
                .execute("UPDATE devices SET active = 0 WHERE id = ?", [id])?;
        }
        Ok(found)
    }
}

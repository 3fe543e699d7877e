//! [`SettingsTx`] for PostgreSQL: the configuration's reads and writes.

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::api::Localized;
use qhall_shared::{ServiceCode, WindowNo};
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::tx::{PgTx, load_config};
use crate::hall::settings::{DeviceInfo, NewUser, NoticeRow, SettingsTx, UserInfo};
use crate::queue::ServiceDef;
use crate::queue::schedule::Exception;
use crate::store::sqlite::{from_ms, ms};
use crate::store::{BranchConfig, Result, Role, WindowDef};

fn user_from_row(r: &PgRow) -> Result<UserInfo> {
    Ok(UserInfo {
        id: r.try_get("id")?,
        branch_id: r.try_get("branch_id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role: r.try_get("role")?,
        active: r.try_get("active")?,
        created_at: from_ms(r.try_get("created_at")?),
    })
}

fn device_from_row(r: &PgRow) -> Result<DeviceInfo> {
    Ok(DeviceInfo {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        role: r.try_get("role")?,
        window: r
            .try_get::<Option<i64>, _>("window_number")?
            .and_then(|n| u32::try_from(n).ok()),
        active: r.try_get("active")?,
        created_at: from_ms(r.try_get("created_at")?),
        last_seen_at: r.try_get::<Option<i64>, _>("last_seen_at")?.map(from_ms),
        printer_state: r.try_get("printer_state")?,
    })
}

impl SettingsTx for PgTx<'_> {
    async fn bump_config(&mut self, branch: i64) -> Result<BranchConfig> {
        sqlx::query("UPDATE branches SET config_version = config_version + 1 WHERE id = $1")
            .bind(branch)
            .execute(&mut *self.conn)
            .await?;
        load_config(&mut *self.conn, branch).await
    }

    async fn live_tickets_of(&mut self, branch: i64, service: ServiceCode) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM tickets WHERE branch_id = $1 AND service_code = $2 \
             AND status IN ('waiting', 'called', 'serving')",
        )
        .bind(branch)
        .bind(service.as_str())
        .fetch_one(&mut *self.conn)
        .await?;
        Ok(n as u32)
    }

    async fn save_service(&mut self, branch: i64, s: &ServiceDef, create: bool) -> Result<()> {
        let sql = if create {
            "INSERT INTO services (branch_id, code, name_zh, name_zh_hant, name_en, guide_zh, guide_zh_hant, guide_en, \
             target_wait_secs, first_number, last_number, priority_allowed, default_service_secs, enabled, sort) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
             (SELECT COALESCE(MAX(sort), -1) + 1 FROM services WHERE branch_id = $1))"
        } else {
            "UPDATE services SET name_zh = $3, name_zh_hant = $4, name_en = $5, guide_zh = $6, guide_zh_hant = $7, \
             guide_en = $8, target_wait_secs = $9, first_number = $10, last_number = $11, priority_allowed = $12, \
             default_service_secs = $13, enabled = $14 WHERE branch_id = $1 AND code = $2"
        };
        sqlx::query(sql)
            .bind(branch)
            .bind(s.code.as_str())
            .bind(&s.name.zh)
            .bind(&s.name.zh_hant)
            .bind(&s.name.en)
            .bind(&s.guide.zh)
            .bind(&s.guide.zh_hant)
            .bind(&s.guide.en)
            .bind(i64::from(s.target_wait_secs))
            .bind(i64::from(s.first_number))
            .bind(i64::from(s.last_number))
            .bind(s.priority_allowed)
            .bind(i64::from(s.default_service_secs))
            .bind(s.enabled)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn delete_service(&mut self, branch: i64, service: ServiceCode) -> Result<()> {
        for sql in [
            "DELETE FROM window_services WHERE branch_id = $1 AND service_code = $2",
            "DELETE FROM waiting_counts WHERE branch_id = $1 AND service_code = $2",
            "DELETE FROM services WHERE branch_id = $1 AND code = $2",
        ] {
            sqlx::query(sql)
                .bind(branch)
                .bind(service.as_str())
                .execute(&mut *self.conn)
                .await?;
        }
        Ok(())
    }

    async fn save_window(&mut self, branch: i64, w: &WindowDef, create: bool) -> Result<()> {
        let n = i64::from(w.number.get());
        let sql = if create {
            "INSERT INTO windows (branch_id, number, name) VALUES ($1, $2, $3)"
        } else {
            "UPDATE windows SET name = $3 WHERE branch_id = $1 AND number = $2"
        };
        sqlx::query(sql)
            .bind(branch)
            .bind(n)
            .bind(&w.name)
            .execute(&mut *self.conn)
            .await?;
        sqlx::query("DELETE FROM window_services WHERE branch_id = $1 AND window_number = $2")
            .bind(branch)
            .bind(n)
            .execute(&mut *self.conn)
            .await?;
        for (rank, (code, weight)) in w.skills.serves.iter().enumerate() {
            sqlx::query(
                "INSERT INTO window_services (branch_id, window_number, service_code, rank, weight) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(branch)
            .bind(n)
            .bind(code.as_str())
            .bind(rank as i64)
            .bind(*weight)
            .execute(&mut *self.conn)
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
    ) -> Result<()> {
        sqlx::query(
            "UPDATE branches SET time_zone = $1, weekly_hours = $2, cutoff_mins = $3 WHERE id = $4",
        )
        .bind(time_zone)
        .bind(weekly_json)
        .bind(i64::from(cutoff_mins))
        .bind(branch)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn save_exception(&mut self, branch: i64, e: &Exception) -> Result<()> {
        let periods = serde_json::to_string(&e.periods).map_err(anyhow::Error::from)?;
        sqlx::query(
            "INSERT INTO hour_exceptions (branch_id, day, periods, note) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (branch_id, day) DO UPDATE SET periods = excluded.periods, note = excluded.note",
        )
        .bind(branch)
        .bind(e.date)
        .bind(periods)
        .bind(&e.note)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn delete_exception(&mut self, branch: i64, date: NaiveDate) -> Result<bool> {
        let r = sqlx::query("DELETE FROM hour_exceptions WHERE branch_id = $1 AND day = $2")
            .bind(branch)
            .bind(date)
            .execute(&mut *self.conn)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn notices(&mut self, branch: i64) -> Result<Vec<NoticeRow>> {
        sqlx::query(
            "SELECT id, text_zh, text_zh_hant, text_en, starts_at, ends_at FROM notices \
             WHERE branch_id = $1 ORDER BY id",
        )
        .bind(branch)
        .fetch_all(&mut *self.conn)
        .await?
        .iter()
        .map(|r| {
            Ok(NoticeRow {
                id: r.try_get("id")?,
                text: Localized {
                    zh: r.try_get("text_zh")?,
                    zh_hant: r.try_get("text_zh_hant")?,
                    en: r.try_get("text_en")?,
                },
                starts_at: r.try_get::<Option<i64>, _>("starts_at")?.map(from_ms),
                ends_at: r.try_get::<Option<i64>, _>("ends_at")?.map(from_ms),
            })
        })
        .collect()
    }

    async fn save_notice(&mut self, branch: i64, n: &NoticeRow) -> Result<i64> {
        let (s, e) = (n.starts_at.map(ms), n.ends_at.map(ms));
        if n.id == 0 {
            Ok(sqlx::query_scalar(
                "INSERT INTO notices (branch_id, text_zh, text_zh_hant, text_en, starts_at, ends_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(branch)
            .bind(&n.text.zh)
            .bind(&n.text.zh_hant)
            .bind(&n.text.en)
            .bind(s)
            .bind(e)
            .fetch_one(&mut *self.conn)
            .await?)
        } else {
            sqlx::query(
                "UPDATE notices SET text_zh = $1, text_zh_hant = $2, text_en = $3, starts_at = $4, ends_at = $5 \
                 WHERE branch_id = $6 AND id = $7",
            )
            .bind(&n.text.zh)
            .bind(&n.text.zh_hant)
            .bind(&n.text.en)
            .bind(s)
            .bind(e)
            .bind(branch)
            .bind(n.id)
            .execute(&mut *self.conn)
            .await?;
            Ok(n.id)
        }
    }

    async fn delete_notice(&mut self, branch: i64, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM notices WHERE branch_id = $1 AND id = $2")
            .bind(branch)
            .bind(id)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn users(&mut self, branch: Option<i64>) -> Result<Vec<UserInfo>> {
        sqlx::query(
            "SELECT id, branch_id, username, display_name, role, active, created_at FROM users \
             WHERE ($1::BIGINT IS NULL OR branch_id = $1) ORDER BY username",
        )
        .bind(branch)
        .fetch_all(&mut *self.conn)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn user_info(&mut self, id: i64) -> Result<Option<UserInfo>> {
        sqlx::query(
            "SELECT id, branch_id, username, display_name, role, active, created_at FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *self.conn)
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    async fn insert_user(&mut self, u: &NewUser, now: DateTime<Utc>) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO users (branch_id, username, display_name, password_hash, role, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(u.branch_id)
        .bind(&u.username)
        .bind(&u.display_name)
        .bind(&u.password_hash)
        .bind(u.role.as_str())
        .bind(ms(now))
        .fetch_one(&mut *self.conn)
        .await?)
    }

    async fn set_password(&mut self, id: i64, hash: &str) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id)
            .execute(&mut *self.conn)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn deactivate_user(&mut self, id: i64) -> Result<Vec<String>> {
        sqlx::query("UPDATE users SET active = FALSE WHERE id = $1")
            .bind(id)
            .execute(&mut *self.conn)
            .await?;
        Ok(
            sqlx::query_scalar("DELETE FROM sessions WHERE user_id = $1 RETURNING token_hash")
                .bind(id)
                .fetch_all(&mut *self.conn)
                .await?,
        )
    }

    async fn devices(&mut self, branch: i64) -> Result<Vec<DeviceInfo>> {
        sqlx::query(
            "SELECT id, name, role, window_number, active, created_at, last_seen_at, printer_state \
             FROM devices WHERE branch_id = $1 ORDER BY active DESC, role, name, id",
        )
        .bind(branch)
        .fetch_all(&mut *self.conn)
        .await?
        .iter()
        .map(device_from_row)
        .collect()
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
        Ok(sqlx::query_scalar(
            "INSERT INTO devices (branch_id, name, role, window_number, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(branch)
        .bind(name)
        .bind(role.as_str())
        .bind(window.map(|w| i64::from(w.get())))
        .bind(token_hash)
        .bind(ms(now))
        .fetch_one(&mut *self.conn)
        .await?)
    }

    async fn revoke_device(
        &mut self,
        branch: i64,
        id: i64,
    ) -> Result<Option<(String, DeviceInfo)>> {
        let row = sqlx::query(
            "UPDATE devices SET active = FALSE WHERE branch_id = $1 AND id = $2 AND active \
             RETURNING token_hash, id, name, role, window_number, active, created_at, last_seen_at, printer_state",
        )
        .bind(branch)
        .bind(id)
        .fetch_optional(&mut *self.conn)
        .await?;
        match row {
            Some(r) => Ok(Some((r.try_get("token_hash")?, device_from_row(&r)?))),
            None => Ok(None),
        }
    }
}

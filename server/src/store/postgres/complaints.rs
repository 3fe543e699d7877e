//! [`ComplaintsTx`] for PostgreSQL (the SQL of `sqlite/complaints.rs` with numbered parameters).

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Row};

use super::PgTx;
use crate::hall::complaints::{
    BranchPerson, ComplaintRow, ComplaintStatus, ComplaintsTx, DEFAULT_RETENTION_DAYS, LIST_LIMIT,
    NewNote, NoteRow,
};
use crate::store::Result;
use crate::store::sqlite::from_ms;
use crate::store::sqlite::ms;

const COMPLAINT_SELECT: &str = "SELECT c.id, t.number, c.window_number, c.staff_user_id, \
     CASE WHEN s.display_name = '' THEN s.username ELSE s.display_name END, c.category, c.description, \
     c.contact, c.status, c.assigned_to, \
     CASE WHEN a.id IS NULL THEN NULL WHEN a.display_name = '' THEN a.username ELSE a.display_name END, \
     c.resolution, c.resolved_at, c.created_at, c.due_at \
     FROM complaints c LEFT JOIN tickets t ON t.key = c.ticket_key \
     JOIN users s ON s.id = c.staff_user_id LEFT JOIN users a ON a.id = c.assigned_to";

fn complaint_from_row(r: &PgRow) -> Result<ComplaintRow> {
    let status: String = r.try_get(8)?;
    Ok(ComplaintRow {
        id: r.try_get(0)?,
        ticket: r.try_get(1)?,
        window: r.try_get(2)?,
        taken_by: r.try_get(3)?,
        taken_by_name: r.try_get(4)?,
        category: r.try_get(5)?,
        description: r.try_get(6)?,
        contact: r.try_get(7)?,
        status: ComplaintStatus::from_db(&status),
        assigned_to: r.try_get(9)?,
        assigned_name: r.try_get(10)?,
        resolution: r.try_get(11)?,
        resolved_at: r.try_get::<Option<i64>, _>(12)?.map(from_ms),
        created_at: from_ms(r.try_get(13)?),
        due_at: from_ms(r.try_get(14)?),
        overdue: false,
    })
}

impl ComplaintsTx for PgTx<'_> {
    async fn complaints(
        &mut self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ComplaintRow>> {
        let q = format!(
            "{COMPLAINT_SELECT} WHERE c.branch_id = $1 AND c.created_at >= $2 AND c.created_at < $3 \
             ORDER BY c.created_at DESC, c.id DESC LIMIT $4"
        );
        sqlx::query(AssertSqlSafe(q))
            .bind(branch)
            .bind(ms(from))
            .bind(ms(to))
            .bind(LIST_LIMIT)
            .fetch_all(&mut *self.conn)
            .await?
            .iter()
            .map(complaint_from_row)
            .collect()
    }

    async fn complaint(&mut self, branch: i64, id: i64) -> Result<Option<ComplaintRow>> {
        let q = format!("{COMPLAINT_SELECT} WHERE c.branch_id = $1 AND c.id = $2");
        sqlx::query(AssertSqlSafe(q))
            .bind(branch)
            .bind(id)
            .fetch_optional(&mut *self.conn)
            .await?
            .as_ref()
            .map(complaint_from_row)
            .transpose()
    }

    async fn complaints_history(&mut self, id: i64) -> Result<Vec<NoteRow>> {
        let rows = sqlx::query(
            "SELECT n.at, n.user_id, \
             CASE WHEN u.id IS NULL THEN NULL WHEN u.display_name = '' THEN u.username ELSE u.display_name END, \
             n.text, n.from_status, n.to_status, n.assigned_to, \
             CASE WHEN a.id IS NULL THEN NULL WHEN a.display_name = '' THEN a.username ELSE a.display_name END \
             FROM complaints_history n LEFT JOIN users u ON u.id = n.user_id LEFT JOIN users a ON a.id = n.assigned_to \
             WHERE n.complaint_id = $1 ORDER BY n.id",
        )
        .bind(id)
        .fetch_all(&mut *self.conn)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NoteRow {
                    at: from_ms(r.try_get(0)?),
                    by: r.try_get(1)?,
                    by_name: r.try_get(2)?,
                    text: r.try_get(3)?,
                    from_status: r
                        .try_get::<Option<String>, _>(4)?
                        .map(|s| ComplaintStatus::from_db(&s)),
                    to_status: r
                        .try_get::<Option<String>, _>(5)?
                        .map(|s| ComplaintStatus::from_db(&s)),
                    assigned_to: r.try_get(6)?,
                    assigned_name: r.try_get(7)?,
                })
            })
            .collect()
    }

    async fn update_complaint(&mut self, c: &ComplaintRow) -> Result<()> {
        sqlx::query(
            "UPDATE complaints SET status = $1, assigned_to = $2, resolution = $3, resolved_at = $4 WHERE id = $5",
        )
        .bind(c.status.db())
        .bind(c.assigned_to)
        .bind(&c.resolution)
        .bind(c.resolved_at.map(ms))
        .bind(c.id)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn insert_complaint_note(&mut self, n: &NewNote<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO complaints_history (complaint_id, user_id, at, text, from_status, to_status, assigned_to) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(n.complaint)
        .bind(n.user)
        .bind(ms(n.at))
        .bind(n.text)
        .bind(n.change.map(|(f, _)| f.db()))
        .bind(n.change.map(|(_, t)| t.db()))
        .bind(n.assigned_to)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn assignable(&mut self, branch: i64) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, CASE WHEN display_name = '' THEN username ELSE display_name END AS name \
             FROM users WHERE branch_id = $1 AND active AND role IN ('staff', 'manager') ORDER BY role DESC, name, id",
        )
        .bind(branch)
        .fetch_all(&mut *self.conn)
        .await?)
    }

    async fn branch_person(&mut self, branch: i64, user: i64) -> Result<Option<BranchPerson>> {
        let r = sqlx::query(
            "SELECT CASE WHEN display_name = '' THEN username ELSE display_name END, role, active \
             FROM users WHERE id = $1 AND (branch_id = $2 OR branch_id IS NULL)",
        )
        .bind(user)
        .bind(branch)
        .fetch_optional(&mut *self.conn)
        .await?;
        r.map(|r| {
            Ok(BranchPerson {
                name: r.try_get(0)?,
                role: r.try_get(1)?,
                active: r.try_get(2)?,
            })
        })
        .transpose()
    }

    async fn retention_days(&mut self, branch: i64) -> Result<u32> {
        let v: Option<i64> = sqlx::query_scalar(
            "SELECT complaint_retention_days FROM people_settings WHERE branch_id = $1",
        )
        .bind(branch)
        .fetch_optional(&mut *self.conn)
        .await?;
        Ok(v.and_then(|d| u32::try_from(d).ok())
            .unwrap_or(DEFAULT_RETENTION_DAYS))
    }

    async fn set_retention_days(&mut self, branch: i64, days: u32) -> Result<()> {
        sqlx::query(
            "INSERT INTO people_settings (branch_id, complaint_retention_days) VALUES ($1, $2) \
             ON CONFLICT (branch_id) DO UPDATE SET complaint_retention_days = excluded.complaint_retention_days",
        )
        .bind(branch)
        .bind(i64::from(days))
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn purge_contacts(&mut self, branch: i64, before: DateTime<Utc>) -> Result<Vec<i64>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT c.id FROM complaints c WHERE c.branch_id = $1 \
             AND (CASE WHEN c.status = 'resolved' THEN c.resolved_at ELSE c.created_at END) < $2 \
             AND (c.contact IS NOT NULL OR c.description <> '' OR c.resolution IS NOT NULL \
                  OR EXISTS (SELECT 1 FROM complaints_history h WHERE h.complaint_id = c.id AND h.text <> '')) \
             ORDER BY c.id",
        )
        .bind(branch)
        .bind(ms(before))
        .fetch_all(&mut *self.conn)
        .await?;
        if !ids.is_empty() {
            sqlx::query(
                "UPDATE complaints SET contact = NULL, description = '', resolution = NULL \
                 WHERE id = ANY($1)",
            )
            .bind(&ids)
            .execute(&mut *self.conn)
            .await?;
            sqlx::query("UPDATE complaints_history SET text = '' WHERE complaint_id = ANY($1)")
                .bind(&ids)
                .execute(&mut *self.conn)
                .await?;
        }
        Ok(ids)
    }
}

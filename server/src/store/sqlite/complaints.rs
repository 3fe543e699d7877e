//! [`ComplaintsTx`] for SQLite.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteTx, from_ms, ms};
use crate::hall::complaints::{
    BranchPerson, ComplaintRow, ComplaintStatus, ComplaintsTx, DEFAULT_RETENTION_DAYS, LIST_LIMIT,
    NewNote, NoteRow,
};
use crate::store::Result;

/// The register's columns, with the ticket number and the people's names joined in.
pub(crate) const COMPLAINT_SELECT: &str = "SELECT c.id, t.number, c.window_number, c.staff_user_id, \
     CASE WHEN s.display_name = '' THEN s.username ELSE s.display_name END, c.category, c.description, \
     c.contact, c.status, c.assigned_to, \
     CASE WHEN a.id IS NULL THEN NULL WHEN a.display_name = '' THEN a.username ELSE a.display_name END, \
     c.resolution, c.resolved_at, c.created_at, c.due_at \
     FROM complaints c LEFT JOIN tickets t ON t.key = c.ticket_key \
     JOIN users s ON s.id = c.staff_user_id LEFT JOIN users a ON a.id = c.assigned_to";

/// The history's columns.
pub(crate) const NOTE_SELECT: &str = "SELECT n.at, n.user_id, \
     CASE WHEN u.id IS NULL THEN NULL WHEN u.display_name = '' THEN u.username ELSE u.display_name END, \
     n.text, n.from_status, n.to_status, n.assigned_to, \
     CASE WHEN a.id IS NULL THEN NULL WHEN a.display_name = '' THEN a.username ELSE a.display_name END \
     FROM complaints_history n LEFT JOIN users u ON u.id = n.user_id LEFT JOIN users a ON a.id = n.assigned_to \
     WHERE n.complaint_id = ? ORDER BY n.id";

/// The active staff and managers of a branch, by name.
pub(crate) const ASSIGNABLE: &str = "SELECT id, CASE WHEN display_name = '' THEN username ELSE display_name END AS name \
     FROM users WHERE branch_id = ? AND active <> 0 AND role IN ('staff', 'manager') ORDER BY role DESC, name, id";

fn complaint_from_row(r: &Row<'_>) -> rusqlite::Result<ComplaintRow> {
    let status: String = r.get(8)?;
    Ok(ComplaintRow {
        id: r.get(0)?,
        ticket: r.get(1)?,
        window: r.get(2)?,
        taken_by: r.get(3)?,
        taken_by_name: r.get(4)?,
        category: r.get(5)?,
        description: r.get(6)?,
        contact: r.get(7)?,
        status: ComplaintStatus::from_db(&status),
        assigned_to: r.get(9)?,
        assigned_name: r.get(10)?,
        resolution: r.get(11)?,
        resolved_at: r.get::<_, Option<i64>>(12)?.map(from_ms),
        created_at: from_ms(r.get(13)?),
        due_at: from_ms(r.get(14)?),
        overdue: false,
    })
}

impl ComplaintsTx for SqliteTx<'_> {
    async fn complaints(
        &mut self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ComplaintRow>> {
        let q = format!(
            "{COMPLAINT_SELECT} WHERE c.branch_id = ? AND c.created_at >= ? AND c.created_at < ? \
             ORDER BY c.created_at DESC, c.id DESC LIMIT ?"
        );
        let mut st = self.conn.prepare_cached(&q)?;
        let rows = st.query_map(
            params![branch, ms(from), ms(to), LIST_LIMIT],
            complaint_from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    async fn complaint(&mut self, branch: i64, id: i64) -> Result<Option<ComplaintRow>> {
        let q = format!("{COMPLAINT_SELECT} WHERE c.branch_id = ? AND c.id = ?");
        Ok(self
            .conn
            .prepare_cached(&q)?
            .query_row(params![branch, id], complaint_from_row)
            .optional()?)
    }

    async fn complaints_history(&mut self, id: i64) -> Result<Vec<NoteRow>> {
        let mut st = self.conn.prepare_cached(NOTE_SELECT)?;
        let rows = st.query_map([id], |r| {
            Ok(NoteRow {
                at: from_ms(r.get(0)?),
                by: r.get(1)?,
                by_name: r.get(2)?,
                text: r.get(3)?,
                from_status: r
                    .get::<_, Option<String>>(4)?
                    .map(|s| ComplaintStatus::from_db(&s)),
                to_status: r
                    .get::<_, Option<String>>(5)?
                    .map(|s| ComplaintStatus::from_db(&s)),
                assigned_to: r.get(6)?,
                assigned_name: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    async fn update_complaint(&mut self, c: &ComplaintRow) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE complaints SET status = ?, assigned_to = ?, resolution = ?, resolved_at = ? WHERE id = ?",
            )?
            .execute(params![
                c.status.db(),
                c.assigned_to,
                c.resolution,
                c.resolved_at.map(ms),
                c.id
            ])?;
        Ok(())
    }

    async fn insert_complaint_note(&mut self, n: &NewNote<'_>) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO complaints_history (complaint_id, user_id, at, text, from_status, to_status, assigned_to) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                n.complaint,
                n.user,
                ms(n.at),
                n.text,
                n.change.map(|(f, _)| f.db()),
                n.change.map(|(_, t)| t.db()),
                n.assigned_to
            ])?;
        Ok(())
    }

    async fn assignable(&mut self, branch: i64) -> Result<Vec<(i64, String)>> {
        let mut st = self.conn.prepare_cached(ASSIGNABLE)?;
        let rows = st.query_map([branch], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    async fn branch_person(&mut self, branch: i64, user: i64) -> Result<Option<BranchPerson>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT CASE WHEN display_name = '' THEN username ELSE display_name END, role, active \
                 FROM users WHERE id = ? AND (branch_id = ? OR branch_id IS NULL)",
            )?
            .query_row(params![user, branch], |r| {
                Ok(BranchPerson {
                    name: r.get(0)?,
                    role: r.get(1)?,
                    active: r.get::<_, i64>(2)? != 0,
                })
            })
            .optional()?)
    }

    async fn retention_days(&mut self, branch: i64) -> Result<u32> {
        let v: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT complaint_retention_days FROM people_settings WHERE branch_id = ?",
            )?
            .query_row([branch], |r| r.get(0))
            .optional()?;
        Ok(v.and_then(|d| u32::try_from(d).ok())
            .unwrap_or(DEFAULT_RETENTION_DAYS))
    }

    async fn set_retention_days(&mut self, branch: i64, days: u32) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO people_settings (branch_id, complaint_retention_days) VALUES (?, ?) \
                 ON CONFLICT (branch_id) DO UPDATE SET complaint_retention_days = excluded.complaint_retention_days",
            )?
            .execute(params![branch, days])?;
        Ok(())
    }

    async fn purge_contacts(&mut self, branch: i64, before: DateTime<Utc>) -> Result<Vec<i64>> {
        let due: Vec<i64> = {
            let mut st = self.conn.prepare_cached(PURGE_DUE)?;
            let rows = st.query_map(params![branch, ms(before)], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut clear = self.conn.prepare_cached(
            "UPDATE complaints SET contact = NULL, description = '', resolution = NULL WHERE id = ?",
        )?;
        let mut notes = self
            .conn
            .prepare_cached("UPDATE complaints_history SET text = '' WHERE complaint_id = ?")?;
        for id in &due {
            clear.execute([id])?;
            notes.execute([id])?;
        }
        Ok(due)
    }
}

/// The complaints past their retention (resolved before `?2`, or unresolved and taken before
/// it) that still hold personal data: a contact, a description, a resolution or a note.
const PURGE_DUE: &str = "SELECT c.id FROM complaints c WHERE c.branch_id = ?1 \
     AND (CASE WHEN c.status = 'resolved' THEN c.resolved_at ELSE c.created_at END) < ?2 \
     AND (c.contact IS NOT NULL OR c.description <> '' OR c.resolution IS NOT NULL \
          OR EXISTS (SELECT 1 FROM complaints_history h WHERE h.complaint_id = c.id AND h.text <> '')) \
     ORDER BY c.id";

//! [`ComplaintsTx`], the register's reads and writes, once for both databases.

use chrono::{DateTime, Utc};

use super::sql::{Columns, Sql};
use crate::hall::complaints::{
    BranchPerson, ComplaintRow, ComplaintStatus, ComplaintsTx, DEFAULT_RETENTION_DAYS, LIST_LIMIT,
    NewNote, NoteRow,
};
use crate::store::Result;

/// A person's name as lists show it: the display name, else the username.
macro_rules! name_of {
    ($t:literal) => {
        concat!(
            "CASE WHEN ",
            $t,
            ".id IS NULL THEN NULL WHEN ",
            $t,
            ".display_name = '' THEN ",
            $t,
            ".username ELSE ",
            $t,
            ".display_name END"
        )
    };
}

/// The register's columns, with the ticket number and the people's names joined in.
macro_rules! complaint_select {
    ($tail:literal) => {
        concat!(
            "SELECT c.id, t.number, c.window_number, c.staff_user_id, ",
            name_of!("s"),
            " AS taken_by_name, c.category, c.description, c.contact, c.status, c.assigned_to, ",
            name_of!("a"),
            " AS assigned_name, c.resolution, c.outcome, c.resolved_at, c.created_at, c.due_at, c.source, c.kind, \
             c.about_user_id, ",
            name_of!("b"),
            " AS about_name, c.service_code, c.called_back_at \
             FROM complaints c LEFT JOIN tickets t ON t.key = c.ticket_key \
             LEFT JOIN users s ON s.id = c.staff_user_id LEFT JOIN users a ON a.id = c.assigned_to \
             LEFT JOIN users b ON b.id = c.about_user_id ",
            $tail
        )
    };
}

fn complaint_from(r: &dyn Columns) -> Result<ComplaintRow> {
    Ok(ComplaintRow {
        id: r.int("id")?,
        ticket: r.opt_text("number")?,
        window: r.opt_int("window_number")?,
        taken_by: r.opt_int("staff_user_id")?,
        taken_by_name: r.opt_text("taken_by_name")?,
        source: r.text("source")?,
        kind: r.text("kind")?,
        about: r.opt_int("about_user_id")?,
        about_name: r.opt_text("about_name")?,
        service: r.opt_text("service_code")?,
        called_back_at: r.opt_time("called_back_at")?,
        category: r.text("category")?,
        description: r.text("description")?,
        contact: r.opt_text("contact")?,
        status: ComplaintStatus::from_db(&r.text("status")?),
        assigned_to: r.opt_int("assigned_to")?,
        assigned_name: r.opt_text("assigned_name")?,
        resolution: r.opt_text("resolution")?,
        outcome: r.opt_text("outcome")?,
        resolved_at: r.opt_time("resolved_at")?,
        created_at: r.time("created_at")?,
        due_at: r.time("due_at")?,
        overdue: false,
    })
}

fn status(v: Option<String>) -> Option<ComplaintStatus> {
    v.map(|s| ComplaintStatus::from_db(&s))
}

impl<T: Sql> ComplaintsTx for T {
    async fn complaints(
        &mut self,
        branch: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ComplaintRow>> {
        self.rows(
            complaint_select!(
                "WHERE c.branch_id = ? AND c.created_at >= ? AND c.created_at < ? \
                 ORDER BY c.created_at DESC, c.id DESC LIMIT ?"
            ),
            args![branch, from, to, LIST_LIMIT],
            complaint_from,
        )
        .await
    }

    async fn complaint(&mut self, branch: i64, id: i64) -> Result<Option<ComplaintRow>> {
        self.row(
            complaint_select!("WHERE c.branch_id = ? AND c.id = ?"),
            args![branch, id],
            complaint_from,
        )
        .await
    }

    async fn complaints_history(&mut self, id: i64) -> Result<Vec<NoteRow>> {
        self.rows(
            concat!(
                "SELECT n.at, n.user_id, ",
                name_of!("u"),
                " AS by_name, n.text, n.from_status, n.to_status, n.assigned_to, ",
                name_of!("a"),
                " AS assigned_name FROM complaints_history n LEFT JOIN users u ON u.id = n.user_id \
                 LEFT JOIN users a ON a.id = n.assigned_to WHERE n.complaint_id = ? ORDER BY n.id"
            ),
            args![id],
            |r| {
                Ok(NoteRow {
                    at: r.time("at")?,
                    by: r.opt_int("user_id")?,
                    by_name: r.opt_text("by_name")?,
                    text: r.text("text")?,
                    from_status: status(r.opt_text("from_status")?),
                    to_status: status(r.opt_text("to_status")?),
                    assigned_to: r.opt_int("assigned_to")?,
                    assigned_name: r.opt_text("assigned_name")?,
                })
            },
        )
        .await
    }

    async fn update_complaint(&mut self, c: &ComplaintRow) -> Result<()> {
        self.execute(
            "UPDATE complaints SET status = ?, assigned_to = ?, resolution = ?, resolved_at = ?, \
             called_back_at = ?, outcome = ?, about_user_id = ? WHERE id = ?",
            args![
                c.status.db(),
                c.assigned_to,
                &c.resolution,
                c.resolved_at,
                c.called_back_at,
                &c.outcome,
                c.about,
                c.id
            ],
        )
        .await?;
        Ok(())
    }

    async fn insert_complaint_note(&mut self, n: &NewNote<'_>) -> Result<()> {
        self.execute(
            "INSERT INTO complaints_history (complaint_id, user_id, at, text, from_status, to_status, assigned_to) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            args![
                n.complaint,
                n.user,
                n.at,
                n.text,
                n.change.map(|(f, _)| f.db()),
                n.change.map(|(_, t)| t.db()),
                n.assigned_to
            ],
        )
        .await?;
        Ok(())
    }

    async fn assignable(&mut self, branch: i64) -> Result<Vec<(i64, String)>> {
        self.rows(
            "SELECT id, CASE WHEN display_name = '' THEN username ELSE display_name END AS name \
             FROM users WHERE branch_id = ? AND active AND role IN ('staff', 'manager') \
             ORDER BY role DESC, name, id",
            args![branch],
            |r| Ok((r.int("id")?, r.text("name")?)),
        )
        .await
    }

    async fn branch_person(&mut self, branch: i64, user: i64) -> Result<Option<BranchPerson>> {
        self.row(
            "SELECT CASE WHEN display_name = '' THEN username ELSE display_name END AS name, role, active \
             FROM users WHERE id = ? AND (branch_id = ? OR branch_id IS NULL)",
            args![user, branch],
            |r| {
                Ok(BranchPerson {
                    name: r.text("name")?,
                    role: r.text("role")?,
                    active: r.flag("active")?,
                })
            },
        )
        .await
    }

    async fn retention_days(&mut self, branch: i64) -> Result<u32> {
        let v = self
            .int(
                "SELECT complaint_retention_days FROM people_settings WHERE branch_id = ?",
                args![branch],
            )
            .await?;
        Ok(v.and_then(|d| u32::try_from(d).ok())
            .unwrap_or(DEFAULT_RETENTION_DAYS))
    }

    async fn set_retention_days(&mut self, branch: i64, days: u32) -> Result<()> {
        self.execute(
            "INSERT INTO people_settings (branch_id, complaint_retention_days) VALUES (?, ?) \
             ON CONFLICT (branch_id) DO UPDATE SET complaint_retention_days = excluded.complaint_retention_days",
            args![branch, days],
        )
        .await?;
        Ok(())
    }

    async fn purge_contacts(&mut self, branch: i64, before: DateTime<Utc>) -> Result<Vec<i64>> {
        // Past their retention (resolved before `before`, or unresolved and taken before it)
        // and still holding personal data: a contact, a description, a resolution or a note.
        let due = self
            .rows(
                "SELECT c.id FROM complaints c WHERE c.branch_id = ? \
                 AND (CASE WHEN c.status = 'resolved' THEN c.resolved_at ELSE c.created_at END) < ? \
                 AND (c.contact IS NOT NULL OR c.description <> '' OR c.resolution IS NOT NULL \
                      OR EXISTS (SELECT 1 FROM complaints_history h WHERE h.complaint_id = c.id AND h.text <> '')) \
                 ORDER BY c.id",
                args![branch, before],
                |r| r.int("id"),
            )
            .await?;
        for id in &due {
            self.execute(
                "UPDATE complaints SET contact = NULL, description = '', resolution = NULL WHERE id = ?",
                args![*id],
            )
            .await?;
            self.execute(
                "UPDATE complaints_history SET text = '' WHERE complaint_id = ?",
                args![*id],
            )
            .await?;
        }
        Ok(due)
    }
}

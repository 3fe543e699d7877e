//! People and devices outside the hall's operations: logins, sessions, the accounts and device
//! tokens made from the command line — written once over [`Sql`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use qhall_shared::WindowNo;

use super::settings::{NewUser, SettingsTx};
use super::sql::Sql;
use super::{Principal, Result, Role, UserRow};

pub async fn user_by_name(tx: &mut impl Sql, username: &str) -> Result<Option<UserRow>> {
    tx.row(
        "SELECT id, branch_id, username, password_hash, role, active FROM users WHERE username = ?",
        args![username],
        |r| {
            Ok(UserRow {
                id: r.int("id")?,
                branch_id: r.opt_int("branch_id")?,
                username: r.text("username")?,
                password_hash: r.text("password_hash")?,
                role: Role::parse(&r.text("role")?).unwrap_or(Role::Staff),
                active: r.flag("active")?,
            })
        },
    )
    .await
}

pub async fn username(tx: &mut impl Sql, user: i64) -> Result<Option<String>> {
    tx.row(
        "SELECT username FROM users WHERE id = ?",
        args![user],
        |r| r.text("username"),
    )
    .await
}

/// The caller a token hash belongs to: a live session of an active user, or an active device.
pub async fn principal(
    tx: &mut impl Sql,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Principal>> {
    let person = tx
        .row(
            "SELECT u.id, CASE WHEN u.role = 'admin' THEN COALESCE(s.branch_id, u.branch_id) \
             ELSE u.branch_id END AS branch_id, u.role, u.username \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ? AND u.active",
            args![token_hash, now],
            |r| {
                Ok(Principal {
                    role: Role::parse(&r.text("role")?).unwrap_or(Role::Staff),
                    branch_id: r.opt_int("branch_id")?.unwrap_or(1),
                    user_id: Some(r.int("id")?),
                    device_id: None,
                    username: Some(r.text("username")?),
                })
            },
        )
        .await?;
    if person.is_some() {
        return Ok(person);
    }
    tx.row(
        "SELECT id, branch_id, role FROM devices WHERE token_hash = ? AND active",
        args![token_hash],
        |r| {
            Ok(Principal {
                role: Role::parse(&r.text("role")?).unwrap_or(Role::Display),
                branch_id: r.int("branch_id")?,
                user_id: None,
                device_id: Some(r.int("id")?),
                username: None,
            })
        },
    )
    .await
}

/// Starts a session, and ends every expired one.
pub async fn insert_session(
    tx: &mut impl Sql,
    token_hash: &str,
    user: i64,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        args![token_hash, user, now, expires],
    )
    .await?;
    tx.execute("DELETE FROM sessions WHERE expires_at < ?", args![now])
        .await?;
    Ok(())
}

pub async fn delete_session(tx: &mut impl Sql, token_hash: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM sessions WHERE token_hash = ?",
        args![token_hash],
    )
    .await?;
    Ok(())
}

/// An account made from the command line (`qhall-server user add`): its display name is its
/// username.
pub async fn add_user(
    tx: &mut impl SettingsTx,
    branch: Option<i64>,
    username: &str,
    password_hash: &str,
    role: Role,
    now: DateTime<Utc>,
) -> Result<i64> {
    let user = NewUser {
        branch_id: branch,
        username: username.to_owned(),
        display_name: username.to_owned(),
        role,
        password_hash: password_hash.to_owned(),
    };
    tx.insert_user(&user, now).await
}

/// Adds a device from the command line; `window` is a pad's (checked by the caller).
pub async fn add_device(
    tx: &mut impl SettingsTx,
    branch: i64,
    name: &str,
    (role, window): (Role, Option<WindowNo>),
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    tx.insert_device(branch, name, role, window, token_hash, now)
        .await
}

/// What a kiosk last said about its printer.
pub async fn set_device_state(
    tx: &mut impl Sql,
    device: i64,
    printer: &str,
    detail: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE devices SET printer_state = ?, printer_detail = ?, last_seen_at = ? WHERE id = ?",
        args![printer, detail, now, device],
    )
    .await?;
    Ok(())
}

pub async fn count_users(tx: &mut impl Sql) -> Result<i64> {
    Ok(tx
        .int("SELECT COUNT(*) FROM users", &[])
        .await?
        .unwrap_or(0))
}

/// Display names of the branch's people, for the staff table.
pub async fn staff_names(tx: &mut impl Sql, branch: i64) -> Result<HashMap<i64, String>> {
    let rows = tx
        .rows(
            "SELECT id, CASE WHEN display_name = '' THEN username ELSE display_name END AS name \
             FROM users WHERE branch_id = ? OR branch_id IS NULL",
            args![branch],
            |r| Ok((r.int("id")?, r.text("name")?)),
        )
        .await?;
    Ok(rows.into_iter().collect())
}

/// Points an admin's session at `branch` (the manager pages' switcher); 404 `unknown_branch`
/// for a branch that does not exist.
pub async fn set_session_branch(tx: &mut impl Sql, token_hash: &str, branch: i64) -> Result<()> {
    let known = tx
        .int("SELECT 1 FROM branches WHERE id = ?", args![branch])
        .await?;
    if known.is_none() {
        return Err(super::tx::unknown_branch(branch));
    }
    tx.execute(
        "UPDATE sessions SET branch_id = ? WHERE token_hash = ?",
        args![branch, token_hash],
    )
    .await?;
    Ok(())
}

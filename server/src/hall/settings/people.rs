//! People and devices: accounts of staff and managers, kiosks, boards and rating pads.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::*;

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

/// Gives an account a new password (hashed already) and ends all its sessions, the caller's
/// own too when it is their account. The password is never audited.
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

/// Registers a kiosk, board or rating pad under a token's hash. A pad is bound to one window
/// of the branch, which must exist; kiosks and boards to none.
pub async fn create_device<T: SettingsTx>(
    tx: &mut T,
    who: &Principal,
    name: &str,
    (role, window): (Role, Option<WindowNo>),
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
        return Err(invalid(
            "invalid_role",
            "a device is a kiosk, a display, a pad or a booking portal",
        ));
    }
    match (role, window) {
        (Role::Pad, None) => {
            return Err(invalid(
                "window_required",
                "a rating pad is bound to one window: give its number",
            ));
        }
        (Role::Pad, Some(n)) => {
            if tx.config(who.branch_id).await?.window(n).is_none() {
                return Err(StoreError::not_found(
                    "unknown_window",
                    format!("there is no window {n}"),
                ));
            }
        }
        (_, Some(_)) => {
            return Err(invalid(
                "window_not_allowed",
                "only a rating pad is bound to a window",
            ));
        }
        (_, None) => {}
    }
    let id = tx
        .insert_device(who.branch_id, name, role, window, token_hash, now)
        .await?;
    audit_change(
        tx,
        who,
        now,
        "device.create",
        ("device", json!(id)),
        None,
        Some(json!({ "name": name, "role": role.as_str(), "window": window.map(WindowNo::get) })),
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
        Some(json!({ "name": d.name, "role": d.role, "window": d.window, "active": true })),
        Some(json!({ "active": false })),
    )
    .await?;
    Ok(hash)
}

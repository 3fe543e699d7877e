//! The emergency broadcast: kiosks stop issuing and every board and kiosk shows the message.

use chrono::{DateTime, Utc};
use qhall_shared::events::Event;

use super::Outbox;
use super::window::announce_opening;
use crate::store::{AuditEntry, Principal, Result, StoreError, Tx};

/// The longest emergency message: one screen of a board.
pub const EMERGENCY_MAX_CHARS: usize = 200;

/// Turns the emergency broadcast on (`Some(message)`: kiosks stop issuing, every board and
/// kiosk shows the message) or off (`None`), announces it on the stream, and audits it.
pub async fn set_emergency<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let message = message.map(str::trim);
    if let Some(m) = message {
        if m.is_empty() {
            return Err(StoreError::invalid(
                "invalid_message",
                "an emergency broadcast needs a message",
            ));
        }
        if m.chars().count() > EMERGENCY_MAX_CHARS {
            return Err(StoreError::invalid(
                "invalid_message",
                format!("an emergency message is at most {EMERGENCY_MAX_CHARS} characters"),
            ));
        }
    }
    let branch = who.branch_id;
    let before = tx.config(branch).await?;
    let was_open = before.schedule.state_at(now).is_open() && before.emergency.is_none();
    tx.set_emergency(branch, message).await?;
    tx.audit(&AuditEntry {
        branch,
        user: who.user_id,
        at: now,
        action: if message.is_some() {
            "emergency.on"
        } else {
            "emergency.off"
        },
        detail: serde_json::json!({ "message": message }).to_string(),
    })
    .await?;
    out.emit(
        tx,
        branch,
        now,
        Event::Emergency {
            message: message.map(str::to_owned),
        },
    )
    .await?;
    announce_opening(tx, out, branch, Some(was_open), now).await?;
    Ok(())
}

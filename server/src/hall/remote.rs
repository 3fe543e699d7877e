//! Tickets from the phone: a service with `remote_tickets` on can be joined from the public hall
//! page while issuing is open. The customer gives a mobile number (for "your turn is near" and to
//! hold one live remote ticket per number), and their browser a random key (one per browser);
//! a service's remote tickets waiting at once are capped at the branch's share of its hourly
//! capacity.
//!
//! A remote ticket must check in on arrival: at the kiosk with its six-character code or its QR
//! (the tracking link), or by staff. Until then Call next passes over it ([`crate::store::Tx::heads`]):
//! it keeps its place and is called as soon as it checks in. One passed over and still not
//! checked in after the branch's `remote_hold_mins` is cancelled ([`expire`]).

use chrono::{DateTime, Duration, Utc};
use qhall_shared::ServiceCode;
use qhall_shared::api::{TicketStatus, WindowState};
use serde::Serialize;

use super::issue::{Issued, issue};
use super::{By, Outbox, emit_waiting, step};
use crate::queue::estimate::ForecastTable;
use crate::queue::lifecycle::Action;
use crate::store::{Principal, Result, Role, StoreError, TicketRow, Tx};

/// The check-in code's letters: no 0/O, 1/I/L, so a code read aloud or typed is not mistaken.
pub use qhall_shared::booking::CODE_ALPHABET;
/// The check-in code's length: 31^6, about 900 million codes a day per branch.
pub const CODE_LEN: usize = 6;

/// A customer's request for a ticket from their phone.
#[derive(Debug, Clone)]
pub struct RemoteRequest {
    pub service: ServiceCode,
    pub mobile: String,
    pub lang: String,
    /// The browser's own random key (16 to 64 characters); only its hash is stored.
    pub browser: String,
}

/// A remote ticket taken.
#[derive(Debug, Clone)]
pub struct RemoteIssued {
    pub issued: Issued,
    /// The check-in code.
    pub code: String,
}

/// A remote ticket's check-in state, for its tracking page.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteState {
    pub code: String,
    /// What the kiosk's scanner reads from the QR: the tracking link (filled in by the page).
    #[serde(skip)]
    pub link: String,
    pub checked_in_at: Option<DateTime<Utc>>,
    /// When its turn first came while it was not checked in.
    pub passed_over_at: Option<DateTime<Utc>>,
    /// Minutes it keeps its place once passed over.
    pub hold_mins: u32,
}

fn new_code() -> String {
    (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rand::random_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

fn browser_hash(key: &str) -> Result<String> {
    use sha2::{Digest, Sha256};
    let ok = (16..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(StoreError::invalid(
            "invalid_browser",
            "browser must be the page's random key: 16 to 64 letters, digits, - or _",
        ));
    }
    Ok(hex::encode(Sha256::digest(key.as_bytes())))
}

/// Takes a remote ticket of `req.service` in `branch`. 404 `unknown_service`; 409
/// `remote_off` (the service takes tickets only at the kiosk), `remote_ticket_live` (this
/// number or this browser holds one already), `remote_full` (the cap), and the kiosk's own
/// refusals (closed, emergency); 422 `invalid_mobile`, `invalid_lang`, `invalid_browser`.
pub async fn take<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    branch: i64,
    req: &RemoteRequest,
    notify: bool,
    forecast: Option<&ForecastTable>,
    now: DateTime<Utc>,
) -> Result<RemoteIssued> {
    let mobile = super::messages::normalize_mobile(&req.mobile)?;
    let lang = super::messages::lang(&req.lang)?;
    let browser = browser_hash(&req.browser)?;
    tx.lock_branch(branch).await?;
    let cfg = tx.config(branch).await?;
    let svc = cfg.service(req.service).ok_or_else(|| {
        StoreError::not_found(
            "unknown_service",
            format!("there is no service {}", req.service),
        )
    })?;
    if !svc.remote_tickets {
        return Err(StoreError::conflict(
            "remote_off",
            format!(
                "service {} takes tickets only at the kiosk in the hall",
                req.service
            ),
        ));
    }
    let live = tx
        .count(
            "SELECT COUNT(*) FROM remote_tickets r JOIN tickets t ON t.key = r.ticket_key \
             WHERE (r.mobile = ? OR r.browser = ?) AND t.status IN ('waiting', 'called', 'serving')",
            args![&mobile, &browser],
        )
        .await?;
    if live > 0 {
        return Err(StoreError::conflict(
            "remote_ticket_live",
            "this phone already holds a ticket taken from the phone: use it, or cancel it first",
        ));
    }
    let cap = remote_cap(tx, &cfg, req.service).await?;
    let waiting = tx
        .count(
            "SELECT COUNT(*) FROM remote_tickets r JOIN tickets t ON t.key = r.ticket_key \
             WHERE r.branch_id = ? AND t.branch_id = ? AND t.service_code = ? AND t.status = 'waiting'",
            args![branch, branch, &req.service],
        )
        .await?;
    if waiting >= cap {
        return Err(StoreError::conflict(
            "remote_full",
            "every ticket this service gives to phones is taken for now: please take one at the kiosk",
        ));
    }
    let who = Principal {
        role: Role::Kiosk,
        branch_id: branch,
        user_id: None,
        device_id: None,
        username: None,
    };
    let issued = issue(tx, out, &who, req.service, false, None, forecast, now).await?;
    let t = &issued.ticket;
    let code = new_code();
    tx.execute(
        "INSERT INTO remote_tickets (ticket_key, branch_id, day, code, mobile, browser, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        args![t.key, branch, t.day, code.as_str(), &mobile, &browser, now],
    )
    .await?;
    if notify {
        super::messages::keep_number(tx, t, &mobile, lang, now).await?;
        super::messages::near(tx, &cfg, now).await?;
    }
    Ok(RemoteIssued { issued, code })
}

/// The most remote tickets of `service` waiting at once: the branch's share of the service's
/// hourly capacity (the windows signed in that serve it, at least one, at its usual service
/// time), at least one.
async fn remote_cap<T: Tx>(
    tx: &mut T,
    cfg: &crate::store::BranchConfig,
    service: ServiceCode,
) -> Result<u32> {
    let open: Vec<_> = tx
        .windows(cfg.id)
        .await?
        .into_iter()
        .filter(|w| w.state != WindowState::Closed)
        .map(|w| w.number)
        .collect();
    let serving = cfg
        .windows
        .iter()
        .filter(|d| open.contains(&d.number) && d.skills.serves.iter().any(|(s, _)| *s == service))
        .count()
        .max(1);
    let secs = cfg
        .service(service)
        .map_or(300, |s| s.default_service_secs)
        .max(1);
    let per_hour = serving as f64 * 3600.0 / f64::from(secs);
    let cap = (per_hour * f64::from(cfg.messages.remote_share_pct) / 100.0).ceil();
    Ok((cap as u32).max(1))
}

/// What a kiosk's scanner or keypad, or staff, give to check a remote ticket in: its code, its
/// tracking link or id (the QR), or (staff) its number.
fn parse_key(raw: &str) -> Key {
    let raw = raw.trim();
    let tail = raw.rsplit('/').next().unwrap_or(raw);
    let tail = tail.split(['?', '#']).next().unwrap_or(tail);
    let upper = tail.to_ascii_uppercase();
    if upper.len() == CODE_LEN && upper.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
        return Key::Code(upper);
    }
    if crate::http::tickets::plausible_id(tail) {
        return Key::Id(tail.to_owned());
    }
    Key::Number(upper)
}

enum Key {
    Code(String),
    Id(String),
    Number(String),
}

/// Checks in the remote ticket `raw` names (see [`parse_key`]) in `who`'s branch. 404
/// `unknown_ticket`; 409 `not_remote`, `already_checked_in`, `not_waiting`.
pub async fn check_in<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    raw: &str,
    now: DateTime<Utc>,
) -> Result<TicketRow> {
    let branch = who.branch_id;
    tx.lock_branch(branch).await?;
    let unknown = || StoreError::not_found("unknown_ticket", "no ticket has that code");
    let key = match parse_key(raw) {
        Key::Code(code) => tx
            .int(
                "SELECT ticket_key FROM remote_tickets WHERE branch_id = ? AND code = ? \
                 ORDER BY ticket_key DESC LIMIT 1",
                args![branch, code.as_str()],
            )
            .await?
            .ok_or_else(unknown)?,
        Key::Id(id) => {
            let t = tx.ticket_by_id(&id).await?.ok_or_else(unknown)?;
            if t.branch_id != branch {
                return Err(unknown());
            }
            t.key
        }
        Key::Number(n) => {
            if who.role == Role::Kiosk {
                // A kiosk scans codes and links; a number alone would let anyone check in anyone.
                return Err(unknown());
            }
            let number = super::parse_number(&n)?;
            super::ticket_numbered(tx, branch, &number).await?.key
        }
    };
    let t = tx.ticket(key).await?.ok_or_else(unknown)?;
    let state = tx
        .row(
            "SELECT checked_in_at FROM remote_tickets WHERE ticket_key = ?",
            args![key],
            |r| r.opt_time("checked_in_at"),
        )
        .await?
        .ok_or_else(|| {
            StoreError::conflict(
                "not_remote",
                format!("{} was taken in the hall: it needs no check-in", t.number),
            )
        })?;
    if state.is_some() {
        return Err(StoreError::conflict(
            "already_checked_in",
            format!("{} is checked in already", t.number),
        ));
    }
    if t.status != TicketStatus::Waiting {
        return Err(StoreError::conflict(
            "not_waiting",
            format!("{} is no longer waiting", t.number),
        ));
    }
    let by = match who.role {
        Role::Kiosk => "kiosk",
        _ => "staff",
    };
    tx.execute(
        "UPDATE remote_tickets SET checked_in_at = ?, checked_in_by = ? WHERE ticket_key = ?",
        args![now, by, key],
    )
    .await?;
    // Boards and consoles: the line a window can call from grew.
    emit_waiting(tx, out, branch, t.service, now).await?;
    Ok(t)
}

/// Cancels the branch's remote tickets passed over and still not checked in after the hold;
/// returns how many.
pub async fn expire<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    branch: i64,
    now: DateTime<Utc>,
) -> Result<u32> {
    tx.lock_branch(branch).await?;
    let cfg = tx.config(branch).await?;
    let before = now - Duration::minutes(i64::from(cfg.messages.remote_hold_mins));
    let due = tx
        .rows(
            "SELECT t.* FROM remote_tickets r JOIN tickets t ON t.key = r.ticket_key \
             WHERE r.branch_id = ? AND r.checked_in_at IS NULL AND r.passed_over_at < ? \
             AND t.branch_id = ? AND t.status = 'waiting' ORDER BY t.key",
            args![branch, before, branch],
            crate::store::tx::ticket_from,
        )
        .await?;
    let detail = serde_json::json!({ "actor": "remote", "reason": "not checked in" }).to_string();
    let mut n = 0;
    for mut t in due {
        step(
            tx,
            &mut t,
            Action::Cancel,
            By::default(),
            Some(detail.clone()),
            now,
            |t| {
                t.done_at = Some(now);
                Ok(())
            },
        )
        .await?;
        super::messages::ended(tx, &t).await?;
        emit_waiting(tx, out, branch, t.service, now).await?;
        n += 1;
    }
    Ok(n)
}

/// The remote state of ticket `key`, if it was taken from the phone.
pub async fn state_of<T: Tx>(tx: &mut T, key: i64, branch: i64) -> Result<Option<RemoteState>> {
    let hold = tx.config(branch).await?.messages.remote_hold_mins;
    tx.row(
        "SELECT code, checked_in_at, passed_over_at FROM remote_tickets WHERE ticket_key = ?",
        args![key],
        |r| {
            Ok(RemoteState {
                code: r.text("code")?,
                link: String::new(),
                checked_in_at: r.opt_time("checked_in_at")?,
                passed_over_at: r.opt_time("passed_over_at")?,
                hold_mins: hold,
            })
        },
    )
    .await
}

/// The branch's waiting remote tickets: key → checked in.
pub async fn waiting<T: Tx>(
    tx: &mut T,
    branch: i64,
) -> Result<std::collections::HashMap<i64, bool>> {
    let rows = tx
        .rows(
            "SELECT r.ticket_key, r.checked_in_at FROM remote_tickets r JOIN tickets t ON t.key = r.ticket_key \
             WHERE r.branch_id = ? AND t.branch_id = ? AND t.status = 'waiting'",
            args![branch, branch],
            |r| Ok((r.int("ticket_key")?, r.opt_time("checked_in_at")?.is_some())),
        )
        .await?;
    Ok(rows.into_iter().collect())
}

impl crate::store::Store {
    /// See [`waiting`].
    pub async fn remote_waiting(
        &self,
        branch: i64,
    ) -> Result<std::collections::HashMap<i64, bool>> {
        read!(self, |tx| waiting(tx, branch))
    }

    /// See [`take`].
    pub async fn take_remote(
        &self,
        branch: i64,
        req: &RemoteRequest,
        now: DateTime<Utc>,
    ) -> Result<RemoteIssued> {
        let req = req.clone();
        let notify = self.messages_on;
        let forecast = self.forecasts.get(branch);
        write!(self, |tx, out| take(
            tx,
            out,
            branch,
            &req,
            notify,
            forecast.as_deref(),
            now
        ))
    }

    /// See [`check_in`].
    pub async fn check_in_remote(
        &self,
        who: &Principal,
        raw: &str,
        now: DateTime<Utc>,
    ) -> Result<TicketRow> {
        let (who, raw) = (who.clone(), raw.to_owned());
        write!(self, |tx, out| check_in(tx, out, &who, &raw, now))
    }

    /// See [`expire`].
    pub async fn expire_remote(&self, branch: i64, now: DateTime<Utc>) -> Result<u32> {
        write!(self, |tx, out| expire(tx, out, branch, now))
    }

    /// See [`state_of`].
    pub async fn remote_state(&self, key: i64, branch: i64) -> Result<Option<RemoteState>> {
        read!(self, |tx| state_of(tx, key, branch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scanner_or_keypad_gives_a_code_a_link_or_a_number() {
        assert!(matches!(parse_key(" k7m2qp "), Key::Code(c) if c == "K7M2QP"));
        assert!(matches!(
            parse_key("https://hall.example/t/oiZ4cnEU8SaqZ19Y_hK-lw?lang=en"),
            Key::Id(id) if id == "oiZ4cnEU8SaqZ19Y_hK-lw"
        ));
        assert!(matches!(parse_key("A012"), Key::Number(n) if n == "A012"));
        // O and 0 are not in the alphabet: not a code.
        assert!(!matches!(parse_key("K7M2Q0"), Key::Code(_)));
    }

    #[test]
    fn codes_use_only_the_unmistakable_letters() {
        for _ in 0..100 {
            let c = new_code();
            assert_eq!(c.len(), CODE_LEN);
            assert!(c.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        }
        assert!(!CODE_ALPHABET.iter().any(|b| b"01OIL".contains(b)));
    }
}

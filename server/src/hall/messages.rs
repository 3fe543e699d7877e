//! Messages to customers outside the hall: a customer who left a mobile number for their ticket
//! (at the kiosk or on the tracking page) is told when their turn is near (`near`: at most the
//! branch's `notify_ahead` people ahead) and where to go when called (`called`). Each message is
//! written to the outbox (`messages`) in the transaction of the change that causes it, in the
//! customer's language from the branch's templates; [`crate::notify`] sends it. A ticket that
//! ends without being served (cancelled, absent, closed at the end of the day) cancels what was
//! still pending for it.
//!
//! The number is personal data: it is kept only for these messages, never logged, never on the
//! event stream, shown masked (`138****8000`) in every list, and cleared with its ticket's day
//! once the branch's retention period has passed ([`purge`]).

use chrono::{DateTime, NaiveDate, Utc};
use qhall_shared::WindowNo;
use serde::{Deserialize, Serialize};

use crate::queue::MessageConfig;
use crate::store::sql::{Columns, Sql};
use crate::store::{AuditEntry, BranchConfig, Principal, Result, StoreError, TicketRow, Tx};
use qhall_shared::api::TicketStatus;

/// The kinds of message a ticket can cause, in the order a customer gets them.
pub const KINDS: [&str; 5] = ["near", "called", "booked", "reminder", "booking_cancelled"];
/// The languages a customer can choose, as the API names them.
pub const LANGS: [&str; 3] = ["zh", "zh_hant", "en"];
/// The longest template a manager may write.
pub const TEMPLATE_MAX_CHARS: usize = 300;
/// What a manager may set "near" to.
pub const NOTIFY_AHEAD_RANGE: std::ops::RangeInclusive<u32> = 1..=20;
/// What a manager may set a follow-up's deadline to, in working days.
pub const FOLLOW_UP_DAYS_RANGE: std::ops::RangeInclusive<u32> = 1..=60;
/// The most waiting tickets with a number looked at after one change (the rest next time).
const NEAR_BATCH: i64 = 500;

/// The built-in wording of `kind` in `lang`.
pub fn builtin(kind: &str, lang: &str) -> &'static str {
    match (kind, lang) {
        ("near", "zh_hant") => {
            "【{branch}】您的號碼 {number} 前面還有 {ahead} 位，請回到大廳留意叫號。"
        }
        ("near", "en") => {
            "{branch}: {ahead} ahead of your ticket {number}. Please come back to the hall."
        }
        ("near", _) => "【{branch}】您的号码 {number} 前面还有 {ahead} 位，请回到大厅留意叫号。",
        ("called", "zh_hant") => "【{branch}】請 {number} 號到 {window} 號窗口辦理。",
        ("called", "en") => "{branch}: ticket {number}, please go to window {window}.",
        ("booked", "zh_hant") => {
            "【{branch}】已預約{service}：{date} {time}，預約碼 {code}。到場後在取號機簽到。"
        }
        ("booked", "en") => {
            "{branch}: {service} booked for {date} {time}, code {code}. Check in at the kiosk when you arrive."
        }
        ("booked", _) => {
            "【{branch}】已预约{service}：{date} {time}，预约码 {code}。到场后在取号机签到。"
        }
        ("reminder", "zh_hant") => {
            "【{branch}】提醒：您預約了 {date} {time} 的{service}，預約碼 {code}。"
        }
        ("reminder", "en") => {
            "{branch}: reminder of your {service} appointment on {date} at {time}, code {code}."
        }
        ("reminder", _) => "【{branch}】提醒：您预约了 {date} {time} 的{service}，预约码 {code}。",
        ("booking_cancelled", "zh_hant") => {
            "【{branch}】很抱歉，{date} 大廳不開放，您 {time} 的{service}預約（{code}）已取消，請重新預約。"
        }
        ("booking_cancelled", "en") => {
            "{branch}: sorry, the hall is closed on {date}; your {service} appointment at {time} ({code}) is cancelled. Please book again."
        }
        ("booking_cancelled", _) => {
            "【{branch}】很抱歉，{date} 大厅不开放，您 {time} 的{service}预约（{code}）已取消，请重新预约。"
        }
        (_, _) => "【{branch}】请 {number} 号到 {window} 号窗口办理。",
    }
}

/// The placeholders a template of `kind` may use.
pub fn placeholders(kind: &str) -> &'static [&'static str] {
    match kind {
        "near" => &["branch", "number", "ahead", "service"],
        "booked" | "reminder" | "booking_cancelled" => {
            &["branch", "service", "date", "time", "code"]
        }
        _ => &["branch", "number", "window", "service"],
    }
}

/// The branch's wording of `kind` in `lang`.
pub fn template<'a>(cfg: &'a MessageConfig, kind: &str, lang: &str) -> &'a str {
    cfg.templates
        .iter()
        .find(|(k, l, _)| k == kind && l == lang)
        .map_or_else(|| builtin(kind, lang), |(_, _, t)| t.as_str())
}

/// `template` with each `{name}` of `vars` replaced.
pub fn render(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// A mobile number as stored: digits, with a leading `+` if it had one; spaces, dashes and
/// brackets dropped. 6 to 15 digits (E.164's longest), else 422 `invalid_mobile`.
pub fn normalize_mobile(s: &str) -> Result<String> {
    let s = s.trim();
    let plus = s.starts_with('+');
    let body = s.strip_prefix('+').unwrap_or(s);
    let ok = body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'));
    let digits: String = body.chars().filter(char::is_ascii_digit).collect();
    if !ok || !(6..=15).contains(&digits.len()) {
        return Err(StoreError::invalid(
            "invalid_mobile",
            "give a mobile number of 6 to 15 digits",
        ));
    }
    Ok(if plus { format!("+{digits}") } else { digits })
}

/// A number as lists and logs show it: its first three and last four digits (`138****8000`).
pub fn mask_mobile(m: &str) -> String {
    super::complaints::mask_contact(m)
}

/// A language the API names, else 422 `invalid_lang`.
pub fn lang(l: &str) -> Result<&'static str> {
    // The pages speak BCP 47 (`zh-Hant`, as `<html lang>` and `?lang=`): the same language.
    let l = if l.eq_ignore_ascii_case("zh-hant") {
        "zh_hant"
    } else {
        l
    };
    LANGS.iter().copied().find(|x| *x == l).ok_or_else(|| {
        StoreError::invalid(
            "invalid_lang",
            "lang must be zh, zh_hant (or zh-Hant) or en",
        )
    })
}

/// A customer's number registered for their ticket.
#[derive(Debug, Clone, Serialize)]
pub struct Registered {
    /// The number as lists show it.
    pub mobile: String,
    pub lang: &'static str,
    /// "Near" means this many ahead or fewer.
    pub notify_ahead: u32,
}

/// Registers `mobile` for the waiting ticket `id` (replacing a number given before), and sends
/// "near" at once if the ticket is near already. 404 `unknown_ticket`; 409 `not_waiting`.
pub async fn register<T: Tx>(
    tx: &mut T,
    id: &str,
    mobile: &str,
    language: &str,
    now: DateTime<Utc>,
) -> Result<Registered> {
    let mobile = normalize_mobile(mobile)?;
    let language = lang(language)?;
    let t = tx
        .ticket_by_id(id)
        .await?
        .ok_or_else(|| StoreError::not_found("unknown_ticket", "there is no such ticket"))?;
    tx.lock_branch(t.branch_id).await?;
    let t = tx.ticket(t.key).await?.ok_or_else(returned_nothing)?;
    if t.status != TicketStatus::Waiting {
        return Err(StoreError::conflict(
            "not_waiting",
            format!("{} is no longer waiting", t.number),
        ));
    }
    keep_number(tx, &t, &mobile, language, now).await?;
    // Messages still to go leave for the new number.
    tx.execute(
        "UPDATE messages SET recipient = ?, lang = ? WHERE ticket_key = ? AND state = 'pending'",
        args![&mobile, language, t.key],
    )
    .await?;
    let cfg = tx.config(t.branch_id).await?;
    near(tx, &cfg, now).await?;
    Ok(Registered {
        mobile: mask_mobile(&mobile),
        lang: language,
        notify_ahead: cfg.messages.notify_ahead,
    })
}

/// Keeps `mobile` (normalized) for ticket `t`'s messages, replacing one given before.
pub(super) async fn keep_number<T: Sql>(
    tx: &mut T,
    t: &TicketRow,
    mobile: &str,
    language: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO ticket_contacts (ticket_key, branch_id, day, mobile, lang, near_sent, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ticket_key) DO UPDATE SET mobile = excluded.mobile, \
         lang = excluded.lang",
        args![t.key, t.branch_id, t.day, mobile, language, false, now],
    )
    .await?;
    Ok(())
}

/// Forgets the number left for ticket `id`; what was still to be sent is cancelled.
pub async fn forget<T: Tx>(tx: &mut T, id: &str) -> Result<()> {
    let t = tx
        .ticket_by_id(id)
        .await?
        .ok_or_else(|| StoreError::not_found("unknown_ticket", "there is no such ticket"))?;
    tx.lock_branch(t.branch_id).await?;
    nothing_more(tx, t.key).await?;
    tx.execute(
        "UPDATE ticket_contacts SET mobile = NULL WHERE ticket_key = ?",
        args![t.key],
    )
    .await?;
    Ok(())
}

/// Nothing more is sent for ticket `key`: what is pending is cancelled, "near" never comes.
async fn nothing_more<T: Sql>(tx: &mut T, key: i64) -> Result<()> {
    tx.execute(
        "UPDATE messages SET state = 'cancelled' WHERE ticket_key = ? AND state = 'pending'",
        args![key],
    )
    .await?;
    near_done(tx, key).await
}

/// "Near" is sent, or will never be, for ticket `key`.
async fn near_done<T: Sql>(tx: &mut T, key: i64) -> Result<()> {
    tx.execute(
        "UPDATE ticket_contacts SET near_sent = ? WHERE ticket_key = ?",
        args![true, key],
    )
    .await?;
    Ok(())
}

fn returned_nothing() -> StoreError {
    crate::store::sql::returned_nothing()
}

/// The waiting tickets of branch `?` with a number, not yet told "near" (arguments: the
/// branch, `false`, the branch, [`NEAR_BATCH`]), in each line's calling order; rows read by
/// [`with_contact`].
///
/// `t.branch_id` bounds the tickets side to the branch: without it, PostgreSQL once planned
/// from statistics taken while `tickets` was nearly empty, read every waiting ticket of every
/// branch and joined the (empty) contacts to them — at every call, ~1 ms for a city's 5,000
/// waiting (the city bench).
macro_rules! near_waiting {
    () => {
        "SELECT 1 AS part, c.mobile, c.lang, t.* FROM ticket_contacts c \
         JOIN tickets t ON t.key = c.ticket_key \
         WHERE c.branch_id = ? AND c.near_sent = ? AND c.mobile IS NOT NULL \
         AND t.branch_id = ? AND t.status = 'waiting' \
         ORDER BY t.service_code, t.priority DESC, t.queue_at, t.key LIMIT ?"
    };
}

/// A row of a ticket with the number and language left for it: `mobile`, `lang`, the ticket.
fn with_contact(r: &dyn Columns) -> Result<(String, String, TicketRow)> {
    Ok((
        r.text("mobile")?,
        r.text("lang")?,
        crate::store::tx::ticket_from(r)?,
    ))
}

/// After `t` was called to `window`: "please go to window N" for it if its customer left a
/// number, and "near" for those whose turn has come closer. One read finds both (the called
/// ticket's contact and the waiting tickets with a number): a call holds its branch's lock
/// until it commits, so each round trip it saves shortens every other writer's wait.
pub async fn after_call<T: Tx>(
    tx: &mut T,
    cfg: &BranchConfig,
    t: &TicketRow,
    window: WindowNo,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut called = None;
    let mut waiting = Vec::new();
    for (part, (mobile, language, ticket)) in tx
        .rows(
            concat!(
                "SELECT * FROM (SELECT 0 AS part, c.mobile, c.lang, t.* FROM ticket_contacts c \
                 JOIN tickets t ON t.key = c.ticket_key \
                 WHERE c.ticket_key = ? AND c.mobile IS NOT NULL) called \
                 UNION ALL SELECT * FROM (",
                near_waiting!(),
                ") waiting ORDER BY part, service_code, priority DESC, queue_at, key"
            ),
            args![t.key, cfg.id, false, cfg.id, NEAR_BATCH],
            |r| Ok((r.int("part")?, with_contact(r)?)),
        )
        .await?
    {
        if part == 0 {
            called = Some((mobile, language));
        } else {
            waiting.push((mobile, language, ticket));
        }
    }
    if let Some((mobile, language)) = called {
        // Called before "near" came due: it never will now.
        near_done(tx, t.key).await?;
        let vars = vars(cfg, t, &language, &[("window", window.to_string())]);
        let body = render(template(&cfg.messages, "called", &language), &vars);
        enqueue(tx, t, "called", &mobile, &language, &body, now).await?;
    }
    near_of(tx, cfg, waiting, now).await
}

/// A ticket that ended unserved (cancelled, absent, closed at the end of the day): what was
/// still to be sent for it is cancelled, and "near" is never sent.
pub async fn ended<T: Tx>(tx: &mut T, t: &TicketRow) -> Result<()> {
    if contact(tx, t.key).await?.is_none() {
        return Ok(());
    }
    nothing_more(tx, t.key).await
}

/// The number and language left for ticket `key`, if any.
async fn contact<T: Sql>(tx: &mut T, key: i64) -> Result<Option<(String, String)>> {
    tx.row(
        "SELECT mobile, lang FROM ticket_contacts WHERE ticket_key = ? AND mobile IS NOT NULL",
        args![key],
        |r| Ok((r.text("mobile")?, r.text("lang")?)),
    )
    .await
}

/// "Near" for every waiting ticket of the branch with a number, not yet told, that now has at
/// most `notify_ahead` people ahead of it in its line.
pub async fn near<T: Tx>(tx: &mut T, cfg: &BranchConfig, now: DateTime<Utc>) -> Result<()> {
    let waiting = tx
        .rows(
            near_waiting!(),
            args![cfg.id, false, cfg.id, NEAR_BATCH],
            with_contact,
        )
        .await?;
    near_of(tx, cfg, waiting, now).await
}

/// "Near" for those of `waiting` (read by `near_waiting!`) that now have at most
/// `notify_ahead` people ahead of them in their line.
async fn near_of<T: Tx>(
    tx: &mut T,
    cfg: &BranchConfig,
    waiting: Vec<(String, String, TicketRow)>,
    now: DateTime<Utc>,
) -> Result<()> {
    // In each line's calling order: the people ahead only grow along it, so once one ticket is
    // not near, none after it in its line is — the rest of that line is skipped (a call costs a
    // few counts per line, not one per waiting number). A ticket sent to a window is not in
    // its line's order and is looked at on its own.
    let mut not_near: Option<qhall_shared::ServiceCode> = None;
    for (mobile, language, t) in waiting {
        let in_line = t.target_window.is_none();
        if in_line && not_near == Some(t.service) {
            continue;
        }
        let ahead = tx
            .count_ahead(cfg.id, t.service, t.priority, t.queue_at, t.key)
            .await?;
        if ahead > cfg.messages.notify_ahead {
            if in_line {
                not_near = Some(t.service);
            }
            continue;
        }
        near_done(tx, t.key).await?;
        let vars = vars(cfg, &t, &language, &[("ahead", ahead.to_string())]);
        let body = render(template(&cfg.messages, "near", &language), &vars);
        enqueue(tx, &t, "near", &mobile, &language, &body, now).await?;
    }
    Ok(())
}

/// `l` in the customer's language (`zh`, `zh_hant`, `en`), Simplified Chinese where it is empty.
pub(super) fn in_lang(l: &qhall_shared::api::Localized, language: &str) -> String {
    let s = match language {
        "en" => &l.en,
        "zh_hant" => &l.zh_hant,
        _ => &l.zh,
    };
    if s.is_empty() {
        l.zh.clone()
    } else {
        s.clone()
    }
}

fn vars(
    cfg: &BranchConfig,
    t: &TicketRow,
    language: &str,
    more: &[(&'static str, String)],
) -> Vec<(&'static str, String)> {
    let pick = |l| in_lang(l, language);
    let service = cfg
        .service(t.service)
        .map(|s| pick(&s.name))
        .unwrap_or_else(|| t.service.to_string());
    let mut v = vec![
        ("branch", pick(&cfg.name)),
        ("number", t.number.to_string()),
        ("service", service),
    ];
    v.extend(more.iter().cloned());
    v
}

async fn enqueue<T: Sql>(
    tx: &mut T,
    t: &TicketRow,
    kind: &str,
    mobile: &str,
    language: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO messages (branch_id, ticket_key, kind, recipient, lang, body, day, next_at, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        args![t.branch_id, t.key, kind, mobile, language, body, t.day, now, now],
    )
    .await?;
    Ok(())
}

/// A message claimed for sending.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    pub kind: String,
    /// The number, unmasked: for the transport only.
    pub recipient: String,
    pub lang: String,
    pub body: String,
    /// Attempts including this one.
    pub attempts: u32,
}

/// Whether a message is due (pending, or claimed by a sender whose lease ran out).
pub async fn due<T: Sql>(tx: &mut T, now: DateTime<Utc>) -> Result<bool> {
    Ok(tx
        .int(
            "SELECT 1 FROM messages WHERE state IN ('pending', 'sending') AND next_at <= ? LIMIT 1",
            args![now],
        )
        .await?
        .is_some())
}

/// Claims up to `limit` due messages, oldest first, for `lease`: each only if every earlier
/// message of its ticket is done. The `WHERE` is repeated on the row being claimed, so of two
/// senders claiming at once only one gets a message (PostgreSQL checks it again on the row it
/// waited for; SQLite has one writer).
pub async fn claim<T: Sql>(
    tx: &mut T,
    now: DateTime<Utc>,
    lease: std::time::Duration,
    limit: i64,
) -> Result<Vec<Outgoing>> {
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(1));
    let mut out = tx
        .rows(
            "UPDATE messages SET state = 'sending', attempts = attempts + 1, next_at = ? \
             WHERE id IN (SELECT m.id FROM messages m WHERE m.state IN ('pending', 'sending') \
               AND m.next_at <= ? AND m.recipient IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM messages e WHERE e.ticket_key = m.ticket_key AND e.id < m.id \
                 AND e.state IN ('pending', 'sending')) \
               ORDER BY m.id LIMIT ?) \
             AND state IN ('pending', 'sending') AND next_at <= ? \
             RETURNING id, kind, recipient, lang, body, attempts",
            args![until, now, limit, now],
            |r| {
                Ok(Outgoing {
                    id: r.int("id")?,
                    kind: r.text("kind")?,
                    recipient: r.text("recipient")?,
                    lang: r.text("lang")?,
                    body: r.text("body")?,
                    attempts: r.count("attempts")?,
                })
            },
        )
        .await?;
    out.sort_by_key(|m| m.id);
    Ok(out)
}

/// Records an attempt's outcome: sent; or tried again after `retry`; or, with `give_up`,
/// failed for good.
pub async fn finish<T: Sql>(
    tx: &mut T,
    id: i64,
    outcome: &crate::notify::Outcome,
    give_up: bool,
    retry: std::time::Duration,
    now: DateTime<Utc>,
) -> Result<()> {
    use crate::notify::Outcome;
    match outcome {
        Outcome::Sent(answer) => {
            tx.execute(
                "UPDATE messages SET state = 'sent', answer = ?, sent_at = ? WHERE id = ? AND state = 'sending'",
                args![answer.as_str(), now, id],
            )
            .await?
        }
        Outcome::Failed(answer) if give_up => {
            tx.execute(
                "UPDATE messages SET state = 'failed', answer = ? WHERE id = ? AND state = 'sending'",
                args![answer.as_str(), id],
            )
            .await?
        }
        Outcome::Failed(answer) => {
            let next = now + chrono::Duration::from_std(retry).unwrap_or(chrono::Duration::minutes(10));
            tx.execute(
                "UPDATE messages SET state = 'pending', answer = ?, next_at = ? WHERE id = ? AND state = 'sending'",
                args![answer.as_str(), next, id],
            )
            .await?
        }
    };
    Ok(())
}

/// Clears the numbers of the branch's tickets and messages of days before `before` (the
/// branch's retention period ago); what was still to go for them is cancelled. Returns how
/// many numbers were cleared.
pub async fn purge<T: Sql>(tx: &mut T, branch: i64, before: NaiveDate) -> Result<u64> {
    tx.execute(
        "UPDATE messages SET state = 'cancelled' WHERE branch_id = ? AND day < ? AND state IN ('pending', 'sending')",
        args![branch, before],
    )
    .await?;
    let mut cleared = 0;
    for (table, column) in [
        ("messages", "recipient"),
        ("bookings", "mobile"),
        ("remote_tickets", "mobile"),
        ("ticket_contacts", "mobile"),
    ] {
        // The count returned is the last one's: the numbers customers left for their tickets.
        cleared = tx
            .execute(
                &format!(
                    "UPDATE {table} SET {column} = NULL WHERE branch_id = ? AND day < ? AND {column} IS NOT NULL"
                ),
                args![branch, before],
            )
            .await?;
    }
    Ok(cleared)
}

/// One message as the manager's list shows it: the number masked.
#[derive(Debug, Clone, Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub kind: String,
    pub ticket: Option<String>,
    /// Masked; `None` once purged.
    pub to: Option<String>,
    pub lang: String,
    pub text: String,
    pub state: String,
    pub attempts: u32,
    /// The gateway's last answer.
    pub answer: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The most messages a list returns (the newest).
pub const LIST_LIMIT: i64 = 1000;

/// The branch's messages of `day`, newest first, numbers masked.
pub async fn list<T: Sql>(tx: &mut T, branch: i64, day: NaiveDate) -> Result<Vec<MessageRow>> {
    tx.rows(
        "SELECT m.id, m.kind, t.number, m.recipient, m.lang, m.body, m.state, m.attempts, m.answer, \
         m.created_at, m.sent_at FROM messages m LEFT JOIN tickets t ON t.key = m.ticket_key \
         WHERE m.branch_id = ? AND m.day = ? ORDER BY m.id DESC LIMIT ?",
        args![branch, day, LIST_LIMIT],
        |r| {
            Ok(MessageRow {
                id: r.int("id")?,
                kind: r.text("kind")?,
                ticket: r.opt_text("number")?,
                to: r.opt_text("recipient")?.as_deref().map(mask_mobile),
                lang: r.text("lang")?,
                text: r.text("body")?,
                state: r.text("state")?,
                attempts: r.count("attempts")?,
                answer: r.opt_text("answer")?,
                created_at: r.time("created_at")?,
                sent_at: r.opt_time("sent_at")?,
            })
        },
    )
    .await
}

/// The branch's message settings as the manager's page edits them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageSettings {
    pub notify_ahead: u32,
    pub follow_up_days: u32,
    /// Remote tickets of a service waiting at once, percent of its hourly capacity (1–100).
    #[serde(default = "default_remote_share")]
    pub remote_share_pct: u32,
    /// Minutes a remote ticket passed over unchecked keeps its place (5–240).
    #[serde(default = "default_remote_hold")]
    pub remote_hold_mins: u32,
    /// Every kind in every language: the branch's wording, or the built-in one.
    pub templates: Vec<TemplateText>,
}

fn default_remote_share() -> u32 {
    30
}

fn default_remote_hold() -> u32 {
    15
}

/// One wording.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateText {
    pub kind: String,
    pub lang: String,
    pub text: String,
    /// What the text may contain, e.g. `{number}` (in answers only).
    #[serde(default, skip_deserializing)]
    pub placeholders: Vec<String>,
}

/// The settings of the branch, every template filled in.
pub fn settings_of(cfg: &MessageConfig) -> MessageSettings {
    let mut templates = Vec::new();
    for kind in KINDS {
        for l in LANGS {
            templates.push(TemplateText {
                kind: kind.into(),
                lang: l.into(),
                text: template(cfg, kind, l).to_owned(),
                placeholders: placeholders(kind)
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect(),
            });
        }
    }
    MessageSettings {
        notify_ahead: cfg.notify_ahead,
        follow_up_days: cfg.follow_up_days,
        remote_share_pct: cfg.remote_share_pct,
        remote_hold_mins: cfg.remote_hold_mins,
        templates,
    }
}

/// Sets the branch's message settings (audited; the configuration's version moves). A template
/// equal to the built-in one is stored as none. 422 `invalid_notify_ahead`,
/// `invalid_follow_up_days`, `invalid_template` (an unknown kind, language or placeholder, or
/// too long).
pub async fn set_settings<T: Tx>(
    tx: &mut T,
    who: &Principal,
    s: &MessageSettings,
    now: DateTime<Utc>,
) -> Result<MessageSettings> {
    let branch = who.branch_id;
    if !NOTIFY_AHEAD_RANGE.contains(&s.notify_ahead) {
        return Err(StoreError::invalid(
            "invalid_notify_ahead",
            format!(
                "notify_ahead must be {} to {}",
                NOTIFY_AHEAD_RANGE.start(),
                NOTIFY_AHEAD_RANGE.end()
            ),
        ));
    }
    if !FOLLOW_UP_DAYS_RANGE.contains(&s.follow_up_days) {
        return Err(StoreError::invalid(
            "invalid_follow_up_days",
            format!(
                "follow_up_days must be {} to {}",
                FOLLOW_UP_DAYS_RANGE.start(),
                FOLLOW_UP_DAYS_RANGE.end()
            ),
        ));
    }
    if !(1..=100).contains(&s.remote_share_pct) {
        return Err(StoreError::invalid(
            "invalid_remote_share",
            "remote_share_pct must be 1 to 100",
        ));
    }
    if !(5..=240).contains(&s.remote_hold_mins) {
        return Err(StoreError::invalid(
            "invalid_remote_hold",
            "remote_hold_mins must be 5 to 240",
        ));
    }
    let mut keep = Vec::new();
    for t in &s.templates {
        let bad = |why: String| StoreError::invalid("invalid_template", why);
        if !KINDS.contains(&t.kind.as_str()) || !LANGS.contains(&t.lang.as_str()) {
            return Err(bad(format!(
                "there is no template {} in {}",
                t.kind, t.lang
            )));
        }
        let text = t.text.trim();
        if text.is_empty() || text.chars().count() > TEMPLATE_MAX_CHARS {
            return Err(bad(format!(
                "a template is 1 to {TEMPLATE_MAX_CHARS} characters"
            )));
        }
        if let Some(p) = unknown_placeholder(text, placeholders(&t.kind)) {
            return Err(bad(format!("{{{p}}} is not a placeholder of {}", t.kind)));
        }
        if text != builtin(&t.kind, &t.lang) {
            keep.push((t.kind.clone(), t.lang.clone(), text.to_owned()));
        }
    }
    tx.lock_branch(branch).await?;
    tx.execute(
        "DELETE FROM message_templates WHERE branch_id = ?",
        args![branch],
    )
    .await?;
    for (k, l, text) in &keep {
        tx.execute(
            "INSERT INTO message_templates (branch_id, kind, lang, text) VALUES (?, ?, ?, ?) \
             ON CONFLICT (branch_id, kind, lang) DO UPDATE SET text = excluded.text",
            args![branch, k.as_str(), l.as_str(), text.as_str()],
        )
        .await?;
    }
    tx.execute(
        "UPDATE branches SET notify_ahead = ?, follow_up_days = ?, remote_share_pct = ?, remote_hold_mins = ?, \
         config_version = config_version + 1 WHERE id = ?",
        args![
            s.notify_ahead,
            s.follow_up_days,
            s.remote_share_pct,
            s.remote_hold_mins,
            branch
        ],
    )
    .await?;
    tx.audit(&AuditEntry {
        branch,
        user: who.user_id,
        at: now,
        action: "messages.settings",
        detail: serde_json::json!({
            "notify_ahead": s.notify_ahead,
            "follow_up_days": s.follow_up_days,
            "remote_share_pct": s.remote_share_pct,
            "remote_hold_mins": s.remote_hold_mins,
            "templates": keep.iter().map(|(k, l, _)| format!("{k}.{l}")).collect::<Vec<_>>(),
        })
        .to_string(),
    })
    .await?;
    // As stored (PostgreSQL's cached configuration is the one read under the lock, before
    // this change).
    Ok(settings_of(&MessageConfig {
        notify_ahead: s.notify_ahead,
        follow_up_days: s.follow_up_days,
        templates: keep,
        remote_share_pct: s.remote_share_pct,
        remote_hold_mins: s.remote_hold_mins,
    }))
}

/// The first `{name}` in `text` that is not one of `allowed`.
fn unknown_placeholder(text: &str, allowed: &[&str]) -> Option<String> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let name = &after[..close];
        if !allowed.contains(&name) {
            return Some(name.to_owned());
        }
        rest = &after[close + 1..];
    }
    None
}

impl crate::store::Store {
    /// See [`register`].
    pub async fn notify_register(
        &self,
        id: &str,
        mobile: &str,
        language: &str,
        now: DateTime<Utc>,
    ) -> Result<Registered> {
        let (id, mobile, language) = (id.to_owned(), mobile.to_owned(), language.to_owned());
        write!(self, |tx, _out| register(tx, &id, &mobile, &language, now))
    }

    /// See [`forget`].
    pub async fn notify_forget(&self, id: &str) -> Result<()> {
        let id = id.to_owned();
        write!(self, |tx, _out| forget(tx, &id))
    }

    /// See [`due`].
    pub async fn messages_due(&self, now: DateTime<Utc>) -> Result<bool> {
        read!(self, once | tx | due(tx, now))
    }

    /// See [`claim`].
    pub async fn claim_messages(
        &self,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: i64,
    ) -> Result<Vec<Outgoing>> {
        write!(self, |tx, _out| claim(tx, now, lease, limit))
    }

    /// See [`finish`].
    pub async fn finish_message(
        &self,
        id: i64,
        outcome: &crate::notify::Outcome,
        give_up: bool,
        retry: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let outcome = outcome.clone();
        write!(self, |tx, _out| finish(
            tx, id, &outcome, give_up, retry, now
        ))
    }

    /// See [`list`].
    pub async fn messages(&self, branch: i64, day: NaiveDate) -> Result<Vec<MessageRow>> {
        read!(self, |tx| list(tx, branch, day))
    }

    /// The branch's message settings, every template filled in.
    pub async fn message_settings(&self, branch: i64) -> Result<MessageSettings> {
        let cfg = self.config(branch).await?;
        Ok(settings_of(&cfg.messages))
    }

    /// See [`set_settings`].
    pub async fn set_message_settings(
        &self,
        who: &Principal,
        s: &MessageSettings,
        now: DateTime<Utc>,
    ) -> Result<MessageSettings> {
        let (who, s) = (who.clone(), s.clone());
        write!(self, |tx, _out| set_settings(tx, &who, &s, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalized_and_nonsense_refused() {
        assert_eq!(normalize_mobile(" 138-0013 8000 ").unwrap(), "13800138000");
        assert_eq!(normalize_mobile("+852 9123 4567").unwrap(), "+85291234567");
        for bad in [
            "",
            "12345",
            "1380013800012345",
            "138abc00000",
            "++8613800138000",
        ] {
            assert!(normalize_mobile(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_number_is_masked_in_lists() {
        assert_eq!(mask_mobile("13800138000"), "138****8000");
        assert!(!mask_mobile("+85291234567").contains("9123"));
    }

    #[test]
    fn templates_render_and_unknown_placeholders_are_found() {
        let cfg = MessageConfig::default();
        let t = template(&cfg, "called", "en");
        let text = render(
            t,
            &[
                ("branch", "Hall".into()),
                ("number", "A012".into()),
                ("window", "3".into()),
            ],
        );
        assert_eq!(text, "Hall: ticket A012, please go to window 3.");
        assert_eq!(
            unknown_placeholder("{number} at {windw}", placeholders("called")),
            Some("windw".into())
        );
        assert_eq!(
            unknown_placeholder("{number} {ahead}", placeholders("near")),
            None
        );
        for kind in KINDS {
            for l in LANGS {
                assert_eq!(
                    unknown_placeholder(builtin(kind, l), placeholders(kind)),
                    None
                );
            }
        }
    }
}

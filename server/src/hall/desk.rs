//! The reception desk (issue #12): staff issue a walk-in ticket for a customer who cannot use
//! the kiosk, shown on their screen and, if they choose, printed at one of the branch's kiosks.
//!
//! A print is a job in `print_jobs`, written in the same transaction as the ticket (a ticket
//! the desk was told is printing exists, and a job never names a ticket that does not). The
//! kiosk asks for its waiting jobs every few seconds ([`waiting`]), prints each, and says how
//! it went ([`finish`]); the desk's screen follows the job ([`status`]) and falls back to
//! "tell the customer the number" when the kiosk cannot print. A job is only ever the kiosk's
//! own: another device's job is unknown to it.

use chrono::{DateTime, Utc};
use qhall_shared::ServiceCode;
use qhall_shared::api::PrintJobStatus;
use serde::Serialize;

use super::Outbox;
use super::issue::{Issued, issue};
use crate::queue::estimate::ForecastTable;
use crate::store::sql::Sql;
use crate::store::{Principal, Result, StoreError, TicketRow, Tx};

/// A kiosk that can print for the desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeskKiosk {
    pub id: i64,
    pub name: String,
    /// What the kiosk last said about its printer (`ok`, `no_paper`, …), if anything.
    pub printer: Option<String>,
}

/// The branch's active kiosks, by name.
pub async fn kiosks<T: Sql>(tx: &mut T, branch: i64) -> Result<Vec<DeskKiosk>> {
    tx.rows(
        "SELECT id, name, printer_state FROM devices WHERE branch_id = ? AND role = 'kiosk' \
         AND active = ? ORDER BY name, id",
        args![branch, true],
        |r| {
            Ok(DeskKiosk {
                id: r.int("id")?,
                name: r.text("name")?,
                printer: r.opt_text("printer_state")?,
            })
        },
    )
    .await
}

/// Issues a ticket at the desk and, with `kiosk`, a job to print it there — both or neither.
/// A kiosk that is not one of the branch's active kiosks: 422 `unknown_kiosk`, nothing issued.
/// The same `Idempotency-Key` again gives the same ticket and no second job.
#[allow(clippy::too_many_arguments)]
pub async fn issue_at_desk<T: Tx>(
    tx: &mut T,
    out: &mut Outbox,
    who: &Principal,
    service: ServiceCode,
    priority: bool,
    idempotency_key: Option<&str>,
    forecast: Option<&ForecastTable>,
    kiosk: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(Issued, Option<PrintJobStatus>)> {
    let kiosk = match kiosk {
        Some(id) => Some(
            kiosks(tx, who.branch_id)
                .await?
                .into_iter()
                .find(|k| k.id == id)
                .ok_or_else(|| {
                    StoreError::invalid(
                        "unknown_kiosk",
                        format!("there is no active kiosk {id} in this branch"),
                    )
                })?,
        ),
        None => None,
    };
    let issued = issue(
        tx,
        out,
        who,
        service,
        priority,
        idempotency_key,
        forecast,
        now,
    )
    .await?;
    let job = match kiosk {
        Some(k) if issued.created => {
            let id = tx
                .int(
                    "INSERT INTO print_jobs (branch_id, device_id, ticket_key, created_at) \
                     VALUES (?, ?, ?, ?) RETURNING id",
                    args![who.branch_id, k.id, issued.ticket.key, now],
                )
                .await?
                .ok_or_else(|| {
                    StoreError::Other(anyhow::anyhow!("INSERT … RETURNING gave no id"))
                })?;
            Some(PrintJobStatus {
                id,
                kiosk: k.name,
                state: "waiting".into(),
                detail: None,
            })
        }
        _ => None,
    };
    Ok((issued, job))
}

/// Jobs waiting at most this long are still printed; older ones are left (the customer has
/// been told the number by then).
pub const JOB_TTL_MINS: i64 = 10;

/// The kiosk's waiting jobs, oldest first, with their tickets (at most 20 at a time).
pub async fn waiting<T: Tx>(
    tx: &mut T,
    device: i64,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, TicketRow)>> {
    let jobs = tx
        .rows(
            "SELECT id, ticket_key FROM print_jobs WHERE device_id = ? AND state = 'waiting' \
             AND created_at >= ? ORDER BY id LIMIT 20",
            args![device, now - chrono::Duration::minutes(JOB_TTL_MINS)],
            |r| Ok((r.int("id")?, r.int("ticket_key")?)),
        )
        .await?;
    let mut out = Vec::with_capacity(jobs.len());
    for (id, key) in jobs {
        if let Some(t) = tx.ticket(key).await? {
            out.push((id, t));
        }
    }
    Ok(out)
}

/// The kiosk says how job `id` went. Unknown to it (another device's, or none): 404
/// `unknown_print_job`. Saying it again changes nothing.
pub async fn finish<T: Sql>(
    tx: &mut T,
    device: i64,
    id: i64,
    printed: bool,
    detail: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let state = if printed { "printed" } else { "failed" };
    let known = tx
        .count(
            "SELECT COUNT(*) FROM print_jobs WHERE id = ? AND device_id = ?",
            args![id, device],
        )
        .await?;
    if known == 0 {
        return Err(StoreError::not_found(
            "unknown_print_job",
            format!("this kiosk has no print job {id}"),
        ));
    }
    tx.execute(
        "UPDATE print_jobs SET state = ?, detail = ?, done_at = ? \
         WHERE id = ? AND device_id = ? AND state = 'waiting'",
        args![state, detail, now, id, device],
    )
    .await?;
    Ok(())
}

/// A job of the caller's branch, for the desk's screen; another branch's: 404.
pub async fn status<T: Sql>(tx: &mut T, branch: i64, id: i64) -> Result<PrintJobStatus> {
    tx.row(
        "SELECT j.id, j.state, j.detail, d.name FROM print_jobs j JOIN devices d ON d.id = j.device_id \
         WHERE j.id = ? AND j.branch_id = ?",
        args![id, branch],
        |r| {
            Ok(PrintJobStatus {
                id: r.int("id")?,
                kiosk: r.text("name")?,
                state: r.text("state")?,
                detail: r.opt_text("detail")?,
            })
        },
    )
    .await?
    .ok_or_else(|| {
        StoreError::not_found("unknown_print_job", format!("there is no print job {id}"))
    })
}

//! Rating pads: which window a pad device rates.
//!
//! A pad is a device (`devices.role = 'pad'`) with a token of its own, bound to one window of
//! its branch (`devices.window_number`, set when it is created and never changed: a pad moved
//! to another window is revoked and paired again). The rating API asks here on every request
//! instead of carrying the window in [`Principal`](super::Principal): one indexed read by
//! primary key, and a pad asks once every two seconds.

use qhall_shared::WindowNo;
use rusqlite::OptionalExtension;

use super::{Backend, Result, Store};

impl Store {
    /// The branch and window the active pad `device_id` rates; `None` for any other device,
    /// a revoked pad, or a stored number that is not a window number.
    pub async fn pad_window(&self, device_id: i64) -> Result<Option<(i64, WindowNo)>> {
        const SQL_SQLITE: &str = "SELECT branch_id, window_number FROM devices \
             WHERE id = ? AND role = 'pad' AND active = 1 AND window_number IS NOT NULL";
        const SQL_POSTGRES: &str = "SELECT branch_id, window_number FROM devices \
             WHERE id = $1 AND role = 'pad' AND active AND window_number IS NOT NULL";
        let row: Option<(i64, i64)> = match &self.backend {
            Backend::Sqlite(db) => {
                db.read(move |tx| {
                    Ok(tx
                        .conn
                        .prepare_cached(SQL_SQLITE)?
                        .query_row([device_id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?)
                })
                .await?
            }
            Backend::Postgres(db) => {
                sqlx::query_as(SQL_POSTGRES)
                    .bind(device_id)
                    .fetch_optional(db.pool())
                    .await?
            }
        };
        Ok(row.and_then(|(branch, n)| {
            let n = WindowNo::new(u32::try_from(n).ok()?).ok()?;
            Some((branch, n))
        }))
    }
}

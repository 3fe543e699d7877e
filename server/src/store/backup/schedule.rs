//! The daily backup: with `backup_dir` set (SQLite only), the server writes
//! `qhall-YYYYMMDDTHHMMSSZ.db` there once a day — at start if the newest is a day old or there
//! is none, then a day after the newest — and keeps the newest `backup_keep` of them. The time
//! is in the name, so "a day after the newest" survives restarts, and only files named this
//! way are ever deleted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::store::Store;

/// How often backups are taken.
pub const EVERY: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// The longest the task sleeps before looking again (so a changed clock is noticed).
const RECHECK: Duration = Duration::from_secs(3600);

/// After a failed backup, the wait before the next attempt.
const RETRY: Duration = Duration::from_secs(600);

/// The schedule's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub dir: PathBuf,
    /// How many daily files to keep (at least 1).
    pub keep: usize,
}

const PREFIX: &str = "qhall-";
const SUFFIX: &str = ".db";
const STAMP: &str = "%Y%m%dT%H%M%SZ";

/// The file name of a backup taken at `at`.
pub fn file_name(at: DateTime<Utc>) -> String {
    format!("{PREFIX}{}{SUFFIX}", at.format(STAMP))
}

/// When the backup named `name` was taken, if it is one of ours.
fn taken_at(name: &str) -> Option<DateTime<Utc>> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    Some(NaiveDateTime::parse_from_str(stamp, STAMP).ok()?.and_utc())
}

/// The scheduled backups in `dir`, newest first.
pub fn backups_in(dir: &Path) -> std::io::Result<Vec<(DateTime<Utc>, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(at) = entry.file_name().to_str().and_then(taken_at) {
            found.push((at, entry.path()));
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    Ok(found)
}

/// Deletes all but the newest `keep` backups in `dir`; returns how many went.
pub fn prune(dir: &Path, keep: usize) -> std::io::Result<usize> {
    let mut removed = 0;
    for (_, path) in backups_in(dir)?.into_iter().skip(keep.max(1)) {
        std::fs::remove_file(&path)?;
        removed += 1;
    }
    Ok(removed)
}

/// One round: a backup if the newest is [`EVERY`] old (or there is none), then the pruning.
/// Returns when the next one is due.
pub fn round(db: &Path, schedule: &Schedule, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    std::fs::create_dir_all(&schedule.dir)?;
    let newest = backups_in(&schedule.dir)?.first().map(|(at, _)| *at);
    if let Some(at) = newest
        && now < at + EVERY
    {
        return Ok(at + EVERY);
    }
    let path = schedule.dir.join(file_name(now));
    let size = super::backup(db, &path)?;
    let removed = prune(&schedule.dir, schedule.keep)?;
    tracing::info!(file = %path.display(), bytes = size, removed, "daily backup written");
    Ok(now + EVERY)
}

/// The background task (spawned by [`crate::run`]): runs [`round`] whenever one is due.
pub async fn run(store: Store, schedule: Option<Schedule>) {
    let Some(schedule) = schedule else { return };
    let Some(db) = store.sqlite().map(|s| PathBuf::from(s.path())) else {
        tracing::warn!(
            "backup_dir is set but the database is PostgreSQL: back it up with pg_dump (README, \"Backups\")"
        );
        return;
    };
    loop {
        let (db, s) = (db.clone(), schedule.clone());
        let wait = match tokio::task::spawn_blocking(move || round(&db, &s, Utc::now())).await {
            Ok(Ok(next)) => (next - Utc::now())
                .to_std()
                .unwrap_or_default()
                .min(RECHECK),
            Ok(Err(e)) => {
                tracing::error!(error = %format!("{e:#}"), dir = %schedule.dir.display(), "daily backup failed");
                RETRY
            }
            Err(e) => {
                tracing::error!(error = %e, "daily backup task failed");
                RETRY
            }
        };
        tokio::time::sleep(wait.max(Duration::from_secs(1))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_backups_named_by_the_schedule_are_counted_and_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let at = |d: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 11, d)
                .unwrap()
                .and_hms_opt(3, 0, 0)
                .unwrap()
                .and_utc()
        };
        for d in 1..=5 {
            std::fs::write(dir.path().join(file_name(at(d))), b"x").unwrap();
        }
        std::fs::write(dir.path().join("qhall-manual.db"), b"x").unwrap();
        assert_eq!(prune(dir.path(), 2).unwrap(), 3);
        let left: Vec<_> = backups_in(dir.path())
            .unwrap()
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(left, vec![at(5), at(4)]);
        assert!(dir.path().join("qhall-manual.db").exists());
    }
}

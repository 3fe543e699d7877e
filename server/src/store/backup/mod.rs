//! Backups of a SQLite hall: `qhall-server backup FILE`, `restore FILE`, `check`, and the daily
//! schedule ([`schedule`]). PostgreSQL is backed up with its own tools (`pg_dump`; README,
//! "Backups"), so these refuse a `postgres://` URL and say so.
//!
//! - **Backup** uses SQLite's online backup API in a single step: one read transaction copies
//!   every page, so the copy is the database as of one commit while the server goes on
//!   writing (WAL readers do not block the writer). It is written beside the destination,
//!   switched to a plain rollback journal (one self-contained file), synced, then renamed into
//!   place: a crash leaves either no backup or a whole one.
//! - **Restore** checks the backup first (`integrity_check`, and that it is a Qhall database),
//!   copies it beside the live file and syncs it, refuses while anything holds the live
//!   database open, then removes the old file's `-wal`/`-shm` (a stale WAL would be replayed
//!   onto the restored file) and renames the copy into place.
//! - **Check** runs `PRAGMA integrity_check` and `PRAGMA foreign_key_check` and says what to
//!   do about what it finds.
//!
//! A running server is detected through SQLite's own locks: every connection to a WAL database
//! holds a shared lock on the file for as long as it is open, so an exclusive lock is granted
//! only when nothing else has it open.

pub mod schedule;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::health;

/// Where README explains backing up PostgreSQL.
const PG_ADVICE: &str =
    "for PostgreSQL use pg_dump and pg_restore as README's \"Backups\" section shows";

/// The file of a `sqlite://` database URL; a PostgreSQL URL is refused with `what` and the
/// pointer to `pg_dump`.
pub fn sqlite_path(url: &str, what: &str) -> anyhow::Result<PathBuf> {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        bail!("`qhall-server {what}` works on SQLite databases; {PG_ADVICE}");
    }
    let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .with_context(|| format!("not a sqlite:// database URL: {url}"))?;
    Ok(opts.get_filename().to_path_buf())
}

/// Opens an existing database (never creates one).
fn open_existing(path: &Path) -> anyhow::Result<Connection> {
    if !path.exists() {
        bail!("there is no database at {}", path.display());
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

/// `path` with `suffix` appended to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Copies the database at `from` into a new file `to` with SQLite's online backup API, as one
/// consistent snapshot, while other connections go on writing. Returns the size written.
pub fn backup(from: &Path, to: &Path) -> anyhow::Result<u64> {
    if to.exists() {
        bail!(
            "{} already exists: choose a new file name (a backup never overwrites)",
            to.display()
        );
    }
    let src = open_existing(from)?;
    let partial = beside(to, ".partial");
    let _ = std::fs::remove_file(&partial);
    let written = copy_into(&src, &partial).and_then(|()| {
        sync_file(&partial)?;
        std::fs::rename(&partial, to)
            .with_context(|| format!("renaming {} to {}", partial.display(), to.display()))?;
        sync_dir(to)?;
        Ok(std::fs::metadata(to)?.len())
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// Copies every page of `src` into a new file at `dest` in one step (one read snapshot), and
/// leaves it as one self-contained file (rollback journal, not WAL).
fn copy_into(src: &Connection, dest: &Path) -> anyhow::Result<()> {
    let mut dst = Connection::open(dest).with_context(|| format!("creating {}", dest.display()))?;
    {
        let backup = Backup::new(src, &mut dst)?;
        let mut waits = 0;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked if waits < 200 => {
                    waits += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                StepResult::Busy | StepResult::Locked => {
                    bail!("the database stayed locked for 10 s; try again")
                }
                _ => bail!("unexpected backup state"),
            }
        }
    }
    dst.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    dst.close().map_err(|(_, e)| e)?;
    Ok(())
}

fn sync_file(path: &Path) -> anyhow::Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", path.display()))
}

/// Makes a rename in `path`'s folder durable.
fn sync_dir(path: &Path) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}

/// What `check` found: nothing (healthy) or the problems, one a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub problems: Vec<String>,
}

impl Verdict {
    pub fn healthy(&self) -> bool {
        self.problems.is_empty()
    }
}

/// `PRAGMA integrity_check` and `PRAGMA foreign_key_check` of the database at `path`. A file
/// too damaged to run them is a verdict too, not an error.
pub fn check(path: &Path) -> anyhow::Result<Verdict> {
    let conn = open_existing(path)?;
    let mut problems = Vec::new();
    let integrity = conn.prepare("PRAGMA integrity_check").and_then(|mut s| {
        s.query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()
    });
    match integrity {
        Ok(rows) => problems.extend(rows.into_iter().filter(|r| r != "ok")),
        Err(e) => problems.push(format!("the integrity check could not run: {e}")),
    }
    let foreign = conn.prepare("PRAGMA foreign_key_check").and_then(|mut s| {
        s.query_map([], |r| {
            Ok(format!(
                "table {} row {} refers to a missing row of {}",
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?
                    .map_or_else(|| "?".into(), |v| v.to_string()),
                r.get::<_, String>(2)?
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()
    });
    match foreign {
        Ok(rows) => problems.extend(rows),
        Err(e) => problems.push(format!("the foreign key check could not run: {e}")),
    }
    Ok(Verdict { problems })
}

/// What to do about a damaged database at `path` (the `check` verdict and the start-up error).
pub fn advice(path: &Path) -> String {
    format!(
        "What to do: stop the server; run `qhall-server check` on your newest backup \
         (`qhall-server check --database sqlite://BACKUP`) and put the newest healthy one back \
         with `qhall-server restore BACKUP` (it replaces {}; README, \"Backups\"). Without a \
         healthy backup, keep a copy of the damaged file and try `sqlite3 {} .recover | sqlite3 \
         recovered.db`, then check recovered.db.",
        path.display(),
        path.display()
    )
}

/// Puts the backup at `from` in place of the database at `to`: refuses a damaged backup or one
/// that is not a Qhall database, and refuses while anything has `to` open.
pub fn restore(from: &Path, to: &Path) -> anyhow::Result<()> {
    let verdict = check(from).with_context(|| format!("reading the backup {}", from.display()))?;
    if !verdict.healthy() {
        bail!(
            "the backup {} is damaged ({}); nothing was changed: restore another backup",
            from.display(),
            verdict.problems.join("; ")
        );
    }
    let src = open_existing(from)?;
    let tables: i64 = src.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('_sqlx_migrations', 'tickets')",
        [],
        |r| r.get(0),
    )?;
    if tables != 2 {
        bail!(
            "{} is not a Qhall database; nothing was changed",
            from.display()
        );
    }
    let partial = beside(to, ".restoring");
    let _ = std::fs::remove_file(&partial);
    let result = copy_into(&src, &partial)
        .and_then(|()| sync_file(&partial))
        .and_then(|()| refuse_if_open(to))
        .and_then(|()| {
            // A stale WAL beside the restored file would be replayed onto it.
            for suffix in ["-wal", "-shm", "-journal"] {
                match std::fs::remove_file(beside(to, suffix)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e).context("removing the old database's WAL"),
                }
            }
            std::fs::rename(&partial, to)
                .with_context(|| format!("renaming {} to {}", partial.display(), to.display()))?;
            sync_dir(to)
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Fails if any connection (a running server, another tool) has the database at `path` open:
/// SQLite grants the exclusive lock only when no other connection holds its shared one.
fn refuse_if_open(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(Duration::ZERO)?;
    let locked = conn
        .query_row("PRAGMA locking_mode = EXCLUSIVE", [], |_| Ok(()))
        .and_then(|()| conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;"));
    match locked {
        Ok(()) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(f, _))
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            bail!(
                "{} is in use (a qhall-server is running on it, or another program has it \
                 open): stop the server first; nothing was changed",
                path.display()
            )
        }
        // A live file too damaged to lock is being replaced anyway.
        Err(e) if health::sqlite_unavailable(&e).is_some() => Ok(()),
        Err(e) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}

/// The error at start-up when the database is damaged: says so, and names `check` and
/// `restore`, instead of a raw driver error.
pub fn explain_open_error(url: &str, e: anyhow::Error) -> anyhow::Error {
    if !health::is_corruption(&e) {
        return e;
    }
    let path = sqlite_path(url, "serve").unwrap_or_else(|_| PathBuf::from(url));
    e.context(format!(
        "the database {} is damaged, so the server cannot start on it. Run `qhall-server \
         check` to see what is wrong. {}",
        path.display(),
        advice(&path)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hall(path: &Path) -> Connection {
        let c = Connection::open(path).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE _sqlx_migrations (v INTEGER); \
             CREATE TABLE tickets (id INTEGER PRIMARY KEY, n TEXT); \
             INSERT INTO tickets (n) VALUES ('A001'), ('A002');",
        )
        .unwrap();
        c
    }

    #[test]
    fn a_backup_is_one_healthy_file_and_restores_over_a_closed_database() {
        let dir = tempfile::tempdir().unwrap();
        let (db, copy) = (dir.path().join("q.db"), dir.path().join("b.db"));
        let live = hall(&db);
        backup(&db, &copy).unwrap();
        assert!(check(&copy).unwrap().healthy());
        assert!(!beside(&copy, "-wal").exists());
        // While `live` is open, restoring over it is refused and changes nothing.
        live.execute("INSERT INTO tickets (n) VALUES ('A003')", [])
            .unwrap();
        let err = restore(&copy, &db).unwrap_err().to_string();
        assert!(err.contains("in use"), "{err}");
        drop(live);
        restore(&copy, &db).unwrap();
        let n: i64 = Connection::open(&db)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM tickets", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        assert!(backup(&db, &copy).is_err(), "a backup never overwrites");
    }

    #[test]
    fn a_postgres_url_is_pointed_to_pg_dump() {
        let err = sqlite_path("postgres://h/db", "backup")
            .unwrap_err()
            .to_string();
        assert!(err.contains("pg_dump"), "{err}");
    }
}

//! Administration without any web page: `migrate`, `migrate-data`, `user add`, `device add`,
//! `branch add`,
//! `backup`, `restore`, `check` (the last three in [`crate::store::backup`]).

use std::io::Read;

use chrono::Utc;

use crate::auth::{hash_password, new_token, token_hash};
use crate::config::{BranchCommand, Config, DeviceCommand, MigrateDataArgs, UserCommand};
use crate::store::Role;
use crate::store::backup;
use qhall_shared::WindowNo;

/// Creates or upgrades the schema (opening the store runs the migrations).
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = crate::open_store(config).await?;
    store.close().await;
    println!(
        "database is up to date: {}",
        crate::store::facade::redact(&config.database_url)
    );
    Ok(())
}

/// `migrate-data --from sqlite://… --to postgres://…`: copies the hall and prints the rows per table.
pub async fn migrate_data(args: &MigrateDataArgs) -> anyhow::Result<()> {
    let report = crate::store::migrate_data::run(&args.from, &args.to).await?;
    for (table, rows) in &report {
        println!("{table:<20} {rows:>10} rows");
    }
    println!(
        "copied {} into {}",
        crate::store::facade::redact(&args.from),
        crate::store::facade::redact(&args.to)
    );
    Ok(())
}

/// `user add NAME --role ROLE`: the password comes from `QHALL_PASSWORD` or standard input.
pub async fn user(config: &Config, cmd: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Add {
        username,
        role,
        branch,
    } = cmd;
    let role = match Role::parse(&role) {
        Some(r @ (Role::Staff | Role::Manager | Role::Admin)) => r,
        _ => anyhow::bail!("a person's role is staff, manager or admin, not {role:?}"),
    };
    if username.trim().is_empty() || username.len() > 64 {
        anyhow::bail!("a username is 1 to 64 characters");
    }
    let password = match std::env::var("QHALL_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s.trim_end_matches(['\n', '\r']).to_owned()
        }
    };
    if password.chars().count() < 8 && !config.demo {
        anyhow::bail!("a password needs at least 8 characters");
    }
    let store = crate::open_store(config).await?;
    let branch = if role == Role::Admin {
        None
    } else {
        Some(branch)
    };
    let id = store
        .add_user(
            branch,
            &username,
            &hash_password(&password)?,
            role,
            Utc::now(),
        )
        .await?;
    store.close().await;
    println!("added {} {username} (id {id})", role.as_str());
    Ok(())
}

/// `device add NAME --role kiosk|display|pad|booking [--window N]`: prints the token once (a pad's
/// pairing link too, on standard error).
pub async fn device(config: &Config, cmd: DeviceCommand) -> anyhow::Result<()> {
    let DeviceCommand::Add {
        name,
        role,
        branch,
        window,
    } = cmd;
    let role = match Role::parse(&role) {
        Some(r) if r.is_device() => r,
        _ => anyhow::bail!("a device's role is kiosk, display, pad or booking, not {role:?}"),
    };
    let window = match (role, window) {
        (Role::Pad, Some(n)) => {
            Some(WindowNo::new(n).map_err(|_| anyhow::anyhow!("there is no window {n}"))?)
        }
        (Role::Pad, None) => anyhow::bail!("a rating pad is bound to one window: add --window N"),
        (_, Some(_)) => anyhow::bail!("only a rating pad (--role pad) takes --window"),
        (_, None) => None,
    };
    let store = crate::open_store(config).await?;
    if let Some(n) = window
        && store.config(branch).await?.window(n).is_none()
    {
        store.close().await;
        anyhow::bail!("branch {branch} has no window {n}");
    }
    let token = new_token();
    store
        .add_device(
            branch,
            &name,
            (role, window),
            &token_hash(&token),
            Utc::now(),
        )
        .await?;
    store.close().await;
    println!("{token}");
    eprintln!(
        "added {} {name}: the token above is shown only now; give it to the device (--token)",
        role.as_str()
    );
    if let Some(n) = window {
        eprintln!(
            "pair the pad by opening {}{}#pad={token} on it once (the part after # \
             never reaches the server or a proxy log)",
            config.public_url.as_deref().unwrap_or("http://SERVER"),
            crate::web::rate::pad_path(branch, n)
        );
    }
    Ok(())
}

/// `backup FILE`: a consistent copy of the SQLite database, taken while the server runs.
pub async fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let db = backup::sqlite_path(&config.database_url, "backup")?;
    let to = file.to_path_buf();
    let size = tokio::task::spawn_blocking(move || backup::backup(&db, &to)).await??;
    println!("backed up to {} ({size} bytes)", file.display());
    Ok(())
}

/// `restore FILE`: replaces the (stopped) SQLite database with a checked backup.
pub async fn restore(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let db = backup::sqlite_path(&config.database_url, "restore")?;
    let (from, to) = (file.to_path_buf(), db.clone());
    tokio::task::spawn_blocking(move || backup::restore(&from, &to)).await??;
    println!(
        "restored {} from {}; start the server again",
        db.display(),
        file.display()
    );
    Ok(())
}

/// `check`: the integrity and foreign key checks, a plain verdict, and what to do.
pub async fn check(config: &Config) -> anyhow::Result<()> {
    let db = backup::sqlite_path(&config.database_url, "check")?;
    let path = db.clone();
    let verdict = tokio::task::spawn_blocking(move || backup::check(&path)).await??;
    if verdict.healthy() {
        println!(
            "ok: {} passes SQLite's integrity and foreign key checks; nothing to do",
            db.display()
        );
        return Ok(());
    }
    println!("DAMAGED: {} fails SQLite's checks:", db.display());
    for problem in verdict.problems.iter().take(20) {
        println!("  - {problem}");
    }
    if verdict.problems.len() > 20 {
        println!("  … and {} more", verdict.problems.len() - 20);
    }
    println!("{}", backup::advice(&db));
    anyhow::bail!("{} is damaged", db.display())
}

/// `branch add NAME --timezone TZ`: creates a branch (office hours on weekdays, no services or
/// windows yet) and prints its id; its managers are added with `user add --branch ID`.
pub async fn branch(config: &Config, cmd: BranchCommand) -> anyhow::Result<()> {
    let BranchCommand::Add {
        name,
        timezone,
        name_zh_hant,
        name_en,
    } = cmd;
    let store = crate::open_store(config).await?;
    let new = crate::hall::settings::NewBranch {
        name: qhall_shared::api::Localized {
            zh: name,
            zh_hant: name_zh_hant,
            en: name_en,
        },
        time_zone: timezone,
    };
    let added = store.add_branch(None, new, Utc::now()).await;
    store.close().await;
    let b = added?;
    println!("{}", b.id);
    eprintln!(
        "added branch {} ({}, {}): add its manager with `user add NAME --role manager --branch {}`",
        b.id, b.name.zh, b.time_zone, b.id
    );
    Ok(())
}

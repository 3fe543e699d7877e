//! Backups of a SQLite hall, with the real binary: `qhall-server backup FILE` while 16 kiosks
//! issue, `restore` (refused over a running server's file), `check`, a damaged file at start,
//! and the daily backup with its retention.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qhall_server::store::backup::{self, schedule};
use qhall_tests::{KIOSK, ServerProcess};
use serde_json::{Value, json};

/// Runs `qhall-server ARGS… --database URL` to completion.
fn admin(url: &str, args: &[&str]) -> Output {
    Command::new(ServerProcess::binary())
        .args(args)
        .args(["--database", url])
        .output()
        .expect("run qhall-server")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The ids of every ticket in the SQLite database at `path`.
async fn ticket_ids(path: &Path) -> HashSet<String> {
    use sqlx::ConnectOptions;
    let mut c = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .expect("open the restored database");
    sqlx::query_scalar::<_, String>("SELECT id FROM tickets")
        .fetch_all(&mut c)
        .await
        .expect("tickets")
        .into_iter()
        .collect()
}

async fn issue(client: &reqwest::Client, url: &str) -> reqwest::Response {
    client
        .post(format!("{url}/api/v1/tickets"))
        .bearer_auth(KIOSK)
        .json(&json!({"service": "A"}))
        .send()
        .await
        .expect("issue")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_sixteen_kiosks_issue_restores_healthy_with_every_ticket_acknowledged_before_it()
 {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hall.db").display());
    let server = ServerProcess::start(&url).unwrap();
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::new();
    let mut kiosks = Vec::new();
    for _ in 0..16 {
        let (acked, stop, client, url) = (
            acknowledged.clone(),
            stop.clone(),
            client.clone(),
            server.url.clone(),
        );
        kiosks.push(tokio::spawn(async move {
            let mut failures = 0;
            while !stop.load(Ordering::Relaxed) {
                let r = issue(&client, &url).await;
                if r.status() == 201 {
                    let t: Value = r.json().await.unwrap();
                    acked
                        .lock()
                        .unwrap()
                        .push(t["id"].as_str().unwrap().to_owned());
                } else {
                    failures += 1;
                }
            }
            failures
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 300 {
        assert!(Instant::now() < deadline, "the kiosks issued too slowly");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Every ticket acknowledged before the backup begins must be in it.
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let copy = dir.path().join("copy.db");
    let (u, c) = (url.clone(), copy.display().to_string());
    let out = tokio::task::spawn_blocking(move || admin(&u, &["backup", &c]))
        .await
        .unwrap();
    assert!(out.status.success(), "backup failed: {}", text(&out));
    let during = acknowledged.lock().unwrap().len() - before.len();
    stop.store(true, Ordering::Relaxed);
    for k in kiosks {
        assert_eq!(k.await.unwrap(), 0, "an issue failed during the backup");
    }
    assert!(during > 0, "no ticket was issued while the backup ran");

    // Restored into a new place, it passes the check and holds every one of them.
    let restored = dir.path().join("restored.db");
    let restored_url = format!("sqlite://{}", restored.display());
    let out = admin(&restored_url, &["restore", &copy.display().to_string()]);
    assert!(out.status.success(), "restore failed: {}", text(&out));
    let out = admin(&restored_url, &["check"]);
    assert!(out.status.success(), "check failed: {}", text(&out));
    assert!(text(&out).starts_with("ok:"), "{}", text(&out));
    let ids = ticket_ids(&restored).await;
    let missing: Vec<_> = before.iter().filter(|id| !ids.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged tickets are missing from the backup",
        missing.len(),
        before.len()
    );
    // And a server runs on it.
    let again = ServerProcess::start(&restored_url).unwrap();
    let r = reqwest::get(format!("{}/api/v1/tickets/{}", again.url, before[0]))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn restore_over_a_running_servers_database_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("hall.db");
    let url = format!("sqlite://{}", live.display());
    let server = ServerProcess::start(&url).unwrap();
    let client = reqwest::Client::new();
    let first: Value = issue(&client, &server.url).await.json().await.unwrap();
    let copy = dir.path().join("copy.db");
    let out = admin(&url, &["backup", &copy.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out));
    let second: Value = issue(&client, &server.url).await.json().await.unwrap();

    let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
    let before = inode(&live);
    let out = admin(&url, &["restore", &copy.display().to_string()]);
    assert!(!out.status.success(), "restore over a live database ran");
    let said = text(&out);
    assert!(
        said.contains("in use") && said.contains("stop the server"),
        "unclear refusal: {said}"
    );
    assert_eq!(inode(&live), before, "the live file was replaced");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("restoring"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The server still has both tickets, the one after the backup too, and goes on issuing.
    for t in [&first, &second] {
        let r = client
            .get(format!(
                "{}/api/v1/tickets/{}",
                server.url,
                t["id"].as_str().unwrap()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(issue(&client, &server.url).await.status(), 201);

    // A PostgreSQL URL is pointed to pg_dump.
    let out = admin("postgres://qhall@127.0.0.1/qhall", &["backup", "x.db"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("pg_dump"), "{}", text(&out));
}

#[tokio::test]
async fn a_damaged_database_stops_the_server_with_a_message_naming_check_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.db");
    let url = format!("sqlite://{}", db.display());
    let out = admin(&url, &["--demo", "migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    // Page 1 past the file header is the schema's b-tree: overwrite it, and drop the WAL that
    // might hold a good copy of it.
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[100..4096].fill(0xff);
    std::fs::write(&db, &bytes).unwrap();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }

    let mut child = Command::new(ServerProcess::binary())
        .args(["--listen", "127.0.0.1:0", "--database", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server kept running on a damaged database");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    let said = text(&out);
    assert!(!status.success());
    assert!(!said.contains("panicked"), "{said}");
    assert!(
        said.contains("damaged")
            && said.contains("qhall-server check")
            && said.contains("qhall-server restore"),
        "unclear message: {said}"
    );

    let out = admin(&url, &["check"]);
    assert!(!out.status.success(), "check passed a damaged database");
    let said = text(&out);
    assert!(
        said.contains("DAMAGED") && said.contains("qhall-server restore"),
        "{said}"
    );
}

#[tokio::test]
async fn the_daily_backup_writes_a_file_and_keeps_only_the_configured_number() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    // Four older daily backups, and a file that is none of the schedule's business.
    let day = |d: u32| {
        chrono::NaiveDate::from_ymd_opt(2026, 1, d)
            .unwrap()
            .and_hms_opt(3, 0, 0)
            .unwrap()
            .and_utc()
    };
    for d in 1..=4 {
        std::fs::write(backups.join(schedule::file_name(day(d))), b"old").unwrap();
    }
    std::fs::write(backups.join("notes.txt"), b"mine").unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = qhall_server::Config {
        database_url: format!("sqlite://{}", dir.path().join("hall.db").display()),
        demo: true,
        backup: Some(schedule::Schedule {
            dir: backups.clone(),
            keep: 3,
        }),
        ..Default::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(qhall_server::run(config, listener, async move {
        let _ = stopped.await;
    }));

    let deadline = Instant::now() + Duration::from_secs(30);
    let newest = loop {
        let found = schedule::backups_in(&backups).unwrap();
        if found.len() == 3 && found[0].0 > day(4) {
            break found;
        }
        assert!(Instant::now() < deadline, "no daily backup appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let kept: Vec<_> = newest.iter().map(|(at, _)| *at).collect();
    assert_eq!(kept.len(), 3, "{kept:?}");
    assert_eq!(&kept[1..], &[day(4), day(3)]);
    assert!(backup::check(&newest[0].1).unwrap().healthy());
    assert!(backups.join("notes.txt").exists());
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

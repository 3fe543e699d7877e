//! A disk that fills up: the real binary with its database on a small tmpfs. Writes answer 503
//! with a code (never 500, never a dropped connection), `/healthz/ready` turns false while
//! `/healthz` stays 200, every ticket acknowledged with 201 can still be read, and once space
//! returns issuing resumes by itself and the server is ready again.
//!
//! Needs `mount -t tmpfs` (root); where mounting is not permitted the test prints `SKIPPED: …`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qhall_tests::{KIOSK, ServerProcess};
use serde_json::{Value, json};

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        Ok(Tmpfs {
            dir: dir.to_path_buf(),
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

/// Fills the file system with `path` until a write fails, then gives back `headroom` bytes.
fn fill(path: &Path, headroom: u64) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0x5a_u8; 64 * 1024];
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
            Err(e) => panic!("filling: {e}"),
        }
    }
    // Whatever a partial write left, round down to whole chunks, then free the headroom.
    let len = f.metadata().unwrap().len();
    f.set_len(len.saturating_sub(headroom) / 4096 * 4096)
        .unwrap();
    f.sync_all().unwrap();
}

/// What one issue attempt got.
#[derive(Debug, Clone)]
enum Outcome {
    Issued(String),
    Refused(u16, String),
}

async fn issue(client: &reqwest::Client, url: &str) -> Outcome {
    let r = client
        .post(format!("{url}/api/v1/tickets"))
        .bearer_auth(KIOSK)
        .json(&json!({"service": "A"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("the connection failed instead of an answer: {e}"));
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    if status == 201 {
        Outcome::Issued(body["id"].as_str().unwrap().to_owned())
    } else {
        Outcome::Refused(
            status,
            body["error"]["code"].as_str().unwrap_or("").to_owned(),
        )
    }
}

async fn status_of(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.expect("a health answer");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Polls `url` until it answers `status`, up to `limit`.
async fn wait_for_status(url: &str, status: u16, limit: Duration) -> (u16, Value) {
    let deadline = Instant::now() + limit;
    loop {
        let got = status_of(url).await;
        if got.0 == status || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_turns_writes_into_503_and_ready_false_keeps_every_ticket_and_recovers_by_itself()
 {
    let scratch = tempfile::tempdir().unwrap();
    let mnt = scratch.path().join("disk");
    let tmpfs = match Tmpfs::mount(&mnt, "16m") {
        Ok(t) => t,
        Err(e) => {
            println!("SKIPPED: cannot mount a tmpfs for the disk-full test ({e})");
            return;
        }
    };
    let url = format!("sqlite://{}", tmpfs.dir.join("hall.db").display());
    let server = ServerProcess::start(&url).unwrap();
    let base = server.url.clone();
    assert_eq!(
        wait_for_status(
            &format!("{base}/healthz/ready"),
            200,
            Duration::from_secs(10)
        )
        .await
        .0,
        200,
        "not ready on an empty disk"
    );

    // Leave 256 KiB free, then issue from 8 kiosks until the disk is full.
    let filler = tmpfs.dir.join("filler");
    fill(&filler, 256 * 1024);
    let client = reqwest::Client::new();
    let outcomes = Arc::new(Mutex::new(Vec::<Outcome>::new()));
    let full = Arc::new(AtomicBool::new(false));
    let mut kiosks = Vec::new();
    for _ in 0..8 {
        let (client, base, outcomes, full) =
            (client.clone(), base.clone(), outcomes.clone(), full.clone());
        kiosks.push(tokio::spawn(async move {
            let started = Instant::now();
            let mut after_full = 0;
            while after_full < 20 && started.elapsed() < Duration::from_secs(120) {
                let o = issue(&client, &base).await;
                if matches!(o, Outcome::Refused(..)) {
                    full.store(true, Ordering::Relaxed);
                }
                if full.load(Ordering::Relaxed) {
                    after_full += 1;
                }
                outcomes.lock().unwrap().push(o);
            }
        }));
    }
    for k in kiosks {
        k.await.unwrap();
    }
    let outcomes = outcomes.lock().unwrap().clone();
    assert!(full.load(Ordering::Relaxed), "the disk never filled");
    let acknowledged: Vec<String> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Issued(id) => Some(id.clone()),
            Outcome::Refused(..) => None,
        })
        .collect();
    let refused: Vec<(u16, String)> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Refused(s, c) => Some((*s, c.clone())),
            Outcome::Issued(_) => None,
        })
        .collect();
    println!(
        "{} tickets issued before the disk filled, {} refused",
        acknowledged.len(),
        refused.len()
    );
    for (status, code) in &refused {
        assert_eq!(
            *status, 503,
            "a write on a full disk answered {status} {code}"
        );
        assert!(
            code == "storage_full" || code == "storage_unavailable",
            "503 with code {code:?}"
        );
    }

    // Not ready, yet alive; and still refusing (the full disk is no one-off).
    let (status, body) = wait_for_status(
        &format!("{base}/healthz/ready"),
        503,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(status, 503, "ready on a full disk: {body}");
    let code = body["error"]["code"].as_str().unwrap_or("");
    assert!(code.starts_with("storage_"), "{body}");
    assert_eq!(status_of(&format!("{base}/healthz")).await.0, 200);
    // Still refusing: the full disk is no one-off. SQLite may find room for some tickets in
    // pages its failed transactions gave back, and in the WAL file once a checkpoint lets it
    // start over from its beginning (measured: 1 run in 4 issued one more; 1 in 3, five or more
    // in a row) — real room, so those tickets are acknowledged and kept like the others. Until
    // the space is gone again: then 503, well before 200 more.
    let mut acknowledged = acknowledged;
    let mut refused_again = false;
    for _ in 0..200 {
        match issue(&client, &base).await {
            Outcome::Issued(id) => acknowledged.push(id),
            Outcome::Refused(status, code) => {
                assert_eq!(status, 503, "a write on a still full disk answered {code}");
                refused_again = true;
                break;
            }
        }
    }
    assert!(
        refused_again,
        "two hundred writes in a row succeeded on a full disk"
    );
    println!("{} acknowledged in all", acknowledged.len());

    // Every acknowledged ticket is still there.
    for id in &acknowledged {
        let r = client
            .get(format!("{base}/api/v1/tickets/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged ticket {id} lost");
    }

    // Space returns: issuing resumes and the server is ready again, with no restart.
    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let resumed = loop {
        if let Outcome::Issued(id) = issue(&client, &base).await {
            break id;
        }
        assert!(Instant::now() < deadline, "issuing did not resume");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (status, body) = wait_for_status(
        &format!("{base}/healthz/ready"),
        200,
        Duration::from_secs(15),
    )
    .await;
    assert_eq!(status, 200, "not ready after space returned: {body}");
    let r = client
        .get(format!("{base}/api/v1/tickets/{resumed}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    drop(server);
    drop(tmpfs);
}

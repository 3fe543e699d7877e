//! The command line: help, configuration layers, and administering a hall without a web page.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_qhall-server");

fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("QHALL_DATABASE_URL")
        .env_remove("QHALL_LISTEN");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run qhall-server")
}

#[test]
fn help_documents_every_option_and_command() {
    let out = run(&["--help"], &[]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for word in [
        "--demo",
        "--listen",
        "--database",
        "--config",
        "--public-url",
        "--durability",
        "--policy",
        "--time-zone",
        "--log",
        "QHALL_LISTEN",
        "QHALL_DATABASE_URL",
        "migrate",
        "user",
        "device",
        "simulate",
    ] {
        assert!(
            help.contains(word),
            "--help does not mention {word}:\n{help}"
        );
    }
}

/// Starts a server on port 0 and returns (child, base URL).
fn serve(db: &str, demo: bool) -> (std::process::Child, String) {
    let mut args = vec!["--listen", "127.0.0.1:0", "--database", db];
    if demo {
        args.insert(0, "--demo");
    }
    let mut child = Command::new(BIN)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(u) = line.strip_prefix("listening on ") {
                let _ = tx.send(u.to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("listening line");
    (child, url)
}

#[test]
fn a_fresh_hall_has_no_demo_credentials_and_is_administered_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hall.db").display());

    let out = run(&["migrate", "--database", &db], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        &[
            "user",
            "add",
            "alice",
            "--role",
            "manager",
            "--database",
            &db,
        ],
        &[("QHALL_PASSWORD", "correct horse battery")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        &["user", "add", "bob", "--role", "manager", "--database", &db],
        &[("QHALL_PASSWORD", "short")],
    );
    assert!(!out.status.success(), "a short password is refused");
    let out = run(
        &[
            "device",
            "add",
            "kiosk-1",
            "--role",
            "kiosk",
            "--database",
            &db,
        ],
        &[],
    );
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.len() >= 40, "printed token {token:?}");

    let (mut child, url) = serve(&db, false);
    let client = reqwest::blocking::Client::new();
    // No demo credentials without --demo.
    let r = client
        .get(format!("{url}/api/v1/services"))
        .bearer_auth("demo-kiosk")
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .post(format!("{url}/api/v1/login"))
        .json(&serde_json::json!({"username": "manager", "password": "demo"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    // The people and devices added on the command line work.
    let r = client
        .post(format!("{url}/api/v1/login"))
        .json(&serde_json::json!({"username": "alice", "password": "correct horse battery"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .get(format!("{url}/api/v1/services"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_fresh_server_without_users_says_how_to_create_the_first_admin() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hall.db").display());
    let (mut child, _url) = serve(&db, false);
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("user add --role admin"), "{err}");
}

#[test]
fn a_bad_configuration_is_refused_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("qhall.toml");
    std::fs::write(&cfg, "listen = 5\n").unwrap();
    let out = run(&["--config", cfg.to_str().unwrap(), "migrate"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("qhall.toml"));
}

//! [`ServerProcess`]: the built `qhall-server` binary run as its own process, for the tests that
//! kill it (`kill -9`), read its memory, or start it with command-line flags.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::app::TEST_ISSUE_LIMIT;

/// The built `qhall-server` binary, run as its own process (for `kill -9`).
pub struct ServerProcess {
    pub url: String,
    child: Child,
}

impl ServerProcess {
    /// The binary beside this test's own executable (`target/debug/qhall-server`).
    pub fn binary() -> PathBuf {
        if let Ok(p) = std::env::var("QHALL_SERVER_BIN") {
            return p.into();
        }
        // Where cargo puts the final binaries (which need not be where the test executable was
        // built, when `build.build-dir` is set apart from the target directory).
        if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
            let p = PathBuf::from(dir).join("debug").join("qhall-server");
            if p.exists() {
                return p;
            }
        }
        let exe = std::env::current_exe().expect("current exe");
        let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
        dir.join("qhall-server")
    }

    /// Starts `qhall-server --demo --listen 127.0.0.1:0 --database URL` (with
    /// [`TEST_ISSUE_LIMIT`]) and waits for its `listening on` line.
    pub fn start(database_url: &str) -> anyhow::Result<ServerProcess> {
        let limit = TEST_ISSUE_LIMIT.to_string();
        Self::start_with(database_url, &["--issue-limit", &limit])
    }

    /// As [`ServerProcess::start`] with `args` added and every other setting at its default.
    pub fn start_with(database_url: &str, args: &[&str]) -> anyhow::Result<ServerProcess> {
        Self::spawn(database_url, args, Stdio::null())
    }

    /// As [`ServerProcess::start_with`], its log (standard error) appended to the file `log`.
    pub fn start_logged(
        database_url: &str,
        args: &[&str],
        log: &std::path::Path,
    ) -> anyhow::Result<ServerProcess> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .context("open the log file")?;
        Self::spawn(database_url, args, Stdio::from(file))
    }

    fn spawn(database_url: &str, args: &[&str], stderr: Stdio) -> anyhow::Result<ServerProcess> {
        use std::io::{BufRead, BufReader};
        let bin = Self::binary();
        if !bin.exists() {
            bail!(
                "{} is not built (cargo build -p qhall-server)",
                bin.display()
            );
        }
        let mut child = Command::new(&bin)
            .args([
                "--demo",
                "--listen",
                "127.0.0.1:0",
                "--database",
                database_url,
            ])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .context("spawn qhall-server")?;
        let out = child.stdout.take().context("stdout")?;
        let mut lines = BufReader::new(out).lines();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.by_ref().map_while(Result::ok) {
                if let Some(u) = line.strip_prefix("listening on ") {
                    let _ = tx.send(u.trim().to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .context("no 'listening on' line")?;
        Ok(ServerProcess { url, child })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's resident memory, in bytes ([`rss_of`] its process).
    pub fn rss(&self) -> u64 {
        rss_of(self.pid())
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The resident memory of process `pid`, in bytes: `VmRSS` of `/proc/PID/status` (Linux). For a
/// sampler on its own thread, which cannot hold the [`ServerProcess`] itself.
pub fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in kB");
    kib * 1024
}

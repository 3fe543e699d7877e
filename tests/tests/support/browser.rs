//! A real headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`):
//! one chromedriver on a free port and a fresh profile per [`Browser`], both gone on drop.

#![allow(dead_code, unreachable_pub)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// Chromium's flags for a machine without a display or network (TOOLCHAIN.md).
const FLAGS: [&str; 12] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    // Pages in other tabs keep polling at full speed, as they would on their own devices.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
];

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Starts chromedriver and a Chromium window of `width`×`height` CSS pixels.
    pub async fn start(width: u32, height: u32) -> Browser {
        Browser::start_with(width, height, &[]).await
    }

    /// As [`Browser::start`], with more Chromium flags (e.g. a certificate to trust).
    pub async fn start_with(width: u32, height: u32, extra: &[String]) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start /usr/bin/chromedriver (apt-get install chromium-driver)");
        let mut args: Vec<String> = FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push(format!("--window-size={width},{height}"));
        args.push("--lang=en-US".into());
        args.extend(extra.iter().cloned());
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": "/usr/bin/chromium", "args": args}),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last_err = String::new();
        for _ in 0..100 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        driver,
                        _profile: profile,
                    };
                }
                Err(e) => {
                    last_err = e.to_string();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        panic!("no WebDriver session from chromedriver: {last_err}");
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("goto");
    }

    /// Waits until `css` matches an element and returns it.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.wait_until(css, |_| true).await
    }

    /// Waits until the first element matching `css` has a text containing `text`.
    pub async fn wait_text(&self, css: &str, text: &str) -> String {
        let mut last = String::new();
        for _ in 0..200 {
            if let Ok(e) = self.client.find(Locator::Css(css)).await
                && let Ok(t) = e.text().await
            {
                if t.contains(text) {
                    return t;
                }
                last = t;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never showed {text:?}; last text {last:?}");
    }

    /// Waits until `css` matches an element for which `ok` holds (by its displayed/enabled state).
    pub async fn wait_until(
        &self,
        css: &str,
        ok: impl Fn(&State) -> bool,
    ) -> fantoccini::elements::Element {
        let mut last = None;
        for _ in 0..200 {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                let st = State {
                    displayed: e.is_displayed().await.unwrap_or(false),
                    enabled: e.is_enabled().await.unwrap_or(false),
                };
                if ok(&st) {
                    return e;
                }
                last = Some(st);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never reached the expected state; last {last:?}");
    }

    pub async fn click(&self, css: &str) {
        self.wait_until(css, |s| s.displayed && s.enabled)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait_until(css, |s| s.displayed && s.enabled).await;
        e.clear().await.ok();
        e.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    /// Opens a new window (another device, in effect) and switches to it; returns its handle.
    pub async fn new_tab(&self) -> fantoccini::wd::WindowHandle {
        let w = self.client.new_window(false).await.expect("new tab");
        self.client
            .switch_to_window(w.handle.clone())
            .await
            .expect("switch");
        w.handle
    }

    pub async fn switch(&self, handle: &fantoccini::wd::WindowHandle) {
        self.client
            .switch_to_window(handle.clone())
            .await
            .expect("switch tab");
    }

    pub async fn current_tab(&self) -> fantoccini::wd::WindowHandle {
        self.client.window().await.expect("window handle")
    }

    pub async fn screenshot(&self, path: &std::path::Path) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(path, png).expect("write screenshot");
    }

    /// Saves a screenshot as `name` in the folder `QHALL_SCREENSHOTS` names, when it names one.
    pub async fn snap(&self, name: &str) {
        if let Ok(dir) = std::env::var("QHALL_SCREENSHOTS") {
            self.screenshot(&std::path::Path::new(&dir).join(name))
                .await;
        }
    }

    /// Fills in and sends the login form the staff console and the manager pages show before
    /// their first page, as demo user `user` (password `demo`).
    pub async fn log_in(&self, user: &str) {
        self.type_into("#username", user).await;
        self.type_into("#password", "demo").await;
        self.click("#login-button").await;
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[derive(Debug, Clone, Copy)]
pub struct State {
    pub displayed: bool,
    pub enabled: bool,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

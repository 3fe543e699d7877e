//! The API, as kiosks, staff and the administrator reach it: one client, servers in turn.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, ensure};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) http: reqwest::Client,
    pub(crate) servers: Arc<Vec<String>>,
    pub(crate) next: Arc<AtomicUsize>,
}

impl Api {
    pub(crate) fn new(servers: Vec<String>) -> Api {
        Api {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(2048)
                .tcp_nodelay(true)
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            servers: Arc::new(servers),
            next: Arc::default(),
        }
    }

    /// The next server in turn (a round-robin load balancer).
    pub(crate) fn pick(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % self.servers.len()
    }

    pub(crate) async fn call(
        &self,
        server: usize,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.servers[server]))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await?;
        let status = r.status();
        let bytes = r.bytes().await?;
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok((status, v))
    }

    /// `call`, insisting on `want`.
    pub(crate) async fn expect(
        &self,
        server: usize,
        method: Method,
        path: &str,
        token: &str,
        body: Value,
        want: StatusCode,
    ) -> anyhow::Result<Value> {
        let (status, v) = self
            .call(server, method.clone(), path, token, Some(body))
            .await?;
        ensure!(status == want, "{method} {path}: {status} {v}");
        Ok(v)
    }

    pub(crate) async fn login(
        &self,
        server: usize,
        user: &str,
        password: &str,
    ) -> anyhow::Result<String> {
        let r = self
            .http
            .post(format!("{}/api/v1/login", self.servers[server]))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await?;
        ensure!(r.status() == StatusCode::OK, "login {user}: {}", r.status());
        let v: Value = r.json().await?;
        Ok(v["token"].as_str().context("a token")?.to_owned())
    }
}

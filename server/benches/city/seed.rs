//! The branches, made through the admin API as a city's administrator would make them, and
//! their staff signed in to every window.

use std::sync::Arc;

use anyhow::{Context, ensure};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::Settings;
use crate::api::Api;

pub(crate) const ADMIN: &str = "cityadmin";
pub(crate) const ADMIN_PASSWORD: &str = "city-admin-password";
const STAFF_PASSWORD: &str = "city-staff-password";
/// Admin sessions seeding branches at once (spread over the servers).
const SEEDERS: usize = 6;

/// One branch as the load sees it.
#[derive(Debug, Clone)]
pub(crate) struct Branch {
    pub(crate) id: i64,
    pub(crate) kiosk: String,
    pub(crate) display: String,
    /// Its share of the city's arrivals (mean 1 over the branches).
    pub(crate) weight: f64,
}

/// Branch 1 (a fresh server's empty branch) and `branches - 1` more, each set up by an admin
/// session switched to it.
pub(crate) async fn seed(api: &Api, s: &Settings) -> anyhow::Result<Vec<Branch>> {
    let admin = api.login(0, ADMIN, ADMIN_PASSWORD).await?;
    let mut ids = vec![1_i64];
    for i in 2..=s.branches {
        let v = api
            .expect(
                0,
                Method::POST,
                "/api/v1/branches",
                &admin,
                json!({"name": {"zh": format!("第{i}分厅"), "en": format!("Branch {i}")},
                       "time_zone": "Asia/Shanghai"}),
                StatusCode::CREATED,
            )
            .await?;
        ids.push(v["id"].as_i64().context("branch id")?);
    }
    let ids = Arc::new(ids);
    let mut tasks = Vec::new();
    for k in 0..SEEDERS.min(s.branches) {
        let (api, ids, windows) = (api.clone(), ids.clone(), s.windows);
        tasks.push(tokio::spawn(async move {
            // A session's branch is cached by the server that switched it: keep to that server.
            let server = k % api.servers.len();
            let token = api.login(server, ADMIN, ADMIN_PASSWORD).await?;
            let mut made = Vec::new();
            for (i, &id) in ids.iter().enumerate().skip(k).step_by(SEEDERS) {
                made.push((i, set_up_branch(&api, server, &token, id, windows).await?));
            }
            anyhow::Ok(made)
        }));
    }
    let mut branches: Vec<(usize, Branch)> = Vec::new();
    for t in tasks {
        branches.extend(t.await??);
    }
    branches.sort_by_key(|(i, _)| *i);
    let n = branches.len();
    Ok(branches
        .into_iter()
        .map(|(i, mut b)| {
            // Sizes spread evenly over 0.5–1.5 (mean 1), in a scrambled order.
            b.weight = if n == 1 {
                1.0
            } else {
                0.5 + ((i * 7919) % n) as f64 / (n - 1) as f64
            };
            b
        })
        .collect())
}

pub(crate) async fn set_up_branch(
    api: &Api,
    server: usize,
    token: &str,
    id: i64,
    windows: usize,
) -> anyhow::Result<Branch> {
    use StatusCode as S;
    let put = Method::PUT;
    let post = Method::POST;
    api.call(
        server,
        put.clone(),
        "/api/v1/session/branch",
        token,
        Some(json!({"branch": id})),
    )
    .await
    .and_then(|(st, v)| {
        ensure!(st == S::NO_CONTENT, "switch to branch {id}: {st} {v}");
        Ok(())
    })?;
    let day = json!([["00:00", "24:00"]]);
    api.expect(server, put, "/api/v1/config/hours", token,
        json!({"time_zone": "Asia/Shanghai", "weekly": [day, day, day, day, day, day, day], "cutoff_mins": 0}),
        S::OK).await?;
    for (code, zh, en) in [
        ("A", "综合业务", "General"),
        ("B", "社保医保", "Social insurance"),
    ] {
        api.expect(
            server,
            post.clone(),
            "/api/v1/config/services",
            token,
            json!({"code": code, "name": {"zh": zh, "en": en}, "last_number": 9999}),
            S::CREATED,
        )
        .await?;
    }
    for n in 1..=windows {
        let serves = if n % 2 == 1 { ["A", "B"] } else { ["B", "A"] };
        api.expect(server, post.clone(), "/api/v1/config/windows", token,
            json!({"number": n, "name": format!("{n}号窗口"), "serves": [{"service": serves[0]}, {"service": serves[1]}]}),
            S::CREATED).await?;
    }
    let device = async |name: &str, role: &str| -> anyhow::Result<String> {
        let v = api
            .expect(
                server,
                post.clone(),
                "/api/v1/devices",
                token,
                json!({"name": name, "role": role}),
                S::CREATED,
            )
            .await?;
        Ok(v["token"].as_str().context("device token")?.to_owned())
    };
    let kiosk = device("kiosk", "kiosk").await?;
    let display = device("boards", "display").await?;
    for n in 1..=windows {
        api.expect(
            server,
            post.clone(),
            "/api/v1/users",
            token,
            json!({"username": staff_name(id, n), "role": "staff", "password": STAFF_PASSWORD}),
            S::CREATED,
        )
        .await?;
    }
    Ok(Branch {
        id,
        kiosk,
        display,
        weight: 1.0,
    })
}

pub(crate) fn staff_name(branch: i64, window: usize) -> String {
    format!("b{branch}-w{window}")
}

/// One signed-in window.
#[derive(Debug, Clone)]
pub(crate) struct Staff {
    /// Index into the branches.
    pub(crate) branch: usize,
    pub(crate) window: usize,
    pub(crate) token: String,
}

pub(crate) async fn sign_in_staff(
    api: &Api,
    s: &Settings,
    branches: &[Branch],
) -> anyhow::Result<Vec<Staff>> {
    let gate = Arc::new(Semaphore::new(16));
    let mut tasks = Vec::new();
    for (bi, b) in branches.iter().enumerate() {
        for window in 1..=s.windows {
            let (api, gate, id) = (api.clone(), gate.clone(), b.id);
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire().await?;
                let token = api
                    .login(api.pick(), &staff_name(id, window), STAFF_PASSWORD)
                    .await?;
                api.expect(
                    api.pick(),
                    Method::POST,
                    &format!("/api/v1/windows/{window}/sign-in"),
                    &token,
                    json!({}),
                    StatusCode::OK,
                )
                .await?;
                anyhow::Ok(Staff {
                    branch: bi,
                    window,
                    token,
                })
            }));
        }
    }
    let mut staff = Vec::new();
    for t in tasks {
        staff.push(t.await??);
    }
    Ok(staff)
}

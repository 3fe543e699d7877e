//! The demo hall (`--demo`), and the empty hall a fresh production server starts with.
//!
//! Demo credentials exist only here and only with `--demo`: devices `demo-kiosk` and
//! `demo-display`, users `manager` and `staff1` … `staff4`, all with password `demo`.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::sqlite::SqliteStore;
use super::{Result, Role};
use crate::auth::{hash_password, token_hash};
use crate::queue::schedule::Weekly;

/// One hash of "demo" for every demo user: argon2 is slow on purpose, and a test suite starts
/// many demo halls.
fn demo_password_hash() -> Result<String> {
    static HASH: OnceLock<String> = OnceLock::new();
    if let Some(h) = HASH.get() {
        return Ok(h.clone());
    }
    let h = hash_password("demo")?;
    Ok(HASH.get_or_init(|| h).clone())
}

struct DemoService {
    code: &'static str,
    zh: &'static str,
    zh_hant: &'static str,
    en: &'static str,
    target_min: i64,
    mean_min: i64,
    guide_zh: &'static str,
    guide_zh_hant: &'static str,
    guide_en: &'static str,
}

const SERVICES: [DemoService; 4] = [
    DemoService {
        code: "A",
        zh: "综合业务",
        zh_hant: "綜合業務",
        en: "General services",
        target_min: 15,
        mean_min: 6,
        guide_zh: "请携带身份证原件。\n1. 取号等候叫号\n2. 到窗口提交材料\n3. 核对并签字",
        guide_zh_hant: "請攜帶身份證原件。\n1. 取號等候叫號\n2. 到窗口提交材料\n3. 核對並簽字",
        guide_en: "Bring your original ID card.\n1. Take a ticket and wait for your number\n2. Hand in your documents at the window\n3. Check and sign",
    },
    DemoService {
        code: "B",
        zh: "社保医保",
        zh_hant: "社保醫保",
        en: "Social insurance",
        target_min: 10,
        mean_min: 4,
        guide_zh: "请携带身份证和社保卡。",
        guide_zh_hant: "請攜帶身份證和社保卡。",
        guide_en: "Bring your ID card and social insurance card.",
    },
    DemoService {
        code: "C",
        zh: "出入境证件",
        zh_hant: "出入境證件",
        en: "Passports and permits",
        target_min: 30,
        mean_min: 10,
        guide_zh: "请携带身份证、户口簿和近期证件照片。",
        guide_zh_hant: "請攜帶身份證、戶口簿和近期證件照片。",
        guide_en: "Bring your ID card, household register and a recent passport photo.",
    },
    DemoService {
        code: "D",
        zh: "咨询",
        zh_hant: "諮詢",
        en: "Enquiries",
        target_min: 10,
        mean_min: 3,
        guide_zh: "政策咨询与材料预审。",
        guide_zh_hant: "政策諮詢與材料預審。",
        guide_en: "Questions about procedures, and a check of your documents before you apply.",
    },
];

/// Windows 1–4 and the services each serves, in order of preference; all serve A.
const WINDOWS: [(i64, &[&str]); 4] = [
    (1, &["A", "B"]),
    (2, &["A", "B", "D"]),
    (3, &["B", "A", "D"]),
    (4, &["C", "A"]),
];

/// Seeds the demo hall if the database has no branch yet. Returns whether it did.
pub async fn demo(db: &SqliteStore, now: DateTime<Utc>) -> Result<bool> {
    let hash = demo_password_hash()?;
    let weekly = serde_json::to_string(&Weekly::around_the_clock()).map_err(anyhow::Error::from)?;
    db.write(move |tx, _| {
        let c = tx.conn;
        if c.query_row("SELECT COUNT(*) FROM branches", [], |r| r.get::<_, i64>(0))? > 0 {
            return Ok(false);
        }
        c.execute(
            "INSERT INTO branches (id, name_zh, name_zh_hant, name_en, time_zone, weekly_hours, cutoff_mins) VALUES (1, ?, ?, ?, ?, ?, 0)",
            params!["Qhall 示范服务大厅", "Qhall 示範服務大廳", "Qhall Demo Service Hall", "Asia/Shanghai", weekly],
        )?;
        for (i, s) in SERVICES.iter().enumerate() {
            c.execute(
                "INSERT INTO services (branch_id, code, name_zh, name_zh_hant, name_en, guide_zh, guide_zh_hant, guide_en, \
                 target_wait_secs, default_service_secs, sort) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params![s.code, s.zh, s.zh_hant, s.en, s.guide_zh, s.guide_zh_hant, s.guide_en, s.target_min * 60, s.mean_min * 60, i as i64],
            )?;
        }
        for (n, serves) in WINDOWS {
            c.execute("INSERT INTO windows (branch_id, number, name) VALUES (1, ?, ?)", params![n, format!("{n}号窗口 / Window {n}")])?;
            for (rank, code) in serves.iter().enumerate() {
                c.execute(
                    "INSERT INTO window_services (branch_id, window_number, service_code, rank, weight) VALUES (1, ?, ?, ?, 1.0)",
                    params![n, code, rank as i64],
                )?;
            }
        }
        c.execute(
            "INSERT INTO notices (branch_id, text_zh, text_zh_hant, text_en) VALUES (1, ?, ?, ?)",
            params![
                "欢迎光临。请留意叫号屏幕和语音提示。",
                "歡迎光臨。請留意叫號螢幕和語音提示。",
                "Welcome. Please watch the board and listen for your number."
            ],
        )?;
        let ms = now.timestamp_millis();
        let mut users = vec![("manager".to_owned(), Role::Manager)];
        users.extend((1..=4).map(|i| (format!("staff{i}"), Role::Staff)));
        for (name, role) in users {
            c.execute(
                "INSERT INTO users (branch_id, username, display_name, password_hash, role, created_at) VALUES (1, ?, ?, ?, ?, ?)",
                params![name, name, hash, role.as_str(), ms],
            )?;
        }
        for (name, role) in [("demo-kiosk", Role::Kiosk), ("demo-display", Role::Display)] {
            c.execute(
                "INSERT INTO devices (branch_id, name, role, token_hash, created_at) VALUES (1, ?, ?, ?, ?)",
                params![name, role.as_str(), token_hash(name), ms],
            )?;
        }
        Ok(true)
    })
    .await
}

/// A fresh production database gets one empty branch (weekdays 09:00–17:00) to configure.
pub async fn empty_branch(db: &SqliteStore, time_zone: &str) -> Result<bool> {
    let weekly = serde_json::to_string(&Weekly::weekdays(&[(9 * 60, 17 * 60)]))
        .map_err(anyhow::Error::from)?;
    let tz = time_zone.to_owned();
    db.write(move |tx, _| {
        if tx.conn.query_row("SELECT COUNT(*) FROM branches", [], |r| r.get::<_, i64>(0))? > 0 {
            return Ok(false);
        }
        tx.conn.execute(
            "INSERT INTO branches (id, name_zh, name_en, time_zone, weekly_hours) VALUES (1, '服务大厅', 'Service hall', ?, ?)",
            params![tz, weekly],
        )?;
        Ok(true)
    })
    .await
}

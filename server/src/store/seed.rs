//! The demo hall (`--demo`), and the empty hall a fresh production server starts with.
//!
//! Demo credentials exist only here and only with `--demo`: devices `demo-kiosk` and
//! `demo-display`, rating pads `demo-pad-1` … `demo-pad-4` (one per window), users `manager` and `staff1` … `staff4`, all with password `demo`.

use std::sync::OnceLock;

use super::{Result, Role, Store};
use crate::auth::{hash_password, token_hash};
use crate::queue::schedule::Weekly;
use chrono::{DateTime, Utc};

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

/// A SQL string literal (the seed's values are constants and hashes; quoted all the same).
fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Seeds the demo hall if the database has no branch yet. Returns whether it did.
///
/// The seed is one plain SQL script, valid on both backends, run in one transaction.
pub async fn demo(store: &Store, now: DateTime<Utc>) -> Result<bool> {
    let hash = demo_password_hash()?;
    let weekly = serde_json::to_string(&Weekly::around_the_clock()).map_err(anyhow::Error::from)?;
    let mut sql = format!(
        "INSERT INTO branches (id, name_zh, name_zh_hant, name_en, time_zone, weekly_hours, cutoff_mins) \
         VALUES (1, {}, {}, {}, 'Asia/Shanghai', {}, 0);\n",
        q("Qhall 示范服务大厅"),
        q("Qhall 示範服務大廳"),
        q("Qhall Demo Service Hall"),
        q(&weekly)
    );
    for (i, s) in SERVICES.iter().enumerate() {
        sql.push_str(&format!(
            "INSERT INTO services (branch_id, code, name_zh, name_zh_hant, name_en, guide_zh, guide_zh_hant, guide_en, \
             target_wait_secs, default_service_secs, sort) VALUES (1, {}, {}, {}, {}, {}, {}, {}, {}, {}, {i});\n",
            q(s.code),
            q(s.zh),
            q(s.zh_hant),
            q(s.en),
            q(s.guide_zh),
            q(s.guide_zh_hant),
            q(s.guide_en),
            s.target_min * 60,
            s.mean_min * 60
        ));
    }
    for (n, serves) in WINDOWS {
        sql.push_str(&format!(
            "INSERT INTO windows (branch_id, number, name) VALUES (1, {n}, {});\n",
            q(&format!("{n}号窗口 / Window {n}"))
        ));
        for (rank, code) in serves.iter().enumerate() {
            sql.push_str(&format!(
                "INSERT INTO window_services (branch_id, window_number, service_code, rank, weight) \
                 VALUES (1, {n}, {}, {rank}, 1.0);\n",
                q(code)
            ));
        }
    }
    sql.push_str(&format!(
        "INSERT INTO notices (branch_id, text_zh, text_zh_hant, text_en) VALUES (1, {}, {}, {});\n",
        q("欢迎光临。请留意叫号屏幕和语音提示。"),
        q("歡迎光臨。請留意叫號螢幕和語音提示。"),
        q("Welcome. Please watch the board and listen for your number.")
    ));
    let ms = now.timestamp_millis();
    let mut users = vec![("manager".to_owned(), Role::Manager)];
    users.extend((1..=4).map(|i| (format!("staff{i}"), Role::Staff)));
    for (name, role) in users {
        sql.push_str(&format!(
            "INSERT INTO users (branch_id, username, display_name, password_hash, role, created_at) \
             VALUES (1, {}, {}, {}, {}, {ms});\n",
            q(&name),
            q(&name),
            q(&hash),
            q(role.as_str())
        ));
    }
    for (name, role) in [("demo-kiosk", Role::Kiosk), ("demo-display", Role::Display)] {
        sql.push_str(&format!(
            "INSERT INTO devices (branch_id, name, role, token_hash, created_at) VALUES (1, {}, {}, {}, {ms});\n",
            q(name),
            q(role.as_str()),
            q(&token_hash(name))
        ));
    }
    for n in 1..=4 {
        let name = format!("demo-pad-{n}");
        sql.push_str(&format!(
            "INSERT INTO devices (branch_id, name, role, window_number, token_hash, created_at) \
             VALUES (1, {}, 'pad', {n}, {}, {ms});\n",
            q(&name),
            q(&token_hash(&name))
        ));
    }
    store.seed_if_empty(&sql).await
}

/// A fresh production database gets one empty branch (weekdays 09:00–17:00) to configure.
pub async fn empty_branch(store: &Store, time_zone: &str) -> Result<bool> {
    let weekly = serde_json::to_string(&Weekly::weekdays(&[(9 * 60, 17 * 60)]))
        .map_err(anyhow::Error::from)?;
    store
        .seed_if_empty(&format!(
            "INSERT INTO branches (id, name_zh, name_en, time_zone, weekly_hours) \
             VALUES (1, '服务大厅', 'Service hall', {}, {});",
            q(time_zone),
            q(&weekly)
        ))
        .await
}

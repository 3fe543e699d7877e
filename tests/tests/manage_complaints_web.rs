//! The complaints register in a real headless Chromium: a manager logs in, opens a complaint
//! from the list, resolves it with a note, and the list shows it resolved — with the contact
//! masked throughout. `QHALL_SCREENSHOTS=DIR` also saves what the page looks like.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use qhall_tests::TestApp;
use serde_json::{Value, json};

async fn take(
    app: &TestApp,
    staff: &str,
    category: &str,
    text: &str,
    contact: Option<&str>,
) -> i64 {
    let r = app
        .post(
            "/api/v1/complaints",
            Some(staff),
            json!({"window": 1, "category": category, "description": text,
                   "contact": contact, "consent": contact.is_some()}),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_opens_a_complaint_resolves_it_with_a_note_and_the_list_shows_it_resolved() {
    let app = TestApp::spawn().await;
    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    let manager = app.login("manager").await;
    take(
        &app,
        &staff,
        "environment",
        "大厅空调太冷，老人坐不住",
        None,
    )
    .await;
    let late = take(
        &app,
        &staff,
        "attitude",
        "窗口工作人员说话不耐烦，没有解释需要补什么材料",
        Some("alice@x.cn"),
    )
    .await;
    let id = take(
        &app,
        &staff,
        "waiting",
        "取号后等了一个多小时，叫号屏一直没有变化",
        Some("13812345678"),
    )
    .await;
    // Taken 20 days ago: its 15 days to answer are over.
    app.sql(&[&format!(
        "UPDATE complaints SET created_at = created_at - 1728000000, due_at = due_at - 1728000000 WHERE id = {late}"
    )])
    .await;

    let b = Browser::start(1400, 900).await;
    b.goto(&format!("{}/manage/complaints?lang=en", app.url))
        .await;
    b.log_in("manager").await;

    // The list: three complaints, one overdue, contacts masked.
    let row = format!("#complaints tbody tr[data-id='{id}']");
    b.wait_text(&row, "138****5678").await;
    b.wait_text("#summary", "Shown: 3 · overdue: 1").await;
    b.wait_text(
        &format!("#complaints tbody tr[data-id='{late}']"),
        "Overdue",
    )
    .await;
    let page = b.find("body").await.text().await.unwrap();
    assert!(!page.contains("13812345678") && !page.contains("alice@"));

    // Give the overdue one to staff1, on the page.
    b.click(&format!("#complaints tbody tr[data-id='{late}']"))
        .await;
    b.wait_text("#d-title", &format!("#{late}")).await;
    b.js("var s = document.getElementById('assign-to'); s.value = Array.prototype.find.call(s.options, function (o) { return o.text === 'staff1'; }).value; return true;").await;
    b.click("#assign").await;
    b.wait_text("#d-history", "assigned to staff1").await;
    b.wait_text(
        &format!("#complaints tbody tr[data-id='{late}']"),
        "In progress",
    )
    .await;

    // Open the other: details and history beside the list, contact still masked.
    b.click(&row).await;
    b.wait_text("#d-title", &format!("#{id}")).await;
    b.wait_text("#d-description", "一个多小时").await;
    b.wait_text("#d-contact", "138****5678").await;
    b.wait_text("#d-history", "Nothing done yet").await;

    // Resolve it with a note.
    b.type_into("#note-text", "已致电顾客致歉，并检查了叫号屏的网络。")
        .await;
    b.js("document.getElementById('note-status').value = 'resolved'; return true;")
        .await;
    b.click("#add-note").await;
    b.wait_text("#d-msg", "Saved").await;
    b.wait_text("#d-status", "Resolved").await;
    b.wait_text("#d-history", "Open → Resolved").await;
    b.wait_text(&format!("{row} .status-resolved"), "Resolved")
        .await;
    b.snap("manage-complaints-en.png").await;

    // The server agrees, and only the note became the resolution.
    let d: Value = app
        .get(&format!("/api/v1/complaints/{id}"), Some(&manager))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["status"], "resolved");
    assert_eq!(d["resolution"], "已致电顾客致歉，并检查了叫号屏的网络。");

    // Filtered to what is still to do, it is gone.
    b.js("document.getElementById('f-status').value = 'open'; document.getElementById('f-status').dispatchEvent(new Event('change')); return true;").await;
    b.wait_text("#summary", "Shown: 1 · overdue: 0").await;
    assert!(
        b.js(&format!(
            "return document.querySelector(\"{row}\") === null;"
        ))
        .await
            == json!(true)
    );

    // The same page in Chinese, with the overdue one open.
    b.goto(&format!("{}/manage/complaints?lang=zh", app.url))
        .await;
    b.click(&format!("#complaints tbody tr[data-id='{late}']"))
        .await;
    b.wait_text("#d-history", "指派给 staff1").await;
    b.wait_text("#d-due", "逾期").await;
    b.snap("manage-complaints.png").await;
    b.close().await;
}

//! The attendance page in a real headless Chromium: a constructed week in an office open
//! 09:00–12:00 and 13:00–17:00 shows a table per day with the late, early and long-pause flags;
//! a manager loosens the tolerances on the page and the flags go. `QHALL_SCREENSHOTS=DIR` also
//! saves what the page looks like.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use qhall_tests::{TestApp, office_log_sql};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_flags_lateness_early_leave_and_long_pauses_and_tolerances_change_them() {
    let app = TestApp::spawn().await;
    app.sql(&office_log_sql(&[
        (1, "staff1", "sign_in", 2, "09:12"),
        (1, "staff1", "pause", 2, "10:00"),
        (1, "staff1", "resume", 2, "10:10"),
        (1, "staff1", "pause", 2, "14:00"),
        (1, "staff1", "resume", 2, "14:45"),
        (1, "staff1", "sign_out", 2, "16:40"),
        (2, "staff2", "sign_in", 2, "08:55"),
        (2, "staff2", "sign_out", 2, "12:00"),
        (2, "staff2", "sign_in", 2, "12:58"),
        (2, "staff2", "pause", 2, "15:00"),
        (2, "staff2", "resume", 2, "15:12"),
        (2, "staff2", "sign_out", 2, "17:01"),
        (3, "staff3", "sign_in", 2, "09:01"),
        (3, "staff3", "sign_out", 2, "16:50"),
        (1, "staff1", "sign_in", 3, "08:57"),
        (1, "staff1", "sign_out", 3, "17:00"),
        (2, "staff2", "sign_in", 3, "09:20"),
        (2, "staff2", "pause", 3, "11:40"),
        (2, "staff2", "resume", 3, "12:00"),
        (2, "staff2", "sign_out", 3, "17:05"),
    ]))
    .await;

    let b = Browser::start(1400, 900).await;
    b.goto(&format!("{}/manage/attendance?lang=en", app.url))
        .await;
    b.log_in("manager").await;
    b.find("#a-from").await;
    b.js("document.getElementById('a-from').value = '2026-03-02'; document.getElementById('a-to').value = '2026-03-03'; return true;").await;
    b.click("#a-show").await;

    let monday = "section[data-date='2026-03-02']";
    b.wait_text(monday, "Monday").await;
    b.wait_text(monday, "open 09:00–17:00").await;
    let staff1 = format!("{monday} tr.flagged");
    let row = b.wait_text(&staff1, "staff1").await;
    for shown in [
        "09:12",
        "+12 min",
        "16:40",
        "−20 min",
        "55 min",
        "45 min",
        "Late 12 min",
        "Left 20 min early",
        "Long pause 45 min",
    ] {
        assert!(row.contains(shown), "{shown:?} not in {row:?}");
    }
    b.wait_text(
        "#summary",
        "5 person-days: 2 late, 2 early leave, 1 long pause",
    )
    .await;
    b.wait_text("section[data-date='2026-03-03']", "Late 20 min")
        .await;
    assert!(
        b.js("return document.querySelector(\"section[data-date='2026-03-03']\").compareDocumentPosition(document.querySelector(\"section[data-date='2026-03-02']\")) === Node.DOCUMENT_POSITION_FOLLOWING;").await
            == serde_json::json!(true),
        "newest day first"
    );
    let href = b
        .js("return document.getElementById('csv').getAttribute('href');")
        .await;
    assert_eq!(href, "/api/v1/attendance.csv?from=2026-03-02&to=2026-03-03");
    b.snap("manage-attendance-en.png").await;

    // Looser tolerances: nobody is flagged any more.
    for (id, v) in [("#t-late", "30"), ("#t-early", "30"), ("#t-pause", "60")] {
        b.type_into(id, v).await;
    }
    b.click("#t-save").await;
    b.wait_text("#a-msg", "Tolerances saved").await;
    b.wait_text(
        "#summary",
        "5 person-days: 0 late, 0 early leave, 0 long pause",
    )
    .await;
    assert_eq!(
        b.js("return document.querySelectorAll('tr.flagged').length;")
            .await,
        0
    );

    // A bad value is explained, not saved.
    b.type_into("#t-late", "999").await;
    b.js("document.getElementById('t-late').removeAttribute('max'); return true;")
        .await;
    b.click("#t-save").await;
    b.wait_text("#a-msg", "0 to 240 minutes").await;

    // Back to the defaults, in Chinese, for the picture.
    for (id, v) in [("#t-late", "5"), ("#t-early", "5"), ("#t-pause", "30")] {
        b.type_into(id, v).await;
    }
    b.click("#t-save").await;
    b.wait_text("#a-msg", "Tolerances saved").await;
    b.goto(&format!("{}/manage/attendance?lang=zh", app.url))
        .await;
    b.find("#a-from").await;
    b.js("document.getElementById('a-from').value = '2026-03-02'; document.getElementById('a-to').value = '2026-03-03'; return true;").await;
    b.click("#a-show").await;
    b.wait_text(monday, "迟到 12 分钟").await;
    b.snap("manage-attendance.png").await;
    b.close().await;
}

//! Shifts and leave on the pages (issue #14) in a real headless Chromium, with a manager and a
//! member of staff each in their own browser:
//!
//! - the manager gives staff1 a weekly shift on `/manage/shifts` (a shift ending before it
//!   starts is refused and said so) and two dated changes;
//! - a constructed week two weeks back, which staff1 never signed in to, shows on the attendance
//!   page as absent days;
//! - staff1, at the window console, opens *My shifts & leave*, sees the shift, is told how much
//!   notice personal leave needs, reports Tuesday of that week as sick leave (notice does not
//!   apply to sick leave) and asks for annual leave ahead;
//! - Tuesday is still absent while the leave waits; the manager approves it with a note, and
//!   Tuesday turns to *on approved leave* — Monday stays absent; the annual leave is declined
//!   with a note, which staff1 reads in the console.
//!
//! The test server has no clock of its own to move (the server reads the system time), so the
//! week is placed in the past and reported afterwards as sick leave, the one kind the notice
//! does not apply to; the notice itself is shown with a personal day tomorrow.
//!
//! `QHALL_SCREENSHOTS=DIR` saves the console's dialog and the manager's page, in English and
//! Chinese (`docs/web-staff-leave*.png`, `docs/manage-shifts*.png`), and the attendance after.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use chrono::{Datelike, Duration, NaiveDate};
use qhall_tests::{TestApp, user_id};
use serde_json::json;

/// Today in the demo hall's zone.
fn hall_today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
}

/// Sets a form field the way a picker would (date inputs take no typing in every locale).
async fn set(b: &Browser, id: &str, value: &str) {
    b.js(&format!(
        "var e = document.getElementById('{id}'); e.value = '{value}'; \
         e.dispatchEvent(new Event('change', {{bubbles: true}})); return true;"
    ))
    .await;
}

/// The id of the row of `table` whose text contains `text`.
async fn row_id(b: &Browser, table: &str, text: &str) -> String {
    for _ in 0..100 {
        let v = b
            .js(&format!(
                "var r = Array.from(document.querySelectorAll('#{table} tbody tr')) \
                 .find(function (tr) {{ return tr.textContent.indexOf('{text}') >= 0; }}); \
                 return r ? r.dataset.id : null;"
            ))
            .await;
        if let Some(id) = v.as_str() {
            return id.to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no row with {text:?} in #{table}");
}

/// The attendance page over `from..=to`.
async fn attendance(b: &Browser, app: &TestApp, lang: &str, from: NaiveDate, to: NaiveDate) {
    b.goto(&format!("{}/manage/attendance?lang={lang}", app.url))
        .await;
    b.find("#a-from").await;
    set(b, "a-from", &from.to_string()).await;
    set(b, "a-to", &to.to_string()).await;
    b.click("#a-show").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shift_set_on_the_page_and_sick_leave_approved_turn_an_absent_day_into_leave() {
    let app = TestApp::spawn().await;
    // The accounts existed before the constructed week (nobody is absent before their account).
    app.sql(&["UPDATE users SET created_at = 0"]).await;
    let token = app.login("manager").await;
    let s1 = user_id(&app, &token, "staff1").await;
    let today = hall_today();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()) + 14);
    let (tuesday, friday) = (monday + Duration::days(1), monday + Duration::days(4));
    let next_week = today + Duration::days(7);

    // ---- The manager gives staff1 a shift, Monday to Friday 09:00–17:00.
    let m = Browser::start(1400, 1700).await;
    m.goto(&format!("{}/manage/shifts?lang=en", app.url)).await;
    m.log_in("manager").await;
    let row = format!("#rosters tr[data-user='{s1}']");
    m.wait_text(&row, "No personal shift").await;
    m.click(&format!("{row} button.edit")).await;
    m.wait_text("#editor-title", "Shifts of staff1").await;
    for d in 1..=5 {
        m.click(&format!("#weekly-form input.works[data-day='{d}']"))
            .await;
    }
    // Ticking a day fills in 09:00–17:00; Monday's end typed wrong is refused by the server.
    assert_eq!(
        m.js("return document.querySelector(\"input.start[data-day='3']\").value;")
            .await,
        json!("09:00")
    );
    m.type_into("input.end[data-day='1']", "08:30").await;
    m.click("#w-save").await;
    m.wait_text("#w-msg", "a shift must end after it starts")
        .await;
    assert_eq!(
        m.js("return document.querySelector(\"input.end[data-day='1']\").getAttribute('aria-invalid');")
            .await,
        json!("true")
    );
    m.type_into("input.end[data-day='1']", "17:00").await;
    m.click("#w-save").await;
    m.wait_text("#w-msg", "staff1's weekly shift saved").await;
    let shown = m.wait_text(&row, "09:00–17:00").await;
    assert!(shown.contains("Off"), "the weekend is off: {shown:?}");

    // Dated changes: the constructed Friday off; a day next week later than usual.
    set(&m, "c-day", &friday.to_string()).await;
    m.click("#c-off").await;
    m.click("#c-save").await;
    m.wait_text("#c-msg", "saved").await;
    m.click("#c-off").await;
    set(&m, "c-day", &next_week.to_string()).await;
    m.type_into("#c-start", "10:00").await;
    m.type_into("#c-end", "18:00").await;
    m.click("#c-save").await;
    m.wait_text("#changes", "10:00–18:00").await;
    m.wait_text(&format!("{row} td.ahead"), "10:00–18:00").await;

    // ---- The constructed week, never signed in to: absent.
    attendance(&m, &app, "en", monday, friday).await;
    let tue_row = format!("section[data-date='{tuesday}'] tr[data-user='{s1}']");
    let mon_row = format!("section[data-date='{monday}'] tr[data-user='{s1}']");
    let t = m.wait_text(&tue_row, "Absent").await;
    assert!(t.contains("shift 09:00–17:00"), "{t:?}");
    m.wait_text(&mon_row, "Absent").await;
    assert_eq!(
        m.js(&format!("return document.querySelector(\"section[data-date='{friday}'] tr[data-user='{s1}']\") === null;")).await,
        json!(true),
        "Friday was made a day off"
    );

    // ---- staff1 at the window console: the shift, the notice, sick leave, annual leave.
    let s = Browser::start(1366, 900).await;
    s.goto(&format!("{}/staff?lang=en", app.url)).await;
    s.log_in("staff1").await;
    s.click("button.sign-in[data-window='1']").await;
    s.wait_text(".window-name", "Window 1").await;
    s.wait_until("#call-next", |st| st.enabled).await;
    s.click("#my-leave").await;
    s.wait_until("#dlg-leave", |st| st.displayed).await;
    s.wait_text("#my-week", "09:00–17:00").await;
    s.wait_text("#my-changes", "10:00–18:00").await;
    s.wait_text("#lv-hint", "need 2 days' notice").await;

    let tomorrow = today + Duration::days(1);
    set(&s, "lv-from", &tomorrow.to_string()).await;
    set(&s, "lv-to", &tomorrow.to_string()).await;
    set(&s, "lv-kind", "personal").await;
    s.click("#lv-send").await;
    let said = s
        .wait_text(
            "#lv-msg",
            "Too little notice: leave other than sick leave is asked for at least 2 days ahead",
        )
        .await;
    assert!(
        said.contains("The first day you can ask for now is"),
        "{said:?}"
    );

    set(&s, "lv-from", &tuesday.to_string()).await;
    set(&s, "lv-to", &tuesday.to_string()).await;
    set(&s, "lv-kind", "sick").await;
    s.type_into("#lv-reason", "Flu, with a doctor's note").await;
    s.click("#lv-send").await;
    s.wait_text("#lv-msg", "the manager will decide").await;
    s.wait_text("#my-leave-list", "Waiting for a decision")
        .await;

    let ahead = today + Duration::days(21);
    set(&s, "lv-from", &ahead.to_string()).await;
    set(&s, "lv-to", &(ahead + Duration::days(2)).to_string()).await;
    set(&s, "lv-kind", "annual").await;
    s.type_into("#lv-reason", "Family wedding").await;
    s.click("#lv-send").await;
    s.wait_text("#my-leave-list", "Family wedding").await;
    s.wait_text("#my-leave-list", "(3 days)").await;
    s.click("#leave-close").await;
    s.wait_until("#dlg-leave", |st| !st.displayed).await;
    // The console is as it was: Call next still there, still the one thing to press.
    s.wait_until("#call-next", |st| st.enabled && st.displayed)
        .await;

    // ---- Asked for, not decided: Tuesday is still absent.
    m.click("#a-show").await;
    m.wait_text(&tue_row, "Absent").await;
    m.wait_text("#pending-leave", "2 leave requests wait for a decision")
        .await;

    // ---- The manager decides on the page: sick leave approved, annual leave declined.
    m.click("#pending-leave").await;
    m.wait_text("#summary", "2 waiting for a decision").await;
    let sick = row_id(&m, "pending", "Flu").await;
    let annual = row_id(&m, "pending", "Family wedding").await;
    m.click(&format!("#rosters tr[data-user='{s1}'] button.edit"))
        .await;
    m.type_into(
        &format!("#pending tr[data-id='{annual}'] input.decision-note"),
        "Two colleagues are off that week: ask for the week after",
    )
    .await;
    m.js("window.scrollTo(0, 0); return true;").await;
    m.snap("manage-shifts-en.png").await;
    m.type_into(
        &format!("#pending tr[data-id='{sick}'] input.decision-note"),
        "Get well soon",
    )
    .await;
    m.click(&format!("#pending tr[data-id='{sick}'] button.approve"))
        .await;
    m.wait_text("#s-msg", "Approved staff1's leave").await;
    m.click(&format!("#pending tr[data-id='{annual}'] button.decline"))
        .await;
    m.wait_text("#s-msg", "Declined staff1's leave").await;
    m.wait_text("#summary", "Nothing waiting").await;
    m.wait_text(&format!("#decided tr[data-id='{sick}']"), "Get well soon")
        .await;
    m.wait_text(&format!("#decided tr[data-id='{annual}']"), "Declined")
        .await;

    // ---- The attendance changes: Tuesday on leave, not absent; Monday still absent.
    attendance(&m, &app, "en", monday, friday).await;
    let t = m.wait_text(&tue_row, "On approved leave").await;
    assert!(!t.contains("Absent"), "{t:?}");
    m.wait_text(&mon_row, "Absent").await;
    m.wait_text("#summary", "3 absent, 1 on leave").await;
    assert_eq!(
        m.js("return document.getElementById('pending-leave').hidden;")
            .await,
        json!(true)
    );
    // The picture at a manager's usual screen (the shifts page's pictures take the whole page).
    if std::env::var("QHALL_SCREENSHOTS").is_ok() {
        m.client.set_window_size(1400, 1000).await.unwrap();
        m.snap("manage-attendance-leave-en.png").await;
        m.client.set_window_size(1400, 1700).await.unwrap();
    }

    // ---- staff1 reads the decisions and the notes.
    s.click("#my-leave").await;
    let approved = s
        .wait_text(&format!("#my-leave-list tr[data-id='{sick}']"), "Approved")
        .await;
    assert!(approved.contains("Get well soon"), "{approved:?}");
    let declined = s
        .wait_text(
            &format!("#my-leave-list tr[data-id='{annual}']"),
            "Declined",
        )
        .await;
    assert!(declined.contains("ask for the week after"), "{declined:?}");
    s.snap("web-staff-leave-en.png").await;

    // ---- In Chinese: part of a day asked for (so the manager has one waiting), both pages.
    s.goto(&format!("{}/staff?lang=zh", app.url)).await;
    s.click("#my-leave").await;
    s.wait_text("#my-leave-list", "已批准").await;
    let later = today + Duration::days(30);
    set(&s, "lv-from", &later.to_string()).await;
    set(&s, "lv-kind", "toil").await;
    s.click("#lv-part").await;
    s.type_into("#lv-start", "14:00").await;
    s.type_into("#lv-end", "17:00").await;
    s.type_into("#lv-reason", "孩子家长会").await;
    s.click("#lv-send").await;
    s.wait_text("#lv-msg", "等待经理审批").await;
    s.wait_text("#my-leave-list", "14:00–17:00").await;
    s.snap("web-staff-leave.png").await;
    s.close().await;

    m.goto(&format!("{}/manage/shifts?lang=zh", app.url)).await;
    m.wait_text("#pending", "孩子家长会").await;
    m.wait_text("#decided", "已批准").await;
    m.click(&format!("#rosters tr[data-user='{s1}'] button.edit"))
        .await;
    m.wait_text("#editor-title", "staff1 的排班").await;
    m.js("window.scrollTo(0, 0); return true;").await;
    m.snap("manage-shifts.png").await;
    m.close().await;
}

/// Asking for leave needs no window: on the window choice, key L opens the dialog. With the
/// branch's notice at five days, a personal day next week is refused and the page says how
/// much notice is needed — in Chinese too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_little_notice_is_explained_on_the_page_in_both_languages() {
    let app = TestApp::spawn().await;
    let manager = app.login("manager").await;
    let (s, v) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/leave/settings",
            Some(&manager),
            json!({"notice_days": 5}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let day = hall_today() + Duration::days(3);

    let b = Browser::start(1280, 900).await;
    b.goto(&format!("{}/staff?lang=en", app.url)).await;
    b.log_in("staff2").await;
    b.find("button.sign-in").await;
    b.js("document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'l', bubbles: true})); return true;")
        .await;
    b.wait_until("#dlg-leave", |st| st.displayed).await;
    b.wait_text("#my-week-none", "you work the hall's opening hours")
        .await;
    b.wait_text("#lv-hint", "need 5 days' notice").await;
    set(&b, "lv-from", &day.to_string()).await;
    set(&b, "lv-to", &day.to_string()).await;
    b.click("#lv-send").await;
    b.wait_text("#lv-msg", "at least 5 days ahead").await;
    b.wait_text("#my-leave-none", "You have not asked for leave yet")
        .await;

    b.goto(&format!("{}/staff?lang=zh", app.url)).await;
    b.click("#my-leave").await;
    set(&b, "lv-from", &day.to_string()).await;
    set(&b, "lv-to", &day.to_string()).await;
    b.click("#lv-send").await;
    b.wait_text("#lv-msg", "提前时间不够：除病假外须至少提前 5 天申请")
        .await;

    // Far enough ahead it is asked for; and taken back with its own button.
    let later = hall_today() + Duration::days(12);
    set(&b, "lv-from", &later.to_string()).await;
    set(&b, "lv-to", &later.to_string()).await;
    b.click("#lv-send").await;
    b.wait_text("#my-leave-list", "待审批").await;
    b.click("#my-leave-list button.withdraw").await;
    b.wait_text("#lv-msg", "已撤回").await;
    b.wait_text("#my-leave-list", "已撤回").await;
    assert_eq!(
        b.js("return document.querySelectorAll('#my-leave-list button.withdraw').length;")
            .await,
        0,
        "withdrawn leave offers nothing more"
    );
    b.close().await;
}

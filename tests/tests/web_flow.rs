//! The acceptance flow of the web pages in a real headless Chromium against the real server:
//! staff logs in, signs in to window 2, calls the ticket the kiosk API issued and completes it;
//! the rating pad, paired through the link a manager gets (`/rate/2#pad=TOKEN`), records one
//! rating and refuses a second; the tracking page turns from waiting to "go to window 2" without
//! a reload; a complaint taken at the console is stored.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use qhall_tests::TestApp;
use sqlx::ConnectOptions;
use sqlx::Row;

/// The SQLite file of an app started with [`TestApp::spawn_sqlite`].
async fn db(app: &TestApp) -> sqlx::SqliteConnection {
    let opts: sqlx::sqlite::SqliteConnectOptions = app.database_url.parse().expect("url");
    opts.read_only(true).connect().await.expect("open db")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_goes_from_kiosk_to_console_tracking_page_rating_pad_and_complaint() {
    let app = TestApp::spawn_sqlite().await;
    let ticket = app.issue("A").await;
    let b = Browser::start(1280, 900).await;

    // The customer's phone: waiting.
    let track_tab = b.current_tab().await;
    b.goto(&format!("{}?lang=en", ticket.tracking_url)).await;
    b.wait_text(".ticket .number", ticket.number.as_str()).await;
    b.wait_text(".callout.waiting", "You are next").await;
    // A mark that only survives if the page is never reloaded.
    b.js("window.qhallMark = 'still here'; return true;").await;

    // Staff: log in, choose window 2, call next with the keyboard shortcut.
    let staff_tab = b.new_tab().await;
    b.goto(&format!("{}/staff?lang=en", app.url)).await;
    b.log_in("staff2").await;
    b.click("button.sign-in[data-window='2']").await;
    b.wait_text(".window-name", "Window 2").await;
    b.wait_until("#call-next", |s| s.enabled).await;
    b.find("body").await.send_keys("n").await.expect("press N");
    b.wait_text("#cur-number", ticket.number.as_str()).await;
    b.wait_text("#cur-service", "General").await;
    b.wait_text("#cur-detail", "waited").await;

    // The phone turns to "go to window 2" by itself.
    b.switch(&track_tab).await;
    b.wait_text(".callout.called", "Please go to window 2")
        .await;
    assert_eq!(
        b.js("return window.qhallMark || null;").await,
        serde_json::json!("still here"),
        "the tracking page must update without a reload"
    );

    // A tablet that was never paired says so, and asks nothing.
    let pad_tab = b.new_tab().await;
    b.goto(&format!("{}/rate/2?lang=en", app.url)).await;
    b.wait_until("#unpaired", |s| s.displayed).await;
    b.wait_text("#unpaired", "This pad is not paired").await;

    // The manager creates window 2's pad; the tablet opens the pairing link once. The token is
    // in the fragment, which the browser never sends; the page keeps it and drops it from the
    // address bar.
    let manager = app.login("manager").await;
    let created: serde_json::Value = app
        .post(
            "/api/v1/devices",
            Some(&manager),
            serde_json::json!({"name": "Window 2 tablet", "role": "pad", "window": 2}),
        )
        .await
        .json()
        .await
        .expect("json");
    let pairing = created["pairing_url"].as_str().expect("pairing link");
    let token = created["token"].as_str().expect("token");
    assert!(
        pairing.ends_with(&format!("/rate/2#pad={token}")),
        "{pairing}"
    );
    b.goto(pairing).await;
    b.wait_until("#idle", |s| s.displayed).await;
    assert_eq!(
        b.js("return [location.hash, localStorage.getItem('qhall-pad-token-2')];")
            .await,
        serde_json::json!(["", token]),
        "the token left the address bar and is kept for window 2"
    );
    // A spare tablet at window 2 (the same browser: paired already), and one at window 3 that
    // is not.
    let spare_tab = b.new_tab().await;
    b.goto(&format!("{}/rate/2?lang=en", app.url)).await;
    b.wait_until("#idle", |s| s.displayed).await;
    let other_tab = b.new_tab().await;
    b.goto(&format!("{}/rate/3?lang=en", app.url)).await;
    b.wait_until("#unpaired", |s| s.displayed).await;

    // Staff completes the ticket.
    b.switch(&staff_tab).await;
    b.click("#complete").await;
    b.wait_text("#msg", "Completed").await;
    b.wait_text("#cur-number", "—").await;

    // Both pads offer it; the first records one rating.
    b.switch(&spare_tab).await;
    b.wait_text("#rate-number", ticket.number.as_str()).await;
    b.switch(&pad_tab).await;
    b.wait_text("#rate-number", ticket.number.as_str()).await;
    b.click("button.choice[data-score='5']").await;
    b.wait_until("#thanks", |s| s.displayed).await;

    // The spare pad stops offering it, and a second rating sent from it is refused; without
    // the pad's token the API does not even answer which ticket it was.
    b.switch(&spare_tab).await;
    b.wait_until("#idle", |s| s.displayed).await;
    let send = |auth: &str| {
        format!(
            "return fetch('/api/v1/windows/2/rating', {{method: 'POST', headers: {{'Content-Type': 'application/json'{auth}}}, \
             body: JSON.stringify({{number: '{}', score: 1}})}}).then(r => r.json().then(b => [r.status, b.error.code]));",
            ticket.number.as_str()
        )
    };
    let second = b
        .js(&send(
            ", 'Authorization': 'Bearer ' + localStorage.getItem('qhall-pad-token-2')",
        ))
        .await;
    assert_eq!(second, serde_json::json!([409, "already_rated"]));
    // Without the pad's token the rating is refused: 401, or 403 `csrf_failed` where this browser
    // still carries a staff session cookie from the console tab (cookie-authenticated, no CSRF).
    let anonymous = b.js(&send("")).await;
    assert!(
        anonymous == serde_json::json!([401, "unauthorized"])
            || anonymous == serde_json::json!([403, "csrf_failed"]),
        "{anonymous}"
    );
    b.switch(&other_tab).await;
    b.wait_until("#unpaired", |s| s.displayed).await;

    let mut conn = db(&app).await;
    let ratings = sqlx::query(
        "SELECT r.score, t.number, r.window_number FROM ratings r JOIN tickets t ON t.key = r.ticket_key",
    )
    .fetch_all(&mut conn)
    .await
    .expect("ratings");
    assert_eq!(ratings.len(), 1, "exactly one rating");
    assert_eq!(ratings[0].get::<i64, _>("score"), 5);
    assert_eq!(
        ratings[0].get::<String, _>("number"),
        ticket.number.as_str()
    );
    assert_eq!(ratings[0].get::<i64, _>("window_number"), 2);

    // A refused request is explained in one sentence, and nothing is stored.
    b.switch(&staff_tab).await;
    b.click("#complaint").await;
    b.type_into("#complaint-ticket", "Z999").await;
    b.type_into(
        "#complaint-description",
        "About a ticket that never existed",
    )
    .await;
    b.click("#dlg-complaint button[value='ok']").await;
    b.wait_text("#msg", "There is no such ticket.").await;

    // A complaint taken at the console, with the customer's consent to keep a contact.
    b.switch(&staff_tab).await;
    b.click("#complaint").await;
    b.wait_until("#dlg-complaint", |s| s.displayed).await;
    b.find("#complaint-category")
        .await
        .select_by_value("waiting")
        .await
        .expect("category");
    b.type_into("#complaint-ticket", ticket.number.as_str())
        .await;
    b.type_into("#complaint-description", "Waited long at the wrong window")
        .await;
    b.click("#complaint-consent").await;
    b.type_into("#complaint-contact", "13800000000").await;
    b.click("#dlg-complaint button[value='ok']").await;
    b.wait_text("#msg", "Complaint recorded").await;

    let complaints: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM complaints")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(complaints, 1, "the refused complaint stored nothing");
    let c = sqlx::query(
        "SELECT c.category, c.description, c.contact, c.contact_consent, c.window_number, c.status, \
         c.created_at, c.due_at, t.number, u.username \
         FROM complaints c JOIN tickets t ON t.key = c.ticket_key JOIN users u ON u.id = c.staff_user_id",
    )
    .fetch_one(&mut conn)
    .await
    .expect("one complaint");
    assert_eq!(c.get::<String, _>("category"), "waiting");
    assert_eq!(
        c.get::<String, _>("description"),
        "Waited long at the wrong window"
    );
    assert_eq!(
        c.get::<Option<String>, _>("contact").as_deref(),
        Some("13800000000")
    );
    assert_eq!(c.get::<i64, _>("contact_consent"), 1);
    assert_eq!(c.get::<i64, _>("window_number"), 2);
    assert_eq!(c.get::<String, _>("status"), "open");
    assert_eq!(c.get::<String, _>("number"), ticket.number.as_str());
    assert_eq!(c.get::<String, _>("username"), "staff2");
    assert_eq!(
        c.get::<i64, _>("due_at") - c.get::<i64, _>("created_at"),
        15 * 24 * 3600 * 1000,
        "the answer is due 15 days after the complaint"
    );

    // Pause with a reason (P), resume (P), then sign out (Q) back to the login form.
    b.find("body").await.send_keys("p").await.expect("press P");
    b.type_into("#pause-reason", "Short break").await;
    b.click("#dlg-pause button[value='ok']").await;
    b.wait_text("#window-state", "Paused · Short break").await;
    b.wait_until("#call-next", |s| !s.enabled).await;
    b.find("body").await.send_keys("p").await.expect("press P");
    b.wait_text("#msg", "Window resumed").await;
    b.wait_text("#window-state", "Open").await;
    b.find("body").await.send_keys("q").await.expect("press Q");
    b.find("#login-form").await;
    assert_eq!(
        sqlx::query_scalar::<_, String>("SELECT state FROM windows WHERE number = 2")
            .fetch_one(&mut conn)
            .await
            .unwrap(),
        "closed"
    );

    b.close().await;
}

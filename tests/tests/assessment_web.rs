//! The assessment page in a real headless Chromium, over [`qhall_tests::constructed_month`]: the
//! manager sees staff1's 73.0 and 合格 in the month's table, confirms the one proposal the ladder
//! made (staff2's 口头提醒) and dismisses nothing else, writes staff1's note, and prints the
//! month to PDF the way a hall saves it. The PDF is read back with `pdftotext` (poppler-utils):
//! its first page is staff1's card with the grade and the note, and none of the page's controls;
//! `pdftoppm` renders that page to PNG. `QHALL_SCREENSHOTS=DIR` keeps the page and the printed
//! card as PNGs.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use fantoccini::wd::PrintConfiguration;
use qhall_tests::{ConstructedMonth, call, constructed_month};
use reqwest::Method;

fn run(cmd: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} (apt-get install poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_confirms_a_proposal_writes_a_note_and_prints_the_month() {
    let ConstructedMonth {
        app,
        manager,
        s1,
        s2,
        ..
    } = constructed_month().await;

    let b = Browser::start(1400, 1000).await;
    b.goto(&format!("{}/manage/assessment?lang=en", app.url))
        .await;
    b.log_in("manager").await;
    b.find("#month").await;
    b.js("document.getElementById('month').value = '2026-03'; return true;")
        .await;
    b.click("#show").await;

    let row = format!("#overview tr[data-user='{s1}']");
    let text = b.wait_text(&row, "73.0").await;
    assert!(text.contains("合格") && text.contains("staff1"), "{text}");
    let text = b
        .wait_text(&format!("#overview tr[data-user='{s2}']"), "94.0")
        .await;
    assert!(text.contains("良好"), "{text}");

    // The one proposal: confirm it; then nothing is left to decide and staff2's card shows it.
    let proposal = format!("#proposals .proposal[data-user='{s2}'][data-rule='late-3']");
    b.wait_text(&proposal, "late-3").await;
    assert_eq!(
        b.js("return document.querySelectorAll('#proposals .proposal').length;")
            .await,
        1
    );
    b.click(&format!("{proposal} button.confirm")).await;
    b.wait_text("#msg", "Recorded.").await;
    b.wait_text("#proposals", "Nothing to decide.").await;
    b.wait_text(
        &format!(".scorecard[data-user='{s2}'] .records"),
        "口头提醒",
    )
    .await;

    // staff1's note.
    let note = "Punctuality to work on; kind with customers.";
    let card = format!(".scorecard[data-user='{s1}']");
    b.type_into(&format!("{card} textarea.note"), note).await;
    b.click(&format!("{card} button.save-note")).await;
    b.wait_text("#msg", "Note saved.").await;
    let (_, v) = call(
        &app,
        Method::GET,
        &format!("/api/v1/users/{s1}/assessment?month=2026-03"),
        &manager,
        None,
    )
    .await;
    assert_eq!(v["note"]["text"], note, "{v}");
    b.wait_text(&format!("{card} .score-line"), "Score 73.0 · grade 合格")
        .await;
    b.js("window.scrollTo(0, 0); return true;").await;
    b.snap("manage-assessment.png").await;

    // Print to PDF: the cards alone, staff1's first, one a page.
    let pdf = b
        .client
        .print(
            PrintConfiguration::builder()
                .build()
                .expect("print settings"),
        )
        .await
        .expect("print to PDF");
    assert!(pdf.starts_with(b"%PDF"), "not a PDF");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("assessment.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let p = path.to_str().unwrap();
    let first = run("pdftotext", &["-f", "1", "-l", "1", "-layout", p, "-"]);
    for shown in [
        "staff1",
        "2026-03",
        "Score 73.0",
        "合格",
        note,
        "Late",
        "Staff member:",
    ] {
        assert!(first.contains(shown), "page 1 lacks {shown:?}:\n{first}");
    }
    for hidden in [
        "staff2",
        "Proposed consequences",
        "Save the note",
        "Download CSV",
        "Live",
    ] {
        assert!(!first.contains(hidden), "page 1 shows {hidden:?}:\n{first}");
    }
    let all = run("pdftotext", &["-layout", p, "-"]);
    assert!(all.contains("staff2") && all.contains("口头提醒"), "{all}");
    let png = dir.path().join("page");
    run(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            p,
            png.to_str().unwrap(),
        ],
    );
    let png = dir.path().join("page.png");
    let bytes = std::fs::read(&png).expect("the rendered page");
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000,
        "a blank render"
    );
    if let Ok(out) = std::env::var("QHALL_SCREENSHOTS") {
        std::fs::copy(
            &png,
            std::path::Path::new(&out).join("manage-assessment-print.png"),
        )
        .unwrap();
    }
    b.close().await;

    // Each person sees their own month in the console: staff1 the score, grade and note;
    // staff2 the record the manager confirmed.
    for (user, shown) in [
        (
            "staff1",
            vec!["Score 73.0 · grade 合格", "2 late", "2 absent", note],
        ),
        ("staff2", vec!["Score 94.0 · grade 良好", "3 late"]),
    ] {
        let s = Browser::start(1280, 900).await;
        s.goto(&format!("{}/staff?lang=en", app.url)).await;
        s.log_in(user).await;
        s.click("#my-leave").await;
        s.wait_until("#dlg-leave", |st| st.displayed).await;
        s.js("var m = document.getElementById('my-month-pick'); m.value = '2026-03'; m.dispatchEvent(new Event('change')); return true;").await;
        for text in shown {
            s.wait_text("#my-month", text).await;
        }
        if user == "staff2" {
            s.wait_text("#my-records", "口头提醒").await;
            s.snap("web-staff-assessment.png").await;
        } else {
            s.wait_text("#my-training", "Residence permits").await;
            s.wait_text("#my-records", "No records.").await;
        }
        s.close().await;
    }
}

//! How long from a staff member's "call next" to the board knowing the call:
//! `cargo run --release -p qhall-display --example bench [-- CALLS]`.
//!
//! Starts the real server in this process (`qhall_tests::TestApp`, a fresh SQLite demo hall),
//! connects a board exactly as `qhall-display` does (`connection::run` feeding the reducer),
//! then repeatedly issues a ticket, starts the clock, posts `call-next` and stops the clock
//! when the board model shows that ticket on top. Prints p50, p90, p99 and max.

use std::time::{Duration, Instant};

use qhall_display::board::{Board, WindowFilter};
use qhall_display::connection;
use qhall_tests::{DISPLAY, TestApp};
use tokio::sync::watch;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let calls: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(500);
    let app = TestApp::spawn().await;

    let (tx, mut shown) = watch::channel(None::<String>);
    let options = connection::Options {
        server: app.url.clone(),
        token: DISPLAY.into(),
        ca_file: None,
    };
    let board = tokio::spawn(connection::run(
        options,
        Board::new(WindowFilter::all()),
        move |board: &Board, _said| {
            // `Some` once the first snapshot is in: the latest number, or "" for none.
            if board.seq.is_some() {
                let latest = board
                    .latest()
                    .map(|c| c.number.to_string())
                    .unwrap_or_default();
                tx.send_replace(Some(latest));
            }
        },
        std::future::pending::<()>(),
    ));
    shown.wait_for(Option::is_some).await?;

    let staff = app.login("staff1").await;
    app.sign_in(1, &staff).await;
    let mut took = Vec::with_capacity(calls);
    for _ in 0..calls {
        let _ = app.window(1, "complete", &staff).await;
        let ticket = app.issue("A").await;
        let number = ticket.number.to_string();
        let start = Instant::now();
        let called = app
            .call_next(1, &staff)
            .await
            .expect("the issued ticket waits");
        anyhow::ensure!(
            called.number == ticket.number,
            "called {} not {number}",
            called.number
        );
        tokio::time::timeout(
            Duration::from_secs(10),
            shown.wait_for(|s| s.as_deref() == Some(&number)),
        )
        .await??;
        took.push(start.elapsed());
    }
    board.abort();

    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q).ceil() as usize).clamp(1, took.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "call-next -> board model, {} calls: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        took.len(),
        ms(at(0.50)),
        ms(at(0.90)),
        ms(at(0.99)),
        ms(at(1.0)),
    );
    Ok(())
}

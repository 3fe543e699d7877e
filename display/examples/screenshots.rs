//! Renders the board to PNG files in `docs/` without any display or GPU:
//! `cargo run -p qhall-display --example screenshots`.
//!
//! Slint's testing backend with its software renderer draws the real `ui/board.slint` with
//! the embedded font; the data comes from `qhall_display::sample` through the same reducer
//! and view code the running board uses. Time is mocked at zero, so a fresh call is caught in
//! the "on" phase of its blink and the notice line at its start.

use std::path::{Path, PathBuf};

use anyhow::Context;
use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
use qhall_display::ui::{self, BoardView};
use qhall_display::{BoardAdapter, BoardWindow, sample};
use slint::ComponentHandle;

fn main() -> anyhow::Result<()> {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .map_err(|e| anyhow::anyhow!("setting the testing platform: {e}"))?;

    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs");
    std::fs::create_dir_all(&docs)?;
    let landscape = (1920, 1080);
    let portrait = (1080, 1920);
    let shots = [
        (
            "display-idle.png",
            landscape,
            BoardView::new(&sample::morning(), None),
        ),
        (
            "display-call.png",
            landscape,
            BoardView::new(&sample::fresh_call(), Some(0)),
        ),
        (
            "display-emergency.png",
            landscape,
            BoardView::new(&sample::emergency(), Some(0)),
        ),
        (
            "display-portrait.png",
            portrait,
            BoardView::new(&sample::fresh_call(), Some(0)),
        ),
        ("display-reconnecting.png", landscape, {
            let mut board = sample::morning();
            board.connected = false;
            BoardView::new(&board, None)
        }),
    ];
    for (name, size, view) in shots {
        let path = docs.join(name);
        shoot(size, &view, &path).with_context(|| format!("rendering {name}"))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn shoot((width, height): (u32, u32), view: &BoardView, path: &Path) -> anyhow::Result<()> {
    let window = BoardWindow::new()?;
    window
        .window()
        .set_size(slint::PhysicalSize::new(width, height));
    let clock = chrono::DateTime::parse_from_rfc3339("2026-11-27T09:41:00+08:00")?;
    let (time, date) = ui::clock_text(&clock);
    window.global::<BoardAdapter>().set_clock(time);
    window.global::<BoardAdapter>().set_date(date);
    ui::apply(&window, view);
    window.show()?;
    let shot = window.window().take_snapshot()?;
    let image = image::RgbaImage::from_raw(shot.width(), shot.height(), shot.as_bytes().to_vec())
        .context("snapshot size")?;
    image.save(path)?;
    window.hide()?;
    Ok(())
}

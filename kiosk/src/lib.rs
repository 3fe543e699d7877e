//! The Qhall kiosk: a full-screen touch app where a customer chooses a service, reads its
//! guide, takes a numbered ticket and gets it printed.
//!
//! # Layout
//! - `ui/*.slint`: every screen (home, guide, ticket, print failed, closed, emergency, out of
//!   service), the widgets and the theme; `ui/adapters.slint` holds the globals the Rust
//!   side fills, with preview data.
//! - [`controller`]: the logic, an actor on the network runtime, tested without a window
//!   against a fake server ([`memory::MemoryApi`]). [`controller::view`] turns what it knows
//!   into a [`controller::View`].
//! - [`api`]: the [`api::KioskApi`] trait and its HTTP + WebSocket implementation.
//! - [`printer`]: ESC/POS bytes for 58/80 mm printers, Chinese as raster or GB18030, and
//!   the targets (TCP, device file, file, none).
//! - [`ui`]: the adapter that copies views into the window and callbacks into commands.
//! - [`i18n`]: the kiosk's sentences in 简体中文, 繁體中文 and English, waits as ranges.
//! - [`config`]: flags, `QHALL_*` environment and the config file.
//! - [`memory`]: an in-memory hall for tests and screenshots.
//!
//! Threads: the Slint event loop owns the main thread; a tokio runtime on its own thread
//! runs the controller, the link to the server and the printing. Views reach the window
//! only through `upgrade_in_event_loop` ([`ui::forward_views`]).

pub mod api;
pub mod config;
pub mod controller;
pub mod i18n;
pub mod memory;
pub mod printer;
pub mod ui;

/// The code Slint generates from `ui/kiosk.slint`.
#[allow(unreachable_pub, clippy::all, clippy::todo)]
mod generated {
    slint::include_modules!();
}
pub use generated::{
    AppAdapter, CheckInAdapter, ClosedAdapter, GuideAdapter, HomeAdapter, KioskWindow, Labels,
    NotifyAdapter, PrintState, Screen, ServiceItem, TicketAdapter,
};

use std::sync::Arc;

use anyhow::Context;
use slint::ComponentHandle;

/// Runs the kiosk until its window is closed.
pub fn run(config: &config::Config) -> anyhow::Result<()> {
    tracing::info!(server = %config.server, printer = %config.printer, "starting the kiosk");
    software_renderer()?;
    let ui = KioskWindow::new().context("creating the kiosk window")?;
    if config.fullscreen {
        ui.window().set_fullscreen(true);
    } else {
        ui.window().set_size(slint::LogicalSize::new(
            config.width as f32,
            config.height as f32,
        ));
    }

    let api = Arc::new(api::HttpApi::with_ca_file(
        &config.server,
        &config.token,
        config.timeout,
        config.ca_file.as_deref(),
    )?);
    let printer = Arc::new(printer::EscPosPrinter::new(
        config.printer.clone(),
        config.layout,
    ));
    let settings = controller::Settings {
        default_lang: config.lang,
        ..controller::Settings::default()
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("kiosk-net")
        .build()
        .context("starting the network runtime")?;
    let (handle, views) = runtime.block_on(async { controller::spawn(api, printer, settings) });
    ui::wire(&ui, &handle);
    runtime.spawn(ui::forward_views(ui.as_weak(), views));

    ui.run().context("running the kiosk window")?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(())
}

/// Slint's software renderer, unless `SLINT_BACKEND` names another (`winit-femtovg` where a GPU
/// is worth using). A screen that changes a few times a minute needs no GPU, and where no GPU
/// driver is installed the OpenGL renderer runs on Mesa's llvmpipe, whose libLLVM alone costs
/// about 70 MB of resident memory (idle under Xvfb: kiosk 157 → 39 MB, board 143 → 37 MB).
fn software_renderer() -> anyhow::Result<()> {
    if std::env::var_os("SLINT_BACKEND").is_none() {
        slint::BackendSelector::new()
            .renderer_name("software".into())
            .select()
            .context("selecting Slint's software renderer")?;
    }
    Ok(())
}

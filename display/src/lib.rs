//! The Qhall lobby board: shows every call big, keeps the last few in a list, speaks each one,
//! and stays in step with the server through restarts and network trouble.
//!
//! # Layout
//! - [`board`]: the board's state and the pure reducer (stream messages → state and
//!   announcements), with the rules that make every call announced exactly once.
//! - [`connection`]: the WebSocket to `/api/v1/events` on its own tokio runtime thread:
//!   resume with `since`, ping, backoff with jitter.
//! - [`voice`]: the chime and speech queue (pure), espeak-ng rendering, rodio playback.
//! - [`sample`]: a realistic board for the screenshots and UI tests.
//! - [`ui`]: the board state as text for `ui/board.slint`, written through `BoardAdapter`.
//! - `ui/board.slint`: the screen (landscape and portrait, emergency overlay); preview data in
//!   its `BoardAdapter`.
//!
//! Threads: the Slint event loop owns the window; the connection thread reaches it only
//! through `upgrade_in_event_loop`; the voice thread plays one announcement at a time.

pub mod board;
pub mod connection;
pub mod sample;
pub mod ui;
pub mod voice;

/// The code Slint generates from `ui/board.slint`.
#[allow(unreachable_pub, clippy::all, clippy::todo)]
mod generated {
    slint::include_modules!();
}
pub use generated::{BoardAdapter, BoardWindow, CallRow, Theme, WaitingRow};

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use slint::ComponentHandle;

use crate::board::{Board, WindowFilter};
use crate::voice::{Voice, VoiceConfig};

/// Command line of `qhall-display`. The defaults reach the demo hall of
/// `qhall-server --demo` on this machine.
#[derive(Debug, Clone, Parser)]
#[command(name = "qhall-display", version, about = "The Qhall lobby board")]
pub struct Args {
    /// The server's address.
    #[arg(long, env = "QHALL_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// The display's device token.
    #[arg(
        long,
        env = "QHALL_DISPLAY_TOKEN",
        default_value = "demo-display",
        hide_env_values = true
    )]
    pub token: String,
    /// A CA certificate (PEM) to trust besides the system's, for an `https://` server whose
    /// certificate comes from the hall's own CA.
    #[arg(long, env = "QHALL_CA_FILE")]
    pub ca_file: Option<std::path::PathBuf>,
    /// The windows this board shows and speaks, e.g. `1,2,5-8`; default all.
    #[arg(long, default_value = "all", value_parser = parse_windows)]
    pub windows: WindowFilter,
    /// Languages spoken, in order: `zh`, `en`, `zh,en`, `en,zh` or `off`.
    #[arg(long, default_value = "zh,en", value_parser = voice::parse_languages)]
    pub voice: voice::Languages,
    /// How many times each call is spoken after its chime.
    #[arg(long, default_value_t = 1)]
    pub repeat: u32,
    /// Mandarin template; `{number}` is read digit by digit, `{window}` as a number.
    #[arg(long, default_value = voice::DEFAULT_TEMPLATE_ZH)]
    pub template_zh: String,
    /// English template; `{number}` is read character by character.
    #[arg(long, default_value = voice::DEFAULT_TEMPLATE_EN)]
    pub template_en: String,
    /// Speech rate in words per minute.
    #[arg(long, default_value_t = 150)]
    pub speech_rate: u32,
    /// Fill the screen (a TV in the hall).
    #[arg(long)]
    pub fullscreen: bool,
    /// Open a 1080×1920 window for a portrait screen (a fullscreen board follows the
    /// screen's own shape anyway).
    #[arg(long)]
    pub portrait: bool,
}

fn parse_windows(s: &str) -> Result<WindowFilter, String> {
    s.parse()
}

impl Args {
    pub fn voice_config(&self) -> VoiceConfig {
        VoiceConfig {
            languages: self.voice.0.clone(),
            repeat: self.repeat.max(1),
            template_zh: self.template_zh.clone(),
            template_en: self.template_en.clone(),
            words_per_minute: self.speech_rate,
        }
    }
}

/// Runs the board until its window is closed.
pub fn run(args: Args) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    connection::events_url(&args.server, None).map_err(anyhow::Error::msg)?;
    // A CA file that cannot be read stops the board at start, not at every reconnect.
    qhall_shared::tls::client_config(args.ca_file.as_deref()).map_err(anyhow::Error::msg)?;

    software_renderer()?;
    let window = BoardWindow::new().context("creating the board window")?;
    // The TV's own size; a window manager's fullscreen then takes over where there is one.
    let (width, height) = if args.portrait {
        (1080.0, 1920.0)
    } else {
        (1920.0, 1080.0)
    };
    window
        .window()
        .set_size(slint::LogicalSize::new(width, height));
    if args.fullscreen {
        window.window().set_fullscreen(true);
    }
    ui::tick_clock(&window);
    let clock = slint::Timer::default();
    let weak = window.as_weak();
    clock.start(
        slint::TimerMode::Repeated,
        Duration::from_secs(1),
        move || {
            if let Some(w) = weak.upgrade() {
                ui::tick_clock(&w);
            }
        },
    );
    // Until the first snapshot the board shows an empty hall, marked as connecting.
    ui::apply(
        &window,
        &ui::BoardView::new(&Board::new(args.windows.clone()), None),
    );

    let voice = Voice::start(args.voice_config());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let Args {
        server,
        token,
        ca_file,
        windows,
        ..
    } = args;
    let options = connection::Options {
        server,
        token,
        ca_file,
    };
    let board = Board::new(windows);
    let weak = window.as_weak();
    let connection = std::thread::Builder::new()
        .name("qhall-connection".into())
        .spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let mut shown: Option<u64> = None;
            let mut speaker = voice::Speaker::default();
            let on_update = move |board: &Board, said: Vec<board::Announcement>| {
                let view = ui::BoardView::new(board, shown);
                shown = Some(board.call_serial);
                // Fails only when the event loop has quit, i.e. the board is closing.
                let _ = weak.upgrade_in_event_loop(move |w| ui::apply(&w, &view));
                voice.announce(speaker.on_update(board, said));
            };
            let stopped = async {
                let _ = stop_rx.await;
            };
            runtime.block_on(connection::run(options, board, on_update, stopped));
            Ok(())
        })
        .context("starting the connection thread")?;

    window.run().context("running the board window")?;
    let _ = stop_tx.send(());
    match connection.join() {
        Ok(result) => result,
        Err(_) => anyhow::bail!("the connection thread panicked"),
    }
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

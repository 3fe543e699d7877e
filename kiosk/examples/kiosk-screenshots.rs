//! Renders the kiosk's screens to PNG files without a display:
//!
//! ```text
//! cargo run -p qhall-kiosk --example kiosk-screenshots [OUT_DIR]
//! ```
//!
//! `OUT_DIR` defaults to the repository's `docs/`. The screens are driven through the real
//! controller against the in-memory demo hall with a fixed clock, so the pictures change
//! only when the UI does. Slint's testing backend with its software renderer draws them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
use qhall_kiosk::controller::{self, Command, KioskHandle, PrintState, Screen, Settings, View};
use qhall_kiosk::i18n::Lang;
use qhall_kiosk::memory::MemoryApi;
use qhall_kiosk::printer::{PrintError, PrintJob, Printer};
use qhall_kiosk::{KioskWindow, ui};
use slint::ComponentHandle;
use tokio::sync::watch;

/// A printer that prints nothing, or reports it is out of paper.
struct ShotPrinter {
    out_of_paper: AtomicBool,
}

impl Printer for ShotPrinter {
    fn present(&self) -> bool {
        true
    }
    fn print(&self, _job: &PrintJob) -> Result<(), PrintError> {
        if self.out_of_paper.load(Ordering::SeqCst) {
            Err(PrintError::NoPaper)
        } else {
            Ok(())
        }
    }
}

struct Shooter {
    rt: tokio::runtime::Runtime,
    window: KioskWindow,
    out: PathBuf,
    now: DateTime<Utc>,
}

struct Session {
    api: MemoryApi,
    printer: Arc<ShotPrinter>,
    handle: KioskHandle,
    views: watch::Receiver<View>,
}

impl Shooter {
    fn session(&self, lang: Lang) -> Session {
        self.session_at(lang, self.now)
    }

    fn session_at(&self, lang: Lang, now: DateTime<Utc>) -> Session {
        let api = MemoryApi::demo();
        api.set_now(now);
        let printer = Arc::new(ShotPrinter {
            out_of_paper: AtomicBool::new(false),
        });
        let settings = Settings {
            default_lang: lang,
            now: Arc::new(move || now),
            ..Settings::default()
        };
        let (handle, views) = self.rt.block_on(async {
            controller::spawn(Arc::new(api.clone()), printer.clone(), settings)
        });
        Session {
            api,
            printer,
            handle,
            views,
        }
    }

    fn settle(
        &self,
        s: &mut Session,
        what: &str,
        pred: impl Fn(&View) -> bool,
    ) -> anyhow::Result<()> {
        let views = &mut s.views;
        let view = self
            .rt
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(20), views.wait_for(|v| pred(v))).await
            })
            .with_context(|| format!("waiting for {what}"))??
            .clone();
        ui::apply(&self.window, &view);
        Ok(())
    }

    fn shoot(&self, size: (u32, u32), name: &str) -> anyhow::Result<()> {
        self.window
            .window()
            .set_size(slint::PhysicalSize::new(size.0, size.1));
        let shot = self
            .window
            .window()
            .take_snapshot()
            .context("taking a snapshot")?;
        let img = image::RgbaImage::from_raw(shot.width(), shot.height(), shot.as_bytes().to_vec())
            .context("snapshot buffer size")?;
        let path = self.out.join(name);
        img.save(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
        Ok(())
    }

    /// Home, guide and ticket for one language and orientation.
    fn flow(
        &self,
        lang: Lang,
        size: (u32, u32),
        prefix: &str,
        names: [&str; 3],
    ) -> anyhow::Result<()> {
        let mut s = self.session(lang);
        self.settle(&mut s, "home", |v| {
            v.screen == Screen::Home && !v.services.is_empty()
        })?;
        if !names[0].is_empty() {
            self.shoot(size, &format!("{prefix}{}", names[0]))?;
        }
        s.handle.send(Command::SelectService("A".into()));
        self.settle(&mut s, "guide", |v| v.screen == Screen::Guide)?;
        if !names[1].is_empty() {
            self.shoot(size, &format!("{prefix}{}", names[1]))?;
        }
        s.handle.send(Command::TakeTicket { priority: false });
        self.settle(&mut s, "ticket", |v| {
            v.screen == Screen::Ticket && v.ticket.print == PrintState::Printed
        })?;
        if !names[2].is_empty() {
            self.shoot(size, &format!("{prefix}{}", names[2]))?;
        }
        Ok(())
    }

    fn conditions(&self, size: (u32, u32)) -> anyhow::Result<()> {
        let mut s = self.session(Lang::Zh);
        self.settle(&mut s, "home", |v| {
            v.screen == Screen::Home && !v.services.is_empty()
        })?;
        s.printer.out_of_paper.store(true, Ordering::SeqCst);
        s.handle.send(Command::SelectService("B".into()));
        self.settle(&mut s, "guide", |v| v.screen == Screen::Guide)?;
        s.handle.send(Command::TakeTicket { priority: false });
        self.settle(&mut s, "print failed", |v| v.screen == Screen::PrintFailed)?;
        self.shoot(size, "kiosk-print-failed.png")?;
        s.handle.send(Command::Done);
        self.settle(&mut s, "home", |v| v.screen == Screen::Home)?;

        // A ticket taken on a phone: its code half typed, then checked in.
        s.handle.send(Command::OpenCheckIn);
        self.settle(&mut s, "check-in", |v| v.screen == Screen::CheckIn)?;
        for k in ["K", "7", "M"] {
            s.handle.send(Command::CheckInKey(k.into()));
        }
        self.settle(&mut s, "code typed", |v| v.check_in.code == "K7M")?;
        self.shoot(size, "kiosk-check-in.png")?;
        for k in ["2", "Q", "P"] {
            s.handle.send(Command::CheckInKey(k.into()));
        }
        self.settle(&mut s, "code complete", |v| v.check_in.code == "K7M2QP")?;
        s.handle.send(Command::CheckInSubmit(None));
        self.settle(&mut s, "checked in", |v| v.screen == Screen::CheckedIn)?;
        self.shoot(size, "kiosk-checked-in.png")?;
        s.handle.send(Command::Back);
        self.settle(&mut s, "home", |v| v.screen == Screen::Home)?;

        // "Text me when my turn is near" after taking a ticket: the number half typed.
        s.printer.out_of_paper.store(false, Ordering::SeqCst);
        s.handle.send(Command::SelectService("A".into()));
        self.settle(&mut s, "guide", |v| v.screen == Screen::Guide)?;
        s.handle.send(Command::TakeTicket { priority: false });
        self.settle(&mut s, "ticket", |v| {
            v.screen == Screen::Ticket && v.ticket.print == PrintState::Printed
        })?;
        s.handle.send(Command::OpenNotify);
        self.settle(&mut s, "number pad", |v| v.screen == Screen::Notify)?;
        for d in ["1", "3", "8", "0", "0", "1", "3"] {
            s.handle.send(Command::NotifyKey(d.into()));
        }
        self.settle(&mut s, "digits", |v| v.notify.digits == "1380013")?;
        self.shoot(size, "kiosk-notify.png")?;
        s.handle.send(Command::Back);
        self.settle(&mut s, "ticket again", |v| v.screen == Screen::Ticket)?;
        s.handle.send(Command::Done);
        self.settle(&mut s, "home", |v| v.screen == Screen::Home)?;

        // 18:05, after closing: tickets again tomorrow at 08:30.
        let evening = self.now + chrono::Duration::minutes(7 * 60 + 23);
        let mut c = self.session_at(Lang::Zh, evening);
        self.settle(&mut c, "home", |v| {
            v.screen == Screen::Home && !v.services.is_empty()
        })?;
        c.api.set_hall_open(
            false,
            Some(evening + chrono::Duration::minutes(14 * 60 + 25)),
        );
        self.settle(&mut c, "closed", |v| {
            v.screen == Screen::Closed && !v.closed.next.is_empty()
        })?;
        self.shoot(size, "kiosk-closed.png")?;

        s.api
            .set_emergency(Some("消防演练进行中，请按指示有序离开大厅。"));
        self.settle(&mut s, "emergency", |v| v.screen == Screen::Emergency)?;
        self.shoot(size, "kiosk-emergency.png")?;
        s.api.set_emergency(None);
        self.settle(&mut s, "home", |v| v.screen == Screen::Home)?;

        s.api.set_down(true);
        self.settle(&mut s, "out of service", |v| {
            v.screen == Screen::OutOfService
        })?;
        self.shoot(size, "kiosk-out-of-service.png")?;
        Ok(())
    }
}

fn out_dir() -> PathBuf {
    match std::env::args().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs"),
    }
}

fn main() -> anyhow::Result<()> {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .map_err(|e| anyhow::anyhow!("setting the testing platform: {e}"))?;
    let out = out_dir();
    std::fs::create_dir_all(&out)?;
    let window = KioskWindow::new()?;
    window.show()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // Monday 2 March 2026, 10:42 in Shanghai.
    let now = DateTime::parse_from_rfc3339("2026-03-02T02:42:00Z")?.with_timezone(&Utc);
    let shooter = Shooter {
        rt,
        window,
        out,
        now,
    };

    let portrait = (1080, 1920);
    let landscape = (1920, 1080);
    shooter.flow(
        Lang::Zh,
        portrait,
        "kiosk-",
        ["home.png", "guide.png", "ticket.png"],
    )?;
    shooter.conditions(portrait)?;
    shooter.flow(
        Lang::En,
        landscape,
        "kiosk-landscape-",
        ["home-en.png", "guide-en.png", ""],
    )?;
    shooter.flow(
        Lang::ZhHant,
        landscape,
        "kiosk-landscape-",
        ["", "", "ticket-zh-hant.png"],
    )?;
    Ok(())
}

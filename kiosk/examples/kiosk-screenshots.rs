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

/// A printer that keeps the last ticket's ESC/POS bytes, or reports it is out of paper.
struct ShotPrinter {
    out_of_paper: AtomicBool,
    last: std::sync::Mutex<Vec<u8>>,
}

impl Printer for ShotPrinter {
    fn present(&self) -> bool {
        true
    }
    fn print(&self, job: &PrintJob) -> Result<(), PrintError> {
        if self.out_of_paper.load(Ordering::SeqCst) {
            Err(PrintError::NoPaper)
        } else {
            let bytes = qhall_kiosk::printer::escpos::encode(job, Default::default());
            *self.last.lock().unwrap_or_else(|e| e.into_inner()) = bytes;
            Ok(())
        }
    }
}

/// The paper an ESC/POS stream (as [`qhall_kiosk::printer::escpos::encode`] writes it) comes
/// out as on an 80 mm printer: text in the printer's sizes, raster lines, the QR code. Only the
/// commands the kiosk sends are understood; this reads the bytes, so the picture is what the
/// printer is told to print.
fn paper(bytes: &[u8]) -> image::GrayImage {
    use qhall_kiosk::printer::raster;
    const WIDTH: u32 = 576;
    let mut rows: Vec<Vec<bool>> = Vec::new();
    let mut put = |bitmap_rows: Vec<Vec<bool>>| rows.extend(bitmap_rows);
    let from_bitmap = |b: &raster::Bitmap| -> Vec<Vec<bool>> {
        (0..b.height())
            .map(|y| (0..WIDTH).map(|x| x < b.width() && b.get(x, y)).collect())
            .collect()
    };
    let (mut scale, mut text, mut qr) = ((1u32, 1u32), String::new(), Vec::new());
    let flush = |text: &mut String, scale: (u32, u32), put: &mut dyn FnMut(Vec<Vec<bool>>)| {
        if !text.is_empty() {
            let b = raster::render_line(text, 24.0 * scale.1 as f32, WIDTH);
            put(from_bitmap(&b));
            text.clear();
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            0x1b => {
                // ESC @ / a n / E n / d n
                let n = bytes.get(i + 2).copied().unwrap_or(0);
                if bytes.get(i + 1) == Some(&b'd') {
                    flush(&mut text, scale, &mut put);
                    put(vec![vec![false; WIDTH as usize]; 24 * n as usize]);
                }
                i += if bytes.get(i + 1) == Some(&b'@') {
                    2
                } else {
                    3
                };
            }
            0x1c => {
                i += if bytes.get(i + 1) == Some(&b'!') {
                    3
                } else {
                    2
                }
            }
            0x0a => {
                flush(&mut text, scale, &mut put);
                i += 1;
            }
            0x1d => match bytes.get(i + 1) {
                Some(b'!') => {
                    let n = bytes.get(i + 2).copied().unwrap_or(0);
                    scale = (u32::from(n >> 4) + 1, u32::from(n & 0x0f) + 1);
                    i += 3;
                }
                Some(b'v') => {
                    // GS v 0 m xL xH yL yH, then the rows.
                    let wb = usize::from(bytes[i + 4]) | usize::from(bytes[i + 5]) << 8;
                    let h = usize::from(bytes[i + 6]) | usize::from(bytes[i + 7]) << 8;
                    let data = &bytes[i + 8..i + 8 + wb * h];
                    put((0..h)
                        .map(|y| {
                            (0..WIDTH as usize)
                                .map(|x| {
                                    x < wb * 8 && data[y * wb + x / 8] & (0x80 >> (x % 8)) != 0
                                })
                                .collect()
                        })
                        .collect());
                    i += 8 + wb * h;
                }
                Some(b'(') => {
                    // GS ( k pL pH cn fn ...: store (fn 80) or print (fn 81) the QR code.
                    let len = usize::from(bytes[i + 3]) | usize::from(bytes[i + 4]) << 8;
                    let body = &bytes[i + 5..i + 5 + len];
                    match body.get(1) {
                        Some(80) => qr = body[3..].to_vec(),
                        Some(81) => {
                            if let Ok(code) = qrcode::QrCode::new(&qr) {
                                let m = code.width() as u32;
                                let module = 6;
                                let left = (WIDTH - m * module) / 2;
                                let colors = code.to_colors();
                                let mut bitmap = Vec::new();
                                for y in 0..m * module {
                                    bitmap.push(
                                        (0..WIDTH)
                                            .map(|x| {
                                                x >= left
                                                    && x < left + m * module
                                                    && colors[((y / module) * m
                                                        + (x - left) / module)
                                                        as usize]
                                                        == qrcode::Color::Dark
                                            })
                                            .collect(),
                                    );
                                }
                                put(bitmap);
                            }
                        }
                        _ => {}
                    }
                    i += 5 + len;
                }
                Some(b'V') => i += 4,
                _ => i += 2,
            },
            b => {
                text.push(b as char);
                i += 1;
            }
        }
    }
    flush(&mut text, scale, &mut put);
    let margin = 24;
    let mut img = image::GrayImage::from_pixel(
        WIDTH + 2 * margin,
        rows.len() as u32 + 2 * margin,
        image::Luma([255]),
    );
    for (y, row) in rows.iter().enumerate() {
        for (x, dark) in row.iter().enumerate() {
            if *dark {
                img.put_pixel(x as u32 + margin, y as u32 + margin, image::Luma([20]));
            }
        }
    }
    img
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
            last: Default::default(),
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

        // A booked customer: "I have an appointment", the code half typed, then the
        // appointment's ticket on screen and on paper.
        s.handle.send(Command::OpenBooking);
        self.settle(&mut s, "booking check-in", |v| {
            v.screen == Screen::CheckIn && v.check_in.booking
        })?;
        for k in ["K", "7", "M", "2", "P"] {
            s.handle.send(Command::CheckInKey(k.into()));
        }
        self.settle(&mut s, "booking code typed", |v| v.check_in.code == "K7M2P")?;
        self.shoot(size, "kiosk-booking-check-in.png")?;
        for k in ["9", "Q", "X", "A"] {
            s.handle.send(Command::CheckInKey(k.into()));
        }
        self.settle(&mut s, "booking code complete", |v| {
            v.check_in.code.len() == 9
        })?;
        s.printer.out_of_paper.store(false, Ordering::SeqCst);
        s.handle.send(Command::CheckInSubmit(None));
        self.settle(&mut s, "appointment ticket", |v| {
            v.screen == Screen::Ticket && v.ticket.print == PrintState::Printed
        })?;
        self.shoot(size, "kiosk-appointment-ticket.png")?;
        let bytes = s.printer.last.lock().map(|b| b.clone()).unwrap_or_default();
        let path = self.out.join("ticket-appointment-printed.png");
        paper(&bytes).save(&path)?;
        println!("wrote {}", path.display());
        s.handle.send(Command::Done);
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

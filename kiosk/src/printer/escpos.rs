//! A ticket as ESC/POS bytes, for 58 mm and 80 mm thermal printers.
//!
//! Only a handful of commands are needed, all in every ESC/POS printer since the TM-T88:
//! initialise, align, character size, feed, raster image (`GS v 0`), QR code (`GS ( k`),
//! cut (`GS V`). Writing them here keeps the bytes visible and testable; no driver crate
//! is needed for that.
//!
//! # Chinese
//! Plain ASCII lines (the number, times, the URL) are sent as text: crisp and compact.
//! A line with any other character is, by default, drawn with the kiosk's embedded font
//! and sent as a raster image ([`ChineseMode::Raster`]): it prints correctly on every
//! ESC/POS printer, whatever fonts it has, in Simplified and Traditional alike, and looks
//! the same as the screen. [`ChineseMode::Gb18030`] instead sends such lines as GB18030
//! text in the printer's Chinese mode (`FS &`): fewer bytes and faster, but only for
//! printers sold with a GB18030 font (most mainland Chinese models; not the international
//! Epson or Star models, which print mojibake).

use super::PrintJob;
use super::raster::{self, Bitmap};

const ESC: u8 = 0x1b;
const GS: u8 = 0x1d;
const FS: u8 = 0x1c;
const LF: u8 = 0x0a;

/// Paper width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    Mm58,
    #[default]
    Mm80,
}

impl Paper {
    /// Printable dots across at 203 dpi.
    pub fn dots(self) -> u32 {
        match self {
            Paper::Mm58 => 384,
            Paper::Mm80 => 576,
        }
    }

    /// QR module size in dots: the code stays about 4 cm wide on either paper.
    fn qr_module(self) -> u8 {
        match self {
            Paper::Mm58 => 5,
            Paper::Mm80 => 6,
        }
    }

    pub fn parse(s: &str) -> Option<Paper> {
        match s.trim().trim_end_matches("mm") {
            "58" => Some(Paper::Mm58),
            "80" => Some(Paper::Mm80),
            _ => None,
        }
    }
}

/// How lines with Chinese (any non-ASCII) characters are sent. See the module doc.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChineseMode {
    #[default]
    Raster,
    Gb18030,
}

impl ChineseMode {
    pub fn parse(s: &str) -> Option<ChineseMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "raster" | "image" => Some(ChineseMode::Raster),
            "gb18030" | "text" => Some(ChineseMode::Gb18030),
            _ => None,
        }
    }
}

/// The printer's paper and abilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Layout {
    pub paper: Paper,
    pub chinese: ChineseMode,
}

/// How big a line is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Size {
    Normal,
    /// Double height (headings, the service).
    Tall,
}

/// Builds the ESC/POS byte stream.
struct Writer {
    out: Vec<u8>,
    layout: Layout,
}

impl Writer {
    fn cmd(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    fn line(&mut self, text: &str, size: Size) {
        if text.is_ascii() {
            let mode = if size == Size::Tall { 0x01 } else { 0x00 };
            self.cmd(&[GS, b'!', mode]);
            self.out.extend_from_slice(text.as_bytes());
            self.cmd(&[GS, b'!', 0x00, LF]);
            return;
        }
        match self.layout.chinese {
            ChineseMode::Gb18030 => {
                let (bytes, _, _) = encoding_rs::GB18030.encode(text);
                // FS ! sets the size of Chinese characters; FS & / FS . enter and leave
                // the Chinese mode.
                let mode = if size == Size::Tall { 0x08 } else { 0x00 };
                let ascii_mode = if size == Size::Tall { 0x01 } else { 0x00 };
                self.cmd(&[GS, b'!', ascii_mode, FS, b'!', mode, FS, b'&']);
                self.out.extend_from_slice(&bytes);
                self.cmd(&[FS, b'.', GS, b'!', 0x00, FS, b'!', 0x00, LF]);
            }
            ChineseMode::Raster => {
                let px = if size == Size::Tall { 44.0 } else { 30.0 };
                for bitmap in raster::render_wrapped(text, px, self.layout.paper.dots()) {
                    self.image(&bitmap);
                }
            }
        }
    }

    /// `GS v 0`: a 1-bit image, one bit per dot, rows of `width_bytes`.
    fn image(&mut self, bitmap: &Bitmap) {
        let wb = bitmap.width_bytes();
        // Bands of at most 256 rows keep within every printer's buffer.
        for chunk in bitmap.packed().chunks(wb * 256) {
            let band_rows = chunk.len() / wb;
            self.cmd(&[GS, b'v', b'0', 0, (wb & 0xff) as u8, (wb >> 8) as u8]);
            self.cmd(&[(band_rows & 0xff) as u8, (band_rows >> 8) as u8]);
            self.out.extend_from_slice(chunk);
        }
    }

    /// `GS ( k`: a model 2 QR code, error correction M, printed centred.
    fn qr(&mut self, data: &str) {
        let module = self.layout.paper.qr_module();
        self.cmd(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]); // model 2
        self.cmd(&[GS, b'(', b'k', 3, 0, 49, 67, module]); // module size
        self.cmd(&[GS, b'(', b'k', 3, 0, 49, 69, 49]); // error correction M
        let len = data.len() + 3;
        self.cmd(&[
            GS,
            b'(',
            b'k',
            (len & 0xff) as u8,
            (len >> 8) as u8,
            49,
            80,
            48,
        ]);
        self.out.extend_from_slice(data.as_bytes());
        self.cmd(&[GS, b'(', b'k', 3, 0, 49, 81, 48]); // print it
        self.cmd(&[LF]);
    }
}

/// The bytes for one ticket, ending with a cut.
pub fn encode(job: &PrintJob, layout: Layout) -> Vec<u8> {
    let mut w = Writer {
        out: Vec::with_capacity(8 * 1024),
        layout,
    };
    w.cmd(&[ESC, b'@']); // initialise
    w.cmd(&[ESC, b'a', 1]); // centre everything
    w.line(&job.hall, Size::Tall);
    w.line(
        &"-".repeat(if layout.paper == Paper::Mm58 { 32 } else { 48 }),
        Size::Normal,
    );
    w.line(&job.number_label, Size::Normal);
    // The number: bold, four times as wide and high (a 12×24 font gives 48×96 dots a
    // digit); "A1234567" still fits 58 mm at three times.
    let scale = if job.number.len() > 6 && layout.paper == Paper::Mm58 {
        0x22
    } else {
        0x33
    };
    w.cmd(&[ESC, b'E', 1, GS, b'!', scale]);
    w.out.extend_from_slice(job.number.as_bytes());
    w.cmd(&[LF, GS, b'!', 0, ESC, b'E', 0]);
    if let Some(priority) = &job.priority {
        w.line(priority, Size::Tall);
    }
    if let Some(appointment) = &job.appointment {
        w.line(appointment, Size::Tall);
    }
    w.line(&job.service, Size::Tall);
    w.line(&job.ahead, Size::Normal);
    w.line(&job.wait, Size::Normal);
    w.line(&job.issued_at, Size::Normal);
    if let Some(guide) = &job.guide_line {
        w.line(guide, Size::Normal);
    }
    w.cmd(&[LF]);
    w.qr(&job.tracking_url);
    w.line(&job.scan_hint, Size::Normal);
    w.cmd(&[ESC, b'd', 4]); // feed past the cutter
    w.cmd(&[GS, b'V', 66, 0]); // partial cut (every cutter does it)
    w.out
}

/// `DLE EOT 4`: ask for the paper roll sensor status (one byte comes back).
pub const PAPER_STATUS_QUERY: [u8; 3] = [0x10, 0x04, 0x04];

/// Whether a `DLE EOT 4` answer says the paper is out (bits 5 and 6).
pub fn paper_out(status: u8) -> bool {
    status & 0x60 == 0x60
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn job() -> PrintJob {
        PrintJob {
            hall: "市民服务中心".into(),
            number_label: "您的号码".into(),
            number: "A012".into(),
            priority: None,
            appointment: None,
            service: "个人业务".into(),
            ahead: "您前面还有 3 人".into(),
            wait: "约 10–15 分钟".into(),
            issued_at: "2026-01-02 10:42".into(),
            guide_line: None,
            tracking_url: "http://127.0.0.1:8080/t/0123456789abcdef".into(),
            scan_hint: "扫码查看排队进度".into(),
        }
    }

    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }

    #[test]
    fn a_ticket_has_the_number_the_qr_code_with_the_tracking_url_and_a_cut() {
        for paper in [Paper::Mm58, Paper::Mm80] {
            let bytes = encode(
                &job(),
                Layout {
                    paper,
                    chinese: ChineseMode::Raster,
                },
            );
            assert_eq!(&bytes[..2], &[ESC, b'@']);
            let number = find(&bytes, b"A012").expect("the number is printed as text");
            // The number is printed large: a size command right before it.
            assert_eq!(&bytes[number - 3..number], &[GS, b'!', 0x33]);
            let url = b"http://127.0.0.1:8080/t/0123456789abcdef";
            let mut store = vec![GS, b'(', b'k', (url.len() + 3) as u8, 0, 49, 80, 48];
            store.extend_from_slice(url);
            let qr = find(&bytes, &store).expect("the QR store command holds the tracking URL");
            assert!(
                find(&bytes[qr..], &[GS, b'(', b'k', 3, 0, 49, 81, 48]).is_some(),
                "QR printed"
            );
            assert!(qr > number);
            assert_eq!(
                &bytes[bytes.len() - 4..],
                &[GS, b'V', 66, 0],
                "ends with a cut"
            );
        }
    }

    #[test]
    fn chinese_lines_are_raster_images_by_default_and_gb18030_text_on_request() {
        let raster = encode(&job(), Layout::default());
        assert!(
            find(&raster, &[GS, b'v', b'0', 0]).is_some(),
            "raster image command"
        );
        assert!(find(&raster, &[FS, b'&']).is_none());
        let (gb, _, _) = encoding_rs::GB18030.encode("个人业务");
        assert!(find(&raster, &gb).is_none());

        let text = encode(
            &job(),
            Layout {
                paper: Paper::Mm80,
                chinese: ChineseMode::Gb18030,
            },
        );
        let at = find(&text, &gb).expect("the service name in GB18030");
        assert_eq!(&text[at - 2..at], &[FS, b'&'], "inside the Chinese mode");
        assert!(
            find(&text, &[GS, b'v', b'0']).is_none(),
            "no images in text mode"
        );
        assert!(text.len() < raster.len() / 4, "text mode is much smaller");
    }

    #[test]
    fn raster_lines_fit_the_paper() {
        for paper in [Paper::Mm58, Paper::Mm80] {
            let bytes = encode(
                &job(),
                Layout {
                    paper,
                    chinese: ChineseMode::Raster,
                },
            );
            let mut at = 0;
            let mut images = 0;
            while let Some(i) = find(&bytes[at..], &[GS, b'v', b'0', 0]) {
                let p = at + i + 4;
                let wb = bytes[p] as u32 | (bytes[p + 1] as u32) << 8;
                assert!(wb * 8 <= paper.dots(), "{wb} bytes wide on {paper:?}");
                images += 1;
                at = p;
            }
            assert!(
                images >= 4,
                "hall, label, service, ahead, wait, hint: {images}"
            );
        }
    }

    #[test]
    fn paper_status_bits() {
        assert!(paper_out(0x72));
        assert!(!paper_out(0x12));
    }
}

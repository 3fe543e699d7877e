//! Draws a line of text into a 1-bit image with the kiosk's embedded font, for printers
//! that cannot print Chinese as text (see [`super::escpos`]).

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, ScaleFont, point};

/// The same font the screens use (WenQuanYi Micro Hei, Apache-2.0): covers Simplified and
/// Traditional Chinese and Latin.
pub static FONT_DATA: &[u8] = include_bytes!("../../ui/fonts/wqy-microhei.ttc");

fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| {
        FontRef::try_from_slice_and_index(FONT_DATA, 0).expect("the embedded font parses")
    })
}

/// A black-and-white image, one `bool` per dot, `true` = black.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    width: u32,
    height: u32,
    dots: Vec<bool>,
}

impl Bitmap {
    fn new(width: u32, height: u32) -> Self {
        Bitmap {
            width,
            height,
            dots: vec![false; (width * height) as usize],
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn get(&self, x: u32, y: u32) -> bool {
        self.dots[(y * self.width + x) as usize]
    }

    /// Bytes per row when packed eight dots to a byte.
    pub fn width_bytes(&self) -> usize {
        self.width.div_ceil(8) as usize
    }

    /// Rows packed most significant bit first, as `GS v 0` wants them.
    pub fn packed(&self) -> Vec<u8> {
        let wb = self.width_bytes();
        let mut out = vec![0u8; wb * self.height as usize];
        for y in 0..self.height {
            for x in 0..self.width {
                if self.get(x, y) {
                    out[y as usize * wb + (x / 8) as usize] |= 0x80 >> (x % 8);
                }
            }
        }
        out
    }

    /// Number of black dots (for tests).
    pub fn ink(&self) -> usize {
        self.dots.iter().filter(|d| **d).count()
    }
}

fn advance(text: &str, px: f32) -> f32 {
    let f = font().as_scaled(px);
    let mut w = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            w += f.kern(p, id);
        }
        w += f.h_advance(id);
        prev = Some(id);
    }
    w
}

/// Splits `text` into lines no wider than `width` dots: between words where there are
/// spaces, between any two Chinese characters otherwise (as Chinese typesetting allows).
fn wrap(text: &str, px: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    // Tokens: a run of non-CJK non-space characters is one word; a CJK character or a
    // space is a token of its own.
    let mut tokens: Vec<String> = Vec::new();
    for c in text.chars() {
        let breakable = c == ' ' || !c.is_ascii();
        match tokens.last_mut() {
            Some(last)
                if !breakable
                    && last
                        .chars()
                        .last()
                        .is_some_and(|l| l != ' ' && l.is_ascii()) =>
            {
                last.push(c)
            }
            _ => tokens.push(c.to_string()),
        }
    }
    for token in tokens {
        let candidate = format!("{line}{token}");
        if !line.is_empty() && advance(&candidate, px) > width {
            lines.push(line.trim_end().to_owned());
            line = token.trim_start().to_owned();
        } else {
            line = candidate;
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
}

/// Renders `text` at `px` pixels, centred in images `width` dots wide, one image per line
/// after wrapping.
pub fn render_wrapped(text: &str, px: f32, width: u32) -> Vec<Bitmap> {
    wrap(text, px, width as f32)
        .iter()
        .map(|line| render_line(line, px, width))
        .collect()
}

/// Renders one line centred in an image `width` dots wide (clipped if it is wider).
pub fn render_line(text: &str, px: f32, width: u32) -> Bitmap {
    let f = font().as_scaled(px);
    let ascent = f.ascent();
    let height = (ascent - f.descent()).ceil() as u32 + 4;
    let mut bitmap = Bitmap::new(width, height);
    let mut x = ((width as f32 - advance(text, px)) / 2.0).max(0.0);
    let mut prev = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            x += f.kern(p, id);
        }
        let glyph = id.with_scale_and_position(px, point(x, ascent + 2.0));
        x += f.h_advance(id);
        prev = Some(id);
        let Some(outline) = font().outline_glyph(glyph) else {
            continue;
        };
        let bounds = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            let px_x = bounds.min.x as i64 + gx as i64;
            let px_y = bounds.min.y as i64 + gy as i64;
            // Thermal dots are on or off; 40 % coverage keeps thin strokes of Chinese
            // characters from breaking up.
            if coverage > 0.4
                && (0..width as i64).contains(&px_x)
                && (0..height as i64).contains(&px_y)
            {
                bitmap.dots[(px_y as u32 * width + px_x as u32) as usize] = true;
            }
        });
    }
    bitmap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_text_is_drawn_with_ink_inside_the_paper() {
        let b = render_line("个人业务", 30.0, 384);
        assert_eq!(b.width(), 384);
        assert!(b.ink() > 200, "the characters have strokes: {}", b.ink());
        // Centred: the left and right margins are about equal.
        let cols: Vec<u32> = (0..b.width())
            .filter(|&x| (0..b.height()).any(|y| b.get(x, y)))
            .collect();
        let (first, last) = (cols[0], *cols.last().unwrap());
        assert!(
            (first as i64 - (383 - last) as i64).abs() < 12,
            "{first} {last}"
        );
    }

    #[test]
    fn long_lines_wrap_between_words_or_chinese_characters() {
        let lines = wrap("Social security and pensions for residents", 30.0, 384.0);
        assert!(lines.len() >= 2);
        assert!(lines.iter().all(|l| advance(l, 30.0) <= 384.0));
        assert_eq!(
            lines.join(" "),
            "Social security and pensions for residents"
        );
        let zh = wrap("请携带身份证原件和复印件以及户口本到窗口办理", 30.0, 384.0);
        assert!(zh.len() >= 2);
        assert_eq!(zh.concat(), "请携带身份证原件和复印件以及户口本到窗口办理");
    }

    #[test]
    fn packing_puts_the_leftmost_dot_in_the_high_bit() {
        let mut b = Bitmap::new(10, 1);
        b.dots[0] = true;
        b.dots[9] = true;
        assert_eq!(b.packed(), vec![0x80, 0x40]);
    }
}

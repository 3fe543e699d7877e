//! Booking codes: what the kiosk's keypad or scanner, and the server, take as one.
//!
//! A code is [`CODE_LEN`] characters of [`CODE_ALPHABET`] (no 0/O, 1/I/L: read aloud on the
//! service phone and typed on a touch screen without doubt). A USB scanner reading the
//! booking's QR types the booking page's link instead; its last path segment, or its `code=`
//! parameter, is the code.

/// The characters a code is made of — a booking's, and a phone ticket's check-in code.
pub const CODE_CHARS: &str = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// [`CODE_CHARS`] as bytes.
pub const CODE_ALPHABET: &[u8] = CODE_CHARS.as_bytes();

/// A booking code's length: 9 characters of 31, 44 random bits.
pub const CODE_LEN: usize = 9;

/// The booking code in `raw` — the code itself, in either case, or a link ending in it
/// (`…/book/CODE`, `…?code=CODE`) — if there is one.
pub fn code_in(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let tail = match raw.split_once("code=") {
        Some((_, c)) => c,
        None => raw.split(['?', '#']).next().unwrap_or(raw),
    };
    let tail = tail.rsplit('/').next().unwrap_or(tail);
    let tail = tail.split(['&', '#']).next().unwrap_or(tail);
    let upper = tail.to_ascii_uppercase();
    (upper.len() == CODE_LEN && upper.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_read_from_the_keypad_or_the_scanned_link() {
        let code = "ABCDEFGH2";
        for raw in [
            "abcdefgh2",
            " ABCDEFGH2\n",
            "https://hall.example/book/ABCDEFGH2",
            "https://hall.example/book?branch=1&code=abcdefgh2",
            "https://hall.example/book/view?code=ABCDEFGH2#top",
        ] {
            assert_eq!(code_in(raw).as_deref(), Some(code), "{raw}");
        }
        for raw in [
            "",
            "ABCDEFGH",
            "ABCDEFGH0",
            "https://hall.example/book/",
            "A3K9ZQ",
            "https://hall.example/t/AbCdEfGhIjKlMnOpQrStUv",
        ] {
            assert_eq!(code_in(raw), None, "{raw}");
        }
    }
}

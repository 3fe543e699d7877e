//! Identifiers parsed once at the edge: a value of these types is always valid.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A service's one-letter code, `A` to `Z`. Ticket numbers start with it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceCode(u8);

impl ServiceCode {
    /// The code as a one-character string slice.
    pub fn as_str(&self) -> &str {
        // A single ASCII uppercase letter is always valid UTF-8.
        std::str::from_utf8(std::slice::from_ref(&self.0)).unwrap_or("?")
    }

    pub fn as_char(&self) -> char {
        self.0 as char
    }
}

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidId(pub String);

impl fmt::Display for InvalidId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidId {}

impl FromStr for ServiceCode {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.as_bytes() {
            [c] if c.is_ascii_uppercase() => Ok(ServiceCode(*c)),
            _ => Err(InvalidId(format!(
                "a service code is one letter A-Z, not {s:?}"
            ))),
        }
    }
}

impl fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceCode({})", self.as_str())
    }
}

impl Serialize for ServiceCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ServiceCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A window's number as the hall knows it: 1, 2, 3 … (never 0).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct WindowNo(u32);

impl WindowNo {
    pub const MAX: u32 = 9999;

    pub fn new(n: u32) -> Result<Self, InvalidId> {
        if (1..=Self::MAX).contains(&n) {
            Ok(WindowNo(n))
        } else {
            Err(InvalidId(format!(
                "a window number is 1 to {}, not {n}",
                Self::MAX
            )))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl FromStr for WindowNo {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n: u32 = s
            .parse()
            .map_err(|_| InvalidId(format!("a window number is a positive integer, not {s:?}")))?;
        WindowNo::new(n)
    }
}

impl fmt::Display for WindowNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for WindowNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WindowNo({})", self.0)
    }
}

impl<'de> Deserialize<'de> for WindowNo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u32::deserialize(d)?;
        WindowNo::new(n).map_err(serde::de::Error::custom)
    }
}

/// A ticket number as printed and called: the service letter and at least three digits, `A001`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TicketNumber(String);

impl TicketNumber {
    /// Formats `seq` for `service`, zero-padded to `width` digits (at least 3).
    pub fn format(service: ServiceCode, seq: u32, width: usize) -> Self {
        TicketNumber(format!("{}{:0w$}", service.as_str(), seq, w = width.max(3)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The service letter the number starts with.
    pub fn service(&self) -> ServiceCode {
        self.0[..1].parse().unwrap_or(ServiceCode(b'A'))
    }

    /// The digits after the letter.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
}

impl FromStr for TicketNumber {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        if b.len() >= 4
            && b.len() <= 8
            && b[0].is_ascii_uppercase()
            && b[1..].iter().all(u8::is_ascii_digit)
        {
            Ok(TicketNumber(s.to_owned()))
        } else {
            Err(InvalidId(format!(
                "a ticket number is a letter and 3 to 7 digits, not {s:?}"
            )))
        }
    }
}

impl<'de> Deserialize<'de> for TicketNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TicketNumber({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_codes_are_single_uppercase_letters() {
        assert_eq!("A".parse::<ServiceCode>().unwrap().as_str(), "A");
        for bad in ["", "a", "AB", "1", "Ä"] {
            assert!(bad.parse::<ServiceCode>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn window_zero_is_rejected_everywhere() {
        assert!(WindowNo::new(0).is_err());
        assert!("0".parse::<WindowNo>().is_err());
        assert!(serde_json::from_str::<WindowNo>("0").is_err());
        assert_eq!(serde_json::from_str::<WindowNo>("3").unwrap().get(), 3);
    }

    #[test]
    fn ticket_numbers_are_zero_padded_to_three_digits() {
        let a: ServiceCode = "A".parse().unwrap();
        assert_eq!(TicketNumber::format(a, 7, 3).as_str(), "A007");
        assert_eq!(TicketNumber::format(a, 1234, 4).as_str(), "A1234");
        assert_eq!(TicketNumber::format(a, 12, 1).as_str(), "A012");
        assert!("A01".parse::<TicketNumber>().is_err());
        assert_eq!(
            "B123".parse::<TicketNumber>().unwrap().service().as_str(),
            "B"
        );
    }
}

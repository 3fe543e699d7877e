//! The range of minutes a wait estimate is shown as. The kiosk prints it, the tracking page
//! shows it, and the manager's report counts how many customers were called within it, so it
//! is defined once, here.

/// The range of whole minutes a wait estimate falls in, as the customer reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitRange {
    /// Less than five minutes.
    Short,
    /// Between `lo` and `hi` minutes.
    Minutes { lo: u64, hi: u64 },
    /// More than two hours.
    Long,
}

impl WaitRange {
    /// Rounds an estimate into a range: 5-minute steps up to an hour, 15-minute steps up
    /// to two hours. An estimate is a guess; a range says so, a number of seconds lies.
    pub fn from_secs(secs: u64) -> WaitRange {
        let mins = secs.div_ceil(60);
        match mins {
            0..5 => WaitRange::Short,
            5..60 => {
                let lo = mins / 5 * 5;
                WaitRange::Minutes { lo, hi: lo + 5 }
            }
            60..120 => {
                let lo = mins / 15 * 15;
                WaitRange::Minutes { lo, hi: lo + 15 }
            }
            _ => WaitRange::Long,
        }
    }

    /// Whether a wait of `secs` seconds is what this range promised: under five minutes for
    /// [`WaitRange::Short`], `lo`–`hi` minutes inclusive, over two hours for [`WaitRange::Long`].
    pub fn contains(self, secs: f64) -> bool {
        match self {
            WaitRange::Short => secs <= 300.0,
            WaitRange::Minutes { lo, hi } => (lo * 60) as f64 <= secs && secs <= (hi * 60) as f64,
            WaitRange::Long => secs >= 7200.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_what_they_contain() {
        assert_eq!(WaitRange::from_secs(0), WaitRange::Short);
        assert_eq!(WaitRange::from_secs(240), WaitRange::Short);
        assert_eq!(
            WaitRange::from_secs(301),
            WaitRange::Minutes { lo: 5, hi: 10 }
        );
        assert_eq!(
            WaitRange::from_secs(3600),
            WaitRange::Minutes { lo: 60, hi: 75 }
        );
        assert_eq!(WaitRange::from_secs(7200), WaitRange::Long);
        let r = WaitRange::from_secs(12 * 60);
        assert_eq!(r, WaitRange::Minutes { lo: 10, hi: 15 });
        assert!(r.contains(600.0) && r.contains(900.0) && r.contains(700.0));
        assert!(!r.contains(599.0) && !r.contains(901.0));
        assert!(WaitRange::Short.contains(0.0) && !WaitRange::Short.contains(301.0));
        assert!(WaitRange::Long.contains(8000.0) && !WaitRange::Long.contains(7000.0));
    }
}

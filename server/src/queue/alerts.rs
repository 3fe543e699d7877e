//! The live page's judgements: how a line's longest current wait stands against its target,
//! and whether a line has too many people for the windows serving it.

use serde::Serialize;

/// How a line's longest current wait stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Nobody waits, or the longest wait is below the warning share of the target.
    Ok,
    /// At or above `warn_percent` of the target, not over it: about to miss it.
    Warn,
    /// Over the target.
    Over,
}

/// The level of a line whose longest-waiting ticket has waited `longest_secs` (`None`: nobody).
pub fn level(longest_secs: Option<u64>, target_secs: u64, warn_percent: u32) -> Level {
    match longest_secs {
        None => Level::Ok,
        Some(w) if w > target_secs => Level::Over,
        Some(w) if u128::from(w) * 100 >= u128::from(target_secs) * u128::from(warn_percent) => {
            Level::Warn
        }
        Some(_) => Level::Ok,
    }
}

/// More than `per_window` waiting for each open window serving the line (with no window open,
/// anyone waiting is too many).
pub fn too_many_waiting(waiting: u32, open_windows: u32, per_window: u32) -> bool {
    u64::from(waiting) > u64::from(open_windows) * u64::from(per_window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_starts_at_the_share_and_red_only_past_the_target() {
        assert_eq!(level(None, 900, 80), Level::Ok);
        assert_eq!(level(Some(719), 900, 80), Level::Ok);
        assert_eq!(level(Some(720), 900, 80), Level::Warn);
        assert_eq!(level(Some(900), 900, 80), Level::Warn);
        assert_eq!(level(Some(901), 900, 80), Level::Over);
    }

    #[test]
    fn more_than_the_set_number_per_open_window_is_too_many() {
        assert!(!too_many_waiting(12, 2, 6));
        assert!(too_many_waiting(13, 2, 6));
        assert!(too_many_waiting(1, 0, 6));
        assert!(!too_many_waiting(0, 0, 6));
    }
}

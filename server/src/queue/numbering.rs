//! Ticket numbers: per service, per branch-local day, within the service's range.
//!
//! A day starts at the service's first number. Past the last number the sequence wraps to the
//! first again, skipping any number that is still *live* (waiting, called or being served) —
//! a number on the board must never mean two customers. Days are branch-local
//! ([`super::schedule::local_date`]), so the reset happens at the hall's midnight, DST or not.

/// The numbers to try, in order, after `previous` (None: the first of the day): each number of
/// the range once, starting after `previous` and wrapping past the last. The first one that is
/// not live is the next number.
pub fn candidates(first: u32, last: u32, previous: Option<u32>) -> impl Iterator<Item = u32> {
    let span = if first > last { 0 } else { last - first + 1 };
    // After the last number (or a number outside a range that has since changed), wrap.
    let start = match previous {
        Some(p) if p >= first && p < last => p + 1,
        _ => first,
    };
    (0..span).map(move |i| first + (start - first + i) % span)
}

/// The number to issue after `previous`, or `None` if every number of the range is still live.
pub fn next_number(
    first: u32,
    last: u32,
    previous: Option<u32>,
    is_live: impl Fn(u32) -> bool,
) -> Option<u32> {
    candidates(first, last, previous).find(|n| !is_live(*n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_at_the_first_number_and_counts_up() {
        assert_eq!(next_number(1, 999, None, |_| false), Some(1));
        assert_eq!(next_number(1, 999, Some(41), |_| false), Some(42));
        assert_eq!(next_number(100, 199, None, |_| false), Some(100));
    }

    #[test]
    fn the_range_wraps_after_the_last_number() {
        assert_eq!(next_number(1, 999, Some(999), |_| false), Some(1));
    }

    #[test]
    fn wrapping_skips_numbers_still_live() {
        let live = [1, 2, 4];
        assert_eq!(next_number(1, 5, Some(5), |n| live.contains(&n)), Some(3));
        assert_eq!(next_number(1, 5, Some(3), |n| live.contains(&n)), Some(5));
    }

    #[test]
    fn candidates_visit_every_number_once_from_after_the_previous() {
        assert_eq!(
            candidates(1, 5, Some(3)).collect::<Vec<_>>(),
            vec![4, 5, 1, 2, 3]
        );
        assert_eq!(
            candidates(10, 12, None).collect::<Vec<_>>(),
            vec![10, 11, 12]
        );
        assert_eq!(candidates(5, 1, None).count(), 0);
    }

    #[test]
    fn a_full_range_issues_nothing_rather_than_a_duplicate() {
        assert_eq!(next_number(1, 3, Some(3), |_| true), None);
    }
}

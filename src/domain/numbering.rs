//! Ticket numbering within one service and one service day: range, wrap, daily cap.
//! Pure: the caller passes what was issued so far; no storage, no clock.

use thiserror::Error;

/// The numbers a service hands out in one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberRange {
    pub first: u32,
    pub last: u32,
    /// After `last`, start again at `first` (skipping numbers still waiting or being served)
    /// instead of refusing new tickets.
    pub wrap: bool,
}

/// Why no number can be given.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NumberingError {
    #[error("the daily cap of {cap} tickets for this service is reached")]
    DailyCapReached { cap: u32 },
    #[error("the number range {first}..={last} is used up and wrap is off")]
    RangeExhausted { first: u32, last: u32 },
    #[error("every number in {first}..={last} is still in use by a waiting or called ticket")]
    AllNumbersInUse { first: u32, last: u32 },
}

/// What has been issued so far today by one service.
#[derive(Debug, Clone, Copy, Default)]
pub struct IssuedSoFar {
    /// Tickets issued today (the sequence, which never wraps).
    pub count: u32,
    /// The printed number of the most recent ticket, if any.
    pub last_number: Option<u32>,
}

/// The next printed number, and the sequence number (1-based, never wraps) it is issued under.
/// `in_use` says whether a printed number is still held by an active ticket of this service:
/// after a wrap those numbers are skipped so that two citizens never hold the same number.
pub fn next_number(
    range: NumberRange,
    daily_cap: Option<u32>,
    so_far: IssuedSoFar,
    in_use: impl Fn(u32) -> bool,
) -> Result<(u32, u32), NumberingError> {
    if let Some(cap) = daily_cap
        && so_far.count >= cap
    {
        return Err(NumberingError::DailyCapReached { cap });
    }
    let seq = so_far.count + 1;
    let NumberRange { first, last, wrap } = range;
    let mut candidate = match so_far.last_number {
        None => first,
        Some(n) if n >= last => {
            if !wrap {
                return Err(NumberingError::RangeExhausted { first, last });
            }
            first
        }
        Some(n) => n + 1,
    };
    // At most one full turn of the range looking for a free number.
    let span = last - first + 1;
    for _ in 0..span {
        if !in_use(candidate) {
            return Ok((candidate, seq));
        }
        if candidate >= last {
            if !wrap {
                return Err(NumberingError::RangeExhausted { first, last });
            }
            candidate = first;
        } else {
            candidate += 1;
        }
    }
    Err(NumberingError::AllNumbersInUse { first, last })
}

/// The printed code of a ticket: prefix + number padded to `width` digits ("A" + 23 -> "A023").
pub fn ticket_code(prefix: &str, number: u32, width: usize) -> String {
    format!("{prefix}{number:0width$}")
}

/// A ticket code split into its letters and its number: "A023" -> ("A", 23).
pub fn split_code(code: &str) -> Option<(String, u32)> {
    let letters: String = code
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let digits = &code[letters.len()..];
    if letters.is_empty() || digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((letters.to_ascii_uppercase(), digits.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANGE: NumberRange = NumberRange {
        first: 1,
        last: 999,
        wrap: true,
    };

    #[test]
    fn first_ticket_of_the_day_gets_the_first_number() {
        let got = next_number(RANGE, None, IssuedSoFar::default(), |_| false);
        assert_eq!(got, Ok((1, 1)));
    }

    #[test]
    fn numbers_follow_the_last_one() {
        let so_far = IssuedSoFar {
            count: 22,
            last_number: Some(22),
        };
        assert_eq!(next_number(RANGE, None, so_far, |_| false), Ok((23, 23)));
    }

    #[test]
    fn range_can_start_above_one() {
        let range = NumberRange {
            first: 100,
            last: 199,
            wrap: false,
        };
        assert_eq!(
            next_number(range, None, IssuedSoFar::default(), |_| false),
            Ok((100, 1))
        );
    }

    #[test]
    fn wrap_starts_again_at_first_and_keeps_counting_the_sequence() {
        let so_far = IssuedSoFar {
            count: 999,
            last_number: Some(999),
        };
        assert_eq!(next_number(RANGE, None, so_far, |_| false), Ok((1, 1000)));
    }

    #[test]
    fn wrap_skips_numbers_still_held_by_waiting_tickets() {
        let so_far = IssuedSoFar {
            count: 999,
            last_number: Some(999),
        };
        // 1 and 2 are still waiting from this morning.
        let got = next_number(RANGE, None, so_far, |n| n == 1 || n == 2);
        assert_eq!(got, Ok((3, 1000)));
    }

    #[test]
    fn without_wrap_the_end_of_the_range_refuses() {
        let range = NumberRange {
            wrap: false,
            ..RANGE
        };
        let so_far = IssuedSoFar {
            count: 999,
            last_number: Some(999),
        };
        assert_eq!(
            next_number(range, None, so_far, |_| false),
            Err(NumberingError::RangeExhausted {
                first: 1,
                last: 999
            })
        );
    }

    #[test]
    fn a_full_range_of_active_tickets_refuses_instead_of_duplicating() {
        let range = NumberRange {
            first: 1,
            last: 3,
            wrap: true,
        };
        let so_far = IssuedSoFar {
            count: 3,
            last_number: Some(3),
        };
        assert_eq!(
            next_number(range, None, so_far, |_| true),
            Err(NumberingError::AllNumbersInUse { first: 1, last: 3 })
        );
    }

    #[test]
    fn daily_cap_refuses_the_ticket_after_the_cap() {
        let so_far = IssuedSoFar {
            count: 300,
            last_number: Some(300),
        };
        assert_eq!(
            next_number(RANGE, Some(300), so_far, |_| false),
            Err(NumberingError::DailyCapReached { cap: 300 })
        );
        let one_less = IssuedSoFar {
            count: 299,
            last_number: Some(299),
        };
        assert_eq!(
            next_number(RANGE, Some(300), one_less, |_| false),
            Ok((300, 300))
        );
    }

    #[test]
    fn codes_are_zero_padded() {
        assert_eq!(ticket_code("A", 23, 3), "A023");
        assert_eq!(ticket_code("CT", 7, 3), "CT007");
        assert_eq!(ticket_code("B", 1234, 3), "B1234");
    }
}

//! Numbers booked online (iHanoi): the booking code, when a booked citizen may check in, and
//! where a booked ticket stands in the one arrival order. Pure: time comes in as arguments.
//!
//! Hanoi serves booked and walk-in numbers in one sequence by registration time
//! (`../shared/notes/vietnam-service-points.md` 1b); a site may order by the booked slot
//! instead (`[bookings] order`).

use chrono::{DateTime, Duration, Utc};
use thiserror::Error;

/// Digits in a booking code: 9 chosen at random and a Luhn check digit, so a typo in one digit
/// or two swapped neighbours is caught before any lookup. Digits only: the kiosk's keypad is a
/// phone keypad, and 10 digits never read as a 12-digit CCCD or a 9-digit CMND.
pub const BOOKING_CODE_DIGITS: usize = 10;

/// The prefix of the QR payload the booking page shows (`HNBOOK:1234567890`). ASCII only, so
/// a keyboard-mode scanner types it correctly.
pub const BOOKING_QR_PREFIX: &str = "HNBOOK:";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BookingCodeError {
    #[error("no booking code given")]
    Empty,
    #[error("a booking code has 10 digits; this has {0}")]
    Length(usize),
    #[error("a booking code is digits only")]
    NotDigits,
    #[error("the last digit does not match: a digit was mistyped")]
    Check,
}

impl BookingCodeError {
    /// What the kiosk says, in Vietnamese and English.
    pub fn describe_vi_en(&self) -> (String, String) {
        match self {
            BookingCodeError::Empty => (
                "Hãy nhập mã đặt lịch gồm 10 chữ số.".into(),
                "Type the 10-digit booking code.".into(),
            ),
            BookingCodeError::Length(n) => (
                format!("Mã đặt lịch có 10 chữ số; bạn đã nhập {n}."),
                format!("A booking code has 10 digits; you typed {n}."),
            ),
            BookingCodeError::NotDigits | BookingCodeError::Check => (
                "Mã đặt lịch không đúng (có thể sai một chữ số). Hãy kiểm tra lại mã trên điện thoại.".into(),
                "This booking code is not right (a digit may be wrong). Check the code on your phone.".into(),
            ),
        }
    }
}

fn luhn_digit(digits: &[u8]) -> u8 {
    // Luhn over the payload: double every second digit from the right (the check digit goes
    // on the right, so the payload's last digit is doubled).
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// A booking code from 9 random digits (the caller draws them).
pub fn make_booking_code(random9: [u8; 9]) -> String {
    let digits: Vec<u8> = random9.iter().map(|d| d % 10).collect();
    let check = luhn_digit(&digits);
    digits
        .iter()
        .chain(std::iter::once(&check))
        .map(|d| char::from(b'0' + d))
        .collect()
}

/// A booking code as typed or scanned: spaces, dots and dashes dropped, the QR prefix taken
/// off; 10 digits with a valid check digit.
pub fn parse_booking_code(text: &str) -> Result<String, BookingCodeError> {
    let t = text.trim();
    let t = match t.get(..BOOKING_QR_PREFIX.len()) {
        Some(p) if p.eq_ignore_ascii_case(BOOKING_QR_PREFIX) => &t[BOOKING_QR_PREFIX.len()..],
        _ => t,
    };
    let kept: Vec<char> = t
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect();
    if kept.is_empty() {
        return Err(BookingCodeError::Empty);
    }
    if !kept.iter().all(|c| c.is_ascii_digit()) {
        return Err(BookingCodeError::NotDigits);
    }
    if kept.len() != BOOKING_CODE_DIGITS {
        return Err(BookingCodeError::Length(kept.len()));
    }
    let digits: Vec<u8> = kept.iter().map(|c| *c as u8 - b'0').collect();
    let (payload, check) = digits.split_at(BOOKING_CODE_DIGITS - 1);
    if luhn_digit(payload) != check[0] {
        return Err(BookingCodeError::Check);
    }
    Ok(kept.into_iter().collect())
}

/// "123 456 7890": how a code is printed and shown, in groups a citizen can read aloud (a
/// code being typed is grouped as it grows: "123 45").
pub fn display_booking_code(code: &str) -> String {
    if code.len() > BOOKING_CODE_DIGITS || !code.is_ascii() {
        return code.to_string();
    }
    let mut out = String::new();
    for (i, c) in code.chars().enumerate() {
        if i == 3 || i == 6 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// When a booked citizen may check in, around the start of their slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInWindow {
    /// Minutes before the slot starts that check-in opens.
    pub early_minutes: u32,
    /// Minutes after the slot starts that a check-in still counts as booked; later, the
    /// booking is released and the citizen gets a walk-in ticket.
    pub late_minutes: u32,
}

/// Where `now` falls against a booked slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckInTime {
    TooEarly { opens_at: DateTime<Utc> },
    OnTime,
    Late { lapsed_at: DateTime<Utc> },
}

impl CheckInWindow {
    pub fn opens_at(self, slot_start: DateTime<Utc>) -> DateTime<Utc> {
        slot_start - Duration::minutes(i64::from(self.early_minutes))
    }

    /// The moment the booking lapses (it is released at the point from then on).
    pub fn lapses_at(self, slot_start: DateTime<Utc>) -> DateTime<Utc> {
        slot_start + Duration::minutes(i64::from(self.late_minutes))
    }

    pub fn check(self, slot_start: DateTime<Utc>, now: DateTime<Utc>) -> CheckInTime {
        let opens_at = self.opens_at(slot_start);
        let lapsed_at = self.lapses_at(slot_start);
        if now < opens_at {
            CheckInTime::TooEarly { opens_at }
        } else if now >= lapsed_at {
            CheckInTime::Late { lapsed_at }
        } else {
            CheckInTime::OnTime
        }
    }
}

/// How booked tickets take their place among walk-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrivalOrder {
    /// By when the number was registered (Hanoi's rule): booked on Monday for Wednesday, a
    /// citizen is ahead of everyone who walked in on Wednesday.
    BookingTime,
    /// By the slot booked: the citizen stands where someone arriving at the slot's start would.
    SlotTime,
}

impl ArrivalOrder {
    pub fn parse(word: &str) -> Option<ArrivalOrder> {
        match word {
            "booking_time" => Some(ArrivalOrder::BookingTime),
            "slot_time" => Some(ArrivalOrder::SlotTime),
            _ => None,
        }
    }

    /// The arrival time a booked ticket is queued with. Never later than `now`: a citizen who
    /// checks in before their slot waits from the moment they arrive at the latest (so nobody
    /// who is present is queued behind people who come later than their slot's start).
    pub fn arrival(
        self,
        booked_at: DateTime<Utc>,
        slot_start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        match self {
            ArrivalOrder::BookingTime => booked_at.min(now),
            ArrivalOrder::SlotTime => slot_start.min(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0).unwrap()
    }

    #[test]
    fn codes_carry_a_check_digit_that_catches_typos() {
        let code = make_booking_code([1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(code.len(), 10);
        assert_eq!(parse_booking_code(&code).unwrap(), code);
        assert_eq!(display_booking_code("12345"), "123 45");
        assert_eq!(display_booking_code("1234567890"), "123 456 7890");
        assert_eq!(parse_booking_code(&format!("HNBOOK:{code}")).unwrap(), code);
        assert_eq!(parse_booking_code(&format!("hnbook:{code}")).unwrap(), code);
        assert_eq!(
            parse_booking_code(&display_booking_code(&code)).unwrap(),
            code
        );
        // Every single-digit typo and every swap of two different neighbours is caught.
        let digits: Vec<u8> = code.bytes().map(|b| b - b'0').collect();
        for i in 0..10 {
            for d in 0..10u8 {
                if d == digits[i] {
                    continue;
                }
                let mut typo = digits.clone();
                typo[i] = d;
                let s: String = typo.iter().map(|d| char::from(b'0' + d)).collect();
                assert_eq!(parse_booking_code(&s), Err(BookingCodeError::Check), "{s}");
            }
        }
        for i in 0..9 {
            if digits[i] == digits[i + 1] || (digits[i] + digits[i + 1] == 9) {
                continue; // Luhn's known blind spot (09 <-> 90) and equal digits
            }
            let mut swap = digits.clone();
            swap.swap(i, i + 1);
            let s: String = swap.iter().map(|d| char::from(b'0' + d)).collect();
            assert!(parse_booking_code(&s).is_err(), "{s}");
        }
    }

    #[test]
    fn other_numbers_are_not_booking_codes() {
        assert_eq!(
            parse_booking_code("001190054321"),
            Err(BookingCodeError::Length(12))
        );
        assert_eq!(parse_booking_code(""), Err(BookingCodeError::Empty));
        assert_eq!(
            parse_booking_code("000.A0.01.H26-210212-9090"),
            Err(BookingCodeError::NotDigits)
        );
        assert_eq!(
            parse_booking_code("12345678９0"),
            Err(BookingCodeError::NotDigits)
        );
    }

    #[test]
    fn the_window_opens_early_and_lapses_late() {
        let w = CheckInWindow {
            early_minutes: 60,
            late_minutes: 15,
        };
        let slot = t(3, 0);
        assert_eq!(
            w.check(slot, t(1, 59)),
            CheckInTime::TooEarly { opens_at: t(2, 0) }
        );
        assert_eq!(w.check(slot, t(2, 0)), CheckInTime::OnTime);
        assert_eq!(w.check(slot, t(3, 14)), CheckInTime::OnTime);
        assert_eq!(
            w.check(slot, t(3, 15)),
            CheckInTime::Late {
                lapsed_at: t(3, 15)
            }
        );
    }

    #[test]
    fn arrival_is_never_in_the_future() {
        let booked = t(0, 5);
        let slot = t(3, 0);
        assert_eq!(
            ArrivalOrder::BookingTime.arrival(booked, slot, t(2, 50)),
            booked
        );
        assert_eq!(
            ArrivalOrder::SlotTime.arrival(booked, slot, t(2, 50)),
            t(2, 50)
        );
        assert_eq!(ArrivalOrder::SlotTime.arrival(booked, slot, t(3, 10)), slot);
        assert_eq!(
            ArrivalOrder::parse("slot_time"),
            Some(ArrivalOrder::SlotTime)
        );
        assert_eq!(ArrivalOrder::parse("slot"), None);
    }
}

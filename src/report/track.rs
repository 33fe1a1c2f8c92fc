//! A ticket's live page on the centre (`/ve` there): the link on the ticket's QR carries the
//! point, the day, the number and a token only the point and the centre can make (an HMAC keyed
//! by the point's reporting token), so a number alone, or a neighbour's number, opens nothing.
//! 20 base32 characters: 100 bits, far beyond guessing at any rate the centre answers.

use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Characters in a token.
pub const TOKEN_LEN: usize = 20;

fn mac(point_token: &str, site: &str, day: NaiveDate, code: &str) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(
        format!("kiosk ticket link v1:{point_token}").as_bytes(),
    )
    .expect("HMAC takes a key of any length");
    m.update(format!("{site}\n{}\n{code}", day.format("%Y-%m-%d")).as_bytes());
    m
}

/// The token of ticket `code` of `day` at `site` (its `centre/branch/point` path).
pub fn token(point_token: &str, site: &str, day: NaiveDate, code: &str) -> String {
    let bytes = mac(point_token, site, day, code).finalize().into_bytes();
    base32(&bytes)[..TOKEN_LEN].to_string()
}

/// Whether `given` is that ticket's token (compared in constant time).
pub fn verify(point_token: &str, site: &str, day: NaiveDate, code: &str, given: &str) -> bool {
    let want = token(point_token, site, day, code);
    want.len() == given.len()
        && want
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// RFC 4648 base32, lower case, no padding (easy to read aloud, safe in a URL).
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
        assert_eq!(base32(b"f"), "my");
    }

    #[test]
    fn a_token_opens_its_own_ticket_only() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let t = token("secret-a", "hn/cn-07/demo", day, "A012");
        assert_eq!(t.len(), TOKEN_LEN);
        assert!(verify("secret-a", "hn/cn-07/demo", day, "A012", &t));
        assert!(!verify("secret-a", "hn/cn-07/demo", day, "A013", &t));
        assert!(!verify("secret-b", "hn/cn-07/demo", day, "A012", &t));
        assert!(!verify(
            "secret-a",
            "hn/cn-07/demo",
            day.succ_opt().unwrap(),
            "A012",
            &t
        ));
        assert!(!verify("secret-a", "hn/cn-07/demo", day, "A012", &t[..19]));
        assert!(!verify("secret-a", "hn/cn-07/demo", day, "A012", ""));
    }
}

//! Vietnamese for printers without a Vietnamese font: the TCVN-3 (TCVN 5712:1993) code page
//! split over Epson's two tables (ESC t 30 for lower case, ESC t 31 for capitals), and plain
//! ASCII with the tones stripped as the last resort. Pure.
//!
//! Not CP1258: it sends toned vowels as a base letter plus a combining mark that the printer
//! must overstrike, which many printers print as a separate glyph (see
//! shared/notes/escpos-printers.md); TCVN-3 is precomposed.

use unicode_normalization::UnicodeNormalization;

/// Upper half (0xA0..=0xFF) of the TCVN-3 lower-case table; ' ' marks a byte we never send.
const LOWER_ROWS: [&str; 6] = [
    "        ăâêôơưđ ",
    "     àảãáạ ằẳẵắ ",
    "      ặầẩẫấậè ẻẽ",
    "éẹềểễếệìỉ   ĩíịò",
    " ỏõóọồổỗốộờởỡớợù",
    " ủũúụừửữứựỳỷỹýỵ ",
];

/// The same for the capitals table.
const UPPER_ROWS: [&str; 6] = [
    " ĂÂ    Đ  ÊÔƠƯ  ",
    "     ÀẢÃÁẠ ẰẲẴẮ ",
    "      ẶẦẨẪẤẬÈ ẺẼ",
    "ÉẸỀỂỄẾỆÌỈ   ĨÍỊÒ",
    " ỎÕÓỌỒỔỖỐỘỜỞỠỚỢÙ",
    " ỦŨÚỤỪỬỮỨỰỲỶỸÝỴ ",
];

fn find(rows: &[&str; 6], ch: char) -> Option<u8> {
    rows.iter().enumerate().find_map(|(r, row)| {
        row.chars()
            .position(|c| c == ch && c != ' ')
            .map(|i| 0xA0 + (r as u8) * 16 + i as u8)
    })
}

/// Which TCVN-3 table a character needs, and its byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tcvn3Byte {
    /// ASCII: the same in both tables.
    Any(u8),
    Lower(u8),
    Upper(u8),
}

/// One character in TCVN-3, or None when the code page lacks it.
pub fn tcvn3_byte(ch: char) -> Option<Tcvn3Byte> {
    if ch.is_ascii() && !ch.is_ascii_control() {
        return Some(Tcvn3Byte::Any(ch as u8));
    }
    // The Icelandic eth looks like Đ and some texts use it by mistake.
    let ch = if ch == 'Ð' { 'Đ' } else { ch };
    find(&LOWER_ROWS, ch)
        .map(Tcvn3Byte::Lower)
        .or_else(|| find(&UPPER_ROWS, ch).map(Tcvn3Byte::Upper))
}

/// Text as runs of (table, bytes): the caller emits `ESC t <table>` before each run.
/// Characters TCVN-3 lacks are folded to ASCII; they are returned so the caller can log them.
pub fn encode_tcvn3(text: &str, lower_page: u8, upper_page: u8) -> (Vec<(u8, Vec<u8>)>, Vec<char>) {
    let mut runs: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut folded = Vec::new();
    let push =
        |page: Option<u8>, byte: u8, runs: &mut Vec<(u8, Vec<u8>)>| match (page, runs.last_mut()) {
            (None, Some((_, bytes))) => bytes.push(byte),
            (Some(p), Some((cur, bytes))) if *cur == p => bytes.push(byte),
            (None, None) => runs.push((lower_page, vec![byte])),
            (Some(p), _) => runs.push((p, vec![byte])),
        };
    for ch in text.nfc() {
        match tcvn3_byte(ch) {
            Some(Tcvn3Byte::Any(b)) => push(None, b, &mut runs),
            Some(Tcvn3Byte::Lower(b)) => push(Some(lower_page), b, &mut runs),
            Some(Tcvn3Byte::Upper(b)) => push(Some(upper_page), b, &mut runs),
            None => {
                folded.push(ch);
                for b in crate::text::to_ascii(&ch.to_string()).bytes() {
                    push(None, b, &mut runs);
                }
            }
        }
    }
    (runs, folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_every_toned_vowel_once() {
        let lower: String = LOWER_ROWS.concat().chars().filter(|c| *c != ' ').collect();
        let upper: String = UPPER_ROWS.concat().chars().filter(|c| *c != ' ').collect();
        // 12 vowels x 5 tones + ă â ê ô ơ ư đ = 67 in each table.
        assert_eq!(lower.chars().count(), 67);
        assert_eq!(upper.chars().count(), 67);
        let mut upper_of_lower: Vec<char> = lower.chars().flat_map(char::to_uppercase).collect();
        let mut upper: Vec<char> = upper.chars().collect();
        upper_of_lower.sort();
        upper.sort();
        assert_eq!(upper_of_lower, upper);
    }

    #[test]
    fn mixed_case_switches_tables() {
        let (runs, folded) = encode_tcvn3("Đăng ký", 30, 31);
        assert!(folded.is_empty());
        assert_eq!(
            runs,
            vec![
                (31, vec![0xA7]),
                (30, vec![0xA8, b'n', b'g', b' ', b'k', 0xFD])
            ]
        );
    }

    #[test]
    fn ascii_only_text_is_one_run_in_the_lower_table() {
        let (runs, _) = encode_tcvn3("A023 - 14:05", 30, 31);
        assert_eq!(runs, vec![(30, b"A023 - 14:05".to_vec())]);
    }

    #[test]
    fn characters_outside_tcvn3_are_folded_and_reported() {
        let (runs, folded) = encode_tcvn3("10–15", 30, 31);
        assert_eq!(runs, vec![(30, b"10-15".to_vec())]);
        assert_eq!(folded, vec!['–']);
    }

    #[test]
    fn ascii_fold_strips_tones_and_d_bar() {
        assert_eq!(crate::text::to_ascii("Đăng ký tạm trú"), "Dang ky tam tru");
        assert_eq!(
            crate::text::to_ascii("Người cao tuổi · 10–15 phút"),
            "Nguoi cao tuoi - 10-15 phut"
        );
        assert_eq!(crate::text::to_ascii("漢"), "?");
    }
}

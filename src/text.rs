//! Vietnamese text helpers shared by every layer: Unicode NFC, folding for search (marks
//! stripped, lower case) and ASCII for printers without Vietnamese. The one place where
//! Vietnamese is folded. Pure; depends on unicode-normalization only.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Compose to NFC. The national catalogue stores some names with combining accents
/// ("Cấp, quản lý căn cước"); comparing them with config text needs one form.
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// Lower case, marks stripped, đ -> d: "Đăng ký TẠM TRÚ" -> "dang ky tam tru". For forgiving
/// search (catalogue filter, assistant keys); characters outside Vietnamese are kept.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfd() {
        match c {
            'đ' | 'Đ' => out.push('d'),
            c if ('\u{0300}'..='\u{036f}').contains(&c) => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Strip tones and marks: "Đăng ký tạm trú" -> "Dang ky tam tru". Punctuation outside ASCII
/// becomes its nearest ASCII; anything else becomes '?'.
pub fn to_ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.nfd() {
        match ch {
            c if c.is_ascii() => out.push(c),
            c if is_combining_mark(c) => {}
            'đ' => out.push('d'),
            'Đ' | 'Ð' => out.push('D'),
            '–' | '—' | '‒' => out.push('-'),
            '·' | '•' => out.push('-'),
            '‘' | '’' => out.push('\''),
            '“' | '”' => out.push('"'),
            '…' => out.push_str("..."),
            '\u{a0}' => out.push(' '),
            _ => out.push('?'),
        }
    }
    out
}

/// At most `max` characters of `s`, with "…" when cut: how refusals quote what they were sent,
/// so a megabyte of input never comes back as a megabyte of reason.
pub fn clip(s: &str, max: usize) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_cuts_long_input_on_a_character() {
        assert_eq!(clip("Hộ tịch", 3), "Hộ …");
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip(&"x".repeat(1_000_000), 40).chars().count(), 41);
    }

    #[test]
    fn combining_accents_compose() {
        let decomposed = "ca\u{0302}\u{0301}p"; // c a + circumflex + acute, p
        assert_eq!(nfc(decomposed), "cấp");
        assert_ne!(decomposed, "cấp");
    }

    #[test]
    fn folding_drops_every_mark_and_keeps_case_insensitive_words() {
        assert_eq!(fold("Đăng ký TẠM TRÚ"), "dang ky tam tru");
        assert_eq!(fold("ca\u{0302}\u{0301}p"), "cap");
    }

    #[test]
    fn ascii_keeps_case_and_replaces_what_it_cannot_spell() {
        assert_eq!(to_ascii("Đăng ký tạm trú – 5’"), "Dang ky tam tru - 5'");
        assert_eq!(to_ascii("印"), "?");
    }
}

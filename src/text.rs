//! Small text helpers shared by config, store and (later) the assistant: Unicode NFC.
//! Pure; depends on unicode-normalization only.

use unicode_normalization::UnicodeNormalization;

/// Compose to NFC. The national catalogue stores some names with combining accents
/// ("Cấp, quản lý căn cước"); comparing them with config text needs one form.
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combining_accents_compose() {
        let decomposed = "ca\u{0302}\u{0301}p"; // c a + circumflex + acute, p
        assert_eq!(nfc(decomposed), "cấp");
        assert_ne!(decomposed, "cấp");
    }
}

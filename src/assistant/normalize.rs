//! Vietnamese text to search tokens.
//!
//! Every word becomes two keys:
//! - `folded`: lower case, every mark removed, đ -> d ("Đăng" -> "dang"). Typing without
//!   diacritics, or with wrong ones, still matches.
//! - `exact`: lower case with the letter marks kept (â ă ê ô ơ ư đ) and the tone moved out into a
//!   digit ("hoà" and "hòa" -> "hoa2"), so tone placement style never matters and a query typed
//!   with correct diacritics can be rewarded for them.
//!
//! Telex leftovers ("ddang kys", "xe mays") are repaired with the `vi` crate when the raw word
//! is not a known word and its Telex reading is.

use unicode_normalization::UnicodeNormalization;

/// A word of a query or of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub folded: String,
    pub exact: String,
    /// The word had any Vietnamese mark as typed (so `exact` means something).
    pub marked: bool,
}

const TONES: [(char, char); 5] = [
    ('\u{0300}', '2'), // huyền
    ('\u{0301}', '1'), // sắc
    ('\u{0303}', '4'), // ngã
    ('\u{0309}', '3'), // hỏi
    ('\u{0323}', '5'), // nặng
];

pub use crate::text::fold;

/// Whether a folded word (no marks, lower case) can be a Vietnamese syllable: an optional
/// onset, one to three vowels, an optional final consonant. "lam", "so", "do", "the", "can"
/// can; "how", "birth", "register", "need", "is" cannot.
pub fn is_syllable(folded: &str) -> bool {
    const ONSETS: [&str; 27] = [
        "ngh", "ng", "gh", "gi", "kh", "nh", "ph", "qu", "th", "tr", "ch", "b", "c", "d", "g", "h",
        "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
    ];
    const FINALS: [&str; 9] = ["ch", "ng", "nh", "c", "m", "n", "p", "t", ""];
    let is_vowel = |c: char| "aeiouy".contains(c);
    if folded.is_empty() || !folded.chars().all(|c| c.is_ascii_lowercase()) {
        return false;
    }
    ONSETS.iter().any(|onset| {
        let Some(rest) = folded.strip_prefix(onset) else {
            return false;
        };
        let vowels = rest.chars().take_while(|c| is_vowel(*c)).count();
        (1..=3).contains(&vowels) && FINALS.contains(&&rest[vowels..])
    })
}

/// The exact key of one word: letter marks kept, the tone as a trailing digit (0 = none).
pub fn exact_key(word: &str) -> String {
    let mut base = String::with_capacity(word.len() + 1);
    let mut tone = '0';
    for c in word.nfd() {
        if let Some((_, digit)) = TONES.iter().find(|(m, _)| *m == c) {
            tone = *digit;
        } else {
            base.extend(c.to_lowercase());
        }
    }
    let mut out: String = base.nfc().collect();
    out.push(tone);
    out
}

fn is_marked(word: &str) -> bool {
    word.nfd()
        .any(|c| ('\u{0300}'..='\u{036f}').contains(&c) || c == 'đ' || c == 'Đ')
}

/// Split text into words: letters and digits; everything else separates.
pub fn words(text: &str) -> Vec<String> {
    let text: String = text.nfc().collect();
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Tokens of catalogue text (no repair: the catalogue is spelled right).
pub fn tokens(text: &str) -> Vec<Token> {
    words(text).iter().map(|w| token(w)).collect()
}

pub fn token(word: &str) -> Token {
    Token {
        folded: fold(word),
        exact: exact_key(word),
        marked: is_marked(word),
    }
}

/// Tokens of a citizen's text, repairing Telex leftovers and doubled final letters against
/// `known` (a folded word of the catalogue or lexicon).
pub fn query_tokens(text: &str, known: &dyn Fn(&str) -> bool) -> Vec<Token> {
    words(text)
        .iter()
        .map(|w| {
            let t = token(w);
            if known(&t.folded) || t.folded.chars().any(|c| c.is_ascii_digit()) {
                return t;
            }
            repair(w, known).unwrap_or(t)
        })
        .collect()
}

/// "kys" -> "ký", "ddang" -> "đang", "tụcc" -> "tục", when the result is a known word.
pub fn repair(word: &str, known: &dyn Fn(&str) -> bool) -> Option<Token> {
    let lower = word.to_lowercase();
    if lower.chars().all(|c| c.is_ascii_alphabetic()) {
        let mut out = String::new();
        vi::transform_buffer(&vi::TELEX, lower.chars(), &mut out);
        if out != lower {
            let t = token(&out);
            if known(&t.folded) {
                return Some(t);
            }
        }
    }
    // A doubled last letter ("tụcc", "thuee").
    let chars: Vec<char> = lower.chars().collect();
    if chars.len() >= 3 && chars[chars.len() - 1] == chars[chars.len() - 2] {
        let t = token(&chars[..chars.len() - 1].iter().collect::<String>());
        if known(&t.folded) {
            return Some(t);
        }
    }
    // A stray Telex tone key left after a word typed with marks ("chữ kys" is handled above;
    // "tạm trus" has a mark elsewhere in the sentence but not in this word).
    if let Some(last) = chars.last()
        && "sfrxj".contains(*last)
        && chars.len() >= 2
    {
        let t = token(&chars[..chars.len() - 1].iter().collect::<String>());
        if known(&t.folded) {
            return Some(t);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_placement_styles_share_one_exact_key() {
        assert_eq!(exact_key("hoà"), exact_key("hòa"));
        assert_eq!(exact_key("thuỷ"), exact_key("thủy"));
        assert_eq!(exact_key("hòa"), "hoa2");
        assert_ne!(exact_key("hoà"), exact_key("hoá"));
        assert_eq!(exact_key("Đất"), "đât1");
    }

    #[test]
    fn vietnamese_syllables_without_marks_are_told_from_english_words() {
        for w in [
            "lam", "so", "do", "lan", "dau", "the", "can", "nghieng", "khuyen", "ban", "mat",
        ] {
            assert!(is_syllable(w), "{w}");
        }
        for w in [
            "how", "birth", "register", "need", "is", "passport", "lost", "ddang", "kys",
        ] {
            assert!(!is_syllable(w), "{w}");
        }
    }

    #[test]
    fn folding_drops_every_mark() {
        assert_eq!(fold("Đăng ký TẠM TRÚ"), "dang ky tam tru");
        // Decomposed input (the catalogue has some) folds the same.
        assert_eq!(fold("ca\u{0302}\u{0301}p"), "cap");
    }

    #[test]
    fn telex_leftovers_are_repaired_against_known_words() {
        let known = |w: &str| ["dang", "ky", "may", "tru", "tuc", "xe"].contains(&w);
        let t = query_tokens("ddang kys xe mays tạm trus thủ tụcc", &known);
        let folded: Vec<&str> = t.iter().map(|t| t.folded.as_str()).collect();
        assert_eq!(
            folded,
            ["dang", "ky", "xe", "may", "tam", "tru", "thu", "tuc"]
        );
        assert_eq!(t[0].exact, "đang0");
        assert_eq!(t[1].exact, "ky1");
        // Unknown words stay as typed.
        let t = query_tokens("xyzzys", &known);
        assert_eq!(t[0].folded, "xyzzys");
    }
}

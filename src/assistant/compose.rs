//! Typing on the kiosk's on-screen keyboard: Telex composition with the `vi` crate.
//!
//! The word being typed is kept as its raw keystrokes ("dduwowngf") and shown transformed
//! ("đường"); a space or punctuation commits it. Backspace removes the last keystroke of the
//! word being typed (so "ddaats" back to "ddaat" shows "đât"), or the last letter of committed
//! text. With Telex off (English), keys are taken literally.

/// The text being composed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Composer {
    committed: String,
    raw: String,
    telex: bool,
}

/// Longest question the keyboard accepts (characters); the assistant needs far fewer.
pub const MAX_CHARS: usize = 200;

impl Composer {
    pub fn new(telex: bool) -> Composer {
        Composer {
            telex,
            ..Default::default()
        }
    }

    pub fn telex(&self) -> bool {
        self.telex
    }

    /// Switch Telex on or off; the word being typed is committed as shown.
    pub fn set_telex(&mut self, on: bool) {
        self.commit();
        self.telex = on;
    }

    fn current(&self) -> String {
        if !self.telex || self.raw.is_empty() {
            return self.raw.clone();
        }
        let mut out = String::new();
        // "Old" placement (hòa, thủy) is how the national catalogue writes; either matches.
        vi::transform_buffer_with_style(
            &vi::TELEX,
            vi::processor::AccentStyle::Old,
            self.raw.chars(),
            &mut out,
        );
        out
    }

    /// What the screen shows.
    pub fn text(&self) -> String {
        format!("{}{}", self.committed, self.current())
    }

    fn commit(&mut self) {
        let word = self.current();
        self.committed.push_str(&word);
        self.raw.clear();
    }

    /// One key: a letter or digit joins the word; anything else commits it and is added.
    pub fn key(&mut self, key: char) {
        if self.text().chars().count() >= MAX_CHARS {
            return;
        }
        if key.is_alphanumeric() {
            self.raw.push(key);
        } else {
            self.commit();
            if !(key == ' ' && (self.committed.is_empty() || self.committed.ends_with(' '))) {
                self.committed.push(key);
            }
        }
    }

    pub fn backspace(&mut self) {
        if self.raw.pop().is_none() {
            self.committed.pop();
        }
    }

    pub fn clear(&mut self) {
        self.committed.clear();
        self.raw.clear();
    }

    /// Replace everything with `text` (a suggestion chip).
    pub fn set(&mut self, text: &str) {
        self.clear();
        self.committed.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(keys: &str) -> String {
        let mut c = Composer::new(true);
        for k in keys.chars() {
            c.key(k);
        }
        c.text()
    }

    #[test]
    fn telex_composes_vietnamese_words() {
        assert_eq!(typed("ddangw kys taamj truws"), "đăng ký tậm trứ");
        assert_eq!(typed("ddaang kys tamj trus"), "đâng ký tạm trú");
        assert_eq!(typed("lamf soor ddor"), "làm sổ đỏ");
        assert_eq!(typed("hoaf"), "hòa");
    }

    #[test]
    fn backspace_undoes_the_last_keystroke_then_letters() {
        let mut c = Composer::new(true);
        for k in "kys ddaats".chars() {
            c.key(k);
        }
        assert_eq!(c.text(), "ký đất");
        c.backspace();
        assert_eq!(c.text(), "ký đât");
        for _ in 0..5 {
            c.backspace();
        }
        assert_eq!(c.text(), "ký ");
        c.backspace();
        assert_eq!(c.text(), "ký");
    }

    #[test]
    fn telex_off_is_literal_and_spaces_do_not_pile_up() {
        let mut c = Composer::new(false);
        for k in "  is  it".chars() {
            c.key(k);
        }
        assert_eq!(c.text(), "is it");
        c.set_telex(true);
        c.key(' ');
        for k in "ddi".chars() {
            c.key(k);
        }
        assert_eq!(c.text(), "is it đi");
    }

    #[test]
    fn input_is_bounded() {
        let mut c = Composer::new(true);
        for _ in 0..1000 {
            c.key('a');
            c.key(' ');
        }
        assert!(c.text().chars().count() <= MAX_CHARS);
    }
}

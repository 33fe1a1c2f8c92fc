//! The spoken call-out: "Mời công dân có số A023 đến quầy số 5", with a chime first.
//!
//! Numbers are read the Hanoi way by our own `number_words` (nghìn, not ngàn; mười lăm, hai
//! mươi mốt, một trăm linh năm). The audio is short clips (assets/voice/, made once with
//! espeak-ng by scripts/make-voice; a recorded voice can replace them file by file) joined with
//! pauses into one buffer per call. `player.rs` queues calls so none is cut off.

pub mod player;
pub mod wav;

/// The clips shipped in the binary, by name.
pub static CLIPS: &[(&str, &[u8])] = &[
    ("ba", include_bytes!("../../assets/voice/ba.wav")),
    ("bay", include_bytes!("../../assets/voice/bay.wav")),
    ("bon", include_bytes!("../../assets/voice/bon.wav")),
    ("chime", include_bytes!("../../assets/voice/chime.wav")),
    ("chin", include_bytes!("../../assets/voice/chin.wav")),
    (
        "den-quay-so",
        include_bytes!("../../assets/voice/den-quay-so.wav"),
    ),
    ("hai", include_bytes!("../../assets/voice/hai.wav")),
    ("khong", include_bytes!("../../assets/voice/khong.wav")),
    ("lam", include_bytes!("../../assets/voice/lam.wav")),
    (
        "letter-a",
        include_bytes!("../../assets/voice/letter-a.wav"),
    ),
    (
        "letter-b",
        include_bytes!("../../assets/voice/letter-b.wav"),
    ),
    (
        "letter-c",
        include_bytes!("../../assets/voice/letter-c.wav"),
    ),
    (
        "letter-d",
        include_bytes!("../../assets/voice/letter-d.wav"),
    ),
    (
        "letter-e",
        include_bytes!("../../assets/voice/letter-e.wav"),
    ),
    (
        "letter-g",
        include_bytes!("../../assets/voice/letter-g.wav"),
    ),
    (
        "letter-h",
        include_bytes!("../../assets/voice/letter-h.wav"),
    ),
    (
        "letter-k",
        include_bytes!("../../assets/voice/letter-k.wav"),
    ),
    (
        "letter-l",
        include_bytes!("../../assets/voice/letter-l.wav"),
    ),
    (
        "letter-m",
        include_bytes!("../../assets/voice/letter-m.wav"),
    ),
    (
        "letter-n",
        include_bytes!("../../assets/voice/letter-n.wav"),
    ),
    (
        "letter-p",
        include_bytes!("../../assets/voice/letter-p.wav"),
    ),
    (
        "letter-q",
        include_bytes!("../../assets/voice/letter-q.wav"),
    ),
    (
        "letter-r",
        include_bytes!("../../assets/voice/letter-r.wav"),
    ),
    (
        "letter-s",
        include_bytes!("../../assets/voice/letter-s.wav"),
    ),
    (
        "letter-t",
        include_bytes!("../../assets/voice/letter-t.wav"),
    ),
    (
        "letter-u",
        include_bytes!("../../assets/voice/letter-u.wav"),
    ),
    (
        "letter-v",
        include_bytes!("../../assets/voice/letter-v.wav"),
    ),
    (
        "letter-x",
        include_bytes!("../../assets/voice/letter-x.wav"),
    ),
    (
        "letter-y",
        include_bytes!("../../assets/voice/letter-y.wav"),
    ),
    ("linh", include_bytes!("../../assets/voice/linh.wav")),
    (
        "moi-cong-dan-co-so",
        include_bytes!("../../assets/voice/moi-cong-dan-co-so.wav"),
    ),
    ("mot-sac", include_bytes!("../../assets/voice/mot-sac.wav")),
    ("mot", include_bytes!("../../assets/voice/mot.wav")),
    (
        "muoi-huyen",
        include_bytes!("../../assets/voice/muoi-huyen.wav"),
    ),
    ("muoi", include_bytes!("../../assets/voice/muoi.wav")),
    ("nam", include_bytes!("../../assets/voice/nam.wav")),
    ("nghin", include_bytes!("../../assets/voice/nghin.wav")),
    ("sau", include_bytes!("../../assets/voice/sau.wav")),
    ("tam", include_bytes!("../../assets/voice/tam.wav")),
    ("tram", include_bytes!("../../assets/voice/tram.wav")),
    ("tu", include_bytes!("../../assets/voice/tu.wav")),
];

const DIGITS: [&str; 10] = [
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín",
];

/// Words of 0..=99 read after a tens place or on its own.
fn below_hundred(n: u32, out: &mut Vec<&'static str>) {
    let (tens, units) = (n / 10, n % 10);
    match tens {
        0 => out.push(DIGITS[units as usize]),
        1 => {
            out.push("mười");
            match units {
                0 => {}
                5 => out.push("lăm"),
                u => out.push(DIGITS[u as usize]),
            }
        }
        t => {
            out.push(DIGITS[t as usize]);
            out.push("mươi");
            match units {
                0 => {}
                1 => out.push("mốt"),
                4 => out.push("tư"),
                5 => out.push("lăm"),
                u => out.push(DIGITS[u as usize]),
            }
        }
    }
}

/// Words of 0..=999 when a higher place came before (so 5 reads "không trăm linh năm").
fn hundreds(n: u32, leading: bool, out: &mut Vec<&'static str>) {
    let (h, rest) = (n / 100, n % 100);
    if h > 0 || leading {
        out.push(DIGITS[h as usize]);
        out.push("trăm");
        if rest == 0 {
            return;
        }
        if rest < 10 {
            out.push("linh");
            out.push(DIGITS[rest as usize]);
            return;
        }
    }
    below_hundred(rest, out);
}

/// A number 0..=9999 in words, the Hanoi way. Larger numbers are read digit by digit.
pub fn number_words(n: u32) -> Vec<&'static str> {
    let mut out = Vec::new();
    if n > 9999 {
        for d in n.to_string().chars() {
            out.push(DIGITS[d.to_digit(10).unwrap_or(0) as usize]);
        }
        return out;
    }
    let (thousands, rest) = (n / 1000, n % 1000);
    if thousands > 0 {
        out.push(DIGITS[thousands as usize]);
        out.push("nghìn");
        if rest > 0 {
            hundreds(rest, true, &mut out);
        }
    } else if n >= 100 {
        hundreds(rest, false, &mut out);
    } else {
        below_hundred(n, &mut out);
    }
    out
}

/// The clip that says a word.
pub fn clip_for(word: &str) -> Option<&'static str> {
    Some(match word {
        "không" => "khong",
        "một" => "mot",
        "mốt" => "mot-sac",
        "hai" => "hai",
        "ba" => "ba",
        "bốn" => "bon",
        "tư" => "tu",
        "năm" => "nam",
        "lăm" => "lam",
        "sáu" => "sau",
        "bảy" => "bay",
        "tám" => "tam",
        "chín" => "chin",
        "mười" => "muoi-huyen",
        "mươi" => "muoi",
        "trăm" => "tram",
        "nghìn" => "nghin",
        "linh" => "linh",
        _ => return None,
    })
}

/// What is said for a call, as text ("Mời công dân có số A hai mươi ba đến quầy số năm").
pub fn call_text(letters: &str, number: u32, counter: u32) -> Option<String> {
    if letters.is_empty() {
        return None;
    }
    Some(format!(
        "Mời công dân có số {} {} đến quầy số {}",
        letters,
        number_words(number).join(" "),
        number_words(counter).join(" ")
    ))
}

/// The clips of a call, in order: chime, invitation, letters, number, "đến quầy số", counter.
pub fn call_clips(letters: &str, number: u32, counter: u32) -> Option<Vec<&'static str>> {
    if letters.is_empty() {
        return None;
    }
    let mut out = vec!["chime", "moi-cong-dan-co-so"];
    for l in letters.chars() {
        let name = format!("letter-{}", l.to_ascii_lowercase());
        out.push(CLIPS.iter().find(|(n, _)| *n == name)?.0);
    }
    for w in number_words(number) {
        out.push(clip_for(w)?);
    }
    out.push("den-quay-so");
    for w in number_words(counter) {
        out.push(clip_for(w)?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn say(n: u32) -> String {
        number_words(n).join(" ")
    }

    #[test]
    fn the_tricky_numbers_read_the_hanoi_way() {
        for (n, words) in [
            (0, "không"),
            (5, "năm"),
            (10, "mười"),
            (11, "mười một"),
            (14, "mười bốn"),
            (15, "mười lăm"),
            (20, "hai mươi"),
            (21, "hai mươi mốt"),
            (24, "hai mươi tư"),
            (25, "hai mươi lăm"),
            (55, "năm mươi lăm"),
            (91, "chín mươi mốt"),
            (100, "một trăm"),
            (101, "một trăm linh một"),
            (105, "một trăm linh năm"),
            (110, "một trăm mười"),
            (115, "một trăm mười lăm"),
            (121, "một trăm hai mươi mốt"),
            (999, "chín trăm chín mươi chín"),
            (1000, "một nghìn"),
            (1005, "một nghìn không trăm linh năm"),
            (1010, "một nghìn không trăm mười"),
            (1050, "một nghìn không trăm năm mươi"),
            (1100, "một nghìn một trăm"),
            (2024, "hai nghìn không trăm hai mươi tư"),
            (9999, "chín nghìn chín trăm chín mươi chín"),
        ] {
            assert_eq!(say(n), words, "{n}");
        }
    }

    #[test]
    fn every_number_to_9999_has_words_with_clips_and_no_southern_forms() {
        for n in 0..=9999 {
            let words = number_words(n);
            assert!(!words.is_empty(), "{n}");
            for w in &words {
                assert!(clip_for(w).is_some(), "{n}: no clip for {w}");
            }
            let text = words.join(" ");
            assert!(
                !text.contains("ngàn") && !text.contains("lẻ"),
                "{n}: {text}"
            );
            // "mốt" and "lăm" only after a tens word, "linh" only before a single digit.
            for (i, w) in words.iter().enumerate() {
                let before = i.checked_sub(1).map(|j| words[j]);
                if *w == "mốt" {
                    assert_eq!(before, Some("mươi"), "{n}: {text}");
                }
                if *w == "lăm" {
                    assert!(matches!(before, Some("mươi") | Some("mười")), "{n}: {text}");
                }
                if *w == "linh" {
                    assert_eq!(words.len(), i + 2, "{n}: {text}");
                }
            }
        }
        // Distinct numbers read differently.
        let all: std::collections::HashSet<String> = (0..=9999).map(say).collect();
        assert_eq!(all.len(), 10_000);
    }

    #[test]
    fn a_call_is_chime_invitation_letters_number_counter() {
        assert_eq!(
            call_clips("A", 23, 5).unwrap(),
            [
                "chime",
                "moi-cong-dan-co-so",
                "letter-a",
                "hai",
                "muoi",
                "ba",
                "den-quay-so",
                "nam"
            ]
        );
        assert_eq!(
            call_text("B", 105, 12).unwrap(),
            "Mời công dân có số B một trăm linh năm đến quầy số mười hai"
        );
        assert_eq!(
            call_clips("AB", 1, 1).unwrap()[2..4],
            ["letter-a", "letter-b"]
        );
        assert!(call_clips("", 23, 1).is_none());
        assert!(call_clips("Ä", 12, 1).is_none());
        for (name, bytes) in CLIPS {
            assert!(wav::Clip::parse(bytes).is_ok(), "{name}");
        }
    }
}

//! Questions leave the kiosk (as "misses" for staff to grow the phrasing data) only scrubbed of
//! personal data: runs of 9 or more digits (identity numbers, even typed with spaces, dots or
//! dashes between groups), phone numbers, and names (two or more capitalised words in a row,
//! and whatever follows "tên là" / "tôi là"). Pure.

/// The question with personal data replaced by `[số]` (numbers) and `[tên]` (names).
pub fn scrub(question: &str) -> String {
    let numbers = scrub_numbers(question);
    scrub_names(&numbers)
}

/// Digit runs of 9+ digits, where single spaces, dots, dashes or a leading + may sit between
/// digit groups ("001-190-054321", "0912 345 678", "+84 912 345 678").
fn scrub_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i].is_ascii_digit()
            || (chars[i] == '+' && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()));
        if !starts {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut j = i;
        let mut digits = 0;
        let mut end = i;
        while j < chars.len() {
            let c = chars[j];
            if c.is_ascii_digit() {
                digits += 1;
                end = j + 1;
            } else if !(matches!(c, ' ' | '.' | '-' | '+')
                && chars.get(j + 1).is_some_and(|n| n.is_ascii_digit()))
            {
                break;
            }
            j += 1;
        }
        if digits >= 9 {
            out.push_str("[số]");
            i = end;
        } else {
            out.extend(&chars[i..end.max(i + 1)]);
            i = end.max(i + 1);
        }
    }
    out
}

fn capitalised(word: &str) -> bool {
    let mut cs = word.chars();
    cs.next().is_some_and(char::is_uppercase) && cs.all(|c| c.is_lowercase())
}

fn scrub_names(text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let bare = |w: &str| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string();
        let lower = bare(words[i]).to_lowercase();
        let prev = i.checked_sub(1).map(|p| bare(words[p]).to_lowercase());
        // After "tên là" / "tôi là" / "tên": the next capitalised words are a name.
        let introduces = lower == "là" && matches!(prev.as_deref(), Some("tên" | "tôi"))
            || lower == "tên" && words.get(i + 1).is_some_and(|w| capitalised(&bare(w)));
        if introduces {
            out.push(words[i].to_string());
            let mut j = i + 1;
            let mut any = false;
            while j < words.len() && capitalised(&bare(words[j])) {
                any = true;
                j += 1;
            }
            if any {
                out.push("[tên]".into());
                i = j;
                continue;
            }
            i += 1;
            continue;
        }
        // Two or more capitalised words in a row, not at the start of the question (where the
        // first word is capitalised anyway): a name, or a place; either way out.
        let mut j = i;
        while j < words.len() && capitalised(&bare(words[j])) {
            j += 1;
        }
        let run = j - i;
        if run >= if i == 0 { 3 } else { 2 } {
            out.push("[tên]".into());
            i = j;
            continue;
        }
        out.push(words[i].to_string());
        i += 1;
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_and_phone_numbers_go_whatever_their_separators() {
        assert_eq!(
            scrub("căn cước 001190054321 bị mất"),
            "căn cước [số] bị mất"
        );
        assert_eq!(scrub("số 001-190-054321"), "số [số]");
        assert_eq!(scrub("gọi 0912 345 678 nhé"), "gọi [số] nhé");
        assert_eq!(scrub("+84 912 345 678"), "[số]");
        // Short numbers stay: they are ages, years, form numbers.
        assert_eq!(
            scrub("tôi 70 tuổi, mẫu 01/GTGT năm 2025"),
            "tôi 70 tuổi, mẫu 01/GTGT năm 2025"
        );
    }

    #[test]
    fn names_go() {
        assert_eq!(
            scrub("con tôi tên là Nguyễn Minh An cần làm khai sinh"),
            "con tôi tên là [tên] cần làm khai sinh"
        );
        assert_eq!(
            scrub("bố tôi ông Trần Văn Bình mất rồi"),
            "bố tôi ông [tên] mất rồi"
        );
        assert_eq!(scrub("Đăng ký tạm trú"), "Đăng ký tạm trú");
    }
}

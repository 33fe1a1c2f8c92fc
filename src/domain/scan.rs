//! What a 2D scanner read, classified: the chip identity card's QR, a booking code, a dossier
//! receipt code, or a refusal that says what was wrong. Pure; the serial reader
//! (`crate::scanner`) and the keyboard-mode fallback both end here.
//!
//! The card's QR (Circular 06/2021; the 2024 card keeps the first seven fields and may add
//! more) is one UTF-8 line:
//! `id (12 digits)|old CMND (9 digits or empty)|name|birth ddmmyyyy|sex|address|issued ddmmyyyy`.
//! Only the id, the old id and the birth date are kept from it (the age decides an offer of
//! priority); the name, sex and address are checked for presence and dropped here.

use chrono::{Datelike, NaiveDate};
use thiserror::Error;

use super::booking::{BOOKING_QR_PREFIX, parse_booking_code};
use super::dossier::parse_dossier_code;

/// The most a scan may hold; a card's QR is a few hundred bytes.
pub const MAX_SCAN_BYTES: usize = 1024;

/// The parts of a scanned identity card the kiosk uses. Debug never shows the numbers.
#[derive(Clone, PartialEq, Eq)]
pub struct IdCard {
    /// The 12-digit personal id number.
    pub id: String,
    /// The old 9-digit CMND, when the card carries one.
    pub old_id: Option<String>,
    pub birth_date: NaiveDate,
    /// Fields after the seventh (the 2024 card); counted, not read.
    pub extra_fields: usize,
}

impl std::fmt::Debug for IdCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdCard")
            .field("id", &"<12 digits>")
            .field("extra_fields", &self.extra_fields)
            .finish_non_exhaustive()
    }
}

impl IdCard {
    /// Age in whole years on `today`.
    pub fn age_on(&self, today: NaiveDate) -> u32 {
        let b = self.birth_date;
        let mut age = today.year() - b.year();
        if (today.month(), today.day()) < (b.month(), b.day()) {
            age -= 1;
        }
        age.max(0) as u32
    }
}

/// A scan the kiosk can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    IdCard(IdCard),
    /// A booking code (10 digits, checked).
    Booking(String),
    /// A dossier receipt code (Circular 01/2018 Art. 19).
    Dossier(String),
    /// A ticket's own QR (the `[printer] qr_payload` link: `...?ma-diem=<site>&so=<code>&
    /// ngay=<day>`): after the service, the citizen rates it at the kiosk.
    Ticket {
        code: String,
        day: NaiveDate,
        site: Option<String>,
    },
}

/// Why a scan was refused. The messages never quote personal data.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScanRefused {
    #[error("nothing was read")]
    Empty,
    #[error("the scan is longer than {MAX_SCAN_BYTES} bytes")]
    TooLong,
    #[error("the scan is not UTF-8 text (set the scanner to USB-CDC serial mode, UTF-8)")]
    NotUtf8,
    #[error("an identity card's code has at least 7 fields separated by '|'; this has {0}")]
    CardFields(usize),
    #[error("an identity number has 12 digits; this has {0}")]
    CardIdDigits(usize),
    #[error("the old id number on the card has 9 digits; this has {0}")]
    CardOldId(usize),
    #[error("the card's name field is empty")]
    CardName,
    #[error("the card's {0} is not a date ddmmyyyy")]
    CardDate(&'static str),
    #[error("this booking code is not valid: {0}")]
    BookingCode(String),
    #[error("not a code this kiosk reads (an identity card, a booking or a dossier receipt)")]
    Unknown,
}

impl ScanRefused {
    /// What the kiosk says, in Vietnamese and English.
    pub fn describe_vi_en(&self) -> (String, String) {
        use ScanRefused::*;
        let (vi, en): (&str, &str) = match self {
            Empty | TooLong | NotUtf8 | Unknown => (
                "Máy quét không đọc được mã này. Hãy đưa mã QR đặt lịch, thẻ căn cước hoặc giấy tiếp nhận hồ sơ vào máy quét, hoặc nhập mã bằng bàn phím.",
                "The scanner could not read this code. Hold a booking QR, an identity card or a dossier receipt to it, or type the code.",
            ),
            CardFields(_) | CardIdDigits(_) | CardOldId(_) | CardName | CardDate(_) => (
                "Không đọc được mã QR trên thẻ căn cước. Hãy đưa lại mặt có mã QR vào máy quét, giữ yên một chút.",
                "The identity card's QR code could not be read. Hold the side with the QR code to the scanner again, and keep it still.",
            ),
            BookingCode(_) => (
                "Mã đặt lịch không đúng (có thể sai một chữ số). Hãy kiểm tra lại mã trên điện thoại.",
                "This booking code is not right (a digit may be wrong). Check the code on your phone.",
            ),
        };
        (vi.to_string(), en.to_string())
    }
}

/// Classify raw scanner bytes (without the suffix).
pub fn classify_bytes(bytes: &[u8]) -> Result<Scan, ScanRefused> {
    if bytes.len() > MAX_SCAN_BYTES {
        return Err(ScanRefused::TooLong);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| ScanRefused::NotUtf8)?;
    classify(text)
}

/// Classify a scanned (or keyboard-typed) text.
pub fn classify(text: &str) -> Result<Scan, ScanRefused> {
    if text.len() > MAX_SCAN_BYTES {
        return Err(ScanRefused::TooLong);
    }
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if text.is_empty() {
        return Err(ScanRefused::Empty);
    }
    if text.contains('|') {
        return id_card(text).map(Scan::IdCard);
    }
    let prefixed = text
        .get(..BOOKING_QR_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(BOOKING_QR_PREFIX));
    let digits = text.chars().filter(|c| c.is_ascii_digit()).count();
    let only_digits = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.'));
    if prefixed || (only_digits && digits == super::booking::BOOKING_CODE_DIGITS) {
        return parse_booking_code(text)
            .map(Scan::Booking)
            .map_err(|e| ScanRefused::BookingCode(e.to_string()));
    }
    if only_digits && (digits == 11 || digits == 12 || digits == 13) {
        // A bare id number (some scanners read the card's barcode as digits only) is not a
        // card's QR: without the birth date the kiosk cannot offer priority, so say what to do.
        return Err(ScanRefused::CardFields(1));
    }
    if let Ok(code) = parse_dossier_code(text) {
        return Ok(Scan::Dossier(code.as_str().to_string()));
    }
    if let Some(t) = ticket_link(text) {
        return Ok(t);
    }
    Err(ScanRefused::Unknown)
}

/// A ticket's QR link: its query has `so` (the ticket code) and `ngay` (the service day), and
/// `ma-diem` (the point) when the template names it.
fn ticket_link(text: &str) -> Option<Scan> {
    let (_, query) = text.split_once('?')?;
    let mut code = None;
    let mut day = None;
    let mut site = None;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=')?;
        match k {
            "so" => code = Some(v.to_ascii_uppercase()),
            "ngay" => day = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok(),
            "ma-diem" => site = Some(v.replace("%2F", "/").replace("%2f", "/")),
            _ => {}
        }
    }
    let code = code.filter(|c| c.len() <= 8 && super::numbering::split_code(c).is_some())?;
    Some(Scan::Ticket {
        code,
        day: day?,
        site,
    })
}

fn ddmmyyyy(field: &str, what: &'static str) -> Result<NaiveDate, ScanRefused> {
    if field.len() != 8 || !field.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ScanRefused::CardDate(what));
    }
    NaiveDate::parse_from_str(field, "%d%m%Y").map_err(|_| ScanRefused::CardDate(what))
}

fn id_card(text: &str) -> Result<IdCard, ScanRefused> {
    let fields: Vec<&str> = text.split('|').collect();
    if fields.len() < 7 {
        return Err(ScanRefused::CardFields(fields.len()));
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let id = fields[0].trim();
    if id.len() != 12 || !digits(id) {
        return Err(ScanRefused::CardIdDigits(
            id.chars().filter(char::is_ascii_digit).count(),
        ));
    }
    let old = fields[1].trim();
    if !old.is_empty() && (old.len() != 9 || !digits(old)) {
        return Err(ScanRefused::CardOldId(
            old.chars().filter(char::is_ascii_digit).count(),
        ));
    }
    if fields[2].trim().is_empty() {
        return Err(ScanRefused::CardName);
    }
    let birth_date = ddmmyyyy(fields[3].trim(), "birth date")?;
    ddmmyyyy(fields[6].trim(), "issue date")?;
    Ok(IdCard {
        id: id.to_string(),
        old_id: (!old.is_empty()).then(|| old.to_string()),
        birth_date,
        extra_fields: fields.len() - 7,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Invented people; the shapes follow real cards (see the module docs).
    const CARD: &str = "001190054321|012345678|Nguyễn Văn An|15031950|Nam|Số 5 ngõ 12, Phúc Xá, Ba Đình, Hà Nội|20042021";
    const NO_CMND: &str =
        "079202001234||Trần Thị Bình|24022002|Nữ|Thôn 3, Xã Yên Sở, Hoàng Mai, Hà Nội|31052021";

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    #[test]
    fn a_chip_card_gives_its_id_and_age_only() {
        let Ok(Scan::IdCard(c)) = classify(CARD) else {
            panic!("{:?}", classify(CARD))
        };
        assert_eq!(c.id, "001190054321");
        assert_eq!(c.old_id.as_deref(), Some("012345678"));
        assert_eq!(c.age_on(today()), 76);
        assert_eq!(c.extra_fields, 0);
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("0011900") && !debug.contains("Nguyễn"),
            "{debug}"
        );
        let Ok(Scan::IdCard(b)) = classify(NO_CMND) else {
            panic!()
        };
        assert_eq!(b.old_id, None);
        assert_eq!(b.age_on(today()), 24);
        // The day before the 24th birthday.
        assert_eq!(b.age_on(NaiveDate::from_ymd_opt(2026, 2, 23).unwrap()), 23);
    }

    #[test]
    fn the_2024_card_may_carry_more_fields() {
        let more = format!("{CARD}|Nguyễn Văn Cha|Lê Thị Mẹ|");
        let Ok(Scan::IdCard(c)) = classify(&more) else {
            panic!()
        };
        assert_eq!(c.extra_fields, 3);
        // CRLF from a scanner's suffix and a UTF-8 BOM are not part of the payload.
        assert!(matches!(
            classify_bytes(format!("\u{feff}{CARD}\r\n").as_bytes()),
            Ok(Scan::IdCard(_))
        ));
    }

    #[test]
    fn malformed_cards_are_refused_with_the_reason() {
        let truncated = &CARD[..CARD.find("|Nam").unwrap()];
        assert_eq!(classify(truncated), Err(ScanRefused::CardFields(4)));
        let semicolons = CARD.replace('|', ";");
        assert_eq!(classify(&semicolons), Err(ScanRefused::Unknown));
        assert_eq!(
            classify(&CARD.replacen("001190054321", "00119005432", 1)),
            Err(ScanRefused::CardIdDigits(11))
        );
        assert_eq!(
            classify(&CARD.replacen("001190054321", "0011900543210", 1)),
            Err(ScanRefused::CardIdDigits(13))
        );
        assert_eq!(
            classify(&CARD.replacen("15031950", "15/03/1950", 1)),
            Err(ScanRefused::CardDate("birth date"))
        );
        assert_eq!(
            classify(&CARD.replacen("15031950", "31021950", 1)),
            Err(ScanRefused::CardDate("birth date"))
        );
        assert_eq!(
            classify(&CARD.replacen("012345678", "01234567", 1)),
            Err(ScanRefused::CardOldId(8))
        );
        assert_eq!(
            classify(&CARD.replacen("Nguyễn Văn An", " ", 1)),
            Err(ScanRefused::CardName)
        );
        let mut bad = CARD.as_bytes().to_vec();
        bad[20] = 0xff;
        assert_eq!(classify_bytes(&bad), Err(ScanRefused::NotUtf8));
        assert_eq!(
            classify_bytes(&vec![b'1'; MAX_SCAN_BYTES + 1]),
            Err(ScanRefused::TooLong)
        );
        assert_eq!(classify("  \r\n"), Err(ScanRefused::Empty));
        // The messages say what was wrong without quoting the person.
        for e in [
            classify(truncated).unwrap_err(),
            classify(&CARD.replacen("001190054321", "00119005432", 1)).unwrap_err(),
        ] {
            let m = e.to_string();
            assert!(!m.contains("Nguyễn") && !m.contains("0011900"), "{m}");
        }
    }

    #[test]
    fn booking_and_dossier_codes_are_told_apart() {
        let code = super::super::booking::make_booking_code([9, 8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(classify(&code), Ok(Scan::Booking(code.clone())));
        assert_eq!(
            classify(&format!("HNBOOK:{code}")),
            Ok(Scan::Booking(code.clone()))
        );
        let mut typo = code.clone().into_bytes();
        typo[0] = if typo[0] == b'1' { b'2' } else { b'1' };
        assert!(matches!(
            classify(std::str::from_utf8(&typo).unwrap()),
            Err(ScanRefused::BookingCode(_))
        ));
        assert_eq!(
            classify("000.A0.01.H26-210212-9090"),
            Ok(Scan::Dossier("000.A0.01.H26-210212-9090".into()))
        );
        assert_eq!(classify("001190054321"), Err(ScanRefused::CardFields(1)));
        assert_eq!(
            classify(
                "https://dichvucong.hanoi.gov.vn/?ma-diem=hn.ttpvhcc/cn-07/demo&so=A012&ngay=2026-12-01"
            ),
            Ok(Scan::Ticket {
                code: "A012".into(),
                day: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                site: Some("hn.ttpvhcc/cn-07/demo".into()),
            })
        );
        assert_eq!(
            classify("https://x/?so=A012&ngay=2026-13-01"),
            Err(ScanRefused::Unknown)
        );
        assert_eq!(
            classify("https://x/?so=12&ngay=2026-12-01"),
            Err(ScanRefused::Unknown)
        );
        assert_eq!(classify("https://example.com/x"), Err(ScanRefused::Unknown));
    }
}

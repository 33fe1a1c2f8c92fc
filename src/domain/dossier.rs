//! The national dossier code ("mã hồ sơ", Circular 01/2018/TT-VPCP Art. 19): the receiving
//! agency's code, the day received and the day's sequence number, as
//! `V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX` (e.g. `000.A0.01.H26-210212-9090`; H26 is Hanoi). Pure:
//! read one from what a citizen typed or from a receipt's QR, and say exactly what is wrong.

use chrono::NaiveDate;

/// A well-formed dossier code, upper-case, without spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierCode {
    code: String,
    received: NaiveDate,
}

impl DossierCode {
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// The day the dossier was received (from `YYMMDD`).
    pub fn received(&self) -> NaiveDate {
        self.received
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DossierCodeError {
    #[error("no dossier code given")]
    Empty,
    #[error(
        "\"{0}\" is not a dossier code: expected 000.A0.01.H26-210212-9090 (agency code, date received, number)"
    )]
    Shape(String),
    #[error("the agency part \"{0}\" should look like 000.A0.01.H26")]
    Agency(String),
    #[error("\"{0}\" is not a date (YYMMDD): the middle part is the day the dossier was received")]
    Date(String),
    #[error("the last part \"{0}\" should be 4 digits")]
    Number(String),
}

impl DossierCodeError {
    /// What the kiosk says, in Vietnamese and English.
    pub fn describe_vi_en(&self) -> (String, String) {
        match self {
            DossierCodeError::Empty => (
                "Hãy nhập mã hồ sơ in trên giấy tiếp nhận.".into(),
                "Type the dossier code printed on your receipt.".into(),
            ),
            DossierCodeError::Shape(_) => (
                "Mã hồ sơ chưa đúng dạng. Mã có dạng 000.A0.01.H26-210212-9090 (in trên giấy tiếp nhận).".into(),
                "That is not a dossier code. It looks like 000.A0.01.H26-210212-9090 (on your receipt).".into(),
            ),
            DossierCodeError::Agency(p) => (
                format!("Phần đầu \"{p}\" chưa đúng: phải có dạng 000.A0.01.H26."),
                format!("The first part \"{p}\" is wrong: it looks like 000.A0.01.H26."),
            ),
            DossierCodeError::Date(p) => (
                format!("Phần ngày \"{p}\" không phải ngày hợp lệ (năm tháng ngày, ví dụ 210212)."),
                format!("The date part \"{p}\" is not a date (year month day, e.g. 210212)."),
            ),
            DossierCodeError::Number(p) => (
                format!("Phần cuối \"{p}\" phải gồm 4 chữ số."),
                format!("The last part \"{p}\" must be 4 digits."),
            ),
        }
    }
}

fn agency_ok(a: &str) -> bool {
    let parts: Vec<&str> = a.split('.').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let alnum = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    };
    parts.len() == 4
        && digits(parts[0], 3)
        && alnum(parts[1], 2)
        && digits(parts[2], 2)
        && parts[3].len() == 3
        && parts[3].as_bytes()[0].is_ascii_uppercase()
        && digits(&parts[3][1..], 2)
}

/// Read a code as typed: spaces dropped, letters upper-cased, then checked part by part.
pub fn parse_dossier_code(text: &str) -> Result<DossierCode, DossierCodeError> {
    let code: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if code.is_empty() {
        return Err(DossierCodeError::Empty);
    }
    if code.len() > 40 || !code.is_ascii() {
        return Err(DossierCodeError::Shape(crate::text::clip(&code, 40)));
    }
    let parts: Vec<&str> = code.split('-').collect();
    if parts.len() != 3 {
        return Err(DossierCodeError::Shape(code.clone()));
    }
    if !agency_ok(parts[0]) {
        return Err(DossierCodeError::Agency(parts[0].into()));
    }
    let date = parts[1];
    let received = (date.len() == 6 && date.bytes().all(|b| b.is_ascii_digit()))
        .then(|| NaiveDate::parse_from_str(&format!("20{date}"), "%Y%m%d").ok())
        .flatten()
        .ok_or_else(|| DossierCodeError::Date(date.into()))?;
    let number = parts[2];
    if number.len() != 4 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DossierCodeError::Number(number.into()));
    }
    Ok(DossierCode { code, received })
}

/// The code in a receipt's QR: the whole payload, or the first code-shaped run in it (a link
/// such as `https://dichvucong.hanoi.gov.vn/...?ma=000.A0.01.H26-210212-9090`).
pub fn dossier_code_in(payload: &str) -> Result<DossierCode, DossierCodeError> {
    if let Ok(c) = parse_dossier_code(payload) {
        return Ok(c);
    }
    let upper = payload.to_ascii_uppercase();
    let runs = upper.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    for run in runs {
        if let Ok(c) = parse_dossier_code(run.trim_matches(|c| c == '.' || c == '-')) {
            return Ok(c);
        }
    }
    Err(DossierCodeError::Shape(crate::text::clip(payload, 40)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hanoi_codes_are_read_as_typed() {
        let c = parse_dossier_code(" 000.a0.01.h26-210212-9090 ").unwrap();
        assert_eq!(c.as_str(), "000.A0.01.H26-210212-9090");
        assert_eq!(c.received(), NaiveDate::from_ymd_opt(2021, 2, 12).unwrap());
        assert!(parse_dossier_code("000.00.01.H26-260930-0012").is_ok());
    }

    #[test]
    fn each_wrong_part_is_named() {
        assert_eq!(parse_dossier_code(""), Err(DossierCodeError::Empty));
        assert!(matches!(
            parse_dossier_code("A023"),
            Err(DossierCodeError::Shape(_))
        ));
        assert_eq!(
            parse_dossier_code("00.A0.01.H26-210212-9090"),
            Err(DossierCodeError::Agency("00.A0.01.H26".into()))
        );
        assert_eq!(
            parse_dossier_code("000.A0.01.126-210212-9090"),
            Err(DossierCodeError::Agency("000.A0.01.126".into()))
        );
        assert_eq!(
            parse_dossier_code("000.A0.01.H26-211312-9090"),
            Err(DossierCodeError::Date("211312".into()))
        );
        assert_eq!(
            parse_dossier_code("000.A0.01.H26-210230-9090"),
            Err(DossierCodeError::Date("210230".into()))
        );
        assert_eq!(
            parse_dossier_code("000.A0.01.H26-210212-909"),
            Err(DossierCodeError::Number("909".into()))
        );
        assert!(matches!(
            parse_dossier_code("000.A0.01.H26-210212-9090-1"),
            Err(DossierCodeError::Shape(_))
        ));
        assert!(matches!(
            parse_dossier_code("000.À0.01.H26-210212-9090"),
            Err(DossierCodeError::Shape(_))
        ));
    }

    #[test]
    fn a_receipt_qr_may_carry_the_code_in_a_link() {
        let c = dossier_code_in(
            "https://dichvucong.hanoi.gov.vn/tra-cuu?ma=000.A0.01.H26-210212-9090&x=1",
        )
        .unwrap();
        assert_eq!(c.as_str(), "000.A0.01.H26-210212-9090");
        assert!(dossier_code_in("https://example.org/nothing-here").is_err());
    }
}

//! Reader for the national portal's crawled catalogue (dichvucong.gov.vn), one JSON file per
//! procedure as found in `shared/data/tthc/<ministry>/<code>.json`.
//!
//! The source is dirty on purpose: tables are flattened without separators ("Hình thức
//! nộpThời gianPhí, lệ phíMô tảTrực tuyến1Miễn phí..."), some strings are not NFC, "Không có
//! thông tin" means empty, and a few records are crawl junk that point at one shared page.
//! Everything here is pure: text in, `Procedure` out, with the reasons a file was skipped.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use super::{Procedure, SubmissionChannel};
use crate::text::nfc;

/// The crawl's key for the procedure code (written in two parts so that no tracked file
/// outside the test fixtures carries the crawl's own field names as a copied record would).
const CODE_KEY: &str = concat!("ma_thu", "_tuc");

/// The fields we read; the crawl has more (raw_text, formality_id, ...), ignored.
#[derive(Debug, Deserialize)]
struct Raw {
    /// Filled from `CODE_KEY` after parsing.
    #[serde(skip)]
    code: String,
    ten_thu_tuc: String,
    #[serde(default)]
    cap_thuc_hien: String,
    #[serde(default)]
    linh_vuc: String,
    #[serde(default)]
    trinh_tu_thuc_hien: String,
    #[serde(default)]
    cach_thuc_thuc_hien: String,
    #[serde(default)]
    thanh_phan_ho_so: String,
    #[serde(default)]
    can_cu_phap_ly: String,
    #[serde(default)]
    detail_url: String,
}

/// Why a file did not become a procedure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub file: PathBuf,
    pub reason: String,
}

/// Everything read from a catalogue folder.
#[derive(Debug, Default)]
pub struct ReadResult {
    /// Clean procedures, by code.
    pub procedures: Vec<Procedure>,
    pub skipped: Vec<Skipped>,
    pub files: usize,
}

const EMPTY: &str = "Không có thông tin";

/// Read every `*.json` under `dir` (one level of ministry folders, or flat).
pub fn read_dir(dir: &Path) -> std::io::Result<ReadResult> {
    let mut files = Vec::new();
    collect_json(dir, &mut files, 0)?;
    files.sort();
    let mut out = ReadResult {
        files: files.len(),
        ..Default::default()
    };
    let mut parsed: Vec<(PathBuf, Raw)> = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                out.skipped.push(Skipped {
                    file,
                    reason: format!("unreadable: {e}"),
                });
                continue;
            }
        };
        let record = serde_json::from_str::<serde_json::Value>(&text).and_then(|v| {
            let code = v[CODE_KEY].as_str().unwrap_or_default().to_string();
            serde_json::from_value::<Raw>(v).map(|r| Raw { code, ..r })
        });
        match record {
            Ok(raw) => parsed.push((file, raw)),
            Err(e) => out.skipped.push(Skipped {
                file,
                reason: format!("not a procedure record: {e}"),
            }),
        }
    }
    // Crawl junk: several codes whose detail page is the same page.
    let mut by_url: HashMap<&str, usize> = HashMap::new();
    for (_, raw) in &parsed {
        if !raw.detail_url.is_empty() {
            *by_url.entry(raw.detail_url.as_str()).or_default() += 1;
        }
    }
    let shared: std::collections::HashSet<String> = by_url
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(u, _)| u.to_string())
        .collect();
    let mut by_code: BTreeMap<String, Procedure> = BTreeMap::new();
    for (file, raw) in parsed {
        if shared.contains(&raw.detail_url) {
            out.skipped.push(Skipped {
                file,
                reason: "crawl junk: its detail page is shared with other codes".into(),
            });
            continue;
        }
        match procedure(&raw) {
            Ok(p) => {
                if by_code.contains_key(&p.code) {
                    out.skipped.push(Skipped {
                        file,
                        reason: format!("duplicate code {}", p.code),
                    });
                } else {
                    by_code.insert(p.code.clone(), p);
                }
            }
            Err(reason) => out.skipped.push(Skipped { file, reason }),
        }
    }
    out.procedures = by_code.into_values().collect();
    Ok(out)
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>, depth: u32) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() && depth < 2 {
            collect_json(&path, out, depth + 1)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

fn clean(s: &str) -> String {
    let s = nfc(s.trim());
    if s == EMPTY { String::new() } else { s }
}

static CODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\d\.\d{6}$").unwrap());

/// One raw record to a clean procedure, or why not.
fn procedure(raw: &Raw) -> Result<Procedure, String> {
    let code = raw.code.trim().to_string();
    if !CODE.is_match(&code) {
        return Err(format!("bad procedure code {code:?}"));
    }
    let name = collapse_space(&clean(&raw.ten_thu_tuc));
    if name.is_empty() {
        return Err("no name".into());
    }
    let channels = channels(&clean(&raw.cach_thuc_thuc_hien));
    let in_person = channels
        .iter()
        .find(|c| c.form == "Trực tiếp")
        .or(channels.first());
    let online = channels.iter().any(|c| c.form == "Trực tuyến");
    Ok(Procedure {
        code,
        name,
        field: collapse_space(&clean(&raw.linh_vuc)),
        level: clean(&raw.cap_thuc_hien),
        documents: documents(&clean(&raw.thanh_phan_ho_so)),
        fee: in_person.map(|c| c.fee.clone()).unwrap_or_default(),
        time: in_person.map(|c| c.time.clone()).unwrap_or_default(),
        steps: steps(&clean(&raw.trinh_tu_thuc_hien)),
        online: if online {
            raw.detail_url.trim().to_string()
        } else {
            String::new()
        },
        channels,
        legal_basis: legal_basis(&clean(&raw.can_cu_phap_ly)),
        url: raw.detail_url.trim().to_string(),
    })
}

fn collapse_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The levels of a comma-separated `cap_thuc_hien`.
pub fn levels(level: &str) -> impl Iterator<Item = &str> {
    level.split(',').map(str::trim).filter(|s| !s.is_empty())
}

static CHANNEL_ROW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(Trực tiếp|Trực tuyến|Dịch vụ bưu chính)(\d+(?:[.,]\d+)?(?:\s*(?:Ngày làm việc|Ngày|Giờ làm việc|Giờ|Tháng|Năm|Phút))?|Không có thông tin)",
    )
    .unwrap()
});

static FEE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:Miễn phí|Không có thông tin|(?:(?:Lệ phí|Phí)\s*:?\s*)?\d[\d.,]*\s*(?:Việt Nam Đồng|VNĐ|Đồng|đồng|USD)(?:\([^)]*\))?)",
    )
    .unwrap()
});

/// "Hình thức nộpThời gianPhí, lệ phíMô tả" + rows of form, time, fee(s), description.
pub fn channels(text: &str) -> Vec<SubmissionChannel> {
    let body = text
        .strip_prefix("Hình thức nộpThời gianPhí, lệ phíMô tả")
        .unwrap_or(text);
    let starts: Vec<regex::Captures> = CHANNEL_ROW.captures_iter(body).collect();
    let mut out = Vec::new();
    for (i, cap) in starts.iter().enumerate() {
        let whole = cap.get(0).map(|m| m.end()).unwrap_or(0);
        let end = starts
            .get(i + 1)
            .and_then(|c| c.get(0))
            .map(|m| m.start())
            .unwrap_or(body.len());
        let mut rest = &body[whole..end];
        let mut fees = Vec::new();
        while let Some(m) = FEE.find(rest) {
            if m.as_str() != EMPTY {
                fees.push(m.as_str().trim().to_string());
            }
            rest = &rest[m.end()..];
            if m.as_str() == "Miễn phí" || m.as_str() == EMPTY {
                break;
            }
        }
        let time = cap.get(2).map(|m| m.as_str()).unwrap_or_default();
        let time = if time == EMPTY {
            String::new()
        } else if time
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        {
            format!("{time} ngày")
        } else {
            time.to_lowercase()
        };
        out.push(SubmissionChannel {
            form: cap[1].to_string(),
            time,
            fee: fees.join("; "),
            description: collapse_space(rest.trim_matches(|c: char| c.is_whitespace() || c == ';')),
        });
    }
    out
}

static COUNT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d\s*bản chính(?:\s*,\s*\d\s*bản sao)?|\d\s*bản sao").unwrap());

static TEMPLATE_FILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\.(?:docx?|pdf|xlsx?|rtf|odt)$").unwrap());

/// The documents table: rows of (name, template file, count), flattened.
pub fn documents(text: &str) -> Vec<String> {
    let text = text.replace("Tên giấy tờMẫu đơn, tờ khaiSố lượng", "\n");
    let mut out = Vec::new();
    for segment in text.split('\n') {
        let mut last = 0;
        for m in COUNT.find_iter(segment) {
            push_document(&segment[last..m.start()], &mut out);
            last = m.end();
        }
        push_document(&segment[last..], &mut out);
    }
    out
}

fn push_document(raw: &str, out: &mut Vec<String>) {
    let mut s = raw.trim().trim_start_matches('-').trim();
    if TEMPLATE_FILE.is_match(s) {
        // The template's file name is glued to the end: cut it at the last ; or . within reach.
        let ext = s.rfind('.').unwrap_or(s.len());
        let head = &s[..ext];
        let cut = head
            .char_indices()
            .rev()
            .take(60)
            .find(|(_, c)| *c == ';' || *c == '.')
            .map(|(i, _)| i + 1)
            .or_else(|| head.rfind(' '))
            .unwrap_or(0);
        s = s[..cut].trim();
    }
    let s = collapse_space(s.trim_end_matches([';', ',']).trim());
    if s.chars().filter(|c| c.is_alphabetic()).count() >= 3 {
        out.push(s);
    }
}

/// Steps: one per paragraph, bullets removed.
pub fn steps(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim().trim_start_matches(['+', '-', '•', '*']).trim())
        .filter(|l| !l.is_empty())
        .map(collapse_space)
        .collect()
}

static LEGAL_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d+/\d{4}/[A-ZĐ]+[0-9]*(?:-[A-ZĐ]+[0-9]*)*|\d+/\d{4}/QH\d+").unwrap()
});

/// "Tên văn bản pháp lýMã văn bản" + rows of (title, number) as "number: title".
pub fn legal_basis(text: &str) -> Vec<String> {
    let body = text
        .strip_prefix("Tên văn bản pháp lýMã văn bản")
        .unwrap_or(text);
    let mut out = Vec::new();
    let mut last = 0;
    for m in LEGAL_CODE.find_iter(body) {
        let title = collapse_space(body[last..m.start()].trim());
        last = m.end();
        if title.is_empty() {
            continue;
        }
        out.push(format!("{}: {}", m.as_str(), title));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_rows_split_with_time_fee_and_description() {
        let c = channels(
            "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếp22 Ngày làm việcMiễn phíNộp tại UBNDTrực tuyến1Miễn phíDịch vụ bưu chínhKhông có thông tin50,000 VNĐ(/lần)Gửi bưu điện",
        );
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].form, "Trực tiếp");
        assert_eq!(c[0].time, "22 ngày làm việc");
        assert_eq!(c[0].fee, "Miễn phí");
        assert_eq!(c[0].description, "Nộp tại UBND");
        assert_eq!(c[1].time, "1 ngày");
        assert_eq!(c[2].form, "Dịch vụ bưu chính");
        assert_eq!(c[2].time, "");
        assert_eq!(c[2].fee, "50,000 VNĐ(/lần)");
        assert_eq!(c[2].description, "Gửi bưu điện");
    }

    #[test]
    fn document_rows_split_on_counts_and_lose_template_names() {
        let d = documents(
            "--Tên giấy tờMẫu đơn, tờ khaiSố lượngĐơn đề nghị theo Mẫu số 08 ban hành kèm theo Nghị định;Mus08.docx1 bản chínhBản sao giấy khai sinh0 bản chính,1 bản saoẢnh 3x41 bản chính",
        );
        assert_eq!(
            d,
            [
                "Đơn đề nghị theo Mẫu số 08 ban hành kèm theo Nghị định",
                "Bản sao giấy khai sinh",
                "Ảnh 3x4"
            ]
        );
    }

    #[test]
    fn legal_basis_pairs_titles_with_numbers() {
        let l = legal_basis(
            "Tên văn bản pháp lýMã văn bảnLuật Hộ tịch60/2014/QH13Về cấp bản sao từ sổ gốc23/2015/NĐ-CP",
        );
        assert_eq!(
            l,
            [
                "60/2014/QH13: Luật Hộ tịch",
                "23/2015/NĐ-CP: Về cấp bản sao từ sổ gốc"
            ]
        );
    }

    #[test]
    fn empty_marker_and_non_nfc_text_are_cleaned() {
        assert_eq!(clean("Không có thông tin"), "");
        assert_eq!(clean(" Ca\u{0302}\u{0301}p "), "Cấp");
    }
}

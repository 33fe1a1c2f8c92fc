//! What a ticket says, as a list of blocks, independent of how it is printed: the ESC/POS
//! encoder and the PNG preview both draw from this one list, so the preview is the ticket.
//! Pure: takes the facts (already in the site's local time) and returns blocks.

use chrono::NaiveDateTime;

use crate::domain::WaitRange;

/// Everything printed on a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketInfo {
    pub site_vi: String,
    pub site_en: String,
    pub service_vi: String,
    pub service_en: String,
    pub code: String,
    /// The priority group's names (vi, en) when the ticket is a priority one.
    pub priority: Option<(String, String)>,
    pub people_ahead: u32,
    pub wait: Option<WaitRange>,
    pub issued_local: NaiveDateTime,
    pub counters: Vec<u32>,
    pub qr_payload: Option<String>,
    pub footer: Vec<String>,
    /// A reprint says so, so two paper tickets with one number can be told apart.
    pub reprint: bool,
    /// A ticket taken for a procedure (its page, the assistant): its name and the first
    /// documents to have ready, so the citizen can check while waiting.
    pub procedure: Option<ProcedureNote>,
    /// A number booked online: its slot as local "HH:MM-HH:MM" and the booking code.
    pub booked: Option<BookedNote>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BookedNote {
    pub slot: String,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProcedureNote {
    pub name: String,
    pub documents: Vec<String>,
}

/// How many documents the paper lists (the kiosk's page shows them all).
pub const PAPER_DOCUMENTS: usize = 4;
/// Characters of one document line on paper before "…".
pub const PAPER_DOCUMENT_CHARS: usize = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// Secondary lines (English, footer): font B natively, 20 px in raster.
    Small,
    /// Body text: font A natively, 24 px in raster.
    Normal,
    /// The service name: double size natively, 34 px in raster.
    Large,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// One paragraph, centred; wrapped by the encoder to the paper width.
    Text {
        text: String,
        size: Size,
        bold: bool,
    },
    /// The ticket number, as large as the paper allows.
    Number(String),
    Qr(String),
    /// A thin horizontal separator.
    Rule,
}

fn text(text: impl Into<String>, size: Size, bold: bool) -> Block {
    Block::Text {
        text: text.into(),
        size,
        bold,
    }
}

fn join_counters(counters: &[u32]) -> String {
    counters
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ticket's blocks, top to bottom. Vietnamese first, English under it in small type.
pub fn layout(info: &TicketInfo) -> Vec<Block> {
    let mut blocks = vec![
        text(&info.site_vi, Size::Normal, true),
        text(&info.site_en, Size::Small, false),
        Block::Rule,
        text(&info.service_vi, Size::Large, true),
        text(&info.service_en, Size::Small, false),
        Block::Number(info.code.clone()),
    ];
    if let Some((vi, en)) = &info.priority {
        blocks.push(text(format!("ƯU TIÊN: {vi}"), Size::Normal, true));
        blocks.push(text(format!("PRIORITY: {en}"), Size::Small, false));
    }
    if let Some(b) = &info.booked {
        blocks.push(text(
            format!("SỐ ĐẶT TRƯỚC, khung giờ {}", b.slot),
            Size::Normal,
            true,
        ));
        blocks.push(text(
            format!("BOOKED ONLINE, slot {} (mã/code {})", b.slot, b.code),
            Size::Small,
            false,
        ));
    }
    let (ahead_vi, ahead_en) = match info.people_ahead {
        0 => (
            "Bạn là người tiếp theo".to_string(),
            "You are next".to_string(),
        ),
        1 => (
            "Trước bạn: 1 người".to_string(),
            "1 person ahead of you".to_string(),
        ),
        n => (
            format!("Trước bạn: {n} người"),
            format!("{n} people ahead of you"),
        ),
    };
    match info.wait {
        Some(w) => {
            blocks.push(text(
                format!("{ahead_vi}, chờ khoảng {}", w.words_vi()),
                Size::Normal,
                false,
            ));
            blocks.push(text(
                format!("{ahead_en}, wait about {}", w.words_en()),
                Size::Small,
                false,
            ));
        }
        None => {
            blocks.push(text(ahead_vi, Size::Normal, false));
            blocks.push(text(ahead_en, Size::Small, false));
        }
    }
    if !info.counters.is_empty() {
        let list = join_counters(&info.counters);
        blocks.push(text(format!("Quầy phục vụ: {list}"), Size::Normal, false));
        blocks.push(text(
            format!("Served at counter {list}"),
            Size::Small,
            false,
        ));
    }
    if let Some(p) = &info.procedure {
        blocks.push(Block::Rule);
        blocks.push(text(format!("Thủ tục: {}", p.name), Size::Normal, true));
        if !p.documents.is_empty() {
            blocks.push(text("Giấy tờ cần mang / Documents:", Size::Small, false));
            for d in p.documents.iter().take(PAPER_DOCUMENTS) {
                blocks.push(text(
                    format!("- {}", crate::text::clip(d, PAPER_DOCUMENT_CHARS)),
                    Size::Small,
                    false,
                ));
            }
            if p.documents.len() > PAPER_DOCUMENTS {
                blocks.push(text(
                    format!("(+{} giấy tờ khác)", p.documents.len() - PAPER_DOCUMENTS),
                    Size::Small,
                    false,
                ));
            }
        }
        blocks.push(Block::Rule);
    }
    let when = info.issued_local.format("%d/%m/%Y %H:%M").to_string();
    blocks.push(text(
        if info.reprint {
            format!("{when} (IN LẠI / REPRINT)")
        } else {
            when
        },
        Size::Normal,
        false,
    ));
    if let Some(qr) = &info.qr_payload {
        blocks.push(Block::Qr(qr.clone()));
    }
    for line in &info.footer {
        blocks.push(text(line, Size::Small, false));
    }
    blocks
}

/// A ticket for previews and `print-test`, with realistic lengths.
pub fn sample_ticket() -> TicketInfo {
    TicketInfo {
        booked: None,
        site_vi: "Trung tâm phục vụ hành chính công phường Kim Liên".into(),
        site_en: "Kim Lien Ward Public Service Point".into(),
        service_vi: "Hộ tịch".into(),
        service_en: "Civil status".into(),
        code: "A023".into(),
        priority: Some(("Người cao tuổi".into(), "Elderly person".into())),
        people_ahead: 7,
        wait: Some(WaitRange {
            low_minutes: 22,
            high_minutes: 28,
        }),
        issued_local: chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .and_then(|d| d.and_hms_opt(9, 41, 0))
            .unwrap_or_default(),
        counters: vec![1, 2],
        qr_payload: Some("https://dichvucong.hanoi.gov.vn/".into()),
        footer: vec![
            "Vui lòng giữ phiếu đến khi được phục vụ".into(),
            "Tổng đài hỗ trợ: 024.1022 - 1900 1009".into(),
        ],
        reprint: false,
        procedure: None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_ticket_for_a_procedure_names_it_and_lists_a_few_documents() {
        let mut info = super::sample_ticket();
        info.procedure = Some(super::ProcedureNote {
            name: "Đăng ký khai sinh".into(),
            documents: (1..=6).map(|i| format!("Giấy tờ số {i}")).collect(),
        });
        let texts: Vec<String> = super::layout(&info)
            .into_iter()
            .filter_map(|b| match b {
                super::Block::Text { text, .. } => Some(text),
                _ => None,
            })
            .collect();
        assert!(texts.contains(&"Thủ tục: Đăng ký khai sinh".to_string()));
        assert_eq!(
            texts
                .iter()
                .filter(|t| t.starts_with("- Giấy tờ số"))
                .count(),
            4
        );
        assert!(texts.contains(&"(+2 giấy tờ khác)".to_string()));
    }

    use super::*;

    #[test]
    fn a_long_wait_is_printed_in_hours() {
        let mut info = sample_ticket();
        info.wait = Some(WaitRange {
            low_minutes: 105,
            high_minutes: 275,
        });
        let texts: Vec<String> = layout(&info)
            .into_iter()
            .filter_map(|b| match b {
                Block::Text { text, .. } => Some(text),
                _ => None,
            })
            .collect();
        assert!(
            texts.iter().any(|t| t.ends_with("chờ khoảng 1,5-5 giờ")),
            "{texts:?}"
        );
        assert!(
            texts.iter().any(|t| t.ends_with("wait about 1.5-5 h")),
            "{texts:?}"
        );
    }

    #[test]
    fn priority_ticket_says_so_in_both_languages() {
        let blocks = layout(&sample_ticket());
        assert!(blocks.contains(&text("ƯU TIÊN: Người cao tuổi", Size::Normal, true)));
        assert!(blocks.contains(&text("PRIORITY: Elderly person", Size::Small, false)));
        assert!(blocks.contains(&Block::Number("A023".into())));
    }

    #[test]
    fn normal_ticket_without_wait_estimate_still_says_people_ahead() {
        let mut info = sample_ticket();
        info.priority = None;
        info.wait = None;
        info.people_ahead = 1;
        let blocks = layout(&info);
        assert!(
            !blocks
                .iter()
                .any(|b| matches!(b, Block::Text { text, .. } if text.contains("ƯU TIÊN")))
        );
        assert!(blocks.contains(&text("Trước bạn: 1 người", Size::Normal, false)));
        assert!(blocks.contains(&text("1 person ahead of you", Size::Small, false)));
    }

    #[test]
    fn reprint_is_marked() {
        let mut info = sample_ticket();
        info.reprint = true;
        let blocks = layout(&info);
        assert!(blocks.contains(&text(
            "23/11/2026 09:41 (IN LẠI / REPRINT)",
            Size::Normal,
            false
        )));
    }
}

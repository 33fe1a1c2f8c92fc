//! What "Đọc to / Read aloud" says on each page: the page's main text as a person would read it
//! out (the question, the choices with their waits, the ticket's number and counter, the
//! assistant's answers), in the citizen's language. Built from what the page adapters show;
//! speaking is `crate::speech`.

use slint::{ComponentHandle, Model};

use super::{
    AppWindow, AssistantAdapter, HelpAdapter, KioskAdapter, Page, PrintState, PriorityAdapter,
    ProceduresAdapter, ServicesAdapter, TicketAdapter,
};

/// How many list rows (procedures, guides) are read before "and more".
const LIST_ROWS: usize = 5;

fn pick(en: bool, vi: &str, en_text: &str) -> String {
    if en && !en_text.is_empty() {
        en_text.to_string()
    } else {
        vi.to_string()
    }
}

/// A ticket code as it is said: "A023" -> "A, hai mươi ba" (the Hanoi way) or "A, 23".
pub fn code_words(code: &str, en: bool) -> String {
    match crate::domain::split_code(code) {
        Some((letters, number)) if en => format!("{letters}, {number}"),
        Some((letters, number)) => format!(
            "{letters}, {}",
            crate::callout::number_words(number).join(" ")
        ),
        None => code.to_string(),
    }
}

fn tiles(app: &AppWindow, en: bool, out: &mut Vec<String>) {
    for t in app.global::<ServicesAdapter>().get_tiles().iter() {
        let name = pick(en, &t.name_vi, &t.name_en);
        let about = pick(en, &t.description_vi, &t.description_en);
        let state = if t.available {
            if en {
                format!("{} waiting, {}", t.waiting, t.wait_en)
            } else {
                format!("{} người đang chờ, {}", t.waiting, t.wait_vi)
            }
        } else {
            pick(en, &t.reason_vi, &t.reason_en)
        };
        out.push(if about.is_empty() {
            format!("{name}. {state}.")
        } else {
            format!("{name}: {about}. {state}.")
        });
    }
}

/// The text of the page on screen now, and its language ("vi" or "en").
pub fn page_text(app: &AppWindow) -> (String, String) {
    let k = app.global::<KioskAdapter>();
    let en = k.get_language() == "en";
    let lang = if en { "en" } else { "vi" }.to_string();
    let mut out: Vec<String> = Vec::new();
    let notice = pick(en, &k.get_notice_vi(), &k.get_notice_en());
    if !notice.is_empty() {
        out.push(notice);
    }
    match k.get_page() {
        Page::Welcome => {
            out.push(pick(
                en,
                "Xin chào! Chạm vào dịch vụ bạn cần để lấy số.",
                "Welcome! Touch the service you need to take a number.",
            ));
            tiles(app, en, &mut out);
            if app.global::<PriorityAdapter>().get_groups().row_count() > 0 {
                out.push(pick(
                    en,
                    "Người cao tuổi, người khuyết tật, phụ nữ mang thai, người có công: chạm nút Lấy số ưu tiên.",
                    "Elderly, disabled, pregnant, people with meritorious service: touch Priority number.",
                ));
            }
        }
        Page::Services => {
            let s = app.global::<ServicesAdapter>();
            out.push(if en {
                format!("Priority number: {}.", s.get_priority_en())
            } else {
                format!("Lấy số ưu tiên: {}.", s.get_priority_vi())
            });
            out.push(pick(
                en,
                "Chạm vào dịch vụ bạn cần để lấy số.",
                "Touch the service you need to take a number.",
            ));
            tiles(app, en, &mut out);
        }
        Page::Priority => {
            let p = app.global::<PriorityAdapter>();
            let service = pick(en, &p.get_service_vi(), &p.get_service_en());
            if service.is_empty() {
                out.push(pick(
                    en,
                    "Bạn thuộc nhóm ưu tiên nào? Chạm vào nhóm của bạn:",
                    "Which priority group are you in? Touch your group:",
                ));
            } else {
                out.push(format!("{service}."));
                out.push(pick(
                    en,
                    "Bạn có thuộc nhóm ưu tiên không? Nếu không, chạm: Không, lấy số thường. Hoặc chọn nhóm của bạn:",
                    "Are you in a priority group? If not, touch: No, a normal number. Or choose your group:",
                ));
            }
            let groups: Vec<String> = p
                .get_groups()
                .iter()
                .map(|g| pick(en, &g.name_vi, &g.name_en))
                .collect();
            out.push(format!("{}.", groups.join(", ")));
        }
        Page::Ticket => {
            let t = app.global::<TicketAdapter>();
            let code = code_words(&t.get_code(), en);
            let service = pick(en, &t.get_service_vi(), &t.get_service_en());
            out.push(if en {
                format!(
                    "Your number is {code}. {service}. Counter {}. {} ahead of you, {}.",
                    t.get_counters(),
                    t.get_people_ahead(),
                    t.get_wait_en()
                )
            } else {
                format!(
                    "Số thứ tự của bạn là {code}. {service}. Quầy phục vụ: {}. Trước bạn có {} người, chờ {}.",
                    t.get_counters(),
                    t.get_people_ahead(),
                    t.get_wait_vi()
                )
            });
            out.push(match t.get_print_state() {
                PrintState::Printed => pick(
                    en,
                    "Mời bạn nhận phiếu bên dưới và chờ gọi số.",
                    "Please take your ticket below and wait for your number.",
                ),
                PrintState::Fault => pick(
                    en,
                    "Phiếu chưa in được, nhưng số của bạn đã được ghi nhận. Hãy ghi nhớ số, rồi báo cán bộ tại quầy.",
                    "The ticket could not be printed, but your number is registered. Remember it and tell the staff at the counter.",
                ),
                PrintState::Printing => pick(en, "Đang in phiếu.", "Printing your ticket."),
                PrintState::NoPaper => pick(
                    en,
                    "Không in phiếu. Hãy chụp ảnh mã QR trên màn hình và nhớ số của bạn.",
                    "No paper. Photograph the QR code on the screen and remember your number.",
                ),
            });
        }
        Page::Procedures => {
            let p = app.global::<ProceduresAdapter>();
            if p.get_showing_detail() {
                let d = p.get_detail();
                out.push(format!("{}.", d.name));
                let (docs, fee, time) = if en {
                    ("Documents to bring", "Fee", "Processing time")
                } else {
                    ("Giấy tờ cần mang", "Lệ phí", "Thời gian giải quyết")
                };
                out.push(format!(
                    "{docs}: {}.",
                    d.documents.replace("• ", "").replace('\n', "; ")
                ));
                out.push(format!("{fee}: {}.", d.fee));
                out.push(format!("{time}: {}.", d.time));
            } else {
                out.push(pick(
                    en,
                    "Tra cứu thủ tục hành chính. Chạm vào ô tìm kiếm để gõ tên thủ tục.",
                    "Look up a procedure. Touch the search box to type its name.",
                ));
                list(
                    p.get_rows().iter().map(|r| r.name.to_string()),
                    en,
                    &mut out,
                );
            }
        }
        Page::Help => {
            let h = app.global::<HelpAdapter>();
            if h.get_showing_guide() {
                out.push(format!(
                    "{}.",
                    pick(en, &h.get_title_vi(), &h.get_title_en())
                ));
                let steps = if en {
                    h.get_steps_en()
                } else {
                    h.get_steps_vi()
                };
                for (i, s) in steps.iter().enumerate() {
                    out.push(format!("{}. {s}", i + 1));
                }
            } else {
                out.push(pick(
                    en,
                    "Hướng dẫn công dân số.",
                    "Digital-citizen guides.",
                ));
                list(
                    h.get_guides()
                        .iter()
                        .map(|g| pick(en, &g.title_vi, &g.title_en)),
                    en,
                    &mut out,
                );
            }
        }
        Page::Rate => {
            let r = app.global::<super::RateAdapter>();
            match r.get_state() {
                0 => out.push(pick(
                    en,
                    "Bạn thấy sự phục vụ thế nào? Chạm một trong năm mặt, từ Rất hài lòng đến Rất không hài lòng.",
                    "How was the service? Touch one of the five faces, from Very satisfied to Very dissatisfied.",
                )),
                1 => out.push(pick(
                    en,
                    "Điều gì chưa tốt? Chọn lý do, rồi chạm Gửi đánh giá.",
                    "What was not good? Choose reasons, then touch Send the rating.",
                )),
                3 => out.push(pick(en, "Cảm ơn bạn đã đánh giá!", "Thank you for your rating!")),
                _ => out.push(pick(en, &r.get_message_vi(), &r.get_message_en())),
            }
        }
        Page::Checkin => {
            let c = app.global::<super::CheckinAdapter>();
            if c.get_state() >= 3 {
                out.push(pick(en, &c.get_message_vi(), &c.get_message_en()));
                if c.get_state() == 4 {
                    out.push(format!(
                        "{}.",
                        pick(en, &c.get_offer_vi(), &c.get_offer_en())
                    ));
                }
            } else {
                out.push(pick(
                    en,
                    "Bạn đã đặt số trực tuyến? Đưa mã QR trên điện thoại hoặc thẻ căn cước vào máy quét, hoặc nhập mã đặt lịch gồm 10 chữ số rồi chạm OK.",
                    "Booked a number online? Hold the QR code on your phone or your ID card to the scanner, or type the 10-digit booking code and touch OK.",
                ));
            }
        }
        Page::Dossier => {
            let d = app.global::<super::DossierAdapter>();
            match d.get_state() {
                2 => {
                    out.push(format!("{}.", pick(en, &d.get_status_vi(), &d.get_status_en())));
                    out.push(format!("{}.", d.get_procedure()));
                    if !d.get_expected().is_empty() {
                        out.push(if en {
                            format!("Due on {}.", d.get_expected())
                        } else {
                            format!("Ngày hẹn trả kết quả: {}.", d.get_expected())
                        });
                    }
                    out.push(format!(
                        "{}: {}.",
                        if en { "Collect at" } else { "Nơi nhận kết quả" },
                        pick(en, &d.get_collect_vi(), &d.get_collect_en())
                    ));
                }
                3..=5 => out.push(pick(en, &d.get_message_vi(), &d.get_message_en())),
                _ => out.push(pick(
                    en,
                    "Tra cứu hồ sơ. Hãy nhập mã hồ sơ in trên giấy tiếp nhận bằng bàn phím trên màn hình, rồi chạm Tra cứu.",
                    "Dossier lookup. Type the dossier code from your receipt on the on-screen keypad, then touch Look up.",
                )),
            }
        }
        Page::Assistant => {
            let a = app.global::<AssistantAdapter>();
            match a.get_state() {
                1 | 3 => {
                    if a.get_state() == 3 {
                        out.push(pick(
                            en,
                            "Tôi chưa chắc chắn. Bạn hãy hỏi cán bộ hướng dẫn.",
                            "I am not sure. Please ask the staff.",
                        ));
                    }
                    for c in a.get_cards().iter() {
                        out.push(format!("{}.", c.name));
                        if !c.documents.is_empty() {
                            out.push(format!(
                                "{}: {}.",
                                if en { "Documents" } else { "Giấy tờ" },
                                c.documents.replace("• ", "").replace('\n', "; ")
                            ));
                        }
                    }
                }
                2 => out.push(pick(en, &a.get_answer_vi(), &a.get_answer_en())),
                _ => out.push(pick(
                    en,
                    "Trợ lý ảo. Hãy gõ câu hỏi của bạn bằng bàn phím trên màn hình, rồi chạm Hỏi.",
                    "Virtual assistant. Type your question on the on-screen keyboard, then touch Ask.",
                )),
            }
        }
    }
    (out.join(" "), lang)
}

fn list(items: impl Iterator<Item = String>, en: bool, out: &mut Vec<String>) {
    let all: Vec<String> = items.collect();
    for name in all.iter().take(LIST_ROWS) {
        out.push(format!("{name}."));
    }
    if all.len() > LIST_ROWS {
        out.push(pick(en, "Và các mục khác.", "And more."));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ticket_codes_are_read_the_hanoi_way() {
        assert_eq!(super::code_words("A023", false), "A, hai mươi ba");
        assert_eq!(super::code_words("B105", false), "B, một trăm linh năm");
        assert_eq!(super::code_words("A023", true), "A, 23");
    }
}

//! `kiosk screenshot`: every page drawn by Slint's software renderer into PNG files, without a
//! display. A platform whose only window is a `MinimalSoftwareWindow`; each page is put in a
//! representative state (a ticket, a printer fault, an open procedure, ...) and snapshotted.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use slint::ComponentHandle;
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};

use super::{
    AssistantAdapter, HelpAdapter, KioskAdapter, KioskUi, Page, PrintState, PriorityAdapter,
    ProceduresAdapter, TicketAdapter, assistant_adapter, help_adapter, procedures_adapter,
    qr_image, session,
};

/// Every page (and page state) the command can draw.
pub const PAGES: [&str; 34] = [
    "welcome",
    "welcome-notice",
    "welcome-no-paper",
    "idle-warning",
    "services",
    "priority",
    "priority-first",
    "ticket",
    "ticket-fault",
    "ticket-no-paper",
    "procedures",
    "procedures-typing",
    "procedures-none",
    "procedure",
    "help",
    "guide",
    "assistant",
    "assistant-faq",
    "assistant-answer",
    "assistant-unsure",
    "assistant-elsewhere",
    "dossier",
    "dossier-invalid",
    "dossier-offline",
    "dossier-found",
    "checkin",
    "checkin-invalid",
    "checkin-early",
    "checkin-elderly",
    "ticket-booked",
    "rate",
    "rate-reasons",
    "rate-thanks",
    "rate-waiting",
];

struct Headless {
    window: Rc<MinimalSoftwareWindow>,
}

impl Platform for Headless {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }
}

/// Make the headless platform current. Once per process, before the first window.
pub fn init_headless() -> Result<(), slint::PlatformError> {
    let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
    slint::platform::set_platform(Box::new(Headless { window }))
        .map_err(|e| slint::PlatformError::Other(format!("cannot set the headless platform: {e}")))
}

/// Put the UI into the state a page name stands for.
/// A page name with display modes after `+`: "assistant+large+contrast" is the assistant page
/// in large text and high contrast, as a citizen who needs them sees it.
fn show_page(ui: &KioskUi, page: &str) -> Result<(), String> {
    let mut parts = page.split('+');
    let page = parts.next().unwrap_or(page);
    let modes: Vec<&str> = parts.collect();
    show_plain_page(ui, page)?;
    let theme = ui.window.global::<super::Theme>();
    for m in modes {
        match m {
            "large" => theme.set_large_text(true),
            "contrast" => theme.set_high_contrast(true),
            other => return Err(format!("unknown mode \"{other}\"; modes: large, contrast")),
        }
    }
    Ok(())
}

fn show_plain_page(ui: &KioskUi, page: &str) -> Result<(), String> {
    let app = &ui.window;
    session::end(app, &ui.choice);
    let k = app.global::<KioskAdapter>();
    let sample = crate::printer::layout::sample_ticket();
    let fill_ticket = |state: PrintState| {
        let t = app.global::<TicketAdapter>();
        t.set_code(sample.code.clone().into());
        t.set_service_vi(sample.service_vi.clone().into());
        t.set_service_en(sample.service_en.clone().into());
        t.set_counters("1, 2".into());
        t.set_people_ahead(sample.people_ahead as i32);
        t.set_wait_vi("khoảng 22-28 phút".into());
        t.set_wait_en("about 22-28 min".into());
        t.set_priority_vi(sample.priority.clone().unwrap_or_default().0.into());
        t.set_priority_en(sample.priority.clone().unwrap_or_default().1.into());
        let (vi, en) = crate::printer::PrinterStatus::PaperOut.describe_vi_en();
        t.set_fault_vi(vi.into());
        t.set_fault_en(en.into());
        t.set_qr(qr_image(sample.qr_payload.as_deref().unwrap_or("A023"), 8));
        t.set_print_state(state);
        t.set_seconds_left(
            if state == PrintState::Fault || state == PrintState::NoPaper {
                super::ticket_adapter::FAULT_SECONDS
            } else {
                super::ticket_adapter::PRINTED_SECONDS
            },
        );
        k.set_page(Page::Ticket);
    };
    match page {
        "welcome" => k.set_page(Page::Welcome),
        "welcome-notice" => {
            // A refusal shown above the tiles (a full quota, say).
            let (vi, en) =
                super::wording::refusal(crate::domain::Reason::QuotaExceeded, &ui.kiosk.config);
            k.set_notice_vi(vi.into());
            k.set_notice_en(en.into());
            k.set_page(Page::Welcome);
        }
        "idle-warning" => {
            k.set_page(Page::Procedures);
            k.set_idle_warning(super::kiosk_adapter::WARN_SECONDS as i32);
        }
        "services" => {
            // The priority path: a group chosen, the service next.
            let g = ui
                .kiosk
                .config
                .priority_groups
                .first()
                .ok_or("no priority group configured")?;
            let s = app.global::<super::ServicesAdapter>();
            s.set_priority_vi(g.name.vi.clone().into());
            s.set_priority_en(g.name.en.clone().into());
            k.set_page(Page::Services);
        }
        "priority-first" => {
            let p = app.global::<PriorityAdapter>();
            p.set_service_vi(Default::default());
            p.set_service_en(Default::default());
            k.set_page(Page::Priority);
        }
        "priority" => {
            let s = ui
                .kiosk
                .config
                .services
                .first()
                .ok_or("no service configured")?;
            let p = app.global::<PriorityAdapter>();
            p.set_service_vi(s.name.vi.clone().into());
            p.set_service_en(s.name.en.clone().into());
            k.set_page(Page::Priority);
        }
        "ticket" => fill_ticket(PrintState::Printed),
        "ticket-fault" => fill_ticket(PrintState::Fault),
        "ticket-no-paper" => fill_ticket(PrintState::NoPaper),
        "welcome-no-paper" => {
            k.set_no_paper(true);
            k.set_page(Page::Welcome);
        }
        "ticket-booked" => {
            fill_ticket(PrintState::Printed);
            let t = app.global::<TicketAdapter>();
            t.set_priority_vi(Default::default());
            t.set_priority_en(Default::default());
            t.set_note_vi("Số đặt trước trực tuyến · khung giờ 09:00–09:30".into());
            t.set_note_en("Booked online · slot 09:00–09:30".into());
        }
        "procedures" => k.set_page(Page::Procedures),
        "procedures-typing" => {
            let p = app.global::<ProceduresAdapter>();
            p.set_typing(true);
            p.invoke_keys("khai sinh".into());
            k.set_page(Page::Procedures);
        }
        "procedures-none" => {
            let p = app.global::<ProceduresAdapter>();
            p.invoke_search("xyzzy".into());
            k.set_page(Page::Procedures);
        }
        "procedure" => {
            let code = ui
                .kiosk
                .catalogue
                .first()
                .ok_or("empty catalogue")?
                .code
                .clone();
            procedures_adapter::open(app, &ui.kiosk, &code);
            k.set_page(Page::Procedures);
        }
        "help" => k.set_page(Page::Help),
        "guide" => {
            let id = ui.kiosk.guides.first().ok_or("no guides")?.id.clone();
            help_adapter::open(app, &ui.kiosk.guides, &id);
            k.set_page(Page::Help);
        }
        "assistant" => k.set_page(Page::Assistant),
        "dossier" => {
            app.global::<super::DossierAdapter>()
                .invoke_keys("000.A0.01.H26-2611".into());
            k.set_page(Page::Dossier);
        }
        "dossier-invalid" => {
            app.global::<super::DossierAdapter>()
                .invoke_keys("000.A0.01.H26-261345-0012".into());
            super::dossier_adapter::lookup(app, &ui.kiosk);
            k.set_page(Page::Dossier);
        }
        "dossier-offline" | "dossier-found" => {
            let d = app.global::<super::DossierAdapter>();
            d.invoke_keys("000.A0.01.H26-261130-0007".into());
            let outcome = if page == "dossier-found" {
                Ok(Some(crate::wire::DossierStatus {
                    code: d.get_code().to_string(),
                    procedure: "Cấp giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất lần đầu".into(),
                    state: crate::wire::DossierState::Ready,
                    expected: chrono::NaiveDate::from_ymd_opt(2026, 12, 7),
                    collect_vi: "Quầy trả kết quả (quầy 6)".into(),
                    collect_en: "Result desk (counter 6)".into(),
                    fee_due: "20.000 đồng".into(),
                }))
            } else {
                Err(crate::dossier::DossierError::Offline("no centre".into()))
            };
            super::dossier_adapter::show(app, &outcome);
            k.set_page(Page::Dossier);
        }
        "rate" | "rate-reasons" | "rate-thanks" | "rate-waiting" => {
            let r = app.global::<super::RateAdapter>();
            super::rate_adapter::reset_reasons(app);
            r.set_code("A023".into());
            r.set_counter_vi("Quầy 2".into());
            r.set_counter_en("Counter 2".into());
            match page {
                "rate" => r.set_state(0),
                "rate-reasons" => {
                    r.set_score(2);
                    r.set_state(1);
                    r.invoke_toggle(0);
                }
                "rate-thanks" => r.set_state(3),
                _ => {
                    r.set_message_vi("Số A023 đang chờ: trước bạn còn 4 người. Sau khi được phục vụ, bạn có thể quét lại phiếu để đánh giá.".into());
                    r.set_message_en("Number A023 is waiting: 4 ahead of you. After your service, scan the ticket again to rate it.".into());
                    r.set_state(4);
                }
            }
            k.set_page(Page::Rate);
        }
        "checkin" => {
            app.global::<super::CheckinAdapter>()
                .invoke_digit("012345".into());
            k.set_page(Page::Checkin);
        }
        "checkin-invalid" => {
            let c = app.global::<super::CheckinAdapter>();
            c.invoke_digit("0123456789".into());
            k.set_page(Page::Checkin);
            c.invoke_check();
        }
        "checkin-early" | "checkin-elderly" => {
            let at = |h: u32, m: u32| {
                use chrono::TimeZone;
                ui.kiosk
                    .config
                    .site
                    .timezone
                    .with_ymd_and_hms(2026, 12, 1, h, m, 0)
                    .single()
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .unwrap_or_default()
            };
            let (outcome, by_card, age) = if page == "checkin-early" {
                let c = crate::hub::CheckIn::TooEarly {
                    slot_start: at(14, 0),
                    slot_end: at(14, 30),
                    opens_at: at(13, 0),
                };
                app.global::<super::CheckinAdapter>()
                    .invoke_digit("1234567897".into());
                (c, false, None)
            } else {
                (crate::hub::CheckIn::NotFound, true, Some(76))
            };
            super::checkin_adapter::show_no_ticket(app, &ui.kiosk, &outcome, by_card, age);
        }
        // A question about the point itself.
        "assistant-faq" => ask_typed(ui, "nhaf veej sinh owr ddaau"),
        "assistant-unsure" => {
            // Not sure, with candidates to show beside "ask staff" (what a citizen sees when the
            // confidence is under the threshold).
            let a = app.global::<AssistantAdapter>();
            a.invoke_keys("giaays towf nhaf ddaats".into());
            let question = a.get_text().to_string();
            let near = ui.kiosk.assistant.wait().ask(&question).offered().to_vec();
            let answer = crate::assistant::Answer::NotSure {
                reason: "low confidence".into(),
                near: near.into_iter().take(3).collect(),
                confidence: 0.2,
            };
            assistant_adapter::show(app, &ui.kiosk, &answer);
            k.set_page(Page::Assistant);
        }
        // A question about something else ("will it rain today?"): not sure, and no
        // procedures beside "ask staff".
        "assistant-elsewhere" => ask_typed(ui, "hoom nay trowif cos muwa khoong"),
        "assistant-answer" => ask_typed(ui, "ddawng kys tamj trus cho nguwowif thuee troj"),
        other => {
            return Err(format!(
                "unknown page \"{other}\"; pages: {}",
                PAGES.join(", ")
            ));
        }
    }
    // Keep the procedure/guide detail only where asked for.
    if page != "procedure" {
        app.global::<ProceduresAdapter>().set_showing_detail(false);
    }
    if page != "guide" {
        app.global::<HelpAdapter>().set_showing_guide(false);
    }
    Ok(())
}

/// A question typed on the on-screen keyboard in Telex, as a citizen would, and its answer.
fn ask_typed(ui: &KioskUi, keys: &str) {
    let app = &ui.window;
    let a = app.global::<AssistantAdapter>();
    a.invoke_keys(keys.into());
    let question = a.get_text().to_string();
    let answer = ui.kiosk.assistant.wait().ask(&question);
    assistant_adapter::show(app, &ui.kiosk, &answer);
    app.global::<KioskAdapter>().set_page(Page::Assistant);
}

pub(crate) fn write_png(path: &Path, width: u32, height: u32, rgba: &[u8]) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(|e| e.to_string())?;
    w.write_image_data(rgba).map_err(|e| e.to_string())?;
    w.finish().map_err(|e| e.to_string())
}

/// Every display mode a citizen can switch on, as page suffixes.
pub const MODES: [&str; 4] = ["", "+large", "+contrast", "+large+contrast"];

/// Put the UI into every state of `pages` x `langs` x `sizes` (page names may carry modes) in
/// turn and call `visit` with its name, `<page>-<lang>-<w>x<h>`.
fn for_each_state(
    ui: &KioskUi,
    pages: &[String],
    langs: &[&str],
    sizes: &[(u32, u32)],
    mut visit: impl FnMut(&str) -> Result<(), String>,
) -> Result<(), String> {
    ui.window.show().map_err(|e| e.to_string())?;
    for &(w, h) in sizes {
        ui.window.window().set_size(slint::PhysicalSize::new(w, h));
        for page in pages {
            for lang in langs {
                show_page(ui, page)?;
                session::set_language(&ui.window, lang);
                visit(&format!("{page}-{lang}-{w}x{h}"))?;
            }
        }
    }
    Ok(())
}

/// Lay out every state and list what is broken on each: `(state, problem)`.
pub fn check_pages(
    ui: &KioskUi,
    pages: &[String],
    langs: &[&str],
    sizes: &[(u32, u32)],
) -> Result<(usize, Vec<(String, super::layout_check::Problem)>), String> {
    let mut states = 0;
    let mut found = Vec::new();
    for_each_state(ui, pages, langs, sizes, |state| {
        states += 1;
        for p in super::layout_check::check(ui.window.window()) {
            found.push((state.to_string(), p));
        }
        Ok(())
    })?;
    Ok((states, found))
}

/// Draw every state into `out` as `<state>.png`.
pub fn render_pages(
    ui: &KioskUi,
    pages: &[String],
    langs: &[&str],
    sizes: &[(u32, u32)],
    out: &Path,
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut written = Vec::new();
    for_each_state(ui, pages, langs, sizes, |state| {
        let shot = ui
            .window
            .window()
            .take_snapshot()
            .map_err(|e| format!("snapshot of {state}: {e}"))?;
        let path = out.join(format!("{state}.png"));
        write_png(&path, shot.width(), shot.height(), shot.as_bytes())?;
        written.push(path);
        Ok(())
    })?;
    Ok(written)
}

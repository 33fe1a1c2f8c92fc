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
pub const PAGES: [&str; 13] = [
    "welcome",
    "services",
    "priority",
    "ticket",
    "ticket-fault",
    "procedures",
    "procedure",
    "help",
    "guide",
    "assistant",
    "assistant-answer",
    "assistant-unsure",
    "assistant-elsewhere",
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
    session::go_home(app, &ui.choice);
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
        k.set_page(Page::Ticket);
    };
    match page {
        "welcome" => k.set_page(Page::Welcome),
        "services" => k.set_page(Page::Services),
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
        "procedures" => k.set_page(Page::Procedures),
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
        "assistant-elsewhere" => {
            // A question about something else ("will it rain today?"): not sure, and no
            // procedures beside "ask staff".
            let a = app.global::<AssistantAdapter>();
            a.invoke_keys("hoom nay trowif cos muwa khoong".into());
            let question = a.get_text().to_string();
            let answer = ui.kiosk.assistant.wait().ask(&question);
            assistant_adapter::show(app, &ui.kiosk, &answer);
            k.set_page(Page::Assistant);
        }
        "assistant-answer" => {
            // Typed on the on-screen keyboard in Telex, as a citizen would.
            let a = app.global::<AssistantAdapter>();
            a.invoke_keys("ddawng kys tamj trus cho nguwowif thuee troj".into());
            let question = a.get_text().to_string();
            let answer = ui.kiosk.assistant.wait().ask(&question);
            assistant_adapter::show(app, &ui.kiosk, &answer);
            k.set_page(Page::Assistant);
        }
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

pub(crate) fn write_png(path: &Path, width: u32, height: u32, rgba: &[u8]) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(|e| e.to_string())?;
    w.write_image_data(rgba).map_err(|e| e.to_string())?;
    w.finish().map_err(|e| e.to_string())
}

/// Draw `pages` x `langs` x `sizes` into `out` as `<page>-<lang>-<w>x<h>.png`.
pub fn render_pages(
    ui: &KioskUi,
    pages: &[&str],
    langs: &[&str],
    sizes: &[(u32, u32)],
    out: &Path,
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    ui.window.show().map_err(|e| e.to_string())?;
    let mut written = Vec::new();
    for &(w, h) in sizes {
        ui.window.window().set_size(slint::PhysicalSize::new(w, h));
        for page in pages {
            for lang in langs {
                show_page(ui, page)?;
                session::set_language(&ui.window, lang);
                let shot = ui
                    .window
                    .window()
                    .take_snapshot()
                    .map_err(|e| format!("snapshot of {page}: {e}"))?;
                let path = out.join(format!("{page}-{lang}-{w}x{h}.png"));
                write_png(&path, shot.width(), shot.height(), shot.as_bytes())?;
                written.push(path);
            }
        }
    }
    Ok(written)
}

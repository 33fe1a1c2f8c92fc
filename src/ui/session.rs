//! The citizen's session on the touchscreen: how it starts over for the next person (welcome
//! page, Vietnamese, default text size and contrast, nothing chosen), "home" within a session
//! (keeps the citizen's language and display modes), and the language switch.
//! Any adapter may end a session; this module calls no adapter.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, SharedString};

use super::{
    AppWindow, AssistantAdapter, Choice, HelpAdapter, KioskAdapter, Page, ProceduresAdapter,
    ServicesAdapter, Theme,
};

/// The end of a citizen's session (the ticket taken, or the kiosk left idle): back to the
/// start as for a new citizen, in Vietnamese, default text size and contrast, nothing chosen.
pub fn end(app: &AppWindow, choice: &Rc<RefCell<Choice>>) {
    go_home(app, choice);
    set_language(app, "vi");
    let theme = app.global::<Theme>();
    theme.set_large_text(false);
    theme.set_high_contrast(false);
    app.global::<KioskAdapter>().set_no_paper(false);
    app.global::<AssistantAdapter>().invoke_reset();
}

/// "Home" in the middle of a session: the welcome page with nothing chosen, in the language,
/// text size and contrast the citizen picked.
pub fn go_home(app: &AppWindow, choice: &Rc<RefCell<Choice>>) {
    *choice.borrow_mut() = Choice::default();
    let k = app.global::<KioskAdapter>();
    k.set_page(Page::Welcome);
    k.set_idle_warning(0);
    k.set_notice_vi(SharedString::new());
    k.set_notice_en(SharedString::new());
    let s = app.global::<ServicesAdapter>();
    s.set_busy(false);
    s.set_priority_vi(SharedString::new());
    s.set_priority_en(SharedString::new());
    let p = app.global::<ProceduresAdapter>();
    p.set_showing_detail(false);
    p.invoke_reset_search();
    app.global::<HelpAdapter>().set_showing_guide(false);
    super::dossier_adapter::reset(app);
    super::checkin_adapter::reset(app);
}

pub fn set_language(app: &AppWindow, lang: &str) {
    // Vietnamese is the source language: the empty name selects it.
    let bundle = if lang == "en" { "en" } else { "" };
    if let Err(e) = slint::select_bundled_translation(bundle) {
        tracing::warn!(lang, error = %e, "cannot switch language");
    }
    app.global::<KioskAdapter>()
        .set_language(if lang == "en" { "en" } else { "vi" }.into());
    app.global::<AssistantAdapter>().invoke_relabel();
}

//! The citizen's session on the touchscreen: how it starts over for the next person (welcome
//! page, Vietnamese, default text size and contrast, nothing chosen) and the language switch.
//! Any adapter may end a session; this module calls no adapter.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, SharedString};

use super::{
    AppWindow, AssistantAdapter, Choice, HelpAdapter, KioskAdapter, Page, ProceduresAdapter,
    ServicesAdapter, Theme,
};

/// Back to the start, as for a new citizen: welcome page, Vietnamese, default text and contrast,
/// nothing chosen.
pub fn go_home(app: &AppWindow, choice: &Rc<RefCell<Choice>>) {
    *choice.borrow_mut() = Choice::default();
    let k = app.global::<KioskAdapter>();
    k.set_page(Page::Welcome);
    k.set_notice_vi(SharedString::new());
    k.set_notice_en(SharedString::new());
    set_language(app, "vi");
    let theme = app.global::<Theme>();
    theme.set_large_text(false);
    theme.set_high_contrast(false);
    app.global::<ServicesAdapter>().set_busy(false);
    app.global::<ProceduresAdapter>().set_showing_detail(false);
    app.global::<HelpAdapter>().set_showing_guide(false);
    app.global::<AssistantAdapter>().invoke_reset();
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

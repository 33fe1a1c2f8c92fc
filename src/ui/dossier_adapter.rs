//! DossierAdapter: "Tra cứu hồ sơ". The code typed on the keypad (or read from a receipt's QR)
//! is checked against the national format here, so a malformed one is named at once; a good
//! one is asked of `Kiosk::dossiers` on the runtime and the answer comes back to the UI thread.
//! A ready result offers a ticket for the queue that returns results.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, SharedString};

use super::{AppWindow, Choice, DossierAdapter, Kiosk, services_adapter};
use crate::domain::{DossierCodeError, parse_dossier_code};
use crate::dossier::DossierError;
use crate::wire::{DossierState, DossierStatus};

/// The longest code the keypad takes (a national code is 25 characters).
const MAX_CODE: usize = 40;
/// Hanoi's public-service hotline, said when the kiosk cannot ask.
pub const HOTLINE: &str = "024.1022";

fn say(app: &AppWindow, state: i32, vi: String, en: String) {
    let a = app.global::<DossierAdapter>();
    a.set_state(state);
    a.set_message_vi(vi.into());
    a.set_message_en(en.into());
}

/// Put a lookup's outcome on screen.
pub fn show(app: &AppWindow, outcome: &Result<Option<DossierStatus>, DossierError>) {
    let a = app.global::<DossierAdapter>();
    match outcome {
        Ok(Some(d)) => {
            let (vi, en) = d.state.describe_vi_en();
            a.set_procedure(d.procedure.clone().into());
            a.set_status_vi(vi.into());
            a.set_status_en(en.into());
            a.set_expected(
                d.expected
                    .map(|e| e.format("%d/%m/%Y").to_string())
                    .unwrap_or_default()
                    .into(),
            );
            a.set_collect_vi(d.collect_vi.clone().into());
            a.set_collect_en(d.collect_en.clone().into());
            a.set_fee_due(d.fee_due.clone().into());
            a.set_ready(d.state == DossierState::Ready);
            a.set_state(2);
        }
        Ok(None) => say(
            app,
            3,
            "Không tìm thấy hồ sơ có mã này. Hãy kiểm tra lại mã trên giấy tiếp nhận, hoặc hỏi cán bộ tại quầy.".into(),
            "No dossier has this code. Check the code on your receipt, or ask the staff at a counter.".into(),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "dossier lookup");
            say(
                app,
                4,
                format!(
                    "Hiện chưa tra cứu được (mất kết nối với hệ thống). Bạn hãy hỏi cán bộ tại quầy hoặc gọi tổng đài {HOTLINE}."
                ),
                format!(
                    "The lookup is not available right now (no connection). Please ask the staff or call the hotline {HOTLINE}."
                ),
            )
        }
    }
}

fn invalid(app: &AppWindow, e: &DossierCodeError) {
    let (vi, en) = e.describe_vi_en();
    say(app, 5, vi, en);
}

/// Check the code on screen and ask for it.
pub fn lookup(app: &AppWindow, kiosk: &Kiosk) {
    let text = app.global::<DossierAdapter>().get_code().to_string();
    let code = match parse_dossier_code(&text) {
        Ok(c) => c,
        Err(e) => return invalid(app, &e),
    };
    app.global::<DossierAdapter>().set_state(1);
    let (weak, source) = (app.as_weak(), std::sync::Arc::clone(&kiosk.dossiers));
    kiosk.runtime.spawn(async move {
        let outcome = source.lookup(&code).await;
        let _ = weak.upgrade_in_event_loop(move |app| show(&app, &outcome));
    });
}

/// Empty code and screen, for the next citizen.
pub fn reset(app: &AppWindow) {
    let a = app.global::<DossierAdapter>();
    a.set_code(SharedString::new());
    a.set_state(0);
    a.set_ready(false);
}

pub fn connect(app: &AppWindow, kiosk: &Kiosk, choice: &Rc<RefCell<Choice>>) {
    let a = app.global::<DossierAdapter>();
    {
        let weak = app.as_weak();
        a.on_keys(move |keys| {
            let Some(app) = weak.upgrade() else { return };
            let a = app.global::<DossierAdapter>();
            let mut code = a.get_code().to_string();
            for k in keys
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
            {
                if code.len() < MAX_CODE {
                    code.push(k.to_ascii_uppercase());
                }
            }
            a.set_code(code.into());
            if a.get_state() >= 3 {
                a.set_state(0);
            }
        });
    }
    {
        let weak = app.as_weak();
        a.on_backspace(move || {
            let Some(app) = weak.upgrade() else { return };
            let a = app.global::<DossierAdapter>();
            let mut code = a.get_code().to_string();
            code.pop();
            a.set_code(code.into());
            a.set_state(0);
        });
    }
    {
        let weak = app.as_weak();
        a.on_clear(move || {
            if let Some(app) = weak.upgrade() {
                reset(&app);
            }
        });
    }
    {
        let (weak, kiosk) = (app.as_weak(), kiosk.clone());
        a.on_lookup(move || {
            if let Some(app) = weak.upgrade() {
                lookup(&app, &kiosk);
            }
        });
    }
    {
        let (weak, kiosk, choice) = (app.as_weak(), kiosk.clone(), Rc::clone(choice));
        a.on_take_ticket(move || {
            let Some(app) = weak.upgrade() else { return };
            if let Some(service) = kiosk.config.general_service() {
                let id = service.id.clone();
                services_adapter::after_choosing(&app, &kiosk, &choice, &id);
            }
        });
    }
}

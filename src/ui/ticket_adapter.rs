//! TicketAdapter: the ticket page. The tap that chooses (priority or not) starts the citizen's
//! path in `crate::ticketing` (commit, print, record); this adapter only puts its steps on
//! screen: the number as soon as it is committed, then printed or the printer's fault. A fault
//! leaves the number on screen with a QR code.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use slint::{ComponentHandle, SharedString};

use super::{
    AppWindow, Choice, Kiosk, KioskAdapter, Page, PrintState, ServicesAdapter, TicketAdapter,
    qr_image, session, wording,
};
use crate::domain::Channel;
use crate::hub::IssueRequest;
use crate::ticketing::{NewTicket, PrintResult};

fn show_issued(app: &AppWindow, kiosk: &Kiosk, new: &NewTicket, note: &(String, String)) {
    let (issued, info) = (&new.issued, &new.info);
    let t = app.global::<TicketAdapter>();
    t.set_note_vi(note.0.clone().into());
    t.set_note_en(note.1.clone().into());
    t.set_code(issued.ticket.code.clone().into());
    t.set_service_vi(info.service_vi.clone().into());
    t.set_service_en(info.service_en.clone().into());
    let counters = info
        .counters
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    t.set_counters(counters.into());
    t.set_people_ahead(issued.people_ahead as i32);
    let (wait_vi, wait_en) = wording::wait_text(issued.wait);
    t.set_wait_vi(wait_vi.into());
    t.set_wait_en(wait_en.into());
    let (pvi, pen) = info.priority.clone().unwrap_or_default();
    t.set_priority_vi(pvi.into());
    t.set_priority_en(pen.into());
    t.set_print_state(PrintState::Printing);
    t.set_seconds_left(0);
    // The QR a citizen can photograph if the paper does not come: the ticket's own payload, or
    // the number and place when no payload is configured.
    let payload = info.qr_payload.clone().unwrap_or_else(|| {
        format!(
            "{} {} {}",
            kiosk.config.site.path(),
            issued.ticket.service_day,
            issued.ticket.code
        )
    });
    t.set_qr(qr_image(&payload, 8));
    app.global::<KioskAdapter>().set_page(Page::Ticket);
    app.global::<ServicesAdapter>().set_busy(false);
}

/// How long the ticket page stays up once printed: long enough to read the number and the
/// counter, short enough that the next citizen does not see it.
pub const PRINTED_SECONDS: i32 = 12;
/// With a printer fault the citizen must note the number or photograph the QR.
pub const FAULT_SECONDS: i32 = 45;
/// With no paper, by choice: time to take out a phone and photograph the QR.
pub const NO_PAPER_SECONDS: i32 = 45;

thread_local! {
    /// The ticket page's countdown (UI thread only).
    static COUNTDOWN: slint::Timer = slint::Timer::default();
}

/// How the ticket left the kiosk: printed (or not, the printer's fault), or on screen only.
enum Delivered {
    Paper(PrintResult),
    NoPaper,
}

fn show_printed(app: &AppWindow, delivered: &Delivered) {
    let t = app.global::<TicketAdapter>();
    let result = match delivered {
        Delivered::Paper(r) => r,
        Delivered::NoPaper => {
            t.set_print_state(PrintState::NoPaper);
            start_countdown(app, NO_PAPER_SECONDS);
            return;
        }
    };
    let seconds = match result {
        Ok(_) => {
            t.set_print_state(PrintState::Printed);
            PRINTED_SECONDS
        }
        Err(e) => {
            let (vi, en) = e.status().describe_vi_en();
            t.set_fault_vi(SharedString::from(vi));
            t.set_fault_en(SharedString::from(en));
            t.set_print_state(PrintState::Fault);
            FAULT_SECONDS
        }
    };
    start_countdown(app, seconds);
}

fn start_countdown(app: &AppWindow, seconds: i32) {
    app.global::<TicketAdapter>().set_seconds_left(seconds);
    let weak = app.as_weak();
    COUNTDOWN.with(|timer| {
        timer.start(
            slint::TimerMode::Repeated,
            std::time::Duration::from_secs(1),
            move || {
                let Some(app) = weak.upgrade() else { return };
                let t = app.global::<TicketAdapter>();
                let left = t.get_seconds_left() - 1;
                t.set_seconds_left(left.max(0));
                let on_ticket = app.global::<KioskAdapter>().get_page() == Page::Ticket;
                if left <= 0 || !on_ticket {
                    COUNTDOWN.with(slint::Timer::stop);
                    if on_ticket {
                        t.invoke_done();
                    }
                }
            },
        );
    });
}

/// Issue a ticket for the chosen service (and priority group, "" for none), then print it.
pub fn issue(app: &AppWindow, kiosk: &Kiosk, choice: &Rc<RefCell<Choice>>, group: Option<String>) {
    let Some(service_id) = choice.borrow().service_id.clone() else {
        app.global::<ServicesAdapter>().set_busy(false);
        return;
    };
    // One ticket per request, however many taps arrive while it is being issued.
    if kiosk.issuing.swap(true, Ordering::SeqCst) {
        return;
    }
    let note = choice
        .borrow()
        .procedure
        .as_deref()
        .and_then(|code| kiosk.catalogue.iter().find(|p| p.code == code))
        .map(|p| crate::printer::layout::ProcedureNote {
            name: p.name.clone(),
            documents: p.documents.clone(),
        });
    let req = IssueRequest {
        service_id,
        priority_group: group.filter(|g| !g.is_empty()),
        channel: Channel::Kiosk,
        field: choice.borrow().field.clone(),
        citizen_id: choice.borrow().citizen_id.clone(),
    };
    let weak = app.as_weak();
    let kiosk = kiosk.clone();
    let rt = kiosk.runtime.clone();
    rt.spawn(async move {
        let ticketing = kiosk.ticketing();
        let new = ticketing.issue(req).await;
        kiosk.issuing.store(false, Ordering::SeqCst);
        let mut new = match new {
            Ok(n) => n,
            Err(e) => {
                let (vi, en) = wording::refusal_of(&e, &kiosk.config);
                let _ = weak.upgrade_in_event_loop(move |app| {
                    let k = app.global::<KioskAdapter>();
                    k.set_notice_vi(vi.into());
                    k.set_notice_en(en.into());
                    // Back where the tiles are: the priority path's, or the welcome page's.
                    if k.get_page() == Page::Priority {
                        k.set_page(Page::Welcome);
                    }
                    app.global::<ServicesAdapter>().set_busy(false);
                });
                return;
            }
        };
        new.info.procedure = note;
        present(weak, &kiosk, new, Default::default()).await;
    });
}

/// Put a committed ticket on screen (before any byte is printed), print it, record the outcome
/// and show it. `note` is a line under the number (a booked slot), empty for none.
pub(super) async fn present(
    weak: slint::Weak<AppWindow>,
    kiosk: &Kiosk,
    new: NewTicket,
    note: (String, String),
) {
    // The page answers whether the citizen asked for no paper (read where it is set).
    let (paper_tx, paper_rx) = tokio::sync::oneshot::channel();
    {
        let (new, kiosk) = (new.clone(), kiosk.clone());
        let _ = weak.upgrade_in_event_loop(move |app| {
            show_issued(&app, &kiosk, &new, &note);
            let _ = paper_tx.send(!app.global::<KioskAdapter>().get_no_paper());
        });
    }
    let delivered = if paper_rx.await.unwrap_or(true) {
        let (result, unrecorded) = kiosk
            .ticketing()
            .print_and_record(&new.issued.ticket, new.info)
            .await;
        if let Some(e) = unrecorded {
            tracing::error!(ticket = %new.issued.ticket.code, error = %e, "print outcome not recorded");
        }
        Delivered::Paper(result)
    } else {
        // Counted at the centre: how many citizens go paperless.
        let recorded = kiosk
            .hub
            .record_device_event(
                crate::domain::EventKind::NoPaper,
                Some(new.issued.ticket.clone()),
                serde_json::json!({ "qr": new.info.qr_payload.is_some() }),
            )
            .await;
        if let Err(e) = recorded {
            tracing::warn!(ticket = %new.issued.ticket.code, error = %e, "no-paper ticket not recorded");
        }
        Delivered::NoPaper
    };
    let _ = weak.upgrade_in_event_loop(move |app| show_printed(&app, &delivered));
}

pub fn connect(app: &AppWindow, choice: &Rc<RefCell<Choice>>) {
    {
        let weak = app.as_weak();
        let choice = Rc::clone(choice);
        app.global::<TicketAdapter>().on_done(move || {
            COUNTDOWN.with(slint::Timer::stop);
            if let Some(app) = weak.upgrade() {
                session::end(&app, &choice);
            }
        });
    }
}

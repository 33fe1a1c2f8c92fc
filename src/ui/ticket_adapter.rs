//! TicketAdapter: issuing and printing. The tap that chooses (priority or not) starts it; the
//! hub commits the ticket durably, the ticket page shows it at once, the printer thread prints,
//! and the outcome is logged. A printer fault leaves the number on screen with a QR code.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use slint::{ComponentHandle, SharedString};

use super::{
    AppWindow, Choice, Kiosk, KioskAdapter, Page, PrintState, PriorityAdapter, ServicesAdapter,
    TicketAdapter, kiosk_adapter, qr_image, services_adapter::wait_text,
};
use crate::domain::Channel;
use crate::hub::{HubError, IssueRequest, Issued};
use crate::printer::{PrintError, PrintReport, TicketInfo};

/// Why a ticket was refused, for the citizen, in both languages.
fn refusal(e: &HubError) -> (String, String) {
    match e.reason_code() {
        "closed" => (
            "Ngoài giờ tiếp nhận hồ sơ. Mời bạn quay lại trong giờ làm việc.".into(),
            "Outside opening hours. Please come back during opening hours.".into(),
        ),
        "daily_cap_reached" | "numbers_exhausted" => (
            "Dịch vụ này đã hết số hôm nay.".into(),
            "This service has no more numbers today.".into(),
        ),
        "quota_exceeded" => (
            "Bạn đã lấy đủ số cho hôm nay (tối đa 2 số, 1 số mỗi lĩnh vực).".into(),
            "You already have today's numbers (at most 2, one per field).".into(),
        ),
        _ => (
            "Chưa lấy được số. Vui lòng thử lại hoặc hỏi cán bộ hướng dẫn.".into(),
            "Could not take a number. Please try again or ask a staff member.".into(),
        ),
    }
}

fn show_issued(app: &AppWindow, kiosk: &Kiosk, issued: &Issued, info: &TicketInfo) {
    let t = app.global::<TicketAdapter>();
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
    let (wait_vi, wait_en) = wait_text(issued.wait);
    t.set_wait_vi(wait_vi.into());
    t.set_wait_en(wait_en.into());
    let (pvi, pen) = info.priority.clone().unwrap_or_default();
    t.set_priority_vi(pvi.into());
    t.set_priority_en(pen.into());
    t.set_print_state(PrintState::Printing);
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

fn show_printed(app: &AppWindow, result: &Result<PrintReport, PrintError>) {
    let t = app.global::<TicketAdapter>();
    match result {
        Ok(_) => t.set_print_state(PrintState::Printed),
        Err(e) => {
            let (vi, en) = e.status().describe_vi_en();
            t.set_fault_vi(SharedString::from(vi));
            t.set_fault_en(SharedString::from(en));
            t.set_print_state(PrintState::Fault);
        }
    }
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
    let req = IssueRequest {
        service_id,
        priority_group: group.filter(|g| !g.is_empty()),
        channel: Channel::Kiosk,
        field: choice.borrow().field.clone(),
        citizen_id: None,
    };
    let weak = app.as_weak();
    let kiosk = kiosk.clone();
    let rt = kiosk.runtime.clone();
    rt.spawn(async move {
        let issued = kiosk.hub.issue_ticket(req).await;
        kiosk.issuing.store(false, Ordering::SeqCst);
        let issued = match issued {
            Ok(i) => i,
            Err(e) => {
                let (vi, en) = refusal(&e);
                let _ = weak.upgrade_in_event_loop(move |app| {
                    let k = app.global::<KioskAdapter>();
                    k.set_notice_vi(vi.into());
                    k.set_notice_en(en.into());
                    k.set_page(Page::Services);
                    app.global::<ServicesAdapter>().set_busy(false);
                });
                return;
            }
        };
        let info = crate::printer::ticket_info(&kiosk.config, &issued);
        {
            let (issued, info, kiosk) = (issued.clone(), info.clone(), kiosk.clone());
            let _ =
                weak.upgrade_in_event_loop(move |app| show_issued(&app, &kiosk, &issued, &info));
        }
        let result = kiosk.printer.print(info).await;
        let (kind, detail) = crate::printer::print_event(&result, kiosk.printer.describe());
        if let Err(e) = kiosk
            .hub
            .record_device_event(kind, Some(issued.ticket.clone()), detail)
            .await
        {
            eprintln!("recording {kind} for {}: {e}", issued.ticket.code);
        }
        let _ = weak.upgrade_in_event_loop(move |app| show_printed(&app, &result));
    });
}

pub fn connect(app: &AppWindow, kiosk: &Kiosk, choice: &Rc<RefCell<Choice>>) {
    {
        let weak = app.as_weak();
        let kiosk = kiosk.clone();
        let choice = Rc::clone(choice);
        app.global::<PriorityAdapter>().on_issue(move |group| {
            if let Some(app) = weak.upgrade() {
                issue(&app, &kiosk, &choice, Some(group.to_string()));
            }
        });
    }
    {
        let weak = app.as_weak();
        let choice = Rc::clone(choice);
        app.global::<TicketAdapter>().on_done(move || {
            if let Some(app) = weak.upgrade() {
                kiosk_adapter::go_home(&app, &choice);
            }
        });
    }
}

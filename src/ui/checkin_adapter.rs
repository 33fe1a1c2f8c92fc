//! CheckinAdapter: "Tôi đã đặt số trực tuyến". A booking code typed on the keypad or scanned,
//! or an identity card scanned, is checked in at the hub (`QueueService::check_in`); a booked
//! ticket goes the ticket page's way (`ticket_adapter::present`), anything else is said on
//! this page. Scans arrive here from the serial scanner's thread and from a keyboard-mode
//! scanner typing into the window, wherever the citizen is: a dossier receipt opens the
//! dossier lookup, a booking or a card the check-in.

use std::cell::RefCell;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use slint::{ComponentHandle, SharedString};

use super::{
    AppWindow, CheckinAdapter, Choice, DossierAdapter, Kiosk, KioskAdapter, Page, dossier_adapter,
    services_adapter, ticket_adapter, wording,
};
use crate::domain::Scan;
use crate::hub::{CheckIn, CheckInKey};
use crate::scanner::ScanResult;

const CODE_DIGITS: usize = crate::domain::booking::BOOKING_CODE_DIGITS;

fn say(app: &AppWindow, state: i32, vi: String, en: String) {
    let a = app.global::<CheckinAdapter>();
    a.set_state(state);
    a.set_message_vi(vi.into());
    a.set_message_en(en.into());
}

fn local(kiosk: &Kiosk, t: DateTime<Utc>, fmt: &str) -> String {
    t.with_timezone(&kiosk.config.site.timezone)
        .format(fmt)
        .to_string()
}

/// Empty code and page, for the next citizen.
pub fn reset(app: &AppWindow) {
    let a = app.global::<CheckinAdapter>();
    a.set_code(SharedString::new());
    a.set_state(0);
}

/// Check in with `key`; `age` is the card holder's age when a card was scanned.
fn check_in(
    app: &AppWindow,
    kiosk: &Kiosk,
    choice: &Rc<RefCell<Choice>>,
    key: CheckInKey,
    age: Option<u32>,
) {
    let a = app.global::<CheckinAdapter>();
    if a.get_state() == 1 {
        return; // one check-in at a time, however many scans arrive meanwhile
    }
    a.set_state(1);
    app.global::<KioskAdapter>().set_page(Page::Checkin);
    if let CheckInKey::Card(id) = &key {
        choice.borrow_mut().citizen_id = Some(id.clone());
    }
    let by_card = matches!(key, CheckInKey::Card(_));
    let weak = app.as_weak();
    let kiosk = kiosk.clone();
    let rt = kiosk.runtime.clone();
    rt.spawn(async move {
        let outcome = kiosk.hub.check_in(key, None).await;
        let note = match &outcome {
            Ok(CheckIn::Booked { issued }) => issued.ticket.booked.as_ref().map(|b| {
                let slot = format!(
                    "{}–{}",
                    local(&kiosk, b.slot_start, "%H:%M"),
                    local(&kiosk, b.slot_end, "%H:%M")
                );
                (
                    format!("Số đặt trước trực tuyến · khung giờ {slot}"),
                    format!("Booked online · slot {slot}"),
                )
            }),
            Ok(CheckIn::Late { slot_start, .. }) => {
                let at = local(&kiosk, *slot_start, "%H:%M");
                Some((
                    format!("Bạn đến muộn so với giờ đã đặt ({at}), nên đây là số thường, xếp theo giờ đến."),
                    format!("You came after your booked time ({at}), so this is a normal number, in arrival order."),
                ))
            }
            _ => None,
        };
        match outcome {
            Ok(CheckIn::Booked { issued }) | Ok(CheckIn::Late { issued, .. }) => {
                let info = crate::ticketing::ticket_info(
                    &kiosk.config,
                    &issued.ticket,
                    issued.people_ahead,
                    issued.wait,
                );
                let _ = weak.upgrade_in_event_loop(|app| reset(&app));
                let new = crate::ticketing::NewTicket { issued, info };
                ticket_adapter::present(weak, &kiosk, new, note.unwrap_or_default()).await;
            }
            Ok(other) => {
                let _ = weak.upgrade_in_event_loop(move |app| {
                    show_no_ticket(&app, &kiosk, &other, by_card, age);
                });
            }
            Err(e) => {
                let (vi, en) = wording::refusal_of(&e, &kiosk.config);
                let _ = weak.upgrade_in_event_loop(move |app| say(&app, 3, vi, en));
            }
        }
    });
}

/// Say why a check-in gave no ticket; an elderly card holder with no booking is offered a
/// priority number (`[scanner] elderly_age`, `elderly_group`), which they confirm with a tap.
pub(crate) fn show_no_ticket(
    app: &AppWindow,
    kiosk: &Kiosk,
    outcome: &CheckIn,
    by_card: bool,
    age: Option<u32>,
) {
    let (vi, en) = describe(kiosk, outcome, by_card);
    let offer = match (outcome, age, &kiosk.config.scanner.elderly_group) {
        (CheckIn::NotFound, Some(age), Some(group)) if age >= kiosk.config.scanner.elderly_age => {
            kiosk.config.priority_group(group).map(|g| {
                (
                    format!("Lấy số ưu tiên: {} ({age} tuổi)", g.name.vi),
                    format!("Take a priority number: {} (aged {age})", g.name.en),
                )
            })
        }
        _ => None,
    };
    let a = app.global::<CheckinAdapter>();
    app.global::<KioskAdapter>().set_page(Page::Checkin);
    match offer {
        Some((ovi, oen)) => {
            a.set_offer_vi(ovi.into());
            a.set_offer_en(oen.into());
            say(app, 4, vi, en);
        }
        None => say(app, 3, vi, en),
    }
}

/// What a check-in that gave no ticket says.
fn describe(kiosk: &Kiosk, outcome: &CheckIn, by_card: bool) -> (String, String) {
    let slot = |a: &DateTime<Utc>, b: &DateTime<Utc>| {
        format!(
            "{}–{}",
            local(kiosk, *a, "%H:%M"),
            local(kiosk, *b, "%H:%M")
        )
    };
    match outcome {
        CheckIn::TooEarly {
            slot_start,
            slot_end,
            opens_at,
        } => {
            let (s, from) = (slot(slot_start, slot_end), local(kiosk, *opens_at, "%H:%M"));
            (
                format!("Bạn đã đặt khung giờ {s} hôm nay. Chưa đến giờ lấy số: mời bạn quay lại máy này từ {from}."),
                format!("You booked the {s} slot today. It is too early to check in: please come back to this kiosk from {from}."),
            )
        }
        CheckIn::OtherDay {
            day,
            slot_start,
            slot_end,
        } => {
            let (s, d) = (slot(slot_start, slot_end), day.format("%d/%m/%Y"));
            (
                format!("Lịch đặt của bạn là ngày {d}, khung giờ {s}, không phải hôm nay. Mời bạn đến đúng ngày đã đặt, hoặc lấy số thường."),
                format!("Your booking is for {d}, slot {s}, not today. Please come on that day, or take a normal number."),
            )
        }
        CheckIn::AlreadyCheckedIn { ticket } => (
            format!("Lịch đặt này đã được lấy số {ticket}. Mỗi lịch chỉ lấy một số; nếu mất phiếu, hãy hỏi cán bộ tại quầy."),
            format!("This booking already has its number, {ticket}. Each booking gives one number; if you lost the ticket, ask the staff."),
        ),
        CheckIn::Cancelled => (
            "Lịch đặt này đã bị huỷ. Mời bạn lấy số thường.".into(),
            "This booking was cancelled. Please take a normal number.".into(),
        ),
        CheckIn::ServiceGone { .. } => (
            "Dịch vụ bạn đã đặt không còn ở điểm phục vụ này. Mời bạn hỏi cán bộ hướng dẫn.".into(),
            "The service you booked is no longer offered here. Please ask the staff.".into(),
        ),
        CheckIn::NotFound if by_card => (
            "Không tìm thấy lịch đặt hôm nay cho thẻ căn cước này tại điểm phục vụ này.".into(),
            "No booking today for this identity card at this service point.".into(),
        ),
        _ => (
            "Không tìm thấy số đặt trước có mã này tại điểm phục vụ này. Hãy kiểm tra lại mã trên điện thoại, hoặc lấy số thường.".into(),
            "No booking with this code at this service point. Check the code on your phone, or take a normal number.".into(),
        ),
    }
}

/// A scan, from the serial scanner or a keyboard-mode one (UI thread).
pub fn on_scan(app: &AppWindow, kiosk: &Kiosk, choice: &Rc<RefCell<Choice>>, scan: ScanResult) {
    app.global::<KioskAdapter>().invoke_activity();
    let page = app.global::<KioskAdapter>().get_page();
    if page == Page::Ticket {
        return; // the ticket on screen is someone's; the next scan waits for the next session
    }
    match scan {
        Ok(Scan::Booking(code)) => {
            app.global::<CheckinAdapter>()
                .set_code(crate::domain::display_booking_code(&code).into());
            check_in(app, kiosk, choice, CheckInKey::Code(code), None);
        }
        Ok(Scan::IdCard(card)) => {
            let today = crate::domain::service_day(
                Utc::now(),
                kiosk.config.site.timezone,
                kiosk.config.site.reset_hour,
            );
            let age = card.age_on(today);
            check_in(app, kiosk, choice, CheckInKey::Card(card.id), Some(age));
        }
        Ok(Scan::Ticket { code, day, site }) => {
            let today = crate::domain::service_day(
                Utc::now(),
                kiosk.config.site.timezone,
                kiosk.config.site.reset_hour,
            );
            let here = site.is_none_or(|s| s == kiosk.config.site.path());
            if here && day == today {
                super::rate_adapter::open(app, kiosk, code);
            } else {
                say(
                    app,
                    3,
                    "Phiếu này không phải của điểm phục vụ này hôm nay.".into(),
                    "This ticket is not from this service point today.".into(),
                );
                app.global::<KioskAdapter>().set_page(Page::Checkin);
            }
        }
        Ok(Scan::Dossier(code)) => {
            app.global::<DossierAdapter>().set_code(code.into());
            app.global::<KioskAdapter>().set_page(Page::Dossier);
            dossier_adapter::lookup(app, kiosk);
        }
        Err(refused) => {
            let (vi, en) = refused.describe_vi_en();
            app.global::<KioskAdapter>().set_page(Page::Checkin);
            say(app, 3, vi, en);
        }
    }
}

thread_local! {
    /// What a keyboard-mode scanner has typed so far, and when its last key came.
    static WEDGE: RefCell<(String, Option<std::time::Instant>, bool)> =
        const { RefCell::new((String::new(), None, false)) };
}

/// A scan ends with Enter; keys more than a second apart are a person, not a scanner.
fn wedge_key(text: &str) -> Option<ScanResult> {
    WEDGE.with(|w| {
        let mut w = w.borrow_mut();
        let now = std::time::Instant::now();
        if w.1
            .is_some_and(|t| now.duration_since(t) > std::time::Duration::from_secs(1))
        {
            w.0.clear();
            w.2 = false;
        }
        w.1 = Some(now);
        if text == "\n" || text == "\r" {
            let (buf, tainted) = (std::mem::take(&mut w.0), std::mem::take(&mut w.2));
            if tainted {
                return Some(Err(crate::domain::ScanRefused::NotUtf8));
            }
            return (!buf.is_empty()).then(|| crate::domain::scan::classify(&buf));
        }
        for c in text.chars() {
            if c.is_ascii_graphic() || c == ' ' {
                if w.0.len() < crate::domain::scan::MAX_SCAN_BYTES {
                    w.0.push(c);
                }
            } else {
                // A keyboard-mode scanner cannot type Vietnamese: such a scan is refused whole.
                w.2 = true;
            }
        }
        None
    })
}

/// Connect the page's callbacks and start the serial scanner, if one is configured.
pub fn connect(
    app: &AppWindow,
    kiosk: &Kiosk,
    choice: &Rc<RefCell<Choice>>,
) -> Option<crate::scanner::ScannerReader> {
    let a = app.global::<CheckinAdapter>();
    {
        let weak = app.as_weak();
        a.on_digit(move |d| {
            let Some(app) = weak.upgrade() else { return };
            let a = app.global::<CheckinAdapter>();
            let mut digits: String = a.get_code().chars().filter(char::is_ascii_digit).collect();
            for c in d.chars().filter(char::is_ascii_digit) {
                if digits.len() < CODE_DIGITS {
                    digits.push(c);
                }
            }
            a.set_code(crate::domain::display_booking_code(&digits).into());
            if a.get_state() >= 3 {
                a.set_state(0);
            }
        });
    }
    {
        let weak = app.as_weak();
        a.on_backspace(move || {
            let Some(app) = weak.upgrade() else { return };
            let a = app.global::<CheckinAdapter>();
            let mut digits: String = a.get_code().chars().filter(char::is_ascii_digit).collect();
            digits.pop();
            a.set_code(crate::domain::display_booking_code(&digits).into());
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
        let (weak, kiosk, choice) = (app.as_weak(), kiosk.clone(), Rc::clone(choice));
        a.on_check(move || {
            let Some(app) = weak.upgrade() else { return };
            let typed = app.global::<CheckinAdapter>().get_code().to_string();
            match crate::domain::parse_booking_code(&typed) {
                Ok(code) => check_in(&app, &kiosk, &choice, CheckInKey::Code(code), None),
                Err(e) => {
                    let (vi, en) = e.describe_vi_en();
                    say(&app, 3, vi, en);
                }
            }
        });
    }
    {
        let (weak, kiosk, choice) = (app.as_weak(), kiosk.clone(), Rc::clone(choice));
        a.on_take_offer(move || {
            let Some(app) = weak.upgrade() else { return };
            if let Some(g) = kiosk.config.scanner.elderly_group.clone() {
                reset(&app);
                services_adapter::group_chosen(&app, &kiosk, &choice, &g);
            }
        });
    }
    {
        let weak = app.as_weak();
        a.on_walk_in(move || {
            let Some(app) = weak.upgrade() else { return };
            reset(&app);
            app.global::<KioskAdapter>().set_page(Page::Welcome);
        });
    }
    {
        let (weak, kiosk, choice) = (app.as_weak(), kiosk.clone(), Rc::clone(choice));
        app.global::<KioskAdapter>().on_wedge_key(move |text| {
            let Some(app) = weak.upgrade() else { return };
            if let Some(scan) = wedge_key(&text) {
                tracing::info!(
                    kind = crate::scanner::describe(&scan),
                    "scan (keyboard mode)"
                );
                on_scan(&app, &kiosk, &choice, scan);
            }
        });
    }
    // The choice lives on the UI thread; scans from the reader thread find it there.
    CHOICE.with(|c| *c.borrow_mut() = Some(Rc::clone(choice)));
    let (weak, on_thread) = (app.as_weak(), kiosk.clone());
    crate::scanner::start(&kiosk.config.scanner, move |scan| {
        let kiosk = on_thread.clone();
        let _ = weak.upgrade_in_event_loop(move |app| {
            CHOICE.with(|c| {
                if let Some(choice) = c.borrow().as_ref() {
                    on_scan(&app, &kiosk, choice, scan);
                }
            });
        });
    })
}

thread_local! {
    /// The session's choice, for scans that arrive from the scanner's thread.
    static CHOICE: RefCell<Option<Rc<RefCell<Choice>>>> = const { RefCell::new(None) };
}

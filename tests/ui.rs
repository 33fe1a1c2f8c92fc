//! The touchscreen, driven headless through Slint's testing backend with mock time: the real
//! hub, store and (spool) printer behind it. One #[test] because the backend can be set up once
//! per process; each scenario is a function, run in order.

use std::path::Path;
use std::time::{Duration, Instant};

use i_slint_backend_testing::ElementHandle;
use kiosk::config::{Config, TransportConfig};
use kiosk::ui::{
    AssistantAdapter, CheckinAdapter, DossierAdapter, HelpAdapter, Kiosk, KioskAdapter, KioskUi,
    Page, PrintState, ProceduresAdapter, ServicesAdapter, TicketAdapter,
};
use slint::{ComponentHandle, Model};

/// Run the events other threads queued for the UI thread (hub and printer results).
fn pump() {
    let _ = slint::invoke_from_event_loop(|| {
        let _ = slint::quit_event_loop();
    });
    let _ = slint::run_event_loop();
}

/// Pump until `done` holds, for at most 10 s of real time.
fn pump_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(10));
        pump();
    }
}

/// Taps so far: the flows below count theirs (a citizen's effort, measured).
static TAPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn taps_since(start: usize) -> usize {
    TAPS.load(std::sync::atomic::Ordering::SeqCst) - start
}

fn taps() -> usize {
    TAPS.load(std::sync::atomic::Ordering::SeqCst)
}

fn tap(ui: &KioskUi, label: &str) {
    TAPS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let found: Vec<ElementHandle> =
        ElementHandle::find_by_accessible_label(&ui.window, label).collect();
    assert!(
        !found.is_empty(),
        "no element labelled {label:?} on page {:?}",
        page(ui)
    );
    found[0].invoke_accessible_default_action();
}

fn page(ui: &KioskUi) -> Page {
    ui.window.global::<KioskAdapter>().get_page()
}

fn tickets(db: &Path) -> Vec<(String, Option<String>)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.prepare("SELECT code, priority_group FROM tickets ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn event_kinds(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.prepare("SELECT kind FROM events ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn spooled(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "bin"))
                .count()
        })
        .unwrap_or(0)
}

fn wait_for_tiles(ui: &KioskUi) {
    let n = ui.kiosk.config.services.len();
    pump_until("live service tiles", || {
        ui.window
            .global::<ServicesAdapter>()
            .get_tiles()
            .row_count()
            == n
    });
}

fn print_state(ui: &KioskUi) -> PrintState {
    ui.window.global::<TicketAdapter>().get_print_state()
}

/// One tap on a welcome tile is a normal ticket; a double tap is still one ticket. The ticket
/// page counts down and goes back to the start by itself.
fn normal_ticket_with_double_tap(ui: &KioskUi, db: &Path, spool: &Path) {
    wait_for_tiles(ui);
    let start = taps();
    tap(ui, "Hộ tịch");
    tap(ui, "Hộ tịch");
    pump_until("the ticket page", || page(ui) == Page::Ticket);
    pump_until("the print result", || {
        print_state(ui) != PrintState::Printing
    });
    assert_eq!(print_state(ui), PrintState::Printed);
    assert_eq!(ui.window.global::<TicketAdapter>().get_code(), "A001");
    assert_eq!(
        tickets(db),
        [("A001".to_string(), None)],
        "two taps, one ticket"
    );
    assert_eq!(taps_since(start) - 1, 1, "one tap to a normal ticket");
    println!("taps to a normal ticket: 1 (the second was the double tap)");
    assert_eq!(spooled(spool), 1, "one print job");
    pump_until("the print event", || {
        event_kinds(db).contains(&"printed".to_string())
    });
    // The next citizen must not see this number for long.
    let t = ui.window.global::<TicketAdapter>();
    assert_eq!(t.get_seconds_left(), 12);
    for _ in 0..11 {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
        pump();
    }
    assert_eq!(page(ui), Page::Ticket, "11 s: still showing the number");
    assert_eq!(t.get_seconds_left(), 1);
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    pump();
    assert_eq!(page(ui), Page::Welcome, "12 s: back to the start");
}

/// Idle: a warning with a countdown first (a touch keeps the session), then the welcome page
/// in Vietnamese.
fn idle_returns_to_welcome(ui: &KioskUi) {
    tap(ui, "Tra cứu thủ tục");
    tap(ui, "English");
    let k = ui.window.global::<KioskAdapter>();
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(49));
    pump();
    assert_eq!(k.get_idle_warning(), 0, "49 s: no warning yet");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(2));
    pump();
    assert_eq!(k.get_idle_warning(), 10, "the last 10 s are counted down");
    tap(ui, "Touch to continue"); // in English: the citizen switched
    assert_eq!(k.get_idle_warning(), 0, "a touch keeps the session");
    assert_eq!(page(ui), Page::Procedures);
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(51));
    pump();
    assert_eq!(k.get_idle_warning(), 10);
    for _ in 0..9 {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
        pump();
    }
    assert_eq!(page(ui), Page::Procedures, "1 s left");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    pump();
    assert_eq!(page(ui), Page::Welcome);
    assert_eq!(k.get_language(), "vi");
    assert_eq!(k.get_idle_warning(), 0);
}

/// A printer out of paper: the ticket is issued and kept, the screen shows the fallback.
fn printer_fault_shows_the_number_and_qr(ui: &KioskUi, db: &Path, spool: &Path) {
    std::fs::write(spool.join("status"), "paper_out").unwrap();
    wait_for_tiles(ui);
    tap(ui, "Chứng thực");
    pump_until("the print result", || {
        page(ui) == Page::Ticket && print_state(ui) != PrintState::Printing
    });
    assert_eq!(print_state(ui), PrintState::Fault);
    let t = ui.window.global::<TicketAdapter>();
    assert_eq!(t.get_code(), "B001");
    assert_eq!(t.get_fault_vi(), "Máy in hết giấy");
    assert_eq!(t.get_seconds_left(), 45, "time to photograph the QR");
    assert!(t.get_qr().size().width > 100, "a QR code is shown");
    assert!(
        ElementHandle::find_by_accessible_label(&ui.window, "Máy in hết giấy")
            .next()
            .is_some()
    );
    assert_eq!(tickets(db).len(), 2);
    assert_eq!(spooled(spool), 1, "nothing printed while out of paper");
    pump_until("the fault event", || {
        event_kinds(db).contains(&"printer_fault".to_string())
    });
    std::fs::remove_file(spool.join("status")).unwrap();
    tap(ui, "Xong");
    assert_eq!(page(ui), Page::Welcome);
}

/// "Không in phiếu / No paper" on the welcome page: the next ticket is on screen only, with its
/// QR, nothing is printed, the choice is counted (`no_paper`) and ends with the session.
fn no_paper_ticket(ui: &KioskUi, db: &Path, spool: &Path) {
    wait_for_tiles(ui);
    let k = ui.window.global::<KioskAdapter>();
    let printed = spooled(spool);
    let before = tickets(db).len();
    tap(ui, "Không in phiếu");
    assert!(k.get_no_paper());
    tap(ui, "Lao động, xã hội, bảo hiểm");
    pump_until("the ticket on screen", || {
        page(ui) == Page::Ticket && print_state(ui) != PrintState::Printing
    });
    assert_eq!(print_state(ui), PrintState::NoPaper);
    let t = ui.window.global::<TicketAdapter>();
    assert_eq!(t.get_code(), "E001");
    assert!(t.get_qr().size().width > 100, "the QR is on screen");
    assert_eq!(t.get_seconds_left(), 45, "time to photograph it");
    assert_eq!(tickets(db).len(), before + 1);
    pump_until("the no-paper event", || {
        event_kinds(db).contains(&"no_paper".to_string())
    });
    assert_eq!(spooled(spool), printed, "nothing printed");
    tap(ui, "Xong");
    assert_eq!(page(ui), Page::Welcome);
    assert!(!k.get_no_paper(), "the next citizen gets paper again");
}

/// Priority from the welcome page: the priority button, the group, the service: three taps.
/// "Back" on the way leaves the path with nothing chosen.
fn priority_ticket(ui: &KioskUi, db: &Path, speech: &Path) {
    wait_for_tiles(ui);
    tap(ui, "Lấy số ưu tiên");
    assert_eq!(page(ui), Page::Priority);
    tap(ui, "Quay lại");
    assert_eq!(page(ui), Page::Welcome);
    let start = taps();
    tap(ui, "Lấy số ưu tiên");
    tap(ui, "Người cao tuổi");
    assert_eq!(page(ui), Page::Services);
    tap(ui, "Đất đai, xây dựng");
    pump_until("the priority ticket", || {
        page(ui) == Page::Ticket && print_state(ui) == PrintState::Printed
    });
    assert_eq!(
        ui.window.global::<TicketAdapter>().get_priority_vi(),
        "Người cao tuổi"
    );
    assert_eq!(
        tickets(db).last().unwrap(),
        &("D001".to_string(), Some("elderly".to_string()))
    );
    assert_eq!(taps_since(start), 3, "three taps to a priority ticket");
    println!("taps to a priority ticket: 3");
    read_aloud_says_the_ticket(ui, speech);
    tap(ui, "Xong");
}

/// "Đọc to" reads the ticket page in Vietnamese with espeak-ng (into a WAV file here), and the
/// chip shows it is reading until the voice ends.
fn read_aloud_says_the_ticket(ui: &KioskUi, speech: &Path) {
    let k = ui.window.global::<KioskAdapter>();
    tap(ui, "Đọc to");
    assert!(k.get_reading(), "reading");
    let text = speech.join("0001-vi.txt");
    let wav = speech.join("0001-vi.wav");
    pump_until("espeak-ng's voice ends", || {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(300));
        !k.get_reading()
    });
    let said = std::fs::read_to_string(&text).unwrap();
    assert!(
        said.starts_with("Số thứ tự của bạn là D, một. Đất đai, xây dựng. Quầy phục vụ"),
        "{said}"
    );
    let audio = std::fs::read(&wav).unwrap();
    assert_eq!(&audio[..4], b"RIFF", "a WAV file");
    assert!(
        audio.len() > 50_000,
        "seconds of speech: {} bytes",
        audio.len()
    );
}

/// Search a procedure, read its detail, take a ticket for its queue.
fn procedure_to_ticket(ui: &KioskUi, db: &Path) {
    tap(ui, "Tra cứu thủ tục");
    assert_eq!(page(ui), Page::Procedures);
    let p = ui.window.global::<ProceduresAdapter>();
    // Typed on the on-screen keyboard, as on a touchscreen.
    tap(ui, "Tìm thủ tục");
    assert!(p.get_typing());
    type_keys(ui, "tamj tru");
    assert_eq!(p.get_query(), "tạm tru");
    assert_eq!(p.get_rows().row_count(), 1);
    tap(ui, "Xong");
    assert!(!p.get_typing(), "the keyboard folds away");
    tap(ui, "Đăng ký tạm trú");
    assert!(p.get_showing_detail());
    assert!(p.get_detail().documents.contains("CT01"));
    tap(ui, "Lấy số cho thủ tục này");
    assert_eq!(page(ui), Page::Priority);
    tap(ui, "Quay lại");
    assert_eq!(page(ui), Page::Procedures, "back to the procedure");
    tap(ui, "Lấy số cho thủ tục này");
    tap(ui, "Không, lấy số thường");
    pump_until("the ticket", || {
        page(ui) == Page::Ticket && print_state(ui) == PrintState::Printed
    });
    assert_eq!(tickets(db).last().unwrap().0, "C001");
    tap(ui, "Xong");
    // A new citizen finds the catalogue as new: no query, every field.
    tap(ui, "Tra cứu thủ tục");
    assert_eq!(p.get_query(), "");
    assert_eq!(p.get_rows().row_count(), ui.kiosk.catalogue.len());
    tap(ui, "‹ Trang đầu");
}

/// Type keys on the on-screen keyboard by their labels (each key is a button).
fn type_keys(ui: &KioskUi, keys: &str) {
    for k in keys.chars() {
        let label = if k == ' ' {
            "Cách".to_string()
        } else {
            k.to_string()
        };
        tap(ui, &label);
    }
}

/// The assistant: typed in Telex on the keyboard, answered with cards, a ticket from a card;
/// a tone key for those who do not know Telex; a question about the point; a suggestion chip.
fn assistant_to_ticket(ui: &KioskUi, db: &Path) {
    tap(ui, "Hỏi trợ lý ảo");
    assert_eq!(page(ui), Page::Assistant);
    let a = ui.window.global::<AssistantAdapter>();
    type_keys(ui, "ddawng kys tamj tru");
    tap(ui, "´"); // the sắc tone key instead of Telex "s"
    assert_eq!(a.get_text(), "đăng ký tạm trú");
    tap(ui, "⌫");
    assert_eq!(a.get_text(), "đăng ký tạm tru", "backspace undoes the tone");
    tap(ui, "´");
    tap(ui, "Hỏi");
    pump_until("the answer cards", || a.get_state() == 1);
    let first = a.get_cards().row_data(0).unwrap();
    assert_eq!(first.code, "1.004194", "first card: {}", first.name);
    assert!(first.documents.contains("CT01"));
    assert!(first.can_ticket);
    tap(ui, "Lấy số cho thủ tục này");
    assert_eq!(page(ui), Page::Priority);
    tap(ui, "Không, lấy số thường");
    pump_until("the ticket", || {
        page(ui) == Page::Ticket && print_state(ui) == PrintState::Printed
    });
    assert_eq!(tickets(db).last().unwrap().0, "C002");
    tap(ui, "Xong");

    // A question about the point itself: an answer, no procedure.
    tap(ui, "Hỏi trợ lý ảo");
    assert_eq!(
        a.get_text(),
        "",
        "a new citizen starts with an empty question"
    );
    type_keys(ui, "nhaf veej sinh owr ddaau");
    tap(ui, "Hỏi");
    pump_until("the FAQ answer", || a.get_state() == 2);
    assert!(a.get_answer_vi().contains("vệ sinh"));
    // Out of scope: not sure, ask staff.
    tap(ui, "Xóa");
    type_keys(ui, "ket qua xo so hom qua");
    tap(ui, "Hỏi");
    pump_until("the not-sure answer", || a.get_state() == 3);
    // A suggestion chip asks at once; "Details" opens the procedure page.
    tap(ui, "xin giấy xác nhận độc thân");
    pump_until("the chip's answer", || a.get_state() == 1);
    assert_eq!(a.get_cards().row_data(0).unwrap().code, "1.004873");
    tap(ui, "Xem chi tiết");
    assert_eq!(page(ui), Page::Procedures);
    assert!(ui.window.global::<ProceduresAdapter>().get_showing_detail());
    tap(ui, "‹ Trang đầu");
}

/// Guides open, and the language switch changes the words on screen; "Home" keeps the
/// citizen's language and text size (only the end of a session resets them).
fn help_and_language(ui: &KioskUi) {
    tap(ui, "English");
    assert!(
        ElementHandle::find_by_accessible_label(&ui.window, "Priority number")
            .next()
            .is_some()
    );
    tap(ui, "Digital-citizen guides");
    assert_eq!(page(ui), Page::Help);
    tap(ui, "Activate a level-2 electronic ID account (VNeID)");
    let h = ui.window.global::<HelpAdapter>();
    assert!(h.get_showing_guide());
    assert!(h.get_steps_en().row_count() >= 4);
    tap(ui, "Large text");
    tap(ui, "‹ Home");
    assert_eq!(page(ui), Page::Welcome);
    assert_eq!(ui.window.global::<KioskAdapter>().get_language(), "en");
    assert!(ui.window.global::<kiosk::ui::Theme>().get_large_text());
    assert!(
        ElementHandle::find_by_accessible_label(&ui.window, "Lấy số ưu tiên")
            .next()
            .is_none(),
        "still in English"
    );
}

/// The layout checker finds each kind of defect on a page built of them, and nothing on the
/// layouts beside them that are right.
fn layout_check_finds_each_defect() {
    use kiosk::ui::layout_check::{ProblemKind, check};
    let probe = kiosk::ui::LayoutProbe::new().unwrap();
    probe.show().unwrap();
    let found = check(probe.window());
    let mut got: Vec<(ProblemKind, String)> =
        found.iter().map(|p| (p.kind, p.text.clone())).collect();
    got.sort_by_key(|(k, t)| (format!("{k:?}"), t.clone()));
    let mut want = vec![
        (
            ProblemKind::TextCut,
            "cut: chứng thực bản sao từ bản chính".to_string(),
        ),
        (ProblemKind::TextTooWide, "too-wide-unbroken".to_string()),
        (ProblemKind::SpillsOutOfBox, "spills".to_string()),
        (ProblemKind::TextsOverlap, "first".to_string()),
        (ProblemKind::BoxesOverlap, "(a box)".to_string()),
        (ProblemKind::OffScreen, "offscreen".to_string()),
        (ProblemKind::Unlabelled, String::new()),
    ];
    want.sort_by_key(|(k, t)| (format!("{k:?}"), t.clone()));
    assert_eq!(got, want, "{found:#?}");
    probe.hide().unwrap();
}

/// "Tra cứu hồ sơ" against a real receiver on 127.0.0.1: a malformed code is named, a ready
/// dossier offers a ticket for the general queue, an unknown code says so, and with the
/// receiver gone the kiosk says it cannot ask and gives the hotline.
fn dossier_lookup(ui: &KioskUi, db: &Path, stop_centre: tokio::sync::oneshot::Sender<()>) {
    let d = ui.window.global::<DossierAdapter>();
    tap(ui, "Tra cứu hồ sơ");
    assert_eq!(page(ui), Page::Dossier);
    type_keys(ui, "000.a0.01.h26-261345-0012");
    assert_eq!(d.get_code(), "000.A0.01.H26-261345-0012");
    tap(ui, "Tra cứu");
    assert_eq!(d.get_state(), 5, "malformed");
    assert!(
        d.get_message_vi().contains("261345"),
        "{}",
        d.get_message_vi()
    );
    tap(ui, "Xóa");
    type_keys(ui, "000.a0.01.h26-261125-0012");
    tap(ui, "Tra cứu");
    pump_until("the receiver's answer", || d.get_state() != 1);
    assert_eq!(d.get_state(), 2, "{}", d.get_message_en());
    assert!(d.get_ready());
    assert_eq!(d.get_procedure(), "Đăng ký khai sinh");
    tap(ui, "Lấy số nhận kết quả");
    assert_eq!(page(ui), Page::Priority);
    tap(ui, "Không, lấy số thường");
    pump_until("the result-return ticket", || {
        page(ui) == Page::Ticket && print_state(ui) == PrintState::Printed
    });
    assert_eq!(tickets(db).last().unwrap().0, "G001", "the general queue");
    tap(ui, "Xong");

    tap(ui, "Tra cứu hồ sơ");
    assert_eq!(d.get_code(), "", "a new citizen starts with an empty code");
    type_keys(ui, "000.a0.01.h26-261125-0099");
    tap(ui, "Tra cứu");
    pump_until("the receiver's answer", || d.get_state() != 1);
    assert_eq!(d.get_state(), 3, "unknown");

    let _ = stop_centre.send(());
    std::thread::sleep(Duration::from_millis(300));
    tap(ui, "Tra cứu");
    pump_until("the lookup gives up", || d.get_state() != 1);
    assert_eq!(d.get_state(), 4, "offline");
    assert!(d.get_message_vi().contains("024.1022"));
    tap(ui, "‹ Trang đầu");
}

/// Invented people, in the card's real QR layout (see `domain::scan`).
const ELDER_CARD: &str =
    "001150012345|012345678|Nguyễn Văn Cao|15031950|Nam|Số 5 ngõ 12, Phúc Xá, Hà Nội|20042021";

/// A booking made on the centre (its `/api/v1/bookings`), pulled into the hub, checked in by a
/// scan from a fake scanner on a pseudo-terminal: a ticket marked as booked, printed. The same
/// code again gives no second ticket; malformed scans are refused on screen with nothing
/// stored; an elderly citizen's card with no booking is offered priority, and a code typed by
/// a keyboard-mode scanner is read too.
fn booked_check_in_by_scanner(
    ui: &KioskUi,
    db: &Path,
    spool: &Path,
    centre: &str,
    point_config: &Config,
    scanner: &mut serialport::TTYPort,
) {
    use std::io::Write;
    let kiosk = &ui.kiosk;
    let config = std::sync::Arc::new(point_config.clone());
    let puller = kiosk::report::bookings::Puller::new(std::sync::Arc::clone(&config))
        .unwrap()
        .expect("a point with a centre pulls");
    let today = kiosk::domain::service_day(chrono::Utc::now(), config.site.timezone, 0);
    let rt = kiosk.runtime.clone();
    // Announce the point's services, book the first slot with room, pull it into the hub.
    rt.block_on(puller.pull(today)).unwrap();
    let base = format!("http://{centre}");
    let booked: serde_json::Value = rt.block_on(async {
        let mut day = today;
        for _ in 0..2 {
            let slots: serde_json::Value = reqwest::get(format!(
                "{base}/api/v1/booking/slots?point=hn.ttpvhcc%2Fcn-07%2Fdemo&service=ho-tich&day={day}"
            ))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
            if let Some(slot) = slots["slots"].as_array().and_then(|s| s.first()) {
                let body = serde_json::json!({ "point": "hn.ttpvhcc/cn-07/demo", "service": "ho-tich",
                    "day": day, "slot": slot["start"], "citizen_id": "079202001234" });
                return reqwest::Client::new()
                    .post(format!("{base}/api/v1/bookings"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
            }
            day += chrono::Duration::days(1);
        }
        panic!("no slot today or tomorrow");
    });
    let code = booked["code"].as_str().unwrap().to_string();
    let answer = rt.block_on(puller.pull(today)).unwrap();
    let list: Vec<_> = answer.bookings.iter().map(|b| b.stored()).collect();
    rt.block_on(
        kiosk
            .hub
            .sync_bookings(today, today + chrono::Duration::days(6), list),
    )
    .unwrap();
    let for_today = booked["day"].as_str() == Some(&today.to_string());

    let before = tickets(db).len();
    let printed = spooled(spool);
    scanner
        .write_all(format!("{}\r", booked["qr_text"].as_str().unwrap()).as_bytes())
        .unwrap();
    let c = ui.window.global::<CheckinAdapter>();
    if for_today {
        pump_until("the booked ticket is printed", || {
            page(ui) == Page::Ticket && print_state(ui) == PrintState::Printed
        });
        assert_eq!(tickets(db).len(), before + 1);
        assert_eq!(spooled(spool), printed + 1);
        let note = ui.window.global::<TicketAdapter>().get_note_vi();
        assert!(note.contains("Số đặt trước"), "{note}");
        let conn = rusqlite::Connection::open(db).unwrap();
        let (channel, booking): (String, String) = conn
            .query_row(
                "SELECT channel, booking_code FROM tickets ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            (channel.as_str(), booking.as_str()),
            ("online", code.as_str())
        );
        // A scan while a ticket is on screen belongs to nobody: ignored.
        tap(ui, "Xong");
        // The same booking again: told it has its number, no second ticket.
        scanner
            .write_all(format!("HNBOOK:{code}\r").as_bytes())
            .unwrap();
        pump_until("already checked in", || c.get_state() == 3);
        assert!(
            c.get_message_vi().contains("đã được lấy số"),
            "{}",
            c.get_message_vi()
        );
    } else {
        pump_until("told to come on the booked day", || c.get_state() == 3);
        assert!(c.get_message_vi().contains("không phải hôm nay"));
    }
    let after_booking = tickets(db).len();

    // Malformed scans: a message on screen each, nothing issued.
    let truncated = &ELDER_CARD[..ELDER_CARD.find("|Nam").unwrap()];
    let mut bad: Vec<Vec<u8>> = vec![
        truncated.as_bytes().to_vec(),
        ELDER_CARD.replace('|', ";").into_bytes(),
        ELDER_CARD
            .replacen("001150012345", "00115001234", 1)
            .into_bytes(),
        ELDER_CARD
            .replacen("001150012345", "0011500123456", 1)
            .into_bytes(),
        b"HNBOOK:1234567890".to_vec(),
    ];
    let mut not_utf8 = ELDER_CARD.as_bytes().to_vec();
    not_utf8[30] = 0xff;
    bad.push(not_utf8);
    for payload in bad {
        c.set_state(0);
        scanner.write_all(&payload).unwrap();
        scanner.write_all(b"\r").unwrap();
        pump_until("the scan is refused on screen", || c.get_state() == 3);
        assert_eq!(page(ui), Page::Checkin);
        assert!(!c.get_message_vi().is_empty());
    }
    assert_eq!(
        tickets(db).len(),
        after_booking,
        "no ticket from a bad scan"
    );

    // A dossier receipt's QR opens the dossier lookup with its code.
    scanner.write_all(b"000.A0.01.H26-261125-0099\r").unwrap();
    pump_until("the dossier page", || page(ui) == Page::Dossier);
    assert_eq!(
        ui.window.global::<DossierAdapter>().get_code(),
        "000.A0.01.H26-261125-0099"
    );
    tap(ui, "‹ Trang đầu");

    // An elderly citizen's card, no booking: the priority offer; confirmed, their ticket is a
    // priority one and counts for the quota (only a keyed hash is kept).
    scanner
        .write_all(format!("{ELDER_CARD}\r").as_bytes())
        .unwrap();
    pump_until("the priority offer", || c.get_state() == 4);
    assert!(
        c.get_offer_vi().contains("Người cao tuổi"),
        "{}",
        c.get_offer_vi()
    );
    tap(ui, &c.get_offer_vi());
    assert_eq!(page(ui), Page::Services);
    tap(ui, "Hộ tịch");
    pump_until("the priority ticket", || {
        page(ui) == Page::Ticket && print_state(ui) == PrintState::Printed
    });
    assert_eq!(tickets(db).last().unwrap().1.as_deref(), Some("elderly"));
    tap(ui, "Xong");
    // The same card again for the same queue: the quota names the ticket already held.
    scanner
        .write_all(format!("{ELDER_CARD}\r").as_bytes())
        .unwrap();
    pump_until("the priority offer", || c.get_state() == 4);
    tap(ui, &c.get_offer_vi());
    tap(ui, "Hộ tịch");
    pump_until("the quota refusal", || {
        !ui.window
            .global::<KioskAdapter>()
            .get_notice_vi()
            .is_empty()
    });
    let held = tickets(db).last().unwrap().0.clone();
    let notice = ui.window.global::<KioskAdapter>().get_notice_vi();
    assert!(
        notice.contains(&format!("Bạn đang giữ: {held}")),
        "{notice}"
    );
    tap(ui, "‹ Trang đầu");

    // Nothing of the card but a keyed hash is stored: no name, birth date, address or id.
    let mut text = String::new();
    for f in ["kiosk.sqlite", "kiosk.sqlite-wal"] {
        text.push_str(&String::from_utf8_lossy(
            &std::fs::read(db.with_file_name(f)).unwrap_or_default(),
        ));
    }
    for secret in [
        "Nguyễn Văn Cao",
        "15031950",
        "Phúc Xá",
        "001150012345",
        "012345678",
        "079202001234",
    ] {
        assert!(!text.contains(secret), "{secret} is stored");
    }

    // A keyboard-mode scanner types a code and Enter into the window.
    let unknown = kiosk::domain::booking::make_booking_code([5, 5, 5, 1, 2, 3, 4, 5, 6]);
    c.set_state(0);
    for ch in format!("HNBOOK:{unknown}\n").chars() {
        ui.window
            .window()
            .dispatch_event(slint::platform::WindowEvent::KeyPressed { text: ch.into() });
        ui.window
            .window()
            .dispatch_event(slint::platform::WindowEvent::KeyReleased { text: ch.into() });
    }
    pump_until("the typed code is looked up", || c.get_state() == 3);
    assert!(
        c.get_message_vi().contains("Không tìm thấy"),
        "{}",
        c.get_message_vi()
    );
    tap(ui, "‹ Trang đầu");
}

/// After the counter, the citizen scans their ticket's QR at the kiosk and rates the service:
/// a face, a reason, sent; stored once, with no identity. A ticket still waiting is told its
/// place instead; a second rating of the same ticket is refused.
fn rate_by_ticket_qr(ui: &KioskUi, db: &Path, scanner: &mut serialport::TTYPort) {
    use kiosk::ui::RateAdapter;
    use std::io::Write;
    let kiosk = &ui.kiosk;
    let rt = kiosk.runtime.clone();
    wait_for_tiles(ui);
    tap(ui, "Hộ tịch");
    pump_until("a ticket", || {
        page(ui) == Page::Ticket && print_state(ui) == PrintState::Printed
    });
    tap(ui, "Xong");
    let code = tickets(db).last().unwrap().0.clone();
    let (ticket, _, _) = rt.block_on(kiosk.hub.lookup(&code)).unwrap();
    let template = kiosk.config.printer.qr_payload.clone().unwrap();
    let qr = kiosk::ticketing::qr_payload(&template, &kiosk.config, &ticket);
    let r = ui.window.global::<RateAdapter>();

    // Still waiting: its place, no faces.
    scanner.write_all(format!("{qr}\r").as_bytes()).unwrap();
    pump_until("the ticket's place", || r.get_state() == 4);
    assert_eq!(page(ui), Page::Rate);
    assert!(
        r.get_message_vi().contains("đang chờ"),
        "{}",
        r.get_message_vi()
    );
    tap(ui, "‹ Trang đầu");

    // Served and finished at counter 1 (whatever the counter had, settled first).
    let _ = rt.block_on(kiosk.hub.mark_no_show(1));
    let _ = rt.block_on(kiosk.hub.finish(1));
    rt.block_on(kiosk.hub.call_ticket(1, &code)).unwrap();
    rt.block_on(kiosk.hub.finish(1)).unwrap();
    scanner.write_all(format!("{qr}\r").as_bytes()).unwrap();
    pump_until("the faces", || r.get_state() == 0 && page(ui) == Page::Rate);
    tap(ui, "2: Không hài lòng");
    assert_eq!(r.get_state(), 1, "reasons at 3 or less");
    tap(ui, "Chờ quá lâu");
    tap(ui, "✓ Chờ quá lâu");
    tap(ui, "Chờ quá lâu"); // on, off, on again
    tap(ui, "Gửi đánh giá");
    pump_until("thanks", || r.get_state() == 3);
    let conn = rusqlite::Connection::open(db).unwrap();
    let (score, reasons, counter): (u8, String, u32) = conn
        .query_row(
            "SELECT score, reasons, counter FROM ratings WHERE ticket_id = ?1",
            [ticket.id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    assert_eq!((score, counter), (2, 1));
    assert!(reasons.contains("waited_too_long"), "{reasons}");
    tap(ui, "‹ Trang đầu");
    // Once per ticket.
    scanner.write_all(format!("{qr}\r").as_bytes()).unwrap();
    pump_until("the faces again", || {
        r.get_state() == 0 && page(ui) == Page::Rate
    });
    tap(ui, "5: Rất hài lòng");
    pump_until("the refusal", || r.get_state() == 4);
    assert!(
        r.get_message_vi().contains("đã được đánh giá"),
        "{}",
        r.get_message_vi()
    );
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM ratings WHERE ticket_id = ?1",
            [ticket.id],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    tap(ui, "‹ Trang đầu");
}

/// A reference receiver with its demo dossiers, served on the kiosk's runtime.
fn start_centre(kiosk: &Kiosk, dir: &Path) -> (String, tokio::sync::oneshot::Sender<()>) {
    let config = kiosk::centre::CentreConfig {
        listen: "127.0.0.1:0".into(),
        db_path: dir.join("centre.sqlite"),
        max_body_bytes: 64 * 1024,
        stale_after_seconds: 120,
        ticket_stale_after_seconds: 75,
        tls: None,
        behind_tls_proxy: false,
        trend_keep_hours: 48,
        store: None,
        point: vec![kiosk::centre::PointConfig {
            path: "hn.ttpvhcc/cn-07/demo".into(),
            token: "ui-test-point-token".into(),
        }],
        viewer: Vec::new(),
        allowed_hosts: Vec::new(),
        // Slots all day long, so a booking can be checked in whenever the test runs.
        booking: kiosk::centre::BookingRules {
            open: "00:00".into(),
            close: "23:55".into(),
            slot_minutes: 5,
            ..Default::default()
        },
    };
    let centre = std::sync::Arc::new(kiosk::centre::Centre::open(&config).unwrap());
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    kiosk.runtime.spawn(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        addr_tx.send(listener.local_addr().unwrap()).unwrap();
        let _ = kiosk::centre::serve(listener, centre, async {
            let _ = stop_rx.await;
        })
        .await;
    });
    (addr_rx.recv().unwrap().to_string(), stop_tx)
}

#[test]
fn kiosk_touch_flows() {
    i_slint_backend_testing::init_integration_test_with_mock_time();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo().unwrap();
    config.db_path = dir.path().join("kiosk.sqlite");
    let spool = dir.path().join("spool");
    config.printer.transport = TransportConfig::Spool { dir: spool.clone() };
    config.guides_dir = dir.path().join("no-such-dir"); // the built-in guides
    let db = config.db_path.clone();
    // A fake 2D scanner on the far end of a pseudo-terminal.
    let (mut scanner, scanner_port) = serialport::TTYPort::pair().expect("pseudo-terminal pair");
    config.scanner.device = Some(
        serialport::SerialPort::name(&scanner_port)
            .expect("slave path")
            .into(),
    );
    // The token the centre keys booked citizens' ids with (no url: nothing is reported).
    config.reporting.token = Some("ui-test-point-token".into());
    let mut dossier_config = config.clone();
    let (mut kiosk, running) = Kiosk::start(config).unwrap();
    let (centre, stop_centre) = start_centre(&kiosk, dir.path());
    dossier_config.reporting.url = Some(format!("http://{centre}/api/v1/reports"));
    dossier_config.reporting.token = Some("ui-test-point-token".into());
    kiosk.dossiers =
        std::sync::Arc::new(kiosk::dossier::CentreDossiers::from_config(&dossier_config));
    let speech = dir.path().join("speech");
    kiosk.speaker = kiosk::speech::Speaker::with_output(Some(speech.clone()));
    assert!(
        kiosk.speaker.is_some(),
        "espeak-ng is not installed: run scripts/setup"
    );
    let ui = KioskUi::new(kiosk).unwrap();
    ui.window.show().unwrap();
    assert_eq!(page(&ui), Page::Welcome);

    layout_check_finds_each_defect();
    normal_ticket_with_double_tap(&ui, &db, &spool);
    idle_returns_to_welcome(&ui);
    printer_fault_shows_the_number_and_qr(&ui, &db, &spool);
    no_paper_ticket(&ui, &db, &spool);
    priority_ticket(&ui, &db, &speech);
    procedure_to_ticket(&ui, &db);
    assistant_to_ticket(&ui, &db);
    booked_check_in_by_scanner(&ui, &db, &spool, &centre, &dossier_config, &mut scanner);
    rate_by_ticket_qr(&ui, &db, &mut scanner);
    dossier_lookup(&ui, &db, stop_centre);
    help_and_language(&ui);

    drop(ui);
    drop(running);
    drop(scanner_port);
}

//! RateAdapter: a citizen scans their ticket's QR at the kiosk after the counter and rates the
//! service (the same rule as the counter's tablet: `QueueService::rate`, once per ticket, within
//! `[rating] window_minutes`). A ticket still waiting is told its place instead.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, Model, ModelRc, VecModel};

use super::{AppWindow, Choice, Kiosk, KioskAdapter, Page, RateAdapter, RateReason, session};
use crate::domain::{RatingInput, RatingReason, TicketState};

/// The reasons offered at 3 or less, as on the counter's rating tablet.
const REASONS: [(RatingReason, &str, &str); 5] = [
    (
        RatingReason::WaitedTooLong,
        "Chờ quá lâu",
        "Waited too long",
    ),
    (
        RatingReason::UnclearGuidance,
        "Hướng dẫn chưa rõ",
        "Unclear guidance",
    ),
    (
        RatingReason::ExtraPapers,
        "Yêu cầu thêm giấy tờ",
        "Asked for extra papers",
    ),
    (
        RatingReason::StaffAttitude,
        "Thái độ cán bộ",
        "Staff attitude",
    ),
    (RatingReason::Other, "Lý do khác", "Other"),
];

/// Seconds the thanks stay up before the kiosk starts over.
const THANKS_SECONDS: u64 = 6;

thread_local! {
    /// The counter the ticket was served at (UI thread only).
    static COUNTER: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// The session's choice, for the end of the session after the thanks.
    static SESSION: RefCell<Option<Rc<RefCell<Choice>>>> = const { RefCell::new(None) };
}

fn say(app: &AppWindow, vi: String, en: String) {
    let a = app.global::<RateAdapter>();
    a.set_message_vi(vi.into());
    a.set_message_en(en.into());
    a.set_state(4);
    app.global::<KioskAdapter>().set_page(Page::Rate);
}

pub(crate) fn reset_reasons(app: &AppWindow) {
    let list: Vec<RateReason> = REASONS
        .iter()
        .map(|(r, vi, en)| RateReason {
            word: r.as_str().into(),
            vi: (*vi).into(),
            en: (*en).into(),
            on: false,
        })
        .collect();
    app.global::<RateAdapter>()
        .set_reasons(ModelRc::new(VecModel::from(list)));
}

/// A scanned ticket: look it up, then the faces (done), or where it stands (not yet).
pub fn open(app: &AppWindow, kiosk: &Kiosk, code: String) {
    let a = app.global::<RateAdapter>();
    a.set_code(code.clone().into());
    a.set_score(0);
    a.set_state(2);
    reset_reasons(app);
    app.global::<KioskAdapter>().set_page(Page::Rate);
    let (weak, kiosk) = (app.as_weak(), kiosk.clone());
    let rt = kiosk.runtime.clone();
    rt.spawn(async move {
        let found = kiosk.hub.lookup(&code).await;
        let _ = weak.upgrade_in_event_loop(move |app| match found {
            Ok((t, ahead, _)) => match (t.state, t.counter) {
                (TicketState::Done, Some(counter)) => {
                    let c = kiosk.config.counter(counter);
                    let a = app.global::<RateAdapter>();
                    a.set_counter_vi(c.map(|c| c.name.vi.clone()).unwrap_or_default().into());
                    a.set_counter_en(c.map(|c| c.name.en.clone()).unwrap_or_default().into());
                    COUNTER.with(|x| x.set(counter));
                    a.set_state(0);
                }
                (TicketState::Waiting, _) => say(
                    &app,
                    format!("Số {} đang chờ: trước bạn còn {ahead} người. Sau khi được phục vụ, bạn có thể quét lại phiếu để đánh giá.", t.code),
                    format!("Number {} is waiting: {ahead} ahead of you. After your service, scan the ticket again to rate it.", t.code),
                ),
                _ => say(
                    &app,
                    format!("Số {} chưa được phục vụ xong. Bạn có thể đánh giá sau khi xong.", t.code),
                    format!("Number {} is not finished yet. You can rate it once it is.", t.code),
                ),
            },
            Err(_) => say(
                &app,
                "Không có số này hôm nay tại điểm phục vụ này.".into(),
                "There is no such number here today.".into(),
            ),
        });
    });
}

fn send(app: &AppWindow, kiosk: &Kiosk) {
    let a = app.global::<RateAdapter>();
    if a.get_state() == 2 {
        return;
    }
    let score = a.get_score().clamp(1, 5) as u8;
    let reasons: Vec<RatingReason> = a
        .get_reasons()
        .iter()
        .filter(|r| r.on)
        .filter_map(|r| RatingReason::from_word(&r.word))
        .collect();
    a.set_state(2);
    let code = a.get_code().to_string();
    let counter = COUNTER.with(|c| c.get());
    let (weak, kiosk) = (app.as_weak(), kiosk.clone());
    let rt = kiosk.runtime.clone();
    rt.spawn(async move {
        let result = kiosk
            .hub
            .rate(counter, &code, RatingInput { score, reasons })
            .await;
        let _ = weak.upgrade_in_event_loop(move |app| match result {
            Ok(_) => {
                app.global::<RateAdapter>().set_state(3);
                let weak = app.as_weak();
                slint::Timer::single_shot(std::time::Duration::from_secs(THANKS_SECONDS), move || {
                    if let Some(app) = weak.upgrade()
                        && app.global::<KioskAdapter>().get_page() == Page::Rate
                    {
                        SESSION.with(|s| {
                            if let Some(choice) = s.borrow().as_ref() {
                                session::end(&app, choice);
                            }
                        });
                    }
                });
            }
            Err(e) => {
                use crate::domain::Reason;
                let (vi, en) = match e.reason() {
                    Reason::AlreadyRated => ("Số này đã được đánh giá. Mỗi số chỉ đánh giá một lần. Cảm ơn bạn!", "This number was rated already: one rating per number. Thank you!"),
                    Reason::RatingClosed => ("Đã hết thời gian đánh giá số này (trong vòng ít phút sau khi được phục vụ).", "Too late to rate this number (ratings are taken within minutes of the service)."),
                    _ => ("Chưa gửi được đánh giá. Vui lòng thử lại hoặc hỏi cán bộ.", "The rating could not be sent. Please try again or ask the staff."),
                };
                say(&app, vi.into(), en.into());
            }
        });
    });
}

pub fn connect(app: &AppWindow, kiosk: &Kiosk, choice: &Rc<RefCell<Choice>>) {
    SESSION.with(|s| *s.borrow_mut() = Some(Rc::clone(choice)));
    let a = app.global::<RateAdapter>();
    {
        let (weak, kiosk) = (app.as_weak(), kiosk.clone());
        a.on_choose(move |score| {
            let Some(app) = weak.upgrade() else { return };
            let a = app.global::<RateAdapter>();
            if a.get_state() != 0 {
                return;
            }
            a.set_score(score);
            if score <= i32::from(crate::domain::rating::REASONS_AT_MOST) {
                a.set_state(1);
            } else {
                send(&app, &kiosk);
            }
        });
    }
    {
        let weak = app.as_weak();
        a.on_toggle(move |i| {
            let Some(app) = weak.upgrade() else { return };
            let model = app.global::<RateAdapter>().get_reasons();
            if let Some(mut r) = model.row_data(i as usize) {
                r.on = !r.on;
                model.set_row_data(i as usize, r);
            }
        });
    }
    {
        let (weak, kiosk) = (app.as_weak(), kiosk.clone());
        a.on_send(move || {
            if let Some(app) = weak.upgrade() {
                send(&app, &kiosk);
            }
        });
    }
}

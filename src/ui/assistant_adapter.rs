//! AssistantAdapter: the on-screen keyboard (Telex via `assistant::compose`), suggestion chips,
//! and answers as cards. Asking runs on the async runtime; the answer comes back to the UI
//! thread with `upgrade_in_event_loop`.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::{AnswerCard, AppWindow, AssistantAdapter, Choice, Kiosk, KioskAdapter, Page};
use crate::assistant::compose::Composer;
use crate::assistant::{Answer, Hit};
use crate::catalogue::{self, Procedure};

/// How many documents a card lists before "…".
const CARD_DOCUMENTS: usize = 3;
const CARD_DOCUMENT_CHARS: usize = 140;

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{}…", cut.trim_end())
}

fn card(kiosk: &Kiosk, p: &Procedure) -> AnswerCard {
    let service = catalogue::service_for(&kiosk.config, p);
    let docs: Vec<String> = p
        .documents
        .iter()
        .filter(|d| !d.ends_with(':'))
        .take(CARD_DOCUMENTS)
        .map(|d| format!("• {}", short(d, CARD_DOCUMENT_CHARS)))
        .collect();
    let more = p.documents.len().saturating_sub(CARD_DOCUMENTS);
    let mut documents = docs.join("\n");
    if more > 0 {
        documents.push_str(&format!("\n(+{more})"));
    }
    AnswerCard {
        code: p.code.clone().into(),
        name: p.name.clone().into(),
        field: p.field.clone().into(),
        documents: documents.into(),
        fee: short(&p.fee, 120).into(),
        time: p.time.clone().into(),
        online: !p.online.is_empty(),
        service_vi: service
            .map(|s| s.name.vi.clone())
            .unwrap_or_default()
            .into(),
        service_en: service
            .map(|s| s.name.en.clone())
            .unwrap_or_default()
            .into(),
        can_ticket: service.is_some(),
    }
}

fn cards(kiosk: &Kiosk, hits: &[Hit]) -> ModelRc<AnswerCard> {
    let cards: Vec<AnswerCard> = hits
        .iter()
        .take(3)
        .filter_map(|h: &Hit| kiosk.catalogue.iter().find(|p| p.code == h.code))
        .map(|p| card(kiosk, p))
        .collect();
    ModelRc::new(VecModel::from(cards))
}

/// Show an answer (UI thread). Not sure with candidates: up to three as "Có thể bạn cần",
/// beside "Hỏi cán bộ".
pub(crate) fn show(app: &AppWindow, kiosk: &Kiosk, answer: &Answer) {
    let a = app.global::<AssistantAdapter>();
    // The answer gets the room the keyboard had.
    a.set_keyboard(false);
    match answer {
        Answer::Procedures { hits, .. } => {
            a.set_cards(cards(kiosk, hits));
            a.set_state(1);
        }
        Answer::Faq { entry } => {
            a.set_answer_vi(entry.answer_vi.clone().into());
            a.set_answer_en(entry.answer_en.clone().into());
            a.set_state(2);
        }
        Answer::NotSure { near, .. } => {
            a.set_cards(cards(kiosk, near));
            a.set_state(3);
        }
    }
}

/// An answer the citizen has not used yet: if they leave without opening details or taking a
/// ticket, it is a miss.
struct Unused {
    question: String,
    codes: Vec<String>,
}

/// Record a miss in the point's log (and so for the centre), scrubbed of personal data.
fn record_miss(kiosk: &Kiosk, question: &str, outcome: &str, codes: &[String]) {
    let detail = serde_json::json!({
        "question": crate::assistant::privacy::scrub(question),
        "outcome": outcome,
        "candidates": codes,
    });
    let hub = kiosk.hub.clone();
    kiosk.runtime.spawn(async move {
        if let Err(e) = hub
            .record_device_event(crate::domain::EventKind::AssistantMiss, None, detail)
            .await
        {
            tracing::warn!(error = %e, "assistant miss not recorded");
        }
    });
}

thread_local! {
    /// The answer on screen that the citizen has not used yet (UI thread only).
    static UNUSED: RefCell<Option<Unused>> = const { RefCell::new(None) };
}

/// The unused answer, if any, becomes a miss ("left": a new question or the end of the session).
fn settle(kiosk: &Kiosk) {
    if let Some(u) = UNUSED.with(|u| u.borrow_mut().take()) {
        record_miss(kiosk, &u.question, "left", &u.codes);
    }
}

/// The citizen used the answer (opened a procedure or took a ticket).
fn used() {
    UNUSED.with(|u| *u.borrow_mut() = None);
}

/// Back to an empty question (idle timeout, language change).
fn reset(app: &AppWindow, composer: &RefCell<Composer>) {
    let english = app.global::<KioskAdapter>().get_language() == "en";
    *composer.borrow_mut() = Composer::new(!english);
    let a = app.global::<AssistantAdapter>();
    a.set_text(SharedString::new());
    a.set_telex(!english);
    a.set_state(0);
    a.set_keyboard(false);
    a.set_suggestions(suggestions(english));
}

/// The built-in FAQ, parsed once (suggestions are shown for every new citizen).
static FAQ: std::sync::LazyLock<crate::assistant::lexicon::Faq> =
    std::sync::LazyLock::new(crate::assistant::lexicon::Faq::builtin);

fn suggestions(english: bool) -> ModelRc<SharedString> {
    let list = if english {
        &FAQ.suggestions_en
    } else {
        &FAQ.suggestions_vi
    };
    ModelRc::new(VecModel::from(
        list.iter().map(SharedString::from).collect::<Vec<_>>(),
    ))
}

pub fn connect(app: &AppWindow, kiosk: &Kiosk, choice: &Rc<RefCell<Choice>>) {
    let composer = Rc::new(RefCell::new(Composer::new(true)));
    reset(app, &composer);
    let a = app.global::<AssistantAdapter>();
    {
        let weak = app.as_weak();
        let composer = Rc::clone(&composer);
        let kiosk = kiosk.clone();
        a.on_reset(move || {
            settle(&kiosk);
            if let Some(app) = weak.upgrade() {
                reset(&app, &composer);
            }
        });
    }
    {
        let weak = app.as_weak();
        let composer = Rc::clone(&composer);
        a.on_relabel(move || {
            let Some(app) = weak.upgrade() else { return };
            let english = app.global::<KioskAdapter>().get_language() == "en";
            let a = app.global::<AssistantAdapter>();
            a.set_suggestions(suggestions(english));
            let mut c = composer.borrow_mut();
            if c.text().is_empty() {
                c.set_telex(!english);
                a.set_telex(!english);
            }
        });
    }

    let refresh = {
        let weak = app.as_weak();
        let composer = Rc::clone(&composer);
        move || {
            if let Some(app) = weak.upgrade() {
                let c = composer.borrow();
                let a = app.global::<AssistantAdapter>();
                a.set_text(c.text().into());
                a.set_telex(c.telex());
            }
        }
    };
    let ask = {
        let weak = app.as_weak();
        let kiosk = kiosk.clone();
        let composer = Rc::clone(&composer);
        move || {
            let question = composer.borrow().text();
            if question.trim().is_empty() {
                return;
            }
            // A new question: the last answer was not what the citizen needed.
            settle(&kiosk);
            let assistant = std::sync::Arc::clone(&kiosk.assistant);
            let weak = weak.clone();
            let kiosk2 = kiosk.clone();
            kiosk.runtime.spawn_blocking(move || {
                // In the first seconds after start the index may still be building: this
                // blocking-pool task waits for it rather than answering "not sure".
                let answer = assistant.wait().ask(&question);
                let _ = weak.upgrade_in_event_loop(move |app| {
                    show(&app, &kiosk2, &answer);
                    match &answer {
                        Answer::NotSure { near, .. } => {
                            let codes: Vec<String> = near.iter().map(|h| h.code.clone()).collect();
                            record_miss(&kiosk2, &question, "not_sure", &codes);
                        }
                        Answer::Procedures { hits, .. } => {
                            let codes = hits.iter().take(3).map(|h| h.code.clone()).collect();
                            UNUSED.with(|u| {
                                *u.borrow_mut() = Some(Unused {
                                    question: question.clone(),
                                    codes,
                                })
                            });
                        }
                        Answer::Faq { .. } => {}
                    }
                });
            });
        }
    };
    {
        let composer = Rc::clone(&composer);
        let refresh = refresh.clone();
        a.on_keys(move |keys: SharedString| {
            for k in keys.chars() {
                composer.borrow_mut().key(k);
            }
            refresh();
        });
    }
    {
        let composer = Rc::clone(&composer);
        let refresh = refresh.clone();
        a.on_backspace(move || {
            composer.borrow_mut().backspace();
            refresh();
        });
    }
    {
        let composer = Rc::clone(&composer);
        let refresh = refresh.clone();
        let weak = app.as_weak();
        a.on_clear(move || {
            composer.borrow_mut().clear();
            refresh();
            if let Some(app) = weak.upgrade() {
                app.global::<AssistantAdapter>().set_state(0);
            }
        });
    }
    {
        let composer = Rc::clone(&composer);
        let refresh = refresh.clone();
        a.on_toggle_telex(move || {
            let on = !composer.borrow().telex();
            composer.borrow_mut().set_telex(on);
            refresh();
        });
    }
    a.on_ask(ask.clone());
    {
        let composer = Rc::clone(&composer);
        let refresh = refresh.clone();
        a.on_suggest(move |text: SharedString| {
            composer.borrow_mut().set(&text);
            refresh();
            ask();
        });
    }
    {
        let weak = app.as_weak();
        let kiosk = kiosk.clone();
        a.on_open(move |code: SharedString| {
            used();
            if let Some(app) = weak.upgrade() {
                super::procedures_adapter::open(&app, &kiosk, &code);
                app.global::<KioskAdapter>().set_page(Page::Procedures);
            }
        });
    }
    {
        let weak = app.as_weak();
        let kiosk = kiosk.clone();
        let choice = Rc::clone(choice);
        a.on_take_ticket(move |code: SharedString| {
            used();
            if let Some(app) = weak.upgrade() {
                super::procedures_adapter::take_ticket(&app, &kiosk, &choice, &code);
            }
        });
    }
    {
        // "Hỏi cán bộ": a ticket for the general queue (the service taking every field), where
        // staff guide the citizen; the question was a miss.
        let weak = app.as_weak();
        let kiosk = kiosk.clone();
        let choice = Rc::clone(choice);
        a.on_ask_staff(move || {
            used();
            let Some(app) = weak.upgrade() else { return };
            if let Some(service) = kiosk.config.general_service() {
                super::services_adapter::after_choosing(&app, &kiosk, &choice, &service.id);
            }
        });
    }
}

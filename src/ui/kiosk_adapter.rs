//! KioskAdapter: navigation, language, the idle timer that brings the next citizen back to the
//! welcome page, and the live queue figures (welcome counts and service tiles).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use slint::ComponentHandle;

use super::session::{end, go_home, set_language};
use super::{AppWindow, Choice, Kiosk, KioskAdapter, services_adapter};
use crate::config::Config;
use crate::hub::Status;

/// How long the idle warning counts down before the kiosk starts over.
pub const WARN_SECONDS: u32 = 10;

/// The welcome page as the last citizen would leave it for the next: nothing to warn about.
fn untouched(app: &AppWindow) -> bool {
    let theme = app.global::<super::Theme>();
    let k = app.global::<KioskAdapter>();
    k.get_page() == super::Page::Welcome
        && k.get_language() == "vi"
        && !theme.get_large_text()
        && !theme.get_high_contrast()
}

/// Wire navigation and the idle timer. Returns the timer, which must stay alive.
pub fn connect(app: &AppWindow, kiosk: &Kiosk, choice: &Rc<RefCell<Choice>>) -> Rc<slint::Timer> {
    let k = app.global::<KioskAdapter>();
    k.set_site_name_vi(kiosk.config.site.name.vi.clone().into());
    k.set_site_name_en(kiosk.config.site.name.en.clone().into());

    // Idle: after `idle_seconds - WARN_SECONDS` a warning counts down the last seconds; any
    // touch keeps the session. A welcome page with nothing changed starts over silently.
    let idle = Rc::new(slint::Timer::default());
    let ticker = Rc::new(slint::Timer::default());
    let idle_for = Duration::from_secs(u64::from(kiosk.config.idle_seconds));
    let warn_after = idle_for.saturating_sub(Duration::from_secs(u64::from(WARN_SECONDS)));
    {
        let weak = app.as_weak();
        let choice = Rc::clone(choice);
        let ticker = Rc::clone(&ticker);
        idle.start(slint::TimerMode::SingleShot, warn_after, move || {
            let Some(app) = weak.upgrade() else { return };
            if untouched(&app) {
                end(&app, &choice);
                return;
            }
            app.global::<KioskAdapter>()
                .set_idle_warning(WARN_SECONDS as i32);
            let (weak, choice) = (app.as_weak(), Rc::clone(&choice));
            ticker.start(
                slint::TimerMode::Repeated,
                Duration::from_secs(1),
                move || {
                    let Some(app) = weak.upgrade() else { return };
                    let k = app.global::<KioskAdapter>();
                    let left = k.get_idle_warning() - 1;
                    if left <= 0 {
                        k.set_idle_warning(0);
                        end(&app, &choice);
                    } else {
                        k.set_idle_warning(left);
                    }
                },
            );
        });
    }
    {
        let idle = Rc::clone(&idle);
        let weak = app.as_weak();
        k.on_activity(move || {
            ticker.stop();
            if let Some(app) = weak.upgrade() {
                app.global::<KioskAdapter>().set_idle_warning(0);
            }
            idle.restart();
        });
    }
    if let Some(speaker) = kiosk.speaker.clone() {
        k.set_can_read_aloud(true);
        let weak = app.as_weak();
        // While speaking: notice when it ends, and stop when the page changes.
        let watch = Rc::new(slint::Timer::default());
        k.on_read_aloud(move || {
            let Some(app) = weak.upgrade() else { return };
            let k = app.global::<KioskAdapter>();
            if k.get_reading() {
                speaker.stop();
                k.set_reading(false);
                watch.stop();
                return;
            }
            let (text, lang) = super::read_aloud::page_text(&app);
            if let Err(e) = speaker.say(&lang, &text) {
                tracing::warn!(error = %e, "read-aloud");
                return;
            }
            k.set_reading(true);
            let page = k.get_page();
            let (weak, speaker, me) = (app.as_weak(), speaker.clone(), Rc::downgrade(&watch));
            watch.start(
                slint::TimerMode::Repeated,
                Duration::from_millis(300),
                move || {
                    let Some(app) = weak.upgrade() else { return };
                    let k = app.global::<KioskAdapter>();
                    if k.get_page() != page {
                        speaker.stop();
                    }
                    if !speaker.speaking() {
                        k.set_reading(false);
                        if let Some(timer) = me.upgrade() {
                            timer.stop();
                        }
                    }
                },
            );
        });
    }
    {
        let weak = app.as_weak();
        k.on_set_language(move |lang| {
            if let Some(app) = weak.upgrade() {
                set_language(&app, &lang);
            }
        });
    }
    {
        let weak = app.as_weak();
        let choice = Rc::clone(choice);
        k.on_go_home(move || {
            if let Some(app) = weak.upgrade() {
                go_home(&app, &choice);
            }
        });
    }
    idle
}

/// Put a queue status on screen: the service tiles.
pub fn apply_status(app: &AppWindow, config: &Config, status: &Status) {
    services_adapter::apply_status(app, config, status);
}

/// Keep the queue figures live: refresh after every event the hub commits, and every 15 s
/// (the wait estimate and opening hours move with the clock).
pub fn watch_queues(app: &AppWindow, kiosk: &Kiosk) {
    let weak = app.as_weak();
    let hub = kiosk.hub.clone();
    let config = kiosk.config.clone();
    let mut events = hub.subscribe();
    kiosk.runtime.spawn(async move {
        loop {
            if let Ok(status) = hub.status().await {
                let config = config.clone();
                let alive = weak
                    .upgrade_in_event_loop(move |app| apply_status(&app, &config, &status))
                    .is_ok();
                if !alive {
                    break;
                }
            }
            tokio::select! {
                e = events.recv() => {
                    if matches!(e, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                        break;
                    }
                }
                _ = tokio::time::sleep(Duration::from_secs(15)) => {}
            }
        }
    });
}

//! KioskAdapter: navigation, language, the idle timer that brings the next citizen back to the
//! welcome page, and the live queue figures (welcome counts and service tiles).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::session::{go_home, set_language};
use super::{AppWindow, Choice, Kiosk, KioskAdapter, QueueSummary, services_adapter};
use crate::config::Config;
use crate::hub::Status;

/// Wire navigation and the idle timer. Returns the timer, which must stay alive.
pub fn connect(app: &AppWindow, kiosk: &Kiosk, choice: &Rc<RefCell<Choice>>) -> Rc<slint::Timer> {
    let k = app.global::<KioskAdapter>();
    k.set_site_name_vi(kiosk.config.site.name.vi.clone().into());
    k.set_site_name_en(kiosk.config.site.name.en.clone().into());

    let idle = Rc::new(slint::Timer::default());
    let idle_for = Duration::from_secs(u64::from(kiosk.config.idle_seconds));
    {
        let weak = app.as_weak();
        let choice = Rc::clone(choice);
        idle.start(slint::TimerMode::SingleShot, idle_for, move || {
            if let Some(app) = weak.upgrade() {
                go_home(&app, &choice);
            }
        });
    }
    {
        let idle = Rc::clone(&idle);
        k.on_activity(move || idle.restart());
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

/// Put a queue status on screen: the welcome page's counts and the service tiles.
pub fn apply_status(app: &AppWindow, config: &Config, status: &Status) {
    let queues: Vec<QueueSummary> = status
        .services
        .iter()
        .map(|s| QueueSummary {
            prefix: s.prefix.clone().into(),
            name_vi: s.name_vi.clone().into(),
            name_en: s.name_en.clone().into(),
            waiting: s.counts.waiting as i32,
        })
        .collect();
    app.global::<KioskAdapter>()
        .set_queues(ModelRc::new(VecModel::from(queues)));
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

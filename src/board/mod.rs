//! `kiosk board --hub URL`: the lobby board as a fullscreen Slint app for a mini-PC behind a TV.
//! It follows the hub's `/api/events` (server-sent events), reconnecting by itself every second
//! while the hub or the network is down, shows the same board as the web page, flashes each new
//! call for 5 s (calls queue, none is cut short) and speaks it (`callout`).
//!
//! `--headless --exit-after-calls N --screenshot F` draws with the software renderer instead of
//! a window and exits after N calls: the tests' and the bench's way to run it with no display.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use slint::{ComponentHandle, ModelRc, VecModel};

use crate::callout::player::{Announcer, Output};
use crate::sse;
use crate::ui::{BoardAdapter, BoardCall, BoardCounter, BoardQueue, BoardWindow};
use crate::wire::{Board, Call, CounterState};

/// How long a call stays on the screen.
const FLASH: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct Options {
    pub hub: String,
    pub windowed: bool,
    pub size: Option<(u32, u32)>,
    /// No sound, whatever the hub's config says.
    pub mute: bool,
    /// Write each call's audio as a WAV file here instead of playing it.
    pub audio_out: Option<PathBuf>,
    pub headless: bool,
    pub exit_after_calls: Option<u32>,
    pub screenshot: Option<PathBuf>,
}

/// What the follower hands to the screen: the hub's own messages, typed.
#[derive(Debug, Clone)]
pub enum Update {
    Connected(bool),
    Board(Box<Board>),
    Call(Call),
}

fn state_word(state: CounterState) -> &'static str {
    match state {
        CounterState::Idle => "idle",
        CounterState::Called => "called",
        CounterState::Serving => "serving",
        CounterState::Paused => "paused",
    }
}

/// "Quầy 5" -> "đến quầy số 5".
fn where_vi(counter_vi: &str, number: u32) -> String {
    let lower = counter_vi.to_lowercase();
    if lower.starts_with("quầy") {
        format!("đến quầy số {number}")
    } else {
        format!("đến {lower}")
    }
}

/// Apply an update to the window (UI thread). Returns whether it was a call.
fn apply(window: &BoardWindow, flashes: &RefCell<VecDeque<BoardFlash>>, update: Update) -> bool {
    let a = window.global::<BoardAdapter>();
    match update {
        Update::Connected(c) => a.set_connected(c),
        Update::Board(b) => {
            a.set_connected(true);
            a.set_site_vi(b.site_vi.as_str().into());
            a.set_site_en(b.site_en.as_str().into());
            let counters: Vec<BoardCounter> = b
                .counters
                .iter()
                .map(|c| BoardCounter {
                    number: c.number as i32,
                    name_vi: c.name_vi.as_str().into(),
                    name_en: c.name_en.as_str().into(),
                    code: c.code.clone().unwrap_or_default().into(),
                    state: state_word(c.state).into(),
                    booked: c.booked,
                })
                .collect();
            a.set_counters(ModelRc::new(VecModel::from(counters)));
            let calls: Vec<BoardCall> = b
                .last_calls
                .iter()
                .take(6)
                .map(|c| BoardCall {
                    code: c.code.as_str().into(),
                    counter_vi: c.counter_vi.as_str().into(),
                })
                .collect();
            a.set_calls(ModelRc::new(VecModel::from(calls)));
            let queues: Vec<BoardQueue> = b
                .services
                .iter()
                .map(|q| BoardQueue {
                    prefix: q.prefix.as_str().into(),
                    name_vi: q.name_vi.as_str().into(),
                    waiting: q.waiting as i32,
                    wait: match (q.wait_low_min, q.wait_high_min) {
                        (Some(low), Some(high)) => crate::domain::WaitRange {
                            low_minutes: low,
                            high_minutes: high,
                        }
                        .words_vi()
                        .into(),
                        _ => Default::default(),
                    },
                })
                .collect();
            a.set_queues(ModelRc::new(VecModel::from(queues)));
        }
        Update::Call(c) => {
            flashes.borrow_mut().push_back(BoardFlash {
                where_vi: where_vi(&c.counter_vi, c.counter),
                where_en: format!("please go to {}", c.counter_en),
                code: c.code,
            });
            if !a.get_flashing() {
                next_flash(window, flashes);
            }
            return true;
        }
    }
    false
}

#[derive(Debug, Clone)]
struct BoardFlash {
    code: String,
    where_vi: String,
    where_en: String,
}

/// Show the next queued call, or end the flash.
fn next_flash(window: &BoardWindow, flashes: &RefCell<VecDeque<BoardFlash>>) {
    let a = window.global::<BoardAdapter>();
    match flashes.borrow_mut().pop_front() {
        Some(f) => {
            a.set_flash_code(f.code.into());
            a.set_flash_where_vi(f.where_vi.into());
            a.set_flash_where_en(f.where_en.into());
            a.set_flashing(true);
        }
        None => a.set_flashing(false),
    }
}

/// Follow the hub's events forever, reconnecting every second; `send` gets each update.
pub async fn follow(hub: String, send: impl Fn(Update) + Send + 'static) {
    let client = reqwest::Client::new();
    let url = format!("{}/api/events", hub.trim_end_matches('/'));
    loop {
        if let Ok(mut resp) = client.get(&url).send().await
            && resp.status().is_success()
        {
            let mut reader = sse::Reader::new();
            while let Ok(Some(chunk)) = resp.chunk().await {
                for m in reader.feed(&chunk) {
                    // A message that does not parse as its type is skipped (and logged): the
                    // next board message makes the screen whole again.
                    let update = match m.event.as_str() {
                        "board" => {
                            serde_json::from_str(&m.data).map(|b| Update::Board(Box::new(b)))
                        }
                        "call" => serde_json::from_str(&m.data).map(Update::Call),
                        _ => continue,
                    };
                    match update {
                        Ok(u) => send(u),
                        Err(e) => {
                            tracing::warn!(event = %m.event, error = %e, "board: message skipped")
                        }
                    }
                }
            }
        }
        send(Update::Connected(false));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn clock_text() -> String {
    use chrono::Timelike;
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Ho_Chi_Minh);
    format!("{:02}:{:02}", now.hour(), now.minute())
}

pub fn run(opts: Options) -> Result<()> {
    if opts.headless {
        crate::ui::screenshot::init_headless().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let window = BoardWindow::new().context("opening the board window")?;
    if let Some((w, h)) = opts.size {
        window.window().set_size(slint::PhysicalSize::new(w, h));
    } else if opts.headless {
        window
            .window()
            .set_size(slint::PhysicalSize::new(1920, 1080));
    }
    window
        .global::<BoardAdapter>()
        .set_clock(clock_text().into());
    let callout = Arc::new(AtomicBool::new(false));
    let announcer = if opts.mute {
        None
    } else if let Some(dir) = &opts.audio_out {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
        Some(Announcer::start(Output::Files(dir.clone())))
    } else {
        match Output::device() {
            Some(o) => Some(Announcer::start(o)),
            None => {
                tracing::warn!("board: no aplay or paplay found; calls are shown, not spoken");
                None
            }
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    // Calls are spoken from the follower's side through a channel to the announcer, in order.
    let (announce_tx, announce_rx) = std::sync::mpsc::channel::<Call>();
    let observe = {
        let callout = Arc::clone(&callout);
        move |u: &Update| match u {
            Update::Board(b) => callout.store(b.callout, Ordering::Relaxed),
            Update::Call(c) if callout.load(Ordering::Relaxed) => {
                let _ = announce_tx.send(c.clone());
            }
            _ => {}
        }
    };
    let announcer_thread = std::thread::spawn(move || {
        for c in announce_rx {
            if let Some(a) = &announcer {
                a.announce(&c.code, &c.letters, c.number, c.counter);
            }
        }
        if let Some(a) = announcer {
            a.finish();
        }
    });

    if opts.headless {
        // No event loop: updates are applied on this thread as they come.
        let (tx, rx) = std::sync::mpsc::channel::<Update>();
        runtime.spawn(follow(opts.hub.clone(), move |u| {
            observe(&u);
            let _ = tx.send(u);
        }));
        let want = opts.exit_after_calls.unwrap_or(u32::MAX);
        let mut calls = 0;
        let mut board_after_last_call = false;
        while calls < want || !board_after_last_call {
            let u = rx.recv().context("the follower stopped")?;
            let is_board = matches!(u, Update::Board(_));
            if FLASHES.with(|f| apply(&window, f, u)) {
                calls += 1;
                board_after_last_call = false;
            } else if is_board && calls >= want {
                board_after_last_call = true;
            }
        }
        if let Some(path) = &opts.screenshot {
            window.show().map_err(|e| anyhow::anyhow!("{e}"))?;
            let shot = window
                .window()
                .take_snapshot()
                .map_err(|e| anyhow::anyhow!("snapshot: {e}"))?;
            crate::ui::screenshot::write_png(path, shot.width(), shot.height(), shot.as_bytes())
                .map_err(|e| anyhow::anyhow!(e))?;
        }
        drop(runtime); // the follower (and its sender of announcements) stops
        let _ = announcer_thread.join(); // every queued call is said before exit
        return Ok(());
    }

    let weak = window.as_weak();
    runtime.spawn(follow(opts.hub.clone(), move |u| {
        observe(&u);
        let _ = weak.upgrade_in_event_loop(move |w| {
            FLASHES.with(|f| {
                apply(&w, f, u);
            });
        });
    }));
    let clock = slint::Timer::default();
    {
        let weak = window.as_weak();
        clock.start(
            slint::TimerMode::Repeated,
            Duration::from_secs(1),
            move || {
                if let Some(w) = weak.upgrade() {
                    w.global::<BoardAdapter>().set_clock(clock_text().into());
                }
            },
        );
    }
    // Each flash lasts FLASH; then the next queued call, or the board again.
    let flash_timer = slint::Timer::default();
    {
        let weak = window.as_weak();
        let shown_since = Rc::new(RefCell::new(None::<std::time::Instant>));
        flash_timer.start(
            slint::TimerMode::Repeated,
            Duration::from_millis(200),
            move || {
                let Some(w) = weak.upgrade() else { return };
                let flashing = w.global::<BoardAdapter>().get_flashing();
                let mut since = shown_since.borrow_mut();
                match (*since, flashing) {
                    (None, true) => *since = Some(std::time::Instant::now()),
                    (Some(t), true) if t.elapsed() >= FLASH => {
                        FLASHES.with(|f| next_flash(&w, f));
                        *since = w
                            .global::<BoardAdapter>()
                            .get_flashing()
                            .then(std::time::Instant::now);
                    }
                    (_, false) => *since = None,
                    _ => {}
                }
            },
        );
    }
    // Firmware: SIGTERM or Ctrl-C ends the event loop (queued calls are still said); systemd
    // hears when the board is up, and the watchdog is fed from the UI loop itself.
    runtime.spawn(async {
        crate::supervise::stop_signal().await;
        let _ = slint::invoke_from_event_loop(|| {
            let _ = slint::quit_event_loop();
        });
    });
    let notifier = Arc::new(crate::supervise::Notifier::from_env());
    notifier.ready("showing calls");
    let watchdog = slint::Timer::default();
    if let Some(every) = crate::supervise::watchdog_interval() {
        let notifier = Arc::clone(&notifier);
        watchdog.start(slint::TimerMode::Repeated, every, move || {
            notifier.watchdog()
        });
    }
    if opts.windowed {
        window.show().map_err(|e| anyhow::anyhow!("{e}"))?;
    } else {
        window.window().set_fullscreen(true);
        window.show().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    slint::run_event_loop().map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(runtime);
    let _ = announcer_thread.join();
    Ok(())
}

thread_local! {
    static FLASHES: RefCell<VecDeque<BoardFlash>> = const { RefCell::new(VecDeque::new()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flash_says_where_to_go() {
        assert_eq!(where_vi("Quầy 5", 5), "đến quầy số 5");
        assert_eq!(where_vi("Phòng tiếp dân", 9), "đến phòng tiếp dân");
    }
}

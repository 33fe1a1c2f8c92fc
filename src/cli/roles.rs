//! The long-running roles: `run` (the touchscreen with its hub), `hub` (headless), `board`,
//! `centre`, and `screenshot` (the touchscreen drawn to PNG). Each starts through `crate::app`
//! and stops cleanly on SIGTERM or Ctrl-C: the API finishes its requests, the reporter its
//! batch, the printer its queue.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};

use super::parse_size;
use super::queue::render_status;
use crate::app::{App, Options};
use crate::config::Config;

/// `kiosk hub`: the hub alone, headless, with its API and reporter.
pub fn hub(config: Config) -> Result<ExitCode> {
    let db = config.db_path.clone();
    let app = App::start(config, Options::point())?;
    let status = app.block_on(app.hub.status())?;
    print!("{}", render_status(&app.config, &status));
    match app.api_addr {
        Some(addr) => {
            tracing::info!(site = %app.config.site.path(), db = %db.display(), api = %addr, "hub running; SIGTERM or Ctrl-C to stop")
        }
        None => {
            tracing::info!(site = %app.config.site.path(), db = %db.display(), "hub running without a LAN API; SIGTERM or Ctrl-C to stop")
        }
    }
    app.ready("serving");
    let mut events = app.hub.subscribe();
    let mut restart = false;
    app.block_on(async {
        let stop = crate::supervise::stop_signal();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = crate::updates::RESTART.notified() => {
                    restart = true;
                    break;
                }
                e = events.recv() => match e {
                    Ok(e) => tracing::info!(
                        kind = %e.kind,
                        ticket = e.code.as_deref().unwrap_or("-"),
                        counter = e.counter.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
                        "event"
                    ),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "the log view fell behind");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    });
    app.stop();
    if restart {
        tracing::info!("stopped for the update; the supervisor starts the new version");
        return Ok(ExitCode::from(crate::updates::RESTART_EXIT));
    }
    Ok(ExitCode::SUCCESS)
}

/// `kiosk centre`: the reference receiver and dashboard.
pub fn centre(config: &Path) -> Result<ExitCode> {
    let c = crate::centre::CentreConfig::load(config).map_err(|e| anyhow!(e))?;
    let centre = std::sync::Arc::new(crate::centre::Centre::open(&c)?);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&c.listen)
            .await
            .with_context(|| format!("listening on {}", c.listen))?;
        tracing::info!(
            listen = %listener.local_addr()?,
            points = c.point.len(),
            https = c.tls.is_some(),
            "centre receiver running; SIGTERM or Ctrl-C to stop"
        );
        crate::supervise::Notifier::from_env().ready("receiving");
        match &c.tls {
            Some(t) => {
                let acceptor = t.acceptor().map_err(|e| anyhow!(e))?;
                crate::centre::serve_tls(
                    listener,
                    acceptor,
                    centre,
                    crate::supervise::stop_signal(),
                )
                .await?
            }
            None => crate::centre::serve(listener, centre, crate::supervise::stop_signal()).await?,
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `kiosk centre keygen | bundle | publish`: the centre's update bundles.
pub fn centre_action(config: Option<&Path>, action: &super::CentreAction) -> Result<ExitCode> {
    use super::CentreAction;
    let read = |p: &Path| {
        std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))
    };
    match action {
        CentreAction::Keygen { out } => {
            let (private, public) = crate::bundle::keygen()?;
            std::fs::create_dir_all(out)?;
            let key = out.join("centre-signing.key");
            if key.exists() {
                anyhow::bail!(
                    "{}: already there; a new key would strand every point that trusts the old one",
                    key.display()
                );
            }
            {
                use std::io::Write;
                use std::os::unix::fs::OpenOptionsExt;
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&key)?;
                writeln!(f, "{private}")?;
            }
            std::fs::write(out.join("centre-signing.pub"), format!("{public}\n"))?;
            println!(
                "{} (private, mode 0600) and {}: put this line in every point's [updates] public_key:\n{public}",
                key.display(),
                out.join("centre-signing.pub").display()
            );
        }
        CentreAction::Bundle {
            dir,
            version,
            key,
            out,
            note,
        } => {
            let signed = crate::bundle::make(dir, version, note, &read(key)?)?;
            std::fs::write(out, serde_json::to_vec(&signed)?)?;
            println!(
                "{}: bundle {version}, signed by key {}",
                out.display(),
                signed.key_id
            );
        }
        CentreAction::Publish {
            bundle,
            public_key,
            points,
            all,
        } => {
            let config = config.ok_or_else(|| anyhow!("publish needs --config <centre.toml>"))?;
            let c = crate::centre::CentreConfig::load(config).map_err(|e| anyhow!(e))?;
            if *all != points.is_empty() {
                anyhow::bail!("say where: --points a,b (a rollout's first step) or --all");
            }
            for p in points {
                if !c.point.iter().any(|k| &k.path == p) {
                    anyhow::bail!("{}: no [[point]] \"{p}\"", config.display());
                }
            }
            let body = std::fs::read(bundle).with_context(|| bundle.display().to_string())?;
            let key = crate::bundle::parse_public_key(&read(public_key)?)?;
            let verified = crate::bundle::verify(&body, &key)
                .map_err(|e| anyhow!("{}: refused: {e}", bundle.display()))?;
            let centre = crate::centre::Centre::open(&c)?;
            let targets = (!points.is_empty()).then_some(points.as_slice());
            centre.publish_bundle(&verified, &body, &crate::bundle::key_id(&key), targets)?;
            println!(
                "bundle {} published to {}",
                verified.manifest.version,
                if *all {
                    "every point".to_string()
                } else {
                    points.join(", ")
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `kiosk board`: the lobby board as an app following a hub.
pub fn board(options: crate::board::Options) -> Result<ExitCode> {
    crate::board::run(options)?;
    Ok(ExitCode::SUCCESS)
}

/// `kiosk run`: the touchscreen with the hub in this process, or through another hub.
pub fn kiosk(
    config: Config,
    windowed: bool,
    size: Option<(u32, u32)>,
    hub: &Option<String>,
    hub_token: &Option<String>,
) -> Result<ExitCode> {
    use slint::ComponentHandle;
    let started = std::time::Instant::now();
    let app = match hub {
        Some(url) => {
            let token = hub_token
                .clone()
                .or_else(|| config.api_kiosk_token.clone())
                .ok_or_else(|| {
                    anyhow!("--hub needs the hub's kiosk token: --hub-token or [api] kiosk_token")
                })?;
            // A kiosk working through another hub serves no API and reports nothing itself.
            App::start_remote(config, url, &token)?
        }
        None => App::start(config, Options::point())?,
    };
    let kiosk = crate::ui::Kiosk::on(&app)?;
    let ui = match crate::ui::KioskUi::new(kiosk) {
        Ok(ui) => ui,
        Err(e) => {
            app.stop();
            return Err(anyhow!(
                "cannot open the kiosk window ({e}); is a display available? `kiosk hub` runs without one"
            ));
        }
    };
    if let Some((w, h)) = size {
        ui.window.window().set_size(slint::PhysicalSize::new(w, h));
    }
    if !windowed {
        ui.window.window().set_fullscreen(true);
    }
    // The watchdog is fed only while the event loop answers too.
    app.watch("ui", || {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let _ = slint::invoke_from_event_loop(move || {
            let _ = tx.send(());
        });
        rx
    });
    // SIGTERM or Ctrl-C ends the event loop; everything behind it then stops in order.
    app.runtime().spawn(async {
        crate::supervise::stop_signal().await;
        let _ = slint::invoke_from_event_loop(|| {
            let _ = slint::quit_event_loop();
        });
    });
    // A new update installed: restart on it once the screen is back at the start with nothing
    // in hand (no citizen's session is cut), checked every 2 s.
    let restart = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let (restart, weak) = (std::sync::Arc::clone(&restart), ui.window.as_weak());
        app.runtime().spawn(async move {
            crate::updates::RESTART.notified().await;
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                let (flag, weak) = (std::sync::Arc::clone(&restart), weak.clone());
                let asked = slint::invoke_from_event_loop(move || {
                    let Some(w) = weak.upgrade() else { return };
                    let k = w.global::<crate::ui::KioskAdapter>();
                    let idle = k.get_page() == crate::ui::Page::Welcome
                        && k.get_idle_warning() == 0
                        && !k.get_no_paper()
                        && !w.global::<crate::ui::ServicesAdapter>().get_busy();
                    if idle {
                        flag.store(true, std::sync::atomic::Ordering::SeqCst);
                        let _ = slint::quit_event_loop();
                    }
                });
                if asked.is_err() || restart.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
            }
        });
    }
    let t0 = started;
    let notifier = crate::supervise::Notifier::from_env();
    slint::Timer::single_shot(std::time::Duration::ZERO, move || {
        tracing::info!(
            ms = format!("{:.0}", t0.elapsed().as_secs_f64() * 1000.0),
            "first frame"
        );
        notifier.ready("serving citizens");
    });
    let result = ui.window.run();
    drop(ui);
    app.stop();
    result?;
    if restart.load(std::sync::atomic::Ordering::SeqCst) {
        tracing::info!("stopped at a quiet moment for the update; the supervisor starts it");
        return Ok(ExitCode::from(crate::updates::RESTART_EXIT));
    }
    Ok(ExitCode::SUCCESS)
}

/// What `kiosk screenshot` was asked for.
pub struct Shots<'a> {
    pub page: &'a str,
    pub lang: &'a str,
    pub size: &'a str,
    pub modes: &'a str,
    pub out: Option<&'a Path>,
    pub check: bool,
}

/// `kiosk screenshot`: every page drawn by the software renderer, on a scratch database and
/// spool, never the site's real ones; with `check`, every state laid out and judged.
pub fn screenshot(mut config: Config, shots: Shots) -> Result<ExitCode> {
    let scratch = std::env::temp_dir().join(format!("kiosk-screenshot-{}", std::process::id()));
    config.db_path = scratch.join("kiosk.sqlite");
    config.printer.transport = crate::config::TransportConfig::Spool {
        dir: scratch.join("spool"),
    };
    let pages: Vec<&str> = if shots.page == "all" {
        crate::ui::PAGES.to_vec()
    } else {
        vec![shots.page]
    };
    let modes: Vec<String> = match shots.modes {
        "all" => crate::ui::screenshot::MODES
            .iter()
            .map(|m| m.to_string())
            .collect(),
        "normal" | "" => vec![String::new()],
        other => vec![format!("+{other}")],
    };
    let pages: Vec<String> = pages
        .iter()
        .flat_map(|p| modes.iter().map(move |m| format!("{p}{m}")))
        .collect();
    let langs: Vec<&str> = match shots.lang {
        "all" => vec!["vi", "en"],
        "vi" | "en" => vec![shots.lang],
        other => return Err(anyhow!("--lang {other}: use vi, en or all")),
    };
    let sizes: Vec<(u32, u32)> = if shots.size == "all" {
        vec![(1080, 1920), (1920, 1080)]
    } else {
        vec![parse_size(shots.size).map_err(|e| anyhow!(e))?]
    };
    crate::ui::screenshot::init_headless()?;
    let (kiosk, app) = crate::ui::Kiosk::start(config)?;
    let status = app.block_on(kiosk.hub.status())?;
    let ui = crate::ui::KioskUi::new(kiosk)?;
    ui.apply_status(&status);
    let mut code = ExitCode::SUCCESS;
    if let Some(out) = shots.out {
        let written =
            crate::ui::render_pages(&ui, &pages, &langs, &sizes, out).map_err(|e| anyhow!(e))?;
        for p in &written {
            println!("{}", p.display());
        }
    }
    if shots.check {
        let (states, found) = crate::ui::screenshot::check_pages(&ui, &pages, &langs, &sizes)
            .map_err(|e| anyhow!(e))?;
        for (state, problem) in &found {
            println!("{state}: {problem}");
        }
        println!("checked {states} page states: {} problem(s)", found.len());
        if !found.is_empty() {
            code = ExitCode::FAILURE;
        }
    }
    drop(ui);
    app.stop();
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(code)
}

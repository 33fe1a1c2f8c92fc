//! Installing the centre's update bundles at a point (`[updates]`; the bundle format is
//! `crate::bundle`). The pull loop asks the centre for the bundle meant for this point
//! (`GET /api/v1/bundles/current?running=<version>`), verifies it, writes it beside the others
//! and switches `current` to it in one rename. The new version runs from the next start (the
//! processes restart at a quiet moment: `quiet_restart_due`): its first start is a trial; if it
//! does not get through a minute, or its config does not load, the next start goes back to the
//! previous version (`bundle_rolled_back`). Nothing of a refused bundle is written, and the
//! point keeps running on what it had.
//!
//! ```text
//! <dir>/versions/<version>/config.toml, catalogue/..., guides/...
//! <dir>/current      the version installed ("2026.12.02-1")
//! <dir>/previous     the one before (the rollback target)
//! <dir>/trial        "<version> <starts>" while the current version has not proved itself
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::bundle::{self, Verified};
use crate::config::Config;

/// A bundle that was not installed, and why (for the `bundle_refused` event).
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub version: Option<String>,
    pub reason: String,
}

/// What `install` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Installed {
    New {
        version: String,
        previous: Option<String>,
    },
    AlreadyCurrent(String),
}

fn read_word(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let w = text.trim();
    (!w.is_empty()).then(|| w.to_string())
}

/// Write a small file atomically: a temporary beside it, fsynced, renamed over it.
fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent()
        && let Ok(d) = std::fs::File::open(parent)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The version installed now, if any.
pub fn current(dir: &Path) -> Option<String> {
    read_word(&dir.join("current"))
}

pub fn version_dir(dir: &Path, version: &str) -> PathBuf {
    dir.join("versions").join(version)
}

/// Check a verified bundle's contents as the point will use them: its config passes every
/// `check-config` check and keeps `[updates]` with the same key (or the point could never be
/// updated again); its catalogue files are JSON.
fn check_contents(staged: &Path, v: &Verified, public_key: &str) -> Result<(), String> {
    if v.files.iter().any(|(p, _)| p == "config.toml") {
        let config =
            Config::load(&staged.join("config.toml")).map_err(|e| format!("config.toml: {e}"))?;
        if config.updates.public_key.as_deref() != Some(public_key) {
            return Err(
                "config.toml: [updates] public_key must stay this point's key, or no later bundle could reach it"
                    .into(),
            );
        }
    }
    for (path, data) in &v.files {
        if path.starts_with("catalogue/") && path.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(data)
                .map_err(|e| format!("{path}: not JSON: {e}"))?;
        }
    }
    // A catalogue is the whole catalogue: it must read as the national portal's records.
    let catalogue = staged.join("catalogue");
    if catalogue.is_dir() {
        crate::catalogue::import::read_procedures(&catalogue)
            .map_err(|e| format!("catalogue: {e}"))?;
    }
    Ok(())
}

/// The catalogue a start should load into the store: the first start of a version that carries
/// one, or the version rolled back to. (Rolling back to the config given keeps the store's.)
pub fn catalogue_to_import(dir: &Path, start: &Start) -> Option<PathBuf> {
    let version = match start {
        Start::Bundle {
            version,
            trial: true,
            ..
        } => version,
        Start::RolledBack { to: Some(v), .. } => v,
        _ => return None,
    };
    Some(version_dir(dir, version).join("catalogue")).filter(|d| d.is_dir())
}

/// Verify and install a bundle's bytes. `public_key` is `[updates] public_key` (base64).
pub fn install(dir: &Path, bytes: &[u8], public_key: &str) -> Result<Installed, Refused> {
    let refused = |version: Option<&str>, reason: String| Refused {
        version: version.map(str::to_string),
        reason,
    };
    let key = bundle::parse_public_key(public_key).map_err(|e| refused(None, e.to_string()))?;
    let v = bundle::verify(bytes, &key).map_err(|e| refused(None, e.to_string()))?;
    let version = v.manifest.version.clone();
    if current(dir).as_deref() == Some(version.as_str()) {
        return Ok(Installed::AlreadyCurrent(version));
    }
    let io = |e: std::io::Error| refused(Some(&version), format!("writing it: {e}"));
    let staged = dir.join("versions").join(format!("{version}.partial"));
    let _ = std::fs::remove_dir_all(&staged);
    for (path, data) in &v.files {
        let target = staged.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut f = std::fs::File::create(&target).map_err(io)?;
        f.write_all(data).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    if let Err(reason) = check_contents(&staged, &v, public_key) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(refused(Some(&version), reason));
    }
    let final_dir = version_dir(dir, &version);
    let _ = std::fs::remove_dir_all(&final_dir);
    std::fs::rename(&staged, &final_dir).map_err(io)?;
    let previous = current(dir);
    if let Some(p) = &previous {
        write_atomic(&dir.join("previous"), p).map_err(io)?;
    }
    write_atomic(&dir.join("trial"), &format!("{version} 0")).map_err(io)?;
    write_atomic(&dir.join("current"), &version).map_err(io)?;
    Ok(Installed::New { version, previous })
}

/// What the start-up chose.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// No bundle installed, or none with a config: the config given runs.
    Given,
    /// The installed bundle's config (its first start is a trial when `trial`).
    Bundle {
        version: String,
        config: PathBuf,
        trial: bool,
    },
    /// The bundle's previous start did not prove itself: back to `to` (None: the config given).
    RolledBack {
        from: String,
        to: Option<String>,
        reason: String,
    },
}

/// At start-up: which config to run. A trial version that already had a start without being
/// confirmed is rolled back; so is one whose config does not load (`loads` is `Config::load`).
pub fn choose(dir: &Path, loads: impl Fn(&Path) -> Result<(), String>) -> Start {
    let Some(version) = current(dir) else {
        return Start::Given;
    };
    let trial = read_word(&dir.join("trial"));
    let starts = trial
        .as_deref()
        .and_then(|t| t.split_once(' '))
        .filter(|(v, _)| *v == version)
        .and_then(|(_, n)| n.parse::<u32>().ok());
    let roll_back = |reason: String| {
        let to = read_word(&dir.join("previous")).filter(|p| *p != version);
        let back = match &to {
            Some(p) => write_atomic(&dir.join("current"), p),
            None => std::fs::remove_file(dir.join("current")),
        };
        if let Err(e) = back {
            tracing::error!(error = %e, "rolling back the update failed");
        }
        let _ = std::fs::remove_file(dir.join("trial"));
        let _ = std::fs::remove_file(dir.join("previous"));
        Start::RolledBack {
            from: version.clone(),
            to,
            reason,
        }
    };
    if let Some(n) = starts
        && n >= 1
    {
        return roll_back(format!(
            "version {version} was started {n} time(s) without running a minute"
        ));
    }
    let config = version_dir(dir, &version).join("config.toml");
    if !config.exists() {
        // A bundle without a config (guides, voice clips): nothing to choose, nothing to risk.
        let _ = std::fs::remove_file(dir.join("trial"));
        return Start::Given;
    }
    if let Err(e) = loads(&config) {
        return roll_back(format!("its config does not load: {e}"));
    }
    if let Some(n) = starts {
        let _ = write_atomic(&dir.join("trial"), &format!("{version} {}", n + 1));
    }
    Start::Bundle {
        version,
        config,
        trial: starts.is_some(),
    }
}

/// The running version's `part` folder (`guides`, ...), when its bundle carries one: the kiosk
/// reads it instead of its built-in copy, with or without a config in the bundle.
pub fn part_dir(dir: &Path, part: &str) -> Option<PathBuf> {
    let d = version_dir(dir, &current(dir)?).join(part);
    d.is_dir().then_some(d)
}

/// The trial is over: the current version is kept. Returns it when there was a trial.
pub fn confirm(dir: &Path) -> Option<String> {
    let trial = read_word(&dir.join("trial"))?;
    std::fs::remove_file(dir.join("trial")).ok()?;
    trial.split_once(' ').map(|(v, _)| v.to_string())
}

/// The centre's bundle endpoint for a reporting URL (same scheme, host and port).
pub fn bundle_url(reporting_url: &str) -> Option<String> {
    let url = reqwest::Url::parse(reporting_url).ok()?;
    Some(format!(
        "{}/api/v1/bundles/current",
        url.origin().ascii_serialization()
    ))
}

/// Ask the centre once. `Ok(None)`: nothing newer for this point.
pub async fn pull(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    running: Option<&str>,
) -> Result<Option<Vec<u8>>, String> {
    let mut url = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    url.query_pairs_mut()
        .append_pair("running", running.unwrap_or(""));
    let resp = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    match resp.status().as_u16() {
        204 | 304 => Ok(None),
        200 => Ok(Some(
            resp.bytes().await.map_err(|e| e.to_string())?.to_vec(),
        )),
        s => Err(format!(
            "the centre answered {s}: {}",
            crate::text::clip(&resp.text().await.unwrap_or_default(), 200)
        )),
    }
}

/// How start-up went, kept for the updater to report once the hub runs.
pub static STARTED: std::sync::OnceLock<Start> = std::sync::OnceLock::new();

/// Woken when a newly installed bundle should take over at a quiet moment: the hub role stops
/// and exits with `RESTART_EXIT` (systemd starts it again on the new version).
pub static RESTART: tokio::sync::Notify = tokio::sync::Notify::const_new();
pub const RESTART_EXIT: u8 = 75;

/// A new trial must run this long before it is kept.
pub const PROVE_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// Nobody waits or is being called: a restart now takes nothing from anyone.
async fn quiet(hub: &crate::hub::HubHandle) -> bool {
    match hub.status().await {
        Ok(s) => s
            .services
            .iter()
            .all(|q| q.counts.waiting == 0 && q.counts.called == 0 && q.counts.serving == 0),
        Err(_) => false,
    }
}

/// The point's updater: reports how start-up went, keeps a trial that ran a minute, pulls the
/// point's bundle every `pull_seconds`, installs what verifies, records what it refuses (once
/// per bundle and reason), and asks for a restart at the first quiet moment after an install.
pub async fn run(
    config: std::sync::Arc<Config>,
    hub: crate::hub::HubHandle,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use crate::domain::EventKind;
    let Some(key) = config.updates.public_key.clone() else {
        return;
    };
    let dir = config.updates.dir.clone();
    let record = |kind: EventKind, detail: serde_json::Value| {
        let hub = hub.clone();
        async move {
            if let Err(e) = hub.record_device_event(kind, None, detail).await {
                tracing::error!(error = %e, kind = %kind, "update event not recorded");
            }
        }
    };
    tokio::pin!(shutdown);
    match STARTED.get() {
        Some(Start::RolledBack { from, to, reason }) => {
            tracing::error!(%from, to = to.as_deref().unwrap_or("the config given"), %reason, "update rolled back");
            record(
                EventKind::BundleRolledBack,
                serde_json::json!({ "from": from, "to": to, "reason": reason }),
            )
            .await;
        }
        Some(Start::Bundle {
            version,
            trial: true,
            ..
        }) => {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(PROVE_FOR) => {}
            }
            if confirm(&dir).is_some() {
                tracing::info!(%version, "update kept: it ran a minute");
                record(
                    EventKind::BundleApplied,
                    serde_json::json!({ "version": version }),
                )
                .await;
            }
        }
        _ => {}
    }
    let (Some(url), Some(token)) = (
        config.reporting.url.as_deref().and_then(bundle_url),
        config.reporting.effective_token(),
    ) else {
        tracing::warn!("updates: no [reporting] url or token to pull bundles with");
        return;
    };
    let client = match reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .pool_max_idle_per_host(0)
        .build()
    {
        Ok(c) => c,
        Err(e) => return tracing::error!(error = %e, "updates are off"),
    };
    let client = match &config.reporting.ca_file {
        None => client,
        Some(ca) => {
            let pem = std::fs::read(ca)
                .ok()
                .and_then(|p| reqwest::Certificate::from_pem(&p).ok());
            match pem.and_then(|c| {
                reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(120))
                    .tls_certs_only([c])
                    .build()
                    .ok()
            }) {
                Some(c) => c,
                None => {
                    return tracing::error!(ca = %ca.display(), "updates are off: the CA does not load");
                }
            }
        }
    };
    let mut last_refused: Option<(Option<String>, String)> = None;
    let mut restart_due = false;
    loop {
        let running = current(&dir);
        match pull(&client, &url, &token, running.as_deref()).await {
            Ok(Some(bytes)) => {
                let (dir2, key2) = (dir.clone(), key.clone());
                let done = tokio::task::spawn_blocking(move || install(&dir2, &bytes, &key2)).await;
                match done {
                    Ok(Ok(Installed::New { version, previous })) => {
                        tracing::info!(%version, "update installed; it runs from the next start");
                        record(
                            EventKind::BundleInstalled,
                            serde_json::json!({ "version": version, "previous": previous }),
                        )
                        .await;
                        restart_due = true;
                    }
                    Ok(Ok(Installed::AlreadyCurrent(_))) => {}
                    Ok(Err(r)) => {
                        let seen = (r.version.clone(), r.reason.clone());
                        if last_refused.as_ref() != Some(&seen) {
                            tracing::error!(version = r.version.as_deref().unwrap_or("?"), reason = %r.reason, "update refused; running on what we have");
                            record(
                                EventKind::BundleRefused,
                                serde_json::json!({ "version": r.version, "reason": r.reason }),
                            )
                            .await;
                            last_refused = Some(seen);
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "update install panicked"),
                }
            }
            Ok(None) => {}
            Err(e) => tracing::debug!(error = %e, "no bundle pulled"),
        }
        if restart_due && quiet(&hub).await {
            tracing::info!("a quiet moment: restarting on the new version");
            RESTART.notify_one();
            restart_due = false;
        }
        let wait = if restart_due {
            std::time::Duration::from_secs(30)
        } else {
            std::time::Duration::from_secs(config.updates.pull_seconds)
        };
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_versions_guides_are_found_and_a_rollback_leaves_them() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(part_dir(d, "guides"), None);
        std::fs::create_dir_all(version_dir(d, "v1")).unwrap();
        std::fs::create_dir_all(version_dir(d, "v2").join("guides")).unwrap();
        write_atomic(&d.join("current"), "v2").unwrap();
        assert_eq!(
            part_dir(d, "guides"),
            Some(version_dir(d, "v2").join("guides"))
        );
        write_atomic(&d.join("current"), "v1").unwrap();
        assert_eq!(part_dir(d, "guides"), None, "v1 has no guides of its own");
    }

    #[test]
    fn a_trial_that_never_proves_itself_rolls_back_to_the_previous_version() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(version_dir(d, "v1")).unwrap();
        std::fs::create_dir_all(version_dir(d, "v2")).unwrap();
        std::fs::write(version_dir(d, "v1").join("config.toml"), "").unwrap();
        std::fs::write(version_dir(d, "v2").join("config.toml"), "").unwrap();
        write_atomic(&d.join("current"), "v2").unwrap();
        write_atomic(&d.join("previous"), "v1").unwrap();
        write_atomic(&d.join("trial"), "v2 0").unwrap();
        let ok = |_: &Path| Ok(());
        // First start of v2: a trial.
        assert!(
            matches!(choose(d, ok), Start::Bundle { ref version, trial: true, .. } if version == "v2")
        );
        // It died before confirming: the next start goes back to v1.
        match choose(d, ok) {
            Start::RolledBack { from, to, .. } => {
                assert_eq!(from, "v2");
                assert_eq!(to.as_deref(), Some("v1"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(current(d).as_deref(), Some("v1"));
        assert!(
            matches!(choose(d, ok), Start::Bundle { ref version, trial: false, .. } if version == "v1")
        );
        // A confirmed version stays.
        write_atomic(&d.join("current"), "v2").unwrap();
        write_atomic(&d.join("trial"), "v2 0").unwrap();
        assert!(matches!(choose(d, ok), Start::Bundle { trial: true, .. }));
        assert_eq!(confirm(d).as_deref(), Some("v2"));
        assert!(
            matches!(choose(d, ok), Start::Bundle { ref version, trial: false, .. } if version == "v2")
        );
        // A config that does not load rolls back at once.
        write_atomic(&d.join("previous"), "v1").unwrap();
        let bad = |_: &Path| Err("line 3: bad".to_string());
        assert!(matches!(choose(d, bad), Start::RolledBack { .. }));
        assert_eq!(current(d).as_deref(), Some("v1"));
    }
}

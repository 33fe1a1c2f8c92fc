//! Signed update bundles from the centre to the points, with the real receiver on 127.0.0.1:
//! made and signed with the `kiosk centre` commands, published to one point first then to all,
//! pulled over HTTP, verified, installed, run on trial and rolled back when the trial fails. A
//! tampered, truncated or foreign bundle, and a signed one whose config fails the checks, are
//! refused with an event and change nothing.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use kiosk::updates::{Installed, Start};

use crate::common::*;
use crate::reporting::{POINT, Receiver, TOKEN};

fn kiosk(args: &[&str], dir: &Path) -> String {
    let out = Command::new(kiosk_bin())
        .args(args)
        .current_dir(dir)
        .env_remove("KIOSK_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kiosk {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A bundle source folder: the demo config renamed, pointed at `db`, trusting `public_key`,
/// with `extra` appended; and a guide.
fn source(dir: &Path, name: &str, public_key: &str, db: &Path, extra: &str) -> std::path::PathBuf {
    let src = dir.join(name);
    std::fs::create_dir_all(src.join("guides")).unwrap();
    let demo = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config/demo.toml"),
    )
    .unwrap();
    let config = demo
        .replace(
            "name = { vi = \"Điểm phục vụ hành chính công (trình diễn)\"",
            &format!("name = {{ vi = \"Điểm phục vụ ({name})\""),
        )
        .replace(
            "path = \"kiosk-data/kiosk.sqlite\"",
            &format!("path = \"{}\"", db.display()),
        );
    assert_ne!(config, demo, "the demo's site name line moved");
    std::fs::write(
        src.join("config.toml"),
        format!("{config}\n[updates]\npublic_key = \"{public_key}\"\n{extra}"),
    )
    .unwrap();
    std::fs::write(src.join("guides/moi.md"), format!("# {name}\n")).unwrap();
    src
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundles_are_signed_published_pulled_verified_installed_and_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let receiver = Receiver::start(d, None).await;
    let base = format!("http://{}", receiver.addr);

    // The centre's key and a signed bundle, with the real commands.
    kiosk(&["centre", "keygen", "--out", "keys"], d);
    let public = std::fs::read_to_string(d.join("keys/centre-signing.pub")).unwrap();
    let public = public.trim();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.join("keys/centre-signing.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the private key is the owner's only");
    let db = d.join("point.sqlite");
    let v1_src = source(d, "v1", public, &db, "");
    // Three real procedures of the national catalogue (loaded by path; in the temp dir only).
    let tthc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/tthc/bo-tu-phap");
    std::fs::create_dir_all(v1_src.join("catalogue")).unwrap();
    let mut names: Vec<_> = std::fs::read_dir(&tthc)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for p in names
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .take(3)
    {
        std::fs::copy(p, v1_src.join("catalogue").join(p.file_name().unwrap())).unwrap();
    }
    kiosk(
        &[
            "centre",
            "bundle",
            "--dir",
            "v1",
            "--version",
            "2026.12.02-1",
            "--key",
            "keys/centre-signing.key",
            "--out",
            "v1.bundle",
        ],
        d,
    );
    let v1 = std::fs::read(d.join("v1.bundle")).unwrap();
    let verified =
        kiosk::bundle::verify(&v1, &kiosk::bundle::parse_public_key(public).unwrap()).unwrap();
    // Published to this point only: a rollout's first step.
    receiver
        .centre
        .publish_bundle(
            &verified,
            &v1,
            &kiosk::bundle::key_id(&kiosk::bundle::parse_public_key(public).unwrap()),
            Some(&[POINT.to_string()]),
        )
        .unwrap();

    let url = kiosk::updates::bundle_url(&format!("{base}/api/v1/reports")).unwrap();
    let client = reqwest::Client::new();
    let updates = d.join("updates");
    let got = kiosk::updates::pull(&client, &url, TOKEN, None)
        .await
        .unwrap()
        .expect("a bundle for this point");
    assert_eq!(got, v1);
    assert_eq!(
        kiosk::updates::pull(&client, &url, "other-token", None)
            .await
            .unwrap(),
        None,
        "the other point is not in the first step"
    );
    assert!(
        kiosk::updates::pull(&client, &url, "no-such-token", None)
            .await
            .is_err()
    );

    let installed = kiosk::updates::install(&updates, &got, public).unwrap();
    assert_eq!(
        installed,
        Installed::New {
            version: "2026.12.02-1".into(),
            previous: None
        }
    );
    assert_eq!(
        kiosk::updates::pull(&client, &url, TOKEN, Some("2026.12.02-1"))
            .await
            .unwrap(),
        None,
        "up to date: nothing sent"
    );
    let loads = |p: &Path| {
        kiosk::config::Config::load(p)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let start = kiosk::updates::choose(&updates, loads);
    let Start::Bundle {
        version,
        config,
        trial: true,
    } = &start
    else {
        panic!("{start:?}")
    };
    assert_eq!(version, "2026.12.02-1");
    let c = kiosk::config::Config::load(config).unwrap();
    assert_eq!(c.site.name.vi, "Điểm phục vụ (v1)");
    assert!(
        kiosk::updates::version_dir(&updates, version)
            .join("guides/moi.md")
            .exists()
    );
    // Its catalogue goes into the store on this first start.
    let catalogue = kiosk::updates::catalogue_to_import(&updates, &start).expect("a catalogue");
    let mut store = kiosk::store::Store::open(&d.join("catalogue.sqlite")).unwrap();
    let imported = kiosk::catalogue::import::import_dir(&mut store, &catalogue).unwrap();
    assert_eq!(imported.added.len(), 3, "{imported:?}");

    // Refused, each with its reason, and nothing of them written.
    let before: Vec<_> = std::fs::read_dir(updates.join("versions"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let mut tampered: serde_json::Value = serde_json::from_slice(&v1).unwrap();
    {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut payload = b64.decode(tampered["payload"].as_str().unwrap()).unwrap();
        let text = String::from_utf8(payload.clone()).unwrap();
        let at = text.find("2026.12.02-1").unwrap();
        payload[at + 11] = b'9'; // the version, one digit
        tampered["payload"] = serde_json::json!(b64.encode(&payload));
    }
    let tampered = serde_json::to_vec(&tampered).unwrap();
    let (_, other_public) = kiosk::bundle::keygen().unwrap();
    source(d, "bad", public, &db, "[nonsense]\nkey = 1\n");
    kiosk(
        &[
            "centre",
            "bundle",
            "--dir",
            "bad",
            "--version",
            "2026.12.02-2",
            "--key",
            "keys/centre-signing.key",
            "--out",
            "bad.bundle",
        ],
        d,
    );
    let src = source(d, "nokey", public, &db, "");
    let text = std::fs::read_to_string(src.join("config.toml")).unwrap();
    std::fs::write(
        src.join("config.toml"),
        text.replace(&format!("[updates]\npublic_key = \"{public}\"\n"), ""),
    )
    .unwrap();
    let badcat = source(d, "badcat", public, &db, "");
    std::fs::create_dir_all(badcat.join("catalogue")).unwrap();
    std::fs::write(
        badcat.join("catalogue/x.json"),
        "{\"not\": \"a procedure\"}",
    )
    .unwrap();
    kiosk(
        &[
            "centre",
            "bundle",
            "--dir",
            "badcat",
            "--version",
            "2026.12.02-4",
            "--key",
            "keys/centre-signing.key",
            "--out",
            "badcat.bundle",
        ],
        d,
    );
    let r = kiosk::updates::install(
        &updates,
        &std::fs::read(d.join("badcat.bundle")).unwrap(),
        public,
    )
    .unwrap_err();
    assert!(r.reason.starts_with("catalogue:"), "{}", r.reason);
    let cut = &v1[..v1.len() - 40];
    for (what, bytes, key, want) in [
        (
            "tampered",
            tampered.as_slice(),
            public,
            "signature does not match",
        ),
        ("truncated", cut, public, "truncated"),
        (
            "another key",
            v1.as_slice(),
            other_public.as_str(),
            "another key",
        ),
        (
            "a config with an unknown section",
            &std::fs::read(d.join("bad.bundle")).unwrap()[..],
            public,
            "nonsense",
        ),
    ] {
        let r = kiosk::updates::install(&updates, bytes, key).unwrap_err();
        assert!(r.reason.contains(want), "{what}: {}", r.reason);
    }
    // A config that would cut the point off from later updates is refused too.
    let nokey = kiosk::bundle::make(
        &src,
        "2026.12.02-3",
        "",
        std::fs::read_to_string(d.join("keys/centre-signing.key"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    let r = kiosk::updates::install(&updates, &serde_json::to_vec(&nokey).unwrap(), public)
        .unwrap_err();
    assert!(r.reason.contains("public_key must stay"), "{}", r.reason);
    let after: Vec<_> = std::fs::read_dir(updates.join("versions"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after, "nothing of a refused bundle is written");
    assert_eq!(
        kiosk::updates::current(&updates).as_deref(),
        Some("2026.12.02-1")
    );

    // The trial's process died before it ran a minute: the next start rolls back.
    let start = kiosk::updates::choose(&updates, loads);
    assert!(
        matches!(&start, Start::RolledBack { from, to: None, .. } if from == "2026.12.02-1"),
        "{start:?}"
    );
    assert_eq!(kiosk::updates::current(&updates), None);
    assert_eq!(kiosk::updates::choose(&updates, loads), Start::Given);

    // The updater's own loop, on a real hub: it pulls, installs, records it; then the centre
    // publishes to every point with the command, and a tampered copy is refused with an event.
    let point_config = {
        let mut c = demo_config(d);
        c.db_path = db.clone();
        c.reporting.url = Some(format!("{base}/api/v1/reports"));
        c.reporting.token = Some(TOKEN.into());
        c.updates.public_key = Some(public.to_string());
        c.updates.dir = d.join("updates-loop");
        c.updates.pull_seconds = 10;
        Arc::new(c)
    };
    let clock = clock_at(monday_morning());
    let (_hub, handle) = kiosk::hub::Hub::start(open(&point_config, &clock));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(kiosk::updates::run(
        Arc::clone(&point_config),
        handle.clone(),
        async {
            let _ = stop_rx.await;
        },
    ));
    let kinds = || {
        let mut s = kiosk::store::Store::open(&db).unwrap();
        let tx = s.read().unwrap();
        tx.events_after(0, 1000)
            .unwrap()
            .into_iter()
            .map(|e| (e.kind.to_string(), e.detail))
            .collect::<Vec<_>>()
    };
    let mut seen = false;
    for _ in 0..100 {
        if kinds().iter().any(|(k, _)| k == "bundle_installed") {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "the loop installed the bundle: {:?}", kinds());
    assert_eq!(
        kiosk::updates::current(&point_config.updates.dir).as_deref(),
        Some("2026.12.02-1")
    );
    // A corrupted copy served as a newer version: the loop refuses it and says so.
    let mut fake = verified.clone();
    fake.manifest.version = "2026.12.02-9".into();
    receiver
        .centre
        .publish_bundle(&fake, &tampered, "x", Some(&[POINT.to_string()]))
        .unwrap();
    let mut refused = None;
    for _ in 0..200 {
        refused = kinds().into_iter().find(|(k, _)| k == "bundle_refused");
        if refused.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, detail) = refused.expect("a bundle_refused event within the pull interval");
    assert!(
        detail.unwrap()["reason"]
            .as_str()
            .unwrap()
            .contains("signature")
    );
    assert_eq!(
        kiosk::updates::current(&point_config.updates.dir).as_deref(),
        Some("2026.12.02-1"),
        "still on what it had"
    );
    let _ = stop_tx.send(());
    let _ = task.await;

    // The CLI's publish to every point; an unknown point is refused.
    let centre_toml = d.join("centre.toml");
    std::fs::write(&centre_toml, format!(
        "listen = \"127.0.0.1:0\"\ndb_path = \"{}\"\n[[point]]\npath = \"{POINT}\"\ntoken = \"{TOKEN}\"\n[[point]]\npath = \"hn.ttpvhcc/cn-01/other\"\ntoken = \"other-token\"\n",
        d.join("centre.sqlite").display()
    )).unwrap();
    let out = kiosk(
        &[
            "centre",
            "--config",
            "centre.toml",
            "publish",
            "--bundle",
            "v1.bundle",
            "--public-key",
            "keys/centre-signing.pub",
            "--all",
        ],
        d,
    );
    assert!(out.contains("every point"), "{out}");
    assert!(
        kiosk::updates::pull(&client, &url, "other-token", None)
            .await
            .unwrap()
            .is_some(),
        "now the other point gets it"
    );
    let refused = Command::new(kiosk_bin())
        .args([
            "centre",
            "--config",
            "centre.toml",
            "publish",
            "--bundle",
            "bad.bundle",
            "--public-key",
            "keys/centre-signing.pub",
            "--points",
            "nowhere/x/y",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("nowhere/x/y"));
}

//! The `kiosk` binary as a user runs it: check-config, issue, call, status.

use std::process::Command;

use crate::common::kiosk_bin;

fn kiosk(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(kiosk_bin())
        .args(args)
        .env("KIOSK_DB", db)
        .env_remove("KIOSK_CONFIG")
        .output()
        .expect("run kiosk")
}

#[test]
fn check_config_exits_nonzero_and_prints_file_line_key() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("site.toml");
    let text = kiosk::config::DEMO_TOML.replacen("prefix = \"B\"", "prefx = \"B\"", 1);
    std::fs::write(&bad, text).unwrap();
    let out = kiosk(
        &dir.path().join("x.sqlite"),
        &["check-config", bad.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("service[2].prefx: unknown key"), "{stderr}");
    assert!(
        stderr.contains("service[2].prefix: missing key"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{}:", bad.display())), "{stderr}");

    let good = kiosk(&dir.path().join("x.sqlite"), &["check-config"]);
    assert!(good.status.success());
    assert!(String::from_utf8_lossy(&good.stdout).contains(": ok (6 services"));
}

#[test]
fn issue_call_and_status_share_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.sqlite");
    let out = kiosk(&db, &["issue", "--service", "ho-tich", "--repeat", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("issued A001 id=1 seq=1"), "{stdout}");
    assert!(
        stdout.contains("issued A002 id=2 seq=2 (1 ahead"),
        "{stdout}"
    );

    let out = kiosk(&db, &["call", "--counter", "1", "--json"]);
    let called: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(called["ticket"]["code"], "A001");
    assert_eq!(called["events"][0]["kind"], "called");

    let out = kiosk(&db, &["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ho_tich = &status["services"][0];
    assert_eq!(ho_tich["id"], "ho-tich");
    assert_eq!(ho_tich["counts"]["waiting"], 1);
    assert_eq!(ho_tich["counts"]["called"], 1);
    assert_eq!(status["last_calls"][0]["code"], "A001");

    let out = kiosk(&db, &["issue", "--service", "nope"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown service \"nope\""), "{stderr}");
}

/// Decode a PNG into (width, height, RGBA bytes).
fn read_png(path: &std::path::Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// How much of the picture is not its most common colour (0.0 = blank).
fn ink_fraction(rgba: &[u8]) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for px in rgba.chunks(4) {
        *counts.entry([px[0], px[1], px[2]]).or_insert(0usize) += 1;
    }
    let total: usize = counts.values().sum();
    let top = counts.values().copied().max().unwrap_or(0);
    1.0 - top as f64 / total as f64
}

/// Every page state, in both languages, every display mode and both orientations, laid out
/// with the real fonts: no text cut, too wide, spilling or off screen, nothing drawn over
/// anything else (the checker's own defects page is in tests/ui.rs).
#[test]
fn every_page_state_lays_out_without_spills_or_overlaps() {
    let out = Command::new(kiosk_bin())
        .args(["screenshot", "--check", "--modes", "all"])
        .env_remove("KIOSK_CONFIG")
        .env_remove("KIOSK_DB")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let states = kiosk::ui::PAGES.len() * 2 * 4 * 2;
    assert!(
        stdout.contains(&format!("checked {states} page states: 0 problem(s)")),
        "{stdout}"
    );
}

#[test]
fn screenshots_of_every_page_in_both_languages_and_orientations_are_not_blank() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(kiosk_bin())
        .args(["screenshot", "--out"])
        .arg(dir.path())
        .env_remove("KIOSK_CONFIG")
        .env_remove("KIOSK_DB")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pages = kiosk::ui::PAGES;
    let mut count = 0;
    for page in pages {
        for (w, h) in [(1080u32, 1920u32), (1920, 1080)] {
            let mut pictures = Vec::new();
            for lang in ["vi", "en"] {
                let path = dir.path().join(format!("{page}-{lang}-{w}x{h}.png"));
                let (pw, ph, rgba) = read_png(&path);
                assert_eq!((pw, ph), (w, h), "{}", path.display());
                let ink = ink_fraction(&rgba);
                assert!(
                    ink > 0.02,
                    "{} is nearly blank ({:.3})",
                    path.display(),
                    ink
                );
                pictures.push(rgba);
                count += 1;
            }
            // The language switch changes what is on screen.
            assert_ne!(
                pictures[0], pictures[1],
                "{page} {w}x{h}: vi and en look the same"
            );
        }
    }
    assert_eq!(count, pages.len() * 4);
}

/// `kiosk issue` and `kiosk call` in another process, while a hub runs on the same database:
/// the hub broadcasts what they committed (its screens and boards follow within a second or
/// two), each event once.
#[test]
fn tickets_and_calls_from_another_process_reach_the_running_hubs_listeners() {
    use kiosk::hub::{Hub, QueueService};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.sqlite");
    let mut config = kiosk::config::Config::demo().unwrap();
    config.db_path = db.clone();
    config.id_key_file = dir.path().join("identity.key");
    let store = kiosk::store::Store::open(&db).unwrap();
    let service =
        QueueService::new(Arc::new(config), store, Arc::new(kiosk::clock::SystemClock)).unwrap();
    let (hub, handle) = Hub::start(service);
    let mut events = handle.subscribe();
    let next = |events: &mut tokio::sync::broadcast::Receiver<kiosk::store::Event>| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match events.try_recv() {
                Ok(e) => return e,
                Err(tokio::sync::broadcast::error::TryRecvError::Empty) => {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "nothing broadcast in 10 s"
                    );
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => panic!("{e}"),
            }
        }
    };
    let out = kiosk(&db, &["issue", "--service", "ho-tich"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let issued = next(&mut events);
    assert_eq!(issued.kind, kiosk::domain::EventKind::Issued);
    assert_eq!(issued.code.as_deref(), Some("A001"));
    let out = kiosk(&db, &["call", "--counter", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let called = next(&mut events);
    assert_eq!(called.kind, kiosk::domain::EventKind::Called);
    assert_eq!(called.code.as_deref(), Some("A001"));
    // Nothing twice: the next tick finds nothing new.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(events.try_recv().is_err(), "an event broadcast twice");
    drop(handle);
    hub.join();
}

/// `kiosk bench scan` runs end to end (a fake scanner on a pty, check-in, spool) and reports
/// both latencies; its figures are for the closing notes, not asserted here.
#[test]
fn the_scan_benchmark_checks_in_every_scan() {
    let v = bench_json(&["scan", "--n", "10"]);
    assert_eq!(v["scan_to_spooled"]["n"], 10);
    assert_eq!(
        (v["by_code"].as_u64(), v["by_card"].as_u64()),
        (Some(5), Some(5))
    );
    assert!(v["scan_to_read"]["p99_us"].as_f64().unwrap() > 0.0);
}

/// `kiosk simulate day` on a shipped scenario: the day's counts, every estimator scored, the
/// chart written; the day is the seed's (same seed, same figures).
#[test]
fn a_simulated_day_scores_every_estimator_and_draws_its_chart() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("day.svg");
    let run = || {
        let out = Command::new(kiosk_bin())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "simulate",
                "day",
                "--scenario",
                "kiosk-config/sim/quiet-commune.toml",
                "--seed",
                "3",
                "--json",
                "--svg",
            ])
            .arg(&svg)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let v = run();
    let arrivals = v["day"]["arrivals"].as_u64().unwrap();
    assert!(arrivals > 10);
    assert_eq!(
        v["day"]["served"].as_u64().unwrap() + v["day"]["no_shows"].as_u64().unwrap(),
        arrivals
    );
    assert_eq!(v["scores"].as_array().unwrap().len(), 5);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    assert_eq!(
        run()["scores"],
        v["scores"],
        "the same seed gives the same day"
    );
}

/// `kiosk bench city` runs end to end against its own receiver process (its figures are for the
/// closing note, not asserted): every report of a few points is taken and counted once.
#[test]
fn the_city_benchmark_runs_against_a_receiver_process() {
    let v = bench_json(&["city", "--points", "20", "--seconds", "3"]);
    assert_eq!(v["failed"], 0, "{v}");
    assert_eq!(v["reports"], 20, "one report each in 3 s: {v}");
    assert!(v["receiver_peak_mb"].as_f64().unwrap() > 1.0, "{v}");
    assert_eq!(v["stored_events"], v["accepted_events"], "{v}");
    assert_eq!(v["stored_events"], v["events"], "{v}");
}

/// The same against two receivers sharing a scratch PostgreSQL server: every event stored once.
#[test]
fn the_city_benchmark_runs_against_receivers_sharing_postgresql() {
    if !kiosk::centre::scratch_pg::ScratchPostgres::available() {
        eprintln!("SKIPPED: no PostgreSQL server programs; scripts/setup installs postgresql");
        return;
    }
    let v = bench_json(&[
        "city",
        "--points",
        "20",
        "--seconds",
        "3",
        "--postgres-receivers",
        "2",
    ]);
    assert_eq!(
        (v["failed"].as_u64(), v["receivers"].as_u64()),
        (Some(0), Some(2)),
        "{v}"
    );
    assert_eq!(v["reports"], 20, "{v}");
    assert_eq!(v["stored_events"], v["events"], "{v}");
    assert_eq!(v["store"], "postgresql", "{v}");
}

/// `kiosk bench <args> --json` on the embedded demo: its JSON, or the test fails with stderr.
fn bench_json(args: &[&str]) -> serde_json::Value {
    let out = Command::new(kiosk_bin())
        .arg("bench")
        .args(args)
        .arg("--json")
        .env_remove("KIOSK_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kiosk bench {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

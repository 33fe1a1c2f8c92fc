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
    assert!(String::from_utf8_lossy(&good.stdout).contains(": ok (5 services"));
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

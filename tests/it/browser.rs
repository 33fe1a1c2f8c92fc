//! The counter page and the lobby board in Debian's Chromium, driven by Playwright
//! (`tests/browser/lan.mjs`): a real `kiosk hub` process on 127.0.0.1, killed and restarted
//! mid-test. `scripts/setup` installs chromium and playwright-core.

use std::path::Path;
use std::process::Command;

use crate::common::{free_port, kiosk_bin};

/// A server process killed when the test ends, passed or not.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run one Playwright script in `tests/browser` with `env` (and OUT_DIR, where it leaves its
/// screenshots: target/browser); it must exit 0 and print "all browser checks passed".
fn run_script(script: &str, env: &[(&str, &std::ffi::OsStr)]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let browser = root.join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run scripts/setup"
    );
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "Debian's chromium is not installed: run scripts/setup"
    );
    let out_dir = root.join("target/browser");
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut cmd = Command::new("node");
    cmd.arg(browser.join(script))
        .current_dir(&browser)
        .env("OUT_DIR", &out_dir)
        .env_remove("KIOSK_CENTRE_TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("all browser checks passed"), "{stdout}");
}

#[test]
fn clerk_calls_and_the_board_follows_even_across_a_hub_restart() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let demo = std::fs::read_to_string(root.join("kiosk-config/demo.toml")).unwrap();
    let config = demo
        .replace(
            "listen = \"127.0.0.1:8080\"",
            &format!("listen = \"127.0.0.1:{port}\""),
        )
        // No centre in this test.
        .replace("url = \"http://127.0.0.1:8090/api/v1/reports\"", "");
    assert!(config.contains(&format!("127.0.0.1:{port}")));
    let config_path = dir.path().join("hub.toml");
    std::fs::write(&config_path, config).unwrap();
    let port = port.to_string();
    let db = dir.path().join("hub.sqlite");
    run_script(
        "lan.mjs",
        &[
            ("KIOSK_BIN", kiosk_bin().as_ref()),
            ("KIOSK_CONFIG", config_path.as_os_str()),
            ("KIOSK_DB", db.as_os_str()),
            ("HUB_PORT", port.as_ref()),
        ],
    );
}

/// The centre's demo booking page (`/book`, iHanoi's stand-in) in Chromium
/// (`tests/browser/book.mjs`), against a real `kiosk centre` process that a point has announced
/// its services to.
#[test]
fn a_citizen_books_and_cancels_on_the_booking_page() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let token = "browser-test-point-token";
    let centre_config = dir.path().join("centre.toml");
    std::fs::write(
        &centre_config,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndb_path = \"{}\"\n\n[[point]]\npath = \"hn.ttpvhcc/cn-07/demo\"\ntoken = \"{token}\"\n",
            dir.path().join("centre.sqlite").display()
        ),
    )
    .unwrap();
    let _centre = Killed(
        Command::new(kiosk_bin())
            .args(["centre", "--config"])
            .arg(&centre_config)
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    // The demo point announces its services with a real pull.
    let mut config = kiosk::config::Config::demo().unwrap();
    config.reporting.url = Some(format!("{base}/api/v1/reports"));
    config.reporting.token = Some(token.into());
    let config = std::sync::Arc::new(config);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let puller = kiosk::report::bookings::Puller::new(config)
        .unwrap()
        .unwrap();
    let today = chrono::Utc::now().date_naive();
    let mut pulled = false;
    for _ in 0..100 {
        if rt.block_on(puller.pull(today)).is_ok() {
            pulled = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(pulled, "the centre did not come up");
    run_script(
        "book.mjs",
        &[
            ("CENTRE_URL", base.as_ref()),
            ("POINT_PATH", "hn.ttpvhcc/cn-07/demo".as_ref()),
            ("SERVICE_ID", "ho-tich".as_ref()),
        ],
    );
}

/// A ticket's live page on the centre (`/ve`, the ticket QR's link) in Chromium on a phone-sized
/// screen (`tests/browser/ticket.mjs`), with a real `kiosk centre` and a real `kiosk hub`
/// reporting to it; the hub is killed at the end and the page must say its data is stale.
#[test]
fn a_tickets_phone_page_follows_the_queue_and_says_when_it_is_stale() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let (hub_port, centre_port) = (free_port(), free_port());
    let token = "browser-ticket-point-token";
    let point = "hn.ttpvhcc/cn-07/demo";
    let centre_config = dir.path().join("centre.toml");
    std::fs::write(
        &centre_config,
        format!(
            "listen = \"127.0.0.1:{centre_port}\"\ndb_path = \"{}\"\nticket_stale_after_seconds = 4\n\n\
             [[point]]\npath = \"{point}\"\ntoken = \"{token}\"\n\n\
             [[viewer]]\nname = \"test\"\ntoken = \"browser-viewer-token-0123\"\n",
            dir.path().join("centre.sqlite").display()
        ),
    )
    .unwrap();
    let demo = std::fs::read_to_string(root.join("kiosk-config/demo.toml")).unwrap();
    let config = demo
        .replace(
            "listen = \"127.0.0.1:8080\"",
            &format!("listen = \"127.0.0.1:{hub_port}\""),
        )
        .replace(
            "url = \"http://127.0.0.1:8090/api/v1/reports\"",
            &format!("url = \"http://127.0.0.1:{centre_port}/api/v1/reports\""),
        )
        .replace(
            "token = \"demo-token-change-me\"",
            &format!("token = \"{token}\""),
        );
    assert!(config.contains(&format!("127.0.0.1:{centre_port}")) && config.contains(token));
    let hub_config = dir.path().join("hub.toml");
    std::fs::write(&hub_config, config).unwrap();
    let (hub_port, centre_port) = (hub_port.to_string(), centre_port.to_string());
    let db = dir.path().join("hub.sqlite");
    run_script(
        "ticket.mjs",
        &[
            ("KIOSK_BIN", kiosk_bin().as_ref()),
            ("HUB_CONFIG", hub_config.as_os_str()),
            ("KIOSK_DB", db.as_os_str()),
            ("HUB_PORT", hub_port.as_ref()),
            ("CENTRE_CONFIG", centre_config.as_os_str()),
            ("CENTRE_PORT", centre_port.as_ref()),
            ("POINT_TOKEN", token.as_ref()),
            ("POINT_PATH", point.as_ref()),
            ("VIEWER_TOKEN", "browser-viewer-token-0123".as_ref()),
        ],
    );
}

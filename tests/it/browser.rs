//! The counter page and the lobby board in Debian's Chromium, driven by Playwright
//! (`tests/browser/lan.mjs`): a real `kiosk hub` process on 127.0.0.1, killed and restarted
//! mid-test. `scripts/setup` installs chromium and playwright-core.

use std::path::Path;
use std::process::Command;

use crate::common::{free_port, kiosk_bin};

#[test]
fn clerk_calls_and_the_board_follows_even_across_a_hub_restart() {
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
    let out_dir = root.join("target/browser");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = Command::new("node")
        .arg(browser.join("lan.mjs"))
        .current_dir(&browser)
        .env("KIOSK_BIN", kiosk_bin())
        .env("KIOSK_CONFIG", &config_path)
        .env("KIOSK_DB", dir.path().join("hub.sqlite"))
        .env("HUB_PORT", port.to_string())
        .env("OUT_DIR", &out_dir)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "browser test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all browser checks passed"), "{stdout}");
}

/// The centre's demo booking page (`/book`, iHanoi's stand-in) in Chromium
/// (`tests/browser/book.mjs`), against a real `kiosk centre` process that a point has announced
/// its services to.
#[test]
fn a_citizen_books_and_cancels_on_the_booking_page() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let browser = root.join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run scripts/setup"
    );
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
    let mut centre = Command::new(kiosk_bin())
        .args(["centre", "--config"])
        .arg(&centre_config)
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
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
    let out_dir = root.join("target/browser");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = Command::new("node")
        .arg(browser.join("book.mjs"))
        .current_dir(&browser)
        .env("CENTRE_URL", &base)
        .env("POINT_PATH", "hn.ttpvhcc/cn-07/demo")
        .env("SERVICE_ID", "ho-tich")
        .env("OUT_DIR", &out_dir)
        .output()
        .expect("node runs");
    let _ = centre.kill();
    let _ = centre.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "booking page test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all browser checks passed"), "{stdout}");
}

//! Roles start and stop like firmware: `kiosk hub` under a fake systemd (a real datagram
//! socket as `$NOTIFY_SOCKET`) says READY, feeds the watchdog, and on SIGTERM drains and exits
//! 0 with every acknowledged ticket stored; a taken port is a failed start, not a half-alive hub.

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{free_port, kiosk_bin};

/// The demo config with the API on `port` and reporting to a port nobody listens on.
fn config_on(dir: &std::path::Path, port: u16) -> std::path::PathBuf {
    let text = kiosk::config::DEMO_TOML.replace(
        "listen = \"127.0.0.1:8080\"",
        // 20 tickets from one address in a moment: above the default issuing limit.
        &format!("listen = \"127.0.0.1:{port}\"\nissue_per_minute = 600"),
    );
    assert!(text.contains(&format!("127.0.0.1:{port}")));
    let path = dir.join("site.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Messages on the notify socket until `want` is seen (or the deadline).
fn wait_for_notify(socket: &UnixDatagram, want: &str, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    while Instant::now() < deadline {
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        if let Ok(n) = socket.recv(&mut buf) {
            let m = String::from_utf8_lossy(&buf[..n]).into_owned();
            let done = m.contains(want);
            seen.push(m);
            if done {
                return seen;
            }
        }
    }
    panic!("no {want} within {within:?}; got {seen:?}");
}

#[test]
fn hub_under_systemd_is_ready_fed_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = config_on(dir.path(), port);
    let db = dir.path().join("hub.sqlite");
    let sock_path = dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&sock_path).unwrap();
    let mut hub = Command::new(kiosk_bin())
        .arg("hub")
        .env("KIOSK_CONFIG", &config)
        .env("KIOSK_DB", &db)
        .env("NOTIFY_SOCKET", &sock_path)
        // 400 ms: the hub must feed the watchdog every 200 ms.
        .env("WATCHDOG_USEC", "400000")
        .env_remove("WATCHDOG_PID")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ready = wait_for_notify(&notify, "READY=1", Duration::from_secs(30));
    assert!(ready.last().unwrap().contains("STATUS="), "{ready:?}");
    // The watchdog is fed repeatedly while the hub and printer threads answer.
    for _ in 0..3 {
        wait_for_notify(&notify, "WATCHDOG=1", Duration::from_secs(5));
    }

    // Tickets through the API while it runs: every acknowledged one must be stored.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let acknowledged: Vec<String> = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut codes = Vec::new();
        for _ in 0..20 {
            let r = client
                .post(format!("{url}/api/tickets"))
                .bearer_auth("demo-kiosk-token-change-me")
                .header("content-type", "application/json")
                .body(r#"{"service":"ho-tich"}"#)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
            let v: serde_json::Value = r.json().await.unwrap();
            codes.push(v["ticket"]["code"].as_str().unwrap().to_string());
        }
        codes
    });

    // SIGTERM: STOPPING=1, then a clean exit.
    unsafe {
        libc::kill(hub.id() as i32, libc::SIGTERM);
    }
    wait_for_notify(&notify, "STOPPING=1", Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = hub.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the hub did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr: Vec<String> = BufReader::new(hub.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .collect();
    assert!(status.success(), "exit {status:?}; log: {stderr:#?}");
    assert!(
        stderr.iter().any(|l| l.contains("SIGTERM")),
        "the log says why it stopped: {stderr:#?}"
    );

    let conn = rusqlite::Connection::open(&db).unwrap();
    let stored: Vec<String> = conn
        .prepare("SELECT code FROM tickets ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(stored, acknowledged, "lost or extra tickets");
    let issued_events: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM events WHERE kind = 'issued'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(issued_events, 20);
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn a_hub_whose_port_is_taken_fails_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let config = config_on(dir.path(), port);
    let out = Command::new(kiosk_bin())
        .arg("hub")
        .env("KIOSK_CONFIG", &config)
        .env("KIOSK_DB", dir.path().join("hub.sqlite"))
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success(), "a half-alive hub kept running");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("127.0.0.1:{port}")),
        "the error names the address: {stderr}"
    );
    drop(taken);
}

/// A centre that is away is logged once, not at every retry or snapshot, and `kiosk status`
/// says so; nothing in between reads as "works again".
#[test]
fn an_unreachable_centre_is_logged_once_and_shown_in_status() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let dead = free_port();
    let text = std::fs::read_to_string(config_on(dir.path(), port))
        .unwrap()
        .replace("127.0.0.1:8090", &format!("127.0.0.1:{dead}"))
        .replacen("snapshot_seconds = 30", "snapshot_seconds = 5", 1);
    assert!(text.contains("snapshot_seconds = 5"), "demo config changed");
    let config = dir.path().join("dead-centre.toml");
    std::fs::write(&config, text).unwrap();
    let db = dir.path().join("hub.sqlite");
    let mut hub = Command::new(kiosk_bin())
        .arg("hub")
        .env("KIOSK_CONFIG", &config)
        .env("KIOSK_DB", &db)
        .env_remove("NOTIFY_SOCKET")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Three snapshot intervals: three failed reports.
    std::thread::sleep(Duration::from_secs(13));
    let status = Command::new(kiosk_bin())
        .arg("status")
        .env("KIOSK_CONFIG", &config)
        .env("KIOSK_DB", &db)
        .output()
        .unwrap();
    unsafe {
        libc::kill(hub.id() as i32, libc::SIGTERM);
    }
    let _ = hub.wait();
    let log: Vec<String> = BufReader::new(hub.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .collect();
    let failed = log
        .iter()
        .filter(|l| l.contains("reporting to the centre"))
        .count();
    assert_eq!(failed, 1, "one line for the whole outage: {log:#?}");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("reporting: FAILING since"), "{text}");
}

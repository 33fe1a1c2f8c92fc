//! `kiosk board` (the Slint board app) against a real hub API on 127.0.0.1: started before the
//! hub exists, it connects by itself once the hub is up, shows the calls and speaks them in
//! order (audio written as WAV files), then draws its screen with the software renderer.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{free_port, kiosk_bin};
use crate::lan::Lan;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_app_connects_by_itself_shows_and_speaks_the_calls() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let audio = dir.path().join("audio");
    let shot = dir.path().join("board.png");
    // The board starts first: nothing listens on the port yet.
    let mut board = Command::new(kiosk_bin())
        .args(["board", "--headless", "--exit-after-calls", "2"])
        .arg("--hub")
        .arg(format!("http://127.0.0.1:{port}"))
        .arg("--audio-out")
        .arg(&audio)
        .arg("--screenshot")
        .arg(&shot)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let lan = Lan::start_on(port).await;
    let t1 = lan.login(1).await;
    let t2 = lan.login(2).await;
    lan.issue("ho-tich").await;
    lan.issue("ho-tich").await;
    // Give the board its retry (1 s) to connect, then call twice.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, v) = lan.get("/api/board", None).await;
        if v["counters"].is_array() {
            break;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    lan.post("/api/counters/1/call-next", Some(&t1), "").await;
    lan.post("/api/counters/2/call-next", Some(&t2), "").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = board.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = board.kill();
            panic!("the board did not see two calls");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut err = String::new();
    use std::io::Read;
    board
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{err}");
    let mut files: Vec<String> = std::fs::read_dir(&audio)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["0001-A001-counter1.wav", "0002-A002-counter2.wav"]);
    let png = std::fs::read(&shot).unwrap();
    // Kept for a look (target/browser, beside the browser tests' screenshots).
    let keep = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser");
    let _ = std::fs::create_dir_all(&keep);
    let _ = std::fs::write(keep.join("board-app.png"), &png);
    assert!(
        png.len() > 20_000,
        "a drawn board, not an empty frame: {} bytes",
        png.len()
    );
    lan.stop().await;
}

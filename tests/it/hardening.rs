//! What a hostile LAN and a clumsy technician do (issue 16), against the real API on 127.0.0.1:
//! PIN guessing, flooding, oversized and malformed input, other hosts, browser-side defences,
//! demo secrets on the LAN, and citizens' identity numbers.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;
use crate::lan::Lan;

fn kinds(db: &std::path::Path) -> Vec<(String, Option<String>)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.prepare("SELECT kind, detail FROM events ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_a_pin_locks_sign_in_and_tells_the_centre() {
    let lan = Lan::start().await;
    let login = |pin: &str| json!({"counter": 1, "pin": pin}).to_string();
    for pin in ["0000", "0001", "0002", "0003"] {
        let (s, v) = lan.post("/api/login", None, &login(pin)).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("wrong_pin"))
        );
    }
    let (s, v) = lan.post("/api/login", None, &login("0004")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(v["reason"].as_str().unwrap().contains("locked"), "{v}");
    // Locked: even the right PIN is refused, with when to come back.
    let r = lan
        .client
        .post(format!("{}/api/login", lan.url))
        .header("content-type", "application/json")
        .body(login("1111"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "too_many_attempts");
    assert_eq!(v["retry_after"].as_u64(), Some(retry));
    assert!((50..=60).contains(&retry), "{retry}");
    // Hammering for a second checks no PIN at all: every answer is the lock.
    let started = Instant::now();
    let mut answers = 0;
    while started.elapsed() < Duration::from_secs(1) {
        let pin = format!("{:04}", 5 + answers);
        let (s, v) = lan.post("/api/login", None, &login(&pin)).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts"))
        );
        answers += 1;
    }
    assert!(answers > 10, "{answers}");
    // The same address is locked for the other counters too.
    let (s, _) = lan
        .post(
            "/api/login",
            None,
            &json!({"counter": 2, "pin": "2222"}).to_string(),
        )
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // The lock is in the log, for the centre: the counter and the address each locked once.
    let locks: Vec<Value> = kinds(&lan.db)
        .into_iter()
        .filter(|(k, _)| k == "login_locked")
        .map(|(_, d)| serde_json::from_str(&d.unwrap()).unwrap())
        .collect();
    assert_eq!(locks.len(), 2, "{locks:?}");
    assert!(
        locks
            .iter()
            .any(|d| d["counter"] == 1 && d["failures"] == 5)
    );
    assert!(locks.iter().any(|d| d["address"] == "127.0.0.1"));
    lan.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_take_a_day_of_tickets() {
    // The default limit: 30 a minute, in bursts of 3.
    let lan = Lan::start_with(0, |_| {}).await;
    let body = json!({"service": "ho-tich"}).to_string();
    let mut issued = 0;
    let mut refused = None;
    for _ in 0..20 {
        let (s, v) = lan
            .post("/api/tickets", Some("demo-kiosk-token-change-me"), &body)
            .await;
        if s == StatusCode::CREATED {
            issued += 1;
        } else {
            refused = Some((s, v));
            break;
        }
    }
    assert_eq!(issued, 3);
    let (s, v) = refused.unwrap();
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    assert!(v["retry_after"].as_u64().unwrap() >= 1);
    let tickets: i64 = rusqlite::Connection::open(&lan.db)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM tickets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tickets, 3, "a refusal issues nothing");
    lan.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_text_and_bodies_are_bounded() {
    let lan = Lan::start().await;
    let t1 = lan.login(1).await;
    let long = "x".repeat(201);
    let (s, v) = lan
        .post(
            "/api/counters/1/pause",
            Some(&t1),
            &json!({"reason": long}).to_string(),
        )
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("too_long")),
        "{v}"
    );
    let (s, _) = lan
        .post(
            "/api/counters/1/pause",
            Some(&t1),
            &json!({"reason": "x".repeat(200)}).to_string(),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::OK,
        "200 characters is the bound, not past it"
    );
    // A device event's detail: at most 4096 bytes.
    let detail = json!({"note": "y".repeat(5000)});
    let (s, v) = lan
        .post(
            "/api/device-events",
            Some("demo-kiosk-token-change-me"),
            &json!({"kind": "printer_fault", "detail": detail}).to_string(),
        )
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("too_long")),
        "{v}"
    );
    // Bodies over 16 KiB: a JSON 413, whatever the endpoint.
    let huge = json!({"kind": "printed", "detail": {"x": "z".repeat(40_000)}}).to_string();
    let (s, v) = lan
        .post(
            "/api/device-events",
            Some("demo-kiosk-token-change-me"),
            &huge,
        )
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")),
        "{v}"
    );
    let stored = kinds(&lan.db);
    assert!(
        !stored
            .iter()
            .any(|(k, _)| k == "printer_fault" || k == "printed"),
        "{stored:?}"
    );
    lan.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_is_json_with_a_short_reason() {
    let lan = Lan::start().await;
    let t1 = lan.login(1).await;
    // Wrong method: axum's own 405, now JSON, still with its Allow header.
    let r = lan
        .client
        .get(format!("{}/api/login", lan.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.headers().contains_key("allow"));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "method_not_allowed");
    // Bad UTF-8 in a path, a long path segment, an unknown path.
    for (path, status, word) in [
        (
            "/api/counters/%FF%FE/call-next",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        ("/api/nothing-here", StatusCode::NOT_FOUND, "not_found"),
    ] {
        let (s, v) = Lan::send(lan.client.post(format!("{}{path}", lan.url)), Some(&t1)).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (status, Some(word)),
            "{path}: {v}"
        );
    }
    let long = "9".repeat(20_000);
    let (s, v) = lan.get(&format!("/api/counters/{long}"), Some(&t1)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert!(
        v["reason"].as_str().unwrap().chars().count() <= 301,
        "the input is quoted in part"
    );
    // A body that is not declared JSON is not read as JSON (a cross-site form post).
    let r = lan
        .client
        .post(format!("{}/api/counters/1/call-next", lan.url))
        .bearer_auth(&t1)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unsupported_media_type"
    );
    lan.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_hosts_are_refused_and_pages_carry_security_headers() {
    let lan = Lan::start_with(0, |c| {
        c.api.allowed_hosts = vec!["quay.phuong.local".into()]
    })
    .await;
    let get = |host: &'static str, path: &'static str| {
        lan.client
            .get(format!("{}{path}", lan.url))
            .header("host", host)
            .send()
    };
    // DNS rebinding: a page on evil.example resolved to the hub's address.
    let r = get("evil.example:8080", "/api/status").await.unwrap();
    assert_eq!(r.status(), StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "bad_host");
    for host in ["127.0.0.1:8080", "localhost", "quay.phuong.local:8080"] {
        let r = get(host, "/api/status").await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{host}");
        assert_eq!(r.headers()["cache-control"], "no-store");
    }
    let r = get("127.0.0.1", "/counter").await.unwrap();
    let h = r.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'sha256-"),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline'; img") || csp.contains("style-src"),
        "{csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    lan.stop().await;
}

/// The demo config, listening on the LAN: every demo secret is refused by name and line.
#[test]
fn demo_secrets_are_refused_on_a_lan_address() {
    let dir = tempfile::tempdir().unwrap();
    let text = kiosk::config::DEMO_TOML
        .replace("listen = \"127.0.0.1:8080\"", "listen = \"0.0.0.0:8080\"");
    let path = dir.path().join("lan.toml");
    std::fs::write(&path, &text).unwrap();
    let out = std::process::Command::new(kiosk_bin())
        .args(["--config", path.to_str().unwrap(), "check-config"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    assert!(
        err.contains(&format!("lan.toml:{}", line_of("pin = \"1111\""))),
        "the first PIN named by its line: {err}"
    );
    assert!(err.contains("api.kiosk_token"), "{err}");
    assert!(err.contains("0.0.0.0:8080"), "{err}");
    assert_eq!(
        err.matches("not allowed while").count(),
        6,
        "5 PINs and the kiosk token: {err}"
    );
    // The same file on loopback is the demo, and fine.
    let out = std::process::Command::new(kiosk_bin())
        .args(["--config", "kiosk-config/demo.toml", "check-config"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn one_person_whatever_the_spelling_and_no_reversible_hash() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = demo_config(dir.path());
    config.quota.per_day = 2;
    config.quota.per_bucket = 5;
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    let issue = |q: &mut kiosk::hub::QueueService, service: &str, id: &str| {
        let mut req = kiosk::hub::IssueRequest::walk_in(service);
        req.citizen_id = Some(id.to_string());
        q.issue_ticket(&req)
    };
    issue(&mut q, "ho-tich", "001190054321").unwrap();
    issue(&mut q, "chung-thuc", "001-190-054321").unwrap();
    let third = issue(&mut q, "cu-tru", " 001 190 054 321 ").unwrap_err();
    assert_eq!(third.reason_code(), "quota_exceeded", "{third}");
    let typo = issue(&mut q, "cu-tru", "00119005432").unwrap_err();
    assert_eq!(typo.reason_code(), "bad_citizen_id", "{typo}");
    // The database holds keyed hashes only; the key is a separate file beside it, not in it.
    assert!(config.id_key_file.exists());
    let key = std::fs::read_to_string(&config.id_key_file).unwrap();
    let db = std::fs::read(&config.db_path).unwrap();
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    assert!(
        !contains(&db, key.trim().as_bytes()),
        "the key is not in the database"
    );
    assert!(!contains(&db, b"001190054321"));
}

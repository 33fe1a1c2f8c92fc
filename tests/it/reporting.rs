//! Reporting against the real receiver on 127.0.0.1: events arrive once each and in order,
//! through 500s, dropped connections, timeouts, a receiver that is down for a while, and a
//! sender killed mid-batch; bad reports are refused with a reason and change nothing.

use std::sync::Arc;
use std::time::Duration;

use kiosk::centre::{Centre, CentreConfig, PointConfig};
use kiosk::domain::EventKind;
use kiosk::hub::{IssueRequest, QueueService};
use kiosk::report::{Report, SendError, Sender};
use kiosk::store::Store;
use tokio::sync::oneshot;

use crate::common::*;
use crate::fault_proxy::{Fault, FaultProxy};

pub(crate) const TOKEN: &str = "test-token-0123";
pub(crate) const POINT: &str = "hn.ttpvhcc/cn-07/demo";
const VIEWER: &str = "viewer-token-0123456789";

pub(crate) struct Receiver {
    pub centre: Arc<Centre>,
    pub addr: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Receiver {
    pub async fn start(dir: &std::path::Path, addr: Option<&str>) -> Receiver {
        Receiver::start_with(dir, addr, Default::default()).await
    }

    pub async fn start_with(
        dir: &std::path::Path,
        addr: Option<&str>,
        booking: kiosk::centre::BookingRules,
    ) -> Receiver {
        let config = CentreConfig {
            listen: "127.0.0.1:0".into(),
            db_path: dir.join("centre.sqlite"),
            max_body_bytes: 64 * 1024,
            stale_after_seconds: 120,
            ticket_stale_after_seconds: 75,
            tls: None,
            behind_tls_proxy: false,
            trend_keep_hours: 48,
            store: None,
            point: vec![
                PointConfig {
                    path: POINT.into(),
                    token: TOKEN.into(),
                },
                PointConfig {
                    path: "hn.ttpvhcc/cn-01/other".into(),
                    token: "other-token".into(),
                },
            ],
            viewer: vec![kiosk::centre::ViewerConfig {
                name: "test".into(),
                token: VIEWER.into(),
            }],
            allowed_hosts: Vec::new(),
            booking,
        };
        let centre = Arc::new(Centre::open(&config).unwrap());
        let listener = tokio::net::TcpListener::bind(addr.unwrap_or("127.0.0.1:0"))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(kiosk::centre::serve(listener, Arc::clone(&centre), async {
            let _ = rx.await;
        }));
        Receiver {
            centre,
            addr,
            stop: Some(tx),
        }
    }

    pub fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// A point (queue service) whose reporting goes to `url`, with small batches.
fn point(
    dir: &std::path::Path,
    url: &str,
    batch: usize,
) -> (QueueService, Arc<kiosk::config::Config>) {
    let mut config = demo_config(dir);
    config.reporting.url = Some(url.to_string());
    config.reporting.token = Some(TOKEN.into());
    config.reporting.batch_size = batch;
    config.reporting.timeout_seconds = 1;
    let clock = clock_at(monday_morning());
    let q = open(&config, &clock);
    (q, Arc::new(config))
}

/// Some activity: issue, call, serve, finish, a transfer and a no-show.
fn activity(q: &mut QueueService, n: usize) {
    for i in 0..n {
        let service = ["ho-tich", "chung-thuc", "dat-dai"][i % 3];
        q.issue_ticket(&IssueRequest::walk_in(service)).unwrap();
    }
    for _ in 0..3 {
        if q.call_next(2).unwrap().ticket.is_some() {
            q.start_serving(2).unwrap();
        }
    }
    let _ = q.finish(2);
    if q.call_next(4).unwrap().ticket.is_some() {
        q.mark_no_show(4).unwrap();
    }
}

/// (seq, kind, code) of every event at the point, in order.
fn local_events(config: &kiosk::config::Config) -> Vec<(i64, String, Option<String>)> {
    let mut store = Store::open(&config.db_path).unwrap();
    let tx = store.read().unwrap();
    tx.events_after(0, 100_000)
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e.kind.to_string(), e.code))
        .collect()
}

fn backlog(config: &kiosk::config::Config) -> u64 {
    let mut store = Store::open(&config.db_path).unwrap();
    store.read().unwrap().outbox_backlog().unwrap().0
}

/// Keep sending until the outbox is empty, retrying transient failures at once.
async fn drain_through_faults(sender: &Sender, config: &kiosk::config::Config) -> usize {
    let mut failures = 0;
    for _ in 0..200 {
        if backlog(config) == 0 {
            return failures;
        }
        match sender.send_batch(None).await {
            Ok(_) => {}
            Err(e) => {
                assert!(e.is_transient(), "not transient: {e}");
                failures += 1;
            }
        }
    }
    panic!("outbox never drained");
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/centre-report.schema.json"),
    )
    .unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_arrive_once_each_in_order_and_reports_match_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path(), None).await;
    let url = format!("http://{}/api/v1/reports", receiver.addr);
    let (mut q, config) = point(dir.path(), &url, 7);
    activity(&mut q, 12);
    let sender = Sender::new(Arc::clone(&config)).unwrap();

    // Every report the sender builds validates against the documented schema.
    let status = q.status().unwrap();
    let mut store = Store::open(&config.db_path).unwrap();
    let snap = kiosk::report::snapshot(
        &config,
        &status,
        &mut store,
        chrono::Utc::now(),
        Duration::from_secs(5),
    )
    .unwrap();
    let (report, _, _) = sender.next_report(Some(snap)).unwrap();
    let validator = schema();
    let json = serde_json::to_value(&report).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match the schema: {errors:?}"
    );
    assert_eq!(report.snapshot.as_ref().unwrap().services.len(), 6);

    let sent = sender.drain().await.unwrap();
    let local = local_events(&config);
    assert_eq!(sent, local.len());
    assert_eq!(receiver.centre.events_of(POINT).unwrap(), local);
    assert_eq!(backlog(&config), 0);
    // Nothing left: a second drain sends nothing and changes nothing.
    assert_eq!(sender.drain().await.unwrap(), 0);
    assert_eq!(receiver.centre.events_of(POINT).unwrap().len(), local.len());
    let points = receiver.centre.points(chrono::Utc::now()).unwrap();
    assert_eq!(points[0]["path"], POINT);
    assert_eq!(points[0]["stale"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_between_point_and_centre_lose_and_duplicate_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut receiver = Receiver::start(dir.path(), None).await;
    let proxy = FaultProxy::start(receiver.addr.clone()).await;
    let url = format!("http://{}/api/v1/reports", proxy.addr);
    let (mut q, config) = point(dir.path(), &url, 4);
    activity(&mut q, 15);
    let sender = Sender::new(Arc::clone(&config)).unwrap();
    proxy.then(&[
        Fault::Status500,
        Fault::Pass,
        Fault::ForwardThenDrop,
        Fault::CloseAtOnce,
        Fault::ForwardThenDelay(1500),
        Fault::Pass,
        Fault::Status500,
        Fault::ForwardThenDrop,
    ]);
    let failures = drain_through_faults(&sender, &config).await;
    assert!(
        failures >= 6,
        "the faults were not exercised ({failures} failures)"
    );
    assert!(
        proxy.seen.lock().unwrap().len() >= 8,
        "every scripted fault met a request"
    );

    // More activity, then the receiver goes down for a while and comes back on the same port.
    activity(&mut q, 6);
    receiver.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..3 {
        let e = sender.send_batch(None).await.unwrap_err();
        assert!(
            matches!(e, SendError::Network(_) | SendError::Refused { .. }),
            "{e}"
        );
    }
    let receiver = Receiver::start(dir.path(), Some(&receiver.addr)).await;
    drain_through_faults(&sender, &config).await;

    let local = local_events(&config);
    assert_eq!(
        receiver.centre.events_of(POINT).unwrap(),
        local,
        "lost, duplicated or reordered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_killed_mid_batch_resends_and_the_centre_keeps_one_copy() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path(), None).await;
    let proxy = FaultProxy::start(receiver.addr.clone()).await;
    let url = format!("http://{}/api/v1/reports", proxy.addr);
    let (mut q, config) = point(dir.path(), &url, 500);
    activity(&mut q, 10);
    drop(q);
    // The site config the `kiosk` process reads.
    let cfg_file = dir.path().join("site.toml");
    let text = kiosk::config::DEMO_TOML
        .replace(
            "url = \"http://127.0.0.1:8090/api/v1/reports\"",
            &format!("url = \"{url}\""),
        )
        .replace("timeout_seconds = 10", "timeout_seconds = 5");
    std::fs::write(&cfg_file, text).unwrap();
    // The receiver stores the batch, but its answer is held back; the sender dies meanwhile.
    proxy.then(&[Fault::ForwardThenDelay(3000)]);
    let mut child = std::process::Command::new(kiosk_bin())
        .args(["--config", cfg_file.to_str().unwrap(), "report", "send"])
        .env("KIOSK_DB", &config.db_path)
        .env("KIOSK_CENTRE_TOKEN", TOKEN)
        .spawn()
        .unwrap();
    let stored = local_events(&config).len();
    for _ in 0..100 {
        if receiver.centre.events_of(POINT).unwrap().len() == stored {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        receiver.centre.events_of(POINT).unwrap().len(),
        stored,
        "batch not stored"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        backlog(&config),
        stored as u64,
        "the cursor must not move without an answer"
    );
    // Restarted, it sends the same batch again; the centre keeps one copy.
    let out = std::process::Command::new(kiosk_bin())
        .args(["--config", cfg_file.to_str().unwrap(), "report", "send"])
        .env("KIOSK_DB", &config.db_path)
        .env("KIOSK_CENTRE_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(backlog(&config), 0);
    assert_eq!(
        receiver.centre.events_of(POINT).unwrap(),
        local_events(&config)
    );
}

/// Issue 16: five events with big payloads made one batch larger than the receiver takes; it
/// answered 413 forever and the point never reported again. Now an event over the bound goes
/// with a stub for its detail, batches are bounded by bytes, and a 413 makes them smaller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_events_never_block_reporting() {
    let dir = tempfile::tempdir().unwrap();
    // This receiver takes 64 KiB a report.
    let receiver = Receiver::start(dir.path(), None).await;
    let url = format!("http://{}/api/v1/reports", receiver.addr);
    let (mut q, config) = point(dir.path(), &url, 500);
    activity(&mut q, 3);
    // Five events of 100 KB each (more than any API lets in; an old database might hold them)
    // and twenty of 10 KB (each within the event bound, together over the receiver's limit).
    for i in 0..5 {
        q.record_device_event(
            EventKind::PrinterFault,
            None,
            serde_json::json!({ "n": i, "note": "x".repeat(100_000) }),
        )
        .unwrap();
    }
    for i in 0..20 {
        q.record_device_event(
            EventKind::PrinterWarning,
            None,
            serde_json::json!({ "n": i, "note": "y".repeat(10_000) }),
        )
        .unwrap();
    }
    activity(&mut q, 3);
    let sender = Sender::new(Arc::clone(&config)).unwrap();
    let sent = sender.drain().await.unwrap();
    let local = local_events(&config);
    assert_eq!(sent, local.len());
    assert_eq!(backlog(&config), 0);
    let held = receiver.centre.events_of(POINT).unwrap();
    assert_eq!(held, local, "every event arrived once, in order");
    let conn = rusqlite::Connection::open(dir.path().join("centre.sqlite")).unwrap();
    let details: Vec<String> = conn
        .prepare("SELECT detail FROM events WHERE kind = 'printer_fault' ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(details.len(), 5);
    for d in &details {
        let v: serde_json::Value = serde_json::from_str(d).unwrap();
        let stub = &v["oversized_detail"];
        assert!(stub["bytes"].as_u64().unwrap() > 100_000, "{v}");
        assert_eq!(stub["sha256"].as_str().unwrap().len(), 64);
    }
    let warning: String = conn
        .query_row(
            "SELECT detail FROM events WHERE kind = 'printer_warning' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(warning.len() > 10_000, "events within the bound go whole");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_reports_are_refused_with_a_reason_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path(), None).await;
    let url = format!("http://{}/api/v1/reports", receiver.addr);
    let (mut q, config) = point(dir.path(), &url, 500);
    activity(&mut q, 3);
    let sender = Sender::new(Arc::clone(&config)).unwrap();
    let (good, _, _) = sender.next_report(None).unwrap();
    // A fresh connection per request, as the point's sender uses: a refused body (413) may
    // leave the server closing a kept-alive connection the next request would reuse.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    async fn send(
        client: &reqwest::Client,
        url: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        let mut req = client
            .post(url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }
    let good_body = serde_json::to_vec(&good).unwrap();

    let (s, body) = send(
        &client,
        &url,
        Some(TOKEN),
        b"{\"schema\": \"kiosk-report/1\", ".to_vec(),
    )
    .await;
    assert_eq!((s, body["error"].as_str()), (400, Some("malformed_report")));
    assert!(body["reason"].as_str().unwrap().contains("kiosk-report/1"));

    let (s, body) = send(&client, &url, Some("nope"), good_body.clone()).await;
    assert_eq!((s, body["error"].as_str()), (401, Some("wrong_token")));
    let (s, body) = send(&client, &url, None, good_body.clone()).await;
    assert_eq!((s, body["error"].as_str()), (401, Some("missing_token")));

    let mut big: Report = good.clone();
    let filler = big.events[0].clone();
    big.events = vec![filler; 2000];
    let (s, body) = send(
        &client,
        &url,
        Some(TOKEN),
        serde_json::to_vec(&big).unwrap(),
    )
    .await;
    assert_eq!(
        (s, body["error"].as_str()),
        (413, Some("payload_too_large")),
        "{body}"
    );

    // The framework's own refusals are JSON too: wrong method, unknown path, not JSON.
    let base = format!("http://{}", receiver.addr);
    for (req, status, word) in [
        (client.get(&url), 405, "method_not_allowed"),
        (client.get(format!("{base}/nope")), 404, "not_found"),
        (
            client
                .post(&url)
                .bearer_auth(TOKEN)
                .header("content-type", "text/plain")
                .body(good_body.clone()),
            415,
            "unsupported_media_type",
        ),
    ] {
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["error"], word, "{v}");
    }
    let (s, body) = send(&client, &url, Some("other-token"), good_body.clone()).await;
    assert_eq!((s, body["error"].as_str()), (403, Some("unknown_point")));

    let mut other_schema = good.clone();
    other_schema.schema = "kiosk-report/9".into();
    let (s, body) = send(
        &client,
        &url,
        Some(TOKEN),
        serde_json::to_vec(&other_schema).unwrap(),
    )
    .await;
    assert_eq!(
        (s, body["error"].as_str()),
        (400, Some("unsupported_schema"))
    );

    assert_eq!(
        receiver.centre.event_count().unwrap(),
        0,
        "a refusal changed something"
    );
    assert!(
        receiver
            .centre
            .points(chrono::Utc::now())
            .unwrap()
            .is_empty()
    );
    // The good one still goes through.
    let (s, body) = send(&client, &url, Some(TOKEN), good_body).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["accepted"], good.events.len());
}

#[test]
fn disk_budget_drops_sent_events_first_and_says_when_it_drops_unsent_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (mut q, config) = point(dir.path(), "http://127.0.0.1:9/", 500);
    for _ in 0..30 {
        q.issue_ticket(&IssueRequest::walk_in("ho-tich")).unwrap();
    }
    drop(q);
    let mut store = Store::open(&config.db_path).unwrap();
    {
        let tx = store.write().unwrap();
        tx.set_outbox_sent_up_to(10).unwrap(); // the centre has the first 10
        tx.commit().unwrap();
    }
    // Budget 25: the 5 oldest sent events go, nothing unsent is lost.
    assert_eq!(kiosk::report::enforce_budget(&mut store, 25).unwrap(), 0);
    assert_eq!(backlog(&config), 20);
    // Budget 12: every sent event goes, then the 8 oldest unsent, and that is logged.
    assert_eq!(kiosk::report::enforce_budget(&mut store, 12).unwrap(), 8);
    let events = local_events(&config);
    assert_eq!(events.last().unwrap().1, "outbox_dropped");
    assert_eq!(backlog(&config), 13, "12 kept + the outbox_dropped event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_expose_queues_outbox_and_printer() {
    let dir = tempfile::tempdir().unwrap();
    let (mut q, config) = point(dir.path(), "http://127.0.0.1:9/", 500);
    activity(&mut q, 6);
    let (hub, handle) = kiosk::hub::Hub::start(q);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = kiosk::api::ApiState::new(handle.clone(), config.db_path.clone()).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(kiosk::api::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let status = handle.status().await.unwrap();
    let waiting = status
        .services
        .iter()
        .find(|s| s.id == "dat-dai")
        .unwrap()
        .counts
        .waiting;
    assert!(
        text.contains(&format!(
            "kiosk_queue_waiting{{service=\"dat-dai\"}} {waiting}"
        )),
        "{text}"
    );
    let events = local_events(&config).len();
    assert!(
        text.contains(&format!("kiosk_outbox_backlog_events {events}")),
        "{text}"
    );
    assert!(
        text.contains("kiosk_tickets_today{service=\"chung-thuc\",state=\"done\"} 1"),
        "{text}"
    );
    let _ = stop.send(());
    let _ = server.await;
    drop(handle);
    hub.join();
}

/// The assistant's misses, recorded at a point with personal data scrubbed, reach the centre,
/// whose dashboard API lists the most frequent across points; `kiosk assistant misses` lists
/// the point's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assistant_misses_reach_the_centre_scrubbed_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut receiver = Receiver::start(dir.path(), None).await;
    let url = format!("http://{}/api/v1/reports", receiver.addr);
    let (mut q, config) = point(dir.path(), &url, 100);
    let asked = [
        ("làm giấy phép nuôi ong mật", "not_sure"),
        ("Làm giấy phép nuôi ong mật ", "left"),
        ("căn cước 001190054321 của tôi bị khóa", "not_sure"),
    ];
    for (question, outcome) in asked {
        q.record_device_event(
            kiosk::domain::EventKind::AssistantMiss,
            None,
            serde_json::json!({
                "question": kiosk::assistant::privacy::scrub(question),
                "outcome": outcome,
                "candidates": ["1.000000"],
            }),
        )
        .unwrap();
    }
    let sender = Sender::new(Arc::clone(&config)).unwrap();
    assert_eq!(sender.drain().await.unwrap(), 3);
    let misses_url = format!("http://{}/api/assistant-misses", receiver.addr);
    // The centre's staff only: no token, a wrong one, then a viewer's.
    let client = reqwest::Client::new();
    let r = client.get(&misses_url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .get(&misses_url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "a point's token does not open the dashboard"
    );
    let v: serde_json::Value = client
        .get(&misses_url)
        .bearer_auth(VIEWER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let misses = v["misses"].as_array().unwrap();
    assert_eq!(misses[0]["question"], "làm giấy phép nuôi ong mật");
    assert_eq!(misses[0]["count"], 2);
    assert_eq!(misses[0]["not_sure"], 1);
    assert_eq!(misses[1]["question"], "căn cước [số] của tôi bị khóa");
    assert!(
        !v.to_string().contains("001190054321"),
        "an id reached the centre"
    );
    receiver.stop();

    // The point's own list, from its database.
    let out = std::process::Command::new(kiosk_bin())
        .args(["assistant", "misses", "--json"])
        .env("KIOSK_DB", &config.db_path)
        .env_remove("KIOSK_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let own: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(own[0]["question"], "làm giấy phép nuôi ong mật");
    assert_eq!(own[0]["count"], 2);
}

/// The wire schema lists exactly the event kinds a point can store (all but the lobby kiosk's
/// in-memory `hub_changed`): a kind added to the vocabulary must be added to the contract.
#[test]
fn the_report_schema_names_every_stored_event_kind() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/centre-report.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let text = schema.to_string();
    for kind in kiosk::domain::EventKind::ALL {
        let listed = text.contains(&format!("\"{}\"", kind.as_str()));
        let stored = *kind != kiosk::domain::EventKind::HubChanged;
        assert_eq!(listed, stored, "{kind} in docs/centre-report.schema.json");
    }
}

/// Serve and rate tickets of `service` at `counter` with these scores, one after another.
fn serve_and_rate(
    q: &mut QueueService,
    clock: &kiosk::clock::ManualClock,
    service: &str,
    counter: u32,
    scores: &[u8],
) {
    for &score in scores {
        let issued = q.issue_ticket(&IssueRequest::walk_in(service)).unwrap();
        q.call_next(counter).unwrap();
        q.start_serving(counter).unwrap();
        clock.advance(chrono::Duration::minutes(3));
        q.finish(counter).unwrap();
        q.rate(
            counter,
            &issued.ticket.code,
            &kiosk::domain::RatingInput {
                score,
                reasons: vec![],
            },
        )
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ratings_reach_the_centre_and_add_up_per_point_counter_field_and_hour() {
    let dir = tempfile::tempdir().unwrap();
    let mut receiver = Receiver::start(dir.path(), None).await;
    let url = format!("http://{}/api/v1/reports", receiver.addr);
    let mut config = demo_config(dir.path());
    config.reporting.url = Some(url);
    config.reporting.token = Some(TOKEN.into());
    config.reporting.batch_size = 500;
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    let config = Arc::new(config);
    // Day one, from 09:00 Hanoi time: counter 1 (civil status) 5, 4, 2; counter 3
    // (certification) 1, 3.
    serve_and_rate(&mut q, &clock, "ho-tich", 1, &[5, 4, 2]);
    serve_and_rate(&mut q, &clock, "chung-thuc", 3, &[1, 3]);
    let sender = Sender::new(Arc::clone(&config)).unwrap();
    sender.drain().await.unwrap();

    let client = reqwest::Client::new();
    let get = |by: &str| {
        let url = format!("http://{}/api/ratings?by={by}&days=366", receiver.addr);
        let client = client.clone();
        async move {
            let r = client.get(&url).bearer_auth(VIEWER).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let by_point = get("point").await;
    let p = &by_point["groups"][0];
    assert_eq!(p["point"], POINT);
    assert_eq!(p["count"], 5);
    assert!((p["average"].as_f64().unwrap() - 3.0).abs() < 1e-9);
    // Circular 01/2018 by the default table: 5->2, 4->2, 2->0, 1->0, 3->1.
    assert!((p["circular_average"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    assert_eq!(p["scores"], serde_json::json!([1, 1, 1, 1, 1]));
    let by_counter = get("counter").await;
    let counters: Vec<(i64, i64, f64)> = by_counter["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["counter"].as_i64().unwrap(),
                g["count"].as_i64().unwrap(),
                g["average"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counters.len(), 2);
    assert_eq!((counters[0].0, counters[0].1), (1, 3));
    assert!((counters[0].2 - 11.0 / 3.0).abs() < 1e-9);
    assert_eq!((counters[1].0, counters[1].1), (3, 2));
    assert!((counters[1].2 - 2.0).abs() < 1e-9);
    let by_field = get("field").await;
    assert_eq!(by_field["groups"].as_array().unwrap().len(), 2);
    let by_hour = get("hour").await;
    let hours: Vec<&str> = by_hour["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["hour"].as_str().unwrap())
        .collect();
    assert_eq!(hours, ["2026-03-02 09"], "Hanoi's hour, not UTC's");
    let r = client
        .get(format!("http://{}/api/ratings?by=colour", receiver.addr))
        .bearer_auth(VIEWER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let refusal: serde_json::Value = r.json().await.unwrap();
    assert_eq!(refusal["error"], "bad_request");
    let r = client
        .get(format!("http://{}/api/ratings", receiver.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the centre's staff only");

    // The monthly CSV: a header and one row per point, day, counter and field.
    let csv = client
        .get(format!("http://{}/api/ratings.csv?days=366", receiver.addr))
        .bearer_auth(VIEWER)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("point,day,counter,field,ratings,average_1_5"));
    assert!(
        lines[1].contains(",2026-03-02,1,") && lines[1].contains(",3,3.67,1.33,0,1,0,1,1"),
        "{csv}"
    );

    // Ten 5s, then three weeks later ten 2s: the point is flagged as falling.
    serve_and_rate(&mut q, &clock, "ho-tich", 1, &[5; 10]);
    clock.advance(chrono::Duration::days(21));
    serve_and_rate(&mut q, &clock, "ho-tich", 1, &[2; 10]);
    sender.drain().await.unwrap();
    let now = kiosk::clock::Clock::now(clock.as_ref());
    let trends = receiver.centre.rating_trends(now).unwrap();
    assert_eq!(trends[0]["recent_count"], 10);
    assert_eq!(trends[0]["earlier_count"], 15);
    assert_eq!(trends[0]["falling"], true, "{trends:?}");
    let steady = receiver
        .centre
        .rating_trends(now - chrono::Duration::days(21))
        .unwrap();
    assert_eq!(steady[0]["falling"], false);
    receiver.stop();
}

/// The kiosk's dossier lookup against the real receiver: a known code answers with its status,
/// an unknown one with nothing, a bad token is refused, and no receiver is "offline".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dossier_lookup_online_unknown_refused_and_offline() {
    use kiosk::dossier::{CentreDossiers, DossierError, DossierSource};
    let dir = tempfile::tempdir().unwrap();
    let mut receiver = Receiver::start(dir.path(), None).await;
    let mut config = demo_config(dir.path());
    config.reporting.url = Some(format!("http://{}/api/v1/reports", receiver.addr));
    config.reporting.token = Some(TOKEN.into());
    let source = CentreDossiers::from_config(&config);
    let ready = kiosk::domain::parse_dossier_code("000.A0.01.H26-261125-0012").unwrap();
    let found = source
        .lookup(&ready)
        .await
        .unwrap()
        .expect("a demo dossier");
    assert_eq!(found.state, kiosk::wire::DossierState::Ready);
    assert_eq!(found.procedure, "Đăng ký khai sinh");
    let unknown = kiosk::domain::parse_dossier_code("000.A0.01.H26-261125-0099").unwrap();
    assert_eq!(source.lookup(&unknown).await.unwrap(), None);

    config.reporting.token = Some("not-a-point".into());
    let stranger = CentreDossiers::from_config(&config);
    assert_eq!(
        stranger.lookup(&ready).await,
        Err(DossierError::Refused("forbidden".into()))
    );
    // A malformed code straight to the receiver: refused with a JSON reason.
    let r = reqwest::Client::new()
        .get(format!("http://{}/api/v1/dossiers/A023", receiver.addr))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "bad_dossier_code");

    receiver.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    config.reporting.token = Some(TOKEN.into());
    config.reporting.url = Some(format!("http://{}/api/v1/reports", receiver.addr));
    let down = CentreDossiers::from_config(&config);
    assert!(matches!(
        down.lookup(&ready).await,
        Err(DossierError::Offline(_))
    ));
    config.reporting.url = None;
    let unconfigured = CentreDossiers::from_config(&config);
    assert!(matches!(
        unconfigured.lookup(&ready).await,
        Err(DossierError::Offline(_))
    ));
}

/// A ticket's QR link opens its live page on the centre: its place and wait, then "go to counter
/// N" once the call is reported; a wrong, partial or other point's token opens nothing; an old
/// report is called stale. The snapshot carries the day's realised figures and the estimate's
/// hit rate, which the dashboard's list shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tickets_link_follows_it_to_the_counter_and_the_centre_sees_the_estimate_hold() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path(), None).await;
    let url = format!("http://{}/api/v1/reports", receiver.addr);
    let (mut q, config) = point(dir.path(), &url, 50);
    let sender = Sender::new(Arc::clone(&config)).unwrap();
    let first = q.issue_ticket(&IssueRequest::walk_in("ho-tich")).unwrap();
    let second = q.issue_ticket(&IssueRequest::walk_in("ho-tich")).unwrap();
    let send_snapshot = |q: &mut QueueService| {
        let status = q.status().unwrap();
        let mut store = Store::open(&config.db_path).unwrap();
        kiosk::report::snapshot(
            &config,
            &status,
            &mut store,
            // The point's own clock (the call's hour is in its last hour).
            monday_morning() + chrono::Duration::minutes(1),
            Duration::from_secs(5),
        )
        .unwrap()
    };
    let snap = send_snapshot(&mut q);
    assert_eq!(
        snap.queue
            .iter()
            .map(|t| (t.code.as_str(), t.ahead))
            .collect::<Vec<_>>(),
        vec![
            (first.ticket.code.as_str(), 0),
            (second.ticket.code.as_str(), 1)
        ]
    );
    assert_eq!(
        snap.queue[1].wait_high_min,
        second.wait.map(|w| w.high_minutes),
        "the place sent is the estimate the ticket showed, nothing having moved"
    );
    sender.send_batch(Some(snap)).await.unwrap();

    let template = config.printer.qr_payload.clone().unwrap();
    let link = |t: &kiosk::domain::Ticket| kiosk::ticketing::qr_payload(&template, &config, t);
    let link_b = link(&second.ticket);
    assert!(
        link_b.starts_with(&format!("http://{}/ve?", receiver.addr)),
        "{link_b}"
    );
    let client = reqwest::Client::new();
    let page = client.get(&link_b).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("/api/v1/track"));
    let track = |l: String| {
        let client = client.clone();
        let api = l.replace("/ve?", "/api/v1/track?");
        async move {
            let r = client.get(&api).send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (status, b) = track(link_b.clone()).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["stage"], "waiting");
    assert_eq!(b["ahead"], 1);
    assert_eq!(b["wait_high_min"], second.wait.unwrap().high_minutes);
    assert_eq!(b["stale"], false);
    assert_eq!(b["point"]["name_vi"], config.site.name.vi);

    // Tampered, partial, another day's, another point's: the same refusal, as JSON.
    let k = link_b.rsplit_once("k=").unwrap().1.to_string();
    let flipped: String = k
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 3 {
                if c == 'a' { 'b' } else { 'a' }
            } else {
                c
            }
        })
        .collect();
    let day = second.ticket.service_day.format("%Y-%m-%d").to_string();
    let next_day = second
        .ticket
        .service_day
        .succ_opt()
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    let other_point = kiosk::report::track::token(
        "other-token",
        "hn.ttpvhcc/cn-01/other",
        second.ticket.service_day,
        &second.ticket.code,
    );
    for bad in [
        link_b.replace(&k, &flipped),
        link_b.replace(&k, &k[..10]),
        link_b.replace(&format!("ngay={day}"), &format!("ngay={next_day}")),
        link_b.replace(&k, &other_point),
        link_b.replace(&format!("so={}", second.ticket.code), "so=A999"),
    ] {
        let (status, body) = track(bad.clone()).await;
        assert_eq!(status, 404, "{bad}: {body}");
        assert_eq!(body["error"], "not_found");
    }
    for bad in [
        link_b.replace(&format!("&k={k}"), ""),
        link_b.replace(&format!("ngay={day}"), "ngay=01-12-2026"),
        link_b.replace(&format!("so={}", second.ticket.code), "so=%FF%FE"),
    ] {
        let (status, body) = track(bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"], "bad_request");
        assert!(body["reason"].as_str().unwrap().len() > 10);
    }

    // The call reaches the centre with its events alone (no snapshot yet): counter 1.
    let called = q.call_next(1).unwrap().ticket.unwrap();
    assert_eq!(called.code, first.ticket.code);
    sender.send_batch(None).await.unwrap();
    let (_, a) = track(link(&first.ticket)).await;
    assert_eq!(a["stage"], "called", "{a}");
    assert_eq!(a["counter"], 1);
    assert!(a["ahead"].is_null());
    // The next snapshot moves the second ticket up.
    let snap = send_snapshot(&mut q);
    let est = snap.estimate.clone().expect("one ticket judged");
    assert_eq!(est.judged, 1);
    assert!(
        snap.hours
            .iter()
            .any(|h| h.service == "ho-tich" && h.called == 1)
    );
    sender.send_batch(Some(snap)).await.unwrap();
    let (_, b) = track(link_b.clone()).await;
    assert_eq!(b["ahead"], 0, "{b}");
    q.start_serving(1).unwrap();
    q.finish(1).unwrap();
    sender.send_batch(None).await.unwrap();
    let (_, a) = track(link(&first.ticket)).await;
    assert_eq!(a["stage"], "done");

    // Seen from a minute and a half later, the point's data is stale.
    let later = receiver
        .centre
        .track(
            POINT,
            second.ticket.service_day,
            &second.ticket.code,
            &k,
            chrono::Utc::now() + chrono::Duration::seconds(90),
        )
        .unwrap()
        .unwrap();
    assert_eq!(later["stale"], true);
    assert_eq!(later["stage"], "waiting");

    // The dashboard's list: p90 of the last hour and the estimate's hit rate today.
    let points = receiver.centre.points(chrono::Utc::now()).unwrap();
    let p = points.iter().find(|p| p["path"] == POINT).unwrap();
    assert_eq!(p["estimate_judged"], 1);
    let rate = p["estimate_hit_rate"].as_f64().unwrap();
    assert!(rate == 0.0 || rate == 1.0, "{rate}");
    assert!(p["wait_p90_1h_s"].as_f64().is_some(), "{p}");
    assert!(
        p["snapshot"].get("queue").is_none(),
        "no ticket codes on the dashboard"
    );
}

/// `openssl` makes a CA and a certificate for `san` (e.g. "IP:127.0.0.1") signed by it, in `dir`
/// with `name` as the file stem. Returns (ca.pem, cert.pem, key.pem).
fn make_certs(
    dir: &std::path::Path,
    name: &str,
    san: &str,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let p = |f: &str| dir.join(format!("{name}-{f}"));
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs (scripts/setup installs it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (ca_key, ca, key, csr, cert, ext) = (
        p("ca.key"),
        p("ca.pem"),
        p("key.pem"),
        p("csr.pem"),
        p("cert.pem"),
        p("ext.cnf"),
    );
    let s = |x: &std::path::Path| x.to_str().unwrap().to_string();
    // Each command as one line of words (no word has a space in it).
    let run_line = |line: String| run(&line.split(' ').collect::<Vec<_>>());
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    run_line(format!(
        "req -x509 {ec} -keyout {} -out {} -days 2 -subj /CN=test-centre-ca \
         -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
        s(&ca_key),
        s(&ca)
    ));
    run_line(format!(
        "req {ec} -keyout {} -out {} -subj /CN=centre",
        s(&key),
        s(&csr)
    ));
    std::fs::write(
        &ext,
        format!("subjectAltName={san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"),
    )
    .unwrap();
    run_line(format!(
        "x509 -req -in {} -CA {} -CAkey {} -CAcreateserial -out {} -days 2 -extfile {}",
        s(&csr),
        s(&ca),
        s(&ca_key),
        s(&cert),
        s(&ext)
    ));
    (ca, cert, key)
}

/// The receiver serves HTTPS itself and the real sender verifies it against its pinned CA: the
/// report lands; a sender pinning another CA, a certificate for another address and a plain
/// HTTP client are all refused and store nothing. Bad TLS settings are config errors naming the
/// file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_go_over_tls_to_a_pinned_ca_and_a_wrong_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certs(dir.path(), "good", "IP:127.0.0.1");
    let (other_ca, _, _) = make_certs(dir.path(), "other", "IP:127.0.0.1");
    let (wrong_ca, wrong_cert, wrong_key) = make_certs(dir.path(), "wrong", "IP:127.0.0.2");
    let serve = |cert: &std::path::Path, key: &std::path::Path, db: &str| {
        let config = CentreConfig {
            listen: "127.0.0.1:0".into(),
            db_path: dir.path().join(db),
            max_body_bytes: 64 * 1024,
            stale_after_seconds: 120,
            ticket_stale_after_seconds: 75,
            tls: Some(kiosk::centre::tls::TlsConfig {
                cert_file: cert.to_path_buf(),
                key_file: key.to_path_buf(),
            }),
            behind_tls_proxy: false,
            trend_keep_hours: 48,
            store: None,
            point: vec![PointConfig {
                path: POINT.into(),
                token: TOKEN.into(),
            }],
            viewer: Vec::new(),
            allowed_hosts: Vec::new(),
            booking: Default::default(),
        };
        let acceptor = config.tls.as_ref().unwrap().acceptor().unwrap();
        let centre = Arc::new(Centre::open(&config).unwrap());
        async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(kiosk::centre::serve_tls(
                listener,
                acceptor,
                Arc::clone(&centre),
                std::future::pending(),
            ));
            (centre, addr)
        }
    };
    let (centre, addr) = serve(&cert, &key, "good.sqlite").await;
    let url = format!("https://127.0.0.1:{}/api/v1/reports", addr.port());
    let (mut q, config) = point(dir.path(), &url, 50);
    activity(&mut q, 4);
    let with_ca = |ca: &std::path::Path| {
        let mut c = (*config).clone();
        c.reporting.ca_file = Some(ca.to_path_buf());
        Sender::new(Arc::new(c)).unwrap()
    };

    // Another CA pinned: the handshake fails, nothing is stored, the cursor stays.
    let err = with_ca(&other_ca).drain().await.unwrap_err();
    assert!(matches!(err, SendError::Network(_)), "{err}");
    assert!(err.is_transient());
    assert!(centre.events_of(POINT).unwrap().is_empty());
    assert!(backlog(&config) > 0);

    // The pinned CA: everything lands, once.
    let sent = with_ca(&ca).drain().await.unwrap();
    assert_eq!(sent, local_events(&config).len());
    assert_eq!(centre.events_of(POINT).unwrap(), local_events(&config));

    // Plain HTTP to the HTTPS port gets no answer a client could take for the centre's.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/healthz", addr.port()))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());

    // A certificate (from the right CA) for another address is refused too.
    let (wrong_centre, wrong_addr) = serve(&wrong_cert, &wrong_key, "wrong.sqlite").await;
    let mut c = (*config).clone();
    c.reporting.url = Some(format!(
        "https://127.0.0.1:{}/api/v1/reports",
        wrong_addr.port()
    ));
    // Its own CA pinned: only the address is wrong.
    c.reporting.ca_file = Some(wrong_ca);
    activity(&mut q, 1);
    let err = Sender::new(Arc::new(c))
        .unwrap()
        .send_batch(None)
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Network(_)), "{err}");
    assert!(wrong_centre.events_of(POINT).unwrap().is_empty());

    // Bad settings are refused at load, naming the file.
    let toml_of = |listen: &str, extra: &str| {
        let p = dir.path().join("centre.toml");
        std::fs::write(
            &p,
            format!(
                "listen = \"{listen}\"\ndb_path = \"{}\"\n{extra}\n",
                dir.path().join("c.sqlite").display()
            ),
        )
        .unwrap();
        CentreConfig::load(&p)
    };
    let tls = |c: &std::path::Path, k: &std::path::Path| {
        format!(
            "[tls]\ncert_file = \"{}\"\nkey_file = \"{}\"",
            c.display(),
            k.display()
        )
    };
    let e = toml_of("127.0.0.1:0", &tls(&dir.path().join("missing.pem"), &key)).unwrap_err();
    assert!(e.contains("missing.pem") && e.contains("tls"), "{e}");
    let e = toml_of("127.0.0.1:0", &tls(&cert, &wrong_key)).unwrap_err();
    assert!(e.contains("does not go with"), "{e}");
    let e = toml_of("127.0.0.1:0", "").map(|_| ());
    assert!(e.is_ok(), "loopback may be plain: {e:?}");
    let e = toml_of("0.0.0.0:8443", "").unwrap_err();
    assert!(
        e.contains("plain HTTP") && e.contains("behind_tls_proxy"),
        "{e}"
    );
}

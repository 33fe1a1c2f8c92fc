//! The hub's LAN API on 127.0.0.1 (port 0): counters with PINs and tokens, the authorisation
//! rules, bad input, other kiosks, and the board's server-sent events.

use std::time::Duration;

use kiosk::api::ApiState;
use kiosk::sse;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::common::*;

pub struct Lan {
    pub url: String,
    pub client: Client,
    pub db: std::path::PathBuf,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    hub: Option<kiosk::hub::Hub>,
    _dir: tempfile::TempDir,
}

impl Lan {
    pub async fn start() -> Lan {
        Lan::start_on(0).await
    }

    /// On a given port (0 = any free one).
    pub async fn start_on(port: u16) -> Lan {
        // These tests issue many tickets from one address; the limit has its own test.
        Lan::start_with(port, |c| c.api.issue_per_minute = 600).await
    }

    /// With the demo config changed by `edit`.
    pub async fn start_with(port: u16, edit: impl FnOnce(&mut kiosk::config::Config)) -> Lan {
        let dir = tempfile::tempdir().unwrap();
        let mut config = demo_config(dir.path());
        edit(&mut config);
        let db = config.db_path.clone();
        let q = kiosk::hub::QueueService::new(
            std::sync::Arc::new(config),
            kiosk::store::Store::open(&db).unwrap(),
            std::sync::Arc::new(kiosk::clock::SystemClock),
        )
        .unwrap();
        let (hub, handle) = kiosk::hub::Hub::start(q);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let state = ApiState::new(handle, db.clone()).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(kiosk::api::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Lan {
            url: format!("http://{addr}"),
            client: Client::new(),
            db,
            stop: Some(stop),
            server: Some(server),
            hub: Some(hub),
            _dir: dir,
        }
    }

    /// Send with an optional bearer token; the answer must be JSON whatever the status.
    pub async fn send(req: reqwest::RequestBuilder, token: Option<&str>) -> (StatusCode, Value) {
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
        (status, v)
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &str) -> (StatusCode, Value) {
        let req = self
            .client
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body.to_string());
        Lan::send(req, token).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        Lan::send(self.client.get(format!("{}{path}", self.url)), token).await
    }

    pub async fn login(&self, counter: u32) -> String {
        let pin = counter.to_string().repeat(4);
        let (s, v) = self
            .post(
                "/api/login",
                None,
                &json!({"counter": counter, "pin": pin}).to_string(),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["token"].as_str().unwrap().to_string()
    }

    pub async fn issue(&self, service: &str) -> String {
        let (s, v) = self
            .post(
                "/api/tickets",
                Some("demo-kiosk-token-change-me"),
                &json!({ "service": service }).to_string(),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["ticket"]["code"].as_str().unwrap().to_string()
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = self.server.take().unwrap().await;
        drop(self.hub.take());
    }
}

fn ticket_states(db: &std::path::Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.prepare("SELECT code, state FROM tickets ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_signs_in_and_works_through_every_action() {
    let lan = Lan::start().await;
    let t1 = lan.login(1).await;
    let a1 = lan.issue("ho-tich").await;
    let a2 = lan.issue("ho-tich").await;
    let a3 = lan.issue("ho-tich").await;
    assert_eq!(
        (a1.as_str(), a2.as_str(), a3.as_str()),
        ("A001", "A002", "A003")
    );

    let (s, v) = lan.get("/api/counters/1", Some(&t1)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["queue"].as_array().unwrap().len(), 3);
    assert_eq!(v["queue"][0]["code"], "A001");

    let act = |a: &'static str, body: Value| {
        let lan = &lan;
        let t1 = t1.clone();
        async move {
            lan.post(
                &format!("/api/counters/1/{a}"),
                Some(&t1),
                &body.to_string(),
            )
            .await
        }
    };
    let (s, v) = act("call-next", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["ticket"]["code"], "A001");
    assert_eq!(v["ticket"]["state"], "called");
    let (s, v) = act("recall", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["events"][0]["kind"], "recalled");
    let (s, _) = act("serve", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = act("done", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["ticket"]["state"], "done");
    // Call a given number, then send it to another queue.
    let (s, v) = act("call", json!({"code": "A003"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["ticket"]["code"], "A003");
    let (s, v) = act("transfer", json!({"service": "chung-thuc"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["ticket"]["service_id"], "chung-thuc");
    // No-show.
    let (s, _) = act("call-next", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = act("no-show", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["ticket"]["state"], "no_show");
    // Pause: calls are refused with a reason, nothing changes; resume.
    let (s, _) = act("pause", json!({"reason": "nghỉ trưa"})).await;
    assert_eq!(s, StatusCode::OK);
    let a4 = lan.issue("ho-tich").await;
    let before = ticket_states(&lan.db);
    let (s, v) = act("call-next", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"], "counter_paused");
    assert!(v["reason"].as_str().unwrap().contains("nghỉ trưa"));
    assert_eq!(ticket_states(&lan.db), before, "a refusal changed nothing");
    // The board feed follows the hub's events on its own task: it says paused within moments.
    let mut v = json!(null);
    for _ in 0..100 {
        v = lan.get("/api/board", None).await.1;
        if v["counters"][0]["state"] == "paused" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(v["counters"][0]["state"], "paused", "{v}");
    let (s, _) = act("resume", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let (_, v) = act("call-next", json!({})).await;
    assert_eq!(v["ticket"]["code"], a4.as_str());
    lan.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_open_only_their_own_counter_and_services() {
    let lan = Lan::start().await;
    let t1 = lan.login(1).await;
    let t4 = lan.login(4).await;
    lan.issue("ho-tich").await;
    // No token, a wrong token, another counter's token.
    let (s, v) = lan.post("/api/counters/1/call-next", None, "{}").await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorised"))
    );
    let (s, v) = lan
        .post("/api/counters/1/call-next", Some("not-a-token"), "{}")
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (s, _) = lan.post("/api/counters/1/call-next", Some(&t4), "{}").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = lan.get("/api/counters/1", Some(&t4)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Counter 4 serves land only: calling a civil-status ticket by number is refused.
    let (s, v) = lan
        .post("/api/counters/4/call", Some(&t4), r#"{"code":"A001"}"#)
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("counter_does_not_serve"))
    );
    // Wrong PIN, unknown counter.
    let (s, v) = lan
        .post("/api/login", None, r#"{"counter":1,"pin":"9999"}"#)
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("wrong_pin"))
    );
    let (s, v) = lan
        .post("/api/login", None, r#"{"counter":42,"pin":"1111"}"#)
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_counter"))
    );
    assert_eq!(
        ticket_states(&lan.db),
        [("A001".to_string(), "waiting".to_string())]
    );
    // The PIN token survives a restart of the API (it is signed with a stored secret).
    let (s, _) = lan.get("/api/counters/1", Some(&t1)).await;
    assert_eq!(s, StatusCode::OK);
    lan.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_json_reason_and_changes_nothing() {
    let lan = Lan::start().await;
    let t1 = lan.login(1).await;
    lan.issue("ho-tich").await;
    let before = ticket_states(&lan.db);
    for (path, body, status, code) in [
        (
            "/api/counters/1/call",
            "{not json",
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            "/api/counters/1/call",
            r#"{"cod":"A001"}"#,
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            "/api/counters/1/call",
            "{}",
            StatusCode::BAD_REQUEST,
            "missing_field",
        ),
        (
            "/api/counters/1/call",
            r#"{"code":"Z999"}"#,
            StatusCode::NOT_FOUND,
            "ticket_not_found",
        ),
        (
            "/api/counters/1/fly",
            "{}",
            StatusCode::NOT_FOUND,
            "unknown_action",
        ),
        (
            "/api/counters/abc/call-next",
            "{}",
            StatusCode::NOT_FOUND,
            "unknown_counter",
        ),
        (
            "/api/counters/1/recall",
            "{}",
            StatusCode::CONFLICT,
            "no_current_ticket",
        ),
    ] {
        let (s, v) = lan.post(path, Some(&t1), body).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (status, Some(code)),
            "{path} {body}: {v}"
        );
        assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()));
    }
    let (s, v) = lan.get("/api/nowhere", None).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    // Transfer to an unknown service while a ticket is called.
    lan.post("/api/counters/1/call-next", Some(&t1), "").await;
    let called = ticket_states(&lan.db);
    let (s, v) = lan
        .post(
            "/api/counters/1/transfer",
            Some(&t1),
            r#"{"service":"nope"}"#,
        )
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_service"))
    );
    assert_eq!(ticket_states(&lan.db), called);
    assert_ne!(called, before);
    lan.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_kiosks_issue_with_the_kiosk_token_only() {
    let lan = Lan::start().await;
    let (s, v) = lan
        .post("/api/tickets", None, r#"{"service":"ho-tich"}"#)
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorised"))
    );
    let (s, _) = lan
        .post("/api/tickets", Some("wrong"), r#"{"service":"ho-tich"}"#)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let k = Some("demo-kiosk-token-change-me");
    let (s, v) = lan.post("/api/tickets", k, r#"{"service":"nope"}"#).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_service"))
    );
    let (s, v) = lan
        .post(
            "/api/tickets",
            k,
            r#"{"service":"ho-tich","priority":"elderly"}"#,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["ticket"]["priority_group"], "elderly");
    assert_eq!(v["people_ahead"], 0);
    assert_eq!(ticket_states(&lan.db).len(), 1);
    let (s, v) = lan.get("/api/status", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["services"][0]["counts"]["waiting"], 1);
    lan.stop().await;
}

/// Read SSE messages from `/api/events` until `want` matches one, or 5 s pass.
pub async fn next_event(
    resp: &mut reqwest::Response,
    reader: &mut sse::Reader,
    want: impl Fn(&sse::Message) -> bool,
) -> sse::Message {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .expect("timed out waiting for an event")
            .unwrap()
            .expect("stream ended");
        for m in reader.feed(&chunk) {
            if want(&m) {
                return m;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boards_get_the_whole_board_then_each_call_live() {
    let lan = Lan::start().await;
    let t2 = lan.login(2).await;
    lan.issue("chung-thuc").await;
    let mut resp = lan
        .client
        .get(format!("{}/api/events", lan.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let mut reader = sse::Reader::new();
    let first = next_event(&mut resp, &mut reader, |_| true).await;
    assert_eq!(first.event, "board");
    let board: Value = serde_json::from_str(&first.data).unwrap();
    assert_eq!(board["counters"].as_array().unwrap().len(), 5);
    lan.post("/api/counters/2/call-next", Some(&t2), "").await;
    let call = next_event(&mut resp, &mut reader, |m| m.event == "call").await;
    let call: Value = serde_json::from_str(&call.data).unwrap();
    assert_eq!(call["code"], "B001");
    assert_eq!(call["counter"], 2);
    assert_eq!(call["counter_vi"], "Quầy 2");
    assert_eq!(call["recall"], false);
    let board = next_event(&mut resp, &mut reader, |m| m.event == "board").await;
    let board: Value = serde_json::from_str(&board.data).unwrap();
    assert_eq!(board["counters"][1]["code"], "B001");
    assert_eq!(board["last_calls"][0]["code"], "B001");
    lan.post("/api/counters/2/recall", Some(&t2), "").await;
    let call = next_event(&mut resp, &mut reader, |m| m.event == "call").await;
    assert!(call.data.contains("\"recall\":true"));
    drop(resp);
    // The pages are served.
    for page in ["/board", "/counter", "/"] {
        let r = lan
            .client
            .get(format!("{}{page}", lan.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("<html"));
    }
    lan.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_file_is_served_and_names_every_route() {
    let lan = Lan::start().await;
    let r = lan
        .client
        .get(format!("{}/api/openapi.yaml", lan.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let src = include_str!("../../src/api/lan.rs");
    let routes: Vec<&str> = src
        .split(".route(\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|p| p.starts_with("/api/") && *p != "/api/openapi.yaml")
        .collect();
    assert!(routes.len() >= 7, "{routes:?}");
    for route in routes {
        assert!(
            text.contains(&format!("  {route}:")),
            "{route} is not in docs/openapi.yaml"
        );
    }
    lan.stop().await;
}

/// A second kiosk in the lobby (`kiosk run --hub`): the same `HubHandle` the touchscreen uses,
/// working through this hub's API. Its tickets land in the hub's queues and it sees the same
/// status, live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_kiosk_issues_into_and_follows_the_hubs_queues() {
    let lan = Lan::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = std::sync::Arc::new(demo_config(dir.path()));
    let remote = kiosk::hub::remote::connect(
        std::sync::Arc::clone(&config),
        &lan.url,
        "demo-kiosk-token-change-me",
        &tokio::runtime::Handle::current(),
    );
    let mut events = remote.subscribe();
    let issued = remote
        .issue_ticket(kiosk::hub::IssueRequest::walk_in("cu-tru"))
        .await
        .unwrap();
    assert_eq!(issued.ticket.code, "C001");
    assert_eq!(
        ticket_states(&lan.db),
        [("C001".to_string(), "waiting".to_string())]
    );
    // Its printer's report goes into the hub's log.
    remote
        .record_device_event(
            kiosk::domain::EventKind::Printed,
            Some(issued.ticket.clone()),
            json!({"mode": "raster"}),
        )
        .await
        .unwrap();
    let conn = rusqlite::Connection::open(&lan.db).unwrap();
    let printed: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM events WHERE kind = 'printed' AND code = 'C001'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(printed, 1);
    // The same queues as the hub's own status.
    let status = remote.status().await.unwrap();
    let (_, hub_status) = lan.get("/api/status", None).await;
    assert_eq!(serde_json::to_value(&status).unwrap(), hub_status);
    assert_eq!(status.services[2].counts.waiting, 1);
    // Live: a clerk's call at the hub wakes the second kiosk.
    while events.try_recv().is_ok() {}
    let t3 = lan.login(3).await;
    lan.post("/api/counters/3/call-next", Some(&t3), "").await;
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("no event from the hub")
        .unwrap();
    let status = remote.status().await.unwrap();
    assert_eq!(status.services[2].counts.called, 1);
    // The hub's refusals keep their reason.
    let e = remote
        .issue_ticket(kiosk::hub::IssueRequest::walk_in("nope"))
        .await
        .unwrap_err();
    assert_eq!(e.reason_code(), "unknown_service");
    let wrong = kiosk::hub::remote::connect(
        config,
        &lan.url,
        "wrong",
        &tokio::runtime::Handle::current(),
    );
    let e = wrong
        .issue_ticket(kiosk::hub::IssueRequest::walk_in("cu-tru"))
        .await
        .unwrap_err();
    assert_eq!(e.reason_code(), "forbidden");
    lan.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lobby_kiosk_checks_a_booking_in_through_the_hub() {
    let lan = Lan::start_with(0, |c| {
        c.api.issue_per_minute = 600;
        c.reporting.token = Some("lan-test-token".into());
    })
    .await;
    let now = chrono::Utc::now();
    let code = kiosk::domain::booking::make_booking_code([4, 4, 4, 1, 2, 3, 4, 5, 6]);
    {
        let mut store = kiosk::store::Store::open(&lan.db).unwrap();
        let tx = store.write().unwrap();
        let day = kiosk::domain::service_day(now, chrono_tz::Asia::Ho_Chi_Minh, 0);
        tx.add_booking(
            &kiosk::store::StoredBooking {
                code: code.clone(),
                service_day: day,
                service_id: "ho-tich".into(),
                field: None,
                slot_start: now + chrono::Duration::minutes(10),
                slot_end: now + chrono::Duration::minutes(40),
                booked_at: now - chrono::Duration::days(1),
                citizen_hash: Some(
                    kiosk::identity::IdKey::for_bookings("lan-test-token").hash("001190054321"),
                ),
                state: kiosk::store::BookingState::Booked,
                ticket_id: None,
            },
            now,
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let remote = kiosk::hub::remote::connect(
        std::sync::Arc::new(demo_config(dir.path())),
        &lan.url,
        "demo-kiosk-token-change-me",
        &tokio::runtime::Handle::current(),
    );
    // Checked in by the card's id through the hub: the booked ticket, once.
    let outcome = remote
        .check_in(kiosk::hub::CheckInKey::Card("001 190 054 321".into()), None)
        .await
        .unwrap();
    let kiosk::hub::CheckIn::Booked { issued } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(issued.ticket.booked.as_ref().unwrap().code, code);
    let token = Some("demo-kiosk-token-change-me");
    let (s, v) = lan
        .post("/api/check-in", token, &json!({ "code": code }).to_string())
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "already_checked_in");
    assert_eq!(v["ticket"], issued.ticket.code);
    // The counter page marks it.
    let t1 = lan.login(1).await;
    let (_, view) = lan.get("/api/counters/1", Some(&t1)).await;
    assert!(view["queue"][0]["booked_slot"].as_str().is_some(), "{view}");
    // Booked yesterday, queued by that time, but waiting since the check-in a moment ago.
    assert_eq!(view["queue"][0]["waited_minutes"], 0, "{view}");
    // Refusals, each with a reason.
    for (body, status, word) in [
        (
            json!({ "code": code, "citizen_id": "001190054321" }),
            400,
            "missing_field",
        ),
        (json!({}), 400, "missing_field"),
        (json!({ "code": null }), 400, "bad_json"),
        (json!({ "code": "12345" }), 400, "bad_request"),
        (json!({ "code": code, "extra": 1 }), 400, "bad_json"),
    ] {
        let (s, v) = lan.post("/api/check-in", token, &body.to_string()).await;
        assert_eq!(
            (s.as_u16(), v["error"].as_str()),
            (status, Some(word)),
            "{body}: {v}"
        );
    }
    let (s, _) = lan
        .post("/api/check-in", None, &json!({ "code": code }).to_string())
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Ten digits failing the check digit cannot be anyone's booking.
    let mut typo = code.clone().into_bytes();
    typo[9] = if typo[9] == b'0' { b'1' } else { b'0' };
    let (s, v) = lan
        .post(
            "/api/check-in",
            token,
            &json!({ "code": String::from_utf8(typo).unwrap() }).to_string(),
        )
        .await;
    assert_eq!(
        (s, v["outcome"].as_str()),
        (StatusCode::OK, Some("not_found"))
    );
    lan.stop().await;
}

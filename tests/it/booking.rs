//! Online bookings at the point, over a real SQLite file and a hand-set clock: check-in in its
//! window (too early, on time, late), never two tickets for one booking, wrong and cancelled
//! codes, the quota across kiosk, counter and booked numbers, release of lapsed slots, and the
//! one arrival order (a random-day property test with the priority ratio on).

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use kiosk::domain::booking::make_booking_code;
use kiosk::domain::{ArrivalOrder, Channel, EventKind, TicketState};
use kiosk::hub::{CheckIn, CheckInKey, IssueRequest, QueueError, QueueService};
use kiosk::identity::IdKey;
use kiosk::store::{BookingState, StoredBooking};
use rand::{Rng, SeedableRng};

use crate::common::*;

const TOKEN: &str = "demo-token-change-me";

fn booking(
    code: &str,
    service: &str,
    slot_start: DateTime<Utc>,
    booked_at: DateTime<Utc>,
    citizen: Option<&str>,
) -> StoredBooking {
    StoredBooking {
        code: code.into(),
        service_day: kiosk::domain::service_day(slot_start, chrono_tz::Asia::Ho_Chi_Minh, 0),
        service_id: service.into(),
        field: None,
        slot_start,
        slot_end: slot_start + Duration::minutes(30),
        booked_at,
        citizen_hash: citizen.map(|id| IdKey::for_bookings(TOKEN).hash(id)),
        state: BookingState::Booked,
        ticket_id: None,
    }
}

fn code(n: u8) -> String {
    make_booking_code([n, 1, 2, 3, 4, 5, 6, 7, 8])
}

fn setup(
    dir: &std::path::Path,
) -> (
    kiosk::config::Config,
    Arc<kiosk::clock::ManualClock>,
    QueueService,
) {
    let mut config = demo_config(dir);
    config.reporting.token = Some(TOKEN.into());
    let clock = clock_at(monday_morning()); // 09:00 Hanoi
    let q = open(&config, &clock);
    (config, clock, q)
}

fn sync(q: &mut QueueService, list: &[StoredBooking]) -> kiosk::hub::Synced {
    // The point pulls today and the next 6 days.
    let day = monday_morning().date_naive();
    q.sync_bookings(day, day + Duration::days(6), list).unwrap()
}

#[test]
fn a_booked_citizen_checks_in_once_in_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let (_config, clock, mut q) = setup(dir.path());
    let nine = monday_morning();
    let (ten, eleven) = (nine + Duration::hours(1), nine + Duration::hours(2));
    let yesterday = nine - Duration::days(1);
    let list = vec![
        booking(&code(1), "ho-tich", ten, yesterday, Some("001190054321")),
        booking(&code(2), "chung-thuc", eleven, yesterday, None),
    ];
    assert_eq!(sync(&mut q, &list).added, 2);
    // A second pull adds nothing and changes nothing.
    assert_eq!(sync(&mut q, &list).added, 0);

    // 09:00: the 11:00 slot opens at 10:00 (early_minutes 60).
    let (early, _) = q.check_in(&CheckInKey::Code(code(2)), None).unwrap();
    match early {
        CheckIn::TooEarly { opens_at, .. } => assert_eq!(opens_at, ten),
        other => panic!("{other:?}"),
    }
    // The 10:00 slot is open: a ticket marked booked, queued from its registration time.
    let (booked, events) = q.check_in(&CheckInKey::Code(code(1)), None).unwrap();
    let CheckIn::Booked { issued } = booked else {
        panic!("{booked:?}")
    };
    assert_eq!(issued.ticket.channel, Channel::Online);
    assert_eq!(issued.ticket.arrived_at, yesterday, "booking_time order");
    assert_eq!(issued.ticket.booked.as_ref().unwrap().code, code(1));
    assert!(events.iter().any(|e| e.kind == EventKind::BookingCheckedIn));
    // Never a second ticket for the same booking, by code or by card.
    let (again, _) = q.check_in(&CheckInKey::Code(code(1)), None).unwrap();
    assert!(
        matches!(&again, CheckIn::AlreadyCheckedIn { ticket } if *ticket == issued.ticket.code),
        "{again:?}"
    );
    let (card, _) = q
        .check_in(&CheckInKey::Card("001190054321".into()), None)
        .unwrap();
    assert!(matches!(card, CheckIn::AlreadyCheckedIn { .. }), "{card:?}");
    // A code nobody booked here, and a card with no booking.
    let (none, _) = q.check_in(&CheckInKey::Code(code(9)), None).unwrap();
    assert!(matches!(none, CheckIn::NotFound));
    let (none, _) = q
        .check_in(&CheckInKey::Card("079202001234".into()), None)
        .unwrap();
    assert!(matches!(none, CheckIn::NotFound));

    // 11:20: five minutes past the 11:15 lapse, the booking is released and a late check-in
    // gets a walk-in ticket, queued from now.
    clock.set(eleven + Duration::minutes(20));
    let released = q.release_lapsed_bookings().unwrap();
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].kind, EventKind::BookingReleased);
    let (late, _) = q.check_in(&CheckInKey::Code(code(2)), None).unwrap();
    let CheckIn::Late {
        issued: walk_in, ..
    } = late
    else {
        panic!("{late:?}")
    };
    assert_eq!(walk_in.ticket.channel, Channel::Kiosk);
    assert!(walk_in.ticket.booked.is_none());
    assert_eq!(walk_in.ticket.arrived_at, clock.now_for_test());
    let (again, _) = q.check_in(&CheckInKey::Code(code(2)), None).unwrap();
    assert!(
        matches!(again, CheckIn::AlreadyCheckedIn { .. }),
        "{again:?}"
    );
}

trait Now {
    fn now_for_test(&self) -> DateTime<Utc>;
}

impl Now for kiosk::clock::ManualClock {
    fn now_for_test(&self) -> DateTime<Utc> {
        use kiosk::clock::Clock;
        self.now()
    }
}

#[test]
fn cancelled_on_the_centre_means_gone_at_the_point_and_other_days_wait() {
    let dir = tempfile::tempdir().unwrap();
    let (_config, _clock, mut q) = setup(dir.path());
    let nine = monday_morning();
    let tomorrow = nine + Duration::days(1);
    let list = vec![
        booking(
            &code(1),
            "ho-tich",
            nine + Duration::minutes(30),
            nine,
            None,
        ),
        booking(&code(2), "ho-tich", tomorrow, nine, None),
    ];
    sync(&mut q, &list);
    let (other, _) = q.check_in(&CheckInKey::Code(code(2)), None).unwrap();
    assert!(
        matches!(other, CheckIn::OtherDay { day, .. } if day == tomorrow.date_naive()),
        "{other:?}"
    );
    // The next pull no longer lists code 1: cancelled, with an event; no ticket for it.
    let s = sync(&mut q, &list[1..]);
    assert_eq!(s.cancelled, 1);
    assert_eq!(s.events[0].kind, EventKind::BookingCancelled);
    let (gone, _) = q.check_in(&CheckInKey::Code(code(1)), None).unwrap();
    assert!(matches!(gone, CheckIn::Cancelled), "{gone:?}");
}

#[test]
fn the_quota_counts_bookings_kiosk_and_counter_tickets_together() {
    let dir = tempfile::tempdir().unwrap();
    let (_config, clock, mut q) = setup(dir.path());
    let nine = monday_morning();
    let id = "001-190-054321"; // spelled with dashes at the kiosk, digits only at the centre
    sync(
        &mut q,
        &[booking(
            &code(1),
            "ho-tich",
            nine + Duration::hours(2),
            nine,
            Some("001190054321"),
        )],
    );
    // Civil status is booked: a walk-in ticket for it with the same id is refused, and the
    // refusal names the booking.
    let err = q
        .issue_ticket(&IssueRequest {
            citizen_id: Some(id.into()),
            ..IssueRequest::walk_in("ho-tich")
        })
        .unwrap_err();
    assert!(matches!(err, QueueError::Quota(_)), "{err}");
    let shown = kiosk::domain::display_booking_code(&code(1));
    assert!(
        err.to_string().contains(&format!("booking {shown}")),
        "{err}"
    );
    assert!(err.to_string().contains("11:00"), "{err}");
    // Another field from the counter: allowed (2 a day), then a third from the kiosk: refused,
    // naming both.
    let counter = q
        .issue_ticket(&IssueRequest {
            citizen_id: Some(id.into()),
            channel: Channel::Counter,
            ..IssueRequest::walk_in("chung-thuc")
        })
        .unwrap();
    let err = q
        .issue_ticket(&IssueRequest {
            citizen_id: Some("001190054321".into()),
            ..IssueRequest::walk_in("dat-dai")
        })
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&counter.ticket.code) && text.contains("booking"),
        "{text}"
    );
    // Checking the booking in does not count it twice: still two numbers held, and the booked
    // ticket is the citizen's quota entry.
    let (booked, _) = q
        .check_in(&CheckInKey::Card("001190054321".into()), None)
        .unwrap();
    assert!(
        matches!(booked, CheckIn::TooEarly { .. }),
        "11:00 opens at 10:00: {booked:?}"
    );
    // Past the retention period the booking's hash is erased too (at the day's first command).
    clock.set(nine + Duration::days(2));
    q.issue_ticket(&IssueRequest::walk_in("ho-tich")).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("kiosk.sqlite")).unwrap();
    let hashes: i64 = conn
        .query_row("SELECT COUNT(citizen_hash) FROM bookings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(hashes, 0, "booking hashes purged after retention_days");
    // Nothing readable is stored: no id in any table.
    for table in ["tickets", "bookings", "events", "meta"] {
        let dump: String = conn
            .query_row(
                &format!("SELECT COALESCE(group_concat(quote({table}.rowid) || json_object('r', *), ''), '') FROM {table}"),
                [],
                |r| r.get(0),
            )
            .unwrap_or_default();
        assert!(
            !dump.contains("001190054321") && !dump.contains("054321"),
            "{table}"
        );
    }
}

/// One random day: walk-ins arrive, booked citizens check in around their slots (some early,
/// some late, some never), counters call. Every call must take, among the tickets waiting for
/// that counter, the oldest by arrival key (walk-ins: when they came; booked: per the order
/// rule), except that priority tickets are called under the ratio, and never more than
/// `normal_per_priority` normal calls in a row while a priority ticket waits.
fn random_day(seed: u64, order: ArrivalOrder) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = demo_config(dir.path());
    config.reporting.token = Some(TOKEN.into());
    config.bookings.order = order;
    let ratio = config.priority_rule.normal_per_priority;
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap(); // 08:00 Hanoi
    let clock = clock_at(start);
    let mut q = open(&config, &clock);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut list = Vec::new();
    for i in 0..30u8 {
        let slot = start + Duration::minutes(30 * i64::from(rng.random_range(0..12u8)));
        let booked_at = start - Duration::hours(rng.random_range(1..120));
        list.push(booking(&code(i), "ho-tich", slot, booked_at, None));
    }
    sync(&mut q, &list);
    let mut checked: Vec<usize> = Vec::new();
    let mut streak: u32 = 0;
    let mut calls = 0;
    for minute in 0..360 {
        clock.set(start + Duration::minutes(minute));
        match rng.random_range(0..10) {
            0..=2 => {
                let priority = rng.random_range(0..6) == 0;
                q.issue_ticket(&IssueRequest {
                    priority_group: priority.then(|| "elderly".to_string()),
                    ..IssueRequest::walk_in("ho-tich")
                })
                .unwrap();
            }
            3..=4 => {
                let i = rng.random_range(0..list.len());
                if !checked.contains(&i) {
                    let (outcome, _) = q
                        .check_in(&CheckInKey::Code(list[i].code.clone()), None)
                        .unwrap();
                    if outcome.issued().is_some() {
                        checked.push(i);
                    }
                }
            }
            _ => {
                // Counter 1 serves civil status only: call and check the choice.
                let waiting: Vec<kiosk::domain::Ticket> = q
                    .store_mut()
                    .read()
                    .unwrap()
                    .tickets_of_day(start.date_naive())
                    .unwrap()
                    .into_iter()
                    .filter(|t| t.state == TicketState::Waiting && t.service_id == "ho-tich")
                    .collect();
                let Some(called) = q.call_next(1).unwrap().ticket else {
                    assert!(waiting.is_empty());
                    continue;
                };
                calls += 1;
                let oldest = |prio: bool| {
                    waiting
                        .iter()
                        .filter(|t| t.priority_group.is_some() == prio)
                        .min_by_key(|t| (t.arrived_at, t.id))
                        .map(|t| t.id)
                };
                let is_prio = called.priority_group.is_some();
                assert_eq!(
                    Some(called.id),
                    oldest(is_prio),
                    "seed {seed}: not the oldest of its kind"
                );
                let prio_waiting = oldest(true).is_some();
                if is_prio {
                    streak = 0;
                } else if prio_waiting {
                    streak += 1;
                    assert!(
                        streak <= ratio,
                        "seed {seed}: {streak} normal calls while priority waited"
                    );
                } else {
                    streak = 0;
                }
                // A booked ticket's place is its registration (or slot) time, never later
                // than when it checked in.
                if let Some(b) = &called.booked {
                    let src = list.iter().find(|x| x.code == b.code).unwrap();
                    let key = order.arrival(src.booked_at, src.slot_start, called.issued_at);
                    assert_eq!(called.arrived_at, key, "seed {seed}");
                }
                q.finish(1).unwrap();
            }
        }
    }
    assert!(
        calls > 20 && !checked.is_empty(),
        "seed {seed}: a dull day ({calls} calls)"
    );
}

#[test]
fn booked_and_walk_in_numbers_are_served_in_one_order_with_the_priority_ratio() {
    for seed in 0..12 {
        random_day(seed, ArrivalOrder::BookingTime);
        random_day(100 + seed, ArrivalOrder::SlotTime);
    }
}

// ---- The centre's booking API and the pull, against the real receiver on 127.0.0.1. ----

use crate::reporting::{POINT, Receiver};

async fn post(url: &str, token: Option<&str>, body: &str) -> (u16, serde_json::Value) {
    let client = reqwest::Client::new();
    let mut req = client
        .post(url)
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

fn bookings_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/centre-bookings.schema.json"),
    )
    .unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookings_made_on_the_centre_reach_the_point_and_check_in_works_offline() {
    let dir = tempfile::tempdir().unwrap();
    // Slots all day, 5 minutes long, 2 places each: whenever the test runs, a slot starts soon.
    let rules = kiosk::centre::BookingRules {
        open: "00:00".into(),
        close: "23:55".into(),
        slot_minutes: 5,
        slot_capacity: 2,
        ..Default::default()
    };
    let mut receiver = Receiver::start_with(dir.path(), None, rules).await;
    let base = format!("http://{}", receiver.addr);
    let mut config = demo_config(dir.path());
    config.reporting.url = Some(format!("{base}/api/v1/reports"));
    config.reporting.token = Some(crate::reporting::TOKEN.into());
    config.reporting.timeout_seconds = 2;
    let config = Arc::new(config);

    // Nobody can book at a point before it has announced what it offers.
    let today = kiosk::domain::service_day(Utc::now(), config.site.timezone, 0);
    let body = |service: &str, day: chrono::NaiveDate, slot: &str, id: &str| {
        serde_json::json!({ "point": POINT, "service": service, "day": day, "slot": slot, "citizen_id": id })
            .to_string()
    };
    let (status, v) = post(
        &format!("{base}/api/v1/bookings"),
        None,
        &body("ho-tich", today, "08:00", "001190054321"),
    )
    .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (404, Some("unknown_point")),
        "{v}"
    );

    // The pull: the wrong token, a malformed body and another point's name are refused.
    let pull_url = format!("{base}/api/v1/bookings/pull");
    let good =
        serde_json::to_string(&kiosk::report::bookings::pull_request(&config, today)).unwrap();
    assert!(
        bookings_schema().is_valid(&serde_json::from_str(&good).unwrap()),
        "the pull matches its schema"
    );
    let (status, v) = post(&pull_url, Some("nope"), &good).await;
    assert_eq!((status, v["error"].as_str()), (401, Some("wrong_token")));
    let (status, v) = post(&pull_url, None, &good).await;
    assert_eq!((status, v["error"].as_str()), (401, Some("missing_token")));
    let (status, v) = post(&pull_url, Some(crate::reporting::TOKEN), "{\"schema\": 1}").await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("malformed_pull")),
        "{v}"
    );
    let other = good.replace("\"id\":\"demo\"", "\"id\":\"other\"");
    assert_ne!(other, good);
    let (status, v) = post(&pull_url, Some(crate::reporting::TOKEN), &other).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (403, Some("unknown_point")),
        "{v}"
    );

    // The real puller announces the point's services and gets its (no) bookings.
    let puller = kiosk::report::bookings::Puller::new(Arc::clone(&config))
        .unwrap()
        .unwrap();
    assert!(puller.pull(today).await.unwrap().bookings.is_empty());
    let points: serde_json::Value = reqwest::get(format!("{base}/api/v1/booking/points"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(points[0]["path"], POINT);
    assert_eq!(
        points[0]["services"].as_array().unwrap().len(),
        config.services.len()
    );

    // The first slot with room, today (tomorrow in the last minutes of a Hanoi day).
    let slots_of = |day: chrono::NaiveDate| {
        let base = base.clone();
        async move {
            let v: serde_json::Value = reqwest::get(format!(
                "{base}/api/v1/booking/slots?point={}&service=ho-tich&day={day}",
                POINT.replace('/', "%2F")
            ))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
            v["slots"].as_array().cloned().unwrap_or_default()
        }
    };
    let mut day = today;
    let mut slots = slots_of(day).await;
    if slots.is_empty() {
        day = today + Duration::days(1);
        slots = slots_of(day).await;
    }
    let slot = slots[0]["start"].as_str().unwrap().to_string();
    assert_eq!(slots[0]["free"], 2);

    // Bad bodies: each refused with its reason, nothing booked.
    let url = format!("{base}/api/v1/bookings");
    for (bad, word) in [
        ("{not json".to_string(), "bad_request"),
        (body("ho-tich", day, &slot, "00119005432"), "bad_citizen_id"),
        (body("ho-tich", day, "08:07", "001190054321"), "bad_request"),
        (
            body("ho-tich", today + Duration::days(7), &slot, "001190054321"),
            "bad_request",
        ),
        (
            body("no-such", day, &slot, "001190054321"),
            "unknown_service",
        ),
        (
            body("ho-tich", day, &slot, "001190054321").replace("}", ",\"extra\":1}"),
            "bad_request",
        ),
    ] {
        let (status, v) = post(&url, None, &bad).await;
        assert_eq!(v["error"].as_str(), Some(word), "{bad}: {v}");
        assert!(
            (400..500).contains(&status) && v["reason"].as_str().is_some_and(|r| !r.is_empty())
        );
    }
    // Booked: a checked code, its QR; the same citizen again for the same service is refused,
    // naming the booking; another service is fine; a third number that day is refused.
    let (status, a) = post(&url, None, &body("ho-tich", day, &slot, "001190054321")).await;
    assert_eq!(status, 201, "{a}");
    let code_a = a["code"].as_str().unwrap().to_string();
    assert_eq!(kiosk::domain::parse_booking_code(&code_a).unwrap(), code_a);
    assert_eq!(a["qr_text"], format!("HNBOOK:{code_a}"));
    assert!(a["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let (status, v) = post(&url, None, &body("ho-tich", day, &slot, "001-190-054321")).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (409, Some("quota_exceeded")),
        "{v}"
    );
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains(a["display_code"].as_str().unwrap()),
        "{v}"
    );
    let (status, b) = post(&url, None, &body("chung-thuc", day, &slot, "001190054321")).await;
    assert_eq!(status, 201, "{b}");
    let (status, v) = post(&url, None, &body("dat-dai", day, &slot, "001190054321")).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (409, Some("quota_exceeded")),
        "{v}"
    );
    // Two places in the slot: the third citizen is told it is full.
    let (status, c) = post(&url, None, &body("ho-tich", day, &slot, "079202001234")).await;
    assert_eq!(status, 201, "{c}");
    let (status, v) = post(&url, None, &body("ho-tich", day, &slot, "038085007777")).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (409, Some("slot_full")),
        "{v}"
    );
    // Cancel: only with the holder's id.
    let cancel = format!("{base}/api/v1/bookings/{code_a}/cancel");
    let (status, v) = post(&cancel, None, "{\"citizen_id\":\"079202001234\"}").await;
    assert_eq!((status, v["error"].as_str()), (404, Some("not_found")));
    let (status, v) = post(&cancel, None, "{\"citizen_id\":\"001190054321\"}").await;
    assert_eq!(
        (status, v["state"].as_str()),
        (200, Some("cancelled")),
        "{v}"
    );
    let (status, _) = post(&cancel, None, "{\"citizen_id\":\"001190054321\"}").await;
    assert_eq!(status, 404, "cancelled once");

    // The pull brings the two open bookings, keyed for this point only; nothing readable.
    let answer = puller.pull(today).await.unwrap();
    assert!(bookings_schema().is_valid(&serde_json::to_value(&answer).unwrap()));
    let codes: Vec<&str> = answer.bookings.iter().map(|b| b.code.as_str()).collect();
    assert_eq!(codes.len(), 2, "{codes:?}");
    assert!(!codes.contains(&code_a.as_str()));
    let key = IdKey::for_bookings(crate::reporting::TOKEN);
    let holder_b = answer
        .bookings
        .iter()
        .find(|x| x.code == b["code"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        holder_b.citizen_hash.as_deref(),
        Some(key.hash("001190054321").as_str())
    );
    let centre_db = std::fs::read(dir.path().join("centre.sqlite")).unwrap_or_default();
    let wal = std::fs::read(dir.path().join("centre.sqlite-wal")).unwrap_or_default();
    for bytes in [&centre_db, &wal] {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("001190054321") && !text.contains("079202001234"),
            "the centre keeps no readable id"
        );
    }

    // Into the point's store, then the centre goes away: check-in works from the local copy.
    let clock = clock_at(Utc::now());
    let mut q = open(&config, &clock);
    let to = today + Duration::days(6);
    let list: Vec<StoredBooking> = answer.bookings.iter().map(|b| b.stored()).collect();
    assert_eq!(q.sync_bookings(today, to, &list).unwrap().added, 2);
    receiver.stop();
    assert!(puller.pull(today).await.is_err(), "the centre is down");
    let (by_code, _) = q
        .check_in(&CheckInKey::Code(c["code"].as_str().unwrap().into()), None)
        .unwrap();
    let (by_card, _) = q
        .check_in(&CheckInKey::Card("001190054321".into()), None)
        .unwrap();
    if day == today {
        let CheckIn::Booked { issued } = by_code else {
            panic!("{by_code:?}")
        };
        assert_eq!(
            issued.ticket.booked.as_ref().unwrap().code,
            c["code"].as_str().unwrap()
        );
        let CheckIn::Booked { issued } = by_card else {
            panic!("{by_card:?}")
        };
        assert_eq!(issued.ticket.service_id, "chung-thuc");
    } else {
        assert!(matches!(by_code, CheckIn::OtherDay { .. }), "{by_code:?}");
        assert!(
            matches!(by_card, CheckIn::NotFound),
            "a card finds today's bookings only"
        );
    }
}

//! The receiver on a real PostgreSQL server started by the test (Debian's `initdb` in a temp
//! folder, a free port on 127.0.0.1): it answers exactly as on SQLite, and three receiver
//! processes sharing one database keep every event once and every booking rule exact.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use kiosk::centre::scratch_pg::ScratchPostgres;
use kiosk::centre::{Centre, CentreConfig, PointConfig, RatingGroup};
use kiosk::report::Report;
use serde_json::{Value, json};

use crate::common::*;

const POINT: &str = "hn.ttpvhcc/cn-07/demo";
const TOKEN: &str = "pg-test-point-token";
const OTHER: &str = "hn.ttpvhcc/cn-01/other";
const OTHER_TOKEN: &str = "pg-test-other-token";
const VIEWER: &str = "pg-test-viewer-token-0123";

/// The scratch server, or `None` (with a message) where this machine has no PostgreSQL server.
fn server(dir: &Path) -> Option<ScratchPostgres> {
    match ScratchPostgres::start(dir, false) {
        Ok(Some(s)) => Some(s),
        Ok(None) => {
            eprintln!(
                "SKIPPED: no PostgreSQL server programs (initdb, pg_ctl) on this machine; \
                 scripts/setup installs Debian's postgresql"
            );
            None
        }
        Err(e) => panic!("the scratch PostgreSQL server did not start: {e}"),
    }
}

fn config(db_path: &Path, store: Option<kiosk::centre::store::StoreConfig>) -> CentreConfig {
    CentreConfig {
        listen: "127.0.0.1:0".into(),
        db_path: db_path.to_path_buf(),
        store,
        max_body_bytes: 1024 * 1024,
        stale_after_seconds: 120,
        ticket_stale_after_seconds: 75,
        tls: None,
        behind_tls_proxy: false,
        trend_keep_hours: 48,
        point: vec![
            PointConfig {
                path: POINT.into(),
                token: TOKEN.into(),
            },
            PointConfig {
                path: OTHER.into(),
                token: OTHER_TOKEN.into(),
            },
        ],
        viewer: vec![kiosk::centre::ViewerConfig {
            name: "test".into(),
            token: VIEWER.into(),
        }],
        allowed_hosts: Vec::new(),
        // Slots all day, so a booking is possible whenever the test runs.
        booking: kiosk::centre::BookingRules {
            open: "00:00".into(),
            close: "23:55".into(),
            slot_minutes: 5,
            slot_capacity: 3,
            ..Default::default()
        },
    }
}

fn pg_store(
    pg: &ScratchPostgres,
    db: &str,
    key: &Path,
    pool: usize,
) -> kiosk::centre::store::StoreConfig {
    let text = pg.store_toml(db, key, pool);
    let table: toml::Table = toml::from_str(&text).unwrap();
    table["store"].clone().try_into().unwrap()
}

fn site(point: &str) -> Value {
    let parts: Vec<&str> = point.split('/').collect();
    json!({ "centre": parts[0], "branch": parts[1], "id": parts[2],
            "name_vi": format!("Điểm {}", parts[2]), "name_en": format!("Point {}", parts[2]) })
}

fn event(point: &str, seq: i64, at: DateTime<Utc>, kind: &str, extra: Value) -> Value {
    let mut e = json!({ "key": format!("{point}:inst:{seq}"), "seq": seq, "at": at,
                        "kind": kind, "ticket": null, "service": null, "counter": null,
                        "priority_group": null, "detail": null });
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    e
}

fn snapshot(at: DateTime<Utc>, waiting: u32) -> Value {
    json!({ "at": at, "service_day": at.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh).date_naive(),
            "services": [{ "service": "civil", "waiting": waiting, "called_today": 3, "served_today": 2,
                           "no_show_today": 0, "wait_avg_1h_s": 300.0, "wait_p90_1h_s": 420.5,
                           "wait_new_low_min": 5, "wait_new_high_min": 9, "counters_open": 2 }],
            "counters_open": 2, "printer": "ready", "outbox_backlog": 0, "software_version": "t",
            "uptime_s": 60, "estimate": { "judged": 4, "inside": 3, "above_10": 0, "bias_min": 1.5, "mae_min": 2.0 },
            "queue": [{ "code": "A010", "service": "civil", "ahead": 1, "wait_low_min": 2, "wait_high_min": 4 }],
            "bundle": "2026.12.02-1" })
}

/// A day and more of one point's life, with the shapes a hostile point could send inside
/// `detail` (a score that is text, a detail that is not an object).
fn history(point: &str, now: DateTime<Utc>) -> Vec<Report> {
    let mut events = Vec::new();
    let mut seq = 0;
    let mut push = |at: DateTime<Utc>, kind: &str, extra: Value| {
        seq += 1;
        events.push(event(point, seq, at, kind, extra));
    };
    for i in 0..12i64 {
        let at = now - Duration::minutes(90 - i * 7);
        let code = format!("A{:03}", i + 1);
        push(at, "issued", json!({ "ticket": code, "service": "civil" }));
        if i < 8 {
            push(
                at + Duration::minutes(4),
                "called",
                json!({ "ticket": code, "service": "civil", "counter": 1 + i % 2 }),
            );
        }
    }
    // Ratings over 40 days: the last week worse than the four before it.
    for d in 0..40i64 {
        let score = if d < 7 { 1 + d % 3 } else { 3 + d % 3 };
        push(
            now - Duration::days(d) - Duration::hours(d % 5),
            "rated",
            json!({ "counter": 1 + d % 3, "detail":
                     { "score": score, "circular": (score - 1) / 2, "field": if d % 2 == 0 { "ho-tich" } else { "dat-dai" } } }),
        );
        if d < 7 {
            push(
                now - Duration::days(d) - Duration::minutes(30),
                "rated",
                json!({ "counter": 1, "detail": { "score": 1, "circular": 0, "field": "ho-tich" } }),
            );
        }
    }
    push(
        now - Duration::hours(2),
        "rated",
        json!({ "counter": 1, "detail": { "score": "x", "field": "ho-tich" } }),
    );
    push(
        now - Duration::hours(3),
        "rated",
        json!({ "counter": 2, "detail": 5 }),
    );
    for (i, q) in [
        "  Làm sổ đỏ lần đầu ",
        "làm sổ đỏ lần đầu",
        "Đăng ký khai sinh",
        "LÀM SỔ ĐỎ LẦN ĐẦU",
    ]
    .iter()
    .enumerate()
    {
        push(
            now - Duration::minutes(50 - i as i64),
            "assistant_miss",
            json!({ "detail": { "question": q, "outcome": if i % 2 == 0 { "not_sure" } else { "unused" },
                                  "candidates": [format!("1.00{i}"), "2.002"] } }),
        );
    }
    push(
        now - Duration::minutes(30),
        "printer_fault",
        json!({ "detail": { "state": "paper_out" } }),
    );
    let batch = |events: &[Value], snap: Option<Value>| -> Report {
        serde_json::from_value(
            json!({ "schema": kiosk::report::SCHEMA, "site": site(point),
                                        "sent_at": now, "snapshot": snap, "events": events }),
        )
        .unwrap()
    };
    let (a, b) = events.split_at(events.len() / 2);
    vec![
        batch(a, Some(snapshot(now - Duration::minutes(3), 4))),
        // Inside the trend's 25 s gap: not a new trend point.
        batch(
            b,
            Some(snapshot(
                now - Duration::minutes(3) + Duration::seconds(10),
                5,
            )),
        ),
        batch(&[], Some(snapshot(now - Duration::minutes(1), 2))),
        // The same events again: all duplicates.
        batch(b, None),
    ]
}

/// Figures that depend on the moment of ingest, not on the data.
fn strip_times(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.remove("last_report_at");
            o.remove("last_report_age_s");
            o.remove("stale");
            o.values_mut().for_each(strip_times);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_times),
        _ => {}
    }
}

/// Everything the receiver answers from its store, as one JSON value.
fn answers(c: &Centre, now: DateTime<Utc>) -> Value {
    let mut out = json!({
        "points": c.points(now).unwrap(),
        "point": c.point(POINT).unwrap(),
        "no_point": c.point("hn/none/none").unwrap(),
        "events": c.events_of(POINT).unwrap(),
        "misses": c.assistant_misses(now, 10).unwrap(),
        "trends": c.rating_trends(now).unwrap(),
        "csv": c.ratings_csv(now, 60).unwrap(),
        "dossier": c.dossier("HS-DEMO-0001").unwrap().map(|d| serde_json::to_value(d).unwrap()),
        "count": c.event_count().unwrap(),
    });
    for (name, g) in [
        ("point", RatingGroup::Point),
        ("counter", RatingGroup::Counter),
        ("field", RatingGroup::Field),
        ("day", RatingGroup::Day),
        ("hour", RatingGroup::Hour),
    ] {
        out[format!("ratings_{name}")] = json!(c.ratings(now, 60, g).unwrap());
    }
    strip_times(&mut out);
    out
}

/// Bookings, bundles and a ticket's link, with the random booking codes taken out.
fn booking_and_bundle_answers(c: &Centre, dir: &Path, now: DateTime<Utc>) -> Value {
    use kiosk::centre::bookings::BookingBody;
    let pull: kiosk::report::bookings::PullRequest = serde_json::from_value(json!({
        "schema": kiosk::report::bookings::PULL_SCHEMA, "site": site(POINT),
        "from": now.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh).date_naive(), "days": 7,
        "services": [{ "id": "civil", "name_vi": "Hộ tịch", "name_en": "Civil status" }] }))
    .unwrap();
    c.pull(POINT, &pull).unwrap();
    let tomorrow = (now + Duration::days(1))
        .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .date_naive();
    let book = |id: &str, slot: &str| {
        c.book(
            &BookingBody {
                point: POINT.into(),
                service: "civil".into(),
                day: tomorrow,
                slot: slot.into(),
                citizen_id: id.into(),
            },
            now,
        )
        .map(|b| b.code)
        .map_err(|e| format!("{e:?}").split('(').next().unwrap_or("").to_string())
    };
    let first = book("001203004567", "09:00").unwrap();
    let outcomes: Vec<Result<String, String>> = vec![
        book("001203004567", "09:05").map(|_| "booked".into()), // quota: one per service
        book("001203004568", "09:00").map(|_| "booked".into()),
        book("001203004569", "09:00").map(|_| "booked".into()),
        book("001203004570", "09:00").map(|_| "booked".into()), // the slot holds 3
    ];
    let cancelled_wrong = c.cancel_booking(&first, "001203009999", now).unwrap();
    let cancelled = c.cancel_booking(&first, "001203004567", now).unwrap();
    let slots = c.slots(POINT, "civil", tomorrow, now).unwrap();
    let mut pulled = serde_json::to_value(c.pull(POINT, &pull).unwrap()).unwrap();
    // Codes are random: ordered by them, the rows compare by hash instead.
    let list = pulled["bookings"].as_array_mut().unwrap();
    for b in list.iter_mut() {
        b["code"] = json!("-");
    }
    list.sort_by_key(|b| b["citizen_hash"].to_string());
    // A bundle to one point, then to every point.
    let (private, public) = kiosk::bundle::keygen().unwrap();
    let public = kiosk::bundle::parse_public_key(&public).unwrap();
    let files = dir.join("bundle-files");
    std::fs::create_dir_all(files.join("guides")).unwrap();
    std::fs::write(files.join("guides/vneid.md"), "# VNeID\n").unwrap();
    let mut published = Vec::new();
    for (version, points) in [("1", Some(vec![POINT.to_string()])), ("2", None)] {
        let signed = kiosk::bundle::make(&files, version, "t", &private).unwrap();
        let bytes = serde_json::to_vec(&signed).unwrap();
        let verified = kiosk::bundle::verify(&bytes, &public).unwrap();
        let n = c
            .publish_bundle(
                &verified,
                &bytes,
                &kiosk::bundle::key_id(&public),
                points.as_deref(),
            )
            .unwrap();
        let mine = c.bundle_for(POINT).unwrap().map(|(v, b)| (v, b == bytes));
        let other = c.bundle_for(OTHER).unwrap().map(|(v, b)| (v, b == bytes));
        published.push(json!([n, mine, other]));
    }
    let day = now
        .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .date_naive();
    let token = kiosk::report::track::token(TOKEN, POINT, day, "A010");
    let mut track = json!(c.track(POINT, day, "A010", &token, now).unwrap());
    strip_times(&mut track);
    if let Some(t) = track.as_object_mut() {
        t.remove("age_s");
        t.remove("stale_for_s");
    }
    json!({
        "outcomes": outcomes, "cancelled_wrong": cancelled_wrong, "cancelled": cancelled,
        "slots": slots, "pulled": pulled, "points": c.bookable_points().unwrap(),
        "published": published, "rollout": c.rollout().unwrap(),
        "track": track,
        "track_wrong": c.track(POINT, day, "A010", "AAAAAAAAAAAAAAAAAAAA", now).unwrap(),
    })
}

#[test]
fn the_receiver_on_postgresql_answers_exactly_as_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let Some(pg) = server(dir.path()) else { return };
    pg.create_database("same").unwrap();
    let lite = Centre::open(&config(&dir.path().join("centre.sqlite"), None)).unwrap();
    let key = dir.path().join("centre.identity.key");
    let pgc = Centre::open(&config(
        &dir.path().join("unused.sqlite"),
        Some(pg_store(&pg, "same", &key, 2)),
    ))
    .unwrap();
    assert_eq!(pgc.engine(), kiosk::centre::store::Engine::Postgres);
    // Both key the booking quota the same way, so their hashes compare.
    std::fs::copy(&key, dir.path().join("centre.identity.key.copy")).unwrap();
    let now = Utc::now();
    let mut acks = (Vec::new(), Vec::new());
    for point in [POINT, OTHER] {
        for r in history(point, now) {
            acks.0.push(lite.ingest(point, &r).unwrap());
            acks.1.push(pgc.ingest(point, &r).unwrap());
        }
    }
    assert_eq!(acks.0, acks.1);
    let dup = acks.0[3].clone();
    assert!(dup.accepted == 0 && dup.duplicates > 0, "{dup:?}");
    let (a, b) = (answers(&lite, now), answers(&pgc, now));
    for k in a.as_object().unwrap().keys() {
        assert_eq!(a[k], b[k], "{k} differs between SQLite and PostgreSQL");
    }
    // The comparison is not empty: figures came back, and hostile details counted as
    // ratings without a score.
    // Three spellings of one question at each of two points, counted as one.
    assert_eq!(
        (
            &b["misses"][0]["count"],
            &b["misses"][0]["points"],
            &b["misses"][0]["not_sure"]
        ),
        (&json!(6), &json!(2), &json!(2)),
        "{}",
        b["misses"]
    );
    assert_eq!(b["misses"][0]["candidates"], json!(["1.003", "2.002"]));
    assert!(
        b["trends"][0]["falling"].as_bool().unwrap(),
        "{}",
        b["trends"]
    );
    assert_eq!(b["point"]["trend"].as_array().unwrap().len(), 2);
    assert!(b["csv"].as_str().unwrap().lines().count() > 30);
    let all = b["ratings_point"][0]["count"].as_i64().unwrap();
    let scored: i64 = b["ratings_point"][0]["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_i64().unwrap())
        .sum();
    assert_eq!((all, scored), (49, 47));
    assert_eq!(
        b["points"][0]["longest_wait_s"].as_i64().unwrap() / 60,
        90 - 8 * 7
    );
    // Old trend snapshots go after `trend_keep_hours`; the day's trend stays.
    let old: Report = serde_json::from_value(json!({ "schema": kiosk::report::SCHEMA,
        "site": site(POINT), "sent_at": now, "events": [],
        "snapshot": snapshot(now - Duration::hours(49), 1) }))
    .unwrap();
    for c in [&lite, &pgc] {
        c.ingest(POINT, &old).unwrap();
        assert_eq!(c.prune(now).unwrap(), 1);
        assert_eq!(c.prune(now).unwrap(), 0);
        assert_eq!(
            c.point(POINT).unwrap().unwrap()["trend"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
    // Bookings, bundles and the ticket link: the same on both (the identity key copied).
    let lite2 = {
        std::fs::copy(&key, dir.path().join("b.identity.key")).unwrap();
        let c = Centre::open(&config(&dir.path().join("b.sqlite"), None)).unwrap();
        for r in history(POINT, now) {
            c.ingest(POINT, &r).unwrap();
        }
        c
    };
    let (a, b) = (
        booking_and_bundle_answers(&lite2, dir.path(), now),
        booking_and_bundle_answers(&pgc, dir.path(), now),
    );
    for k in a.as_object().unwrap().keys() {
        assert_eq!(a[k], b[k], "{k} differs between SQLite and PostgreSQL");
    }
    assert_eq!(
        b["outcomes"],
        json!([{ "Err": "Quota" }, { "Ok": "booked" }, { "Ok": "booked" }, { "Err": "SlotFull" }])
    );
    assert_eq!(b["pulled"]["bookings"].as_array().unwrap().len(), 2);
    assert_eq!(
        b["published"],
        json!([[1, ["1", true], null], [1, ["1", false], ["2", true]]])
    );
    assert_eq!(b["track"]["ahead"], 1, "{}", b["track"]);
    assert_eq!(b["track_wrong"], Value::Null);
}

/// A `kiosk centre` process on `port` with `store`.
struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_receiver(dir: &Path, n: usize, store: &str) -> (Process, String) {
    let port = free_port();
    let cfg = dir.join(format!("centre-{n}.toml"));
    std::fs::write(
        &cfg,
        format!(
            "listen = \"127.0.0.1:{port}\"\n\
             [[point]]\npath = \"{POINT}\"\ntoken = \"{TOKEN}\"\n\
             [[point]]\npath = \"{OTHER}\"\ntoken = \"{OTHER_TOKEN}\"\n\
             [[viewer]]\nname = \"t\"\ntoken = \"{VIEWER}\"\n\
             [booking]\nopen = \"00:00\"\nclose = \"23:55\"\nslot_minutes = 5\nslot_capacity = 3\n\
             {store}"
        ),
    )
    .unwrap();
    // Wrapped at once, so the process is killed and waited for on every path.
    let child = Process(
        std::process::Command::new(kiosk_bin())
            .args(["centre", "--config"])
            .arg(&cfg)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join(format!("centre-{n}.log"))).unwrap())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (child, url);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!(
        "receiver {n} did not start: {}",
        std::fs::read_to_string(dir.join(format!("centre-{n}.log"))).unwrap_or_default()
    );
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    path: &str,
    token: &str,
    body: &Value,
) -> (u16, Value) {
    let r = client
        .post(format!("{url}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    (
        r.status().as_u16(),
        r.json::<Value>().await.unwrap_or(Value::Null),
    )
}

async fn get(client: &reqwest::Client, url: String) -> Value {
    client
        .get(url)
        .bearer_auth(VIEWER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_receivers_on_one_postgresql_keep_every_event_once_and_every_slot_exact() {
    use futures_util::future::join_all;
    let dir = tempfile::tempdir().unwrap();
    let Some(pg) = server(dir.path()) else { return };
    tokio::task::block_in_place(|| pg.create_database("city")).unwrap();
    let key = dir.path().join("shared.identity.key");
    let store = pg.store_toml("city", &key, 4);
    // The first makes the shared key; the other two start together, racing on the schema.
    let first = start_receiver(dir.path(), 0, &store);
    let handles: Vec<_> = (1..3)
        .map(|n| {
            let (d, s) = (dir.path().to_path_buf(), store.clone());
            std::thread::spawn(move || start_receiver(&d, n, &s))
        })
        .collect();
    let mut urls = vec![first.1.clone()];
    let mut procs = vec![first];
    for h in handles {
        let (p, u) = h.join().unwrap();
        procs.push((p, u.clone()));
        urls.push(u);
    }
    let client = reqwest::Client::new();
    // Every batch of a point goes to all three receivers at once, as a sender retrying
    // through a load balancer could (the last batch is a resend of the second).
    let now = Utc::now();
    let mut unique = 0;
    let mut accepted = 0;
    for (point, token) in [(POINT, TOKEN), (OTHER, OTHER_TOKEN)] {
        let reports = history(point, now);
        unique += reports[..3].iter().map(|r| r.events.len()).sum::<usize>();
        for r in &reports {
            let body = serde_json::to_value(r).unwrap();
            let answers = join_all(
                urls.iter()
                    .map(|u| post(&client, u, "/api/v1/reports", token, &body)),
            )
            .await;
            for (status, ack) in &answers {
                assert_eq!(*status, 200, "{ack}");
                accepted += ack["accepted"].as_u64().unwrap();
                assert_eq!(
                    ack["accepted"].as_u64().unwrap() + ack["duplicates"].as_u64().unwrap(),
                    r.events.len() as u64
                );
            }
        }
    }
    assert_eq!(
        accepted as usize, unique,
        "each event accepted by exactly one receiver"
    );
    // Every receiver sees the whole city.
    for u in &urls {
        let points = get(&client, format!("{u}/api/points")).await;
        assert_eq!(points["points"].as_array().unwrap().len(), 2, "{points}");
        let detail = get(&client, format!("{u}/api/point?path={POINT}")).await;
        assert_eq!(
            detail["events"].as_u64().unwrap() as usize,
            unique / 2,
            "{detail}"
        );
    }
    // Twelve citizens book the same slot at once through the three receivers: the slot holds
    // three. And one citizen books three slots at once: one booking (one per service a day).
    let pull = json!({ "schema": kiosk::report::bookings::PULL_SCHEMA, "site": site(POINT),
        "from": now.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh).date_naive(), "days": 7,
        "services": [{ "id": "civil", "name_vi": "Hộ tịch", "name_en": "Civil status" }] });
    assert_eq!(
        post(&client, &urls[0], "/api/v1/bookings/pull", TOKEN, &pull)
            .await
            .0,
        200
    );
    let tomorrow = (now + Duration::days(1))
        .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .date_naive();
    let booking = |id: String, slot: &str| json!({ "point": POINT, "service": "civil", "day": tomorrow, "slot": slot, "citizen_id": id });
    let race = |bodies: Vec<Value>| {
        let (client, urls) = (&client, &urls);
        async move {
            join_all(
                bodies
                    .iter()
                    .enumerate()
                    .map(|(i, b)| post(client, &urls[i % 3], "/api/v1/bookings", "", b)),
            )
            .await
        }
    };
    let many = race(
        (0..12)
            .map(|i| booking(format!("0012030045{i:02}"), "10:00"))
            .collect(),
    )
    .await;
    let made = many.iter().filter(|(s, _)| *s == 201).count();
    let full = many
        .iter()
        .filter(|(s, b)| *s == 409 && b["error"] == "slot_full")
        .count();
    let brief = |a: &[(u16, Value)]| -> Vec<String> {
        a.iter()
            .map(|(s, b)| format!("{s} {}", b["error"]))
            .collect()
    };
    assert_eq!((made, full), (3, 9), "{:?}", brief(&many));
    let twice = race(vec![
        booking("001203007777".into(), "11:00"),
        booking("001203007777".into(), "11:05"),
        booking("001203007777".into(), "11:10"),
    ])
    .await;
    let made = twice.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(made, 1, "{:?}", brief(&twice));
    assert!(
        twice
            .iter()
            .filter(|(s, _)| *s != 201)
            .all(|(s, b)| *s == 409 && b["error"] == "quota_exceeded"),
        "{:?}",
        brief(&twice)
    );
    let pulled = post(&client, &urls[2], "/api/v1/bookings/pull", TOKEN, &pull)
        .await
        .1;
    assert_eq!(pulled["bookings"].as_array().unwrap().len(), 4, "{pulled}");
    drop(procs);
}

/// The server goes away and comes back (a restart, a failover): reports are refused with a
/// storage error while it is away, none waits forever, and the receiver works again after it,
/// on the same pool, without a restart of its own.
#[test]
fn the_receiver_survives_its_database_going_away_and_coming_back() {
    let dir = tempfile::tempdir().unwrap();
    if !ScratchPostgres::available() {
        let _ = server(dir.path()); // says SKIPPED
        return;
    }
    // Durable (fsync on): what was acknowledged before the stop must be there after it.
    let pg = ScratchPostgres::start(dir.path(), true).unwrap().unwrap();
    pg.create_database("blip").unwrap();
    let key = dir.path().join("blip.identity.key");
    let c = Centre::open(&config(
        &dir.path().join("unused.sqlite"),
        Some(pg_store(&pg, "blip", &key, 2)),
    ))
    .unwrap();
    let now = Utc::now();
    let reports = history(POINT, now);
    c.ingest(POINT, &reports[0]).unwrap();
    pg.stop().unwrap();
    // More refusals than the pool has connections: each one is an error, not a hang.
    for _ in 0..5 {
        let e = c.ingest(POINT, &reports[1]).unwrap_err();
        assert!(e.to_string().starts_with("postgresql"), "{e}");
    }
    pg.start_again().unwrap();
    let ack = c.ingest(POINT, &reports[1]).unwrap();
    assert_eq!(ack.accepted as usize, reports[1].events.len());
    assert_eq!(
        c.event_count().unwrap() as usize,
        reports[0].events.len() + reports[1].events.len()
    );
}

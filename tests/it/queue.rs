//! The queue service over a real SQLite file: numbering across restarts and days, call-next,
//! transfer, no-show, quota, caps, opening hours, and the audit log.

use chrono::{Duration, TimeZone, Utc};
use kiosk::domain::TicketState;
use kiosk::hub::{IssueRequest, QueueError};
use kiosk::store::Store;

use crate::common::*;

fn codes(q: &mut kiosk::hub::QueueService, service: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            q.issue_ticket(&IssueRequest::walk_in(service))
                .unwrap()
                .ticket
                .code
        })
        .collect()
}

#[test]
fn numbers_continue_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    assert_eq!(codes(&mut q, "ho-tich", 3), ["A001", "A002", "A003"]);
    drop(q);
    let mut q = open(&config, &clock);
    assert_eq!(codes(&mut q, "ho-tich", 2), ["A004", "A005"]);
    // Each service numbers on its own.
    assert_eq!(codes(&mut q, "chung-thuc", 1), ["B001"]);
}

#[test]
fn numbers_start_again_at_midnight_in_hanoi_not_utc() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    // 23:59 in Hanoi on Monday 2 March = 16:59 UTC.
    let clock = clock_at(Utc.with_ymd_and_hms(2026, 3, 2, 16, 59, 0).unwrap());
    let mut q = open(&config, &clock);
    assert_eq!(codes(&mut q, "ho-tich", 2), ["A001", "A002"]);
    clock.advance(Duration::minutes(1)); // 00:00 Tuesday in Hanoi, still Monday in UTC
    let issued = q
        .issue_ticket(&IssueRequest::walk_in("ho-tich"))
        .unwrap()
        .ticket;
    assert_eq!(issued.code, "A001");
    assert_eq!(issued.service_day.to_string(), "2026-03-03");
    // Yesterday's waiting tickets are not in today's queue.
    let next = q.call_next(1).unwrap().ticket.unwrap();
    assert_eq!(next.id, issued.id);
}

#[test]
fn reset_hour_moves_the_day_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = demo_config(dir.path());
    config.site.reset_hour = 3;
    // 01:00 Hanoi on Tuesday 3 March (18:00 UTC Monday): still Monday's service day.
    let clock = clock_at(Utc.with_ymd_and_hms(2026, 3, 2, 18, 0, 0).unwrap());
    let mut q = open(&config, &clock);
    let t = q
        .issue_ticket(&IssueRequest::walk_in("ho-tich"))
        .unwrap()
        .ticket;
    assert_eq!(t.service_day.to_string(), "2026-03-02");
}

#[test]
fn call_next_applies_the_priority_ratio_across_the_counters_services() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    // Counter 2 serves ho-tich and chung-thuc.
    for service in ["ho-tich", "chung-thuc", "ho-tich", "chung-thuc"] {
        q.issue_ticket(&IssueRequest::walk_in(service)).unwrap();
        clock.advance(Duration::seconds(30));
    }
    let mut elderly = IssueRequest::walk_in("chung-thuc");
    elderly.priority_group = Some("elderly".into());
    q.issue_ticket(&elderly).unwrap();
    let mut order = vec![];
    while let Some(t) = q.call_next(2).unwrap().ticket {
        order.push(t.code);
        q.start_serving(2).unwrap();
    }
    assert_eq!(order, ["A001", "B001", "B003", "A002", "B002"]);
}

#[test]
fn transferred_ticket_keeps_its_place_by_arrival() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    let a = q
        .issue_ticket(&IssueRequest::walk_in("ho-tich"))
        .unwrap()
        .ticket;
    clock.advance(Duration::minutes(5));
    let b = q
        .issue_ticket(&IssueRequest::walk_in("chung-thuc"))
        .unwrap()
        .ticket;
    q.call_next(1).unwrap();
    q.start_serving(1).unwrap();
    let moved = q.transfer(1, "chung-thuc").unwrap();
    let moved = moved.ticket.unwrap();
    assert_eq!(moved.state, TicketState::Waiting);
    assert_eq!(moved.code, a.code);
    // Counter 3 serves chung-thuc: A001 arrived before B001, so it comes first.
    let first = q.call_next(3).unwrap().ticket.unwrap();
    assert_eq!(first.code, "A001");
    q.finish(3).unwrap();
    let second = q.call_next(3).unwrap().ticket.unwrap();
    assert_eq!(second.id, b.id);
}

#[test]
fn recalls_then_no_show_and_the_counter_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path()); // max_recalls = 2
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    codes(&mut q, "dat-dai", 2);
    q.call_next(4).unwrap();
    let kinds: Vec<String> = (0..3)
        .map(|_| q.recall(4).unwrap().events[0].kind.to_string())
        .collect();
    assert_eq!(kinds, ["recalled", "recalled", "no_show"]);
    let next = q.call_next(4).unwrap().ticket.unwrap();
    assert_eq!(next.code, "D002");
}

#[test]
fn call_next_refuses_while_the_called_citizen_has_not_arrived() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    codes(&mut q, "dat-dai", 2);
    q.call_next(4).unwrap();
    let err = q.call_next(4).unwrap_err();
    assert!(
        matches!(err, QueueError::CounterBusy { counter: 4, .. }),
        "{err}"
    );
    // Serving: call-next finishes the current one and calls the next.
    q.start_serving(4).unwrap();
    let out = q.call_next(4).unwrap();
    let kinds: Vec<_> = out.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["done", "called"]);
}

#[test]
fn paused_counter_calls_nobody_until_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    codes(&mut q, "dat-dai", 1);
    q.pause(4, "nghỉ trưa").unwrap();
    let err = q.call_next(4).unwrap_err();
    assert_eq!(
        err.to_string(),
        "counter 4 is paused (nghỉ trưa); resume it first"
    );
    // Counter 4 is dat-dai's only counter: no wait estimate while it is paused.
    let status = q.status().unwrap();
    let dd = status.services.iter().find(|s| s.id == "dat-dai").unwrap();
    assert_eq!((dd.open_counters, dd.wait_for_new), (0, None));
    q.resume(4).unwrap();
    assert!(q.call_next(4).unwrap().ticket.is_some());
}

#[test]
fn counter_cannot_call_a_ticket_of_a_service_it_does_not_serve() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    codes(&mut q, "dat-dai", 1);
    let err = q.call_ticket(1, "D001").unwrap_err();
    assert!(
        matches!(err, QueueError::CounterDoesNotServe { .. }),
        "{err}"
    );
    let ok = q.call_ticket(4, "D001").unwrap();
    assert_eq!(ok.ticket.unwrap().counter, Some(4));
    assert!(matches!(
        q.call_ticket(4, "Z999").unwrap_err(),
        QueueError::TicketNotFound { .. }
    ));
}

#[test]
fn quota_limits_a_citizen_and_stores_no_identity_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path()); // 2 a day, 1 per field
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    let cccd = "001086012345";
    let with_id = |service: &str, field: Option<&str>| {
        let mut r = IssueRequest::walk_in(service);
        r.citizen_id = Some(cccd.into());
        r.field = field.map(str::to_string);
        r
    };
    q.issue_ticket(&with_id("ho-tich", Some("Hộ tịch")))
        .unwrap();
    let same_field = q
        .issue_ticket(&with_id("ho-tich", Some("Hộ tịch")))
        .unwrap_err();
    assert_eq!(same_field.reason_code(), "quota_exceeded");
    q.issue_ticket(&with_id("chung-thuc", Some("Chứng thực")))
        .unwrap();
    let third = q.issue_ticket(&with_id("dat-dai", None)).unwrap_err();
    assert_eq!(
        third.to_string(),
        "this citizen already holds A001, B001 today (2); the limit is 2 a day"
    );
    // Another citizen is not affected.
    let mut other = with_id("ho-tich", Some("Hộ tịch"));
    other.citizen_id = Some("001090000001".into());
    q.issue_ticket(&other).unwrap();
    // The next day the limit starts again, and yesterday's hashes are erased.
    clock.advance(Duration::days(1));
    q.issue_ticket(&with_id("ho-tich", Some("Hộ tịch")))
        .unwrap();
    drop(q);
    for file in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(cccd.len()).any(|w| w == cccd.as_bytes()),
            "identity number found in clear in the database files"
        );
    }
    let conn = rusqlite::Connection::open(&config.db_path).unwrap();
    let hashed: Vec<String> = conn
        .prepare("SELECT service_day FROM tickets WHERE citizen_hash IS NOT NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(hashed, ["2026-03-03"]);
}

#[test]
fn daily_cap_refuses_and_issues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = demo_config(dir.path());
    config.services[0].daily_cap = Some(2);
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    codes(&mut q, "ho-tich", 2);
    let err = q
        .issue_ticket(&IssueRequest::walk_in("ho-tich"))
        .unwrap_err();
    assert_eq!(err.reason_code(), "daily_cap_reached");
    let status = q.status().unwrap();
    assert_eq!(status.services[0].counts.issued, 2);
}

#[test]
fn closed_outside_opening_hours_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = demo_config(dir.path());
    config.allow_outside_hours = false;
    // Sunday 1 March 2026, 10:00 in Hanoi: the demo is closed on Sundays.
    let clock = clock_at(Utc.with_ymd_and_hms(2026, 3, 1, 3, 0, 0).unwrap());
    let mut q = open(&config, &clock);
    let err = q
        .issue_ticket(&IssueRequest::walk_in("ho-tich"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the service point is closed now; opening hours today: closed"
    );
    // Monday 12:30 is the lunch break.
    clock.set(Utc.with_ymd_and_hms(2026, 3, 2, 5, 30, 0).unwrap());
    let err = q
        .issue_ticket(&IssueRequest::walk_in("ho-tich"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the service point is closed now; opening hours today: 07:30-12:00, 13:30-17:00"
    );
    clock.set(monday_morning());
    assert!(q.issue_ticket(&IssueRequest::walk_in("ho-tich")).is_ok());
}

#[test]
fn unknown_ids_are_refused_with_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    let err = q
        .issue_ticket(&IssueRequest::walk_in("passport"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown service \"passport\"; services here: ho-tich, chung-thuc, cu-tru, dat-dai, xa-hoi, tong-hop"
    );
    let mut r = IssueRequest::walk_in("ho-tich");
    r.priority_group = Some("vip".into());
    assert_eq!(
        q.issue_ticket(&r).unwrap_err().reason_code(),
        "unknown_priority_group"
    );
    assert_eq!(
        q.call_next(42).unwrap_err().reason_code(),
        "unknown_counter"
    );
}

#[test]
fn every_change_appends_one_event_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    codes(&mut q, "ho-tich", 2);
    q.call_next(1).unwrap();
    q.start_serving(1).unwrap();
    q.transfer(1, "chung-thuc").unwrap();
    q.call_next(1).unwrap();
    q.mark_no_show(1).unwrap();
    q.cancel("A001").unwrap();
    // A refused command leaves no trace.
    assert!(q.finish(1).is_err());
    drop(q);
    let mut store = Store::open(&config.db_path).unwrap();
    let tx = store.read().unwrap();
    let events = tx.events_after(0, 100).unwrap();
    let kinds: Vec<_> = events
        .iter()
        .map(|e| format!("{} {}", e.kind, e.code.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        kinds,
        [
            "issued A001",
            "issued A002",
            "called A001",
            "serving A001",
            "transferred A001",
            "called A002",
            "no_show A002",
            "cancelled A001"
        ]
    );
    assert_eq!(
        events[4].detail.as_ref().unwrap()["from_service"],
        "ho-tich"
    );
    assert!(events.windows(2).all(|w| w[0].id < w[1].id));
}

#[test]
fn wrap_never_hands_out_a_number_still_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = demo_config(dir.path());
    config.services[0].range.first = 1;
    config.services[0].range.last = 3;
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    assert_eq!(codes(&mut q, "ho-tich", 3), ["A001", "A002", "A003"]);
    // A001 is served and done; A002 and A003 still wait.
    q.call_next(1).unwrap();
    q.finish(1).unwrap();
    assert_eq!(codes(&mut q, "ho-tich", 1), ["A001"]);
    let err = q
        .issue_ticket(&IssueRequest::walk_in("ho-tich"))
        .unwrap_err();
    assert_eq!(err.reason_code(), "numbers_exhausted");
}

#[test]
fn wait_estimate_counts_the_people_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path()); // dat-dai: 15 min, one counter
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    let issued: Vec<_> = (0..3)
        .map(|_| q.issue_ticket(&IssueRequest::walk_in("dat-dai")).unwrap())
        .collect();
    let ahead: Vec<u32> = issued.iter().map(|i| i.people_ahead).collect();
    assert_eq!(ahead, [0, 1, 2]);
    // Two ahead at 15 min with one free counter: 30 min, shown with its 80 % range.
    let w = issued[2].wait.unwrap();
    assert_eq!((w.low_minutes, w.high_minutes), (19, 53));
}

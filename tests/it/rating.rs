//! Citizens' ratings through the real queue service and store: one per ticket, only for a
//! service finished at that counter and within the window, refused with the right reason
//! otherwise, and stored with no trace of the citizen's identity.

use chrono::Duration;
use kiosk::domain::{RatingInput, RatingReason, Reason};
use kiosk::hub::IssueRequest;

use crate::common::*;

fn score(n: u8) -> RatingInput {
    RatingInput {
        score: n,
        reasons: vec![],
    }
}

#[test]
fn a_finished_service_is_rated_once_in_its_window_without_identity() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let clock = clock_at(monday_morning());
    let mut q = open(&config, &clock);
    // Three citizens, the first identified (a chip card scanned at the kiosk).
    let mut with_id = IssueRequest::walk_in("ho-tich");
    with_id.citizen_id = Some("001203004567".into());
    q.issue_ticket(&with_id).unwrap();
    q.issue_ticket(&IssueRequest::walk_in("ho-tich")).unwrap();
    q.issue_ticket(&IssueRequest::walk_in("ho-tich")).unwrap();

    // Not finished yet: refused.
    q.call_next(1).unwrap();
    let early = q.rate(1, "A001", &score(5)).unwrap_err();
    assert_eq!(early.reason(), Reason::WrongTicketState, "{early}");
    q.start_serving(1).unwrap();
    q.finish(1).unwrap();

    // Reasons with a high score, an unknown counter's claim: refused, nothing stored.
    let high = RatingInput {
        score: 5,
        reasons: vec![RatingReason::Other],
    };
    assert_eq!(
        q.rate(1, "A001", &high).unwrap_err().reason(),
        Reason::BadRating
    );
    assert_eq!(
        q.rate(2, "A001", &score(5)).unwrap_err().reason(),
        Reason::Forbidden
    );

    // The clerk's session at counter 1 (their sign-in), named by the rating.
    let signed_in = q
        .record_device_event(
            kiosk::domain::EventKind::CounterSignedIn,
            None,
            serde_json::json!({ "counter": 1 }),
        )
        .unwrap();
    // The rating, once.
    let low = RatingInput {
        score: 2,
        reasons: vec![RatingReason::WaitedTooLong, RatingReason::StaffAttitude],
    };
    let out = q.rate(1, "A001", &low).unwrap();
    assert_eq!(out.events[0].kind, kiosk::domain::EventKind::Rated);
    let detail = out.events[0].detail.clone().unwrap();
    assert_eq!(detail["score"], 2);
    assert_eq!(
        detail["circular"], 0,
        "2 of 5 is 0 on Circular 01/2018's scale"
    );
    assert_eq!(detail["reasons"][1], "staff_attitude");
    assert_eq!(
        detail["session"], signed_in.id,
        "the clerk's counter session"
    );
    let again = q.rate(1, "A001", &score(5)).unwrap_err();
    assert_eq!(again.reason(), Reason::AlreadyRated, "{again}");

    // A002 finished; rated 4 within the window. A003 finished; too late after 11 minutes.
    q.call_next(1).unwrap();
    q.finish(1).unwrap();
    clock.advance(Duration::minutes(9));
    q.rate(1, "A002", &score(4)).unwrap();
    q.call_next(1).unwrap();
    q.finish(1).unwrap();
    clock.advance(Duration::minutes(11));
    assert_eq!(
        q.rate(1, "A003", &score(5)).unwrap_err().reason(),
        Reason::RatingClosed
    );
    assert_eq!(
        q.rate(1, "Z999", &score(5)).unwrap_err().reason(),
        Reason::TicketNotFound
    );

    let summary = q.rating_summary(Some(1)).unwrap();
    assert_eq!(summary.count, 2);
    assert_eq!(summary.average, Some(3.0));
    assert_eq!(q.rating_summary(Some(2)).unwrap().count, 0);

    // No identity anywhere near a rating: not in its table, not in its event.
    let conn = rusqlite::Connection::open(&config.db_path).unwrap();
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('ratings')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        columns,
        [
            "ticket_id",
            "at",
            "service_day",
            "score",
            "reasons",
            "counter",
            "service_id",
            "field"
        ]
    );
    let hash: Option<String> = conn
        .query_row(
            "SELECT citizen_hash FROM tickets WHERE code = 'A001'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let hash = hash.expect("the identified ticket has its hash (for the quota)");
    let rated: Vec<String> = conn
        .prepare("SELECT COALESCE(detail, '') FROM events WHERE kind = 'rated'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rated.len(), 2);
    for d in &rated {
        assert!(!d.contains(&hash) && !d.contains("001203004567"), "{d}");
    }
}

//! The hub actor: many concurrent callers, one owner of state; committed events are broadcast.

use std::collections::HashSet;
use std::sync::Arc;

use kiosk::hub::{Hub, IssueRequest};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_issues_get_distinct_numbers_and_every_event_is_broadcast() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let clock = clock_at(monday_morning());
    let (hub, handle) = Hub::start(open(&config, &clock));
    let mut events = handle.subscribe();
    let mut tasks = vec![];
    for i in 0..40 {
        let h = handle.clone();
        let service = if i % 2 == 0 { "ho-tich" } else { "chung-thuc" };
        tasks.push(tokio::spawn(async move {
            h.issue_ticket(IssueRequest::walk_in(service)).await
        }));
    }
    let mut codes = HashSet::new();
    for t in tasks {
        let issued = t.await.unwrap().unwrap();
        assert!(codes.insert(issued.ticket.code.clone()), "duplicate code");
    }
    assert_eq!(codes.len(), 40);
    assert!(codes.contains("A020") && codes.contains("B020"));
    let mut seen = HashSet::new();
    for _ in 0..40 {
        let e = events.recv().await.unwrap();
        assert_eq!(e.kind, "issued");
        seen.insert(e.code.unwrap());
    }
    assert_eq!(seen, codes);

    let called = handle.call_next(2).await.unwrap();
    let e = events.recv().await.unwrap();
    assert_eq!((e.kind.as_str(), e.counter), ("called", Some(2)));
    assert_eq!(e.code, called.ticket.unwrap().code.into());

    // A refused command is answered with its reason and broadcasts nothing.
    let err = handle.finish(3).await.unwrap_err();
    assert_eq!(err.reason_code(), "no_current_ticket");
    assert!(events.try_recv().is_err());

    let status = handle.status().await.unwrap();
    let waiting: u32 = status.services.iter().map(|s| s.counts.waiting).sum();
    assert_eq!(waiting, 39);
    drop(handle);
    hub.join();
}

#[test]
fn blocking_callers_work_outside_the_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let clock = clock_at(monday_morning());
    let (hub, handle) = Hub::start(open(&config, &clock));
    let handle = Arc::new(handle);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let h = Arc::clone(&handle);
            std::thread::spawn(move || {
                (0..5)
                    .map(|_| {
                        h.issue_ticket_blocking(IssueRequest::walk_in("cu-tru"))
                            .unwrap()
                            .ticket
                            .number
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut numbers: Vec<u32> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=20).collect::<Vec<_>>());
    drop(handle);
    hub.join();
}

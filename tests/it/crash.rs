//! Power-cut safety: a child process issues tickets as fast as it can and is killed with SIGKILL
//! at random moments, many times over. After every kill: the numbers continue with no gap and no
//! duplicate, every ticket the child reported (it prints only after the commit) is in the
//! database, and SQLite's integrity check passes.

use std::collections::HashSet;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::common::kiosk_bin;

/// "issued A001 id=1 seq=1 (...)" -> (code, id, seq)
fn parse_line(line: &str) -> Option<(String, i64, u32)> {
    let mut words = line.split_whitespace();
    (words.next()? == "issued").then_some(())?;
    let code = words.next()?.to_string();
    let id = words.next()?.strip_prefix("id=")?.parse().ok()?;
    let seq = words.next()?.strip_prefix("seq=")?.parse().ok()?;
    Some((code, id, seq))
}

#[test]
fn sigkill_at_random_moments_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.sqlite");
    let mut rng = StdRng::seed_from_u64(0x6b696f736b);
    let mut reported: Vec<(String, i64, u32)> = Vec::new();
    let rounds = 40;
    let mut rows_before = 0;
    for round in 0..rounds {
        let reported_before = reported.len();
        let mut child = Command::new(kiosk_bin())
            .args(["issue", "--service", "ho-tich", "--repeat", "0"])
            .env("KIOSK_DB", &db)
            .env_remove("KIOSK_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start kiosk");
        // Kill anywhere from start-up (before the first commit) to well into the loop.
        std::thread::sleep(Duration::from_millis(rng.random_range(0..120)));
        child.kill().expect("SIGKILL");
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        child.wait().unwrap();
        // Only whole lines count: a line cut by the kill was never fully reported.
        let complete = match out.rfind('\n') {
            Some(i) => &out[..=i],
            None => "",
        };
        for line in complete.lines() {
            reported.push(
                parse_line(line).unwrap_or_else(|| panic!("round {round}: bad line {line:?}")),
            );
        }

        let conn = rusqlite::Connection::open(&db).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(check, "ok", "round {round}");
        let rows: Vec<(i64, u32, String)> = match conn.prepare(
            "SELECT id, seq, code FROM tickets WHERE issued_service = 'ho-tich' ORDER BY seq",
        ) {
            Ok(mut stmt) => stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect(),
            // Killed before the first migration committed: no table yet, nothing reported.
            Err(_) => {
                assert!(
                    reported.is_empty(),
                    "round {round}: tickets reported but no table"
                );
                continue;
            }
        };
        // Sequence 1..=n with no gap and no duplicate; printed numbers match the sequence.
        for (i, (_, seq, code)) in rows.iter().enumerate() {
            assert_eq!(
                *seq as usize,
                i + 1,
                "round {round}: gap or duplicate in sequence"
            );
            assert_eq!(code, &format!("A{:03}", seq), "round {round}");
        }
        let in_db: HashSet<(i64, String)> =
            rows.iter().map(|(id, _, c)| (*id, c.clone())).collect();
        for (code, id, seq) in &reported {
            assert!(
                in_db.contains(&(*id, code.clone())),
                "round {round}: reported ticket {code} (id {id}, seq {seq}) is missing"
            );
        }
        // At most one committed ticket per round can be unreported: the one whose line the
        // kill cut off.
        let new_rows = rows.len() - rows_before;
        let new_reported = reported.len() - reported_before;
        assert!(
            new_rows >= new_reported && new_rows - new_reported <= 1,
            "round {round}: {new_rows} new in the database, {new_reported} reported"
        );
        rows_before = rows.len();
        // Each issue writes its event in the same transaction.
        let events: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM events WHERE kind = 'issued'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            events as usize,
            rows.len(),
            "round {round}: ticket without its event"
        );
    }
    assert!(
        reported.len() > rounds,
        "the child issued too few tickets ({}) for the test to mean anything",
        reported.len()
    );
}

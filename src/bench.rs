//! `kiosk bench`: measured figures for the closing notes. Durable issue and call latency,
//! compared with a bare rusqlite insert under the same pragmas (WAL, synchronous=FULL), in a
//! fresh temporary folder so the numbers do not depend on an existing database.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use crate::clock::SystemClock;
use crate::config::Config;
use crate::hub::{IssueRequest, QueueService};
use crate::store::Store;

#[derive(Debug, Serialize)]
pub struct Latency {
    pub n: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    pub ops_per_s: f64,
}

impl Latency {
    fn from_samples(mut us: Vec<f64>, total_secs: f64) -> Latency {
        us.sort_by(f64::total_cmp);
        let pick = |q: f64| us[((us.len() as f64 - 1.0) * q).round() as usize];
        Latency {
            n: us.len(),
            p50_us: pick(0.50),
            p99_us: pick(0.99),
            ops_per_s: us.len() as f64 / total_secs,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct IssueBench {
    pub issue: Latency,
    pub call: Latency,
    pub bare_insert: Latency,
    /// Issue throughput over bare-insert throughput.
    pub issue_ratio: f64,
    /// Call throughput over bare-insert throughput.
    pub call_ratio: f64,
}

impl fmt::Display for IssueBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, l) in [
            ("issue (durable)", &self.issue),
            ("call next (durable)", &self.call),
            ("bare insert", &self.bare_insert),
        ] {
            writeln!(
                f,
                "{name:<22} n={:<6} p50 {:>8.1} us  p99 {:>8.1} us  {:>8.0} ops/s",
                l.n, l.p50_us, l.p99_us, l.ops_per_s
            )?;
        }
        writeln!(
            f,
            "ratio ours/bare: issue {:.2}, call {:.2}",
            self.issue_ratio, self.call_ratio
        )
    }
}

fn temp_dir(tag: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("kiosk-bench-{tag}-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn bench_bare(n: usize) -> Result<Latency> {
    let dir = temp_dir("bare")?;
    let conn = rusqlite::Connection::open(dir.join("bare.sqlite"))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, service TEXT NOT NULL, number INTEGER NOT NULL, at INTEGER NOT NULL)",
    )?;
    let mut samples = Vec::with_capacity(n);
    let start = Instant::now();
    for i in 0..n {
        let t0 = Instant::now();
        conn.execute(
            "INSERT INTO t (service, number, at) VALUES ('ho-tich', ?1, ?2)",
            rusqlite::params![i as i64, i as i64],
        )?;
        samples.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    let total = start.elapsed().as_secs_f64();
    drop(conn);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Latency::from_samples(samples, total))
}

pub fn bench_issue(config: &Config, n: usize) -> Result<IssueBench> {
    let n = n.max(10);
    let dir = temp_dir("issue")?;
    let mut config = config.clone();
    config.db_path = dir.join("kiosk.sqlite");
    config.allow_outside_hours = true;
    // A bench must not stop at a cap or a range end.
    for s in &mut config.services {
        s.daily_cap = None;
        s.range.wrap = true;
        s.range.last = s.range.last.max(99_999);
    }
    let service = config.services[0].id.clone();
    let counter = config
        .counters_for(&service)
        .next()
        .map(|c| c.number)
        .ok_or_else(|| anyhow::anyhow!("no counter serves {service}"))?;
    let store = Store::open(&config.db_path)?;
    let mut q = QueueService::new(Arc::new(config), store, Arc::new(SystemClock))?;
    let req = IssueRequest::walk_in(&service);

    let mut issue = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t0 = Instant::now();
        q.issue_ticket(&req)?;
        issue.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    let issue_total = start.elapsed().as_secs_f64();

    // Call each waiting ticket; from the second call on, call-next also finishes the previous.
    let mut call = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t0 = Instant::now();
        q.call_next(counter)?;
        q.start_serving(counter)?;
        call.push(t0.elapsed().as_secs_f64() * 1e6 / 2.0);
    }
    let call_total = start.elapsed().as_secs_f64() / 2.0;
    drop(q);
    let _ = std::fs::remove_dir_all(&dir);

    let issue = Latency::from_samples(issue, issue_total);
    let call = Latency::from_samples(call, call_total);
    let bare_insert = bench_bare(n)?;
    Ok(IssueBench {
        issue_ratio: issue.ops_per_s / bare_insert.ops_per_s,
        call_ratio: call.ops_per_s / bare_insert.ops_per_s,
        issue,
        call,
        bare_insert,
    })
}

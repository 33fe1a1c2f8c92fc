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

/// One row of the ticket-size table.
#[derive(Debug, Serialize)]
pub struct TicketSize {
    pub ticket: &'static str,
    pub mode: &'static str,
    pub width_dots: u32,
    pub bytes: usize,
    pub raster_bytes: usize,
    /// Seconds on the wire at 8N1 (10 bits a byte), per baud rate.
    pub secs_9600: f64,
    pub secs_38400: f64,
    pub secs_115200: f64,
    pub encode_us: f64,
}

/// Bytes and send times of the demo's default ticket and of the long sample, in every mode and
/// paper width. Send time is computed from the bytes (a pty does not throttle).
pub fn bench_ticket(config: &Config) -> Result<Vec<TicketSize>> {
    use crate::printer::encode::{EVERY_MODE, EncodeOptions, encode};
    use crate::printer::layout::{layout, sample_ticket};

    let service = &config.services[0];
    let now = chrono::Utc::now();
    let ticket = crate::domain::Ticket {
        id: 1,
        ..crate::domain::Ticket::waiting(
            now.date_naive(),
            &service.id,
            23,
            23,
            crate::domain::ticket_code(&service.prefix, 23, config.number_width),
            now,
        )
    };
    let default_ticket = crate::ticketing::ticket_info(
        config,
        &ticket,
        4,
        Some(crate::domain::WaitRange {
            low_minutes: 12,
            high_minutes: 15,
        }),
    );
    let mut rows = Vec::new();
    for (name, info) in [
        ("default", default_ticket),
        ("long sample", sample_ticket()),
    ] {
        let blocks = layout(&info);
        for (mode_name, mode) in EVERY_MODE {
            for width in [576, 512, 384] {
                let opts = EncodeOptions {
                    width_dots: width,
                    mode,
                    auto_status_back: false,
                };
                let runs = 20;
                let t0 = Instant::now();
                let mut e = encode(&blocks, opts)?;
                for _ in 1..runs {
                    e = encode(&blocks, opts)?;
                }
                let encode_us = t0.elapsed().as_secs_f64() * 1e6 / f64::from(runs);
                let bits = e.bytes.len() as f64 * 10.0;
                rows.push(TicketSize {
                    ticket: name,
                    mode: mode_name,
                    width_dots: width,
                    bytes: e.bytes.len(),
                    raster_bytes: e.raster_bytes,
                    secs_9600: bits / 9600.0,
                    secs_38400: bits / 38_400.0,
                    secs_115200: bits / 115_200.0,
                    encode_us,
                });
            }
        }
    }
    Ok(rows)
}

pub fn render_ticket_sizes(rows: &[TicketSize]) -> String {
    let mut s = format!(
        "{:<12} {:<9} {:>5} {:>6} {:>7} {:>8} {:>8} {:>8} {:>10}\n",
        "ticket", "mode", "dots", "bytes", "raster", "9600 s", "38400 s", "115200 s", "encode us"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<12} {:<9} {:>5} {:>6} {:>7} {:>8.2} {:>8.2} {:>8.3} {:>10.0}\n",
            r.ticket,
            r.mode,
            r.width_dots,
            r.bytes,
            r.raster_bytes,
            r.secs_9600,
            r.secs_38400,
            r.secs_115200,
            r.encode_us
        ));
    }
    s
}

#[derive(Debug, Serialize)]
pub struct UiBench {
    /// From the start of the command to the first frame drawn by the software renderer.
    pub first_frame_ms: f64,
    pub seconds: u64,
    pub cycles: usize,
    /// From the tap that issues (the "No" on the priority page) to the job in the printer's
    /// hands (the spool file written).
    pub tap_to_print: Latency,
    /// Mean time to draw one full frame (1080x1920) with the software renderer.
    pub frame_ms: f64,
    pub rss_start_mb: f64,
    pub rss_end_mb: f64,
}

impl fmt::Display for UiBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "first frame        {:.0} ms", self.first_frame_ms)?;
        writeln!(
            f,
            "scripted use       {} s, {} cycles (welcome, services, priority, ticket, procedures, help)",
            self.seconds, self.cycles
        )?;
        writeln!(
            f,
            "tap -> print job   p50 {:.1} ms, p99 {:.1} ms",
            self.tap_to_print.p50_us / 1000.0,
            self.tap_to_print.p99_us / 1000.0
        )?;
        writeln!(f, "frame (1080x1920)  {:.1} ms", self.frame_ms)?;
        writeln!(
            f,
            "resident memory    {:.1} MB at start, {:.1} MB at the end",
            self.rss_start_mb, self.rss_end_mb
        )
    }
}

/// Resident set size of this process, from /proc (Linux).
pub fn rss_mb() -> f64 {
    proc_status_mb("self", "VmRSS:")
}

/// A memory line of /proc/<pid>/status, MB (0 when unreadable).
fn proc_status_mb(pid: &str, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Drive the real UI headless (software renderer) through the citizen's pages for `seconds`,
/// issuing and printing (to a spool folder) once per cycle.
pub fn bench_ui(config: &Config, seconds: u64) -> Result<UiBench> {
    use slint::ComponentHandle;
    let started = Instant::now();
    let dir = temp_dir("ui")?;
    let mut config = config.clone();
    config.db_path = dir.join("kiosk.sqlite");
    config.allow_outside_hours = true;
    let spool = dir.join("spool");
    config.printer.transport = crate::config::TransportConfig::Spool { dir: spool.clone() };
    for s in &mut config.services {
        s.daily_cap = None;
        s.range.wrap = true;
    }
    let services: Vec<String> = config.services.iter().map(|s| s.id.clone()).collect();
    crate::ui::screenshot::init_headless()?;
    let (kiosk, app) = crate::ui::Kiosk::start(config)?;
    let status = app.block_on(kiosk.hub.status())?;
    let ui = crate::ui::KioskUi::new(kiosk)?;
    ui.apply_status(&status);
    ui.window.show()?;
    ui.window
        .window()
        .set_size(slint::PhysicalSize::new(1080, 1920));
    ui.window
        .window()
        .take_snapshot()
        .map_err(|e| anyhow::anyhow!("first frame: {e}"))?;
    let first_frame_ms = started.elapsed().as_secs_f64() * 1000.0;
    let rss_start_mb = rss_mb();

    let k = ui.window.global::<crate::ui::KioskAdapter>();
    let mut taps = Vec::new();
    let mut frames = Vec::new();
    let mut cycles = 0;
    let until = Instant::now() + std::time::Duration::from_secs(seconds);
    let draw = |frames: &mut Vec<f64>| -> Result<()> {
        let t0 = Instant::now();
        ui.window
            .window()
            .take_snapshot()
            .map_err(|e| anyhow::anyhow!("frame: {e}"))?;
        frames.push(t0.elapsed().as_secs_f64() * 1000.0);
        Ok(())
    };
    while Instant::now() < until || cycles == 0 {
        let service = &services[cycles % services.len()];
        k.set_page(crate::ui::Page::Welcome);
        draw(&mut frames)?;
        k.set_page(crate::ui::Page::Services);
        draw(&mut frames)?;
        ui.window
            .global::<crate::ui::ServicesAdapter>()
            .invoke_choose_service(service.as_str().into());
        draw(&mut frames)?;
        let before = std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0);
        let t0 = Instant::now();
        ui.window
            .global::<crate::ui::PriorityAdapter>()
            .invoke_issue("".into());
        // Wait for the spool folder to gain this ticket's files (.bin, .png).
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0) < before + 2 {
            if Instant::now() > deadline {
                return Err(anyhow::anyhow!("no print job within 10 s"));
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        taps.push(t0.elapsed().as_secs_f64() * 1e6);
        k.set_page(crate::ui::Page::Ticket);
        draw(&mut frames)?;
        k.set_page(crate::ui::Page::Procedures);
        draw(&mut frames)?;
        k.set_page(crate::ui::Page::Help);
        draw(&mut frames)?;
        cycles += 1;
    }
    let total = taps.iter().sum::<f64>() / 1e6;
    let frame_ms = frames.iter().sum::<f64>() / frames.len().max(1) as f64;
    let rss_end_mb = rss_mb();
    drop(ui);
    app.stop();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(UiBench {
        first_frame_ms,
        seconds,
        cycles,
        tap_to_print: Latency::from_samples(taps, total),
        frame_ms,
        rss_start_mb,
        rss_end_mb,
    })
}

#[derive(Debug, Serialize)]
pub struct ReportBench {
    pub backlog_events: usize,
    pub drain_secs: f64,
    pub drain_events_per_s: f64,
    pub points: usize,
    pub ingest_events: usize,
    pub ingest_secs: f64,
    pub ingest_events_per_s: f64,
}

impl fmt::Display for ReportBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "drain {} backlog events to the receiver on loopback: {:.2} s, {:.0} events/s",
            self.backlog_events, self.drain_secs, self.drain_events_per_s
        )?;
        writeln!(
            f,
            "receiver ingest, {} points at once: {} events in {:.2} s, {:.0} events/s",
            self.points, self.ingest_events, self.ingest_secs, self.ingest_events_per_s
        )
    }
}

/// A synthetic `issued` event of a load-generating point.
fn issued_event(
    site: &crate::report::WireSite,
    instance: &str,
    seq: i64,
    detail: Option<serde_json::Value>,
) -> crate::report::WireEvent {
    crate::report::WireEvent {
        key: format!("{}:{instance}:{seq}", site.path()),
        seq,
        at: chrono::Utc::now(),
        kind: "issued".into(),
        ticket: Some(format!("A{:03}", seq % 1000)),
        service: Some("ho-tich".into()),
        counter: None,
        priority_group: None,
        detail,
    }
}

/// Drain a large backlog to the reference receiver, and load the receiver from many points.
pub fn bench_report(config: &Config, backlog: usize, points: usize) -> Result<ReportBench> {
    use crate::centre::{Centre, CentreConfig, PointConfig};
    use crate::report::{Report, SCHEMA, Sender, WireSite};

    let dir = temp_dir("report")?;
    let runtime = tokio::runtime::Runtime::new()?;
    let mut point_cfgs = vec![PointConfig {
        path: config.site.path(),
        token: "bench-0".into(),
    }];
    for i in 1..=points {
        point_cfgs.push(PointConfig {
            path: format!("hn.ttpvhcc/bench/p{i:03}"),
            token: format!("bench-{i}"),
        });
    }
    let centre_cfg = CentreConfig {
        listen: "127.0.0.1:0".into(),
        db_path: dir.join("centre.sqlite"),
        max_body_bytes: 64 * 1024 * 1024,
        stale_after_seconds: 120,
        point: point_cfgs,
        viewer: Vec::new(),
        allowed_hosts: Vec::new(),
        booking: Default::default(),
        ticket_stale_after_seconds: 75,
        tls: None,
        behind_tls_proxy: false,
        trend_keep_hours: 48,
        store: None,
    };
    let centre = Arc::new(Centre::open(&centre_cfg)?);
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    runtime.spawn(crate::centre::serve(
        listener,
        Arc::clone(&centre),
        std::future::pending(),
    ));

    // A point with `backlog` events waiting (written directly, as days offline would leave them).
    let mut point = config.clone();
    point.db_path = dir.join("point.sqlite");
    point.reporting.url = Some(format!("http://{addr}/api/v1/reports"));
    point.reporting.token = Some("bench-0".into());
    point.reporting.batch_size = 500;
    {
        let mut store = Store::open(&point.db_path)?;
        let tx = store.write()?;
        let now = chrono::Utc::now();
        for i in 0..backlog {
            tx.append_event(&crate::store::Event {
                id: 0,
                at: now,
                kind: crate::domain::EventKind::Issued,
                ticket_id: Some(i as i64 + 1),
                code: Some(format!("A{:03}", i % 1000)),
                service_id: Some("ho-tich".into()),
                counter: None,
                priority_group: None,
                detail: Some(serde_json::json!({ "channel": "kiosk" })),
            })?;
        }
        tx.commit()?;
    }
    let sender = Sender::new(Arc::new(point))?;
    let t0 = Instant::now();
    let drained = runtime.block_on(sender.drain())?;
    let drain_secs = t0.elapsed().as_secs_f64();

    // Many points at once: each sends its own batches of 500, in order, concurrently.
    let per_point = 500usize;
    let batches = 2usize;
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/api/v1/reports");
    let t0 = Instant::now();
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for i in 1..=points {
            let client = client.clone();
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                let site = WireSite {
                    centre: "hn.ttpvhcc".into(),
                    branch: "bench".into(),
                    id: format!("p{i:03}"),
                    name_vi: format!("Điểm {i}"),
                    name_en: format!("Point {i}"),
                };
                for b in 0..batches {
                    let events = (0..per_point)
                        .map(|k| {
                            let seq = (b * per_point + k + 1) as i64;
                            issued_event(&site, "bench", seq, None)
                        })
                        .collect();
                    let report = Report {
                        schema: SCHEMA.into(),
                        site: site.clone(),
                        sent_at: chrono::Utc::now(),
                        snapshot: None,
                        events,
                    };
                    let resp = client
                        .post(&url)
                        .bearer_auth(format!("bench-{i}"))
                        .json(&report)
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    if !resp.status().is_success() {
                        return Err(format!("point {i}: {}", resp.status()));
                    }
                }
                Ok::<(), String>(())
            }));
        }
        for t in tasks {
            t.await
                .map_err(|e| anyhow::anyhow!(e))?
                .map_err(|e| anyhow::anyhow!(e))?;
        }
        anyhow::Ok(())
    })?;
    let ingest_secs = t0.elapsed().as_secs_f64();
    let ingest_events = points * per_point * batches;
    let stored = centre.event_count()? as usize;
    if stored != drained + ingest_events {
        return Err(anyhow::anyhow!(
            "the receiver holds {stored} events, expected {}",
            drained + ingest_events
        ));
    }
    drop(runtime);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ReportBench {
        backlog_events: drained,
        drain_secs,
        drain_events_per_s: drained as f64 / drain_secs,
        points,
        ingest_events,
        ingest_secs,
        ingest_events_per_s: ingest_events as f64 / ingest_secs,
    })
}

#[derive(Debug, Serialize)]
pub struct CityBench {
    pub points: usize,
    pub seconds: f64,
    pub reports: usize,
    pub events: usize,
    pub failed: usize,
    pub reports_per_s: f64,
    pub events_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// "sqlite" or "postgresql".
    pub store: String,
    pub receivers: usize,
    /// The largest receiver process's peak resident memory (VmHWM).
    pub receiver_peak_mb: f64,
    /// The database's size at the end (SQLite file and WAL, or `pg_database_size`).
    pub receiver_db_mb: f64,
    /// Events the receivers hold at the end, against the events acknowledged as accepted.
    pub stored_events: i64,
    pub accepted_events: u64,
}

impl fmt::Display for CityBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} points, a snapshot each every 30 s with their events, for {:.0} s, against {} receiver{} on {}:",
            self.points,
            self.seconds,
            self.receivers,
            if self.receivers == 1 { "" } else { "s" },
            self.store
        )?;
        writeln!(
            f,
            "  {} reports ({:.0}/s), {} events ({:.0}/s), {} failed; request p50 {:.1} ms, p99 {:.1} ms, max {:.0} ms",
            self.reports,
            self.reports_per_s,
            self.events,
            self.events_per_s,
            self.failed,
            self.p50_ms,
            self.p99_ms,
            self.max_ms
        )?;
        writeln!(
            f,
            "  receiver peak memory {:.0} MB (largest), database {:.0} MB; {} events stored, {} acknowledged as new",
            self.receiver_peak_mb, self.receiver_db_mb, self.stored_events, self.accepted_events
        )
    }
}

/// The city in steady state: every point posts a report every 30 s (starts spread over the
/// first 30 s), each with a snapshot of six queues and a dozen waiting tickets and the events
/// its day's rate makes in 30 s (spread over 8 opening hours), to `kiosk centre` processes of
/// this binary on loopback: one on SQLite, or `postgres_receivers` sharing a scratch
/// PostgreSQL server (durable: fsync on), each point sticking to one as behind a load balancer.
pub fn bench_city(
    points: usize,
    seconds: u64,
    events_per_day: usize,
    postgres_receivers: Option<usize>,
) -> Result<CityBench> {
    use crate::report::{Report, SCHEMA, ServiceSnapshot, Snapshot, WireSite};
    use std::time::Duration;
    let dir = temp_dir("city")?;
    let pg = match postgres_receivers {
        Some(_) => {
            let pg = crate::centre::scratch_pg::ScratchPostgres::start(&dir, true)
                .map_err(|e| anyhow::anyhow!(e))?
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "no PostgreSQL server programs here; scripts/setup installs them"
                    )
                })?;
            pg.create_database("city").map_err(|e| anyhow::anyhow!(e))?;
            Some(pg)
        }
        None => None,
    };
    let receivers = postgres_receivers.unwrap_or(1).max(1);
    let mut common = String::from("max_body_bytes = 8388608\n");
    match &pg {
        Some(pg) => common.push_str(&pg.store_toml("city", &dir.join("identity.key"), 8)),
        None => common.push_str(&format!(
            "db_path = \"{}\"\n",
            dir.join("centre.sqlite").display()
        )),
    }
    let mut point_list = String::new();
    for i in 0..points {
        point_list.push_str(&format!(
            "[[point]]\npath = \"hn.ttpvhcc/b{:02}/p{i:04}\"\ntoken = \"city-point-token-{i:04}\"\n",
            i % 12
        ));
    }
    let mut procs = Vec::new();
    let mut bases = Vec::new();
    for r in 0..receivers {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        // Top-level keys first: `[store]` and `[[point]]` tables follow.
        let file = dir.join(format!("centre-{r}.toml"));
        std::fs::write(
            &file,
            format!("listen = \"127.0.0.1:{port}\"\n{common}{point_list}"),
        )?;
        procs.push(
            std::process::Command::new(std::env::current_exe()?)
                .args(["centre", "--config"])
                .arg(&file)
                .env("RUST_LOG", "warn")
                .stderr(std::process::Stdio::null())
                .spawn()?,
        );
        bases.push(format!("http://127.0.0.1:{port}"));
    }
    let stop = |procs: &mut Vec<std::process::Child>| {
        for p in procs.iter_mut() {
            let _ = p.kill();
            let _ = p.wait();
        }
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()?;
    let up = runtime.block_on(async {
        for base in &bases {
            let mut ok = false;
            for _ in 0..400 {
                if client.get(format!("{base}/healthz")).send().await.is_ok() {
                    ok = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if !ok {
                return false;
            }
        }
        true
    });
    if !up {
        stop(&mut procs);
        return Err(anyhow::anyhow!("a receiver did not come up"));
    }
    // Events a point makes in 30 s of an 8-hour day.
    let per_report = (events_per_day as f64 * 30.0 / (8.0 * 3600.0)).ceil() as usize;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let t0 = Instant::now();
    let results: Vec<(usize, usize, Vec<f64>, u64)> = runtime.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..points {
            let (client, url) = (
                client.clone(),
                format!("{}/api/v1/reports", bases[i % receivers]),
            );
            tasks.push(tokio::spawn(async move {
                let site = WireSite {
                    centre: "hn.ttpvhcc".into(),
                    branch: format!("b{:02}", i % 12),
                    id: format!("p{i:04}"),
                    name_vi: format!("Điểm {i}"),
                    name_en: format!("Point {i}"),
                };
                let services: Vec<ServiceSnapshot> = [
                    "ho-tich",
                    "chung-thuc",
                    "cu-tru",
                    "dat-dai",
                    "xa-hoi",
                    "tong-hop",
                ]
                .iter()
                .map(|s| ServiceSnapshot {
                    service: s.to_string(),
                    waiting: 2,
                    called_today: 40,
                    served_today: 38,
                    no_show_today: 2,
                    wait_avg_1h_s: Some(600.0),
                    wait_p90_1h_s: Some(1100.0),
                    wait_new_low_min: Some(10),
                    wait_new_high_min: Some(26),
                    counters_open: 2,
                })
                .collect();
                let queue: Vec<crate::hub::service::Queued> = (0..12)
                    .map(|k| crate::hub::service::Queued {
                        code: format!("A{k:03}"),
                        service: "ho-tich".into(),
                        ahead: k,
                        wait_low_min: Some(k * 3),
                        wait_high_min: Some(k * 8 + 1),
                    })
                    .collect();
                // Spread the points' starts over the first interval.
                tokio::time::sleep(Duration::from_millis(
                    (i as u64 * 30_000.min(seconds * 1000)) / points.max(1) as u64,
                ))
                .await;
                let (mut sent, mut failed, mut lat, mut accepted) =
                    (0usize, 0usize, Vec::new(), 0u64);
                let mut seq = 0i64;
                let mut next = Instant::now();
                while Instant::now() < deadline {
                    let events = (0..per_report)
                        .map(|_| {
                            seq += 1;
                            let detail = serde_json::json!({ "channel": "kiosk", "ahead": 3 });
                            issued_event(&site, "city", seq, Some(detail))
                        })
                        .collect();
                    let report = Report {
                        schema: SCHEMA.into(),
                        site: site.clone(),
                        sent_at: chrono::Utc::now(),
                        snapshot: Some(Snapshot {
                            at: chrono::Utc::now(),
                            service_day: chrono::Utc::now().date_naive(),
                            services: services.clone(),
                            counters_open: 5,
                            printer: Some("ready".into()),
                            outbox_backlog: 0,
                            software_version: "bench".into(),
                            uptime_s: 1,
                            hours: Vec::new(),
                            estimate: None,
                            queue: queue.clone(),
                            bundle: None,
                        }),
                        events,
                    };
                    let t = Instant::now();
                    let answer = client
                        .post(&url)
                        .bearer_auth(format!("city-point-token-{i:04}"))
                        .json(&report)
                        .send()
                        .await;
                    // The latency is the request's, up to its answer's head.
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    let ok = match answer {
                        Ok(r) if r.status().is_success() => {
                            if let Ok(ack) = r.json::<crate::report::Ack>().await {
                                accepted += ack.accepted;
                            }
                            true
                        }
                        _ => false,
                    };
                    if ok {
                        sent += 1;
                    } else {
                        failed += 1;
                    }
                    next += Duration::from_secs(30);
                    if next >= deadline {
                        break;
                    }
                    tokio::time::sleep_until(next.into()).await;
                }
                (sent, failed, lat, accepted)
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            if let Ok(r) = t.await {
                out.push(r);
            }
        }
        out
    });
    let secs = t0.elapsed().as_secs_f64();
    let peak = procs
        .iter()
        .map(|p| proc_status_mb(&p.id().to_string(), "VmHWM:"))
        .fold(0.0, f64::max);
    stop(&mut procs);
    // What the store holds, read back through the receiver's own store.
    let (stored_events, db_mb) = {
        let store = match &pg {
            Some(pg) => {
                crate::centre::store::Store::postgres(&pg.url("city"), Some(&pg.password()), 1)?
            }
            None => crate::centre::store::Store::sqlite(&dir.join("centre.sqlite"))?,
        };
        let size_sql = match &pg {
            Some(_) => "SELECT COUNT(*), CAST(pg_database_size('city') AS BIGINT) FROM events",
            None => "SELECT COUNT(*), 0 FROM events",
        };
        let row = store.run(|s| s.row(size_sql, &[]))?;
        let n = row.as_ref().map(|r| r.int(0)).transpose()?.unwrap_or(0);
        let pg_bytes = row.as_ref().map(|r| r.int(1)).transpose()?.unwrap_or(0);
        let file_mb: f64 = ["centre.sqlite", "centre.sqlite-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
            .map(|m| m.len() as f64 / 1_048_576.0)
            .sum();
        (n, file_mb + pg_bytes as f64 / 1_048_576.0)
    };
    drop(pg);
    let accepted_events: u64 = results.iter().map(|r| r.3).sum();
    let reports: usize = results.iter().map(|r| r.0).sum();
    let failed: usize = results.iter().map(|r| r.1).sum();
    let mut lat: Vec<f64> = results.into_iter().flat_map(|r| r.2).collect();
    lat.sort_by(f64::total_cmp);
    let q = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let _ = std::fs::remove_dir_all(&dir);
    Ok(CityBench {
        points,
        seconds: secs,
        reports,
        events: reports * per_report,
        failed,
        reports_per_s: reports as f64 / secs,
        events_per_s: (reports * per_report) as f64 / secs,
        p50_ms: q(0.5),
        p99_ms: q(0.99),
        max_ms: lat.last().copied().unwrap_or(0.0),
        store: if postgres_receivers.is_some() {
            "postgresql".into()
        } else {
            "sqlite".into()
        },
        receivers,
        receiver_peak_mb: peak,
        receiver_db_mb: db_mb,
        stored_events,
        accepted_events,
    })
}

#[derive(Debug, Serialize)]
pub struct BoardBench {
    pub clients: usize,
    pub calls: usize,
    /// From the clerk's HTTP call-next request to each board receiving the call event.
    pub deliveries: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The slowest board of each call, p50 and p99.
    pub last_board_p50_ms: f64,
    pub last_board_p99_ms: f64,
}

impl fmt::Display for BoardBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "call -> board event, {} boards connected, {} calls ({} deliveries):",
            self.clients, self.calls, self.deliveries
        )?;
        writeln!(
            f,
            "  every board: p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
            self.p50_ms, self.p99_ms, self.max_ms
        )?;
        writeln!(
            f,
            "  slowest board of each call: p50 {:.2} ms  p99 {:.2} ms",
            self.last_board_p50_ms, self.last_board_p99_ms
        )
    }
}

/// A clerk calls through the HTTP API while `clients` boards follow `/api/events` on loopback;
/// the time from sending the request to each board reading the call.
pub fn bench_board(config: &Config, clients: usize, calls: usize) -> Result<BoardBench> {
    use std::collections::HashMap;
    use std::sync::Mutex;

    let dir = temp_dir("board")?;
    let mut config = config.clone();
    config.db_path = dir.join("hub.sqlite");
    config.reporting.url = None;
    let counter = config
        .counters
        .first()
        .ok_or_else(|| anyhow::anyhow!("no counter configured"))?
        .clone();
    let service = counter.services[0].clone();
    let app = crate::app::App::start(
        config,
        crate::app::Options {
            api: crate::app::Api::At("127.0.0.1:0".into()),
            ..crate::app::Options::tool()
        },
    )?;
    let config = Arc::clone(&app.config);
    let url = format!(
        "http://{}",
        app.api_addr
            .ok_or_else(|| anyhow::anyhow!("the API did not start"))?
    );
    // Arrival times: code -> when each board read it.
    let seen: Arc<Mutex<HashMap<String, Vec<Instant>>>> = Arc::default();
    let hub = app.hub.clone();
    let result = app.block_on(async {
        for _ in 0..calls {
            hub.issue_ticket(IssueRequest::walk_in(&service)).await?;
        }
        let ready = Arc::new(tokio::sync::Semaphore::new(0));
        let mut boards = Vec::new();
        for _ in 0..clients {
            let url = url.clone();
            let seen = Arc::clone(&seen);
            let ready = Arc::clone(&ready);
            boards.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                let Ok(mut resp) = client.get(format!("{url}/api/events")).send().await else {
                    return;
                };
                let mut reader = crate::sse::Reader::new();
                let mut first = true;
                while let Ok(Some(chunk)) = resp.chunk().await {
                    let now = Instant::now();
                    for m in reader.feed(&chunk) {
                        if first {
                            first = false;
                            ready.add_permits(1);
                        }
                        if m.event == "call"
                            && let Ok(call) = serde_json::from_str::<crate::wire::Call>(&m.data)
                        {
                            seen.lock().unwrap().entry(call.code).or_default().push(now);
                        }
                    }
                }
            }));
        }
        let _ = ready.acquire_many(clients as u32).await?;
        let token = counter
            .pin
            .as_deref()
            .map(|pin| {
                let secret = Store::open(&config.db_path)
                    .and_then(|mut s| s.meta_or_init("api_secret", crate::hub::service::random_id))
                    .unwrap_or_default();
                crate::api::lan::pin_token(&secret, counter.number, pin)
            })
            .or(counter.token.clone())
            .ok_or_else(|| anyhow::anyhow!("counter {} has no PIN or token", counter.number))?;
        let clerk = reqwest::Client::new();
        let mut sent: Vec<(String, Instant)> = Vec::new();
        for _ in 0..calls {
            let t0 = Instant::now();
            let r: serde_json::Value = clerk
                .post(format!("{url}/api/counters/{}/call-next", counter.number))
                .bearer_auth(&token)
                .send()
                .await?
                .json()
                .await?;
            let code = r["ticket"]["code"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("call-next: {r}"))?
                .to_string();
            sent.push((code.clone(), t0));
            // Wait until every board has it, then let the citizen arrive (serve).
            let deadline = Instant::now() + std::time::Duration::from_secs(10);
            while seen.lock().unwrap().get(&code).map_or(0, Vec::len) < clients {
                anyhow::ensure!(Instant::now() < deadline, "boards did not all get {code}");
                tokio::time::sleep(std::time::Duration::from_micros(200)).await;
            }
            clerk
                .post(format!("{url}/api/counters/{}/serve", counter.number))
                .bearer_auth(&token)
                .send()
                .await?;
        }
        for b in boards {
            b.abort();
        }
        anyhow::Ok(sent)
    });
    drop(hub);
    app.stop();
    let _ = std::fs::remove_dir_all(&dir);
    let sent = result?;
    let seen = seen.lock().unwrap();
    let mut all = Vec::new();
    let mut last = Vec::new();
    for (code, t0) in &sent {
        let times = seen.get(code).cloned().unwrap_or_default();
        let ms: Vec<f64> = times
            .iter()
            .map(|t| t.duration_since(*t0).as_secs_f64() * 1000.0)
            .collect();
        last.push(ms.iter().copied().fold(0.0, f64::max));
        all.extend(ms);
    }
    let pick = |v: &mut Vec<f64>, q: f64| {
        v.sort_by(f64::total_cmp);
        v.get(((v.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Ok(BoardBench {
        clients,
        calls: sent.len(),
        deliveries: all.len(),
        p50_ms: pick(&mut all, 0.5),
        p99_ms: pick(&mut all, 0.99),
        max_ms: pick(&mut all, 1.0),
        last_board_p50_ms: pick(&mut last, 0.5),
        last_board_p99_ms: pick(&mut last, 0.99),
    })
}

#[derive(Debug, Serialize)]
pub struct ScanBench {
    /// Bytes written to the scanner's pseudo-terminal -> the ticket's print job spooled.
    pub scan_to_spooled: Latency,
    /// Bytes written -> the scan classified on the reader thread.
    pub scan_to_read: Latency,
    pub by_code: usize,
    pub by_card: usize,
    pub bytes_per_card: usize,
}

impl fmt::Display for ScanBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "scan -> booked ticket spooled, {} by code and {} by card ({} bytes a card):",
            self.by_code, self.by_card, self.bytes_per_card
        )?;
        writeln!(
            f,
            "  bytes -> scan read      p50 {:.2} ms  p99 {:.2} ms",
            self.scan_to_read.p50_us / 1000.0,
            self.scan_to_read.p99_us / 1000.0
        )?;
        writeln!(
            f,
            "  bytes -> ticket spooled p50 {:.2} ms  p99 {:.2} ms  ({:.0} check-ins/s)",
            self.scan_to_spooled.p50_us / 1000.0,
            self.scan_to_spooled.p99_us / 1000.0,
            self.scan_to_spooled.ops_per_s
        )
    }
}

/// A fake scanner on a pseudo-terminal sends booking QR codes and identity cards one at a time
/// to the real reader thread (`crate::scanner`); each is checked in at the hub and printed to
/// the spool, as the kiosk does (without the screen).
pub fn bench_scan(config: &Config, n: usize) -> Result<ScanBench> {
    use std::io::Write;

    use crate::domain::Scan;
    use crate::hub::CheckInKey;
    use crate::store::{BookingState, StoredBooking};

    let n = n.max(10);
    let dir = temp_dir("scan")?;
    let mut config = config.clone();
    config.db_path = dir.join("kiosk.sqlite");
    config.id_key_file = dir.join("identity.key");
    config.allow_outside_hours = true;
    config.reporting.url = None;
    config.reporting.token = Some("bench-scan-token".into());
    config.printer.transport = crate::printer::TransportConfig::Spool {
        dir: dir.join("spool"),
    };
    for s in &mut config.services {
        s.daily_cap = None;
        s.range.wrap = true;
        s.range.last = s.range.last.max(99_999);
    }
    let (mut master, slave) = serialport::TTYPort::pair()?;
    config.scanner.device = Some(
        serialport::SerialPort::name(&slave)
            .ok_or_else(|| anyhow::anyhow!("the pseudo-terminal has no name"))?
            .into(),
    );
    let app = crate::app::App::start(config, crate::app::Options::tool())?;
    let config = Arc::clone(&app.config);
    let service = config.services[0].id.clone();
    let now = chrono::Utc::now();
    let today = crate::domain::service_day(now, config.site.timezone, config.site.reset_hour);
    let key = crate::identity::IdKey::for_bookings("bench-scan-token");
    let id_of = |i: usize| format!("0011{:08}", i);
    let code_of = |i: usize| {
        let mut d = [0u8; 9];
        let mut x = i;
        for slot in d.iter_mut().rev() {
            *slot = (x % 10) as u8;
            x /= 10;
        }
        crate::domain::booking::make_booking_code(d)
    };
    let list: Vec<StoredBooking> = (0..n)
        .map(|i| StoredBooking {
            code: code_of(i),
            service_day: today,
            service_id: service.clone(),
            field: None,
            slot_start: now + chrono::Duration::minutes(10),
            slot_end: now + chrono::Duration::minutes(40),
            booked_at: now - chrono::Duration::days(1),
            citizen_hash: Some(key.hash(&id_of(i))),
            state: BookingState::Booked,
            ticket_id: None,
        })
        .collect();
    app.block_on(
        app.hub
            .sync_bookings(today, today + chrono::Duration::days(6), list),
    )?;

    let (read_tx, read_rx) = std::sync::mpsc::channel::<(Instant, crate::scanner::ScanResult)>();
    let reader = crate::scanner::start(&config.scanner, move |scan| {
        let _ = read_tx.send((Instant::now(), scan));
    })
    .ok_or_else(|| anyhow::anyhow!("the scanner reader did not start"))?;
    let ticketing = app.ticketing();
    let (mut read, mut spooled) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut bytes_per_card = 0;
    let start = Instant::now();
    for i in 0..n {
        let payload = if i % 2 == 0 {
            format!("HNBOOK:{}\r", code_of(i))
        } else {
            format!(
                "{}||Nguyễn Thị Thử|01011960|Nữ|Số {i} phố Thử, Hà Nội|01012022\r",
                id_of(i)
            )
        };
        if i % 2 == 1 {
            bytes_per_card = payload.len();
        }
        let t0 = Instant::now();
        master.write_all(payload.as_bytes())?;
        let (at, scan) = read_rx.recv_timeout(std::time::Duration::from_secs(5))?;
        read.push((at - t0).as_secs_f64() * 1e6);
        let key = match scan {
            Ok(Scan::Booking(code)) => CheckInKey::Code(code),
            Ok(Scan::IdCard(card)) => CheckInKey::Card(card.id),
            other => anyhow::bail!("scan {i} read as {other:?}"),
        };
        let outcome = app.hub.check_in_blocking(key, None)?;
        let Some(issued) = outcome.issued() else {
            anyhow::bail!("scan {i}: no ticket ({})", outcome.word());
        };
        let info = crate::ticketing::ticket_info(
            &config,
            &issued.ticket,
            issued.people_ahead,
            issued.wait,
        );
        let (printed, _) = app.block_on(ticketing.print_and_record(&issued.ticket, info));
        printed.map_err(|e| anyhow::anyhow!("scan {i}: not printed: {e}"))?;
        spooled.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    let total = start.elapsed().as_secs_f64();
    drop(reader);
    drop(slave);
    app.stop();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ScanBench {
        scan_to_spooled: Latency::from_samples(spooled, total),
        scan_to_read: Latency::from_samples(read, total),
        by_code: n.div_ceil(2),
        by_card: n / 2,
        bytes_per_card,
    })
}

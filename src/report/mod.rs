//! Reporting to the centre: the wire format (`docs/centre-api.md`), the queue snapshot, and the
//! sender that drains the outbox. The event log is the outbox: an event enters it in the same
//! transaction as the state change; `outbox_state.sent_up_to` is the sender's cursor, moved only
//! after the centre acknowledged a batch. The sender never talks to the hub's write path, so a
//! dead network never slows a ticket.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use std::sync::{Arc, Mutex};

use crate::config::{Config, ReportingConfig};
use crate::domain::EventKind;
use crate::store::{Event, Store, StoreError};

pub mod bookings;
pub mod track;

pub const SCHEMA: &str = "kiosk-report/1";

/// The largest event sent whole, as wire JSON. A bigger one (nothing on the LAN can make one
/// today: the API bounds every field, but an older database or a local tool might hold one) is
/// sent with its `detail` replaced by a stub saying so (`oversized_detail`), so it can never
/// block the events behind it.
pub const MAX_EVENT_BYTES: usize = 16 * 1024;
/// The most a batch carries, as wire JSON (the receiver takes 8 MiB by default). Halved after
/// each 413 down to `MIN_BATCH_BYTES`.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;
pub const MIN_BATCH_BYTES: usize = 2 * MAX_EVENT_BYTES;

/// Which point a report comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WireSite {
    pub centre: String,
    pub branch: String,
    pub id: String,
    pub name_vi: String,
    pub name_en: String,
}

impl WireSite {
    pub fn path(&self) -> String {
        format!("{}/{}/{}", self.centre, self.branch, self.id)
    }
}

/// One event as sent. No personal data: ticket code, service, counter, priority group only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WireEvent {
    /// Idempotency key: `<site path>:<database instance>:<event id>`.
    pub key: String,
    /// The event id at the point: strictly increasing per point and database instance.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub ticket: Option<String>,
    pub service: Option<String>,
    pub counter: Option<u32>,
    pub priority_group: Option<String>,
    pub detail: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceSnapshot {
    pub service: String,
    pub waiting: u32,
    pub called_today: u32,
    pub served_today: u32,
    pub no_show_today: u32,
    /// Average and 90th-percentile wait (arrival to call) over the last hour, seconds.
    pub wait_avg_1h_s: Option<f64>,
    pub wait_p90_1h_s: Option<f64>,
    /// The estimate a citizen arriving now is given, minutes.
    pub wait_new_low_min: Option<u32>,
    pub wait_new_high_min: Option<u32>,
    pub counters_open: u32,
}

/// One queue's realised figures for one hour of today, local time (waits by the hour of the
/// call, service times by the hour the service ended).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HourFigures {
    pub service: String,
    /// 0-23, the site's local time.
    pub hour: u32,
    pub called: u32,
    pub wait_avg_s: Option<f64>,
    pub wait_p90_s: Option<f64>,
    pub served: u32,
    pub service_avg_s: Option<f64>,
}

/// How the wait shown at issue held today, over the tickets called so far that were shown one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EstimateFigures {
    pub judged: u32,
    /// Called inside the range shown.
    pub inside: u32,
    /// Called more than 10 minutes after the range's end.
    pub above_10: u32,
    /// Mean of (realised - the range's middle), minutes: above 0, citizens wait longer than told.
    pub bias_min: Option<f64>,
    pub mae_min: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub at: DateTime<Utc>,
    pub service_day: chrono::NaiveDate,
    pub services: Vec<ServiceSnapshot>,
    pub counters_open: u32,
    /// The last printer state reported (ready, paper_near_end, paper_out, ...), if any.
    pub printer: Option<String>,
    pub outbox_backlog: u64,
    pub software_version: String,
    pub uptime_s: u64,
    /// Today's realised waits and service times per queue and hour.
    #[serde(default)]
    pub hours: Vec<HourFigures>,
    /// Today's estimate error.
    #[serde(default)]
    pub estimate: Option<EstimateFigures>,
    /// Every waiting ticket's place and wait now (codes only), for the ticket's phone page.
    #[serde(default)]
    pub queue: Vec<crate::hub::service::Queued>,
    /// The centre's update bundle installed here (`crate::updates`), if any.
    #[serde(default)]
    pub bundle: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub schema: String,
    pub site: WireSite,
    pub sent_at: DateTime<Utc>,
    pub snapshot: Option<Snapshot>,
    pub events: Vec<WireEvent>,
}

/// The receiver's answer to an accepted report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ack {
    pub accepted: u64,
    pub duplicates: u64,
    /// The highest `seq` the centre holds for this point and instance.
    pub last_seq: i64,
}

pub fn wire_site(config: &Config) -> WireSite {
    WireSite {
        centre: config.site.centre.clone(),
        branch: config.site.branch.clone(),
        id: config.site.id.clone(),
        name_vi: config.site.name.vi.clone(),
        name_en: config.site.name.en.clone(),
    }
}

pub fn wire_event(site_path: &str, instance: &str, e: &Event) -> WireEvent {
    WireEvent {
        key: format!("{site_path}:{instance}:{}", e.id),
        seq: e.id,
        at: e.at,
        kind: e.kind.to_string(),
        ticket: e.code.clone(),
        service: e.service_id.clone(),
        counter: e.counter,
        priority_group: e.priority_group.clone(),
        detail: e.detail.clone(),
    }
}

/// The event as it can be sent, and its size on the wire: an event over `MAX_EVENT_BYTES`
/// keeps everything but its detail, which becomes `{"oversized_detail": {bytes, sha256, head}}`.
fn sendable(mut w: WireEvent) -> (WireEvent, usize) {
    let size = serde_json::to_vec(&w).map_or(usize::MAX, |v| v.len());
    if size <= MAX_EVENT_BYTES {
        return (w, size);
    }
    let detail = w.detail.as_ref().map(|d| d.to_string()).unwrap_or_default();
    use sha2::Digest;
    let sha: String = sha2::Sha256::digest(detail.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    tracing::warn!(seq = w.seq, kind = %w.kind, bytes = size, "event too large to report whole; its detail is sent as a stub");
    w.detail = Some(serde_json::json!({
        "oversized_detail": {
            "bytes": detail.len(),
            "sha256": sha,
            "head": crate::text::clip(&detail, 200),
        }
    }));
    let size = serde_json::to_vec(&w).map_or(0, |v| v.len());
    (w, size)
}

fn percentile(mut v: Vec<f64>, q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let idx = ((v.len() as f64 - 1.0) * q).round() as usize;
    Some(v[idx])
}

/// The queue figures the centre watches, read from the store (a reader connection).
pub fn snapshot(
    config: &Config,
    status: &crate::hub::Status,
    store: &mut Store,
    now: DateTime<Utc>,
    uptime: Duration,
) -> Result<Snapshot, StoreError> {
    let tx = store.read()?;
    let hour_ago = now - chrono::Duration::hours(1);
    let mut services = Vec::new();
    for s in &status.services {
        let waits = tx.waits_since(status.service_day, &s.id, hour_ago)?;
        let avg = (!waits.is_empty()).then(|| waits.iter().sum::<f64>() / waits.len() as f64);
        services.push(ServiceSnapshot {
            service: s.id.clone(),
            waiting: s.counts.waiting,
            called_today: s.counts.called + s.counts.serving + s.counts.done + s.counts.no_show,
            served_today: s.counts.done,
            no_show_today: s.counts.no_show,
            wait_avg_1h_s: avg,
            wait_p90_1h_s: percentile(waits, 0.9),
            wait_new_low_min: s.wait_for_new.map(|w| w.low_minutes),
            wait_new_high_min: s.wait_for_new.map(|w| w.high_minutes),
            counters_open: s.open_counters,
        });
    }
    let printer = tx
        .last_event_of(EventKind::PRINTER)?
        .and_then(|e| e.detail)
        .and_then(|d| d["status"].as_str().map(str::to_string));
    let (backlog, _) = tx.outbox_backlog()?;
    let paused = config
        .counters
        .iter()
        .filter(|c| tx.paused_reason(c.number).ok().flatten().is_some())
        .count() as u32;
    let tickets = tx.tickets_of_day(status.service_day)?;
    let estimates = tx.estimates_of_day(status.service_day)?;
    let queue = crate::hub::service::positions(config, &tx, status.service_day, now)?;
    Ok(Snapshot {
        at: now,
        service_day: status.service_day,
        services,
        counters_open: config.counters.len() as u32 - paused,
        printer,
        outbox_backlog: backlog,
        software_version: env!("CARGO_PKG_VERSION").to_string(),
        uptime_s: uptime.as_secs(),
        hours: hour_figures(&tickets, &config.site.timezone),
        estimate: estimate_figures(&tickets, &estimates),
        queue,
        bundle: config
            .updates
            .public_key
            .as_ref()
            .and_then(|_| crate::updates::current(&config.updates.dir)),
    })
}

/// Realised waits (issue to call, by the call's hour) and service times (start to end, by the
/// end's hour) per queue and local hour.
pub fn hour_figures(tickets: &[crate::domain::Ticket], tz: &chrono_tz::Tz) -> Vec<HourFigures> {
    use chrono::Timelike;
    use std::collections::BTreeMap;
    let hour = |t: DateTime<Utc>| t.with_timezone(tz).hour();
    let mut waits: BTreeMap<(String, u32), Vec<f64>> = BTreeMap::new();
    let mut services: BTreeMap<(String, u32), Vec<f64>> = BTreeMap::new();
    for t in tickets {
        if let Some(called) = t.called_at {
            let w = (called - t.issued_at).num_milliseconds() as f64 / 1000.0;
            waits
                .entry((t.service_id.clone(), hour(called)))
                .or_default()
                .push(w.max(0.0));
        }
        if let (Some(start), Some(end), crate::domain::TicketState::Done) =
            (t.serving_at, t.finished_at, t.state)
        {
            let d = (end - start).num_milliseconds() as f64 / 1000.0;
            services
                .entry((t.service_id.clone(), hour(end)))
                .or_default()
                .push(d.max(0.0));
        }
    }
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let keys: std::collections::BTreeSet<(String, u32)> =
        waits.keys().chain(services.keys()).cloned().collect();
    keys.into_iter()
        .map(|k| {
            let w = waits.get(&k).cloned().unwrap_or_default();
            let d = services.get(&k).cloned().unwrap_or_default();
            HourFigures {
                called: w.len() as u32,
                wait_avg_s: mean(&w),
                served: d.len() as u32,
                service_avg_s: mean(&d),
                wait_p90_s: percentile(w, 0.9),
                service: k.0,
                hour: k.1,
            }
        })
        .collect()
}

/// The estimate shown at issue against the realised wait, for every ticket called with one.
/// Inside means low <= realised <= high in minutes (the simulator's measure, `docs/simulation.md`).
pub fn estimate_figures(
    tickets: &[crate::domain::Ticket],
    estimates: &std::collections::HashMap<i64, crate::domain::WaitRange>,
) -> Option<EstimateFigures> {
    let judged: Vec<(f64, crate::domain::WaitRange)> = tickets
        .iter()
        .filter_map(|t| {
            let called = t.called_at?;
            let est = estimates.get(&t.id)?;
            Some((
                (called - t.issued_at).num_milliseconds() as f64 / 60_000.0,
                *est,
            ))
        })
        .collect();
    if judged.is_empty() {
        return None;
    }
    let n = judged.len() as f64;
    let err = |(w, e): &(f64, crate::domain::WaitRange)| {
        w - f64::from(e.low_minutes + e.high_minutes) / 2.0
    };
    Some(EstimateFigures {
        judged: judged.len() as u32,
        inside: judged
            .iter()
            .filter(|(w, e)| *w >= f64::from(e.low_minutes) && *w <= f64::from(e.high_minutes))
            .count() as u32,
        above_10: judged
            .iter()
            .filter(|(w, e)| *w > f64::from(e.high_minutes) + 10.0)
            .count() as u32,
        bias_min: Some(judged.iter().map(err).sum::<f64>() / n),
        mae_min: Some(judged.iter().map(|j| err(j).abs()).sum::<f64>() / n),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("centre unreachable: {0}")]
    Network(String),
    #[error("centre answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("reporting is not configured (no [reporting] url)")]
    NotConfigured,
}

impl SendError {
    /// Worth trying again later (network, 5xx, 429) rather than a configuration problem.
    pub fn is_transient(&self) -> bool {
        match self {
            SendError::Network(_) | SendError::Store(_) => true,
            SendError::Refused { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            SendError::NotConfigured => false,
        }
    }
}

/// Exponential backoff with jitter: 1 s doubling to 5 min, each wait drawn from [d/2, d].
pub struct Backoff {
    attempt: u32,
    seed: u64,
}

impl Backoff {
    pub fn new(seed: u64) -> Backoff {
        Backoff {
            attempt: 0,
            seed: seed | 1,
        }
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn next_delay(&mut self) -> Duration {
        let base_ms = 1000u64
            .saturating_mul(1 << self.attempt.min(9))
            .min(300_000);
        self.attempt += 1;
        // xorshift: no dependency, and two points never retry in lockstep.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let jitter = self.seed % (base_ms / 2 + 1);
        Duration::from_millis(base_ms / 2 + jitter)
    }
}

/// Sends the outbox to the centre. One per point.
pub struct Sender {
    config: std::sync::Arc<Config>,
    /// The sender's own connection, kept for its lifetime (reads, the cursor, the budget).
    store: Arc<Mutex<Store>>,
    site: WireSite,
    instance: String,
    client: reqwest::Client,
    url: String,
    token: Option<String>,
    /// The byte budget of a batch: `MAX_BATCH_BYTES`, halved after a 413.
    budget: std::sync::atomic::AtomicUsize,
}

/// What one post carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub events: usize,
    /// Events were left behind by the count or byte bound: send again at once.
    pub more: bool,
}

impl Sender {
    pub fn new(config: std::sync::Arc<Config>) -> Result<Sender, SendError> {
        let r: &ReportingConfig = &config.reporting;
        let url = r.url.clone().ok_or(SendError::NotConfigured)?;
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(r.timeout_seconds))
            .connect_timeout(Duration::from_secs(r.timeout_seconds.min(5)))
            .user_agent(concat!("kiosk/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &r.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| SendError::Network(format!("reading CA {}: {e}", ca.display())))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| SendError::Network(format!("CA {}: {e}", ca.display())))?;
            builder = builder.tls_certs_only([cert]);
        }
        // One connection per request: nothing stale to reuse after a network outage.
        let client = builder
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| SendError::Network(e.to_string()))?;
        let mut store = Store::open(&config.db_path)?;
        let instance = store.meta_or_init("instance", crate::hub::service::random_id)?;
        let token = r.effective_token();
        Ok(Sender {
            site: wire_site(&config),
            store: Arc::new(Mutex::new(store)),
            config,
            instance,
            client,
            url,
            token,
            budget: std::sync::atomic::AtomicUsize::new(MAX_BATCH_BYTES),
        })
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Run `f` on the sender's connection (a short, blocking use).
    fn with_store<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.store.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Build the next report: the next batch of unsent events (bounded by `batch_size` and the
    /// byte budget, never fewer than one), and a snapshot if given. Returns the report, the id
    /// of its last event, and whether more events wait.
    pub fn next_report(
        &self,
        snapshot: Option<Snapshot>,
    ) -> Result<(Report, Option<i64>, bool), SendError> {
        let batch = self.config.reporting.batch_size as u32;
        let events = self.with_store(|store| {
            let tx = store.read()?;
            let from = tx.outbox_sent_up_to()?;
            tx.events_after(from, batch)
        })?;
        let full = events.len() >= batch as usize;
        let budget = self.budget.load(std::sync::atomic::Ordering::Relaxed);
        let path = self.site.path();
        let mut used = 0;
        let mut wire = Vec::new();
        let mut last = None;
        for e in &events {
            let (w, size) = sendable(wire_event(&path, &self.instance, e));
            if !wire.is_empty() && used + size > budget {
                break;
            }
            used += size;
            last = Some(e.id);
            wire.push(w);
        }
        let more = full || wire.len() < events.len();
        let report = Report {
            schema: SCHEMA.to_string(),
            site: self.site.clone(),
            sent_at: Utc::now(),
            snapshot,
            events: wire,
        };
        Ok((report, last, more))
    }

    /// POST one report.
    pub async fn post(&self, report: &Report) -> Result<Ack, SendError> {
        let mut req = self.client.post(&self.url).json(report);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| SendError::Network(e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(SendError::Refused {
                status: status.as_u16(),
                body: body.chars().take(300).collect(),
            });
        }
        resp.json::<Ack>()
            .await
            .map_err(|e| SendError::Network(format!("bad acknowledgement: {e}")))
    }

    /// Send one batch (and the snapshot, if any). The cursor moves only after the centre
    /// acknowledged it. A 413 halves the byte budget and tries again at once, down to
    /// `MIN_BATCH_BYTES`, so a receiver with a smaller limit still gets everything.
    pub async fn send_batch(&self, snapshot: Option<Snapshot>) -> Result<Sent, SendError> {
        use std::sync::atomic::Ordering;
        loop {
            let (report, last, more) = self.next_report(snapshot.clone())?;
            if report.events.is_empty() && report.snapshot.is_none() {
                return Ok(Sent {
                    events: 0,
                    more: false,
                });
            }
            match self.post(&report).await {
                Err(SendError::Refused { status: 413, .. })
                    if self.budget.load(Ordering::Relaxed) > MIN_BATCH_BYTES =>
                {
                    let halved = (self.budget.load(Ordering::Relaxed) / 2).max(MIN_BATCH_BYTES);
                    tracing::warn!(
                        budget = halved,
                        "the centre refused a batch as too large; sending smaller ones"
                    );
                    self.budget.store(halved, Ordering::Relaxed);
                    continue;
                }
                Err(e) => return Err(e),
                Ok(_) => {}
            }
            if let Some(last) = last {
                self.with_store(|store| {
                    let tx = store.write()?;
                    tx.set_outbox_sent_up_to(last)?;
                    tx.commit()
                })?;
            }
            return Ok(Sent {
                events: report.events.len(),
                more,
            });
        }
    }

    /// Send batches until the outbox is empty (or an error). Returns events sent.
    pub async fn drain(&self) -> Result<usize, SendError> {
        let mut total = 0;
        loop {
            let sent = self.send_batch(None).await?;
            total += sent.events;
            if !sent.more {
                return Ok(total);
            }
        }
    }
}

/// Keep the event log within its disk budget; a drop of unsent events is itself logged.
pub fn enforce_budget(store: &mut Store, max_events: u64) -> Result<u64, StoreError> {
    let tx = store.write()?;
    let dropped = tx.enforce_event_budget(max_events)?;
    if dropped > 0 {
        tx.append_event(&Event {
            id: 0,
            at: Utc::now(),
            kind: EventKind::OutboxDropped,
            ticket_id: None,
            code: None,
            service_id: None,
            counter: None,
            priority_group: None,
            detail: Some(serde_json::json!({ "dropped": dropped, "reason": "disk budget" })),
        })?;
    }
    tx.commit()?;
    Ok(dropped)
}

/// The meta key where the reporter leaves its fault for `kiosk status` (absent when healthy).
pub const FAULT_KEY: &str = "reporting_fault";

/// How often a fault that goes on is logged again.
const FAULT_RELOG: Duration = Duration::from_secs(30 * 60);

/// Reporting's health as the logs and `kiosk status` see it: a fault is logged once when it
/// starts, again every 30 minutes while it lasts, and once when it ends; not at every retry.
#[derive(Default)]
struct Health {
    failing_since: Option<DateTime<Utc>>,
    failures: u32,
    last_logged: Option<std::time::Instant>,
}

impl Health {
    fn failed(&mut self, sender: &Sender, e: &SendError, retry_in: Duration) {
        self.failures += 1;
        let since = *self.failing_since.get_or_insert_with(Utc::now);
        // `kiosk status` shows the fault as it is now (one small meta row per try).
        let fault = serde_json::json!({
            "since": since, "failures": self.failures, "error": e.to_string(),
        });
        let _ = sender.with_store(|s| s.set_meta(FAULT_KEY, Some(&fault.to_string())));
        let due = self.last_logged.is_none_or(|t| t.elapsed() >= FAULT_RELOG);
        if !due {
            return;
        }
        if self.failures == 1 {
            tracing::warn!(error = %e, retry_in_s = retry_in.as_secs(), "reporting to the centre failed; retrying with backoff (logged again every 30 min while it lasts)");
        } else {
            tracing::warn!(error = %e, failures = self.failures, since = %since, "reporting to the centre still failing");
        }
        self.last_logged = Some(std::time::Instant::now());
    }

    fn ok(&mut self, sender: &Sender) {
        if let Some(since) = self.failing_since.take() {
            tracing::info!(failures = self.failures, since = %since, "reporting to the centre works again");
            self.failures = 0;
            self.last_logged = None;
            let _ = sender.with_store(|s| s.set_meta(FAULT_KEY, None));
        }
    }
}

/// After a queue movement the next snapshot goes out this soon (not before): the ticket's phone
/// page follows the queue within seconds, and a burst of calls costs one snapshot.
pub const MOVEMENT_SNAPSHOT_GAP: Duration = Duration::from_secs(2);

/// The sender's loop: drain on every new event and every snapshot interval, and send a
/// snapshot soon after a queue movement; back off with jitter while the centre is unreachable;
/// stop when `shutdown` resolves.
pub async fn run(
    sender: Sender,
    hub: crate::hub::HubHandle,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let started = std::time::Instant::now();
    let interval = Duration::from_secs(sender.config.reporting.snapshot_seconds);
    let mut events = hub.subscribe();
    let mut backoff = Backoff::new(
        sender
            .instance
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))),
    );
    let mut next_snapshot = tokio::time::Instant::now();
    let mut last_snapshot = next_snapshot;
    let mut health = Health::default();
    tokio::pin!(shutdown);
    loop {
        let snapshot = if tokio::time::Instant::now() >= next_snapshot {
            last_snapshot = tokio::time::Instant::now();
            next_snapshot = last_snapshot + interval;
            match hub.status().await {
                Ok(status) => {
                    let store = Arc::clone(&sender.store);
                    let config = sender.config.clone();
                    let uptime = started.elapsed();
                    tokio::task::spawn_blocking(move || {
                        let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
                        if let Err(e) = enforce_budget(&mut store, config.reporting.max_events) {
                            tracing::error!(error = %e, "outbox budget not enforced");
                        }
                        snapshot(&config, &status, &mut store, Utc::now(), uptime).ok()
                    })
                    .await
                    .ok()
                    .flatten()
                }
                Err(_) => None,
            }
        } else {
            None
        };
        // Nothing to send is no news: only a report the centre took proves it is reachable
        // (otherwise a dead centre would read as "works again" between two snapshots).
        let posted_snapshot = snapshot.is_some();
        let result = match sender.send_batch(snapshot).await {
            Ok(sent) if sent.more => sender.drain().await.map(|m| m + sent.events),
            other => other.map(|sent| sent.events),
        };
        let wait = match result {
            Ok(n) => {
                if n > 0 || posted_snapshot {
                    backoff.reset();
                    health.ok(&sender);
                }
                if health.failing_since.is_some() {
                    // Still unproven: try again on the backoff, not after a whole interval.
                    backoff.next_delay()
                } else {
                    next_snapshot.saturating_duration_since(tokio::time::Instant::now())
                }
            }
            Err(e) => {
                let d = backoff.next_delay();
                health.failed(&sender, &e, d);
                d
            }
        };
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(wait) => {}
            e = events.recv(), if wait > Duration::ZERO => {
                match e {
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    Ok(e) if e.kind.is_queue_movement() => {
                        next_snapshot = next_snapshot.min(last_snapshot + MOVEMENT_SNAPSHOT_GAP);
                    }
                    _ => {}
                }
                // A burst of events arrives together: let it gather for a moment.
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_five_minutes_with_jitter() {
        let mut b = Backoff::new(42);
        let delays: Vec<u64> = (0..12).map(|_| b.next_delay().as_millis() as u64).collect();
        assert!((500..=1000).contains(&delays[0]), "{delays:?}");
        assert!((1000..=2000).contains(&delays[1]), "{delays:?}");
        assert!(delays[11] <= 300_000 && delays[11] >= 150_000, "{delays:?}");
        b.reset();
        assert!(b.next_delay() <= Duration::from_secs(1));
    }

    #[test]
    fn two_points_do_not_retry_in_lockstep() {
        let (mut a, mut b) = (Backoff::new(1), Backoff::new(2));
        let same = (0..8).filter(|_| a.next_delay() == b.next_delay()).count();
        assert!(same < 8);
    }

    #[test]
    fn the_day_is_judged_per_hour_and_against_the_estimate_shown() {
        use crate::domain::{Ticket, TicketState, WaitRange};
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        // 09:00 Hanoi = 02:00 UTC.
        let at = |h: u32, m: u32| {
            chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 1, h, m, 0).unwrap()
        };
        let ticket = |id: i64, issued, called: Option<DateTime<Utc>>, done: bool| {
            let mut t = Ticket::waiting(
                day,
                "ho-tich",
                id as u32,
                id as u32,
                format!("A{id:03}"),
                issued,
            );
            t.id = id;
            t.called_at = called;
            if done {
                t.serving_at = called;
                t.finished_at = called.map(|c| c + chrono::Duration::minutes(6));
                t.state = TicketState::Done;
            }
            t
        };
        let tickets = vec![
            ticket(1, at(2, 0), Some(at(2, 10)), true), // waited 10 min, told 5-15: inside
            ticket(2, at(2, 0), Some(at(2, 40)), true), // waited 40, told 5-15: 25 above
            ticket(3, at(2, 30), Some(at(3, 5)), false), // waited 35, told nothing: not judged
            ticket(4, at(3, 0), None, false),           // still waiting
        ];
        let estimates = [
            (
                1,
                WaitRange {
                    low_minutes: 5,
                    high_minutes: 15,
                },
            ),
            (
                2,
                WaitRange {
                    low_minutes: 5,
                    high_minutes: 15,
                },
            ),
            (
                4,
                WaitRange {
                    low_minutes: 5,
                    high_minutes: 15,
                },
            ),
        ]
        .into_iter()
        .collect();
        let e = estimate_figures(&tickets, &estimates).unwrap();
        assert_eq!((e.judged, e.inside, e.above_10), (2, 1, 1));
        assert_eq!(e.bias_min, Some(((10.0 - 10.0) + (40.0 - 10.0)) / 2.0));
        let hours = hour_figures(&tickets, &chrono_tz::Asia::Ho_Chi_Minh);
        let h9 = hours.iter().find(|h| h.hour == 9).unwrap();
        assert_eq!((h9.called, h9.served), (2, 2));
        assert_eq!(h9.wait_avg_s, Some(25.0 * 60.0));
        assert_eq!(h9.service_avg_s, Some(6.0 * 60.0));
        let h10 = hours.iter().find(|h| h.hour == 10).unwrap();
        assert_eq!((h10.called, h10.served), (1, 0));
        assert_eq!(estimate_figures(&tickets[2..], &estimates), None);
    }

    #[test]
    fn percentile_picks_the_nearest_rank() {
        assert_eq!(percentile(vec![], 0.9), None);
        assert_eq!(
            percentile((1..=10).map(f64::from).collect(), 0.9),
            Some(9.0)
        );
    }
}

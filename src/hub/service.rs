//! The queue service: applies one command at a time to the store, using the domain's rules.
//! Each command is one write transaction that changes the tickets and appends its events; it
//! returns the stored events so the hub can broadcast them. Synchronous on purpose: the hub
//! runs it on the one thread that owns the write connection; the CLI calls it directly.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::{
    self, Channel, EventKind, LifecycleError, NumberingError, QuotaDenied, Reason, RecallOutcome,
    Ticket, TicketState, WaitRange,
};
use crate::store::{Event, NewTicket, ServiceCounts, Store, StoreError, Tx};

/// Why a command was refused. Nothing changed when one of these is returned.
#[derive(Debug, Error)]
pub enum QueueError {
    #[error("unknown service \"{id}\"; services here: {known}")]
    UnknownService { id: String, known: String },
    #[error("unknown counter {number}; counters here: {known}")]
    UnknownCounter { number: u32, known: String },
    #[error("unknown priority group \"{id}\"; groups here: {known}")]
    UnknownPriorityGroup { id: String, known: String },
    #[error("counter {counter} does not serve service \"{service}\"")]
    CounterDoesNotServe { counter: u32, service: String },
    #[error("counter {counter} has no called or serving ticket")]
    NoCurrentTicket { counter: u32 },
    #[error(
        "counter {counter} has called {code} who has not arrived yet; start serving, recall or mark no-show first"
    )]
    CounterBusy { counter: u32, code: String },
    #[error("counter {counter} is paused ({reason}); resume it first")]
    CounterPaused { counter: u32, reason: String },
    #[error("unknown device event \"{kind}\"; known: {known}")]
    UnknownEventKind { kind: String, known: String },
    #[error("no ticket {code} today")]
    TicketNotFound { code: String },
    #[error("the service point is closed now; opening hours today: {hours}")]
    Closed { hours: String },
    #[error("{0}")]
    Numbering(#[from] NumberingError),
    #[error("{0}")]
    Quota(#[from] QuotaDenied),
    #[error("{0}")]
    Lifecycle(#[from] LifecycleError),
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Refused by the hub this kiosk works through (`kiosk run --hub`).
    #[error("{0}")]
    BadCitizenId(#[from] crate::identity::BadCitizenId),
    #[error("{message}")]
    Remote { reason: Reason, message: String },
    #[error("{0}")]
    Rating(#[from] crate::domain::RatingError),
}

impl QueueError {
    /// The refusal's wire word (API error bodies, logs): `self.reason().as_str()`.
    pub fn reason_code(&self) -> &'static str {
        self.reason().as_str()
    }

    /// Which kind of refusal this is.
    pub fn reason(&self) -> Reason {
        match self {
            QueueError::UnknownService { .. } => Reason::UnknownService,
            QueueError::UnknownCounter { .. } => Reason::UnknownCounter,
            QueueError::UnknownPriorityGroup { .. } => Reason::UnknownPriorityGroup,
            QueueError::CounterDoesNotServe { .. } => Reason::CounterDoesNotServe,
            QueueError::NoCurrentTicket { .. } => Reason::NoCurrentTicket,
            QueueError::CounterBusy { .. } => Reason::CounterBusy,
            QueueError::CounterPaused { .. } => Reason::CounterPaused,
            QueueError::TicketNotFound { .. } => Reason::TicketNotFound,
            QueueError::UnknownEventKind { .. } => Reason::UnknownEventKind,
            QueueError::Closed { .. } => Reason::Closed,
            QueueError::Numbering(NumberingError::DailyCapReached { .. }) => {
                Reason::DailyCapReached
            }
            QueueError::Numbering(_) => Reason::NumbersExhausted,
            QueueError::Quota(_) => Reason::QuotaExceeded,
            QueueError::Lifecycle(_) => Reason::WrongTicketState,
            QueueError::Store(_) => Reason::StorageError,
            QueueError::BadCitizenId(_) => Reason::BadCitizenId,
            QueueError::Remote { reason, .. } => *reason,
            QueueError::Rating(e) => {
                use crate::domain::RatingError::*;
                match e {
                    BadScore(_) | ReasonsOnHighScore(_) => Reason::BadRating,
                    NotFinished { .. } => Reason::WrongTicketState,
                    OtherCounter { .. } => Reason::Forbidden,
                    WindowClosed { .. } => Reason::RatingClosed,
                    AlreadyRated { .. } => Reason::AlreadyRated,
                }
            }
        }
    }
}

/// A request for a new ticket.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub service_id: String,
    pub priority_group: Option<String>,
    pub channel: Channel,
    /// The procedure field (lĩnh vực) it is for, when the citizen chose a procedure.
    pub field: Option<String>,
    /// The citizen's identity number (CCCD), when given: used for the quota, stored only as a
    /// keyed hash (`crate::identity`).
    pub citizen_id: Option<String>,
}

impl IssueRequest {
    pub fn walk_in(service_id: &str) -> IssueRequest {
        IssueRequest {
            service_id: service_id.to_string(),
            priority_group: None,
            channel: Channel::Kiosk,
            field: None,
            citizen_id: None,
        }
    }
}

/// A ticket just issued, with what the citizen is told.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Issued {
    pub ticket: Ticket,
    pub people_ahead: u32,
    pub wait: Option<WaitRange>,
    pub event: Event,
}

/// What a command changed: the ticket it concerns (if any) and the stored events.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    pub ticket: Option<Ticket>,
    pub events: Vec<Event>,
}

/// One queue in the status view.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceStatus {
    pub id: String,
    pub prefix: String,
    pub name_vi: String,
    pub name_en: String,
    pub counts: ServiceCounts,
    pub open_counters: u32,
    pub wait_for_new: Option<WaitRange>,
    /// Whether a new ticket can be issued now; when not, `refusal` says why
    /// (`closed`, `daily_cap_reached`, `numbers_exhausted`).
    pub accepting: bool,
    pub refusal: Option<Reason>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub site: String,
    pub service_day: NaiveDate,
    pub services: Vec<ServiceStatus>,
    /// The most recent calls, newest first.
    pub last_calls: Vec<Event>,
}

pub struct QueueService {
    config: Arc<Config>,
    store: Store,
    clock: Arc<dyn Clock>,
    id_key: crate::identity::IdKey,
    /// The key the centre hashed booked citizens' ids with for this point (from the reporting
    /// token); none without one.
    booking_key: Option<crate::identity::IdKey>,
    /// The service day whose stale identity hashes were last purged.
    purged_for: Option<NaiveDate>,
}

/// How many finished services refine the configured average service time.
const SERVICE_TIME_SAMPLES: u32 = 20;

fn known_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

impl QueueService {
    pub fn new(
        config: Arc<Config>,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let id_key = crate::identity::IdKey::load_or_create(&config.id_key_file)
            .map_err(|e| StoreError::Key(e.to_string()))?;
        let booking_key = config
            .reporting
            .effective_token()
            .map(|t| crate::identity::IdKey::for_bookings(&t));
        Ok(QueueService {
            config,
            store,
            clock,
            id_key,
            booking_key,
            purged_for: None,
        })
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The newest event's id (0 for none).
    pub fn last_event_id(&mut self) -> Result<i64, StoreError> {
        self.store.read()?.max_event_id()
    }

    /// Events another process committed after `after` (tickets issued with `kiosk issue` from
    /// a second terminal, say), when the file changed since `seen_version`; with the new data
    /// version. Empty and unchanged when nothing else wrote.
    pub fn external_events(
        &mut self,
        seen_version: i64,
        after: i64,
    ) -> Result<(i64, Vec<Event>), StoreError> {
        let version = self.store.data_version()?;
        if version == seen_version {
            return Ok((version, Vec::new()));
        }
        let tx = self.store.read()?;
        Ok((version, tx.events_after(after, 1000)?))
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(super) fn service_day_of(&self, now: DateTime<Utc>) -> NaiveDate {
        self.today(now)
    }

    pub(super) fn check_priority_group(&self, g: &str) -> Result<(), QueueError> {
        if self.config.priority_group(g).is_none() {
            return Err(QueueError::UnknownPriorityGroup {
                id: g.to_string(),
                known: known_list(self.config.priority_groups.iter().map(|g| g.id.as_str())),
            });
        }
        Ok(())
    }

    /// Opening hours, and the day's purge of stale identity hashes: what every issue checks.
    pub(super) fn check_open_now(&mut self, now: DateTime<Utc>) -> Result<(), QueueError> {
        self.check_open(now)?;
        let today = self.today(now);
        self.purge_if_new_day(today)
    }

    fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        domain::service_day(now, self.config.site.timezone, self.config.site.reset_hour)
    }

    fn check_service(&self, id: &str) -> Result<(), QueueError> {
        if self.config.service(id).is_none() {
            return Err(QueueError::UnknownService {
                id: id.to_string(),
                known: known_list(self.config.services.iter().map(|s| s.id.as_str())),
            });
        }
        Ok(())
    }

    fn check_counter(&self, number: u32) -> Result<&crate::config::Counter, QueueError> {
        self.config
            .counter(number)
            .ok_or_else(|| QueueError::UnknownCounter {
                number,
                known: self
                    .config
                    .counters
                    .iter()
                    .map(|c| c.number.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    fn check_open(&self, now: DateTime<Utc>) -> Result<(), QueueError> {
        if self.config.allow_outside_hours {
            return Ok(());
        }
        let local = now.with_timezone(&self.config.site.timezone);
        let day_key = domain::service_day::weekday_key(local.date_naive());
        let spans = self
            .config
            .site
            .opening_hours
            .get(day_key)
            .cloned()
            .unwrap_or_default();
        let t = local.time();
        if spans.iter().any(|(from, to)| *from <= t && t < *to) {
            return Ok(());
        }
        let hours = if spans.is_empty() {
            "closed".to_string()
        } else {
            spans
                .iter()
                .map(|(a, b)| format!("{}-{}", a.format("%H:%M"), b.format("%H:%M")))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Err(QueueError::Closed { hours })
    }

    pub(super) fn citizen_hashes(&self, citizen_id: &str) -> Result<CitizenHashes, QueueError> {
        let normalised = crate::identity::normalise_citizen_id(citizen_id)?;
        Ok(CitizenHashes {
            ticket: self.id_key.hash(&normalised),
            booking: self.booking_key.as_ref().map(|k| k.hash(&normalised)),
        })
    }

    /// Erase identity hashes past the retention period, once per service day.
    fn purge_if_new_day(&mut self, today: NaiveDate) -> Result<(), QueueError> {
        if self.purged_for == Some(today) {
            return Ok(());
        }
        let keep_from = today - Duration::days(i64::from(self.config.quota_retention_days) - 1);
        let tx = self.store.write()?;
        tx.purge_citizen_hashes(keep_from)?;
        tx.commit()?;
        self.purged_for = Some(today);
        Ok(())
    }

    /// Issue a ticket. Returns only after the ticket and its event are durably committed.
    pub fn issue_ticket(&mut self, req: &IssueRequest) -> Result<Issued, QueueError> {
        let now = self.clock.now();
        let today = self.today(now);
        self.check_service(&req.service_id)?;
        if let Some(g) = &req.priority_group
            && self.config.priority_group(g).is_none()
        {
            return Err(QueueError::UnknownPriorityGroup {
                id: g.clone(),
                known: known_list(self.config.priority_groups.iter().map(|g| g.id.as_str())),
            });
        }
        self.check_open(now)?;
        self.purge_if_new_day(today)?;
        let hashes = match req.citizen_id.as_deref() {
            Some(id) => Some(self.citizen_hashes(id)?),
            None => None,
        };
        let tx = self.store.write()?;
        let issued = insert_ticket(
            &self.config,
            &tx,
            req,
            hashes.as_ref(),
            now,
            Placement {
                arrived_at: now,
                booked: None,
            },
        )?;
        tx.commit()?;
        Ok(issued)
    }
}

/// The citizen's id as the quota keys it: under the point's own key (tickets) and under the
/// key the centre used for this point's bookings (when the point has a reporting token).
pub(super) struct CitizenHashes {
    pub ticket: String,
    pub booking: Option<String>,
}

/// Where a new ticket stands: its arrival time in the queue and its booking, if any.
pub(super) struct Placement {
    pub arrived_at: DateTime<Utc>,
    pub booked: Option<crate::domain::Booked>,
}

/// What a citizen already holds today for the quota: tickets and bookings together.
pub(super) fn held_today(
    config: &Config,
    tx: &Tx,
    today: NaiveDate,
    hashes: &CitizenHashes,
) -> Result<Vec<domain::Held>, QueueError> {
    let mut held = tx.citizen_buckets(today, &hashes.ticket)?;
    if let Some(h) = &hashes.booking {
        for b in tx.citizen_bookings(today, h)? {
            let at = b.slot_start.with_timezone(&config.site.timezone);
            let (code, at) = (domain::display_booking_code(&b.code), at.format("%H:%M"));
            held.push(domain::Held {
                bucket: b.field.clone().unwrap_or_else(|| b.service_id.clone()),
                what: format!("booking {code} at {at}"),
                what_vi: format!("số đặt trước {code} lúc {at}"),
            });
        }
    }
    Ok(held)
}

/// Number and insert a ticket inside the caller's transaction (not committed): quota, number,
/// the row and its `issued` event, the position and wait.
pub(super) fn insert_ticket(
    config: &Arc<Config>,
    tx: &Tx,
    req: &IssueRequest,
    hashes: Option<&CitizenHashes>,
    now: DateTime<Utc>,
    placement: Placement,
) -> Result<Issued, QueueError> {
    let today = domain::service_day(now, config.site.timezone, config.site.reset_hour);
    let Some(service) = config.service(&req.service_id) else {
        return Err(QueueError::UnknownService {
            id: req.service_id.clone(),
            known: known_list(config.services.iter().map(|s| s.id.as_str())),
        });
    };
    let quota_bucket = req
        .field
        .as_deref()
        .map(crate::text::nfc)
        .unwrap_or_else(|| service.id.clone());
    if let Some(h) = hashes {
        let held = held_today(config, tx, today, h)?;
        domain::check_quota(config.quota, &held, &quota_bucket)?;
    }
    let so_far = tx.issued_so_far(today, &service.id)?;
    // Numbers can only be held by active tickets once the range has wrapped at least once.
    let span = service.range.last - service.range.first + 1;
    let in_use = if so_far.count >= span {
        tx.active_numbers(today, &service.id)?
    } else {
        Vec::new()
    };
    let (number, seq) = domain::next_number(service.range, service.daily_cap, so_far, |n| {
        in_use.contains(&n)
    })?;
    let ticket = Ticket {
        priority_group: req.priority_group.clone(),
        channel: req.channel,
        arrived_at: placement.arrived_at,
        booked: placement.booked,
        ..Ticket::waiting(
            today,
            &service.id,
            seq,
            number,
            domain::ticket_code(&service.prefix, number, config.number_width),
            now,
        )
    };
    let ticket = tx.insert_ticket(&NewTicket {
        ticket,
        quota_bucket,
        citizen_hash: hashes.map(|h| h.ticket.clone()),
    })?;
    let people_ahead = tx.waiting_ahead(&ticket)?;
    let counts = tx.service_counts(today)?;
    let wait = wait_estimate(
        config,
        tx,
        today,
        &service.id,
        people_ahead,
        ticket.arrived_at,
        now,
        &counts,
    )?;
    // The estimate the citizen is shown is kept, so the point (and the centre, from the event)
    // can tell how often it held.
    tx.set_estimate(ticket.id, wait)?;
    let mut detail =
        serde_json::json!({ "channel": ticket.channel.as_str(), "ahead": people_ahead });
    if let Some(w) = wait {
        detail["wait_low_min"] = serde_json::json!(w.low_minutes);
        detail["wait_high_min"] = serde_json::json!(w.high_minutes);
    }
    if let Some(b) = &ticket.booked {
        detail["booking"] = serde_json::json!(b.code);
    }
    let event =
        tx.append_event(&Event::for_ticket(EventKind::Issued, &ticket, now).with_detail(detail))?;
    Ok(Issued {
        ticket,
        people_ahead,
        wait,
        event,
    })
}

fn open_counters(config: &Config, tx: &Tx, service_id: &str) -> Result<u32, QueueError> {
    let mut open = 0;
    for c in config.counters_for(service_id) {
        if tx.paused_reason(c.number)?.is_none() {
            open += 1;
        }
    }
    Ok(open)
}

/// A queue's mean service time: the configured minutes blended with today's last services.
fn mean_service_secs(
    config: &Config,
    tx: &Tx,
    today: NaiveDate,
    service_id: &str,
) -> Result<f64, StoreError> {
    let configured = config
        .service(service_id)
        .map_or(600.0, |s| s.avg_service_minutes * 60.0);
    Ok(
        match tx.recent_service_secs(today, service_id, SERVICE_TIME_SAMPLES)? {
            Some((observed, n)) if n > 0 => {
                let w = f64::from(n) / f64::from(SERVICE_TIME_SAMPLES);
                configured + w * (observed - configured)
            }
            _ => configured,
        },
    )
}

/// What a queue's wait estimate is made of now: its mean service time, the capacity its open
/// counters give it and the soonest end of a service in progress (`domain::estimate_wait_shared`).
/// Read once per queue; then every citizen's estimate is arithmetic (`WaitModel::for_ahead`).
#[derive(Debug, Clone)]
pub struct WaitModel {
    mean_secs: f64,
    capacity: f64,
    residual_secs: f64,
    now: DateTime<Utc>,
    /// The queue's bookings not checked in yet: (the place each will take once it checks in,
    /// when it is expected: its slot's start). Under Hanoi's rule a booked citizen stands ahead
    /// of everyone who walked in after the booking was made, so they count for a walk-in's
    /// wait when they are due before the walk-in's turn.
    pending: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

impl WaitModel {
    /// `service_id`'s model, `None` for a service the config does not know. Each open counter
    /// serving the queue gives it its share of the citizens waiting for that counter (the one
    /// estimated counted in); the first call waits for the soonest service in progress to end
    /// (by its queue's mean service time).
    pub fn read(
        config: &Config,
        tx: &Tx,
        today: NaiveDate,
        service_id: &str,
        now: DateTime<Utc>,
        counts: &std::collections::BTreeMap<String, ServiceCounts>,
    ) -> Result<Option<WaitModel>, StoreError> {
        if config.service(service_id).is_none() {
            return Ok(None);
        }
        let mean = mean_service_secs(config, tx, today, service_id)?;
        let waiting = |s: &str| f64::from(counts.get(s).map_or(0, |c| c.waiting));
        let mine = waiting(service_id).max(1.0);
        let mut capacity = 0.0;
        let mut residual = f64::INFINITY;
        for c in config.counters_for(service_id) {
            if tx.paused_reason(c.number)?.is_some() {
                continue;
            }
            let others: f64 = c
                .services
                .iter()
                .filter(|s| s.as_str() != service_id)
                .map(|s| waiting(s))
                .sum();
            capacity += mine / (mine + others);
            let left = match tx.current_at_counter(c.number)? {
                None => 0.0,
                Some(t) => {
                    let m = mean_service_secs(config, tx, today, &t.service_id)?;
                    match (t.state, t.serving_at) {
                        (TicketState::Serving, Some(since)) => {
                            (m - (now - since).num_milliseconds() as f64 / 1000.0).max(0.0)
                        }
                        _ => m,
                    }
                }
            };
            residual = residual.min(left);
        }
        let order = config.bookings.order;
        let pending = tx
            .open_bookings(today, today)?
            .into_iter()
            .filter(|b| b.service_id == service_id)
            .map(|b| {
                (
                    order.arrival(b.booked_at, b.slot_start, b.slot_start),
                    b.slot_start,
                )
            })
            .collect();
        Ok(Some(WaitModel {
            mean_secs: mean,
            capacity,
            residual_secs: if residual.is_finite() { residual } else { 0.0 },
            now,
            pending,
        }))
    }

    /// The range shown to someone with `people_ahead` now whose place in the queue is `place`
    /// (their arrival time as queued), counting the booked citizens due before their turn who
    /// will stand ahead of them; `None` when no counter serves the queue.
    pub fn for_place(&self, people_ahead: u32, place: DateTime<Utc>) -> Option<WaitRange> {
        let mut ahead = people_ahead;
        // The wait and the bookings due within it grow together: a few rounds settle it.
        for _ in 0..8 {
            let secs = self.residual_secs
                + f64::from(ahead) * self.mean_secs / self.capacity.max(f64::MIN_POSITIVE);
            let horizon = self.now + Duration::milliseconds((secs.min(86_400.0) * 1000.0) as i64);
            let due = self
                .pending
                .iter()
                .filter(|(p, at)| *p < place && *at <= horizon)
                .count() as u32;
            if people_ahead + due == ahead {
                break;
            }
            ahead = people_ahead + due;
        }
        domain::estimate_wait_shared(ahead, self.capacity, self.mean_secs, self.residual_secs)
    }
}

/// The wait shown to someone with `people_ahead` in `service_id`'s queue, queued at `place`
/// (`WaitModel`).
#[allow(clippy::too_many_arguments)]
fn wait_estimate(
    config: &Config,
    tx: &Tx,
    today: NaiveDate,
    service_id: &str,
    people_ahead: u32,
    place: DateTime<Utc>,
    now: DateTime<Utc>,
    counts: &std::collections::BTreeMap<String, ServiceCounts>,
) -> Result<Option<WaitRange>, QueueError> {
    Ok(WaitModel::read(config, tx, today, service_id, now, counts)?
        .and_then(|m| m.for_place(people_ahead, place)))
}

/// A waiting ticket's place now, as the centre's phone page shows it: no personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queued {
    pub code: String,
    pub service: String,
    pub ahead: u32,
    pub wait_low_min: Option<u32>,
    pub wait_high_min: Option<u32>,
}

/// Every waiting ticket of `today` with the people ahead of it (the `waiting_ahead` order:
/// arrival, then id) and its estimate now; the queue models are read once per service.
pub fn positions(
    config: &Config,
    tx: &Tx,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<Queued>, StoreError> {
    let counts = tx.service_counts(today)?;
    let mut waiting: Vec<Ticket> = tx
        .tickets_of_day(today)?
        .into_iter()
        .filter(|t| t.state == TicketState::Waiting)
        .collect();
    waiting.sort_by(|a, b| {
        (a.service_id.as_str(), a.arrived_at, a.id).cmp(&(
            b.service_id.as_str(),
            b.arrived_at,
            b.id,
        ))
    });
    let mut models = std::collections::BTreeMap::new();
    let mut out = Vec::with_capacity(waiting.len());
    let mut ahead = 0;
    for (i, t) in waiting.iter().enumerate() {
        if i == 0 || waiting[i - 1].service_id != t.service_id {
            ahead = 0;
        }
        if !models.contains_key(&t.service_id) {
            let m = WaitModel::read(config, tx, today, &t.service_id, now, &counts)?;
            models.insert(t.service_id.clone(), m);
        }
        let wait = models[&t.service_id]
            .as_ref()
            .and_then(|m| m.for_place(ahead, t.arrived_at));
        out.push(Queued {
            code: t.code.clone(),
            service: t.service_id.clone(),
            ahead,
            wait_low_min: wait.map(|w| w.low_minutes),
            wait_high_min: wait.map(|w| w.high_minutes),
        });
        ahead += 1;
    }
    Ok(out)
}

/// If the counter is serving someone, finish that service; if it has called someone who
/// has not arrived, refuse (the clerk decides: recall, start or no-show).
fn settle_counter(
    tx: &Tx,
    counter: u32,
    now: DateTime<Utc>,
    events: &mut Vec<Event>,
) -> Result<(), QueueError> {
    if let Some(reason) = tx.paused_reason(counter)? {
        return Err(QueueError::CounterPaused { counter, reason });
    }
    if let Some(mut current) = tx.current_at_counter(counter)? {
        if current.state == TicketState::Called {
            return Err(QueueError::CounterBusy {
                counter,
                code: current.code,
            });
        }
        current.finish(counter, now)?;
        tx.update_ticket(&current)?;
        events.push(tx.append_event(&Event::for_ticket(EventKind::Done, &current, now))?);
    }
    Ok(())
}

impl QueueService {
    /// Call the next ticket for a counter. `Ok(None)` ticket when nobody waits.
    pub fn call_next(&mut self, counter: u32) -> Result<Outcome, QueueError> {
        let now = self.clock.now();
        let today = self.today(now);
        let services = self.check_counter(counter)?.services.clone();
        let tx = self.store.write()?;
        let mut events = Vec::new();
        settle_counter(&tx, counter, now, &mut events)?;
        let candidates = tx.waiting_candidates(today, &services)?;
        let streak = tx.normal_streak(counter)?;
        let Some(next) = domain::choose_next(&candidates, streak, self.config.priority_rule) else {
            tx.commit()?;
            return Ok(Outcome {
                ticket: None,
                events,
            });
        };
        let mut ticket = tx.ticket(next.ticket_id)?.ok_or(StoreError::Corrupt {
            table: "tickets",
            id: next.ticket_id,
            what: "vanished inside its transaction".into(),
        })?;
        ticket.call(counter, now)?;
        tx.update_ticket(&ticket)?;
        tx.set_normal_streak(counter, next.normal_streak)?;
        events.push(tx.append_event(&Event::for_ticket(EventKind::Called, &ticket, now))?);
        tx.commit()?;
        Ok(Outcome {
            ticket: Some(ticket),
            events,
        })
    }

    /// Call a specific waiting ticket by its code (a clerk's "call A023").
    pub fn call_ticket(&mut self, counter: u32, code: &str) -> Result<Outcome, QueueError> {
        let now = self.clock.now();
        let today = self.today(now);
        let services = self.check_counter(counter)?.services.clone();
        let tx = self.store.write()?;
        let mut ticket =
            tx.ticket_by_code(today, code)?
                .ok_or_else(|| QueueError::TicketNotFound {
                    code: code.to_string(),
                })?;
        if !services.contains(&ticket.service_id) {
            return Err(QueueError::CounterDoesNotServe {
                counter,
                service: ticket.service_id,
            });
        }
        let mut events = Vec::new();
        settle_counter(&tx, counter, now, &mut events)?;
        ticket.call(counter, now)?;
        tx.update_ticket(&ticket)?;
        events.push(
            tx.append_event(
                &Event::for_ticket(EventKind::Called, &ticket, now)
                    .with_detail(serde_json::json!({ "out_of_order": true })),
            )?,
        );
        tx.commit()?;
        Ok(Outcome {
            ticket: Some(ticket),
            events,
        })
    }

    /// Apply a transition to the counter's current ticket and log it.
    fn with_current(
        &mut self,
        counter: u32,
        apply: impl FnOnce(&mut Ticket, DateTime<Utc>) -> Result<Event, QueueError>,
    ) -> Result<Outcome, QueueError> {
        let now = self.clock.now();
        self.check_counter(counter)?;
        let tx = self.store.write()?;
        let mut ticket = tx
            .current_at_counter(counter)?
            .ok_or(QueueError::NoCurrentTicket { counter })?;
        let event = apply(&mut ticket, now)?;
        tx.update_ticket(&ticket)?;
        let event = tx.append_event(&event)?;
        tx.commit()?;
        Ok(Outcome {
            ticket: Some(ticket),
            events: vec![event],
        })
    }

    /// Call the counter's current ticket again; past the recall limit it becomes a no-show.
    pub fn recall(&mut self, counter: u32) -> Result<Outcome, QueueError> {
        let max = self.config.max_recalls;
        self.with_current(counter, |t, now| {
            let kind = match t.recall(counter, max, now)? {
                RecallOutcome::Recalled { .. } => EventKind::Recalled,
                RecallOutcome::NoShow => EventKind::NoShow,
            };
            Ok(Event::for_ticket(kind, t, now)
                .with_detail(serde_json::json!({ "recalls": t.recalls })))
        })
    }

    pub fn start_serving(&mut self, counter: u32) -> Result<Outcome, QueueError> {
        self.with_current(counter, |t, now| {
            t.start_serving(counter, now)?;
            Ok(Event::for_ticket(EventKind::Serving, t, now))
        })
    }

    pub fn finish(&mut self, counter: u32) -> Result<Outcome, QueueError> {
        self.with_current(counter, |t, now| {
            t.finish(counter, now)?;
            Ok(Event::for_ticket(EventKind::Done, t, now))
        })
    }

    /// A citizen's rating of the service `code` got at `counter` (today, finished there, within
    /// the window, once): stored in `ratings` and logged as a `rated` event, with no identity.
    pub fn rate(
        &mut self,
        counter: u32,
        code: &str,
        input: &crate::domain::RatingInput,
    ) -> Result<Outcome, QueueError> {
        self.check_counter(counter)?;
        let now = self.clock.now();
        let today = self.today(now);
        let window = chrono::Duration::minutes(i64::from(self.config.rating.window_minutes));
        let tx = self.store.write()?;
        let ticket = tx
            .ticket_by_code(today, code)?
            .ok_or_else(|| QueueError::TicketNotFound { code: code.into() })?;
        let rated = tx.is_rated(ticket.id)?;
        crate::domain::check_rating(&ticket, counter, input, now, window, rated)?;
        let field = tx.ticket_field(ticket.id)?;
        let session = tx.counter_session(counter)?;
        let reasons: Vec<String> = input
            .reasons
            .iter()
            .map(|r| r.as_str().to_string())
            .collect();
        tx.insert_rating(
            today,
            &crate::store::StoredRating {
                ticket_id: ticket.id,
                at: now,
                score: input.score,
                reasons: reasons.clone(),
                counter,
                service_id: ticket.service_id.clone(),
                field: field.clone(),
            },
        )?;
        let event = Event::for_ticket(EventKind::Rated, &ticket, now).with_detail(serde_json::json!({
            "score": input.score,
            "scale": "faces5",
            "reasons": reasons,
            "circular": crate::domain::circular_score(input.score, &self.config.rating.circular),
            "field": field,
            "session": session,
        }));
        let event = tx.append_event(&event)?;
        tx.commit()?;
        Ok(Outcome {
            ticket: Some(ticket),
            events: vec![event],
        })
    }

    /// Today's ratings at a counter (or every counter).
    pub fn rating_summary(
        &mut self,
        counter: Option<u32>,
    ) -> Result<crate::store::RatingSummary, QueueError> {
        let today = self.today(self.clock.now());
        Ok(self.store.read()?.rating_summary(today, counter)?)
    }

    pub fn mark_no_show(&mut self, counter: u32) -> Result<Outcome, QueueError> {
        self.with_current(counter, |t, now| {
            t.mark_no_show(counter, now)?;
            Ok(Event::for_ticket(EventKind::NoShow, t, now))
        })
    }

    /// Send the counter's current citizen to another queue, keeping their place by arrival.
    pub fn transfer(&mut self, counter: u32, to_service: &str) -> Result<Outcome, QueueError> {
        self.check_service(to_service)?;
        self.with_current(counter, |t, now| {
            let from = t.service_id.clone();
            t.transfer(counter, to_service)?;
            Ok(Event::for_ticket(EventKind::Transferred, t, now)
                .with_detail(serde_json::json!({ "from_service": from, "by_counter": counter })))
        })
    }

    /// Withdraw a waiting or called ticket by its code.
    pub fn cancel(&mut self, code: &str) -> Result<Outcome, QueueError> {
        let now = self.clock.now();
        let today = self.today(now);
        let tx = self.store.write()?;
        let mut ticket =
            tx.ticket_by_code(today, code)?
                .ok_or_else(|| QueueError::TicketNotFound {
                    code: code.to_string(),
                })?;
        ticket.cancel(now)?;
        tx.update_ticket(&ticket)?;
        let event = tx.append_event(&Event::for_ticket(EventKind::Cancelled, &ticket, now))?;
        tx.commit()?;
        Ok(Outcome {
            ticket: Some(ticket),
            events: vec![event],
        })
    }

    /// Pause a counter (break, meeting) with a reason; call-next refuses until resumed.
    pub fn pause(&mut self, counter: u32, reason: &str) -> Result<Outcome, QueueError> {
        self.set_pause(counter, Some(reason))
    }

    pub fn resume(&mut self, counter: u32) -> Result<Outcome, QueueError> {
        self.set_pause(counter, None)
    }

    fn set_pause(&mut self, counter: u32, reason: Option<&str>) -> Result<Outcome, QueueError> {
        let now = self.clock.now();
        self.check_counter(counter)?;
        let tx = self.store.write()?;
        tx.set_paused(counter, reason)?;
        let kind = if reason.is_some() {
            EventKind::CounterPaused
        } else {
            EventKind::CounterResumed
        };
        let event = tx.append_event(&Event {
            id: 0,
            at: now,
            kind,
            ticket_id: None,
            code: None,
            service_id: None,
            counter: Some(counter),
            priority_group: None,
            detail: reason.map(|r| serde_json::json!({ "reason": r })),
        })?;
        tx.commit()?;
        Ok(Outcome {
            ticket: None,
            events: vec![event],
        })
    }

    /// Record something a device did (printed a ticket, reported a fault) in the audit log,
    /// so that reporting sends it to the centre. `kind` must be one of `EventKind::DEVICE` or
    /// `EventKind::SECURITY` (what the LAN API records, e.g. a sign-in lock).
    pub fn record_device_event(
        &mut self,
        kind: EventKind,
        ticket: Option<&Ticket>,
        detail: serde_json::Value,
    ) -> Result<Event, QueueError> {
        if !kind.is_device()
            && !EventKind::SECURITY.contains(&kind)
            && !EventKind::UPDATES.contains(&kind)
        {
            return Err(QueueError::UnknownEventKind {
                kind: kind.to_string(),
                known: EventKind::list(EventKind::DEVICE),
            });
        }
        let now = self.clock.now();
        let event = match ticket {
            Some(t) => Event::for_ticket(kind, t, now),
            None => Event {
                id: 0,
                at: now,
                kind,
                ticket_id: None,
                code: None,
                service_id: None,
                counter: None,
                priority_group: None,
                detail: None,
            },
        }
        .with_detail(detail);
        let tx = self.store.write()?;
        let stored = tx.append_event(&event)?;
        tx.commit()?;
        Ok(stored)
    }

    /// Today's ticket by its printed code (for reprints and lookups).
    pub fn ticket_by_code(&mut self, code: &str) -> Result<Ticket, QueueError> {
        let today = self.today(self.clock.now());
        let tx = self.store.read()?;
        tx.ticket_by_code(today, code)?
            .ok_or_else(|| QueueError::TicketNotFound {
                code: code.to_string(),
            })
    }

    /// Waiting tickets ahead of a ticket now, and the wait estimate for it.
    pub fn position(&mut self, ticket: &Ticket) -> Result<(u32, Option<WaitRange>), QueueError> {
        let config = Arc::clone(&self.config);
        let tx = self.store.read()?;
        let ahead = tx.waiting_ahead(ticket)?;
        let counts = tx.service_counts(ticket.service_day)?;
        let wait = wait_estimate(
            &config,
            &tx,
            ticket.service_day,
            &ticket.service_id,
            ahead,
            ticket.arrived_at,
            self.clock.now(),
            &counts,
        )?;
        Ok((ahead, wait))
    }

    /// Queues, waiting counts and the last calls, for today's service day.
    pub fn status(&mut self) -> Result<Status, QueueError> {
        let now = self.clock.now();
        let today = self.today(now);
        let config = Arc::clone(&self.config);
        let closed = self.check_open(now).is_err();
        let tx = self.store.read()?;
        let counts = tx.service_counts(today)?;
        let mut services = Vec::new();
        for s in &config.services {
            let c = counts.get(&s.id).cloned().unwrap_or_default();
            let open = open_counters(&config, &tx, &s.id)?;
            // The day's counts are read once for every queue's estimate.
            let wait_for_new =
                wait_estimate(&config, &tx, today, &s.id, c.waiting, now, now, &counts)?;
            services.push(ServiceStatus {
                id: s.id.clone(),
                prefix: s.prefix.clone(),
                name_vi: s.name.vi.clone(),
                name_en: s.name.en.clone(),
                counts: c,
                open_counters: open,
                wait_for_new,
                accepting: true,
                refusal: None,
            });
        }
        for st in &mut services {
            let Some(s) = config.service(&st.id) else {
                continue;
            };
            let so_far = tx.issued_so_far(today, &s.id)?;
            let span = s.range.last - s.range.first + 1;
            st.refusal = if closed {
                Some(Reason::Closed)
            } else if s.daily_cap.is_some_and(|cap| so_far.count >= cap) {
                Some(Reason::DailyCapReached)
            } else if !s.range.wrap && so_far.count >= span {
                Some(Reason::NumbersExhausted)
            } else {
                None
            };
            st.accepting = st.refusal.is_none();
        }
        let last_calls = tx.recent_events(&[EventKind::Called, EventKind::Recalled], 10)?;
        Ok(Status {
            site: config.site.path(),
            service_day: today,
            services,
            last_calls,
        })
    }
}

/// 16 random bytes as hex, from the OS: identity keys, the database instance id, API secrets.
pub fn random_id() -> String {
    use std::io::Read;
    let mut buf = [0u8; 16];
    let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf));
    if from_os.is_err() {
        // No /dev/urandom (not Linux): fall back to time and address entropy; still unique per db.
        let seed = format!("{:?}{:p}", std::time::SystemTime::now(), &buf);
        buf.copy_from_slice(&Sha256::digest(seed.as_bytes())[..16]);
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

//! JSON views the LAN clients read: the lobby board and a counter's queue. Built from the hub's
//! status and a reader connection (never the write path), on the blocking pool.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::domain::TicketState;
use crate::hub::Status;
use crate::store::{Event, Store, StoreError};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CounterBoard {
    pub number: u32,
    pub name_vi: String,
    pub name_en: String,
    /// The ticket called to or served at this counter now.
    pub code: Option<String>,
    /// idle, called, serving or paused.
    pub state: &'static str,
    pub paused_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Call {
    pub event_id: i64,
    pub at: DateTime<Utc>,
    pub code: String,
    pub counter: u32,
    pub counter_vi: String,
    pub counter_en: String,
    pub service_id: String,
    pub recall: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceBoard {
    pub id: String,
    pub prefix: String,
    pub name_vi: String,
    pub name_en: String,
    pub waiting: u32,
}

impl ServiceBoard {
    fn of(s: &crate::hub::service::ServiceStatus) -> ServiceBoard {
        ServiceBoard {
            id: s.id.clone(),
            prefix: s.prefix.clone(),
            name_vi: s.name_vi.clone(),
            name_en: s.name_en.clone(),
            waiting: s.counts.waiting,
        }
    }
}

/// Everything a lobby board shows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Board {
    pub site_vi: String,
    pub site_en: String,
    pub service_day: chrono::NaiveDate,
    pub counters: Vec<CounterBoard>,
    /// Newest first.
    pub last_calls: Vec<Call>,
    pub services: Vec<ServiceBoard>,
    pub callout: bool,
}

/// A call event as the board announces it; None for other events.
pub fn call_of(config: &Config, e: &Event) -> Option<Call> {
    if e.kind != "called" && e.kind != "recalled" {
        return None;
    }
    let counter = e.counter?;
    let c = config.counter(counter);
    Some(Call {
        event_id: e.id,
        at: e.at,
        code: e.code.clone()?,
        counter,
        counter_vi: c.map(|c| c.name.vi.clone()).unwrap_or_default(),
        counter_en: c.map(|c| c.name.en.clone()).unwrap_or_default(),
        service_id: e.service_id.clone().unwrap_or_default(),
        recall: e.kind == "recalled",
    })
}

pub fn board(config: &Config, db: &Path, status: &Status) -> Result<Board, StoreError> {
    let mut store = Store::open(db)?;
    let tx = store.read()?;
    let mut counters = Vec::new();
    for c in &config.counters {
        let current = tx.current_at_counter(c.number)?;
        let paused = tx.paused_reason(c.number)?;
        let state = match (&paused, current.as_ref().map(|t| t.state)) {
            (_, Some(TicketState::Serving)) => "serving",
            (_, Some(TicketState::Called)) => "called",
            (Some(_), _) => "paused",
            _ => "idle",
        };
        counters.push(CounterBoard {
            number: c.number,
            name_vi: c.name.vi.clone(),
            name_en: c.name.en.clone(),
            code: current.map(|t| t.code),
            state,
            paused_reason: paused,
        });
    }
    Ok(Board {
        site_vi: config.site.name.vi.clone(),
        site_en: config.site.name.en.clone(),
        service_day: status.service_day,
        counters,
        last_calls: status
            .last_calls
            .iter()
            .filter_map(|e| call_of(config, e))
            .collect(),
        services: status.services.iter().map(ServiceBoard::of).collect(),
        callout: config.board_callout,
    })
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TicketView {
    pub code: String,
    pub service_id: String,
    pub priority_group: Option<String>,
    pub state: TicketState,
    pub arrived_at: DateTime<Utc>,
    pub waited_minutes: i64,
    pub recalls: u32,
}

/// What the counter page shows: the counter, its current ticket and its queue.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CounterView {
    pub number: u32,
    pub name_vi: String,
    pub name_en: String,
    pub services: Vec<ServiceBoard>,
    pub paused_reason: Option<String>,
    pub current: Option<TicketView>,
    /// Waiting tickets of the counter's services, oldest first (priority marked).
    pub queue: Vec<TicketView>,
    /// Every service of the point (transfer targets).
    pub all_services: Vec<ServiceBoard>,
}

pub fn counter(
    config: &Config,
    db: &Path,
    status: &Status,
    number: u32,
    now: DateTime<Utc>,
) -> Result<Option<CounterView>, StoreError> {
    let Some(c) = config.counter(number) else {
        return Ok(None);
    };
    let mut store = Store::open(db)?;
    let tx = store.read()?;
    let view = |t: crate::domain::Ticket| TicketView {
        waited_minutes: (now - t.arrived_at).num_minutes().max(0),
        code: t.code,
        service_id: t.service_id,
        priority_group: t.priority_group,
        state: t.state,
        arrived_at: t.arrived_at,
        recalls: t.recalls,
    };
    let mut queue: Vec<crate::domain::Ticket> = tx
        .tickets_of_day(status.service_day)?
        .into_iter()
        .filter(|t| t.state == TicketState::Waiting && c.services.contains(&t.service_id))
        .collect();
    queue.sort_by_key(|t| (t.arrived_at, t.id));
    let services: Vec<ServiceBoard> = status.services.iter().map(ServiceBoard::of).collect();
    Ok(Some(CounterView {
        number,
        name_vi: c.name.vi.clone(),
        name_en: c.name.en.clone(),
        services: services
            .iter()
            .filter(|s| c.services.contains(&s.id))
            .cloned()
            .collect(),
        paused_reason: tx.paused_reason(number)?,
        current: tx.current_at_counter(number)?.map(view),
        queue: queue.into_iter().map(view).collect(),
        all_services: services,
    }))
}

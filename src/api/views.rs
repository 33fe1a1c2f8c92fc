//! Builds the LAN's views (types in `crate::wire`): the lobby board and a counter's queue, from
//! the hub's status and a reader connection (never the write path), on the blocking pool.

use chrono::Offset;
use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::domain::TicketState;
use crate::hub::Status;
use crate::store::{Event, Store, StoreError};
pub use crate::wire::{
    Board, Call, CounterBoard, CounterState, CounterView, ServiceBoard, TicketView,
};

fn service_board(s: &crate::hub::service::ServiceStatus) -> ServiceBoard {
    ServiceBoard {
        id: s.id.clone(),
        prefix: s.prefix.clone(),
        name_vi: s.name_vi.clone(),
        name_en: s.name_en.clone(),
        waiting: s.counts.waiting,
        wait_low_min: s.wait_for_new.map(|w| w.low_minutes),
        wait_high_min: s.wait_for_new.map(|w| w.high_minutes),
    }
}

/// A call event as the board announces it; None for other events.
pub fn call_of(config: &Config, e: &Event) -> Option<Call> {
    if !e.kind.is_call() {
        return None;
    }
    let counter = e.counter?;
    let c = config.counter(counter);
    let code = e.code.clone()?;
    let (letters, number) = crate::domain::split_code(&code)?;
    Some(Call {
        event_id: e.id,
        at: e.at,
        code,
        letters,
        number,
        counter,
        counter_vi: c.map(|c| c.name.vi.clone()).unwrap_or_default(),
        counter_en: c.map(|c| c.name.en.clone()).unwrap_or_default(),
        service_id: e.service_id.clone().unwrap_or_default(),
        recall: e.kind == crate::domain::EventKind::Recalled,
    })
}

pub fn board(config: &Config, store: &mut Store, status: &Status) -> Result<Board, StoreError> {
    let tx = store.read()?;
    let mut counters = Vec::new();
    for c in &config.counters {
        let current = tx.current_at_counter(c.number)?;
        let paused = tx.paused_reason(c.number)?;
        let state = match (&paused, current.as_ref().map(|t| t.state)) {
            (_, Some(TicketState::Serving)) => CounterState::Serving,
            (_, Some(TicketState::Called)) => CounterState::Called,
            (Some(_), _) => CounterState::Paused,
            _ => CounterState::Idle,
        };
        counters.push(CounterBoard {
            number: c.number,
            name_vi: c.name.vi.clone(),
            name_en: c.name.en.clone(),
            booked: current.as_ref().is_some_and(|t| t.booked.is_some()),
            code: current.map(|t| t.code),
            state,
            paused_reason: paused,
        });
    }
    // One line per ticket (a recall is not a second call), and none for a ticket that was
    // not there when called: the lobby should not look for it.
    let mut seen = std::collections::HashSet::new();
    let mut last_calls = Vec::new();
    for e in &status.last_calls {
        let Some(call) = call_of(config, e) else {
            continue;
        };
        if !seen.insert(call.code.clone()) {
            continue;
        }
        let gone = tx
            .ticket_by_code(status.service_day, &call.code)?
            .is_some_and(|t| matches!(t.state, TicketState::NoShow | TicketState::Cancelled));
        if !gone {
            last_calls.push(call);
        }
    }
    let offset = chrono::Utc::now()
        .with_timezone(&config.site.timezone)
        .offset()
        .fix()
        .local_minus_utc()
        / 60;
    Ok(Board {
        site_vi: config.site.name.vi.clone(),
        site_en: config.site.name.en.clone(),
        service_day: status.service_day,
        counters,
        last_calls,
        services: status.services.iter().map(service_board).collect(),
        callout: config.board_callout,
        utc_offset_minutes: offset,
    })
}

pub fn counter(
    config: &Config,
    store: &mut Store,
    status: &Status,
    number: u32,
    now: DateTime<Utc>,
) -> Result<Option<CounterView>, StoreError> {
    let Some(c) = config.counter(number) else {
        return Ok(None);
    };
    let tx = store.read()?;
    let view = |t: crate::domain::Ticket| TicketView {
        booked_slot: t.booked.as_ref().map(|b| {
            let local = |x: DateTime<Utc>| {
                x.with_timezone(&config.site.timezone)
                    .format("%H:%M")
                    .to_string()
            };
            format!("{}-{}", local(b.slot_start), local(b.slot_end))
        }),
        // Since the citizen took the ticket (a booked one stands by its registration time).
        waited_minutes: (now - t.issued_at).num_minutes().max(0),
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
    let services: Vec<ServiceBoard> = status.services.iter().map(service_board).collect();
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
        ratings_today: tx.rating_summary(status.service_day, Some(number))?,
        rating_screen_seconds: config.rating.screen_seconds,
        priority_groups: config
            .priority_groups
            .iter()
            .map(|g| crate::wire::PriorityGroupView {
                id: g.id.clone(),
                name_vi: g.name.vi.clone(),
                name_en: g.name.en.clone(),
            })
            .collect(),
    }))
}

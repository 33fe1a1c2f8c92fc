//! Check-in of numbers booked online, and the point's copy of its bookings: what the hub does
//! with them, each in one transaction like every other command (see `service`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::service::{IssueRequest, Issued, Placement, QueueError, QueueService, insert_ticket};
use crate::domain::{Booked, Channel, CheckInTime, EventKind};
use crate::store::{BookingState, Event, StoredBooking, Tx};

/// How a citizen names their booking at the kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckInKey {
    /// The booking code, typed or scanned (already checked by `domain::parse_booking_code`).
    Code(String),
    /// The identity number from a scanned card: finds today's booking without a code.
    Card(String),
}

/// What a check-in came to. Only `Booked` and `Late` issued a ticket.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CheckIn {
    /// A ticket marked as booked, in its place in the one arrival order.
    Booked { issued: Issued },
    /// Too late for the booked slot: a walk-in ticket instead.
    Late {
        issued: Issued,
        slot_start: DateTime<Utc>,
    },
    /// Check-in opens at `opens_at`.
    TooEarly {
        slot_start: DateTime<Utc>,
        slot_end: DateTime<Utc>,
        opens_at: DateTime<Utc>,
    },
    /// The booking is for another day.
    OtherDay {
        day: NaiveDate,
        slot_start: DateTime<Utc>,
        slot_end: DateTime<Utc>,
    },
    /// This booking already has its ticket (never a second one).
    AlreadyCheckedIn { ticket: String },
    /// Cancelled on the centre.
    Cancelled,
    /// No booking with this code (or for this card) at this point.
    NotFound,
    /// Booked for a service this point no longer has.
    ServiceGone { service: String },
}

impl CheckIn {
    pub fn issued(&self) -> Option<&Issued> {
        match self {
            CheckIn::Booked { issued } | CheckIn::Late { issued, .. } => Some(issued),
            _ => None,
        }
    }

    /// The outcome's word (API refusals, logs, metrics).
    pub fn word(&self) -> &'static str {
        match self {
            CheckIn::Booked { .. } => "booked",
            CheckIn::Late { .. } => "late",
            CheckIn::TooEarly { .. } => "too_early",
            CheckIn::OtherDay { .. } => "other_day",
            CheckIn::AlreadyCheckedIn { .. } => "already_checked_in",
            CheckIn::Cancelled => "cancelled",
            CheckIn::NotFound => "not_found",
            CheckIn::ServiceGone { .. } => "service_gone",
        }
    }
}

/// What a pull changed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Synced {
    pub added: u32,
    pub cancelled: u32,
    pub events: Vec<Event>,
}

fn booking_event(
    kind: EventKind,
    b: &StoredBooking,
    now: DateTime<Utc>,
    extra: serde_json::Value,
) -> Event {
    let mut detail = serde_json::json!({
        "booking": b.code,
        "slot_start": b.slot_start,
        "day": b.service_day,
    });
    if let (Some(d), serde_json::Value::Object(more)) = (detail.as_object_mut(), extra) {
        d.extend(more);
    }
    Event {
        id: 0,
        at: now,
        kind,
        ticket_id: None,
        code: None,
        service_id: Some(b.service_id.clone()),
        counter: None,
        priority_group: None,
        detail: Some(detail),
    }
}

/// Release, inside `tx`, the bookings whose check-in window lapsed before `now`.
fn release_lapsed_in(
    config: &crate::config::Config,
    tx: &Tx,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, QueueError> {
    let window = config.bookings.window;
    let late = chrono::Duration::minutes(i64::from(window.late_minutes));
    let mut events = Vec::new();
    for b in tx.bookings_started_before(now - late)? {
        tx.set_booking_state(&b.code, BookingState::Released, None)?;
        events.push(tx.append_event(&booking_event(
            EventKind::BookingReleased,
            &b,
            now,
            serde_json::json!({ "lapsed_at": window.lapses_at(b.slot_start) }),
        ))?);
    }
    Ok(events)
}

impl QueueService {
    /// Take the bookings pulled from the centre for the days `from..=to`: new ones are added,
    /// open ones the centre no longer lists are cancelled. Checked-in ones are never touched.
    pub fn sync_bookings(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
        pulled: &[StoredBooking],
    ) -> Result<Synced, QueueError> {
        let now = self.now();
        let tx = self.store_mut().write()?;
        let mut out = Synced::default();
        for b in pulled {
            if tx.add_booking(b, now)? {
                out.added += 1;
            }
        }
        let listed: std::collections::HashSet<&str> =
            pulled.iter().map(|b| b.code.as_str()).collect();
        for b in tx.open_bookings(from, to)? {
            if !listed.contains(b.code.as_str()) {
                tx.set_booking_state(&b.code, BookingState::Cancelled, None)?;
                out.cancelled += 1;
                out.events.push(tx.append_event(&booking_event(
                    EventKind::BookingCancelled,
                    &b,
                    now,
                    serde_json::json!({}),
                ))?);
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// Release the bookings nobody checked in for within their window (an event each, for
    /// the centre). The pull loop calls it whether or not the centre answers.
    pub fn release_lapsed_bookings(&mut self) -> Result<Vec<Event>, QueueError> {
        let now = self.now();
        let config = std::sync::Arc::clone(self.config());
        let tx = self.store_mut().write()?;
        let events = release_lapsed_in(&config, &tx, now)?;
        tx.commit()?;
        Ok(events)
    }

    /// Check a booked citizen in: their ticket, marked as booked, in one transaction with the
    /// booking's new state. `priority_group` is what the citizen confirmed at the kiosk.
    /// Returns the events committed (release of lapsed bookings included) with the outcome.
    pub fn check_in(
        &mut self,
        key: &CheckInKey,
        priority_group: Option<&str>,
    ) -> Result<(CheckIn, Vec<Event>), QueueError> {
        let now = self.now();
        let today = self.service_day_of(now);
        if let Some(g) = priority_group {
            self.check_priority_group(g)?;
        }
        self.check_open_now(now)?;
        let card_hash = match key {
            CheckInKey::Card(id) => match self.citizen_hashes(id)?.booking {
                Some(h) => Some(h),
                // No reporting token: no bookings came from the centre to match a card with.
                None => return Ok((CheckIn::NotFound, Vec::new())),
            },
            CheckInKey::Code(_) => None,
        };
        let config = std::sync::Arc::clone(self.config());
        let tx = self.store_mut().write()?;
        let mut events = release_lapsed_in(&config, &tx, now)?;
        let booking = match (key, &card_hash) {
            (CheckInKey::Code(code), _) => tx.booking(code)?,
            (CheckInKey::Card(_), Some(h)) => {
                let mine = tx.citizen_bookings(today, h)?;
                // An open booking first, else what became of today's.
                mine.iter()
                    .find(|b| matches!(b.state, BookingState::Booked | BookingState::Released))
                    .or(mine.first())
                    .cloned()
            }
            (CheckInKey::Card(_), None) => None,
        };
        let Some(b) = booking else {
            tx.commit()?;
            return Ok((CheckIn::NotFound, events));
        };
        let outcome = match b.state {
            BookingState::Cancelled => CheckIn::Cancelled,
            BookingState::CheckedIn | BookingState::Late => CheckIn::AlreadyCheckedIn {
                ticket: match b.ticket_id {
                    Some(id) => tx.ticket(id)?.map(|t| t.code).unwrap_or_default(),
                    None => String::new(),
                },
            },
            _ if b.service_day != today => CheckIn::OtherDay {
                day: b.service_day,
                slot_start: b.slot_start,
                slot_end: b.slot_end,
            },
            _ if config.service(&b.service_id).is_none() => CheckIn::ServiceGone {
                service: b.service_id.clone(),
            },
            state => {
                let when = config.bookings.window.check(b.slot_start, now);
                if let CheckInTime::TooEarly { opens_at } = when {
                    CheckIn::TooEarly {
                        slot_start: b.slot_start,
                        slot_end: b.slot_end,
                        opens_at,
                    }
                } else {
                    let late =
                        state == BookingState::Released || matches!(when, CheckInTime::Late { .. });
                    let req = IssueRequest {
                        service_id: b.service_id.clone(),
                        priority_group: priority_group.map(str::to_string),
                        channel: if late {
                            Channel::Kiosk
                        } else {
                            Channel::Online
                        },
                        field: b.field.clone(),
                        citizen_id: None,
                    };
                    // The booking is the citizen's quota entry; the ticket is linked to it.
                    let placement = if late {
                        Placement {
                            arrived_at: now,
                            booked: None,
                        }
                    } else {
                        Placement {
                            arrived_at: config.bookings.order.arrival(
                                b.booked_at,
                                b.slot_start,
                                now,
                            ),
                            booked: Some(Booked {
                                code: b.code.clone(),
                                slot_start: b.slot_start,
                                slot_end: b.slot_end,
                            }),
                        }
                    };
                    let issued = insert_ticket(&config, &tx, &req, None, now, placement)?;
                    let new_state = if late {
                        BookingState::Late
                    } else {
                        BookingState::CheckedIn
                    };
                    tx.set_booking_state(&b.code, new_state, Some(issued.ticket.id))?;
                    events.push(issued.event.clone());
                    events.push(tx.append_event(&Event {
                        ticket_id: Some(issued.ticket.id),
                        code: Some(issued.ticket.code.clone()),
                        ..booking_event(
                            EventKind::BookingCheckedIn,
                            &b,
                            now,
                            serde_json::json!({ "late": late, "by": match key {
                                    CheckInKey::Code(_) => "code",
                                    CheckInKey::Card(_) => "card",
                                } }),
                        )
                    })?);
                    if late {
                        CheckIn::Late {
                            issued,
                            slot_start: b.slot_start,
                        }
                    } else {
                        CheckIn::Booked { issued }
                    }
                }
            }
        };
        tx.commit()?;
        Ok((outcome, events))
    }
}

//! A ticket and its lifecycle: waiting -> called -> serving -> done, or no-show, transfer, cancel.
//! Pure: every transition takes the time as an argument and either changes the ticket or says
//! why it cannot; the store persists what the transition decided.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Where a ticket stands. A transfer is not a state: the ticket goes back to `Waiting` in the
/// target service, keeping its number and its original arrival time (the event log records it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    Waiting,
    Called,
    Serving,
    Done,
    NoShow,
    Cancelled,
}

impl TicketState {
    pub const ALL: [TicketState; 6] = [
        TicketState::Waiting,
        TicketState::Called,
        TicketState::Serving,
        TicketState::Done,
        TicketState::NoShow,
        TicketState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Waiting => "waiting",
            TicketState::Called => "called",
            TicketState::Serving => "serving",
            TicketState::Done => "done",
            TicketState::NoShow => "no_show",
            TicketState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<TicketState> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Still holds its number: waiting, or at a counter.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            TicketState::Waiting | TicketState::Called | TicketState::Serving
        )
    }
}

/// How a ticket reached the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Kiosk,
    Counter,
    Online,
    Cli,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Kiosk => "kiosk",
            Channel::Counter => "counter",
            Channel::Online => "online",
            Channel::Cli => "cli",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        [
            Channel::Kiosk,
            Channel::Counter,
            Channel::Online,
            Channel::Cli,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: i64,
    pub service_day: NaiveDate,
    /// The service that numbered it; with `seq` it identifies the ticket within the day.
    pub issued_service: String,
    pub seq: u32,
    pub number: u32,
    pub code: String,
    /// The queue it waits in now (differs from `issued_service` after a transfer).
    pub service_id: String,
    pub priority_group: Option<String>,
    pub channel: Channel,
    pub state: TicketState,
    pub counter: Option<u32>,
    pub recalls: u32,
    /// When the citizen joined the queue; kept across transfers so nobody loses their turn.
    pub arrived_at: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
    pub called_at: Option<DateTime<Utc>>,
    pub serving_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The online booking this ticket was checked in from, with its slot (printed, and marked
    /// on the counter page and the boards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booked: Option<Booked>,
}

/// A booked number, as its ticket carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booked {
    pub code: String,
    pub slot_start: DateTime<Utc>,
    pub slot_end: DateTime<Utc>,
}

/// A transition that the ticket's state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LifecycleError {
    #[error("ticket {code} is {state}; {action} needs it to be {expected}")]
    WrongState {
        code: String,
        state: &'static str,
        action: &'static str,
        expected: &'static str,
    },
    #[error("ticket {code} is at counter {actual}, not counter {asked}")]
    WrongCounter {
        code: String,
        actual: u32,
        asked: u32,
    },
    #[error("ticket {code} is already in service {service}")]
    SameService { code: String, service: String },
}

/// What a recall did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecallOutcome {
    /// Called again; `recalls` counts the repeats so far.
    Recalled { recalls: u32 },
    /// The recall limit was already reached: the ticket is now a no-show.
    NoShow,
}

impl Ticket {
    /// A ticket that has just joined its queue: waiting, at no counter, arrived `now`. Not yet
    /// stored (id 0); a walk-in at the kiosk unless the caller says otherwise.
    pub fn waiting(
        service_day: NaiveDate,
        service_id: &str,
        seq: u32,
        number: u32,
        code: String,
        now: DateTime<Utc>,
    ) -> Ticket {
        Ticket {
            id: 0,
            service_day,
            issued_service: service_id.to_string(),
            seq,
            number,
            code,
            service_id: service_id.to_string(),
            priority_group: None,
            channel: Channel::Kiosk,
            state: TicketState::Waiting,
            counter: None,
            recalls: 0,
            arrived_at: now,
            issued_at: now,
            called_at: None,
            serving_at: None,
            finished_at: None,
            booked: None,
        }
    }

    fn wrong_state(&self, action: &'static str, expected: &'static str) -> LifecycleError {
        LifecycleError::WrongState {
            code: self.code.clone(),
            state: self.state.as_str(),
            action,
            expected,
        }
    }

    fn check_counter(&self, counter: u32) -> Result<(), LifecycleError> {
        match self.counter {
            Some(actual) if actual != counter => Err(LifecycleError::WrongCounter {
                code: self.code.clone(),
                actual,
                asked: counter,
            }),
            _ => Ok(()),
        }
    }

    pub fn is_priority(&self) -> bool {
        self.priority_group.is_some()
    }

    /// Call a waiting ticket to a counter.
    pub fn call(&mut self, counter: u32, now: DateTime<Utc>) -> Result<(), LifecycleError> {
        if self.state != TicketState::Waiting {
            return Err(self.wrong_state("call", "waiting"));
        }
        self.state = TicketState::Called;
        self.counter = Some(counter);
        self.recalls = 0;
        self.called_at = Some(now);
        Ok(())
    }

    /// Call the citizen again. After `max_recalls` repeats the next recall marks a no-show.
    pub fn recall(
        &mut self,
        counter: u32,
        max_recalls: u32,
        now: DateTime<Utc>,
    ) -> Result<RecallOutcome, LifecycleError> {
        if self.state != TicketState::Called {
            return Err(self.wrong_state("recall", "called"));
        }
        self.check_counter(counter)?;
        if self.recalls >= max_recalls {
            self.state = TicketState::NoShow;
            self.finished_at = Some(now);
            return Ok(RecallOutcome::NoShow);
        }
        self.recalls += 1;
        self.called_at = Some(now);
        Ok(RecallOutcome::Recalled {
            recalls: self.recalls,
        })
    }

    /// The citizen arrived at the counter.
    pub fn start_serving(
        &mut self,
        counter: u32,
        now: DateTime<Utc>,
    ) -> Result<(), LifecycleError> {
        if self.state != TicketState::Called {
            return Err(self.wrong_state("start serving", "called"));
        }
        self.check_counter(counter)?;
        self.state = TicketState::Serving;
        self.serving_at = Some(now);
        Ok(())
    }

    /// Service finished. A clerk may skip "start serving", so a called ticket can finish too.
    pub fn finish(&mut self, counter: u32, now: DateTime<Utc>) -> Result<(), LifecycleError> {
        if !matches!(self.state, TicketState::Called | TicketState::Serving) {
            return Err(self.wrong_state("finish", "called or serving"));
        }
        self.check_counter(counter)?;
        if self.serving_at.is_none() {
            self.serving_at = Some(now);
        }
        self.state = TicketState::Done;
        self.finished_at = Some(now);
        Ok(())
    }

    /// The citizen did not come when called.
    pub fn mark_no_show(&mut self, counter: u32, now: DateTime<Utc>) -> Result<(), LifecycleError> {
        if self.state != TicketState::Called {
            return Err(self.wrong_state("mark no-show", "called"));
        }
        self.check_counter(counter)?;
        self.state = TicketState::NoShow;
        self.finished_at = Some(now);
        Ok(())
    }

    /// Send the citizen to another queue. They keep their number and their arrival time, so
    /// they wait in the new queue as if they had joined it when they first arrived.
    pub fn transfer(&mut self, counter: u32, to_service: &str) -> Result<(), LifecycleError> {
        if !matches!(self.state, TicketState::Called | TicketState::Serving) {
            return Err(self.wrong_state("transfer", "called or serving"));
        }
        self.check_counter(counter)?;
        if self.service_id == to_service {
            return Err(LifecycleError::SameService {
                code: self.code.clone(),
                service: to_service.to_string(),
            });
        }
        self.service_id = to_service.to_string();
        self.state = TicketState::Waiting;
        self.counter = None;
        self.recalls = 0;
        self.called_at = None;
        self.serving_at = None;
        Ok(())
    }

    /// Withdraw a ticket that has not been served (the citizen left, or staff voided it).
    pub fn cancel(&mut self, now: DateTime<Utc>) -> Result<(), LifecycleError> {
        if !matches!(self.state, TicketState::Waiting | TicketState::Called) {
            return Err(self.wrong_state("cancel", "waiting or called"));
        }
        self.state = TicketState::Cancelled;
        self.finished_at = Some(now);
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn waiting_ticket(code: &str) -> Ticket {
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
        Ticket {
            id: 1,
            service_day: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            issued_service: "ho-tich".into(),
            seq: 1,
            number: 1,
            code: code.into(),
            service_id: "ho-tich".into(),
            priority_group: None,
            channel: Channel::Kiosk,
            state: TicketState::Waiting,
            counter: None,
            recalls: 0,
            arrived_at: t,
            issued_at: t,
            called_at: None,
            serving_at: None,
            finished_at: None,
            booked: None,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap()
    }

    #[test]
    fn happy_path_waiting_called_serving_done() {
        let mut t = waiting_ticket("A001");
        t.call(5, now()).unwrap();
        assert_eq!((t.state, t.counter), (TicketState::Called, Some(5)));
        t.start_serving(5, now()).unwrap();
        t.finish(5, now()).unwrap();
        assert_eq!(t.state, TicketState::Done);
        assert!(t.finished_at.is_some());
    }

    #[test]
    fn a_done_ticket_cannot_be_called_again() {
        let mut t = waiting_ticket("A001");
        t.call(5, now()).unwrap();
        t.finish(5, now()).unwrap();
        let err = t.call(5, now()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ticket A001 is done; call needs it to be waiting"
        );
    }

    #[test]
    fn another_counter_cannot_finish_my_ticket() {
        let mut t = waiting_ticket("A001");
        t.call(5, now()).unwrap();
        assert_eq!(
            t.finish(6, now()),
            Err(LifecycleError::WrongCounter {
                code: "A001".into(),
                actual: 5,
                asked: 6
            })
        );
        assert_eq!(t.state, TicketState::Called);
    }

    #[test]
    fn recall_counts_then_becomes_no_show_after_the_limit() {
        let mut t = waiting_ticket("A001");
        t.call(2, now()).unwrap();
        assert_eq!(
            t.recall(2, 2, now()),
            Ok(RecallOutcome::Recalled { recalls: 1 })
        );
        assert_eq!(
            t.recall(2, 2, now()),
            Ok(RecallOutcome::Recalled { recalls: 2 })
        );
        assert_eq!(t.recall(2, 2, now()), Ok(RecallOutcome::NoShow));
        assert_eq!(t.state, TicketState::NoShow);
    }

    #[test]
    fn with_zero_recalls_allowed_the_first_recall_is_a_no_show() {
        let mut t = waiting_ticket("A001");
        t.call(2, now()).unwrap();
        assert_eq!(t.recall(2, 0, now()), Ok(RecallOutcome::NoShow));
    }

    #[test]
    fn explicit_no_show_only_from_called() {
        let mut t = waiting_ticket("A001");
        assert!(t.mark_no_show(1, now()).is_err());
        t.call(1, now()).unwrap();
        t.mark_no_show(1, now()).unwrap();
        assert_eq!(t.state, TicketState::NoShow);
    }

    #[test]
    fn transfer_keeps_number_and_arrival_and_waits_again() {
        let mut t = waiting_ticket("A001");
        let arrived = t.arrived_at;
        t.call(1, now()).unwrap();
        t.start_serving(1, now()).unwrap();
        t.transfer(1, "chung-thuc").unwrap();
        assert_eq!(t.state, TicketState::Waiting);
        assert_eq!(t.service_id, "chung-thuc");
        assert_eq!(t.issued_service, "ho-tich");
        assert_eq!(t.code, "A001");
        assert_eq!(t.arrived_at, arrived);
        assert_eq!(t.counter, None);
    }

    #[test]
    fn transfer_to_the_same_service_is_refused() {
        let mut t = waiting_ticket("A001");
        t.call(1, now()).unwrap();
        assert!(matches!(
            t.transfer(1, "ho-tich"),
            Err(LifecycleError::SameService { .. })
        ));
        assert_eq!(t.state, TicketState::Called);
    }

    #[test]
    fn cancel_waiting_but_not_serving() {
        let mut t = waiting_ticket("A001");
        t.cancel(now()).unwrap();
        assert_eq!(t.state, TicketState::Cancelled);
        let mut s = waiting_ticket("A002");
        s.call(1, now()).unwrap();
        s.start_serving(1, now()).unwrap();
        assert!(s.cancel(now()).is_err());
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for st in TicketState::ALL {
            assert_eq!(TicketState::parse(st.as_str()), Some(st));
        }
        assert_eq!(TicketState::parse("lost"), None);
    }
}

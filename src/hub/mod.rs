//! The hub: the one owner of queue state. A dedicated thread owns the `QueueService` (and with
//! it the SQLite write connection) and applies commands one at a time, so state changes are
//! serialised without locks; committed events are broadcast to whoever listens (API, boards,
//! UI, reporter). Callers talk to it through a cloneable `HubHandle`, from async code or not.

pub mod bookings;
pub mod remote;
pub mod service;

use std::sync::Arc;
use std::thread::JoinHandle;

use thiserror::Error;
use tokio::sync::{broadcast, mpsc, oneshot};

pub use bookings::{CheckIn, CheckInKey, Synced};
pub use service::{IssueRequest, Issued, Outcome, QueueError, QueueService, Status};

use crate::domain::{EventKind, Reason};
use crate::store::Event;

/// Commands the hub applies. Each carries the channel its answer goes back on.
enum Command {
    Issue(IssueRequest, oneshot::Sender<Result<Issued, QueueError>>),
    CallNext(u32, Reply),
    CallTicket(u32, String, Reply),
    Recall(u32, Reply),
    StartServing(u32, Reply),
    Finish(u32, Reply),
    NoShow(u32, Reply),
    Transfer(u32, String, Reply),
    Cancel(String, Reply),
    Pause(u32, String, Reply),
    Rate(u32, String, crate::domain::RatingInput, Reply),
    Resume(u32, Reply),
    Status(oneshot::Sender<Result<Status, QueueError>>),
    Lookup(String, oneshot::Sender<Result<Located, QueueError>>),
    CheckIn(
        CheckInKey,
        Option<String>,
        oneshot::Sender<Result<CheckIn, QueueError>>,
    ),
    SyncBookings(
        chrono::NaiveDate,
        chrono::NaiveDate,
        Vec<crate::store::StoredBooking>,
        oneshot::Sender<Result<Synced, QueueError>>,
    ),
    ReleaseLapsed(oneshot::Sender<Result<Vec<Event>, QueueError>>),
    /// The watchdog's question: is the hub thread getting to its commands?
    Ping(oneshot::Sender<Result<(), QueueError>>),
    /// Stop after the commands queued before this one (the app is stopping).
    Shutdown,
    /// The watcher's tick: broadcast what another process committed (see `run`).
    WatchExternal,
    DeviceEvent(
        EventKind,
        Option<Box<crate::domain::Ticket>>,
        serde_json::Value,
        oneshot::Sender<Result<Event, QueueError>>,
    ),
}

type Reply = oneshot::Sender<Result<Outcome, QueueError>>;

/// Today's ticket with a code, the people ahead of it now and its wait estimate.
pub type Located = (crate::domain::Ticket, u32, Option<crate::domain::WaitRange>);

#[derive(Debug, Error)]
pub enum HubError {
    #[error("the hub has stopped")]
    Stopped,
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl HubError {
    /// The refusal's wire word.
    pub fn reason_code(&self) -> &'static str {
        self.reason().as_str()
    }

    pub fn reason(&self) -> Reason {
        match self {
            HubError::Stopped => Reason::HubStopped,
            HubError::Queue(q) => q.reason(),
        }
    }
}

/// How many events a slow listener may fall behind before it is told it lagged.
const EVENT_BUFFER: usize = 1024;
/// Commands waiting for the hub thread.
const COMMAND_BUFFER: usize = 256;
/// How often the hub looks for tickets and calls another process committed.
const EXTERNAL_POLL: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Clone)]
pub struct HubHandle {
    commands: mpsc::Sender<Command>,
    events: broadcast::Sender<Event>,
    config: Arc<crate::config::Config>,
}

pub struct Hub {
    thread: JoinHandle<()>,
}

impl Hub {
    /// Start the hub thread around a queue service. Panics only if the OS refuses a thread.
    pub fn start(service: QueueService) -> (Hub, HubHandle) {
        let (commands, rx) = mpsc::channel(COMMAND_BUFFER);
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let config = Arc::clone(service.config());
        let sender = events.clone();
        let thread = std::thread::Builder::new()
            .name("hub".into())
            .spawn(move || run(service, rx, sender))
            .unwrap_or_else(|e| panic!("cannot start the hub thread: {e}"));
        // Once a second, ask the hub whether another process wrote to the database. A weak
        // sender: the hub still stops when the last handle goes.
        let poke = commands.downgrade();
        let _ = std::thread::Builder::new()
            .name("hub-watch".into())
            .spawn(move || {
                while let Some(hub) = poke.upgrade() {
                    if hub.try_send(Command::WatchExternal).is_err() && hub.is_closed() {
                        break;
                    }
                    drop(hub);
                    std::thread::sleep(EXTERNAL_POLL);
                }
            });
        (
            Hub { thread },
            HubHandle {
                commands,
                events,
                config,
            },
        )
    }

    /// Wait for the hub thread to finish (after every handle is dropped).
    pub fn join(self) {
        let _ = self.thread.join();
    }
}

fn run(
    mut service: QueueService,
    mut rx: mpsc::Receiver<Command>,
    events: broadcast::Sender<Event>,
) {
    // What this hub has broadcast, and the file's version it last saw: events past both came
    // from another process and are broadcast here too, so screens and boards follow them.
    let published = std::cell::Cell::new(service.last_event_id().unwrap_or(0));
    let mut version = service.store_mut().data_version().unwrap_or(0);
    // A send error only means nobody listens right now; the events are in the store anyway.
    let publish = |events_out: &[crate::store::Event]| {
        for e in events_out {
            published.set(published.get().max(e.id));
            let _ = events.send(e.clone());
        }
    };
    fn answer(reply: Reply, result: Result<Outcome, QueueError>, publish: &dyn Fn(&[Event])) {
        if let Ok(outcome) = &result {
            publish(&outcome.events);
        }
        let _ = reply.send(result);
    }
    while let Some(cmd) = rx.blocking_recv() {
        match cmd {
            Command::WatchExternal => match service.external_events(version, published.get()) {
                Ok((v, found)) => {
                    version = v;
                    publish(&found);
                }
                Err(e) => tracing::warn!(error = %e, "cannot look for other writers"),
            },
            Command::Issue(req, reply) => {
                let result = service.issue_ticket(&req);
                if let Ok(issued) = &result {
                    publish(std::slice::from_ref(&issued.event));
                }
                let _ = reply.send(result);
            }
            Command::Status(reply) => {
                let _ = reply.send(service.status());
            }
            Command::Ping(reply) => {
                let _ = reply.send(Ok(()));
            }
            Command::Shutdown => break,
            Command::Lookup(code, reply) => {
                let located = service.ticket_by_code(&code).and_then(|t| {
                    let (ahead, wait) = service.position(&t)?;
                    Ok((t, ahead, wait))
                });
                let _ = reply.send(located);
            }
            Command::DeviceEvent(kind, ticket, detail, reply) => {
                let result = service.record_device_event(kind, ticket.as_deref(), detail);
                if let Ok(e) = &result {
                    publish(std::slice::from_ref(e));
                }
                let _ = reply.send(result);
            }
            Command::CheckIn(key, group, reply) => {
                let result = service
                    .check_in(&key, group.as_deref())
                    .map(|(outcome, events)| {
                        publish(&events);
                        outcome
                    });
                let _ = reply.send(result);
            }
            Command::SyncBookings(from, to, list, reply) => {
                let result = service.sync_bookings(from, to, &list);
                if let Ok(s) = &result {
                    publish(&s.events);
                }
                let _ = reply.send(result);
            }
            Command::ReleaseLapsed(reply) => {
                let result = service.release_lapsed_bookings();
                if let Ok(events) = &result {
                    publish(events);
                }
                let _ = reply.send(result);
            }
            Command::CallNext(c, r) => answer(r, service.call_next(c), &publish),
            Command::CallTicket(c, code, r) => answer(r, service.call_ticket(c, &code), &publish),
            Command::Recall(c, r) => answer(r, service.recall(c), &publish),
            Command::StartServing(c, r) => answer(r, service.start_serving(c), &publish),
            Command::Finish(c, r) => answer(r, service.finish(c), &publish),
            Command::NoShow(c, r) => answer(r, service.mark_no_show(c), &publish),
            Command::Transfer(c, to, r) => answer(r, service.transfer(c, &to), &publish),
            Command::Cancel(code, r) => answer(r, service.cancel(&code), &publish),
            Command::Pause(c, why, r) => answer(r, service.pause(c, &why), &publish),
            Command::Rate(c, code, input, r) => answer(r, service.rate(c, &code, &input), &publish),
            Command::Resume(c, r) => answer(r, service.resume(c), &publish),
        }
    }
}

impl HubHandle {
    pub fn config(&self) -> &Arc<crate::config::Config> {
        &self.config
    }

    /// Listen to every committed event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, QueueError>>) -> Command,
    ) -> Result<T, HubError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| HubError::Stopped)?;
        Ok(rx.await.map_err(|_| HubError::Stopped)??)
    }

    /// The same request from a thread that is not inside the async runtime (the UI thread must
    /// not use this: it waits).
    fn ask_blocking<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, QueueError>>) -> Command,
    ) -> Result<T, HubError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .blocking_send(make(tx))
            .map_err(|_| HubError::Stopped)?;
        Ok(rx.blocking_recv().map_err(|_| HubError::Stopped)??)
    }

    pub async fn issue_ticket(&self, req: IssueRequest) -> Result<Issued, HubError> {
        self.ask(|r| Command::Issue(req, r)).await
    }

    pub fn issue_ticket_blocking(&self, req: IssueRequest) -> Result<Issued, HubError> {
        self.ask_blocking(|r| Command::Issue(req, r))
    }

    pub async fn call_next(&self, counter: u32) -> Result<Outcome, HubError> {
        self.ask(|r| Command::CallNext(counter, r)).await
    }

    pub async fn call_ticket(&self, counter: u32, code: &str) -> Result<Outcome, HubError> {
        let code = code.to_string();
        self.ask(|r| Command::CallTicket(counter, code, r)).await
    }

    pub async fn recall(&self, counter: u32) -> Result<Outcome, HubError> {
        self.ask(|r| Command::Recall(counter, r)).await
    }

    pub async fn start_serving(&self, counter: u32) -> Result<Outcome, HubError> {
        self.ask(|r| Command::StartServing(counter, r)).await
    }

    pub async fn finish(&self, counter: u32) -> Result<Outcome, HubError> {
        self.ask(|r| Command::Finish(counter, r)).await
    }

    pub async fn mark_no_show(&self, counter: u32) -> Result<Outcome, HubError> {
        self.ask(|r| Command::NoShow(counter, r)).await
    }

    pub async fn transfer(&self, counter: u32, to_service: &str) -> Result<Outcome, HubError> {
        let to = to_service.to_string();
        self.ask(|r| Command::Transfer(counter, to, r)).await
    }

    pub async fn cancel(&self, code: &str) -> Result<Outcome, HubError> {
        let code = code.to_string();
        self.ask(|r| Command::Cancel(code, r)).await
    }

    pub async fn pause(&self, counter: u32, reason: &str) -> Result<Outcome, HubError> {
        let reason = reason.to_string();
        self.ask(|r| Command::Pause(counter, reason, r)).await
    }

    pub async fn resume(&self, counter: u32) -> Result<Outcome, HubError> {
        self.ask(|r| Command::Resume(counter, r)).await
    }

    /// A citizen's rating of ticket `code`'s service at `counter`.
    pub async fn rate(
        &self,
        counter: u32,
        code: &str,
        input: crate::domain::RatingInput,
    ) -> Result<Outcome, HubError> {
        let code = code.to_string();
        self.ask(|r| Command::Rate(counter, code, input, r)).await
    }

    /// Check a booked citizen in (see `QueueService::check_in`).
    pub async fn check_in(
        &self,
        key: CheckInKey,
        priority_group: Option<String>,
    ) -> Result<CheckIn, HubError> {
        self.ask(|r| Command::CheckIn(key, priority_group, r)).await
    }

    pub fn check_in_blocking(
        &self,
        key: CheckInKey,
        priority_group: Option<String>,
    ) -> Result<CheckIn, HubError> {
        self.ask_blocking(|r| Command::CheckIn(key, priority_group, r))
    }

    /// Take a pull's bookings for `from..=to` (see `QueueService::sync_bookings`).
    pub async fn sync_bookings(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        list: Vec<crate::store::StoredBooking>,
    ) -> Result<Synced, HubError> {
        self.ask(|r| Command::SyncBookings(from, to, list, r)).await
    }

    pub async fn release_lapsed_bookings(&self) -> Result<Vec<Event>, HubError> {
        self.ask(Command::ReleaseLapsed).await
    }

    pub async fn status(&self) -> Result<Status, HubError> {
        self.ask(Command::Status).await
    }

    /// Ask the hub thread to stop once the commands already queued are done; later commands
    /// answer "hub stopped". Call from a plain thread (it may wait for room in the queue).
    pub fn shutdown_blocking(&self) {
        let _ = self.commands.blocking_send(Command::Shutdown);
    }

    /// Answers once the hub thread has reached this command (for the watchdog).
    pub async fn ping(&self) -> Result<(), HubError> {
        self.ask(Command::Ping).await
    }

    /// Today's ticket `code`, with the people ahead of it and its wait now.
    pub async fn lookup(&self, code: &str) -> Result<Located, HubError> {
        let code = code.to_string();
        self.ask(|r| Command::Lookup(code, r)).await
    }

    /// Add a device event (one of `EventKind::DEVICE`) to the log and broadcast it.
    pub async fn record_device_event(
        &self,
        kind: EventKind,
        ticket: Option<crate::domain::Ticket>,
        detail: serde_json::Value,
    ) -> Result<Event, HubError> {
        self.ask(|r| Command::DeviceEvent(kind, ticket.map(Box::new), detail, r))
            .await
    }
}

//! The one place where the program starts and stops. [`App::start`] opens the store, starts the
//! hub thread (the only writer), the printer thread, a small async runtime and, as the role
//! asks, the LAN API and the reporter; it hands out handles. [`App::stop`] undoes it in order:
//! the API stops taking requests and finishes those in flight, the reporter stops after its
//! current batch, then the printer finishes the jobs it was given and the hub thread the
//! commands queued before its Shutdown (each already committed or not started: nothing is
//! lost); handles still held elsewhere answer "stopped" from then on.
//!
//! Every role (touchscreen, hub, lobby kiosk, CLI tools that print) starts here, so shutdown on
//! SIGTERM/Ctrl-C and the systemd watchdog work the same for all of them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::{oneshot, watch};

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::hub::{Hub, HubHandle, QueueService};
use crate::printer::TicketPrinter;
use crate::printer::worker::{PrinterHandle, PrinterThread};
use crate::supervise::{Notifier, watchdog_interval};
use crate::ticketing::Ticketing;

/// What a role runs besides the hub and the printer.
#[derive(Clone, Default)]
pub struct Options {
    /// Serve the LAN API: on `[api] listen` (`FromConfig`) or on a listener the caller bound.
    pub api: Api,
    /// Send the outbox to `[reporting] url`, when one is configured.
    pub reporting: bool,
    /// The clock the queue uses (tests and simulations set one); the system clock otherwise.
    pub clock: Option<Arc<dyn Clock>>,
}

impl Options {
    /// A whole point: API and reporting as configured.
    pub fn point() -> Options {
        Options {
            api: Api::FromConfig,
            reporting: true,
            clock: None,
        }
    }

    /// A command-line tool: the hub and the printer only.
    pub fn tool() -> Options {
        Options::default()
    }
}

/// Whether and where to serve the LAN API.
#[derive(Debug, Clone, Default)]
pub enum Api {
    #[default]
    Off,
    /// `[api] listen` of the config (off when the config has none).
    FromConfig,
    /// This address (tests and benches pass 127.0.0.1:0).
    At(String),
}

/// A liveness probe for the watchdog: returns a receiver that answers when the loop it
/// watches got to run.
type Probe = Box<dyn Fn() -> oneshot::Receiver<()> + Send + Sync>;

/// A running point (or tool). Drop it only through [`App::stop`].
pub struct App {
    pub config: Arc<Config>,
    pub hub: HubHandle,
    pub printer: PrinterHandle,
    /// Where the LAN API listens, when it runs.
    pub api_addr: Option<SocketAddr>,
    runtime: tokio::runtime::Runtime,
    hub_thread: Option<Hub>,
    printer_thread: PrinterThread,
    shutdown: watch::Sender<bool>,
    tasks: Vec<(&'static str, tokio::task::JoinHandle<()>)>,
    probes: Arc<Mutex<Vec<(&'static str, Probe)>>>,
    notifier: Arc<Notifier>,
}

/// How long stopping waits for the API and the reporter before it gives up on them.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How long a loop may take to answer the watchdog's ping.
const PING_DEADLINE: Duration = Duration::from_secs(10);

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("kiosk-rt")
        .enable_all()
        .build()
        .context("starting the async runtime")
}

impl App {
    /// Start a point on `config`: store, hub thread, printer thread, and what `options` asks.
    /// Fails (rather than half-starting) when the database cannot be opened or the API's port
    /// cannot be bound.
    pub fn start(config: Config, options: Options) -> Result<App> {
        let config = Arc::new(config);
        let clock = options
            .clock
            .clone()
            .unwrap_or_else(|| Arc::new(SystemClock));
        let store = crate::store::Store::open(&config.db_path)
            .with_context(|| format!("opening the database {}", config.db_path.display()))?;
        let service = QueueService::new(Arc::clone(&config), store, clock)?;
        let (hub_thread, hub) = Hub::start(service);
        let mut app = App::assemble(config, hub, Some(hub_thread))?;
        app.start_api(&options.api)?;
        if options.reporting {
            app.start_reporting();
        }
        Ok(app)
    }

    /// A lobby kiosk working through another point's hub (`kiosk run --hub URL`): no hub thread,
    /// no API, no reporting of its own; the printer is local.
    pub fn start_remote(config: Config, url: &str, token: &str) -> Result<App> {
        let config = Arc::new(config);
        let rt = runtime()?;
        let hub = crate::hub::remote::connect(Arc::clone(&config), url, token, rt.handle());
        let mut app = App::assemble_on(rt, config, hub, None)?;
        app.api_addr = None;
        Ok(app)
    }

    fn assemble(config: Arc<Config>, hub: HubHandle, hub_thread: Option<Hub>) -> Result<App> {
        App::assemble_on(runtime()?, config, hub, hub_thread)
    }

    fn assemble_on(
        runtime: tokio::runtime::Runtime,
        config: Arc<Config>,
        hub: HubHandle,
        hub_thread: Option<Hub>,
    ) -> Result<App> {
        let (printer, printer_thread) =
            PrinterHandle::start(TicketPrinter::from_config(&config.printer))
                .context("starting the printer thread")?;
        let (shutdown, _) = watch::channel(false);
        let mut app = App {
            config,
            hub,
            printer,
            api_addr: None,
            runtime,
            hub_thread,
            printer_thread,
            shutdown,
            tasks: Vec::new(),
            probes: Arc::default(),
            notifier: Arc::new(Notifier::from_env()),
        };
        {
            let hub = app.hub.clone();
            let local = app.hub_thread.is_some();
            app.watch("hub", move || {
                let (tx, rx) = oneshot::channel();
                let hub = hub.clone();
                tokio::spawn(async move {
                    // A lobby kiosk's hub is another machine: its absence is shown on screen,
                    // not a reason to restart this process.
                    if !local || hub.ping().await.is_ok() {
                        let _ = tx.send(());
                    }
                });
                rx
            });
        }
        {
            let printer = app.printer.clone();
            app.watch("printer", move || printer.ping());
        }
        app.start_watchdog();
        Ok(app)
    }

    /// A future that resolves when the app is asked to stop.
    pub fn stopping(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.shutdown.subscribe();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    }

    fn start_api(&mut self, api: &Api) -> Result<()> {
        let listen = match api {
            Api::Off => return Ok(()),
            Api::FromConfig => match &self.config.api_listen {
                Some(l) => l.clone(),
                None => return Ok(()),
            },
            Api::At(l) => l.clone(),
        };
        let listener = self
            .runtime
            .block_on(tokio::net::TcpListener::bind(&listen))
            .with_context(|| {
                format!("the LAN API cannot listen on {listen} (is another hub running?)")
            })?;
        self.api_addr = listener.local_addr().ok();
        let state = crate::api::ApiState::new(self.hub.clone(), self.config.db_path.clone())
            .context("preparing the LAN API")?;
        let stopping = self.stopping();
        let task = self.runtime.spawn(async move {
            if let Err(e) = crate::api::serve(listener, state, stopping).await {
                tracing::error!(listen, error = %e, "the LAN API stopped");
            }
        });
        self.tasks.push(("api", task));
        Ok(())
    }

    fn start_reporting(&mut self) {
        if self.config.reporting.url.is_none() {
            return;
        }
        match crate::report::Sender::new(Arc::clone(&self.config)) {
            Ok(sender) => {
                let task = self.runtime.spawn(crate::report::run(
                    sender,
                    self.hub.clone(),
                    self.stopping(),
                ));
                self.tasks.push(("reporting", task));
            }
            Err(e) => tracing::error!(error = %e, "reporting is off"),
        }
        if self.config.updates.public_key.is_some() {
            let task = self.runtime.spawn(crate::updates::run(
                Arc::clone(&self.config),
                self.hub.clone(),
                self.stopping(),
            ));
            self.tasks.push(("updates", task));
        }
        match crate::report::bookings::Puller::new(Arc::clone(&self.config)) {
            Ok(Some(puller)) => {
                let task = self.runtime.spawn(crate::report::bookings::run(
                    puller,
                    self.hub.clone(),
                    self.stopping(),
                ));
                self.tasks.push(("bookings", task));
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "booking pulls are off"),
        }
    }

    /// Watch one more loop (e.g. the UI's event loop): the watchdog is fed only while `probe`'s
    /// receiver answers within the deadline.
    pub fn watch(
        &self,
        name: &'static str,
        probe: impl Fn() -> oneshot::Receiver<()> + Send + Sync + 'static,
    ) {
        if let Ok(mut probes) = self.probes.lock() {
            probes.push((name, Box::new(probe)));
        }
    }

    fn start_watchdog(&mut self) {
        let Some(every) = watchdog_interval() else {
            return;
        };
        let probes = Arc::clone(&self.probes);
        let notifier = Arc::clone(&self.notifier);
        let mut stopping = self.shutdown.subscribe();
        let task = self.runtime.spawn(async move {
            let mut silent: Option<&'static str> = None;
            loop {
                let waits: Vec<(&'static str, oneshot::Receiver<()>)> = match probes.lock() {
                    Ok(p) => p.iter().map(|(n, f)| (*n, f())).collect(),
                    Err(_) => Vec::new(),
                };
                let mut stuck = None;
                for (name, rx) in waits {
                    if !matches!(tokio::time::timeout(PING_DEADLINE, rx).await, Ok(Ok(()))) {
                        stuck = Some(name);
                        break;
                    }
                }
                match stuck {
                    None => {
                        notifier.watchdog();
                        silent = None;
                    }
                    Some(name) if silent != Some(name) => {
                        tracing::error!(loop_name = name, "not answering: the watchdog is not fed");
                        silent = Some(name);
                    }
                    Some(_) => {}
                }
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stopping.wait_for(|s| *s) => return,
                }
            }
        });
        self.tasks.push(("watchdog", task));
    }

    /// Tell systemd the role is up (no-op outside systemd).
    pub fn ready(&self, status: &str) {
        self.notifier.ready(status);
    }

    pub fn runtime(&self) -> &tokio::runtime::Handle {
        self.runtime.handle()
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// The citizen's path over this app's hub and printer.
    pub fn ticketing(&self) -> Ticketing {
        Ticketing::new(
            Arc::clone(&self.config),
            self.hub.clone(),
            self.printer.clone(),
        )
    }

    /// Ask every part to stop, then wait for them in order (see the module's comment).
    pub fn stop(self) {
        let App {
            hub,
            printer,
            runtime,
            hub_thread,
            printer_thread,
            shutdown,
            tasks,
            probes,
            notifier,
            ..
        } = self;
        notifier.stopping();
        shutdown.send_replace(true);
        runtime.block_on(async {
            for (name, task) in tasks {
                if tokio::time::timeout(STOP_GRACE, task).await.is_err() {
                    tracing::warn!(part = name, "did not stop in time; left behind");
                }
            }
        });
        // The probes hold handles too: drop them with ours.
        if let Ok(mut p) = probes.lock() {
            p.clear();
        }
        // The threads finish what they were given, then stop, whoever still holds a handle
        // (the UI's adapters do until their window is gone).
        printer.shutdown();
        if hub_thread.is_some() {
            hub.shutdown_blocking();
        }
        drop(hub);
        drop(printer);
        // Spawned per-request tasks may still hold handles; the runtime's end drops them.
        runtime.shutdown_timeout(STOP_GRACE);
        // The threads end once the last handle is gone (a caller's clone included). Wait for
        // them, but never forever: a stop that hangs is worse than one that leaves a thread.
        let (done, finished) = std::sync::mpsc::channel();
        let joiner = std::thread::spawn(move || {
            printer_thread.join();
            if let Some(h) = hub_thread {
                h.join();
            }
            let _ = done.send(());
        });
        match finished.recv_timeout(STOP_GRACE) {
            Ok(()) => {
                let _ = joiner.join();
                tracing::info!("stopped");
            }
            Err(_) => tracing::warn!(
                "the hub or printer thread did not finish in time; stopping without it"
            ),
        }
    }
}

//! The touchscreen: adapters between the Slint globals (ui/*.slint) and the kiosk's services.
//! Callbacks only record intent and hand work to the async runtime; results come back with
//! `upgrade_in_event_loop`. Nothing here waits on the database, the printer or the network on
//! the UI thread. One file per page adapter, as in the Slint demos.

mod assistant_adapter;
mod help_adapter;
mod kiosk_adapter;
mod procedures_adapter;
pub mod screenshot;
mod services_adapter;
mod ticket_adapter;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::catalogue::Procedure;
use crate::config::Config;
use crate::guides::Guide;
use crate::hub::HubHandle;
use crate::printer::worker::PrinterHandle;

slint::include_modules!();

pub use screenshot::{PAGES, render_pages};

/// What the UI works with, all cheap to clone and usable from any thread.
#[derive(Clone)]
pub struct Kiosk {
    pub config: Arc<Config>,
    pub hub: HubHandle,
    pub printer: PrinterHandle,
    pub runtime: tokio::runtime::Handle,
    pub catalogue: Arc<Vec<Procedure>>,
    pub guides: Arc<Vec<Guide>>,
    /// The assistant over `catalogue`, built on a background thread at start (about 0.6 s for
    /// the national catalogue); empty until then.
    pub assistant: Arc<std::sync::OnceLock<crate::assistant::Assistant>>,
    /// Set while a ticket is being issued: a second request in that time is ignored, whatever
    /// the screen did (the Slint side has its own guard too).
    pub issuing: Arc<AtomicBool>,
}

/// What must outlive the UI: the async runtime and the hub thread (none when the kiosk works
/// through another point's hub).
pub struct Running {
    pub runtime: tokio::runtime::Runtime,
    pub hub: Option<crate::hub::Hub>,
}

/// Where the kiosk's queues live: its own hub, or another one on the LAN.
#[derive(Debug, Clone)]
pub struct RemoteHub {
    pub url: String,
    pub token: String,
}

impl Kiosk {
    /// Open the store, start the hub, the printer thread and a small async runtime, load the
    /// catalogue (seeding the demo one) and the guides. Problems with guide files are printed
    /// and skipped.
    pub fn start(config: Config) -> anyhow::Result<(Kiosk, Running)> {
        Kiosk::start_with(config, None)
    }

    /// As `start`; with `remote`, tickets and queues are the remote hub's (a second kiosk in the
    /// lobby). The local database then only holds the catalogue.
    pub fn start_with(
        config: Config,
        remote: Option<RemoteHub>,
    ) -> anyhow::Result<(Kiosk, Running)> {
        use anyhow::Context;
        let config = Arc::new(config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kiosk-rt")
            .enable_all()
            .build()?;
        let (hub, handle) = match &remote {
            None => {
                let clock = Arc::new(crate::clock::SystemClock);
                let store = crate::store::Store::open(&config.db_path)
                    .with_context(|| format!("opening {}", config.db_path.display()))?;
                let service = crate::hub::QueueService::new(Arc::clone(&config), store, clock)?;
                let (hub, handle) = crate::hub::Hub::start(service);
                (Some(hub), handle)
            }
            Some(r) => (
                None,
                crate::hub::remote::connect(
                    Arc::clone(&config),
                    &r.url,
                    &r.token,
                    runtime.handle(),
                ),
            ),
        };
        // The catalogue is read once at start on its own connection (readers beside the hub).
        let mut reader = crate::store::Store::open(&config.db_path)?;
        let catalogue = crate::catalogue::load_or_seed(&mut reader)?;
        let guides_dir = config
            .guides_dir
            .exists()
            .then_some(config.guides_dir.as_path());
        let (guides, problems) = crate::guides::load(guides_dir);
        for p in problems {
            eprintln!("guide skipped: {p}");
        }
        let printer =
            PrinterHandle::start(crate::printer::TicketPrinter::from_config(&config.printer));
        let assistant = Arc::new(std::sync::OnceLock::new());
        {
            let assistant = Arc::clone(&assistant);
            let procedures = catalogue.clone();
            std::thread::Builder::new()
                .name("assistant-index".into())
                .spawn(move || {
                    let _ = assistant.set(crate::assistant::Assistant::new(
                        procedures,
                        crate::assistant::Settings::default(),
                    ));
                })?;
        }
        let kiosk = Kiosk {
            assistant,
            config,
            hub: handle,
            printer,
            runtime: runtime.handle().clone(),
            catalogue: Arc::new(catalogue),
            guides: Arc::new(guides),
            issuing: Arc::new(AtomicBool::new(false)),
        };
        Ok((kiosk, Running { runtime, hub }))
    }
}

/// State that lives on the UI thread only: what the citizen has chosen so far.
#[derive(Default)]
pub struct Choice {
    pub service_id: Option<String>,
    /// The procedure field, when the ticket is taken from a procedure's page.
    pub field: Option<String>,
}

/// The running UI: the window plus what must stay alive with it.
pub struct KioskUi {
    pub window: AppWindow,
    pub kiosk: Kiosk,
    pub choice: Rc<RefCell<Choice>>,
    _idle: Rc<slint::Timer>,
}

impl KioskUi {
    /// Build the window and connect every adapter. Call on the UI thread, after the platform
    /// (winit, linuxkms, testing or headless) is chosen.
    pub fn new(kiosk: Kiosk) -> Result<KioskUi, slint::PlatformError> {
        let window = AppWindow::new()?;
        let choice = Rc::new(RefCell::new(Choice::default()));
        let idle = kiosk_adapter::connect(&window, &kiosk, &choice);
        services_adapter::connect(&window, &kiosk, &choice);
        ticket_adapter::connect(&window, &kiosk, &choice);
        procedures_adapter::connect(&window, &kiosk, &choice);
        help_adapter::connect(&window, &kiosk);
        assistant_adapter::connect(&window, &kiosk, &choice);
        kiosk_adapter::watch_queues(&window, &kiosk);
        Ok(KioskUi {
            window,
            kiosk,
            choice,
            _idle: idle,
        })
    }

    /// Fill the queue views from a status synchronously (screenshots, first frame).
    pub fn apply_status(&self, status: &crate::hub::Status) {
        kiosk_adapter::apply_status(&self.window, &self.kiosk.config, status);
    }
}

/// A QR code as a Slint image, `module` pixels per module with a 4-module quiet zone.
pub fn qr_image(data: &str, module: usize) -> slint::Image {
    let Some(bmp) = crate::printer::preview::qr_bitmap(data, module) else {
        return slint::Image::default();
    };
    let mut buffer =
        slint::SharedPixelBuffer::<slint::Rgb8Pixel>::new(bmp.width as u32, bmp.height as u32);
    let width = bmp.width;
    for (i, px) in buffer.make_mut_slice().iter_mut().enumerate() {
        let v = if bmp.get(i % width, i / width) {
            0
        } else {
            255
        };
        *px = slint::Rgb8Pixel { r: v, g: v, b: v };
    }
    slint::Image::from_rgb8(buffer)
}

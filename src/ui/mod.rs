//! The touchscreen: adapters between the Slint globals (ui/*.slint) and the kiosk's services.
//! Callbacks only record intent and hand work to the async runtime; results come back with
//! `upgrade_in_event_loop`. Nothing here waits on the database, the printer or the network on
//! the UI thread. One file per page adapter, as in the Slint demos.

mod assistant_adapter;
pub(crate) mod checkin_adapter;
pub(crate) mod dossier_adapter;
mod help_adapter;
pub(crate) mod kiosk_adapter;
pub mod layout_check;
mod procedures_adapter;
pub(crate) mod rate_adapter;
pub mod read_aloud;
pub mod screenshot;
mod services_adapter;
mod session;
pub(crate) mod ticket_adapter;
mod wording;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::app::App;
use crate::config::Config;
use crate::domain::Procedure;
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
    /// Read-aloud, when espeak-ng is installed.
    pub speaker: Option<crate::speech::Speaker>,
    /// Who answers "where is my dossier?" (the centre's receiver by default).
    pub dossiers: Arc<dyn crate::dossier::DossierSource>,
}

impl Kiosk {
    /// Open the touchscreen's view of a point: on `config`'s own hub, or through another point's
    /// hub with `remote` (a second kiosk in the lobby; the local database then only holds the
    /// catalogue). Returns the kiosk and the running app, which must outlive the UI and be
    /// stopped after it (`App::stop`).
    pub fn start_with(config: Config, remote: Option<RemoteHub>) -> anyhow::Result<(Kiosk, App)> {
        let app = match &remote {
            None => App::start(config, crate::app::Options::tool())?,
            Some(r) => App::start_remote(config, &r.url, &r.token)?,
        };
        let kiosk = Kiosk::on(&app)?;
        Ok((kiosk, app))
    }

    /// As `start_with(config, None)`, with no API or reporting (screenshots, benches, tests).
    pub fn start(config: Config) -> anyhow::Result<(Kiosk, App)> {
        Kiosk::start_with(config, None)
    }

    /// The touchscreen's view of a running app: load the catalogue (seeding the demo one) and
    /// the guides, and build the assistant's index on a thread. Problems with guide files are
    /// logged and skipped.
    pub fn on(app: &App) -> anyhow::Result<Kiosk> {
        let config = Arc::clone(&app.config);
        // The catalogue is read once at start on its own connection (readers beside the hub).
        let mut reader = crate::store::Store::open(&config.db_path)?;
        let catalogue = crate::catalogue::load_or_seed(&mut reader)?;
        let guides_dir = config
            .guides_dir
            .exists()
            .then_some(config.guides_dir.as_path());
        let (guides, problems) = crate::guides::load(guides_dir);
        for p in problems {
            tracing::warn!(problem = %p, "guide skipped");
        }
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
        let dossiers: Arc<dyn crate::dossier::DossierSource> =
            Arc::new(crate::dossier::CentreDossiers::from_config(&config));
        Ok(Kiosk {
            dossiers,
            assistant,
            config,
            hub: app.hub.clone(),
            printer: app.printer.clone(),
            runtime: app.runtime().clone(),
            catalogue: Arc::new(catalogue),
            guides: Arc::new(guides),
            issuing: Arc::new(AtomicBool::new(false)),
            speaker: crate::speech::Speaker::detect(),
        })
    }

    /// The citizen's path (issue, print, record) over this kiosk's hub and printer.
    pub fn ticketing(&self) -> crate::ticketing::Ticketing {
        crate::ticketing::Ticketing::new(
            Arc::clone(&self.config),
            self.hub.clone(),
            self.printer.clone(),
        )
    }
}

/// Where the kiosk's queues live: its own hub, or another one on the LAN.
#[derive(Debug, Clone)]
pub struct RemoteHub {
    pub url: String,
    pub token: String,
}

/// State that lives on the UI thread only: what the citizen has chosen so far.
#[derive(Default)]
pub struct Choice {
    pub service_id: Option<String>,
    /// The procedure field, when the ticket is taken from a procedure's page.
    pub field: Option<String>,
    /// The priority group chosen first, on the welcome page's priority path.
    pub priority: Option<String>,
    /// The procedure's code, when the ticket is taken from a procedure's page or an answer
    /// (its name and documents go on the paper).
    pub procedure: Option<String>,
    /// The identity number from a card scanned in this session (for the quota; kept in memory
    /// for the session only, stored only as a keyed hash).
    pub citizen_id: Option<String>,
}

/// The running UI: the window plus what must stay alive with it.
pub struct KioskUi {
    pub window: AppWindow,
    pub kiosk: Kiosk,
    pub choice: Rc<RefCell<Choice>>,
    _idle: Rc<slint::Timer>,
    /// The serial scanner's reader thread, when one is configured.
    _scanner: Option<crate::scanner::ScannerReader>,
}

impl KioskUi {
    /// Build the window and connect every adapter. Call on the UI thread, after the platform
    /// (winit, linuxkms, testing or headless) is chosen.
    pub fn new(kiosk: Kiosk) -> Result<KioskUi, slint::PlatformError> {
        let window = AppWindow::new()?;
        let choice = Rc::new(RefCell::new(Choice::default()));
        let idle = kiosk_adapter::connect(&window, &kiosk, &choice);
        services_adapter::connect(&window, &kiosk, &choice);
        ticket_adapter::connect(&window, &choice);
        procedures_adapter::connect(&window, &kiosk, &choice);
        help_adapter::connect(&window, &kiosk);
        assistant_adapter::connect(&window, &kiosk, &choice);
        dossier_adapter::connect(&window, &kiosk, &choice);
        rate_adapter::connect(&window, &kiosk, &choice);
        let scanner = checkin_adapter::connect(&window, &kiosk, &choice);
        kiosk_adapter::watch_queues(&window, &kiosk);
        Ok(KioskUi {
            window,
            kiosk,
            choice,
            _idle: idle,
            _scanner: scanner,
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

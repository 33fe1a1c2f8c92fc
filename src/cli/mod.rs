//! The `kiosk` command: argument parsing and dispatch only. Each family of subcommands has its
//! own file (`roles` for the long-running roles, `queue` for clerk and citizen actions,
//! `printing`, `report`, `bench`, `assistant`); they load the config, start what they need
//! through `crate::app` and call into the library. No queue logic lives here.

use std::path::PathBuf;
use std::process::ExitCode;

mod assistant;
mod bench;
mod logs;
mod printing;
mod queue;
mod report;
mod roles;

use anyhow::{Result, anyhow};
use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Parser, Debug)]
#[command(
    name = "kiosk",
    version,
    about = "Kiosk firmware for public administrative service points"
)]
pub struct Cli {
    /// Site config (TOML). Without it the embedded demo config is used.
    #[arg(long, global = true, env = "KIOSK_CONFIG")]
    pub config: Option<PathBuf>,
    /// SQLite database path; overrides [store] path in the config.
    #[arg(long, global = true, env = "KIOSK_DB")]
    pub db: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the service point: the touchscreen with the hub in the same process.
    Run {
        /// A window instead of fullscreen (development).
        #[arg(long)]
        windowed: bool,
        /// Window size in pixels, e.g. 1080x1920 (portrait) or 1920x1080 (landscape).
        #[arg(long, value_parser = parse_size)]
        size: Option<(u32, u32)>,
        /// Work through another point's hub (a second kiosk in the lobby), e.g. http://10.0.0.2:8080.
        #[arg(long, env = "KIOSK_HUB")]
        hub: Option<String>,
        /// That hub's kiosk token (default: [api] kiosk_token of this config).
        #[arg(long, env = "KIOSK_HUB_TOKEN")]
        hub_token: Option<String>,
    },
    /// Draw kiosk pages with the software renderer into PNG files (no display needed).
    Screenshot {
        /// Page to draw, or "all".
        #[arg(long, default_value = "all")]
        page: String,
        /// vi, en or all.
        #[arg(long, default_value = "all")]
        lang: String,
        /// WxH, or "all" for 1080x1920 and 1920x1080.
        #[arg(long, default_value = "all")]
        size: String,
        /// Display modes for every page: "normal", "all" (normal, large, contrast, both), or
        /// modes joined by "+" ("large+contrast").
        #[arg(long, default_value = "normal")]
        modes: String,
        /// Where to write the PNGs (needed unless --check).
        #[arg(long, required_unless_present = "check")]
        out: Option<PathBuf>,
        /// Lay out every state and list text that is cut, too wide, spilling out of its box or
        /// off screen, and elements drawn over each other; exit 1 when anything is found.
        #[arg(long)]
        check: bool,
    },
    /// Run the hub alone, headless.
    Hub,
    /// The lobby board as a fullscreen app, following a hub's API (`--hub http://hub:8080`).
    Board {
        #[arg(long, env = "KIOSK_HUB")]
        hub: String,
        #[arg(long)]
        windowed: bool,
        #[arg(long, value_parser = parse_size)]
        size: Option<(u32, u32)>,
        /// Do not speak the calls.
        #[arg(long)]
        mute: bool,
        /// Write each call's audio into this folder as WAV instead of playing it.
        #[arg(long)]
        audio_out: Option<PathBuf>,
        /// No window: draw with the software renderer (with --exit-after-calls, --screenshot).
        #[arg(long)]
        headless: bool,
        #[arg(long)]
        exit_after_calls: Option<u32>,
        #[arg(long)]
        screenshot: Option<PathBuf>,
    },
    /// The centre's reference receiver and city dashboard; with an action, the centre's update
    /// bundles (`kiosk centre keygen`, `bundle`, `publish`).
    Centre {
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        action: Option<CentreAction>,
    },
    /// Reporting to the centre.
    Report {
        #[command(subcommand)]
        what: ReportWhat,
    },
    /// The procedure catalogue: import the national portal's crawled JSON.
    Catalogue {
        #[command(subcommand)]
        what: assistant::CatalogueWhat,
    },
    /// The virtual assistant: ask a question, or evaluate on a TSV of questions.
    Assistant {
        #[command(subcommand)]
        what: assistant::AssistantWhat,
    },
    /// Check config files; prints every problem with file, line, column and key.
    CheckConfig {
        /// Files to check (default: the --config file, or the embedded demo).
        files: Vec<PathBuf>,
    },
    /// Issue a ticket (as the kiosk would) and print it.
    Issue {
        #[arg(long)]
        service: String,
        /// Priority group id from the config (e.g. elderly).
        #[arg(long)]
        priority: Option<String>,
        /// Procedure field (lĩnh vực) the ticket is for; the quota counts per field.
        #[arg(long)]
        field: Option<String>,
        /// Citizen identity number for the quota (stored only as a salted hash).
        #[arg(long)]
        citizen_id: Option<String>,
        /// Issue this many tickets, one durable commit each (0 = until killed).
        #[arg(long, default_value_t = 1)]
        repeat: u64,
        /// Print each ticket on the configured printer (as the kiosk does).
        #[arg(long)]
        print: bool,
        #[arg(long)]
        json: bool,
    },
    /// Print a sample ticket on the configured printer and report its status.
    PrintTest {
        #[arg(long)]
        json: bool,
    },
    /// Ask the configured printer for its status.
    PrinterStatus,
    /// Reprint today's ticket with this code, marked as a reprint.
    Reprint { code: String },
    /// Draw the ticket the next citizen of a service would get, as PNG (and the bytes).
    TicketPreview {
        #[arg(long)]
        service: String,
        #[arg(long)]
        priority: Option<String>,
        #[arg(long)]
        out: PathBuf,
        /// Also write the ESC/POS bytes here.
        #[arg(long)]
        bin: Option<PathBuf>,
        /// Paper width in dots (default: the configured printer's).
        #[arg(long)]
        width: Option<u32>,
    },
    /// Call the next ticket to a counter (or a given ticket with --ticket).
    Call {
        #[arg(long)]
        counter: u32,
        /// Call this ticket (e.g. A023) instead of the next in line.
        #[arg(long)]
        ticket: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Act on a counter's current ticket, or pause/resume the counter.
    Counter {
        /// Counter number.
        counter: u32,
        #[command(subcommand)]
        action: CounterAction,
    },
    /// Withdraw a waiting or called ticket.
    Cancel { code: String },
    /// Queues, waiting counts and the last calls.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Measure performance.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
    /// Simulate a day at a point and measure the wait estimators against it.
    Simulate {
        #[command(subcommand)]
        what: SimulateWhat,
    },
}

#[derive(Subcommand, Debug)]
pub enum SimulateWhat {
    /// One day of a scenario (kiosk-config/sim/*.toml): arrivals, service, estimators compared.
    Day {
        #[arg(long)]
        scenario: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Only the first N counters (what-if: the wait of the 9-11 am peak with N open).
        #[arg(long)]
        counters: Option<usize>,
        /// Write estimate against realised wait (the best estimator) as an SVG here.
        #[arg(long)]
        svg: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReportWhat {
    /// Send the outbox to the centre now, until empty; exit 1 if the centre cannot be reached.
    Send,
    /// How many events wait to be sent.
    Backlog,
}

#[derive(Subcommand, Debug)]
pub enum CounterAction {
    Recall,
    Serve,
    Done,
    NoShow,
    Transfer { service: String },
    Pause { reason: String },
    Resume,
}

#[derive(Subcommand, Debug)]
pub enum BenchWhat {
    /// Durable issue and call latency against a bare rusqlite insert.
    Issue {
        /// Operations to time.
        #[arg(long, default_value_t = 2000)]
        n: usize,
        #[arg(long)]
        json: bool,
    },
    /// The touchscreen headless: first frame, scripted use, tap-to-print latency, memory.
    Ui {
        /// How long to run the scripted use.
        #[arg(long, default_value_t = 300)]
        seconds: u64,
        #[arg(long)]
        json: bool,
    },
    /// Reporting: drain a backlog to the receiver; the receiver's ingest from many points.
    Report {
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        #[arg(long, default_value_t = 200)]
        points: usize,
        #[arg(long)]
        json: bool,
    },
    /// The city at scale: `points` points each sending a snapshot every 30 s with their events,
    /// for `seconds`, against a receiver in its own process (`kiosk centre`): reports/s,
    /// events/s, request latency, the receiver's memory.
    City {
        #[arg(long, default_value_t = 3321)]
        points: usize,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Events a point makes in a day (a busy ward: ~200 tickets, ~5 events each).
        #[arg(long, default_value_t = 1000)]
        events_per_day: usize,
        /// Against a scratch PostgreSQL server (started here) shared by this many receivers,
        /// instead of one receiver on SQLite.
        #[arg(long)]
        postgres_receivers: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// A clerk's call reaching lobby boards: HTTP call-next -> SSE event, with many boards.
    Board {
        #[arg(long, default_value_t = 100)]
        clients: usize,
        #[arg(long, default_value_t = 200)]
        calls: usize,
        #[arg(long)]
        json: bool,
    },
    /// Ticket bytes and send times per Vietnamese mode and paper width.
    Ticket {
        #[arg(long)]
        json: bool,
    },
    /// Scanner bytes in (a fake scanner on a pseudo-terminal) -> booked ticket spooled.
    Scan {
        /// Scans to time (half booking codes, half identity cards).
        #[arg(long, default_value_t = 200)]
        n: usize,
        #[arg(long)]
        json: bool,
    },
}

pub fn main() -> ExitCode {
    // Die quietly on a closed pipe (`kiosk ... | head`) instead of panicking in println!.
    // SAFETY: restoring the default disposition of a signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    logs::init();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(cli: &Cli) -> Result<Config> {
    let mut config = match &cli.config {
        Some(path) => Config::load(path).map_err(|e| anyhow!("invalid config:\n{e}"))?,
        None => Config::demo().map_err(|e| anyhow!("invalid embedded demo config:\n{e}"))?,
    };
    // A bundle from the centre with a config runs instead of the one given (`crate::updates`).
    let mut start = None;
    if config.updates.public_key.is_some() {
        let s = crate::updates::choose(&config.updates.dir, |p| {
            Config::load(p).map(|_| ()).map_err(|e| e.to_string())
        });
        let updates_dir = config.updates.dir.clone();
        if let crate::updates::Start::Bundle { config: path, .. } = &s {
            config = Config::load(path).map_err(|e| anyhow!("invalid config:\n{e}"))?;
        }
        // The bundle's guides replace the built-in ones (a bad file is skipped and logged).
        if let Some(guides) = crate::updates::part_dir(&updates_dir, "guides") {
            config.guides_dir = guides;
        }
        // ... and its phrasing files the shipped ones of the same name (the assistant's index).
        if let Some(p) = crate::updates::part_dir(&updates_dir, "assistant/phrasings") {
            let _ = crate::assistant::phrasings::BUNDLE_DIR.set(p);
        }
        start = Some((updates_dir, s));
    }
    if let Some(db) = &cli.db {
        config.db_path = db.clone();
    }
    if let Some((dir, s)) = start {
        // Its catalogue goes into the store before anything reads it (one transaction).
        if let Some(catalogue) = crate::updates::catalogue_to_import(&dir, &s) {
            let mut store = crate::store::Store::open(&config.db_path)?;
            match crate::catalogue::import::import_dir(&mut store, &catalogue) {
                Ok(r) => tracing::info!(
                    added = r.added.len(),
                    changed = r.changed.len(),
                    removed = r.removed.len(),
                    "the update's catalogue is in the store"
                ),
                Err(e) => tracing::error!(error = %e, "the update's catalogue was not imported"),
            }
        }
        let _ = crate::updates::STARTED.set(s);
    }
    Ok(config)
}

#[derive(Subcommand, Debug)]
pub enum CentreAction {
    /// Make the centre's Ed25519 key pair for update bundles: <out>/centre-signing.key (keep
    /// it off the network) and <out>/centre-signing.pub (each point's `[updates] public_key`).
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a folder (config.toml, catalogue/, assistant/, guides/, voice/) as one bundle.
    Bundle {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        version: String,
        /// The private key file from `keygen`.
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Publish a signed bundle (checked against the public key first) to some points
    /// (`--points a,b`: a rollout's first step) or to every point (`--all`). Needs --config.
    Publish {
        #[arg(long)]
        bundle: PathBuf,
        #[arg(long)]
        public_key: PathBuf,
        #[arg(long, value_delimiter = ',')]
        points: Vec<String>,
        #[arg(long)]
        all: bool,
    },
}

fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::CheckConfig { files } => Ok(queue::check_config(&cli, files)),
        Command::Hub => roles::hub(load_config(&cli)?),
        Command::Centre { config, action } => match action {
            None => roles::centre(
                config
                    .as_deref()
                    .ok_or_else(|| anyhow!("kiosk centre needs --config <centre.toml>"))?,
            ),
            Some(a) => roles::centre_action(config.as_deref(), a),
        },
        Command::Board {
            hub,
            windowed,
            size,
            mute,
            audio_out,
            headless,
            exit_after_calls,
            screenshot,
        } => roles::board(crate::board::Options {
            hub: hub.clone(),
            windowed: *windowed,
            size: *size,
            mute: *mute,
            audio_out: audio_out.clone(),
            headless: *headless,
            exit_after_calls: *exit_after_calls,
            screenshot: screenshot.clone(),
        }),
        Command::Run {
            windowed,
            size,
            hub,
            hub_token,
        } => roles::kiosk(load_config(&cli)?, *windowed, *size, hub, hub_token),
        Command::Screenshot {
            page,
            lang,
            size,
            modes,
            out,
            check,
        } => roles::screenshot(
            load_config(&cli)?,
            roles::Shots {
                page,
                lang,
                size,
                modes,
                out: out.as_deref(),
                check: *check,
            },
        ),
        Command::Catalogue { what } => assistant::catalogue(&load_config(&cli)?, what.clone()),
        Command::Assistant { what } => assistant::assistant(&load_config(&cli)?, what.clone()),
        Command::Report { what } => report::run(load_config(&cli)?, what),
        Command::Issue {
            service,
            priority,
            field,
            citizen_id,
            repeat,
            print,
            json,
        } => queue::issue(
            load_config(&cli)?,
            queue::IssueArgs {
                service,
                priority: priority.as_deref(),
                field: field.as_deref(),
                citizen_id: citizen_id.as_deref(),
                repeat: *repeat,
                print: *print,
                json: *json,
            },
        ),
        Command::Call {
            counter,
            ticket,
            json,
        } => queue::call(load_config(&cli)?, *counter, ticket.as_deref(), *json),
        Command::Counter { counter, action } => {
            queue::counter(load_config(&cli)?, *counter, action)
        }
        Command::Cancel { code } => queue::cancel(load_config(&cli)?, code),
        Command::Status { json } => queue::status(load_config(&cli)?, *json),
        Command::PrintTest { json } => printing::print_test(&load_config(&cli)?, *json),
        Command::PrinterStatus => printing::printer_status(&load_config(&cli)?),
        Command::Reprint { code } => printing::reprint(load_config(&cli)?, code),
        Command::TicketPreview {
            service,
            priority,
            out,
            bin,
            width,
        } => printing::preview(
            &load_config(&cli)?,
            service,
            priority.as_deref(),
            out,
            bin.as_deref(),
            *width,
        ),
        Command::Bench { what } => bench::run(&load_config(&cli)?, what),
        Command::Simulate {
            what:
                SimulateWhat::Day {
                    scenario,
                    seed,
                    counters,
                    svg,
                    json,
                },
        } => {
            let s = crate::sim::Scenario::load(scenario)?;
            let report = crate::sim::simulate(&s, *seed, *counters)?;
            if let Some(path) = svg {
                let band = report
                    .bands
                    .get("QL+ (shared counters, service in progress)")
                    .copied()
                    .unwrap_or(crate::sim::Band { lo: 0.8, hi: 1.0 });
                std::fs::write(
                    path,
                    crate::sim::svg(&report.day, band, &format!("{} (seed {seed})", s.name)),
                )?;
            }
            print_result(&report, *json, ToString::to_string)
        }
    }
}

/// Print a result as pretty JSON, or as its text form.
fn print_result<T: serde::Serialize>(
    value: &T,
    json: bool,
    text: impl FnOnce(&T) -> String,
) -> Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        print!("{}", text(value));
    }
    Ok(ExitCode::SUCCESS)
}

/// "1080x1920" -> (1080, 1920).
pub(crate) fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once('x')
        .ok_or_else(|| format!("\"{s}\" is not a size like 1080x1920"))?;
    let w: u32 = w
        .parse()
        .map_err(|_| format!("\"{s}\": width is not a number"))?;
    let h: u32 = h
        .parse()
        .map_err(|_| format!("\"{s}\": height is not a number"))?;
    if !(320..=8192).contains(&w) || !(320..=8192).contains(&h) {
        return Err(format!("\"{s}\": each side must be 320 to 8192 pixels"));
    }
    Ok((w, h))
}

//! Command-line roles and tools: argument parsing and wiring only. Each subcommand loads the
//! config, opens what it needs and calls into the library; no queue logic lives here.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

mod assistant;

use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand};

use crate::clock::SystemClock;
use crate::config::Config;
use crate::domain::Channel;
use crate::hub::{Hub, IssueRequest, Outcome, QueueService, Status};
use crate::printer::TicketPrinter;
use crate::store::Store;

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
        #[arg(long)]
        out: PathBuf,
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
    /// The centre's reference receiver and city dashboard.
    Centre {
        #[arg(long)]
        config: PathBuf,
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
}

pub fn main() -> ExitCode {
    // Die quietly on a closed pipe (`kiosk ... | head`) instead of panicking in println!.
    // SAFETY: restoring the default disposition of a signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(cli: &Cli) -> Result<Config> {
    let mut config = match &cli.config {
        Some(path) => Config::load(path).map_err(|e| anyhow!("invalid config:\n{e}"))?,
        None => Config::demo().map_err(|e| anyhow!("invalid embedded demo config:\n{e}"))?,
    };
    if let Some(db) = &cli.db {
        config.db_path = db.clone();
    }
    Ok(config)
}

fn open_service(config: Config) -> Result<QueueService> {
    let store = Store::open(&config.db_path)?;
    Ok(QueueService::new(
        Arc::new(config),
        store,
        Arc::new(SystemClock),
    )?)
}

fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::CheckConfig { files } => Ok(check_config(&cli, files)),
        Command::Hub => run_hub(load_config(&cli)?),
        Command::Centre { config } => {
            let c = crate::centre::CentreConfig::load(config).map_err(|e| anyhow!(e))?;
            let centre = std::sync::Arc::new(crate::centre::Centre::open(&c)?);
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind(&c.listen)
                    .await
                    .with_context(|| format!("listening on {}", c.listen))?;
                println!(
                    "centre receiver on http://{} ({} points registered); Ctrl-C to stop",
                    listener.local_addr()?,
                    c.point.len()
                );
                crate::centre::serve(listener, centre, async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
                anyhow::Ok(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Board {
            hub,
            windowed,
            size,
            mute,
            audio_out,
            headless,
            exit_after_calls,
            screenshot,
        } => {
            crate::board::run(crate::board::Options {
                hub: hub.clone(),
                windowed: *windowed,
                size: *size,
                mute: *mute,
                audio_out: audio_out.clone(),
                headless: *headless,
                exit_after_calls: *exit_after_calls,
                screenshot: screenshot.clone(),
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Catalogue { what } => assistant::catalogue(&load_config(&cli)?, what.clone()),
        Command::Assistant { what } => assistant::assistant(&load_config(&cli)?, what.clone()),
        Command::Report { what } => {
            let config = std::sync::Arc::new(load_config(&cli)?);
            match what {
                ReportWhat::Backlog => {
                    let mut store = Store::open(&config.db_path)?;
                    let tx = store.read()?;
                    let (n, oldest) = tx.outbox_backlog()?;
                    println!(
                        "{n} event(s) to send{}",
                        oldest
                            .map(|t| format!(", oldest from {t}"))
                            .unwrap_or_default()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                ReportWhat::Send => {
                    let sender = crate::report::Sender::new(config)?;
                    let runtime = tokio::runtime::Runtime::new()?;
                    match runtime.block_on(sender.drain()) {
                        Ok(n) => {
                            println!("sent {n} event(s)");
                            Ok(ExitCode::SUCCESS)
                        }
                        Err(e) => {
                            eprintln!("error: {e}");
                            Ok(ExitCode::FAILURE)
                        }
                    }
                }
            }
        }
        Command::Run {
            windowed,
            size,
            hub,
            hub_token,
        } => {
            let config = load_config(&cli)?;
            let remote = match hub {
                Some(url) => Some(crate::ui::RemoteHub {
                    url: url.clone(),
                    token: hub_token
                        .clone()
                        .or_else(|| config.api_kiosk_token.clone())
                        .ok_or_else(|| {
                            anyhow!("--hub needs the hub's kiosk token: --hub-token or [api] kiosk_token")
                        })?,
                }),
                None => None,
            };
            run_kiosk(config, *windowed, *size, remote)
        }
        Command::Screenshot {
            page,
            lang,
            size,
            out,
        } => {
            let mut config = load_config(&cli)?;
            // Screenshots never touch the site's real database or printer.
            let scratch =
                std::env::temp_dir().join(format!("kiosk-screenshot-{}", std::process::id()));
            config.db_path = scratch.join("kiosk.sqlite");
            config.printer.transport = crate::config::TransportConfig::Spool {
                dir: scratch.join("spool"),
            };
            let pages: Vec<&str> = if page == "all" {
                crate::ui::PAGES.to_vec()
            } else {
                vec![page.as_str()]
            };
            let langs: Vec<&str> = match lang.as_str() {
                "all" => vec!["vi", "en"],
                "vi" | "en" => vec![lang.as_str()],
                other => return Err(anyhow!("--lang {other}: use vi, en or all")),
            };
            let sizes: Vec<(u32, u32)> = if size == "all" {
                vec![(1080, 1920), (1920, 1080)]
            } else {
                vec![parse_size(size).map_err(|e| anyhow!(e))?]
            };
            crate::ui::screenshot::init_headless()?;
            let (kiosk, running) = crate::ui::Kiosk::start(config)?;
            let status = running.runtime.block_on(kiosk.hub.status())?;
            let ui = crate::ui::KioskUi::new(kiosk)?;
            ui.apply_status(&status);
            let written = crate::ui::render_pages(&ui, &pages, &langs, &sizes, out)
                .map_err(|e| anyhow!(e))?;
            for p in &written {
                println!("{}", p.display());
            }
            drop(ui);
            let _ = std::fs::remove_dir_all(&scratch);
            Ok(ExitCode::SUCCESS)
        }
        Command::Issue {
            service,
            priority,
            field,
            citizen_id,
            repeat,
            print,
            json,
        } => {
            let config = load_config(&cli)?;
            let mut printer = print.then(|| TicketPrinter::from_config(&config.printer));
            let mut q = open_service(config.clone())?;
            let mut unprinted = 0;
            let req = IssueRequest {
                service_id: service.clone(),
                priority_group: priority.clone(),
                channel: Channel::Cli,
                field: field.clone(),
                citizen_id: citizen_id.clone(),
            };
            let mut out = std::io::stdout().lock();
            let mut i = 0u64;
            while *repeat == 0 || i < *repeat {
                let issued = q.issue_ticket(&req)?;
                // Printed only after the commit: a line on stdout means the ticket is durable.
                if *json {
                    writeln!(out, "{}", serde_json::to_string(&issued)?)?;
                } else {
                    let wait = issued
                        .wait
                        .map(|w| format!(", wait {}-{} min", w.low_minutes, w.high_minutes))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "issued {} id={} seq={} ({} ahead{wait})",
                        issued.ticket.code,
                        issued.ticket.id,
                        issued.ticket.seq,
                        issued.people_ahead
                    )?;
                }
                out.flush()?;
                if let Some(p) = printer.as_mut()
                    && !print_issued(&config, &mut q, p, &issued)?
                {
                    unprinted += 1;
                }
                i += 1;
            }
            // 3: tickets were issued (they are valid and in the queue) but not all printed.
            Ok(if unprinted > 0 {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::PrintTest { json } => {
            let config = load_config(&cli)?;
            let mut p = TicketPrinter::from_config(&config.printer);
            let mut info = crate::printer::layout::sample_ticket();
            info.site_vi = config.site.name.vi.clone();
            info.site_en = config.site.name.en.clone();
            info.footer = config.printer.footer.clone();
            let result = p.print(&info);
            if *json {
                let (kind, detail) = crate::printer::print_event(&result, &p.describe());
                println!(
                    "{}",
                    serde_json::json!({ "result": kind, "detail": detail })
                );
            }
            match result {
                Ok(r) => {
                    if !*json {
                        println!(
                            "{}: {} - printed {} bytes ({} raster) in {:.1} ms",
                            p.describe(),
                            r.status.as_str(),
                            r.bytes,
                            r.raster_bytes,
                            r.elapsed_ms
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{}: {e}", p.describe());
                    Ok(ExitCode::from(3))
                }
            }
        }
        Command::PrinterStatus => {
            let config = load_config(&cli)?;
            let mut p = TicketPrinter::from_config(&config.printer);
            let status = p.status();
            let (vi, en) = status.describe_vi_en();
            println!("{}: {} ({vi} / {en})", p.describe(), status.as_str());
            Ok(if status.can_print() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            })
        }
        Command::Reprint { code } => {
            let config = load_config(&cli)?;
            let mut q = open_service(config.clone())?;
            let ticket = q.ticket_by_code(code)?;
            let (people_ahead, wait) = q.position(&ticket)?;
            let issued = crate::hub::Issued {
                event: crate::store::Event::for_ticket("reprint", &ticket, ticket.issued_at),
                ticket,
                people_ahead,
                wait,
            };
            let mut info = crate::printer::ticket_info(&config, &issued);
            info.reprint = true;
            let mut p = TicketPrinter::from_config(&config.printer);
            let result = p.print(&info);
            let (kind, detail) = crate::printer::print_event(&result, &p.describe());
            q.record_device_event(kind, Some(&issued.ticket), detail)?;
            match result {
                Ok(r) => {
                    println!("reprinted {} ({} bytes)", issued.ticket.code, r.bytes);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{}: {e}", p.describe());
                    Ok(ExitCode::from(3))
                }
            }
        }
        Command::TicketPreview {
            service,
            priority,
            out,
            bin,
            width,
        } => {
            let config = load_config(&cli)?;
            write_preview(
                &config,
                service,
                priority.as_deref(),
                out,
                bin.as_deref(),
                *width,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Call {
            counter,
            ticket,
            json,
        } => {
            let mut q = open_service(load_config(&cli)?)?;
            let outcome = match ticket {
                Some(code) => q.call_ticket(*counter, code)?,
                None => q.call_next(*counter)?,
            };
            print_outcome(
                &outcome,
                *json,
                &format!("counter {counter}: nobody is waiting"),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Counter { counter, action } => {
            let mut q = open_service(load_config(&cli)?)?;
            let c = *counter;
            let outcome = match action {
                CounterAction::Recall => q.recall(c)?,
                CounterAction::Serve => q.start_serving(c)?,
                CounterAction::Done => q.finish(c)?,
                CounterAction::NoShow => q.mark_no_show(c)?,
                CounterAction::Transfer { service } => q.transfer(c, service)?,
                CounterAction::Pause { reason } => q.pause(c, reason)?,
                CounterAction::Resume => q.resume(c)?,
            };
            print_outcome(&outcome, false, "")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Cancel { code } => {
            let mut q = open_service(load_config(&cli)?)?;
            print_outcome(&q.cancel(code)?, false, "")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { json } => {
            let config = load_config(&cli)?;
            let mut q = open_service(config.clone())?;
            let status = q.status()?;
            print_result(&status, *json, |s| render_status(&config, s))
        }
        Command::Bench {
            what: BenchWhat::Ui { seconds, json },
        } => {
            let report = crate::bench::bench_ui(&load_config(&cli)?, *seconds)?;
            print_result(&report, *json, ToString::to_string)
        }
        Command::Bench {
            what:
                BenchWhat::Report {
                    events,
                    points,
                    json,
                },
        } => {
            let report = crate::bench::bench_report(&load_config(&cli)?, *events, *points)?;
            print_result(&report, *json, ToString::to_string)
        }
        Command::Bench {
            what:
                BenchWhat::Board {
                    clients,
                    calls,
                    json,
                },
        } => {
            let report = crate::bench::bench_board(&load_config(&cli)?, *clients, *calls)?;
            print_result(&report, *json, ToString::to_string)
        }
        Command::Bench {
            what: BenchWhat::Ticket { json },
        } => {
            let rows = crate::bench::bench_ticket(&load_config(&cli)?)?;
            print_result(&rows, *json, |r| crate::bench::render_ticket_sizes(r))
        }
        Command::Bench {
            what: BenchWhat::Issue { n, json },
        } => {
            let report = crate::bench::bench_issue(&load_config(&cli)?, *n)?;
            print_result(&report, *json, ToString::to_string)
        }
    }
}

/// Print an issued ticket and log the outcome. Returns whether it printed. On a fault the
/// ticket stays issued: the citizen is told the number to show at the counter.
fn print_issued(
    config: &Config,
    q: &mut QueueService,
    printer: &mut TicketPrinter,
    issued: &crate::hub::Issued,
) -> Result<bool> {
    let info = crate::printer::ticket_info(config, issued);
    let result = printer.print(&info);
    let (kind, detail) = crate::printer::print_event(&result, &printer.describe());
    q.record_device_event(kind, Some(&issued.ticket), detail)?;
    match result {
        Ok(_) => Ok(true),
        Err(e) => {
            let (vi, en) = e.status().describe_vi_en();
            eprintln!(
                "ticket {} issued but not printed: {e}. {vi}: vui lòng ghi nhớ số {} và đưa cho cán bộ tại quầy. / {en}: please show number {} at the counter.",
                issued.ticket.code, issued.ticket.code, issued.ticket.code
            );
            Ok(false)
        }
    }
}

/// The ticket the next citizen of `service` would get, drawn without issuing anything.
fn write_preview(
    config: &Config,
    service: &str,
    priority: Option<&str>,
    out: &std::path::Path,
    bin: Option<&std::path::Path>,
    width: Option<u32>,
) -> Result<()> {
    let mut q = open_service(config.clone())?;
    let status = q.status()?;
    let s = config
        .service(service)
        .ok_or_else(|| anyhow!("unknown service \"{service}\""))?;
    if let Some(g) = priority
        && config.priority_group(g).is_none()
    {
        return Err(anyhow!("unknown priority group \"{g}\""));
    }
    let queue = status.services.iter().find(|x| x.id == service);
    let now = chrono::Utc::now();
    let number = queue.map_or(0, |x| x.counts.issued) + s.range.first;
    let ticket = crate::domain::Ticket {
        priority_group: priority.map(str::to_string),
        ..crate::domain::Ticket::waiting(
            status.service_day,
            &s.id,
            0,
            number,
            crate::domain::ticket_code(&s.prefix, number, config.number_width),
            now,
        )
    };
    let issued = crate::hub::Issued {
        event: crate::store::Event::for_ticket("preview", &ticket, now),
        people_ahead: queue.map_or(0, |x| x.counts.waiting),
        wait: queue.and_then(|x| x.wait_for_new),
        ticket,
    };
    let info = crate::printer::ticket_info(config, &issued);
    let mut options = TicketPrinter::from_config(&config.printer).options();
    if let Some(w) = width {
        if ![576, 512, 384].contains(&w) {
            return Err(anyhow!("--width {w}: use 576, 512 or 384"));
        }
        options.width_dots = w;
    }
    let blocks = crate::printer::layout::layout(&info);
    let img = crate::printer::preview::render(&blocks, options.width_dots);
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    img.write_png(std::io::BufWriter::new(file))?;
    if let Some(bin) = bin {
        let encoded = crate::printer::encode::encode(&blocks, options)?;
        std::fs::write(bin, &encoded.bytes)
            .with_context(|| format!("writing {}", bin.display()))?;
    }
    println!(
        "wrote {} ({}x{} dots)",
        out.display(),
        img.width,
        img.height
    );
    Ok(())
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

fn check_config(cli: &Cli, files: &[PathBuf]) -> ExitCode {
    let results: Vec<(String, Result<Config, crate::config::ConfigError>)> = if files.is_empty() {
        match &cli.config {
            Some(p) => vec![(p.display().to_string(), Config::load(p))],
            None => vec![(crate::config::DEMO_NAME.to_string(), Config::demo())],
        }
    } else {
        files
            .iter()
            .map(|p| (p.display().to_string(), Config::load(p)))
            .collect()
    };
    let mut failed = false;
    for (name, result) in results {
        match result {
            Ok(c) => println!(
                "{name}: ok ({} services, {} counters, {} priority groups)",
                c.services.len(),
                c.counters.len(),
                c.priority_groups.len()
            ),
            Err(e) => {
                failed = true;
                eprintln!("{e}");
                eprintln!("{name}: {} problem(s)", e.problems.len());
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn print_outcome(outcome: &Outcome, json: bool, nothing: &str) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(outcome)?);
        return Ok(());
    }
    if outcome.events.is_empty() && !nothing.is_empty() {
        println!("{nothing}");
    }
    for e in &outcome.events {
        let code = e.code.as_deref().unwrap_or("-");
        match e.counter {
            Some(c) => println!("{} {code} (counter {c})", e.kind),
            None => println!("{} {code}", e.kind),
        }
    }
    Ok(())
}

/// The status as a plain-text table.
pub fn render_status(config: &Config, status: &Status) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} ({}) - service day {}",
        config.site.name.vi, status.site, status.service_day
    );
    let _ = writeln!(
        s,
        "{:<34} {:>6} {:>7} {:>6} {:>7} {:>5} {:>7} {:>8}  wait (new)",
        "service", "prefix", "waiting", "called", "serving", "done", "no-show", "counters",
    );
    for q in &status.services {
        let wait = q
            .wait_for_new
            .map(|w| format!("{}-{} min", w.low_minutes, w.high_minutes))
            .unwrap_or_else(|| "no counter open".into());
        let label = format!("{} ({})", q.name_vi, q.id);
        let _ = writeln!(
            s,
            "{:<34} {:>6} {:>7} {:>6} {:>7} {:>5} {:>7} {:>8}  {}",
            label,
            q.prefix,
            q.counts.waiting,
            q.counts.called,
            q.counts.serving,
            q.counts.done,
            q.counts.no_show,
            q.open_counters,
            wait
        );
    }
    if status.last_calls.is_empty() {
        let _ = writeln!(s, "no calls yet");
    } else {
        let _ = writeln!(s, "last calls:");
        for e in &status.last_calls {
            let local = e.at.with_timezone(&config.site.timezone);
            let counter = e
                .counter
                .and_then(|n| config.counter(n))
                .map(|c| c.name.vi.clone())
                .unwrap_or_else(|| "?".into());
            let _ = writeln!(
                s,
                "  {} {} -> {} ({})",
                local.format("%H:%M:%S"),
                e.code.as_deref().unwrap_or("?"),
                counter,
                e.kind
            );
        }
    }
    s
}

/// The hub's HTTP server and the reporter, when configured, on `runtime`.
fn start_background(
    runtime: &tokio::runtime::Runtime,
    config: &Config,
    hub: &crate::hub::HubHandle,
) {
    if let Some(listen) = config.api_listen.clone() {
        match crate::api::ApiState::new(hub.clone(), config.db_path.clone()) {
            Ok(state) => {
                runtime.spawn(async move {
                    match tokio::net::TcpListener::bind(&listen).await {
                        Ok(l) => {
                            if let Err(e) =
                                crate::api::serve(l, state, std::future::pending()).await
                            {
                                eprintln!("api on {listen}: {e}");
                            }
                        }
                        Err(e) => {
                            eprintln!("api: cannot listen on {listen}: {e} (the LAN API is off)")
                        }
                    }
                });
            }
            Err(e) => eprintln!("api: {e} (the LAN API is off)"),
        }
    }
    if config.reporting.url.is_some() {
        match crate::report::Sender::new(std::sync::Arc::new(config.clone())) {
            Ok(sender) => {
                let hub = hub.clone();
                runtime.spawn(crate::report::run(sender, hub, std::future::pending()));
            }
            Err(e) => eprintln!("reporting is off: {e}"),
        }
    }
}

/// "1080x1920" -> (1080, 1920).
fn parse_size(s: &str) -> Result<(u32, u32), String> {
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

/// The touchscreen with the hub in this process.
fn run_kiosk(
    config: Config,
    windowed: bool,
    size: Option<(u32, u32)>,
    remote: Option<crate::ui::RemoteHub>,
) -> Result<ExitCode> {
    use slint::ComponentHandle;
    let started = std::time::Instant::now();
    let local = remote.is_none();
    let (kiosk, running) = crate::ui::Kiosk::start_with(config.clone(), remote)?;
    // A kiosk working through another hub serves no API and reports nothing itself.
    if local {
        start_background(&running.runtime, &config, &kiosk.hub);
    }
    let ui = crate::ui::KioskUi::new(kiosk).map_err(|e| {
        anyhow!("cannot open the kiosk window ({e}); is a display available? `kiosk hub` runs without one")
    })?;
    if let Some((w, h)) = size {
        ui.window.window().set_size(slint::PhysicalSize::new(w, h));
    }
    if !windowed {
        ui.window.window().set_fullscreen(true);
    }
    // Report the first frame: the time from start until the event loop first runs.
    let t0 = started;
    slint::Timer::single_shot(std::time::Duration::ZERO, move || {
        eprintln!(
            "first frame after {:.0} ms",
            t0.elapsed().as_secs_f64() * 1000.0
        );
    });
    ui.window.run()?;
    drop(ui);
    drop(running);
    Ok(ExitCode::SUCCESS)
}

fn run_hub(config: Config) -> Result<ExitCode> {
    let db = config.db_path.clone();
    let service = open_service(config.clone())
        .with_context(|| format!("opening the database {}", db.display()))?;
    let (hub, handle) = Hub::start(service);
    let runtime = tokio::runtime::Runtime::new()?;
    start_background(&runtime, &config, &handle);
    runtime.block_on(async {
        let status = handle.status().await?;
        print!("{}", render_status(&config, &status));
        println!(
            "hub running on {} (database {}); Ctrl-C to stop",
            config.site.path(),
            db.display()
        );
        let mut events = handle.subscribe();
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                e = events.recv() => match e {
                    Ok(e) => println!("event {} {} {}", e.kind, e.code.unwrap_or_default(),
                        e.counter.map(|c| format!("counter {c}")).unwrap_or_default()),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        eprintln!("(missed {n} events in the log view)");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
            }
        }
        anyhow::Ok(())
    })?;
    drop(handle);
    hub.join();
    Ok(ExitCode::SUCCESS)
}

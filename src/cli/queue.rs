//! Clerk and citizen actions from the command line: `issue`, `call`, `counter`, `cancel`,
//! `status`, and `check-config`. One-shot actions open the queue service on their own
//! connection (safe beside a running hub: SQLite's write lock serialises them); `issue`
//! goes through the app's hub and printer, the same path as the touchscreen.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;

use super::{Cli, CounterAction, print_result};
use crate::app::{App, Options};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::domain::Channel;
use crate::hub::{IssueRequest, Outcome, QueueService, Status};
use crate::store::Store;

fn open_service(config: Config) -> Result<QueueService> {
    let store = Store::open(&config.db_path)?;
    Ok(QueueService::new(
        Arc::new(config),
        store,
        Arc::new(SystemClock),
    )?)
}

pub struct IssueArgs<'a> {
    pub service: &'a str,
    pub priority: Option<&'a str>,
    pub field: Option<&'a str>,
    pub citizen_id: Option<&'a str>,
    /// 0 = until stopped.
    pub repeat: u64,
    pub print: bool,
    pub json: bool,
}

/// Issue tickets (and print them, with `--print`). A line on stdout means that ticket is
/// durable. SIGTERM or Ctrl-C stops after the ticket in hand. Exit 3: issued, not all printed.
pub fn issue(config: Config, args: IssueArgs<'_>) -> Result<ExitCode> {
    let app = App::start(config, Options::tool())?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        app.runtime().spawn(async move {
            crate::supervise::stop_signal().await;
            stop.store(true, Ordering::SeqCst);
        });
    }
    let ticketing = app.ticketing();
    let req = IssueRequest {
        service_id: args.service.to_string(),
        priority_group: args.priority.map(str::to_string),
        channel: Channel::Cli,
        field: args.field.map(str::to_string),
        citizen_id: args.citizen_id.map(str::to_string),
    };
    let result = app.block_on(async {
        let mut out = std::io::stdout().lock();
        let mut unprinted = 0u64;
        let mut i = 0u64;
        while (args.repeat == 0 || i < args.repeat) && !stop.load(Ordering::SeqCst) {
            let new = ticketing.issue(req.clone()).await?;
            let issued = &new.issued;
            if args.json {
                writeln!(out, "{}", serde_json::to_string(issued)?)?;
            } else {
                let wait = issued
                    .wait
                    .map(|w| format!(", wait {}-{} min", w.low_minutes, w.high_minutes))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "issued {} id={} seq={} ({} ahead{wait})",
                    issued.ticket.code, issued.ticket.id, issued.ticket.seq, issued.people_ahead
                )?;
            }
            out.flush()?;
            if args.print {
                let (printed, unrecorded) = ticketing
                    .print_and_record(&issued.ticket, new.info.clone())
                    .await;
                if let Some(e) = unrecorded {
                    tracing::error!(ticket = %issued.ticket.code, error = %e, "print outcome not recorded");
                }
                if let Err(e) = printed {
                    unprinted += 1;
                    let code = &issued.ticket.code;
                    let (vi, en) = e.status().describe_vi_en();
                    tracing::warn!(
                        ticket = %code, error = %e,
                        "issued but not printed. {vi}: vui lòng ghi nhớ số {code} và đưa cho cán bộ tại quầy. / {en}: please show number {code} at the counter."
                    );
                }
            }
            i += 1;
        }
        anyhow::Ok(unprinted)
    });
    // Our clone of the handles goes first, so the threads see the last one drop in `stop`.
    drop(ticketing);
    app.stop();
    // 3: tickets were issued (they are valid and in the queue) but not all printed.
    Ok(if result? > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn call(config: Config, counter: u32, ticket: Option<&str>, json: bool) -> Result<ExitCode> {
    let mut q = open_service(config)?;
    let outcome = match ticket {
        Some(code) => q.call_ticket(counter, code)?,
        None => q.call_next(counter)?,
    };
    print_outcome(
        &outcome,
        json,
        &format!("counter {counter}: nobody is waiting"),
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn counter(config: Config, c: u32, action: &CounterAction) -> Result<ExitCode> {
    let mut q = open_service(config)?;
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

pub fn cancel(config: Config, code: &str) -> Result<ExitCode> {
    let mut q = open_service(config)?;
    print_outcome(&q.cancel(code)?, false, "")?;
    Ok(ExitCode::SUCCESS)
}

pub fn status(config: Config, json: bool) -> Result<ExitCode> {
    let mut store = Store::open(&config.db_path)?;
    let fault = store.meta(crate::report::FAULT_KEY)?;
    let mut q = open_service(config.clone())?;
    let status = q.status()?;
    print_result(&status, json, |s| {
        let mut text = render_status(&config, s);
        text.push_str(&reporting_line(&config, fault.as_deref()));
        text
    })
}

/// How reporting to the centre is doing, from what the reporter left in the database.
fn reporting_line(config: &Config, fault: Option<&str>) -> String {
    if config.reporting.url.is_none() {
        return "reporting: off (no [reporting] url)\n".into();
    }
    let Some(fault) = fault.and_then(|f| serde_json::from_str::<serde_json::Value>(f).ok()) else {
        return "reporting: ok\n".into();
    };
    format!(
        "reporting: FAILING since {} ({} tries): {}\n",
        fault["since"].as_str().unwrap_or("?"),
        fault["failures"],
        fault["error"].as_str().unwrap_or("?")
    )
}

pub fn check_config(cli: &Cli, files: &[PathBuf]) -> ExitCode {
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
            Ok(c) => {
                println!(
                    "{name}: ok ({} services, {} counters, {} priority groups)",
                    c.services.len(),
                    c.counters.len(),
                    c.priority_groups.len()
                );
                for advice in c.advice() {
                    println!("{name}: advice: {advice}");
                }
            }
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
    // The first column is as wide as the longest name (in characters: NFC Vietnamese is one
    // column per character), so long names never push the figures out of line.
    let labels: Vec<String> = status
        .services
        .iter()
        .map(|q| format!("{} ({})", q.name_vi, q.id))
        .collect();
    let width = labels
        .iter()
        .map(|l| l.chars().count())
        .chain(std::iter::once("service".len()))
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        s,
        "{:<width$} {:>6} {:>7} {:>6} {:>7} {:>5} {:>7} {:>8}  wait (new)",
        "service", "prefix", "waiting", "called", "serving", "done", "no-show", "counters",
    );
    for (q, label) in status.services.iter().zip(&labels) {
        let wait = q
            .wait_for_new
            .map(|w| format!("{}-{} min", w.low_minutes, w.high_minutes))
            .unwrap_or_else(|| "no counter open".into());
        let _ = writeln!(
            s,
            "{:<width$} {:>6} {:>7} {:>6} {:>7} {:>5} {:>7} {:>8}  {}",
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

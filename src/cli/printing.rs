//! The printer from the command line: `print-test`, `printer-status`, `reprint`,
//! `ticket-preview`. Reprints go through `crate::ticketing` like every ticket; the preview
//! draws the next ticket without issuing or recording anything.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};

use crate::app::{App, Options};
use crate::config::Config;
use crate::printer::TicketPrinter;

/// Print a sample ticket and report; exit 3 when it did not print.
pub fn print_test(config: &Config, json: bool) -> Result<ExitCode> {
    let mut p = TicketPrinter::from_config(&config.printer);
    let mut info = crate::printer::layout::sample_ticket();
    info.site_vi = config.site.name.vi.clone();
    info.site_en = config.site.name.en.clone();
    info.footer = config.printer.footer.clone();
    let result = p.print(&info);
    if json {
        let (kind, detail) = crate::ticketing::print_event(&result, &p.describe());
        println!(
            "{}",
            serde_json::json!({ "result": kind, "detail": detail })
        );
    }
    match result {
        Ok(r) => {
            if !json {
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

pub fn printer_status(config: &Config) -> Result<ExitCode> {
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

/// Reprint today's ticket `code`, marked as a reprint, and record it; exit 3 when not printed.
pub fn reprint(config: Config, code: &str) -> Result<ExitCode> {
    let app = App::start(config, Options::tool())?;
    let describe = app.printer.describe().to_string();
    let result = app.block_on(app.ticketing().reprint(code));
    app.stop();
    let (ticket, printed) = result?;
    match printed {
        Ok(r) => {
            println!("reprinted {} ({} bytes)", ticket.code, r.bytes);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{describe}: {e}");
            Ok(ExitCode::from(3))
        }
    }
}

/// The ticket the next citizen of `service` would get, drawn without issuing anything.
pub fn preview(
    config: &Config,
    service: &str,
    priority: Option<&str>,
    out: &Path,
    bin: Option<&Path>,
    width: Option<u32>,
) -> Result<ExitCode> {
    let store = crate::store::Store::open(&config.db_path)?;
    let mut q = crate::hub::QueueService::new(
        std::sync::Arc::new(config.clone()),
        store,
        std::sync::Arc::new(crate::clock::SystemClock),
    )?;
    let status = q.status()?;
    let info = crate::ticketing::preview_next(config, &status, service, priority)?;
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
    Ok(ExitCode::SUCCESS)
}

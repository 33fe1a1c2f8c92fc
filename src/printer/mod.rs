//! Tickets on thermal printers, in layers: `layout` (what the ticket says), `encode` (ESC/POS
//! bytes in raster, code-page or ASCII Vietnamese), `preview` (the same ticket as a PNG),
//! `status` (parsing the printer's replies), `transport` (serial, USB device file, TCP, spool).
//! `TicketPrinter` ties them together: check status, send, report. It knows nothing of queues,
//! the hub or the site config: `crate::ticketing` turns an issued ticket into a `TicketInfo`.

pub mod bitmap;
pub mod encode;
pub mod font;
pub mod layout;
pub mod preview;
pub mod settings;
pub mod status;
pub mod transport;
pub mod vietnamese;
pub mod worker;

use std::time::{Duration, Instant};

use serde::Serialize;

pub use encode::{EncodeOptions, Encoded, VietnameseMode};
pub use layout::{Block, TicketInfo};
pub use settings::{PrinterConfig, TransportConfig};
pub use status::PrinterStatus;
use transport::{
    DeviceFileTransport, Job, SerialTransport, SpoolTransport, TcpTransport, Transport,
};

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("printer not ready: {}", .0.as_str())]
    Fault(PrinterStatus),
    #[error("{0}")]
    Encode(#[from] encode::EncodeError),
    #[error("{0}")]
    Transport(#[from] transport::TransportError),
    /// Everything was handed over, but the printer never said it processed the ticket (cable
    /// pulled or power cut mid-ticket): not printed.
    #[error("the printer did not confirm the ticket within {0} ms (unplugged or off?)")]
    Unconfirmed(u64),
}

impl PrintError {
    /// The printer state to show and record for this failure.
    pub fn status(&self) -> PrinterStatus {
        match self {
            PrintError::Fault(s) => *s,
            PrintError::Encode(_) => PrinterStatus::Offline,
            PrintError::Transport(_) | PrintError::Unconfirmed(_) => PrinterStatus::Unreachable,
        }
    }
}

/// What a successful print did.
#[derive(Debug, Clone, Serialize)]
pub struct PrintReport {
    /// Ready, or PaperNearEnd (printed, but staff should change the roll).
    pub status: PrinterStatus,
    pub bytes: usize,
    pub raster_bytes: usize,
    /// Time to check status and hand the bytes over.
    pub elapsed_ms: f64,
    pub replaced: Vec<char>,
}

pub struct TicketPrinter {
    transport: Box<dyn Transport>,
    options: EncodeOptions,
    check_status: bool,
    status_timeout: Duration,
    confirm: bool,
    last: Option<TicketInfo>,
}

impl TicketPrinter {
    pub fn new(transport: Box<dyn Transport>, config: &PrinterConfig) -> TicketPrinter {
        TicketPrinter {
            transport,
            options: EncodeOptions {
                width_dots: config.paper_width_dots,
                mode: config.vietnamese,
                auto_status_back: config.auto_status_back,
            },
            check_status: config.check_status,
            status_timeout: Duration::from_millis(config.status_timeout_ms),
            confirm: config.confirm,
            last: None,
        }
    }

    /// The transport the config names.
    pub fn from_config(config: &PrinterConfig) -> TicketPrinter {
        let transport: Box<dyn Transport> = match &config.transport {
            TransportConfig::Spool { dir } => Box::new(SpoolTransport::new(dir)),
            TransportConfig::Serial { port, baud, flow } => {
                Box::new(SerialTransport::new(port, *baud, *flow))
            }
            TransportConfig::Usb { device } => Box::new(DeviceFileTransport::new(device)),
            TransportConfig::Tcp { address } => {
                Box::new(TcpTransport::new(address, Duration::from_secs(2)))
            }
        };
        TicketPrinter::new(transport, config)
    }

    pub fn describe(&self) -> String {
        self.transport.describe()
    }

    pub fn options(&self) -> EncodeOptions {
        self.options
    }

    /// Ask the printer how it is: DLE EOT 1, then 2 if offline, then 4 for the paper sensors.
    pub fn status(&mut self) -> PrinterStatus {
        if !self.transport.has_status() {
            return self
                .transport
                .simulated_status()
                .unwrap_or(PrinterStatus::Ready);
        }
        let timeout = self.status_timeout;
        let eot1 = match self.transport.ask(1, timeout) {
            Ok(Some(b)) => b,
            Ok(None) | Err(_) => {
                return self
                    .transport
                    .last_asb()
                    .unwrap_or(PrinterStatus::Unreachable);
            }
        };
        let eot2 = if status::offline_from_eot1(eot1) {
            self.transport.ask(2, timeout).ok().flatten()
        } else {
            None
        };
        let eot4 = self.transport.ask(4, timeout).ok().flatten();
        status::from_replies(eot1, eot2, eot4)
    }

    /// Print a ticket: check the printer first (when configured), then send. On a fault nothing
    /// is sent and the error says which fault.
    pub fn print(&mut self, info: &TicketInfo) -> Result<PrintReport, PrintError> {
        let started = Instant::now();
        let status = if self.check_status || !self.transport.has_status() {
            self.status()
        } else {
            PrinterStatus::Ready
        };
        if !status.can_print() {
            return Err(PrintError::Fault(status));
        }
        let blocks = layout::layout(info);
        let encoded = encode::encode(&blocks, self.options)?;
        let preview = if self.transport.has_status() {
            None // real printers need no picture
        } else {
            let mut png = Vec::new();
            preview::render(&blocks, self.options.width_dots)
                .write_png(&mut png)
                .map_err(|e| transport::TransportError::Write {
                    what: "preview".into(),
                    source: std::io::Error::other(e),
                })?;
            Some(png)
        };
        let name = format!(
            "{}-{}",
            info.issued_local.format("%Y%m%d-%H%M%S"),
            sanitize(&info.code)
        );
        let name = if info.reprint {
            format!("{name}-reprint")
        } else {
            name
        };
        self.transport.send(&Job {
            name: &name,
            bytes: &encoded.bytes,
            preview_png: preview.as_deref(),
        })?;
        if self.confirm && self.transport.has_status() {
            // Long enough for the bytes still in the line's buffers (twice their time on the
            // wire) and the print and cut themselves (~1.5 s for a long ticket).
            let wait = self.status_timeout
                + 2 * self.transport.line_time(encoded.bytes.len())
                + Duration::from_millis(1500);
            if self.transport.confirm(wait)?.is_none() {
                return Err(PrintError::Unconfirmed(wait.as_millis() as u64));
            }
        }
        self.last = Some(info.clone());
        Ok(PrintReport {
            status,
            bytes: encoded.bytes.len(),
            raster_bytes: encoded.raster_bytes,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
            replaced: encoded.replaced,
        })
    }

    /// Print the last ticket again, marked as a reprint.
    pub fn reprint_last(&mut self) -> Option<Result<PrintReport, PrintError>> {
        let mut info = self.last.clone()?;
        info.reprint = true;
        Some(self.print(&info))
    }
}

fn sanitize(code: &str) -> String {
    code.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

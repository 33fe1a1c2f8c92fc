//! The printer's settings, as the site config's `[printer]` table fills them. They belong to the
//! printer (the config reader depends on this module, never the other way round).

use std::path::PathBuf;

use super::VietnameseMode;
use super::transport::FlowControl;

/// Where tickets go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportConfig {
    /// Files in a folder (`.bin` bytes + `.png` preview): the demo default.
    Spool { dir: PathBuf },
    Serial {
        port: String,
        baud: u32,
        flow: FlowControl,
    },
    /// A USB printer-class device file.
    Usb { device: PathBuf },
    /// Raw TCP, `host:port`.
    Tcp { address: String },
}

#[derive(Debug, Clone)]
pub struct PrinterConfig {
    /// Free text for reports (e.g. "Xprinter XP-80C").
    pub model: String,
    pub transport: TransportConfig,
    /// 576 (80 mm, 203 dpi), 512 (80 mm, Epson 180 dpi) or 384 (58 mm).
    pub paper_width_dots: u32,
    pub vietnamese: VietnameseMode,
    /// Ask DLE EOT status before each ticket.
    pub check_status: bool,
    pub status_timeout_ms: u64,
    /// After each ticket, ask the printer (GS r 1, answered only once everything before it,
    /// the cut included, was processed) and count a ticket printed only when it answers.
    pub confirm: bool,
    pub auto_status_back: bool,
    /// QR content template: {site}, {day}, {code}, {id}. None prints no QR code.
    pub qr_payload: Option<String>,
    pub footer: Vec<String>,
}

impl PrinterConfig {
    /// The demo's printer: files in `kiosk-data/spool`, raster Vietnamese, 80 mm.
    pub fn spool_default() -> PrinterConfig {
        PrinterConfig {
            model: "spool".into(),
            transport: TransportConfig::Spool {
                dir: PathBuf::from("kiosk-data/spool"),
            },
            paper_width_dots: 576,
            vietnamese: VietnameseMode::Raster,
            check_status: true,
            status_timeout_ms: 500,
            confirm: true,
            auto_status_back: false,
            qr_payload: None,
            footer: Vec::new(),
        }
    }
}

//! Ticket blocks -> ESC/POS bytes, in one of three Vietnamese modes. Pure: bytes out, no I/O.
//!
//! What comes from the `escpos` crate (driven through its `Printer` over an in-memory driver):
//! initialise (ESC @), justification (ESC a), emphasis (ESC E), character size (GS !),
//! line feeds (ESC d), the QR code (GS ( k model, size, error level, store, print) and the cut
//! (GS V A). What we write ourselves, because the crate lacks it: Vietnamese text (its WPC1258
//! table fails on real text, it has no TCVN-3), raster images from our own 1-bit renderer
//! (GS v 0, without pulling the `image` crate), fine feeds in dots (ESC J), font selection
//! (ESC M), cancelling Chinese double-byte mode (FS .), and Automatic Status Back (GS a).

use std::cell::RefCell;
use std::rc::Rc;

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::utils::{JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption};

use super::bitmap::{Bitmap, defuse_realtime_patterns};
use super::font::{self, Weight};
use super::layout::{Block, Size};
use super::vietnamese::encode_tcvn3;
use crate::text::to_ascii;

/// How Vietnamese reaches the paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VietnameseMode {
    /// Lines with Vietnamese letters become 1-bit images; ASCII lines stay text. Works everywhere.
    Raster,
    /// Text in TCVN-3, switching between the lower-case and capitals tables (ESC t numbers).
    Codepage { lower: u8, upper: u8 },
    /// Tones stripped: readable, not correct. Last resort.
    Ascii,
}

/// Each mode once, named, with Epson's TCVN-3 tables: for benchmarks and tests.
pub const EVERY_MODE: [(&str, VietnameseMode); 3] = [
    ("raster", VietnameseMode::Raster),
    (
        "codepage",
        VietnameseMode::Codepage {
            lower: 30,
            upper: 31,
        },
    ),
    ("ascii", VietnameseMode::Ascii),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    pub width_dots: u32,
    pub mode: VietnameseMode,
    /// Send GS a to have the printer report status changes by itself.
    pub auto_status_back: bool,
}

/// The bytes for one ticket, with what it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// Bytes that are raster image data.
    pub raster_bytes: usize,
    /// Characters the mode could not print and replaced (logged by the caller).
    pub replaced: Vec<char>,
    /// Image bytes altered to avoid real-time command patterns.
    pub defused: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("escpos: {0}")]
    Escpos(String),
    #[error("QR payload of {0} bytes is too long for a ticket (at most 300)")]
    QrTooLong(usize),
}

impl From<escpos::errors::PrinterError> for EncodeError {
    fn from(e: escpos::errors::PrinterError) -> Self {
        EncodeError::Escpos(e.to_string())
    }
}

/// An escpos driver that collects the bytes instead of sending them.
#[derive(Clone, Default)]
struct Collect(Rc<RefCell<Vec<u8>>>);

impl Driver for Collect {
    fn name(&self) -> String {
        "collect".into()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;

/// Raster text heights in dots (em size) per block size.
pub fn raster_px(size: Size) -> f32 {
    match size {
        Size::Small => 20.0,
        Size::Normal => 24.0,
        Size::Large => 34.0,
    }
}

/// Native font cell width in dots and GS ! magnification for a block size.
fn native_cell(size: Size) -> (u32, u8) {
    match size {
        Size::Small => (9, 1),   // font B
        Size::Normal => (12, 1), // font A
        Size::Large => (12, 2),  // font A, double width and height
    }
}

/// Wrap text to a number of character cells, at spaces.
fn wrap_chars(text: &str, cells: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let len = current.chars().count();
        if len > 0 && len + 1 + word.chars().count() > cells {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// The magnification for the ticket number so that it fills the paper without wrapping.
fn number_magnification(code: &str, width_dots: u32) -> u8 {
    let chars = code.chars().count().max(1) as u32;
    // Font A is 12 dots wide; keep a margin of two cells.
    let fit = width_dots / (12 * (chars + 1));
    fit.clamp(1, 4) as u8
}

struct Writer {
    printer: Printer<Collect>,
    out: Collect,
    opts: EncodeOptions,
    raster_bytes: usize,
    replaced: Vec<char>,
    defused: usize,
    /// The ESC t table last selected, to avoid repeating it.
    table: Option<u8>,
    /// Font (0 = A, 1 = B), emphasis and magnification in force.
    current: (u8, bool, u8),
}

impl Writer {
    fn raw(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.printer.custom(bytes)?;
        Ok(())
    }

    /// Select font, emphasis and magnification, sending only what changes.
    fn style(&mut self, font: u8, bold: bool, mag: u8) -> Result<(), EncodeError> {
        let (cur_font, cur_bold, cur_mag) = self.current;
        if font != cur_font {
            self.raw(&[ESC, b'M', font])?;
        }
        if bold != cur_bold {
            self.printer.bold(bold)?;
        }
        if mag != cur_mag {
            self.printer.size(mag, mag)?;
        }
        self.current = (font, bold, mag);
        Ok(())
    }

    fn style_for(&mut self, size: Size, bold: bool) -> Result<(), EncodeError> {
        let (_, mag) = native_cell(size);
        let font = u8::from(size == Size::Small);
        self.style(font, bold, mag)
    }

    /// One line of text in the native font; `bytes` are already in the printer's code page.
    fn native_line(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.raw(bytes)?;
        self.raw(b"\n")
    }

    fn text_block(&mut self, text: &str, size: Size, bold: bool) -> Result<(), EncodeError> {
        let text = crate::text::nfc(text);
        let ascii_only = text.is_ascii();
        match self.opts.mode {
            VietnameseMode::Raster if !ascii_only => self.raster_text(&text, size, bold),
            VietnameseMode::Codepage { lower, upper } if !ascii_only => {
                self.codepage_text(&text, size, bold, lower, upper)
            }
            _ => {
                let text = if ascii_only {
                    text
                } else {
                    self.replaced.extend(text.chars().filter(|c| !c.is_ascii()));
                    to_ascii(&text)
                };
                self.ascii_text(&text, size, bold)
            }
        }
    }

    fn cells(&self, size: Size) -> usize {
        let (cell, mag) = native_cell(size);
        (self.opts.width_dots / (cell * u32::from(mag))).max(1) as usize
    }

    fn ascii_text(&mut self, text: &str, size: Size, bold: bool) -> Result<(), EncodeError> {
        self.style_for(size, bold)?;
        for line in wrap_chars(text, self.cells(size)) {
            self.native_line(line.as_bytes())?;
        }
        Ok(())
    }

    fn codepage_text(
        &mut self,
        text: &str,
        size: Size,
        bold: bool,
        lower: u8,
        upper: u8,
    ) -> Result<(), EncodeError> {
        self.style_for(size, bold)?;
        for line in wrap_chars(text, self.cells(size)) {
            let (runs, folded) = encode_tcvn3(&line, lower, upper);
            self.replaced.extend(folded);
            for (table, bytes) in runs {
                if self.table != Some(table) {
                    self.raw(&[ESC, b't', table])?;
                    self.table = Some(table);
                }
                self.raw(&bytes)?;
            }
            self.raw(b"\n")?;
        }
        Ok(())
    }

    fn raster_text(&mut self, text: &str, size: Size, bold: bool) -> Result<(), EncodeError> {
        let px = raster_px(size);
        let weight = if bold { Weight::Bold } else { Weight::Regular };
        let max = self.opts.width_dots as f32 - 8.0;
        for line in font::wrap(text, px, weight, max) {
            let img = font::render_line(&line, px, weight).cropped();
            self.image(&img)?;
            // Line gap: a fifth of the em, in dots.
            self.raw(&[ESC, b'J', (px / 5.0).round() as u8])?;
        }
        Ok(())
    }

    /// A centred raster image (GS v 0), clipped to the paper width.
    fn image(&mut self, img: &Bitmap) -> Result<(), EncodeError> {
        let img = if img.width > self.opts.width_dots as usize {
            let mut clipped = Bitmap::new(self.opts.width_dots as usize, img.height);
            clipped.blit(img, 0, 0);
            clipped
        } else {
            img.clone()
        };
        let (width_bytes, mut data) = img.raster_rows();
        self.defused += defuse_realtime_patterns(&mut data);
        self.printer.justify(JustifyMode::CENTER)?;
        let header = [
            GS,
            b'v',
            b'0',
            0,
            (width_bytes & 0xFF) as u8,
            (width_bytes >> 8) as u8,
            (img.height & 0xFF) as u8,
            (img.height >> 8) as u8,
        ];
        self.raw(&header)?;
        self.raster_bytes += data.len();
        self.raw(&data)
    }

    fn number(&mut self, code: &str) -> Result<(), EncodeError> {
        let mag = number_magnification(code, self.opts.width_dots);
        self.style(0, true, mag)?;
        self.native_line(to_ascii(code).as_bytes())
    }

    fn qr(&mut self, data: &str) -> Result<(), EncodeError> {
        if data.len() > 300 {
            return Err(EncodeError::QrTooLong(data.len()));
        }
        // Module size: 6 dots on 80 mm paper, 5 on 58 mm; error level M survives a crease.
        let module = if self.opts.width_dots >= 512 { 6 } else { 5 };
        self.printer.qrcode_option(
            data,
            QRCodeOption::new(QRCodeModel::Model2, module, QRCodeCorrectionLevel::M),
        )?;
        // GS ( k print leaves the head at the start of a line; a small feed separates.
        self.raw(&[ESC, b'J', 8])
    }

    fn rule(&mut self) -> Result<(), EncodeError> {
        // Half the paper: enough to separate, half the bytes of a full-width line.
        let cells = self.cells(Size::Small) / 2;
        self.style_for(Size::Small, false)?;
        self.native_line("-".repeat(cells.min(32)).as_bytes())
    }
}

/// Encode a ticket.
pub fn encode(blocks: &[Block], opts: EncodeOptions) -> Result<Encoded, EncodeError> {
    let out = Collect::default();
    let printer = Printer::new(out.clone(), Protocol::default(), None);
    let mut w = Writer {
        printer,
        out,
        opts,
        raster_bytes: 0,
        replaced: Vec::new(),
        defused: 0,
        table: None,
        current: (0, false, 1),
    };
    w.printer.init()?;
    // Chinese-market clones start in double-byte mode; bytes >= 0x80 must be single-byte here.
    w.raw(&[FS, b'.'])?;
    if opts.auto_status_back {
        // Report drawer, online, error and paper-sensor changes by themselves.
        w.raw(&[GS, b'a', 0x0F])?;
    }
    w.printer.justify(JustifyMode::CENTER)?;
    for block in blocks {
        match block {
            Block::Text { text, size, bold } => w.text_block(text, *size, *bold)?,
            Block::Number(code) => w.number(code)?,
            Block::Qr(data) => w.qr(data)?,
            Block::Rule => w.rule()?,
        }
    }
    w.printer.feeds(3)?;
    w.printer.print_cut()?;
    let bytes = w.out.0.borrow().clone();
    Ok(Encoded {
        bytes,
        raster_bytes: w.raster_bytes,
        replaced: w.replaced,
        defused: w.defused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::layout::{layout, sample_ticket};

    fn opts(mode: VietnameseMode) -> EncodeOptions {
        EncodeOptions {
            width_dots: 576,
            mode,
            auto_status_back: false,
        }
    }

    #[test]
    fn starts_with_init_and_ends_with_feed_and_cut() {
        let e = encode(&[], opts(VietnameseMode::Raster)).unwrap();
        assert_eq!(&e.bytes[..4], &[ESC, b'@', FS, b'.']);
        assert!(e.bytes.ends_with(&[ESC, b'd', 3, GS, b'V', b'A', 0]));
    }

    #[test]
    fn ascii_lines_stay_text_even_in_raster_mode() {
        let blocks = vec![Block::Text {
            text: "Civil status".into(),
            size: Size::Small,
            bold: false,
        }];
        let e = encode(&blocks, opts(VietnameseMode::Raster)).unwrap();
        assert_eq!(e.raster_bytes, 0);
        assert!(e.bytes.windows(13).any(|w| w == b"Civil status\n"));
    }

    #[test]
    fn vietnamese_becomes_raster_in_raster_mode() {
        let blocks = vec![Block::Text {
            text: "Hộ tịch".into(),
            size: Size::Large,
            bold: true,
        }];
        let e = encode(&blocks, opts(VietnameseMode::Raster)).unwrap();
        assert!(e.raster_bytes > 100);
        assert!(e.bytes.windows(3).any(|w| w == [GS, b'v', b'0']));
        assert!(e.replaced.is_empty());
    }

    #[test]
    fn codepage_mode_switches_tables_for_capitals() {
        let blocks = vec![Block::Text {
            text: "ƯU TIÊN: Người cao tuổi".into(),
            size: Size::Normal,
            bold: true,
        }];
        let e = encode(
            &blocks,
            opts(VietnameseMode::Codepage {
                lower: 30,
                upper: 31,
            }),
        )
        .unwrap();
        assert_eq!(e.raster_bytes, 0);
        let t31 = e
            .bytes
            .windows(3)
            .position(|w| w == [ESC, b't', 31])
            .unwrap();
        let t30 = e
            .bytes
            .windows(3)
            .position(|w| w == [ESC, b't', 30])
            .unwrap();
        assert!(t31 < t30, "capitals first, then lower case");
    }

    #[test]
    fn ascii_mode_strips_tones_and_reports_them() {
        let blocks = vec![Block::Text {
            text: "Hộ tịch".into(),
            size: Size::Normal,
            bold: false,
        }];
        let e = encode(&blocks, opts(VietnameseMode::Ascii)).unwrap();
        assert!(e.bytes.windows(8).any(|w| w == b"Ho tich\n"));
        assert_eq!(e.replaced, vec!['ộ', 'ị']);
    }

    #[test]
    fn number_is_as_large_as_the_paper_allows() {
        assert_eq!(number_magnification("A023", 576), 4);
        assert_eq!(number_magnification("A023", 384), 4);
        assert_eq!(number_magnification("DD0001", 384), 4);
        assert_eq!(number_magnification("DD00001", 384), 4);
        assert_eq!(number_magnification("DD000001", 384), 3);
    }

    #[test]
    fn wrap_chars_breaks_at_word_boundaries() {
        assert_eq!(
            wrap_chars("Kim Lien Ward Public Service Point", 16),
            vec!["Kim Lien Ward", "Public Service", "Point"]
        );
    }

    #[test]
    fn overlong_qr_payload_is_refused() {
        let blocks = vec![Block::Qr("x".repeat(301))];
        assert!(matches!(
            encode(&blocks, opts(VietnameseMode::Raster)),
            Err(EncodeError::QrTooLong(301))
        ));
    }

    /// Writes the sample ticket in every mode to $KIOSK_DUMP_DIR, for looking at by hand.
    #[test]
    fn dump_samples_when_asked() {
        let Ok(dir) = std::env::var("KIOSK_DUMP_DIR") else {
            return;
        };
        let blocks = layout(&sample_ticket());
        for (name, mode) in EVERY_MODE {
            let e = encode(&blocks, opts(mode)).unwrap();
            std::fs::write(format!("{dir}/{name}.bin"), &e.bytes).unwrap();
        }
    }

    #[test]
    fn sample_ticket_fits_the_byte_budgets() {
        let blocks = layout(&sample_ticket());
        let raster = encode(&blocks, opts(VietnameseMode::Raster)).unwrap();
        let codepage = encode(
            &blocks,
            opts(VietnameseMode::Codepage {
                lower: 30,
                upper: 31,
            }),
        )
        .unwrap();
        assert!(
            raster.bytes.len() <= 8 * 1024,
            "raster {} bytes",
            raster.bytes.len()
        );
        assert!(
            codepage.bytes.len() <= 600,
            "codepage {} bytes",
            codepage.bytes.len()
        );
    }
}

//! Ticket blocks -> a picture of the printed ticket at printer resolution (PNG), for the kiosk
//! screen and reviewers. Raster lines are drawn exactly as they are sent; native text, the
//! number and the QR code are drawn with our font and the `qrcode` crate at the sizes the
//! printer uses. Pure apart from writing the PNG.

use qrcode::{EcLevel, QrCode};

use super::bitmap::Bitmap;
use super::encode::raster_px;
use super::font::{self, Weight};
use super::layout::Block;

/// Margin above and below the ticket, in dots.
const MARGIN: usize = 16;

/// Draw the ticket `width_dots` wide.
pub fn render(blocks: &[Block], width_dots: u32) -> Bitmap {
    let width = width_dots as usize;
    // Draw each piece, then stack them centred.
    let mut pieces: Vec<(Bitmap, usize)> = Vec::new(); // (image, gap below)
    for block in blocks {
        match block {
            Block::Text { text, size, bold } => {
                let px = raster_px(*size);
                let weight = if *bold { Weight::Bold } else { Weight::Regular };
                for line in font::wrap(text, px, weight, width as f32 - 8.0) {
                    let img = font::render_line(&line, px, weight).cropped();
                    pieces.push((img, (px / 5.0).round() as usize + 2));
                }
            }
            Block::Number(code) => {
                // The printer's font A at 4x is 96 dots tall; draw the digits that size.
                let img = font::render_line(code, 110.0, Weight::Bold).cropped();
                pieces.push((img, 16));
            }
            Block::Qr(data) => {
                let module = if width_dots >= 512 { 6 } else { 5 };
                if let Some(img) = qr_bitmap(data, module) {
                    pieces.push((img, 12));
                }
            }
            Block::Rule => {
                let mut img = Bitmap::new(width / 2, 2);
                img.fill_rect(0, 0, width / 2, 2);
                pieces.push((img, 10));
            }
        }
    }
    let height = MARGIN * 2
        + pieces
            .iter()
            .map(|(img, gap)| img.height + gap)
            .sum::<usize>();
    let mut out = Bitmap::new(width, height);
    let mut y = MARGIN;
    for (img, gap) in &pieces {
        let x = width.saturating_sub(img.width) / 2;
        out.blit(img, x, y);
        y += img.height + gap;
    }
    out
}

/// A QR code with a 4-module quiet zone, `module` dots per module; same EC level as printed.
pub fn qr_bitmap(data: &str, module: usize) -> Option<Bitmap> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).ok()?;
    let n = code.width();
    let colors = code.to_colors();
    let quiet = 4;
    let size = (n + 2 * quiet) * module;
    let mut img = Bitmap::new(size, size);
    for y in 0..n {
        for x in 0..n {
            if colors[y * n + x] == qrcode::Color::Dark {
                img.fill_rect((x + quiet) * module, (y + quiet) * module, module, module);
            }
        }
    }
    Some(img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::layout::{layout, sample_ticket};

    #[test]
    fn preview_is_paper_wide_and_has_ink() {
        let img = render(&layout(&sample_ticket()), 576);
        assert_eq!(img.width, 576);
        let (x, _, w, _) = img.ink_box().unwrap();
        assert!(x >= 4 && x + w <= 572, "ink reaches the edge: {x}+{w}");
        assert!(img.height > 600);
    }

    #[test]
    fn qr_has_a_quiet_zone() {
        let img = qr_bitmap("https://dichvucong.hanoi.gov.vn/", 6).unwrap();
        let (x, y, _, _) = img.ink_box().unwrap();
        assert_eq!((x, y), (24, 24));
    }
}

//! A 1-bit image at printer resolution, and the two ways out of it: ESC/POS raster rows
//! (`GS v 0` payload) and PNG. Pure; depends on `png` for writing only.

use std::io::Write;

/// Black-and-white pixels, row-major; `true` is a printed (black) dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    pub width: usize,
    pub height: usize,
    pixels: Vec<bool>,
}

impl Bitmap {
    pub fn new(width: usize, height: usize) -> Bitmap {
        Bitmap {
            width,
            height,
            pixels: vec![false; width * height],
        }
    }

    pub fn get(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.height && self.pixels[y * self.width + x]
    }

    pub fn set(&mut self, x: usize, y: usize, black: bool) {
        if x < self.width && y < self.height {
            self.pixels[y * self.width + x] = black;
        }
    }

    pub fn fill_rect(&mut self, x: usize, y: usize, w: usize, h: usize) {
        for yy in y..(y + h).min(self.height) {
            for xx in x..(x + w).min(self.width) {
                self.pixels[yy * self.width + xx] = true;
            }
        }
    }

    /// Copy `other` onto this bitmap with its top-left corner at (x, y); black wins.
    pub fn blit(&mut self, other: &Bitmap, x: usize, y: usize) {
        for yy in 0..other.height {
            for xx in 0..other.width {
                if other.get(xx, yy) {
                    self.set(x + xx, y + yy, true);
                }
            }
        }
    }

    /// The smallest rectangle holding every black dot: (x, y, w, h), or None when blank.
    pub fn ink_box(&self) -> Option<(usize, usize, usize, usize)> {
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for y in 0..self.height {
            for x in 0..self.width {
                if self.pixels[y * self.width + x] {
                    x0 = x0.min(x);
                    y0 = y0.min(y);
                    x1 = x1.max(x);
                    y1 = y1.max(y);
                }
            }
        }
        (x0 != usize::MAX).then(|| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
    }

    /// A copy cut down to the ink (a blank bitmap stays 1x1 blank).
    pub fn cropped(&self) -> Bitmap {
        let Some((x, y, w, h)) = self.ink_box() else {
            return Bitmap::new(1, 1);
        };
        let mut out = Bitmap::new(w, h);
        for yy in 0..h {
            for xx in 0..w {
                out.set(xx, yy, self.get(x + xx, y + yy));
            }
        }
        out
    }

    /// Rows packed MSB-first, 8 dots a byte, each row padded to whole bytes: the `GS v 0` data.
    pub fn raster_rows(&self) -> (usize, Vec<u8>) {
        let width_bytes = self.width.div_ceil(8);
        let mut out = vec![0u8; width_bytes * self.height];
        for y in 0..self.height {
            for x in 0..self.width {
                if self.pixels[y * self.width + x] {
                    out[y * width_bytes + x / 8] |= 0x80 >> (x % 8);
                }
            }
        }
        (width_bytes, out)
    }

    /// Write as an 8-bit grayscale PNG (black ink on white paper).
    pub fn write_png(&self, out: impl Write) -> Result<(), png::EncodingError> {
        let mut encoder = png::Encoder::new(out, self.width as u32, self.height as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        let data: Vec<u8> = self
            .pixels
            .iter()
            .map(|&black| if black { 0 } else { 255 })
            .collect();
        writer.write_image_data(&data)?;
        writer.finish()
    }
}

/// Break byte sequences that a printer would execute as real-time commands (DLE EOT n,
/// DLE ENQ n, DLE DC4 n) inside image data, by clearing one dot of the DLE byte. Epson printers
/// scan the raw stream for these even inside graphics; one missing dot in a glyph is invisible,
/// a printer that answers a status request in the middle of a ticket is not.
pub fn defuse_realtime_patterns(data: &mut [u8]) -> usize {
    let mut fixed = 0;
    let mut k = 0;
    while k + 2 < data.len() {
        let (a, b, c) = (data[k], data[k + 1], data[k + 2]);
        let hit = a == 0x10
            && ((b == 0x04 && (1..=4).contains(&c))
                || (b == 0x05 && (1..=4).contains(&c))
                || (b == 0x14 && (1..=8).contains(&c)));
        if hit {
            data[k] = 0x00;
            fixed += 1;
        }
        k += 1;
    }
    fixed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_pack_msb_first_and_pad_to_bytes() {
        let mut b = Bitmap::new(10, 2);
        b.set(0, 0, true);
        b.set(9, 0, true);
        b.set(7, 1, true);
        let (w, data) = b.raster_rows();
        assert_eq!(w, 2);
        assert_eq!(data, vec![0x80, 0x40, 0x01, 0x00]);
    }

    #[test]
    fn crop_keeps_only_the_ink() {
        let mut b = Bitmap::new(20, 10);
        b.fill_rect(5, 3, 4, 2);
        let c = b.cropped();
        assert_eq!((c.width, c.height), (4, 2));
        assert_eq!(b.ink_box(), Some((5, 3, 4, 2)));
        assert_eq!(Bitmap::new(3, 3).cropped(), Bitmap::new(1, 1));
    }

    #[test]
    fn realtime_patterns_are_broken_and_others_left_alone() {
        let mut data = vec![0x10, 0x04, 0x01, 0x10, 0x04, 0x09, 0x10, 0x14, 0x08, 0xFF];
        assert_eq!(defuse_realtime_patterns(&mut data), 2);
        assert_eq!(
            data,
            vec![0x00, 0x04, 0x01, 0x10, 0x04, 0x09, 0x00, 0x14, 0x08, 0xFF]
        );
    }

    #[test]
    fn png_has_the_signature_and_size() {
        let mut out = Vec::new();
        Bitmap::new(8, 4).write_png(&mut out).unwrap();
        assert_eq!(&out[..8], b"\x89PNG\r\n\x1a\n");
        // IHDR width and height, big-endian.
        assert_eq!(&out[16..24], &[0, 0, 0, 8, 0, 0, 0, 4]);
    }
}

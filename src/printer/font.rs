//! Vietnamese text to 1-bit pixels with the embedded Be Vietnam Pro (SIL OFL 1.1, licence in
//! assets/fonts/OFL.txt). NFC Vietnamese needs no shaping engine: every letter with its tone is
//! one precomposed glyph in this font, so glyph-by-glyph layout with kerning is exact.
//! Depends on ab_glyph; no printer knowledge.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};

use super::bitmap::Bitmap;
use crate::text::nfc;

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/BeVietnamPro-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/BeVietnamPro-Bold.ttf");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

fn font(weight: Weight) -> FontRef<'static> {
    let bytes = match weight {
        Weight::Regular => REGULAR,
        Weight::Bold => BOLD,
    };
    // The fonts are compiled in and checked by a unit test; a failure here is a build defect.
    FontRef::try_from_slice(bytes).unwrap_or_else(|e| panic!("embedded font is invalid: {e}"))
}

/// Width in pixels of `text` set at `px` (em size).
pub fn text_width(text: &str, px: f32, weight: Weight) -> f32 {
    let f = font(weight);
    let scaled = f.as_scaled(PxScale::from(px));
    let mut width = 0.0;
    let mut prev = None;
    for ch in nfc(text).chars() {
        let id = scaled.glyph_id(ch);
        if let Some(p) = prev {
            width += scaled.kern(p, id);
        }
        width += scaled.h_advance(id);
        prev = Some(id);
    }
    width
}

/// Render one line of text, uncropped: the full line box (ascent to descent) and advance width.
pub fn render_line(text: &str, px: f32, weight: Weight) -> Bitmap {
    let f = font(weight);
    let scaled = f.as_scaled(PxScale::from(px));
    let ascent = scaled.ascent();
    let height = (ascent - scaled.descent()).ceil().max(1.0) as usize;
    let width = text_width(text, px, weight).ceil().max(1.0) as usize + 2;
    let mut bmp = Bitmap::new(width, height);
    let mut x = 0.0f32;
    let mut prev = None;
    for ch in nfc(text).chars() {
        let id = scaled.glyph_id(ch);
        if let Some(p) = prev {
            x += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(PxScale::from(px), ab_glyph::point(x, ascent));
        if let Some(outline) = f.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, coverage| {
                // Thermal dots are on or off; 45 % keeps thin strokes of small text.
                if coverage >= 0.45 {
                    let px_x = bounds.min.x as i64 + i64::from(gx);
                    let px_y = bounds.min.y as i64 + i64::from(gy);
                    if px_x >= 0 && px_y >= 0 {
                        bmp.set(px_x as usize, px_y as usize, true);
                    }
                }
            });
        }
        x += scaled.h_advance(id);
        prev = Some(id);
    }
    bmp
}

/// Split `text` into lines no wider than `max_px`, at spaces; a single word wider than the
/// line is kept whole (it will be clipped by the caller's width).
pub fn wrap(text: &str, px: f32, weight: Weight, max_px: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if !current.is_empty() && text_width(&candidate, px, weight) > max_px {
            lines.push(std::mem::take(&mut current));
            current = word.to_string();
        } else {
            current = candidate;
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// Does the font have a glyph for every character of `text`?
pub fn covers(text: &str, weight: Weight) -> bool {
    let f = font(weight);
    nfc(text)
        .chars()
        .filter(|c| !c.is_whitespace())
        .all(|c| f.glyph_id(c).0 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every Vietnamese letter with every tone, lower and upper case.
    const ALL_VIETNAMESE: &str = "aàảãáạăằẳẵắặâầẩẫấậeèẻẽéẹêềểễếệiìỉĩíịoòỏõóọôồổỗốộơờởỡớợ\
        uùủũúụưừửữứựyỳỷỹýỵđAÀẢÃÁẠĂẰẲẴẮẶÂẦẨẪẤẬEÈẺẼÉẸÊỀỂỄẾỆIÌỈĨÍỊOÒỎÕÓỌÔỒỔỖỐỘƠỜỞỠỚỢ\
        UÙỦŨÚỤƯỪỬỮỨỰYỲỶỸÝỴĐ";

    #[test]
    fn embedded_fonts_cover_all_vietnamese_letters() {
        // 12 vowels x 6 tone forms + đ, in both cases.
        assert_eq!(ALL_VIETNAMESE.chars().count(), 146);
        assert!(covers(ALL_VIETNAMESE, Weight::Regular));
        assert!(covers(ALL_VIETNAMESE, Weight::Bold));
        assert!(!covers("漢", Weight::Regular));
    }

    #[test]
    fn rendered_text_has_ink_and_tones_add_height() {
        let plain = render_line("a", 32.0, Weight::Regular).cropped();
        let toned = render_line("ấ", 32.0, Weight::Regular).cropped();
        assert!(plain.height > 5);
        assert!(
            toned.height > plain.height + 5,
            "{} vs {}",
            toned.height,
            plain.height
        );
    }

    #[test]
    fn decomposed_input_renders_like_precomposed() {
        let pre = render_line("Hộ tịch", 24.0, Weight::Bold);
        let decomposed = render_line("Ho\u{0323}\u{0302} ti\u{0323}ch", 24.0, Weight::Bold);
        assert_eq!(pre, decomposed);
    }

    #[test]
    fn wrap_breaks_at_spaces_within_the_width() {
        let text = "Trung tâm phục vụ hành chính công phường Kim Liên";
        let lines = wrap(text, 24.0, Weight::Bold, 300.0);
        assert!(lines.len() >= 2);
        assert_eq!(lines.join(" "), text);
        for l in &lines {
            assert!(text_width(l, 24.0, Weight::Bold) <= 300.0, "{l}");
        }
    }
}

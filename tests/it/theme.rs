//! The kiosk's colour pairs meet WCAG 2.1's contrast ratios in both modes, computed from
//! ui/theme.slint itself: 4.5:1 for text (1.4.3), 3:1 for the outline of a control (1.4.11).

use std::collections::HashMap;
use std::path::Path;

/// Relative luminance of an sRGB colour (WCAG 2.1 definition).
fn luminance(rgb: [u8; 3]) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])
}

fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

fn hex(s: &str) -> [u8; 3] {
    let s = s.trim_start_matches('#');
    assert_eq!(s.len(), 6, "colour #{s}: expected #rrggbb");
    let byte = |i: usize| u8::from_str_radix(&s[i..i + 2], 16).unwrap();
    [byte(0), byte(2), byte(4)]
}

/// `name -> (high contrast, normal)` for every `out property <color> name: high-contrast ? #a : #b;`.
fn palette() -> HashMap<String, ([u8; 3], [u8; 3])> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/theme.slint"))
            .unwrap();
    let mut out = HashMap::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("out property <color> ") else {
            continue;
        };
        let (name, value) = rest.split_once(':').unwrap();
        let value = value.trim().trim_end_matches(';');
        let (hc, normal) = value
            .strip_prefix("high-contrast ?")
            .and_then(|v| v.split_once(':'))
            .unwrap_or_else(|| panic!("{name}: expected `high-contrast ? #hc : #normal`"));
        out.insert(
            name.trim().to_string(),
            (hex(hc.trim()), hex(normal.trim())),
        );
    }
    out
}

#[test]
fn wcag_formula_gives_the_known_ratios() {
    assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 1e-9);
    assert!((contrast([255, 255, 255], [255, 255, 255]) - 1.0).abs() < 1e-9);
    // #767676 on white is the well-known 4.54:1.
    assert!((contrast(hex("#767676"), [255, 255, 255]) - 4.54).abs() < 0.01);
}

#[test]
fn every_theme_pair_meets_wcag_contrast_in_both_modes() {
    let p = palette();
    assert!(p.len() >= 15, "palette read: {:?}", p.keys());
    // (foreground, background, minimum ratio)
    let pairs = [
        ("text", "background", 4.5),
        ("text", "surface", 4.5),
        ("text", "tile", 4.5),
        ("text", "tile-pressed", 4.5),
        ("text", "warning-bg", 4.5),
        ("text-muted", "background", 4.5),
        ("text-muted", "surface", 4.5),
        ("primary", "surface", 4.5),
        ("primary", "background", 4.5),
        ("accent", "surface", 4.5),
        ("accent", "background", 4.5),
        ("on-primary", "primary", 4.5),
        ("on-primary", "primary-pressed", 4.5),
        ("on-primary", "disabled-text", 4.5),
        ("on-accent", "accent", 4.5),
        ("warning-text", "warning-bg", 4.5),
        ("disabled-text", "background", 4.5),
        ("disabled-text", "tile", 4.5),
        ("border", "background", 3.0),
        ("border", "tile", 3.0),
    ];
    let mut failures = Vec::new();
    for (fg, bg, min) in pairs {
        let (f, b) = (p[fg], p[bg]);
        for (mode, f, b) in [("normal", f.1, b.1), ("high contrast", f.0, b.0)] {
            let ratio = contrast(f, b);
            if ratio < min {
                failures.push(format!(
                    "{mode}: {fg} on {bg} is {ratio:.2}:1, needs {min}:1"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

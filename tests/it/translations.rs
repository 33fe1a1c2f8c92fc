//! Every string the UI marks for translation has an English entry in the bundled catalogue,
//! so the English screen never falls back to Vietnamese by accident.

use std::path::Path;

fn slint_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            slint_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "slint") {
            out.push(p);
        }
    }
}

/// The literal of each `@tr("...")` (no escapes are used in our UI strings).
fn tr_strings(text: &str) -> Vec<String> {
    text.split("@tr(\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(s, _)| s.to_string()))
        .collect()
}

#[test]
fn every_ui_string_has_an_english_translation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let po = std::fs::read_to_string(root.join("translations/en/LC_MESSAGES/kiosk.po")).unwrap();
    let mut files = Vec::new();
    slint_files(&root.join("ui"), &mut files);
    let mut missing = Vec::new();
    let mut seen = 0;
    for f in files {
        for s in tr_strings(&std::fs::read_to_string(&f).unwrap()) {
            seen += 1;
            if !po.contains(&format!("msgid \"{s}\"")) {
                missing.push(format!("{}: {s}", f.display()));
            }
        }
    }
    assert!(seen > 40, "found only {seen} strings");
    assert!(
        missing.is_empty(),
        "no English for:\n{}",
        missing.join("\n")
    );
}

/// The counter page words every refusal the hub can give in Vietnamese and English, so a clerk
/// never reads the hub's English log text on the Vietnamese page.
#[test]
fn the_counter_page_words_every_refusal_in_both_languages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(root.join("assets/web/counter.html")).unwrap();
    let start = page.find("const ERRORS = {").expect("the ERRORS table");
    let table = &page[start..start + page[start..].find("\n};").unwrap()];
    let (vi, en) = table.split_once("\n  en: {").expect("vi and en parts");
    let mut missing = Vec::new();
    for reason in kiosk::domain::Reason::ALL {
        let key = format!("{}:", reason.as_str());
        for (lang, part) in [("vi", vi), ("en", en)] {
            if !part.contains(&format!(" {key}")) && !part.contains(&format!("\n    {key}")) {
                missing.push(format!("{lang}: {}", reason.as_str()));
            }
        }
    }
    assert!(missing.is_empty(), "no wording for: {missing:?}");
}

//! Phrasing data: how citizens name each procedure and the life situations that lead to it, in
//! Vietnamese and English (`assets/assistant/phrasings/*.toml`, one file per ministry or field,
//! embedded at build time). The ranker indexes every phrase as a small document of its
//! procedure and learns from them. Pure; depends on serde and toml only.

use serde::Deserialize;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/phrasings.rs"));
}

/// The code of entries that name no procedure (`none.toml`): questions out of scope or about
/// the kiosk and the point, which the assistant must answer with no procedure.
pub const NONE_CODE: &str = "NONE";

/// Which list a phrase came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhraseKind {
    /// How people name the procedure.
    Say,
    /// A life situation that leads to it.
    Situation,
    /// In English.
    English,
}

/// One phrase of one procedure.
#[derive(Debug, Clone, PartialEq)]
pub struct Phrase {
    pub code: String,
    pub kind: PhraseKind,
    pub text: String,
    /// The entry's `name` (for `NONE` entries, the topic: training hides a whole topic).
    pub group: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    procedure: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    code: String,
    name: String,
    #[serde(default)]
    say: Vec<String>,
    #[serde(default)]
    situation: Vec<String>,
    #[serde(default)]
    en: Vec<String>,
}

/// Why a phrasing file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct PhrasingError {
    pub file: String,
    pub message: String,
}

/// Parse one phrasing file.
pub fn parse(file: &str, text: &str) -> Result<Vec<Phrase>, PhrasingError> {
    let parsed: File = toml::from_str(text).map_err(|e| PhrasingError {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let mut out = Vec::new();
    for e in parsed.procedure {
        let code = e.code.trim().to_string();
        for (kind, list) in [
            (PhraseKind::Say, e.say),
            (PhraseKind::Situation, e.situation),
            (PhraseKind::English, e.en),
        ] {
            for text in list {
                let text = crate::text::nfc(text.trim());
                if !text.is_empty() {
                    out.push(Phrase {
                        code: code.clone(),
                        kind,
                        text,
                        group: e.name.clone(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The phrasing files of the centre's update bundle (`assistant/phrasings/` of the running
/// version, set once at start by `cli::load_config`).
pub static BUNDLE_DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Every phrase the kiosk runs with: the files shipped with the program, where the bundle's
/// files (`BUNDLE_DIR`) replace the shipped ones of the same name and add new ones, so staff
/// can send one improved file without a new release.
pub fn builtin() -> Vec<Phrase> {
    with_dir(BUNDLE_DIR.get().map(|d| d.as_path()))
}

/// The shipped files merged with `dir`'s (see `builtin`).
pub fn with_dir(dir: Option<&std::path::Path>) -> Vec<Phrase> {
    let mut files: std::collections::BTreeMap<String, std::borrow::Cow<'static, str>> =
        embedded::FILES
            .iter()
            .map(|(n, t)| (n.to_string(), std::borrow::Cow::Borrowed(*t)))
            .collect();
    if let Some(entries) = dir.and_then(|d| std::fs::read_dir(d).ok()) {
        for path in entries.filter_map(Result::ok).map(|e| e.path()) {
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .filter(|n| n.ends_with(".toml"))
            else {
                continue;
            };
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    files.insert(name.to_string(), std::borrow::Cow::Owned(text));
                }
                Err(e) => {
                    tracing::error!(file = %path.display(), error = %e, "phrasing file unreadable")
                }
            }
        }
    }
    let mut all = Vec::new();
    for (name, text) in &files {
        match parse(name, text) {
            Ok(p) => all.extend(p),
            // Shipped files are checked by a test on every build; a broken file (shipped or
            // sent) must not take the kiosk down.
            Err(e) => tracing::error!(error = %e, "phrasing file skipped"),
        }
    }
    all
}

/// How many procedures have phrases and how many phrases there are, per kind.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Coverage {
    pub files: usize,
    pub procedures: usize,
    /// Phrases of questions that name no procedure (`code = "NONE"`).
    pub not_procedures: usize,
    pub say: usize,
    pub situation: usize,
    pub english: usize,
}

pub fn coverage(phrases: &[Phrase]) -> Coverage {
    let not_procedures = phrases.iter().filter(|p| p.code == NONE_CODE).count();
    let phrases: Vec<&Phrase> = phrases.iter().filter(|p| p.code != NONE_CODE).collect();
    let mut codes: Vec<&str> = phrases.iter().map(|p| p.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let count = |k: PhraseKind| phrases.iter().filter(|p| p.kind == k).count();
    Coverage {
        files: embedded::FILES.len(),
        procedures: codes.len(),
        not_procedures,
        say: count(PhraseKind::Say),
        situation: count(PhraseKind::Situation),
        english: count(PhraseKind::English),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_file_parses_and_covers_the_commune_level() {
        for (name, text) in embedded::FILES {
            parse(name, text).unwrap_or_else(|e| panic!("{e}"));
        }
        let all = builtin();
        let c = coverage(&all);
        assert!(c.procedures >= 700, "{c:?}");
        assert!(c.english >= 2 * 700, "{c:?}");
    }

    #[test]
    fn a_bundles_file_replaces_the_shipped_one_of_its_name_and_a_new_one_adds() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = embedded::FILES[0];
        std::fs::write(
            dir.path().join(first),
            "[[procedure]]\ncode = \"9.999999\"\nname = \"n\"\nsay = [\"thay tệp\"]\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("zz-moi.toml"),
            "[[procedure]]\ncode = \"9.999998\"\nname = \"n\"\nsay = [\"tệp mới\"]\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("broken.toml"), "[[procedure").unwrap();
        let shipped = builtin();
        let merged = with_dir(Some(dir.path()));
        let from_first = parse(first, embedded::FILES[0].1).unwrap().len();
        assert!(from_first > 1);
        assert_eq!(merged.len(), shipped.len() - from_first + 2);
        assert!(merged.iter().any(|p| p.code == "9.999999"));
        assert!(merged.iter().any(|p| p.code == "9.999998"));
        assert!(
            !merged
                .iter()
                .any(|p| p.text == "thay tệp" && p.code != "9.999999")
        );
    }

    #[test]
    fn an_unknown_key_names_the_file() {
        let e = parse(
            "x.toml",
            "[[procedure]]\ncode = \"1\"\nname = \"n\"\nsays = []\n",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("x.toml:"), "{e}");
        assert!(e.to_string().contains("says"), "{e}");
    }
}

//! Digital-citizen guides (VNeID, online portals, payment, iHanoi, hotlines) as data: one TOML
//! file each in a folder the centre can update without a rebuild; the copies in assets/guides
//! are compiled in as the fallback when the folder is missing.

use std::path::Path;

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guide {
    pub id: String,
    pub order: u32,
    pub title_vi: String,
    pub title_en: String,
    pub summary_vi: String,
    pub summary_en: String,
    pub steps_vi: Vec<String>,
    pub steps_en: Vec<String>,
    /// Where to continue on a phone (shown as a QR code).
    pub link: String,
    pub link_text: String,
}

const BUILT_IN: [(&str, &str); 5] = [
    ("vneid.toml", include_str!("../assets/guides/vneid.toml")),
    (
        "dichvucong.toml",
        include_str!("../assets/guides/dichvucong.toml"),
    ),
    (
        "thanhtoan.toml",
        include_str!("../assets/guides/thanhtoan.toml"),
    ),
    ("ihanoi.toml", include_str!("../assets/guides/ihanoi.toml")),
    (
        "hotline.toml",
        include_str!("../assets/guides/hotline.toml"),
    ),
];

fn parse(name: &str, text: &str) -> Result<Guide, String> {
    toml::from_str(text).map_err(|e| format!("{name}: {e}"))
}

/// Guides from `dir` (every `*.toml`), or the built-in ones when it does not exist. A file that
/// does not parse is skipped and reported, so one bad edit does not empty the help page.
pub fn load(dir: Option<&Path>) -> (Vec<Guide>, Vec<String>) {
    let mut guides = Vec::new();
    let mut problems = Vec::new();
    let files: Vec<(String, String)> = match dir.and_then(|d| std::fs::read_dir(d).ok()) {
        Some(entries) => {
            let mut files: Vec<_> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            files.sort();
            files
                .into_iter()
                .filter_map(|p| match std::fs::read_to_string(&p) {
                    Ok(t) => Some((p.display().to_string(), t)),
                    Err(e) => {
                        problems.push(format!("{}: {e}", p.display()));
                        None
                    }
                })
                .collect()
        }
        None => BUILT_IN
            .iter()
            .map(|(n, t)| (format!("<built-in {n}>"), t.to_string()))
            .collect(),
    };
    for (name, text) in files {
        match parse(&name, &text) {
            Ok(g) => guides.push(g),
            Err(e) => problems.push(e),
        }
    }
    guides.sort_by_key(|g| (g.order, g.id.clone()));
    (guides, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_guides_parse_in_order() {
        let (guides, problems) = load(None);
        assert!(problems.is_empty(), "{problems:?}");
        let ids: Vec<_> = guides.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(
            ids,
            ["vneid", "dichvucong", "thanhtoan", "ihanoi", "hotline"]
        );
        for g in &guides {
            assert_eq!(g.steps_vi.len(), g.steps_en.len(), "{}", g.id);
        }
    }

    #[test]
    fn a_broken_file_is_reported_and_the_rest_load() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), BUILT_IN[0].1).unwrap();
        std::fs::write(dir.path().join("b.toml"), "id = 3").unwrap();
        let (guides, problems) = load(Some(dir.path()));
        assert_eq!(guides.len(), 1);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("b.toml"));
    }
}

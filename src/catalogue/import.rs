//! `kiosk catalogue import DIR`: the national catalogue into the store, idempotently.
//! A procedure's content hash decides whether a re-import changed it; the demo catalogue is
//! replaced by the first national import and comes back only on an empty store.

use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{CatalogueError, Procedure, tthc};
use crate::store::Store;

/// What an import did.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct ImportReport {
    pub files: usize,
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub unchanged: usize,
    /// National procedures no longer in the source, and demo rows the import replaced.
    pub removed: Vec<String>,
    /// (file, reason) of every file that did not become a procedure.
    pub skipped: Vec<(String, String)>,
}

/// The content hash stored beside each procedure.
pub fn hash(p: &Procedure) -> String {
    let json = serde_json::to_vec(p).unwrap_or_default();
    Sha256::digest(&json)
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Read `dir` and bring the store's catalogue in line with it, in one transaction.
pub fn import_dir(store: &mut Store, dir: &Path) -> Result<ImportReport, CatalogueError> {
    let read = read_nonempty(dir)?;
    let mut report = ImportReport {
        files: read.files,
        skipped: read
            .skipped
            .iter()
            .map(|s| (s.file.display().to_string(), s.reason.clone()))
            .collect(),
        ..Default::default()
    };
    let tx = store.write()?;
    let before: std::collections::HashMap<String, (String, String)> = tx
        .procedure_hashes()?
        .into_iter()
        .map(|(code, source, hash)| (code, (source, hash)))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for p in &read.procedures {
        let h = hash(p);
        seen.insert(p.code.clone());
        match before.get(&p.code) {
            Some((source, old)) if source == "national" && *old == h => report.unchanged += 1,
            Some((source, _)) if source == "national" => {
                tx.upsert_procedure(p, "national", &h)?;
                report.changed.push(p.code.clone());
            }
            _ => {
                tx.upsert_procedure(p, "national", &h)?;
                report.added.push(p.code.clone());
            }
        }
    }
    for code in before.keys() {
        if !seen.contains(code) {
            tx.delete_procedure(code)?;
            report.removed.push(code.clone());
        }
    }
    report.removed.sort();
    tx.commit()?;
    Ok(report)
}

/// Read a catalogue folder into memory (for `assistant ask/eval --catalogue`).
pub fn read_procedures(dir: &Path) -> Result<Vec<Procedure>, CatalogueError> {
    Ok(read_nonempty(dir)?.procedures)
}

/// A catalogue folder with at least one procedure, or a clear error naming the folder.
fn read_nonempty(dir: &Path) -> Result<tthc::ReadResult, CatalogueError> {
    let error = |message: String| CatalogueError::Parse {
        file: dir.display().to_string(),
        message,
    };
    let read = tthc::read_dir(dir).map_err(|e| error(e.to_string()))?;
    if read.procedures.is_empty() {
        return Err(error(format!(
            "no procedure records found ({} JSON files, {} skipped)",
            read.files,
            read.skipped.len()
        )));
    }
    Ok(read)
}

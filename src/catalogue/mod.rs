//! The procedure catalogue the kiosk shows: what a procedure needs (documents, fee, time,
//! steps, online or not) and which queue serves it. The project's own demo catalogue
//! (assets/catalogue/demo.toml, written by us) seeds the store when nothing was imported; the
//! assistant issue adds `kiosk catalogue import` for the national catalogue.
//! Depends on `store` for persistence and `config` for the field -> service mapping; the
//! `Procedure` type itself is `domain`'s, so `store` needs nothing from here.

pub mod import;
pub mod tthc;

use serde::Deserialize;

use crate::config::{Config, Service};
pub use crate::domain::{Procedure, SubmissionChannel};
use crate::store::{Store, StoreError};

static DEMO: &str = include_str!("../../assets/catalogue/demo.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    procedure: Vec<Procedure>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parse a catalogue file in the demo format.
pub fn parse(file: &str, text: &str) -> Result<Vec<Procedure>, CatalogueError> {
    let parsed: CatalogueFile = toml::from_str(text).map_err(|e| CatalogueError::Parse {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    Ok(parsed
        .procedure
        .into_iter()
        .map(|mut p| {
            p.name = crate::text::nfc(p.name.trim());
            p.field = crate::text::nfc(p.field.trim());
            p
        })
        .collect())
}

/// The built-in demo catalogue.
pub fn demo() -> Vec<Procedure> {
    parse("assets/catalogue/demo.toml", DEMO).unwrap_or_else(|e| panic!("built-in catalogue: {e}"))
}

/// The procedures in the store, seeding it with the demo catalogue when it is empty.
pub fn load_or_seed(store: &mut Store) -> Result<Vec<Procedure>, CatalogueError> {
    let tx = store.write()?;
    if tx.procedure_count()? == 0 {
        for p in demo() {
            tx.upsert_procedure(&p, "demo", &import::hash(&p))?;
        }
    }
    let all = tx.procedures()?;
    tx.commit()?;
    Ok(all)
}

/// The service (queue) that takes a procedure's field: the one listing the field, else one
/// listing "*" (the general queue), else none.
pub fn service_for<'c>(config: &'c Config, procedure: &Procedure) -> Option<&'c Service> {
    config
        .services
        .iter()
        .find(|s| s.fields.iter().any(|f| f == &procedure.field))
        .or_else(|| {
            config
                .services
                .iter()
                .find(|s| s.fields.iter().any(|f| f == "*"))
        })
}

pub use crate::text::fold;

/// Procedures whose name or field contains every word of `query` (tone-insensitive), in
/// `field` when given, in catalogue order.
pub fn search<'p>(all: &'p [Procedure], query: &str, field: &str) -> Vec<&'p Procedure> {
    let words: Vec<String> = fold(query).split_whitespace().map(str::to_string).collect();
    all.iter()
        .filter(|p| field.is_empty() || p.field == field)
        .filter(|p| {
            let hay = fold(&format!("{} {} {}", p.name, p.field, p.code));
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_catalogue_parses_and_every_field_has_a_demo_queue() {
        let all = demo();
        assert!(all.len() >= 10);
        let config = Config::demo().unwrap();
        for p in &all {
            assert!(
                service_for(&config, p).is_some(),
                "no queue for {} ({})",
                p.code,
                p.field
            );
        }
    }

    #[test]
    fn search_ignores_tones_and_case() {
        let all = demo();
        let hits: Vec<&str> = search(&all, "tam tru", "")
            .iter()
            .map(|p| p.code.as_str())
            .collect();
        assert_eq!(hits, ["1.004194"]);
        let hits = search(&all, "KHAI SINH", "");
        assert!(hits.iter().any(|p| p.code == "1.001193"));
        assert!(search(&all, "khai sinh", "Chứng thực").is_empty());
        assert_eq!(search(&all, "", "Chứng thực").len(), 2);
    }
}

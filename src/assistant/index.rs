//! BM25F over the catalogue: folded syllables and syllable pairs of each procedure's name,
//! field and documents, plus exact (toned) syllables of the name, so a question typed with
//! correct diacritics is rewarded for them without a question typed without them losing.

use std::collections::HashMap;

use super::normalize::{self, Token};
use crate::catalogue::Procedure;

/// Fields of a procedure, with their weight in BM25F and their length normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name = 0,
    Domain = 1,
    Documents = 2,
}
const FIELDS: usize = 3;
const WEIGHT: [f32; FIELDS] = [1.0, 0.35, 0.12];
const B: [f32; FIELDS] = [0.6, 0.3, 0.75];
const K1: f32 = 1.2;
/// Documents text is long and repetitive; only its beginning is indexed.
const DOCUMENT_CHARS: usize = 1200;

/// A query term: its key in the index and its weight in the query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTerm {
    pub key: String,
    pub weight: f32,
    /// Counts towards the confidence (a unigram the citizen said or the lexicon added).
    pub evidence: bool,
    /// Added by the lexicon (a synonym or situation rule), not said as such.
    pub lexicon: bool,
}

#[derive(Default)]
struct Posting {
    /// (doc, per-field term frequency)
    docs: Vec<(u32, [u16; FIELDS])>,
}

/// The index of one catalogue.
pub struct Index {
    terms: HashMap<String, Posting>,
    lengths: Vec<[u16; FIELDS]>,
    average: [f32; FIELDS],
    docs: usize,
}

/// The folded pair key of two adjacent words.
pub fn pair(a: &str, b: &str) -> String {
    format!("{a}_{b}")
}

/// The key of an exact (toned) word.
pub fn exact(key: &str) -> String {
    format!("={key}")
}

fn field_keys(tokens: &[Token], exact_words: bool) -> Vec<String> {
    let mut keys: Vec<String> = tokens.iter().map(|t| t.folded.clone()).collect();
    for w in tokens.windows(2) {
        keys.push(pair(&w[0].folded, &w[1].folded));
    }
    if exact_words {
        keys.extend(tokens.iter().map(|t| exact(&t.exact)));
    }
    keys
}

impl Index {
    pub fn build(procedures: &[Procedure]) -> Index {
        let mut terms: HashMap<String, Posting> = HashMap::new();
        let mut lengths = Vec::with_capacity(procedures.len());
        for (doc, p) in procedures.iter().enumerate() {
            let documents: String = p
                .documents
                .join(" . ")
                .chars()
                .take(DOCUMENT_CHARS)
                .collect();
            let fields = [
                field_keys(&normalize::tokens(&p.name), true),
                field_keys(&normalize::tokens(&p.field), true),
                field_keys(&normalize::tokens(&documents), true),
            ];
            let mut tf: HashMap<&str, [u16; FIELDS]> = HashMap::new();
            let mut len = [0u16; FIELDS];
            for (f, keys) in fields.iter().enumerate() {
                len[f] = keys
                    .iter()
                    .filter(|k| !k.contains('_') && !k.starts_with('='))
                    .count()
                    .min(65535) as u16;
                for k in keys {
                    let e = tf.entry(k.as_str()).or_default();
                    e[f] = e[f].saturating_add(1);
                }
            }
            for (k, f) in tf {
                terms
                    .entry(k.to_string())
                    .or_default()
                    .docs
                    .push((doc as u32, f));
            }
            lengths.push(len);
        }
        let mut average = [0f32; FIELDS];
        for l in &lengths {
            for f in 0..FIELDS {
                average[f] += l[f] as f32;
            }
        }
        for a in &mut average {
            *a = (*a / lengths.len().max(1) as f32).max(1.0);
        }
        Index {
            terms,
            docs: lengths.len(),
            lengths,
            average,
        }
    }

    pub fn len(&self) -> usize {
        self.docs
    }

    pub fn is_empty(&self) -> bool {
        self.docs == 0
    }

    /// Whether a folded word occurs anywhere in the catalogue.
    pub fn knows(&self, key: &str) -> bool {
        self.terms.contains_key(key)
    }

    /// Inverse document frequency; an unknown term gets the rarest possible.
    pub fn idf(&self, key: &str) -> f32 {
        let n = self.terms.get(key).map(|p| p.docs.len()).unwrap_or(0) as f32;
        let docs = self.docs as f32;
        ((docs - n + 0.5) / (n + 0.5) + 1.0).ln()
    }

    /// BM25F score of every document (index = position in the catalogue).
    pub fn score(&self, query: &[QueryTerm], scores: &mut Vec<f32>) {
        scores.clear();
        scores.resize(self.docs, 0.0);
        for term in query {
            let Some(posting) = self.terms.get(&term.key) else {
                continue;
            };
            let idf = self.idf(&term.key);
            for (doc, tf) in &posting.docs {
                let len = &self.lengths[*doc as usize];
                let mut t = 0.0;
                for f in 0..FIELDS {
                    if tf[f] > 0 {
                        let norm = 1.0 - B[f] + B[f] * len[f] as f32 / self.average[f];
                        t += WEIGHT[f] * tf[f] as f32 / norm;
                    }
                }
                scores[*doc as usize] += term.weight * idf * t * (K1 + 1.0) / (t + K1);
            }
        }
    }

    /// Whether a document contains a term in any field.
    pub fn contains(&self, doc: usize, key: &str) -> bool {
        self.terms
            .get(key)
            .is_some_and(|p| p.docs.binary_search_by_key(&(doc as u32), |d| d.0).is_ok())
    }

    /// Whether a document contains a term in a given field.
    pub fn contains_in(&self, doc: usize, key: &str, field: Field) -> bool {
        self.terms.get(key).is_some_and(|p| {
            p.docs
                .binary_search_by_key(&(doc as u32), |d| d.0)
                .is_ok_and(|i| p.docs[i].1[field as usize] > 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(keys: &[&str]) -> Vec<QueryTerm> {
        keys.iter()
            .map(|k| QueryTerm {
                key: k.to_string(),
                weight: 1.0,
                evidence: true,
                lexicon: false,
            })
            .collect()
    }

    #[test]
    fn names_outrank_documents_and_pairs_reward_order() {
        let all = crate::catalogue::demo();
        let index = Index::build(&all);
        let mut scores = Vec::new();
        index.score(&q(&["tam", "tru", "tam_tru"]), &mut scores);
        let best = scores
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert_eq!(all[best].code, "1.004194", "{}", all[best].name);
        assert!(index.knows("khai_sinh"));
        assert!(!index.knows("xyzzy"));
        assert!(index.idf("xyzzy") > index.idf("dang"));
    }
}

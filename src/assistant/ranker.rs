//! The learned part of the assistant: the phrasing data as an index of small documents (every
//! phrase one document of its procedure, Vietnamese and English apart), the features of a
//! (question, procedure) pair, and a linear model over them whose weights and confidence
//! calibration come from `kiosk assistant train` (`assets/assistant/model.toml`). Pure Rust.
//!
//! Why a learned linear re-ranker over lexical features and not a classifier per procedure:
//! the features (how well the question matches the catalogue's text, the best phrase, the
//! level, how much of the question the procedure explains) are the same for every procedure,
//! so the dozen weights learned on 783 procedures with phrases carry over to the 1,800 without
//! any, and to phrases staff add later, with nothing to retrain per procedure.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::normalize::{self, Token};
use super::phrasings::{Phrase, PhraseKind};

const K1: f32 = 1.2;
const B: f32 = 0.5;

/// BM25 over short texts (phrases), each a list of keys (folded words and word pairs).
#[derive(Default)]
pub struct TextIndex {
    terms: HashMap<String, Vec<(u32, u16)>>,
    lengths: Vec<u16>,
    average: f32,
}

impl TextIndex {
    pub fn build(docs: &[Vec<String>]) -> TextIndex {
        let mut terms: HashMap<String, Vec<(u32, u16)>> = HashMap::new();
        let mut lengths = Vec::with_capacity(docs.len());
        for (d, keys) in docs.iter().enumerate() {
            let mut tf: HashMap<&str, u16> = HashMap::new();
            for k in keys {
                *tf.entry(k.as_str()).or_default() += 1;
            }
            for (k, n) in tf {
                terms.entry(k.to_string()).or_default().push((d as u32, n));
            }
            lengths.push(
                keys.iter()
                    .filter(|k| !k.contains('_') && !k.starts_with('='))
                    .count()
                    .max(1) as u16,
            );
        }
        let average = lengths.iter().map(|l| *l as f32).sum::<f32>() / lengths.len().max(1) as f32;
        TextIndex {
            terms,
            lengths,
            average: average.max(1.0),
        }
    }

    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    pub fn knows(&self, key: &str) -> bool {
        self.terms.contains_key(key)
    }

    fn idf(&self, n: usize) -> f32 {
        let docs = self.lengths.len() as f32;
        ((docs - n as f32 + 0.5) / (n as f32 + 0.5) + 1.0).ln()
    }

    /// BM25 of every document for weighted keys.
    pub fn score(&self, query: &[(String, f32)], scores: &mut Vec<f32>) {
        scores.clear();
        scores.resize(self.lengths.len(), 0.0);
        for (key, weight) in query {
            let Some(posting) = self.terms.get(key) else {
                continue;
            };
            let idf = self.idf(posting.len());
            for (d, tf) in posting {
                let len = self.lengths[*d as usize] as f32;
                let tf = *tf as f32;
                let norm = 1.0 - B + B * len / self.average;
                scores[*d as usize] += weight * idf * tf * (K1 + 1.0) / (tf + K1 * norm);
            }
        }
    }
}

/// Keys of a Vietnamese text (stopwords out), each with its weight: folded words and adjacent
/// pairs, and for words typed with marks also their exact (toned) forms, which take
/// `exact_share` of the weight. Typing without marks still finds a phrase; typing with them
/// tells "con dâu" (daughter-in-law) from "con dấu" (a seal).
pub fn vi_keys(
    tokens: &[Token],
    stop: &dyn Fn(&Token) -> bool,
    exact_share: f32,
) -> Vec<(String, f32)> {
    use super::index::{exact, pair};
    let kept: Vec<Option<&Token>> = tokens.iter().map(|t| (!stop(t)).then_some(t)).collect();
    let mut keys = Vec::new();
    for t in kept.iter().flatten() {
        if t.marked {
            keys.push((t.folded.clone(), 1.0 - exact_share));
            keys.push((exact(&t.exact), exact_share));
        } else {
            keys.push((t.folded.clone(), 1.0));
        }
    }
    for w in kept.windows(2) {
        if let [Some(a), Some(b)] = w {
            if a.marked && b.marked {
                keys.push((pair(&a.folded, &b.folded), 1.0 - exact_share));
                keys.push((exact(&pair(&a.exact, &b.exact)), exact_share));
            } else {
                keys.push((pair(&a.folded, &b.folded), 1.0));
            }
        }
    }
    keys
}

/// English words reduced to a crude stem: lower case, plural and -ing/-ed endings off, so
/// "registering", "registered" and "registers" meet.
pub fn en_stem(word: &str) -> String {
    let w = word.to_lowercase();
    let mut stem = w.clone();
    for suffix in ["ing", "ied", "ies", "ed", "s"] {
        if w.len() > suffix.len() + 3
            && let Some(s) = w.strip_suffix(suffix)
        {
            stem = match suffix {
                "ied" | "ies" => format!("{s}y"),
                _ => s.to_string(),
            };
            break;
        }
    }
    // A final silent e goes too, so "declare" meets "declared" and "certificate" "certificates".
    if stem.len() > 4 && stem.ends_with('e') {
        stem.pop();
    }
    stem
}

/// Keys of an English text: stems of the words that are not function words, and pairs.
pub fn en_keys(text: &str, function_word: &dyn Fn(&str) -> bool) -> Vec<String> {
    let words: Vec<Option<String>> = normalize::words(text)
        .iter()
        .map(|w| w.to_lowercase())
        .map(|w| (!function_word(&w) && w.chars().any(char::is_alphanumeric)).then(|| en_stem(&w)))
        .collect();
    let mut keys: Vec<String> = words.iter().flatten().cloned().collect();
    for w in words.windows(2) {
        if let [Some(a), Some(b)] = w {
            keys.push(super::index::pair(a, b));
        }
    }
    keys
}

/// The phrasing data as indexes, with each phrase's procedure.
#[derive(Default)]
pub struct PhraseBank {
    pub vi: TextIndex,
    pub en: TextIndex,
    /// Procedure (position in the catalogue) of each Vietnamese / English phrase.
    pub vi_owner: Vec<u32>,
    pub en_owner: Vec<u32>,
    /// Folded words of each procedure's Vietnamese phrases (what its phrasings explain).
    pub words: Vec<HashSet<String>>,
    /// Stems of each procedure's English phrases.
    pub en_words: Vec<HashSet<String>>,
    /// Procedures with at least one phrase.
    pub has: Vec<bool>,
    /// Phrase texts, for training (Vietnamese then English, in index order).
    pub vi_text: Vec<(String, PhraseKind)>,
    pub en_text: Vec<String>,
}

/// Owners from here up are phrases that name no procedure (`code = "NONE"`: out of scope, or
/// about the kiosk), one owner per topic: indexed with the procedures' phrases, so their BM25
/// scores compare with theirs.
pub const NONE_BASE: u32 = u32::MAX - 65_535;

impl PhraseBank {
    /// Whether an owner is a topic that names no procedure.
    pub fn is_none(owner: u32) -> bool {
        owner >= NONE_BASE
    }

    /// Index `phrases` of the procedures in `codes` (position = document); phrases of unknown
    /// codes are skipped (the crawl's junk records, or a catalogue without them). Phrases with
    /// code `NONE` are indexed too, owned by `NONE_BASE` + their topic's number.
    pub fn build(
        codes: &[&str],
        phrases: &[Phrase],
        stop: &dyn Fn(&Token) -> bool,
        function_word: &dyn Fn(&str) -> bool,
    ) -> PhraseBank {
        let position: HashMap<&str, u32> = codes
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, i as u32))
            .collect();
        let mut bank = PhraseBank {
            words: vec![HashSet::new(); codes.len()],
            en_words: vec![HashSet::new(); codes.len()],
            has: vec![false; codes.len()],
            ..PhraseBank::default()
        };
        let (mut vi_docs, mut en_docs) = (Vec::new(), Vec::new());
        let mut topics: HashMap<&str, u32> = HashMap::new();
        for p in phrases {
            let doc = if p.code == super::phrasings::NONE_CODE {
                let next = topics.len() as u32;
                NONE_BASE + (*topics.entry(p.group.as_str()).or_insert(next)).min(65_535)
            } else {
                match position.get(p.code.as_str()) {
                    Some(&doc) => doc,
                    None => continue,
                }
            };
            let real = !PhraseBank::is_none(doc);
            if real {
                bank.has[doc as usize] = true;
            }
            match p.kind {
                PhraseKind::English => {
                    let keys = en_keys(&p.text, function_word);
                    for k in keys.iter().filter(|k| !k.contains('_') && real) {
                        bank.en_words[doc as usize].insert(k.clone());
                    }
                    en_docs.push(keys);
                    bank.en_owner.push(doc);
                    bank.en_text.push(p.text.clone());
                }
                kind => {
                    let tokens = normalize::tokens(&p.text);
                    for t in tokens.iter().filter(|_| real) {
                        if !stop(t) {
                            bank.words[doc as usize].insert(t.folded.clone());
                        }
                    }
                    // A phrase is written with its marks: index both forms of every word.
                    vi_docs.push(
                        vi_keys(&tokens, stop, 0.5)
                            .into_iter()
                            .map(|(k, _)| k)
                            .collect::<Vec<_>>(),
                    );
                    bank.vi_owner.push(doc);
                    bank.vi_text.push((p.text.clone(), kind));
                }
            }
        }
        bank.vi = TextIndex::build(&vi_docs);
        bank.en = TextIndex::build(&en_docs);
        bank
    }
}

/// What the confidence is calibrated on: top score, margin, share explained, NONE likeness.
pub const CALIBRATION_INPUTS: usize = 4;

/// Number of features of a (question, procedure) pair.
pub const FEATURES: usize = 12;

/// Names of the features, in order (for the model file and reports).
pub const FEATURE_NAMES: [&str; FEATURES] = [
    "catalogue_rel",
    "catalogue_log",
    "phrase_rel",
    "phrase_log",
    "phrase_second_rel",
    "level_here",
    "explained_by_catalogue",
    "explained_by_phrases",
    "catalogue_rank",
    "phrase_rank",
    "lexicon_explained",
    "no_phrases",
];

/// A candidate procedure with its features.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub doc: usize,
    pub features: [f32; FEATURES],
}

/// Weights of the linear scorer and the confidence calibration, per language.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Free text: how and on what the model was trained.
    #[serde(default)]
    pub trained: String,
    pub vi: Weights,
    pub en: Weights,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    /// One weight per feature (see `FEATURE_NAMES`).
    pub score: Vec<f32>,
    /// Confidence = sigmoid(c0 + c1·top score + c2·margin to the second + c3·explained +
    /// c4·how much better a question that names no procedure matches).
    pub calibration: [f32; 5],
    /// Below this confidence the answer is "not sure" (chosen on held-out folds).
    pub threshold: f32,
    /// At or above this share of NONE likeness (the best phrase that names no procedure
    /// against the best procedure phrase, 0.5 = as good) the answer is "not sure" whatever the
    /// confidence (chosen by `kiosk assistant train`; above 1 = never).
    #[serde(default = "no_cut")]
    pub none_cut: f32,
}

fn no_cut() -> f32 {
    1.01
}

impl Weights {
    /// Hand-set starting weights (used when no trained model ships, and to start training).
    pub fn initial() -> Weights {
        Weights {
            score: vec![1.0, 0.2, 1.0, 0.2, 0.3, 0.2, 0.5, 0.3, 0.3, 0.3, 0.3, 0.0],
            calibration: [-2.0, 1.0, 4.0, 2.0, -3.0],
            threshold: 0.3,
            none_cut: no_cut(),
        }
    }

    pub fn score(&self, f: &[f32; FEATURES]) -> f32 {
        self.score.iter().zip(f).map(|(w, x)| w * x).sum()
    }

    /// How sure the top answer is, from the ranked candidates' scores.
    pub fn confidence(&self, x: &[f32; CALIBRATION_INPUTS]) -> f32 {
        if x[3] >= self.none_cut {
            return -1.0; // below any threshold, 0 included
        }
        self.calibrated(x)
    }

    /// The calibrated confidence alone, without the NONE cut.
    pub fn calibrated(&self, x: &[f32; CALIBRATION_INPUTS]) -> f32 {
        let c = &self.calibration;
        let z = c[0] + c.iter().skip(1).zip(x).map(|(w, v)| w * v).sum::<f32>();
        1.0 / (1.0 + (-z).exp())
    }
}

static MODEL: &str = include_str!("../../assets/assistant/model.toml");

impl Model {
    pub fn initial() -> Model {
        Model {
            trained: "hand-set starting weights (not trained)".into(),
            vi: Weights::initial(),
            en: Weights::initial(),
        }
    }

    pub fn parse(text: &str) -> Result<Model, String> {
        let m: Model = toml::from_str(text).map_err(|e| e.to_string())?;
        for (lang, w) in [("vi", &m.vi), ("en", &m.en)] {
            if w.score.len() != FEATURES {
                return Err(format!(
                    "{lang}.score has {} weights; the features are {FEATURES}: {}",
                    w.score.len(),
                    FEATURE_NAMES.join(", ")
                ));
            }
        }
        Ok(m)
    }

    /// The model that ships (`assets/assistant/model.toml`), or the starting weights when it
    /// does not parse (logged; a test keeps the shipped file valid).
    pub fn builtin() -> Model {
        Model::parse(MODEL).unwrap_or_else(|e| {
            tracing::error!(error = %e, "assets/assistant/model.toml: using starting weights");
            Model::initial()
        })
    }

    pub fn to_toml(&self) -> String {
        let mut out = String::from(
            "# The assistant's ranking model, written by `kiosk assistant train`; do not edit by hand.\n",
        );
        out.push_str(&format!("# features: {}\n", FEATURE_NAMES.join(", ")));
        out.push_str(&toml::to_string(self).unwrap_or_default());
        out
    }
}

/// One training example: a candidate list and which candidates are right.
#[derive(Debug, Clone)]
pub struct Example {
    pub candidates: Vec<Candidate>,
    pub right: Vec<bool>,
}

/// Fit the scoring weights by pairwise logistic loss (the best right candidate against every
/// wrong one above it or near), with L2 towards the starting weights. Deterministic.
pub fn fit_scores(examples: &[Example], start: &[f32], epochs: usize) -> Vec<f32> {
    let mut w: Vec<f32> = start.to_vec();
    let lambda = 1e-3;
    let rate = 0.5;
    for _ in 0..epochs {
        let mut grad = [0f32; FEATURES];
        let mut pairs = 0usize;
        for ex in examples {
            let scores: Vec<f32> = ex
                .candidates
                .iter()
                .map(|c| c.features.iter().zip(&w).map(|(x, w)| x * w).sum())
                .collect();
            let Some(best) = (0..scores.len())
                .filter(|&i| ex.right[i])
                .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            else {
                continue;
            };
            for n in (0..scores.len()).filter(|&i| !ex.right[i]) {
                let margin = scores[best] - scores[n];
                if margin > 4.0 {
                    continue;
                }
                let g = -1.0 / (1.0 + margin.exp());
                for (k, gk) in grad.iter_mut().enumerate() {
                    *gk += g * (ex.candidates[best].features[k] - ex.candidates[n].features[k]);
                }
                pairs += 1;
            }
        }
        if pairs == 0 {
            break;
        }
        let per = 1.0 / examples.len().max(1) as f32;
        for k in 0..FEATURES {
            let reg = lambda * (w[k] - start[k]);
            w[k] -= rate * (grad[k] * per + reg);
        }
    }
    w
}

/// Fit the confidence calibration by logistic regression on (top, margin, explained) -> right.
pub fn fit_calibration(
    rows: &[([f32; CALIBRATION_INPUTS], bool)],
    start: [f32; CALIBRATION_INPUTS + 1],
    epochs: usize,
) -> [f32; CALIBRATION_INPUTS + 1] {
    let mut c = start;
    let rate = 0.5;
    for _ in 0..epochs {
        let mut g = [0f32; CALIBRATION_INPUTS + 1];
        for (x, y) in rows {
            let z = c[0] + c.iter().skip(1).zip(x).map(|(w, v)| w * v).sum::<f32>();
            let p = 1.0 / (1.0 + (-z).exp());
            let e = p - if *y { 1.0 } else { 0.0 };
            g[0] += e;
            for k in 0..CALIBRATION_INPUTS {
                g[k + 1] += e * x[k];
            }
        }
        let n = rows.len().max(1) as f32;
        for k in 0..=CALIBRATION_INPUTS {
            c[k] -= rate * (g[k] / n + 1e-3 * c[k]);
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_stems_meet() {
        for (a, b) in [
            ("registering", "register"),
            ("registered", "registers"),
            ("certificates", "certificate"),
            ("declared", "declare"),
            ("families", "family"),
        ] {
            assert_eq!(en_stem(a), en_stem(b), "{a} / {b}");
        }
        assert_eq!(en_stem("is"), "is");
        assert_ne!(en_stem("birth"), en_stem("berth"));
    }

    #[test]
    fn the_shipped_model_parses_with_one_weight_per_feature() {
        let m = Model::parse(MODEL).unwrap();
        assert_eq!(m.vi.score.len(), FEATURES);
        assert!((0.0..1.0).contains(&m.vi.threshold));
    }

    #[test]
    fn phrases_that_name_no_procedure_get_a_topic_not_a_procedure() {
        let phrase = |code: &str, group: &str, text: &str| Phrase {
            code: code.into(),
            kind: PhraseKind::Say,
            text: text.into(),
            group: group.into(),
        };
        let phrases = [
            phrase(
                "1.001193",
                "Đăng ký khai sinh",
                "làm giấy khai sinh cho con",
            ),
            phrase("NONE", "outofscope: weather", "hôm nay trời có mưa không"),
            phrase("NONE", "outofscope: weather", "dự báo thời tiết cuối tuần"),
            phrase("NONE", "kioskfaq: toilet", "nhà vệ sinh ở đâu"),
            phrase("9.999999", "not in this catalogue", "bỏ qua"),
        ];
        let bank = PhraseBank::build(&["1.001193"], &phrases, &|_| false, &|_| false);
        assert_eq!(bank.vi.len(), 4, "the unknown code is skipped");
        assert_eq!(bank.vi_owner[0], 0);
        let owners: Vec<u32> = bank.vi_owner[1..].to_vec();
        assert!(owners.iter().all(|o| PhraseBank::is_none(*o)));
        assert_eq!(owners[0], owners[1], "one topic, one owner");
        assert_ne!(owners[0], owners[2]);
        assert!(bank.has[0] && !bank.words[0].contains("mua"));
        // The cut refuses whatever the calibration says.
        let w = Weights {
            none_cut: 0.4,
            ..Weights::initial()
        };
        assert!(w.confidence(&[0.9, 1.0, 1.0, 0.1]) > 0.5);
        assert!(w.confidence(&[0.9, 1.0, 1.0, 0.4]) < 0.0);
    }

    #[test]
    fn pairwise_fit_learns_which_feature_tells_right_from_wrong() {
        // Feature 2 marks the right candidate; feature 0 is noise that favours a wrong one.
        let mut examples = Vec::new();
        for i in 0..40 {
            let mut right = [0f32; FEATURES];
            let mut wrong = [0f32; FEATURES];
            right[2] = 1.0;
            wrong[2] = 0.2;
            right[0] = if i % 2 == 0 { 0.3 } else { 0.6 };
            wrong[0] = 0.9;
            examples.push(Example {
                candidates: vec![
                    Candidate {
                        doc: 0,
                        features: wrong,
                    },
                    Candidate {
                        doc: 1,
                        features: right,
                    },
                ],
                right: vec![false, true],
            });
        }
        let start = vec![1.0; FEATURES];
        let w = fit_scores(&examples, &start, 300);
        let won = examples
            .iter()
            .filter(|e| {
                let s: Vec<f32> = e
                    .candidates
                    .iter()
                    .map(|c| c.features.iter().zip(&w).map(|(x, w)| x * w).sum())
                    .collect();
                s[1] > s[0]
            })
            .count();
        assert_eq!(won, 40, "{w:?}");
    }
}

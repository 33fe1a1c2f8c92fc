//! The virtual assistant: a citizen's question in their own words -> the procedure they need,
//! an answer about the service point, or "not sure, ask staff". Pure Rust, offline, in memory.
//!
//! Pipeline: language (English only when words cannot be Vietnamese) -> normalise (NFC, tones
//! out into keys, Telex repair) -> lexicon (synonyms, situation rules, English glossary,
//! out-of-scope topics, FAQ) -> two retrievals: BM25F over the catalogue's own texts, and BM25
//! over the phrasing data (every phrase a document of its procedure) -> a learned linear
//! re-ranker over their features (`ranker`, weights from `kiosk assistant train`) -> a
//! calibrated confidence; below the threshold the answer is "not sure" with up to three
//! candidates to show beside "ask staff".

pub mod compose;
pub mod index;
pub mod lexicon;
pub mod normalize;
pub mod phrasings;
pub mod privacy;
pub mod ranker;
pub mod train;

use std::collections::HashSet;

use serde::Serialize;

use crate::domain::Procedure;
use index::{Index, QueryTerm};
use lexicon::{Faq, FaqEntry, Lexicon};
use normalize::Token;
use phrasings::Phrase;
use ranker::{Candidate, FEATURES, Model, PhraseBank, Weights};

/// Tuning knobs, with the values the dev set was measured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Level this point works at ("Cấp xã"); procedures done here get `level_boost`.
    pub level: String,
    pub level_boost: f32,
    /// Below this confidence the assistant says it is not sure.
    pub min_confidence: f32,
    /// The same for a procedure not done at this point's level, when no lexicon term matched.
    pub min_confidence_elsewhere: f32,
    /// Weight of lexicon terms after the first one named, relative to it.
    pub later_term_share: f32,
    /// How far a fired lexicon term alone can carry the confidence (its share found x this).
    pub lexicon_trust: f32,
    /// Weight of words the lexicon adds, relative to the citizen's own words.
    pub expansion_weight: f32,
    /// Share of a marked word's weight that needs its tones right ("ngoại" is not "ngoài");
    /// the rest matches on the folded word, so a wrong or missing tone still finds it.
    pub exact_share: f32,
    /// Bonus for a procedure whose name the question explains entirely (so "đăng ký tạm trú"
    /// prefers "Đăng ký tạm trú" to "Xóa đăng ký tạm trú").
    pub name_cover_boost: f32,
    /// How many answers to return.
    pub top: usize,
    /// How many candidates each retrieval hands to the re-ranker.
    pub candidates: usize,
    /// Plain BM25 on names, no normalisation beyond folding, no lexicon: the baseline.
    pub baseline: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            level: "Cấp xã".into(),
            level_boost: 0.2,
            min_confidence: 0.45,
            min_confidence_elsewhere: 0.9,
            lexicon_trust: 0.8,
            later_term_share: 0.75,
            expansion_weight: 1.6,
            exact_share: 0.4,
            name_cover_boost: 0.5,
            top: 5,
            candidates: 30,
            baseline: false,
        }
    }
}

/// One procedure offered as an answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Hit {
    /// Position in the catalogue the assistant was built on.
    #[serde(skip)]
    pub doc: usize,
    pub code: String,
    pub name: String,
    pub score: f32,
}

/// What the assistant answers.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    /// Procedures, best first; `confidence` is about the first.
    Procedures { hits: Vec<Hit>, confidence: f32 },
    /// A question about the service point itself.
    Faq { entry: FaqEntry },
    /// Not sure: suggest asking staff. `near` are weak candidates, not offered as the answer.
    NotSure {
        reason: String,
        near: Vec<Hit>,
        confidence: f32,
    },
}

impl Answer {
    /// The procedures offered as the answer (none for FAQ and not-sure answers).
    pub fn offered(&self) -> &[Hit] {
        match self {
            Answer::Procedures { hits, .. } => hits,
            _ => &[],
        }
    }
}

/// What training and k-fold evaluation hide from one question: its own phrase (leave one
/// out), and every phrase of some procedures (a fold's held-out procedures).
#[derive(Debug, Clone, Copy, Default)]
pub struct Hide<'a> {
    pub vi_phrase: Option<usize>,
    pub en_phrase: Option<usize>,
    pub procedures: Option<&'a [bool]>,
    /// A topic of phrases that name no procedure (its owner), hidden whole.
    pub none_topic: Option<u32>,
}

/// What the ranker saw for one question (for training and for `ask`).
#[derive(Debug, Clone)]
pub struct Analysis {
    pub english: bool,
    /// An answer decided before ranking (FAQ, out of scope, nothing to search with).
    pub early: Option<Answer>,
    /// Candidates, best first by the model's score.
    pub candidates: Vec<Candidate>,
    pub scores: Vec<f32>,
    /// A FAQ entry that matched too (answers instead of a weak procedure).
    faq: Option<FaqEntry>,
    /// The best score of a phrase that names no procedure, and of any procedure's phrase
    /// (same index, so they compare): how much this looks like a question to say no to.
    pub none_phrase: f32,
    pub best_phrase: f32,
}

/// Top score, margin to the second, how much of the question the top candidate explains, and
/// how much better the question matches a phrase that names no procedure than any procedure's
/// (0.5 = as well): what the confidence is calibrated on.
pub fn calibration_inputs(
    analysis: &Analysis,
) -> ([f32; ranker::CALIBRATION_INPUTS], Option<usize>) {
    let none = analysis.none_phrase / (analysis.none_phrase + analysis.best_phrase).max(1e-3);
    match (analysis.candidates.first(), analysis.scores.first()) {
        (Some(c), Some(s1)) => {
            let s2 = analysis.scores.get(1).copied().unwrap_or(0.0);
            let explained = c.features[6].max(c.features[7]);
            let margin = ((s1 - s2) / s1.abs().max(1e-3)).clamp(0.0, 1.0);
            (
                [s1 / (1.0 + s1.abs()), margin, explained, none],
                Some(c.doc),
            )
        }
        _ => ([0.0, 0.0, 0.0, none], None),
    }
}

/// The documents with the `n` highest positive scores, best first.
fn top_docs(scores: &[f32], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).filter(|&d| scores[d] > 0.0).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order.truncate(n);
    order
}

/// Weighted share of (found, weight) pairs that were found.
fn share(items: impl Iterator<Item = (bool, f32)>) -> f32 {
    let (mut found, mut total) = (0.0, 0.0);
    for (f, w) in items {
        total += w;
        if f {
            found += w;
        }
    }
    if total > 0.0 { found / total } else { 0.0 }
}

/// An assistant over one catalogue.
pub struct Assistant {
    pub procedures: Vec<Procedure>,
    index: Index,
    phrases: PhraseBank,
    pub model: Model,
    /// Names only, for the baseline.
    names: Option<Index>,
    lexicon: Lexicon,
    faq: Faq,
    level: Vec<bool>,
    /// Folded words of each name, stopwords out, for the name-cover bonus.
    name_words: Vec<Vec<String>>,
    pub settings: Settings,
}

impl Assistant {
    pub fn new(procedures: Vec<Procedure>, settings: Settings) -> Assistant {
        Assistant::with(
            procedures,
            Lexicon::builtin(),
            Faq::builtin(),
            &phrasings::builtin(),
            Model::builtin(),
            settings,
        )
    }

    pub fn with(
        procedures: Vec<Procedure>,
        lexicon: Lexicon,
        faq: Faq,
        phrases: &[Phrase],
        model: Model,
        settings: Settings,
    ) -> Assistant {
        let index = Index::build(&procedures);
        let codes: Vec<&str> = procedures.iter().map(|p| p.code.as_str()).collect();
        let phrases = PhraseBank::build(&codes, phrases, &|t| lexicon.is_stopword(t), &|w| {
            lexicon.is_english_word(w)
        });
        let names = settings.baseline.then(|| {
            Index::build(
                &procedures
                    .iter()
                    .map(|p| Procedure {
                        code: p.code.clone(),
                        name: p.name.clone(),
                        field: String::new(),
                        level: String::new(),
                        documents: Vec::new(),
                        fee: String::new(),
                        time: String::new(),
                        steps: Vec::new(),
                        online: String::new(),
                        channels: Vec::new(),
                        legal_basis: Vec::new(),
                        url: String::new(),
                    })
                    .collect::<Vec<_>>(),
            )
        });
        let level = procedures
            .iter()
            .map(|p| crate::catalogue::tthc::levels(&p.level).any(|l| l == settings.level))
            .collect();
        let name_words = procedures
            .iter()
            .map(|p| {
                let mut w: Vec<String> = normalize::tokens(&p.name)
                    .into_iter()
                    .filter(|t| !lexicon.is_stopword(t))
                    .map(|t| t.folded)
                    .collect();
                w.sort();
                w.dedup();
                w
            })
            .collect();
        Assistant {
            procedures,
            name_words,
            index,
            phrases,
            model,
            names,
            lexicon,
            faq,
            level,
            settings,
        }
    }

    pub fn ask(&self, question: &str) -> Answer {
        if self.settings.baseline {
            return self.baseline(question);
        }
        let analysis = self.analyse(question, Hide::default());
        self.answer(analysis)
    }

    /// The answer for an analysis: the early one, else the ranked procedures or "not sure"
    /// (with up to three candidates) by the calibrated confidence.
    pub fn answer(&self, analysis: Analysis) -> Answer {
        if let Some(early) = analysis.early {
            return early;
        }
        let weights = self.weights(analysis.english);
        let (x, _) = calibration_inputs(&analysis);
        let confidence = weights.confidence(&x);
        let hits: Vec<Hit> = analysis
            .candidates
            .iter()
            .zip(&analysis.scores)
            .take(self.settings.top)
            .map(|(c, s)| Hit {
                doc: c.doc,
                code: self.procedures[c.doc].code.clone(),
                name: self.procedures[c.doc].name.clone(),
                score: *s,
            })
            .collect();
        if hits.is_empty() || confidence < weights.threshold {
            if let Some(entry) = analysis.faq {
                return Answer::Faq { entry };
            }
            // Below zero: the question is like one that names no procedure (the NONE cut).
            // When a NONE phrase matches it better than any procedure's phrase (likeness 0.5
            // and up), the nearest procedures would only mislead ("trời có mưa không" near
            // aviation procedures), so none are shown; between the cut and 0.5 they are
            // ("làm căn cước cho con" is near the kiosk question "my ID card is not read",
            // and the right procedure is still worth showing).
            if confidence < 0.0 && x[3] >= 0.5 {
                return Answer::NotSure {
                    reason: "about something else".into(),
                    near: Vec::new(),
                    confidence: 0.0,
                };
            }
            return Answer::NotSure {
                reason: if hits.is_empty() {
                    "no match".into()
                } else {
                    "low confidence".into()
                },
                near: hits.into_iter().take(3).collect(),
                confidence,
            };
        }
        Answer::Procedures { hits, confidence }
    }

    fn weights(&self, english: bool) -> &Weights {
        if english {
            &self.model.en
        } else {
            &self.model.vi
        }
    }

    /// The calibrated confidence of an analysis's top candidate.
    pub fn confidence_of(&self, analysis: &Analysis) -> f32 {
        let w = self.weights(analysis.english);
        let (x, _) = calibration_inputs(analysis);
        w.confidence(&x)
    }

    /// Language, words, lexicon, FAQ; both retrievals; every candidate's features, ranked.
    pub fn analyse(&self, question: &str, hide: Hide<'_>) -> Analysis {
        let known = |w: &str| self.index.knows(w) || self.lexicon.knows(w);
        let raw = normalize::tokens(question);
        // Language first, on the words as typed: a Telex repair would turn English "is" into "í".
        let english = self.lexicon.is_english(&raw, &|w| {
            normalize::repair(w, &known).is_some_and(|t| known(&t.folded))
        });
        let words = if english {
            raw
        } else {
            normalize::query_tokens(question, &known)
        };
        let rules = if english {
            &self.lexicon.english
        } else {
            &self.lexicon.terms
        };
        let fired = Lexicon::fire(rules, &words);
        let faq = self.faq.find(&words, english).cloned();
        let mut analysis = Analysis {
            english,
            early: None,
            candidates: Vec::new(),
            scores: Vec::new(),
            faq: faq.clone(),
            none_phrase: 0.0,
            best_phrase: 0.0,
        };
        if fired.is_empty() {
            if let Some(entry) = &faq {
                analysis.early = Some(Answer::Faq {
                    entry: entry.clone(),
                });
                return analysis;
            }
            if let Some(topic) = self.lexicon.out_of_scope(&words, english) {
                analysis.early = Some(Answer::NotSure {
                    reason: format!("out of scope: {topic}"),
                    near: Vec::new(),
                    confidence: 0.0,
                });
                return analysis;
            }
        }
        let consumed: HashSet<usize> = fired.iter().flat_map(|f| f.consumed.clone()).collect();
        let mut terms = Vec::new();
        if !english {
            let keep: Vec<Option<&Token>> = words
                .iter()
                .enumerate()
                .map(|(i, t)| (!consumed.contains(&i) && !self.lexicon.is_stopword(t)).then_some(t))
                .collect();
            self.push_terms(&keep, 1.0, false, &mut terms);
        }
        // The first thing named is usually what the citizen came for ("đổi căn cước do thay đổi
        // họ tên"): later terms count a little less.
        let mut order: Vec<&lexicon::Fired> =
            fired.iter().filter(|f| !f.means.is_empty()).collect();
        order.sort_by_key(|f| f.consumed.first().copied().unwrap_or(usize::MAX));
        let mut expansion = Vec::new();
        for (i, f) in order.iter().enumerate() {
            let extra: Vec<Token> = normalize::tokens(&f.means);
            let keep: Vec<Option<&Token>> = extra.iter().map(Some).collect();
            let weight = if i == 0 {
                self.settings.expansion_weight
            } else {
                self.settings.expansion_weight * self.settings.later_term_share
            };
            self.push_terms(&keep, weight, true, &mut terms);
            expansion.extend(extra);
        }
        // The phrase query: the citizen's own words (phrases are in citizens' words), and a
        // little of what the lexicon added.
        let stop = |t: &Token| self.lexicon.is_stopword(t);
        let en_keys: Vec<String> = if english {
            ranker::en_keys(question, &|w| self.lexicon.is_english_word(w))
        } else {
            Vec::new()
        };
        let phrase_query: Vec<(String, f32)> = if english {
            en_keys.iter().map(|k| (k.clone(), 1.0)).collect()
        } else {
            let share = self.settings.exact_share;
            let mut q: Vec<(String, f32)> = ranker::vi_keys(&words, &stop, share);
            for (k, w) in ranker::vi_keys(&expansion, &stop, share) {
                if !q.iter().any(|(x, _)| *x == k) {
                    q.push((k, 0.3 * w));
                }
            }
            q
        };
        if terms.is_empty() && phrase_query.is_empty() {
            analysis.early = Some(match faq {
                Some(entry) => Answer::Faq { entry },
                None => Answer::NotSure {
                    reason: "no words to search with".into(),
                    near: Vec::new(),
                    confidence: 0.0,
                },
            });
            return analysis;
        }
        let catalogue = self.catalogue_scores(&terms);
        let (best, second, none_phrase) = self.phrase_scores(&phrase_query, english, hide);
        analysis.none_phrase = none_phrase;
        analysis.best_phrase = best.iter().copied().fold(0.0, f32::max);
        let n = self.settings.candidates;
        let cat_order = top_docs(&catalogue, n);
        let mut docs = cat_order.clone();
        let phrase_docs = top_docs(&best, n);
        for d in &phrase_docs {
            if !docs.contains(d) {
                docs.push(*d);
            }
        }
        let max_cat = docs.iter().map(|&d| catalogue[d]).fold(0.0, f32::max);
        let max_phrase = docs.iter().map(|&d| best[d]).fold(0.0, f32::max);
        let rank_of = |order: &[usize], d: usize| {
            order
                .iter()
                .position(|x| *x == d)
                .map_or(0.0, |r| 1.0 / (1.0 + r as f32))
        };
        let phrase_words: Vec<&Token> = if english {
            Vec::new()
        } else {
            words.iter().filter(|t| !stop(t)).collect()
        };
        let en_words: Vec<&String> = en_keys.iter().filter(|k| !k.contains('_')).collect();
        let hidden = |d: usize| hide.procedures.is_some_and(|h| h[d]);
        let mut candidates: Vec<Candidate> = docs
            .into_iter()
            .map(|d| {
                let rel = |x: f32, max: f32| if max > 0.0 { x / max } else { 0.0 };
                let explained_phrases = if hidden(d) || !self.phrases.has[d] {
                    0.0
                } else if english {
                    let words = &self.phrases.en_words[d];
                    share(en_words.iter().map(|w| (words.contains(*w), 1.0)))
                } else {
                    let words = &self.phrases.words[d];
                    share(
                        phrase_words
                            .iter()
                            .map(|t| (words.contains(&t.folded), self.index.idf(&t.folded))),
                    )
                };
                let features = [
                    rel(catalogue[d], max_cat),
                    (1.0 + catalogue[d]).ln() / 4.0,
                    rel(best[d], max_phrase),
                    (1.0 + best[d]).ln() / 4.0,
                    rel(second[d], max_phrase),
                    if self.level[d] { 1.0 } else { 0.0 },
                    self.confidence(d, terms.iter()),
                    explained_phrases,
                    rank_of(&cat_order, d),
                    rank_of(&phrase_docs, d),
                    self.confidence(d, terms.iter().filter(|t| t.lexicon)),
                    if hidden(d) || !self.phrases.has[d] {
                        1.0
                    } else {
                        0.0
                    },
                ];
                debug_assert_eq!(features.len(), FEATURES);
                Candidate { doc: d, features }
            })
            .collect();
        let w = self.weights(english);
        let mut scored: Vec<(f32, Candidate)> = candidates
            .drain(..)
            .map(|c| (w.score(&c.features), c))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.doc.cmp(&b.1.doc)));
        analysis.scores = scored.iter().map(|(s, _)| *s).collect();
        analysis.candidates = scored.into_iter().map(|(_, c)| c).collect();
        analysis
    }

    /// BM25F over the catalogue with the point's level preferred and the name-cover bonus. The
    /// bonus lifts a score by at most (1 + boost), so it is computed only for procedures that
    /// could then reach the candidate list; the others keep their plain score.
    fn catalogue_scores(&self, terms: &[QueryTerm]) -> Vec<f32> {
        let mut scores = Vec::new();
        if terms.is_empty() {
            scores.resize(self.procedures.len(), 0.0);
            return scores;
        }
        self.index.score(terms, &mut scores);
        for (doc, s) in scores.iter_mut().enumerate() {
            if *s > 0.0 && self.level[doc] {
                *s *= 1.0 + self.settings.level_boost;
            }
        }
        let n = self.settings.candidates.max(1);
        let mut positive: Vec<f32> = scores.iter().copied().filter(|s| *s > 0.0).collect();
        let floor = if positive.len() > n {
            let (_, kth, _) = positive.select_nth_unstable_by(n - 1, |a, b| b.total_cmp(a));
            *kth / (1.0 + self.settings.name_cover_boost)
        } else {
            0.0
        };
        let said: HashSet<&str> = terms.iter().map(|t| t.key.as_str()).collect();
        for (doc, s) in scores.iter_mut().enumerate() {
            if *s <= 0.0 || *s < floor {
                continue;
            }
            let name = &self.name_words[doc];
            if !name.is_empty() {
                let covered = name.iter().filter(|w| said.contains(w.as_str())).count();
                let cover = covered as f32 / name.len() as f32;
                *s *= 1.0 + self.settings.name_cover_boost * cover * cover;
            }
        }
        scores
    }

    /// The best and second-best phrase score of every procedure.
    fn phrase_scores(
        &self,
        query: &[(String, f32)],
        english: bool,
        hide: Hide<'_>,
    ) -> (Vec<f32>, Vec<f32>, f32) {
        let n = self.procedures.len();
        let (mut best, mut second) = (vec![0f32; n], vec![0f32; n]);
        let mut none = 0f32;
        let (index, owner, skip) = if english {
            (&self.phrases.en, &self.phrases.en_owner, hide.en_phrase)
        } else {
            (&self.phrases.vi, &self.phrases.vi_owner, hide.vi_phrase)
        };
        if query.is_empty() || index.is_empty() {
            return (best, second, none);
        }
        let mut scores = Vec::new();
        index.score(query, &mut scores);
        for (i, s) in scores.iter().enumerate() {
            if *s <= 0.0 || Some(i) == skip {
                continue;
            }
            if PhraseBank::is_none(owner[i]) {
                if hide.none_topic != Some(owner[i]) {
                    none = none.max(*s);
                }
                continue;
            }
            let d = owner[i] as usize;
            if hide.procedures.is_some_and(|h| h[d]) {
                continue;
            }
            if *s > best[d] {
                second[d] = best[d];
                best[d] = *s;
            } else if *s > second[d] {
                second[d] = *s;
            }
        }
        (best, second, none)
    }

    /// The phrasing data as indexed (training reads the phrases back as questions).
    pub fn phrase_bank(&self) -> &PhraseBank {
        &self.phrases
    }

    /// How many phrases and procedures with phrases this assistant has.
    pub fn phrase_counts(&self) -> (usize, usize, usize) {
        (
            self.phrases.vi.len(),
            self.phrases.en.len(),
            self.phrases.has.iter().filter(|h| **h).count(),
        )
    }

    /// Unigrams (evidence), adjacent pairs and exact keys of the kept words; `None` breaks a
    /// pair (a stopword or a word the lexicon explained sat there).
    fn push_terms(
        &self,
        words: &[Option<&Token>],
        weight: f32,
        lexicon: bool,
        terms: &mut Vec<QueryTerm>,
    ) {
        let mut add = |key: String, weight: f32, evidence: bool| {
            if let Some(t) = terms.iter_mut().find(|t| t.key == key) {
                t.weight = t.weight.max(weight);
                t.evidence |= evidence;
                t.lexicon |= lexicon;
            } else {
                terms.push(QueryTerm {
                    key,
                    weight,
                    evidence,
                    lexicon,
                });
            }
        };
        let share = self.settings.exact_share;
        for t in words.iter().flatten() {
            if t.marked {
                add(t.folded.clone(), weight * (1.0 - share), true);
                add(index::exact(&t.exact), weight * share, false);
            } else {
                add(t.folded.clone(), weight, true);
            }
        }
        for w in words.windows(2) {
            if let [Some(a), Some(b)] = w {
                add(index::pair(&a.folded, &b.folded), weight, false);
            }
        }
    }

    fn rank(&self, index: &Index, terms: &[QueryTerm], prefer_level: bool) -> Vec<Hit> {
        let mut scores = Vec::new();
        index.score(terms, &mut scores);
        if prefer_level {
            for (s, here) in scores.iter_mut().zip(&self.level) {
                if *here {
                    *s *= 1.0 + self.settings.level_boost;
                }
            }
            // The name-cover bonus can lift a score by at most (1 + boost): only documents
            // that could then reach the current top list need it computed.
            let top = self.settings.top.max(1);
            let mut positive: Vec<f32> = scores.iter().copied().filter(|s| *s > 0.0).collect();
            let floor = if positive.len() > top {
                let (_, kth, _) = positive.select_nth_unstable_by(top - 1, |a, b| b.total_cmp(a));
                *kth / (1.0 + self.settings.name_cover_boost)
            } else {
                0.0
            };
            let said: HashSet<&str> = terms.iter().map(|t| t.key.as_str()).collect();
            for (doc, s) in scores.iter_mut().enumerate() {
                if *s <= 0.0 {
                    continue;
                }
                if *s < floor {
                    *s = 0.0;
                    continue;
                }
                let name = &self.name_words[doc];
                if !name.is_empty() {
                    let covered = name.iter().filter(|w| said.contains(w.as_str())).count();
                    let cover = covered as f32 / name.len() as f32;
                    *s *= 1.0 + self.settings.name_cover_boost * cover * cover;
                }
            }
        }
        let mut order: Vec<usize> = (0..scores.len()).filter(|&d| scores[d] > 0.0).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        order
            .into_iter()
            .take(self.settings.top)
            .map(|d| Hit {
                doc: d,
                code: self.procedures[d].code.clone(),
                name: self.procedures[d].name.clone(),
                score: scores[d],
            })
            .collect()
    }

    /// Share of the question's evidence (rarity-weighted unigrams) found in a procedure.
    fn confidence<'t>(&self, doc: usize, terms: impl Iterator<Item = &'t QueryTerm>) -> f32 {
        let mut total = 0.0;
        let mut found = 0.0;
        for t in terms.filter(|t| t.evidence) {
            let w = self.index.idf(&t.key) * t.weight;
            total += w;
            if self.index.contains(doc, &t.key) {
                found += w;
            }
        }
        if total > 0.0 { found / total } else { 0.0 }
    }

    /// The baseline: BM25 over names only, folded unigrams, no lexicon, no threshold.
    fn baseline(&self, question: &str) -> Answer {
        let terms: Vec<QueryTerm> = normalize::tokens(question)
            .into_iter()
            .map(|t| QueryTerm {
                key: t.folded,
                weight: 1.0,
                evidence: true,
                lexicon: false,
            })
            .collect();
        let hits = match &self.names {
            Some(names) => self.rank(names, &terms, false),
            None => Vec::new(),
        };
        if hits.is_empty() {
            return Answer::NotSure {
                reason: "no match".into(),
                near: Vec::new(),
                confidence: 0.0,
            };
        }
        Answer::Procedures {
            hits,
            confidence: 1.0,
        }
    }
}

//! The virtual assistant: a citizen's question in their own words -> the procedure they need,
//! an answer about the service point, or "not sure, ask staff". Pure Rust, offline, in memory.
//!
//! Pipeline: normalise (NFC, tones out into keys, Telex repair) -> lexicon (synonyms, situation
//! rules, English glossary, out-of-scope topics, FAQ) -> BM25F over the catalogue -> a
//! preference for this point's level -> a confidence (how much of what the citizen said the top
//! procedure explains, weighted by rarity) and a threshold.

pub mod compose;
pub mod index;
pub mod lexicon;
pub mod normalize;

use std::collections::HashSet;

use serde::Serialize;

use crate::catalogue::Procedure;
use index::{Index, QueryTerm};
use lexicon::{Faq, FaqEntry, Lexicon};
use normalize::Token;

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

/// An assistant over one catalogue.
pub struct Assistant {
    pub procedures: Vec<Procedure>,
    index: Index,
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
        Assistant::with(procedures, Lexicon::builtin(), Faq::builtin(), settings)
    }

    pub fn with(
        procedures: Vec<Procedure>,
        lexicon: Lexicon,
        faq: Faq,
        settings: Settings,
    ) -> Assistant {
        let index = Index::build(&procedures);
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
        let known = |w: &str| self.index.knows(w) || self.lexicon.knows(w);
        // Language first, on the words as typed: a Telex repair would turn English "is" into "í".
        let english = self.lexicon.is_english(&normalize::tokens(question));
        let words = if english {
            normalize::tokens(question)
        } else {
            normalize::query_tokens(question, &known)
        };
        let rules = if english {
            &self.lexicon.english
        } else {
            &self.lexicon.terms
        };
        let fired = Lexicon::fire(rules, &words);
        let faq = self.faq.find(&words, english);
        if fired.is_empty() {
            if let Some(entry) = faq {
                return Answer::Faq {
                    entry: entry.clone(),
                };
            }
            if let Some(topic) = self.lexicon.out_of_scope(&words, english) {
                return Answer::NotSure {
                    reason: format!("out of scope: {topic}"),
                    near: Vec::new(),
                    confidence: 0.0,
                };
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
        for (i, f) in order.iter().enumerate() {
            let extra: Vec<Token> = normalize::tokens(&f.means);
            let keep: Vec<Option<&Token>> = extra.iter().map(Some).collect();
            let weight = if i == 0 {
                self.settings.expansion_weight
            } else {
                self.settings.expansion_weight * self.settings.later_term_share
            };
            self.push_terms(&keep, weight, true, &mut terms);
        }
        if terms.is_empty() {
            return match faq {
                Some(entry) => Answer::Faq {
                    entry: entry.clone(),
                },
                None => Answer::NotSure {
                    reason: "no words to search with".into(),
                    near: Vec::new(),
                    confidence: 0.0,
                },
            };
        }
        let hits = self.rank(&self.index, &terms, true);
        let confidence = hits
            .first()
            .map(|h| {
                let all = self.confidence(h.doc, terms.iter());
                // A lexicon term that fired is strong evidence on its own: when the procedure
                // carries what the term means, the citizen's other words (situations are
                // wordy) matter less.
                let said = self.confidence(h.doc, terms.iter().filter(|t| t.lexicon));
                all.max(self.settings.lexicon_trust * said)
            })
            .unwrap_or(0.0);
        // With no lexicon help, a procedure this point does not handle needs near-certainty:
        // citizens here rarely ask for customs or tax procedures by accident of wording.
        let needed = match hits.first() {
            Some(h) if fired.is_empty() && !self.level[h.doc] => {
                self.settings.min_confidence_elsewhere
            }
            _ => self.settings.min_confidence,
        };
        if hits.is_empty() || confidence < needed {
            if let Some(entry) = faq {
                return Answer::Faq {
                    entry: entry.clone(),
                };
            }
            return Answer::NotSure {
                reason: "low confidence".into(),
                near: hits,
                confidence,
            };
        }
        Answer::Procedures { hits, confidence }
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

//! How people name things, and what the catalogue calls them: `assets/assistant/lexicon.toml`
//! (terms, situation rules, English glossary, out-of-scope topics) and
//! `assets/assistant/faq.toml` (questions about the service point itself).
//!
//! Phrases match a question's words in order. A one-word phrase must match the typed word
//! exactly (tones included) unless the citizen typed that word without marks; a longer phrase
//! matches on folded words, where a collision is unlikely.

use serde::Deserialize;

use super::normalize::{self, Token};

static LEXICON: &str = include_str!("../../assets/assistant/lexicon.toml");
static FAQ: &str = include_str!("../../assets/assistant/faq.toml");

/// A phrase, pre-tokenised.
#[derive(Debug, Clone)]
pub struct Phrase {
    pub text: String,
    tokens: Vec<Token>,
}

impl Phrase {
    pub fn new(text: &str) -> Phrase {
        Phrase {
            text: text.to_string(),
            tokens: normalize::tokens(text),
        }
    }

    /// Start positions where the phrase occurs in `words`.
    pub fn find(&self, words: &[Token]) -> Vec<usize> {
        self.find_in(words, false)
    }

    /// As `find`; `strict` compares every word with its tones (for English questions, where
    /// "but" must not match "bút").
    pub fn find_in(&self, words: &[Token], strict: bool) -> Vec<usize> {
        let n = self.tokens.len();
        if n == 0 || words.len() < n {
            return Vec::new();
        }
        (0..=words.len() - n)
            .filter(|&i| {
                self.tokens.iter().zip(&words[i..i + n]).all(|(p, w)| {
                    if strict || n == 1 && w.marked {
                        p.exact == w.exact
                    } else {
                        p.folded == w.folded
                    }
                })
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerm {
    say: Vec<String>,
    means: String,
    #[serde(default)]
    unless: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    /// Every group must be present (any phrase of the group).
    all: Vec<Vec<String>>,
    means: String,
    #[serde(default)]
    unless: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLexicon {
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    english_words: Vec<String>,
    #[serde(default)]
    term: Vec<RawTerm>,
    #[serde(default)]
    rule: Vec<RawRule>,
    #[serde(default)]
    english: Vec<RawTerm>,
    #[serde(default)]
    outofscope: Vec<String>,
}

/// A synonym or a situation: when its phrases are present, `means` joins the query.
#[derive(Debug, Clone)]
pub struct Rule {
    pub groups: Vec<Vec<Phrase>>,
    pub means: String,
    pub unless: Vec<Phrase>,
}

#[derive(Debug, Clone)]
pub struct Lexicon {
    stop_exact: std::collections::HashSet<String>,
    stop_folded: std::collections::HashSet<String>,
    english_words: std::collections::HashSet<String>,
    pub terms: Vec<Rule>,
    pub english: Vec<Rule>,
    pub outofscope: Vec<Phrase>,
    known: std::collections::HashSet<String>,
}

/// A rule that fired: what it adds, and which question words it explains.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub means: String,
    pub consumed: Vec<usize>,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct LexiconError {
    pub file: String,
    pub message: String,
}

fn phrases(list: &[String]) -> Vec<Phrase> {
    list.iter().map(|s| Phrase::new(s)).collect()
}

impl Lexicon {
    pub fn builtin() -> Lexicon {
        Lexicon::parse("assets/assistant/lexicon.toml", LEXICON)
            .unwrap_or_else(|e| panic!("built-in lexicon: {e}"))
    }

    pub fn parse(file: &str, text: &str) -> Result<Lexicon, LexiconError> {
        let raw: RawLexicon = toml::from_str(text).map_err(|e| LexiconError {
            file: file.into(),
            message: e.to_string(),
        })?;
        let mut stop_exact = std::collections::HashSet::new();
        let mut stop_folded = std::collections::HashSet::new();
        for w in &raw.stopwords {
            let t = normalize::token(w);
            stop_exact.insert(t.exact);
            // An unmarked stopword ("a", "o") also stops its folded form; a marked one only
            // when typed without marks and listed folded too.
            if !t.marked {
                stop_folded.insert(t.folded);
            }
        }
        let term = |t: &RawTerm| Rule {
            groups: vec![phrases(&t.say)],
            means: t.means.clone(),
            unless: phrases(&t.unless),
        };
        let terms: Vec<Rule> = raw
            .term
            .iter()
            .map(term)
            .chain(raw.rule.iter().map(|r| Rule {
                groups: r.all.iter().map(|g| phrases(g)).collect(),
                means: r.means.clone(),
                unless: phrases(&r.unless),
            }))
            .collect();
        let english: Vec<Rule> = raw.english.iter().map(term).collect();
        let mut known = std::collections::HashSet::new();
        for r in terms.iter().chain(&english) {
            for g in &r.groups {
                for p in g {
                    known.extend(p.tokens.iter().map(|t| t.folded.clone()));
                }
            }
        }
        Ok(Lexicon {
            stop_exact,
            stop_folded,
            english_words: raw.english_words.iter().map(|w| w.to_lowercase()).collect(),
            terms,
            english,
            outofscope: phrases(&raw.outofscope),
            known,
        })
    }

    /// A word the lexicon uses (so a Telex repair into it is right).
    pub fn knows(&self, folded: &str) -> bool {
        self.known.contains(folded)
    }

    pub fn is_stopword(&self, t: &Token) -> bool {
        if t.marked {
            self.stop_exact.contains(&t.exact)
        } else {
            self.stop_folded.contains(&t.folded) || self.stop_exact.contains(&t.exact)
        }
    }

    /// English when several English function words appear and no Vietnamese marks do.
    /// An English function word ("the", "my", "how"...).
    pub fn is_english_word(&self, word: &str) -> bool {
        self.english_words.contains(&word.to_lowercase())
    }

    /// Whether a question is English. Vietnamese typed without marks shares many syllables
    /// with English words ("lam so do lan dau": so, do, lam...), so a word counts for English
    /// only when it cannot be a Vietnamese syllable at all ("how", "birth", "register") and
    /// the Telex repair (`vietnamese_like`) does not make it a known word ("ddang" -> "đang");
    /// a word with Vietnamese marks, or a syllable that is not an English function word,
    /// counts for Vietnamese. English wins only with more words than Vietnamese.
    pub fn is_english(&self, words: &[Token], vietnamese_like: &dyn Fn(&str) -> bool) -> bool {
        let mut english = 0;
        let mut vietnamese = 0;
        for t in words {
            if !t.folded.chars().any(|c| c.is_alphabetic()) {
                continue;
            }
            if t.marked {
                vietnamese += 1;
            } else if !normalize::is_syllable(&t.folded) {
                if vietnamese_like(&t.folded) {
                    vietnamese += 1;
                } else {
                    english += 1;
                }
            } else if !self.english_words.contains(&t.folded) {
                vietnamese += 1;
            }
        }
        english >= 1 && english > vietnamese
    }

    /// Rules of `set` that fire on `words`. Rules that add nothing ("đã làm khai sinh": already
    /// done) go first, and the words they explain are hidden from the others.
    pub fn fire(set: &[Rule], words: &[Token]) -> Vec<Fired> {
        let mut out = Self::fire_pass(set.iter().filter(|r| r.means.is_empty()), words);
        let hidden: std::collections::HashSet<usize> = out
            .iter()
            .flat_map(|f| f.consumed.iter().copied())
            .collect();
        let masked: Vec<Token> = words
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if hidden.contains(&i) {
                    Token {
                        folded: String::new(),
                        exact: String::new(),
                        marked: false,
                    }
                } else {
                    t.clone()
                }
            })
            .collect();
        out.extend(Self::fire_pass(
            set.iter().filter(|r| !r.means.is_empty()),
            &masked,
        ));
        out
    }

    fn fire_pass<'r>(set: impl Iterator<Item = &'r Rule>, words: &[Token]) -> Vec<Fired> {
        let mut out = Vec::new();
        for rule in set {
            if rule.unless.iter().any(|p| !p.find(words).is_empty()) {
                continue;
            }
            let mut consumed = Vec::new();
            let mut all = true;
            for group in &rule.groups {
                let mut hit = false;
                for p in group {
                    for start in p.find(words) {
                        hit = true;
                        consumed.extend(start..start + p.len());
                    }
                }
                if !hit {
                    all = false;
                    break;
                }
            }
            if all {
                consumed.sort_unstable();
                consumed.dedup();
                out.push(Fired {
                    means: rule.means.clone(),
                    consumed,
                });
            }
        }
        out
    }

    /// The out-of-scope topic named in the question, if any.
    pub fn out_of_scope(&self, words: &[Token], english: bool) -> Option<&str> {
        self.outofscope
            .iter()
            .find(|p| !p.find_in(words, english).is_empty())
            .map(|p| p.text.as_str())
    }
}

/// An answer about the service point itself.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaqEntry {
    pub id: String,
    pub say: Vec<String>,
    pub answer_vi: String,
    pub answer_en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaq {
    #[serde(default)]
    suggestions_vi: Vec<String>,
    #[serde(default)]
    suggestions_en: Vec<String>,
    faq: Vec<FaqEntry>,
}

#[derive(Debug, Clone)]
pub struct Faq {
    pub entries: Vec<(FaqEntry, Vec<Phrase>)>,
    /// The most asked questions, as chips on the assistant page.
    pub suggestions_vi: Vec<String>,
    pub suggestions_en: Vec<String>,
}

impl Faq {
    pub fn builtin() -> Faq {
        Faq::parse("assets/assistant/faq.toml", FAQ).unwrap_or_else(|e| panic!("built-in FAQ: {e}"))
    }

    pub fn parse(file: &str, text: &str) -> Result<Faq, LexiconError> {
        let raw: RawFaq = toml::from_str(text).map_err(|e| LexiconError {
            file: file.into(),
            message: e.to_string(),
        })?;
        Ok(Faq {
            suggestions_vi: raw.suggestions_vi,
            suggestions_en: raw.suggestions_en,
            entries: raw
                .faq
                .into_iter()
                .map(|e| {
                    let p = phrases(&e.say);
                    (e, p)
                })
                .collect(),
        })
    }

    /// The entry whose phrases cover most of the question's words.
    pub fn find(&self, words: &[Token], english: bool) -> Option<&FaqEntry> {
        self.entries
            .iter()
            .filter_map(|(e, ps)| {
                let covered: usize = ps
                    .iter()
                    .filter(|p| !p.find_in(words, english).is_empty())
                    .map(|p| p.len())
                    .sum();
                (covered > 0).then_some((e, covered))
            })
            .max_by_key(|(_, c)| *c)
            .map(|(e, _)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<Token> {
        normalize::tokens(s)
    }

    #[test]
    fn one_word_phrases_respect_typed_tones_longer_ones_fold() {
        let p = Phrase::new("mất");
        assert_eq!(p.find(&words("bố tôi mất")), [2]);
        assert!(p.find(&words("mặt trời")).is_empty());
        assert_eq!(p.find(&words("bo toi mat")), [2]);
        let p = Phrase::new("sổ đỏ");
        assert_eq!(p.find(&words("lam so do lan dau")), [1]);
    }

    #[test]
    fn builtin_files_parse_and_rules_fire() {
        let lex = Lexicon::builtin();
        let fired = Lexicon::fire(&lex.terms, &words("làm sổ đỏ lần đầu"));
        assert!(
            fired
                .iter()
                .any(|f| f.consumed.contains(&1) && f.consumed.contains(&2)),
            "{fired:?}"
        );
        let no = |_: &str| false;
        assert!(lex.is_english(&words("I'm a foreigner renting a flat in Tay Ho. My landlord says my temporary residence must be declared"), &no));
        assert!(lex.is_english(&words("How do I get my passport back?"), &no));
        assert!(!lex.is_english(&words("làm hộ chiếu"), &no));
        // Unmarked Vietnamese made of syllables that are also English words.
        assert!(!lex.is_english(&words("lam so do lan dau"), &no));
        assert!(!lex.is_english(&words("the can cuoc bi mat"), &no));
        // Telex leftovers that repair to Vietnamese words count for Vietnamese.
        let repairs = |w: &str| w == "ddang" || w == "kys";
        assert!(!lex.is_english(&words("ddang kys ket hon"), &repairs));
        let faq = Faq::builtin();
        assert!(faq.find(&words("nhà vệ sinh ở đâu"), false).is_some());
        assert!(faq.find(&words("but I want"), true).is_none());
    }
}

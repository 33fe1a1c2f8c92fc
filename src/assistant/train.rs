//! Training and honest measurement of the ranker (`kiosk assistant train`, `eval --folds`).
//!
//! Training questions are the phrasing data itself, each phrase asked with itself hidden
//! (leave one out), and the labelled question sets; the scoring weights are fitted by pairwise
//! logistic loss, then the confidence by logistic regression, then the "not sure" threshold on
//! held-out folds: the lowest threshold that keeps questions with no procedure (NONE rows)
//! at least 90 % refused, so as little top-1 as possible is lost to refusals.
//!
//! Folds split two ways, and neither lets a fold's questions reach its training:
//! - by procedure: a fold's procedures lose their phrases from the index and from training,
//!   and their questions are the test (how the assistant does on procedures nobody phrased);
//! - by kind: each kind of question (formal, situation, english...) is tested on weights
//!   trained without any question of that kind (phrases stay, as on a real kiosk).

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use serde::Serialize;

use super::ranker::{self, Example, Model, Weights};
use super::{Analysis, Assistant, Hide, calibration_inputs};

/// One row of the questions TSV.
#[derive(Debug, Clone)]
pub struct Question {
    pub id: String,
    pub question: String,
    /// Empty for NONE.
    pub expected: Vec<String>,
    pub kind: String,
}

pub fn read_questions(path: &Path) -> Result<Vec<Question>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    parse_questions(&path.display().to_string(), &text)
}

pub fn parse_questions(file: &str, text: &str) -> Result<Vec<Question>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if n == 0 && line.starts_with("id\t") || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 4 {
            return Err(anyhow!(
                "{file}:{}: expected 4 tab-separated columns (id, question, expected_codes, kind), found {}",
                n + 1,
                cols.len()
            ));
        }
        let expected = if cols[2].trim() == "NONE" {
            Vec::new()
        } else {
            cols[2].split('|').map(|c| c.trim().to_string()).collect()
        };
        out.push(Question {
            id: cols[0].to_string(),
            question: cols[1].to_string(),
            expected,
            kind: cols[3].trim().to_string(),
        });
    }
    if out.is_empty() {
        return Err(anyhow!("{file}: no questions"));
    }
    Ok(out)
}

/// A question the ranker learns from or is measured on, analysed once.
struct Seen {
    analysis: Analysis,
    /// Codes that are right (empty: no procedure should be offered).
    expected: Vec<String>,
    kind: String,
    /// From the labelled sets (weighted more than phrases: they are citizens' own words).
    labelled: bool,
}

fn right_flags(a: &Assistant, seen: &Seen) -> Vec<bool> {
    seen.analysis
        .candidates
        .iter()
        .map(|c| seen.expected.contains(&a.procedures[c.doc].code))
        .collect()
}

/// Questions asked as if their procedure had no phrases at all (every fourth phrase, and
/// every labelled question): so the model learns to rank procedures nobody phrased yet, as the
/// catalogue has 1,800 of them.
fn unphrased(
    a: &Assistant,
    questions: &[(&str, &[String], &str)],
    hidden: Option<&[bool]>,
) -> Vec<Seen> {
    let mut out = Vec::new();
    for (text, expected, kind) in questions {
        let mut mask: Vec<bool> =
            hidden.map_or_else(|| vec![false; a.procedures.len()], <[bool]>::to_vec);
        for (d, p) in a.procedures.iter().enumerate() {
            if expected.contains(&p.code) {
                mask[d] = true;
            }
        }
        out.push(Seen {
            analysis: a.analyse(
                text,
                Hide {
                    procedures: Some(&mask),
                    ..Hide::default()
                },
            ),
            expected: expected.to_vec(),
            kind: format!("unphrased:{kind}"),
            labelled: false,
        });
    }
    out
}

fn augment(a: &Assistant, questions: &[Question], hidden: Option<&[bool]>) -> Vec<Seen> {
    let bank = a.phrase_bank();
    let mut asked: Vec<(String, Vec<String>, String)> = Vec::new();
    for (i, (text, _)) in bank.vi_text.iter().enumerate().step_by(4) {
        if ranker::PhraseBank::is_none(bank.vi_owner[i]) {
            continue;
        }
        let doc = bank.vi_owner[i] as usize;
        if hidden.is_some_and(|h| h[doc]) {
            continue;
        }
        asked.push((
            text.clone(),
            vec![a.procedures[doc].code.clone()],
            "phrase".into(),
        ));
    }
    for q in questions.iter().filter(|q| !q.expected.is_empty()) {
        asked.push((q.question.clone(), q.expected.clone(), q.kind.clone()));
    }
    let refs: Vec<(&str, &[String], &str)> = asked
        .iter()
        .map(|(t, e, k)| (t.as_str(), e.as_slice(), k.as_str()))
        .collect();
    unphrased(a, &refs, hidden)
}

/// Every phrase as a question with itself hidden, except phrases of `hidden` procedures.
fn phrase_questions(a: &Assistant, hidden: Option<&[bool]>) -> Vec<Seen> {
    let bank = a.phrase_bank();
    let mut out = Vec::new();
    // Phrases that name no procedure are asked too (with themselves hidden): they teach the
    // confidence what a question to say no to looks like, so they count as citizens' questions.
    let vi = bank
        .vi_text
        .iter()
        .zip(&bank.vi_owner)
        .map(|((text, kind), owner)| (text, *owner, format!("{kind:?}").to_lowercase(), false));
    let en = bank
        .en_text
        .iter()
        .zip(&bank.en_owner)
        .map(|(text, owner)| (text, *owner, "english".to_string(), true));
    let (mut i_vi, mut i_en) = (0, 0);
    for (text, owner, kind, english) in vi.chain(en) {
        let i = if english { &mut i_en } else { &mut i_vi };
        let hide = Hide {
            vi_phrase: (!english).then_some(*i),
            en_phrase: english.then_some(*i),
            procedures: hidden,
            none_topic: None,
        };
        *i += 1;
        let none = ranker::PhraseBank::is_none(owner);
        if !none && hidden.is_some_and(|h| h[owner as usize]) {
            continue;
        }
        out.push(Seen {
            analysis: a.analyse(text, hide),
            expected: if none {
                Vec::new()
            } else {
                vec![a.procedures[owner as usize].code.clone()]
            },
            kind: match (none, english) {
                (true, false) => "phrase:none".into(),
                (true, true) => "phrase:none-english".into(),
                (false, _) => format!("phrase:{kind}"),
            },
            labelled: none,
        });
    }
    out
}

fn labelled(a: &Assistant, questions: &[Question], hidden: Option<&[bool]>) -> Vec<Seen> {
    questions
        .iter()
        .map(|q| Seen {
            analysis: a.analyse(
                &q.question,
                Hide {
                    procedures: hidden,
                    ..Hide::default()
                },
            ),
            expected: q.expected.clone(),
            kind: q.kind.clone(),
            labelled: true,
        })
        .collect()
}

/// Fit weights for one language on `seen`, starting from `start`.
fn fit(a: &Assistant, seen: &[&Seen], start: &Weights) -> Weights {
    let mut examples = Vec::new();
    for s in seen
        .iter()
        .filter(|s| s.analysis.early.is_none() && !s.expected.is_empty())
    {
        let right = right_flags(a, s);
        if !right.iter().any(|r| *r) {
            continue;
        }
        let ex = Example {
            candidates: s.analysis.candidates.clone(),
            right,
        };
        // Citizens' own questions count three times a phrase.
        let copies = if s.labelled { 3 } else { 1 };
        for _ in 0..copies {
            examples.push(ex.clone());
        }
    }
    let score = ranker::fit_scores(&examples, &start.score, 150);
    let mut w = Weights {
        score,
        calibration: start.calibration,
        threshold: start.threshold,
        none_cut: start.none_cut,
    };
    // Calibrated on citizens' questions (they include questions with no procedure); phrases
    // alone are all in scope and would teach that everything is certain.
    let use_labelled = seen.iter().filter(|s| s.labelled).count() >= 20;
    let rows: Vec<([f32; ranker::CALIBRATION_INPUTS], bool)> = seen
        .iter()
        .filter(|s| s.analysis.early.is_none() && (s.labelled || !use_labelled))
        .map(|s| {
            let r = rescore(&s.analysis, &w);
            let (x, top) = calibration_inputs(&r);
            let right = top.is_some_and(|d| s.expected.contains(&a.procedures[d].code));
            (x, right)
        })
        .collect();
    w.calibration = ranker::fit_calibration(&rows, start.calibration, 300);
    w
}

/// The analysis re-ranked under other weights.
fn rescore(analysis: &Analysis, w: &Weights) -> Analysis {
    let mut scored: Vec<(f32, super::Candidate)> = analysis
        .candidates
        .iter()
        .map(|c| (w.score(&c.features), c.clone()))
        .collect();
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.doc.cmp(&y.1.doc)));
    Analysis {
        english: analysis.english,
        early: analysis.early.clone(),
        scores: scored.iter().map(|(s, _)| *s).collect(),
        candidates: scored.into_iter().map(|(_, c)| c).collect(),
        faq: analysis.faq.clone(),
        none_phrase: analysis.none_phrase,
        best_phrase: analysis.best_phrase,
    }
}

fn fit_model(a: &Assistant, seen: &[Seen], start: &Model) -> Model {
    let vi: Vec<&Seen> = seen.iter().filter(|s| !s.analysis.english).collect();
    let en: Vec<&Seen> = seen.iter().filter(|s| s.analysis.english).collect();
    Model {
        trained: start.trained.clone(),
        vi: fit(a, &vi, &start.vi),
        en: if en.is_empty() {
            start.en.clone()
        } else {
            fit(a, &en, &start.en)
        },
    }
}

/// One held-out prediction: what was right, and the confidence the answer had.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    pub kind: String,
    pub english: bool,
    pub none: bool,
    /// Decided before ranking (FAQ, out of scope): no threshold applies.
    pub early: bool,
    pub early_offers: bool,
    pub top1: bool,
    pub top3: bool,
    /// Without the NONE cut (`with_cut` applies it).
    pub confidence: f32,
    /// NONE likeness (the fourth calibration input).
    pub none_ratio: f32,
}

/// Predictions with the NONE cut applied: at or above it, no procedure is offered.
fn with_cut(p: &[Prediction], vi_cut: f32, en_cut: f32) -> Vec<Prediction> {
    p.iter()
        .map(|x| {
            let cut = if x.english { en_cut } else { vi_cut };
            let mut y = x.clone();
            if x.none_ratio >= cut {
                // Below any threshold, 0 included.
                y.confidence = -1.0;
            }
            y
        })
        .collect()
}

/// The highest NONE cut (fewest refusals) at which NONE rows of one language are at least
/// `floor` right with no confidence threshold; else the cut with the best top-1 + NONE right.
fn choose_cut(p: &[Prediction], english: bool, floor: f64) -> f32 {
    let mine: Vec<Prediction> = p.iter().filter(|x| x.english == english).cloned().collect();
    if mine.iter().all(|x| !x.none) {
        return 1.01;
    }
    let cuts: Vec<f32> = (30..=101).rev().map(|i| i as f32 / 100.0).collect();
    let at = |c: f32| {
        let (v, e) = if english { (1.01, c) } else { (c, 1.01) };
        figures(&with_cut(&mine, v, e), 0.0, 0.0)
    };
    if let Some(c) = cuts.iter().find(|c| {
        let (v, e) = if english { (1.01, **c) } else { (**c, 1.01) };
        balanced_none_right(&with_cut(&mine, v, e), 0.0, 0.0) >= floor
    }) {
        return *c;
    }
    cuts.into_iter()
        .max_by(|a, b| {
            let (fa, fb) = (at(*a), at(*b));
            (fa.top1 + fa.none_right).total_cmp(&(fb.top1 + fb.none_right))
        })
        .unwrap_or(1.01)
}

fn predict(a: &Assistant, s: &Seen, model: &Model) -> Prediction {
    let w = if s.analysis.english {
        &model.en
    } else {
        &model.vi
    };
    let r = rescore(&s.analysis, w);
    let codes: Vec<&str> = r
        .candidates
        .iter()
        .take(3)
        .map(|c| a.procedures[c.doc].code.as_str())
        .collect();
    let (x, _) = calibration_inputs(&r);
    let early_offers = matches!(&s.analysis.early, Some(super::Answer::Procedures { .. }));
    Prediction {
        kind: s.kind.clone(),
        english: s.analysis.english,
        none: s.expected.is_empty(),
        early: s.analysis.early.is_some(),
        early_offers,
        top1: codes
            .first()
            .is_some_and(|c| s.expected.iter().any(|e| e == c)),
        top3: codes.iter().any(|c| s.expected.iter().any(|e| e == c)),
        confidence: w.calibrated(&x),
        none_ratio: x[3],
    }
}

/// Figures of a set of predictions under a threshold.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    pub questions: usize,
    pub procedure_rows: usize,
    pub top1: f64,
    pub top3: f64,
    /// The ranking alone, whatever the confidence (first / first three candidates).
    pub ranked_top1: f64,
    pub ranked_top3: f64,
    pub none_rows: usize,
    pub none_right: f64,
}

pub fn figures(p: &[Prediction], vi_threshold: f32, en_threshold: f32) -> Figures {
    let offered = |x: &Prediction| {
        let t = if x.english {
            en_threshold
        } else {
            vi_threshold
        };
        if x.early {
            x.early_offers
        } else {
            x.confidence >= t
        }
    };
    let procs: Vec<&Prediction> = p.iter().filter(|x| !x.none).collect();
    let nones: Vec<&Prediction> = p.iter().filter(|x| x.none).collect();
    let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Figures {
        questions: p.len(),
        procedure_rows: procs.len(),
        top1: share(
            procs.iter().filter(|x| offered(x) && x.top1).count(),
            procs.len(),
        ),
        top3: share(
            procs.iter().filter(|x| offered(x) && x.top3).count(),
            procs.len(),
        ),
        ranked_top1: share(procs.iter().filter(|x| x.top1).count(), procs.len()),
        ranked_top3: share(procs.iter().filter(|x| x.top3).count(), procs.len()),
        none_rows: nones.len(),
        none_right: share(nones.iter().filter(|x| !offered(x)).count(), nones.len()),
    }
}

/// NONE rows right, with the written out-of-scope topics (`phrase:none...`, each asked with its
/// whole topic hidden from the index: harder than any citizen's question) and the citizens'
/// NONE questions weighing half each. Counted as one pool, the 600 written topics outvoted the
/// 25 citizens' rows and the cut refused 97 % of NONE rows where 90 % was asked, at the cost of
/// in-scope questions that looked a little like a topic.
fn balanced_none_right(p: &[Prediction], vi_t: f32, en_t: f32) -> f64 {
    let (written, citizens): (Vec<Prediction>, Vec<Prediction>) = p
        .iter()
        .filter(|x| x.none)
        .cloned()
        .partition(|x| x.kind.starts_with("phrase:none"));
    let right = |q: &[Prediction]| figures(q, vi_t, en_t).none_right;
    match (written.is_empty(), citizens.is_empty()) {
        (false, false) => (right(&written) + right(&citizens)) / 2.0,
        (true, _) => right(&citizens),
        (false, true) => right(&written),
    }
}

/// The lowest threshold at which NONE rows are at least `none_floor` right (so the least
/// top-1 is lost), searched on held-out predictions of one language.
/// The same over both languages together.
pub fn choose_threshold_all(p: &[Prediction], none_floor: f64) -> f32 {
    let (en, vi): (Vec<Prediction>, Vec<Prediction>) = p.iter().cloned().partition(|x| x.english);
    let mut all = vi;
    // Threshold search treats every row as one language; the language only picks weights.
    all.extend(en.into_iter().map(|mut x| {
        x.english = false;
        x
    }));
    choose_threshold(&all, false, none_floor)
}

/// When the floor cannot be met below 0.9, the threshold that maximises top-1 + NONE right.
pub fn choose_threshold(p: &[Prediction], english: bool, none_floor: f64) -> f32 {
    let mine: Vec<Prediction> = p.iter().filter(|x| x.english == english).cloned().collect();
    if mine.iter().all(|x| !x.none) {
        return 0.0;
    }
    let steps: Vec<f32> = (0..90).map(|i| i as f32 / 100.0).collect();
    if let Some(t) = steps
        .iter()
        .find(|t| balanced_none_right(&mine, **t, **t) >= none_floor)
    {
        return *t;
    }
    let value = |t: f32| {
        let f = figures(&mine, t, t);
        f.top1 + f.none_right
    };
    steps
        .into_iter()
        .max_by(|a, b| value(*a).total_cmp(&value(*b)))
        .unwrap_or(0.5)
}

/// Which fold a procedure belongs to (stable across runs: by its code).
fn fold_of(code: &str, folds: usize) -> usize {
    let h = code.bytes().fold(2166136261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16777619)
    });
    h as usize % folds
}

#[derive(Debug, Clone, Serialize)]
pub struct KindFigures {
    pub kind: String,
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    pub phrase_questions: usize,
    pub labelled_questions: usize,
    pub folds: usize,
    /// Held out by procedure: the fold's procedures have no phrases and no training questions.
    pub by_procedure: Figures,
    pub by_procedure_kinds: Vec<KindFigures>,
    /// Held out by kind: each kind tested on weights trained without it.
    pub by_kind: Vec<KindFigures>,
    pub by_kind_all: Figures,
    /// On the training questions themselves (not a measure of generalisation).
    pub training: Figures,
    pub thresholds: (f32, f32),
    pub model: Model,
}

fn per_kind(p: &[Prediction], vi: f32, en: f32) -> Vec<KindFigures> {
    let mut kinds: Vec<String> = p.iter().map(|x| x.kind.clone()).collect();
    kinds.sort();
    kinds.dedup();
    kinds
        .into_iter()
        .map(|k| {
            let mine: Vec<Prediction> = p.iter().filter(|x| x.kind == k).cloned().collect();
            KindFigures {
                kind: k,
                figures: figures(&mine, vi, en),
            }
        })
        .collect()
}

/// Train on the phrasing data and `questions`, measure on folds, choose the thresholds.
pub fn train(a: &Assistant, questions: &[Question], folds: usize) -> TrainReport {
    let start = Model::initial();
    let n = a.procedures.len();
    // By procedure.
    let mut held_proc = Vec::new();
    for f in 0..folds {
        let hidden: Vec<bool> = a
            .procedures
            .iter()
            .map(|p| fold_of(&p.code, folds) == f)
            .collect();
        let in_fold = |q: &Question| {
            if q.expected.is_empty() {
                fold_of(&q.id, folds) == f
            } else {
                q.expected.iter().any(|c| fold_of(c, folds) == f)
            }
        };
        let train_q: Vec<Question> = questions.iter().filter(|q| !in_fold(q)).cloned().collect();
        let test_q: Vec<Question> = questions.iter().filter(|q| in_fold(q)).cloned().collect();
        let mut seen = phrase_questions(a, Some(&hidden));
        seen.extend(augment(a, &train_q, Some(&hidden)));
        seen.extend(labelled(a, &train_q, Some(&hidden)));
        let model = fit_model(a, &seen, &start);
        for s in labelled(a, &test_q, Some(&hidden)) {
            held_proc.push(predict(a, &s, &model));
        }
    }
    // By kind (phrases stay; each kind's questions are never trained on).
    let mut phrases = phrase_questions(a, None);
    phrases.extend(augment(a, &[], None));
    let mut kinds: Vec<String> = questions.iter().map(|q| q.kind.clone()).collect();
    kinds.sort();
    kinds.dedup();
    let mut held_kind = Vec::new();
    let all_labelled = labelled(a, questions, None);
    for k in &kinds {
        let mut seen: Vec<Seen> = Vec::new();
        for (q, s) in questions.iter().zip(&all_labelled) {
            if &q.kind != k {
                seen.push(Seen {
                    analysis: s.analysis.clone(),
                    expected: s.expected.clone(),
                    kind: s.kind.clone(),
                    labelled: true,
                });
            }
        }
        seen.extend(phrases.iter().map(|s| Seen {
            analysis: s.analysis.clone(),
            expected: s.expected.clone(),
            kind: s.kind.clone(),
            labelled: false,
        }));
        let model = fit_model(a, &seen, &start);
        for s in all_labelled.iter().filter(|s| &s.kind == k) {
            held_kind.push(predict(a, s, &model));
        }
    }
    // The model that ships: everything.
    let mut seen = phrases;
    seen.extend(
        augment(a, questions, None)
            .into_iter()
            .filter(|s| s.kind != "unphrased:phrase"),
    );
    let labelled_n = all_labelled.len();
    seen.extend(all_labelled);
    let mut model = fit_model(a, &seen, &start);
    // One threshold for both languages, from all held-out predictions (by kind: the kiosk's
    // situation). Per language there are too few English NONE rows to choose on. Questions
    // that name no procedure, each asked with its whole topic hidden, join the pool: the
    // labelled sets have only 25 NONE rows.
    let held_none: Vec<Seen> = seen
        .iter()
        .filter(|s| s.kind.starts_with("phrase:none"))
        .map(|s| Seen {
            analysis: s.analysis.clone(),
            expected: Vec::new(),
            kind: s.kind.clone(),
            labelled: true,
        })
        .collect();
    // In-scope questions for the cut's cost: citizens' (held out by kind) and every fourth
    // phrase asked with itself hidden (the procedures nobody asked about in the sets).
    let mut pool = held_kind.clone();
    pool.extend(held_none.iter().map(|s| predict(a, s, &model)));
    pool.extend(
        seen.iter()
            .filter(|s| !s.labelled && s.kind.starts_with("phrase:"))
            .step_by(4)
            .map(|s| predict(a, s, &model)),
    );
    let (vi_cut, en_cut) = (choose_cut(&pool, false, 0.9), choose_cut(&pool, true, 0.9));
    model.vi.none_cut = vi_cut;
    model.en.none_cut = en_cut;
    let pool = with_cut(&pool, vi_cut, en_cut);
    let all_t = choose_threshold_all(&pool, 0.9);
    let (vi_t, en_t) = (all_t, all_t);
    let held_proc = with_cut(&held_proc, vi_cut, en_cut);
    let held_kind = with_cut(&held_kind, vi_cut, en_cut);

    model.vi.threshold = vi_t;
    model.en.threshold = en_t;
    model.trained = format!(
        "{} phrase questions (leave one out) + {} labelled questions; {} procedures; thresholds from {}-way held-out folds (NONE >= 90 % refused)",
        seen.len() - labelled_n,
        labelled_n,
        n,
        kinds.len()
    );
    let training: Vec<Prediction> = seen
        .iter()
        .filter(|s| s.labelled)
        .map(|s| predict(a, s, &model))
        .collect();
    TrainReport {
        phrase_questions: seen.len() - labelled_n,
        labelled_questions: labelled_n,
        folds,
        by_procedure: figures(&held_proc, vi_t, en_t),
        by_procedure_kinds: per_kind(&held_proc, vi_t, en_t),
        by_kind: per_kind(&held_kind, vi_t, en_t),
        by_kind_all: figures(&held_kind, vi_t, en_t),
        training: figures(&training, vi_t, en_t),
        thresholds: (vi_t, en_t),
        model,
    }
}

/// Write the model file.
pub fn write_model(model: &Model, path: &Path) -> Result<()> {
    std::fs::write(path, model.to_toml()).with_context(|| format!("writing {}", path.display()))?;
    let back = std::fs::read_to_string(path)?;
    Model::parse(&back).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    Ok(())
}

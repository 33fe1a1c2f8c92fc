//! `kiosk catalogue import` and `kiosk assistant ask|eval`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;

use crate::assistant::{Answer, Assistant, Settings};
use crate::catalogue::{self, Procedure};
use crate::config::Config;
use crate::store::Store;

#[derive(Subcommand, Debug, Clone)]
pub enum CatalogueWhat {
    /// Read the national portal's crawled JSON (DIR/<ministry>/<code>.json) into the store.
    /// Idempotent: a second run reports every procedure unchanged.
    Import {
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum AssistantWhat {
    /// Ranked answers to one question.
    Ask {
        /// Catalogue folder in the portal's JSON format (default: the store's catalogue).
        #[arg(long)]
        catalogue: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Plain BM25 on names, no normalisation or lexicon.
        #[arg(long)]
        baseline: bool,
        question: String,
    },
    /// Train the ranker on the phrasing data and labelled questions; measure it on held-out
    /// folds (by procedure and by kind); write the model file that ships.
    Train {
        #[arg(long)]
        catalogue: PathBuf,
        /// Labelled question sets (TSV), e.g. dev.tsv and dev2.tsv; repeat the flag.
        #[arg(long)]
        questions: Vec<PathBuf>,
        /// Where to write the model (default: assets/assistant/model.toml).
        #[arg(long, default_value = "assets/assistant/model.toml")]
        out: PathBuf,
        #[arg(long, default_value_t = 5)]
        folds: usize,
        #[arg(long)]
        json: bool,
    },
    /// This point's own misses: questions the assistant was not sure of, or whose answer the
    /// citizen left unused (scrubbed of personal data), most frequent first.
    Misses {
        #[arg(long, default_value_t = 30)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// How many procedures have phrasing data, and how many phrases.
    Coverage {
        #[arg(long)]
        catalogue: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Accuracy and latency on a TSV of questions (id, question, expected_codes|NONE, kind).
    Eval {
        #[arg(long)]
        catalogue: Option<PathBuf>,
        #[arg(long)]
        questions: PathBuf,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        baseline: bool,
        /// List every question answered wrongly.
        #[arg(long)]
        misses: bool,
    },
}

pub fn catalogue(config: &Config, what: CatalogueWhat) -> Result<ExitCode> {
    match what {
        CatalogueWhat::Import { dir, json } => {
            let mut store = Store::open(&config.db_path)?;
            let started = Instant::now();
            let report = catalogue::import::import_dir(&mut store, &dir)?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "{} files: {} added, {} changed, {} unchanged, {} removed, {} skipped ({ms:.0} ms)",
                    report.files,
                    report.added.len(),
                    report.changed.len(),
                    report.unchanged,
                    report.removed.len(),
                    report.skipped.len()
                );
                for (file, reason) in &report.skipped {
                    println!("  skipped {file}: {reason}");
                }
                let tx = store.read()?;
                let all = tx.procedures()?;
                let unmapped: std::collections::BTreeMap<&str, usize> = all
                    .iter()
                    .filter(|p| catalogue::service_for(config, p).is_none())
                    .fold(Default::default(), |mut m, p| {
                        *m.entry(p.field.as_str()).or_default() += 1;
                        m
                    });
                if !unmapped.is_empty() {
                    println!(
                        "{} field(s) have no queue in the config (add them to a service's \
                         `fields`, or give one service fields = [\"*\"]):",
                        unmapped.len()
                    );
                    for (field, n) in unmapped.iter().take(20) {
                        println!("  {field} ({n})");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn procedures(config: &Config, dir: Option<&Path>) -> Result<Vec<Procedure>> {
    match dir {
        Some(dir) => Ok(catalogue::import::read_procedures(dir)?),
        None => {
            let mut store = Store::open(&config.db_path)?;
            Ok(catalogue::load_or_seed(&mut store)?)
        }
    }
}

fn build(config: &Config, dir: Option<&Path>, baseline: bool) -> Result<(Assistant, f64)> {
    let procs = procedures(config, dir)?;
    let started = Instant::now();
    let assistant = Assistant::new(
        procs,
        Settings {
            baseline,
            ..Settings::default()
        },
    );
    Ok((assistant, started.elapsed().as_secs_f64() * 1000.0))
}

pub fn assistant(config: &Config, what: AssistantWhat) -> Result<ExitCode> {
    match what {
        AssistantWhat::Train {
            catalogue,
            questions,
            out,
            folds,
            json,
        } => {
            let (assistant, _) = build(config, Some(&catalogue), false)?;
            let mut rows = Vec::new();
            for q in &questions {
                rows.extend(read_questions(q)?);
            }
            let started = Instant::now();
            let report = crate::assistant::train::train(&assistant, &rows, folds.max(2));
            crate::assistant::train::write_model(&report.model, &out)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_train(&report);
                println!(
                    "wrote {} in {:.1} s",
                    out.display(),
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        AssistantWhat::Misses { limit, json } => {
            let mut store = Store::open(&config.db_path)?;
            let tx = store.read()?;
            let events = tx.recent_events(&[crate::domain::EventKind::AssistantMiss], 100_000)?;
            let mut by_question: std::collections::HashMap<String, (usize, usize, String)> =
                Default::default();
            for e in &events {
                let Some(d) = &e.detail else { continue };
                let q = d["question"].as_str().unwrap_or("").trim().to_lowercase();
                if q.is_empty() {
                    continue;
                }
                let entry = by_question.entry(q).or_insert((0, 0, e.at.to_rfc3339()));
                entry.0 += 1;
                entry.1 += usize::from(d["outcome"] == "not_sure");
            }
            let mut rows: Vec<(String, usize, usize, String)> = by_question
                .into_iter()
                .map(|(q, (n, ns, last))| (q, n, ns, last))
                .collect();
            rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.3.cmp(&a.3)));
            rows.truncate(limit);
            if json {
                let v: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|(q, n, ns, last)| {
                        serde_json::json!({"question": q, "count": n, "not_sure": ns, "last_at": last})
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else if rows.is_empty() {
                println!("no misses recorded");
            } else {
                println!("{:>5} {:>8}  question", "times", "not sure");
                for (q, n, ns, _) in &rows {
                    println!("{n:>5} {ns:>8}  {q}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AssistantWhat::Coverage { catalogue, json } => {
            let all = crate::assistant::phrasings::builtin();
            let coverage = crate::assistant::phrasings::coverage(&all);
            let procs = procedures(config, catalogue.as_deref())?;
            let codes: std::collections::HashSet<&str> =
                all.iter().map(|p| p.code.as_str()).collect();
            let commune: Vec<&Procedure> = procs
                .iter()
                .filter(|p| catalogue::tthc::levels(&p.level).any(|l| l == "Cấp xã"))
                .collect();
            let covered = commune
                .iter()
                .filter(|p| codes.contains(p.code.as_str()))
                .count();
            let missing: Vec<&str> = commune
                .iter()
                .filter(|p| !codes.contains(p.code.as_str()))
                .map(|p| p.code.as_str())
                .collect();
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "phrasings": coverage, "catalogue": procs.len(),
                        "commune_level": commune.len(), "commune_level_with_phrases": covered,
                        "commune_level_missing": missing,
                    })
                );
            } else {
                println!(
                    "{} files, {} procedures with phrases: {} say, {} situation, {} english ({} phrases)",
                    coverage.files,
                    coverage.procedures,
                    coverage.say,
                    coverage.situation,
                    coverage.english,
                    coverage.say + coverage.situation + coverage.english
                );
                println!(
                    "{} phrases of questions that name no procedure (out of scope, about the kiosk)",
                    coverage.not_procedures
                );
                println!(
                    "commune level: {covered} of {} procedures of this catalogue have phrases{}",
                    commune.len(),
                    if missing.is_empty() {
                        String::new()
                    } else {
                        format!("; missing: {}", missing.join(" "))
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        AssistantWhat::Ask {
            catalogue,
            json,
            baseline,
            question,
        } => {
            let (assistant, _) = build(config, catalogue.as_deref(), baseline)?;
            let answer = assistant.ask(&question);
            if json {
                println!("{}", serde_json::to_string_pretty(&answer)?);
            } else {
                print_answer(&answer);
            }
            Ok(ExitCode::SUCCESS)
        }
        AssistantWhat::Eval {
            catalogue,
            questions,
            json,
            baseline,
            misses,
        } => {
            let (assistant, index_ms) = build(config, catalogue.as_deref(), baseline)?;
            let rows = read_questions(&questions)?;
            let report = evaluate(&assistant, &rows, index_ms);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report, misses);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_answer(answer: &Answer) {
    match answer {
        Answer::Procedures { hits, confidence } => {
            println!("procedures (confidence {confidence:.2}):");
            for h in hits {
                println!("  {}  {:7.2}  {}", h.code, h.score, h.name);
            }
        }
        Answer::Faq { entry } => {
            println!(
                "about this service point ({}):\n  {}",
                entry.id, entry.answer_vi
            )
        }
        Answer::NotSure {
            reason,
            near,
            confidence,
        } => {
            println!("not sure ({reason}, confidence {confidence:.2}); suggest asking staff");
            for h in near {
                println!("  near: {}  {:7.2}  {}", h.code, h.score, h.name);
            }
        }
    }
}

pub use crate::assistant::train::{Question, read_questions};

#[derive(Debug, Default, Serialize, Clone)]
pub struct KindScore {
    pub kind: String,
    pub rows: usize,
    /// Rows that expect a procedure, and how many got it first / in the first three.
    pub procedure_rows: usize,
    pub top1: usize,
    pub top3: usize,
    /// NONE rows, and how many were answered without offering a procedure.
    pub none_rows: usize,
    pub refused: usize,
}

#[derive(Debug, Serialize, Clone)]
pub struct Miss {
    pub id: String,
    pub kind: String,
    pub question: String,
    pub expected: Vec<String>,
    pub got: Vec<String>,
    pub answer: String,
}

#[derive(Debug, Serialize, Clone)]
pub struct EvalReport {
    pub procedures: usize,
    pub index_ms: f64,
    pub questions: usize,
    /// Over rows that expect a procedure.
    pub top1: f64,
    pub top3: f64,
    /// Over NONE rows: share answered without offering a procedure.
    pub none_right: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub kinds: Vec<KindScore>,
    pub misses: Vec<Miss>,
}

pub fn evaluate(assistant: &Assistant, rows: &[Question], index_ms: f64) -> EvalReport {
    let mut kinds: std::collections::BTreeMap<String, KindScore> = Default::default();
    let mut times = Vec::with_capacity(rows.len());
    let mut misses = Vec::new();
    let (mut n_proc, mut top1, mut top3, mut n_none, mut refused) = (0, 0, 0, 0, 0);
    for row in rows {
        let started = Instant::now();
        let answer = assistant.ask(&row.question);
        times.push(started.elapsed().as_secs_f64() * 1e6);
        let got: Vec<String> = answer.offered().iter().map(|h| h.code.clone()).collect();
        let k = kinds.entry(row.kind.clone()).or_insert_with(|| KindScore {
            kind: row.kind.clone(),
            ..Default::default()
        });
        k.rows += 1;
        let right = if row.expected.is_empty() {
            n_none += 1;
            k.none_rows += 1;
            let ok = got.is_empty();
            refused += ok as usize;
            k.refused += ok as usize;
            ok
        } else {
            n_proc += 1;
            k.procedure_rows += 1;
            let one = got.first().is_some_and(|c| row.expected.contains(c));
            let three = got.iter().take(3).any(|c| row.expected.contains(c));
            top1 += one as usize;
            top3 += three as usize;
            k.top1 += one as usize;
            k.top3 += three as usize;
            one
        };
        if !right {
            misses.push(Miss {
                id: row.id.clone(),
                kind: row.kind.clone(),
                question: row.question.clone(),
                expected: row.expected.clone(),
                got,
                answer: match &answer {
                    Answer::Procedures { confidence, .. } => {
                        format!("procedures ({confidence:.2})")
                    }
                    Answer::Faq { entry } => format!("faq {}", entry.id),
                    Answer::NotSure {
                        reason,
                        near,
                        confidence,
                    } => format!(
                        "not sure: {reason} ({confidence:.2}) near {:?}",
                        near.iter()
                            .map(|h| h.code.as_str())
                            .take(3)
                            .collect::<Vec<_>>()
                    ),
                },
            });
        }
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        times
            .get(((times.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    EvalReport {
        procedures: assistant.procedures.len(),
        index_ms,
        questions: rows.len(),
        top1: share(top1, n_proc),
        top3: share(top3, n_proc),
        none_right: share(refused, n_none),
        p50_us: pct(0.5),
        p99_us: pct(0.99),
        max_us: times.last().copied().unwrap_or(0.0),
        kinds: kinds.into_values().collect(),
        misses,
    }
}

fn print_figures(label: &str, f: &crate::assistant::train::Figures) {
    println!(
        "{label:<28} {:>5} rows  top-1 {:5.1} %  top-3 {:5.1} %  NONE right {:5.1} % ({} rows)  ranked {:5.1} / {:5.1} %",
        f.questions,
        f.top1 * 100.0,
        f.top3 * 100.0,
        f.none_right * 100.0,
        f.none_rows,
        f.ranked_top1 * 100.0,
        f.ranked_top3 * 100.0
    );
}

fn print_train(r: &crate::assistant::train::TrainReport) {
    println!(
        "trained on {} phrase questions (each with itself hidden) and {} labelled questions",
        r.phrase_questions, r.labelled_questions
    );
    println!(
        "thresholds: vi {:.2}, en {:.2} (lowest with NONE >= 90 % refused, held out by kind)",
        r.thresholds.0, r.thresholds.1
    );
    print_figures("held out by kind (all)", &r.by_kind_all);
    for k in &r.by_kind {
        print_figures(&format!("  kind {}", k.kind), &k.figures);
    }
    print_figures(
        &format!("held out by procedure ({})", r.folds),
        &r.by_procedure,
    );
    for k in &r.by_procedure_kinds {
        print_figures(&format!("  kind {}", k.kind), &k.figures);
    }
    print_figures("training questions", &r.training);
}

fn print_report(r: &EvalReport, misses: bool) {
    println!(
        "{} questions on {} procedures (index built in {:.0} ms)",
        r.questions, r.procedures, r.index_ms
    );
    println!(
        "top-1 {:.1} %   top-3 {:.1} %   NONE right {:.1} %   latency p50 {:.0} us  p99 {:.0} us  max {:.0} us",
        r.top1 * 100.0,
        r.top3 * 100.0,
        r.none_right * 100.0,
        r.p50_us,
        r.p99_us,
        r.max_us
    );
    println!(
        "{:<14} {:>5} {:>7} {:>7} {:>7}",
        "kind", "rows", "top-1", "top-3", "NONE"
    );
    let pct = |a: usize, b: usize| {
        if b == 0 {
            "-".to_string()
        } else {
            format!("{:.0}%", 100.0 * a as f64 / b as f64)
        }
    };
    for k in &r.kinds {
        println!(
            "{:<14} {:>5} {:>7} {:>7} {:>7}",
            k.kind,
            k.rows,
            pct(k.top1, k.procedure_rows),
            pct(k.top3, k.procedure_rows),
            pct(k.refused, k.none_rows)
        );
    }
    if misses {
        for m in &r.misses {
            println!(
                "MISS {} [{}] {}\n     expected {:?} got {:?} — {}",
                m.id, m.kind, m.question, m.expected, m.got, m.answer
            );
        }
    }
}

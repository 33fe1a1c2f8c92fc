//! `kiosk catalogue import` and `kiosk assistant ask|eval`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
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

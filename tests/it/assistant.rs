//! The national catalogue import and the assistant, through the real `kiosk` binary, on the
//! real crawled catalogue in `../shared/data/tthc` (loaded by path, never copied here).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::kiosk_bin;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

fn catalogue() -> PathBuf {
    shared().join("tthc")
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(kiosk_bin()).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `kiosk assistant ask --json` on the national catalogue.
fn ask(question: &str) -> serde_json::Value {
    let cat = catalogue();
    json(&[
        "assistant",
        "ask",
        "--json",
        "--catalogue",
        cat.to_str().unwrap(),
        question,
    ])
}

/// `kiosk assistant eval --json` on the national catalogue (optionally the baseline).
fn eval(questions: &Path, baseline: bool) -> serde_json::Value {
    let cat = catalogue();
    let mut args = vec![
        "assistant",
        "eval",
        "--json",
        "--catalogue",
        cat.to_str().unwrap(),
        "--questions",
        questions.to_str().unwrap(),
    ];
    if baseline {
        args.push("--baseline");
    }
    json(&args)
}

fn json(args: &[&str]) -> serde_json::Value {
    let (ok, out, err) = run(args);
    assert!(ok, "kiosk {args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[test]
fn import_reads_the_national_catalogue_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.sqlite");
    let db = db.to_str().unwrap();
    let dir_arg = catalogue();
    let first = json(&[
        "--db",
        db,
        "catalogue",
        "import",
        "--json",
        dir_arg.to_str().unwrap(),
    ]);
    assert_eq!(first["files"], 2642);
    let added = first["added"].as_array().unwrap().len();
    let skipped = first["skipped"].as_array().unwrap();
    // The crawl junk (several codes sharing one detail page) is skipped with a reason.
    assert!(
        skipped.len() >= 10 && skipped.len() < 40,
        "{}",
        skipped.len()
    );
    assert!(
        skipped
            .iter()
            .all(|s| s[1].as_str().unwrap().contains("crawl junk"))
    );
    assert_eq!(added + skipped.len(), 2642);
    let second = json(&[
        "--db",
        db,
        "catalogue",
        "import",
        "--json",
        dir_arg.to_str().unwrap(),
    ]);
    assert_eq!(second["added"].as_array().unwrap().len(), 0);
    assert_eq!(second["changed"].as_array().unwrap().len(), 0);
    assert_eq!(second["unchanged"], added);

    // What was stored: clean NFC names, documents as a list, channels as rows.
    let conn = rusqlite::Connection::open(db).unwrap();
    let field: String = conn
        .query_row(
            "SELECT field FROM procedures WHERE code = '1.014063'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(field, "Cấp, quản lý căn cước", "composed to NFC");
    let demo: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM procedures WHERE source = 'demo'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(demo, 0, "the national import replaces the demo catalogue");
    let channels: Vec<(String, String, String)> = conn
        .prepare(
            "SELECT form, time, fee FROM procedure_channels WHERE code = '1.004194' ORDER BY ord",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(channels.iter().any(|c| c.0 == "Trực tiếp"), "{channels:?}");
    assert!(channels.iter().any(|c| c.0 == "Trực tuyến"), "{channels:?}");
    let docs: String = conn
        .query_row(
            "SELECT documents FROM procedures WHERE code = '1.004194'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let docs: Vec<String> = serde_json::from_str(&docs).unwrap();
    assert!(docs.len() >= 2, "{docs:?}");
    assert!(docs.iter().all(|d| !d.contains("Tên giấy tờ")), "{docs:?}");
    let with_channels: i64 = conn
        .query_row(
            "SELECT COUNT(DISTINCT code) FROM procedure_channels",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        with_channels as usize * 100 >= added * 95,
        "channels parsed for {with_channels} of {added}"
    );
}

#[test]
fn reimport_reports_changed_and_removed_procedures() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("tthc/bo-tu-phap");
    std::fs::create_dir_all(&src).unwrap();
    for code in ["1.001193", "1.004873", "2.000815"] {
        std::fs::copy(
            catalogue().join(format!("bo-tu-phap/{code}.json")),
            src.join(format!("{code}.json")),
        )
        .unwrap();
    }
    let root = dir.path().join("tthc");
    let db = dir.path().join("k.sqlite");
    let (db, root) = (db.to_str().unwrap(), root.to_str().unwrap());
    let first = json(&["--db", db, "catalogue", "import", "--json", root]);
    assert_eq!(first["added"].as_array().unwrap().len(), 3);
    // Edit one procedure's name, remove another, add a broken file.
    let path = src.join("1.004873.json");
    let mut record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    record["ten_thu_tuc"] = "Thủ tục cấp Giấy xác nhận tình trạng hôn nhân (sửa đổi)".into();
    std::fs::write(&path, serde_json::to_string(&record).unwrap()).unwrap();
    std::fs::remove_file(src.join("2.000815.json")).unwrap();
    std::fs::write(src.join("broken.json"), "{ not json").unwrap();
    let second = json(&["--db", db, "catalogue", "import", "--json", root]);
    assert_eq!(second["changed"], serde_json::json!(["1.004873"]));
    assert_eq!(second["removed"], serde_json::json!(["2.000815"]));
    assert_eq!(second["unchanged"], 1);
    let skipped = second["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(
        skipped[0][1]
            .as_str()
            .unwrap()
            .contains("not a procedure record")
    );
}

#[test]
fn import_of_a_folder_without_records_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.sqlite");
    let (ok, _, err) = run(&[
        "--db",
        db.to_str().unwrap(),
        "catalogue",
        "import",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(err.contains("no procedure records found"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let (ok, _, err) = run(&["catalogue", "import", "/no/such/dir"]);
    assert!(!ok);
    assert!(err.contains("/no/such/dir"), "{err}");
}

/// The floors on the dev set with the full catalogue (accuracy only: speed is measured
/// by `kiosk assistant eval` in release and reported, not asserted here).
#[test]
fn eval_meets_the_floors_on_the_dev_set_and_beats_the_baseline() {
    let dev = shared().join("assistant/dev.tsv");
    let ours = eval(&dev, false);
    let base = eval(&dev, true);
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
    // Top-3 was 97 % before the NONE cut; the cut `kiosk assistant train` chooses refuses a few
    // in-scope questions (they still show their candidates under "Có thể bạn cần") for NONE
    // right 70 -> 97 % on the held-out sets t3 and t4.
    assert!(f(&ours, "top1") >= 0.85, "top-1 {}", ours["top1"]);
    assert!(f(&ours, "top3") >= 0.90, "top-3 {}", ours["top3"]);
    assert!(
        f(&ours, "none_right") >= 0.90,
        "NONE {}",
        ours["none_right"]
    );
    assert!(f(&ours, "top1") > f(&base, "top1") + 0.2);
    let kinds: Vec<&str> = ours["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "formal",
        "colloquial",
        "nodiacritics",
        "typo",
        "situation",
        "english",
    ] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
}

/// Our own questions, written for this project (not the shared dev set); floors lowered with
/// the NONE cut as above (top-1 85 -> 80 %, top-3 95 -> 90 %).
#[test]
fn eval_meets_the_floors_on_our_own_question_sets() {
    for set in ["own.tsv", "heldout.tsv", "heldout2.tsv"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/assistant")
            .join(set);
        let r = json(&[
            "assistant",
            "eval",
            "--json",
            "--catalogue",
            catalogue().to_str().unwrap(),
            "--questions",
            path.to_str().unwrap(),
        ]);
        assert!(
            r["top1"].as_f64().unwrap() >= 0.80,
            "{set}: top-1 {}",
            r["top1"]
        );
        assert!(
            r["top3"].as_f64().unwrap() >= 0.90,
            "{set}: top-3 {}",
            r["top3"]
        );
        assert!(
            r["none_right"].as_f64().unwrap() >= 0.9,
            "{set}: NONE {}",
            r["none_right"]
        );
    }
}

#[test]
fn ask_answers_procedures_faq_and_not_sure_as_json() {
    let a = ask("dang ky tam tru cho nguoi thue tro");
    assert_eq!(a["kind"], "procedures");
    assert_eq!(a["hits"][0]["code"], "1.004194");
    assert!(a["hits"][0]["score"].as_f64().unwrap() > 0.0);
    let a = ask("nhà vệ sinh ở đâu?");
    assert_eq!(a["kind"], "faq");
    assert_eq!(a["entry"]["id"], "toilet");
    let a = ask("kết quả xổ số miền Bắc hôm qua");
    assert_eq!(a["kind"], "not_sure");
    // Out of scope by the phrases that name no procedure: no procedures offered beside it
    // (a weather question used to come with aviation procedures as "near").
    for q in [
        "chiều nay Hà Nội có mưa to không",
        "is there a good pho place near here",
    ] {
        let a = ask(q);
        assert_eq!(a["kind"], "not_sure", "{q}: {a}");
        assert_eq!(a["near"].as_array().map(Vec::len), Some(0), "{q}: {a}");
    }
    // Without --catalogue: the store's catalogue (the demo one on a fresh database).
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.sqlite");
    let a = json(&[
        "--db",
        db.to_str().unwrap(),
        "assistant",
        "ask",
        "--json",
        "xin giấy xác nhận độc thân",
    ]);
    assert_eq!(a["hits"][0]["code"], "1.004873");
}

#[test]
fn a_malformed_questions_file_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.tsv");
    std::fs::write(
        &path,
        "id\tquestion\texpected_codes\tkind\n1\tok\t1.001193\tformal\n2\tmissing columns\n",
    )
    .unwrap();
    let (ok, _, err) = run(&[
        "assistant",
        "eval",
        "--catalogue",
        catalogue().to_str().unwrap(),
        "--questions",
        path.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(err.contains("q.tsv:3"), "{err}");
    assert!(err.contains("expected 4 tab-separated columns"), "{err}");
}

/// Unmarked Vietnamese full of syllables that are also English words is still Vietnamese;
/// real English goes to the English phrases.
#[test]
fn unmarked_vietnamese_is_never_taken_for_english() {
    for q in [
        "lam so do lan dau",
        "the can cuoc bi mat lam lai o dau",
        "ban to khai dang ky ket hon",
    ] {
        let a = ask(q);
        assert_ne!(a["reason"], "no words to search with", "{q}: {a}");
        let offered = a["hits"]
            .as_array()
            .or(a["near"].as_array())
            .map_or(0, Vec::len);
        assert!(offered > 0, "{q}: {a}");
    }
    let a = ask("how do I register the birth of my baby");
    let codes: Vec<&str> = a["hits"]
        .as_array()
        .or(a["near"].as_array())
        .unwrap()
        .iter()
        .map(|h| h["code"].as_str().unwrap())
        .collect();
    assert!(codes.iter().take(3).any(|c| *c == "1.001193"), "{a}");
}

/// Every commune-level procedure of the national catalogue has phrasing data.
#[test]
fn every_commune_level_procedure_has_phrases() {
    let v = json(&[
        "assistant",
        "coverage",
        "--json",
        "--catalogue",
        catalogue().to_str().unwrap(),
    ]);
    assert!(v["commune_level"].as_u64().unwrap() > 500, "{v}");
    assert_eq!(v["commune_level_with_phrases"], v["commune_level"], "{v}");
    assert!(v["phrasings"]["say"].as_u64().unwrap() > 3000, "{v}");
}

/// t3: 260 questions written for this project without seeing the assistant or its data (over
/// 140 random commune and provincial procedures, every kind incl. elderly). Never trained on.
/// Its blind first run (before the phrasing data and the ranker) was top-1 37.8 %, top-3
/// 51.7 %; the floors here guard what the ranker reached, against the baseline.
#[test]
fn the_held_out_set_t3_stays_well_above_the_baseline() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/assistant/t3.tsv");
    let ours = eval(&path, false);
    let base = eval(&path, true);
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
    assert!(f(&ours, "top1") >= 0.70, "top-1 {}", ours["top1"]);
    assert!(f(&ours, "top3") >= 0.85, "top-3 {}", ours["top3"]);
    assert!(f(&ours, "none_right") >= 0.9, "NONE {}", ours["none_right"]);
    assert!(
        f(&ours, "top1") > f(&base, "top1") + 0.2,
        "{} vs baseline {}",
        ours["top1"],
        base["top1"]
    );
}

/// t4: 260 more, written the same way over 140 procedures no earlier set mentions (110 commune,
/// 30 provincial). Blind first run (engine of 1b15bbf): top-1 66.5 %, top-3 75.2 %, NONE 73.3 %
/// (baseline 38.3 / 49.6 %). Not trained on; the NONE phrases and the English phrasings came
/// after it was seen, written by helpers who saw no question set.
#[test]
fn the_held_out_set_t4_refuses_what_is_not_a_procedure() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/assistant/t4.tsv");
    let ours = eval(&path, false);
    let base = eval(&path, true);
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
    assert!(f(&ours, "none_right") >= 0.9, "NONE {}", ours["none_right"]);
    assert!(f(&ours, "top1") >= 0.60, "top-1 {}", ours["top1"]);
    assert!(f(&ours, "top3") >= 0.70, "top-3 {}", ours["top3"]);
    assert!(
        f(&ours, "top1") > f(&base, "top1") + 0.2,
        "{ours} vs {base}"
    );
}

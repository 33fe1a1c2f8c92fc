//! Config validation: the shipped files pass; each kind of mistake is reported with file, line,
//! column, key and what is allowed; several mistakes are all reported at once.

use kiosk::config::Config;

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn shipped_configs_validate() {
    for name in ["demo.toml", "commune-example.toml", "branch-example.toml"] {
        let path = root().join("kiosk-config").join(name);
        if let Err(e) = Config::load(&path) {
            panic!("{name} does not validate:\n{e}");
        }
    }
}

/// The demo with one edit applied, parsed as `bad.toml`.
fn demo_with(from: &str, to: &str) -> Vec<String> {
    let demo = kiosk::config::DEMO_TOML;
    assert!(demo.contains(from), "test edit not found: {from}");
    let text = demo.replacen(from, to, 1);
    match Config::parse("bad.toml", &text) {
        Ok(_) => panic!("accepted a broken config ({from} -> {to})"),
        Err(e) => e.problems.iter().map(|p| p.to_string()).collect(),
    }
}

fn line_of(needle: &str) -> usize {
    kiosk::config::DEMO_TOML
        .lines()
        .position(|l| l.contains(needle))
        .unwrap()
        + 1
}

#[test]
fn bad_type_names_the_key_and_the_expected_type() {
    let problems = demo_with("reset_hour = 0", "reset_hour = \"midnight\"");
    let line = line_of("reset_hour = 0");
    assert_eq!(
        problems,
        [format!(
            "bad.toml:{line}:14: site.reset_hour: expected an integer from 0 to 23, found a string"
        )]
    );
}

#[test]
fn unknown_key_is_an_error_with_a_suggestion() {
    let problems = demo_with("daily_cap = 400", "daily_capp = 400");
    let line = line_of("daily_cap = 400");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with(&format!(
            "bad.toml:{line}:1: service[1].daily_capp: unknown key (did you mean \"daily_cap\"?)"
        )),
        "{}",
        problems[0]
    );
}

#[test]
fn duplicate_prefix_names_the_first_user() {
    let problems = demo_with("prefix = \"B\"", "prefix = \"A\"");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains(
            "service[2].prefix: duplicate prefix \"A\": service \"ho-tich\" uses it already"
        ),
        "{}",
        problems[0]
    );
}

#[test]
fn counter_serving_an_unknown_service_lists_the_known_ones() {
    let problems = demo_with(
        "services = [\"dat-dai\"]",
        "services = [\"dat-dai\", \"passports\"]",
    );
    let line = line_of("services = [\"dat-dai\"]");
    assert_eq!(
        problems,
        [format!(
            "bad.toml:{line}:24: counter[4].services[2]: unknown service \"passports\"; services defined: chung-thuc, cu-tru, dat-dai, ho-tich, tong-hop, xa-hoi"
        )]
    );
}

#[test]
fn invalid_time_zone_is_refused() {
    let problems = demo_with(
        "timezone = \"Asia/Ho_Chi_Minh\"",
        "timezone = \"Asia/Hanoi\"",
    );
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].contains(
            "site.timezone: \"Asia/Hanoi\" is not a time zone; use an IANA name such as \"Asia/Ho_Chi_Minh\""
        ),
        "{}",
        problems[0]
    );
}

#[test]
fn every_problem_is_reported_at_once_in_file_order() {
    let text = kiosk::config::DEMO_TOML
        .replacen("reset_hour = 0", "reset_hour = 25", 1)
        .replacen("prefix = \"C\"", "prefix = \"c3\"", 1)
        .replacen("normal_per_priority = 2", "normal_per_priority = -1", 1)
        .replacen("mon = \"07:30-12:00, 13:30-17:00\"", "mon = \"7h30\"", 1);
    let err = Config::parse("bad.toml", &text).unwrap_err();
    let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "site.reset_hour",
            "site.opening_hours.mon",
            "service[3].prefix",
            "priority.normal_per_priority"
        ]
    );
    let lines: Vec<usize> = err.problems.iter().map(|p| p.line).collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "{lines:?}");
}

#[test]
fn missing_required_keys_and_sections_are_named() {
    let err = Config::parse("empty.toml", "").unwrap_err();
    let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["counter", "service", "site"]);
    assert!(err.problems[0].message.contains("missing key"));
}

#[test]
fn toml_syntax_errors_have_a_position() {
    let err = Config::parse("broken.toml", "[site\nid = 1").unwrap_err();
    let p = &err.problems[0];
    assert_eq!((p.file.as_str(), p.line), ("broken.toml", 1));
    assert!(p.message.starts_with("TOML syntax"), "{}", p.message);
}

#[test]
fn a_file_that_cannot_be_read_says_so() {
    let err = Config::load(std::path::Path::new("/nonexistent/site.toml")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("/nonexistent/site.toml:0:0: cannot read the file"),
        "{err}"
    );
}

#[test]
fn booking_and_scanner_mistakes_name_the_key_and_the_choices() {
    let line = line_of("order = \"booking_time\"");
    let problems = demo_with("order = \"booking_time\"", "order = \"slot\"");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with(&format!("bad.toml:{line}:")),
        "{}",
        problems[0]
    );
    assert!(
        problems[0].contains("bookings.order") && problems[0].contains("\"slot_time\""),
        "{}",
        problems[0]
    );
    let problems = demo_with("elderly_group = \"elderly\"", "elderly_group = \"old\"");
    assert!(
        problems[0].contains("scanner.elderly_group") && problems[0].contains("known: elderly"),
        "{problems:?}"
    );
    let problems = demo_with("suffix = \"cr\"", "suffix = \"enter\"");
    assert!(
        problems[0].contains("scanner.suffix") && problems[0].contains("\"crlf\""),
        "{problems:?}"
    );
    let problems = demo_with("late_minutes = 15", "late_minutes = -5");
    assert!(
        problems[0].contains("bookings.late_minutes"),
        "{problems:?}"
    );
}

//! Site configuration: read a TOML file (or the embedded demo), validate everything at once,
//! and hand out typed config. Loading order: built-in defaults, then the file, then the few
//! environment overrides the CLI passes in (`KIOSK_DB`).
//! Depends on `domain` for the value types it produces; no I/O beyond reading the one file.

pub mod reader;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveTime;
use chrono_tz::Tz;
use toml::de::DeTable;

use crate::domain::{NumberRange, PriorityRule, QuotaRule};
use crate::printer::VietnameseMode;
use crate::printer::transport::FlowControl;
pub use crate::printer::{PrinterConfig, TransportConfig};
pub use reader::Problem;
use reader::{Problems, TableReader};

/// The demo config, compiled in so that `kiosk run` works with no file at all.
pub const DEMO_TOML: &str = include_str!("../../kiosk-config/demo.toml");
/// How the embedded demo is named in messages.
pub const DEMO_NAME: &str = "<embedded kiosk-config/demo.toml>";

/// A name in the two languages the kiosk speaks: Vietnamese first.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Names {
    pub vi: String,
    pub en: String,
}

#[derive(Debug, Clone)]
pub struct Site {
    /// This point's id, unique under its branch (e.g. `phuong-kim-lien`).
    pub id: String,
    /// The branch of the centre that runs it (e.g. `cn-07`).
    pub branch: String,
    /// The centre (e.g. `hn.ttpvhcc`).
    pub centre: String,
    pub name: Names,
    pub timezone: Tz,
    /// Local hour at which a new service day starts and numbers start again.
    pub reset_hour: u32,
    /// Opening hours per weekday key (`mon`..`sun`); an empty list means closed.
    pub opening_hours: BTreeMap<String, Vec<(NaiveTime, NaiveTime)>>,
}

impl Site {
    /// `centre/branch/id`, how the centre names this point.
    pub fn path(&self) -> String {
        format!("{}/{}/{}", self.centre, self.branch, self.id)
    }
}

#[derive(Debug, Clone)]
pub struct Service {
    pub id: String,
    /// One or two capital letters printed before the number.
    pub prefix: String,
    pub name: Names,
    /// What a citizen comes to this queue for, in a few words, under the name on its tile
    /// ("Khai sinh, kết hôn, khai tử..."). Empty when staff wrote none.
    pub description: Names,
    /// Procedure fields (lĩnh vực) this queue takes, as the national catalogue names them.
    pub fields: Vec<String>,
    pub range: NumberRange,
    pub daily_cap: Option<u32>,
    /// Starting estimate of one service, before history refines it.
    pub avg_service_minutes: f64,
}

#[derive(Debug, Clone)]
pub struct Counter {
    pub number: u32,
    pub name: Names,
    pub services: Vec<String>,
    /// The clerk's sign-in PIN on the counter page (exchanged for a token), if any.
    pub pin: Option<String>,
    /// A fixed API token for this counter (a device at the desk), if any.
    pub token: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PriorityGroup {
    pub id: String,
    pub name: Names,
}

/// How citizens rate a finished service.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingConfig {
    /// How long after the service a rating is accepted (the rating screen itself shows for
    /// `screen_seconds`; a ticket's QR at the kiosk can rate later, within this window).
    pub window_minutes: u32,
    /// How long the rating screen stays up after "done" before going back to idle.
    pub screen_seconds: u32,
    /// Circular 01/2018's 2/1/0 for scores 1 to 5, for the centre's reports.
    pub circular: [u8; 5],
}

impl Default for RatingConfig {
    fn default() -> Self {
        RatingConfig {
            window_minutes: 10,
            screen_seconds: 30,
            circular: [0, 0, 1, 2, 2],
        }
    }
}

/// Numbers booked online (`[bookings]`): pulled from the centre over the reporting link.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingsConfig {
    /// Pull bookings from the centre (needs `[reporting] url` and token).
    pub enabled: bool,
    pub pull_seconds: u64,
    /// Where a booked ticket stands among walk-ins.
    pub order: crate::domain::ArrivalOrder,
    pub window: crate::domain::CheckInWindow,
}

/// `[updates]`: bundles the centre signs (`crate::bundle`), pulled over the reporting link and
/// installed by `crate::updates`. Off without a public key.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdatesConfig {
    /// The centre's Ed25519 public key (base64 of 32 bytes, `kiosk centre keygen`).
    pub public_key: Option<String>,
    /// Where bundles are installed (versions, the current one, the previous one).
    pub dir: PathBuf,
    pub pull_seconds: u64,
}

impl Default for UpdatesConfig {
    fn default() -> Self {
        UpdatesConfig {
            public_key: None,
            dir: PathBuf::from("kiosk-data/updates"),
            pull_seconds: 300,
        }
    }
}

impl Default for BookingsConfig {
    fn default() -> Self {
        BookingsConfig {
            enabled: true,
            pull_seconds: 60,
            order: crate::domain::ArrivalOrder::BookingTime,
            window: crate::domain::CheckInWindow {
                early_minutes: 60,
                late_minutes: 15,
            },
        }
    }
}

/// Which bytes end one scan (the scanner's configured suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanSuffix {
    Cr,
    Lf,
    CrLf,
    Tab,
}

impl ScanSuffix {
    pub fn bytes(self) -> &'static [u8] {
        match self {
            ScanSuffix::Cr => b"\r",
            ScanSuffix::Lf => b"\n",
            ScanSuffix::CrLf => b"\r\n",
            ScanSuffix::Tab => b"\t",
        }
    }
}

/// A 2D scanner in USB-CDC serial mode (`[scanner]`), and what a scanned card may offer.
#[derive(Debug, Clone, PartialEq)]
pub struct ScannerConfig {
    /// The serial device (`/dev/ttyACM0`); none = no serial scanner (the keyboard-mode
    /// fallback still reads ASCII codes typed by a scanner into the kiosk's window).
    pub device: Option<PathBuf>,
    pub baud: u32,
    pub suffix: ScanSuffix,
    /// From this age a scanned card offers the priority group `elderly_group` (the Law on the
    /// Elderly says 60; iHanoi uses 75). The citizen confirms.
    pub elderly_age: u32,
    pub elderly_group: Option<String>,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            device: None,
            baud: 9600,
            suffix: ScanSuffix::Cr,
            elderly_age: 60,
            elderly_group: None,
        }
    }
}

/// Reporting to the centre. No `url` means this point does not report (events still queue in
/// the outbox, within `max_events`).
#[derive(Clone)]
pub struct ReportingConfig {
    pub url: Option<String>,
    /// Bearer token; the environment variable KIOSK_CENTRE_TOKEN overrides it.
    pub token: Option<String>,
    /// Trust only this CA (PEM) for the centre's certificate.
    pub ca_file: Option<PathBuf>,
    pub snapshot_seconds: u64,
    pub batch_size: usize,
    /// Disk budget of the event log, in events (see `Tx::enforce_event_budget`).
    pub max_events: u64,
    pub timeout_seconds: u64,
}

impl ReportingConfig {
    /// The bearer token in effect: KIOSK_CENTRE_TOKEN when set, else `token`.
    pub fn effective_token(&self) -> Option<String> {
        std::env::var("KIOSK_CENTRE_TOKEN")
            .ok()
            .or_else(|| self.token.clone())
    }
}

impl fmt::Debug for ReportingConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportingConfig")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("ca_file", &self.ca_file)
            .field("snapshot_seconds", &self.snapshot_seconds)
            .field("batch_size", &self.batch_size)
            .field("max_events", &self.max_events)
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

impl Default for ReportingConfig {
    fn default() -> Self {
        ReportingConfig {
            url: None,
            token: None,
            ca_file: None,
            snapshot_seconds: 30,
            batch_size: 500,
            max_events: 2_000_000,
            timeout_seconds: 10,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Where this config came from, for messages.
    pub source: String,
    pub site: Site,
    pub db_path: PathBuf,
    pub number_width: usize,
    /// Issue tickets outside the opening hours (demo and testing); a real site says no.
    pub allow_outside_hours: bool,
    pub services: Vec<Service>,
    pub counters: Vec<Counter>,
    pub priority_rule: PriorityRule,
    pub priority_groups: Vec<PriorityGroup>,
    pub max_recalls: u32,
    pub quota: QuotaRule,
    /// Days after which citizens' identity hashes are erased.
    pub quota_retention_days: u32,
    /// Citizens' ratings of the service (`[rating]`).
    pub rating: RatingConfig,
    /// Numbers booked online (`[bookings]`).
    pub bookings: BookingsConfig,
    /// Signed update bundles from the centre (`[updates]`).
    pub updates: UpdatesConfig,
    /// The identity-card / QR scanner (`[scanner]`).
    pub scanner: ScannerConfig,
    /// The key identity numbers are hashed with, outside the database (`[quota] id_key_file`;
    /// by default `identity.key` beside the database; made on first start).
    pub id_key_file: PathBuf,
    pub printer: PrinterConfig,
    /// Seconds without a touch before the kiosk returns to the welcome page.
    pub idle_seconds: u32,
    /// Folder of digital-citizen guides (TOML); the built-in copies are used when missing.
    pub guides_dir: PathBuf,
    pub reporting: ReportingConfig,
    /// Where the hub's HTTP server listens: the LAN API, counter page, board, `/metrics`.
    pub api_listen: Option<String>,
    /// Token other kiosks present to issue tickets through the API; none = they cannot.
    pub api_kiosk_token: Option<String>,
    /// The rest of `[api]`: allowed hosts, the issuing rate limit.
    pub api: ApiConfig,
    /// The board speaks the calls ("Mời công dân có số ...").
    pub board_callout: bool,
}

/// `[api]` beyond the address and the kiosk token.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiConfig {
    /// Host names browsers may reach the hub by, besides IP addresses and `localhost` (a
    /// request naming any other `Host` is refused: DNS rebinding).
    pub allowed_hosts: Vec<String>,
    /// Tickets one address may ask for through `POST /api/tickets` in a minute.
    pub issue_per_minute: u32,
    /// The PIN of the point's supervisor page (`/supervisor`: served, service time and ratings
    /// per counter); none means no supervisor page.
    pub supervisor_pin: Option<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            allowed_hosts: Vec::new(),
            issue_per_minute: 30,
            supervisor_pin: None,
        }
    }
}

/// A serde TOML error as "FILE:LINE:COLUMN: message" (the centre's config, simulator scenarios).
pub fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> String {
    let (line, col) = e
        .span()
        .map(|s| {
            let before = &text[..s.start.min(text.len())];
            (
                before.matches('\n').count() + 1,
                before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
            )
        })
        .unwrap_or((0, 0));
    format!("{}:{line}:{col}: {}", path.display(), e.message())
}

/// Why a secret is too weak for a hub on the LAN: the demo's, a placeholder, or a PIN anyone
/// would try first (one digit repeated, a run up or down, a known favourite).
pub(crate) fn weak_secret(value: &str) -> Option<&'static str> {
    let lower = value.to_ascii_lowercase();
    if [
        "change-me",
        "changeme",
        "demo",
        "example",
        "password",
        "secret",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        return Some("a demo or placeholder secret");
    }
    let digits: Vec<i32> = value
        .chars()
        .filter_map(|c| c.to_digit(10).map(|d| d as i32))
        .collect();
    if digits.len() == value.len() && digits.len() >= 2 {
        let steps: Vec<i32> = digits
            .windows(2)
            .map(|w| (w[1] - w[0]).rem_euclid(10))
            .collect();
        let all = |d: i32| steps.iter().all(|s| *s == d);
        if all(0) || all(1) || all(9) {
            return Some("a PIN anyone would try first (repeated or consecutive digits)");
        }
        if [
            "1212", "2580", "0852", "1122", "1004", "2000", "6969", "121212", "112233",
        ]
        .contains(&value)
        {
            return Some("a PIN anyone would try first");
        }
    }
    None
}

impl Config {
    /// What is allowed but worth changing (printed by `check-config`): short PINs on a hub the
    /// LAN can reach. Sign-in is throttled (`api::throttle`), but 6+ digits are 100 times harder.
    pub fn advice(&self) -> Vec<String> {
        let lan = self
            .api_listen
            .as_deref()
            .and_then(|l| l.parse::<std::net::SocketAddr>().ok())
            .is_some_and(|a| !a.ip().is_loopback());
        if !lan {
            return Vec::new();
        }
        self.counters
            .iter()
            .filter(|c| c.pin.as_ref().is_some_and(|p| p.len() < 6))
            .map(|c| {
                format!(
                    "counter {}: a PIN of 6 or more digits is much harder to guess on the LAN",
                    c.number
                )
            })
            .collect()
    }

    /// The queue for everything else (fields `["*"]`), or the first: where staff guide a
    /// citizen who does not know their procedure, and where results are returned.
    pub fn general_service(&self) -> Option<&Service> {
        self.services
            .iter()
            .find(|s| s.fields.iter().any(|f| f == "*"))
            .or_else(|| self.services.first())
    }

    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }

    pub fn counter(&self, number: u32) -> Option<&Counter> {
        self.counters.iter().find(|c| c.number == number)
    }

    pub fn priority_group(&self, id: &str) -> Option<&PriorityGroup> {
        self.priority_groups.iter().find(|g| g.id == id)
    }

    /// Counters that serve a service.
    pub fn counters_for(&self, service_id: &str) -> impl Iterator<Item = &Counter> {
        self.counters
            .iter()
            .filter(move |c| c.services.iter().any(|s| s == service_id))
    }

    /// The embedded demo config.
    pub fn demo() -> Result<Config, ConfigError> {
        Config::parse(DEMO_NAME, DEMO_TOML)
    }

    /// Read and validate a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            problems: vec![Problem {
                file: name.clone(),
                line: 0,
                column: 0,
                key: String::new(),
                message: format!("cannot read the file: {e}"),
            }],
        })?;
        Config::parse(&name, &text)
    }

    /// Validate config text; every problem is reported, not just the first.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let mut problems = Problems::new(file, text);
        let (doc, syntax_errors) = DeTable::parse_recoverable(text);
        for e in &syntax_errors {
            let span = e.span().unwrap_or(0..0);
            problems.at(&span, "", format!("TOML syntax: {}", e.message().trim()));
        }
        // Past a syntax error the document is a guess; checking its keys would only add noise.
        if !syntax_errors.is_empty() {
            return Err(ConfigError {
                problems: problems.into_sorted(),
            });
        }
        let config = read_config(file, &doc, &mut problems);
        match config {
            Some(c) if problems.is_empty() => Ok(c),
            _ => Err(ConfigError {
                problems: problems.into_sorted(),
            }),
        }
    }
}

/// Every problem found in a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

type Span = std::ops::Range<usize>;

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The longest service description a tile shows in full, in characters.
pub const MAX_DESCRIPTION: usize = 90;

/// An optional `{ vi, en }` description of a service, bounded so it fits its tile.
fn read_description(t: &mut TableReader, problems: &mut Problems) -> Names {
    let Some(mut sub) = t.table("description", false, problems) else {
        return Names::default();
    };
    let mut read = |lang: &str| {
        let text = sub.string(lang, true, problems).unwrap_or_default();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.chars().count() > MAX_DESCRIPTION {
            let span = sub.span();
            problems.at(
                &span,
                &sub.key_path(lang),
                format!(
                    "{} characters is too long for a tile; at most {MAX_DESCRIPTION} (say what citizens come for, not every field)",
                    text.chars().count()
                ),
            );
        }
        text
    };
    let names = Names {
        vi: read("vi"),
        en: read("en"),
    };
    sub.finish(&["vi", "en"], problems);
    names
}

fn read_names(t: &mut TableReader, key: &str, problems: &mut Problems) -> Option<Names> {
    let mut sub = t.table(key, true, problems)?;
    let vi = sub.string("vi", true, problems);
    let en = sub.string("en", true, problems);
    for (lang, value) in [("vi", &vi), ("en", &en)] {
        if value.as_deref().is_some_and(|s| s.trim().is_empty()) {
            let span = sub.span();
            problems.at(&span, &sub.key_path(lang), "must not be empty");
        }
    }
    sub.finish(&["vi", "en"], problems);
    // Names are shown on screen and printed: store them NFC-clean of stray whitespace.
    Some(Names {
        vi: vi?.trim().to_string(),
        en: en?.trim().to_string(),
    })
}

/// An identifier: lowercase letters, digits, '-', '.', '_'; used in URLs and reports.
fn check_id(id: &str, span: &std::ops::Range<usize>, key: &str, problems: &mut Problems) {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '_'));
    if !ok {
        problems.at(
            span,
            key,
            format!(
                "\"{id}\" is not a valid id; use 1-64 lowercase ASCII letters, digits, '-', '.' or '_'"
            ),
        );
    }
}

fn parse_hours(text: &str) -> Result<Vec<(NaiveTime, NaiveTime)>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("closed") {
        return Ok(Vec::new());
    }
    let mut spans = Vec::new();
    for part in text.split(',') {
        let (a, b) = part
            .trim()
            .split_once('-')
            .ok_or_else(|| format!("\"{}\" is not a time span like 07:30-11:30", part.trim()))?;
        let parse = |s: &str| {
            NaiveTime::parse_from_str(s.trim(), "%H:%M")
                .map_err(|_| format!("\"{}\" is not a time like 07:30", s.trim()))
        };
        let (from, to) = (parse(a)?, parse(b)?);
        if from >= to {
            return Err(format!("{} is not before {}", a.trim(), b.trim()));
        }
        if let Some(&(_, prev_end)) = spans.last()
            && from < prev_end
        {
            return Err(format!("spans overlap or are out of order at {}", a.trim()));
        }
        spans.push((from, to));
    }
    Ok(spans)
}

fn read_site(root: &mut TableReader, problems: &mut Problems) -> Option<Site> {
    let mut t = root.table("site", true, problems)?;
    let id = t.spanned_string("id", true, problems);
    let branch = t.spanned_string("branch", true, problems);
    let centre = t.spanned_string("centre", true, problems);
    for (key, v) in [("id", &id), ("branch", &branch), ("centre", &centre)] {
        if let Some((s, span)) = v {
            check_id(s, span, &t.key_path(key), problems);
        }
    }
    let name = read_names(&mut t, "name", problems);
    let timezone = match t.spanned_string("timezone", false, problems) {
        None => Some(chrono_tz::Asia::Ho_Chi_Minh),
        Some((tz, span)) => match tz.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                problems.at(
                    &span,
                    &t.key_path("timezone"),
                    format!(
                        "\"{tz}\" is not a time zone; use an IANA name such as \"Asia/Ho_Chi_Minh\""
                    ),
                );
                None
            }
        },
    };
    let reset_hour = t.integer("reset_hour", false, 0, 23, problems).unwrap_or(0) as u32;
    let mut opening_hours = BTreeMap::new();
    if let Some(mut hours) = t.table("opening_hours", false, problems) {
        for day in WEEKDAYS {
            if let Some((text, span)) = hours.spanned_string(day, false, problems) {
                match parse_hours(&text) {
                    Ok(spans) => {
                        opening_hours.insert(day.to_string(), spans);
                    }
                    Err(why) => problems.at(
                        &span,
                        &hours.key_path(day),
                        format!("{why}; expected \"07:30-11:30, 13:30-17:00\" or \"closed\""),
                    ),
                }
            }
        }
        hours.finish(&WEEKDAYS, problems);
    }
    t.finish(
        &[
            "id",
            "branch",
            "centre",
            "name",
            "timezone",
            "reset_hour",
            "opening_hours",
        ],
        problems,
    );
    Some(Site {
        id: id?.0,
        branch: branch?.0,
        centre: centre?.0,
        name: name?,
        timezone: timezone?,
        reset_hour,
        opening_hours,
    })
}

fn is_valid_prefix(p: &str) -> bool {
    (1..=2).contains(&p.len()) && p.chars().all(|c| c.is_ascii_uppercase())
}

fn read_services(
    root: &mut TableReader,
    problems: &mut Problems,
) -> Option<Vec<(Service, Span, Span, String)>> {
    let mut out = Vec::new();
    let mut ok = true;
    let tables = root.tables("service", true, problems);
    if tables.is_empty() {
        ok = false;
    }
    for mut t in tables {
        let id = t.spanned_string("id", true, problems);
        if let Some((s, span)) = &id {
            check_id(s, span, &t.key_path("id"), problems);
        }
        let prefix = t.spanned_string("prefix", true, problems);
        if let Some((p, span)) = &prefix
            && !is_valid_prefix(p)
        {
            problems.at(
                span,
                &t.key_path("prefix"),
                format!("\"{p}\" is not a ticket prefix; use one or two capital letters A-Z"),
            );
        }
        let name = read_names(&mut t, "name", problems);
        let description = read_description(&mut t, problems);
        let fields = t.string_list("fields", false, problems).unwrap_or_default();
        let range = match t.integer_list("range", false, 0, 99_999, problems) {
            None => Some((1, 999)),
            Some((v, _)) if v.len() == 2 && v[0] <= v[1] => Some((v[0] as u32, v[1] as u32)),
            Some((_, span)) => {
                problems.at(
                    &span,
                    &t.key_path("range"),
                    "expected [first, last] with first <= last, e.g. [1, 999]",
                );
                None
            }
        };
        let wrap = t.boolean("wrap", false, problems).unwrap_or(true);
        let daily_cap = t
            .integer("daily_cap", false, 1, 99_999, problems)
            .map(|n| n as u32);
        let avg = t
            .number("avg_service_minutes", false, 0.5, 480.0, problems)
            .unwrap_or(10.0);
        let span = t.span();
        let path = t.path().to_string();
        t.finish(
            &[
                "id",
                "prefix",
                "name",
                "description",
                "fields",
                "range",
                "wrap",
                "daily_cap",
                "avg_service_minutes",
            ],
            problems,
        );
        match (id, prefix, name, range) {
            (Some((id, _)), Some((prefix, prefix_span)), Some(name), Some((first, last))) => out
                .push((
                    Service {
                        id,
                        prefix,
                        name,
                        description,
                        fields: fields.into_iter().map(|(f, _)| nfc_trim(&f)).collect(),
                        range: NumberRange { first, last, wrap },
                        daily_cap,
                        avg_service_minutes: avg,
                    },
                    span,
                    prefix_span,
                    path,
                )),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

/// Field names are compared with the national catalogue, which is not always NFC.
fn nfc_trim(s: &str) -> String {
    crate::text::nfc(s.trim())
}

/// A secret as written in the file, for the check that a LAN-facing hub has no demo secrets.
struct SecretAt {
    span: std::ops::Range<usize>,
    key: String,
    value: String,
}

fn read_counters(
    root: &mut TableReader,
    services: &HashMap<String, ()>,
    secrets: &mut Vec<SecretAt>,
    problems: &mut Problems,
) -> Option<Vec<Counter>> {
    let mut out: Vec<Counter> = Vec::new();
    let mut ok = true;
    let tables = root.tables("counter", true, problems);
    if tables.is_empty() {
        ok = false;
    }
    for mut t in tables {
        let number = t
            .integer("number", true, 1, 999, problems)
            .map(|n| n as u32);
        let name = read_names(&mut t, "name", problems);
        let served = t.string_list("services", true, problems);
        let pin = t
            .spanned_string("pin", false, problems)
            .and_then(|(p, span)| {
                if (4..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()) {
                    secrets.push(SecretAt {
                        span,
                        key: t.key_path("pin"),
                        value: p.clone(),
                    });
                    Some(p)
                } else {
                    problems.at(&span, &t.key_path("pin"), "a PIN is 4 to 8 digits");
                    None
                }
            });
        let token = t
            .spanned_string("token", false, problems)
            .and_then(|(tok, span)| {
                if tok.len() >= 16 {
                    secrets.push(SecretAt {
                        span,
                        key: t.key_path("token"),
                        value: tok.clone(),
                    });
                    Some(tok)
                } else {
                    problems.at(
                        &span,
                        &t.key_path("token"),
                        "a counter token must be at least 16 characters",
                    );
                    None
                }
            });
        if let Some(list) = &served {
            if list.is_empty() {
                let span = t.span();
                problems.at(
                    &span,
                    &t.key_path("services"),
                    "a counter must serve at least one service",
                );
            }
            for (i, (s, span)) in list.iter().enumerate() {
                if !services.is_empty() && !services.contains_key(s) {
                    let mut known: Vec<_> = services.keys().map(String::as_str).collect();
                    known.sort();
                    problems.at(
                        span,
                        &format!("{}[{}]", t.key_path("services"), i + 1),
                        format!(
                            "unknown service \"{s}\"; services defined: {}",
                            known.join(", ")
                        ),
                    );
                }
            }
        }
        let span = t.span();
        let path = t.path().to_string();
        t.finish(&["number", "name", "services", "pin", "token"], problems);
        match (number, name, served) {
            (Some(number), Some(name), Some(served)) => {
                if out.iter().any(|c| c.number == number) {
                    problems.at(
                        &span,
                        &format!("{path}.number"),
                        format!("duplicate counter number {number}"),
                    );
                }
                out.push(Counter {
                    number,
                    name,
                    services: served.into_iter().map(|(s, _)| s).collect(),
                    pin,
                    token,
                });
            }
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

fn read_config(
    file: &str,
    doc: &toml::Spanned<DeTable>,
    problems: &mut Problems,
) -> Option<Config> {
    let mut root = TableReader::new("", doc.get_ref(), doc.span());
    let site = read_site(&mut root, problems);

    let db_path = match root.table("store", false, problems) {
        Some(mut t) => {
            let p = t.string("path", false, problems);
            t.finish(&["path"], problems);
            p.map(PathBuf::from)
        }
        None => None,
    }
    .unwrap_or_else(|| PathBuf::from("kiosk-data/kiosk.sqlite"));

    let mut number_width = 3;
    let mut allow_outside_hours = false;
    if let Some(mut t) = root.table("tickets", false, problems) {
        if let Some(w) = t.integer("number_width", false, 1, 5, problems) {
            number_width = w as usize;
        }
        if let Some(b) = t.boolean("allow_outside_hours", false, problems) {
            allow_outside_hours = b;
        }
        t.finish(&["number_width", "allow_outside_hours"], problems);
    }

    let services = read_services(&mut root, problems);
    let mut service_ids = HashMap::new();
    if let Some(list) = &services {
        let mut prefixes: HashMap<&str, &str> = HashMap::new();
        for (s, span, prefix_span, path) in list {
            if service_ids.insert(s.id.clone(), ()).is_some() {
                problems.at(
                    span,
                    &format!("{path}.id"),
                    format!("duplicate service id \"{}\"", s.id),
                );
            }
            if let Some(first) = prefixes.insert(&s.prefix, &s.id) {
                problems.at(
                    prefix_span,
                    &format!("{path}.prefix"),
                    format!(
                        "duplicate prefix \"{}\": service \"{first}\" uses it already; each service needs its own",
                        s.prefix
                    ),
                );
            }
        }
    }
    let mut secrets = Vec::new();
    let counters = read_counters(&mut root, &service_ids, &mut secrets, problems);

    let mut priority_rule = PriorityRule {
        normal_per_priority: 2,
    };
    let mut priority_groups = Vec::new();
    let mut max_recalls = 2;
    if let Some(mut t) = root.table("priority", false, problems) {
        if let Some(n) = t.integer("normal_per_priority", false, 0, 20, problems) {
            priority_rule.normal_per_priority = n as u32;
        }
        for mut g in t.tables("group", false, problems) {
            let id = g.spanned_string("id", true, problems);
            if let Some((s, span)) = &id {
                check_id(s, span, &g.key_path("id"), problems);
                if priority_groups.iter().any(|p: &PriorityGroup| &p.id == s) {
                    problems.at(span, &g.key_path("id"), format!("duplicate group \"{s}\""));
                }
            }
            let name = read_names(&mut g, "name", problems);
            g.finish(&["id", "name"], problems);
            if let (Some((id, _)), Some(name)) = (id, name) {
                priority_groups.push(PriorityGroup { id, name });
            }
        }
        t.finish(&["normal_per_priority", "group"], problems);
    }
    if let Some(mut t) = root.table("calling", false, problems) {
        if let Some(n) = t.integer("max_recalls", false, 0, 10, problems) {
            max_recalls = n as u32;
        }
        t.finish(&["max_recalls"], problems);
    }
    let mut quota = QuotaRule {
        per_day: 2,
        per_bucket: 1,
    };
    let mut quota_retention_days = 1;
    let mut id_key_file = db_path.with_file_name("identity.key");
    if let Some(mut t) = root.table("quota", false, problems) {
        if let Some(p) = t.string("id_key_file", false, problems) {
            id_key_file = PathBuf::from(p);
        }
        if let Some(n) = t.integer("per_day", false, 1, 100, problems) {
            quota.per_day = n as u32;
        }
        if let Some(n) = t.integer("per_field", false, 1, 100, problems) {
            quota.per_bucket = n as u32;
        }
        if let Some(n) = t.integer("retention_days", false, 1, 365, problems) {
            quota_retention_days = n as u32;
        }
        t.finish(
            &["per_day", "per_field", "retention_days", "id_key_file"],
            problems,
        );
    }
    let mut rating = RatingConfig::default();
    if let Some(mut t) = root.table("rating", false, problems) {
        if let Some(n) = t.integer("window_minutes", false, 1, 24 * 60, problems) {
            rating.window_minutes = n as u32;
        }
        if let Some(n) = t.integer("screen_seconds", false, 5, 600, problems) {
            rating.screen_seconds = n as u32;
        }
        match t.integer_list("circular", false, 0, 2, problems) {
            Some((v, _)) if v.len() == 5 => {
                for (slot, x) in rating.circular.iter_mut().zip(v) {
                    *slot = x as u8;
                }
            }
            Some((_, span)) => problems.at(
                &span,
                &t.key_path("circular"),
                "expected five scores of 0, 1 or 2 (for ratings 1 to 5), e.g. [0, 0, 1, 2, 2]",
            ),
            None => {}
        }
        t.finish(&["window_minutes", "screen_seconds", "circular"], problems);
    }
    let mut bookings = BookingsConfig::default();
    if let Some(mut t) = root.table("bookings", false, problems) {
        if let Some(b) = t.boolean("enabled", false, problems) {
            bookings.enabled = b;
        }
        if let Some(n) = t.integer("pull_seconds", false, 5, 3600, problems) {
            bookings.pull_seconds = n as u64;
        }
        if let Some((word, span)) = t.spanned_string("order", false, problems) {
            match crate::domain::ArrivalOrder::parse(&word) {
                Some(o) => bookings.order = o,
                None => problems.at(
                    &span,
                    &t.key_path("order"),
                    format!("\"{word}\": expected \"booking_time\" or \"slot_time\""),
                ),
            }
        }
        if let Some(n) = t.integer("early_minutes", false, 0, 12 * 60, problems) {
            bookings.window.early_minutes = n as u32;
        }
        if let Some(n) = t.integer("late_minutes", false, 0, 12 * 60, problems) {
            bookings.window.late_minutes = n as u32;
        }
        t.finish(
            &[
                "enabled",
                "pull_seconds",
                "order",
                "early_minutes",
                "late_minutes",
            ],
            problems,
        );
    }
    let mut updates = UpdatesConfig::default();
    if let Some(mut t) = root.table("updates", false, problems) {
        if let Some((k, span)) = t.spanned_string("public_key", false, problems) {
            match crate::bundle::parse_public_key(&k) {
                Ok(_) => updates.public_key = Some(k.trim().to_string()),
                Err(e) => problems.at(&span, &t.key_path("public_key"), e.to_string()),
            }
        }
        if let Some(d) = t.string("dir", false, problems) {
            updates.dir = PathBuf::from(d);
        }
        if let Some(n) = t.integer("pull_seconds", false, 10, 86_400, problems) {
            updates.pull_seconds = n as u64;
        }
        t.finish(&["public_key", "dir", "pull_seconds"], problems);
    }
    let mut scanner = ScannerConfig::default();
    if let Some(mut t) = root.table("scanner", false, problems) {
        if let Some(d) = t.string("device", false, problems) {
            scanner.device = Some(PathBuf::from(d));
        }
        if let Some(n) = t.integer("baud", false, 1200, 921_600, problems) {
            scanner.baud = n as u32;
        }
        if let Some((word, span)) = t.spanned_string("suffix", false, problems) {
            scanner.suffix = match word.as_str() {
                "cr" => ScanSuffix::Cr,
                "lf" => ScanSuffix::Lf,
                "crlf" => ScanSuffix::CrLf,
                "tab" => ScanSuffix::Tab,
                _ => {
                    problems.at(
                        &span,
                        &t.key_path("suffix"),
                        format!("\"{word}\": expected \"cr\", \"lf\", \"crlf\" or \"tab\""),
                    );
                    ScanSuffix::Cr
                }
            };
        }
        if let Some(n) = t.integer("elderly_age", false, 50, 120, problems) {
            scanner.elderly_age = n as u32;
        }
        if let Some((g, span)) = t.spanned_string("elderly_group", false, problems) {
            if priority_groups.iter().any(|p| p.id == g) {
                scanner.elderly_group = Some(g);
            } else {
                problems.at(
                    &span,
                    &t.key_path("elderly_group"),
                    format!(
                        "\"{g}\" is not a [[priority.group]] id here; known: {}",
                        priority_groups
                            .iter()
                            .map(|p| p.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
        t.finish(
            &["device", "baud", "suffix", "elderly_age", "elderly_group"],
            problems,
        );
    }
    let mut idle_seconds = 60;
    let mut guides_dir = PathBuf::from("assets/guides");
    if let Some(mut t) = root.table("kiosk", false, problems) {
        if let Some(n) = t.integer("idle_seconds", false, 10, 3600, problems) {
            idle_seconds = n as u32;
        }
        if let Some(d) = t.string("guides_dir", false, problems) {
            guides_dir = PathBuf::from(d);
        }
        t.finish(&["idle_seconds", "guides_dir"], problems);
    }
    let mut reporting = ReportingConfig::default();
    if let Some(mut t) = root.table("reporting", false, problems) {
        if let Some((url, span)) = t.spanned_string("url", false, problems) {
            if url.starts_with("https://") || url.starts_with("http://") {
                reporting.url = Some(url);
            } else {
                problems.at(
                    &span,
                    &t.key_path("url"),
                    format!("\"{url}\" is not an http(s) URL; e.g. \"https://centre.example/api/v1/reports\""),
                );
            }
        }
        reporting.token = t.string("token", false, problems);
        reporting.ca_file = t.string("ca_file", false, problems).map(PathBuf::from);
        if let Some(n) = t.integer("snapshot_seconds", false, 5, 3600, problems) {
            reporting.snapshot_seconds = n as u64;
        }
        if let Some(n) = t.integer("batch_size", false, 1, 10_000, problems) {
            reporting.batch_size = n as usize;
        }
        if let Some(n) = t.integer("max_events", false, 1_000, 100_000_000, problems) {
            reporting.max_events = n as u64;
        }
        if let Some(n) = t.integer("timeout_seconds", false, 1, 300, problems) {
            reporting.timeout_seconds = n as u64;
        }
        t.finish(
            &[
                "url",
                "token",
                "ca_file",
                "snapshot_seconds",
                "batch_size",
                "max_events",
                "timeout_seconds",
            ],
            problems,
        );
    }
    let mut api_listen = None;
    let mut api_kiosk_token = None;
    let mut api = ApiConfig::default();
    if let Some(mut t) = root.table("api", false, problems) {
        let mut listen_at = None;
        if let Some((l, span)) = t.spanned_string("listen", false, problems) {
            match l.parse::<std::net::SocketAddr>() {
                Ok(addr) => {
                    api_listen = Some(l);
                    listen_at = Some((addr, span, t.key_path("listen")));
                }
                Err(_) => problems.at(
                    &span,
                    &t.key_path("listen"),
                    format!("\"{l}\" is not an address:port, e.g. \"0.0.0.0:8080\""),
                ),
            }
        }
        if let Some((tok, span)) = t.spanned_string("kiosk_token", false, problems) {
            if tok.len() < 16 {
                problems.at(
                    &span,
                    &t.key_path("kiosk_token"),
                    "a kiosk token must be at least 16 characters",
                );
            }
            secrets.push(SecretAt {
                span,
                key: t.key_path("kiosk_token"),
                value: tok.clone(),
            });
            api_kiosk_token = Some(tok);
        }
        if let Some(list) = t.string_list("allowed_hosts", false, problems) {
            for (h, span) in list {
                let h = h.trim().to_ascii_lowercase();
                if h.is_empty() || h.contains(['/', ' ', ':']) {
                    problems.at(
                        &span,
                        &t.key_path("allowed_hosts"),
                        format!("\"{h}\" is not a host name (no scheme, port or path)"),
                    );
                } else {
                    api.allowed_hosts.push(h);
                }
            }
        }
        if let Some(n) = t.integer("issue_per_minute", false, 1, 600, problems) {
            api.issue_per_minute = n as u32;
        }
        if let Some((pin, span)) = t.spanned_string("supervisor_pin", false, problems) {
            if pin.len() < 4 || pin.len() > 16 || !pin.bytes().all(|b| b.is_ascii_digit()) {
                problems.at(
                    &span,
                    &t.key_path("supervisor_pin"),
                    "a supervisor PIN is 4 to 16 digits (6 or more on a LAN)",
                );
            }
            secrets.push(SecretAt {
                span,
                key: t.key_path("supervisor_pin"),
                value: pin.clone(),
            });
            api.supervisor_pin = Some(pin);
        }
        t.finish(
            &[
                "listen",
                "kiosk_token",
                "allowed_hosts",
                "issue_per_minute",
                "supervisor_pin",
            ],
            problems,
        );
        // A hub that answers the LAN must not answer it with the demo's secrets.
        if let Some((addr, _, listen_key)) = &listen_at
            && !addr.ip().is_loopback()
        {
            for s in &secrets {
                if let Some(why) = weak_secret(&s.value) {
                    problems.at(
                        &s.span,
                        &s.key,
                        format!(
                            "{why}: not allowed while {listen_key} = \"{addr}\" serves the LAN; \
                             choose a new one (PINs of 6+ digits, tokens from \
                             `openssl rand -hex 16`)"
                        ),
                    );
                }
            }
        }
    }
    let mut board_callout = true;
    if let Some(mut t) = root.table("board", false, problems) {
        if let Some(b) = t.boolean("callout", false, problems) {
            board_callout = b;
        }
        t.finish(&["callout"], problems);
    }
    let printer = match root.table("printer", false, problems) {
        Some(t) => read_printer(t, problems),
        None => Some(PrinterConfig::spool_default()),
    };
    root.finish(
        &[
            "site",
            "store",
            "tickets",
            "service",
            "counter",
            "priority",
            "calling",
            "quota",
            "rating",
            "bookings",
            "updates",
            "scanner",
            "printer",
            "kiosk",
            "reporting",
            "api",
            "board",
        ],
        problems,
    );

    Some(Config {
        source: file.to_string(),
        site: site?,
        db_path,
        number_width,
        allow_outside_hours,
        services: services?.into_iter().map(|(s, ..)| s).collect(),
        counters: counters?,
        priority_rule,
        priority_groups,
        max_recalls,
        quota,
        quota_retention_days,
        rating,
        bookings,
        updates,
        scanner,
        id_key_file,
        printer: printer?,
        idle_seconds,
        guides_dir,
        reporting,
        api_listen,
        api_kiosk_token,
        api,
        board_callout,
    })
}

/// A string that must be one of `allowed`.
fn one_of(
    t: &mut TableReader,
    key: &str,
    allowed: &[&str],
    problems: &mut Problems,
) -> Option<Option<String>> {
    match t.spanned_string(key, false, problems) {
        None => Some(None),
        Some((v, _)) if allowed.contains(&v.as_str()) => Some(Some(v)),
        Some((v, span)) => {
            problems.at(
                &span,
                &t.key_path(key),
                format!("\"{v}\" is not allowed; use one of: {}", allowed.join(", ")),
            );
            None
        }
    }
}

fn read_printer(mut t: TableReader, problems: &mut Problems) -> Option<PrinterConfig> {
    let mut p = PrinterConfig::spool_default();
    let mut ok = true;
    if let Some(m) = t.string("model", false, problems) {
        p.model = m;
    }
    let transport = one_of(
        &mut t,
        "transport",
        &["spool", "serial", "usb", "tcp"],
        problems,
    );
    let spool_dir = t.string("spool_dir", false, problems);
    let port = t.string("port", false, problems);
    let baud = t.integer("baud", false, 1200, 921_600, problems);
    let flow = one_of(
        &mut t,
        "flow_control",
        &["none", "software", "hardware"],
        problems,
    );
    let device = t.string("device", false, problems);
    let address = t.string("address", false, problems);
    let span = t.span();
    match transport.clone().flatten().as_deref() {
        None | Some("spool") => {
            if let Some(dir) = spool_dir {
                p.transport = TransportConfig::Spool { dir: dir.into() };
            }
        }
        Some("serial") => match port {
            Some(port) => {
                p.transport = TransportConfig::Serial {
                    port,
                    baud: baud.unwrap_or(38_400) as u32,
                    flow: match flow.flatten().as_deref() {
                        Some("software") => FlowControl::Software,
                        Some("hardware") => FlowControl::Hardware,
                        _ => FlowControl::None,
                    },
                }
            }
            None => {
                ok = false;
                problems.at(
                    &span,
                    &t.key_path("port"),
                    "transport = \"serial\" needs a port, e.g. \"/dev/ttyUSB0\"",
                );
            }
        },
        Some("usb") => {
            p.transport = TransportConfig::Usb {
                device: device.unwrap_or_else(|| "/dev/usb/lp0".into()).into(),
            }
        }
        Some("tcp") => match address {
            Some(a) => {
                let address = if a.contains(':') {
                    a
                } else {
                    format!("{a}:9100")
                };
                p.transport = TransportConfig::Tcp { address };
            }
            None => {
                ok = false;
                problems.at(
                    &span,
                    &t.key_path("address"),
                    "transport = \"tcp\" needs an address, e.g. \"192.0.2.10:9100\"",
                );
            }
        },
        Some(_) => ok = false,
    }
    if transport.is_none() {
        ok = false;
    }
    if let Some(w) = t.integer("paper_width", false, 0, 4096, problems) {
        if [576, 512, 384].contains(&w) {
            p.paper_width_dots = w as u32;
        } else {
            ok = false;
            let span = t.span();
            problems.at(
                &span,
                &t.key_path("paper_width"),
                format!("{w} dots is not a paper width; use 576 (80 mm, 203 dpi), 512 (80 mm, 180 dpi) or 384 (58 mm)"),
            );
        }
    }
    let tables = t.integer_list("codepage_tables", false, 0, 255, problems);
    match one_of(
        &mut t,
        "vietnamese",
        &["raster", "codepage", "ascii"],
        problems,
    ) {
        None => ok = false,
        Some(mode) => {
            p.vietnamese = match mode.as_deref() {
                Some("codepage") => match &tables {
                    Some((v, _)) if v.len() == 2 => VietnameseMode::Codepage {
                        lower: v[0] as u8,
                        upper: v[1] as u8,
                    },
                    Some((_, span)) => {
                        ok = false;
                        problems.at(
                            span,
                            &t.key_path("codepage_tables"),
                            "expected [lower, upper] ESC t numbers of the TCVN-3 tables, e.g. [30, 31]",
                        );
                        VietnameseMode::Raster
                    }
                    None => VietnameseMode::Codepage {
                        lower: 30,
                        upper: 31,
                    },
                },
                Some("ascii") => VietnameseMode::Ascii,
                _ => VietnameseMode::Raster,
            }
        }
    }
    if let Some(b) = t.boolean("check_status", false, problems) {
        p.check_status = b;
    }
    if let Some(ms) = t.integer("status_timeout_ms", false, 20, 10_000, problems) {
        p.status_timeout_ms = ms as u64;
    }
    if let Some(b) = t.boolean("confirm", false, problems) {
        p.confirm = b;
    }
    if let Some(b) = t.boolean("auto_status_back", false, problems) {
        p.auto_status_back = b;
    }
    if let Some((q, span)) = t.spanned_string("qr_payload", false, problems) {
        if q.len() > 300 {
            ok = false;
            problems.at(
                &span,
                &t.key_path("qr_payload"),
                "longer than 300 bytes; a ticket QR code must stay small",
            );
        } else if !q.is_empty() {
            p.qr_payload = Some(q);
        }
    }
    if let Some(lines) = t.string_list("footer", false, problems) {
        p.footer = lines
            .into_iter()
            .map(|(l, _)| crate::text::nfc(&l))
            .collect();
    }
    t.finish(
        &[
            "model",
            "transport",
            "spool_dir",
            "port",
            "baud",
            "flow_control",
            "device",
            "address",
            "paper_width",
            "vietnamese",
            "codepage_tables",
            "check_status",
            "status_timeout_ms",
            "confirm",
            "auto_status_back",
            "qr_payload",
            "footer",
        ],
        problems,
    );
    ok.then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_secrets_are_the_ones_anyone_tries_first() {
        for weak in [
            "1111",
            "123456",
            "9876",
            "0000",
            "2580",
            "demo-kiosk-token-change-me",
        ] {
            assert!(weak_secret(weak).is_some(), "{weak}");
        }
        for fine in ["4827", "731950", "3f9c1b2e8d7a4c60b1e2"] {
            assert!(weak_secret(fine).is_none(), "{fine}");
        }
    }

    #[test]
    fn short_pins_on_the_lan_get_advice_not_errors() {
        let text = DEMO_TOML
            .replace("listen = \"127.0.0.1:8080\"", "listen = \"10.0.0.2:8080\"")
            .replace("kiosk_token = \"demo-kiosk-token-change-me\"", "")
            .replace("\"1111\"", "\"4827\"")
            .replace("\"2222\"", "\"739104\"")
            .replace("\"3333\"", "\"5062\"")
            .replace("\"4444\"", "\"9185\"")
            .replace("\"5555\"", "\"3407\"");
        let c = Config::parse("lan.toml", &text).unwrap();
        let advice = c.advice();
        assert_eq!(advice.len(), 4, "{advice:?}");
        assert!(advice[0].starts_with("counter 1:"));
    }

    #[test]
    fn embedded_demo_is_valid() {
        let c = Config::demo().unwrap_or_else(|e| panic!("{e}"));
        assert!(!c.services.is_empty());
        assert_eq!(c.site.timezone, chrono_tz::Asia::Ho_Chi_Minh);
    }

    #[test]
    fn hours_parse_and_reject_nonsense() {
        assert_eq!(parse_hours("closed").unwrap(), vec![]);
        assert_eq!(parse_hours("07:30-11:30, 13:30-17:00").unwrap().len(), 2);
        assert!(parse_hours("11:30-07:30").is_err());
        assert!(parse_hours("07:30-12:00, 11:00-17:00").is_err());
        assert!(parse_hours("morning").is_err());
    }
}

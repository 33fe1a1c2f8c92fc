//! `kiosk centre`: the reference receiver for the city's Public Administrative Service Centre.
//! Takes reports from many points into its own SQLite database, deduplicating events by their
//! idempotency key, and serves a city dashboard (`/`) and JSON (`/api/points`, `/api/point`).
//! Every refusal is JSON with a reason and changes nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::report::{Ack, Report, SCHEMA};
use crate::vals;
use store::{Engine, Serial, Store, StoreError};

pub mod bookings;
pub mod bundles;
pub mod scratch_pg;
pub mod store;
pub mod tls;
pub mod track;
pub use bookings::BookingRules;

static DASHBOARD: &str = include_str!("../../assets/centre/dashboard.html");
static BOOK: &str = include_str!("../../assets/centre/book.html");
static TICKET: &str = include_str!("../../assets/centre/ticket.html");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointConfig {
    /// `centre/branch/point`, as the point's own config names it.
    pub path: String,
    /// The point's bearer token.
    pub token: String,
}

/// A person (or screen) allowed to read the dashboard's data: the centre's staff.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewerConfig {
    pub name: String,
    /// Typed once into the dashboard's sign-in box (kept for the browser tab's session).
    pub token: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CentreConfig {
    pub listen: String,
    /// The SQLite file (the embedded default), unless `[store]` names another engine.
    #[serde(default)]
    pub db_path: PathBuf,
    /// `[store] engine = "postgres"`: one database several receivers share.
    #[serde(default)]
    pub store: Option<store::StoreConfig>,
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// A point that has not reported for this long is shown as stale.
    #[serde(default = "default_stale")]
    pub stale_after_seconds: i64,
    #[serde(default)]
    pub point: Vec<PointConfig>,
    /// Who may read `/api/points`, `/api/point` and `/api/assistant-misses` (the dashboard's
    /// data); none = nobody.
    #[serde(default)]
    pub viewer: Vec<ViewerConfig>,
    /// Host names the dashboard may be reached by, besides IP addresses and `localhost`.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// The slots and limits of online booking (`/book`).
    #[serde(default)]
    pub booking: BookingRules,
    /// A ticket's phone page (`/ve`) says the point's data is stale when its last report is
    /// older than this (a point reports every 30 s, and within seconds of a queue movement).
    #[serde(default = "default_ticket_stale")]
    pub ticket_stale_after_seconds: i64,
    /// HTTPS: the certificate and key the receiver serves with. Required when `listen` is not
    /// a loopback address, unless `behind_tls_proxy` says a proxy on the way terminates TLS.
    #[serde(default)]
    pub tls: Option<tls::TlsConfig>,
    #[serde(default)]
    pub behind_tls_proxy: bool,
    /// The dashboard's trend keeps each point's snapshots this long (it shows the last 24 h);
    /// older ones are deleted every 10 minutes. The events are kept.
    #[serde(default = "default_trend_keep")]
    pub trend_keep_hours: u32,
}

fn default_trend_keep() -> u32 {
    48
}

fn default_ticket_stale() -> i64 {
    75
}

fn default_max_body() -> usize {
    8 * 1024 * 1024
}

fn default_stale() -> i64 {
    120
}

impl CentreConfig {
    /// The key file of the booking quota's citizen hashes: `[store] identity_key_file`, else
    /// beside the SQLite file.
    pub fn identity_key_path(&self) -> PathBuf {
        self.store
            .as_ref()
            .and_then(|s| s.identity_key_file.clone())
            .unwrap_or_else(|| self.db_path.with_extension("identity.key"))
    }

    /// Read a centre config; errors name the file, line and column, and the key.
    pub fn load(path: &Path) -> Result<CentreConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let c: CentreConfig =
            toml::from_str(&text).map_err(|e| crate::config::toml_error(path, &text, &e))?;
        let mut seen = HashMap::new();
        for p in &c.point {
            if let Some(()) = seen.insert(p.token.clone(), ()) {
                return Err(format!(
                    "{}: point {}: token already used by another point; each point needs its own",
                    path.display(),
                    p.path
                ));
            }
        }
        for v in &c.viewer {
            if seen.insert(v.token.clone(), ()).is_some() || v.token.len() < 16 {
                return Err(format!(
                    "{}: viewer {}: token: at least 16 characters, and not another's",
                    path.display(),
                    v.name
                ));
            }
        }
        match &c.store {
            Some(st) => st.check(path)?,
            None if c.db_path.as_os_str().is_empty() => {
                return Err(format!(
                    "{}: db_path: the receiver's SQLite file (or a [store] section naming another engine)",
                    path.display()
                ));
            }
            None => {}
        }
        c.booking
            .check()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        // A receiver on the network must not take the demo's tokens.
        let public = c.listen.parse::<std::net::SocketAddr>().map_err(|_| {
            format!(
                "{}: listen: \"{}\" is not address:port",
                path.display(),
                c.listen
            )
        })?;
        if !public.ip().is_loopback() && c.tls.is_none() && !c.behind_tls_proxy {
            return Err(format!(
                "{}: tls: listen = \"{}\" serves the network in plain HTTP; add [tls] cert_file and \
                 key_file, or set behind_tls_proxy = true when a proxy terminates TLS",
                path.display(),
                c.listen
            ));
        }
        if let Some(t) = &c.tls {
            t.acceptor()
                .map_err(|e| format!("{}: tls: {e}", path.display()))?;
        }
        if !public.ip().is_loopback() {
            let weak = c
                .point
                .iter()
                .map(|p| (format!("point {}", p.path), &p.token))
                .chain(
                    c.viewer
                        .iter()
                        .map(|v| (format!("viewer {}", v.name), &v.token)),
                )
                .find(|(_, t)| crate::config::weak_secret(t).is_some());
            if let Some((who, _)) = weak {
                return Err(format!(
                    "{}: {who}: token: a demo or guessable token, not allowed while listen = \"{}\" \
                     serves the network; choose a new one (`openssl rand -hex 16`)",
                    path.display(),
                    c.listen
                ));
            }
        }
        Ok(c)
    }
}

pub struct Centre {
    store: Store,
    /// token -> point path
    tokens: HashMap<String, String>,
    /// point path -> token (the key of its tickets' link tokens)
    point_tokens: HashMap<String, String>,
    track_stale_seconds: i64,
    stale_after_seconds: i64,
    max_body_bytes: usize,
    viewers: Vec<String>,
    allowed_hosts: Vec<String>,
    booking: BookingRules,
    trend_keep_ms: i64,
    /// Keys the city-wide booking quota's citizen hashes (a file beside the database).
    id_key: crate::identity::IdKey,
}

/// The day's trend keeps at most one snapshot a point per this many milliseconds.
const TREND_GAP_MS: i64 = 25_000;

/// The reference receiver's demo dossiers (a one-stop system is out of reach here).
const DEMO_DOSSIERS: &str = include_str!("../../assets/centre/demo-dossiers.json");

const SCHEMA_SQL: &str = r#"
CREATE TABLE IF NOT EXISTS points (
    path           TEXT PRIMARY KEY,
    name_vi        TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    last_report_at INTEGER NOT NULL,
    snapshot       TEXT
);
CREATE TABLE IF NOT EXISTS dossiers (
    code   TEXT PRIMARY KEY,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    key            TEXT PRIMARY KEY,
    point          TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    at             INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    ticket         TEXT,
    service        TEXT,
    counter        INTEGER,
    priority_group TEXT,
    detail         TEXT,
    received_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_point ON events (point, at);
CREATE INDEX IF NOT EXISTS events_by_ticket ON events (point, ticket, kind);
CREATE TABLE IF NOT EXISTS snapshots (
    point TEXT NOT NULL,
    at    INTEGER NOT NULL,
    body  TEXT NOT NULL,
    PRIMARY KEY (point, at)
);
"#;

/// An event's detail as kept: an assistant miss's question in the form misses are counted by
/// (NFC, lower case, single spaces), so "Làm sổ đỏ" and " LÀM SỔ  ĐỎ" are one question on
/// either engine (SQL's `lower` only knows ASCII).
fn stored_detail(e: &crate::report::WireEvent) -> Option<std::borrow::Cow<'_, serde_json::Value>> {
    use std::borrow::Cow;
    let d = e.detail.as_ref()?;
    match d["question"].as_str() {
        Some(q) if e.kind == "assistant_miss" => {
            let mut d = d.clone();
            d["question"] = serde_json::Value::String(
                crate::text::nfc(q)
                    .to_lowercase()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            Some(Cow::Owned(d))
        }
        _ => Some(Cow::Borrowed(d)),
    }
}

/// A refusal: HTTP status plus a JSON body `{ "error": reason_code, "reason": text }`.
pub struct Refusal {
    status: StatusCode,
    code: &'static str,
    reason: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.code, "reason": self.reason })),
        )
            .into_response()
    }
}

fn refuse(status: StatusCode, code: &'static str, reason: impl Into<String>) -> Refusal {
    Refusal {
        status,
        code,
        reason: crate::text::clip(&reason.into(), crate::web::MAX_REASON),
    }
}

/// A point's mean rating counts as falling when the last 7 days are this much below the 28
/// days before (on the 1-5 scale)...
pub const FALLING_BY: f64 = 0.5;
/// ...with at least this many ratings in each period (fewer is noise).
pub const FALLING_MIN: i64 = 10;

/// How `Centre::ratings` groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatingGroup {
    Point,
    Counter,
    Field,
    Day,
    Hour,
}

impl RatingGroup {
    pub fn parse(word: &str) -> Option<RatingGroup> {
        Some(match word {
            "point" => RatingGroup::Point,
            "counter" => RatingGroup::Counter,
            "field" => RatingGroup::Field,
            "day" => RatingGroup::Day,
            "hour" => RatingGroup::Hour,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            RatingGroup::Point => "point",
            RatingGroup::Counter => "counter",
            RatingGroup::Field => "field",
            RatingGroup::Day => "day",
            RatingGroup::Hour => "hour",
        }
    }

    /// The SQL for the group key: Vietnam's local time is UTC+7 with no daylight saving.
    fn sql(self, e: Engine) -> String {
        match self {
            RatingGroup::Point => "NULL".into(),
            RatingGroup::Counter => "counter".into(),
            RatingGroup::Field => e.json_text("detail", "field"),
            RatingGroup::Day => e.local_day("at"),
            RatingGroup::Hour => format!("{} || ' ' || {}", e.local_day("at"), e.local_hour("at")),
        }
    }
}

impl Centre {
    pub fn open(config: &CentreConfig) -> Result<Centre, StoreError> {
        let store = Store::open(&config.db_path, config.store.as_ref())?;
        store.migrate(&[SCHEMA_SQL, bookings::SCHEMA_SQL, bundles::SCHEMA_SQL])?;
        // When the latest snapshot was taken, so a late one never replaces a newer one.
        store.add_column("points", "snapshot_at", "INTEGER")?;
        let key_path = config.identity_key_path();
        let id_key = crate::identity::IdKey::load_or_create(&key_path)
            .map_err(|e| StoreError::Other(e.to_string()))?;
        // The reference receiver's stand-in for a one-stop system: a few demo dossiers.
        if let Ok(demo) = serde_json::from_str::<Vec<crate::wire::DossierStatus>>(DEMO_DOSSIERS) {
            store.tx(Serial::No, |s| {
                for d in demo {
                    let json = serde_json::to_string(&d).unwrap_or_default();
                    s.exec(
                        "INSERT INTO dossiers (code, status) VALUES (?1, ?2) ON CONFLICT (code) DO NOTHING",
                        vals![d.code, json],
                    )?;
                }
                Ok::<_, StoreError>(())
            })?;
        }
        Ok(Centre {
            store,
            tokens: config
                .point
                .iter()
                .map(|p| (p.token.clone(), p.path.clone()))
                .collect(),
            point_tokens: config
                .point
                .iter()
                .map(|p| (p.path.clone(), p.token.clone()))
                .collect(),
            track_stale_seconds: config.ticket_stale_after_seconds,
            stale_after_seconds: config.stale_after_seconds,
            max_body_bytes: config.max_body_bytes,
            viewers: config.viewer.iter().map(|v| v.token.clone()).collect(),
            allowed_hosts: config.allowed_hosts.clone(),
            booking: config.booking.clone(),
            trend_keep_ms: i64::from(config.trend_keep_hours.max(24)) * 3600 * 1000,
            id_key,
        })
    }

    /// Which engine keeps this receiver's data.
    pub fn engine(&self) -> Engine {
        self.store.engine()
    }

    /// Store a report in one transaction. Returns the acknowledgement.
    pub fn ingest(&self, point: &str, report: &Report) -> Result<Ack, StoreError> {
        let now = Utc::now().timestamp_millis();
        self.store.tx(Serial::No, |s| {
            // The latest snapshot by its own time: one that arrives late (a slow request,
            // another receiver) does not replace a newer one.
            let newer = "excluded.snapshot IS NOT NULL AND (points.snapshot_at IS NULL \
                         OR excluded.snapshot_at >= points.snapshot_at)";
            s.exec(
                &format!(
                    "INSERT INTO points (path, name_vi, name_en, last_report_at, snapshot, snapshot_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (path) DO UPDATE SET name_vi = excluded.name_vi, name_en = excluded.name_en, \
                     last_report_at = excluded.last_report_at, \
                     snapshot = CASE WHEN {newer} THEN excluded.snapshot ELSE points.snapshot END, \
                     snapshot_at = CASE WHEN {newer} THEN excluded.snapshot_at ELSE points.snapshot_at END"
                ),
                vals![
                    point,
                    &report.site.name_vi,
                    &report.site.name_en,
                    now,
                    report.snapshot.as_ref().map(|s| serde_json::to_string(s).unwrap_or_default()),
                    report.snapshot.as_ref().map(|s| s.at.timestamp_millis())
                ],
            )?;
            if let Some(snap) = &report.snapshot {
                // The day's trend keeps one snapshot per `TREND_GAP_MS` (a point sends one within
                // seconds of every queue movement), without the queue's tickets.
                let trend = crate::report::Snapshot {
                    queue: Vec::new(),
                    ..snap.clone()
                };
                s.exec(
                    "INSERT INTO snapshots (point, at, body) \
                     SELECT CAST(?1 AS TEXT), CAST(?2 AS BIGINT), CAST(?3 AS TEXT) \
                     WHERE NOT EXISTS (SELECT 1 FROM snapshots WHERE point = ?1 AND at > ?2 - ?4 AND at <= ?2) \
                     ON CONFLICT (point, at) DO UPDATE SET body = excluded.body",
                    vals![
                        point,
                        snap.at.timestamp_millis(),
                        serde_json::to_string(&trend).unwrap_or_default(),
                        TREND_GAP_MS
                    ],
                )?;
            }
            let mut accepted = 0;
            for e in &report.events {
                // The key is the primary key: a copy is dropped by the engine, on any receiver.
                accepted += s.exec(
                    "INSERT INTO events (key, point, seq, at, kind, ticket, service, counter, \
                     priority_group, detail, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
                     ON CONFLICT (key) DO NOTHING",
                    vals![
                        &e.key,
                        point,
                        e.seq,
                        e.at.timestamp_millis(),
                        &e.kind,
                        e.ticket.clone(),
                        e.service.clone(),
                        e.counter,
                        e.priority_group.clone(),
                        stored_detail(e).map(|d| d.to_string()),
                        now
                    ],
                )?;
            }
            let last_seq = s
                .row(
                    "SELECT COALESCE(MAX(seq), 0) FROM events WHERE point = ?1",
                    vals![point],
                )?
                .map(|r| r.int(0))
                .transpose()?
                .unwrap_or(0);
            Ok(Ack {
                accepted,
                duplicates: report.events.len() as u64 - accepted,
                last_seq,
            })
        })
    }

    /// Every point with its latest figures, for the dashboard.
    pub fn points(&self, now: DateTime<Utc>) -> Result<Vec<serde_json::Value>, StoreError> {
        let day_start = now.timestamp_millis() - 24 * 3600 * 1000;
        self.store.run(|s| {
            let rows = s.rows(
                "SELECT path, name_vi, name_en, last_report_at, snapshot FROM points ORDER BY path",
                &[],
            )?;
            let mut out = Vec::new();
            for r in rows {
                let (path, vi, en, last) = (r.text(0)?, r.text(1)?, r.text(2)?, r.int(3)?);
                let mut snap: serde_json::Value = r
                    .opt_text(4)?
                    .and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or(serde_json::Value::Null);
                // The tickets' places are for their own phone pages, not the dashboard.
                if let Some(o) = snap.as_object_mut() {
                    o.remove("queue");
                }
                let waiting: u64 = snap["services"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|s| s["waiting"].as_u64()).sum())
                    .unwrap_or(0);
                // The longest current wait: the oldest ticket issued in the last day that has no
                // later call, cancellation or no-show.
                let oldest_waiting = s
                    .row(
                        "SELECT MIN(i.at) FROM events i WHERE i.point = ?1 AND i.kind = 'issued' AND i.at >= ?2 \
                         AND NOT EXISTS (SELECT 1 FROM events c WHERE c.point = i.point AND c.ticket = i.ticket \
                         AND c.kind IN ('called', 'cancelled', 'no_show') AND c.at >= i.at)",
                        vals![&path, day_start],
                    )?
                    .map(|r| r.opt_int(0))
                    .transpose()?
                    .flatten();
                let faults_today = s
                    .row(
                        "SELECT COUNT(*) FROM events WHERE point = ?1 AND kind = 'printer_fault' AND at >= ?2",
                        vals![&path, day_start],
                    )?
                    .map(|r| r.int(0))
                    .transpose()?
                    .unwrap_or(0);
                let age_s = (now.timestamp_millis() - last) / 1000;
                let p90_1h = snap["services"].as_array().and_then(|a| {
                    a.iter()
                        .filter_map(|s| s["wait_p90_1h_s"].as_f64())
                        .reduce(f64::max)
                });
                let est = &snap["estimate"];
                let hit_rate = match (est["inside"].as_f64(), est["judged"].as_f64()) {
                    (Some(i), Some(n)) if n > 0.0 => Some(i / n),
                    _ => None,
                };
                out.push(serde_json::json!({
                    "path": path,
                    "name_vi": vi,
                    "name_en": en,
                    "last_report_at": DateTime::from_timestamp_millis(last),
                    "last_report_age_s": age_s,
                    "stale": age_s > self.stale_after_seconds,
                    "waiting": waiting,
                    "longest_wait_s": oldest_waiting.map(|t| (now.timestamp_millis() - t) / 1000),
                    "wait_p90_1h_s": p90_1h,
                    "estimate_judged": est["judged"],
                    "estimate_hit_rate": hit_rate,
                    "estimate_bias_min": est["bias_min"],
                    "bundle": snap["bundle"],
                    "printer": snap["printer"],
                    "printer_faults_today": faults_today,
                    "outbox_backlog": snap["outbox_backlog"],
                    "snapshot": snap,
                }));
            }
            Ok(out)
        })
    }

    /// One point: its snapshots over the last day (the wait trend) and its latest figures.
    pub fn point(&self, path: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let since = Utc::now().timestamp_millis() - 24 * 3600 * 1000;
        let found = self.store.run(|s| {
            if s.row("SELECT path FROM points WHERE path = ?1", vals![path])?
                .is_none()
            {
                return Ok::<_, StoreError>(None);
            }
            let bodies = s.rows(
                "SELECT body FROM snapshots WHERE point = ?1 AND at >= ?2 ORDER BY at",
                vals![path, since],
            )?;
            let events = s
                .row("SELECT COUNT(*) FROM events WHERE point = ?1", vals![path])?
                .map(|r| r.int(0))
                .transpose()?
                .unwrap_or(0);
            Ok(Some((bodies, events)))
        })?;
        let Some((bodies, events)) = found else {
            return Ok(None);
        };
        let trend: Vec<serde_json::Value> = bodies
            .iter()
            .filter_map(|r| r.text(0).ok().and_then(|b| serde_json::from_str(&b).ok()))
            .map(|s: serde_json::Value| {
                let services = s["services"].as_array().cloned().unwrap_or_default();
                serde_json::json!({
                    "at": s["at"],
                    "waiting": services.iter().filter_map(|x| x["waiting"].as_u64()).sum::<u64>(),
                    "wait_p90_1h_s": services.iter().filter_map(|x| x["wait_p90_1h_s"].as_f64()).fold(0.0, f64::max),
                })
            })
            .collect();
        let latest = self
            .points(Utc::now())?
            .into_iter()
            .find(|p| p["path"] == path);
        Ok(Some(
            serde_json::json!({ "point": latest, "trend": trend, "events": events }),
        ))
    }

    /// Events of a point in `seq` order (for tests and audits).
    pub fn events_of(&self, point: &str) -> Result<Vec<(i64, String, Option<String>)>, StoreError> {
        let rows = self.store.run(|s| {
            s.rows(
                "SELECT seq, kind, ticket FROM events WHERE point = ?1 ORDER BY seq",
                vals![point],
            )
        })?;
        rows.iter()
            .map(|r| Ok((r.int(0)?, r.text(1)?, r.opt_text(2)?)))
            .collect()
    }

    /// The assistant's most frequent misses across points (questions it was not sure of, or
    /// whose answer the citizen left unused), received in the last 30 days (the centre's clock,
    /// not the point's), most asked first, each with the candidates of its latest time.
    pub fn assistant_misses(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        let since = (now - chrono::Duration::days(30)).timestamp_millis();
        let e = self.engine();
        let question = format!("lower(trim({}))", e.json_text("detail", "question"));
        let l_question = format!("lower(trim({}))", e.json_text("l.detail", "question"));
        let sql = format!(
            "SELECT g.q, g.n, g.points, g.not_sure, g.last, \
             (SELECT {candidates} FROM events l WHERE l.kind = 'assistant_miss' AND l.at = g.last \
              AND l.received_at >= ?1 AND {l_question} = g.q LIMIT 1) \
             FROM (SELECT {question} AS q, COUNT(*) AS n, COUNT(DISTINCT point) AS points, \
                   SUM(CASE WHEN {outcome} = 'not_sure' THEN 1 ELSE 0 END) AS not_sure, MAX(at) AS last \
                   FROM events WHERE kind = 'assistant_miss' AND received_at >= ?1 \
                   AND {question} IS NOT NULL AND {question} <> '' GROUP BY {question}) g \
             ORDER BY g.n DESC, g.last DESC LIMIT ?2",
            candidates = e.json_raw("l.detail", "candidates"),
            outcome = e.json_text("detail", "outcome"),
        );
        let rows = self.store.run(|s| s.rows(&sql, vals![since, limit]))?;
        rows.iter()
            .map(|r| {
                Ok(serde_json::json!({
                    "question": r.text(0)?,
                    "count": r.int(1)?,
                    "points": r.int(2)?,
                    "not_sure": r.opt_int(3)?.unwrap_or(0),
                    "last_at": DateTime::<Utc>::from_timestamp_millis(r.int(4)?),
                    "candidates": r.opt_text(5)?
                        .and_then(|c| serde_json::from_str::<serde_json::Value>(&c).ok())
                        .unwrap_or(serde_json::Value::Null),
                }))
            })
            .collect()
    }

    /// Per score 1-5, `SUM(CASE ...)` of the ratings with it.
    fn score_counts(e: Engine) -> String {
        let score = e.json_num("detail", "score");
        (1..=5)
            .map(|n| format!("SUM(CASE WHEN {score} = {n} THEN 1 ELSE 0 END)"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Citizens' ratings received from the points over the last `days` days (by the time each
    /// was given, in Vietnam's time, UTC+7 all year), grouped by `by`: "point", "counter",
    /// "field", "day" or "hour" (each with its point). Per group: how many, the mean score (1-5),
    /// the mean on Circular 01/2018's 2/1/0 scale, and the count of each score.
    pub fn ratings(
        &self,
        now: DateTime<Utc>,
        days: u32,
        by: RatingGroup,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        let since = (now - chrono::Duration::days(i64::from(days))).timestamp_millis();
        let e = self.engine();
        let key = by.sql(e);
        let sql = format!(
            "SELECT point, {key} AS k, COUNT(*), AVG({score}), AVG({circular}), {counts} \
             FROM events WHERE kind = 'rated' AND at >= ?1 \
             GROUP BY point{group} ORDER BY point, k NULLS FIRST",
            group = if by == RatingGroup::Point {
                String::new()
            } else {
                format!(", {key}")
            },
            score = e.json_num("detail", "score"),
            circular = e.json_num("detail", "circular"),
            counts = Self::score_counts(e),
        );
        let rows = self.store.run(|s| s.rows(&sql, vals![since]))?;
        rows.iter()
            .map(|r| {
                let k = match r.val(1) {
                    store::Val::Int(i) => serde_json::json!(i),
                    store::Val::Text(t) => serde_json::json!(t),
                    _ => serde_json::Value::Null,
                };
                let mut row = serde_json::json!({
                    "point": r.text(0)?,
                    "count": r.int(2)?,
                    "average": r.opt_real(3)?,
                    "circular_average": r.opt_real(4)?,
                    "scores": (5..10).map(|i| r.opt_int(i).map(|n| n.unwrap_or(0))).collect::<Result<Vec<_>, _>>()?,
                });
                if by != RatingGroup::Point {
                    row[by.name()] = k;
                }
                Ok(row)
            })
            .collect()
    }

    /// Per point: the mean rating of the last 7 days against the 28 days before, and whether it
    /// is falling (down by `FALLING_BY` or more, with at least `FALLING_MIN` ratings each side).
    pub fn rating_trends(&self, now: DateTime<Utc>) -> Result<Vec<serde_json::Value>, StoreError> {
        let recent = (now - chrono::Duration::days(7)).timestamp_millis();
        let earlier = (now - chrono::Duration::days(35)).timestamp_millis();
        let score = self.engine().json_num("detail", "score");
        let sql = format!(
            "SELECT point, \
             SUM(CASE WHEN at >= ?1 THEN 1 ELSE 0 END), AVG(CASE WHEN at >= ?1 THEN {score} END), \
             SUM(CASE WHEN at < ?1 THEN 1 ELSE 0 END), AVG(CASE WHEN at < ?1 THEN {score} END) \
             FROM events WHERE kind = 'rated' AND at >= ?2 GROUP BY point ORDER BY point"
        );
        let rows = self.store.run(|s| s.rows(&sql, vals![recent, earlier]))?;
        rows.iter()
            .map(|r| {
                let (n_recent, avg_recent) = (r.int(1)?, r.opt_real(2)?);
                let (n_earlier, avg_earlier) = (r.int(3)?, r.opt_real(4)?);
                let falling = matches!((avg_recent, avg_earlier), (Some(a), Some(b))
                    if n_recent >= FALLING_MIN && n_earlier >= FALLING_MIN && b - a >= FALLING_BY);
                Ok(serde_json::json!({
                    "point": r.text(0)?,
                    "recent_count": n_recent, "recent_average": avg_recent,
                    "earlier_count": n_earlier, "earlier_average": avg_earlier,
                    "falling": falling,
                }))
            })
            .collect()
    }

    /// The city's monthly report: one CSV row per point, day, counter and field, with the count,
    /// the mean on both scales and the count of each score.
    pub fn ratings_csv(&self, now: DateTime<Utc>, days: u32) -> Result<String, StoreError> {
        let since = (now - chrono::Duration::days(i64::from(days))).timestamp_millis();
        let e = self.engine();
        let (day, field) = (
            e.local_day("at"),
            format!("COALESCE({}, '')", e.json_text("detail", "field")),
        );
        let sql = format!(
            "SELECT point, {day} AS d, counter, {field} AS f, COUNT(*), AVG({score}), AVG({circular}), {counts} \
             FROM events WHERE kind = 'rated' AND at >= ?1 \
             GROUP BY point, {day}, counter, {field} ORDER BY point, d, counter NULLS FIRST, f",
            score = e.json_num("detail", "score"),
            circular = e.json_num("detail", "circular"),
            counts = Self::score_counts(e),
        );
        let rows = self.store.run(|s| s.rows(&sql, vals![since]))?;
        let mut out = String::from(
            "point,day,counter,field,ratings,average_1_5,average_circular_0_2,score_1,score_2,score_3,score_4,score_5\n",
        );
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        for r in &rows {
            let n = |i: usize| r.opt_int(i).map(|n| n.unwrap_or(0));
            out.push_str(&format!(
                "{},{},{},{},{},{:.2},{:.2},{},{},{},{},{}\n",
                quote(&r.text(0)?),
                r.text(1)?,
                r.opt_int(2)?.map(|c| c.to_string()).unwrap_or_default(),
                quote(&r.text(3)?),
                r.int(4)?,
                r.opt_real(5)?.unwrap_or(0.0),
                r.opt_real(6)?.unwrap_or(0.0),
                n(7)?,
                n(8)?,
                n(9)?,
                n(10)?,
                n(11)?,
            ));
        }
        Ok(out)
    }

    /// A dossier's status by its code (the demo table stands in for a one-stop system).
    pub fn dossier(&self, code: &str) -> Result<Option<crate::wire::DossierStatus>, StoreError> {
        let json = self.store.run(|s| {
            s.row("SELECT status FROM dossiers WHERE code = ?1", vals![code])?
                .map(|r| r.text(0))
                .transpose()
        })?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Delete trend snapshots older than `trend_keep_hours`; how many went.
    pub fn prune(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let before = now.timestamp_millis() - self.trend_keep_ms;
        self.store
            .run(|s| s.exec("DELETE FROM snapshots WHERE at < ?1", vals![before]))
    }

    pub fn event_count(&self) -> Result<i64, StoreError> {
        self.store.run(|s| {
            s.row("SELECT COUNT(*) FROM events", &[])?
                .map(|r| r.int(0))
                .transpose()
                .map(|n| n.unwrap_or(0))
        })
    }
}

async fn post_report(
    State(centre): State<Arc<Centre>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Ack>, Refusal> {
    let point = point_of(&centre, &headers)?;
    let report: Report = crate::web::parse_json(&body).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            "malformed_report",
            format!("the body is not a valid {SCHEMA} report: {e}"),
        )
    })?;
    if report.schema != SCHEMA {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "unsupported_schema",
            format!(
                "schema \"{}\" is not supported; expected \"{SCHEMA}\"",
                report.schema
            ),
        ));
    }
    if report.site.path() != point {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "unknown_point",
            format!(
                "point \"{}\" is not registered for this token (it belongs to \"{point}\")",
                report.site.path()
            ),
        ));
    }
    if let Some(e) = report
        .events
        .iter()
        .find(|e| !e.key.starts_with(&format!("{point}:")))
    {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "bad_event_key",
            format!("event key \"{}\" does not start with \"{point}:\"", e.key),
        ));
    }
    let ack = blocking(&centre, move |c| c.ingest(&point, &report)).await?;
    Ok(Json(ack))
}

/// The point a request's bearer token belongs to (reports and booking pulls).
fn point_of(centre: &Centre, headers: &HeaderMap) -> Result<String, Refusal> {
    let token = bearer(headers).ok_or_else(|| {
        refuse(
            StatusCode::UNAUTHORIZED,
            "missing_token",
            "send the point's token as 'Authorization: Bearer <token>'",
        )
    })?;
    centre.tokens.get(token).cloned().ok_or_else(|| {
        refuse(
            StatusCode::UNAUTHORIZED,
            "wrong_token",
            "this token belongs to no point known to the centre",
        )
    })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The dashboard's data is for the centre's staff: a viewer token, compared in equal time.
fn authorise_viewer(centre: &Centre, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(token) = bearer(headers) else {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "unauthorised",
            "sign in: send a viewer token as 'Authorization: Bearer <token>'",
        ));
    };
    let ok = centre.viewers.iter().fold(false, |ok, v| {
        let same = v.len() == token.len()
            && v.bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        ok | same
    });
    if ok {
        Ok(())
    } else {
        Err(refuse(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this token is not a viewer's ([[viewer]] in the centre's config)",
        ))
    }
}

/// A point asks where a citizen's dossier stands (`GET /api/v1/dossiers/{code}`, the point's
/// bearer token).
/// Run a store query off the async workers; a failed task or query is a JSON refusal.
async fn blocking<T: Send + 'static>(
    centre: &Arc<Centre>,
    query: impl FnOnce(&Centre) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Refusal> {
    let c = Arc::clone(centre);
    tokio::task::spawn_blocking(move || query(&c))
        .await
        .map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
        .map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, "storage", e.to_string()))
}

async fn get_dossier(
    State(centre): State<Arc<Centre>>,
    headers: HeaderMap,
    axum::extract::Path(code): axum::extract::Path<String>,
) -> Result<Json<crate::wire::DossierStatus>, Refusal> {
    let token = bearer(&headers).ok_or_else(|| {
        refuse(
            StatusCode::UNAUTHORIZED,
            "unauthorised",
            "a point's bearer token is needed",
        )
    })?;
    if !centre.tokens.contains_key(token) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "forbidden",
            "unknown point token",
        ));
    }
    let code = crate::domain::parse_dossier_code(&code)
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, "bad_dossier_code", e.to_string()))?;
    let key = code.as_str().to_string();
    let found = blocking(&centre, move |c| c.dossier(&key)).await?;
    found.map(Json).ok_or_else(|| {
        refuse(
            StatusCode::NOT_FOUND,
            "unknown_dossier",
            format!("no dossier {}", code.as_str()),
        )
    })
}

async fn get_points(
    State(centre): State<Arc<Centre>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, Refusal> {
    authorise_viewer(&centre, &headers)?;
    let points = blocking(&centre, |c| c.points(Utc::now())).await?;
    Ok(Json(serde_json::json!({ "points": points })))
}

async fn get_misses(
    State(centre): State<Arc<Centre>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, Refusal> {
    authorise_viewer(&centre, &headers)?;
    let misses = blocking(&centre, |c| c.assistant_misses(Utc::now(), 50)).await?;
    Ok(Json(serde_json::json!({ "misses": misses })))
}

#[derive(Deserialize)]
struct PointQuery {
    path: String,
}

#[derive(Deserialize)]
struct RatingsQuery {
    by: Option<String>,
    days: Option<u32>,
}

/// The longest period the ratings views look back (a year).
const MAX_RATING_DAYS: u32 = 366;

fn rating_days(q: &RatingsQuery, default: u32) -> Result<u32, Refusal> {
    let days = q.days.unwrap_or(default);
    if days == 0 || days > MAX_RATING_DAYS {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("days must be 1 to {MAX_RATING_DAYS}"),
        ));
    }
    Ok(days)
}

async fn get_ratings(
    State(centre): State<Arc<Centre>>,
    headers: HeaderMap,
    Query(q): Query<RatingsQuery>,
) -> Result<Json<serde_json::Value>, Refusal> {
    authorise_viewer(&centre, &headers)?;
    let by_word = q.by.clone().unwrap_or_else(|| "point".into());
    let by = RatingGroup::parse(&by_word).ok_or_else(|| {
        refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!(
                "by \"{}\": use point, counter, field, day or hour",
                crate::text::clip(&by_word, 40)
            ),
        )
    })?;
    let days = rating_days(&q, 30)?;
    let (groups, trends) = blocking(&centre, move |c| {
        let now = Utc::now();
        Ok((c.ratings(now, days, by)?, c.rating_trends(now)?))
    })
    .await?;
    Ok(Json(
        serde_json::json!({ "by": by_word, "days": days, "groups": groups, "trends": trends }),
    ))
}

async fn get_ratings_csv(
    State(centre): State<Arc<Centre>>,
    headers: HeaderMap,
    Query(q): Query<RatingsQuery>,
) -> Result<Response, Refusal> {
    authorise_viewer(&centre, &headers)?;
    let days = rating_days(&q, 31)?;
    let csv = blocking(&centre, move |c| c.ratings_csv(Utc::now(), days)).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"ratings.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

async fn get_point(
    State(centre): State<Arc<Centre>>,
    headers: HeaderMap,
    Query(q): Query<PointQuery>,
) -> Result<Json<serde_json::Value>, Refusal> {
    authorise_viewer(&centre, &headers)?;
    let path = q.path.clone();
    let found = blocking(&centre, move |c| c.point(&path)).await?;
    found.map(Json).ok_or_else(|| {
        refuse(
            StatusCode::NOT_FOUND,
            "unknown_point",
            format!("no point \"{}\"", q.path),
        )
    })
}

pub fn router(centre: Arc<Centre>) -> Router {
    let limit = centre.max_body_bytes;
    let guard = crate::web::Guard::new(&centre.allowed_hosts, &[DASHBOARD, BOOK, TICKET], limit);
    Router::new()
        .route("/", get(|| async { Html(DASHBOARD) }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/points", get(get_points))
        .route("/api/point", get(get_point))
        .route("/api/assistant-misses", get(get_misses))
        .route("/api/ratings", get(get_ratings))
        .route("/api/ratings.csv", get(get_ratings_csv))
        .route("/api/v1/reports", post(post_report))
        .route("/api/v1/dossiers/{code}", get(get_dossier))
        .route("/book", get(|| async { Html(BOOK) }))
        .route("/ve", get(|| async { Html(TICKET) }))
        .route("/api/v1/track", get(track::get_track))
        .route("/api/v1/booking/points", get(bookings::get_points))
        .route("/api/v1/booking/slots", get(bookings::get_slots))
        .route("/api/v1/bookings", post(bookings::post_booking))
        .route(
            "/api/v1/bookings/{code}/cancel",
            post(bookings::post_cancel),
        )
        .route("/api/v1/bookings/pull", post(bookings::post_pull))
        .route("/api/v1/bundles/current", get(bundles::get_current))
        .fallback(|| async {
            refuse(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such path; see docs/centre-api.md",
            )
        })
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            guard,
            crate::web::guard,
        ))
        .with_state(centre)
}

/// Serve HTTPS until `shutdown` resolves.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    centre: Arc<Centre>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tls::TlsListener::new(listener, acceptor)?;
    let pruner = tokio::spawn(keep_pruning(Arc::clone(&centre)));
    let served = axum::serve(listener, router(centre))
        .with_graceful_shutdown(shutdown)
        .await;
    pruner.abort();
    served
}

/// How often old trend snapshots are deleted (every receiver does it; it is idempotent).
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

async fn keep_pruning(centre: Arc<Centre>) {
    let mut tick = tokio::time::interval(PRUNE_EVERY);
    loop {
        tick.tick().await;
        let c = Arc::clone(&centre);
        match tokio::task::spawn_blocking(move || c.prune(Utc::now())).await {
            Ok(Ok(0)) | Err(_) => {}
            Ok(Ok(n)) => tracing::info!(snapshots = n, "old trend snapshots deleted"),
            Ok(Err(e)) => tracing::warn!(error = %e, "deleting old trend snapshots failed"),
        }
    }
}

/// Serve until `shutdown` resolves. Tests pass a listener on 127.0.0.1:0.
pub async fn serve(
    listener: tokio::net::TcpListener,
    centre: Arc<Centre>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let pruner = tokio::spawn(keep_pruning(Arc::clone(&centre)));
    let served = axum::serve(listener, router(centre))
        .with_graceful_shutdown(shutdown)
        .await;
    pruner.abort();
    served
}

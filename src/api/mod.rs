//! The hub's HTTP server on the LAN: the counter/board/kiosk API and pages (`lan.rs`, contract in
//! docs/openapi.yaml), Prometheus metrics (`/metrics`) and `/healthz`. Reads come from the hub's
//! status and reader connections; writes go through the hub like every other command.

pub mod lan;
pub mod throttle;
pub mod views;

use std::fmt::Write as _;
use std::path::PathBuf;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::domain::EventKind;
use crate::hub::HubHandle;
use crate::store::{SharedStore, Store};

#[derive(Clone)]
pub struct ApiState {
    pub hub: HubHandle,
    pub db_path: PathBuf,
    /// The API's reader connection, kept open (board feed, counter views, metrics).
    pub reader: SharedStore,
    /// Signs the tokens counters get for their PIN (kept in the database's meta table).
    pub secret: std::sync::Arc<String>,
    pub feed: lan::BoardFeed,
    /// Wrong PINs per counter and per address (`throttle`).
    pub logins: std::sync::Arc<std::sync::Mutex<throttle::LoginThrottle>>,
    /// Tickets per address through `POST /api/tickets`.
    pub issuing: std::sync::Arc<std::sync::Mutex<throttle::RateLimit>>,
}

impl ApiState {
    pub fn new(hub: HubHandle, db_path: PathBuf) -> Result<ApiState, crate::store::StoreError> {
        let mut store = Store::open(&db_path)?;
        let secret = store.meta_or_init("api_secret", crate::hub::service::random_id)?;
        let per_minute = hub.config().api.issue_per_minute;
        Ok(ApiState {
            logins: Default::default(),
            issuing: std::sync::Arc::new(std::sync::Mutex::new(throttle::RateLimit::new(
                per_minute,
            ))),
            hub,
            reader: SharedStore::new(&db_path),
            db_path,
            secret: std::sync::Arc::new(secret),
            feed: lan::BoardFeed::new(),
        })
    }
}

/// Prometheus text exposition of the point's queues, outbox and printer.
pub async fn metrics_text(state: &ApiState) -> Result<String, String> {
    let status = state.hub.status().await.map_err(|e| e.to_string())?;
    let reader = state.reader.clone();
    let day = status.service_day;
    let (backlog, oldest, printer, ratings, rating_mean) = tokio::task::spawn_blocking(move || {
        reader.with(|store| {
            let tx = store.read()?;
            let (n, oldest) = tx.outbox_backlog()?;
            let ratings = tx.rating_counts(day)?;
            let mean = tx.rating_summary(day, None)?.average;
            let printer = tx
                .last_event_of(EventKind::PRINTER)?
                .and_then(|e| e.detail)
                .and_then(|d| d["status"].as_str().map(str::to_string));
            Ok((n, oldest, printer, ratings, mean))
        })
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    fn family(out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    }
    let mut out = String::new();
    family(
        &mut out,
        "kiosk_queue_waiting",
        "People waiting per service.",
    );
    for s in &status.services {
        let _ = writeln!(
            out,
            "kiosk_queue_waiting{{service=\"{}\"}} {}",
            s.id, s.counts.waiting
        );
    }
    family(
        &mut out,
        "kiosk_tickets_today",
        "Tickets of today's service day by service and state.",
    );
    for s in &status.services {
        let c = &s.counts;
        for (state, n) in [
            ("waiting", c.waiting),
            ("called", c.called),
            ("serving", c.serving),
            ("done", c.done),
            ("no_show", c.no_show),
            ("cancelled", c.cancelled),
        ] {
            let _ = writeln!(
                out,
                "kiosk_tickets_today{{service=\"{}\",state=\"{state}\"}} {n}",
                s.id
            );
        }
    }
    family(
        &mut out,
        "kiosk_wait_estimate_minutes",
        "Wait estimate for a new arrival (low and high bound).",
    );
    for s in &status.services {
        if let Some(w) = s.wait_for_new {
            let _ = writeln!(
                out,
                "kiosk_wait_estimate_minutes{{service=\"{}\",bound=\"low\"}} {}",
                s.id, w.low_minutes
            );
            let _ = writeln!(
                out,
                "kiosk_wait_estimate_minutes{{service=\"{}\",bound=\"high\"}} {}",
                s.id, w.high_minutes
            );
        }
    }
    family(
        &mut out,
        "kiosk_counters_open",
        "Unpaused counters serving each service.",
    );
    for s in &status.services {
        let _ = writeln!(
            out,
            "kiosk_counters_open{{service=\"{}\"}} {}",
            s.id, s.open_counters
        );
    }
    family(
        &mut out,
        "kiosk_outbox_backlog_events",
        "Events not yet acknowledged by the centre.",
    );
    let _ = writeln!(out, "kiosk_outbox_backlog_events {backlog}");
    family(
        &mut out,
        "kiosk_outbox_oldest_age_seconds",
        "Age of the oldest unsent event (0 when none).",
    );
    let age = oldest.map_or(0, |t| (chrono::Utc::now() - t).num_seconds().max(0));
    let _ = writeln!(out, "kiosk_outbox_oldest_age_seconds {age}");
    family(
        &mut out,
        "kiosk_printer_status",
        "1 for the printer's last reported status.",
    );
    for st in [
        "ready",
        "paper_near_end",
        "paper_out",
        "cover_open",
        "offline",
        "unreachable",
    ] {
        let v = u8::from(printer.as_deref() == Some(st));
        let _ = writeln!(out, "kiosk_printer_status{{status=\"{st}\"}} {v}");
    }
    family(
        &mut out,
        "kiosk_ratings_today",
        "Citizens' ratings of today's services by score (1-5).",
    );
    for (i, n) in ratings.iter().enumerate() {
        let _ = writeln!(out, "kiosk_ratings_today{{score=\"{}\"}} {n}", i + 1);
    }
    if let Some(mean) = rating_mean {
        family(
            &mut out,
            "kiosk_rating_mean_today",
            "Mean rating today (1-5).",
        );
        let _ = writeln!(out, "kiosk_rating_mean_today {mean:.3}");
    }
    Ok(out)
}

async fn metrics(State(state): State<ApiState>) -> impl IntoResponse {
    match metrics_text(&state).await {
        Ok(text) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            text,
        )
            .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({ "error": "unavailable", "reason": e })),
        )
            .into_response(),
    }
}

/// The largest request body the LAN API reads (a login, an action, a device event).
pub const MAX_BODY: usize = 16 * 1024;

pub fn router(state: ApiState) -> Router {
    let guard =
        crate::web::Guard::new(&state.hub.config().api.allowed_hosts, &lan::PAGES, MAX_BODY);
    lan::routes()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            guard,
            crate::web::guard,
        ))
        .with_state(state)
}

pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let feed = tokio::spawn(lan::run_feed(state.clone()));
    let closing = std::sync::Arc::clone(&state.feed.closing);
    // No Nagle: server-sent events are small writes, and Nagle plus the client's delayed ACK
    // held some calls back by ~40 ms (seen in `kiosk bench board` before this line).
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    // The client's address: sign-in throttling and the issuing rate limit are per address.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            closing.send_replace(true);
        })
        .await;
    feed.abort();
    result
}

//! The LAN API: counters (authenticated per counter), boards (read-only, live by server-sent
//! events), other kiosks (a kiosk token) and the pages served to browsers. Every refusal is a
//! JSON body `{"error": code, "reason": text}` with a 4xx status; nothing changes on a refusal.
//! The contract is docs/openapi.yaml.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use tokio::sync::{broadcast, watch};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use super::ApiState;
use super::throttle::{self, Subject};
use super::views;
use crate::domain::{EventKind, RatingInput, RatingReason, Reason};
use crate::hub::{HubError, IssueRequest};

static BOARD_HTML: &str = include_str!("../../assets/web/board.html");
static COUNTER_HTML: &str = include_str!("../../assets/web/counter.html");
static INDEX_HTML: &str = include_str!("../../assets/web/index.html");
static RATE_HTML: &str = include_str!("../../assets/web/rate.html");
static SUPERVISOR_HTML: &str = include_str!("../../assets/web/supervisor.html");
static OPENAPI: &str = include_str!("../../docs/openapi.yaml");

/// The pages this server sends (their inline scripts are allowed by hash, `crate::web`).
pub const PAGES: [&str; 5] = [
    BOARD_HTML,
    COUNTER_HTML,
    INDEX_HTML,
    RATE_HTML,
    SUPERVISOR_HTML,
];

/// The longest text each field takes (characters). Bounded here so that nothing a client
/// sends can grow an event past what reporting carries (`report::MAX_EVENT_BYTES`).
const MAX_CODE: usize = 16;
const MAX_ID: usize = 64;
const MAX_FIELD: usize = 200;
const MAX_REASON_TEXT: usize = 200;
const MAX_PIN: usize = 16;
const MAX_CITIZEN_ID: usize = 32;
/// A device event's `detail`, as JSON bytes.
pub const MAX_DETAIL_BYTES: usize = 4096;

/// A refusal.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Reason,
    reason: String,
    /// Seconds before trying again is worth it (sent as `retry_after` and `Retry-After`).
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: Reason, reason: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            reason: reason.into(),
            retry_after: None,
        }
    }

    fn retry_after(mut self, wait: Duration) -> ApiError {
        self.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        self
    }
}

/// A text field within its bound (characters), or a `too_long` refusal naming it.
fn bounded(value: &str, what: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            Reason::TooLong,
            format!("\"{what}\" takes at most {max} characters"),
        ));
    }
    Ok(())
}

fn bounded_opt(value: &Option<String>, what: &str, max: usize) -> Result<(), ApiError> {
    value.as_deref().map_or(Ok(()), |v| bounded(v, what, max))
}

/// The HTTP status of a refusal from the hub. Exhaustive: a new reason must choose one.
fn status_of(reason: Reason) -> StatusCode {
    use Reason::*;
    match reason {
        UnknownService | UnknownCounter | UnknownPriorityGroup | TicketNotFound | NotFound
        | UnknownAction => StatusCode::NOT_FOUND,
        CounterDoesNotServe | Forbidden | NoKioskToken | WrongPin | NoPin => StatusCode::FORBIDDEN,
        QuotaExceeded | TooManyAttempts | RateLimited => StatusCode::TOO_MANY_REQUESTS,
        TooLong | BadRequest | BadCitizenId => StatusCode::BAD_REQUEST,
        PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        BadHost => StatusCode::MISDIRECTED_REQUEST,
        HubStopped | Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        StorageError | Internal | RemoteError => StatusCode::INTERNAL_SERVER_ERROR,
        BadJson | MissingField | UnknownEventKind => StatusCode::BAD_REQUEST,
        Unauthorised => StatusCode::UNAUTHORIZED,
        MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        NoCurrentTicket | CounterBusy | CounterPaused | Closed | DailyCapReached
        | NumbersExhausted | WrongTicketState | BadRating | AlreadyRated | RatingClosed => {
            StatusCode::CONFLICT
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let reason = crate::text::clip(&self.reason, crate::web::MAX_REASON);
        let mut body = serde_json::json!({ "error": self.code, "reason": reason });
        if let Some(s) = self.retry_after {
            body["retry_after"] = s.into();
        }
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after
            && let Ok(v) = header::HeaderValue::from_str(&s.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

impl From<HubError> for ApiError {
    fn from(e: HubError) -> ApiError {
        let code = e.reason();
        ApiError::new(status_of(code), code, e.to_string())
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        Reason::Internal,
        e.to_string(),
    )
}

/// A device event's body: a kind outside the vocabulary is `unknown_event_kind`, not
/// `bad_json` (the vocabulary's own error message names it).
fn device_event_body(bytes: &Bytes) -> Result<DeviceEventBody, ApiError> {
    body(bytes).map_err(|e| {
        if e.reason.contains("unknown EventKind") {
            ApiError::new(StatusCode::BAD_REQUEST, Reason::UnknownEventKind, e.reason)
        } else {
            e
        }
    })
}

/// A JSON body; an empty body reads as `{}`.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let bad = |e: serde_json::Error| {
        ApiError::new(StatusCode::BAD_REQUEST, Reason::BadJson, e.to_string())
    };
    crate::web::parse_json(text).map_err(bad)
}

/// The token a counter's PIN signs in to: stable across restarts (the secret is in the
/// database), changed by changing the PIN.
pub fn pin_token(secret: &str, counter: u32, pin: &str) -> String {
    let digest = Sha256::digest(format!("{secret}:counter:{counter}:{pin}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Equal-time comparison, so a token cannot be guessed byte by byte from response times.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn authorise_counter(state: &ApiState, headers: &HeaderMap, counter: u32) -> Result<(), ApiError> {
    let config = state.hub.config();
    let Some(c) = config.counter(counter) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            Reason::UnknownCounter,
            format!("no counter {counter} here"),
        ));
    };
    let Some(token) = bearer(headers) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            Reason::Unauthorised,
            "sign in: Authorization: Bearer <counter token>",
        ));
    };
    let by_config = c.token.as_deref().is_some_and(|t| same(t, token));
    let by_pin = c
        .pin
        .as_deref()
        .is_some_and(|pin| same(&pin_token(&state.secret, counter, pin), token));
    if by_config || by_pin {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Reason::Forbidden,
            format!("this token does not open counter {counter}"),
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    counter: u32,
    pin: String,
    /// "clerk" (the counter page, the default: a clerk's session starts) or "rating" (the
    /// counter's rating tablet).
    role: Option<String>,
}

/// The client's address (the server is started with connect info; tests that build the
/// router by hand get loopback).
fn peer(connect: Option<Extension<ConnectInfo<SocketAddr>>>) -> IpAddr {
    connect.map_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), |c| c.0.0.ip())
}

/// A refusal while sign-in is locked, with when to try again.
fn locked_out(wait: std::time::Duration) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        Reason::TooManyAttempts,
        format!(
            "too many wrong PINs: sign-in is locked for {} s more",
            wait.as_secs().max(1)
        ),
    )
    .retry_after(wait)
}

/// Every new lock is logged and becomes a `login_locked` event for the centre.
async fn record_locks(state: &ApiState, locks: &[throttle::Lock], supervisor: bool) {
    for lock in locks {
        tracing::warn!(subject = %lock.subject, failures = lock.failures, seconds = lock.duration.as_secs(), "sign-in locked after wrong PINs");
        let (counter, address) = match lock.subject {
            Subject::Counter(n) => (Some(n), None),
            Subject::Address(a) => (None, Some(a.to_string())),
        };
        let mut detail = serde_json::json!({
            "counter": counter, "address": address,
            "failures": lock.failures, "locked_seconds": lock.duration.as_secs(),
        });
        if supervisor {
            detail["supervisor"] = true.into();
        }
        if let Err(e) = state
            .hub
            .record_device_event(EventKind::LoginLocked, None, detail)
            .await
        {
            tracing::error!(error = %e, "sign-in lock not recorded");
        }
    }
}

async fn login(
    State(state): State<ApiState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let req: Login = body(&bytes)?;
    bounded(&req.pin, "pin", MAX_PIN)?;
    if let Some(role) = req.role.as_deref()
        && role != "clerk"
        && role != "rating"
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            Reason::BadRequest,
            format!(
                "role \"{}\": use clerk or rating",
                crate::text::clip(role, 20)
            ),
        ));
    }
    let from = peer(connect);
    let subjects = [Subject::Counter(req.counter), Subject::Address(from)];
    let now = std::time::Instant::now();
    let locked = state
        .logins
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .locked(&subjects, now);
    if let Some(wait) = locked {
        return Err(locked_out(wait));
    }
    let config = state.hub.config();
    let right = config
        .counter(req.counter)
        .and_then(|c| c.pin.as_deref())
        .filter(|pin| same(pin, &req.pin));
    if let Some(pin) = right {
        state
            .logins
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .succeeded(&subjects);
        if req.role.as_deref() != Some("rating") {
            let detail = serde_json::json!({ "counter": req.counter });
            if let Err(e) = state
                .hub
                .record_device_event(EventKind::CounterSignedIn, None, detail)
                .await
            {
                tracing::error!(error = %e, "counter sign-in not recorded");
            }
        }
        return Ok(axum::Json(serde_json::json!({
            "counter": req.counter,
            "token": pin_token(&state.secret, req.counter, pin),
        }))
        .into_response());
    }
    // Every wrong try counts, including tries at counters that do not exist or have no PIN
    // (or scanning them would be free).
    let locks = state
        .logins
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .failed(&subjects, now);
    record_locks(&state, &locks, false).await;
    let then = if locks.is_empty() {
        String::new()
    } else {
        "; too many wrong PINs: sign-in is now locked for a while".to_string()
    };
    match config.counter(req.counter) {
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            Reason::UnknownCounter,
            format!("no counter {} here{then}", req.counter),
        )),
        Some(c) if c.pin.is_none() => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Reason::NoPin,
            format!("this counter has no PIN; use its token{then}"),
        )),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Reason::WrongPin,
            format!("wrong PIN for this counter{then}"),
        )),
    }
}

fn counter_number(raw: &str) -> Result<u32, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            Reason::UnknownCounter,
            format!("\"{raw}\" is not a counter number"),
        )
    })
}

/// The supervisor's token: the same derivation as a counter's, for the pseudo-counter 0.
fn supervisor_token(state: &ApiState) -> Option<String> {
    let pin = state.hub.config().api.supervisor_pin.as_deref()?;
    Some(pin_token(&state.secret, 0, pin))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SupervisorLogin {
    pin: String,
}

/// `POST /api/supervisor/login`: the supervisor PIN for a token. Throttled like the counters'
/// PINs (the supervisor is "counter 0" to the throttle), every lock a `login_locked` event.
async fn supervisor_login(
    State(state): State<ApiState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let req: SupervisorLogin = body(&bytes)?;
    bounded(&req.pin, "pin", MAX_PIN)?;
    let subjects = [Subject::Counter(0), Subject::Address(peer(connect))];
    let now = std::time::Instant::now();
    let Some(pin) = state.hub.config().api.supervisor_pin.clone() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Reason::NoPin,
            "this hub has no supervisor page ([api] supervisor_pin is not set)",
        ));
    };
    // The lock is taken and released here, never held across an await.
    let locks = {
        let mut logins = state.logins.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(wait) = logins.locked(&subjects, now) {
            return Err(locked_out(wait));
        }
        if same(&pin, &req.pin) {
            logins.succeeded(&subjects);
            None
        } else {
            Some(logins.failed(&subjects, now))
        }
    };
    let Some(locks) = locks else {
        return Ok(
            axum::Json(serde_json::json!({ "token": supervisor_token(&state) })).into_response(),
        );
    };
    record_locks(&state, &locks, true).await;
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        Reason::WrongPin,
        "wrong supervisor PIN",
    ))
}

/// `GET /api/supervisor`: per counter today, served, no-shows, mean service time and ratings.
async fn supervisor_view(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let expected = supervisor_token(&state);
    match (bearer(&headers), expected.as_deref()) {
        (Some(got), Some(want)) if same(got, want) => {}
        (None, _) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                Reason::Unauthorised,
                "sign in with the supervisor PIN (POST /api/supervisor/login)",
            ));
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                Reason::Forbidden,
                "not the supervisor's token",
            ));
        }
    }
    let status = state.hub.status().await?;
    let config = Arc::clone(state.hub.config());
    let reader = state.reader.clone();
    let day = status.service_day;
    let rows = tokio::task::spawn_blocking(move || {
        reader.with(|s| {
            let tx = s.read()?;
            let stats = tx.counter_day_stats(day)?;
            let mut rows = Vec::new();
            for c in &config.counters {
                let st = stats.iter().find(|x| x.counter == c.number);
                rows.push(serde_json::json!({
                    "number": c.number,
                    "name_vi": c.name.vi,
                    "name_en": c.name.en,
                    "served": st.map_or(0, |x| x.served),
                    "no_shows": st.map_or(0, |x| x.no_shows),
                    "mean_service_minutes": st
                        .and_then(|x| x.mean_service_seconds)
                        .map(|s| (s / 6.0).round() / 10.0),
                    "paused_reason": tx.paused_reason(c.number)?,
                    "ratings": tx.rating_summary(day, Some(c.number))?,
                }));
            }
            Ok::<_, crate::store::StoreError>(serde_json::json!({
                "service_day": day,
                "counters": rows,
                "ratings": tx.rating_summary(day, None)?,
            }))
        })
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    Ok(axum::Json(rows).into_response())
}

async fn counter_view(
    State(state): State<ApiState>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let number = counter_number(&number)?;
    authorise_counter(&state, &headers, number)?;
    let status = state.hub.status().await?;
    let config = Arc::clone(state.hub.config());
    let reader = state.reader.clone();
    let view = tokio::task::spawn_blocking(move || {
        reader.with(|s| views::counter(&config, s, &status, number, chrono::Utc::now()))
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    Ok(axum::Json(view).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    code: Option<String>,
    service: Option<String>,
    reason: Option<String>,
}

/// `POST /api/counters/{number}/rate`: the citizen's rating of a finished service.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateBody {
    code: Option<String>,
    /// 1-5, and at 3 or less optionally why.
    score: Option<u8>,
    reasons: Option<Vec<String>>,
}

async fn rate(
    State(state): State<ApiState>,
    Path(number): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let number = counter_number(&number)?;
    authorise_counter(&state, &headers, number)?;
    let b: RateBody = body(&bytes)?;
    bounded_opt(&b.code, "code", MAX_CODE)?;
    if let Some(words) = &b.reasons {
        for w in words {
            bounded(w, "reason", MAX_ID)?;
        }
    }
    let input = rating_input(b.score, b.reasons)?;
    let outcome = state
        .hub
        .rate(number, &required(b.code, "code")?, input)
        .await?;
    Ok(axum::Json(outcome).into_response())
}

/// A rating's body, checked word by word.
fn rating_input(score: Option<u8>, reasons: Option<Vec<String>>) -> Result<RatingInput, ApiError> {
    let score = score.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Reason::MissingField,
            "a rating needs \"score\" (1 to 5)",
        )
    })?;
    let words = reasons.unwrap_or_default();
    if words.len() > RatingReason::ALL.len() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            Reason::TooLong,
            format!("at most {} reasons", RatingReason::ALL.len()),
        ));
    }
    let mut reasons = Vec::new();
    for w in &words {
        let r = RatingReason::from_word(w).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Reason::BadRating,
                format!(
                    "unknown reason \"{}\"; reasons: {}",
                    crate::text::clip(w, 40),
                    RatingReason::list(RatingReason::ALL)
                ),
            )
        })?;
        if !reasons.contains(&r) {
            reasons.push(r);
        }
    }
    Ok(RatingInput { score, reasons })
}

fn required(v: Option<String>, what: &'static str) -> Result<String, ApiError> {
    v.filter(|s| !s.trim().is_empty()).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Reason::MissingField,
            format!("this action needs \"{what}\""),
        )
    })
}

async fn counter_action(
    State(state): State<ApiState>,
    Path((number, action)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let number = counter_number(&number)?;
    authorise_counter(&state, &headers, number)?;
    let b: ActionBody = body(&bytes)?;
    bounded_opt(&b.code, "code", MAX_CODE)?;
    bounded_opt(&b.service, "service", MAX_ID)?;
    bounded_opt(&b.reason, "reason", MAX_REASON_TEXT)?;
    let hub = &state.hub;
    let outcome = match action.as_str() {
        "call-next" => hub.call_next(number).await?,
        "call" => hub.call_ticket(number, &required(b.code, "code")?).await?,
        "recall" => hub.recall(number).await?,
        "serve" => hub.start_serving(number).await?,
        "done" => hub.finish(number).await?,
        "no-show" => hub.mark_no_show(number).await?,
        "transfer" => {
            hub.transfer(number, &required(b.service, "service")?)
                .await?
        }
        "pause" => hub.pause(number, &required(b.reason, "reason")?).await?,
        "resume" => hub.resume(number).await?,
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                Reason::UnknownAction,
                format!(
                    "no action \"{other}\"; actions: call-next, call, recall, serve, done, \
                     no-show, transfer, pause, resume (and rate)"
                ),
            ));
        }
    };
    Ok(axum::Json(outcome).into_response())
}

fn authorise_kiosk(state: &ApiState, headers: &HeaderMap) -> Result<(), ApiError> {
    let config = state.hub.config();
    let Some(expected) = config.api_kiosk_token.as_deref() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Reason::NoKioskToken,
            "this hub takes nothing from other kiosks ([api] kiosk_token is not set)",
        ));
    };
    match bearer(headers) {
        Some(t) if same(t, expected) => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Reason::Forbidden,
            "wrong kiosk token",
        )),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            Reason::Unauthorised,
            "Authorization: Bearer <kiosk token> required",
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceEventBody {
    kind: EventKind,
    /// The ticket's code, today's (the hub has the ticket itself).
    ticket: Option<String>,
    #[serde(default)]
    detail: serde_json::Value,
}

/// Another kiosk's printer (printed, printer_fault, printer_warning) or assistant
/// (assistant_miss) reports into this hub's log; `ticket` is today's ticket code.
async fn device_event(
    State(state): State<ApiState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    authorise_kiosk(&state, &headers)?;
    let b = device_event_body(&bytes)?;
    let detail_bytes = serde_json::to_vec(&b.detail).map_or(usize::MAX, |v| v.len());
    if detail_bytes > MAX_DETAIL_BYTES {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            Reason::TooLong,
            format!("\"detail\" takes at most {MAX_DETAIL_BYTES} bytes of JSON"),
        ));
    }
    if !b.kind.is_device() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            Reason::UnknownEventKind,
            format!(
                "unknown device event \"{}\"; known: {}",
                b.kind,
                EventKind::list(EventKind::DEVICE)
            ),
        ));
    }
    bounded_opt(&b.ticket, "ticket", MAX_CODE)?;
    let ticket = match &b.ticket {
        Some(code) => Some(state.hub.lookup(code).await?.0),
        None => None,
    };
    let event = state
        .hub
        .record_device_event(b.kind, ticket, b.detail)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(event)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueBody {
    service: String,
    priority: Option<String>,
    field: Option<String>,
    citizen_id: Option<String>,
}

/// One request from `from` against `[api] issue_per_minute` (tickets and check-ins together).
fn take_issuing(state: &ApiState, from: IpAddr) -> Result<(), ApiError> {
    let allowed = state
        .issuing
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take(from, std::time::Instant::now());
    allowed.map_err(|wait| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            Reason::RateLimited,
            format!(
                "too many tickets from {from}: at most {} a minute ([api] issue_per_minute)",
                state.hub.config().api.issue_per_minute
            ),
        )
        .retry_after(wait)
    })
}

/// Another kiosk issues a ticket through this hub.
async fn issue(
    State(state): State<ApiState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    authorise_kiosk(&state, &headers)?;
    take_issuing(&state, peer(connect))?;
    let b: IssueBody = body(&bytes)?;
    bounded(&b.service, "service", MAX_ID)?;
    bounded_opt(&b.priority, "priority", MAX_ID)?;
    bounded_opt(&b.field, "field", MAX_FIELD)?;
    bounded_opt(&b.citizen_id, "citizen_id", MAX_CITIZEN_ID)?;
    let mut req = IssueRequest::walk_in(&b.service);
    req.priority_group = b.priority;
    req.field = b.field;
    req.citizen_id = b.citizen_id;
    let issued = state.hub.issue_ticket(req).await?;
    Ok((StatusCode::CREATED, axum::Json(issued)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckInBody {
    /// The booking code (10 digits, spaces allowed) or the QR's `HNBOOK:` text.
    code: Option<String>,
    /// Or the identity number from a scanned card.
    citizen_id: Option<String>,
    priority: Option<String>,
}

/// A booked citizen checks in at another kiosk through this hub: 201 with the ticket when one
/// was issued (`outcome` booked or late), 200 with the outcome otherwise (too early, another
/// day, already checked in, cancelled, not found). Rate-limited with issuing: codes are not
/// to be guessed from the LAN.
async fn check_in(
    State(state): State<ApiState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    authorise_kiosk(&state, &headers)?;
    take_issuing(&state, peer(connect))?;
    let raw: serde_json::Value = body(&bytes)?;
    for key in ["code", "citizen_id"] {
        if raw.get(key).is_some_and(|v| !v.is_string()) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                Reason::BadJson,
                format!("{key}: a string"),
            ));
        }
    }
    let b: CheckInBody = body(&bytes)?;
    bounded_opt(&b.code, "code", MAX_ID)?;
    bounded_opt(&b.citizen_id, "citizen_id", MAX_CITIZEN_ID)?;
    bounded_opt(&b.priority, "priority", MAX_ID)?;
    let key = match (b.code, b.citizen_id) {
        (Some(code), None) => match crate::domain::parse_booking_code(&code) {
            Ok(code) => crate::hub::CheckInKey::Code(code),
            // Ten digits that fail the check digit: no booking can have them.
            Err(crate::domain::booking::BookingCodeError::Check) => {
                return Ok(axum::Json(crate::hub::CheckIn::NotFound).into_response());
            }
            Err(e) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    Reason::BadRequest,
                    format!("code: {e}"),
                ));
            }
        },
        (None, Some(id)) => crate::hub::CheckInKey::Card(id),
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                Reason::MissingField,
                "give exactly one of code and citizen_id",
            ));
        }
    };
    let outcome = state.hub.check_in(key, b.priority).await?;
    let status = if outcome.issued().is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(outcome)).into_response())
}

async fn status(State(state): State<ApiState>) -> Result<Response, ApiError> {
    Ok(axum::Json(state.hub.status().await?).into_response())
}

async fn board_json(State(state): State<ApiState>) -> Response {
    let latest = state.feed.latest.borrow().clone();
    (
        [(header::CONTENT_TYPE, "application/json")],
        latest.to_string(),
    )
        .into_response()
}

/// Server-sent events: the current board first, then `call` and `board` messages as they happen.
/// Browsers' EventSource reconnects by itself; every connection starts with the whole board.
async fn events(
    State(state): State<ApiState>,
) -> Sse<impl tokio_stream::Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = state.feed.messages.subscribe();
    let first = state.feed.latest.borrow().clone();
    let mut closing = state.feed.closing.subscribe();
    // `retry`: a board that lost the hub tries again after 1 s (the browser default is ~3 s).
    let head = tokio_stream::once(Ok(SseEvent::default()
        .event("board")
        .retry(Duration::from_millis(1000))
        .data(first.as_str())));
    let rest = BroadcastStream::new(rx).filter_map(|m| {
        // A client that fell behind skips to the next message; the next `board` is whole.
        m.ok()
            .map(|m: FeedMessage| Ok(SseEvent::default().event(m.event).data(m.data.as_str())))
    });
    // The stream ends when the server shuts down, so a graceful shutdown does not wait forever
    // for boards that never hang up.
    let closed = async move {
        let _ = closing.wait_for(|c| *c).await;
    };
    let stream = futures_util::StreamExt::take_until(head.chain(rest), Box::pin(closed));
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// One message to every board: a call (to flash and announce) or the whole board.
#[derive(Clone, Debug)]
pub struct FeedMessage {
    pub event: &'static str,
    pub data: Arc<String>,
}

/// The board feed: computed once per hub event, fanned out to every client.
#[derive(Clone)]
pub struct BoardFeed {
    pub messages: broadcast::Sender<FeedMessage>,
    /// Set when the server is shutting down: event streams end.
    pub closing: Arc<watch::Sender<bool>>,
    pub latest: watch::Receiver<Arc<String>>,
    latest_tx: Arc<watch::Sender<Arc<String>>>,
}

impl BoardFeed {
    pub fn new() -> BoardFeed {
        let (messages, _) = broadcast::channel(256);
        let (tx, rx) = watch::channel(Arc::new("{}".to_string()));
        BoardFeed {
            messages,
            closing: Arc::new(watch::channel(false).0),
            latest: rx,
            latest_tx: Arc::new(tx),
        }
    }
}

impl Default for BoardFeed {
    fn default() -> Self {
        BoardFeed::new()
    }
}

async fn compute_board(state: &ApiState) -> Result<String, String> {
    let status = state.hub.status().await.map_err(|e| e.to_string())?;
    let config = Arc::clone(state.hub.config());
    let reader = state.reader.clone();
    let board =
        tokio::task::spawn_blocking(move || reader.with(|s| views::board(&config, s, &status)))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    serde_json::to_string(&board).map_err(|e| e.to_string())
}

/// Follow the hub's events and keep the feed current. Runs until the hub stops.
pub async fn run_feed(state: ApiState) {
    let mut events = state.hub.subscribe();
    let publish = |json: String| {
        let json = Arc::new(json);
        state.feed.latest_tx.send_replace(Arc::clone(&json));
        let _ = state.feed.messages.send(FeedMessage {
            event: "board",
            data: json,
        });
    };
    match compute_board(&state).await {
        Ok(j) => publish(j),
        Err(e) => tracing::warn!(error = %e, "board feed: cannot compute the board"),
    }
    // A call goes out at once, before the board is recomputed: that is the latency a citizen
    // notices.
    let send_call = |e: &crate::store::Event| {
        // A finished service: the counter's rating screen (`/rate`) asks the citizen.
        if e.kind == EventKind::Done
            && let (Some(code), Some(counter)) = (&e.code, e.counter)
        {
            let json = serde_json::json!({ "code": code, "counter": counter }).to_string();
            let _ = state.feed.messages.send(FeedMessage {
                event: "done",
                data: Arc::new(json),
            });
        }
        if let Some(call) = views::call_of(state.hub.config(), e)
            && let Ok(json) = serde_json::to_string(&call)
        {
            let _ = state.feed.messages.send(FeedMessage {
                event: "call",
                data: Arc::new(json),
            });
        }
    };
    loop {
        match events.recv().await {
            Ok(e) => {
                send_call(&e);
                // Several events of one command arrive together: recompute once for them.
                while let Ok(more) = events.try_recv() {
                    send_call(&more);
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return,
        }
        match compute_board(&state).await {
            Ok(j) => publish(j),
            Err(e) => tracing::warn!(error = %e, "board feed: cannot compute the board"),
        }
    }
}

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/", get(|| async { Html(INDEX_HTML) }))
        .route("/board", get(|| async { Html(BOARD_HTML) }))
        .route("/counter", get(|| async { Html(COUNTER_HTML) }))
        .route("/rate", get(|| async { Html(RATE_HTML) }))
        .route("/supervisor", get(|| async { Html(SUPERVISOR_HTML) }))
        .route("/api/supervisor", get(supervisor_view))
        .route("/api/supervisor/login", post(supervisor_login))
        .route(
            "/counter/",
            get(|| async { Redirect::permanent("/counter") }),
        )
        .route(
            "/api/openapi.yaml",
            get(|| async { ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI) }),
        )
        .route("/api/status", get(status))
        .route("/api/board", get(board_json))
        .route("/api/events", get(events))
        .route("/api/login", post(login))
        .route("/api/tickets", post(issue))
        .route("/api/check-in", post(check_in))
        .route("/api/device-events", post(device_event))
        .route("/api/counters/{number}", get(counter_view))
        .route("/api/counters/{number}/rate", post(rate))
        .route("/api/counters/{number}/{action}", post(counter_action))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                Reason::NotFound,
                "no such path; see /api/openapi.yaml",
            )
        })
}

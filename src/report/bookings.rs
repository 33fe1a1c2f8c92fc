//! Bookings over the reporting link: the point tells the centre what it offers for booking and
//! pulls its bookings for today and the next days (`POST /api/v1/bookings/pull`, the point's
//! bearer token; `docs/centre-api.md`, `docs/centre-bookings.schema.json`). The hub keeps the
//! copy, so check-in works from it while the link is down; a booking the centre no longer lists
//! is cancelled at the point on the next pull.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Backoff, WireSite, wire_site};
use crate::config::Config;
use crate::store::{BookingState, StoredBooking};

pub const PULL_SCHEMA: &str = "kiosk-bookings/1";

/// How many days a pull covers: today and the next 6 (iHanoi's booking horizon).
pub const PULL_DAYS: u32 = 7;

/// A service the point offers for booking.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OfferedService {
    pub id: String,
    pub name_vi: String,
    pub name_en: String,
}

/// The point's pull: who it is, what it offers, which days it wants.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    pub schema: String,
    pub site: WireSite,
    pub from: NaiveDate,
    pub days: u32,
    pub services: Vec<OfferedService>,
}

/// One booking as the centre sends it to its point. No name, no id: the citizen's id only as
/// the hash keyed for this point (`identity::IdKey::for_bookings`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WireBooking {
    pub code: String,
    pub service: String,
    pub field: Option<String>,
    pub day: NaiveDate,
    pub slot_start: DateTime<Utc>,
    pub slot_end: DateTime<Utc>,
    pub booked_at: DateTime<Utc>,
    pub citizen_hash: Option<String>,
}

/// The centre's answer: every open booking of the point on `from..=to`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PullAnswer {
    pub schema: String,
    pub point: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub bookings: Vec<WireBooking>,
}

impl WireBooking {
    pub fn stored(&self) -> StoredBooking {
        StoredBooking {
            code: self.code.clone(),
            service_day: self.day,
            service_id: self.service.clone(),
            field: self.field.clone(),
            slot_start: self.slot_start,
            slot_end: self.slot_end,
            booked_at: self.booked_at,
            citizen_hash: self.citizen_hash.clone(),
            state: BookingState::Booked,
            ticket_id: None,
        }
    }
}

pub fn pull_request(config: &Config, from: NaiveDate) -> PullRequest {
    PullRequest {
        schema: PULL_SCHEMA.into(),
        site: wire_site(config),
        from,
        days: PULL_DAYS,
        services: config
            .services
            .iter()
            .map(|s| OfferedService {
                id: s.id.clone(),
                name_vi: s.name.vi.clone(),
                name_en: s.name.en.clone(),
            })
            .collect(),
    }
}

/// Pulls a point's bookings from the centre.
pub struct Puller {
    config: Arc<Config>,
    client: reqwest::Client,
    url: String,
    token: String,
}

impl Puller {
    /// None when the point has no centre to pull from (no `[reporting] url` or token, or
    /// `[bookings] enabled = false`).
    pub fn new(config: Arc<Config>) -> Result<Option<Puller>, String> {
        let r = &config.reporting;
        let token = r.effective_token();
        let (Some(url), Some(token)) = (r.url.as_deref(), token) else {
            return Ok(None);
        };
        if !config.bookings.enabled {
            return Ok(None);
        }
        let Some(origin) = crate::dossier::origin(url) else {
            return Err(format!("[reporting] url \"{url}\" has no origin"));
        };
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(r.timeout_seconds))
            .connect_timeout(Duration::from_secs(r.timeout_seconds.min(5)))
            .user_agent(concat!("kiosk/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &r.ca_file {
            let pem = std::fs::read(ca).map_err(|e| format!("reading CA {}: {e}", ca.display()))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| format!("CA {}: {e}", ca.display()))?;
            builder = builder.tls_certs_only([cert]);
        }
        let client = builder
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Some(Puller {
            url: format!("{origin}/api/v1/bookings/pull"),
            config,
            client,
            token,
        }))
    }

    /// One pull for the days from `from`.
    pub async fn pull(&self, from: NaiveDate) -> Result<PullAnswer, String> {
        let body = pull_request(&self.config, from);
        let resp = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("the centre cannot be reached: {e}"))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            return Err(format!(
                "the centre refused the pull ({status}): {}",
                v["reason"].as_str().unwrap_or("no reason given")
            ));
        }
        let answer: PullAnswer = serde_json::from_slice(&bytes)
            .map_err(|e| format!("the centre's answer is not a {PULL_SCHEMA} list: {e}"))?;
        let me = self.config.site.path();
        if answer.schema != PULL_SCHEMA || answer.point != me {
            return Err(format!(
                "the centre answered for \"{}\" ({}), not for this point \"{me}\"",
                answer.point, answer.schema
            ));
        }
        // A booking for a day outside what was asked, or for a service not here, is not
        // taken: the rest are.
        Ok(answer)
    }
}

/// Pull every `[bookings] pull_seconds` and release lapsed bookings, until `shutdown`. The
/// release runs whether or not the centre answered: the point keeps its own clock.
pub async fn run(
    puller: Puller,
    hub: crate::hub::HubHandle,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let every = Duration::from_secs(puller.config.bookings.pull_seconds);
    let mut backoff = Backoff::new(7);
    let mut failing = false;
    tokio::pin!(shutdown);
    loop {
        let c = &puller.config;
        let today = crate::domain::service_day(Utc::now(), c.site.timezone, c.site.reset_hour);
        let to = today + chrono::Duration::days(i64::from(PULL_DAYS) - 1);
        let wait = match puller.pull(today).await {
            Ok(answer) => {
                let list: Vec<StoredBooking> = answer
                    .bookings
                    .iter()
                    .filter(|b| b.day >= today && b.day <= to)
                    .map(WireBooking::stored)
                    .collect();
                match hub.sync_bookings(today, to, list).await {
                    Ok(s) => {
                        if failing {
                            tracing::info!("booking pull works again");
                        }
                        failing = false;
                        if s.added > 0 || s.cancelled > 0 {
                            tracing::info!(
                                added = s.added,
                                cancelled = s.cancelled,
                                "bookings pulled"
                            );
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "pulled bookings not stored"),
                }
                backoff.reset();
                every
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "booking pull failed; check-in works from the local copy");
                }
                failing = true;
                backoff.next_delay().min(every)
            }
        };
        if let Err(e) = hub.release_lapsed_bookings().await {
            tracing::error!(error = %e, "lapsed bookings not released");
        }
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

//! Bookings at the reference receiver: the demo's stand-in for iHanoi. Citizens book a slot at
//! a point (`/book`, `POST /api/v1/bookings`), cancel it, and each point pulls its own
//! (`POST /api/v1/bookings/pull`). The centre keeps no readable id: one keyed hash for its
//! city-wide quota (its own key file) and one keyed for the booking's point (from that point's
//! token), which the point matches a scanned card against.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Json;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::store::{Serial, StoreError};
use super::{Centre, Refusal, blocking, point_of, refuse};
use crate::domain::booking::{BOOKING_QR_PREFIX, display_booking_code, make_booking_code};
use crate::identity::IdKey;
use crate::report::bookings::{
    OfferedService, PULL_DAYS, PULL_SCHEMA, PullAnswer, PullRequest, WireBooking,
};
use crate::vals;

/// `[booking]` in the centre's config: the slots offered at every point.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BookingRules {
    /// First slot's start and last slot's end, local time ("08:00", "16:00": iHanoi's hours).
    pub open: String,
    pub close: String,
    pub slot_minutes: u32,
    /// Bookings per slot, per point and service.
    pub slot_capacity: u32,
    /// Days ahead one may book (today counts as 0).
    pub days_ahead: u32,
    /// Per citizen and day, across the city: bookings in all, and per service.
    pub per_day: u32,
    pub per_service: u32,
}

impl Default for BookingRules {
    fn default() -> Self {
        BookingRules {
            open: "08:00".into(),
            close: "16:00".into(),
            slot_minutes: 30,
            slot_capacity: 4,
            days_ahead: 6,
            per_day: 2,
            per_service: 1,
        }
    }
}

impl BookingRules {
    pub fn check(&self) -> Result<(), String> {
        let (o, c) = self
            .hours()
            .ok_or("booking: open and close are \"HH:MM\"")?;
        if o >= c {
            return Err("booking: open must be before close".into());
        }
        if !(5..=240).contains(&self.slot_minutes) || self.slot_capacity == 0 {
            return Err("booking: slot_minutes 5-240 and slot_capacity at least 1".into());
        }
        if self.days_ahead > 30 || self.per_day == 0 || self.per_service == 0 {
            return Err(
                "booking: days_ahead at most 30, per_day and per_service at least 1".into(),
            );
        }
        Ok(())
    }

    fn hours(&self) -> Option<(NaiveTime, NaiveTime)> {
        Some((
            NaiveTime::parse_from_str(&self.open, "%H:%M").ok()?,
            NaiveTime::parse_from_str(&self.close, "%H:%M").ok()?,
        ))
    }

    /// The day's slots as local (start, end).
    fn slots(&self) -> Vec<(NaiveTime, NaiveTime)> {
        let Some((open, close)) = self.hours() else {
            return Vec::new();
        };
        let step = Duration::minutes(i64::from(self.slot_minutes.max(5)));
        let mut out = Vec::new();
        let mut t = open;
        while t + step <= close && out.len() < 500 {
            out.push((t, t + step));
            t += step;
        }
        out
    }
}

pub(super) const SCHEMA_SQL: &str = r#"
CREATE TABLE IF NOT EXISTS offers (
    point    TEXT PRIMARY KEY,
    name_vi  TEXT NOT NULL,
    name_en  TEXT NOT NULL,
    services TEXT NOT NULL,
    at       INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS bookings (
    code         TEXT PRIMARY KEY,
    point        TEXT NOT NULL,
    service      TEXT NOT NULL,
    day          TEXT NOT NULL,
    slot_start   INTEGER NOT NULL,
    slot_end     INTEGER NOT NULL,
    booked_at    INTEGER NOT NULL,
    citizen_key  TEXT NOT NULL,
    point_hash   TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('booked', 'cancelled')),
    cancelled_at INTEGER
);
CREATE INDEX IF NOT EXISTS bookings_by_point ON bookings (point, day, state);
CREATE INDEX IF NOT EXISTS bookings_by_citizen ON bookings (day, citizen_key, state);
"#;

/// The advisory lock every booking transaction takes (PostgreSQL; SQLite's are serial).
const BOOKING_LOCK: i64 = 0x6b69_6f73_6b01;

fn tz() -> chrono_tz::Tz {
    chrono_tz::Asia::Ho_Chi_Minh
}

fn local_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz()).date_naive()
}

fn at_local(day: NaiveDate, t: NaiveTime) -> DateTime<Utc> {
    tz().from_local_datetime(&day.and_time(t))
        .single()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&day.and_time(t)))
}

/// A point's offer as the booking page lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookablePoint {
    pub path: String,
    pub name_vi: String,
    pub name_en: String,
    pub services: Vec<OfferedService>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Slot {
    pub start: String,
    pub end: String,
    pub free: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingBody {
    pub point: String,
    pub service: String,
    pub day: NaiveDate,
    pub slot: String,
    pub citizen_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Booked {
    pub code: String,
    pub display_code: String,
    pub point: String,
    pub point_name_vi: String,
    pub point_name_en: String,
    pub service: String,
    pub service_name_vi: String,
    pub service_name_en: String,
    pub day: NaiveDate,
    pub slot_start: String,
    pub slot_end: String,
    pub qr_text: String,
    pub qr_svg: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    pub citizen_id: String,
}

/// Why a booking was refused (before any write).
#[derive(Debug)]
pub enum BookingRefused {
    UnknownPoint(String),
    UnknownService(String),
    Day(String),
    Slot(String),
    SlotPassed,
    SlotFull,
    BadCitizenId(String),
    Quota(String),
    Storage(StoreError),
}

impl From<StoreError> for BookingRefused {
    fn from(e: StoreError) -> Self {
        BookingRefused::Storage(e)
    }
}

impl BookingRefused {
    fn refusal(self) -> Refusal {
        use BookingRefused::*;
        match self {
            UnknownPoint(p) => refuse(
                StatusCode::NOT_FOUND,
                "unknown_point",
                format!("point \"{p}\" takes no bookings (it has not announced its services)"),
            ),
            UnknownService(s) => refuse(
                StatusCode::NOT_FOUND,
                "unknown_service",
                format!("this point offers no service \"{s}\" for booking"),
            ),
            Day(why) | Slot(why) => refuse(StatusCode::BAD_REQUEST, "bad_request", why),
            SlotPassed => refuse(
                StatusCode::CONFLICT,
                "slot_passed",
                "this slot has started already",
            ),
            SlotFull => refuse(
                StatusCode::CONFLICT,
                "slot_full",
                "this slot is fully booked",
            ),
            BadCitizenId(why) => refuse(StatusCode::BAD_REQUEST, "bad_citizen_id", why),
            Quota(why) => refuse(StatusCode::CONFLICT, "quota_exceeded", why),
            Storage(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, "storage", e.to_string()),
        }
    }
}

/// The QR of `text` as an SVG (one path, 4-module quiet zone).
pub fn qr_svg(text: &str) -> String {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
    else {
        return String::new();
    };
    let n = code.width();
    let colors = code.to_colors();
    let size = n + 8;
    let mut path = String::new();
    for y in 0..n {
        for x in 0..n {
            if colors[y * n + x] == qrcode::Color::Dark {
                path.push_str(&format!("M{} {}h1v1h-1z", x + 4, y + 4));
            }
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

fn random_digits() -> [u8; 9] {
    use std::io::Read;
    let mut buf = [0u8; 16];
    let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf));
    // Rejection sampling keeps each digit uniform.
    let mut out = [0u8; 9];
    let mut i = 0;
    let mut pool = buf.to_vec();
    while i < 9 {
        if pool.is_empty() {
            let mut more = [0u8; 16];
            let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut more));
            pool.extend_from_slice(&more);
            if more == [0u8; 16] {
                // No entropy source: fall back to the clock (the code is still checked).
                let t = Utc::now().timestamp_nanos_opt().unwrap_or(0) as u64;
                pool.extend((0..16).map(|k| (t >> (k * 4)) as u8));
            }
        }
        let b = pool.remove(0);
        if b < 250 {
            out[i] = b % 10;
            i += 1;
        }
    }
    out
}

impl Centre {
    fn offer(&self, point: &str) -> Result<Option<BookablePoint>, StoreError> {
        let row = self.store.run(|s| {
            s.row(
                "SELECT name_vi, name_en, services FROM offers WHERE point = ?1",
                vals![point],
            )
        })?;
        row.map(|r| {
            Ok(BookablePoint {
                path: point.to_string(),
                name_vi: r.text(0)?,
                name_en: r.text(1)?,
                services: serde_json::from_str(&r.text(2)?).unwrap_or_default(),
            })
        })
        .transpose()
    }

    /// Points that announced what they offer, for the booking page.
    pub fn bookable_points(&self) -> Result<Vec<BookablePoint>, StoreError> {
        let rows = self.store.run(|s| {
            s.rows(
                "SELECT point, name_vi, name_en, services FROM offers ORDER BY point",
                &[],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(BookablePoint {
                    path: r.text(0)?,
                    name_vi: r.text(1)?,
                    name_en: r.text(2)?,
                    services: serde_json::from_str(&r.text(3)?).unwrap_or_default(),
                })
            })
            .collect()
    }

    fn day_in_range(&self, day: NaiveDate, now: DateTime<Utc>) -> Result<(), BookingRefused> {
        let today = local_today(now);
        let last = today + Duration::days(i64::from(self.booking.days_ahead));
        if day < today || day > last {
            return Err(BookingRefused::Day(format!(
                "bookings are for {today} to {last} (today and the next {} days)",
                self.booking.days_ahead
            )));
        }
        Ok(())
    }

    /// Free places per slot of `day` at `point` for `service` (slots already started left out).
    pub fn slots(
        &self,
        point: &str,
        service: &str,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Vec<Slot>, BookingRefused> {
        let offer = self
            .offer(point)?
            .ok_or_else(|| BookingRefused::UnknownPoint(point.to_string()))?;
        if !offer.services.iter().any(|s| s.id == service) {
            return Err(BookingRefused::UnknownService(service.to_string()));
        }
        self.day_in_range(day, now)?;
        let rows = self.store.run(|s| {
            s.rows(
                "SELECT slot_start, COUNT(*) FROM bookings WHERE point = ?1 AND service = ?2 \
                 AND day = ?3 AND state = 'booked' GROUP BY slot_start",
                vals![point, service, day.to_string()],
            )
        })?;
        let taken: std::collections::HashMap<i64, u32> = rows
            .iter()
            .map(|r| Ok((r.int(0)?, u32::try_from(r.int(1)?).unwrap_or(u32::MAX))))
            .collect::<Result<_, StoreError>>()?;
        Ok(self
            .booking
            .slots()
            .into_iter()
            .filter_map(|(a, b)| {
                let start = at_local(day, a);
                (start > now).then(|| Slot {
                    start: a.format("%H:%M").to_string(),
                    end: b.format("%H:%M").to_string(),
                    free: self
                        .booking
                        .slot_capacity
                        .saturating_sub(*taken.get(&start.timestamp_millis()).unwrap_or(&0)),
                })
            })
            .collect())
    }

    /// Book a slot: every rule checked and the row written in one transaction.
    pub fn book(&self, body: &BookingBody, now: DateTime<Utc>) -> Result<Booked, BookingRefused> {
        let offer = self
            .offer(&body.point)?
            .ok_or_else(|| BookingRefused::UnknownPoint(body.point.clone()))?;
        let service = offer
            .services
            .iter()
            .find(|s| s.id == body.service)
            .ok_or_else(|| BookingRefused::UnknownService(body.service.clone()))?;
        self.day_in_range(body.day, now)?;
        let (start_t, end_t) = self
            .booking
            .slots()
            .into_iter()
            .find(|(a, _)| a.format("%H:%M").to_string() == body.slot)
            .ok_or_else(|| {
                BookingRefused::Slot(format!(
                    "\"{}\" is not a slot start; slots are {} minutes from {} to {}",
                    crate::text::clip(&body.slot, 16),
                    self.booking.slot_minutes,
                    self.booking.open,
                    self.booking.close
                ))
            })?;
        let (slot_start, slot_end) = (at_local(body.day, start_t), at_local(body.day, end_t));
        if slot_start <= now {
            return Err(BookingRefused::SlotPassed);
        }
        let id = crate::identity::normalise_citizen_id(&body.citizen_id)
            .map_err(|e| BookingRefused::BadCitizenId(e.to_string()))?;
        let citizen_key = self.id_key.hash(&id);
        let point_token = self
            .tokens
            .iter()
            .find(|(_, p)| **p == body.point)
            .map(|(t, _)| t.clone())
            .ok_or_else(|| BookingRefused::UnknownPoint(body.point.clone()))?;
        let point_hash = IdKey::for_bookings(&point_token).hash(&id);
        let day = body.day.to_string();
        // The quota's check and the write must not interleave with another booking's, on
        // any receiver: one lock for every booking transaction.
        let code = self.store.tx(Serial::Lock(BOOKING_LOCK), |tx| {
            let held: Vec<(String, String, i64)> = tx
                .rows(
                    "SELECT code, service, slot_start FROM bookings WHERE day = ?1 \
                     AND citizen_key = ?2 AND state = 'booked' ORDER BY slot_start",
                    vals![&day, &citizen_key],
                )?
                .iter()
                .map(|r| Ok((r.text(0)?, r.text(1)?, r.int(2)?)))
                .collect::<Result<_, StoreError>>()?;
            let describe = |(code, _, start): &(String, String, i64)| {
                let at = DateTime::from_timestamp_millis(*start)
                    .unwrap_or_default()
                    .with_timezone(&tz());
                format!(
                    "booking {} at {}",
                    display_booking_code(code),
                    at.format("%H:%M")
                )
            };
            let same: Vec<String> = held
                .iter()
                .filter(|h| h.1 == body.service)
                .map(describe)
                .collect();
            if held.len() as u32 >= self.booking.per_day {
                return Err(BookingRefused::Quota(format!(
                    "this citizen already holds {} on {day}; the limit is {} a day",
                    held.iter().map(describe).collect::<Vec<_>>().join(", "),
                    self.booking.per_day
                )));
            }
            if same.len() as u32 >= self.booking.per_service {
                return Err(BookingRefused::Quota(format!(
                    "this citizen already holds {} for this service on {day}; the limit is {}",
                    same.join(", "),
                    self.booking.per_service
                )));
            }
            let taken = tx
                .row(
                    "SELECT COUNT(*) FROM bookings WHERE point = ?1 AND service = ?2 AND slot_start = ?3 \
                     AND state = 'booked'",
                    vals![&body.point, &body.service, slot_start.timestamp_millis()],
                )?
                .map(|r| r.int(0))
                .transpose()?
                .unwrap_or(0);
            if taken >= i64::from(self.booking.slot_capacity) {
                return Err(BookingRefused::SlotFull);
            }
            let mut code = make_booking_code(random_digits());
            for _ in 0..20 {
                if tx
                    .row("SELECT 1 FROM bookings WHERE code = ?1", vals![&code])?
                    .is_none()
                {
                    break;
                }
                code = make_booking_code(random_digits());
            }
            tx.exec(
                "INSERT INTO bookings (code, point, service, day, slot_start, slot_end, booked_at, \
                 citizen_key, point_hash, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'booked')",
                vals![
                    &code,
                    &body.point,
                    &body.service,
                    &day,
                    slot_start.timestamp_millis(),
                    slot_end.timestamp_millis(),
                    now.timestamp_millis(),
                    &citizen_key,
                    &point_hash
                ],
            )?;
            Ok(code)
        })?;
        let qr_text = format!("{BOOKING_QR_PREFIX}{code}");
        Ok(Booked {
            display_code: display_booking_code(&code),
            qr_svg: qr_svg(&qr_text),
            qr_text,
            code,
            point: body.point.clone(),
            point_name_vi: offer.name_vi.clone(),
            point_name_en: offer.name_en.clone(),
            service: service.id.clone(),
            service_name_vi: service.name_vi.clone(),
            service_name_en: service.name_en.clone(),
            day: body.day,
            slot_start: start_t.format("%H:%M").to_string(),
            slot_end: end_t.format("%H:%M").to_string(),
        })
    }

    /// Cancel a booking by its holder: the id must match. Ok(false) when there is no such
    /// open booking for this citizen (the same answer either way: codes are not probed).
    pub fn cancel_booking(
        &self,
        code: &str,
        citizen_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let Ok(id) = crate::identity::normalise_citizen_id(citizen_id) else {
            return Ok(false);
        };
        let n = self.store.run(|s| {
            s.exec(
                "UPDATE bookings SET state = 'cancelled', cancelled_at = ?3 \
                 WHERE code = ?1 AND citizen_key = ?2 AND state = 'booked'",
                vals![code, self.id_key.hash(&id), now.timestamp_millis()],
            )
        })?;
        Ok(n == 1)
    }

    /// A point's pull: its offer is recorded, its open bookings on the days asked returned.
    pub fn pull(&self, point: &str, req: &PullRequest) -> Result<PullAnswer, StoreError> {
        let to = req.from + Duration::days(i64::from(req.days.clamp(1, PULL_DAYS)) - 1);
        let rows = self.store.tx(Serial::No, |tx| {
            tx.exec(
                "INSERT INTO offers (point, name_vi, name_en, services, at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (point) DO UPDATE SET name_vi = excluded.name_vi, \
                 name_en = excluded.name_en, services = excluded.services, at = excluded.at",
                vals![
                    point,
                    &req.site.name_vi,
                    &req.site.name_en,
                    serde_json::to_string(&req.services).unwrap_or_else(|_| "[]".into()),
                    Utc::now().timestamp_millis()
                ],
            )?;
            tx.rows(
                "SELECT code, service, day, slot_start, slot_end, booked_at, point_hash \
                 FROM bookings WHERE point = ?1 AND day BETWEEN ?2 AND ?3 AND state = 'booked' \
                 ORDER BY slot_start, code",
                vals![point, req.from.to_string(), to.to_string()],
            )
        })?;
        let ms = |v: i64| DateTime::from_timestamp_millis(v).unwrap_or_default();
        let bookings = rows
            .iter()
            .map(|r| {
                Ok(WireBooking {
                    code: r.text(0)?,
                    service: r.text(1)?,
                    field: None,
                    day: NaiveDate::parse_from_str(&r.text(2)?, "%Y-%m-%d").unwrap_or(req.from),
                    slot_start: ms(r.int(3)?),
                    slot_end: ms(r.int(4)?),
                    booked_at: ms(r.int(5)?),
                    citizen_hash: Some(r.text(6)?),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(PullAnswer {
            schema: PULL_SCHEMA.into(),
            point: point.to_string(),
            from: req.from,
            to,
            bookings,
        })
    }
}

pub(super) async fn get_points(
    State(centre): State<Arc<Centre>>,
) -> Result<Json<Vec<BookablePoint>>, Refusal> {
    Ok(Json(blocking(&centre, |c| c.bookable_points()).await?))
}

#[derive(Debug, Deserialize)]
pub(super) struct SlotsQuery {
    point: String,
    service: String,
    day: NaiveDate,
}

pub(super) async fn get_slots(
    State(centre): State<Arc<Centre>>,
    q: Result<Query<SlotsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, Refusal> {
    let Query(q) = q.map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("give point, service and day=YYYY-MM-DD: {e}"),
        )
    })?;
    let c = Arc::clone(&centre);
    let day = q.day;
    let slots =
        tokio::task::spawn_blocking(move || c.slots(&q.point, &q.service, q.day, Utc::now()))
            .await
            .map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
            .map_err(BookingRefused::refusal)?;
    Ok(Json(serde_json::json!({ "day": day, "slots": slots })))
}

pub(super) async fn post_booking(
    State(centre): State<Arc<Centre>>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Booked>), Refusal> {
    let body: BookingBody = crate::web::parse_json(&body).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("expected {{point, service, day, slot, citizen_id}}: {e}"),
        )
    })?;
    let c = Arc::clone(&centre);
    let booked = tokio::task::spawn_blocking(move || c.book(&body, Utc::now()))
        .await
        .map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
        .map_err(BookingRefused::refusal)?;
    Ok((StatusCode::CREATED, Json(booked)))
}

pub(super) async fn post_cancel(
    State(centre): State<Arc<Centre>>,
    axum::extract::Path(code): axum::extract::Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, Refusal> {
    let body: CancelBody = crate::web::parse_json(&body).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("expected {{citizen_id}}: {e}"),
        )
    })?;
    let code = crate::domain::parse_booking_code(&code)
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, "bad_booking_code", e.to_string()))?;
    let key = code.clone();
    let done = blocking(&centre, move |c| {
        c.cancel_booking(&key, &body.citizen_id, Utc::now())
    })
    .await?;
    if done {
        Ok(Json(
            serde_json::json!({ "code": code, "state": "cancelled" }),
        ))
    } else {
        Err(refuse(
            StatusCode::NOT_FOUND,
            "not_found",
            "no open booking with this code for this id number",
        ))
    }
}

pub(super) async fn post_pull(
    State(centre): State<Arc<Centre>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<PullAnswer>, Refusal> {
    let point = point_of(&centre, &headers)?;
    let req: PullRequest = crate::web::parse_json(&body).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            "malformed_pull",
            format!("the body is not a {PULL_SCHEMA} pull: {e}"),
        )
    })?;
    if req.schema != PULL_SCHEMA {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "unsupported_schema",
            format!("schema \"{}\"; expected \"{PULL_SCHEMA}\"", req.schema),
        ));
    }
    if req.site.path() != point {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "unknown_point",
            format!(
                "point \"{}\" is not registered for this token",
                req.site.path()
            ),
        ));
    }
    if req.services.len() > 100 {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "malformed_pull",
            "at most 100 services",
        ));
    }
    Ok(Json(
        blocking(&centre, move |c| c.pull(&point, &req)).await?,
    ))
}

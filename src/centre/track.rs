//! A ticket's live page (`GET /ve`, the link on the ticket's QR) and its data
//! (`GET /api/v1/track`): where the ticket stands now, its wait re-estimated by the point, and
//! "called: go to counter 3" as soon as the call reaches the centre (a point sends events at
//! once and a snapshot within seconds of a queue movement). The public side: a citizen's phone
//! on mobile data, not the point's LAN. The link's token (`report::track`) is checked against the
//! point's reporting token; an unknown point, day, number or a wrong token all get the same
//! `not_found`, so the endpoint says nothing about which tickets exist. No personal data.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Json, Response};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use std::sync::Arc;

use super::store::StoreError;
use super::{Centre, Refusal, blocking, refuse};
use crate::domain::TicketState;
use crate::vals;
use axum::http::StatusCode;

#[derive(Debug, Deserialize)]
pub(super) struct TrackQuery {
    #[serde(rename = "ma-diem")]
    point: Option<String>,
    so: Option<String>,
    ngay: Option<String>,
    k: Option<String>,
}

/// The state a ticket's last event that day leaves it in (`None`: not reported yet).
fn state_after(kind: &str) -> Option<TicketState> {
    Some(match kind {
        "issued" | "transferred" => TicketState::Waiting,
        "called" | "recalled" => TicketState::Called,
        "serving" => TicketState::Serving,
        "done" => TicketState::Done,
        "no_show" => TicketState::NoShow,
        "cancelled" => TicketState::Cancelled,
        _ => return None,
    })
}

/// A service day's span in the points' time zone (Hanoi's: the centre serves Vietnamese points).
fn day_span(day: NaiveDate) -> (i64, i64) {
    let tz = chrono_tz::Asia::Ho_Chi_Minh;
    let start = tz
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map_or(0, |d| d.with_timezone(&Utc).timestamp_millis());
    (start, start + 24 * 3600 * 1000)
}

impl Centre {
    /// The ticket `code` of `day` at `point`, if `token` is its link token: its stage, counter,
    /// place and wait now, and how fresh the point's data is.
    pub fn track(
        &self,
        point: &str,
        day: NaiveDate,
        code: &str,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let Some(secret) = self.point_tokens.get(point) else {
            return Ok(None);
        };
        if !crate::report::track::verify(secret, point, day, code, token) {
            return Ok(None);
        }
        let (from, to) = day_span(day);
        type PointRow = (String, String, i64, Option<String>);
        let (last, point_row, offer) = self.store.run(|s| {
            let last = s
                .row(
                    "SELECT kind, counter, at FROM events WHERE point = ?1 AND ticket = ?2 \
                     AND at >= ?3 AND at < ?4 AND kind IN \
                     ('issued', 'transferred', 'called', 'recalled', 'serving', 'done', 'no_show', 'cancelled') \
                     ORDER BY at DESC, seq DESC LIMIT 1",
                    vals![point, code, from, to],
                )?
                .map(|r| {
                    let counter = r.opt_int(1)?.and_then(|c| u32::try_from(c).ok());
                    Ok::<_, StoreError>((r.text(0)?, counter, r.int(2)?))
                })
                .transpose()?;
            let point_row: Option<PointRow> = s
                .row(
                    "SELECT name_vi, name_en, last_report_at, snapshot FROM points WHERE path = ?1",
                    vals![point],
                )?
                .map(|r| Ok::<_, StoreError>((r.text(0)?, r.text(1)?, r.int(2)?, r.opt_text(3)?)))
                .transpose()?;
            let offer = s
                .row("SELECT services FROM offers WHERE point = ?1", vals![point])?
                .map(|r| r.text(0))
                .transpose()?;
            Ok::<_, StoreError>((last, point_row, offer))
        })?;
        let stage = last.as_ref().and_then(|(k, _, _)| state_after(k));
        let (name_vi, name_en, last_report, snapshot) =
            point_row.unwrap_or_else(|| (point.to_string(), point.to_string(), 0, None));
        let snap: serde_json::Value = snapshot
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        let same_day = snap["service_day"].as_str() == Some(&day.format("%Y-%m-%d").to_string());
        let queued = same_day
            .then(|| {
                snap["queue"]
                    .as_array()
                    .and_then(|q| q.iter().find(|t| t["code"] == code).cloned())
            })
            .flatten();
        // A snapshot newer than the last event that still lists the ticket as waiting wins
        // over nothing; one that no longer lists it while the events say waiting is older news.
        let stage = match (stage, &queued) {
            (None, Some(_)) => Some(TicketState::Waiting),
            (s, _) => s,
        };
        let service = queued
            .as_ref()
            .and_then(|q| q["service"].as_str().map(str::to_string));
        let names = service.as_ref().and_then(|id| {
            let list: Vec<crate::report::bookings::OfferedService> =
                serde_json::from_str(offer.as_deref()?).ok()?;
            list.into_iter().find(|s| &s.id == id)
        });
        let snapshot_at = snap["at"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        let age_s = (now.timestamp_millis() - last_report) / 1000;
        let waiting = stage == Some(TicketState::Waiting);
        Ok(Some(serde_json::json!({
            "point": { "path": point, "name_vi": name_vi, "name_en": name_en },
            "day": day,
            "code": code,
            "stage": stage.map_or("unknown", TicketState::as_str),
            "counter": match stage {
                Some(TicketState::Called | TicketState::Serving) => {
                    last.as_ref().and_then(|(_, c, _)| *c)
                }
                _ => None,
            },
            "since": last.as_ref().and_then(|(_, _, at)| DateTime::from_timestamp_millis(*at)),
            "service": service,
            "service_vi": names.as_ref().map(|n| n.name_vi.clone()),
            "service_en": names.as_ref().map(|n| n.name_en.clone()),
            "ahead": if waiting { queued.as_ref().and_then(|q| q["ahead"].as_u64()) } else { None },
            "wait_low_min": if waiting { queued.as_ref().and_then(|q| q["wait_low_min"].as_u64()) } else { None },
            "wait_high_min": if waiting { queued.as_ref().and_then(|q| q["wait_high_min"].as_u64()) } else { None },
            "as_of": snapshot_at,
            "last_report_at": DateTime::from_timestamp_millis(last_report),
            "age_s": age_s,
            "stale": last_report == 0 || age_s > self.track_stale_seconds,
        })))
    }
}

pub(super) async fn get_track(
    State(centre): State<Arc<Centre>>,
    query: Result<Query<TrackQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Refusal> {
    let Query(q) =
        query.map_err(|e| refuse(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    let bad = |what: &str| {
        refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the link is incomplete: {what}"),
        )
    };
    let point = q.point.ok_or_else(|| bad("no ma-diem (point)"))?;
    let code =
        q.so.ok_or_else(|| bad("no so (number)"))?
            .to_ascii_uppercase();
    let day = q
        .ngay
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| bad("ngay (day) is not YYYY-MM-DD"))?;
    let token = q.k.ok_or_else(|| bad("no k (token)"))?;
    if point.len() > 200
        || code.len() > 8
        || token.len() > 64
        || crate::domain::split_code(&code).is_none()
    {
        return Err(bad("a field is malformed"));
    }
    let found = blocking(&centre, move |c| {
        c.track(&point, day, &code, &token, Utc::now())
    })
    .await?;
    match found {
        Some(v) => Ok(Json(v).into_response()),
        None => Err(refuse(
            StatusCode::NOT_FOUND,
            "not_found",
            "no ticket for this link: check that the whole link was scanned (it is valid on its day only)",
        )),
    }
}

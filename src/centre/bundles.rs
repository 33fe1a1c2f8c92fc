//! Update bundles on the centre (`crate::bundle`): published to some points first or to all
//! (`kiosk centre publish`), pulled by each point with its token (`GET /api/v1/bundles/current
//! ?running=<version>`: 200 with the bundle file, 204 when the point runs what it should). The
//! dashboard shows which version each point runs (its snapshot's `software_version` and the
//! `bundle_*` events it reports).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;

use super::store::{Serial, StoreError};
use super::{Centre, Refusal, blocking, point_of};
use crate::vals;

pub(super) const SCHEMA_SQL: &str = r#"
CREATE TABLE IF NOT EXISTS bundles (
    version      TEXT PRIMARY KEY,
    body         BLOB NOT NULL,
    key_id       TEXT NOT NULL,
    note         TEXT NOT NULL,
    published_at INTEGER NOT NULL
);
-- Which bundle each point should run; point '*' for every point not named.
CREATE TABLE IF NOT EXISTS rollout (
    point   TEXT PRIMARY KEY,
    version TEXT NOT NULL REFERENCES bundles (version)
);
"#;

impl Centre {
    /// Keep a bundle (already verified by the caller) and target `points` with it (`None`: every
    /// point not targeted by name). Returns how many targets changed.
    pub fn publish_bundle(
        &self,
        verified: &crate::bundle::Verified,
        body: &[u8],
        key_id: &str,
        points: Option<&[String]>,
    ) -> Result<usize, StoreError> {
        let targets: Vec<String> = match points {
            Some(p) => p.to_vec(),
            None => vec!["*".to_string()],
        };
        self.store.tx(Serial::No, |tx| {
            tx.exec(
                "INSERT INTO bundles (version, body, key_id, note, published_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (version) DO NOTHING",
                vals![
                    &verified.manifest.version,
                    body,
                    key_id,
                    &verified.manifest.note,
                    Utc::now().timestamp_millis()
                ],
            )?;
            let mut n = 0;
            for p in &targets {
                n += tx.exec(
                    "INSERT INTO rollout (point, version) VALUES (?1, ?2) \
                     ON CONFLICT (point) DO UPDATE SET version = excluded.version",
                    vals![p, &verified.manifest.version],
                )? as usize;
            }
            Ok(n)
        })
    }

    /// The bundle `point` should run: its own target, else the one for every point.
    pub fn bundle_for(&self, point: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.store.run(|s| {
            s.row(
                "SELECT b.version, b.body FROM rollout r JOIN bundles b ON b.version = r.version \
                 WHERE r.point IN (?1, '*') ORDER BY CASE WHEN r.point = '*' THEN 1 ELSE 0 END LIMIT 1",
                vals![point],
            )?
            .map(|r| Ok((r.text(0)?, r.bytes(1)?)))
            .transpose()
        })
    }

    /// Every target: (point or '*', version).
    pub fn rollout(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self
            .store
            .run(|s| s.rows("SELECT point, version FROM rollout ORDER BY point", &[]))?;
        rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?))).collect()
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct PullQuery {
    running: Option<String>,
}

pub(super) async fn get_current(
    State(centre): State<Arc<Centre>>,
    headers: HeaderMap,
    query: Result<Query<PullQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Refusal> {
    let point = point_of(&centre, &headers)?;
    let Query(q) =
        query.map_err(|e| super::refuse(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    let running = q.running.unwrap_or_default();
    if running.chars().count() > 64 {
        return Err(super::refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "running: a version of at most 64 characters",
        ));
    }
    let found = blocking(&centre, move |c| c.bundle_for(&point)).await?;
    Ok(match found {
        Some((version, _)) if version == running => StatusCode::NO_CONTENT.into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
        Some((version, body)) => {
            let mut r = (StatusCode::OK, body).into_response();
            r.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if let Ok(v) = HeaderValue::from_str(&version) {
                r.headers_mut().insert("x-bundle-version", v);
            }
            r
        }
    })
}

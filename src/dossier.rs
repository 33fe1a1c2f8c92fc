//! Where a citizen's dossier stands, asked of the one-stop system by its code. A small trait so
//! the kiosk does not care who answers: `CentreDossiers` asks the centre's receiver over the
//! reporting link (`GET /api/v1/dossiers/{code}`, the point's token, the pinned CA); a real
//! one-stop system (or the province's integration platform) is another implementation.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::config::Config;
use crate::domain::DossierCode;
use crate::wire::DossierStatus;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DossierError {
    /// No link to ask over (not configured, or the network or the centre is down).
    #[error("cannot reach the dossier service: {0}")]
    Offline(String),
    /// The service answered, but refused or made no sense.
    #[error("the dossier service refused: {0}")]
    Refused(String),
}

pub type Lookup<'a> =
    Pin<Box<dyn Future<Output = Result<Option<DossierStatus>, DossierError>> + Send + 'a>>;

/// Answers "where is dossier X?": `Ok(None)` when the service knows no such dossier.
pub trait DossierSource: Send + Sync {
    fn lookup<'a>(&'a self, code: &'a DossierCode) -> Lookup<'a>;
}

/// The centre's receiver, over the reporting link.
pub struct CentreDossiers {
    client: Option<reqwest::Client>,
    base: Option<String>,
    token: Option<String>,
}

/// A lookup must answer while the citizen is at the screen.
const TIMEOUT: Duration = Duration::from_secs(5);

impl CentreDossiers {
    /// From `[reporting]`: the receiver's origin (the url without its path), its token and CA.
    /// Without a url every lookup is `Offline`.
    pub fn from_config(config: &Config) -> CentreDossiers {
        let r = &config.reporting;
        let base = r.url.as_deref().and_then(origin);
        let mut builder = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .user_agent(concat!("kiosk/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &r.ca_file
            && let Ok(pem) = std::fs::read(ca)
            && let Ok(cert) = reqwest::Certificate::from_pem(&pem)
        {
            builder = builder.tls_certs_only([cert]);
        }
        let token = r.effective_token();
        CentreDossiers {
            client: builder.build().ok(),
            base,
            token,
        }
    }
}

/// "https://centre:8090/api/v1/reports" -> "https://centre:8090".
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}"))
}

impl DossierSource for CentreDossiers {
    fn lookup<'a>(&'a self, code: &'a DossierCode) -> Lookup<'a> {
        Box::pin(async move {
            let (Some(client), Some(base)) = (&self.client, &self.base) else {
                return Err(DossierError::Offline(
                    "no centre configured ([reporting] url)".into(),
                ));
            };
            let mut req = client.get(format!("{base}/api/v1/dossiers/{}", code.as_str()));
            if let Some(t) = &self.token {
                req = req.bearer_auth(t);
            }
            let resp = req
                .send()
                .await
                .map_err(|e| DossierError::Offline(e.to_string()))?;
            match resp.status().as_u16() {
                200 => resp
                    .json::<DossierStatus>()
                    .await
                    .map(Some)
                    .map_err(|e| DossierError::Refused(format!("unreadable answer: {e}"))),
                404 => Ok(None),
                500..=599 => Err(DossierError::Offline(format!("HTTP {}", resp.status()))),
                _ => {
                    let body: serde_json::Value = resp.json().await.unwrap_or_default();
                    Err(DossierError::Refused(
                        body["error"].as_str().unwrap_or("refused").to_string(),
                    ))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_receiver_is_found_from_the_reporting_url() {
        assert_eq!(
            super::origin("https://centre.hanoi.vn:8443/api/v1/reports").as_deref(),
            Some("https://centre.hanoi.vn:8443")
        );
        assert_eq!(super::origin("not a url"), None);
    }
}

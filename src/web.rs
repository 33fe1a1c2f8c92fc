//! What both HTTP servers (the hub's LAN API and the centre's receiver) do to every request and
//! every answer, as one axum middleware (`guard`):
//!
//! - a `Host` that is neither an IP address, `localhost`, nor a configured name is refused, so a
//!   web page on another site cannot reach the server by DNS rebinding;
//! - a request body must be `application/json` (a cross-site form or `text/plain` post is
//!   refused before any handler parses it);
//! - every refusal is `{"error": word, "reason": text}`, whoever produced it (axum's own 404,
//!   405, 413 and path rejections are plain text: they are rewritten), and reasons are clipped;
//! - every answer carries security headers; pages get a content security policy that allows
//!   only their own inline script (by hash), their own origin, and no framing.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::domain::Reason;

/// The longest reason a refusal carries, in characters.
pub const MAX_REASON: usize = 300;

/// A JSON refusal: the one shape every 4xx and 5xx answer has.
pub fn refusal(status: StatusCode, error: &str, reason: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({
            "error": error,
            "reason": crate::text::clip(reason, MAX_REASON),
        })),
    )
        .into_response()
}

/// The word for a status when the refusal came from the framework, not from a handler.
fn word_for(status: StatusCode) -> Reason {
    match status {
        StatusCode::NOT_FOUND => Reason::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => Reason::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => Reason::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Reason::UnsupportedMediaType,
        StatusCode::UNAUTHORIZED => Reason::Unauthorised,
        StatusCode::FORBIDDEN => Reason::Forbidden,
        StatusCode::TOO_MANY_REQUESTS => Reason::RateLimited,
        StatusCode::SERVICE_UNAVAILABLE => Reason::Unavailable,
        s if s.is_server_error() => Reason::Internal,
        _ => Reason::BadRequest,
    }
}

/// The policy one server applies.
#[derive(Clone)]
pub struct Guard {
    hosts: Arc<Vec<String>>,
    csp: Arc<HeaderValue>,
    /// The most a request body may hold (the API's own limit; axum's layer enforces it too).
    max_body: usize,
}

impl Guard {
    /// `allowed_hosts`: names besides IP literals and `localhost`; `pages`: the HTML the server
    /// serves (their inline scripts are allowed by hash, nothing else inline).
    pub fn new(allowed_hosts: &[String], pages: &[&str], max_body: usize) -> Guard {
        let csp = content_security_policy(pages);
        Guard {
            hosts: Arc::new(
                allowed_hosts
                    .iter()
                    .map(|h| h.to_ascii_lowercase())
                    .collect(),
            ),
            csp: Arc::new(
                HeaderValue::from_str(&csp)
                    .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'")),
            ),
            max_body,
        }
    }

    /// Whether a `Host` header names this server.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        // Strip the port: "[::1]:8080" -> "[::1]", "10.0.0.5:80" -> "10.0.0.5".
        let name = if let Some(rest) = host.strip_prefix('[') {
            match rest.split_once(']') {
                Some((ip, _)) => return ip.parse::<std::net::Ipv6Addr>().is_ok(),
                None => return false,
            }
        } else {
            host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h)
        };
        name.parse::<std::net::IpAddr>().is_ok()
            || name == "localhost"
            || self.hosts.iter().any(|h| h == name)
    }
}

/// `script-src` by the hashes of the pages' inline scripts; styles may be inline (no script
/// runs from CSS), everything else from the page's own origin; no framing, no plugins.
pub fn content_security_policy(pages: &[&str]) -> String {
    let mut hashes = Vec::new();
    for page in pages {
        let mut rest = *page;
        while let Some(start) = rest.find("<script>") {
            let after = &rest[start + "<script>".len()..];
            let Some(end) = after.find("</script>") else {
                break;
            };
            let digest = Sha256::digest(&after.as_bytes()[..end]);
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
            rest = &after[end..];
        }
    }
    format!(
        "default-src 'self'; script-src {}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; media-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        if hashes.is_empty() {
            "'none'".to_string()
        } else {
            hashes.join(" ")
        }
    )
}

/// A typed JSON body. `71.0` reads as the integer 71: JSON has one number type and JSON
/// Schema's `integer` takes it, so a client following the contract is not refused for it.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes)?;
    integral_numbers(&mut value);
    serde_json::from_value(value)
}

/// `71.0` is the integer 71 (JSON has one number type, and JSON Schema's `integer` takes it):
/// numbers with no fraction become integers before typed fields read them.
fn integral_numbers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *v = serde_json::Value::from(f as i64);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        serde_json::Value::Object(map) => map.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// Whether the request says it carries a body.
fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match length {
        Some(n) => n > 0,
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

/// The middleware: `axum::middleware::from_fn_with_state(guard, web::guard)`.
pub async fn guard(State(g): State<Guard>, req: Request, next: Next) -> Response {
    if let Some(host) = req.headers().get(header::HOST) {
        let ok = host.to_str().is_ok_and(|h| g.allows_host(h));
        if !ok {
            let shown = String::from_utf8_lossy(host.as_bytes()).into_owned();
            return finish(
                refusal(
                    StatusCode::MISDIRECTED_REQUEST,
                    Reason::BadHost.as_str(),
                    &format!(
                        "this server does not answer to the host \"{}\"; use its address or a \
                         name in [api] allowed_hosts",
                        crate::text::clip(&shown, 64)
                    ),
                ),
                &g,
                false,
            );
        }
    }
    let writes = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH);
    if writes && has_body(req.headers()) && !is_json(req.headers()) {
        return finish(
            refusal(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Reason::UnsupportedMediaType.as_str(),
                "send the body as JSON with 'Content-Type: application/json'",
            ),
            &g,
            false,
        );
    }
    let api = req.uri().path().starts_with("/api/") || req.uri().path() == "/metrics";
    let resp = next.run(req).await;
    let resp = if resp.status().is_client_error() || resp.status().is_server_error() {
        as_json_refusal(resp, &g).await
    } else {
        resp
    };
    finish(resp, &g, api)
}

/// A refusal that is not JSON yet (the framework's own) becomes one; a JSON one is kept.
async fn as_json_refusal(resp: Response, g: &Guard) -> Response {
    if is_json(resp.headers()) {
        return resp;
    }
    let status = resp.status();
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let reason = if status == StatusCode::PAYLOAD_TOO_LARGE {
        format!(
            "the body is larger than this server takes ({} bytes)",
            g.max_body
        )
    } else if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("refused").to_string()
    } else {
        text.trim().to_string()
    };
    let mut out = refusal(status, word_for(status).as_str(), &reason);
    // Keep what the framework said beyond the body (`Allow` on a 405, say).
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

fn finish(mut resp: Response, g: &Guard, api: bool) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CONTENT_SECURITY_POLICY, (*g.csp).clone());
    if api {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_by_ip_localhost_or_configured_name() {
        let g = Guard::new(&["Quay.UBND-phuong.local".into()], &[], 1024);
        for ok in [
            "127.0.0.1:8080",
            "10.1.2.3",
            "[::1]:8080",
            "localhost:8080",
            "quay.ubnd-phuong.local:8080",
        ] {
            assert!(g.allows_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "[nope]",
        ] {
            assert!(!g.allows_host(bad), "{bad}");
        }
    }

    #[test]
    fn the_policy_allows_exactly_the_inline_scripts_it_was_given() {
        let page = "<html><script>alert(1)</script><script>go()</script></html>";
        let csp = content_security_policy(&[page]);
        // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert!(
            csp.contains("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"),
            "{csp}"
        );
        assert_eq!(csp.matches("'sha256-").count(), 2);
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(content_security_policy(&[]).contains("script-src 'none'"));
    }

    #[test]
    fn integral_floats_read_as_integers() {
        #[derive(serde::Deserialize, Debug)]
        struct B {
            counter: u32,
            at: Vec<i64>,
        }
        let b: B = parse_json(br#"{"counter": 71.0, "at": [1, -2.0]}"#).unwrap();
        assert_eq!((b.counter, b.at), (71, vec![1, -2]));
        assert!(parse_json::<B>(br#"{"counter": 71.5, "at": []}"#).is_err());
    }

    #[test]
    fn framework_words_for_statuses() {
        assert_eq!(
            word_for(StatusCode::METHOD_NOT_ALLOWED),
            Reason::MethodNotAllowed
        );
        assert_eq!(
            word_for(StatusCode::PAYLOAD_TOO_LARGE),
            Reason::PayloadTooLarge
        );
        assert_eq!(word_for(StatusCode::BAD_REQUEST), Reason::BadRequest);
    }
}

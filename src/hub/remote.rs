//! A `HubHandle` for a kiosk that works through another point's hub (`kiosk run --hub URL`): the
//! same handle the touchscreen uses, but its commands become calls to the hub's LAN API and its
//! event stream follows the hub's `/api/events`. A second kiosk in the lobby then issues into,
//! and shows, the same queues. Counter commands are not offered here (the hub refuses nothing:
//! the remote handle answers them as "hub stopped").

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};

use super::service::QueueError;
use super::{COMMAND_BUFFER, Command, EVENT_BUFFER, HubHandle};
use crate::config::Config;
use crate::domain::{EventKind, Reason};
use crate::sse;
use crate::store::Event;

/// The hub's refusal as a queue error (same reason codes, so the screen says the same thing).
fn refused(status: reqwest::StatusCode, body: &str) -> QueueError {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    QueueError::Remote {
        reason: Reason::from_remote(v["error"].as_str().unwrap_or("remote_error")),
        message: v["reason"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("the hub answered {status}")),
    }
}

fn unreachable(e: impl std::fmt::Display) -> QueueError {
    QueueError::Remote {
        reason: Reason::HubStopped,
        message: format!("the hub cannot be reached: {e}"),
    }
}

async fn call<T: serde::de::DeserializeOwned>(
    req: reqwest::RequestBuilder,
) -> Result<T, QueueError> {
    let resp = req.send().await.map_err(unreachable)?;
    let status = resp.status();
    let text = resp.text().await.map_err(unreachable)?;
    if !status.is_success() {
        return Err(refused(status, &text));
    }
    serde_json::from_str(&text).map_err(|e| QueueError::Remote {
        reason: Reason::Internal,
        message: format!("unexpected answer from the hub: {e}"),
    })
}

/// A handle on the hub at `url` (e.g. `http://10.0.0.2:8080`) with the kiosk `token`. Spawns
/// its workers on `runtime`. `config` is this kiosk's own (names, printer, services must match
/// the hub's for the screen to make sense; the hub decides everything else).
pub fn connect(
    config: Arc<Config>,
    url: &str,
    token: &str,
    runtime: &tokio::runtime::Handle,
) -> HubHandle {
    let (commands, mut rx) = mpsc::channel::<Command>(COMMAND_BUFFER);
    let (events, _) = broadcast::channel::<Event>(EVENT_BUFFER);
    let base = url.trim_end_matches('/').to_string();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    {
        let (base, token, client) = (base.clone(), token.to_string(), client.clone());
        runtime.spawn(async move {
            while let Some(cmd) = rx.recv().await {
                let (base, token, client) = (base.clone(), token.clone(), client.clone());
                // Each command on its own task: a slow answer does not hold the next one.
                tokio::spawn(async move {
                    match cmd {
                        Command::Issue(req, reply) => {
                            let body = serde_json::json!({
                                "service": req.service_id,
                                "priority": req.priority_group,
                                "field": req.field,
                                "citizen_id": req.citizen_id,
                            });
                            let r = call(
                                client
                                    .post(format!("{base}/api/tickets"))
                                    .bearer_auth(&token)
                                    .json(&body),
                            )
                            .await;
                            let _ = reply.send(r);
                        }
                        Command::Status(reply) => {
                            let _ =
                                reply.send(call(client.get(format!("{base}/api/status"))).await);
                        }
                        Command::DeviceEvent(kind, ticket, detail, reply) => {
                            // The hub knows its tickets: a code is all it takes (and all a
                            // device on the LAN may claim).
                            let body = serde_json::json!({
                                "kind": kind, "ticket": ticket.map(|t| t.code), "detail": detail,
                            });
                            let r = call(
                                client
                                    .post(format!("{base}/api/device-events"))
                                    .bearer_auth(&token)
                                    .json(&body),
                            )
                            .await;
                            let _ = reply.send(r);
                        }
                        Command::CheckIn(key, group, reply) => {
                            let mut body = serde_json::json!({ "priority": group });
                            match key {
                                super::CheckInKey::Code(c) => body["code"] = c.into(),
                                super::CheckInKey::Card(id) => body["citizen_id"] = id.into(),
                            }
                            let r = call(
                                client
                                    .post(format!("{base}/api/check-in"))
                                    .bearer_auth(&token)
                                    .json(&body),
                            )
                            .await;
                            let _ = reply.send(r);
                        }
                        // Counter work is done on counter pages, not on a lobby kiosk: dropping
                        // the reply answers "hub stopped".
                        _ => {}
                    }
                });
            }
        });
    }
    {
        // Every change at the hub wakes this kiosk's listeners (they re-read the status).
        let (events, base, client) = (events.clone(), base.clone(), client.clone());
        runtime.spawn(async move {
            let client = reqwest::Client::builder().build().unwrap_or(client);
            let mut n = 0i64;
            loop {
                if let Ok(mut resp) = client.get(format!("{base}/api/events")).send().await
                    && resp.status().is_success()
                {
                    let mut reader = sse::Reader::new();
                    while let Ok(Some(chunk)) = resp.chunk().await {
                        for _message in reader.feed(&chunk) {
                            n += 1;
                            let _ = events.send(Event {
                                id: n,
                                at: chrono::Utc::now(),
                                kind: EventKind::HubChanged,
                                ticket_id: None,
                                code: None,
                                service_id: None,
                                counter: None,
                                priority_group: None,
                                detail: None,
                            });
                        }
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
    HubHandle {
        commands,
        events,
        config,
    }
}

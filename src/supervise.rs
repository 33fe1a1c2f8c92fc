//! Running as firmware under systemd: the sd_notify protocol (`READY=1`, `STATUS=`,
//! `STOPPING=1`, `WATCHDOG=1` over the datagram socket in `$NOTIFY_SOCKET`) and the stop
//! signals (SIGTERM, SIGINT). Outside systemd every notification is a no-op.
//!
//! The watchdog is fed only while the loops that matter answer: the caller pings them (the
//! hub thread, the printer thread, the UI's event loop) and feeds the watchdog when every ping
//! came back in time, so a wedged thread gets the process restarted instead of a healthy-looking
//! corpse. Depends on std, libc-free, and tokio's signal support.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// The systemd notification socket, if this process runs under a unit that gave one.
#[derive(Debug)]
pub struct Notifier {
    socket: Option<(UnixDatagram, String)>,
}

impl Notifier {
    /// From `$NOTIFY_SOCKET`; a path, or `@name` for the abstract namespace.
    pub fn from_env() -> Notifier {
        let socket = std::env::var("NOTIFY_SOCKET")
            .ok()
            .filter(|s| !s.is_empty())
            .and_then(|addr| UnixDatagram::unbound().ok().map(|s| (s, addr)));
        Notifier { socket }
    }

    /// Whether notifications go anywhere.
    pub fn enabled(&self) -> bool {
        self.socket.is_some()
    }

    /// Send one notification (e.g. "READY=1\nSTATUS=serving"). Errors are ignored: a supervisor
    /// that cannot be told is not a reason to stop serving citizens.
    pub fn notify(&self, message: &str) {
        let Some((socket, addr)) = &self.socket else {
            return;
        };
        let sent = if let Some(name) = addr.strip_prefix('@') {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                .and_then(|a| socket.send_to_addr(message.as_bytes(), &a))
        } else {
            socket.send_to(message.as_bytes(), addr)
        };
        if let Err(e) = sent {
            tracing::debug!(error = %e, "sd_notify not delivered");
        }
    }

    pub fn ready(&self, status: &str) {
        self.notify(&format!("READY=1\nSTATUS={status}"));
    }

    pub fn stopping(&self) {
        self.notify("STOPPING=1");
    }

    pub fn watchdog(&self) {
        self.notify("WATCHDOG=1");
    }
}

/// How often to feed the watchdog: half of `$WATCHDOG_USEC` (when it is meant for this
/// process), or None when no watchdog is armed.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.parse::<u32>().ok() != Some(std::process::id())
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

/// Resolves on the first SIGTERM (systemd's stop) or SIGINT (Ctrl-C).
pub async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM: stopping"),
                _ = int.recv() => tracing::info!("SIGINT: stopping"),
            }
        }
        _ => {
            // No signal handlers (should not happen on Linux): Ctrl-C only.
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_reach_a_datagram_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        let n = Notifier {
            socket: Some((client, path.display().to_string())),
        };
        n.ready("serving");
        let mut buf = [0u8; 128];
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1\nSTATUS=serving");
    }

    #[test]
    fn without_a_socket_nothing_is_sent() {
        let n = Notifier { socket: None };
        assert!(!n.enabled());
        n.watchdog(); // no panic, no effect
    }
}

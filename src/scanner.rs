//! The 2D scanner in USB-CDC serial mode (`/dev/ttyACM*`): read on its own thread with
//! `serialport`, split on the configured suffix, classified by `domain::scan`. Every scan, good
//! or refused, goes to the callback; nothing read is logged but its kind and length (a card's
//! QR carries a name, a birth date and an address). A scanner unplugged is opened again.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::config::ScannerConfig;
use crate::domain::scan::{MAX_SCAN_BYTES, Scan, ScanRefused, classify_bytes};

/// What one scan came to.
pub type ScanResult = Result<Scan, ScanRefused>;

/// A scan left without its suffix for this long is taken as complete (a scanner whose suffix
/// was set differently still works).
const SILENCE: Duration = Duration::from_millis(300);
/// How long a missing device waits before it is opened again.
const REOPEN: Duration = Duration::from_secs(2);

/// Splits a byte stream into scans on a suffix; bounded, so a stream without one cannot grow.
pub struct Splitter {
    suffix: Vec<u8>,
    buf: Vec<u8>,
    /// Bytes were dropped since the last suffix (the scan was too long).
    overflowed: bool,
}

impl Splitter {
    pub fn new(suffix: &[u8]) -> Splitter {
        Splitter {
            suffix: suffix.to_vec(),
            buf: Vec::new(),
            overflowed: false,
        }
    }

    /// Feed bytes; returns the scans they completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<ScanResult> {
        let mut out = Vec::new();
        for &b in bytes {
            self.buf.push(b);
            if self.buf.ends_with(&self.suffix) {
                let n = self.buf.len() - self.suffix.len();
                let body: Vec<u8> = self.buf.drain(..).take(n).collect();
                out.extend(self.finish(&body));
            } else if self.buf.len() > MAX_SCAN_BYTES + self.suffix.len() {
                self.buf.clear();
                self.overflowed = true;
            }
        }
        out
    }

    /// The scan pending after a silence, if any.
    pub fn flush(&mut self) -> Option<ScanResult> {
        if self.buf.is_empty() && !self.overflowed {
            return None;
        }
        let body = std::mem::take(&mut self.buf);
        self.finish(&body)
    }

    fn finish(&mut self, body: &[u8]) -> Option<ScanResult> {
        if std::mem::take(&mut self.overflowed) {
            return Some(Err(ScanRefused::TooLong));
        }
        // A CR LF suffix set as CR leaves the LF at the start of the next scan.
        let body = body
            .strip_prefix(b"\n")
            .or_else(|| body.strip_prefix(b"\r"))
            .unwrap_or(body);
        if body.is_empty() {
            return None;
        }
        Some(classify_bytes(body))
    }
}

/// The reader thread; stops when dropped.
pub struct ScannerReader {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for ScannerReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What kind a scan was, for logs (never its content).
pub fn describe(r: &ScanResult) -> &'static str {
    match r {
        Ok(Scan::IdCard(_)) => "identity card",
        Ok(Scan::Booking(_)) => "booking code",
        Ok(Scan::Dossier(_)) => "dossier code",
        Ok(Scan::Ticket { .. }) => "ticket",
        Err(_) => "refused",
    }
}

/// Start reading the configured device. `on_scan` runs on the reader thread.
pub fn start(
    config: &ScannerConfig,
    on_scan: impl Fn(ScanResult) + Send + 'static,
) -> Option<ScannerReader> {
    let path = config.device.clone()?;
    let baud = config.baud;
    let suffix = config.suffix.bytes().to_vec();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("scanner".into())
        .spawn(move || {
            let mut split = Splitter::new(&suffix);
            let mut reported_missing = false;
            while !stopping.load(Ordering::Relaxed) {
                let port = serialport::new(path.to_string_lossy(), baud)
                    .data_bits(serialport::DataBits::Eight)
                    .parity(serialport::Parity::None)
                    .stop_bits(serialport::StopBits::One)
                    .flow_control(serialport::FlowControl::None)
                    .timeout(Duration::from_millis(100))
                    .open();
                let mut port = match port {
                    Ok(p) => {
                        tracing::info!(device = %path.display(), baud, "scanner open");
                        reported_missing = false;
                        p
                    }
                    Err(e) => {
                        if !reported_missing {
                            tracing::warn!(device = %path.display(), error = %e, "scanner not found; trying again every 2 s");
                            reported_missing = true;
                        }
                        std::thread::sleep(REOPEN);
                        continue;
                    }
                };
                let mut buf = [0u8; 512];
                let mut last = Instant::now();
                while !stopping.load(Ordering::Relaxed) {
                    match port.read(&mut buf) {
                        Ok(0) => {}
                        Ok(n) => {
                            last = Instant::now();
                            for r in split.push(&buf[..n]) {
                                tracing::info!(kind = describe(&r), "scan");
                                on_scan(r);
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                            if last.elapsed() >= SILENCE
                                && let Some(r) = split.flush()
                            {
                                tracing::info!(kind = describe(&r), "scan (no suffix)");
                                on_scan(r);
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            tracing::warn!(device = %path.display(), error = %e, "scanner read failed; opening it again");
                            split = Splitter::new(&suffix);
                            std::thread::sleep(REOPEN);
                            break;
                        }
                    }
                }
            }
        })
        .ok()?;
    Some(ScannerReader {
        stop,
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_split_on_the_suffix_even_across_reads() {
        let mut s = Splitter::new(b"\r");
        assert!(s.push(b"HNBOOK:12345").is_empty());
        let done = s.push(b"67897\rHNBO");
        assert_eq!(done.len(), 1);
        assert!(done[0].is_ok() || matches!(done[0], Err(ScanRefused::BookingCode(_))));
        let more = s.push(b"OK:x\r");
        assert!(
            matches!(more[0], Err(ScanRefused::BookingCode(_))),
            "{more:?}"
        );
    }

    #[test]
    fn an_endless_stream_is_refused_once_and_bounded() {
        let mut s = Splitter::new(b"\r");
        assert!(s.push(&vec![b'7'; 3 * MAX_SCAN_BYTES]).is_empty());
        assert!(s.buf.len() <= MAX_SCAN_BYTES + 1);
        assert_eq!(s.push(b"\r"), vec![Err(ScanRefused::TooLong)]);
        assert!(s.flush().is_none());
    }

    #[test]
    fn crlf_from_a_cr_scanner_is_one_scan() {
        let mut s = Splitter::new(b"\r");
        let out = s.push(b"000.A0.01.H26-210212-9090\r\n000.A0.01.H26-210212-9090\r");
        assert_eq!(out.len(), 2);
        assert!(
            out.iter().all(|r| matches!(r, Ok(Scan::Dossier(_)))),
            "{out:?}"
        );
    }
}

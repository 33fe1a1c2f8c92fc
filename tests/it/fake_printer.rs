//! A fake ESC/POS printer for tests: it sits on the far end of a pseudo-terminal or a TCP
//! connection, records every byte it receives, and answers DLE EOT n with scripted status bytes
//! (or stays silent), optionally sending an Automatic Status Back message first.

use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the printer answers. `None` = no answer to that request.
#[derive(Clone, Copy, Debug)]
pub struct Script {
    pub eot1: Option<u8>,
    pub eot2: Option<u8>,
    pub eot4: Option<u8>,
    /// Sent on each status request, before the reply if any, as a printer with Automatic
    /// Status Back enabled may do when its state changes.
    pub asb_before_reply: Option<[u8; 4]>,
    /// The answer to GS r 1 (sent once everything before it was "printed").
    pub gs_r1: Option<u8>,
    /// Stop reading and answering after this many bytes, as a printer whose cable was pulled.
    pub hang_after: Option<usize>,
}

impl Script {
    pub const READY: Script = Script {
        eot1: Some(0x12),
        eot2: Some(0x12),
        eot4: Some(0x12),
        asb_before_reply: None,
        gs_r1: Some(0x00),
        hang_after: None,
    };
    pub const PAPER_OUT: Script = Script {
        eot1: Some(0x1A),
        eot2: Some(0x32),
        eot4: Some(0x72),
        asb_before_reply: None,
        gs_r1: Some(0x00),
        hang_after: None,
    };
    pub const COVER_OPEN: Script = Script {
        eot1: Some(0x1A),
        eot2: Some(0x16),
        eot4: Some(0x12),
        asb_before_reply: None,
        gs_r1: Some(0x00),
        hang_after: None,
    };
    pub const NEAR_END: Script = Script {
        eot1: Some(0x12),
        eot2: Some(0x12),
        eot4: Some(0x1E),
        asb_before_reply: None,
        gs_r1: Some(0x00),
        hang_after: None,
    };
    pub const SILENT: Script = Script {
        eot1: None,
        eot2: None,
        eot4: None,
        asb_before_reply: None,
        gs_r1: None,
        hang_after: None,
    };
}

pub struct FakePrinter {
    received: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakePrinter {
    /// Serve on any byte stream; `io` must time out its reads (so the loop can stop).
    pub fn serve<S: Read + Write + Send + 'static>(mut io: S, script: Script) -> FakePrinter {
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (Arc::clone(&received), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut scanned = 0;
            while !s.load(Ordering::Relaxed) {
                if script
                    .hang_after
                    .is_some_and(|n| r.lock().unwrap().len() >= n)
                {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                let room = script
                    .hang_after
                    .map_or(buf.len(), |n| (n - r.lock().unwrap().len()).min(buf.len()));
                match io.read(&mut buf[..room]) {
                    Ok(0) => std::thread::sleep(Duration::from_millis(2)),
                    Ok(n) => {
                        let mut all = r.lock().unwrap();
                        all.extend_from_slice(&buf[..n]);
                        // Look for DLE EOT n in what arrived, including across reads.
                        while scanned + 2 < all.len() {
                            if all[scanned] == 0x1D && all[scanned + 1] == 0x72 {
                                if let Some(b) = script.gs_r1 {
                                    let _ = io.write_all(&[b]);
                                    let _ = io.flush();
                                }
                                scanned += 3;
                            } else if all[scanned] == 0x10 && all[scanned + 1] == 0x04 {
                                let reply = match all[scanned + 2] {
                                    1 => script.eot1,
                                    2 => script.eot2,
                                    4 => script.eot4,
                                    _ => None,
                                };
                                if let Some(asb) = script.asb_before_reply {
                                    let _ = io.write_all(&asb);
                                }
                                if let Some(b) = reply {
                                    let _ = io.write_all(&[b]);
                                }
                                let _ = io.flush();
                                scanned += 3;
                            } else {
                                scanned += 1;
                            }
                        }
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted
                        ) => {}
                    // EIO on a pty master while no slave is open: wait for one.
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakePrinter {
            received,
            stop,
            thread: Some(thread),
        }
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<u8> {
        self.received.lock().unwrap().clone()
    }

    /// Wait until at least `n` bytes arrived (or the time is up), then return them.
    pub fn wait_for(&self, n: usize, within: Duration) -> Vec<u8> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n || std::time::Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for FakePrinter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A pseudo-terminal pair with a fake printer on the master side. Returns the printer and the
/// slave's path, to be opened like /dev/ttyUSB0, and the slave port (keep it alive).
pub fn pty_printer(script: Script) -> (FakePrinter, String, serialport::TTYPort) {
    use serialport::SerialPort;
    let (mut master, slave) = serialport::TTYPort::pair().expect("pseudo-terminal pair");
    master
        .set_timeout(Duration::from_millis(20))
        .expect("master timeout");
    let path = slave.name().expect("slave has a path");
    (FakePrinter::serve(master, script), path, slave)
}

/// A fake network printer on 127.0.0.1, port chosen by the OS. Serves one connection at a time.
pub fn tcp_printer(script: Script) -> (FakePrinter, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            stream
                .set_read_timeout(Some(Duration::from_millis(20)))
                .unwrap();
            let _ = tx.send(stream);
        }
    });
    // Defer serving until the client connects: wrap the accept in a lazy stream.
    let lazy = LazyStream { rx, stream: None };
    (FakePrinter::serve(lazy, script), addr)
}

struct LazyStream {
    rx: std::sync::mpsc::Receiver<std::net::TcpStream>,
    stream: Option<std::net::TcpStream>,
}

impl LazyStream {
    fn get(&mut self) -> Option<&mut std::net::TcpStream> {
        if self.stream.is_none() {
            self.stream = self.rx.recv_timeout(Duration::from_millis(20)).ok();
        }
        self.stream.as_mut()
    }
}

impl Read for LazyStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.get() {
            Some(s) => s.read(buf),
            None => Err(ErrorKind::WouldBlock.into()),
        }
    }
}

impl Write for LazyStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.get() {
            Some(s) => s.write(buf),
            None => Err(ErrorKind::NotConnected.into()),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self.get() {
            Some(s) => s.flush(),
            None => Ok(()),
        }
    }
}

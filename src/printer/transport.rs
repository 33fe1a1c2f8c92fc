//! How bytes reach a printer: a serial port (the `serialport` crate), a USB printer-class device
//! file (/dev/usb/lp0), raw TCP (port 9100), or a spool folder (files, for the demo and for
//! reviewers). Each can also ask the printer for its status with DLE EOT and read the reply
//! with a timeout, skipping Automatic Status Back messages (which it remembers).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::status::{self, PrinterStatus};

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot open {what}: {source}")]
    Open { what: String, source: io::Error },
    #[error("writing to {what}: {source}")]
    Write { what: String, source: io::Error },
    #[error("reading from {what}: {source}")]
    Read { what: String, source: io::Error },
}

/// One print job as the transport sees it.
pub struct Job<'a> {
    /// A file-name-safe name, e.g. `20261123-094100-A023`.
    pub name: &'a str,
    pub bytes: &'a [u8],
    /// The picture of the ticket, for transports that keep one (spool).
    pub preview_png: Option<&'a [u8]>,
}

pub trait Transport: Send {
    /// Where it prints, for messages (`serial /dev/ttyUSB0 @ 38400`).
    fn describe(&self) -> String;
    fn send(&mut self, job: &Job) -> Result<(), TransportError>;
    /// Ask DLE EOT `n` and return the one-byte reply, or None if none came within `timeout`.
    fn ask(&mut self, n: u8, timeout: Duration) -> Result<Option<u8>, TransportError>;
    /// GS r 1 (transmit paper sensor status), which a printer answers only after it processed
    /// everything sent before it: the byte it answered, or None on silence. Transports with
    /// no printer to ask (spool) have nothing to confirm.
    fn confirm(&mut self, timeout: Duration) -> Result<Option<u8>, TransportError> {
        let _ = timeout;
        Ok(Some(0))
    }
    /// How long `bytes` take on the wire (serial lines are slow: 9600 baud is ~1 ms a byte).
    fn line_time(&self, bytes: usize) -> Duration {
        let _ = bytes;
        Duration::ZERO
    }
    /// The status from the last Automatic Status Back message seen, if any.
    fn last_asb(&self) -> Option<PrinterStatus> {
        None
    }
    /// Whether status can be asked at all (a spool folder cannot).
    fn has_status(&self) -> bool {
        true
    }
    /// The status of a transport with no printer to ask (spool): None for real ones.
    fn simulated_status(&self) -> Option<PrinterStatus> {
        None
    }
}

/// Something that reads with a bounded wait and writes: a serial port, a socket, a device file.
trait Link: Read + Write + Send {
    /// Bound the next reads to `d` (or make them non-blocking).
    fn set_read_wait(&mut self, d: Duration) -> io::Result<()>;
}

impl Link for Box<dyn serialport::SerialPort> {
    fn set_read_wait(&mut self, d: Duration) -> io::Result<()> {
        self.set_timeout(d).map_err(io::Error::other)
    }
}

impl Link for TcpStream {
    fn set_read_wait(&mut self, d: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(d.max(Duration::from_millis(1))))
    }
}

impl Link for std::fs::File {
    fn set_read_wait(&mut self, _d: Duration) -> io::Result<()> {
        Ok(()) // opened O_NONBLOCK: reads return WouldBlock, the caller polls
    }
}

/// The shared part of every real transport: a lazily opened link, reopened after an error.
struct LinkTransport<L: Link> {
    what: String,
    open: Box<dyn Fn() -> io::Result<L> + Send>,
    link: Option<L>,
    asb: Option<PrinterStatus>,
    /// Serial lines: their speed, for how long a ticket takes on the wire.
    baud: Option<u32>,
}

impl<L: Link> LinkTransport<L> {
    fn link(&mut self) -> Result<&mut L, TransportError> {
        if self.link.is_none() {
            let l = (self.open)().map_err(|source| TransportError::Open {
                what: self.what.clone(),
                source,
            })?;
            self.link = Some(l);
        }
        Ok(self.link.as_mut().unwrap_or_else(|| unreachable!()))
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        let what = self.what.clone();
        let result = self.link().and_then(|l| {
            l.write_all(bytes)
                .and_then(|_| l.flush())
                .map_err(|source| TransportError::Write { what, source })
        });
        if result.is_err() {
            self.link = None; // reopen next time
        }
        result
    }

    /// Read one byte, waiting at most until `deadline`.
    fn read_byte(&mut self, deadline: Instant) -> Result<Option<u8>, TransportError> {
        let what = self.what.clone();
        let link = self.link()?;
        let mut buf = [0u8; 1];
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let wait = (deadline - now).min(Duration::from_millis(50));
            link.set_read_wait(wait)
                .map_err(|source| TransportError::Read {
                    what: what.clone(),
                    source,
                })?;
            match link.read(&mut buf) {
                Ok(1) => return Ok(Some(buf[0])),
                Ok(_) => std::thread::sleep(Duration::from_millis(5)),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    if e.kind() == io::ErrorKind::WouldBlock {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
                Err(source) => {
                    self.link = None;
                    return Err(TransportError::Read { what, source });
                }
            }
        }
    }

    /// Throw away bytes already waiting (late replies), keeping any ASB news.
    fn drain(&mut self) -> Result<(), TransportError> {
        let deadline = Instant::now() + Duration::from_millis(1);
        while let Some(b) = self.read_byte(deadline)? {
            self.maybe_asb(b, deadline)?;
        }
        Ok(())
    }

    /// If `b` starts an ASB message, read the rest and remember the status. Returns whether it did.
    fn maybe_asb(&mut self, b: u8, deadline: Instant) -> Result<bool, TransportError> {
        if !status::is_asb_start(b) {
            return Ok(false);
        }
        let mut msg = [b, 0, 0, 0];
        for slot in msg.iter_mut().skip(1) {
            match self.read_byte(deadline + Duration::from_millis(100))? {
                Some(x) => *slot = x,
                None => return Ok(true), // a cut-off message: ignore it
            }
        }
        self.asb = Some(status::from_asb(msg));
        Ok(true)
    }

    fn ask(&mut self, n: u8, timeout: Duration) -> Result<Option<u8>, TransportError> {
        self.request(&[0x10, 0x04, n], timeout, status::is_realtime_reply)
    }

    fn confirm(&mut self, timeout: Duration) -> Result<Option<u8>, TransportError> {
        self.request(&[0x1D, 0x72, 1], timeout, status::is_transmit_status_reply)
    }

    /// Send a status request and wait for the reply `is_reply` recognises (ASB messages that
    /// arrive meanwhile are taken in; anything else is noise on the line, skipped).
    fn request(
        &mut self,
        command: &[u8],
        timeout: Duration,
        is_reply: fn(u8) -> bool,
    ) -> Result<Option<u8>, TransportError> {
        self.drain()?;
        self.write_all(command)?;
        let deadline = Instant::now() + timeout;
        while let Some(b) = self.read_byte(deadline)? {
            if self.maybe_asb(b, deadline)? {
                continue;
            }
            if is_reply(b) {
                return Ok(Some(b));
            }
        }
        Ok(None)
    }
}

macro_rules! link_transport {
    ($name:ident) => {
        impl Transport for $name {
            fn describe(&self) -> String {
                self.0.what.clone()
            }
            fn send(&mut self, job: &Job) -> Result<(), TransportError> {
                self.0.write_all(job.bytes)
            }
            fn ask(&mut self, n: u8, timeout: Duration) -> Result<Option<u8>, TransportError> {
                self.0.ask(n, timeout)
            }
            fn confirm(&mut self, timeout: Duration) -> Result<Option<u8>, TransportError> {
                self.0.confirm(timeout)
            }
            fn last_asb(&self) -> Option<PrinterStatus> {
                self.0.asb
            }
            fn line_time(&self, bytes: usize) -> Duration {
                // 10 bits a byte on the wire (start, 8 data, stop).
                self.0.baud.map_or(Duration::ZERO, |b| {
                    Duration::from_secs_f64(bytes as f64 * 10.0 / f64::from(b.max(1)))
                })
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowControl {
    None,
    Software,
    Hardware,
}

/// A printer on a serial port (RS-232 or a USB-serial adapter).
pub struct SerialTransport(LinkTransport<Box<dyn serialport::SerialPort>>);

impl SerialTransport {
    pub fn new(port: &str, baud: u32, flow: FlowControl) -> SerialTransport {
        let path = port.to_string();
        let flow = match flow {
            FlowControl::None => serialport::FlowControl::None,
            FlowControl::Software => serialport::FlowControl::Software,
            FlowControl::Hardware => serialport::FlowControl::Hardware,
        };
        SerialTransport(LinkTransport {
            what: format!("serial {port} @ {baud}"),
            open: Box::new(move || {
                serialport::new(&path, baud)
                    .flow_control(flow)
                    .data_bits(serialport::DataBits::Eight)
                    .parity(serialport::Parity::None)
                    .stop_bits(serialport::StopBits::One)
                    .timeout(Duration::from_millis(50))
                    .open()
                    .map_err(io::Error::other)
            }),
            link: None,
            asb: None,
            baud: Some(baud),
        })
    }
}

link_transport!(SerialTransport);

/// A USB printer-class device (`/dev/usb/lp0`), or any device file that talks ESC/POS.
pub struct DeviceFileTransport(LinkTransport<std::fs::File>);

impl DeviceFileTransport {
    pub fn new(device: &Path) -> DeviceFileTransport {
        let path = device.to_path_buf();
        DeviceFileTransport(LinkTransport {
            what: format!("device {}", device.display()),
            open: Box::new(move || {
                use std::os::unix::fs::OpenOptionsExt;
                std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
                    .open(&path)
            }),
            link: None,
            asb: None,
            baud: None,
        })
    }
}

link_transport!(DeviceFileTransport);

/// A network printer on raw TCP (usually port 9100).
pub struct TcpTransport(LinkTransport<TcpStream>);

impl TcpTransport {
    pub fn new(address: &str, connect_timeout: Duration) -> TcpTransport {
        let addr = address.to_string();
        TcpTransport(LinkTransport {
            what: format!("tcp {address}"),
            open: Box::new(move || {
                let target = addr
                    .to_socket_addrs()?
                    .next()
                    .ok_or_else(|| io::Error::other("address resolves to nothing"))?;
                let s = TcpStream::connect_timeout(&target, connect_timeout)?;
                s.set_nodelay(true)?;
                s.set_write_timeout(Some(Duration::from_secs(10)))?;
                Ok(s)
            }),
            link: None,
            asb: None,
            baud: None,
        })
    }
}

link_transport!(TcpTransport);

/// Writes each job as `<name>.bin` (the exact bytes) and `<name>.png` (the preview) into a
/// folder. The demo's printer. A file `status` in the folder holding a status name
/// (`paper_out`, `cover_open`, ...) makes it report that, so faults can be shown without
/// hardware.
pub struct SpoolTransport {
    dir: PathBuf,
}

impl SpoolTransport {
    pub fn new(dir: &Path) -> SpoolTransport {
        SpoolTransport {
            dir: dir.to_path_buf(),
        }
    }
}

impl Transport for SpoolTransport {
    fn describe(&self) -> String {
        format!("spool {}", self.dir.display())
    }

    fn send(&mut self, job: &Job) -> Result<(), TransportError> {
        let err = |source| TransportError::Write {
            what: self.describe(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(err)?;
        // Write to a temporary name and rename, so a reader never sees half a job.
        let write = |ext: &str, data: &[u8]| -> io::Result<()> {
            let tmp = self.dir.join(format!(".{}.{ext}.tmp", job.name));
            std::fs::write(&tmp, data)?;
            std::fs::rename(&tmp, self.dir.join(format!("{}.{ext}", job.name)))
        };
        if let Some(png) = job.preview_png {
            write("png", png).map_err(err)?;
        }
        write("bin", job.bytes).map_err(err)
    }

    fn ask(&mut self, _n: u8, _timeout: Duration) -> Result<Option<u8>, TransportError> {
        Ok(None)
    }

    fn has_status(&self) -> bool {
        false
    }

    fn simulated_status(&self) -> Option<PrinterStatus> {
        let text = std::fs::read_to_string(self.dir.join("status")).ok()?;
        let name = text.trim();
        [
            PrinterStatus::Ready,
            PrinterStatus::PaperNearEnd,
            PrinterStatus::PaperOut,
            PrinterStatus::CoverOpen,
            PrinterStatus::Offline,
            PrinterStatus::Unreachable,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
        .or(Some(PrinterStatus::Ready))
    }
}

//! The printer on its own thread: print jobs queue up and run one at a time, so a slow serial
//! printer never blocks the UI thread or the async runtime. Callers await the result.

use std::sync::mpsc;

use tokio::sync::oneshot;

use super::{PrintError, PrintReport, PrinterStatus, TicketInfo, TicketPrinter};

enum Job {
    Print(
        Box<TicketInfo>,
        oneshot::Sender<Result<PrintReport, PrintError>>,
    ),
    Status(oneshot::Sender<PrinterStatus>),
    /// The watchdog's question: is the thread getting to its queue?
    Ping(oneshot::Sender<()>),
    /// Stop after the jobs queued before this one (the app is stopping).
    Shutdown,
}

/// A handle to the printer thread; cheap to clone.
#[derive(Clone)]
pub struct PrinterHandle {
    jobs: mpsc::Sender<Job>,
    describe: String,
}

/// The printer thread itself; join it after the last handle is gone to let it finish its queue.
pub struct PrinterThread(std::thread::JoinHandle<()>);

impl PrinterThread {
    pub fn join(self) {
        let _ = self.0.join();
    }
}

impl PrinterHandle {
    /// Start the printer thread. It finishes the queued jobs and ends when every handle is
    /// dropped.
    pub fn start(mut printer: TicketPrinter) -> std::io::Result<(PrinterHandle, PrinterThread)> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let describe = printer.describe();
        let thread = std::thread::Builder::new()
            .name("printer".into())
            .spawn(move || {
                for job in rx {
                    match job {
                        Job::Print(info, reply) => {
                            let _ = reply.send(printer.print(&info));
                        }
                        Job::Status(reply) => {
                            let _ = reply.send(printer.status());
                        }
                        Job::Ping(reply) => {
                            let _ = reply.send(());
                        }
                        Job::Shutdown => break,
                    }
                }
            })?;
        Ok((PrinterHandle { jobs, describe }, PrinterThread(thread)))
    }

    /// Stop the printer thread once the jobs already queued are printed.
    pub fn shutdown(&self) {
        let _ = self.jobs.send(Job::Shutdown);
    }

    /// Answers once the thread has reached this request in its queue (for the watchdog).
    pub fn ping(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        let _ = self.jobs.send(Job::Ping(tx));
        rx
    }

    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Print a ticket; a stopped printer thread reads as an unreachable printer.
    pub async fn print(&self, info: TicketInfo) -> Result<PrintReport, PrintError> {
        let (tx, rx) = oneshot::channel();
        if self.jobs.send(Job::Print(Box::new(info), tx)).is_err() {
            return Err(PrintError::Fault(PrinterStatus::Unreachable));
        }
        rx.await
            .unwrap_or(Err(PrintError::Fault(PrinterStatus::Unreachable)))
    }

    pub async fn status(&self) -> PrinterStatus {
        let (tx, rx) = oneshot::channel();
        if self.jobs.send(Job::Status(tx)).is_err() {
            return PrinterStatus::Unreachable;
        }
        rx.await.unwrap_or(PrinterStatus::Unreachable)
    }
}

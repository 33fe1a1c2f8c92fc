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
}

/// A handle to the printer thread; cheap to clone.
#[derive(Clone)]
pub struct PrinterHandle {
    jobs: mpsc::Sender<Job>,
    describe: String,
}

impl PrinterHandle {
    /// Start the printer thread. It ends when every handle is dropped.
    pub fn start(mut printer: TicketPrinter) -> PrinterHandle {
        let (jobs, rx) = mpsc::channel::<Job>();
        let describe = printer.describe();
        std::thread::Builder::new()
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
                    }
                }
            })
            .unwrap_or_else(|e| panic!("cannot start the printer thread: {e}"));
        PrinterHandle { jobs, describe }
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

//! `kiosk report send|backlog`: the outbox to the centre, by hand.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;

use super::ReportWhat;
use crate::config::Config;
use crate::store::Store;

pub fn run(config: Config, what: &ReportWhat) -> Result<ExitCode> {
    let config = Arc::new(config);
    match what {
        ReportWhat::Backlog => {
            let mut store = Store::open(&config.db_path)?;
            let tx = store.read()?;
            let (n, oldest) = tx.outbox_backlog()?;
            println!(
                "{n} event(s) to send{}",
                oldest
                    .map(|t| format!(", oldest from {t}"))
                    .unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        ReportWhat::Send => {
            let sender = crate::report::Sender::new(config)?;
            let runtime = tokio::runtime::Runtime::new()?;
            match runtime.block_on(sender.drain()) {
                Ok(n) => {
                    println!("sent {n} event(s)");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    tracing::error!(error = %e, "the outbox was not sent");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

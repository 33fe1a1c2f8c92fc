//! `kiosk bench ...`: measured figures (see `crate::bench`).

use std::process::ExitCode;

use anyhow::Result;

use super::{BenchWhat, print_result};
use crate::config::Config;

pub fn run(config: &Config, what: &BenchWhat) -> Result<ExitCode> {
    match what {
        BenchWhat::Ui { seconds, json } => {
            let report = crate::bench::bench_ui(config, *seconds)?;
            print_result(&report, *json, ToString::to_string)
        }
        BenchWhat::Report {
            events,
            points,
            json,
        } => {
            let report = crate::bench::bench_report(config, *events, *points)?;
            print_result(&report, *json, ToString::to_string)
        }
        BenchWhat::City {
            points,
            seconds,
            events_per_day,
            postgres_receivers,
            json,
        } => {
            let report =
                crate::bench::bench_city(*points, *seconds, *events_per_day, *postgres_receivers)?;
            print_result(&report, *json, ToString::to_string)
        }
        BenchWhat::Board {
            clients,
            calls,
            json,
        } => {
            let report = crate::bench::bench_board(config, *clients, *calls)?;
            print_result(&report, *json, ToString::to_string)
        }
        BenchWhat::Ticket { json } => {
            let rows = crate::bench::bench_ticket(config)?;
            print_result(&rows, *json, |r| crate::bench::render_ticket_sizes(r))
        }
        BenchWhat::Scan { n, json } => {
            let report = crate::bench::bench_scan(config, *n)?;
            print_result(&report, *json, ToString::to_string)
        }
        BenchWhat::Issue { n, json } => {
            let report = crate::bench::bench_issue(config, *n)?;
            print_result(&report, *json, ToString::to_string)
        }
    }
}

//! The citizen's path from a tap to paper, in one place: the hub commits the ticket, this module
//! says what the paper shows (`ticket_info`), the printer thread prints it, and the outcome
//! (`printed`, `printer_warning`, `printer_fault`) goes into the audit log beside the ticket.
//! The kiosk, the CLI and the benches all go through [`Ticketing`]; the printer knows nothing of
//! the hub and the hub nothing of the printer.
//!
//! Order matters and is kept here: a ticket is durable before any byte goes to the printer, so
//! a printer fault never loses a citizen's number (they are shown it on screen instead).

use std::sync::Arc;

use chrono::Utc;

use crate::config::{Config, Names};
use crate::domain::{EventKind, Ticket, WaitRange};
use crate::hub::{HubError, HubHandle, IssueRequest, Issued, Status};
use crate::printer::worker::PrinterHandle;
use crate::printer::{PrintError, PrintReport, PrinterStatus, TicketInfo};

/// A printed (or failed) ticket's result, as the printer thread answered.
pub type PrintResult = Result<PrintReport, PrintError>;

/// Issue, print and record, over a hub and a printer thread. Cheap to clone.
#[derive(Clone)]
pub struct Ticketing {
    pub config: Arc<Config>,
    pub hub: HubHandle,
    pub printer: PrinterHandle,
}

/// A ticket just committed by the hub, with what its paper will show.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub issued: Issued,
    pub info: TicketInfo,
}

impl Ticketing {
    pub fn new(config: Arc<Config>, hub: HubHandle, printer: PrinterHandle) -> Ticketing {
        Ticketing {
            config,
            hub,
            printer,
        }
    }

    /// Commit a new ticket. When this returns Ok the ticket is in the queue, printed or not.
    pub async fn issue(&self, req: IssueRequest) -> Result<NewTicket, HubError> {
        let issued = self.hub.issue_ticket(req).await?;
        let info = ticket_info(
            &self.config,
            &issued.ticket,
            issued.people_ahead,
            issued.wait,
        );
        Ok(NewTicket { issued, info })
    }

    /// Print a ticket's paper and record the outcome in the audit log. A failure to record is
    /// returned as the second value (the paper is out either way; the caller logs it).
    pub async fn print_and_record(
        &self,
        ticket: &Ticket,
        info: TicketInfo,
    ) -> (PrintResult, Option<HubError>) {
        let result = self.printer.print(info).await;
        let (kind, detail) = print_event(&result, self.printer.describe());
        let recorded = self
            .hub
            .record_device_event(kind, Some(ticket.clone()), detail)
            .await
            .err();
        (result, recorded)
    }

    /// Print today's ticket `code` again, marked "IN LẠI / REPRINT", with its position now.
    pub async fn reprint(&self, code: &str) -> Result<(Ticket, PrintResult), HubError> {
        let (ticket, people_ahead, wait) = self.hub.lookup(code).await?;
        let mut info = ticket_info(&self.config, &ticket, people_ahead, wait);
        info.reprint = true;
        let (result, recorded) = self.print_and_record(&ticket, info).await;
        if let Some(e) = recorded {
            tracing::warn!(ticket = %ticket.code, error = %e, "reprint outcome not recorded");
        }
        Ok((ticket, result))
    }
}

/// The audit-log event for a print attempt: `printed`, `printer_warning` (printed, paper near
/// end) or `printer_fault` (not printed), with what happened.
pub fn print_event(result: &PrintResult, transport: &str) -> (EventKind, serde_json::Value) {
    match result {
        Ok(r) if r.status == PrinterStatus::PaperNearEnd => (
            EventKind::PrinterWarning,
            serde_json::json!({ "status": r.status, "bytes": r.bytes, "transport": transport }),
        ),
        Ok(r) => (
            EventKind::Printed,
            serde_json::json!({ "status": r.status, "bytes": r.bytes, "transport": transport }),
        ),
        Err(e) => (
            EventKind::PrinterFault,
            serde_json::json!({ "status": e.status(), "error": e.to_string(), "transport": transport }),
        ),
    }
}

/// Fill the QR template: {site}, {day}, {code}, {id}; {token}, the ticket's link token for its
/// page on the centre (`report::track`, keyed by the reporting token; empty without one); and
/// {centre}, the reporting URL's scheme, host and port.
pub fn qr_payload(template: &str, config: &Config, ticket: &Ticket) -> String {
    let site = config.site.path();
    let mut out = template
        .replace("{site}", &site)
        .replace("{day}", &ticket.service_day.format("%Y-%m-%d").to_string())
        .replace("{code}", &ticket.code)
        .replace("{id}", &ticket.id.to_string());
    if out.contains("{token}") {
        let token = config
            .reporting
            .effective_token()
            .map(|t| crate::report::track::token(&t, &site, ticket.service_day, &ticket.code))
            .unwrap_or_default();
        out = out.replace("{token}", &token);
    }
    if out.contains("{centre}") {
        out = out.replace("{centre}", &centre_origin(config).unwrap_or_default());
    }
    out
}

/// `scheme://host[:port]` of the reporting URL.
fn centre_origin(config: &Config) -> Option<String> {
    let url = reqwest::Url::parse(config.reporting.url.as_deref()?).ok()?;
    Some(url.origin().ascii_serialization())
}

/// What the paper shows for a ticket with `people_ahead` before it and this wait estimate.
pub fn ticket_info(
    config: &Config,
    ticket: &Ticket,
    people_ahead: u32,
    wait: Option<WaitRange>,
) -> TicketInfo {
    let names = |n: Option<&Names>| {
        n.map(|n| (n.vi.clone(), n.en.clone()))
            .unwrap_or_else(|| (ticket.service_id.clone(), ticket.service_id.clone()))
    };
    let (service_vi, service_en) = names(config.service(&ticket.service_id).map(|s| &s.name));
    let priority = ticket
        .priority_group
        .as_deref()
        .and_then(|g| config.priority_group(g))
        .map(|g| (g.name.vi.clone(), g.name.en.clone()));
    TicketInfo {
        site_vi: config.site.name.vi.clone(),
        site_en: config.site.name.en.clone(),
        service_vi,
        service_en,
        code: ticket.code.clone(),
        priority,
        people_ahead,
        wait,
        issued_local: ticket
            .issued_at
            .with_timezone(&config.site.timezone)
            .naive_local(),
        counters: config
            .counters_for(&ticket.service_id)
            .map(|c| c.number)
            .collect(),
        qr_payload: config
            .printer
            .qr_payload
            .as_deref()
            .map(|tpl| qr_payload(tpl, config, ticket)),
        footer: config.printer.footer.clone(),
        reprint: false,
        procedure: None,
        booked: ticket.booked.as_ref().map(|b| {
            let local = |t: chrono::DateTime<Utc>| {
                t.with_timezone(&config.site.timezone)
                    .format("%H:%M")
                    .to_string()
            };
            crate::printer::layout::BookedNote {
                slot: format!("{}-{}", local(b.slot_start), local(b.slot_end)),
                code: crate::domain::display_booking_code(&b.code),
            }
        }),
    }
}

/// Why a preview cannot be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("unknown service \"{0}\"")]
    UnknownService(String),
    #[error("unknown priority group \"{0}\"")]
    UnknownPriorityGroup(String),
}

/// The paper the next citizen of `service` would get now, without issuing anything.
pub fn preview_next(
    config: &Config,
    status: &Status,
    service: &str,
    priority: Option<&str>,
) -> Result<TicketInfo, PreviewError> {
    let s = config
        .service(service)
        .ok_or_else(|| PreviewError::UnknownService(service.to_string()))?;
    if let Some(g) = priority
        && config.priority_group(g).is_none()
    {
        return Err(PreviewError::UnknownPriorityGroup(g.to_string()));
    }
    let queue = status.services.iter().find(|x| x.id == service);
    let number = queue.map_or(0, |x| x.counts.issued) + s.range.first;
    let ticket = Ticket {
        priority_group: priority.map(str::to_string),
        ..Ticket::waiting(
            status.service_day,
            &s.id,
            0,
            number,
            crate::domain::ticket_code(&s.prefix, number, config.number_width),
            Utc::now(),
        )
    };
    Ok(ticket_info(
        config,
        &ticket,
        queue.map_or(0, |x| x.counts.waiting),
        queue.and_then(|x| x.wait_for_new),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_template_fills_every_placeholder() {
        let config = Config::demo().unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let mut t = Ticket::waiting(day, "ho-tich", 1, 7, "A007".into(), Utc::now());
        t.id = 42;
        let p = qr_payload("{site}/{day}/{code}/{id}", &config, &t);
        assert_eq!(p, format!("{}/2026-12-01/A007/42", config.site.path()));
    }

    #[test]
    fn qr_link_carries_the_tickets_token_and_the_centres_address() {
        let mut config = Config::demo().unwrap();
        config.reporting.url = Some("https://hcc.example.vn:8443/api/v1/reports".into());
        config.reporting.token = Some("point-secret".into());
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let t = Ticket::waiting(day, "ho-tich", 1, 7, "A007".into(), Utc::now());
        let p = qr_payload("{centre}/ve?so={code}&k={token}", &config, &t);
        let want = crate::report::track::token("point-secret", &config.site.path(), day, "A007");
        if std::env::var("KIOSK_CENTRE_TOKEN").is_err() {
            assert_eq!(
                p,
                format!("https://hcc.example.vn:8443/ve?so=A007&k={want}")
            );
        }
        assert!(p.starts_with("https://hcc.example.vn:8443/ve?so=A007&k="));
    }

    #[test]
    fn a_fault_is_recorded_as_printer_fault_with_its_status() {
        let (kind, detail) = print_event(&Err(PrintError::Fault(PrinterStatus::PaperOut)), "spool");
        assert_eq!(kind, EventKind::PrinterFault);
        assert_eq!(detail["status"], "paper_out");
    }

    #[test]
    fn preview_refuses_unknown_services_and_groups() {
        let config = Config::demo().unwrap();
        let status = Status {
            site: config.site.path(),
            service_day: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            services: Vec::new(),
            last_calls: Vec::new(),
        };
        assert!(matches!(
            preview_next(&config, &status, "nope", None),
            Err(PreviewError::UnknownService(_))
        ));
        let id = &config.services[0].id;
        assert!(matches!(
            preview_next(&config, &status, id, Some("nope")),
            Err(PreviewError::UnknownPriorityGroup(_))
        ));
        let info = preview_next(&config, &status, id, None).unwrap();
        assert_eq!(info.people_ahead, 0);
    }
}

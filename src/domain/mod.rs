//! The queue's rules, pure: numbering, the ticket lifecycle, call-next with the priority ratio,
//! quotas, the service day and the wait estimate. No slint, tokio, rusqlite, axum or reqwest
//! here; time always comes in as an argument, so every rule is a plain unit test.

pub mod numbering;
pub mod priority;
pub mod quota;
pub mod service_day;
pub mod ticket;
pub mod wait;

pub use numbering::{IssuedSoFar, NumberRange, NumberingError, next_number, ticket_code};
pub use priority::{Candidate, NextCall, PriorityRule, choose_next};
pub use quota::{QuotaDenied, QuotaRule, check_quota};
pub use service_day::service_day;
pub use ticket::{Channel, LifecycleError, RecallOutcome, Ticket, TicketState};
pub use wait::{WaitRange, estimate_wait};

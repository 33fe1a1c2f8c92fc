//! The queue's rules, pure: numbering, the ticket lifecycle, call-next with the priority ratio,
//! quotas, the service day and the wait estimate; and the catalogue's `Procedure` as data. No slint, tokio, rusqlite, axum or reqwest
//! here; time always comes in as an argument, so every rule is a plain unit test.

pub mod booking;
pub mod dossier;
pub mod numbering;
pub mod priority;
pub mod procedure;
pub mod quota;
pub mod rating;
pub mod scan;
pub mod service_day;
pub mod ticket;
pub mod vocabulary;
pub mod wait;

pub use booking::{
    ArrivalOrder, CheckInTime, CheckInWindow, display_booking_code, parse_booking_code,
};
pub use dossier::{DossierCode, DossierCodeError, dossier_code_in, parse_dossier_code};
pub use numbering::{
    IssuedSoFar, NumberRange, NumberingError, next_number, split_code, ticket_code,
};
pub use priority::{Candidate, NextCall, PriorityRule, choose_next};
pub use procedure::{Procedure, SubmissionChannel};
pub use quota::{Held, QuotaDenied, QuotaRule, check_quota};
pub use rating::{RatingError, RatingInput, RatingReason, check_rating, circular_score};
pub use scan::{IdCard, Scan, ScanRefused};
pub use service_day::service_day;
pub use ticket::{Booked, Channel, LifecycleError, RecallOutcome, Ticket, TicketState};
pub use vocabulary::{EventKind, Reason};
pub use wait::{WaitRange, estimate_wait, estimate_wait_shared};

//! The LAN's JSON messages, one type per message, used by both ends: the hub's API serialises
//! them (`api::views` builds them), the board app, the lobby kiosk, the benches and the tests
//! read them back with the same types. The contract is docs/openapi.yaml. Plain data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::TicketState;

/// What a counter is doing, as boards show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterState {
    Idle,
    Called,
    Serving,
    Paused,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CounterBoard {
    pub number: u32,
    pub name_vi: String,
    pub name_en: String,
    /// The ticket called to or served at this counter now.
    pub code: Option<String>,
    pub state: CounterState,
    pub paused_reason: Option<String>,
    /// The ticket at the counter was booked online.
    #[serde(default)]
    pub booked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Call {
    pub event_id: i64,
    pub at: DateTime<Utc>,
    pub code: String,
    /// The code's letters and number ("A023" -> "A", 23), read once by the hub so that boards
    /// and speakers never parse codes themselves.
    pub letters: String,
    pub number: u32,
    pub counter: u32,
    pub counter_vi: String,
    pub counter_en: String,
    pub service_id: String,
    pub recall: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceBoard {
    pub id: String,
    pub prefix: String,
    pub name_vi: String,
    pub name_en: String,
    pub waiting: u32,
    /// The wait a citizen taking a number now is told (re-estimated at every change).
    #[serde(default)]
    pub wait_low_min: Option<u32>,
    #[serde(default)]
    pub wait_high_min: Option<u32>,
}

/// Everything a lobby board shows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Board {
    pub site_vi: String,
    pub site_en: String,
    pub service_day: chrono::NaiveDate,
    pub counters: Vec<CounterBoard>,
    /// Newest first.
    pub last_calls: Vec<Call>,
    pub services: Vec<ServiceBoard>,
    pub callout: bool,
    /// The point's offset from UTC now, in minutes: boards show the point's time whatever the
    /// screen's own time zone.
    #[serde(default)]
    pub utc_offset_minutes: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TicketView {
    pub code: String,
    pub service_id: String,
    pub priority_group: Option<String>,
    pub state: TicketState,
    pub arrived_at: DateTime<Utc>,
    pub waited_minutes: i64,
    pub recalls: u32,
    /// A number booked online: its slot, local "HH:MM-HH:MM".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booked_slot: Option<String>,
}

/// What the counter page shows: the counter, its current ticket and its queue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CounterView {
    pub number: u32,
    pub name_vi: String,
    pub name_en: String,
    pub services: Vec<ServiceBoard>,
    pub paused_reason: Option<String>,
    pub current: Option<TicketView>,
    /// Waiting tickets of the counter's services, oldest first (priority marked).
    pub queue: Vec<TicketView>,
    /// Every service of the point (transfer targets).
    pub all_services: Vec<ServiceBoard>,
    /// The point's priority groups, to show a ticket's group by name.
    #[serde(default)]
    pub priority_groups: Vec<PriorityGroupView>,
    /// Citizens' ratings of this counter today.
    #[serde(default)]
    pub ratings_today: crate::store::RatingSummary,
    /// How long the counter's rating screen stays up after "done" (`[rating] screen_seconds`).
    #[serde(default)]
    pub rating_screen_seconds: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PriorityGroupView {
    pub id: String,
    pub name_vi: String,
    pub name_en: String,
}

/// Where a dossier stands, as the one-stop system (or the reference receiver) answers a point's
/// lookup by its code (`GET /api/v1/dossiers/{code}` on the centre).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DossierStatus {
    pub code: String,
    /// The procedure's name (Vietnamese, as the catalogue has it).
    pub procedure: String,
    pub state: DossierState,
    /// The day the result is due, if set.
    pub expected: Option<chrono::NaiveDate>,
    /// Where to collect the result (a counter or desk), in both languages.
    pub collect_vi: String,
    pub collect_en: String,
    /// A fee still to pay when collecting, as printed ("50.000 đồng"); empty for none.
    pub fee_due: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DossierState {
    /// Received, waiting to be processed.
    Received,
    Processing,
    /// The citizen must add or correct papers.
    NeedsMore,
    /// The result is ready to collect.
    Ready,
    /// Already collected.
    Returned,
}

impl DossierState {
    pub fn describe_vi_en(self) -> (&'static str, &'static str) {
        match self {
            DossierState::Received => (
                "Đã tiếp nhận, đang chờ xử lý",
                "Received, waiting to be processed",
            ),
            DossierState::Processing => ("Đang giải quyết", "Being processed"),
            DossierState::NeedsMore => (
                "Cần bổ sung giấy tờ: mời bạn đến quầy để được hướng dẫn",
                "Papers to add: please come to a counter for guidance",
            ),
            DossierState::Ready => (
                "Đã có kết quả, mời bạn nhận",
                "The result is ready to collect",
            ),
            DossierState::Returned => ("Đã trả kết quả", "The result was collected"),
        }
    }
}

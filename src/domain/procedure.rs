//! A procedure of the national catalogue (thủ tục hành chính) as the kiosk uses it: what it
//! needs, how long it takes, how it can be submitted. Plain data shared by the store, the
//! catalogue reader, the assistant and the UI; no I/O.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    pub code: String,
    pub name: String,
    /// The procedure field (lĩnh vực), as the national catalogue names it.
    pub field: String,
    pub level: String,
    pub documents: Vec<String>,
    pub fee: String,
    pub time: String,
    pub steps: Vec<String>,
    /// Where it can be submitted online; empty when in person only.
    #[serde(default)]
    pub online: String,
    /// Ways to submit (in person, online, post) with their own time and fee.
    #[serde(default)]
    pub channels: Vec<SubmissionChannel>,
    /// "number: title" of each legal document it rests on.
    #[serde(default)]
    pub legal_basis: Vec<String>,
    /// The procedure's page on the national portal.
    #[serde(default)]
    pub url: String,
}

/// One way to submit a procedure: the form (Trực tiếp, Trực tuyến, Dịch vụ bưu chính), its
/// processing time and fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmissionChannel {
    pub form: String,
    pub time: String,
    pub fee: String,
    #[serde(default)]
    pub description: String,
}

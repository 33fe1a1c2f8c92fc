//! Per-citizen quota: how many tickets one person may take in a service day, across channels.
//! Pure: the caller passes the quota buckets of the tickets this person already holds today.
//!
//! Hanoi's iHanoi rule (at most 2 numbers a day, 1 per procedure field, kiosk and online
//! together) is the default. A bucket is the procedure field (lĩnh vực) a ticket is for when it
//! is known, otherwise the service (queue) it was issued for.

use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaRule {
    pub per_day: u32,
    pub per_bucket: u32,
}

/// One number a citizen already holds today, from any channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub bucket: String,
    /// What the citizen is told they hold: a ticket code ("A012") or a booking
    /// ("booking 123 456 7890 at 09:00"), in English and in Vietnamese.
    pub what: String,
    pub what_vi: String,
}

impl Held {
    pub fn new(bucket: &str, what: &str) -> Held {
        Held {
            bucket: bucket.to_string(),
            what: what.to_string(),
            what_vi: what.to_string(),
        }
    }
}

fn list(held: &[Held]) -> String {
    held.iter()
        .map(|h| h.what.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QuotaDenied {
    #[error(
        "this citizen already holds {} today ({held}); the limit is {limit} a day",
        list(holding)
    )]
    PerDay {
        held: u32,
        limit: u32,
        holding: Vec<Held>,
    },
    #[error(
        "this citizen already holds {} today for \"{bucket}\"; the limit is {limit}",
        list(holding)
    )]
    PerBucket {
        bucket: String,
        held: u32,
        limit: u32,
        holding: Vec<Held>,
    },
}

impl QuotaDenied {
    /// What the citizen already holds that the rule counted.
    pub fn holding(&self) -> &[Held] {
        match self {
            QuotaDenied::PerDay { holding, .. } | QuotaDenied::PerBucket { holding, .. } => holding,
        }
    }
}

/// May this citizen take one more number in `bucket`? `held` lists what they already hold
/// today, tickets and bookings together (cancelled ones excluded by the caller).
pub fn check_quota(rule: QuotaRule, held: &[Held], bucket: &str) -> Result<(), QuotaDenied> {
    let total = held.len() as u32;
    if total >= rule.per_day {
        return Err(QuotaDenied::PerDay {
            held: total,
            limit: rule.per_day,
            holding: held.to_vec(),
        });
    }
    let same: Vec<Held> = held
        .iter()
        .filter(|h| h.bucket == bucket)
        .cloned()
        .collect();
    if same.len() as u32 >= rule.per_bucket {
        return Err(QuotaDenied::PerBucket {
            bucket: bucket.to_string(),
            held: same.len() as u32,
            limit: rule.per_bucket,
            holding: same,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HANOI: QuotaRule = QuotaRule {
        per_day: 2,
        per_bucket: 1,
    };

    #[test]
    fn first_ticket_is_allowed() {
        assert_eq!(check_quota(HANOI, &[], "Hộ tịch"), Ok(()));
    }

    #[test]
    fn second_ticket_in_another_field_is_allowed() {
        assert_eq!(
            check_quota(HANOI, &[Held::new("Hộ tịch", "A001")], "Chứng thực"),
            Ok(())
        );
    }

    #[test]
    fn second_ticket_in_the_same_field_is_refused() {
        assert_eq!(
            check_quota(HANOI, &[Held::new("Hộ tịch", "A001")], "Hộ tịch"),
            Err(QuotaDenied::PerBucket {
                bucket: "Hộ tịch".into(),
                held: 1,
                limit: 1,
                holding: vec![Held::new("Hộ tịch", "A001")],
            })
        );
    }

    #[test]
    fn third_ticket_of_the_day_is_refused() {
        let held = vec![
            Held::new("Hộ tịch", "A001"),
            Held::new("Chứng thực", "booking 123 456 7890, 09:00"),
        ];
        let denied = check_quota(HANOI, &held, "Đất đai").unwrap_err();
        assert!(matches!(
            denied,
            QuotaDenied::PerDay {
                held: 2,
                limit: 2,
                ..
            }
        ));
        assert!(
            denied.to_string().contains("A001, booking 123 456 7890"),
            "{denied}"
        );
    }
}

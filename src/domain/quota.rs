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

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QuotaDenied {
    #[error("this citizen already has {held} ticket(s) today; the limit is {limit} a day")]
    PerDay { held: u32, limit: u32 },
    #[error(
        "this citizen already has {held} ticket(s) today for \"{bucket}\"; the limit is {limit}"
    )]
    PerBucket {
        bucket: String,
        held: u32,
        limit: u32,
    },
}

/// May this citizen take one more ticket in `bucket`? `held` lists the buckets of the tickets
/// they already hold today (cancelled ones excluded by the caller).
pub fn check_quota(rule: QuotaRule, held: &[String], bucket: &str) -> Result<(), QuotaDenied> {
    let total = held.len() as u32;
    if total >= rule.per_day {
        return Err(QuotaDenied::PerDay {
            held: total,
            limit: rule.per_day,
        });
    }
    let same = held.iter().filter(|b| b.as_str() == bucket).count() as u32;
    if same >= rule.per_bucket {
        return Err(QuotaDenied::PerBucket {
            bucket: bucket.to_string(),
            held: same,
            limit: rule.per_bucket,
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
            check_quota(HANOI, &["Hộ tịch".into()], "Chứng thực"),
            Ok(())
        );
    }

    #[test]
    fn second_ticket_in_the_same_field_is_refused() {
        assert_eq!(
            check_quota(HANOI, &["Hộ tịch".into()], "Hộ tịch"),
            Err(QuotaDenied::PerBucket {
                bucket: "Hộ tịch".into(),
                held: 1,
                limit: 1
            })
        );
    }

    #[test]
    fn third_ticket_of_the_day_is_refused() {
        let held = vec!["Hộ tịch".to_string(), "Chứng thực".to_string()];
        assert_eq!(
            check_quota(HANOI, &held, "Đất đai"),
            Err(QuotaDenied::PerDay { held: 2, limit: 2 })
        );
    }
}

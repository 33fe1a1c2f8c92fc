//! A citizen's rating of the service at a counter, pure: 1-5 (faces "Rất không hài lòng" to
//! "Rất hài lòng"), reasons asked at 3 or less, accepted only for a ticket finished at that
//! counter within the rating window, once. Tied to the ticket, counter and service, never to the
//! citizen (Decree 61/2018 Art. 27(3)). Mapped to Circular 01/2018's 2/1/0 for reports.

use chrono::{DateTime, Duration, Utc};

pub use super::vocabulary::RatingReason;
use super::{Ticket, TicketState};

/// The highest score at which reasons are asked (and accepted).
pub const REASONS_AT_MOST: u8 = 3;

/// What the rating screen sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingInput {
    pub score: u8,
    pub reasons: Vec<RatingReason>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    #[error("score {0} is not 1 to 5")]
    BadScore(u8),
    #[error("reasons are for a score of {REASONS_AT_MOST} or less, not {0}")]
    ReasonsOnHighScore(u8),
    #[error("ticket {code} is {state}, not done: only a finished service is rated")]
    NotFinished { code: String, state: &'static str },
    #[error("ticket {code} was served at counter {served}, not {asked}")]
    OtherCounter {
        code: String,
        served: u32,
        asked: u32,
    },
    #[error("the rating window for {code} closed {minutes} min after its service")]
    WindowClosed { code: String, minutes: i64 },
    #[error("ticket {code} is already rated")]
    AlreadyRated { code: String },
}

/// Check a rating of `ticket` from `counter` at `now`; `rated` says whether one exists.
pub fn check_rating(
    ticket: &Ticket,
    counter: u32,
    input: &RatingInput,
    now: DateTime<Utc>,
    window: Duration,
    rated: bool,
) -> Result<(), RatingError> {
    if !(1..=5).contains(&input.score) {
        return Err(RatingError::BadScore(input.score));
    }
    if input.score > REASONS_AT_MOST && !input.reasons.is_empty() {
        return Err(RatingError::ReasonsOnHighScore(input.score));
    }
    if ticket.state != TicketState::Done {
        return Err(RatingError::NotFinished {
            code: ticket.code.clone(),
            state: ticket.state.as_str(),
        });
    }
    let served = ticket.counter.unwrap_or(0);
    if served != counter {
        return Err(RatingError::OtherCounter {
            code: ticket.code.clone(),
            served,
            asked: counter,
        });
    }
    let finished = ticket.finished_at.unwrap_or(ticket.issued_at);
    if now - finished > window {
        return Err(RatingError::WindowClosed {
            code: ticket.code.clone(),
            minutes: window.num_minutes(),
        });
    }
    if rated {
        return Err(RatingError::AlreadyRated {
            code: ticket.code.clone(),
        });
    }
    Ok(())
}

/// Circular 01/2018's 2/1/0 for a 1-5 score, by the configured table (index 0 is score 1).
pub fn circular_score(score: u8, table: &[u8; 5]) -> u8 {
    table[usize::from(score.clamp(1, 5)) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Channel, Ticket};
    use chrono::TimeZone;

    fn done_at(counter: u32, at: DateTime<Utc>) -> Ticket {
        Ticket {
            id: 1,
            service_day: at.date_naive(),
            issued_service: "ho-tich".into(),
            seq: 1,
            number: 1,
            code: "A001".into(),
            service_id: "ho-tich".into(),
            priority_group: None,
            channel: Channel::Kiosk,
            state: TicketState::Done,
            counter: Some(counter),
            recalls: 0,
            arrived_at: at,
            issued_at: at,
            called_at: Some(at),
            serving_at: Some(at),
            finished_at: Some(at),
            booked: None,
        }
    }

    fn five() -> RatingInput {
        RatingInput {
            score: 5,
            reasons: vec![],
        }
    }

    #[test]
    fn a_finished_service_is_rated_once_within_the_window_at_its_counter() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap();
        let t = done_at(1, t0);
        let w = Duration::minutes(10);
        let at = t0 + Duration::minutes(2);
        assert_eq!(check_rating(&t, 1, &five(), at, w, false), Ok(()));
        assert!(matches!(
            check_rating(&t, 1, &five(), at, w, true),
            Err(RatingError::AlreadyRated { .. })
        ));
        assert!(matches!(
            check_rating(&t, 2, &five(), at, w, false),
            Err(RatingError::OtherCounter {
                served: 1,
                asked: 2,
                ..
            })
        ));
        assert!(matches!(
            check_rating(&t, 1, &five(), t0 + Duration::minutes(11), w, false),
            Err(RatingError::WindowClosed { .. })
        ));
        let mut waiting = t.clone();
        waiting.state = TicketState::Called;
        assert!(matches!(
            check_rating(&waiting, 1, &five(), at, w, false),
            Err(RatingError::NotFinished { .. })
        ));
    }

    #[test]
    fn scores_are_one_to_five_and_reasons_come_with_low_ones() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap();
        let t = done_at(1, t0);
        let w = Duration::minutes(10);
        let low = RatingInput {
            score: 2,
            reasons: vec![RatingReason::WaitedTooLong],
        };
        assert_eq!(check_rating(&t, 1, &low, t0, w, false), Ok(()));
        for score in [0, 6] {
            let bad = RatingInput {
                score,
                reasons: vec![],
            };
            assert_eq!(
                check_rating(&t, 1, &bad, t0, w, false),
                Err(RatingError::BadScore(score))
            );
        }
        let high = RatingInput {
            score: 4,
            reasons: vec![RatingReason::Other],
        };
        assert_eq!(
            check_rating(&t, 1, &high, t0, w, false),
            Err(RatingError::ReasonsOnHighScore(4))
        );
    }

    #[test]
    fn the_circular_scale_follows_the_configured_table() {
        let table = [0, 0, 1, 2, 2];
        assert_eq!(circular_score(1, &table), 0);
        assert_eq!(circular_score(3, &table), 1);
        assert_eq!(circular_score(5, &table), 2);
    }
}

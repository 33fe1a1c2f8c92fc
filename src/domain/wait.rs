//! Wait estimate for a new arrival: the queue-length predictor of Ibrahim & Whitt,
//! (n + 1) / (s * mu), shown as a range (0.8x to 1.0x) rather than a false-precise minute.
//! Pure: the caller passes the people ahead, the open counters and the mean service time.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitRange {
    pub low_minutes: u32,
    pub high_minutes: u32,
}

/// The expected wait of someone who finds `people_ahead` waiting, with `open_counters` serving
/// their queue at `mean_service_secs` each. `None` when no counter serves the queue now.
pub fn estimate_wait(
    people_ahead: u32,
    open_counters: u32,
    mean_service_secs: f64,
) -> Option<WaitRange> {
    if open_counters == 0 || !mean_service_secs.is_finite() || mean_service_secs < 0.0 {
        return None;
    }
    let high_secs = f64::from(people_ahead + 1) * mean_service_secs / f64::from(open_counters);
    // Nobody is called the instant they arrive; below half a minute is shown as 0-1 min.
    let high = (high_secs / 60.0).ceil().max(1.0) as u32;
    let low = (high_secs * 0.8 / 60.0).floor() as u32;
    Some(WaitRange {
        low_minutes: low.min(high),
        high_minutes: high,
    })
}

/// Exponentially smoothed service time: the new estimate after one more observed service.
pub fn smooth_service_time(previous_secs: f64, observed_secs: f64, weight: f64) -> f64 {
    previous_secs + weight * (observed_secs - previous_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_ahead_two_counters_six_minutes_each() {
        // (10 + 1) * 360 s / 2 = 1980 s = 33 min; low = 26.4 -> 26.
        assert_eq!(
            estimate_wait(10, 2, 360.0),
            Some(WaitRange {
                low_minutes: 26,
                high_minutes: 33
            })
        );
    }

    #[test]
    fn nobody_ahead_still_waits_for_one_service() {
        assert_eq!(
            estimate_wait(0, 1, 300.0),
            Some(WaitRange {
                low_minutes: 4,
                high_minutes: 5
            })
        );
    }

    #[test]
    fn no_open_counter_gives_no_estimate() {
        assert_eq!(estimate_wait(3, 0, 300.0), None);
    }

    #[test]
    fn smoothing_moves_towards_the_observation() {
        assert_eq!(smooth_service_time(300.0, 600.0, 0.2), 360.0);
    }
}

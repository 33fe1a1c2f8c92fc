//! The service day: which business day an instant belongs to, in the site's time zone.
//! Pure: takes the instant as an argument; depends on chrono only.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

/// The service day an instant belongs to. A day starts at `reset_hour` local time, so with a
/// reset at 03:00 a ticket issued at 01:30 still belongs to the previous day (late sessions),
/// and with the default 00:00 the service day is simply the local calendar date.
pub fn service_day(at: DateTime<Utc>, tz: Tz, reset_hour: u32) -> NaiveDate {
    let local = at.with_timezone(&tz);
    let date = local.date_naive();
    if local.hour() < reset_hour {
        date - Duration::days(1)
    } else {
        date
    }
}

/// The weekday of a service day as the config names it (mon..sun).
pub fn weekday_key(day: NaiveDate) -> &'static str {
    use chrono::Weekday::*;
    match day.weekday() {
        Mon => "mon",
        Tue => "tue",
        Wed => "wed",
        Thu => "thu",
        Fri => "fri",
        Sat => "sat",
        Sun => "sun",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn midnight_in_hanoi_is_17_00_utc() {
        let tz: Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        // 16:59 UTC on the 1st is 23:59 in Hanoi: still the 1st.
        assert_eq!(
            service_day(utc(2026, 3, 1, 16, 59), tz, 0),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
        // 17:00 UTC is 00:00 on the 2nd in Hanoi: a new service day.
        assert_eq!(
            service_day(utc(2026, 3, 1, 17, 0), tz, 0),
            NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
        );
    }

    #[test]
    fn utc_date_differs_from_hanoi_date_in_the_early_morning() {
        let tz: Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        // 07:30 in Hanoi on 2 March is 00:30 UTC on 2 March, but 06:30 Hanoi is 23:30 UTC on 1 March.
        assert_eq!(
            service_day(utc(2026, 3, 1, 23, 30), tz, 0),
            NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
        );
    }

    #[test]
    fn reset_hour_keeps_the_small_hours_in_the_previous_day() {
        let tz: Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        // 02:00 Hanoi on the 2nd (19:00 UTC on the 1st) with a 03:00 reset is still the 1st.
        assert_eq!(
            service_day(utc(2026, 3, 1, 19, 0), tz, 3),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
        // 03:00 Hanoi on the 2nd starts the 2nd.
        assert_eq!(
            service_day(utc(2026, 3, 1, 20, 0), tz, 3),
            NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
        );
    }

    #[test]
    fn weekday_keys_follow_the_calendar() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(); // a Monday
        assert_eq!(weekday_key(d), "mon");
        assert_eq!(weekday_key(d + Duration::days(6)), "sun");
    }
}

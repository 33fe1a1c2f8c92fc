//! Slowing down guessing and flooding on the LAN. Pure, with time as an argument.
//!
//! - `LoginThrottle`: counter PINs. Each counter and each client address has its own strikes:
//!   after `FREE_TRIES` wrong PINs in a row sign-in is locked, for 1 minute the first time and
//!   twice as long each time after, up to an hour; a right PIN during a lock is refused too (or
//!   the lock would tell nothing). A right PIN clears the counter's and the address's strikes;
//!   an hour of quiet after a lock ends forgives the locks. Tokens already handed out keep working,
//!   so a clerk who is signed in is not locked out by someone guessing.
//! - `RateLimit`: a token bucket per client address (tickets from the kiosk API).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Wrong PINs allowed in a row before a lock.
pub const FREE_TRIES: u32 = 5;
/// The first lock; each further one doubles, up to `MAX_LOCK`.
pub const FIRST_LOCK: Duration = Duration::from_secs(60);
pub const MAX_LOCK: Duration = Duration::from_secs(3600);
/// Quiet time after which past locks (counted from the end of the last) are forgiven.
pub const FORGIVE_AFTER: Duration = Duration::from_secs(3600);

/// Who is guessing: a counter being guessed at, or an address guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    Counter(u32),
    Address(IpAddr),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Counter(n) => write!(f, "counter {n}"),
            Subject::Address(a) => write!(f, "address {a}"),
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Strikes {
    /// Wrong PINs since the last lock (or success).
    failures: u32,
    /// Wrong PINs in all, since the last success (reported with a lock).
    total: u32,
    locks: u32,
    locked_until: Option<Instant>,
    last_failure: Option<Instant>,
}

/// A lock that has just begun: worth an event for the centre.
#[derive(Debug, Clone, PartialEq)]
pub struct Lock {
    pub subject: Subject,
    pub failures: u32,
    pub duration: Duration,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    strikes: HashMap<Subject, Strikes>,
}

impl LoginThrottle {
    pub fn new() -> LoginThrottle {
        LoginThrottle::default()
    }

    /// The time left on the longest lock among `subjects`, if any is locked at `now`.
    pub fn locked(&self, subjects: &[Subject], now: Instant) -> Option<Duration> {
        subjects
            .iter()
            .filter_map(|s| self.strikes.get(s)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max()
    }

    /// A wrong PIN: returns the locks it started.
    pub fn failed(&mut self, subjects: &[Subject], now: Instant) -> Vec<Lock> {
        self.forget_old(now);
        let mut started = Vec::new();
        for s in subjects {
            let st = self.strikes.entry(*s).or_default();
            // Quiet time forgives: an hour after the last lock ended (not after it began, or
            // the longest lock would forgive itself), and an hour after the last wrong PIN.
            if st
                .locked_until
                .is_some_and(|u| now >= u && now.duration_since(u) >= FORGIVE_AFTER)
            {
                st.locks = 0;
            }
            if st
                .last_failure
                .is_some_and(|t| now.duration_since(t) >= FORGIVE_AFTER)
            {
                st.failures = 0;
            }
            st.failures += 1;
            st.total += 1;
            st.last_failure = Some(now);
            if st.failures >= FREE_TRIES {
                let duration = FIRST_LOCK
                    .saturating_mul(1u32 << st.locks.min(10))
                    .min(MAX_LOCK);
                st.locks += 1;
                st.failures = 0;
                st.locked_until = Some(now + duration);
                started.push(Lock {
                    subject: *s,
                    failures: st.total,
                    duration,
                });
            }
        }
        started
    }

    /// A right PIN outside any lock: the slate is clean again.
    pub fn succeeded(&mut self, subjects: &[Subject]) {
        for s in subjects {
            self.strikes.remove(s);
        }
    }

    /// Keep the table small: addresses quiet for a long time and unlocked are dropped.
    fn forget_old(&mut self, now: Instant) {
        if self.strikes.len() < 4096 {
            return;
        }
        self.strikes.retain(|_, st| {
            st.locked_until.is_some_and(|u| u > now)
                || st
                    .last_failure
                    .is_some_and(|t| now.duration_since(t) < FORGIVE_AFTER)
        });
    }
}

/// A token bucket per address: `per_minute` requests a minute, in bursts of up to a tenth of
/// that (at least 3).
#[derive(Debug)]
pub struct RateLimit {
    per_minute: u32,
    buckets: HashMap<IpAddr, (f64, Instant)>,
}

impl RateLimit {
    pub fn new(per_minute: u32) -> RateLimit {
        RateLimit {
            per_minute: per_minute.max(1),
            buckets: HashMap::new(),
        }
    }

    fn burst(&self) -> f64 {
        f64::from((self.per_minute / 10).max(3))
    }

    /// Take one; `Err(wait)` when the address must wait that long first.
    pub fn take(&mut self, from: IpAddr, now: Instant) -> Result<(), Duration> {
        let rate = f64::from(self.per_minute) / 60.0;
        let burst = self.burst();
        if self.buckets.len() >= 4096 {
            self.buckets
                .retain(|_, (_, t)| now.duration_since(*t) < Duration::from_secs(600));
        }
        let (tokens, last) = self.buckets.entry(from).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 66));

    /// An attacker who tries a PIN the moment each lock ends, for a working day: how many PINs
    /// can they test against one counter?
    fn tries_in(span: Duration) -> u32 {
        let mut t = LoginThrottle::new();
        let subjects = [Subject::Counter(1), Subject::Address(ADDR)];
        let start = Instant::now();
        let mut now = start;
        let mut tries = 0;
        while now < start + span {
            match t.locked(&subjects, now) {
                Some(wait) => now += wait,
                None => {
                    tries += 1;
                    t.failed(&subjects, now);
                    now += Duration::from_millis(1);
                }
            }
        }
        tries
    }

    #[test]
    fn brute_force_takes_longer_than_a_working_day() {
        let day = tries_in(Duration::from_secs(8 * 3600));
        println!("PIN tries against one counter in an 8-hour day: {day}");
        // Without the throttle: ~4,000 tries a second (measured against the hub), so every
        // 4-digit PIN in under 3 s. With it:
        assert!(day < 100, "{day} tries in 8 h");
        // Half the 10,000 4-digit PINs, on average, to find one: days, not seconds.
        let days_to_find = 5_000.0 / f64::from(day);
        assert!(days_to_find > 50.0, "{days_to_find} working days");
    }

    #[test]
    fn locks_start_after_five_and_grow() {
        let mut t = LoginThrottle::new();
        let s = [Subject::Counter(3)];
        let now = Instant::now();
        for i in 0..4 {
            assert!(t.failed(&s, now).is_empty(), "try {i}");
            assert_eq!(t.locked(&s, now), None);
        }
        let locks = t.failed(&s, now);
        assert_eq!(locks.len(), 1);
        assert_eq!(locks[0].duration, FIRST_LOCK);
        assert!(t.locked(&s, now).is_some());
        let later = now + FIRST_LOCK;
        assert_eq!(t.locked(&s, later), None);
        for _ in 0..4 {
            t.failed(&s, later);
        }
        assert_eq!(t.failed(&s, later)[0].duration, FIRST_LOCK * 2);
        // A success clears it; quiet time forgives past locks.
        t.succeeded(&s);
        assert_eq!(t.locked(&s, later), None);
    }

    #[test]
    fn an_address_is_locked_across_counters() {
        let mut t = LoginThrottle::new();
        let now = Instant::now();
        for n in 1..=5 {
            t.failed(&[Subject::Counter(n), Subject::Address(ADDR)], now);
        }
        assert!(
            t.locked(&[Subject::Counter(6), Subject::Address(ADDR)], now)
                .is_some()
        );
        assert!(t.locked(&[Subject::Counter(6)], now).is_none());
    }

    #[test]
    fn the_bucket_allows_bursts_then_the_rate() {
        let mut r = RateLimit::new(30);
        let now = Instant::now();
        for _ in 0..3 {
            assert!(r.take(ADDR, now).is_ok());
        }
        let wait = r.take(ADDR, now).unwrap_err();
        assert!(
            wait <= Duration::from_secs(2) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(r.take(ADDR, now + Duration::from_secs(2)).is_ok());
        // A minute of flooding gets about the rate, not more.
        let mut ok = 0;
        let mut t = now + Duration::from_secs(10);
        for _ in 0..60_000 {
            if r.take(ADDR, t).is_ok() {
                ok += 1;
            }
            t += Duration::from_millis(1);
        }
        assert!((29..=34).contains(&ok), "{ok} in a minute");
        let other = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 7));
        assert!(r.take(other, t).is_ok(), "each address has its own bucket");
    }
}

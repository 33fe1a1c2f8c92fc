//! Which waiting ticket a counter calls next: arrival order across the counter's services, with
//! the priority ratio rule. Pure: the caller passes the candidates and the counter's streak.
//!
//! The rule, after complaints in other systems that priority tickets either sink to the end or
//! jump the whole queue (novosga #281, #431): the oldest ticket is called, except that once
//! `normal_per_priority` normal tickets in a row have been called at this counter while a
//! priority ticket was waiting, the oldest priority ticket is called. A priority ticket that is
//! also the oldest is simply called in its turn. So a priority citizen waits at most
//! `normal_per_priority` calls of any counter that serves them, and normal citizens lose at most
//! one place in `normal_per_priority + 1` calls: nobody starves.

use chrono::{DateTime, Utc};

/// A waiting ticket as call-next sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub ticket_id: i64,
    pub arrived_at: DateTime<Utc>,
    pub priority: bool,
}

/// The ratio rule from config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriorityRule {
    /// Normal tickets called in a row (while a priority ticket waits) before a priority one.
    /// 0 means strict priority first.
    pub normal_per_priority: u32,
}

/// The decision: which ticket, and the counter's new streak of normal calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextCall {
    pub ticket_id: i64,
    pub normal_streak: u32,
}

fn arrival_key(c: &Candidate) -> (DateTime<Utc>, i64) {
    (c.arrived_at, c.ticket_id)
}

/// Choose the next ticket for a counter from the tickets waiting in the services it serves.
/// `normal_streak` counts normal tickets the counter called in a row while priority ones waited.
pub fn choose_next(
    candidates: &[Candidate],
    normal_streak: u32,
    rule: PriorityRule,
) -> Option<NextCall> {
    let oldest = candidates.iter().min_by_key(|c| arrival_key(c))?;
    if oldest.priority {
        return Some(NextCall {
            ticket_id: oldest.ticket_id,
            normal_streak: 0,
        });
    }
    let oldest_priority = candidates
        .iter()
        .filter(|c| c.priority)
        .min_by_key(|c| arrival_key(c));
    match oldest_priority {
        Some(p) if normal_streak >= rule.normal_per_priority => Some(NextCall {
            ticket_id: p.ticket_id,
            normal_streak: 0,
        }),
        // A normal call only counts towards the streak when a priority ticket was passed over.
        Some(_) => Some(NextCall {
            ticket_id: oldest.ticket_id,
            normal_streak: normal_streak + 1,
        }),
        None => Some(NextCall {
            ticket_id: oldest.ticket_id,
            normal_streak: 0,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use rand::{Rng, SeedableRng, rngs::StdRng};
    use std::collections::HashMap;

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap() + Duration::minutes(minute)
    }

    fn normal(id: i64, minute: i64) -> Candidate {
        Candidate {
            ticket_id: id,
            arrived_at: at(minute),
            priority: false,
        }
    }

    fn prio(id: i64, minute: i64) -> Candidate {
        Candidate {
            ticket_id: id,
            arrived_at: at(minute),
            priority: true,
        }
    }

    const TWO_TO_ONE: PriorityRule = PriorityRule {
        normal_per_priority: 2,
    };

    /// Call everything, returning the order.
    fn drain(mut queue: Vec<Candidate>, rule: PriorityRule) -> Vec<i64> {
        let mut streak = 0;
        let mut order = vec![];
        while let Some(next) = choose_next(&queue, streak, rule) {
            streak = next.normal_streak;
            order.push(next.ticket_id);
            queue.retain(|c| c.ticket_id != next.ticket_id);
        }
        order
    }

    #[test]
    fn empty_queue_calls_nobody() {
        assert_eq!(choose_next(&[], 0, TWO_TO_ONE), None);
    }

    #[test]
    fn arrival_order_without_priority() {
        let q = vec![normal(3, 2), normal(1, 0), normal(2, 1)];
        assert_eq!(drain(q, TWO_TO_ONE), vec![1, 2, 3]);
    }

    #[test]
    fn call_next_serves_priority_after_two_normal() {
        // Five normal tickets arrived before the priority one.
        let q = vec![
            normal(1, 0),
            normal(2, 1),
            normal(3, 2),
            normal(4, 3),
            normal(5, 4),
            prio(6, 5),
        ];
        assert_eq!(drain(q, TWO_TO_ONE), vec![1, 2, 6, 3, 4, 5]);
    }

    #[test]
    fn priority_does_not_jump_the_whole_queue() {
        let q = vec![
            normal(1, 0),
            normal(2, 1),
            normal(3, 2),
            prio(4, 3),
            prio(5, 4),
            prio(6, 5),
        ];
        // 1, 2, then a priority, then 3 (the streak restarts), then priorities in arrival order.
        assert_eq!(drain(q, TWO_TO_ONE), vec![1, 2, 4, 3, 5, 6]);
    }

    #[test]
    fn an_older_priority_ticket_is_called_in_its_turn() {
        let q = vec![prio(1, 0), normal(2, 1)];
        assert_eq!(drain(q, TWO_TO_ONE), vec![1, 2]);
    }

    #[test]
    fn streak_only_grows_while_a_priority_ticket_waits() {
        let next = choose_next(&[normal(1, 0)], 5, TWO_TO_ONE).unwrap();
        assert_eq!(next.normal_streak, 0);
    }

    #[test]
    fn ratio_zero_means_priority_first() {
        let q = vec![normal(1, 0), normal(2, 1), prio(3, 2)];
        assert_eq!(
            drain(
                q,
                PriorityRule {
                    normal_per_priority: 0
                }
            ),
            vec![3, 1, 2]
        );
    }

    #[test]
    fn equal_arrival_times_fall_back_to_ticket_id() {
        let q = vec![normal(2, 0), normal(1, 0)];
        assert_eq!(drain(q, TWO_TO_ONE), vec![1, 2]);
    }

    /// A long random day: arrivals and calls interleave, a third of arrivals are priority.
    /// Nobody waits forever: a priority ticket is passed over by at most `ratio` normal calls,
    /// and a normal ticket is overtaken by at most one later priority ticket per `ratio + 1` calls.
    #[test]
    fn no_starvation_in_a_long_random_run() {
        for seed in 0..20u64 {
            let mut rng = StdRng::seed_from_u64(seed);
            let rule = PriorityRule {
                normal_per_priority: rng.random_range(1..=3),
            };
            let ratio = rule.normal_per_priority as usize;
            let mut queue: Vec<Candidate> = vec![];
            let mut streak = 0;
            let mut next_id = 1;
            // calls made while each waiting ticket waited, and by whom it was overtaken
            let mut passed_over: HashMap<i64, usize> = HashMap::new();
            let mut priority_calls_waited: HashMap<i64, usize> = HashMap::new();
            let mut overtaken_by_later: HashMap<i64, usize> = HashMap::new();
            let mut calls_waited: HashMap<i64, usize> = HashMap::new();
            for step in 0..5_000i64 {
                // Arrivals slightly outpace calls in bursts, then calls catch up.
                let arrivals = if (step / 200) % 2 == 0 {
                    rng.random_range(0..=2)
                } else {
                    rng.random_range(0..=1)
                };
                for _ in 0..arrivals {
                    let c = Candidate {
                        ticket_id: next_id,
                        arrived_at: at(step),
                        priority: rng.random_bool(0.33),
                    };
                    next_id += 1;
                    queue.push(c);
                }
                let Some(next) = choose_next(&queue, streak, rule) else {
                    continue;
                };
                streak = next.normal_streak;
                let chosen = *queue
                    .iter()
                    .find(|c| c.ticket_id == next.ticket_id)
                    .unwrap();
                queue.retain(|c| c.ticket_id != chosen.ticket_id);
                for w in &queue {
                    *calls_waited.entry(w.ticket_id).or_default() += 1;
                    if w.priority && !chosen.priority {
                        *passed_over.entry(w.ticket_id).or_default() += 1;
                    }
                    if w.priority && chosen.priority {
                        *priority_calls_waited.entry(w.ticket_id).or_default() += 1;
                    }
                    if !w.priority && arrival_key(&chosen) > arrival_key(w) {
                        *overtaken_by_later.entry(w.ticket_id).or_default() += 1;
                    }
                }
            }
            // Between two priority calls at most `ratio` normal tickets are called, so a priority
            // ticket is passed over by at most `ratio` normal calls per priority ticket called
            // ahead of it, plus `ratio` before its own call.
            for (id, normals) in &passed_over {
                let ahead = priority_calls_waited.get(id).copied().unwrap_or(0);
                assert!(
                    *normals <= ratio * (ahead + 1),
                    "seed {seed}: priority ticket {id} passed over by {normals} normal calls \
                     with {ahead} priority calls ahead (ratio {ratio})"
                );
            }
            for (id, overtaken) in &overtaken_by_later {
                let waited = calls_waited[id];
                assert!(
                    *overtaken <= waited / (ratio + 1) + 1,
                    "seed {seed}: normal ticket {id} overtaken {overtaken} times in {waited} calls"
                );
            }
            // Everything still waiting at the end is drained in bounded time.
            let left = queue.len();
            assert_eq!(drain(queue, rule).len(), left);
        }
    }
}

//! Each worker's share of a phase, computed the same way on every side: users split as
//! integers with the remainder going to the lowest worker indexes, rates and spawn rates
//! split evenly, and a payload seed per worker derived from the run's seed.

#![deny(missing_docs)]

use std::num::NonZeroU32;

use crate::engine::Steer;
use crate::profile::{Load, Phase};

/// `total` split over `workers`: worker `index` (0-based) gets this many.
pub fn integer_share(total: u32, index: u32, workers: u32) -> u32 {
    let workers = workers.max(1);
    total / workers + u32::from(index < total % workers)
}

/// Worker `index`'s share of `phase`, or `None` when it gets no users in it (fewer users
/// than workers): it then sits the phase out.
pub fn share(phase: &Phase, index: u32, workers: u32) -> Option<Phase> {
    let n = f64::from(workers.max(1));
    let mut mine = phase.clone();
    mine.load = match &phase.load {
        Load::Closed { users, spawn_rate_per_s } => {
            let users = NonZeroU32::new(integer_share(users.get(), index, workers))?;
            Load::Closed { users, spawn_rate_per_s: spawn_rate_per_s / n }
        }
        Load::Open { rate_from_per_s, rate_to_per_s, max_in_flight } => Load::Open {
            rate_from_per_s: rate_from_per_s / n,
            rate_to_per_s: rate_to_per_s / n,
            max_in_flight: NonZeroU32::new(integer_share(max_in_flight.get(), index, workers))
                .unwrap_or(NonZeroU32::MIN),
        },
    };
    Some(mine)
}

/// Worker `index`'s share of a steering request (lengths are the same for everyone).
pub fn steer_share(steer: Steer, index: u32, workers: u32) -> Steer {
    match steer {
        Steer::Users(n) => Steer::Users(integer_share(n, index, workers)),
        Steer::ArrivalRate(r) => Steer::ArrivalRate(r / f64::from(workers.max(1))),
        Steer::Extend(d) => Steer::Extend(d),
    }
}

/// The payload seed of worker `index`: distinct streams per worker, reproducible per run seed.
pub fn worker_seed(run_seed: u64, index: u32) -> u64 {
    // splitmix64 of (seed + index · golden ratio): neighbouring workers differ in every bit.
    let mut z = run_seed.wrapping_add((u64::from(index) + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_split_with_the_remainder_to_the_lowest_indexes() {
        let shares: Vec<u32> = (0..3).map(|i| integer_share(10, i, 3)).collect();
        assert_eq!(shares, vec![4, 3, 3]);
        let shares: Vec<u32> = (0..4).map(|i| integer_share(2, i, 4)).collect();
        assert_eq!(shares, vec![1, 1, 0, 0]);
        for total in 0..50 {
            for workers in 1..7 {
                let sum: u32 = (0..workers).map(|i| integer_share(total, i, workers)).sum();
                assert_eq!(sum, total, "{total} over {workers}");
            }
        }
    }

    #[test]
    fn phases_split_by_model() {
        let profile = crate::profile::load("smoke", None).unwrap();
        let mut phase = profile.phases[0].clone();
        phase.load = Load::Closed { users: NonZeroU32::new(5).unwrap(), spawn_rate_per_s: 6.0 };
        let a = share(&phase, 0, 3).unwrap();
        assert_eq!(a.load, Load::Closed { users: NonZeroU32::new(2).unwrap(), spawn_rate_per_s: 2.0 });
        let c = share(&phase, 2, 3).unwrap();
        assert_eq!(c.load, Load::Closed { users: NonZeroU32::new(1).unwrap(), spawn_rate_per_s: 2.0 });
        assert!(share(&phase, 5, 6).is_none(), "a sixth worker has no user of five");
        phase.load = Load::Open {
            rate_from_per_s: 300.0,
            rate_to_per_s: 600.0,
            max_in_flight: NonZeroU32::new(100).unwrap(),
        };
        let b = share(&phase, 1, 3).unwrap();
        assert_eq!(
            b.load,
            Load::Open {
                rate_from_per_s: 100.0,
                rate_to_per_s: 200.0,
                max_in_flight: NonZeroU32::new(33).unwrap()
            }
        );
    }

    #[test]
    fn seeds_are_reproducible_and_distinct() {
        assert_eq!(worker_seed(42, 1), worker_seed(42, 1));
        assert_ne!(worker_seed(42, 0), worker_seed(42, 1));
        assert_ne!(worker_seed(42, 0), worker_seed(43, 0));
        assert_eq!(steer_share(Steer::Users(7), 0, 2), Steer::Users(4));
        assert_eq!(steer_share(Steer::Users(7), 1, 2), Steer::Users(3));
    }
}

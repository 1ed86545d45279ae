//! The bootstrap's random numbers: SplitMix64, written here rather than taken from `rand`
//! so that a given seed gives the same intervals whatever version of `rand` the crate uses
//! (`gen_range`'s algorithm has changed between `rand` releases).

/// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit state stepped by the golden-ratio gamma
/// and mixed on output. Plenty for drawing indices; not for anything secret.
pub(super) struct SplitMix64 {
    state: u64,
}

const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl SplitMix64 {
    /// One independent stream per `(seed, stream)`. The seed is mixed first: two plain
    /// SplitMix64 states that differ by a multiple of the gamma would replay each other.
    pub(super) fn new(seed: u64, stream: u64) -> Self {
        Self { state: mix(seed ^ mix(stream.wrapping_add(GAMMA))) }
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix(self.state)
    }

    /// A uniform index below `n` (n > 0) by Lemire's multiply-shift; its bias is below
    /// n / 2^64, far under anything a few thousand resamples could show.
    pub(super) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = SplitMix64::new(1, 0);
                move |_| r.next_u64()
            })
            .collect();
        let again: Vec<u64> = (0..4)
            .map({
                let mut r = SplitMix64::new(1, 0);
                move |_| r.next_u64()
            })
            .collect();
        let other: Vec<u64> = (0..4)
            .map({
                let mut r = SplitMix64::new(1, 1);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, again);
        assert!(a.iter().all(|x| !other.contains(x)));
    }

    #[test]
    fn below_covers_the_range_evenly() {
        let mut r = SplitMix64::new(42, 0);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[r.below(10)] += 1;
        }
        assert!(counts.iter().all(|c| (9_500..=10_500).contains(c)), "{counts:?}");
    }
}

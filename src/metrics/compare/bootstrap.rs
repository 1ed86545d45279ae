//! Resampling a phase's seconds fast. Each second's histogram becomes a cumulative count
//! over one sorted grid of the values recorded anywhere in the phase, so "responses at or
//! below grid value g in a resample" is a sum of one lookup per drawn second, and a
//! quantile is a binary search over the grid: no histogram is ever added up per resample.

use super::SecondSample;
use super::rng::SplitMix64;

/// Cells (seconds × grid values) kept before the grid is coarsened: 4 M cells = 32 MiB.
/// A 300-second phase with a wide latency spread needs about 1 M.
const CELL_BUDGET: usize = 4 << 20;

/// One second over the grid: below `lo` nothing was recorded; from `lo + cum.len()` on,
/// everything (`total`) was.
struct SecondCdf {
    lo: usize,
    cum: Vec<u64>,
    total: u64,
}

impl SecondCdf {
    #[inline]
    fn at_or_below(&self, g: usize) -> u64 {
        if g < self.lo { 0 } else { self.cum.get(g - self.lo).copied().unwrap_or(self.total) }
    }
}

/// A phase's seconds, ready to resample.
pub(super) struct Prepared {
    /// Ascending grid values in microseconds (the top of each grid cell).
    grid_us: Vec<u64>,
    seconds: Vec<SecondCdf>,
    lengths_s: Vec<f64>,
}

/// The statistics of one (re)sample: req/s, then the latency quantiles asked for, in ms.
/// `None` where the sample has no time or no response.
pub(super) type Stats = (Option<f64>, Vec<Option<f64>>);

impl Prepared {
    pub(super) fn new(samples: &[SecondSample]) -> Self {
        Self::with_budget(samples, CELL_BUDGET)
    }

    fn with_budget(samples: &[SecondSample], cell_budget: usize) -> Self {
        let recorded: Vec<&[(u64, u64)]> = samples.iter().map(|s| s.values_us.as_slice()).collect();
        let mut values: Vec<u64> = recorded.iter().flat_map(|r| r.iter().map(|(v, _)| *v)).collect();
        values.sort_unstable();
        values.dedup();
        let index_of = |v: u64| values.partition_point(|x| *x < v);
        // Each second's first and last grid index. Taken as min and max rather than first
        // and last entry, so values handed over out of order cannot underflow a width.
        let span = |rec: &[(u64, u64)]| -> Option<(usize, usize)> {
            let lo = rec.iter().map(|(v, _)| index_of(*v)).min()?;
            let hi = rec.iter().map(|(v, _)| index_of(*v)).max()?;
            Some((lo, hi))
        };
        // How wide each second's cumulative row is at full resolution; coarsen past the budget.
        let cells: usize = recorded.iter().filter_map(|r| span(r)).map(|(lo, hi)| hi - lo + 1).sum();
        let step = cells.div_ceil(cell_budget.max(1)).max(1);
        // Cell c covers values[c*step ..= c*step + step - 1]; it reports its top value, so a
        // coarsened quantile errs upwards by less than one cell.
        let grid_us: Vec<u64> = values.chunks(step).filter_map(|c| c.last().copied()).collect();
        let seconds = recorded
            .iter()
            .map(|rec| {
                let total: u64 = rec.iter().map(|(_, n)| n).sum();
                let Some((lo, hi)) = span(rec) else {
                    return SecondCdf { lo: 0, cum: Vec::new(), total: 0 };
                };
                let (lo, hi) = (lo / step, hi / step);
                let mut cum = vec![0u64; hi - lo + 1];
                for (v, n) in rec.iter() {
                    cum[index_of(*v) / step - lo] += n;
                }
                let mut running = 0u64;
                for c in &mut cum {
                    running += *c;
                    *c = running;
                }
                SecondCdf { lo, cum, total }
            })
            .collect();
        let lengths_s = samples.iter().map(|s| s.length_s.max(0.0)).collect();
        Self { grid_us, seconds, lengths_s }
    }

    pub(super) fn len(&self) -> usize {
        self.seconds.len()
    }

    /// Statistics with every second once: the point estimates.
    pub(super) fn full(&self, quantiles: &[f64]) -> Stats {
        let all: Vec<(usize, u64)> = (0..self.len()).map(|i| (i, 1)).collect();
        self.stats(&all, quantiles)
    }

    /// `resamples` bootstrap replicates, each drawing `len()` seconds with replacement.
    pub(super) fn replicates(&self, quantiles: &[f64], resamples: usize, rng: &mut SplitMix64) -> Vec<Stats> {
        let n = self.len();
        let mut multiplicity = vec![0u64; n];
        let mut drawn: Vec<(usize, u64)> = Vec::with_capacity(n);
        (0..resamples)
            .map(|_| {
                multiplicity.iter_mut().for_each(|m| *m = 0);
                for _ in 0..n {
                    multiplicity[rng.below(n)] += 1;
                }
                drawn.clear();
                drawn.extend(multiplicity.iter().enumerate().filter(|(_, m)| **m > 0).map(|(i, m)| (i, *m)));
                self.stats(&drawn, quantiles)
            })
            .collect()
    }

    /// The statistics of the sum of the drawn seconds, each counted `multiplicity` times.
    fn stats(&self, drawn: &[(usize, u64)], quantiles: &[f64]) -> Stats {
        let responses: u64 = drawn.iter().map(|(i, m)| m * self.seconds[*i].total).sum();
        let time_s: f64 = drawn.iter().map(|(i, m)| *m as f64 * self.lengths_s[*i]).sum();
        let rps = (time_s > 0.0).then(|| responses as f64 / time_s);
        if responses == 0 || self.grid_us.is_empty() {
            return (rps, vec![None; quantiles.len()]);
        }
        // Quantiles asked in ascending order can start their search at the previous one.
        let ascending = quantiles.windows(2).all(|w| w[0] <= w[1]);
        let mut from = 0;
        let values = quantiles
            .iter()
            .map(|q| {
                // HdrHistogram's rule: the first value whose cumulative count reaches ⌈q·n⌉ (at least 1).
                let wanted = ((q.clamp(0.0, 1.0) * responses as f64).ceil() as u64).max(1);
                let g = self.first_reaching(drawn, wanted, from);
                if ascending {
                    from = g;
                }
                Some(self.grid_us[g] as f64 / 1000.0)
            })
            .collect();
        (rps, values)
    }

    /// Smallest grid index at or after `from` whose cumulative count reaches `wanted`.
    fn first_reaching(&self, drawn: &[(usize, u64)], wanted: u64, from: usize) -> usize {
        let count =
            |g: usize| -> u64 { drawn.iter().map(|(i, m)| m * self.seconds[*i].at_or_below(g)).sum() };
        let (mut lo, mut hi) = (from, self.grid_us.len() - 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if count(mid) >= wanted {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::LatencyHistogram;

    fn spread(seconds: u64) -> Vec<SecondSample> {
        (0..seconds)
            .map(|s| {
                let mut h = LatencyHistogram::new();
                for i in 0..500u64 {
                    h.record_us(1_000 + (i * 7_919 + s * 104_729) % 200_000);
                }
                SecondSample::new(1.0, &h)
            })
            .collect()
    }

    #[test]
    fn a_coarsened_grid_errs_upwards_by_less_than_a_cell() {
        let samples = spread(20);
        let exact = Prepared::new(&samples).full(&[0.5, 0.99]).1;
        let coarse = Prepared::with_budget(&samples, 2_000);
        assert!(coarse.grid_us.len() < 400, "the budget coarsened the grid: {}", coarse.grid_us.len());
        let rough = coarse.full(&[0.5, 0.99]).1;
        for (e, r) in exact.iter().zip(&rough) {
            let (e, r) = (e.unwrap(), r.unwrap());
            assert!(r >= e && r <= e * 1.05, "exact {e} ms, coarse {r} ms");
        }
    }

    #[test]
    fn values_out_of_order_do_not_panic() {
        let mut samples = spread(3);
        samples[1].values_us.reverse();
        let p = Prepared::new(&samples);
        assert!(p.full(&[0.5]).1[0].is_some());
    }
}

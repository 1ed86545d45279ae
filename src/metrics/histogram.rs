//! `LatencyHistogram`: our own type over hdrhistogram, microsecond resolution.
//! The hdrhistogram crate stays inside this file and `hlog.rs`.

use std::time::Duration;

use hdrhistogram::Histogram;

/// Significant figures kept: 3 gives 0.1 % value precision.
const SIGFIG: u8 = 3;

/// A latency distribution in microseconds. Auto-resizing, so one that saw a 30 s hang
/// grows only as far as it must; and allocated on the first value, so an empty one (most
/// of a recorder's per-second windows: a GET phase records no lag, no response time, no
/// per-endpoint figure) costs nothing to make, merge or drop.
#[derive(Clone, Debug, Default)]
pub struct LatencyHistogram {
    inner: Option<Histogram<u64>>,
}

/// Lowest discernible value 1 µs; sized for 1 µs..10 s at first and grown (auto-resize)
/// when a slower response arrives.
fn fresh() -> Histogram<u64> {
    let mut inner =
        Histogram::new_with_bounds(1, 10_000_000, SIGFIG).expect("bounds 1..10^7 with 3 figures are valid");
    inner.auto(true);
    inner
}

/// What an empty histogram reads as, for the serialisers that need a `Histogram`.
fn empty() -> &'static Histogram<u64> {
    static EMPTY: std::sync::OnceLock<Histogram<u64>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(fresh)
}

impl LatencyHistogram {
    /// An empty histogram; nothing is allocated until the first value.
    pub fn new() -> Self {
        Self { inner: None }
    }

    fn filled(&mut self) -> &mut Histogram<u64> {
        self.inner.get_or_insert_with(fresh)
    }

    /// The recorded values, when there are any.
    fn values(&self) -> Option<&Histogram<u64>> {
        self.inner.as_ref().filter(|h| !h.is_empty())
    }

    /// Records one latency. Zero durations count as 1 µs (hdrhistogram has no bucket for 0
    /// below its lowest discernible value, and a zero latency is a rounding artefact).
    #[inline]
    pub fn record(&mut self, latency: Duration) {
        self.record_us(latency.as_micros().min(u128::from(u64::MAX)) as u64);
    }

    /// Records one latency in microseconds (0 counts as 1 µs, past `u64` saturates).
    #[inline]
    pub fn record_us(&mut self, micros: u64) {
        let h = self.filled();
        // With auto-resize on, `record` only fails past u64 range; saturate there.
        if h.record(micros.max(1)).is_err() {
            h.saturating_record(micros.max(1));
        }
    }

    /// Records `micros` and, when it is longer than `interval_us`, the values the requests
    /// that should have started meanwhile would have seen (`micros − interval`, `micros −
    /// 2·interval`, …): HdrHistogram's correction for coordinated omission.
    pub fn record_corrected_us(&mut self, micros: u64, interval_us: u64) {
        let h = self.filled();
        // As in `record_us`: a value the histogram cannot grow to is saturated rather than
        // lost (the corrections, all smaller, are recorded once the value itself is).
        if h.record_correct(micros.max(1), interval_us).is_err() {
            h.saturating_record(micros.max(1));
        }
    }

    /// Records `count` requests of the same latency in microseconds (0 counts as 1 µs).
    pub fn record_n_us(&mut self, micros: u64, count: u64) {
        let h = self.filled();
        // As in `record_us`: requests the histogram cannot grow to are saturated, not lost.
        if h.record_n(micros.max(1), count).is_err() {
            h.saturating_record_n(micros.max(1), count);
        }
    }

    /// Adds every value of `other` into this one (an empty `other` changes nothing).
    pub fn merge(&mut self, other: &LatencyHistogram) {
        let Some(theirs) = other.values() else { return };
        match &mut self.inner {
            Some(ours) => {
                // Both sides auto-resize, so `add` cannot run out of range.
                let _ = ours.add(theirs);
            }
            None => self.inner = Some(theirs.clone()),
        }
    }

    /// Forgets every value, keeping the allocation for the next window.
    pub fn reset(&mut self) {
        if let Some(h) = &mut self.inner {
            h.reset();
        }
    }

    /// Values recorded; 0 when empty.
    pub fn count(&self) -> u64 {
        self.values().map_or(0, |h| h.len())
    }

    /// True when nothing has been recorded since creation or the last `reset`.
    pub fn is_empty(&self) -> bool {
        self.values().is_none()
    }

    /// Value at quantile `q` in [0, 1], in milliseconds. 0 when empty.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.values().map_or(0.0, |h| h.value_at_quantile(q.clamp(0.0, 1.0)) as f64 / 1000.0)
    }

    /// Mean in milliseconds; 0 when empty.
    pub fn mean_ms(&self) -> f64 {
        self.values().map_or(0.0, |h| h.mean() / 1000.0)
    }

    /// Smallest value in milliseconds; 0 when empty.
    pub fn min_ms(&self) -> f64 {
        self.values().map_or(0.0, |h| h.min() as f64 / 1000.0)
    }

    /// Largest value in milliseconds; 0 when empty.
    pub fn max_ms(&self) -> f64 {
        self.values().map_or(0.0, |h| h.max() as f64 / 1000.0)
    }

    /// Standard deviation in milliseconds; 0 when empty.
    pub fn stdev_ms(&self) -> f64 {
        self.values().map_or(0.0, |h| h.stdev() / 1000.0)
    }

    /// Non-empty buckets on a logarithmic scale (each bucket's upper edge is `base` times
    /// the lower), as `(lower_ms, upper_ms, count)`. For distribution charts and heatmaps.
    pub fn log_buckets(&self, first_upper_us: u64, base: f64) -> Vec<(f64, f64, u64)> {
        let mut out = Vec::new();
        let Some(h) = self.values() else { return out };
        let base = if base > 1.0 { base } else { 2.0 };
        let mut lower = 0.0_f64;
        for v in h.iter_log(first_upper_us.max(1), base) {
            let upper = v.value_iterated_to() as f64;
            let n = v.count_since_last_iteration();
            if n > 0 {
                out.push((lower / 1000.0, upper / 1000.0, n));
            }
            lower = upper;
        }
        out
    }

    /// Every recorded value with its count, `(value_ms, count)`, ascending.
    pub fn recorded_values_ms(&self) -> Vec<(f64, u64)> {
        self.recorded_values_us().into_iter().map(|(v, n)| (v as f64 / 1000.0, n)).collect()
    }

    /// Every recorded value with its count, `(value_us, count)`, ascending. Values are each
    /// bucket's highest equivalent, the same value [`Self::quantile_ms`] reports for it.
    pub fn recorded_values_us(&self) -> Vec<(u64, u64)> {
        let Some(h) = self.values() else { return Vec::new() };
        h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect()
    }

    pub(crate) fn inner(&self) -> &Histogram<u64> {
        self.inner.as_ref().unwrap_or_else(|| empty())
    }

    pub(crate) fn from_inner(mut inner: Histogram<u64>) -> Self {
        inner.auto(true);
        Self { inner: Some(inner) }
    }
}

/// Quantiles reported everywhere (Locust's list): 50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100.
pub const LOCUST_QUANTILES: [f64; 11] = [0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_a_uniform_spread() {
        let mut h = LatencyHistogram::new();
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        assert_eq!(h.count(), 100);
        assert!((h.quantile_ms(0.5) - 50.0).abs() < 0.1, "{}", h.quantile_ms(0.5));
        assert!((h.quantile_ms(0.99) - 99.0).abs() < 0.1);
        assert!((h.max_ms() - 100.0).abs() < 0.1);
        assert!((h.mean_ms() - 50.5).abs() < 0.1);
    }

    #[test]
    fn merge_adds_counts_and_empty_is_zero() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        assert_eq!(a.quantile_ms(0.99), 0.0);
        a.record_us(1_000);
        b.record_us(30_000_000);
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert!(a.max_ms() > 29_000.0);
    }

    #[test]
    fn log_buckets_cover_every_sample() {
        let mut h = LatencyHistogram::new();
        for us in [5, 50, 500, 5_000, 50_000] {
            h.record_us(us);
        }
        let total: u64 = h.log_buckets(10, 2.0).iter().map(|b| b.2).sum();
        assert_eq!(total, 5);
    }
}

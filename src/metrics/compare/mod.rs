//! Comparing two runs with statistics: per phase, the change from run A to run B in req/s,
//! p50, p95 and p99, each with a 95 % bootstrap interval over the runs' seconds, and a
//! verdict. Pure data, no I/O (`report::compare` reads the run folders). The statistics
//! read only `LatencyHistogram` from the rest of `metrics`; `comparable` reads the phases'
//! summaries to say when a verdict would not mean what it says.

mod bootstrap;
mod comparable;
mod expand;
mod rng;

use serde::Serialize;

use super::LatencyHistogram;
use bootstrap::{Prepared, Stats};
pub use comparable::{differences, invalid_side};
use rng::SplitMix64;

/// Resamples per run and phase: enough for stable 2.5 % / 97.5 % points (50 replicates
/// lie beyond each), and a 300-second phase still compares in a few tens of milliseconds.
pub const DEFAULT_RESAMPLES: usize = 2000;
/// Fixed, so the same two runs always give the same intervals.
pub const DEFAULT_SEED: u64 = 0x7e44_af1c_5eed_0012;
/// `expand`'s t table is for this level; change both together.
pub const CONFIDENCE: f64 = 0.95;
/// Fewer seconds than this on either side and a bootstrap says more than the data can:
/// with 3 seconds there are only 10 different resamples.
pub const MIN_SECONDS: usize = 5;

/// What is compared, in the order shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Requests per second (all responses, failures included).
    Rps,
    /// Median latency (ms).
    P50,
    /// 95th percentile latency (ms).
    P95,
    /// 99th percentile latency (ms).
    P99,
}

impl Metric {
    /// Every metric, in the order tables and JSON show them.
    pub const ALL: [Metric; 4] = [Metric::Rps, Metric::P50, Metric::P95, Metric::P99];

    /// The row label in tables: `req/s`, `p50`, `p95`, `p99`.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Rps => "req/s",
            Metric::P50 => "p50",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
        }
    }

    /// The unit of the metric's values: `req/s` or `ms`.
    pub fn unit(self) -> &'static str {
        if self == Metric::Rps { "req/s" } else { "ms" }
    }

    /// More requests per second is faster; a higher latency is slower.
    pub fn higher_is_faster(self) -> bool {
        self == Metric::Rps
    }
}

/// B against A for one metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// B is better than A beyond the interval: more req/s or a lower latency.
    Faster,
    /// B is worse than A beyond the interval: fewer req/s or a higher latency.
    Slower,
    /// The interval of the change contains zero.
    NoDetectableDifference,
    /// Too few seconds (or no responses) on one side for an interval.
    NotEnoughData,
    /// A side's figures are the generator's own limits (its phase was not `valid`): the
    /// phase's `not_comparable` says which side and why.
    NotComparable,
}

impl Verdict {
    /// The verdict as tables and the gate's messages print it.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::NoDetectableDifference => "no detectable difference",
            Verdict::NotEnoughData => "not enough data",
            Verdict::NotComparable => "not comparable",
        }
    }
}

/// A 95 % interval (percentile bootstrap).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Interval {
    /// Lower bound (same unit as the value it bounds).
    pub low: f64,
    /// Upper bound (same unit as the value it bounds).
    pub high: f64,
}

impl Interval {
    /// True when `v` lies within the bounds, both ends included.
    pub fn contains(&self, v: f64) -> bool {
        self.low <= v && v <= self.high
    }
}

/// One run's value of a metric over the whole phase, and its own interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// The metric over every second of the phase; `None` when the phase had no responses.
    pub value: Option<f64>,
    /// The bootstrap interval of `value`; `None` with fewer than [`MIN_SECONDS`] seconds.
    pub interval: Option<Interval>,
}

/// One metric of one phase, compared from run A to run B.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricChange {
    /// Which metric this row compares.
    pub metric: Metric,
    /// Run A's estimate.
    pub a: Estimate,
    /// Run B's estimate.
    pub b: Estimate,
    /// (B − A) / A in percent.
    pub change_pct: Option<f64>,
    /// The bootstrap interval of `change_pct`; `None` when either side lacks data.
    pub change_interval_pct: Option<Interval>,
    /// The verdict on the change (read with `verdict_if_valid` for `not_comparable`).
    pub verdict: Verdict,
    /// The statistics' verdict when `verdict` is `not_comparable` (what `--allow-invalid`
    /// judges on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict_if_valid: Option<Verdict>,
}

impl MetricChange {
    /// The verdict a gate judges: the statistics' own when `judge_invalid` is set.
    pub fn gate_verdict(&self, judge_invalid: bool) -> Verdict {
        match (self.verdict, self.verdict_if_valid) {
            (Verdict::NotComparable, Some(v)) if judge_invalid => v,
            (v, _) => v,
        }
    }
}

/// One phase present in both runs, compared metric by metric.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhaseComparison {
    /// The phase's name (its identity across runs).
    pub name: String,
    /// The suite folder the phase was written under (in run A).
    pub suite: String,
    /// Seconds of the phase with data in run A (the bootstrap's sample size).
    pub seconds_a: usize,
    /// Seconds of the phase with data in run B.
    pub seconds_b: usize,
    /// Requests run A completed in the phase.
    pub requests_a: u64,
    /// Requests run B completed in the phase.
    pub requests_b: u64,
    /// One row per [`Metric`], in [`Metric::ALL`] order.
    pub metrics: Vec<MetricChange>,
    /// Why the verdicts are `not_enough_data`, when they are.
    pub note: Option<String>,
    /// `A was generator-bound (p99 schedule lag 81.0 ms)`: why the latency rows are
    /// `not_comparable`, when a side's phase was not valid (both sides, `; `-joined).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_comparable: Option<String>,
    /// Whether run A's (B's) phase was not valid, so its latency is the generator's.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub invalid_a: bool,
    /// Whether run B's phase was not valid, so its latency is the generator's.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub invalid_b: bool,
}

impl PhaseComparison {
    /// Marks the latency rows not comparable when a side was not valid (`a`, `b`: why, as
    /// [`invalid_side`] says it), keeping the statistics' verdict beside it. Requests per
    /// second stay judged: a generator that fell behind sent less, and the row shows that.
    pub fn mark_invalid(&mut self, a: Option<String>, b: Option<String>) {
        self.invalid_a = a.is_some();
        self.invalid_b = b.is_some();
        let why: Vec<String> = a.into_iter().chain(b).collect();
        if why.is_empty() {
            return;
        }
        for m in self.metrics.iter_mut().filter(|m| m.metric != Metric::Rps) {
            if m.verdict != Verdict::NotComparable {
                m.verdict_if_valid = Some(m.verdict);
                m.verdict = Verdict::NotComparable;
            }
        }
        self.not_comparable = Some(why.join("; "));
    }

    /// The row of `metric`, when it was compared.
    pub fn metric(&self, metric: Metric) -> Option<&MetricChange> {
        self.metrics.iter().find(|m| m.metric == metric)
    }
}

/// How the intervals were computed, written beside them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Method {
    /// The method's name in words (expanded percentile bootstrap over seconds).
    pub name: &'static str,
    /// Bootstrap resamples per run and phase.
    pub resamples: usize,
    /// The random seed of the resampling (fixed, so repeated comparisons agree).
    pub seed: u64,
    /// The interval's confidence level (0.95).
    pub confidence: f64,
    /// Seconds each side needs before an interval is given.
    pub min_seconds: usize,
}

/// A run as named in a comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRef {
    /// The run's `run_id` from its summary, or the folder name when the summary has none.
    pub run_id: String,
    /// The run folder, as its path was given.
    pub dir: String,
}

/// Everything `compare` reports: both runs, the method, and the phases they share.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// The baseline run.
    pub run_a: RunRef,
    /// The run judged against the baseline.
    pub run_b: RunRef,
    /// How the intervals were computed.
    pub method: Method,
    /// The phases both runs have, in run A's order.
    pub phases: Vec<PhaseComparison>,
    /// Phases of one run that the other does not have (not compared).
    pub only_in_a: Vec<String>,
    /// Phases of run B that run A does not have (not compared).
    pub only_in_b: Vec<String>,
    /// How the two runs' compared phases were set up differently (see `differences`).
    pub differs: Vec<String>,
}

/// One second of a phase: its length and every response recorded in it, kept as the
/// histogram's recorded values only (a full histogram is ~120 KiB; a second at a few
/// hundred req/s has a few hundred distinct values).
#[derive(Clone, Debug)]
pub struct SecondSample {
    /// The second's length in seconds (the last one of a phase may be shorter).
    pub length_s: f64,
    /// `(value_us, count)`, ascending, as [`LatencyHistogram::recorded_values_us`] gives them.
    pub values_us: Vec<(u64, u64)>,
}

impl SecondSample {
    /// Keeps only the recorded values of `latency`, for a second of `length_s` seconds.
    pub fn new(length_s: f64, latency: &LatencyHistogram) -> Self {
        Self { length_s, values_us: latency.recorded_values_us() }
    }

    /// Responses recorded in the second.
    pub fn responses(&self) -> u64 {
        self.values_us.iter().map(|(_, n)| n).sum()
    }
}

/// Bootstrap settings of a comparison; [`Default`] gives the fixed, reproducible ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Resamples per run and phase ([`DEFAULT_RESAMPLES`]).
    pub resamples: usize,
    /// The resampling seed ([`DEFAULT_SEED`]).
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self { resamples: DEFAULT_RESAMPLES, seed: DEFAULT_SEED }
    }
}

impl Settings {
    /// The method these settings describe, as written in the comparison.
    pub fn method(&self) -> Method {
        Method {
            name: "expanded percentile bootstrap over seconds (each run's per-second histograms resampled with replacement and added)",
            resamples: self.resamples,
            seed: self.seed,
            confidence: CONFIDENCE,
            min_seconds: MIN_SECONDS,
        }
    }
}

const QUANTILES: [f64; 3] = [0.50, 0.95, 0.99];

/// Compares one phase of run A (`a`) with the same phase of run B (`b`).
pub fn compare_phase(
    name: &str,
    suite: &str,
    a: &[SecondSample],
    b: &[SecondSample],
    settings: &Settings,
) -> PhaseComparison {
    let (pa, pb) = (Prepared::new(a), Prepared::new(b));
    let requests = |s: &[SecondSample]| s.iter().map(SecondSample::responses).sum::<u64>();
    let (requests_a, requests_b) = (requests(a), requests(b));
    let too_few = |side: &str, n: usize, requests: u64| {
        if n < MIN_SECONDS {
            Some(format!("run {side} has {n} seconds of this phase; intervals need at least {MIN_SECONDS}"))
        } else if requests == 0 {
            Some(format!("run {side} has no response in this phase"))
        } else {
            None
        }
    };
    let note = too_few("A", pa.len(), requests_a).or_else(|| too_few("B", pb.len(), requests_b));
    let (full_a, full_b) = (pa.full(&QUANTILES), pb.full(&QUANTILES));
    let metrics = if note.is_some() {
        Metric::ALL
            .iter()
            .map(|m| {
                let estimate = |full: &Stats| Estimate { value: pick(full, *m), interval: None };
                let (ea, eb) = (estimate(&full_a), estimate(&full_b));
                MetricChange {
                    metric: *m,
                    a: ea,
                    b: eb,
                    change_pct: relative(ea.value, eb.value),
                    change_interval_pct: None,
                    verdict: Verdict::NotEnoughData,
                    verdict_if_valid: None,
                }
            })
            .collect()
    } else {
        // One stream per run, the same for every phase: a phase's figures do not depend on
        // which other phases were compared with it.
        let reps_a = pa.replicates(&QUANTILES, settings.resamples, &mut SplitMix64::new(settings.seed, 1));
        let reps_b = pb.replicates(&QUANTILES, settings.resamples, &mut SplitMix64::new(settings.seed, 2));
        let (a, b) = ((&full_a, reps_a.as_slice(), pa.len()), (&full_b, reps_b.as_slice(), pb.len()));
        Metric::ALL.iter().map(|m| change(*m, a, b)).collect()
    };
    PhaseComparison {
        name: name.to_string(),
        suite: suite.to_string(),
        seconds_a: pa.len(),
        seconds_b: pb.len(),
        requests_a,
        requests_b,
        metrics,
        note,
        not_comparable: None,
        invalid_a: false,
        invalid_b: false,
    }
}

fn pick(stats: &Stats, metric: Metric) -> Option<f64> {
    match metric {
        Metric::Rps => stats.0,
        Metric::P50 => stats.1.first().copied().flatten(),
        Metric::P95 => stats.1.get(1).copied().flatten(),
        Metric::P99 => stats.1.get(2).copied().flatten(),
    }
}

fn relative(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    let (a, b) = (a?, b?);
    (a > 0.0).then(|| (b / a - 1.0) * 100.0)
}

/// One run's side: its point estimates, its replicates, and how many seconds it has.
type Side<'a> = (&'a Stats, &'a [Stats], usize);

fn change(metric: Metric, a: Side<'_>, b: Side<'_>) -> MetricChange {
    let values = |reps: &[Stats]| -> Vec<f64> { reps.iter().filter_map(|r| pick(r, metric)).collect() };
    let estimate = |(full, reps, n): Side<'_>| Estimate {
        value: pick(full, metric),
        interval: percentile_interval(values(reps), n),
    };
    // Replicate r of A against replicate r of B: the resamples are independent, so any
    // pairing is a draw from the distribution of the ratio.
    let ratios: Vec<f64> =
        a.1.iter().zip(b.1).filter_map(|(ra, rb)| relative(pick(ra, metric), pick(rb, metric))).collect();
    // The shorter run limits what the ratio can show: expand for its number of seconds.
    let change_interval_pct = percentile_interval(ratios, a.2.min(b.2));
    let verdict = match change_interval_pct {
        None => Verdict::NotEnoughData,
        Some(i) if i.low > 0.0 => {
            if metric.higher_is_faster() {
                Verdict::Faster
            } else {
                Verdict::Slower
            }
        }
        Some(i) if i.high < 0.0 => {
            if metric.higher_is_faster() {
                Verdict::Slower
            } else {
                Verdict::Faster
            }
        }
        Some(_) => Verdict::NoDetectableDifference,
    };
    let (ea, eb) = (estimate(a), estimate(b));
    MetricChange {
        metric,
        a: ea,
        b: eb,
        change_pct: relative(ea.value, eb.value),
        change_interval_pct,
        verdict,
        verdict_if_valid: None,
    }
}

/// The 95 % interval of the replicates over `seconds` units: the expanded percentile
/// interval (see `expand`), interpolated between order statistics. `None` when fewer than
/// 20 resamples gave a value.
fn percentile_interval(mut values: Vec<f64>, seconds: usize) -> Option<Interval> {
    values.retain(|v| v.is_finite());
    if values.len() < 20 {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let pos = p * (values.len() - 1) as f64;
        let (i, frac) = (pos.floor() as usize, pos - pos.floor());
        let next = values.get(i + 1).copied().unwrap_or(values[i]);
        values[i] + (next - values[i]) * frac
    };
    let tail = expand::tail_probability(seconds);
    Some(Interval { low: at(tail), high: at(1.0 - tail) })
}

/// A phase where the gated metric got detectably slower by more than the limit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GateBreach {
    /// The phase's name.
    pub phase: String,
    /// The metric that breached (the gated one).
    pub metric: Metric,
    /// How much slower, in percent (positive).
    pub slowdown_pct: f64,
    /// The bootstrap interval of the slowdown, in percent.
    pub interval_pct: Interval,
}

impl Comparison {
    /// The phases whose `metric` is `slower` (its interval excludes zero) by more than
    /// `limit_pct` percent at the point estimate. Empty means the gate passes. A row that
    /// is not comparable never breaches unless `judge_invalid` (see [`Self::not_judged`]).
    pub fn slower_than(&self, metric: Metric, limit_pct: f64, judge_invalid: bool) -> Vec<GateBreach> {
        self.phases
            .iter()
            .filter_map(|p| {
                let m = p.metric(metric)?;
                let (change, interval) = (m.change_pct?, m.change_interval_pct?);
                // For req/s "slower" is a fall, so the slowdown is the change's opposite.
                let (slowdown_pct, interval_pct) = if metric.higher_is_faster() {
                    (-change, Interval { low: -interval.high, high: -interval.low })
                } else {
                    (change, interval)
                };
                (m.gate_verdict(judge_invalid) == Verdict::Slower && slowdown_pct > limit_pct)
                    .then(|| GateBreach { phase: p.name.clone(), metric, slowdown_pct, interval_pct })
            })
            .collect()
    }

    /// The phases whose `metric` row is not comparable, each with why: a gate on them
    /// would judge the generator, not the target.
    pub fn not_judged(&self, metric: Metric) -> Vec<(String, String)> {
        self.phases
            .iter()
            .filter(|p| p.metric(metric).is_some_and(|m| m.verdict == Verdict::NotComparable))
            .map(|p| (p.name.clone(), p.not_comparable.clone().unwrap_or_default()))
            .collect()
    }
}

#[cfg(test)]
mod tests;

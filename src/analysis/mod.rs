//! Findings: what a run showed, in sentences with the numbers behind them. Pure: a
//! [`RunSummary`] (and, when the caller has them, the phases' per-second figures) in,
//! [`Finding`]s out; no I/O. Reads only `metrics::summary`.
//!
//! Every finding rests on figures the data holds (its [`Evidence`]); none restates a
//! threshold (those are judged elsewhere), and where the data is too thin or too noisy to
//! carry a claim nothing is said. The rules and their factors are documented in
//! `docs/findings-and-ci.md`; the constants below are the single place they live.

#![deny(missing_docs)]

mod phase;
mod suite;
#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::metrics::summary::{PhaseSummary, RunSummary};

/// Fewer requests than this in a phase and its percentiles are a handful of samples:
/// no finding about its latency or throughput is drawn from it.
pub const MIN_REQUESTS: u64 = 50;
/// Throughput "levels off" when, from the knee on, the highest phase is within this
/// factor of the lowest while the offered load at least doubles.
pub const PLATEAU_FACTOR: f64 = 1.10;
/// The offered load (and the p50) must grow at least this much past the knee.
pub const SATURATION_LOAD_GROWTH: f64 = 2.0;
/// Little's law: achieved ÷ expected throughput outside 1 ± this is a mismatch.
pub const LITTLE_TOLERANCE: f64 = 0.20;
/// p99 ÷ p50 above this is called tail amplification.
pub const TAIL_FACTOR: f64 = 10.0;
/// Per-second p50s needed to fit a slope, and how well the line must fit (R²) before a
/// growth is claimed, and how much the fitted line must rise over the phase (× the median).
pub const GROWTH_MIN_SECONDS: usize = 10;
/// R² the fitted line of per-second p50s must reach before a growth is claimed.
pub const GROWTH_MIN_R2: f64 = 0.5;
/// How much the fitted line must rise over the phase, as a share of the median p50.
pub const GROWTH_MIN_RISE: f64 = 0.5;
/// Two phases are indistinguishable when their difference is below this share of their
/// own spread (Cohen's d under 0.5: less than a "medium" effect).
pub const ISOLATION_EFFECT: f64 = 0.5;
/// Injected failures expected below this and seeing none proves nothing (P(0) = e^-5).
pub const INJECTION_MIN_EXPECTED: f64 = 5.0;

/// How much a finding matters, in increasing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; nothing is wrong.
    Info,
    /// May bias the figures or hint at a limit; worth a look.
    Warning,
    /// The figures are wrong or the target misbehaves.
    Problem,
}

impl Severity {
    /// `info`, `warning` or `problem`.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Problem => "problem",
        }
    }
}

/// One figure a finding rests on: which phase (or `run`), what, its value and unit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence {
    /// The phase's name, or `run` for the whole run.
    pub phase: String,
    /// What was measured (`users`, `p50`, `rps`, …).
    pub figure: String,
    /// The figure's value, in `unit`.
    pub value: f64,
    /// The unit (`ms`, `req/s`, `%`); empty for a count.
    pub unit: &'static str,
}

impl Evidence {
    fn new(phase: &str, figure: &str, value: f64, unit: &'static str) -> Self {
        Self { phase: phase.to_string(), figure: figure.to_string(), value, unit }
    }

    /// `throughput_max users = 100`, `throughput_max p50 = 18000 ms`.
    pub fn describe(&self) -> String {
        let unit = if self.unit.is_empty() { String::new() } else { format!(" {}", self.unit) };
        format!("{} {} = {}{unit}", self.phase, self.figure, trim_number(self.value))
    }
}

/// One conclusion drawn from a run's figures, with what it rests on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Stable: `saturation`, `littles-law`, `tail-amplification`, `latency-growth`,
    /// `error-onset`, `injection`, `no-isolation`, `dedup`, `validity`,
    /// `settings-not-applied`, `target-restart`, `recovery`.
    pub id: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// One sentence, with the numbers.
    pub text: String,
    /// The figures it rests on.
    pub evidence: Vec<Evidence>,
}

/// One second of a phase as the history holds it (Locust's `_stats_history.csv` rows).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecondPoint {
    /// Seconds from the phase's start.
    pub t_s: f64,
    /// Closed model: users running in the second; `None` for an open phase or an `N/A` cell.
    pub users: Option<u32>,
    /// Requests completed in the second.
    pub rps: f64,
    /// Failures in the second.
    pub fps: f64,
    /// The second's median latency (ms); `None` when it had no requests.
    pub p50_ms: Option<f64>,
}

/// The per-second figures of every phase, in the summary's order (a phase without a
/// history has an empty list; a shorter list than the phases is fine).
pub type Seconds = [Vec<SecondPoint>];

/// Findings from the summary alone (no per-second figures: no growth or onset times).
pub fn findings(summary: &RunSummary) -> Vec<Finding> {
    analyse(summary, &[])
}

/// Findings from the summary and the phases' per-second figures, most severe first,
/// in run order within a severity.
pub fn analyse(summary: &RunSummary, seconds: &Seconds) -> Vec<Finding> {
    let phases: Vec<PhaseView<'_>> = summary
        .experiments
        .iter()
        .enumerate()
        .map(|(i, p)| PhaseView::new(p, seconds.get(i).map_or(&[][..], Vec::as_slice)))
        .collect();
    let mut out = Vec::new();
    out.extend(suite::saturation(&phases));
    out.extend(suite::isolation(&phases));
    for view in &phases {
        out.extend(phase::all(view, &phases));
    }
    out.extend(phase::run_notes(summary));
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

/// A phase with what the analysis derives once: offered load and its per-second figures.
pub(crate) struct PhaseView<'a> {
    pub phase: &'a PhaseSummary,
    pub seconds: &'a [SecondPoint],
    /// Closed model: the users (from the config, or the most the history saw).
    pub users: Option<u32>,
    /// Open model: the arrival rate asked for at the end of the phase.
    pub rate: Option<f64>,
}

impl<'a> PhaseView<'a> {
    fn new(phase: &'a PhaseSummary, seconds: &'a [SecondPoint]) -> Self {
        let open = phase.config.model == "open";
        let users = if open {
            None
        } else {
            phase.config.users.or_else(|| seconds.iter().filter_map(|s| s.users).max())
        };
        let rate = if open { phase.config.arrival_rate_to.or(phase.config.arrival_rate_from) } else { None };
        Self { phase, seconds, users, rate }
    }

    /// The load asked for, as a number and its unit, for comparing phases of one model.
    pub fn offered(&self) -> Option<(f64, &'static str)> {
        match (self.users, self.rate) {
            (Some(u), _) if u > 0 => Some((f64::from(u), "users")),
            (_, Some(r)) if r > 0.0 => Some((r, "req/s offered")),
            _ => None,
        }
    }

    pub fn name(&self) -> &str {
        &self.phase.name
    }

    pub fn enough(&self) -> bool {
        self.phase.summary.total_requests >= MIN_REQUESTS
    }

    pub fn rps(&self) -> f64 {
        self.phase.summary.requests_per_sec
    }

    /// The phase's p50: our histogram's, or the seed's median column.
    pub fn p50_ms(&self) -> f64 {
        if self.phase.latency_ms.p50 > 0.0 {
            self.phase.latency_ms.p50
        } else {
            self.phase.summary.median_response_ms
        }
    }

    pub fn p95_ms(&self) -> f64 {
        if self.phase.latency_ms.p95 > 0.0 {
            self.phase.latency_ms.p95
        } else {
            self.phase.summary.p95_response_ms
        }
    }

    pub fn p99_ms(&self) -> f64 {
        if self.phase.latency_ms.p99 > 0.0 {
            self.phase.latency_ms.p99
        } else {
            self.phase.summary.p99_response_ms
        }
    }

    pub fn mean_ms(&self) -> f64 {
        if self.phase.latency_ms.mean > 0.0 {
            self.phase.latency_ms.mean
        } else {
            self.phase.summary.avg_response_ms
        }
    }
}

/// `5.07`, `18`, `0.38`: three significant figures, no trailing zeros.
pub fn trim_number(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let a = v.abs();
    let text = if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

/// A latency for a sentence: `380 ms`, `2.9 s`, `18 s`.
pub fn duration_text(ms: f64) -> String {
    if ms >= 1000.0 { format!("{} s", trim_number(ms / 1000.0)) } else { format!("{} ms", trim_number(ms)) }
}

/// Two latencies in one unit: `0.38 → 18 s`, `380–900 ms` (with `sep` between).
pub fn range_text(from_ms: f64, to_ms: f64, sep: &str) -> String {
    if from_ms.max(to_ms) >= 1000.0 {
        format!("{}{sep}{} s", trim_number(from_ms / 1000.0), trim_number(to_ms / 1000.0))
    } else {
        format!("{}{sep}{} ms", trim_number(from_ms), trim_number(to_ms))
    }
}

/// A count for a sentence: `1,234`.
pub fn count_text(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

//! Whether a phase's figures are the target's or the generator's: its own CPU (the
//! embedded mock's threads told apart by name), the worst stall of its event loop, its
//! schedule lag and dropped arrivals, judged against the profile's `validity:` limits.

use std::time::Duration;

use crate::engine::aggregate::PhaseTotals;
use crate::metrics::LatencyHistogram;
use crate::metrics::summary::{LagStats, Validity};
use crate::profile::{Load, Phase, ValidityLimits};
use crate::sys::probe::LiveProbe;

/// The live check judges the generator's CPU only once the phase has run this long: the
/// first second's share is mostly spawning users and would cry wolf.
const LIVE_CPU_AFTER: Duration = Duration::from_secs(3);

/// The verdict while a phase runs, on its figures so far: the Run screen and the headless
/// progress show a breach the second it happens, not at the phase's end.
pub struct LiveCheck {
    phase: Phase,
    limits: ValidityLimits,
    /// `None` where the generators are elsewhere (a distributed run's workers): their CPU
    /// and stalls arrive at the phase's end, so only lag, drops and local errors are judged.
    probe: Option<LiveProbe>,
    reasons: Vec<String>,
    bound: BoundSoFar,
    /// The generator's CPU share of the machine at the latest check.
    cpu_share: Option<f64>,
}

/// When, on the figures so far, the phase was generator-bound: its first and last such tick.
#[derive(Clone, Copy, Debug, Default)]
pub struct BoundSoFar {
    first: Option<Duration>,
    last: Option<Duration>,
}

impl BoundSoFar {
    pub fn record(&mut self, elapsed: Duration, bound: bool) {
        if bound {
            self.first.get_or_insert(elapsed);
            self.last = Some(elapsed);
        }
    }

    /// (first, last) in seconds into the phase, once it was ever bound.
    pub fn window(&self) -> Option<(f64, f64)> {
        Some((self.first?.as_secs_f64(), self.last?.as_secs_f64()))
    }
}

/// The live warning at a phase's first breach: a verdict on the figures so far, which the
/// phase's final verdict (on the whole phase) supersedes.
pub fn live_warning(phase: &str, since_s: f64, reasons: &[String]) -> String {
    format!(
        "phase {phase}: generator-bound so far (since {since_s:.1} s) — {}; the verdict on the whole \
         phase comes at its end",
        reasons.join("; ")
    )
}

impl LiveCheck {
    pub fn new(phase: &Phase, limits: ValidityLimits, probe: Option<LiveProbe>) -> LiveCheck {
        LiveCheck {
            phase: phase.clone(),
            limits,
            probe,
            reasons: Vec::new(),
            bound: BoundSoFar::default(),
            cpu_share: None,
        }
    }

    /// Judges the figures so far; returns the reasons, and `true` the first time any limit is
    /// breached in this phase (the moment to say so once).
    pub fn check(&mut self, totals: &PhaseTotals, elapsed: Duration) -> (&[String], bool) {
        let reading = self.probe.as_ref().map(LiveProbe::reading);
        self.cpu_share = reading.map(|r| r.cpu_share);
        let judged_cpu = elapsed >= LIVE_CPU_AFTER;
        let (local_errors, local_cause) = local_errors(&super::results::failure_stats(totals));
        let used = GeneratorUse {
            cpu_s: reading.map_or(0.0, |r| r.cpu_s),
            cpu_share: reading.filter(|_| judged_cpu).map_or(0.0, |r| r.cpu_share),
            cores: reading.map_or(1, |r| r.cores),
            worst_stall_ms: reading.map_or(0.0, |r| r.worst_stall_ms),
            dropped: totals.dropped,
            local_errors,
            local_cause,
        };
        self.reasons = breaches(&self.phase, &used, lag_stats(&totals.lag).as_ref(), &self.limits);
        let first = !self.reasons.is_empty() && self.bound.window().is_none();
        self.bound.record(elapsed, !self.reasons.is_empty());
        (&self.reasons, first)
    }

    /// From when to when the phase was generator-bound on its figures so far.
    pub fn bound_window(&self) -> Option<(f64, f64)> {
        self.bound.window()
    }

    /// The generator's CPU share of the machine at the latest check, where it runs here.
    pub fn cpu_share(&self) -> Option<f64> {
        self.cpu_share
    }

    /// The reasons of the latest check.
    pub fn reasons(&self) -> &[String] {
        &self.reasons
    }
}

/// What the generator measured about itself in one phase.
pub struct GeneratorUse {
    pub cpu_s: f64,
    pub cpu_share: f64,
    pub cores: usize,
    pub worst_stall_ms: f64,
    pub dropped: u64,
    /// Failures caused by this machine's own limits (too many open files, no local port).
    pub local_errors: u64,
    pub local_cause: Option<&'static str>,
}

/// Failure messages that come from the generator's machine, not from the target.
const LOCAL_LIMITS: [(&str, &str); 4] = [
    ("os error 24", "too many open files"),
    ("Too many open files", "too many open files"),
    ("os error 99", "no local address or port left"),
    ("Cannot assign requested address", "no local address or port left"),
];

/// How many failures of the phase were the generator's own, and the first cause in words.
pub fn local_errors(failures: &[crate::metrics::summary::FailureStat]) -> (u64, Option<&'static str>) {
    let mut count = 0;
    let mut cause = None;
    for f in failures {
        for m in &f.messages {
            if let Some((_, what)) = LOCAL_LIMITS.iter().find(|(needle, _)| m.message.contains(needle)) {
                count += m.count;
                cause.get_or_insert(*what);
            }
        }
    }
    (count, cause)
}

/// The verdict, with each breached limit in words.
pub fn judge(
    phase: &Phase,
    used: &GeneratorUse,
    lag: &LatencyHistogram,
    limits: &ValidityLimits,
) -> Validity {
    let lag_stats = lag_stats(lag);
    let reasons = breaches(phase, used, lag_stats.as_ref(), limits);
    Validity {
        verdict: if reasons.is_empty() { "valid".into() } else { "generator-bound".into() },
        reasons,
        generator_cpu_s: used.cpu_s,
        generator_cpu_share: used.cpu_share,
        cores: used.cores,
        schedule_lag_ms: lag_stats,
        worst_stall_ms: used.worst_stall_ms,
        live_bound_s: None,
    }
}

fn lag_stats(lag: &LatencyHistogram) -> Option<LagStats> {
    (!lag.is_empty()).then(|| LagStats {
        p50_ms: lag.quantile_ms(0.5),
        p99_ms: lag.quantile_ms(0.99),
        max_ms: lag.max_ms(),
    })
}

/// Each breached limit in words; empty when the phase's figures are the target's.
fn breaches(
    phase: &Phase,
    used: &GeneratorUse,
    lag_stats: Option<&LagStats>,
    limits: &ValidityLimits,
) -> Vec<String> {
    let mut reasons = Vec::new();
    if used.cpu_share >= limits.max_generator_cpu {
        reasons.push(format!(
            "generator CPU {:.0} % of its {} cores (limit {:.0} %)",
            used.cpu_share * 100.0,
            used.cores,
            limits.max_generator_cpu * 100.0
        ));
    }
    if let Some(l) = lag_stats {
        match (&phase.load, phase.behaviour.wait.pacing_interval()) {
            (Load::Open { .. }, _) if l.p99_ms > limits.max_open_lag_ms => reasons.push(format!(
                "p99 schedule lag {:.1} ms: arrivals went out late (limit {} ms)",
                l.p99_ms, limits.max_open_lag_ms
            )),
            (Load::Closed { .. }, Some(interval)) => {
                let interval_ms = interval.as_secs_f64() * 1000.0;
                if l.p99_ms > limits.max_lag_share * interval_ms {
                    reasons.push(format!(
                        "p99 schedule lag {:.1} ms = {:.0} % of the {} ms interval (limit {:.0} %)",
                        l.p99_ms,
                        l.p99_ms / interval_ms * 100.0,
                        (interval_ms * 10.0).round() / 10.0,
                        limits.max_lag_share * 100.0
                    ));
                }
            }
            _ => {}
        }
    }
    if used.dropped > 0 {
        reasons.push(format!("{} arrivals dropped at max_in_flight", used.dropped));
    }
    if used.local_errors > 0 {
        reasons.push(format!(
            "{} failures were the generator's own ({}: this machine's limits, not the target)",
            used.local_errors,
            used.local_cause.unwrap_or("local limits")
        ));
    }
    if used.worst_stall_ms > limits.max_stall_ms {
        reasons.push(format!(
            "the generator's event loop stalled {:.0} ms (limit {} ms)",
            used.worst_stall_ms, limits.max_stall_ms
        ));
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::summary::{FailureStat, MessageCount};

    #[test]
    fn failures_from_local_limits_are_the_generators_own() {
        let stat = |messages: &[(&str, u64)]| FailureStat {
            messages: messages
                .iter()
                .map(|(m, c)| MessageCount { message: m.to_string(), count: *c })
                .collect(),
            ..FailureStat::default()
        };
        let failures = [
            stat(&[("HTTP 500 Internal Server Error", 7)]),
            stat(&[
                ("cannot connect: Too many open files (os error 24)", 3),
                ("cannot connect: Cannot assign requested address (os error 99)", 2),
            ]),
        ];
        assert_eq!(local_errors(&failures), (5, Some("too many open files")));
        assert_eq!(local_errors(&failures[..1]), (0, None), "the target's own errors are not ours");
    }

    #[test]
    fn the_final_verdict_says_it_supersedes_a_live_warning_that_it_contradicts() {
        let mut live = BoundSoFar::default();
        live.record(Duration::from_secs(1), true);
        live.record(Duration::from_secs(2), true);
        live.record(Duration::from_secs(3), false);
        assert_eq!(live.window(), Some((1.0, 2.0)));
        let valid = Validity { verdict: "valid".into(), live_bound_s: live.window(), ..Validity::default() };
        assert_eq!(
            valid.final_word().as_deref(),
            Some("final: valid over the whole phase (the first 2.0 s were generator-bound)")
        );
        let later = Validity { live_bound_s: Some((4.0, 6.0)), ..valid.clone() };
        assert_eq!(
            later.final_word().as_deref(),
            Some("final: valid over the whole phase (it was generator-bound from 4.0 s to 6.0 s)")
        );
        let bound = Validity { verdict: "generator-bound".into(), ..valid.clone() };
        assert_eq!(bound.final_word(), None, "no contradiction: the live warning stands");
        let calm = Validity { live_bound_s: None, ..valid };
        assert_eq!(calm.final_word(), None, "nothing was said live");
        assert!(live_warning("p", 1.0, &["x".into()]).contains("generator-bound so far"));
    }
}

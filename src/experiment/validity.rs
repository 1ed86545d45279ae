//! Whether a phase's figures are the target's or the generator's: its own CPU (the
//! embedded mock's threads told apart by name), the worst stall of its event loop, its
//! schedule lag and dropped arrivals, judged against the profile's `validity:` limits.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::metrics::LatencyHistogram;
use crate::metrics::summary::{LagStats, Validity};
use crate::profile::{Load, Phase, ValidityLimits};

/// How often the stall probe wakes; a late wake-up is a stalled event loop.
const PROBE_EVERY: Duration = Duration::from_millis(10);

/// Watches the generator while a phase runs.
pub struct GeneratorProbe {
    process_ticks: u64,
    server_ticks: u64,
    started: std::time::Instant,
    stall: tokio::task::JoinHandle<Duration>,
}

impl GeneratorProbe {
    /// Starts watching; `stop` ends the stall probe with the phase.
    pub fn start(stop: CancellationToken) -> GeneratorProbe {
        let stall = tokio::spawn(async move {
            let mut worst = Duration::ZERO;
            loop {
                let due = Instant::now() + PROBE_EVERY;
                tokio::select! {
                    _ = tokio::time::sleep_until(due) => {}
                    _ = stop.cancelled() => return worst,
                }
                worst = worst.max(Instant::now().saturating_duration_since(due));
            }
        });
        GeneratorProbe {
            process_ticks: process_ticks(),
            server_ticks: super::target::server_thread_ticks(),
            started: std::time::Instant::now(),
            stall,
        }
    }

    /// The generator's CPU seconds, its share of the machine, and the worst stall.
    pub async fn finish(self) -> (f64, f64, usize, f64) {
        let wall = self.started.elapsed().as_secs_f64().max(1e-3);
        let hz = super::target::clock_ticks_per_s();
        let process = process_ticks().saturating_sub(self.process_ticks);
        let server = super::target::server_thread_ticks().saturating_sub(self.server_ticks);
        let cpu_s = process.saturating_sub(server) as f64 / hz;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let worst_stall_ms = self.stall.await.unwrap_or_default().as_secs_f64() * 1000.0;
        (cpu_s, cpu_s / (wall * cores as f64), cores, worst_stall_ms)
    }
}

/// utime + stime of the whole process, in clock ticks.
fn process_ticks() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0 };
    let Some(close) = stat.rfind(')') else { return 0 };
    super::target::cpu_ticks_after_comm(&stat[close + 1..])
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
    let mut reasons = Vec::new();
    if used.cpu_share >= limits.max_generator_cpu {
        reasons.push(format!(
            "generator CPU {:.0} % of its {} cores (limit {:.0} %)",
            used.cpu_share * 100.0,
            used.cores,
            limits.max_generator_cpu * 100.0
        ));
    }
    let lag_stats = (!lag.is_empty()).then(|| LagStats {
        p50_ms: lag.quantile_ms(0.5),
        p99_ms: lag.quantile_ms(0.99),
        max_ms: lag.max_ms(),
    });
    if let Some(l) = &lag_stats {
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
    Validity {
        verdict: if reasons.is_empty() { "valid".into() } else { "generator-bound".into() },
        reasons,
        generator_cpu_s: used.cpu_s,
        generator_cpu_share: used.cpu_share,
        cores: used.cores,
        schedule_lag_ms: lag_stats,
        worst_stall_ms: used.worst_stall_ms,
    }
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
}

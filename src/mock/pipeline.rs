//! What happens to one failure: dedup claim → backpressure → failure injection → worker
//! slot → simulated work. Claiming first keeps "duplicates sent == dedup hits" exact.
//! Returns an `Outcome`; turning it into HTTP is `handlers`' job.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use rand::Rng;

use super::config::{FailureMode, Jitter, MockConfig};
use super::control::Control;
use super::dedup::{Claim, DedupStore};
use super::delay::Delays;
use super::payload::Failure;
use super::stats::Stats;

/// Longest an injected hang lasts when the client never gives up.
const MAX_HANG: Duration = Duration::from_secs(600);

/// Everything the handlers share.
pub struct AppState {
    pub control: Control,
    pub stats: Stats,
    pub store: Arc<dyn DedupStore>,
    /// Ends simulated work on time (tokio's timer ends it 1–2 ms late).
    delays: Delays,
    /// Set while the store is failing, so the log says so once per outage.
    store_failing: AtomicBool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Processed {
        pr_url: String,
    },
    Duplicate,
    /// Backpressure: `in_flight` failures were being processed, the limit is `limit`.
    Rejected {
        in_flight: u64,
        limit: u32,
    },
    Injected(FailureMode),
    /// The server is shutting down (a hang or simulated work was cut short).
    ShuttingDown,
}

impl AppState {
    pub fn new(config: MockConfig, store: Arc<dyn DedupStore>, delays: Delays) -> Self {
        Self {
            control: Control::new(config),
            stats: Stats::new(),
            store,
            delays,
            store_failing: AtomicBool::new(false),
        }
    }

    /// Processes one failure end to end and records it in the statistics.
    pub async fn process(&self, failure: &Failure) -> Outcome {
        let started = Instant::now();
        self.control.wait_stall().await;
        let active = self.control.active();
        let counters = &self.stats.counters;
        Stats::bump(&counters.total);
        if self.claim(failure, &active.config).await == Claim::Duplicate {
            Stats::bump(&counters.dedup_hits);
            Stats::bump(&counters.successful);
            self.stats.record(started.elapsed());
            return Outcome::Duplicate;
        }
        let guard = InFlight::enter(&self.stats.in_flight);
        let config = &active.config;
        if config.max_concurrent > 0 && guard.count > u64::from(config.max_concurrent) {
            Stats::bump(&counters.rejected);
            return self.finish_failed(
                started,
                Outcome::Rejected { in_flight: guard.count - 1, limit: config.max_concurrent },
            );
        }
        if config.failure_rate > 0.0 && rand::rng().random::<f64>() < config.failure_rate {
            let mode = config.failure_mode;
            Stats::bump(&counters.injected[mode.index()]);
            if mode == FailureMode::Hang {
                // Until the client gives up (this future is dropped) or the server stops.
                tokio::select! {
                    () = tokio::time::sleep(MAX_HANG) => {}
                    () = self.control.shutting_down.cancelled() => {}
                }
                Stats::bump(&counters.failed);
                return Outcome::ShuttingDown;
            }
            return self.finish_failed(started, Outcome::Injected(mode));
        }
        let _slot = match &active.workers {
            // The semaphore is never closed, so acquiring only fails if it were.
            Some(workers) => Some(workers.clone().acquire_owned().await),
            None => None,
        };
        let work = simulated_work(config, failure.resource_count);
        if !work.is_zero() {
            tokio::select! {
                () = self.delays.sleep(work) => {}
                () = self.control.hard_stop.cancelled() => {
                    return self.finish_failed(started, Outcome::ShuttingDown);
                }
            }
        }
        self.control.wait_stall().await;
        drop(guard);
        Stats::bump(&counters.successful);
        self.stats.record(started.elapsed());
        let pr = self.control.next_pr_number();
        Outcome::Processed { pr_url: format!("https://github.com/terrafix-mock/infrastructure/pull/{pr}") }
    }

    fn finish_failed(&self, started: Instant, outcome: Outcome) -> Outcome {
        Stats::bump(&self.stats.counters.failed);
        self.stats.record(started.elapsed());
        outcome
    }

    /// Claims the hash; a store error fails open (counted, logged once per outage).
    async fn claim(&self, failure: &Failure, config: &MockConfig) -> Claim {
        let ttl = Duration::from_secs(config.dedup_ttl_s);
        match self.store.claim(&failure.hash, ttl).await {
            Ok(claim) => {
                if self.store_failing.swap(false, Relaxed) {
                    tracing::info!("dedup store {} answers again", self.store.kind());
                }
                if claim == Claim::New {
                    Stats::bump(&self.stats.counters.dedup_misses);
                }
                claim
            }
            Err(err) => {
                Stats::bump(&self.stats.counters.dedup_errors);
                if !self.store_failing.swap(true, Relaxed) {
                    tracing::warn!("{err}; treating failures as new until it answers");
                }
                Claim::New
            }
        }
    }
}

/// Base latency + cost per resource + jitter.
pub fn simulated_work(config: &MockConfig, resource_count: u32) -> Duration {
    let mut ms = config.latency_ms + config.per_resource_ms * f64::from(resource_count);
    if config.jitter_ms > 0.0 {
        let u: f64 = rand::rng().random();
        ms += match config.jitter {
            Jitter::None => 0.0,
            Jitter::Uniform => u * config.jitter_ms,
            Jitter::Exponential => -(1.0 - u).ln() * config.jitter_ms,
        };
    }
    Duration::from_secs_f64((ms / 1000.0).clamp(0.0, 3600.0))
}

/// Counts a failure as in processing for as long as it lives (dropped when the client
/// goes away mid-request too, so the gauge cannot drift).
struct InFlight<'a> {
    gauge: &'a AtomicU64,
    /// The gauge's value including this failure.
    count: u64,
}

impl<'a> InFlight<'a> {
    fn enter(gauge: &'a AtomicU64) -> Self {
        let count = gauge.fetch_add(1, Relaxed) + 1;
        Self { gauge, count }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.gauge.fetch_sub(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_grows_with_resources_and_jitter_stays_in_range() {
        let config = MockConfig { latency_ms: 10.0, per_resource_ms: 0.5, ..MockConfig::default() };
        assert_eq!(simulated_work(&config, 0), Duration::from_millis(10));
        assert_eq!(simulated_work(&config, 400), Duration::from_millis(210));
        let uniform = MockConfig { jitter: Jitter::Uniform, jitter_ms: 5.0, ..config };
        for _ in 0..100 {
            let w = simulated_work(&uniform, 0);
            assert!(w >= Duration::from_millis(10) && w < Duration::from_millis(15), "{w:?}");
        }
    }
}

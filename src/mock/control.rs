//! The server's live state besides statistics: the active config (swapped whole by
//! `/configure`), the worker slots, the one-shot stall and the shutdown tokens.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::config::MockConfig;

/// One consistent view of the settings; requests keep the one they started with.
pub struct Active {
    pub config: MockConfig,
    /// `None` when `workers` is 0 (unlimited).
    pub workers: Option<Arc<Semaphore>>,
}

impl Active {
    fn new(config: MockConfig) -> Arc<Self> {
        let workers = (config.workers > 0).then(|| Arc::new(Semaphore::new(config.workers as usize)));
        Arc::new(Self { config, workers })
    }
}

pub struct Control {
    active: RwLock<Arc<Active>>,
    epoch: Instant,
    /// End of the current stall, in nanoseconds since `epoch` (0: none).
    stall_until_ns: AtomicU64,
    /// Woken when a stall is cancelled (`stall_ms: 0`), so waiting requests go on at once.
    stall_cancelled: tokio::sync::Notify,
    pr_counter: AtomicU64,
    /// Cancelled when shutdown starts: hanging requests give up, `/ready` turns 503.
    pub shutting_down: CancellationToken,
    /// Cancelled when the drain time is over: simulated work stops at once.
    pub hard_stop: CancellationToken,
}

impl Control {
    pub fn new(config: MockConfig) -> Self {
        Self {
            active: RwLock::new(Active::new(config)),
            epoch: Instant::now(),
            stall_until_ns: AtomicU64::new(0),
            stall_cancelled: tokio::sync::Notify::new(),
            pr_counter: AtomicU64::new(0),
            shutting_down: CancellationToken::new(),
            hard_stop: CancellationToken::new(),
        }
    }

    pub fn active(&self) -> Arc<Active> {
        // A poisoned lock held a fully written Arc (assignment cannot half-happen).
        Arc::clone(&self.active.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Installs new settings; requests already running finish under the old ones.
    pub fn replace(&self, config: MockConfig) {
        let next = Active::new(config);
        *self.active.write().unwrap_or_else(|p| p.into_inner()) = next;
    }

    /// Starts (or extends) a stop-the-world pause of `length` from now; a zero length
    /// ends the current one at once.
    pub fn stall(&self, length: Duration) {
        if length.is_zero() {
            self.stall_until_ns.store(0, Relaxed);
            self.stall_cancelled.notify_waiters();
            return;
        }
        let until = (self.epoch.elapsed() + length).as_nanos().min(u128::from(u64::MAX)) as u64;
        self.stall_until_ns.fetch_max(until, Relaxed);
    }

    /// Waits while a stall is on (returns at once otherwise).
    pub async fn wait_stall(&self) {
        loop {
            // Registered before the check, so a cancel between the two is not missed.
            let cancelled = self.stall_cancelled.notified();
            let until = self.stall_until_ns.load(Relaxed);
            if until == 0 || self.epoch.elapsed().as_nanos() >= u128::from(until) {
                return;
            }
            let deadline = self.epoch + Duration::from_nanos(until);
            tokio::select! {
                () = tokio::time::sleep_until(deadline.into()) => {}
                () = cancelled => {}
                () = self.hard_stop.cancelled() => return,
            }
        }
    }

    /// Remaining stall, for `/status`.
    pub fn stall_remaining(&self) -> Duration {
        let until = Duration::from_nanos(self.stall_until_ns.load(Relaxed));
        until.saturating_sub(self.epoch.elapsed())
    }

    pub fn next_pr_number(&self) -> u64 {
        self.pr_counter.fetch_add(1, Relaxed) + 1
    }
}

#[cfg(test)]
mod stall_tests {
    use super::*;

    #[tokio::test]
    async fn a_zero_stall_ends_the_running_one_at_once() {
        let control = Arc::new(Control::new(MockConfig::default()));
        control.stall(Duration::from_secs(30));
        let waiter = {
            let control = control.clone();
            tokio::spawn(async move { control.wait_stall().await })
        };
        // Wait until the waiter is parked on the stall (bounded), then cancel it.
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        control.stall(Duration::ZERO);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("stall_ms 0 releases the waiting request")
            .unwrap();
        assert_eq!(control.stall_remaining(), Duration::ZERO);
    }
}

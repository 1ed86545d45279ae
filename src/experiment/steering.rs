//! The run's steering channel: the UI (or a test) asks for more users, another arrival
//! rate or a longer phase; the phase running at that moment applies it. Each phase
//! subscribes when it starts, so a request made between phases reaches none of them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::broadcast;

use crate::engine::{Steer, SteerReceiver, SteerRequest};
use crate::metrics::summary::ChangeSource;

/// Requests queued for the running phase; more than this many unread are overtaken.
const STEER_CAPACITY: usize = 64;

/// Live steering of the running phase: a broadcast of [`Steer`] requests the phase subscribes to as it starts.
#[derive(Clone, Debug)]
pub struct SteerControl {
    requests: broadcast::Sender<SteerRequest>,
}

impl Default for SteerControl {
    fn default() -> SteerControl {
        let (requests, _) = broadcast::channel(STEER_CAPACITY);
        SteerControl { requests }
    }
}

impl SteerControl {
    /// Asks the running phase to change. Returns false when no phase is running to hear it.
    pub fn send(&self, steer: Steer) -> bool {
        self.send_from(steer, ChangeSource::Tui)
    }

    /// `send`, naming who asked (recorded in the phase's `changes`).
    pub fn send_from(&self, steer: Steer, source: ChangeSource) -> bool {
        self.requests.send(SteerRequest { steer, source }).is_ok()
    }

    /// Called by a phase as it starts: the requests made from now on.
    pub fn subscribe(&self) -> SteerReceiver {
        self.requests.subscribe()
    }
}

/// "Reset the live statistics" (Locust's reset): the live table and totals count from the
/// next tick on; the files keep everything. A generation counter, read by each tick.
#[derive(Clone, Debug, Default)]
pub struct ViewReset {
    generation: Arc<AtomicU64>,
}

impl ViewReset {
    /// Starts a new count: the live view counts from the next tick on.
    pub fn reset(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// How many resets so far; a tick that sees it change restarts its live totals.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }
}

//! The generator's own health while a phase runs: its CPU (the embedded mock's threads
//! told apart by name) and the worst stall of its event loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::proc::{clock_ticks_per_s, process_ticks, thread_ticks};

/// Threads of the embedded mock target are named with this prefix, so that the
/// generator's CPU can be told apart from the target's in one process.
pub const EMBEDDED_THREAD_NAME: &str = "tfx-mock";

/// utime + stime of the embedded server's threads, in clock ticks.
pub fn server_thread_ticks() -> u64 {
    thread_ticks(EMBEDDED_THREAD_NAME)
}

/// How often the stall probe wakes; a late wake-up is a stalled event loop.
const PROBE_EVERY: Duration = Duration::from_millis(10);

/// Watches the generator while a phase runs.
pub struct GeneratorProbe {
    live: LiveProbe,
    stall: tokio::task::JoinHandle<()>,
}

/// The probe's readings, to be taken while the phase runs (cheap: two small /proc reads).
#[derive(Clone)]
pub struct LiveProbe {
    process_ticks: u64,
    server_ticks: u64,
    started: std::time::Instant,
    worst_stall_us: Arc<AtomicU64>,
}

/// What the probe has seen so far.
#[derive(Clone, Copy, Debug)]
pub struct ProbeReading {
    /// CPU seconds the generator used (the process less the embedded target's threads).
    pub cpu_s: f64,
    /// `cpu_s` ÷ (wall time × `cores`), 0–1.
    pub cpu_share: f64,
    /// Cores available to the process.
    pub cores: usize,
    /// The longest the event loop was late waking a 10 ms timer (ms).
    pub worst_stall_ms: f64,
}

impl GeneratorProbe {
    /// Starts watching; `stop` ends the stall probe with the phase.
    pub fn start(stop: CancellationToken) -> GeneratorProbe {
        let worst_stall_us = Arc::new(AtomicU64::new(0));
        let worst = worst_stall_us.clone();
        let stall = tokio::spawn(async move {
            loop {
                let due = Instant::now() + PROBE_EVERY;
                tokio::select! {
                    _ = tokio::time::sleep_until(due) => {}
                    _ = stop.cancelled() => return,
                }
                let late = Instant::now().saturating_duration_since(due).as_micros();
                worst.fetch_max(u64::try_from(late).unwrap_or(u64::MAX), Ordering::Relaxed);
            }
        });
        let live = LiveProbe {
            process_ticks: process_ticks(),
            server_ticks: server_thread_ticks(),
            started: std::time::Instant::now(),
            worst_stall_us,
        };
        GeneratorProbe { live, stall }
    }

    /// A handle for readings while the phase runs.
    pub fn live(&self) -> LiveProbe {
        self.live.clone()
    }

    /// The generator's CPU seconds, its share of the machine, and the worst stall.
    pub async fn finish(self) -> (f64, f64, usize, f64) {
        // The stall task only ends when the phase's token is cancelled; a panic in it
        // would lose only stalls, which the reading below then lacks.
        let _ = self.stall.await;
        let r = self.live.reading();
        (r.cpu_s, r.cpu_share, r.cores, r.worst_stall_ms)
    }
}

impl LiveProbe {
    /// The figures since the probe started.
    pub fn reading(&self) -> ProbeReading {
        let wall = self.started.elapsed().as_secs_f64().max(1e-3);
        let hz = clock_ticks_per_s();
        let process = process_ticks().saturating_sub(self.process_ticks);
        let server = server_thread_ticks().saturating_sub(self.server_ticks);
        let cpu_s = process.saturating_sub(server) as f64 / hz;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        ProbeReading {
            cpu_s,
            cpu_share: cpu_s / (wall * cores as f64),
            cores,
            worst_stall_ms: self.worst_stall_us.load(Ordering::Relaxed) as f64 / 1000.0,
        }
    }
}

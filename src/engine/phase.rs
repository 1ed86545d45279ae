//! One phase of load: starts the population (closed) or the arrival schedule (open),
//! ticks the aggregator once a second, stops on time / skip / cancel, drains in-flight work.

#![deny(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::aggregate::{PhaseTotals, Tick};
use super::http::HttpClient;
use super::recorder::Recorder;
use super::steer::{Steer, SteerReceiver, SteerRefused, SteerRequest, change_record};
use super::{closed, open};
use crate::metrics::summary::PhaseChange;
use crate::profile::{Load, Phase};

/// How long in-flight requests may take to finish once a phase stops.
pub const DRAIN_GRACE: Duration = Duration::from_secs(5);
/// The aggregator's tick.
pub const TICK_INTERVAL: Duration = Duration::from_secs(1);

/// What a phase needs besides the client.
#[derive(Clone)]
pub struct PhaseSpec {
    /// The validated phase to run (load, duration, behaviour, faults).
    pub phase: Phase,
    /// Seeds every user's RNG (mixed with the user's index).
    pub seed: u64,
    /// Locust's lockstep start instead of random offsets.
    pub lockstep_start: bool,
}

/// One tick's view, handed to the sink (history writer, snapshot publisher, …).
pub struct TickReport<'a> {
    /// The window just merged over every shard.
    pub tick: &'a Tick,
    /// The phase's figures so far, this window included.
    pub totals: &'a PhaseTotals,
    /// Length of the window this tick covers.
    pub window: Duration,
    /// Time since the phase started.
    pub phase_elapsed: Duration,
    /// Closed model: users running now; 0 for an open phase.
    pub users: u32,
    /// Requests sent and not yet answered at the tick.
    pub in_flight: u64,
    /// Wall-clock time of the tick.
    pub at: SystemTime,
    /// True for the last, possibly partial, window after the phase stopped.
    pub is_final: bool,
}

/// Receives every tick. Runs on the aggregator's task: keep it quick (no awaits).
pub trait TickSink: Send {
    /// Called once per tick (about every [`TICK_INTERVAL`]) and once more for the final window.
    fn on_tick(&mut self, report: &TickReport<'_>);

    /// A steering change was applied; `planned` is the phase's length now (extensions included).
    fn on_change(&mut self, _change: &PhaseChange, _planned: Duration) {}

    /// A steering request did not fit this phase and was ignored.
    fn on_refused(&mut self, _reason: &SteerRefused) {}
}

/// Why a phase's load stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhaseEnd {
    /// Ran for its whole duration.
    Completed,
    /// `stop` was cancelled before the duration was up.
    Stopped,
}

/// What a phase measured, handed back when it ends.
pub struct PhaseResult {
    /// Everything measured, over the whole phase.
    pub totals: PhaseTotals,
    /// Wall-clock time the phase started.
    pub started_at: SystemTime,
    /// How long load was sent (shorter than planned when stopped, longer when extended).
    pub ran_for: Duration,
    /// Whether it ran its course or was stopped.
    pub end: PhaseEnd,
    /// Requests still running after the drain grace, abandoned uncounted.
    pub abandoned: u64,
    /// Steering applied while it ran, in order.
    pub changes: Vec<PhaseChange>,
}

/// Counters shared between workers and the aggregator.
#[derive(Default)]
pub struct Live {
    /// Closed model: users running now.
    pub users: AtomicU32,
    /// Requests sent and not yet answered.
    pub in_flight: AtomicU64,
}

/// Runs one phase to its end. `stop` ends it early (skip or abort).
pub async fn run_phase(
    spec: &PhaseSpec,
    client: &HttpClient,
    stop: &CancellationToken,
    sink: &mut dyn TickSink,
) -> PhaseResult {
    run_phase_steered(spec, client, stop, sink, None).await
}

/// [`run_phase`] that also applies live steering read from `steer`.
pub async fn run_phase_steered(
    spec: &PhaseSpec,
    client: &HttpClient,
    stop: &CancellationToken,
    sink: &mut dyn TickSink,
    mut steer: Option<SteerReceiver>,
) -> PhaseResult {
    let recorder = Recorder::new();
    let live = Arc::new(Live::default());
    let workers_stop = stop.child_token();
    if let Load::Open { rate_from_per_s, max_in_flight, .. } = &spec.phase.load {
        // Before the phase clock starts: the time it takes is not the phase's.
        let n = open::warm_connections(*rate_from_per_s, u64::from(max_in_flight.get()));
        client.warm(n, client.connect_timeout().min(WARM_WITHIN)).await;
    }
    let started_at = SystemTime::now();
    let start = Instant::now();
    let mut end_at = start + spec.phase.duration;
    let mut changes = Vec::new();
    let StartedLoad { population, users_tx, rate_tx } =
        start_load(spec, client, &recorder, &live, &workers_stop, start, started_at);

    let mut totals = PhaseTotals::default();
    let mut ticker = tokio::time::interval_at(start + TICK_INTERVAL, TICK_INTERVAL);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_tick = start;
    let end = loop {
        tokio::select! {
            _ = ticker.tick() => {
                let now = Instant::now();
                emit(&recorder, &mut totals, &live, sink, now - last_tick, now - start, false);
                last_tick = now;
            }
            _ = tokio::time::sleep_until(end_at) => break PhaseEnd::Completed,
            _ = stop.cancelled() => break PhaseEnd::Stopped,
            asked = next_steer(&mut steer) => {
                let Some(asked) = asked else { steer = None; continue };
                let applied = apply(asked.steer, &spec.phase.load, &users_tx, &rate_tx, &mut end_at);
                match applied {
                    Ok(()) => {
                        let change = change_record(start.elapsed(), asked);
                        sink.on_change(&change, end_at - start);
                        changes.push(change);
                    }
                    Err(reason) => sink.on_refused(&reason),
                }
            }
        }
    };
    let ran_for = start.elapsed();
    workers_stop.cancel();
    let drain_bound = DRAIN_GRACE + client.timeout().min(DRAIN_GRACE);
    let abandoned = match join_or_abort(population, drain_bound).await {
        Some(abandoned) => abandoned,
        // The population task panicked or overran its own grace: count what is still in flight.
        None => live.in_flight.load(Ordering::Relaxed),
    };
    let now = Instant::now();
    emit(&recorder, &mut totals, &live, sink, now - last_tick, ran_for, true);
    PhaseResult { totals, started_at, ran_for, end, abandoned, changes }
}

/// The phase's load, started: the population (closed) or schedule (open) task and the
/// senders steering changes reach it through.
struct StartedLoad {
    population: tokio::task::JoinHandle<u64>,
    users_tx: tokio::sync::watch::Sender<u32>,
    rate_tx: tokio::sync::watch::Sender<Option<f64>>,
}

/// Spawns the closed population or the open schedule; its handle is the caller's to join
/// or abort ([`join_or_abort`]).
fn start_load(
    spec: &PhaseSpec,
    client: &HttpClient,
    recorder: &Recorder,
    live: &Arc<Live>,
    workers_stop: &CancellationToken,
    start: Instant,
    started_at: SystemTime,
) -> StartedLoad {
    let (users_tx, users_rx) = tokio::sync::watch::channel(match &spec.phase.load {
        Load::Closed { users, .. } => users.get(),
        Load::Open { .. } => 0,
    });
    let (rate_tx, rate_rx) = tokio::sync::watch::channel(None::<f64>);

    let population = match &spec.phase.load {
        Load::Closed { spawn_rate_per_s, .. } => tokio::spawn(closed::population(
            closed::ClosedPlan { users: users_rx, spawn_rate_per_s: *spawn_rate_per_s, start, started_at },
            spec.clone(),
            client.clone(),
            recorder.clone(),
            live.clone(),
            workers_stop.clone(),
        )),
        Load::Open { rate_from_per_s, rate_to_per_s, max_in_flight } => tokio::spawn(open::schedule(
            open::OpenPlan {
                rate_from_per_s: *rate_from_per_s,
                rate_to_per_s: *rate_to_per_s,
                max_in_flight: u64::from(max_in_flight.get()),
                duration: spec.phase.duration,
                steered_rate: rate_rx,
                start,
                started_at,
            },
            spec.clone(),
            client.clone(),
            recorder.clone(),
            live.clone(),
            workers_stop.clone(),
        )),
    };
    StartedLoad { population, users_tx, rate_tx }
}

/// The longest the open model's connections may take to open before the phase starts.
const WARM_WITHIN: Duration = Duration::from_secs(2);

/// How long an aborted population task may take to notice its abort and drop its users.
const ABORT_WAIT: Duration = Duration::from_secs(1);

/// The task's output if it ends within `bound`; else it is aborted (its users with it,
/// their `JoinSet` dropped), so no request of this phase is sent after the phase returned.
/// `None` when it panicked or overran.
async fn join_or_abort<T>(mut task: tokio::task::JoinHandle<T>, bound: Duration) -> Option<T> {
    match tokio::time::timeout(bound, &mut task).await {
        Ok(Ok(output)) => Some(output),
        Ok(Err(_panicked)) => None,
        Err(_overran) => {
            task.abort();
            // Waits only until the abort took effect (its outcome is the cancellation asked
            // for); a task that has not yielded by then stops at its next await.
            let _ = tokio::time::timeout(ABORT_WAIT, task).await;
            None
        }
    }
}

/// The next steering request; `None` once the sender is gone, pending forever without one.
pub async fn next_steer(steer: &mut Option<SteerReceiver>) -> Option<SteerRequest> {
    let Some(rx) = steer.as_mut() else { return std::future::pending().await };
    loop {
        match rx.recv().await {
            Ok(asked) => return Some(asked),
            // Requests older than the channel's capacity were overtaken by newer ones: go on.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
        }
    }
}

/// Whether a steering request fits a phase of this model (the distributed coordinator checks
/// it before fanning it out; `apply` checks it before acting on it).
pub fn steer_fits(asked: Steer, load: &Load) -> Result<(), SteerRefused> {
    match (asked, load) {
        (Steer::Users(0), Load::Closed { .. }) => Err(SteerRefused::NoUsers),
        (Steer::Users(_), Load::Closed { .. }) => Ok(()),
        (Steer::Users(_), Load::Open { .. }) => Err(SteerRefused::UsersInOpenPhase),
        (Steer::ArrivalRate(r), Load::Open { .. }) if r.is_finite() && r > 0.0 => Ok(()),
        (Steer::ArrivalRate(_), Load::Open { .. }) => Err(SteerRefused::BadRate),
        (Steer::ArrivalRate(_), Load::Closed { .. }) => Err(SteerRefused::RateInClosedPhase),
        (Steer::Extend(d), _) if d.is_zero() => Err(SteerRefused::NoTime),
        (Steer::Extend(_), _) => Ok(()),
    }
}

/// Checks a request against the phase's model and hands it to the population or schedule.
fn apply(
    asked: Steer,
    load: &Load,
    users: &tokio::sync::watch::Sender<u32>,
    rate: &tokio::sync::watch::Sender<Option<f64>>,
    end_at: &mut Instant,
) -> Result<(), SteerRefused> {
    steer_fits(asked, load)?;
    match asked {
        // A worker of a distributed run may get no user of a small count: it keeps none.
        Steer::Users(n) => {
            users.send_replace(n);
        }
        Steer::ArrivalRate(r) => {
            rate.send_replace(Some(r));
        }
        Steer::Extend(d) => *end_at += d,
    }
    Ok(())
}

fn emit(
    recorder: &Recorder,
    totals: &mut PhaseTotals,
    live: &Live,
    sink: &mut dyn TickSink,
    window: Duration,
    phase_elapsed: Duration,
    is_final: bool,
) {
    let tick = totals.absorb(recorder.drain());
    sink.on_tick(&TickReport {
        tick: &tick,
        totals,
        window,
        phase_elapsed,
        users: live.users.load(Ordering::Relaxed),
        in_flight: live.in_flight.load(Ordering::Relaxed),
        at: SystemTime::now(),
        is_final,
    });
}

/// Seed of user `index` in a phase: distinct streams per user, reproducible per run seed.
pub fn user_seed(run_seed: u64, phase_name: &str, index: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ run_seed;
    for b in phase_name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // splitmix64 finaliser over (phase hash + index) so neighbouring users differ in every bit.
    let mut z = h.wrapping_add(index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dropped when the task holding it is: tells the test the task is gone.
    struct Gone(Option<tokio::sync::oneshot::Sender<()>>);
    impl Drop for Gone {
        fn drop(&mut self) {
            if let Some(tx) = self.0.take() {
                // The test may have ended already: nobody is left to tell.
                let _ = tx.send(());
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_population_that_overruns_the_drain_is_aborted_not_left_running() {
        let (gone_tx, mut gone_rx) = tokio::sync::oneshot::channel();
        let stuck = tokio::spawn(async move {
            let _guard = Gone(Some(gone_tx));
            std::future::pending::<u64>().await
        });
        assert_eq!(join_or_abort(stuck, Duration::from_secs(3)).await, None);
        assert!(gone_rx.try_recv().is_ok(), "the overrunning task still runs after the phase returned");
    }

    #[tokio::test(start_paused = true)]
    async fn a_population_that_ends_in_time_hands_back_its_count() {
        let quick = tokio::spawn(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            7u64
        });
        assert_eq!(join_or_abort(quick, Duration::from_secs(3)).await, Some(7));
    }
}

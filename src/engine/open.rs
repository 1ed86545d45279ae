//! Open model: arrivals on a fixed schedule (constant or linearly ramping rate), each sent
//! by its own task, independent of how fast the target answers. Latency is measured from
//! the intended send time (no coordinated omission); arrivals that find `max_in_flight`
//! requests busy are counted as dropped, not silently delayed.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::closed::{drain, send_logical};
use super::http::HttpClient;
use super::phase::{Live, PhaseSpec, user_seed};
use super::recorder::Recorder;
use crate::workload::VirtualUser;

pub struct OpenPlan {
    pub rate_from_per_s: f64,
    pub rate_to_per_s: f64,
    pub max_in_flight: u64,
    pub duration: Duration,
    /// `Some(rate)` once steering set a constant rate that replaces the planned schedule.
    pub steered_rate: watch::Receiver<Option<f64>>,
    pub start: Instant,
    /// Wall-clock start, for the payloads' `failed_at`.
    pub started_at: std::time::SystemTime,
}

/// Seconds from the phase start of arrival `i` when the rate ramps linearly from `a` to
/// `b` over `t_total`: the `i`-th unit of the integrated rate `a·t + (b−a)·t²/(2·T)`.
pub fn arrival_offset_s(i: u64, a: f64, b: f64, t_total: f64) -> f64 {
    let i = i as f64;
    let k = (b - a) / (2.0 * t_total.max(1e-9));
    if k.abs() < 1e-12 {
        return i / a;
    }
    // Root of k·t² + a·t − i = 0 that is ≥ 0 (a > 0 is guaranteed by validation).
    (-a + (a * a + 4.0 * k * i).max(0.0).sqrt()) / (2.0 * k)
}

/// Connections to open before an open-model phase starts at `rate_per_s`: enough for the
/// arrivals of [`WARM_SPAN`] to be in flight at once (a timer tick's batch and answers of a
/// few ms), at least one, never more than `max_in_flight`. More are opened as needed.
pub fn warm_connections(rate_per_s: f64, max_in_flight: u64) -> usize {
    let wanted = (rate_per_s * WARM_SPAN.as_secs_f64()).ceil();
    // `as` saturates: a negative product becomes 0, and the clamp makes it 1.
    let wanted = if wanted.is_finite() { wanted as u64 } else { 1 };
    usize::try_from(wanted.clamp(1, max_in_flight.max(1))).unwrap_or(1)
}

/// The span of arrivals [`warm_connections`] opens connections for.
const WARM_SPAN: Duration = Duration::from_millis(5);

/// Where the next arrival's time comes from.
enum Pace {
    /// The profile's constant or ramping rate, arrival `i` counted from the phase start.
    Planned,
    /// A constant rate from `from_s` (a steering change, or the planned end reached by an
    /// extended phase): arrival `n` is at `from_s + n / rate`.
    Constant { from_s: f64, rate: f64, n: u64 },
}

/// While arrivals are due closer together than this, the schedule's timer ticks at this
/// interval (each tick sends every arrival due by then), so an arrival goes out at most one
/// tick late; past two ticks apart it is armed for the next arrival exactly.
const PACE_TICK: Duration = Duration::from_micros(250);

/// Waits for arrival times on a timerfd (nanosecond deadlines), or on tokio's timer where
/// there is none. tokio's counts whole milliseconds: every arrival went out 1–2 ms late.
struct Pacer {
    timer: Option<crate::sys::timerfd::Timer>,
    /// The timerfd is ticking every [`PACE_TICK`] (it was armed and not stopped).
    ticking: bool,
}

impl Pacer {
    fn new() -> Pacer {
        let timer = crate::sys::timerfd::Timer::new()
            .inspect_err(|e| tracing::debug!("open model: no timerfd ({e}); arrivals use tokio's timer"))
            .ok();
        Pacer { timer, ticking: false }
    }

    /// Returns once `at` has passed: at most one [`PACE_TICK`] late (plus the time a busy
    /// runtime takes to notice), never early. Cancel-safe.
    async fn until(&mut self, at: Instant) {
        loop {
            let now = Instant::now();
            if at <= now {
                return;
            }
            let Some(timer) = &self.timer else {
                return tokio::time::sleep_until(at).await;
            };
            let armed = if !self.ticking || at > now + 2 * PACE_TICK {
                timer.arm(at.into_std(), PACE_TICK)
            } else {
                Ok(())
            };
            match armed {
                Ok(()) => self.ticking = true,
                Err(e) => {
                    tracing::debug!("open model: timerfd failed ({e}); arrivals use tokio's timer");
                    self.timer = None;
                    continue;
                }
            }
            if let Err(e) = timer.wait().await {
                tracing::debug!("open model: timerfd failed ({e}); arrivals use tokio's timer");
                self.timer = None;
            }
        }
    }
}

/// What ended the wait for the next arrival.
enum Wake {
    /// Its time has come.
    Due,
    /// Steering changed the rate, or (`sender_gone`) the steering side went away.
    Steered { sender_gone: bool },
    /// The phase is stopping.
    Stop,
}

pub async fn schedule(
    mut plan: OpenPlan,
    spec: PhaseSpec,
    client: HttpClient,
    recorder: Recorder,
    live: Arc<Live>,
    stop: CancellationToken,
) -> u64 {
    // One generator for the whole schedule: the request sequence is reproducible per seed.
    let mut generator = VirtualUser::new(
        spec.phase.behaviour.clone(),
        spec.phase.repo_size,
        user_seed(spec.seed, &spec.phase.name, 0),
    )
    .with_phase_start(plan.started_at);
    let total_s = plan.duration.as_secs_f64();
    let mut senders = JoinSet::new();
    let mut i: u64 = 0;
    let mut pace = Pace::Planned;
    let mut pacer = Pacer::new();
    loop {
        let offset_s = match &mut pace {
            Pace::Planned => arrival_offset_s(i, plan.rate_from_per_s, plan.rate_to_per_s, total_s),
            Pace::Constant { from_s, rate, n } => *from_s + *n as f64 / *rate,
        };
        if !offset_s.is_finite() {
            break;
        }
        if matches!(pace, Pace::Planned) && offset_s >= total_s {
            // Only an extended phase runs past its plan: it holds the final rate.
            pace = Pace::Constant { from_s: total_s, rate: plan.rate_to_per_s.max(1e-6), n: 1 };
            continue;
        }
        let intended = plan.start + Duration::from_secs_f64(offset_s);
        // An arrival already due (the timer woke late, or many fall in one tick) goes out
        // at once: no timer is armed for it.
        let wake = if intended > Instant::now() {
            tokio::select! {
                () = pacer.until(intended) => Wake::Due,
                changed = plan.steered_rate.changed() => Wake::Steered { sender_gone: changed.is_err() },
                _ = stop.cancelled() => Wake::Stop,
            }
        } else if stop.is_cancelled() {
            Wake::Stop
        } else {
            match plan.steered_rate.has_changed() {
                Ok(false) => Wake::Due,
                Ok(true) => Wake::Steered { sender_gone: false },
                Err(_) => Wake::Steered { sender_gone: true },
            }
        };
        match wake {
            Wake::Due => {}
            Wake::Stop => break,
            // The steering side is gone: the phase is ending; wait for the stop.
            Wake::Steered { sender_gone: true } => break,
            Wake::Steered { sender_gone: false } => {
                if let Some(rate) = *plan.steered_rate.borrow_and_update() {
                    let from_s = plan.start.elapsed().as_secs_f64();
                    pace = Pace::Constant { from_s, rate, n: 1 };
                }
                continue;
            }
        }
        if let Pace::Constant { n, .. } = &mut pace {
            *n += 1;
        }
        let requests = generator.next_task(Duration::from_secs_f64(offset_s));
        let shard = recorder.shard(i as usize);
        if live.in_flight.load(Ordering::Relaxed) >= plan.max_in_flight {
            for r in &requests {
                shard.record_dropped(r.method.as_str(), &r.name);
            }
        } else {
            let (client, live, stop) = (client.clone(), live.clone(), stop.clone());
            let retry = spec.phase.behaviour.retry.clone();
            let mut jitter = super::closed::Jitter::new(user_seed(spec.seed, &spec.phase.name, i));
            // Count it in flight now, so the next arrival sees it even before the task runs.
            live.in_flight.fetch_add(1, Ordering::Relaxed);
            senders.spawn(async move {
                // How late this arrival goes out against its schedule (timer, queueing, CPU).
                shard.record_lag(Instant::now().saturating_duration_since(intended));
                let mut from = intended;
                let mut connection = client.checkout();
                for request in &requests {
                    send_logical(&mut connection, &shard, request, from, retry.as_ref(), &mut jitter, &stop)
                        .await;
                    from = Instant::now();
                }
                client.checkin(connection);
                live.in_flight.fetch_sub(1, Ordering::Relaxed);
            });
        }
        // Reap finished senders so the set stays as small as the work in flight.
        while senders.try_join_next().is_some() {}
        i += 1;
    }
    stop.cancelled().await;
    drain(senders, &live).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_spacing() {
        assert!((arrival_offset_s(200, 200.0, 200.0, 10.0) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn ramp_integrates_the_rate() {
        // 0→100 rps over 10 s: 500 arrivals in total, the 125th at 5 s.
        assert!((arrival_offset_s(125, 1e-9, 100.0, 10.0) - 5.0).abs() < 1e-3);
        let last = arrival_offset_s(499, 1e-9, 100.0, 10.0);
        assert!(last < 10.0 && last > 9.9, "{last}");
    }

    #[test]
    fn warm_connections_follow_the_rate_within_bounds() {
        assert_eq!(warm_connections(20_000.0, 2_000), 100);
        assert_eq!(warm_connections(20_000.0, 50), 50);
        assert_eq!(warm_connections(10.0, 1_000), 1);
        assert_eq!(warm_connections(f64::INFINITY, 1_000), 1);
        assert_eq!(warm_connections(1e9, 0), 1);
    }
}

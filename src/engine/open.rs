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

/// Where the next arrival's time comes from.
enum Pace {
    /// The profile's constant or ramping rate, arrival `i` counted from the phase start.
    Planned,
    /// A constant rate from `from_s` (a steering change, or the planned end reached by an
    /// extended phase): arrival `n` is at `from_s + n / rate`.
    Constant { from_s: f64, rate: f64, n: u64 },
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
        tokio::select! {
            _ = tokio::time::sleep_until(intended) => {}
            changed = plan.steered_rate.changed() => {
                let steered = if changed.is_ok() { *plan.steered_rate.borrow_and_update() } else { None };
                match steered {
                    Some(rate) => {
                        let from_s = plan.start.elapsed().as_secs_f64();
                        pace = Pace::Constant { from_s, rate, n: 1 };
                    }
                    // The steering side is gone: the phase is ending; wait for the stop.
                    None if changed.is_err() => break,
                    None => {}
                }
                continue;
            }
            _ = stop.cancelled() => break,
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
}

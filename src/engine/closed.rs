//! Closed model: a population of virtual users spawned at the spawn rate, each looping
//! task → wait until told to stop. Latency is measured from the actual send.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::http::{Connection, HttpClient, Outcome};
use super::phase::{DRAIN_GRACE, Live, PhaseSpec, user_seed};
use super::recorder::{Recorder, ShardHandle};
use crate::workload::{PlannedRequest, VirtualUser};

pub struct ClosedPlan {
    /// The target user count: the profile's at first, then whatever steering asks for.
    pub users: watch::Receiver<u32>,
    pub spawn_rate_per_s: f64,
    pub start: Instant,
    /// Wall-clock start, for the payloads' `failed_at` (phase start + elapsed).
    pub started_at: std::time::SystemTime,
}

/// Starts and stops users at the spawn rate until as many run as `plan.users` asks, then
/// (after `stop`) waits for them to finish their current request. A user stopped by
/// steering finishes its in-flight request too. Returns how many requests were abandoned
/// after the grace period.
pub async fn population(
    mut plan: ClosedPlan,
    spec: PhaseSpec,
    client: HttpClient,
    recorder: Recorder,
    live: Arc<Live>,
    stop: CancellationToken,
) -> u64 {
    let mut users = JoinSet::new();
    // One token per running user, newest last: steering down stops the newest first.
    let mut running: Vec<CancellationToken> = Vec::new();
    let step = Duration::from_secs_f64(1.0 / plan.spawn_rate_per_s.max(1e-6));
    let mut next_at = plan.start;
    let mut next_index: u64 = 0;
    loop {
        while users.try_join_next().is_some() {}
        let target = *plan.users.borrow_and_update() as usize;
        if running.len() == target {
            tokio::select! {
                changed = plan.users.changed() => if changed.is_err() { break },
                _ = stop.cancelled() => break,
            }
            continue;
        }
        // After a quiet spell, start the next change now rather than catching up in a burst.
        let now = Instant::now();
        if next_at + step < now {
            next_at = now;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(next_at) => {}
            // The target moved while waiting: look again before starting or stopping anyone.
            changed = plan.users.changed() => if changed.is_err() { break } else { continue },
            _ = stop.cancelled() => break,
        }
        next_at += step;
        if running.len() > target {
            if let Some(user_stop) = running.pop() {
                user_stop.cancel();
            }
            continue;
        }
        let user = VirtualUser::new(
            spec.phase.behaviour.clone(),
            spec.phase.repo_size,
            user_seed(spec.seed, &spec.phase.name, next_index),
        )
        .with_phase_start(plan.started_at);
        let user_stop = stop.child_token();
        running.push(user_stop.clone());
        live.users.fetch_add(1, Ordering::Relaxed);
        users.spawn(user_loop(
            user,
            !spec.lockstep_start,
            client.clone(),
            recorder.shard(next_index as usize),
            live.clone(),
            user_stop,
            plan.start,
        ));
        next_index += 1;
    }
    stop.cancelled().await;
    drain(users, &live).await
}

/// Waits up to the grace period for workers, then aborts the rest and reports how many
/// requests were still in flight.
pub async fn drain(mut workers: JoinSet<()>, live: &Live) -> u64 {
    let deadline = Instant::now() + DRAIN_GRACE;
    loop {
        tokio::select! {
            next = workers.join_next() => if next.is_none() { return 0 },
            _ = tokio::time::sleep_until(deadline) => {
                let abandoned = live.in_flight.load(Ordering::Relaxed);
                workers.abort_all();
                return abandoned;
            }
        }
    }
}

async fn user_loop(
    mut user: VirtualUser,
    random_start: bool,
    client: HttpClient,
    shard: ShardHandle,
    live: Arc<Live>,
    stop: CancellationToken,
    phase_start: Instant,
) {
    if random_start {
        let offset = user.start_offset();
        tokio::select! {
            _ = tokio::time::sleep(offset) => {}
            _ = stop.cancelled() => { live.users.fetch_sub(1, Ordering::Relaxed); return; }
        }
    }
    let mut connection = client.connection();
    while !stop.is_cancelled() {
        let task_start = Instant::now();
        let elapsed = task_start - phase_start;
        for request in user.next_task(elapsed) {
            if stop.is_cancelled() {
                break;
            }
            live.in_flight.fetch_add(1, Ordering::Relaxed);
            send_and_record(&mut connection, &shard, &request, Instant::now()).await;
            live.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
        let wait = user.next_wait(elapsed, task_start.elapsed());
        if wait.is_zero() {
            // A zero sleep still waits for the timer wheel's next millisecond tick: skip it.
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.cancelled() => break,
        }
    }
    live.users.fetch_sub(1, Ordering::Relaxed);
}

/// Sends one request and records it with latency measured from `measured_from`
/// (the actual send for closed users, the intended send for open arrivals).
pub async fn send_and_record(
    connection: &mut Connection,
    shard: &ShardHandle,
    request: &PlannedRequest,
    measured_from: Instant,
) {
    shard.add_duplicates(request.duplicates);
    let outcome = connection.send(request).await;
    let latency_us = measured_from.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
    let method = request.method.as_str();
    match &outcome {
        Outcome::Ok { content_bytes, failed_items } => {
            shard.add_failed_items(*failed_items);
            shard.record(method, &request.name, latency_us, *content_bytes, None)
        }
        Outcome::Failed { kind, message, content_bytes } => {
            shard.record(method, &request.name, latency_us, *content_bytes, Some((*kind, message)))
        }
    }
}

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
use super::recorder::{LogicalOutcome, Recorder, ShardHandle};
use crate::metrics::FailureKind;
use crate::profile::RetryPolicy;
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
    let retry = user.behaviour().retry.clone();
    let mut jitter = Jitter::new(if retry.is_some() { user.draw_seed() } else { 1 });
    // Paced users have a plan to be late against: how late each wait ends is the
    // generator's own lag (a slow answer that eats the interval is the target's, not ours).
    let pacing = user.behaviour().wait.pacing_interval();
    let paced = pacing.is_some();
    // When this iteration should have started (a paced user's plan): its first request's
    // response time counts from there, the next ones' from the previous answer.
    let mut planned = None::<Instant>;
    while !stop.is_cancelled() {
        let task_start = Instant::now();
        let elapsed = task_start - phase_start;
        let mut intended = planned.take().unwrap_or(task_start);
        for request in user.next_task(elapsed) {
            if stop.is_cancelled() {
                break;
            }
            live.in_flight.fetch_add(1, Ordering::Relaxed);
            let logical = send_logical(
                &mut connection,
                &shard,
                &request,
                Instant::now(),
                retry.as_ref(),
                &mut jitter,
                &stop,
            );
            logical.await;
            live.in_flight.fetch_sub(1, Ordering::Relaxed);
            if let Some(interval) = pacing {
                let now = Instant::now();
                shard.record_response(now - intended, interval);
                intended = now;
            }
        }
        let wait = user.next_wait(elapsed, task_start.elapsed());
        if wait.is_zero() {
            // A zero sleep still waits for the timer wheel's next millisecond tick: skip it.
            tokio::task::yield_now().await;
            continue;
        }
        let due = Instant::now() + wait;
        connection.idle();
        tokio::select! {
            _ = tokio::time::sleep_until(due) => {}
            _ = stop.cancelled() => break,
        }
        if paced {
            shard.record_lag(Instant::now().saturating_duration_since(due));
            planned = Some(due);
        }
    }
    live.users.fetch_sub(1, Ordering::Relaxed);
}

/// Sends one request and records it with latency measured from `measured_from`
/// (the actual send for closed users, the intended send for open arrivals). Returns the
/// failure's kind and the server's `Retry-After`, or how it succeeded. `resend`: a retry.
pub async fn send_and_record(
    connection: &mut Connection,
    shard: &ShardHandle,
    request: &PlannedRequest,
    measured_from: Instant,
    resend: bool,
) -> Result<Answered, (FailureKind, Option<Duration>)> {
    shard.add_duplicates(request.duplicates);
    let outcome = if resend { connection.resend(request).await } else { connection.send(request).await };
    let latency_us = measured_from.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
    let method = request.method.as_str();
    let answered = matches!(outcome, Outcome::Ok { .. } | Outcome::Failed { kind: FailureKind::Http(_), .. });
    shard.add_delivery(request.payloads, request.duplicates, resend, answered);
    match &outcome {
        Outcome::Ok { content_bytes, failed_items, duplicate } => {
            shard.add_failed_items(*failed_items);
            shard.record(method, &request.name, latency_us, *content_bytes, None);
            if request.payloads > 0 {
                shard.record_endpoint(request.path, latency_us);
            }
            Ok(if *duplicate { Answered::Duplicate } else { Answered::Done })
        }
        Outcome::Failed { kind, message, content_bytes, retry_after } => {
            shard.record(method, &request.name, latency_us, *content_bytes, Some((*kind, message)));
            Err((*kind, *retry_after))
        }
    }
}

/// How a request succeeded: the work was done, or the target said it already had it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answered {
    Done,
    Duplicate,
}

/// A logical request: sent, and under a retry policy resent (same payload, so the
/// server's dedup sees the resend) after a backoff with full jitter or the server's
/// `Retry-After`, until it succeeds, the policy gives up, or `stop` ends the wait. Every
/// attempt is recorded under the request's name; the logical outcome once.
pub async fn send_logical(
    connection: &mut Connection,
    shard: &ShardHandle,
    request: &PlannedRequest,
    measured_from: Instant,
    retry: Option<&RetryPolicy>,
    jitter: &mut Jitter,
    stop: &CancellationToken,
) {
    let Some(policy) = retry else {
        // Without a policy the outcome is only recorded, never acted on.
        let _ = send_and_record(connection, shard, request, measured_from, false).await;
        return;
    };
    let mut from = measured_from;
    let mut attempt: u32 = 1;
    loop {
        let (kind, retry_after) = match send_and_record(connection, shard, request, from, attempt > 1).await {
            Ok(answered) => {
                // A resend answered "duplicate" got through to a target that had claimed the
                // failure before its first attempt failed: no work was done for it.
                let outcome = match (attempt, answered) {
                    (1, _) => LogicalOutcome::FirstTime,
                    (_, Answered::Done) => LogicalOutcome::Recovered,
                    (_, Answered::Duplicate) => LogicalOutcome::SwallowedAsDuplicate,
                };
                shard.record_logical(attempt, outcome);
                return;
            }
            Err(failure) => failure,
        };
        if attempt >= policy.max_attempts.get() || !retries(policy, kind) {
            shard.record_logical(attempt, LogicalOutcome::GaveUp);
            return;
        }
        let delay = retry_after.unwrap_or_else(|| jitter.backoff(policy, attempt));
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.cancelled() => {
                shard.record_logical(attempt, LogicalOutcome::GaveUp);
                return;
            }
        }
        attempt += 1;
        from = Instant::now();
        // A resent failure is a duplicate to the target's dedup, like a `duplicate` task's.
        if request.path == "/webhook" {
            shard.add_duplicates(1);
        }
    }
}

fn retries(policy: &RetryPolicy, kind: FailureKind) -> bool {
    match kind {
        FailureKind::Http(code) => policy.on_status.contains(&code),
        FailureKind::Timeout => policy.on_timeout,
        FailureKind::Connection => policy.on_connection,
        _ => false,
    }
}

/// The backoff's random source: xorshift64*, seeded per user (reproducible per run seed).
pub struct Jitter(u64);

impl Jitter {
    pub fn new(seed: u64) -> Jitter {
        Jitter(seed | 1)
    }

    fn next_unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Full jitter: uniform in [0, min(cap, base · 2^(attempt − 1))].
    pub fn backoff(&mut self, policy: &RetryPolicy, attempt: u32) -> Duration {
        let grown = policy.base.as_secs_f64() * 2f64.powi(attempt.saturating_sub(1).min(40) as i32);
        let ceiling = grown.min(policy.cap.as_secs_f64());
        Duration::from_secs_f64(ceiling * self.next_unit())
    }
}

//! The capacity search: open-model steps of rising arrival rate until a step fails, then
//! halvings between the last pass and the first fail. A step passes when its p99 and
//! error rate are within the limits AND the server kept up (successful requests per
//! second at least 95 % of the offered rate) — without the last rule a queue that is
//! still filling at the end of a short step would pass.

use super::phase_run::{PhaseOutcome, RunContext};
use crate::metrics::summary::{CapacityReport, CapacityStep};
use crate::profile::{CapacitySearch, Load, Phase, Thresholds};

/// Share of the offered rate a step must achieve to count as kept up.
pub const KEEP_UP_SHARE: f64 = 0.95;

/// Phase for one step at `rate`.
pub fn step_phase(search: &CapacitySearch, step_no: usize, rate: f64) -> Phase {
    Phase {
        name: format!("capacity_step{step_no:02}_{rate:.1}rps"),
        suite: "capacity".into(),
        description: format!("open model at {rate:.1} req/s"),
        behaviour: search.behaviour.clone(),
        load: Load::Open { rate_from_per_s: rate, rate_to_per_s: rate, max_in_flight: search.max_in_flight },
        duration: search.step_duration,
        repo_size: search.repo_size,
        server: search.server.clone(),
        thresholds: Thresholds::default(),
        timeouts: Default::default(),
        faults: Vec::new(),
    }
}

pub fn judge_step(search: &CapacitySearch, rate: f64, outcome: &PhaseOutcome) -> CapacityStep {
    let s = &outcome.summary;
    let error_rate = if s.summary.total_requests == 0 {
        1.0
    } else {
        s.summary.failure_count as f64 / s.summary.total_requests as f64
    };
    let p99 = s.latency_ms.p99;
    let passed = s.summary.total_requests > 0
        && p99 <= search.p99_limit_ms
        && error_rate <= search.max_error_rate
        && outcome.steady_ok_rps >= KEEP_UP_SHARE * rate;
    CapacityStep {
        phase: s.name.clone(),
        target_rps: rate,
        achieved_rps: outcome.steady_ok_rps,
        p99_ms: p99,
        error_rate,
        dropped: s.dropped,
        passed,
    }
}

/// Number of steps the search may take at most (for progress displays).
pub fn max_steps(search: &CapacitySearch) -> usize {
    let coarse = ((search.max_rps - search.start_rps) / search.step_rps).floor().max(0.0) as usize + 1;
    coarse + search.refine_steps as usize
}

/// Runs the search; every step is also a phase of the run (returned in order).
pub async fn search(
    ctx: &RunContext,
    search: &CapacitySearch,
    first_index: usize,
) -> (Vec<PhaseOutcome>, CapacityReport) {
    let mut outcomes = Vec::new();
    let mut steps = Vec::new();
    let mut best: Option<f64> = None;
    let mut first_fail: Option<f64> = None;
    let mut rate = search.start_rps;
    while rate <= search.max_rps + 1e-9 && !ctx.control.cancel.is_cancelled() {
        let outcome =
            ctx.run_phase(first_index + outcomes.len(), &step_phase(search, outcomes.len() + 1, rate)).await;
        let step = judge_step(search, rate, &outcome);
        let passed = step.passed;
        steps.push(step);
        outcomes.push(outcome);
        if !passed {
            first_fail = Some(rate);
            break;
        }
        best = Some(rate);
        rate += search.step_rps;
    }
    if let Some(mut hi) = first_fail {
        let mut lo = best.unwrap_or(0.0);
        for _ in 0..search.refine_steps {
            if ctx.control.cancel.is_cancelled() {
                break;
            }
            let mid = (lo + hi) / 2.0;
            if mid <= 0.0 {
                break;
            }
            let outcome = ctx
                .run_phase(first_index + outcomes.len(), &step_phase(search, outcomes.len() + 1, mid))
                .await;
            let step = judge_step(search, mid, &outcome);
            if step.passed {
                lo = mid;
                best = Some(mid);
            } else {
                hi = mid;
            }
            steps.push(step);
            outcomes.push(outcome);
        }
    }
    let report = CapacityReport {
        p99_limit_ms: search.p99_limit_ms,
        max_error_rate: search.max_error_rate,
        max_sustainable_rps: best,
        steps,
    };
    (outcomes, report)
}

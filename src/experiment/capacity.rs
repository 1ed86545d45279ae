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

/// The search's rates, one step at a time, apart from running them: coarse steps up from
/// `start_rps` by `step_rps` until one fails (or `max_rps`), then `refine_steps` halvings
/// between the last pass and the first fail.
#[derive(Clone, Debug)]
pub struct RatePlan {
    step: f64,
    max: f64,
    refine_left: u32,
    /// The rate handed out and not judged yet.
    pending: Option<f64>,
    best: Option<f64>,
    first_fail: Option<f64>,
    /// The bracket of the halvings once a step failed: (last pass or 0, first fail).
    bracket: Option<(f64, f64)>,
    next_coarse: f64,
}

impl RatePlan {
    pub fn new(search: &CapacitySearch) -> RatePlan {
        RatePlan {
            step: search.step_rps,
            max: search.max_rps,
            refine_left: search.refine_steps,
            pending: None,
            best: None,
            first_fail: None,
            bracket: None,
            next_coarse: search.start_rps,
        }
    }

    /// The next rate to try, or `None` when the search is over.
    pub fn next_rate(&mut self) -> Option<f64> {
        let rate = match self.bracket {
            None if self.first_fail.is_none() => {
                (self.next_coarse <= self.max + 1e-9).then_some(self.next_coarse)?
            }
            None => return None,
            Some((lo, hi)) => {
                let mid = (lo + hi) / 2.0;
                if self.refine_left == 0 || mid <= 0.0 {
                    return None;
                }
                self.refine_left -= 1;
                mid
            }
        };
        self.pending = Some(rate);
        Some(rate)
    }

    /// How the last rate handed out did.
    pub fn record(&mut self, passed: bool) {
        let Some(rate) = self.pending.take() else { return };
        match (&mut self.bracket, passed) {
            (None, true) => {
                self.best = Some(rate);
                self.next_coarse = rate + self.step;
            }
            (None, false) => {
                self.first_fail = Some(rate);
                self.bracket = Some((self.best.unwrap_or(0.0), rate));
            }
            (Some((lo, _)), true) => {
                *lo = rate;
                self.best = Some(rate);
            }
            (Some((_, hi)), false) => *hi = rate,
        }
    }

    /// The highest rate that passed.
    pub fn best(&self) -> Option<f64> {
        self.best
    }
}

/// Runs the search; every step is also a phase of the run (returned in order).
pub async fn search(
    ctx: &RunContext,
    search: &CapacitySearch,
    first_index: usize,
) -> (Vec<PhaseOutcome>, CapacityReport) {
    let mut outcomes = Vec::new();
    let mut steps = Vec::new();
    let mut plan = RatePlan::new(search);
    while !ctx.control.cancel.is_cancelled() {
        let Some(rate) = plan.next_rate() else { break };
        let outcome =
            ctx.run_phase(first_index + outcomes.len(), &step_phase(search, outcomes.len() + 1, rate)).await;
        let step = judge_step(search, rate, &outcome);
        plan.record(step.passed);
        steps.push(step);
        outcomes.push(outcome);
    }
    let report = CapacityReport {
        p99_limit_ms: search.p99_limit_ms,
        max_error_rate: search.max_error_rate,
        max_sustainable_rps: plan.best(),
        steps,
    };
    (outcomes, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(start: f64, step: f64, max: f64, refine: u32) -> CapacitySearch {
        let profile = crate::profile::load("capacity", None).expect("the shipped capacity profile");
        CapacitySearch {
            start_rps: start,
            step_rps: step,
            max_rps: max,
            refine_steps: refine,
            ..profile.capacity.expect("it searches")
        }
    }

    /// Runs the plan against a server that holds up to `knee` req/s.
    fn walk(plan: &mut RatePlan, knee: f64) -> Vec<f64> {
        let mut tried = Vec::new();
        while let Some(rate) = plan.next_rate() {
            tried.push(rate);
            plan.record(rate <= knee);
        }
        tried
    }

    #[test]
    fn coarse_steps_until_a_fail_then_halvings_between_the_last_pass_and_the_fail() {
        let mut plan = RatePlan::new(&search(50.0, 50.0, 500.0, 4));
        let tried = walk(&mut plan, 137.0);
        assert_eq!(tried, vec![50.0, 100.0, 150.0, 125.0, 137.5, 131.25, 134.375]);
        assert_eq!(plan.best(), Some(134.375));
    }

    #[test]
    fn a_first_step_that_fails_halves_towards_zero_and_a_never_failing_server_stops_at_max() {
        let mut plan = RatePlan::new(&search(100.0, 100.0, 300.0, 2));
        assert_eq!(walk(&mut plan, 30.0), vec![100.0, 50.0, 25.0]);
        assert_eq!(plan.best(), Some(25.0));
        let mut plan = RatePlan::new(&search(100.0, 100.0, 300.0, 3));
        assert_eq!(walk(&mut plan, 1e9), vec![100.0, 200.0, 300.0]);
        assert_eq!(plan.best(), Some(300.0));
        assert!(
            max_steps(&search(100.0, 100.0, 300.0, 3)) >= 3 + 3,
            "progress counts coarse steps and halvings"
        );
    }
}

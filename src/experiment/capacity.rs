//! The capacity search: open-model steps of rising arrival rate until a step fails, then
//! halvings between the last pass and the first fail.
//!
//! A step passes when its p99 and error rate are within the limits AND the server kept up.
//! "Kept up" is judged on the requests SENT in the step, after waiting for the ones still
//! in flight at its end (the engine drains them, bounded by the request timeout): at least
//! [`KEEP_UP_SHARE`] of them succeeded, and the queue that built up during the step is
//! under `1 - KEEP_UP_SHARE` of what was sent. The queue is read from the latency, which
//! the open model measures from each request's scheduled send: a server short of the
//! offered rate by a share `x` falls behind by `x·T` seconds over a step of `T`, so the
//! latency spread `p99 - min` grows to about `x·T`; a server that keeps up has a spread
//! that does not grow with the step.
//!
//! A step must be long enough for both tests to mean something, so each step runs at
//! least [`MIN_STEP_REQUESTS`] requests and at least [`LATENCY_SPAN_FACTOR`] times the
//! highest p99 seen so far in steps that kept up (and the latency the server is set to);
//! a step shorter than that is extended, and a search whose steps cannot cover the
//! configured latency refuses to start (see [`check_judgeable`]).

use std::time::Duration;

use super::phase_run::{PhaseOutcome, RunContext};
use crate::metrics::summary::{CapacityReport, CapacityStep};
use crate::profile::{CapacitySearch, Load, Phase, Thresholds};

/// Share of the requests sent in a step that must succeed, and the complement of the
/// backlog a step may build, for the step to count as kept up.
pub const KEEP_UP_SHARE: f64 = 0.95;

/// N: fewest requests a step is judged on. At 100 requests one request is 1 % of the
/// step, so the 5 % margin of [`KEEP_UP_SHARE`] is five requests, not a rounding; and the
/// binomial standard error of the success share of a server at 97.5 % (midway between
/// "all succeed" and the limit) is sqrt(0.975 · 0.025 / 100) = 1.6 %, so such a server is
/// misjudged in about one step in twenty (1.6 standard errors, one-sided). Going to
/// 2.5 standard errors would need 250 requests, 12.5 s at the shipped 20 req/s start.
pub const MIN_STEP_REQUESTS: u64 = 100;

/// K: a step lasts at least this many times the p99 latency of a server that keeps up.
/// The backlog test reads a queue from the latency spread `p99 - min` over the step; a
/// server that keeps up has a spread of at most its p99, so with `T >= K · p99` its
/// spread is at most `T / K = 5 %` of the step and it cannot fail the test
/// `spread <= (1 - KEEP_UP_SHARE) · T` by its ordinary latency: K = 1 / (1 - 0.95) = 20.
/// The same bound keeps the in-flight tail at a step's end (about p99 · rate requests)
/// under 5 % of the step's requests.
pub const LATENCY_SPAN_FACTOR: f64 = 1.0 / (1.0 - KEEP_UP_SHARE);

/// Phase for one step at `rate`, lasting `duration` (see [`step_duration`]).
pub fn step_phase(search: &CapacitySearch, step_no: usize, rate: f64, duration: Duration) -> Phase {
    Phase {
        name: format!("capacity_step{step_no:02}_{rate:.1}rps"),
        suite: "capacity".into(),
        description: format!("open model at {rate:.1} req/s"),
        behaviour: search.behaviour.clone(),
        load: Load::Open { rate_from_per_s: rate, rate_to_per_s: rate, max_in_flight: search.max_in_flight },
        duration,
        repo_size: search.repo_size,
        server: search.server.clone(),
        thresholds: Thresholds::default(),
        timeouts: Default::default(),
        faults: Vec::new(),
    }
}

/// The latency (ms) the server is set to answer with, when the search sets one.
fn configured_latency_ms(search: &CapacitySearch) -> f64 {
    let s = &search.server;
    let base = s.latency_ms.unwrap_or(0.0) + s.jitter_ms.unwrap_or(0.0);
    if base.is_finite() { base.max(0.0) } else { 0.0 }
}

/// How long the step at `rate` runs: the profile's step, extended to hold
/// [`MIN_STEP_REQUESTS`] requests and [`LATENCY_SPAN_FACTOR`] × the larger of the
/// configured latency and `p99_seen_ms` (the highest p99 of the steps that kept up).
pub fn step_duration(search: &CapacitySearch, rate: f64, p99_seen_ms: f64) -> Duration {
    let for_requests = if rate > 0.0 { MIN_STEP_REQUESTS as f64 / rate } else { 0.0 };
    let latency_s = configured_latency_ms(search).max(p99_seen_ms).max(0.0) / 1000.0;
    let for_latency = LATENCY_SPAN_FACTOR * latency_s;
    let needed = for_requests.max(for_latency);
    let planned = search.step_duration.as_secs_f64();
    if needed.is_finite() && needed > planned {
        // Whole milliseconds up, so the step is never a hair short of the bound.
        Duration::from_millis((needed * 1000.0).ceil() as u64)
    } else {
        search.step_duration
    }
}

/// Refuses a search whose steps are shorter than [`LATENCY_SPAN_FACTOR`] × the latency
/// the server is set to: such a step cannot tell a queue from ordinary latency. Extending
/// every step by that much would silently make the run several times longer than the
/// user asked for with `--time-scale`, so the user chooses. `time_scale` is the one
/// already applied to the profile, for the message.
pub fn check_judgeable(search: &CapacitySearch, time_scale: f64) -> Result<(), CapacityError> {
    let latency_ms = configured_latency_ms(search);
    let needed_s = LATENCY_SPAN_FACTOR * latency_ms / 1000.0;
    let step_s = search.step_duration.as_secs_f64();
    if step_s + 1e-9 >= needed_s {
        return Ok(());
    }
    let short = ShortStep { step_s, latency_ms, needed_s };
    if (time_scale - 1.0).abs() > 1e-9 && time_scale > 0.0 {
        let unscaled_s = step_s / time_scale;
        let least = (needed_s / unscaled_s * 10.0).ceil() / 10.0;
        Err(CapacityError::ScaledStepTooShort { time_scale, least, short })
    } else {
        Err(CapacityError::StepTooShort { short })
    }
}

/// A capacity step too short for the latency the server is set to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShortStep {
    /// The step's length, in seconds (time scale applied).
    pub step_s: f64,
    /// The latency the server is set to, in milliseconds.
    pub latency_ms: f64,
    /// The least a step must last, in seconds.
    pub needed_s: f64,
}

impl std::fmt::Display for ShortStep {
    /// Why the step is too short, shared by both variants of [`CapacityError`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self { latency_ms, needed_s, .. } = *self;
        write!(
            f,
            "too short at {latency_ms:.0} ms latency to judge (a step needs at least \
             {LATENCY_SPAN_FACTOR:.0} × the latency, {needed_s:.1} s)"
        )
    }
}

/// Why a capacity search cannot start: its steps could not tell a queue from latency.
#[derive(Debug, thiserror::Error)]
pub enum CapacityError {
    /// `--time-scale` shortened the steps below what the latency needs.
    #[error(
        "--time-scale {time_scale} makes each capacity step {}, {short}; use --time-scale ≥ {least} or set the \
         profile's capacity.step_duration",
        fmt_s(.short.step_s)
    )]
    ScaledStepTooShort {
        /// The time scale applied.
        time_scale: f64,
        /// The least time scale that would do, to one decimal.
        least: f64,
        /// The step and the latency.
        short: ShortStep,
    },
    /// The profile's step is shorter than the latency needs.
    #[error(
        "capacity.step_duration {} is {short}; set step_duration to at least {:.1}s",
        fmt_s(.short.step_s),
        .short.needed_s
    )]
    StepTooShort {
        /// The step and the latency.
        short: ShortStep,
    },
}

fn fmt_s(s: f64) -> String {
    if s < 1.0 { format!("{:.0} ms", s * 1000.0) } else { format!("{s:.1} s") }
}

/// What a step's verdict is made of, counted after the in-flight requests were waited for.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepFigures {
    /// Requests scheduled in the step: answered, failed, dropped at `max_in_flight`, and
    /// abandoned after the drain grace.
    pub sent: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// How long the step sent requests (the drain after it not included).
    pub seconds: f64,
    pub min_ms: f64,
    pub p99_ms: f64,
}

impl StepFigures {
    pub fn of(outcome: &PhaseOutcome) -> StepFigures {
        let s = &outcome.summary;
        let answered = s.summary.total_requests;
        let failed = s.summary.failure_count.min(answered);
        StepFigures {
            sent: answered + s.dropped + outcome.abandoned,
            succeeded: answered - failed,
            failed,
            seconds: outcome.seconds,
            min_ms: s.latency_ms.min,
            p99_ms: s.latency_ms.p99,
        }
    }
}

/// Judges one step on the requests sent in it (see the module's notes).
pub fn judge_step(search: &CapacitySearch, rate: f64, phase: &str, f: &StepFigures) -> CapacityStep {
    let answered = f.succeeded + f.failed;
    let error_rate = if answered == 0 { 1.0 } else { f.failed as f64 / answered as f64 };
    let achieved_rps = if f.seconds > 0.0 { f.succeeded as f64 / f.seconds } else { 0.0 };
    let success_share = if f.sent == 0 { 0.0 } else { f.succeeded as f64 / f.sent as f64 };
    let backlog_share =
        if f.seconds > 0.0 { ((f.p99_ms - f.min_ms).max(0.0) / 1000.0 / f.seconds).min(1.0) } else { 1.0 };
    let mut reasons = Vec::new();
    if answered < MIN_STEP_REQUESTS {
        reasons.push(format!(
            "only {answered} requests answered, fewer than the {MIN_STEP_REQUESTS} a step is judged on"
        ));
    }
    if f.p99_ms > search.p99_limit_ms {
        reasons.push(format!("p99 {:.1} ms over {} ms", f.p99_ms, search.p99_limit_ms));
    }
    if error_rate > search.max_error_rate {
        reasons.push(format!(
            "errors {:.2} % over {:.2} %",
            error_rate * 100.0,
            search.max_error_rate * 100.0
        ));
    }
    if success_share < KEEP_UP_SHARE {
        reasons.push(format!(
            "{} of {} sent requests succeeded ({:.1} %, under {:.0} %)",
            f.succeeded,
            f.sent,
            success_share * 100.0,
            KEEP_UP_SHARE * 100.0
        ));
    }
    if backlog_share > 1.0 - KEEP_UP_SHARE {
        reasons.push(format!(
            "a queue built up: latency spread {:.0} ms is {:.1} % of the {:.1} s step (limit {:.0} %)",
            f.p99_ms - f.min_ms,
            backlog_share * 100.0,
            f.seconds,
            (1.0 - KEEP_UP_SHARE) * 100.0
        ));
    }
    CapacityStep {
        phase: phase.to_string(),
        target_rps: rate,
        achieved_rps,
        p99_ms: f.p99_ms,
        error_rate,
        dropped: f.sent.saturating_sub(answered),
        passed: reasons.is_empty(),
        duration_s: f.seconds,
        sent: f.sent,
        success_share,
        backlog_share,
        failed_because: reasons.join("; "),
    }
}

/// The answer's confidence in words: the last pass and the first fail above it, with
/// their figures.
pub fn confidence(report: &CapacityReport) -> String {
    let best = report.max_sustainable_rps;
    let pass = report.steps.iter().rfind(|s| s.passed && Some(s.target_rps) == best);
    let fail = report
        .steps
        .iter()
        .filter(|s| !s.passed && best.is_none_or(|b| s.target_rps > b))
        .min_by(|a, b| a.target_rps.total_cmp(&b.target_rps));
    let pass_text = pass.map(|s| {
        format!(
            "{:.1} req/s passed (achieved {:.1} req/s over {:.1} s, p99 {:.1} ms, errors {:.2} %)",
            s.target_rps,
            s.achieved_rps,
            s.duration_s,
            s.p99_ms,
            s.error_rate * 100.0
        )
    });
    let fail_text = fail.map(|s| {
        let why = if s.failed_because.is_empty() { String::new() } else { format!(": {}", s.failed_because) };
        format!(
            "{:.1} req/s failed (achieved {:.1} req/s, p99 {:.1} ms{why})",
            s.target_rps, s.achieved_rps, s.p99_ms
        )
    });
    match (pass_text, fail_text) {
        (Some(p), Some(f)) => format!("between {p} and {f}"),
        (Some(p), None) => format!("at least: {p}; no step up to the search's max_rps failed"),
        (None, Some(f)) => format!("below the first step: {f}"),
        (None, None) => "no step was judged".into(),
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
    // The highest p99 of the steps that kept up: a failing step's p99 is its queue.
    let mut p99_seen_ms: f64 = 0.0;
    while !ctx.control.cancel.is_cancelled() {
        let Some(rate) = plan.next_rate() else { break };
        let duration = step_duration(search, rate, p99_seen_ms);
        let phase = step_phase(search, outcomes.len() + 1, rate, duration);
        let outcome = ctx.run_phase(first_index + outcomes.len(), &phase).await;
        let step = judge_step(search, rate, &phase.name, &StepFigures::of(&outcome));
        if step.passed {
            p99_seen_ms = p99_seen_ms.max(step.p99_ms);
        }
        plan.record(step.passed);
        steps.push(step);
        outcomes.push(outcome);
    }
    let mut report = CapacityReport {
        p99_limit_ms: search.p99_limit_ms,
        max_error_rate: search.max_error_rate,
        max_sustainable_rps: plan.best(),
        first_fail_rps: None,
        confidence: String::new(),
        steps,
    };
    report.first_fail_rps = report
        .steps
        .iter()
        .filter(|s| !s.passed && report.max_sustainable_rps.is_none_or(|b| s.target_rps > b))
        .map(|s| s.target_rps)
        .min_by(f64::total_cmp);
    report.confidence = confidence(&report);
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

    /// The shipped search: 50 ms server latency, p99 limit 500 ms, errors 1 %.
    fn shipped() -> CapacitySearch {
        search(20.0, 20.0, 200.0, 3)
    }

    #[test]
    fn a_step_whose_requests_were_all_in_flight_at_its_end_is_judged_by_what_it_sent() {
        // A 1 s step at 120 req/s whose every answer came during the drain: the old
        // judgement counted successes in the step's whole ticks only (none) and recorded
        // achieved 0.0. Sent 120, all succeeded at a steady 52-60 ms.
        let f =
            StepFigures { sent: 120, succeeded: 120, failed: 0, seconds: 1.0, min_ms: 52.0, p99_ms: 60.0 };
        let step = judge_step(&shipped(), 120.0, "s", &f);
        assert!(step.achieved_rps > 119.0, "{step:?}");
        assert!(step.passed, "{step:?}");
        assert_eq!(step.success_share, 1.0);
    }

    #[test]
    fn a_queue_that_grows_through_the_step_fails_it_even_when_every_request_succeeds() {
        // 100 req/s against 80: 20 req/s pile up, 0.25 s behind by the end of a 1 s step.
        let f =
            StepFigures { sent: 100, succeeded: 100, failed: 0, seconds: 1.0, min_ms: 50.0, p99_ms: 297.0 };
        let step = judge_step(&shipped(), 100.0, "s", &f);
        assert!(!step.passed, "{step:?}");
        assert!(step.failed_because.contains("queue built up"), "{}", step.failed_because);
        // Drops and timeouts count as not achieved.
        let f =
            StepFigures { sent: 200, succeeded: 180, failed: 0, seconds: 2.0, min_ms: 50.0, p99_ms: 55.0 };
        let step = judge_step(&shipped(), 100.0, "s", &f);
        assert!(!step.passed && step.dropped == 20, "{step:?}");
        assert!(step.failed_because.contains("180 of 200"), "{}", step.failed_because);
        // Too few requests to judge is a fail with its reason, never a pass.
        let f = StepFigures { sent: 10, succeeded: 10, failed: 0, seconds: 1.0, min_ms: 50.0, p99_ms: 51.0 };
        assert!(judge_step(&shipped(), 10.0, "s", &f).failed_because.contains("fewer than the 100"));
    }

    #[test]
    fn steps_are_extended_to_hold_enough_requests_and_latency_and_too_short_ones_refuse() {
        let mut s = shipped();
        s.step_duration = Duration::from_secs(1);
        // 20 req/s needs 5 s for 100 requests; 200 req/s is held by 20 × 50 ms = 1 s.
        assert_eq!(step_duration(&s, 20.0, 0.0), Duration::from_secs(5));
        assert_eq!(step_duration(&s, 200.0, 0.0), Duration::from_secs(1));
        // A p99 of 80 ms seen in a passing step stretches the next to 1.6 s.
        assert_eq!(step_duration(&s, 200.0, 80.0), Duration::from_millis(1600));
        assert!(check_judgeable(&s, 0.2).is_ok(), "1 s is exactly 20 × 50 ms");
        s.step_duration = Duration::from_millis(500);
        let err = check_judgeable(&s, 0.1).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "--time-scale 0.1 makes each capacity step 500 ms, too short at 50 ms latency to judge"
            ),
            "{err}"
        );
        assert!(err.contains("use --time-scale ≥ 0.2"), "{err}");
        let err = check_judgeable(&s, 1.0).unwrap_err().to_string();
        assert!(err.contains("capacity.step_duration 500 ms") && err.contains("1.0s"), "{err}");
    }

    #[test]
    fn the_confidence_names_the_last_pass_and_the_first_fail_with_their_figures() {
        let step = |rate: f64, passed: bool| CapacityStep {
            target_rps: rate,
            achieved_rps: if passed { rate } else { rate * 0.9 },
            p99_ms: if passed { 52.0 } else { 400.0 },
            passed,
            duration_s: 5.0,
            failed_because: if passed { String::new() } else { "a queue built up".into() },
            ..Default::default()
        };
        let mut report = CapacityReport {
            p99_limit_ms: 500.0,
            max_error_rate: 0.01,
            max_sustainable_rps: Some(80.0),
            first_fail_rps: Some(90.0),
            confidence: String::new(),
            steps: vec![step(60.0, true), step(100.0, false), step(80.0, true), step(90.0, false)],
        };
        let text = confidence(&report);
        assert!(
            text.starts_with("between 80.0 req/s passed (achieved 80.0 req/s over 5.0 s, p99 52.0 ms"),
            "{text}"
        );
        assert!(
            text.contains("and 90.0 req/s failed (achieved 81.0 req/s, p99 400.0 ms: a queue built up)"),
            "{text}"
        );
        report.max_sustainable_rps = None;
        assert!(confidence(&report).starts_with("below the first step: 90.0 req/s failed"));
    }
}

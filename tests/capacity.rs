//! The capacity search finds the knee whatever its step length: against the mock limited to
//! 4 concurrent workers at 50 ms per request (a true capacity of 80 req/s) it reports
//! 80 ± 10 % at full length, the same within ±15 % at time scales 0.2, 0.5 and 2, or
//! refuses to start with the reason. These are real runs: generous tolerances, few steps.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod common;

use common::{run_collect, run_request};
use terrafix_tui::experiment::{RunControl, RunError, RunRequest, Target};
use terrafix_tui::metrics::summary::{CapacityReport, RunSummary};
use terrafix_tui::profile::{Overrides, Profile, TimeScale};

fn scaled(mut profile: Profile, scale: f64) -> Profile {
    if (scale - 1.0).abs() > 1e-9 {
        let overrides = Overrides { time_scale: Some(TimeScale::new(scale).unwrap()), ..Default::default() };
        profile = profile.with_overrides(&overrides).unwrap();
    }
    profile
}

/// Runs `profile` at `scale`: its summary, or the refusal's message.
async fn search_at(profile: Profile, scale: f64) -> Result<RunSummary, String> {
    let out = tempfile::tempdir().unwrap();
    let request = RunRequest {
        profile: scaled(profile, scale),
        target: Target::Embedded,
        output_root: out.path().to_path_buf(),
        seed: 7,
        time_scale: scale,
        docker: Default::default(),
        target_options: Default::default(),
        distributed: None,
        worker_network: Default::default(),
    };
    match run_request(request, RunControl::default()).await {
        Ok(r) => Ok(r.summary),
        Err(RunError::Faults(message)) => Err(message),
        Err(e) => panic!("the run failed otherwise: {e}"),
    }
}

fn knee(summary: &RunSummary) -> (f64, &CapacityReport) {
    let capacity = summary.capacity.as_ref().expect("a capacity report");
    (capacity.max_sustainable_rps.expect("some step passed"), capacity)
}

/// The step table is complete and consistent, every step long enough to judge, and the
/// answer states the bracket it lies in.
fn check_report(summary: &RunSummary) {
    let (found, capacity) = knee(summary);
    assert_eq!(capacity.steps.len(), summary.experiments.len());
    assert!(capacity.steps.iter().any(|s| !s.passed && s.target_rps > found), "{:#?}", capacity.steps);
    assert!(capacity.steps.iter().filter(|s| s.passed).all(|s| s.target_rps <= found + 1e-9));
    for s in &capacity.steps {
        assert!(s.sent >= 100, "a step judged on {} requests: {s:?}", s.sent);
        // Requests that succeeded make an achieved rate, whenever they were answered.
        assert!(s.achieved_rps > 0.0, "{s:?}");
    }
    let fail = capacity.first_fail_rps.expect("a first fail above the answer");
    assert!(fail > found);
    assert!(
        capacity.confidence.starts_with(&format!("between {found:.1} req/s passed")),
        "{}",
        capacity.confidence
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_search_at_a_fifth_of_its_length_finds_the_same_knee_or_refuses() {
    let profile = terrafix_tui::profile::load("capacity", None).unwrap();
    let out = tempfile::tempdir().unwrap();
    let full = run_collect(profile.clone(), Target::Embedded, out.path(), RunControl::default()).await;
    let (at_full, capacity) = knee(&full.summary);
    assert!((72.0..=88.0).contains(&at_full), "capacity {at_full} req/s; steps: {:#?}", capacity.steps);
    check_report(&full.summary);

    match search_at(profile, 0.2).await {
        Ok(short) => {
            let (at_short, capacity) = knee(&short);
            assert!(
                (at_short - at_full).abs() <= 0.15 * at_full,
                "time scale 0.2 found {at_short} req/s, full length {at_full}; steps: {:#?}",
                capacity.steps
            );
            check_report(&short);
        }
        Err(message) => {
            assert!(message.starts_with("--time-scale 0.2 makes each capacity step"), "{message}")
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_whose_steps_cannot_cover_the_latency_refuses_before_any_load() {
    let profile = terrafix_tui::profile::load("capacity", None).unwrap();
    let message = search_at(profile, 0.1).await.expect_err("0.5 s steps at 50 ms cannot be judged");
    assert!(
        message.starts_with(
            "--time-scale 0.1 makes each capacity step 500 ms, too short at 50 ms latency to judge"
        ),
        "{message}"
    );
    assert!(message.contains("use --time-scale ≥ 0.2"), "{message}");
}

/// The knee stays 80 ± 15 % at time scales 0.5, 1 and 2 (or the search refuses). A search
/// of five steps (60, 80, 100, then 90 and 85 or 70 and 75) of 4 s before scaling keeps
/// the three runs near a minute and a half together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_knee_holds_at_time_scales_half_one_and_two() {
    let mut profile = terrafix_tui::profile::load("capacity", None).unwrap();
    {
        let search = profile.capacity.as_mut().unwrap();
        search.start_rps = 60.0;
        search.step_rps = 20.0;
        search.max_rps = 140.0;
        search.refine_steps = 2;
        search.step_duration = std::time::Duration::from_secs(4);
    }
    profile.pause_between_phases = std::time::Duration::from_millis(500);
    for scale in [0.5, 1.0, 2.0] {
        match search_at(profile.clone(), scale).await {
            Ok(summary) => {
                let (found, capacity) = knee(&summary);
                assert!(
                    (68.0..=92.0).contains(&found),
                    "time scale {scale}: capacity {found} req/s; steps: {:#?}",
                    capacity.steps
                );
                check_report(&summary);
            }
            Err(message) => {
                assert!(message.contains(&format!("--time-scale {scale} makes")), "{message}")
            }
        }
    }
}

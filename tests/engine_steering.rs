//! Live steering against the embedded mock over real loopback HTTP: users raised and
//! lowered in a closed phase, the arrival rate changed in an open phase, a phase extended.
//! Each test waits for snapshots (the run's own clock), not for sleeps.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod common;

use std::time::Duration;

use common::*;
use terrafix_tui::engine::Steer;
use terrafix_tui::experiment::{self, Event, RunChannels, RunControl, Target};
use terrafix_tui::metrics::Snapshot;
use terrafix_tui::metrics::summary::RunSummary;
use terrafix_tui::profile::{Profile, WaitStrategy};

/// A run in the background, with its snapshots readable as they come.
struct Steered {
    control: RunControl,
    snapshots: tokio::sync::watch::Receiver<Snapshot>,
    seen: Vec<Snapshot>,
    run: tokio::task::JoinHandle<RunSummary>,
    events: tokio::task::JoinHandle<Vec<Event>>,
}

impl Steered {
    fn start(profile: Profile, out: &std::path::Path) -> Steered {
        let (events_tx, mut events_rx) = tokio::sync::mpsc::channel(4096);
        let (snap_tx, snapshots) = tokio::sync::watch::channel(Snapshot::default());
        let control = RunControl::default();
        let request = test_request(profile, Target::Embedded, Default::default(), out);
        let run_control = control.clone();
        let run = tokio::spawn(async move {
            let channels = RunChannels { events: events_tx, snapshots: snap_tx, series: None };
            experiment::run(request, channels, run_control).await.expect("the run completes").0
        });
        let events = tokio::spawn(async move {
            let mut all = Vec::new();
            while let Some(e) = events_rx.recv().await {
                all.push(e);
            }
            all
        });
        Steered { control, snapshots, seen: Vec::new(), run, events }
    }

    /// Waits (bounded) for a snapshot that satisfies `pred`, keeping every snapshot seen.
    async fn until(&mut self, what: &str, pred: impl Fn(&Snapshot) -> bool) -> Snapshot {
        let wait = async {
            loop {
                self.snapshots.changed().await.expect("the run ended before: {what}");
                let snap = self.snapshots.borrow_and_update().clone();
                self.seen.push(snap.clone());
                if pred(&snap) {
                    return snap;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .unwrap_or_else(|_| panic!("no snapshot: {what}"))
    }

    async fn finish(mut self) -> (RunSummary, Vec<Snapshot>, Vec<Event>) {
        while self.snapshots.changed().await.is_ok() {
            self.seen.push(self.snapshots.borrow_and_update().clone());
        }
        let summary = self.run.await.unwrap();
        (summary, self.seen, self.events.await.unwrap())
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_raised_and_lowered_follow_the_spawn_rate_without_failures() {
    let out = tempfile::tempdir().unwrap();
    let b = webhook_only("paced", WaitStrategy::ConstantPacing(Duration::from_secs(1)));
    let phase = closed_phase("steer_users", b, 5, 5.0, 17.0);
    let mut run = Steered::start(profile("steer", vec![phase]), out.path());

    run.until("5 users running", |s| s.users == 5 && s.phase_elapsed_s >= 1.5).await;
    assert!(run.control.steer.send(Steer::Users(20)));
    let raised = run.until("the change is applied", |s| s.users > 5).await;
    let asked_s = raised.phase_elapsed_s - 1.0;
    let full = run.until("20 users running", |s| s.users == 20).await;
    // 15 more at 5/s take 3 s; a snapshot per second and a busy machine add a little.
    assert!(full.phase_elapsed_s - asked_s <= 5.5, "20 users after {:.1} s", full.phase_elapsed_s - asked_s);

    // Two seconds to settle (users start at a random point of their first pacing second).
    let settled_s = full.phase_elapsed_s + 2.0;
    run.until("the steady seconds", |s| s.phase_elapsed_s >= settled_s + 4.0).await;
    let steady: Vec<f64> =
        run.seen.iter().filter(|s| s.phase_elapsed_s > settled_s + 0.5).map(|s| s.rps).collect();
    let steady_rps = mean(&steady);
    assert!((18.0..=22.0).contains(&steady_rps), "steady {steady_rps:.1} req/s from {steady:?}");

    assert!(run.control.steer.send(Steer::Users(2)));
    run.until("2 users left", |s| s.users == 2).await;
    let (summary, _, events) = run.finish().await;

    let phase = &summary.experiments[0];
    assert_eq!(phase.summary.failure_count, 0, "stopping users must not fail their requests");
    let users: Vec<Option<u32>> = phase.changes.iter().map(|c| c.users).collect();
    assert_eq!(users, vec![Some(20), Some(2)], "{:?}", phase.changes);
    assert!(phase.changes[0].at_s < phase.changes[1].at_s);
    assert!(phase.changes[0].at_s > 1.0 && phase.changes[1].at_s < 17.0, "{:?}", phase.changes);
    let announced = events.iter().filter(|e| matches!(e, Event::PhaseChanged { .. })).count();
    assert_eq!(announced, 2, "each applied change is an event");
    let json =
        std::fs::read_to_string(out.path().join(&summary.run_id).join("experiment_summary.json")).unwrap();
    assert!(json.contains("\"changes\""), "the changes are in experiment_summary.json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_arrival_rate_follows_a_change_within_two_seconds() {
    let out = tempfile::tempdir().unwrap();
    let b = webhook_only("open", WaitStrategy::Constant(Duration::ZERO));
    let phase = open_phase("steer_rate", b, 50.0, 500, 9.0);
    let mut run = Steered::start(profile("steer", vec![phase]), out.path());

    let before = run.until("two seconds at 50 req/s", |s| s.phase_elapsed_s >= 2.5).await;
    assert!((40.0..=60.0).contains(&before.rps), "{} req/s before the change", before.rps);
    assert!(run.control.steer.send(Steer::ArrivalRate(150.0)));
    assert!(run.control.steer.send(Steer::Extend(Duration::from_secs(3))));
    let asked_s = before.phase_elapsed_s;
    // Seconds from two after the change on: each full one at the new rate.
    run.until("the rate settled", |s| s.phase_elapsed_s >= asked_s + 7.0).await;
    let after: Vec<f64> = run
        .seen
        .iter()
        .filter(|s| s.phase_elapsed_s >= asked_s + 3.0 && s.phase_elapsed_s <= asked_s + 7.0)
        .map(|s| s.rps)
        .collect();
    assert!(after.len() >= 3, "{after:?}");
    let achieved = mean(&after);
    assert!((135.0..=165.0).contains(&achieved), "{achieved:.1} req/s after asking for 150: {after:?}");
    let (summary, _, _) = run.finish().await;

    let phase = &summary.experiments[0];
    assert_eq!(phase.changes.len(), 2, "{:?}", phase.changes);
    assert_eq!(phase.changes[0].arrival_rate, Some(150.0));
    assert_eq!(phase.changes[1].extended_by_s, Some(3.0));
    assert!((11.5..=13.5).contains(&phase.duration_s), "extended to {} s", phase.duration_s);
    assert_eq!(phase.summary.failure_count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_does_not_fit_the_model_is_refused_and_not_recorded() {
    let out = tempfile::tempdir().unwrap();
    let b = webhook_only("paced", WaitStrategy::ConstantPacing(Duration::from_secs(1)));
    let phase = closed_phase("steer_refused", b, 2, 5.0, 3.0);
    let mut run = Steered::start(profile("steer", vec![phase]), out.path());
    run.until("the phase runs", |s| s.users == 2).await;
    assert!(run.control.steer.send(Steer::ArrivalRate(100.0)));
    assert!(run.control.steer.send(Steer::Users(0)));
    let (summary, _, events) = run.finish().await;
    assert!(summary.experiments[0].changes.is_empty(), "{:?}", summary.experiments[0].changes);
    let refusals = events
        .iter()
        .filter(|e| matches!(e, Event::Warning(m) if m.contains("arrival rate") || m.contains("at least one user")))
        .count();
    assert_eq!(refusals, 2, "each refusal says why");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resetting_the_live_statistics_restarts_the_view_and_keeps_the_files_whole() {
    let out = tempfile::tempdir().unwrap();
    let b = webhook_only("quick", WaitStrategy::Constant(Duration::from_millis(20)));
    // 12 s: on a starved machine the first 200 requests can take most of a shorter phase,
    // and the phase must still have a second left after the reset.
    let phase = closed_phase("reset_view", b, 4, 10.0, 12.0);
    let mut run = Steered::start(profile("reset", vec![phase]), out.path());
    let before = run.until("a few hundred requests", |s| s.total_requests >= 200).await;
    run.control.view_reset.reset();
    // The next snapshot counts only its own second (a second of 4 users ≈ 150 requests).
    let after = run.until("the next second", |s| s.phase_elapsed_s > before.phase_elapsed_s + 0.5).await;
    assert!(
        after.total_requests < before.total_requests,
        "{} then {}",
        before.total_requests,
        after.total_requests
    );
    let row_total: u64 = after.rows.iter().map(|r| r.requests).sum();
    assert_eq!(row_total, after.total_requests, "the rows restart with the totals");
    let last_live = run.seen.last().map_or(0, |s| s.total_requests);
    let (summary, _, _) = run.finish().await;
    let phase = &summary.experiments[0];
    assert!(
        phase.summary.total_requests >= before.total_requests + last_live.min(after.total_requests),
        "the summary keeps everything: {} ≥ {} + …",
        phase.summary.total_requests,
        before.total_requests
    );
    let stats =
        std::fs::read_to_string(out.path().join(&summary.run_id).join(&phase.files.stats_csv)).unwrap();
    let aggregated = stats.lines().find(|l| l.contains("Aggregated")).unwrap();
    let count: u64 = aggregated.split(',').nth(2).unwrap().parse().unwrap();
    assert_eq!(count, phase.summary.total_requests, "the CSV counts the whole phase: {aggregated}");
}

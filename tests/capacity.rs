//! The shipped capacity profile finds the knee: against the mock limited to 4 concurrent
//! workers at 50 ms per request (a true capacity of 80 req/s) it reports 80 ± 10 %.

mod common;

use common::run_collect;
use terrafix_tui::experiment::{RunControl, Target};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_search_reports_the_mock_limit() {
    let out = tempfile::tempdir().unwrap();
    let profile = terrafix_tui::profile::load("capacity", None).unwrap();
    let r = run_collect(profile, Target::Embedded, out.path(), RunControl::default()).await;
    let capacity = r.summary.capacity.as_ref().expect("a capacity report");
    let found = capacity.max_sustainable_rps.expect("some step passed");
    assert!((72.0..=88.0).contains(&found), "capacity {found} req/s; steps: {:#?}", capacity.steps);
    // The step table is complete and consistent: one phase per step, a failing step above the answer.
    assert_eq!(capacity.steps.len(), r.summary.experiments.len());
    assert!(capacity.steps.iter().any(|s| !s.passed && s.target_rps > found));
    assert!(capacity.steps.iter().filter(|s| s.passed).all(|s| s.target_rps <= found + 1e-9));
}

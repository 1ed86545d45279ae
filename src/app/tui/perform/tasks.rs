//! The worker's jobs (a listing, a render, an export, a request, a Docker operation, a
//! followed log): owned in one `JoinSet` each, so that quitting cancels or waits for them,
//! and a panic in one still answers the screen, with the error it shows for that job,
//! instead of leaving it waiting.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt as _;
use tokio::task::{AbortHandle, JoinSet};

use super::super::news::News;
use crate::tui::Action;

/// How long quitting waits for jobs already on a blocking thread (an export, a bundle) to
/// finish what they write; jobs on the runtime are cancelled at once.
pub const JOBS_STOP_GRACE: Duration = Duration::from_secs(10);

/// Jobs started for the screen, each telling it how it ended.
pub struct Tasks {
    set: JoinSet<()>,
    tx: News,
}

impl Tasks {
    pub fn new(tx: News) -> Self {
        Self { set: JoinSet::new(), tx }
    }

    /// Runs `job` on the runtime; should it panic, `failed` turns the panic's words into
    /// the action that tells the screen. The handle cancels just this job.
    pub fn spawn<F, E>(&mut self, job: F, failed: E) -> AbortHandle
    where
        F: Future<Output = ()> + Send + 'static,
        E: FnOnce(String) -> Action + Send + 'static,
    {
        self.reap();
        let tx = self.tx.clone();
        self.set.spawn(async move {
            if let Err(panic) = AssertUnwindSafe(job).catch_unwind().await {
                tx.tell(failed(crashed(panic.as_ref()))).await;
            }
        })
    }

    /// [`Tasks::spawn`] for work that blocks (files, rendering) on a blocking thread.
    pub fn spawn_blocking<F, E>(&mut self, job: F, failed: E)
    where
        F: FnOnce() + Send + 'static,
        E: FnOnce(String) -> Action + Send + 'static,
    {
        self.reap();
        let tx = self.tx.clone();
        self.set.spawn_blocking(move || {
            if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(job)) {
                tx.tell_blocking(failed(crashed(panic.as_ref())));
            }
        });
    }

    /// Whether no job is left once the finished ones are forgotten.
    pub fn is_idle(&mut self) -> bool {
        self.reap();
        self.set.is_empty()
    }

    /// Forgets finished jobs: each has told the screen how it ended.
    fn reap(&mut self) {
        while let Some(ended) = self.set.try_join_next() {
            if let Err(e) = ended
                && e.is_panic()
            {
                tracing::error!("a job of the terminal UI panicked while telling its failure: {e}");
            }
        }
    }

    /// Quitting: cancels every job, then waits (bounded) for those a blocking thread had
    /// already started, which cannot be cancelled midway. True when all have ended.
    pub async fn stop(&mut self) -> bool {
        self.set.abort_all();
        let ended = async { while self.set.join_next().await.is_some() {} };
        tokio::time::timeout(JOBS_STOP_GRACE, ended).await.is_ok()
    }
}

/// The words for a job that panicked: its message when it has one (the panic hook wrote
/// the rest to the log file).
fn crashed(panic: &(dyn Any + Send)) -> String {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    format!("failed unexpectedly ({message}); details are in the log file")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_that_panics_tells_the_screen_with_its_own_failure() {
        let (news, mut rx) = News::channel();
        let mut jobs = Tasks::new(news);
        jobs.spawn(async { panic!("boom") }, |why| Action::ConfigureReply(Err(why)));
        jobs.spawn_blocking(|| panic!("bang"), Action::OpenFailed);
        let mut told = Vec::new();
        for _ in 0..2 {
            match rx.recv().await {
                Some(Action::ConfigureReply(Err(why)) | Action::OpenFailed(why)) => told.push(why),
                other => panic!("unexpected news: {other:?}"),
            }
        }
        told.sort();
        assert!(told[0].contains("failed unexpectedly (bang)"), "{told:?}");
        assert!(told[1].contains("failed unexpectedly (boom)"), "{told:?}");
    }

    #[tokio::test]
    async fn quitting_cancels_a_job_that_is_still_waiting() {
        let (news, _rx) = News::channel();
        let mut jobs = Tasks::new(news);
        jobs.spawn(std::future::pending(), Action::OpenFailed);
        assert!(!jobs.is_idle());
        assert!(jobs.stop().await, "a pending job ends on abort");
        assert!(jobs.is_idle());
    }
}

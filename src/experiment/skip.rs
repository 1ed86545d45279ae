//! Skipping the current phase or pause. Each phase and pause takes a new generation
//! number when it begins; a skip press names the generation running at that moment, so
//! a second press, or a press that lands between two phases, can never cut short a
//! phase that had not started when the key was pressed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::watch;

/// The skip key: ends the running phase (or pause) early; cheap to clone, shared by the run and its front end.
#[derive(Clone, Debug)]
pub struct SkipControl {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The generation of what is running now (0: nothing yet).
    current: AtomicU64,
    /// The generation the last press asked to skip.
    requested: watch::Sender<u64>,
}

impl Default for SkipControl {
    fn default() -> SkipControl {
        let (requested, _) = watch::channel(0);
        SkipControl { inner: Arc::new(Inner { current: AtomicU64::new(0), requested }) }
    }
}

/// Held by one phase or pause: resolves `skipped()` only for a press made while it runs.
pub struct SkipScope {
    generation: u64,
    requested: watch::Receiver<u64>,
}

impl SkipControl {
    /// Asks to skip whatever runs now. Returns false when nothing is running.
    pub fn skip_current(&self) -> bool {
        let current = self.inner.current.load(Ordering::Acquire);
        if current == 0 {
            return false;
        }
        self.inner.requested.send_replace(current);
        true
    }

    /// Starts a new generation (a phase or a pause begins).
    pub fn begin(&self) -> SkipScope {
        // Subscribe before publishing the generation, so no press made for it is missed.
        let requested = self.inner.requested.subscribe();
        let generation = self.inner.current.fetch_add(1, Ordering::AcqRel) + 1;
        SkipScope { generation, requested }
    }
}

impl SkipScope {
    /// Resolves when a press named this generation; pending forever otherwise.
    pub async fn skipped(&mut self) {
        let generation = self.generation;
        if self.requested.wait_for(|asked| *asked == generation).await.is_err() {
            // The control was dropped: nobody can press skip any more.
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn resolves(scope: &mut SkipScope) -> bool {
        tokio::time::timeout(Duration::from_millis(50), scope.skipped()).await.is_ok()
    }

    #[tokio::test(start_paused = true)]
    async fn a_press_skips_only_what_runs_when_pressed() {
        let control = SkipControl::default();
        assert!(!control.skip_current(), "nothing runs yet");
        let mut first = control.begin();
        assert!(control.skip_current());
        assert!(control.skip_current(), "a second quick press");
        assert!(resolves(&mut first).await);
        let mut second = control.begin();
        assert!(!resolves(&mut second).await, "the presses for the first phase leave the next alone");
        assert!(control.skip_current());
        assert!(resolves(&mut second).await);
    }

    #[tokio::test(start_paused = true)]
    async fn a_press_between_phases_goes_to_the_pause_not_the_next_phase() {
        let control = SkipControl::default();
        let _phase = control.begin();
        let mut pause = control.begin();
        control.skip_current();
        assert!(resolves(&mut pause).await);
        let mut next = control.begin();
        assert!(!resolves(&mut next).await);
    }
}

//! The worker's way back to the UI loop: one bounded queue of actions. Bounded so that a
//! flood (a chatty container's followed log, a burst of run events) cannot grow memory
//! while the loop is busy drawing; what may be dropped is said at each call.

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::tui::Action;

/// Room for a few seconds of news at the UI's 10 frames a second.
pub const NEWS_CAPACITY: usize = 1024;

#[derive(Clone)]
pub struct News(mpsc::Sender<Action>);

impl News {
    pub fn channel() -> (News, mpsc::Receiver<Action>) {
        let (tx, rx) = mpsc::channel(NEWS_CAPACITY);
        (News(tx), rx)
    }

    /// News the screen must get (an operation finished, a reply, a run event): waits for
    /// room. An error means the UI loop has ended, and nobody is left to tell.
    pub async fn tell(&self, action: Action) {
        // an error means the UI loop has ended, and nobody is left to tell
        let _ = self.0.send(action).await;
    }

    /// [`News::tell`] from a blocking thread (`spawn_blocking`), never from async code.
    pub fn tell_blocking(&self, action: Action) {
        // As in `tell`: an error means the UI loop has ended.
        let _ = self.0.blocking_send(action);
    }

    /// News that may be dropped while the screen is behind (a progress or log line):
    /// never waits. False once the UI loop has ended.
    pub fn offer(&self, action: Action) -> Offered {
        match self.0.try_send(action) {
            Ok(()) => Offered::Taken,
            Err(TrySendError::Full(_)) => Offered::Dropped,
            Err(TrySendError::Closed(_)) => Offered::Closed,
        }
    }
}

/// What became of an offered action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offered {
    Taken,
    /// The queue was full: the action was dropped.
    Dropped,
    /// The UI loop has ended.
    Closed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn offers_are_dropped_when_full_and_tells_wait_for_room() {
        let (news, mut rx) = News::channel();
        for _ in 0..NEWS_CAPACITY {
            assert_eq!(news.offer(Action::Tick), Offered::Taken);
        }
        assert_eq!(news.offer(Action::Tick), Offered::Dropped, "a full queue drops offers");
        let waiting = tokio::spawn({
            let news = news.clone();
            async move { news.tell(Action::Refresh).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "a tell waits for room");
        assert!(rx.recv().await.is_some());
        waiting.await.unwrap();
        let mut last = None;
        while let Ok(action) = rx.try_recv() {
            last = Some(action);
        }
        assert!(matches!(last, Some(Action::Refresh)), "the told action arrived after the room was made");
        drop(rx);
        assert_eq!(news.offer(Action::Tick), Offered::Closed);
    }
}

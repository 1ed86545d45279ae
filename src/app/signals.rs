//! The signals that ask a foreground command to stop: SIGINT (Ctrl-C), SIGTERM
//! (`kill`, `docker stop`, CI timeouts) and SIGHUP (the terminal went away).

use tokio::signal::unix::{Signal, SignalKind, signal};

/// Which signal arrived, for the message the caller prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Interrupt,
    Terminate,
    Hangup,
}

impl Stop {
    pub fn name(self) -> &'static str {
        match self {
            Stop::Interrupt => "SIGINT",
            Stop::Terminate => "SIGTERM",
            Stop::Hangup => "SIGHUP",
        }
    }
}

/// Resolves on the next SIGINT, SIGTERM or SIGHUP. A signal that cannot be watched
/// (no handler could be installed) is left out rather than ending the wait at once.
pub async fn stop_requested() -> Stop {
    StopSignals::new().next().await
}

/// The three stop signals, watched from creation on: a signal that arrives while the
/// caller is busy between two waits is kept for the next [`StopSignals::next`], never lost
/// (a second Ctrl-C right after the first must quit).
pub struct StopSignals {
    streams: Vec<(Signal, Stop)>,
}

impl StopSignals {
    pub fn new() -> StopSignals {
        let kinds = [
            (SignalKind::interrupt(), Stop::Interrupt),
            (SignalKind::terminate(), Stop::Terminate),
            (SignalKind::hangup(), Stop::Hangup),
        ];
        let streams = kinds
            .into_iter()
            .filter_map(|(kind, stop)| match signal(kind) {
                Ok(stream) => Some((stream, stop)),
                Err(err) => {
                    tracing::warn!("cannot watch {}: {err}", stop.name());
                    None
                }
            })
            .collect();
        StopSignals { streams }
    }

    /// The next stop signal (pending forever when none can be watched).
    pub async fn next(&mut self) -> Stop {
        if self.streams.is_empty() {
            return std::future::pending().await;
        }
        let waits = self.streams.iter_mut().map(|(stream, stop)| {
            let stop = *stop;
            Box::pin(async move {
                stream.recv().await;
                stop
            })
        });
        futures::future::select_all(waits).await.0
    }
}

impl Default for StopSignals {
    fn default() -> Self {
        Self::new()
    }
}

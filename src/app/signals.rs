//! The signals that ask a foreground command to stop: SIGINT (Ctrl-C), SIGTERM
//! (`kill`, `docker stop`, CI timeouts) and SIGHUP (the terminal went away).

use tokio::signal::unix::{SignalKind, signal};

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
    let watch = |kind: SignalKind, stop: Stop| async move {
        match signal(kind) {
            Ok(mut stream) => {
                stream.recv().await;
                stop
            }
            Err(err) => {
                tracing::warn!("cannot watch {}: {err}", stop.name());
                std::future::pending().await
            }
        }
    };
    tokio::select! {
        stop = watch(SignalKind::interrupt(), Stop::Interrupt) => stop,
        stop = watch(SignalKind::terminate(), Stop::Terminate) => stop,
        stop = watch(SignalKind::hangup(), Stop::Hangup) => stop,
    }
}

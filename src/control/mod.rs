//! The control API of a running experiment (`run --control ADDR`): a small versioned REST
//! API to read the run's state, steer it (users, arrival rate, extend, skip, abort) and
//! follow its snapshots and events as server-sent events; and the client `attach` uses.
//! Steering goes through the run's own `RunControl` channels, as the TUI's keys do.
//!
//! May import `experiment` (its events and controls), `engine` (`Steer`), `metrics`,
//! `profile` (`Secret`). axum and reqwest stay inside this module.

#![deny(missing_docs)]

mod client;
mod server;
mod view;
pub mod wire;

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use client::{AttachClient, ClientError, EventReader};
pub use server::{OPENAPI_DOCUMENT, ROUTES};
pub use view::Hub;

use crate::experiment::RunControl;
use crate::profile::Secret;

/// Why the control API cannot start; all are usage errors (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(
        "--control {addr}: the control API can steer and stop the run, so it binds beyond loopback \
         only with a token; add --control-token TOKEN (or TERRAFIX_CONTROL_TOKEN), or bind 127.0.0.1"
    )]
    /// A non-loopback address without a token: anyone who reaches it could steer the run.
    OpenWithoutToken {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The token is shorter than [`MIN_TOKEN_CHARS`] characters (after trimming).
    #[error("--control-token is empty: give a token of at least {MIN_TOKEN_CHARS} characters")]
    ShortToken,
    /// The address cannot be listened on (in use, not local, no permission).
    #[error("--control {addr}: cannot listen there ({source}); pick a free port or 127.0.0.1:0 for any")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
}

/// The shortest token taken (a guessable one would make the check pointless).
pub const MIN_TOKEN_CHARS: usize = 8;

/// Where the API listens and the token it asks for, checked.
#[derive(Debug)]
pub struct ControlSettings {
    /// The address to listen on (port 0: any free port).
    pub addr: SocketAddr,
    /// The bearer token every call must carry; `None` only on a loopback address.
    pub token: Option<Secret>,
}

impl ControlSettings {
    /// Loopback addresses need no token; any other needs one.
    pub fn new(addr: SocketAddr, token: Option<Secret>) -> Result<ControlSettings, ControlError> {
        if let Some(t) = &token
            && t.expose().trim().chars().count() < MIN_TOKEN_CHARS
        {
            return Err(ControlError::ShortToken);
        }
        if token.is_none() && !addr.ip().is_loopback() {
            return Err(ControlError::OpenWithoutToken { addr });
        }
        Ok(ControlSettings { addr, token })
    }

    /// Listens on `addr`; the caller serves on the listener (its local address tells the
    /// port when 0 was asked for).
    pub async fn bind(&self) -> Result<TcpListener, ControlError> {
        TcpListener::bind(self.addr).await.map_err(|source| ControlError::Bind { addr: self.addr, source })
    }
}

/// Serves the API on `listener` until `shutdown` is cancelled (open event streams end then).
pub async fn serve(
    listener: TcpListener,
    hub: Hub,
    control: RunControl,
    token: Option<Secret>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let state = server::ApiState { hub, control, token, closing: shutdown.clone() };
    let app = server::router(state);
    axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.cancelled().await }).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_loopback_needs_a_token() {
        let open: SocketAddr = "0.0.0.0:0".parse().expect("an address");
        let local: SocketAddr = "127.0.0.1:0".parse().expect("an address");
        assert!(matches!(ControlSettings::new(open, None), Err(ControlError::OpenWithoutToken { .. })));
        assert!(ControlSettings::new(open, Some(Secret::new("long-enough-token"))).is_ok());
        assert!(ControlSettings::new(local, None).is_ok());
        assert!(matches!(
            ControlSettings::new(local, Some(Secret::new("short"))),
            Err(ControlError::ShortToken)
        ));
    }
}

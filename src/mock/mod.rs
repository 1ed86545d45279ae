//! The mock TerraFix API (mock mode): webhook/batch processing with simulated latency,
//! failure injection, dedup (memory or Redis), backpressure and statistics.
//! axum/hyper and redis types stay inside this module; it imports only `metrics`.

#![deny(missing_docs)]

mod config;
mod control;
mod deadline;
mod dedup;
mod delay;
mod handlers;
mod listen;
mod payload;
mod pipeline;
mod stats;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use config::{ConfigError, FailureMode, Jitter, MockConfig};
pub use dedup::{Claim, DedupError, DedupStore, MemoryStore, RedisStore};
pub use handlers::{MAX_BODY_BYTES, OPENAPI_DOCUMENT, ROUTES, Route, RouteMethod};
pub use listen::{
    DEFAULT_BODY_READ_TIMEOUT, ServeOptions, ServerTls, ServerTlsError, default_max_connections,
};
pub use payload::{MAX_BATCH_ITEMS, failure_hash};

/// Why the mock server could not start.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// Its settings are invalid.
    #[error("invalid mock server settings: {0}")]
    Config(#[from] ConfigError),
    /// Its dedup store (Redis) could not be reached at start.
    #[error("cannot use the dedup store: {0}")]
    Dedup(#[from] DedupError),
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish for at most
/// `config.drain_timeout` (hanging requests are answered 503 at once).
pub async fn serve(
    listener: TcpListener,
    config: MockConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), MockError> {
    serve_with(listener, config, ServeOptions::default(), shutdown).await
}

/// `serve` with TLS, connection cap and timeouts of the caller's choosing.
pub async fn serve_with(
    listener: TcpListener,
    config: MockConfig,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), MockError> {
    config.validate()?;
    let store: Arc<dyn DedupStore> = match &config.redis_url {
        Some(url) => Arc::new(RedisStore::connect(url).await?),
        None => Arc::new(MemoryStore::new(config.memory_dedup_capacity)),
    };
    let drain_timeout = config.drain_timeout;
    // The delays' driver runs on a worker thread, where the requests it wakes run (on the
    // caller's thread each wake would cross threads), for as long as the server serves.
    let (delays, delay_driver) = delay::Delays::new();
    let _delay_driver = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(delay_driver));
    let state = Arc::new(pipeline::AppState::new(config, store, delays));
    let shutting_down = state.control.shutting_down.clone();
    let hard_stop = state.control.hard_stop.clone();
    let app = handlers::router(state);

    let signal = shutting_down.clone();
    let server = listen::accept_loop(listener, app, options, shutting_down.clone());
    let drain_deadline = async {
        shutdown.await;
        signal.cancel();
        tokio::time::sleep(drain_timeout).await;
    };
    tokio::select! {
        () = server => Ok(()),
        () = drain_deadline => {
            tracing::warn!("mock server: in-flight requests still running after {drain_timeout:?}; stopping them");
            hard_stop.cancel();
            Ok(())
        }
    }
}

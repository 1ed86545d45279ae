//! The mock TerraFix API (mock mode): webhook/batch processing with simulated latency,
//! failure injection, dedup (memory or Redis), backpressure and statistics.
//! axum/hyper and redis types stay inside this module; it imports only `metrics`.

mod config;
mod control;
mod dedup;
mod handlers;
mod payload;
mod pipeline;
mod stats;

use std::future::{Future, IntoFuture};
use std::sync::Arc;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

pub use config::{ConfigError, FailureMode, Jitter, MockConfig};
pub use dedup::{Claim, DedupError, DedupStore, MemoryStore, RedisStore};
pub use handlers::MAX_BODY_BYTES;
pub use payload::{MAX_BATCH_ITEMS, failure_hash};

#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("invalid mock server settings: {0}")]
    Config(#[from] ConfigError),
    #[error("cannot use the dedup store: {0}")]
    Dedup(#[from] DedupError),
    #[error("mock server stopped with an I/O error on {addr}: {source}")]
    Serve {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish for at most
/// `config.drain_timeout` (hanging requests are answered 503 at once).
pub async fn serve(
    listener: TcpListener,
    config: MockConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), MockError> {
    config.validate()?;
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| "?".into());
    let store: Arc<dyn DedupStore> = match &config.redis_url {
        Some(url) => Arc::new(RedisStore::connect(url).await?),
        None => Arc::new(MemoryStore::new(config.memory_dedup_capacity)),
    };
    let drain_timeout = config.drain_timeout;
    let state = Arc::new(pipeline::AppState::new(config, store));
    let shutting_down = state.control.shutting_down.clone();
    let hard_stop = state.control.hard_stop.clone();
    let app = handlers::router(state);

    // Small responses: send them now rather than waiting for Nagle.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let signal = shutting_down.clone();
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            signal.cancel();
        })
        .into_future();
    let drain_deadline = async {
        shutting_down.cancelled().await;
        tokio::time::sleep(drain_timeout).await;
    };
    tokio::select! {
        result = server => result.map_err(|source| MockError::Serve { addr, source }),
        () = drain_deadline => {
            tracing::warn!("mock server: in-flight requests still running after {drain_timeout:?}; stopping them");
            hard_stop.cancel();
            Ok(())
        }
    }
}

//! Deduplication of failures by hash: the `DedupStore` trait and its two stores,
//! in memory with a TTL (`memory`) and Redis `SET NX EX` (`redis`). redis types stay here.

mod memory;
mod redis;

use std::time::Duration;

use futures::future::BoxFuture;

pub use memory::MemoryStore;
pub use redis::RedisStore;

/// Whether this process is the first to claim a failure hash within its TTL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// No claim on the hash within its TTL: this request claims it and does the work.
    New,
    /// The hash was claimed before within its TTL: the work was already done (or is under way).
    Duplicate,
}

/// The store could not answer; the caller fails open (treats the failure as new).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dedup store {store}: {reason}")]
pub struct DedupError {
    /// Which store: `redis <URL>`, the URL shown without its password.
    pub store: String,
    /// What went wrong (timeout, connection refused, …).
    pub reason: String,
}

/// Claims failure hashes. Implementations must answer within about a second even when
/// their backend is gone, so a dead store can never make requests hang.
pub trait DedupStore: Send + Sync {
    /// Claims `hash` for `ttl` if nobody holds it.
    fn claim<'a>(&'a self, hash: &'a str, ttl: Duration) -> BoxFuture<'a, Result<Claim, DedupError>>;

    /// Ok when the store can take claims right now (for `/ready`).
    fn check_ready(&self) -> BoxFuture<'_, Result<(), DedupError>>;

    /// `memory` or `redis`.
    fn kind(&self) -> &'static str;
}

//! Redis dedup store: `SET terrafix:failure:{hash} 1 NX EX ttl` through a ConnectionManager
//! (which reconnects by itself). Every call has a short timeout; when Redis is unreachable
//! at start, connecting is retried lazily with backoff, so no request waits long.

use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Claim, DedupError, DedupStore};

/// Longest a claim or ping may take before we fail open.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The Redis dedup store: `SET NX EX` per hash, reconnecting with backoff, failing open after 500 ms.
pub struct RedisStore {
    /// The URL without its password, for messages.
    shown_url: String,
    client: redis::Client,
    manager: RwLock<Option<ConnectionManager>>,
    /// When the next connect attempt may start, and the current backoff.
    reconnect: Mutex<Backoff>,
    connecting: tokio::sync::Mutex<()>,
}

struct Backoff {
    next_attempt: Instant,
    delay: Duration,
    last_error: String,
}

impl RedisStore {
    /// Parses `url` and tries to connect once; an unreachable Redis is not an error here
    /// (the store fails open and keeps trying), a malformed URL is.
    pub async fn connect(url: &str) -> Result<Self, DedupError> {
        let shown_url = redact(url);
        let client = redis::Client::open(url).map_err(|err| DedupError {
            store: format!("redis {shown_url}"),
            reason: format!("invalid Redis URL ({err}); expected e.g. redis://127.0.0.1:6379/0"),
        })?;
        let store = Self {
            shown_url,
            client,
            manager: RwLock::new(None),
            reconnect: Mutex::new(Backoff {
                next_attempt: Instant::now(),
                delay: Duration::from_millis(250),
                last_error: "not connected yet".into(),
            }),
            connecting: tokio::sync::Mutex::new(()),
        };
        if let Err(err) = store.manager().await {
            tracing::warn!("{err}; serving anyway (dedup fails open until Redis answers)");
        }
        Ok(store)
    }

    fn error(&self, reason: impl Into<String>) -> DedupError {
        DedupError { store: format!("redis {}", self.shown_url), reason: reason.into() }
    }

    /// The connection manager, connecting first if there is none (one attempt at a time,
    /// with backoff between failed attempts; others fail open at once meanwhile).
    async fn manager(&self) -> Result<ConnectionManager, DedupError> {
        if let Some(manager) = self.manager.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            return Ok(manager.clone());
        }
        let Ok(_guard) = self.connecting.try_lock() else {
            return Err(self.error("still connecting"));
        };
        {
            let backoff = self.reconnect.lock().unwrap_or_else(|p| p.into_inner());
            if Instant::now() < backoff.next_attempt {
                return Err(self.error(format!("unreachable: {}", backoff.last_error)));
            }
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let attempt = tokio::time::timeout(
            CONNECT_TIMEOUT * 2,
            ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await;
        let reason = match attempt {
            Ok(Ok(manager)) => {
                *self.manager.write().unwrap_or_else(|p| p.into_inner()) = Some(manager.clone());
                tracing::info!("connected to redis {}", self.shown_url);
                return Ok(manager);
            }
            Ok(Err(err)) => err.to_string(),
            Err(_) => format!("no connection within {} ms", (CONNECT_TIMEOUT * 2).as_millis()),
        };
        let mut backoff = self.reconnect.lock().unwrap_or_else(|p| p.into_inner());
        backoff.next_attempt = Instant::now() + backoff.delay;
        backoff.delay = (backoff.delay * 2).min(MAX_BACKOFF);
        backoff.last_error = reason.clone();
        Err(self.error(format!("unreachable: {reason}; is redis-server running?")))
    }

    async fn set_nx(&self, hash: &str, ttl: Duration) -> Result<Claim, DedupError> {
        let mut manager = self.manager().await?;
        let command = redis::cmd("SET")
            .arg(format!("terrafix:failure:{hash}"))
            .arg("1")
            .arg("NX")
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .to_owned();
        match tokio::time::timeout(CALL_TIMEOUT, command.query_async::<Option<String>>(&mut manager)).await {
            Ok(Ok(Some(_))) => Ok(Claim::New),
            Ok(Ok(None)) => Ok(Claim::Duplicate),
            Ok(Err(err)) => Err(self.error(format!("SET NX failed: {err}"))),
            Err(_) => Err(self.error(format!("no answer within {} ms", CALL_TIMEOUT.as_millis()))),
        }
    }

    async fn ping(&self) -> Result<(), DedupError> {
        let mut manager = self.manager().await?;
        match tokio::time::timeout(CALL_TIMEOUT, redis::cmd("PING").query_async::<String>(&mut manager)).await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(self.error(format!("PING failed: {err}"))),
            Err(_) => Err(self.error(format!("no answer to PING within {} ms", CALL_TIMEOUT.as_millis()))),
        }
    }
}

impl DedupStore for RedisStore {
    fn claim<'a>(&'a self, hash: &'a str, ttl: Duration) -> BoxFuture<'a, Result<Claim, DedupError>> {
        self.set_nx(hash, ttl).boxed()
    }

    fn check_ready(&self) -> BoxFuture<'_, Result<(), DedupError>> {
        self.ping().boxed()
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}

/// `redis://user:secret@host/0` → `redis://user:***@host/0`.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Cannot fail: the URL already holds a password, so it can hold another.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(redact("redis://u:pw@127.0.0.1:6379/0"), "redis://u:***@127.0.0.1:6379/0");
        assert_eq!(redact("redis://127.0.0.1/0"), "redis://127.0.0.1/0");
    }
}

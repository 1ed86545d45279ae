//! The one adapter over redis for distributed runs: a plan key and two Redis Streams per
//! run (`control` written by the coordinator, `data` written by the workers). redis types
//! stay in this file; callers see [`Transport`], our wire types and plain errors.

#![deny(missing_docs)]

use std::time::Duration;

use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use redis::streams::StreamReadReply;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::wire::{Control, Data, Plan};

/// The field each stream entry carries its JSON in.
const FIELD: &str = "m";
/// A stream keeps at most about this many entries (a long run's data is read as it comes).
const MAX_LEN: u64 = 100_000;
/// Plan and streams expire a day after the last write, should a coordinator die before its cleanup.
const EXPIRE_S: u64 = 86_400;

/// A Redis call of the distributed run failed; the message names the Redis URL.
#[derive(Debug, thiserror::Error)]
#[error("redis at {url}: {message}")]
pub struct TransportError {
    /// The Redis URL, as given.
    pub url: String,
    /// What failed (connect, a command, an unreadable entry).
    pub message: String,
}

/// Where the run's keys live, and two connections: one for writes, one for blocking reads
/// (a blocked XREAD would hold up every write on a shared multiplexed connection).
#[derive(Clone)]
pub struct Transport {
    url: String,
    run_id: String,
    writes: MultiplexedConnection,
    reads: MultiplexedConnection,
}

/// Where the next read of a stream starts.
#[derive(Clone, Debug)]
pub struct Cursor(String);

impl Cursor {
    /// From the stream's first entry.
    pub fn start() -> Cursor {
        Cursor("0-0".into())
    }
}

impl Transport {
    /// Opens the two connections to Redis at `url` for run `run_id` (5 s connect and response timeouts).
    pub async fn connect(url: &str, run_id: &str) -> Result<Transport, TransportError> {
        let fail = |message: String| TransportError { url: redact(url), message };
        let client = redis::Client::open(url).map_err(|e| fail(e.to_string()))?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let writes = client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| fail(e.to_string()))?;
        // Reads block up to `block` below; their own timeout must outlast it.
        let read_config = config.set_response_timeout(Some(Duration::from_secs(15)));
        let reads = client
            .get_multiplexed_async_connection_with_config(&read_config)
            .await
            .map_err(|e| fail(e.to_string()))?;
        Ok(Transport { url: redact(url), run_id: run_id.to_string(), writes, reads })
    }

    fn key(&self, what: &str) -> String {
        format!("terrafix:run:{}:{what}", self.run_id)
    }

    fn fail(&self, e: impl std::fmt::Display) -> TransportError {
        TransportError { url: self.url.clone(), message: e.to_string() }
    }

    /// Writes the run's plan (expires after a day, should nobody clean up).
    pub async fn put_plan(&self, plan: &Plan) -> Result<(), TransportError> {
        let json = serde_json::to_string(plan).map_err(|e| self.fail(e))?;
        let mut con = self.writes.clone();
        redis::cmd("SET")
            .arg(self.key("plan"))
            .arg(json)
            .arg("EX")
            .arg(EXPIRE_S)
            .query_async::<()>(&mut con)
            .await
            .map_err(|e| self.fail(e))
    }

    /// The plan, once the coordinator has written it (`None` until then).
    pub async fn plan(&self) -> Result<Option<Plan>, TransportError> {
        let mut con = self.writes.clone();
        let text: Option<String> =
            redis::cmd("GET").arg(self.key("plan")).query_async(&mut con).await.map_err(|e| self.fail(e))?;
        match text {
            Some(t) => serde_json::from_str(&t).map(Some).map_err(|e| self.fail(format!("the plan: {e}"))),
            None => Ok(None),
        }
    }

    async fn add<T: Serialize>(&self, stream: &str, message: &T) -> Result<(), TransportError> {
        let json = serde_json::to_string(message).map_err(|e| self.fail(e))?;
        let key = self.key(stream);
        let mut con = self.writes.clone();
        redis::pipe()
            .cmd("XADD")
            .arg(&key)
            .arg("MAXLEN")
            .arg("~")
            .arg(MAX_LEN)
            .arg("*")
            .arg(FIELD)
            .arg(json)
            .ignore()
            .cmd("EXPIRE")
            .arg(&key)
            .arg(EXPIRE_S)
            .ignore()
            .query_async::<()>(&mut con)
            .await
            .map_err(|e| self.fail(e))
    }

    /// Entries after `cursor`, waiting up to `block` for the first; the cursor moves past them.
    async fn read<T: DeserializeOwned>(
        &self,
        stream: &str,
        cursor: &mut Cursor,
        block: Duration,
    ) -> Result<Vec<T>, TransportError> {
        let mut con = self.reads.clone();
        let reply: Option<StreamReadReply> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(1000)
            .arg("BLOCK")
            .arg(block.as_millis().max(1) as u64)
            .arg("STREAMS")
            .arg(self.key(stream))
            .arg(&cursor.0)
            .query_async(&mut con)
            .await
            .map_err(|e| self.fail(e))?;
        let mut out = Vec::new();
        for entry in reply.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids) {
            cursor.0 = entry.id.clone();
            let Some(value) = entry.map.get(FIELD) else { continue };
            let text: String = redis::from_redis_value_ref(value).map_err(|e| self.fail(e))?;
            // An entry this build cannot read (another version's worker) is skipped, not fatal.
            match serde_json::from_str(&text) {
                Ok(message) => out.push(message),
                Err(e) => tracing::warn!("skipping an unreadable {stream} entry {}: {e}", entry.id),
            }
        }
        Ok(out)
    }

    /// Appends a command to the run's control stream.
    pub async fn send_control(&self, message: &Control) -> Result<(), TransportError> {
        self.add("control", message).await
    }

    /// Reads control commands after `cursor` (advancing it), waiting up to `block` for the first; at most 1000 per call.
    pub async fn read_control(
        &self,
        cursor: &mut Cursor,
        block: Duration,
    ) -> Result<Vec<Control>, TransportError> {
        self.read("control", cursor, block).await
    }

    /// Appends a worker message to the run's data stream.
    pub async fn send_data(&self, message: &Data) -> Result<(), TransportError> {
        self.add("data", message).await
    }

    /// Reads worker messages after `cursor` (advancing it), waiting up to `block` for the first; at most 1000 per call.
    pub async fn read_data(&self, cursor: &mut Cursor, block: Duration) -> Result<Vec<Data>, TransportError> {
        self.read("data", cursor, block).await
    }

    /// Deletes the run's plan and streams.
    pub async fn remove(&self) -> Result<(), TransportError> {
        let mut con = self.writes.clone();
        redis::cmd("DEL")
            .arg(self.key("plan"))
            .arg(self.key("control"))
            .arg(self.key("data"))
            .query_async::<()>(&mut con)
            .await
            .map_err(|e| self.fail(e))
    }
}

/// `url` without its password (`redis://:***@host:port/0`): errors name where, never the secret.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Setting a password fails only on URLs that cannot have one; keep none then.
            if parsed.set_password(Some("***")).is_err() {
                return String::from("redis (address not shown)");
            }
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) if url.contains('@') => String::from("redis (address not shown)"),
        Err(_) => url.to_string(),
    }
}

#[cfg(test)]
mod redact_tests {
    #[test]
    fn a_password_never_reaches_an_error() {
        let shown = super::redact("redis://:s3cretPW@192.168.1.5:40001/0");
        assert!(!shown.contains("s3cretPW"), "{shown}");
        assert!(shown.contains("192.168.1.5:40001"), "{shown}");
        assert_eq!(super::redact("redis://redis:6379/0"), "redis://redis:6379/0");
    }
}

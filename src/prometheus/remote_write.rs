//! Prometheus remote write 1.0: a `WriteRequest` protobuf written by hand (three small
//! messages, no code generator), compressed with snappy's block format, POSTed once a
//! second and once more at the end. A push that fails is said once and never retried
//! faster: the run's own measurement comes first.

use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::series::{Family, LiveSeries};

/// How long one push may take; a slower receiver loses that second's push, not the run's time.
const PUSH_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the series are pushed.
pub const PUSH_EVERY: Duration = Duration::from_secs(1);

/// Why a push failed. URLs are shown without user or password.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The HTTP client (its TLS setup) could not be built.
    #[error("cannot build an HTTP client for {url}: {reason}")]
    Client {
        /// The remote-write URL.
        url: String,
        /// Why not.
        reason: String,
    },
    /// The request did not complete (refused, timed out after 2 s).
    #[error("{url} did not take the push: {reason}")]
    Send {
        /// The remote-write URL.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The receiver answered with a non-2xx status.
    #[error(
        "{url} answered {status} to the push (is it a remote-write receiver? Prometheus needs --web.enable-remote-write-receiver and the path /api/v1/write)"
    )]
    Status {
        /// The remote-write URL.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// Snappy could not compress the body: its message.
    #[error("snappy compression failed: {0}")]
    Compress(String),
}

/// Sends the series to one remote-write URL.
pub struct Pusher {
    client: reqwest::Client,
    url: Url,
    /// The URL as errors show it: no user or password.
    shown: String,
}

fn shown_url(url: &Url) -> String {
    let mut shown = url.clone();
    // Both fail only for URLs that cannot hold credentials, which then hold none to hide.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

impl Pusher {
    /// A pusher to `url` (trusting the public web roots for https), with a 2 s timeout per push.
    pub fn new(url: Url) -> Result<Pusher, PushError> {
        let shown = shown_url(&url);
        crate::engine::tls::install_provider();
        let tls = crate::engine::tls::ClientTls::new(crate::engine::tls::TlsTrust::PublicRoots, false)
            .map_err(|e| PushError::Client { url: shown.clone(), reason: e.to_string() })?;
        let client = reqwest::Client::builder()
            .timeout(PUSH_TIMEOUT)
            .connect_timeout(PUSH_TIMEOUT)
            .tls_backend_preconfigured(tls.rustls_config())
            .build()
            .map_err(|e| PushError::Client { url: shown.clone(), reason: e.to_string() })?;
        Ok(Pusher { client, url, shown })
    }

    /// One push of every series at `at_ms` (Unix milliseconds).
    pub async fn push(&self, series: &LiveSeries, at_ms: i64) -> Result<(), PushError> {
        let body = encode_write_request(&series.families(), at_ms);
        let compressed =
            snap::raw::Encoder::new().compress_vec(&body).map_err(|e| PushError::Compress(e.to_string()))?;
        let response = self
            .client
            .post(self.url.clone())
            .header("Content-Encoding", "snappy")
            .header("Content-Type", "application/x-protobuf")
            .header("User-Agent", concat!("terrafix-tui/", env!("CARGO_PKG_VERSION")))
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(compressed)
            .send()
            .await
            // The error without its URL: the shown one (no password) is ours.
            .map_err(|e| PushError::Send { url: self.shown.clone(), reason: e.without_url().to_string() })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(PushError::Status { url: self.shown.clone(), status: response.status().as_u16() })
        }
    }

    /// Pushes every second until `stop`, then once more (the final counts). The first
    /// failure goes to `on_failure`; later ones are silent.
    pub async fn run(
        self,
        series: watch::Receiver<LiveSeries>,
        stop: CancellationToken,
        on_failure: impl FnOnce(PushError) + Send,
    ) {
        let mut on_failure = Some(on_failure);
        let mut every = tokio::time::interval(PUSH_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let last = tokio::select! {
                _ = every.tick() => false,
                _ = stop.cancelled() => true,
            };
            // Cloned out of the watch so its lock is not held across the push.
            let current = series.borrow().clone();
            if current.families().is_empty() && !last {
                continue;
            }
            if let Err(e) = self.push(&current, now_ms()).await
                && let Some(report) = on_failure.take()
            {
                report(e);
            }
            if last {
                return;
            }
        }
    }
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// A `prometheus.WriteRequest` holding one sample per series at `at_ms`.
pub fn encode_write_request(families: &[Family], at_ms: i64) -> Vec<u8> {
    let mut request = Vec::new();
    for family in families {
        for (name, labels, value) in &family.samples {
            let mut sorted: Vec<(&str, &str)> = vec![("__name__", name.as_str())];
            sorted.extend(labels.iter().map(|(k, v)| (*k, v.as_str())));
            // Receivers require labels sorted by name.
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            let mut series = Vec::new();
            for (k, v) in sorted {
                let mut label = Vec::new();
                put_bytes(&mut label, 1, k.as_bytes());
                put_bytes(&mut label, 2, v.as_bytes());
                put_bytes(&mut series, 1, &label);
            }
            let mut sample = Vec::new();
            sample.push(0x09); // field 1, wire type 1 (64-bit): the value
            sample.extend_from_slice(&value.to_le_bytes());
            sample.push(0x10); // field 2, wire type 0 (varint): the timestamp
            put_varint(&mut sample, at_ms as u64);
            put_bytes(&mut series, 2, &sample);
            put_bytes(&mut request, 1, &series);
        }
    }
    request
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A length-delimited field (wire type 2).
fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_varint(out, (field << 3) | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prometheus::FamilyKind;

    #[test]
    fn varints_match_the_protobuf_examples() {
        let mut out = Vec::new();
        put_varint(&mut out, 1);
        put_varint(&mut out, 300);
        assert_eq!(out, vec![0x01, 0xac, 0x02]);
    }

    #[test]
    fn one_sample_encodes_byte_for_byte() {
        let family = Family {
            name: "up",
            help: "",
            kind: FamilyKind::Gauge,
            samples: vec![("up".to_string(), vec![("job", "a".to_string())], 1.0)],
        };
        let bytes = encode_write_request(&[family], 1);
        let label_name = [0x0a, 0x08, b'_', b'_', b'n', b'a', b'm', b'e', b'_', b'_', 0x12, 0x02, b'u', b'p'];
        let label_job = [0x0a, 0x03, b'j', b'o', b'b', 0x12, 0x01, b'a'];
        let mut sample = vec![0x09];
        sample.extend_from_slice(&1.0f64.to_le_bytes());
        sample.extend_from_slice(&[0x10, 0x01]);
        let mut series = vec![0x0a, label_name.len() as u8];
        series.extend_from_slice(&label_name);
        series.extend_from_slice(&[0x0a, label_job.len() as u8]);
        series.extend_from_slice(&label_job);
        series.extend_from_slice(&[0x12, sample.len() as u8]);
        series.extend_from_slice(&sample);
        let mut expected = vec![0x0a, series.len() as u8];
        expected.extend_from_slice(&series);
        assert_eq!(bytes, expected);
    }
}

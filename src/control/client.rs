//! The control API's client (reqwest), for `terrafix-tui attach`: status, steering calls
//! and the event stream, read with a size cap per event.

use std::time::Duration;

use url::Url;

use super::server::CLIENT_HEADER;
use super::wire::{Accepted, ApiError, Extend, LoadChange, RunStatus, WireEvent};
use crate::profile::Secret;

/// The largest single event read (a finished run's summary is the largest, well below).
const MAX_EVENT_BYTES: usize = 16 << 20;
/// A call (not the stream) that takes longer than this failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a call to the control API failed; each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The address given to `attach` is not an http(s) URL with a host.
    #[error("{url} is not a control API address ({reason}); give e.g. http://127.0.0.1:7070")]
    BadUrl {
        /// The address as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No answer: refused connection, timeout, TLS failure.
    #[error("cannot reach the control API at {base}: {reason}")]
    Unreachable {
        /// The API's base URL.
        base: String,
        /// The transport error, explained.
        reason: String,
    },
    /// 401: the token is missing or wrong.
    #[error("the control API refused the token (401): pass the run's --control-token with --token")]
    Unauthorized,
    /// Any other non-2xx answer (a steering value out of range, a finished run).
    #[error("the control API said {status}: {message}")]
    Refused {
        /// The HTTP status code.
        status: u16,
        /// The API's `error` text, or the raw body when it sent no JSON error.
        message: String,
    },
    /// A 2xx answer whose body is not the JSON expected: the parse error.
    #[error("the control API sent something unreadable: {0}")]
    BadAnswer(String),
    /// One event on the stream was larger than the cap (16 MiB).
    #[error("an event from the control API exceeded {} MiB", MAX_EVENT_BYTES >> 20)]
    EventTooLarge,
}

/// A client of one run's control API, as `attach` uses it; cheap to clone. Calls time out
/// after 10 s; the event stream does not.
#[derive(Clone)]
pub struct AttachClient {
    http: reqwest::Client,
    base: Url,
    token: Option<Secret>,
}

impl AttachClient {
    /// `url`: the address `run --control` printed (any path is ignored).
    pub fn new(url: &str, token: Option<Secret>) -> Result<AttachClient, ClientError> {
        let bad = |reason: String| ClientError::BadUrl { url: url.to_string(), reason };
        let mut base = Url::parse(url).map_err(|e| bad(e.to_string()))?;
        if base.scheme() != "http" && base.scheme() != "https" {
            return Err(bad("it must start with http:// or https://".into()));
        }
        if base.host_str().is_none_or(str::is_empty) {
            return Err(bad("it has no host".into()));
        }
        base.set_path("/");
        base.set_query(None);
        crate::engine::tls::install_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(CALL_TIMEOUT)
            .build()
            .map_err(|e| ClientError::Unreachable { base: base.to_string(), reason: e.to_string() })?;
        Ok(AttachClient { http, base, token })
    }

    /// The API's base URL (path and query stripped).
    pub fn base(&self) -> &Url {
        &self.base
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut url = self.base.clone();
        url.set_path(path);
        let mut request = self.http.request(method, url).header(CLIENT_HEADER, "attach");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose());
        }
        request
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, ClientError> {
        let response = request.send().await.map_err(|e| ClientError::Unreachable {
            base: self.base.to_string(),
            reason: crate::experiment::explain_request_error(&e, self.base.as_str()),
        })?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(ClientError::Unauthorized);
        }
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let message = serde_json::from_str::<ApiError>(&text).map(|e| e.error).unwrap_or(text);
            return Err(ClientError::Refused { status: status.as_u16(), message });
        }
        Ok(response)
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let response = self.send(request.timeout(CALL_TIMEOUT)).await?;
        let bytes = response.bytes().await.map_err(|e| ClientError::BadAnswer(e.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::BadAnswer(e.to_string()))
    }

    /// `GET /v1/run`: where the run is, its load, totals and verdict so far.
    pub async fn status(&self) -> Result<RunStatus, ClientError> {
        self.call(self.request(reqwest::Method::GET, "/v1/run")).await
    }

    /// `PATCH /v1/run`: new users or arrival rate for the running phase; the answer says
    /// what was applied.
    pub async fn change_load(&self, change: &LoadChange) -> Result<String, ClientError> {
        let answer: Accepted =
            self.call(self.request(reqwest::Method::PATCH, "/v1/run").json(change)).await?;
        Ok(answer.accepted)
    }

    /// `POST /v1/run/extend`: the running phase lasts `by` longer.
    pub async fn extend(&self, by: Duration) -> Result<String, ClientError> {
        let body = Extend { seconds: by.as_secs_f64() };
        let answer: Accepted =
            self.call(self.request(reqwest::Method::POST, "/v1/run/extend").json(&body)).await?;
        Ok(answer.accepted)
    }

    /// `POST /v1/run/skip`: end the running phase now and go on with the next.
    pub async fn skip(&self) -> Result<String, ClientError> {
        let answer: Accepted = self.call(self.request(reqwest::Method::POST, "/v1/run/skip")).await?;
        Ok(answer.accepted)
    }

    /// `POST /v1/run/abort`: stop the run; it still writes its partial results.
    pub async fn abort(&self) -> Result<String, ClientError> {
        let answer: Accepted = self.call(self.request(reqwest::Method::POST, "/v1/run/abort")).await?;
        Ok(answer.accepted)
    }

    /// Opens the event stream.
    pub async fn events(&self) -> Result<EventReader, ClientError> {
        let response = self.send(self.request(reqwest::Method::GET, "/v1/run/events")).await?;
        Ok(EventReader { response, buffer: Vec::new() })
    }
}

/// Reads server-sent events one at a time.
pub struct EventReader {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl EventReader {
    /// The next event; `Ok(None)` when the stream ended (the run finished or the server went).
    pub async fn next(&mut self) -> Result<Option<WireEvent>, ClientError> {
        loop {
            while let Some(block) = take_block(&mut self.buffer) {
                if let Some(data) = block_data(&block) {
                    return serde_json::from_str(&data)
                        .map(Some)
                        .map_err(|e| ClientError::BadAnswer(e.to_string()));
                }
            }
            if self.buffer.len() > MAX_EVENT_BYTES {
                return Err(ClientError::EventTooLarge);
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self.buffer.extend_from_slice(&chunk),
                Ok(None) => return Ok(None),
                Err(e) => return Err(ClientError::BadAnswer(format!("the event stream broke: {e}"))),
            }
        }
    }
}

/// Takes one complete event block (up to a blank line) off the front of `buffer`.
fn take_block(buffer: &mut Vec<u8>) -> Option<String> {
    let end = buffer.windows(2).position(|w| w == b"\n\n")?;
    let block: Vec<u8> = buffer.drain(..end + 2).collect();
    Some(String::from_utf8_lossy(&block[..end]).into_owned())
}

/// The `data:` lines of a block joined; `None` for a comment (keep-alive) block.
fn block_data(block: &str) -> Option<String> {
    let lines: Vec<&str> = block
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|rest| rest.strip_prefix(' ').unwrap_or(rest))
        .collect();
    if lines.is_empty() { None } else { Some(lines.join("\n")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_split_on_blank_lines_and_comments_carry_no_data() {
        let mut buffer =
            b":\n\nevent: warning\ndata: {\"kind\":\"warning\",\ndata: \"message\":\"m\"}\n\nevent: x"
                .to_vec();
        let first = take_block(&mut buffer).expect("a keep-alive block");
        assert_eq!(block_data(&first), None);
        let second = take_block(&mut buffer).expect("an event block");
        assert_eq!(block_data(&second).as_deref(), Some("{\"kind\":\"warning\",\n\"message\":\"m\"}"));
        assert_eq!(take_block(&mut buffer), None, "an unfinished block waits for more");
    }

    #[test]
    fn only_http_urls_with_a_host_are_taken() {
        assert!(AttachClient::new("http://127.0.0.1:7070/v1/run", None).is_ok());
        assert!(matches!(AttachClient::new("ftp://x", None), Err(ClientError::BadUrl { .. })));
        assert!(matches!(AttachClient::new("not a url", None), Err(ClientError::BadUrl { .. })));
    }
}

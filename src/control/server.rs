//! The axum side of the control API: routes, the bearer check, steering through the run's
//! own channels, and the server-sent event stream.

use std::collections::VecDeque;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::Stream;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::view::Hub;
use super::wire::{Accepted, ApiError, Extend, LoadChange, WireEvent};
use crate::engine::Steer;
use crate::experiment::{PlanLoad, RunControl};
use crate::metrics::Snapshot;
use crate::metrics::summary::ChangeSource;
use crate::profile::Secret;

/// The largest request body taken (the bodies are a few bytes of JSON).
const MAX_BODY_BYTES: usize = 4096;
/// The most users and the highest arrival rate one call may ask for (as documented).
const MAX_STEER_USERS: u32 = 100_000;
const MAX_STEER_RATE: f64 = 1_000_000.0;
/// The API's OpenAPI document, served at `/v1/openapi.json`.
pub const OPENAPI_DOCUMENT: &str = include_str!("../../assets/control-openapi.json");
/// Every (method, path) the router serves; the document describes exactly these.
pub const ROUTES: [(&str, &str); 7] = [
    ("GET", "/v1/run"),
    ("PATCH", "/v1/run"),
    ("POST", "/v1/run/skip"),
    ("POST", "/v1/run/extend"),
    ("POST", "/v1/run/abort"),
    ("GET", "/v1/run/events"),
    ("GET", "/v1/openapi.json"),
];
/// The longest extension one call may ask for.
const MAX_EXTEND_S: f64 = 86_400.0;
/// The header an attached TUI names itself with, so its changes are recorded as `attach`.
pub const CLIENT_HEADER: &str = "x-terrafix-client";

#[derive(Clone)]
pub(super) struct ApiState {
    pub hub: Hub,
    pub control: RunControl,
    pub token: Option<Secret>,
    /// Ends the event streams when the server shuts down.
    pub closing: CancellationToken,
}

pub(super) fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/run", get(status).patch(change_load))
        .route("/v1/run/skip", post(skip))
        .route("/v1/run/extend", post(extend))
        .route("/v1/run/abort", post(abort))
        .route("/v1/run/events", get(events))
        .route("/v1/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

fn refuse(status: StatusCode, error: impl Into<String>) -> Response {
    Refusal::new(status, error).into_response()
}

/// A refused call: its status and what to do instead.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    error: String,
}

impl Refusal {
    fn new(status: StatusCode, error: impl Into<String>) -> Refusal {
        Refusal { status, error: error.into() }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, Json(ApiError { error: self.error })).into_response()
    }
}

fn accepted(what: impl Into<String>) -> Response {
    (StatusCode::ACCEPTED, Json(Accepted { accepted: what.into() })).into_response()
}

/// Equal tokens, compared in time that does not depend on where they differ (both are
/// hashed first, so their lengths do not show either).
fn same_token(given: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(given.as_bytes()), Sha256::digest(expected.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn require_token(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let Some(expected) = &state.token else { return next.run(request).await };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(token) if same_token(token, expected.expose()) => next.run(request).await,
        _ => {
            let mut response = refuse(
                StatusCode::UNAUTHORIZED,
                "this control API needs `Authorization: Bearer <token>` with the run's --control-token",
            );
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            response
        }
    }
}

async fn not_found() -> Response {
    refuse(
        StatusCode::NOT_FOUND,
        "no such endpoint; the control API has /v1/run, /v1/run/skip, /v1/run/extend, /v1/run/abort and /v1/run/events",
    )
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_DOCUMENT).into_response()
}

async fn status(State(state): State<ApiState>) -> Response {
    Json(state.hub.status()).into_response()
}

fn parse<T: DeserializeOwned>(body: &Bytes, example: &str) -> Result<T, Refusal> {
    serde_json::from_slice(body).map_err(|e| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not the JSON expected ({e}); send e.g. {example}"),
        )
    })
}

fn source(headers: &HeaderMap) -> ChangeSource {
    match headers.get(CLIENT_HEADER).and_then(|v| v.to_str().ok()) {
        Some("attach") => ChangeSource::Attach,
        _ => ChangeSource::Api,
    }
}

/// The steering request a body asks for, checked against the phase running now.
fn load_steer(change: &LoadChange, model: Option<PlanLoad>) -> Result<(Steer, String), Refusal> {
    let conflict = |e: &str| Err(Refusal::new(StatusCode::CONFLICT, e));
    let invalid = |e: &str| Err(Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, e));
    match (change.users, change.arrival_rate, model) {
        (Some(_), Some(_), _) | (None, None, _) => invalid(
            "send exactly one of {\"users\": N} (closed-model phase) or {\"arrival_rate\": R} (open-model phase)",
        ),
        (Some(n), None, _) if n == 0 || n > MAX_STEER_USERS => {
            invalid(&format!("users must be from 1 to {MAX_STEER_USERS}"))
        }
        (Some(n), None, Some(PlanLoad::Users { .. })) => Ok((Steer::Users(n), format!("users → {n}"))),
        (Some(_), None, Some(PlanLoad::Rate { .. })) => conflict(
            "this phase has an arrival rate (open model): send {\"arrival_rate\": R} instead of users",
        ),
        (None, Some(r), _) if !(r.is_finite() && r > 0.0 && r <= MAX_STEER_RATE) => invalid(&format!(
            "an arrival rate must be above 0 and at most {MAX_STEER_RATE} requests per second"
        )),
        (None, Some(r), Some(PlanLoad::Rate { .. })) => {
            Ok((Steer::ArrivalRate(r), format!("arrival rate → {r} req/s")))
        }
        (None, Some(_), Some(PlanLoad::Users { .. })) => {
            conflict("this phase has users (closed model): send {\"users\": N} instead of arrival_rate")
        }
        (_, _, None) => {
            conflict("no phase is running now (the run is starting, pausing or over); try again in a phase")
        }
    }
}

async fn change_load(State(state): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    let change: LoadChange = match parse(&body, r#"{"users": 20} or {"arrival_rate": 150}"#) {
        Ok(change) => change,
        Err(refusal) => return refusal.into_response(),
    };
    let model = state.hub.with_view(|view| view.running_model());
    match load_steer(&change, model) {
        Ok((steer, words)) => send_steer(&state, steer, source(&headers), words),
        Err(refusal) => refusal.into_response(),
    }
}

fn send_steer(state: &ApiState, steer: Steer, source: ChangeSource, words: String) -> Response {
    if state.control.steer.send_from(steer, source) {
        accepted(words)
    } else {
        refuse(StatusCode::CONFLICT, "no phase is running now to take the change; try again in a phase")
    }
}

async fn extend(State(state): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    let asked: Extend = match parse(&body, r#"{"seconds": 30}"#) {
        Ok(asked) => asked,
        Err(refusal) => return refusal.into_response(),
    };
    if !(asked.seconds.is_finite() && asked.seconds > 0.0 && asked.seconds <= MAX_EXTEND_S) {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("seconds must be a number above 0 and at most {MAX_EXTEND_S}"),
        );
    }
    if state.hub.with_view(|view| view.running_model()).is_none() {
        return refuse(StatusCode::CONFLICT, "no phase is running now to extend; try again in a phase");
    }
    let steer = Steer::Extend(Duration::from_secs_f64(asked.seconds));
    send_steer(&state, steer, source(&headers), format!("extend by {} s", asked.seconds))
}

/// The API lingers after the run so its last status can be read; nothing is left to steer.
fn refuse_when_over(state: &ApiState) -> Option<Response> {
    state.hub.with_view(|view| view.is_finished()).then(|| {
        refuse(
            StatusCode::CONFLICT,
            "the run has finished; its results are written (GET /v1/run has the verdict)",
        )
    })
}

async fn skip(State(state): State<ApiState>) -> Response {
    if let Some(refusal) = refuse_when_over(&state) {
        return refusal;
    }
    if state.control.skip.skip_current() {
        accepted("skip the current phase or pause")
    } else {
        refuse(StatusCode::CONFLICT, "nothing to skip yet: no phase or pause has started")
    }
}

async fn abort(State(state): State<ApiState>) -> Response {
    if let Some(refusal) = refuse_when_over(&state) {
        return refusal;
    }
    state.hub.mark_stopping();
    state.control.cancel.cancel();
    accepted("abort: the run stops and writes what it measured")
}

async fn events(State(state): State<ApiState>) -> Response {
    let (catch_up, events, snapshots) = state.hub.subscribe();
    let stream = event_stream(EventFeed {
        pending: catch_up.into(),
        events,
        snapshots,
        closing: state.closing.clone(),
        done: false,
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

struct EventFeed {
    pending: VecDeque<WireEvent>,
    events: broadcast::Receiver<WireEvent>,
    snapshots: watch::Receiver<Snapshot>,
    closing: CancellationToken,
    /// The run finished (and that was sent): the stream ends.
    done: bool,
}

impl EventFeed {
    async fn next(&mut self) -> Option<WireEvent> {
        if self.done {
            return None;
        }
        if let Some(event) = self.pending.pop_front() {
            // A reader who joined after the end is caught up with `run_finished` last.
            self.done = matches!(event, WireEvent::RunFinished { .. });
            return Some(event);
        }
        loop {
            tokio::select! {
                () = self.closing.cancelled() => return None,
                changed = self.snapshots.changed() => {
                    if changed.is_err() {
                        // The run dropped its snapshots: only events are left to read.
                        self.snapshots = watch::channel(Snapshot::default()).1;
                        continue;
                    }
                    let snapshot = self.snapshots.borrow_and_update().clone();
                    return Some(WireEvent::Snapshot { snapshot: Box::new(snapshot) });
                }
                event = self.events.recv() => match event {
                    Ok(event) => {
                        self.done = matches!(event, WireEvent::RunFinished { .. });
                        return Some(event);
                    }
                    // A slow reader skips what it missed; the next snapshot has the figures.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    }
}

fn event_stream(feed: EventFeed) -> impl Stream<Item = Result<SseEvent, std::convert::Infallible>> {
    futures::stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        let data = serde_json::to_string(&event)
            .unwrap_or_else(|e| format!("{{\"kind\":\"error\",\"error\":\"{e}\"}}"));
        Some((Ok(SseEvent::default().event(event.name()).data(data)), feed))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_equal_only_when_equal() {
        assert!(same_token("s3cret", "s3cret"));
        assert!(!same_token("s3cre", "s3cret"));
        assert!(!same_token("", "s3cret"));
        assert!(!same_token("S3cret", "s3cret"));
    }

    #[test]
    fn a_load_change_must_fit_the_running_phase() {
        let users = Some(PlanLoad::Users { users: 5, spawn_rate: 1.0 });
        let rate = Some(PlanLoad::Rate { from: 10.0, to: 10.0 });
        let ask = |users: Option<u32>, arrival_rate: Option<f64>| LoadChange { users, arrival_rate };
        assert_eq!(load_steer(&ask(Some(8), None), users).map(|s| s.0).ok(), Some(Steer::Users(8)));
        assert_eq!(
            load_steer(&ask(None, Some(20.0)), rate).map(|s| s.0).ok(),
            Some(Steer::ArrivalRate(20.0))
        );
        let status = |r: Result<(Steer, String), Refusal>| r.err().map(|r| r.status);
        assert_eq!(status(load_steer(&ask(Some(8), None), rate)), Some(StatusCode::CONFLICT));
        assert_eq!(status(load_steer(&ask(Some(8), None), None)), Some(StatusCode::CONFLICT));
        assert_eq!(status(load_steer(&ask(Some(0), None), users)), Some(StatusCode::UNPROCESSABLE_ENTITY));
        assert_eq!(status(load_steer(&ask(None, Some(-1.0)), rate)), Some(StatusCode::UNPROCESSABLE_ENTITY));
        assert_eq!(status(load_steer(&ask(None, None), users)), Some(StatusCode::UNPROCESSABLE_ENTITY));
        assert_eq!(
            status(load_steer(&ask(Some(3), Some(3.0)), users)),
            Some(StatusCode::UNPROCESSABLE_ENTITY)
        );
    }
}

//! HTTP surface of the mock (axum): routes, JSON error shapes, and turning pipeline
//! outcomes into responses (status codes and Retry-After / rate-limit headers).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use serde_json::{Value, json};

use super::config::FailureMode;
use super::payload::{self, Failure, PayloadError};
use super::pipeline::{AppState, Outcome};
use super::stats::Stats;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1 << 20;

type Shared = State<Arc<AppState>>;

/// The OpenAPI 3 description of every route below, served at `GET /openapi.json`.
pub const OPENAPI_DOCUMENT: &str = include_str!("../../assets/openapi.json");

/// An HTTP method the mock answers on some path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteMethod {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

impl RouteMethod {
    /// `GET` or `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteMethod::Get => "GET",
            RouteMethod::Post => "POST",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            RouteMethod::Get => MethodFilter::GET,
            RouteMethod::Post => MethodFilter::POST,
        }
    }
}

/// One row of the route table: a method, a path, and the handler that answers them.
pub struct Route {
    /// The method served.
    pub method: RouteMethod,
    /// The path served, e.g. `/webhook`.
    pub path: &'static str,
    /// Builds the method router for `method`, so the row's method is the one served.
    endpoint: fn(MethodFilter) -> MethodRouter<Arc<AppState>>,
}

/// Every route of the server. The router is built from this table and the OpenAPI test
/// reads it, so a route cannot be served without being described (or the reverse).
pub const ROUTES: &[Route] = &[
    Route { method: RouteMethod::Post, path: "/webhook", endpoint: |m| on(m, webhook) },
    Route { method: RouteMethod::Post, path: "/batch", endpoint: |m| on(m, batch) },
    Route { method: RouteMethod::Post, path: "/configure", endpoint: |m| on(m, configure) },
    Route { method: RouteMethod::Get, path: "/health", endpoint: |m| on(m, health) },
    Route { method: RouteMethod::Get, path: "/ready", endpoint: |m| on(m, ready) },
    Route { method: RouteMethod::Get, path: "/status", endpoint: |m| on(m, status) },
    Route { method: RouteMethod::Get, path: "/metrics", endpoint: |m| on(m, metrics) },
    Route { method: RouteMethod::Get, path: "/stats/reset", endpoint: |m| on(m, reset) },
    Route { method: RouteMethod::Post, path: "/stats/reset", endpoint: |m| on(m, reset) },
    Route { method: RouteMethod::Get, path: "/openapi.json", endpoint: |m| on(m, openapi) },
];

pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new();
    for route in ROUTES {
        // Rows sharing a path are merged into one method router by axum.
        router = router.route(route.path, (route.endpoint)(route.method.filter()));
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    json_response(status, &json!({"success": false, "error": message.to_string()}))
}

fn body_error(rejection: BytesRejection) -> Response {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        error(status, format!("request body is larger than {MAX_BODY_BYTES} bytes (1 MiB); send less"))
    } else {
        error(status, format!("could not read the request body: {}", rejection.body_text()))
    }
}

fn payload_error(err: PayloadError) -> Response {
    let status = match err {
        PayloadError::InvalidJson(_) | PayloadError::WrongShape { .. } => StatusCode::BAD_REQUEST,
        PayloadError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
        PayloadError::TooManyItems(_) => StatusCode::PAYLOAD_TOO_LARGE,
    };
    error(status, err)
}

async fn webhook(State(state): Shared, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return body_error(rejection),
    };
    let failure = match payload::parse_webhook(&body) {
        Ok(failure) => failure,
        Err(err) => return payload_error(err),
    };
    let outcome = state.process(&failure).await;
    outcome_response(&failure, outcome)
}

async fn batch(State(state): Shared, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return body_error(rejection),
    };
    let failures = match payload::parse_batch(&body) {
        Ok(failures) => failures,
        Err(err) => return payload_error(err),
    };
    let started = std::time::Instant::now();
    state.stats.counters.batch_items.fetch_add(failures.len() as u64, Relaxed);
    state.stats.counters.batch_requests.fetch_add(1, Relaxed);
    let outcomes = if state.control.active().config.batch_parallel {
        futures::future::join_all(failures.iter().map(|f| state.process(f))).await
    } else {
        // Like the seed: one item after another.
        let mut outcomes = Vec::with_capacity(failures.len());
        for failure in &failures {
            outcomes.push(state.process(failure).await);
        }
        outcomes
    };
    let results: Vec<Value> = failures
        .iter()
        .zip(outcomes)
        .enumerate()
        .map(|(index, (failure, outcome))| {
            let (status, mut item) = outcome_body(failure, &outcome);
            item["index"] = index.into();
            item["status_code"] = status.as_u16().into();
            item
        })
        .collect();
    let successful = results.iter().filter(|r| r["success"] == true).count();
    state.stats.record_batch(started.elapsed());
    json_response(
        StatusCode::OK,
        &json!({
            "total": results.len(),
            "successful": successful,
            "failed": results.len() - successful,
            "results": results,
        }),
    )
}

const PROCESSED_MESSAGE: &str = "Remediation PR created (mock mode)";
const DUPLICATE_MESSAGE: &str = "Duplicate failure: already claimed within the dedup TTL, no new work";

/// Status and JSON body for one failure's outcome (shared by `/webhook` and `/batch`).
fn outcome_body(failure: &Failure, outcome: &Outcome) -> (StatusCode, Value) {
    let hash = &failure.hash;
    match outcome {
        Outcome::Processed { pr_url } => (
            StatusCode::OK,
            json!({"success": true, "pr_url": pr_url, "failure_hash": hash,
                   "message": PROCESSED_MESSAGE}),
        ),
        Outcome::Duplicate => (
            StatusCode::OK,
            json!({"success": true, "duplicate": true, "failure_hash": hash,
                   "message": DUPLICATE_MESSAGE}),
        ),
        Outcome::Rejected { in_flight, limit } => (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"success": false, "failure_hash": hash,
                   "error": format!("server busy: {in_flight} failures in processing, limit {limit}; retry after 1 s")}),
        ),
        Outcome::Injected(mode) => {
            let (status, message) = match mode {
                FailureMode::Error500 => (StatusCode::INTERNAL_SERVER_ERROR, "internal error (injected)"),
                FailureMode::Throttle429 => {
                    (StatusCode::TOO_MANY_REQUESTS, "ThrottlingException: Bedrock rate exceeded (injected)")
                }
                FailureMode::RateLimit403 => {
                    (StatusCode::FORBIDDEN, "GitHub API rate limit exceeded (injected)")
                }
                FailureMode::Unavailable503 | FailureMode::Hang => {
                    (StatusCode::SERVICE_UNAVAILABLE, "service unavailable (injected)")
                }
            };
            (
                status,
                json!({"success": false, "failure_hash": hash, "injected": mode.as_str(), "error": message}),
            )
        }
        Outcome::ShuttingDown => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"success": false, "failure_hash": hash, "error": "server is shutting down; retry elsewhere"}),
        ),
    }
}

/// The hot path's answers, serialized straight from a struct (no `Value` map to build).
#[derive(serde::Serialize)]
struct Success<'a> {
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pr_url: Option<&'a str>,
    failure_hash: &'a str,
    message: &'static str,
}

fn outcome_response(failure: &Failure, outcome: Outcome) -> Response {
    let success = match &outcome {
        Outcome::Processed { pr_url } => Some(Success {
            success: true,
            duplicate: None,
            pr_url: Some(pr_url),
            failure_hash: &failure.hash,
            message: PROCESSED_MESSAGE,
        }),
        Outcome::Duplicate => Some(Success {
            success: true,
            duplicate: Some(true),
            pr_url: None,
            failure_hash: &failure.hash,
            message: DUPLICATE_MESSAGE,
        }),
        _ => None,
    };
    if let Some(success) = success {
        return axum::Json(success).into_response();
    }
    let (status, body) = outcome_body(failure, &outcome);
    let mut response = json_response(status, &body);
    let headers = response.headers_mut();
    let retry_after = |headers: &mut axum::http::HeaderMap, s: &'static str| {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static(s));
    };
    match outcome {
        Outcome::Rejected { .. } | Outcome::Injected(FailureMode::Throttle429) => retry_after(headers, "1"),
        Outcome::Injected(FailureMode::Unavailable503) | Outcome::ShuttingDown => retry_after(headers, "5"),
        Outcome::Injected(FailureMode::RateLimit403) => {
            let reset = chrono::Utc::now().timestamp() + 60;
            headers.insert(HeaderName::from_static("x-ratelimit-limit"), HeaderValue::from_static("5000"));
            headers.insert(HeaderName::from_static("x-ratelimit-remaining"), HeaderValue::from_static("0"));
            headers.insert(HeaderName::from_static("x-ratelimit-reset"), HeaderValue::from(reset));
            retry_after(headers, "60");
        }
        _ => {}
    }
    response
}

async fn configure(State(state): Shared, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return body_error(rejection),
    };
    let patch: Value = match serde_json::from_slice(&body) {
        Ok(patch) => patch,
        Err(err) => return error(StatusCode::BAD_REQUEST, format!("invalid JSON: {err}")),
    };
    let current = state.control.active();
    match current.config.apply(&patch) {
        Ok(next) => {
            if next.config != current.config {
                tracing::info!("configured: {}", next.config.to_json());
            }
            state.control.replace(next.config.clone());
            if let Some(stall) = next.stall {
                state.control.stall(stall);
            }
            json_response(StatusCode::OK, &next.config.to_json())
        }
        // Nothing was changed: `apply` works on a copy.
        Err(err) => error(StatusCode::BAD_REQUEST, err),
    }
}

async fn health(State(state): Shared) -> Response {
    state.control.wait_stall().await;
    json_response(StatusCode::OK, &json!({"status": "healthy"}))
}

async fn ready(State(state): Shared) -> Response {
    let store = state.store.kind();
    if state.control.shutting_down.is_cancelled() {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"status": "not_ready", "dedup_store": store, "reason": "shutting down"}),
        );
    }
    match state.store.check_ready().await {
        Ok(()) => json_response(StatusCode::OK, &json!({"status": "ready", "dedup_store": store})),
        Err(err) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"status": "not_ready", "dedup_store": store, "reason": err.to_string()}),
        ),
    }
}

async fn status(State(state): Shared) -> Response {
    state.control.wait_stall().await;
    let config = state.control.active().config.to_json();
    let status = crate::metrics::status::ServerStatus {
        status: "running".into(),
        mock_mode: true,
        dedup_store: Some(state.store.kind().to_string()),
        stall_remaining_ms: Some(state.control.stall_remaining().as_millis() as u64),
        stats: state.stats.to_status(),
        config: config.as_object().cloned(),
    };
    json_response(StatusCode::OK, &serde_json::to_value(&status).unwrap_or(Value::Null))
}

async fn metrics(State(state): Shared) -> Response {
    let text = state.stats.to_prometheus();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

async fn reset(State(state): Shared) -> Response {
    Stats::reset(&state.stats);
    json_response(StatusCode::OK, &json!({"status": "reset", "stats": state.stats.to_json()}))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_DOCUMENT).into_response()
}

async fn not_found(uri: axum::http::Uri) -> Response {
    let routes: Vec<String> =
        ROUTES.iter().map(|route| format!("{} {}", route.method.as_str(), route.path)).collect();
    error(StatusCode::NOT_FOUND, format!("no route {}; routes: {}", uri.path(), routes.join(", ")))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    error(StatusCode::METHOD_NOT_ALLOWED, format!("{method} is not allowed on {}", uri.path()))
}

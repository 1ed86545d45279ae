//! The OpenAPI document of the mock (assets/openapi.json) against the router's own route
//! table: it parses, describes every route and no other, its references resolve, and
//! `GET /openapi.json` serves it. Schemathesis (scripts/schemathesis.sh) checks the rest.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod mock_support;

use std::collections::BTreeSet;

use mock_support::Server;
use serde_json::Value;
use terrafix_tui::mock::{MockConfig, OPENAPI_DOCUMENT, ROUTES, RouteMethod};

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn document() -> Value {
    serde_json::from_str(OPENAPI_DOCUMENT).unwrap_or_else(|e| panic!("assets/openapi.json is not JSON: {e}"))
}

/// (METHOD, path) of every operation the document describes.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("the document has no `paths` object");
    let mut operations = BTreeSet::new();
    for (path, item) in paths {
        let item = item.as_object().unwrap_or_else(|| panic!("paths.{path} is not an object"));
        for method in item.keys().filter(|key| METHODS.contains(&key.as_str())) {
            operations.insert((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

fn served() -> BTreeSet<(String, String)> {
    ROUTES.iter().map(|route| (route.method.as_str().to_string(), route.path.to_string())).collect()
}

#[test]
fn the_document_is_openapi_3_0() {
    let doc = document();
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.0."), "openapi version {version:?}: schemathesis reads 3.0.x best");
    assert!(
        doc["info"]["title"].is_string() && doc["info"]["version"].is_string(),
        "info needs title and version"
    );
}

#[test]
fn every_route_is_described_and_nothing_else() {
    let doc = document();
    let documented = documented(&doc);
    let served = served();
    let missing: Vec<_> = served.difference(&documented).collect();
    assert!(missing.is_empty(), "routes of the router missing from assets/openapi.json: {missing:?}");
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(extra.is_empty(), "assets/openapi.json describes routes the router does not serve: {extra:?}");
    assert!(served.len() >= 10, "the route table lost rows: {served:?}");
}

#[test]
fn every_operation_has_an_id_and_a_success_answer() {
    let doc = document();
    let mut ids = BTreeSet::new();
    for (method, path) in documented(&doc) {
        let operation = &doc["paths"][&path][method.to_lowercase()];
        let id =
            operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
        let responses =
            operation["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}: no responses"));
        assert!(
            responses.keys().any(|code| code.starts_with('2')),
            "{method} {path} documents no 2xx answer"
        );
        if method == "POST" && path != "/stats/reset" {
            assert!(responses.contains_key("413"), "{method} {path} reads a body, so it can answer 413");
        }
    }
}

/// Collects every `$ref` in the document.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(target)) => out.push(target),
                    _ => refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let doc = document();
    let mut targets = Vec::new();
    refs(&doc, &mut targets);
    assert!(!targets.is_empty());
    for target in targets {
        let pointer = target.strip_prefix('#').unwrap_or_else(|| panic!("{target}: only local references"));
        assert!(doc.pointer(pointer).is_some(), "$ref {target} points at nothing");
    }
}

#[tokio::test]
async fn the_server_serves_the_same_document() {
    let server = Server::start(MockConfig::default()).await;
    let response = server.client.get(server.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let text = response.text().await.unwrap();
    assert_eq!(text, OPENAPI_DOCUMENT, "GET /openapi.json serves another text than assets/openapi.json");
    server.shutdown().await;
}

#[tokio::test]
async fn the_not_found_answer_lists_the_route_table() {
    let server = Server::start(MockConfig::default()).await;
    let (status, body) = server.get_json("/nowhere").await;
    assert_eq!(status, 404, "{body}");
    let message = body["error"].as_str().unwrap_or_default();
    for route in ROUTES {
        let row = format!("{} {}", route.method.as_str(), route.path);
        assert!(message.contains(&row), "the 404 message does not name {row}: {message}");
    }
    server.shutdown().await;
}

/// The router is built from `ROUTES`; each row must answer on its own method (any answer
/// but 404 or 405), so the table the document is checked against is the one served.
#[tokio::test]
async fn every_row_of_the_route_table_is_served() {
    let server = Server::start(MockConfig::default()).await;
    for route in ROUTES {
        let request = match route.method {
            RouteMethod::Get => server.client.get(server.url(route.path)),
            RouteMethod::Post => server.client.post(server.url(route.path)).body("{}"),
        };
        let status = request.send().await.unwrap().status().as_u16();
        assert!(
            status != 404 && status != 405,
            "{} {} answered {status}: the row is not routed",
            route.method.as_str(),
            route.path
        );
    }
    server.shutdown().await;
}

// Defects schemathesis found, each kept as a request over loopback.

/// `resource_details` (and a whole body) given as an array used to be read by position
/// as the object it is not, and answered 200.
#[tokio::test]
async fn arrays_in_place_of_objects_are_refused() {
    let server = Server::start(MockConfig::default()).await;
    let details_array = serde_json::json!({
        "test_id": "s3-versioning-enabled-a1b2c3d4",
        "resource_arn": "arn:aws:s3:::test-bucket-a1b2c3d4",
        "resource_details": [null, null],
    });
    let (status, body) = server.post_json("/webhook", &details_array).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["success"], false, "{body}");
    let (status, body) = server.post_json("/batch", &serde_json::json!([details_array])).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap_or_default().starts_with("item 0"), "{body}");
    let (status, body) = server.post_json("/webhook", &serde_json::json!(["t", "arn"])).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(server.stats().await["total_requests"], 0, "nothing was processed");
    server.shutdown().await;
}

/// An unknown `repo_size` beside a `resource_count` used to pass (the count wins), so a
/// typo in the size went unnoticed although the document lists the sizes.
#[tokio::test]
async fn an_unknown_repo_size_is_refused_beside_a_count() {
    let server = Server::start(MockConfig::default()).await;
    let typo = serde_json::json!({
        "test_id": "t", "resource_arn": "r",
        "resource_details": {"repo_size": "huge", "resource_count": 4},
    });
    let (status, body) = server.post_json("/webhook", &typo).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap_or_default().contains("repo_size"), "{body}");
    server.shutdown().await;
}

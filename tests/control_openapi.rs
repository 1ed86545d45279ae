//! The control API's OpenAPI document (assets/control-openapi.json) against the router's
//! route table: it parses, describes every route and no other, its references resolve,
//! and a running `run --control` serves it. Schemathesis (scripts/schemathesis.sh) fuzzes
//! the rest against a real run.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::collections::BTreeSet;

use serde_json::Value;
use terrafix_tui::control::{OPENAPI_DOCUMENT, ROUTES};

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn document() -> Value {
    serde_json::from_str(OPENAPI_DOCUMENT)
        .unwrap_or_else(|e| panic!("assets/control-openapi.json is not JSON: {e}"))
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("the document has no `paths`") {
        for method in item.as_object().unwrap().keys().filter(|k| METHODS.contains(&k.as_str())) {
            operations.insert((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

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
fn the_document_describes_every_route_and_nothing_else() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap_or_default().starts_with("3.0."));
    let served: BTreeSet<(String, String)> =
        ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented(&doc), served);
    let mut ids = BTreeSet::new();
    for (method, path) in &served {
        let operation = &doc["paths"][path][method.to_lowercase()];
        let id =
            operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path}: no operationId"));
        assert!(ids.insert(id.to_string()), "operationId {id} twice");
        let responses = operation["responses"].as_object().unwrap();
        assert!(responses.keys().any(|c| c.starts_with('2')), "{method} {path}: no 2xx");
        assert!(responses.contains_key("401"), "{method} {path}: every call can be refused its token");
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

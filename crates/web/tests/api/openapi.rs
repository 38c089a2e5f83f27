//! The OpenAPI document: valid 3.1, and describing every route the router registers.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeSet;

/// The handlers the router registers, read from the router's own source: each `routes!(...)`
/// call there both mounts handlers and describes them.
fn registered_handlers() -> BTreeSet<String> {
    let source = include_str!("../../src/routes/mod.rs");
    for bypass in [".route(", ".route_service(", ".nest(", ".nest_service("] {
        assert!(
            !source.contains(bypass),
            "routes must be registered with routes!(..) so that they are documented; found {bypass}"
        );
    }
    let mut handlers = BTreeSet::new();
    for call in source.split("routes!(").skip(1) {
        let args = call.split(')').next().unwrap();
        for handler in args.split(',').map(str::trim).filter(|h| !h.is_empty()) {
            handlers.insert(handler.rsplit("::").next().unwrap().to_owned());
        }
    }
    handlers
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                ops.push((method.to_owned(), path.clone(), op));
            }
        }
    }
    ops
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_describes_every_route() {
    on_every_backend(async |t: &TestApp| {
        let client = t.anonymous();
        let res = client.get(t.url("/api/openapi.json")).send().await.unwrap();
        let doc: Value =
            serde_json::from_str(&res.text().await.unwrap()).expect("the document is JSON");
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            doc["openapi"]
        );
        assert_eq!(doc, serde_json::to_value(homeward_web::openapi()).unwrap());

        let ops = operations(&doc);
        let documented: BTreeSet<String> = ops
            .iter()
            .map(|(_, _, op)| op["operationId"].as_str().unwrap().to_owned())
            .collect();
        let registered = registered_handlers();
        assert!(
            registered.len() >= 25,
            "the router source could not be read: {registered:?}"
        );
        let missing: Vec<_> = registered.difference(&documented).collect();
        assert!(
            missing.is_empty(),
            "registered but not in the document: {missing:?}"
        );
        assert_eq!(
            ops.len(),
            registered.len(),
            "every handler is one operation"
        );

        for path in [
            "/healthz",
            "/api/openapi.json",
            "/api/v1/auth/login",
            "/api/v1/records/{id}",
            "/api/v1/imports/{kind}",
            "/api/v1/audit/verify",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} missing");
        }

        // Every schema reference resolves.
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "dangling reference to {name}");
        }
        let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
        assert!(schemes.contains_key("bearer") && schemes.contains_key("session"));

        for (method, path, op) in &ops {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} has no responses"
            );
            if ["post", "put", "patch"].contains(&method.as_str())
                && !path.ends_with("/logout")
                && !path.starts_with("/api/v1/me/totp")
            {
                assert!(
                    op.get("requestBody").is_some(),
                    "{method} {path} has no request body"
                );
            }
            // Each documented operation is really served: without credentials it is refused or
            // answered, never "no such route" or "wrong method".
            let url = t.url(
                &path
                    .replace("{id}", &uuid::Uuid::now_v7().to_string())
                    .replace("{kind}", "tracing-requests"),
            );
            let res = client
                .request(method.to_uppercase().parse().unwrap(), url)
                .send()
                .await
                .unwrap();
            let status = res.status();
            // Prometheus scrapes text; everything else answers JSON, errors included.
            let text_body = path == "/metrics";
            let text = res.text().await.unwrap();
            let body: Value = if text_body {
                Value::Null
            } else {
                serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{method} {path}: {status} {e}: {text}"))
            };
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                status != StatusCode::NOT_FOUND || body["error"]["message"] != "no such endpoint",
                "{method} {path}"
            );
            let public = [
                "/healthz",
                "/api/openapi.json",
                "/api/v1/auth/login",
                "/api/v1/public/statistics",
                "/metrics",
                "/readyz",
            ]
            .contains(&path.as_str());
            assert_eq!(
                public,
                status != StatusCode::UNAUTHORIZED,
                "{method} {path}: {status}"
            );
            assert_eq!(
                public,
                op.get("security")
                    .is_some_and(|s| s == &serde_json::json!([{}])),
                "{method} {path} security"
            );
        }
    })
    .await;
}

/// Every operation describes the refusals that the extractors, authentication and body limits
/// can give it (schemathesis found about 130 undocumented statuses per run before), page sizes
/// carry the range the server checks, and numbers are numbers only where fractions are meant.
#[test]
fn the_document_states_what_the_server_checks() {
    let doc = serde_json::to_value(homeward_web::openapi()).unwrap();
    let responses_ref = |name: &str| format!("#/components/responses/{name}");
    for name in [
        "BadRequest",
        "Unauthenticated",
        "Forbidden",
        "NotFound",
        "PayloadTooLarge",
        "UnsupportedMediaType",
    ] {
        assert!(
            doc["components"]["responses"].get(name).is_some(),
            "{}",
            responses_ref(name)
        );
    }
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let in_path = params.iter().any(|p| p["in"] == "path");
        let in_query = params.iter().any(|p| p["in"] == "query");
        let body = op.get("requestBody").is_some();
        let public = op
            .get("security")
            .is_some_and(|s| s == &serde_json::json!([{}]));
        let mut wanted = Vec::new();
        if in_path || in_query || body {
            wanted.push("400");
        }
        if !public {
            wanted.push("401");
            if method != "get" {
                wanted.push("403");
            }
        }
        if in_path {
            wanted.push("404");
        }
        if body {
            wanted.extend(["413", "415"]);
        }
        for status in wanted {
            assert!(
                responses.contains_key(status),
                "{method} {path} does not document {status}"
            );
        }
        for p in params.iter().filter(|p| p["name"] == "limit") {
            let schema = &p["schema"];
            assert_eq!(schema["minimum"], 1, "{method} {path} limit");
            assert!(schema["maximum"].is_u64(), "{method} {path} limit");
        }
    }

    let mut numbers = Vec::new();
    collect_numbers(&doc, String::new(), &mut numbers);
    for at in &numbers {
        assert!(
            // A median of an even count of whole days is a half day; a model's thresholds
            // (before and after reviewers' decisions moved them) are probabilities.
            at.ends_with("probability")
                || at.ends_with("threshold")
                || at.ends_with("threshold_before")
                || at.ends_with("match_weight")
                || at.ends_with("median_days"),
            "a fractional number where an integer may be meant: {at}"
        );
    }
    assert!(!numbers.is_empty(), "the walk found no numbers at all");

    let mapping = doc["components"]["schemas"]["ColumnMapping"]["pattern"]
        .as_str()
        .expect("the column mapping's pattern");
    for field in homeward_app::import::Field::ALL {
        assert!(
            mapping.contains(&format!("|{}|", field.as_str()))
                || mapping.contains(&format!("({}|", field.as_str()))
                || mapping.contains(&format!("|{})", field.as_str())),
            "{} missing from the column mapping's pattern",
            field.as_str()
        );
    }
}

/// Where the document says `"type": "number"`, by the name of the property or parameter.
fn collect_numbers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if map.get("type").is_some_and(|t| {
                t == "number" || t.as_array().is_some_and(|a| a.contains(&"number".into()))
            }) {
                out.push(at.clone());
            }
            let name = map.get("name").and_then(Value::as_str);
            for (k, child) in map {
                let next = match (k.as_str(), name) {
                    ("schema", Some(n)) => format!("{at}/{n}"),
                    _ => format!("{at}/{k}"),
                };
                collect_numbers(child, next, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_numbers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

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
            let body: Value = res.json().await.unwrap();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                status != StatusCode::NOT_FOUND || body["error"]["message"] != "no such endpoint",
                "{method} {path}"
            );
            let public =
                ["/healthz", "/api/openapi.json", "/api/v1/auth/login"].contains(&path.as_str());
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

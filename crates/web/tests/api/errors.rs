//! Whatever goes wrong, the answer is a 4xx with the JSON error shape and a stable code, and every
//! response carries the security headers and a request id.

use crate::helpers::*;
use homeward_app::AppConfig;
use homeward_web::WebOptions;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn malformed_requests_get_json_errors_with_stable_codes() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let records = s.url("/api/v1/records");
        let post = |body: &'static str, content_type: &'static str| {
            s.client
                .post(&records)
                .header("x-csrf-token", &s.csrf)
                .header("content-type", content_type)
                .body(body)
                .send()
        };

        expect_error(
            post("{\"names\": [", "application/json").await.unwrap(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        )
        .await;
        expect_error(
            post("names=x", "application/x-www-form-urlencoded")
                .await
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
        let res = s
            .client
            .post(&records)
            .header("x-csrf-token", &s.csrf)
            .body("{}")
            .send()
            .await
            .unwrap();
        expect_error(
            res,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
        expect_error(
            post("{}", "application/json").await.unwrap(),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        )
        .await;
        expect_error(
            post("{\"names\": [], \"shoe_size\": 3}", "application/json")
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        )
        .await;
        expect_error(
            post("{\"names\": \"Анна\"}", "application/json")
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        )
        .await;
        expect_error(
            post("[1, 2]", "application/json").await.unwrap(),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        )
        .await;

        // Well-formed but wrong: every bad field named.
        let mut bad = tracing_request("Анна");
        bad["birth_date"] = json!("31.02.2015");
        bad["sex"] = json!("x");
        let body = expect_error(
            s.post("/api/v1/records", &bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        let fields: Vec<&str> = body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["sex", "birth_date"]);
        assert!(
            body["error"]["fields"][0]["code"].is_string()
                && body["error"]["fields"][0]["message"].is_string()
        );

        expect_error(
            s.get("/api/v1/records/not-a-uuid").await,
            StatusCode::BAD_REQUEST,
            "invalid_path",
        )
        .await;
        expect_error(
            s.get("/api/v1/records/12345/history").await,
            StatusCode::BAD_REQUEST,
            "invalid_path",
        )
        .await;
        expect_error(
            s.get("/api/v1/records?limit=many").await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
        expect_error(
            s.get("/api/v1/records?kind=alien").await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
        expect_error(
            s.get("/api/v1/records?surname=x").await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
        expect_error(
            s.get("/api/v1/records?limit=0").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        expect_error(
            s.get("/api/v1/nothing-here").await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            s.get("/nothing-here").await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            s.patch("/api/v1/records", &json!({})).await,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        )
        .await;
        expect_error(
            s.get("/api/v1/auth/login").await,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        )
        .await;

        let anonymous = t.anonymous();
        let res = anonymous
            .get(t.url("/api/v1/records"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        expect_error(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        // Authentication is checked before the body is even read.
        let res = anonymous
            .post(t.url("/api/v1/records"))
            .body("garbage")
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        let res = anonymous
            .post(t.url("/api/v1/auth/login"))
            .body("username=a&password=b")
            .send()
            .await
            .unwrap();
        expect_error(
            res,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
        let res = anonymous
            .post(t.url("/api/v1/auth/login"))
            .json(&json!({ "username": "a" }))
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::BAD_REQUEST, "invalid_body").await;
    })
    .await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let opts = WebOptions {
        max_body_bytes: 16 * 1024,
        ..test_options()
    };
    on_every_backend_with(AppConfig::default(), opts, async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let mut big = tracing_request("Анна");
        big["notes"] = json!("x".repeat(20 * 1024));
        let body = expect_error(
            s.post("/api/v1/records", &big).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        )
        .await;
        assert!(body["error"]["message"].as_str().unwrap().contains("16384"));
        let mut fits = tracing_request("Анна");
        fits["notes"] = json!("x".repeat(10 * 1024));
        expect(s.post("/api/v1/records", &fits).await, StatusCode::CREATED).await;
    })
    .await;
}

#[tokio::test]
async fn every_response_has_security_headers_and_a_request_id() {
    on_every_backend(async |t: &TestApp| {
        let client = t.anonymous();
        let health = client.get(t.url("/healthz")).send().await.unwrap();
        let generated = health.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(generated.len(), 36, "a UUID: {generated}");
        let body = expect(health, StatusCode::OK).await;
        let database = match t.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        assert_eq!(body, json!({ "status": "ok", "database": database }));

        for path in [
            "/healthz",
            "/api/openapi.json",
            "/api/v1/me",
            "/api/v1/nowhere",
            "/elsewhere",
        ] {
            let res = client
                .get(t.url(path))
                .header("x-request-id", "trace-me-123")
                .send()
                .await
                .unwrap();
            let h = res.headers();
            assert_eq!(h["x-request-id"], "trace-me-123", "{path}");
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
            assert_eq!(
                h["content-security-policy"], "default-src 'none'; frame-ancestors 'none'",
                "{path}"
            );
            assert_eq!(h["cache-control"], "no-store", "{path}");
            assert!(
                h["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/json"),
                "{path}"
            );
        }
        // A request id that could smuggle text into the logs is replaced.
        let res = client
            .get(t.url("/healthz"))
            .header("x-request-id", "Anna Oliynyk; born 2015")
            .send()
            .await
            .unwrap();
        let replaced = res.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(replaced.len(), 36, "{replaced}");
    })
    .await;
}

/// A request head beyond our limits is refused by us, with the JSON error shape on the API and the
/// error page on pages; before, hyper answered 414 and 431 itself with an empty body.
#[tokio::test]
async fn oversized_request_heads_get_the_error_shape() {
    on_every_backend(async |t: &TestApp| {
        let client = t.anonymous();
        let long_path = format!("/api/v1/records?name={}", "a".repeat(20 * 1024));
        let res = client.get(t.url(&long_path)).send().await.unwrap();
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let body = expect_error(res, StatusCode::URI_TOO_LONG, "uri_too_long").await;
        assert!(body["error"]["message"].as_str().unwrap().contains("8192"));
        // Past hyper's own count of 100 headers.
        let mut many = client.get(t.url("/api/v1/me"));
        for i in 0..150 {
            many = many.header(format!("x-filler-{i}"), "1");
        }
        expect_error(
            many.send().await.unwrap(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
        )
        .await;
        let big = client
            .get(t.url("/healthz"))
            .header("x-filler", "a".repeat(40 * 1024))
            .send()
            .await
            .unwrap();
        expect_error(
            big,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
        )
        .await;
        // Within the limits, the same kind of request is served.
        let fits = client
            .get(t.url("/healthz"))
            .header("x-filler", "a".repeat(8 * 1024))
            .send()
            .await
            .unwrap();
        expect(fits, StatusCode::OK).await;

        // A page keeps its HTML error page, with the pages' own CSP.
        let res = client
            .get(t.url(&format!("/records?q={}", "a".repeat(20 * 1024))))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::URI_TOO_LONG);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            res.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("style-src 'self'")
        );
        assert!(res.text().await.unwrap().contains("uri_too_long"));
    })
    .await;
}

/// JSON has one kind of number: `30.0` is the integer 30 (JSON Schema says so too), and a body is
/// an object, never a struct spelled as an array of its fields.
#[tokio::test]
async fn json_bodies_are_read_as_the_document_describes_them() {
    on_every_backend(async |t: &TestApp| {
        let (_, s) = t.mediator_admin().await;
        let body = expect(
            s.post(
                "/api/v1/me/tokens",
                &json!({ "name": "nightly", "expires_in_days": 30.0 }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert!(body["expires_at"].is_string(), "{body}");
        expect_error(
            s.post(
                "/api/v1/me/tokens",
                &json!({ "name": "nightly", "expires_in_days": 30.5 }),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        )
        .await;

        let me = s.body["user"]["id"].as_str().unwrap().to_owned();
        expect_error(
            s.patch(&format!("/api/v1/users/{me}"), &json!([null, null]))
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        )
        .await;
        expect_error(
            s.post("/api/v1/me/tokens", &json!(["nightly", null])).await,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        )
        .await;
        // PostgreSQL cannot store U+0000 in text (it answered 500); both backends refuse it alike.
        let body = expect_error(
            s.post("/api/v1/me/tokens", &json!({ "name": "night\u{0}ly" }))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(body["error"]["fields"][0]["field"], "name");
        assert_eq!(body["error"]["fields"][0]["code"], "nul_character");
    })
    .await;
}

/// Page sizes outside the documented range are refused, on the audit log as everywhere else
/// (it clamped them silently).
#[tokio::test]
async fn audit_page_size_outside_its_range_is_refused() {
    on_every_backend(async |t: &TestApp| {
        let mediator = t.cli_party("Task force", "mediator").await;
        t.cli_user(&mediator, "aud", &["auditor"]).await;
        let s = t.login("aud", PASSWORD).await;
        for limit in ["0", "1001"] {
            let body = expect_error(
                s.get(&format!("/api/v1/audit?limit={limit}")).await,
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            )
            .await;
            assert_eq!(body["error"]["fields"][0]["field"], "limit");
        }
        expect(s.get("/api/v1/audit?limit=1000").await, StatusCode::OK).await;
    })
    .await;
}

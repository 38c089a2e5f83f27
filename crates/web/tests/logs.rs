//! Request logs name the route template, the status and the request id, and nothing a person
//! typed: no names, no query strings, no ids from the path.
//!
//! A test binary of its own: it installs the process-wide log subscriber, which a per-thread one
//! cannot replace reliably (tracing caches per call site whether anyone listens).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use helpers::*;
use reqwest::StatusCode;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn request_logs_carry_no_personal_data() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let record = expect(
            s.post("/api/v1/records", &tracing_request("Дмитро")).await,
            StatusCode::CREATED,
        )
        .await;
        let id = record["id"].as_str().unwrap().to_owned();
        expect(
            s.get(&format!("/api/v1/records/{id}")).await,
            StatusCode::OK,
        )
        .await;
        expect(
            s.get("/api/v1/records?name=%D0%94%D0%BC%D0%B8%D1%82%D1%80%D0%BE")
                .await,
            StatusCode::OK,
        )
        .await;
        let res = s
            .client
            .get(s.url("/api/v1/records/Олійник"))
            .header("x-request-id", "find-me-42")
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::BAD_REQUEST, "invalid_path").await;
        expect_error(
            s.get("/api/v1/people/Дмитро").await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;

        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(logs.contains("route=\"/api/v1/records/{id}\""), "{logs}");
        assert!(logs.contains("route=\"unmatched\""), "{logs}");
        assert!(
            logs.contains("request_id=\"find-me-42\" status=400"),
            "{logs}"
        );
        assert!(logs.contains("latency_ms="), "{logs}");
        for secret in [
            "Дмитро",
            "Олійник",
            "%D0%94",
            "name=",
            id.as_str(),
            PASSWORD,
            s.csrf.as_str(),
            "hws_",
        ] {
            assert!(!logs.contains(secret), "the log holds {secret:?}:\n{logs}");
        }
    })
    .await;
}

//! `/metrics`, `/readyz` and the request id (issue 19), on both backends.

use crate::helpers::*;
use homeward_app::AppConfig;
use homeward_app::console::Console;
use homeward_web::WebOptions;
use reqwest::StatusCode;

/// The value of the sample `name{labels}` in a Prometheus text page (labels in the order they
/// are rendered), if present.
fn sample(page: &str, name_and_labels: &str) -> Option<f64> {
    page.lines()
        .find(|l| l.starts_with(name_and_labels) && l[name_and_labels.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn count_for(page: &str, route: &str, status: &str) -> f64 {
    page.lines()
        .filter(|l| l.starts_with("homeward_http_requests_total{"))
        .filter(|l| {
            l.contains(&format!("route=\"{route}\"")) && l.contains(&format!("status=\"{status}\""))
        })
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
        .sum()
}

async fn metrics_page(t: &TestApp) -> String {
    let res = reqwest::get(format!("{}/metrics", t.base)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    res.text().await.unwrap()
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_show_pool_jobs_and_audit_length() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let res = s.post("/api/v1/records", &tracing_request("Софія")).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let id = res.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let before = metrics_page(t).await;
        let reads_before = count_for(&before, "/api/v1/records/{id}", "200");
        for _ in 0..3 {
            assert_eq!(
                s.get(&format!("/api/v1/records/{id}")).await.status(),
                StatusCode::OK
            );
        }
        assert_eq!(
            s.get("/no/such/page/Софія").await.status(),
            StatusCode::NOT_FOUND
        );
        let page = metrics_page(t).await;
        assert_eq!(
            count_for(&page, "/api/v1/records/{id}", "200") - reads_before,
            3.0
        );
        // The template, never the id or a name from a path.
        assert!(!page.contains(&id), "{page}");
        assert!(!page.contains("Софія") && !page.contains("%D0"), "{page}");
        assert!(count_for(&page, "unmatched", "404") >= 1.0, "{page}");
        assert!(
            page.contains("homeward_http_request_duration_seconds_bucket{"),
            "{page}"
        );
        assert!(
            sample(&page, "homeward_db_pool_max").unwrap() >= 1.0,
            "{page}"
        );
        // One job per filed record (its matching), whatever state it is in by now.
        let jobs: f64 = ["queued", "running", "done", "failed"]
            .iter()
            .map(|st| sample(&page, &format!("homeward_jobs{{state=\"{st}\"}}")).unwrap())
            .sum();
        assert!(jobs >= 1.0, "{page}");
        // Counted independently, by walking the chain; the metrics request wrote no entry.
        let entries = Console::new(&t.app)
            .verify_audit(&|_| {})
            .await
            .unwrap()
            .entries;
        assert_eq!(
            sample(&page, "homeward_audit_chain_length"),
            Some(entries as f64),
            "{page}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_metrics_token_when_set_is_required() {
    let opts = WebOptions {
        metrics_token: Some("metrics-secret-for-tests".to_owned()),
        ..test_options()
    };
    on_every_backend_with(AppConfig::default(), opts, async |t: &TestApp| {
        let client = reqwest::Client::new();
        let url = format!("{}/metrics", t.base);
        let none = client.get(&url).send().await.unwrap();
        assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
        let body: serde_json::Value = none.json().await.unwrap();
        assert_eq!(body["error"]["code"], "metrics_token_required");
        let wrong = client
            .get(&url)
            .bearer_auth("metrics-secret-for-test")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let right = client
            .get(&url)
            .bearer_auth("metrics-secret-for-tests")
            .send()
            .await
            .unwrap();
        assert_eq!(right.status(), StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn readiness_says_ready_and_a_request_id_is_echoed_or_made() {
    on_every_backend(async |t: &TestApp| {
        let client = reqwest::Client::new();
        let res = client
            .get(format!("{}/readyz", t.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["status"], "ready");
        let res = client
            .get(format!("{}/readyz", t.base))
            .header("x-request-id", "lb-7f3a.1")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["x-request-id"], "lb-7f3a.1");
        // An unusable one (spaces, too long) is replaced by a fresh UUID.
        let res = client
            .get(format!("{}/readyz", t.base))
            .header("x-request-id", "not usable as an id")
            .send()
            .await
            .unwrap();
        let made = res.headers()["x-request-id"].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(made).is_ok(), "{made}");
    })
    .await;
}

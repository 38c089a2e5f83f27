//! Indicators and public statistics over HTTP: each party sees only its own figures (and no case
//! figures), the mediator all; publishing needs a mediator administrator; the public statistics
//! need no sign-in and show exactly the published snapshot.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn custody_record(given: &str) -> Value {
    json!({
        "names": [{ "given": given, "family": "Коваль", "script": "uk-Cyrl" }],
        "sex": "female",
        "birth_date": "2016",
        "current_location": "Shelter 4",
    })
}

#[tokio::test]
async fn each_party_sees_its_own_figures_and_the_public_sees_only_the_snapshot() {
    on_every_backend(async |t: &TestApp| {
        let sides = t.three_sides().await;
        t.cli_user(&sides.mediator, "admin", &["admin"]).await;
        let olena = t.login("olena", PASSWORD).await;
        let ivan = t.login("ivan", PASSWORD).await;
        let maria = t.login("maria", PASSWORD).await;
        let admin = t.login("admin", PASSWORD).await;
        for name in ["Дмитро", "Анна"] {
            expect(
                olena.post("/api/v1/records", &tracing_request(name)).await,
                StatusCode::CREATED,
            )
            .await;
        }
        expect(
            ivan.post("/api/v1/records", &custody_record("Марія")).await,
            StatusCode::CREATED,
        )
        .await;

        let own = expect(olena.get("/api/v1/indicators").await, StatusCode::OK).await;
        assert_eq!(
            (own["sought"].as_i64(), own["held"].as_i64()),
            (Some(2), Some(0)),
            "{own}"
        );
        assert_eq!(own["withheld"], json!(["cases"]));
        assert_eq!(own["states"], json!([]));
        assert_eq!(own["overdue_follow_ups"], Value::Null);
        let theirs = expect(ivan.get("/api/v1/indicators").await, StatusCode::OK).await;
        assert_eq!(
            (theirs["sought"].as_i64(), theirs["held"].as_i64()),
            (Some(0), Some(1))
        );
        let female = theirs["by_sex"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["group"] == "female")
            .unwrap()
            .clone();
        assert_eq!(female["held"], 1);
        let all = expect(maria.get("/api/v1/indicators").await, StatusCode::OK).await;
        assert_eq!(
            (all["sought"].as_i64(), all["held"].as_i64()),
            (Some(2), Some(1))
        );
        assert_eq!(all["withheld"], json!([]));
        assert_eq!(all["states"].as_array().unwrap().len(), 14);
        assert_eq!(all["overdue_follow_ups"], 0);
        let later = expect(
            maria.get("/api/v1/indicators?from=2099-01-01").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(later["sought"], 0);
        expect_error(
            maria
                .get("/api/v1/indicators?from=2026-05-01&until=2026-04-01")
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;

        let anonymous = t.anonymous();
        let public = |c: &reqwest::Client| c.get(t.url("/api/v1/public/statistics")).send();
        assert_eq!(
            public(&anonymous).await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
        expect_error(
            maria.post("/api/v1/admin/statistics", &json!({})).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_error(
            admin
                .post("/api/v1/admin/statistics", &json!({ "lag_days": 3 }))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        let published = expect(
            admin.post("/api/v1/admin/statistics", &json!({})).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(published["lag_days"], 30);
        let read = public(&anonymous).await.unwrap();
        assert_eq!(read.status(), StatusCode::OK);
        let read: Value = read.json().await.unwrap();
        assert_eq!(
            read, published,
            "the public sees exactly what was published"
        );
        // No case at all 30 days ago: every cell, total included, is under 10 and suppressed.
        assert_eq!(read["by_state"]["total"], json!({ "kind": "suppressed" }));
        let rows: Vec<&str> = read["by_state"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(
            rows.contains(&"other") && !rows.contains(&"deceased"),
            "{rows:?}"
        );
        let text = serde_json::to_string(&read).unwrap();
        for leak in ["round", "handover", "place", "Дмитро"] {
            assert!(!text.contains(leak), "the public statistics name {leak}");
        }
        let audit = expect(
            admin.get("/api/v1/audit?action=statistics.publish").await,
            StatusCode::OK,
        )
        .await;
        assert!(audit.to_string().contains("statistics.publish"), "{audit}");

        let page = anonymous
            .get(t.url("/public/statistics"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("id=\"pub-by_state\"") && html.contains("id=\"pub-as-of\""),
            "{html}"
        );
        let dash = anonymous.get(t.url("/indicators")).send().await.unwrap();
        assert!(
            !dash.text().await.unwrap().contains("chart-states"),
            "the dashboard needs sign-in"
        );
        let page = maria.get("/indicators").await.text().await.unwrap();
        assert!(page.contains("id=\"chart-states\"") && page.contains("id=\"table-states\""));
        let own_page = olena.get("/indicators").await.text().await.unwrap();
        assert!(!own_page.contains("chart-states") && own_page.contains("id=\"chart-sex\""));
        let csv = maria.get("/indicators/sex.csv").await;
        assert_eq!(csv.status(), StatusCode::OK);
        assert!(
            csv.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = csv.text().await.unwrap();
        assert!(
            csv.starts_with("\"Sex\",\"Children sought\",\"Children held\",\"Cases\"\r\n"),
            "{csv}"
        );
        assert!(csv.contains("\"Female\",\"0\",\"1\",\"0\""), "{csv}");
    })
    .await;
}

//! The public statistics in a real browser, without signing in: cases filed and moved on more
//! than the publication lag ago, published by the mediator's administrator, read by anyone, in
//! English and in Arabic (right to left). Screenshots `public-statistics-en` and
//! `public-statistics-ar`.

use crate::browser::Browser;
use crate::helpers::*;
use chrono::{Duration, Utc};
use homeward_domain::{AuditAction, AuditDraft, Case, CaseId, CaseState, RecordId, UserId};
use homeward_store::indicators::SyntheticCase;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn anyone_reads_the_published_statistics_in_a_real_browser() {
    let Some((app, b)) = Browser::with_app(test_options()).await else {
        return;
    };
    let t = &app;
    let origin = t.cli_party("Ombudsman", "origin").await;
    let mediator = t.cli_party("Task force", "mediator").await;
    t.cli_user(&origin, "olena", &["caseworker"]).await;
    t.cli_user(&mediator, "admin", &["admin"]).await;
    let olena = t.login("olena", PASSWORD).await;
    let mut ids = Vec::new();
    for i in 0..24 {
        let r = expect(
            olena
                .post("/api/v1/records", &tracing_request(&format!("Дмитро{i}")))
                .await,
            StatusCode::CREATED,
        )
        .await;
        ids.push(RecordId(r["id"].as_str().unwrap().parse().unwrap()));
    }
    // 14 cases still open and 10 located, all well before the 30 days' lag.
    let by = UserId::new();
    let opened = Utc::now() - Duration::days(90);
    let cases: Vec<SyntheticCase> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut c = Case::new(CaseId::new(), by, opened);
            c.tracing_request = Some(*id);
            let mut versions = vec![(c.clone(), "create", by, opened)];
            if i >= 14 {
                c.state = CaseState::Located;
                versions.push((c, "transition", by, opened + Duration::days(30)));
            }
            SyntheticCase { versions }
        })
        .collect();
    let store = homeward_store::connect(t.db_url()).await.unwrap();
    store
        .load_synthetic_cases(&cases, AuditDraft::new(AuditAction::CaseSyntheticLoad))
        .await
        .unwrap();
    store.close().await;
    let admin = t.login("admin", PASSWORD).await;
    let published = expect(
        admin.post("/api/v1/admin/statistics", &json!({})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        published["by_state"]["cells"][0][1],
        json!({ "kind": "published", "value": 15 })
    );

    // No sign-in: straight to the page.
    b.goto(&t.url("/public/statistics")).await;
    b.wait_for("return document.getElementById('pub-by_state') !== null;")
        .await;
    let cell = |table: &str, row: usize, col: usize| {
        format!(
            "return document.querySelectorAll('#pub-{table} tbody tr')[{row}].cells[{col}].textContent;"
        )
    };
    // Open, male: 14 children, published rounded to 15; located, male: 10; female: suppressed.
    assert_eq!(b.eval(&cell("by_state", 0, 2)).await, "15");
    assert_eq!(b.eval(&cell("by_state", 1, 2)).await, "10");
    assert_eq!(b.eval(&cell("by_state", 0, 1)).await, "—");
    let text = b.page_text().await;
    assert!(
        text.contains("Children in cases, by state and sex"),
        "{text}"
    );
    assert!(text.contains("rounded to the nearest 5"), "{text}");
    assert!(!text.contains("Дмитро"), "no child is named");
    b.screenshot("public-statistics-en").await;

    b.cmd(
        reqwest::Method::POST,
        "/cookie",
        Some(json!({ "cookie": { "name": "homeward_lang", "value": "ar", "path": "/" } })),
    )
    .await;
    b.goto(&t.url("/public/statistics")).await;
    b.wait_for("return document.documentElement.dir === 'rtl';")
        .await;
    assert!(b.page_text().await.contains("الإحصاءات العامة"));
    b.screenshot("public-statistics-ar").await;
    b.quit().await;
    app.cleanup().await;
}

//! One audit entry per page view: a page reads what it shows in one view, and the view appends
//! one `page.view` entry naming every read (each read's action, target and the ids it handed
//! out) instead of one entry per read.

use crate::case_forms::located_case;
use crate::helpers::*;
use crate::*;
use homeward_app::console::Console;
use reqwest::StatusCode;
use serde_json::Value;

async fn entries(t: &TestApp) -> i64 {
    Console::new(&t.app)
        .verify_audit(&|_| {})
        .await
        .unwrap()
        .entries
}

/// The newest `page.view` entry (about `target_id` when given), as the auditor reads it.
async fn last_page_view(t: &TestApp, target_id: &str) -> Value {
    let aud = t.login("aud", PASSWORD).await;
    let about = if target_id.is_empty() {
        String::new()
    } else {
        format!("&target_id={target_id}")
    };
    let log = expect(
        aud.get(&format!("/api/v1/audit?action=page.view{about}&limit=1000"))
            .await,
        StatusCode::OK,
    )
    .await;
    let mut entry = log["items"].as_array().unwrap().last().cloned().unwrap();
    // The log keeps details as the JSON text that was hashed.
    entry["details"] = serde_json::from_str(entry["details"].as_str().unwrap()).unwrap();
    entry
}

fn read_actions(entry: &Value) -> Vec<String> {
    entry["details"]["reads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_case_page_view_is_one_audit_entry_naming_its_reads() {
    on_every_backend(async |t: &TestApp| {
        let case = located_case(t).await;
        let mediator = t.app.find_party("Task force").await.unwrap();
        t.cli_user(&mediator, "aud", &["auditor"]).await;
        let (c, _) = sign_in(t, "mira").await;

        let before = entries(t).await;
        let (status, _) = get(&c, t, &format!("/cases/{case}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(entries(t).await - before, 1, "one entry for one view");

        let entry = last_page_view(t, &case).await;
        assert_eq!(entry["target_kind"], "case");
        assert_eq!(entry["details"]["page"], "case");
        let reads = read_actions(&entry);
        for action in [
            "case.read",
            "case.history",
            "disclosure.list",
            "record.read",
        ] {
            assert!(reads.iter().any(|r| r == action), "{action} in {reads:?}");
        }
        // The list reads name what they handed out, as their own entries did.
        let tasks = entry["details"]["reads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["action"] == "task.list")
            .expect("the task list is named");
        assert!(tasks["details"]["task_ids"].is_array(), "{tasks}");
        println!("case page: {} reads in one entry", reads.len());
    })
    .await;
}

#[tokio::test]
async fn a_case_page_that_cannot_be_read_appends_nothing() {
    on_every_backend(async |t: &TestApp| {
        located_case(t).await;
        let (c, _) = sign_in(t, "mira").await;
        let before = entries(t).await;
        let missing = homeward_domain::CaseId::new();
        let (status, _) = get(&c, t, &format!("/cases/{missing}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(entries(t).await, before, "nothing was read");
    })
    .await;
}

#[tokio::test]
async fn a_dashboard_and_a_review_page_view_are_one_audit_entry_each() {
    on_every_backend(async |t: &TestApp| {
        crate::review::one_candidate(t).await;
        let mediator = t.app.find_party("Task force").await.unwrap();
        t.cli_user(&mediator, "aud", &["auditor"]).await;
        let m = t.login("mira", PASSWORD).await;
        let queue = expect(m.get("/api/v1/matches").await, StatusCode::OK).await;
        let pair = queue["items"][0]["id"].as_str().unwrap().to_owned();
        let (c, _) = sign_in(t, "mira").await;

        let before = entries(t).await;
        let (status, _) = get(&c, t, "/dashboard").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(entries(t).await - before, 1, "one entry for the dashboard");
        let entry = last_page_view(t, "").await;
        assert_eq!(entry["details"]["page"], "dashboard");
        let reads = read_actions(&entry);
        assert!(reads.iter().any(|r| r == "task.list"), "{reads:?}");
        println!("dashboard: {} reads in one entry", reads.len());

        let before = entries(t).await;
        let (status, _) = get(&c, t, &format!("/matches/{pair}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            entries(t).await - before,
            1,
            "one entry for the review page"
        );
        let entry = last_page_view(t, &pair).await;
        assert_eq!(entry["details"]["page"], "match_review");
        let reads = read_actions(&entry);
        assert_eq!(
            reads.iter().filter(|r| *r == "record.read").count(),
            2,
            "both records of the pair: {reads:?}"
        );
        assert!(reads.iter().any(|r| r == "match.read"), "{reads:?}");
        println!("review page: {} reads in one entry", reads.len());
    })
    .await;
}

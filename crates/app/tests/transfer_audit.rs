#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What the audit log gets from the transfer list's and plan's use-cases: one entry per action
//! (the reads of the list, the plan and the cases that serve a change are not audited on their
//! own), one more for each case the action changed as a consequence, none for a refused change.
//! Runs on SQLite, and on PostgreSQL too when HOMEWARD_TEST_POSTGRES_URL is set.

mod common;
use common::worlds;

use homeward_app::import::ImportOptions;
use homeward_app::matching::QueueQuery;
use homeward_app::transfers::ListStep;
use homeward_app::{AppConfig, AppError, Caller};
use homeward_domain::name::NameInput;
use homeward_domain::{CaseId, ChildRecordInput};
use homeward_store::{AuditFilter, Store};
use serde::de::DeserializeOwned;
use serde_json::json;

fn sought() -> ChildRecordInput {
    ChildRecordInput {
        names: vec![NameInput {
            given: Some("Олександр".into()),
            patronymic: Some("Петрович".into()),
            family: Some("Мельник".into()),
            ..Default::default()
        }],
        sex: Some("male".into()),
        birth_date: Some("2014-09-21".into()),
        birth_place: Some("Херсон".into()),
        enquirer_name: Some("Ірина Мельник".into()),
        enquirer_relationship: Some("mother".into()),
        ..Default::default()
    }
}

const CUSTODY_CSV: &str = "Фамилия,Имя,Отчество,Дата рождения,Пол,Место рождения,Местонахождение\n\
    Мельник,Александр,Петрович,21.09.2014,м,Херсон,Детский дом № 4\n";

fn input<T: DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// The actions of the entries appended since `after`, and the new head.
async fn since(store: &dyn Store, after: i64) -> (Vec<String>, i64) {
    let entries = store
        .audit_entries(&AuditFilter {
            after_seq: after,
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let head = entries.last().map_or(after, |e| e.seq);
    (entries.into_iter().map(|e| e.action).collect(), head)
}

/// The three sides' caseworkers and a case between the origin and the custody party, moved
/// to `consent_obtained` (ready to be listed).
async fn listable(w: &common::World) -> (Caller, Caller, Caller, CaseId) {
    let origin = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
    let custody = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
    let reviewer = w.user(w.mediator.id, "m.rev", &["reviewer"]).await;
    let cw = w.user(w.mediator.id, "m.cw", &["caseworker"]).await;
    w.app.create_record(&origin, &sought()).await.unwrap();
    let csv = CUSTODY_CSV.as_bytes();
    let options = ImportOptions::default();
    w.app
        .import_records(&custody, csv, &options, &|_| {})
        .await
        .unwrap();
    let page = w
        .app
        .review_queue(&reviewer, &QueueQuery::default())
        .await
        .unwrap();
    let decided = w
        .app
        .confirm_candidate(&reviewer, page.items[0].id, None)
        .await
        .unwrap();
    let id = decided.case.unwrap().case.id;
    for (v, method) in [(1, "document_check"), (2, "photo_recognition_by_relative")] {
        let body = json!({
            "method": method, "performed_by": "ICRC delegate", "outcome": "positive",
            "expected_version": v,
        });
        w.app
            .record_verification(&cw, id, &input(body))
            .await
            .unwrap();
    }
    let to = |to: &str, v: i64| input(json!({ "to": to, "expected_version": v }));
    w.app
        .transition_case(&cw, id, &to("identity_verified", 3))
        .await
        .unwrap();
    let consent = json!({
        "giver": { "kind": "legal_guardian", "name": "Ірина Мельник", "relationship": "mother" },
        "scope": { "kind": "return" }, "decision": "given", "method": "written",
        "expected_version": 4,
    });
    w.app
        .record_consent(&cw, id, &input(consent))
        .await
        .unwrap();
    let views = json!({
        "heard_by": "psychologist", "wish": "wants_return",
        "summary": "wants to go home", "expected_version": 5,
    });
    w.app
        .record_child_views(&cw, id, &input(views))
        .await
        .unwrap();
    w.app
        .transition_case(&cw, id, &to("consent_obtained", 6))
        .await
        .unwrap();
    (cw, origin, custody, id)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_list_or_plan_action_writes_one_audit_entry() {
    for w in worlds(AppConfig::default()).await {
        let (cw, origin, custody, case) = listable(&w).await;
        // A second store on the same database: reading the log through it audits nothing.
        let log = w.db.open().await.unwrap();
        let (_, mut head) = since(&*log, 0).await;
        let mut written = Vec::new();
        macro_rules! step {
            ($name:expr, $call:expr) => {{
                let out = $call.await;
                let (actions, new_head) = since(&*log, head).await;
                head = new_head;
                written.push(($name, actions));
                out
            }};
        }
        let v = |v: i64| input(json!({ "expected_version": v }));

        let list = step!(
            "create",
            w.app.create_transfer_list(
                &cw,
                &input(json!({
                    "round": "Round 1",
                    "origin_party": w.origin.id,
                    "custody_party": w.custody.id,
                }))
            )
        )
        .unwrap();
        let id = list.list.id;
        let entry = json!({ "case_id": case, "direction": "to_origin", "expected_version": 1 });
        step!("add", w.app.add_list_entry(&cw, id, &input(entry.clone()))).unwrap();
        // A change decided on an earlier version is refused and writes nothing.
        let stale = step!("stale add", w.app.add_list_entry(&cw, id, &input(entry)));
        assert!(
            matches!(stale, Err(AppError::VersionConflict { current: 2 })),
            "{stale:?}"
        );
        let proposed = step!(
            "propose",
            w.app.step_list(&cw, id, ListStep::Propose, &v(2))
        )
        .unwrap();
        let hash = input(json!({ "hash": proposed.hash }));
        step!("approve", w.app.approve_list(&origin, id, &hash)).unwrap();
        step!("approve", w.app.approve_list(&custody, id, &hash)).unwrap();
        step!("fix", w.app.step_list(&cw, id, ListStep::Fix, &v(5))).unwrap();

        let plan = step!(
            "plan",
            w.app
                .create_transfer_plan(&cw, &input(json!({ "list_id": id, "cases": [case] })))
        )
        .unwrap();
        let pid = plan.plan.id;
        let day = chrono::Utc::now() + chrono::Duration::days(1);
        let leg = json!({
            "from": "Ростов-на-Дону", "to": "Київ", "mode": "road",
            "planned_departure": day, "planned_arrival": day + chrono::Duration::hours(8),
            "expected_version": 1,
        });
        step!("leg", w.app.add_plan_leg(&cw, pid, &input(leg))).unwrap();
        let escorts = json!({
            "escorts": [{ "kind": "diplomat", "name": "Consul N." }], "expected_version": 2,
        });
        step!("escorts", w.app.set_plan_escorts(&cw, pid, &input(escorts))).unwrap();
        let documents = json!({
            "documents": [{ "case_id": case, "kind": "passport", "ready": true }],
            "expected_version": 3,
        });
        step!(
            "documents",
            w.app.set_plan_documents(&cw, pid, &input(documents))
        )
        .unwrap();
        step!("approve plan", w.app.approve_transfer_plan(&cw, pid, &v(4))).unwrap();

        let counts: Vec<(&str, usize)> = written.iter().map(|(n, a)| (*n, a.len())).collect();
        eprintln!("audit entries per step ({}): {written:?}", log.backend());
        assert_eq!(
            counts,
            [
                ("create", 1),
                // The change, and the case's listing that follows it.
                ("add", 2),
                ("stale add", 0),
                ("propose", 1),
                // Each approval goes on the case's listing.
                ("approve", 2),
                ("approve", 2),
                // The case moves to `listed` with the fixed list.
                ("fix", 2),
                ("plan", 1),
                ("leg", 1),
                ("escorts", 1),
                ("documents", 1),
                // The approval goes on the case.
                ("approve plan", 2),
            ],
            "{written:?}"
        );
        assert_eq!(written[1].1, ["transfer_list.change", "case.listing"]);
        assert_eq!(written[6].1, ["transfer_list.change", "case.transition"]);
        assert_eq!(
            written[11].1,
            ["transfer_plan.approve", "case.transfer_plan"]
        );
        assert_eq!(since(&*log, head).await.0, Vec::<String>::new());
        log.close().await;
        w.finish().await;
    }
}

#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What the audit log gets from the case's use-cases: one entry per action (the reads that serve
//! a change are not audited on their own), a second only when the domain moved the case back as
//! a consequence, none for a refused change; and no more for a view of the case page than its
//! reads. Runs on SQLite, and on PostgreSQL too when HOMEWARD_TEST_POSTGRES_URL is set.

mod common;
use common::worlds;

use homeward_app::import::ImportOptions;
use homeward_app::matching::QueueQuery;
use homeward_app::sight::CaseParts;
use homeward_app::{AppConfig, AppError, Caller, Viewed};
use homeward_domain::name::NameInput;
use homeward_domain::{CaseId, ChildRecordInput, ConsentId};
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

/// A located case, opened by confirming the one match.
async fn located(w: &common::World) -> CaseId {
    let origin = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
    let custody = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
    let reviewer = w.user(w.mediator.id, "m.rev", &["reviewer"]).await;
    w.app.create_record(&origin, &sought()).await.unwrap();
    w.app
        .import_records(
            &custody,
            CUSTODY_CSV.as_bytes(),
            &ImportOptions::default(),
            &|_| {},
        )
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
    decided.case.unwrap().case.id
}

/// What the case page reads for a mediator's caseworker: the case's workflow, its timeline, its
/// disclosures and its two records.
async fn view_case_page(w: &common::World, cw: &Caller, id: CaseId) {
    w.app
        .view(cw, Viewed::Case(id), async |cw| {
            let d = w
                .app
                .get_case_parts(cw, id, CaseParts::WORKFLOW)
                .await
                .unwrap();
            w.app
                .case_history_parts(cw, id, CaseParts::WORKFLOW)
                .await
                .unwrap();
            w.app.case_disclosures(cw, id).await.unwrap();
            let case = d.view.case;
            for r in case.tracing_request.into_iter().chain(case.custody_record) {
                w.app.get_record(cw, r).await.unwrap();
            }
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_action_writes_one_audit_entry() {
    for w in worlds(AppConfig::default()).await {
        let id = located(&w).await;
        let cw = w.user(w.mediator.id, "m.cw", &["caseworker"]).await;
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

        let verification = |method: &str, v: i64| {
            input(json!({
                "method": method, "performed_by": "ICRC delegate", "outcome": "positive",
                "expected_version": v,
            }))
        };
        step!(
            "verification",
            w.app
                .record_verification(&cw, id, &verification("interview", 1))
        )
        .unwrap();
        // A change decided on an earlier version is refused and writes nothing.
        let stale = step!(
            "stale verification",
            w.app
                .record_verification(&cw, id, &verification("video_call", 1))
        );
        assert!(
            matches!(stale, Err(AppError::VersionConflict { current: 2 })),
            "{stale:?}"
        );
        step!(
            "verification",
            w.app
                .record_verification(&cw, id, &verification("photo_recognition_by_relative", 2))
        )
        .unwrap();
        step!(
            "transition",
            w.app.transition_case(
                &cw,
                id,
                &input(json!({ "to": "identity_verified", "expected_version": 3 }))
            )
        )
        .unwrap();
        let consent = step!(
            "consent",
            w.app.record_consent(
                &cw,
                id,
                &input(json!({
                    "giver": { "kind": "legal_guardian", "name": "Ірина Мельник", "relationship": "mother" },
                    "scope": { "kind": "return" }, "decision": "given", "method": "written",
                    "expected_version": 4,
                }))
            )
        )
        .unwrap();
        let consent: ConsentId = consent.detail.view.case.consents[0].id;
        step!(
            "child views",
            w.app.record_child_views(
                &cw,
                id,
                &input(json!({
                    "heard_by": "psychologist", "wish": "wants_return",
                    "summary": "wants to go home", "expected_version": 5,
                }))
            )
        )
        .unwrap();
        step!(
            "transition",
            w.app.transition_case(
                &cw,
                id,
                &input(json!({ "to": "consent_obtained", "expected_version": 6 }))
            )
        )
        .unwrap();
        let back = step!(
            "withdrawal",
            w.app.withdraw_consent(
                &cw,
                id,
                consent,
                &input(json!({ "reason": "the mother asks for time", "expected_version": 7 }))
            )
        )
        .unwrap();
        assert_eq!(
            back.moved_back_from,
            Some(homeward_domain::CaseState::ConsentObtained)
        );
        step!("case page", view_case_page(&w, &cw, id));
        assert_eq!(since(&*log, head).await.0, Vec::<String>::new());

        let counts: Vec<(&str, usize)> = written.iter().map(|(n, a)| (*n, a.len())).collect();
        eprintln!("audit entries per step ({}): {written:?}", log.backend());
        assert_eq!(
            counts,
            [
                ("verification", 1),
                ("stale verification", 0),
                ("verification", 1),
                ("transition", 1),
                ("consent", 1),
                ("child views", 1),
                ("transition", 1),
                // The withdrawal, and the move back it caused.
                ("withdrawal", 2),
                // One page view, naming its six reads (case.read, case.history, case.read +
                // disclosure.list, two record reads).
                ("case page", 1),
            ],
            "{written:?}"
        );
        assert_eq!(written[7].1, ["case.consent_withdraw", "case.revalidate"]);
        assert_eq!(written[8].1, ["page.view"]);
        log.close().await;
        w.finish().await;
    }
}

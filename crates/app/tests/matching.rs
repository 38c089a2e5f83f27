#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Matching on stored records: candidates appear as records are filed and imported, only the
//! mediator's reviewers see them, confirming opens a case, a rejected pair never comes back, and
//! four eyes means two different reviewers. Runs on SQLite, and on PostgreSQL too when
//! HOMEWARD_TEST_POSTGRES_URL is set.

mod common;
use common::worlds;
use homeward_app::console::Console;

use homeward_app::import::ImportOptions;
use homeward_app::matching::QueueQuery;
use homeward_app::records::RecordQuery;
use homeward_app::{AppConfig, AppError};
use homeward_domain::name::NameInput;
use homeward_domain::{CaseState, ChildRecordInput, RecordKind};
use homeward_store::AuditFilter;

fn sought() -> ChildRecordInput {
    ChildRecordInput {
        names: vec![NameInput {
            given: Some("Дмитро".into()),
            patronymic: Some("Андрійович".into()),
            family: Some("Олійник".into()),
            ..Default::default()
        }],
        sex: Some("male".into()),
        birth_date: Some("2015-03-07".into()),
        birth_place: Some("Маріуполь".into()),
        enquirer_name: Some("Оксана Олійник".into()),
        enquirer_relationship: Some("mother".into()),
        ..Default::default()
    }
}

/// The child under a Russian spelling, his brother, and two children of other families.
const CUSTODY_CSV: &str = "Фамилия,Имя,Отчество,Дата рождения,Пол,Место рождения,Местонахождение\n\
    Олейник,Дмитрий,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4\n\
    Олейник,Артём,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4\n\
    Коваль,Анна,Петровна,12.05.2013,ж,Херсон,Приёмная семья\n\
    Лысенко,Елена,Игоревна,2016,ж,Бердянск,Детский дом № 2\n";

fn queue() -> QueueQuery {
    QueueQuery::default()
}

fn everything() -> QueueQuery {
    QueueQuery {
        min_probability: Some(0.0),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_candidate_appears_and_a_confirmation_locates_the_child() {
    for w in worlds(AppConfig::default()).await {
        let origin = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let custody = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
        let reviewer = w.user(w.mediator.id, "m.rev", &["reviewer"]).await;
        let auditor = w.user(w.mediator.id, "m.aud", &["auditor"]).await;

        let request = w.app.create_record(&origin, &sought()).await.unwrap();
        assert!(
            w.app
                .review_queue(&reviewer, &everything())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        let report = w
            .app
            .import_records(
                &custody,
                CUSTODY_CSV.as_bytes(),
                &ImportOptions::default(),
                &|_| {},
            )
            .await
            .unwrap();
        assert_eq!(report.imported, 4);
        let held = w
            .app
            .list_records(&custody, &RecordQuery::default())
            .await
            .unwrap()
            .items;
        let dmitry = held
            .iter()
            .find(|r| r.content.names[0].given.as_deref() == Some("Дмитрий"))
            .unwrap();
        let brother = held
            .iter()
            .find(|r| r.content.names[0].given.as_deref() == Some("Артём"))
            .unwrap();

        // Nobody asked: the import alone put the pair in the queue, with its explanation.
        let page = w.app.review_queue(&reviewer, &queue()).await.unwrap();
        let top = &page.items[0];
        assert_eq!(top.tracing_record_id, request.id);
        assert_eq!(top.custody_record_id, dmitry.id);
        assert_eq!(top.status, "pending");
        assert!(top.probability >= 0.5, "{}", top.probability);
        assert!(!top.possibly_renamed, "{}", top.explanation);
        let fields = top.explanation["fields"].as_array().unwrap();
        assert!(
            fields.iter().any(|f| f["field"] == "birth_date"),
            "{}",
            top.explanation
        );
        // The brother shares everything but the given name: out of the band, or clearly lower.
        let all = w.app.review_queue(&reviewer, &everything()).await.unwrap();
        if let Some(b) = all.items.iter().find(|c| c.custody_record_id == brother.id) {
            assert!(
                b.probability < 0.5 && b.probability < top.probability / 2.0,
                "brother scored {} against {}",
                b.probability,
                top.probability
            );
        }
        assert!(
            !page.items.iter().any(|c| c.custody_record_id == brother.id),
            "the brother is not in the review band"
        );

        // Only the mediator's reviewers see candidates.
        for outsider in [&origin, &custody] {
            assert!(matches!(
                w.app.review_queue(outsider, &queue()).await,
                Err(AppError::Forbidden(_))
            ));
            assert!(matches!(
                w.app.get_candidate(outsider, top.id).await,
                Err(AppError::Forbidden(_))
            ));
            assert!(matches!(
                w.app.confirm_candidate(outsider, top.id, None).await,
                Err(AppError::Forbidden(_))
            ));
        }

        let detail = w.app.get_candidate(&reviewer, top.id).await.unwrap();
        assert_eq!(detail.tracing_request.id, request.id);
        assert_eq!(detail.custody_record.id, dmitry.id);

        let decided = w
            .app
            .confirm_candidate(
                &reviewer,
                top.id,
                Some("same child, dates and parents agree"),
            )
            .await
            .unwrap();
        assert_eq!(decided.candidate.status, "confirmed");
        assert!(decided.case_created);
        let case_id = decided.case.unwrap().case.id;
        let case = w.app.get_case(&reviewer, case_id).await.unwrap().view.case;
        assert_eq!(case.state, CaseState::Located);
        assert_eq!(case.tracing_request, Some(request.id));
        assert_eq!(case.custody_record, Some(dmitry.id));
        let link = case.confirmed_match.unwrap();
        assert_eq!(link.match_id, top.id);
        assert_eq!(link.confirmations.len(), 1);
        assert!(matches!(
            w.app.get_case(&custody, case_id).await,
            Err(AppError::Forbidden(_))
        ));
        // Decided once is decided.
        assert!(matches!(
            w.app.confirm_candidate(&reviewer, top.id, None).await,
            Err(AppError::CandidateDecided)
        ));
        assert!(
            !w.app
                .review_queue(&reviewer, &everything())
                .await
                .unwrap()
                .items
                .iter()
                .any(|c| c.id == top.id)
        );

        // Every step is audited.
        for action in [
            "match.candidate_create",
            "match.queue_read",
            "match.confirm",
            "case.create",
            "case.read",
        ] {
            let filter = AuditFilter {
                action: Some(action.to_owned()),
                ..Default::default()
            };
            assert!(
                !w.app.list_audit(&auditor, filter).await.unwrap().is_empty(),
                "{action}"
            );
        }
        assert!(w.app.verify_audit_as(&auditor).await.is_ok());
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_pair_never_comes_back() {
    for w in worlds(AppConfig::default()).await {
        let origin = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let custody = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
        let reviewer = w.user(w.mediator.id, "m.rev", &["reviewer"]).await;

        let request = w.app.create_record(&origin, &sought()).await.unwrap();
        w.app
            .import_records(
                &custody,
                CUSTODY_CSV.as_bytes(),
                &ImportOptions::default(),
                &|_| {},
            )
            .await
            .unwrap();
        let top = w.app.review_queue(&reviewer, &queue()).await.unwrap().items[0].clone();
        assert_eq!(top.tracing_record_id, request.id);
        assert!(matches!(
            w.app.reject_candidate(&reviewer, top.id, "  ").await,
            Err(AppError::Validation(_))
        ));
        let rejected = w
            .app
            .reject_candidate(
                &reviewer,
                top.id,
                "different mother's name on the birth record",
            )
            .await
            .unwrap();
        assert_eq!(rejected.candidate.status, "rejected");

        // The family corrects the request; the pair is scored again but not proposed again.
        let mut corrected = sought();
        corrected.notes = Some("has a scar on the left hand".into());
        w.app
            .update_record(&origin, request.id, request.version, &corrected)
            .await
            .unwrap();
        let again = w.app.review_queue(&reviewer, &everything()).await.unwrap();
        assert!(
            !again.items.iter().any(|c| c.tracing_record_id == request.id
                && c.custody_record_id == top.custody_record_id),
            "{:?}",
            again.items
        );
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn four_eyes_need_two_different_reviewers() {
    let config = AppConfig {
        require_second_review: true,
        ..AppConfig::default()
    };
    for w in worlds(config.clone()).await {
        let origin = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let custody = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
        let first = w.user(w.mediator.id, "m.rev1", &["reviewer"]).await;
        let second = w.user(w.mediator.id, "m.rev2", &["reviewer"]).await;

        let request = w.app.create_record(&origin, &sought()).await.unwrap();
        w.app
            .import_records(
                &custody,
                CUSTODY_CSV.as_bytes(),
                &ImportOptions::default(),
                &|_| {},
            )
            .await
            .unwrap();
        let top = w.app.review_queue(&first, &queue()).await.unwrap().items[0].clone();

        let half = w
            .app
            .confirm_candidate(&first, top.id, Some("looks right"))
            .await
            .unwrap();
        assert!(half.awaiting_second_review);
        assert!(half.case.is_none());
        assert_eq!(half.candidate.status, "pending");
        let same = w.app.confirm_candidate(&first, top.id, None).await;
        let Err(e) = same else {
            panic!("the same reviewer confirmed twice")
        };
        assert_eq!(e.code(), "second_reviewer_required");

        let done = w
            .app
            .confirm_candidate(&second, top.id, None)
            .await
            .unwrap();
        assert_eq!(done.candidate.status, "confirmed");
        let case = done.case.unwrap().case;
        assert_eq!(case.state, CaseState::Located);
        assert_eq!(case.tracing_request, Some(request.id));
        assert_eq!(case.confirmed_match.unwrap().confirmations.len(), 2);
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn training_stores_a_model_that_later_records_are_scored_with() {
    for w in worlds(AppConfig::default()).await {
        let origin = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let custody = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
        let reviewer = w.user(w.mediator.id, "m.rev", &["reviewer"]).await;
        w.app
            .import_records(
                &custody,
                CUSTODY_CSV.as_bytes(),
                &ImportOptions::default(),
                &|_| {},
            )
            .await
            .unwrap();
        assert!(matches!(
            w.app.train_linkage_model(&reviewer).await,
            Err(AppError::Validation(_))
        ));
        w.app.create_record(&origin, &sought()).await.unwrap();
        assert!(matches!(
            w.app.train_linkage_model(&custody).await,
            Err(AppError::Forbidden(_))
        ));
        let report = w.app.train_linkage_model(&reviewer).await.unwrap();
        assert_eq!(report.tracing_requests, 1);
        assert_eq!(report.custody_records, 4);
        assert!(report.model_version.contains("trained"));

        let mut later = sought();
        later.names[0].given = Some("Анна".into());
        later.names[0].patronymic = Some("Петрівна".into());
        later.names[0].family = Some("Коваль".into());
        later.birth_date = Some("2013-05-12".into());
        later.birth_place = Some("Херсон".into());
        later.sex = Some("female".into());
        let anna = w.app.create_record(&origin, &later).await.unwrap();
        let page = w.app.review_queue(&reviewer, &queue()).await.unwrap();
        let c = page
            .items
            .iter()
            .find(|c| c.tracing_record_id == anna.id)
            .expect("a candidate for the later request");
        assert!(c.model_version.contains("trained"), "{}", c.model_version);
        let _ = RecordKind::TracingRequest;
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_record_has_its_pending_candidates_scored_again() {
    for w in worlds(AppConfig::default()).await {
        let origin = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let custody = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
        let reviewer = w.user(w.mediator.id, "m.rev", &["reviewer"]).await;
        w.app.create_record(&origin, &sought()).await.unwrap();
        let mut held = sought();
        held.names[0].given = Some("Дмитрий".into());
        held.names[0].patronymic = Some("Андреевич".into());
        held.names[0].family = Some("Олейник".into());
        held.enquirer_name = None;
        held.enquirer_relationship = None;
        held.current_location = Some("Детский дом № 4".into());
        let record = w.app.create_record(&custody, &held).await.unwrap();
        let before = w.app.review_queue(&reviewer, &queue()).await.unwrap().items;
        assert_eq!(before.len(), 1);
        let high = before[0].probability;

        // The custody side corrects its file: another child's name and birth date. The pending
        // candidate keeps its place but is scored on what the record says now.
        let mut corrected = held.clone();
        corrected.names[0].given = Some("Артём".into());
        corrected.birth_date = Some("2011-11-20".into());
        w.app
            .update_record(&custody, record.id, record.version, &corrected)
            .await
            .unwrap();
        let all = w
            .app
            .review_queue(&reviewer, &everything())
            .await
            .unwrap()
            .items;
        assert_eq!(all.len(), 1, "the pair is kept, never proposed twice");
        assert_eq!(all[0].id, before[0].id);
        assert!(
            all[0].probability < high,
            "{} !< {high}",
            all[0].probability
        );
        assert!(
            w.app
                .review_queue(&reviewer, &queue())
                .await
                .unwrap()
                .items
                .is_empty(),
            "below the review band now"
        );
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn derived_keys_are_recomputed_once_when_the_code_computes_them_differently() {
    use homeward_app::reindex::Refresh;
    for w in worlds(AppConfig::default()).await {
        let custody = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
        w.app
            .import_records(
                &custody,
                CUSTODY_CSV.as_bytes(),
                &ImportOptions::default(),
                &|_| {},
            )
            .await
            .unwrap();
        // No label stored yet: the keys of the four records are recomputed, and then not again.
        let seen = std::sync::atomic::AtomicUsize::new(0);
        let refreshed = Console::new(&w.app)
            .refresh_derived_keys(&|n| seen.store(n, std::sync::atomic::Ordering::Relaxed))
            .await
            .unwrap();
        assert_eq!(refreshed, Refresh::Recomputed(4));
        assert_eq!(seen.load(std::sync::atomic::Ordering::Relaxed), 4);
        assert_eq!(
            Console::new(&w.app)
                .refresh_derived_keys(&|_| {})
                .await
                .unwrap(),
            Refresh::UpToDate
        );
        // The recomputed keys still find the child in another script.
        let found = w
            .app
            .list_records(
                &custody,
                &RecordQuery {
                    name: Some("Oleinik".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(found.items.len(), 2, "both Олейник children");
        w.finish().await;
    }
}

/// Issue 13 §2: the sought boy adopted into another family (new surname and patronymic; given
/// name, birth date, sex and birthplace as before) comes to the queue marked as possibly renamed,
/// pending like any candidate, while a boy of another family and date does not come at all.
#[tokio::test(flavor = "multi_thread")]
async fn a_renamed_child_is_queued_as_possibly_renamed_and_never_confirmed_by_itself() {
    const ADOPTED_CSV: &str = "Фамилия,Имя,Отчество,Дата рождения,Пол,Место рождения,Местонахождение\n\
        Кравец,Дмитрий,Сергеевич,07.03.2015,м,Мариуполь,Приёмная семья\n\
        Кравец,Дмитрий,Сергеевич,11.09.2012,м,Херсон,Приёмная семья\n";
    for w in worlds(AppConfig::default()).await {
        let origin = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let custody = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
        let reviewer = w.user(w.mediator.id, "m.rev", &["reviewer"]).await;
        let request = w.app.create_record(&origin, &sought()).await.unwrap();
        let report = w
            .app
            .import_records(
                &custody,
                ADOPTED_CSV.as_bytes(),
                &ImportOptions::default(),
                &|_| {},
            )
            .await
            .unwrap();
        assert_eq!(report.imported, 2);
        let held = w
            .app
            .list_records(&custody, &RecordQuery::default())
            .await
            .unwrap()
            .items;
        let adopted = held
            .iter()
            .find(|r| r.content.birth_place.as_deref() == Some("Мариуполь"))
            .unwrap();
        let page = w.app.review_queue(&reviewer, &queue()).await.unwrap();
        assert_eq!(
            page.items
                .iter()
                .map(|c| (c.tracing_record_id, c.custody_record_id))
                .collect::<Vec<_>>(),
            [(request.id, adopted.id)],
            "{:?}",
            page.items
        );
        let c = &page.items[0];
        assert!(c.possibly_renamed, "{}", c.explanation);
        assert_eq!(c.explanation["possibly_renamed"], true);
        assert_eq!(c.status, "pending");
        assert!(c.decided_by.is_none() && c.case_id.is_none());

        // Retraining re-scores the pending candidate with the new model: the mark and the
        // pair's place in the band survive (they used to be lost with the explanation).
        w.app.train_linkage_model(&reviewer).await.unwrap();
        let after = w.app.review_queue(&reviewer, &queue()).await.unwrap().items;
        let again = after.iter().find(|x| x.id == c.id).expect("still queued");
        assert!(
            again.model_version.contains("trained"),
            "{}",
            again.model_version
        );
        assert!(again.possibly_renamed, "{}", again.explanation);
        assert_eq!(again.explanation["possibly_renamed"], true);
        w.finish().await;
    }
}

/// Issue 13 §5: a retraining learns from every confirmed and rejected pair; the report and its
/// audit entry say how many and what moved; fewer than 100 decisions leave the match threshold
/// where it was.
#[tokio::test(flavor = "multi_thread")]
async fn retraining_uses_the_reviewers_decisions_as_labels() {
    for w in worlds(AppConfig::default()).await {
        let origin = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let custody = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
        let reviewer = w.user(w.mediator.id, "m.rev", &["reviewer"]).await;
        let auditor = w.user(w.mediator.id, "m.aud", &["auditor"]).await;
        w.app.create_record(&origin, &sought()).await.unwrap();
        let mut anna = sought();
        anna.names[0].given = Some("Анна".into());
        anna.names[0].patronymic = Some("Петрівна".into());
        anna.names[0].family = Some("Коваль".into());
        anna.birth_date = Some("2013-05-12".into());
        anna.birth_place = Some("Херсон".into());
        anna.sex = Some("female".into());
        w.app.create_record(&origin, &anna).await.unwrap();
        w.app
            .import_records(
                &custody,
                CUSTODY_CSV.as_bytes(),
                &ImportOptions::default(),
                &|_| {},
            )
            .await
            .unwrap();
        let before = w.app.train_linkage_model(&reviewer).await.unwrap();
        assert_eq!(
            (before.labels.confirmed, before.labels.rejected),
            (0, 0),
            "no decision yet"
        );
        let all = w
            .app
            .review_queue(&reviewer, &everything())
            .await
            .unwrap()
            .items;
        assert!(all.len() >= 2, "{all:?}");
        w.app
            .confirm_candidate(&reviewer, all[0].id, Some("same child"))
            .await
            .unwrap();
        for c in &all[1..] {
            w.app
                .reject_candidate(&reviewer, c.id, "another child")
                .await
                .unwrap();
        }
        let report = w.app.train_linkage_model(&reviewer).await.unwrap();
        let labels = &report.labels;
        assert_eq!(
            (labels.confirmed, labels.rejected, labels.left_out),
            (1, all.len() - 1, 0)
        );
        assert_eq!(
            labels.match_threshold, labels.match_threshold_before,
            "fewer than 100 decisions move nothing"
        );
        assert_eq!(labels.renamed_threshold, labels.renamed_threshold_before);
        let filter = AuditFilter {
            action: Some("linkage.train".to_owned()),
            limit: 10,
            ..Default::default()
        };
        let entries = w.app.list_audit(&auditor, filter).await.unwrap();
        let details: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| serde_json::from_str(&e.details).unwrap())
            .collect();
        let last = details
            .iter()
            .find(|d| d["labels"]["confirmed"] == 1)
            .unwrap_or_else(|| panic!("the train entry names the labels: {details:?}"));
        assert_eq!(last["labels"]["rejected"], serde_json::json!(all.len() - 1));
        w.finish().await;
    }
}

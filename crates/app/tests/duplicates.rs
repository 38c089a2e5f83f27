#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Duplicates within one party: the same child filed twice is found as records are imported and
//! changed, only the owning party and the mediator see the pair, siblings are not proposed, a
//! merge keeps both records' histories, and a dismissed pair never comes back. Runs on SQLite,
//! and on PostgreSQL too when HOMEWARD_TEST_POSTGRES_URL is set.

mod common;
use common::{World, worlds};

use homeward_app::duplicates::{DuplicateQuery, MergeInput};
use homeward_app::import::ImportOptions;
use homeward_app::records::RecordQuery;
use homeward_app::{AppConfig, AppError, Caller};
use homeward_domain::name::NameInput;
use homeward_domain::{ChildRecord, ChildRecordInput, RecordId};
use homeward_store::AuditFilter;

/// The same boy under a Russian and a passport-Latin spelling, his brother (same surname,
/// patronymic, birthplace and birth date: twins), and a girl of another family.
const CUSTODY_CSV: &str = "Фамилия,Имя,Отчество,Дата рождения,Пол,Место рождения,Местонахождение\n\
    Олейник,Дмитрий,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4\n\
    Oleinik,Dmitrii,Andreevich,07.03.2015,м,Mariupol,Children's home 2\n\
    Олейник,Артём,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4\n\
    Коваль,Анна,Петровна,12.05.2013,ж,Херсон,Приёмная семья\n";

fn all() -> DuplicateQuery {
    DuplicateQuery {
        min_probability: Some(0.0),
        ..Default::default()
    }
}

struct Imported {
    custody: Caller,
    dmitry: ChildRecord,
    latin: ChildRecord,
    brother: ChildRecord,
}

async fn import(w: &World) -> Imported {
    let custody = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
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
    let given = |g: &str| {
        held.iter()
            .find(|r| r.content.names[0].given.as_deref() == Some(g))
            .unwrap()
            .clone()
    };
    Imported {
        dmitry: given("Дмитрий"),
        latin: given("Dmitrii"),
        brother: given("Артём"),
        custody,
    }
}

fn pair_of(a: RecordId, b: RecordId) -> (RecordId, RecordId) {
    (a.min(b), a.max(b))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_child_imported_twice_is_one_candidate_seen_by_its_party_and_the_mediator() {
    for w in worlds(AppConfig::default()).await {
        let i = import(&w).await;
        let reviewer = w.user(w.mediator.id, "m.rev", &["reviewer"]).await;
        let origin = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let custody_reviewer = w.user(w.custody.id, "c.rev", &["reviewer"]).await;
        let viewer = w.user(w.custody.id, "c.view", &["viewer"]).await;
        let auditor = w.user(w.mediator.id, "m.aud", &["auditor"]).await;

        let page = w.app.duplicate_queue(&i.custody, &all()).await.unwrap();
        assert_eq!(
            page.items.len(),
            1,
            "only the boy filed twice: {:?}",
            page.items
                .iter()
                .map(|d| (d.first_record_id, d.second_record_id, d.probability))
                .collect::<Vec<_>>()
        );
        let d = &page.items[0];
        assert_eq!(
            (d.first_record_id, d.second_record_id),
            pair_of(i.dmitry.id, i.latin.id)
        );
        assert!(d.probability >= 0.5, "{}", d.probability);
        assert_eq!(d.status, "pending");
        assert_eq!(d.party_id, w.custody.id);
        let fields = d.explanation["fields"].as_array().unwrap();
        assert!(fields.iter().any(|f| f["field"] == "given_name"));

        // The twin brother shares surname, patronymic, birthplace and date, and is still not
        // proposed, whatever the band.
        for c in &page.items {
            assert!(c.first_record_id != i.brother.id && c.second_record_id != i.brother.id);
        }

        // The custody side's reviewers and the mediator's see it; the origin side does not.
        for who in [&custody_reviewer, &reviewer] {
            let seen = w.app.duplicate_queue(who, &all()).await.unwrap();
            assert_eq!(seen.items.iter().map(|x| x.id).collect::<Vec<_>>(), [d.id]);
            let detail = w.app.get_duplicate(who, d.id).await.unwrap();
            assert_eq!(
                (detail.first_record.id, detail.second_record.id),
                (d.first_record_id, d.second_record_id)
            );
        }
        let origin_queue = w.app.duplicate_queue(&origin, &all()).await.unwrap();
        assert!(origin_queue.items.is_empty());
        assert!(matches!(
            w.app.get_duplicate(&origin, d.id).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            w.app.dismiss_duplicate(&origin, d.id, "not ours").await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            w.app.duplicate_queue(&viewer, &all()).await,
            Err(AppError::Forbidden(_))
        ));

        // Finding is audited.
        let found = w
            .app
            .list_audit(
                &auditor,
                AuditFilter {
                    action: Some("duplicate.candidate_create".to_owned()),
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        // One entry for the run that found it, naming it, not one per pair.
        assert_eq!(found.len(), 1);
        let details: serde_json::Value = serde_json::from_str(&found[0].details).unwrap();
        assert_eq!(details["count"], 1);
        assert_eq!(details["duplicate_ids"][0], d.id.to_string());
        assert!(w.app.verify_audit_as(&auditor).await.is_ok());
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_merge_keeps_both_histories_and_the_absorbed_record_leaves_the_lists() {
    for w in worlds(AppConfig::default()).await {
        let i = import(&w).await;
        let reviewer = w.user(w.mediator.id, "m.rev", &["reviewer"]).await;
        let origin = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let auditor = w.user(w.mediator.id, "m.aud", &["auditor"]).await;
        let d = w
            .app
            .duplicate_queue(&i.custody, &all())
            .await
            .unwrap()
            .items[0]
            .clone();

        let merge = |survivor_version, absorbed_version| MergeInput {
            survivor: i.dmitry.id,
            survivor_version,
            absorbed_version,
            reason: "the same boy: two homes filed him".to_owned(),
            content: None,
        };
        // Stale versions, a survivor outside the pair, merged content from the mediator, and no
        // reason are refused, each naming what is wrong.
        match w.app.merge_duplicate(&i.custody, d.id, &merge(1, 5)).await {
            Err(AppError::RecordVersionConflict { record, current }) => {
                assert_eq!((record, current), (i.latin.id, 1))
            }
            other => panic!("{other:?}"),
        }
        let outside = MergeInput {
            survivor: i.brother.id,
            ..merge(1, 1)
        };
        match w.app.merge_duplicate(&i.custody, d.id, &outside).await {
            Err(AppError::Validation(v)) => assert_eq!(v.0[0].field, "survivor"),
            other => panic!("{other:?}"),
        }
        let with_content = MergeInput {
            content: Some(ChildRecordInput::default()),
            ..merge(1, 1)
        };
        assert!(matches!(
            w.app.merge_duplicate(&reviewer, d.id, &with_content).await,
            Err(AppError::Forbidden(_))
        ));
        let no_reason = MergeInput {
            reason: "  ".to_owned(),
            ..merge(1, 1)
        };
        match w.app.merge_duplicate(&i.custody, d.id, &no_reason).await {
            Err(AppError::Validation(v)) => assert_eq!(v.0[0].field, "reason"),
            other => panic!("{other:?}"),
        }

        // The custody caseworker merges, with the two spellings kept on the survivor.
        let both_names = ChildRecordInput {
            names: vec![
                NameInput {
                    given: Some("Дмитрий".into()),
                    patronymic: Some("Андреевич".into()),
                    family: Some("Олейник".into()),
                    ..Default::default()
                },
                NameInput {
                    given: Some("Dmitrii".into()),
                    patronymic: Some("Andreevich".into()),
                    family: Some("Oleinik".into()),
                    ..Default::default()
                },
            ],
            sex: Some("male".into()),
            birth_date: Some("2015-03-07".into()),
            birth_place: Some("Мариуполь".into()),
            current_location: Some("Детский дом № 4".into()),
            ..Default::default()
        };
        let out = w
            .app
            .merge_duplicate(
                &i.custody,
                d.id,
                &MergeInput {
                    content: Some(both_names),
                    ..merge(1, 1)
                },
            )
            .await
            .unwrap();
        assert_eq!(out.duplicate.status, "merged");
        assert_eq!(out.duplicate.survivor_id, Some(i.dmitry.id));
        assert_eq!(out.survivor.version, 2);
        assert_eq!(out.survivor.content.names.len(), 2);
        assert_eq!(out.absorbed.merged_into, Some(i.dmitry.id));
        assert!(out.absorbed.deleted_at.is_some());
        assert!(matches!(
            w.app.merge_duplicate(&i.custody, d.id, &merge(2, 2)).await,
            Err(AppError::DuplicateDecided)
        ));

        // Gone from lists and from the queue; both histories readable by those in scope.
        for who in [&i.custody, &reviewer] {
            let listed = w
                .app
                .list_records(who, &RecordQuery::default())
                .await
                .unwrap()
                .items;
            assert!(listed.iter().any(|r| r.id == i.dmitry.id));
            assert!(!listed.iter().any(|r| r.id == i.latin.id));
            let absorbed = w.app.record_history(who, i.latin.id).await.unwrap();
            assert_eq!(
                absorbed
                    .iter()
                    .map(|v| (v.change.as_str(), v.merged_record))
                    .collect::<Vec<_>>(),
                [("import", None), ("merge", Some(i.dmitry.id))]
            );
            assert_eq!(absorbed[1].content, i.latin.content);
            let survivor = w.app.record_history(who, i.dmitry.id).await.unwrap();
            assert_eq!(
                survivor
                    .iter()
                    .map(|v| (v.change.as_str(), v.merged_record))
                    .collect::<Vec<_>>(),
                [("import", None), ("merge", Some(i.latin.id))]
            );
            assert_eq!(survivor[0].content, i.dmitry.content);
            let read = w.app.get_record(who, i.latin.id).await.unwrap();
            assert_eq!(read.merged_into, Some(i.dmitry.id));
        }
        assert!(
            w.app
                .duplicate_queue(&i.custody, &all())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        assert!(matches!(
            w.app.record_history(&origin, i.latin.id).await,
            Err(AppError::NotFound)
        ));
        let merges = w
            .app
            .list_audit(
                &auditor,
                AuditFilter {
                    action: Some("record.merge".to_owned()),
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let mut targets: Vec<String> = merges.iter().filter_map(|e| e.target_id.clone()).collect();
        targets.sort();
        let mut want = vec![i.dmitry.id.to_string(), i.latin.id.to_string()];
        want.sort();
        assert_eq!(targets, want);
        assert!(w.app.verify_audit_as(&auditor).await.is_ok());
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dismissed_pair_never_comes_back() {
    for w in worlds(AppConfig::default()).await {
        let i = import(&w).await;
        let d = w
            .app
            .duplicate_queue(&i.custody, &all())
            .await
            .unwrap()
            .items[0]
            .clone();
        match w.app.dismiss_duplicate(&i.custody, d.id, " ").await {
            Err(AppError::Validation(v)) => assert_eq!(v.0[0].field, "reason"),
            other => panic!("{other:?}"),
        }
        let dismissed = w
            .app
            .dismiss_duplicate(&i.custody, d.id, "two boys: the home confirmed it")
            .await
            .unwrap();
        assert_eq!(dismissed.status, "dismissed");
        assert!(matches!(
            w.app.dismiss_duplicate(&i.custody, d.id, "again").await,
            Err(AppError::DuplicateDecided)
        ));

        // Changing either record scores it again; the dismissed pair stays dismissed.
        let mut input = ChildRecordInput::from(&i.latin.content);
        input.notes = Some("moved to the ground floor".into());
        w.app
            .update_record(&i.custody, i.latin.id, 1, &input)
            .await
            .unwrap();
        let mut input = ChildRecordInput::from(&i.dmitry.content);
        input.notes = Some("school: 3rd grade".into());
        w.app
            .update_record(&i.custody, i.dmitry.id, 1, &input)
            .await
            .unwrap();
        assert!(
            w.app
                .duplicate_queue(&i.custody, &all())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        let again = w.app.get_duplicate(&i.custody, d.id).await.unwrap();
        assert_eq!(again.duplicate.status, "dismissed");

        // A third filing of the same boy is a new pair with each of the two.
        let third = w
            .app
            .create_record(&i.custody, &ChildRecordInput::from(&i.dmitry.content))
            .await
            .unwrap();
        let pairs: Vec<(RecordId, RecordId)> = w
            .app
            .duplicate_queue(&i.custody, &all())
            .await
            .unwrap()
            .items
            .iter()
            .map(|d| (d.first_record_id, d.second_record_id))
            .collect();
        assert!(pairs.contains(&pair_of(third.id, i.dmitry.id)), "{pairs:?}");
        assert!(pairs.iter().all(|p| *p != pair_of(i.dmitry.id, i.latin.id)));
        w.finish().await;
    }
}

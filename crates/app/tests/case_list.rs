#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Cases page's search: a child found by a Latin spelling of a Cyrillic name and by the case
//! number (typed exactly or loosely), filters and counts, scoped and audited like the API's case
//! list. Runs on SQLite, and on PostgreSQL too when HOMEWARD_TEST_POSTGRES_URL is set.

mod common;
use common::worlds;

use homeward_app::case_list::CaseListQuery;
use homeward_app::import::ImportOptions;
use homeward_app::matching::QueueQuery;
use homeward_app::{AppConfig, AppError};
use homeward_domain::name::NameInput;
use homeward_domain::{CaseState, ChildRecordInput};
use homeward_store::AuditFilter;

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
    Мельник,Александр,Петрович,21.09.2014,м,Херсон,Детский дом № 4\n\
    Лысенко,Елена,Игоревна,2016,ж,Бердянск,Детский дом № 2\n";

fn q(text: &str) -> CaseListQuery {
    CaseListQuery {
        text: Some(text.into()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cases_are_found_by_a_name_in_any_script_and_by_number() {
    for w in worlds(AppConfig::default()).await {
        let origin = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let custody = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
        let reviewer = w.user(w.mediator.id, "m.rev", &["reviewer"]).await;
        let caseworker = w.user(w.mediator.id, "m.cw", &["caseworker"]).await;
        let auditor = w.user(w.mediator.id, "m.aud", &["auditor"]).await;

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
        let page = w
            .app
            .review_queue(&reviewer, &QueueQuery::default())
            .await
            .unwrap();
        let top = page
            .items
            .iter()
            .find(|c| c.tracing_record_id == request.id)
            .unwrap();
        let decided = w
            .app
            .confirm_candidate(&reviewer, top.id, None)
            .await
            .unwrap();
        let case = decided.case.unwrap();
        let number = case.number;
        assert!(number.to_string().starts_with("HW-"), "{number}");
        assert_eq!(number.seq(), 1);

        // The number is on every read of the case.
        let detail = w.app.get_case(&caseworker, case.case.id).await.unwrap();
        assert_eq!(detail.view.number, number);

        // By a Latin spelling of the Cyrillic name, by the Russian spelling, by the number.
        for text in [
            "Oleksandr Melnyk",
            "Aleksandr",
            "олександр",
            &number.to_string(),
            &format!("hw {} {}", number.year(), number.seq()),
        ] {
            let found = w.app.case_list(&caseworker, &q(text)).await.unwrap();
            assert_eq!(found.total, 1, "{text}");
            let item = &found.items[0];
            assert_eq!(item.case.case.id, case.case.id, "{text}");
            assert_eq!(item.case.number, number);
            // The page can name the child: both records come with the case.
            assert_eq!(item.tracing.as_ref().map(|r| r.id), Some(request.id));
            assert!(item.custody.is_some());
        }
        let by_number = w
            .app
            .case_list(&caseworker, &q(&number.to_string()))
            .await
            .unwrap();
        assert_eq!(by_number.number, Some(number));
        for text in ["Olena Lysenko", "HW-1999-00001", "Шевченко"] {
            assert_eq!(
                w.app.case_list(&caseworker, &q(text)).await.unwrap().total,
                0,
                "{text}"
            );
        }
        assert!(matches!(
            w.app.case_list(&caseworker, &q("!!!")).await,
            Err(AppError::Validation(_))
        ));
        assert!(matches!(
            w.app
                .case_list(
                    &caseworker,
                    &CaseListQuery {
                        per_page: 201,
                        ..Default::default()
                    }
                )
                .await,
            Err(AppError::Validation(_))
        ));

        // Filters and counts.
        let with = |f: CaseListQuery| {
            let w = &w;
            let caseworker = &caseworker;
            async move { w.app.case_list(caseworker, &f).await.unwrap().total }
        };
        assert_eq!(with(CaseListQuery::default()).await, 1);
        assert_eq!(
            with(CaseListQuery {
                state: Some(CaseState::Located),
                ..Default::default()
            })
            .await,
            1
        );
        assert_eq!(
            with(CaseListQuery {
                state: Some(CaseState::Open),
                ..Default::default()
            })
            .await,
            0
        );
        assert_eq!(
            with(CaseListQuery {
                party: Some(w.custody.id),
                ..Default::default()
            })
            .await,
            1
        );
        assert_eq!(
            with(CaseListQuery {
                party: Some(w.mediator.id),
                ..Default::default()
            })
            .await,
            0
        );
        assert_eq!(
            with(CaseListQuery {
                overdue: true,
                ..Default::default()
            })
            .await,
            0
        );
        assert_eq!(
            with(CaseListQuery {
                round: Some("Round 1".into()),
                ..Default::default()
            })
            .await,
            0
        );
        let second = w
            .app
            .case_list(
                &caseworker,
                &CaseListQuery {
                    page: 2,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(second.items.is_empty());
        assert_eq!((second.total, second.page), (1, 2));

        // Scoped like the API's list: the sides and their records do not see cases.
        for outsider in [&origin, &custody] {
            assert!(matches!(
                w.app.case_list(outsider, &CaseListQuery::default()).await,
                Err(AppError::Forbidden(_))
            ));
        }

        // Audited as a case list, with the cases and records it showed.
        let entries = w
            .app
            .list_audit(
                &auditor,
                AuditFilter {
                    action: Some("case.list".to_owned()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(entries.iter().any(|e| {
            let d: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
            d["case_ids"] == serde_json::json!([case.case.id.to_string()])
                && d["record_ids"].as_array().is_some_and(|r| r.len() == 2)
        }));
        w.finish().await;
    }
}

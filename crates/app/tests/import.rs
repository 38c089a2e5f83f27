#![allow(clippy::unwrap_used, clippy::expect_used)]
//! CSV import against a real store: all or nothing, `skip_invalid`, the audit trail it leaves, and
//! who sees the imported records. Runs on SQLite, and on PostgreSQL too when
//! HOMEWARD_TEST_POSTGRES_URL is set.

mod common;
use common::World;
use homeward_app::console::Console;

use homeward_app::import::{ImportOptions, ImportPhase, ImportProgress};
use homeward_app::records::RecordQuery;
use homeward_app::synthetic::Synthetic;
use homeward_app::{AppConfig, AppError, Caller};
use homeward_domain::{AuditEntry, RecordKind};
use homeward_store::AuditFilter;
use std::sync::Mutex;

/// The audit entries of one action, as an auditor reads them.
async fn audit(w: &World, auditor: &Caller, action: &str) -> Vec<AuditEntry> {
    let filter = AuditFilter {
        action: Some(action.to_owned()),
        limit: 1000,
        ..Default::default()
    };
    w.app.list_audit(auditor, filter).await.unwrap()
}

async fn worlds() -> Vec<World> {
    common::worlds(AppConfig::default()).await
}

fn all() -> RecordQuery {
    RecordQuery {
        limit: Some(500),
        ..Default::default()
    }
}

fn skip() -> ImportOptions {
    ImportOptions {
        skip_invalid: true,
        ..Default::default()
    }
}

/// Three custody records; the one starting on line 5 has no current location. The quoted note
/// spanning lines 2–3 and the blank line 4 make row numbers and line numbers differ.
const CUSTODY_CSV: &str = "Фамилия,Имя,Отчество,Дата рождения,Пол,Местонахождение,Примечание\n\
                           Олейник,Дмитрий,Андреевич,12.03.2015,м,\"Детский дом № 4, Ростовская область\",\"две\nстроки\"\n\
                           \n\
                           Лысенко,Елена,,2016,ж,,\n\
                           Коваль,Анна,Петровна,~2013,ж,Приёмная семья,\n";

#[tokio::test(flavor = "multi_thread")]
async fn one_bad_row_imports_nothing_and_names_its_line() {
    for w in worlds().await {
        let worker = w.user(w.custody.id, "c.worker", &["caseworker"]).await;
        let auditor = w.user(w.mediator.id, "m.auditor", &["auditor"]).await;
        let err = w
            .app
            .import_records(
                &worker,
                CUSTODY_CSV.as_bytes(),
                &ImportOptions::default(),
                &|_| {},
            )
            .await;
        let Err(AppError::ImportInvalid(rows)) = err else {
            panic!("expected ImportInvalid, got {err:?}")
        };
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 5);
        assert_eq!(rows[0].errors[0].field, "current_location");
        assert!(
            w.app
                .list_records(&worker, &all())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        assert!(audit(&w, &auditor, "record.create").await.is_empty());
        assert!(audit(&w, &auditor, "import.commit").await.is_empty());

        // A dry run says the same and writes nothing either.
        let check = w
            .app
            .check_import(&worker, CUSTODY_CSV.as_bytes(), &skip(), &|_| {})
            .await
            .unwrap();
        assert_eq!((check.valid, check.rejected.len()), (2, 1));
        assert!(
            w.app
                .list_records(&worker, &all())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn skip_invalid_imports_the_rest_and_lists_the_bad_rows() {
    for w in worlds().await {
        let worker = w.user(w.custody.id, "c.worker", &["caseworker"]).await;
        let report = w
            .app
            .import_records(&worker, CUSTODY_CSV.as_bytes(), &skip(), &|_| {})
            .await
            .unwrap();
        assert_eq!(report.imported, 2);
        assert_eq!(
            report.rejected.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![5]
        );
        let rejects = report.reject_csv.unwrap();
        assert!(rejects.starts_with("line,error,Фамилия,Имя"), "{rejects}");
        assert!(rejects.contains("\n5,current_location: "), "{rejects}");

        let page = w.app.list_records(&worker, &all()).await.unwrap();
        assert_eq!(page.items.len(), 2);
        let dmitry = page
            .items
            .iter()
            .find(|r| r.content.names[0].given.as_deref() == Some("Дмитрий"))
            .unwrap();
        assert_eq!(dmitry.content.notes.as_deref(), Some("две\nстроки"));
        assert_eq!(dmitry.content.birth_date.unwrap().to_string(), "2015-03-12");
        let history = w.app.record_history(&worker, dmitry.id).await.unwrap();
        assert_eq!(
            history
                .iter()
                .map(|v| v.change.as_str())
                .collect::<Vec<_>>(),
            vec!["import"]
        );
        // Imported records are searchable by name like filed ones.
        let q = RecordQuery {
            name: Some("олейник".into()),
            ..all()
        };
        assert_eq!(
            w.app.list_records(&worker, &q).await.unwrap().items.len(),
            1
        );

        // A file with nothing valid in it stores nothing, and says so.
        let none = "given_name,current_location\nАнна,\nБогдан,\n";
        let report = w
            .app
            .import_records(&worker, none.as_bytes(), &skip(), &|_| {})
            .await
            .unwrap();
        assert_eq!((report.imported, report.rejected.len()), (0, 2));
        assert_eq!(
            w.app
                .list_records(&worker, &all())
                .await
                .unwrap()
                .items
                .len(),
            2
        );
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_chain_has_an_entry_per_record_and_one_commit() {
    for w in worlds().await {
        let worker = w.user(w.origin.id, "o.worker", &["caseworker"]).await;
        let auditor = w.user(w.mediator.id, "m.auditor", &["auditor"]).await;
        let mut g = Synthetic::new(5);
        let rows: Vec<_> = (0..300).map(|_| g.tracing_request()).collect();
        let mut csv = Vec::new();
        Synthetic::write_csv(&rows, RecordKind::TracingRequest, &mut csv).unwrap();

        let seen: Mutex<Vec<ImportProgress>> = Mutex::new(Vec::new());
        let report = w
            .app
            .import_records(&worker, &csv, &ImportOptions::default(), &|p| {
                seen.lock().unwrap().push(p)
            })
            .await
            .unwrap();
        assert_eq!((report.imported, report.rejected.len()), (300, 0));
        assert!(report.reject_csv.is_none());
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.first().map(|p| p.phase), Some(ImportPhase::Parsing));
        let last = seen.last().unwrap();
        assert_eq!(
            (last.phase, last.done, last.total, last.rows),
            (ImportPhase::Storing, 300, 300, 300)
        );

        let import_id = report.import_id.to_string();
        let creates = audit(&w, &auditor, "record.create").await;
        assert_eq!(creates.len(), 300);
        for e in &creates {
            let details: serde_json::Value = serde_json::from_str(&e.details).unwrap();
            assert_eq!(details["import"], import_id.as_str());
            assert_eq!(e.actor_user, Some(worker.user().id));
        }
        let commits = audit(&w, &auditor, "import.commit").await;
        assert_eq!(commits.len(), 1);
        assert_eq!(commits[0].target_id.as_deref(), Some(import_id.as_str()));
        let details: serde_json::Value = serde_json::from_str(&commits[0].details).unwrap();
        assert_eq!(
            (details["imported"].as_u64(), details["rejected"].as_u64()),
            (Some(300), Some(0))
        );
        // Counts, never names.
        let family = rows[0].names[0].family.clone().unwrap();
        assert!(
            !commits[0].details.contains(&family),
            "{}",
            commits[0].details
        );
        // The record entries come first and the commit closes the import.
        assert!(creates.iter().all(|c| c.seq < commits[0].seq));

        let chain = Console::new(&w.app).verify_audit(&|_| {}).await.unwrap();
        assert!(chain.entries > 301);
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn imported_records_are_seen_by_their_party_and_the_mediator_only() {
    for w in worlds().await {
        let custody = w.user(w.custody.id, "c.worker", &["caseworker"]).await;
        let origin = w.user(w.origin.id, "o.worker", &["caseworker"]).await;
        let mediator = w.user(w.mediator.id, "m.viewer", &["viewer"]).await;
        let mut g = Synthetic::new(9);
        let rows: Vec<_> = (0..20).map(|_| g.custody_record()).collect();
        let mut csv = Vec::new();
        Synthetic::write_csv(&rows, RecordKind::CustodyRecord, &mut csv).unwrap();
        let report = w
            .app
            .import_records(&custody, &csv, &ImportOptions::default(), &|_| {})
            .await
            .unwrap();
        assert_eq!(report.imported, 20);

        let own = w.app.list_records(&custody, &all()).await.unwrap().items;
        assert_eq!(own.len(), 20);
        assert!(
            own.iter()
                .all(|r| r.party_id == w.custody.id && r.content.kind == RecordKind::CustodyRecord)
        );
        assert!(
            w.app
                .list_records(&origin, &all())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        assert!(matches!(
            w.app.get_record(&origin, own[0].id).await,
            Err(AppError::NotFound)
        ));
        assert_eq!(
            w.app
                .list_records(&mediator, &all())
                .await
                .unwrap()
                .items
                .len(),
            20
        );
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_caseworkers_of_the_filing_party_may_import() {
    for w in worlds().await {
        let csv = b"given_name,current_location\n\xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0,Kyiv\n";
        let viewer = w.user(w.custody.id, "c.viewer", &["viewer"]).await;
        let mediator = w.user(w.mediator.id, "m.worker", &["caseworker"]).await;
        let custody = w.user(w.custody.id, "c.worker", &["caseworker"]).await;
        for caller in [&viewer, &mediator] {
            let r = w
                .app
                .import_records(caller, csv, &ImportOptions::default(), &|_| {})
                .await;
            assert!(matches!(r, Err(AppError::Forbidden(_))), "{r:?}");
        }
        // Saying the file holds tracing requests does not make a custody party file them.
        let wrong = ImportOptions {
            kind: Some(RecordKind::TracingRequest),
            ..Default::default()
        };
        let r = w.app.import_records(&custody, csv, &wrong, &|_| {}).await;
        assert!(matches!(r, Err(AppError::ForbiddenBecause(_))), "{r:?}");
        // A header nobody knows stops the import before any row is read.
        let r = w
            .app
            .import_records(
                &custody,
                b"given_name,eye colour\nAnna,brown\n",
                &skip(),
                &|_| {},
            )
            .await;
        let Err(AppError::ImportFile(m)) = r else {
            panic!("{r:?}")
        };
        assert!(m.contains("--column \"eye colour=ignore\""), "{m}");
        assert!(
            w.app
                .list_records(&custody, &all())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_layout_shows_headers_their_defaults_and_samples_to_importers_only() {
    for w in worlds().await {
        let worker = w.user(w.custody.id, "c.worker", &["caseworker"]).await;
        let viewer = w.user(w.custody.id, "c.viewer", &["viewer"]).await;
        let text =
            "\u{feff}Прізвище;Колір очей;Стать\n\nОлійник;карі;ч\n;;\nЛисенко;;ж\nКоваль;сірі;ч\n";
        let layout = w.app.describe_import(&worker, text.as_bytes(), 2).unwrap();
        assert_eq!(layout.kind, RecordKind::CustodyRecord);
        let cols: Vec<_> = layout
            .columns
            .iter()
            .map(|c| {
                (
                    c.header.as_str(),
                    c.recognised.map(|f| f.as_str()),
                    c.samples.clone(),
                )
            })
            .collect();
        assert_eq!(
            cols,
            vec![
                (
                    "Прізвище",
                    Some("family_name"),
                    vec!["Олійник".to_owned(), "Лисенко".to_owned()]
                ),
                ("Колір очей", None, vec!["карі".to_owned()]),
                ("Стать", Some("sex"), vec!["ч".to_owned(), "ж".to_owned()]),
            ]
        );
        assert!(matches!(
            w.app.describe_import(&viewer, text.as_bytes(), 2),
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            w.app.describe_import(&worker, b"\n\n", 2),
            Err(AppError::ImportFile(_))
        ));
    }
}

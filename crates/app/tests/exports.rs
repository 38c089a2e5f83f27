#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Exports: a party exports only its own records, the mediator what was submitted to it, others
//! nothing; a protected export comes out only as an AES-256 zip under a password of 12 characters
//! or more; every download is audited; an expired export's file is gone. SQLite, and PostgreSQL
//! when HOMEWARD_TEST_POSTGRES_URL is set.

mod common;
#[path = "exports/subjects.rs"]
mod subjects;
use common::{World, worlds};
use homeward_app::console::Console;

use chrono::{Duration, Utc};
use homeward_app::attachments::AttachmentKey;
use homeward_app::exports::{ExportFilters, ExportFormat, ExportPassword, ExportRequest};
use homeward_app::{AppConfig, AppError, Caller};
use homeward_domain::ChildRecordInput;
use homeward_domain::name::NameInput;
use homeward_store::AuditFilter;
use std::io::Read;

fn config(dir: &std::path::Path) -> AppConfig {
    AppConfig {
        attachment_dir: Some(dir.to_owned()),
        attachment_key: Some(AttachmentKey::generate()),
        ..AppConfig::default()
    }
}

fn child(given: &str, family: &str, sex: &str) -> ChildRecordInput {
    ChildRecordInput {
        names: vec![NameInput {
            given: Some(given.into()),
            family: Some(family.into()),
            ..Default::default()
        }],
        sex: Some(sex.into()),
        birth_date: Some("2015-03-07".into()),
        enquirer_name: Some("Оксана Коваль".into()),
        enquirer_relationship: Some("mother".into()),
        ..Default::default()
    }
}

fn request(format: ExportFormat, protected: bool) -> ExportRequest {
    ExportRequest {
        subject: "records".into(),
        format,
        columns: vec!["name".into(), "name_latin".into(), "sex".into()],
        filters: ExportFilters::default(),
        protected,
    }
}

struct Sides {
    origin: Caller,
    custody: Caller,
    mediator: Caller,
    auditor: Caller,
}

async fn sides(w: &World) -> Sides {
    let s = Sides {
        origin: w.user(w.origin.id, "o.cw", &["caseworker"]).await,
        custody: w.user(w.custody.id, "c.cw", &["caseworker"]).await,
        mediator: w.user(w.mediator.id, "m.cw", &["caseworker"]).await,
        auditor: w.user(w.mediator.id, "m.aud", &["auditor"]).await,
    };
    for (g, f, x) in [("Олена", "Коваль", "f"), ("Дмитро", "Олійник", "m")]
    {
        w.app
            .create_record(&s.origin, &child(g, f, x))
            .await
            .unwrap();
    }
    w.app
        .create_record(
            &s.custody,
            &ChildRecordInput {
                enquirer_name: None,
                enquirer_relationship: None,
                current_location: Some("Детский дом № 4".into()),
                ..child("Артём", "Олейник", "m")
            },
        )
        .await
        .unwrap();
    s
}

/// Asks for an unprotected CSV export, lets it run (inline) and returns its rows' names.
async fn exported_names(w: &World, who: &Caller) -> Vec<String> {
    let e = w
        .app
        .request_export(who, &request(ExportFormat::Csv, false))
        .await
        .unwrap();
    assert_eq!(e.state, "done", "{e:?}");
    let file = w.app.download_export(who, e.id, None).await.unwrap();
    let mut rd = csv::Reader::from_reader(file.bytes.as_slice());
    let mut names: Vec<String> = rd.records().map(|r| r.unwrap()[0].to_owned()).collect();
    names.sort();
    names
}

fn code_of(e: &AppError) -> String {
    match e {
        AppError::Validation(v) => v.0[0].code.to_string(),
        other => other.code().to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_party_exports_only_what_it_may_read() {
    let dir = tempfile::tempdir().unwrap();
    for w in worlds(config(dir.path())).await {
        let s = sides(&w).await;
        assert_eq!(
            exported_names(&w, &s.origin).await,
            ["Дмитро Олійник", "Олена Коваль"]
        );
        assert_eq!(exported_names(&w, &s.custody).await, ["Артём Олейник"]);
        assert_eq!(
            exported_names(&w, &s.mediator).await,
            ["Артём Олейник", "Дмитро Олійник", "Олена Коваль"]
        );
        // A party that sees no records has none to export.
        let hum = w
            .app
            .create_party(Console::actor(), "Aid", "humanitarian")
            .await
            .unwrap();
        let helper = w.user(hum.id, "h.cw", &["caseworker"]).await;
        let refused = w
            .app
            .request_export(&helper, &request(ExportFormat::Csv, false))
            .await;
        assert_eq!(refused.unwrap_err().code(), "forbidden");
        // Another user's export answers like a missing one, to a read and to a download.
        let e = w
            .app
            .request_export(&s.origin, &request(ExportFormat::Json, false))
            .await
            .unwrap();
        assert!(matches!(
            w.app.get_export(&s.custody, e.id).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            w.app.download_export(&s.mediator, e.id, None).await,
            Err(AppError::NotFound)
        ));
        // The job's reads are in the log like any list, under the requester's name.
        let reads = w
            .app
            .list_audit(
                &s.auditor,
                AuditFilter {
                    action: Some("record.list".into()),
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(
            reads
                .iter()
                .any(|r| r.actor_user == Some(s.origin.user().id)
                    && serde_json::from_str::<serde_json::Value>(&r.details).unwrap()["within"]
                        == "export")
        );
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn formats_and_filters_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    for w in worlds(config(dir.path())).await {
        let s = sides(&w).await;
        let mut req = request(ExportFormat::Json, false);
        req.filters.sex = Some(homeward_domain::Sex::Female);
        let e = w.app.request_export(&s.origin, &req).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(
            &w.app
                .download_export(&s.origin, e.id, None)
                .await
                .unwrap()
                .bytes,
        )
        .unwrap();
        assert_eq!(json.as_array().unwrap().len(), 1);
        assert_eq!(json[0]["name"], "Олена Коваль");
        assert_eq!(json[0]["name_latin"], "Olena Koval");
        assert_eq!(json[0]["sex"], "female");

        let e = w
            .app
            .request_export(&s.mediator, &request(ExportFormat::Xlsx, false))
            .await
            .unwrap();
        assert_eq!((e.state.as_str(), e.progress_total), ("done", 3));
        let file = w
            .app
            .download_export(&s.mediator, e.id, None)
            .await
            .unwrap();
        let mut xlsx = zip::ZipArchive::new(std::io::Cursor::new(file.bytes)).unwrap();
        let mut sheet = String::new();
        xlsx.by_name("xl/worksheets/sheet1.xml")
            .unwrap()
            .read_to_string(&mut sheet)
            .unwrap();
        assert!(
            sheet.contains("Артём Олейник") || {
                let mut shared = String::new();
                xlsx.by_name("xl/sharedStrings.xml")
                    .map(|mut f| f.read_to_string(&mut shared))
                    .ok();
                shared.contains("Артём Олейник")
            }
        );

        let mut bad = request(ExportFormat::Csv, false);
        bad.columns = vec!["name".into(), "password_hash".into()];
        let err = w.app.request_export(&s.origin, &bad).await.unwrap_err();
        assert_eq!(code_of(&err), "export_column_unknown");
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_protected_export_is_an_aes_zip_under_a_long_password_and_every_download_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    for w in worlds(config(dir.path())).await {
        let s = sides(&w).await;
        let e = w
            .app
            .request_export(&s.origin, &request(ExportFormat::Csv, true))
            .await
            .unwrap();
        assert!(e.protected);
        let short = ExportPassword::new("short pw 11".into()).unwrap_err();
        assert_eq!(code_of(&short), "export_password_too_short");
        let none = w
            .app
            .download_export(&s.origin, e.id, None)
            .await
            .unwrap_err();
        assert_eq!(code_of(&none), "export_password_required");

        let count = async || {
            w.app
                .list_audit(
                    &s.auditor,
                    AuditFilter {
                        action: Some("export.download".into()),
                        limit: 1000,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .len()
        };
        let before = count().await;
        let pw = "correct horse battery";
        let file = w
            .app
            .download_export(
                &s.origin,
                e.id,
                Some(ExportPassword::new(pw.into()).unwrap()),
            )
            .await
            .unwrap();
        assert_eq!(file.content_type, "application/zip");
        assert!(file.name.ends_with(".csv.zip"));
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(file.bytes)).unwrap();
        // Encrypted: no reading without the password, nor with a wrong one.
        assert!(zip.by_index(0).is_err());
        assert!(zip.by_index_decrypt(0, b"wrong password!!").is_err());
        let mut text = String::new();
        zip.by_index_decrypt(0, pw.as_bytes())
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert!(
            text.contains("Олена Коваль") && text.contains("Olena Koval"),
            "{text}"
        );
        assert_eq!(count().await, before + 1);
        assert_eq!(
            w.app.get_export(&s.origin, e.id).await.unwrap().downloads,
            1
        );
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_export_is_deleted_and_no_longer_downloaded() {
    let dir = tempfile::tempdir().unwrap();
    for w in worlds(config(dir.path())).await {
        let s = sides(&w).await;
        let e = w
            .app
            .request_export(&s.origin, &request(ExportFormat::Csv, false))
            .await
            .unwrap();
        let files = |d: &std::path::Path| {
            walk(d)
                .into_iter()
                .filter(|p| !p.starts_with(d.join("tmp")))
                .count()
        };
        let exports = dir.path().join("exports");
        let held = files(&exports);
        assert!(held >= 1);
        assert_eq!(
            w.app.sweep_exports(Utc::now()).await.unwrap(),
            0,
            "not due yet"
        );
        assert_eq!(
            w.app
                .sweep_exports(Utc::now() + Duration::days(8))
                .await
                .unwrap(),
            1
        );
        assert_eq!(files(&exports), held - 1, "its file is deleted");
        let got = w.app.get_export(&s.origin, e.id).await.unwrap();
        assert_eq!(got.state, "expired");
        let err = w
            .app
            .download_export(&s.origin, e.id, None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "export_expired");
        assert!(matches!(
            err,
            homeward_app::AppError::ExportUnavailable(homeward_app::error::ExportGone::Expired)
        ));
        w.finish().await;
    }
}

fn walk(d: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The child the custody side holds, under the Russian spelling of the name sought.
fn held_dmitry() -> ChildRecordInput {
    ChildRecordInput {
        names: vec![NameInput {
            given: Some("Дмитрий".into()),
            patronymic: Some("Андреевич".into()),
            family: Some("Олейник".into()),
            ..Default::default()
        }],
        sex: Some("male".into()),
        birth_date: Some("2015-03-07".into()),
        birth_place: Some("Мариуполь".into()),
        current_location: Some("Детский дом № 4".into()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mediator_exports_its_cases_with_the_childs_names_and_only_it() {
    let dir = tempfile::tempdir().unwrap();
    for w in worlds(config(dir.path())).await {
        let s = sides(&w).await;
        let reviewer = w.user(w.mediator.id, "m.rev", &["reviewer"]).await;
        let sought = w
            .app
            .create_record(
                &s.origin,
                &ChildRecordInput {
                    names: vec![NameInput {
                        given: Some("Дмитро".into()),
                        patronymic: Some("Андрійович".into()),
                        family: Some("Олійник".into()),
                        ..Default::default()
                    }],
                    birth_place: Some("Маріуполь".into()),
                    ..child("Дмитро", "Олійник", "m")
                },
            )
            .await
            .unwrap();
        let held = w
            .app
            .create_record(&s.custody, &held_dmitry())
            .await
            .unwrap();
        let queue = w
            .app
            .review_queue(
                &reviewer,
                &homeward_app::matching::QueueQuery {
                    min_probability: Some(0.0),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let pair = queue
            .items
            .iter()
            .find(|c| c.tracing_record_id == sought.id && c.custody_record_id == held.id)
            .expect("the pair is a candidate");
        let decided = w
            .app
            .confirm_candidate(&reviewer, pair.id, Some("same child"))
            .await
            .unwrap();
        let case = decided.case.expect("a case").case;

        let cases = |format: ExportFormat, columns: &[&str]| ExportRequest {
            subject: "cases".into(),
            format,
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            filters: ExportFilters::default(),
            protected: false,
        };
        // The mediator's caseworker: the case, its state and the child's names from both sides.
        let e = w
            .app
            .request_export(
                &s.mediator,
                &cases(
                    ExportFormat::Csv,
                    &["case_id", "state", "name", "name_latin"],
                ),
            )
            .await
            .unwrap();
        assert_eq!((e.state.as_str(), e.progress_total), ("done", 1), "{e:?}");
        let file = w
            .app
            .download_export(&s.mediator, e.id, None)
            .await
            .unwrap();
        assert!(file.name.starts_with("homeward-cases-"), "{}", file.name);
        let text = String::from_utf8(file.bytes).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("case_id,state,name,name_latin"));
        let row = lines.next().unwrap();
        assert!(row.starts_with(&format!("{},located,", case.id)), "{row}");
        assert!(row.contains("Дмитро"), "{row}");
        assert!(row.contains("Дмитрий"), "both sides' names: {row}");
        assert!(row.contains("Dmytro"), "{row}");
        assert_eq!(lines.next(), None);

        // A state filter: no case is closed.
        let mut req = cases(ExportFormat::Json, &[]);
        req.filters.state = Some(homeward_domain::CaseState::Closed);
        let e = w.app.request_export(&s.mediator, &req).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(
            &w.app
                .download_export(&s.mediator, e.id, None)
                .await
                .unwrap()
                .bytes,
        )
        .unwrap();
        assert_eq!(json, serde_json::json!([]));

        // A protected XLSX goes out only as an AES zip, like a records export.
        let mut req = cases(ExportFormat::Xlsx, &[]);
        req.protected = true;
        let e = w.app.request_export(&s.mediator, &req).await.unwrap();
        assert_eq!(e.progress_total, 1);
        let zip = w
            .app
            .download_export(
                &s.mediator,
                e.id,
                Some(ExportPassword::new("twelve chars or more".into()).unwrap()),
            )
            .await
            .unwrap();
        assert_eq!(zip.content_type, "application/zip");
        assert_eq!(u16::from_le_bytes([zip.bytes[8], zip.bytes[9]]), 99);

        // The sides do not read cases, so they export none; nor record filters on cases.
        for side in [&s.origin, &s.custody] {
            let err = w
                .app
                .request_export(side, &cases(ExportFormat::Csv, &[]))
                .await
                .unwrap_err();
            assert_eq!(err.code(), "forbidden", "{err:?}");
        }
        let mut req = cases(ExportFormat::Csv, &[]);
        req.filters.sex = Some(homeward_domain::Sex::Male);
        let err = w.app.request_export(&s.mediator, &req).await.unwrap_err();
        assert_eq!(code_of(&err), "export_filter_not_for_subject");
        let err = w
            .app
            .request_export(&s.mediator, &cases(ExportFormat::Csv, &["sex"]))
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), "export_column_unknown");
        let mut req = request(ExportFormat::Csv, false);
        req.filters.state = Some(homeward_domain::CaseState::Located);
        let err = w.app.request_export(&s.mediator, &req).await.unwrap_err();
        assert_eq!(code_of(&err), "export_filter_not_for_subject");

        // The job's reads of cases are in the log, under the requester, naming the case.
        let reads = w
            .app
            .list_audit(
                &s.auditor,
                AuditFilter {
                    action: Some("case.list".into()),
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(reads.iter().any(|r| {
            let d: serde_json::Value = serde_json::from_str(&r.details).unwrap();
            r.actor_user == Some(s.mediator.user().id)
                && d["within"] == "export"
                && d.to_string().contains(&case.id.to_string())
        }));
        w.finish().await;
    }
}

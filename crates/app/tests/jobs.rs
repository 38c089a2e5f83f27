#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The job queue: the matching a commit promises is written with the commit and done after a
//! crash; a dead worker's job is taken over; failures are retried, then kept with their error;
//! matching twice stores nothing twice; duplicates of one family stay bounded; one file is
//! imported once unless forced. SQLite, and PostgreSQL when HOMEWARD_TEST_POSTGRES_URL is set.

mod common;
use common::{World, worlds};

use chrono::Utc;
use homeward_app::duplicates::{DuplicateQuery, MAX_DUPLICATES_PER_RECORD};
use homeward_app::import::ImportOptions;
use homeward_app::matching::QueueQuery;
use homeward_app::{App, AppConfig, AppError, Caller};
use homeward_domain::ChildRecordInput;
use homeward_domain::name::NameInput;
use homeward_store::{AuditFilter, JobOutcome, JobState, NewJob};

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

const CUSTODY_CSV: &str = "Фамилия,Имя,Отчество,Дата рождения,Пол,Место рождения,Местонахождение\n\
    Олейник,Дмитрий,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4\n\
    Олейник,Артём,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4\n\
    Коваль,Анна,Петровна,12.05.2013,ж,Херсон,Приёмная семья\n";

fn everything() -> QueueQuery {
    QueueQuery {
        min_probability: Some(0.0),
        limit: Some(500),
        ..Default::default()
    }
}

fn deferred() -> AppConfig {
    AppConfig {
        inline_jobs: false,
        ..AppConfig::default()
    }
}

struct Sides {
    origin: Caller,
    custody: Caller,
    reviewer: Caller,
    auditor: Caller,
}

/// A sought child filed and the custody list imported, with matching deferred: two matching
/// jobs wait in the queue, read here through the store itself.
async fn two_jobs_queued(w: &World) -> (Sides, std::sync::Arc<dyn homeward_store::Store>) {
    let s = sides(w).await;
    w.app.create_record(&s.origin, &sought()).await.unwrap();
    import(&w.app, &s.custody, CUSTODY_CSV).await;
    (s, w.db.open().await.unwrap())
}

async fn sides(w: &World) -> Sides {
    Sides {
        origin: w.user(w.origin.id, "o.cw", &["caseworker"]).await,
        custody: w.user(w.custody.id, "c.cw", &["caseworker"]).await,
        reviewer: w.user(w.mediator.id, "m.rev", &["reviewer"]).await,
        auditor: w.user(w.mediator.id, "m.aud", &["auditor"]).await,
    }
}

async fn candidates(app: &App, reviewer: &Caller) -> usize {
    app.review_queue(reviewer, &everything())
        .await
        .unwrap()
        .items
        .len()
}

async fn import(app: &App, who: &Caller, csv: &str) -> homeward_app::import::ImportReport {
    app.import_records(who, csv.as_bytes(), &ImportOptions::default(), &|_| {})
        .await
        .unwrap()
}

async fn audit_count(w: &World, auditor: &Caller, action: &str) -> usize {
    w.app
        .list_audit(
            auditor,
            AuditFilter {
                action: Some(action.to_owned()),
                limit: 10_000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn matching_left_undone_by_a_crash_after_the_commit_is_done_after_a_restart() {
    for w in worlds(deferred()).await {
        let s = sides(&w).await;
        // Nothing runs the jobs: the process "dies" right after each commit.
        w.app.create_record(&s.origin, &sought()).await.unwrap();
        let report = import(&w.app, &s.custody, CUSTODY_CSV).await;
        assert_eq!(candidates(&w.app, &s.reviewer).await, 0);
        let matching = report.matching.expect("the import's matching is a job");
        assert_eq!(matching.state, "queued");
        assert_eq!(matching.records, Some(3));

        // A new process on the same database: the jobs were committed with the records.
        let restarted = App::new(w.db.open().await.unwrap(), deferred());
        let owed = restarted.owed_matching().await.unwrap();
        assert_eq!((owed.lost.len(), owed.queued), (0, 4));
        assert_eq!(restarted.enqueue_owed_matching().await.unwrap(), 0);
        let done = restarted.drain_jobs("restarted").await.unwrap();
        assert_eq!((done.done, done.failed), (2, 0));
        assert!(candidates(&restarted, &s.reviewer).await >= 1);
        let view = restarted
            .import_matching(&s.custody, report.import_id)
            .await
            .unwrap();
        assert_eq!(view.state, "done");
        assert_eq!((view.progress_done, view.progress_total), (3, 3));
        // Another party's import answers like a missing one.
        assert!(matches!(
            restarted.import_matching(&s.origin, report.import_id).await,
            Err(AppError::NotFound)
        ));
        assert!(restarted.owed_matching().await.unwrap() == Default::default());
        assert!(restarted.verify_audit_as(&s.auditor).await.is_ok());
        restarted.close().await;
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn records_whose_matching_was_lost_are_found_and_queued_by_the_startup_check() {
    for w in worlds(deferred()).await {
        let (s, store) = two_jobs_queued(&w).await;
        // Both jobs fail for good without matching anything: the records owe their matching and
        // no job will do it (as records filed before the queue existed).
        for _ in 0..2 {
            let job = store
                .claim_job("doomed", None, Utc::now(), Utc::now())
                .await
                .unwrap()
                .unwrap();
            let failed = JobOutcome::Failed {
                code: "test".into(),
                message: "gave up".into(),
            };
            assert!(store.finish_job(job.id, "doomed", &failed).await.unwrap());
        }
        let owed = w.app.owed_matching().await.unwrap();
        assert_eq!((owed.lost.len(), owed.queued), (4, 0));
        assert_eq!(w.app.enqueue_owed_matching().await.unwrap(), 4);
        assert_eq!(w.app.owed_matching().await.unwrap().queued, 4);
        w.app.drain_jobs("w").await.unwrap();
        assert!(candidates(&w.app, &s.reviewer).await >= 1);
        assert_eq!(w.app.owed_matching().await.unwrap(), Default::default());
        store.close().await;
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_workers_job_is_taken_over_when_its_lease_expires() {
    for w in worlds(deferred()).await {
        let (s, store) = two_jobs_queued(&w).await;
        // A worker claims both jobs and dies; its leases run out at once.
        let now = Utc::now();
        let lease = now + chrono::Duration::milliseconds(300);
        let a = store.claim_job("dead", None, now, lease).await.unwrap();
        let b = store.claim_job("dead", None, now, lease).await.unwrap();
        assert!(a.is_some() && b.is_some());
        // While the lease holds, nobody else takes them.
        assert!(w.app.run_job("alive", None).await.unwrap().is_none());
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let report = w.app.drain_jobs("alive").await.unwrap();
        assert_eq!(report.done, 2);
        assert!(candidates(&w.app, &s.reviewer).await >= 1);
        let job = store.get_job(a.unwrap().id).await.unwrap().unwrap();
        assert_eq!((job.state, job.attempts), (JobState::Done, 2));
        // The dead worker's late word changes nothing.
        assert!(
            !store
                .finish_job(job.id, "dead", &JobOutcome::Done)
                .await
                .unwrap()
        );
        store.close().await;
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_job_is_retried_with_backoff_then_kept_failed_with_its_error() {
    for w in worlds(deferred()).await {
        let store = w.db.open().await.unwrap();
        let mut job = NewJob::new("no.such.kind", serde_json::json!({}), Some("k1".into()));
        job.max_attempts = 2;
        assert!(store.enqueue_job(&job).await.unwrap());
        // The same key again is the same job.
        let again = NewJob::new("no.such.kind", serde_json::json!({}), Some("k1".into()));
        assert!(!store.enqueue_job(&again).await.unwrap());

        let before = Utc::now();
        let first = w.app.run_job("w", None).await.unwrap().unwrap();
        assert_eq!(first.state, JobState::Queued);
        assert_eq!(first.attempts, 1);
        assert_eq!(first.last_error_code.as_deref(), Some("unknown_kind"));
        assert!(first.run_after >= before + chrono::Duration::seconds(2));
        // Not due yet: a drain leaves it alone.
        assert_eq!(w.app.drain_jobs("w").await.unwrap(), Default::default());
        let last = w.app.run_job("w", Some(job.id)).await.unwrap().unwrap();
        assert_eq!(last.state, JobState::Failed);
        assert_eq!(last.attempts, 2);
        assert_eq!(last.last_error_code.as_deref(), Some("unknown_kind"));
        assert!(last.last_error.unwrap().contains("no.such.kind"));
        let admin = w.user(w.mediator.id, "m.admin", &["admin"]).await;
        let overview = w.app.admin_jobs(&admin, None, 50).await.unwrap();
        assert_eq!(overview.failed, 1);
        assert_eq!(
            overview.jobs[0].last_error_code.as_deref(),
            Some("unknown_kind")
        );
        let custody = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
        assert!(matches!(
            w.app.admin_jobs(&custody, None, 50).await,
            Err(AppError::Forbidden(_))
        ));
        store.close().await;
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn matching_twice_stores_nothing_twice_and_audits_once_per_run() {
    for w in worlds(AppConfig::default()).await {
        let s = sides(&w).await;
        let request = w.app.create_record(&s.origin, &sought()).await.unwrap();
        let report = import(&w.app, &s.custody, CUSTODY_CSV).await;
        assert_eq!(report.matching.unwrap().state, "done");
        let found = candidates(&w.app, &s.reviewer).await;
        assert!(found >= 1, "{found}");
        // One entry for the import's run, naming every candidate it stored.
        let entries = w
            .app
            .list_audit(
                &s.auditor,
                AuditFilter {
                    action: Some("match.candidate_create".to_owned()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(entries.len(), 1);
        let details: serde_json::Value = serde_json::from_str(&entries[0].details).unwrap();
        assert_eq!(details["count"], found);
        assert_eq!(details["match_ids"].as_array().unwrap().len(), found);
        assert_eq!(details["trigger"], "import.commit");

        // The same records matched again (a job run twice): nothing new, nothing audited.
        let store = w.db.open().await.unwrap();
        let payload = serde_json::json!({
            "records": [request.id],
            "trigger": "record.create",
            "actor_user": null,
            "actor_party": null,
            "source": null,
        });
        let job = NewJob::new(homeward_store::MATCH_RECORDS, payload, None);
        store.enqueue_job(&job).await.unwrap();
        assert_eq!(w.app.drain_jobs("w").await.unwrap().done, 1);
        assert_eq!(candidates(&w.app, &s.reviewer).await, found);
        assert_eq!(
            audit_count(&w, &s.auditor, "match.candidate_create").await,
            1
        );
        store.close().await;
        w.finish().await;
    }
}

/// `n` rows of one child, word for word: every pair scores as a duplicate.
fn one_family(n: usize) -> String {
    let mut csv = String::from(
        "record_id,Фамилия,Имя,Отчество,Дата рождения,Пол,Место рождения,Местонахождение\n",
    );
    for i in 0..n {
        csv.push_str(&format!(
            "F-{i},Олейник,Дмитрий,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4\n"
        ));
    }
    csv
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicates_of_one_family_stay_bounded_and_are_audited_once_per_run() {
    for w in worlds(AppConfig::default()).await {
        let s = sides(&w).await;
        let n = 40;
        import(&w.app, &s.custody, &one_family(n)).await;
        let pairs = w
            .app
            .duplicate_queue(
                &s.custody,
                &DuplicateQuery {
                    min_probability: Some(0.0),
                    limit: Some(500),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .items
            .len();
        // All pairs would be n(n-1)/2 = 780.
        assert!(pairs > 0, "the family's duplicates are found");
        assert!(pairs <= MAX_DUPLICATES_PER_RECORD * n, "{pairs} pairs");
        assert_eq!(
            audit_count(&w, &s.auditor, "duplicate.candidate_create").await,
            1
        );
        // One more of the family, filed on its own: at most K more pairs, one more entry.
        let more = ChildRecordInput {
            names: vec![NameInput {
                given: Some("Дмитрий".into()),
                patronymic: Some("Андреевич".into()),
                family: Some("Олейник".into()),
                ..Default::default()
            }],
            sex: Some("m".into()),
            birth_date: Some("07.03.2015".into()),
            birth_place: Some("Мариуполь".into()),
            current_location: Some("Детский дом № 4".into()),
            ..Default::default()
        };
        w.app.create_record(&s.custody, &more).await.unwrap();
        let after = w
            .app
            .duplicate_queue(
                &s.custody,
                &DuplicateQuery {
                    min_probability: Some(0.0),
                    limit: Some(500),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .items
            .len();
        assert!(after > pairs && after <= pairs + MAX_DUPLICATES_PER_RECORD);
        assert_eq!(
            audit_count(&w, &s.auditor, "duplicate.candidate_create").await,
            2
        );
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_file_is_imported_once_unless_forced() {
    for w in worlds(AppConfig::default()).await {
        let s = sides(&w).await;
        let first = import(&w.app, &s.custody, CUSTODY_CSV).await;
        let again = w
            .app
            .import_records(
                &s.custody,
                CUSTODY_CSV.as_bytes(),
                &ImportOptions::default(),
                &|_| {},
            )
            .await;
        match again {
            Err(e @ AppError::AlreadyImported { import, .. }) => {
                assert_eq!(import, first.import_id);
                assert_eq!(e.code(), "already_imported");
                assert!(e.to_string().contains(&first.import_id.to_string()));
            }
            other => panic!("expected already_imported, got {other:?}"),
        }
        let forced = w
            .app
            .import_records(
                &s.custody,
                CUSTODY_CSV.as_bytes(),
                &ImportOptions {
                    force: true,
                    ..Default::default()
                },
                &|_| {},
            )
            .await
            .unwrap();
        assert_eq!(forced.imported, 3);
        // Refused imports store nothing: 3 + 3 records.
        let listed = w
            .app
            .list_records(
                &s.custody,
                &homeward_app::records::RecordQuery {
                    limit: Some(500),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(listed.items.len(), 6);
        w.finish().await;
    }
}

/// The pending candidates' model versions, by candidate.
async fn pending_versions(app: &App, reviewer: &Caller) -> Vec<String> {
    app.review_queue(reviewer, &everything())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.model_version)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn re_scoring_after_a_model_change_is_a_job_a_live_worker_takes_over_from_a_dead_one() {
    for w in worlds(deferred()).await {
        let (s, store) = two_jobs_queued(&w).await;
        w.app.drain_jobs("w").await.unwrap();
        let before = pending_versions(&w.app, &s.reviewer).await;
        assert!(!before.is_empty());
        assert!(before.iter().all(|v| v.contains("default")), "{before:?}");

        // Training stores the model and, in the same transaction, the job that scores the
        // pending candidates again; with jobs deferred, nothing is re-scored yet.
        let report = w.app.train_linkage_model(&s.reviewer).await.unwrap();
        let key = format!("candidates.rescore:{}", report.model_version);
        let job = store
            .job_by_key(&key)
            .await
            .unwrap()
            .expect("no rescore job");
        assert_eq!(
            (job.kind.as_str(), job.state),
            ("candidates.rescore", JobState::Queued)
        );
        let stale = pending_versions(&w.app, &s.reviewer)
            .await
            .iter()
            .filter(|v| **v != report.model_version)
            .count();
        assert!(stale >= 1, "training re-scored inline");
        assert_eq!(
            audit_count(&w, &s.auditor, "match.candidate_rescore").await,
            0
        );

        // A worker claims it and dies; another takes it over when the lease runs out.
        let now = Utc::now();
        let dead = store
            .claim_job("dead", None, now, now + chrono::Duration::milliseconds(300))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(dead.id, job.id);
        assert!(w.app.run_job("alive", None).await.unwrap().is_none());
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let drained = w.app.drain_jobs("alive").await.unwrap();
        assert_eq!((drained.done, drained.failed), (1, 0));
        let job = store.get_job(job.id).await.unwrap().unwrap();
        assert_eq!((job.state, job.attempts), (JobState::Done, 2));
        assert_eq!(job.progress_total, i64::try_from(stale).unwrap());
        assert_eq!(job.progress_done, job.progress_total);

        let after = pending_versions(&w.app, &s.reviewer).await;
        assert!(
            after.iter().all(|v| *v == report.model_version),
            "{after:?}"
        );
        assert_eq!(
            audit_count(&w, &s.auditor, "match.candidate_rescore").await,
            1
        );
        // Run again (as a second delivery would be), it finds nothing left to do.
        let again = NewJob::new(
            "candidates.rescore",
            job.payload.clone(),
            Some(format!("{key}:again")),
        );
        assert!(store.enqueue_job(&again).await.unwrap());
        assert_eq!(w.app.drain_jobs("alive").await.unwrap().done, 1);
        let again = store.get_job(again.id).await.unwrap().unwrap();
        assert_eq!((again.progress_done, again.progress_total), (0, 0));
        assert_eq!(
            audit_count(&w, &s.auditor, "match.candidate_rescore").await,
            1
        );
        assert!(w.app.verify_audit_as(&s.auditor).await.is_ok());
        store.close().await;
        w.finish().await;
    }
}

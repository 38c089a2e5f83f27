#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Graceful shutdown (issue 19): a server's worker told to stop while it runs a job hands the
//! job back (queued, due at once, lease released) for another server to take at once, instead of
//! holding it until the lease expires. SQLite, and PostgreSQL when HOMEWARD_TEST_POSTGRES_URL is
//! set.

mod common;
use common::worlds;

use chrono::Utc;
use homeward_app::import::ImportOptions;
use homeward_app::{App, AppConfig};
use homeward_store::{JobFilter, JobState};
use std::time::Duration;

/// One family's children, alike enough that matching them takes a while.
fn one_family(n: usize) -> String {
    let mut csv = String::from(
        "record_id,Фамилия,Имя,Отчество,Дата рождения,Пол,Место рождения,Местонахождение\n",
    );
    for i in 0..n {
        csv.push_str(&format!(
            "F-{i},Олейник,Дмитрий,Андреевич,07.03.2015,м,Мариуполь,Детский дом № {i}\n"
        ));
    }
    csv
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopping_worker_hands_its_running_job_back_at_once() {
    let config = AppConfig {
        inline_jobs: false,
        ..AppConfig::default()
    };
    for w in worlds(config).await {
        let custody = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
        let csv = one_family(300);
        w.app
            .import_records(&custody, csv.as_bytes(), &ImportOptions::default(), &|_| {})
            .await
            .unwrap();
        let store = w.db.open().await.unwrap();
        let all = JobFilter {
            state: None,
            limit: 10,
        };
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = {
            let app: App = w.app.clone();
            tokio::spawn(async move { app.work_jobs("leaving", stopped).await })
        };
        // Wait until the worker holds the job, then stop it.
        let job = loop {
            let jobs = store.list_jobs(&all).await.unwrap();
            if let Some(running) = jobs.iter().find(|j| j.state == JobState::Running) {
                break running.clone();
            }
            assert!(
                jobs.iter().any(|j| j.state == JobState::Queued),
                "finished before the stop: {jobs:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(job.locked_by.as_deref(), Some("leaving"));
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(30), worker)
            .await
            .expect("the worker stops without finishing the job")
            .unwrap();
        let back = store.get_job(job.id).await.unwrap().unwrap();
        assert_eq!(back.state, JobState::Queued, "{back:?}");
        assert_eq!(back.locked_by, None);
        assert_eq!(back.last_error_code.as_deref(), Some("shutdown"));
        assert!(back.run_after <= Utc::now());
        // Another server takes it at once, not when the 5-minute lease would have run out.
        let taken = w.app.run_job("staying", None).await.unwrap().unwrap();
        assert_eq!((taken.id, taken.state), (job.id, JobState::Done));
        store.close().await;
        w.finish().await;
    }
}

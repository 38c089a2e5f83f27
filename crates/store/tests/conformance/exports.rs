//! Exports: a request is stored with its job and its audit entry in one transaction; progress,
//! the end, downloads and expiry each change the row (and audit) once; a user lists only the
//! exports they asked for; a file shared by two exports stays in use until both expired.

use super::*;
use homeward_store::{EXPORT_RUN, Export, ExportEnd, ExportState, JobState, NewJob};

fn export(w: &World, by: &User, at: DateTime<Utc>) -> Export {
    Export {
        id: uuid::Uuid::now_v7(),
        party_id: w.origin.id,
        requested_by: by.id,
        subject: "records".to_owned(),
        format: "csv".to_owned(),
        columns: vec!["name".to_owned(), "sex".to_owned()],
        filters: json!({ "sex": "f" }),
        protected: true,
        state: ExportState::Queued,
        progress_done: 0,
        progress_total: 0,
        file_sha256: None,
        file_size: None,
        error_code: None,
        created_at: at,
        finished_at: None,
        expires_at: at + Duration::days(7),
        downloads: 0,
        last_downloaded_at: None,
    }
}

fn job_of(e: &Export) -> NewJob {
    NewJob::new(
        EXPORT_RUN,
        json!({ "export": e.id }),
        Some(format!("{EXPORT_RUN}:{}", e.id)),
    )
}

pub async fn exports_keep_their_job_progress_downloads_and_expiry(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let t0 = now();
    let e = export(&w, &w.origin_user, t0);
    let before = head_seq(s).await;
    s.create_export(&e, &job_of(&e), draft(AuditAction::ExportRequest))
        .await
        .unwrap();
    assert_eq!(head_seq(s).await, before + 1, "the request is audited");
    assert_eq!(s.get_export(e.id).await.unwrap(), Some(e.clone()));
    let job = s
        .job_by_key(&format!("{EXPORT_RUN}:{}", e.id))
        .await
        .unwrap()
        .expect("the request enqueued its job");
    assert_eq!(
        (job.kind.as_str(), job.state),
        (EXPORT_RUN, JobState::Queued)
    );

    // The same id twice: refused, and neither a second job nor an entry is written.
    let seq = head_seq(s).await;
    let again = s
        .create_export(&e, &job_of(&e), draft(AuditAction::ExportRequest))
        .await;
    assert!(again.is_err());
    assert_eq!(head_seq(s).await, seq);

    // Another user's exports are not in this user's list.
    let other = user(s, w.origin.id, "olha").await;
    let theirs = export(&w, &other, t0);
    s.create_export(&theirs, &job_of(&theirs), draft(AuditAction::ExportRequest))
        .await
        .unwrap();
    let mine: Vec<_> = s.list_exports(w.origin_user.id, 50).await.unwrap();
    assert_eq!(mine.iter().map(|x| x.id).collect::<Vec<_>>(), vec![e.id]);

    s.export_progress(e.id, 500, 0).await.unwrap();
    let running = s.get_export(e.id).await.unwrap().unwrap();
    assert_eq!(
        (running.state, running.progress_done),
        (ExportState::Running, 500)
    );

    // A download before the file is made is refused.
    assert_not_found(
        s.record_export_download(e.id, t0, draft(AuditAction::ExportDownload))
            .await,
    );

    let end = ExportEnd::Done {
        sha256: "ab".repeat(32),
        size: 1234,
    };
    s.finish_export(e.id, &end, t0, draft(AuditAction::ExportMake))
        .await
        .unwrap();
    let done = s.get_export(e.id).await.unwrap().unwrap();
    assert_eq!(done.state, ExportState::Done);
    assert_eq!(done.file_sha256.as_deref(), Some("ab".repeat(32).as_str()));
    assert_eq!((done.file_size, done.progress_total), (Some(1234), 500));
    // Finished once only.
    assert_not_found(
        s.finish_export(e.id, &end, t0, draft(AuditAction::ExportMake))
            .await,
    );

    let seq = head_seq(s).await;
    for _ in 0..2 {
        s.record_export_download(
            e.id,
            t0 + Duration::minutes(1),
            draft(AuditAction::ExportDownload),
        )
        .await
        .unwrap();
    }
    assert_eq!(head_seq(s).await, seq + 2, "every download is audited");
    let got = s.get_export(e.id).await.unwrap().unwrap();
    assert_eq!(got.downloads, 2);
    assert_eq!(got.last_downloaded_at, Some(t0 + Duration::minutes(1)));

    // Not due before its expiry; due after it, then expired once.
    assert!(s.exports_due_to_expire(t0, 100).await.unwrap().is_empty());
    let later = t0 + Duration::days(8);
    let due: Vec<_> = s
        .exports_due_to_expire(later, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(due.len(), 2);
    assert!(due.contains(&e.id));
    assert!(s.export_file_in_use(&"ab".repeat(32)).await.unwrap());
    assert!(
        s.expire_export(e.id, later, draft(AuditAction::ExportExpire))
            .await
            .unwrap()
    );
    assert!(
        !s.expire_export(e.id, later, draft(AuditAction::ExportExpire))
            .await
            .unwrap()
    );
    assert!(!s.export_file_in_use(&"ab".repeat(32)).await.unwrap());
    assert_eq!(
        s.get_export(e.id).await.unwrap().unwrap().state,
        ExportState::Expired
    );
    assert_not_found(
        s.record_export_download(e.id, later, draft(AuditAction::ExportDownload))
            .await,
    );
    assert_eq!(verify(s).await, Ok(head_seq(s).await));
}

pub async fn a_failed_export_keeps_its_code(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let e = export(&w, &w.origin_user, now());
    s.create_export(&e, &job_of(&e), draft(AuditAction::ExportRequest))
        .await
        .unwrap();
    let end = ExportEnd::Failed {
        code: "internal".to_owned(),
    };
    s.finish_export(e.id, &end, now(), draft(AuditAction::ExportMake))
        .await
        .unwrap();
    let got = s.get_export(e.id).await.unwrap().unwrap();
    assert_eq!(
        (got.state, got.error_code.as_deref()),
        (ExportState::Failed, Some("internal"))
    );
    assert_eq!(got.file_sha256, None);
}

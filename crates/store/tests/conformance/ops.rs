//! What operating a deployment needs from the store (issue 19): the pool's figures, migrations
//! still to apply, the attachments' blob names, and SQLite's consistent copy.

use super::*;

async fn execute(url: &str, statement: &str) {
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(statement).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(statement).execute(&mut c).await.unwrap();
    }
}

pub async fn ops_report_the_pool_and_migrations_still_to_apply(cx: Ctx) {
    let s = &*cx.store;
    assert_eq!(s.pending_migrations().await.unwrap(), 0);
    let pool = s.pool_stats();
    assert!(
        pool.max >= 1 && pool.size >= 1 && pool.idle <= pool.size,
        "{pool:?}"
    );
    // A database one migration behind this build is not ready.
    execute(
        &cx.url,
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .await;
    assert_eq!(s.pending_migrations().await.unwrap(), 1);
}

pub async fn ops_name_each_attachment_blob_once(cx: Ctx) {
    let s = &*cx.store;
    assert!(s.attachment_blobs().await.unwrap().is_empty());
    let (w, t, _) = matching_world(s, 1).await;
    let up = || draft(AuditAction::AttachmentUpload);
    let scope = MEDIATOR_VIEW;
    for sha in ['b', 'a', 'b'] {
        let att = attachment(AttachmentOwner::Record(t), w.origin.id, &w.origin_user, sha);
        s.insert_attachment(scope, &att, up()).await.unwrap();
    }
    let (a, b) = ("a".repeat(64), "b".repeat(64));
    assert_eq!(s.attachment_blobs().await.unwrap(), vec![a, b]);
}

pub async fn ops_back_up_a_consistent_sqlite_copy_and_leave_postgres_to_pg_dump(cx: Ctx) {
    let s = &*cx.store;
    matching_world(s, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("copy.sqlite");
    let made = s.backup_into(&out).await.unwrap();
    if cx.url.starts_with("sqlite:") {
        assert!(made);
        let copy = homeward_store::connect(&format!("sqlite://{}", out.display()))
            .await
            .unwrap();
        assert_eq!(
            copy.audit_head().await.unwrap(),
            s.audit_head().await.unwrap()
        );
        assert_eq!(
            copy.list_parties().await.unwrap(),
            s.list_parties().await.unwrap()
        );
        // A second copy never overwrites the first.
        assert!(s.backup_into(&out).await.is_err());
    } else {
        assert!(!made);
        assert!(!out.exists());
    }
}

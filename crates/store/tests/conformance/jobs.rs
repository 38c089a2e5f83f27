//! The job queue: a record write enqueues its matching in its own transaction (and a refused one
//! enqueues nothing); claims hand each due job to one worker under a lease, and an expired lease
//! lets another take it over; an import's fingerprint refuses the same file twice, inside the
//! import's transaction; records owe their matching until it ran on their current version.

use super::*;
use homeward_store::{
    JobFilter, JobOutcome, JobState, MATCH_RECORDS, MatchRecordsJob, NewImport, NewJob,
    match_key_of_import, match_key_of_record, match_key_of_records,
};

async fn all_jobs(s: &dyn Store) -> Vec<homeward_store::Job> {
    s.list_jobs(&JobFilter {
        state: None,
        limit: 1000,
    })
    .await
    .unwrap()
}

pub async fn record_writes_enqueue_their_matching_in_their_transaction(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let rs: Vec<NewRecord> = ["Олена", "Ірина"]
        .into_iter()
        .map(|n| {
            new_record(
                &w.origin,
                &w.origin_user,
                content(RecordKind::TracingRequest, n, "f", Some("2014"), None),
            )
        })
        .collect();
    insert(s, &rs).await;
    let job = s
        .job_by_key(&match_key_of_records(rs[0].record.id, 2))
        .await
        .unwrap()
        .expect("the insert enqueued its matching");
    assert_eq!(
        (job.kind.as_str(), job.state),
        (MATCH_RECORDS, JobState::Queued)
    );
    let p: MatchRecordsJob = serde_json::from_value(job.payload).unwrap();
    assert_eq!(p.records, vec![rs[0].record.id, rs[1].record.id]);
    assert_eq!(p.trigger, "record.create");

    // A refused insert (an id taken) enqueues nothing.
    let jobs = all_jobs(s).await.len();
    assert!(
        s.insert_records(
            &rs[..1],
            vec![draft(AuditAction::RecordCreate)],
            &no_progress
        )
        .await
        .is_err()
    );
    assert_eq!(all_jobs(s).await.len(), jobs);

    let id = rs[0].record.id;
    let c = content(
        RecordKind::TracingRequest,
        "Олена Б.",
        "f",
        Some("2014"),
        None,
    );
    let change = |v| RecordChange {
        id,
        expected_version: v,
        content: &c,
        search_key: "олена б.",
        by: w.origin_user.id,
        at: now(),
    };
    let scope = Scope::OwnParty(w.origin.id);
    let audit = || draft(AuditAction::RecordUpdate).target("record", id);
    s.update_record(scope, change(1), audit()).await.unwrap();
    let job = s
        .job_by_key(&match_key_of_record(id, 2))
        .await
        .unwrap()
        .unwrap();
    let p: MatchRecordsJob = serde_json::from_value(job.payload).unwrap();
    assert_eq!((p.records, p.trigger.as_str()), (vec![id], "record.update"));
    // A stale update enqueues nothing.
    assert!(s.update_record(scope, change(1), audit()).await.is_err());
    assert_eq!(all_jobs(s).await.len(), jobs + 1);
}

pub async fn claims_lease_each_job_to_one_worker_and_expired_leases_are_taken_over(cx: Ctx) {
    let s = Arc::clone(&cx.store);
    for i in 0..3 {
        let job = NewJob::new("test.kind", json!({ "i": i }), Some(format!("k{i}")));
        assert!(s.enqueue_job(&job).await.unwrap());
        assert!(!s.enqueue_job(&job).await.unwrap(), "a key enqueues once");
    }
    // Four workers at once: three get a job each, all different; one gets nothing.
    let t = now();
    let lease = t + Duration::seconds(60);
    let claims = (0..4).map(|n| {
        let s = Arc::clone(&s);
        tokio::spawn(async move { s.claim_job(&format!("w{n}"), None, t, lease).await.unwrap() })
    });
    let mut got = Vec::new();
    for c in claims {
        if let Some(job) = c.await.unwrap() {
            got.push(job);
        }
    }
    let mut ids: Vec<_> = got.iter().map(|j| j.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert!(
        got.iter()
            .all(|j| j.state == JobState::Running && j.attempts == 1)
    );
    assert!(s.claim_job("w9", None, t, lease).await.unwrap().is_none());

    // Progress renews the lease of its holder only.
    let first = &got[0];
    let holder = first.locked_by.clone().unwrap();
    assert!(
        s.job_progress(first.id, &holder, 1, 2, lease)
            .await
            .unwrap()
    );
    assert!(!s.job_progress(first.id, "w9", 1, 2, lease).await.unwrap());

    // After its lease, another worker takes the job over; the old holder cannot finish it.
    let later = lease + Duration::seconds(1);
    let taken = s
        .claim_job("w9", Some(first.id), later, later + Duration::seconds(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (taken.attempts, taken.locked_by.as_deref()),
        (2, Some("w9"))
    );
    assert!(
        !s.finish_job(first.id, &holder, &JobOutcome::Done)
            .await
            .unwrap()
    );
    assert!(
        s.finish_job(first.id, "w9", &JobOutcome::Done)
            .await
            .unwrap()
    );
    let done = s.get_job(first.id).await.unwrap().unwrap();
    assert_eq!((done.state, done.progress_done), (JobState::Done, 2));

    // A retry waits for its time; a job out of attempts whose worker died is failed.
    let second = &got[1];
    let retry = JobOutcome::Retry {
        at: later + Duration::seconds(30),
        code: "boom".into(),
        message: "it broke".into(),
    };
    let w = second.locked_by.clone().unwrap();
    assert!(s.finish_job(second.id, &w, &retry).await.unwrap());
    let hour = later + Duration::hours(1);
    let third = s.claim_job("w9", None, later, hour).await.unwrap().unwrap();
    assert_eq!(
        third.id, got[2].id,
        "the expired lease, not the retry that is not due"
    );
    assert!(
        s.claim_job("w9", None, later, later)
            .await
            .unwrap()
            .is_none()
    );
    let due = later + Duration::seconds(31);
    let retried = s.claim_job("w9", None, due, due).await.unwrap().unwrap();
    assert_eq!((retried.id, retried.attempts), (second.id, 2));
    assert_eq!(retried.last_error_code.as_deref(), Some("boom"));
    let counts = s.job_counts().await.unwrap();
    assert!(
        counts
            .iter()
            .any(|(st, n)| *st == JobState::Done && *n == 1)
    );
    let mut dying = NewJob::new("test.kind", json!({}), None);
    dying.max_attempts = 1;
    s.enqueue_job(&dying).await.unwrap();
    let far = later + Duration::hours(2);
    let mut claimed = None;
    while let Some(j) = s.claim_job("w8", None, far, far).await.unwrap() {
        if j.id == dying.id {
            claimed = Some(j);
        }
    }
    assert!(claimed.is_some());
    let end = far + Duration::seconds(1);
    assert!(
        s.claim_job("w7", Some(dying.id), end, end)
            .await
            .unwrap()
            .is_none()
    );
    let failed = s.get_job(dying.id).await.unwrap().unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.last_error_code.as_deref(), Some("lease_expired"));
}

pub async fn the_same_file_is_refused_inside_the_imports_transaction(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let batch = |n: &str| {
        vec![new_record(
            &w.custody,
            &w.custody_user,
            content(RecordKind::CustodyRecord, n, "m", Some("2015"), None),
        )]
    };
    let import = |forced| NewImport {
        id: uuid::Uuid::now_v7(),
        party_id: w.custody.id,
        kind: RecordKind::CustodyRecord,
        sha256: "ab".repeat(32),
        imported: 1,
        forced,
        created_by: w.custody_user.id,
        created_at: now(),
    };
    let first = import(false);
    let audit = || vec![draft(AuditAction::ImportCommit)];
    s.commit_import(&first, &batch("Дмитрий"), audit(), &no_progress)
        .await
        .unwrap();
    assert!(
        s.job_by_key(&match_key_of_import(first.id))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        s.import_by_fingerprint(w.custody.id, &first.sha256)
            .await
            .unwrap(),
        Some(first.clone())
    );

    let head = head_seq(s).await;
    let again = import(false);
    match s
        .commit_import(&again, &batch("Дмитрий"), audit(), &no_progress)
        .await
    {
        Err(StoreError::AlreadyImported { import, .. }) => assert_eq!(import, first.id),
        other => panic!("expected AlreadyImported, got {other:?}"),
    }
    assert_eq!(head_seq(s).await, head, "a refused import appends nothing");
    assert!(
        s.job_by_key(&match_key_of_import(again.id))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.records_of_kind(RecordKind::CustodyRecord, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // Forced, or by another party, it goes in.
    s.commit_import(&import(true), &batch("Дмитрий"), audit(), &no_progress)
        .await
        .unwrap();
    let mut theirs = import(false);
    theirs.party_id = w.origin.id;
    theirs.kind = RecordKind::TracingRequest;
    let sought = vec![new_record(
        &w.origin,
        &w.origin_user,
        content(
            RecordKind::TracingRequest,
            "Дмитро",
            "m",
            Some("2015"),
            None,
        ),
    )];
    s.commit_import(&theirs, &sought, audit(), &no_progress)
        .await
        .unwrap();
}

pub async fn records_owe_their_matching_until_it_ran_on_their_version(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let rs: Vec<NewRecord> = ["А", "Б"]
        .into_iter()
        .map(|n| {
            new_record(
                &w.custody,
                &w.custody_user,
                content(RecordKind::CustodyRecord, n, "m", None, None),
            )
        })
        .collect();
    insert(s, &rs).await;
    let (a, b) = (rs[0].record.id, rs[1].record.id);
    let mut owed = s.records_owing_match(None, 10).await.unwrap();
    owed.sort();
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(owed, both);
    assert_eq!(
        s.records_owing_match(Some(both[0]), 10).await.unwrap(),
        vec![both[1]]
    );
    s.mark_matched(&[(a, 1), (b, 1)]).await.unwrap();
    assert!(s.records_owing_match(None, 10).await.unwrap().is_empty());
    let c = content(RecordKind::CustodyRecord, "А.", "m", None, None);
    let change = RecordChange {
        id: a,
        expected_version: 1,
        content: &c,
        search_key: "а.",
        by: w.custody_user.id,
        at: now(),
    };
    s.update_record(
        Scope::AllSubmitted,
        change,
        draft(AuditAction::RecordUpdate),
    )
    .await
    .unwrap();
    assert_eq!(s.records_owing_match(None, 10).await.unwrap(), vec![a]);
    // Marking an older version does not settle the newer one.
    s.mark_matched(&[(a, 1)]).await.unwrap();
    assert_eq!(s.records_owing_match(None, 10).await.unwrap(), vec![a]);
}

//! The unit of work on one case: read, save and audit in one transaction, with one entry for
//! the action and none for the reads that served it.

use super::*;
use homeward_store::CaseWork;

async fn owner(
    work: &mut dyn CaseWork,
    scope: AttachmentScope,
    id: AttachmentId,
) -> Option<AttachmentOwner> {
    work.attachment_owner(scope, id).await.unwrap()
}

/// Saves `change` as a use-case does: one work, one entry.
pub(super) async fn save_case(
    s: &dyn Store,
    change: CaseChange<'_>,
    audit: AuditDraft,
) -> Result<StoredCase, StoreError> {
    let mut work = s.begin_case_work().await?;
    let stored = work.save(change).await?;
    work.commit(audit, vec![]).await?;
    Ok(stored)
}

fn on_hold(case: &Case) -> Case {
    let mut next = case.clone();
    next.state = CaseState::OnHold;
    next.on_hold_from = Some(case.state);
    next
}

fn change(case: &Case, expected_version: i64) -> CaseChange<'_> {
    CaseChange {
        case,
        expected_version,
        change: "transition",
        by: UserId::new(),
        at: now(),
    }
}

pub async fn a_case_work_reads_saves_and_audits_once(cx: Ctx) {
    let s = &*cx.store;
    let (_, stored) = case_world(s).await;
    let id = stored.case.id;
    let before = head_seq(s).await;

    let mut work = s.begin_case_work().await.unwrap();
    let read = work.case(id).await.unwrap().unwrap();
    assert_eq!(read, stored);
    assert!(work.case(CaseId::new()).await.unwrap().is_none());
    let next = on_hold(&read.case);
    let saved = work.save(change(&next, read.version)).await.unwrap();
    assert_eq!((saved.version, &saved.case), (2, &next));
    // Inside the work the case reads as saved.
    assert_eq!(work.case(id).await.unwrap().unwrap().version, 2);
    let action = draft(AuditAction::CaseTransition).target("case", id);
    work.commit(action, vec![]).await.unwrap();

    // One entry: the reads were not audited, and the rows written are hashed under it.
    let entries = all_entries(s).await;
    assert_eq!(head_seq(s).await, before + 1);
    let last = entries.last().unwrap();
    assert_eq!(last.action, "case.transition");
    assert!(
        last.details.contains(&format!("case/{id}")),
        "{}",
        last.details
    );
    assert!(
        last.details.contains(&format!("case_version/{id}/2")),
        "{}",
        last.details
    );
    assert_eq!(verify(s).await, Ok(head_seq(s).await));
    assert!(super::rowhash::rows_match_chain(s).await.is_ok());
}

pub async fn a_case_work_refuses_a_stale_version_and_rolls_back_when_dropped(cx: Ctx) {
    let s = &*cx.store;
    let (_, stored) = case_world(s).await;
    let id = stored.case.id;
    let next = on_hold(&stored.case);
    save_case(s, change(&next, 1), draft(AuditAction::CaseTransition))
        .await
        .unwrap();
    let before = head_seq(s).await;

    // A change decided on version 1 (an earlier page) loses to the one already stored.
    let mut work = s.begin_case_work().await.unwrap();
    assert!(matches!(
        work.save(change(&stored.case, 1)).await,
        Err(StoreError::VersionConflict { current: 2 })
    ));
    drop(work);
    let mut ghost = next.clone();
    ghost.id = CaseId::new();
    let mut work = s.begin_case_work().await.unwrap();
    assert_not_found(work.save(change(&ghost, 1)).await);
    drop(work);

    // A work dropped after saving leaves neither the version nor an entry behind.
    let mut work = s.begin_case_work().await.unwrap();
    work.save(change(&stored.case, 2)).await.unwrap();
    drop(work);
    let now_stored = s
        .get_case(id, draft(AuditAction::CaseRead))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((now_stored.version, &now_stored.case), (2, &next));
    let history = s
        .case_history(id, draft(AuditAction::CaseHistory))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(history.len(), 2);
    // The read and the history above are the only entries since.
    assert_eq!(head_seq(s).await, before + 2);
    assert_eq!(verify(s).await, Ok(head_seq(s).await));
}

pub async fn concurrent_case_works_take_turns(cx: Ctx) {
    let s = Arc::clone(&cx.store);
    let (_, stored) = case_world(&*s).await;
    let id = stored.case.id;
    // Each reads the case and saves on the version it read: holding the case from the read to
    // the commit, the second waits for the first and reads its version, so neither loses.
    let mut tasks = Vec::new();
    for i in 0..4 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            let mut work = s.begin_case_work().await.unwrap();
            let read = work.case(id).await.unwrap().unwrap();
            let mut next = read.case.clone();
            next.state_reason = Some(format!("turn {i}"));
            tokio::task::yield_now().await;
            work.save(change(&next, read.version)).await.unwrap();
            let action = draft(AuditAction::CaseTransition).target("case", id);
            work.commit(action, vec![]).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let history = s
        .case_history(id, draft(AuditAction::CaseHistory))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        history.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(verify(&*s).await, Ok(head_seq(&*s).await));
}

pub async fn a_case_work_sees_owners_and_parties_within_scope(cx: Ctx) {
    let s = &*cx.store;
    let (w, stored) = case_world(s).await;
    let case = &stored.case;
    let (t, c) = (case.tracing_request.unwrap(), case.custody_record.unwrap());
    let on_record = attachment(
        AttachmentOwner::Record(c),
        w.custody.id,
        &w.custody_user,
        'a',
    );
    let on_case = attachment(
        AttachmentOwner::Case(case.id),
        w.mediator.id,
        &w.custody_user,
        'b',
    );
    for a in [&on_record, &on_case] {
        s.insert_attachment(MEDIATOR_VIEW, a, draft(AuditAction::AttachmentUpload))
            .await
            .unwrap();
    }
    let before = head_seq(s).await;
    let mut work = s.begin_case_work().await.unwrap();
    assert_eq!(
        owner(&mut *work, MEDIATOR_VIEW, on_record.id).await,
        Some(AttachmentOwner::Record(c))
    );
    assert_eq!(
        owner(&mut *work, MEDIATOR_VIEW, on_case.id).await,
        Some(AttachmentOwner::Case(case.id))
    );
    // Out of scope answers like missing.
    let origin_only = records_only(Scope::OwnParty(w.origin.id));
    assert_eq!(owner(&mut *work, origin_only, on_record.id).await, None);
    assert_eq!(owner(&mut *work, origin_only, on_case.id).await, None);
    let custody_only = records_only(Scope::OwnParty(w.custody.id));
    assert_eq!(
        owner(&mut *work, custody_only, on_record.id).await,
        Some(AttachmentOwner::Record(c))
    );
    assert_eq!(
        owner(&mut *work, records_only(Scope::Nothing), on_record.id).await,
        None
    );
    assert_eq!(
        owner(&mut *work, MEDIATOR_VIEW, AttachmentId::new()).await,
        None
    );

    let mut parties = work.record_parties(&[t, c, RecordId::new()]).await.unwrap();
    parties.sort();
    let mut expected = vec![(t, w.origin.id), (c, w.custody.id)];
    expected.sort();
    assert_eq!(parties, expected);
    drop(work);
    // Reads inside a work are not audited on their own.
    assert_eq!(head_seq(s).await, before);
}

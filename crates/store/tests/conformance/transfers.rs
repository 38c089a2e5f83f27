//! Transfer lists and plans: every version kept, changes that move with their cases in one
//! transaction (or not at all), one open list per case, and reads scoped to the list's parties.

use super::*;
use homeward_domain::{
    Direction, ListEntry, ListState, Side, TransferList, TransferListEntry, TransferListId,
    TransferPlanId, TravelPlan,
};
use homeward_store::{
    StoredTransferList, StoredTransferPlan, TransferListChange, TransferListFilter,
    TransferPlanChange,
};

/// Saves a list change as a use-case does: one work, the list and its cases, the entries.
async fn save_list(
    s: &dyn Store,
    change: TransferListChange<'_>,
    cases: Vec<CaseChange<'_>>,
    audit: Vec<AuditDraft>,
) -> Result<StoredTransferList, StoreError> {
    let mut work = s.begin_transfer_work().await?;
    let saved = work.save_list(change).await?;
    for c in cases {
        work.save(c).await?;
    }
    let mut audit = audit.into_iter();
    let action = audit.next().expect("an action");
    work.commit(action, audit.collect()).await?;
    Ok(saved)
}

/// Saves a plan change as a use-case does (as [`save_list`]).
async fn save_plan(
    s: &dyn Store,
    change: TransferPlanChange<'_>,
    cases: Vec<CaseChange<'_>>,
    audit: Vec<AuditDraft>,
) -> Result<StoredTransferPlan, StoreError> {
    let mut work = s.begin_transfer_work().await?;
    let saved = work.save_plan(change).await?;
    for c in cases {
        work.save(c).await?;
    }
    let mut audit = audit.into_iter();
    let action = audit.next().expect("an action");
    work.commit(action, audit.collect()).await?;
    Ok(saved)
}

async fn insert_plan(
    s: &dyn Store,
    plan: &TravelPlan,
    audit: AuditDraft,
) -> Result<StoredTransferPlan, StoreError> {
    let mut work = s.begin_transfer_work().await?;
    let saved = work.insert_plan(plan).await?;
    work.commit(audit, vec![]).await?;
    Ok(saved)
}

async fn open_list_of(s: &dyn Store, case: CaseId) -> Option<TransferListId> {
    let mut work = s.begin_transfer_work().await.unwrap();
    work.open_list_of_case(case).await.unwrap()
}

fn new_list(w: &World, round: &str) -> TransferList {
    TransferList::new(
        TransferListId::new(),
        round,
        w.origin.id,
        w.custody.id,
        UserId::new(),
        now(),
    )
    .unwrap()
}

fn entry_of(case: &Case) -> TransferListEntry {
    TransferListEntry {
        case_id: case.id,
        tracing_request: case.tracing_request.unwrap(),
        custody_record: case.custody_record.unwrap(),
        direction: Direction::ToOrigin,
        added_at: now(),
        added_by: UserId::new(),
        withdrawal: None,
    }
}

fn list_change(list: &TransferList, expected_version: i64) -> TransferListChange<'_> {
    TransferListChange {
        list,
        expected_version,
        change: "test",
        by: UserId::new(),
        at: now(),
    }
}

fn case_change(case: &Case, expected_version: i64) -> CaseChange<'_> {
    CaseChange {
        case,
        expected_version,
        change: "listing",
        by: UserId::new(),
        at: now(),
    }
}

async fn case_now(s: &dyn Store, id: CaseId) -> StoredCase {
    s.get_case(id, draft(AuditAction::CaseRead))
        .await
        .unwrap()
        .unwrap()
}

pub async fn transfer_lists_keep_every_version_and_void_with_their_cases(cx: Ctx) {
    let s = &*cx.store;
    let (w, stored) = case_world(s).await;
    let mut list = new_list(&w, "Round 1");
    let created = s
        .insert_transfer_list(&list, draft(AuditAction::TransferListCreate))
        .await
        .unwrap();
    assert_eq!((created.version, &created.list), (1, &list));

    list.add_entry(entry_of(&stored.case), now()).unwrap();
    list.propose().unwrap();
    save_list(
        s,
        list_change(&list, 1),
        vec![],
        vec![draft(AuditAction::TransferListChange)],
    )
    .await
    .unwrap();
    let proposed_hash = list.hash();
    for side in [Side::Origin, Side::Custody] {
        list.approve(side, &proposed_hash, UserId::new(), now())
            .unwrap();
    }
    assert_eq!(list.state, ListState::Approved);
    // The approval and the case's reference to it are stored together.
    let mut case = stored.case.clone();
    case.listing = list.case_listing(case.id);
    let approved = save_list(
        s,
        list_change(&list, 2),
        vec![case_change(&case, stored.version)],
        vec![
            draft(AuditAction::TransferListApprove),
            draft(AuditAction::CaseListing),
        ],
    )
    .await
    .unwrap();
    assert_eq!(approved.version, 3);
    let listed = case_now(s, case.id).await;
    assert_eq!(listed.version, stored.version + 1);
    assert!(
        listed
            .case
            .listing
            .as_ref()
            .unwrap()
            .custody_approved_at
            .is_some()
    );

    // A change voids both approvals, and clears them on the case in the same transaction.
    let decided_on = list.clone();
    list.withdraw_entry(case.id, "fever", UserId::new(), now())
        .unwrap();
    list.add_entry(entry_of(&stored.case), now()).unwrap();
    assert_eq!(list.hash(), proposed_hash, "same content, same hash");
    assert!(list.approvals.is_empty());
    let mut cleared = listed.case.clone();
    cleared.listing = list.case_listing(case.id);
    assert_eq!(
        cleared.listing,
        Some(ListEntry {
            list_ref: list.id.to_string(),
            origin_approved_at: None,
            custody_approved_at: None
        })
    );
    save_list(
        s,
        list_change(&list, 3),
        vec![case_change(&cleared, listed.version)],
        vec![draft(AuditAction::TransferListChange)],
    )
    .await
    .unwrap();
    assert_eq!(case_now(s, case.id).await.case.listing, cleared.listing);

    // A change decided on the old version (e.g. fixing what was approved) loses, and the case
    // change that came with it is not applied either.
    let mut stale = decided_on.clone();
    stale.fix().unwrap();
    let mut case_again = listed.case.clone();
    case_again.state = CaseState::Listed;
    let err = save_list(
        s,
        list_change(&stale, 3),
        vec![case_change(&case_again, listed.version + 1)],
        vec![draft(AuditAction::TransferListChange)],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, StoreError::VersionConflict { current: 4 }),
        "{err:?}"
    );
    assert_eq!(case_now(s, case.id).await.case.state, stored.case.state);
    // A stale case version undoes the whole change too.
    let err = save_list(
        s,
        list_change(&list, 4),
        vec![case_change(&case_again, listed.version)],
        vec![draft(AuditAction::TransferListChange)],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict { .. }), "{err:?}");

    let versions = s
        .transfer_list_versions(list.id, None, draft(AuditAction::TransferListRead))
        .await
        .unwrap()
        .unwrap();
    let numbers: Vec<i64> = versions.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [1, 2, 3, 4]);
    assert_eq!(versions[0].change, "create");
    assert_eq!(versions[2].list.approvals.len(), 2);
    assert_eq!(versions[3].list, list);
    assert_eq!(versions[3].list.voided_approvals.len(), 2);
    assert_eq!(verify(s).await, Ok(head_seq(s).await));
}

pub async fn a_case_is_on_one_open_list(cx: Ctx) {
    let s = &*cx.store;
    let (w, stored) = case_world(s).await;
    let mut first = new_list(&w, "Round 1");
    first.add_entry(entry_of(&stored.case), now()).unwrap();
    s.insert_transfer_list(&first, draft(AuditAction::TransferListCreate))
        .await
        .unwrap();
    assert_eq!(open_list_of(s, stored.case.id).await, Some(first.id));

    let mut second = new_list(&w, "Round 2");
    s.insert_transfer_list(&second, draft(AuditAction::TransferListCreate))
        .await
        .unwrap();
    second.add_entry(entry_of(&stored.case), now()).unwrap();
    let err = save_list(
        s,
        list_change(&second, 1),
        vec![],
        vec![draft(AuditAction::TransferListChange)],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(Conflict::CaseOnAnotherList)),
        "{err:?}"
    );
    // Withdrawn from the first list, the child may go on the second.
    first
        .withdraw_entry(stored.case.id, "next round", UserId::new(), now())
        .unwrap();
    save_list(
        s,
        list_change(&first, 1),
        vec![],
        vec![draft(AuditAction::TransferListChange)],
    )
    .await
    .unwrap();
    assert_eq!(open_list_of(s, stored.case.id).await, None);
    save_list(
        s,
        list_change(&second, 1),
        vec![],
        vec![draft(AuditAction::TransferListChange)],
    )
    .await
    .unwrap();
    assert_eq!(open_list_of(s, stored.case.id).await, Some(second.id));

    // A list between parties that do not exist is refused.
    let mut orphan = new_list(&w, "Round 3");
    orphan.custody_party = PartyId::new();
    assert!(matches!(
        s.insert_transfer_list(&orphan, draft(AuditAction::TransferListCreate))
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn transfer_list_reads_are_scoped_to_its_parties(cx: Ctx) {
    let s = &*cx.store;
    let (w, stored) = case_world(s).await;
    let outsider = party(s, PartyKind::Origin, "Another ombudsman").await;
    let mut list = new_list(&w, "Round 1");
    list.add_entry(entry_of(&stored.case), now()).unwrap();
    s.insert_transfer_list(&list, draft(AuditAction::TransferListCreate))
        .await
        .unwrap();
    let before = head_seq(s).await;
    for p in [None, Some(w.origin.id), Some(w.custody.id)] {
        let got = s
            .get_transfer_list(list.id, p, draft(AuditAction::TransferListRead))
            .await
            .unwrap();
        assert_eq!(got.unwrap().list, list);
        assert!(
            s.transfer_list_versions(list.id, p, draft(AuditAction::TransferListRead))
                .await
                .unwrap()
                .is_some()
        );
    }
    assert_eq!(head_seq(s).await, before + 6, "every read is audited");
    for p in [Some(outsider.id), Some(w.mediator.id)] {
        assert_eq!(
            s.get_transfer_list(list.id, p, draft(AuditAction::TransferListRead))
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            s.transfer_list_versions(list.id, p, draft(AuditAction::TransferListRead))
                .await
                .unwrap(),
            None
        );
    }
    assert_eq!(head_seq(s).await, before + 6, "a miss is not audited");
    let lists = |party, state| async move {
        s.list_transfer_lists(
            &TransferListFilter {
                party,
                state,
                limit: 0,
            },
            draft(AuditAction::TransferListList),
        )
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.list.id)
        .collect::<Vec<_>>()
    };
    assert_eq!(lists(Some(w.custody.id), None).await, [list.id]);
    assert_eq!(lists(None, Some(ListState::Draft)).await, [list.id]);
    assert!(lists(Some(outsider.id), None).await.is_empty());
    assert!(lists(None, Some(ListState::Fixed)).await.is_empty());
    let last = all_entries(s).await.pop().unwrap();
    assert_eq!(last.action, AuditAction::TransferListList.code());
    assert!(
        last.details.contains("transfer_list_ids"),
        "{}",
        last.details
    );
}

pub async fn transfer_plans_move_with_their_cases(cx: Ctx) {
    let s = &*cx.store;
    let (w, stored) = case_world(s).await;
    let list = new_list(&w, "Round 1");
    s.insert_transfer_list(&list, draft(AuditAction::TransferListCreate))
        .await
        .unwrap();
    let mut plan = TravelPlan::new(
        TransferPlanId::new(),
        list.id,
        vec![stored.case.id],
        UserId::new(),
        now(),
    )
    .unwrap();
    let created = insert_plan(s, &plan, draft(AuditAction::TransferPlanCreate))
        .await
        .unwrap();
    assert_eq!((created.version, &created.plan), (1, &plan));
    let other = TravelPlan::new(
        TransferPlanId::new(),
        list.id,
        vec![stored.case.id],
        UserId::new(),
        now(),
    )
    .unwrap();
    let err = insert_plan(s, &other, draft(AuditAction::TransferPlanCreate))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(Conflict::CaseOnAnotherPlan)),
        "{err:?}"
    );

    plan.approval = Some(homeward_domain::PlanApproval {
        by: UserId::new(),
        at: now(),
    });
    let mut case = stored.case.clone();
    case.transfer_plan = Some(plan.case_plan());
    let change = |plan| TransferPlanChange {
        plan,
        expected_version: 1,
        at: now(),
    };
    let updated = save_plan(
        s,
        change(&plan),
        vec![case_change(&case, stored.version)],
        vec![draft(AuditAction::TransferPlanApprove)],
    )
    .await
    .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(
        case_now(s, case.id).await.case.transfer_plan,
        case.transfer_plan
    );
    let err = save_plan(
        s,
        change(&plan),
        vec![],
        vec![draft(AuditAction::TransferPlanChange)],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, StoreError::VersionConflict { current: 2 }),
        "{err:?}"
    );
    let got = s
        .get_transfer_plan(plan.id, draft(AuditAction::TransferPlanRead))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.plan, plan);
    assert_eq!(
        s.get_transfer_plan(TransferPlanId::new(), draft(AuditAction::TransferPlanRead))
            .await
            .unwrap(),
        None
    );
}

pub async fn a_transfer_work_reads_saves_and_audits_once(cx: Ctx) {
    let s = &*cx.store;
    let (w, stored) = case_world(s).await;
    let outsider = party(s, PartyKind::Origin, "Another ombudsman").await;
    let list = new_list(&w, "Round 1");
    s.insert_transfer_list(&list, draft(AuditAction::TransferListCreate))
        .await
        .unwrap();
    let before = head_seq(s).await;

    let mut work = s.begin_transfer_work().await.unwrap();
    let read = work.transfer_list(list.id, None).await.unwrap().unwrap();
    assert_eq!((read.version, &read.list), (1, &list));
    let custody = work.transfer_list(list.id, Some(w.custody.id)).await;
    assert_eq!(custody.unwrap().unwrap().list, list);
    // A party not on the list reads it like a list that does not exist.
    let outside = work.transfer_list(list.id, Some(outsider.id)).await;
    assert!(outside.unwrap().is_none());
    let missing = work.transfer_list(TransferListId::new(), None).await;
    assert!(missing.unwrap().is_none());
    let case = work.case(stored.case.id).await.unwrap().unwrap();
    let mut next = read.list.clone();
    next.add_entry(entry_of(&case.case), now()).unwrap();
    let mut listed = case.case.clone();
    listed.listing = next.case_listing(listed.id);
    let saved = work.save_list(list_change(&next, 1)).await.unwrap();
    assert_eq!((saved.version, &saved.list), (2, &next));
    work.save(case_change(&listed, case.version)).await.unwrap();
    // Inside the work the list reads as saved, and the case is on it.
    let again = work.transfer_list(list.id, None).await.unwrap().unwrap();
    assert_eq!(again.version, 2);
    let on = work.open_list_of_case(listed.id).await.unwrap();
    assert_eq!(on, Some(list.id));
    let action = draft(AuditAction::TransferListChange).target("transfer_list", list.id);
    let listing = draft(AuditAction::CaseListing).target("case", listed.id);
    work.commit(action, vec![listing]).await.unwrap();

    // The action and its consequence on the case, nothing for the reads; the case's rows are
    // hashed under the case's entry.
    assert_eq!(head_seq(s).await, before + 2);
    let last = all_entries(s).await.pop().unwrap();
    assert_eq!(last.action, AuditAction::CaseListing.code());
    let row = format!("case_version/{}/{}", listed.id, case.version + 1);
    assert!(last.details.contains(&row), "{}", last.details);
    assert_eq!(case_now(s, listed.id).await.case.listing, listed.listing);

    // A work dropped after saving leaves neither the version nor an entry behind.
    let mut work = s.begin_transfer_work().await.unwrap();
    let mut removed = next.clone();
    removed.remove_entry(listed.id).unwrap();
    work.save_list(list_change(&removed, 2)).await.unwrap();
    drop(work);
    assert_eq!(open_list_of(s, listed.id).await, Some(list.id));
    let now_stored = s
        .get_transfer_list(list.id, None, draft(AuditAction::TransferListRead))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((now_stored.version, &now_stored.list), (2, &next));
    // The read above (and the case read) are the only entries since.
    assert_eq!(head_seq(s).await, before + 4);
    assert_eq!(verify(s).await, Ok(head_seq(s).await));
    assert!(super::rowhash::rows_match_chain(s).await.is_ok());
}

pub async fn concurrent_transfer_works_take_turns(cx: Ctx) {
    let s = Arc::clone(&cx.store);
    let (w, stored) = case_world(&*s).await;
    let list = new_list(&w, "Round 1");
    s.insert_transfer_list(&list, draft(AuditAction::TransferListCreate))
        .await
        .unwrap();
    let plan = TravelPlan::new(
        TransferPlanId::new(),
        list.id,
        vec![stored.case.id],
        UserId::new(),
        now(),
    )
    .unwrap();
    insert_plan(&*s, &plan, draft(AuditAction::TransferPlanCreate))
        .await
        .unwrap();
    // Each reads the list (then the plan) and saves on the version it read: holding the row from
    // the read to the commit, the second waits for the first and reads its version.
    let mut tasks = Vec::new();
    for i in 0..4 {
        let s = Arc::clone(&s);
        let (list_id, plan_id) = (list.id, plan.id);
        tasks.push(tokio::spawn(async move {
            let mut work = s.begin_transfer_work().await.unwrap();
            let read = work.transfer_list(list_id, None).await.unwrap().unwrap();
            let mut next = read.list.clone();
            next.round = format!("Round 1, turn {i}");
            tokio::task::yield_now().await;
            work.save_list(list_change(&next, read.version))
                .await
                .unwrap();
            work.commit(draft(AuditAction::TransferListChange), vec![])
                .await
                .unwrap();

            let mut work = s.begin_transfer_work().await.unwrap();
            let read = work.transfer_plan(plan_id).await.unwrap().unwrap();
            tokio::task::yield_now().await;
            let change = TransferPlanChange {
                plan: &read.plan,
                expected_version: read.version,
                at: now(),
            };
            work.save_plan(change).await.unwrap();
            work.commit(draft(AuditAction::TransferPlanChange), vec![])
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let versions = s
        .transfer_list_versions(list.id, None, draft(AuditAction::TransferListRead))
        .await
        .unwrap()
        .unwrap();
    let numbers: Vec<i64> = versions.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
    let plan_now = s
        .get_transfer_plan(plan.id, draft(AuditAction::TransferPlanRead))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(plan_now.version, 5);
    assert_eq!(verify(&*s).await, Ok(head_seq(&*s).await));
}

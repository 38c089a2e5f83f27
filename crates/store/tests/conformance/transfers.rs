//! Transfer lists and plans: every version kept, changes that move with their cases in one
//! transaction (or not at all), one open list per case, and reads scoped to the list's parties.

use super::*;
use homeward_domain::{
    Direction, ListEntry, ListState, Side, TransferList, TransferListEntry, TransferListId,
    TransferPlanId, TravelPlan,
};
use homeward_store::{TransferListChange, TransferListFilter, TransferPlanChange};

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
    s.update_transfer_list(
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
    let approved = s
        .update_transfer_list(
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
    s.update_transfer_list(
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
    let err = s
        .update_transfer_list(
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
    let err = s
        .update_transfer_list(
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
    assert_eq!(
        s.open_list_of_case(stored.case.id).await.unwrap(),
        Some(first.id)
    );

    let mut second = new_list(&w, "Round 2");
    s.insert_transfer_list(&second, draft(AuditAction::TransferListCreate))
        .await
        .unwrap();
    second.add_entry(entry_of(&stored.case), now()).unwrap();
    let err = s
        .update_transfer_list(
            list_change(&second, 1),
            vec![],
            vec![draft(AuditAction::TransferListChange)],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(what) if what == "case on another open list"),
        "{err:?}"
    );
    // Withdrawn from the first list, the child may go on the second.
    first
        .withdraw_entry(stored.case.id, "next round", UserId::new(), now())
        .unwrap();
    s.update_transfer_list(
        list_change(&first, 1),
        vec![],
        vec![draft(AuditAction::TransferListChange)],
    )
    .await
    .unwrap();
    assert_eq!(s.open_list_of_case(stored.case.id).await.unwrap(), None);
    s.update_transfer_list(
        list_change(&second, 1),
        vec![],
        vec![draft(AuditAction::TransferListChange)],
    )
    .await
    .unwrap();
    assert_eq!(
        s.open_list_of_case(stored.case.id).await.unwrap(),
        Some(second.id)
    );

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
    let created = s
        .insert_transfer_plan(&plan, draft(AuditAction::TransferPlanCreate))
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
    let err = s
        .insert_transfer_plan(&other, draft(AuditAction::TransferPlanCreate))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(what) if what == "case on another plan"),
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
    let updated = s
        .update_transfer_plan(
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
    let err = s
        .update_transfer_plan(
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

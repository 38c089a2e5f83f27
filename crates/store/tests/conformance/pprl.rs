//! Privacy-preserving linkage: the lists of a round share one key (checked inside the upload's
//! transaction), a run enqueues its job with it and stores its pairs once, and a pair changes only
//! from the state it was decided on, becoming one candidate in the review queue.

use super::*;
use homeward_domain::pprl::PairState;
use homeward_store::pprl::{
    PPRL_LINK, PairCandidate, PairChange, PprlList, PprlRun, pprl_link_key,
};
use homeward_store::{JobState, NewJob};
use uuid::Uuid;

fn list(party: &Party, by: &User, round: &str, key: &str) -> PprlList {
    PprlList {
        id: Uuid::now_v7(),
        party_id: party.id,
        round: round.to_owned(),
        spec: "homeward-pprl/1".to_owned(),
        key_id: key.to_owned(),
        records: 60,
        sha256: "ab".repeat(32),
        created_by: by.id,
        created_at: now(),
    }
}

fn upload_audit(l: &PprlList) -> AuditDraft {
    draft(AuditAction::PprlListUpload).target("pprl_list", l.id)
}

/// A finished run of two lists, with pairs `(TR-i, CR-i)` for each `i` given.
async fn finished_run(s: &dyn Store, w: &World, pairs: &[usize]) -> (PprlRun, PprlList, PprlList) {
    let o = list(&w.origin, &w.origin_user, "r", "k1");
    let c = list(&w.custody, &w.custody_user, "r", "k1");
    for l in [&o, &c] {
        assert_eq!(
            s.insert_pprl_list(l, "{}", upload_audit(l)).await.unwrap(),
            None
        );
    }
    let run = PprlRun {
        id: Uuid::now_v7(),
        round: "r".to_owned(),
        origin_list: o.id,
        custody_list: c.id,
        created_by: w.origin_user.id,
        created_at: now(),
        finished_at: None,
        pairs: None,
    };
    let job = NewJob::new(
        PPRL_LINK,
        json!({ "run": run.id }),
        Some(pprl_link_key(run.id)),
    );
    s.insert_pprl_run(&run, &job, draft(AuditAction::PprlRunCreate))
        .await
        .unwrap();
    let mapping: Vec<(String, String)> = pairs
        .iter()
        .map(|i| (format!("TR-{i}"), format!("CR-{i}")))
        .collect();
    assert!(
        s.finish_pprl_run(run.id, &mapping, now(), draft(AuditAction::PprlRunFinish))
            .await
            .unwrap()
    );
    (run, o, c)
}

pub async fn pprl_lists_of_a_round_share_one_key(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let first = list(&w.origin, &w.origin_user, "2026-12", "k1");
    assert_eq!(
        s.insert_pprl_list(&first, "{\"records\": []}", upload_audit(&first))
            .await
            .unwrap(),
        None
    );
    let head = s.audit_head().await.unwrap();
    let other_key = list(&w.custody, &w.custody_user, "2026-12", "k2");
    assert_eq!(
        s.insert_pprl_list(&other_key, "{}", upload_audit(&other_key))
            .await
            .unwrap(),
        Some(("homeward-pprl/1".to_owned(), "k1".to_owned()))
    );
    // Refused: nothing written, not even its audit entry.
    assert_eq!(s.get_pprl_list(other_key.id).await.unwrap(), None);
    assert_eq!(s.audit_head().await.unwrap(), head);
    // Another round may use another key; the same round the same key.
    let next_round = list(&w.custody, &w.custody_user, "2027-01", "k2");
    let same_key = list(&w.custody, &w.custody_user, "2026-12", "k1");
    for l in [&next_round, &same_key] {
        assert_eq!(
            s.insert_pprl_list(l, "{}", upload_audit(l)).await.unwrap(),
            None
        );
    }
    assert_eq!(
        s.get_pprl_list(first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        s.pprl_list_content(first.id).await.unwrap().as_deref(),
        Some("{\"records\": []}")
    );
    let own: Vec<Uuid> = s
        .list_pprl_lists(Some(w.custody.id))
        .await
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(
        own,
        [same_key.id, next_round.id],
        "newest first, custody's only"
    );
    assert_eq!(s.list_pprl_lists(None).await.unwrap().len(), 3);
}

pub async fn a_pprl_run_enqueues_its_job_and_stores_its_pairs_once(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let (run, o, c) = finished_run(s, &w, &[1, 2, 3]).await;
    let job = s.job_by_key(&pprl_link_key(run.id)).await.unwrap().unwrap();
    assert_eq!(
        (job.kind.as_str(), job.state),
        (PPRL_LINK, JobState::Queued)
    );
    let stored = s.get_pprl_run(run.id).await.unwrap().unwrap();
    assert_eq!(stored.pairs, Some(3));
    assert!(stored.finished_at.is_some());
    // A job run twice stores its pairs once.
    let again = vec![("TR-9".to_owned(), "CR-9".to_owned())];
    assert!(
        !s.finish_pprl_run(run.id, &again, now(), draft(AuditAction::PprlRunFinish))
            .await
            .unwrap()
    );
    let pairs = s
        .pprl_pairs_of_run(run.id, draft(AuditAction::PprlPairsRead))
        .await
        .unwrap();
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|p| (p.origin_ref.as_str(), p.custody_ref.as_str()))
        .collect();
    assert_eq!(refs, [("TR-1", "CR-1"), ("TR-2", "CR-2"), ("TR-3", "CR-3")]);
    assert!(pairs.iter().all(|p| p.state == PairState::Proposed));
    for l in [o.id, c.id] {
        let of_list = s
            .pprl_pairs_of_list(l, draft(AuditAction::PprlReferencesRead))
            .await
            .unwrap();
        assert_eq!(of_list.len(), 3);
    }
    let unrelated = s
        .pprl_pairs_of_list(Uuid::now_v7(), draft(AuditAction::PprlReferencesRead))
        .await
        .unwrap();
    assert!(unrelated.is_empty());
    // The reads were audited.
    let reads = s
        .audit_entries(&AuditFilter {
            action: Some("pprl.references_read".to_owned()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(reads.len(), 3);
    assert_eq!(s.list_pprl_runs().await.unwrap().len(), 1);
}

pub async fn a_pprl_pair_moves_only_from_its_state_and_becomes_one_candidate(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let (run, _, _) = finished_run(s, &w, &[1, 2]).await;
    let pairs = s
        .pprl_pairs_of_run(run.id, draft(AuditAction::PprlPairsRead))
        .await
        .unwrap();
    let change = |id, expected, state, o: Option<RecordId>, c: Option<RecordId>| PairChange {
        id,
        expected,
        state,
        origin_record: o,
        custody_record: c,
        at: now(),
    };
    let requests: Vec<PairChange> = pairs
        .iter()
        .map(|p| change(p.id, PairState::Proposed, PairState::Requested, None, None))
        .collect();
    s.change_pprl_pairs(&requests, None, vec![draft(AuditAction::PprlRequest)])
        .await
        .unwrap();
    // The same change again is stale: refused, and the other change of the batch not applied.
    let head = s.audit_head().await.unwrap();
    let stale = [
        change(
            pairs[1].id,
            PairState::Requested,
            PairState::Declined,
            None,
            None,
        ),
        change(
            pairs[0].id,
            PairState::Proposed,
            PairState::Requested,
            None,
            None,
        ),
    ];
    let e = s
        .change_pprl_pairs(&stale, None, vec![draft(AuditAction::PprlDecline)])
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict(Conflict::PprlPairChanged)),
        "{e:?}"
    );
    assert_eq!(s.audit_head().await.unwrap(), head);
    assert_eq!(
        s.get_pprl_pair(pairs[1].id).await.unwrap().unwrap().state,
        PairState::Requested
    );

    let t = new_record(
        &w.origin,
        &w.origin_user,
        content(
            RecordKind::TracingRequest,
            "Олена Шевчук",
            "f",
            Some("2014"),
            None,
        ),
    );
    let c = new_record(
        &w.custody,
        &w.custody_user,
        content(
            RecordKind::CustodyRecord,
            "Елена Шевчук",
            "f",
            Some("2014"),
            None,
        ),
    );
    insert(s, &[t.clone(), c.clone()]).await;
    let (t, c) = (t.record.id, c.record.id);
    s.change_pprl_pairs(
        &[change(
            pairs[0].id,
            PairState::Requested,
            PairState::OriginAnswered,
            Some(t),
            None,
        )],
        None,
        vec![draft(AuditAction::PprlAnswer)],
    )
    .await
    .unwrap();
    let pc = |pair: Uuid| PairCandidate {
        pair,
        candidate: candidate(t, c, 0.93),
        audit: draft(AuditAction::MatchCandidateCreate),
    };
    let first = s
        .change_pprl_pairs(
            &[change(
                pairs[0].id,
                PairState::OriginAnswered,
                PairState::InReview,
                None,
                Some(c),
            )],
            Some(pc(pairs[0].id)),
            vec![draft(AuditAction::PprlAnswer)],
        )
        .await
        .unwrap()
        .unwrap();
    let stored = s.get_pprl_pair(pairs[0].id).await.unwrap().unwrap();
    assert_eq!(
        (
            stored.state,
            stored.origin_record,
            stored.custody_record,
            stored.match_id
        ),
        (PairState::InReview, Some(t), Some(c), Some(first))
    );
    let queued = s
        .get_candidate(first, draft(AuditAction::MatchRead))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((queued.tracing_record_id, queued.custody_record_id), (t, c));
    assert_eq!(queued.status, CandidateStatus::Pending);
    // The same two records through another pair: the candidate stored once, its entry once.
    let created = |s: &'static str| AuditFilter {
        action: Some(s.to_owned()),
        ..AuditFilter::default()
    };
    let before = s
        .audit_entries(&created("match.candidate_create"))
        .await
        .unwrap()
        .len();
    let second = s
        .change_pprl_pairs(
            &[change(
                pairs[1].id,
                PairState::Requested,
                PairState::InReview,
                Some(t),
                Some(c),
            )],
            Some(pc(pairs[1].id)),
            vec![draft(AuditAction::PprlAnswer)],
        )
        .await
        .unwrap();
    assert_eq!(second, Some(first));
    let after = s
        .audit_entries(&created("match.candidate_create"))
        .await
        .unwrap()
        .len();
    assert_eq!(before, after);
}

//! Audited reads commit their entries in groups (issue 19): every read's entry reaches the one
//! chain, and a read whose entry cannot be committed returns an error, never the data.

use super::*;

/// Makes the database refuse audit entries whose details contain `marker` ('' refuses all).
async fn refuse_entries(url: &str, marker: &str) {
    if url.starts_with("sqlite:") {
        raw_sql(
            url,
            &format!(
                "CREATE TRIGGER refuse_entries BEFORE INSERT ON audit_log \
                 WHEN NEW.details LIKE '%{marker}%' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            ),
        )
        .await;
    } else {
        raw_sql(
            url,
            &format!(
                "CREATE OR REPLACE FUNCTION refuse_entries() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.details LIKE '%{marker}%' THEN RAISE EXCEPTION 'refused'; END IF; \
                 RETURN NEW; END $$"
            ),
        )
        .await;
        raw_sql(
            url,
            "CREATE TRIGGER refuse_entries BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION refuse_entries()",
        )
        .await;
    }
}

async fn accept_entries_again(url: &str) {
    if url.starts_with("sqlite:") {
        raw_sql(url, "DROP TRIGGER refuse_entries").await;
    } else {
        raw_sql(url, "DROP TRIGGER refuse_entries ON audit_log").await;
    }
}

fn read_draft(task: usize, i: usize, tag: &str) -> AuditDraft {
    AuditDraft::new(AuditAction::RecordRead).details(json!({"task": task, "i": i, "tag": tag}))
}

/// Reads (by id and as lists) from many tasks at once; `poisoned` says which of them carry an
/// entry the database will refuse. Returns, per task and read, whether the read succeeded.
async fn concurrent_reads(
    s: &Arc<dyn Store>,
    id: RecordId,
    tasks: usize,
    reads: usize,
    poisoned: fn(usize, usize) -> bool,
) -> Vec<(usize, usize, bool)> {
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let s = Arc::clone(s);
            tokio::spawn(async move {
                let mut out = Vec::new();
                for i in 0..reads {
                    let tag = if poisoned(task, i) { "poison" } else { "fine" };
                    let ok = if i % 2 == 0 {
                        match s
                            .get_record(Scope::AllSubmitted, id, read_draft(task, i, tag))
                            .await
                        {
                            Ok(found) => {
                                assert_eq!(found.map(|r| r.id), Some(id), "the record is returned");
                                true
                            }
                            Err(_) => false,
                        }
                    } else {
                        match s
                            .list_records(Scope::AllSubmitted, &filter(), read_draft(task, i, tag))
                            .await
                        {
                            Ok(found) => {
                                assert_eq!(found.len(), 1, "the list is returned");
                                true
                            }
                            Err(_) => false,
                        }
                    };
                    out.push((task, i, ok));
                }
                out
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    all
}

/// The (task, i) of each read entry on the chain after `before`, in chain order.
async fn read_entries_after(s: &dyn Store, before: i64) -> Vec<(usize, usize)> {
    all_entries(s)
        .await
        .into_iter()
        .filter(|e| e.seq > before)
        .map(|e| {
            let d: serde_json::Value = serde_json::from_str(&e.details).unwrap();
            (
                d["task"].as_u64().unwrap() as usize,
                d["i"].as_u64().unwrap() as usize,
            )
        })
        .collect()
}

async fn one_record(s: &dyn Store) -> RecordId {
    let w = world(s).await;
    let rec = new_record(
        &w.origin,
        &w.origin_user,
        content(RecordKind::TracingRequest, "Anna", "f", None, None),
    );
    insert(s, std::slice::from_ref(&rec)).await;
    rec.record.id
}

pub async fn concurrent_audited_reads_all_reach_one_verifiable_chain(cx: Ctx) {
    let s = &cx.store;
    let id = one_record(&**s).await;
    let before = head_seq(&**s).await;
    let (tasks, reads) = (48, 12);
    let results = concurrent_reads(s, id, tasks, reads, |_, _| false).await;
    assert!(results.iter().all(|r| r.2), "every read succeeded");

    let mut on_chain = read_entries_after(&**s, before).await;
    assert_eq!(on_chain.len(), tasks * reads, "one entry per read");
    // Each task's entries are in the order it read (it waited for each before the next).
    for task in 0..tasks {
        let mine: Vec<usize> = on_chain
            .iter()
            .filter(|e| e.0 == task)
            .map(|e| e.1)
            .collect();
        assert_eq!(mine, (0..reads).collect::<Vec<_>>());
    }
    on_chain.sort_unstable();
    on_chain.dedup();
    assert_eq!(on_chain.len(), tasks * reads, "no entry twice");
    assert_eq!(
        verify(&**s).await,
        Ok(before + (tasks * reads) as i64),
        "the chain verifies"
    );
}

pub async fn a_refused_audit_commit_fails_its_reads(cx: Ctx) {
    let s = &cx.store;
    let id = one_record(&**s).await;
    let before = head_seq(&**s).await;

    // Every entry refused: every read fails and nothing reaches the chain.
    refuse_entries(&cx.url, "").await;
    let results = concurrent_reads(s, id, 16, 4, |_, _| false).await;
    assert!(results.iter().all(|r| !r.2), "no read returned data");
    assert_eq!(head_seq(&**s).await, before);
    accept_entries_again(&cx.url).await;

    // Some entries refused: exactly those reads fail, the others (committed in the same groups
    // or after them) succeed and are on the chain.
    refuse_entries(&cx.url, "poison").await;
    let poisoned = |task: usize, i: usize| (task + i).is_multiple_of(3);
    let results = concurrent_reads(s, id, 16, 6, poisoned).await;
    for (task, i, ok) in &results {
        assert_eq!(*ok, !poisoned(*task, *i), "read {i} of task {task}");
    }
    accept_entries_again(&cx.url).await;
    let mut expected: Vec<(usize, usize)> =
        results.iter().filter(|r| r.2).map(|r| (r.0, r.1)).collect();
    expected.sort_unstable();
    let mut on_chain = read_entries_after(&**s, before).await;
    on_chain.sort_unstable();
    assert_eq!(on_chain, expected);
    assert!(verify(&**s).await.is_ok());
}

/// Filings from many tasks at once (on SQLite they share commits, each in its own savepoint):
/// a filing that breaks a rule (a record id already taken) or whose audit entry is refused fails
/// alone; every other one is stored with its entry, and the chain verifies.
pub async fn concurrent_filings_fail_alone_and_the_rest_are_stored(cx: Ctx) {
    let s = &cx.store;
    let w = Arc::new(world(&**s).await);
    let taken = new_record(
        &w.origin,
        &w.origin_user,
        content(RecordKind::TracingRequest, "Anna", "f", None, None),
    );
    insert(&**s, std::slice::from_ref(&taken)).await;
    refuse_entries(&cx.url, "poison").await;
    let before = head_seq(&**s).await;
    let (tasks, filings) = (32, 6);
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let (s, w, taken) = (Arc::clone(s), Arc::clone(&w), taken.record.id);
            tokio::spawn(async move {
                let mut out = Vec::new();
                for i in 0..filings {
                    let mut rec = new_record(
                        &w.origin,
                        &w.origin_user,
                        content(
                            RecordKind::TracingRequest,
                            &format!("Child {task} {i}"),
                            "m",
                            None,
                            None,
                        ),
                    );
                    let fate = (task * filings + i) % 5;
                    if fate == 1 {
                        rec.record.id = taken;
                    }
                    let tag = if fate == 2 { "poison" } else { "fine" };
                    let audit = vec![
                        draft(AuditAction::RecordCreate)
                            .target("record", rec.record.id)
                            .details(json!({"task": task, "i": i, "tag": tag})),
                    ];
                    let ok = s
                        .insert_records(std::slice::from_ref(&rec), audit, &no_progress)
                        .await
                        .is_ok();
                    assert_eq!(ok, fate != 1 && fate != 2, "filing {i} of task {task}");
                    out.push((task, i, rec.record.id, ok, fate));
                }
                out
            })
        })
        .collect();
    let mut filed = Vec::new();
    for h in handles {
        filed.extend(h.await.unwrap());
    }
    accept_entries_again(&cx.url).await;
    let stored: Vec<_> = filed.iter().filter(|f| f.3).collect();
    assert!(!stored.is_empty() && stored.len() < filed.len());
    let mut on_chain = read_entries_after(&**s, before).await;
    on_chain.sort_unstable();
    let mut expected: Vec<(usize, usize)> = stored.iter().map(|r| (r.0, r.1)).collect();
    expected.sort_unstable();
    assert_eq!(
        on_chain, expected,
        "an entry for each stored filing, none for the others"
    );
    for (_, _, id, ok, fate) in &filed {
        let found = s
            .get_record(Scope::AllSubmitted, *id, draft(AuditAction::RecordRead))
            .await
            .unwrap();
        // A refused entry took its record with it; a taken id still names the first record.
        if *fate != 1 {
            assert_eq!(found.is_some(), *ok, "record {id}");
        } else {
            assert_eq!(
                found.map(|r| r.version),
                Some(1),
                "the first record is untouched"
            );
        }
    }
    assert!(verify(&**s).await.is_ok());
}

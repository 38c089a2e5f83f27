//! The rows the audit chain covers: every write of a record, record version, case or case
//! version lists the row's hash in the entry that made it, and a row changed behind the store's
//! back no longer matches.

use super::*;
use homeward_store::RowTable;
use std::collections::HashMap;

/// Compares every stored row with the hash in the last entry that wrote it, as `audit verify`
/// does: the number of rows, or the name of the first row that differs, has no writer, or is
/// missing.
pub(crate) async fn rows_match_chain(s: &dyn Store) -> Result<usize, String> {
    let mut writers: HashMap<String, String> = HashMap::new();
    for e in all_entries(s).await {
        for (row, hash) in e.writes() {
            writers.insert(row, hash);
        }
    }
    let mut n = 0;
    for table in RowTable::ALL {
        let mut after = None;
        loop {
            let page = s.row_hashes(table, after, 2).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some((last.row.id, last.row.version));
            for r in page {
                let name = r.row.name();
                match writers.remove(&name) {
                    Some(h) if h == r.hash => n += 1,
                    Some(_) => return Err(format!("{name} differs")),
                    None => return Err(format!("{name} has no writer")),
                }
            }
        }
    }
    match writers.into_keys().min() {
        Some(row) => Err(format!("{row} is missing")),
        None => Ok(n),
    }
}

pub async fn every_row_write_is_carried_by_its_entry(cx: Ctx) {
    let s = cx.store.as_ref();
    let (w, case) = case_world(s).await;
    // case_world: two records (version 1 each) and a case (version 1).
    assert_eq!(rows_match_chain(s).await, Ok(2 + 2 + 1 + 1));

    let t = case.case.tracing_request.unwrap();
    let new_content = content(
        RecordKind::TracingRequest,
        "Олена Коваль",
        "f",
        Some("2015-03-07"),
        None,
    );
    let updated = s
        .update_record(
            Scope::AllSubmitted,
            RecordChange {
                id: t,
                expected_version: 1,
                content: &new_content,
                search_key: &search_key(&new_content),
                by: w.origin_user.id,
                at: now(),
            },
            draft(AuditAction::RecordUpdate).target("record", t),
        )
        .await
        .unwrap();
    let entry = all_entries(s).await.pop().unwrap();
    let rows: Vec<String> = entry.writes().into_iter().map(|(r, _)| r).collect();
    assert_eq!(
        rows,
        [
            format!("record/{t}"),
            format!("record_version/{t}/{}", updated.version)
        ]
    );
    assert_eq!(rows_match_chain(s).await, Ok(7));

    let c = case.case.custody_record.unwrap();
    s.delete_record(
        Scope::AllSubmitted,
        RecordDeletion {
            id: c,
            reason: "filed twice",
            by: w.custody_user.id,
            at: now(),
        },
        // A draft aimed elsewhere: the writes still land on the transaction's entry.
        draft(AuditAction::RecordDelete),
    )
    .await
    .unwrap();
    assert_eq!(rows_match_chain(s).await, Ok(8));

    let mut next = case.case.clone();
    next.state = CaseState::Withdrawn;
    super::case_work::save_case(
        s,
        CaseChange {
            case: &next,
            expected_version: case.version,
            change: "withdraw",
            by: w.origin_user.id,
            at: now(),
        },
        draft(AuditAction::CaseTransition).target("case", next.id),
    )
    .await
    .unwrap();
    assert_eq!(rows_match_chain(s).await, Ok(9));
    assert!(verify(s).await.is_ok());
}

pub async fn a_row_edited_behind_the_store_is_named(cx: Ctx) {
    let s = cx.store.as_ref();
    let (_, case) = case_world(s).await;
    let t = case.case.tracing_request.unwrap();
    let c = case.case.custody_record.unwrap();
    assert!(rows_match_chain(s).await.is_ok());
    // The log itself is untouched and still verifies: only the row check sees these.
    raw_sql(&cx.url, "UPDATE record_versions SET change = 'forged' WHERE change = 'create' AND version = 1 AND record_id IN (SELECT custody_record_id FROM cases)").await;
    assert_eq!(
        rows_match_chain(s).await,
        Err(format!("record_version/{c}/1 differs"))
    );
    assert!(verify(s).await.is_ok());
    raw_sql(
        &cx.url,
        "UPDATE record_versions SET change = 'create' WHERE change = 'forged'",
    )
    .await;
    assert!(rows_match_chain(s).await.is_ok(), "restored");

    raw_sql(&cx.url, "UPDATE records SET deletion_reason = 'x' WHERE id IN (SELECT tracing_record_id FROM cases)").await;
    assert_eq!(
        rows_match_chain(s).await,
        Err(format!("record/{t} differs"))
    );
    raw_sql(&cx.url, "UPDATE records SET deletion_reason = NULL").await;

    raw_sql(&cx.url, "UPDATE cases SET state = 'closed'").await;
    assert_eq!(
        rows_match_chain(s).await,
        Err(format!("case/{} differs", case.case.id))
    );
    raw_sql(&cx.url, "UPDATE cases SET state = 'located'").await;
    assert!(rows_match_chain(s).await.is_ok(), "restored");

    raw_sql(&cx.url, "DELETE FROM case_versions").await;
    assert_eq!(
        rows_match_chain(s).await,
        Err(format!("case_version/{}/1 is missing", case.case.id))
    );
}

pub async fn rows_stored_before_row_hashes_are_adopted_once(cx: Ctx) {
    let s = cx.store.as_ref();
    let (_, case) = case_world(s).await;
    // As the migration leaves a database that has rows from before row hashes.
    raw_sql(&cx.url, "UPDATE audit_row_adoption SET pending = 1").await;
    let before = head_seq(s).await;
    s.migrate().await.unwrap();
    let adopted: Vec<_> = all_entries(s)
        .await
        .into_iter()
        .filter(|e| e.seq > before)
        .collect();
    assert!(adopted.iter().all(|e| e.action == "audit.rows_adopted"));
    let rows: Vec<String> = adopted
        .iter()
        .flat_map(|e| e.writes())
        .map(|(r, _)| r)
        .collect();
    assert_eq!(rows.len(), 6, "{rows:?}");
    assert!(rows.contains(&format!("case/{}", case.case.id)));
    assert_eq!(rows_match_chain(s).await, Ok(6));
    assert!(verify(s).await.is_ok());
    // Once only.
    let after = head_seq(s).await;
    s.migrate().await.unwrap();
    assert_eq!(head_seq(s).await, after);
}

//! Case numbers (`HW-2026-00042`): one counter per year, taken in the transaction that opens the
//! case, never given twice; and the search behind the Cases page (filters, counts, sort, pages).

use super::*;
use homeward_domain::{CaseNumber, ListEntry};
use homeward_store::indicators::SyntheticCase;
use homeward_store::{CaseSearch, CaseSort};

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
        .and_utc()
}

fn opened(
    tracing: Option<RecordId>,
    custody: Option<RecordId>,
    when: DateTime<Utc>,
    state: CaseState,
    round: Option<&str>,
) -> SyntheticCase {
    let by = UserId::new();
    let mut case = Case::new(CaseId::new(), by, when);
    case.tracing_request = tracing;
    case.custody_record = custody;
    let mut versions = vec![(case.clone(), "create", by, when)];
    if state != case.state || round.is_some() {
        case.state = state;
        case.listing = round.map(|r| ListEntry {
            list_ref: r.to_owned(),
            origin_approved_at: None,
            custody_approved_at: None,
        });
        versions.push((
            case.clone(),
            "transition",
            by,
            when + chrono::Duration::hours(1),
        ));
    }
    SyntheticCase { versions }
}

fn n(s: &str) -> CaseNumber {
    s.parse().unwrap()
}

async fn number_of(s: &dyn Store, id: CaseId) -> CaseNumber {
    s.get_case(id, draft(AuditAction::CaseRead))
        .await
        .unwrap()
        .unwrap()
        .number
}

pub async fn case_numbers_are_given_per_year_in_order_of_opening(cx: Ctx) {
    let s = &*cx.store;
    // Given out of order: the numbers follow the opening, per year.
    let cases = vec![
        opened(None, None, at(2026, 3, 1, 9), CaseState::Open, None),
        opened(None, None, at(2025, 12, 31, 23), CaseState::Open, None),
        opened(None, None, at(2026, 1, 1, 0), CaseState::Open, None),
        opened(None, None, at(2025, 6, 1, 9), CaseState::Open, None),
    ];
    let ids: Vec<CaseId> = cases.iter().map(|c| c.versions[0].0.id).collect();
    s.load_synthetic_cases(&cases, draft(AuditAction::CaseCreate))
        .await
        .unwrap();
    assert_eq!(number_of(s, ids[0]).await, n("HW-2026-00002"));
    assert_eq!(number_of(s, ids[1]).await, n("HW-2025-00002"));
    assert_eq!(number_of(s, ids[2]).await, n("HW-2026-00001"));
    assert_eq!(number_of(s, ids[3]).await, n("HW-2025-00001"));
    // A second load goes on from where the counters are: never the same number twice.
    let more = vec![opened(None, None, at(2025, 1, 1, 9), CaseState::Open, None)];
    let more_id = more[0].versions[0].0.id;
    s.load_synthetic_cases(&more, draft(AuditAction::CaseCreate))
        .await
        .unwrap();
    assert_eq!(number_of(s, more_id).await, n("HW-2025-00003"));
    for (id, number) in [(ids[1], "HW-2025-00002"), (more_id, "HW-2025-00003")] {
        assert_eq!(s.case_by_number(n(number)).await.unwrap(), Some(id));
    }
    assert_eq!(s.case_by_number(n("HW-2025-00004")).await.unwrap(), None);
    // The listed cases carry their numbers too.
    let listed = s
        .list_cases(&CaseFilter::default(), draft(AuditAction::CaseList))
        .await
        .unwrap();
    let mut numbers: Vec<String> = listed.iter().map(|c| c.number.to_string()).collect();
    numbers.sort();
    assert_eq!(
        numbers,
        [
            "HW-2025-00001",
            "HW-2025-00002",
            "HW-2025-00003",
            "HW-2026-00001",
            "HW-2026-00002"
        ]
    );
    // The database refuses a second case with a number already given.
    let dup = "UPDATE cases SET number = 'HW-2025-00001' WHERE number = 'HW-2025-00002'";
    assert!(
        !try_sql(&cx.url, dup).await,
        "the unique index on cases.number"
    );
}

/// Runs SQL behind the store's back; whether the database took it.
async fn try_sql(url: &str, sql: &str) -> bool {
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        let ok = sqlx::query(sql).execute(&mut c).await.is_ok();
        c.close().await.unwrap();
        ok
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let ok = sqlx::query(sql).execute(&mut c).await.is_ok();
        c.close().await.unwrap();
        ok
    }
}

pub async fn opening_a_case_takes_the_next_number_and_joining_takes_none(cx: Ctx) {
    let s = &*cx.store;
    let (_, t, cs) = matching_world(s, 2).await;
    let year = chrono::Datelike::year(&now());
    // One case already opened this year.
    let earlier = vec![opened(
        None,
        None,
        now() - chrono::Duration::minutes(5),
        CaseState::Open,
        None,
    )];
    s.load_synthetic_cases(&earlier, draft(AuditAction::CaseCreate))
        .await
        .unwrap();
    let batch = vec![candidate(t, cs[0], 0.9), candidate(t, cs[1], 0.8)];
    s.insert_candidates(&batch, &candidate_audit).await.unwrap();
    let by = UserId::new();
    let confirm = |i: usize, case: &Case| {
        let id = batch[i].id;
        let case = case.clone();
        async move {
            s.decide_candidate(
                CandidateDecision {
                    id,
                    by,
                    at: now(),
                    decision: Decision::Confirm {
                        reason: None,
                        second_of_two: false,
                        new_case: &case,
                    },
                },
                vec![draft(AuditAction::MatchConfirm)],
                Some(draft(AuditAction::CaseCreate)),
            )
            .await
            .unwrap()
        }
    };
    let first = located(t, cs[0], batch[0].id, by);
    let done = confirm(0, &first).await;
    let case = done.case.unwrap();
    assert!(done.case_created);
    assert_eq!(case.number, CaseNumber::new(year, 2).unwrap());
    assert_eq!(number_of(s, first.id).await, case.number);
    // Joining the existing case gives no number (the counter stays).
    let joined = confirm(1, &located(t, cs[1], batch[1].id, by)).await;
    assert!(!joined.case_created);
    assert_eq!(joined.case.unwrap().number, case.number);
    let next = vec![opened(None, None, now(), CaseState::Open, None)];
    s.load_synthetic_cases(&next, draft(AuditAction::CaseCreate))
        .await
        .unwrap();
    assert_eq!(
        number_of(s, next[0].versions[0].0.id).await,
        CaseNumber::new(year, 3).unwrap()
    );
    // A change keeps the number.
    let stored = s
        .get_case(first.id, draft(AuditAction::CaseRead))
        .await
        .unwrap()
        .unwrap();
    let mut changed = stored.case.clone();
    changed.state = CaseState::OnHold;
    let updated = super::case_work::save_case(
        s,
        CaseChange {
            case: &changed,
            expected_version: stored.version,
            change: "transition",
            by,
            at: now(),
        },
        draft(AuditAction::CaseTransition).target("case", first.id),
    )
    .await
    .unwrap();
    assert_eq!(updated.number, case.number);
}

pub async fn case_search_filters_counts_sorts_and_pages(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let rec = |party: &Party, by: &User, kind, name: &str| {
        new_record(
            party,
            by,
            content(kind, name, "f", Some("2016-02-03"), None),
        )
    };
    let olena = rec(
        &w.origin,
        &w.origin_user,
        RecordKind::TracingRequest,
        "Олена Коваль",
    );
    let maria = rec(
        &w.origin,
        &w.origin_user,
        RecordKind::TracingRequest,
        "Марія Шевченко",
    );
    let held = rec(
        &w.custody,
        &w.custody_user,
        RecordKind::CustodyRecord,
        "Елена Коваль",
    );
    insert(s, &[olena.clone(), maria.clone(), held.clone()]).await;
    let cases = vec![
        opened(
            Some(olena.record.id),
            Some(held.record.id),
            at(2026, 2, 1, 9),
            CaseState::Listed,
            Some("Round 3"),
        ),
        opened(
            Some(maria.record.id),
            None,
            at(2026, 2, 2, 9),
            CaseState::Open,
            None,
        ),
        opened(
            None,
            Some(held.record.id),
            at(2026, 2, 3, 9),
            CaseState::Open,
            None,
        ),
    ];
    let ids: Vec<CaseId> = cases.iter().map(|c| c.versions[0].0.id).collect();
    s.load_synthetic_cases(&cases, draft(AuditAction::CaseCreate))
        .await
        .unwrap();
    let search = |q: CaseSearch| async move {
        let page = s
            .search_cases(&q, Scope::Nothing, vec![draft(AuditAction::CaseList)])
            .await
            .unwrap();
        (
            page.items.iter().map(|c| c.case.id).collect::<Vec<_>>(),
            page.total,
        )
    };
    assert_eq!(search(CaseSearch::default()).await, (ids.clone(), 3));
    let desc = CaseSearch {
        descending: true,
        ..Default::default()
    };
    assert_eq!(search(desc).await.0, vec![ids[2], ids[1], ids[0]]);
    let st = CaseSearch {
        state: Some(CaseState::Open),
        ..Default::default()
    };
    assert_eq!(search(st).await, (vec![ids[1], ids[2]], 2));
    let party = CaseSearch {
        party: Some(w.custody.id),
        ..Default::default()
    };
    assert_eq!(search(party).await, (vec![ids[0], ids[2]], 2));
    let round = CaseSearch {
        round: Some("Round 3".into()),
        ..Default::default()
    };
    assert_eq!(search(round).await, (vec![ids[0]], 1));
    let by_number = CaseSearch {
        number: Some(n("HW-2026-00002")),
        ..Default::default()
    };
    assert_eq!(search(by_number).await, (vec![ids[1]], 1));
    // Names: every term must be in one record of the case (the search keys here are folded
    // lowercase text; the app passes the linkage normaliser's alternatives).
    let named = |terms: &[&[&str]]| CaseSearch {
        name_terms: terms
            .iter()
            .map(|alts| alts.iter().map(|a| (*a).to_owned()).collect())
            .collect(),
        ..Default::default()
    };
    assert_eq!(
        search(named(&[&["коваль"]])).await,
        (vec![ids[0], ids[2]], 2)
    );
    assert_eq!(
        search(named(&[&["олена", "елена"], &["коваль"]])).await.1,
        2
    );
    assert_eq!(search(named(&[&["марія"]])).await, (vec![ids[1]], 1));
    assert_eq!(search(named(&[&["100%_"]])).await, (vec![], 0));
    // Pages: the count stays the whole count.
    let page = CaseSearch {
        limit: 2,
        offset: 2,
        ..Default::default()
    };
    assert_eq!(search(page).await, (vec![ids[2]], 3));
    let by_state = CaseSearch {
        sort: CaseSort::State,
        ..Default::default()
    };
    assert_eq!(search(by_state).await.0, vec![ids[0], ids[1], ids[2]]);
    // The child records come with the page, within the scope asked for.
    let q = CaseSearch {
        limit: 1,
        ..Default::default()
    };
    let mine = s
        .search_cases(
            &q,
            Scope::OwnParty(w.origin.id),
            vec![draft(AuditAction::CaseList)],
        )
        .await
        .unwrap();
    let ids_of =
        |p: &homeward_store::CaseSearchPage| p.records.iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids_of(&mine), vec![olena.record.id]);
    let all = s
        .search_cases(&q, Scope::AllSubmitted, vec![draft(AuditAction::CaseList)])
        .await
        .unwrap();
    let mut got = ids_of(&all);
    got.sort();
    let mut want = vec![olena.record.id, held.record.id];
    want.sort();
    assert_eq!(got, want);
    let details: serde_json::Value =
        serde_json::from_str(&all_entries(s).await.pop().unwrap().details).unwrap();
    assert_eq!(details["record_ids"].as_array().map(Vec::len), Some(2));
    let q = CaseSearch::default();
    s.search_cases(&q, Scope::Nothing, vec![draft(AuditAction::CaseList)])
        .await
        .unwrap();
    // The list is audited with the ids it returned.
    let last = all_entries(s).await.pop().unwrap();
    let details: serde_json::Value = serde_json::from_str(&last.details).unwrap();
    assert_eq!(
        details["case_ids"],
        json!([ids[0].to_string(), ids[1].to_string(), ids[2].to_string()])
    );
}

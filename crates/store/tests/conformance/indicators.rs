//! Indicators and public statistics: aggregate counts by state, sex and age band, time in each
//! state, returns per month, filters by period and round, records within scope, the state of
//! cases on a past day, and a published snapshot kept exactly as published.

use super::*;
use homeward_domain::ListEntry;
use homeward_store::indicators::{
    GroupCount, IndicatorFilter, RecordIndicators, StatisticsSnapshotDraft, SyntheticCase,
};

fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc()
}

/// A case between two records going through `states` at the times given; from the step named
/// `listed_from` on it carries a listing on `round`.
fn history(
    tracing: Option<RecordId>,
    custody: Option<RecordId>,
    states: &[(CaseState, DateTime<Utc>)],
    round: Option<(&str, usize)>,
) -> SyntheticCase {
    let by = UserId::new();
    let mut case = Case::new(CaseId::new(), by, states[0].1);
    case.tracing_request = tracing;
    case.custody_record = custody;
    let versions = states
        .iter()
        .enumerate()
        .map(|(i, (state, at))| {
            case.state = *state;
            if let Some((r, from)) = round
                && i >= from
            {
                case.listing = Some(ListEntry {
                    list_ref: r.to_owned(),
                    origin_approved_at: None,
                    custody_approved_at: None,
                });
            }
            (
                case.clone(),
                if i == 0 { "create" } else { "transition" },
                by,
                *at,
            )
        })
        .collect();
    SyntheticCase { versions }
}

fn figures_filter() -> IndicatorFilter {
    IndicatorFilter {
        from: None,
        until: None,
        round: None,
        today: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        age_year: 2026,
        exact: false,
    }
}

fn sorted(mut v: Vec<GroupCount>) -> Vec<(String, String, String, i64)> {
    v.sort_by(|a, b| (&a.group, &a.sex, &a.age_band).cmp(&(&b.group, &b.sex, &b.age_band)));
    v.into_iter()
        .map(|g| (g.group, g.sex, g.age_band, g.count))
        .collect()
}

fn row(g: &str, sex: &str, band: &str, n: i64) -> (String, String, String, i64) {
    (g.to_owned(), sex.to_owned(), band.to_owned(), n)
}

/// Three children sought, three held; case A (verified), B (handed over in March, on round 7,
/// listed twice in a row) and C (custody only, opened in April).
async fn stats_world(store: &dyn Store) -> (World, Vec<SyntheticCase>) {
    let w = world(store).await;
    let t = RecordKind::TracingRequest;
    let k = RecordKind::CustodyRecord;
    let (ou, cu) = (&w.origin_user, &w.custody_user);
    let recs = vec![
        new_record(
            &w.origin,
            ou,
            content(t, "Anna", "female", Some("2016-03-01"), None),
        ),
        new_record(
            &w.origin,
            ou,
            content(t, "Bohdan", "male", Some("2010-05-05"), None),
        ),
        new_record(&w.origin, ou, content(t, "Daria", "female", None, None)),
        new_record(
            &w.custody,
            cu,
            content(k, "Anna", "female", Some("2016-03-01"), None),
        ),
        new_record(
            &w.custody,
            cu,
            content(k, "Bohdan", "male", Some("2010-05-05"), None),
        ),
        new_record(
            &w.custody,
            cu,
            content(k, "Olena", "female", Some("2020-01-01"), None),
        ),
    ];
    insert(store, &recs).await;
    let id = |i: usize| Some(recs[i].record.id);
    use CaseState as S;
    let a = history(
        id(0),
        id(3),
        &[
            (S::Open, day(2026, 1, 1)),
            (S::Located, day(2026, 1, 4)),
            (S::IdentityVerified, day(2026, 1, 11)),
        ],
        None,
    );
    let b = history(
        id(1),
        id(4),
        &[
            (S::Open, day(2026, 2, 1)),
            (S::Located, day(2026, 2, 2)),
            (S::IdentityVerified, day(2026, 2, 5)),
            (S::ConsentObtained, day(2026, 2, 10)),
            (S::Listed, day(2026, 2, 20)),
            (S::Listed, day(2026, 3, 1)),
            (S::InTransit, day(2026, 3, 14)),
            (S::HandedOver, day(2026, 3, 15)),
        ],
        Some(("round-7", 4)),
    );
    let c = history(None, id(5), &[(S::Open, day(2026, 4, 1))], None);
    (w, vec![a, b, c])
}

pub async fn indicators_count_cases_by_state_sex_and_age_band(cx: Ctx) {
    let s = cx.store.as_ref();
    let (_, cases) = stats_world(s).await;
    s.load_synthetic_cases(&cases, draft(AuditAction::CaseSyntheticLoad))
        .await
        .unwrap();
    let before = head_seq(s).await;
    let f = figures_filter();
    let all = s
        .case_indicators(&f, draft(AuditAction::IndicatorsRead))
        .await
        .unwrap();
    assert_eq!(head_seq(s).await, before + 1, "the read is audited");
    assert_eq!(
        sorted(all.by_state),
        vec![
            row("handed_over", "male", "15-17", 1),
            row("identity_verified", "female", "10-14", 1),
            row("open", "female", "5-9", 1),
        ]
    );
    let mut spells: Vec<(String, i64, i64)> = all
        .spells
        .into_iter()
        .map(|x| (x.state, x.days, x.count))
        .collect();
    spells.sort();
    let sp = |s: &str, d: i64, n: i64| (s.to_owned(), d, n);
    assert_eq!(
        spells,
        vec![
            sp("consent_obtained", 10, 1),
            sp("identity_verified", 5, 1),
            sp("in_transit", 1, 1),
            // 20 February to 14 March: the second `listed` version does not start a new spell.
            sp("listed", 22, 1),
            sp("located", 3, 1),
            sp("located", 7, 1),
            sp("open", 1, 1),
            sp("open", 3, 1),
        ]
    );
    let returns: Vec<(String, i64)> = all
        .returns
        .iter()
        .map(|m| (m.month.clone(), m.count))
        .collect();
    assert_eq!(returns, vec![("2026-03".to_owned(), 1)]);
    assert_eq!(all.overdue_follow_ups, 0);

    let round = IndicatorFilter {
        round: Some("round-7".into()),
        ..figures_filter()
    };
    let r = s
        .case_indicators(&round, draft(AuditAction::IndicatorsRead))
        .await
        .unwrap();
    assert_eq!(
        sorted(r.by_state),
        vec![row("handed_over", "male", "15-17", 1)]
    );
    let period = IndicatorFilter {
        from: Some(day(2026, 3, 1)),
        until: Some(day(2026, 5, 1)),
        ..figures_filter()
    };
    let p = s
        .case_indicators(&period, draft(AuditAction::IndicatorsRead))
        .await
        .unwrap();
    assert_eq!(sorted(p.by_state), vec![row("open", "female", "5-9", 1)]);
    assert!(p.spells.is_empty() && p.returns.is_empty());
}

pub async fn record_indicators_stay_within_scope(cx: Ctx) {
    let s = cx.store.as_ref();
    let (w, _) = stats_world(s).await;
    let f = figures_filter();
    let total = |r: &RecordIndicators| r.by_kind.iter().map(|g| g.count).sum::<i64>();
    let all = s
        .record_indicators(Scope::AllSubmitted, &f, draft(AuditAction::IndicatorsRead))
        .await
        .unwrap();
    assert_eq!(total(&all), 6);
    let own = s
        .record_indicators(
            Scope::OwnParty(w.origin.id),
            &f,
            draft(AuditAction::IndicatorsRead),
        )
        .await
        .unwrap();
    assert_eq!(total(&own), 3);
    assert!(
        own.by_kind.iter().all(|g| g.group == "tracing_request"),
        "{own:?}"
    );
    assert_eq!(
        sorted(own.by_kind),
        vec![
            row("tracing_request", "female", "10-14", 1),
            row("tracing_request", "female", "unknown", 1),
            row("tracing_request", "male", "15-17", 1),
        ]
    );
    assert_eq!(own.filed.iter().map(|m| m.count).sum::<i64>(), 3);
    let before = head_seq(s).await;
    let none = s
        .record_indicators(Scope::Nothing, &f, draft(AuditAction::IndicatorsRead))
        .await
        .unwrap();
    assert_eq!(none, RecordIndicators::default());
    assert_eq!(head_seq(s).await, before, "nothing read, nothing audited");
    let later = IndicatorFilter {
        from: Some(now() + Duration::days(1)),
        ..figures_filter()
    };
    let empty = s
        .record_indicators(
            Scope::AllSubmitted,
            &later,
            draft(AuditAction::IndicatorsRead),
        )
        .await
        .unwrap();
    assert_eq!(total(&empty), 0);
}

pub async fn statistics_count_the_state_on_the_day_and_keep_what_was_published(cx: Ctx) {
    let s = cx.store.as_ref();
    let (w, cases) = stats_world(s).await;
    s.load_synthetic_cases(&cases, draft(AuditAction::CaseSyntheticLoad))
        .await
        .unwrap();
    let on_1_march = s.cases_as_of(day(2026, 3, 1), 2026).await.unwrap();
    assert_eq!(
        sorted(on_1_march),
        vec![
            row("identity_verified", "female", "10-14", 1),
            row("listed", "male", "15-17", 1),
        ]
    );
    assert!(s.latest_statistics().await.unwrap().is_none());
    let publisher = user(s, w.mediator.id, "admin").await;
    let draft_snapshot = StatisticsSnapshotDraft {
        id: uuid::Uuid::now_v7(),
        published_at: day(2026, 3, 31),
        published_by: publisher.id,
        lag_days: 30,
    };
    assert_eq!(draft_snapshot.as_of(), day(2026, 3, 1));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = Arc::clone(&seen);
    let publish = move |counts: &[GroupCount]| {
        seen2.lock().unwrap().extend(counts.iter().cloned());
        format!("{{\"cells\": {}}}", counts.len())
    };
    let stored = s
        .publish_statistics(
            draft_snapshot.clone(),
            &publish,
            draft(AuditAction::StatisticsPublish),
        )
        .await
        .unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2, "the counts of 1 March");
    assert_eq!(stored.content, "{\"cells\": 2}");
    assert_eq!(s.latest_statistics().await.unwrap(), Some(stored.clone()));
    let last = all_entries(s).await.pop().unwrap();
    assert_eq!(last.action, "statistics.publish");
    assert_eq!(last.target_id, Some(stored.id.to_string()));
}

/// The case figures and record figures counted from the rows (`exact`) and from the running
/// tallies (migration 0022) for a filter, side by side, sorted.
async fn both_ways(
    s: &dyn Store,
    f: &IndicatorFilter,
) -> [(
    Vec<(String, String, String, i64)>,
    Vec<(String, i64, i64)>,
    Vec<(String, i64)>,
    Vec<(String, String, String, i64)>,
    Vec<(String, String, i64)>,
); 2] {
    let mut out = Vec::new();
    for exact in [true, false] {
        let f = IndicatorFilter { exact, ..f.clone() };
        let c = s
            .case_indicators(&f, draft(AuditAction::IndicatorsRead))
            .await
            .unwrap();
        let r = s
            .record_indicators(Scope::AllSubmitted, &f, draft(AuditAction::IndicatorsRead))
            .await
            .unwrap();
        let mut spells: Vec<_> = c
            .spells
            .into_iter()
            .map(|x| (x.state, x.days, x.count))
            .collect();
        spells.sort();
        let returns = c.returns.into_iter().map(|m| (m.month, m.count)).collect();
        let filed = r
            .filed
            .into_iter()
            .map(|m| (m.month, m.group, m.count))
            .collect();
        out.push((
            sorted(c.by_state),
            spells,
            returns,
            sorted(r.by_kind),
            filed,
        ));
    }
    let tallied = out.pop().unwrap();
    let exact = out.pop().unwrap();
    [exact, tallied]
}

/// Forty children on each side filed and matched over six months, in every state of the main
/// line; then a record's sex and year of birth change, a record is deleted and a case moves on.
/// For every period (whole months, parts of months, open ends, one day) the tallies count what
/// the rows count.
pub async fn indicator_tallies_count_what_the_rows_count(cx: Ctx) {
    let s = cx.store.as_ref();
    let w = world(s).await;
    let (t, k) = (RecordKind::TracingRequest, RecordKind::CustodyRecord);
    let sexes = ["female", "male", "unknown"];
    let mut recs = Vec::new();
    for i in 0..40u32 {
        let born = (i % 5 != 0).then(|| format!("{}-02-03", 2006 + i % 14));
        let at = day(2026, 1 + i % 6, 1 + (i * 7) % 28);
        for (kind, party, user) in [
            (t, &w.origin, &w.origin_user),
            (k, &w.custody, &w.custody_user),
        ] {
            // The custody side sometimes knows another sex or no date: the case takes the request's.
            let sex = sexes[((i + u32::from(kind == k)) % 3) as usize];
            let born = if kind == k && i % 4 == 0 {
                None
            } else {
                born.as_deref()
            };
            let mut r = new_record(
                party,
                user,
                content(kind, &format!("Child {i}"), sex, born, None),
            );
            r.record.created_at = at;
            recs.push(r);
        }
    }
    insert(s, &recs).await;
    use CaseState as S;
    let line = [
        S::Open,
        S::Located,
        S::IdentityVerified,
        S::ConsentObtained,
        S::Listed,
        S::InTransit,
        S::HandedOver,
    ];
    let cases: Vec<SyntheticCase> = recs
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| {
            let opened = pair[0].record.created_at;
            let steps: Vec<(CaseState, DateTime<Utc>)> = line[..=(i % line.len())]
                .iter()
                .enumerate()
                .map(|(j, st)| (*st, opened + Duration::days(j as i64 * (1 + i as i64 % 9))))
                .collect();
            let custody_only = i % 11 == 10;
            history(
                (!custody_only).then_some(pair[0].record.id),
                Some(pair[1].record.id),
                &steps,
                None,
            )
        })
        .collect();
    s.load_synthetic_cases(&cases, draft(AuditAction::CaseSyntheticLoad))
        .await
        .unwrap();

    // Changes after the load: each moves tallies.
    let first = &recs[0].record;
    let changed = content(t, "Child 0", "male", Some("2001-02-03"), None);
    let key = search_key(&changed);
    s.update_record(
        Scope::OwnParty(w.origin.id),
        RecordChange {
            id: first.id,
            expected_version: 1,
            content: &changed,
            search_key: &key,
            by: w.origin_user.id,
            at: now(),
        },
        draft(AuditAction::RecordUpdate),
    )
    .await
    .unwrap();
    s.delete_record(
        Scope::OwnParty(w.custody.id),
        RecordDeletion {
            id: recs[7].record.id,
            reason: "duplicate",
            by: w.custody_user.id,
            at: now(),
        },
        draft(AuditAction::RecordDelete),
    )
    .await
    .unwrap();
    let moved = s
        .get_case(cases[2].versions[0].0.id, draft(AuditAction::CaseRead))
        .await
        .unwrap()
        .unwrap();
    let mut next = moved.case.clone();
    next.state = S::OnHold;
    super::case_work::save_case(
        s,
        CaseChange {
            case: &next,
            expected_version: moved.version,
            change: "transition",
            by: w.origin_user.id,
            at: now(),
        },
        draft(AuditAction::CaseTransition),
    )
    .await
    .unwrap();

    let at = |m: u32, d: u32, h: u32| {
        NaiveDate::from_ymd_opt(2026, m, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
            .and_utc()
    };
    let periods = [
        (None, None),
        (Some(at(2, 1, 0)), Some(at(5, 1, 0))),
        (Some(at(1, 15, 0)), Some(at(4, 10, 12))),
        (Some(at(3, 8, 0)), None),
        (None, Some(at(3, 22, 0))),
        (Some(at(2, 8, 0)), Some(at(2, 9, 0))),
        (Some(at(6, 1, 0)), Some(at(6, 1, 0))),
    ];
    let mut seen = 0;
    for (from, until) in periods {
        let f = IndicatorFilter {
            from,
            until,
            ..figures_filter()
        };
        let [exact, tallied] = both_ways(s, &f).await;
        assert_eq!(exact, tallied, "from {from:?} until {until:?}");
        seen += exact.0.iter().map(|g| g.3).sum::<i64>();
    }
    assert!(seen > 40, "the periods hold cases: {seen}");
    let [exact, _] = both_ways(s, &figures_filter()).await;
    assert_eq!(
        exact.0.iter().map(|g| g.3).sum::<i64>(),
        40,
        "every case counted once"
    );
    assert!(
        exact.0.iter().any(|g| g.0 == "on_hold"),
        "the moved case is counted in its new state"
    );
}

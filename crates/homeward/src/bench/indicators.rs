//! `homeward bench indicators`: how fast the mission dashboard's figures are computed with many
//! records and cases stored (goal: under 100 ms at 100,000 records), beside the peer it replaces:
//! loading every case and counting in memory, measured in the same run on the same store.
//!
//! The store is filled with synthetic children (half sought, half held) and one case per pair of
//! them, each with a history along the main line (a version per state, over the last two
//! years), loaded in bulk; the figures are then asked for as the dashboard asks.

use anyhow::Context;
use chrono::{Datelike, Duration, Utc};
use homeward_app::synthetic::Synthetic;
use homeward_domain::{
    AuditAction, AuditDraft, Case, CaseId, CaseState, ChildRecord, Party, PartyId, PartyKind,
    PartyName, RecordId, RecordKind, Role, Scope, User, UserId, Username,
};
use homeward_store::indicators::{
    CaseIndicators, IndicatorFilter, RecordIndicators, SyntheticCase,
};
use homeward_store::{CaseFilter, NewRecord, Store};
use rand::{Rng, SeedableRng};
use std::time::{Duration as StdDuration, Instant};

/// The goal the dashboard was specified with.
const GOAL: StdDuration = StdDuration::from_millis(100);

#[derive(Debug, clap::Args)]
pub struct IndicatorsBenchArgs {
    /// Child records to store (half tracing requests, half custody records; one case per pair).
    #[arg(long, default_value_t = 100_000)]
    pub records: usize,
    /// Timed runs of each way of counting (after one untimed run).
    #[arg(long, default_value_t = 20)]
    pub runs: usize,
    #[arg(long, default_value_t = 16)]
    pub seed: u64,
    /// Use this (empty) database instead of a fresh SQLite file, e.g. a PostgreSQL URL.
    #[arg(long)]
    pub database: Option<String>,
}

fn median(mut v: Vec<StdDuration>) -> StdDuration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: StdDuration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn party(store: &dyn Store, kind: PartyKind, name: &str) -> anyhow::Result<Party> {
    let p = Party {
        id: PartyId::new(),
        name: PartyName::parse(name).map_err(|e| anyhow::anyhow!("{}", e.message))?,
        kind,
        created_at: Utc::now(),
    };
    store
        .create_party(
            &p,
            AuditDraft::new(AuditAction::PartyCreate).target("party", p.id),
        )
        .await?;
    Ok(p)
}

async fn user(store: &dyn Store, party: PartyId, name: &str) -> anyhow::Result<User> {
    let u = User {
        id: UserId::new(),
        party_id: party,
        username: Username::parse(name).map_err(|e| anyhow::anyhow!("{}", e.message))?,
        display_name: name.to_owned(),
        roles: vec![Role::Caseworker],
        totp_enabled: false,
        disabled: false,
        created_at: Utc::now(),
        language: None,
    };
    // Nobody signs in to the bench's store: the hash is not a password's.
    store
        .create_user(
            &u,
            "bench-no-login",
            AuditDraft::new(AuditAction::UserCreate).target("user", u.id),
        )
        .await?;
    Ok(u)
}

fn new_record(
    party: &Party,
    by: &User,
    kind: RecordKind,
    input: &homeward_domain::ChildRecordInput,
) -> anyhow::Result<NewRecord> {
    let now = Utc::now();
    let content = input
        .parse(kind, now.date_naive())
        .map_err(|e| anyhow::anyhow!("synthetic record refused: {e:?}"))?;
    let search_key = homeward_linkage::search_key(content.names.iter().map(|n| {
        [
            n.given.as_deref(),
            n.patronymic.as_deref(),
            n.family.as_deref(),
            Some(n.as_written.as_str()),
        ]
    }));
    Ok(NewRecord {
        record: ChildRecord {
            id: RecordId::new(),
            party_id: party.id,
            version: 1,
            content,
            created_at: now,
            created_by: by.id,
            updated_at: now,
            updated_by: by.id,
            deleted_at: None,
            deletion_reason: None,
            merged_into: None,
        },
        search_key,
        change: "create",
    })
}

/// A case between two records that went `steps` states along the main line, a few days a state.
fn case_history(
    rng: &mut impl Rng,
    tracing: RecordId,
    custody: RecordId,
    by: UserId,
) -> SyntheticCase {
    let mut at = Utc::now() - Duration::days(rng.gen_range(30..730));
    let mut case = Case::new(CaseId::new(), by, at);
    case.tracing_request = Some(tracing);
    case.custody_record = Some(custody);
    let steps = rng.gen_range(1..=CaseState::MAIN_LINE.len());
    let versions = CaseState::MAIN_LINE[..steps]
        .iter()
        .enumerate()
        .map(|(i, st)| {
            if i > 0 {
                at += Duration::days(rng.gen_range(1..40));
            }
            case.state = *st;
            (
                case.clone(),
                if i == 0 { "create" } else { "transition" },
                by,
                at,
            )
        })
        .collect();
    SyntheticCase { versions }
}

async fn fill(store: &dyn Store, args: &IndicatorsBenchArgs) -> anyhow::Result<usize> {
    let origin = party(store, PartyKind::Origin, "Bench origin").await?;
    let custody = party(store, PartyKind::Custody, "Bench custody").await?;
    let ou = user(store, origin.id, "bench-origin").await?;
    let cu = user(store, custody.id, "bench-custody").await?;
    let mut synth = Synthetic::new(args.seed);
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    let pairs = args.records / 2;
    let mut cases = Vec::with_capacity(pairs);
    for chunk in 0..pairs.div_ceil(5_000) {
        let n = (pairs - chunk * 5_000).min(5_000);
        let mut recs = Vec::with_capacity(n * 2);
        for _ in 0..n {
            let (t, c) = synth.matched_pair();
            recs.push(new_record(&origin, &ou, RecordKind::TracingRequest, &t)?);
            recs.push(new_record(&custody, &cu, RecordKind::CustodyRecord, &c)?);
        }
        let audit = vec![
            AuditDraft::new(AuditAction::ImportCommit)
                .details(serde_json::json!({ "bench": true })),
        ];
        store.insert_records(&recs, audit, &|_| {}).await?;
        for pair in recs.chunks(2) {
            cases.push(case_history(
                &mut rng,
                pair[0].record.id,
                pair[1].record.id,
                ou.id,
            ));
        }
    }
    for chunk in cases.chunks(5_000) {
        store
            .load_synthetic_cases(chunk, AuditDraft::new(AuditAction::CaseSyntheticLoad))
            .await?;
    }
    Ok(cases.len())
}

pub async fn run_indicators_bench(args: &IndicatorsBenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = args
        .database
        .clone()
        .unwrap_or_else(|| homeward_store::sqlite_url_for_dir(dir.path()));
    let store = homeward_store::connect(&url)
        .await
        .context("open the bench store")?;
    let started = Instant::now();
    let n_cases = fill(store.as_ref(), args).await?;
    println!(
        "stored {} records and {n_cases} cases on {} in {:.1} s",
        args.records,
        store.backend(),
        started.elapsed().as_secs_f64()
    );
    let now = Utc::now();
    let filter = IndicatorFilter {
        from: None,
        until: None,
        round: None,
        today: now.date_naive(),
        age_year: now.year(),
        exact: false,
    };
    let audit = || {
        AuditDraft::new(AuditAction::IndicatorsRead).details(serde_json::json!({ "bench": true }))
    };
    let mut sql = Vec::new();
    let mut rows = Vec::new();
    let mut naive = Vec::new();
    let mut checked = false;
    for run in 0..=args.runs {
        let t0 = Instant::now();
        let cases = figures(store.as_ref(), &filter, audit).await?;
        let d_sql = t0.elapsed();
        // The same figures counted from the rows, not the running tallies (migration 0022).
        let exact = IndicatorFilter {
            exact: true,
            ..filter.clone()
        };
        let t1 = Instant::now();
        let counted = figures(store.as_ref(), &exact, audit).await?;
        let d_rows = t1.elapsed();
        // The peer: every case loaded (in pages, as the case list reads them) and counted here.
        let t2 = Instant::now();
        let counts = load_and_count(store.as_ref(), audit).await?;
        let d_naive = t2.elapsed();
        if !checked {
            // All three ways must agree before their times mean anything.
            // Both ways merge their cells in the same order, so equal figures compare equal.
            anyhow::ensure!(cases == counted, "the tallies and the rows disagree");
            for (st, n) in &counts {
                let sql_n: i64 = cases
                    .0
                    .by_state
                    .iter()
                    .filter(|g| g.group == st.as_str())
                    .map(|g| g.count)
                    .sum();
                anyhow::ensure!(sql_n == *n, "{st:?}: aggregate {sql_n}, loaded {n}");
            }
            checked = true;
        }
        if run > 0 {
            sql.push(d_sql);
            rows.push(d_rows);
            naive.push(d_naive);
        }
    }
    let (s, r, n) = (median(sql), median(rows), median(naive));
    println!(
        "dashboard figures (running tallies): median {:.1} ms over {} runs (goal {} ms: {})",
        ms(s),
        args.runs,
        GOAL.as_millis(),
        if s <= GOAL { "met" } else { "NOT met" }
    );
    println!(
        "the same figures counted from the rows (aggregate SQL): median {:.1} ms",
        ms(r)
    );
    println!(
        "peer, loading every case and counting: median {:.1} ms",
        ms(n)
    );
    println!(
        "ratios: tallies {:.1}x faster than the rows, {:.1}x faster than the peer",
        r.as_secs_f64() / s.as_secs_f64().max(1e-9),
        n.as_secs_f64() / s.as_secs_f64().max(1e-9)
    );
    store.close().await;
    Ok(())
}

/// The case and record figures of the dashboard, each read in its own audited transaction as the
/// dashboard reads them.
async fn figures(
    store: &dyn Store,
    filter: &IndicatorFilter,
    audit: impl Fn() -> AuditDraft,
) -> anyhow::Result<(CaseIndicators, RecordIndicators)> {
    let cases = store.case_indicators(filter, audit()).await?;
    let records = store
        .record_indicators(Scope::AllSubmitted, filter, audit())
        .await?;
    Ok((cases, records))
}

/// Every case loaded in pages, as the case list reads them, and counted by state.
async fn load_and_count(
    store: &dyn Store,
    audit: impl Fn() -> AuditDraft,
) -> anyhow::Result<std::collections::HashMap<CaseState, i64>> {
    let mut counts = std::collections::HashMap::<CaseState, i64>::new();
    let mut after = None;
    loop {
        let page = store
            .list_cases(
                &CaseFilter {
                    after,
                    limit: 500,
                    ..CaseFilter::default()
                },
                audit(),
            )
            .await?;
        for c in &page {
            *counts.entry(c.case.state).or_default() += 1;
        }
        match page.last() {
            Some(c) if page.len() == 500 => after = Some(c.case.id),
            _ => return Ok(counts),
        }
    }
}

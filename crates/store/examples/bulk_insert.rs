//! Times `insert_records` with many synthetic records, one audit entry each, as an import does.
//!
//! ```text
//! cargo run --release -p homeward-store --example bulk_insert -- [COUNT] [DATABASE_URL]
//! ```
//! Without a URL it uses a temporary SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{NaiveDate, SubsecRound, Utc};
use homeward_domain::audit::ChainVerifier;
use homeward_domain::name::NameInput;
use homeward_domain::{
    AuditAction, AuditDraft, ChildRecord, ChildRecordInput, Party, PartyId, PartyKind, PartyName,
    RecordId, RecordKind, Role, User, UserId, Username,
};
use homeward_store::{AuditFilter, NewRecord};
use std::time::Instant;

const GIVEN: [&str; 8] = [
    "Anna", "Dmytro", "Olena", "Bohdan", "Iryna", "Petro", "Sofiia", "Maksym",
];
const FAMILY: [&str; 6] = [
    "Kovalenko",
    "Shevchenko",
    "Bondarenko",
    "Tkachenko",
    "Kravchenko",
    "Oliynyk",
];

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args
        .next()
        .map_or(100_000, |a| a.parse().expect("COUNT is a number"));
    let dir = tempfile::tempdir().unwrap();
    let url = args
        .next()
        .unwrap_or_else(|| homeward_store::sqlite_url_for_dir(dir.path()));
    let store = homeward_store::connect(&url).await.unwrap();

    let now = Utc::now().trunc_subsecs(6);
    let party = Party {
        id: PartyId::new(),
        name: PartyName::parse(&format!("Bulk origin {}", PartyId::new())).unwrap(),
        kind: PartyKind::Origin,
        created_at: now,
    };
    store
        .create_party(&party, AuditDraft::new(AuditAction::PartyCreate))
        .await
        .unwrap();
    let user = User {
        id: UserId::new(),
        party_id: party.id,
        username: Username::parse(&format!("bulk-{}", &UserId::new().to_string()[24..])).unwrap(),
        display_name: "Bulk importer".into(),
        roles: vec![Role::Caseworker],
        totp_enabled: false,
        disabled: false,
        created_at: now,
        language: None,
    };
    store
        .create_user(&user, "x", AuditDraft::new(AuditAction::UserCreate))
        .await
        .unwrap();

    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let records: Vec<NewRecord> = (0..count)
        .map(|i| {
            let given = GIVEN[i % GIVEN.len()];
            let family = FAMILY[(i / GIVEN.len()) % FAMILY.len()];
            let content = ChildRecordInput {
                external_ref: Some(format!("BULK-{i:07}")),
                names: vec![NameInput {
                    given: Some(given.into()),
                    family: Some(family.into()),
                    ..Default::default()
                }],
                sex: Some(if i.is_multiple_of(2) { "f" } else { "m" }.into()),
                birth_date: Some(format!("{}-{:02}", 2008 + i % 15, 1 + i % 12)),
                last_known_location: Some("Synthetic town".into()),
                enquirer_name: Some(format!("Relative of {given}")),
                enquirer_relationship: Some("mother".into()),
                ..Default::default()
            }
            .parse(RecordKind::TracingRequest, today)
            .unwrap();
            let search_key = format!("{} {}", given.to_lowercase(), family.to_lowercase());
            let record = ChildRecord {
                id: RecordId::new(),
                party_id: party.id,
                version: 1,
                content,
                created_at: now,
                created_by: user.id,
                updated_at: now,
                updated_by: user.id,
                deleted_at: None,
                deletion_reason: None,
                merged_into: None,
            };
            NewRecord {
                record,
                search_key,
                change: "import",
            }
        })
        .collect();
    let mut audit: Vec<AuditDraft> = records
        .iter()
        .map(|r| AuditDraft::new(AuditAction::RecordCreate).target("record", r.record.id))
        .collect();
    audit.push(
        AuditDraft::new(AuditAction::ImportCommit).details(serde_json::json!({ "records": count })),
    );

    let progress = |n: usize| {
        if n.is_multiple_of(20_000) || n == count {
            eprintln!("  {n} records");
        }
    };
    let started = Instant::now();
    store
        .insert_records(&records, audit, &progress)
        .await
        .unwrap();
    let took = started.elapsed();
    println!(
        "{}: inserted {count} records and {} audit entries in {:.2} s ({:.0} records/s)",
        store.backend(),
        count + 1,
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64()
    );

    let started = Instant::now();
    let mut verifier = ChainVerifier::default();
    let mut after_seq = 0;
    loop {
        let page = store
            .audit_entries(&AuditFilter {
                after_seq,
                limit: 10_000,
                ..Default::default()
            })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after_seq = last.seq;
        for e in &page {
            verifier.push(e).unwrap();
        }
    }
    let (seq, hash) = store.audit_head().await.unwrap();
    let verified = verifier.finish(seq, &hash).unwrap();
    println!(
        "verified {verified} audit entries in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    store.close().await;
}

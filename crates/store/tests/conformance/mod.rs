//! The one conformance suite every [`Store`] implementation must pass. `tests/sqlite.rs` and
//! `tests/postgres.rs` turn each `pub async fn` case listed in [`conformance_tests!`] into a test
//! against a fresh database of their backend.

use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use homeward_domain::audit::ChainVerifier;
use homeward_domain::name::NameInput;
use homeward_domain::{
    AttachmentId, AuditAction, AuditDraft, Case, CaseId, CaseState, ChainBreak, ChildRecord,
    ChildRecordInput, DisclosableField, DisclosedField, Disclosure, DisclosureId, Language,
    MatchConfirmation, MatchId, MatchLink, Party, PartyId, PartyKind, PartyName, RecordDraft,
    RecordFilter, RecordId, RecordKind, Role, Scope, Sex, Task, TaskId, TaskKind, TaskStatus,
    TokenId, User, UserId, Username,
};
use homeward_store::testing::TestDatabase;
use homeward_store::{
    ApiToken, Attachment, AttachmentOwner, AttachmentScope, AuditFilter, CandidateDecision,
    CandidateStatus, CaseChange, CaseFilter, Conflict, Decision, DisclosureFilter, NewRecord,
    QueueFilter, RecordChange, RecordDeletion, SessionRow, Store, StoreError, StoredCase,
    TaskFilter,
};
use serde_json::json;
use sqlx::Connection;
use std::future::Future;
use std::sync::{Arc, Mutex};

mod case_numbers;
mod case_work;
mod credentials;
mod exports;
mod group_commit;
mod indicators;
mod jobs;
mod ops;
mod pprl;
mod rowhash;
mod staging;
mod transfers;
pub use case_numbers::*;
use case_work::save_case;
pub use case_work::*;
pub use credentials::*;
pub use exports::*;
pub use group_commit::*;
pub use indicators::*;
pub use jobs::*;
pub use ops::*;
pub use pprl::*;
pub use rowhash::*;
pub use staging::*;
pub use transfers::*;

/// Generates one `#[tokio::test]` per case, each handing the case to `$run`.
macro_rules! conformance_tests {
    ($run:path) => {
        conformance_tests!(@each $run;
            migrate_is_idempotent,
            ops_report_the_pool_and_migrations_still_to_apply,
            ops_name_each_attachment_blob_once,
            ops_back_up_a_consistent_sqlite_copy_and_leave_postgres_to_pg_dump,
            parties_round_trip_and_names_are_unique,
            users_round_trip_and_usernames_are_unique,
            credentials_and_totp,
            set_password_ends_sessions,
            set_password_revokes_tokens_unless_kept,
            a_totp_step_is_accepted_once,
            sessions_expire_and_slide,
            disabled_users_have_no_sessions_or_tokens,
            disabling_a_user_ends_sessions_and_revokes_tokens,
            tokens_are_found_by_hash_until_revoked_or_expired,
            login_failures_are_counted_and_cleared,
            records_round_trip,
            list_filters,
            list_paging_and_limits,
            scope_isolation,
            scope_nothing_sees_nothing,
            update_checks_the_version_and_keeps_history,
            concurrent_updates_have_one_winner,
            soft_delete,
            insert_records_is_atomic,
            insert_records_reports_progress,
            list_records_audits_the_ids_returned,
            every_write_appends_to_one_verifiable_chain,
            concurrent_appends_keep_one_chain,
            two_stores_on_one_database_keep_one_chain,
            audit_entries_filters,
            tampering_with_details_is_detected,
            deleting_a_middle_entry_is_detected,
            deleting_the_last_entry_is_detected,
            block_keys_find_the_other_side,
            record_writes_enqueue_their_matching_in_their_transaction, claims_lease_each_job_to_one_worker_and_expired_leases_are_taken_over, the_same_file_is_refused_inside_the_imports_transaction, records_owe_their_matching_until_it_ran_on_their_version,
            candidates_are_stored_once_and_queued_by_probability,
            confirming_creates_or_joins_a_case,
            the_linkage_model_is_replaced,
            a_new_model_comes_with_its_rescore_job_and_stale_candidates_page_by_id,
            block_keys_find_duplicates_within_one_party,
            duplicates_are_stored_once_whichever_way_round,
            duplicates_are_seen_only_within_scope,
            a_refused_merge_changes_nothing,
            a_merge_keeps_both_histories,
            cases_keep_every_version_and_refuse_stale_updates,
            a_case_work_reads_saves_and_audits_once, a_case_work_refuses_a_stale_version_and_rolls_back_when_dropped, concurrent_case_works_take_turns, a_case_work_sees_owners_and_parties_within_scope,
            disclosures_need_the_case_unchanged,
            tasks_belong_to_their_party,
            attachments_follow_their_owners_scope,
            attachment_reads_and_lists_are_audited,
            a_case_is_on_one_open_list, a_users_language_is_kept, transfer_list_reads_are_scoped_to_its_parties, transfer_lists_keep_every_version_and_void_with_their_cases, transfer_plans_move_with_their_cases, a_transfer_work_reads_saves_and_audits_once, concurrent_transfer_works_take_turns,
            derived_keys_are_replaced_and_their_version_kept,
            every_row_write_is_carried_by_its_entry,
            a_row_edited_behind_the_store_is_named,
            rows_stored_before_row_hashes_are_adopted_once,
            pprl_lists_of_a_round_share_one_key, a_pprl_run_enqueues_its_job_and_stores_its_pairs_once, a_pprl_pair_moves_only_from_its_state_and_becomes_one_candidate,
            staged_uploads_belong_to_their_session_until_they_expire, a_staged_upload_is_committed_once, concurrent_claims_of_one_upload_have_one_winner, staging_keeps_within_its_limits,
            indicators_count_cases_by_state_sex_and_age_band, indicator_tallies_count_what_the_rows_count, record_indicators_stay_within_scope, statistics_count_the_state_on_the_day_and_keep_what_was_published,
            exports_keep_their_job_progress_downloads_and_expiry, a_failed_export_keeps_its_code,
            concurrent_audited_reads_all_reach_one_verifiable_chain, a_refused_audit_commit_fails_its_reads, concurrent_filings_fail_alone_and_the_rest_are_stored,
            case_numbers_are_given_per_year_in_order_of_opening, opening_a_case_takes_the_next_number_and_joining_takes_none, case_search_filters_counts_sorts_and_pages,
        );
    };
    (@each $run:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                $run(conformance::$case).await;
            }
        )*
    };
}

/// What a case gets: the store, and the URL for tampering behind its back.
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub url: String,
}

/// Runs `case` against `db` and drops the database afterwards, even when the case panics.
pub async fn run<F, Fut>(db: TestDatabase, case: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let store = db.open().await.expect("open the store");
    let outcome = tokio::spawn(case(Ctx {
        store: Arc::clone(&store),
        url: db.url.clone(),
    }))
    .await;
    // Whatever a case wrote through the store, every record, version and case it left is
    // carried, with its hash, by the entry that last wrote it (cases that tamper opt out by
    // name in `TAMPERS`).
    let rows = match outcome {
        Ok(())
            if !std::thread::current()
                .name()
                .is_some_and(|n| TAMPERS.iter().any(|t| n.ends_with(t))) =>
        {
            Some(rows_match_chain(store.as_ref()).await)
        }
        _ => None,
    };
    store.close().await;
    db.cleanup().await.expect("drop the test database");
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("the case did not finish: {e}"),
        }
    }
    if let Some(Err(row)) = rows {
        panic!("a row the store wrote is not carried by the audit chain: {row}");
    }
}

/// Cases that change rows or the log behind the store's back on purpose.
const TAMPERS: &[&str] = &["a_row_edited_behind_the_store_is_named"];

// ---- helpers -----------------------------------------------------------------------------------

/// Now, at the precision both databases keep, so values read back compare equal.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn draft(action: AuditAction) -> AuditDraft {
    AuditDraft::new(action).details(json!({"test": true}))
}

async fn party(store: &dyn Store, kind: PartyKind, name: &str) -> Party {
    let p = Party {
        id: PartyId::new(),
        name: PartyName::parse(name).unwrap(),
        kind,
        created_at: now(),
    };
    store
        .create_party(&p, draft(AuditAction::PartyCreate).target("party", p.id))
        .await
        .unwrap();
    p
}

fn new_user(party: PartyId, username: &str, roles: &[Role]) -> User {
    User {
        id: UserId::new(),
        party_id: party,
        username: Username::parse(username).unwrap(),
        display_name: format!("{username} (test)"),
        roles: roles.to_vec(),
        totp_enabled: false,
        disabled: false,
        created_at: now(),
        language: None,
    }
}

async fn user(store: &dyn Store, party: PartyId, username: &str) -> User {
    let u = new_user(party, username, &[Role::Caseworker, Role::Viewer]);
    store
        .create_user(
            &u,
            "$argon2id$fake",
            draft(AuditAction::UserCreate).target("user", u.id),
        )
        .await
        .unwrap();
    u
}

pub fn content(
    kind: RecordKind,
    name: &str,
    sex: &str,
    birth: Option<&str>,
    external_ref: Option<&str>,
) -> RecordDraft {
    let custody = kind == RecordKind::CustodyRecord;
    ChildRecordInput {
        external_ref: external_ref.map(Into::into),
        names: vec![NameInput {
            as_written: Some(name.into()),
            ..Default::default()
        }],
        sex: Some(sex.into()),
        birth_date: birth.map(Into::into),
        current_location: custody.then(|| "Shelter 4".into()),
        enquirer_name: (!custody).then(|| "Relative".into()),
        enquirer_relationship: (!custody).then(|| "aunt".into()),
        ..Default::default()
    }
    .parse(kind, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
    .unwrap()
}

/// The folded name the store matches `RecordFilter::name` against.
fn search_key(d: &RecordDraft) -> String {
    d.names
        .iter()
        .map(|n| n.as_written.to_lowercase())
        .collect::<Vec<_>>()
        .join(" | ")
}

pub fn new_record(party: &Party, by: &User, content: RecordDraft) -> NewRecord {
    let at = now();
    let search_key = search_key(&content);
    NewRecord {
        record: ChildRecord {
            id: RecordId::new(),
            party_id: party.id,
            version: 1,
            content,
            created_at: at,
            created_by: by.id,
            updated_at: at,
            updated_by: by.id,
            deleted_at: None,
            deletion_reason: None,
            merged_into: None,
        },
        search_key,
        change: "create",
    }
}

fn no_progress(_: usize) {}

pub async fn insert(store: &dyn Store, records: &[NewRecord]) {
    let audit = records
        .iter()
        .map(|r| draft(AuditAction::RecordCreate).target("record", r.record.id))
        .collect();
    store
        .insert_records(records, audit, &no_progress)
        .await
        .unwrap();
}

/// A simple world: a mediator, an origin and a custody party, a caseworker in each side.
pub struct World {
    pub mediator: Party,
    pub origin: Party,
    pub custody: Party,
    pub origin_user: User,
    pub custody_user: User,
}

pub async fn world(store: &dyn Store) -> World {
    let mediator = party(store, PartyKind::Mediator, "Mediator task force").await;
    let origin = party(store, PartyKind::Origin, "Origin ombudsman").await;
    let custody = party(store, PartyKind::Custody, "Custody authority").await;
    let origin_user = user(store, origin.id, "oksana").await;
    let custody_user = user(store, custody.id, "ivan").await;
    World {
        mediator,
        origin,
        custody,
        origin_user,
        custody_user,
    }
}

fn filter() -> RecordFilter {
    RecordFilter::default()
}

async fn list(store: &dyn Store, scope: Scope, f: &RecordFilter) -> Vec<RecordId> {
    store
        .list_records(scope, f, draft(AuditAction::RecordList))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

async fn all_entries(store: &dyn Store) -> Vec<homeward_domain::AuditEntry> {
    let mut out = Vec::new();
    loop {
        let after_seq = out
            .last()
            .map_or(0, |e: &homeward_domain::AuditEntry| e.seq);
        let page = store
            .audit_entries(&AuditFilter {
                after_seq,
                limit: 500,
                ..Default::default()
            })
            .await
            .unwrap();
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

/// Verifies the whole chain as `homeward audit verify` does, returning the last seq.
async fn verify(store: &dyn Store) -> Result<i64, ChainBreak> {
    let mut v = ChainVerifier::default();
    for e in all_entries(store).await {
        v.push(&e)?;
    }
    let (seq, hash) = store.audit_head().await.unwrap();
    v.finish(seq, &hash)
}

async fn head_seq(store: &dyn Store) -> i64 {
    store.audit_head().await.unwrap().0
}

/// Runs SQL behind the store's back, on a connection of our own.
async fn raw_sql(url: &str, sql: &str) {
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    }
}

fn assert_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>, what: Conflict) {
    match r {
        Err(StoreError::Conflict(w)) => assert_eq!(w, what),
        other => panic!("expected a conflict on {what}, got {other:?}"),
    }
}

fn assert_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "expected NotFound, got {r:?}"
    );
}

// ---- cases -------------------------------------------------------------------------------------

pub async fn migrate_is_idempotent(cx: Ctx) {
    let expected = if cx.url.starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    };
    assert_eq!(cx.store.backend(), expected);
    cx.store.migrate().await.unwrap();
    cx.store.migrate().await.unwrap();
    assert_eq!(
        cx.store.audit_head().await.unwrap(),
        (0, homeward_domain::GENESIS_HASH.to_owned())
    );
    assert_eq!(verify(&*cx.store).await, Ok(0));
}

pub async fn parties_round_trip_and_names_are_unique(cx: Ctx) {
    let s = &*cx.store;
    let b = party(s, PartyKind::Origin, "B origin").await;
    let a = party(s, PartyKind::Mediator, "A mediator").await;
    assert_eq!(s.get_party(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(s.get_party(PartyId::new()).await.unwrap(), None);
    assert_eq!(s.list_parties().await.unwrap(), vec![a.clone(), b.clone()]);

    let head = head_seq(s).await;
    let dup = Party {
        id: PartyId::new(),
        ..b.clone()
    };
    assert_conflict(
        s.create_party(&dup, draft(AuditAction::PartyCreate)).await,
        Conflict::PartyName,
    );
    assert_eq!(head_seq(s).await, head, "a refused write appends nothing");
    assert_eq!(s.list_parties().await.unwrap().len(), 2);
    assert_eq!(verify(s).await, Ok(2));
}

pub async fn users_round_trip_and_usernames_are_unique(cx: Ctx) {
    let s = &*cx.store;
    let p1 = party(s, PartyKind::Origin, "Origin").await;
    let p2 = party(s, PartyKind::Custody, "Custody").await;
    let anna = user(s, p1.id, "anna").await;
    let boris = user(s, p2.id, "boris").await;
    let mut admin = new_user(p1.id, "aaron", &[Role::Admin]);
    admin.totp_enabled = true;
    s.create_user(&admin, "h", draft(AuditAction::UserCreate))
        .await
        .unwrap();

    assert_eq!(s.get_user(anna.id).await.unwrap(), Some(anna.clone()));
    assert_eq!(s.get_user(admin.id).await.unwrap(), Some(admin.clone()));
    assert_eq!(s.get_user(UserId::new()).await.unwrap(), None);
    assert_eq!(
        s.list_users(Some(p1.id)).await.unwrap(),
        vec![admin.clone(), anna.clone()]
    );
    assert_eq!(
        s.list_users(Some(p2.id)).await.unwrap(),
        vec![boris.clone()]
    );
    assert_eq!(
        s.list_users(None).await.unwrap(),
        vec![admin, anna.clone(), boris]
    );

    let head = head_seq(s).await;
    let dup = new_user(p2.id, "anna", &[Role::Viewer]);
    assert_conflict(
        s.create_user(&dup, "h", draft(AuditAction::UserCreate))
            .await,
        Conflict::Username,
    );
    let orphan = new_user(PartyId::new(), "orphan", &[Role::Viewer]);
    assert_not_found(
        s.create_user(&orphan, "h", draft(AuditAction::UserCreate))
            .await,
    );
    assert_eq!(head_seq(s).await, head, "refused writes append nothing");
    assert_eq!(s.get_user(orphan.id).await.unwrap(), None);

    assert_not_found(
        s.update_user(
            UserId::new(),
            &[Role::Viewer],
            false,
            draft(AuditAction::UserUpdate),
        )
        .await,
    );
    s.update_user(
        anna.id,
        &[Role::Reviewer, Role::Viewer],
        false,
        draft(AuditAction::UserUpdate),
    )
    .await
    .unwrap();
    assert_eq!(
        s.get_user(anna.id).await.unwrap().unwrap().roles,
        vec![Role::Reviewer, Role::Viewer]
    );
    assert!(verify(s).await.is_ok());
}

pub async fn credentials_and_totp(cx: Ctx) {
    let s = &*cx.store;
    let p = party(s, PartyKind::Origin, "Origin").await;
    let u = user(s, p.id, "anna").await;
    let c = s.user_credentials(&u.username).await.unwrap().unwrap();
    assert_eq!(
        (c.user, c.password_hash.as_str(), c.totp_secret),
        (u.clone(), "$argon2id$fake", None)
    );
    assert!(
        s.user_credentials(&Username::parse("nobody").unwrap())
            .await
            .unwrap()
            .is_none()
    );

    // Enrolment pending: the secret is kept but not asked for at login.
    s.set_totp(
        u.id,
        Some("JBSWY3DPEHPK3PXP"),
        false,
        draft(AuditAction::UserTotpEnable),
    )
    .await
    .unwrap();
    assert_eq!(
        s.totp_secret(u.id).await.unwrap().as_deref(),
        Some("JBSWY3DPEHPK3PXP")
    );
    let c = s.user_credentials(&u.username).await.unwrap().unwrap();
    assert_eq!((c.user.totp_enabled, c.totp_secret), (false, None));

    s.set_totp(
        u.id,
        Some("JBSWY3DPEHPK3PXP"),
        true,
        draft(AuditAction::UserTotpEnable),
    )
    .await
    .unwrap();
    let c = s.user_credentials(&u.username).await.unwrap().unwrap();
    assert_eq!(
        (c.user.totp_enabled, c.totp_secret.as_deref()),
        (true, Some("JBSWY3DPEHPK3PXP"))
    );
    assert!(s.get_user(u.id).await.unwrap().unwrap().totp_enabled);

    s.set_totp(u.id, None, false, draft(AuditAction::UserTotpEnable))
        .await
        .unwrap();
    assert_eq!(s.totp_secret(u.id).await.unwrap(), None);
    assert_eq!(s.totp_secret(UserId::new()).await.unwrap(), None);

    s.set_password(
        u.id,
        "$argon2id$new",
        false,
        draft(AuditAction::UserPasswordReset),
    )
    .await
    .unwrap();
    assert_eq!(
        s.user_credentials(&u.username)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$new"
    );

    let head = head_seq(s).await;
    assert_not_found(
        s.set_password(
            UserId::new(),
            "x",
            false,
            draft(AuditAction::UserPasswordReset),
        )
        .await,
    );
    assert_not_found(
        s.set_totp(
            UserId::new(),
            None,
            false,
            draft(AuditAction::UserTotpEnable),
        )
        .await,
    );
    assert_eq!(head_seq(s).await, head);
    assert!(verify(s).await.is_ok());
}

fn session_row(user: &User, token_hash: &str, at: DateTime<Utc>) -> SessionRow {
    SessionRow {
        token_hash: token_hash.to_owned(),
        user_id: user.id,
        csrf_token: format!("csrf-{token_hash}"),
        created_at: at,
        expires_at: at + Duration::minutes(30),
        absolute_expires_at: at + Duration::hours(12),
    }
}

pub async fn set_password_ends_sessions(cx: Ctx) {
    let s = &*cx.store;
    let p = party(s, PartyKind::Origin, "Origin").await;
    let u = user(s, p.id, "anna").await;
    let other = user(s, p.id, "boris").await;
    let t = now();
    for (who, hash) in [(&u, "s1"), (&u, "s2"), (&other, "s3")] {
        s.create_session(&session_row(who, hash, t), draft(AuditAction::Login))
            .await
            .unwrap();
    }
    assert!(s.session("s1", t).await.unwrap().is_some());
    s.set_password(
        u.id,
        "$argon2id$new",
        false,
        draft(AuditAction::UserPasswordReset),
    )
    .await
    .unwrap();
    assert!(s.session("s1", t).await.unwrap().is_none());
    assert!(s.session("s2", t).await.unwrap().is_none());
    assert!(
        s.session("s3", t).await.unwrap().is_some(),
        "other users keep their sessions"
    );
}

pub async fn sessions_expire_and_slide(cx: Ctx) {
    let s = &*cx.store;
    let p = party(s, PartyKind::Origin, "Origin").await;
    let u = user(s, p.id, "anna").await;
    let t = now();
    let row = session_row(&u, "hash-1", t);
    s.create_session(&row, draft(AuditAction::Login))
        .await
        .unwrap();
    assert_eq!(
        s.session("hash-1", t).await.unwrap(),
        Some((row.clone(), u.clone()))
    );
    assert_eq!(s.session("hash-2", t).await.unwrap(), None);

    // Idle expiry is exclusive: at `expires_at` the session is over.
    assert!(s.session("hash-1", row.expires_at).await.unwrap().is_none());
    assert!(
        s.session("hash-1", row.expires_at - Duration::seconds(1))
            .await
            .unwrap()
            .is_some()
    );

    // Sliding the idle expiry keeps it alive, but never past the absolute end.
    let later = t + Duration::hours(1);
    s.touch_session("hash-1", later + Duration::minutes(30))
        .await
        .unwrap();
    let (seen, _) = s.session("hash-1", later).await.unwrap().unwrap();
    assert_eq!(seen.expires_at, later + Duration::minutes(30));
    s.touch_session("hash-1", t + Duration::hours(13))
        .await
        .unwrap();
    assert!(
        s.session("hash-1", t + Duration::hours(12))
            .await
            .unwrap()
            .is_none()
    );

    assert_conflict(
        s.create_session(&row, draft(AuditAction::Login)).await,
        Conflict::Session,
    );
    let stranger = User {
        id: UserId::new(),
        ..u.clone()
    };
    assert_not_found(
        s.create_session(
            &session_row(&stranger, "hash-3", t),
            draft(AuditAction::Login),
        )
        .await,
    );

    let head = head_seq(s).await;
    s.delete_session("hash-1", draft(AuditAction::Logout))
        .await
        .unwrap();
    assert!(s.session("hash-1", later).await.unwrap().is_none());
    assert_eq!(head_seq(s).await, head + 1, "logging out is audited");
    assert!(verify(s).await.is_ok());
}

fn token(user: &User, name: &str, expires_at: Option<DateTime<Utc>>) -> ApiToken {
    ApiToken {
        id: TokenId::new(),
        user_id: user.id,
        name: name.to_owned(),
        created_at: now(),
        expires_at,
        last_used_at: None,
        revoked_at: None,
    }
}

pub async fn disabled_users_have_no_sessions_or_tokens(cx: Ctx) {
    let s = &*cx.store;
    let p = party(s, PartyKind::Origin, "Origin").await;
    let mut u = new_user(p.id, "ghost", &[Role::Viewer]);
    u.disabled = true;
    s.create_user(&u, "h", draft(AuditAction::UserCreate))
        .await
        .unwrap();
    let t = now();
    s.create_session(&session_row(&u, "sess", t), draft(AuditAction::Login))
        .await
        .unwrap();
    let tok = token(&u, "cli", None);
    s.create_token(&tok, "tok", draft(AuditAction::TokenCreate))
        .await
        .unwrap();
    assert!(s.session("sess", t).await.unwrap().is_none());
    assert!(s.token_by_hash("tok", t).await.unwrap().is_none());
    assert_eq!(
        s.get_token(tok.id).await.unwrap().unwrap().last_used_at,
        None,
        "no use was recorded"
    );

    // Enabling the account again brings both back (nothing was revoked: it was never disabled
    // by update_user).
    s.update_user(u.id, &[Role::Viewer], false, draft(AuditAction::UserUpdate))
        .await
        .unwrap();
    assert!(s.session("sess", t).await.unwrap().is_some());
    assert!(s.token_by_hash("tok", t).await.unwrap().is_some());
}

pub async fn disabling_a_user_ends_sessions_and_revokes_tokens(cx: Ctx) {
    let s = &*cx.store;
    let p = party(s, PartyKind::Origin, "Origin").await;
    let u = user(s, p.id, "anna").await;
    let t = now();
    s.create_session(&session_row(&u, "sess", t), draft(AuditAction::Login))
        .await
        .unwrap();
    let tok = token(&u, "cli", None);
    s.create_token(&tok, "tok", draft(AuditAction::TokenCreate))
        .await
        .unwrap();

    // Changing roles alone ends nothing.
    s.update_user(u.id, &[Role::Viewer], false, draft(AuditAction::UserUpdate))
        .await
        .unwrap();
    assert!(s.session("sess", t).await.unwrap().is_some());
    assert!(s.token_by_hash("tok", t).await.unwrap().is_some());

    s.update_user(u.id, &[Role::Viewer], true, draft(AuditAction::UserUpdate))
        .await
        .unwrap();
    let got = s.get_user(u.id).await.unwrap().unwrap();
    assert!(got.disabled);
    assert!(s.session("sess", t).await.unwrap().is_none());
    assert!(s.token_by_hash("tok", t).await.unwrap().is_none());
    assert!(
        s.get_token(tok.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );

    // Enabling again does not resurrect what was ended.
    s.update_user(u.id, &[Role::Viewer], false, draft(AuditAction::UserUpdate))
        .await
        .unwrap();
    assert!(s.session("sess", t).await.unwrap().is_none());
    assert!(s.token_by_hash("tok", t).await.unwrap().is_none());
    assert!(verify(s).await.is_ok());
}

pub async fn tokens_are_found_by_hash_until_revoked_or_expired(cx: Ctx) {
    let s = &*cx.store;
    let p = party(s, PartyKind::Origin, "Origin").await;
    let u = user(s, p.id, "anna").await;
    let t = now();
    let forever = token(&u, "forever", None);
    let brief = token(&u, "brief", Some(t + Duration::hours(1)));
    s.create_token(&forever, "hash-forever", draft(AuditAction::TokenCreate))
        .await
        .unwrap();
    s.create_token(&brief, "hash-brief", draft(AuditAction::TokenCreate))
        .await
        .unwrap();
    assert_eq!(
        s.list_tokens(u.id).await.unwrap(),
        vec![forever.clone(), brief.clone()]
    );
    assert_eq!(s.get_token(brief.id).await.unwrap(), Some(brief.clone()));
    assert_eq!(s.get_token(TokenId::new()).await.unwrap(), None);
    assert_eq!(s.list_tokens(UserId::new()).await.unwrap(), vec![]);

    let used_at = t + Duration::minutes(5);
    let (found, who) = s
        .token_by_hash("hash-brief", used_at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.id, found.last_used_at, who.id),
        (brief.id, Some(used_at), u.id)
    );
    assert_eq!(
        s.get_token(brief.id).await.unwrap().unwrap().last_used_at,
        Some(used_at)
    );
    assert!(
        s.token_by_hash("hash-unknown", used_at)
            .await
            .unwrap()
            .is_none()
    );

    // Expiry is exclusive, like sessions.
    assert!(
        s.token_by_hash("hash-brief", t + Duration::hours(1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.token_by_hash("hash-forever", t + Duration::days(3650))
            .await
            .unwrap()
            .is_some()
    );

    let head = head_seq(s).await;
    let revoked_at = t + Duration::minutes(10);
    s.revoke_token(forever.id, revoked_at, draft(AuditAction::TokenRevoke))
        .await
        .unwrap();
    s.revoke_token(
        forever.id,
        revoked_at + Duration::minutes(1),
        draft(AuditAction::TokenRevoke),
    )
    .await
    .unwrap();
    assert_eq!(head_seq(s).await, head + 2, "revoking twice still audits");
    assert_eq!(
        s.get_token(forever.id).await.unwrap().unwrap().revoked_at,
        Some(revoked_at),
        "the first revocation stands"
    );
    assert!(
        s.token_by_hash("hash-forever", revoked_at)
            .await
            .unwrap()
            .is_none()
    );
    assert_not_found(
        s.revoke_token(TokenId::new(), t, draft(AuditAction::TokenRevoke))
            .await,
    );
    assert_eq!(head_seq(s).await, head + 2);

    let dup = token(&u, "dup", None);
    assert_conflict(
        s.create_token(&dup, "hash-brief", draft(AuditAction::TokenCreate))
            .await,
        Conflict::Token,
    );
    let stranger = User {
        id: UserId::new(),
        ..u.clone()
    };
    assert_not_found(
        s.create_token(
            &token(&stranger, "x", None),
            "hash-x",
            draft(AuditAction::TokenCreate),
        )
        .await,
    );
    assert!(verify(s).await.is_ok());
}

pub async fn login_failures_are_counted_and_cleared(cx: Ctx) {
    let s = &*cx.store;
    let t0 = now();
    let keys = vec!["user:anna".to_owned(), "ip:10.0.0.1".to_owned()];
    for i in 0..3 {
        s.record_login_failure(
            &keys,
            t0 + Duration::minutes(i),
            draft(AuditAction::LoginFailed),
        )
        .await
        .unwrap();
    }
    s.record_login_failure(
        &["user:boris".to_owned()],
        t0,
        draft(AuditAction::LoginFailed),
    )
    .await
    .unwrap();
    assert_eq!(s.count_login_failures("user:anna", t0).await.unwrap(), 3);
    assert_eq!(
        s.count_login_failures("user:anna", t0 + Duration::seconds(90))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.count_login_failures("user:anna", t0 + Duration::minutes(2))
            .await
            .unwrap(),
        1,
        "`since` is inclusive"
    );
    assert_eq!(s.count_login_failures("ip:10.0.0.1", t0).await.unwrap(), 3);
    assert_eq!(s.count_login_failures("user:nobody", t0).await.unwrap(), 0);

    s.clear_login_failures("user:anna", t0 - Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(s.count_login_failures("user:anna", t0).await.unwrap(), 0);
    assert_eq!(s.count_login_failures("ip:10.0.0.1", t0).await.unwrap(), 3);
    assert_eq!(s.count_login_failures("user:boris", t0).await.unwrap(), 1);
    // Failures older than the throttling window are pruned whatever their key.
    s.clear_login_failures("user:nobody", t0 + Duration::seconds(91))
        .await
        .unwrap();
    assert_eq!(s.count_login_failures("ip:10.0.0.1", t0).await.unwrap(), 1);

    let failed = s
        .audit_entries(&AuditFilter {
            action: Some("auth.login_failed".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(failed.len(), 4);
    assert!(verify(s).await.is_ok());
}

pub async fn records_round_trip(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let mut traced = new_record(
        &w.origin,
        &w.origin_user,
        content(
            RecordKind::TracingRequest,
            "Дмитро Олійник",
            "m",
            Some("~2015-03"),
            Some("OMB-1"),
        ),
    );
    traced.change = "import";
    let held = new_record(
        &w.custody,
        &w.custody_user,
        content(RecordKind::CustodyRecord, "Dmitri Oliynik", "m", None, None),
    );
    insert(s, &[traced.clone(), held.clone()]).await;

    let read = |id: RecordId| draft(AuditAction::RecordRead).target("record", id);
    let got = s
        .get_record(
            Scope::AllSubmitted,
            traced.record.id,
            read(traced.record.id),
        )
        .await
        .unwrap();
    assert_eq!(got, Some(traced.record.clone()));
    let got = s
        .get_record(
            Scope::OwnParty(w.custody.id),
            held.record.id,
            draft(AuditAction::RecordRead),
        )
        .await
        .unwrap();
    assert_eq!(got, Some(held.record.clone()));

    let history_draft = draft(AuditAction::RecordHistory).target("record", traced.record.id);
    let history = s
        .record_history(Scope::AllSubmitted, traced.record.id, history_draft)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(history.len(), 1);
    let v = &history[0];
    assert_eq!(
        (v.record_id, v.version, v.change.as_str()),
        (traced.record.id, 1, "import")
    );
    assert_eq!(
        (&v.content, v.changed_at, v.changed_by),
        (
            &traced.record.content,
            traced.record.created_at,
            w.origin_user.id
        )
    );

    // Misses read nothing, so they audit nothing.
    let head = head_seq(s).await;
    assert_eq!(
        s.get_record(
            Scope::AllSubmitted,
            RecordId::new(),
            draft(AuditAction::RecordRead)
        )
        .await
        .unwrap(),
        None
    );
    assert_eq!(
        s.record_history(
            Scope::AllSubmitted,
            RecordId::new(),
            draft(AuditAction::RecordHistory)
        )
        .await
        .unwrap(),
        None
    );
    assert_eq!(head_seq(s).await, head);

    // Each read above appended its entry, naming the record.
    let reads = s
        .audit_entries(&AuditFilter {
            target_id: Some(traced.record.id.to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<_> = reads.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["record.create", "record.read", "record.history"]);
    assert!(verify(s).await.is_ok());
}

pub async fn list_filters(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let (o, c) = (&w.origin, &w.custody);
    let (ou, cu) = (&w.origin_user, &w.custody_user);
    let tr = RecordKind::TracingRequest;
    let cr = RecordKind::CustodyRecord;
    let recs = [
        new_record(
            o,
            ou,
            content(tr, "Anna Kovalenko", "f", Some("2014"), Some("A-1")),
        ),
        new_record(
            o,
            ou,
            content(tr, "Bohdan Kovalenko", "m", Some("2016-05"), None),
        ),
        new_record(
            o,
            ou,
            content(tr, "Olena 50%_off\\x", "f", None, Some("A-3")),
        ),
        new_record(
            c,
            cu,
            content(cr, "Anna Kovalenko", "f", Some("2014-02-03"), Some("C-1")),
        ),
        new_record(
            c,
            cu,
            content(cr, "Petro Shevchenko", "u", Some("2018"), None),
        ),
        new_record(
            c,
            cu,
            content(cr, "Olena 50 off", "f", Some("2012"), Some("A-1")),
        ),
    ];
    insert(s, &recs).await;
    let id = |i: usize| recs[i].record.id;
    let all = Scope::AllSubmitted;
    let q = |f: RecordFilter| async move { list(s, all, &f).await };

    assert_eq!(
        q(filter()).await,
        (0..6).map(id).collect::<Vec<_>>(),
        "ordered by id, i.e. by creation"
    );
    assert_eq!(
        q(RecordFilter {
            kind: Some(cr),
            ..filter()
        })
        .await,
        vec![id(3), id(4), id(5)]
    );
    assert_eq!(
        q(RecordFilter {
            party: Some(o.id),
            ..filter()
        })
        .await,
        vec![id(0), id(1), id(2)]
    );
    assert_eq!(
        q(RecordFilter {
            sex: Some(Sex::Female),
            ..filter()
        })
        .await,
        vec![id(0), id(2), id(3), id(5)]
    );
    assert_eq!(
        q(RecordFilter {
            sex: Some(Sex::Unknown),
            ..filter()
        })
        .await,
        vec![id(4)]
    );
    assert_eq!(
        q(RecordFilter {
            name: Some("kovalenko".into()),
            ..filter()
        })
        .await,
        vec![id(0), id(1), id(3)]
    );
    assert_eq!(
        q(RecordFilter {
            name: Some("anna kov".into()),
            ..filter()
        })
        .await,
        vec![id(0), id(3)]
    );
    // Name terms: every word must match, by any one of its alternatives; wildcards are literal.
    assert_eq!(
        q(RecordFilter {
            name_terms: vec![
                vec!["nobody".into(), "kovalenko".into()],
                vec!["anna".into()]
            ],
            ..filter()
        })
        .await,
        vec![id(0), id(3)]
    );
    assert_eq!(
        q(RecordFilter {
            name_terms: vec![vec!["kovalenko".into()], vec!["%".into()]],
            ..filter()
        })
        .await,
        Vec::<RecordId>::new()
    );
    // LIKE's wildcards in the name are literal text.
    assert_eq!(
        q(RecordFilter {
            name: Some("50%".into()),
            ..filter()
        })
        .await,
        vec![id(2)]
    );
    assert_eq!(
        q(RecordFilter {
            name: Some("%_off".into()),
            ..filter()
        })
        .await,
        vec![id(2)]
    );
    assert_eq!(
        q(RecordFilter {
            name: Some("_".into()),
            ..filter()
        })
        .await,
        vec![id(2)]
    );
    assert_eq!(
        q(RecordFilter {
            name: Some("\\x".into()),
            ..filter()
        })
        .await,
        vec![id(2)]
    );
    assert_eq!(
        q(RecordFilter {
            name: Some("nobody".into()),
            ..filter()
        })
        .await,
        vec![]
    );
    assert_eq!(
        q(RecordFilter {
            born_from_year: Some(2014),
            ..filter()
        })
        .await,
        vec![id(0), id(1), id(3), id(4)]
    );
    assert_eq!(
        q(RecordFilter {
            born_to_year: Some(2014),
            ..filter()
        })
        .await,
        vec![id(0), id(3), id(5)]
    );
    assert_eq!(
        q(RecordFilter {
            born_from_year: Some(2014),
            born_to_year: Some(2016),
            ..filter()
        })
        .await,
        vec![id(0), id(1), id(3)]
    );
    assert_eq!(
        q(RecordFilter {
            external_ref: Some("A-1".into()),
            ..filter()
        })
        .await,
        vec![id(0), id(5)]
    );
    assert_eq!(
        q(RecordFilter {
            kind: Some(tr),
            sex: Some(Sex::Female),
            name: Some("anna".into()),
            born_to_year: Some(2015),
            ..filter()
        })
        .await,
        vec![id(0)]
    );

    let deleted = RecordDeletion {
        id: id(1),
        reason: "duplicate",
        by: ou.id,
        at: now(),
    };
    s.delete_record(all, deleted, draft(AuditAction::RecordDelete))
        .await
        .unwrap();
    assert_eq!(
        q(RecordFilter {
            party: Some(o.id),
            ..filter()
        })
        .await,
        vec![id(0), id(2)]
    );
    assert_eq!(
        q(RecordFilter {
            party: Some(o.id),
            include_deleted: true,
            ..filter()
        })
        .await,
        vec![id(0), id(1), id(2)]
    );
}

pub async fn list_paging_and_limits(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let recs: Vec<NewRecord> = (0..1005)
        .map(|i| {
            new_record(
                &w.origin,
                &w.origin_user,
                content(
                    RecordKind::TracingRequest,
                    &format!("Child {i}"),
                    "u",
                    None,
                    None,
                ),
            )
        })
        .collect();
    insert(s, &recs).await;
    let mut ids: Vec<RecordId> = recs.iter().map(|r| r.record.id).collect();
    ids.sort();

    let all = Scope::AllSubmitted;
    assert_eq!(list(s, all, &filter()).await, ids[..50], "limit 0 means 50");
    assert_eq!(
        list(
            s,
            all,
            &RecordFilter {
                limit: 5000,
                ..filter()
            }
        )
        .await,
        ids[..1000],
        "at most 1000"
    );
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = list(
            s,
            all,
            &RecordFilter {
                limit: 300,
                after,
                ..filter()
            },
        )
        .await;
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 300);
        after = page.last().copied();
        seen.extend(page);
    }
    assert_eq!(
        seen, ids,
        "keyset paging visits every record once, in order"
    );
    let own = Scope::OwnParty(w.origin.id);
    assert_eq!(
        list(
            s,
            own,
            &RecordFilter {
                limit: 3,
                after: Some(ids[1001]),
                ..filter()
            }
        )
        .await,
        ids[1002..]
    );
}

pub async fn scope_isolation(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let traced = new_record(
        &w.origin,
        &w.origin_user,
        content(
            RecordKind::TracingRequest,
            "Anna Kovalenko",
            "f",
            None,
            None,
        ),
    );
    let held = new_record(
        &w.custody,
        &w.custody_user,
        content(RecordKind::CustodyRecord, "Anna Kovalenko", "f", None, None),
    );
    insert(s, &[traced.clone(), held.clone()]).await;
    let (t, h) = (traced.record.id, held.record.id);
    let origin = Scope::OwnParty(w.origin.id);
    let custody = Scope::OwnParty(w.custody.id);
    let mediator = Scope::for_party(w.mediator.kind, w.mediator.id);
    assert_eq!(mediator, Scope::AllSubmitted);

    let head = head_seq(s).await;
    // The custody side cannot tell the origin's record from one that does not exist.
    assert_eq!(
        s.get_record(custody, t, draft(AuditAction::RecordRead))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.record_history(custody, t, draft(AuditAction::RecordHistory))
            .await
            .unwrap(),
        None
    );
    let change = RecordChange {
        id: t,
        expected_version: 1,
        content: &held.record.content,
        search_key: "x",
        by: w.custody_user.id,
        at: now(),
    };
    assert_not_found(
        s.update_record(custody, change, draft(AuditAction::RecordUpdate))
            .await,
    );
    let deletion = RecordDeletion {
        id: t,
        reason: "mine now",
        by: w.custody_user.id,
        at: now(),
    };
    assert_not_found(
        s.delete_record(custody, deletion, draft(AuditAction::RecordDelete))
            .await,
    );
    assert_eq!(
        head_seq(s).await,
        head,
        "refused reads and writes append nothing"
    );

    assert_eq!(list(s, custody, &filter()).await, vec![h]);
    assert_eq!(
        list(
            s,
            custody,
            &RecordFilter {
                party: Some(w.origin.id),
                ..filter()
            }
        )
        .await,
        vec![]
    );
    assert_eq!(
        list(
            s,
            custody,
            &RecordFilter {
                name: Some("anna".into()),
                include_deleted: true,
                ..filter()
            }
        )
        .await,
        vec![h]
    );
    assert_eq!(list(s, origin, &filter()).await, vec![t]);
    assert_eq!(list(s, mediator, &filter()).await, vec![t, h]);
    assert!(
        s.get_record(mediator, t, draft(AuditAction::RecordRead))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.get_record(origin, t, draft(AuditAction::RecordRead))
            .await
            .unwrap()
            .is_some()
    );

    // The record is untouched.
    let again = s
        .get_record(origin, t, draft(AuditAction::RecordRead))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, traced.record);
}

pub async fn scope_nothing_sees_nothing(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let traced = new_record(
        &w.origin,
        &w.origin_user,
        content(RecordKind::TracingRequest, "Anna", "f", None, None),
    );
    insert(s, std::slice::from_ref(&traced)).await;
    let id = traced.record.id;
    let head = head_seq(s).await;
    let none = Scope::Nothing;
    assert_eq!(
        s.get_record(none, id, draft(AuditAction::RecordRead))
            .await
            .unwrap(),
        None
    );
    assert_eq!(list(s, none, &filter()).await, vec![]);
    assert_eq!(
        list(
            s,
            none,
            &RecordFilter {
                party: Some(w.origin.id),
                include_deleted: true,
                ..filter()
            }
        )
        .await,
        vec![]
    );
    assert_eq!(
        s.record_history(none, id, draft(AuditAction::RecordHistory))
            .await
            .unwrap(),
        None
    );
    let change = RecordChange {
        id,
        expected_version: 1,
        content: &traced.record.content,
        search_key: "x",
        by: w.origin_user.id,
        at: now(),
    };
    assert_not_found(
        s.update_record(none, change, draft(AuditAction::RecordUpdate))
            .await,
    );
    let deletion = RecordDeletion {
        id,
        reason: "r",
        by: w.origin_user.id,
        at: now(),
    };
    assert_not_found(
        s.delete_record(none, deletion, draft(AuditAction::RecordDelete))
            .await,
    );
    assert_eq!(head_seq(s).await, head);
}

pub async fn update_checks_the_version_and_keeps_history(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let original = new_record(
        &w.origin,
        &w.origin_user,
        content(
            RecordKind::TracingRequest,
            "Anna Kovalenko",
            "f",
            Some("2014"),
            None,
        ),
    );
    insert(s, std::slice::from_ref(&original)).await;
    let id = original.record.id;
    let own = Scope::OwnParty(w.origin.id);

    let changed = content(
        RecordKind::TracingRequest,
        "Hanna Kovalenko",
        "f",
        Some("2013"),
        Some("OMB-7"),
    );
    let at = now() + Duration::seconds(5);
    let key = search_key(&changed);
    let change = RecordChange {
        id,
        expected_version: 1,
        content: &changed,
        search_key: &key,
        by: w.origin_user.id,
        at,
    };
    let updated = s
        .update_record(own, change.clone(), draft(AuditAction::RecordUpdate))
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.content, changed);
    assert_eq!(
        (updated.updated_at, updated.updated_by),
        (at, w.origin_user.id)
    );
    assert_eq!(
        (updated.created_at, updated.created_by),
        (original.record.created_at, original.record.created_by)
    );
    assert_eq!(
        s.get_record(own, id, draft(AuditAction::RecordRead))
            .await
            .unwrap(),
        Some(updated.clone())
    );

    // The filter columns follow the new content.
    assert_eq!(
        list(
            s,
            own,
            &RecordFilter {
                name: Some("hanna".into()),
                ..filter()
            }
        )
        .await,
        vec![id]
    );
    assert_eq!(
        list(
            s,
            own,
            &RecordFilter {
                born_to_year: Some(2013),
                ..filter()
            }
        )
        .await,
        vec![id]
    );
    assert_eq!(
        list(
            s,
            own,
            &RecordFilter {
                external_ref: Some("OMB-7".into()),
                ..filter()
            }
        )
        .await,
        vec![id]
    );
    assert_eq!(
        list(
            s,
            own,
            &RecordFilter {
                born_from_year: Some(2014),
                ..filter()
            }
        )
        .await,
        vec![]
    );

    let head = head_seq(s).await;
    match s
        .update_record(own, change.clone(), draft(AuditAction::RecordUpdate))
        .await
    {
        Err(StoreError::VersionConflict { current }) => assert_eq!(current, 2),
        other => panic!("expected a version conflict, got {other:?}"),
    }
    assert_not_found(
        s.update_record(
            own,
            RecordChange {
                id: RecordId::new(),
                ..change.clone()
            },
            draft(AuditAction::RecordUpdate),
        )
        .await,
    );
    assert_eq!(head_seq(s).await, head);

    let again = content(
        RecordKind::TracingRequest,
        "Hanna Kovalenko",
        "f",
        Some("2013-04"),
        Some("OMB-7"),
    );
    let third = s
        .update_record(
            own,
            RecordChange {
                expected_version: 2,
                content: &again,
                ..change
            },
            draft(AuditAction::RecordUpdate),
        )
        .await
        .unwrap();
    assert_eq!(third.version, 3);

    let history = s
        .record_history(own, id, draft(AuditAction::RecordHistory))
        .await
        .unwrap()
        .unwrap();
    let summary: Vec<_> = history
        .iter()
        .map(|v| (v.version, v.change.as_str()))
        .collect();
    assert_eq!(summary, [(1, "create"), (2, "update"), (3, "update")]);
    assert_eq!(history[0].content, original.record.content);
    assert_eq!(history[1].content, changed);
    assert_eq!(history[2].content, again);
    assert_eq!(
        (history[1].changed_at, history[1].changed_by),
        (at, w.origin_user.id)
    );
    assert!(verify(s).await.is_ok());
}

pub async fn concurrent_updates_have_one_winner(cx: Ctx) {
    let s = &cx.store;
    let w = world(&**s).await;
    let original = new_record(
        &w.origin,
        &w.origin_user,
        content(RecordKind::TracingRequest, "Anna", "f", None, None),
    );
    insert(&**s, std::slice::from_ref(&original)).await;
    let id = original.record.id;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let s = Arc::clone(s);
            let by = w.origin_user.id;
            tokio::spawn(async move {
                let c = content(
                    RecordKind::TracingRequest,
                    &format!("Anna {i}"),
                    "f",
                    None,
                    None,
                );
                let change = RecordChange {
                    id,
                    expected_version: 1,
                    content: &c,
                    search_key: "anna",
                    by,
                    at: now(),
                };
                s.update_record(
                    Scope::AllSubmitted,
                    change,
                    draft(AuditAction::RecordUpdate),
                )
                .await
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => {
                assert_eq!(r.version, 2);
                won += 1;
            }
            Err(StoreError::VersionConflict { current }) => assert_eq!(current, 2),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(won, 1);
    let history = s
        .record_history(Scope::AllSubmitted, id, draft(AuditAction::RecordHistory))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(history.len(), 2);
    assert!(verify(&**s).await.is_ok());
}

pub async fn soft_delete(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let rec = new_record(
        &w.origin,
        &w.origin_user,
        content(RecordKind::TracingRequest, "Anna", "f", None, None),
    );
    insert(s, std::slice::from_ref(&rec)).await;
    let id = rec.record.id;
    let own = Scope::OwnParty(w.origin.id);
    let at = now() + Duration::seconds(1);
    let deletion = RecordDeletion {
        id,
        reason: "entered twice",
        by: w.origin_user.id,
        at,
    };
    let deleted = s
        .delete_record(own, deletion.clone(), draft(AuditAction::RecordDelete))
        .await
        .unwrap();
    assert_eq!(deleted.deleted_at, Some(at));
    assert_eq!(deleted.deletion_reason.as_deref(), Some("entered twice"));
    assert_eq!(
        deleted.content, rec.record.content,
        "deleting keeps the content"
    );
    assert_eq!(deleted.version, 2);

    // Still readable by id (it says it is deleted), gone from lists unless asked for.
    assert_eq!(
        s.get_record(own, id, draft(AuditAction::RecordRead))
            .await
            .unwrap(),
        Some(deleted.clone())
    );
    assert_eq!(list(s, own, &filter()).await, vec![]);
    assert_eq!(
        list(
            s,
            own,
            &RecordFilter {
                include_deleted: true,
                ..filter()
            }
        )
        .await,
        vec![id]
    );

    let head = head_seq(s).await;
    assert_not_found(
        s.delete_record(own, deletion, draft(AuditAction::RecordDelete))
            .await,
    );
    let change = RecordChange {
        id,
        expected_version: 2,
        content: &rec.record.content,
        search_key: "anna",
        by: w.origin_user.id,
        at,
    };
    assert_not_found(
        s.update_record(own, change, draft(AuditAction::RecordUpdate))
            .await,
    );
    assert_eq!(head_seq(s).await, head);

    let history = s
        .record_history(own, id, draft(AuditAction::RecordHistory))
        .await
        .unwrap()
        .unwrap();
    let summary: Vec<_> = history
        .iter()
        .map(|v| (v.version, v.change.as_str(), v.changed_at))
        .collect();
    assert_eq!(
        summary,
        [(1, "create", rec.record.created_at), (2, "delete", at)]
    );
    assert!(verify(s).await.is_ok());
}

pub async fn insert_records_is_atomic(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let head = head_seq(s).await;
    let make = |n: usize| -> Vec<NewRecord> {
        (0..n)
            .map(|i| {
                new_record(
                    &w.origin,
                    &w.origin_user,
                    content(
                        RecordKind::TracingRequest,
                        &format!("Child {i}"),
                        "u",
                        None,
                        None,
                    ),
                )
            })
            .collect()
    };

    // A duplicate id deep in the batch, after the first bulk statements have already run.
    let mut batch = make(1200);
    batch[1100].record.id = batch[3].record.id;
    let audit = batch
        .iter()
        .map(|r| draft(AuditAction::RecordCreate).target("record", r.record.id))
        .collect();
    assert_conflict(
        s.insert_records(&batch, audit, &no_progress).await,
        Conflict::RecordId,
    );
    assert_eq!(
        list(
            s,
            Scope::AllSubmitted,
            &RecordFilter {
                include_deleted: true,
                ..filter()
            }
        )
        .await,
        vec![]
    );
    let head_after_list = head_seq(s).await;
    assert_eq!(
        head_after_list,
        head + 1,
        "only the list just made was audited"
    );

    // A record of a party that does not exist.
    let mut batch = make(10);
    batch[9].record.party_id = PartyId::new();
    let audit = vec![draft(AuditAction::ImportCommit)];
    assert_not_found(s.insert_records(&batch, audit, &no_progress).await);
    assert_eq!(
        list(
            s,
            Scope::AllSubmitted,
            &RecordFilter {
                include_deleted: true,
                ..filter()
            }
        )
        .await,
        vec![]
    );
    assert_eq!(head_seq(s).await, head_after_list + 1);

    // The same id as a record already stored.
    let ok = make(2);
    insert(s, &ok).await;
    let mut batch = make(3);
    batch[2].record.id = ok[0].record.id;
    assert_conflict(
        s.insert_records(&batch, vec![draft(AuditAction::ImportCommit)], &no_progress)
            .await,
        Conflict::RecordId,
    );
    let stored = list(s, Scope::AllSubmitted, &filter()).await;
    assert_eq!(stored.len(), 2);
    assert!(verify(s).await.is_ok());
}

pub async fn insert_records_reports_progress(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let batch: Vec<NewRecord> = (0..2500)
        .map(|i| {
            new_record(
                &w.custody,
                &w.custody_user,
                content(
                    RecordKind::CustodyRecord,
                    &format!("Child {i}"),
                    "f",
                    None,
                    None,
                ),
            )
        })
        .collect();
    let seen = Mutex::new(Vec::new());
    let progress = |n: usize| seen.lock().unwrap().push(n);
    let mut audit: Vec<AuditDraft> = batch
        .iter()
        .map(|r| draft(AuditAction::RecordCreate).target("record", r.record.id))
        .collect();
    audit.push(draft(AuditAction::ImportCommit).details(json!({"records": 2500})));
    let head = head_seq(s).await;
    s.insert_records(&batch, audit, &progress).await.unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(seen.last(), Some(&2500));
    assert!(seen.contains(&1000) && seen.contains(&2000), "{seen:?}");
    assert_eq!(head_seq(s).await, head + 2501);
    assert_eq!(verify(s).await, Ok(head + 2501));
    let n = list(
        s,
        Scope::OwnParty(w.custody.id),
        &RecordFilter {
            limit: 1000,
            ..filter()
        },
    )
    .await
    .len();
    assert_eq!(n, 1000);
}

pub async fn list_records_audits_the_ids_returned(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let recs: Vec<NewRecord> = (0..3)
        .map(|i| {
            new_record(
                &w.origin,
                &w.origin_user,
                content(
                    RecordKind::TracingRequest,
                    &format!("Child {i}"),
                    "u",
                    None,
                    None,
                ),
            )
        })
        .collect();
    insert(s, &recs).await;
    let ids: Vec<String> = recs.iter().map(|r| r.record.id.to_string()).collect();

    s.list_records(
        Scope::AllSubmitted,
        &filter(),
        AuditDraft::new(AuditAction::RecordList),
    )
    .await
    .unwrap();
    let (seq, _) = s.audit_head().await.unwrap();
    let e = &s
        .audit_entries(&AuditFilter {
            after_seq: seq - 1,
            ..Default::default()
        })
        .await
        .unwrap()[0];
    let details: serde_json::Value = serde_json::from_str(&e.details).unwrap();
    assert_eq!(details, json!({ "record_ids": ids }));

    let listed = s
        .list_records(
            Scope::AllSubmitted,
            &RecordFilter {
                limit: 1,
                ..filter()
            },
            draft(AuditAction::RecordList).details(json!({"page": 1})),
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let e = &s
        .audit_entries(&AuditFilter {
            after_seq: seq,
            ..Default::default()
        })
        .await
        .unwrap()[0];
    let details: serde_json::Value = serde_json::from_str(&e.details).unwrap();
    assert_eq!(details, json!({ "page": 1, "record_ids": [ids[0]] }));

    s.list_records(
        Scope::AllSubmitted,
        &RecordFilter {
            name: Some("nobody".into()),
            ..filter()
        },
        draft(AuditAction::RecordList),
    )
    .await
    .unwrap();
    let e = &s
        .audit_entries(&AuditFilter {
            after_seq: seq + 1,
            ..Default::default()
        })
        .await
        .unwrap()[0];
    let details: serde_json::Value = serde_json::from_str(&e.details).unwrap();
    assert_eq!(
        details["record_ids"],
        json!([]),
        "empty lists are audited too"
    );
    assert!(verify(s).await.is_ok());
}

pub async fn every_write_appends_to_one_verifiable_chain(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await; // 3 parties + 2 users
    let t = now();
    let rec = new_record(
        &w.origin,
        &w.origin_user,
        content(RecordKind::TracingRequest, "Anna", "f", None, None),
    );
    insert(s, std::slice::from_ref(&rec)).await; // 1
    let c = content(RecordKind::TracingRequest, "Hanna", "f", None, None);
    let change = RecordChange {
        id: rec.record.id,
        expected_version: 1,
        content: &c,
        search_key: "hanna",
        by: w.origin_user.id,
        at: t,
    };
    s.update_record(
        Scope::AllSubmitted,
        change,
        draft(AuditAction::RecordUpdate),
    )
    .await
    .unwrap(); // 1
    s.get_record(
        Scope::AllSubmitted,
        rec.record.id,
        draft(AuditAction::RecordRead),
    )
    .await
    .unwrap(); // 1
    list(s, Scope::AllSubmitted, &filter()).await; // 1
    s.record_history(
        Scope::AllSubmitted,
        rec.record.id,
        draft(AuditAction::RecordHistory),
    )
    .await
    .unwrap(); // 1
    let deletion = RecordDeletion {
        id: rec.record.id,
        reason: "test",
        by: w.origin_user.id,
        at: t,
    };
    s.delete_record(
        Scope::AllSubmitted,
        deletion,
        draft(AuditAction::RecordDelete),
    )
    .await
    .unwrap(); // 1
    s.create_session(
        &session_row(&w.origin_user, "sess", t),
        draft(AuditAction::Login),
    )
    .await
    .unwrap(); // 1
    s.delete_session("sess", draft(AuditAction::Logout))
        .await
        .unwrap(); // 1
    let tok = token(&w.origin_user, "cli", None);
    s.create_token(&tok, "tok", draft(AuditAction::TokenCreate))
        .await
        .unwrap(); // 1
    s.revoke_token(tok.id, t, draft(AuditAction::TokenRevoke))
        .await
        .unwrap(); // 1
    s.set_password(
        w.origin_user.id,
        "h2",
        false,
        draft(AuditAction::UserPasswordReset),
    )
    .await
    .unwrap(); // 1
    s.set_totp(
        w.origin_user.id,
        Some("S"),
        true,
        draft(AuditAction::UserTotpEnable),
    )
    .await
    .unwrap(); // 1
    s.update_user(
        w.custody_user.id,
        &[Role::Viewer],
        true,
        draft(AuditAction::UserUpdate),
    )
    .await
    .unwrap(); // 1
    s.record_login_failure(&["user:x".into()], t, draft(AuditAction::LoginFailed))
        .await
        .unwrap(); // 1
    let last = s
        .append_audit(draft(AuditAction::AuditRead).target("audit", "all"))
        .await
        .unwrap(); // 1
    // Neither of these is audited by the store.
    s.clear_login_failures("user:x", t).await.unwrap();
    s.touch_session("sess", t).await.unwrap();

    let entries = all_entries(s).await;
    let actions: Vec<_> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "party.create",
            "party.create",
            "party.create",
            "user.create",
            "user.create",
            "record.create",
            "record.update",
            "record.read",
            "record.list",
            "record.history",
            "record.delete",
            "auth.login",
            "auth.logout",
            "token.create",
            "token.revoke",
            "user.password_reset",
            "user.totp_enable",
            "user.update",
            "auth.login_failed",
            "audit.read",
        ]
    );
    assert_eq!(entries.last(), Some(&last));
    assert_eq!(s.audit_head().await.unwrap(), (last.seq, last.hash.clone()));
    assert_eq!(verify(s).await, Ok(20));
    // What was stored is exactly what was hashed.
    let first = &entries[0];
    assert_eq!(first.prev_hash, homeward_domain::GENESIS_HASH);
    assert_eq!(first.details, r#"{"test":true}"#);
    assert_eq!(
        first.target_id.as_deref(),
        Some(w.mediator.id.to_string().as_str())
    );
}

pub async fn concurrent_appends_keep_one_chain(cx: Ctx) {
    let s = &cx.store;
    let w = world(&**s).await;
    let rec = new_record(
        &w.origin,
        &w.origin_user,
        content(RecordKind::TracingRequest, "Anna", "f", None, None),
    );
    insert(&**s, std::slice::from_ref(&rec)).await;
    let before = head_seq(&**s).await;
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let s = Arc::clone(s);
            let id = rec.record.id;
            tokio::spawn(async move {
                for i in 0..25 {
                    // Mix plain appends with audited reads, which take the same path.
                    if i % 5 == 0 {
                        s.get_record(Scope::AllSubmitted, id, draft(AuditAction::RecordRead))
                            .await
                            .unwrap()
                            .unwrap();
                    } else {
                        let d = AuditDraft::new(AuditAction::AuditRead)
                            .details(json!({"task": task, "i": i}));
                        s.append_audit(d).await.unwrap();
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let entries = all_entries(&**s).await;
    assert_eq!(entries.len() as i64, before + 200);
    let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=before + 200).collect::<Vec<_>>(),
        "no gaps, no duplicates"
    );
    assert_eq!(verify(&**s).await, Ok(before + 200));
}

/// Two store instances on one database, as two processes (SQLite) or two app servers
/// (PostgreSQL) would be: only the database itself can serialise their writers.
pub async fn two_stores_on_one_database_keep_one_chain(cx: Ctx) {
    let other = homeward_store::connect(&cx.url).await.unwrap();
    let w = world(&*cx.store).await;
    let before = head_seq(&*cx.store).await;
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let s = if task % 2 == 0 {
                Arc::clone(&cx.store)
            } else {
                Arc::clone(&other)
            };
            let (origin, by) = (w.origin.clone(), w.origin_user.clone());
            tokio::spawn(async move {
                for i in 0..10 {
                    if i % 2 == 0 {
                        let r = new_record(
                            &origin,
                            &by,
                            content(
                                RecordKind::TracingRequest,
                                &format!("Child {task}.{i}"),
                                "u",
                                None,
                                None,
                            ),
                        );
                        insert(&*s, std::slice::from_ref(&r)).await;
                    } else {
                        s.append_audit(
                            AuditDraft::new(AuditAction::AuditRead)
                                .details(json!({"task": task, "i": i})),
                        )
                        .await
                        .unwrap();
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    other.close().await;
    assert_eq!(verify(&*cx.store).await, Ok(before + 80));
    assert_eq!(
        list(
            &*cx.store,
            Scope::AllSubmitted,
            &RecordFilter {
                limit: 100,
                ..filter()
            }
        )
        .await
        .len(),
        40
    );
}

pub async fn audit_entries_filters(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let mut by_origin = draft(AuditAction::AuditRead).target("user", w.origin_user.id);
    by_origin.actor_user = Some(w.origin_user.id);
    by_origin.actor_party = Some(w.origin.id);
    by_origin.source = Some("10.0.0.1".into());
    let e1 = s.append_audit(by_origin.clone()).await.unwrap();
    let e2 = s.append_audit(by_origin).await.unwrap();
    let f = AuditFilter::default;

    assert_eq!(s.audit_entries(&f()).await.unwrap().len(), 7);
    assert_eq!(
        s.audit_entries(&AuditFilter {
            action: Some("party.create".into()),
            ..f()
        })
        .await
        .unwrap()
        .len(),
        3
    );
    assert_eq!(
        s.audit_entries(&AuditFilter {
            target_kind: Some("user".into()),
            ..f()
        })
        .await
        .unwrap()
        .len(),
        4
    );
    let mine = s
        .audit_entries(&AuditFilter {
            target_id: Some(w.origin_user.id.to_string()),
            ..f()
        })
        .await
        .unwrap();
    assert_eq!(mine.len(), 3, "user.create and two reads");
    assert_eq!(
        s.audit_entries(&AuditFilter {
            actor_user: Some(w.origin_user.id),
            ..f()
        })
        .await
        .unwrap(),
        vec![e1.clone(), e2.clone()]
    );
    assert_eq!(
        s.audit_entries(&AuditFilter {
            actor_party: Some(w.origin.id),
            ..f()
        })
        .await
        .unwrap(),
        vec![e1.clone(), e2.clone()]
    );
    assert_eq!(
        s.audit_entries(&AuditFilter {
            actor_party: Some(w.custody.id),
            ..f()
        })
        .await
        .unwrap(),
        vec![]
    );
    assert_eq!(e1.source.as_deref(), Some("10.0.0.1"));

    let page = s
        .audit_entries(&AuditFilter {
            after_seq: 2,
            limit: 3,
            ..f()
        })
        .await
        .unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4, 5]);
    let page = s
        .audit_entries(&AuditFilter {
            after_seq: 5,
            action: Some("audit.read".into()),
            ..f()
        })
        .await
        .unwrap();
    assert_eq!(page, vec![e1.clone(), e2.clone()]);

    // Backwards from a bound, newest first: the viewer's pages.
    let back = s
        .audit_entries(&AuditFilter {
            before_seq: Some(i64::MAX),
            limit: 3,
            ..f()
        })
        .await
        .unwrap();
    assert_eq!(back.iter().map(|e| e.seq).collect::<Vec<_>>(), [7, 6, 5]);
    let back = s
        .audit_entries(&AuditFilter {
            before_seq: Some(6),
            action: Some("party.create".into()),
            ..f()
        })
        .await
        .unwrap();
    assert!(back.windows(2).all(|w| w[0].seq > w[1].seq) && back.len() == 3);

    // A time range: from is inclusive, until exclusive.
    let at = |from, until| AuditFilter { from, until, ..f() };
    let only = s.audit_entries(&at(Some(e2.at), None)).await.unwrap();
    assert_eq!(only.last(), Some(&e2));
    assert!(only.iter().all(|e| e.at >= e2.at));
    let before = s.audit_entries(&at(None, Some(e1.at))).await.unwrap();
    assert!(before.iter().all(|e| e.at < e1.at) && !before.contains(&e1));
    let window = s
        .audit_entries(&at(
            Some(e1.at),
            Some(e2.at + chrono::Duration::microseconds(1)),
        ))
        .await
        .unwrap();
    assert!(window.contains(&e1) && window.contains(&e2));
    let later = e2.at + chrono::Duration::days(1);
    assert!(
        s.audit_entries(&at(Some(later), None))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Seven entries to tamper with.
async fn seven_entries(s: &dyn Store) {
    world(s).await;
    s.append_audit(draft(AuditAction::AuditRead)).await.unwrap();
    s.append_audit(draft(AuditAction::AuditRead)).await.unwrap();
    assert_eq!(verify(s).await, Ok(7));
}

pub async fn tampering_with_details_is_detected(cx: Ctx) {
    let s = &*cx.store;
    seven_entries(s).await;
    raw_sql(
        &cx.url,
        r#"UPDATE audit_log SET details = '{"test":false}' WHERE seq = 3"#,
    )
    .await;
    let err = verify(s).await.unwrap_err();
    assert_eq!(err.seq, 3, "{err}");
}

pub async fn deleting_a_middle_entry_is_detected(cx: Ctx) {
    let s = &*cx.store;
    seven_entries(s).await;
    raw_sql(&cx.url, "DELETE FROM audit_log WHERE seq = 4").await;
    let err = verify(s).await.unwrap_err();
    assert_eq!(err.seq, 4, "{err}");
}

pub async fn deleting_the_last_entry_is_detected(cx: Ctx) {
    let s = &*cx.store;
    seven_entries(s).await;
    raw_sql(&cx.url, "DELETE FROM audit_log WHERE seq = 7").await;
    let err = verify(s).await.unwrap_err();
    assert_eq!(err.seq, 7, "{err}");
    // The next append still chains from the head, so the gap stays visible.
    s.append_audit(draft(AuditAction::AuditRead)).await.unwrap();
    assert_eq!(verify(s).await.unwrap_err().seq, 7);
}

// ---- matching ------------------------------------------------------------------------------

/// A tracing request and custody records of the world's parties, stored.
pub async fn matching_world(s: &dyn Store, custody: usize) -> (World, RecordId, Vec<RecordId>) {
    let w = world(s).await;
    let t = new_record(
        &w.origin,
        &w.origin_user,
        content(
            RecordKind::TracingRequest,
            "Дмитро Олійник",
            "m",
            Some("2015-03-07"),
            None,
        ),
    );
    let cs: Vec<NewRecord> = (0..custody)
        .map(|i| {
            new_record(
                &w.custody,
                &w.custody_user,
                content(
                    RecordKind::CustodyRecord,
                    &format!("Дмитрий Олейник {i}"),
                    "m",
                    None,
                    None,
                ),
            )
        })
        .collect();
    insert(s, std::slice::from_ref(&t)).await;
    insert(s, &cs).await;
    let ids = cs.iter().map(|c| c.record.id).collect();
    (w, t.record.id, ids)
}

fn candidate(t: RecordId, c: RecordId, p: f64) -> homeward_store::NewCandidate {
    homeward_store::NewCandidate {
        id: MatchId::new(),
        tracing_record_id: t,
        custody_record_id: c,
        probability: p,
        match_weight: p * 10.0,
        explanation: json!({ "probability": p }).to_string(),
        model_version: "v-test".to_owned(),
        created_at: now(),
    }
}

fn candidate_audit(c: &[homeward_store::NewCandidate]) -> AuditDraft {
    draft(AuditAction::MatchCandidateCreate).details(serde_json::json!({ "count": c.len() }))
}

pub async fn derived_keys_are_replaced_and_their_version_kept(cx: Ctx) {
    let s = &*cx.store;
    let (_, t, cs) = matching_world(s, 1).await;
    assert_eq!(s.derived_keys_version().await.unwrap(), None);
    let search = |name: &'static str| async move {
        list(
            s,
            Scope::AllSubmitted,
            &RecordFilter {
                name: Some(name.into()),
                ..filter()
            },
        )
        .await
    };
    assert!(search("zzqx").await.is_empty());
    s.put_search_keys(&[(t, "zzqx folded".into()), (cs[0], "other".into())])
        .await
        .unwrap();
    assert_eq!(search("zzqx").await, vec![t]);
    assert_eq!(search("other").await, vec![cs[0]]);
    s.set_derived_keys_version("keys-1").await.unwrap();
    s.set_derived_keys_version("keys-2").await.unwrap();
    assert_eq!(
        s.derived_keys_version().await.unwrap().as_deref(),
        Some("keys-2")
    );
}

pub async fn block_keys_find_the_other_side(cx: Ctx) {
    let s = &*cx.store;
    let (w, t, cs) = matching_world(s, 3).await;
    let (tr, cr) = (RecordKind::TracingRequest, RecordKind::CustodyRecord);
    s.put_block_keys(&[
        (t, tr, vec!["b".into(), "a".into(), "a".into()]),
        (cs[0], cr, vec!["a".into()]),
        (cs[1], cr, vec!["b".into(), "z".into()]),
        (cs[2], cr, vec!["z".into()]),
    ])
    .await
    .unwrap();
    assert_eq!(s.block_keys(t).await.unwrap(), vec!["a", "b"]);
    let keys = s.block_keys(t).await.unwrap();
    let mut hits = s
        .blocked_records(RecordKind::CustodyRecord, &keys, 100)
        .await
        .unwrap();
    hits.sort();
    let mut want = vec![("a".to_owned(), cs[0]), ("b".to_owned(), cs[1])];
    want.sort();
    assert_eq!(hits, want);
    // Only the other side's records, and only as many as asked for.
    assert!(
        s.blocked_records(RecordKind::TracingRequest, &["z".into()], 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.blocked_records(RecordKind::CustodyRecord, &keys, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    // Replacing a record's keys drops the old ones; deleted records are not found.
    s.put_block_keys(&[(cs[0], cr, vec!["q".into()])])
        .await
        .unwrap();
    s.delete_record(
        Scope::AllSubmitted,
        RecordDeletion {
            id: cs[1],
            reason: "duplicate",
            by: w.custody_user.id,
            at: now(),
        },
        draft(AuditAction::RecordDelete),
    )
    .await
    .unwrap();
    assert!(
        s.blocked_records(RecordKind::CustodyRecord, &keys, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let found = s.records_for_linkage(&[t, cs[1], cs[2]]).await.unwrap();
    assert_eq!(
        found.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![t, cs[2]],
        "deleted records are not linked"
    );
    let all = s
        .records_of_kind(RecordKind::CustodyRecord, None, 10)
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let rest = s
        .records_of_kind(RecordKind::CustodyRecord, Some(all[0].id), 10)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
}

pub async fn candidates_are_stored_once_and_queued_by_probability(cx: Ctx) {
    let s = &*cx.store;
    let (_, t, cs) = matching_world(s, 4).await;
    let probs = [0.95, 0.7, 0.7, 0.3];
    let batch: Vec<_> = cs
        .iter()
        .zip(probs)
        .map(|(c, p)| candidate(t, *c, p))
        .collect();
    let before = head_seq(s).await;
    let ids = s.insert_candidates(&batch, &candidate_audit).await.unwrap();
    assert_eq!(ids.len(), 4);
    assert_eq!(
        head_seq(s).await,
        before + 1,
        "one audit entry for the batch, not one per candidate"
    );
    // The same pairs again (new ids, new scores) are ignored and not audited.
    let again: Vec<_> = cs.iter().map(|c| candidate(t, *c, 0.99)).collect();
    assert!(
        s.insert_candidates(&again, &candidate_audit)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        head_seq(s).await,
        before + 1,
        "nothing inserted, nothing audited"
    );

    let q = |min: f64, max: f64, after, limit| QueueFilter {
        min_probability: min,
        max_probability: max,
        after,
        before: false,
        limit,
    };
    let page = s
        .review_queue(&q(0.5, 1.0, None, 2), draft(AuditAction::MatchQueueRead))
        .await
        .unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].probability, 0.95);
    assert_eq!(page[0].status, CandidateStatus::Pending);
    assert_eq!(page[0].explanation, batch[0].explanation);
    let last = &page[1];
    let next = s
        .review_queue(
            &q(0.5, 1.0, Some((last.probability, last.id)), 2),
            draft(AuditAction::MatchQueueRead),
        )
        .await
        .unwrap();
    assert_eq!(next.len(), 1, "the band leaves out 0.3");
    assert_eq!(next[0].probability, 0.7);
    assert_ne!(next[0].id, last.id);
    let entries = all_entries(s).await;
    let read = entries.last().unwrap();
    assert_eq!(read.action, "match.queue_read");
    let details: serde_json::Value = serde_json::from_str(&read.details).unwrap();
    assert_eq!(details["match_ids"], json!([next[0].id.to_string()]));
    // Going back from the last one gives its neighbours nearest first.
    let back = s
        .review_queue(
            &QueueFilter {
                before: true,
                ..q(0.5, 1.0, Some((next[0].probability, next[0].id)), 5)
            },
            draft(AuditAction::MatchQueueRead),
        )
        .await
        .unwrap();
    assert_eq!(
        back.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![page[1].id, page[0].id]
    );
    assert_eq!(s.review_queue_count(0.5, 1.0, 100).await.unwrap(), 3);
    assert_eq!(
        s.review_queue_count(0.5, 1.0, 2).await.unwrap(),
        2,
        "capped"
    );
    assert_eq!(s.review_queue_count(0.0, 1.0, 100).await.unwrap(), 4);

    // A rejected pair stays rejected, and its pair can never be inserted again.
    let reviewer = UserId::new();
    s.decide_candidate(
        CandidateDecision {
            id: page[0].id,
            by: reviewer,
            at: now(),
            decision: Decision::Reject { reason: "not him" },
        },
        vec![draft(AuditAction::MatchReject)],
        None,
    )
    .await
    .unwrap();
    let back = candidate(t, cs[0], 0.99);
    assert!(
        s.insert_candidates(std::slice::from_ref(&back), &candidate_audit)
            .await
            .unwrap()
            .is_empty()
    );
    let got = s
        .get_candidate(page[0].id, draft(AuditAction::MatchRead))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.status, CandidateStatus::Rejected);
    assert_eq!(got.reason.as_deref(), Some("not him"));
    assert_eq!(got.decided_by, Some(reviewer));
    assert!(
        s.get_candidate(MatchId::new(), draft(AuditAction::MatchRead))
            .await
            .unwrap()
            .is_none()
    );
    // A deleted record's candidates leave the queue.
    let queued = |f| async move {
        s.review_queue(&f, draft(AuditAction::MatchQueueRead))
            .await
            .unwrap()
            .iter()
            .map(|c| c.custody_record_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        queued(q(0.0, 1.0, None, 10)).await,
        vec![cs[1], cs[2], cs[3]]
    );
    s.delete_record(
        Scope::AllSubmitted,
        RecordDeletion {
            id: cs[1],
            reason: "entered twice",
            by: UserId::new(),
            at: now(),
        },
        draft(AuditAction::RecordDelete),
    )
    .await
    .unwrap();
    assert_eq!(queued(q(0.0, 1.0, None, 10)).await, vec![cs[2], cs[3]]);
    assert_eq!(
        s.review_queue_count(0.0, 1.0, 100).await.unwrap(),
        2,
        "the count leaves out the deleted record's pairs like the queue"
    );
    assert_eq!(verify(s).await, Ok(head_seq(s).await));
}

fn located(t: RecordId, c: RecordId, m: MatchId, by: UserId) -> Case {
    let mut case = Case::new(CaseId::new(), by, now());
    case.tracing_request = Some(t);
    case.custody_record = Some(c);
    case.confirmed_match = Some(MatchLink {
        match_id: m,
        tracing_request: t,
        custody_record: c,
        confirmations: vec![MatchConfirmation { by, at: now() }],
    });
    case.state = CaseState::Located;
    case
}

pub async fn confirming_creates_or_joins_a_case(cx: Ctx) {
    let s = &*cx.store;
    let (_, t, cs) = matching_world(s, 2).await;
    let batch = vec![candidate(t, cs[0], 0.9), candidate(t, cs[1], 0.8)];
    s.insert_candidates(&batch, &candidate_audit).await.unwrap();
    let (first, second) = (UserId::new(), UserId::new());

    // Four eyes: the first confirmation keeps it pending; the same reviewer cannot complete it.
    let case = located(t, cs[0], batch[0].id, first);
    let d = |by, decision| CandidateDecision {
        id: batch[0].id,
        by,
        at: now(),
        decision,
    };
    let half = s
        .decide_candidate(
            d(
                first,
                Decision::FirstConfirmation {
                    reason: Some("looks right"),
                },
            ),
            vec![draft(AuditAction::MatchFirstConfirm)],
            None,
        )
        .await
        .unwrap();
    assert_eq!(half.candidate.status, CandidateStatus::Pending);
    assert_eq!(half.candidate.decided_by, Some(first));
    assert!(half.case.is_none());
    let confirm = |by| {
        d(
            by,
            Decision::Confirm {
                reason: None,
                second_of_two: true,
                new_case: &case,
            },
        )
    };
    assert!(matches!(
        s.decide_candidate(confirm(first), vec![draft(AuditAction::MatchConfirm)], None)
            .await,
        Err(StoreError::Conflict(Conflict::SameReviewer))
    ));
    let done = s
        .decide_candidate(
            confirm(second),
            vec![draft(AuditAction::MatchConfirm)],
            Some(draft(AuditAction::CaseCreate)),
        )
        .await
        .unwrap();
    assert_eq!(done.candidate.status, CandidateStatus::Confirmed);
    assert_eq!(done.candidate.second_reviewer, Some(second));
    assert_eq!(done.candidate.reason.as_deref(), Some("looks right"));
    assert!(done.case_created);
    assert_eq!(done.candidate.case_id, Some(case.id));
    let stored = s
        .get_case(case.id, draft(AuditAction::CaseRead))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.case, case);
    assert_eq!(stored.version, 1);
    assert!(matches!(
        s.decide_candidate(confirm(UserId::new()), vec![], None)
            .await,
        Err(StoreError::Conflict(Conflict::CandidateDecided))
    ));

    // Another custody record of the same request joins the existing case.
    let other = located(t, cs[1], batch[1].id, first);
    let joined = s
        .decide_candidate(
            CandidateDecision {
                id: batch[1].id,
                by: first,
                at: now(),
                decision: Decision::Confirm {
                    reason: Some("a second file on the same child"),
                    second_of_two: false,
                    new_case: &other,
                },
            },
            vec![draft(AuditAction::MatchConfirm)],
            Some(draft(AuditAction::CaseCreate)),
        )
        .await
        .unwrap();
    assert!(!joined.case_created);
    assert_eq!(joined.candidate.case_id, Some(case.id));
    assert!(
        s.get_case(other.id, draft(AuditAction::CaseRead))
            .await
            .unwrap()
            .is_none()
    );
    let entries = all_entries(s).await;
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"case.create") && actions.contains(&"case.join"));
    assert!(matches!(
        s.decide_candidate(
            CandidateDecision {
                id: MatchId::new(),
                by: first,
                at: now(),
                decision: Decision::Reject { reason: "x" },
            },
            vec![],
            None
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(verify(s).await, Ok(head_seq(s).await));
}

pub async fn the_linkage_model_is_replaced(cx: Ctx) {
    let s = &*cx.store;
    assert!(s.linkage_model().await.unwrap().is_none());
    for text in ["{\"v\":1}", "{\"v\":2}"] {
        s.put_linkage_model(
            &homeward_store::StoredModel {
                model: text.to_owned(),
                trained_at: now(),
            },
            draft(AuditAction::LinkageTrain),
        )
        .await
        .unwrap();
    }
    assert_eq!(s.linkage_model().await.unwrap().unwrap().model, "{\"v\":2}");
}

pub async fn a_new_model_comes_with_its_rescore_job_and_stale_candidates_page_by_id(cx: Ctx) {
    let s = &*cx.store;
    let (_, t, cs) = matching_world(s, 3).await;
    let drafts: Vec<_> = cs.iter().map(|c| candidate(t, *c, 0.9)).collect();
    s.insert_candidates(&drafts, &candidate_audit)
        .await
        .unwrap();
    let job = homeward_store::NewJob::new(
        homeward_store::RESCORE_CANDIDATES,
        json!({ "model_version": "v2" }),
        Some("rescore:v2".to_owned()),
    );
    s.put_linkage_model_rescoring(
        &homeward_store::StoredModel {
            model: "{\"v\":2}".to_owned(),
            trained_at: now(),
        },
        draft(AuditAction::LinkageTrain),
        &job,
    )
    .await
    .unwrap();
    assert_eq!(s.linkage_model().await.unwrap().unwrap().model, "{\"v\":2}");
    assert_eq!(
        s.job_by_key("rescore:v2").await.unwrap().unwrap().id,
        job.id
    );
    assert_eq!(s.count_stale_candidates("v2").await.unwrap(), 3);
    assert_eq!(s.count_stale_candidates("v-test").await.unwrap(), 0);
    let first = s.stale_candidates("v2", None, 2).await.unwrap();
    assert_eq!(first.len(), 2);
    assert!(first[0].id < first[1].id);
    assert!(first.iter().all(|c| c.tracing_record_id == t));
    let rest = s
        .stale_candidates("v2", Some(first[1].id), 2)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert!(rest[0].id > first[1].id);
    // A candidate scored by the new version is no longer stale.
    let newer = homeward_store::NewCandidate {
        model_version: "v2".to_owned(),
        ..candidate(t, rest[0].custody_record_id, 0.5)
    };
    let audit = |c: &[homeward_store::NewCandidate]| {
        draft(AuditAction::MatchCandidateRescore).details(json!({ "count": c.len() }))
    };
    assert_eq!(
        s.rescore_candidates(&[newer], &audit).await.unwrap().len(),
        1
    );
    assert_eq!(s.count_stale_candidates("v2").await.unwrap(), 2);
    assert_eq!(
        s.stale_candidates("v2", Some(first[1].id), 2)
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(verify(s).await, Ok(head_seq(s).await));
}

// ---- duplicates --------------------------------------------------------------------------------

fn duplicate(
    party: &Party,
    kind: RecordKind,
    a: RecordId,
    b: RecordId,
    p: f64,
) -> homeward_store::NewDuplicate {
    homeward_store::NewDuplicate {
        id: homeward_domain::DuplicateId::new(),
        party_id: party.id,
        kind,
        first_record_id: a,
        second_record_id: b,
        probability: p,
        match_weight: p * 10.0,
        explanation: json!({ "probability": p }).to_string(),
        model_version: "v-test".to_owned(),
        created_at: now(),
    }
}

fn duplicate_audit(d: &[homeward_store::NewDuplicate]) -> AuditDraft {
    draft(AuditAction::DuplicateCandidateCreate).details(serde_json::json!({ "count": d.len() }))
}

/// `n` custody records of the world's custody party, stored.
async fn custody_records(s: &dyn Store, w: &World, n: usize) -> Vec<RecordId> {
    let rs: Vec<NewRecord> = (0..n)
        .map(|i| {
            new_record(
                &w.custody,
                &w.custody_user,
                content(
                    RecordKind::CustodyRecord,
                    &format!("Дмитрий Олейник {i}"),
                    "m",
                    Some("2015-03-07"),
                    None,
                ),
            )
        })
        .collect();
    insert(s, &rs).await;
    rs.iter().map(|r| r.record.id).collect()
}

fn dup_filter(min: f64) -> homeward_store::DuplicateFilter {
    homeward_store::DuplicateFilter {
        min_probability: min,
        after: None,
        limit: 0,
    }
}

async fn queued_duplicates(s: &dyn Store, scope: Scope) -> Vec<homeward_domain::DuplicateId> {
    s.duplicate_queue(
        scope,
        &dup_filter(0.0),
        draft(AuditAction::DuplicateQueueRead),
    )
    .await
    .unwrap()
    .into_iter()
    .map(|d| d.id)
    .collect()
}

pub async fn block_keys_find_duplicates_within_one_party(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let mine = custody_records(s, &w, 2).await;
    let other_custody = party(s, PartyKind::Custody, "Second custody authority").await;
    let other_user = user(s, other_custody.id, "petro").await;
    let theirs = new_record(
        &other_custody,
        &other_user,
        content(
            RecordKind::CustodyRecord,
            "Дмитрий Олейник",
            "m",
            None,
            None,
        ),
    );
    let request = new_record(
        &w.origin,
        &w.origin_user,
        content(
            RecordKind::TracingRequest,
            "Дмитро Олійник",
            "m",
            None,
            None,
        ),
    );
    insert(s, &[theirs.clone(), request.clone()]).await;
    let (cr, tr) = (RecordKind::CustodyRecord, RecordKind::TracingRequest);
    s.put_block_keys(&[
        (mine[0], cr, vec!["a".into()]),
        (mine[1], cr, vec!["a".into(), "b".into()]),
        (theirs.record.id, cr, vec!["a".into()]),
        (request.record.id, tr, vec!["a".into()]),
    ])
    .await
    .unwrap();
    let mut hits = s
        .blocked_records_in_party(w.custody.id, cr, &["a".into(), "b".into()], 100)
        .await
        .unwrap();
    hits.sort();
    let mut want = vec![
        ("a".to_owned(), mine[0]),
        ("a".to_owned(), mine[1]),
        ("b".to_owned(), mine[1]),
    ];
    want.sort();
    assert_eq!(hits, want, "only this party's records of this kind");
    assert_eq!(
        s.blocked_records_in_party(w.custody.id, cr, &["a".into()], 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.blocked_records_in_party(w.custody.id, tr, &["a".into()], 100)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn duplicates_are_stored_once_whichever_way_round(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let rs = custody_records(s, &w, 3).await;
    let cr = RecordKind::CustodyRecord;
    let before = head_seq(s).await;
    // Given larger id first: stored in canonical order.
    let d = duplicate(&w.custody, cr, rs[1], rs[0], 0.9);
    let ids = s
        .insert_duplicates(std::slice::from_ref(&d), &duplicate_audit)
        .await
        .unwrap();
    assert_eq!(ids, vec![d.id]);
    assert_eq!(head_seq(s).await, before + 1, "one audit entry");
    let stored = s
        .get_duplicate(Scope::AllSubmitted, d.id, draft(AuditAction::DuplicateRead))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.first_record_id, stored.second_record_id),
        (rs[0].min(rs[1]), rs[0].max(rs[1]))
    );
    assert_eq!(stored.status, homeward_store::DuplicateStatus::Pending);
    assert_eq!(stored.party_id, w.custody.id);
    assert_eq!(stored.kind, cr);
    assert_eq!(stored.explanation, d.explanation);
    // The same pair the other way round, and again the same way: ignored, not audited.
    let head = head_seq(s).await;
    let again = [
        duplicate(&w.custody, cr, rs[0], rs[1], 0.99),
        duplicate(&w.custody, cr, rs[1], rs[0], 0.99),
    ];
    assert!(
        s.insert_duplicates(&again, &duplicate_audit)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(head_seq(s).await, head);

    // Dismissed for ever: the pair is not stored again, and a second decision is refused.
    let reviewer = w.custody_user.id;
    let dismissed = s
        .dismiss_duplicate(
            Scope::OwnParty(w.custody.id),
            d.id,
            reviewer,
            now(),
            "twins",
            draft(AuditAction::DuplicateDismiss),
        )
        .await
        .unwrap();
    assert_eq!(dismissed.status, homeward_store::DuplicateStatus::Dismissed);
    assert_eq!(dismissed.reason.as_deref(), Some("twins"));
    assert_eq!(dismissed.decided_by, Some(reviewer));
    assert_conflict(
        s.dismiss_duplicate(
            Scope::AllSubmitted,
            d.id,
            reviewer,
            now(),
            "again",
            draft(AuditAction::DuplicateDismiss),
        )
        .await,
        Conflict::DuplicateDecided,
    );
    assert!(
        s.insert_duplicates(
            &[duplicate(&w.custody, cr, rs[0], rs[1], 0.99)],
            &duplicate_audit
        )
        .await
        .unwrap()
        .is_empty()
    );
    assert!(queued_duplicates(s, Scope::AllSubmitted).await.is_empty());

    // The queue: pending only, best first, paged by (probability, id), records not deleted.
    let batch = [
        duplicate(&w.custody, cr, rs[0], rs[2], 0.6),
        duplicate(&w.custody, cr, rs[1], rs[2], 0.8),
    ];
    s.insert_duplicates(&batch, &duplicate_audit).await.unwrap();
    let page = s
        .duplicate_queue(
            Scope::AllSubmitted,
            &homeward_store::DuplicateFilter {
                min_probability: 0.5,
                after: None,
                limit: 1,
            },
            draft(AuditAction::DuplicateQueueRead),
        )
        .await
        .unwrap();
    assert_eq!(page.iter().map(|d| d.id).collect::<Vec<_>>(), [batch[1].id]);
    let read = all_entries(s).await.pop().unwrap();
    assert_eq!(read.action, "duplicate.queue_read");
    let details: serde_json::Value = serde_json::from_str(&read.details).unwrap();
    assert_eq!(details["duplicate_ids"], json!([batch[1].id.to_string()]));
    let next = s
        .duplicate_queue(
            Scope::AllSubmitted,
            &homeward_store::DuplicateFilter {
                min_probability: 0.5,
                after: Some((page[0].probability, page[0].id)),
                limit: 1,
            },
            draft(AuditAction::DuplicateQueueRead),
        )
        .await
        .unwrap();
    assert_eq!(next.iter().map(|d| d.id).collect::<Vec<_>>(), [batch[0].id]);
    assert!(
        s.duplicate_queue(
            Scope::AllSubmitted,
            &dup_filter(0.7),
            draft(AuditAction::DuplicateQueueRead)
        )
        .await
        .unwrap()
        .iter()
        .all(|d| d.probability >= 0.7)
    );
    s.delete_record(
        Scope::AllSubmitted,
        RecordDeletion {
            id: rs[1],
            reason: "filed in error",
            by: w.custody_user.id,
            at: now(),
        },
        draft(AuditAction::RecordDelete),
    )
    .await
    .unwrap();
    assert_eq!(
        queued_duplicates(s, Scope::AllSubmitted).await,
        [batch[0].id]
    );
    assert_eq!(verify(s).await, Ok(head_seq(s).await));
}

pub async fn duplicates_are_seen_only_within_scope(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let cr = RecordKind::CustodyRecord;
    let rs = custody_records(s, &w, 2).await;
    let second = party(s, PartyKind::Custody, "Second custody authority").await;
    let second_user = user(s, second.id, "petro").await;
    let theirs: Vec<NewRecord> = (0..2)
        .map(|i| {
            new_record(
                &second,
                &second_user,
                content(cr, &format!("Анна Коваль {i}"), "f", None, None),
            )
        })
        .collect();
    insert(s, &theirs).await;
    let mine = duplicate(&w.custody, cr, rs[0], rs[1], 0.9);
    let other = duplicate(&second, cr, theirs[0].record.id, theirs[1].record.id, 0.9);
    s.insert_duplicates(&[mine.clone(), other.clone()], &duplicate_audit)
        .await
        .unwrap();

    assert_eq!(
        queued_duplicates(s, Scope::OwnParty(w.custody.id)).await,
        [mine.id]
    );
    assert_eq!(
        queued_duplicates(s, Scope::OwnParty(second.id)).await,
        [other.id]
    );
    assert!(
        queued_duplicates(s, Scope::OwnParty(w.origin.id))
            .await
            .is_empty()
    );
    let mut all = queued_duplicates(s, Scope::AllSubmitted).await;
    all.sort();
    let mut both = vec![mine.id, other.id];
    both.sort();
    assert_eq!(all, both);
    let head = head_seq(s).await;
    assert!(queued_duplicates(s, Scope::Nothing).await.is_empty());
    assert_eq!(head_seq(s).await, head, "nothing read, nothing audited");

    // Another party's pair is indistinguishable from no pair, for reading and deciding.
    let read = |scope, id| async move {
        s.get_duplicate(scope, id, draft(AuditAction::DuplicateRead))
            .await
            .unwrap()
    };
    assert!(
        read(Scope::OwnParty(w.custody.id), other.id)
            .await
            .is_none()
    );
    assert!(read(Scope::OwnParty(w.origin.id), mine.id).await.is_none());
    assert!(read(Scope::Nothing, mine.id).await.is_none());
    assert_eq!(head_seq(s).await, head);
    assert!(read(Scope::OwnParty(w.custody.id), mine.id).await.is_some());
    assert_not_found(
        s.dismiss_duplicate(
            Scope::OwnParty(w.custody.id),
            other.id,
            w.custody_user.id,
            now(),
            "not mine",
            draft(AuditAction::DuplicateDismiss),
        )
        .await,
    );
    let merge = homeward_store::DuplicateMerge {
        id: other.id,
        survivor: theirs[0].record.id,
        survivor_version: 1,
        absorbed_version: 1,
        content: None,
        reason: "same child",
        by: w.custody_user.id,
        at: now(),
    };
    assert_not_found(
        s.merge_duplicate(
            Scope::OwnParty(w.custody.id),
            merge,
            vec![draft(AuditAction::RecordMerge)],
            None,
        )
        .await,
    );
    let got = read(Scope::AllSubmitted, other.id).await.unwrap();
    assert_eq!(got.status, homeward_store::DuplicateStatus::Pending);
}

/// A snapshot of everything a merge may change, to show that a refused merge changed nothing.
async fn merge_snapshot(
    s: &dyn Store,
    records: &[RecordId],
    duplicates: &[homeward_domain::DuplicateId],
    matches: &[MatchId],
) -> String {
    let mut out = String::new();
    for r in records {
        let rec = s
            .get_record(Scope::AllSubmitted, *r, draft(AuditAction::RecordRead))
            .await
            .unwrap();
        let hist = s
            .record_history(Scope::AllSubmitted, *r, draft(AuditAction::RecordHistory))
            .await
            .unwrap();
        out.push_str(&format!("{rec:?}\n{hist:?}\n"));
    }
    for d in duplicates {
        let d = s
            .get_duplicate(Scope::AllSubmitted, *d, draft(AuditAction::DuplicateRead))
            .await
            .unwrap();
        out.push_str(&format!("{d:?}\n"));
    }
    for m in matches {
        let m = s
            .get_candidate(*m, draft(AuditAction::MatchRead))
            .await
            .unwrap();
        out.push_str(&format!("{m:?}\n"));
    }
    out
}

pub async fn a_refused_merge_changes_nothing(cx: Ctx) {
    let s = &*cx.store;
    let (w, t, cs) = matching_world(s, 3).await;
    let cr = RecordKind::CustodyRecord;
    let pair = duplicate(&w.custody, cr, cs[0], cs[1], 0.9);
    let third = duplicate(&w.custody, cr, cs[1], cs[2], 0.7);
    s.insert_duplicates(&[pair.clone(), third.clone()], &duplicate_audit)
        .await
        .unwrap();
    let m0 = candidate(t, cs[0], 0.8);
    let m1 = candidate(t, cs[1], 0.7);
    s.insert_candidates(&[m0.clone(), m1.clone()], &candidate_audit)
        .await
        .unwrap();
    let records = [t, cs[0], cs[1], cs[2]];
    let dups = [pair.id, third.id];
    let matches = [m0.id, m1.id];
    let before = merge_snapshot(s, &records, &dups, &matches).await;
    let head = head_seq(s).await;
    let merge = |survivor, sv, av| homeward_store::DuplicateMerge {
        id: pair.id,
        survivor,
        survivor_version: sv,
        absorbed_version: av,
        content: None,
        reason: "same child",
        by: w.custody_user.id,
        at: now(),
    };
    let attempt = |m| async move {
        s.merge_duplicate(
            Scope::AllSubmitted,
            m,
            vec![draft(AuditAction::RecordMerge)],
            Some(draft(AuditAction::CaseRecordMerged)),
        )
        .await
    };

    // A stale version of either record names that record.
    match attempt(merge(cs[0], 1, 7)).await {
        Err(StoreError::RecordVersionConflict { record, current }) => {
            assert_eq!((record, current), (cs[1], 1))
        }
        other => panic!("expected a version conflict, got {other:?}"),
    }
    match attempt(merge(cs[0], 2, 1)).await {
        Err(StoreError::RecordVersionConflict { record, current }) => {
            assert_eq!((record, current), (cs[0], 1))
        }
        other => panic!("expected a version conflict, got {other:?}"),
    }
    assert_conflict(
        attempt(merge(cs[2], 1, 1)).await,
        Conflict::SurvivorNotInPair,
    );
    assert_eq!(head_seq(s).await, head, "a refused merge appends nothing");
    assert_eq!(merge_snapshot(s, &records, &dups, &matches).await, before);

    // Both records in different cases: refused, for a person to sort out.
    let c0 = located(t, cs[0], m0.id, w.custody_user.id);
    s.decide_candidate(
        CandidateDecision {
            id: m0.id,
            by: UserId::new(),
            at: now(),
            decision: Decision::Confirm {
                reason: None,
                second_of_two: false,
                new_case: &c0,
            },
        },
        vec![draft(AuditAction::MatchConfirm)],
        Some(draft(AuditAction::CaseCreate)),
    )
    .await
    .unwrap();
    let request2 = new_record(
        &w.origin,
        &w.origin_user,
        content(
            RecordKind::TracingRequest,
            "Дмитро Олійник",
            "m",
            None,
            None,
        ),
    );
    insert(s, std::slice::from_ref(&request2)).await;
    let m2 = candidate(request2.record.id, cs[1], 0.9);
    s.insert_candidates(std::slice::from_ref(&m2), &candidate_audit)
        .await
        .unwrap();
    let c1 = located(request2.record.id, cs[1], m2.id, w.custody_user.id);
    s.decide_candidate(
        CandidateDecision {
            id: m2.id,
            by: UserId::new(),
            at: now(),
            decision: Decision::Confirm {
                reason: None,
                second_of_two: false,
                new_case: &c1,
            },
        },
        vec![draft(AuditAction::MatchConfirm)],
        Some(draft(AuditAction::CaseCreate)),
    )
    .await
    .unwrap();
    let before = merge_snapshot(s, &records, &dups, &[m1.id]).await;
    let head = head_seq(s).await;
    assert_conflict(attempt(merge(cs[0], 1, 1)).await, Conflict::CasesDiffer);
    assert_eq!(head_seq(s).await, head);
    assert_eq!(
        merge_snapshot(s, &records, &dups, &[m1.id]).await,
        before,
        "nothing changed"
    );
    let case0 = s
        .get_case(c0.id, draft(AuditAction::CaseRead))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case0.version, 1);
    assert_eq!(case0.case.custody_record, Some(cs[0]));
    assert_eq!(verify(s).await, Ok(head_seq(s).await));
}

pub async fn a_merge_keeps_both_histories(cx: Ctx) {
    let s = &*cx.store;
    let (w, t, cs) = matching_world(s, 3).await;
    let cr = RecordKind::CustodyRecord;
    let (survivor, absorbed) = (cs[1], cs[0]);
    let pair = duplicate(&w.custody, cr, cs[0], cs[1], 0.9);
    let other_pair = duplicate(&w.custody, cr, cs[0], cs[2], 0.6);
    s.insert_duplicates(&[pair.clone(), other_pair.clone()], &duplicate_audit)
        .await
        .unwrap();
    // The absorbed record's cross-side candidates: one with a request the survivor has no
    // candidate with (re-pointed), one with a request it has (closed); and a confirmed one (a
    // case, which follows the absorbed record to the survivor).
    let request2 = new_record(
        &w.origin,
        &w.origin_user,
        content(
            RecordKind::TracingRequest,
            "Дмитро Олійник",
            "m",
            None,
            None,
        ),
    );
    let request3 = new_record(
        &w.origin,
        &w.origin_user,
        content(
            RecordKind::TracingRequest,
            "Дмитро Олійник",
            "m",
            None,
            None,
        ),
    );
    insert(s, &[request2.clone(), request3.clone()]).await;
    let (r2, r3) = (request2.record.id, request3.record.id);
    let moved = candidate(r2, absorbed, 0.8);
    let clash = candidate(r3, absorbed, 0.7);
    let survivors_own = candidate(r3, survivor, 0.75);
    let confirmed = candidate(t, absorbed, 0.95);
    s.insert_candidates(
        &[
            moved.clone(),
            clash.clone(),
            survivors_own.clone(),
            confirmed.clone(),
        ],
        &candidate_audit,
    )
    .await
    .unwrap();
    let case = located(t, absorbed, confirmed.id, w.custody_user.id);
    s.decide_candidate(
        CandidateDecision {
            id: confirmed.id,
            by: UserId::new(),
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
    .unwrap();
    // The survivor was edited once: merges name the versions the person saw.
    let edited = content(
        cr,
        "Дмитрий Андреевич Олейник",
        "m",
        Some("2015-03-07"),
        None,
    );
    s.update_record(
        Scope::AllSubmitted,
        RecordChange {
            id: survivor,
            expected_version: 1,
            content: &edited,
            search_key: &search_key(&edited),
            by: w.custody_user.id,
            at: now(),
        },
        draft(AuditAction::RecordUpdate),
    )
    .await
    .unwrap();

    let merged_content = content(
        cr,
        "Дмитрий Андреевич Олейник",
        "m",
        Some("2015-03-07"),
        Some("DH4-117"),
    );
    let key = search_key(&merged_content);
    let at = now();
    let out = s
        .merge_duplicate(
            Scope::OwnParty(w.custody.id),
            homeward_store::DuplicateMerge {
                id: pair.id,
                survivor,
                survivor_version: 2,
                absorbed_version: 1,
                content: Some((&merged_content, &key)),
                reason: "the same boy, filed by two shelters",
                by: w.custody_user.id,
                at,
            },
            vec![
                draft(AuditAction::RecordMerge).target("record", absorbed),
                draft(AuditAction::RecordMerge).target("record", survivor),
            ],
            Some(draft(AuditAction::CaseRecordMerged)),
        )
        .await
        .unwrap();
    assert_eq!(
        out.duplicate.status,
        homeward_store::DuplicateStatus::Merged
    );
    assert_eq!(out.duplicate.survivor_id, Some(survivor));
    assert_eq!(out.survivor.version, 3);
    assert_eq!(out.survivor.content, merged_content);
    assert_eq!(out.absorbed.version, 2);
    assert_eq!(out.absorbed.deleted_at, Some(at));
    assert_eq!(out.absorbed.merged_into, Some(survivor));
    assert_eq!(
        out.absorbed.deletion_reason.as_deref(),
        Some("the same boy, filed by two shelters")
    );
    assert_eq!(out.closed_duplicates, vec![other_pair.id]);
    assert_eq!(out.repointed_matches, vec![moved.id]);
    assert_eq!(out.closed_matches, vec![clash.id]);
    assert_eq!(out.repointed_case, Some(case.id));

    // Both histories are whole, and each merge version names the other record.
    let history = |id| async move {
        s.record_history(
            Scope::OwnParty(w.custody.id),
            id,
            draft(AuditAction::RecordHistory),
        )
        .await
        .unwrap()
        .unwrap()
    };
    let sh = history(survivor).await;
    assert_eq!(
        sh.iter()
            .map(|v| (v.version, v.change.as_str(), v.merged_record))
            .collect::<Vec<_>>(),
        [
            (1, "create", None),
            (2, "update", None),
            (3, "merge", Some(absorbed))
        ]
    );
    assert_eq!(sh[1].content, edited, "the edit before the merge is kept");
    assert_eq!(sh[2].content, merged_content);
    let ah = history(absorbed).await;
    assert_eq!(
        ah.iter()
            .map(|v| (v.version, v.change.as_str(), v.merged_record))
            .collect::<Vec<_>>(),
        [(1, "create", None), (2, "merge", Some(survivor))]
    );
    assert_eq!(ah[0].content, ah[1].content, "the absorbed content is kept");

    // The absorbed record is out of lists and linkage, but still readable in scope.
    let listed = list(s, Scope::OwnParty(w.custody.id), &filter()).await;
    assert!(!listed.contains(&absorbed) && listed.contains(&survivor));
    let read = s
        .get_record(
            Scope::OwnParty(w.custody.id),
            absorbed,
            draft(AuditAction::RecordRead),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.merged_into, Some(survivor));
    assert!(s.records_for_linkage(&[absorbed]).await.unwrap().is_empty());

    // The other pair of the absorbed record is closed, not left pending.
    let closed = s
        .get_duplicate(
            Scope::AllSubmitted,
            other_pair.id,
            draft(AuditAction::DuplicateRead),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(closed.status, homeward_store::DuplicateStatus::Closed);
    assert!(queued_duplicates(s, Scope::AllSubmitted).await.is_empty());
    let m = |id| async move {
        s.get_candidate(id, draft(AuditAction::MatchRead))
            .await
            .unwrap()
            .unwrap()
    };
    let moved_now = m(moved.id).await;
    assert_eq!(moved_now.custody_record_id, survivor);
    assert_eq!(moved_now.status, CandidateStatus::Pending);
    assert_eq!(m(clash.id).await.status, CandidateStatus::Closed);
    assert_eq!(m(clash.id).await.custody_record_id, absorbed);
    assert_eq!(m(survivors_own.id).await.status, CandidateStatus::Pending);
    let confirmed_now = m(confirmed.id).await;
    assert_eq!(
        (confirmed_now.status, confirmed_now.custody_record_id),
        (CandidateStatus::Confirmed, absorbed),
        "decisions stay as they were taken"
    );
    let queue: Vec<MatchId> = s
        .review_queue(
            &QueueFilter {
                min_probability: 0.0,
                max_probability: 1.0,
                after: None,
                before: false,
                limit: 0,
            },
            draft(AuditAction::MatchQueueRead),
        )
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert!(queue.contains(&moved.id) && !queue.contains(&clash.id));

    let stored = s
        .get_case(case.id, draft(AuditAction::CaseRead))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.case.custody_record, Some(survivor));
    assert_eq!(stored.version, 2);

    // Audited in the same transaction, with what the merge closed and re-pointed.
    let entries = all_entries(s).await;
    let merges: Vec<&homeward_domain::AuditEntry> = entries
        .iter()
        .filter(|e| e.action == "record.merge")
        .collect();
    assert_eq!(merges.len(), 2);
    let details: serde_json::Value = serde_json::from_str(&merges[0].details).unwrap();
    assert_eq!(
        details["repointed_match_ids"],
        json!([moved.id.to_string()])
    );
    assert_eq!(details["closed_match_ids"], json!([clash.id.to_string()]));
    assert_eq!(
        details["closed_duplicate_ids"],
        json!([other_pair.id.to_string()])
    );
    assert_eq!(details["repointed_case_ids"], json!([case.id.to_string()]));
    let case_entry = entries
        .iter()
        .find(|e| e.action == "case.record_merged")
        .unwrap();
    assert_eq!(case_entry.target_id, Some(case.id.to_string()));

    // Decided is decided.
    assert_conflict(
        s.merge_duplicate(
            Scope::AllSubmitted,
            homeward_store::DuplicateMerge {
                id: pair.id,
                survivor,
                survivor_version: 3,
                absorbed_version: 2,
                content: None,
                reason: "again",
                by: w.custody_user.id,
                at: now(),
            },
            vec![],
            None,
        )
        .await,
        Conflict::DuplicateDecided,
    );
    assert_eq!(verify(s).await, Ok(head_seq(s).await));
}

// ---- cases, disclosures, tasks -------------------------------------------------------------------

/// A world with one case in `located`, opened by confirming a match.
async fn case_world(s: &dyn Store) -> (World, StoredCase) {
    let (w, t, cs) = matching_world(s, 1).await;
    let c = candidate(t, cs[0], 0.9);
    s.insert_candidates(std::slice::from_ref(&c), &candidate_audit)
        .await
        .unwrap();
    let by = UserId::new();
    let case = located(t, cs[0], c.id, by);
    let out = s
        .decide_candidate(
            CandidateDecision {
                id: c.id,
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
        .unwrap();
    (w, out.case.unwrap())
}

pub async fn cases_keep_every_version_and_refuse_stale_updates(cx: Ctx) {
    let s = &*cx.store;
    let (w, stored) = case_world(s).await;
    let mut next = stored.case.clone();
    next.state = CaseState::OnHold;
    next.on_hold_from = Some(CaseState::Located);
    let by = UserId::new();
    let change = |case, expected_version| CaseChange {
        case,
        expected_version,
        change: "transition",
        by,
        at: now(),
    };
    let updated = save_case(s, change(&next, 1), draft(AuditAction::CaseTransition))
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.case, next);
    // A change decided on version 1 loses to the one already stored, and changes nothing.
    let before = head_seq(s).await;
    assert!(matches!(
        save_case(
            s,
            change(&stored.case, 1),
            draft(AuditAction::CaseTransition)
        )
        .await,
        Err(StoreError::VersionConflict { current: 2 })
    ));
    assert_eq!(head_seq(s).await, before);
    let mut ghost = next.clone();
    ghost.id = CaseId::new();
    assert_not_found(save_case(s, change(&ghost, 1), draft(AuditAction::CaseTransition)).await);

    let history = s
        .case_history(stored.case.id, draft(AuditAction::CaseHistory))
        .await
        .unwrap()
        .unwrap();
    let changes: Vec<(i64, &str, CaseState)> = history
        .iter()
        .map(|v| (v.version, v.change.as_str(), v.case.state))
        .collect();
    assert_eq!(
        changes,
        [
            (1, "create", CaseState::Located),
            (2, "transition", CaseState::OnHold)
        ]
    );
    assert_eq!(history[1].changed_by, by);
    assert!(
        s.case_history(CaseId::new(), draft(AuditAction::CaseHistory))
            .await
            .unwrap()
            .is_none()
    );

    let list = |f: CaseFilter| async move {
        s.list_cases(&f, draft(AuditAction::CaseList))
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.case.id)
            .collect::<Vec<_>>()
    };
    let id = stored.case.id;
    assert_eq!(list(CaseFilter::default()).await, [id]);
    let on_hold = CaseFilter {
        state: Some(CaseState::OnHold),
        ..Default::default()
    };
    assert_eq!(list(on_hold).await, [id]);
    let located = CaseFilter {
        state: Some(CaseState::Located),
        ..Default::default()
    };
    assert!(list(located).await.is_empty());
    let by_record = |r| CaseFilter {
        record: Some(r),
        ..Default::default()
    };
    assert_eq!(list(by_record(next.custody_record.unwrap())).await, [id]);
    assert_eq!(list(by_record(next.tracing_request.unwrap())).await, [id]);
    assert!(list(by_record(RecordId::new())).await.is_empty());
    let after = CaseFilter {
        after: Some(id),
        ..Default::default()
    };
    assert!(list(after).await.is_empty());
    let listed = all_entries(s)
        .await
        .into_iter()
        .find(|e| e.action == "case.list")
        .unwrap();
    assert!(listed.details.contains(&id.to_string()));

    // A read that hands out more than the case is audited as that too, in the same transaction:
    // every entry when found, none when not, and each list entry names the cases.
    let two = || {
        vec![
            draft(AuditAction::CaseRead),
            draft(AuditAction::AccountabilityRead),
        ]
    };
    let before = head_seq(s).await;
    assert!(s.get_case_audited(id, two()).await.unwrap().is_some());
    assert!(s.case_history_audited(id, two()).await.unwrap().is_some());
    assert_eq!(head_seq(s).await, before + 4);
    assert!(
        s.get_case_audited(CaseId::new(), two())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.case_history_audited(CaseId::new(), two())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(head_seq(s).await, before + 4);
    let listed = s
        .list_cases_audited(
            &CaseFilter::default(),
            vec![
                draft(AuditAction::CaseList),
                draft(AuditAction::AccountabilityList),
            ],
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let newest = all_entries(s).await;
    let lists = &newest[newest.len() - 2..];
    assert_eq!(
        lists.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["case.list", "accountability.list"]
    );
    assert!(lists.iter().all(|e| e.details.contains(&id.to_string())));
    drop(w);
    assert_eq!(verify(s).await, Ok(head_seq(s).await));
}

fn disclosure(case: CaseId, to: PartyId) -> Disclosure {
    Disclosure {
        id: DisclosureId::new(),
        case_id: case,
        to_party: to,
        record_id: None,
        fields: vec![DisclosedField {
            field: DisclosableField::StatusFound,
            value: "found".into(),
        }],
        consents: vec![],
        disclosed_by: UserId::new(),
        disclosed_at: now(),
    }
}

pub async fn disclosures_need_the_case_unchanged(cx: Ctx) {
    let s = &*cx.store;
    let (w, stored) = case_world(s).await;
    let id = stored.case.id;
    let d = disclosure(id, w.origin.id);
    s.insert_disclosure(&d, 1, draft(AuditAction::DisclosureCreate))
        .await
        .unwrap();
    // The case moved on (say, a consent was withdrawn): a disclosure decided on version 1 fails.
    save_case(
        s,
        CaseChange {
            case: &stored.case,
            expected_version: 1,
            change: "consent_withdraw",
            by: UserId::new(),
            at: now(),
        },
        draft(AuditAction::ConsentWithdraw),
    )
    .await
    .unwrap();
    let late = disclosure(id, w.origin.id);
    assert!(matches!(
        s.insert_disclosure(&late, 1, draft(AuditAction::DisclosureCreate))
            .await,
        Err(StoreError::VersionConflict { current: 2 })
    ));
    assert_not_found(
        s.insert_disclosure(
            &disclosure(CaseId::new(), w.origin.id),
            1,
            draft(AuditAction::DisclosureCreate),
        )
        .await,
    );
    assert_not_found(
        s.insert_disclosure(
            &disclosure(id, PartyId::new()),
            2,
            draft(AuditAction::DisclosureCreate),
        )
        .await,
    );
    let to_custody = disclosure(id, w.custody.id);
    s.insert_disclosure(&to_custody, 2, draft(AuditAction::DisclosureCreate))
        .await
        .unwrap();

    let list = |f: DisclosureFilter| async move {
        s.list_disclosures(f, draft(AuditAction::DisclosureList))
            .await
            .unwrap()
    };
    let origin_sees = list(DisclosureFilter {
        case: None,
        to_party: Some(w.origin.id),
    })
    .await;
    assert_eq!(origin_sees, std::slice::from_ref(&d));
    let of_case = list(DisclosureFilter {
        case: Some(id),
        to_party: None,
    })
    .await;
    assert_eq!(of_case.len(), 2);
    let none = list(DisclosureFilter {
        case: Some(CaseId::new()),
        to_party: None,
    })
    .await;
    assert!(none.is_empty());
    let entries = all_entries(s).await;
    let last = entries
        .iter()
        .rev()
        .find(|e| e.action == "disclosure.list")
        .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&last.details).unwrap()["disclosure_ids"],
        json!([])
    );
    assert_eq!(verify(s).await, Ok(head_seq(s).await));
}

fn task(case: CaseId, party: PartyId, due: NaiveDate) -> Task {
    Task {
        id: TaskId::new(),
        case_id: case,
        party,
        kind: TaskKind::VerificationVisit,
        instructions: "visit".into(),
        due,
        brief: vec![],
        status: TaskStatus::Assigned,
        report: None,
        cancellation: None,
        assigned_by: UserId::new(),
        assigned_at: now(),
    }
}

pub async fn tasks_belong_to_their_party(cx: Ctx) {
    let s = &*cx.store;
    let (w, stored) = case_world(s).await;
    let ngo = party(s, PartyKind::Humanitarian, "Field NGO").await;
    let other_ngo = party(s, PartyKind::Humanitarian, "Other NGO").await;
    let id = stored.case.id;
    let day = |d| NaiveDate::from_ymd_opt(2025, 5, d).unwrap();
    let t1 = task(id, ngo.id, day(10));
    let t2 = task(id, ngo.id, day(3));
    let t3 = task(id, other_ngo.id, day(1));
    for t in [&t1, &t2, &t3] {
        let st = s
            .insert_task(t, draft(AuditAction::TaskCreate))
            .await
            .unwrap();
        assert_eq!((st.version, &st.task), (1, t));
    }
    assert_not_found(
        s.insert_task(
            &task(CaseId::new(), ngo.id, day(1)),
            draft(AuditAction::TaskCreate),
        )
        .await,
    );
    assert_not_found(
        s.insert_task(
            &task(id, PartyId::new(), day(1)),
            draft(AuditAction::TaskCreate),
        )
        .await,
    );

    let read = |tid, p| async move {
        s.get_task(tid, p, draft(AuditAction::TaskRead))
            .await
            .unwrap()
    };
    assert!(read(t1.id, Some(ngo.id)).await.is_some());
    assert!(read(t1.id, Some(other_ngo.id)).await.is_none());
    assert!(read(t1.id, None).await.is_some());

    let ids = |f: TaskFilter| async move {
        s.list_tasks(&f, draft(AuditAction::TaskList))
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.task.id)
            .collect::<Vec<_>>()
    };
    let mine = TaskFilter {
        party: Some(ngo.id),
        ..Default::default()
    };
    assert_eq!(ids(mine.clone()).await, [t2.id, t1.id], "by due date");
    let overdue = TaskFilter {
        status: Some(TaskStatus::Assigned),
        due_before: Some(day(5)),
        ..Default::default()
    };
    assert_eq!(ids(overdue.clone()).await, [t3.id, t2.id]);

    let mut done = t2.clone();
    done.status = TaskStatus::Completed;
    // Another party cannot touch it, and a stale version loses.
    assert_not_found(
        s.update_task(&done, 1, Some(other_ngo.id), draft(AuditAction::TaskReport))
            .await,
    );
    let st = s
        .update_task(&done, 1, Some(ngo.id), draft(AuditAction::TaskReport))
        .await
        .unwrap();
    assert_eq!((st.version, st.task.status), (2, TaskStatus::Completed));
    assert!(matches!(
        s.update_task(&done, 1, None, draft(AuditAction::TaskReport))
            .await,
        Err(StoreError::VersionConflict { current: 2 })
    ));
    assert_eq!(ids(overdue).await, [t3.id]);
    drop(w);
    assert_eq!(verify(s).await, Ok(head_seq(s).await));
}

// ---- attachments -------------------------------------------------------------------------------

fn attachment(owner: AttachmentOwner, party: PartyId, by: &User, sha: char) -> Attachment {
    Attachment {
        id: AttachmentId::new(),
        sha256: sha.to_string().repeat(64),
        owner,
        party_id: party,
        filename: "Свідоцтво про народження (скан).pdf".to_owned(),
        content_type: "application/pdf".to_owned(),
        size: 1234,
        uploaded_by: by.id,
        uploaded_at: now(),
        description: Some("birth certificate, both pages".to_owned()),
        deleted_at: None,
    }
}

fn records_only(scope: Scope) -> AttachmentScope {
    AttachmentScope {
        records: scope,
        cases: false,
    }
}

const MEDIATOR_VIEW: AttachmentScope = AttachmentScope {
    records: Scope::AllSubmitted,
    cases: true,
};

/// A case between a tracing request and a custody record, opened by confirming their match.
async fn a_case(s: &dyn Store, t: RecordId, c: RecordId, by: &User) -> CaseId {
    let cand = candidate(t, c, 0.95);
    s.insert_candidates(std::slice::from_ref(&cand), &candidate_audit)
        .await
        .unwrap();
    let case = located(t, c, cand.id, by.id);
    let out = s
        .decide_candidate(
            CandidateDecision {
                id: cand.id,
                by: by.id,
                at: now(),
                decision: Decision::Confirm {
                    reason: None,
                    second_of_two: false,
                    new_case: &case,
                },
            },
            vec![draft(AuditAction::MatchConfirm)],
            None,
        )
        .await
        .unwrap();
    out.case.unwrap().case.id
}

pub async fn attachments_follow_their_owners_scope(cx: Ctx) {
    let s = &*cx.store;
    let (w, t, cs) = matching_world(s, 1).await;
    let mediator_user = user(s, w.mediator.id, "mira").await;
    let origin_scope = records_only(Scope::OwnParty(w.origin.id));
    let custody_scope = records_only(Scope::OwnParty(w.custody.id));
    let rec = AttachmentOwner::Record(t);
    let a = attachment(rec, w.origin.id, &w.origin_user, 'a');
    let up = || draft(AuditAction::AttachmentUpload);

    // The other side, a scope that sees nothing, or a wrong owning party cannot attach to it.
    assert_not_found(s.insert_attachment(custody_scope, &a, up()).await);
    assert_not_found(
        s.insert_attachment(records_only(Scope::Nothing), &a, up())
            .await,
    );
    let wrong_party = attachment(rec, w.custody.id, &w.custody_user, 'a');
    assert_not_found(s.insert_attachment(MEDIATOR_VIEW, &wrong_party, up()).await);
    let nowhere = attachment(
        AttachmentOwner::Record(RecordId::new()),
        w.origin.id,
        &w.origin_user,
        'a',
    );
    assert_not_found(s.insert_attachment(MEDIATOR_VIEW, &nowhere, up()).await);
    let before = head_seq(s).await;

    s.insert_attachment(origin_scope, &a, up()).await.unwrap();
    assert_eq!(
        head_seq(s).await,
        before + 1,
        "the upload is audited with it"
    );
    assert_conflict(
        s.insert_attachment(origin_scope, &a, up()).await,
        Conflict::AttachmentId,
    );
    // The mediator attaches to the origin's record too; the row stays in the origin's scope.
    let b = attachment(rec, w.origin.id, &mediator_user, 'b');
    s.insert_attachment(MEDIATOR_VIEW, &b, up()).await.unwrap();

    let read = || draft(AuditAction::AttachmentRead);
    let got = s.get_attachment(origin_scope, a.id, read()).await.unwrap();
    assert_eq!(got.as_ref(), Some(&a), "read back as written");
    assert_eq!(got.unwrap().filename, "Свідоцтво про народження (скан).pdf");
    assert_eq!(
        s.get_attachment(MEDIATOR_VIEW, b.id, read()).await.unwrap(),
        Some(b.clone())
    );
    for scope in [custody_scope, records_only(Scope::Nothing)] {
        assert_eq!(s.get_attachment(scope, a.id, read()).await.unwrap(), None);
        assert_eq!(
            s.list_attachments(scope, rec, draft(AuditAction::AttachmentList))
                .await
                .unwrap(),
            None
        );
    }
    let listed = s
        .list_attachments(origin_scope, rec, draft(AuditAction::AttachmentList))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(listed, vec![a.clone(), b.clone()], "oldest first");
    let other = AttachmentOwner::Record(cs[0]);
    assert_eq!(
        s.list_attachments(MEDIATOR_VIEW, other, draft(AuditAction::AttachmentList))
            .await
            .unwrap(),
        Some(vec![])
    );

    // Case attachments: only for a scope that sees cases, whatever its record scope.
    let case = AttachmentOwner::Case(a_case(s, t, cs[0], &mediator_user).await);
    let c = attachment(case, w.mediator.id, &mediator_user, 'c');
    let records_of_all = records_only(Scope::AllSubmitted);
    assert_not_found(s.insert_attachment(records_of_all, &c, up()).await);
    let missing_case = attachment(
        AttachmentOwner::Case(CaseId::new()),
        w.mediator.id,
        &mediator_user,
        'c',
    );
    assert_not_found(
        s.insert_attachment(MEDIATOR_VIEW, &missing_case, up())
            .await,
    );
    s.insert_attachment(MEDIATOR_VIEW, &c, up()).await.unwrap();
    assert_eq!(
        s.get_attachment(records_of_all, c.id, read())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.get_attachment(origin_scope, c.id, read()).await.unwrap(),
        None
    );
    let cases_only = AttachmentScope {
        records: Scope::Nothing,
        cases: true,
    };
    assert_eq!(
        s.get_attachment(cases_only, c.id, read()).await.unwrap(),
        Some(c.clone())
    );
    assert_eq!(
        s.get_attachment(cases_only, a.id, read()).await.unwrap(),
        None
    );
    assert_eq!(
        s.list_attachments(MEDIATOR_VIEW, case, draft(AuditAction::AttachmentList))
            .await
            .unwrap(),
        Some(vec![c.clone()])
    );

    // A deleted record keeps its attachments readable (like the record) but takes no new ones.
    s.delete_record(
        Scope::OwnParty(w.origin.id),
        RecordDeletion {
            id: t,
            reason: "duplicate",
            by: w.origin_user.id,
            at: now(),
        },
        draft(AuditAction::RecordDelete),
    )
    .await
    .unwrap();
    let late = attachment(rec, w.origin.id, &w.origin_user, 'd');
    assert_not_found(s.insert_attachment(origin_scope, &late, up()).await);
    assert_eq!(
        s.list_attachments(origin_scope, rec, draft(AuditAction::AttachmentList))
            .await
            .unwrap()
            .map(|v| v.len()),
        Some(2)
    );

    // A soft-deleted attachment is gone for everyone.
    let b_id = if cx.url.starts_with("sqlite:") {
        format!("X'{}'", b.id.0.simple())
    } else {
        format!("'{}'", b.id.0)
    };
    raw_sql(
        &cx.url,
        &format!("UPDATE attachments SET deleted_at = uploaded_at WHERE id = {b_id}"),
    )
    .await;
    assert_eq!(
        s.get_attachment(MEDIATOR_VIEW, b.id, read()).await.unwrap(),
        None
    );
    assert_eq!(
        s.list_attachments(MEDIATOR_VIEW, rec, draft(AuditAction::AttachmentList))
            .await
            .unwrap(),
        Some(vec![a])
    );
    assert!(verify(s).await.is_ok());
}

pub async fn attachment_reads_and_lists_are_audited(cx: Ctx) {
    let s = &*cx.store;
    let w = world(s).await;
    let r = new_record(
        &w.custody,
        &w.custody_user,
        content(RecordKind::CustodyRecord, "Анна", "f", None, None),
    );
    insert(s, std::slice::from_ref(&r)).await;
    let owner = AttachmentOwner::Record(r.record.id);
    let scope = records_only(Scope::OwnParty(w.custody.id));
    let a = attachment(owner, w.custody.id, &w.custody_user, 'e');
    s.insert_attachment(
        scope,
        &a,
        draft(AuditAction::AttachmentUpload).target("attachment", a.id),
    )
    .await
    .unwrap();

    let before = head_seq(s).await;
    let read = draft(AuditAction::AttachmentRead).target("attachment", a.id);
    s.get_attachment(scope, a.id, read.clone())
        .await
        .unwrap()
        .unwrap();
    s.get_attachment(scope, a.id, read.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head_seq(s).await, before + 2, "each read is one entry");
    // Reads of what the caller cannot see leave no trace (nothing was read).
    let theirs = records_only(Scope::OwnParty(w.origin.id));
    assert_eq!(
        s.get_attachment(theirs, a.id, read.clone()).await.unwrap(),
        None
    );
    assert_eq!(
        s.get_attachment(scope, AttachmentId::new(), read)
            .await
            .unwrap(),
        None
    );
    assert_eq!(head_seq(s).await, before + 2);

    s.list_attachments(scope, owner, draft(AuditAction::AttachmentList))
        .await
        .unwrap()
        .unwrap();
    let entries = all_entries(s).await;
    let last = entries.last().unwrap();
    assert_eq!(last.action, "attachment.list");
    let details: serde_json::Value = serde_json::from_str(&last.details).unwrap();
    assert_eq!(details["attachment_ids"], json!([a.id.to_string()]));
    assert_eq!(details["test"], true, "the caller's details are kept");
    let reads = entries
        .iter()
        .filter(|e| e.action == "attachment.read" && e.target_id == Some(a.id.to_string()))
        .count();
    assert_eq!(reads, 2);
    assert_eq!(verify(s).await.unwrap(), head_seq(s).await);
}

pub async fn a_users_language_is_kept(cx: Ctx) {
    let s = &*cx.store;
    let p = party(s, PartyKind::Origin, "Origin").await;
    let anna = user(s, p.id, "anna").await;
    assert_eq!(anna.language, None);
    let head = head_seq(s).await;
    s.set_user_language(anna.id, Language::Ar, draft(AuditAction::UserUpdate))
        .await
        .unwrap();
    assert_eq!(head_seq(s).await, head + 1, "the change is audited");
    let stored = s.get_user(anna.id).await.unwrap().unwrap();
    assert_eq!(stored.language, Some(Language::Ar));
    let creds = s.user_credentials(&anna.username).await.unwrap().unwrap();
    assert_eq!(creds.user.language, Some(Language::Ar));
    assert_not_found(
        s.set_user_language(UserId::new(), Language::Uk, draft(AuditAction::UserUpdate))
            .await,
    );
    assert_eq!(
        head_seq(s).await,
        head + 1,
        "a refused change appends nothing"
    );

    let mut boris = new_user(p.id, "boris", &[Role::Viewer]);
    boris.language = Some(Language::Uk);
    s.create_user(&boris, "h", draft(AuditAction::UserCreate))
        .await
        .unwrap();
    assert_eq!(s.get_user(boris.id).await.unwrap(), Some(boris));
    assert!(verify(s).await.is_ok());
}

//! What the SQLite and PostgreSQL stores share: the whole [`Store`](crate::Store) implementation,
//! written once in [`impl_store!`] and expanded for each backend's concrete sqlx types.
//!
//! A macro rather than generic functions: sqlx code generic over the database needs higher-ranked
//! `Executor` bounds that `async_trait`'s `Send` futures do not get through. Each backend supplies
//! only what truly differs: how a write transaction starts, how the chain head is locked, and
//! its migrations.

use crate::like_escape;
use crate::rows::{audit_columns, record_columns};
use crate::{AuditFilter, Result};
use homeward_domain::{RecordFilter, Scope};
use sqlx::{Database, Encode, QueryBuilder, Transaction, Type};
use std::ops::{Deref, DerefMut};
use tokio::sync::OwnedMutexGuard;
use uuid::Uuid;

/// Rows per multi-row INSERT in bulk writes: few round trips, and far below both databases'
/// limits on bound parameters (SQLite 32766, PostgreSQL 65535) at 13 columns a row.
pub(crate) const BULK_ROWS: usize = 500;

/// A write transaction, holding whatever the backend uses to serialise writers. Dropped without
/// [`commit`](Self::commit), the transaction rolls back (sqlx queues the ROLLBACK on drop).
pub(crate) struct WriteTx<DB: Database> {
    // Declared first so it is dropped (rolled back) before the guard lets the next writer in.
    tx: Transaction<'static, DB>,
    _serial: Option<OwnedMutexGuard<()>>,
}

impl<DB: Database> WriteTx<DB> {
    pub(crate) fn new(tx: Transaction<'static, DB>, serial: Option<OwnedMutexGuard<()>>) -> Self {
        Self {
            tx,
            _serial: serial,
        }
    }

    pub(crate) async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl<DB: Database> Deref for WriteTx<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: Database> DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

/// `None` when the scope sees no record at all (answer without asking the database); otherwise
/// the party the caller is confined to, if any.
pub(crate) fn scope_party(scope: Scope) -> Option<Option<Uuid>> {
    match scope {
        Scope::AllSubmitted => Some(None),
        Scope::OwnParty(p) => Some(Some(p.0)),
        Scope::Nothing => None,
    }
}

/// `limit` 0 means the default page; nobody gets more than the cap in one page.
pub(crate) fn page_limit(limit: u32, default: u32, cap: u32) -> i64 {
    i64::from(if limit == 0 { default } else { limit.min(cap) })
}

/// Adds the ids a list returned to its audit details, which must then be an object.
pub(crate) fn with_record_ids(details: serde_json::Value, ids: Vec<String>) -> serde_json::Value {
    let mut obj = match details {
        serde_json::Value::Object(m) => m,
        serde_json::Value::Null => serde_json::Map::new(),
        // Keep whatever the caller said rather than dropping it.
        other => serde_json::Map::from_iter([("details".to_owned(), other)]),
    };
    obj.insert("record_ids".to_owned(), ids.into());
    serde_json::Value::Object(obj)
}

/// The query behind `list_records`: only the conditions the filter sets, so each combination gets
/// a plan that can use the indexes.
pub(crate) fn record_list_query<'a, DB>(
    party: Option<Uuid>,
    f: &RecordFilter,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    Uuid: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    i32: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(concat!(
        "SELECT ",
        record_columns!(),
        " FROM records WHERE 1 = 1"
    ));
    if let Some(p) = party {
        qb.push(" AND party_id = ").push_bind(p);
    }
    if let Some(p) = f.party {
        qb.push(" AND party_id = ").push_bind(p.0);
    }
    if let Some(k) = f.kind {
        qb.push(" AND kind = ").push_bind(k.as_str().to_owned());
    }
    if let Some(s) = f.sex {
        qb.push(" AND sex = ").push_bind(s.as_str().to_owned());
    }
    if let Some(n) = &f.name {
        qb.push(" AND search_key LIKE '%' || ")
            .push_bind(like_escape(n))
            .push(" || '%' ESCAPE '\\'");
    }
    if let Some(y) = f.born_from_year {
        qb.push(" AND birth_year >= ").push_bind(y);
    }
    if let Some(y) = f.born_to_year {
        qb.push(" AND birth_year <= ").push_bind(y);
    }
    if let Some(r) = &f.external_ref {
        qb.push(" AND external_ref = ").push_bind(r.clone());
    }
    if !f.include_deleted {
        qb.push(" AND deleted_at IS NULL");
    }
    if let Some(after) = f.after {
        qb.push(" AND id > ").push_bind(after.0);
    }
    qb.push(" ORDER BY id LIMIT ")
        .push_bind(page_limit(f.limit, 50, 1000));
    qb
}

/// The query behind `audit_entries`.
pub(crate) fn audit_query<'a, DB>(f: &AuditFilter) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    Uuid: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(concat!(
        "SELECT ",
        audit_columns!(),
        " FROM audit_log WHERE seq > "
    ));
    qb.push_bind(f.after_seq);
    if let Some(a) = &f.action {
        qb.push(" AND action = ").push_bind(a.clone());
    }
    if let Some(k) = &f.target_kind {
        qb.push(" AND target_kind = ").push_bind(k.clone());
    }
    if let Some(t) = &f.target_id {
        qb.push(" AND target_id = ").push_bind(t.clone());
    }
    if let Some(u) = f.actor_user {
        qb.push(" AND actor_user = ").push_bind(u.0);
    }
    if let Some(p) = f.actor_party {
        qb.push(" AND actor_party = ").push_bind(p.0);
    }
    qb.push(" ORDER BY seq LIMIT ")
        .push_bind(page_limit(f.limit, 1000, 10_000));
    qb
}

/// Implements [`Store`](crate::Store) for `$store`, whose database is `$db`. The type must have a
/// field `pool: sqlx::Pool<$db>`, constants `BACKEND` and `LOCK_HEAD` (the query reading the
/// chain head so that no other writer can move it until commit), a `static MIGRATOR` in the
/// invoking module, and `async fn begin_write(&self) -> Result<WriteTx<$db>>`.
macro_rules! impl_store {
    ($store:ident, $db:ty) => {
        mod store_impl {
            use super::{$store, MIGRATOR};
            use crate::backend::{
                record_list_query, audit_query, scope_party, with_record_ids, BULK_ROWS,
            };
            use crate::rows::{
                audit_columns, convert, opt_ts, record_columns, roles_text, token_columns, ts, user_columns,
                AuditRow, CredentialsRow, PartyRow, RecordRow, SessionUserRow, TokenRow,
                TokenUserRow, UserRow, VersionRow,
            };
            use crate::{
                ApiToken, AuditFilter, NewRecord, Progress, RecordChange, RecordDeletion, Result,
                SessionRow, Store, StoreError, UserCredentials,
            };
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use homeward_domain::{
                AuditDraft, AuditEntry, ChildRecord, Party, PartyId, RecordFilter, RecordId,
                RecordVersion, Role, Scope, TokenId, User, UserId, Username,
            };
            use sqlx::types::Json;
            use sqlx::QueryBuilder;

            type Db = $db;
            type Conn = <Db as sqlx::Database>::Connection;

            impl $store {
                /// Seals `drafts` onto the chain inside the caller's transaction and returns the
                /// last entry. The head is read (and, where the backend needs it, locked) first,
                /// so concurrent writers line up instead of forking the chain.
                async fn append(conn: &mut Conn, drafts: Vec<AuditDraft>) -> Result<Option<AuditEntry>> {
                    if drafts.is_empty() {
                        return Ok(None);
                    }
                    let (mut seq, mut hash): (i64, String) =
                        sqlx::query_as(Self::LOCK_HEAD).fetch_one(&mut *conn).await?;
                    let mut drafts = drafts.into_iter();
                    let mut batch: Vec<AuditEntry> = Vec::with_capacity(drafts.len().min(BULK_ROWS));
                    let mut last = None;
                    loop {
                        batch.clear();
                        for d in drafts.by_ref().take(BULK_ROWS) {
                            seq += 1;
                            let e = d.seal(seq, Utc::now(), &hash);
                            hash.clone_from(&e.hash);
                            batch.push(e);
                        }
                        if batch.is_empty() {
                            break;
                        }
                        let mut qb = QueryBuilder::<Db>::new(concat!("INSERT INTO audit_log (", audit_columns!(), ") "));
                        qb.push_values(&batch, |mut b, e| {
                            b.push_bind(e.seq)
                                .push_bind(e.at)
                                .push_bind(e.actor_user.map(|u| u.0))
                                .push_bind(e.actor_party.map(|p| p.0))
                                .push_bind(e.action.as_str())
                                .push_bind(e.target_kind.as_deref())
                                .push_bind(e.target_id.as_deref())
                                .push_bind(e.source.as_deref())
                                .push_bind(e.details.as_str())
                                .push_bind(e.prev_hash.as_str())
                                .push_bind(e.hash.as_str());
                        });
                        qb.build().execute(&mut *conn).await?;
                        drop(qb);
                        last = batch.pop();
                    }
                    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                        .bind(seq)
                        .bind(&hash)
                        .execute(&mut *conn)
                        .await?;
                    Ok(last)
                }

                /// Why an update matched no row: the record is gone, deleted, or at another version.
                async fn update_refused(conn: &mut Conn, id: RecordId, party: Option<uuid::Uuid>) -> StoreError {
                    let current: Result<Option<(i64, Option<DateTime<Utc>>)>, sqlx::Error> = sqlx::query_as(
                        "SELECT version, deleted_at FROM records WHERE id = $1 AND ($2 IS NULL OR party_id = $2)",
                    )
                    .bind(id.0)
                    .bind(party)
                    .fetch_optional(&mut *conn)
                    .await;
                    match current {
                        Err(e) => e.into(),
                        Ok(None) | Ok(Some((_, Some(_)))) => StoreError::NotFound,
                        // Also when `current == expected`: then a concurrent change came and went
                        // between the UPDATE and this look, and the caller should re-read anyway.
                        Ok(Some((current, None))) => StoreError::VersionConflict { current },
                    }
                }
            }

            #[async_trait]
            impl Store for $store {
                fn backend(&self) -> &'static str {
                    Self::BACKEND
                }

                async fn migrate(&self) -> Result<()> {
                    MIGRATOR.run(&self.pool).await?;
                    Ok(())
                }

                async fn close(&self) {
                    self.pool.close().await;
                }

                // ---- parties ---------------------------------------------------------------

                async fn create_party(&self, party: &Party, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query("INSERT INTO parties (id, name, kind, created_at) VALUES ($1, $2, $3, $4)")
                        .bind(party.id.0)
                        .bind(party.name.as_str())
                        .bind(party.kind.as_str())
                        .bind(ts(party.created_at))
                        .execute(&mut *tx)
                        .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn get_party(&self, id: PartyId) -> Result<Option<Party>> {
                    sqlx::query_as::<Db, PartyRow>("SELECT id, name, kind, created_at FROM parties WHERE id = $1")
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?
                        .map(Party::try_from)
                        .transpose()
                }

                async fn list_parties(&self) -> Result<Vec<Party>> {
                    let rows = sqlx::query_as::<Db, PartyRow>("SELECT id, name, kind, created_at FROM parties ORDER BY name, id")
                        .fetch_all(&self.pool)
                        .await?;
                    convert(rows)
                }

                // ---- users -----------------------------------------------------------------

                async fn create_user(&self, user: &User, password_hash: &str, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO users (id, party_id, username, display_name, roles, password_hash, totp_enabled, disabled, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(user.id.0)
                    .bind(user.party_id.0)
                    .bind(user.username.as_str())
                    .bind(&user.display_name)
                    .bind(roles_text(&user.roles))
                    .bind(password_hash)
                    .bind(user.totp_enabled)
                    .bind(user.disabled)
                    .bind(ts(user.created_at))
                    .execute(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn get_user(&self, id: UserId) -> Result<Option<User>> {
                    sqlx::query_as::<Db, UserRow>(concat!("SELECT ", user_columns!(), " FROM users WHERE users.id = $1"))
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?
                        .map(User::try_from)
                        .transpose()
                }

                async fn user_credentials(&self, username: &Username) -> Result<Option<UserCredentials>> {
                    sqlx::query_as::<Db, CredentialsRow>(concat!(
                        "SELECT ", user_columns!(), ", users.password_hash, users.totp_secret FROM users WHERE users.username = $1"
                    ))
                    .bind(username.as_str())
                    .fetch_optional(&self.pool)
                    .await?
                    .map(UserCredentials::try_from)
                    .transpose()
                }

                async fn list_users(&self, party: Option<PartyId>) -> Result<Vec<User>> {
                    let rows = sqlx::query_as::<Db, UserRow>(concat!(
                        "SELECT ", user_columns!(), " FROM users WHERE ($1 IS NULL OR users.party_id = $1) ORDER BY users.username"
                    ))
                    .bind(party.map(|p| p.0))
                    .fetch_all(&self.pool)
                    .await?;
                    convert(rows)
                }

                async fn set_password(&self, user: UserId, password_hash: &str, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let changed = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                        .bind(user.0)
                        .bind(password_hash)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if changed == 0 {
                        return Err(StoreError::NotFound);
                    }
                    // Whoever knew the old password may hold a session; a reset must lock them out.
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user.0).execute(&mut *tx).await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn set_totp(&self, user: UserId, secret: Option<&str>, enabled: bool, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let changed = sqlx::query("UPDATE users SET totp_secret = $2, totp_enabled = $3 WHERE id = $1")
                        .bind(user.0)
                        .bind(secret)
                        .bind(enabled)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if changed == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn totp_secret(&self, user: UserId) -> Result<Option<String>> {
                    let secret: Option<Option<String>> = sqlx::query_scalar("SELECT totp_secret FROM users WHERE id = $1")
                        .bind(user.0)
                        .fetch_optional(&self.pool)
                        .await?;
                    Ok(secret.flatten())
                }

                async fn update_user(&self, user: UserId, roles: &[Role], disabled: bool, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let changed = sqlx::query("UPDATE users SET roles = $2, disabled = $3 WHERE id = $1")
                        .bind(user.0)
                        .bind(roles_text(roles))
                        .bind(disabled)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if changed == 0 {
                        return Err(StoreError::NotFound);
                    }
                    if disabled {
                        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user.0).execute(&mut *tx).await?;
                        sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                            .bind(user.0)
                            .bind(ts(Utc::now()))
                            .execute(&mut *tx)
                            .await?;
                    }
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                // ---- login throttling ------------------------------------------------------

                async fn record_login_failure(&self, keys: &[String], at: DateTime<Utc>, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    for key in keys {
                        sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
                            .bind(key)
                            .bind(ts(at))
                            .execute(&mut *tx)
                            .await?;
                    }
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn count_login_failures(&self, key: &str, since: DateTime<Utc>) -> Result<i64> {
                    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at >= $2")
                        .bind(key)
                        .bind(ts(since))
                        .fetch_one(&self.pool)
                        .await?)
                }

                async fn clear_login_failures(&self, key: &str, expired_before: DateTime<Utc>) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query("DELETE FROM login_failures WHERE key = $1 OR at < $2")
                        .bind(key)
                        .bind(ts(expired_before))
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await
                }

                // ---- sessions --------------------------------------------------------------

                async fn create_session(&self, session: &SessionRow, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    // Expired sessions are useless; dropping them here keeps the table small without a job.
                    sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR absolute_expires_at < $1")
                        .bind(ts(session.created_at))
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, absolute_expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&session.token_hash)
                    .bind(session.user_id.0)
                    .bind(&session.csrf_token)
                    .bind(ts(session.created_at))
                    .bind(ts(session.expires_at))
                    .bind(ts(session.absolute_expires_at))
                    .execute(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(SessionRow, User)>> {
                    sqlx::query_as::<Db, SessionUserRow>(concat!(
                        "SELECT s.token_hash, s.user_id, s.csrf_token, s.created_at AS session_created_at, s.expires_at, \
                         s.absolute_expires_at, ", user_columns!(), " \
                         FROM sessions s JOIN users ON users.id = s.user_id \
                         WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.absolute_expires_at > $2 AND users.disabled = FALSE"
                    ))
                    .bind(token_hash)
                    .bind(ts(now))
                    .fetch_optional(&self.pool)
                    .await?
                    .map(<(SessionRow, User)>::try_from)
                    .transpose()
                }

                async fn touch_session(&self, token_hash: &str, expires_at: DateTime<Utc>) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query("UPDATE sessions SET expires_at = $2 WHERE token_hash = $1")
                        .bind(token_hash)
                        .bind(ts(expires_at))
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await
                }

                async fn delete_session(&self, token_hash: &str, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                // ---- API tokens ------------------------------------------------------------

                async fn create_token(&self, token: &ApiToken, token_hash: &str, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at, last_used_at, revoked_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(token.id.0)
                    .bind(token.user_id.0)
                    .bind(&token.name)
                    .bind(token_hash)
                    .bind(ts(token.created_at))
                    .bind(opt_ts(token.expires_at))
                    .bind(opt_ts(token.last_used_at))
                    .bind(opt_ts(token.revoked_at))
                    .execute(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn token_by_hash(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(ApiToken, User)>> {
                    let now = ts(now);
                    // Look first without the write lock, so that requests with unknown or dead
                    // tokens cannot queue up behind writers.
                    let found = sqlx::query_as::<Db, TokenUserRow>(concat!(
                        "SELECT api_tokens.id AS token_id, api_tokens.name AS token_name, api_tokens.created_at AS token_created_at, \
                         api_tokens.expires_at, api_tokens.last_used_at, api_tokens.revoked_at, ", user_columns!(), " \
                         FROM api_tokens JOIN users ON users.id = api_tokens.user_id \
                         WHERE api_tokens.token_hash = $1 AND api_tokens.revoked_at IS NULL \
                         AND (api_tokens.expires_at IS NULL OR api_tokens.expires_at > $2) AND users.disabled = FALSE"
                    ))
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
                    let Some(row) = found else { return Ok(None) };
                    let (mut token, user) = <(ApiToken, User)>::try_from(row)?;
                    let mut tx = self.begin_write().await?;
                    // Revocation (or disabling) may have committed since the look-up.
                    let used = sqlx::query(
                        "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND revoked_at IS NULL \
                         AND EXISTS (SELECT 1 FROM users WHERE users.id = api_tokens.user_id AND users.disabled = FALSE)",
                    )
                    .bind(token.id.0)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    tx.commit().await?;
                    if used == 0 {
                        return Ok(None);
                    }
                    token.last_used_at = Some(now);
                    Ok(Some((token, user)))
                }

                async fn get_token(&self, id: TokenId) -> Result<Option<ApiToken>> {
                    Ok(sqlx::query_as::<Db, TokenRow>(concat!("SELECT ", token_columns!(), " FROM api_tokens WHERE api_tokens.id = $1"))
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?
                        .map(ApiToken::from))
                }

                async fn list_tokens(&self, user: UserId) -> Result<Vec<ApiToken>> {
                    let rows = sqlx::query_as::<Db, TokenRow>(concat!(
                        "SELECT ", token_columns!(), " FROM api_tokens WHERE api_tokens.user_id = $1 ORDER BY api_tokens.created_at, api_tokens.id"
                    ))
                    .bind(user.0)
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(ApiToken::from).collect())
                }

                async fn revoke_token(&self, id: TokenId, at: DateTime<Utc>, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    // COALESCE keeps the first revocation time when revoked twice.
                    let found = sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1")
                        .bind(id.0)
                        .bind(ts(at))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if found == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                // ---- child records ---------------------------------------------------------

                async fn insert_records(&self, records: &[NewRecord], audit: Vec<AuditDraft>, progress: Progress<'_>) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let mut done = 0usize;
                    for chunk in records.chunks(BULK_ROWS) {
                        let mut qb = QueryBuilder::<Db>::new(
                            "INSERT INTO records (id, party_id, kind, version, content, search_key, sex, birth_year, \
                             external_ref, created_at, created_by, updated_at, updated_by) ",
                        );
                        qb.push_values(chunk, |mut b, n: &NewRecord| {
                            let r = &n.record;
                            b.push_bind(r.id.0)
                                .push_bind(r.party_id.0)
                                .push_bind(r.content.kind.as_str())
                                .push_bind(1_i64)
                                .push_bind(Json(&r.content))
                                .push_bind(n.search_key.as_str())
                                .push_bind(r.content.sex.as_str())
                                .push_bind(r.content.birth_date.map(|d| d.year()))
                                .push_bind(r.content.external_ref.as_deref())
                                .push_bind(ts(r.created_at))
                                .push_bind(r.created_by.0)
                                .push_bind(ts(r.updated_at))
                                .push_bind(r.updated_by.0);
                        });
                        qb.build().execute(&mut *tx).await?;
                        drop(qb);

                        let mut qb = QueryBuilder::<Db>::new(
                            "INSERT INTO record_versions (record_id, version, content, changed_at, changed_by, change) ",
                        );
                        qb.push_values(chunk, |mut b, n: &NewRecord| {
                            let r = &n.record;
                            b.push_bind(r.id.0)
                                .push_bind(1_i64)
                                .push_bind(Json(&r.content))
                                .push_bind(ts(r.created_at))
                                .push_bind(r.created_by.0)
                                .push_bind(n.change);
                        });
                        qb.build().execute(&mut *tx).await?;
                        drop(qb);

                        let before = done;
                        done += chunk.len();
                        if done / 1000 != before / 1000 || done == records.len() {
                            progress(done);
                        }
                    }
                    Self::append(&mut tx, audit).await?;
                    tx.commit().await
                }

                async fn get_record(&self, scope: Scope, id: RecordId, audit: AuditDraft) -> Result<Option<ChildRecord>> {
                    let Some(party) = scope_party(scope) else { return Ok(None) };
                    let mut tx = self.begin_write().await?;
                    let row = sqlx::query_as::<Db, RecordRow>(concat!(
                        "SELECT ", record_columns!(), " FROM records WHERE id = $1 AND ($2 IS NULL OR party_id = $2)"
                    ))
                    .bind(id.0)
                    .bind(party)
                    .fetch_optional(&mut *tx)
                    .await?;
                    // Nothing was read, so there is nothing to audit; the transaction rolls back.
                    let Some(row) = row else { return Ok(None) };
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(Some(row.into()))
                }

                async fn list_records(&self, scope: Scope, filter: &RecordFilter, audit: AuditDraft) -> Result<Vec<ChildRecord>> {
                    let Some(party) = scope_party(scope) else { return Ok(Vec::new()) };
                    let mut tx = self.begin_write().await?;
                    let mut qb = record_list_query::<Db>(party, filter);
                    let rows: Vec<RecordRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
                    drop(qb);
                    let records: Vec<ChildRecord> = rows.into_iter().map(ChildRecord::from).collect();
                    let mut audit = audit;
                    audit.details = with_record_ids(audit.details, records.iter().map(|r| r.id.to_string()).collect());
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(records)
                }

                async fn update_record(&self, scope: Scope, change: RecordChange<'_>, audit: AuditDraft) -> Result<ChildRecord> {
                    let Some(party) = scope_party(scope) else { return Err(StoreError::NotFound) };
                    let mut tx = self.begin_write().await?;
                    let c = change.content;
                    // The version condition makes a concurrent change lose cleanly on PostgreSQL,
                    // where the row may change between this transaction's start and the UPDATE.
                    let row = sqlx::query_as::<Db, RecordRow>(concat!(
                        "UPDATE records SET kind = $4, content = $5, search_key = $6, sex = $7, birth_year = $8, \
                         external_ref = $9, version = version + 1, updated_at = $10, updated_by = $11 \
                         WHERE id = $1 AND ($2 IS NULL OR party_id = $2) AND version = $3 AND deleted_at IS NULL \
                         RETURNING ", record_columns!()
                    ))
                    .bind(change.id.0)
                    .bind(party)
                    .bind(change.expected_version)
                    .bind(c.kind.as_str())
                    .bind(Json(c))
                    .bind(change.search_key)
                    .bind(c.sex.as_str())
                    .bind(c.birth_date.map(|d| d.year()))
                    .bind(c.external_ref.as_deref())
                    .bind(ts(change.at))
                    .bind(change.by.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = row else {
                        return Err(Self::update_refused(&mut tx, change.id, party).await);
                    };
                    sqlx::query(
                        "INSERT INTO record_versions (record_id, version, content, changed_at, changed_by, change) \
                         SELECT id, version, content, updated_at, updated_by, 'update' FROM records WHERE id = $1",
                    )
                    .bind(change.id.0)
                    .execute(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(row.into())
                }

                async fn delete_record(&self, scope: Scope, deletion: RecordDeletion<'_>, audit: AuditDraft) -> Result<ChildRecord> {
                    let Some(party) = scope_party(scope) else { return Err(StoreError::NotFound) };
                    let mut tx = self.begin_write().await?;
                    // A deletion is a version of its own, so the history shows who deleted and why.
                    let row = sqlx::query_as::<Db, RecordRow>(concat!(
                        "UPDATE records SET deleted_at = $3, deleted_by = $4, deletion_reason = $5, version = version + 1, \
                         updated_at = $3, updated_by = $4 \
                         WHERE id = $1 AND ($2 IS NULL OR party_id = $2) AND deleted_at IS NULL \
                         RETURNING ", record_columns!()
                    ))
                    .bind(deletion.id.0)
                    .bind(party)
                    .bind(ts(deletion.at))
                    .bind(deletion.by.0)
                    .bind(deletion.reason)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = row else { return Err(StoreError::NotFound) };
                    sqlx::query(
                        "INSERT INTO record_versions (record_id, version, content, changed_at, changed_by, change, reason) \
                         SELECT id, version, content, deleted_at, deleted_by, 'delete', deletion_reason FROM records WHERE id = $1",
                    )
                    .bind(deletion.id.0)
                    .execute(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(row.into())
                }

                async fn record_history(&self, scope: Scope, id: RecordId, audit: AuditDraft) -> Result<Option<Vec<RecordVersion>>> {
                    let Some(party) = scope_party(scope) else { return Ok(None) };
                    let mut tx = self.begin_write().await?;
                    let visible: Option<i64> =
                        sqlx::query_scalar("SELECT version FROM records WHERE id = $1 AND ($2 IS NULL OR party_id = $2)")
                            .bind(id.0)
                            .bind(party)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if visible.is_none() {
                        return Ok(None);
                    }
                    let rows = sqlx::query_as::<Db, VersionRow>(
                        "SELECT record_id, version, content, changed_at, changed_by, change FROM record_versions \
                         WHERE record_id = $1 ORDER BY version",
                    )
                    .bind(id.0)
                    .fetch_all(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(Some(rows.into_iter().map(RecordVersion::from).collect()))
                }

                // ---- audit log -------------------------------------------------------------

                async fn append_audit(&self, audit: AuditDraft) -> Result<AuditEntry> {
                    let mut tx = self.begin_write().await?;
                    let entry = Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    entry.ok_or_else(|| StoreError::Corrupt("appending one audit entry produced none".to_owned()))
                }

                async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
                    let mut qb = audit_query::<Db>(filter);
                    let rows: Vec<AuditRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                    Ok(rows.into_iter().map(AuditEntry::from).collect())
                }

                async fn audit_head(&self) -> Result<(i64, String)> {
                    Ok(sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.pool).await?)
                }
            }
        }
    };
}
pub(crate) use impl_store;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn record_ids_join_whatever_details_there_were() {
        let ids = || vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(
            with_record_ids(json!(null), ids()),
            json!({"record_ids": ["a", "b"]})
        );
        assert_eq!(
            with_record_ids(json!({"page": 2}), ids()),
            json!({"page": 2, "record_ids": ["a", "b"]})
        );
        assert_eq!(
            with_record_ids(json!("why"), vec![]),
            json!({"details": "why", "record_ids": []})
        );
        // A caller cannot smuggle in ids that were not returned.
        assert_eq!(
            with_record_ids(json!({"record_ids": ["x"]}), ids())["record_ids"],
            json!(["a", "b"])
        );
    }

    #[test]
    fn page_limits_default_and_cap() {
        assert_eq!(page_limit(0, 50, 1000), 50);
        assert_eq!(page_limit(7, 50, 1000), 7);
        assert_eq!(page_limit(u32::MAX, 50, 1000), 1000);
    }

    #[test]
    fn list_queries_only_carry_the_conditions_asked_for() {
        let sql = record_list_query::<sqlx::Postgres>(None, &RecordFilter::default()).into_sql();
        assert!(
            sql.ends_with("WHERE 1 = 1 AND deleted_at IS NULL ORDER BY id LIMIT $1"),
            "{sql}"
        );
        let f = RecordFilter {
            name: Some("a%".into()),
            include_deleted: true,
            ..Default::default()
        };
        let sql = record_list_query::<sqlx::Sqlite>(Some(Uuid::nil()), &f).into_sql();
        assert!(
            sql.contains("party_id = ? AND search_key LIKE '%' || ? || '%' ESCAPE '\\'"),
            "{sql}"
        );
        assert!(!sql.contains("deleted_at IS NULL"), "{sql}");
    }
}

//! Child records: file, read, change (keeping history), list, soft-delete. Every read is audited.

use crate::jobs::{match_key_of_record, match_key_of_records};
use crate::{App, AppError, AppResult, Caller};
use chrono::{DateTime, Utc};
use homeward_domain::{
    AuditAction, AuditDraft, ChildRecord, ChildRecordInput, PartyId, Permission, RecordDraft,
    RecordFilter, RecordId, RecordKind, RecordVersion, Sex,
};
use homeward_store::{NewRecord, RecordChange, RecordDeletion};
use serde::{Deserialize, Serialize};

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 500;

/// What a list of records may be narrowed by, as a person or client gives it.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RecordQuery {
    pub kind: Option<RecordKind>,
    pub party: Option<PartyId>,
    pub sex: Option<Sex>,
    /// Any part of any name, in any script; case and diacritics do not matter.
    pub name: Option<String>,
    pub born_from_year: Option<i32>,
    pub born_to_year: Option<i32>,
    pub external_ref: Option<String>,
    #[serde(default)]
    pub include_deleted: bool,
    /// The `next` value of the previous page.
    pub after: Option<RecordId>,
    pub limit: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next: Option<RecordId>,
}

/// The folded text a record's names are searched by.
pub(crate) fn search_key(draft: &RecordDraft) -> String {
    homeward_linkage::search_key(draft.names.iter().map(|n| {
        [
            n.given.as_deref(),
            n.patronymic.as_deref(),
            n.family.as_deref(),
            Some(n.as_written.as_str()),
        ]
    }))
}

/// A record the caller files, as the store takes it, with the audit entry of its creation.
/// `change` is `create` or `import`, as kept in the record's history.
pub(crate) fn new_record(
    caller: &Caller,
    content: RecordDraft,
    at: DateTime<Utc>,
    change: &'static str,
    details: serde_json::Value,
) -> (NewRecord, AuditDraft) {
    let record = ChildRecord {
        id: RecordId::new(),
        party_id: caller.party().id,
        version: 1,
        content,
        created_at: at,
        created_by: caller.user().id,
        updated_at: at,
        updated_by: caller.user().id,
        deleted_at: None,
        deletion_reason: None,
        merged_into: None,
    };
    let audit = caller
        .audit(AuditAction::RecordCreate)
        .target("record", record.id)
        .details(details);
    (
        NewRecord {
            search_key: search_key(&record.content),
            record,
            change,
        },
        audit,
    )
}

/// The kind of record the caller's party files, or why it cannot file any.
pub(crate) fn filed_kind(caller: &Caller) -> AppResult<RecordKind> {
    caller
        .party()
        .kind
        .files()
        .ok_or(AppError::ForbiddenBecause(
            "only origin and custody parties file child records",
        ))
}

impl App {
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn create_record(
        &self,
        caller: &Caller,
        input: &ChildRecordInput,
    ) -> AppResult<ChildRecord> {
        caller.require(Permission::RecordCreate, &self.config)?;
        let kind = filed_kind(caller)?;
        // Databases keep microseconds: answer with the timestamps a later read will return.
        let now = self.now();
        let content = input.parse(kind, now.date_naive())?;
        let (new, audit) = new_record(
            caller,
            content,
            now,
            "create",
            serde_json::json!({ "kind": kind.as_str() }),
        );
        self.store
            .insert_records(std::slice::from_ref(&new), vec![audit], &|_| {})
            .await?;
        self.after_commit(&match_key_of_records(new.record.id, 1))
            .await;
        Ok(new.record)
    }

    /// One record. Another party's record answers exactly like a missing one.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn get_record(&self, caller: &Caller, id: RecordId) -> AppResult<ChildRecord> {
        caller.require(Permission::RecordRead, &self.config)?;
        let audit = vec![caller.audit(AuditAction::RecordRead).target("record", id)];
        let record = self
            .store
            .get_record_audited(caller.scope(), id, caller.for_store(audit.clone()))
            .await?
            .ok_or(AppError::NotFound)?;
        caller.viewed(audit);
        Ok(record)
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn list_records(
        &self,
        caller: &Caller,
        q: &RecordQuery,
    ) -> AppResult<Page<ChildRecord>> {
        caller.require(Permission::RecordRead, &self.config)?;
        let limit = q.limit.unwrap_or(DEFAULT_PAGE);
        if limit == 0 || limit > MAX_PAGE {
            return Err(AppError::invalid(
                "limit",
                "out_of_range",
                format!("between 1 and {MAX_PAGE}"),
            ));
        }
        if let (Some(a), Some(b)) = (q.born_from_year, q.born_to_year)
            && a > b
        {
            return Err(AppError::invalid(
                "born_from_year",
                "out_of_range",
                "born_from_year is after born_to_year",
            ));
        }
        // Each typed word may match in any script or spelling (linkage's search terms), not just
        // as the folded text it was typed in.
        let name_terms = q
            .name
            .as_deref()
            .map(homeward_linkage::search_terms)
            .unwrap_or_default();
        let filter = RecordFilter {
            kind: q.kind,
            party: q.party,
            sex: q.sex,
            name: None,
            name_terms,
            born_from_year: q.born_from_year,
            born_to_year: q.born_to_year,
            external_ref: q.external_ref.clone().filter(|s| !s.trim().is_empty()),
            include_deleted: q.include_deleted,
            after: q.after,
            limit,
        };
        // The audit entry says which filters were used, not their values: a name typed into the
        // search box is personal data.
        let used: Vec<&str> = [
            ("kind", filter.kind.is_some()),
            ("party", filter.party.is_some()),
            ("sex", filter.sex.is_some()),
            ("name", !filter.name_terms.is_empty()),
            ("born_from_year", filter.born_from_year.is_some()),
            ("born_to_year", filter.born_to_year.is_some()),
            ("external_ref", filter.external_ref.is_some()),
            ("include_deleted", filter.include_deleted),
        ]
        .into_iter()
        .filter_map(|(k, on)| on.then_some(k))
        .collect();
        let audit = caller
            .audit(AuditAction::RecordList)
            .details(serde_json::json!({ "filters": used }));
        let items = self
            .store
            .list_records(caller.scope(), &filter, audit)
            .await?;
        let next = (items.len() == limit as usize)
            .then(|| items.last().map(|r| r.id))
            .flatten();
        Ok(Page { items, next })
    }

    /// Replaces a record's content; `expected_version` is the version the caller edited.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn update_record(
        &self,
        caller: &Caller,
        id: RecordId,
        expected_version: i64,
        input: &ChildRecordInput,
    ) -> AppResult<ChildRecord> {
        caller.require(Permission::RecordUpdate, &self.config)?;
        let kind = filed_kind(caller)?;
        let now = self.now();
        let content = input.parse(kind, now.date_naive())?;
        let key = search_key(&content);
        let change = RecordChange {
            id,
            expected_version,
            content: &content,
            search_key: &key,
            by: caller.user().id,
            at: now,
        };
        let audit = caller
            .audit(AuditAction::RecordUpdate)
            .target("record", id)
            .details(serde_json::json!({ "from_version": expected_version }));
        let record = self
            .store
            .update_record(caller.scope(), change, audit)
            .await?;
        self.after_commit(&match_key_of_record(record.id, record.version))
            .await;
        Ok(record)
    }

    /// Soft-deletes a record; the reason is kept with its history.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn delete_record(
        &self,
        caller: &Caller,
        id: RecordId,
        reason: &str,
    ) -> AppResult<ChildRecord> {
        caller.require(Permission::RecordDelete, &self.config)?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 1000 {
            return Err(AppError::invalid(
                "reason",
                "required",
                "say why the record is deleted (1 to 1000 characters)",
            ));
        }
        let deletion = RecordDeletion {
            id,
            reason,
            by: caller.user().id,
            at: self.now(),
        };
        let audit = caller.audit(AuditAction::RecordDelete).target("record", id);
        Ok(self
            .store
            .delete_record(caller.scope(), deletion, audit)
            .await?)
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn record_history(
        &self,
        caller: &Caller,
        id: RecordId,
    ) -> AppResult<Vec<RecordVersion>> {
        caller.require(Permission::RecordRead, &self.config)?;
        let audit = caller
            .audit(AuditAction::RecordHistory)
            .target("record", id);
        self.store
            .record_history(caller.scope(), id, audit)
            .await?
            .ok_or(AppError::NotFound)
    }
}

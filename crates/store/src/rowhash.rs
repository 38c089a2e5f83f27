//! The rows the audit chain covers, and their hashes ([`homeward_domain::rowhash`]).
//!
//! Every method that writes a record, a record version, a case or a case version lists the rows
//! it wrote with the audit entry that describes the change (`writes` in its details), so that
//! `audit verify` can recompute each stored row's hash and compare it with the entry that last
//! wrote it. Each table hashes the columns its row struct below names; a record's `search_key` is
//! left out (derived from the content, and rebuilt by `reindex` without an audit entry).

use crate::rows::ts;
use crate::{NewRecord, Result, StoreError};
use chrono::{DateTime, Utc};
use homeward_domain::{AuditDraft, audit::WRITES_KEY, row_hash};
use serde_json::{Value, json};
use sqlx::types::Json;
use std::collections::HashMap;
use uuid::Uuid;

/// A table whose rows the audit chain covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RowTable {
    Records,
    RecordVersions,
    Cases,
    CaseVersions,
}

impl RowTable {
    pub const ALL: [Self; 4] = [
        Self::Records,
        Self::RecordVersions,
        Self::Cases,
        Self::CaseVersions,
    ];

    /// The table's name, as hashed.
    pub fn table(self) -> &'static str {
        match self {
            Self::Records => "records",
            Self::RecordVersions => "record_versions",
            Self::Cases => "cases",
            Self::CaseVersions => "case_versions",
        }
    }

    /// How a row of the table is named in an entry's `writes`.
    fn prefix(self) -> &'static str {
        match self {
            Self::Records => "record",
            Self::RecordVersions => "record_version",
            Self::Cases => "case",
            Self::CaseVersions => "case_version",
        }
    }

    fn versioned(self) -> bool {
        matches!(self, Self::RecordVersions | Self::CaseVersions)
    }

    /// The `target_kind` of the audit entries that describe changes to the table's rows.
    fn target_kind(self) -> &'static str {
        match self {
            Self::Records | Self::RecordVersions => "record",
            Self::Cases | Self::CaseVersions => "case",
        }
    }

    /// The hashed columns, in the order the row structs below decode them.
    pub(crate) fn columns(self) -> &'static str {
        match self {
            Self::Records => {
                "id, party_id, kind, version, content, sex, birth_year, external_ref, created_at, created_by, \
                 updated_at, updated_by, deleted_at, deleted_by, deletion_reason, merged_into"
            }
            Self::RecordVersions => {
                "record_id, version, content, changed_at, changed_by, change, reason, merged_record"
            }
            Self::Cases => {
                "id, tracing_record_id, custody_record_id, state, content, version, created_at, updated_at, follow_up_due"
            }
            Self::CaseVersions => "case_id, version, content, change, changed_by, changed_at",
        }
    }

    /// The key columns, in order (`id` alone, or the owner's id and the version).
    pub(crate) fn key_columns(self) -> (&'static str, Option<&'static str>) {
        match self {
            Self::Records | Self::Cases => ("id", None),
            Self::RecordVersions => ("record_id", Some("version")),
            Self::CaseVersions => ("case_id", Some("version")),
        }
    }
}

/// One row the audit chain covers: its table, its id (a version's owner) and, for versions, the
/// version number (`0` otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowRef {
    pub table: RowTable,
    pub id: Uuid,
    pub version: i64,
}

impl RowRef {
    pub fn record(id: Uuid) -> Self {
        Self {
            table: RowTable::Records,
            id,
            version: 0,
        }
    }
    pub fn record_version(id: Uuid, version: i64) -> Self {
        Self {
            table: RowTable::RecordVersions,
            id,
            version,
        }
    }
    pub fn case(id: Uuid) -> Self {
        Self {
            table: RowTable::Cases,
            id,
            version: 0,
        }
    }
    pub fn case_version(id: Uuid, version: i64) -> Self {
        Self {
            table: RowTable::CaseVersions,
            id,
            version,
        }
    }

    /// The row's name in an entry's `writes`: `record/ID`, `record_version/ID/VERSION`, …
    pub fn name(&self) -> String {
        if self.table.versioned() {
            format!("{}/{}/{}", self.table.prefix(), self.id, self.version)
        } else {
            format!("{}/{}", self.table.prefix(), self.id)
        }
    }
}

/// A stored row and its hash as recomputed now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowHash {
    pub row: RowRef,
    pub hash: String,
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn opt_time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(time)
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RecordHashRow {
    id: Uuid,
    party_id: Uuid,
    kind: String,
    version: i64,
    content: Json<Value>,
    sex: String,
    birth_year: Option<i32>,
    external_ref: Option<String>,
    created_at: DateTime<Utc>,
    created_by: Uuid,
    updated_at: DateTime<Utc>,
    updated_by: Uuid,
    deleted_at: Option<DateTime<Utc>>,
    deleted_by: Option<Uuid>,
    deletion_reason: Option<String>,
    merged_into: Option<Uuid>,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RecordVersionHashRow {
    record_id: Uuid,
    version: i64,
    content: Json<Value>,
    changed_at: DateTime<Utc>,
    changed_by: Uuid,
    change: String,
    reason: Option<String>,
    merged_record: Option<Uuid>,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CaseHashRow {
    id: Uuid,
    tracing_record_id: Option<Uuid>,
    custody_record_id: Option<Uuid>,
    state: String,
    content: Json<Value>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    follow_up_due: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CaseVersionHashRow {
    case_id: Uuid,
    version: i64,
    content: Json<Value>,
    change: String,
    changed_by: Uuid,
    changed_at: DateTime<Utc>,
}

impl RecordHashRow {
    pub(crate) fn hashed(self) -> RowHash {
        let row = json!({
            "id": self.id, "party_id": self.party_id, "kind": self.kind, "version": self.version,
            "content": self.content.0, "sex": self.sex, "birth_year": self.birth_year,
            "external_ref": self.external_ref, "created_at": time(self.created_at),
            "created_by": self.created_by, "updated_at": time(self.updated_at),
            "updated_by": self.updated_by, "deleted_at": opt_time(self.deleted_at),
            "deleted_by": self.deleted_by, "deletion_reason": self.deletion_reason,
            "merged_into": self.merged_into,
        });
        RowHash {
            row: RowRef::record(self.id),
            hash: row_hash(RowTable::Records.table(), &row),
        }
    }
}

impl RecordVersionHashRow {
    pub(crate) fn hashed(self) -> RowHash {
        let row = json!({
            "record_id": self.record_id, "version": self.version, "content": self.content.0,
            "changed_at": time(self.changed_at), "changed_by": self.changed_by,
            "change": self.change, "reason": self.reason, "merged_record": self.merged_record,
        });
        RowHash {
            row: RowRef::record_version(self.record_id, self.version),
            hash: row_hash(RowTable::RecordVersions.table(), &row),
        }
    }
}

impl CaseHashRow {
    pub(crate) fn hashed(self) -> RowHash {
        let row = json!({
            "id": self.id, "tracing_record_id": self.tracing_record_id,
            "custody_record_id": self.custody_record_id, "state": self.state,
            "content": self.content.0, "version": self.version,
            "created_at": time(self.created_at), "updated_at": time(self.updated_at),
            "follow_up_due": self.follow_up_due,
        });
        RowHash {
            row: RowRef::case(self.id),
            hash: row_hash(RowTable::Cases.table(), &row),
        }
    }
}

impl CaseVersionHashRow {
    pub(crate) fn hashed(self) -> RowHash {
        let row = json!({
            "case_id": self.case_id, "version": self.version, "content": self.content.0,
            "change": self.change, "changed_by": self.changed_by,
            "changed_at": time(self.changed_at),
        });
        RowHash {
            row: RowRef::case_version(self.case_id, self.version),
            hash: row_hash(RowTable::CaseVersions.table(), &row),
        }
    }
}

/// The hashes of the two rows `insert_records` writes for a new record, computed from the values
/// it binds (reading 100,000 rows back would slow an import for nothing: what is bound is what is
/// stored, and the conformance suite verifies imports on both backends).
pub(crate) fn new_record_hashes(n: &NewRecord) -> Result<[RowHash; 2]> {
    let r = &n.record;
    let content = serde_json::to_value(&r.content)
        .map_err(|e| StoreError::Corrupt(format!("record {}: {e}", r.id)))?;
    let version = RecordVersionHashRow {
        record_id: r.id.0,
        version: 1,
        content: Json(content.clone()),
        changed_at: ts(r.created_at),
        changed_by: r.created_by.0,
        change: n.change.to_owned(),
        reason: None,
        merged_record: None,
    };
    let record = RecordHashRow {
        id: r.id.0,
        party_id: r.party_id.0,
        kind: r.content.kind.as_str().to_owned(),
        version: 1,
        content: Json(content),
        sex: r.content.sex.as_str().to_owned(),
        birth_year: r.content.birth_date.map(|d| d.year()),
        external_ref: r.content.external_ref.clone(),
        created_at: ts(r.created_at),
        created_by: r.created_by.0,
        updated_at: ts(r.updated_at),
        updated_by: r.updated_by.0,
        deleted_at: None,
        deleted_by: None,
        deletion_reason: None,
        merged_into: None,
    };
    Ok([record.hashed(), version.hashed()])
}

/// Lists each written row under the draft that describes it: the draft targeting the row's
/// record or case, else the first draft. Rows written by a transaction with no draft cannot be
/// listed, which every write method avoids by always auditing.
/// The hashes of new records (and their first versions), listed under the drafts that describe
/// them: for every path that inserts records in bulk.
pub(crate) fn attach_new_records(drafts: &mut [AuditDraft], records: &[NewRecord]) -> Result<()> {
    let mut written = Vec::with_capacity(records.len() * 2);
    for n in records {
        written.extend(new_record_hashes(n)?);
    }
    attach_writes(drafts, written);
    Ok(())
}

pub(crate) fn attach_writes(drafts: &mut [AuditDraft], writes: Vec<RowHash>) {
    if writes.is_empty() || drafts.is_empty() {
        return;
    }
    let mut targets: HashMap<(&'static str, String), usize> = HashMap::new();
    for (i, d) in drafts.iter().enumerate() {
        if let (Some(kind), Some(id)) = (&d.target_kind, &d.target_id) {
            for k in ["record", "case"] {
                if kind == k {
                    targets.entry((k, id.clone())).or_insert(i);
                }
            }
        }
    }
    let mut lists: Vec<Vec<Value>> = vec![Vec::new(); drafts.len()];
    for w in writes {
        let i = targets
            .get(&(w.row.table.target_kind(), w.row.id.to_string()))
            .copied()
            .unwrap_or(0);
        lists[i].push(json!([w.row.name(), w.hash]));
    }
    for (d, list) in drafts.iter_mut().zip(lists) {
        if list.is_empty() {
            continue;
        }
        let details = std::mem::take(&mut d.details);
        let mut map = match details {
            Value::Object(m) => m,
            Value::Null => serde_json::Map::new(),
            other => {
                let mut m = serde_json::Map::new();
                m.insert("details".to_owned(), other);
                m
            }
        };
        map.insert(WRITES_KEY.to_owned(), Value::Array(list));
        d.details = Value::Object(map);
    }
}

/// The hashes of the rows a bulk load of one case writes (the case and each of its versions),
/// computed from the values it binds, like [`new_record_hashes`]. `versions` as in
/// [`crate::indicators::SyntheticCase`].
pub(crate) fn new_case_rows_hashes(
    versions: &[(
        homeward_domain::Case,
        &'static str,
        homeward_domain::UserId,
        DateTime<Utc>,
    )],
) -> Result<Vec<RowHash>> {
    let (Some(first), Some(last)) = (versions.first(), versions.last()) else {
        return Ok(Vec::new());
    };
    let json = |c: &homeward_domain::Case| {
        serde_json::to_value(c).map_err(|e| StoreError::Corrupt(format!("case {}: {e}", c.id)))
    };
    let case = &last.0;
    let mut out = vec![
        CaseHashRow {
            id: case.id.0,
            tracing_record_id: case.tracing_request.map(|r| r.0),
            custody_record_id: case.custody_record.map(|r| r.0),
            state: case.state.as_str().to_owned(),
            content: Json(json(case)?),
            version: versions.len() as i64,
            created_at: ts(first.3),
            updated_at: ts(last.3),
            follow_up_due: case.next_follow_up_due(last.3).map(|d| d.to_string()),
        }
        .hashed(),
    ];
    for (i, (c, change, by, at)) in versions.iter().enumerate() {
        out.push(
            CaseVersionHashRow {
                case_id: c.id.0,
                version: i as i64 + 1,
                content: Json(json(c)?),
                change: (*change).to_owned(),
                changed_by: by.0,
                changed_at: ts(*at),
            }
            .hashed(),
        );
    }
    Ok(out)
}

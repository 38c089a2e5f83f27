//! Reading and verifying the audit log.

use crate::{App, AppError, AppResult, Caller};
use homeward_domain::audit::ChainVerifier;
use homeward_domain::{
    AuditAction, AuditEntry, CaseId, ChainBreak, PartyId, Permission, UserId, Username,
};
use homeward_store::{AuditFilter, RowTable};
use serde::Serialize;
use std::collections::HashMap;

const VERIFY_PAGE: u32 = 5_000;

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainReport {
    /// Entries checked.
    pub entries: i64,
    /// Hash of the last entry: write it down somewhere else to anchor the chain.
    pub head_hash: String,
    /// Stored records, record versions, cases and case versions checked against the entries
    /// that wrote them.
    pub rows: i64,
}

/// What the walk of the chain has seen so far: where it stands and, for each row the entries
/// list in their `writes`, the last entry that wrote it and the hash it wrote.
struct Walk {
    verifier: ChainVerifier,
    at: i64,
    writers: HashMap<String, (i64, String)>,
}

impl Walk {
    fn push(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        self.verifier.push(e)?;
        for (row, hash) in e.writes() {
            self.writers.insert(row, (e.seq, hash));
        }
        self.at = e.seq;
        Ok(())
    }
}

fn row_break(seq: i64, row: String, reason: String) -> AppError {
    AppError::ChainBroken(ChainBreak {
        seq,
        reason,
        row: Some(row),
    })
}

impl App {
    /// Walks the whole chain, then every stored record, record version, case and case version;
    /// fails with `ChainBroken` naming the first bad entry, or the first row that differs from
    /// what the entry that last wrote it recorded.
    pub(crate) async fn verify_audit(
        &self,
        progress: &(dyn Fn(i64) + Send + Sync),
    ) -> AppResult<ChainReport> {
        self.verify_audit_from(ChainVerifier::default(), progress)
            .await
    }

    /// [`App::verify_audit`] with `verifier` (which may carry an anchor).
    pub(crate) async fn verify_audit_from(
        &self,
        verifier: ChainVerifier,
        progress: &(dyn Fn(i64) + Send + Sync),
    ) -> AppResult<ChainReport> {
        // Read the head first: entries appended while we walk are beyond it and not checked.
        let (head_seq, head_hash) = self.store.audit_head().await?;
        let mut walk = Walk {
            verifier,
            at: 0,
            writers: HashMap::new(),
        };
        self.walk_to(&mut walk, head_seq, progress).await?;
        let entries = walk.verifier.finish(head_seq, &head_hash)?;
        let rows = self.verify_rows(&mut walk).await?;
        Ok(ChainReport {
            entries,
            head_hash,
            rows,
        })
    }

    /// Pushes the entries after `walk.at` up to `until` (the last stored one when `None`).
    async fn walk_to(
        &self,
        walk: &mut Walk,
        until: i64,
        progress: &(dyn Fn(i64) + Send + Sync),
    ) -> AppResult<()> {
        loop {
            let filter = AuditFilter {
                after_seq: walk.at,
                limit: VERIFY_PAGE,
                ..Default::default()
            };
            let page = self.store.audit_entries(&filter).await?;
            let Some(last) = page.last().map(|e| e.seq) else {
                break;
            };
            for e in page.iter().take_while(|e| e.seq <= until) {
                walk.push(e)?;
            }
            progress(last.min(until));
            if last >= until || walk.at < last {
                break;
            }
        }
        Ok(())
    }

    /// Compares every stored row with the hash the entry that last wrote it recorded.
    async fn verify_rows(&self, walk: &mut Walk) -> AppResult<i64> {
        let mut checked = 0;
        let mut caught_up = false;
        for table in RowTable::ALL {
            let mut after = None;
            loop {
                let page = self.store.row_hashes(table, after, VERIFY_PAGE).await?;
                let Some(last) = page.last() else { break };
                after = Some((last.row.id, last.row.version));
                for r in &page {
                    let name = r.row.name();
                    if walk.writers.get(&name).is_none_or(|(_, h)| *h != r.hash) && !caught_up {
                        // Written after the walk read the head? Entries commit with their rows,
                        // so reading on to the current end settles it.
                        let (now, _) = self.store.audit_head().await?;
                        self.walk_to(walk, now, &|_| {}).await?;
                        caught_up = true;
                    }
                    match walk.writers.remove(&name) {
                        Some((_, h)) if h == r.hash => {}
                        Some((seq, _)) => {
                            return Err(row_break(
                                seq,
                                name.clone(),
                                format!(
                                    "row {name} differs from what entry {seq} wrote (it was changed outside the application)"
                                ),
                            ));
                        }
                        None => {
                            return Err(row_break(
                                0,
                                name.clone(),
                                format!(
                                    "row {name} was written by no audit entry (it was added or re-keyed outside the application)"
                                ),
                            ));
                        }
                    }
                    checked += 1;
                }
            }
        }
        // Rows are never removed by the application (records and cases are deleted softly).
        let mut missing: Vec<(String, i64)> = walk
            .writers
            .drain()
            .map(|(row, (seq, _))| (row, seq))
            .collect();
        missing.sort();
        if let Some((row, seq)) = missing.into_iter().next() {
            return Err(row_break(
                seq,
                row.clone(),
                format!(
                    "row {row}, written by entry {seq}, is missing (it was removed outside the application)"
                ),
            ));
        }
        Ok(checked)
    }

    /// [`App::verify_audit`] on behalf of a signed-in auditor.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn verify_audit_as(&self, caller: &Caller) -> AppResult<ChainReport> {
        caller.require(Permission::AuditRead, &self.config)?;
        self.verify_audit(&|_| {}).await
    }

    /// The user an auditor names by username (or id) in a filter. Someone who may not read the
    /// log learns nothing about which usernames exist.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn audit_actor(&self, caller: &Caller, who: &str) -> AppResult<UserId> {
        caller.require(Permission::AuditRead, &self.config)?;
        let who = who.trim();
        if let Ok(id) = who.parse::<UserId>() {
            return Ok(id);
        }
        let unknown = || AppError::invalid("actor", "unknown_user", "no user has this username");
        let name = Username::parse(who).map_err(|_| unknown())?;
        match self.store.user_credentials(&name).await? {
            Some(c) => Ok(c.user.id),
            None => Err(unknown()),
        }
    }

    /// The usernames of the actors on a page of entries, for an auditor (who may read who did
    /// what, but not manage users). A user since removed is left out.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn audit_actor_names(
        &self,
        caller: &Caller,
        ids: &[UserId],
    ) -> AppResult<HashMap<UserId, String>> {
        caller.require(Permission::AuditRead, &self.config)?;
        let mut names = HashMap::new();
        for id in ids {
            if names.contains_key(id) {
                continue;
            }
            if let Some(u) = self.store.get_user(*id).await? {
                names.insert(*id, u.username.to_string());
            }
        }
        Ok(names)
    }

    /// What the targets on a page of entries are called, for an auditor: a case by its number,
    /// a user by display name, a party by name (none of them says anything about a child). Other
    /// targets, and those since removed, are left out and shown by id. Unaudited: the read of the
    /// page that shows them is audited already.
    pub async fn audit_target_names(
        &self,
        caller: &Caller,
        targets: &[(String, String)],
    ) -> AppResult<HashMap<(String, String), String>> {
        caller.require(Permission::AuditRead, &self.config)?;
        let mut names = HashMap::new();
        for (kind, id) in targets {
            let key = (kind.clone(), id.clone());
            if names.contains_key(&key) {
                continue;
            }
            if let Some(name) = self.target_name(kind, id).await? {
                names.insert(key, name);
            }
        }
        Ok(names)
    }

    async fn target_name(&self, kind: &str, id: &str) -> AppResult<Option<String>> {
        Ok(match kind {
            "case" => match id.parse::<CaseId>() {
                Ok(c) => self
                    .store
                    .get_case_audited(c, Vec::new())
                    .await?
                    .map(|c| c.number.to_string()),
                Err(_) => None,
            },
            "user" => match id.parse::<UserId>() {
                Ok(u) => self.store.get_user(u).await?.map(|u| u.display_name),
                Err(_) => None,
            },
            "party" => match id.parse::<PartyId>() {
                Ok(p) => self
                    .store
                    .get_party(p)
                    .await?
                    .map(|p| p.name.as_str().to_owned()),
                Err(_) => None,
            },
            _ => None,
        })
    }

    /// Entries for an auditor; reading the log is itself audited.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn list_audit(
        &self,
        caller: &Caller,
        filter: AuditFilter,
    ) -> AppResult<Vec<AuditEntry>> {
        caller.require(Permission::AuditRead, &self.config)?;
        let filter = AuditFilter {
            limit: filter.limit.clamp(1, 1000),
            ..filter
        };
        let entries = self.store.audit_entries(&filter).await?;
        self.store
            .append_audit(
                caller
                    .audit(AuditAction::AuditRead)
                    .details(serde_json::json!({
                        "after_seq": filter.after_seq,
                        "before_seq": filter.before_seq,
                        "count": entries.len(),
                    })),
            )
            .await?;
        Ok(entries)
    }
}

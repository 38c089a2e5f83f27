//! Reading and verifying the audit log.

use crate::{App, AppError, AppResult, Caller};
use homeward_domain::audit::ChainVerifier;
use homeward_domain::{AuditAction, AuditEntry, Permission, UserId, Username};
use homeward_store::AuditFilter;
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
}

impl App {
    /// Walks the whole chain; fails with `ChainBroken` naming the first bad entry.
    pub async fn verify_audit(
        &self,
        progress: &(dyn Fn(i64) + Send + Sync),
    ) -> AppResult<ChainReport> {
        // Read the head first: entries appended while we walk are beyond it and not checked.
        let (head_seq, head_hash) = self.store.audit_head().await?;
        let mut verifier = ChainVerifier::default();
        let mut after = 0;
        loop {
            let filter = AuditFilter {
                after_seq: after,
                limit: VERIFY_PAGE,
                ..Default::default()
            };
            let page = self.store.audit_entries(&filter).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in page.iter().take_while(|e| e.seq <= head_seq) {
                verifier.push(e)?;
            }
            progress(after.min(head_seq));
            if after >= head_seq {
                break;
            }
        }
        let entries = verifier.finish(head_seq, &head_hash)?;
        Ok(ChainReport { entries, head_hash })
    }

    /// [`App::verify_audit`] on behalf of a signed-in auditor.
    pub async fn verify_audit_as(&self, caller: &Caller) -> AppResult<ChainReport> {
        caller.require(Permission::AuditRead, &self.config)?;
        self.verify_audit(&|_| {}).await
    }

    /// The user an auditor names by username (or id) in a filter. Someone who may not read the
    /// log learns nothing about which usernames exist.
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

    /// Entries for an auditor; reading the log is itself audited.
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

//! What a printable document of one case reads (its summary, its custody chain, a handover
//! receipt): the case's workflow, the child records the caller may read and the display names of
//! the users it names, in ONE audit entry (`case.read` with the document's name and the ids of
//! the records it showed), so that printing reads in the log as one act rather than three reads.
//!
//! The scope is the case page's: the same permission (`case.read`), the same sight (the
//! workflow), and the records within the caller's record scope.
//!
//! The transfer-list manifest likewise: the list as the list page shows it to the reader (the
//! mediator: every entry with its case number and both records; a side: its own records), in
//! one `transfer_list.read` entry naming the document. Which children it named follows from the
//! list's version at that moment, which the list's own history keeps.

use crate::cases::{CaseDetail, detail_of};
use crate::sight::{CaseParts, CaseSight};
use crate::transfers::{ListPeople, ListView};
use crate::{App, AppError, AppResult, Caller};
use homeward_domain::{
    AuditAction, CaseId, ChildRecord, Permission, RecordId, TransferListId, UserId,
};
use std::collections::HashMap;

/// A case as its documents show it.
#[derive(Debug)]
pub struct CaseDocument {
    pub detail: CaseDetail,
    /// The case's records the caller may read, by id.
    pub children: HashMap<RecordId, ChildRecord>,
    /// Display names of the users the case names (who opened it, who recorded each handover);
    /// one since removed is left out.
    pub users: HashMap<UserId, String>,
}

impl App {
    /// The case for the document `document` (a code, kept in the audit entry).
    pub async fn case_document(
        &self,
        caller: &Caller,
        id: CaseId,
        document: &str,
    ) -> AppResult<CaseDocument> {
        caller.require(Permission::CaseRead, &self.config)?;
        // Read first without an entry: the one entry below names the records too.
        let stored = self
            .store
            .get_case_audited(id, Vec::new())
            .await?
            .ok_or(AppError::NotFound)?;
        let sight = CaseSight::of(caller, CaseParts::WORKFLOW);
        let detail = detail_of(stored, sight, &self.case_policy(), self.now());
        let case = &detail.view.case;
        let records: Vec<RecordId> = [case.tracing_request, case.custody_record]
            .into_iter()
            .flatten()
            .collect();
        let audit = caller
            .audit(AuditAction::CaseRead)
            .target("case", id)
            .details(serde_json::json!({ "document": document }));
        let read = if caller.may(Permission::RecordRead) {
            self.store
                .records_by_ids(caller.scope(), &records, vec![audit.clone()])
                .await?
        } else {
            Vec::new()
        };
        // The store writes the entry only when it read a record; otherwise it is written here.
        if read.is_empty() {
            self.store.append_audit(audit).await?;
        }
        let children = read.into_iter().map(|r| (r.id, r)).collect();
        let mut ids: Vec<UserId> = case.handovers.iter().map(|h| h.recorded_by).collect();
        ids.push(case.opened_by);
        let users = self.display_names(&ids).await?;
        Ok(CaseDocument {
            detail,
            children,
            users,
        })
    }

    async fn display_names(&self, ids: &[UserId]) -> AppResult<HashMap<UserId, String>> {
        let mut names = HashMap::new();
        for id in ids {
            if !names.contains_key(id)
                && let Some(u) = self.store.get_user(*id).await?
            {
                names.insert(*id, u.display_name);
            }
        }
        Ok(names)
    }

    /// The list and the names its manifest shows (see the module), in one audit entry.
    pub async fn list_document(
        &self,
        caller: &Caller,
        id: TransferListId,
        document: &str,
    ) -> AppResult<(ListView, ListPeople)> {
        let party = self.list_reader(caller)?;
        let audit = caller
            .audit(AuditAction::TransferListRead)
            .target("transfer_list", id)
            .details(serde_json::json!({ "document": document }));
        let stored = self
            .store
            .get_transfer_list(id, party, audit)
            .await?
            .ok_or(AppError::NotFound)?;
        let Some(party) = party else {
            let list = &stored.list;
            let entries = list.active_entries();
            let (cases, records): (Vec<CaseId>, Vec<[RecordId; 2]>) = entries
                .map(|e| (e.case_id, [e.tracing_request, e.custody_record]))
                .unzip();
            let mut numbers = std::collections::HashMap::new();
            for case in cases {
                if let Some(c) = self.store.get_case_audited(case, Vec::new()).await? {
                    numbers.insert(case, c.number);
                }
            }
            let records: Vec<RecordId> = records.into_iter().flatten().collect();
            let approvers: Vec<UserId> = list.approvals.iter().map(|a| a.by).collect();
            let people = ListPeople {
                numbers,
                children: self.readable(caller, &records).await?,
                records_of: HashMap::new(),
                users: self.display_names(&approvers).await?,
            };
            return Ok((ListView::Mediator(stored.into()), people));
        };
        let view = Self::side_view(&stored.list, party, stored.version)?;
        let records: Vec<RecordId> = view.entries.iter().map(|e| e.record_id).collect();
        let people = ListPeople {
            children: self.readable(caller, &records).await?,
            ..ListPeople::default()
        };
        Ok((ListView::Party(view), people))
    }

    /// The records among `ids` the caller may read, within its scope, without an entry of their
    /// own: for a read whose own entry already says what was shown.
    async fn readable(
        &self,
        caller: &Caller,
        ids: &[RecordId],
    ) -> AppResult<HashMap<RecordId, ChildRecord>> {
        if !caller.may(Permission::RecordRead) {
            return Ok(HashMap::new());
        }
        Ok(self
            .store
            .records_by_ids(caller.scope(), ids, Vec::new())
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect())
    }
}

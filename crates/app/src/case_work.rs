//! How a case's use-case runs: one store transaction ([`CaseWork`]) that reads the case, checks
//! what the change names against it, lets the domain decide, saves the new version and commits
//! with the action's audit entry. The reads inside serve the change and are not audited on their
//! own.

use crate::cases::{CaseParties, FactChange};
use crate::{App, AppError, AppResult, Caller};
use chrono::{DateTime, Utc};
use homeward_domain::{
    AttachmentId, AuditAction, AuditDraft, Case, CaseId, CasePolicy, CaseState, Condition,
    FieldError, RecordId, ValidationErrors,
};
use homeward_store::{AttachmentOwner, CaseChange, CaseWork, StoredCase};

/// A case opened for one change: the work it is read in, and the case as read.
pub(crate) struct OpenCase {
    work: Box<dyn CaseWork>,
    pub(crate) stored: StoredCase,
}

/// What a change of the facts did: the case as saved, the state the domain moved it back from
/// (if it did), and the conditions left unmet for the state it was in.
pub(crate) struct Applied {
    pub(crate) stored: StoredCase,
    pub(crate) moved_back_from: Option<CaseState>,
    pub(crate) unmet: Vec<Condition>,
}

impl OpenCase {
    /// Saves `case` as the next version of the case read, and commits with `action` (and
    /// `more`, the changes that followed from it).
    pub(crate) async fn save(
        mut self,
        case: &Case,
        change: &str,
        by: homeward_domain::UserId,
        at: DateTime<Utc>,
        audit: (AuditDraft, Vec<AuditDraft>),
    ) -> AppResult<StoredCase> {
        let stored = self
            .work
            .save(CaseChange {
                case,
                expected_version: self.stored.version,
                change,
                by,
                at,
            })
            .await?;
        self.work.commit(audit.0, audit.1).await?;
        Ok(stored)
    }

    /// The parties whose records are in the case.
    pub(crate) async fn parties(&mut self) -> AppResult<CaseParties> {
        let case = &self.stored.case;
        let ids: Vec<RecordId> = case
            .tracing_request
            .into_iter()
            .chain(case.custody_record)
            .collect();
        let found = self.work.record_parties(&ids).await?;
        let party_of = |id: Option<RecordId>| {
            id.and_then(|id| found.iter().find(|(r, _)| *r == id).map(|(_, p)| *p))
        };
        Ok(CaseParties {
            tracing: party_of(case.tracing_request),
            custody: party_of(case.custody_record),
        })
    }

    /// Checks that each evidence id names an attachment of this case or of one of its records
    /// that the caller can see, so that evidence never points at nothing (or at another child).
    pub(crate) async fn check_evidence(
        &mut self,
        app: &App,
        caller: &Caller,
        field: &str,
        evidence: &[String],
    ) -> AppResult<()> {
        let scope = app.attachment_scope(caller);
        let mut errs = ValidationErrors::default();
        for (i, e) in evidence.iter().enumerate() {
            let at = format!("{field}[{i}]");
            let Ok(aid) = e.trim().parse::<AttachmentId>() else {
                errs.push(FieldError::new(at, "invalid_id", "not an attachment id"));
                continue;
            };
            let owner = self.work.attachment_owner(scope, aid).await?;
            if !self.owns(owner) {
                errs.push(FieldError::new(
                    at,
                    "unknown_attachment",
                    "no attachment of this case or its records has that id; upload it first",
                ));
            }
        }
        errs.into_result(|| ())?;
        Ok(())
    }

    fn owns(&self, owner: Option<AttachmentOwner>) -> bool {
        let case = &self.stored.case;
        match owner {
            Some(AttachmentOwner::Case(c)) => c == case.id,
            Some(AttachmentOwner::Record(r)) => {
                case.tracing_request == Some(r) || case.custody_record == Some(r)
            }
            None => false,
        }
    }
}

impl App {
    /// Opens a unit of work on the case and reads it; `expected_version` (the version a person
    /// decided on, on an earlier page) must still be the case's, else a version conflict.
    /// `None` takes the current one, which is safe for changes that only add to the case.
    pub(crate) async fn open_case(
        &self,
        id: CaseId,
        expected_version: Option<i64>,
    ) -> AppResult<OpenCase> {
        let mut work = self.store.begin_case_work().await?;
        let stored = work.case(id).await?.ok_or(AppError::NotFound)?;
        if let Some(expected) = expected_version {
            crate::cases::check_version(&stored, expected)?;
        }
        Ok(OpenCase { work, stored })
    }

    /// Applies a change of the facts (`edit`) to an open case, moves the case back when the
    /// facts no longer support its state, and stores it all as one version with its entries.
    pub(crate) async fn apply_open(
        &self,
        caller: &Caller,
        open: OpenCase,
        what: FactChange,
        edit: impl FnOnce(&mut Case, &CasePolicy, DateTime<Utc>) -> AppResult<()>,
    ) -> AppResult<Applied> {
        let at = self.now();
        let policy = self.case_policy();
        let id = open.stored.case.id;
        let by = caller.user().id;
        let mut case = open.stored.case.clone();
        edit(&mut case, &policy, at)?;
        let action = caller
            .audit(what.action)
            .target("case", id)
            .details(what.details);
        let fall_back = case
            .fall_back(by, &policy, at)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let (mut moved_back_from, mut unmet, mut more) = (None, vec![], vec![]);
        if let Some(fb) = fall_back {
            if let Some(t) = fb.moved {
                moved_back_from = Some(fb.state);
                more.push(
                    caller
                        .audit(AuditAction::CaseRevalidate)
                        .target("case", id)
                        .details(serde_json::json!({
                            "from": t.from, "to": t.to,
                            "unmet": fb.unmet.iter().map(|c| c.code).collect::<Vec<_>>(),
                        })),
                );
            }
            unmet = fb.unmet;
        }
        let stored = open
            .save(&case, what.change, by, at, (action, more))
            .await?;
        Ok(Applied {
            stored,
            moved_back_from,
            unmet,
        })
    }

    /// [`App::apply_open`] on the case `id`, opened at `expected_version`.
    pub(crate) async fn apply_facts(
        &self,
        caller: &Caller,
        id: CaseId,
        expected_version: Option<i64>,
        what: FactChange,
        edit: impl FnOnce(&mut Case, &CasePolicy, DateTime<Utc>) -> AppResult<()>,
    ) -> AppResult<Applied> {
        let open = self.open_case(id, expected_version).await?;
        self.apply_open(caller, open, what, edit).await
    }
}

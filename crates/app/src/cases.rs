//! The case workflow after a match: identity verification, consent and the child's voice, the
//! best-interests assessment and determination, moving the case through its states, and telling
//! the counterpart what the consents allow.
//!
//! Every change is one use-case: authorise → validate (the domain's rules) → change the case →
//! re-check that the facts still support its state → store the new version with its audit
//! entries, in one transaction. The case's version guards against two people changing it at once:
//! each change names the version it was decided on.

use crate::case_work::OpenCase;
use crate::error::Conflict;
use crate::matching::CaseView;
use crate::sight::{CaseParts, CaseSight};
use crate::{App, AppError, AppResult, Caller};
use chrono::{DateTime, Utc};
use homeward_domain::{
    AuditAction, BestInterestsAssessment, BestInterestsDecision, BestInterestsDetermination,
    BestInterestsId, Case, CaseId, CasePolicy, CaseState, ChildViews, ChildViewsId, ChildWish,
    Condition, Consent, ConsentDecision, ConsentGiver, ConsentId, ConsentMethod, ConsentScope,
    DisclosedField, Disclosure, DisclosureId, FieldError, PanelMember, PartyId, Permission,
    RecordId, Resolution, ValidationErrors, VerificationMethod, VerificationOutcome,
    VerificationStep, VerificationStepId, Withdrawal, WithdrawalRefused,
};
use homeward_store::{CaseFilter, CaseVersion, DisclosureFilter, StoredCase};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use homeward_domain::AttachmentId;

const TEXT_MAX: usize = 4_000;

/// A case with what each state it may move to still needs.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseDetail {
    #[serde(flatten)]
    pub view: CaseView,
    /// Every state the case may move to from here, with each condition that move needs (met or
    /// not): the checklist a caseworker works through.
    pub next: Vec<NextStep>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NextStep {
    pub state: CaseState,
    /// Whether every condition is met (a side exit still needs its reason).
    pub ready: bool,
    pub conditions: Vec<Condition>,
}

/// One page of cases.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CasePage {
    pub items: Vec<CaseView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<CaseId>,
}

#[derive(Clone, Debug, Default)]
pub struct CaseQuery {
    pub state: Option<CaseState>,
    pub record: Option<RecordId>,
    pub number: Option<homeward_domain::CaseNumber>,
    pub after: Option<CaseId>,
    pub limit: Option<u32>,
    /// Leave out every part of the cases beyond their workflow (a page that shows only that),
    /// so the list is not audited as a read of parts nobody saw.
    pub workflow_only: bool,
}

/// One version of a case in its timeline.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseVersionView {
    pub version: i64,
    pub change: String,
    pub changed_by: homeward_domain::UserId,
    /// Who that is, so that a timeline can say who did what; absent if the user is gone.
    pub changed_by_user: Option<ActorName>,
    pub changed_at: DateTime<Utc>,
    pub state: CaseState,
    /// The case as it was, without the parts named in `withheld`.
    pub case: Case,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<crate::sight::CasePart>,
}

/// A user as the case's readers see them in its timeline: a name and a party, nothing more.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActorName {
    pub display_name: String,
    pub party_id: PartyId,
    pub party_name: String,
}

impl CaseVersionView {
    fn seen(v: CaseVersion, sight: CaseSight) -> Self {
        let mut case = v.case;
        let withheld = sight.filter(&mut case);
        Self {
            version: v.version,
            change: v.change,
            changed_by: v.changed_by,
            changed_by_user: None,
            changed_at: v.changed_at,
            state: case.state,
            case,
            withheld,
        }
    }
}

/// What a change did to the case.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseChangeOutcome {
    #[serde(flatten)]
    pub detail: CaseDetail,
    /// When the change left the facts short of the case's state, the state it moved back from
    /// (e.g. a withdrawn consent takes a `consent_obtained` case back to `identity_verified`).
    pub moved_back_from: Option<CaseState>,
    /// The conditions the change left unmet for the state the case was in, if any.
    pub unmet: Vec<Condition>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    pub to: CaseState,
    /// Required for holds, side exits and moves back.
    #[serde(default)]
    pub reason: Option<String>,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerificationInput {
    pub method: VerificationMethod,
    /// Who did it (often someone outside Homeward: an ICRC delegate, a laboratory).
    pub performed_by: String,
    /// Default: now.
    #[serde(default)]
    pub performed_at: Option<DateTime<Utc>>,
    pub outcome: VerificationOutcome,
    /// Attachment ids of the evidence.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<AttachmentId>))]
    pub evidence: Vec<String>,
    #[serde(default)]
    pub notes: Option<String>,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResolutionInput {
    pub reason: String,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    pub giver: ConsentGiver,
    pub scope: ConsentScope,
    pub decision: ConsentDecision,
    pub method: ConsentMethod,
    #[serde(default)]
    pub witness: Option<String>,
    /// Default: now.
    #[serde(default)]
    pub given_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<AttachmentId>))]
    pub evidence: Vec<String>,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WithdrawalInput {
    pub reason: String,
    /// Default: now.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChildViewsInput {
    /// Default: now.
    #[serde(default)]
    pub heard_at: Option<DateTime<Utc>>,
    pub heard_by: String,
    /// Who else was present (a carer, an interpreter, a psychologist).
    #[serde(default)]
    pub present: Vec<String>,
    #[serde(default)]
    pub language: Option<String>,
    pub wish: ChildWish,
    pub summary: String,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    /// Default: now.
    #[serde(default)]
    pub assessed_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub assessed_by: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub findings: String,
    #[serde(default)]
    pub recommendation: Option<BestInterestsDecision>,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeterminationInput {
    /// Default: now.
    #[serde(default)]
    pub decided_at: Option<DateTime<Utc>>,
    pub panel: Vec<PanelMember>,
    pub decision: BestInterestsDecision,
    pub reasons: String,
    #[serde(default)]
    pub assessment: Option<BestInterestsId>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<AttachmentId>))]
    pub evidence: Vec<String>,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DisclosureInput {
    /// The party told: the origin or custody party whose record is in the case.
    pub to_party: PartyId,
    /// The facts, in the words the mediator chose (e.g. region: "Rostov oblast").
    pub fields: Vec<DisclosedField>,
    /// The case version the mediator looked at: a consent withdrawn since then stops it.
    pub expected_version: i64,
}

/// A disclosure as the party told sees it: the facts, which of its own records they concern, and
/// when. Nothing about the case beyond that.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceivedDisclosure {
    pub id: DisclosureId,
    /// The party's own record the facts are about.
    pub record_id: Option<RecordId>,
    pub fields: Vec<DisclosedField>,
    pub disclosed_at: DateTime<Utc>,
}

pub(crate) fn text(field: &str, v: &str, required: bool) -> Result<(), FieldError> {
    let n = v.trim().chars().count();
    if required && n == 0 {
        Err(FieldError::new(field, "required", "must not be empty"))
    } else if n > TEXT_MAX {
        Err(FieldError::new(
            field,
            "too_long",
            format!("at most {TEXT_MAX} characters"),
        ))
    } else {
        Ok(())
    }
}

pub(crate) fn opt_text(field: &str, v: &Option<String>) -> Result<Option<String>, FieldError> {
    match v.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => text(field, t, false).map(|()| Some(t.to_owned())),
    }
}

fn refused(e: homeward_domain::RefusedTransition) -> AppError {
    AppError::TransitionRefused(e)
}

pub(crate) fn detail_of(
    stored: StoredCase,
    sight: CaseSight,
    policy: &CasePolicy,
    at: DateTime<Utc>,
) -> CaseDetail {
    let next = stored
        .case
        .legal_targets()
        .into_iter()
        .map(|state| {
            let conditions = stored.case.checklist(state, policy, at);
            NextStep {
                state,
                ready: conditions.iter().all(|c| c.met),
                conditions,
            }
        })
        .collect();
    CaseDetail {
        view: CaseView::seen(stored, sight),
        next,
    }
}

impl App {
    /// The policies the guards read, with four eyes on matches when the deployment asks for it.
    pub fn case_policy(&self) -> CasePolicy {
        let mut p = self.config.case_policy.clone();
        if self.config.require_second_review {
            p.matching.confirmations = p.matching.confirmations.max(2);
        }
        p
    }

    pub(crate) async fn load_case(&self, caller: &Caller, id: CaseId) -> AppResult<StoredCase> {
        let audit = vec![caller.audit(AuditAction::CaseRead).target("case", id)];
        let stored = self
            .store
            .get_case_audited(id, caller.for_store(audit.clone()))
            .await?
            .ok_or(AppError::NotFound)?;
        caller.viewed(audit);
        Ok(stored)
    }

    /// One case with its checklist, in the mediator's view: every part the caller may read.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn get_case(&self, caller: &Caller, id: CaseId) -> AppResult<CaseDetail> {
        self.get_case_parts(caller, id, CaseParts::ALL).await
    }

    /// One case with the parts asked for that the caller may read; the read of each part is
    /// audited as such, with the read of the case.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn get_case_parts(
        &self,
        caller: &Caller,
        id: CaseId,
        parts: CaseParts,
    ) -> AppResult<CaseDetail> {
        caller.require(Permission::CaseRead, &self.config)?;
        let sight = CaseSight::of(caller, parts);
        let mut audit = vec![caller.audit(AuditAction::CaseRead).target("case", id)];
        audit.extend(sight.audits(caller, id, "case"));
        let stored = self
            .store
            .get_case_audited(id, caller.for_store(audit.clone()))
            .await?
            .ok_or(AppError::NotFound)?;
        caller.viewed(audit);
        Ok(detail_of(stored, sight, &self.case_policy(), self.now()))
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn list_cases(&self, caller: &Caller, q: &CaseQuery) -> AppResult<CasePage> {
        caller.require(Permission::CaseRead, &self.config)?;
        let limit = q.limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(AppError::invalid("limit", "out_of_range", "1 to 500"));
        }
        let f = CaseFilter {
            state: q.state,
            record: q.record,
            number: q.number,
            after: q.after,
            limit,
            ..Default::default()
        };
        let parts = if q.workflow_only {
            CaseParts::WORKFLOW
        } else {
            CaseParts::ALL
        };
        let sight = CaseSight::of(caller, parts);
        let mut audit = vec![caller.audit(AuditAction::CaseList)];
        audit.extend(sight.list_audits(caller));
        let items: Vec<CaseView> = self
            .store
            .list_cases_audited(&f, audit)
            .await?
            .into_iter()
            .map(|c| CaseView::seen(c, sight))
            .collect();
        let next = (items.len() == limit as usize)
            .then(|| items.last().map(|c| c.case.id))
            .flatten();
        Ok(CasePage { items, next })
    }

    /// How many cases are in each state, main line first then the side exits; states without
    /// cases count 0. For the dashboard's chart.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn case_counts(&self, caller: &Caller) -> AppResult<Vec<(CaseState, i64)>> {
        caller.require(Permission::CaseRead, &self.config)?;
        let audit = vec![
            caller
                .audit(AuditAction::CaseList)
                .details(serde_json::json!({ "counts": true })),
        ];
        let stored = self
            .store
            .count_cases_by_state_audited(caller.for_store(audit.clone()))
            .await?;
        caller.viewed(audit);
        Ok(CaseState::ALL
            .into_iter()
            .map(|st| {
                let n = stored.iter().find(|(s, _)| *s == st).map_or(0, |(_, n)| *n);
                (st, n)
            })
            .collect())
    }

    /// Every version of the case, oldest first: the timeline of what happened, who did it, when.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn case_history(
        &self,
        caller: &Caller,
        id: CaseId,
    ) -> AppResult<Vec<CaseVersionView>> {
        self.case_history_parts(caller, id, CaseParts::ALL).await
    }

    /// [`App::case_history`] with the parts asked for that the caller may read.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn case_history_parts(
        &self,
        caller: &Caller,
        id: CaseId,
        parts: CaseParts,
    ) -> AppResult<Vec<CaseVersionView>> {
        caller.require(Permission::CaseRead, &self.config)?;
        let sight = CaseSight::of(caller, parts);
        let mut audit = vec![caller.audit(AuditAction::CaseHistory).target("case", id)];
        audit.extend(sight.audits(caller, id, "case_history"));
        let mut versions: Vec<CaseVersionView> = self
            .store
            .case_history_audited(id, caller.for_store(audit.clone()))
            .await?
            .ok_or(AppError::NotFound)?
            .into_iter()
            .map(|v| CaseVersionView::seen(v, sight))
            .collect();
        caller.viewed(audit);
        // Only the people who changed this case are named: a handful of lookups, not a directory.
        let mut ids: Vec<homeward_domain::UserId> = versions.iter().map(|v| v.changed_by).collect();
        ids.sort();
        ids.dedup();
        let parties = self.store.list_parties().await?;
        let mut names = std::collections::HashMap::new();
        for uid in ids {
            if let Some(u) = self.store.get_user(uid).await? {
                let party_name = parties
                    .iter()
                    .find(|p| p.id == u.party_id)
                    .map(|p| p.name.as_str().to_owned())
                    .unwrap_or_default();
                names.insert(
                    uid,
                    ActorName {
                        display_name: u.display_name,
                        party_id: u.party_id,
                        party_name,
                    },
                );
            }
        }
        for v in &mut versions {
            v.changed_by_user = names.get(&v.changed_by).cloned();
        }
        Ok(versions)
    }

    /// Moves the case to another state if its guards allow; a refusal lists every missing
    /// condition.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn transition_case(
        &self,
        caller: &Caller,
        id: CaseId,
        input: &TransitionInput,
    ) -> AppResult<CaseChangeOutcome> {
        caller.require(Permission::CaseManage, &self.config)?;
        let open = self.open_case(id, Some(input.expected_version)).await?;
        let at = self.now();
        let policy = self.case_policy();
        let by = caller.user().id;
        let case = &open.stored.case;
        let t = case
            .transition(input.to, input.reason.as_deref(), by, &policy, at)
            .map_err(refused)?;
        let mut case = case.clone();
        case.apply(&t)?;
        let audit = caller
            .audit(AuditAction::CaseTransition)
            .target("case", id)
            .details(serde_json::json!({
                "from": t.from, "to": t.to, "kind": t.kind, "reason": t.reason,
            }));
        let stored = open
            .save(&case, "transition", by, at, (audit, vec![]))
            .await?;
        let sight = CaseSight::of(caller, CaseParts::WORKFLOW);
        Ok(CaseChangeOutcome {
            detail: detail_of(stored, sight, &policy, at),
            moved_back_from: None,
            unmet: vec![],
        })
    }

    /// Applies a change of the facts (`edit`) to the case at `expected_version` in one unit of
    /// work (see [`App::apply_open`]), answering with what it did to the workflow.
    pub(crate) async fn change_facts(
        &self,
        caller: &Caller,
        id: CaseId,
        expected_version: i64,
        what: FactChange,
        edit: impl FnOnce(&mut Case, &CasePolicy, DateTime<Utc>) -> AppResult<()>,
    ) -> AppResult<CaseChangeOutcome> {
        let open = self.open_case(id, Some(expected_version)).await?;
        self.change_open(caller, open, what, edit).await
    }

    /// [`App::change_facts`] on a case already open (for changes that read more of it first).
    pub(crate) async fn change_open(
        &self,
        caller: &Caller,
        open: OpenCase,
        what: FactChange,
        edit: impl FnOnce(&mut Case, &CasePolicy, DateTime<Utc>) -> AppResult<()>,
    ) -> AppResult<CaseChangeOutcome> {
        // The answer shows what the change did to the workflow: handing back the parts that need
        // their own permission would record a read of them with every change.
        let sight = CaseSight::of(caller, CaseParts::WORKFLOW);
        let applied = self.apply_open(caller, open, what, edit).await?;
        let policy = self.case_policy();
        Ok(CaseChangeOutcome {
            detail: detail_of(applied.stored, sight, &policy, self.now()),
            moved_back_from: applied.moved_back_from,
            unmet: applied.unmet,
        })
    }

    /// Opens the case at `expected_version` and checks the evidence a change names against it.
    async fn open_with_evidence(
        &self,
        caller: &Caller,
        id: CaseId,
        expected_version: i64,
        evidence: &[String],
    ) -> AppResult<OpenCase> {
        let mut open = self.open_case(id, Some(expected_version)).await?;
        open.check_evidence(self, caller, "evidence", evidence)
            .await?;
        Ok(open)
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn record_verification(
        &self,
        caller: &Caller,
        id: CaseId,
        input: &VerificationInput,
    ) -> AppResult<CaseChangeOutcome> {
        caller.require(Permission::VerificationRecord, &self.config)?;
        let open = self
            .open_with_evidence(caller, id, input.expected_version, &input.evidence)
            .await?;
        let step_id = VerificationStepId::new();
        self.change_open(
            caller,
            open,
            FactChange {
                change: "verification_record",
                action: AuditAction::VerificationRecord,
                details: serde_json::json!({
                    "step": step_id, "method": input.method, "outcome": input.outcome,
                }),
            },
            |case, _, at| {
                let mut errs = ValidationErrors::default();
                errs.take(text("performed_by", &input.performed_by, true));
                let notes = errs.take(opt_text("notes", &input.notes)).flatten();
                errs.into_result(|| ())?;
                let step = VerificationStep {
                    id: step_id,
                    method: input.method,
                    performed_by: input.performed_by.trim().to_owned(),
                    performed_at: input.performed_at.unwrap_or(at),
                    outcome: input.outcome,
                    evidence: input.evidence.clone(),
                    notes,
                    recorded_by: caller.user().id,
                    recorded_at: at,
                    resolution: None,
                };
                step.validate(at)?;
                case.verification_steps.push(step);
                Ok(())
            },
        )
        .await
    }

    /// Resolves a negative verification result in writing (e.g. the wrong photograph was shown);
    /// the step itself is kept.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn resolve_verification(
        &self,
        caller: &Caller,
        id: CaseId,
        step: VerificationStepId,
        input: &ResolutionInput,
    ) -> AppResult<CaseChangeOutcome> {
        caller.require(Permission::VerificationRecord, &self.config)?;
        self.change_facts(
            caller,
            id,
            input.expected_version,
            FactChange {
                change: "verification_resolve",
                action: AuditAction::VerificationResolve,
                details: serde_json::json!({ "step": step, "reason": input.reason.trim() }),
            },
            |case, _, at| {
                text("reason", &input.reason, true)?;
                let s = case
                    .verification_steps
                    .iter_mut()
                    .find(|s| s.id == step)
                    .ok_or(AppError::NotFound)?;
                if s.resolution.is_some() {
                    return Err(AppError::Conflict(Conflict::StepResolved));
                }
                s.resolution = Some(Resolution {
                    at,
                    by: caller.user().id,
                    reason: input.reason.trim().to_owned(),
                });
                s.validate(at)?;
                Ok(())
            },
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn record_consent(
        &self,
        caller: &Caller,
        id: CaseId,
        input: &ConsentInput,
    ) -> AppResult<CaseChangeOutcome> {
        caller.require(Permission::ConsentRecord, &self.config)?;
        let open = self
            .open_with_evidence(caller, id, input.expected_version, &input.evidence)
            .await?;
        let consent_id = ConsentId::new();
        self.change_open(
            caller,
            open,
            FactChange {
                change: "consent_record",
                action: AuditAction::ConsentRecord,
                details: serde_json::json!({
                    "consent": consent_id, "giver_kind": input.giver.kind,
                    "scope": input.scope, "decision": input.decision,
                }),
            },
            |case, policy, at| {
                let mut errs = ValidationErrors::default();
                errs.take(text("giver.name", &input.giver.name, true));
                let witness = errs.take(opt_text("witness", &input.witness)).flatten();
                errs.into_result(|| ())?;
                let c = Consent {
                    id: consent_id,
                    giver: ConsentGiver {
                        kind: input.giver.kind,
                        name: input.giver.name.trim().to_owned(),
                        relationship: input
                            .giver
                            .relationship
                            .as_deref()
                            .map(str::trim)
                            .filter(|r| !r.is_empty())
                            .map(str::to_owned),
                    },
                    scope: input.scope.clone(),
                    decision: input.decision,
                    method: input.method,
                    witness,
                    given_at: input.given_at.unwrap_or(at),
                    expires_at: input.expires_at,
                    evidence: input.evidence.clone(),
                    recorded_by: caller.user().id,
                    recorded_at: at,
                    withdrawal: None,
                };
                c.validate(&policy.consent, case.child_birth_date, at)?;
                case.consents.push(c);
                Ok(())
            },
        )
        .await
    }

    /// Withdraws a consent: it stays on record with its end, and the guards it satisfied open
    /// again (a `consent_obtained` or `listed` case moves back).
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn withdraw_consent(
        &self,
        caller: &Caller,
        id: CaseId,
        consent: ConsentId,
        input: &WithdrawalInput,
    ) -> AppResult<CaseChangeOutcome> {
        caller.require(Permission::ConsentRecord, &self.config)?;
        self.change_facts(
            caller,
            id,
            input.expected_version,
            FactChange {
                change: "consent_withdraw",
                action: AuditAction::ConsentWithdraw,
                details: serde_json::json!({ "consent": consent, "reason": input.reason.trim() }),
            },
            |case, policy, at| {
                text("reason", &input.reason, true)?;
                let withdrawal = Withdrawal {
                    at: input.at.unwrap_or(at),
                    reason: input.reason.trim().to_owned(),
                    recorded_by: caller.user().id,
                };
                case.withdraw_consent(consent, withdrawal, policy, at)
                    .map_err(|e| match e {
                        WithdrawalRefused::NoSuchConsent => AppError::NotFound,
                        WithdrawalRefused::AlreadyWithdrawn => {
                            AppError::Conflict(Conflict::ConsentWithdrawn)
                        }
                        WithdrawalRefused::Invalid(v) => AppError::Validation(v),
                    })
            },
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn record_child_views(
        &self,
        caller: &Caller,
        id: CaseId,
        input: &ChildViewsInput,
    ) -> AppResult<CaseChangeOutcome> {
        caller.require(Permission::BestInterestsRecord, &self.config)?;
        let views_id = ChildViewsId::new();
        self.change_facts(
            caller,
            id,
            input.expected_version,
            FactChange {
                change: "child_views_record",
                action: AuditAction::ChildViewsRecord,
                details: serde_json::json!({ "views": views_id, "wish": input.wish }),
            },
            |case, _, at| {
                let mut errs = ValidationErrors::default();
                errs.take(text("heard_by", &input.heard_by, true));
                errs.take(text("summary", &input.summary, true));
                let language = errs.take(opt_text("language", &input.language)).flatten();
                errs.into_result(|| ())?;
                let v = ChildViews {
                    id: views_id,
                    heard_at: input.heard_at.unwrap_or(at),
                    heard_by: input.heard_by.trim().to_owned(),
                    present: input.present.iter().map(|p| p.trim().to_owned()).collect(),
                    language,
                    wish: input.wish,
                    summary: input.summary.trim().to_owned(),
                    recorded_by: caller.user().id,
                    recorded_at: at,
                };
                v.validate(at)?;
                case.child_views.push(v);
                Ok(())
            },
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn record_assessment(
        &self,
        caller: &Caller,
        id: CaseId,
        input: &AssessmentInput,
    ) -> AppResult<CaseChangeOutcome> {
        caller.require(Permission::BestInterestsRecord, &self.config)?;
        let bia = BestInterestsId::new();
        self.change_facts(
            caller,
            id,
            input.expected_version,
            FactChange {
                change: "assessment_record",
                action: AuditAction::AssessmentRecord,
                details: serde_json::json!({ "assessment": bia, "recommendation": input.recommendation }),
            },
            |case, _, at| {
                let mut errs = ValidationErrors::default();
                errs.take(text("assessed_by", &input.assessed_by, true));
                errs.take(text("findings", &input.findings, true));
                let assessed_at = input.assessed_at.unwrap_or(at);
                if assessed_at > at {
                    errs.push(FieldError::new(
                        "assessed_at",
                        "in_future",
                        "cannot be assessed in the future",
                    ));
                }
                errs.into_result(|| ())?;
                case.assessments.push(BestInterestsAssessment {
                    id: bia,
                    assessed_at,
                    assessed_by: input.assessed_by.trim().to_owned(),
                    findings: input.findings.trim().to_owned(),
                    recommendation: input.recommendation,
                    recorded_by: caller.user().id,
                    recorded_at: at,
                });
                Ok(())
            },
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn record_determination(
        &self,
        caller: &Caller,
        id: CaseId,
        input: &DeterminationInput,
    ) -> AppResult<CaseChangeOutcome> {
        caller.require(Permission::BestInterestsRecord, &self.config)?;
        let open = self
            .open_with_evidence(caller, id, input.expected_version, &input.evidence)
            .await?;
        let bid = BestInterestsId::new();
        self.change_open(
            caller,
            open,
            FactChange {
                change: "determination_record",
                action: AuditAction::DeterminationRecord,
                details: serde_json::json!({
                    "determination": bid, "decision": input.decision, "panel_size": input.panel.len(),
                }),
            },
            |case, policy, at| {
                if let Some(a) = input.assessment
                    && !case.assessments.iter().any(|x| x.id == a)
                {
                    return Err(AppError::invalid(
                        "assessment",
                        "unknown_assessment",
                        "no assessment of this case has that id",
                    ));
                }
                let d = BestInterestsDetermination {
                    id: bid,
                    decided_at: input.decided_at.unwrap_or(at),
                    panel: input.panel.clone(),
                    decision: input.decision,
                    reasons: input.reasons.trim().to_owned(),
                    assessment: input.assessment,
                    evidence: input.evidence.clone(),
                    recorded_by: caller.user().id,
                    recorded_at: at,
                };
                d.validate(&policy.best_interests, at)?;
                case.determinations.push(d);
                Ok(())
            },
        )
        .await
    }

    pub(crate) async fn record_parties(&self, case: &Case) -> AppResult<CaseParties> {
        let ids: Vec<RecordId> = case
            .tracing_request
            .into_iter()
            .chain(case.custody_record)
            .collect();
        let records = self.store.records_for_linkage(&ids).await?;
        let party_of = |id: Option<RecordId>| {
            id.and_then(|id| records.iter().find(|r| r.id == id).map(|r| r.party_id))
        };
        Ok(CaseParties {
            tracing: party_of(case.tracing_request),
            custody: party_of(case.custody_record),
        })
    }

    /// Tells the origin or custody party chosen facts of a case, only as far as the consents to
    /// share cover them at this moment; what was told is kept exactly and audited.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn disclose(
        &self,
        caller: &Caller,
        id: CaseId,
        input: &DisclosureInput,
    ) -> AppResult<Disclosure> {
        caller.require(Permission::Disclose, &self.config)?;
        let stored = self.load_case(caller, id).await?;
        check_version(&stored, input.expected_version)?;
        let parties = self.record_parties(&stored.case).await?;
        let record_id = if Some(input.to_party) == parties.tracing {
            stored.case.tracing_request
        } else if Some(input.to_party) == parties.custody {
            stored.case.custody_record
        } else {
            return Err(AppError::invalid(
                "to_party",
                "not_a_case_party",
                "disclose only to the origin or custody party whose record is in the case",
            ));
        };
        let mut d = Disclosure {
            id: DisclosureId::new(),
            case_id: id,
            to_party: input.to_party,
            record_id,
            fields: input
                .fields
                .iter()
                .map(|f| DisclosedField {
                    field: f.field,
                    value: f.value.trim().to_owned(),
                })
                .collect(),
            consents: vec![],
            disclosed_by: caller.user().id,
            disclosed_at: self.now(),
        };
        d.check(&stored.case.consents).map_err(|e| match e {
            homeward_domain::DisclosureRefused::Invalid(v) => AppError::Validation(v),
            homeward_domain::DisclosureRefused::NotCovered(c) => AppError::DisclosureNotCovered(c),
        })?;
        let audit = caller
            .audit(AuditAction::DisclosureCreate)
            .target("case", id)
            .details(serde_json::json!({
                "disclosure": d.id,
                "to_party": d.to_party,
                "fields": d.fields.iter().map(|f| f.field).collect::<Vec<_>>(),
                "consents": d.consents,
            }));
        self.store
            .insert_disclosure(&d, stored.version, audit)
            .await?;
        Ok(d)
    }

    /// Every disclosure of a case, for the mediator.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn case_disclosures(
        &self,
        caller: &Caller,
        id: CaseId,
    ) -> AppResult<Vec<Disclosure>> {
        caller.require(Permission::CaseRead, &self.config)?;
        self.load_case(caller, id).await?;
        let f = DisclosureFilter {
            case: Some(id),
            to_party: None,
        };
        let audit = vec![caller.audit(AuditAction::DisclosureList).target("case", id)];
        let out = self
            .store
            .list_disclosures_audited(f, caller.for_store(audit.clone()))
            .await?;
        caller.viewed_ids(audit, "disclosure_ids", || {
            out.iter().map(|d| d.id.to_string()).collect()
        });
        Ok(out)
    }

    /// What the mediator disclosed to the caller's own party, and nothing else.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn received_disclosures(
        &self,
        caller: &Caller,
    ) -> AppResult<Vec<ReceivedDisclosure>> {
        caller.require(Permission::DisclosureRead, &self.config)?;
        let party = caller.party().id;
        let f = DisclosureFilter {
            case: None,
            to_party: Some(party),
        };
        let audit = caller.audit(AuditAction::DisclosureList);
        let ds = self.store.list_disclosures(f, audit).await?;
        Ok(ds
            .into_iter()
            .map(|d| ReceivedDisclosure {
                id: d.id,
                record_id: d.record_id,
                fields: d.fields,
                disclosed_at: d.disclosed_at,
            })
            .collect())
    }
}

/// What a change of the facts is, for the case's history and the audit log.
pub(crate) struct FactChange {
    pub(crate) change: &'static str,
    pub(crate) action: AuditAction,
    pub(crate) details: serde_json::Value,
}

pub(crate) struct CaseParties {
    pub(crate) tracing: Option<PartyId>,
    pub(crate) custody: Option<PartyId>,
}

pub(crate) fn check_version(stored: &StoredCase, expected: i64) -> AppResult<()> {
    if stored.version == expected {
        Ok(())
    } else {
        Err(AppError::VersionConflict {
            current: stored.version,
        })
    }
}

//! After the lists and plans: the custody chain while the child travels, the reunification, the
//! aftercare services and follow-up visits, and the accountability record of how the child was
//! taken. Each change is a change of the case's facts (one version, audited, see `cases`).

use crate::cases::{CaseChangeOutcome, FactChange, opt_text, text};
use crate::error::Conflict;
use crate::{App, AppError, AppResult, Caller};
use chrono::{DateTime, NaiveDate, Utc};
use homeward_domain::{
    AccountabilityFact, AccountabilityId, Actor, AftercareService, AuditAction, CaseId, CaseState,
    Custodian, FactKind, FollowUp, FollowUpId, FollowUpWaiver, Handover, PartialDate, PartyId,
    PartyKind, Permission, RecordId, Relative, Reunification, ServiceId, ServiceKind, Source,
    ValidationErrors, follow_up_schedule,
};
use homeward_store::{CaseFilter, StoredCase};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HandoverInput {
    /// Default: now.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    pub giver: Custodian,
    pub receiver: Custodian,
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub witnesses: Vec<String>,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReunificationInput {
    /// Default: now.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    pub place: String,
    pub with_whom: Vec<Relative>,
    pub family_environment: String,
    /// The party that does the follow-up visits (the home state's services, an NGO); default:
    /// the origin party whose tracing request is in the case.
    #[serde(default)]
    pub follow_up_party: Option<PartyId>,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    pub kind: ServiceKind,
    pub provider: String,
    #[serde(default)]
    pub description: String,
    pub started_on: NaiveDate,
    #[serde(default)]
    pub ended_on: Option<NaiveDate>,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FollowUpInput {
    pub due: NaiveDate,
    #[serde(default)]
    pub responsible: Option<PartyId>,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FollowUpReportInput {
    pub outcome: String,
    /// Default: now.
    #[serde(default)]
    pub done_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WaiverInput {
    pub reason: String,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AccountabilityInput {
    pub kind: FactKind,
    /// As precise as the sources allow: `2022`, `2022-09`, `2022-09-14`, `~2022`.
    #[serde(default)]
    pub when: Option<String>,
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub actors: Vec<Actor>,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub details: String,
    /// At least one.
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub sources: Vec<Source>,
    /// The earlier fact this one corrects.
    #[serde(default)]
    pub corrects: Option<AccountabilityId>,
}

/// A follow-up visit as the party responsible for it sees it: when, and which of its own records
/// it concerns; nothing else of the case.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUpView {
    pub case_id: CaseId,
    pub follow_up: FollowUp,
    /// The party's own record in the case, if it has one (the origin's tracing request).
    pub record_id: Option<RecordId>,
    pub overdue: bool,
}

/// The accountability record of one case, as observers read it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountabilityView {
    pub case_id: CaseId,
    pub facts: Vec<AccountabilityFact>,
}

/// A page of accountability records.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountabilityPage {
    pub items: Vec<AccountabilityView>,
    /// Pass as `after` for the next page (a page scans a fixed number of cases, so it may hold
    /// few records or none and still not be the last); absent on the last page.
    pub next: Option<CaseId>,
}

/// Whether a reader of follow-ups (see [`App::follow_up_reader`]) sees this visit.
pub(crate) fn follow_up_visible(f: &FollowUp, reader: Option<PartyId>) -> bool {
    reader.is_none_or(|p| f.responsible == Some(p))
}

/// How many cases a page of the overdue and accountability listings scans at most: they read
/// whole cases, so a page stays bounded.
const SCAN_PAGE: u32 = 500;

fn trimmed(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|w| w.trim().to_owned())
        .filter(|w| !w.is_empty())
        .collect()
}

impl App {
    /// Records one handover of the child; one that would break the custody chain (a gap, the
    /// wrong first giver, time running backwards) is refused with the conditions it breaks.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn record_handover(
        &self,
        caller: &Caller,
        id: CaseId,
        input: &HandoverInput,
    ) -> AppResult<CaseChangeOutcome> {
        caller.require(Permission::HandoverRecord, &self.config)?;
        let what = FactChange {
            change: "handover_record",
            action: AuditAction::HandoverRecord,
            details: serde_json::json!({
                "giver_kind": input.giver.kind, "receiver_kind": input.receiver.kind,
                "witnesses": input.witnesses.len(),
            }),
        };
        self.change_facts(caller, id, input.expected_version, what, |case, _, at| {
            let mut errs = ValidationErrors::default();
            errs.take(text("giver.name", &input.giver.name, true));
            errs.take(text("receiver.name", &input.receiver.name, true));
            let place = errs.take(opt_text("place", &input.place)).flatten();
            let when = input.at.unwrap_or(at);
            if when > at {
                errs.push(homeward_domain::FieldError::new(
                    "at",
                    "in_future",
                    "a handover cannot be recorded before it happens",
                ));
            }
            errs.into_result(|| ())?;
            let trim = |c: &Custodian| Custodian {
                name: c.name.trim().to_owned(),
                ..c.clone()
            };
            case.record_handover(Handover {
                at: when,
                giver: trim(&input.giver),
                receiver: trim(&input.receiver),
                place,
                witnesses: trimmed(&input.witnesses),
                recorded_by: caller.user().id,
            })
            .map_err(AppError::HandoverRefused)
        })
        .await
    }

    /// The custody chain as one printable document. Audited like a read of the case.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn custody_chain_document(&self, caller: &Caller, id: CaseId) -> AppResult<String> {
        caller.require(Permission::CaseRead, &self.config)?;
        let audit = caller
            .audit(AuditAction::CustodyChainRead)
            .target("case", id);
        let stored = self
            .store
            .get_case(id, audit)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(stored.case.chain_document())
    }

    /// Records the reunification (once the child is handed over) and schedules the follow-up
    /// visits of the aftercare policy from its date.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn record_reunification(
        &self,
        caller: &Caller,
        id: CaseId,
        input: &ReunificationInput,
    ) -> AppResult<CaseChangeOutcome> {
        caller.require(Permission::AftercareRecord, &self.config)?;
        let responsible = match input.follow_up_party {
            Some(p) => {
                let party = self.store.get_party(p).await?;
                if party
                    .is_none_or(|p| !matches!(p.kind, PartyKind::Origin | PartyKind::Humanitarian))
                {
                    return Err(AppError::invalid(
                        "follow_up_party",
                        "not_follow_up_party",
                        "follow-up visits are done by the origin side or a humanitarian party",
                    ));
                }
                Some(p)
            }
            None => None,
        };
        let mut open = self.open_case(id, Some(input.expected_version)).await?;
        let default_party = match responsible {
            Some(p) => Some(p),
            None => open.parties().await?.tracing,
        };
        let what = FactChange {
            change: "reunification_record",
            action: AuditAction::ReunificationRecord,
            details: serde_json::json!({
                "with": input.with_whom.iter().map(|r| r.relationship.as_str()).collect::<Vec<_>>(),
                "follow_up_party": default_party,
            }),
        };
        self.change_open(caller, open, what, |case, policy, at| {
            if case.state != CaseState::HandedOver {
                return Err(AppError::Conflict(Conflict::NotHandedOver(case.state)));
            }
            if case.reunification.is_some() {
                return Err(AppError::Conflict(Conflict::ReunificationRecorded));
            }
            let r = Reunification {
                at: input.at.unwrap_or(at),
                place: input.place.trim().to_owned(),
                with_whom: input
                    .with_whom
                    .iter()
                    .map(|w| Relative {
                        name: w.name.trim().to_owned(),
                        relationship: w.relationship.trim().to_owned(),
                    })
                    .collect(),
                family_environment: input.family_environment.trim().to_owned(),
                recorded_by: caller.user().id,
                recorded_at: at,
            };
            r.validate(at)?;
            if case.handovers.last().is_some_and(|h| r.at < h.at) {
                return Err(AppError::invalid(
                    "at",
                    "before_handover",
                    "a reunification cannot predate the handover that brought the child",
                ));
            }
            for due in follow_up_schedule(r.at.date_naive(), &policy.aftercare.schedule_months) {
                case.follow_ups
                    .push(FollowUp::scheduled(due, default_party));
            }
            case.reunification = Some(r);
            Ok(())
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn record_service(
        &self,
        caller: &Caller,
        id: CaseId,
        input: &ServiceInput,
    ) -> AppResult<CaseChangeOutcome> {
        caller.require(Permission::AftercareRecord, &self.config)?;
        let service_id = ServiceId::new();
        let what = FactChange {
            change: "service_record",
            action: AuditAction::ServiceRecord,
            details: serde_json::json!({ "service": service_id, "kind": input.kind }),
        };
        self.change_facts(caller, id, input.expected_version, what, |case, _, at| {
            if case.reunification.is_none() {
                return Err(AppError::Conflict(Conflict::ServiceBeforeReunification));
            }
            let s = AftercareService {
                id: service_id,
                kind: input.kind,
                provider: input.provider.trim().to_owned(),
                description: input.description.trim().to_owned(),
                started_on: input.started_on,
                ended_on: input.ended_on,
                recorded_by: caller.user().id,
                recorded_at: at,
            };
            s.validate()?;
            case.services.push(s);
            Ok(())
        })
        .await
    }

    /// Schedules one more follow-up visit (the child needs closer watching than the policy's).
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn schedule_follow_up(
        &self,
        caller: &Caller,
        id: CaseId,
        input: &FollowUpInput,
    ) -> AppResult<CaseChangeOutcome> {
        caller.require(Permission::AftercareRecord, &self.config)?;
        let what = FactChange {
            change: "follow_up_schedule",
            action: AuditAction::FollowUpSchedule,
            details: serde_json::json!({ "due": input.due, "responsible": input.responsible }),
        };
        self.change_facts(caller, id, input.expected_version, what, |case, _, at| {
            if case.reunification.is_none() {
                return Err(AppError::Conflict(Conflict::FollowUpBeforeReunification));
            }
            if input.due < at.date_naive() {
                return Err(AppError::invalid(
                    "due",
                    "in_past",
                    "a new follow-up cannot be due in the past",
                ));
            }
            case.follow_ups
                .push(FollowUp::scheduled(input.due, input.responsible));
            Ok(())
        })
        .await
    }

    /// The mediator records a visit done (with the full case in the answer).
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn report_follow_up(
        &self,
        caller: &Caller,
        id: CaseId,
        follow_up: FollowUpId,
        input: &FollowUpReportInput,
        expected_version: i64,
    ) -> AppResult<CaseChangeOutcome> {
        caller.require(Permission::AftercareRecord, &self.config)?;
        self.change_facts(
            caller,
            id,
            expected_version,
            report_change(follow_up),
            |case, _, at| report_on(case, follow_up, input, caller, at, None),
        )
        .await
    }

    /// The party responsible for a visit reports it done; it sees only that visit.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn report_own_follow_up(
        &self,
        caller: &Caller,
        id: CaseId,
        follow_up: FollowUpId,
        input: &FollowUpReportInput,
    ) -> AppResult<FollowUpView> {
        caller.require(Permission::FollowUpReport, &self.config)?;
        let party = caller.party().id;
        let stored = self
            .apply_facts(caller, id, None, report_change(follow_up), |case, _, at| {
                report_on(case, follow_up, input, caller, at, Some(party))
            })
            .await
            // Another party's visit, or no such case, answers the same.
            .map_err(|e| match e {
                AppError::ForbiddenBecause(_) => AppError::NotFound,
                other => other,
            })?
            .stored;
        let f = stored
            .case
            .follow_ups
            .iter()
            .find(|f| f.id == follow_up)
            .cloned()
            .ok_or(AppError::NotFound)?;
        let record_id = self.own_record(&stored.case, party).await?;
        Ok(FollowUpView {
            case_id: id,
            overdue: f.is_overdue(self.now()),
            follow_up: f,
            record_id,
        })
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn waive_follow_up(
        &self,
        caller: &Caller,
        id: CaseId,
        follow_up: FollowUpId,
        input: &WaiverInput,
    ) -> AppResult<CaseChangeOutcome> {
        caller.require(Permission::AftercareRecord, &self.config)?;
        let what = FactChange {
            change: "follow_up_waive",
            action: AuditAction::FollowUpWaive,
            details: serde_json::json!({ "follow_up": follow_up, "reason": input.reason.trim() }),
        };
        self.change_facts(caller, id, input.expected_version, what, |case, _, at| {
            let f = case
                .follow_ups
                .iter_mut()
                .find(|f| f.id == follow_up)
                .ok_or(AppError::NotFound)?;
            f.waive(FollowUpWaiver {
                reason: input.reason.clone(),
                by: caller.user().id,
                at,
            })?;
            Ok(())
        })
        .await
    }

    /// Follow-up visits past their due date and not done: every one for the mediator; for the
    /// origin side or an NGO, those it is responsible for.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn overdue_follow_ups(&self, caller: &Caller) -> AppResult<Vec<FollowUpView>> {
        let party = self.follow_up_reader(caller)?;
        let at = self.now();
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let f = CaseFilter {
                follow_up_due_before: Some(at.date_naive()),
                after,
                limit: SCAN_PAGE,
                ..Default::default()
            };
            let audit = vec![caller.audit(AuditAction::FollowUpList)];
            let page = self
                .store
                .list_cases_audited(&f, caller.for_store(audit.clone()))
                .await?;
            caller.viewed_ids(audit, "case_ids", || {
                page.iter().map(|c| c.case.id.to_string()).collect()
            });
            for stored in &page {
                let own = match party {
                    Some(p) => self.own_record(&stored.case, p).await?,
                    None => None,
                };
                for fu in &stored.case.follow_ups {
                    if fu.is_overdue(at) && follow_up_visible(fu, party) {
                        out.push(FollowUpView {
                            case_id: stored.case.id,
                            follow_up: fu.clone(),
                            record_id: own,
                            overdue: true,
                        });
                    }
                }
            }
            if page.len() < SCAN_PAGE as usize {
                break;
            }
            after = page.last().map(|c| c.case.id);
        }
        out.sort_by_key(|v| (v.follow_up.due, v.case_id));
        Ok(out)
    }

    /// Whose follow-up visits the caller reads: `None`, every one (the mediator's staff who read
    /// cases); a party's id, only those that party is responsible for (the origin side's social
    /// services, an NGO). The one rule for every read of follow-ups (exports too); see
    /// [`follow_up_visible`].
    pub(crate) fn follow_up_reader(&self, caller: &Caller) -> AppResult<Option<PartyId>> {
        if caller.party().kind == PartyKind::Mediator {
            caller.require(Permission::CaseRead, &self.config)?;
            Ok(None)
        } else {
            caller.require(Permission::FollowUpReport, &self.config)?;
            Ok(Some(caller.party().id))
        }
    }

    pub(crate) async fn own_record(
        &self,
        case: &homeward_domain::Case,
        party: PartyId,
    ) -> AppResult<Option<RecordId>> {
        let parties = self.record_parties(case).await?;
        Ok(if parties.tracing == Some(party) {
            case.tracing_request
        } else if parties.custody == Some(party) {
            case.custody_record
        } else {
            None
        })
    }

    /// Adds a fact to the accountability record. Facts are never edited: a correction is a new
    /// fact naming the one it corrects.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn record_accountability(
        &self,
        caller: &Caller,
        id: CaseId,
        input: &AccountabilityInput,
    ) -> AppResult<AccountabilityView> {
        caller.require(Permission::AccountabilityRecord, &self.config)?;
        let attached: Vec<String> = input
            .sources
            .iter()
            .filter_map(|s| s.attachment.clone())
            .collect();
        // Appending a fact commutes with any other change, so it needs no expected version.
        let mut open = self.open_case(id, None).await?;
        open.check_evidence(self, caller, "sources.attachment", &attached)
            .await?;
        let fact_id = AccountabilityId::new();
        let what = FactChange {
            change: "accountability_record",
            action: AuditAction::AccountabilityRecord,
            details: serde_json::json!({
                "fact": fact_id, "kind": input.kind, "sources": input.sources.len(),
                "corrects": input.corrects,
            }),
        };
        let stored = self
            .apply_open(caller, open, what, |case, _, at| {
                let when = match input
                    .when
                    .as_deref()
                    .map(str::trim)
                    .filter(|w| !w.is_empty())
                {
                    Some(w) => Some(PartialDate::parse_field("when", w)?),
                    None => None,
                };
                let f = AccountabilityFact {
                    id: fact_id,
                    kind: input.kind,
                    when,
                    place: opt_text("place", &input.place)?,
                    actors: input
                        .actors
                        .iter()
                        .map(|a| Actor {
                            name: a.name.trim().to_owned(),
                            role: a
                                .role
                                .as_deref()
                                .map(str::trim)
                                .filter(|r| !r.is_empty())
                                .map(str::to_owned),
                            ..a.clone()
                        })
                        .collect(),
                    details: input.details.trim().to_owned(),
                    sources: input
                        .sources
                        .iter()
                        .map(|s| Source {
                            description: s.description.trim().to_owned(),
                            attachment: s.attachment.clone(),
                        })
                        .collect(),
                    corrects: input.corrects,
                    recorded_by: caller.user().id,
                    recorded_at: at,
                };
                f.validate(&case.accountability)?;
                case.accountability.push(f);
                Ok(())
            })
            .await?
            .stored;
        Ok(AccountabilityView {
            case_id: id,
            facts: stored.case.accountability,
        })
    }

    /// One case's accountability record, and nothing else of the case. Every read is audited.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn read_accountability(
        &self,
        caller: &Caller,
        id: CaseId,
    ) -> AppResult<AccountabilityView> {
        caller.require(Permission::AccountabilityRead, &self.config)?;
        let audit = caller
            .audit(AuditAction::AccountabilityRead)
            .target("case", id);
        let stored = self
            .store
            .get_case(id, audit)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(AccountabilityView {
            case_id: id,
            facts: stored.case.accountability,
        })
    }

    /// Every case with an accountability record, for observers; audited with the case ids.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn list_accountability(
        &self,
        caller: &Caller,
        after: Option<CaseId>,
    ) -> AppResult<AccountabilityPage> {
        let (page, next) = self.accountability_scan(caller, after).await?;
        let items = page
            .into_iter()
            .map(|c| AccountabilityView {
                case_id: c.case.id,
                facts: c.case.accountability,
            })
            .collect();
        Ok(AccountabilityPage { items, next })
    }

    /// One page of the accountability listing: a fixed number of cases scanned (audited as the
    /// listing), those holding facts kept, and where the next page starts. The API's listing and
    /// the observers' pages read through this one scan.
    pub(crate) async fn accountability_scan(
        &self,
        caller: &Caller,
        after: Option<CaseId>,
    ) -> AppResult<(Vec<StoredCase>, Option<CaseId>)> {
        caller.require(Permission::AccountabilityRead, &self.config)?;
        let f = CaseFilter {
            after,
            limit: SCAN_PAGE,
            ..Default::default()
        };
        let page = self
            .store
            .list_cases(&f, caller.audit(AuditAction::AccountabilityList))
            .await?;
        let next = (page.len() == SCAN_PAGE as usize)
            .then(|| page.last().map(|c| c.case.id))
            .flatten();
        let with_facts = page
            .into_iter()
            .filter(|c| !c.case.accountability.is_empty())
            .collect();
        Ok((with_facts, next))
    }
}

fn report_change(follow_up: FollowUpId) -> FactChange {
    FactChange {
        change: "follow_up_report",
        action: AuditAction::FollowUpReport,
        details: serde_json::json!({ "follow_up": follow_up }),
    }
}

/// Marks the visit done; `party`, when given, must be the one responsible for it.
fn report_on(
    case: &mut homeward_domain::Case,
    follow_up: FollowUpId,
    input: &FollowUpReportInput,
    caller: &Caller,
    at: DateTime<Utc>,
    party: Option<PartyId>,
) -> AppResult<()> {
    let f = case
        .follow_ups
        .iter_mut()
        .find(|f| f.id == follow_up)
        .ok_or(AppError::NotFound)?;
    if party.is_some_and(|p| f.responsible != Some(p)) {
        return Err(AppError::NotFound);
    }
    f.report(
        &input.outcome,
        input.done_at.unwrap_or(at),
        caller.user().id,
        at,
    )?;
    Ok(())
}

//! Cases: the mediator's view of one child's way home. Reading and changing a case is for the
//! mediator's staff; the origin and custody parties read only what was disclosed to them, and
//! humanitarian parties only the tasks referred to them (see `tasks`).

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use homeward_app::aftercare::{
    AccountabilityInput, AccountabilityPage, AccountabilityView, FollowUpInput,
    FollowUpReportInput, FollowUpView, HandoverInput, ReunificationInput, ServiceInput,
    WaiverInput,
};
use homeward_app::cases::{
    AssessmentInput, CaseChangeOutcome, CaseDetail, CasePage, CaseQuery, CaseVersionView,
    ChildViewsInput, ConsentInput, DeterminationInput, DisclosureInput, ReceivedDisclosure,
    ResolutionInput, TransitionInput, VerificationInput, WithdrawalInput,
};
use homeward_domain::{
    CaseId, CaseState, ConsentId, Disclosure, FollowUpId, RecordId, VerificationStepId,
};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseListParams {
    /// Only cases in this state.
    state: Option<CaseState>,
    /// Only cases linking this record (tracing request or custody record).
    record_id: Option<RecordId>,
    /// Only the case with this number (`HW-2026-00042`).
    number: Option<homeward_domain::CaseNumber>,
    /// The `next` value of the previous page.
    after: Option<CaseId>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Cases, ordered by id, keyset-paged. Mediator staff only; each listing is audited with the ids
/// returned.
#[utoipa::path(
    get, path = "/api/v1/cases", tag = "cases",
    params(CaseListParams),
    responses(
        (status = 200, body = CasePage),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn list_cases(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<CaseListParams>,
) -> ApiResult<Json<CasePage>> {
    let q = CaseQuery {
        state: q.state,
        record: q.record_id,
        number: q.number,
        after: q.after,
        limit: q.limit,
        workflow_only: false,
    };
    Ok(Json(s.app.list_cases(&auth.caller, &q).await?))
}

/// One case with the checklist of every state it may move to next. Reading it is audited.
#[utoipa::path(
    get, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id")),
    responses(
        (status = 200, body = CaseDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn get_case(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
) -> ApiResult<Json<CaseDetail>> {
    Ok(Json(s.app.get_case(&auth.caller, id).await?))
}

/// Every version of the case, oldest first: what changed, who changed it, when.
#[utoipa::path(
    get, path = "/api/v1/cases/{id}/history", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id")),
    responses(
        (status = 200, body = Vec<CaseVersionView>),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn case_history(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
) -> ApiResult<Json<Vec<CaseVersionView>>> {
    Ok(Json(s.app.case_history(&auth.caller, id).await?))
}

/// Moves the case to another state. A refusal (`transition_refused`) lists every condition the
/// move still needs, each with its code.
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/transitions", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id")),
    request_body = TransitionInput,
    responses(
        (status = 200, body = CaseChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict` (reload the case and decide again); `transition_refused` with `conditions`", body = ErrorBody),
        (status = 422, description = "`validation_failed`, naming each field", body = ErrorBody),
    )
)]
pub async fn transition_case(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
    ApiJson(body): ApiJson<TransitionInput>,
) -> ApiResult<Json<CaseChangeOutcome>> {
    Ok(Json(s.app.transition_case(&auth.caller, id, &body).await?))
}

/// Records an identity-verification step (document check, photo recognition, video call,
/// interview, DNA). The verification policy decides when identity counts as verified.
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/verifications", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id")),
    request_body = VerificationInput,
    responses(
        (status = 200, body = CaseChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict` (reload the case and decide again)", body = ErrorBody),
        (status = 422, description = "`validation_failed`, naming each field", body = ErrorBody),
    )
)]
pub async fn record_verification(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
    ApiJson(body): ApiJson<VerificationInput>,
) -> ApiResult<Json<CaseChangeOutcome>> {
    Ok(Json(
        s.app.record_verification(&auth.caller, id, &body).await?,
    ))
}

/// Resolves a negative verification result in writing; the step is kept.
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/verifications/{step_id}/resolve", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id"), ("step_id" = VerificationStepId, Path, description = "The verification step's id")),
    request_body = ResolutionInput,
    responses(
        (status = 200, body = CaseChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict` (reload the case and decide again); `conflict` when already resolved", body = ErrorBody),
        (status = 422, description = "`validation_failed`, naming each field", body = ErrorBody),
    )
)]
pub async fn resolve_verification(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath((id, step_id)): ApiPath<(CaseId, VerificationStepId)>,
    ApiJson(body): ApiJson<ResolutionInput>,
) -> ApiResult<Json<CaseChangeOutcome>> {
    Ok(Json(
        s.app
            .resolve_verification(&auth.caller, id, step_id, &body)
            .await?,
    ))
}

/// Records a consent or a refusal (to return, to share data with the counterpart, to media).
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/consents", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id")),
    request_body = ConsentInput,
    responses(
        (status = 200, body = CaseChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict` (reload the case and decide again)", body = ErrorBody),
        (status = 422, description = "`validation_failed`, naming each field", body = ErrorBody),
    )
)]
pub async fn record_consent(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
    ApiJson(body): ApiJson<ConsentInput>,
) -> ApiResult<Json<CaseChangeOutcome>> {
    Ok(Json(s.app.record_consent(&auth.caller, id, &body).await?))
}

/// Withdraws a consent. It stays on record with its end; a case that relied on it moves back
/// (`moved_back_from` says from where).
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/consents/{consent_id}/withdraw", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id"), ("consent_id" = ConsentId, Path, description = "The consent's id")),
    request_body = WithdrawalInput,
    responses(
        (status = 200, body = CaseChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict` (reload the case and decide again); `conflict` when already withdrawn", body = ErrorBody),
        (status = 422, description = "`validation_failed`, naming each field", body = ErrorBody),
    )
)]
pub async fn withdraw_consent(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath((id, consent_id)): ApiPath<(CaseId, ConsentId)>,
    ApiJson(body): ApiJson<WithdrawalInput>,
) -> ApiResult<Json<CaseChangeOutcome>> {
    Ok(Json(
        s.app
            .withdraw_consent(&auth.caller, id, consent_id, &body)
            .await?,
    ))
}

/// Records what the child said about returning (or that the child could not express a view).
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/child-views", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id")),
    request_body = ChildViewsInput,
    responses(
        (status = 200, body = CaseChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict` (reload the case and decide again)", body = ErrorBody),
        (status = 422, description = "`validation_failed`, naming each field", body = ErrorBody),
    )
)]
pub async fn record_child_views(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
    ApiJson(body): ApiJson<ChildViewsInput>,
) -> ApiResult<Json<CaseChangeOutcome>> {
    Ok(Json(
        s.app.record_child_views(&auth.caller, id, &body).await?,
    ))
}

/// Records a best-interests assessment.
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/assessments", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id")),
    request_body = AssessmentInput,
    responses(
        (status = 200, body = CaseChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict` (reload the case and decide again)", body = ErrorBody),
        (status = 422, description = "`validation_failed`, naming each field", body = ErrorBody),
    )
)]
pub async fn record_assessment(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
    ApiJson(body): ApiJson<AssessmentInput>,
) -> ApiResult<Json<CaseChangeOutcome>> {
    Ok(Json(
        s.app.record_assessment(&auth.caller, id, &body).await?,
    ))
}

/// Records a best-interests determination: the panel, its decision and reasons.
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/determinations", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id")),
    request_body = DeterminationInput,
    responses(
        (status = 200, body = CaseChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict` (reload the case and decide again)", body = ErrorBody),
        (status = 422, description = "`validation_failed`, naming each field", body = ErrorBody),
    )
)]
pub async fn record_determination(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
    ApiJson(body): ApiJson<DeterminationInput>,
) -> ApiResult<Json<CaseChangeOutcome>> {
    Ok(Json(
        s.app.record_determination(&auth.caller, id, &body).await?,
    ))
}

/// Discloses chosen facts of the case to the origin or custody party whose record is in it, as
/// far as the consents to share cover them now (`disclosure_not_covered` lists each field's
/// condition otherwise). Audited.
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/disclosures", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id")),
    request_body = DisclosureInput,
    responses(
        (status = 201, body = Disclosure),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`disclosure_not_covered` with `conditions`; `version_conflict`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn disclose(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
    ApiJson(body): ApiJson<DisclosureInput>,
) -> ApiResult<(StatusCode, Json<Disclosure>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.disclose(&auth.caller, id, &body).await?),
    ))
}

/// Every disclosure made of the case, for the mediator.
#[utoipa::path(
    get, path = "/api/v1/cases/{id}/disclosures", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id")),
    responses(
        (status = 200, body = Vec<Disclosure>),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn case_disclosures(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
) -> ApiResult<Json<Vec<Disclosure>>> {
    Ok(Json(s.app.case_disclosures(&auth.caller, id).await?))
}

/// What the mediator disclosed to the caller's own party (origin or custody), and nothing else.
#[utoipa::path(
    get, path = "/api/v1/disclosures", tag = "cases",
    responses(
        (status = 200, body = Vec<ReceivedDisclosure>),
        (status = 403, body = ErrorBody),
    )
)]
pub async fn received_disclosures(
    State(s): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Vec<ReceivedDisclosure>>> {
    Ok(Json(s.app.received_disclosures(&auth.caller).await?))
}

/// Records one handover of the custody chain. One that would leave a gap (the giver is not who
/// has the child), start elsewhere than the holding authority or run back in time is refused
/// (`handover_refused`, with `conditions`).
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/handovers", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id")),
    request_body = HandoverInput,
    responses(
        (status = 200, body = CaseChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict` (reload the case and decide again); `handover_refused` with `conditions`", body = ErrorBody),
        (status = 422, description = "`validation_failed`, naming each field", body = ErrorBody),
    )
)]
pub async fn record_handover(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
    ApiJson(body): ApiJson<HandoverInput>,
) -> ApiResult<Json<CaseChangeOutcome>> {
    Ok(Json(s.app.record_handover(&auth.caller, id, &body).await?))
}

/// Records the reunification of a handed-over child and schedules the follow-up visits.
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/reunification", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id")),
    request_body = ReunificationInput,
    responses(
        (status = 200, body = CaseChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict` (reload the case and decide again); `conflict` when not handed over or already recorded", body = ErrorBody),
        (status = 422, description = "`validation_failed`, naming each field", body = ErrorBody),
    )
)]
pub async fn record_reunification(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
    ApiJson(body): ApiJson<ReunificationInput>,
) -> ApiResult<Json<CaseChangeOutcome>> {
    Ok(Json(
        s.app.record_reunification(&auth.caller, id, &body).await?,
    ))
}

/// Records an aftercare service (medical, psychological, schooling, documents, housing).
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/services", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id")),
    request_body = ServiceInput,
    responses(
        (status = 200, body = CaseChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict` (reload the case and decide again)", body = ErrorBody),
        (status = 422, description = "`validation_failed`, naming each field", body = ErrorBody),
    )
)]
pub async fn record_service(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
    ApiJson(body): ApiJson<ServiceInput>,
) -> ApiResult<Json<CaseChangeOutcome>> {
    Ok(Json(s.app.record_service(&auth.caller, id, &body).await?))
}

/// Schedules one more follow-up visit.
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/follow-ups", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id")),
    request_body = FollowUpInput,
    responses(
        (status = 200, body = CaseChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict` (reload the case and decide again)", body = ErrorBody),
        (status = 422, description = "`validation_failed`, naming each field", body = ErrorBody),
    )
)]
pub async fn schedule_follow_up(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
    ApiJson(body): ApiJson<FollowUpInput>,
) -> ApiResult<Json<CaseChangeOutcome>> {
    Ok(Json(
        s.app.schedule_follow_up(&auth.caller, id, &body).await?,
    ))
}

/// Waives a follow-up visit in writing (the family moved abroad, the child came of age).
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/follow-ups/{follow_up_id}/waive", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id"), ("follow_up_id" = FollowUpId, Path, description = "The follow-up's id")),
    request_body = WaiverInput,
    responses(
        (status = 200, body = CaseChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict` (reload the case and decide again)", body = ErrorBody),
        (status = 422, description = "`validation_failed`, naming each field", body = ErrorBody),
    )
)]
pub async fn waive_follow_up(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath((id, follow_up_id)): ApiPath<(CaseId, FollowUpId)>,
    ApiJson(body): ApiJson<WaiverInput>,
) -> ApiResult<Json<CaseChangeOutcome>> {
    Ok(Json(
        s.app
            .waive_follow_up(&auth.caller, id, follow_up_id, &body)
            .await?,
    ))
}

/// The mediator records a follow-up visit done.
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/follow-ups/{follow_up_id}/report", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id"), ("follow_up_id" = FollowUpId, Path, description = "The follow-up's id")),
    request_body = CaseFollowUpReport,
    responses(
        (status = 200, body = CaseChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict` (reload the case and decide again)", body = ErrorBody),
        (status = 422, description = "`validation_failed`, naming each field", body = ErrorBody),
    )
)]
pub async fn report_follow_up(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath((id, follow_up_id)): ApiPath<(CaseId, FollowUpId)>,
    ApiJson(body): ApiJson<CaseFollowUpReport>,
) -> ApiResult<Json<CaseChangeOutcome>> {
    Ok(Json(
        s.app
            .report_follow_up(
                &auth.caller,
                id,
                follow_up_id,
                &body.report(),
                body.expected_version,
            )
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseFollowUpReport {
    outcome: String,
    /// Default: now.
    #[serde(default)]
    done_at: Option<chrono::DateTime<chrono::Utc>>,
    expected_version: i64,
}

impl CaseFollowUpReport {
    fn report(&self) -> FollowUpReportInput {
        FollowUpReportInput {
            outcome: self.outcome.clone(),
            done_at: self.done_at,
        }
    }
}

/// The custody chain as one printable document (plain text, UTF-8). Audited.
#[utoipa::path(
    get, path = "/api/v1/cases/{id}/custody-chain", tag = "cases",
    params(("id" = CaseId, Path, description = "The case's id")),
    responses(
        (status = 200, content_type = "text/plain", body = String),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn custody_chain(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
) -> ApiResult<([(header::HeaderName, &'static str); 1], String)> {
    let doc = s.app.custody_chain_document(&auth.caller, id).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], doc))
}

/// Follow-up visits past due and not done: all of them for the mediator; for the origin side or
/// an NGO, only those it is responsible for (and nothing else of the case).
#[utoipa::path(
    get, path = "/api/v1/follow-ups/overdue", tag = "cases",
    responses(
        (status = 200, body = Vec<FollowUpView>),
        (status = 403, body = ErrorBody),
    )
)]
pub async fn overdue_follow_ups(
    State(s): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Vec<FollowUpView>>> {
    Ok(Json(s.app.overdue_follow_ups(&auth.caller).await?))
}

/// The party responsible for a follow-up visit reports it done. Another party's visit answers
/// like one that does not exist.
#[utoipa::path(
    post, path = "/api/v1/follow-ups/{case_id}/{follow_up_id}/report", tag = "cases",
    params(
        ("case_id" = CaseId, Path, description = "The case's id"),
        ("follow_up_id" = FollowUpId, Path, description = "The follow-up's id"),
    ),
    request_body = FollowUpReportInput,
    responses(
        (status = 200, body = FollowUpView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`validation_failed`: no outcome, already done", body = ErrorBody),
    )
)]
pub async fn report_own_follow_up(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath((case_id, follow_up_id)): ApiPath<(CaseId, FollowUpId)>,
    ApiJson(body): ApiJson<FollowUpReportInput>,
) -> ApiResult<Json<FollowUpView>> {
    Ok(Json(
        s.app
            .report_own_follow_up(&auth.caller, case_id, follow_up_id, &body)
            .await?,
    ))
}

/// Adds a fact to the case's accountability record (how the child was taken and held), with
/// its sources. Facts are never edited; a correction names the fact it corrects.
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/accountability", tag = "accountability",
    params(("id" = CaseId, Path, description = "The case's id")),
    request_body = AccountabilityInput,
    responses(
        (status = 201, body = AccountabilityView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`validation_failed`: no source, no details, ...", body = ErrorBody),
    )
)]
pub async fn record_accountability(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
    ApiJson(body): ApiJson<AccountabilityInput>,
) -> ApiResult<(StatusCode, Json<AccountabilityView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.record_accountability(&auth.caller, id, &body).await?),
    ))
}

/// One case's accountability record and nothing else of the case: for prosecutors and auditors
/// (observer parties) and the mediator. Every read is audited.
#[utoipa::path(
    get, path = "/api/v1/cases/{id}/accountability", tag = "accountability",
    params(("id" = CaseId, Path, description = "The case's id")),
    responses(
        (status = 200, body = AccountabilityView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn read_accountability(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
) -> ApiResult<Json<AccountabilityView>> {
    Ok(Json(s.app.read_accountability(&auth.caller, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountabilityParams {
    /// The last case id of the previous page.
    after: Option<CaseId>,
}

/// The accountability records of the cases that have one, a page of up to 500 cases scanned at a
/// time. Audited with the case ids.
#[utoipa::path(
    get, path = "/api/v1/accountability", tag = "accountability",
    params(AccountabilityParams),
    responses(
        (status = 200, body = AccountabilityPage),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
pub async fn list_accountability(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<AccountabilityParams>,
) -> ApiResult<Json<AccountabilityPage>> {
    Ok(Json(
        s.app.list_accountability(&auth.caller, q.after).await?,
    ))
}

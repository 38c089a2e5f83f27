//! Transfer lists and plans. The mediator's staff draft lists and plans; the origin and custody
//! parties read the lists they are on (in their own record ids only) and approve them by hash.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use homeward_app::transfers::{
    ApproveInput, CostsInput, DocumentsInput, EntryInput, EntryWithdrawInput, EscortsInput,
    LegInput, LegUpdateInput, ListCreateInput, ListDiffView, ListQuery, ListStep, ListVersionView,
    ListView, PlanCreateInput, TransferListDetail, TransferPlanDetail, VersionInput,
};
use homeward_domain::{CaseId, LegId, ListState, PartyListView, TransferListId, TransferPlanId};
use serde::Deserialize;
use utoipa::IntoParams;

/// Drafts a list for a round between one origin and one custody party. Mediator caseworkers and
/// logistics staff.
#[utoipa::path(
    post, path = "/api/v1/transfer-lists", tag = "transfers",
    request_body = ListCreateInput,
    responses(
        (status = 201, body = TransferListDetail),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`validation_failed`: `round` empty, a party of the wrong kind, ...", body = ErrorBody),
    )
)]
pub async fn create_transfer_list(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<ListCreateInput>,
) -> ApiResult<(StatusCode, Json<TransferListDetail>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_transfer_list(&auth.caller, &body).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TransferListParams {
    state: Option<ListState>,
}

/// Lists by id: all of them for the mediator; for an origin or custody party, the lists it is on,
/// each in its own record ids.
#[utoipa::path(
    get, path = "/api/v1/transfer-lists", tag = "transfers",
    params(TransferListParams),
    responses(
        (status = 200, body = Vec<ListView>),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
pub async fn list_transfer_lists(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<TransferListParams>,
) -> ApiResult<Json<Vec<ListView>>> {
    let q = ListQuery { state: q.state };
    Ok(Json(s.app.list_transfer_lists(&auth.caller, &q).await?))
}

/// One list: everything for the mediator; for a party on it, the id, round, state, hash, version
/// and its entries as its own record ids with directions. Audited.
#[utoipa::path(
    get, path = "/api/v1/transfer-lists/{id}", tag = "transfers",
    params(("id" = TransferListId, Path, description = "The list's id")),
    responses(
        (status = 200, body = ListView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such list, or the caller's party is not on it", body = ErrorBody),
    )
)]
pub async fn get_transfer_list(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferListId>,
) -> ApiResult<Json<ListView>> {
    Ok(Json(s.app.get_transfer_list(&auth.caller, id).await?))
}

/// Puts a case on the list in a direction (again: changes its direction; a withdrawn case: puts
/// it back). The case must be `consent_obtained` with nothing but the agreed list missing for
/// `listed`, and on no other open list. Voids the parties' approvals.
#[utoipa::path(
    post, path = "/api/v1/transfer-lists/{id}/entries", tag = "transfers",
    params(("id" = TransferListId, Path, description = "The list's id")),
    request_body = EntryInput,
    responses(
        (status = 200, body = TransferListDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`case_not_listable` with `conditions`; `already_on_list`; `on_another_list`; `transfer_list_state`; `version_conflict`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn add_list_entry(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferListId>,
    ApiJson(body): ApiJson<EntryInput>,
) -> ApiResult<Json<TransferListDetail>> {
    Ok(Json(s.app.add_list_entry(&auth.caller, id, &body).await?))
}

/// Takes an entry added by mistake off a draft (once proposed, withdraw it instead).
#[utoipa::path(
    delete, path = "/api/v1/transfer-lists/{id}/entries/{case_id}", tag = "transfers",
    params(
        ("id" = TransferListId, Path, description = "The list's id"),
        ("case_id" = CaseId, Path, description = "The entry's case"),
    ),
    request_body = VersionInput,
    responses(
        (status = 200, body = TransferListDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`transfer_list_state`, `not_on_list`, `version_conflict`", body = ErrorBody),
    )
)]
pub async fn remove_list_entry(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath((id, case)): ApiPath<(TransferListId, CaseId)>,
    ApiJson(body): ApiJson<VersionInput>,
) -> ApiResult<Json<TransferListDetail>> {
    Ok(Json(
        s.app
            .remove_list_entry(&auth.caller, id, case, &body)
            .await?,
    ))
}

/// Withdraws a child from the list with a reason, at any point before completion. Before the
/// list is fixed this voids the approvals; after, it is recorded without voiding them.
#[utoipa::path(
    post, path = "/api/v1/transfer-lists/{id}/entries/{case_id}/withdraw", tag = "transfers",
    params(
        ("id" = TransferListId, Path, description = "The list's id"),
        ("case_id" = CaseId, Path, description = "The entry's case"),
    ),
    request_body = EntryWithdrawInput,
    responses(
        (status = 200, body = TransferListDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`not_on_list`, `transfer_list_state`, `version_conflict`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `reason`", body = ErrorBody),
    )
)]
pub async fn withdraw_list_entry(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath((id, case)): ApiPath<(TransferListId, CaseId)>,
    ApiJson(body): ApiJson<EntryWithdrawInput>,
) -> ApiResult<Json<TransferListDetail>> {
    Ok(Json(
        s.app
            .withdraw_list_entry(&auth.caller, id, case, &body)
            .await?,
    ))
}

async fn step(
    s: AppState,
    auth: Authenticated,
    id: TransferListId,
    step: ListStep,
    body: VersionInput,
) -> ApiResult<Json<TransferListDetail>> {
    Ok(Json(s.app.step_list(&auth.caller, id, step, &body).await?))
}

/// Proposes the draft to both parties.
#[utoipa::path(
    post, path = "/api/v1/transfer-lists/{id}/propose", tag = "transfers",
    params(("id" = TransferListId, Path, description = "The list's id")),
    request_body = VersionInput,
    responses(
        (status = 200, body = TransferListDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`transfer_list_state`, `transfer_list_empty`, `version_conflict`", body = ErrorBody),
    )
)]
pub async fn propose_transfer_list(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferListId>,
    ApiJson(body): ApiJson<VersionInput>,
) -> ApiResult<Json<TransferListDetail>> {
    step(s, auth, id, ListStep::Propose, body).await
}

/// The caller's party approves the list's content it saw, named by its hash. Origin and custody
/// administrators and caseworkers of a party on the list.
#[utoipa::path(
    post, path = "/api/v1/transfer-lists/{id}/approve", tag = "transfers",
    params(("id" = TransferListId, Path, description = "The list's id")),
    request_body = ApproveInput,
    responses(
        (status = 200, body = PartyListView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such list, or the caller's party is not on it", body = ErrorBody),
        (status = 409, description = "`stale_list_hash` (with `current_hash`): the list changed since; `already_approved`; `transfer_list_state`", body = ErrorBody),
    )
)]
pub async fn approve_transfer_list(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferListId>,
    ApiJson(body): ApiJson<ApproveInput>,
) -> ApiResult<Json<PartyListView>> {
    Ok(Json(s.app.approve_list(&auth.caller, id, &body).await?))
}

/// Fixes a list both parties approved, and moves every entry's case to `listed`.
#[utoipa::path(
    post, path = "/api/v1/transfer-lists/{id}/fix", tag = "transfers",
    params(("id" = TransferListId, Path, description = "The list's id")),
    request_body = VersionInput,
    responses(
        (status = 200, body = TransferListDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`transfer_list_state` (not approved by both); `transition_refused` for a case whose guards no longer allow listing; `version_conflict`", body = ErrorBody),
    )
)]
pub async fn fix_transfer_list(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferListId>,
    ApiJson(body): ApiJson<VersionInput>,
) -> ApiResult<Json<TransferListDetail>> {
    step(s, auth, id, ListStep::Fix, body).await
}

/// The round has started.
#[utoipa::path(
    post, path = "/api/v1/transfer-lists/{id}/start", tag = "transfers",
    params(("id" = TransferListId, Path, description = "The list's id")),
    request_body = VersionInput,
    responses(
        (status = 200, body = TransferListDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`transfer_list_state`, `version_conflict`", body = ErrorBody),
    )
)]
pub async fn start_transfer_list(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferListId>,
    ApiJson(body): ApiJson<VersionInput>,
) -> ApiResult<Json<TransferListDetail>> {
    step(s, auth, id, ListStep::Start, body).await
}

/// The round is over; its children may go on other lists.
#[utoipa::path(
    post, path = "/api/v1/transfer-lists/{id}/complete", tag = "transfers",
    params(("id" = TransferListId, Path, description = "The list's id")),
    request_body = VersionInput,
    responses(
        (status = 200, body = TransferListDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`transfer_list_state`, `version_conflict`", body = ErrorBody),
    )
)]
pub async fn complete_transfer_list(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferListId>,
    ApiJson(body): ApiJson<VersionInput>,
) -> ApiResult<Json<TransferListDetail>> {
    step(s, auth, id, ListStep::Complete, body).await
}

/// Every version of the list, oldest first. Mediator staff.
#[utoipa::path(
    get, path = "/api/v1/transfer-lists/{id}/versions", tag = "transfers",
    params(("id" = TransferListId, Path, description = "The list's id")),
    responses(
        (status = 200, body = Vec<ListVersionView>),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn transfer_list_versions(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferListId>,
) -> ApiResult<Json<Vec<ListVersionView>>> {
    Ok(Json(s.app.transfer_list_versions(&auth.caller, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    /// The older version.
    from: i64,
    /// The newer version.
    to: i64,
}

/// What changed between two versions: entries added, removed, direction changed, withdrawn. A
/// party sees its own record ids only.
#[utoipa::path(
    get, path = "/api/v1/transfer-lists/{id}/diff", tag = "transfers",
    params(("id" = TransferListId, Path, description = "The list's id"), DiffParams),
    responses(
        (status = 200, body = ListDiffView),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`validation_failed`: `from` or `to` names no version", body = ErrorBody),
    )
)]
pub async fn transfer_list_diff(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferListId>,
    ApiQuery(q): ApiQuery<DiffParams>,
) -> ApiResult<Json<ListDiffView>> {
    Ok(Json(
        s.app
            .transfer_list_diff(&auth.caller, id, q.from, q.to)
            .await?,
    ))
}

/// Plans how entries of a fixed list travel together. Mediator caseworkers and logistics staff.
#[utoipa::path(
    post, path = "/api/v1/transfer-plans", tag = "transfers",
    request_body = PlanCreateInput,
    responses(
        (status = 201, body = TransferPlanDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`transfer_list_state`: the list is not fixed", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `cases[i]` not on the list, or on another plan", body = ErrorBody),
    )
)]
pub async fn create_transfer_plan(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<PlanCreateInput>,
) -> ApiResult<(StatusCode, Json<TransferPlanDetail>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_transfer_plan(&auth.caller, &body).await?),
    ))
}

/// The plans made for a list, oldest first. Mediator staff.
#[utoipa::path(
    get, path = "/api/v1/transfer-lists/{id}/plans", tag = "transfers",
    params(("id" = TransferListId, Path, description = "The list's id")),
    responses(
        (status = 200, body = Vec<TransferPlanDetail>),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn transfer_plans_of_list(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferListId>,
) -> ApiResult<Json<Vec<TransferPlanDetail>>> {
    Ok(Json(s.app.transfer_plans_of_list(&auth.caller, id).await?))
}

/// One plan, with what its approval still needs. Mediator staff.
#[utoipa::path(
    get, path = "/api/v1/transfer-plans/{id}", tag = "transfers",
    params(("id" = TransferPlanId, Path, description = "The plan's id")),
    responses(
        (status = 200, body = TransferPlanDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn get_transfer_plan(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferPlanId>,
) -> ApiResult<Json<TransferPlanDetail>> {
    Ok(Json(s.app.get_transfer_plan(&auth.caller, id).await?))
}

/// Appends a leg to the route; it must start where the previous leg ends. Voids an approval.
#[utoipa::path(
    post, path = "/api/v1/transfer-plans/{id}/legs", tag = "transfers",
    params(("id" = TransferPlanId, Path, description = "The plan's id")),
    request_body = LegInput,
    responses(
        (status = 200, body = TransferPlanDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `legs[i].from` not chained, arrival before departure, ...", body = ErrorBody),
    )
)]
pub async fn add_plan_leg(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferPlanId>,
    ApiJson(body): ApiJson<LegInput>,
) -> ApiResult<Json<TransferPlanDetail>> {
    Ok(Json(s.app.add_plan_leg(&auth.caller, id, &body).await?))
}

/// Records a change to a leg (a delay, actual times, a diversion) in its history; the leg shows
/// the latest values. Actual times keep the approval; a route change voids it.
#[utoipa::path(
    patch, path = "/api/v1/transfer-plans/{id}/legs/{leg_id}", tag = "transfers",
    params(
        ("id" = TransferPlanId, Path, description = "The plan's id"),
        ("leg_id" = LegId, Path, description = "The leg's id"),
    ),
    request_body = LegUpdateInput,
    responses(
        (status = 200, body = TransferPlanDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `reason`, `leg` (unknown or no change), chaining, ...", body = ErrorBody),
    )
)]
pub async fn update_plan_leg(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath((id, leg)): ApiPath<(TransferPlanId, LegId)>,
    ApiJson(body): ApiJson<LegUpdateInput>,
) -> ApiResult<Json<TransferPlanDetail>> {
    Ok(Json(
        s.app.update_plan_leg(&auth.caller, id, leg, &body).await?,
    ))
}

/// Replaces the escorts. A change voids an approval.
#[utoipa::path(
    put, path = "/api/v1/transfer-plans/{id}/escorts", tag = "transfers",
    params(("id" = TransferPlanId, Path, description = "The plan's id")),
    request_body = EscortsInput,
    responses(
        (status = 200, body = TransferPlanDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `escorts[i].name`", body = ErrorBody),
    )
)]
pub async fn set_plan_escorts(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferPlanId>,
    ApiJson(body): ApiJson<EscortsInput>,
) -> ApiResult<Json<TransferPlanDetail>> {
    Ok(Json(s.app.set_plan_escorts(&auth.caller, id, &body).await?))
}

/// Replaces the documents each child needs, with whether each is ready. A change voids an
/// approval.
#[utoipa::path(
    put, path = "/api/v1/transfer-plans/{id}/documents", tag = "transfers",
    params(("id" = TransferPlanId, Path, description = "The plan's id")),
    request_body = DocumentsInput,
    responses(
        (status = 200, body = TransferPlanDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `documents[i].case_id` not in the plan", body = ErrorBody),
    )
)]
pub async fn set_plan_documents(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferPlanId>,
    ApiJson(body): ApiJson<DocumentsInput>,
) -> ApiResult<Json<TransferPlanDetail>> {
    Ok(Json(
        s.app.set_plan_documents(&auth.caller, id, &body).await?,
    ))
}

/// Replaces the costs (minor units, ISO 4217 currency, who funds them). Keeps an approval.
#[utoipa::path(
    put, path = "/api/v1/transfer-plans/{id}/costs", tag = "transfers",
    params(("id" = TransferPlanId, Path, description = "The plan's id")),
    request_body = CostsInput,
    responses(
        (status = 200, body = TransferPlanDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `costs[i].currency`, `costs[i].amount_minor`, ...", body = ErrorBody),
    )
)]
pub async fn set_plan_costs(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferPlanId>,
    ApiJson(body): ApiJson<CostsInput>,
) -> ApiResult<Json<TransferPlanDetail>> {
    Ok(Json(s.app.set_plan_costs(&auth.caller, id, &body).await?))
}

/// Approves the plan for travel: a route, an escort, and every child's documents ready. The
/// covered cases may then move to `in_transit`.
#[utoipa::path(
    post, path = "/api/v1/transfer-plans/{id}/approve", tag = "transfers",
    params(("id" = TransferPlanId, Path, description = "The plan's id")),
    request_body = VersionInput,
    responses(
        (status = 200, body = TransferPlanDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`plan_not_ready` (the message says what is missing), `plan_already_approved`, `version_conflict`", body = ErrorBody),
    )
)]
pub async fn approve_transfer_plan(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TransferPlanId>,
    ApiJson(body): ApiJson<VersionInput>,
) -> ApiResult<Json<TransferPlanDetail>> {
    Ok(Json(
        s.app.approve_transfer_plan(&auth.caller, id, &body).await?,
    ))
}

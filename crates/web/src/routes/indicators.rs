//! Indicators (the mission dashboard) and public statistics.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use homeward_app::indicators::{IndicatorQuery, Indicators, PublicStatistics};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IndicatorsQuery {
    /// Cases opened (records filed) on or after this day, `YYYY-MM-DD`.
    from: Option<NaiveDate>,
    /// …and on or before this day.
    until: Option<NaiveDate>,
    /// Only cases on this transfer list (the negotiated round), by its id.
    round: Option<String>,
}

/// The mission dashboard: children sought and held, cases in each state with the median days
/// spent in it, overdue follow-ups, breakdowns by sex and age band, records filed and children
/// handed over per month. Case figures need `case_read` (the mediator) and are otherwise named in
/// `withheld`; record figures count the caller's own records (a party) or all submitted (the
/// mediator). Audited.
#[utoipa::path(
    get, path = "/api/v1/indicators", tag = "indicators",
    params(IndicatorsQuery),
    responses(
        (status = 200, body = Indicators),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`period_reversed` (until), `too_long` (round)", body = ErrorBody),
    )
)]
pub async fn get_indicators(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<IndicatorsQuery>,
) -> ApiResult<Json<Indicators>> {
    let q = IndicatorQuery {
        from: q.from,
        until: q.until,
        round: q.round,
    };
    Ok(Json(s.app.indicators(&auth.caller, &q).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishStatistics {
    /// Days between the figures and their publication (default 30, at least 7).
    #[serde(default)]
    #[schema(minimum = 7, maximum = 3650)]
    lag_days: Option<i32>,
}

/// Publishes the public statistics: national totals of cases as they stood `lag_days` ago, by
/// state and sex and by age band and sex, cells under 10 suppressed (with secondary suppression)
/// and figures rounded to 5. Administrators of the mediator; audited.
#[utoipa::path(
    post, path = "/api/v1/admin/statistics", tag = "indicators",
    request_body = PublishStatistics,
    responses(
        (status = 201, body = PublicStatistics),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`out_of_range` (lag_days)", body = ErrorBody),
    )
)]
pub async fn publish_statistics(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<PublishStatistics>,
) -> ApiResult<(StatusCode, Json<PublicStatistics>)> {
    let published = s
        .app
        .publish_statistics(&auth.caller, body.lag_days)
        .await?;
    Ok((StatusCode::CREATED, Json(published)))
}

/// The public statistics as last published, without sign-in: national totals only, never by
/// round, date or place of a handover. `404` (`not_found`) until the first publication.
#[utoipa::path(
    get, path = "/api/v1/public/statistics", tag = "indicators", security(()),
    responses(
        (status = 200, body = PublicStatistics),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn public_statistics(State(s): State<AppState>) -> ApiResult<Json<PublicStatistics>> {
    match s.app.public_statistics().await? {
        Some(p) => Ok(Json(p)),
        None => Err(homeward_app::AppError::NotFound.into()),
    }
}

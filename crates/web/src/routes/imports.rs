//! Bulk import of child records from a CSV file sent as the request body.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, CsvBody};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use homeward_app::import::{ImportOptions, ImportReport, parse_column_mapping};
use homeward_domain::RecordKind;
use serde::Deserialize;
use utoipa::ToSchema;

/// What the file holds.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ImportKind {
    TracingRequests,
    CustodyRecords,
}

impl From<ImportKind> for RecordKind {
    fn from(k: ImportKind) -> Self {
        match k {
            ImportKind::TracingRequests => Self::TracingRequest,
            ImportKind::CustodyRecords => Self::CustodyRecord,
        }
    }
}

/// `HEADER=FIELD`, FIELD one of the fields of a record (or `ignore`). Kept in step with the
/// import's field list by a test.
#[derive(ToSchema)]
#[schema(
    pattern = r"^[\s\S]*\S[\s\S]*=\s*(external_ref|given_name|patronymic|family_name|full_name|name_script|alt_given_name|alt_patronymic|alt_family_name|alt_full_name|alt_script|sex|birth_date|birth_place|separation_date|separation_circumstances|last_known_location|current_location|current_carer|enquirer_name|enquirer_relationship|enquirer_contact|notes|ignore)\s*$"
)]
#[allow(dead_code)]
pub struct ColumnMapping(String);

/// Reads `skip_invalid=true`, `keep_unreadable=true`, `force=true` and any number of `column=HEADER=FIELD`. A plain struct cannot take
/// a repeated key, so the pairs are walked by hand.
fn import_options(kind: ImportKind, pairs: Vec<(String, String)>) -> ApiResult<ImportOptions> {
    let bad = |msg: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", msg);
    let mut skip_invalid = false;
    let mut keep_unreadable = false;
    let mut force = false;
    let mut columns = Vec::new();
    for (key, value) in pairs {
        match key.as_str() {
            "skip_invalid" => {
                skip_invalid = value
                    .parse()
                    .map_err(|_| bad("skip_invalid is true or false".to_owned()))?;
            }
            "keep_unreadable" => {
                keep_unreadable = value
                    .parse()
                    .map_err(|_| bad("keep_unreadable is true or false".to_owned()))?;
            }
            "force" => {
                force = value
                    .parse()
                    .map_err(|_| bad("force is true or false".to_owned()))?;
            }
            "column" => columns.push(parse_column_mapping(&value).map_err(bad)?),
            other => return Err(bad(format!("unknown query parameter `{other}`"))),
        }
    }
    Ok(ImportOptions {
        kind: Some(kind.into()),
        skip_invalid,
        keep_unreadable,
        force,
        columns,
    })
}

/// Imports child records from a CSV file (UTF-8, with or without BOM; comma, semicolon or tab).
/// By default nothing is imported unless every row is valid.
#[utoipa::path(
    post, path = "/api/v1/imports/{kind}", tag = "imports",
    params(
        ("kind" = inline(ImportKind), Path, description = "What the file holds"),
        ("skip_invalid" = Option<bool>, Query, description = "Import the valid rows and report the invalid ones"),
        ("keep_unreadable" = Option<bool>, Query, description = "Import rows whose sex, birth date or separation date cannot be read: the value is left out of its field and kept as typed in the record's notes (listed in `kept_unreadable`)"),
        ("force" = Option<bool>, Query, description = "Import even though this party imported the same file (same SHA-256) before"),
        ("column" = Option<Vec<ColumnMapping>>, Query, style = Form, explode,
            description = "`HEADER=FIELD`: read the column HEADER as FIELD (repeat for several)"),
    ),
    request_body(content = String, content_type = "text/csv", description = "The file, as the whole body"),
    responses(
        (status = 201, description = "Imported", body = ImportReport),
        (status = 403, body = ErrorBody),
        (status = 409, description = "`already_imported`: the same file was imported before (the message names that import); send `force=true` to import it again", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = ErrorBody),
        (status = 422, description = "`import_invalid`: every bad row with its line number; nothing imported", body = ErrorBody),
    )
)]
pub async fn import_records(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(kind): ApiPath<ImportKind>,
    ApiQuery(pairs): ApiQuery<Vec<(String, String)>>,
    CsvBody(bytes): CsvBody,
) -> ApiResult<(StatusCode, Json<ImportReport>)> {
    let options = import_options(kind, pairs)?;
    let report = s
        .app
        .import_records(&auth.caller, &bytes, &options, &|_| {})
        .await?;
    Ok((StatusCode::CREATED, Json(report)))
}

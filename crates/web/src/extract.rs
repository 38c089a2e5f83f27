//! Extractors whose rejections are [`ApiError`]s, so a malformed request gets the same JSON error
//! shape as any other failure instead of axum's plain-text bodies.

use crate::AppState;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use homeward_app::AppError;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// A JSON body. Requires `Content-Type: application/json`, which also keeps cross-site HTML forms
/// from posting here.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limit = state.opts.max_body_bytes;
        if !is_json(req.headers()) {
            return Err(json_rejection(
                JsonRejection::MissingJsonContentType(Default::default()),
                limit,
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| bytes_rejection(e, limit))?;
        let value = match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => v,
            Err(JsonRejection::JsonDataError(e)) => integral_numbers_as_integers(&bytes)
                .ok_or_else(|| json_rejection(JsonRejection::JsonDataError(e), limit))?,
            Err(rejection) => return Err(json_rejection(rejection, limit)),
        };
        if let Some(field) = nul_in_text(&bytes) {
            return Err(AppError::invalid(
                &field,
                "nul_character",
                "text may not contain the NUL character (U+0000)",
            )
            .into());
        }
        // Every body of this API is an object; serde would also take a struct written as an
        // array of its fields in order (`[null, null]`), which the document does not describe.
        if bytes.trim_ascii_start().first() != Some(&b'{') {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "the body must be a JSON object",
            ));
        }
        Ok(Self(value))
    }
}

/// Where a string of the body holds U+0000, which PostgreSQL cannot store in text (SQLite can):
/// refused here so that both backends answer alike, with a field error rather than a 500. Only
/// a body that spells the escape is parsed again.
fn nul_in_text(bytes: &[u8]) -> Option<String> {
    fn walk(v: &serde_json::Value, at: &str) -> Option<String> {
        match v {
            serde_json::Value::String(s) if s.contains('\0') => Some(at.to_owned()),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, &format!("{at}[{i}]"))),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, item)| {
                let here = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                if k.contains('\0') {
                    Some(here)
                } else {
                    walk(item, &here)
                }
            }),
            _ => None,
        }
    }
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return None;
    }
    walk(&serde_json::from_slice(bytes).ok()?, "")
}

/// `application/json` or a `+json` type, as axum's own extractor takes.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(essence) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
    else {
        return false;
    };
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// JSON has one kind of number, and JSON Schema counts `6.0` as an integer; serde does not. A
/// body refused only for that is read again with every integral number written as an integer
/// (the common body never pays for the second parse).
fn integral_numbers_as_integers<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    fn walk(v: &mut serde_json::Value) -> bool {
        match v {
            serde_json::Value::Number(n) => match n.as_f64() {
                // Beyond 2^63 no i64 can hold it: left as it is, to be refused.
                Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.2e18 => {
                    *n = serde_json::Number::from(f as i64);
                    true
                }
                _ => false,
            },
            serde_json::Value::Array(items) => items.iter_mut().fold(false, |c, i| walk(i) | c),
            serde_json::Value::Object(map) => map.values_mut().fold(false, |c, i| walk(i) | c),
            _ => false,
        }
    }
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if !walk(&mut value) {
        return None;
    }
    serde_json::from_value(value).ok()
}

fn json_rejection(r: JsonRejection, limit: usize) -> ApiError {
    match r {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ),
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.body_text())
        }
        // Missing or mistyped fields: the request is not a well-formed instance of the schema,
        // which is a client bug rather than a value a person could correct (those are 422).
        JsonRejection::JsonDataError(e) => {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.body_text())
        }
        JsonRejection::BytesRejection(e) => bytes_rejection(e, limit),
        other => ApiError::new(StatusCode::BAD_REQUEST, "bad_request", other.body_text()),
    }
}

fn bytes_rejection(r: BytesRejection, limit: usize) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large(limit)
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "unreadable_body",
            "the request body could not be read",
        )
    }
}

/// Query-string parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text())
            })
    }
}

/// Path parameters, such as ids.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e: PathRejection| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_path", e.body_text())
            })
    }
}

/// Where the request came from, for audit entries. `None` when the server runs without connection
/// info (e.g. a router driven directly in a test).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub Option<String>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(client_addr(parts, state.opts.trust_forwarded_for)))
    }
}

pub(crate) fn client_addr(parts: &Parts, trust_forwarded_for: bool) -> Option<String> {
    if trust_forwarded_for {
        // The rightmost entry is the one our own proxy appended; anything left of it was sent by
        // the client and could be forged to dodge the per-address sign-in throttle.
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .next_back();
        if let Some(ip) = forwarded {
            return Some(ip.to_string());
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// The body of an imported file: CSV text (or opaque bytes) up to the import size limit, which
/// the import routes set above the default.
#[derive(Debug, Clone)]
pub struct CsvBody(pub Bytes);

impl FromRequest<AppState> for CsvBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        if !matches!(
            content_type.as_deref(),
            Some("text/csv" | "application/octet-stream")
        ) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the file as the body with Content-Type: text/csv (or application/octet-stream)",
            ));
        }
        Bytes::from_request(req, state)
            .await
            .map(Self)
            .map_err(|e| bytes_rejection(e, state.opts.max_import_bytes))
    }
}

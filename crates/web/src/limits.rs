//! Limits on the request head (the URI and the headers), answered like every other refusal: JSON
//! with a stable code on the API, the error page on pages.
//!
//! hyper refuses a head beyond its own limits itself, with a bare status and no body. Ours are
//! lower, so that any head a client can reasonably send is judged here. What remains to hyper is a
//! URI over 64 KiB (its fixed ceiling), more than [`HYPER_MAX_HEADERS`] headers or a head over
//! ~400 KiB: those still get hyper's empty 414/431.

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Longest URI (path and query) taken; 8 KiB, like common proxies.
pub(crate) const MAX_URI_BYTES: usize = 8 << 10;
/// Most headers taken.
pub(crate) const MAX_HEADERS: usize = 100;
/// Most bytes of header names and values taken, all headers together.
pub(crate) const MAX_HEADER_BYTES: usize = 32 << 10;
/// hyper's own count, set above [`MAX_HEADERS`] so that a request a little over ours reaches us.
pub(crate) const HYPER_MAX_HEADERS: usize = 400;

pub(crate) async fn check_head(req: Request, next: Next) -> Response {
    match refusal(&req) {
        Some(e) if crate::pages::is_page_path(req.uri().path()) => {
            crate::pages::refusal_page(req.headers(), e.status(), e.code())
        }
        Some(e) => e.into_response(),
        None => next.run(req).await,
    }
}

fn refusal(req: &Request) -> Option<ApiError> {
    let uri = req.uri();
    let uri_len = uri.path_and_query().map_or(0, |pq| pq.as_str().len())
        + uri.authority().map_or(0, |a| a.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return Some(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the URI is longer than {MAX_URI_BYTES} bytes; send long input in the body"),
        ));
    }
    let headers = req.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return Some(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!(
                "the request has more than {MAX_HEADERS} headers or more than {MAX_HEADER_BYTES} bytes of them"
            ),
        ));
    }
    None
}

//! What wraps every request: a request id, a log line without personal data, security headers,
//! the limits on the request head and the body size limit.

use crate::{AppState, WebOptions};
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Response, header};
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub(crate) fn wrap(router: Router<AppState>, opts: &WebOptions) -> Router<AppState> {
    router
        // Innermost first: the limit applies to extractors, the layers below to every response.
        .layer(DefaultBodyLimit::max(opts.max_body_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(axum::middleware::map_request(drop_unusable_request_id))
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(make_span)
                        .on_response(on_response),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ))
                // Pages set their own (they load our stylesheet and script); everything else
                // loads nothing.
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
                ))
                // Answers carry children's data: no browser or proxy may keep a copy.
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                ))
                // Inside the layers above, so that its refusals get the request id and headers.
                .layer(axum::middleware::from_fn(crate::limits::check_head))
                .layer(axum::middleware::from_fn(crate::metrics::record)),
        )
}

/// A client-supplied request id goes into the logs, so only a short token-like one is kept; any
/// other is replaced by a fresh one.
async fn drop_unusable_request_id(mut req: Request) -> Request {
    let usable = req.headers().get(&REQUEST_ID).is_some_and(|v| {
        let b = v.as_bytes();
        !b.is_empty()
            && b.len() <= 64
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"-_.:".contains(c))
    });
    if !usable {
        req.headers_mut().remove(&REQUEST_ID);
    }
    req
}

/// The span of one request. It names the route *template* (`/api/v1/records/{id}`), never the
/// URI: paths and query strings can carry names of children and other personal data.
fn make_span(req: &Request<Body>) -> Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("unmatched");
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %req.method(),
        route,
        request_id,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    )
}

fn on_response<B>(res: &Response<B>, latency: Duration, span: &Span) {
    span.record("status", res.status().as_u16());
    span.record("latency_ms", latency.as_millis() as u64);
    tracing::info!("request finished");
}

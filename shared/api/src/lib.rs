//! The HTTP API (`/api/payroll/v1`): one axum `Router` per endpoint group, served in AWS Lambda
//! through `lambda_http` or as a plain HTTP server (`payroll serve`, Kubernetes, Knative).

pub mod auth;
pub mod error;
pub mod etag;
pub mod extract;
pub mod function;
pub mod idempotency;
pub mod metrics;
pub mod pagination;
pub mod ratelimit;
pub mod routes;
pub mod runtime;
pub mod state;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{ApiError, ApiResult};
pub use routes::Group;
pub use state::{AppState, SharedState};

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};

/// The base path of every business route.
pub const BASE_PATH: &str = "/api/payroll/v1";

/// The application: the given endpoint groups under `BASE_PATH`, plus `/health`, `/ready`,
/// `/metrics` and `/openapi.json`, with the platform middleware (see [`app_with`]).
pub fn app(state: SharedState, groups: &[Group]) -> axum::Router {
    let mut api = axum::Router::new();
    for g in groups {
        api = api.merge(g.router());
    }
    app_with(state, api)
}

/// The application around any business router (paths relative to `BASE_PATH`). Layers, from
/// the outside in: request id + span + access log, metrics, body limit (10 MB; 413), and, on the
/// business routes only, `Idempotency-Key` handling for POST. Unknown routes answer 404 and
/// known routes with another method 405, both as problem+json.
pub fn app_with(state: SharedState, api: axum::Router<SharedState>) -> axum::Router {
    let api = api.layer(from_fn_with_state(state.clone(), idempotency::middleware));
    axum::Router::new()
        .nest(BASE_PATH, api)
        .merge(routes::ops::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(idempotency::MAX_BODY_BYTES))
        .layer(from_fn(body_limit))
        .layer(from_fn(metrics::middleware))
        .layer(from_fn(telemetry::middleware))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "Not found",
        "no route matches this path",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed",
        "this route does not support this HTTP method",
    )
}

/// 413 problem+json when `Content-Length` announces more than the limit (bodies without a
/// length are cut by `DefaultBodyLimit` when read).
async fn body_limit(req: Request, next: Next) -> Response {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > idempotency::MAX_BODY_BYTES as u64) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The request body is too large",
            format!(
                "the body must not exceed {} bytes",
                idempotency::MAX_BODY_BYTES
            ),
        )
        .into_response();
    }
    next.run(req).await
}

//! ETags: every mutable resource has a `version` column incremented on each update; its ETag is
//! `"v<version>"`. Responses carry it; updates with a stale `If-Match` answer 412.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

pub fn of_version(version: i64) -> String {
    format!("\"v{version}\"")
}

/// A JSON response with an `ETag` header.
pub fn with_etag<T: serde::Serialize>(
    status: axum::http::StatusCode,
    version: i64,
    body: &T,
) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&of_version(version)) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

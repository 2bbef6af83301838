//! `Idempotency-Key` on POST: the first response (status < 500) is stored and replayed for the
//! same key and the same request (method, path and body, SHA-256), with `Idempotent-Replayed:
//! true`; the same key with a different request answers 422 `idempotency_key_reused`; while the
//! first request is still running, 409 `idempotency_key_in_progress`. Keys are per tenant, so
//! the caller is authenticated first; without a valid token the request passes through and the
//! handler answers 401/403. A 5xx response is not stored, so a retry runs again.

use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::SharedState;
use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use payroll_store::idempotency::{self, Begin, StoredResponse};
use sha2::{Digest, Sha256};

pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub static IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The largest request body accepted (also the API-wide body limit).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// The largest response body stored for replay.
const MAX_STORED_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// Response headers not stored (they belong to one exchange).
fn stored_header(name: &HeaderName) -> bool {
    !matches!(
        name.as_str(),
        "x-request-id" | "content-length" | "transfer-encoding" | "connection" | "date"
    )
}

/// SHA-256 of method, path (with query) and body.
pub fn request_hash(method: &Method, path_and_query: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update(b"\n");
    h.update(path_and_query.as_bytes());
    h.update(b"\n");
    h.update(body);
    hex::encode(h.finalize())
}

/// Is `key` acceptable? 1..=255 visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic())
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "The request body is too large",
        format!("the body must not exceed {MAX_BODY_BYTES} bytes"),
    )
}

/// The middleware (apply with `axum::middleware::from_fn_with_state` to the business routes).
pub async fn middleware(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(raw_key) = req.headers().get(&IDEMPOTENCY_KEY) else {
        return next.run(req).await;
    };
    let key = match raw_key.to_str() {
        Ok(k) if valid_key(k.trim()) => k.trim().to_owned(),
        _ => {
            return ApiError::validation(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )
            .into_response();
        }
    };
    let authz = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let auth = match Auth::from_header(&state.jwt, authz) {
        Ok(a) => a,
        // The handler answers 401/403 itself.
        Err(_) => return next.run(req).await,
    };
    let tenant = auth.tenant_id;

    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(auth);
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map(|u| &u.0)
        .unwrap_or(&parts.uri)
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| parts.uri.path().to_owned());
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return too_large().into_response(),
    };
    let hash = request_hash(&parts.method, &path, &bytes);

    let begun =
        idempotency::begin(&state.db, tenant, &key, parts.method.as_str(), &path, &hash).await;
    match begun {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Begin::Mismatch) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "Idempotency-Key reused",
            "this Idempotency-Key was already used for a different request; use a new key",
        )
        .into_response(),
        Ok(Begin::InProgress) => ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_in_progress",
            "Request in progress",
            "a request with this Idempotency-Key is still being processed; retry later",
        )
        .with_header(header::RETRY_AFTER, "1")
        .into_response(),
        Ok(Begin::Replay(stored)) => replay(stored),
        Ok(Begin::Started) => {
            let req = Request::from_parts(parts, Body::from(bytes));
            let resp = next.run(req).await;
            finish(&state, tenant, &key, resp).await
        }
    }
}

/// Store (status < 500) or forget (5xx) the handler's response, and return it.
async fn finish(state: &SharedState, tenant: uuid::Uuid, key: &str, resp: Response) -> Response {
    let (parts, body) = resp.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_STORED_RESPONSE_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            if let Err(e) = idempotency::abandon(&state.db, tenant, key).await {
                tracing::error!(error = %e, "idempotency: could not release the key");
            }
            return ApiError::internal(format!("idempotency: response body unreadable: {e}"))
                .into_response();
        }
    };
    if parts.status.is_server_error() {
        if let Err(e) = idempotency::abandon(&state.db, tenant, key).await {
            tracing::error!(error = %e, "idempotency: could not release the key after a 5xx");
        }
    } else {
        let stored = StoredResponse {
            status: parts.status.as_u16(),
            headers: headers_to_pairs(&parts.headers),
            body: bytes.to_vec(),
        };
        if let Err(e) = idempotency::complete(&state.db, tenant, key, &stored).await {
            // Release the key so a retry is not blocked as "in progress".
            tracing::error!(error = %e, "idempotency: could not store the response");
            if let Err(e) = idempotency::abandon(&state.db, tenant, key).await {
                tracing::error!(error = %e, "idempotency: could not release the key");
            }
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn headers_to_pairs(h: &HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .filter(|(k, _)| stored_header(k))
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect()
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut resp = (status, stored.body).into_response();
    let h = resp.headers_mut();
    h.remove(header::CONTENT_TYPE);
    for (k, v) in stored.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            h.append(k, v);
        }
    }
    h.insert(
        IDEMPOTENT_REPLAYED.clone(),
        HeaderValue::from_static("true"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_validated() {
        assert!(valid_key("a"));
        assert!(valid_key(&"k".repeat(255)));
        assert!(!valid_key(&"k".repeat(256)));
        assert!(!valid_key(""));
        assert!(!valid_key("with space"));
    }

    #[test]
    fn hash_covers_method_path_and_body() {
        let a = request_hash(&Method::POST, "/api/payroll/v1/x", b"{}");
        assert_eq!(a.len(), 64);
        assert_eq!(a, request_hash(&Method::POST, "/api/payroll/v1/x", b"{}"));
        assert_ne!(a, request_hash(&Method::POST, "/api/payroll/v1/y", b"{}"));
        assert_ne!(a, request_hash(&Method::POST, "/api/payroll/v1/x", b"{ }"));
        assert_ne!(a, request_hash(&Method::PUT, "/api/payroll/v1/x", b"{}"));
    }

    #[test]
    fn per_exchange_headers_are_not_stored() {
        let mut h = HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_static("r1"));
        h.insert("content-length", HeaderValue::from_static("2"));
        h.insert("etag", HeaderValue::from_static("\"v1\""));
        h.insert("content-type", HeaderValue::from_static("application/json"));
        let mut p = headers_to_pairs(&h);
        p.sort();
        assert_eq!(
            p,
            vec![
                ("content-type".to_owned(), "application/json".to_owned()),
                ("etag".to_owned(), "\"v1\"".to_owned()),
            ]
        );
    }
}
